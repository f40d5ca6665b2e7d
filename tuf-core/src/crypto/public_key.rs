//! Public keys of the three supported algorithms and their SubjectPublicKeyInfo forms.

use der::Decode as _;
use rsa::traits::PublicKeyParts as _;
use sha2::{Digest, Sha256};
use spki::ObjectIdentifier;

use super::der_util;
use super::error::KeyError;

/// OID of Ed25519 (RFC 8410).
pub(crate) const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
/// OID of id-ecPublicKey.
pub(crate) const OID_EC_PUBLIC_KEY: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// OID of the prime256v1 / secp256r1 curve.
pub(crate) const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
/// OID of rsaEncryption.
pub(crate) const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// Smallest accepted RSA modulus, in bits.
pub const RSA_MIN_BITS: usize = 2048;

/// DER prefix of an Ed25519 SPKI: SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING (33) }.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];
/// DER prefix of a P-256 SPKI with an uncompressed point.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];
/// DER of AlgorithmIdentifier { rsaEncryption, NULL }.
const RSA_ALGORITHM_ID: [u8; 15] = [
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
];

/// A signature algorithm, determined by the key alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// Ed25519 (RFC 8032), verified strictly.
    Ed25519,
    /// ECDSA over NIST P-256 with SHA-256.
    EcdsaP256,
    /// RSASSA-PSS with SHA-256 and MGF1-SHA-256.
    RsaPss,
}

/// A validated public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicKey {
    /// An Ed25519 key (a valid curve point).
    Ed25519(ed25519_dalek::VerifyingKey),
    /// An ECDSA P-256 key (a point on the curve).
    EcdsaP256(p256::ecdsa::VerifyingKey),
    /// An RSA key of at least [`RSA_MIN_BITS`] bits.
    Rsa(rsa::RsaPublicKey),
}

impl PublicKey {
    /// The signature algorithm this key verifies.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            Self::Ed25519(_) => Algorithm::Ed25519,
            Self::EcdsaP256(_) => Algorithm::EcdsaP256,
            Self::Rsa(_) => Algorithm::RsaPss,
        }
    }

    /// The DER SubjectPublicKeyInfo (Ed25519 per RFC 8410, P-256 uncompressed point).
    pub fn spki_der(&self) -> Vec<u8> {
        match self {
            Self::Ed25519(k) => {
                let mut out = ED25519_SPKI_PREFIX.to_vec();
                out.extend_from_slice(k.as_bytes());
                out
            }
            Self::EcdsaP256(k) => {
                let mut out = P256_SPKI_PREFIX.to_vec();
                out.extend_from_slice(k.to_encoded_point(false).as_bytes());
                out
            }
            Self::Rsa(k) => {
                let mut seq = der_util::uint(&k.n().to_bytes_be());
                seq.extend_from_slice(&der_util::uint(&k.e().to_bytes_be()));
                let rsa_public_key = der_util::tlv(0x30, &seq);
                let mut bits = vec![0u8];
                bits.extend_from_slice(&rsa_public_key);
                let mut body = RSA_ALGORITHM_ID.to_vec();
                body.extend_from_slice(&der_util::tlv(0x03, &bits));
                der_util::tlv(0x30, &body)
            }
        }
    }

    /// SHA-256 of [`Self::spki_der`]: the identity thresholds count (one per public key,
    /// whatever key ids, key types or encodings it appears under).
    pub fn identity(&self) -> [u8; 32] {
        Sha256::digest(self.spki_der()).into()
    }

    /// Parses and validates a DER SubjectPublicKeyInfo (Ed25519, P-256 or RSA).
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        let spki =
            spki::SubjectPublicKeyInfoRef::from_der(der).map_err(|_| KeyError::Encoding {
                keytype: "spki".into(),
                reason: "not a DER SubjectPublicKeyInfo",
            })?;
        let bits = spki
            .subject_public_key
            .as_bytes()
            .ok_or(KeyError::Encoding {
                keytype: "spki".into(),
                reason: "public key bit string has unused bits",
            })?;
        let oid = spki.algorithm.oid;
        if oid == OID_ED25519 {
            if spki.algorithm.parameters.is_some() {
                return Err(KeyError::Encoding {
                    keytype: "ed25519".into(),
                    reason: "Ed25519 algorithm identifier has parameters",
                });
            }
            Self::ed25519_from_bytes(bits)
        } else if oid == OID_EC_PUBLIC_KEY {
            let curve = spki
                .algorithm
                .parameters_oid()
                .map_err(|_| KeyError::Encoding {
                    keytype: "ecdsa".into(),
                    reason: "EC algorithm identifier without a named curve",
                })?;
            if curve != OID_P256 {
                return Err(KeyError::Unsupported {
                    keytype: format!("ecdsa curve {curve}"),
                    scheme: None,
                });
            }
            Self::p256_from_sec1(bits)
        } else if oid == OID_RSA {
            let key = rsa::RsaPublicKey::try_from(spki).map_err(|_| KeyError::Invalid {
                algorithm: Algorithm::RsaPss,
                reason: "not a valid RSA public key (or larger than 4096 bits)",
            })?;
            Self::rsa_checked(key)
        } else {
            Err(KeyError::Unsupported {
                keytype: format!("spki algorithm {oid}"),
                scheme: None,
            })
        }
    }

    /// Parses a PEM `PUBLIC KEY` block (SubjectPublicKeyInfo).
    pub fn from_spki_pem(pem: &str) -> Result<Self, KeyError> {
        let (label, doc) = der::Document::from_pem(pem.trim()).map_err(|_| KeyError::Encoding {
            keytype: "spki".into(),
            reason: "not a PEM document",
        })?;
        if label != "PUBLIC KEY" {
            return Err(KeyError::Encoding {
                keytype: "spki".into(),
                reason: "PEM label is not PUBLIC KEY",
            });
        }
        Self::from_spki_der(doc.as_bytes())
    }

    /// The key as a PEM `PUBLIC KEY` block (64-column lines, LF, trailing newline).
    pub fn to_spki_pem(&self) -> String {
        der_util::pem("PUBLIC KEY", &self.spki_der())
    }

    /// An Ed25519 key from its raw 32 bytes; rejects other lengths and invalid points.
    pub fn ed25519_from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let arr: [u8; 32] = bytes.try_into().map_err(|_| KeyError::Length {
            algorithm: Algorithm::Ed25519,
            expected: 32,
            actual: bytes.len(),
        })?;
        ed25519_dalek::VerifyingKey::from_bytes(&arr)
            .map(Self::Ed25519)
            .map_err(|_| KeyError::Invalid {
                algorithm: Algorithm::Ed25519,
                reason: "not a valid curve point",
            })
    }

    /// A P-256 key from a SEC1 encoded point; rejects points not on the curve.
    pub fn p256_from_sec1(bytes: &[u8]) -> Result<Self, KeyError> {
        p256::ecdsa::VerifyingKey::from_sec1_bytes(bytes)
            .map(Self::EcdsaP256)
            .map_err(|_| KeyError::Invalid {
                algorithm: Algorithm::EcdsaP256,
                reason: "not a valid P-256 point",
            })
    }

    /// Wraps an RSA key after the size and exponent checks.
    pub fn rsa_checked(key: rsa::RsaPublicKey) -> Result<Self, KeyError> {
        let bits = key.n().bits();
        if bits < RSA_MIN_BITS {
            return Err(KeyError::RsaTooSmall {
                bits,
                min: RSA_MIN_BITS,
            });
        }
        let e = key.e();
        let odd = e.to_bytes_be().last().is_some_and(|b| b & 1 == 1);
        if e < &rsa::BigUint::from(65_537u32) || !odd {
            return Err(KeyError::Invalid {
                algorithm: Algorithm::RsaPss,
                reason: "public exponent is even or below 65537",
            });
        }
        Ok(Self::Rsa(key))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use p256::pkcs8::EncodePublicKey as _;

    #[test]
    fn p256_spki_matches_library_encoding() {
        let sk = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
        let vk = *sk.verifying_key();
        let ours = PublicKey::EcdsaP256(vk).spki_der();
        assert_eq!(ours, vk.to_public_key_der().unwrap().as_bytes());
        assert_eq!(
            PublicKey::from_spki_der(&ours).unwrap(),
            PublicKey::EcdsaP256(vk)
        );
        let pem = PublicKey::EcdsaP256(vk).to_spki_pem();
        assert_eq!(
            PublicKey::from_spki_pem(&pem).unwrap(),
            PublicKey::EcdsaP256(vk)
        );
    }

    #[test]
    fn ed25519_spki_roundtrip() {
        let sk = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        let pk = PublicKey::Ed25519(sk.verifying_key());
        let der = pk.spki_der();
        assert_eq!(der.len(), 44);
        assert_eq!(PublicKey::from_spki_der(&der).unwrap(), pk);
        assert_eq!(PublicKey::from_spki_pem(&pk.to_spki_pem()).unwrap(), pk);
    }

    #[test]
    fn ed25519_wrong_lengths_rejected() {
        for n in [0usize, 31, 33, 64] {
            let err = PublicKey::ed25519_from_bytes(&vec![1u8; n]).unwrap_err();
            assert!(matches!(err, KeyError::Length { expected: 32, actual, .. } if actual == n));
        }
        // A 31-byte key inside an SPKI wrapper is rejected too.
        let mut der = vec![
            0x30, 0x29, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x20, 0x00,
        ];
        der.extend_from_slice(&[1u8; 31]);
        assert!(PublicKey::from_spki_der(&der).is_err());
    }

    #[test]
    fn p256_point_not_on_curve_rejected() {
        let sk = p256::ecdsa::SigningKey::from_slice(&[3u8; 32]).unwrap();
        let mut point = sk
            .verifying_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec();
        point[64] ^= 1; // change y
        assert!(matches!(
            PublicKey::p256_from_sec1(&point),
            Err(KeyError::Invalid { .. })
        ));
        let mut der = P256_SPKI_PREFIX.to_vec();
        der.extend_from_slice(&point);
        assert!(PublicKey::from_spki_der(&der).is_err());
    }

    #[test]
    fn garbage_spki_rejected() {
        assert!(PublicKey::from_spki_der(&[]).is_err());
        assert!(PublicKey::from_spki_der(&[0x30, 0x03, 0x02, 0x01]).is_err());
        assert!(PublicKey::from_spki_pem(
            "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n"
        )
        .is_err());
    }
}
