//! The person at the YubiKey, for the CLI: the PIN comes from `NOTARY_YUBIKEY_PIN` or the
//! terminal (never from argv), is asked once per signature and never retried; before each
//! signature standard error says which device to touch and what it signs.

use std::io::{BufRead as _, Write as _};
use std::sync::Mutex;

use hw_signer::{HwError, PinRequest, Prompt};
use zeroize::Zeroizing;

/// The environment variable holding the PIN (scripts, CI). Read per signature; never
/// logged.
pub const PIN_ENV: &str = "NOTARY_YUBIKEY_PIN";

/// Set to `yes` to let a script use the last PIN attempt (otherwise it is refused, and a
/// terminal user is asked).
pub const CONFIRM_LAST_ATTEMPT_ENV: &str = "NOTARY_YUBIKEY_CONFIRM_LAST_ATTEMPT";

/// The CLI's [`Prompt`].
#[derive(Debug)]
pub struct CliPrompt {
    /// What the next signature is for ("the root of example.com/app, version 2").
    purpose: Mutex<String>,
}

impl Default for CliPrompt {
    fn default() -> Self {
        Self::new("the root")
    }
}

impl CliPrompt {
    /// A prompt whose touch message names `purpose`.
    pub fn new(purpose: &str) -> Self {
        Self {
            purpose: Mutex::new(purpose.to_owned()),
        }
    }

    /// Changes what the next touch message names.
    pub fn set_purpose(&self, purpose: &str) {
        if let Ok(mut p) = self.purpose.lock() {
            purpose.clone_into(&mut p);
        }
    }

    fn purpose(&self) -> String {
        self.purpose
            .lock()
            .map(|p| p.clone())
            .unwrap_or_else(|_| "the root".into())
    }
}

/// Reads a secret: from `env` when set, else from the terminal with `question` (echo off).
///
/// # Errors
/// Neither is available.
pub fn secret_from_env_or_tty(env: &str, question: &str) -> Result<Zeroizing<Vec<u8>>, HwError> {
    use std::io::IsTerminal as _;
    if let Some(v) = std::env::var_os(env) {
        let s = Zeroizing::new(v.into_encoded_bytes());
        return Ok(s);
    }
    if !std::io::stdin().is_terminal() {
        return Err(HwError::Prompt(format!(
            "standard input is not a terminal and ${env} is not set"
        )));
    }
    match rpassword::prompt_password(question) {
        Ok(s) => {
            let s = Zeroizing::new(s);
            Ok(Zeroizing::new(
                s.trim_end_matches(['\r', '\n']).as_bytes().to_vec(),
            ))
        }
        Err(e) => Err(HwError::Prompt(format!(
            "no terminal to ask for it ({e}) and ${env} is not set"
        ))),
    }
}

/// Asks a yes/no question on the terminal; anything but `yes`/`y` (or no terminal) is no.
pub fn confirm_on_tty(question: &str) -> bool {
    let Ok(tty) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
    else {
        return false;
    };
    let mut w = &tty;
    let _ = write!(w, "{question} (yes/no) ");
    let _ = w.flush();
    let mut line = String::new();
    if std::io::BufReader::new(&tty).read_line(&mut line).is_err() {
        return false;
    }
    matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

impl Prompt for CliPrompt {
    fn pin(&self, request: &PinRequest) -> Result<Zeroizing<Vec<u8>>, HwError> {
        secret_from_env_or_tty(
            PIN_ENV,
            &format!(
                "Enter the PIN of YubiKey {} ({} attempt(s) left): ",
                request.serial, request.retries_left
            ),
        )
    }

    fn confirm_last_pin_attempt(&self, serial: u32) -> bool {
        if std::env::var_os(PIN_ENV).is_some() {
            let ok = std::env::var(CONFIRM_LAST_ATTEMPT_ENV).is_ok_and(|v| v == "yes");
            if !ok {
                eprintln!(
                    "Only one PIN attempt is left on YubiKey {serial}: set \
                     {CONFIRM_LAST_ATTEMPT_ENV}=yes to use it (a wrong PIN blocks the device)."
                );
            }
            return ok;
        }
        confirm_on_tty(&format!(
            "Only one PIN attempt is left on YubiKey {serial}; a wrong PIN blocks it. Go on?"
        ))
    }

    fn touch_now(&self, serial: u32) {
        eprintln!(
            "Touch your YubiKey (serial {serial}) to sign {} (it blinks).",
            self.purpose()
        );
    }
}
