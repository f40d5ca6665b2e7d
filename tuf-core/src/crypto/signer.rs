//! The `Signer` trait, signature values and the in-memory software signer.

use std::fmt;

use der::Decode as _;
use p256::ecdsa::signature::Signer as _;
use p256::pkcs8::DecodePrivateKey as _;
use zeroize::Zeroizing;

use super::error::{KeyError, SignError, SignatureError};
use super::public_key::{Algorithm, PublicKey, OID_EC_PUBLIC_KEY, OID_ED25519};
use crate::dialect::Dialect;

/// Something that can sign with one private key: software keys, hardware tokens.
///
/// Signing is synchronous and may block (e.g. waiting for a touch on a hardware token);
/// async callers should use `spawn_blocking`.
pub trait Signer: Send + Sync {
    /// The public half of the signing key.
    fn public_key(&self) -> &PublicKey;
    /// Signs `message` (the raw bytes; hashing is part of the algorithm).
    fn sign(&self, message: &[u8]) -> Result<SignatureBytes, SignError>;
}

/// A signature as produced by a signer, before dialect-specific wire encoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignatureBytes {
    /// A 64-byte Ed25519 signature.
    Ed25519([u8; 64]),
    /// An ECDSA P-256 / SHA-256 signature.
    EcdsaP256(p256::ecdsa::Signature),
    /// An RSASSA-PSS / SHA-256 signature (modulus-sized).
    RsaPss(Vec<u8>),
}

impl SignatureBytes {
    /// The algorithm that produced this signature.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            Self::Ed25519(_) => Algorithm::Ed25519,
            Self::EcdsaP256(_) => Algorithm::EcdsaP256,
            Self::RsaPss(_) => Algorithm::RsaPss,
        }
    }

    /// The bytes as carried in metadata (before base64/hex): ECDSA is raw `r || s`
    /// (64 bytes) for Notary and ASN.1 DER for TufSpec; other algorithms are identical.
    pub fn to_wire(&self, dialect: Dialect) -> Vec<u8> {
        match self {
            Self::Ed25519(b) => b.to_vec(),
            Self::EcdsaP256(sig) => match dialect {
                Dialect::Notary => sig.to_bytes().to_vec(),
                Dialect::TufSpec => sig.to_der().as_bytes().to_vec(),
            },
            Self::RsaPss(b) => b.clone(),
        }
    }

    /// An ECDSA P-256 signature from ASN.1 DER (what hardware tokens return).
    pub fn from_ecdsa_der(der: &[u8]) -> Result<Self, SignatureError> {
        super::verify::decode_ecdsa(Dialect::TufSpec, der).map(Self::EcdsaP256)
    }
}

/// The name of the signing method for `key` in `dialect`.
///
/// Notary: the signature's `method` member (`eddsa`, `ecdsa`, `rsapss`). TufSpec: the
/// key's `scheme` (`ed25519`, `ecdsa-sha2-nistp256`, `rsassa-pss-sha256`); TUF signatures
/// carry no method.
pub fn method_name(dialect: Dialect, key: &PublicKey) -> &'static str {
    match (dialect, key.algorithm()) {
        (Dialect::Notary, Algorithm::Ed25519) => "eddsa",
        (Dialect::Notary, Algorithm::EcdsaP256) => "ecdsa",
        (Dialect::Notary, Algorithm::RsaPss) => "rsapss",
        (Dialect::TufSpec, Algorithm::Ed25519) => "ed25519",
        (Dialect::TufSpec, Algorithm::EcdsaP256) => "ecdsa-sha2-nistp256",
        (Dialect::TufSpec, Algorithm::RsaPss) => "rsassa-pss-sha256",
    }
}

/// PKCS#8 v1 prefix of an Ed25519 private key: version 0, algorithm 1.3.101.112, then an
/// OCTET STRING holding the OCTET STRING of the 32-byte seed (RFC 8410).
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];
/// PKCS#8 v1 prefix of a P-256 key up to the 32-byte scalar of the inner ECPrivateKey.
const P256_PKCS8_PREFIX: [u8; 36] = [
    0x30, 0x81, 0x87, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
    0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x04, 0x6d, 0x30, 0x6b, 0x02,
    0x01, 0x01, 0x04, 0x20,
];
/// Between the scalar and the 65-byte public point: `[1] BIT STRING`.
const P256_PKCS8_POINT_PREFIX: [u8; 5] = [0xa1, 0x44, 0x03, 0x42, 0x00];

enum Secret {
    Ed25519(ed25519_dalek::SigningKey),
    P256(p256::ecdsa::SigningKey),
}

/// An in-memory Ed25519 or ECDSA P-256 private key.
///
/// Secret material is wiped on drop: `ed25519_dalek::SigningKey` and
/// `p256::ecdsa::SigningKey` both zeroize themselves when dropped, and exported PKCS#8
/// bytes are returned in [`Zeroizing`].
pub struct SoftwareSigner {
    secret: Secret,
    public: PublicKey,
}

impl fmt::Debug for SoftwareSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SoftwareSigner")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl SoftwareSigner {
    /// A new random Ed25519 key (OS randomness).
    pub fn generate_ed25519() -> Self {
        Self::from_ed25519(ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng))
    }

    /// A new random ECDSA P-256 key (OS randomness).
    pub fn generate_p256() -> Self {
        Self::from_p256(p256::ecdsa::SigningKey::random(&mut rand_core::OsRng))
    }

    /// An Ed25519 key from its 32-byte seed.
    pub fn ed25519_from_seed(seed: [u8; 32]) -> Self {
        let seed = Zeroizing::new(seed);
        Self::from_ed25519(ed25519_dalek::SigningKey::from_bytes(&seed))
    }

    /// A P-256 key from its 32-byte big-endian scalar (must be in `1..n`).
    pub fn p256_from_scalar_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        p256::ecdsa::SigningKey::from_slice(bytes)
            .map(Self::from_p256)
            .map_err(|_| KeyError::PrivateKey {
                reason: "not a valid P-256 scalar",
            })
    }

    /// Decodes an unencrypted PKCS#8 `PrivateKeyInfo` (Ed25519 or P-256).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let info =
            p256::pkcs8::PrivateKeyInfo::from_der(der).map_err(|_| KeyError::PrivateKey {
                reason: "not a DER PKCS#8 PrivateKeyInfo",
            })?;
        let oid = info.algorithm.oid;
        if oid == OID_ED25519 {
            if info.algorithm.parameters.is_some() {
                return Err(KeyError::PrivateKey {
                    reason: "Ed25519 algorithm identifier has parameters",
                });
            }
            let inner = der::asn1::OctetStringRef::from_der(info.private_key).map_err(|_| {
                KeyError::PrivateKey {
                    reason: "Ed25519 private key is not an OCTET STRING",
                }
            })?;
            let seed: [u8; 32] = inner
                .as_bytes()
                .try_into()
                .map_err(|_| KeyError::PrivateKey {
                    reason: "Ed25519 seed is not 32 bytes",
                })?;
            let signer = Self::ed25519_from_seed(seed);
            let mut seed = seed;
            zeroize::Zeroize::zeroize(&mut seed);
            if let Some(public) = info.public_key {
                let matches = match &signer.public {
                    PublicKey::Ed25519(vk) => vk.as_bytes().as_slice() == public,
                    _ => false,
                };
                if !matches {
                    return Err(KeyError::PrivateKey {
                        reason: "embedded public key does not match the seed",
                    });
                }
            }
            Ok(signer)
        } else if oid == OID_EC_PUBLIC_KEY {
            p256::ecdsa::SigningKey::from_pkcs8_der(der)
                .map(Self::from_p256)
                .map_err(|_| KeyError::PrivateKey {
                    reason: "not a valid P-256 PKCS#8 key",
                })
        } else {
            Err(KeyError::Unsupported {
                keytype: format!("pkcs8 algorithm {oid}"),
                scheme: None,
            })
        }
    }

    /// The key as unencrypted PKCS#8 v1 DER, in a buffer wiped on drop.
    pub fn to_pkcs8_der(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(138));
        match &self.secret {
            Secret::Ed25519(sk) => {
                let seed = Zeroizing::new(sk.to_bytes());
                out.extend_from_slice(&ED25519_PKCS8_PREFIX);
                out.extend_from_slice(seed.as_slice());
            }
            Secret::P256(sk) => {
                let scalar: Zeroizing<[u8; 32]> = Zeroizing::new(sk.to_bytes().into());
                out.extend_from_slice(&P256_PKCS8_PREFIX);
                out.extend_from_slice(scalar.as_slice());
                out.extend_from_slice(&P256_PKCS8_POINT_PREFIX);
                out.extend_from_slice(sk.verifying_key().to_encoded_point(false).as_bytes());
            }
        }
        out
    }

    fn from_ed25519(sk: ed25519_dalek::SigningKey) -> Self {
        let public = PublicKey::Ed25519(sk.verifying_key());
        Self {
            secret: Secret::Ed25519(sk),
            public,
        }
    }

    fn from_p256(sk: p256::ecdsa::SigningKey) -> Self {
        let public = PublicKey::EcdsaP256(*sk.verifying_key());
        Self {
            secret: Secret::P256(sk),
            public,
        }
    }
}

impl Signer for SoftwareSigner {
    fn public_key(&self) -> &PublicKey {
        &self.public
    }

    fn sign(&self, message: &[u8]) -> Result<SignatureBytes, SignError> {
        match &self.secret {
            Secret::Ed25519(sk) => {
                let sig: ed25519_dalek::Signature = ed25519_dalek::Signer::sign(sk, message);
                Ok(SignatureBytes::Ed25519(sig.to_bytes()))
            }
            Secret::P256(sk) => {
                let sig: p256::ecdsa::Signature =
                    sk.try_sign(message).map_err(|_| SignError::Encoding {
                        reason: "ECDSA signing failed",
                    })?;
                Ok(SignatureBytes::EcdsaP256(sig))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use p256::pkcs8::EncodePrivateKey as _;

    #[test]
    fn pkcs8_roundtrip_ed25519() {
        let s = SoftwareSigner::ed25519_from_seed([9u8; 32]);
        let der = s.to_pkcs8_der();
        let back = SoftwareSigner::from_pkcs8_der(&der).unwrap();
        assert_eq!(back.public_key(), s.public_key());
        assert_eq!(back.to_pkcs8_der().as_slice(), der.as_slice());
    }

    #[test]
    fn pkcs8_roundtrip_p256_and_library_compat() {
        let s = SoftwareSigner::generate_p256();
        let der = s.to_pkcs8_der();
        let back = SoftwareSigner::from_pkcs8_der(&der).unwrap();
        assert_eq!(back.public_key(), s.public_key());
        // Keys exported by the p256 crate itself are accepted too.
        let sk = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
        let lib = sk.to_pkcs8_der().unwrap();
        let from_lib = SoftwareSigner::from_pkcs8_der(lib.as_bytes()).unwrap();
        assert_eq!(
            from_lib.public_key(),
            &PublicKey::EcdsaP256(*sk.verifying_key())
        );
        // And ours parses with the library.
        let parsed = p256::ecdsa::SigningKey::from_pkcs8_der(&der).unwrap();
        assert_eq!(
            &PublicKey::EcdsaP256(*parsed.verifying_key()),
            s.public_key()
        );
    }

    #[test]
    fn pkcs8_garbage_rejected() {
        assert!(SoftwareSigner::from_pkcs8_der(&[]).is_err());
        assert!(SoftwareSigner::from_pkcs8_der(&[0x30, 0x00]).is_err());
        let mut der = ED25519_PKCS8_PREFIX.to_vec();
        der.extend_from_slice(&[1u8; 31]);
        assert!(SoftwareSigner::from_pkcs8_der(&der).is_err());
        assert!(SoftwareSigner::p256_from_scalar_bytes(&[0u8; 32]).is_err());
        assert!(SoftwareSigner::p256_from_scalar_bytes(&[0xffu8; 32]).is_err());
    }

    #[test]
    fn wire_encodings() {
        let s = SoftwareSigner::generate_p256();
        let sig = s.sign(b"hello").unwrap();
        let raw = sig.to_wire(Dialect::Notary);
        assert_eq!(raw.len(), 64);
        let der = sig.to_wire(Dialect::TufSpec);
        assert_eq!(der[0], 0x30);
        assert_eq!(SignatureBytes::from_ecdsa_der(&der).unwrap(), sig);
        assert!(SignatureBytes::from_ecdsa_der(&raw).is_err());
        let e = SoftwareSigner::generate_ed25519().sign(b"x").unwrap();
        assert_eq!(e.to_wire(Dialect::Notary), e.to_wire(Dialect::TufSpec));
        assert_eq!(e.algorithm(), Algorithm::Ed25519);
    }

    #[test]
    fn method_names() {
        let e = SoftwareSigner::ed25519_from_seed([1; 32]);
        let p = SoftwareSigner::p256_from_scalar_bytes(&[1; 32]).unwrap();
        assert_eq!(method_name(Dialect::Notary, e.public_key()), "eddsa");
        assert_eq!(method_name(Dialect::Notary, p.public_key()), "ecdsa");
        assert_eq!(method_name(Dialect::TufSpec, e.public_key()), "ed25519");
        assert_eq!(
            method_name(Dialect::TufSpec, p.public_key()),
            "ecdsa-sha2-nistp256"
        );
        assert!(!format!("{e:?}").contains("secret"));
    }
}
