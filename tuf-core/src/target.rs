//! Checking downloaded bytes against trusted metadata (targets and metadata files).

use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::error::TargetError;
use crate::role::{Hashes, TargetEntry};

/// Digest of `data` with a supported algorithm (`sha256`, `sha384`, `sha512`), or `None` if
/// the algorithm is unknown.
pub fn digest(algorithm: &str, data: &[u8]) -> Option<Vec<u8>> {
    match algorithm {
        "sha256" => Some(Sha256::digest(data).to_vec()),
        "sha384" => Some(Sha384::digest(data).to_vec()),
        "sha512" => Some(Sha512::digest(data).to_vec()),
        _ => None,
    }
}

/// Result of comparing `data` against `hashes`.
pub(crate) enum HashCheck {
    /// Every supported algorithm matched, and there was at least one.
    Ok,
    /// This algorithm did not match.
    Mismatch(String),
    /// No listed algorithm is supported.
    NoneSupported,
}

pub(crate) fn check_hashes(hashes: &Hashes, data: &[u8]) -> HashCheck {
    let mut supported = 0usize;
    for (alg, expected) in hashes {
        if let Some(actual) = digest(alg, data) {
            supported += 1;
            if actual != *expected {
                return HashCheck::Mismatch(alg.clone());
            }
        }
    }
    if supported == 0 {
        HashCheck::NoneSupported
    } else {
        HashCheck::Ok
    }
}

/// Verifies downloaded target bytes: exact length, and every listed hash whose algorithm is
/// supported (at least one must be).
///
/// # Errors
/// [`TargetError`] naming the target and what differed.
pub fn verify_target(path: &str, entry: &TargetEntry, data: &[u8]) -> Result<(), TargetError> {
    let got = u64::try_from(data.len()).unwrap_or(u64::MAX);
    if got != entry.length {
        return Err(TargetError::Length {
            path: path.to_owned(),
            expected: entry.length,
            got,
        });
    }
    match check_hashes(&entry.hashes, data) {
        HashCheck::Ok => Ok(()),
        HashCheck::Mismatch(algorithm) => Err(TargetError::Hash {
            path: path.to_owned(),
            algorithm,
        }),
        HashCheck::NoneSupported => Err(TargetError::NoSupportedHash {
            path: path.to_owned(),
        }),
    }
}

impl TargetEntry {
    /// The SHA-256 digest as lower-case hex, if listed (what `notary list` prints).
    pub fn sha256_hex(&self) -> Option<String> {
        self.hashes.get("sha256").map(hex::encode)
    }

    /// A new entry for `data`, with SHA-256 and SHA-512 digests.
    pub fn for_data(data: &[u8]) -> Self {
        let mut hashes = Hashes::new();
        hashes.insert("sha256".into(), Sha256::digest(data).to_vec());
        hashes.insert("sha512".into(), Sha512::digest(data).to_vec());
        Self {
            length: u64::try_from(data.len()).unwrap_or(u64::MAX),
            hashes,
            custom: None,
            extra: Default::default(),
        }
    }
}
