#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Hostile repositories against `tuf-client` over HTTP on loopback: the client update workflow
//! rows B01–B10 of the hostile catalogue (`security.md` §7) as the CLI sees them.
//!
//! Every rejection asserts exit status exactly 1, a message naming the role and the reason, and
//! the metadata directory byte for byte: unchanged, or changed by exactly the files TUF spec §5
//! persists before the failing step (each accepted root 5.3.8, the timestamp 5.4.5, the snapshot
//! 5.5.7). Repositories are built with our editor and, where a repository must misbehave, forged
//! with `tuf_forge`. Expiry is relative to the system clock (the CLI has no injectable clock):
//! "expired" metadata is signed with an expiry in the past, nothing sleeps.

use std::collections::BTreeMap;
use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use chrono::Utc;
use notary_rs_tests::notary_cli::tuf_client_bin;
use notary_rs_tests::static_server::{Reply, StaticServer};
use notary_rs_tests::tuf_forge::{
    envelope, keep_signatures, meta_json, obj_mut, resign, set_meta, set_version, signature, split,
    version_of,
};
use tuf_core::crypto::{Key, Signer, SoftwareSigner};
use tuf_core::editor::{InitialKeys, RepoEditor, SignPlan, SignedFile};
use tuf_core::name::RoleName;
use tuf_core::role::{DelegatedRole, PathSpec, RoleKeys, TargetEntry, Threshold, TopRole};
use tuf_core::{format_expires, Dialect};

const ROOT: usize = 0;
const TARGETS: usize = 1;
const SNAPSHOT: usize = 2;
const TIMESTAMP: usize = 3;
const TIMEOUT_ENV: &str = "NOTARY_RS_TIMEOUT_SECS";

type Tree = BTreeMap<String, Vec<u8>>;

/// Every regular file under `dir`, by relative path ('/'-separated), with its bytes.
fn tree(dir: &Path) -> Tree {
    fn walk(base: &Path, dir: &Path, out: &mut Tree) {
        let Ok(rd) = fs::read_dir(dir) else { return };
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p.strip_prefix(base).unwrap().to_string_lossy();
                out.insert(rel.replace('\\', "/"), fs::read(&p).unwrap());
            }
        }
    }
    let mut out = Tree::new();
    walk(dir, dir, &mut out);
    out
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn succeeded(out: &Output, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{what}: expected success, stderr: {}",
        stderr(out)
    );
}

/// Exit status exactly 1 and a message that contains every one of `words` (ignoring case).
fn rejected(out: &Output, what: &str, words: &[&str]) -> String {
    let err = stderr(out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{what}: expected exit 1, stderr: {err}"
    );
    let lower = err.to_lowercase();
    for w in words {
        assert!(
            lower.contains(&w.to_lowercase()),
            "{what}: message does not mention {w:?}: {err}"
        );
    }
    err
}

/// `before` with the files in `changes` replaced (or added).
fn with(before: &Tree, changes: &[(&str, &[u8])]) -> Tree {
    let mut t = before.clone();
    for (name, bytes) in changes {
        t.insert((*name).to_owned(), bytes.to_vec());
    }
    t
}

fn in_past() -> chrono::DateTime<Utc> {
    Utc::now() - chrono::Duration::hours(1)
}

/// A TUF 1.0 repository (consistent snapshots) served on loopback, built with our editor, and
/// one `tuf-client` metadata directory (initialised with `1.root.json`) and target directory.
struct Hostile {
    tmp: tempfile::TempDir,
    /// Every signing key: the four top-level ones first, then delegation and rotated keys.
    keys: Vec<SoftwareSigner>,
    editor: RepoEditor,
    server: StaticServer,
    /// The last published bytes of each role.
    latest: BTreeMap<String, Vec<u8>>,
    timeout_secs: Option<u64>,
}

impl Hostile {
    /// Version 1 of everything with the target `hello.txt`; the client is initialised.
    fn new() -> Self {
        Self::build(|_| {})
    }

    /// As [`Hostile::new`], with `setup` applied to the editor before the first signing.
    fn build(setup: impl FnOnce(&mut Self)) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let keys: Vec<SoftwareSigner> =
            (0..4).map(|_| SoftwareSigner::generate_ed25519()).collect();
        let k = |i: usize| {
            vec![Key::from_public_key(
                Dialect::TufSpec,
                keys[i].public_key().clone(),
            )]
        };
        let editor = RepoEditor::create(
            Dialect::TufSpec,
            InitialKeys {
                root: k(ROOT),
                targets: k(TARGETS),
                snapshot: k(SNAPSHOT),
                timestamp: k(TIMESTAMP),
            },
            Utc::now(),
        );
        fs::create_dir_all(tmp.path().join("repo/metadata")).unwrap();
        fs::create_dir_all(tmp.path().join("repo/targets")).unwrap();
        let server = StaticServer::start(&tmp.path().join("repo")).unwrap();
        let mut h = Self {
            tmp,
            keys,
            editor,
            server,
            latest: BTreeMap::new(),
            timeout_secs: None,
        };
        h.add_target("targets", "hello.txt", b"hello, world\n");
        setup(&mut h);
        h.publish();
        h.reset_client();
        h
    }

    fn key(&self, i: usize) -> Key {
        Key::from_public_key(Dialect::TufSpec, self.keys[i].public_key().clone())
    }

    fn signer(&self, i: usize) -> &dyn Signer {
        &self.keys[i]
    }

    fn new_key(&mut self) -> usize {
        self.keys.push(SoftwareSigner::generate_ed25519());
        self.keys.len() - 1
    }

    fn served_dir(&self) -> PathBuf {
        self.tmp.path().join("repo/metadata")
    }

    fn mdir(&self) -> PathBuf {
        self.tmp.path().join("client-meta")
    }

    fn tdir(&self) -> PathBuf {
        self.tmp.path().join("client-targets")
    }

    /// A served metadata file.
    fn served(&self, name: &str) -> Vec<u8> {
        fs::read(self.served_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    /// Serves `bytes` as the metadata file `name` (replacing the file on disk).
    fn put(&self, name: &str, bytes: &[u8]) {
        fs::write(self.served_dir().join(name), bytes).unwrap();
    }

    fn latest(&self, role: &str) -> Vec<u8> {
        self.latest
            .get(role)
            .unwrap_or_else(|| panic!("nothing published for {role}"))
            .clone()
    }

    /// Adds `path` to `role` and stores the file under its consistent-snapshot name.
    fn add_target(&mut self, role: &str, path: &str, data: &[u8]) {
        let entry = TargetEntry::for_data(data);
        fs::create_dir_all(
            self.tmp
                .path()
                .join("repo/targets")
                .join(path)
                .parent()
                .unwrap(),
        )
        .unwrap();
        fs::write(self.target_file(path, &entry), data).unwrap();
        self.editor.add_target(role, path, entry).unwrap();
    }

    /// Where the repository stores `path`: `targets/<dir>/<sha256>.<basename>`.
    fn target_file(&self, path: &str, entry: &TargetEntry) -> PathBuf {
        let (dir, base) = path.rsplit_once('/').unwrap_or(("", path));
        self.tmp
            .path()
            .join("repo/targets")
            .join(dir)
            .join(format!("{}.{base}", entry.sha256_hex().unwrap()))
    }

    /// The URL path (under the server) of target `path` with `data`.
    fn target_url_path(&self, path: &str, data: &[u8]) -> String {
        let p = self.target_file(path, &TargetEntry::for_data(data));
        p.strip_prefix(self.tmp.path().join("repo"))
            .unwrap()
            .to_string_lossy()
            .into_owned()
    }

    /// Delegates `paths` of `parent` to `name` with the key `key`, threshold 1.
    fn delegate(
        &mut self,
        parent: &str,
        name: &str,
        paths: &[&str],
        terminating: bool,
        key: usize,
    ) {
        let k = self.key(key);
        let role = DelegatedRole {
            name: RoleName::delegated(Dialect::TufSpec, name).unwrap(),
            keys: RoleKeys {
                keyids: vec![k.key_id()],
                threshold: Threshold::ONE,
            },
            terminating,
            paths: PathSpec::Patterns(paths.iter().map(|p| (*p).to_owned()).collect()),
        };
        self.editor.add_delegation(parent, role, vec![k]).unwrap();
    }

    /// Signs what changed (plus snapshot and timestamp) now, serves it, and returns the bytes
    /// by role.
    fn publish(&mut self) -> BTreeMap<String, Vec<u8>> {
        let mut editor = self.editor.clone();
        let files = self.sign(&mut editor, Utc::now());
        self.editor = editor;
        self.serve(&files)
    }

    /// Signs `editor`'s changes at `at` with every key.
    fn sign(&self, editor: &mut RepoEditor, at: chrono::DateTime<Utc>) -> Vec<SignedFile> {
        let signers: Vec<&dyn Signer> = self.keys.iter().map(|k| k as &dyn Signer).collect();
        editor.sign(&signers, at, SignPlan::default()).unwrap()
    }

    /// Serves signed files under their TUF names and records them as the latest.
    fn serve(&mut self, files: &[SignedFile]) -> BTreeMap<String, Vec<u8>> {
        let mut out = BTreeMap::new();
        for f in files {
            for name in f.tuf_file_names(true) {
                self.put(&name, &f.bytes);
            }
            self.latest.insert(f.role.clone(), f.bytes.clone());
            out.insert(f.role.clone(), f.bytes.clone());
        }
        out
    }

    /// A new snapshot (latest version + 1, `edit` applied to its `meta`) signed with the
    /// snapshot key, and a timestamp (latest + 1) naming it signed with the timestamp key; both
    /// served. Returns (snapshot, timestamp).
    fn forge_snapshot(
        &self,
        edit: impl FnOnce(&mut tuf_core::json::JsonObject),
    ) -> (Vec<u8>, Vec<u8>) {
        let snap = self.latest("snapshot");
        let version = version_of(&snap) + 1;
        let snap = resign(
            &snap,
            |o| {
                set_version(o, version);
                edit(obj_mut(o.get_mut("meta").unwrap()));
            },
            &[self.signer(SNAPSHOT)],
        );
        self.put(&format!("{version}.snapshot.json"), &snap);
        let ts = self.forge_timestamp(version_of(&self.latest("timestamp")) + 1, version, &snap);
        (snap, ts)
    }

    /// A timestamp of `version` naming `snapshot` (of `snapshot_version`), signed with the
    /// timestamp key and served.
    fn forge_timestamp(&self, version: u64, snapshot_version: u64, snapshot: &[u8]) -> Vec<u8> {
        let ts = resign(
            &self.latest("timestamp"),
            |o| {
                set_version(o, version);
                set_meta(o, "snapshot.json", meta_json(snapshot_version, snapshot));
            },
            &[self.signer(TIMESTAMP)],
        );
        self.put("timestamp.json", &ts);
        ts
    }

    // ---- the client ----------------------------------------------------------------------

    fn cli(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(tuf_client_bin());
        cmd.args(args);
        match self.timeout_secs {
            Some(s) => cmd.env(TIMEOUT_ENV, s.to_string()),
            None => cmd.env_remove(TIMEOUT_ENV),
        };
        cmd.output().expect("run tuf-client")
    }

    fn murl(&self) -> String {
        self.server.url("metadata/")
    }

    fn refresh(&self) -> Output {
        let (m, d) = (self.murl(), self.mdir());
        self.cli(&[
            "--metadata-url",
            &m,
            "--metadata-dir",
            d.to_str().unwrap(),
            "refresh",
        ])
    }

    fn download(&self, names: &[&str]) -> Output {
        let (m, d, t, tu) = (
            self.murl(),
            self.mdir(),
            self.tdir(),
            self.server.url("targets/"),
        );
        let mut args = vec!["--metadata-url", &m, "--metadata-dir", d.to_str().unwrap()];
        for n in names {
            args.extend(["--target-name", n]);
        }
        args.extend([
            "--target-dir",
            t.to_str().unwrap(),
            "--target-base-url",
            &tu,
            "download",
        ]);
        self.cli(&args)
    }

    /// A new client: empty directories, `init` with `1.root.json`, request log cleared.
    fn reset_client(&self) {
        let _ = fs::remove_dir_all(self.mdir());
        let _ = fs::remove_dir_all(self.tdir());
        fs::create_dir_all(self.tdir()).unwrap();
        let root = self.served_dir().join("1.root.json");
        let out = self.cli(&[
            "--metadata-dir",
            self.mdir().to_str().unwrap(),
            "init",
            root.to_str().unwrap(),
        ]);
        succeeded(&out, "init");
        self.server.clear_requests();
    }

    fn meta(&self) -> Tree {
        tree(&self.mdir())
    }

    /// The metadata directory of a client that refreshed against what is served now and then
    /// loaded the delegated `roles`: the exact served bytes of each, nothing else.
    fn served_meta(&self, roles: &[&str]) -> Tree {
        fn meta_version(bytes: &[u8], file: &str) -> u64 {
            split(bytes).0.as_object().unwrap()["meta"]
                .as_object()
                .unwrap()[file]
                .as_object()
                .unwrap()["version"]
                .as_u64()
                .unwrap()
        }
        let ts = self.served("timestamp.json");
        let snap = self.served(&format!(
            "{}.snapshot.json",
            meta_version(&ts, "snapshot.json")
        ));
        let mut t = Tree::new();
        t.insert("root.json".into(), self.latest("root"));
        for role in std::iter::once("targets").chain(roles.iter().copied()) {
            let file = format!("{role}.json");
            let v = meta_version(&snap, &file);
            t.insert(file, self.served(&format!("{v}.{role}.json")));
        }
        t.insert("timestamp.json".into(), ts);
        t.insert("snapshot.json".into(), snap);
        t
    }

    /// Puts the metadata directory back to exactly `t`.
    fn restore(&self, t: &Tree) {
        let _ = fs::remove_dir_all(self.mdir());
        fs::create_dir_all(self.mdir()).unwrap();
        for (name, bytes) in t {
            fs::write(self.mdir().join(name), bytes).unwrap();
        }
    }

    /// Refreshes and checks that it worked.
    fn refresh_ok(&self, what: &str) {
        succeeded(&self.refresh(), what);
    }

    /// Paths requested since the log was cleared.
    fn requests(&self) -> Vec<String> {
        self.server.requests()
    }

    /// Versioned root files requested since the log was cleared, in order.
    fn root_requests(&self) -> Vec<String> {
        self.requests()
            .into_iter()
            .filter(|r| r.ends_with(".root.json"))
            .collect()
    }

    /// Whether any top-level timestamp request was made since the log was cleared.
    fn asked_timestamp(&self) -> bool {
        self.requests()
            .iter()
            .any(|r| r == "metadata/timestamp.json")
    }

    /// Delegated roles requested since the log was cleared, in order (`metadata/<V>.<role>.json`).
    fn delegated_fetches(&self) -> Vec<String> {
        self.requests()
            .iter()
            .filter_map(|r| {
                let file = r.strip_prefix("metadata/")?.strip_suffix(".json")?;
                let (v, role) = file.split_once('.')?;
                (v.chars().all(|c| c.is_ascii_digit())
                    && !["root", "timestamp", "snapshot", "targets"].contains(&role))
                .then(|| role.to_owned())
            })
            .collect()
    }
}

fn root_names(versions: std::ops::RangeInclusive<u64>) -> Vec<String> {
    versions
        .map(|v| format!("metadata/{v}.root.json"))
        .collect()
}

// ---- B01 root chain ------------------------------------------------------------------------

/// Root v2..v5 published; v3 rotates the root key. Returns (old root key, new root key).
fn root_chain(h: &mut Hostile) -> (usize, usize) {
    h.editor.touch("root");
    h.publish();
    let new = h.new_key();
    let k = h.key(new);
    h.editor
        .set_role_keys(TopRole::Root, vec![k], Threshold::ONE)
        .unwrap();
    h.publish();
    for _ in 0..2 {
        h.editor.touch("root");
        h.publish();
    }
    assert_eq!(version_of(&h.latest("root")), 5);
    (ROOT, new)
}

#[test]
fn b01_a_valid_root_chain_is_walked_to_the_end() {
    let mut h = Hostile::new();
    root_chain(&mut h);
    h.refresh_ok("refresh through v2..v5");
    assert_eq!(h.root_requests(), root_names(2..=6));
    assert_eq!(h.meta()["root.json"], h.served("5.root.json"));
    assert_eq!(h.meta()["timestamp.json"], h.latest("timestamp"));
}

#[test]
fn b01_a_bad_intermediate_root_stops_the_walk_at_the_last_good_one() {
    let mut h = Hostile::new();
    let (old, new) = root_chain(&mut h);
    let v2 = h.served("2.root.json");
    let v3 = h.served("3.root.json");
    let only_new = keep_signatures(&v3, &[h.signer(new)]);
    let only_old = keep_signatures(&v3, &[h.signer(old)]);
    // Validly signed by both keys, but it is not version 3.
    let says_v4 = resign(&v3, |o| set_version(o, 4), &[h.signer(old), h.signer(new)]);
    for (what, bytes, reason) in [
        ("v3 signed only by the new key", &only_new, "threshold"),
        ("v3 signed only by the old key", &only_old, "threshold"),
        (
            "3.root.json containing version 4",
            &says_v4,
            "version 4, expected 3",
        ),
    ] {
        h.reset_client();
        let before = h.meta();
        h.put("3.root.json", bytes);
        rejected(&h.refresh(), what, &["root", reason]);
        // v2 was accepted and stored (5.3.8); nothing after it; no timestamp request.
        assert_eq!(h.meta(), with(&before, &[("root.json", &v2)]), "{what}");
        assert_eq!(h.root_requests(), root_names(2..=3), "{what}");
        assert!(!h.asked_timestamp(), "{what}");
    }
    // With the genuine v3 back, the same client continues from v2 to v5.
    h.put("3.root.json", &v3);
    h.refresh_ok("refresh after the repair");
    assert_eq!(h.meta()["root.json"], h.served("5.root.json"));
}

#[test]
fn b01_an_expired_intermediate_root_is_fine_an_expired_final_root_is_not() {
    // v2 expired, v3 fresh: accepted.
    let mut h = Hostile::new();
    h.editor.set_expires("root", in_past());
    h.publish();
    h.editor.touch("root");
    h.publish();
    h.refresh_ok("expired intermediate root");
    assert_eq!(h.meta()["root.json"], h.served("3.root.json"));

    // v2 expired and final: stored (5.3.8), then the cycle stops before the timestamp.
    let mut h = Hostile::new();
    h.editor.set_expires("root", in_past());
    h.publish();
    let before = h.meta();
    rejected(&h.refresh(), "expired final root", &["root", "expired"]);
    assert_eq!(
        h.meta(),
        with(&before, &[("root.json", &h.served("2.root.json"))])
    );
    assert_eq!(h.requests(), root_names(2..=3), "no timestamp request");
}

// ---- B02 root size -------------------------------------------------------------------------

#[test]
fn b02_a_10_mb_root_is_cut_at_the_root_cap() {
    let h = Hostile::new();
    let before = h.meta();
    let huge = vec![b' '; 10 << 20];
    for (what, reply) in [
        ("with Content-Length", Reply::Body(huge.clone())),
        ("streamed without length", Reply::Unsized(huge.clone())),
    ] {
        h.server.clear_requests();
        h.server.set_override("metadata/2.root.json", reply);
        let started = Instant::now();
        rejected(
            &h.refresh(),
            what,
            &["root", "exceeds the limit of 512000 bytes"],
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{what}: {:?}",
            started.elapsed()
        );
        assert_eq!(h.meta(), before, "{what}");
        assert!(!h.asked_timestamp(), "{what}");
    }
}

// ---- B03 endless data ----------------------------------------------------------------------

#[test]
fn b03_files_longer_than_their_recorded_length_are_cut() {
    let mut h = Hostile::new();
    h.refresh_ok("refresh v1");
    let before = h.meta();
    h.add_target("targets", "second.txt", b"second\n");
    let v2 = h.publish();

    // Snapshot padded with whitespace: still valid JSON with a valid signature, but longer
    // than the length the timestamp records.
    let mut padded = v2["snapshot"].clone();
    padded.extend_from_slice(&[b' '; 100]);
    let limit = format!("exceeds the limit of {} bytes", v2["snapshot"].len());
    for reply in [Reply::Body(padded.clone()), Reply::Unsized(padded.clone())] {
        h.restore(&before);
        h.server.set_override("metadata/2.snapshot.json", reply);
        rejected(&h.refresh(), "long snapshot", &["snapshot", &limit]);
        assert_eq!(
            h.meta(),
            with(&before, &[("timestamp.json", &v2["timestamp"])])
        );
    }
    h.server.clear_overrides();

    // Targets longer than the snapshot says.
    let mut padded = v2["targets"].clone();
    padded.extend_from_slice(&[b' '; 100]);
    let limit = format!("exceeds the limit of {} bytes", v2["targets"].len());
    for reply in [Reply::Body(padded.clone()), Reply::Unsized(padded.clone())] {
        h.restore(&before);
        h.server.set_override("metadata/2.targets.json", reply);
        rejected(&h.refresh(), "long targets", &["targets", &limit]);
        assert_eq!(
            h.meta(),
            with(
                &before,
                &[
                    ("timestamp.json", &v2["timestamp"]),
                    ("snapshot.json", &v2["snapshot"])
                ]
            )
        );
    }
    h.server.clear_overrides();
    h.refresh_ok("refresh v2");

    // A target streamed past its length (the genuine bytes plus more, no Content-Length).
    let remote = h.target_url_path("second.txt", b"second\n");
    h.server
        .set_override(&remote, Reply::Unsized(b"second\nand a lot more".to_vec()));
    let limit = format!("exceeds the limit of {} bytes", b"second\n".len());
    rejected(
        &h.download(&["second.txt"]),
        "long target",
        &["target second.txt", &limit],
    );
    assert!(tree(&h.tdir()).is_empty());
    h.server.clear_overrides();
    succeeded(&h.download(&["second.txt"]), "genuine target");
    assert_eq!(tree(&h.tdir())["second.txt"], b"second\n");
}

// ---- B04 slow retrieval --------------------------------------------------------------------

const DEADLINE_SECS: u64 = 2;

fn slow(body: Vec<u8>) -> Reply {
    Reply::Slow {
        body,
        interval: Duration::from_secs(1),
    }
}

/// Runs `f`, checks it took at least the deadline and well under twice it.
fn within_deadline(what: &str, f: impl FnOnce() -> Output) -> Output {
    let started = Instant::now();
    let out = f();
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(DEADLINE_SECS * 1000 - 100)
            && took < Duration::from_secs(DEADLINE_SECS * 3),
        "{what}: took {took:?} with a {DEADLINE_SECS} s deadline"
    );
    out
}

#[test]
fn b04_slow_retrieval_is_cut_at_the_per_file_deadline() {
    let mut h = Hostile::new();
    h.timeout_secs = Some(DEADLINE_SECS);
    let before = h.meta();

    // Timestamp trickled one byte a second (minutes in all).
    h.server
        .set_override("metadata/timestamp.json", slow(h.latest("timestamp")));
    let out = within_deadline("slow timestamp", || h.refresh());
    rejected(
        &out,
        "slow timestamp",
        &["timestamp", "timed out", TIMEOUT_ENV],
    );
    assert_eq!(h.meta(), before);
    h.server.clear_overrides();
    h.refresh_ok("refresh after a slow timestamp");
    let before = h.meta();

    // Snapshot.
    h.add_target("targets", "second.txt", b"second\n");
    let v2 = h.publish();
    h.server
        .set_override("metadata/2.snapshot.json", slow(v2["snapshot"].clone()));
    let out = within_deadline("slow snapshot", || h.refresh());
    rejected(&out, "slow snapshot", &["snapshot", "timed out"]);
    assert_eq!(
        h.meta(),
        with(&before, &[("timestamp.json", &v2["timestamp"])])
    );
    h.server.clear_overrides();
    h.refresh_ok("refresh after a slow snapshot");

    // Target.
    let remote = h.target_url_path("second.txt", b"second\n");
    h.server.set_override(&remote, slow(b"second\n".to_vec()));
    let out = within_deadline("slow target", || h.download(&["second.txt"]));
    rejected(&out, "slow target", &["target second.txt", "timed out"]);
    assert!(tree(&h.tdir()).is_empty());
    h.server.clear_overrides();
    succeeded(&h.download(&["second.txt"]), "download after a slow target");
    assert_eq!(tree(&h.tdir())["second.txt"], b"second\n");

    // A server that accepts the connection and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/metadata/", silent.local_addr().unwrap());
    let before = h.meta();
    let d = h.mdir();
    let out = within_deadline("silent server", || {
        h.cli(&[
            "--metadata-url",
            &url,
            "--metadata-dir",
            d.to_str().unwrap(),
            "refresh",
        ])
    });
    rejected(&out, "silent server", &["root", "timed out"]);
    assert_eq!(h.meta(), before);
    drop(silent);

    // A bad value of the knob is a usage error, before any request.
    h.server.clear_requests();
    let mut cmd = Command::new(tuf_client_bin());
    let out = cmd
        .args([
            "--metadata-url",
            &h.murl(),
            "--metadata-dir",
            d.to_str().unwrap(),
            "refresh",
        ])
        .env(TIMEOUT_ENV, "soon")
        .output()
        .unwrap();
    rejected(&out, "bad timeout value", &[TIMEOUT_ENV]);
    assert!(h.requests().is_empty());
}

// ---- B05 rollback --------------------------------------------------------------------------

/// A repository with a delegated role `team` (`team/*`), published four times (every role at
/// version 4), and a client that trusts version 4. Returns the timestamps by version.
fn four_versions() -> (Hostile, Vec<Vec<u8>>) {
    let mut h = Hostile::build(|h| {
        let k = h.new_key();
        h.delegate("targets", "team", &["team/*"], false, k);
        h.add_target("team", "team/a.txt", b"team a\n");
    });
    let mut timestamps = vec![Vec::new(), h.latest("timestamp")];
    for _ in 0..3 {
        h.editor.touch("targets");
        h.editor.touch("team");
        timestamps.push(h.publish()["timestamp"].clone());
    }
    assert_eq!(version_of(&h.latest("team")), 4);
    h.refresh_ok("refresh v4");
    h.server.clear_requests();
    (h, timestamps)
}

#[test]
fn b05_timestamp_rollbacks_are_refused_and_an_equal_version_keeps_the_trusted_one() {
    let (h, timestamps) = four_versions();
    let before = h.meta();

    // v3 after v4.
    h.put("timestamp.json", &timestamps[3]);
    rejected(
        &h.refresh(),
        "timestamp v3 after v4",
        &["timestamp", "rollback"],
    );
    assert_eq!(h.meta(), before);

    // v5 naming snapshot v3.
    let v5 = resign(
        &timestamps[3],
        |o| set_version(o, 5),
        &[h.signer(TIMESTAMP)],
    );
    h.put("timestamp.json", &v5);
    let err = rejected(
        &h.refresh(),
        "snapshot version lowered",
        &["timestamp", "snapshot", "rollback"],
    );
    assert!(
        err.contains("version 3 is older than the trusted version 4"),
        "{err}"
    );
    assert_eq!(h.meta(), before);

    // v4 again with other bytes: the trusted v4 is kept, nothing else is fetched, exit 0.
    let other = resign(
        &timestamps[4],
        |o| {
            let later = Utc::now() + chrono::Duration::days(2);
            o.insert(
                "expires".into(),
                format_expires(Dialect::TufSpec, later).into(),
            );
        },
        &[h.signer(TIMESTAMP)],
    );
    assert_ne!(other, timestamps[4]);
    h.put("timestamp.json", &other);
    h.server.clear_requests();
    h.refresh_ok("same version, other bytes");
    assert_eq!(h.meta(), before);
    assert_eq!(
        h.requests(),
        vec![
            "metadata/2.root.json".to_owned(),
            "metadata/timestamp.json".to_owned()
        ]
    );
}

#[test]
fn b05_snapshot_and_targets_rollbacks_are_refused() {
    let (h, _) = four_versions();
    let before = h.meta();
    let targets_v3 = h.served("3.targets.json");
    let targets_v4 = h.served("4.targets.json");
    let team_v3 = h.served("3.team.json");
    type Edit = Box<dyn FnOnce(&mut tuf_core::json::JsonObject)>;
    let cases: Vec<(&str, Edit, Vec<&str>)> = vec![
        (
            "snapshot lowers targets to v3",
            Box::new(move |m| {
                m.insert("targets.json".into(), meta_json(3, &targets_v3));
            }),
            vec!["snapshot", "targets", "rollback"],
        ),
        (
            "snapshot lowers the delegated role to v3",
            Box::new(move |m| {
                m.insert("team.json".into(), meta_json(3, &team_v3));
            }),
            vec!["snapshot", "team", "rollback"],
        ),
        (
            "snapshot drops the delegated role",
            Box::new(|m| {
                m.remove("team.json");
            }),
            vec!["snapshot", "team", "missing"],
        ),
    ];
    for (what, edit, words) in cases {
        h.restore(&before);
        let (_, ts) = h.forge_snapshot(edit);
        rejected(&h.refresh(), what, &words);
        // The new timestamp was accepted and stored (5.4.5); the snapshot was not.
        assert_eq!(
            h.meta(),
            with(&before, &[("timestamp.json", &ts)]),
            "{what}"
        );
    }

    // Snapshot v5 says targets v5 (with the length and hash of the v4 file it serves there):
    // the targets version must be the one the snapshot names.
    h.restore(&before);
    let t4 = targets_v4.clone();
    let (snap, ts) = h.forge_snapshot(move |m| {
        m.insert("targets.json".into(), meta_json(5, &t4));
    });
    h.put("5.targets.json", &targets_v4);
    rejected(
        &h.refresh(),
        "targets version != snapshot's",
        &["targets", "version 4, expected 5"],
    );
    assert_eq!(
        h.meta(),
        with(
            &before,
            &[("timestamp.json", &ts), ("snapshot.json", &snap)]
        )
    );
}

// ---- B06 freeze ----------------------------------------------------------------------------

/// A repository with a delegated role `team` and a client that trusts version 1 of the
/// top-level roles (not `team`).
fn with_team() -> Hostile {
    let h = Hostile::build(|h| {
        let k = h.new_key();
        h.delegate("targets", "team", &["team/*"], false, k);
        h.add_target("team", "team/a.txt", b"team a\n");
    });
    h.refresh_ok("refresh v1");
    h
}

#[test]
fn b06_expired_new_metadata_is_refused() {
    let mut h = with_team();
    let before = h.meta();
    let base = h.editor.clone();
    for role in ["timestamp", "snapshot", "targets", "team"] {
        h.restore(&before);
        h.editor = base.clone();
        h.editor.set_expires(role, in_past());
        let new = h.publish();
        let out = if role == "team" {
            h.download(&["team/a.txt"])
        } else {
            h.refresh()
        };
        rejected(&out, role, &[role, "expired"]);
        // Persisted: the files accepted before the expired one (5.4.5, 5.5.7), nothing else.
        let expected: Vec<(&str, &[u8])> = match role {
            "timestamp" => vec![],
            "snapshot" => vec![("timestamp.json", &new["timestamp"])],
            _ => vec![
                ("timestamp.json", &new["timestamp"]),
                ("snapshot.json", &new["snapshot"]),
            ],
        };
        assert_eq!(h.meta(), with(&before, &expected), "{role}");
        assert!(tree(&h.tdir()).is_empty(), "{role}");
    }
}

#[test]
fn b06_an_expired_local_timestamp_still_guards_rollback_and_does_not_block_updates() {
    let mut h = with_team();
    let ts1 = h.latest("timestamp");
    // The client trusted timestamp v2, which has expired since.
    h.editor.set_expires("timestamp", in_past());
    let expired_v2 = h.publish()["timestamp"].clone();
    let mut t = h.meta();
    t.insert("timestamp.json".into(), expired_v2);
    h.restore(&t);

    // The repository replays the still-valid v1: refused against the expired local v2.
    h.put("timestamp.json", &ts1);
    rejected(
        &h.refresh(),
        "v1 under an expired local v2",
        &["timestamp", "rollback"],
    );
    assert_eq!(h.meta(), t);

    // A fresh v3: accepted.
    h.editor.touch("timestamp");
    let v3 = h.publish()["timestamp"].clone();
    h.refresh_ok("v3 over an expired local v2");
    assert_eq!(h.meta(), with(&t, &[("timestamp.json", &v3)]));
}

// ---- B07 mix-and-match ---------------------------------------------------------------------

#[test]
fn b07_mixed_snapshot_and_targets_are_refused() {
    let mut h = with_team();
    let before = h.meta();
    let state1 = (h.latest("timestamp"), h.latest("snapshot"));

    // Two signings of state 2 (one second apart): same versions, different bytes.
    h.add_target("targets", "second.txt", b"second\n");
    let mut other = h.editor.clone();
    let other = h.sign(&mut other, Utc::now() + chrono::Duration::seconds(5));
    let other: BTreeMap<_, _> = other.into_iter().map(|f| (f.role, f.bytes)).collect();
    let v2 = h.publish();
    assert_ne!(other["snapshot"], v2["snapshot"]);
    assert_eq!(other["snapshot"].len(), v2["snapshot"].len());

    // A snapshot whose hash is not the one the timestamp names.
    h.server.set_override(
        "metadata/2.snapshot.json",
        Reply::Body(other["snapshot"].clone()),
    );
    rejected(
        &h.refresh(),
        "snapshot hash",
        &["snapshot", "sha256 hash mismatch"],
    );
    assert_eq!(
        h.meta(),
        with(&before, &[("timestamp.json", &v2["timestamp"])])
    );
    h.server.clear_overrides();

    // Targets whose hash is not the one the snapshot names.
    h.restore(&before);
    h.server.set_override(
        "metadata/2.targets.json",
        Reply::Body(other["targets"].clone()),
    );
    rejected(
        &h.refresh(),
        "targets hash",
        &["targets", "sha256 hash mismatch"],
    );
    assert_eq!(
        h.meta(),
        with(
            &before,
            &[
                ("timestamp.json", &v2["timestamp"]),
                ("snapshot.json", &v2["snapshot"])
            ]
        )
    );
    h.server.clear_overrides();

    // Snapshot from state 2 with the targets of state 3 (same length, served under the name
    // state 2 uses). With the targets of state 2 (another length) the length cap stops it.
    h.editor.touch("targets");
    let v3 = h.publish();
    assert_eq!(v3["targets"].len(), v2["targets"].len());
    for (what, targets, reason) in [
        (
            "targets of the next state",
            &v3["targets"],
            "sha256 hash mismatch",
        ),
        (
            "targets of a later, longer state",
            &v2["targets"],
            "exceeds the limit",
        ),
    ] {
        let (ts, snap, name) = if reason.contains("hash") {
            (&v2["timestamp"], &v2["snapshot"], "metadata/2.targets.json")
        } else {
            (&state1.0, &state1.1, "metadata/1.targets.json")
        };
        h.reset_client();
        let before = h.meta();
        h.server
            .set_override("metadata/timestamp.json", Reply::Body(ts.clone()));
        h.server.set_override(name, Reply::Body(targets.clone()));
        rejected(&h.refresh(), what, &["targets", reason]);
        assert_eq!(
            h.meta(),
            with(&before, &[("timestamp.json", ts), ("snapshot.json", snap)]),
            "{what}"
        );
        h.server.clear_overrides();
    }
}

#[test]
fn b07_a_delegated_role_missing_from_the_snapshot_is_never_fetched() {
    let h = with_team();
    let (snap, ts) = h.forge_snapshot(|m| {
        m.remove("team.json");
    });
    h.reset_client();
    let before = h.meta();
    let out = h.download(&["team/a.txt"]);
    rejected(
        &out,
        "team not in snapshot",
        &["team", "not listed in the trusted snapshot"],
    );
    assert_eq!(h.delegated_fetches(), Vec::<String>::new());
    assert!(
        !h.requests().iter().any(|r| r.contains("team")),
        "{:?}",
        h.requests()
    );
    assert_eq!(
        h.meta(),
        with(
            &before,
            &[
                ("timestamp.json", &ts),
                ("snapshot.json", &snap),
                ("targets.json", &h.served("1.targets.json")),
            ]
        )
    );
    assert!(tree(&h.tdir()).is_empty());
}

// ---- B08 fast-forward recovery -------------------------------------------------------------

/// Rotates the keys of `roles` in root, publishes, and returns the new root bytes.
fn rotate(h: &mut Hostile, roles: &[TopRole]) -> Vec<u8> {
    for role in roles {
        let k = h.new_key();
        let key = h.key(k);
        h.editor
            .set_role_keys(*role, vec![key], Threshold::ONE)
            .unwrap();
    }
    h.publish()["root"].clone()
}

#[test]
fn b08_timestamp_fast_forward_recovery() {
    let mut h = Hostile::new();
    // An attacker with the timestamp key pushes v1000; the client trusts it.
    let snap = h.latest("snapshot");
    let v1000 = h.forge_timestamp(1000, 1, &snap);
    h.refresh_ok("timestamp v1000");
    assert_eq!(h.meta()["timestamp.json"], v1000);
    // Without a key rotation, the repository's own next timestamp is a rollback.
    h.editor.touch("timestamp");
    h.publish();
    rejected(&h.refresh(), "v2 after v1000", &["timestamp", "rollback"]);
    // Root v2 rotates the timestamp key; the repository goes on from its own low version.
    let root = rotate(&mut h, &[TopRole::Timestamp]);
    h.refresh_ok("after the timestamp key rotation");
    let m = h.meta();
    assert_eq!(m["root.json"], root);
    assert_eq!(m["timestamp.json"], h.latest("timestamp"));
    assert_eq!(version_of(&m["timestamp.json"]), 3);
}

#[test]
fn b08_snapshot_fast_forward_recovery() {
    let mut h = Hostile::new();
    // Snapshot v1000 (and a timestamp naming it) from an attacker with both keys.
    let snap = resign(
        &h.latest("snapshot"),
        |o| set_version(o, 1000),
        &[h.signer(SNAPSHOT)],
    );
    h.put("1000.snapshot.json", &snap);
    h.forge_timestamp(2, 1000, &snap);
    h.refresh_ok("snapshot v1000");
    assert_eq!(h.meta()["snapshot.json"], snap);
    // Snapshot and timestamp keys rotated; the repository's snapshot restarts low.
    let root = rotate(&mut h, &[TopRole::Snapshot, TopRole::Timestamp]);
    h.refresh_ok("after the snapshot and timestamp key rotation");
    let m = h.meta();
    assert_eq!(m["root.json"], root);
    assert_eq!(m["snapshot.json"], h.latest("snapshot"));
    assert_eq!(version_of(&m["snapshot.json"]), 2);
    assert_eq!(m["timestamp.json"], h.latest("timestamp"));
}

#[test]
fn b08_targets_fast_forward_recovery_by_snapshot_key_rotation() {
    let mut h = Hostile::new();
    // Targets v1000, listed by a new snapshot, all validly signed.
    let targets = resign(
        &h.latest("targets"),
        |o| set_version(o, 1000),
        &[h.signer(TARGETS)],
    );
    h.put("1000.targets.json", &targets);
    let t = targets.clone();
    let (snap, _) = h.forge_snapshot(move |m| {
        m.insert("targets.json".into(), meta_json(1000, &t));
    });
    h.refresh_ok("targets v1000");
    assert_eq!(h.meta()["targets.json"], targets);
    // Only the snapshot key is rotated (as in tuf-conformance); the repository publishes
    // twice so that its timestamp version passes the forged one.
    let root = rotate(&mut h, &[TopRole::Snapshot]);
    h.editor.touch("snapshot");
    h.publish();
    assert!(version_of(&h.latest("snapshot")) > version_of(&snap));
    h.refresh_ok("after the snapshot key rotation");
    let m = h.meta();
    assert_eq!(m["root.json"], root);
    assert_eq!(m["targets.json"], h.served("1.targets.json"));
    assert_eq!(m["snapshot.json"], h.latest("snapshot"));
}

#[test]
fn b08_snapshot_key_rotation_alone_also_resets_the_trusted_timestamp() {
    // Spec 5.3.11: "If the timestamp and / or snapshot keys have been rotated, then delete the
    // trusted timestamp and snapshot metadata files." Here only the snapshot key changes, so
    // the cached timestamp (naming the forged snapshot v1000) still verifies: it must be
    // dropped all the same, or the repository's own snapshot v3 is a "rollback" forever.
    let mut h = Hostile::new();
    let snap = resign(
        &h.latest("snapshot"),
        |o| set_version(o, 1000),
        &[h.signer(SNAPSHOT)],
    );
    h.put("1000.snapshot.json", &snap);
    h.forge_timestamp(2, 1000, &snap);
    h.refresh_ok("snapshot v1000");
    let root = rotate(&mut h, &[TopRole::Snapshot]);
    h.editor.touch("snapshot");
    h.publish();
    h.refresh_ok("after the snapshot key rotation");
    let m = h.meta();
    assert_eq!(m["root.json"], root);
    assert_eq!(m["snapshot.json"], h.latest("snapshot"));
    assert_eq!(m["timestamp.json"], h.latest("timestamp"));
    // The next run (no rotation in it) keeps working.
    h.editor.touch("targets");
    h.publish();
    h.refresh_ok("next refresh");
    assert_eq!(h.meta()["snapshot.json"], h.latest("snapshot"));
}

// ---- B09 delegation graph ------------------------------------------------------------------

#[test]
fn b09_search_is_pre_order_and_lazy() {
    // targets -> role-a (x/*), role-b (x/*, y/*); role-b -> role-c (x/*).
    let h = Hostile::build(|h| {
        let k = h.new_key();
        h.delegate("targets", "role-a", &["x/*"], false, k);
        h.delegate("targets", "role-b", &["x/*", "y/*"], false, k);
        h.delegate("role-b", "role-c", &["x/*"], false, k);
        h.add_target("role-a", "x/a.txt", b"a\n");
        h.add_target("role-b", "y/b.txt", b"b\n");
        h.add_target("role-c", "x/c.txt", b"c\n");
    });
    for (path, fetched, found) in [
        ("x/c.txt", &["role-a", "role-b", "role-c"][..], true),
        ("x/a.txt", &["role-a"][..], true),
        ("y/b.txt", &["role-b"][..], true),
        ("x/none.txt", &["role-a", "role-b", "role-c"][..], false),
        ("z/none.txt", &[][..], false),
    ] {
        h.reset_client();
        let out = h.download(&[path]);
        if found {
            succeeded(&out, path);
            assert_eq!(tree(&h.tdir()).keys().collect::<Vec<_>>(), vec![path]);
        } else {
            rejected(&out, path, &[path, "not found"]);
            assert!(tree(&h.tdir()).is_empty());
        }
        assert_eq!(h.delegated_fetches(), fetched, "{path}");
        assert_eq!(h.meta(), h.served_meta(fetched), "{path}");
    }
}

#[test]
fn b09_a_terminating_role_ends_the_search_after_its_subtree() {
    // targets -> role-a (x/*, terminating) -> role-a1 (x/*); targets -> role-b (x/*).
    let h = Hostile::build(|h| {
        let k = h.new_key();
        h.delegate("targets", "role-a", &["x/*"], true, k);
        h.delegate("targets", "role-b", &["x/*"], false, k);
        h.delegate("role-a", "role-a1", &["x/*"], false, k);
        h.add_target("role-a1", "x/a1.txt", b"a1\n");
        h.add_target("role-b", "x/b.txt", b"b\n");
    });
    h.reset_client();
    rejected(
        &h.download(&["x/b.txt"]),
        "behind a terminating role",
        &["x/b.txt", "not found"],
    );
    assert_eq!(h.delegated_fetches(), ["role-a", "role-a1"]);
    assert_eq!(h.meta(), h.served_meta(&["role-a", "role-a1"]));
    h.reset_client();
    succeeded(
        &h.download(&["x/a1.txt"]),
        "inside the terminating role's subtree",
    );
    assert_eq!(h.delegated_fetches(), ["role-a", "role-a1"]);
}

#[test]
fn b09_a_delegation_cycle_terminates() {
    // targets -> role-a -> role-b -> role-a.
    let h = Hostile::build(|h| {
        let k = h.new_key();
        h.delegate("targets", "role-a", &["x/*"], false, k);
        h.delegate("role-a", "role-b", &["x/*"], false, k);
        h.delegate("role-b", "role-a", &["x/*"], false, k);
    });
    let started = Instant::now();
    rejected(
        &h.download(&["x/none.txt"]),
        "cycle",
        &["x/none.txt", "not found"],
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(h.delegated_fetches(), ["role-a", "role-b"]);
    assert_eq!(h.meta(), h.served_meta(&["role-a", "role-b"]));
}

#[test]
fn b09_a_40_role_chain_stops_after_32_roles() {
    let names: Vec<String> = (0..40).map(|i| format!("r{i:02}")).collect();
    let n = names.clone();
    let h = Hostile::build(move |h| {
        let k = h.new_key();
        let mut parent = "targets".to_owned();
        for name in &n {
            h.delegate(&parent, name, &["x/*"], false, k);
            parent.clone_from(name);
        }
        h.add_target("r39", "x/deep.txt", b"deep\n");
    });
    rejected(
        &h.download(&["x/deep.txt"]),
        "40-role chain",
        &["x/deep.txt", "not found"],
    );
    // Top-level targets plus 31 delegated roles: 32 visited.
    assert_eq!(h.delegated_fetches(), &names[..31]);
    let fetched: Vec<&str> = names[..31].iter().map(String::as_str).collect();
    assert_eq!(h.meta(), h.served_meta(&fetched));
    assert!(tree(&h.tdir()).is_empty());
}

#[test]
fn b09_a_diamond_is_verified_against_the_current_delegator() {
    // role-a and role-b both delegate `release`, with different keys; `release` is signed
    // only with role-a's key for it, and lists a file under each team's paths.
    let h = Hostile::build(|h| {
        let (ka, kb, kra, krb) = (h.new_key(), h.new_key(), h.new_key(), h.new_key());
        h.delegate("targets", "role-a", &["team-a/*"], false, ka);
        h.delegate("targets", "role-b", &["team-b/*"], false, kb);
        h.delegate("role-a", "release", &["team-a/*"], false, kra);
        h.delegate("role-b", "release", &["team-b/*"], false, krb);
        h.add_target("release", "team-a/x.txt", b"a\n");
        h.add_target("release", "team-b/x.txt", b"b\n");
    });
    // One process, both lookups: the second reaches `release` through role-b, whose key for
    // it never signed, so it fails even though `release` is cached.
    let out = h.download(&["team-a/x.txt", "team-b/x.txt"]);
    rejected(&out, "diamond", &["release", "threshold"]);
    assert_eq!(
        tree(&h.tdir()).keys().collect::<Vec<_>>(),
        vec!["team-a/x.txt"]
    );
    // `release` as verified through role-a stays; nothing of the failed second lookup does.
    assert_eq!(
        h.delegated_fetches(),
        ["role-a", "release", "role-b", "release"]
    );
    assert_eq!(h.meta(), h.served_meta(&["role-a", "release", "role-b"]));
    // Alone, through role-b: refused and not stored.
    h.reset_client();
    rejected(
        &h.download(&["team-b/x.txt"]),
        "diamond via role-b",
        &["release", "threshold"],
    );
    assert_eq!(h.delegated_fetches(), ["role-b", "release"]);
    assert_eq!(
        h.meta(),
        h.served_meta(&["role-b"]),
        "release must not be stored"
    );
    assert!(tree(&h.tdir()).is_empty());
}

#[test]
fn b09_delegated_metadata_without_a_valid_signature_is_never_used() {
    let mut h = Hostile::build(|h| {
        let k = h.new_key();
        h.delegate("targets", "role-a", &["x/*"], false, k);
        h.add_target("role-a", "x/a.txt", b"a\n");
    });
    let genuine = h.served("1.role-a.json");
    let (ts, snap) = (h.latest("timestamp"), h.latest("snapshot"));
    let stranger = h.new_key();
    let unsigned = keep_signatures(&genuine, &[]);
    let foreign = {
        let (signed, _) = split(&genuine);
        envelope(&signed, vec![signature(&signed, h.signer(stranger))])
    };
    for (what, bytes) in [("unsigned", unsigned), ("signed by another key", foreign)] {
        // The snapshot (its key compromised) lists exactly these bytes, so only the role's
        // own signature check stands in the way.
        let b = bytes.clone();
        h.forge_snapshot(move |m| {
            m.insert("role-a.json".into(), meta_json(1, &b));
        });
        h.put("1.role-a.json", &bytes);
        h.reset_client();
        rejected(&h.download(&["x/a.txt"]), what, &["role-a", "threshold"]);
        assert_eq!(h.delegated_fetches(), ["role-a"], "{what}");
        assert_eq!(h.meta(), h.served_meta(&[]), "{what}: role-a stored");
        assert!(tree(&h.tdir()).is_empty(), "{what}");
    }
    h.put("1.role-a.json", &genuine);
    h.put("1.snapshot.json", &snap);
    h.put("timestamp.json", &ts);
    h.reset_client();
    succeeded(&h.download(&["x/a.txt"]), "genuine role-a");
    assert_eq!(h.meta()["role-a.json"], genuine);
}

// ---- B10 corrupt local state ---------------------------------------------------------------

#[test]
fn b10_corrupt_local_metadata_is_discarded_and_refetched() {
    let h = with_team();
    succeeded(&h.download(&["team/a.txt"]), "download");
    let good = h.meta();
    assert!(good.contains_key("team.json"));
    for (file, refetched) in [
        ("timestamp.json", "metadata/timestamp.json"),
        ("snapshot.json", "metadata/1.snapshot.json"),
        ("targets.json", "metadata/1.targets.json"),
        ("team.json", "metadata/1.team.json"),
    ] {
        for (how, bytes) in [
            ("truncated", good[file][..good[file].len() / 2].to_vec()),
            ("empty", Vec::new()),
        ] {
            let what = format!("{how} {file}");
            h.restore(&good);
            fs::write(h.mdir().join(file), &bytes).unwrap();
            h.server.clear_requests();
            succeeded(&h.download(&["team/a.txt"]), &what);
            assert_eq!(h.meta(), good, "{what}");
            assert!(
                h.requests().iter().any(|r| r == refetched),
                "{what}: {:?}",
                h.requests()
            );
        }
    }

    // A truncated trusted root is a hard error before any request.
    h.restore(&good);
    let root = &good["root.json"];
    fs::write(h.mdir().join("root.json"), &root[..root.len() / 2]).unwrap();
    let before = h.meta();
    h.server.clear_requests();
    rejected(&h.refresh(), "truncated root", &["root", "invalid JSON"]);
    assert!(h.requests().is_empty(), "{:?}", h.requests());
    assert_eq!(h.meta(), before);
}
