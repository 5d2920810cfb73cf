#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine, then runs it.
# Usage: ./test.sh [pytest args]   e.g. ./test.sh -k client -x
set -euo pipefail
cd "$(dirname "$0")"

PY=${PYTHON:-python3}
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

if ! command -v mosquitto >/dev/null 2>&1 && [ ! -x /usr/sbin/mosquitto ]; then
    echo "test.sh: installing mosquitto (apt-get)"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq mosquitto >/dev/null
fi
if ! command -v openssl >/dev/null 2>&1; then
    echo "test.sh: installing openssl (apt-get)"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq openssl >/dev/null
fi
# mosquitto lives in /usr/sbin, which is not on every user's PATH
export PATH="$PATH:/usr/sbin"

echo "test.sh: installing python packages (pip install -e .[test])"
$PY -m pip install -q --disable-pip-version-check -e ".[test]"

exec $PY -m pytest "$@"
