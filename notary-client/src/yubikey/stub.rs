//! Device key stubs: what the trust directory records about a root key held by a YubiKey.
//!
//! A stub is `<trust_dir>/private/yubikey/<key id>.json`, mode 0600, with no secret in it:
//! the device serial and slot, the public key, the PIN/touch policies, and the attestation
//! evidence (PEM: attestation certificate then the device's `f9` certificate) or
//! `"unattested"`. The key id is the plain Notary key id of the public key, the same id a
//! software root key's file would have, so `key list` and rotations find keys the same way.
//! Go `notary` only reads `*.key` files, so the trust directory stays usable by Go for its
//! own keys.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tuf_core::crypto::{Key, PublicKey};
use tuf_core::Dialect;

use super::YubiKeyCliError;
use crate::trustdir::write_private_file;

/// The `type` member of a stub file.
pub const STUB_TYPE: &str = "notary-rs/yubikey-key";

/// What the trust directory knows about one device-held key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceKeyStub {
    /// Always [`STUB_TYPE`].
    #[serde(rename = "type")]
    pub kind: String,
    /// The plain Notary key id of the public key (the file name).
    pub key_id: String,
    /// The role the key serves (`root`).
    pub role: String,
    /// The collections whose root lists this key (informative).
    #[serde(default)]
    pub guns: Vec<String>,
    /// The device serial.
    pub serial: u32,
    /// The PIV slot, as hex (`9c`).
    pub slot: String,
    /// The device firmware, `major.minor.patch`.
    pub firmware: String,
    /// The SubjectPublicKeyInfo PEM of the key.
    pub public_key: String,
    /// The slot's PIN policy (`always`, `once`).
    pub pin_policy: String,
    /// The slot's touch policy (`always`).
    pub touch_policy: String,
    /// The attestation evidence PEM, or `"unattested"`.
    pub attestation: String,
    /// The subject of the pinned CA the attestation chained to (empty when unattested).
    #[serde(default)]
    pub attestation_ca: String,
}

impl DeviceKeyStub {
    /// The public key.
    ///
    /// # Errors
    /// A malformed PEM.
    pub fn public(&self) -> Result<PublicKey, YubiKeyCliError> {
        PublicKey::from_spki_pem(&self.public_key).map_err(|e| YubiKeyCliError::File {
            path: format!("stub {}", self.key_id),
            reason: format!("public key: {e}"),
        })
    }

    /// Whether the key was attested when it was recorded.
    pub fn is_attested(&self) -> bool {
        self.attestation != "unattested"
    }
}

/// The plain Notary key id of `public`.
pub fn key_id_of(public: &PublicKey) -> String {
    Key::from_public_key(Dialect::Notary, public.clone())
        .key_id()
        .to_hex()
}

/// The stubs of one trust directory.
#[derive(Clone, Debug)]
pub struct StubStore {
    dir: PathBuf,
}

fn valid_key_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

impl StubStore {
    /// The stubs under `<trust_dir>/private/yubikey/` (nothing is created until a save).
    pub fn new(trust_dir: &Path) -> Self {
        Self {
            dir: trust_dir.join("private").join("yubikey"),
        }
    }

    /// The stub directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key_id: &str) -> PathBuf {
        self.dir.join(format!("{key_id}.json"))
    }

    /// Every readable stub, sorted by key id (unreadable files are skipped).
    pub fn list(&self) -> Vec<DeviceKeyStub> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut out: Vec<DeviceKeyStub> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let id = name.strip_suffix(".json")?.to_owned();
                valid_key_id(&id).then_some(id)
            })
            .filter_map(|id| self.get(&id).ok().flatten())
            .collect();
        out.sort_by(|a, b| a.key_id.cmp(&b.key_id));
        out
    }

    /// The stub of `key_id`, if there is one.
    ///
    /// # Errors
    /// An unreadable or malformed stub.
    pub fn get(&self, key_id: &str) -> Result<Option<DeviceKeyStub>, YubiKeyCliError> {
        if !valid_key_id(key_id) {
            return Ok(None);
        }
        let path = self.path(key_id);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(YubiKeyCliError::File {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                })
            }
        };
        let stub: DeviceKeyStub =
            serde_json::from_str(&text).map_err(|e| YubiKeyCliError::File {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
        if stub.kind != STUB_TYPE || stub.key_id != key_id {
            return Err(YubiKeyCliError::File {
                path: path.display().to_string(),
                reason: "not a YubiKey key stub for this key id".into(),
            });
        }
        Ok(Some(stub))
    }

    /// The stub of the root key on the device with `serial`, if one is recorded.
    pub fn by_serial(&self, serial: u32) -> Option<DeviceKeyStub> {
        self.list().into_iter().find(|s| s.serial == serial)
    }

    /// Writes `stub` (atomically, mode 0600; directories 0700).
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn save(&self, stub: &DeviceKeyStub) -> Result<(), YubiKeyCliError> {
        if !valid_key_id(&stub.key_id) {
            return Err(YubiKeyCliError::Refused(format!(
                "invalid key id {:?}",
                stub.key_id
            )));
        }
        let path = self.path(&stub.key_id);
        let mut text = serde_json::to_string_pretty(stub).map_err(|e| YubiKeyCliError::File {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        text.push('\n');
        write_private_file(&path, text.as_bytes()).map_err(|e| YubiKeyCliError::File {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
    }

    /// Removes the stub of `key_id` (absent is fine).
    ///
    /// # Errors
    /// The file exists and cannot be removed.
    pub fn remove(&self, key_id: &str) -> Result<(), YubiKeyCliError> {
        match std::fs::remove_file(self.path(key_id)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(YubiKeyCliError::File {
                path: self.path(key_id).display().to_string(),
                reason: e.to_string(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use tuf_core::crypto::{Signer as _, SoftwareSigner};

    #[test]
    fn save_list_get_round_trip_private_modes() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let store = StubStore::new(dir.path());
        assert!(store.list().is_empty());
        let pk = SoftwareSigner::generate_p256().public_key().clone();
        let stub = DeviceKeyStub {
            kind: STUB_TYPE.into(),
            key_id: key_id_of(&pk),
            role: "root".into(),
            guns: vec!["example.com/app".into()],
            serial: 7,
            slot: "9c".into(),
            firmware: "5.7.1".into(),
            public_key: pk.to_spki_pem(),
            pin_policy: "always".into(),
            touch_policy: "always".into(),
            attestation: "unattested".into(),
            attestation_ca: String::new(),
        };
        store.save(&stub).unwrap();
        assert_eq!(store.list(), vec![stub.clone()]);
        assert_eq!(store.by_serial(7), Some(stub.clone()));
        assert_eq!(
            store.get(&stub.key_id).unwrap().unwrap().public().unwrap(),
            pk
        );
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(store.dir()), 0o700);
        assert_eq!(mode(&store.path(&stub.key_id)), 0o600);
        store.remove(&stub.key_id).unwrap();
        assert!(store.list().is_empty());
    }
}
