#!/usr/bin/env bash
# The main job on a fresh machine: starts our notary-server on its embedded default (SQLite in
# a data directory, loopback, no configuration), then signs and publishes a tag with our
# `notary` client (a drop-in for Go notary 0.7), lists and verifies it, and shows a tampered
# artifact being refused. Everything lives in a temporary directory.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/ensure-toolchain.sh

if ! command -v curl >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends curl
fi

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
cargo build --release --locked -p notary-server -p notary-client
bin=$CARGO_TARGET_DIR/release/notary-server
notary=$CARGO_TARGET_DIR/release/notary

work=$(mktemp -d)
port=${PORT:-4443}
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# Zero-config start: only the data directory is pointed into the demo's temp dir.
NOTARY_SERVER_DATA_DIR=$work/server-data "$bin" --listen "127.0.0.1:$port" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 50); do
    curl -fsS "http://127.0.0.1:$port/_notary_server/health" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/_notary_server/health" >/dev/null

cat >"$work/config.json" <<JSON
{"trust_dir": "$work/trust", "remote_server": {"url": "http://127.0.0.1:$port"}}
JSON
# Demo-only passphrases; in real use the client prompts for them.
export NOTARY_ROOT_PASSPHRASE=demo-root-passphrase NOTARY_TARGETS_PASSPHRASE=demo-targets-passphrase
export NOTARY_SNAPSHOT_PASSPHRASE=demo-snapshot-passphrase
n() { echo "\$ notary $*" >&2; "$notary" -c "$work/config.json" "$@"; }

gun=docker.io/library/demo
echo "demo image manifest v1" >"$work/manifest"
n init "$gun" -p
n add "$gun" v1 "$work/manifest" -p
n list "$gun"
n verify "$gun" v1 <"$work/manifest" >/dev/null && echo "verified: v1 matches its signed digest"
echo "tampered" >"$work/tampered"
if n verify "$gun" v1 <"$work/tampered" >/dev/null 2>&1; then
    echo "ERROR: a tampered artifact verified" >&2
    exit 1
fi
echo "refused: a tampered artifact does not verify"
