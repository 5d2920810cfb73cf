# Set-up shared by run.sh and test.sh (sourced, not run): Debian packages through apt-get, and
# the project's own virtualenv .venv/, so nothing is installed into the system's Python (which
# Debian 12 and Raspberry Pi OS mark externally managed, PEP 668).
# Before sourcing: cd to the repository root and set SETUP_NAME (the name shown in messages).

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
VENV=.venv

# apt_install PACKAGE...: installs those of the Debian packages that are not installed yet
apt_install() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "$SETUP_NAME: not a Debian system; install these yourself: ${missing[*]}" >&2
        return 0
    fi
    echo "$SETUP_NAME: installing ${missing[*]} (apt-get)"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
}

# ensure_venv EXTRA: .venv/ exists and has the project installed with that extra (demo, test)
ensure_venv() {
    local python=${PYTHON:-python3}
    if [ ! -x "$VENV/bin/python" ]; then
        echo "$SETUP_NAME: making the project's virtualenv $VENV/ ($python -m venv)"
        rm -rf "$VENV"  # a half-made one, or one whose Python is gone
        if ! "$python" -m venv "$VENV" >/dev/null 2>&1; then
            # Debian ships venv's pip bootstrap (ensurepip) in a package of its own
            rm -rf "$VENV"
            apt_install python3-venv
            "$python" -m venv "$VENV"
        fi
    fi
    # Installed once per extra; again when pyproject.toml (the dependencies) changed: the stamp
    # holds the hash of the pyproject.toml it was installed from (a file's time can go back)
    local stamp="$VENV/.installed-$1" hash
    hash=$("$VENV/bin/python" -c 'import hashlib
print(hashlib.sha256(open("pyproject.toml", "rb").read()).hexdigest())')
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$hash" ]; then
        echo "$SETUP_NAME: installing the project into $VENV/ (pip install -e .[$1])"
        "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".[$1]"
        echo "$hash" >"$stamp"
    fi
}
