//! End-to-end: the real Go `notary` 0.7 CLI (Debian package `notary`) drives a Notary
//! server through the commands of the reference transcript
//! (`shared/fixtures/notary-0.7/transcripts/e2e-client.txt`) and gets the same answers.
//!
//! [`e2e_scenario`] takes only the server URL, so the same scenario runs against the
//! reference Go `notary-server` (memory store) and against ours.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::Path;
use std::time::Instant;

use notary_rs_tests::notary_cli::{
    host_port, notary_bin, our_notary_bin, parse_table, start_our_server, GoNotaryServer,
    NotaryClient, ServerUnderTest,
};
use sha2::{Digest, Sha256};

const GUN: &str = "example.com/app";
const OTHER: &str = "example.com/other";

type Row = (String, String, u64, String);

/// A target file written for the scenario, with its expected `notary list` row.
struct Target {
    name: &'static str,
    path: String,
    data: Vec<u8>,
    role: &'static str,
}

impl Target {
    fn new(dir: &Path, name: &'static str, file: &str, data: Vec<u8>, role: &'static str) -> Self {
        let path = dir.join(file);
        fs::write(&path, &data).unwrap();
        Self {
            name,
            path: path.display().to_string(),
            data,
            role,
        }
    }

    fn sha256(&self) -> String {
        hex::encode(Sha256::digest(&self.data))
    }

    fn row(&self) -> Row {
        (
            self.name.to_owned(),
            self.sha256(),
            self.data.len() as u64,
            self.role.to_owned(),
        )
    }
}

/// Expected `notary list` rows: sorted by name, as the CLI prints them.
fn rows(targets: &[&Target]) -> Vec<Row> {
    let mut rows: Vec<Row> = targets.iter().map(|t| t.row()).collect();
    rows.sort();
    rows
}

fn published(gun: &str) -> String {
    format!("Pushing changes to {gun}\nSuccessfully published changes for repository {gun}\n")
}

fn staged_add(name: &str, gun: &str) -> String {
    format!("Addition of target \"{name}\" to repository \"{gun}\" staged for next publish.\n")
}

fn rotated(role: &str) -> String {
    format!("Successfully rotated {role} key for repository {GUN}\n")
}

/// `status` rows as `[#, ACTION, SCOPE, TYPE, PATH?]`.
fn status_rows(c: &NotaryClient, gun: &str) -> Vec<Vec<String>> {
    let out = c.ok(&["status", gun]);
    assert!(
        out.starts_with(&format!("Unpublished changes for {gun}:\n")),
        "status output: {out:?}"
    );
    parse_table(&out, "#").unwrap_or_else(|e| panic!("{e}: {out:?}"))
}

fn cells(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

/// `delegation list` rows as `(role, paths, key ids, threshold)`; a continuation line
/// (one more path) is folded into the previous row's paths.
fn delegations(c: &NotaryClient, gun: &str) -> Vec<(String, Vec<String>, String, String)> {
    let out = c.ok(&["delegation", "list", gun]);
    if out.trim() == "No delegations present in this repository." {
        return Vec::new();
    }
    let mut result: Vec<(String, Vec<String>, String, String)> = Vec::new();
    for line in out.lines() {
        let cols = notary_rs_tests::notary_cli::split_columns(line);
        if cols.is_empty() || cols[0] == "ROLE" || cols.iter().all(|c| c.starts_with('-')) {
            continue;
        }
        if line.starts_with(' ') {
            let last = result
                .last_mut()
                .unwrap_or_else(|| panic!("continuation first: {out:?}"));
            last.1.extend(cols);
            continue;
        }
        let [role, paths, keys, threshold] = cols.as_slice() else {
            panic!("bad delegation row {line:?} in:\n{out}");
        };
        result.push((
            role.clone(),
            vec![paths.clone()],
            keys.clone(),
            threshold.clone(),
        ));
    }
    result
}

/// The key id in `... with keys [<id>], ...`.
fn key_id_in(out: &str) -> String {
    let start = out.find("with keys [").expect("key list in output") + "with keys [".len();
    let id: String = out[start..].chars().take_while(|c| *c != ']').collect();
    assert_eq!(id.len(), 64, "key id {id:?} in {out:?}");
    id
}

/// `key list` rows as `[role, gun?, key id, location]`.
fn key_list(c: &NotaryClient) -> Vec<Vec<String>> {
    let out = c.ok(&["key", "list"]);
    parse_table(&out, "ROLE").unwrap_or_else(|e| panic!("{e}: {out:?}"))
}

fn roles_in_key_list(c: &NotaryClient) -> Vec<String> {
    let mut roles: Vec<String> = key_list(c).into_iter().map(|r| r[0].clone()).collect();
    roles.sort();
    roles
}

/// A brand-new trust directory (trust on first use) lists the same targets.
fn assert_fresh_client_lists(server_url: &str, bin: &Path, expected: &[Row], after: &str) {
    let fresh = client(server_url, bin);
    assert_eq!(
        fresh.list(GUN),
        expected,
        "a fresh trust dir lists other targets after {after}"
    );
}

/// A client with a fresh trust dir running the `notary` binary `bin`.
fn client(server_url: &str, bin: &Path) -> NotaryClient {
    let mut c = NotaryClient::new(server_url);
    c.set_bin(bin.to_path_buf());
    c
}

/// The whole scenario against the server at `server_url`, with the `notary` binary `bin`.
fn e2e_scenario(server_url: &str, bin: &Path) {
    let started = Instant::now();
    let a = client(server_url, bin);
    let dir = a.scratch();
    let not_found = |gun: &str| {
        format!(
            "* fatal: {} does not have trust data for {gun}",
            host_port(server_url)
        )
    };

    // --- 1. the repository does not exist yet; init + publish -------------------------
    let out = a.fails(&["list", GUN]);
    assert_eq!(out.stdout.trim(), not_found(GUN), "{out}");
    let out = a.ok(&["key", "list"]);
    assert_eq!(out.trim(), "No signing keys found.");

    assert_eq!(a.ok(&["init", GUN]).trim(), "", "init is silent");
    assert_eq!(
        a.ok(&["status", GUN]),
        format!("No unpublished changes for {GUN}\n")
    );
    assert_eq!(a.ok(&["publish", GUN]), published(GUN));
    assert_eq!(a.list(GUN), Vec::<Row>::new());
    assert_eq!(
        roles_in_key_list(&a),
        ["root", "snapshot", "targets"],
        "init makes root, targets and snapshot keys locally"
    );

    // --- 2. add three targets (one with --custom), publish, list ----------------------
    let v1 = Target::new(
        &dir,
        "v1",
        "file1.txt",
        b"hello world v1\n".to_vec(),
        "targets",
    );
    let v2 = Target::new(
        &dir,
        "v2",
        "file2.txt",
        b"hello world v2, longer!\n".to_vec(),
        "targets",
    );
    let latest_data: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 251) as u8).collect();
    let latest = Target::new(&dir, "latest", "file3.bin", latest_data, "targets");
    // the transcript's file1.txt: same bytes, same digest
    assert_eq!(
        v1.sha256(),
        "64853fda4ac63ec4750031fb545a1f8d5f6eb5ebba7db0a04abea35ad32e1602"
    );
    let custom_path = dir.join("custom.json");
    fs::write(&custom_path, r#"{"build": 42, "tags": ["a", "b"]}"#).unwrap();
    let custom_s = custom_path.display().to_string();

    assert_eq!(a.ok(&["add", GUN, "v1", &v1.path]), staged_add("v1", GUN));
    assert_eq!(a.ok(&["add", GUN, "v2", &v2.path]), staged_add("v2", GUN));
    assert_eq!(
        a.ok(&["add", GUN, "latest", &latest.path, "--custom", &custom_s]),
        staged_add("latest", GUN)
    );
    assert_eq!(
        status_rows(&a, GUN),
        [
            cells(&["0", "create", "targets", "target", "v1"]),
            cells(&["1", "create", "targets", "target", "v2"]),
            cells(&["2", "create", "targets", "target", "latest"]),
        ]
    );
    assert_eq!(a.ok(&["publish", GUN]), published(GUN));
    assert_eq!(
        a.ok(&["status", GUN]),
        format!("No unpublished changes for {GUN}\n")
    );
    assert_eq!(a.list(GUN), rows(&[&v1, &v2, &latest]));

    // the custom data made the round trip through the server
    let fresh = client(server_url, bin);
    assert_eq!(fresh.list(GUN), rows(&[&v1, &v2, &latest]));
    let targets_json = fresh
        .trust_dir()
        .join("tuf")
        .join(GUN)
        .join("metadata")
        .join("targets.json");
    let targets: serde_json::Value =
        serde_json::from_slice(&fs::read(&targets_json).unwrap()).unwrap();
    assert_eq!(
        targets["signed"]["targets"]["latest"]["custom"],
        serde_json::json!({"build": 42, "tags": ["a", "b"]}),
        "custom data of 'latest' as downloaded by a fresh client"
    );
    drop(fresh);

    // --- 3. lookup and verify ----------------------------------------------------------
    assert_eq!(
        a.ok(&["lookup", GUN, "v1"]),
        format!("v1 sha256:{} 15\n", v1.sha256())
    );
    let out = a.fails(&["lookup", GUN, "nope"]);
    assert_eq!(out.stdout.trim(), "* fatal: No valid trust data for nope");
    let good = a.run(
        &["verify", GUN, "v1"],
        Some(std::str::from_utf8(&v1.data).unwrap()),
    );
    assert_eq!(
        (good.status, good.stdout.as_str()),
        (0, "hello world v1\n"),
        "{good}"
    );
    let bad = a.run(
        &["verify", GUN, "v1"],
        Some(std::str::from_utf8(&v2.data).unwrap()),
    );
    assert_eq!(bad.status, 1, "{bad}");
    // The Go client checks the listed hashes in map order, so it names either one.
    let expected = |alg: &str, digest: String| {
        format!(
            "* fatal: data not present in the trusted collection, {alg} checksum for v1 did not \
             match: expected {digest}"
        )
    };
    let sha512 = hex::encode(sha2::Sha512::digest(&v1.data));
    assert!(
        bad.stdout.contains(&expected("sha256", v1.sha256()))
            || bad.stdout.contains(&expected("sha512", sha512)),
        "expected a checksum mismatch for v1 in the output of:\n{bad}"
    );
    assert_eq!(
        a.ok(&["verify", "-q", GUN, "v2", "-i", &v2.path]).trim(),
        ""
    );

    // --- 4. remove + status + publish --------------------------------------------------
    assert_eq!(
        a.ok(&["remove", GUN, "v2"]),
        format!("Removal of v2 from {GUN} staged for next publish.\n")
    );
    assert_eq!(
        status_rows(&a, GUN),
        [cells(&["0", "delete", "targets", "target", "v2"])]
    );
    assert_eq!(a.ok(&["publish", GUN]), published(GUN));
    assert_eq!(a.list(GUN), rows(&[&v1, &latest]));

    // --- 5. delegations -------------------------------------------------------------------
    // targets/releases: PUBLIC KEY pem from `key generate -o`, --all-paths
    let releases = a.generate_delegation_key("targets/releases", "releases");
    let pem = fs::read_to_string(&releases.public_pem).unwrap();
    assert!(
        pem.starts_with("-----BEGIN PUBLIC KEY-----\nrole: targets/releases\n"),
        "{pem}"
    );
    let plain = releases.private_plain.display().to_string();
    assert_eq!(
        a.ok(&["key", "import", &plain, "--role", "targets/releases"])
            .trim(),
        ""
    );
    let pub_s = releases.public_pem.display().to_string();
    let out = a.ok(&[
        "delegation",
        "add",
        GUN,
        "targets/releases",
        &pub_s,
        "--all-paths",
    ]);
    let releases_id = key_id_in(&out);
    assert_eq!(
        out.trim(),
        format!(
            "Addition of delegation role targets/releases with keys [{releases_id}], with paths \
             [\"\" <all paths>], to repository \"{GUN}\" staged for next publish."
        )
    );
    assert!(
        key_list(&a)
            .iter()
            .any(|r| r[0] == "targets/releases" && r.contains(&releases_id)),
        "imported delegation key {releases_id} not in key list"
    );
    assert_eq!(
        delegations(&a, GUN),
        [],
        "delegation list shows published state only"
    );
    assert_eq!(
        status_rows(&a, GUN),
        [
            cells(&["0", "create", "targets/releases", "delegation"]),
            cells(&["1", "create", "targets/releases", "delegation"]),
        ]
    );
    assert_eq!(a.ok(&["publish", GUN]), published(GUN));
    assert_eq!(
        delegations(&a, GUN),
        [(
            "targets/releases".to_owned(),
            vec!["\"\" <all paths>".to_owned()],
            releases_id.clone(),
            "1".to_owned()
        )]
    );

    // targets/qa: X.509 certificate, --paths, auto-publish
    let qa_cert = a.self_signed_cert("targets/qa", "qa");
    let qa_s = qa_cert.display().to_string();
    let out = a.ok(&[
        "delegation",
        "add",
        GUN,
        "targets/qa",
        &qa_s,
        "--paths",
        "qa/,tmp/",
        "-p",
    ]);
    let qa_id = key_id_in(&out);
    assert_eq!(
        out.trim(),
        format!(
            "Addition of delegation role targets/qa with keys [{qa_id}], with paths [qa/\ntmp/], \
             to repository \"{GUN}\" staged for next publish.\n\n\
             Auto-publishing changes to {GUN}\n\
             Successfully published changes for repository {GUN}"
        )
    );
    assert_eq!(
        delegations(&a, GUN),
        [
            (
                "targets/qa".to_owned(),
                vec!["qa/".to_owned(), "tmp/".to_owned()],
                qa_id.clone(),
                "1".to_owned()
            ),
            (
                "targets/releases".to_owned(),
                vec!["\"\" <all paths>".to_owned()],
                releases_id.clone(),
                "1".to_owned()
            ),
        ]
    );

    // a target signed by the delegation
    let rel = Target::new(
        &dir,
        "release/1.0",
        "rel.txt",
        b"release 1.0 bits\n".to_vec(),
        "targets/releases",
    );
    assert_eq!(
        a.ok(&[
            "add",
            GUN,
            "release/1.0",
            &rel.path,
            "-r",
            "targets/releases"
        ]),
        staged_add("release/1.0", GUN)
    );
    assert_eq!(a.ok(&["publish", GUN]), published(GUN));
    let expected = rows(&[&v1, &latest, &rel]);
    assert_eq!(a.list(GUN), expected);
    assert_eq!(
        a.list_with(GUN, &["--roles", "targets/releases"]),
        rows(&[&rel])
    );

    // witness re-signs the delegation
    assert_eq!(
        a.ok(&["witness", GUN, "targets/releases"]),
        "The following roles were successfully marked for witnessing on the next publish:\n\
         \t- targets/releases\n"
    );
    assert_eq!(
        status_rows(&a, GUN),
        [cells(&["0", "update", "targets/releases", "witness"])]
    );
    assert_eq!(a.ok(&["publish", GUN]), published(GUN));
    assert_eq!(a.list(GUN), expected);

    // delegation remove (whole role)
    let out = a.ok(&["delegation", "remove", GUN, "targets/qa", "-y", "-p"]);
    for needle in [
        "Confirmed `yes` from flag",
        &format!(
            "Forced removal (including all keys and paths) of delegation role targets/qa to \
             repository \"{GUN}\" staged for next publish."
        ),
        &format!("Successfully published changes for repository {GUN}"),
    ] {
        assert!(out.contains(needle), "expected {needle:?} in {out:?}");
    }
    assert_eq!(
        delegations(&a, GUN)
            .into_iter()
            .map(|d| d.0)
            .collect::<Vec<_>>(),
        ["targets/releases"]
    );
    assert_eq!(a.list(GUN), expected);
    assert_fresh_client_lists(server_url, bin, &expected, "the delegation changes");

    // a client that trusted the repository before any key rotation
    let old = client(server_url, bin);
    assert_eq!(old.list(GUN), expected);

    // --- 6. key rotations; a fresh trust dir (TOFU) after each ------------------------
    assert_eq!(
        a.ok(&["key", "rotate", GUN, "snapshot", "-r"]),
        rotated("snapshot")
    );
    assert_eq!(
        roles_in_key_list(&a),
        ["root", "targets", "targets/releases"],
        "the snapshot key moved to the server"
    );
    assert_fresh_client_lists(
        server_url,
        bin,
        &expected,
        "rotating snapshot to the server",
    );

    let out = a.fails(&["key", "rotate", GUN, "timestamp"]);
    assert_eq!(
        out.stdout.trim(),
        "* fatal: notary does not permit the client managing the timestamp key"
    );
    assert_eq!(
        a.ok(&["key", "rotate", GUN, "timestamp", "-r"]),
        rotated("timestamp")
    );
    assert_fresh_client_lists(server_url, bin, &expected, "rotating the timestamp key");

    assert_eq!(a.ok(&["key", "rotate", GUN, "targets"]), rotated("targets"));
    assert_eq!(a.list(GUN), expected);
    assert_fresh_client_lists(server_url, bin, &expected, "rotating the targets key");

    let prompt = "Warning: you are about to rotate your root key.\n\n\
                  You must use your old key to sign this root rotation.\n\
                  Are you sure you want to proceed?  (yes/no)  ";
    let out = a.run(&["key", "rotate", GUN, "root"], None);
    assert_eq!(
        (out.status, out.stdout.as_str()),
        (0, format!("{prompt}\nAborting action.\n").as_str()),
        "no `yes` on stdin aborts with exit 0:\n{out}"
    );
    for round in 1..=2 {
        let out = a.ok_stdin(&["key", "rotate", GUN, "root"], Some("yes\n"));
        assert_eq!(
            out,
            format!("{prompt}{}", rotated("root")),
            "root rotation {round}"
        );
        assert_eq!(a.list(GUN), expected);
        assert_fresh_client_lists(server_url, bin, &expected, "rotating the root key");
    }
    assert_eq!(
        roles_in_key_list(&a),
        ["root", "root", "root", "targets", "targets/releases"],
        "old root keys stay in the trust dir"
    );
    // behind by every rotation (two root keys): walks the root chain
    assert_eq!(old.list(GUN), expected, "client with a pre-rotation root");

    // --- 7. delete --remote ------------------------------------------------------------
    assert_eq!(
        a.ok(&["init", OTHER, "-p"])
            .lines()
            .skip(1)
            .collect::<Vec<_>>(),
        [
            format!("Auto-publishing changes to {OTHER}"),
            format!("Successfully published changes for repository {OTHER}")
        ],
        "init -p with an existing root key"
    );
    let t1 = Target::new(&dir, "t1", "t1.txt", b"other\n".to_vec(), "targets");
    a.ok(&["add", OTHER, "t1", &t1.path, "-p"]);
    assert_eq!(a.list(OTHER), rows(&[&t1]));

    assert_eq!(
        a.ok(&["delete", GUN, "--remote"]),
        format!(
            "Deleting trust data for repository {GUN}\n\
             Successfully deleted local and remote trust data for repository {GUN}\n"
        )
    );
    let out = a.fails(&["list", GUN]);
    assert_eq!(out.stdout.trim(), not_found(GUN), "{out}");
    let out = client(server_url, bin).fails(&["list", GUN]);
    assert_eq!(out.stdout.trim(), not_found(GUN), "fresh client: {out}");
    assert_eq!(
        client(server_url, bin).list(OTHER),
        rows(&[&t1]),
        "deleting {GUN} leaves {OTHER} alone"
    );

    eprintln!(
        "e2e scenario against {server_url} took {:.1?}",
        started.elapsed()
    );
}

/// Runs the scenario; on failure, prints the server's log before re-raising the panic.
fn run_against(server: &ServerUnderTest, bin: &Path) {
    let result = std::panic::catch_unwind(|| e2e_scenario(&server.url, bin));
    if let Err(panic) = result {
        eprintln!(
            "=== log of {} ({}) ===\n{}",
            server.name,
            server.url,
            server.log()
        );
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn e2e_against_go_notary_server() {
    let server = GoNotaryServer::start().unwrap_or_else(|e| panic!("{e}"));
    run_against(server.server(), &notary_bin());
}

/// Our server: `$NOTARY_SERVER_BIN`, else `notary-server` next to this test binary
/// (`cargo build -p notary-server` first when running this test crate alone).
#[test]
fn e2e_against_our_server() {
    let server = start_our_server(None).unwrap_or_else(|e| panic!("{e}"));
    run_against(&server, &notary_bin());
}

/// Our `notary` through the same scenario, against Go notary-server.
#[test]
fn e2e_our_client_against_go_notary_server() {
    let server = GoNotaryServer::start().unwrap_or_else(|e| panic!("{e}"));
    run_against(server.server(), &our_notary_bin());
}

/// Our `notary` through the same scenario, against our notary-server.
#[test]
fn e2e_our_client_against_our_server() {
    let server = start_our_server(None).unwrap_or_else(|e| panic!("{e}"));
    run_against(&server, &our_notary_bin());
}
