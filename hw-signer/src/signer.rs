//! `YubiKeySigner`: a `tuf_core::Signer` whose P-256 key lives in slot 9c of a YubiKey.

use std::sync::{Arc, Mutex};

use sha2::{Digest as _, Sha256};
use tuf_core::crypto::{Key, PublicKey, SignError, SignatureBytes, Signer};
use tuf_core::Dialect;
use yubikey::piv::{self, AlgorithmId, SlotId};

use crate::device::{Device, SlotInfo};
use crate::error::{Credential, HwError};
use crate::policy::{is_root_policy, PinPolicy, TouchPolicy};
use crate::prompt::{PinRequest, Prompt};
use crate::secret::Pin;

/// The PIV slot root keys live in ("digital signature": PIN always checked).
pub const ROOT_SLOT: u8 = 0x9c;

/// How long the PC/SC session to the device lives.
///
/// Either way the card forgets the PIN after each signature (PIN policy ALWAYS). The
/// `yubikey` crate keeps a plain (not zeroized) copy of the last verified PIN inside its
/// session object for reconnects; closing the session frees it but does not wipe it, so
/// neither mode removes that copy from memory (a limit of the crate, see docs/hw-signer.md).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SessionMode {
    /// One session kept open between signatures, reopened after any error (the default:
    /// about 1 ms of host overhead per signature on the virtual card).
    #[default]
    Persistent,
    /// A fresh session per signature, closed with a card reset right after it; finds the
    /// device again by serial each time (survives re-plugging). About 2.5 ms more.
    PerSignature,
}

/// Signs with the root key in slot 9c of one YubiKey, chosen by serial.
///
/// For each signature it reads the PIN counter (GET METADATA, no VERIFY), asks the
/// [`Prompt`] for the PIN once, checks its length locally, verifies it (never retried),
/// tells the person to touch, signs the SHA-256 digest, and checks the signature with the
/// public key. See [`SessionMode`] for how long the PC/SC session lives.
pub struct YubiKeySigner {
    serial: u32,
    session: Mutex<Option<Device>>,
    mode: SessionMode,
    public: PublicKey,
    pin_policy: PinPolicy,
    touch_policy: TouchPolicy,
    prompt: Arc<dyn Prompt>,
}

impl std::fmt::Debug for YubiKeySigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("YubiKeySigner")
            .field("serial", &self.serial)
            .field("public", &self.public)
            .field("pin_policy", &self.pin_policy)
            .field("touch_policy", &self.touch_policy)
            .finish_non_exhaustive()
    }
}

impl YubiKeySigner {
    /// Opens the root key of the YubiKey with `serial`. Refuses a slot whose policies do
    /// not fit a root key (touch CACHED or NEVER, PIN NEVER) before any signature, and a
    /// key other than `expected` when given.
    pub fn open(
        serial: u32,
        expected: Option<&PublicKey>,
        prompt: Arc<dyn Prompt>,
    ) -> Result<Self, HwError> {
        let mut dev = Device::open(Some(serial))?;
        let (info, public) = root_slot_key(&mut dev)?;
        if expected.is_some_and(|e| e != &public) {
            return Err(HwError::KeyMismatch { serial });
        }
        Ok(Self {
            serial,
            session: Mutex::new(None),
            mode: SessionMode::default(),
            public,
            pin_policy: info.pin_policy,
            touch_policy: info.touch_policy,
            prompt,
        })
    }

    /// The same signer with another [`SessionMode`].
    pub fn with_session_mode(mut self, mode: SessionMode) -> Self {
        self.mode = mode;
        self
    }

    /// The device serial.
    pub fn serial(&self) -> u32 {
        self.serial
    }

    /// The slot's PIN policy.
    pub fn pin_policy(&self) -> PinPolicy {
        self.pin_policy
    }

    /// The slot's touch policy.
    pub fn touch_policy(&self) -> TouchPolicy {
        self.touch_policy
    }

    /// Signs `message` (ECDSA P-256 over its SHA-256), with typed errors; the signature is
    /// verified with the public key before it is returned.
    pub fn sign_checked(&self, message: &[u8]) -> Result<SignatureBytes, HwError> {
        let sig = self.sign_unverified(message)?;
        self.check(message, &sig, Dialect::TufSpec)?;
        Ok(sig)
    }

    fn check(
        &self,
        message: &[u8],
        sig: &SignatureBytes,
        dialect: Dialect,
    ) -> Result<Vec<u8>, HwError> {
        let wire = sig.to_wire(dialect);
        Key::from_public_key(dialect, self.public.clone())
            .verify(dialect, message, &wire)
            .map_err(|_| HwError::BadSignature {
                serial: self.serial,
            })?;
        Ok(wire)
    }

    fn sign_unverified(&self, message: &[u8]) -> Result<SignatureBytes, HwError> {
        let serial = self.serial;
        // One signature at a time per signer.
        let mut session = self
            .session
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut dev = match session.take() {
            Some(dev) => dev,
            None => Device::open(Some(serial)).map_err(|e| match e {
                HwError::SerialNotFound { .. } | HwError::NoDevice { .. } => HwError::CardRemoved {
                    serial,
                    operation: "opening the device to sign",
                },
                e => e,
            })?,
        };
        let der = self.sign_on(&mut dev, message).map_err(|e| match e {
            // A card pulled mid-command can surface as a bare driver error: ask PC/SC
            // whether the device is still there before blaming the card.
            HwError::Device { operation, .. } if !is_present(serial) => {
                HwError::CardRemoved { serial, operation }
            }
            other => other,
        })?;
        if self.mode == SessionMode::Persistent {
            *session = Some(dev);
        }
        SignatureBytes::from_ecdsa_der(&der).map_err(|_| HwError::BadSignature { serial })
    }

    /// One signature on an open session; any error drops the session.
    fn sign_on(&self, dev: &mut Device, message: &[u8]) -> Result<Vec<u8>, HwError> {
        let serial = self.serial;
        // Attempts left, read without a VERIFY.
        let retries_left = dev
            .credential_status(Credential::Pin)?
            .retries_left
            .unwrap_or(0);
        if retries_left == 0 {
            return Err(HwError::PinBlocked { serial });
        }
        if retries_left == 1 && !self.prompt.confirm_last_pin_attempt(serial) {
            return Err(HwError::LastAttemptNotConfirmed { serial });
        }
        let pin = Pin::new(
            self.prompt
                .pin(&PinRequest {
                    serial,
                    retries_left,
                })?
                .to_vec(),
        )?;
        match dev.yk().verify_pin(pin.expose()) {
            Ok(()) => {}
            Err(yubikey::Error::WrongPin { tries: 0 }) => {
                return Err(HwError::PinBlocked { serial })
            }
            Err(yubikey::Error::WrongPin { tries }) => {
                return Err(HwError::WrongPin {
                    which: Credential::Pin,
                    serial,
                    retries_left: tries,
                })
            }
            Err(e) => return Err(HwError::device(serial, "PIN verification", e)),
        }
        drop(pin);

        let digest = Sha256::digest(message);
        if matches!(self.touch_policy, TouchPolicy::Always | TouchPolicy::Cached) {
            self.prompt.touch_now(serial);
        }
        let der = piv::sign_data(dev.yk(), &digest, AlgorithmId::EccP256, SlotId::Signature)
            .map_err(|e| match e {
                // The PIN was verified just before, so 6982 here means no touch.
                yubikey::Error::AuthenticationError => HwError::TouchTimeout { serial },
                e => HwError::device(serial, "signing", e),
            })?;
        Ok(der.to_vec())
    }

    /// Signs `message` and returns the signature bytes as `dialect` carries them:
    /// raw `r || s` (64 bytes) for Notary, ASN.1 DER for TUF. Each form is verified with
    /// tuf-core before it is returned.
    pub fn sign_wire(&self, message: &[u8], dialect: Dialect) -> Result<Vec<u8>, HwError> {
        let sig = self.sign_unverified(message)?;
        self.check(message, &sig, dialect)
    }
}

/// The key in the root slot (`9c`) of an open device, checked for what a root key needs:
/// present, ECC P-256, PIN policy ALWAYS or ONCE and touch policy ALWAYS (from GET
/// METADATA). No PIN, no touch.
///
/// # Errors
/// [`HwError::EmptySlot`], [`HwError::WrongAlgorithm`], [`HwError::PolicyRefused`], or a
/// device error.
pub fn root_slot_key(dev: &mut Device) -> Result<(SlotInfo, PublicKey), HwError> {
    let serial = dev.serial();
    let info = dev.slot_info(ROOT_SLOT)?.ok_or(HwError::EmptySlot {
        serial,
        slot: ROOT_SLOT,
    })?;
    let wrong = || HwError::WrongAlgorithm {
        serial,
        slot: ROOT_SLOT,
    };
    if !info.p256 {
        return Err(wrong());
    }
    if !is_root_policy(info.pin_policy, info.touch_policy) {
        return Err(HwError::PolicyRefused {
            pin: info.pin_policy,
            touch: info.touch_policy,
        });
    }
    let point = info.public_point.as_deref().ok_or_else(wrong)?;
    let public = PublicKey::p256_from_sec1(point).map_err(|_| wrong())?;
    Ok((info, public))
}

fn is_present(serial: u32) -> bool {
    crate::device::list_devices().is_ok_and(|d| d.iter().any(|d| d.serial == serial))
}

impl Signer for YubiKeySigner {
    fn public_key(&self) -> &PublicKey {
        &self.public
    }

    fn sign(&self, message: &[u8]) -> Result<SignatureBytes, SignError> {
        self.sign_checked(message)
            .map_err(|e| SignError::Device(Box::new(e)))
    }
}
