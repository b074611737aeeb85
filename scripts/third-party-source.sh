# Sourced by scripts/third-party.sh and scripts/third-party-tests.sh: which go-libp2p-pubsub
# third_party/go-libp2p-pubsub is built from, and where the module cache holds it.
module=github.com/libp2p/go-libp2p-pubsub
version=v0.15.0

# upstream_dir prints the module cache directory of $module@$version, downloading it first.
# -json prints the directory; it runs in $1 (a scratch directory outside this module, whose
# replace directive would otherwise point at third_party).
upstream_dir() {
  local dir
  dir=$(cd "$1" && GOFLAGS=-mod=mod go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$dir" ] || { echo "third-party: $module@$version not downloaded" >&2; return 1; }
  echo "$dir"
}
