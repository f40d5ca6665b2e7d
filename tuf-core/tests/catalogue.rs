//! Security acceptance tests: catalogue rows A01–A10 and B01, B05–B09 of
//! `security.md` §7, run in both dialects wherever the case applies.
//!
//! Every rejection also checks that the trusted set is unchanged (`common::rejected`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::Duration;
use common::*;
use tuf_core::crypto::{Key, SignatureBytes, Signer, SoftwareSigner};
use tuf_core::editor::EditError;
use tuf_core::error::{MetadataError, UpdateError};
use tuf_core::json::{JsonObject, JsonValue};
use tuf_core::role::{Threshold, TopRole};
use tuf_core::trusted_set::{TimestampUpdate, TrustedSet};
use tuf_core::Dialect;

/// Key ids of a top-level role in root bytes.
fn role_keyids(root: &[u8], role: &str) -> Vec<String> {
    let (signed, _) = split(root);
    signed.as_object().unwrap()["roles"].as_object().unwrap()[role]
        .as_object()
        .unwrap()["keyids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// The next root (version + 1) after `edit`, signed by the repository's root key.
fn next_root(repo: &Repo, edit: impl FnOnce(&mut JsonObject)) -> Vec<u8> {
    let last = repo.roots.last().unwrap().clone();
    let root_id = role_keyids(&last, "root")[0].clone();
    resign(
        repo.d,
        &last,
        |o| {
            let v = o["version"].as_u64().unwrap();
            o.insert("version".into(), (v + 1).into());
            edit(o);
        },
        &[(&root_id, &repo.root_s)],
    )
}

fn set_role(o: &mut JsonObject, role: &str, keyids: &[&str], threshold: JsonValue) {
    let roles = obj_mut(o.get_mut("roles").unwrap());
    let r = obj_mut(roles.get_mut(role).unwrap());
    r.insert(
        "keyids".into(),
        JsonValue::Array(keyids.iter().map(|k| (*k).into()).collect()),
    );
    r.insert("threshold".into(), threshold);
}

fn add_key(o: &mut JsonObject, id: &str, key: JsonValue) {
    obj_mut(o.get_mut("keys").unwrap()).insert(id.into(), key);
}

fn is_threshold(e: &UpdateError) -> bool {
    matches!(e, UpdateError::Threshold { .. })
}

fn is_metadata(e: &UpdateError) -> bool {
    matches!(e, UpdateError::Metadata(_))
}

/// A client that trusts the latest root only (timestamp not loaded yet).
fn root_client(repo: &Repo) -> TrustedSet {
    repo.client_root()
}

// ------------------------------------------------------------------------------------ A01

/// Timestamp role with keys K1 (P-256) and K2 (ed25519), threshold 2; returns the repo,
/// the signers and their key ids.
fn threshold_two_timestamp(d: Dialect) -> (Repo, p256::ecdsa::SigningKey, SoftwareSigner) {
    let mut repo = Repo::new(d);
    let k1_secret = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
    let k1 = SoftwareSigner::p256_from_scalar_bytes(&k1_secret.to_bytes()).unwrap();
    let k2 = SoftwareSigner::generate_ed25519();
    repo.ed
        .set_role_keys(
            TopRole::Timestamp,
            vec![key_of(d, &k1), key_of(d, &k2)],
            Threshold::new(2).unwrap(),
        )
        .unwrap();
    repo.extra.push(k1);
    repo.extra.push(k2);
    repo.sign();
    let k2 = repo.extra.pop().unwrap();
    (repo, k1_secret, k2)
}

#[test]
fn a01_duplicate_signatures_do_not_count_twice() {
    use p256::ecdsa::signature::RandomizedSigner as _;
    for d in DIALECTS {
        let (repo, k1_secret, k2) = threshold_two_timestamp(d);
        let k1 = &repo.extra[0];
        let id1 = key_of(d, k1).key_id().to_hex();
        let id2 = key_of(d, &k2).key_id().to_hex();
        let good = repo.file("timestamp");
        // The editor's file is accepted.
        repo.client_root().update_timestamp(&good).unwrap();
        let (signed, _) = split(&good);
        let s1 = sign_as(d, &signed, &id1, k1);

        // K1's signature twice under the same key id.
        let dup = envelope(&signed, vec![s1.clone(), s1.clone()]);
        let mut ts = root_client(&repo);
        let e = rejected(&mut ts, |t| t.update_timestamp(&dup));
        assert!(is_threshold(&e), "{d:?}: {e:?}");

        // K1 signs twice with different ECDSA signature bytes (randomised nonce).
        let canonical = tuf_core::json::to_canonical(&signed);
        let other: p256::ecdsa::Signature =
            k1_secret.sign_with_rng(&mut rand_core::OsRng, &canonical);
        let other_wire = SignatureBytes::EcdsaP256(other).to_wire(d);
        let s1b = sig_json(d, &id1, method(d, k1), &other_wire);
        assert_ne!(s1, s1b, "the two ECDSA signatures must differ");
        let twice = envelope(&signed, vec![s1.clone(), s1b.clone()]);
        let e = rejected(&mut ts, |t| t.update_timestamp(&twice));
        assert!(is_threshold(&e), "{d:?}: {e:?}");
        // ...and the second one is a valid signature on its own (with K2's).
        let s2 = sign_as(d, &signed, &id2, &k2);
        let ok = envelope(&signed, vec![s1b, s2.clone()]);
        root_client(&repo).update_timestamp(&ok).unwrap();

        // K1 valid + K2 garbage + K2 valid: the invalid one does not abort counting.
        let garbage = sig_json(d, &id2, method(d, &k2), &[0x42; 64]);
        let mixed = envelope(&signed, vec![s1, garbage, s2]);
        assert_eq!(
            root_client(&repo).update_timestamp(&mixed).unwrap(),
            TimestampUpdate::Updated
        );
    }
}

// ------------------------------------------------------------------------------------ A02

/// (description, root v2, signatures to make: key id and signer).
type Variant<'a> = (String, Vec<u8>, Vec<(String, &'a dyn Signer)>);

#[test]
fn a02_same_public_key_under_two_key_ids_counts_once() {
    for d in DIALECTS {
        let repo = Repo::new(d);
        let mut variants: Vec<Variant<'_>> = Vec::new();
        let p256 = SoftwareSigner::generate_p256();
        match d {
            Dialect::TufSpec => {
                // (1) the timestamp key, once as is and once with an extra member.
                let k = key_of(d, &repo.timestamp_s);
                let id1 = k.key_id().to_hex();
                let mut extra = k.to_json();
                obj_mut(&mut extra).insert("x-extra".into(), "1".into());
                let id2 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
                    tuf_core::json::to_canonical(&extra),
                ));
                assert_ne!(id1, id2);
                let root = next_root(&repo, |o| {
                    add_key(o, &id2, extra.clone());
                    set_role(o, "timestamp", &[&id1, &id2], 2u64.into());
                });
                variants.push((
                    "extra member".into(),
                    root,
                    vec![(id1.clone(), &repo.timestamp_s), (id2, &repo.timestamp_s)],
                ));
                // (2) the same key JSON listed under an arbitrary second id.
                let id3 = "ab".repeat(32);
                let root = next_root(&repo, |o| {
                    add_key(o, &id3, k.to_json());
                    set_role(o, "timestamp", &[&id1, &id3], 2u64.into());
                });
                variants.push((
                    "same JSON, other id".into(),
                    root,
                    vec![(id1.clone(), &repo.timestamp_s), (id3, &repo.timestamp_s)],
                ));
                // (3) a P-256 key as `ecdsa` and as legacy `ecdsa-sha2-nistp256`.
                let k = key_of(d, &p256);
                let ida = k.key_id().to_hex();
                let mut legacy = k.to_json();
                obj_mut(&mut legacy).insert("keytype".into(), "ecdsa-sha2-nistp256".into());
                let idb = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
                    tuf_core::json::to_canonical(&legacy),
                ));
                let root = next_root(&repo, |o| {
                    add_key(o, &ida, k.to_json());
                    add_key(o, &idb, legacy.clone());
                    set_role(o, "timestamp", &[&ida, &idb], 2u64.into());
                });
                variants.push((
                    "ecdsa vs ecdsa-sha2-nistp256".into(),
                    root,
                    vec![(ida, &p256), (idb, &p256)],
                ));
            }
            Dialect::Notary => {
                // The root signer's P-256 key as `ecdsa-x509` (root cert) and as plain `ecdsa`.
                let cert_id = role_keyids(repo.roots.last().unwrap(), "root")[0].clone();
                let plain = key_of(d, &repo.root_s);
                let plain_id = plain.key_id().to_hex();
                assert_ne!(cert_id, plain_id);
                let root = next_root(&repo, |o| {
                    add_key(o, &plain_id, plain.to_json());
                    set_role(o, "timestamp", &[&cert_id, &plain_id], 2u64.into());
                });
                variants.push((
                    "ecdsa-x509 vs ecdsa".into(),
                    root,
                    vec![(cert_id, &repo.root_s), (plain_id, &repo.root_s)],
                ));
            }
        }
        for (what, root, sigs) in variants {
            let mut ts = TrustedSet::new(config(d), &repo.roots[0], now()).unwrap();
            // Either the root is refused outright, or the key counts once.
            if let Err(e) = ts.update_root(&root) {
                assert!(is_metadata(&e), "{d:?} {what}: {e:?}");
                eprintln!("{d:?} {what}: root refused at load: {e}");
                continue;
            }
            let ts_file = repo.file("timestamp");
            let (signed, _) = split(&ts_file);
            let sigs = sigs
                .iter()
                .map(|(id, s)| sign_as(d, &signed, id, *s))
                .collect();
            let bytes = envelope(&signed, sigs);
            let e = rejected(&mut ts, |t| t.update_timestamp(&bytes));
            assert!(is_threshold(&e), "{d:?} {what}: {e:?}");
        }
    }
}

// ------------------------------------------------------------------------------------ A03

fn bad_thresholds() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("0", b"0".to_vec()),
        ("-1", b"-1".to_vec()),
        ("\"1\"", b"\"1\"".to_vec()),
        ("1.0", b"1.0".to_vec()),
        ("2^64", b"18446744073709551616".to_vec()),
    ]
}

/// Replaces the JSON text of the `n`th `"threshold":1` in `bytes` with `with`.
fn replace_threshold(bytes: &[u8], n: usize, with: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let pat = "\"threshold\":1";
    let (pos, _) = text.match_indices(pat).nth(n).unwrap();
    let mut out = text.as_bytes()[..pos].to_vec();
    out.extend_from_slice(b"\"threshold\":");
    out.extend_from_slice(with);
    out.extend_from_slice(&text.as_bytes()[pos + pat.len()..]);
    out
}

#[test]
fn a03_invalid_thresholds_are_parse_errors() {
    for d in DIALECTS {
        let mut repo = Repo::new(d);
        let (_, k) = repo.new_signer();
        repo.delegate("", "team", &["team/*"], false, vec![k], 1);
        repo.sign();
        for (what, lit) in bad_thresholds() {
            // Root roles: the root role (and the others) of the local root and of a new root.
            // Signatures are over the canonical form, which these literals would change, so the
            // error must come from parsing, before any signature check.
            for n in 0..4 {
                let bad = replace_threshold(&repo.roots[0], n, &lit);
                let e = TrustedSet::new(config(d), &bad, now()).unwrap_err();
                assert!(is_metadata(&e), "{d:?} threshold {what} role {n}: {e:?}");
                let next = next_root(&repo, |_| {});
                let bad = replace_threshold(&next, n, &lit);
                let mut ts = repo.client_root();
                let e = rejected(&mut ts, |t| t.update_root(&bad).map(|_| ()));
                assert!(is_metadata(&e), "{d:?} threshold {what}: {e:?}");
            }
            // A delegation: targets listing the delegation with the bad threshold, correctly
            // described by snapshot and timestamp.
            let bad = replace_threshold(&repo.file("targets"), 0, &lit);
            let (snap, tsf) = repo.rechain("targets", &bad, version_of(&repo.file("targets")));
            let mut ts = repo.client_root();
            ts.update_timestamp(&tsf).unwrap();
            ts.update_snapshot(&snap).unwrap();
            let e = rejected(&mut ts, |t| t.update_targets(&bad));
            assert!(is_metadata(&e), "{d:?} delegation threshold {what}: {e:?}");
        }
    }
}

#[test]
fn a03_threshold_above_key_count_refused_and_fails_verification() {
    for d in DIALECTS {
        let mut repo = Repo::new(d);
        let k = key_of(d, &repo.timestamp_s);
        let e = repo
            .ed
            .set_role_keys(TopRole::Timestamp, vec![k], Threshold::new(2).unwrap())
            .unwrap_err();
        assert!(matches!(e, EditError::ThresholdExceedsKeys { .. }), "{e:?}");
        let (_, dk) = repo.new_signer();
        let e = repo
            .ed
            .add_delegation(
                &dparent(d, ""),
                tuf_core::role::DelegatedRole {
                    name: tuf_core::name::RoleName::delegated(d, &dname(d, "team")).unwrap(),
                    keys: tuf_core::role::RoleKeys {
                        keyids: vec![dk.key_id()],
                        threshold: Threshold::new(2).unwrap(),
                    },
                    terminating: false,
                    paths: tuf_core::role::PathSpec::Patterns(vec!["team/".into()]),
                },
                vec![dk.clone()],
            )
            .unwrap_err();
        assert!(matches!(e, EditError::ThresholdExceedsKeys { .. }), "{e:?}");

        // Hand-made root: timestamp threshold 2 with one key.
        let ts_id = key_of(d, &repo.timestamp_s).key_id().to_hex();
        let root = next_root(&repo, |o| set_role(o, "timestamp", &[&ts_id], 2u64.into()));
        let mut ts = repo.client_root();
        if ts.update_root(&root).is_ok() {
            let e = rejected(&mut ts, |t| t.update_timestamp(&repo.file("timestamp")));
            assert!(is_threshold(&e), "{d:?}: {e:?}");
        }
        // Hand-made local root whose root role needs 2 of 1 key.
        let root_id = role_keyids(&repo.roots[0], "root")[0].clone();
        let bad = resign(
            d,
            &repo.roots[0],
            |o| set_role(o, "root", &[&root_id], 2u64.into()),
            &[(&root_id, &repo.root_s)],
        );
        assert!(TrustedSet::new(config(d), &bad, now()).is_err());

        // Hand-made delegation with threshold 2 and one key.
        repo.delegate("", "team", &["team/"], false, vec![dk], 1);
        repo.ed
            .add_target(
                &dname(d, "team"),
                "team/x",
                tuf_core::role::TargetEntry::for_data(b"x"),
            )
            .unwrap();
        repo.sign();
        let targets = repo.file("targets");
        let t_id = key_of(d, &repo.targets_s).key_id().to_hex();
        let bad = resign(
            d,
            &targets,
            |o| {
                let dl = obj_mut(o.get_mut("delegations").unwrap());
                let roles = match dl.get_mut("roles").unwrap() {
                    JsonValue::Array(a) => a,
                    _ => panic!(),
                };
                obj_mut(&mut roles[0]).insert("threshold".into(), 2u64.into());
            },
            &[(&t_id, &repo.targets_s)],
        );
        let (snap, tsf) = repo.rechain("targets", &bad, version_of(&targets));
        let mut ts = repo.client_root();
        ts.update_timestamp(&tsf).unwrap();
        ts.update_snapshot(&snap).unwrap();
        if ts.update_targets(&bad).is_ok() {
            let team = dname(d, "team");
            let file = repo.file(&team);
            let e = rejected(&mut ts, |t| t.update_delegated("targets", &team, &file));
            assert!(is_threshold(&e), "{d:?}: {e:?}");
        }
    }
}

// ------------------------------------------------------------------------------------ A04

const RSA_2048_PUB: &str = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAq/37wr6kCUYHm4JfjjlG\nDwkQE2KN+w9or2uaGjrxcAnNykXmlOHLPReJyt9qFgLeoqZx5P63Og1vJFK6+yQd\nROPjAQY8R9rrY9E0o/EQaDhyC4roS1CZpVOegcla4RDDpy6MmBJ3M6WyS6q8wPth\nuJ+qGED2b1ksZoe8VwGtV3C3a0PRe2No6E7b5qZpFaKDlxGJBQgt7IiUbrT5fRw8\nas5IWqPb90RNcnyEXniV6llLcqjnFXOOWWOgHPaEr4IzCT0QkFS9HU1qee1nlUgH\nnHvCWOX/ryNkc7vH2vesTTWSpMtRtlLziKgxmHkLiFGaFgCvSBGIeWbdFtJ2PVHd\nSQIDAQAB\n-----END PUBLIC KEY-----\n";
const RSA_1024_PUB: &str = "-----BEGIN PUBLIC KEY-----\nMIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDTAhvh9AigdB3CK5cB0n3G2cDh\nxe2SPKQ26ajICiS+2ysne4ueC8pPCz0EeLNTMN/iKkdC9bw0T8D8PB7P58G3xc15\nJBO3khJvotDKs20SMBwsDD9LMmPK/tJiNdT2anI69q4Q2IhbKdoX2Pp5EM8wyTx2\nS9dfX+trDqOBB5pB3wIDAQAB\n-----END PUBLIC KEY-----\n";

fn key_json(d: Dialect, keytype: &str, scheme: &str, public: &str) -> JsonValue {
    let mut keyval = JsonObject::new();
    keyval.insert("public".into(), public.into());
    let mut o = JsonObject::new();
    o.insert("keytype".into(), keytype.into());
    if d == Dialect::TufSpec {
        o.insert("scheme".into(), scheme.into());
    } else {
        keyval.insert("private".into(), JsonValue::Null);
    }
    o.insert("keyval".into(), keyval.into());
    JsonValue::Object(o)
}

fn json_key_id(d: Dialect, key: &JsonValue) -> String {
    match Key::from_json(d, key) {
        Ok(k) => k.key_id().to_hex(),
        Err(_) => hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
            tuf_core::json::to_canonical(key),
        )),
    }
}

/// Root v2 whose timestamp role is the single key `key`; then a timestamp whose signature
/// object is produced by `sig` must not verify. Either root or timestamp must be refused.
fn timestamp_key_must_not_verify(
    repo: &Repo,
    what: &str,
    key: JsonValue,
    sig: impl Fn(&JsonValue, &str) -> JsonValue,
) {
    let d = repo.d;
    let id = json_key_id(d, &key);
    let root = next_root(repo, |o| {
        add_key(o, &id, key.clone());
        set_role(o, "timestamp", &[&id], 1u64.into());
    });
    let mut ts = TrustedSet::new(config(d), &repo.roots[0], now()).unwrap();
    if let Err(e) = ts.update_root(&root) {
        assert!(is_metadata(&e), "{d:?} {what}: {e:?}");
        eprintln!("{d:?} {what}: root refused at load: {e}");
        return;
    }
    let (signed, _) = split(&repo.file("timestamp"));
    let bytes = envelope(&signed, vec![sig(&signed, &id)]);
    let e = rejected(&mut ts, |t| t.update_timestamp(&bytes));
    assert!(is_threshold(&e), "{d:?} {what}: {e:?}");
}

#[test]
fn a04_key_and_scheme_confusion() {
    let rsa_der = {
        let b64: String = RSA_2048_PUB
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64).unwrap()
    };
    for d in DIALECTS {
        let repo = Repo::new(d);
        let ed = &repo.timestamp_s;
        let ed_pub = match ed.public_key() {
            tuf_core::crypto::PublicKey::Ed25519(k) => k.as_bytes().to_vec(),
            _ => unreachable!(),
        };
        let enc = |b: &[u8]| match d {
            Dialect::Notary => encode_sig(d, b),
            Dialect::TufSpec => hex::encode(b),
        };
        let ed_sig = |signed: &JsonValue, id: &str| sign_as(d, signed, id, ed);
        // RSA key declared with scheme ed25519 (TUF) / an RSA key whose signature is ed25519.
        let rsa_public = match d {
            Dialect::Notary => encode_sig(d, &rsa_der),
            Dialect::TufSpec => RSA_2048_PUB.to_owned(),
        };
        timestamp_key_must_not_verify(
            &repo,
            "rsa key, ed25519 scheme",
            key_json(d, "rsa", "ed25519", &rsa_public),
            ed_sig,
        );
        // Ed25519 public keys of 31 and 33 bytes.
        for len in [31, 33] {
            let mut p = ed_pub.clone();
            p.resize(len, 0);
            let key = key_json(d, "ed25519", "ed25519", &enc(&p));
            assert!(Key::from_json(d, &key).is_err());
            timestamp_key_must_not_verify(&repo, "short/long ed25519", key, ed_sig);
        }
        // An EC point not on the curve.
        let mut bad_point = vec![4u8];
        bad_point.extend_from_slice(&[1u8; 64]);
        let key = match d {
            Dialect::Notary => key_json(d, "ecdsa", "", &encode_sig(d, &bad_point)),
            Dialect::TufSpec => {
                key_json(d, "ecdsa", "ecdsa-sha2-nistp256", &hex::encode(&bad_point))
            }
        };
        timestamp_key_must_not_verify(&repo, "point off curve", key, ed_sig);
        // Ed25519 key with an ECDSA scheme (TUF).
        if d == Dialect::TufSpec {
            let key = key_json(d, "ed25519", "ecdsa-sha2-nistp256", &hex::encode(&ed_pub));
            timestamp_key_must_not_verify(&repo, "ed25519 key, ecdsa scheme", key, ed_sig);
        }
        // RSA 1024-bit: rejected at parse.
        let rsa1024 = match d {
            Dialect::Notary => {
                let b64: String = RSA_1024_PUB
                    .lines()
                    .filter(|l| !l.starts_with("-----"))
                    .collect();
                b64
            }
            Dialect::TufSpec => RSA_1024_PUB.to_owned(),
        };
        let key = key_json(d, "rsa", "rsassa-pss-sha256", &rsa1024);
        assert!(
            Key::from_json(d, &key).is_err(),
            "{d:?}: 1024-bit RSA accepted"
        );
        timestamp_key_must_not_verify(&repo, "rsa 1024", key, ed_sig);

        // ECDSA timestamp key: DER where Notary expects raw r||s, raw where TUF expects DER.
        let p = SoftwareSigner::generate_p256();
        let pk = key_of(d, &p);
        let wrong_encoding = |signed: &JsonValue, id: &str| {
            let sig = p.sign(&tuf_core::json::to_canonical(signed)).unwrap();
            let other = match d {
                Dialect::Notary => Dialect::TufSpec,
                Dialect::TufSpec => Dialect::Notary,
            };
            sig_json(d, id, method(d, &p), &sig.to_wire(other))
        };
        timestamp_key_must_not_verify(&repo, "ecdsa wrong encoding", pk.to_json(), wrong_encoding);

        // Notary `method` naming another algorithm does not matter: the key decides.
        if d == Dialect::Notary {
            let ts_file = repo.file("timestamp");
            let (signed, sigs) = split(&ts_file);
            for m in ["rsapss", "ecdsa", "rsa", "bogus"] {
                let mut s = sigs[0].clone();
                obj_mut(&mut s).insert("method".into(), m.into());
                let bytes = envelope(&signed, vec![s]);
                repo.client_root().update_timestamp(&bytes).unwrap();
            }
        }
    }
}

/// RSA-PSS signer over a fixed 2048-bit test key (generated once with openssl for these tests).
struct RsaSigner {
    key: rsa::RsaPrivateKey,
    public: tuf_core::crypto::PublicKey,
}

impl RsaSigner {
    fn from_public_pem_and_private(key: rsa::RsaPrivateKey) -> Self {
        let public =
            tuf_core::crypto::PublicKey::rsa_checked(rsa::RsaPublicKey::from(&key)).unwrap();
        Self { key, public }
    }
}

impl Signer for RsaSigner {
    fn public_key(&self) -> &tuf_core::crypto::PublicKey {
        &self.public
    }
    fn sign(&self, message: &[u8]) -> Result<SignatureBytes, tuf_core::crypto::SignError> {
        use rsa::signature::{RandomizedSigner as _, SignatureEncoding as _};
        let sk = rsa::pss::BlindedSigningKey::<sha2::Sha256>::new(self.key.clone());
        let sig = sk.sign_with_rng(&mut rand_core::OsRng, message);
        Ok(SignatureBytes::RsaPss(sig.to_vec()))
    }
}

const RSA_2048_PKCS8: &str = include_str!("rsa2048.pkcs8.b64");

#[test]
fn a01_rsa_pss_signed_twice_counts_once() {
    use rsa::pkcs8::DecodePrivateKey as _;
    let der = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        RSA_2048_PKCS8.trim(),
    )
    .unwrap();
    let rsa_s =
        RsaSigner::from_public_pem_and_private(rsa::RsaPrivateKey::from_pkcs8_der(&der).unwrap());
    for d in DIALECTS {
        let repo = Repo::new(d);
        let k1 = Key::from_public_key(d, rsa_s.public_key().clone());
        let k2 = key_of(d, &repo.timestamp_s);
        let (id1, id2) = (k1.key_id().to_hex(), k2.key_id().to_hex());
        let root = next_root(&repo, |o| {
            add_key(o, &id1, k1.to_json());
            set_role(o, "timestamp", &[&id1, &id2], 2u64.into());
        });
        let mut ts = repo.client_root();
        ts.update_root(&root).unwrap();
        let (signed, _) = split(&repo.file("timestamp"));
        let a = sign_as(d, &signed, &id1, &rsa_s);
        let b = sign_as(d, &signed, &id1, &rsa_s);
        assert_ne!(a, b, "RSA-PSS signatures are randomised");
        let twice = envelope(&signed, vec![a.clone(), b]);
        let e = rejected(&mut ts, |t| t.update_timestamp(&twice));
        assert!(is_threshold(&e), "{d:?}: {e:?}");
        let ok = envelope(
            &signed,
            vec![a, sign_as(d, &signed, &id2, &repo.timestamp_s)],
        );
        ts.update_timestamp(&ok).unwrap();
    }
}

// ------------------------------------------------------------------------------------ A05

fn replace_once(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let s = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(s.contains(from), "{from} not in {s}");
    s.replacen(from, to, 1).into_bytes()
}

fn is_json_error(e: &UpdateError) -> bool {
    matches!(e, UpdateError::Metadata(MetadataError::Json { .. }))
}

#[test]
fn a05_duplicate_json_members_are_parse_errors() {
    for d in DIALECTS {
        let repo = Repo::new(d);
        // `version` twice in signed: root, timestamp.
        let dup_root = replace_once(&repo.roots[0], "\"signed\":{", "\"signed\":{\"version\":9,");
        let e = TrustedSet::new(config(d), &dup_root, now()).unwrap_err();
        assert!(is_json_error(&e), "{d:?}: {e:?}");
        let tsf = repo.file("timestamp");
        let dup_ts = replace_once(&tsf, "\"signed\":{", "\"signed\":{\"version\":9,");
        let mut ts = repo.client_root();
        let e = rejected(&mut ts, |t| t.update_timestamp(&dup_ts));
        assert!(is_json_error(&e), "{d:?}: {e:?}");
        // Also with every signature stripped: the parse error comes first.
        let (signed, _) = split(&tsf);
        let unsigned = envelope(&signed, vec![]);
        let dup = replace_once(&unsigned, "\"signed\":{", "\"signed\":{\"version\":9,");
        let e = rejected(&mut ts, |t| t.update_timestamp(&dup));
        assert!(is_json_error(&e), "{d:?}: {e:?}");
        // Duplicate `signed` at top level.
        let signed_text = String::from_utf8(tuf_core::json::to_canonical(&signed)).unwrap();
        let mut dup = tsf[..tsf.len() - 1].to_vec();
        dup.extend_from_slice(format!(",\"signed\":{signed_text}}}").as_bytes());
        let e = rejected(&mut ts, |t| t.update_timestamp(&dup));
        assert!(is_json_error(&e), "{d:?}: {e:?}");
        // Duplicate target path, with snapshot and timestamp describing the file.
        let targets = repo.file("targets");
        let dup = replace_once(
            &targets,
            "\"targets\":{\"a.txt\":",
            "\"targets\":{\"a.txt\":{\"hashes\":{},\"length\":0},\"a.txt\":",
        );
        let (snap, tsf) = repo.rechain("targets", &dup, version_of(&targets));
        let mut ts = repo.client_root();
        ts.update_timestamp(&tsf).unwrap();
        ts.update_snapshot(&snap).unwrap();
        let e = rejected(&mut ts, |t| t.update_targets(&dup));
        assert!(is_json_error(&e), "{d:?}: {e:?}");
    }
}

// ------------------------------------------------------------------------------------ A06

#[test]
fn a06_structural_fuzz_gives_typed_errors() {
    for d in DIALECTS {
        let repo = Repo::new(d);
        let tsf = repo.file("timestamp");
        let (signed, sigs) = split(&tsf);
        let with = |edit: &dyn Fn(&mut JsonObject)| {
            let mut s = signed.clone();
            edit(obj_mut(&mut s));
            envelope(&s, sigs.clone())
        };
        let text = String::from_utf8(tsf.clone()).unwrap();
        let version_literal = format!("\"version\":{}", version_of(&tsf));
        let with_version = |lit: &str| {
            text.replacen(&version_literal, &format!("\"version\":{lit}"), 1)
                .into_bytes()
        };
        let mut cases: Vec<(&str, Vec<u8>)> = vec![
            ("missing signed", b"{\"signatures\":[]}".to_vec()),
            (
                "signed is an array",
                b"{\"signatures\":[],\"signed\":[]}".to_vec(),
            ),
            (
                "signed is a string",
                b"{\"signatures\":[],\"signed\":\"x\"}".to_vec(),
            ),
            ("not an object", b"[]".to_vec()),
            ("empty", Vec::new()),
            (
                "_type missing",
                with(&|o| {
                    o.remove("_type");
                }),
            ),
            (
                "_type number",
                with(&|o| {
                    o.insert("_type".into(), 1u64.into());
                }),
            ),
            (
                "_type with NUL",
                with(&|o| {
                    o.insert("_type".into(), "timestamp\u{0}".into());
                }),
            ),
            ("version float", with_version("1.5")),
            ("version exponent", with_version("1e3")),
            ("version string", with_version("\"1\"")),
            ("version 2^64", with_version("18446744073709551616")),
            ("version negative", with_version("-1")),
            (
                "raw NUL in string",
                text.replacen("\"signed\"", "\"sig\u{0}ned\"", 1)
                    .into_bytes(),
            ),
            ("trailing data", [tsf.as_slice(), b"x"].concat()),
            ("trailing value", [tsf.as_slice(), b"{}"].concat()),
        ];
        let mut non_utf8 = tsf.clone();
        let pos = text.find("\"signed\"").unwrap() + 2;
        non_utf8[pos] = 0xff;
        cases.push(("non-UTF-8", non_utf8));
        let mut ts = repo.client_root();
        for (what, bytes) in &cases {
            let e = rejected(&mut ts, |t| t.update_timestamp(bytes));
            assert!(is_metadata(&e), "{d:?} {what}: {e:?}");
            let e = TrustedSet::new(config(d), bytes, now()).unwrap_err();
            assert!(is_metadata(&e), "{d:?} {what} as root: {e:?}");
        }
        // Large inputs, through the parser with limits large enough to reach the content.
        let limits = tuf_core::json::JsonLimits {
            max_bytes: 4 << 20,
            max_depth: 64,
        };
        let mut big_number = b"{\"signatures\":[],\"signed\":{\"version\":".to_vec();
        big_number.extend(std::iter::repeat_n(b'9', 1 << 20));
        big_number.extend_from_slice(b"}}");
        let deep = [vec![b'['; 10_000], vec![b']'; 10_000]].concat();
        for (what, bytes) in [("1 MB number", big_number), ("10 000 [", deep)] {
            let start = std::time::Instant::now();
            let r = tuf_core::envelope::Signed::<tuf_core::role::Timestamp>::parse(
                d,
                "timestamp",
                &bytes,
                &limits,
            );
            assert!(
                matches!(r, Err(MetadataError::Json { .. })),
                "{what}: {r:?}"
            );
            assert!(
                start.elapsed() < std::time::Duration::from_secs(2),
                "{what} slow"
            );
            // Through the trusted set: refused (too large or malformed), never a panic.
            let e = rejected(&mut ts, |t| t.update_timestamp(&bytes));
            assert!(
                is_metadata(&e) || matches!(e, UpdateError::TooLarge { .. }),
                "{what}: {e:?}"
            );
            assert!(TrustedSet::new(config(d), &bytes, now()).is_err());
        }
    }
}

// ------------------------------------------------------------------------------------ A07

fn is_wrong_type(e: &UpdateError) -> bool {
    matches!(e, UpdateError::Metadata(MetadataError::WrongType { .. }))
}

#[test]
fn a07_role_type_confusion() {
    for d in DIALECTS {
        let mut repo = Repo::new(d);
        let (_, k) = repo.new_signer();
        repo.delegate("", "team", &["team/*", "team/"], false, vec![k], 1);
        repo.sign();
        // Snapshot served as timestamp.
        let mut ts = repo.client_root();
        let e = rejected(&mut ts, |t| t.update_timestamp(&repo.file("snapshot")));
        assert!(is_wrong_type(&e), "{d:?}: {e:?}");
        // Targets served as root (local and next).
        let e = TrustedSet::new(config(d), &repo.file("targets"), now()).unwrap_err();
        assert!(is_wrong_type(&e), "{d:?}: {e:?}");
        let e = rejected(&mut ts, |t| {
            t.update_root(&repo.file("targets")).map(|_| ())
        });
        assert!(is_wrong_type(&e), "{d:?}: {e:?}");
        // Timestamp served as snapshot, with the timestamp describing it.
        // A delegated role whose file is a root (correctly described by the snapshot).
        let team = dname(d, "team");
        let root = repo.roots.last().unwrap().clone();
        let (snap, tsf) = repo.rechain(&team, &root, 1);
        let mut ts = repo.client_root();
        ts.update_timestamp(&tsf).unwrap();
        ts.update_snapshot(&snap).unwrap();
        ts.update_targets(&repo.file("targets")).unwrap();
        let e = rejected(&mut ts, |t| t.update_delegated("targets", &team, &root));
        assert!(is_wrong_type(&e), "{d:?}: {e:?}");
        // Same for a delegated file with `_type` root but otherwise targets-shaped, signed
        // by the delegated key.
        let team_file = repo.file(&team);
        let kid = key_of(d, &repo.extra[0]).key_id().to_hex();
        let forged = resign(
            d,
            &team_file,
            |o| {
                let t = if d == Dialect::Notary { "Root" } else { "root" };
                o.insert("_type".into(), t.into());
            },
            &[(&kid, &repo.extra[0])],
        );
        let (snap, tsf) = repo.rechain(&team, &forged, version_of(&team_file));
        let mut ts = repo.client_root();
        ts.update_timestamp(&tsf).unwrap();
        ts.update_snapshot(&snap).unwrap();
        ts.update_targets(&repo.file("targets")).unwrap();
        let e = rejected(&mut ts, |t| t.update_delegated("targets", &team, &forged));
        assert!(is_wrong_type(&e), "{d:?}: {e:?}");
    }
}

// ------------------------------------------------------------------------------------ A08

// Only name validation and encoding are checked here: that no file is written outside the
// cache directories is a filesystem property, tested with the client crates that do I/O.
const HOSTILE: &[&str] = &[
    "../../evil",
    "/abs",
    "a/../../b",
    "%2e%2e",
    "?",
    "#",
    "a\u{0}b",
    "C:\\x",
    "a\\..\\b",
    "..",
    ".",
];

#[test]
fn a08_hostile_role_names_notary_rejected_at_parse() {
    use tuf_core::name::RoleName;
    let d = Dialect::Notary;
    let long = "a".repeat(10_000);
    let mut names: Vec<String> = HOSTILE.iter().map(|s| (*s).to_owned()).collect();
    names.push(long);
    let repo = {
        let mut r = Repo::new(d);
        let (_, k) = r.new_signer();
        r.delegate("", "team", &["team/"], false, vec![k], 1);
        r.sign();
        r
    };
    let targets = repo.file("targets");
    let t_id = key_of(d, &repo.targets_s).key_id().to_hex();
    for n in &names {
        for candidate in [n.clone(), format!("targets/{n}")] {
            assert!(
                RoleName::delegated(d, &candidate).is_err(),
                "{candidate:?} accepted"
            );
            // In a delegation list: the targets file is refused at parse.
            let forged = resign(
                d,
                &targets,
                |o| {
                    let dl = obj_mut(o.get_mut("delegations").unwrap());
                    let JsonValue::Array(roles) = dl.get_mut("roles").unwrap() else {
                        panic!()
                    };
                    obj_mut(&mut roles[0]).insert("name".into(), candidate.as_str().into());
                },
                &[(&t_id, &repo.targets_s)],
            );
            let (snap, tsf) = repo.rechain("targets", &forged, version_of(&targets));
            let mut ts = repo.client_root();
            ts.update_timestamp(&tsf).unwrap();
            ts.update_snapshot(&snap).unwrap();
            let e = rejected(&mut ts, |t| t.update_targets(&forged));
            assert!(is_metadata(&e), "{candidate:?}: {e:?}");
            // And it is never a delegation edge.
            let e = rejected(&mut repo.client(), |t| {
                t.update_delegated("targets", &candidate, &targets)
            });
            assert!(
                matches!(
                    e,
                    UpdateError::NotDelegated { .. } | UpdateError::NotInSnapshot { .. }
                ),
                "{candidate:?}: {e:?}"
            );
        }
    }
}

#[test]
fn a08_unusual_role_names_tuf_are_encoded_as_one_segment() {
    use tuf_core::name::RoleName;
    let d = Dialect::TufSpec;
    for n in HOSTILE {
        match RoleName::delegated(d, n) {
            Ok(name) => {
                let enc = name.percent_encoded();
                assert!(!enc.contains('/'), "{n:?} -> {enc}");
                assert!(!enc.contains('\\'), "{n:?} -> {enc}");
                assert!(
                    enc != "." && enc != ".." && !enc.is_empty(),
                    "{n:?} -> {enc}"
                );
                // `..%2F..%2Fevil` is one harmless segment (as `quote(name, "")` gives).
                assert!(enc
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "%_.~-".contains(c)));
            }
            Err(_) => assert!(n.contains('\u{0}'), "{n:?} refused"),
        }
    }
    assert!(RoleName::delegated(d, "a\u{0}b").is_err());
    if let Ok(name) = RoleName::delegated(d, &"a".repeat(10_000)) {
        assert!(!name.percent_encoded().contains('/'));
    }
    // Unusual names work end to end (test_unusual_role_name: every role trusted).
    let unusual = ["?", "#", "../x", "/x", "%2e%2e", "a\\..\\b"];
    let mut repo = Repo::new(d);
    let (_, k) = repo.new_signer();
    for (i, n) in unusual.iter().enumerate() {
        repo.delegate("", n, &[&format!("p{i}/*")], false, vec![k.clone()], 1);
        repo.ed
            .add_target(
                n,
                &format!("p{i}/f"),
                tuf_core::role::TargetEntry::for_data(b"f"),
            )
            .unwrap();
    }
    repo.sign();
    let mut ts = repo.client();
    for (i, n) in unusual.iter().enumerate() {
        let (found, fetched) = resolve(&mut ts, &repo, &format!("p{i}/f"));
        assert_eq!(found.as_deref(), Some(*n));
        assert_eq!(fetched, vec![(*n).to_owned()]);
    }
    assert_eq!(ts.delegated_roles().count(), unusual.len());
}

/// Resolves `path`, fetching every role the search asks for from `repo` in order; returns
/// the role the target was found in and the roles fetched.
fn resolve(ts: &mut TrustedSet, repo: &Repo, path: &str) -> (Option<String>, Vec<String>) {
    use tuf_core::search::TargetLookup;
    let mut fetched = Vec::new();
    loop {
        let next = match ts.find_target(path).unwrap() {
            TargetLookup::Found { role, .. } => return (Some(role), fetched),
            TargetLookup::NotFound => return (None, fetched),
            TargetLookup::NeedRole { delegator, role } => (delegator, role),
        };
        fetched.push(next.1.clone());
        assert!(fetched.len() < 100, "search does not terminate");
        ts.update_delegated(&next.0, &next.1, &repo.file(&next.1))
            .unwrap();
    }
}

// ------------------------------------------------------------------------------------ A09

fn delegate_spec(repo: &mut Repo, name: &str, spec: tuf_core::role::PathSpec, key: &Key) {
    let d = repo.d;
    let role = tuf_core::role::DelegatedRole {
        name: tuf_core::name::RoleName::delegated(d, &dname(d, name)).unwrap(),
        keys: tuf_core::role::RoleKeys {
            keyids: vec![key.key_id()],
            threshold: Threshold::ONE,
        },
        terminating: false,
        paths: spec,
    };
    repo.ed
        .add_delegation("targets", role, vec![key.clone()])
        .unwrap();
}

fn add(repo: &mut Repo, role: &str, path: &str) {
    let role = if role == "targets" {
        role.to_owned()
    } else {
        dname(repo.d, role)
    };
    repo.ed
        .add_target(
            &role,
            path,
            tuf_core::role::TargetEntry::for_data(path.as_bytes()),
        )
        .unwrap();
}

fn sha256_hex(s: &str) -> String {
    hex::encode(<sha2::Sha256 as sha2::Digest>::digest(s.as_bytes()))
}

#[test]
fn a09_path_matching_table() {
    use tuf_core::role::PathSpec::{HashPrefixes, Patterns};
    let d = Dialect::TufSpec;
    let mut repo = Repo::new(d);
    let (_, k) = repo.new_signer();
    let p = |v: &[&str]| Patterns(v.iter().map(|s| (*s).to_owned()).collect());
    delegate_spec(&mut repo, "md", p(&["*.md"]), &k);
    delegate_spec(&mut repo, "q", p(&["file?.txt"]), &k);
    delegate_spec(&mut repo, "case", p(&["Docs/*"]), &k);
    delegate_spec(&mut repo, "foo", p(&["foo"]), &k);
    let h = sha256_hex("hashed/x");
    delegate_spec(&mut repo, "hash", HashPrefixes(vec![h[..4].to_owned()]), &k);
    // Upper-case hex prefixes are not path_hash_prefixes: refused at parse, so the editor
    // refuses to emit them.
    {
        let mut r = Repo::new(d);
        let (_, k2) = r.new_signer();
        let upper = if h[..4].bytes().any(|b| b.is_ascii_alphabetic()) {
            h[..4].to_uppercase()
        } else {
            "ABCD".to_owned()
        };
        delegate_spec(&mut r, "upperhash", HashPrefixes(vec![upper]), &k2);
        let signers: Vec<&dyn Signer> = vec![
            &r.root_s,
            &r.targets_s,
            &r.snapshot_s,
            &r.timestamp_s,
            &r.extra[0],
        ];
        let e =
            r.ed.sign(&signers, now(), tuf_core::editor::SignPlan::default())
                .unwrap_err();
        assert!(matches!(e, EditError::Metadata(_)), "{e:?}");
    }
    let other = if h.starts_with('0') { "f" } else { "0" };
    delegate_spec(&mut repo, "nohash", HashPrefixes(vec![other.into()]), &k);
    for (role, path) in [
        ("md", "README.md"),
        ("md", "releases/README.md"),
        ("q", "file1.txt"),
        ("q", "file12.txt"),
        ("q", "file/.txt"),
        ("case", "Docs/a"),
        ("case", "docs/a"),
        ("foo", "foo"),
        ("foo", "foobar"),
        ("hash", "hashed/x"),
        ("nohash", "hashed/x"),
        ("hash", "hashed/y"),
    ] {
        add(&mut repo, role, path);
    }
    repo.sign();
    let table: &[(&str, Option<&str>, &[&str])] = &[
        ("README.md", Some("md"), &["md"]),
        ("releases/README.md", None, &[]),
        ("file1.txt", Some("q"), &["q"]),
        ("file12.txt", None, &[]),
        ("file/.txt", None, &[]),
        ("Docs/a", Some("case"), &["case"]),
        ("docs/a", None, &[]),
        ("foo", Some("foo"), &["foo"]),
        ("foobar", None, &[]),
        ("hashed/x", Some("hash"), &["hash"]),
    ];
    for (path, found, fetched) in table {
        let mut ts = repo.client();
        let (f, got) = resolve(&mut ts, &repo, path);
        assert_eq!(f.as_deref(), *found, "{path}");
        assert_eq!(got, *fetched, "{path}");
    }
    // `hashed/y` only matches the hash prefix by chance; if it does not, it is not found.
    let mut ts = repo.client();
    let (f, got) = resolve(&mut ts, &repo, "hashed/y");
    if sha256_hex("hashed/y").starts_with(&h[..4]) {
        assert_eq!(f.as_deref(), Some("hash"));
    } else {
        assert_eq!((f, got), (None, vec![]));
    }
}

#[test]
fn a09_notary_prefix_semantics() {
    let d = Dialect::Notary;
    let mut repo = Repo::new(d);
    let (_, k) = repo.new_signer();
    repo.delegate("", "foo", &["foo"], false, vec![k.clone()], 1);
    repo.delegate("", "docs", &["Docs/"], false, vec![k], 1);
    add(&mut repo, "foo", "foobar");
    add(&mut repo, "docs", "Docs/a");
    add(&mut repo, "docs", "docs/a");
    repo.sign();
    let foo = dname(d, "foo");
    let docs = dname(d, "docs");
    for (path, found, fetched) in [
        ("foobar", Some(foo.clone()), vec![foo.clone()]),
        ("Docs/a", Some(docs.clone()), vec![docs.clone()]),
        ("docs/a", None, vec![]),
        ("bar", None, vec![]),
    ] {
        let mut ts = repo.client();
        let (f, got) = resolve(&mut ts, &repo, path);
        assert_eq!(f, found, "{path}");
        assert_eq!(got, fetched, "{path}");
    }
}

#[test]
fn a09_succinct_hash_bins() {
    use tuf_core::role::{RoleKeys, SuccinctRoles};
    let d = Dialect::TufSpec;
    let mut repo = Repo::new(d);
    let (_, k) = repo.new_signer();
    repo.ed
        .set_succinct_delegation(
            "targets",
            SuccinctRoles {
                keys: RoleKeys {
                    keyids: vec![k.key_id()],
                    threshold: Threshold::ONE,
                },
                bit_length: 4,
                name_prefix: "bins".into(),
            },
            vec![k],
        )
        .unwrap();
    let path = "some/file";
    let bin = format!("bins-{}", &sha256_hex(path)[..1]);
    repo.ed
        .add_target(&bin, path, tuf_core::role::TargetEntry::for_data(b"x"))
        .unwrap();
    repo.sign();
    let mut ts = repo.client();
    let (f, got) = resolve(&mut ts, &repo, path);
    assert_eq!(f.as_deref(), Some(bin.as_str()));
    assert_eq!(got, vec![bin.clone()]);
    // A path in another bin: that bin is fetched, nothing found.
    let other = (0..)
        .map(|i| format!("other/{i}"))
        .find(|p| sha256_hex(p)[..1] != sha256_hex(path)[..1])
        .unwrap();
    let mut ts = repo.client();
    let (f, got) = resolve(&mut ts, &repo, &other);
    assert_eq!(f, None);
    assert_eq!(got, vec![format!("bins-{}", &sha256_hex(&other)[..1])]);
    // Non-canonical bin names are not delegated roles.
    let bin_file = repo.file(&bin);
    let upper = bin.to_uppercase().replace("BINS", "bins");
    for name in [
        "bins-0x1",
        "bins-01",
        "bins-10",
        "bins--1",
        "bins-",
        "bins-g",
        upper.as_str(),
    ] {
        if name == bin {
            continue;
        }
        let mut ts = repo.client();
        let e = rejected(&mut ts, |t| t.update_delegated("targets", name, &bin_file));
        assert!(
            matches!(e, UpdateError::NotDelegated { .. }),
            "{name}: {e:?}"
        );
    }
    // bit_length 0 and 33: parse errors.
    let targets = repo.file("targets");
    let t_id = key_of(d, &repo.targets_s).key_id().to_hex();
    for bits in [0u64, 33, 256] {
        let forged = resign(
            d,
            &targets,
            |o| {
                let dl = obj_mut(o.get_mut("delegations").unwrap());
                let s = obj_mut(dl.get_mut("succinct_roles").unwrap());
                s.insert("bit_length".into(), bits.into());
            },
            &[(&t_id, &repo.targets_s)],
        );
        let (snap, tsf) = repo.rechain("targets", &forged, version_of(&targets));
        let mut ts = repo.client_root();
        ts.update_timestamp(&tsf).unwrap();
        ts.update_snapshot(&snap).unwrap();
        let e = rejected(&mut ts, |t| t.update_targets(&forged));
        assert!(is_metadata(&e), "bit_length {bits}: {e:?}");
    }
}

// ------------------------------------------------------------------------------------ A10

#[test]
fn a10_target_entry_hashes_and_length() {
    use tuf_core::error::TargetError;
    use tuf_core::target::verify_target;
    for d in DIALECTS {
        let repo = Repo::new(d);
        let targets = repo.file("targets");
        let t_id = key_of(d, &repo.targets_s).key_id().to_hex();
        let forge = |edit: &dyn Fn(&mut JsonObject)| {
            let forged = resign(
                d,
                &targets,
                |o| {
                    let t = obj_mut(o.get_mut("targets").unwrap());
                    edit(obj_mut(t.get_mut("a.txt").unwrap()));
                },
                &[(&t_id, &repo.targets_s)],
            );
            let (snap, tsf) = repo.rechain("targets", &forged, version_of(&targets));
            let mut ts = repo.client_root();
            ts.update_timestamp(&tsf).unwrap();
            ts.update_snapshot(&snap).unwrap();
            let r = ts.update_targets(&forged);
            (ts, r)
        };
        type Edit = Box<dyn Fn(&mut JsonObject)>;
        let parse_errors: Vec<(&str, Edit)> = vec![
            (
                "hashes {}",
                Box::new(|e| {
                    e.insert("hashes".into(), JsonObject::new().into());
                }),
            ),
            (
                "length -1",
                Box::new(|e| {
                    e.insert("length".into(), JsonValue::Int(-1));
                }),
            ),
            (
                "length 2^63",
                Box::new(|e| {
                    e.insert("length".into(), JsonValue::Int(1 << 63));
                }),
            ),
            (
                "length 2^64",
                Box::new(|e| {
                    e.insert("length".into(), JsonValue::Int(1 << 64));
                }),
            ),
            (
                "length string",
                Box::new(|e| {
                    e.insert("length".into(), "1".into());
                }),
            ),
        ];
        for (what, edit) in &parse_errors {
            let (ts, r) = forge(edit.as_ref());
            assert!(
                matches!(&r, Err(e) if is_metadata(e)),
                "{d:?} {what}: {r:?}"
            );
            assert!(ts.targets().is_none());
        }
        // Only an unknown algorithm: parses, but the target can never be verified.
        let unknown = encode_sig(d, &[0u8; 32]);
        let (ts, r) = forge(&|e| {
            let mut h = JsonObject::new();
            h.insert("sha999".into(), unknown.as_str().into());
            e.insert("hashes".into(), h.into());
        });
        if let Err(e) = &r {
            assert!(is_metadata(e), "{d:?}: {e:?}");
        } else {
            let tuf_core::search::TargetLookup::Found { entry, .. } =
                ts.find_target("a.txt").unwrap()
            else {
                panic!("a.txt not found")
            };
            assert_eq!(
                verify_target("a.txt", entry, b"a"),
                Err(TargetError::NoSupportedHash {
                    path: "a.txt".into()
                })
            );
        }
        // Length mismatch and hash mismatch against the real entry.
        let ts = repo.client();
        let tuf_core::search::TargetLookup::Found { entry, .. } = ts.find_target("a.txt").unwrap()
        else {
            panic!("a.txt not found")
        };
        assert!(verify_target("a.txt", entry, b"a").is_ok());
        assert!(matches!(
            verify_target("a.txt", entry, b"ab"),
            Err(TargetError::Length {
                expected: 1,
                got: 2,
                ..
            })
        ));
        assert!(matches!(
            verify_target("a.txt", entry, b""),
            Err(TargetError::Length { .. })
        ));
        assert!(matches!(
            verify_target("a.txt", entry, b"b"),
            Err(TargetError::Hash { .. })
        ));
    }
    // Direct entries.
    let mut e = tuf_core::role::TargetEntry::for_data(b"abc");
    e.hashes.clear();
    e.hashes.insert("sha999".into(), vec![0; 32]);
    assert!(matches!(
        verify_target("x", &e, b"abc"),
        Err(TargetError::NoSupportedHash { .. })
    ));
    e.hashes.clear();
    assert!(matches!(
        verify_target("x", &e, b"abc"),
        Err(TargetError::NoSupportedHash { .. })
    ));
}

// ------------------------------------------------------------------------------------ B01

fn keep_sigs(d: Dialect, bytes: &[u8], keep: &[String]) -> Vec<u8> {
    let _ = d;
    let (signed, sigs) = split(bytes);
    let sigs = sigs
        .into_iter()
        .filter(|s| {
            keep.iter()
                .any(|k| s.as_object().unwrap()["keyid"].as_str() == Some(k))
        })
        .collect();
    envelope(&signed, sigs)
}

/// Root v1..v5; v3 rotates the root key to a new P-256 key.
fn root_chain(d: Dialect) -> Repo {
    let mut repo = Repo::new(d);
    repo.ed.touch("root");
    repo.sign();
    let new = SoftwareSigner::generate_p256();
    let key = Repo::root_key_for(d, &new);
    repo.extra.push(new);
    repo.ed
        .set_role_keys(TopRole::Root, vec![key], Threshold::ONE)
        .unwrap();
    repo.sign();
    for _ in 0..2 {
        repo.ed.touch("root");
        repo.sign();
    }
    assert_eq!(repo.roots.len(), 5);
    repo
}

fn root_version(ts: &TrustedSet) -> u64 {
    ts.root().header.version
}

#[test]
fn b01_root_chain() {
    for d in DIALECTS {
        let repo = root_chain(d);
        // v1 trusted, v2..v5 valid: ends at v5, and the rest of the cycle works.
        let mut ts = repo.client();
        assert_eq!(root_version(&ts), 5);
        assert!(ts.find_target("a.txt").is_ok());
        ts = repo.client_root();
        assert_eq!(root_version(&ts), 5);

        let old_id = role_keyids(&repo.roots[1], "root")[0].clone();
        let new_id = role_keyids(&repo.roots[2], "root")[0].clone();
        assert_ne!(old_id, new_id);
        let mut ts = TrustedSet::new(config(d), &repo.roots[0], now()).unwrap();
        ts.update_root(&repo.roots[1]).unwrap();
        // v3 signed only by the new key / only by the old key: stop at v2.
        for keep in [&new_id, &old_id] {
            let v3 = keep_sigs(d, &repo.roots[2], std::slice::from_ref(keep));
            let e = rejected(&mut ts, |t| t.update_root(&v3).map(|_| ()));
            assert!(is_threshold(&e), "{d:?}: {e:?}");
            assert_eq!(root_version(&ts), 2);
        }
        // `3.root.json` containing version 4 (validly signed by the trusted key).
        let v4 = resign(
            d,
            &repo.roots[1],
            |o| {
                o.insert("version".into(), 4u64.into());
            },
            &[(&old_id, &repo.root_s)],
        );
        let e = rejected(&mut ts, |t| t.update_root(&v4).map(|_| ()));
        assert!(
            matches!(
                e,
                UpdateError::VersionMismatch {
                    expected: 3,
                    got: 4,
                    ..
                }
            ),
            "{d:?}: {e:?}"
        );
        // Replaying v2 or v1.
        for old in &repo.roots[..2] {
            let e = rejected(&mut ts, |t| t.update_root(old).map(|_| ()));
            assert!(
                matches!(
                    e,
                    UpdateError::Rollback { .. } | UpdateError::Threshold { .. }
                ),
                "{d:?}: {e:?}"
            );
        }
        // The genuine v3 still works after the refusals.
        ts.update_root(&repo.roots[2]).unwrap();
        assert_eq!(root_version(&ts), 3);

        // An expired intermediate root is fine; an expired final root stops the cycle.
        let mut repo = Repo::new(d);
        repo.ed.set_expires("root", now() - Duration::minutes(1));
        repo.sign();
        let mut ts = repo.client_root();
        let e = ts.ensure_root_fresh().unwrap_err();
        assert!(matches!(e, UpdateError::Expired { .. }), "{d:?}: {e:?}");
        let e = rejected(&mut ts, |t| t.update_timestamp(&repo.file("timestamp")));
        assert!(matches!(e, UpdateError::Expired { .. }), "{d:?}: {e:?}");
        assert!(ts.timestamp().is_none());
        repo.ed.touch("root");
        repo.sign();
        let ts = repo.client();
        assert_eq!(root_version(&ts), 3);
        ts.ensure_root_fresh().unwrap();

        // Local root unsigned / badly signed / not JSON: no trusted set at all.
        let (signed, sigs) = split(&repo.roots[0]);
        let mut garbage = sigs[0].clone();
        obj_mut(&mut garbage).insert("sig".into(), encode_sig(d, &[7u8; 64]).into());
        let other = SoftwareSigner::generate_p256();
        let foreign = sign_as(d, &signed, &old_id_of(&repo), &other);
        for (what, bytes) in [
            ("unsigned", envelope(&signed, vec![])),
            ("garbage signature", envelope(&signed, vec![garbage])),
            ("foreign signature", envelope(&signed, vec![foreign])),
            ("not JSON", b"not json".to_vec()),
            ("empty", Vec::new()),
        ] {
            assert!(
                TrustedSet::new(config(d), &bytes, now()).is_err(),
                "{d:?}: {what} local root accepted"
            );
        }
    }
}

fn old_id_of(repo: &Repo) -> String {
    role_keyids(&repo.roots[0], "root")[0].clone()
}

// ------------------------------------------------------------------------------------ B05

/// Re-signs snapshot (version + 1, `edit` on its meta) and a timestamp (version + 1)
/// describing it, with the repository's keys.
fn forge_snapshot(repo: &Repo, edit: impl FnOnce(&mut JsonObject)) -> (Vec<u8>, Vec<u8>) {
    let d = repo.d;
    let snap_id = key_of(d, &repo.snapshot_s).key_id().to_hex();
    let ts_id = key_of(d, &repo.timestamp_s).key_id().to_hex();
    let snap = resign(
        d,
        &repo.file("snapshot"),
        |o| {
            let v = o["version"].as_u64().unwrap();
            o.insert("version".into(), (v + 1).into());
            edit(obj_mut(o.get_mut("meta").unwrap()));
        },
        &[(&snap_id, &repo.snapshot_s)],
    );
    let sv = version_of(&snap);
    let ts = resign(
        d,
        &repo.file("timestamp"),
        |o| {
            let v = o["version"].as_u64().unwrap();
            o.insert("version".into(), (v + 1).into());
            let meta = obj_mut(o.get_mut("meta").unwrap());
            meta.insert(meta_key(d, "snapshot"), meta_json(d, sv, &snap));
        },
        &[(&ts_id, &repo.timestamp_s)],
    );
    (snap, ts)
}

/// A client holding the repository's current timestamp and snapshot as cached copies, then
/// the new timestamp `ts`; ready for `update_snapshot`.
fn client_with_cached(repo: &Repo, ts_bytes: &[u8]) -> TrustedSet {
    let mut ts = repo.client_root();
    ts.load_cached_timestamp(&repo.file("timestamp")).unwrap();
    assert_eq!(
        ts.update_timestamp(ts_bytes).unwrap(),
        TimestampUpdate::Updated
    );
    ts.load_cached_snapshot(&repo.file("snapshot")).unwrap();
    ts
}

#[test]
fn b05_rollback() {
    for d in DIALECTS {
        let mut repo = Repo::new(d);
        let (_, k) = repo.new_signer();
        repo.delegate("", "team", &["team/*", "team/"], false, vec![k], 1);
        repo.sign();
        let mut timestamps = vec![repo.file("timestamp")];
        for _ in 0..3 {
            repo.ed.touch("targets");
            repo.ed.touch(&dname(d, "team"));
            repo.sign();
            timestamps.push(repo.file("timestamp"));
        }
        let (t_old, t_new) = (&timestamps[2], &timestamps[3]);
        assert!(version_of(t_old) < version_of(t_new));
        // Timestamp v(n-1) after v(n).
        let mut ts = repo.client_root();
        ts.load_cached_timestamp(t_new).unwrap();
        let e = rejected(&mut ts, |t| t.update_timestamp(t_old));
        assert!(matches!(e, UpdateError::Rollback { .. }), "{d:?}: {e:?}");
        // Same version, different bytes: kept, exactly the trusted bytes.
        let ts_id = key_of(d, &repo.timestamp_s).key_id().to_hex();
        let same_version = resign(
            d,
            t_new,
            |o| {
                o.insert("x-note".into(), "other bytes".into());
            },
            &[(&ts_id, &repo.timestamp_s)],
        );
        if d == Dialect::Notary {
            // Notary has no extension members; vary the signature instead (re-encoded JSON).
        }
        let before = state(&ts);
        match ts.update_timestamp(&same_version) {
            Ok(u) => assert_eq!(u, TimestampUpdate::Unchanged),
            Err(e) => assert!(is_metadata(&e), "{d:?}: {e:?}"),
        }
        assert_eq!(state(&ts), before);
        let (signed, sigs) = split(t_new);
        let mut reordered = envelope(&signed, sigs);
        reordered.insert(1, b' ');
        assert_ne!(&reordered, t_new);
        assert_eq!(
            ts.update_timestamp(&reordered).unwrap(),
            TimestampUpdate::Unchanged
        );
        assert_eq!(state(&ts), before);
        assert_eq!(ts.timestamp().unwrap().raw_bytes(), t_new.as_slice());

        if d == Dialect::TufSpec {
            // Timestamp lowering the snapshot version.
            let sv = version_of(&repo.file("snapshot"));
            let lowered = resign(
                d,
                t_new,
                |o| {
                    let v = o["version"].as_u64().unwrap();
                    o.insert("version".into(), (v + 1).into());
                    let meta = obj_mut(o.get_mut("meta").unwrap());
                    let m = obj_mut(meta.get_mut("snapshot.json").unwrap());
                    m.insert("version".into(), (sv - 1).into());
                },
                &[(&ts_id, &repo.timestamp_s)],
            );
            let mut ts = repo.client_root();
            ts.load_cached_timestamp(t_new).unwrap();
            let e = rejected(&mut ts, |t| t.update_timestamp(&lowered));
            assert!(
                matches!(&e, UpdateError::Rollback { role, .. } if role == "snapshot"),
                "{e:?}"
            );
            // Snapshot lowering targets / a delegated role's version; dropping a role.
            for (what, role) in [("targets", "targets.json"), ("team", "team.json")] {
                let (snap, tsf) = forge_snapshot(&repo, |meta| {
                    let m = obj_mut(meta.get_mut(role).unwrap());
                    let v = m["version"].as_u64().unwrap();
                    m.insert("version".into(), (v - 1).into());
                });
                let mut ts = client_with_cached(&repo, &tsf);
                let e = rejected(&mut ts, |t| t.update_snapshot(&snap));
                assert!(
                    matches!(&e, UpdateError::Rollback { role, .. } if role == what),
                    "{what}: {e:?}"
                );
            }
            let (snap, tsf) = forge_snapshot(&repo, |meta| {
                meta.remove("team.json");
            });
            let mut ts = client_with_cached(&repo, &tsf);
            let e = rejected(&mut ts, |t| t.update_snapshot(&snap));
            assert!(matches!(e, UpdateError::RoleRemoved { .. }), "{e:?}");
            // A consistent forward snapshot is accepted by the same client setup.
            let (snap, tsf) = forge_snapshot(&repo, |_| {});
            client_with_cached(&repo, &tsf)
                .update_snapshot(&snap)
                .unwrap();
            // Targets version different from the snapshot's.
            let targets = repo.file("targets");
            let (snap, tsf) = repo.rechain("targets", &targets, version_of(&targets) + 1);
            let mut ts = repo.client_root();
            ts.update_timestamp(&tsf).unwrap();
            ts.update_snapshot(&snap).unwrap();
            let e = rejected(&mut ts, |t| t.update_targets(&targets));
            assert!(matches!(e, UpdateError::VersionMismatch { .. }), "{e:?}");
        }
    }
}

// ------------------------------------------------------------------------------------ B06

fn is_expired(e: &UpdateError) -> bool {
    matches!(e, UpdateError::Expired { .. })
}

#[test]
fn b06_freeze() {
    for d in DIALECTS {
        let past = now() - Duration::minutes(1);
        let team = dname(d, "team");
        let fresh = || {
            let mut repo = Repo::new(d);
            let (_, k) = repo.new_signer();
            repo.delegate("", "team", &["team/*", "team/"], false, vec![k], 1);
            repo.sign();
            repo
        };
        // Expired timestamp.
        let mut repo = fresh();
        repo.ed.set_expires("timestamp", past);
        repo.sign();
        let mut ts = repo.client_root();
        let e = rejected(&mut ts, |t| t.update_timestamp(&repo.file("timestamp")));
        assert!(is_expired(&e), "{d:?}: {e:?}");
        // Expired snapshot.
        let mut repo = fresh();
        repo.ed.set_expires("snapshot", past);
        repo.sign();
        let mut ts = repo.client_root();
        ts.update_timestamp(&repo.file("timestamp")).unwrap();
        let e = rejected(&mut ts, |t| t.update_snapshot(&repo.file("snapshot")));
        assert!(is_expired(&e), "{d:?}: {e:?}");
        // Expired targets.
        let mut repo = fresh();
        repo.ed.set_expires("targets", past);
        repo.sign();
        let mut ts = repo.client_root();
        ts.update_timestamp(&repo.file("timestamp")).unwrap();
        ts.update_snapshot(&repo.file("snapshot")).unwrap();
        let e = rejected(&mut ts, |t| t.update_targets(&repo.file("targets")));
        assert!(is_expired(&e), "{d:?}: {e:?}");
        // Expired delegated role.
        let mut repo = fresh();
        repo.ed.set_expires(&team, past);
        repo.sign();
        let mut ts = repo.client();
        let file = repo.file(&team);
        let e = rejected(&mut ts, |t| t.update_delegated("targets", &team, &file));
        assert!(is_expired(&e), "{d:?}: {e:?}");

        // A local expired timestamp is still the rollback reference; a newer one is accepted.
        let mut repo = fresh();
        let older = repo.file("timestamp");
        repo.ed.set_expires("timestamp", past);
        repo.ed.touch("timestamp");
        repo.sign();
        let expired = repo.file("timestamp");
        repo.ed.touch("timestamp");
        repo.sign();
        let newer = repo.file("timestamp");
        assert!(version_of(&older) < version_of(&expired));
        assert!(version_of(&expired) < version_of(&newer));
        let mut ts = repo.client_root();
        ts.load_cached_timestamp(&expired).unwrap();
        let e = rejected(&mut ts, |t| t.update_timestamp(&older));
        assert!(matches!(e, UpdateError::Rollback { .. }), "{d:?}: {e:?}");
        assert_eq!(
            ts.update_timestamp(&newer).unwrap(),
            TimestampUpdate::Updated
        );
        ts.update_snapshot(&repo.file("snapshot")).unwrap();
        ts.update_targets(&repo.file("targets")).unwrap();
    }
}

// ------------------------------------------------------------------------------------ B07

fn is_mismatch(e: &UpdateError) -> bool {
    matches!(
        e,
        UpdateError::HashMismatch { .. }
            | UpdateError::LengthMismatch { .. }
            | UpdateError::VersionMismatch { .. }
    )
}

#[test]
fn b07_mix_and_match() {
    for d in DIALECTS {
        let mut repo = Repo::new(d);
        let (_, k) = repo.new_signer();
        repo.delegate("", "team", &["team/*", "team/"], false, vec![k], 1);
        add(&mut repo, "team", "team/x");
        repo.sign();
        let old_snapshot = repo.file("snapshot");
        let old_targets = repo.file("targets");
        add(&mut repo, "targets", "b.txt");
        repo.sign();
        // Snapshot with another hash than the timestamp's: same length, other content.
        let snap_id = key_of(d, &repo.snapshot_s).key_id().to_hex();
        let snap = repo.file("snapshot");
        let other = resign(
            d,
            &snap,
            |o| {
                let e = o["expires"].as_str().unwrap().replace(":00Z", ":01Z");
                o.insert("expires".into(), e.into());
            },
            &[(&snap_id, &repo.snapshot_s)],
        );
        assert_eq!(other.len(), snap.len());
        let mut ts = repo.client_root();
        ts.update_timestamp(&repo.file("timestamp")).unwrap();
        let e = rejected(&mut ts, |t| t.update_snapshot(&other));
        assert!(
            matches!(e, UpdateError::HashMismatch { .. }),
            "{d:?}: {e:?}"
        );
        // An older snapshot (state N) with the timestamp of N+1.
        let e = rejected(&mut ts, |t| t.update_snapshot(&old_snapshot));
        assert!(is_mismatch(&e), "{d:?}: {e:?}");
        // Targets with another hash than the snapshot's; the targets of state N.
        ts.update_snapshot(&snap).unwrap();
        let t_id = key_of(d, &repo.targets_s).key_id().to_hex();
        let targets = repo.file("targets");
        let other = resign(
            d,
            &targets,
            |o| {
                let e = o["expires"].as_str().unwrap().replace(":00Z", ":01Z");
                o.insert("expires".into(), e.into());
            },
            &[(&t_id, &repo.targets_s)],
        );
        assert_eq!(other.len(), targets.len());
        let e = rejected(&mut ts, |t| t.update_targets(&other));
        assert!(
            matches!(e, UpdateError::HashMismatch { .. }),
            "{d:?}: {e:?}"
        );
        let e = rejected(&mut ts, |t| t.update_targets(&old_targets));
        assert!(is_mismatch(&e), "{d:?}: {e:?}");
        ts.update_targets(&targets).unwrap();

        // A delegated role the snapshot does not list.
        let team = dname(d, "team");
        let (snap, tsf) = forge_snapshot(&repo, |meta| {
            meta.remove(&meta_key(d, &team));
        });
        let mut ts = repo.client_root();
        ts.update_timestamp(&tsf).unwrap();
        ts.update_snapshot(&snap).unwrap();
        ts.update_targets(&repo.file("targets")).unwrap();
        assert!(
            ts.pending_delegations().is_empty(),
            "unlisted role offered for fetching"
        );
        let file = repo.file(&team);
        let e = rejected(&mut ts, |t| t.update_delegated("targets", &team, &file));
        assert!(
            matches!(e, UpdateError::NotInSnapshot { .. }),
            "{d:?}: {e:?}"
        );
        // The search does not ask for it either.
        let e = ts.find_target("team/x").unwrap_err();
        assert!(
            matches!(e, UpdateError::NotInSnapshot { .. }),
            "{d:?}: {e:?}"
        );
        // With it listed, it is pending and loads.
        let ts = repo.client();
        assert_eq!(
            ts.pending_delegations(),
            vec![("targets".to_owned(), team.clone())]
        );
    }
}

// ------------------------------------------------------------------------------------ B08

#[test]
fn b08_fast_forward_recovery() {
    for d in DIALECTS {
        // Timestamp: the attacker (holding the timestamp key) pushed v1000.
        let mut repo = Repo::new(d);
        let ts_id = key_of(d, &repo.timestamp_s).key_id().to_hex();
        let evil = resign(
            d,
            &repo.file("timestamp"),
            |o| {
                o.insert("version".into(), 1000u64.into());
            },
            &[(&ts_id, &repo.timestamp_s)],
        );
        let mut ts = repo.client_root();
        ts.load_cached_timestamp(&evil).unwrap();
        // Without rotation the client is stuck (rollback).
        let e = rejected(&mut ts, |t| t.update_timestamp(&repo.file("timestamp")));
        assert!(matches!(e, UpdateError::Rollback { .. }), "{d:?}: {e:?}");
        // The repository rotates the timestamp key; its timestamp restarts low.
        let new_ts = SoftwareSigner::generate_ed25519();
        repo.ed
            .set_role_keys(TopRole::Timestamp, vec![key_of(d, &new_ts)], Threshold::ONE)
            .unwrap();
        repo.extra.push(new_ts);
        repo.sign();
        assert!(version_of(&repo.file("timestamp")) < 1000);
        let mut ts = TrustedSet::new(config(d), &repo.roots[0], now()).unwrap();
        ts.update_root(repo.roots.last().unwrap()).unwrap();
        let e = rejected(&mut ts, |t| t.load_cached_timestamp(&evil));
        assert!(is_threshold(&e), "{d:?}: {e:?}");
        assert_eq!(
            ts.update_timestamp(&repo.file("timestamp")).unwrap(),
            TimestampUpdate::Updated
        );
        ts.update_snapshot(&repo.file("snapshot")).unwrap();
        ts.update_targets(&repo.file("targets")).unwrap();

        // Snapshot: the attacker (holding the snapshot key) pushed snapshot v1000, which the
        // client trusts as its cached snapshot.
        let mut repo = Repo::new(d);
        let snap_id = key_of(d, &repo.snapshot_s).key_id().to_hex();
        let evil_snap = resign(
            d,
            &repo.file("snapshot"),
            |o| {
                o.insert("version".into(), 1000u64.into());
            },
            &[(&snap_id, &repo.snapshot_s)],
        );
        let cached_ts = repo.file("timestamp");
        let new_snap = SoftwareSigner::generate_ed25519();
        repo.ed
            .set_role_keys(
                TopRole::Snapshot,
                vec![key_of(d, &new_snap)],
                Threshold::ONE,
            )
            .unwrap();
        repo.extra.push(new_snap);
        repo.sign();
        assert!(version_of(&repo.file("snapshot")) < 1000);
        // Without the rotation, the cached v1000 would block the new snapshot.
        {
            let mut ts = TrustedSet::new(config(d), &repo.roots[0], now()).unwrap();
            ts.load_cached_timestamp(&cached_ts).unwrap();
            ts.load_cached_snapshot(&evil_snap).unwrap();
        }
        let mut ts = repo.client_root();
        ts.load_cached_timestamp(&cached_ts).unwrap();
        ts.update_timestamp(&repo.file("timestamp")).unwrap();
        let e = rejected(&mut ts, |t| t.load_cached_snapshot(&evil_snap));
        assert!(is_threshold(&e), "{d:?}: {e:?}");
        ts.update_snapshot(&repo.file("snapshot")).unwrap();
        ts.update_targets(&repo.file("targets")).unwrap();
    }
}

// ------------------------------------------------------------------------------------ B09

fn graph(d: Dialect, edges: &[(&str, &str, &str, bool)], targets: &[(&str, &str)]) -> Repo {
    let mut repo = Repo::new(d);
    let (_, k) = repo.new_signer();
    for (parent, name, path, terminating) in edges {
        repo.delegate(parent, name, &[path], *terminating, vec![k.clone()], 1);
    }
    for (role, path) in targets {
        add(&mut repo, role, path);
    }
    repo.sign();
    repo
}

/// `*` matches one segment in TUF; Notary uses prefixes.
fn all(d: Dialect) -> &'static str {
    match d {
        Dialect::Notary => "c/",
        Dialect::TufSpec => "c/*",
    }
}

#[test]
fn b09_delegation_search_order_and_termination() {
    for d in DIALECTS {
        let n = |s: &str| dname(d, s);
        let p = all(d);
        // Siblings A, B and B -> C; the target is only in C: fetch A, B, C.
        let repo = graph(
            d,
            &[
                ("", "a", p, false),
                ("", "b", p, false),
                ("b", "b/c", p, false),
            ],
            &[("b/c", "c/x")],
        );
        let (f, got) = resolve(&mut repo.client(), &repo, "c/x");
        assert_eq!(f, Some(n("b/c")));
        assert_eq!(got, vec![n("a"), n("b"), n("b/c")]);

        // `terminating` is a TUF 1.0 field; Notary delegations have none.
        if d == Dialect::TufSpec {
            // Terminating at depth 1: A terminating, target in B: search stops after A.
            let repo = graph(
                d,
                &[("", "a", p, true), ("", "b", p, false)],
                &[("b", "c/x")],
            );
            let (f, got) = resolve(&mut repo.client(), &repo, "c/x");
            assert_eq!((f, got), (None, vec![n("a")]));
            // Terminating at depth 2: B -> C terminating, target in B -> D: stops after C.
            let edges = |term| {
                vec![
                    ("", "a", p, false),
                    ("", "b", p, false),
                    ("b", "b/c", p, term),
                    ("b", "b/d", p, false),
                ]
            };
            let repo = graph(d, &edges(true), &[("b/d", "c/x")]);
            let (f, got) = resolve(&mut repo.client(), &repo, "c/x");
            assert_eq!((f, got), (None, vec![n("a"), n("b"), n("b/c")]));
            let repo = graph(d, &edges(false), &[("b/d", "c/x")]);
            let (f, got) = resolve(&mut repo.client(), &repo, "c/x");
            assert_eq!(f, Some(n("b/d")));
            assert_eq!(got, vec![n("a"), n("b"), n("b/c"), n("b/d")]);
            // A terminating role that has the target: found.
            let repo = graph(d, &[("", "a", p, true)], &[("a", "c/x")]);
            let (f, _) = resolve(&mut repo.client(), &repo, "c/x");
            assert_eq!(f, Some(n("a")));
        }

        // A 40-role chain with the target at the end: stops after 32 roles (targets + 31).
        let mut names = Vec::new();
        let mut edges = Vec::new();
        let mut parent = String::new();
        for i in 0..40 {
            let name = match d {
                Dialect::Notary if i == 0 => "r".to_owned(),
                Dialect::Notary => format!("{parent}/r"),
                Dialect::TufSpec => format!("r{i}"),
            };
            names.push(name.clone());
            edges.push((parent.clone(), name.clone()));
            parent = name;
        }
        let edge_refs: Vec<(&str, &str, &str, bool)> = edges
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str(), p, false))
            .collect();
        let repo = graph(d, &edge_refs, &[(names[39].as_str(), "c/x")]);
        let (f, got) = resolve(&mut repo.client(), &repo, "c/x");
        assert_eq!(f, None);
        assert_eq!(got.len() + 1, 32, "{got:?}");
        assert_eq!(got, names[..31].iter().map(|s| n(s)).collect::<Vec<_>>());

        // Delegated metadata with no valid signature is never used.
        let repo = graph(d, &[("", "a", p, false)], &[("a", "c/x")]);
        let a = n("a");
        let file = repo.file(&a);
        let (signed, sigs) = split(&file);
        let mut garbage = sigs[0].clone();
        obj_mut(&mut garbage).insert("sig".into(), encode_sig(d, &[9u8; 64]).into());
        let stranger = SoftwareSigner::generate_ed25519();
        let kid = key_of(d, &stranger).key_id().to_hex();
        for bad in [
            envelope(&signed, vec![]),
            envelope(&signed, vec![garbage]),
            envelope(&signed, vec![sign_as(d, &signed, &kid, &stranger)]),
        ] {
            let (snap, tsf) = repo.rechain(&a, &bad, version_of(&file));
            let mut ts = repo.client_root();
            ts.update_timestamp(&tsf).unwrap();
            ts.update_snapshot(&snap).unwrap();
            ts.update_targets(&repo.file("targets")).unwrap();
            let e = rejected(&mut ts, |t| t.update_delegated("targets", &a, &bad));
            assert!(is_threshold(&e), "{d:?}: {e:?}");
            assert!(matches!(
                ts.find_target("c/x").unwrap(),
                tuf_core::search::TargetLookup::NeedRole { .. }
            ));
        }
    }
}

#[test]
fn b09_cycle_and_diamond_tuf() {
    // Notary role names are hierarchical (a role's delegator is its dirname), so neither a
    // cycle nor a diamond can be expressed there; `update_delegated` refuses other edges.
    let d = Dialect::TufSpec;
    // Cycle A -> B -> A terminates.
    let repo = graph(
        d,
        &[
            ("", "A", "*", false),
            ("A", "B", "*", false),
            ("B", "A", "*", false),
        ],
        &[],
    );
    let (f, got) = resolve(&mut repo.client(), &repo, "x");
    assert_eq!((f, got), (None, vec!["A".to_owned(), "B".to_owned()]));

    // Diamond: A and B both delegate `release`, with different keys; `release` is signed
    // only with A's key.
    let mut repo = Repo::new(d);
    let (_, ka) = repo.new_signer();
    let (_, kb) = repo.new_signer();
    let (_, kr_a) = repo.new_signer();
    let (_, kr_b) = repo.new_signer();
    repo.delegate("", "A", &["team-a/*"], false, vec![ka.clone()], 1);
    repo.delegate("", "B", &["team-b/*"], false, vec![kb.clone()], 1);
    repo.delegate("A", "release", &["*/*"], false, vec![kr_a], 1);
    repo.delegate("B", "release", &["*/*"], false, vec![kr_b], 1);
    add(&mut repo, "release", "team-a/x");
    add(&mut repo, "release", "team-b/x");
    // Only A's edge key for `release` may sign it.
    let kr_b_signer = repo.extra.remove(3);
    repo.sign();
    repo.extra.push(kr_b_signer);
    let mut ts = repo.client();
    let (f, got) = resolve(&mut ts, &repo, "team-a/x");
    assert_eq!(f.as_deref(), Some("release"));
    assert_eq!(got, vec!["A".to_owned(), "release".to_owned()]);
    // Same process: through B, `release` must verify with B's edge key, which did not sign.
    use tuf_core::search::TargetLookup;
    assert_eq!(
        ts.find_target("team-b/x").unwrap(),
        TargetLookup::NeedRole {
            delegator: "targets".into(),
            role: "B".into()
        }
    );
    ts.update_delegated("targets", "B", &repo.file("B"))
        .unwrap();
    assert_eq!(
        ts.find_target("team-b/x").unwrap(),
        TargetLookup::NeedRole {
            delegator: "B".into(),
            role: "release".into()
        }
    );
    let release = repo.file("release");
    let e = rejected(&mut ts, |t| t.update_delegated("B", "release", &release));
    assert!(is_threshold(&e), "{e:?}");
    assert!(matches!(
        ts.find_target("team-b/x").unwrap(),
        TargetLookup::NeedRole { .. }
    ));
}

// ------------------------------------------------------------------------------ no panic

/// The files of a built repository (root v1, v2, a delegation), per dialect.
struct Fixture {
    roots: Vec<Vec<u8>>,
    files: Vec<(String, Vec<u8>)>,
}

fn fixture(d: Dialect) -> &'static Fixture {
    static F: std::sync::OnceLock<Vec<Fixture>> = std::sync::OnceLock::new();
    let all = F.get_or_init(|| {
        DIALECTS
            .iter()
            .map(|&d| {
                let mut repo = Repo::new(d);
                let (_, k) = repo.new_signer();
                repo.delegate("", "team", &["team/*", "team/"], false, vec![k], 1);
                add(&mut repo, "team", "team/x");
                repo.ed.touch("root");
                repo.sign();
                Fixture {
                    roots: repo.roots.clone(),
                    files: repo.latest.clone().into_iter().collect(),
                }
            })
            .collect()
    });
    &all[usize::from(d == Dialect::TufSpec)]
}

#[derive(Clone, Debug)]
enum Mutation {
    Random(Vec<u8>),
    Replace(usize, usize, u8),
    Truncate(usize, usize),
    Duplicate(usize, usize, usize),
    Delete(usize, usize),
}

fn mutated(f: &Fixture, m: &Mutation) -> Vec<u8> {
    let pick = |i: usize| -> Vec<u8> {
        let n = f.files.len() + f.roots.len();
        let i = i % n;
        if i < f.files.len() {
            f.files[i].1.clone()
        } else {
            f.roots[i - f.files.len()].clone()
        }
    };
    match m {
        Mutation::Random(b) => b.clone(),
        Mutation::Replace(i, pos, b) => {
            let mut v = pick(*i);
            let p = pos % v.len();
            v[p] = *b;
            v
        }
        Mutation::Truncate(i, len) => {
            let mut v = pick(*i);
            let l = len % (v.len() + 1);
            v.truncate(l);
            v
        }
        Mutation::Duplicate(i, start, len) => {
            let v = pick(*i);
            let s = start % v.len();
            let e = (s + len % 64).min(v.len());
            [&v[..e], &v[s..e], &v[e..]].concat()
        }
        Mutation::Delete(i, pos) => {
            let mut v = pick(*i);
            v.remove(pos % v.len());
            v
        }
    }
}

fn mutation() -> impl proptest::strategy::Strategy<Value = Mutation> {
    use proptest::prelude::*;
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..256).prop_map(Mutation::Random),
        (any::<usize>(), any::<usize>(), any::<u8>())
            .prop_map(|(i, p, b)| Mutation::Replace(i, p, b)),
        (any::<usize>(), any::<usize>()).prop_map(|(i, l)| Mutation::Truncate(i, l)),
        (any::<usize>(), any::<usize>(), any::<usize>())
            .prop_map(|(i, s, l)| Mutation::Duplicate(i, s, l)),
        (any::<usize>(), any::<usize>()).prop_map(|(i, p)| Mutation::Delete(i, p)),
    ]
}

/// Feeds `input` to every update method at its stage of one cycle; every refusal must leave
/// the set unchanged. Stops (fine) if a mutated input happens to be accepted.
fn feed_everywhere(d: Dialect, f: &Fixture, input: &[u8]) {
    let file = |role: &str| {
        f.files
            .iter()
            .find(|(r, _)| r == role)
            .map(|(_, b)| b.as_slice())
            .unwrap()
    };
    let _ = TrustedSet::new(config(d), input, now());
    let mut ts = TrustedSet::new(config(d), &f.roots[0], now()).unwrap();
    fn try_it<T>(
        ts: &mut TrustedSet,
        r: impl FnOnce(&mut TrustedSet) -> Result<T, UpdateError>,
    ) -> bool {
        let before = state(ts);
        let ok = r(ts).is_ok();
        if !ok {
            assert!(
                before == state(ts),
                "trusted set changed by a refused update"
            );
        }
        ok
    }
    if try_it(&mut ts, |t| t.update_root(input).map(|_| ())) {
        return;
    }
    for r in &f.roots[1..] {
        ts.update_root(r).unwrap();
    }
    if try_it(&mut ts, |t| t.load_cached_timestamp(input))
        || try_it(&mut ts, |t| t.update_timestamp(input))
    {
        return;
    }
    ts.update_timestamp(file("timestamp")).unwrap();
    if try_it(&mut ts, |t| t.load_cached_snapshot(input))
        || try_it(&mut ts, |t| t.update_snapshot(input))
    {
        return;
    }
    ts.update_snapshot(file("snapshot")).unwrap();
    if try_it(&mut ts, |t| t.update_targets(input)) {
        return;
    }
    ts.update_targets(file("targets")).unwrap();
    let team = dname(d, "team");
    let _ = try_it(&mut ts, |t| t.update_delegated("targets", &team, input))
        || try_it(&mut ts, |t| t.update_delegated(&team, "x", input))
        || try_it(&mut ts, |t| t.update_delegated("targets", "targets", input));
    let _ = ts.find_target("team/x");
    let _ = ts.list_targets();
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 48,
        failure_persistence: None,
        ..proptest::prelude::ProptestConfig::default()
    })]
    #[test]
    fn no_panic_random_and_mutated_inputs(notary: bool, m in mutation()) {
        let d = if notary { Dialect::Notary } else { Dialect::TufSpec };
        let f = fixture(d);
        let input = mutated(f, &m);
        feed_everywhere(d, f, &input);
    }
}

#[test]
fn no_panic_every_truncation_of_every_file() {
    // Deterministic complement to the property test: every prefix length of the smaller
    // files (every 29th, for speed) in both dialects.
    for d in DIALECTS {
        let f = fixture(d);
        for (role, bytes) in &f.files {
            if role != "timestamp" && role != "snapshot" {
                continue;
            }
            for l in (0..bytes.len()).step_by(29) {
                feed_everywhere(d, f, &bytes[..l]);
            }
        }
    }
}
