#!/usr/bin/env bash
# Runs every test: Go unit, protocol, archive (SQLite; PostgreSQL when WAKU_TEST_POSTGRES_URL is
# set), end-to-end binary tests, and the js-waku interop suite when Node.js is present.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f interop/js/package.json ] && command -v npm >/dev/null 2>&1; then
  (cd interop/js && npm ci --no-audit --no-fund --loglevel=error)
fi
go vet ./...
go test -race -timeout 20m ./...
