//! Our `notary-server` binary over TLS with the real Go `notary` client, and its start-up
//! refusals: no plaintext fallback when TLS does not load, no plain HTTP off loopback.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use notary_rs_tests::notary_cli::{free_port, openssl_bin, our_server_bin, NotaryClient};

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new(openssl_bin())
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA and a server certificate for 127.0.0.1 signed by it.
fn certificates(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "30",
            "-subj",
            "/CN=notary-rs test CA",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "30",
            "-extfile",
            "ext.cnf",
        ],
    );
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(args: &[String], dir: &Path) -> Child {
    Command::new(our_server_bin())
        .args(args)
        .env("NOTARY_SERVER_KEY_PASSPHRASE", "test-passphrase")
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait_listening(port: u16, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "server exited during start-up"
        );
        assert!(Instant::now() < deadline, "server did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn go_client_publishes_and_verifies_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    certificates(dir.path());
    let port = free_port().unwrap();
    let d = |f: &str| dir.path().join(f).display().to_string();
    let args = vec![
        "--listen".into(),
        format!("127.0.0.1:{port}"),
        "--data-dir".into(),
        d("data"),
        "--tls-cert".into(),
        d("server.crt"),
        "--tls-key".into(),
        d("server.key"),
    ];
    let mut child = start(&args, dir.path());
    wait_listening(port, &mut child);
    let _server = Running(child);

    let client = NotaryClient::new(&format!("https://127.0.0.1:{port}"));
    let ca = d("ca.crt");
    let gun = "example.com/tls";
    client.ok(&["--tlscacert", &ca, "init", gun, "-p"]);
    let artifact = dir.path().join("artifact");
    std::fs::write(&artifact, b"over TLS\n").unwrap();
    client.ok(&[
        "--tlscacert",
        &ca,
        "add",
        gun,
        "v1",
        &artifact.display().to_string(),
        "-p",
    ]);
    let list = client.ok(&["--tlscacert", &ca, "list", gun]);
    assert!(list.contains("v1 "), "{list}");
    // Without the CA a client with no cache must not trust the server (a client with a
    // cache falls back to it, as Go notary does).
    let fresh = NotaryClient::new(&format!("https://127.0.0.1:{port}"));
    let out = fresh.run(&["list", gun], None);
    assert_ne!(
        out.status, 0,
        "an untrusted certificate was accepted: {out:?}"
    );
    assert!(out.stderr.contains("unknown authority"), "{out:?}");
}

#[test]
fn unusable_tls_never_falls_back_to_plain_http() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.crt"), "not a certificate").unwrap();
    std::fs::write(dir.path().join("bad.key"), "not a key").unwrap();
    let port = free_port().unwrap();
    let d = |f: &str| dir.path().join(f).display().to_string();
    let args = vec![
        "--listen".into(),
        format!("127.0.0.1:{port}"),
        "--data-dir".into(),
        d("data"),
        "--tls-cert".into(),
        d("bad.crt"),
        "--tls-key".into(),
        d("bad.key"),
    ];
    let child = start(&args, dir.path());
    let out = child.wait_with_output().unwrap();
    assert!(
        !out.status.success(),
        "started with an unusable TLS configuration"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("TLS"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "something listens on {port}"
    );
}

#[test]
fn refuses_to_expose_plain_http_and_wrong_passphrases() {
    let dir = tempfile::tempdir().unwrap();
    let d = |f: &str| dir.path().join(f).display().to_string();
    let out = start(
        &[
            "--listen".into(),
            "0.0.0.0:0".into(),
            "--data-dir".into(),
            d("data"),
        ],
        dir.path(),
    )
    .wait_with_output()
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--insecure-allow-exposed"));

    // A database sealed under one passphrase refuses another at start-up.
    let port = free_port().unwrap();
    let args = vec![
        "--listen".into(),
        format!("127.0.0.1:{port}"),
        "--data-dir".into(),
        d("data"),
    ];
    let mut child = start(&args, dir.path());
    wait_listening(port, &mut child);
    drop(Running(child));
    let out = Command::new(our_server_bin())
        .args(&args)
        .env("NOTARY_SERVER_KEY_PASSPHRASE", "another passphrase!")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("passphrase is wrong"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A plain HTTP GET over a TCP socket; returns the status code.
fn http_status(port: u16, path: &str) -> u16 {
    use std::io::{Read as _, Write as _};
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    resp.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn go_json_config_and_graceful_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port().unwrap();
    let config = dir.path().join("server.json");
    // Go notary-server's config keys; relative paths are relative to the file.
    std::fs::write(
        &config,
        format!(
            r#"{{"server": {{"http_addr": "127.0.0.1:{port}"}},
                "trust_service": {{"type": "local"}},
                "storage": {{"backend": "sqlite3", "db_url": "sqlite:./db/notary.sqlite"}},
                "logging": {{"level": "info"}}}}"#
        ),
    )
    .unwrap();
    let data = dir.path().join("data").display().to_string();
    let mut child = start(
        &[
            "-config".into(),
            config.display().to_string(),
            "--data-dir".into(),
            data,
        ],
        dir.path(),
    );
    wait_listening(port, &mut child);
    assert_eq!(http_status(port, "/v2/"), 200);
    assert_eq!(http_status(port, "/_notary_server/health"), 200);
    assert!(
        dir.path().join("db/notary.sqlite").is_file(),
        "db_url honoured"
    );

    // SIGTERM: the server stops cleanly.
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "no shutdown within 15 s");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status}");
}
