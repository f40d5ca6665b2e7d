#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Interop with `tough` 0.24 (awslabs' independent Rust TUF client) as a second peer besides
//! python-tuf:
//! - every repository `make_repo.py` (python-tuf 7) writes loads in tough over `file://` with
//!   expiration enforcement on, and every expected target reads back byte for byte;
//! - repositories our `RepoEditor` writes (ed25519, P-256, delegations, root rotation) load too;
//! - tough refuses a tampered target, a replayed (older) timestamp once its datastore has seen
//!   a newer one, and an expired snapshot.
//!
//! Layout trap: with consistent snapshots tough fetches a target as `<sha256>.<whole name>`
//! (`targets/<sha>.a/x.txt`), python-tuf and we store `a/<sha>.x.txt`. The test writes the
//! tough spelling as an extra copy into its own copy of each repository (`add_tough_names`).
//!
//! Known tough 0.24 divergences, asserted so that a change shows up:
//! - no TAP 15 `succinct_roles`: `Delegations.roles` is a required field, so a targets role
//!   delegating by succinct hash bins fails to parse (`ParseMetadata { role: targets }`);
//! - path patterns are `globset` globs with `*` matching `/`, so `a/*` also trusts
//!   `a/sub/deeper/q.txt` (the spec and python-tuf do not);
//! - a delegated role that lists a target outside its delegated paths makes the whole load
//!   fail (`InvalidPath { TargetNotFound }`, from `Targets::validate` at the end of `load`);
//!   the spec and python-tuf only ignore that entry. So python-tuf's `delegations` and
//!   `hash-prefixes` scenarios (which list such strays on purpose) are refused by tough, and
//!   our delegation repository is checked both without strays (loads) and with one (refused);
//! - tough recomputes every key ID over the key object as parsed, unknown fields included, and
//!   refuses a mismatch: python-tuf's `custom-fields` scenario adds `x-key-extra` to a root key
//!   after its key ID was computed (python-tuf never recomputes), so tough refuses that root.

use std::collections::BTreeMap;
use std::error::Error as StdError;
use std::fs;
use std::path::{Path, PathBuf};

use chrono::{Duration, Utc};
use notary_rs_tests::tuf_dir::consistent_target_file;
use notary_rs_tests::tuf_repos::{copy_dir, key, read_json, sign, TopSigners};
use notary_rs_tests::{python_script, run_python};

use tough::error::Error as ToughError;
use tough::schema::RoleType;
use tough::{
    Bytes, ExpirationEnforcement, IntoVec, Repository, RepositoryLoader, TargetName, Transport,
    TransportError, TransportErrorKind, TransportStream,
};
use tuf_core::crypto::SoftwareSigner;
use tuf_core::editor::{RepoEditor, SignedFile};
use tuf_core::name::RoleName;
use tuf_core::role::{DelegatedRole, PathSpec, RoleKeys, TargetEntry, Threshold, TopRole};
use tuf_core::Dialect;
use url::Url;

// --- helpers ------------------------------------------------------------------------------

fn dir_url(dir: &Path) -> String {
    let s = dir.to_str().unwrap();
    assert!(
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-".contains(&b)),
        "{s}: would need percent-encoding"
    );
    format!("file://{s}/")
}

/// Serves `file://` URLs from disk, percent-decoding the path. tough 0.24's own
/// `FilesystemTransport` uses `Url::path()` undecoded, so over `file://` it looks for
/// `na%C3%AFve%20caf%C3%A9.txt` instead of `naïve café.txt`; an HTTP server decodes, and so
/// does this.
#[derive(Debug, Clone, Copy)]
struct DirTransport;

#[tough::async_trait]
impl Transport for DirTransport {
    async fn fetch(&self, url: Url) -> Result<TransportStream, TransportError> {
        let path = url
            .to_file_path()
            .map_err(|()| TransportError::new(TransportErrorKind::UnsupportedUrlScheme, &url))?;
        match fs::read(&path) {
            Ok(data) => Ok(Box::pin(futures::stream::iter([Ok(Bytes::from(data))]))),
            Err(e) => {
                let kind = if e.kind() == std::io::ErrorKind::NotFound {
                    TransportErrorKind::FileNotFound
                } else {
                    TransportErrorKind::Other
                };
                Err(TransportError::new_with_cause(kind, &url, e))
            }
        }
    }
}

/// Loads `dir` (layout `metadata/`, `targets/`, trusting `metadata/1.root.json`) in tough.
async fn load(dir: &Path, datastore: Option<&Path>) -> Result<Repository, ToughError> {
    let root = fs::read(dir.join("metadata/1.root.json")).unwrap();
    let mut loader = RepositoryLoader::new(
        &root,
        dir_url(&dir.join("metadata")).parse().unwrap(),
        dir_url(&dir.join("targets")).parse().unwrap(),
    )
    .transport(DirTransport)
    .expiration_enforcement(ExpirationEnforcement::Safe);
    if let Some(ds) = datastore {
        loader = loader.datastore(ds);
    }
    loader.load().await
}

/// `Ok(None)`: tough finds no such target; `Ok(Some)`: its verified bytes.
async fn read(repo: &Repository, path: &str) -> Result<Option<Vec<u8>>, ToughError> {
    let name = TargetName::new(path).unwrap();
    match repo.read_target(&name).await? {
        None => Ok(None),
        Some(stream) => Ok(Some(stream.into_vec().await?)),
    }
}

/// tough's refusal of a repository in which a delegated role lists `one_of` a path outside
/// its delegation.
fn assert_stray_refused(e: &ToughError, one_of: &[&str]) {
    match e {
        ToughError::InvalidPath {
            source: tough::schema::Error::TargetNotFound { name },
        } => assert!(one_of.contains(&name.raw()), "{name:?} not in {one_of:?}"),
        _ => panic!("expected InvalidPath(TargetNotFound), got {e:?}"),
    }
}

/// Every tough error in `e`'s source chain (tough wraps stream errors in `TransportError`).
fn tough_errors<'a>(e: &'a (dyn StdError + 'static)) -> Vec<&'a ToughError> {
    let mut out = Vec::new();
    let mut cur = Some(e);
    while let Some(x) = cur {
        if let Some(t) = x.downcast_ref::<ToughError>() {
            out.push(t);
        }
        cur = x.source();
    }
    out
}

/// Copies `dir/<sha>.<base>` (python-tuf's and our spelling) to `<sha>.<dir/base>` (tough's).
fn add_tough_names(repo: &Path, path: &str, sha256: &str) {
    let Some((parent, base)) = path.rsplit_once('/') else {
        return; // a top-level name is spelled the same way by all three
    };
    let ours = repo
        .join("targets")
        .join(parent)
        .join(format!("{sha256}.{base}"));
    let tough = repo.join("targets").join(format!("{sha256}.{path}"));
    fs::create_dir_all(tough.parent().unwrap()).unwrap();
    fs::copy(&ours, &tough).unwrap_or_else(|e| panic!("{}: {e}", ours.display()));
}

/// Every `(path, sha256)` any targets metadata file of `repo` lists.
fn listed_targets(repo: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for e in fs::read_dir(repo.join("metadata")).unwrap() {
        let md = read_json(&e.unwrap().path());
        if md["signed"]["_type"] != "targets" {
            continue;
        }
        for (path, info) in md["signed"]["targets"].as_object().unwrap() {
            let sha = info["hashes"]["sha256"].as_str().unwrap();
            out.insert(path.clone(), sha.to_owned());
        }
    }
    out
}

fn target_path(repo: &Path, path: &str) -> PathBuf {
    let sha = listed_targets(repo)[path].clone();
    repo.join("targets").join(format!("{sha}.{path}"))
}

// --- python-tuf repositories ----------------------------------------------------------------

/// Runs `make_repo.py`, then copies every scenario to `work/` with tough's target names added.
fn python_repos(tmp: &Path) -> Vec<PathBuf> {
    let out = tmp.join("made");
    let run = run_python(&[python_script("make_repo.py").as_os_str(), out.as_os_str()]);
    assert!(
        run.status.success(),
        "make_repo.py failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let index = read_json(&out.join("index.json"));
    let mut dirs = Vec::new();
    for s in index["scenarios"].as_array().unwrap() {
        let name = s["dir"].as_str().unwrap();
        let dir = tmp.join("work").join(name);
        copy_dir(&out.join(name), &dir);
        assert!(read_json(&dir.join("expected.json"))["consistent_snapshot"]
            .as_bool()
            .unwrap());
        for (path, sha) in listed_targets(&dir) {
            add_tough_names(&dir, &path, &sha);
        }
        dirs.push(dir);
    }
    dirs
}

#[tokio::test]
async fn python_tuf_repositories_load_in_tough() {
    let tmp = tempfile::tempdir().unwrap();
    let dirs = python_repos(tmp.path());
    assert_eq!(dirs.len(), 9, "scenario count");
    let mut loaded = Vec::new();
    for dir in &dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let expected = read_json(&dir.join("expected.json"));
        if name == "hash-bins" {
            // tough 0.24 has no succinct_roles (TAP 15).
            let e = load(dir, None).await.expect_err("hash-bins loaded");
            assert!(
                matches!(&e, ToughError::ParseMetadata { role: RoleType::Targets, source, .. }
                    if source.to_string().contains("missing field `roles`")),
                "{name}: {e:?}"
            );
            continue;
        }
        if name == "custom-fields" {
            let e = load(dir, None).await.expect_err("custom-fields loaded");
            assert!(
                matches!(&e, ToughError::ParseTrustedMetadata { source, .. }
                    if source.to_string().starts_with("Invalid key ID")),
                "{name}: {e:?}"
            );
            continue;
        }
        if name == "delegations" || name == "hash-prefixes" {
            let e = load(dir, None).await.expect_err("strays accepted");
            let strays: Vec<&str> = expected["not_found"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap())
                .collect();
            assert_stray_refused(&e, &strays);
            continue;
        }
        let repo = load(dir, None)
            .await
            .unwrap_or_else(|e| panic!("{name}: load: {e}"));
        assert_eq!(
            repo.root().signed.version.get(),
            expected["root_versions"].as_u64().unwrap(),
            "{name}: root version reached"
        );
        let targets = expected["targets"].as_object().unwrap();
        assert!(!targets.is_empty(), "{name}");
        for path in targets.keys() {
            let got = read(&repo, path)
                .await
                .unwrap_or_else(|e| panic!("{name}: {path}: {e}"))
                .unwrap_or_else(|| panic!("{name}: {path} not found"));
            let file = dir.join("targets").join(path);
            assert_eq!(got, fs::read(&file).unwrap(), "{name}: {path}");
        }
        for path in expected["not_found"].as_array().unwrap() {
            let path = path.as_str().unwrap();
            let got = read(&repo, path)
                .await
                .unwrap_or_else(|e| panic!("{name}: {path}: {e}"));
            assert!(got.is_none(), "{name}: {path} must not resolve in tough");
        }
        loaded.push(name);
    }
    // Every scenario not named above (refused) loaded and served all its targets.
    assert_eq!(
        loaded,
        [
            "ed25519-basic",
            "ecdsa",
            "rsa",
            "mixed-threshold",
            "root-rotation"
        ]
    );
}

#[tokio::test]
async fn tough_refuses_a_tampered_python_tuf_target() {
    let tmp = tempfile::tempdir().unwrap();
    let dirs = python_repos(tmp.path());
    let dir = dirs.iter().find(|d| d.ends_with("ed25519-basic")).unwrap();
    let file = target_path(dir, "hello.txt");
    let mut data = fs::read(&file).unwrap();
    data[0] ^= 0x01;
    fs::write(&file, data).unwrap();
    let repo = load(dir, None).await.unwrap();
    let e = read(&repo, "hello.txt").await.expect_err("tampered target");
    assert!(
        tough_errors(&e)
            .iter()
            .any(|t| matches!(t, ToughError::HashMismatch { .. })),
        "{e:?}"
    );
    // The other targets are untouched.
    assert!(read(&repo, "dir/sub/file.txt").await.unwrap().is_some());
}

// --- our repositories -----------------------------------------------------------------------

/// A repository directory as our editor writes it, with targets stored under tough's names.
struct OurRepo {
    dir: PathBuf,
    expected: BTreeMap<String, Vec<u8>>,
    not_found: Vec<String>,
}

impl OurRepo {
    fn new(base: &Path, name: &str) -> Self {
        let dir = base.join(name);
        fs::create_dir_all(dir.join("metadata")).unwrap();
        fs::create_dir_all(dir.join("targets")).unwrap();
        Self {
            dir,
            expected: BTreeMap::new(),
            not_found: Vec::new(),
        }
    }

    fn publish(&self, files: &[SignedFile]) {
        assert!(!files.is_empty());
        for f in files {
            for name in f.tuf_file_names(true) {
                fs::write(self.dir.join("metadata").join(name), &f.bytes).unwrap();
            }
        }
    }

    /// Stores the target under both spellings; `found`: whether a client must resolve it.
    fn target(&mut self, path: &str, data: &[u8], found: bool) -> TargetEntry {
        let entry = TargetEntry::for_data(data);
        let file = consistent_target_file(&self.dir, path, &entry).unwrap();
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(&file, data).unwrap();
        add_tough_names(&self.dir, path, &entry.sha256_hex().unwrap());
        if found {
            self.expected.insert(path.to_owned(), data.to_vec());
        } else {
            self.not_found.push(path.to_owned());
        }
        entry
    }

    async fn check_in_tough(&self, root_version: u64) {
        let name = self.dir.display();
        let repo = load(&self.dir, None)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(repo.root().signed.version.get(), root_version, "{name}");
        for (path, want) in &self.expected {
            let got = read(&repo, path)
                .await
                .unwrap_or_else(|e| panic!("{name}: {path}: {e}"));
            assert_eq!(got.as_ref(), Some(want), "{name}: {path}");
        }
        for path in &self.not_found {
            let got = read(&repo, path).await.unwrap();
            assert!(got.is_none(), "{name}: {path} must not resolve");
        }
    }
}

fn simple(
    base: &Path,
    name: &str,
    make: fn() -> SoftwareSigner,
) -> (OurRepo, RepoEditor, TopSigners) {
    let keys = TopSigners::new(make);
    let mut ed = keys.editor();
    let mut repo = OurRepo::new(base, name);
    for (path, data) in [
        ("hello.txt", b"hello from tuf-core\n".as_slice()),
        ("dir/sub/file.bin", &[0u8, 1, 2, 255, 10, 13][..]),
        (
            "docs/na\u{ef}ve caf\u{e9} \u{2713}.txt",
            "non-ASCII \u{e9}\n".as_bytes(),
        ),
    ] {
        let entry = repo.target(path, data, true);
        ed.add_target("targets", path, entry).unwrap();
    }
    repo.not_found.push("missing.txt".into());
    repo.publish(&sign(&mut ed, &keys.all()));
    (repo, ed, keys)
}

/// Delegates `a/*` to team-a (ed25519) and `b/*` to team-b (P-256, terminating). With
/// `stray`, team-a also lists `b/stolen.txt`, which it is not trusted for.
fn delegations(base: &Path, stray: bool) -> OurRepo {
    let keys = TopSigners::new(SoftwareSigner::generate_ed25519);
    let (ka, kb) = (
        SoftwareSigner::generate_ed25519(),
        SoftwareSigner::generate_p256(),
    );
    let mut ed = keys.editor();
    let mut repo = OurRepo::new(base, if stray { "strays" } else { "delegations" });
    for (name, k, terminating, pattern) in
        [("team-a", &ka, false, "a/*"), ("team-b", &kb, true, "b/*")]
    {
        ed.add_delegation(
            "targets",
            DelegatedRole {
                name: RoleName::delegated(Dialect::TufSpec, name).unwrap(),
                keys: RoleKeys {
                    keyids: vec![key(k).key_id()],
                    threshold: Threshold::ONE,
                },
                terminating,
                paths: PathSpec::Patterns(vec![pattern.into()]),
            },
            vec![key(k)],
        )
        .unwrap();
    }
    let e = repo.target("top.txt", b"top level\n", true);
    ed.add_target("targets", "top.txt", e).unwrap();
    let e = repo.target("a/one.txt", b"team a\n", true);
    ed.add_target("team-a", "a/one.txt", e).unwrap();
    let e = repo.target("b/two.txt", b"team b\n", true);
    ed.add_target("team-b", "b/two.txt", e).unwrap();
    // '*' matches '/' in tough (not in the spec): a/deep/x.txt resolves through team-a.
    let e = repo.target("a/deep/x.txt", b"deep\n", true);
    ed.add_target("team-a", "a/deep/x.txt", e).unwrap();
    repo.not_found.push("b/none.txt".into());
    if stray {
        let e = repo.target("b/stolen.txt", b"wrong role\n", false);
        ed.add_target("team-a", "b/stolen.txt", e).unwrap();
    }
    repo.publish(&sign(
        &mut ed,
        &[
            &keys.root,
            &keys.targets,
            &keys.snapshot,
            &keys.timestamp,
            &ka,
            &kb,
        ],
    ));
    repo
}

fn root_rotation(base: &Path) -> OurRepo {
    let keys = TopSigners::new(SoftwareSigner::generate_ed25519);
    let (k2, k3, t2) = (
        SoftwareSigner::generate_p256(),
        SoftwareSigner::generate_ed25519(),
        SoftwareSigner::generate_ed25519(),
    );
    let mut ed = keys.editor();
    let mut repo = OurRepo::new(base, "root-rotation");
    let e = repo.target("first.txt", b"first\n", true);
    ed.add_target("targets", "first.txt", e).unwrap();
    repo.publish(&sign(&mut ed, &keys.all()));
    // v2: root key K1 -> K2 (P-256), signed by both.
    ed.set_role_keys(TopRole::Root, vec![key(&k2)], Threshold::ONE)
        .unwrap();
    let files = sign(&mut ed, &[&keys.root, &k2, &keys.snapshot, &keys.timestamp]);
    assert!(files.iter().any(|f| f.role == "root" && f.version == 2));
    repo.publish(&files);
    // v3: root 2 of {K2, K3}; timestamp key T1 -> T2.
    ed.set_role_keys(
        TopRole::Root,
        vec![key(&k2), key(&k3)],
        Threshold::new(2).unwrap(),
    )
    .unwrap();
    ed.set_role_keys(TopRole::Timestamp, vec![key(&t2)], Threshold::ONE)
        .unwrap();
    let files = sign(&mut ed, &[&k2, &k3, &keys.snapshot, &t2]);
    assert!(files.iter().any(|f| f.role == "root" && f.version == 3));
    repo.publish(&files);
    let e = repo.target("second/2.txt", b"second\n", true);
    ed.add_target("targets", "second/2.txt", e).unwrap();
    repo.publish(&sign(&mut ed, &[&keys.targets, &keys.snapshot, &t2]));
    repo
}

#[tokio::test]
async fn our_repositories_load_in_tough() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    let (ed25519, _, _) = simple(base, "ed25519", SoftwareSigner::generate_ed25519);
    ed25519.check_in_tough(1).await;
    let (p256, _, _) = simple(base, "ecdsa-p256", SoftwareSigner::generate_p256);
    p256.check_in_tough(1).await;
    delegations(base, false).check_in_tough(1).await;
    let e = load(&delegations(base, true).dir, None)
        .await
        .expect_err("stray accepted");
    assert_stray_refused(&e, &["b/stolen.txt"]);
    root_rotation(base).check_in_tough(3).await;
}

#[tokio::test]
async fn tough_refuses_tampering_replay_and_expiry_in_our_repositories() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();

    // A tampered target byte.
    let (repo, _, _) = simple(base, "tampered", SoftwareSigner::generate_p256);
    let file = target_path(&repo.dir, "hello.txt");
    let mut data = fs::read(&file).unwrap();
    let last = data.len() - 1;
    data[last] ^= 0x01;
    fs::write(&file, data).unwrap();
    let tough = load(&repo.dir, None).await.unwrap();
    let e = read(&tough, "hello.txt")
        .await
        .expect_err("tampered target");
    assert!(
        tough_errors(&e)
            .iter()
            .any(|t| matches!(t, ToughError::HashMismatch { .. })),
        "{e:?}"
    );

    // A replayed timestamp: v1 of the repository is kept aside, v2 is published; once tough's
    // datastore has seen timestamp v2, serving the old copy is a rollback.
    let (mut repo, mut ed, keys) = simple(base, "replay", SoftwareSigner::generate_ed25519);
    let old = base.join("replay-v1");
    copy_dir(&repo.dir, &old);
    let e = repo.target("new.txt", b"new\n", true);
    ed.add_target("targets", "new.txt", e).unwrap();
    let files = sign(&mut ed, &[&keys.targets, &keys.snapshot, &keys.timestamp]);
    assert!(files
        .iter()
        .any(|f| f.role == "timestamp" && f.version == 2));
    repo.publish(&files);
    let datastore = base.join("datastore");
    fs::create_dir_all(&datastore).unwrap();
    let fresh = load(&repo.dir, Some(&datastore)).await.unwrap();
    assert!(read(&fresh, "new.txt").await.unwrap().is_some());
    // Without the datastore the old copy is fine on its own...
    load(&old, None).await.unwrap();
    // ...with it, tough refuses.
    let e = load(&old, Some(&datastore))
        .await
        .expect_err("replayed timestamp accepted");
    assert!(
        matches!(
            e,
            ToughError::OlderMetadata {
                role: RoleType::Timestamp,
                current_version: 2,
                new_version: 1,
                ..
            }
        ),
        "{e:?}"
    );

    // An expired snapshot (timestamp and the rest still valid).
    let (repo, mut ed, keys) = simple(base, "expired", SoftwareSigner::generate_ed25519);
    ed.set_expires("snapshot", Utc::now() - Duration::hours(1));
    let files = sign(&mut ed, &[&keys.snapshot, &keys.timestamp]);
    assert!(files.iter().any(|f| f.role == "snapshot" && f.version == 2));
    repo.publish(&files);
    let e = load(&repo.dir, None)
        .await
        .expect_err("expired snapshot accepted");
    assert!(
        matches!(
            e,
            ToughError::ExpiredMetadata {
                role: RoleType::Snapshot,
                ..
            }
        ),
        "{e:?}"
    );
}
