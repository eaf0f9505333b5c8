#!/usr/bin/env bash
# Install (Debian packages) and start PostgreSQL and Redis on 127.0.0.1, as their own users,
# then print the variables the tests read. Usage: eval "$(scripts/start-test-services.sh)"
set -euo pipefail
exec 3>&1 1>&2  # progress to stderr; only the export lines go to stdout

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

need=()
command -v pg_ctlcluster >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
dpkg -s libpq-dev >/dev/null 2>&1 || need+=(libpq-dev)
if [ ${#need[@]} -gt 0 ]; then
  echo "ci: installing ${need[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# PostgreSQL: the distribution's cluster, listening on 127.0.0.1 only.
version=$(ls /etc/postgresql | sort -V | tail -n1)
[ -d "/etc/postgresql/$version/main" ] || as_root pg_createcluster "$version" main >/dev/null
as_root pg_ctlcluster "$version" main start -o "-c listen_addresses=127.0.0.1" </dev/null >/dev/null 2>&1 3>&- || true
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
pg_isready -h 127.0.0.1 -p 5432
as_root runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 <<'SQL'
SELECT 'CREATE ROLE supportdesk LOGIN PASSWORD ''supportdesk'' CREATEDB'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'supportdesk')\gexec
SELECT 'CREATE DATABASE supportdesk_test OWNER supportdesk'
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'supportdesk_test')\gexec
-- Tests drop their databases WITH (FORCE); an autovacuum worker in one (role 0) can only be ended with this.
GRANT pg_signal_backend TO supportdesk;
SQL

# Redis: its own user, loopback only, no persistence needed for tests.
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  id redis >/dev/null 2>&1 || as_root useradd --system --no-create-home --shell /usr/sbin/nologin redis
  as_root runuser -u redis -- redis-server --bind 127.0.0.1 --port 6379 --daemonize yes \
    --save "" --appendonly no --dir /tmp --logfile /tmp/redis-ci.log </dev/null >/dev/null 2>&1 3>&-
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
fi
redis-cli -h 127.0.0.1 -p 6379 ping

echo 'export TEST_POSTGRES_URL="postgresql://supportdesk:supportdesk@127.0.0.1:5432/supportdesk_test"' >&3
echo 'export TEST_REDIS_URL="redis://127.0.0.1:6379/0"' >&3
