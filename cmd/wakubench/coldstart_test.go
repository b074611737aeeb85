package main

import (
	"os"
	"path/filepath"
	"testing"
)

// A relative --bin with a slash runs from where wakubench started, although the node's
// command runs in its data directory; dropping the page cache of a fresh file succeeds.
func TestColdCommandRelativePath(t *testing.T) {
	script := filepath.Join(t.TempDir(), "node.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho cold\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(wd, script)
	if err != nil {
		t.Fatal(err)
	}
	cmd, err := coldCommand(rel)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Dir = t.TempDir() // like a node's data directory
	out, err := cmd.Output()
	if err != nil || string(out) != "cold\n" {
		t.Fatalf("ran %s from %s: %q, %v", rel, cmd.Dir, out, err)
	}
}
