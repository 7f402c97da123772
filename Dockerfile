# syntax=docker/dockerfile:1
# The ACGS2 Import Console: one image, two roles, chosen by the command.
#   docker run IMAGE console            the Streamlit console on port 3000
#   docker run IMAGE worker             an RQ import worker (run as many as you like, on any machine)
#   docker run IMAGE status JOB --json  any other `cli.py` command
# Every container of a deployment needs the same REDIS_URL, DATABASE_URL and
# CREDENTIAL_ENCRYPTION_KEY; nothing else is shared between machines.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CONSOLE_PORT=3000

# An unprivileged user without a login shell; besides its home (Streamlit keeps a little state
# there) it owns only data/. The code stays root's, read-only to the process.
RUN groupadd --system acgs2 \
    && useradd --system --gid acgs2 --create-home --home-dir /home/acgs2 --shell /usr/sbin/nologin acgs2

WORKDIR /app
# Requirements first, so a code change does not reinstall every package.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY --chown=root:root . .
# Compiled once here: the code is read-only to the process, so without this every `worker` and every
# command would compile our ~100 modules again at start (a quarter of a second of CPU each time).
RUN python -m compileall -q . \
    && mkdir -p data && chown acgs2:acgs2 data && chmod 700 data

COPY --chmod=755 <<'EOF_ENTRYPOINT' /usr/local/bin/acgs2
#!/bin/sh
# console | worker [--burst] | any cli.py command
set -e
role=${1:-console}
[ $# -gt 0 ] && shift
case "$role" in
  console)
    # open demo mode serves only the machine it runs on, and in a container every browser comes from the network
    case "$(printf %s "${CONSOLE_OPEN_DEMO:-}" | tr A-Z a-z)" in 1|true|yes) open_demo=1 ;; *) open_demo= ;; esac
    if [ -n "$open_demo" ]; then
      echo "console: open demo mode (CONSOLE_OPEN_DEMO) serves only the machine it runs on; in a container every" >&2
      echo "browser comes from the network: unset it and configure a sign-in (CONSOLE_ADMIN_PASSWORD_HASH)." >&2
      exit 2
    fi
    if [ -z "${CONSOLE_ADMIN_PASSWORD_HASH:-}" ] && [ ! -f /app/.streamlit/secrets.toml ]; then
      echo "console: no sign-in configured. Set CONSOLE_ADMIN_PASSWORD_HASH (python -m console.auth hash)," >&2
      echo "or mount .streamlit/secrets.toml with an [auth] section." >&2
      exit 2
    fi
    exec streamlit run console/server.py --server.port "$CONSOLE_PORT" --server.address 0.0.0.0 "$@" ;;
  worker)
    exec python cli.py worker "$@" ;;
  *)
    exec python cli.py "$role" "$@" ;;
esac
EOF_ENTRYPOINT

USER acgs2
EXPOSE 3000
ENTRYPOINT ["acgs2"]
CMD ["console"]
