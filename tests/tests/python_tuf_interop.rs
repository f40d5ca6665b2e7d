#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Interop with python-tuf 7.0.1, both ways:
//! - repositories python-tuf generates (`make_repo.py`) verify in our `TrustedSet`, and
//!   tampered copies are rejected with the right typed error;
//! - repositories our `RepoEditor` builds verify in python-tuf's own client (`verify_repo.py`).

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use notary_rs_tests::tuf_dir::{consistent_target_file, lookup, refresh, DriveError};
use notary_rs_tests::{python_script, run_python};
use serde_json::Value;
use tuf_core::error::{MetadataError, UpdateError};
use tuf_core::target::verify_target;

fn now_2030() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
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

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            fs::copy(e.path(), &target).unwrap();
        }
    }
}

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
