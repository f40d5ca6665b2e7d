//! Our `notary` CLI (the real binary, a real trust directory) against a hostile or broken
//! server (security.md B02–B04, B06, B07, B10, E01): a small HTTP proxy in front of our real
//! `notary-server` passes requests through and overrides chosen paths with replayed, forged,
//! swapped, endless or slow answers. Every attack must make `list`, `lookup` and `verify`
//! fail with a `* fatal:` message naming the role and the reason, leave the trusted cache
//! byte-identical and never print target data. Key-handling failures (wrong passphrase,
//! garbage key file, foreign key) must give clear errors and change nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashMap};
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use notary_rs_tests::notary_cli::{
    our_notary_bin, start_our_server, CmdOutput, NotaryClient, ServerUnderTest,
};
use sha2::{Digest as _, Sha256};
use tuf_core::crypto::{Key, Signer, SoftwareSigner};
use tuf_core::editor::{notary_root_key, InitialKeys, RepoEditor, SignPlan, SignedFile};
use tuf_core::name::Gun;
use tuf_core::role::TargetEntry;
use tuf_core::Dialect;

const GUN: &str = "example.com/hostile";
const OTHER_GUN: &str = "example.com/other";
const DATA_A: &[u8] = b"target a: the real bytes\n";
const DATA_B: &[u8] = b"target b: more real bytes\n";
const DATA_C: &[u8] = b"target c: published later\n";

// ---------------------------------------------------------------------------------------
// The hostile proxy

#[derive(Clone)]
enum Reply {
    /// 200 with these bytes.
    Bytes(Vec<u8>),
    /// 200, no length, `{` forever.
    Endless,
    /// 200 with a length, one byte per second.
    Slow(Vec<u8>),
}

type Overrides = Arc<Mutex<HashMap<String, Reply>>>;

/// HTTP/1.1 with `Connection: close`; answers overridden paths itself and forwards every
/// other request to `upstream` (or answers 404 / `{}` for `/v2/` without one).
struct Hostile {
    url: String,
    overrides: Overrides,
    /// Every request path, in order.
    served: Arc<Mutex<Vec<String>>>,
}

impl Hostile {
    fn start(upstream: Option<String>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let overrides: Overrides = Arc::new(Mutex::new(HashMap::new()));
        let served = Arc::new(Mutex::new(Vec::new()));
        let (o, log) = (overrides.clone(), served.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (o, up, log) = (o.clone(), upstream.clone(), log.clone());
                std::thread::spawn(move || handle(conn, &o, up.as_deref(), &log));
            }
        });
        Self {
            url: format!("http://{addr}"),
            overrides,
            served,
        }
    }

    /// Overrides `/v2/<GUN>/_trust/tuf/<file>`.
    fn tuf(&self, file: &str, reply: Reply) {
        self.overrides
            .lock()
            .unwrap()
            .insert(tuf_path(GUN, file), reply);
    }

    fn clear(&self) {
        self.overrides.lock().unwrap().clear();
    }
}

fn tuf_path(gun: &str, file: &str) -> String {
    format!("/v2/{gun}/_trust/tuf/{file}")
}

fn handle(
    mut conn: TcpStream,
    overrides: &Overrides,
    upstream: Option<&str>,
    served: &Mutex<Vec<String>>,
) {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match conn.read(&mut b) {
            Ok(1) => head.push(b[0]),
            _ => return,
        }
    }
    let text = String::from_utf8_lossy(&head).to_string();
    let target = text
        .lines()
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or("/")
        .to_owned();
    let path = target.split('?').next().unwrap_or("/").to_owned();
    served.lock().unwrap().push(path.clone());
    let reply = overrides.lock().unwrap().get(&path).cloned();
    match reply {
        Some(Reply::Bytes(body)) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n",
                body.len()
            );
            let _ = conn.write_all(head.as_bytes());
            let _ = conn.write_all(&body);
        }
        Some(Reply::Endless) => {
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
            let chunk = vec![b'{'; 64 * 1024];
            while conn.write_all(&chunk).is_ok() {}
        }
        Some(Reply::Slow(body)) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = conn.write_all(head.as_bytes());
            for byte in body {
                if conn.write_all(&[byte]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        }
        None => match upstream {
            Some(up) => {
                let raw = raw_get(up, &target);
                let _ = conn.write_all(&raw);
            }
            None if path == "/v2/" => {
                let _ = conn.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
                );
            }
            None => {
                let body = br#"{"errors":[{"code":"METADATA_NOT_FOUND","message":"You have requested metadata that does not exist.","detail":{}}]}"#;
                let head = format!(
                    "HTTP/1.1 404 Not Found\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = conn.write_all(head.as_bytes());
                let _ = conn.write_all(body);
            }
        },
    }
}

/// The whole raw HTTP/1.0 response of `GET target` from `host:port`.
fn raw_get(host: &str, target: &str) -> Vec<u8> {
    let mut s = TcpStream::connect(host).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {target} HTTP/1.0\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    out
}

/// The body of a 200 answer to `GET target` from the real server.
fn get_body(server: &ServerUnderTest, target: &str) -> Vec<u8> {
    let raw = raw_get(server.host_port(), target);
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]);
    assert!(
        head.starts_with("HTTP/1.") && head.contains(" 200 "),
        "{head}"
    );
    raw[split + 4..].to_vec()
}

// ---------------------------------------------------------------------------------------
// Fixture: a repository published on our real server, a victim with a warm cache

fn ours(url: &str) -> NotaryClient {
    let mut c = NotaryClient::new(url);
    c.set_bin(our_notary_bin());
    c
}

fn write(c: &NotaryClient, name: &str, data: &[u8]) -> String {
    let p = c.scratch().join(name);
    std::fs::write(&p, data).unwrap();
    p.display().to_string()
}

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

struct Fixture {
    server: ServerUnderTest,
    publisher: NotaryClient,
    proxy: Hostile,
    victim: NotaryClient,
    /// The timestamp served after the first publish with targets (an older version than
    /// the one the victim trusts).
    old_timestamp: Vec<u8>,
}

/// Our server; the publisher runs `init -p`, `add a -p`, `add b -p` (three timestamp,
/// snapshot and targets versions); the victim did a good `list` through the proxy.
fn fixture() -> Fixture {
    let server = start_our_server(None).unwrap_or_else(|e| panic!("{e}"));
    let publisher = ours(&server.url);
    publisher.ok(&["init", GUN, "-p"]);
    let a = write(&publisher, "a.txt", DATA_A);
    publisher.ok(&["add", GUN, "a", &a, "-p"]);
    let old_timestamp = get_body(&server, &tuf_path(GUN, "timestamp.json"));
    let b = write(&publisher, "b.txt", DATA_B);
    publisher.ok(&["add", GUN, "b", &b, "-p"]);
    let proxy = Hostile::start(Some(server.host_port().to_owned()));
    let victim = ours(&proxy.url);
    assert_eq!(good_rows(&victim), 2);
    // The victim trusts a newer timestamp than the one we will replay.
    let cached = std::fs::read(metadata_dir(&victim).join("timestamp.json")).unwrap();
    assert!(version(&old_timestamp) < version(&cached));
    Fixture {
        server,
        publisher,
        proxy,
        victim,
        old_timestamp,
    }
}

fn version(meta: &[u8]) -> u64 {
    let v: serde_json::Value = serde_json::from_slice(meta).unwrap();
    v["signed"]["version"].as_u64().unwrap()
}

/// `list` succeeds and shows the expected a/b (and c, if published) rows; returns the count.
fn good_rows(c: &NotaryClient) -> usize {
    let rows = c.list(GUN);
    for (name, sum, size, role) in &rows {
        let data = match name.as_str() {
            "a" => DATA_A,
            "b" => DATA_B,
            "c" => DATA_C,
            other => panic!("unexpected target {other}"),
        };
        assert_eq!(
            (sum.as_str(), *size, role.as_str()),
            (sha256_hex(data).as_str(), data.len() as u64, "targets")
        );
    }
    rows.len()
}

fn metadata_dir(c: &NotaryClient) -> PathBuf {
    c.trust_dir().join("tuf").join(GUN).join("metadata")
}

/// Every file under `dir` (recursively) with its bytes; empty if `dir` does not exist.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(tree(&p));
        } else {
            out.insert(p.clone(), std::fs::read(&p).unwrap());
        }
    }
    out
}

/// Runs `list`, `lookup a` and `verify a` (with the real bytes of `a` on stdin); each must
/// exit 1 with a single `* fatal:` line containing every word of `expect`, print no target
/// data, and leave the victim's whole `tuf/` tree byte-identical. Returns the outputs.
fn all_fail(c: &NotaryClient, env: &[(&str, &str)], expect: &[&str]) -> Vec<CmdOutput> {
    let tuf = c.trust_dir().join("tuf");
    let before = tree(&tuf);
    let stdin = std::str::from_utf8(DATA_A).unwrap();
    let mut outs = Vec::new();
    for (args, input) in [
        (vec!["list", GUN], None),
        (vec!["lookup", GUN, "a"], None),
        (vec!["verify", GUN, "a"], Some(stdin)),
    ] {
        let out = c.run_env(&args, input, env);
        assert_eq!(out.status, 1, "{out}");
        let fatal: Vec<&str> = out.stdout.lines().filter(|l| !l.is_empty()).collect();
        assert_eq!(fatal.len(), 1, "only the fatal line on stdout: {out}");
        assert!(fatal[0].starts_with("* fatal: "), "{out}");
        for word in expect {
            assert!(fatal[0].contains(word), "expected {word:?} in: {out}");
        }
        assert!(
            !out.stdout.contains("target a"),
            "target data printed: {out}"
        );
        assert!(
            !out.stdout.contains(&sha256_hex(DATA_A)),
            "target hash: {out}"
        );
        assert!(tree(&tuf) == before, "trust dir changed by a failed {out}");
        outs.push(out);
    }
    outs
}

// ---------------------------------------------------------------------------------------
// B05-style rollback, B07 forgeries and mix-and-match

/// B05/B06: the server replays an older (validly signed, unexpired) timestamp after the
/// client saw a newer one: rollback, nothing cached; the honest server works again after.
#[test]
fn replayed_old_timestamp_is_a_rollback() {
    let f = fixture();
    f.proxy
        .tuf("timestamp.json", Reply::Bytes(f.old_timestamp.clone()));
    all_fail(&f.victim, &[], &["timestamp", "rollback"]);
    f.proxy.clear();
    assert_eq!(good_rows(&f.victim), 2);
}

/// `meta` with the first character of its first signature changed.
fn flip_signature(meta: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(meta.to_vec()).unwrap();
    let at = text.find("\"sig\":\"").unwrap() + "\"sig\":\"".len();
    let flipped = if text.as_bytes()[at] == b'A' {
        "B"
    } else {
        "A"
    };
    let mut tampered = text.clone();
    tampered.replace_range(at..=at, flipped);
    assert_ne!(tampered, text);
    tampered.into_bytes()
}

/// A timestamp whose signature was tampered with (one base64 character flipped), and the
/// real timestamp of another collection on the same server (signed by another key): both
/// rejected as a signature failure of `timestamp`, cache unchanged.
#[test]
fn forged_or_foreign_timestamp_is_rejected() {
    let f = fixture();
    let current = get_body(&f.server, &tuf_path(GUN, "timestamp.json"));
    f.proxy
        .tuf("timestamp.json", Reply::Bytes(flip_signature(&current)));
    all_fail(&f.victim, &[], &["timestamp", "signature"]);

    f.publisher.ok(&["init", OTHER_GUN, "-p"]);
    let foreign = get_body(&f.server, &tuf_path(OTHER_GUN, "timestamp.json"));
    f.proxy.tuf("timestamp.json", Reply::Bytes(foreign));
    all_fail(&f.victim, &[], &["timestamp", "signature"]);

    f.proxy.clear();
    assert_eq!(good_rows(&f.victim), 2);
}

/// B07: after a new publish, the server serves the targets bytes at the snapshot's checksum
/// URL and the snapshot bytes at the targets' checksum URL. A warm and a fresh client both
/// refuse it naming the snapshot; the warm cache is unchanged, the fresh one stays empty.
#[test]
fn snapshot_and_targets_swapped_are_rejected() {
    let f = fixture();
    let c = write(&f.publisher, "c.txt", DATA_C);
    f.publisher.ok(&["add", GUN, "c", &c, "-p"]);
    let snapshot = get_body(&f.server, &tuf_path(GUN, "snapshot.json"));
    let targets = get_body(&f.server, &tuf_path(GUN, "targets.json"));
    assert_ne!(snapshot, targets);
    f.proxy.tuf(
        &format!("snapshot.{}.json", sha256_hex(&snapshot)),
        Reply::Bytes(targets.clone()),
    );
    f.proxy.tuf(
        &format!("targets.{}.json", sha256_hex(&targets)),
        Reply::Bytes(snapshot),
    );
    all_fail(&f.victim, &[], &["snapshot"]);

    let fresh = ours(&f.proxy.url);
    all_fail(&fresh, &[], &["snapshot"]);
    assert!(tree(&metadata_dir(&fresh)).is_empty());

    f.proxy.clear();
    assert_eq!(good_rows(&f.victim), 3);
}

// ---------------------------------------------------------------------------------------
// B06: expired metadata (a complete fake Notary server, signed with our own keys)

/// A repository made with tuf-core's editor (Notary dialect) and our own keys, timestamp
/// key included, with target `a`.
struct FakeRepo {
    root: SoftwareSigner,
    targets: SoftwareSigner,
    snapshot: SoftwareSigner,
    timestamp: SoftwareSigner,
    editor: RepoEditor,
}

impl FakeRepo {
    fn new() -> Self {
        let gun = Gun::parse(GUN).unwrap();
        let now = Utc::now();
        let root = SoftwareSigner::generate_p256();
        let targets = SoftwareSigner::generate_p256();
        let snapshot = SoftwareSigner::generate_p256();
        let timestamp = SoftwareSigner::generate_ed25519();
        let key =
            |s: &SoftwareSigner| Key::from_public_key(Dialect::Notary, s.public_key().clone());
        let keys = InitialKeys {
            root: vec![notary_root_key(&root, &gun, now, chrono::Duration::days(3650)).unwrap()],
            targets: vec![key(&targets)],
            snapshot: vec![key(&snapshot)],
            timestamp: vec![key(&timestamp)],
        };
        let mut editor = RepoEditor::create(Dialect::Notary, keys, now);
        editor
            .add_target("targets", "a", TargetEntry::for_data(DATA_A))
            .unwrap();
        Self {
            root,
            targets,
            snapshot,
            timestamp,
            editor,
        }
    }

    /// Signs the changed roles and (per `plan`) a new snapshot and timestamp.
    fn sign(&mut self, plan: SignPlan) -> Vec<SignedFile> {
        let signers: Vec<&dyn Signer> =
            vec![&self.root, &self.targets, &self.snapshot, &self.timestamp];
        self.editor.sign(&signers, Utc::now(), plan).unwrap()
    }
}

const FULL: SignPlan = SignPlan {
    snapshot: true,
    timestamp: true,
};

/// Serves `files` as notary-server does: current, by version, by checksum.
fn serve(h: &Hostile, files: &[SignedFile]) {
    for file in files {
        let bytes = Reply::Bytes(file.bytes.clone());
        h.tuf(&format!("{}.json", file.role), bytes.clone());
        h.tuf(
            &format!("{}.{}.json", file.version, file.role),
            bytes.clone(),
        );
        h.tuf(
            &format!("{}.{}.json", file.role, sha256_hex(&file.bytes)),
            bytes,
        );
    }
}

/// For each of timestamp, snapshot and targets: a complete fake Notary server whose role
/// expired a day ago. A fresh trust dir trusts its root on first use, then refuses the
/// expired role by name; nothing is cached.
#[test]
fn expired_metadata_is_rejected_and_nothing_cached() {
    for role in ["timestamp", "snapshot", "targets"] {
        let mut repo = FakeRepo::new();
        repo.editor
            .set_expires(role, Utc::now() - chrono::Duration::days(1));
        let fake = Hostile::start(None);
        serve(&fake, &repo.sign(FULL));
        let fresh = ours(&fake.url);
        all_fail(&fresh, &[], &[role, "expired"]);
        assert!(tree(&metadata_dir(&fresh)).is_empty(), "{role}");
    }
}

/// B02: a client trusts root v1; the server then offers validly signed roots v2…v300 and a
/// snapshot naming v300. Each command downloads exactly 256 next roots (the limit), then
/// fails naming the root; nothing is cached.
#[test]
fn endless_valid_root_rotations_stop_at_the_limit() {
    let mut repo = FakeRepo::new();
    let fake = Hostile::start(None);
    serve(&fake, &repo.sign(FULL));
    let victim = ours(&fake.url);
    assert_eq!(good_rows(&victim), 1);
    let nothing = SignPlan {
        snapshot: false,
        timestamp: false,
    };
    for _ in 2..300 {
        repo.editor.touch("root");
        serve(&fake, &repo.sign(nothing));
    }
    repo.editor.touch("root");
    let last = repo.sign(FULL);
    assert_eq!(last[0].version, 300);
    serve(&fake, &last);
    fake.served.lock().unwrap().clear();
    let outs = all_fail(&victim, &[], &["root", "version 257"]);
    let served = fake.served.lock().unwrap().clone();
    let root_downloads = served
        .iter()
        .filter(|p| p.ends_with(".root.json") && !p.ends_with("/root.json"))
        .count();
    assert_eq!(root_downloads, 3 * 256, "{:?}\n{outs:?}", &served[..10]);
}

// ---------------------------------------------------------------------------------------
// B03, B04: endless and slow answers

/// A wrapper script that runs our `notary` under GNU time, writing its max RSS (KiB) to
/// `rss.txt` in `c`'s scratch dir.
fn timed_bin(c: &NotaryClient) -> (PathBuf, PathBuf) {
    let rss_file = c.scratch().join("rss.txt");
    let script = c.scratch().join("timed-notary");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nexec /usr/bin/time -f %M -o '{}' '{}' \"$@\"\n",
            rss_file.display(),
            our_notary_bin().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (script, rss_file)
}

fn read_rss(file: &Path) -> u64 {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// B02/B03: `timestamp.json` streams `{` forever. Each command stops at the timestamp cap
/// within seconds, naming the file and the limit; the client's peak RSS stays within
/// 16 MiB of a good `list`; the cache is unchanged. The same for an endless `root.json`
/// (first use), `2.root.json` (root chain walk), and the new snapshot and targets of a new
/// publish (cut at the length their parent lists).
#[test]
fn endless_metadata_is_cut_at_its_cap() {
    let mut f = fixture();
    let (script, rss_file) = timed_bin(&f.victim);
    f.victim.set_bin(script);
    assert_eq!(good_rows(&f.victim), 2);
    let baseline = read_rss(&rss_file);

    f.proxy.tuf("timestamp.json", Reply::Endless);
    let t = Instant::now();
    let outs = all_fail(&f.victim, &[], &["timestamp.json", "exceeds the limit"]);
    let took = t.elapsed();
    let peak = read_rss(&rss_file);
    assert!(took < Duration::from_secs(15), "{took:?}: {:?}", outs);
    assert!(
        peak < baseline + 16 * 1024,
        "peak RSS {peak} KiB vs baseline {baseline} KiB"
    );
    f.proxy.clear();
    assert_eq!(good_rows(&f.victim), 2);

    // B02: root downloads are capped too: `root.json` for a first use, and the next root
    // of the chain walk (which a timestamp failing its signature triggers).
    let fresh = ours(&f.proxy.url);
    f.proxy.tuf("root.json", Reply::Endless);
    all_fail(&fresh, &[], &["root.json", "exceeds the limit"]);
    assert!(tree(&metadata_dir(&fresh)).is_empty());
    let current = get_body(&f.server, &tuf_path(GUN, "timestamp.json"));
    f.proxy
        .tuf("timestamp.json", Reply::Bytes(flip_signature(&current)));
    f.proxy.tuf("2.root.json", Reply::Endless);
    all_fail(&f.victim, &[], &["2.root.json", "exceeds the limit"]);
    f.proxy.clear();

    // After a new publish, the new snapshot, then the new targets, stream forever: each is
    // cut at the length its parent lists.
    let c = write(&f.publisher, "c.txt", DATA_C);
    f.publisher.ok(&["add", GUN, "c", &c, "-p"]);
    for role in ["snapshot", "targets"] {
        let bytes = get_body(&f.server, &tuf_path(GUN, &format!("{role}.json")));
        let file = format!("{role}.{}.json", sha256_hex(&bytes));
        f.proxy.tuf(&file, Reply::Endless);
        all_fail(&f.victim, &[], &[&file, "exceeds the limit"]);
        f.proxy.clear();
    }
    assert_eq!(good_rows(&f.victim), 3);
    assert!(read_rss(&rss_file) < baseline + 16 * 1024);
}

/// B04: `timestamp.json`, then a new snapshot, trickle one byte per second. With
/// `NOTARY_RS_TIMEOUT_SECS=2` every command fails within a few seconds, naming the file and
/// the timeout; cache unchanged (a timeout is not "offline": the cache is not served
/// instead).
#[test]
fn slow_metadata_times_out() {
    let f = fixture();
    let current = get_body(&f.server, &tuf_path(GUN, "timestamp.json"));
    f.proxy.tuf("timestamp.json", Reply::Slow(current));
    let t = Instant::now();
    all_fail(
        &f.victim,
        &[("NOTARY_RS_TIMEOUT_SECS", "2")],
        &["timestamp.json", "timed out after 2 s"],
    );
    let took = t.elapsed();
    assert!(
        took < Duration::from_secs(15),
        "three commands took {took:?}"
    );
    f.proxy.clear();
    assert_eq!(good_rows(&f.victim), 2);

    // The same for the new snapshot of a new publish.
    let c = write(&f.publisher, "c.txt", DATA_C);
    f.publisher.ok(&["add", GUN, "c", &c, "-p"]);
    let bytes = get_body(&f.server, &tuf_path(GUN, "snapshot.json"));
    let file = format!("snapshot.{}.json", sha256_hex(&bytes));
    f.proxy.tuf(&file, Reply::Slow(bytes));
    let t = Instant::now();
    all_fail(
        &f.victim,
        &[("NOTARY_RS_TIMEOUT_SECS", "2")],
        &[&file, "timed out after 2 s"],
    );
    assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
    f.proxy.clear();
    assert_eq!(good_rows(&f.victim), 3);
}

// ---------------------------------------------------------------------------------------
// B10: torn writes in the cache

/// An interrupted write leaves temporary files next to the cache and a truncated
/// `timestamp.json` (and, separately, truncated snapshot/targets): the next `list` ignores
/// the temporaries, discards the corrupt cached files and re-fetches them, ending with the
/// server's exact bytes. A truncated cached root is a hard error naming the root, with no
/// change to the cache.
#[test]
fn torn_cache_writes_recover_and_corrupt_root_is_fatal() {
    let f = fixture();
    let dir = metadata_dir(&f.victim);
    let good = tree(&dir);
    for role in ["root", "timestamp", "snapshot", "targets"] {
        // As `write_private_file` names its temporaries, and a plain `.tmp` too.
        let full = std::fs::read(dir.join(format!("{role}.json"))).unwrap();
        std::fs::write(
            dir.join(format!(".{role}.json.0000-torn.tmp")),
            &full[..full.len() / 2],
        )
        .unwrap();
        std::fs::write(dir.join(format!("{role}.json.tmp")), b"{\"signed\":").unwrap();
    }
    for torn in [
        vec!["timestamp"],
        vec!["snapshot", "targets"],
        vec!["timestamp", "snapshot", "targets"],
    ] {
        for role in &torn {
            let p = dir.join(format!("{role}.json"));
            let full = std::fs::read(&p).unwrap();
            std::fs::write(&p, &full[..full.len() / 3]).unwrap();
        }
        assert_eq!(good_rows(&f.victim), 2, "after truncating {torn:?}");
        for role in ["root", "timestamp", "snapshot", "targets"] {
            let p = dir.join(format!("{role}.json"));
            assert_eq!(
                std::fs::read(&p).unwrap(),
                good[&p],
                "{role} not restored after truncating {torn:?}"
            );
        }
        for role in ["timestamp", "snapshot", "targets"] {
            let served = get_body(&f.server, &tuf_path(GUN, &format!("{role}.json")));
            assert_eq!(
                std::fs::read(dir.join(format!("{role}.json"))).unwrap(),
                served
            );
        }
    }

    let root = dir.join("root.json");
    let full = std::fs::read(&root).unwrap();
    std::fs::write(&root, &full[..full.len() / 2]).unwrap();
    all_fail(&f.victim, &[], &["cached root", "not valid"]);
}

// ---------------------------------------------------------------------------------------
// E01: local keys

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// Every path under `dir` (recursively), directories included.
fn all_paths(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(all_paths(&p));
        }
        out.push(p);
    }
    out
}

/// The key id of the `role` key of `gun` from `notary key list`.
fn key_id(c: &NotaryClient, role: &str, gun: &str) -> String {
    let out = c.ok(&["key", "list"]);
    let line = out
        .lines()
        .find(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            cols.first() == Some(&role) && cols.get(1) == Some(&gun)
        })
        .unwrap_or_else(|| panic!("no {role} key for {gun} in:\n{out}"));
    line.split_whitespace().nth(2).unwrap().to_owned()
}

/// E01 with umask 000: `private/` 0700 and keys 0600, `tuf/` directories 0700 and files
/// 0600; keys encrypted at rest; no passphrase option on the command line.
#[test]
fn keys_and_trust_dir_are_private_under_umask_000() {
    let server = start_our_server(None).unwrap_or_else(|e| panic!("{e}"));
    let mut c = ours(&server.url);
    let script = c.scratch().join("umask000-notary");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\numask 000\nexec '{}' \"$@\"\n",
            our_notary_bin().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    c.set_bin(script);
    c.ok(&["init", GUN, "-p"]);
    let a = write(&c, "a.txt", DATA_A);
    c.ok(&["add", GUN, "a", &a]);
    assert_eq!(good_rows(&c), 0);

    let private = c.trust_dir().join("private");
    assert_eq!(mode(&private), 0o700, "private/");
    let mut keys = 0;
    for p in all_paths(&private) {
        if p.is_dir() {
            assert_eq!(mode(&p), 0o700, "{}", p.display());
            continue;
        }
        assert_eq!(mode(&p), 0o600, "{}", p.display());
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(
            text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----"),
            "{}",
            p.display()
        );
        for plain in [
            "BEGIN PRIVATE KEY-----",
            "BEGIN EC PRIVATE KEY",
            "BEGIN RSA PRIVATE KEY",
        ] {
            assert!(!text.contains(plain), "{}: plaintext key", p.display());
        }
        keys += 1;
    }
    assert_eq!(keys, 3, "root, targets and snapshot keys");
    let tuf = c.trust_dir().join("tuf");
    assert_eq!(mode(&tuf), 0o700, "tuf/");
    let paths = all_paths(&tuf);
    assert!(paths.iter().any(|p| p.ends_with("metadata/root.json")));
    assert!(paths
        .iter()
        .any(|p| p.to_string_lossy().contains("changelist")));
    for p in paths {
        let want = if p.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode(&p), want, "{}", p.display());
    }

    // Passphrases never appear in the output, even with debug logging.
    let out = c.run(&["publish", GUN, "-D", "-v"], None);
    assert_eq!(out.status, 0, "{out}");
    for (_, pass) in notary_rs_tests::notary_cli::PASSPHRASE_ENV {
        assert!(
            !out.stdout.contains(pass) && !out.stderr.contains(pass),
            "passphrase {pass} printed: {out}"
        );
    }
    assert_eq!(good_rows(&c), 1);
    for p in all_paths(&tuf) {
        let want = if p.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode(&p), want, "after publish: {}", p.display());
    }

    // Passphrases are never taken on the command line.
    let out = c.run(&["init", GUN, "--passphrase", "secret"], None);
    assert_ne!(out.status, 0, "{out}");
    let out = c.run(&["publish", GUN, "--passphrase=secret"], None);
    assert_ne!(out.status, 0, "{out}");
}

/// E01: a wrong targets passphrase, a garbage key file and a foreign key in place of ours
/// make `publish` fail with a clear error; the changelist, the cache and the keys are
/// unchanged, and the same publish then succeeds with the right key.
#[test]
fn bad_keys_fail_publish_and_change_nothing() {
    let server = start_our_server(None).unwrap_or_else(|e| panic!("{e}"));
    let c = ours(&server.url);
    c.ok(&["init", GUN, "-p"]);
    c.ok(&["init", OTHER_GUN]);
    let a = write(&c, "a.txt", DATA_A);
    c.ok(&["add", GUN, "a", &a]);
    let targets_id = key_id(&c, "targets", GUN);
    let foreign_id = key_id(&c, "targets", OTHER_GUN);
    assert_ne!(targets_id, foreign_id);
    let private = c.trust_dir().join("private");
    let key_file = all_paths(&private)
        .into_iter()
        .find(|p| p.to_string_lossy().contains(&targets_id))
        .unwrap();
    let foreign_file = all_paths(&private)
        .into_iter()
        .find(|p| p.to_string_lossy().contains(&foreign_id))
        .unwrap();
    let key_bytes = std::fs::read(&key_file).unwrap();
    let snapshot = || (tree(&c.trust_dir().join("tuf")), tree(&private));
    let before = snapshot();

    let out = c.run_env(
        &["publish", GUN],
        None,
        &[("NOTARY_TARGETS_PASSPHRASE", "wrong")],
    );
    assert_eq!(out.status, 1, "{out}");
    assert!(
        out.stdout.contains("* fatal: ")
            && out.stdout.contains("passphrase")
            && out.stdout.contains("targets")
            && out.stdout.contains(&targets_id),
        "{out}"
    );
    assert!(
        snapshot() == before,
        "wrong passphrase changed the trust dir: {out}"
    );

    // Unreadable key files (root cannot be denied read access, so: garbage bytes, and a PEM
    // block with intact headers but a corrupt body): the error names the file.
    let corrupt_pem = format!(
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\ngun: {GUN}\nrole: targets\n\nbm90IGEga2V5\n\
         -----END ENCRYPTED PRIVATE KEY-----\n"
    );
    for garbage in [
        b"\x00\x01 not a key at all\n".to_vec(),
        corrupt_pem.into_bytes(),
    ] {
        std::fs::write(&key_file, &garbage).unwrap();
        let state = snapshot();
        let out = c.run(&["publish", GUN], None);
        assert_eq!(out.status, 1, "{out}");
        assert!(
            out.stdout.contains("* fatal: ")
                && out.stdout.contains(&key_file.display().to_string()),
            "garbage key must be named: {out}"
        );
        assert!(
            snapshot() == state,
            "garbage key changed the trust dir: {out}"
        );
    }

    // The other collection's targets key (same passphrase) under our key's file name, as
    // it is (gun header of the other collection) and relabelled with our GUN: never used.
    let foreign = std::fs::read_to_string(&foreign_file).unwrap();
    let relabelled = foreign.replace(&format!("gun: {OTHER_GUN}"), &format!("gun: {GUN}"));
    assert_ne!(foreign, relabelled);
    for (what, text) in [("foreign", foreign), ("relabelled", relabelled)] {
        std::fs::write(&key_file, &text).unwrap();
        let state = snapshot();
        let out = c.run(&["publish", GUN], None);
        assert_eq!(out.status, 1, "{what}: {out}");
        assert!(out.stdout.contains("* fatal: "), "{what}: {out}");
        if what == "relabelled" {
            assert!(
                out.stdout.contains(&key_file.display().to_string())
                    && out.stdout.contains(&foreign_id),
                "a key whose id differs from its file name is named: {out}"
            );
        } else {
            assert!(out.stdout.contains("targets"), "{what}: {out}");
        }
        assert!(
            snapshot() == state,
            "{what} key changed the trust dir: {out}"
        );
    }
    assert_eq!(
        ours(&server.url).list(GUN),
        vec![],
        "nothing signed with a foreign key reached the server"
    );

    std::fs::write(&key_file, &key_bytes).unwrap();
    assert!(snapshot() == before);
    c.ok(&["publish", GUN]);
    assert_eq!(good_rows(&c), 1);
}
