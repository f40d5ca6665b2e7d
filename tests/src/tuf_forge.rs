//! Forging TUF 1.0 metadata for hostile-repository tests: edit the `signed` part of existing
//! metadata and re-sign it with chosen keys, keep only some signatures, describe a file as a
//! snapshot/timestamp `meta` entry. The editor refuses to produce metadata its verifier would
//! reject; these helpers exist to make exactly such files.
//! Test-harness code: failures panic with the step.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use tuf_core::crypto::{Key, Signer};
use tuf_core::json::{parse, to_canonical, to_json, JsonObject, JsonValue};
use tuf_core::role::TargetEntry;
use tuf_core::Dialect;

/// The TUF 1.0 key id (hex) of a signer's key.
pub fn keyid(s: &dyn Signer) -> String {
    Key::from_public_key(Dialect::TufSpec, s.public_key().clone())
        .key_id()
        .to_hex()
}

/// The `signed` part and the signature objects of metadata bytes.
pub fn split(bytes: &[u8]) -> (JsonValue, Vec<JsonValue>) {
    let v = parse(bytes).unwrap();
    let o = v.as_object().unwrap();
    (
        o["signed"].clone(),
        o["signatures"].as_array().unwrap().to_vec(),
    )
}

/// An envelope (`signed` + `signatures`) as strict JSON.
pub fn envelope(signed: &JsonValue, sigs: Vec<JsonValue>) -> Vec<u8> {
    let mut o = JsonObject::new();
    o.insert("signed".into(), signed.clone());
    o.insert("signatures".into(), JsonValue::Array(sigs));
    to_json(&JsonValue::Object(o))
}

/// A signature object by `s` over `signed`.
pub fn signature(signed: &JsonValue, s: &dyn Signer) -> JsonValue {
    let sig = s.sign(&to_canonical(signed)).unwrap();
    let mut o = JsonObject::new();
    o.insert("keyid".into(), keyid(s).into());
    o.insert(
        "sig".into(),
        hex_encode(&sig.to_wire(Dialect::TufSpec)).into(),
    );
    JsonValue::Object(o)
}

/// The object inside a JSON value.
pub fn obj_mut(v: &mut JsonValue) -> &mut JsonObject {
    match v {
        JsonValue::Object(o) => o,
        other => panic!("not an object: {other:?}"),
    }
}

/// `bytes` with its `signed` part changed by `edit`, signed by `signers` (old signatures
/// dropped).
pub fn resign(
    bytes: &[u8],
    edit: impl FnOnce(&mut JsonObject),
    signers: &[&dyn Signer],
) -> Vec<u8> {
    let (mut signed, _) = split(bytes);
    edit(obj_mut(&mut signed));
    let sigs = signers.iter().map(|s| signature(&signed, *s)).collect();
    envelope(&signed, sigs)
}

/// `bytes` keeping only the signatures made by `keep`'s keys.
pub fn keep_signatures(bytes: &[u8], keep: &[&dyn Signer]) -> Vec<u8> {
    let ids: Vec<String> = keep.iter().map(|s| keyid(*s)).collect();
    let (signed, sigs) = split(bytes);
    let sigs = sigs
        .into_iter()
        .filter(|s| {
            s.as_object()
                .and_then(|o| o.get("keyid"))
                .and_then(JsonValue::as_str)
                .is_some_and(|id| ids.iter().any(|k| k == id))
        })
        .collect();
    envelope(&signed, sigs)
}

/// The `version` in the `signed` part of metadata bytes.
pub fn version_of(bytes: &[u8]) -> u64 {
    split(bytes).0.as_object().unwrap()["version"]
        .as_u64()
        .unwrap()
}

/// A snapshot/timestamp `meta` entry describing `bytes` as `version`: version, length and
/// SHA-256, as our editor writes them.
pub fn meta_json(version: u64, bytes: &[u8]) -> JsonValue {
    let entry = TargetEntry::for_data(bytes);
    let mut hashes = JsonObject::new();
    hashes.insert("sha256".into(), entry.sha256_hex().unwrap().into());
    let mut o = JsonObject::new();
    o.insert("version".into(), version.into());
    o.insert("length".into(), entry.length.into());
    o.insert("hashes".into(), hashes.into());
    JsonValue::Object(o)
}

/// Sets `signed.version`.
pub fn set_version(o: &mut JsonObject, version: u64) {
    o.insert("version".into(), version.into());
}

/// Sets `signed.meta[<file>]` (snapshot entries, or `snapshot.json` in a timestamp).
pub fn set_meta(o: &mut JsonObject, file: &str, entry: JsonValue) {
    obj_mut(o.get_mut("meta").unwrap()).insert(file.into(), entry);
}

fn hex_encode(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
