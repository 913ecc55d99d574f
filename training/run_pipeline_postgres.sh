#!/usr/bin/env bash
# The main job against PostgreSQL: ledger and MLflow store in two databases of one server.
# Usage: training/run_pipeline_postgres.sh [swarmops pipeline options...]
# With SWARMOPS_DB_URL and MLFLOW_TRACKING_URI already set (postgresql+psycopg2://...), they are used
# as they are. Otherwise a throw-away PostgreSQL 15 is started on a free loopback port under
# runs/postgres (Debian binaries; initdb refuses root, hence runuser) and stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
if [ -n "${SWARMOPS_DB_URL:-}" ] && [ -n "${MLFLOW_TRACKING_URI:-}" ]; then
  exec $PY -m swarmops pipeline "$@"
fi
PG_BIN=${SWARMOPS_PG_BIN:-/usr/lib/postgresql/15/bin}
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
dir=$(mktemp -d /tmp/swarmops-pg-XXXXXX); chmod 777 "$dir"
port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
password=$($PY -c 'import secrets; print(secrets.token_hex(12))')
echo "$password" > "$dir/pw"; chmod 644 "$dir/pw"
[ "$(id -u)" = 0 ] && chown postgres "$dir"
as_pg "$PG_BIN/initdb" -D "$dir/data" -U postgres -A scram-sha-256 --pwfile="$dir/pw" >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -o "-p $port -k $dir -c listen_addresses=127.0.0.1" -l "$dir/log" -w start >/dev/null
trap 'as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m fast stop >/dev/null; rm -rf "$dir"' EXIT
base="postgresql+psycopg2://postgres:$password@127.0.0.1:$port"
PGPASSWORD=$password psql -q -h 127.0.0.1 -p "$port" -U postgres -c 'CREATE DATABASE swarmops' -c 'CREATE DATABASE mlflow'
echo "throw-away PostgreSQL on 127.0.0.1:$port (databases swarmops, mlflow); stopped on exit"
SWARMOPS_DB_URL="$base/swarmops" MLFLOW_TRACKING_URI="$base/mlflow" $PY -m swarmops pipeline "$@"
echo "ledger rows (runs):"
PGPASSWORD=$password psql -h 127.0.0.1 -p "$port" -U postgres -d swarmops \
  -c 'SELECT id, status, profile, timesteps_done, round(agent_steps_per_second) AS steps_per_s FROM runs'
