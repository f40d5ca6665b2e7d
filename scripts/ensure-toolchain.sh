#!/usr/bin/env bash
# rust-toolchain.toml pins Rust 1.95.0. Machines of this project's kind ship that release as
# rustup's `stable` toolchain and cannot download others: when `1.95.0` is not installed under
# that name but `stable` is 1.95.0, link it instead of letting rustup try a download.
set -euo pipefail
want=1.95.0
command -v rustup >/dev/null 2>&1 || exit 0
if rustup toolchain list | grep -q "^$want-"; then
    exit 0
fi
stable_version=$(rustc +stable --version 2>/dev/null | awk '{print $2}')
if [ "$stable_version" = "$want" ]; then
    # `rustup toolchain link` refuses release-like names; a symlink is what rustup resolves.
    sysroot=$(rustc +stable --print sysroot)
    home=${RUSTUP_HOME:-$HOME/.rustup}
    triple=$(rustc +stable -vV | awk '/^host:/ {print $2}')
    ln -sfn "$sysroot" "$home/toolchains/$want-$triple"
    echo "linked rustup toolchain $want-$triple to the installed stable ($stable_version)"
else
    echo "Rust $want is not installed (stable is ${stable_version:-missing}): rustup toolchain install $want" >&2
    exit 1
fi
