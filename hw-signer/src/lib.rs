//! Root keys on a YubiKey (PIV over PC/SC), one physical touch per root signature.
//!
//! - [`enrol`](enrol::enrol) generates ECC P-256 in slot 9c on the device with touch policy
//!   ALWAYS and PIN policy ALWAYS (or ONCE), after the factory-default PIN, PUK and
//!   management key are changed, and verifies the device's attestation
//!   ([`attestation`]) against a pinned CA (Yubico's by default).
//! - [`YubiKeySigner`] implements [`tuf_core::crypto::Signer`]: PIN once per signature
//!   (length checked locally, never retried), "touch now", the card's DER ECDSA signature
//!   converted to each dialect's wire form and verified before it is returned.
//! - [`HwError`] says what went wrong in words a person can act on (wrong PIN with the
//!   attempts left, PIN blocked and how to unblock it, touch timeout, card removed...).
//! - With the `virtual-card` feature, [`virtual_card`] is a YubiKey in Rust behind
//!   vsmartcard's `vpcd`, so tests exercise the real `pcsc` -> `pcscd` path.

#![forbid(unsafe_code)]

pub mod attestation;
mod device;
pub mod enrol;
mod error;
mod policy;
mod prompt;
mod secret;
mod signer;
mod tlv;
#[cfg(feature = "virtual-card")]
pub mod virtual_card;

pub use device::{list_devices, CredentialStatus, Device, DeviceInfo, KeyOrigin, SlotInfo};
pub use error::{Credential, HwError};
pub use policy::{is_root_policy, PinPolicy, TouchPolicy};
pub use prompt::{FixedPrompt, PinRequest, Prompt};
pub use secret::{ManagementKey, MgmAlgorithm, Pin, DEFAULT_MGM_KEY_BYTES};
pub use signer::{root_slot_key, SessionMode, YubiKeySigner, ROOT_SLOT};
