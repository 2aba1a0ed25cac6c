#!/usr/bin/env bash
# Install everything the tests need, then run them all. Idempotent; called by .ci/run.
#   as root: Debian packages (FRR, strongSwan, Graphviz, iproute2) for the real-validator and lab tests
#   always:  a venv (.venv-test) with gen and its test extras
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -q=2 --no-install-recommends \
    frr strongswan-swanctl strongswan-charon libcharon-extra-plugins libstrongswan-standard-plugins \
    iproute2 iputils-ping iptables graphviz >/dev/null
fi

python3 -m venv .venv-test
.venv-test/bin/python -m pip install -q --upgrade pip
.venv-test/bin/python -m pip install -q -e '.[test]'

.venv-test/bin/ruff check .
.venv-test/bin/ruff format --check .
exec .venv-test/bin/python -m pytest "$@"
