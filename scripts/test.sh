#!/usr/bin/env bash
# Runs every test: Go unit, protocol, archive (SQLite; PostgreSQL when WAKU_TEST_POSTGRES_URL is
# set), end-to-end binary tests, and the js-waku interop suite when Node.js is present.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each interop suite (js-waku, @waku/sds) pins its npm packages in its own folder.
if command -v npm >/dev/null 2>&1; then
  for pkg in interop/*/package.json; do
    (cd "$(dirname "$pkg")" && npm ci --no-audit --no-fund --loglevel=error)
  done
fi
go vet ./...
go test -race -timeout 20m ./...
# The multi-node discv5 tests skip under -race (a data race inside go-ethereum's p2p/discover
# table, see node/discovery_test.go); run them once more without it so they always run.
go test -count=1 -timeout 10m -run 'TestDiscv5TwentyNodes|TestRandomWalkFindsWakuNodesOfOurCluster' ./node ./discovery/discv5
