#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `tuf-repo` (the TUF 1.0 repository writer) end to end: init, targets (top-level, in a
//! subdirectory, in a delegated role, in succinct hash bins under a delegated role), root and
//! timestamp key rotation, expiry bumps and timestamp refresh, removal. After every step the
//! repository is verified by python-tuf (`verify_repo.py`, fresh client from `1.root.json`)
//! and by our `tuf-client` over HTTP (one client that updates across all steps), and every
//! target is downloaded. A repository with one tampered metadata byte, or keys that do not
//! match the roles, makes every command refuse with nothing written.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use notary_rs_tests::notary_cli::{tuf_client_bin, tuf_repo_bin};
use notary_rs_tests::static_server::StaticServer;
use notary_rs_tests::{python_script, run_python};
use serde_json::json;
use sha2::{Digest as _, Sha256};
use tuf_core::path_match::succinct_bin_for;
use tuf_core::role::{RoleKeys, SuccinctRoles, Threshold};

fn run(bin: PathBuf, args: &[&str]) -> Output {
    let args: Vec<OsString> = args.iter().map(OsString::from).collect();
    Command::new(bin).args(&args).output().expect("run binary")
}

fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: exit {:?}\nstderr: {}\nstdout: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn fails(out: &Output, what: &str) -> String {
    assert_eq!(
        out.status.code(),
        Some(1),
        "{what}: expected exit 1\nstderr: {}\nstdout: {}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.trim().is_empty(), "{what}: no message on stderr");
    err
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Every regular file under `dir` (relative path -> bytes).
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(rd) = fs::read_dir(dir) else { return };
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
                out.insert(rel, fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn version_of(path: &Path) -> u64 {
    let v: serde_json::Value = serde_json::from_slice(&fs::read(path).unwrap()).unwrap();
    v["signed"]["version"].as_u64().unwrap()
}

/// The highest `N` of `metadata/N.<role>.json`.
fn latest(repo: &Path, role: &str) -> u64 {
    fs::read_dir(repo.join("metadata"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            let (v, rest) = name.split_once('.')?;
            (rest == format!("{role}.json")).then(|| v.parse::<u64>().ok())?
        })
        .max()
        .unwrap_or(0)
}

struct World {
    tmp: tempfile::TempDir,
    repo: PathBuf,
    keys: PathBuf,
    server: StaticServer,
    client: PathBuf,
    /// Target path -> (bytes, role that lists it).
    targets: BTreeMap<String, (Vec<u8>, String)>,
    not_found: Vec<String>,
    root_versions: u64,
    step: u32,
}

impl World {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("repo");
        fs::create_dir_all(&repo).unwrap();
        let server = StaticServer::start(&repo).unwrap();
        Self {
            repo: repo.clone(),
            keys: tmp.path().join("keys"),
            client: tmp.path().join("client-meta"),
            server,
            tmp,
            targets: BTreeMap::new(),
            not_found: vec!["missing.txt".into(), "a/missing.bin".into()],
            root_versions: 1,
            step: 0,
        }
    }

    /// `tuf-repo CMD REPO --keys KEYDIR ARGS...`.
    fn cmd(&self, cmd: &str, args: &[&str]) -> Output {
        let mut all = vec![cmd, s(&self.repo), "--keys", s(&self.keys)];
        all.extend_from_slice(args);
        run(tuf_repo_bin(), &all)
    }

    fn cmd_ok(&self, cmd: &str, args: &[&str]) -> String {
        ok(&self.cmd(cmd, args), &format!("tuf-repo {cmd} {args:?}"))
    }

    fn file(&self, name: &str, data: &[u8]) -> String {
        let p = self.tmp.path().join("src").join(name);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, data).unwrap();
        p.to_string_lossy().into_owned()
    }

    /// Adds one target through `role` (`listed_by`: the role expected to list it).
    fn add(&mut self, role: &str, path: &str, data: &[u8], listed_by: &str) {
        let f = self.file(&path.replace('/', "_"), data);
        self.cmd_ok("add", &["--role", role, path, &f]);
        let hash = hex::encode(Sha256::digest(data));
        let (dir, base) = path.rsplit_once('/').unwrap_or(("", path));
        let prefixed = self
            .repo
            .join("targets")
            .join(dir)
            .join(format!("{hash}.{base}"));
        assert_eq!(fs::read(&prefixed).unwrap(), data, "{}", prefixed.display());
        assert_eq!(
            fs::read(self.repo.join("targets").join(path)).unwrap(),
            data
        );
        self.targets
            .insert(path.into(), (data.to_vec(), listed_by.into()));
    }

    /// python-tuf (fresh, from 1.root.json) and our tuf-client (updating) accept the
    /// repository and resolve and download exactly the expected targets.
    fn check(&mut self, what: &str) {
        self.step += 1;
        let targets: serde_json::Map<String, serde_json::Value> = self
            .targets
            .iter()
            .map(|(p, (d, role))| {
                (
                    p.clone(),
                    json!({"length": d.len(), "sha256": hex::encode(Sha256::digest(d)), "role": role}),
                )
            })
            .collect();
        let expected = json!({
            "targets": targets,
            "not_found": self.not_found,
            "root_versions": self.root_versions,
            "consistent_snapshot": true,
        });
        fs::write(
            self.repo.join("expected.json"),
            serde_json::to_vec_pretty(&expected).unwrap(),
        )
        .unwrap();
        let py = run_python(&[
            python_script("verify_repo.py").as_os_str(),
            self.repo.as_os_str(),
        ]);
        assert!(
            py.status.success(),
            "{what}: python-tuf rejected the repository:\nstderr:\n{}\nstdout:\n{}",
            String::from_utf8_lossy(&py.stderr),
            String::from_utf8_lossy(&py.stdout)
        );

        // Our client: initialised once from 1.root.json, then updated step after step.
        let murl = self.server.url("metadata/");
        let turl = self.server.url("targets/");
        if !self.client.exists() {
            let root = self.repo.join("metadata/1.root.json");
            ok(
                &run(
                    tuf_client_bin(),
                    &["--metadata-dir", s(&self.client), "init", s(&root)],
                ),
                "tuf-client init",
            );
        }
        ok(
            &run(
                tuf_client_bin(),
                &[
                    "--metadata-url",
                    &murl,
                    "--metadata-dir",
                    s(&self.client),
                    "refresh",
                ],
            ),
            &format!("{what}: tuf-client refresh"),
        );
        assert_eq!(
            fs::read(self.client.join("root.json")).unwrap(),
            fs::read(self.repo.join("metadata/root.json")).unwrap(),
            "{what}: tuf-client trusts the newest root"
        );
        let tdir = self.tmp.path().join(format!("downloads-{}", self.step));
        let download = |names: &[&str]| {
            let mut args = vec!["--metadata-url", &murl, "--metadata-dir", s(&self.client)];
            for n in names {
                args.extend(["--target-name", n]);
            }
            args.extend([
                "--target-dir",
                s(&tdir),
                "--target-base-url",
                &turl,
                "download",
            ]);
            run(tuf_client_bin(), &args)
        };
        if !self.targets.is_empty() {
            let names: Vec<&str> = self.targets.keys().map(String::as_str).collect();
            ok(&download(&names), &format!("{what}: tuf-client download"));
            let got = tree(&tdir);
            assert_eq!(got.len(), self.targets.len(), "{what}: downloads");
            for (path, (data, _)) in &self.targets {
                assert_eq!(&got[path], data, "{what}: {path}");
            }
        }
        for nf in &self.not_found {
            fails(
                &download(&[nf]),
                &format!("{what}: tuf-client download {nf}"),
            );
        }
    }
}

#[test]
fn tuf_repo_builds_a_repository_python_tuf_and_tuf_client_accept() {
    let mut w = World::new();

    // init
    let out = run(
        tuf_repo_bin(),
        &["init", s(&w.repo), "--keys", s(&w.keys), "--generate-keys"],
    );
    ok(&out, "init");
    for f in [
        "1.root.json",
        "root.json",
        "1.targets.json",
        "1.snapshot.json",
        "timestamp.json",
    ] {
        assert!(w.repo.join("metadata").join(f).is_file(), "{f}");
    }
    assert!(w.repo.join("targets").is_dir());
    for k in ["root", "targets", "snapshot", "timestamp"] {
        let p = w.keys.join(format!("{k}.pem"));
        assert!(fs::read_to_string(&p)
            .unwrap()
            .contains("BEGIN PRIVATE KEY"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(
                fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }
    let root: serde_json::Value =
        serde_json::from_slice(&fs::read(w.repo.join("metadata/root.json")).unwrap()).unwrap();
    assert_eq!(root["signed"]["consistent_snapshot"], true);
    // A second init refuses.
    fails(
        &run(
            tuf_repo_bin(),
            &["init", s(&w.repo), "--keys", s(&w.keys), "--generate-keys"],
        ),
        "second init",
    );
    w.check("init");

    // Three top-level targets, one in a subdirectory.
    w.add("targets", "hello.txt", b"hello from tuf-repo\n", "targets");
    w.add(
        "targets",
        "dir/sub/file.bin",
        &[0, 1, 2, 255, 10, 13],
        "targets",
    );
    w.add("targets", "notes.md", b"# notes\n", "targets");
    w.check("three targets");

    // A delegation with a target.
    w.cmd_ok(
        "delegate",
        &["--role", "team-a", "--paths", "a/*", "--generate-keys"],
    );
    assert!(w.keys.join("delegation.team-a.pem").is_file());
    w.add("team-a", "a/app.bin", b"team a's app", "team-a");
    let f = w.file("outside", b"x");
    let err = fails(
        &w.cmd("add", &["--role", "team-a", "b/outside.txt", &f]),
        "team-a outside its paths",
    );
    assert!(err.contains("outside the paths"), "{err}");
    w.check("delegation team-a");

    // Succinct hash bins under a delegated role (the editor replaces a role's whole
    // delegation list with bins, so they live under team-b, not next to team-a).
    w.cmd_ok(
        "delegate",
        &["--role", "team-b", "--paths", "b/*", "--generate-keys"],
    );
    w.cmd_ok(
        "delegate-bins",
        &[
            "--parent",
            "team-b",
            "--bit-length",
            "3",
            "--prefix",
            "bins",
            "--generate-keys",
        ],
    );
    assert_eq!(latest(&w.repo, "bins-0"), 1);
    assert_eq!(latest(&w.repo, "bins-7"), 1);
    let bins = SuccinctRoles {
        keys: RoleKeys {
            keyids: vec![],
            threshold: Threshold::ONE,
        },
        bit_length: 3,
        name_prefix: "bins".into(),
    };
    for (path, data) in [
        ("b/one.txt", b"one".as_slice()),
        ("b/two.txt", b"two"),
        ("b/three.txt", b"three"),
    ] {
        let bin = succinct_bin_for(&bins, path);
        w.add("bins", path, data, &bin);
    }
    w.not_found.push("b/absent.txt".into());
    // A role that already delegates to hash bins refuses a second set.
    fails(
        &w.cmd(
            "delegate-bins",
            &[
                "--parent",
                "team-b",
                "--bit-length",
                "2",
                "--prefix",
                "more",
                "--generate-keys",
            ],
        ),
        "second bins",
    );
    w.check("hash bins");

    // Root key rotation: 2.root.json signed by the old and the new root key.
    let new_root = w.tmp.path().join("new-root.pem");
    ok(
        &run(
            tuf_repo_bin(),
            &["gen-key", s(&new_root), "--key-type", "p256"],
        ),
        "gen-key",
    );
    let old_root_pem = fs::read(w.keys.join("root.pem")).unwrap();
    w.cmd_ok("rotate", &["--role", "root", "--new-key", s(&new_root)]);
    w.root_versions = 2;
    assert_eq!(
        fs::read(w.repo.join("metadata/2.root.json")).unwrap(),
        fs::read(w.repo.join("metadata/root.json")).unwrap()
    );
    let r2: serde_json::Value =
        serde_json::from_slice(&fs::read(w.repo.join("metadata/2.root.json")).unwrap()).unwrap();
    assert_eq!(
        r2["signatures"].as_array().unwrap().len(),
        2,
        "old + new root key"
    );
    assert_eq!(
        fs::read(w.keys.join("root.pem")).unwrap(),
        fs::read(&new_root).unwrap()
    );
    let retired: Vec<_> = fs::read_dir(&w.keys)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("root.pem.retired-"))
        .collect();
    assert_eq!(retired.len(), 1);
    assert_eq!(fs::read(w.keys.join(&retired[0])).unwrap(), old_root_pem);
    w.check("root rotation");

    // Timestamp key rotation.
    let new_ts = w.tmp.path().join("new-ts.pem");
    ok(&run(tuf_repo_bin(), &["gen-key", s(&new_ts)]), "gen-key ts");
    w.cmd_ok("rotate", &["--role", "timestamp", "--new-key", s(&new_ts)]);
    w.root_versions = 3;
    w.check("timestamp rotation");

    // Expiry bumps and timestamp refresh.
    let ts = w.repo.join("metadata/timestamp.json");
    let targets_before = latest(&w.repo, "targets");
    w.cmd_ok("expire", &["--role", "targets", "--days", "30"]);
    assert_eq!(latest(&w.repo, "targets"), targets_before + 1);
    let team_a_before = latest(&w.repo, "team-a");
    w.cmd_ok("expire", &["--role", "team-a", "--days", "10"]);
    assert_eq!(latest(&w.repo, "team-a"), team_a_before + 1);
    w.cmd_ok("expire", &["--role", "root", "--days", "400"]);
    w.root_versions = 4;
    let snapshot_before = latest(&w.repo, "snapshot");
    let ts_before = version_of(&ts);
    w.cmd_ok("refresh", &[]);
    assert_eq!(version_of(&ts), ts_before + 1);
    assert_eq!(
        latest(&w.repo, "snapshot"),
        snapshot_before,
        "refresh: timestamp only"
    );
    w.cmd_ok("expire", &["--role", "timestamp", "--days", "3"]);
    assert_eq!(version_of(&ts), ts_before + 2);
    fails(
        &w.cmd("expire", &["--role", "nobody", "--days", "3"]),
        "expire unknown role",
    );
    w.check("expire and refresh");

    // Removal.
    w.cmd_ok("remove", &["hello.txt"]);
    w.targets.remove("hello.txt");
    w.not_found.push("hello.txt".into());
    fails(&w.cmd("remove", &["hello.txt"]), "remove twice");
    w.check("remove");

    // Keys that do not match the roles: refused, nothing written.
    let before = tree(&w.repo);
    let wrong = w.tmp.path().join("wrong-keys");
    fs::create_dir_all(&wrong).unwrap();
    ok(
        &run(tuf_repo_bin(), &["gen-key", s(&wrong.join("targets.pem"))]),
        "gen-key wrong",
    );
    let f = w.file("wrong", b"w");
    let err = fails(
        &run(
            tuf_repo_bin(),
            &["add", s(&w.repo), "--keys", s(&wrong), "x.txt", &f],
        ),
        "wrong keys",
    );
    assert!(err.contains("not a targets key"), "{err}");
    // A key directory without the timestamp key cannot sign anything.
    let partial = w.tmp.path().join("partial-keys");
    fs::create_dir_all(&partial).unwrap();
    fs::copy(w.keys.join("targets.pem"), partial.join("targets.pem")).unwrap();
    fs::copy(w.keys.join("snapshot.pem"), partial.join("snapshot.pem")).unwrap();
    fails(
        &run(
            tuf_repo_bin(),
            &["add", s(&w.repo), "--keys", s(&partial), "x.txt", &f],
        ),
        "missing timestamp key",
    );
    assert!(tree(&w.repo) == before, "refused commands wrote nothing");
}

/// Every command that edits a repository.
fn every_command(w: &World, new_key: &Path, file: &str) -> Vec<(&'static str, Output)> {
    vec![
        ("add", w.cmd("add", &["x.txt", file])),
        ("remove", w.cmd("remove", &["hello.txt"])),
        (
            "delegate",
            w.cmd(
                "delegate",
                &["--role", "t", "--paths", "t/*", "--generate-keys"],
            ),
        ),
        (
            "delegate-bins",
            w.cmd(
                "delegate-bins",
                &[
                    "--parent",
                    "team-a",
                    "--bit-length",
                    "1",
                    "--prefix",
                    "b",
                    "--generate-keys",
                ],
            ),
        ),
        (
            "rotate",
            w.cmd("rotate", &["--role", "root", "--new-key", s(new_key)]),
        ),
        (
            "expire",
            w.cmd("expire", &["--role", "targets", "--days", "5"]),
        ),
        (
            "expire --allow-expired",
            w.cmd(
                "expire",
                &["--role", "snapshot", "--days", "5", "--allow-expired"],
            ),
        ),
        ("refresh", w.cmd("refresh", &[])),
        (
            "refresh --allow-expired",
            w.cmd("refresh", &["--allow-expired"]),
        ),
    ]
}

#[test]
fn a_tampered_repository_makes_every_command_refuse() {
    let mut w = World::new();
    ok(
        &run(
            tuf_repo_bin(),
            &[
                "init",
                s(&w.repo),
                "--keys",
                s(&w.keys),
                "--generate-keys",
                "--key-type",
                "p256",
                "--expires-days",
                "timestamp=3",
            ],
        ),
        "init (P-256)",
    );
    let ts: serde_json::Value =
        serde_json::from_slice(&fs::read(w.repo.join("metadata/root.json")).unwrap()).unwrap();
    assert!(ts["signed"]["keys"]
        .as_object()
        .unwrap()
        .values()
        .all(|k| k["keytype"] == "ecdsa"));
    w.add("targets", "hello.txt", b"hello\n", "targets");
    w.cmd_ok(
        "delegate",
        &["--role", "team-a", "--paths", "a/*", "--generate-keys"],
    );
    w.add("team-a", "a/app.bin", b"app", "team-a");
    w.check("before tampering");
    let new_key = w.tmp.path().join("new.pem");
    ok(&run(tuf_repo_bin(), &["gen-key", s(&new_key)]), "gen-key");
    let file = w.file("x", b"x");

    let pristine = tree(&w.repo);
    let keys_before = tree(&w.keys);
    let team_a = format!("{}.team-a.json", latest(&w.repo, "team-a"));
    let targets = format!("{}.targets.json", latest(&w.repo, "targets"));
    let snapshot = format!("{}.snapshot.json", latest(&w.repo, "snapshot"));
    for name in [
        "1.root.json",
        "root.json",
        "timestamp.json",
        snapshot.as_str(),
        targets.as_str(),
        team_a.as_str(),
    ] {
        // Restore, then change one byte inside the signed part (still valid JSON).
        for (rel, bytes) in &pristine {
            fs::write(w.repo.join(rel), bytes).unwrap();
        }
        let path = w.repo.join("metadata").join(name);
        let mut bytes = fs::read(&path).unwrap();
        let at = String::from_utf8_lossy(&bytes)
            .find("\"expires\":\"20")
            .unwrap()
            + 12;
        bytes[at] = if bytes[at] == b'1' { b'2' } else { b'1' };
        fs::write(&path, &bytes).unwrap();
        let tampered = tree(&w.repo);
        for (cmd, out) in every_command(&w, &new_key, &file) {
            let err = fails(&out, &format!("{cmd} on tampered {name}"));
            assert!(
                err.contains("does not verify"),
                "{cmd} on tampered {name}: {err}"
            );
            assert!(
                tree(&w.repo) == tampered,
                "{cmd} on tampered {name} wrote files"
            );
            assert!(
                tree(&w.keys) == keys_before,
                "{cmd} on tampered {name} wrote keys"
            );
        }
    }
}
