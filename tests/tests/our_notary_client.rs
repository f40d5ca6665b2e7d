//! Our `notary` CLI against Go notary-server and against ours, and mixed with Go `notary` in
//! one trust directory, both ways. Outputs are compared with what Go `notary` 0.7 prints
//! (fixture transcript `e2e-client.txt`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use notary_rs_tests::notary_cli::{
    notary_bin, our_notary_bin, start_our_server, GoNotaryServer, NotaryClient, ServerUnderTest,
};
use sha2::{Digest, Sha256};

const GUN: &str = "example.com/ours";

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

fn row(name: &str, data: &[u8], role: &str) -> (String, String, u64, String) {
    (
        name.to_owned(),
        hex::encode(Sha256::digest(data)),
        data.len() as u64,
        role.to_owned(),
    )
}

fn host(url: &str) -> &str {
    url.trim_start_matches("http://")
        .trim_start_matches("https://")
}

/// The core publisher/puller scenario with our client.
fn scenario(server: &ServerUnderTest) {
    let url = &server.url;
    let c = ours(url);
    // Nothing there yet.
    let out = c.fails(&["list", GUN]);
    assert!(
        out.stdout.contains(&format!(
            "* fatal: {} does not have trust data for {GUN}",
            host(url)
        )),
        "{out}"
    );
    assert_eq!(c.ok(&["key", "list"]), "\nNo signing keys found.\n");

    // init + publish.
    assert_eq!(c.ok(&["init", GUN, "-p"]), format!("Auto-publishing changes to {GUN}\nSuccessfully published changes for repository {GUN}\n"));
    assert_eq!(
        c.ok(&["list", GUN]),
        "\nNo targets present in this repository.\n\n"
    );
    let keys = c.ok(&["key", "list"]);
    for role in ["root", "snapshot", "targets"] {
        assert!(keys.contains(&format!("\n{role} ")), "{keys}");
    }

    // Stage targets, see them in status, publish, list.
    let (v1, v2) = (
        b"hello world v1\n".as_slice(),
        b"hello world v2 -- longer\n".as_slice(),
    );
    let f1 = write(&c, "v1.txt", v1);
    let f2 = write(&c, "v2.txt", v2);
    let custom = write(&c, "custom.json", br#"{"note":"custom data for v2"}"#);
    assert_eq!(
        c.ok(&["add", GUN, "v1", &f1]),
        format!("Addition of target \"v1\" to repository \"{GUN}\" staged for next publish.\n")
    );
    c.ok(&["add", GUN, "v2", &f2, "--custom", &custom]);
    let status = c.ok(&["status", GUN]);
    assert!(
        status.starts_with(&format!(
            "Unpublished changes for {GUN}:\n\n#    ACTION    SCOPE      TYPE      PATH\n"
        )),
        "{status}"
    );
    assert!(
        status.contains("0    create    targets    target    v1\n"),
        "{status}"
    );
    // Extra: machine-readable output.
    let json: serde_json::Value =
        serde_json::from_str(&c.ok(&["status", GUN, "--output", "json"])).unwrap();
    assert_eq!(json[0]["action"], "create");
    assert_eq!(json[1]["path"], "v2");
    assert_eq!(
        c.ok(&["publish", GUN]),
        format!("Pushing changes to {GUN}\nSuccessfully published changes for repository {GUN}\n")
    );
    assert_eq!(
        c.ok(&["status", GUN]),
        format!("No unpublished changes for {GUN}\n")
    );
    let expected = vec![row("v1", v1, "targets"), row("v2", v2, "targets")];
    assert_eq!(c.list(GUN), expected);
    let listed: serde_json::Value =
        serde_json::from_str(&c.ok(&["list", GUN, "--output", "json"])).unwrap();
    assert_eq!(
        (&listed[0]["name"], &listed[0]["size"]),
        (&serde_json::json!("v1"), &serde_json::json!(15))
    );
    let keys: serde_json::Value =
        serde_json::from_str(&c.ok(&["key", "list", "--output", "json"])).unwrap();
    assert_eq!(keys.as_array().unwrap().len(), 3);
    assert_eq!(
        c.ok(&["lookup", GUN, "v1"]),
        format!("v1 sha256:{} 15\n", hex::encode(Sha256::digest(v1)))
    );
    let out = c.fails(&["lookup", GUN, "nope"]);
    assert!(
        out.stdout.contains("* fatal: No valid trust data for nope"),
        "{out}"
    );
    let good = c.run(
        &["verify", GUN, "v1"],
        Some(std::str::from_utf8(v1).unwrap()),
    );
    assert_eq!(
        (good.status, good.stdout.as_str()),
        (0, "hello world v1\n"),
        "{good}"
    );
    let bad = c.run(&["verify", GUN, "v1"], Some("tampered\n"));
    assert_eq!(bad.status, 1, "{bad}");
    assert!(
        bad.stdout
            .contains("checksum for v1 did not match: expected"),
        "{bad}"
    );

    // A brand-new trust dir (TOFU) sees the same list, with Go's client too.
    assert_eq!(ours(url).list(GUN), expected);
    assert_eq!(NotaryClient::new(url).list(GUN), expected);

    // remove + reset + publish.
    assert_eq!(
        c.ok(&["remove", GUN, "v2"]),
        format!("Removal of v2 from {GUN} staged for next publish.\n")
    );
    c.ok(&["add", GUN, "v3", &f1]);
    c.ok(&["reset", GUN, "-n", "1"]);
    let status = c.ok(&["status", GUN]);
    assert!(
        status.contains("0    delete    targets    target    v2\n") && !status.contains("v3"),
        "{status}"
    );
    c.ok(&["publish", GUN]);
    assert_eq!(c.list(GUN), vec![row("v1", v1, "targets")]);
    assert_eq!(
        NotaryClient::new(url).list(GUN),
        vec![row("v1", v1, "targets")]
    );

    // delete --remote.
    assert_eq!(
        c.ok(&["delete", GUN, "--remote"]),
        format!("Deleting trust data for repository {GUN}\nSuccessfully deleted local and remote trust data for repository {GUN}\n")
    );
    let out = ours(url).fails(&["list", GUN]);
    assert!(out.stdout.contains("does not have trust data"), "{out}");
}

#[test]
fn our_client_against_go_notary_server() {
    let server = GoNotaryServer::start().unwrap_or_else(|e| panic!("{e}"));
    scenario(server.server());
}

#[test]
fn our_client_against_our_server() {
    let server = start_our_server(None).unwrap_or_else(|e| panic!("{e}"));
    scenario(&server);
}

/// Go `notary` initialises and publishes; ours continues in the same trust dir; Go lists.
fn go_then_ours(url: &str) {
    let mut c = NotaryClient::new(url);
    c.ok(&["init", GUN, "-p"]);
    let a = write(&c, "a.txt", b"from go\n");
    c.ok(&["add", GUN, "a", &a, "-p"]);
    c.set_bin(our_notary_bin());
    let b = write(&c, "b.txt", b"from ours\n");
    c.ok(&["add", GUN, "b", &b, "-p"]);
    let expected = vec![
        row("a", b"from go\n", "targets"),
        row("b", b"from ours\n", "targets"),
    ];
    assert_eq!(c.list(GUN), expected);
    c.set_bin(notary_bin());
    assert_eq!(c.list(GUN), expected);
}

/// Ours initialises and publishes; Go continues in the same trust dir; ours lists.
fn ours_then_go(url: &str) {
    let mut c = ours(url);
    c.ok(&["init", GUN, "-p"]);
    let a = write(&c, "a.txt", b"from ours\n");
    c.ok(&["add", GUN, "a", &a, "-p"]);
    c.set_bin(notary_bin());
    let b = write(&c, "b.txt", b"from go\n");
    c.ok(&["add", GUN, "b", &b, "-p"]);
    let expected = vec![
        row("a", b"from ours\n", "targets"),
        row("b", b"from go\n", "targets"),
    ];
    assert_eq!(c.list(GUN), expected);
    c.set_bin(our_notary_bin());
    assert_eq!(c.list(GUN), expected);
    // Go reads our key files.
    c.set_bin(notary_bin());
    let keys = c.ok(&["key", "list"]);
    assert!(keys.contains("root") && keys.contains(GUN), "{keys}");
}

#[test]
fn mixed_trust_dir_go_then_ours() {
    let server = start_our_server(None).unwrap_or_else(|e| panic!("{e}"));
    go_then_ours(&server.url);
}

#[test]
fn mixed_trust_dir_ours_then_go() {
    let server = GoNotaryServer::start().unwrap_or_else(|e| panic!("{e}"));
    ours_then_go(&server.server().url);
}

#[test]
fn init_with_a_given_root_key() {
    let server = start_our_server(None).unwrap_or_else(|e| panic!("{e}"));
    let c = ours(&server.url);
    let prefix = c.scratch().join("myroot").display().to_string();
    c.ok(&["key", "generate", "ecdsa", "--role", "root", "-o", &prefix]);
    let key_file = format!("{prefix}-key.pem");
    c.ok(&["init", GUN, "--rootkey", &key_file, "-p"]);
    let keys = c.ok(&["key", "list"]);
    let roots: Vec<&str> = keys.lines().filter(|l| l.starts_with("root ")).collect();
    assert_eq!(roots.len(), 1, "{keys}");
    // The root key used is the one in the file: its public half is `prefix.pem`.
    let public = std::fs::read_to_string(format!("{prefix}.pem")).unwrap();
    let spki_pem: String = public
        .lines()
        .filter(|l| !l.starts_with("role:") && !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    let pk = tuf_core::crypto::PublicKey::from_spki_pem(spki_pem.trim()).unwrap();
    let id = tuf_core::crypto::Key::from_public_key(tuf_core::Dialect::Notary, pk)
        .key_id()
        .to_hex();
    assert!(roots[0].contains(&id), "root key {id} expected in:\n{keys}");
    assert_eq!(c.list(GUN), vec![]);
    // A certificate for another key is refused.
    let other = ours(&server.url);
    let out = other.fails(&[
        "init",
        "example.com/other",
        "--rootcert",
        &format!("{prefix}.pem"),
    ]);
    assert!(out.stdout.contains("* fatal:"), "{out}");
}

#[test]
fn debug_flag_logs_steps_without_secrets() {
    let server = start_our_server(None).unwrap_or_else(|e| panic!("{e}"));
    let c = ours(&server.url);
    let out = c.run(&["-D", "init", GUN, "-p"], None);
    assert_eq!(out.status, 0, "{out}");
    assert!(
        out.stderr.contains("level=debug msg=\"uploading root"),
        "{out}"
    );
    let out = c.run(&["-v", "list", GUN], None);
    assert!(
        out.stderr
            .contains("level=debug msg=\"updating trust data for"),
        "{out}"
    );
    for secret in ["root-pass-123", "targets-pass-123", "snapshot-pass-123"] {
        assert!(!out.stderr.contains(secret) && !out.stdout.contains(secret));
    }
}
