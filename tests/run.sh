#!/usr/bin/env bash
# Set up everything the tests need on a fresh Debian machine, then run them:
#   tests/run.sh [pytest arguments]
# Installs (as root, only what is missing) Debian's MediaWiki for the integration tests,
# docker-compose to validate docker-compose.yml and chromium for the browser tests; makes .venv,
# installs the package, runs pytest.
# PostgreSQL and Redis tests run when WLE_TEST_DATABASE_URL / WLE_TEST_REDIS_URL are set (.ci/run sets them).
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/mediawiki/install-packages.sh
if ! command -v docker-compose >/dev/null && ! docker compose version >/dev/null 2>&1; then
    apt-get install -y -q --no-install-recommends docker-compose >/dev/null
fi
if ! command -v chromium >/dev/null; then  # the browser tests (tests/browser): Playwright drives it
    apt-get install -y -q --no-install-recommends chromium >/dev/null \
        || { apt-get update -q && apt-get install -y -q --no-install-recommends chromium >/dev/null; }
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e '.[test]'
exec .venv/bin/pytest "$@"
