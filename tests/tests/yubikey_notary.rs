//! Root keys on YubiKeys through our `notary` CLI, end to end over the real stack:
//! `notary` -> `yubikey` crate -> `pcsc` -> pcscd -> vpcd -> hw-signer's virtual YubiKeys
//! (in this process), publishing to OUR notary-server and verified by the Go `notary` 0.7
//! client.
//!
//! Needs pcscd with the repository's vpcd readers (`scripts/pcscd-vpcd.sh start`, as root).
//! The tests share the two vpcd readers: each takes one process-wide lock.
//!
//! Touch accounting: a Notary root key is a self-signed X.509 certificate made with the key,
//! so creating one is a root-key signature (one touch), as is each root.json signature. Each
//! test asserts that every card consumed exactly as many touches as root-key signatures the
//! CLI announced and made for it, and none for targets/snapshot signatures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use hw_signer::list_devices;
use hw_signer::virtual_card::{CardConfig, TestCa, VirtualYubiKey, VPCD_PORT};
use notary_rs_tests::notary_cli::{
    notary_bin, our_notary_bin, split_columns, start_our_server, CmdOutput, NotaryClient,
    ServerUnderTest,
};
use sha2::{Digest, Sha256};

const NEW_PIN: &str = "246810";
const NEW_PUK: &str = "13579111";
const PORT_A: u16 = VPCD_PORT;
const PORT_B: u16 = VPCD_PORT + 1;

static HW_LOCK: Mutex<()> = Mutex::new(());

/// Serialises the tests that use pcscd; fails (never skips) when pcscd/vpcd are missing.
fn hw_lock() -> MutexGuard<'static, ()> {
    let guard = HW_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let how = "these tests need pcscd with vsmartcard's vpcd readers: run \
               `scripts/pcscd-vpcd.sh start` as root (it installs pcscd, libpcsclite-dev, \
               pkgconf and vsmartcard-vpcd when missing and starts pcscd with \
               scripts/pcsc/reader.conf.d); .ci/run does this";
    let ctx = pcsc::Context::establish(pcsc::Scope::System)
        .unwrap_or_else(|e| panic!("pcscd is not reachable ({e}): {how}"));
    let readers: Vec<String> = ctx
        .list_readers_owned()
        .unwrap_or_else(|e| panic!("pcscd lists no readers ({e}): {how}"))
        .iter()
        .map(|r| r.to_string_lossy().into_owned())
        .collect();
    assert!(
        readers
            .iter()
            .filter(|r| r.ends_with(" 00 00") || r.ends_with(" 00 01"))
            .count()
            >= 2,
        "pcscd has no vpcd reader pair (readers: {readers:?}): {how}"
    );
    guard
}

fn wait_listed(serial: u32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !list_devices().is_ok_and(|d| d.iter().any(|d| d.serial == serial)) {
        assert!(
            Instant::now() < deadline,
            "virtual YubiKey {serial} did not appear in pcscd within 10 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until pcscd saw the reader of `port` empty (Debian 12's vpcd gets stuck when a
/// vanished card is asked anything before that).
fn wait_empty(port: u16) {
    let suffix = if port == PORT_A { " 00 00" } else { " 00 01" };
    let ctx = pcsc::Context::establish(pcsc::Scope::System).expect("pcscd");
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let readers = ctx.list_readers_owned().unwrap_or_default();
        if let Some(name) = readers
            .iter()
            .find(|r| r.to_string_lossy().ends_with(suffix))
        {
            let mut states = [pcsc::ReaderState::new(name.clone(), pcsc::State::UNAWARE)];
            if ctx
                .get_status_change(Duration::from_millis(100), &mut states)
                .is_ok()
                && states[0].event_state().contains(pcsc::State::EMPTY)
            {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the vpcd reader of port {port} still holds a card 10 s after removal");
}

/// A factory-fresh attested card (test CA) on `port`, pressing its own button 1 ms after
/// each touch request.
fn card(ca: &TestCa, serial: u32, port: u16, touch_timeout: Duration) -> VirtualYubiKey {
    let mut cfg = CardConfig::new(serial);
    cfg.port = port;
    cfg.touch_timeout = touch_timeout;
    cfg.attestation = Some(ca.issue_device().unwrap());
    let card = VirtualYubiKey::start(cfg).unwrap();
    wait_listed(serial);
    card.set_auto_touch(Some(Duration::from_millis(1)));
    card
}

fn pull_out(card: VirtualYubiKey, port: u16) -> hw_signer::virtual_card::UnpluggedCard {
    let c = card.unplug().expect("card thread ended early");
    wait_empty(port);
    c
}

fn plug_in(card: hw_signer::virtual_card::UnpluggedCard, port: u16) -> VirtualYubiKey {
    let serial = card.serial();
    let card = card.plug(port).unwrap();
    wait_listed(serial);
    card.set_auto_touch(Some(Duration::from_millis(1)));
    card
}

/// Our notary with a YubiKey-aware environment: the test CA pinned, the PIN in the env.
struct Ours {
    client: NotaryClient,
    ca_pem: PathBuf,
    env: Vec<(String, String)>,
}

impl Ours {
    fn new(server: &ServerUnderTest, ca: &TestCa) -> Self {
        let mut client = NotaryClient::new(&server.url);
        client.set_bin(our_notary_bin());
        let ca_pem = client.scratch().join("test-ca.pem");
        std::fs::write(&ca_pem, ca.cert_pem().unwrap()).unwrap();
        Self {
            client,
            ca_pem,
            env: vec![("NOTARY_YUBIKEY_PIN".into(), NEW_PIN.into())],
        }
    }

    fn run(&self, args: &[&str], stdin: Option<&str>, extra_env: &[(&str, &str)]) -> CmdOutput {
        let ca = self.ca_pem.display().to_string();
        let mut full = vec!["--attestation-ca", ca.as_str()];
        full.extend_from_slice(args);
        let mut env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        env.extend_from_slice(extra_env);
        self.client.run_env(&full, stdin, &env)
    }

    #[track_caller]
    fn ok(&self, args: &[&str]) -> CmdOutput {
        self.ok_with(args, None, &[])
    }

    #[track_caller]
    fn ok_with(&self, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> CmdOutput {
        let out = self.run(args, stdin, env);
        assert_eq!(out.status, 0, "expected success:\n{out}");
        out
    }

    #[track_caller]
    fn fails(&self, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> CmdOutput {
        let out = self.run(args, stdin, env);
        assert_eq!(out.status, 1, "expected failure:\n{out}");
        out
    }

    /// `yubikey enrol` of one card: new PIN and PUK from the env, the new management key
    /// to a file.
    fn enrol(&self, serial: u32) -> CmdOutput {
        let mgm = self.client.scratch().join(format!("mgm-{serial}.hex"));
        let s = serial.to_string();
        let m = mgm.display().to_string();
        let out = self.ok_with(
            &["yubikey", "enrol", "--serial", &s, "--mgm-key-out", &m],
            None,
            &[
                ("NOTARY_YUBIKEY_NEW_PIN", NEW_PIN),
                ("NOTARY_YUBIKEY_NEW_PUK", NEW_PUK),
            ],
        );
        assert!(
            out.stdout.contains(&format!("Enrolled YubiKey {serial}"))
                && out.stdout.contains("attestation verified against"),
            "{out}"
        );
        assert_eq!(
            std::fs::read_to_string(&mgm).unwrap().trim().len(),
            48,
            "AES-192 key in hex"
        );
        out
    }

    fn file(&self, name: &str, data: &[u8]) -> String {
        let p = self.client.scratch().join(name);
        std::fs::write(&p, data).unwrap();
        p.display().to_string()
    }
}

/// How many root-key signatures the CLI announced for `serial` in `out` (the touch prompt
/// printed right before each).
fn announced(out: &CmdOutput, serial: u32) -> u64 {
    out.stderr
        .matches(&format!("Touch your YubiKey (serial {serial})"))
        .count() as u64
}

fn row(name: &str, data: &[u8]) -> (String, String, u64, String) {
    (
        name.to_owned(),
        hex::encode(Sha256::digest(data)),
        data.len() as u64,
        "targets".to_owned(),
    )
}

/// A fresh Go `notary` trust directory (TOFU on first use) listing `gun`.
fn go_lists(server: &ServerUnderTest, gun: &str) -> Vec<(String, String, u64, String)> {
    NotaryClient::new(&server.url).list(gun)
}

/// Every file under `dir` with its bytes.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.insert(p.clone(), Vec::new());
                stack.push(p);
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// What the server serves for `gun`: root, targets and timestamp bytes.
fn served(server: &ServerUnderTest, gun: &str) -> Vec<Vec<u8>> {
    let http = reqwest::blocking::Client::new();
    ["root", "targets", "timestamp"]
        .iter()
        .map(|role| {
            let url = format!("{}/v2/{gun}/_trust/tuf/{role}.json", server.url);
            let resp = http.get(&url).send().unwrap();
            assert!(resp.status().is_success(), "GET {url}: {}", resp.status());
            resp.bytes().unwrap().to_vec()
        })
        .collect()
}

fn served_root(server: &ServerUnderTest, gun: &str) -> serde_json::Value {
    serde_json::from_slice(&served(server, gun)[0]).unwrap()
}

#[test]
fn threshold_two_root_on_two_yubikeys_created_published_rotated_and_verified_by_go() {
    let _g = hw_lock();
    let started = Instant::now();
    let gun = "example.com/yubikey-threshold";
    let (sa, sb, sc, sd) = (21_000_001, 21_000_002, 21_000_003, 21_000_004);
    let ca = TestCa::generate("Test PIV Root CA").unwrap();
    let server = start_our_server(None).unwrap_or_else(|e| panic!("{e}"));
    let ours = Ours::new(&server, &ca);

    // Two cards, enrolled through the CLI (no touch: generation needs none).
    let a = card(&ca, sa, PORT_A, Duration::from_secs(15));
    let b = card(&ca, sb, PORT_B, Duration::from_secs(15));
    ours.enrol(sa);
    ours.enrol(sb);
    let listed = ours.ok(&["yubikey", "list"]).stdout;
    for s in [sa, sb] {
        let line = listed
            .lines()
            .find(|l| l.starts_with(&s.to_string()))
            .unwrap_or_else(|| panic!("{s} not listed:\n{listed}"));
        assert_eq!(
            split_columns(line),
            [
                &s.to_string(),
                "5.7.1",
                "P-256",
                "always",
                "always",
                "generated",
                "3",
                "none"
            ],
            "{listed}"
        );
    }
    assert_eq!((a.touches_consumed(), b.touches_consumed()), (0, 0));

    // Two serials that are the same device are refused before any touch.
    let same = ours.fails(
        &[
            "init",
            gun,
            "--root-yubikey",
            &sa.to_string(),
            "--root-yubikey",
            &sa.to_string(),
            "--root-threshold",
            "2",
        ],
        None,
        &[],
    );
    assert!(same.stdout.contains("distinct devices"), "{same}");
    // A device that is not connected: refused before any touch as well.
    let absent = ours.fails(
        &[
            "init",
            gun,
            "--root-yubikey",
            &sa.to_string(),
            "--root-yubikey",
            "29999999",
            "--root-threshold",
            "2",
        ],
        None,
        &[],
    );
    assert!(absent.stdout.contains("29999999 not connected"), "{absent}");
    assert_eq!((a.touches_consumed(), b.touches_consumed()), (0, 0));

    // init: two root certificates + root.json signed by both = 2 touches per card.
    let init = ours.ok(&[
        "init",
        gun,
        "--root-yubikey",
        &sa.to_string(),
        "--root-yubikey",
        &sb.to_string(),
        "--root-threshold",
        "2",
    ]);
    assert_eq!(announced(&init, sa), 2, "{init}");
    assert_eq!(announced(&init, sb), 2, "{init}");
    assert_eq!((a.touches_consumed(), b.touches_consumed()), (2, 2));

    // Targets and snapshot are software keys: no touch.
    let v1 = b"release 1".to_vec();
    let f1 = ours.file("v1.bin", &v1);
    ours.ok(&["add", gun, "v1", &f1]);
    let publish = ours.ok(&["publish", gun]);
    assert_eq!(announced(&publish, sa) + announced(&publish, sb), 0);
    assert_eq!((a.touches_consumed(), b.touches_consumed()), (2, 2));

    let root = served_root(&server, gun);
    assert_eq!(root["signed"]["version"], 1);
    assert_eq!(root["signed"]["roles"]["root"]["threshold"], 2);
    assert_eq!(root["signatures"].as_array().unwrap().len(), 2);

    // Go: a fresh trust dir trusts the YubiKey root and lists the target; this one also
    // follows the rotation below.
    let go_old = NotaryClient::new(&server.url);
    assert_eq!(go_old.list(gun), vec![row("v1", &v1)]);

    let keys = ours.ok(&["key", "list"]).stdout;
    for s in [sa, sb] {
        assert!(
            keys.contains(&format!("yubikey {s} slot 9c (attested)")),
            "{keys}"
        );
    }
    // Go notary still reads this trust directory: it ignores the stubs and lists its keys.
    let go_keys = std::process::Command::new(notary_bin())
        .arg("-d")
        .arg(ours.client.trust_dir())
        .args(["key", "list"])
        .env("HOME", ours.client.scratch())
        .output()
        .unwrap();
    let go_keys_out = String::from_utf8_lossy(&go_keys.stdout);
    assert!(go_keys.status.success(), "{go_keys:?}");
    assert!(
        go_keys_out.contains("targets") && go_keys_out.contains("snapshot"),
        "{go_keys_out}"
    );

    // Rotation onto two new devices C and D through the offline ceremony. The vpcd entry
    // has two readers, so A and B go into the drawer (keeping their keys) while C and D
    // are enrolled and make the request.
    let a = pull_out(a, PORT_A);
    let b = pull_out(b, PORT_B);
    let c = card(&ca, sc, PORT_A, Duration::from_secs(15));
    let d = card(&ca, sd, PORT_B, Duration::from_secs(15));
    ours.enrol(sc);
    ours.enrol(sd);
    // A direct rotation needs the old root's devices too: refused before any touch.
    let direct = ours.fails(
        &[
            "key",
            "rotate",
            gun,
            "root",
            "--yubikey",
            &sc.to_string(),
            "--yubikey",
            &sd.to_string(),
            "--threshold",
            "2",
        ],
        Some("yes\n"),
        &[],
    );
    assert!(
        direct.stdout.contains("needs 2 signature(s) and only 0")
            && direct.stdout.contains(&format!("YubiKey {sa} holding key")),
        "{direct}"
    );
    assert_eq!((c.touches_consumed(), d.touches_consumed()), (0, 0));
    let req = ours.client.scratch().join("root-request.json");
    let req_s = req.display().to_string();
    // The new root certificates: one touch each on C and D.
    let request = ours.ok(&[
        "root",
        "request",
        gun,
        "--yubikey",
        &sc.to_string(),
        "--yubikey",
        &sd.to_string(),
        "--threshold",
        "2",
        "-o",
        &req_s,
    ]);
    assert_eq!(announced(&request, sc), 1, "{request}");
    assert_eq!(announced(&request, sd), 1, "{request}");
    assert_eq!((c.touches_consumed(), d.touches_consumed()), (1, 1));

    // `root sign` runs with no trust directory, config or server (an offline machine).
    let offline = tempfile::tempdir().unwrap();
    let sign = |serial: u32| -> (PathBuf, CmdOutput) {
        let out_path = ours.client.scratch().join(format!("sig-{serial}.json"));
        let out = std::process::Command::new(our_notary_bin())
            .args([
                "root",
                "sign",
                &req_s,
                "--yubikey",
                &serial.to_string(),
                "-o",
            ])
            .arg(&out_path)
            .env_clear()
            .env("HOME", offline.path())
            .env("NOTARY_YUBIKEY_PIN", NEW_PIN)
            .current_dir(offline.path())
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let out = CmdOutput {
            command: format!("notary root sign {serial}"),
            status: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        assert_eq!(out.status, 0, "{out}");
        assert_eq!(announced(&out, serial), 1, "{out}");
        (out_path, out)
    };
    let (sig_c, _) = sign(sc);
    let (sig_d, _) = sign(sd);
    assert_eq!((c.touches_consumed(), d.touches_consumed()), (2, 2));
    assert!(
        std::fs::read_dir(offline.path()).unwrap().next().is_none(),
        "root sign wrote nothing but its output"
    );

    // C and D go into the drawer; A and B come back to sign the handover.
    let c = pull_out(c, PORT_A);
    let d = pull_out(d, PORT_B);
    let a = plug_in(a, PORT_A);
    let b = plug_in(b, PORT_B);
    let (sig_a, _) = sign(sa);
    assert_eq!(a.touches_consumed(), 3);

    // Without B's signature the trusted root's threshold (2) is not met: refused.
    let p = |x: &PathBuf| x.display().to_string();
    let short = ours.fails(
        &[
            "root",
            "import",
            gun,
            &req_s,
            &p(&sig_a),
            &p(&sig_c),
            &p(&sig_d),
        ],
        None,
        &[],
    );
    assert!(short.stdout.contains("threshold is 2"), "{short}");

    let (sig_b, _) = sign(sb);
    assert_eq!(b.touches_consumed(), 3);
    ours.ok(&[
        "root",
        "import",
        gun,
        &req_s,
        &p(&sig_a),
        &p(&sig_b),
        &p(&sig_c),
        &p(&sig_d),
    ]);
    let publish = ours.ok(&["publish", gun]);
    assert_eq!(announced(&publish, sa) + announced(&publish, sb), 0);

    let root = served_root(&server, gun);
    assert_eq!(root["signed"]["version"], 2);
    assert_eq!(root["signed"]["roles"]["root"]["threshold"], 2);
    assert_eq!(root["signatures"].as_array().unwrap().len(), 4);

    // Go: the trust dir that knew root v1 follows the rotation; a fresh one trusts v2.
    assert_eq!(go_old.list(gun), vec![row("v1", &v1)]);
    assert_eq!(go_lists(&server, gun), vec![row("v1", &v1)]);
    // And a later publish needs no root key at all.
    let v2 = b"release 2".to_vec();
    let f2 = ours.file("v2.bin", &v2);
    ours.ok(&["add", gun, "v2", &f2]);
    ours.ok(&["publish", gun]);
    assert_eq!(go_old.list(gun), vec![row("v1", &v1), row("v2", &v2)]);

    // Exactly one touch per root-key signature: A and B made their certificate, root v1
    // and the handover of v2 (3 each); C and D their certificate and v2 (2 each).
    assert_eq!(
        (
            a.touches_consumed(),
            b.touches_consumed(),
            c.touches_consumed(),
            d.touches_consumed()
        ),
        (3, 3, 2, 2)
    );
    drop((a, b));
    wait_empty(PORT_A);
    wait_empty(PORT_B);
    eprintln!("threshold-2 scenario took {:?}", started.elapsed());
}

#[test]
fn no_touch_fails_the_rotation_and_changes_nothing_then_rotation_onto_a_yubikey() {
    let _g = hw_lock();
    let started = Instant::now();
    let gun = "example.com/yubikey-timeout";
    let sa = 22_000_001;
    let ca = TestCa::generate("Test PIV Root CA").unwrap();
    let server = start_our_server(None).unwrap_or_else(|e| panic!("{e}"));
    let ours = Ours::new(&server, &ca);

    // A YubiKey root (threshold 1), published.
    let a = card(&ca, sa, PORT_A, Duration::from_millis(1500));
    ours.enrol(sa);
    ours.ok(&["init", gun, "--root-yubikey", &sa.to_string()]);
    let v1 = b"timeout test".to_vec();
    let f1 = ours.file("t.bin", &v1);
    ours.ok(&["add", gun, "t", &f1]);
    ours.ok(&["publish", gun]);
    ours.ok(&["list", gun]);
    assert_eq!(a.touches_consumed(), 2);

    // Nobody touches: rotating the root away (the YubiKey must sign the handover) fails,
    // and neither the trust directory nor the server changed.
    a.set_auto_touch(None);
    let before_dir = tree(ours.client.trust_dir());
    let before_server = served(&server, gun);
    let out = ours.fails(&["key", "rotate", gun, "root"], Some("yes\n"), &[]);
    assert!(out.stdout.contains("not touched in time"), "{out}");
    assert_eq!(announced(&out, sa), 1, "{out}");
    assert_eq!(a.touches_consumed(), 2, "the missed touch was not consumed");
    assert!(
        tree(ours.client.trust_dir()) == before_dir,
        "trust dir changed"
    );
    assert!(served(&server, gun) == before_server, "server changed");

    // Wrong PIN: the card says how many attempts are left and the CLI does not retry.
    a.clear_apdu_log();
    let verify_with_pin = |card: &VirtualYubiKey| {
        card.apdu_log()
            .iter()
            .filter(|r| r.ins == 0x20 && r.len > 0)
            .count()
    };
    let out = ours.fails(
        &["key", "rotate", gun, "root"],
        Some("yes\n"),
        &[("NOTARY_YUBIKEY_PIN", "999999")],
    );
    assert!(
        out.stdout.contains("wrong PIN") && out.stdout.contains("2 attempt(s) left"),
        "{out}"
    );
    assert_eq!(verify_with_pin(&a), 1, "one PIN VERIFY, never retried");
    assert_eq!(a.touches_consumed(), 2);
    assert!(
        tree(ours.client.trust_dir()) == before_dir,
        "trust dir changed"
    );
    assert!(served(&server, gun) == before_server, "server changed");

    // A second wrong PIN leaves one attempt, which a script may only use when it says so:
    // without NOTARY_YUBIKEY_CONFIRM_LAST_ATTEMPT=yes not even the right PIN is sent.
    let out = ours.fails(
        &["key", "rotate", gun, "root"],
        Some("yes\n"),
        &[("NOTARY_YUBIKEY_PIN", "999999")],
    );
    assert!(out.stdout.contains("1 attempt(s) left"), "{out}");
    a.clear_apdu_log();
    let out = ours.fails(&["key", "rotate", gun, "root"], Some("yes\n"), &[]);
    assert!(
        out.stdout.contains("only one PIN attempt is left")
            && out
                .stderr
                .contains("NOTARY_YUBIKEY_CONFIRM_LAST_ATTEMPT=yes"),
        "{out}"
    );
    assert_eq!(verify_with_pin(&a), 0, "nothing sent");
    assert_eq!(a.touches_consumed(), 2);
    assert!(
        tree(ours.client.trust_dir()) == before_dir,
        "trust dir changed"
    );
    assert!(served(&server, gun) == before_server, "server changed");

    // With the touch (and the last attempt confirmed): the root goes back onto a software
    // key (old YubiKey root signs: one touch), then onto the YubiKey again (the software
    // root signs the handover; the new certificate and root.json: two touches).
    a.set_auto_touch(Some(Duration::from_millis(1)));
    let out = ours.ok_with(
        &["key", "rotate", gun, "root"],
        Some("yes\n"),
        &[("NOTARY_YUBIKEY_CONFIRM_LAST_ATTEMPT", "yes")],
    );
    assert_eq!(announced(&out, sa), 1, "{out}");
    assert_eq!(a.touches_consumed(), 3);
    let out = ours.ok_with(
        &["key", "rotate", gun, "root", "--yubikey", &sa.to_string()],
        Some("yes\n"),
        &[],
    );
    assert_eq!(announced(&out, sa), 2, "{out}");
    assert_eq!(a.touches_consumed(), 5);
    assert_eq!(served_root(&server, gun)["signed"]["version"], 3);
    assert_eq!(go_lists(&server, gun), vec![row("t", &v1)]);
    drop(a);
    wait_empty(PORT_A);
    eprintln!("timeout scenario took {:?}", started.elapsed());
}

#[test]
fn enrol_refuses_default_secrets_and_init_refuses_a_cached_touch_key() {
    let _g = hw_lock();
    let gun = "example.com/yubikey-refusals";
    let sa = 23_000_001;
    let ca = TestCa::generate("Test PIV Root CA").unwrap();
    let server = start_our_server(None).unwrap_or_else(|e| panic!("{e}"));
    let ours = Ours::new(&server, &ca);
    let a = card(&ca, sa, PORT_A, Duration::from_secs(15));

    // Factory-default PIN and no new one: refused, nothing generated.
    let out = ours.fails(
        &["yubikey", "enrol", "--serial", &sa.to_string()],
        None,
        &[],
    );
    assert!(
        out.stdout.contains("still the factory default")
            && out.stdout.contains("--allow-default-secrets"),
        "{out}"
    );
    assert!(
        ours.ok(&["yubikey", "list"]).stdout.contains("empty"),
        "slot 9c stays empty"
    );

    // A key generated with touch CACHED (one touch would cover 15 s of signatures) is
    // refused before any signature.
    {
        let mut yk = yubikey::YubiKey::open_by_serial(yubikey::Serial(sa)).unwrap();
        let mgm = yubikey::MgmKey::from_bytes(
            hw_signer::virtual_card::DEFAULT_MGM_KEY,
            Some(yubikey::MgmAlgorithmId::Aes192),
        )
        .unwrap();
        yk.authenticate(&mgm).unwrap();
        yubikey::piv::generate(
            &mut yk,
            yubikey::piv::SlotId::Signature,
            yubikey::piv::AlgorithmId::EccP256,
            yubikey::PinPolicy::Always,
            yubikey::TouchPolicy::Cached,
        )
        .unwrap();
    }
    let out = ours.fails(&["init", gun, "--root-yubikey", &sa.to_string()], None, &[]);
    assert!(out.stdout.to_lowercase().contains("cached"), "{out}");
    assert_eq!(a.touches_consumed(), 0);
    assert_eq!(a.touch_requests(), 0);
    drop(a);
    wait_empty(PORT_A);
}
