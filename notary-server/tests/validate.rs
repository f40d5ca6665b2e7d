//! Upload validation (`validate_upload`): uploads built with tuf-core's editor in the Notary
//! dialect, hostile variants of them (security.md C03–C05), and the real Go Notary fixtures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine as _;
use chrono::{DateTime, Duration, TimeZone, Utc};
use notary_server::validate::{
    role_of_filename, validate_upload, HeldKeys, UploadPart, Validated, ValidationError,
};
use sha2::{Digest, Sha256};
use tuf_core::crypto::{method_name, Key, PublicKey, Signer, SoftwareSigner};
use tuf_core::editor::{notary_root_key, InitialKeys, RepoEditor, SignPlan, SignedFile};
use tuf_core::envelope::{RawSignature, Signed};
use tuf_core::json::{self, JsonLimits, JsonObject, JsonValue};
use tuf_core::name::{Gun, RoleName};
use tuf_core::role::{
    DelegatedRole, Hashes, Header, MetaFile, PathSpec, Role, RoleKeys, Root, Snapshot, TargetEntry,
    Targets, Threshold, TopRole,
};
use tuf_core::Dialect;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap()
}

fn gun() -> Gun {
    Gun::parse("example.com/app").unwrap()
}

struct Keys {
    root: SoftwareSigner,
    targets: SoftwareSigner,
    snapshot: SoftwareSigner,
    timestamp: SoftwareSigner,
    deleg: SoftwareSigner,
}

impl Keys {
    fn new() -> Self {
        Self {
            root: SoftwareSigner::p256_from_scalar_bytes(&[1; 32]).unwrap(),
            targets: SoftwareSigner::ed25519_from_seed([2; 32]),
            snapshot: SoftwareSigner::p256_from_scalar_bytes(&[3; 32]).unwrap(),
            timestamp: SoftwareSigner::ed25519_from_seed([4; 32]),
            deleg: SoftwareSigner::ed25519_from_seed([5; 32]),
        }
    }
    fn all(&self) -> Vec<&dyn Signer> {
        vec![
            &self.root,
            &self.targets,
            &self.snapshot,
            &self.timestamp,
            &self.deleg,
        ]
    }
    /// The server holds the timestamp key only (client-held snapshot).
    fn held(&self) -> HeldKeys {
        HeldKeys {
            timestamp: vec![self.timestamp.public_key().clone()],
            snapshot: vec![],
        }
    }
}

fn key(s: &SoftwareSigner) -> Key {
    Key::from_public_key(Dialect::Notary, s.public_key().clone())
}

fn editor_for(k: &Keys, cert_gun: &Gun) -> RepoEditor {
    RepoEditor::create(
        Dialect::Notary,
        InitialKeys {
            root: vec![notary_root_key(&k.root, cert_gun, now(), Duration::days(3650)).unwrap()],
            targets: vec![key(&k.targets)],
            snapshot: vec![key(&k.snapshot)],
            timestamp: vec![key(&k.timestamp)],
        },
        now(),
    )
}

fn editor(k: &Keys) -> RepoEditor {
    editor_for(k, &gun())
}

/// What a Notary client sends: everything but the timestamp (and the snapshot if asked).
fn client_plan(snapshot: bool) -> SignPlan {
    SignPlan {
        snapshot,
        timestamp: false,
    }
}

fn sign(e: &mut RepoEditor, k: &Keys, snapshot: bool) -> BTreeMap<String, Vec<u8>> {
    let files: Vec<SignedFile> = e.sign(&k.all(), now(), client_plan(snapshot)).unwrap();
    files.into_iter().map(|f| (f.role, f.bytes)).collect()
}

fn parts(files: &BTreeMap<String, Vec<u8>>, roles: &[&str]) -> Vec<UploadPart> {
    roles
        .iter()
        .map(|r| UploadPart {
            role: (*r).to_owned(),
            data: files[*r].clone(),
        })
        .collect()
}

fn all_parts(files: &BTreeMap<String, Vec<u8>>) -> Vec<UploadPart> {
    files
        .iter()
        .map(|(r, d)| UploadPart {
            role: r.clone(),
            data: d.clone(),
        })
        .collect()
}

fn validate(
    current: &BTreeMap<String, Vec<u8>>,
    held: &HeldKeys,
    parts: Vec<UploadPart>,
) -> Result<Validated, ValidationError> {
    validate_upload(&gun(), now(), current, held, parts)
}

fn empty() -> BTreeMap<String, Vec<u8>> {
    BTreeMap::new()
}

fn delegation(name: &str, k: &SoftwareSigner, paths: &[&str]) -> DelegatedRole {
    DelegatedRole {
        name: RoleName::delegated(Dialect::Notary, name).unwrap(),
        keys: RoleKeys {
            keyids: vec![key(k).key_id()],
            threshold: Threshold::ONE,
        },
        terminating: false,
        paths: PathSpec::Patterns(paths.iter().map(|p| (*p).to_owned()).collect()),
    }
}

fn roles_of(v: &Validated) -> Vec<(&str, u64)> {
    v.files
        .iter()
        .map(|f| (f.role.as_str(), f.version))
        .collect()
}

#[test]
fn first_publish_with_root_targets_snapshot_is_accepted() {
    let k = Keys::new();
    let mut e = editor(&k);
    let files = sign(&mut e, &k, true);
    // Part order is random in Go: put snapshot first.
    let v = validate(
        &empty(),
        &k.held(),
        parts(&files, &["snapshot", "targets", "root"]),
    )
    .unwrap();
    assert_eq!(
        roles_of(&v),
        vec![("root", 1), ("targets", 1), ("snapshot", 1)]
    );
    for f in &v.files {
        assert_eq!(f.data, files[&f.role], "{}: exact bytes", f.role);
    }
    assert_eq!(v.root_bytes, files["root"]);
    assert_eq!(v.root.header.version, 1);
    assert!(!v.server_signs_snapshot);
}

#[test]
fn first_publish_without_root_is_a_validation_error() {
    let k = Keys::new();
    let files = sign(&mut editor(&k), &k, true);
    let err = validate(&empty(), &k.held(), parts(&files, &["targets", "snapshot"])).unwrap_err();
    match err {
        ValidationError::Validation(m) => {
            assert_eq!(m, "no pre-existing root and no root provided in update.")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        ValidationError::Validation(String::new()).detail_name(),
        Some("ErrValidation")
    );
}

#[test]
fn root_version_skip_is_bad_root() {
    let k = Keys::new();
    let mut e = editor(&k);
    let store = sign(&mut e, &k, true);
    e.touch("root");
    sign(&mut e, &k, false);
    e.touch("root");
    let v3 = sign(&mut e, &k, false);
    let err = validate(&store, &k.held(), parts(&v3, &["root"])).unwrap_err();
    match err {
        ValidationError::BadRoot(m) => assert_eq!(
            m,
            "Root modifications must increment the version. Current 1, new 3"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn root_rotation_signed_by_old_and_new_keys_is_accepted() {
    let k = Keys::new();
    let mut e = editor(&k);
    let store = sign(&mut e, &k, true);
    let new_root = SoftwareSigner::p256_from_scalar_bytes(&[9; 32]).unwrap();
    let new_key = notary_root_key(&new_root, &gun(), now(), Duration::days(3650)).unwrap();
    e.set_role_keys(TopRole::Root, vec![new_key], Threshold::ONE)
        .unwrap();
    let mut signers = k.all();
    signers.push(&new_root);
    let v2: BTreeMap<String, Vec<u8>> = e
        .sign(&signers, now(), client_plan(true))
        .unwrap()
        .into_iter()
        .map(|f| (f.role, f.bytes))
        .collect();
    let v = validate(&store, &k.held(), parts(&v2, &["root", "snapshot"])).unwrap();
    assert_eq!(roles_of(&v), vec![("root", 2), ("snapshot", 2)]);
}

#[test]
fn root_signed_only_by_the_new_key_is_bad_root() {
    let k = Keys::new();
    let store = sign(&mut editor(&k), &k, true);
    // Same keys except root: a root v2 whose only signature is the new root key's.
    let mut k2 = Keys::new();
    k2.root = SoftwareSigner::p256_from_scalar_bytes(&[9; 32]).unwrap();
    let mut e2 = editor(&k2);
    sign(&mut e2, &k2, true);
    e2.touch("root");
    let v2 = sign(&mut e2, &k2, true);
    let err = validate(&store, &k.held(), parts(&v2, &["root", "snapshot"])).unwrap_err();
    match err {
        ValidationError::BadRoot(m) => {
            assert!(m.contains("could not rotate trust"), "{m}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn root_certificate_naming_another_gun_is_bad_root() {
    let k = Keys::new();
    let other = Gun::parse("example.com/other").unwrap();
    let files = sign(&mut editor_for(&k, &other), &k, true);
    let err = validate(&empty(), &k.held(), all_parts(&files)).unwrap_err();
    match err {
        ValidationError::BadRoot(m) => {
            assert!(
                m.contains("could not validate the path to a trusted root"),
                "{m}"
            );
            assert!(m.contains("common name"), "{m}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn root_naming_a_timestamp_key_the_server_does_not_hold_is_bad_root() {
    let k = Keys::new();
    let files = sign(&mut editor(&k), &k, true);
    let held = HeldKeys {
        timestamp: vec![SoftwareSigner::ed25519_from_seed([42; 32])
            .public_key()
            .clone()],
        snapshot: vec![],
    };
    let err = validate(&empty(), &held, all_parts(&files)).unwrap_err();
    match err {
        ValidationError::BadRoot(m) => {
            assert_eq!(m, "root does not name a timestamp key held by the server")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn expired_root_is_bad_root() {
    let k = Keys::new();
    let mut e = editor(&k);
    e.set_expires("root", now() - Duration::days(1));
    let files = sign(&mut e, &k, true);
    let err = validate(&empty(), &k.held(), all_parts(&files)).unwrap_err();
    assert!(matches!(err, ValidationError::BadRoot(_)), "{err:?}");
}

#[test]
fn targets_not_signed_by_roots_targets_key_is_bad_targets() {
    let k = Keys::new();
    let files = sign(&mut editor(&k), &k, true);
    let mut k2 = Keys::new();
    k2.targets = SoftwareSigner::ed25519_from_seed([77; 32]);
    let other = sign(&mut editor(&k2), &k2, true);
    let mut p = parts(&files, &["root", "snapshot"]);
    p.push(UploadPart {
        role: "targets".into(),
        data: other["targets"].clone(),
    });
    let err = validate(&empty(), &k.held(), p).unwrap_err();
    match err {
        ValidationError::BadTargets(m) => assert!(m.contains("threshold"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn delegation_is_accepted_with_its_parent_and_ordered_shallowest_first() {
    let k = Keys::new();
    let mut e = editor(&k);
    let store = sign(&mut e, &k, true);
    e.add_delegation(
        "targets",
        delegation("targets/releases", &k.deleg, &[""]),
        vec![key(&k.deleg)],
    )
    .unwrap();
    e.add_delegation(
        "targets/releases",
        delegation("targets/releases/beta", &k.deleg, &["beta/"]),
        vec![key(&k.deleg)],
    )
    .unwrap();
    let files = sign(&mut e, &k, true);
    let v = validate(&store, &k.held(), all_parts(&files)).unwrap();
    assert_eq!(
        roles_of(&v),
        vec![
            ("targets", 2),
            ("targets/releases", 1),
            ("targets/releases/beta", 1),
            ("snapshot", 2)
        ]
    );
    // A later upload of only the child verifies against the stored parent chain.
    let mut store2 = store.clone();
    store2.extend(files.clone());
    let t = TargetEntry::for_data(b"beta");
    e.add_target("targets/releases/beta", "beta/1", t).unwrap();
    let files2 = sign(&mut e, &k, true);
    let v = validate(&store2, &k.held(), all_parts(&files2)).unwrap();
    assert_eq!(
        roles_of(&v),
        vec![("targets/releases/beta", 2), ("snapshot", 3)]
    );
}

#[test]
fn delegation_not_declared_by_its_parent_is_bad_targets() {
    let k = Keys::new();
    let mut e = editor(&k);
    let store = sign(&mut e, &k, true);
    e.add_delegation(
        "targets",
        delegation("targets/releases", &k.deleg, &[""]),
        vec![key(&k.deleg)],
    )
    .unwrap();
    let files = sign(&mut e, &k, true);
    // The new targets (which declares the delegation) is left out: the stored one does not.
    let err = validate(
        &store,
        &k.held(),
        parts(&files, &["targets/releases", "snapshot"]),
    )
    .unwrap_err();
    match err {
        ValidationError::BadTargets(m) => assert!(m.contains("not delegated by targets"), "{m}"),
        other => panic!("{other:?}"),
    }
    // A delegated role whose parent exists nowhere.
    let err = validate(
        &store,
        &k.held(),
        vec![UploadPart {
            role: "targets/nope/x".into(),
            data: files["targets/releases"].clone(),
        }],
    )
    .unwrap_err();
    assert!(matches!(err, ValidationError::BadTargets(_)), "{err:?}");
}

#[test]
fn delegation_path_outside_the_parents_paths_is_bad_targets() {
    let k = Keys::new();
    let mut e = editor(&k);
    e.add_delegation(
        "targets",
        delegation("targets/a", &k.deleg, &["a/"]),
        vec![key(&k.deleg)],
    )
    .unwrap();
    e.add_delegation(
        "targets/a",
        delegation("targets/a/b", &k.deleg, &["a/x/", "b/"]),
        vec![key(&k.deleg)],
    )
    .unwrap();
    let files = sign(&mut e, &k, true);
    let err = validate(&empty(), &k.held(), all_parts(&files)).unwrap_err();
    match err {
        ValidationError::BadTargets(m) => {
            assert!(m.contains("outside"), "{m}");
            assert!(m.contains("\"b/\""), "{m}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn expired_targets_is_bad_targets() {
    let k = Keys::new();
    let mut e = editor(&k);
    e.set_expires("targets", now() - Duration::seconds(1));
    let files = sign(&mut e, &k, true);
    let err = validate(&empty(), &k.held(), all_parts(&files)).unwrap_err();
    match err {
        ValidationError::BadTargets(m) => assert!(m.contains("expired"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn snapshot_listing_wrong_hashes_is_bad_snapshot() {
    let k = Keys::new();
    let mut e = editor(&k);
    let mut e2 = e.clone();
    e2.add_target("targets", "x", TargetEntry::for_data(b"x"))
        .unwrap();
    let files = sign(&mut e, &k, true);
    let files2 = sign(&mut e2, &k, true);
    let mut p = parts(&files, &["root", "snapshot"]);
    p.push(UploadPart {
        role: "targets".into(),
        data: files2["targets"].clone(),
    });
    // Even when the server holds the snapshot key, an uploaded snapshot must be right (C03).
    let mut held = k.held();
    held.snapshot.push(k.snapshot.public_key().clone());
    let err = validate(&empty(), &held, p).unwrap_err();
    match err {
        ValidationError::BadSnapshot(m) => assert!(m.contains("targets"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn snapshot_not_signed_by_roots_snapshot_key_is_bad_snapshot() {
    let k = Keys::new();
    let files = sign(&mut editor(&k), &k, true);
    let mut k2 = Keys::new();
    k2.snapshot = SoftwareSigner::ed25519_from_seed([66; 32]);
    let other = sign(&mut editor(&k2), &k2, true);
    let mut p = parts(&files, &["root", "targets"]);
    p.push(UploadPart {
        role: "snapshot".into(),
        data: other["snapshot"].clone(),
    });
    let err = validate(&empty(), &k.held(), p).unwrap_err();
    assert!(matches!(err, ValidationError::BadSnapshot(_)), "{err:?}");
}

#[test]
fn no_snapshot_and_no_held_snapshot_key_is_bad_hierarchy() {
    let k = Keys::new();
    let files = sign(&mut editor(&k), &k, false);
    let err = validate(&empty(), &k.held(), all_parts(&files)).unwrap_err();
    assert_eq!(err.detail_name(), Some("ErrBadHierarchy"));
    match err {
        ValidationError::BadHierarchy { missing, msg } => {
            assert_eq!(missing, "snapshot");
            assert_eq!(
                msg,
                "no snapshot was included in update and server does not hold current snapshot key for repository"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn no_snapshot_with_a_held_snapshot_key_named_in_root_means_the_server_signs_it() {
    let k = Keys::new();
    let files = sign(&mut editor(&k), &k, false);
    let mut held = k.held();
    held.snapshot.push(k.snapshot.public_key().clone());
    let v = validate(&empty(), &held, all_parts(&files)).unwrap();
    assert!(v.server_signs_snapshot);
    assert_eq!(roles_of(&v), vec![("root", 1), ("targets", 1)]);
}

#[test]
fn replay_of_the_stored_versions_is_a_version_error() {
    let k = Keys::new();
    let files = sign(&mut editor(&k), &k, true);
    let store = files.clone();
    let err = validate(&store, &k.held(), all_parts(&files)).unwrap_err();
    assert!(matches!(err, ValidationError::Version { .. }), "{err:?}");
    let err = validate(&store, &k.held(), parts(&files, &["targets", "snapshot"])).unwrap_err();
    assert!(matches!(err, ValidationError::Version { .. }), "{err:?}");
    assert_eq!(err.detail_name(), None);
}

#[test]
fn duplicate_part_is_a_version_error() {
    let k = Keys::new();
    let files = sign(&mut editor(&k), &k, true);
    let p = parts(&files, &["root", "targets", "targets", "snapshot"]);
    let err = validate(&empty(), &k.held(), p).unwrap_err();
    match err {
        ValidationError::Version { role } => assert_eq!(role, "targets"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn uploaded_timestamp_is_ignored() {
    let k = Keys::new();
    let files: BTreeMap<String, Vec<u8>> = editor(&k)
        .sign(&k.all(), now(), SignPlan::default())
        .unwrap()
        .into_iter()
        .map(|f| (f.role, f.bytes))
        .collect();
    assert!(files.contains_key("timestamp"));
    let v = validate(&empty(), &k.held(), all_parts(&files)).unwrap();
    assert_eq!(
        roles_of(&v),
        vec![("root", 1), ("targets", 1), ("snapshot", 1)]
    );
}

/// `{"abc":"xyz",` + the rest of the envelope (Cure53 TUF-01-001).
fn with_extra_member(bytes: &[u8]) -> Vec<u8> {
    let mut out = b"{\"abc\":\"xyz\",".to_vec();
    out.extend_from_slice(&bytes[1..]);
    out
}

#[test]
fn extra_top_level_member_is_malformed_json() {
    let k = Keys::new();
    let files = sign(&mut editor(&k), &k, true);
    for role in ["root", "targets", "snapshot"] {
        let mut f = files.clone();
        f.insert(role.into(), with_extra_member(&files[role]));
        let err = validate(&empty(), &k.held(), all_parts(&f)).unwrap_err();
        match err {
            ValidationError::MalformedJson { role: r, reason } => {
                assert_eq!(r, role);
                assert!(reason.contains("abc"), "{reason}");
            }
            other => panic!("{role}: {other:?}"),
        }
    }
}

#[test]
fn garbage_duplicate_keys_and_trailing_data_are_malformed_json() {
    let k = Keys::new();
    let files = sign(&mut editor(&k), &k, true);
    let mut trailing = files["targets"].clone();
    trailing.extend_from_slice(b" {}");
    let mut dup = b"{\"signatures\":[],".to_vec();
    dup.extend_from_slice(&files["targets"][1..]);
    for bad in [
        b"\x00\xffnot json".to_vec(),
        b"[]".to_vec(),
        b"{\"signed\":{}}".to_vec(),
        trailing,
        dup,
    ] {
        let mut f = files.clone();
        f.insert("targets".into(), bad.clone());
        let err = validate(&empty(), &k.held(), all_parts(&f)).unwrap_err();
        assert!(
            matches!(err, ValidationError::MalformedJson { ref role, .. } if role == "targets"),
            "{:?}: {err:?}",
            String::from_utf8_lossy(&bad)
        );
    }
}

#[test]
fn wrong_type_is_the_roles_bad_error() {
    let k = Keys::new();
    let files = sign(&mut editor(&k), &k, true);
    let mut f = files.clone();
    f.insert("snapshot".into(), files["targets"].clone());
    let err = validate(&empty(), &k.held(), all_parts(&f)).unwrap_err();
    assert!(matches!(err, ValidationError::BadSnapshot(_)), "{err:?}");
    let mut f = files.clone();
    f.insert("targets".into(), files["snapshot"].clone());
    let err = validate(&empty(), &k.held(), all_parts(&f)).unwrap_err();
    assert!(matches!(err, ValidationError::BadTargets(_)), "{err:?}");
}

#[test]
fn invalid_role_names_are_refused() {
    let k = Keys::new();
    let files = sign(&mut editor(&k), &k, true);
    for name in [
        "targets/../x",
        "bogus",
        "targets/",
        "Targets",
        "root.json",
        "",
    ] {
        let mut p = all_parts(&files);
        p.push(UploadPart {
            role: name.into(),
            data: files["targets"].clone(),
        });
        let err = validate(&empty(), &k.held(), p).unwrap_err();
        match err {
            ValidationError::InvalidRole(r) => assert_eq!(r, name),
            other => panic!("{name}: {other:?}"),
        }
    }
    assert_eq!(role_of_filename("targets.json").as_deref(), Some("targets"));
    assert_eq!(
        role_of_filename("targets/releases").as_deref(),
        Some("targets/releases")
    );
    assert_eq!(role_of_filename("bogus.json"), None);
    assert_eq!(role_of_filename("targets/../x"), None);
}

/// Signs `role` by hand with one key (the editor only ever bumps versions by one and always
/// writes a complete snapshot).
fn sign_by_hand<R: Role>(role: &R, signer: &SoftwareSigner) -> Vec<u8> {
    let signed = role.to_signed_json(Dialect::Notary);
    let sig = signer
        .sign(&json::to_canonical(&signed))
        .unwrap()
        .to_wire(Dialect::Notary);
    let raw = RawSignature {
        keyid: key(signer).key_id().to_hex(),
        method: Some(method_name(Dialect::Notary, signer.public_key()).to_owned()),
        sig: Some(sig),
    };
    let mut env = JsonObject::new();
    env.insert("signed".into(), signed);
    env.insert(
        "signatures".into(),
        JsonValue::Array(vec![raw.to_json(Dialect::Notary)]),
    );
    json::to_json(&JsonValue::Object(env))
}

fn targets_with_version(t: &Targets, version: u64, signer: &SoftwareSigner) -> Vec<u8> {
    let mut t = t.clone();
    t.header.version = version;
    sign_by_hand(&t, signer)
}

fn meta_of(bytes: &[u8]) -> MetaFile {
    let mut hashes = Hashes::new();
    hashes.insert("sha256".into(), Sha256::digest(bytes).to_vec());
    MetaFile {
        version: None,
        length: Some(bytes.len() as u64),
        hashes,
    }
}

#[test]
fn snapshot_must_list_every_live_delegation_including_stored_ones() {
    let k = Keys::new();
    let mut e = editor(&k);
    e.add_delegation(
        "targets",
        delegation("targets/releases", &k.deleg, &[""]),
        vec![key(&k.deleg)],
    )
    .unwrap();
    let store = sign(&mut e, &k, true);
    let snapshot_with = |roles: &[&str]| {
        let snap = Snapshot {
            header: Header::new(2, now() + Duration::days(30)),
            meta: roles
                .iter()
                .map(|r| ((*r).to_owned(), meta_of(&store[*r])))
                .collect(),
            extra: Default::default(),
        };
        vec![UploadPart {
            role: "snapshot".into(),
            data: sign_by_hand(&snap, &k.snapshot),
        }]
    };
    let err = validate(&store, &k.held(), snapshot_with(&["root", "targets"])).unwrap_err();
    match err {
        ValidationError::BadSnapshot(m) => assert!(m.contains("targets/releases"), "{m}"),
        other => panic!("{other:?}"),
    }
    let err = validate(
        &store,
        &k.held(),
        snapshot_with(&["targets", "targets/releases"]),
    )
    .unwrap_err();
    assert!(
        matches!(err, ValidationError::BadSnapshot(ref m) if m.contains("root")),
        "{err:?}"
    );
    let v = validate(
        &store,
        &k.held(),
        snapshot_with(&["root", "targets", "targets/releases"]),
    )
    .unwrap();
    assert_eq!(roles_of(&v), vec![("snapshot", 2)]);
}

#[test]
fn huge_version_jump_is_refused_and_a_normal_publish_still_works() {
    let k = Keys::new();
    let mut e = editor(&k);
    let store = sign(&mut e, &k, false);
    let mut held = k.held();
    held.snapshot.push(k.snapshot.public_key().clone());
    let t = e.targets("targets").unwrap().clone();
    for version in [1u64 << 62, i64::MAX as u64, 1_000_002] {
        let p = vec![UploadPart {
            role: "targets".into(),
            data: targets_with_version(&t, version, &k.targets),
        }];
        let err = validate(&store, &held, p).unwrap_err();
        assert!(
            matches!(err, ValidationError::BadTargets(ref m) if m.contains("jumps")),
            "{version}: {err:?}"
        );
    }
    // Within the bound (and the hand-signed bytes are accepted as such).
    let p = vec![UploadPart {
        role: "targets".into(),
        data: targets_with_version(&t, 1_000_001, &k.targets),
    }];
    let v = validate(&store, &held, p).unwrap();
    assert_eq!(roles_of(&v), vec![("targets", 1_000_001)]);
    // The normal +1 publish still succeeds.
    e.touch("targets");
    let normal = sign(&mut e, &k, false);
    let v = validate(&store, &held, parts(&normal, &["targets"])).unwrap();
    assert_eq!(roles_of(&v), vec![("targets", 2)]);
    assert!(v.server_signs_snapshot);
}

// --- Real Go Notary 0.7 fixtures -------------------------------------------------------

fn shared() -> PathBuf {
    let candidates: Vec<PathBuf> = std::env::var_os("NOTARY_RS_SHARED")
        .map(PathBuf::from)
        .into_iter()
        .chain([
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
            PathBuf::from("/work/shared"),
        ])
        .collect();
    candidates
        .iter()
        .find(|p| p.join("fixtures/notary-0.7").is_dir())
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "Notary fixtures not found (set NOTARY_RS_SHARED); looked in {candidates:?} for fixtures/notary-0.7"
            )
        })
}

fn fixture(scenario: &str, file: &str) -> Vec<u8> {
    let p = shared()
        .join("fixtures/notary-0.7")
        .join(scenario)
        .join("server")
        .join(file);
    std::fs::read(&p).unwrap_or_else(|e| panic!("fixture {}: {e}", p.display()))
}

fn fixture_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
}

/// The server's timestamp key as `GET …/timestamp.key` returned it.
fn fixture_timestamp_key(scenario: &str) -> PublicKey {
    let v: serde_json::Value = serde_json::from_slice(&fixture(scenario, "timestamp.key")).unwrap();
    assert_eq!(v["keytype"], "ed25519");
    let raw = base64::engine::general_purpose::STANDARD
        .decode(v["keyval"]["public"].as_str().unwrap())
        .unwrap();
    PublicKey::ed25519_from_bytes(&raw).unwrap()
}

fn fixture_root(scenario: &str) -> Root {
    Signed::<Root>::parse(
        Dialect::Notary,
        "root",
        &fixture(scenario, "root.json"),
        &JsonLimits::default(),
    )
    .unwrap()
    .peek_untrusted()
    .clone()
}

fn fixture_part(scenario: &str, role: &str, file: &str) -> UploadPart {
    UploadPart {
        role: role.into(),
        data: fixture(scenario, file),
    }
}

#[test]
fn fixture_three_targets_upload_with_client_signed_snapshot_validates() {
    let s = "three-targets";
    let root = fixture_root(s);
    let ts = fixture_timestamp_key(s);
    // The snapshot is client-signed (ecdsa): the server holds only the timestamp key.
    let snap_key = root
        .keys
        .get(&root.role(TopRole::Snapshot).keyids[0])
        .unwrap();
    assert_eq!(snap_key.keytype(), "ecdsa");
    let held = HeldKeys {
        timestamp: vec![ts],
        snapshot: vec![],
    };
    let parts = vec![
        fixture_part(s, "snapshot", "snapshot.json"),
        fixture_part(s, "root", "root.json"),
        fixture_part(s, "targets", "targets.json"),
    ];
    let v = validate_upload(&gun(), fixture_now(), &empty(), &held, parts).unwrap();
    assert_eq!(
        roles_of(&v),
        vec![("root", 1), ("targets", 3), ("snapshot", 3)]
    );
    assert!(!v.server_signs_snapshot);
    assert_eq!(v.files[1].data, fixture(s, "targets.json"));
}

#[test]
fn fixture_delegation_upload_validates_with_server_or_client_snapshot() {
    let s = "delegation";
    let root = fixture_root(s);
    let snapshot_key = root
        .keys
        .get(&root.role(TopRole::Snapshot).keyids[0])
        .unwrap()
        .public_key()
        .clone();
    let held = HeldKeys {
        timestamp: vec![fixture_timestamp_key(s)],
        snapshot: vec![snapshot_key],
    };
    let base = vec![
        fixture_part(s, "targets/releases", "targets/releases.json"),
        fixture_part(s, "root", "root.json"),
        fixture_part(s, "targets", "targets.json"),
    ];
    let v = validate_upload(&gun(), fixture_now(), &empty(), &held, base.clone()).unwrap();
    assert!(v.server_signs_snapshot);
    assert_eq!(
        roles_of(&v),
        vec![("root", 2), ("targets", 4), ("targets/releases", 1)]
    );
    // With the (server-signed) snapshot uploaded as well, its meta matches every role.
    let mut with_snapshot = base;
    with_snapshot.push(fixture_part(s, "snapshot", "snapshot.json"));
    let v = validate_upload(&gun(), fixture_now(), &empty(), &held, with_snapshot).unwrap();
    assert!(!v.server_signs_snapshot);
    assert_eq!(v.files.last().map(|f| f.role.as_str()), Some("snapshot"));
}

#[test]
fn fixture_root_rotation_from_stored_v1_validates() {
    let s = "delegation";
    let mut store = BTreeMap::new();
    store.insert("root".to_owned(), fixture(s, "1.root.json"));
    let held = HeldKeys {
        timestamp: vec![fixture_timestamp_key(s)],
        snapshot: vec![],
    };
    let v = validate_upload(
        &gun(),
        fixture_now(),
        &store,
        &held,
        vec![
            fixture_part(s, "root", "2.root.json"),
            fixture_part(s, "targets", "targets.json"),
            fixture_part(s, "targets/releases", "targets/releases.json"),
            fixture_part(s, "snapshot", "snapshot.json"),
        ],
    );
    // 2.root.json (= the current root.json) is signed by the key of 1.root.json.
    let v = v.unwrap();
    assert_eq!(v.root.header.version, 2);
}
