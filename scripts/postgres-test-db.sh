#!/usr/bin/env bash
# Starts Debian's PostgreSQL cluster and creates the role and database the tests use
# (postgres://waku:waku@127.0.0.1:5432/waku). Idempotent.
set -euo pipefail
ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -q "^$ver main$"; then
  pg_createcluster "$ver" main >/dev/null
fi
pg_ctlcluster "$ver" main start 2>/dev/null || true
for _ in $(seq 1 30); do
  pg_isready -h 127.0.0.1 -p 5432 -q && break
  sleep 1
done
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='waku'\"" | grep -q 1 ||
  su postgres -c "psql -qc \"CREATE ROLE waku LOGIN PASSWORD 'waku' CREATEDB\""
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='waku'\"" | grep -q 1 ||
  su postgres -c "createdb -O waku waku"
echo "postgres ready: postgres://waku:waku@127.0.0.1:5432/waku"
