//! `Remote` + `update` against our real notary-server (in-process, on a real socket) and
//! against hostile servers (a tiny HTTP server that serves chosen bytes per path).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use notary_client::remote::{Remote, RemoteError, RemoteOptions};
use notary_client::update::{
    update, MemoryCache, MetadataCache, UpdateFailure, UpdateOptions, UpdateOutcome,
};
use sha2::{Digest as _, Sha256};
use tuf_core::crypto::{Key, PublicKey, Signer, SoftwareSigner};
use tuf_core::editor::{notary_root_key, InitialKeys, RepoEditor, SignPlan, SignedFile};
use tuf_core::error::UpdateError;
use tuf_core::name::{Gun, RoleName};
use tuf_core::role::{DelegatedRole, PathSpec, RoleKeys, TargetEntry, Threshold, TopRole};
use tuf_core::Dialect;

const GUN: &str = "example.com/app";

fn gun() -> Gun {
    Gun::parse(GUN).unwrap()
}

// ---------------------------------------------------------------------------------------
// Repository fixture (tuf-core's editor, Notary dialect)

struct Publisher {
    root: SoftwareSigner,
    targets: SoftwareSigner,
    snapshot: SoftwareSigner,
    releases: SoftwareSigner,
    /// Own timestamp key, for hostile servers that serve a client-made timestamp.
    timestamp: Option<SoftwareSigner>,
    extra_root: Vec<SoftwareSigner>,
    editor: RepoEditor,
}

impl Publisher {
    /// Root+targets with two targets and a delegation `targets/releases` with one target.
    /// `server_ts`: the server's timestamp key (real server) or `None` (we sign timestamps).
    fn new(server_ts: Option<PublicKey>) -> Self {
        Self::with_root(server_ts, None)
    }

    /// [`Self::new`] with a given root key and its certificate (else a fresh self-signed one).
    fn with_root(server_ts: Option<PublicKey>, given_root: Option<(SoftwareSigner, Key)>) -> Self {
        let now = Utc::now();
        let (root, root_key) = match given_root {
            Some(pair) => pair,
            None => {
                let s = SoftwareSigner::generate_p256();
                let k = notary_root_key(&s, &gun(), now, Duration::days(3650)).unwrap();
                (s, k)
            }
        };
        let targets = SoftwareSigner::generate_p256();
        let snapshot = SoftwareSigner::generate_p256();
        let releases = SoftwareSigner::generate_p256();
        let (timestamp, ts_key) = match server_ts {
            Some(k) => (None, k),
            None => {
                let s = SoftwareSigner::generate_ed25519();
                let k = s.public_key().clone();
                (Some(s), k)
            }
        };
        let key = |pk: &PublicKey| Key::from_public_key(Dialect::Notary, pk.clone());
        let keys = InitialKeys {
            root: vec![root_key],
            targets: vec![key(targets.public_key())],
            snapshot: vec![key(snapshot.public_key())],
            timestamp: vec![key(&ts_key)],
        };
        let mut editor = RepoEditor::create(Dialect::Notary, keys, now);
        editor
            .add_target("targets", "v1", TargetEntry::for_data(b"one"))
            .unwrap();
        editor
            .add_target("targets", "v2", TargetEntry::for_data(b"two"))
            .unwrap();
        let rk = key(releases.public_key());
        editor
            .add_delegation(
                "targets",
                DelegatedRole {
                    name: RoleName::delegated(Dialect::Notary, "targets/releases").unwrap(),
                    keys: RoleKeys {
                        keyids: vec![rk.key_id()],
                        threshold: Threshold::ONE,
                    },
                    terminating: false,
                    paths: PathSpec::Patterns(vec!["".into()]),
                },
                vec![rk],
            )
            .unwrap();
        editor
            .add_target("targets/releases", "rel/1.0", TargetEntry::for_data(b"rel"))
            .unwrap();
        Self {
            root,
            targets,
            snapshot,
            releases,
            timestamp,
            extra_root: Vec::new(),
            editor,
        }
    }

    fn sign(&mut self) -> Vec<SignedFile> {
        let mut signers: Vec<&dyn Signer> =
            vec![&self.root, &self.targets, &self.snapshot, &self.releases];
        for s in &self.extra_root {
            signers.push(s);
        }
        if let Some(t) = &self.timestamp {
            signers.push(t);
        }
        let plan = SignPlan {
            snapshot: true,
            timestamp: self.timestamp.is_some(),
        };
        self.editor.sign(&signers, Utc::now(), plan).unwrap()
    }

    /// Rotates the root key; the next signing is signed by the old and the new key.
    fn rotate_root(&mut self) {
        let new = SoftwareSigner::generate_p256();
        let cert = notary_root_key(&new, &gun(), Utc::now(), Duration::days(3650)).unwrap();
        self.editor
            .set_role_keys(TopRole::Root, vec![cert], Threshold::ONE)
            .unwrap();
        self.extra_root.push(new);
    }
}

fn upload(files: &[SignedFile]) -> Vec<(String, Vec<u8>)> {
    files
        .iter()
        .map(|f| (f.role.clone(), f.bytes.clone()))
        .collect()
}

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

fn listed(o: &UpdateOutcome) -> Vec<String> {
    o.set
        .list_targets()
        .iter()
        .map(|t| format!("{}@{}", t.path, t.role))
        .collect()
}

fn opts() -> UpdateOptions {
    UpdateOptions::default()
}

fn quick_remote(url: &str) -> Remote {
    Remote::new(
        url,
        RemoteOptions {
            timeout: StdDuration::from_secs(2),
            connect_timeout: StdDuration::from_secs(2),
            ..RemoteOptions::default()
        },
    )
    .unwrap()
}

/// A cache in a directory: one file per role (`/` encoded), as the CLI's trust dir will.
struct DirCache(PathBuf);

impl DirCache {
    fn path(&self, role: &str) -> PathBuf {
        self.0.join(format!("{}.json", role.replace('/', "%2F")))
    }
}

impl MetadataCache for DirCache {
    fn read(&self, role: &str) -> Option<Vec<u8>> {
        std::fs::read(self.path(role)).ok()
    }
    fn write(&mut self, role: &str, bytes: &[u8]) -> Result<(), std::io::Error> {
        let tmp = self.0.join(".tmp");
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(tmp, self.path(role))
    }
}

// ---------------------------------------------------------------------------------------
// Our real notary-server binary (`cargo build -p notary-server` first), on a free port

struct RealServer {
    url: String,
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

impl Drop for RealServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn server_binary() -> PathBuf {
    // target/<profile>/deps/remote_update-… → target/<profile>/notary-server
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .and_then(|d| d.parent())
        .unwrap()
        .join("notary-server");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p notary-server` first",
        bin.display()
    );
    bin
}

fn real_server() -> RealServer {
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new(server_binary())
        .args(["--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir.path())
        .env("NOTARY_SERVER_KEY_PASSPHRASE", "test-passphrase")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let server = RealServer {
        url: format!("http://127.0.0.1:{port}"),
        child,
        _dir: dir,
    };
    let probe = quick_remote(&server.url);
    let deadline = Instant::now() + StdDuration::from_secs(20);
    while probe.ping().is_err() {
        assert!(Instant::now() < deadline, "notary-server did not start");
        std::thread::sleep(StdDuration::from_millis(50));
    }
    server
}

fn server_timestamp_key(remote: &Remote) -> PublicKey {
    let v = remote.get_key(GUN, "timestamp").unwrap();
    assert_eq!(v["keytype"], "ed25519");
    let raw = base64::engine::general_purpose::STANDARD
        .decode(v["keyval"]["public"].as_str().unwrap())
        .unwrap();
    PublicKey::ed25519_from_bytes(&raw).unwrap()
}

fn tuf_path(file: &str) -> String {
    format!("GET /v2/{GUN}/_trust/tuf/{file}")
}

#[test]
fn real_server_pull_caches_exact_bytes_and_updates_incrementally() {
    let s = real_server();
    let publisher_remote = Remote::new(&s.url, RemoteOptions::default()).unwrap();
    publisher_remote.ping().unwrap();
    let mut p = Publisher::new(Some(server_timestamp_key(&publisher_remote)));
    publisher_remote.publish(GUN, &upload(&p.sign())).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let mut cache = DirCache(dir.path().to_owned());
    let remote = Remote::new(&s.url, RemoteOptions::default()).unwrap();
    let out = update(&remote, &mut cache, &gun(), Utc::now(), &opts()).unwrap();
    assert!(!out.offline);
    assert_eq!(
        listed(&out),
        ["rel/1.0@targets/releases", "v1@targets", "v2@targets"]
    );
    let log = remote.request_log();
    assert_eq!(log[0], "GET /v2/");
    assert_eq!(log[1], tuf_path("root.json"));
    assert_eq!(log[2], tuf_path("timestamp.json"));
    assert!(log[3].starts_with(&tuf_path("snapshot.")), "{log:?}");
    assert!(log[4].starts_with(&tuf_path("targets.")), "{log:?}");
    assert!(
        log[5].starts_with(&tuf_path("targets/releases.")),
        "{log:?}"
    );
    assert_eq!(log.len(), 6, "{log:?}");
    // The cache holds exactly what the server serves.
    for role in [
        "root",
        "timestamp",
        "snapshot",
        "targets",
        "targets/releases",
    ] {
        let served = publisher_remote.get_meta(GUN, role, 1 << 20).unwrap();
        assert_eq!(cache.read(role).unwrap(), served, "{role}");
    }

    // Warm cache: only the timestamp is downloaded.
    remote.clear_request_log();
    let out = update(&remote, &mut cache, &gun(), Utc::now(), &opts()).unwrap();
    assert_eq!(
        remote.request_log(),
        ["GET /v2/".to_owned(), tuf_path("timestamp.json")]
    );
    assert!(out.written.is_empty());
    assert_eq!(out.set.list_targets().len(), 3);

    // A new target: timestamp, snapshot and targets again; the delegation and root are cached.
    p.editor
        .add_target("targets", "v3", TargetEntry::for_data(b"three"))
        .unwrap();
    publisher_remote.publish(GUN, &upload(&p.sign())).unwrap();
    remote.clear_request_log();
    let out = update(&remote, &mut cache, &gun(), Utc::now(), &opts()).unwrap();
    assert!(listed(&out).contains(&"v3@targets".to_owned()));
    let log = remote.request_log();
    assert_eq!(log.len(), 4, "{log:?}");
    assert!(!log
        .iter()
        .any(|l| l.contains("root") || l.contains("releases")));
    assert_eq!(out.written, ["targets", "snapshot", "timestamp"]);
}

#[test]
fn real_server_root_rotation_walks_versioned_roots() {
    let s = real_server();
    let pub_remote = Remote::new(&s.url, RemoteOptions::default()).unwrap();
    let mut p = Publisher::new(Some(server_timestamp_key(&pub_remote)));
    pub_remote.publish(GUN, &upload(&p.sign())).unwrap();

    let remote = Remote::new(&s.url, RemoteOptions::default()).unwrap();
    let mut cache = MemoryCache::default();
    update(&remote, &mut cache, &gun(), Utc::now(), &opts()).unwrap();
    let old_root = cache.read("root").unwrap();

    p.rotate_root();
    let files = p.sign();
    assert!(files.iter().any(|f| f.role == "root" && f.version == 2));
    pub_remote.publish(GUN, &upload(&files)).unwrap();

    remote.clear_request_log();
    let out = update(&remote, &mut cache, &gun(), Utc::now(), &opts()).unwrap();
    assert_eq!(out.set.root().header.version, 2);
    let log = remote.request_log();
    assert!(log.contains(&tuf_path("2.root.json")), "{log:?}");
    assert!(log.contains(&tuf_path("3.root.json")), "{log:?}");
    assert_ne!(cache.read("root").unwrap(), old_root);
    assert_eq!(
        cache.read("root").unwrap(),
        pub_remote.get_meta(GUN, "root", 1 << 20).unwrap()
    );
    // Next time: no root requests.
    remote.clear_request_log();
    update(&remote, &mut cache, &gun(), Utc::now(), &opts()).unwrap();
    assert_eq!(remote.request_log().len(), 2);
}

#[test]
fn real_server_api_errors_keys_and_delete() {
    let s = real_server();
    let remote = Remote::new(&s.url, RemoteOptions::default()).unwrap();
    let mut p = Publisher::new(Some(server_timestamp_key(&remote)));
    let first = p.sign();
    remote.publish(GUN, &upload(&first)).unwrap();
    // Replay: 400 VERSION with the errcode parsed.
    match remote.publish(GUN, &upload(&first)) {
        Err(RemoteError::Invalid { code, detail, .. }) => {
            assert_eq!(code, "VERSION");
            assert_eq!(detail, serde_json::json!({}));
        }
        other => panic!("{other:?}"),
    }
    // By version and by checksum.
    let root = remote.get_meta(GUN, "root", 1 << 20).unwrap();
    assert_eq!(
        remote.get_meta_by_version(GUN, "root", 1, 1 << 20).unwrap(),
        root
    );
    assert_eq!(
        remote
            .get_meta_by_checksum(GUN, "root", &sha256_hex(&root), 1 << 20)
            .unwrap(),
        root
    );
    // Caps apply to real responses too.
    assert!(matches!(
        remote.get_meta(GUN, "root", 10),
        Err(RemoteError::TooLarge { max: 10, .. })
    ));
    let rotated = remote.rotate_key(GUN, "snapshot").unwrap();
    assert!(rotated["keyval"]["public"].is_string());
    remote.delete(GUN).unwrap();
    let err = update(
        &remote,
        &mut MemoryCache::default(),
        &gun(),
        Utc::now(),
        &opts(),
    )
    .unwrap_err();
    assert!(matches!(err, UpdateFailure::NoTrustData { .. }), "{err}");
    assert!(err
        .to_string()
        .ends_with("does not have trust data for example.com/app"));
}

// ---------------------------------------------------------------------------------------
// Hostile server

#[derive(Clone)]
enum Reply {
    Full {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// 200, no length, bytes forever.
    Endless,
    /// 200 with a length, one byte per second.
    Slow(Vec<u8>),
}

fn ok(body: &[u8]) -> Reply {
    Reply::Full {
        status: 200,
        headers: Vec::new(),
        body: body.to_vec(),
    }
}

fn status(code: u16) -> Reply {
    Reply::Full {
        status: code,
        headers: Vec::new(),
        body: br#"{"errors":[{"code":"UNKNOWN","message":"x"}]}"#.to_vec(),
    }
}

type Routes = Arc<Mutex<BTreeMap<String, Reply>>>;
type GuardFn = dyn Fn(&str, &[(String, String)]) -> Option<Reply> + Send + Sync;
type Guard = Arc<GuardFn>;

struct Hostile {
    url: String,
    routes: Routes,
    served: Arc<Mutex<Vec<String>>>,
}

impl Hostile {
    fn start() -> Self {
        Self::start_with(Arc::new(|_, _| None))
    }

    /// `guard` may answer a request before the routes (auth checks).
    fn start_with(guard: Guard) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let routes: Routes = Arc::new(Mutex::new(BTreeMap::new()));
        routes.lock().unwrap().insert("/v2/".into(), ok(b"{}"));
        let served = Arc::new(Mutex::new(Vec::new()));
        let (r, s) = (routes.clone(), served.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (r, s, g) = (r.clone(), s.clone(), guard.clone());
                std::thread::spawn(move || handle(conn, &r, &s, &*g));
            }
        });
        Self {
            url: format!("http://{addr}"),
            routes,
            served,
        }
    }

    fn set(&self, path: &str, reply: Reply) {
        self.routes.lock().unwrap().insert(path.into(), reply);
    }

    fn tuf(&self, file: &str, reply: Reply) {
        self.set(&format!("/v2/{GUN}/_trust/tuf/{file}"), reply);
    }

    /// Serves the files as notary-server would (current, by version, by checksum).
    fn serve(&self, files: &[SignedFile]) {
        for f in files {
            self.tuf(&format!("{}.json", f.role), ok(&f.bytes));
            self.tuf(&format!("{}.{}.json", f.version, f.role), ok(&f.bytes));
            self.tuf(
                &format!("{}.{}.json", f.role, sha256_hex(&f.bytes)),
                ok(&f.bytes),
            );
        }
    }
}

fn handle(mut conn: TcpStream, routes: &Routes, served: &Mutex<Vec<String>>, guard: &GuardFn) {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match conn.read(&mut b) {
            Ok(1) => head.push(b[0]),
            _ => return,
        }
    }
    let text = String::from_utf8_lossy(&head).to_string();
    let mut lines = text.split("\r\n");
    let target = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or("/")
        .to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    served.lock().unwrap().push(target.clone());
    let path = target.split('?').next().unwrap_or("/").to_owned();
    let reply = guard(&target, &headers)
        .or_else(|| routes.lock().unwrap().get(&path).cloned())
        .unwrap_or_else(|| Reply::Full {
            status: 404,
            headers: Vec::new(),
            body: br#"{"errors":[{"code":"METADATA_NOT_FOUND","message":"You have requested metadata that does not exist.","detail":{}}]}"#.to_vec(),
        });
    match reply {
        Reply::Full {
            status,
            headers,
            body,
        } => {
            let mut out = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (k, v) in headers {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
            out.push_str("\r\n");
            let _ = conn.write_all(out.as_bytes());
            let _ = conn.write_all(&body);
        }
        Reply::Endless => {
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
            let chunk = vec![b'{'; 64 * 1024];
            while conn.write_all(&chunk).is_ok() {}
        }
        Reply::Slow(body) => {
            let _ = conn.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
            );
            for byte in body {
                if conn.write_all(&[byte]).is_err() {
                    return;
                }
                std::thread::sleep(StdDuration::from_secs(1));
            }
        }
    }
}

/// A hostile server seeded with a valid repository (own timestamp key), and a client cache
/// that completed one good update from it.
fn seeded() -> (Hostile, Publisher, Vec<SignedFile>, MemoryCache) {
    let h = Hostile::start();
    let mut p = Publisher::new(None);
    let first = p.sign();
    h.serve(&first);
    let mut cache = MemoryCache::default();
    update(
        &quick_remote(&h.url),
        &mut cache,
        &gun(),
        Utc::now(),
        &opts(),
    )
    .unwrap();
    assert_eq!(cache.files.len(), 5);
    (h, p, first, cache)
}

fn file<'a>(files: &'a [SignedFile], role: &str) -> &'a SignedFile {
    files.iter().find(|f| f.role == role).unwrap()
}

/// Runs an update that must fail, and checks the cache did not change.
fn must_fail(h: &Hostile, cache: &mut MemoryCache, now: DateTime<Utc>) -> UpdateFailure {
    let before = cache.clone();
    let err = update(&quick_remote(&h.url), cache, &gun(), now, &opts()).unwrap_err();
    assert_eq!(*cache, before, "cache changed after: {err}");
    err
}

#[test]
fn hostile_replayed_old_timestamp_is_rollback() {
    let (h, mut p, first, mut cache) = seeded();
    p.editor.touch("targets");
    let second = p.sign();
    h.serve(&second);
    update(
        &quick_remote(&h.url),
        &mut cache,
        &gun(),
        Utc::now(),
        &opts(),
    )
    .unwrap();
    assert_eq!(
        cache.read("timestamp").unwrap(),
        file(&second, "timestamp").bytes
    );
    // Replay the first timestamp (still validly signed, not expired).
    h.tuf("timestamp.json", ok(&file(&first, "timestamp").bytes));
    let err = must_fail(&h, &mut cache, Utc::now());
    assert!(
        matches!(
            &err,
            UpdateFailure::Verify {
                source: UpdateError::Rollback { role, .. },
                ..
            } if role == "timestamp"
        ),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("timestamp") && msg.contains("rollback"),
        "{msg}"
    );
}

#[test]
fn hostile_expired_timestamp_is_rejected() {
    let (h, _p, _first, mut cache) = seeded();
    // Twenty days later the server still serves the same (14-day) timestamp.
    let err = must_fail(&h, &mut cache, Utc::now() + Duration::days(20));
    assert!(
        matches!(
            &err,
            UpdateFailure::Verify {
                source: UpdateError::Expired { role, .. },
                ..
            } if role == "timestamp"
        ),
        "{err:?}"
    );
    // And a fresh client too.
    let mut empty = MemoryCache::default();
    let err = must_fail(&h, &mut empty, Utc::now() + Duration::days(20));
    assert!(err.to_string().contains("expired"), "{err}");
}

#[test]
fn hostile_snapshot_and_targets_swapped() {
    let h = Hostile::start();
    let mut p = Publisher::new(None);
    let files = p.sign();
    h.serve(&files);
    let snap = file(&files, "snapshot");
    let targets = file(&files, "targets");
    h.tuf(
        &format!("snapshot.{}.json", sha256_hex(&snap.bytes)),
        ok(&targets.bytes),
    );
    h.tuf(
        &format!("targets.{}.json", sha256_hex(&targets.bytes)),
        ok(&snap.bytes),
    );
    let mut cache = MemoryCache::default();
    let err = must_fail(&h, &mut cache, Utc::now());
    assert!(err.to_string().contains("snapshot"), "{err}");
    assert!(cache.files.is_empty());
}

#[test]
fn hostile_endless_timestamp_is_cut_at_the_cap() {
    let (h, _p, _f, mut cache) = seeded();
    h.tuf("timestamp.json", Reply::Endless);
    let t = Instant::now();
    let err = must_fail(&h, &mut cache, Utc::now());
    assert!(t.elapsed() < StdDuration::from_secs(2));
    assert!(
        matches!(
            &err,
            UpdateFailure::Remote {
                source: RemoteError::TooLarge { max: 16_384, .. },
                file,
            } if file == "timestamp.json"
        ),
        "{err:?}"
    );
}

#[test]
fn hostile_slow_timestamp_times_out() {
    let (h, _p, first, mut cache) = seeded();
    h.tuf(
        "timestamp.json",
        Reply::Slow(file(&first, "timestamp").bytes.clone()),
    );
    let t = Instant::now();
    let err = must_fail(&h, &mut cache, Utc::now());
    let took = t.elapsed();
    assert!(took < StdDuration::from_secs(4), "{took:?}");
    assert!(
        matches!(
            &err,
            UpdateFailure::Remote {
                source: RemoteError::Timeout { .. },
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn hostile_not_found_and_server_errors() {
    let h = Hostile::start();
    let mut cache = MemoryCache::default();
    let err = must_fail(&h, &mut cache, Utc::now());
    assert!(matches!(err, UpdateFailure::NoTrustData { .. }), "{err:?}");
    let host = h.url.trim_start_matches("http://").to_owned();
    assert_eq!(
        err.to_string(),
        format!("{host} does not have trust data for {GUN}")
    );

    h.tuf("root.json", status(500));
    let err = must_fail(&h, &mut cache, Utc::now());
    assert!(
        matches!(
            &err,
            UpdateFailure::Remote {
                source: RemoteError::ServerUnavailable { status: 500 },
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err
        .to_string()
        .ends_with("unable to reach trust server at this time: 500."));

    // A failing ping is offline mode.
    h.set("/v2/", status(503));
    let err = must_fail(&h, &mut cache, Utc::now());
    assert!(matches!(err, UpdateFailure::Offline { .. }), "{err:?}");

    // A cached repository whose server now answers 502 for the timestamp.
    let (h, _p, _f, mut cache) = seeded();
    h.tuf("timestamp.json", status(502));
    let err = must_fail(&h, &mut cache, Utc::now());
    assert!(err.to_string().contains("502"), "{err}");
}

#[test]
fn hostile_tampered_delegation_is_rejected() {
    let h = Hostile::start();
    let mut p = Publisher::new(None);
    let files = p.sign();
    h.serve(&files);
    let rel = file(&files, "targets/releases");
    let mut bad = rel.bytes.clone();
    let pos = bad.iter().position(|b| *b == b'1').unwrap();
    bad[pos] = b'2';
    h.tuf(
        &format!("targets/releases.{}.json", sha256_hex(&rel.bytes)),
        ok(&bad),
    );
    let mut cache = MemoryCache::default();
    let err = must_fail(&h, &mut cache, Utc::now());
    assert!(err.to_string().contains("targets/releases"), "{err}");
}

#[test]
fn offline_uses_valid_cache_only() {
    let (h, _p, _f, mut cache) = seeded();
    drop(h);
    // A port with nothing listening.
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let remote = quick_remote(&format!("http://{closed}"));
    let before = cache.clone();
    let err = update(&remote, &mut cache, &gun(), Utc::now(), &opts()).unwrap_err();
    assert!(matches!(err, UpdateFailure::Offline { .. }), "{err:?}");
    assert!(err.to_string().starts_with("client is offline"));

    let offline = UpdateOptions {
        offline_ok: true,
        ..opts()
    };
    let out = update(&remote, &mut cache, &gun(), Utc::now(), &offline).unwrap();
    assert!(out.offline);
    assert_eq!(out.set.list_targets().len(), 3);
    assert_eq!(cache, before);

    let err = update(
        &remote,
        &mut cache,
        &gun(),
        Utc::now() + Duration::days(20),
        &offline,
    )
    .unwrap_err();
    assert!(
        matches!(&err, UpdateFailure::CachedInvalid { role, .. } if role == "timestamp"),
        "{err:?}"
    );
    assert_eq!(cache, before);
}

#[test]
fn bad_local_root_or_no_tofu_makes_no_request() {
    let (h, _p, _f, mut cache) = seeded();
    let mut root = cache.read("root").unwrap();
    let pos = root.iter().position(|b| *b == b'2').unwrap();
    root[pos] = b'3';
    cache.write("root", &root).unwrap();
    let remote = quick_remote(&h.url);
    let err = update(&remote, &mut cache, &gun(), Utc::now(), &opts()).unwrap_err();
    assert!(
        matches!(&err, UpdateFailure::CachedInvalid { role, .. } if role == "root"),
        "{err:?}"
    );
    assert_eq!(remote.request_count(), 0);

    let no_tofu = UpdateOptions {
        tofu: false,
        ..opts()
    };
    let err = update(
        &remote,
        &mut MemoryCache::default(),
        &gun(),
        Utc::now(),
        &no_tofu,
    )
    .unwrap_err();
    assert!(
        matches!(err, UpdateFailure::NoTrustedRoot { .. }),
        "{err:?}"
    );
    assert_eq!(remote.request_count(), 0);
}

#[test]
fn pinned_root_keys_are_enforced() {
    let h = Hostile::start();
    let mut p = Publisher::new(None);
    let files = p.sign();
    h.serve(&files);
    let pinned = UpdateOptions {
        pinned_root_keys: vec!["00".repeat(32)],
        ..opts()
    };
    let mut cache = MemoryCache::default();
    let remote = quick_remote(&h.url);
    let err = update(&remote, &mut cache, &gun(), Utc::now(), &pinned).unwrap_err();
    assert!(
        matches!(err, UpdateFailure::RootNotPinned { .. }),
        "{err:?}"
    );
    assert!(cache.files.is_empty());
    let id = p.editor.root().roles.get(TopRole::Root).keyids[0].to_hex();
    let pinned = UpdateOptions {
        pinned_root_keys: vec![id],
        ..opts()
    };
    update(&remote, &mut cache, &gun(), Utc::now(), &pinned).unwrap();
}

#[test]
fn token_auth_retries_with_bearer_token() {
    let token_url: Arc<Mutex<String>> = Arc::new(Mutex::new(String::new()));
    let tu = token_url.clone();
    let guard: Guard = Arc::new(move |target, headers| {
        let auth = headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .map(|(_, v)| v.clone());
        if target.starts_with("/token") {
            // Write scopes need credentials (alice:secret).
            let basic = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode("alice:secret")
            );
            let token = if auth.as_deref() == Some(basic.as_str()) {
                "writer"
            } else {
                "reader"
            };
            return Some(ok(format!(r#"{{"access_token":"{token}"}}"#).as_bytes()));
        }
        let challenge = Reply::Full {
            status: 401,
            headers: vec![(
                "Www-Authenticate".into(),
                format!(
                    r#"Bearer realm="{}/token",service="notary-server",scope="repository:{GUN}:pull""#,
                    tu.lock().unwrap()
                ),
            )],
            body: br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#
                .to_vec(),
        };
        let is_write = target.ends_with(".key");
        match auth.as_deref() {
            Some("Bearer writer") => None,
            Some("Bearer reader") if !is_write => None,
            _ => Some(challenge),
        }
    });
    let h = Hostile::start_with(guard);
    *token_url.lock().unwrap() = h.url.clone();
    h.tuf(
        "timestamp.key",
        ok(br#"{"keytype":"ed25519","keyval":{"public":"AAAA","private":null}}"#),
    );
    h.tuf("timestamp.json", ok(b"{}"));

    // Reads: anonymous token.
    let remote = quick_remote(&h.url);
    remote.ping().unwrap();
    assert_eq!(remote.get_meta(GUN, "timestamp", 100).unwrap(), b"{}");
    let served = h.served.lock().unwrap().clone();
    let token_req = served.iter().find(|s| s.starts_with("/token")).unwrap();
    assert!(
        token_req.contains("scope=repository%3Aexample.com%2Fapp%3Apull"),
        "{token_req}"
    );
    assert!(token_req.contains("service=notary-server"), "{token_req}");
    assert!(!token_req.contains("account="));

    // Writes without credentials: unauthorized.
    assert!(matches!(
        remote.get_key(GUN, "timestamp"),
        Err(RemoteError::Unauthorized)
    ));
    // With credentials: push,pull token with account.
    let remote = Remote::new(
        &h.url,
        RemoteOptions {
            auth: Some(base64::engine::general_purpose::STANDARD.encode("alice:secret")),
            ..RemoteOptions::default()
        },
    )
    .unwrap();
    h.served.lock().unwrap().clear();
    let key = remote.get_key(GUN, "timestamp").unwrap();
    assert_eq!(key["keytype"], "ed25519");
    let served = h.served.lock().unwrap().clone();
    let token_req = served.iter().find(|s| s.starts_with("/token")).unwrap();
    assert!(token_req.contains("account=alice"), "{token_req}");
    assert!(token_req.contains("push%2Cpull"), "{token_req}");
}

#[test]
fn hostile_root_chain_is_capped() {
    let (h, mut p, _first, mut cache) = seeded();
    for _ in 0..5 {
        p.editor.touch("root");
        h.serve(&p.sign());
    }
    // Root versions 2..=6 exist; this client applies at most 3 per update.
    let capped = UpdateOptions {
        limits: tuf_core::trusted_set::Limits {
            max_root_rotations: 3,
            ..Default::default()
        },
        ..opts()
    };
    let remote = quick_remote(&h.url);
    let before = cache.clone();
    let err = update(&remote, &mut cache, &gun(), Utc::now(), &capped).unwrap_err();
    assert!(
        matches!(err, UpdateFailure::RootMismatch { version: 4, .. }),
        "{err:?}"
    );
    assert_eq!(cache, before);
    assert!(!remote
        .request_log()
        .iter()
        .any(|l| l.ends_with("/5.root.json")));
    // Uncapped, the same client reaches version 6.
    let out = update(&remote, &mut cache, &gun(), Utc::now(), &opts()).unwrap();
    assert_eq!(out.set.root().header.version, 6);

    // A root served as an endless body is cut at the root cap.
    h.tuf("7.root.json", Reply::Endless);
    p.editor.touch("root");
    let next = p.sign();
    h.tuf("timestamp.json", ok(&file(&next, "timestamp").bytes));
    h.tuf(
        &format!(
            "snapshot.{}.json",
            sha256_hex(&file(&next, "snapshot").bytes)
        ),
        ok(&file(&next, "snapshot").bytes),
    );
    let err = must_fail(&h, &mut cache, Utc::now());
    assert!(
        matches!(
            &err,
            UpdateFailure::Remote {
                source: RemoteError::TooLarge { max: 512_000, .. },
                file,
            } if file == "7.root.json"
        ),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Trust pinning (Go `trustpinning.ValidateRoot`): applies to the first-use root only.

fn openssl(args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA (self-signed, P-256) and a root key whose certificate for the GUN it signed:
/// `(dir, CA certificate key, root signer, root certificate key)`.
fn ca_signed_root() -> (tempfile::TempDir, Key, SoftwareSigner, Key) {
    let dir = tempfile::tempdir().unwrap();
    let p = |f: &str| dir.path().join(f).display().to_string();
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        &p("ca.key"),
        "-out",
        &p("ca.crt"),
        "-days",
        "30",
        "-subj",
        "/CN=Test CA",
    ]);
    // The root key is ours; openssl only certifies it.
    let signer = SoftwareSigner::generate_p256();
    std::fs::write(p("root.der"), &*signer.to_pkcs8_der()).unwrap();
    let subj = format!("/CN={}", GUN.replace('/', "\\/"));
    openssl(&[
        "req",
        "-new",
        "-key",
        &p("root.der"),
        "-keyform",
        "DER",
        "-subj",
        &subj,
        "-out",
        &p("root.csr"),
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        &p("root.csr"),
        "-CA",
        &p("ca.crt"),
        "-CAkey",
        &p("ca.key"),
        "-CAcreateserial",
        "-days",
        "30",
        "-sha256",
        "-out",
        &p("root.crt"),
    ]);
    let ca = Key::from_certificate_pem(&std::fs::read_to_string(p("ca.crt")).unwrap()).unwrap();
    let cert = Key::from_certificate_pem(&std::fs::read_to_string(p("root.crt")).unwrap()).unwrap();
    (dir, ca, signer, cert)
}

fn pinned_update(
    h: &Hostile,
    opts: &UpdateOptions,
) -> (Result<UpdateOutcome, UpdateFailure>, MemoryCache) {
    let mut cache = MemoryCache::default();
    let r = update(&quick_remote(&h.url), &mut cache, &gun(), Utc::now(), opts);
    (r, cache)
}

#[test]
fn pin_by_cert_key_id_accepts_the_listed_root_and_rejects_others() {
    let h = Hostile::start();
    let mut p = Publisher::new(None);
    h.serve(&p.sign());
    let id = p.editor.root().roles.get(TopRole::Root).keyids[0].to_hex();
    // The pinned id is the ecdsa-x509 key id listed in root.json (Go: CertBundleToKey(..).ID()).
    let (r, cache) = pinned_update(
        &h,
        &UpdateOptions {
            pinned_root_keys: vec![id.to_uppercase()],
            tofu: false,
            ..opts()
        },
    );
    r.unwrap();
    assert_eq!(cache.files.len(), 5);
    let (r, cache) = pinned_update(
        &h,
        &UpdateOptions {
            pinned_root_keys: vec!["ab".repeat(32)],
            ..opts()
        },
    );
    let err = r.unwrap_err();
    assert!(
        matches!(&err, UpdateFailure::RootNotPinned { gun, .. } if gun == GUN),
        "{err:?}"
    );
    assert!(err.to_string().contains(GUN), "{err}");
    assert!(cache.files.is_empty());
}

#[test]
fn pins_do_not_apply_once_a_root_is_cached() {
    // Go's bootstrapClient: a cached root is the pin; trust_pinning is not consulted.
    let (h, _p, _f, mut cache) = seeded();
    let pinned = UpdateOptions {
        pinned_root_keys: vec!["ab".repeat(32)],
        tofu: false,
        ..opts()
    };
    update(
        &quick_remote(&h.url),
        &mut cache,
        &gun(),
        Utc::now(),
        &pinned,
    )
    .unwrap();
}

#[test]
fn pinned_certs_must_reach_the_root_threshold() {
    // Root role: two certificates, threshold 2; pinning one of them leaves one usable
    // signature (Go verifies with the pinned certificates only).
    let h = Hostile::start();
    let mut p = Publisher::new(None);
    let second = SoftwareSigner::generate_p256();
    let second_key = notary_root_key(&second, &gun(), Utc::now(), Duration::days(30)).unwrap();
    let first_key = p
        .editor
        .root()
        .keys
        .get(&p.editor.root().roles.get(TopRole::Root).keyids[0])
        .unwrap()
        .clone();
    p.editor
        .set_role_keys(
            TopRole::Root,
            vec![first_key.clone(), second_key],
            Threshold::new(2).unwrap(),
        )
        .unwrap();
    p.extra_root.push(second);
    h.serve(&p.sign());
    let (r, cache) = pinned_update(
        &h,
        &UpdateOptions {
            pinned_root_keys: vec![first_key.key_id().to_hex()],
            ..opts()
        },
    );
    let err = r.unwrap_err();
    assert!(matches!(&err, UpdateFailure::RootPinning { .. }), "{err:?}");
    assert!(cache.files.is_empty());
    // Without a pin (TOFU) the same root is fine.
    pinned_update(&h, &opts()).0.unwrap();
}

#[test]
fn ca_pin_accepts_a_ca_signed_root_and_rejects_a_self_signed_one() {
    let (_dir, ca, signer, cert) = ca_signed_root();
    let with_ca = UpdateOptions {
        pinned_ca: vec![ca.clone()],
        tofu: false,
        ..opts()
    };
    let h = Hostile::start();
    let mut p = Publisher::with_root(None, Some((signer, cert)));
    h.serve(&p.sign());
    let (r, cache) = pinned_update(&h, &with_ca);
    r.unwrap();
    assert_eq!(cache.files.len(), 5);

    let h2 = Hostile::start();
    let mut p2 = Publisher::new(None);
    h2.serve(&p2.sign());
    let (r, cache) = pinned_update(&h2, &with_ca);
    let err = r.unwrap_err();
    assert!(
        matches!(&err, UpdateFailure::RootPinning { gun, .. } if gun == GUN),
        "{err:?}"
    );
    assert!(err.to_string().contains("pinned CA"), "{err}");
    assert!(cache.files.is_empty());

    // A CA that did not sign it is no better, and certificate ids win over the CA (Go's
    // precedence: certs, then ca).
    let (_dir2, other_ca, _, _) = ca_signed_root();
    let (r, _) = pinned_update(
        &h,
        &UpdateOptions {
            pinned_ca: vec![other_ca],
            ..opts()
        },
    );
    assert!(matches!(r, Err(UpdateFailure::RootPinning { .. })));
    let id = p2.editor.root().roles.get(TopRole::Root).keyids[0].to_hex();
    let (r, _) = pinned_update(
        &h2,
        &UpdateOptions {
            pinned_root_keys: vec![id],
            pinned_ca: vec![ca],
            ..opts()
        },
    );
    r.unwrap();
}

#[test]
fn disable_tofu_without_a_pin_fails_before_any_request() {
    let h = Hostile::start();
    let mut p = Publisher::new(None);
    h.serve(&p.sign());
    let remote = quick_remote(&h.url);
    let mut cache = MemoryCache::default();
    let no_tofu = UpdateOptions {
        tofu: false,
        ..opts()
    };
    let err = update(&remote, &mut cache, &gun(), Utc::now(), &no_tofu).unwrap_err();
    assert!(
        matches!(&err, UpdateFailure::NoTrustedRoot { gun } if gun == GUN),
        "{err:?}"
    );
    assert!(err.to_string().contains("TOFU is disabled"), "{err}");
    assert!(cache.files.is_empty());
    assert_eq!(remote.request_count(), 0);
}
