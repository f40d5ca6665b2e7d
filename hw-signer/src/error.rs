//! Errors of hardware operations, each with a message a person can act on.

use crate::attestation::AttestationError;
use crate::policy::{PinPolicy, TouchPolicy};

/// Which secret of the PIV applet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credential {
    /// The PIN (6–8 bytes, unlocks private-key operations).
    Pin,
    /// The PUK (6–8 bytes, unblocks the PIN).
    Puk,
    /// The management key (authorises generate, import, certificate writes).
    ManagementKey,
}

impl std::fmt::Display for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Pin => "PIN",
            Self::Puk => "PUK",
            Self::ManagementKey => "management key",
        })
    }
}

/// Why a YubiKey operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HwError {
    /// pcscd is not running.
    #[error(
        "no PC/SC service: pcscd is not running (start it: `systemctl start pcscd`, \
         or for the virtual card `scripts/pcscd-vpcd.sh start`)"
    )]
    NoService,
    /// No YubiKey is connected.
    #[error("no YubiKey found: insert one (PC/SC readers seen: {readers:?})")]
    NoDevice {
        /// Names of the readers that had no usable YubiKey.
        readers: Vec<String>,
    },
    /// Several YubiKeys are connected and none was chosen.
    #[error("{} YubiKeys are connected (serials {serials:?}): choose one by serial", serials.len())]
    SeveralDevices {
        /// Their serials.
        serials: Vec<u32>,
    },
    /// No connected YubiKey has the requested serial.
    #[error("no YubiKey with serial {serial} is connected (connected: {connected:?})")]
    SerialNotFound {
        /// The serial asked for.
        serial: u32,
        /// Serials of the YubiKeys that are connected.
        connected: Vec<u32>,
    },
    /// A PIN or PUK of the wrong length, refused before anything was sent to the card.
    #[error("the {which} must be 6 to 8 characters (got {len}); nothing was sent to the YubiKey")]
    SecretLength {
        /// PIN or PUK.
        which: Credential,
        /// The length given.
        len: usize,
    },
    /// The card rejected the PIN (or PUK); the attempt is not repeated.
    #[error(
        "wrong {which} for YubiKey {serial}: {retries_left} attempt(s) left before it is blocked \
         (not retried automatically)"
    )]
    WrongPin {
        /// PIN or PUK.
        which: Credential,
        /// The device.
        serial: u32,
        /// Attempts left.
        retries_left: u8,
    },
    /// The PIN is blocked.
    #[error(
        "the PIN of YubiKey {serial} is blocked: unblock it with the PUK \
         (`ykman piv access unblock-pin`, or `yubico-piv-tool -a unblock-pin`); \
         nothing was reset, the root key is intact"
    )]
    PinBlocked {
        /// The device.
        serial: u32,
    },
    /// The PUK is blocked too (only a PIV reset, which destroys the keys, remains).
    #[error(
        "the PUK of YubiKey {serial} is blocked: the PIN cannot be unblocked any more; \
         only a PIV reset (which destroys the root key) remains — use another root key holder"
    )]
    PukBlocked {
        /// The device.
        serial: u32,
    },
    /// One PIN attempt was left and the user did not confirm using it.
    #[error("only one PIN attempt is left on YubiKey {serial} and it was not confirmed: nothing was sent")]
    LastAttemptNotConfirmed {
        /// The device.
        serial: u32,
    },
    /// The PIN prompt failed or was cancelled.
    #[error("PIN entry failed: {0}")]
    Prompt(String),
    /// The card waited for a touch that did not come.
    #[error(
        "YubiKey {serial} was not touched in time: no signature was made \
         (touch the gold contact while it blinks, then run the command again)"
    )]
    TouchTimeout {
        /// The device.
        serial: u32,
    },
    /// The card disappeared during an operation.
    #[error("YubiKey {serial} was removed (or its reader went away) during {operation}: nothing was signed")]
    CardRemoved {
        /// The device.
        serial: u32,
        /// What was being done.
        operation: &'static str,
    },
    /// The management key was not accepted.
    #[error(
        "the management key was not accepted by YubiKey {serial} (wrong key or wrong algorithm)"
    )]
    WrongManagementKey {
        /// The device.
        serial: u32,
    },
    /// A factory-default secret is still set and no explicit override was given.
    #[error(
        "the {which} of YubiKey {serial} is still the factory default: change it during \
         enrolment (or pass the explicit override to keep it)"
    )]
    DefaultCredential {
        /// Which one.
        which: Credential,
        /// The device.
        serial: u32,
    },
    /// The slot holds no key.
    #[error("slot {slot:02x} of YubiKey {serial} holds no key: enrol the device first")]
    EmptySlot {
        /// The device.
        serial: u32,
        /// The slot.
        slot: u8,
    },
    /// The slot already holds a key and replacing it was not asked for.
    #[error("slot {slot:02x} of YubiKey {serial} already holds a key: refusing to overwrite it without the explicit replace option")]
    SlotOccupied {
        /// The device.
        serial: u32,
        /// The slot.
        slot: u8,
    },
    /// Policies unfit for a root key.
    #[error(
        "refusing pin={pin}, touch={touch} for a root key: it needs touch policy ALWAYS \
         (never CACHED or NEVER) and PIN policy ALWAYS or ONCE"
    )]
    PolicyRefused {
        /// The PIN policy.
        pin: PinPolicy,
        /// The touch policy.
        touch: TouchPolicy,
    },
    /// The key in the slot is not an ECC P-256 key.
    #[error("slot {slot:02x} of YubiKey {serial} does not hold an ECC P-256 key")]
    WrongAlgorithm {
        /// The device.
        serial: u32,
        /// The slot.
        slot: u8,
    },
    /// The slot's key is not the one expected (another device or a replaced key).
    #[error("the key in slot 9c of YubiKey {serial} is not the expected root key")]
    KeyMismatch {
        /// The device.
        serial: u32,
    },
    /// Importing a software key without the explicit unattested override.
    #[error(
        "refusing to import a software key as a root key: an imported key cannot be attested; \
         pass the explicit allow-unattested option to do it anyway (the key is then marked unattested)"
    )]
    ImportRefused,
    /// GET METADATA is needed (firmware 5.3 or later).
    #[error("YubiKey {serial} has firmware {major}.{minor}.{patch}: 5.3 or later is needed (GET METADATA)")]
    FirmwareTooOld {
        /// The device.
        serial: u32,
        /// Major version.
        major: u8,
        /// Minor version.
        minor: u8,
        /// Patch version.
        patch: u8,
    },
    /// The attestation did not verify.
    #[error(transparent)]
    Attestation(#[from] AttestationError),
    /// The card's signature did not verify with the slot's public key.
    #[error("the signature returned by YubiKey {serial} does not verify with its public key")]
    BadSignature {
        /// The device.
        serial: u32,
    },
    /// Any other device failure.
    #[error("YubiKey {operation} failed: {source}")]
    Device {
        /// What was being done.
        operation: &'static str,
        /// The driver's error.
        #[source]
        source: yubikey::Error,
    },
}

impl HwError {
    /// Maps a driver error of `operation` on device `serial`: PC/SC errors that mean the
    /// card went away become [`HwError::CardRemoved`], a missing service [`HwError::NoService`].
    pub(crate) fn device(serial: u32, operation: &'static str, e: yubikey::Error) -> Self {
        if let yubikey::Error::PcscError { inner: Some(p) } = e {
            match p {
                pcsc::Error::NoService | pcsc::Error::ServiceStopped => return Self::NoService,
                pcsc::Error::RemovedCard
                | pcsc::Error::ResetCard
                | pcsc::Error::NoSmartcard
                | pcsc::Error::ReaderUnavailable
                | pcsc::Error::UnknownReader
                | pcsc::Error::UnpoweredCard
                | pcsc::Error::UnresponsiveCard
                | pcsc::Error::CommError
                | pcsc::Error::CardUnsupported
                | pcsc::Error::NotTransacted => {
                    return Self::CardRemoved { serial, operation };
                }
                _ => {}
            }
        }
        Self::Device {
            operation,
            source: e,
        }
    }
}
