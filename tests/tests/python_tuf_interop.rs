#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Interop with python-tuf 7.0.1, both ways:
//! - repositories python-tuf generates (`make_repo.py`) verify in our `TrustedSet`, and
//!   tampered copies are rejected with the right typed error;
//! - repositories our `RepoEditor` builds verify in python-tuf's own client (`verify_repo.py`).

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use notary_rs_tests::tuf_dir::{consistent_target_file, lookup, refresh, DriveError};
use notary_rs_tests::tuf_repos::{copy_dir, key, read_json, sign, TopSigners};
use notary_rs_tests::{python_script, run_python};
use serde_json::{json, Value};
use tuf_core::error::{MetadataError, UpdateError};
use tuf_core::target::verify_target;

fn now_2030() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap()
}

fn make_repos(out: &Path) -> Vec<PathBuf> {
    let run = run_python(&[python_script("make_repo.py").as_os_str(), out.as_os_str()]);
    assert!(
        run.status.success(),
        "make_repo.py failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let index = read_json(&out.join("index.json"));
    index["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| out.join(s["dir"].as_str().unwrap()))
        .collect()
}

#[test]
fn python_tuf_repositories_verify_in_our_trusted_set() {
    let tmp = tempfile::tempdir().unwrap();
    let scenarios = make_repos(tmp.path());
    assert_eq!(scenarios.len(), 9, "scenario count");
    for dir in &scenarios {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let expected = read_json(&dir.join("expected.json"));
        let mut set = refresh(dir, now_2030()).unwrap_or_else(|e| panic!("{name}: refresh: {e}"));
        assert_eq!(
            set.root().header.version,
            expected["root_versions"].as_u64().unwrap(),
            "{name}: root version reached"
        );
        assert_eq!(
            set.root().consistent_snapshot,
            expected["consistent_snapshot"].as_bool().unwrap(),
            "{name}"
        );
        let targets = expected["targets"].as_object().unwrap();
        assert!(!targets.is_empty(), "{name}: no expected targets");
        for (path, want) in targets {
            let (entry, role) = lookup(&mut set, dir, path)
                .unwrap_or_else(|e| panic!("{name}: {path}: {e}"))
                .unwrap_or_else(|| panic!("{name}: {path} not found"));
            assert_eq!(
                entry.length,
                want["length"].as_u64().unwrap(),
                "{name}: {path}"
            );
            assert_eq!(
                entry.sha256_hex().as_deref(),
                want["sha256"].as_str(),
                "{name}: {path}"
            );
            assert_eq!(role, want["role"].as_str().unwrap(), "{name}: {path}");
            let file = consistent_target_file(dir, path, &entry).unwrap();
            let data = fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            verify_target(path, &entry, &data).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        for path in expected["not_found"].as_array().unwrap() {
            let path = path.as_str().unwrap();
            let got = lookup(&mut set, dir, path).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(
                got.is_none(),
                "{name}: {path} must not resolve, got {got:?}"
            );
        }
    }
}

// --- tampering ----------------------------------------------------------------------------

/// A fresh copy of scenario `name` under `work/<label>`.
fn scenario_copy(repos: &Path, work: &Path, name: &str, label: &str) -> PathBuf {
    let dir = work.join(label);
    copy_dir(&repos.join(name), &dir);
    dir
}

/// Flips one byte inside `signed` of `metadata/<file>`, keeping the JSON valid: the last
/// digit of the `expires` value (python-tuf sorts keys, so `signatures` comes first and the
/// expiry string occurs only inside `signed`).
fn flip_signed_byte(dir: &Path, file: &str) {
    let path = dir.join("metadata").join(file);
    let mut bytes = fs::read(&path).unwrap();
    let needle = b"\"expires\": \"2040-01-01T00:00:00Z\"";
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap_or_else(|| panic!("{file}: no expires"));
    let signed_at = bytes
        .windows(b"\"signed\"".len())
        .position(|w| w == b"\"signed\"")
        .unwrap();
    assert!(at > signed_at, "{file}: expires must be inside signed");
    let digit = at + needle.len() - 3; // the last '0' of the seconds
    assert_eq!(bytes[digit], b'0');
    bytes[digit] = b'1';
    fs::write(&path, bytes).unwrap();
}

fn refresh_err(dir: &Path) -> DriveError {
    match refresh(dir, now_2030()) {
        Ok(_) => panic!("{}: tampered repository was accepted", dir.display()),
        Err(e) => e,
    }
}

fn assert_threshold(e: &DriveError, want_role: &str, want_valid: usize, want_threshold: u32) {
    match e.update_error() {
        Some(UpdateError::Threshold {
            role,
            valid,
            threshold,
        }) => {
            assert_eq!(role, want_role, "{e}");
            assert_eq!(*valid, want_valid, "{e}");
            assert_eq!(*threshold, want_threshold, "{e}");
        }
        _ => panic!("expected a threshold error for {want_role}, got {e:?}"),
    }
}

fn versioned(dir: &Path, role: &str) -> String {
    let mut found: Vec<String> = fs::read_dir(dir.join("metadata"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| {
            n.split_once('.')
                .is_some_and(|(v, rest)| v.parse::<u64>().is_ok() && rest == format!("{role}.json"))
        })
        .collect();
    assert_eq!(found.len(), 1, "{role}: {found:?}");
    found.remove(0)
}

#[test]
fn tampered_python_tuf_repositories_are_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let repos = tmp.path().join("repos");
    let work = tmp.path().join("work");
    make_repos(&repos);

    // Untampered copies pass (the copies themselves are sound).
    for name in ["ed25519-basic", "ecdsa", "delegations", "mixed-threshold"] {
        let dir = scenario_copy(&repos, &work, name, &format!("{name}-clean"));
        refresh(&dir, now_2030()).unwrap_or_else(|e| panic!("{name}: {e}"));
    }

    // timestamp: signature no longer matches.
    let dir = scenario_copy(&repos, &work, "ecdsa", "ts");
    flip_signed_byte(&dir, "timestamp.json");
    assert_threshold(&refresh_err(&dir), "timestamp", 0, 1);

    // snapshot without hashes in timestamp meta: the signature check catches it.
    let dir = scenario_copy(&repos, &work, "ecdsa", "snap");
    flip_signed_byte(&dir, &versioned(&dir, "snapshot"));
    assert_threshold(&refresh_err(&dir), "snapshot", 0, 1);

    // snapshot whose hashes the timestamp records: the hash check catches it first.
    let dir = scenario_copy(&repos, &work, "ed25519-basic", "snap-hashed");
    let file = versioned(&dir, "snapshot");
    flip_signed_byte(&dir, &file);
    let e = refresh_err(&dir);
    assert!(
        matches!(e.update_error(), Some(UpdateError::HashMismatch { role, .. }) if role == "snapshot"),
        "{e:?}"
    );

    // top-level targets.
    let dir = scenario_copy(&repos, &work, "ecdsa", "targets");
    flip_signed_byte(&dir, &versioned(&dir, "targets"));
    assert_threshold(&refresh_err(&dir), "targets", 0, 1);

    // targets whose hashes the snapshot records.
    let dir = scenario_copy(&repos, &work, "ed25519-basic", "targets-hashed");
    flip_signed_byte(&dir, &versioned(&dir, "targets"));
    let e = refresh_err(&dir);
    assert!(
        matches!(e.update_error(), Some(UpdateError::HashMismatch { role, .. }) if role == "targets"),
        "{e:?}"
    );

    // a delegated role: refresh succeeds, the search that loads it fails.
    let dir = scenario_copy(&repos, &work, "delegations", "delegated");
    flip_signed_byte(&dir, &versioned(&dir, "team-a"));
    let mut set = refresh(&dir, now_2030()).unwrap();
    let e = lookup(&mut set, &dir, "a/x.txt").expect_err("tampered team-a accepted");
    assert_threshold(&e, "team-a", 0, 1);
    // team-b is untouched and still resolves.
    assert!(lookup(&mut set, &dir, "b/z.txt").unwrap().is_some());

    // a signature replaced by another key's (the snapshot key's signature over the
    // snapshot): keyid and sig of a key the targets role does not authorise.
    let dir = scenario_copy(&repos, &work, "ecdsa", "foreign-sig");
    let targets_file = dir.join("metadata").join(versioned(&dir, "targets"));
    let snapshot = read_json(&dir.join("metadata").join(versioned(&dir, "snapshot")));
    let mut targets = read_json(&targets_file);
    assert_ne!(
        targets["signatures"][0]["keyid"],
        snapshot["signatures"][0]["keyid"]
    );
    targets["signatures"][0] = snapshot["signatures"][0].clone();
    fs::write(&targets_file, serde_json::to_vec_pretty(&targets).unwrap()).unwrap();
    assert_threshold(&refresh_err(&dir), "targets", 0, 1);

    // the same, keeping the right keyid but another key's signature bytes.
    let dir = scenario_copy(&repos, &work, "ecdsa", "foreign-sig-bytes");
    let targets_file = dir.join("metadata").join(versioned(&dir, "targets"));
    let mut targets = read_json(&targets_file);
    targets["signatures"][0]["sig"] = snapshot["signatures"][0]["sig"].clone();
    fs::write(&targets_file, serde_json::to_vec_pretty(&targets).unwrap()).unwrap();
    assert_threshold(&refresh_err(&dir), "targets", 0, 1);

    // mixed-threshold: root is signed by exactly 2 of its 3 keys (plus a stranger);
    // dropping one of the two authorised signatures leaves 1 of 2.
    let dir = scenario_copy(&repos, &work, "mixed-threshold", "root-threshold");
    let root_file = dir.join("metadata").join("1.root.json");
    let mut root = read_json(&root_file);
    let authorised: Vec<Value> = root["signed"]["roles"]["root"]["keyids"]
        .as_array()
        .unwrap()
        .clone();
    let sigs = root["signatures"].as_array_mut().unwrap();
    assert_eq!(sigs.len(), 3);
    let drop = sigs
        .iter()
        .position(|s| authorised.contains(&s["keyid"]))
        .unwrap();
    sigs.remove(drop);
    fs::write(&root_file, serde_json::to_vec_pretty(&root).unwrap()).unwrap();
    assert_threshold(&refresh_err(&dir), "root", 1, 2);

    // root-rotation: 3.root.json without K3's signature fails v3's own threshold (2).
    let dir = scenario_copy(&repos, &work, "root-rotation", "rotation");
    let root_file = dir.join("metadata").join("3.root.json");
    let mut root = read_json(&root_file);
    root["signatures"].as_array_mut().unwrap().pop();
    fs::write(&root_file, serde_json::to_vec_pretty(&root).unwrap()).unwrap();
    assert_threshold(&refresh_err(&dir), "root", 1, 2);

    // a parse failure is a typed metadata error too.
    let dir = scenario_copy(&repos, &work, "ecdsa", "bad-json");
    let ts = dir.join("metadata").join("timestamp.json");
    let text = fs::read_to_string(&ts).unwrap();
    fs::write(&ts, text.replacen("\"timestamp\"", "\"Timestamp\"", 1)).unwrap();
    let e = refresh_err(&dir);
    assert!(
        matches!(
            e.update_error(),
            Some(UpdateError::Metadata(MetadataError::WrongType { .. }))
        ),
        "{e:?}"
    );
}

// --- our repositories in python-tuf -------------------------------------------------------

use std::collections::BTreeMap;

use tuf_core::crypto::SoftwareSigner;
use tuf_core::editor::SignedFile;
use tuf_core::name::RoleName;
use tuf_core::path_match::succinct_bin_for;
use tuf_core::role::{
    DelegatedRole, PathSpec, RoleKeys, SuccinctRoles, TargetEntry, Threshold, TopRole,
};
use tuf_core::Dialect;

/// A repository directory in the layout `verify_repo.py` reads, written as we sign.
struct OutRepo {
    dir: PathBuf,
    expected: BTreeMap<String, Value>,
    not_found: Vec<String>,
    root_versions: u64,
}

impl OutRepo {
    fn new(base: &Path, name: &str) -> Self {
        let dir = base.join(name);
        fs::create_dir_all(dir.join("metadata")).unwrap();
        fs::create_dir_all(dir.join("targets")).unwrap();
        Self {
            dir,
            expected: BTreeMap::new(),
            not_found: Vec::new(),
            root_versions: 0,
        }
    }

    /// Writes signed files under every name a TUF 1.0 repository serves them by.
    fn publish(&mut self, files: &[SignedFile]) {
        assert!(!files.is_empty());
        for f in files {
            if f.role == "root" {
                assert_eq!(
                    f.version,
                    self.root_versions + 1,
                    "root versions are sequential"
                );
                self.root_versions = f.version;
            }
            for name in f.tuf_file_names(true) {
                fs::write(self.dir.join("metadata").join(name), &f.bytes).unwrap();
            }
        }
    }

    /// Stores a target as `dir/<sha256>.<basename>` and returns its entry; records the
    /// expectation that it resolves through `role` (if any).
    fn target(&mut self, path: &str, data: &[u8], role: Option<&str>) -> TargetEntry {
        let entry = TargetEntry::for_data(data);
        let file = consistent_target_file(&self.dir, path, &entry).unwrap();
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(&file, data).unwrap();
        match role {
            Some(role) => {
                self.expected.insert(
                    path.to_owned(),
                    json!({"length": data.len(), "sha256": entry.sha256_hex().unwrap(), "role": role}),
                );
            }
            None => self.not_found.push(path.to_owned()),
        }
        entry
    }

    fn finish(&self) -> PathBuf {
        let expected = json!({
            "targets": self.expected,
            "not_found": self.not_found,
            "root_versions": self.root_versions,
            "consistent_snapshot": true,
        });
        fs::write(
            self.dir.join("expected.json"),
            serde_json::to_vec_pretty(&expected).unwrap(),
        )
        .unwrap();
        // Our own client agrees before python-tuf is asked.
        let mut set = refresh(&self.dir, Utc::now()).unwrap_or_else(|e| panic!("ours: {e}"));
        assert_eq!(set.root().header.version, self.root_versions);
        for (path, want) in &self.expected {
            let (_, role) = lookup(&mut set, &self.dir, path).unwrap().unwrap();
            assert_eq!(role, want["role"].as_str().unwrap(), "ours: {path}");
        }
        for path in &self.not_found {
            assert!(
                lookup(&mut set, &self.dir, path).unwrap().is_none(),
                "ours: {path}"
            );
        }
        self.dir.clone()
    }
}

fn python_verify(dir: &Path) -> std::process::Output {
    run_python(&[python_script("verify_repo.py").as_os_str(), dir.as_os_str()])
}

fn assert_python_accepts(dir: &Path) {
    let out = python_verify(dir);
    assert!(
        out.status.success(),
        "python-tuf rejected {}:\nstderr:\n{}\nstdout:\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
}

fn simple(base: &Path, name: &str, make: fn() -> SoftwareSigner) -> PathBuf {
    let keys = TopSigners::new(make);
    let mut ed = keys.editor();
    let mut repo = OutRepo::new(base, name);
    for (path, data) in [
        ("hello.txt", b"hello from tuf-core\n".as_slice()),
        ("dir/sub/file.bin", &[0u8, 1, 2, 255, 10, 13][..]),
        (
            "docs/na\u{ef}ve caf\u{e9} \u{2713}.txt",
            "non-ASCII \u{e9}\n".as_bytes(),
        ),
    ] {
        let entry = repo.target(path, data, Some("targets"));
        ed.add_target("targets", path, entry).unwrap();
    }
    repo.not_found.push("missing.txt".into());
    repo.not_found.push("dir/file.bin".into());
    repo.publish(&sign(&mut ed, &keys.all()));
    repo.finish()
}

fn delegations(base: &Path) -> PathBuf {
    let keys = TopSigners::new(SoftwareSigner::generate_ed25519);
    let (ka, kb) = (
        SoftwareSigner::generate_ed25519(),
        SoftwareSigner::generate_p256(),
    );
    let mut ed = keys.editor();
    let mut repo = OutRepo::new(base, "delegations");
    ed.add_delegation(
        "targets",
        DelegatedRole {
            name: RoleName::delegated(Dialect::TufSpec, "team-a").unwrap(),
            keys: RoleKeys {
                keyids: vec![key(&ka).key_id()],
                threshold: Threshold::ONE,
            },
            terminating: false,
            paths: PathSpec::Patterns(vec!["a/*".into()]),
        },
        vec![key(&ka)],
    )
    .unwrap();
    ed.add_delegation(
        "targets",
        DelegatedRole {
            name: RoleName::delegated(Dialect::TufSpec, "team-b").unwrap(),
            keys: RoleKeys {
                keyids: vec![key(&kb).key_id()],
                threshold: Threshold::ONE,
            },
            terminating: true,
            paths: PathSpec::Patterns(vec!["b/*".into()]),
        },
        vec![key(&kb)],
    )
    .unwrap();
    let e = repo.target("top.txt", b"top level\n", Some("targets"));
    ed.add_target("targets", "top.txt", e).unwrap();
    let e = repo.target("a/one.txt", b"team a\n", Some("team-a"));
    ed.add_target("team-a", "a/one.txt", e).unwrap();
    let e = repo.target("b/two.txt", b"team b\n", Some("team-b"));
    ed.add_target("team-b", "b/two.txt", e).unwrap();
    // Listed by team-a, but team-a is trusted only for a/*: must not resolve.
    let e = repo.target("b/stolen.txt", b"wrong role\n", None);
    ed.add_target("team-a", "b/stolen.txt", e).unwrap();
    // '*' does not match '/'.
    let e = repo.target("a/deep/x.txt", b"too deep\n", None);
    ed.add_target("team-a", "a/deep/x.txt", e).unwrap();
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
    repo.finish()
}

fn hash_bins(base: &Path) -> PathBuf {
    let keys = TopSigners::new(SoftwareSigner::generate_ed25519);
    let kbin = SoftwareSigner::generate_ed25519();
    let mut ed = keys.editor();
    let mut repo = OutRepo::new(base, "hash-bins");
    let bins = SuccinctRoles {
        keys: RoleKeys {
            keyids: vec![key(&kbin).key_id()],
            threshold: Threshold::ONE,
        },
        bit_length: 4,
        name_prefix: "bins".into(),
    };
    ed.set_succinct_delegation("targets", bins.clone(), vec![key(&kbin)])
        .unwrap();
    let mut used = std::collections::BTreeSet::new();
    for i in 0..30 {
        let path = format!("bin-targets/file-{i:02}.txt");
        let bin = succinct_bin_for(&bins, &path);
        let e = repo.target(&path, format!("bin target {i}\n").as_bytes(), Some(&bin));
        ed.add_target(&bin, &path, e).unwrap();
        used.insert(bin);
    }
    assert!(
        used.len() > 4,
        "30 paths spread over several of the 16 bins"
    );
    repo.not_found.push("bin-targets/absent.txt".into());
    repo.publish(&sign(
        &mut ed,
        &[
            &keys.root,
            &keys.targets,
            &keys.snapshot,
            &keys.timestamp,
            &kbin,
        ],
    ));
    repo.finish()
}

fn root_rotation(base: &Path) -> PathBuf {
    let keys = TopSigners::new(SoftwareSigner::generate_ed25519);
    let (k2, k3, t2) = (
        SoftwareSigner::generate_ed25519(),
        SoftwareSigner::generate_ed25519(),
        SoftwareSigner::generate_ed25519(),
    );
    let mut ed = keys.editor();
    let mut repo = OutRepo::new(base, "root-rotation");
    let e = repo.target("first.txt", b"first\n", Some("targets"));
    ed.add_target("targets", "first.txt", e).unwrap();
    repo.publish(&sign(&mut ed, &keys.all()));
    // v2: root key K1 -> K2, signed by both.
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
    // A later signing run: one more target, no root change.
    let e = repo.target("second/2.txt", b"second\n", Some("targets"));
    ed.add_target("targets", "second/2.txt", e).unwrap();
    let files = sign(&mut ed, &[&keys.targets, &keys.snapshot, &t2]);
    assert!(files.iter().all(|f| f.role != "root"));
    assert!(files.iter().any(|f| f.role == "targets" && f.version == 2));
    repo.publish(&files);
    assert_eq!(repo.root_versions, 3);
    repo.finish()
}

fn hash_prefixes(base: &Path) -> PathBuf {
    let keys = TopSigners::new(SoftwareSigner::generate_ed25519);
    let kh = SoftwareSigner::generate_ed25519();
    let mut ed = keys.editor();
    let mut repo = OutRepo::new(base, "hash-prefixes");
    // lowercase hex sha256 of the path's UTF-8 bytes
    let path_hash = |p: &str| TargetEntry::for_data(p.as_bytes()).sha256_hex().unwrap();
    let mine = "hashed/mine.txt";
    let prefix = path_hash(mine)[..3].to_owned();
    let stray = (0..1000)
        .map(|i| format!("hashed/stray-{i}.txt"))
        .find(|p| !path_hash(p).starts_with(&prefix[..1]))
        .unwrap();
    ed.add_delegation(
        "targets",
        DelegatedRole {
            name: RoleName::delegated(Dialect::TufSpec, "hp").unwrap(),
            keys: RoleKeys {
                keyids: vec![key(&kh).key_id()],
                threshold: Threshold::ONE,
            },
            terminating: false,
            paths: PathSpec::HashPrefixes(vec![prefix]),
        },
        vec![key(&kh)],
    )
    .unwrap();
    let e = repo.target(mine, b"mine\n", Some("hp"));
    ed.add_target("hp", mine, e).unwrap();
    let e = repo.target(&stray, b"stray\n", None);
    ed.add_target("hp", &stray, e).unwrap();
    repo.publish(&sign(
        &mut ed,
        &[
            &keys.root,
            &keys.targets,
            &keys.snapshot,
            &keys.timestamp,
            &kh,
        ],
    ));
    repo.finish()
}

#[test]
fn our_tuf_repositories_verify_in_python_tuf() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    let dirs = [
        simple(base, "ed25519", SoftwareSigner::generate_ed25519),
        simple(base, "ecdsa-p256", SoftwareSigner::generate_p256),
        delegations(base),
        hash_bins(base),
        root_rotation(base),
        hash_prefixes(base),
    ];
    for dir in &dirs {
        assert_python_accepts(dir);
    }
    // ECDSA signatures are DER, as python-tuf/securesystemslib writes them.
    let ts = read_json(&base.join("ecdsa-p256/metadata/timestamp.json"));
    let sig = ts["signatures"][0]["sig"].as_str().unwrap();
    assert!(sig.starts_with("30"), "DER SEQUENCE expected, got {sig}");

    // One corrupted byte in a target file: python-tuf's download_target must refuse it.
    let dir = &dirs[0];
    let entry = TargetEntry::for_data(b"hello from tuf-core\n");
    let file = consistent_target_file(dir, "hello.txt", &entry).unwrap();
    let mut data = fs::read(&file).unwrap();
    data[0] ^= 0x01;
    fs::write(&file, data).unwrap();
    let out = python_verify(dir);
    assert_eq!(
        out.status.code(),
        Some(1),
        "python-tuf accepted a corrupted target:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
