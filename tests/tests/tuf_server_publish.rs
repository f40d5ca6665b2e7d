#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Publishing to a TUF 1.0 collection of our `notary-server` (`--tuf-gun`): a delegation with
//! a `/` in its name (percent-encoded in URLs) resolved by our `tuf-client`, targets served
//! under both consistent-snapshot spellings and by path, the dialect boundary between Notary
//! and TUF collections, and bad publishes refused with a clear error and nothing changed.

use std::fs;
use std::process::Command;

use chrono::{Duration, Utc};
use notary_rs_tests::notary_cli::{start_our_server_with, tuf_client_bin};
use notary_rs_tests::tuf_server::TufCollection;
use serde_json::Value;
use tuf_core::crypto::{Key, Signer, SoftwareSigner};
use tuf_core::editor::{InitialKeys, RepoEditor, SignPlan, SignedFile};
use tuf_core::name::RoleName;
use tuf_core::role::{DelegatedRole, PathSpec, RoleKeys, TargetEntry, Threshold};
use tuf_core::Dialect;

const GUN: &str = "example.com/tuf/app";
const NO_META: SignPlan = SignPlan {
    snapshot: false,
    timestamp: false,
};

fn key(s: &SoftwareSigner) -> Key {
    Key::from_public_key(Dialect::TufSpec, s.public_key().clone())
}

/// What the server serves now: every file a client could ask for at this point.
fn state(c: &TufCollection) -> Vec<(u16, Vec<u8>)> {
    [
        "timestamp.json",
        "root.json",
        "targets.json",
        "team%2Fa.json",
    ]
    .iter()
    .map(|f| c.get(&format!("metadata/{f}")).unwrap())
    .chain(
        ["targets/a.txt", "targets/team-a/x.txt"]
            .iter()
            .map(|p| c.get(p).unwrap()),
    )
    .collect()
}

fn refused(
    c: &TufCollection,
    what: &str,
    files: &[SignedFile],
    targets: &[(&str, &[u8])],
    code: &str,
    detail: &str,
) {
    let before = state(c);
    let (status, body) = c.publish(files, targets).expect_err(what);
    assert_eq!(status, 400, "{what}: {body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["errors"][0]["code"], code, "{what}: {body}");
    assert!(
        body.to_lowercase().contains(&detail.to_lowercase()),
        "{what}: {detail:?} not in {body}"
    );
    assert_eq!(state(c), before, "{what}: the server's state changed");
}

#[test]
fn tuf_collections_publish_serve_and_refuse() {
    let server = start_our_server_with(None, &["--tuf-gun", "example.com/tuf/*"]).unwrap();
    let c = TufCollection::new(&server.url, GUN);
    let (root_k, targets_k, team_k) = (
        SoftwareSigner::generate_ed25519(),
        SoftwareSigner::generate_p256(),
        SoftwareSigner::generate_ed25519(),
    );
    let keys = InitialKeys {
        root: vec![key(&root_k)],
        targets: vec![key(&targets_k)],
        snapshot: vec![c.server_key("snapshot", false).unwrap()],
        timestamp: vec![c.server_key("timestamp", false).unwrap()],
    };
    // The same pending key is answered until the root names it.
    assert_eq!(
        c.server_key("timestamp", false).unwrap().key_id(),
        keys.timestamp[0].key_id()
    );
    let now = Utc::now();
    let mut ed = RepoEditor::create(Dialect::TufSpec, keys, now);
    let (a, x) = (b"a\n".as_slice(), b"x in team/a\n".as_slice());
    ed.add_target("targets", "a.txt", TargetEntry::for_data(a))
        .unwrap();
    let team = RoleName::delegated(Dialect::TufSpec, "team/a").unwrap();
    let edge = DelegatedRole {
        name: team,
        keys: RoleKeys {
            keyids: vec![key(&team_k).key_id()],
            threshold: Threshold::ONE,
        },
        terminating: false,
        paths: PathSpec::Patterns(vec!["team-a/*".into()]),
    };
    ed.add_delegation("targets", edge, vec![key(&team_k)])
        .unwrap();
    ed.add_target("team/a", "team-a/x.txt", TargetEntry::for_data(x))
        .unwrap();
    let signers: [&dyn Signer; 3] = [&root_k, &targets_k, &team_k];

    // Before any root, a targets-only publish names what is missing.
    let mut early = ed.clone();
    let files = early.sign(&signers, now, NO_META).unwrap();
    let no_root: Vec<SignedFile> = files.iter().filter(|f| f.role != "root").cloned().collect();
    refused(
        &c,
        "no root yet",
        &no_root,
        &[],
        "INVALID_UPDATE",
        "root version 1",
    );

    let files = ed.sign(&signers, now, NO_META).unwrap();
    c.publish(&files, &[("a.txt", a), ("team-a/x.txt", x)])
        .unwrap_or_else(|e| panic!("{e:?}\n{}", server.log()));

    // Our client resolves the delegated target through the server.
    let work = tempfile::tempdir().unwrap();
    let (mdir, tdir) = (work.path().join("md"), work.path().join("t"));
    fs::create_dir_all(&mdir).unwrap();
    let (_, root1) = c.get("metadata/1.root.json").unwrap();
    fs::write(mdir.join("root.json"), &root1).unwrap();
    let out = Command::new(tuf_client_bin())
        .args(["--metadata-url", &c.metadata_url(), "--metadata-dir"])
        .arg(&mdir)
        .args(["--target-name", "team-a/x.txt", "--target-name", "a.txt"])
        .arg("--target-dir")
        .arg(&tdir)
        .args(["--target-base-url", &c.targets_url(), "download"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(fs::read(tdir.join("team-a/x.txt")).unwrap(), x);
    assert!(mdir.join("team%2Fa.json").exists());

    // Both consistent-snapshot spellings, SHA-512 and the plain path serve the same bytes.
    let e = TargetEntry::for_data(x);
    let sha = e.sha256_hex().unwrap();
    let sha512 = hex::encode(&e.hashes["sha512"]);
    for p in [
        format!("targets/team-a/{sha}.x.txt"),
        format!("targets/{sha}.team-a/x.txt"),
        format!("targets/team-a/{sha512}.x.txt"),
        "targets/team-a/x.txt".to_owned(),
    ] {
        assert_eq!(c.get(&p).unwrap(), (200, x.to_vec()), "{p}");
    }
    assert_eq!(c.get("targets/team-a/y.txt").unwrap().0, 404);
    assert_eq!(c.get("metadata/1.team%2Fa.json").unwrap().0, 200);
    assert_eq!(c.get("metadata/9.targets.json").unwrap().0, 404);

    // The dialect boundary: a TUF collection has no Notary routes, and the reverse.
    let http = reqwest::blocking::Client::new();
    let notary = http
        .get(format!("{}/v2/{GUN}/_trust/tuf/root.json", server.url))
        .send()
        .unwrap();
    assert_eq!(notary.status().as_u16(), 404);
    assert!(notary.text().unwrap().contains("TUF 1.0 repository"));
    let tuf = http
        .get(format!(
            "{}/v2/example.com/notary/_tuf/metadata/root.json",
            server.url
        ))
        .send()
        .unwrap();
    assert_eq!(tuf.status().as_u16(), 404);
    assert!(tuf.text().unwrap().contains("Notary 0.7 collection"));

    // Bad publishes: each refused with a reason, nothing changed.
    // Targets whose signature names a stranger's key (so no authorised key signed it).
    let stranger = SoftwareSigner::generate_ed25519();
    let mut forged = ed.clone();
    forged
        .add_target("targets", "b.txt", TargetEntry::for_data(b"b"))
        .unwrap();
    let mut files = forged.sign(&signers, now, NO_META).unwrap();
    let t = files.iter_mut().find(|f| f.role == "targets").unwrap();
    let text = String::from_utf8(t.bytes.clone()).unwrap();
    let keyid = key(&targets_k).key_id().to_hex();
    t.bytes = text
        .replace(&keyid, &key(&stranger).key_id().to_hex())
        .into_bytes();
    refused(
        &c,
        "targets signed by another key",
        &files,
        &[],
        "INVALID_UPDATE",
        "targets",
    );

    // A replay of the stored targets version.
    let (_, stored_targets) = c.get("metadata/targets.json").unwrap();
    let replay = SignedFile {
        role: "targets".into(),
        version: 1,
        bytes: stored_targets,
    };
    refused(&c, "replayed targets", &[replay], &[], "VERSION", "version");

    // A target file whose bytes are not what the metadata lists, and one nobody lists.
    let mut next = ed.clone();
    next.add_target("targets", "c.txt", TargetEntry::for_data(b"c\n"))
        .unwrap();
    let files = next.sign(&signers, now, NO_META).unwrap();
    refused(
        &c,
        "wrong target bytes",
        &files,
        &[("c.txt", b"C\n")],
        "INVALID_UPDATE",
        "c.txt",
    );
    refused(
        &c,
        "unlisted target",
        &files,
        &[("c.txt", b"c\n"), ("zzz.txt", b"z")],
        "INVALID_UPDATE",
        "zzz.txt",
    );

    // Expired targets, and a root that skips a version.
    let mut old = ed.clone();
    old.set_expires("targets", now - Duration::days(1));
    old.touch("targets");
    let files = old.sign(&signers, now, NO_META).unwrap();
    refused(
        &c,
        "expired targets",
        &files,
        &[],
        "INVALID_UPDATE",
        "expired",
    );
    let mut skip = ed.clone();
    skip.touch("root");
    let mut files = skip.sign(&signers, now, NO_META).unwrap();
    skip.touch("root");
    files = skip
        .sign(&signers, now, NO_META)
        .unwrap()
        .into_iter()
        .chain(files.into_iter().filter(|f| f.role != "root"))
        .collect();
    refused(
        &c,
        "root 3 after root 1",
        &files,
        &[],
        "INVALID_UPDATE",
        "root",
    );

    // The good publish still goes through afterwards.
    let mut next = ed.clone();
    next.add_target("targets", "c.txt", TargetEntry::for_data(b"c\n"))
        .unwrap();
    let files = next.sign(&signers, now, NO_META).unwrap();
    c.publish(&files, &[("c.txt", b"c\n")]).unwrap();
    assert_eq!(c.get("targets/c.txt").unwrap(), (200, b"c\n".to_vec()));
}

fn tuf_repo(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(notary_rs_tests::notary_cli::tuf_repo_bin())
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn tuf_repo_needs_the_pinned_first_root_of_a_server_collection() {
    let server = start_our_server_with(None, &["--tuf-gun", "example.com/tuf/*"]).unwrap();
    let c = TufCollection::new(&server.url, GUN);
    let work = tempfile::tempdir().unwrap();
    let (keys, other) = (work.path().join("keys"), work.path().join("other"));
    let url = format!("{}/v2/{GUN}/_tuf/", server.url);
    let os = std::ffi::OsStr::new;
    let file = work.path().join("a.txt");
    fs::write(&file, b"a\n").unwrap();
    let out = tuf_repo(&[
        os("init"),
        os(&url),
        os("--keys"),
        keys.as_os_str(),
        os("--generate-keys"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        fs::read(keys.join("1.root.json")).unwrap(),
        c.get("metadata/1.root.json").unwrap().1
    );
    assert!(!keys.join("timestamp.pem").exists() && !keys.join("snapshot.pem").exists());
    // A second init of the same collection is refused.
    let out = tuf_repo(&[
        os("init"),
        os(&url),
        os("--keys"),
        other.as_os_str(),
        os("--generate-keys"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already has a root"));

    // Without a pinned root: refused, with how to pin it; nothing published.
    let before = state(&c);
    fs::create_dir_all(&other).unwrap();
    for f in ["root.pem", "targets.pem"] {
        fs::copy(keys.join(f), other.join(f)).unwrap();
    }
    let add = |kd: &std::path::Path| {
        tuf_repo(&[
            os("add"),
            os(&url),
            os("--keys"),
            kd.as_os_str(),
            os("a.txt"),
            file.as_os_str(),
        ])
    };
    let out = add(&other);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(err.contains("1.root.json") && err.contains("pin"), "{err}");
    // A pinned root that is not the served one: refused.
    let mut forged = fs::read(keys.join("1.root.json")).unwrap();
    let n = forged.len() - 3;
    forged[n] ^= 0x01;
    fs::write(other.join("1.root.json"), &forged).unwrap();
    let out = add(&other);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("differs from the pinned"));
    assert_eq!(state(&c), before);
    // The real pin works, and the server signs the new snapshot and timestamp.
    let out = add(&keys);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(c.get("targets/a.txt").unwrap(), (200, b"a\n".to_vec()));
    // The server holds the timestamp key: a local timestamp refresh has nothing to do.
    let out = tuf_repo(&[os("refresh"), os(&url), os("--keys"), keys.as_os_str()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the server signs"));
}
