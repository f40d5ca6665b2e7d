//! Encryption at rest of server-held private keys.
//!
//! A key-encryption key (KEK) is derived from an operator passphrase (environment or file,
//! never the database, never logged) with Argon2id and a salt stored in the database; each
//! private key is sealed with ChaCha20-Poly1305 under a random nonce. A sealed check value
//! detects a wrong passphrase at start-up instead of at the first signature.

use argon2::Argon2;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand_core::{OsRng, RngCore};
use zeroize::Zeroizing;

use crate::storage::{KekParams, MetadataStore, StoreError};

const CHECK_PLAINTEXT: &[u8] = b"notary-rs key-encryption check v1";
const NONCE_LEN: usize = 12;
const SALT_LEN: usize = 16;

/// Why the vault cannot be opened or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// The passphrase does not open the stored check value.
    #[error("the key-encryption passphrase is wrong for this database")]
    WrongPassphrase,
    /// The passphrase is empty or too short.
    #[error("the key-encryption passphrase must be at least 12 characters")]
    WeakPassphrase,
    /// A sealed key does not decrypt (corrupt or sealed under another passphrase).
    #[error("a sealed key could not be decrypted")]
    Corrupt,
    /// Key derivation failed.
    #[error("key derivation failed")]
    Kdf,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Seals and opens server-held private keys.
pub struct Vault {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(..)")
    }
}

impl Vault {
    /// Derives the KEK from `passphrase` and the store's salt (creating the salt and check
    /// value on first use) and verifies it.
    ///
    /// # Errors
    /// [`VaultError::WrongPassphrase`] when the database was sealed under another passphrase.
    pub async fn open<S: MetadataStore>(store: &S, passphrase: &str) -> Result<Self, VaultError> {
        if passphrase.chars().count() < 12 {
            return Err(VaultError::WeakPassphrase);
        }
        let params = match store.kek_params().await? {
            Some(p) => p,
            None => {
                let mut salt = vec![0u8; SALT_LEN];
                OsRng.fill_bytes(&mut salt);
                let vault = Self::derive(passphrase, &salt)?;
                let check = vault.seal(CHECK_PLAINTEXT)?;
                store.init_kek_params(KekParams { salt, check }).await?
            }
        };
        let vault = Self::derive(passphrase, &params.salt)?;
        match vault.unseal(&params.check) {
            Ok(p) if p.as_slice() == CHECK_PLAINTEXT => Ok(vault),
            _ => Err(VaultError::WrongPassphrase),
        }
    }

    fn derive(passphrase: &str, salt: &[u8]) -> Result<Self, VaultError> {
        let mut key = Zeroizing::new([0u8; 32]);
        Argon2::default()
            .hash_password_into(passphrase.as_bytes(), salt, key.as_mut())
            .map_err(|_| VaultError::Kdf)?;
        Ok(Self {
            cipher: ChaCha20Poly1305::new(Key::from_slice(key.as_ref())),
        })
    }

    /// Seals `plaintext`: random nonce || ciphertext+tag.
    ///
    /// # Errors
    /// [`VaultError::Corrupt`] if the cipher refuses the input (only for absurd sizes).
    pub fn seal(&self, plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let ct = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plaintext)
            .map_err(|_| VaultError::Corrupt)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Opens a sealed value.
    ///
    /// # Errors
    /// [`VaultError::Corrupt`] if it does not authenticate.
    pub fn unseal(&self, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        if sealed.len() < NONCE_LEN {
            return Err(VaultError::Corrupt);
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), ct)
            .map(Zeroizing::new)
            .map_err(|_| VaultError::Corrupt)
    }
}
