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
    if [ -z "${CONSOLE_ADMIN_PASSWORD_HASH:-}" ] && [ "${CONSOLE_OPEN_DEMO:-}" != 1 ] \
        && [ ! -f /app/.streamlit/secrets.toml ]; then
      echo "console: no sign-in configured. Set CONSOLE_ADMIN_PASSWORD_HASH (python -m console.auth hash)," >&2
      echo "mount .streamlit/secrets.toml with an [auth] section, or set CONSOLE_OPEN_DEMO=1 for a demo." >&2
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
