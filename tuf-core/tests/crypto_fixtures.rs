//! Crypto against real Go Notary 0.7 fixtures, RSA-PSS, and root certificates.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use chrono::{TimeZone as _, Utc};
use tuf_core::crypto::{
    method_name, self_signed_root_certificate, Key, KeyError, KeyId, PublicKey, Signer as _,
    SoftwareSigner,
};
use tuf_core::dialect::Dialect;
use tuf_core::json::{to_canonical, JsonValue};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The shared directory: `$NOTARY_RS_SHARED`, else `shared/` two or three levels above the
/// crate (main checkout or worktree). Missing = failure, never a skip.
fn shared_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("NOTARY_RS_SHARED") {
        let p = PathBuf::from(dir);
        assert!(
            p.is_dir(),
            "NOTARY_RS_SHARED={} is not a directory",
            p.display()
        );
        return p;
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        manifest.join("../../shared"),
        manifest.join("../../../shared"),
    ];
    for c in &candidates {
        if c.join("fixtures/notary-0.7").is_dir() {
            return c.clone();
        }
    }
    panic!(
        "fixture directory not found: set NOTARY_RS_SHARED to the shared dir (tried {:?})",
        candidates
    );
}

fn notary_fixtures() -> PathBuf {
    shared_dir().join("fixtures/notary-0.7")
}

fn to_value(v: &serde_json::Value) -> JsonValue {
    match v {
        serde_json::Value::Null => JsonValue::Null,
        serde_json::Value::Bool(b) => JsonValue::Bool(*b),
        serde_json::Value::Number(n) => JsonValue::Int(
            n.as_i64()
                .map(i128::from)
                .or_else(|| n.as_u64().map(i128::from))
                .expect("integer"),
        ),
        serde_json::Value::String(s) => JsonValue::String(s.clone()),
        serde_json::Value::Array(a) => JsonValue::Array(a.iter().map(to_value).collect()),
        serde_json::Value::Object(o) => {
            JsonValue::Object(o.iter().map(|(k, v)| (k.clone(), to_value(v))).collect())
        }
    }
}

fn load(path: &Path) -> JsonValue {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    to_value(&serde_json::from_slice(&bytes).unwrap())
}

/// All `<fixture>/server` directories.
fn server_dirs() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(notary_fixtures())
        .unwrap()
        .map(|e| e.unwrap().path().join("server"))
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    assert!(
        out.len() >= 5,
        "expected the Notary fixture set, found {out:?}"
    );
    out
}

/// Metadata files in a server dir (recursing into `targets/`).
fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(json_files(&p));
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn is_root_file(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n == "root.json" || n.ends_with(".root.json"))
}

fn keys_of(signed: &JsonValue) -> Vec<(String, JsonValue)> {
    let mut out = Vec::new();
    let obj = signed.as_object().unwrap();
    let maps = [
        obj.get("keys"),
        obj.get("delegations")
            .and_then(|d| d.as_object())
            .and_then(|d| d.get("keys")),
    ];
    for map in maps.into_iter().flatten() {
        for (id, k) in map.as_object().unwrap() {
            out.push((id.clone(), k.clone()));
        }
    }
    out
}

#[test]
fn notary_fixture_key_ids_match_computed_ids() {
    let mut checked = 0;
    let mut files = Vec::new();
    for dir in server_dirs() {
        files.extend(json_files(&dir).into_iter().filter(|p| is_root_file(p)));
    }
    files.push(notary_fixtures().join("keys/root.json"));
    let mut keytypes = BTreeMap::new();
    for file in &files {
        let doc = load(file);
        let signed = doc.as_object().unwrap().get("signed").unwrap();
        for (id, k) in keys_of(signed) {
            let key = Key::from_json(Dialect::Notary, &k)
                .unwrap_or_else(|e| panic!("{}: key {id}: {e}", file.display()));
            assert_eq!(key.key_id().to_hex(), id, "{}", file.display());
            assert_eq!(KeyId::from_hex(&id).unwrap(), key.key_id());
            assert_eq!(key.to_json(), k);
            *keytypes.entry(key.keytype().to_owned()).or_insert(0) += 1;
            checked += 1;
        }
    }
    for kt in ["ecdsa", "ecdsa-x509", "ed25519"] {
        assert!(keytypes.contains_key(kt), "no {kt} key seen: {keytypes:?}");
    }
    assert!(checked > 20, "checked {checked}");
}

#[test]
fn notary_fixture_server_key_files_parse() {
    let mut n = 0;
    for dir in server_dirs() {
        for name in ["timestamp.key", "snapshot.key"] {
            let p = dir.join(name);
            if p.exists() {
                let key = Key::from_json(Dialect::Notary, &load(&p)).unwrap();
                assert!(matches!(key.keytype(), "ecdsa" | "ed25519"));
                n += 1;
            }
        }
    }
    assert!(n >= 10);
}

#[test]
fn notary_fixture_signatures_verify() {
    let mut verified = 0;
    for dir in server_dirs() {
        // Every key any root or targets file in this fixture lists, by id.
        let files = json_files(&dir);
        let mut keys: BTreeMap<String, Key> = BTreeMap::new();
        for f in &files {
            let doc = load(f);
            let signed = doc.as_object().unwrap().get("signed").unwrap();
            for (id, k) in keys_of(signed) {
                keys.insert(id, Key::from_json(Dialect::Notary, &k).unwrap());
            }
        }
        for f in &files {
            let doc = load(f);
            let obj = doc.as_object().unwrap();
            let message = to_canonical(obj.get("signed").unwrap());
            let mut file_verified = 0;
            for sig in obj.get("signatures").unwrap().as_array().unwrap() {
                let sig = sig.as_object().unwrap();
                let keyid = sig.get("keyid").unwrap().as_str().unwrap();
                let method = sig.get("method").unwrap().as_str().unwrap();
                let bytes = B64
                    .decode(sig.get("sig").unwrap().as_str().unwrap())
                    .unwrap();
                let Some(key) = keys.get(keyid) else {
                    continue;
                };
                key.verify(Dialect::Notary, &message, &bytes)
                    .unwrap_or_else(|e| panic!("{}: sig by {keyid}: {e}", f.display()));
                assert_eq!(method, method_name(Dialect::Notary, key.public_key()));
                // Tampering with either side is rejected.
                for i in [0, bytes.len() / 2, bytes.len() - 1] {
                    let mut bad = bytes.clone();
                    bad[i] ^= 0x01;
                    assert!(key.verify(Dialect::Notary, &message, &bad).is_err());
                }
                let mut bad_msg = message.clone();
                bad_msg[message.len() / 2] ^= 0x01;
                assert!(key.verify(Dialect::Notary, &bad_msg, &bytes).is_err());
                // The same signature re-encoded as DER is refused under Notary.
                let der = tuf_core::crypto::SignatureBytes::from_ecdsa_der(&{
                    let s = p256::ecdsa::Signature::from_slice(&bytes);
                    match s {
                        Ok(s) => s.to_der().as_bytes().to_vec(),
                        Err(_) => vec![0x30, 0x00],
                    }
                });
                if let (Ok(der), PublicKey::EcdsaP256(_)) = (der, key.public_key()) {
                    assert!(key
                        .verify(Dialect::Notary, &message, &der.to_wire(Dialect::TufSpec))
                        .is_err());
                }
                file_verified += 1;
            }
            assert!(
                file_verified >= 1,
                "{}: no verifiable signature",
                f.display()
            );
            verified += file_verified;
        }
    }
    assert!(verified > 30, "verified {verified}");
}

#[test]
fn ecdsa_and_ecdsa_x509_of_one_key_share_identity() {
    // keys/README.md: root.json's ecdsa-x509 key 4c18a127... wraps the public key of the
    // private key file 66b9c858... (named by the plain `ecdsa` key id).
    let doc = load(&notary_fixtures().join("keys/root.json"));
    let signed = doc.as_object().unwrap().get("signed").unwrap();
    let (_, k) = keys_of(signed)
        .into_iter()
        .find(|(id, _)| id.starts_with("4c18a127"))
        .unwrap();
    let x509 = Key::from_json(Dialect::Notary, &k).unwrap();
    assert_eq!(x509.keytype(), "ecdsa-x509");
    let plain = Key::from_public_key(Dialect::Notary, x509.public_key().clone());
    assert_eq!(plain.keytype(), "ecdsa");
    assert_eq!(
        plain.key_id().to_hex(),
        "66b9c858d2898b2bb45c52644538f8e8fc06a5321dd614a0325291d70b06dbda"
    );
    assert_ne!(plain.key_id(), x509.key_id());
    assert_eq!(plain.public_key().identity(), x509.public_key().identity());
}

#[test]
fn fixture_root_certificate_info() {
    let doc = load(&notary_fixtures().join("fresh/server/root.json"));
    let signed = doc.as_object().unwrap().get("signed").unwrap();
    let key = keys_of(signed)
        .into_iter()
        .map(|(_, k)| Key::from_json(Dialect::Notary, &k).unwrap())
        .find(|k| k.keytype() == "ecdsa-x509")
        .unwrap();
    let cert = key.certificate().unwrap();
    assert_eq!(cert.common_name.as_deref(), Some("example.com/app"));
    assert!(!cert.sha1_signature);
    assert_eq!(cert.signature_algorithm, "1.2.840.10045.4.3.2");
    assert_eq!((cert.not_after - cert.not_before).num_days(), 3650);
    assert_eq!(
        cert.not_before,
        Utc.with_ymd_and_hms(2026, 11, 24, 2, 48, 36).unwrap()
    );
    cert.verify_signature(key.public_key()).unwrap();
    // Another key does not verify it.
    let other = SoftwareSigner::generate_p256();
    assert!(cert.verify_signature(other.public_key()).is_err());
}

#[test]
fn self_signed_root_certificate_roundtrip() {
    let signer = SoftwareSigner::generate_p256();
    let nb = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
    let na = nb + chrono::Duration::days(3650);
    let pem = self_signed_root_certificate(&signer, "example.com/app", nb, na).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
    let key = Key::from_certificate_pem(&pem).unwrap();
    assert_eq!(key.keytype(), "ecdsa-x509");
    assert_eq!(key.public_key(), signer.public_key());
    let cert = key.certificate().unwrap();
    assert_eq!(cert.common_name.as_deref(), Some("example.com/app"));
    assert_eq!(cert.not_before, nb);
    assert_eq!(cert.not_after, na);
    assert!(!cert.sha1_signature);
    cert.verify_signature(key.public_key()).unwrap();
    // The key JSON is Notary's: base64 of the PEM text; it round-trips through from_json.
    let reparsed = Key::from_json(Dialect::Notary, &key.to_json()).unwrap();
    assert_eq!(reparsed.key_id(), key.key_id());
    let public = key.to_json().as_object().unwrap()["keyval"]
        .as_object()
        .unwrap()["public"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(B64.decode(public).unwrap(), pem.as_bytes());

    // Same shape as Go Notary's certificate: version, extensions, criticality, names.
    use der::{DecodePem as _, Encode as _};
    let ours = x509_cert::Certificate::from_pem(pem.as_bytes()).unwrap();
    let doc = load(&notary_fixtures().join("fresh/server/root.json"));
    let signed = doc.as_object().unwrap().get("signed").unwrap();
    let go_pem = keys_of(signed)
        .into_iter()
        .find(|(_, k)| k.as_object().unwrap()["keytype"].as_str() == Some("ecdsa-x509"))
        .map(|(_, k)| {
            let b64 = k.as_object().unwrap()["keyval"].as_object().unwrap()["public"]
                .as_str()
                .unwrap()
                .to_owned();
            String::from_utf8(B64.decode(b64).unwrap()).unwrap()
        })
        .unwrap();
    let go = x509_cert::Certificate::from_pem(go_pem.as_bytes()).unwrap();
    let (o, g) = (&ours.tbs_certificate, &go.tbs_certificate);
    assert_eq!(o.version, g.version);
    assert_eq!(o.signature, g.signature);
    assert_eq!(o.subject.to_der().unwrap(), g.subject.to_der().unwrap());
    assert_eq!(o.issuer, o.subject);
    assert_eq!(
        o.extensions, g.extensions,
        "extension bytes identical to Go's"
    );
    assert!(o.serial_number.as_bytes().len() >= 15);
    assert!(o.serial_number.as_bytes()[0] & 0x80 == 0, "positive serial");

    // Non-P-256 signers are refused; dates after 2049 use GeneralizedTime.
    let ed = SoftwareSigner::generate_ed25519();
    assert!(self_signed_root_certificate(&ed, "x", nb, na).is_err());
    let late = Utc.with_ymd_and_hms(2060, 1, 1, 0, 0, 0).unwrap();
    let pem = self_signed_root_certificate(&signer, "a_b", nb, late).unwrap();
    let cert = Key::from_certificate_pem(&pem).unwrap();
    assert_eq!(cert.certificate().unwrap().not_after, late);
    assert_eq!(
        cert.certificate().unwrap().common_name.as_deref(),
        Some("a_b")
    );
}

#[test]
fn rsa_pss_sign_verify_and_size_limits() {
    use rsa::pss::BlindedSigningKey;
    use rsa::signature::{RandomizedSigner as _, SignatureEncoding as _};
    use rsa::traits::PublicKeyParts as _;
    use sha2::Sha256;

    let mut rng = rand_core::OsRng;
    let private = rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap();
    let public = PublicKey::rsa_checked(private.to_public_key()).unwrap();
    let msg = b"{\"_type\":\"targets\"}";

    // Salt = digest length (Notary and securesystemslib).
    let signer = BlindedSigningKey::<Sha256>::new(private.clone());
    let sig = signer.sign_with_rng(&mut rng, msg).to_vec();
    // Maximum salt length (older securesystemslib): TufSpec only.
    let max_salt = 256 - 32 - 2;
    let signer_max = BlindedSigningKey::<Sha256>::new_with_salt_len(private.clone(), max_salt);
    let sig_max = signer_max.sign_with_rng(&mut rng, msg).to_vec();

    for dialect in [Dialect::Notary, Dialect::TufSpec] {
        let key = Key::from_public_key(dialect, public.clone());
        let key = Key::from_json(dialect, &key.to_json()).unwrap();
        assert_eq!(key.public_key(), &public);
        key.verify(dialect, msg, &sig).unwrap();
        let mut bad = sig.clone();
        bad[10] ^= 1;
        assert!(key.verify(dialect, msg, &bad).is_err());
        assert!(key.verify(dialect, b"other", &sig).is_err());
        assert!(key.verify(dialect, msg, &sig[1..]).is_err());
        assert!(key.verify(dialect, msg, &[0u8; 64]).is_err());
    }
    let notary = Key::from_public_key(Dialect::Notary, public.clone());
    let tuf = Key::from_public_key(Dialect::TufSpec, public.clone());
    assert_eq!(tuf.keytype(), "rsa");
    assert_eq!(tuf.scheme(), Some("rsassa-pss-sha256"));
    assert_eq!(method_name(Dialect::Notary, &public), "rsapss");
    tuf.verify(Dialect::TufSpec, msg, &sig_max).unwrap();
    assert!(notary.verify(Dialect::Notary, msg, &sig_max).is_err());

    // SPKI encoding matches the rsa crate's, and the identity is encoding-independent.
    use rsa::pkcs8::EncodePublicKey as _;
    let lib_der = private.to_public_key().to_public_key_der().unwrap();
    assert_eq!(public.spki_der(), lib_der.as_bytes());
    assert_eq!(
        PublicKey::from_spki_pem(&public.to_spki_pem()).unwrap(),
        public
    );

    // An Ed25519 signature never counts for an RSA key.
    let ed = SoftwareSigner::generate_ed25519();
    let ed_sig = ed.sign(msg).unwrap().to_wire(Dialect::Notary);
    assert!(notary.verify(Dialect::Notary, msg, &ed_sig).is_err());

    // 1024-bit keys are rejected at parse, in both dialects and through SPKI.
    let small = rsa::RsaPrivateKey::new(&mut rng, 1024)
        .unwrap()
        .to_public_key();
    let small_der = small.to_public_key_der().unwrap();
    assert!(matches!(
        PublicKey::from_spki_der(small_der.as_bytes()),
        Err(KeyError::RsaTooSmall {
            bits: 1024,
            min: 2048
        })
    ));
    let notary_json = {
        let mut o = tuf_core::json::JsonObject::new();
        let mut kv = tuf_core::json::JsonObject::new();
        kv.insert("private".into(), JsonValue::Null);
        kv.insert("public".into(), B64.encode(small_der.as_bytes()).into());
        o.insert("keytype".into(), "rsa".into());
        o.insert("keyval".into(), kv.into());
        JsonValue::Object(o)
    };
    assert!(matches!(
        Key::from_json(Dialect::Notary, &notary_json),
        Err(KeyError::RsaTooSmall { .. })
    ));
    let pem = small.to_public_key_pem(rsa::pkcs8::LineEnding::LF).unwrap();
    let tuf_json = {
        let mut o = tuf_core::json::JsonObject::new();
        let mut kv = tuf_core::json::JsonObject::new();
        kv.insert("public".into(), pem.into());
        o.insert("keytype".into(), "rsa".into());
        o.insert("scheme".into(), "rsassa-pss-sha256".into());
        o.insert("keyval".into(), kv.into());
        JsonValue::Object(o)
    };
    assert!(matches!(
        Key::from_json(Dialect::TufSpec, &tuf_json),
        Err(KeyError::RsaTooSmall { .. })
    ));
    // A weak exponent is refused.
    let weak = rsa::RsaPublicKey::new(private.to_public_key().n().clone(), 3u32.into()).unwrap();
    assert!(PublicKey::rsa_checked(weak).is_err());
}

mod no_panic_on_input {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = PublicKey::from_spki_der(&bytes);
            let _ = SoftwareSigner::from_pkcs8_der(&bytes);
            let _ = tuf_core::crypto::SignatureBytes::from_ecdsa_der(&bytes);
            let text = String::from_utf8_lossy(&bytes);
            let _ = PublicKey::from_spki_pem(&text);
            let _ = Key::from_certificate_pem(&text);
            let _ = KeyId::from_hex(&text);
            let ed = Key::from_public_key(Dialect::Notary, SoftwareSigner::ed25519_from_seed([3; 32]).public_key().clone());
            let ec = Key::from_public_key(Dialect::TufSpec, SoftwareSigner::p256_from_scalar_bytes(&[4; 32]).unwrap().public_key().clone());
            prop_assert!(ed.verify(Dialect::Notary, b"m", &bytes).is_err());
            prop_assert!(ec.verify(Dialect::TufSpec, b"m", &bytes).is_err());
            for (kt, dialect) in [("ed25519", Dialect::Notary), ("ecdsa", Dialect::Notary), ("ecdsa-x509", Dialect::Notary), ("ed25519", Dialect::TufSpec), ("ecdsa", Dialect::TufSpec)] {
                let mut kv = tuf_core::json::JsonObject::new();
                let public = if dialect == Dialect::Notary { B64.encode(&bytes) } else { hex::encode(&bytes) };
                kv.insert("public".into(), public.into());
                let mut o = tuf_core::json::JsonObject::new();
                o.insert("keytype".into(), kt.into());
                o.insert("scheme".into(), if kt == "ecdsa" { "ecdsa-sha2-nistp256".into() } else { kt.into() });
                o.insert("keyval".into(), kv.into());
                let _ = Key::from_json(dialect, &JsonValue::Object(o));
            }
        }
    }
}
