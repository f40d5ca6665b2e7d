#!/usr/bin/env bash
# pcscd with the vsmartcard vpcd readers that hw-signer's virtual YubiKeys dial into.
#
#   scripts/pcscd-vpcd.sh install   install pcscd, libpcsclite-dev, pkgconf, vsmartcard-vpcd
#                                   when missing (Debian; needs root)
#   scripts/pcscd-vpcd.sh start     install if needed, start pcscd -f -c scripts/pcsc/reader.conf.d
#                                   in the background, wait for its socket
#   scripts/pcscd-vpcd.sh stop      stop the pcscd this script started (its PID only)
#   scripts/pcscd-vpcd.sh status
#
# Only one pcscd can run per machine (fixed socket /run/pcscd/pcscd.comm). If one is already
# running and was not started here, `start` leaves it alone and says so; the hardware tests
# then fail loudly if it has no vpcd readers.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

conf_dir="$PWD/scripts/pcsc/reader.conf.d"
state_dir=${HW_SIGNER_PCSCD_STATE:-/tmp/hw-signer-pcscd}
pidfile="$state_dir/pcscd.pid"
logfile="$state_dir/pcscd.log"
socket=/run/pcscd/pcscd.comm
vpcd_driver=/usr/lib/pcsc/drivers/serial/libifdvpcd.so

missing_packages() {
    local missing=()
    command -v pcscd >/dev/null 2>&1 || [ -x /usr/sbin/pcscd ] || missing+=(pcscd)
    [ -e "$vpcd_driver" ] || missing+=(vsmartcard-vpcd)
    command -v pkg-config >/dev/null 2>&1 || missing+=(pkgconf)
    pkg-config --exists libpcsclite 2>/dev/null || missing+=(libpcsclite-dev)
    echo "${missing[@]}"
}

install() {
    local missing
    missing=$(missing_packages)
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "missing Debian packages: $missing (run as root: apt-get install $missing)" >&2
        return 1
    fi
    echo "installing Debian packages: $missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing
    missing=$(missing_packages)
    if [ -n "$missing" ]; then
        echo "still missing after install: $missing" >&2
        return 1
    fi
}

our_pid() {
    [ -f "$pidfile" ] || return 1
    local pid
    pid=$(cat "$pidfile")
    kill -0 "$pid" 2>/dev/null || return 1
    echo "$pid"
}

start() {
    install
    if pid=$(our_pid); then
        echo "pcscd already running (PID $pid, started here)"
        return 0
    fi
    if pgrep -x pcscd >/dev/null 2>&1; then
        echo "a pcscd not started by this script is running (PID $(pgrep -x pcscd | tr '\n' ' ')):" \
            "using it; it needs the vpcd reader entry of $conf_dir" >&2
        return 0
    fi
    mkdir -p "$state_dir" /run/pcscd
    rm -f "$socket"
    local pcscd_bin
    pcscd_bin=$(command -v pcscd || echo /usr/sbin/pcscd)
    # -f: foreground (so $! is pcscd itself), -c: our reader configuration directory.
    "$pcscd_bin" -f -c "$conf_dir" >"$logfile" 2>&1 &
    echo $! >"$pidfile"
    for _ in $(seq 1 100); do
        if [ -S "$socket" ]; then
            echo "pcscd started (PID $(cat "$pidfile"), readers from $conf_dir, log $logfile)"
            return 0
        fi
        if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
            break
        fi
        sleep 0.05
    done
    echo "pcscd did not come up; its log ($logfile):" >&2
    cat "$logfile" >&2 || true
    stop || true
    return 1
}

stop() {
    local pid
    if pid=$(our_pid); then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.05
        done
        kill -9 "$pid" 2>/dev/null || true
        echo "pcscd (PID $pid) stopped"
    fi
    rm -f "$pidfile"
}

status() {
    if pid=$(our_pid); then
        echo "pcscd running (PID $pid, started here)"
    elif pgrep -x pcscd >/dev/null 2>&1; then
        echo "pcscd running (not started here: PID $(pgrep -x pcscd | tr '\n' ' '))"
    else
        echo "pcscd not running"
        return 1
    fi
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    stop) stop ;;
    status) status ;;
    *)
        echo "usage: $0 install|start|stop|status" >&2
        exit 2
        ;;
esac
