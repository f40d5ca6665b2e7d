//! Our `notary key rotate|import|export|remove|passwd` against Go notary-server and ours.
//! Outputs are compared with Go `notary` 0.7's (fixture transcript `e2e-client.txt`); after
//! every rotation brand-new trust directories (Go's client and ours) and a client whose
//! cache predates the rotations (root chain walk) must list the same targets.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use notary_rs_tests::notary_cli::{
    our_notary_bin, parse_table, start_our_server, GoNotaryServer, NotaryClient, ServerUnderTest,
};
use sha2::{Digest, Sha256};

const GUN: &str = "example.com/keys";

type Row = (String, String, u64, String);

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

fn row(name: &str, data: &[u8], role: &str) -> Row {
    (
        name.to_owned(),
        hex::encode(Sha256::digest(data)),
        data.len() as u64,
        role.to_owned(),
    )
}

/// `key list` as (role, gun, key id) rows.
fn key_rows(c: &NotaryClient) -> Vec<(String, String, String)> {
    let out = c.ok(&["key", "list"]);
    parse_table(&out, "ROLE")
        .unwrap_or_else(|e| panic!("key list: {e}\n{out}"))
        .into_iter()
        .map(|r| {
            // The GUN column is empty for root and delegation keys.
            if r.len() == 3 {
                (r[0].clone(), String::new(), r[1].clone())
            } else {
                (r[0].clone(), r[1].clone(), r[2].clone())
            }
        })
        .collect()
}

fn roles_of(c: &NotaryClient) -> Vec<String> {
    let mut v: Vec<String> = key_rows(c).into_iter().map(|r| r.0).collect();
    v.sort();
    v
}

/// Every kind of reader sees `expected` after a rotation.
fn readers_agree(url: &str, step: &str, expected: &[Row], old: &[&NotaryClient]) {
    let fresh_go = NotaryClient::new(url);
    assert_eq!(fresh_go.list(GUN), expected, "fresh Go client after {step}");
    let fresh_ours = ours(url);
    assert_eq!(
        fresh_ours.list(GUN),
        expected,
        "fresh client of ours after {step}"
    );
    for c in old {
        assert_eq!(c.list(GUN), expected, "pre-rotation client after {step}");
    }
}

fn rotation_scenario(server: &ServerUnderTest) {
    let url = server.url.as_str();
    let c = ours(url);
    c.ok(&["init", GUN, "-p"]);
    let v1 = b"rotate me v1\n";
    let f = write(&c, "v1.txt", v1);
    c.ok(&["add", GUN, "v1", &f, "-p"]);
    let expected = vec![row("v1", v1, "targets")];
    // Clients whose caches predate every rotation.
    let old_go = NotaryClient::new(url);
    let old_ours = ours(url);
    assert_eq!(old_go.list(GUN), expected);
    assert_eq!(old_ours.list(GUN), expected);
    let old_clients = [&old_go, &old_ours];
    let ok_msg = |role: &str| format!("Successfully rotated {role} key for repository {GUN}\n");
    let targets_id = |c: &NotaryClient| {
        key_rows(c)
            .into_iter()
            .find(|r| r.0 == "targets")
            .map(|r| r.2)
            .unwrap()
    };

    // targets (local).
    let before = targets_id(&c);
    assert_eq!(c.ok(&["key", "rotate", GUN, "targets"]), ok_msg("targets"));
    assert_ne!(
        targets_id(&c),
        before,
        "old targets key replaced in the key store"
    );
    readers_agree(url, "rotate targets", &expected, &old_clients);
    assert_eq!(c.list(GUN), expected);

    // snapshot to the server.
    assert_eq!(
        c.ok(&["key", "rotate", GUN, "snapshot", "-r"]),
        ok_msg("snapshot")
    );
    assert_eq!(
        roles_of(&c),
        ["root", "targets"],
        "local snapshot key removed"
    );
    readers_agree(url, "rotate snapshot -r", &expected, &old_clients);

    // timestamp: only server-managed.
    let out = c.fails(&["key", "rotate", GUN, "timestamp"]);
    assert_eq!(
        out.stdout,
        "\n* fatal: notary does not permit the client managing the timestamp key\n"
    );
    assert_eq!(
        c.ok(&["key", "rotate", GUN, "timestamp", "-r"]),
        ok_msg("timestamp")
    );
    readers_agree(url, "rotate timestamp -r", &expected, &old_clients);

    // publishing still works with a server-held snapshot and the rotated targets key.
    let v2 = b"after rotations v2\n";
    let f2 = write(&c, "v2.txt", v2);
    c.ok(&["add", GUN, "v2", &f2, "-p"]);
    let expected = vec![row("v1", v1, "targets"), row("v2", v2, "targets")];
    readers_agree(url, "publish after rotations", &expected, &old_clients);

    // snapshot back to the client.
    assert_eq!(
        c.ok(&["key", "rotate", GUN, "snapshot"]),
        ok_msg("snapshot")
    );
    assert_eq!(roles_of(&c), ["root", "snapshot", "targets"]);
    readers_agree(url, "rotate snapshot to client", &expected, &old_clients);
    let v3 = b"client snapshot v3\n";
    let f3 = write(&c, "v3.txt", v3);
    c.ok(&["add", GUN, "v3", &f3, "-p"]);
    let expected = vec![
        row("v1", v1, "targets"),
        row("v2", v2, "targets"),
        row("v3", v3, "targets"),
    ];
    readers_agree(url, "publish with client snapshot", &expected, &old_clients);

    // root: no confirmation aborts (exit 0).
    let prompt = "Warning: you are about to rotate your root key.\n\nYou must use your old key \
                  to sign this root rotation.\nAre you sure you want to proceed?  (yes/no)  ";
    let out = c.run(&["key", "rotate", GUN, "root"], None);
    assert_eq!(out.status, 0, "{out}");
    assert_eq!(out.stdout, format!("{prompt}\nAborting action.\n"));
    let out = c.run(&["key", "rotate", GUN, "root"], Some("no\n"));
    assert_eq!(out.stdout, format!("{prompt}\nAborting action.\n"));
    assert_eq!(roles_of(&c), ["root", "snapshot", "targets"]);

    // root with yes, twice.
    for n in 1..=2 {
        let out = c.ok_stdin(&["key", "rotate", GUN, "root"], Some("yes\n"));
        assert_eq!(out, format!("{prompt}{}", ok_msg("root")));
        let roots = roles_of(&c).iter().filter(|r| *r == "root").count();
        assert_eq!(roots, 1 + n, "old root keys are kept");
        readers_agree(url, &format!("root rotation {n}"), &expected, &old_clients);
        assert_eq!(c.list(GUN), expected);
    }
    // --key FILE: an unencrypted targets key; root keys must be encrypted (checked before
    // the prompt, as Go reads the files first).
    let tkey = old_go.generate_delegation_key("targets", "given-targets");
    let tkey_s = tkey.private_plain.display().to_string();
    assert_eq!(
        c.ok(&["key", "rotate", GUN, "targets", "-k", &tkey_s]),
        ok_msg("targets")
    );
    assert_eq!(
        key_rows(&c)
            .into_iter()
            .filter(|r| r.0 == "targets")
            .count(),
        1,
        "the given key replaced the old one"
    );
    readers_agree(url, "rotate targets -k", &expected, &old_clients);
    let out = c.fails(&["key", "rotate", GUN, "root", "-k", &tkey_s]);
    assert_eq!(
        out.stdout,
        "\n* fatal: only encrypted root keys may be imported\n"
    );
    let prefix = c.scratch().join("given-root").display().to_string();
    c.ok(&["key", "generate", "ecdsa", "--role", "root", "-o", &prefix]);
    let rkey = format!("{prefix}-key.pem");
    let out = c.ok_stdin(&["key", "rotate", GUN, "root", "-k", &rkey], Some("y\n"));
    assert_eq!(out, format!("{prompt}{}", ok_msg("root")));
    readers_agree(url, "rotate root -k", &expected, &old_clients);
    let out = c.fails(&["key", "rotate", GUN, "root", "--legacy", "2"]);
    assert!(out.stdout.contains("--legacy"), "{out}");

    // A Go client takes over the rotated trust dir and publishes.
    let go = NotaryClient::new(url);
    let v4 = b"go after rotations\n";
    let f4 = write(&c, "v4.txt", v4);
    let copy = |from: &std::path::Path, to: &std::path::Path| {
        let st = std::process::Command::new("cp")
            .args([
                "-a",
                &format!("{}/.", from.display()),
                &to.display().to_string(),
            ])
            .status()
            .unwrap();
        assert!(st.success());
    };
    copy(c.trust_dir(), go.trust_dir());
    go.ok(&["add", GUN, "v4", &f4, "-p"]);
    let mut expected = expected;
    expected.push(row("v4", v4, "targets"));
    readers_agree(url, "Go publish after rotations", &expected, &old_clients);
}

#[test]
fn key_rotation_against_go_notary_server() {
    let server = GoNotaryServer::start().unwrap_or_else(|e| panic!("{e}"));
    rotation_scenario(server.server());
}

#[test]
fn key_rotation_against_our_server() {
    let server = start_our_server(None).unwrap_or_else(|e| panic!("{e}"));
    rotation_scenario(&server);
}

/// Export, import, passwd and remove (no server needed beyond `init`).
fn key_files_scenario(url: &str) {
    let c = ours(url);
    c.ok(&["init", GUN, "-p"]);
    let go = NotaryClient::new(url);
    let deleg = go.generate_delegation_key("targets/releases", "releases");

    // Go's `key generate -o` private key is encrypted and has no path header: fails like Go.
    let enc = go.scratch().join("releases-key.pem").display().to_string();
    let out = c.fails(&["key", "import", &enc, "--role", "targets/releases"]);
    assert_eq!(
        out.stdout,
        "\n* fatal: failed to import all keys: invalid key pem block\n"
    );
    assert!(
        out.stderr.contains("level=warning msg=\"failed to import key to store: Invalid key generated, key may be encrypted and does not contain path header\""),
        "{out}"
    );
    let go_out = go.fails(&["key", "import", &enc, "--role", "targets/releases"]);
    assert_eq!(out.stdout, go_out.stdout);

    let missing = c.scratch().join("missing.pem").display().to_string();
    let out = c.fails(&["key", "import", &missing]);
    assert_eq!(out.stdout, go.fails(&["key", "import", &missing]).stdout);

    // The decrypted PKCS#8 key imports silently, re-encrypted with the role's passphrase.
    let plain = deleg.private_plain.display().to_string();
    assert_eq!(
        c.ok(&["key", "import", &plain, "--role", "targets/releases"]),
        ""
    );
    let rows = key_rows(&c);
    let deleg_id = rows
        .iter()
        .find(|r| r.0 == "targets/releases")
        .map(|r| r.2.clone())
        .expect("imported delegation key listed");
    assert_eq!(
        go.ok(&["key", "import", &plain, "--role", "targets/releases"]),
        ""
    );
    let go_rows = key_rows(&go);
    assert!(go_rows
        .iter()
        .any(|r| r.0 == "targets/releases" && r.2 == deleg_id));
    // Both key files decrypt in the other implementation: publish with the delegation.
    // (Go adds the delegation in our trust dir and signs with the key we imported.)
    let pubkey = deleg.public_pem.display().to_string();
    let our_dir = c.trust_dir().display().to_string();
    go.ok(&[
        "-d",
        &our_dir,
        "delegation",
        "add",
        GUN,
        "targets/releases",
        &pubkey,
        "--all-paths",
        "-p",
    ]);
    let rel = b"release data\n";
    let fr = write(&c, "rel.txt", rel);
    go.ok(&[
        "-d",
        &our_dir,
        "add",
        GUN,
        "rel",
        &fr,
        "-r",
        "targets/releases",
        "-p",
    ]);
    assert_eq!(c.list(GUN), vec![row("rel", rel, "targets/releases")]);

    // Export: Go's format (encrypted blocks, `path:` header) and order (by key id).
    let out = c.ok(&["key", "export"]);
    let go_copy = NotaryClient::new(url);
    std::fs::create_dir_all(go_copy.trust_dir().join("private")).unwrap();
    for info in std::fs::read_dir(c.trust_dir().join("private")).unwrap() {
        let p = info.unwrap().path();
        std::fs::copy(
            &p,
            go_copy
                .trust_dir()
                .join("private")
                .join(p.file_name().unwrap()),
        )
        .unwrap();
    }
    let go_out = go_copy.ok(&["key", "export"]);
    assert_eq!(
        out, go_out,
        "export identical to Go's for the same key files"
    );
    let mut ids: Vec<String> = key_rows(&c).into_iter().map(|r| r.2).collect();
    ids.sort();
    let paths: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("path: "))
        .collect();
    assert_eq!(paths, ids);
    // -o FILE, --key and --gun filters.
    let file = c.scratch().join("export.pem");
    let file_s = file.display().to_string();
    assert_eq!(c.ok(&["key", "export", "-o", &file_s]), "");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), out);
    let one = c.ok(&["key", "export", "--key", &deleg_id]);
    assert_eq!(one, go_copy.ok(&["key", "export", "--key", &deleg_id]));
    assert_eq!(one.matches("BEGIN").count(), 1);
    let by_gun = c.ok(&["key", "export", "--gun", GUN]);
    assert_eq!(by_gun, go_copy.ok(&["key", "export", "--gun", GUN]));
    assert_eq!(
        by_gun.matches("gun: ").count(),
        2,
        "targets and snapshot keys"
    );
    let out_mix = c.fails(&["key", "export", "--gun", GUN, "--key", &deleg_id]);
    assert_eq!(
        out_mix.stdout,
        "\n* fatal: Only the --gun or --key flag may be provided, not a mix of the two flags\n"
    );

    // The export imports into an empty trust dir (encrypted blocks with path headers are
    // stored as they are), by us and by Go.
    let fresh = ours(url);
    assert_eq!(fresh.ok(&["key", "import", &file_s]), "");
    assert_eq!(key_rows(&fresh), key_rows(&c));
    let fresh_go = NotaryClient::new(url);
    fresh_go.ok(&["key", "import", &file_s]);
    assert_eq!(key_rows(&fresh_go), key_rows(&c));

    // passwd: with the passphrase variables the new passphrase is the same; the key still
    // decrypts (for us and for Go) and signs.
    let out = c.ok(&["key", "passwd", &deleg_id]);
    assert_eq!(
        out,
        format!("\nSuccessfully updated passphrase for key ID: {deleg_id}\n")
    );
    let rel2 = b"release data 2\n";
    let fr2 = write(&c, "rel2.txt", rel2);
    c.ok(&["add", GUN, "rel2", &fr2, "-r", "targets/releases", "-p"]);
    let out = c.fails(&["key", "passwd", "abcd"]);
    assert_eq!(out.stdout, "\n* fatal: invalid key ID provided: abcd\n");
    let missing = "0".repeat(64);
    let out = c.fails(&["key", "passwd", &missing]);
    assert_eq!(
        out.stdout,
        format!("\n* fatal: could not retrieve local key for key ID provided: {missing}\n")
    );

    // remove: asks, aborts without yes, deletes with yes.
    let dir = c.trust_dir().join("private").display().to_string();
    let desc = format!("{deleg_id} (role targets/releases) from {dir}");
    let out = c.run(&["key", "remove", &deleg_id], None);
    assert_eq!(out.status, 0, "{out}");
    assert_eq!(
        out.stdout,
        format!("\nAre you sure you want to remove {desc}?  (yes/no)  \nAborting action.\n\n")
    );
    let out = c.ok_stdin(&["key", "remove", &deleg_id], Some("yes\n"));
    assert_eq!(
        out,
        format!("\nAre you sure you want to remove {desc}?  (yes/no)  \nDeleted {desc}.\n\n")
    );
    assert!(key_rows(&c).iter().all(|r| r.2 != deleg_id));
    let out = c.fails(&["key", "remove", &deleg_id]);
    assert_eq!(
        out.stdout,
        format!("\n\n\n* fatal: No key with ID {deleg_id} found\n")
    );
    // Go prints the same for the same key store.
    let go_out = go_copy.run(&["key", "remove", &deleg_id], None);
    let go_dir = go_copy.trust_dir().join("private").display().to_string();
    assert_eq!(
        go_out.stdout,
        format!(
            "\nAre you sure you want to remove {deleg_id} (role targets/releases) from {go_dir}?  (yes/no)  \nAborting action.\n\n"
        )
    );
}

#[test]
fn key_files_against_go_notary_server() {
    let server = GoNotaryServer::start().unwrap_or_else(|e| panic!("{e}"));
    key_files_scenario(&server.server().url);
}

#[test]
fn key_files_against_our_server() {
    let server = start_our_server(None).unwrap_or_else(|e| panic!("{e}"));
    key_files_scenario(&server.url);
}

/// A rotation the server cannot take leaves the key store as it was (the new key saved
/// before the upload is removed again) and the old keys still publish afterwards.
#[test]
fn failed_rotation_leaves_key_store_unchanged() {
    let server = start_our_server(None).unwrap_or_else(|e| panic!("{e}"));
    let url = server.url.clone();
    let c = ours(&url);
    c.ok(&["init", GUN, "-p"]);
    c.ok(&["key", "rotate", GUN, "snapshot"]);
    let before = key_rows(&c);
    drop(server);
    for role in ["targets", "snapshot"] {
        let out = c.fails(&["key", "rotate", GUN, role]);
        assert!(out.stdout.starts_with("\n* fatal: "), "{out}");
        assert_eq!(key_rows(&c), before, "after failed {role} rotation");
    }
    let out = c.run(&["key", "rotate", GUN, "root"], Some("yes\n"));
    assert_eq!(out.status, 1, "{out}");
    assert_eq!(key_rows(&c), before, "after failed root rotation");
}
