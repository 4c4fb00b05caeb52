#!/usr/bin/env bash
# Install everything the test suite needs and run all of it:
#  - Debian's chromium for the browser tests (Playwright drives it; no browser download),
#  - a throwaway PostgreSQL on loopback, so the suite runs against SQLite and PostgreSQL,
#  - LibreOffice (headless) for the annex conversion test,
#  - R with the survey package, the independent oracle of the design-based statistics,
#  - a virtual environment with the package and its test extras.
# Usage: bash scripts/test.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || need+=(postgresql)
command -v libreoffice >/dev/null 2>&1 || need+=(libreoffice-calc-nogui)
{ command -v Rscript >/dev/null 2>&1 && Rscript -e 'library(survey)' >/dev/null 2>&1; } || need+=(r-base-core r-cran-survey)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  echo "installing Debian packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'

# A throwaway PostgreSQL cluster on 127.0.0.1, removed on exit.
if [ -z "${AUDIT_TEST_POSTGRES_URL:-}" ] && [ "${AUDIT_TEST_SKIP_POSTGRES:-0}" != 1 ]; then
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  PGDIR=$(mktemp -d /tmp/audit-pg.XXXXXX)
  PGPORT=${AUDIT_TEST_PG_PORT:-54329}
  RUNAS=()
  if [ "$(id -u)" = 0 ]; then chown postgres "$PGDIR"; RUNAS=(runuser -u postgres --); fi
  "${RUNAS[@]}" "$PGBIN/initdb" -D "$PGDIR/data" -U postgres --auth=trust -E UTF8 >/dev/null
  "${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/log" -w \
      -o "-h 127.0.0.1 -p $PGPORT -k $PGDIR -c fsync=off -c full_page_writes=off" start >/dev/null
  trap '"${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate stop >/dev/null 2>&1; rm -rf "$PGDIR"' EXIT
  export AUDIT_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$PGPORT/postgres"
  echo "PostgreSQL test cluster on 127.0.0.1:$PGPORT"
fi

.venv/bin/python -m pytest "$@"
