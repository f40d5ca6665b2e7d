//! Signature verification: the algorithm comes from the key, the encoding from the dialect.

use p256::ecdsa::signature::Verifier as _;
use rsa::traits::PublicKeyParts as _;
use sha2::{Digest, Sha256};

use super::error::SignatureError;
use super::public_key::{Algorithm, PublicKey};
use crate::dialect::Dialect;

/// Length of a raw `r || s` P-256 signature (Notary dialect).
pub(crate) const P256_RAW_LEN: usize = 64;
/// Length of an Ed25519 signature.
pub(crate) const ED25519_LEN: usize = 64;

/// Verifies `signature` (decoded bytes) over `message` with `key`.
///
/// - Ed25519: 64 bytes, `verify_strict` (both dialects).
/// - ECDSA P-256 / SHA-256: Notary raw `r || s` (exactly 64 bytes), TufSpec ASN.1 DER. High-S
///   signatures are accepted (Go produces and accepts them).
/// - RSA: RSASSA-PSS / SHA-256 / MGF1-SHA-256. Notary: salt length 32 only. TufSpec: salt
///   length 32 or the maximum for the key (both used by securesystemslib).
pub(crate) fn verify(
    key: &PublicKey,
    dialect: Dialect,
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    match key {
        PublicKey::Ed25519(vk) => {
            let bytes: [u8; ED25519_LEN] =
                signature.try_into().map_err(|_| SignatureError::Length {
                    algorithm: Algorithm::Ed25519,
                    expected: ED25519_LEN,
                    actual: signature.len(),
                })?;
            let sig = ed25519_dalek::Signature::from_bytes(&bytes);
            vk.verify_strict(message, &sig)
                .map_err(|_| SignatureError::Invalid {
                    algorithm: Algorithm::Ed25519,
                })
        }
        PublicKey::EcdsaP256(vk) => {
            let sig = decode_ecdsa(dialect, signature)?;
            let sig = sig.normalize_s().unwrap_or(sig);
            vk.verify(message, &sig)
                .map_err(|_| SignatureError::Invalid {
                    algorithm: Algorithm::EcdsaP256,
                })
        }
        PublicKey::Rsa(pk) => {
            let k = pk.size();
            if signature.len() != k {
                return Err(SignatureError::Length {
                    algorithm: Algorithm::RsaPss,
                    expected: k,
                    actual: signature.len(),
                });
            }
            let digest = Sha256::digest(message);
            let hash_len = Sha256::output_size();
            let mut salts = vec![hash_len];
            if dialect == Dialect::TufSpec {
                // emLen = ceil((modBits - 1) / 8); maximum salt = emLen - hLen - 2.
                let em_len = (pk.n().bits() - 1).div_ceil(8);
                let max_salt = em_len.saturating_sub(hash_len + 2);
                if max_salt != hash_len {
                    salts.push(max_salt);
                }
            }
            for salt in salts {
                let padding = rsa::Pss::new_with_salt::<Sha256>(salt);
                if pk.verify(padding, &digest, signature).is_ok() {
                    return Ok(());
                }
            }
            Err(SignatureError::Invalid {
                algorithm: Algorithm::RsaPss,
            })
        }
    }
}

/// Decodes an ECDSA P-256 signature in the dialect's wire encoding.
pub(crate) fn decode_ecdsa(
    dialect: Dialect,
    signature: &[u8],
) -> Result<p256::ecdsa::Signature, SignatureError> {
    match dialect {
        Dialect::Notary => {
            if signature.len() != P256_RAW_LEN {
                return Err(SignatureError::Length {
                    algorithm: Algorithm::EcdsaP256,
                    expected: P256_RAW_LEN,
                    actual: signature.len(),
                });
            }
            p256::ecdsa::Signature::from_slice(signature).map_err(|_| SignatureError::Malformed {
                algorithm: Algorithm::EcdsaP256,
                reason: "r or s out of range",
            })
        }
        Dialect::TufSpec => {
            p256::ecdsa::Signature::from_der(signature).map_err(|_| SignatureError::Malformed {
                algorithm: Algorithm::EcdsaP256,
                reason: "not a DER ECDSA-Sig-Value",
            })
        }
    }
}
