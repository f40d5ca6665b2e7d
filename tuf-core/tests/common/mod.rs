//! Helpers for the security acceptance tests: build repositories with the editor in either
//! dialect, feed them to a `TrustedSet` in spec order, tamper with envelopes and re-sign.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    dead_code,
    missing_docs
)]

use std::collections::BTreeMap;

use base64::Engine as _;
use chrono::{DateTime, Duration, TimeZone, Utc};
use sha2::{Digest, Sha256, Sha512};
use tuf_core::crypto::{Key, Signer, SoftwareSigner};
use tuf_core::editor::{notary_root_key, InitialKeys, RepoEditor, SignPlan};
use tuf_core::error::UpdateError;
use tuf_core::json::{parse, to_canonical, JsonObject, JsonValue};
use tuf_core::name::{Gun, RoleName};
use tuf_core::role::{DelegatedRole, PathSpec, RoleKeys, Threshold};
use tuf_core::trusted_set::{RepoConfig, TimestampUpdate, TrustedSet};
use tuf_core::Dialect;

pub const DIALECTS: [Dialect; 2] = [Dialect::Notary, Dialect::TufSpec];
pub const GUN: &str = "example.com/app";

/// The fixed reference time of every test.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap()
}

pub fn config(d: Dialect) -> RepoConfig {
    match d {
        Dialect::Notary => RepoConfig::notary(Gun::parse(GUN).unwrap()),
        Dialect::TufSpec => RepoConfig::tuf(),
    }
}

/// A delegated role name in the dialect: Notary `targets/<path>`, TUF `<path>`.
pub fn dname(d: Dialect, path: &str) -> String {
    match d {
        Dialect::Notary => format!("targets/{path}"),
        Dialect::TufSpec => path.to_owned(),
    }
}

/// The delegator of a delegated role built with [`dname`]; `parent` is "" for top-level targets.
pub fn dparent(d: Dialect, parent: &str) -> String {
    if parent.is_empty() {
        "targets".into()
    } else {
        dname(d, parent)
    }
}

/// Key of the snapshot `meta` map for a role.
pub fn meta_key(d: Dialect, role: &str) -> String {
    match d {
        Dialect::Notary => role.to_owned(),
        Dialect::TufSpec => format!("{role}.json"),
    }
}

pub fn key_of(d: Dialect, s: &dyn Signer) -> Key {
    Key::from_public_key(d, s.public_key().clone())
}

pub fn encode_sig(d: Dialect, bytes: &[u8]) -> String {
    match d {
        Dialect::Notary => base64::engine::general_purpose::STANDARD.encode(bytes),
        Dialect::TufSpec => hex::encode(bytes),
    }
}

/// One signature object as carried in an envelope.
pub fn sig_json(d: Dialect, keyid: &str, method: Option<&str>, sig: &[u8]) -> JsonValue {
    let mut o = JsonObject::new();
    o.insert("keyid".into(), keyid.into());
    if let Some(m) = method {
        o.insert("method".into(), m.into());
    }
    o.insert("sig".into(), encode_sig(d, sig).into());
    JsonValue::Object(o)
}

/// Notary method name for a signer.
pub fn method(d: Dialect, s: &dyn Signer) -> Option<&'static str> {
    (d == Dialect::Notary).then(|| tuf_core::crypto::method_name(d, s.public_key()))
}

/// A valid signature object by `s` over `signed` under `keyid`.
pub fn sign_as(d: Dialect, signed: &JsonValue, keyid: &str, s: &dyn Signer) -> JsonValue {
    let wire = s.sign(&to_canonical(signed)).unwrap().to_wire(d);
    sig_json(d, keyid, method(d, s), &wire)
}

/// An envelope with the given signed part and signature objects.
pub fn envelope(signed: &JsonValue, sigs: Vec<JsonValue>) -> Vec<u8> {
    let mut o = JsonObject::new();
    o.insert("signed".into(), signed.clone());
    o.insert("signatures".into(), JsonValue::Array(sigs));
    // Canonical form, with control characters (PEM newlines) escaped: strict JSON.
    let mut out = Vec::new();
    for b in to_canonical(&JsonValue::Object(o)) {
        if b < 0x20 {
            out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
        } else {
            out.push(b);
        }
    }
    out
}

/// The parsed envelope of metadata bytes.
pub fn split(bytes: &[u8]) -> (JsonValue, Vec<JsonValue>) {
    let v = parse(bytes).unwrap();
    let o = v.as_object().unwrap();
    (
        o["signed"].clone(),
        o["signatures"].as_array().unwrap().to_vec(),
    )
}

pub fn obj_mut(v: &mut JsonValue) -> &mut JsonObject {
    match v {
        JsonValue::Object(o) => o,
        other => panic!("not an object: {other:?}"),
    }
}

/// Re-signs `bytes` after `edit` changed its signed part, with `signers` under their given key ids.
pub fn resign(
    d: Dialect,
    bytes: &[u8],
    edit: impl FnOnce(&mut JsonObject),
    signers: &[(&str, &dyn Signer)],
) -> Vec<u8> {
    let (mut signed, _) = split(bytes);
    edit(obj_mut(&mut signed));
    let sigs = signers
        .iter()
        .map(|(id, s)| sign_as(d, &signed, id, *s))
        .collect();
    envelope(&signed, sigs)
}

/// `MetaFile` JSON describing `bytes` as the editor writes it.
pub fn meta_json(d: Dialect, version: u64, bytes: &[u8]) -> JsonValue {
    let mut hashes = JsonObject::new();
    let mut o = JsonObject::new();
    match d {
        Dialect::Notary => {
            hashes.insert(
                "sha256".into(),
                encode_b64(&Sha256::digest(bytes)).as_str().into(),
            );
            hashes.insert(
                "sha512".into(),
                encode_b64(&Sha512::digest(bytes)).as_str().into(),
            );
        }
        Dialect::TufSpec => {
            hashes.insert("sha256".into(), hex::encode(Sha256::digest(bytes)).into());
            o.insert("version".into(), version.into());
        }
    }
    o.insert("length".into(), (bytes.len() as u64).into());
    o.insert("hashes".into(), hashes.into());
    JsonValue::Object(o)
}

fn encode_b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// The `version` of a metadata file.
pub fn version_of(bytes: &[u8]) -> u64 {
    let (signed, _) = split(bytes);
    signed.as_object().unwrap()["version"].as_u64().unwrap()
}

/// A repository under test: editor, signers and every file ever published.
pub struct Repo {
    pub d: Dialect,
    pub ed: RepoEditor,
    pub root_s: SoftwareSigner,
    pub targets_s: SoftwareSigner,
    pub snapshot_s: SoftwareSigner,
    pub timestamp_s: SoftwareSigner,
    /// Extra signers (delegations, rotated keys), all offered to every signing run.
    pub extra: Vec<SoftwareSigner>,
    /// Every root version, in order (`roots[0]` is v1).
    pub roots: Vec<Vec<u8>>,
    /// The latest bytes per role name.
    pub latest: BTreeMap<String, Vec<u8>>,
}

impl Repo {
    /// A new repository (Notary: P-256 X.509 root key for the GUN; others ed25519), signed once.
    pub fn new(d: Dialect) -> Self {
        let root_s = SoftwareSigner::generate_p256();
        let targets_s = SoftwareSigner::generate_ed25519();
        let snapshot_s = SoftwareSigner::generate_ed25519();
        let timestamp_s = SoftwareSigner::generate_ed25519();
        let ed = RepoEditor::create(
            d,
            InitialKeys {
                root: vec![Self::root_key_for(d, &root_s)],
                targets: vec![key_of(d, &targets_s)],
                snapshot: vec![key_of(d, &snapshot_s)],
                timestamp: vec![key_of(d, &timestamp_s)],
            },
            now() - Duration::days(1),
        );
        let mut r = Self {
            d,
            ed,
            root_s,
            targets_s,
            snapshot_s,
            timestamp_s,
            extra: Vec::new(),
            roots: Vec::new(),
            latest: BTreeMap::new(),
        };
        r.ed.add_target(
            "targets",
            "a.txt",
            tuf_core::role::TargetEntry::for_data(b"a"),
        )
        .unwrap();
        r.sign();
        r
    }

    /// A root key for `s` (Notary: self-signed certificate naming the GUN).
    pub fn root_key_for(d: Dialect, s: &SoftwareSigner) -> Key {
        match d {
            Dialect::Notary => notary_root_key(
                s,
                &Gun::parse(GUN).unwrap(),
                now() - Duration::days(10),
                Duration::days(3650),
            )
            .unwrap(),
            Dialect::TufSpec => key_of(d, s),
        }
    }

    pub fn root_key(&self) -> Key {
        Self::root_key_for(self.d, &self.root_s)
    }

    /// Adds a new signer that every signing run may use; returns its key.
    pub fn new_signer(&mut self) -> (usize, Key) {
        let s = SoftwareSigner::generate_ed25519();
        let k = key_of(self.d, &s);
        self.extra.push(s);
        (self.extra.len() - 1, k)
    }

    fn signers(&self) -> Vec<&dyn Signer> {
        let mut v: Vec<&dyn Signer> = vec![
            &self.root_s,
            &self.targets_s,
            &self.snapshot_s,
            &self.timestamp_s,
        ];
        v.extend(self.extra.iter().map(|s| s as &dyn Signer));
        v
    }

    /// Signs every change (plus snapshot and timestamp); returns the new files by role.
    pub fn sign(&mut self) -> BTreeMap<String, Vec<u8>> {
        self.sign_at(now() - Duration::hours(1))
    }

    pub fn sign_at(&mut self, at: DateTime<Utc>) -> BTreeMap<String, Vec<u8>> {
        let mut ed = self.ed.clone();
        let files = ed.sign(&self.signers(), at, SignPlan::default()).unwrap();
        self.ed = ed;
        let mut out = BTreeMap::new();
        for f in files {
            if f.role == "root" {
                self.roots.push(f.bytes.clone());
            }
            self.latest.insert(f.role.clone(), f.bytes.clone());
            out.insert(f.role, f.bytes);
        }
        out
    }

    pub fn file(&self, role: &str) -> Vec<u8> {
        self.latest
            .get(role)
            .unwrap_or_else(|| panic!("no {role}"))
            .clone()
    }

    /// Delegates `name` (dialect-qualified with [`dname`]) from `parent` ("" = targets).
    pub fn delegate(
        &mut self,
        parent: &str,
        name: &str,
        paths: &[&str],
        terminating: bool,
        keys: Vec<Key>,
        threshold: u32,
    ) {
        let d = self.d;
        let role = DelegatedRole {
            name: RoleName::delegated(d, &dname(d, name)).unwrap(),
            keys: RoleKeys {
                keyids: keys.iter().map(Key::key_id).collect(),
                threshold: Threshold::new(threshold).unwrap(),
            },
            terminating,
            paths: PathSpec::Patterns(paths.iter().map(|p| (*p).to_owned()).collect()),
        };
        self.ed
            .add_delegation(&dparent(d, parent), role, keys)
            .unwrap();
    }

    /// A fresh client: local root v1, every later root, timestamp, snapshot, top-level targets.
    pub fn client(&self) -> TrustedSet {
        let mut ts = self.client_root();
        assert_eq!(
            ts.update_timestamp(&self.file("timestamp")).unwrap(),
            TimestampUpdate::Updated
        );
        ts.update_snapshot(&self.file("snapshot")).unwrap();
        ts.update_targets(&self.file("targets")).unwrap();
        ts
    }

    /// A client that has applied every root version and nothing else.
    pub fn client_root(&self) -> TrustedSet {
        let mut ts = TrustedSet::new(config(self.d), &self.roots[0], now()).unwrap();
        for r in &self.roots[1..] {
            ts.update_root(r).unwrap();
        }
        ts
    }

    /// Re-signs the snapshot and timestamp so that they describe `role` as `bytes` (and
    /// version `version` in TUF); returns (snapshot, timestamp).
    pub fn rechain(&self, role: &str, bytes: &[u8], version: u64) -> (Vec<u8>, Vec<u8>) {
        let d = self.d;
        let snap_id = key_of(d, &self.snapshot_s).key_id().to_hex();
        let ts_id = key_of(d, &self.timestamp_s).key_id().to_hex();
        let snap = resign(
            d,
            &self.file("snapshot"),
            |o| {
                let meta = obj_mut(o.get_mut("meta").unwrap());
                meta.insert(meta_key(d, role), meta_json(d, version, bytes));
            },
            &[(&snap_id, &self.snapshot_s)],
        );
        let snap_version = version_of(&snap);
        let ts = resign(
            d,
            &self.file("timestamp"),
            |o| {
                let meta = obj_mut(o.get_mut("meta").unwrap());
                meta.insert(meta_key(d, "snapshot"), meta_json(d, snap_version, &snap));
            },
            &[(&ts_id, &self.timestamp_s)],
        );
        (snap, ts)
    }
}

/// Everything a trusted set trusts, as bytes (root, timestamp, snapshot, targets, delegated).
pub fn state(ts: &TrustedSet) -> Vec<Option<Vec<u8>>> {
    let mut v = vec![
        Some(ts.root().raw_bytes().to_vec()),
        ts.timestamp().map(|m| m.raw_bytes().to_vec()),
        ts.snapshot().map(|m| m.raw_bytes().to_vec()),
        ts.targets().map(|m| m.raw_bytes().to_vec()),
    ];
    for ((a, b), m) in ts.delegated_roles() {
        v.push(Some(format!("{a}->{b}").into_bytes()));
        v.push(Some(m.raw_bytes().to_vec()));
    }
    v
}

/// Runs `f`, which must fail, and checks the trusted set did not change.
pub fn rejected<T: std::fmt::Debug>(
    ts: &mut TrustedSet,
    f: impl FnOnce(&mut TrustedSet) -> Result<T, UpdateError>,
) -> UpdateError {
    let before = state(ts);
    let r = f(ts);
    let after = state(ts);
    assert!(
        before == after,
        "trusted set changed by a rejected update ({r:?})"
    );
    match r {
        Ok(v) => panic!("expected rejection, got {v:?}"),
        Err(e) => e,
    }
}
