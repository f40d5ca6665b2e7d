//! Finding YubiKeys over PC/SC and opening one by serial.

use yubikey::piv::{self, ManagementSlotId, SlotId};
use yubikey::reader::Context;
use yubikey::YubiKey;

use crate::error::HwError;
use crate::policy::{PinPolicy, TouchPolicy};
use crate::secret::MgmAlgorithm;

/// A YubiKey seen on a PC/SC reader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// The device serial.
    pub serial: u32,
    /// The PIV application's firmware version.
    pub version: (u8, u8, u8),
    /// The PC/SC reader name.
    pub reader: String,
}

/// Where a slot's key came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyOrigin {
    /// Generated on the device (attestable).
    Generated,
    /// Imported from outside (not attestable).
    Imported,
}

/// What GET METADATA says about a key slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotInfo {
    /// Whether the slot holds an ECC P-256 key.
    pub p256: bool,
    /// The PIN policy.
    pub pin_policy: PinPolicy,
    /// The touch policy.
    pub touch_policy: TouchPolicy,
    /// Generated or imported.
    pub origin: Option<KeyOrigin>,
    /// The SEC1 public point.
    pub public_point: Option<Vec<u8>>,
}

/// What GET METADATA says about the PIN, the PUK or the management key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CredentialStatus {
    /// Still the factory default.
    pub is_default: bool,
    /// Attempts left (PIN and PUK).
    pub retries_left: Option<u8>,
    /// The management key's algorithm.
    pub algorithm: Option<MgmAlgorithm>,
}

/// An open YubiKey. Dropping it resets the card (the PIN verification is forgotten).
pub struct Device {
    yk: YubiKey,
    reader: String,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("serial", &self.serial())
            .field("reader", &self.reader)
            .finish_non_exhaustive()
    }
}

fn context() -> Result<Context, HwError> {
    Context::open().map_err(|e| match e {
        yubikey::Error::PcscError {
            inner: Some(pcsc::Error::NoReadersAvailable),
        } => HwError::NoDevice {
            readers: Vec::new(),
        },
        e => HwError::device(0, "PC/SC context", e),
    })
}

fn version_of(yk: &YubiKey) -> (u8, u8, u8) {
    let v = yk.version();
    (v.major, v.minor, v.patch)
}

fn release(yk: YubiKey) {
    // Leave other cards as they are (the crate's Drop would reset them).
    let _ = yk.disconnect(pcsc::Disposition::LeaveCard);
}

/// Every YubiKey reachable through pcscd (readers without a usable card are skipped).
pub fn list_devices() -> Result<Vec<DeviceInfo>, HwError> {
    let mut ctx = context()?;
    let readers = ctx
        .iter()
        .map_err(|e| HwError::device(0, "listing PC/SC readers", e))?;
    let mut out = Vec::new();
    for reader in readers {
        if let Ok(yk) = reader.open() {
            out.push(DeviceInfo {
                serial: yk.serial().0,
                version: version_of(&yk),
                reader: reader.name().into_owned(),
            });
            release(yk);
        }
    }
    Ok(out)
}

impl Device {
    /// Opens the YubiKey with `serial`, or the only one connected when `serial` is `None`
    /// (an error names the serials when there are several).
    pub fn open(serial: Option<u32>) -> Result<Self, HwError> {
        let mut ctx = context()?;
        let readers = ctx
            .iter()
            .map_err(|e| HwError::device(0, "listing PC/SC readers", e))?;
        let mut found: Vec<Self> = Vec::new();
        let mut empty_readers = Vec::new();
        for reader in readers {
            let name = reader.name().into_owned();
            match reader.open() {
                Ok(yk) if serial.is_none_or(|s| s == yk.serial().0) => {
                    found.push(Self { yk, reader: name });
                    if serial.is_some() {
                        break;
                    }
                }
                Ok(other) => {
                    empty_readers.push(name);
                    found.push(Self {
                        yk: other,
                        reader: String::new(),
                    });
                }
                Err(_) => empty_readers.push(name),
            }
        }
        let serials: Vec<u32> = found.iter().map(Self::serial).collect();
        let mut matching: Vec<Self> = Vec::new();
        for dev in found {
            if serial.is_none_or(|s| s == dev.serial()) {
                matching.push(dev);
            } else {
                release(dev.yk);
            }
        }
        match (serial, matching.len()) {
            (_, 1) => Ok(matching.remove(0)),
            (Some(s), _) => Err(HwError::SerialNotFound {
                serial: s,
                connected: serials,
            }),
            (None, 0) => Err(HwError::NoDevice {
                readers: empty_readers,
            }),
            (None, _) => {
                for dev in matching {
                    release(dev.yk);
                }
                Err(HwError::SeveralDevices { serials })
            }
        }
    }

    /// The serial.
    pub fn serial(&self) -> u32 {
        self.yk.serial().0
    }

    /// The firmware version.
    pub fn version(&self) -> (u8, u8, u8) {
        version_of(&self.yk)
    }

    /// The PC/SC reader name.
    pub fn reader(&self) -> &str {
        &self.reader
    }

    pub(crate) fn yk(&mut self) -> &mut YubiKey {
        &mut self.yk
    }

    fn require_metadata(&self) -> Result<(), HwError> {
        let (major, minor, patch) = self.version();
        if (major, minor) < (5, 3) {
            return Err(HwError::FirmwareTooOld {
                serial: self.serial(),
                major,
                minor,
                patch,
            });
        }
        Ok(())
    }

    /// GET METADATA of a key slot; `Ok(None)` when the slot is empty.
    pub fn slot_info(&mut self, slot: u8) -> Result<Option<SlotInfo>, HwError> {
        self.require_metadata()?;
        let serial = self.serial();
        let slot_id =
            SlotId::try_from(slot).map_err(|e| HwError::device(serial, "slot metadata", e))?;
        let md = match piv::metadata(&mut self.yk, slot_id) {
            Ok(md) => md,
            Err(yubikey::Error::NotFound) => return Ok(None),
            Err(e) => return Err(HwError::device(serial, "slot metadata", e)),
        };
        let (pin_policy, touch_policy) = md
            .policy
            .map(|(p, t)| (PinPolicy::from_yubikey(p), TouchPolicy::from_yubikey(t)))
            .unwrap_or((PinPolicy::Default, TouchPolicy::Default));
        let p256 = md.algorithm == piv::SlotAlgorithmId::Asymmetric(piv::AlgorithmId::EccP256);
        Ok(Some(SlotInfo {
            p256,
            pin_policy,
            touch_policy,
            origin: md.origin.map(|o| match o {
                piv::Origin::Generated => KeyOrigin::Generated,
                piv::Origin::Imported => KeyOrigin::Imported,
            }),
            public_point: md
                .public
                .map(|spki| spki.subject_public_key.raw_bytes().to_vec()),
        }))
    }

    /// GET METADATA of the PIN, the PUK or the management key.
    pub fn credential_status(
        &mut self,
        which: crate::error::Credential,
    ) -> Result<CredentialStatus, HwError> {
        use crate::error::Credential;
        self.require_metadata()?;
        let serial = self.serial();
        let id = match which {
            Credential::Pin => ManagementSlotId::Pin,
            Credential::Puk => ManagementSlotId::Puk,
            Credential::ManagementKey => ManagementSlotId::Management,
        };
        let md = piv::metadata(&mut self.yk, SlotId::Management(id))
            .map_err(|e| HwError::device(serial, "credential metadata", e))?;
        let algorithm = match md.algorithm {
            piv::SlotAlgorithmId::Management(a) => Some(match a {
                yubikey::MgmAlgorithmId::ThreeDes => MgmAlgorithm::TripleDes,
                yubikey::MgmAlgorithmId::Aes128 => MgmAlgorithm::Aes128,
                yubikey::MgmAlgorithmId::Aes192 => MgmAlgorithm::Aes192,
                yubikey::MgmAlgorithmId::Aes256 => MgmAlgorithm::Aes256,
            }),
            _ => None,
        };
        Ok(CredentialStatus {
            is_default: md.default.unwrap_or(false),
            retries_left: md.retries.map(|r| r.remaining_count),
            algorithm,
        })
    }
}
