#!/usr/bin/env bash
# Installs what the console and its tests need; safe to run any number of times.
#   scripts/bootstrap.sh          runtime (Python venv + requirements, redis-server)
#   scripts/bootstrap.sh --dev    also test tools and Debian's Chromium for browser tests
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[ "${1:-}" = "--dev" ] && dev=1

need_apt=()
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
if [ "$dev" = 1 ]; then
  [ -x /usr/bin/chromium ] || need_apt+=(chromium)
  command -v pg_ctlcluster >/dev/null 2>&1 || need_apt+=(postgresql)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "bootstrap: installing Debian packages: ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "bootstrap: please install these Debian packages (as root): ${need_apt[*]}" >&2
  fi
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv"
  "$python" -m venv .venv
fi
install() {  # install a requirements file once per content (a stamp per file and hash)
  local file=$1 name=$2
  local stamp=.venv/.installed-$name-$(cat requirements*.txt | sha256sum | cut -c1-16)
  if [ ! -f "$stamp" ]; then
    echo "bootstrap: installing Python packages from $file into .venv: the first start takes a few minutes"
    # pip's own lines condensed to one every 10 packages, so a first start is never minutes of silence
    # (pip's errors go to stderr untouched; pipefail keeps its exit status)
    .venv/bin/python -m pip install --disable-pip-version-check --progress-bar off -r "$file" \
      | awk '/^(Collecting|Processing) /{n++; name = $2; sub(/.*\//, "", name); sub(/-[0-9].*/, "", name)
               if (n % 10 == 1) {printf "bootstrap:   package %d (%s)...\n", n, name; fflush()}}
             /^Installing collected/{print "bootstrap:   unpacking them into .venv..."; fflush()}'
    echo "bootstrap: Python packages installed"
    rm -f .venv/.installed-"$name"-*
    touch "$stamp"
  fi
}
install requirements.txt runtime
[ "$dev" = 1 ] && install requirements-dev.txt dev
mkdir -p data
