package cli

import "runtime/debug"

// Semver is wakunode's release version; raise it with each release. Builds from a git checkout
// add the commit: v0.1.0+0123456789ab (and .dirty with uncommitted changes), where nwaku
// reports `git describe`.
const Semver = "v0.1.0"

// ResolveVersion picks the version to report (--version, /debug/v1/version, waku_version,
// identify): the one set at link time (-ldflags "-X main.version=v1.2.3") if any, else the
// module version `go install ...@vX` stamps, else Semver plus the VCS revision of the build.
func ResolveVersion(linked string) string {
	if linked != "" {
		return linked
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Semver
	}
	return versionFromBuildInfo(bi)
}

func versionFromBuildInfo(bi *debug.BuildInfo) string {
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = ".dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		return Semver
	}
	return Semver + "+" + rev + dirty // semver build metadata
}
