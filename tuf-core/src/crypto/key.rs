//! Keys as listed in metadata, in either dialect.

use base64::Engine as _;

use super::cert::{parse_certificate_pem, CertInfo};
use super::error::{KeyError, SignatureError};
use super::keyid::KeyId;
use super::public_key::{Algorithm, PublicKey};
use super::verify;
use crate::dialect::Dialect;
use crate::json::{to_canonical, JsonObject, JsonValue};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A key as listed in metadata: its declared type, the validated public key, certificate
/// details for `*-x509` keys, and the exact JSON object it came from.
#[derive(Clone, Debug)]
pub struct Key {
    dialect: Dialect,
    keytype: String,
    scheme: Option<String>,
    public: PublicKey,
    cert: Option<CertInfo>,
    json: JsonValue,
    key_id: KeyId,
}

impl Key {
    /// Parses and validates a metadata key object in `dialect`.
    ///
    /// Notary: `{"keytype", "keyval": {"private": null, "public": base64}}` with keytype
    /// `ed25519` (raw 32 bytes), `ecdsa` / `rsa` (SPKI DER), `ecdsa-x509` / `rsa-x509` (PEM
    /// certificate text). `keyval.private` must be null or absent.
    ///
    /// TufSpec: `ed25519`/`ed25519` (hex), `ecdsa` or `ecdsa-sha2-nistp256` /
    /// `ecdsa-sha2-nistp256` (SPKI PEM or hex SEC1 point), `rsa`/`rsassa-pss-sha256` (SPKI
    /// PEM). Other combinations give [`KeyError::Unsupported`]. Unknown members are kept.
    pub fn from_json(dialect: Dialect, v: &JsonValue) -> Result<Key, KeyError> {
        let obj = v.as_object().ok_or(KeyError::Field {
            field: "key",
            expected: "object",
        })?;
        let keytype = get_str(obj, "keytype", "keytype")?;
        let keyval = obj
            .get("keyval")
            .and_then(JsonValue::as_object)
            .ok_or(KeyError::Field {
                field: "keyval",
                expected: "object",
            })?;
        let public_str = get_str(keyval, "public", "keyval.public")?;
        match dialect {
            Dialect::Notary => {
                match keyval.get("private") {
                    None | Some(JsonValue::Null) => {}
                    Some(_) => {
                        return Err(KeyError::Field {
                            field: "keyval.private",
                            expected: "null",
                        })
                    }
                }
                let (public, cert) = parse_notary_public(keytype, public_str)?;
                Ok(Key {
                    dialect,
                    keytype: keytype.to_owned(),
                    scheme: None,
                    public,
                    cert,
                    json: v.clone(),
                    key_id: notary_key_id(keytype, public_str),
                })
            }
            Dialect::TufSpec => {
                let scheme = get_str(obj, "scheme", "scheme")?;
                let public = parse_tuf_public(keytype, scheme, public_str)?;
                Ok(Key {
                    dialect,
                    keytype: keytype.to_owned(),
                    scheme: Some(scheme.to_owned()),
                    public,
                    cert: None,
                    json: v.clone(),
                    key_id: KeyId::of_canonical(&to_canonical(v)),
                })
            }
        }
    }

    /// Builds the metadata form of `pk`.
    ///
    /// Notary: keytype `ed25519` / `ecdsa` / `rsa`, `keyval` `{"private": null, "public":
    /// base64}`. TufSpec: `{"keytype", "scheme", "keyval": {"public"}}` with ed25519 as hex
    /// and ECDSA / RSA as SPKI PEM (keytype `ecdsa`, scheme `ecdsa-sha2-nistp256`).
    pub fn from_public_key(dialect: Dialect, pk: PublicKey) -> Key {
        match dialect {
            Dialect::Notary => {
                let (keytype, bytes) = match &pk {
                    PublicKey::Ed25519(k) => ("ed25519", k.as_bytes().to_vec()),
                    PublicKey::EcdsaP256(_) => ("ecdsa", pk.spki_der()),
                    PublicKey::Rsa(_) => ("rsa", pk.spki_der()),
                };
                let public = B64.encode(bytes);
                Key {
                    dialect,
                    keytype: keytype.to_owned(),
                    scheme: None,
                    json: notary_key_json(keytype, &public),
                    key_id: notary_key_id(keytype, &public),
                    public: pk,
                    cert: None,
                }
            }
            Dialect::TufSpec => {
                let (keytype, scheme, public) = match &pk {
                    PublicKey::Ed25519(k) => ("ed25519", "ed25519", hex::encode(k.as_bytes())),
                    PublicKey::EcdsaP256(_) => ("ecdsa", "ecdsa-sha2-nistp256", pk.to_spki_pem()),
                    PublicKey::Rsa(_) => ("rsa", "rsassa-pss-sha256", pk.to_spki_pem()),
                };
                let mut keyval = JsonObject::new();
                keyval.insert("public".into(), public.into());
                let mut obj = JsonObject::new();
                obj.insert("keytype".into(), keytype.into());
                obj.insert("scheme".into(), scheme.into());
                obj.insert("keyval".into(), keyval.into());
                let json = JsonValue::Object(obj);
                Key {
                    dialect,
                    keytype: keytype.to_owned(),
                    scheme: Some(scheme.to_owned()),
                    key_id: KeyId::of_canonical(&to_canonical(&json)),
                    json,
                    public: pk,
                    cert: None,
                }
            }
        }
    }

    /// A Notary `ecdsa-x509` (or `rsa-x509`) key wrapping a PEM certificate; `public` is the
    /// base64 of exactly this PEM text, as Go Notary writes it.
    pub fn from_certificate_pem(pem: &str) -> Result<Key, KeyError> {
        let (public, cert) = parse_certificate_pem(pem)?;
        let keytype = match public.algorithm() {
            Algorithm::EcdsaP256 => "ecdsa-x509",
            Algorithm::RsaPss => "rsa-x509",
            algorithm => {
                return Err(KeyError::Mismatch {
                    keytype: "x509".into(),
                    algorithm,
                })
            }
        };
        let b64 = B64.encode(pem.as_bytes());
        Ok(Key {
            dialect: Dialect::Notary,
            keytype: keytype.to_owned(),
            scheme: None,
            json: notary_key_json(keytype, &b64),
            key_id: notary_key_id(keytype, &b64),
            public,
            cert: Some(cert),
        })
    }

    /// The JSON object: exactly the one parsed (unknown members included), or the built one.
    pub fn to_json(&self) -> JsonValue {
        self.json.clone()
    }

    /// The key id computed for the dialect: Notary hashes
    /// `{"keytype","keyval":{"private":null,"public"}}`; TufSpec hashes the whole object.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The validated public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The declared key type, as written.
    pub fn keytype(&self) -> &str {
        &self.keytype
    }

    /// The declared scheme (TufSpec keys only).
    pub fn scheme(&self) -> Option<&str> {
        self.scheme.as_deref()
    }

    /// The dialect this key was parsed or built for.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Certificate details, for `ecdsa-x509` / `rsa-x509` keys.
    pub fn certificate(&self) -> Option<&CertInfo> {
        self.cert.as_ref()
    }

    /// Verifies decoded signature bytes over `message`. The algorithm comes from this key
    /// only; the encoding rules from `dialect`, which must be the key's own dialect.
    pub fn verify(
        &self,
        dialect: Dialect,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        if dialect != self.dialect {
            return Err(SignatureError::Unsupported {
                reason: "key and signature dialects differ",
            });
        }
        verify::verify(&self.public, dialect, message, signature)
    }
}

fn get_str<'a>(obj: &'a JsonObject, name: &str, field: &'static str) -> Result<&'a str, KeyError> {
    obj.get(name)
        .and_then(JsonValue::as_str)
        .ok_or(KeyError::Field {
            field,
            expected: "string",
        })
}

fn notary_key_json(keytype: &str, public_b64: &str) -> JsonValue {
    let mut keyval = JsonObject::new();
    keyval.insert("private".into(), JsonValue::Null);
    keyval.insert("public".into(), public_b64.into());
    let mut obj = JsonObject::new();
    obj.insert("keytype".into(), keytype.into());
    obj.insert("keyval".into(), keyval.into());
    JsonValue::Object(obj)
}

fn notary_key_id(keytype: &str, public_b64: &str) -> KeyId {
    KeyId::of_canonical(&to_canonical(&notary_key_json(keytype, public_b64)))
}

fn expect_algorithm(keytype: &str, key: PublicKey, want: Algorithm) -> Result<PublicKey, KeyError> {
    if key.algorithm() == want {
        Ok(key)
    } else {
        Err(KeyError::Mismatch {
            keytype: keytype.to_owned(),
            algorithm: key.algorithm(),
        })
    }
}

fn parse_notary_public(
    keytype: &str,
    public_b64: &str,
) -> Result<(PublicKey, Option<CertInfo>), KeyError> {
    let bytes = || {
        B64.decode(public_b64).map_err(|_| KeyError::Encoding {
            keytype: keytype.to_owned(),
            reason: "keyval.public is not standard padded base64",
        })
    };
    match keytype {
        "ed25519" => Ok((PublicKey::ed25519_from_bytes(&bytes()?)?, None)),
        "ecdsa" => Ok((
            expect_algorithm(
                keytype,
                PublicKey::from_spki_der(&bytes()?)?,
                Algorithm::EcdsaP256,
            )?,
            None,
        )),
        "rsa" => Ok((
            expect_algorithm(
                keytype,
                PublicKey::from_spki_der(&bytes()?)?,
                Algorithm::RsaPss,
            )?,
            None,
        )),
        "ecdsa-x509" | "rsa-x509" => {
            let raw = bytes()?;
            let pem = std::str::from_utf8(&raw).map_err(|_| KeyError::Encoding {
                keytype: keytype.to_owned(),
                reason: "certificate PEM is not UTF-8",
            })?;
            let (key, cert) = parse_certificate_pem(pem)?;
            let want = if keytype == "ecdsa-x509" {
                Algorithm::EcdsaP256
            } else {
                Algorithm::RsaPss
            };
            Ok((expect_algorithm(keytype, key, want)?, Some(cert)))
        }
        _ => Err(KeyError::Unsupported {
            keytype: keytype.to_owned(),
            scheme: None,
        }),
    }
}

fn parse_tuf_public(keytype: &str, scheme: &str, public: &str) -> Result<PublicKey, KeyError> {
    let hex_bytes = || {
        hex::decode(public).map_err(|_| KeyError::Encoding {
            keytype: keytype.to_owned(),
            reason: "keyval.public is not hex",
        })
    };
    match (keytype, scheme) {
        ("ed25519", "ed25519") => PublicKey::ed25519_from_bytes(&hex_bytes()?),
        ("ecdsa" | "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256") => {
            let key = if public.trim_start().starts_with("-----BEGIN") {
                PublicKey::from_spki_pem(public)?
            } else {
                PublicKey::p256_from_sec1(&hex_bytes()?)?
            };
            expect_algorithm(keytype, key, Algorithm::EcdsaP256)
        }
        ("rsa", "rsassa-pss-sha256") => expect_algorithm(
            keytype,
            PublicKey::from_spki_pem(public)?,
            Algorithm::RsaPss,
        ),
        _ => Err(KeyError::Unsupported {
            keytype: keytype.to_owned(),
            scheme: Some(scheme.to_owned()),
        }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::crypto::{SignatureBytes, Signer as _, SoftwareSigner};

    fn obj(pairs: &[(&str, JsonValue)]) -> JsonValue {
        JsonValue::Object(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        )
    }

    fn tuf_key(keytype: &str, scheme: &str, public: &str) -> JsonValue {
        obj(&[
            ("keytype", keytype.into()),
            ("scheme", scheme.into()),
            ("keyval", obj(&[("public", public.into())])),
        ])
    }

    fn notary_key(keytype: &str, public: &str) -> JsonValue {
        obj(&[
            ("keytype", keytype.into()),
            (
                "keyval",
                obj(&[("private", JsonValue::Null), ("public", public.into())]),
            ),
        ])
    }

    #[test]
    fn software_signer_roundtrip_both_dialects() {
        for signer in [
            SoftwareSigner::generate_ed25519(),
            SoftwareSigner::generate_p256(),
        ] {
            for dialect in [Dialect::Notary, Dialect::TufSpec] {
                let key = Key::from_public_key(dialect, signer.public_key().clone());
                // The built JSON parses back to the same key and id.
                let reparsed = Key::from_json(dialect, &key.to_json()).unwrap();
                assert_eq!(reparsed.key_id(), key.key_id());
                assert_eq!(reparsed.public_key(), signer.public_key());
                let msg = b"{\"signed\":1}";
                let wire = signer.sign(msg).unwrap().to_wire(dialect);
                key.verify(dialect, msg, &wire).unwrap();
                reparsed.verify(dialect, msg, &wire).unwrap();
                assert!(key.verify(dialect, b"{\"signed\":2}", &wire).is_err());
                let mut bad = wire.clone();
                let last = bad.len() - 1;
                bad[last] ^= 1;
                assert!(key.verify(dialect, msg, &bad).is_err());
                // The other dialect's rules are never applied to this key.
                let other = match dialect {
                    Dialect::Notary => Dialect::TufSpec,
                    Dialect::TufSpec => Dialect::Notary,
                };
                assert!(key.verify(other, msg, &wire).is_err());
            }
        }
    }

    #[test]
    fn der_ecdsa_rejected_under_notary_raw_rejected_under_tufspec() {
        let signer = SoftwareSigner::generate_p256();
        let msg = b"message";
        let sig = signer.sign(msg).unwrap();
        let notary = Key::from_public_key(Dialect::Notary, signer.public_key().clone());
        let tuf = Key::from_public_key(Dialect::TufSpec, signer.public_key().clone());
        let der = sig.to_wire(Dialect::TufSpec);
        let raw = sig.to_wire(Dialect::Notary);
        assert!(matches!(
            notary.verify(Dialect::Notary, msg, &der),
            Err(SignatureError::Length { expected: 64, .. })
        ));
        assert!(matches!(
            tuf.verify(Dialect::TufSpec, msg, &raw),
            Err(SignatureError::Malformed { .. })
        ));
        notary.verify(Dialect::Notary, msg, &raw).unwrap();
        tuf.verify(Dialect::TufSpec, msg, &der).unwrap();
    }

    #[test]
    fn high_s_ecdsa_accepted() {
        let signer = SoftwareSigner::generate_p256();
        let msg = b"go makes high-s signatures";
        let SignatureBytes::EcdsaP256(sig) = signer.sign(msg).unwrap() else {
            panic!()
        };
        let (r, s) = sig.split_scalars();
        let flipped = p256::ecdsa::Signature::from_scalars(r.to_bytes(), (-*s).to_bytes()).unwrap();
        assert_ne!(flipped, sig);
        let high = if flipped.normalize_s().is_some() {
            flipped
        } else {
            sig
        };
        assert!(high.normalize_s().is_some(), "have a high-S signature");
        for dialect in [Dialect::Notary, Dialect::TufSpec] {
            let key = Key::from_public_key(dialect, signer.public_key().clone());
            let wire = SignatureBytes::EcdsaP256(high).to_wire(dialect);
            key.verify(dialect, msg, &wire).unwrap();
        }
    }

    #[test]
    fn algorithm_comes_from_the_key() {
        let ed = SoftwareSigner::generate_ed25519();
        let ec = SoftwareSigner::generate_p256();
        let msg = b"m";
        let ed_sig = ed.sign(msg).unwrap().to_wire(Dialect::Notary);
        let ec_sig = ec.sign(msg).unwrap().to_wire(Dialect::Notary);
        let ec_key = Key::from_public_key(Dialect::Notary, ec.public_key().clone());
        let ed_key = Key::from_public_key(Dialect::Notary, ed.public_key().clone());
        // Both are 64 bytes: an ed25519 signature never verifies under an ECDSA key and
        // vice versa.
        assert!(ec_key.verify(Dialect::Notary, msg, &ed_sig).is_err());
        assert!(ed_key.verify(Dialect::Notary, msg, &ec_sig).is_err());
        assert!(ed_key.verify(Dialect::Notary, msg, &ed_sig[..63]).is_err());
        assert!(ed_key.verify(Dialect::Notary, msg, &[]).is_err());
    }

    #[test]
    fn tuf_ed25519_hex_and_notary_base64_same_identity() {
        let signer = SoftwareSigner::ed25519_from_seed([5; 32]);
        let PublicKey::Ed25519(vk) = signer.public_key() else {
            panic!()
        };
        let tuf = Key::from_json(
            Dialect::TufSpec,
            &tuf_key("ed25519", "ed25519", &hex::encode(vk.as_bytes())),
        )
        .unwrap();
        let notary = Key::from_json(
            Dialect::Notary,
            &notary_key("ed25519", &B64.encode(vk.as_bytes())),
        )
        .unwrap();
        assert_eq!(tuf.public_key().identity(), notary.public_key().identity());
        assert_ne!(tuf.key_id(), notary.key_id());
    }

    #[test]
    fn tuf_ed25519_wrong_length_rejected() {
        for n in [31usize, 33] {
            let v = tuf_key("ed25519", "ed25519", &hex::encode(vec![7u8; n]));
            assert!(matches!(
                Key::from_json(Dialect::TufSpec, &v),
                Err(KeyError::Length { expected: 32, .. })
            ));
            let v = notary_key("ed25519", &B64.encode(vec![7u8; n]));
            assert!(matches!(
                Key::from_json(Dialect::Notary, &v),
                Err(KeyError::Length { expected: 32, .. })
            ));
        }
    }

    #[test]
    fn tuf_unknown_fields_kept_and_hashed() {
        let signer = SoftwareSigner::ed25519_from_seed([6; 32]);
        let PublicKey::Ed25519(vk) = signer.public_key() else {
            panic!()
        };
        let mut v = tuf_key("ed25519", "ed25519", &hex::encode(vk.as_bytes()));
        if let JsonValue::Object(o) = &mut v {
            o.insert(
                "keyid_hash_algorithms".into(),
                JsonValue::Array(vec!["sha256".into(), "sha512".into()]),
            );
            o.insert("x-custom".into(), JsonValue::Int(7));
        }
        let key = Key::from_json(Dialect::TufSpec, &v).unwrap();
        assert_eq!(key.to_json(), v);
        assert_eq!(key.key_id(), KeyId::of_canonical(&to_canonical(&v)));
        assert_eq!(key.scheme(), Some("ed25519"));
        let plain = Key::from_public_key(Dialect::TufSpec, signer.public_key().clone());
        assert_ne!(plain.key_id(), key.key_id());
        assert_eq!(plain.public_key().identity(), key.public_key().identity());
    }

    #[test]
    fn tuf_ecdsa_forms() {
        let signer = SoftwareSigner::generate_p256();
        let PublicKey::EcdsaP256(vk) = signer.public_key() else {
            panic!()
        };
        let pem = signer.public_key().to_spki_pem();
        let sec1 = hex::encode(vk.to_encoded_point(false).as_bytes());
        let forms = [
            tuf_key("ecdsa", "ecdsa-sha2-nistp256", &pem),
            tuf_key("ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256", &pem),
            tuf_key("ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256", &sec1),
            tuf_key("ecdsa", "ecdsa-sha2-nistp256", &pem.replace('\n', "\r\n")),
        ];
        let keys: Vec<Key> = forms
            .iter()
            .map(|v| Key::from_json(Dialect::TufSpec, v).unwrap())
            .collect();
        for k in &keys {
            assert_eq!(k.public_key().identity(), signer.public_key().identity());
        }
        // Same key, different key ids: thresholds must count identities, not ids.
        assert_ne!(keys[0].key_id(), keys[1].key_id());
    }

    #[test]
    fn tuf_scheme_confusion_rejected() {
        let ec = SoftwareSigner::generate_p256();
        let ed = SoftwareSigner::ed25519_from_seed([1; 32]);
        let ec_pem = ec.public_key().to_spki_pem();
        let ed_pem = ed.public_key().to_spki_pem();
        let cases = [
            tuf_key("rsa", "ed25519", &ec_pem),
            tuf_key("ed25519", "ecdsa-sha2-nistp256", &ec_pem),
            tuf_key("ecdsa", "ecdsa-sha2-nistp384", &ec_pem),
            tuf_key("rsa", "rsa-pkcs1v15-sha256", &ec_pem),
            tuf_key("sphincs", "sphincs", "00"),
        ];
        for v in &cases {
            assert!(
                matches!(
                    Key::from_json(Dialect::TufSpec, v),
                    Err(KeyError::Unsupported { .. })
                ),
                "{v:?}"
            );
        }
        // A scheme that matches but material of another algorithm.
        assert!(matches!(
            Key::from_json(
                Dialect::TufSpec,
                &tuf_key("ecdsa", "ecdsa-sha2-nistp256", &ed_pem)
            ),
            Err(KeyError::Mismatch { .. })
        ));
        assert!(matches!(
            Key::from_json(
                Dialect::TufSpec,
                &tuf_key("rsa", "rsassa-pss-sha256", &ec_pem)
            ),
            Err(KeyError::Mismatch { .. })
        ));
        // Missing scheme.
        let no_scheme = obj(&[
            ("keytype", "ed25519".into()),
            ("keyval", obj(&[("public", hex::encode([1u8; 32]).into())])),
        ]);
        assert!(matches!(
            Key::from_json(Dialect::TufSpec, &no_scheme),
            Err(KeyError::Field {
                field: "scheme",
                ..
            })
        ));
    }

    #[test]
    fn notary_malformed_keys_rejected() {
        let ed = SoftwareSigner::ed25519_from_seed([1; 32]);
        let ed_spki = B64.encode(ed.public_key().spki_der());
        assert!(matches!(
            Key::from_json(Dialect::Notary, &notary_key("ecdsa", &ed_spki)),
            Err(KeyError::Mismatch { .. })
        ));
        assert!(matches!(
            Key::from_json(Dialect::Notary, &notary_key("ecdsa", "not base64!")),
            Err(KeyError::Encoding { .. })
        ));
        assert!(matches!(
            Key::from_json(Dialect::Notary, &notary_key("dsa", &ed_spki)),
            Err(KeyError::Unsupported { .. })
        ));
        assert!(Key::from_json(Dialect::Notary, &notary_key("ecdsa-x509", &ed_spki)).is_err());
        let with_private = obj(&[
            ("keytype", "ed25519".into()),
            (
                "keyval",
                obj(&[
                    ("private", "AAAA".into()),
                    ("public", ed_spki.clone().into()),
                ]),
            ),
        ]);
        assert!(Key::from_json(Dialect::Notary, &with_private).is_err());
        assert!(Key::from_json(Dialect::Notary, &JsonValue::Null).is_err());
        assert!(Key::from_json(Dialect::Notary, &obj(&[("keytype", "ed25519".into())])).is_err());
    }

    #[test]
    fn notary_key_id_ignores_extra_members_and_missing_private() {
        let signer = SoftwareSigner::p256_from_scalar_bytes(&[2; 32]).unwrap();
        let built = Key::from_public_key(Dialect::Notary, signer.public_key().clone());
        let public = B64.encode(signer.public_key().spki_der());
        let v = obj(&[
            ("keytype", "ecdsa".into()),
            ("keyval", obj(&[("public", public.clone().into())])),
            ("extra", JsonValue::Bool(true)),
        ]);
        let parsed = Key::from_json(Dialect::Notary, &v).unwrap();
        assert_eq!(parsed.key_id(), built.key_id());
        assert_eq!(parsed.to_json(), v);
        let canonical = format!(
            "{{\"keytype\":\"ecdsa\",\"keyval\":{{\"private\":null,\"public\":\"{public}\"}}}}"
        );
        assert_eq!(built.key_id(), KeyId::of_canonical(canonical.as_bytes()));
        assert_eq!(to_canonical(&built.to_json()), canonical.as_bytes());
    }
}
