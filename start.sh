#!/usr/bin/env bash
# Start everything: Redis, one import worker and the console on http://localhost:3000 (see scripts/start.sh).
exec "$(dirname "$0")/scripts/start.sh" "$@"
