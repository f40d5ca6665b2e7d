//! Key ids: 32-byte SHA-256 values written as 64 lowercase hex characters.

use std::fmt;

use sha2::{Digest, Sha256};

use super::error::KeyError;

/// A key id: the SHA-256 of a key's canonical JSON (per dialect), as in metadata.
///
/// Metadata key ids are parsed with [`KeyId::from_hex`]; anything that is not exactly 64
/// lowercase hex characters is rejected.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId([u8; 32]);

impl KeyId {
    /// Parses exactly 64 lowercase hex characters.
    pub fn from_hex(s: &str) -> Result<Self, KeyError> {
        if s.len() != 64 {
            return Err(KeyError::KeyId {
                reason: "not 64 characters",
            });
        }
        if !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(KeyError::KeyId {
                reason: "not lowercase hex",
            });
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|_| KeyError::KeyId {
            reason: "not lowercase hex",
        })?;
        Ok(Self(out))
    }

    /// The id as 64 lowercase hex characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Wraps raw digest bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw digest bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The key id of some canonical bytes: their SHA-256.
    pub fn of_canonical(canonical_json: &[u8]) -> Self {
        Self(Sha256::digest(canonical_json).into())
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn hex_roundtrip_and_strictness() {
        let s = "70222b70673a637d7b1354d770c354a32943a99c800c58b5628afa62b8a6a2a8";
        let id = KeyId::from_hex(s).unwrap();
        assert_eq!(id.to_hex(), s);
        assert_eq!(id.to_string(), s);
        assert!(KeyId::from_hex(&s.to_uppercase()).is_err());
        assert!(KeyId::from_hex(&s[..63]).is_err());
        assert!(KeyId::from_hex(&format!("{s}0")).is_err());
        assert!(KeyId::from_hex(&s.replace('7', "g")).is_err());
        assert!(KeyId::from_hex("").is_err());
        // Multi-byte characters must not panic on slicing.
        assert!(KeyId::from_hex(&"é".repeat(32)).is_err());
    }
}
