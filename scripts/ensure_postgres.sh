#!/usr/bin/env bash
# Makes sure a PostgreSQL answers on 127.0.0.1:5432 with a database "test" for the test suite.
# Uses the one that runs; else starts the installed cluster; else installs Debian's (as root).
# Prints the URL the tests should use. Safe to run twice.
set -euo pipefail
url="${TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}"
answers() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if command -v pg_isready >/dev/null 2>&1 && answers; then
  echo "$url"; exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "ensure_postgres: PostgreSQL is not answering on 127.0.0.1:5432 and we are not root to start it" >&2
  echo "$url"; exit 0
fi
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "ensure_postgres: installing Debian's postgresql" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2
fi
version=$(ls /etc/postgresql | sort -V | tail -n1)
pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
for _ in $(seq 1 50); do answers && break; sleep 0.2; done
# A cluster we started ourselves has no trust auth on TCP: give the postgres user a password for tests.
su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\"" >&2
su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname='test'\"" | grep -q 1 \
  || su postgres -c "createdb test" >&2
echo "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/test"
