//! Trust pinning (`trust_pinning` in the client config, `--pin-root-key`) with our `notary`
//! against our server, and the same configurations with Go `notary` 0.7 where practical.
//! Go's rules (`trustpinning.ValidateRoot`): pins apply to the first root of a collection
//! (nothing cached); `certs` (GUN → root certificate key ids) before `ca` (GUN prefix → CA
//! bundle) before TOFU; `disable_tofu` without a pin refuses the first root.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use notary_rs_tests::notary_cli::{
    notary_bin, openssl_bin, our_notary_bin, run_tool, start_our_server, NotaryClient,
    PASSPHRASE_ENV,
};
use serde_json::json;

const GUN: &str = "example.com/pinned";
const CA_GUN: &str = "example.com/ca-signed";
const SELF_GUN: &str = "example.com/self-signed";

fn ours(url: &str) -> NotaryClient {
    let mut c = NotaryClient::new(url);
    c.set_bin(our_notary_bin());
    c
}

fn go(url: &str) -> NotaryClient {
    let mut c = NotaryClient::new(url);
    c.set_bin(notary_bin());
    c
}

/// Every file under `dir` (recursively).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Cached TUF metadata of the client (`<trust_dir>/tuf/...`).
fn cached(c: &NotaryClient) -> Vec<PathBuf> {
    files_under(&c.trust_dir().join("tuf"))
}

/// The root role's key ids in the publisher's cached root.json.
fn root_key_ids(c: &NotaryClient, gun: &str) -> Vec<String> {
    let path = c
        .trust_dir()
        .join("tuf")
        .join(gun)
        .join("metadata")
        .join("root.json");
    let root: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    root["signed"]["roles"]["root"]["keyids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

fn publish_one_target(c: &NotaryClient, gun: &str) {
    let target = c.scratch().join("payload.txt");
    std::fs::write(&target, b"pinned payload").unwrap();
    c.ok(&["add", gun, "v1", &target.display().to_string(), "-p"]);
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

fn openssl(args: &[&str]) {
    run_tool(&openssl_bin(), args).unwrap_or_else(|e| panic!("openssl {args:?}: {e}"));
}

/// A self-signed P-256 CA under `dir`: `(ca.crt, ca.key)`.
fn make_ca(dir: &Path, stem: &str) -> (PathBuf, PathBuf) {
    let crt = dir.join(format!("{stem}.crt"));
    let key = dir.join(format!("{stem}.key"));
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        &path(&key),
        "-out",
        &path(&crt),
        "-days",
        "30",
        "-subj",
        &format!("/CN={stem}"),
    ]);
    (crt, key)
}

/// A root key made by `c` (`key generate --role root -o`), and a certificate for `gun`
/// signed by the CA: `(encrypted root key file, certificate file)`.
fn ca_signed_root_key(c: &NotaryClient, gun: &str, ca: &(PathBuf, PathBuf)) -> (String, String) {
    let dir = c.scratch();
    let prefix = path(&dir.join("rootkey"));
    c.ok(&["key", "generate", "ecdsa", "--role", "root", "-o", &prefix]);
    let encrypted = format!("{prefix}-key.pem");
    // openssl rejects PEM headers other than Proc-Type/DEK-Info: drop `role: root`.
    let body: String = std::fs::read_to_string(&encrypted)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty() && !l.contains(": "))
        .map(|l| format!("{l}\n"))
        .collect();
    let stripped = dir.join("rootkey-noheader.pem");
    std::fs::write(&stripped, body).unwrap();
    let plain = dir.join("rootkey-plain.pem");
    let root_pass = PASSPHRASE_ENV[0].1;
    openssl(&[
        "pkcs8",
        "-in",
        &path(&stripped),
        "-passin",
        &format!("pass:{root_pass}"),
        "-out",
        &path(&plain),
    ]);
    let csr = dir.join("root.csr");
    openssl(&[
        "req",
        "-new",
        "-key",
        &path(&plain),
        "-subj",
        &format!("/CN={}", gun.replace('/', "\\/")),
        "-out",
        &path(&csr),
    ]);
    let crt = dir.join("root.crt");
    openssl(&[
        "x509",
        "-req",
        "-in",
        &path(&csr),
        "-CA",
        &path(&ca.0),
        "-CAkey",
        &path(&ca.1),
        "-CAcreateserial",
        "-days",
        "30",
        "-sha256",
        "-out",
        &path(&crt),
    ]);
    (encrypted, path(&crt))
}

#[test]
fn disable_tofu_and_certificate_id_pins() {
    let server = start_our_server(None).unwrap_or_else(|e| panic!("{e}"));
    let url = &server.url;
    let publisher = ours(url);
    publisher.ok(&["init", GUN, "-p"]);
    publish_one_target(&publisher, GUN);
    let ids = root_key_ids(&publisher, GUN);
    assert_eq!(ids.len(), 1);
    let id = &ids[0];
    let wrong = "ab".repeat(32);

    // disable_tofu without a pin: refused, nothing cached.
    let c = ours(url);
    c.with_config_json(json!({"trust_pinning": {"disable_tofu": true}}));
    let out = c.fails(&["list", GUN]);
    assert!(out.stdout.contains("* fatal:"), "{out}");
    assert!(out.stdout.contains(GUN), "{out}");
    assert!(out.stdout.contains("TOFU is disabled"), "{out}");
    assert_eq!(cached(&c), Vec::<PathBuf>::new());
    // ... but a cached root is the pin from then on: after a pinned first pull the same
    // client (still without TOFU) keeps working without the pin.
    c.ok(&["list", GUN, "--pin-root-key", id]);
    assert_eq!(c.list(GUN).len(), 1);

    // certs pin with the right id (plus disable_tofu): works.
    let c = ours(url);
    c.with_config_json(json!({"trust_pinning": {"certs": {GUN: [id]}, "disable_tofu": true}}));
    assert_eq!(c.list(GUN).len(), 1);

    // certs pin with a wrong id: rejected, naming the GUN, nothing cached.
    let c = ours(url);
    c.with_config_json(json!({"trust_pinning": {"certs": {GUN: [wrong]}}}));
    let out = c.fails(&["list", GUN]);
    assert!(out.stdout.contains(GUN), "{out}");
    assert!(out.stdout.contains("pinned root key ids"), "{out}");
    assert_eq!(cached(&c), Vec::<PathBuf>::new());

    // Wildcard GUN prefixes (`prefix*`) pin by id too; the longest one wins.
    let c = ours(url);
    c.with_config_json(json!({"trust_pinning": {"certs": {
        "example.com/*": [wrong],
        "example.com/pin*": [id],
    }}}));
    assert_eq!(c.list(GUN).len(), 1);

    // --pin-root-key: a wrong id fails, the right one works.
    let c = ours(url);
    let out = c.fails(&["list", GUN, "--pin-root-key", &wrong]);
    assert!(out.stdout.contains(GUN), "{out}");
    assert_eq!(cached(&c), Vec::<PathBuf>::new());
    c.ok(&["--pin-root-key", id, "list", GUN]);
    // Documented in the help.
    let help = c.ok(&["--help"]);
    assert!(help.contains("--pin-root-key"), "{help}");
}

#[test]
fn go_client_agrees_on_certificate_id_pins_and_disable_tofu() {
    let server = start_our_server(None).unwrap_or_else(|e| panic!("{e}"));
    let url = &server.url;
    let publisher = ours(url);
    publisher.ok(&["init", GUN, "-p"]);
    publish_one_target(&publisher, GUN);
    let id = root_key_ids(&publisher, GUN).remove(0);

    for (config, accepted) in [
        (json!({"trust_pinning": {"disable_tofu": true}}), false),
        (
            json!({"trust_pinning": {"certs": {GUN: [id.clone()]}, "disable_tofu": true}}),
            true,
        ),
        (
            json!({"trust_pinning": {"certs": {GUN: ["ab".repeat(32)]}}}),
            false,
        ),
    ] {
        for c in [go(url), ours(url)] {
            c.with_config_json(config.clone());
            let out = c.run(&["list", GUN], None);
            assert_eq!(out.status == 0, accepted, "{config}:\n{out}");
            if !accepted {
                assert!(
                    out.stdout
                        .contains("could not validate the path to a trusted root"),
                    "{config}:\n{out}"
                );
            }
        }
    }
}

#[test]
fn ca_pin_accepts_a_ca_signed_root_and_rejects_a_self_signed_one() {
    let server = start_our_server(None).unwrap_or_else(|e| panic!("{e}"));
    let url = &server.url;
    let publisher = ours(url);
    let ca = make_ca(&publisher.scratch(), "pinning-test-ca");
    let (key, cert) = ca_signed_root_key(&publisher, CA_GUN, &ca);
    publisher.ok(&["init", CA_GUN, "--rootkey", &key, "--rootcert", &cert, "-p"]);
    publish_one_target(&publisher, CA_GUN);
    publisher.ok(&["init", SELF_GUN, "-p"]);
    publish_one_target(&publisher, SELF_GUN);

    let pin = json!({"trust_pinning": {
        "ca": {"example.com/": path(&ca.0)},
        "disable_tofu": true,
    }});
    for bin in [our_notary_bin(), notary_bin()] {
        let mut c = ours(url);
        c.set_bin(bin.clone());
        c.with_config_json(pin.clone());
        assert_eq!(c.list(CA_GUN).len(), 1, "{}", bin.display());
        let out = c.fails(&["list", SELF_GUN]);
        assert!(
            out.stdout
                .contains("could not validate the path to a trusted root"),
            "{out}"
        );
        assert!(
            !c.trust_dir().join("tuf").join(SELF_GUN).exists()
                || files_under(&c.trust_dir().join("tuf").join(SELF_GUN)).is_empty(),
            "{out}"
        );
    }

    // Our wording names the GUN and the reason.
    let c = ours(url);
    c.with_config_json(pin.clone());
    let out = c.fails(&["list", SELF_GUN]);
    assert!(out.stdout.contains(SELF_GUN), "{out}");
    assert!(out.stdout.contains("pinned CA"), "{out}");

    // A different CA for the longer prefix wins over the right one for the shorter prefix.
    let other = make_ca(&c.scratch(), "other-ca");
    let c = ours(url);
    c.with_config_json(json!({"trust_pinning": {"ca": {
        "example.com/": path(&ca.0),
        "example.com/ca": path(&other.0),
    }}}));
    let out = c.fails(&["list", CA_GUN]);
    assert!(out.stdout.contains("pinned CA"), "{out}");
    assert_eq!(cached(&c), Vec::<PathBuf>::new());

    // A missing or garbage CA file is a clear error.
    let c = ours(url);
    let missing = c.scratch().join("missing-ca.pem");
    c.with_config_json(json!({"trust_pinning": {"ca": {"example.com/": path(&missing)}}}));
    let out = c.fails(&["list", CA_GUN]);
    assert!(
        out.stdout.contains("could not load root cert from CA path"),
        "{out}"
    );
    assert!(out.stdout.contains("missing-ca.pem"), "{out}");
    let garbage = c.scratch().join("garbage-ca.pem");
    std::fs::write(&garbage, "not a certificate\n").unwrap();
    c.with_config_json(json!({"trust_pinning": {"ca": {"example.com/": path(&garbage)}}}));
    let out = c.fails(&["list", CA_GUN]);
    assert!(
        out.stdout.contains("could not load root cert from CA path"),
        "{out}"
    );
    assert_eq!(cached(&c), Vec::<PathBuf>::new());
}
