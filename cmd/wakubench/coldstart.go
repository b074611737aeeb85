package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// coldCommand is exec.Command for a node binary whose page cache has just been dropped, so
// every node starts as after a reboot, reading its binary from disk. Without it the RSS of a
// node depends on how its binary last reached the page cache: on the machine of
// docs/benchmarks-history.md, session 10 (kernel 6.18, ext4) a file the Go linker has just written sits in 2 MB
// folios that are mapped whole when it runs, and the same wakunode binary idles at 43 MB RSS
// straight from `go build` but at 35 MB cold (go-waku: 58 against 46 MB). Which binary was
// linked last would otherwise decide part of an RSS comparison.
//
// A relative path with a slash (./wakunode) is made absolute first: the node runs in its data
// directory, and exec resolves such a path against the command's Dir.
func coldCommand(bin string, args ...string) (*exec.Cmd, error) {
	if strings.ContainsRune(bin, filepath.Separator) {
		abs, err := filepath.Abs(bin)
		if err != nil {
			return nil, err
		}
		bin = abs
	}
	if err := dropPageCache(bin); err != nil {
		return nil, err
	}
	return exec.Command(bin, args...), nil
}

// dropPageCache asks the kernel to forget the file's cached pages (written back first: dirty
// pages cannot be dropped). Pages another process has mapped stay.
func dropPageCache(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("drop page cache of %s: %w", path, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("drop page cache of %s: %w", path, err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		return fmt.Errorf("drop page cache of %s: %w", path, err)
	}
	return nil
}
