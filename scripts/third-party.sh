#!/usr/bin/env bash
# Recreates third_party/go-libp2p-pubsub: go-libp2p-pubsub at the version below, from the Go
# module proxy, without its tests and CI files, with third_party/go-libp2p-pubsub.patch
# applied (third_party/README.md says why). .ci/run runs it and fails if the committed tree
# differs, so the directory is always upstream plus that patch and nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/third-party-source.sh
dest=third_party/go-libp2p-pubsub

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src=$(upstream_dir "$tmp")
cp -r "$src" "$tmp/tree"
chmod -R u+w "$tmp/tree"
find "$tmp/tree" -name '*_test.go' -delete
rm -rf "$tmp/tree"/.[!.]* "$tmp/tree"/codecov.yml "$tmp/tree"/maintainer.json "$tmp/tree"/version.json
# git apply works outside a repository, and git is on every machine that cloned this one.
(cd "$tmp/tree" && git apply "$OLDPWD/third_party/go-libp2p-pubsub.patch")
rm -rf "$dest"
mv "$tmp/tree" "$dest"
