//! The private-key store: `<trust_dir>/private/<key id>.key`, one encrypted PKCS#8 PEM
//! per key, byte-compatible with Go `notary` 0.7 in both directions.
//!
//! File format (what Go writes and reads):
//!
//! ```text
//! -----BEGIN ENCRYPTED PRIVATE KEY-----
//! gun: example.com/app            (targets, snapshot and timestamp keys only)
//! role: targets
//!
//! <base64 EncryptedPrivateKeyInfo, 64-char lines>
//! -----END ENCRYPTED PRIVATE KEY-----
//! ```
//!
//! Headers are sorted by name (Go's `pem.Encode`), so `gun:` precedes `role:`. The
//! encryption is PBES2 / PBKDF2-hmacWithSHA1 / AES-256-CBC (see [`encrypt_pkcs8`]); Go
//! hard-codes SHA-1 and AES-256-CBC when reading, so that is the only form we write.
//! The file name is the Notary key id of the public key (for root keys too: the plain
//! `ecdsa` id, not the `ecdsa-x509` certificate id root.json lists).
//!
//! Files are created 0600 in a 0700 directory whatever the umask, atomically (temporary
//! file, fsync, rename); decrypted key bytes live in [`Zeroizing`] buffers.

pub(crate) mod pem;
pub(crate) mod pkcs8;

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use rand_core::RngCore as _;
use tuf_core::crypto::{Key, Signer as _, SoftwareSigner};
use tuf_core::Dialect;
use zeroize::Zeroizing;

pub use self::pkcs8::{decrypt_pkcs8, encrypt_pkcs8, PBKDF2_ITERATIONS};
use crate::passphrase::PassphraseRetriever;

/// Name of the key directory inside a trust directory.
pub const PRIVATE_DIR: &str = "private";
/// Hard cap on passphrase attempts, whatever the retriever says (Go also stops after 10).
const MAX_ATTEMPTS: u32 = 10;
const LABEL_ENCRYPTED: &str = "ENCRYPTED PRIVATE KEY";
const LABEL_PKCS8: &str = "PRIVATE KEY";
const LABEL_SEC1: &str = "EC PRIVATE KEY";

/// Errors of the key store and of passphrase retrieval.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyStoreError {
    /// The passphrase does not decrypt the key.
    #[error("wrong passphrase for {role} key {key_id}")]
    WrongPassphrase {
        /// The key id (file name without `.key`).
        key_id: String,
        /// The key's role.
        role: String,
    },
    /// No (further) passphrase is available: no env variable, no tty, or too many tries.
    #[error("maximum number of passphrase attempts exceeded (no passphrase for the {role} key: set the environment variable or use a terminal)")]
    NoPassphrase {
        /// The role whose passphrase was asked for.
        role: String,
    },
    /// No key file with this id.
    #[error("private key {key_id} not found")]
    NotFound {
        /// The key id asked for.
        key_id: String,
    },
    /// A key file (or PEM input) that cannot be parsed.
    #[error("malformed private key {path}: {reason}")]
    Malformed {
        /// The file (empty or `<input>` when not from a file).
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A file-system error.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Something well-formed that we do not support (an algorithm, an empty passphrase…).
    #[error("unsupported: {reason}")]
    Unsupported {
        /// What is not supported.
        reason: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> KeyStoreError + '_ {
    move |source| KeyStoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn with_path(e: KeyStoreError, path: &Path) -> KeyStoreError {
    match e {
        KeyStoreError::Malformed { reason, .. } => KeyStoreError::Malformed {
            path: path.display().to_string(),
            reason,
        },
        other => other,
    }
}

/// What the store knows about one key file without decrypting it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyInfo {
    /// The key id (file name without `.key`).
    pub key_id: String,
    /// The `role:` header (`""` when the file has none).
    pub role: String,
    /// The `gun:` header, if any (targets/snapshot/timestamp keys).
    pub gun: Option<String>,
    /// The key file.
    pub path: PathBuf,
}

/// The Notary key id (hex) of `signer`'s public key: the name of its key file.
pub fn key_id_of(signer: &SoftwareSigner) -> String {
    Key::from_public_key(Dialect::Notary, signer.public_key().clone())
        .key_id()
        .to_hex()
}

/// Go keeps a `gun:` header only for targets, snapshot and timestamp keys.
fn keeps_gun(role: &str) -> bool {
    matches!(role, "targets" | "snapshot" | "timestamp")
}

fn valid_key_id(key_id: &str) -> bool {
    !key_id.is_empty()
        && key_id.len() <= 128
        && key_id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn check_role(role: &str) -> Result<(), KeyStoreError> {
    if role.is_empty() || role.chars().any(|c| c.is_control() || c == ':') {
        return Err(KeyStoreError::Unsupported {
            reason: format!("role name {role:?}"),
        });
    }
    Ok(())
}

/// The private keys of one trust directory (`<trust_dir>/private`).
#[derive(Debug, Clone)]
pub struct KeyStore {
    dir: PathBuf,
}

impl KeyStore {
    /// Opens (creating if needed) `<trust_dir>/private`, and makes it mode 0700 whatever
    /// the umask or its previous mode.
    pub fn open(trust_dir: impl AsRef<Path>) -> Result<KeyStore, KeyStoreError> {
        let trust_dir = trust_dir.as_ref();
        if !trust_dir.exists() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(trust_dir)
                .map_err(io_err(trust_dir))?;
            fs::set_permissions(trust_dir, fs::Permissions::from_mode(0o700))
                .map_err(io_err(trust_dir))?;
        }
        let dir = trust_dir.join(PRIVATE_DIR);
        match fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => {}
            Err(e) => return Err(io_err(&dir)(e)),
        }
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).map_err(io_err(&dir))?;
        Ok(KeyStore { dir })
    }

    /// The `private/` directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The path of key `key_id`'s file.
    pub fn key_path(&self, key_id: &str) -> PathBuf {
        self.dir.join(format!("{key_id}.key"))
    }

    /// Every `*.key` file, sorted by key id. A file that cannot be read or parsed is left
    /// out (see [`KeyStore::list_checked`] for which); one without a `role:` header is
    /// listed with role `""`.
    pub fn list(&self) -> Vec<KeyInfo> {
        self.list_checked().0
    }

    /// Like [`KeyStore::list`], also returning one error per file that was left out (and
    /// for an unreadable directory).
    pub fn list_checked(&self) -> (Vec<KeyInfo>, Vec<KeyStoreError>) {
        let mut keys = Vec::new();
        let mut problems = Vec::new();
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) => {
                problems.push(io_err(&self.dir)(e));
                return (keys, problems);
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    problems.push(io_err(&self.dir)(e));
                    continue;
                }
            };
            let path = entry.path();
            let Some(key_id) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".key"))
                .map(str::to_string)
            else {
                continue;
            };
            if !path.is_file() || key_id.starts_with('.') {
                continue;
            }
            match read_info(&path, key_id) {
                Ok(info) => keys.push(info),
                Err(e) => problems.push(e),
            }
        }
        keys.sort_by(|a, b| a.key_id.cmp(&b.key_id));
        (keys, problems)
    }

    /// Keys for `role` (and `gun`), as Go selects them: root keys and delegation (or
    /// other non-base) keys by role only; targets/snapshot/timestamp keys by role and,
    /// when `gun` is given, by gun.
    pub fn find(&self, role: &str, gun: Option<&str>) -> Vec<KeyInfo> {
        self.list()
            .into_iter()
            .filter(|k| k.role == role)
            .filter(|k| match gun {
                Some(g) if keeps_gun(role) => k.gun.as_deref() == Some(g),
                _ => true,
            })
            .collect()
    }

    /// Encrypts `signer` with `passphrase` and writes it as `<key id>.key` (atomically,
    /// mode 0600). `gun` is recorded only for targets/snapshot/timestamp keys, as Go does.
    /// Returns the key id.
    pub fn save(
        &self,
        signer: &SoftwareSigner,
        role: &str,
        gun: Option<&str>,
        passphrase: &str,
    ) -> Result<String, KeyStoreError> {
        check_role(role)?;
        let gun = gun.filter(|g| keeps_gun(role) && !g.is_empty());
        if let Some(g) = gun {
            if g.chars().any(char::is_control) {
                return Err(KeyStoreError::Unsupported {
                    reason: format!("GUN {g:?}"),
                });
            }
        }
        let key_id = key_id_of(signer);
        let plain = pkcs8::go_pkcs8(signer)?;
        let der = encrypt_pkcs8(&plain, passphrase)?;
        let mut headers = vec![("role", role)];
        if let Some(g) = gun {
            headers.push(("gun", g));
        }
        let text = pem::encode(LABEL_ENCRYPTED, &headers, &der);
        self.write_atomic(&key_id, text.as_bytes())?;
        Ok(key_id)
    }

    /// Asks `passphrases` for a new passphrase for `role` (as Go's `AddKey` does) and
    /// saves `signer` with it.
    pub fn save_with(
        &self,
        signer: &SoftwareSigner,
        role: &str,
        gun: Option<&str>,
        passphrases: &mut dyn PassphraseRetriever,
    ) -> Result<String, KeyStoreError> {
        let key_id = key_id_of(signer);
        let pass = passphrases.passphrase(&key_id, role, true, 0)?;
        self.save(signer, role, gun, &pass)
    }

    /// Writes `text` as key file `<key_id>.key` verbatim (atomically, mode 0600), as Go's
    /// importer stores an already encrypted block. `key_id` must be a plain file name.
    pub fn write_raw(&self, key_id: &str, text: &str) -> Result<(), KeyStoreError> {
        if key_id.is_empty()
            || key_id.starts_with('.')
            || key_id.contains(['/', '\\'])
            || key_id.chars().any(char::is_control)
        {
            return Err(KeyStoreError::Unsupported {
                reason: format!("key file name {key_id:?}"),
            });
        }
        self.write_atomic(key_id, text.as_bytes())
    }

    fn write_atomic(&self, key_id: &str, bytes: &[u8]) -> Result<(), KeyStoreError> {
        let final_path = self.key_path(key_id);
        let tmp = self.dir.join(format!(
            ".{key_id}.tmp-{:016x}",
            rand_core::OsRng.next_u64()
        ));
        let result = (|| {
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)
                .map_err(io_err(&tmp))?;
            f.set_permissions(fs::Permissions::from_mode(0o600))
                .map_err(io_err(&tmp))?;
            f.write_all(bytes).map_err(io_err(&tmp))?;
            f.sync_all().map_err(io_err(&tmp))?;
            fs::rename(&tmp, &final_path).map_err(io_err(&final_path))?;
            if let Ok(d) = fs::File::open(&self.dir) {
                let _ = d.sync_all();
            }
            Ok(())
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }

    /// Loads and decrypts key `key_id`, asking `passphrases` for the role's passphrase
    /// and asking again after a wrong one until the retriever gives up.
    pub fn load(
        &self,
        key_id: &str,
        passphrases: &mut dyn PassphraseRetriever,
    ) -> Result<(SoftwareSigner, KeyInfo), KeyStoreError> {
        if !valid_key_id(key_id) {
            return Err(KeyStoreError::NotFound {
                key_id: key_id.to_string(),
            });
        }
        let path = self.key_path(key_id);
        let text = match fs::read_to_string(&path) {
            Ok(t) => Zeroizing::new(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(KeyStoreError::NotFound {
                    key_id: key_id.to_string(),
                })
            }
            Err(e) => return Err(io_err(&path)(e)),
        };
        let block = pem::decode_first(&text).map_err(|reason| KeyStoreError::Malformed {
            path: path.display().to_string(),
            reason,
        })?;
        let info = KeyInfo {
            key_id: key_id.to_string(),
            role: block.header("role").unwrap_or_default().to_string(),
            gun: block.header("gun").map(str::to_string),
            path: path.clone(),
        };
        let signer = decode_block(&block, key_id, &info.role, passphrases)
            .map_err(|e| with_path(e, &path))?;
        if key_id_of(&signer) != key_id {
            return Err(KeyStoreError::Malformed {
                path: path.display().to_string(),
                reason: format!(
                    "the key inside is {}, not the key its file name says",
                    key_id_of(&signer)
                ),
            });
        }
        Ok((signer, info))
    }

    /// Deletes key `key_id`'s file.
    pub fn remove(&self, key_id: &str) -> Result<(), KeyStoreError> {
        if !valid_key_id(key_id) {
            return Err(KeyStoreError::NotFound {
                key_id: key_id.to_string(),
            });
        }
        let path = self.key_path(key_id);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(KeyStoreError::NotFound {
                key_id: key_id.to_string(),
            }),
            Err(e) => Err(io_err(&path)(e)),
        }
    }

    /// Imports a private key PEM as `notary key import` does: an unencrypted PKCS#8
    /// `PRIVATE KEY`, a SEC1 `EC PRIVATE KEY`, or an `ENCRYPTED PRIVATE KEY` (decrypted
    /// with the role's passphrase). `role` overrides the PEM's `role:` header (one of the
    /// two is required); `gun` likewise overrides `gun:`. The key is re-encrypted with a
    /// new passphrase for the role from `passphrases`. Returns the key id.
    pub fn import_pem(
        &self,
        pem_text: &str,
        role: Option<&str>,
        gun: Option<&str>,
        passphrases: &mut dyn PassphraseRetriever,
    ) -> Result<String, KeyStoreError> {
        let input = Path::new("<input>");
        let block = pem::decode_first(pem_text).map_err(|reason| KeyStoreError::Malformed {
            path: input.display().to_string(),
            reason,
        })?;
        let role = role
            .filter(|r| !r.is_empty())
            .or_else(|| block.header("role").filter(|r| !r.is_empty()))
            .ok_or_else(|| KeyStoreError::Malformed {
                path: input.display().to_string(),
                reason: "no role given and no role: header".into(),
            })?
            .to_string();
        check_role(&role)?;
        let gun = gun.or_else(|| block.header("gun")).map(str::to_string);
        let signer =
            decode_block(&block, "", &role, passphrases).map_err(|e| with_path(e, input))?;
        self.save_with(&signer, &role, gun.as_deref(), passphrases)
    }

    /// All key files concatenated (sorted by key id), as `notary key export` writes them.
    pub fn export_all(&self) -> Result<String, KeyStoreError> {
        let mut out = String::new();
        for k in self.list() {
            let text = fs::read_to_string(&k.path).map_err(io_err(&k.path))?;
            out.push_str(&text);
            if !text.ends_with('\n') {
                out.push('\n');
            }
        }
        Ok(out)
    }

    /// The public key as `notary key generate -o` writes `<prefix>.pem`:
    /// `-----BEGIN PUBLIC KEY-----`, a `role:` header and the SPKI.
    pub fn public_pem(signer: &SoftwareSigner, role: &str) -> String {
        pem::encode(
            "PUBLIC KEY",
            &[("role", role)],
            &signer.public_key().spki_der(),
        )
    }

    /// The encrypted private key PEM (with headers) for `signer`, as `notary key
    /// generate -o` writes `<prefix>-key.pem`; nothing is written to the store.
    pub fn encrypted_pem(
        signer: &SoftwareSigner,
        role: &str,
        gun: Option<&str>,
        passphrase: &str,
    ) -> Result<String, KeyStoreError> {
        check_role(role)?;
        let plain = pkcs8::go_pkcs8(signer)?;
        let der = encrypt_pkcs8(&plain, passphrase)?;
        let mut headers = vec![("role", role)];
        if let Some(g) = gun.filter(|g| keeps_gun(role) && !g.is_empty()) {
            headers.push(("gun", g));
        }
        Ok(pem::encode(LABEL_ENCRYPTED, &headers, &der))
    }
}

/// Reads a private key from the first PEM block of `text` (as `notary key rotate -k` does):
/// unencrypted PKCS#8 or SEC1, or encrypted PKCS#8 decrypted with `role`'s passphrase.
pub fn signer_from_pem(
    text: &str,
    role: &str,
    passphrases: &mut dyn PassphraseRetriever,
) -> Result<SoftwareSigner, KeyStoreError> {
    let block = pem::decode_first(text).map_err(|reason| KeyStoreError::Malformed {
        path: "<input>".into(),
        reason,
    })?;
    decode_block(&block, "", role, passphrases)
}

/// Reads a key file's headers without decrypting.
fn read_info(path: &Path, key_id: String) -> Result<KeyInfo, KeyStoreError> {
    let text = Zeroizing::new(fs::read_to_string(path).map_err(io_err(path))?);
    let block = pem::decode_first(&text).map_err(|reason| KeyStoreError::Malformed {
        path: path.display().to_string(),
        reason,
    })?;
    if !matches!(
        block.label.as_str(),
        LABEL_ENCRYPTED | LABEL_PKCS8 | LABEL_SEC1 | "RSA PRIVATE KEY" | "ED25519 PRIVATE KEY"
    ) {
        return Err(KeyStoreError::Malformed {
            path: path.display().to_string(),
            reason: format!("unknown key format {:?}", block.label),
        });
    }
    Ok(KeyInfo {
        key_id,
        role: block.header("role").unwrap_or_default().to_string(),
        gun: block.header("gun").map(str::to_string),
        path: path.to_path_buf(),
    })
}

/// Decodes a private key PEM block, decrypting with the role's passphrase if needed.
fn decode_block(
    block: &pem::PemBlock,
    key_id: &str,
    role: &str,
    passphrases: &mut dyn PassphraseRetriever,
) -> Result<SoftwareSigner, KeyStoreError> {
    if block.header("Proc-Type").is_some() {
        return Err(KeyStoreError::Unsupported {
            reason: "legacy OpenSSL-encrypted PEM (Proc-Type header); use PKCS#8".into(),
        });
    }
    match block.label.as_str() {
        LABEL_PKCS8 => pkcs8::signer_from_pkcs8(&block.der),
        LABEL_SEC1 => pkcs8::signer_from_sec1(&block.der),
        LABEL_ENCRYPTED => {
            let mut attempt = 0u32;
            loop {
                if attempt >= MAX_ATTEMPTS {
                    return Err(KeyStoreError::NoPassphrase {
                        role: role.to_string(),
                    });
                }
                let pass = passphrases.passphrase(key_id, role, false, attempt)?;
                match decrypt_pkcs8(&block.der, &pass) {
                    Ok(plain) => return pkcs8::signer_from_pkcs8(&plain),
                    Err(KeyStoreError::WrongPassphrase { .. }) => attempt += 1,
                    Err(e) => return Err(e),
                }
            }
        }
        other => Err(KeyStoreError::Unsupported {
            reason: format!("private key PEM type {other:?}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn gun_and_role_rules() {
        assert!(keeps_gun("targets") && keeps_gun("snapshot"));
        assert!(!keeps_gun("root") && !keeps_gun("targets/releases") && !keeps_gun("alice"));
        assert!(valid_key_id("ab01") && !valid_key_id("../x") && !valid_key_id(""));
        assert!(check_role("a:b").is_err() && check_role("").is_err());
    }
}
