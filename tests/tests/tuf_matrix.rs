#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The TUF 1.0 interop matrix: three clients {python-tuf `Updater`, tough 0.24, our
//! `tuf-client`} x three repositories {written by python-tuf, written by our `tuf-repo` on
//! disk, served by our `notary-server` (snapshot and timestamp signed by the server)}, over
//! HTTP on loopback.
//!
//! Every client starts from the repository's `1.root.json` and keeps its own state (metadata
//! dir, tough datastore) from stage to stage, as a real client would:
//! stage 0 (one target), stage 1 (a target added), stage 2 (root key rotated, signed by old
//! and new), stage 3 (timestamp key rotated). After each stage every client must refresh and
//! fetch every target with the exact bytes. Then three tampered variants of stage 3, served
//! through a proxy, must be refused by every client: one byte of a target changed, a replayed
//! (older) timestamp, and an expired snapshot (validly signed, with a fresh timestamp for it).
//!
//! Target spellings: tough asks for `targets/<sha256>.<whole path>`, python-tuf and ours for
//! `targets/<dir>/<sha256>.<basename>`. Our server and `tuf-repo` serve both; python-tuf
//! writes only its own, so the python-tuf repository gets the tough copy added by the test
//! (as its hosting would).

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use chrono::{Duration, Utc};
use notary_rs_tests::notary_cli::{start_our_server_with, tuf_client_bin, tuf_repo_bin};
use notary_rs_tests::static_server::{Reply, StaticServer};
use notary_rs_tests::tuf_repos::copy_dir;
use notary_rs_tests::tuf_server::TufCollection;
use notary_rs_tests::{python, python_script};
use notary_server::storage::{MetadataStore, SqliteStore};
use notary_server::vault::Vault;
use tough::{ExpirationEnforcement, TransportErrorKind, TransportStream};
use tough::{IntoVec, RepositoryLoader, TargetName, Transport, TransportError};
use tuf_core::crypto::{Signer, SoftwareSigner};
use tuf_core::editor::{meta_file, sign_role};
use tuf_core::envelope::Signed;
use tuf_core::json::JsonLimits;
use tuf_core::role::{Root, Snapshot, Timestamp, TopRole};
use tuf_core::Dialect;
use url::Url;

const STAGES: [&str; 5] = [
    "stage 0: one target",
    "stage 1: target added",
    "stage 2: root key rotated",
    "stage 3: timestamp key rotated",
    "stage 4: re-signed (the stage-3 timestamp is now a replay)",
];
const A: &[u8] = b"target a\n";
const B: &[u8] = b"target b, added in stage 1\n";

// --- the three clients --------------------------------------------------------------------

/// One client's persistent state.
struct Clients {
    dir: PathBuf,
    /// The newest root tough verified: a tough application keeps it and passes it to the next
    /// load (tough's datastore does not hold the root; bootstrapping every load from
    /// `1.root.json` would walk a timestamp key rotation again on every run, and tough then
    /// drops its stored timestamp, losing the replay check).
    tough_root: std::cell::RefCell<Vec<u8>>,
    rt: tokio::runtime::Runtime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Client {
    Python,
    Tough,
    Ours,
}

const CLIENTS: [Client; 3] = [Client::Python, Client::Tough, Client::Ours];

/// Fetches over HTTP with reqwest (tough's own HTTP transport is behind a feature that pulls
/// another reqwest major version).
#[derive(Debug, Clone)]
struct HttpTransport(reqwest::Client);

#[tough::async_trait]
impl Transport for HttpTransport {
    async fn fetch(&self, url: Url) -> Result<TransportStream, TransportError> {
        let other = |e: reqwest::Error| {
            TransportError::new_with_cause(TransportErrorKind::Other, url.clone(), e)
        };
        let resp = self.0.get(url.clone()).send().await.map_err(other)?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND {
            return Err(TransportError::new(TransportErrorKind::FileNotFound, &url));
        }
        let resp = resp.error_for_status().map_err(other)?;
        let data = resp.bytes().await.map_err(other)?;
        Ok(Box::pin(futures::stream::iter([Ok(data)])))
    }
}

impl Clients {
    fn new(dir: &Path, root: Vec<u8>) -> Self {
        for c in ["python", "ours", "tough"] {
            fs::create_dir_all(dir.join(c).join("metadata")).unwrap();
        }
        fs::create_dir_all(dir.join("tough/datastore")).unwrap();
        fs::write(dir.join("python/metadata/root.json"), &root).unwrap();
        fs::write(dir.join("ours/metadata/root.json"), &root).unwrap();
        Self {
            dir: dir.to_owned(),
            tough_root: std::cell::RefCell::new(root),
            rt: tokio::runtime::Runtime::new().unwrap(),
        }
    }

    fn metadata_dir(&self, c: Client) -> PathBuf {
        match c {
            Client::Python => self.dir.join("python/metadata"),
            Client::Ours => self.dir.join("ours/metadata"),
            Client::Tough => self.dir.join("tough/datastore"),
        }
    }

    /// Refreshes and fetches `targets` into a fresh directory; the fetched bytes by path, or
    /// the client's error message.
    fn fetch(
        &self,
        c: Client,
        murl: &str,
        turl: &str,
        targets: &[&str],
    ) -> Result<BTreeMap<String, Vec<u8>>, String> {
        let tdir = tempfile::tempdir_in(&self.dir).unwrap();
        match c {
            Client::Python => {
                let mdir = self.metadata_dir(c);
                let mut args: Vec<&OsStr> = vec![
                    python_script("tuf_stages.py").into_os_string().leak(),
                    OsStr::new("client"),
                    OsStr::new("--metadata-dir"),
                    mdir.as_os_str(),
                    OsStr::new("--metadata-url"),
                    OsStr::new(murl),
                    OsStr::new("--targets-url"),
                    OsStr::new(turl),
                    OsStr::new("--target-dir"),
                    tdir.path().as_os_str(),
                ];
                args.extend(targets.iter().map(OsStr::new));
                let out = Command::new(python()).args(&args).output().unwrap();
                if !out.status.success() {
                    return Err(String::from_utf8_lossy(&out.stderr).into_owned());
                }
                // python-tuf names a downloaded target by its percent-encoded path.
                Ok(targets
                    .iter()
                    .map(|t| {
                        let f = tdir.path().join(t.replace('/', "%2F"));
                        (t.to_string(), fs::read(&f).unwrap())
                    })
                    .collect())
            }
            Client::Ours => {
                let mdir = self.metadata_dir(c);
                let mut cmd = Command::new(tuf_client_bin());
                cmd.args(["--metadata-url", murl, "--metadata-dir"])
                    .arg(&mdir);
                for t in targets {
                    cmd.args(["--target-name", t]);
                }
                cmd.arg("--target-dir").arg(tdir.path()).args([
                    "--target-base-url",
                    turl,
                    "download",
                ]);
                let out = cmd.output().unwrap();
                match out.status.code() {
                    Some(0) => {}
                    Some(1) => return Err(String::from_utf8_lossy(&out.stderr).into_owned()),
                    other => panic!(
                        "tuf-client must exit 0 or 1, got {other:?}: {}",
                        String::from_utf8_lossy(&out.stderr)
                    ),
                }
                Ok(targets
                    .iter()
                    .map(|t| (t.to_string(), fs::read(tdir.path().join(t)).unwrap()))
                    .collect())
            }
            Client::Tough => self.rt.block_on(async {
                let root = self.tough_root.borrow().clone();
                let loader = RepositoryLoader::new(
                    &root,
                    Url::parse(murl).unwrap(),
                    Url::parse(turl).unwrap(),
                )
                .transport(HttpTransport(reqwest::Client::new()))
                .expiration_enforcement(ExpirationEnforcement::Safe)
                .datastore(self.metadata_dir(c));
                let repo = loader.load().await.map_err(|e| format!("tough: {e}"))?;
                let mut got = BTreeMap::new();
                for t in targets {
                    let name = TargetName::new(*t).unwrap();
                    let stream = repo
                        .read_target(&name)
                        .await
                        .map_err(|e| format!("tough: {e}"))?
                        .ok_or_else(|| format!("tough: target {t} not found"))?;
                    let data = stream.into_vec().await.map_err(|e| format!("tough: {e}"))?;
                    got.insert(t.to_string(), data);
                }
                let v = repo.root().signed.version;
                let url = format!("{murl}{v}.root.json");
                let newest = reqwest::get(&url).await.and_then(|r| r.error_for_status());
                let newest = newest.unwrap().bytes().await.unwrap();
                *self.tough_root.borrow_mut() = newest.to_vec();
                Ok(got)
            }),
        }
    }

    /// Every client must fetch `expected` exactly.
    fn all_accept(&self, what: &str, murl: &str, turl: &str, expected: &[(&str, &[u8])]) {
        let names: Vec<&str> = expected.iter().map(|(n, _)| *n).collect();
        for c in CLIENTS {
            let got = self
                .fetch(c, murl, turl, &names)
                .unwrap_or_else(|e| panic!("{what}: {c:?} refused: {e}"));
            for (n, data) in expected {
                assert_eq!(got[*n], *data, "{what}: {c:?}: bytes of {n}");
            }
        }
    }

    /// Every client must refuse; our client's metadata dir stays byte-identical except for
    /// the files in `may_change` (the spec persists a valid timestamp before it rejects the
    /// snapshot it names).
    fn all_refuse(
        &self,
        what: &str,
        (murl, turl): (&str, &str),
        targets: &[&str],
        reason: &[&str],
        may_change: &[&str],
    ) {
        for c in CLIENTS {
            let before = tree(&self.metadata_dir(Client::Ours));
            let err = match self.fetch(c, murl, turl, targets) {
                Ok(_) => panic!("{what}: {c:?} accepted it"),
                Err(e) => e.to_lowercase(),
            };
            assert!(
                reason.iter().any(|r| err.contains(r)),
                "{what}: {c:?} refused for another reason than {reason:?}: {err}"
            );
            if c == Client::Ours {
                let after = tree(&self.metadata_dir(Client::Ours));
                let keys: Vec<&String> = before.keys().chain(after.keys()).collect();
                let changed: Vec<&String> = keys
                    .into_iter()
                    .filter(|k| before.get(*k) != after.get(*k))
                    .filter(|k| !may_change.contains(&k.as_str()))
                    .collect();
                assert!(
                    changed.is_empty(),
                    "{what}: our metadata dir changed: {changed:?}"
                );
            }
        }
    }
}

fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).unwrap_or_default(),
            )
        })
        .collect()
}

// --- tampering proxy ----------------------------------------------------------------------

/// A proxy in front of `upstream` (a base URL ending in `/`) serving `overrides` instead of
/// the upstream file, and corrupting targets when `corrupt_targets`.
fn proxy(
    dir: &Path,
    upstream: &str,
    overrides: BTreeMap<String, Vec<u8>>,
    corrupt_targets: bool,
) -> StaticServer {
    let empty = dir.join("proxy-root");
    fs::create_dir_all(&empty).unwrap();
    let server = StaticServer::start(&empty).unwrap();
    let upstream = upstream.to_owned();
    let client = reqwest::blocking::Client::new();
    server.set_handler(Arc::new(move |path: &str| {
        if let Some(b) = overrides.get(path) {
            return Some(Reply::Body(b.clone()));
        }
        let enc: String = path
            .split('/')
            .map(tuf_core::name::percent_encode_segment)
            .collect::<Vec<_>>()
            .join("/");
        let resp = client.get(format!("{upstream}{enc}")).send().ok()?;
        if !resp.status().is_success() {
            return Some(Reply::Status(resp.status().as_u16()));
        }
        let mut body = resp.bytes().ok()?.to_vec();
        if corrupt_targets && path.starts_with("targets/") {
            if let Some(b) = body.first_mut() {
                *b ^= 0x01;
            }
        }
        Some(Reply::Body(body))
    }));
    server
}

fn url(server: &StaticServer, sub: &str) -> String {
    server.url(sub)
}

// --- expired snapshot, signed with the real keys ------------------------------------------

const LIMITS: JsonLimits = JsonLimits {
    max_bytes: 64 << 20,
    max_depth: 64,
};

/// A new snapshot (next version, expired yesterday) and a timestamp for it, signed with the
/// repository's snapshot and timestamp keys: `(file name, bytes)` overrides.
fn expired_snapshot(
    root: &[u8],
    timestamp: &[u8],
    snapshot: &[u8],
    signers: &[&dyn Signer],
) -> BTreeMap<String, Vec<u8>> {
    let d = Dialect::TufSpec;
    let root: Root = Signed::<Root>::parse(d, "root", root, &LIMITS)
        .unwrap()
        .peek_untrusted()
        .clone();
    let mut snap: Snapshot = Signed::<Snapshot>::parse(d, "snapshot", snapshot, &LIMITS)
        .unwrap()
        .peek_untrusted()
        .clone();
    let mut ts: Timestamp = Signed::<Timestamp>::parse(d, "timestamp", timestamp, &LIMITS)
        .unwrap()
        .peek_untrusted()
        .clone();
    snap.header.version += 1;
    snap.header.expires = Utc::now() - Duration::days(1);
    let auth = |r: TopRole| [(root.keys.clone(), root.role(r).clone())];
    let snap_bytes = sign_role(d, "snapshot", &snap, signers, &auth(TopRole::Snapshot)).unwrap();
    ts.header.version += 1;
    ts.snapshot = meta_file(d, snap.header.version, &snap_bytes);
    let ts_bytes = sign_role(d, "timestamp", &ts, signers, &auth(TopRole::Timestamp)).unwrap();
    BTreeMap::from([
        (
            format!("metadata/{}.snapshot.json", snap.header.version),
            snap_bytes,
        ),
        ("metadata/timestamp.json".to_owned(), ts_bytes),
    ])
}

// --- the matrix ---------------------------------------------------------------------------

/// How one repository evolves and is served.
trait Source {
    fn name(&self) -> &'static str;
    /// `1.root.json` of stage 0.
    fn first_root(&self) -> Vec<u8>;
    /// Makes stage `n` current; returns (metadata URL, targets URL).
    fn stage(&mut self, n: usize) -> (String, String);
    /// The upstream base URL (`metadata/` and `targets/` below it) of the current stage.
    fn upstream(&self) -> String;
    /// Current `root.json`, `timestamp.json` and the snapshot it names.
    fn current(&self, file: &str) -> Vec<u8>;
    /// Overrides serving an expired snapshot (and a fresh timestamp for it) on top of stage 3.
    fn expired_snapshot(&mut self) -> BTreeMap<String, Vec<u8>>;
}

fn current_snapshot_name(ts: &[u8]) -> String {
    let ts = Signed::<Timestamp>::parse(Dialect::TufSpec, "timestamp", ts, &LIMITS).unwrap();
    format!(
        "{}.snapshot.json",
        ts.peek_untrusted().snapshot.version.unwrap()
    )
}

fn run_matrix(work: &Path, mut source: Box<dyn Source>) {
    let name = source.name();
    let mut urls = Some(source.stage(0));
    let clients = Clients::new(&work.join("clients"), source.first_root());
    let mut old_timestamp = None;
    for (n, what) in STAGES.iter().enumerate() {
        let (murl, turl) = urls.take().unwrap_or_else(|| source.stage(n));
        let expected: Vec<(&str, &[u8])> = if n == 0 {
            vec![("a.txt", A)]
        } else {
            vec![("a.txt", A), ("dir/b.txt", B)]
        };
        clients.all_accept(&format!("{name}, {what}"), &murl, &turl, &expected);
        if n == 3 {
            old_timestamp = Some(source.current("timestamp.json"));
        }
    }
    let up = source.upstream();
    let targets = ["a.txt", "dir/b.txt"];

    let p = proxy(work, &up, BTreeMap::new(), true);
    clients.all_refuse(
        &format!("{name}, one byte of a target changed"),
        (&url(&p, "metadata/"), &url(&p, "targets/")),
        &targets,
        &["hash", "digest", "length", "sha256", "mismatch"],
        &[],
    );
    drop(p);

    let replay = BTreeMap::from([("metadata/timestamp.json".to_owned(), old_timestamp.unwrap())]);
    let p = proxy(work, &up, replay, false);
    clients.all_refuse(
        &format!("{name}, replayed timestamp"),
        (&url(&p, "metadata/"), &url(&p, "targets/")),
        &targets,
        &["version", "rollback", "older"],
        &[],
    );
    drop(p);

    let p = proxy(work, &up, source.expired_snapshot(), false);
    clients.all_refuse(
        &format!("{name}, expired snapshot"),
        (&url(&p, "metadata/"), &url(&p, "targets/")),
        &targets,
        &["expired"],
        &["timestamp.json"],
    );
}

// --- source 1: python-tuf -----------------------------------------------------------------

/// Serves copies of a directory per stage from one static server.
struct DiskStages {
    name: &'static str,
    stages: Vec<PathBuf>,
    live: PathBuf,
    server: StaticServer,
    expired: BTreeMap<String, Vec<u8>>,
}

impl DiskStages {
    fn new(name: &'static str, work: &Path, stages: Vec<PathBuf>) -> Self {
        let live = work.join("live");
        fs::create_dir_all(&live).unwrap();
        let server = StaticServer::start(&live).unwrap();
        Self {
            name,
            stages,
            live,
            server,
            expired: BTreeMap::new(),
        }
    }
}

impl Source for DiskStages {
    fn name(&self) -> &'static str {
        self.name
    }
    fn first_root(&self) -> Vec<u8> {
        fs::read(self.stages[0].join("metadata/1.root.json")).unwrap()
    }
    fn stage(&mut self, n: usize) -> (String, String) {
        fs::remove_dir_all(&self.live).unwrap();
        copy_dir(&self.stages[n], &self.live);
        (
            url(&self.server, "metadata/"),
            url(&self.server, "targets/"),
        )
    }
    fn upstream(&self) -> String {
        url(&self.server, "")
    }
    fn current(&self, file: &str) -> Vec<u8> {
        fs::read(self.live.join("metadata").join(file)).unwrap()
    }
    fn expired_snapshot(&mut self) -> BTreeMap<String, Vec<u8>> {
        self.expired.clone()
    }
}

#[test]
fn python_tuf_repository_x_three_clients() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("python");
    let status = Command::new(python())
        .arg(python_script("tuf_stages.py"))
        .arg("repo")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success(), "tuf_stages.py repo failed");
    let listed: BTreeMap<String, String> =
        serde_json::from_slice(&fs::read(out.join("targets.json")).unwrap()).unwrap();
    let stages: Vec<PathBuf> = (0..5).map(|n| out.join(format!("stage-{n}"))).collect();
    // The hosting adds tough's spelling of nested targets (python-tuf writes its own only).
    for stage in &stages {
        for (path, sha) in &listed {
            let (dir, base) = match path.rsplit_once('/') {
                Some(x) => x,
                None => continue,
            };
            let ours = stage
                .join("targets")
                .join(dir)
                .join(format!("{sha}.{base}"));
            if ours.exists() {
                let tough = stage.join("targets").join(format!("{sha}.{path}"));
                fs::create_dir_all(tough.parent().unwrap()).unwrap();
                fs::copy(&ours, &tough).unwrap();
            }
        }
    }
    assert_eq!(fs::read(out.join("stage-0/targets/a.txt")).unwrap(), A);
    assert_eq!(fs::read(out.join("stage-1/targets/dir/b.txt")).unwrap(), B);
    let mut src = DiskStages::new("python-tuf repository", work.path(), stages);
    let ex = out.join("expired-snapshot/metadata");
    let ts = fs::read(ex.join("timestamp.json")).unwrap();
    let snap = current_snapshot_name(&ts);
    src.expired = BTreeMap::from([
        ("metadata/timestamp.json".to_owned(), ts),
        (
            format!("metadata/{snap}"),
            fs::read(ex.join(&snap)).unwrap(),
        ),
    ]);
    run_matrix(work.path(), Box::new(src));
}

// --- source 2: our tuf-repo on disk -------------------------------------------------------

fn tuf_repo(args: &[&OsStr]) {
    let out = Command::new(tuf_repo_bin()).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "tuf-repo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn our_tuf_repo_on_disk_x_three_clients() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let (repo, keys) = (w.join("repo"), w.join("keys"));
    fs::write(w.join("a.txt"), A).unwrap();
    fs::write(w.join("b.txt"), B).unwrap();
    let os = |p: &Path| p.as_os_str().to_owned();
    let (r, k) = (os(&repo), os(&keys));
    let kf = OsStr::new("--keys");
    let mut stages = Vec::new();
    let mut save = |n: usize| {
        let dest = w.join(format!("stage-{n}"));
        copy_dir(&repo, &dest);
        stages.push(dest);
    };
    tuf_repo(&[
        OsStr::new("init"),
        &r,
        kf,
        &k,
        OsStr::new("--generate-keys"),
    ]);
    tuf_repo(&[
        OsStr::new("add"),
        &r,
        kf,
        &k,
        OsStr::new("a.txt"),
        &os(&w.join("a.txt")),
    ]);
    save(0);
    tuf_repo(&[
        OsStr::new("add"),
        &r,
        kf,
        &k,
        OsStr::new("dir/b.txt"),
        &os(&w.join("b.txt")),
    ]);
    save(1);
    for (n, role) in [(2, "root"), (3, "timestamp")] {
        let new_key = w.join(format!("new-{role}.pem"));
        tuf_repo(&[OsStr::new("gen-key"), &os(&new_key)]);
        tuf_repo(&[
            OsStr::new("rotate"),
            &r,
            kf,
            &k,
            OsStr::new("--role"),
            OsStr::new(role),
            OsStr::new("--new-key"),
            &os(&new_key),
        ]);
        save(n);
    }
    tuf_repo(&[
        OsStr::new("expire"),
        &r,
        kf,
        &k,
        OsStr::new("--role"),
        OsStr::new("timestamp"),
        OsStr::new("--days"),
        OsStr::new("30"),
    ]);
    save(4);
    let signers: Vec<SoftwareSigner> = ["snapshot.pem", "timestamp.pem"]
        .iter()
        .map(|f| notary_client::tuf_export::load_key(&keys.join(f)).unwrap())
        .collect();
    let md = repo.join("metadata");
    let ts = fs::read(md.join("timestamp.json")).unwrap();
    let snap = fs::read(md.join(current_snapshot_name(&ts))).unwrap();
    let refs: Vec<&dyn Signer> = signers.iter().map(|s| s as &dyn Signer).collect();
    let expired = expired_snapshot(&fs::read(md.join("root.json")).unwrap(), &ts, &snap, &refs);
    let mut src = DiskStages::new("our tuf-repo on disk", w, stages);
    src.expired = expired;
    run_matrix(w, Box::new(src));
}

// --- source 3: our notary-server ----------------------------------------------------------

const GUN: &str = "example.com/tuf/app";

struct ServerSource {
    server: notary_rs_tests::notary_cli::ServerUnderTest,
    coll: TufCollection,
    work: PathBuf,
    rt: tokio::runtime::Runtime,
}

impl ServerSource {
    fn new(work: &Path) -> Self {
        let server = start_our_server_with(None, &["--tuf-gun", "example.com/tuf/*"]).unwrap();
        let coll = TufCollection::new(&server.url, GUN);
        fs::write(work.join("a.txt"), A).unwrap();
        fs::write(work.join("b.txt"), B).unwrap();
        Self {
            server,
            coll,
            work: work.to_owned(),
            rt: tokio::runtime::Runtime::new().unwrap(),
        }
    }

    /// `tuf-repo CMD <collection URL> --keys KEYDIR ARGS...`.
    fn tuf_repo(&self, cmd: &str, args: &[&str]) {
        let url = format!("{}/v2/{GUN}/_tuf/", self.server.url);
        let mut all: Vec<&OsStr> = vec![OsStr::new(cmd), OsStr::new(&url), OsStr::new("--keys")];
        let keys = self.work.join("keys");
        all.push(keys.as_os_str());
        all.extend(args.iter().map(OsStr::new));
        let out = Command::new(tuf_repo_bin()).args(&all).output().unwrap();
        assert!(
            out.status.success(),
            "tuf-repo {all:?}: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.server.log()
        );
    }

    /// The server's held private keys of `role` (the test knows the key passphrase).
    fn held_keys(&self, role: &str) -> Vec<SoftwareSigner> {
        let db = self.server.dir().join("data/notary-server.db");
        self.rt.block_on(async {
            let store = SqliteStore::open(&db).await.unwrap();
            let vault = Vault::open(&store, "test-passphrase").await.unwrap();
            let keys = store.keys(GUN, role).await.unwrap();
            let out = keys
                .iter()
                .map(|k| {
                    let seed: [u8; 32] = vault
                        .unseal(&k.sealed_private)
                        .unwrap()
                        .as_slice()
                        .try_into()
                        .unwrap();
                    SoftwareSigner::ed25519_from_seed(seed)
                })
                .collect();
            store.close().await;
            out
        })
    }
}

impl Source for ServerSource {
    fn name(&self) -> &'static str {
        "our notary-server (published with tuf-repo)"
    }
    fn first_root(&self) -> Vec<u8> {
        fs::read(self.work.join("keys/1.root.json")).unwrap()
    }
    fn stage(&mut self, n: usize) -> (String, String) {
        let file = |f: &str| self.work.join(f).to_str().unwrap().to_owned();
        match n {
            0 => {
                self.tuf_repo("init", &["--generate-keys"]);
                self.tuf_repo("add", &["a.txt", &file("a.txt")]);
            }
            1 => self.tuf_repo("add", &["dir/b.txt", &file("b.txt")]),
            2 => {
                let new_root = file("new-root.pem");
                let out = Command::new(tuf_repo_bin())
                    .args(["gen-key", &new_root])
                    .output()
                    .unwrap();
                assert!(out.status.success());
                self.tuf_repo("rotate", &["--role", "root", "--new-key", &new_root]);
            }
            3 => self.tuf_repo("rotate", &["--role", "timestamp", "--server-key"]),
            4 => self.tuf_repo("expire", &["--role", "targets", "--days", "90"]),
            _ => unreachable!(),
        }
        (self.coll.metadata_url(), self.coll.targets_url())
    }
    fn upstream(&self) -> String {
        self.coll
            .metadata_url()
            .trim_end_matches("metadata/")
            .to_owned()
    }
    fn current(&self, file: &str) -> Vec<u8> {
        let (status, body) = self.coll.get(&format!("metadata/{file}")).unwrap();
        assert_eq!(status, 200, "{file}");
        body
    }
    fn expired_snapshot(&mut self) -> BTreeMap<String, Vec<u8>> {
        let mut held = self.held_keys("snapshot");
        held.extend(self.held_keys("timestamp"));
        let refs: Vec<&dyn Signer> = held.iter().map(|s| s as &dyn Signer).collect();
        let ts = self.current("timestamp.json");
        let snap = self.current(&current_snapshot_name(&ts));
        expired_snapshot(&self.current("root.json"), &ts, &snap, &refs)
    }
}

#[test]
fn our_server_tuf_collection_x_three_clients() {
    let work = tempfile::tempdir().unwrap();
    let src = ServerSource::new(work.path());
    run_matrix(work.path(), Box::new(src));
}
