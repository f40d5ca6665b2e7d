#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `tuf-client` (the conformance-suite CLI) end to end over HTTP on loopback:
//! - every python-tuf scenario of `make_repo.py`: init, refresh, download, not-found paths,
//!   the exact metadata directory, and what a second run fetches;
//! - hostile repositories built with our `RepoEditor`: tampered target, replayed timestamp,
//!   invalid initial root, endless responses, an endless root chain, escaping target paths.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use notary_rs_tests::notary_cli::tuf_client_bin;
use notary_rs_tests::static_server::{Reply, StaticServer};
use notary_rs_tests::{python_script, run_python};
use serde_json::Value;
use tuf_core::crypto::{Key, Signer, SoftwareSigner};
use tuf_core::editor::{InitialKeys, RepoEditor, SignPlan, SignedFile};
use tuf_core::name::percent_encode_segment;
use tuf_core::role::TargetEntry;
use tuf_core::Dialect;

// ---- helpers ---------------------------------------------------------------------------

fn tuf_client(args: &[&str]) -> Output {
    let args: Vec<OsString> = args.iter().map(OsString::from).collect();
    Command::new(tuf_client_bin())
        .args(&args)
        .output()
        .expect("run tuf-client")
}

fn ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what}: exit {:?}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn fails(out: &Output, what: &str) -> String {
    assert_eq!(
        out.status.code(),
        Some(1),
        "{what}: expected exit 1, stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.trim().is_empty(), "{what}: no message on stderr");
    err
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn init(dir: &Path, root: &Path) -> Output {
    tuf_client(&["--metadata-dir", s(dir), "init", s(root)])
}

fn refresh(url: &str, dir: &Path) -> Output {
    tuf_client(&["--metadata-url", url, "--metadata-dir", s(dir), "refresh"])
}

fn download(url: &str, dir: &Path, names: &[&str], tdir: &Path, turl: &str) -> Output {
    let mut args = vec!["--metadata-url", url, "--metadata-dir", s(dir)];
    for n in names {
        args.extend(["--target-name", n]);
    }
    args.extend([
        "--target-dir",
        s(tdir),
        "--target-base-url",
        turl,
        "download",
    ]);
    tuf_client(&args)
}

/// Every regular file under `dir`, by relative path ('/'-separated), with its bytes.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(rd) = fs::read_dir(dir) else { return };
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p
                    .strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
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

// ---- python-tuf scenarios ----------------------------------------------------------------

#[test]
fn every_python_tuf_scenario_refreshes_and_downloads_over_http() {
    let tmp = tempfile::tempdir().unwrap();
    let repos = tmp.path().join("repos");
    let scenarios = make_repos(&repos);
    assert_eq!(scenarios.len(), 9, "scenario count");
    let server = StaticServer::start(&repos).unwrap();
    for (i, dir) in scenarios.iter().enumerate() {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let expected = read_json(&dir.join("expected.json"));
        let served = dir.join("metadata");
        // Base URLs with and without a trailing slash, alternately.
        let slash = if i % 2 == 0 { "/" } else { "" };
        let murl = server.url(&format!("{name}/metadata{slash}"));
        let turl = server.url(&format!("{name}/targets{slash}"));
        let mdir = tmp.path().join(format!("{name}-meta"));
        let tdir = tmp.path().join(format!("{name}-targets"));

        server.clear_requests();
        ok(
            &init(&mdir, &served.join("1.root.json")),
            &format!("{name}: init"),
        );
        assert!(server.requests().is_empty(), "{name}: init made requests");
        assert_eq!(
            fs::read(mdir.join("root.json")).unwrap(),
            fs::read(served.join("1.root.json")).unwrap()
        );

        ok(&refresh(&murl, &mdir), &format!("{name}: refresh"));
        let top: BTreeSet<&str> = [
            "root.json",
            "timestamp.json",
            "snapshot.json",
            "targets.json",
        ]
        .into_iter()
        .collect();
        let local = tree(&mdir);
        assert_eq!(
            local.keys().map(String::as_str).collect::<BTreeSet<_>>(),
            top,
            "{name}: metadata dir after refresh"
        );
        for (file, bytes) in &local {
            assert_eq!(
                bytes,
                &fs::read(served.join(file)).unwrap(),
                "{name}: {file} is not the exact bytes served"
            );
        }

        // A second refresh: only the next root and the timestamp.
        let root_versions = expected["root_versions"].as_u64().unwrap();
        server.clear_requests();
        ok(&refresh(&murl, &mdir), &format!("{name}: second refresh"));
        assert_eq!(
            server.requests(),
            vec![
                format!("{name}/metadata/{}.root.json", root_versions + 1),
                format!("{name}/metadata/timestamp.json"),
            ],
            "{name}: second refresh requests"
        );
        assert_eq!(
            tree(&mdir),
            local,
            "{name}: second refresh changed the cache"
        );

        // Download every expected target.
        let targets = expected["targets"].as_object().unwrap();
        let names: Vec<&str> = targets.keys().map(String::as_str).collect();
        ok(
            &download(&murl, &mdir, &names, &tdir, &turl),
            &format!("{name}: download"),
        );
        let got = tree(&tdir);
        assert_eq!(
            got.keys().map(String::as_str).collect::<Vec<_>>(),
            names,
            "{name}: target dir"
        );
        for path in &names {
            assert_eq!(
                got[*path],
                fs::read(dir.join("targets").join(path)).unwrap(),
                "{name}: {path}"
            );
        }

        // A second download fetches no target.
        server.clear_requests();
        ok(
            &download(&murl, &mdir, &names, &tdir, &turl),
            &format!("{name}: second download"),
        );
        let target_requests: Vec<_> = server
            .requests()
            .into_iter()
            .filter(|r| r.starts_with(&format!("{name}/targets/")))
            .collect();
        assert!(
            target_requests.is_empty(),
            "{name}: refetched {target_requests:?}"
        );
        assert_eq!(tree(&tdir), got);

        // Paths no trusted role may sign fail, and leave nothing behind.
        for nf in expected["not_found"].as_array().unwrap() {
            let nf = nf.as_str().unwrap();
            let err = fails(
                &download(&murl, &mdir, &[nf], &tdir, &turl),
                &format!("{name}: not_found {nf}"),
            );
            assert!(
                err.contains(nf),
                "{name}: message does not name {nf}: {err}"
            );
            assert_eq!(tree(&tdir), got, "{name}: {nf} left files");
        }

        // The metadata directory: top-level files and percent-encoded delegated roles only,
        // each with the exact bytes served.
        let snapshot = read_json(&served.join("snapshot.json"));
        let mut allowed: BTreeSet<String> = top.iter().map(|s| (*s).to_owned()).collect();
        for key in snapshot["signed"]["meta"].as_object().unwrap().keys() {
            let role = key.strip_suffix(".json").unwrap();
            allowed.insert(format!("{}.json", percent_encode_segment(role)));
        }
        for (file, bytes) in tree(&mdir) {
            assert!(allowed.contains(&file), "{name}: unexpected file {file}");
            assert_eq!(
                bytes,
                fs::read(served.join(&file)).unwrap(),
                "{name}: {file}"
            );
        }
        if name == "delegations" {
            // Lazy search: team-c is only consulted for b/w.bin (team-b does not match it).
            for role in ["team-a", "team-a-sub", "team-b", "team-c"] {
                assert!(mdir.join(format!("{role}.json")).is_file(), "{role}");
            }
        }
    }
}

// ---- hostile repositories (our editor) ---------------------------------------------------

struct Repo {
    tmp: tempfile::TempDir,
    keys: [SoftwareSigner; 4],
    editor: RepoEditor,
    consistent: bool,
}

impl Repo {
    fn new(seed: u8) -> Self {
        let keys = [1u8, 2, 3, 4].map(|i| SoftwareSigner::ed25519_from_seed([seed ^ i; 32]));
        let key = |i: usize| {
            vec![Key::from_public_key(
                Dialect::TufSpec,
                keys[i].public_key().clone(),
            )]
        };
        let editor = RepoEditor::create(
            Dialect::TufSpec,
            InitialKeys {
                root: key(0),
                targets: key(1),
                snapshot: key(2),
                timestamp: key(3),
            },
            Utc::now(),
        );
        let mut r = Self {
            tmp: tempfile::tempdir().unwrap(),
            keys,
            editor,
            consistent: true,
        };
        fs::create_dir_all(r.served()).unwrap();
        fs::create_dir_all(r.tmp.path().join("repo/targets")).unwrap();
        r.add_target("hello.txt", b"hello, world\n");
        r.publish();
        r
    }

    fn signers(&self) -> Vec<&dyn Signer> {
        self.keys.iter().map(|k| k as &dyn Signer).collect()
    }

    fn served(&self) -> PathBuf {
        self.tmp.path().join("repo/metadata")
    }

    fn add_target(&mut self, path: &str, data: &[u8]) {
        let entry = TargetEntry::for_data(data);
        let (dir, base) = path.rsplit_once('/').unwrap_or(("", path));
        let tdir = self.tmp.path().join("repo/targets").join(dir);
        fs::create_dir_all(&tdir).unwrap();
        fs::write(
            tdir.join(format!("{}.{base}", entry.sha256_hex().unwrap())),
            data,
        )
        .unwrap();
        self.editor.add_target("targets", path, entry).unwrap();
    }

    fn write(&self, files: &[SignedFile]) {
        for f in files {
            for name in f.tuf_file_names(self.consistent) {
                fs::write(self.served().join(name), &f.bytes).unwrap();
            }
        }
    }

    fn publish(&mut self) -> Vec<SignedFile> {
        let signers = self.signers();
        let mut editor = self.editor.clone();
        let files = editor
            .sign(&signers, Utc::now(), SignPlan::default())
            .unwrap();
        self.editor = editor;
        self.write(&files);
        files
    }

    fn mdir(&self) -> PathBuf {
        self.tmp.path().join("client-meta")
    }

    fn tdir(&self) -> PathBuf {
        self.tmp.path().join("client-targets")
    }

    fn serve(&self) -> StaticServer {
        StaticServer::start(&self.tmp.path().join("repo")).unwrap()
    }

    fn init_client(&self) {
        ok(
            &init(&self.mdir(), &self.served().join("1.root.json")),
            "init",
        );
    }
}

fn murl(server: &StaticServer) -> String {
    server.url("metadata/")
}

fn no_temp_files(dir: &Path) {
    for name in tree(dir).keys() {
        assert!(
            !name.contains(".tuf-client-"),
            "temporary file left: {name}"
        );
    }
}

#[test]
fn a_tampered_target_is_refused_and_nothing_is_written() {
    let repo = Repo::new(10);
    let server = repo.serve();
    repo.init_client();
    let entry = TargetEntry::for_data(b"hello, world\n");
    let remote = format!("targets/{}.hello.txt", entry.sha256_hex().unwrap());
    server.set_override(&remote, Reply::Body(b"hello, world!".to_vec()));
    let tdir = repo.tdir();
    fs::create_dir_all(&tdir).unwrap();
    let out = download(
        &murl(&server),
        &repo.mdir(),
        &["hello.txt"],
        &tdir,
        &server.url("targets"),
    );
    let err = fails(&out, "tampered target");
    assert!(err.contains("hello.txt"), "{err}");
    assert!(
        tree(&tdir).is_empty(),
        "files left: {:?}",
        tree(&tdir).keys()
    );
    no_temp_files(&repo.mdir());

    // Too long is refused as well (capped at the trusted length).
    server.set_override(&remote, Reply::Body(vec![b'x'; 4096]));
    let out = download(
        &murl(&server),
        &repo.mdir(),
        &["hello.txt"],
        &tdir,
        &server.url("targets"),
    );
    fails(&out, "oversized target");
    assert!(tree(&tdir).is_empty());

    // The genuine file downloads; a changed local copy is replaced under the same name.
    server.clear_overrides();
    ok(
        &download(
            &murl(&server),
            &repo.mdir(),
            &["hello.txt"],
            &tdir,
            &server.url("targets"),
        ),
        "download",
    );
    fs::write(tdir.join("hello.txt"), b"changed locally").unwrap();
    server.clear_requests();
    ok(
        &download(
            &murl(&server),
            &repo.mdir(),
            &["hello.txt"],
            &tdir,
            &server.url("targets"),
        ),
        "download again",
    );
    assert_eq!(fs::read(tdir.join("hello.txt")).unwrap(), b"hello, world\n");
    assert!(server.requests().contains(&remote));
    assert_eq!(tree(&tdir).len(), 1);
}

#[test]
fn a_replayed_old_timestamp_fails_and_changes_nothing() {
    let mut repo = Repo::new(20);
    let server = repo.serve();
    repo.init_client();
    let old_ts = fs::read(repo.served().join("timestamp.json")).unwrap();
    ok(&refresh(&murl(&server), &repo.mdir()), "refresh v1");
    repo.add_target("second.txt", b"second\n");
    repo.publish();
    ok(&refresh(&murl(&server), &repo.mdir()), "refresh v2");
    let before = tree(&repo.mdir());
    server.set_override("metadata/timestamp.json", Reply::Body(old_ts));
    let err = fails(&refresh(&murl(&server), &repo.mdir()), "replayed timestamp");
    assert!(err.contains("timestamp"), "{err}");
    assert_eq!(tree(&repo.mdir()), before, "metadata dir changed");
}

#[test]
fn an_invalid_or_unsigned_initial_root_is_refused_before_any_request() {
    let repo = Repo::new(30);
    let server = repo.serve();
    let mut root: Value = read_json(&repo.served().join("1.root.json"));
    root["signatures"] = Value::Array(Vec::new());
    let unsigned = repo.tmp.path().join("unsigned-root.json");
    fs::write(&unsigned, serde_json::to_vec(&root).unwrap()).unwrap();
    let garbage = repo.tmp.path().join("garbage-root.json");
    fs::write(&garbage, b"{\"signed\": ").unwrap();
    for (what, file) in [("unsigned", &unsigned), ("garbage", &garbage)] {
        let mdir = repo.tmp.path().join(format!("meta-{what}"));
        let err = fails(&init(&mdir, file), what);
        assert!(err.contains("root"), "{err}");
        assert!(!mdir.join("root.json").exists(), "{what}: root stored");
        // Even with the bad root in place, refresh makes no request.
        fs::create_dir_all(&mdir).unwrap();
        fs::copy(file, mdir.join("root.json")).unwrap();
        server.clear_requests();
        fails(&refresh(&murl(&server), &mdir), what);
        assert!(
            server.requests().is_empty(),
            "{what}: {:?}",
            server.requests()
        );
    }
    // No trusted root at all: also no request.
    let empty = repo.tmp.path().join("meta-none");
    fails(&refresh(&murl(&server), &empty), "no root");
    assert!(server.requests().is_empty());
}

#[test]
fn endless_responses_are_cut_off_quickly() {
    let repo = Repo::new(40);
    let server = repo.serve();
    repo.init_client();
    server.set_override("metadata/timestamp.json", Reply::Endless);
    let started = Instant::now();
    let err = fails(&refresh(&murl(&server), &repo.mdir()), "endless timestamp");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(err.contains("timestamp"), "{err}");
    assert_eq!(
        tree(&repo.mdir()).keys().cloned().collect::<Vec<_>>(),
        vec!["root.json".to_owned()]
    );
    server.clear_overrides();
    server.set_override("metadata/2.root.json", Reply::Endless);
    let started = Instant::now();
    let err = fails(&refresh(&murl(&server), &repo.mdir()), "endless root");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(err.contains("root"), "{err}");
}

#[test]
fn an_endless_root_chain_is_capped() {
    let mut repo = Repo::new(50);
    // 300 valid root versions, each signed by the (unchanged) root key.
    let signers = repo.signers();
    let mut editor = repo.editor.clone();
    let mut roots: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    for _ in 0..300 {
        editor.touch("root");
        let plan = SignPlan {
            snapshot: false,
            timestamp: false,
        };
        for f in editor.sign(&signers, Utc::now(), plan).unwrap() {
            roots.insert(f.version, f.bytes);
        }
    }
    drop(signers);
    repo.editor = editor;
    let server = repo.serve();
    repo.init_client();
    let roots = Arc::new(roots);
    let r = Arc::clone(&roots);
    server.set_handler(Arc::new(move |path: &str| {
        let v: u64 = path
            .strip_prefix("metadata/")?
            .strip_suffix(".root.json")?
            .parse()
            .ok()?;
        r.get(&v).cloned().map(Reply::Body)
    }));
    let out = refresh(&murl(&server), &repo.mdir());
    let root_requests = server
        .requests()
        .iter()
        .filter(|p| p.ends_with(".root.json"))
        .count();
    assert_eq!(root_requests, 256, "root fetches are capped at 256");
    // The walk stops at the cap (as python-tuf does) and the update goes on from there.
    ok(&out, "refresh with an endless root chain");
    assert_eq!(
        fs::read(repo.mdir().join("root.json")).unwrap(),
        roots[&257]
    );
}

#[test]
fn target_paths_that_would_escape_the_target_dir_are_refused() {
    let mut repo = Repo::new(60);
    for p in ["../escape.txt", "a/../../escape2.txt", "/abs.txt"] {
        repo.editor
            .add_target("targets", p, TargetEntry::for_data(b"evil\n"))
            .unwrap();
    }
    repo.publish();
    let server = repo.serve();
    repo.init_client();
    let tdir = repo.tdir();
    for p in ["../escape.txt", "a/../../escape2.txt", "/abs.txt"] {
        let err = fails(
            &download(
                &murl(&server),
                &repo.mdir(),
                &[p],
                &tdir,
                &server.url("targets"),
            ),
            p,
        );
        assert!(err.contains("unsafe"), "{p}: {err}");
    }
    assert!(tree(&tdir).is_empty());
    assert!(!repo.tmp.path().join("escape.txt").exists());
    assert!(!repo.tmp.path().join("escape2.txt").exists());
}

#[test]
fn a_non_consistent_repository_uses_plain_names() {
    let mut repo = Repo::new(70);
    repo.consistent = false;
    repo.editor.set_consistent_snapshot(false);
    repo.add_target("dir/plain.txt", b"plain\n");
    fs::create_dir_all(repo.tmp.path().join("repo/targets/dir")).unwrap();
    fs::write(
        repo.tmp.path().join("repo/targets/dir/plain.txt"),
        b"plain\n",
    )
    .unwrap();
    repo.publish();
    let server = repo.serve();
    repo.init_client();
    let tdir = repo.tdir();
    ok(
        &download(
            &murl(&server),
            &repo.mdir(),
            &["dir/plain.txt"],
            &tdir,
            &server.url("targets/"),
        ),
        "download",
    );
    let reqs = server.requests();
    assert!(
        reqs.contains(&"metadata/snapshot.json".to_owned()),
        "{reqs:?}"
    );
    assert!(
        reqs.contains(&"metadata/targets.json".to_owned()),
        "{reqs:?}"
    );
    assert!(
        reqs.contains(&"targets/dir/plain.txt".to_owned()),
        "{reqs:?}"
    );
    assert_eq!(fs::read(tdir.join("dir/plain.txt")).unwrap(), b"plain\n");
}
