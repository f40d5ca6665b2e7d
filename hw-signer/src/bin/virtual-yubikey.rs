//! A virtual YubiKey in its own process, for shell sessions and end-to-end tests of
//! programs that use a YubiKey: it dials vpcd (pcscd must run with the repository's
//! `scripts/pcsc/reader.conf.d`) and stays until killed.
//!
//! ```text
//! virtual-yubikey [--serial N] [--port 35963|35964] [--firmware 5.7.1]
//!                 [--touch-timeout-ms 15000] [--auto-touch-ms N] [--touch-file PATH]
//!                 [--ca-out PATH]
//! ```
//!
//! Touch: with `--auto-touch-ms` the card presses its own button after that delay; with
//! `--touch-file`, creating the file presses it once (the card deletes it). `--ca-out`
//! writes the PEM of a fresh test CA that signed the card's attestation key, to pin when
//! enrolling. Touches consumed are printed to standard error as they happen.

use std::path::PathBuf;
use std::time::Duration;

use hw_signer::virtual_card::{CardConfig, TestCa, VirtualYubiKey};

fn usage() -> ! {
    eprintln!(
        "usage: virtual-yubikey [--serial N] [--port P] [--firmware X.Y.Z] \
         [--touch-timeout-ms MS] [--auto-touch-ms MS] [--touch-file PATH] [--ca-out PATH]"
    );
    std::process::exit(2)
}

fn main() {
    let mut cfg = CardConfig::new(12_345_678);
    let mut auto_touch = None;
    let mut touch_file: Option<PathBuf> = None;
    let mut ca_out: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_else(|| usage());
        let num = |v: &str| v.parse::<u64>().unwrap_or_else(|_| usage());
        match flag.as_str() {
            "--serial" => cfg.serial = u32::try_from(num(&value)).unwrap_or_else(|_| usage()),
            "--port" => cfg.port = u16::try_from(num(&value)).unwrap_or_else(|_| usage()),
            "--firmware" => {
                let parts: Vec<u8> = value
                    .split('.')
                    .map(|p| p.parse().unwrap_or_else(|_| usage()))
                    .collect();
                match parts.as_slice() {
                    [a, b, c] => cfg.version = (*a, *b, *c),
                    _ => usage(),
                }
            }
            "--touch-timeout-ms" => cfg.touch_timeout = Duration::from_millis(num(&value)),
            "--auto-touch-ms" => auto_touch = Some(Duration::from_millis(num(&value))),
            "--touch-file" => touch_file = Some(PathBuf::from(value)),
            "--ca-out" => ca_out = Some(PathBuf::from(value)),
            _ => usage(),
        }
    }
    let ca = match TestCa::generate("Virtual YubiKey Test CA") {
        Ok(ca) => ca,
        Err(e) => {
            eprintln!("virtual-yubikey: {e}");
            std::process::exit(1);
        }
    };
    if let Some(path) = &ca_out {
        let written = ca
            .cert_pem()
            .map_err(|e| e.to_string())
            .and_then(|pem| std::fs::write(path, pem).map_err(|e| e.to_string()));
        if let Err(e) = written {
            eprintln!("virtual-yubikey: writing {}: {e}", path.display());
            std::process::exit(1);
        }
    }
    cfg.attestation = ca.issue_device().ok();
    let serial = cfg.serial;
    let port = cfg.port;
    let card = match VirtualYubiKey::start(cfg) {
        Ok(card) => card,
        Err(e) => {
            eprintln!("virtual-yubikey: {e}");
            std::process::exit(1);
        }
    };
    card.set_auto_touch(auto_touch);
    eprintln!("virtual-yubikey: serial {serial}, dialling vpcd on 127.0.0.1:{port}");
    let mut seen = 0;
    loop {
        if let Some(path) = &touch_file {
            if path.exists() && std::fs::remove_file(path).is_ok() {
                card.touch();
            }
        }
        let consumed = card.touches_consumed();
        if consumed != seen {
            seen = consumed;
            eprintln!("virtual-yubikey: touches consumed: {consumed}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
