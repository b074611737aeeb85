#!/usr/bin/env bash
# Runs go-libp2p-pubsub's own test suite against third_party/go-libp2p-pubsub (upstream plus
# our patch), built with this repository's go-libp2p, as the node builds it. Not part of
# .ci/run: the suite takes about six minutes and one upstream test is flaky (below).
#
# Two changes to upstream's tests, made here in a scratch copy and nowhere else:
#  - their hosts listen on 127.0.0.1 over TCP only. libp2p.New's default listens on every
#    interface, over QUIC too, and quic-go panics under Go 1.26's TLS ("where's my session
#    ticket?") before a test can finish;
#  - go-libp2p is upgraded to the version in our go.mod (upstream pins v0.39.1).
# TestGossipsubDirectPeers is skipped: it fails about one run in three with and without the
# patch alike (third_party/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/third-party-source.sh
libp2p=$(go list -m -f '{{.Version}}' github.com/libp2p/go-libp2p)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src=$(upstream_dir "$tmp")
cp -r third_party/go-libp2p-pubsub "$tmp/tree"
chmod -R u+w "$tmp/tree"
(cd "$src" && find . -name '*_test.go' -exec cp --parents {} "$tmp/tree" \;)
chmod -R u+w "$tmp/tree"

loopback='libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),'
sed -i "s|libp2p.New(libp2p.ResourceManager(&network.NullResourceManager{}))|libp2p.New(libp2p.ResourceManager(\&network.NullResourceManager{}), $loopback)|" "$tmp/tree/pubsub_test.go"
sed -i "s|^\(\t*\)libp2p.ConnectionManager(connmgrs\[i\]),|&\n\1$loopback|" "$tmp/tree/gossipsub_connmgr_test.go"
# Every libp2p.New in the tests must now listen on loopback only; stop if upstream added one.
news=$(grep -c 'libp2p\.New(' "$tmp"/tree/*_test.go | awk -F: '{n+=$2} END {print n}')
loops=$(grep -c 'ListenAddrStrings("/ip4/127.0.0.1/tcp/0")' "$tmp"/tree/*_test.go | awk -F: '{n+=$2} END {print n}')
[ "$news" = "$loops" ] || { echo "third-party-tests: $news libp2p.New calls, $loops on loopback; update this script" >&2; exit 1; }

cd "$tmp/tree"
export GOWORK=off GOFLAGS=-mod=mod
go get "github.com/libp2p/go-libp2p@$libp2p" >"$tmp/get.log" 2>&1 || { cat "$tmp/get.log" >&2; exit 1; }
go test -count=1 -timeout 30m -skip '^TestGossipsubDirectPeers$' ./...
