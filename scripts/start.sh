#!/usr/bin/env bash
# Starts everything the console needs and the console itself, on http://localhost:3000.
#   ./start.sh                 Redis (unless one answers at REDIS_URL), one import worker, the console
#   CONSOLE_PORT=3001 ./start.sh
# Ctrl-C (or SIGTERM) stops the console, the worker and the Redis this script started.
#
# Sign-in: with no sign-in configured (no admin password, no [auth] in .streamlit/secrets.toml),
# the console starts in open demo mode, reachable from this machine only (127.0.0.1), with a
# banner saying so. Set an admin password with `.venv/bin/python -m console.auth set-password`
# to require a sign-in and listen on every address; CONSOLE_OPEN_DEMO=1 forces open demo mode.
#
# Redis: when no REDIS_URL is set, a Redis without a password already running on 127.0.0.1:6379 is used
# as is (with a warning); otherwise the Redis started here listens on 127.0.0.1 only and asks for a
# password generated when first needed and kept in .env (REDIS_PASSWORD), like the encryption key.
set -euo pipefail
cd "$(dirname "$0")/.."
umask 077  # .env, data/, the store, the audit log and Redis's files: readable by this user only

say() { echo "start: $*"; }
PORT=${CONSOLE_PORT:-3000}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if port_busy "$PORT"; then
  say "port $PORT is already in use: the console is probably running already (open http://localhost:$PORT)."
  say "stop it first, or choose another port: CONSOLE_PORT=3001 ./start.sh"
  exit 1
fi

scripts/bootstrap.sh

# .env holds this install's settings (created here on first run, never committed).
touch .env && chmod 600 .env
mkdir -p data && chmod 700 data
set -a
# shellcheck disable=SC1091
. ./.env
set +a

if [ -z "${CREDENTIAL_ENCRYPTION_KEY:-}" ]; then
  key=$(.venv/bin/python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')
  printf "CREDENTIAL_ENCRYPTION_KEY='%s'\n" "$key" >> .env
  export CREDENTIAL_ENCRYPTION_KEY=$key
  key_generated=1
  say "generated CREDENTIAL_ENCRYPTION_KEY in .env (saved credentials are encrypted with it: back it up)"
fi

# through redis-py, so the password stays out of every command line (ps shows those to all users)
redis_ping() { .venv/bin/python -c 'import os, redis; redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=2).ping()' >/dev/null 2>&1; }
# true when the Redis answers without any password (Redis's default user with `nopass` takes any password)
redis_open() { .venv/bin/python -c 'import os, redis; c = redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=2); c.connection_pool.connection_kwargs.update(password=None, username=None); c.ping()' >/dev/null 2>&1; }

redis_as_is=""  # set when no REDIS_URL is given and a Redis without a password already runs on 127.0.0.1:6379
if [ -z "${REDIS_URL:-}" ]; then
  if REDIS_URL="redis://127.0.0.1:6379/0" redis_open; then
    REDIS_URL="redis://127.0.0.1:6379/0"
    redis_as_is=1
  else
    if [ -z "${REDIS_PASSWORD:-}" ]; then
      REDIS_PASSWORD=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')
      printf "REDIS_PASSWORD='%s'\n" "$REDIS_PASSWORD" >> .env
      say "generated REDIS_PASSWORD in .env (the Redis ./start.sh starts asks for it)"
    fi
    REDIS_URL="redis://:${REDIS_PASSWORD}@127.0.0.1:6379/0"
  fi
fi
export REDIS_URL
shown_redis=$(printf '%s' "$REDIS_URL" | sed -E 's#(rediss?://)[^@/]*@#\1***@#')
redis_pid=""
worker_pid=""
console_pid=""

stop_all() {
  trap - INT TERM EXIT
  say "stopping..."
  [ -n "$console_pid" ] && kill -TERM "$console_pid" 2>/dev/null || true
  if [ -n "$worker_pid" ] && kill -0 "$worker_pid" 2>/dev/null; then
    # RQ: a first TERM finishes the current batch's job warmly; a second stops it at once.
    # Either way the import resumes from its last committed batch when a worker runs again.
    kill -TERM "$worker_pid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$worker_pid" 2>/dev/null || break; sleep 0.5; done
    kill -TERM "$worker_pid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$worker_pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$worker_pid" 2>/dev/null || true
  fi
  [ -n "$worker_pid" ] && kill -TERM -- "-$worker_pid" 2>/dev/null || true
  [ -n "$console_pid" ] && wait "$console_pid" 2>/dev/null || true
  if [ -n "$redis_pid" ]; then
    kill -TERM "$redis_pid" 2>/dev/null || true  # redis-server saves its append-only file and exits
    wait "$redis_pid" 2>/dev/null || true
  fi
  say "stopped"
}
trap stop_all INT TERM EXIT

if [ -n "$redis_as_is" ]; then
  say "using the Redis already running on 127.0.0.1:6379 as is: it asks for no password, so any local user can"
  say "write to the import queue; set requirepass in its configuration (and REDIS_URL), or stop it and ./start.sh"
  say "starts its own, protected by the REDIS_PASSWORD it keeps in .env"
elif redis_ping; then
  say "using the Redis at $shown_redis"
  if redis_open; then
    say "warning: that Redis asks for no password, so any local user can write to the import queue;"
    say "set requirepass in its configuration (and the password in REDIS_URL), or stop it so ./start.sh runs its own"
  fi
else
  case "$REDIS_URL" in
    redis://*) ;;
    *) say "cannot reach Redis at $shown_redis: start it, or unset REDIS_URL to run a local one"; exit 1 ;;
  esac
  hostport=${REDIS_URL#redis://}
  hostport=${hostport#*@}
  hostport=${hostport%%/*}
  host=${hostport%%:*}
  port=${hostport##*:}
  [ "$port" = "$hostport" ] && port=6379
  case "$host" in
    127.0.0.1|localhost) ;;
    *) say "cannot reach Redis at $shown_redis: start it, or unset REDIS_URL to run a local one"; exit 1 ;;
  esac
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    say "a Redis answers on 127.0.0.1:$port but not with REDIS_URL's password (one started by an older ./start.sh"
    say "has none): stop it (its queued imports resume), or set REDIS_URL to reach it"
    exit 1
  fi
  password=${REDIS_URL#redis://}
  case "$password" in
    *@*) password=${password%%@*}; password=${password#*:} ;;
    *) password="" ;;
  esac
  command -v redis-server >/dev/null || { say "redis-server is not installed (scripts/bootstrap.sh installs it as root)"; exit 1; }
  mkdir -p data/redis
  # the password goes in on stdin (a config file of one line), never on the command line where ps shows it
  printf 'requirepass "%s"\n' "$password" | redis-server - --bind 127.0.0.1 --protected-mode yes --port "$port" \
    --dir "$PWD/data/redis" --appendonly yes --save "" \
    --daemonize no --loglevel warning --logfile "$PWD/data/redis/redis.log" &
  redis_pid=$!
  for _ in $(seq 50); do redis_ping && break; sleep 0.1; done
  redis_ping || { say "redis-server did not start: see data/redis/redis.log"; exit 1; }
  say "started redis-server on 127.0.0.1:$port with a password (data in data/redis)"
fi

address_args=()
sign_in=$(.venv/bin/python -c 'from console import auth; print("oidc" if auth.oidc_configured() else "password" if auth.admin_hash() else "none")' 2>/dev/null || echo none)
# open demo mode gives every visitor admin rights without a sign-in: it listens on 127.0.0.1 only, forced or not
if [ "${CONSOLE_OPEN_DEMO:-}" = 1 ]; then
  address_args=(--server.address 127.0.0.1)
  say "open demo mode (CONSOLE_OPEN_DEMO=1): no sign-in, reachable from this machine only"
elif [ "$sign_in" = none ]; then
  export CONSOLE_OPEN_DEMO=1
  address_args=(--server.address 127.0.0.1)
  say "no sign-in configured: open demo mode, reachable from this machine only."
  say "to require a sign-in: .venv/bin/python -m console.auth set-password, then restart"
else
  say "sign-in required ($sign_in)"
fi

# a worker started before this key existed cannot read the credentials jobs now carry: say so once
if [ -n "${key_generated:-}" ]; then
  running=$(.venv/bin/python -c 'from jobs.queue import worker_count; print(worker_count())' 2>/dev/null || echo 0)
  if [ "${running:-0}" != 0 ]; then
    say "warning: $running import worker(s) of this store already run without the new CREDENTIAL_ENCRYPTION_KEY:"
    say "they fail jobs with credentials; restart them with the key from .env"
  fi
fi
worker_started=0
# In a process group of its own (its pid is the group's id): RQ's scheduler runs in a child process that
# outlived a killed worker; the group is ended with the worker. (RQ's work horse has its own group and
# finishes its part.)
own_group=(setsid)
command -v setsid >/dev/null || own_group=()  # util-linux's; without it (not Debian) the worker shares our group
start_worker() {
  "${own_group[@]}" .venv/bin/python cli.py worker &
  worker_pid=$!
  worker_started=$SECONDS
  say "started one import worker (pid $worker_pid)"
}
start_worker

say "console on http://localhost:$PORT  (Ctrl-C stops everything)"
.venv/bin/streamlit run console/server.py --server.port "$PORT" "${address_args[@]}" &
console_pid=$!

# The worker is kept running while the console runs: one that stops (killed, out of memory, Redis gone for
# good) is started again, and its import resumes from its last committed batch. One that stops within
# WORKER_QUICK_EXIT seconds (default 10) three times running is left stopped, said once: restarting would only
# repeat it.
WORKER_QUICK_EXIT=${WORKER_QUICK_EXIT:-10}
quick_exits=0
while kill -0 "$console_pid" 2>/dev/null; do
  # a second's sleep, not `wait -n`: that misses a worker that stopped before it was called
  sleep 1 & wait $! 2>/dev/null || true
  [ -n "$worker_pid" ] && ! kill -0 "$worker_pid" 2>/dev/null && kill -0 "$console_pid" 2>/dev/null || continue
  code=0
  wait "$worker_pid" 2>/dev/null || code=$?
  kill -TERM -- "-$worker_pid" 2>/dev/null || true
  how="(exit code $code)"
  [ "$code" -gt 128 ] && how="(killed by signal $((code - 128)))"
  if [ $((SECONDS - worker_started)) -lt "$WORKER_QUICK_EXIT" ]; then quick_exits=$((quick_exits + 1)); else quick_exits=0; fi
  if [ "$quick_exits" -ge 3 ]; then
    say "the import worker stopped $how, the third time within ${WORKER_QUICK_EXIT}s of its start: not starting it again;"
    say "imports wait in the queue; see the worker's lines above, then run .venv/bin/python cli.py worker"
    worker_pid=""
    wait "$console_pid" || true
    break
  fi
  say "the import worker stopped $how; starting another (its import resumes from its last committed batch)"
  start_worker
done
