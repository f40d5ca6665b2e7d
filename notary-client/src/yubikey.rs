//! Root keys on YubiKeys for the `notary` CLI (cargo feature `yubikey`, on by default).
//!
//! - [`stub`]: the non-secret record of a device-held root key in the trust directory
//!   (`private/yubikey/<key id>.json`: serial, slot, public key, attestation evidence), which
//!   Go `notary` ignores (it only reads `*.key` files).
//! - [`prompt`]: the PIN (from `NOTARY_YUBIKEY_PIN` or the terminal, asked once per
//!   signature, never retried) and the "touch your YubiKey" message before each signature.
//! - [`signers`]: opening the device signers for the root keys a signing run needs, and
//!   checking that enough devices are present before any of them is asked to sign.
//! - [`ceremony`]: the offline root ceremony files (signing request, detached signatures).

pub mod ceremony;
pub mod prompt;
pub mod signers;
pub mod stub;

/// Why a YubiKey operation of the CLI failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum YubiKeyCliError {
    /// The device said no (wrong PIN, touch timeout, policy, missing device...).
    #[error(transparent)]
    Device(#[from] hw_signer::HwError),
    /// The attestation did not verify.
    #[error("attestation of YubiKey {serial}: {source}")]
    Attestation {
        /// The device.
        serial: u32,
        /// What failed.
        source: hw_signer::attestation::AttestationError,
    },
    /// A stub or ceremony file is unreadable or malformed.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The request cannot be fulfilled as asked.
    #[error("{0}")]
    Refused(String),
}
