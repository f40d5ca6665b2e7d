//! Our `notary delegation list|add|remove|purge` and `notary witness` against Go
//! notary-server and ours; outputs compared with Go `notary` 0.7's (fixture transcript
//! `e2e-client.txt`) and with what Go's own client prints on the same server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use notary_client::keystore::KeyStore;
use notary_rs_tests::notary_cli::{
    our_notary_bin, start_our_server, GoNotaryServer, NotaryClient, ServerUnderTest,
};
use tuf_core::crypto::{Signer as _, SoftwareSigner};

const GUN: &str = "example.com/deleg";
const DELEG_PASS: &str = "deleg-pass-123";

fn ours(url: &str) -> NotaryClient {
    let mut c = NotaryClient::new(url);
    c.set_bin(our_notary_bin());
    c
}

/// Go's `notary` on a fresh trust directory: what it lists for the collection now.
fn go_list(url: &str, args: &[&str]) -> String {
    NotaryClient::new(url).ok(args)
}

/// A p256 delegation key: its `PUBLIC KEY` PEM file, and the private key saved into the
/// trust dir's key store for `role` (no GUN, as Go keeps delegation keys).
fn delegation_key(c: &NotaryClient, role: &str, stem: &str) -> (String, String) {
    let signer = SoftwareSigner::generate_p256();
    let pem = c.scratch().join(format!("{stem}.pem"));
    std::fs::write(&pem, signer.public_key().to_spki_pem()).unwrap();
    let store = KeyStore::open(c.trust_dir()).unwrap();
    let id = store.save(&signer, role, None, DELEG_PASS).unwrap();
    (pem.display().to_string(), id)
}

fn table(rows: &[[&str; 4]]) -> String {
    let mut widths = [4usize; 4];
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.len());
        }
    }
    let mut out = String::new();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            out.push_str(c);
            if i < 3 {
                out.push_str(&" ".repeat(widths[i] + 4 - c.len()));
            }
        }
        out.push('\n');
    }
    out
}

fn scenario(server: &ServerUnderTest) {
    let url = &server.url;
    let c = ours(url);
    c.ok(&["init", GUN, "-p"]);

    // Nothing delegated yet (ours and Go's print the same).
    let none = c.ok(&["delegation", "list", GUN]);
    assert_eq!(none, go_list(url, &["delegation", "list", GUN]));
    assert!(
        none.contains("\nNo delegations present in this repository.\n"),
        "{none}"
    );

    // delegation add --all-paths.
    let (pem, id) = delegation_key(&c, "targets/releases", "releases");
    assert_eq!(
        c.ok(&["delegation", "add", GUN, "targets/releases", &pem, "--all-paths"]),
        format!("\nAddition of delegation role targets/releases with keys [{id}], with paths [\"\" <all paths>], to repository \"{GUN}\" staged for next publish.\n\n")
    );
    // Staged only: list still shows nothing.
    assert_eq!(c.ok(&["delegation", "list", GUN]), none);
    assert_eq!(
        c.ok(&["status", GUN]),
        format!(
            "Unpublished changes for {GUN}:\n\n\
#    ACTION    SCOPE               TYPE          PATH\n\
-    ------    -----               ----          ----\n\
0    create    targets/releases    delegation    \n\
1    create    targets/releases    delegation    \n"
        )
    );
    assert_eq!(
        c.ok(&["publish", GUN]),
        format!("Pushing changes to {GUN}\nSuccessfully published changes for repository {GUN}\n")
    );
    let listed = c.ok(&["delegation", "list", GUN]);
    let expected = format!(
        "\n{}\n",
        table(&[
            ["ROLE", "PATHS", "KEY IDS", "THRESHOLD"],
            ["----", "-----", "-------", "---------"],
            ["targets/releases", "\"\" <all paths>", &id, "1"],
        ])
    );
    assert_eq!(listed, expected);
    assert_eq!(listed, go_list(url, &["delegation", "list", GUN]));

    // A target in the delegated role, signed with the delegation key.
    let rel = c.scratch().join("rel.txt");
    std::fs::write(&rel, b"release 1.0 data\n").unwrap();
    let rel_s = rel.display().to_string();
    c.ok(&["add", GUN, "release/1.0", &rel_s, "-r", "targets/releases"]);
    c.ok(&["publish", GUN]);
    let go_targets = go_list(url, &["list", GUN]);
    assert!(
        go_targets
            .lines()
            .any(|l| l.starts_with("release/1.0 ") && l.ends_with(" targets/releases")),
        "{go_targets}"
    );
    assert_eq!(c.ok(&["list", GUN]), go_targets);

    // A second delegation from an X.509 certificate with two paths, auto-published.
    let cert = c.self_signed_cert("targets/qa", "qa");
    let cert_s = cert.display().to_string();
    let out = c.ok(&[
        "delegation",
        "add",
        GUN,
        "targets/qa",
        &cert_s,
        "--paths",
        "qa/,tmp/",
        "-p",
    ]);
    let qa_id = out
        .split("with keys [")
        .nth(1)
        .and_then(|s| s.split(']').next())
        .unwrap()
        .to_owned();
    assert_eq!(qa_id.len(), 64, "{out}");
    assert_eq!(
        out,
        format!("\nAddition of delegation role targets/qa with keys [{qa_id}], with paths [qa/\ntmp/], to repository \"{GUN}\" staged for next publish.\n\nAuto-publishing changes to {GUN}\nSuccessfully published changes for repository {GUN}\n")
    );
    let listed = c.ok(&["delegation", "list", GUN]);
    let expected = format!(
        "\n{}\n",
        table(&[
            ["ROLE", "PATHS", "KEY IDS", "THRESHOLD"],
            ["----", "-----", "-------", "---------"],
            ["targets/qa", "qa/", &qa_id, "1"],
            ["", "tmp/", "", ""],
            ["targets/releases", "\"\" <all paths>", &id, "1"],
        ])
    );
    assert_eq!(listed, expected);
    assert_eq!(listed, go_list(url, &["delegation", "list", GUN]));

    // witness + publish.
    assert_eq!(
        c.ok(&["witness", GUN, "targets/releases"]),
        "The following roles were successfully marked for witnessing on the next publish:\n\t- targets/releases\n"
    );
    assert_eq!(
        c.ok(&["status", GUN]),
        format!(
            "Unpublished changes for {GUN}:\n\n\
#    ACTION    SCOPE               TYPE       PATH\n\
-    ------    -----               ----       ----\n\
0    update    targets/releases    witness    \n"
        )
    );
    c.ok(&["publish", GUN]);
    assert_eq!(c.ok(&["list", GUN]), go_list(url, &["list", GUN]));

    // Remove the only key of targets/qa (the role stays, unusable), as Go.
    let out = c.run(
        &[
            "delegation",
            "remove",
            GUN,
            "targets/qa",
            &qa_id,
            "-y",
            "-p",
        ],
        None,
    );
    assert_eq!(out.status, 0, "{out}");
    assert_eq!(
        out.stdout,
        format!("\nRemoval of delegation role targets/qa with keys [{qa_id}], to repository \"{GUN}\" staged for next publish.\n\nAuto-publishing changes to {GUN}\nSuccessfully published changes for repository {GUN}\n")
    );
    assert!(
        out.stderr
            .contains("role targets/qa has fewer keys than its threshold of 1"),
        "{out}"
    );
    assert_eq!(
        c.ok(&["delegation", "list", GUN]),
        go_list(url, &["delegation", "list", GUN])
    );

    // Removing a whole role without -y and no "yes" on stdin aborts, as Go.
    let out = c.run(&["delegation", "remove", GUN, "targets/qa"], None);
    assert_eq!(out.status, 1, "{out}");
    assert_eq!(
        out.stdout,
        "\nAre you sure you want to remove all data for this delegation? (yes/no)\n* fatal: Aborting action.\n"
    );
    // With -y.
    assert_eq!(
        c.ok(&["delegation", "remove", GUN, "targets/qa", "-y", "-p"]),
        format!("\nAre you sure you want to remove all data for this delegation? (yes/no)\nConfirmed `yes` from flag\n\nForced removal (including all keys and paths) of delegation role targets/qa to repository \"{GUN}\" staged for next publish.\n\nAuto-publishing changes to {GUN}\nSuccessfully published changes for repository {GUN}\n")
    );
    let listed = c.ok(&["delegation", "list", GUN]);
    assert!(!listed.contains("targets/qa"), "{listed}");
    assert_eq!(listed, go_list(url, &["delegation", "list", GUN]));

    // Purge the releases key from every delegation.
    assert_eq!(
        c.ok(&["delegation", "purge", GUN, "--key", &id]),
        format!("Removal of the following keys from all delegations in {GUN} staged for next publish:\n\t- {id}\n")
    );
    assert_eq!(
        c.ok(&["status", GUN]),
        format!(
            "Unpublished changes for {GUN}:\n\n\
#    ACTION    SCOPE        TYPE          PATH\n\
-    ------    -----        ----          ----\n\
0    update    targets/*    delegation    \n"
        )
    );
    c.ok(&["publish", GUN]);
    let listed = c.ok(&["delegation", "list", GUN]);
    assert!(!listed.contains(&id), "{listed}");
    assert_eq!(listed, go_list(url, &["delegation", "list", GUN]));
    // Go's client still verifies the whole collection.
    assert_eq!(c.ok(&["list", GUN]), go_list(url, &["list", GUN]));
}

#[test]
fn our_delegations_against_go_notary_server() {
    let server = GoNotaryServer::start().unwrap_or_else(|e| panic!("{e}"));
    scenario(server.server());
}

#[test]
fn our_delegations_against_our_server() {
    let server = start_our_server(None).unwrap_or_else(|e| panic!("{e}"));
    scenario(&server);
}

/// Changes staged by one client and published by the other, in one trust directory: the
/// changelist payloads (`TUFDelegation`) must be understood both ways.
fn mixed(url: &str) {
    // Ours stages, Go publishes.
    let mut c = ours(url);
    c.ok(&["init", GUN, "-p"]);
    let (pem, id) = delegation_key(&c, "targets/releases", "releases");
    let cert = c.self_signed_cert("targets/qa", "qa");
    let cert_s = cert.display().to_string();
    c.ok(&[
        "delegation",
        "add",
        GUN,
        "targets/releases",
        &pem,
        "--all-paths",
    ]);
    let out = c.ok(&[
        "delegation",
        "add",
        GUN,
        "targets/qa",
        &cert_s,
        "--paths",
        "qa/,tmp/",
    ]);
    let qa_id = out
        .split("with keys [")
        .nth(1)
        .and_then(|s| s.split(']').next())
        .unwrap()
        .to_owned();
    c.set_bin(notary_rs_tests::notary_cli::notary_bin());
    c.ok(&["publish", GUN]);
    let expected = format!(
        "\n{}\n",
        table(&[
            ["ROLE", "PATHS", "KEY IDS", "THRESHOLD"],
            ["----", "-----", "-------", "---------"],
            ["targets/qa", "qa/", &qa_id, "1"],
            ["", "tmp/", "", ""],
            ["targets/releases", "\"\" <all paths>", &id, "1"],
        ])
    );
    assert_eq!(c.ok(&["delegation", "list", GUN]), expected);

    // Go stages a key removal and a path removal, ours publishes.
    c.ok(&["delegation", "remove", GUN, "targets/qa", "--paths", "tmp/"]);
    c.ok(&["delegation", "remove", GUN, "targets/releases", &id, "-y"]);
    c.set_bin(our_notary_bin());
    c.ok(&["publish", GUN]);
    let listed = c.ok(&["delegation", "list", GUN]);
    let expected = format!(
        "\n{}\n",
        table(&[
            ["ROLE", "PATHS", "KEY IDS", "THRESHOLD"],
            ["----", "-----", "-------", "---------"],
            ["targets/qa", "qa/", &qa_id, "1"],
            ["targets/releases", "\"\" <all paths>", "", "1"],
        ])
    );
    assert_eq!(listed, expected);
    assert_eq!(listed, go_list(url, &["delegation", "list", GUN]));
}

#[test]
fn mixed_delegation_changes_go_and_ours() {
    let server = GoNotaryServer::start().unwrap_or_else(|e| panic!("{e}"));
    mixed(&server.server().url);
}
