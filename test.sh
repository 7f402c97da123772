#!/usr/bin/env bash
# Runs the whole test suite: installs what it needs first (safe to run twice).
#   ./test.sh                  everything (about 10-15 minutes on 2 cores, longer under load)
#   ./test.sh tests/test_cli.py -k redis     any pytest arguments
#   SOAK=1 ./test.sh           also the long fault suites (see README)
set -euo pipefail
cd "$(dirname "$0")"
scripts/bootstrap.sh --dev
TEST_POSTGRES_URL=$(scripts/ensure_postgres.sh)
export TEST_POSTGRES_URL
export PYTHONDONTWRITEBYTECODE=1
exec .venv/bin/python -m pytest "$@"
