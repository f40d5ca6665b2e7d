//! Secrets handed to the card: PIN, PUK and management key. Wiped on drop, never printed.

use std::fmt;

use zeroize::Zeroizing;

use crate::error::{Credential, HwError};

/// A PIN or PUK: 6 to 8 bytes, checked before anything is sent to the card.
#[derive(Clone)]
pub struct Pin(Zeroizing<Vec<u8>>);

impl Pin {
    /// A PIN from its bytes; refuses a wrong length locally (E06).
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, HwError> {
        Self::checked(Credential::Pin, bytes.into())
    }

    /// A PUK from its bytes; same rules as a PIN.
    pub fn new_puk(bytes: impl Into<Vec<u8>>) -> Result<Self, HwError> {
        Self::checked(Credential::Puk, bytes.into())
    }

    fn checked(which: Credential, bytes: Vec<u8>) -> Result<Self, HwError> {
        let bytes = Zeroizing::new(bytes);
        let len = bytes.len();
        // 0xFF is the padding byte on the wire, so it cannot be part of a PIN.
        if !(6..=8).contains(&len) || bytes.contains(&0xff) {
            return Err(HwError::SecretLength { which, len });
        }
        Ok(Self(bytes))
    }

    /// The bytes, for the card only.
    pub(crate) fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(<redacted>)")
    }
}

/// The algorithm of a management key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MgmAlgorithm {
    /// Triple DES, 24 bytes (factory default below firmware 5.7).
    TripleDes,
    /// AES-128, 16 bytes.
    Aes128,
    /// AES-192, 24 bytes (factory default from firmware 5.7).
    Aes192,
    /// AES-256, 32 bytes.
    Aes256,
}

impl MgmAlgorithm {
    fn to_yubikey(self) -> yubikey::MgmAlgorithmId {
        match self {
            Self::TripleDes => yubikey::MgmAlgorithmId::ThreeDes,
            Self::Aes128 => yubikey::MgmAlgorithmId::Aes128,
            Self::Aes192 => yubikey::MgmAlgorithmId::Aes192,
            Self::Aes256 => yubikey::MgmAlgorithmId::Aes256,
        }
    }

    /// The key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            Self::Aes128 => 16,
            Self::TripleDes | Self::Aes192 => 24,
            Self::Aes256 => 32,
        }
    }

    /// The algorithm a firmware version ships its default key with.
    pub fn factory_default(version: (u8, u8, u8)) -> Self {
        if version >= (5, 7, 0) {
            Self::Aes192
        } else {
            Self::TripleDes
        }
    }
}

/// A PIV management key.
#[derive(Clone)]
pub struct ManagementKey {
    alg: MgmAlgorithm,
    bytes: Zeroizing<Vec<u8>>,
}

/// The factory default management key bytes (`010203040506070801020304050607080102030405060708`).
pub const DEFAULT_MGM_KEY_BYTES: [u8; 24] = [
    1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
];

impl ManagementKey {
    /// A key of `alg` from its bytes (length must fit the algorithm).
    pub fn new(alg: MgmAlgorithm, bytes: impl Into<Vec<u8>>) -> Result<Self, HwError> {
        let bytes = Zeroizing::new(bytes.into());
        if bytes.len() != alg.key_len() {
            return Err(HwError::SecretLength {
                which: Credential::ManagementKey,
                len: bytes.len(),
            });
        }
        Ok(Self { alg, bytes })
    }

    /// A fresh random key of `alg` (OS randomness).
    pub fn random(alg: MgmAlgorithm) -> Self {
        use rand_core::RngCore as _;
        let mut bytes = Zeroizing::new(vec![0u8; alg.key_len()]);
        rand_core::OsRng.fill_bytes(&mut bytes);
        Self { alg, bytes }
    }

    /// The factory default key, for the algorithm a firmware version ships with. Only for
    /// an explicit "the key is still the default" answer; never used silently.
    pub fn factory_default(version: (u8, u8, u8)) -> Self {
        Self {
            alg: MgmAlgorithm::factory_default(version),
            bytes: Zeroizing::new(DEFAULT_MGM_KEY_BYTES.to_vec()),
        }
    }

    /// The algorithm.
    pub fn algorithm(&self) -> MgmAlgorithm {
        self.alg
    }

    /// The key as hex, for the user to store (a password manager, a safe).
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.bytes.as_slice()))
    }

    pub(crate) fn to_yubikey(&self, serial: u32) -> Result<yubikey::MgmKey, HwError> {
        yubikey::MgmKey::from_bytes(self.bytes.as_slice(), Some(self.alg.to_yubikey()))
            .map_err(|e| HwError::device(serial, "management key parsing", e))
    }
}

impl fmt::Debug for ManagementKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ManagementKey({:?}, <redacted>)", self.alg)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn pin_length_checked_locally() {
        assert!(matches!(
            Pin::new(b"12345".to_vec()),
            Err(HwError::SecretLength { len: 5, .. })
        ));
        assert!(matches!(
            Pin::new(b"123456789".to_vec()),
            Err(HwError::SecretLength { len: 9, .. })
        ));
        assert!(Pin::new(b"654321".to_vec()).is_ok());
        assert!(Pin::new_puk(b"87654321".to_vec()).is_ok());
    }

    #[test]
    fn secrets_are_not_printed() {
        let p = Pin::new(b"987654".to_vec()).unwrap();
        assert!(!format!("{p:?}").contains("987654"));
        let k = ManagementKey::random(MgmAlgorithm::Aes192);
        let hex = k.to_hex();
        assert!(!format!("{k:?}").contains(hex.as_str()));
    }
}
