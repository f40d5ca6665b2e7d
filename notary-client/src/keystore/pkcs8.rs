//! Encrypted PKCS#8 in the form Go `notary` reads and writes, and key decoding.

use pkcs5::pbes2::{EncryptionScheme as Cipher, Kdf, Parameters, Pbkdf2Params, Pbkdf2Prf};
use pkcs8::der::asn1::{AnyRef, OctetStringRef};
use pkcs8::der::{Decode as _, Encode as _, Reader as _, SliceReader};
use pkcs8::{AlgorithmIdentifierRef, EncryptedPrivateKeyInfo, ObjectIdentifier, PrivateKeyInfo};
use rand_core::RngCore as _;
use tuf_core::crypto::{PublicKey, Signer as _, SoftwareSigner};
use zeroize::Zeroizing;

use super::KeyStoreError;

/// PBKDF2 iteration count we write (Go writes 2048 and reads any count).
pub const PBKDF2_ITERATIONS: u32 = 200_000;
/// Highest iteration count we accept when reading (guards against a file that would
/// make us spin for minutes).
const MAX_READ_ITERATIONS: u32 = 10_000_000;
/// Go notary's private OID for Ed25519 PKCS#8 keys (`1.3.6.1.4.1.11591.15.1`); the
/// key is 96 bytes, `public || seed || public` (Go's `ED25519ToPrivateKey` layout),
/// directly in the `privateKey` OCTET STRING.
const OID_GO_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11591.15.1");
/// RFC 8410 Ed25519.
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
/// id-ecPublicKey.
const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// prime256v1 / secp256r1.
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");

/// The parts of a PKCS#8 `PrivateKeyInfo` we use, parsed leniently: Go notary writes
/// ECDSA keys with version 1 but no `[1]` public key (which strict RFC 5958 parsers,
/// including the `pkcs8` crate, reject), so version 0 and 1 are both accepted and the
/// optional trailing fields are skipped.
struct LenientPki<'a> {
    algorithm: AlgorithmIdentifierRef<'a>,
    private_key: &'a [u8],
}

fn parse_pki(der: &[u8]) -> Result<LenientPki<'_>, KeyStoreError> {
    let parse = || -> pkcs8::der::Result<LenientPki<'_>> {
        let mut reader = SliceReader::new(der)?;
        let pki = reader.sequence(|r| {
            let version = u8::decode(r)?;
            if version > 1 {
                return Err(pkcs8::der::Tag::Integer.value_error());
            }
            let algorithm = AlgorithmIdentifierRef::decode(r)?;
            let private_key = OctetStringRef::decode(r)?.as_bytes();
            while !r.is_finished() {
                AnyRef::decode(r)?;
            }
            Ok(LenientPki {
                algorithm,
                private_key,
            })
        })?;
        reader.finish(pki)
    };
    parse().map_err(|e| malformed(format!("not a PKCS#8 PrivateKeyInfo: {e}")))
}

fn malformed(reason: impl Into<String>) -> KeyStoreError {
    KeyStoreError::Malformed {
        path: String::new(),
        reason: reason.into(),
    }
}

/// Encrypts an unencrypted PKCS#8 `PrivateKeyInfo` into a DER `EncryptedPrivateKeyInfo`
/// that Go `notary` 0.7 can read: PBES2, PBKDF2 with PRF hmacWithSHA1 (left implicit,
/// as the DER default, exactly as Go writes it; Go ignores the PRF field and always uses
/// SHA-1), [`PBKDF2_ITERATIONS`] iterations, a random 8-byte salt, AES-256-CBC with a
/// random IV.
pub fn encrypt_pkcs8(plain_pkcs8_der: &[u8], passphrase: &str) -> Result<Vec<u8>, KeyStoreError> {
    if passphrase.is_empty() {
        return Err(KeyStoreError::Unsupported {
            reason: "an empty passphrase (private keys are always stored encrypted)".into(),
        });
    }
    parse_pki(plain_pkcs8_der)?;
    let mut salt = [0u8; 8];
    let mut iv = [0u8; 16];
    rand_core::OsRng.fill_bytes(&mut salt);
    rand_core::OsRng.fill_bytes(&mut iv);
    let params = Parameters {
        kdf: Kdf::Pbkdf2(Pbkdf2Params {
            salt: &salt,
            iteration_count: PBKDF2_ITERATIONS,
            key_length: None,
            prf: Pbkdf2Prf::HmacWithSha1,
        }),
        encryption: Cipher::Aes256Cbc { iv: &iv },
    };
    let mut buf = Zeroizing::new(Vec::with_capacity(plain_pkcs8_der.len() + 16));
    buf.extend_from_slice(plain_pkcs8_der);
    buf.extend_from_slice(&[0u8; 16]);
    let ct_len = params
        .encrypt_in_place(passphrase.as_bytes(), &mut buf, plain_pkcs8_der.len())
        .map_err(|e| KeyStoreError::Unsupported {
            reason: format!("PBES2 encryption failed: {e}"),
        })?
        .len();
    let info = EncryptedPrivateKeyInfo {
        encryption_algorithm: pkcs5::EncryptionScheme::Pbes2(params),
        encrypted_data: buf.get(..ct_len).unwrap_or_default(),
    };
    info.to_der()
        .map_err(|e| malformed(format!("cannot encode EncryptedPrivateKeyInfo: {e}")))
}

/// Decrypts a DER `EncryptedPrivateKeyInfo` (PBES2 / PBKDF2 with hmacWithSHA1 or
/// hmacWithSHA256 / AES-CBC: Go's files and ours) into the unencrypted PKCS#8 DER.
///
/// A wrong passphrase (bad padding, or no valid `PrivateKeyInfo` after decryption) is
/// [`KeyStoreError::WrongPassphrase`] with empty `key_id`/`role` (the key store fills
/// them in).
pub fn decrypt_pkcs8(der: &[u8], passphrase: &str) -> Result<Zeroizing<Vec<u8>>, KeyStoreError> {
    let info = EncryptedPrivateKeyInfo::from_der(der)
        .map_err(|e| malformed(format!("not a PKCS#8 EncryptedPrivateKeyInfo: {e}")))?;
    let pkcs5::EncryptionScheme::Pbes2(params) = &info.encryption_algorithm else {
        return Err(KeyStoreError::Unsupported {
            reason: "PBES1 encrypted key (only PBES2 is supported)".into(),
        });
    };
    let Kdf::Pbkdf2(kdf) = &params.kdf else {
        return Err(KeyStoreError::Unsupported {
            reason: "key derivation other than PBKDF2".into(),
        });
    };
    if !matches!(kdf.prf, Pbkdf2Prf::HmacWithSha1 | Pbkdf2Prf::HmacWithSha256) {
        return Err(KeyStoreError::Unsupported {
            reason: "PBKDF2 PRF other than hmacWithSHA1/hmacWithSHA256".into(),
        });
    }
    if kdf.iteration_count == 0 || kdf.iteration_count > MAX_READ_ITERATIONS {
        return Err(KeyStoreError::Unsupported {
            reason: format!("PBKDF2 iteration count {}", kdf.iteration_count),
        });
    }
    if !matches!(
        params.encryption,
        Cipher::Aes128Cbc { .. } | Cipher::Aes192Cbc { .. } | Cipher::Aes256Cbc { .. }
    ) {
        return Err(KeyStoreError::Unsupported {
            reason: "cipher other than AES-CBC".into(),
        });
    }
    let wrong = || KeyStoreError::WrongPassphrase {
        key_id: String::new(),
        role: String::new(),
    };
    let mut buf = Zeroizing::new(info.encrypted_data.to_vec());
    let pt_len = params
        .decrypt_in_place(passphrase.as_bytes(), &mut buf)
        .map_err(|_| wrong())?
        .len();
    buf.truncate(pt_len);
    // A wrong key yields valid padding about 1 time in 256; the DER check catches those.
    match parse_pki(&buf) {
        Ok(_) => Ok(buf),
        Err(_) => Err(wrong()),
    }
}

/// Decodes an unencrypted PKCS#8 `PrivateKeyInfo`: P-256, RFC 8410 Ed25519, or Go
/// notary's own Ed25519 form.
pub(crate) fn signer_from_pkcs8(der: &[u8]) -> Result<SoftwareSigner, KeyStoreError> {
    let info = parse_pki(der)?;
    if info.algorithm.oid == OID_EC_PUBLIC_KEY {
        let curve = info
            .algorithm
            .parameters_oid()
            .map_err(|_| malformed("EC key without a named curve"))?;
        if curve != OID_P256 {
            return Err(KeyStoreError::Unsupported {
                reason: format!("EC curve {curve} (only P-256)"),
            });
        }
        return signer_from_sec1(info.private_key);
    }
    if info.algorithm.oid == OID_GO_ED25519 {
        // Go: `public || seed || public` (96 bytes); also accept `seed || public` and a
        // bare seed.
        let bytes = info.private_key;
        let (seed_at, publics): (usize, &[usize]) = match bytes.len() {
            96 => (32, &[0, 64]),
            64 => (0, &[32]),
            32 => (0, &[]),
            _ => {
                return Err(malformed(
                    "Go Ed25519 private key is not 96, 64 or 32 bytes",
                ))
            }
        };
        let seed: [u8; 32] = bytes
            .get(seed_at..seed_at + 32)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| malformed("Ed25519 private key too short"))?;
        let signer = SoftwareSigner::ed25519_from_seed(seed);
        let mut seed = seed;
        zeroize::Zeroize::zeroize(&mut seed);
        let PublicKey::Ed25519(vk) = signer.public_key() else {
            return Err(malformed("Ed25519 seed gave a non-Ed25519 key"));
        };
        for &at in publics {
            if bytes.get(at..at + 32) != Some(vk.as_bytes().as_slice()) {
                return Err(malformed(
                    "Ed25519 public half does not match the private seed",
                ));
            }
        }
        return Ok(signer);
    }
    SoftwareSigner::from_pkcs8_der(der).map_err(|e| match e {
        tuf_core::crypto::KeyError::Unsupported { keytype, .. } => KeyStoreError::Unsupported {
            reason: format!("private key type {keytype}"),
        },
        other => malformed(other.to_string()),
    })
}

/// Decodes a SEC1 `ECPrivateKey` (an `EC PRIVATE KEY` PEM body) on P-256.
pub(crate) fn signer_from_sec1(der: &[u8]) -> Result<SoftwareSigner, KeyStoreError> {
    let sk = p256::SecretKey::from_sec1_der(der)
        .map_err(|_| malformed("not a P-256 SEC1 ECPrivateKey"))?;
    let scalar = Zeroizing::new(sk.to_bytes());
    SoftwareSigner::p256_from_scalar_bytes(scalar.as_slice()).map_err(|e| malformed(e.to_string()))
}

/// The unencrypted PKCS#8 that Go notary writes for `signer`: the standard form for
/// P-256, Go's own OID and 96-byte `public || seed || public` for Ed25519 (Go cannot
/// read the RFC 8410 form).
pub(crate) fn go_pkcs8(signer: &SoftwareSigner) -> Result<Zeroizing<Vec<u8>>, KeyStoreError> {
    let std_der = signer.to_pkcs8_der();
    let PublicKey::Ed25519(vk) = signer.public_key() else {
        return Ok(std_der);
    };
    let info = PrivateKeyInfo::from_der(&std_der)
        .map_err(|e| malformed(format!("cannot re-read our own PKCS#8: {e}")))?;
    if info.algorithm.oid != OID_ED25519 {
        return Err(malformed("Ed25519 key exported with an unexpected OID"));
    }
    let seed = OctetStringRef::from_der(info.private_key)
        .map_err(|e| malformed(format!("Ed25519 seed: {e}")))?;
    let mut both = Zeroizing::new(Vec::with_capacity(96));
    both.extend_from_slice(vk.as_bytes());
    both.extend_from_slice(seed.as_bytes());
    both.extend_from_slice(vk.as_bytes());
    let go = PrivateKeyInfo {
        algorithm: AlgorithmIdentifierRef {
            oid: OID_GO_ED25519,
            parameters: None,
        },
        private_key: &both,
        public_key: None,
    };
    go.to_der()
        .map(Zeroizing::new)
        .map_err(|e| malformed(format!("cannot encode Ed25519 PKCS#8: {e}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn ed25519_go_form_round_trips() {
        let s = SoftwareSigner::generate_ed25519();
        let der = go_pkcs8(&s).unwrap();
        let back = signer_from_pkcs8(&der).unwrap();
        assert_eq!(back.public_key(), s.public_key());
        // The standard RFC 8410 form loads too.
        let back = signer_from_pkcs8(&s.to_pkcs8_der()).unwrap();
        assert_eq!(back.public_key(), s.public_key());
    }

    #[test]
    fn sha256_prf_is_read() {
        let s = SoftwareSigner::generate_p256();
        let plain = s.to_pkcs8_der();
        let salt = [7u8; 16];
        let iv = [9u8; 16];
        let params = Parameters::pbkdf2_sha256_aes256cbc(1000, &salt, &iv).unwrap();
        let ct = params.encrypt("pw-123456", &plain).unwrap();
        let der = EncryptedPrivateKeyInfo {
            encryption_algorithm: pkcs5::EncryptionScheme::Pbes2(params),
            encrypted_data: &ct,
        }
        .to_der()
        .unwrap();
        assert_eq!(
            decrypt_pkcs8(&der, "pw-123456").unwrap().as_slice(),
            plain.as_slice()
        );
        assert!(matches!(
            decrypt_pkcs8(&der, "nope"),
            Err(KeyStoreError::WrongPassphrase { .. })
        ));
    }

    #[test]
    fn written_kdf_params_match_go_layout() {
        let s = SoftwareSigner::generate_p256();
        let der = encrypt_pkcs8(&s.to_pkcs8_der(), "pass-word").unwrap();
        let info = EncryptedPrivateKeyInfo::from_der(&der).unwrap();
        let pkcs5::EncryptionScheme::Pbes2(p) = info.encryption_algorithm else {
            panic!("not PBES2")
        };
        let kdf = p.kdf.pbkdf2().unwrap();
        assert_eq!(kdf.prf, Pbkdf2Prf::HmacWithSha1);
        assert_eq!(kdf.key_length, None);
        assert_eq!(kdf.salt.len(), 8);
        assert_eq!(kdf.iteration_count, PBKDF2_ITERATIONS);
        assert!(matches!(p.encryption, Cipher::Aes256Cbc { .. }));
        // No PRF AlgorithmIdentifier inside the PBKDF2 params: Go's struct has only
        // salt and iteration count. hmacWithSHA1 OID 1.2.840.113549.2.7:
        let prf_oid = [0x06, 0x08, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x07];
        assert!(!der.windows(prf_oid.len()).any(|w| w == prf_oid));
        assert!(encrypt_pkcs8(&s.to_pkcs8_der(), "").is_err());
    }
}
