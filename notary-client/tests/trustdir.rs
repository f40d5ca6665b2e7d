#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Configuration, trust directory and changelist: unit behaviour and interoperability with the
//! Go `notary` 0.7 binary (`/usr/bin/notary`; required).

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use notary_client::changelist::{
    change_file_name, parse_change_file_name, parse_delegation_data, parse_target_data,
    status_table, target_data, target_data_raw, Action, Change, ChangeKind, Changelist,
    DelegationChange,
};
use notary_client::config::{self, ClientConfig, GlobalFlags, DEFAULT_SERVER_URL};
use notary_client::trustdir::RepoDir;
use sha2::Digest;
use tuf_core::name::{Gun, RoleName};
use tuf_core::Dialect;

// ------------------------------------------------------------------------------------------
// helpers

fn env_with_home(home: &Path) -> impl Fn(&str) -> Option<String> {
    let home = home.to_string_lossy().into_owned();
    move |k: &str| (k == "HOME").then(|| home.clone())
}

fn gun(s: &str) -> Gun {
    Gun::parse(s).unwrap()
}

fn role(s: &str) -> RoleName {
    match s {
        "root" => RoleName::root(),
        "targets" => RoleName::targets(),
        "snapshot" => RoleName::snapshot(),
        "timestamp" => RoleName::timestamp(),
        _ => RoleName::delegated(Dialect::Notary, s).unwrap(),
    }
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// The Go binary; a missing peer fails the test.
fn go_notary() -> PathBuf {
    let p = PathBuf::from("/usr/bin/notary");
    assert!(
        p.exists(),
        "the Go notary 0.7 peer is missing at /usr/bin/notary: apt-get install notary"
    );
    p
}

/// Runs Go notary offline against `trust_dir` with an empty HOME; returns (status, stdout).
fn run_go(bin: &Path, home: &Path, trust_dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(bin)
        .env_clear()
        .env("HOME", home)
        .env("PATH", "/usr/bin:/bin")
        .arg("-d")
        .arg(trust_dir)
        .args(["-s", "http://127.0.0.1:9"])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn hashes_of(content: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut h = BTreeMap::new();
    h.insert("sha256".to_owned(), sha2::Sha256::digest(content).to_vec());
    h.insert("sha512".to_owned(), sha2::Sha512::digest(content).to_vec());
    h
}

fn target_change(path: &str, content: &[u8]) -> Change {
    Change {
        action: Action::Create,
        scope: "targets".to_owned(),
        kind: ChangeKind::Target,
        path: path.to_owned(),
        data: target_data(content.len() as u64, &hashes_of(content), None),
    }
}

fn change_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

// The delegation public key from the e2e transcript (`notary key generate ... -o releases`).
const RELEASES_PEM: &str = "-----BEGIN PUBLIC KEY-----
role: targets/releases

MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE+iUXqTaL6ydY3dS5LWRurOMLroTN
g8crnjyqw0EwVah2gyyZ51afjSoYxuX5wtJHac7DSa7uKl7BUZ/LUU9O7Q==
-----END PUBLIC KEY-----
";

const TRANSCRIPT: &str = "/work/shared/fixtures/notary-0.7/transcripts/e2e-client.txt";

// ------------------------------------------------------------------------------------------
// config

#[test]
fn config_defaults_without_file() {
    let home = tempfile::tempdir().unwrap();
    let cfg = config::load(&GlobalFlags::default(), &env_with_home(home.path())).unwrap();
    assert_eq!(
        cfg,
        ClientConfig {
            trust_dir: home.path().join(".notary"),
            server_url: DEFAULT_SERVER_URL.to_owned(),
            root_ca: None,
            tls_client_cert: None,
            tls_client_key: None,
            skip_tls_verify: false,
            trust_pinning: Default::default(),
        }
    );
    assert_eq!(DEFAULT_SERVER_URL, "https://notary-server:4443");
}

#[test]
fn config_default_file_in_home_is_read() {
    let home = tempfile::tempdir().unwrap();
    fs::create_dir(home.path().join(".notary")).unwrap();
    fs::write(
        home.path().join(".notary/config.json"),
        r#"{"remote_server":{"url":"http://127.0.0.1:4480","root_ca":"ca.crt"}}"#,
    )
    .unwrap();
    let cfg = config::load(&GlobalFlags::default(), &env_with_home(home.path())).unwrap();
    assert_eq!(cfg.server_url, "http://127.0.0.1:4480");
    assert_eq!(cfg.root_ca, Some(home.path().join(".notary/ca.crt")));
    assert_eq!(cfg.trust_dir, home.path().join(".notary"));
}

#[test]
fn config_file_with_relative_paths() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("conf");
    fs::create_dir(&sub).unwrap();
    let file = sub.join("config.json");
    fs::write(
        &file,
        r#"{ "trust_dir": "/abs/trust",
             "remote_server": { "url": "https://127.0.0.1:4443", "root_ca": "root-ca.crt",
                                "tls_client_cert": "../client.crt", "TLS_Client_Key": "/k/client.key",
                                "skipTLSVerify": true },
             "trust_pinning": { "certs": {"example.com/app": ["abc", "def"]},
                                "ca": {"example.com/": "ca.pem"}, "disable_tofu": "true" } }"#,
    )
    .unwrap();
    let flags = GlobalFlags {
        config_file: Some(file),
        ..GlobalFlags::default()
    };
    let cfg = config::load(&flags, &env_with_home(home.path())).unwrap();
    assert_eq!(cfg.trust_dir, PathBuf::from("/abs/trust"));
    assert_eq!(cfg.server_url, "https://127.0.0.1:4443");
    assert_eq!(cfg.root_ca, Some(sub.join("root-ca.crt")));
    assert_eq!(cfg.tls_client_cert, Some(dir.path().join("client.crt")));
    assert_eq!(cfg.tls_client_key, Some(PathBuf::from("/k/client.key")));
    assert!(cfg.skip_tls_verify);
    assert_eq!(
        cfg.trust_pinning.certs["example.com/app"],
        vec!["abc".to_owned(), "def".to_owned()]
    );
    assert_eq!(
        cfg.trust_pinning.ca["example.com/"],
        PathBuf::from("ca.pem")
    );
    assert!(cfg.trust_pinning.disable_tofu);
}

#[test]
fn config_relative_trust_dir_in_file_is_kept_as_go_does() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("c.json");
    fs::write(&file, r#"{"trust_dir": "rel/trust"}"#).unwrap();
    let flags = GlobalFlags {
        config_file: Some(file),
        ..GlobalFlags::default()
    };
    let cfg = config::load(&flags, &env_with_home(home.path())).unwrap();
    assert_eq!(cfg.trust_dir, PathBuf::from("rel/trust"));
}

#[test]
fn config_flags_override_file_and_are_relative_to_cwd() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("c.json");
    fs::write(
        &file,
        r#"{"trust_dir": "/from/file", "remote_server": {"url": "https://file:1", "root_ca": "f.crt",
            "tls_client_cert": "c.crt", "tls_client_key": "c.key"}}"#,
    )
    .unwrap();
    let flags = GlobalFlags {
        config_file: Some(file),
        trust_dir: Some(PathBuf::from("td/../trust")),
        server: Some("http://flag:2".to_owned()),
        tls_ca_cert: Some(PathBuf::from("ca.crt")),
        tls_cert: Some(PathBuf::from("/abs/cert.crt")),
        tls_key: Some(PathBuf::from("./k.key")),
    };
    let cwd = Path::new("/work/here");
    let cfg = config::load_with_cwd(&flags, &env_with_home(home.path()), cwd).unwrap();
    assert_eq!(cfg.trust_dir, PathBuf::from("/work/here/trust"));
    assert_eq!(cfg.server_url, "http://flag:2");
    assert_eq!(cfg.root_ca, Some(PathBuf::from("/work/here/ca.crt")));
    assert_eq!(cfg.tls_client_cert, Some(PathBuf::from("/abs/cert.crt")));
    assert_eq!(cfg.tls_client_key, Some(PathBuf::from("/work/here/k.key")));

    // With the real cwd through `load`.
    let flags = GlobalFlags {
        trust_dir: Some(PathBuf::from("some-trust")),
        ..GlobalFlags::default()
    };
    let cfg = config::load(&flags, &env_with_home(home.path())).unwrap();
    assert_eq!(
        cfg.trust_dir,
        std::env::current_dir().unwrap().join("some-trust")
    );
}

#[test]
fn config_tilde_expansion() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("c.json");
    let load_with = |td: &str| {
        fs::write(&file, format!(r#"{{"trust_dir": "{td}"}}"#)).unwrap();
        let flags = GlobalFlags {
            config_file: Some(file.clone()),
            ..GlobalFlags::default()
        };
        config::load(&flags, &env_with_home(home.path()))
            .unwrap()
            .trust_dir
    };
    assert_eq!(load_with("~/trust"), home.path().join("trust"));
    assert_eq!(load_with("~"), home.path().to_path_buf());
    assert_eq!(load_with("~other/x"), PathBuf::from("~other/x"));
}

#[test]
fn config_malformed_file_is_an_error_naming_the_file() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("broken.json");
    fs::write(&file, "{ \"trust_dir\": ").unwrap();
    let flags = GlobalFlags {
        config_file: Some(file.clone()),
        ..GlobalFlags::default()
    };
    let err = config::load(&flags, &env_with_home(home.path())).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(&file.display().to_string()), "{msg}");
    assert!(msg.contains("parsing config file"), "{msg}");

    // The default file too, when present but malformed.
    fs::create_dir(home.path().join(".notary")).unwrap();
    fs::write(home.path().join(".notary/config.json"), "[1, 2").unwrap();
    let err = config::load(&GlobalFlags::default(), &env_with_home(home.path())).unwrap_err();
    assert!(err.to_string().contains(".notary/config.json"), "{err}");
}

#[test]
fn config_missing_explicit_file_is_an_error() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("nope.json");
    let flags = GlobalFlags {
        config_file: Some(file.clone()),
        ..GlobalFlags::default()
    };
    let err = config::load(&flags, &env_with_home(home.path())).unwrap_err();
    assert!(
        err.to_string().contains(&file.display().to_string()),
        "{err}"
    );
}

#[test]
fn config_wrong_types_are_errors() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("c.json");
    fs::write(
        &file,
        r#"{"trust_pinning": {"certs": {"g": "not-a-list"}}}"#,
    )
    .unwrap();
    let flags = GlobalFlags {
        config_file: Some(file),
        ..GlobalFlags::default()
    };
    let err = config::load(&flags, &env_with_home(home.path())).unwrap_err();
    assert!(err.to_string().contains("trust_pinning.certs"), "{err}");
}

// ------------------------------------------------------------------------------------------
// trust directory

#[test]
fn trustdir_metadata_paths_and_gun_with_colon() {
    let td = Path::new("/t");
    let repo = RepoDir::new(td, &gun("localhost:5000/app"));
    assert_eq!(repo.path(), Path::new("/t/tuf/localhost:5000/app"));
    assert_eq!(
        repo.metadata_path(&role("root")).unwrap(),
        PathBuf::from("/t/tuf/localhost:5000/app/metadata/root.json")
    );
    assert_eq!(
        repo.metadata_path(&role("targets/releases")).unwrap(),
        PathBuf::from("/t/tuf/localhost:5000/app/metadata/targets/releases.json")
    );
    assert_eq!(
        repo.metadata_path(&role("targets/a/b")).unwrap(),
        PathBuf::from("/t/tuf/localhost:5000/app/metadata/targets/a/b.json")
    );
    assert_eq!(
        repo.changelist_dir(),
        PathBuf::from("/t/tuf/localhost:5000/app/changelist")
    );
    // A TUF-spec role name that would escape the directory is refused.
    let evil = RoleName::delegated(Dialect::TufSpec, "../../x").unwrap();
    assert!(repo.metadata_path(&evil).is_err());
    assert!(repo.write_metadata(&evil, b"x").is_err());
}

#[test]
fn trustdir_write_read_remove_and_delete_all() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = RepoDir::new(tmp.path(), &gun("localhost:5000/app"));
    assert_eq!(repo.read_metadata(&role("root")).unwrap(), None);
    repo.write_metadata(&role("root"), b"one").unwrap();
    repo.write_metadata(&role("root"), b"two").unwrap();
    repo.write_metadata(&role("targets/releases"), b"rel")
        .unwrap();
    assert_eq!(
        repo.read_metadata(&role("root")).unwrap().as_deref(),
        Some(&b"two"[..])
    );
    assert_eq!(
        fs::read(
            tmp.path()
                .join("tuf/localhost:5000/app/metadata/targets/releases.json")
        )
        .unwrap(),
        b"rel"
    );
    // No temporary files left behind.
    assert_eq!(
        change_files(&repo.metadata_dir()),
        vec!["root.json".to_owned(), "targets".to_owned()]
    );
    assert_eq!(
        change_files(&repo.metadata_dir().join("targets")),
        vec!["releases.json".to_owned()]
    );
    repo.remove_metadata(&role("root")).unwrap();
    repo.remove_metadata(&role("root")).unwrap();
    assert_eq!(repo.read_metadata(&role("root")).unwrap(), None);

    let other = RepoDir::new(tmp.path(), &gun("localhost:5000/other"));
    other.write_metadata(&role("root"), b"o").unwrap();
    repo.delete_all().unwrap();
    repo.delete_all().unwrap();
    assert!(!tmp.path().join("tuf/localhost:5000/app").exists());
    assert!(tmp
        .path()
        .join("tuf/localhost:5000/other/metadata/root.json")
        .exists());
}

/// Re-runs the named test in a child process whose umask is 000, so the modes we set are
/// checked without relying on the default umask (and without `unsafe` umask calls).
fn in_umask_000(test: &str) -> bool {
    if std::env::var_os("NOTARY_TEST_UMASK_CHILD").is_some() {
        return true;
    }
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("/bin/sh")
        .arg("-c")
        .arg("umask 000 && exec \"$0\" \"$@\"")
        .arg(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env("NOTARY_TEST_UMASK_CHILD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    false
}

#[test]
fn trustdir_modes_0600_0700_under_umask_000() {
    if !in_umask_000("trustdir_modes_0600_0700_under_umask_000") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let td = tmp.path().join("trust");
    let repo = RepoDir::new(&td, &gun("example.com/app"));
    repo.write_metadata(&role("targets/releases"), b"x")
        .unwrap();
    repo.write_metadata(&role("root"), b"r").unwrap();
    let cl = Changelist::open(&repo).unwrap();
    let name = cl.add(&target_change("v1", b"hello")).unwrap();
    for dir in [
        td.clone(),
        td.join("tuf"),
        td.join("tuf/example.com"),
        repo.path().to_path_buf(),
        repo.metadata_dir(),
        repo.metadata_dir().join("targets"),
        repo.changelist_dir(),
    ] {
        assert_eq!(mode(&dir), 0o700, "{}", dir.display());
    }
    for file in [
        repo.metadata_path(&role("root")).unwrap(),
        repo.metadata_path(&role("targets/releases")).unwrap(),
        repo.changelist_dir().join(name),
    ] {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
}

// ------------------------------------------------------------------------------------------
// changelist

#[test]
fn changelist_round_trip_order_and_file_names() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = RepoDir::new(tmp.path(), &gun("example.com/app"));
    let cl = Changelist::open(&repo).unwrap();
    assert!(cl.is_empty().unwrap());
    let changes = vec![
        target_change("v1", b"hello world v1\n"),
        Change {
            action: Action::Delete,
            scope: "targets".into(),
            kind: ChangeKind::Target,
            path: "v2".into(),
            data: Vec::new(),
        },
        Change {
            action: Action::Update,
            scope: "targets/releases".into(),
            kind: ChangeKind::Witness,
            path: String::new(),
            data: Vec::new(),
        },
    ];
    let mut names = Vec::new();
    for c in &changes {
        names.push(cl.add(c).unwrap());
    }
    assert_eq!(cl.list().unwrap(), changes);
    assert!(!cl.is_empty().unwrap());
    assert_eq!(change_files(cl.dir()), names);
    let mut prev = 0;
    for n in &names {
        // <20 digits>_<8-4-4-4-12 lowercase hex>.change
        assert_eq!(n.len(), 20 + 1 + 36 + 7, "{n}");
        assert!(n[..20].bytes().all(|b| b.is_ascii_digit()), "{n}");
        assert_eq!(&n[20..21], "_");
        let id = &n[21..57];
        assert!(
            id.bytes()
                .all(|b| b == b'-' || b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "{n}"
        );
        assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 4);
        let ts = parse_change_file_name(n).unwrap();
        assert!(ts > prev);
        prev = ts;
    }
    assert_eq!(
        change_file_name(1_795_488_516_686_485_541, &uuid::Uuid::nil()),
        "01795488516686485541_00000000-0000-0000-0000-000000000000.change"
    );
    // Deletes and witnesses carry `"data":null`, as Go writes them.
    assert_eq!(
        fs::read_to_string(cl.dir().join(&names[1])).unwrap(),
        r#"{"action":"delete","role":"targets","type":"target","path":"v2","data":null}"#
    );

    cl.remove(&[0, 2, 99]).unwrap();
    assert_eq!(cl.list().unwrap(), vec![changes[1].clone()]);
    cl.clear().unwrap();
    assert!(cl.is_empty().unwrap());
    assert!(change_files(cl.dir()).is_empty());
}

#[test]
fn changelist_matches_transcript_file_bytes() {
    // `changelist files` section of the e2e transcript: file1.txt is "hello world v1\n".
    let expected = r#"{"action":"create","role":"targets","type":"target","path":"v1","data":"eyJsZW5ndGgiOjE1LCJoYXNoZXMiOnsic2hhMjU2IjoiWklVLzJrckdQc1IxQURIN1ZGb2ZqVjl1dGV1NmZiQ2dTcjZqV3RNdUZnST0iLCJzaGE1MTIiOiJEQ2xJTzRjcEZ4ekY4OWNuTHVHYzBwTCt0NmE2T0YwS3RxY1Y3VDdiUW9tbU8vaTJYVkhJMG5OM091M0U1c3RYRnM4VVNlNjBQUzlqNXRFQ2hwMUo3QT09In19"}"#;
    let ours = target_change("v1", b"hello world v1\n");
    assert_eq!(String::from_utf8(ours.to_go_json()).unwrap(), expected);
    let parsed = Change::from_json(expected.as_bytes()).unwrap();
    assert_eq!(parsed, ours);
    let meta = parse_target_data(&parsed.data).unwrap();
    assert_eq!(meta.length, 15);
    assert_eq!(meta.hashes, hashes_of(b"hello world v1\n"));
    assert_eq!(meta.custom, None);
    if let Ok(t) = fs::read_to_string(TRANSCRIPT) {
        assert!(t.contains(expected));
    }
}

#[test]
fn changelist_go_escaping_and_custom() {
    let mut c = target_change("a&b<c>\u{2028}", b"x");
    c.data = target_data(
        1,
        &hashes_of(b"x"),
        Some(&serde_json::json!({"z": "<&>", "a": 1})),
    );
    let json = String::from_utf8(c.to_go_json()).unwrap();
    assert!(
        json.contains(r#""path":"a\u0026b\u003cc\u003e\u2028""#),
        "{json}"
    );
    assert_eq!(Change::from_json(json.as_bytes()).unwrap(), c);
    let data = String::from_utf8(c.data.clone()).unwrap();
    assert!(
        data.ends_with(r#","custom":{"a":1,"z":"\u003c\u0026\u003e"}}"#),
        "{data}"
    );
    // Raw custom keeps the document's key order and is compacted, like Go's RawMessage.
    let raw = target_data_raw(
        1,
        &hashes_of(b"x"),
        Some(b"{ \"z\" : [1, 2],\n \"a\": \"<\" }"),
    )
    .unwrap();
    assert!(String::from_utf8(raw)
        .unwrap()
        .ends_with(r#","custom":{"z":[1,2],"a":"\u003c"}}"#));
    assert!(target_data_raw(1, &hashes_of(b"x"), Some(b"{nope")).is_err());
}

#[test]
fn changelist_corrupt_files_strict_and_lenient() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = RepoDir::new(tmp.path(), &gun("example.com/app"));
    let cl = Changelist::open(&repo).unwrap();
    cl.add(&target_change("v1", b"1")).unwrap();
    let bad = cl
        .dir()
        .join("01000000000000000000_00000000-0000-0000-0000-000000000000.change");
    fs::write(&bad, b"{not json").unwrap();
    cl.add(&target_change("v2", b"2")).unwrap();
    let err = cl.list().unwrap_err();
    assert!(
        err.to_string().contains(&bad.display().to_string()),
        "{err}"
    );
    let listing = cl.list_lenient().unwrap();
    assert_eq!(listing.changes.len(), 2);
    assert_eq!(listing.skipped.len(), 1);
    assert!(listing.skipped[0]
        .to_string()
        .contains("01000000000000000000_"));
    // A temporary file left by an interrupted atomic write is ignored.
    fs::write(cl.dir().join(".x.change.0000.tmp"), b"{trunc").unwrap();
    assert_eq!(cl.list().unwrap_err().to_string(), err.to_string());
    // Like Go's Remove, indexes count every file (the corrupt one sorts first here).
    cl.remove(&[0]).unwrap();
    assert_eq!(cl.list().unwrap().len(), 2);
}

#[test]
fn delegation_change_json_names_and_order() {
    let d = DelegationChange {
        new_name: String::new(),
        new_threshold: 1,
        add_keys: Vec::new(),
        remove_keys: vec!["abc".into()],
        add_paths: vec![String::new()],
        remove_paths: Vec::new(),
        clear_all_paths: true,
    };
    assert_eq!(
        String::from_utf8(d.to_go_json()).unwrap(),
        r#"{"threshold":1,"remove_keys":["abc"],"add_paths":[""],"clear_paths":true}"#
    );
    assert_eq!(
        String::from_utf8(DelegationChange::default().to_go_json()).unwrap(),
        "{}"
    );
    let full = r#"{"new_name":"targets/x","threshold":2,"add_keys":[{"keytype":"ecdsa","keyval":{"public":"AQID","private":null}}],"remove_keys":["k"],"add_paths":["a/"],"remove_paths":["b/"],"clear_paths":true}"#;
    let parsed = parse_delegation_data(full.as_bytes()).unwrap();
    assert_eq!(parsed.add_keys[0].keyval.public, vec![1, 2, 3]);
    assert_eq!(String::from_utf8(parsed.to_go_json()).unwrap(), full);
    // Go zero values from nulls.
    let parsed = parse_delegation_data(br#"{"remove_keys":null,"threshold":null}"#).unwrap();
    assert_eq!(parsed, DelegationChange::default());
}

// ------------------------------------------------------------------------------------------
// status table

const STATUS_THREE_TARGETS: &str = "\
#    ACTION    SCOPE      TYPE      PATH
-    ------    -----      ----      ----
0    create    targets    target    v1
1    create    targets    target    v2
2    create    targets    target    latest
";

const STATUS_DELEGATIONS: &str = "\
#    ACTION    SCOPE               TYPE          PATH
-    ------    -----               ----          ----
0    create    targets/releases    delegation    \n\
1    create    targets/releases    delegation    \n";

const STATUS_WITNESS: &str = "\
#    ACTION    SCOPE               TYPE       PATH
-    ------    -----               ----       ----
0    update    targets/releases    witness    \n";

const STATUS_PURGE: &str = "\
#    ACTION    SCOPE        TYPE          PATH
-    ------    -----        ----          ----
0    update    targets/*    delegation    \n";

fn simple(action: Action, scope: &str, kind: ChangeKind, path: &str) -> Change {
    Change {
        action,
        scope: scope.into(),
        kind,
        path: path.into(),
        data: Vec::new(),
    }
}

#[test]
fn status_table_matches_transcript() {
    let three: Vec<Change> = ["v1", "v2", "latest"]
        .iter()
        .map(|p| simple(Action::Create, "targets", ChangeKind::Target, p))
        .collect();
    assert_eq!(status_table(&three), STATUS_THREE_TARGETS);
    let deleg = vec![
        simple(
            Action::Create,
            "targets/releases",
            ChangeKind::Delegation,
            "",
        ),
        simple(
            Action::Create,
            "targets/releases",
            ChangeKind::Delegation,
            "",
        ),
    ];
    assert_eq!(status_table(&deleg), STATUS_DELEGATIONS);
    let witness = vec![simple(
        Action::Update,
        "targets/releases",
        ChangeKind::Witness,
        "",
    )];
    assert_eq!(status_table(&witness), STATUS_WITNESS);
    let purge = vec![simple(
        Action::Update,
        "targets/*",
        ChangeKind::Delegation,
        "",
    )];
    assert_eq!(status_table(&purge), STATUS_PURGE);
    let mixed = vec![
        simple(Action::Create, "targets", ChangeKind::Target, "byhash"),
        simple(Action::Delete, "targets", ChangeKind::Target, "v2"),
    ];
    assert_eq!(
        status_table(&mixed),
        "#    ACTION    SCOPE      TYPE      PATH\n\
         -    ------    -----      ----      ----\n\
         0    create    targets    target    byhash\n\
         1    delete    targets    target    v2\n"
    );

    // The blocks are copied from the transcript; check them against it when it is present.
    if let Ok(t) = fs::read_to_string(TRANSCRIPT) {
        for block in [
            STATUS_THREE_TARGETS,
            STATUS_DELEGATIONS,
            STATUS_WITNESS,
            STATUS_PURGE,
        ] {
            assert!(
                t.contains(&format!(
                    "Unpublished changes for example.com/app:\n\n{block}"
                )),
                "{block}"
            );
        }
    }
}

// ------------------------------------------------------------------------------------------
// interoperability with Go notary

#[test]
fn go_reads_our_changelist() {
    let bin = go_notary();
    let tmp = tempfile::tempdir().unwrap();
    let td = tmp.path().join("trust");
    let g = gun("localhost:5000/app");
    let repo = RepoDir::new(&td, &g);
    let cl = Changelist::open(&repo).unwrap();
    let ours = vec![
        target_change("v1", b"hello world v1\n"),
        target_change("café x&<>", b"x"),
        simple(Action::Delete, "targets", ChangeKind::Target, "old"),
        Change {
            action: Action::Create,
            scope: "targets/releases".into(),
            kind: ChangeKind::Delegation,
            path: String::new(),
            data: DelegationChange {
                new_threshold: 1,
                add_paths: vec![String::new()],
                ..DelegationChange::default()
            }
            .to_go_json(),
        },
        simple(Action::Update, "targets/releases", ChangeKind::Witness, ""),
    ];
    for c in &ours {
        cl.add(c).unwrap();
    }
    let (ok, stdout, stderr) = run_go(&bin, tmp.path(), &td, &["status", g.as_str()]);
    assert!(ok, "{stderr}");
    assert_eq!(
        stdout,
        format!(
            "Unpublished changes for localhost:5000/app:\n\n{}",
            status_table(&ours)
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("level=warning"), "{stderr}");

    // Go's reset -n removes by the same indexes.
    let (ok, _, stderr) = run_go(&bin, tmp.path(), &td, &["reset", g.as_str(), "-n", "1"]);
    assert!(ok, "{stderr}");
    let mut expected = ours.clone();
    expected.remove(1);
    assert_eq!(cl.list().unwrap(), expected);
}

#[test]
fn we_read_gos_changelist_byte_for_byte() {
    let bin = go_notary();
    let tmp = tempfile::tempdir().unwrap();
    let td = tmp.path().join("trust");
    let g = gun("example.com/app");
    let file1 = tmp.path().join("file1.txt");
    fs::write(&file1, b"hello world v1\n").unwrap();
    let custom = tmp.path().join("custom.json");
    fs::write(&custom, b"{ \"z\": \"<x>\",\n  \"a\": [1, 2] }\n").unwrap();
    let pem = tmp.path().join("releases.pem");
    fs::write(&pem, RELEASES_PEM).unwrap();
    let f1 = file1.to_str().unwrap();

    // `add`, `remove` and `delegation add` only stage: no server is needed.
    for args in [
        vec!["add", "example.com/app", "v1", f1],
        vec!["add", "example.com/app", "a&b<c>", f1],
        vec![
            "add",
            "example.com/app",
            "latest",
            f1,
            "--custom",
            custom.to_str().unwrap(),
        ],
        vec![
            "add",
            "example.com/app",
            "rel/1.0",
            f1,
            "--roles",
            "targets/releases",
        ],
        vec!["remove", "example.com/app", "v2"],
        vec![
            "delegation",
            "add",
            "example.com/app",
            "targets/releases",
            pem.to_str().unwrap(),
            "--all-paths",
        ],
    ] {
        let (ok, _, stderr) = run_go(&bin, tmp.path(), &td, &args);
        assert!(ok, "{args:?}: {stderr}");
    }

    let repo = RepoDir::new(&td, &g);
    let cl = Changelist::open(&repo).unwrap();
    let names = change_files(cl.dir());
    let changes = cl.list().unwrap();
    assert_eq!(names.len(), changes.len());
    // Go's names follow the pattern we generate.
    for n in &names {
        assert!(parse_change_file_name(n).is_some(), "{n}");
    }
    // Every file re-serialises to exactly Go's bytes.
    for (n, c) in names.iter().zip(&changes) {
        let go_bytes = fs::read(cl.dir().join(n)).unwrap();
        assert_eq!(
            String::from_utf8(c.to_go_json()).unwrap(),
            String::from_utf8(go_bytes).unwrap()
        );
    }

    let h = hashes_of(b"hello world v1\n");
    assert_eq!(changes[0], target_change("v1", b"hello world v1\n"));
    assert_eq!(changes[1].path, "a&b<c>");
    assert_eq!(changes[1].data, target_data(15, &h, None));
    assert_eq!(changes[2].path, "latest");
    let meta = parse_target_data(&changes[2].data).unwrap();
    assert_eq!(
        meta.custom,
        Some(serde_json::json!({"z": "<x>", "a": [1, 2]}))
    );
    assert_eq!(
        changes[2].data,
        target_data_raw(15, &h, Some(&fs::read(&custom).unwrap())).unwrap()
    );
    assert_eq!(changes[3].scope, "targets/releases");
    assert_eq!(changes[3].kind, ChangeKind::Target);
    assert_eq!(
        changes[4],
        simple(Action::Delete, "targets", ChangeKind::Target, "v2")
    );
    // `delegation add` stages a create with the keys and, separately, the paths.
    let deleg: Vec<&Change> = changes[5..].iter().collect();
    assert_eq!(deleg.len(), 2);
    for c in &deleg {
        assert_eq!(
            (c.action, c.kind, c.scope.as_str(), c.path.as_str()),
            (
                Action::Create,
                ChangeKind::Delegation,
                "targets/releases",
                ""
            )
        );
    }
    let keys = parse_delegation_data(&deleg[0].data).unwrap();
    assert_eq!(keys.new_threshold, 1);
    assert_eq!(keys.add_keys.len(), 1);
    assert_eq!(keys.add_keys[0].keyval.private, None);
    assert_eq!(deleg[0].data, keys.to_go_json());
    let paths = parse_delegation_data(&deleg[1].data).unwrap();
    assert_eq!(paths.add_paths, vec![String::new()]);
    assert_eq!(deleg[1].data, paths.to_go_json());

    // Go's status and ours agree.
    let (ok, stdout, stderr) = run_go(&bin, tmp.path(), &td, &["status", "example.com/app"]);
    assert!(ok, "{stderr}");
    assert_eq!(
        stdout,
        format!(
            "Unpublished changes for example.com/app:\n\n{}",
            status_table(&changes)
        )
    );

    // Control characters and other escapes, in a repository of their own (a form feed would
    // upset Go's tabwriter in `status`).
    let name = "ctl\u{8}\u{c}\u{1f}\u{7f}\u{2028}\u{2029}\"\\/é";
    let (ok, _, stderr) = run_go(&bin, tmp.path(), &td, &["add", "example.com/ctl", name, f1]);
    assert!(ok, "{stderr}");
    let ctl = Changelist::open(&RepoDir::new(&td, &gun("example.com/ctl"))).unwrap();
    let files = change_files(ctl.dir());
    assert_eq!(files.len(), 1);
    let go_bytes = fs::read(ctl.dir().join(&files[0])).unwrap();
    let ours = target_change(name, b"hello world v1\n");
    assert_eq!(ctl.list().unwrap(), vec![ours.clone()]);
    assert_eq!(
        String::from_utf8(ours.to_go_json()).unwrap(),
        String::from_utf8(go_bytes).unwrap()
    );

    // And `notary delete` (local) removes exactly what delete_all removes.
    repo.delete_all().unwrap();
    assert!(!td.join("tuf/example.com/app").exists());
    assert!(td.join("tuf/example.com").exists());
}

#[test]
fn go_resolves_trust_dir_like_us() {
    let bin = go_notary();
    let home = tempfile::tempdir().unwrap();
    let cwd = tempfile::tempdir().unwrap();
    let file = home.path().join("sub/config.json");
    fs::create_dir_all(file.parent().unwrap()).unwrap();
    for (trust_dir_in_file, flag) in [
        ("rel/trust", None),
        ("~/t", None),
        ("~", None),
        ("/abs/../abs2/t", None),
        ("rel/trust", Some("flag/../dir")),
    ] {
        fs::write(
            &file,
            format!(
                r#"{{"trust_dir": "{trust_dir_in_file}", "remote_server": {{"url": "http://127.0.0.1:9"}}}}"#
            ),
        )
        .unwrap();
        let mut cmd = Command::new(&bin);
        cmd.env_clear()
            .env("HOME", home.path())
            .current_dir(cwd.path())
            .arg("-D")
            .arg("-c")
            .arg(&file);
        if let Some(d) = flag {
            cmd.args(["-d", d]);
        }
        let out = cmd.args(["key", "list"]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let marker = "Using the following trust directory: ";
        let go_dir = stderr
            .lines()
            .find_map(|l| l.split_once(marker).map(|(_, d)| d.trim_end_matches('"')))
            .unwrap_or_else(|| panic!("no trust dir in {stderr}"));
        let flags = GlobalFlags {
            config_file: Some(file.clone()),
            trust_dir: flag.map(PathBuf::from),
            ..GlobalFlags::default()
        };
        let ours = config::load_with_cwd(&flags, &env_with_home(home.path()), cwd.path()).unwrap();
        assert_eq!(
            ours.trust_dir,
            PathBuf::from(go_dir),
            "{trust_dir_in_file} {flag:?}"
        );
    }
}
