#!/usr/bin/env bash
# Creates (idempotently) the python venv holding python-tuf, the interop peer of the tests.
# The venv is ${NOTARY_RS_VENV:-<repo>/.venv}; packages come from tests/python/requirements.txt.
# pip runs only when that file changed since the last successful install (sha256 stamp).
# Prints the venv's python path on its last line.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${NOTARY_RS_VENV:-$repo/.venv}
req=$repo/tests/python/requirements.txt
stamp=$venv/.requirements.sha256
py=$venv/bin/python

if ! command -v python3 >/dev/null 2>&1; then
    echo "setup-python.sh: python3 not found; install python3 and python3-venv" >&2
    exit 1
fi

if [ ! -x "$py" ]; then
    echo "setup-python.sh: creating venv at $venv" >&2
    rm -rf "$venv"
    if ! python3 -m venv "$venv"; then
        echo "setup-python.sh: 'python3 -m venv' failed; on Debian install python3-venv" >&2
        rm -rf "$venv"
        exit 1
    fi
fi

imports='import tuf.ngclient, securesystemslib.signer, cryptography'
want=$(sha256sum "$req" | cut -d' ' -f1)
have=$(cat "$stamp" 2>/dev/null || true)
if [ "$want" != "$have" ] || ! "$py" -c "$imports" 2>/dev/null; then
    echo "setup-python.sh: installing $req" >&2
    rm -f "$stamp"
    "$py" -m pip install --quiet --disable-pip-version-check --no-input -r "$req" >&2
    if ! "$py" -c "$imports"; then
        echo "setup-python.sh: venv at $venv cannot import python-tuf after install;" \
             "delete it and run again" >&2
        exit 1
    fi
    printf '%s\n' "$want" > "$stamp"
fi

echo "$py"
