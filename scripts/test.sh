#!/usr/bin/env bash
# The project's test command: installs the python-tuf peer (idempotent), then runs every
# Rust test in the workspace. Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/ensure-toolchain.sh

py=$(scripts/setup-python.sh | tail -n 1)
export NOTARY_RS_PYTHON="$py"

# The Go-client end-to-end tests start the notary-server binary: build it first.
cargo build --locked -p notary-server -p notary-client --bins
cargo test --workspace --locked "$@"
