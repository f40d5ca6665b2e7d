//! Notary 0.7 -> TUF 1.0 export (`notary_client::tuf_export`): collections captured from a
//! real Go Notary 0.7 server are verified, exported with fresh keys, and the exported TUF 1.0
//! repository must verify in python-tuf's client (`verify_repo.py --metadata-only`: the
//! fixtures hold no target contents) and in our own TUF 1.0 client, resolving exactly the
//! targets (length, sha256, role) the real `notary list` printed for the scenario.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, TimeZone, Utc};
use notary_client::tuf_export::{
    export, write_repository, ExportError, ExportKeys, ExportResult, ExportSource,
};
use notary_rs_tests::notary_cli::our_notary_bin;
use notary_rs_tests::tuf_dir::{lookup, refresh};
use notary_rs_tests::{python_script, run_python, shared_dir};
use serde_json::{json, Value};
use tuf_core::crypto::SoftwareSigner;
use tuf_core::error::UpdateError;
use tuf_core::name::Gun;

const GUN: &str = "example.com/app";

/// The fixtures were captured on 2026-11-24; their timestamps expire on 2026-12-08.
fn capture_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
}

fn fixtures() -> PathBuf {
    shared_dir().join("fixtures").join("notary-0.7")
}

fn server(scenario: &str) -> PathBuf {
    fixtures().join(scenario).join("server")
}

fn source(dir: &Path) -> ExportSource {
    ExportSource::new(dir, Gun::parse(GUN).unwrap(), capture_time())
}

fn keys(delegated: &[&str]) -> ExportKeys {
    ExportKeys {
        root: vec![SoftwareSigner::generate_ed25519()],
        targets: vec![SoftwareSigner::generate_p256()],
        snapshot: vec![SoftwareSigner::generate_ed25519()],
        timestamp: vec![SoftwareSigner::generate_ed25519()],
        delegations: delegated
            .iter()
            .map(|r| ((*r).to_owned(), SoftwareSigner::generate_ed25519()))
            .collect(),
    }
}

/// One `notary list` row: name, sha256 hex, size, role.
type Row = (String, String, u64, String);

/// The rows of the last `notary list example.com/app` before the line recording the capture
/// of `scenario` in `transcripts/e2e-client.txt`.
fn transcript_list(scenario: &str) -> Vec<Row> {
    let text = fs::read_to_string(fixtures().join("transcripts/e2e-client.txt")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let capture = lines
        .iter()
        .position(|l| l.starts_with(&format!("(fixture {scenario} captured")))
        .unwrap_or_else(|| panic!("{scenario}: no capture line"));
    let cmd = format!("$ notary list {GUN}");
    let start = lines[..capture]
        .iter()
        .rposition(|l| l.trim_end() == cmd)
        .unwrap_or_else(|| panic!("{scenario}: no notary list"));
    let mut rows = Vec::new();
    for l in &lines[start + 1..] {
        if l.starts_with("[exit") {
            break;
        }
        if l.is_empty() || l.starts_with("NAME") || l.starts_with("----") {
            continue;
        }
        let cols: Vec<&str> = l
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(cols.len(), 4, "unexpected list row {l:?}");
        rows.push((
            cols[0].to_owned(),
            cols[1].to_owned(),
            cols[2].parse().unwrap(),
            cols[3].to_owned(),
        ));
    }
    rows
}

/// Writes the export and `expected.json` (the transcript's rows) to `dir`.
fn write_with_expected(dir: &Path, result: &ExportResult, rows: &[Row], not_found: &[&str]) {
    write_repository(dir, result, true).unwrap();
    let targets: BTreeMap<&str, Value> = rows
        .iter()
        .map(|(name, sha, len, role)| {
            (
                name.as_str(),
                json!({"length": len, "sha256": sha, "role": role}),
            )
        })
        .collect();
    let root_versions = result
        .files
        .iter()
        .filter(|f| f.role == "root")
        .map(|f| f.version)
        .max()
        .unwrap();
    let expected = json!({
        "targets": targets,
        "not_found": not_found,
        "root_versions": root_versions,
        "consistent_snapshot": true,
    });
    fs::write(
        dir.join("expected.json"),
        serde_json::to_vec_pretty(&expected).unwrap(),
    )
    .unwrap();
}

fn python_verify(dir: &Path) -> Value {
    let out = run_python(&[
        python_script("verify_repo.py").as_os_str(),
        "--metadata-only".as_ref(),
        dir.as_os_str(),
    ]);
    assert!(
        out.status.success(),
        "python-tuf rejected the export in {}:\n{}\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Our own TUF 1.0 client resolves exactly the rows.
fn ours_verify(dir: &Path, rows: &[Row], not_found: &[&str]) {
    let mut set = refresh(dir, Utc::now()).unwrap_or_else(|e| panic!("ours: {e}"));
    assert_eq!(set.root().header.version, 1);
    for (name, sha, len, role) in rows {
        let (entry, got_role) = lookup(&mut set, dir, name)
            .unwrap()
            .unwrap_or_else(|| panic!("ours: {name} not found"));
        assert_eq!(
            (entry.sha256_hex().unwrap(), entry.length, got_role),
            (sha.clone(), *len, role.clone()),
            "ours: {name}"
        );
    }
    for name in not_found {
        assert!(lookup(&mut set, dir, name).unwrap().is_none(), "{name}");
    }
}

fn export_scenario(scenario: &str, delegated: &[&str], not_found: &[&str]) -> ExportResult {
    let rows = transcript_list(scenario);
    assert!(!rows.is_empty(), "{scenario}: transcript lists targets");
    let result = export(source(&server(scenario)), keys(delegated), Utc::now())
        .unwrap_or_else(|e| panic!("{scenario}: {e}"));
    // The export lists exactly what `notary list` printed.
    let exported: Vec<Row> = result
        .targets
        .iter()
        .map(|t| {
            (
                t.path.clone(),
                t.entry.sha256_hex().unwrap(),
                t.entry.length,
                t.role.clone(),
            )
        })
        .collect();
    assert_eq!(exported, rows, "{scenario}: exported targets");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(scenario);
    write_with_expected(&dir, &result, &rows, not_found);
    ours_verify(&dir, &rows, not_found);
    let summary = python_verify(&dir);
    assert_eq!(summary["ok"], true);
    assert_eq!(summary["root_version"], 1);
    for (name, sha, len, _) in &rows {
        let r = &summary["results"]["targets"][name.as_str()];
        assert_eq!((&r["sha256"], &r["length"]), (&json!(sha), &json!(len)));
    }
    result
}

#[test]
fn delegation_fixture_exports_and_python_tuf_resolves_the_same_digests() {
    let result = export_scenario(
        "delegation",
        &["targets/releases"],
        &["release/2.0", "nope", "a/b/c"],
    );
    let rows = transcript_list("delegation");
    let want = [
        ("latest", 4096, "a2e659", "targets"),
        ("release/1.0", 17, "2459cf", "targets/releases"),
        ("v1", 15, "64853f", "targets"),
        ("v2", 24, "6537e7", "targets"),
    ];
    assert_eq!(rows.len(), want.len());
    for ((name, sha, len, role), (wn, wl, ws, wr)) in rows.iter().zip(want) {
        assert_eq!((name.as_str(), *len, role.as_str()), (wn, wl, wr));
        assert!(sha.starts_with(ws), "{name}");
    }
    let report = result.report.join("\n");
    assert!(
        report.contains(r#"prefix "" -> ["*", "*/*"]"#),
        "prefix mapping is reported:\n{report}"
    );
    // `custom` survives.
    let latest = result.targets.iter().find(|t| t.path == "latest").unwrap();
    assert!(latest.entry.custom.is_some());
    assert_eq!(latest.entry.hashes.len(), 2, "sha256 and sha512 kept");
}

#[test]
fn root_rotation_2_fixture_with_eight_roots_exports_as_a_new_root_v1() {
    let result = export_scenario("root-rotation-2", &["targets/releases"], &["release"]);
    assert!(result.report[0].contains("root v8"), "{}", result.report[0]);
    let roots: Vec<u64> = result
        .files
        .iter()
        .filter(|f| f.role == "root")
        .map(|f| f.version)
        .collect();
    assert_eq!(roots, [1]);
}

#[test]
fn three_targets_fixture_exports_without_delegations() {
    let result = export_scenario("three-targets", &[], &["release/1.0"]);
    assert_eq!(result.targets.len(), 3);
    assert!(result.files.iter().all(|f| !f.role.contains('/')));
}

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

#[test]
fn tampered_source_fails_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    copy_dir(&server("delegation"), &src);
    let file = src.join("targets.json");
    let mut bytes = fs::read(&file).unwrap();
    // One byte of a target's length: 4096 -> 5096.
    let at = bytes
        .windows(4)
        .position(|w| w == b"4096")
        .expect("length in targets.json");
    bytes[at] = b'5';
    fs::write(&file, &bytes).unwrap();
    let out = tmp.path().join("out");
    let err = export(source(&src), keys(&["targets/releases"]), Utc::now())
        .map(|r| {
            write_repository(&out, &r, true).unwrap();
        })
        .unwrap_err();
    match &err {
        ExportError::Verify { file, source } => {
            assert_eq!(file, "targets.json");
            assert!(
                matches!(
                    **source,
                    UpdateError::LengthMismatch { .. } | UpdateError::HashMismatch { .. }
                ),
                "{source:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(!out.exists(), "nothing written");
}

#[test]
fn source_verification_time_is_separate_from_signing_time() {
    // After the fixtures' timestamp expired, the source is rejected even though signing
    // happens now.
    let late = Utc.with_ymd_and_hms(2026, 12, 9, 0, 0, 0).unwrap();
    let mut s = source(&server("three-targets"));
    s.verify_at = late;
    let err = export(s, keys(&[]), Utc::now()).unwrap_err();
    assert!(
        matches!(
            &err,
            ExportError::Verify { source, .. } if matches!(**source, UpdateError::Expired { .. })
        ),
        "{err:?}"
    );
}

#[test]
fn a_delegated_role_without_a_key_is_an_error() {
    let err = export(source(&server("delegation")), keys(&[]), Utc::now()).unwrap_err();
    assert!(
        matches!(&err, ExportError::MissingDelegationKey { role } if role == "targets/releases"),
        "{err:?}"
    );
}

#[test]
fn write_refuses_an_existing_metadata_dir_and_a_wrong_consistent_flag() {
    let result = export(source(&server("three-targets")), keys(&[]), Utc::now()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    assert!(write_repository(tmp.path(), &result, false).is_err());
    assert!(!tmp.path().join("metadata").exists());
    write_repository(tmp.path(), &result, true).unwrap();
    assert!(write_repository(tmp.path(), &result, true).is_err());
}

/// The `notary-tuf-export` binary built next to our `notary`.
fn export_bin() -> PathBuf {
    let p = our_notary_bin().with_file_name("notary-tuf-export");
    assert!(
        p.is_file(),
        "{} missing: cargo build -p notary-client",
        p.display()
    );
    p
}

#[test]
fn cli_generates_keys_exports_and_python_tuf_accepts() {
    let tmp = tempfile::tempdir().unwrap();
    let (keydir, out) = (tmp.path().join("keys"), tmp.path().join("repo"));
    let run = |extra: &[&str]| {
        Command::new(export_bin())
            .args(["--gun", GUN, "--from"])
            .arg(server("delegation"))
            .arg("--to")
            .arg(&out)
            .arg("--keys")
            .arg(&keydir)
            .args(["--verify-at", "2026-11-24T12:00:00Z"])
            .args(extra)
            .output()
            .unwrap()
    };
    // Without keys and without --generate-keys: an error, nothing written.
    let o = run(&[]);
    assert!(!o.status.success());
    assert!(!out.exists());
    let o = run(&["--generate-keys"]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout.contains(r#"prefix "" -> ["*", "*/*"]"#), "{stdout}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        for f in [
            "root.pem",
            "targets.pem",
            "snapshot.pem",
            "timestamp.pem",
            "delegation.targets%2Freleases.pem",
        ] {
            let mode = fs::metadata(keydir.join(f)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{f}");
        }
    }
    let rows = transcript_list("delegation");
    let expected = json!({
        "targets": rows.iter().map(|(n, s, l, r)| (n.clone(), json!({"length": l, "sha256": s, "role": r}))).collect::<BTreeMap<_, _>>(),
        "not_found": ["release/2.0"],
        "root_versions": 1,
    });
    fs::write(out.join("expected.json"), expected.to_string()).unwrap();
    python_verify(&out);
    // Re-running with the same keys refuses to overwrite the export.
    let o = run(&[]);
    assert!(!o.status.success());
}

/// A Notary collection built with our editor: a delegation `targets/qa` with the prefix
/// `"qa/"` and targets up to four path components deep, plus an entry `targets/qa` lists but
/// may not sign. python-tuf must resolve the deep paths through the mapped globs and must not
/// resolve the out-of-prefix entry.
#[test]
fn prefix_paths_map_to_globs_that_python_tuf_resolves_at_every_depth() {
    use tuf_core::crypto::{Key, Signer};
    use tuf_core::editor::{notary_root_key, InitialKeys, RepoEditor, SignPlan};
    use tuf_core::name::RoleName;
    use tuf_core::role::{DelegatedRole, PathSpec, RoleKeys, TargetEntry, Threshold};
    use tuf_core::Dialect;

    let now = Utc::now();
    let gun = Gun::parse(GUN).unwrap();
    let notary_key =
        |s: &SoftwareSigner| Key::from_public_key(Dialect::Notary, s.public_key().clone());
    let (root, targets, snapshot, timestamp, qa) = (
        SoftwareSigner::generate_p256(),
        SoftwareSigner::generate_p256(),
        SoftwareSigner::generate_p256(),
        SoftwareSigner::generate_p256(),
        SoftwareSigner::generate_p256(),
    );
    let root_key = notary_root_key(&root, &gun, now, chrono::Duration::days(365)).unwrap();
    let mut ed = RepoEditor::create(
        Dialect::Notary,
        InitialKeys {
            root: vec![root_key],
            targets: vec![notary_key(&targets)],
            snapshot: vec![notary_key(&snapshot)],
            timestamp: vec![notary_key(&timestamp)],
        },
        now,
    );
    let qa_key = notary_key(&qa);
    ed.add_delegation(
        "targets",
        DelegatedRole {
            name: RoleName::delegated(Dialect::Notary, "targets/qa").unwrap(),
            keys: RoleKeys {
                keyids: vec![qa_key.key_id()],
                threshold: Threshold::ONE,
            },
            terminating: false,
            paths: PathSpec::Patterns(vec!["qa/".into()]),
        },
        vec![qa_key],
    )
    .unwrap();
    let entry = |data: &[u8]| TargetEntry::for_data(data);
    ed.add_target("targets", "a/b/c/d", entry(b"deep top"))
        .unwrap();
    ed.add_target("targets", "top", entry(b"top")).unwrap();
    ed.add_target("targets/qa", "qa/x", entry(b"qa x")).unwrap();
    ed.add_target("targets/qa", "qa/x/y/z", entry(b"qa xyz"))
        .unwrap();
    ed.add_target("targets/qa", "other", entry(b"not qa's"))
        .unwrap();
    let signers: Vec<&dyn Signer> = vec![&root, &targets, &snapshot, &timestamp, &qa];
    let files = ed.sign(&signers, now, SignPlan::default()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("notary");
    for f in &files {
        let path = src.join(format!("{}.json", f.role));
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, &f.bytes).unwrap();
    }

    let mut s = ExportSource::new(&src, gun, now);
    s.verify_at = now;
    let result = export(s, keys(&["targets/qa"]), now).unwrap();
    let report = result.report.join("\n");
    assert!(
        report.contains(r#"prefix "qa/" -> ["qa/*", "qa/*/*", "qa/*/*/*"]"#),
        "{report}"
    );
    assert!(
        report.contains(r#"not exported: "other" listed by targets/qa"#),
        "{report}"
    );
    let sha = |d: &[u8]| entry(d).sha256_hex().unwrap();
    let rows: Vec<Row> = [
        ("a/b/c/d", &b"deep top"[..], "targets"),
        ("qa/x", b"qa x", "targets/qa"),
        ("qa/x/y/z", b"qa xyz", "targets/qa"),
        ("top", b"top", "targets"),
    ]
    .iter()
    .map(|(p, d, r)| ((*p).to_owned(), sha(d), d.len() as u64, (*r).to_owned()))
    .collect();
    let not_found = ["other", "qa/x/y/z/w", "qa"];
    let dir = tmp.path().join("tuf");
    write_with_expected(&dir, &result, &rows, &not_found);
    ours_verify(&dir, &rows, &not_found);
    python_verify(&dir);
}
