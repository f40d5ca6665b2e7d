#!/usr/bin/env bash
# The project's test command: installs the python-tuf peer (idempotent), starts pcscd with the
# vpcd readers the virtual-YubiKey tests use (installing pcscd/vpcd when missing; stopped again
# at exit if this script started it), then runs every Rust test in the workspace. Extra
# arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/ensure-toolchain.sh

py=$(scripts/setup-python.sh | tail -n 1)

# hw-signer's card tests talk to pcscd; `start` is idempotent (.ci/run may have started it).
if ! scripts/pcscd-vpcd.sh status >/dev/null 2>&1; then
    scripts/pcscd-vpcd.sh start
    trap 'scripts/pcscd-vpcd.sh stop || true' EXIT
fi
export NOTARY_RS_PYTHON="$py"

# The Go-client end-to-end tests start the notary-server binary: build it first.
cargo build --locked -p notary-server -p notary-client --bins
cargo test --workspace --locked "$@"
