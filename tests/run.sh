#!/usr/bin/env bash
# Install everything the tests need, then run them all. Idempotent; called by .ci/run.
#   as root: Debian packages (FRR, strongSwan, Graphviz, iproute2) for the real-validator and lab tests
#   always:  a venv (.venv-test) with gen and its test extras, and .venv-checkov with checkov
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -q=2 --no-install-recommends \
    frr strongswan-swanctl strongswan-charon libcharon-extra-plugins libstrongswan-standard-plugins \
    iproute2 iputils-ping iptables nftables systemd graphviz >/dev/null
  # node + npm for Mermaid's own parser (runbook diagrams); nodejs from some repositories bundles npm
  command -v node >/dev/null || apt-get install -y -q=2 --no-install-recommends nodejs >/dev/null
  command -v npm >/dev/null || apt-get install -y -q=2 --no-install-recommends npm >/dev/null
fi

# Mermaid's parser (tests/checks_runbook.py): pinned in tests/mermaid/package.json
npm install --prefix tests/mermaid --no-audit --no-fund --silent >/dev/null

python3 -m venv .venv-test
.venv-test/bin/python -m pip install -q --upgrade pip
.venv-test/bin/python -m pip install -q -e '.[test]'
# checkov in its own venv: its pins (pycep-parser==0.5.1, networkx<2.7, ...) conflict with ours.
python3 -m venv .venv-checkov
.venv-checkov/bin/python -m pip install -q checkov==3.3.30

.venv-test/bin/ruff check .
.venv-test/bin/ruff format --check .
exec .venv-test/bin/python -m pytest "$@"
