#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Key store tests: Go-made fixture keys, round trips, file modes, Go reading our files,
//! imports and the passphrase retriever.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use notary_client::keystore::{
    decrypt_pkcs8, encrypt_pkcs8, key_id_of, KeyInfo, KeyStore, KeyStoreError,
};
use notary_client::passphrase::{EnvRetriever, PassphraseRetriever};
use tuf_core::crypto::{Key, PublicKey, Signer as _, SoftwareSigner};
use tuf_core::Dialect;
use zeroize::Zeroizing;

const ROOT_ID: &str = "66b9c858d2898b2bb45c52644538f8e8fc06a5321dd614a0325291d70b06dbda";
const TARGETS_ID: &str = "cedc0a212f621dcc21242904a898d6de683d8a5e727b1f8d1923632cd62e609e";
const SNAPSHOT_ID: &str = "ec4e255c4c67e137f471b598554ae3187c09333029e151b7b28fb288b371fd7a";
const GUN: &str = "example.com/keysample";

fn shared_dir() -> PathBuf {
    let dir = match std::env::var_os("NOTARY_RS_SHARED") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
    };
    let keys = dir.join("fixtures/notary-0.7/keys");
    assert!(
        keys.is_dir(),
        "fixture directory {} is missing: set NOTARY_RS_SHARED to the shared directory",
        keys.display()
    );
    dir
}

fn fixture_keys() -> PathBuf {
    shared_dir().join("fixtures/notary-0.7/keys")
}

/// A retriever over a fixed variable map, never prompting.
fn env(vars: &[(&str, &str)]) -> EnvRetriever {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    EnvRetriever::with_lookup(move |name| map.get(name).cloned()).with_tty(false)
}

fn fixture_env() -> EnvRetriever {
    env(&[
        ("NOTARY_ROOT_PASSPHRASE", "root-pass-123"),
        ("NOTARY_TARGETS_PASSPHRASE", "targets-pass-123"),
        ("NOTARY_SNAPSHOT_PASSPHRASE", "snapshot-pass-123"),
        ("NOTARY_DELEGATION_PASSPHRASE", "deleg-pass-123"),
    ])
}

/// A trust dir holding copies of the Go-made key files (the fixtures stay untouched).
fn fixture_trust_dir() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let private = tmp.path().join("private");
    fs::create_dir(&private).unwrap();
    for e in fs::read_dir(fixture_keys().join("private")).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), private.join(e.file_name())).unwrap();
    }
    tmp
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn assert_signs(signer: &SoftwareSigner) {
    let key = Key::from_public_key(Dialect::Notary, signer.public_key().clone());
    let sig = signer.sign(b"hello notary").unwrap();
    key.verify(
        Dialect::Notary,
        b"hello notary",
        &sig.to_wire(Dialect::Notary),
    )
    .unwrap();
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

#[test]
fn go_fixture_keys_decrypt_and_ids_match() {
    let tmp = fixture_trust_dir();
    let store = KeyStore::open(tmp.path()).unwrap();
    assert_eq!(mode(store.dir()), 0o700);
    let listed = store.list();
    let ids: Vec<&str> = listed.iter().map(|k| k.key_id.as_str()).collect();
    assert_eq!(ids, [ROOT_ID, TARGETS_ID, SNAPSHOT_ID]);
    for (id, role, gun) in [
        (ROOT_ID, "root", None),
        (TARGETS_ID, "targets", Some(GUN)),
        (SNAPSHOT_ID, "snapshot", Some(GUN)),
    ] {
        let (signer, info) = store.load(id, &mut fixture_env()).unwrap();
        assert_eq!(info.role, role);
        assert_eq!(info.gun.as_deref(), gun);
        assert_eq!(key_id_of(&signer), id, "file name is the Notary key id");
        assert!(matches!(signer.public_key(), PublicKey::EcdsaP256(_)));
        assert_signs(&signer);
    }
    assert_eq!(store.find("root", Some(GUN)).len(), 1);
    assert_eq!(store.find("targets", Some(GUN))[0].key_id, TARGETS_ID);
    assert!(store.find("targets", Some("other/gun")).is_empty());
}

#[test]
fn go_fixture_wrong_passphrase_is_an_error() {
    let tmp = fixture_trust_dir();
    let store = KeyStore::open(tmp.path()).unwrap();
    let mut wrong = env(&[("NOTARY_ROOT_PASSPHRASE", "not-the-passphrase")]);
    match store.load(ROOT_ID, &mut wrong) {
        Err(KeyStoreError::WrongPassphrase { key_id, role }) => {
            assert_eq!(key_id, ROOT_ID);
            assert_eq!(role, "root");
        }
        other => panic!("expected WrongPassphrase, got {other:?}"),
    }
    // No env and no tty: NoPassphrase with Go's message.
    let err = store.load(TARGETS_ID, &mut env(&[])).unwrap_err();
    assert!(matches!(err, KeyStoreError::NoPassphrase { .. }), "{err:?}");
    assert!(err
        .to_string()
        .contains("maximum number of passphrase attempts exceeded"));
    assert!(matches!(
        store.load("00ff", &mut fixture_env()),
        Err(KeyStoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.load("../../etc/passwd", &mut fixture_env()),
        Err(KeyStoreError::NotFound { .. })
    ));
    // Many wrong passphrases for the low-level function: never a panic.
    let text = fs::read_to_string(tmp.path().join(format!("private/{ROOT_ID}.key"))).unwrap();
    let b64: String = text
        .lines()
        .filter(|l| !l.contains(':') && !l.starts_with("-----"))
        .collect();
    let der = base64_decode(&b64);
    for i in 0..50 {
        assert!(matches!(
            decrypt_pkcs8(&der, &format!("wrong-{i}")),
            Err(KeyStoreError::WrongPassphrase { .. })
        ));
    }
    assert!(decrypt_pkcs8(&der, "root-pass-123").is_ok());
    assert!(matches!(
        decrypt_pkcs8(b"\x30\x03\x02\x01\x00", "x"),
        Err(KeyStoreError::Malformed { .. })
    ));
}

#[test]
fn go_generated_delegation_pem_decrypts_and_public_pem_matches() {
    let dir = fixture_keys();
    let pem = fs::read_to_string(dir.join("releases-key.pem")).unwrap();
    let public = fs::read_to_string(dir.join("releases.pem")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let store = KeyStore::open(tmp.path()).unwrap();
    let mut wrong = env(&[("NOTARY_DELEGATION_PASSPHRASE", "nope-nope-nope")]);
    assert!(matches!(
        store.import_pem(&pem, None, None, &mut wrong),
        Err(KeyStoreError::WrongPassphrase { .. })
    ));
    let id = store
        .import_pem(&pem, None, None, &mut fixture_env())
        .unwrap();
    let (signer, info) = store.load(&id, &mut fixture_env()).unwrap();
    assert_eq!(info.role, "targets/releases");
    assert_eq!(info.gun, None);
    // Same key as Go's public file, byte for byte in the format `key generate -o` writes.
    assert_eq!(KeyStore::public_pem(&signer, "targets/releases"), public);
    assert_signs(&signer);
}

#[test]
fn round_trip_modes_headers_list() {
    let tmp = tempfile::tempdir().unwrap();
    let trust = tmp.path().join("trust");
    let store = KeyStore::open(&trust).unwrap();
    assert_eq!(mode(store.dir()), 0o700);
    let root = SoftwareSigner::generate_p256();
    let targets = SoftwareSigner::generate_p256();
    let deleg = SoftwareSigner::generate_p256();
    let ed = SoftwareSigner::generate_ed25519();
    let root_id = store
        .save(&root, "root", Some("ignored/gun"), "root-pass-123")
        .unwrap();
    let targets_id = store
        .save(
            &targets,
            "targets",
            Some("example.com/app"),
            "targets-pass-123",
        )
        .unwrap();
    let deleg_id = store
        .save(
            &deleg,
            "targets/releases",
            Some("example.com/app"),
            "deleg-pass-123",
        )
        .unwrap();
    let ed_id = store
        .save(&ed, "targets/ed", None, "deleg-pass-123")
        .unwrap();
    assert_eq!(root_id, key_id_of(&root));

    for id in [&root_id, &targets_id, &deleg_id, &ed_id] {
        assert_eq!(mode(&store.key_path(id)), 0o600, "key file mode");
    }
    // Headers as Go writes them: gun before role, blank line, 64-char base64 lines.
    let text = fs::read_to_string(store.key_path(&targets_id)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "-----BEGIN ENCRYPTED PRIVATE KEY-----");
    assert_eq!(lines[1], "gun: example.com/app");
    assert_eq!(lines[2], "role: targets");
    assert_eq!(lines[3], "");
    assert_eq!(lines[4].len(), 64);
    assert_eq!(
        *lines.last().unwrap(),
        "-----END ENCRYPTED PRIVATE KEY-----"
    );
    let root_text = fs::read_to_string(store.key_path(&root_id)).unwrap();
    assert!(root_text.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\nrole: root\n\n"));
    let deleg_text = fs::read_to_string(store.key_path(&deleg_id)).unwrap();
    assert!(!deleg_text.contains("gun:"), "delegation keys carry no gun");

    // A stray non-key file and a broken key file do not break the listing.
    fs::write(store.dir().join("README.txt"), "hi").unwrap();
    fs::write(store.dir().join("abcdef.key"), "garbage").unwrap();
    fs::write(
        store.dir().join("0123.key"),
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
    )
    .unwrap();
    let (listed, problems) = store.list_checked();
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].to_string().contains("abcdef.key"),
        "{}",
        problems[0]
    );
    let by_id: HashMap<&str, &KeyInfo> = listed.iter().map(|k| (k.key_id.as_str(), k)).collect();
    assert_eq!(listed.len(), 5);
    assert_eq!(by_id["0123"].role, "");
    assert_eq!(by_id[root_id.as_str()].role, "root");
    assert_eq!(by_id[root_id.as_str()].gun, None);
    assert_eq!(
        by_id[targets_id.as_str()].gun.as_deref(),
        Some("example.com/app")
    );
    assert_eq!(by_id[deleg_id.as_str()].role, "targets/releases");
    let mut sorted = listed.clone();
    sorted.sort_by(|a, b| a.key_id.cmp(&b.key_id));
    assert_eq!(sorted, listed);

    let mut pass = env(&[
        ("NOTARY_ROOT_PASSPHRASE", "root-pass-123"),
        ("NOTARY_TARGETS_PASSPHRASE", "targets-pass-123"),
        ("NOTARY_DELEGATION_PASSPHRASE", "deleg-pass-123"),
    ]);
    for (id, original) in [
        (&root_id, &root),
        (&targets_id, &targets),
        (&deleg_id, &deleg),
        (&ed_id, &ed),
    ] {
        let (loaded, _) = store.load(id, &mut pass).unwrap();
        assert_eq!(loaded.public_key(), original.public_key());
        assert_signs(&loaded);
    }
    assert_eq!(store.find("targets/releases", Some("x")).len(), 1);
    assert_eq!(store.find("targets", Some("example.com/app")).len(), 1);

    let export = store.export_all().unwrap();
    assert_eq!(
        export
            .matches("-----BEGIN ENCRYPTED PRIVATE KEY-----")
            .count(),
        5
    );

    store.remove(&deleg_id).unwrap();
    assert!(matches!(
        store.remove(&deleg_id),
        Err(KeyStoreError::NotFound { .. })
    ));
    assert!(!store.key_path(&deleg_id).exists());

    // Re-opening fixes a loosened directory mode.
    fs::set_permissions(store.dir(), fs::Permissions::from_mode(0o755)).unwrap();
    let store = KeyStore::open(&trust).unwrap();
    assert_eq!(mode(store.dir()), 0o700);
    // No temp files left behind.
    assert!(fs::read_dir(store.dir()).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .contains(".tmp-")));
}

#[test]
fn encrypt_decrypt_round_trip() {
    let s = SoftwareSigner::generate_p256();
    let plain = s.to_pkcs8_der();
    let der = encrypt_pkcs8(&plain, "pass-phrase-1").unwrap();
    let back: Zeroizing<Vec<u8>> = decrypt_pkcs8(&der, "pass-phrase-1").unwrap();
    assert_eq!(back.as_slice(), plain.as_slice());
    assert!(matches!(
        decrypt_pkcs8(&der, "pass-phrase-2"),
        Err(KeyStoreError::WrongPassphrase { .. })
    ));
    assert!(matches!(
        encrypt_pkcs8(&plain, ""),
        Err(KeyStoreError::Unsupported { .. })
    ));
}

const UMASK_CHILD_ENV: &str = "NOTARY_RS_KEYSTORE_UMASK_CHILD";

/// Does its work only as the child of `modes_hold_under_umask_000` (umask 000 set by `sh`).
#[test]
fn umask_child_saves_a_key() {
    let Some(dir) = std::env::var_os(UMASK_CHILD_ENV) else {
        return;
    };
    let store = KeyStore::open(Path::new(&dir).join("trust")).unwrap();
    let id = store
        .save(
            &SoftwareSigner::generate_p256(),
            "root",
            None,
            "root-pass-123",
        )
        .unwrap();
    fs::write(Path::new(&dir).join("id"), id).unwrap();
}

#[test]
fn modes_hold_under_umask_000() {
    let tmp = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let status = Command::new("sh")
        .arg("-c")
        .arg("umask 000 && exec \"$0\" --exact umask_child_saves_a_key --test-threads 1 -q")
        .arg(&exe)
        .env(UMASK_CHILD_ENV, tmp.path())
        .stdin(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let id = fs::read_to_string(tmp.path().join("id")).unwrap();
    let private = tmp.path().join("trust/private");
    assert_eq!(mode(&tmp.path().join("trust")), 0o700);
    assert_eq!(mode(&private), 0o700);
    assert_eq!(mode(&private.join(format!("{id}.key"))), 0o600);
}

fn go_notary() -> PathBuf {
    let p = PathBuf::from("/usr/bin/notary");
    assert!(
        p.exists(),
        "the Go notary 0.7 peer is missing at /usr/bin/notary: apt-get install notary"
    );
    p
}

fn run_go(
    notary: &Path,
    home: &Path,
    trust: &Path,
    args: &[&str],
    envs: &[(&str, &str)],
) -> (bool, String) {
    let mut cmd = Command::new(notary);
    cmd.arg("-d").arg(trust).args(args);
    cmd.env_clear()
        .env("HOME", home)
        .env("PATH", "/usr/bin:/bin")
        .stdin(Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn go_notary_reads_our_keys() {
    let notary = go_notary();
    let tmp = tempfile::tempdir().unwrap();
    let trust = tmp.path().join("trust");
    let store = KeyStore::open(&trust).unwrap();
    let root_id = store
        .save(
            &SoftwareSigner::generate_p256(),
            "root",
            None,
            "root-pass-123",
        )
        .unwrap();
    let targets_id = store
        .save(
            &SoftwareSigner::generate_p256(),
            "targets",
            Some("example.com/app"),
            "targets-pass-123",
        )
        .unwrap();
    let deleg_id = store
        .save(
            &SoftwareSigner::generate_p256(),
            "targets/releases",
            None,
            "deleg-pass-123",
        )
        .unwrap();
    let ed_id = store
        .save(
            &SoftwareSigner::generate_ed25519(),
            "targets/ed",
            None,
            "deleg-pass-123",
        )
        .unwrap();

    let (ok, out) = run_go(&notary, tmp.path(), &trust, &["key", "list"], &[]);
    assert!(ok, "notary key list failed:\n{out}");
    for (id, role, gun) in [
        (&root_id, "root", ""),
        (&targets_id, "targets", "example.com/app"),
        (&deleg_id, "targets/releases", ""),
        (&ed_id, "targets/ed", ""),
    ] {
        let line = out
            .lines()
            .find(|l| l.contains(id.as_str()))
            .unwrap_or_else(|| panic!("Go does not list {id}:\n{out}"));
        let cols: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(cols[0], role, "{line}");
        if gun.is_empty() {
            assert_eq!(cols[1], id.as_str(), "{line}");
        } else {
            assert_eq!(cols[1], gun, "{line}");
        }
    }

    // `key passwd` must decrypt the key with the env passphrase (it then re-encrypts it
    // the Go way, which we must read back).
    for (id, var, pass) in [
        (&root_id, "NOTARY_ROOT_PASSPHRASE", "root-pass-123"),
        (&targets_id, "NOTARY_TARGETS_PASSPHRASE", "targets-pass-123"),
        (&deleg_id, "NOTARY_DELEGATION_PASSPHRASE", "deleg-pass-123"),
        (&ed_id, "NOTARY_DELEGATION_PASSPHRASE", "deleg-pass-123"),
    ] {
        let args = ["key", "passwd", id.as_str()];
        let (ok, out) = run_go(
            &notary,
            tmp.path(),
            &trust,
            &args,
            &[(var, "wrong-pass-999")],
        );
        assert!(!ok, "Go accepted a wrong passphrase for {id}:\n{out}");
        let (ok, out) = run_go(&notary, tmp.path(), &trust, &args, &[(var, pass)]);
        assert!(ok, "Go could not decrypt our {id}:\n{out}");
        assert!(out.contains("Successfully updated passphrase"), "{out}");
    }
    let mut pass = env(&[
        ("NOTARY_ROOT_PASSPHRASE", "root-pass-123"),
        ("NOTARY_TARGETS_PASSPHRASE", "targets-pass-123"),
        ("NOTARY_DELEGATION_PASSPHRASE", "deleg-pass-123"),
    ]);
    for id in [&root_id, &targets_id, &deleg_id, &ed_id] {
        let (signer, _) = store.load(id, &mut pass).unwrap();
        assert_eq!(&key_id_of(&signer), id);
    }
    let listed = store.list();
    let targets = listed.iter().find(|k| k.key_id == targets_id).unwrap();
    assert_eq!(targets.gun.as_deref(), Some("example.com/app"));
}

#[test]
fn import_unencrypted_pkcs8_and_sec1() {
    use p256::pkcs8::{EncodePrivateKey as _, LineEnding};
    let tmp = tempfile::tempdir().unwrap();
    let store = KeyStore::open(tmp.path()).unwrap();
    let mut pass = env(&[
        ("NOTARY_DELEGATION_PASSPHRASE", "deleg-pass-123"),
        ("NOTARY_TARGETS_PASSPHRASE", "targets-pass-123"),
    ]);

    let sk = p256::SecretKey::random(&mut rand_core::OsRng);
    let pkcs8_pem = sk.to_pkcs8_pem(LineEnding::LF).unwrap();
    let id = store
        .import_pem(&pkcs8_pem, Some("targets/releases"), None, &mut pass)
        .unwrap();
    let (signer, info) = store.load(&id, &mut pass).unwrap();
    assert_eq!(info.role, "targets/releases");
    let expected = PublicKey::EcdsaP256(p256::ecdsa::VerifyingKey::from(sk.public_key()));
    assert_eq!(signer.public_key(), &expected);
    let text = fs::read_to_string(&info.path).unwrap();
    assert!(text.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\nrole: targets/releases\n\n"));

    let sk2 = p256::SecretKey::random(&mut rand_core::OsRng);
    let sec1_pem = sk2.to_sec1_pem(LineEnding::CRLF).unwrap();
    let id2 = store
        .import_pem(
            &sec1_pem,
            Some("targets"),
            Some("example.com/app"),
            &mut pass,
        )
        .unwrap();
    let (signer2, info2) = store.load(&id2, &mut pass).unwrap();
    assert_eq!(info2.gun.as_deref(), Some("example.com/app"));
    let expected2 = PublicKey::EcdsaP256(p256::ecdsa::VerifyingKey::from(sk2.public_key()));
    assert_eq!(signer2.public_key(), &expected2);

    // No role anywhere → Malformed; not PEM → error.
    assert!(matches!(
        store.import_pem(&pkcs8_pem, None, None, &mut pass),
        Err(KeyStoreError::Malformed { .. })
    ));
    assert!(store
        .import_pem("not pem", Some("targets"), None, &mut pass)
        .is_err());
}

#[test]
fn env_retriever_role_mapping() {
    let mut r = env(&[
        ("NOTARY_ROOT_PASSPHRASE", "r"),
        ("NOTARY_TARGETS_PASSPHRASE", "t"),
        ("NOTARY_SNAPSHOT_PASSPHRASE", "s"),
        ("NOTARY_DELEGATION_PASSPHRASE", "d"),
    ]);
    for (role, want) in [
        ("root", "r"),
        ("targets", "t"),
        ("snapshot", "s"),
        ("targets/releases", "d"),
        ("alice", "d"),
    ] {
        assert_eq!(
            r.passphrase("abc", role, false, 0).unwrap().as_str(),
            want,
            "{role}"
        );
    }
    // Timestamp is a base role: no NOTARY_ variable, so without a tty → NoPassphrase.
    assert!(matches!(
        r.passphrase("abc", "timestamp", false, 0),
        Err(KeyStoreError::NoPassphrase { .. })
    ));
    // Docker fallbacks; NOTARY_ wins; empty counts as unset.
    let mut d = env(&[
        ("DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE", "dr"),
        ("DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE", "dx"),
        ("NOTARY_TARGETS_PASSPHRASE", "t"),
        ("NOTARY_SNAPSHOT_PASSPHRASE", ""),
    ]);
    assert_eq!(d.passphrase("a", "root", true, 0).unwrap().as_str(), "dr");
    assert_eq!(
        d.passphrase("a", "targets", false, 0).unwrap().as_str(),
        "t"
    );
    assert_eq!(
        d.passphrase("a", "snapshot", false, 0).unwrap().as_str(),
        "dx"
    );
    assert_eq!(
        d.passphrase("a", "targets/x", false, 0).unwrap().as_str(),
        "dx"
    );
    assert_eq!(
        d.passphrase("a", "timestamp", false, 0).unwrap().as_str(),
        "dx"
    );
    assert_eq!(
        EnvRetriever::env_vars_for("root")[0],
        "NOTARY_ROOT_PASSPHRASE"
    );
}

#[test]
fn env_retriever_gives_up_after_second_attempt() {
    let mut r = env(&[("NOTARY_ROOT_PASSPHRASE", "root-pass")]);
    assert!(r.passphrase("k", "root", false, 0).is_ok());
    assert!(r.passphrase("k", "root", false, 1).is_ok());
    assert!(matches!(
        r.passphrase("k", "root", false, 2),
        Err(KeyStoreError::WrongPassphrase { .. })
    ));
}

#[test]
fn env_retriever_without_tty_or_env() {
    let mut r = env(&[]);
    let err = r.passphrase("k", "targets", true, 0).unwrap_err();
    assert!(matches!(err, KeyStoreError::NoPassphrase { ref role } if role == "targets"));
}

#[test]
fn env_retriever_passphrase_file() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("pass");
    fs::write(&f, "file-pass-123\r\nsecond line\n").unwrap();
    let mut r = env(&[("NOTARY_ROOT_PASSPHRASE", "env-pass")])
        .with_passphrase_file(&f)
        .unwrap();
    assert_eq!(
        r.passphrase("k", "root", false, 0).unwrap().as_str(),
        "file-pass-123"
    );
    assert_eq!(
        r.passphrase("k", "targets/x", true, 0).unwrap().as_str(),
        "file-pass-123"
    );
    assert!(r.passphrase("k", "root", false, 2).is_err());
    fs::write(&f, "\n").unwrap();
    assert!(env(&[]).with_passphrase_file(&f).is_err());
    assert!(env(&[])
        .with_passphrase_file(tmp.path().join("missing"))
        .is_err());
}

#[test]
fn key_files_parse_with_crlf_and_any_header_order() {
    let tmp = fixture_trust_dir();
    let path = tmp.path().join(format!("private/{TARGETS_ID}.key"));
    let text = fs::read_to_string(&path).unwrap();
    // role before gun, CRLF line ends.
    let swapped = text
        .replace(
            &format!("gun: {GUN}\nrole: targets\n"),
            &format!("role: targets\ngun: {GUN}\n"),
        )
        .replace('\n', "\r\n");
    assert_ne!(swapped, text);
    fs::write(&path, swapped).unwrap();
    let store = KeyStore::open(tmp.path()).unwrap();
    let info = store.find("targets", Some(GUN));
    assert_eq!(info.len(), 1);
    let (signer, info) = store.load(TARGETS_ID, &mut fixture_env()).unwrap();
    assert_eq!(info.role, "targets");
    assert_eq!(info.gun.as_deref(), Some(GUN));
    assert_eq!(key_id_of(&signer), TARGETS_ID);
}

#[test]
fn renamed_key_file_is_rejected() {
    let tmp = fixture_trust_dir();
    let private = tmp.path().join("private");
    let fake = "00".repeat(32);
    fs::copy(
        private.join(format!("{ROOT_ID}.key")),
        private.join(format!("{fake}.key")),
    )
    .unwrap();
    let store = KeyStore::open(tmp.path()).unwrap();
    let err = store.load(&fake, &mut fixture_env()).unwrap_err();
    assert!(matches!(err, KeyStoreError::Malformed { .. }), "{err:?}");
    assert!(err.to_string().contains(&fake), "{err}");
}
