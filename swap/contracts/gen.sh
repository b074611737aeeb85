#!/usr/bin/env bash
# Regenerates Chequebook.abi, Chequebook.bin (solc from npm, pinned in package-lock.json) and the
# Go bindings chequebook.go (abigen v2 of the go-ethereum version in go.mod, built offline from
# the module cache). Only needed when Chequebook.sol changes; the outputs are committed, so
# building and testing need neither. CI (.ci/run) runs it and fails if the outputs changed.
set -euo pipefail
cd "$(dirname "$0")"
[ -x node_modules/.bin/solcjs ] || npm ci --no-audit --no-fund --loglevel=error
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
node_modules/.bin/solcjs --optimize --abi --bin --base-path . -o "$out" Chequebook.sol
cp "$out/Chequebook_sol_Chequebook.abi" Chequebook.abi
cp "$out/Chequebook_sol_Chequebook.bin" Chequebook.bin
go run github.com/ethereum/go-ethereum/cmd/abigen --v2 --abi Chequebook.abi --bin Chequebook.bin \
  --pkg contracts --type Chequebook --out chequebook.go
