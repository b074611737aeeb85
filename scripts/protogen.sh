#!/usr/bin/env bash
# Regenerates every *.pb.go from the .proto files next to them.
# protoc comes from Debian (protobuf-compiler); protoc-gen-go is the version pinned in go.mod.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go
# third_party/ holds upstream's code with its own generated files (third_party/README.md).
protos=$(git ls-files '*.proto' ':!:third_party/*' 2>/dev/null || true)
[ -n "$protos" ] || protos=$(find . -name '*.proto' -not -path './node_modules/*' -not -path './third_party/*' | sed 's|^\./||')
protoc --plugin=protoc-gen-go="$bin/protoc-gen-go" --proto_path=. \
  --go_out=. --go_opt=module=github.com/wakunode/wakunode $protos
