#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the tests, listening on
# 127.0.0.1 only, and prints its DSN. Usage: .ci/postgres.sh [DIR] [PORT]
set -euo pipefail
DIR="${1:-/tmp/sesame-pg}"
PORT="${2:-54329}"
PGBIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
if [ -f "$DIR/data/postmaster.pid" ]; then
  su postgres -c "$PGBIN/pg_ctl -D $DIR/data -m fast -w stop" >/dev/null 2>&1 || true
fi
rm -rf "$DIR"
mkdir -p "$DIR"
chown postgres:postgres "$DIR"
su postgres -c "$PGBIN/initdb -D $DIR/data -A trust -U sesame -E UTF8 --locale=C.UTF-8" >/dev/null
su postgres -c "$PGBIN/pg_ctl -D $DIR/data -l $DIR/log -o '-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off' -w start" >/dev/null
su postgres -c "$PGBIN/createdb -h 127.0.0.1 -p $PORT -U sesame sesame_test"
echo "postgres://sesame@127.0.0.1:$PORT/sesame_test?sslmode=disable"
