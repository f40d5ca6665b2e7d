//! The editor: deterministic output, self-verification before emitting, key rotation, and
//! continuing from a verified repository, in both dialects.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use tuf_core::crypto::{Key, Signer, SoftwareSigner};
use tuf_core::editor::{notary_root_key, EditError, InitialKeys, RepoEditor, SignPlan, SignedFile};
use tuf_core::error::UpdateError;
use tuf_core::name::Gun;
use tuf_core::role::{TargetEntry, Threshold, TopRole};
use tuf_core::search::TargetLookup;
use tuf_core::trusted_set::{RepoConfig, TimestampUpdate, TrustedSet};
use tuf_core::Dialect;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap()
}

fn gun() -> Gun {
    Gun::parse("example.com/editor").unwrap()
}

fn config(d: Dialect) -> RepoConfig {
    match d {
        Dialect::Notary => RepoConfig::notary(gun()),
        Dialect::TufSpec => RepoConfig::tuf(),
    }
}

struct Keys {
    root: SoftwareSigner,
    targets: SoftwareSigner,
    snapshot: SoftwareSigner,
    timestamp: SoftwareSigner,
}

impl Keys {
    fn new() -> Self {
        Self {
            root: SoftwareSigner::ed25519_from_seed([1; 32]),
            targets: SoftwareSigner::ed25519_from_seed([2; 32]),
            snapshot: SoftwareSigner::ed25519_from_seed([3; 32]),
            timestamp: SoftwareSigner::ed25519_from_seed([4; 32]),
        }
    }
    fn p256() -> Self {
        let p = |b: u8| SoftwareSigner::p256_from_scalar_bytes(&[b; 32]).unwrap();
        Self {
            root: p(1),
            targets: p(2),
            snapshot: p(3),
            timestamp: p(4),
        }
    }
    fn all(&self) -> [&dyn Signer; 4] {
        [&self.root, &self.targets, &self.snapshot, &self.timestamp]
    }
}

fn key(d: Dialect, s: &SoftwareSigner) -> Key {
    Key::from_public_key(d, s.public_key().clone())
}

fn editor(d: Dialect, k: &Keys) -> RepoEditor {
    let root = match d {
        // Notary root keys are certificates naming the GUN (P-256 only).
        Dialect::Notary => notary_root_key(&k.root, &gun(), now(), Duration::days(3650)).unwrap(),
        Dialect::TufSpec => key(d, &k.root),
    };
    RepoEditor::create(
        d,
        InitialKeys {
            root: vec![root],
            targets: vec![key(d, &k.targets)],
            snapshot: vec![key(d, &k.snapshot)],
            timestamp: vec![key(d, &k.timestamp)],
        },
        now(),
    )
}

fn files(f: &[SignedFile]) -> BTreeMap<String, Vec<u8>> {
    f.iter()
        .map(|f| (f.role.clone(), f.bytes.clone()))
        .collect()
}

fn client(d: Dialect, root: &[u8], f: &BTreeMap<String, Vec<u8>>) -> TrustedSet {
    let mut set = TrustedSet::new(config(d), root, now()).unwrap();
    set.update_timestamp(&f["timestamp"]).unwrap();
    set.update_snapshot(&f["snapshot"]).unwrap();
    set.update_targets(&f["targets"]).unwrap();
    set
}

fn dialects() -> [(Dialect, Keys); 2] {
    [
        (Dialect::Notary, Keys::p256()),
        (Dialect::TufSpec, Keys::new()),
    ]
}

#[test]
fn output_is_byte_stable() {
    for (d, k) in dialects() {
        // One starting point (a Notary root certificate has a random serial), then two
        // identical editing sessions must give identical files.
        let template = editor(d, &k);
        let sign = || {
            let mut e = template.clone();
            e.add_target("targets", "v1", TargetEntry::for_data(b"one"))
                .unwrap();
            e.sign(&k.all(), now(), SignPlan::default()).unwrap()
        };
        let (a, b) = (sign(), sign());
        assert!(a == b, "{d:?}: two identical sessions gave different bytes");
        let roles = a.iter().map(|f| f.role.as_str()).collect::<Vec<_>>();
        assert_eq!(roles, ["root", "targets", "snapshot", "timestamp"]);
    }
}

#[test]
fn refuses_to_emit_what_would_not_verify_and_changes_nothing() {
    for (d, k) in dialects() {
        let mut e = editor(d, &k);
        e.add_target("targets", "v1", TargetEntry::for_data(b"one"))
            .unwrap();
        // Without the targets key the targets role cannot meet its threshold.
        let err = e
            .sign(
                &[&k.root, &k.snapshot, &k.timestamp],
                now(),
                SignPlan::default(),
            )
            .unwrap_err();
        assert!(
            matches!(&err, EditError::WouldNotVerify { role, source: UpdateError::Threshold { .. } } if role == "targets"),
            "{d:?}: {err}"
        );
        // Nothing changed: a full signing afterwards starts from version 1.
        let out = e.sign(&k.all(), now(), SignPlan::default()).unwrap();
        assert!(out.iter().all(|f| f.version == 1), "{d:?}");
        // A threshold the keys cannot meet is refused before signing.
        let err = e
            .set_role_keys(
                TopRole::Snapshot,
                vec![key(d, &k.snapshot)],
                Threshold::new(2).unwrap(),
            )
            .unwrap_err();
        assert!(matches!(
            err,
            EditError::ThresholdExceedsKeys {
                threshold: 2,
                keys: 1,
                ..
            }
        ));
    }
}

#[test]
fn new_repository_verifies_and_updates_incrementally() {
    for (d, k) in dialects() {
        let mut e = editor(d, &k);
        e.add_target("targets", "v1", TargetEntry::for_data(b"one"))
            .unwrap();
        let first = files(&e.sign(&k.all(), now(), SignPlan::default()).unwrap());
        let set = client(d, &first["root"], &first);
        assert!(matches!(
            set.find_target("v1").unwrap(),
            TargetLookup::Found { .. }
        ));

        // Continue from what the client verified: add v2, remove v1.
        let mut e2 = RepoEditor::from_trusted(&set).unwrap();
        e2.add_target("targets", "v2", TargetEntry::for_data(b"two"))
            .unwrap();
        assert!(e2.remove_target("targets", "v1").unwrap());
        let second = e2.sign(&k.all(), now(), SignPlan::default()).unwrap();
        let roles: Vec<_> = second
            .iter()
            .map(|f| (f.role.as_str(), f.version))
            .collect();
        assert_eq!(
            roles,
            [("targets", 2), ("snapshot", 2), ("timestamp", 2)],
            "{d:?}"
        );
        let second = files(&second);

        // A returning client: cached timestamp v1, then the new files.
        let mut set = TrustedSet::new(config(d), &first["root"], now()).unwrap();
        set.load_cached_timestamp(&first["timestamp"]).unwrap();
        assert_eq!(
            set.update_timestamp(&second["timestamp"]).unwrap(),
            TimestampUpdate::Updated
        );
        set.update_snapshot(&second["snapshot"]).unwrap();
        set.update_targets(&second["targets"]).unwrap();
        assert_eq!(set.find_target("v1").unwrap(), TargetLookup::NotFound);
        assert!(matches!(
            set.find_target("v2").unwrap(),
            TargetLookup::Found { .. }
        ));

        // Replaying the old snapshot against the new timestamp is refused.
        let mut set = TrustedSet::new(config(d), &first["root"], now()).unwrap();
        set.update_timestamp(&second["timestamp"]).unwrap();
        assert!(set.update_snapshot(&first["snapshot"]).is_err(), "{d:?}");
    }
}

#[test]
fn root_rotation_is_signed_by_old_and_new_keys_and_walks() {
    for (d, k) in dialects() {
        let mut e = editor(d, &k);
        let v1 = files(&e.sign(&k.all(), now(), SignPlan::default()).unwrap());
        let new_root = SoftwareSigner::p256_from_scalar_bytes(&[9; 32]).unwrap();
        let new_key = match d {
            Dialect::Notary => {
                notary_root_key(&new_root, &gun(), now(), Duration::days(3650)).unwrap()
            }
            Dialect::TufSpec => key(d, &new_root),
        };
        e.set_role_keys(TopRole::Root, vec![new_key], Threshold::ONE)
            .unwrap();
        // The new key alone cannot sign the handover: the trusted root must sign too.
        let err = e
            .sign(
                &[&new_root],
                now(),
                SignPlan {
                    snapshot: false,
                    timestamp: false,
                },
            )
            .unwrap_err();
        assert!(
            matches!(err, EditError::WouldNotVerify { ref role, .. } if role == "root"),
            "{d:?}: {err}"
        );
        let v2 = e
            .sign(
                &[&k.root, &new_root],
                now(),
                SignPlan {
                    snapshot: false,
                    timestamp: false,
                },
            )
            .unwrap();
        assert_eq!(v2.len(), 1);
        assert_eq!((v2[0].role.as_str(), v2[0].version), ("root", 2));
        let mut set = TrustedSet::new(config(d), &v1["root"], now()).unwrap();
        set.update_root(&v2[0].bytes).unwrap();
        assert_eq!(set.root().header.version, 2);
        // A third root signed only by the new key is accepted after v2.
        e.touch("root");
        let v3 = e
            .sign(
                &[&new_root],
                now(),
                SignPlan {
                    snapshot: false,
                    timestamp: false,
                },
            )
            .unwrap();
        set.update_root(&v3[0].bytes).unwrap();
        assert_eq!(set.root().header.version, 3);
    }
}

#[test]
fn expiry_and_versions_can_be_set() {
    for (d, k) in dialects() {
        let mut e = editor(d, &k);
        let later = now() + Duration::days(30);
        e.set_expires("timestamp", later);
        let f = e.sign(&k.all(), now(), SignPlan::default()).unwrap();
        let m = files(&f);
        let set = client(d, &m["root"], &m);
        assert_eq!(set.timestamp().unwrap().header.expires, later);
        // Touching a role bumps its version with nothing else changed.
        let mut e = RepoEditor::from_trusted(&set).unwrap();
        e.touch("targets");
        let f = e.sign(&k.all(), now(), SignPlan::default()).unwrap();
        assert_eq!(f[0].role, "targets");
        assert_eq!(f[0].version, 2);
    }
}

#[test]
fn an_expired_timestamp_replayed_at_the_same_version_freezes_nothing() {
    for (d, k) in dialects() {
        let mut e = editor(d, &k);
        e.set_expires("timestamp", now() + Duration::days(1));
        let f = files(&e.sign(&k.all(), now(), SignPlan::default()).unwrap());
        let later = now() + Duration::days(2);
        // The client's cached timestamp has expired; the server replays the same version.
        let mut set = TrustedSet::new(config(d), &f["root"], later).unwrap();
        set.load_cached_timestamp(&f["timestamp"]).unwrap();
        let err = set.update_timestamp(&f["timestamp"]).unwrap_err();
        assert!(
            matches!(err, UpdateError::Expired { ref role, .. } if role == "timestamp"),
            "{d:?}: {err}"
        );
        // Nor can targets be loaded on the strength of the expired timestamp and a cached,
        // current snapshot.
        set.load_cached_snapshot(&f["snapshot"]).unwrap();
        assert!(set.snapshot_is_current());
        let err = set.update_targets(&f["targets"]).unwrap_err();
        assert!(
            matches!(err, UpdateError::Expired { ref role, .. } if role == "timestamp"),
            "{d:?}: {err}"
        );
    }
}

/// Counts the signatures it is asked for (a stand-in for a hardware key whose every
/// signature costs a touch).
struct Counting {
    inner: SoftwareSigner,
    calls: std::sync::atomic::AtomicUsize,
}

impl Signer for Counting {
    fn public_key(&self) -> &tuf_core::crypto::PublicKey {
        self.inner.public_key()
    }
    fn sign(
        &self,
        message: &[u8],
    ) -> Result<tuf_core::crypto::SignatureBytes, tuf_core::crypto::SignError> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.sign(message)
    }
}

#[test]
fn signers_below_a_threshold_are_refused_before_any_signer_is_asked() {
    let k = Keys::new();
    let d = Dialect::TufSpec;
    let second = SoftwareSigner::ed25519_from_seed([9; 32]);
    let mut ed = editor(d, &k);
    ed.set_role_keys(
        TopRole::Root,
        vec![key(d, &k.root), key(d, &second)],
        Threshold::new(2).unwrap(),
    )
    .unwrap();
    let root = Counting {
        inner: SoftwareSigner::ed25519_from_seed([1; 32]),
        calls: Default::default(),
    };
    let signers: [&dyn Signer; 4] = [&root, &k.targets, &k.snapshot, &k.timestamp];
    let e = ed.sign(&signers, now(), SignPlan::default()).unwrap_err();
    assert!(
        matches!(&e, EditError::WouldNotVerify { role, source: UpdateError::Threshold { valid: 1, threshold: 2, .. } } if role == "root"),
        "{e}"
    );
    assert_eq!(root.calls.load(std::sync::atomic::Ordering::SeqCst), 0);

    // A missing targets key is found before the root is signed too.
    let signers: [&dyn Signer; 4] = [&root, &second, &k.snapshot, &k.timestamp];
    let e = ed.sign(&signers, now(), SignPlan::default()).unwrap_err();
    assert!(
        matches!(&e, EditError::WouldNotVerify { role, .. } if role == "targets"),
        "{e}"
    );
    assert_eq!(root.calls.load(std::sync::atomic::Ordering::SeqCst), 0);

    // The pending root is what signing covers; with both keys one signature each.
    let pending = ed.pending_root(now()).unwrap();
    assert_eq!(pending.root.header.version, 1);
    assert_eq!(pending.authorities.len(), 1);
    let signers: [&dyn Signer; 5] = [&root, &second, &k.targets, &k.snapshot, &k.timestamp];
    let files = ed.sign(&signers, now(), SignPlan::default()).unwrap();
    assert_eq!(root.calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    let signed = tuf_core::json::parse(&files[0].bytes).unwrap();
    let canonical =
        tuf_core::json::to_canonical(signed.as_object().unwrap().get("signed").unwrap());
    assert_eq!(canonical, pending.canonical);
}
