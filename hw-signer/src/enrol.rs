//! Enrolment of a root key: generated on the device in slot 9c with touch ALWAYS and a
//! PIN policy of ALWAYS (or ONCE), attested, after the factory-default secrets are changed.

use std::time::SystemTime;

use tuf_core::crypto::PublicKey;
use yubikey::piv::{self, AlgorithmId, SlotId};

use crate::attestation::{
    self, cert_from_piv_object, AttestationBundle, AttestedKey, Expectation, PinnedCas,
    F9_CERT_OBJECT,
};
use crate::device::{Device, KeyOrigin};
use crate::error::{Credential, HwError};
use crate::policy::{is_root_policy, PinPolicy, TouchPolicy};
use crate::secret::{ManagementKey, Pin};
use crate::signer::ROOT_SLOT;

/// Everything enrolment needs. Secrets are given explicitly: a factory default is never
/// tried on its own, and is only kept with `allow_default_credentials`.
#[derive(Debug)]
pub struct EnrolRequest {
    /// The device.
    pub serial: u32,
    /// The current PIN (needed to change it).
    pub current_pin: Option<Pin>,
    /// A new PIN; required while the PIN is the factory default.
    pub new_pin: Option<Pin>,
    /// The current PUK (needed to change it).
    pub current_puk: Option<Pin>,
    /// A new PUK; required while the PUK is the factory default.
    pub new_puk: Option<Pin>,
    /// The current management key.
    pub current_mgm: ManagementKey,
    /// A new management key; required while the management key is the factory default.
    pub new_mgm: Option<ManagementKey>,
    /// Keep factory-default secrets (explicit override; never for production roots).
    pub allow_default_credentials: bool,
    /// Overwrite a key already in slot 9c.
    pub replace_existing_key: bool,
    /// PIN policy: ALWAYS or ONCE.
    pub pin_policy: PinPolicy,
    /// Touch policy: only ALWAYS is accepted.
    pub touch_policy: TouchPolicy,
    /// The CAs the device attestation must chain to (Yubico's by default).
    pub pinned_cas: PinnedCas,
    /// The time for certificate validity checks.
    pub now: SystemTime,
}

impl EnrolRequest {
    /// A request with the root policies (PIN ALWAYS, touch ALWAYS) and Yubico's CA.
    pub fn new(serial: u32, current_mgm: ManagementKey) -> Self {
        Self {
            serial,
            current_pin: None,
            new_pin: None,
            current_puk: None,
            new_puk: None,
            current_mgm,
            new_mgm: None,
            allow_default_credentials: false,
            replace_existing_key: false,
            pin_policy: PinPolicy::Always,
            touch_policy: TouchPolicy::Always,
            pinned_cas: PinnedCas::yubico(),
            now: SystemTime::now(),
        }
    }
}

/// The outcome: the root public key and its evidence.
#[derive(Clone, Debug)]
pub struct Enrolment {
    /// The device serial.
    pub serial: u32,
    /// The firmware version.
    pub firmware: (u8, u8, u8),
    /// The root public key (slot 9c).
    pub public_key: PublicKey,
    /// The attestation evidence; `None` for an imported (unattested) key.
    pub attestation: Option<(AttestationBundle, AttestedKey)>,
}

impl Enrolment {
    /// Whether the key is attested (generated on the device, verified chain).
    pub fn is_attested(&self) -> bool {
        self.attestation.is_some()
    }
}

fn check_root_policy(pin: PinPolicy, touch: TouchPolicy) -> Result<(), HwError> {
    if is_root_policy(pin, touch) {
        Ok(())
    } else {
        Err(HwError::PolicyRefused { pin, touch })
    }
}

/// Changes default secrets as asked and authenticates with the management key; refuses
/// to go on with a default secret unless explicitly allowed. Checks all three before
/// changing any.
fn prepare(dev: &mut Device, req: &EnrolRequest) -> Result<(), HwError> {
    let serial = dev.serial();
    let pin_st = dev.credential_status(Credential::Pin)?;
    let puk_st = dev.credential_status(Credential::Puk)?;
    let mgm_st = dev.credential_status(Credential::ManagementKey)?;
    if pin_st.retries_left == Some(0) {
        return Err(HwError::PinBlocked { serial });
    }
    if !req.allow_default_credentials {
        for (st, new, which) in [
            (pin_st, req.new_pin.is_some(), Credential::Pin),
            (puk_st, req.new_puk.is_some(), Credential::Puk),
            (mgm_st, req.new_mgm.is_some(), Credential::ManagementKey),
        ] {
            if st.is_default && !new {
                return Err(HwError::DefaultCredential { which, serial });
            }
        }
    }
    if let Some(new_pin) = &req.new_pin {
        let current = req.current_pin.as_ref().ok_or(HwError::Prompt(
            "the current PIN is needed to set a new one".into(),
        ))?;
        dev.yk()
            .change_pin(current.expose(), new_pin.expose())
            .map_err(|e| pin_error(serial, Credential::Pin, e))?;
    }
    if let Some(new_puk) = &req.new_puk {
        let current = req.current_puk.as_ref().ok_or(HwError::Prompt(
            "the current PUK is needed to set a new one".into(),
        ))?;
        dev.yk()
            .change_puk(current.expose(), new_puk.expose())
            .map_err(|e| pin_error(serial, Credential::Puk, e))?;
    }
    let current = req.current_mgm.to_yubikey(serial)?;
    dev.yk().authenticate(&current).map_err(|e| match e {
        yubikey::Error::AuthenticationError => HwError::WrongManagementKey { serial },
        e => HwError::device(serial, "management key authentication", e),
    })?;
    if let Some(new) = &req.new_mgm {
        let new_key = new.to_yubikey(serial)?;
        new_key
            .set_manual(dev.yk(), false)
            .map_err(|e| HwError::device(serial, "setting the management key", e))?;
        dev.yk().authenticate(&new_key).map_err(|e| match e {
            yubikey::Error::AuthenticationError => HwError::WrongManagementKey { serial },
            e => HwError::device(serial, "management key authentication", e),
        })?;
    }
    Ok(())
}

fn pin_error(serial: u32, which: Credential, e: yubikey::Error) -> HwError {
    match (which, e) {
        (Credential::Pin, yubikey::Error::PinLocked) => HwError::PinBlocked { serial },
        (_, yubikey::Error::PinLocked) => HwError::PukBlocked { serial },
        (_, yubikey::Error::WrongPin { tries }) => HwError::WrongPin {
            which,
            serial,
            retries_left: tries,
        },
        (_, e) => HwError::device(serial, "changing a PIN or PUK", e),
    }
}

fn check_slot_free(dev: &mut Device, req: &EnrolRequest) -> Result<(), HwError> {
    if !req.replace_existing_key && dev.slot_info(ROOT_SLOT)?.is_some() {
        return Err(HwError::SlotOccupied {
            serial: dev.serial(),
            slot: ROOT_SLOT,
        });
    }
    Ok(())
}

/// Enrols a root key: checks the policies (touch ALWAYS only), changes default secrets,
/// generates ECC P-256 in slot 9c on the device, reads the attestation (slot 9c certificate
/// and the f9 chain), verifies it against the pinned CAs, the serial, the slot, the
/// policies and the generated key, and returns the key with its evidence.
pub fn enrol(req: &EnrolRequest) -> Result<Enrolment, HwError> {
    check_root_policy(req.pin_policy, req.touch_policy)?;
    let mut dev = Device::open(Some(req.serial))?;
    let serial = dev.serial();
    check_slot_free(&mut dev, req)?;
    prepare(&mut dev, req)?;
    let spki = piv::generate(
        dev.yk(),
        SlotId::Signature,
        AlgorithmId::EccP256,
        req.pin_policy.to_yubikey(),
        req.touch_policy.to_yubikey(),
    )
    .map_err(|e| HwError::device(serial, "key generation", e))?;
    let public_key =
        PublicKey::p256_from_sec1(spki.subject_public_key.raw_bytes()).map_err(|_| {
            HwError::WrongAlgorithm {
                serial,
                slot: ROOT_SLOT,
            }
        })?;
    // The card's own view must agree with what was asked.
    let info = dev.slot_info(ROOT_SLOT)?.ok_or(HwError::EmptySlot {
        serial,
        slot: ROOT_SLOT,
    })?;
    if info.public_point.as_deref() != Some(spki.subject_public_key.raw_bytes()) {
        return Err(HwError::KeyMismatch { serial });
    }
    check_root_policy(info.pin_policy, info.touch_policy)?;
    if info.origin != Some(KeyOrigin::Generated) {
        return Err(HwError::KeyMismatch { serial });
    }
    let bundle = read_attestation(&mut dev)?;
    let attested = attestation::verify(
        &bundle,
        &req.pinned_cas,
        &Expectation {
            slot: ROOT_SLOT,
            serial: Some(serial),
            public_key: &public_key,
            now: req.now,
        },
    )?;
    attestation::check_root_policy(&attested)?;
    Ok(Enrolment {
        serial,
        firmware: dev.version(),
        public_key,
        attestation: Some((bundle, attested)),
    })
}

/// Reads the attestation of slot 9c and the f9 certificate from the device.
pub fn read_attestation(dev: &mut Device) -> Result<AttestationBundle, HwError> {
    let serial = dev.serial();
    let cert = piv::attest(dev.yk(), SlotId::Signature)
        .map_err(|e| HwError::device(serial, "attestation (ATTEST 9c)", e))?;
    let f9 = dev
        .yk()
        .fetch_object(F9_CERT_OBJECT)
        .map_err(|e| HwError::device(serial, "reading the f9 certificate", e))?;
    Ok(AttestationBundle {
        attestation_der: cert.to_vec(),
        chain_der: vec![cert_from_piv_object(&f9)],
    })
}

/// Imports a software P-256 key into slot 9c. Refused unless `allow_unattested`: an
/// imported key cannot be attested, and the result says so (`attestation: None`).
pub fn import_unattested(
    req: &EnrolRequest,
    pkcs8_der: &[u8],
    allow_unattested: bool,
) -> Result<Enrolment, HwError> {
    use p256::pkcs8::DecodePrivateKey as _;
    if !allow_unattested {
        return Err(HwError::ImportRefused);
    }
    check_root_policy(req.pin_policy, req.touch_policy)?;
    let key = p256::ecdsa::SigningKey::from_pkcs8_der(pkcs8_der)
        .map_err(|_| HwError::Prompt("the key to import is not a P-256 PKCS#8 key".into()))?;
    let mut dev = Device::open(Some(req.serial))?;
    let serial = dev.serial();
    check_slot_free(&mut dev, req)?;
    prepare(&mut dev, req)?;
    let scalar = zeroize::Zeroizing::new(key.to_bytes().to_vec());
    piv::import_ecc_key(
        dev.yk(),
        SlotId::Signature,
        AlgorithmId::EccP256,
        &scalar,
        req.touch_policy.to_yubikey(),
        req.pin_policy.to_yubikey(),
    )
    .map_err(|e| HwError::device(serial, "key import", e))?;
    let public_key = PublicKey::EcdsaP256(*key.verifying_key());
    Ok(Enrolment {
        serial,
        firmware: dev.version(),
        public_key,
        attestation: None,
    })
}
