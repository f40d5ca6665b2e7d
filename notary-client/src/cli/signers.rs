//! The signers a command can use for a set of key ids: software keys from the key store and,
//! with the `yubikey` feature, root keys on connected YubiKeys (from their stubs).

use tuf_core::crypto::Signer;

use super::commands::Fatal;
use super::context::Context;

type Result<T> = std::result::Result<T, Fatal>;

/// Signers found for some key ids, and the device-held keys whose device is not connected.
#[derive(Default)]
pub(super) struct Found {
    /// The usable signers.
    pub signers: Vec<Box<dyn Signer>>,
    /// `(key id, serial)` of device-held keys whose YubiKey is not connected.
    pub missing_devices: Vec<(String, u32)>,
}

impl Found {
    /// "(YubiKey N holding root key K is not connected; ...)", or "".
    pub fn missing_note(&self) -> String {
        if self.missing_devices.is_empty() {
            return String::new();
        }
        let list: Vec<String> = self
            .missing_devices
            .iter()
            .map(|(id, serial)| format!("YubiKey {serial} holding key {id} is not connected"))
            .collect();
        format!(" ({})", list.join("; "))
    }
}

/// One device-held key for `key list`.
pub(super) struct DeviceKeyRow {
    pub role: String,
    pub guns: Vec<String>,
    pub key_id: String,
    pub serial: u32,
    pub slot: String,
    pub attested: bool,
}

impl DeviceKeyRow {
    /// `yubikey 12345678 slot 9c (attested)`.
    pub fn location(&self) -> String {
        format!(
            "yubikey {} slot {} ({})",
            self.serial,
            self.slot,
            if self.attested {
                "attested"
            } else {
                "unattested"
            }
        )
    }
}

/// The device-held keys the trust directory records.
#[cfg(feature = "yubikey")]
pub(super) fn device_keys(ctx: &Context) -> Vec<DeviceKeyRow> {
    crate::yubikey::stub::StubStore::new(&ctx.cfg.trust_dir)
        .list()
        .into_iter()
        .map(|s| DeviceKeyRow {
            attested: s.is_attested(),
            role: s.role,
            guns: s.guns,
            key_id: s.key_id,
            serial: s.serial,
            slot: s.slot,
        })
        .collect()
}

/// The device-held keys the trust directory records (none without YubiKey support).
#[cfg(not(feature = "yubikey"))]
pub(super) fn device_keys(_ctx: &Context) -> Vec<DeviceKeyRow> {
    Vec::new()
}

/// The signers among `ids` (plain Notary key ids): key-store keys (decrypted with the
/// passphrase retriever) and keys on connected YubiKeys. No device is asked to sign.
pub(super) fn find(ctx: &mut Context, ids: &[String]) -> Result<Found> {
    let have: Vec<String> = ctx.keystore.list().into_iter().map(|k| k.key_id).collect();
    let mut found = Found::default();
    #[cfg(feature = "yubikey")]
    let stubs = crate::yubikey::stub::StubStore::new(&ctx.cfg.trust_dir);
    #[cfg(feature = "yubikey")]
    let mut connected: Option<Vec<u32>> = None;
    for id in ids {
        if have.contains(id) {
            found.signers.push(Box::new(ctx.load_key(id)?));
            continue;
        }
        #[cfg(feature = "yubikey")]
        if let Some(stub) = stubs.get(id)? {
            let serials = match &connected {
                Some(c) => c,
                // No pcscd means no device connected: software keys may still suffice.
                None => connected
                    .insert(crate::yubikey::signers::connected_serials().unwrap_or_default()),
            };
            if serials.contains(&stub.serial) {
                let signer = crate::yubikey::signers::open_signer(&stub, ctx.yubikey_prompt())?;
                found.signers.push(Box::new(signer));
            } else {
                found.missing_devices.push((id.clone(), stub.serial));
            }
        }
    }
    Ok(found)
}
