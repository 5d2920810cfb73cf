#!/usr/bin/env bash
# Runs a node with the project's own Python: ./run.sh [--config PATH] [--demo]
# The first run makes the virtualenv .venv/ (apt-get installs python3-venv when it is missing)
# and installs the project with the demo broker into it; later runs start at once.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")" && pwd)
(
    cd "$ROOT"
    SETUP_NAME=run.sh
    . tools/setup.sh
    ensure_venv demo
)
# Not cd'ed: a relative --config path is the caller's. -u: each line is seen as it is printed,
# also through a pipe or in systemd's journal
exec "$ROOT/.venv/bin/python" -u "$ROOT/main.py" "$@"
