#!/usr/bin/env bash
# Recreates third_party/go-libp2p-pubsub: go-libp2p-pubsub at the version below, from the Go
# module proxy, without its tests and CI files, with third_party/go-libp2p-pubsub.patch
# applied (third_party/README.md says why). .ci/run runs it and fails if the committed tree
# differs, so the directory is always upstream plus that patch and nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."
module=github.com/libp2p/go-libp2p-pubsub
version=v0.15.0
dest=third_party/go-libp2p-pubsub

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# -json prints where the module cache holds it; run outside this module, whose replace
# directive would otherwise point at $dest.
src=$(cd "$tmp" && GOFLAGS=-mod=mod go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$src" ] || { echo "third-party: $module@$version not downloaded" >&2; exit 1; }
cp -r "$src" "$tmp/tree"
chmod -R u+w "$tmp/tree"
find "$tmp/tree" -name '*_test.go' -delete
rm -rf "$tmp/tree"/.[!.]* "$tmp/tree"/codecov.yml "$tmp/tree"/maintainer.json "$tmp/tree"/version.json
# git apply works outside a repository, and git is on every machine that cloned this one.
(cd "$tmp/tree" && git apply "$OLDPWD/third_party/go-libp2p-pubsub.patch")
rm -rf "$dest"
mv "$tmp/tree" "$dest"
