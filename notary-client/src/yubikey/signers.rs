//! Device signers for root keys: reading a device's root key (with its attestation) into a
//! stub, and opening the signer of a stub whose device is connected.

use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use hw_signer::attestation::{self, Expectation, PinnedCas};
use hw_signer::enrol::read_attestation;
use hw_signer::{list_devices, root_slot_key, Device, HwError, YubiKeySigner, ROOT_SLOT};

use super::prompt::CliPrompt;
use super::stub::{key_id_of, DeviceKeyStub, STUB_TYPE};
use super::YubiKeyCliError;

/// The environment variable naming a PEM file of CA certificates to pin for device
/// attestations instead of Yubico's PIV root CA (the `--attestation-ca` flag wins).
pub const ATTESTATION_CA_ENV: &str = "NOTARY_YUBIKEY_ATTESTATION_CA";

/// The CAs device attestations must chain to: the PEM file `path` (or
/// `$NOTARY_YUBIKEY_ATTESTATION_CA`), else Yubico's PIV root CA.
///
/// # Errors
/// The file cannot be read or holds no certificate.
pub fn pinned_cas(path: Option<&Path>) -> Result<PinnedCas, YubiKeyCliError> {
    let from_env = std::env::var_os(ATTESTATION_CA_ENV).map(std::path::PathBuf::from);
    let Some(path) = path.map(Path::to_path_buf).or(from_env) else {
        return Ok(PinnedCas::yubico());
    };
    let pem = std::fs::read_to_string(&path).map_err(|e| YubiKeyCliError::File {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    PinnedCas::from_pem(&pem).map_err(|e| YubiKeyCliError::File {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// Serials of the YubiKeys connected now (none when pcscd has no reader).
///
/// # Errors
/// pcscd is not reachable or a reader fails.
pub fn connected_serials() -> Result<Vec<u32>, YubiKeyCliError> {
    match list_devices() {
        Ok(devs) => Ok(devs.into_iter().map(|d| d.serial).collect()),
        Err(HwError::NoDevice { .. }) => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

fn fmt_version(v: (u8, u8, u8)) -> String {
    format!("{}.{}.{}", v.0, v.1, v.2)
}

/// Reads the root key in slot 9c of the YubiKey with `serial` and its attestation, checks
/// the policies (touch ALWAYS, PIN ALWAYS or ONCE) and the attestation against `cas`
/// (chain, serial, slot, policies, public key), and returns the stub to record. Nothing is
/// signed (no touch).
///
/// # Errors
/// No such device, empty slot, refused policy, an attestation that does not verify.
pub fn read_device_key(
    serial: u32,
    cas: &PinnedCas,
    now: SystemTime,
) -> Result<DeviceKeyStub, YubiKeyCliError> {
    let mut dev = Device::open(Some(serial))?;
    let (_, public) = root_slot_key(&mut dev)?;
    let bundle = read_attestation(&mut dev)?;
    let attested = attestation::verify(
        &bundle,
        cas,
        &Expectation {
            slot: ROOT_SLOT,
            serial: Some(serial),
            public_key: &public,
            now,
        },
    )
    .and_then(|a| attestation::check_root_policy(&a).map(|()| a))
    .map_err(|source| YubiKeyCliError::Attestation { serial, source })?;
    let evidence = bundle
        .to_pem()
        .map_err(|source| YubiKeyCliError::Attestation { serial, source })?;
    Ok(DeviceKeyStub {
        kind: STUB_TYPE.into(),
        key_id: key_id_of(&public),
        role: "root".into(),
        guns: Vec::new(),
        serial,
        slot: format!("{ROOT_SLOT:02x}"),
        firmware: fmt_version(dev.version()),
        public_key: public.to_spki_pem(),
        pin_policy: attested.pin_policy.to_string(),
        touch_policy: attested.touch_policy.to_string(),
        attestation: evidence,
        attestation_ca: attested.ca_subject,
    })
}

/// Opens the signer of `stub`'s key (its device must be connected), checking that the
/// device still holds that key with root policies. No signature is made.
///
/// # Errors
/// The device is missing, holds another key, or its slot policies are refused.
pub fn open_signer(
    stub: &DeviceKeyStub,
    prompt: Arc<CliPrompt>,
) -> Result<YubiKeySigner, YubiKeyCliError> {
    if stub.slot != format!("{ROOT_SLOT:02x}") {
        return Err(YubiKeyCliError::Refused(format!(
            "key {} is in slot {} of YubiKey {}: only slot 9c root keys are supported",
            stub.key_id, stub.slot, stub.serial
        )));
    }
    let public = stub.public()?;
    Ok(YubiKeySigner::open(stub.serial, Some(&public), prompt)?)
}

/// Refuses a threshold of 2 or more whose keys share a device: a threshold must mean
/// distinct devices and distinct touches.
///
/// # Errors
/// Two serials are equal (and `threshold >= 2`).
pub fn check_distinct(serials: &[u32], threshold: u32) -> Result<(), YubiKeyCliError> {
    let mut seen = std::collections::BTreeSet::new();
    for s in serials {
        if !seen.insert(*s) {
            if threshold >= 2 {
                return Err(YubiKeyCliError::Refused(format!(
                    "YubiKey {s} is named twice: a root threshold of {threshold} needs \
                     {threshold} distinct devices (one key per device)"
                )));
            }
            return Err(YubiKeyCliError::Refused(format!(
                "YubiKey {s} is named twice"
            )));
        }
    }
    Ok(())
}
