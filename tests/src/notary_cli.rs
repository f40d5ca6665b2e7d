//! Harness for driving the real Go `notary` 0.7 CLI (Debian package `notary`) against a
//! Notary server: either the reference Go `notary-server` ([`GoNotaryServer`]) or any
//! server started from a command line ([`spawn_server`], [`start_our_server`]).
//!
//! Everything here is test-harness code. A missing peer (the `notary` CLI, the Go server,
//! `openssl`) is a loud failure with the command that installs it, never a skip; the
//! panicking helpers carry `#[allow(clippy::panic)]` and say so in their docs.

use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::repo_root;

/// How long one `notary` command may run before it is killed.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a server may take to answer its health check after being spawned.
pub const SERVER_START_TIMEOUT: Duration = Duration::from_secs(30);

/// Passphrases handed to every `notary` command (the values of the reference transcript).
pub const PASSPHRASE_ENV: [(&str, &str); 4] = [
    ("NOTARY_ROOT_PASSPHRASE", "root-pass-123"),
    ("NOTARY_TARGETS_PASSPHRASE", "targets-pass-123"),
    ("NOTARY_SNAPSHOT_PASSPHRASE", "snapshot-pass-123"),
    ("NOTARY_DELEGATION_PASSPHRASE", "deleg-pass-123"),
];

/// Finds an executable on `$PATH`.
fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// `$<var>` if set, else `name` on `$PATH`.
fn locate(var: &str, name: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(p) => Some(PathBuf::from(p)),
        None => which(name),
    }
}

/// The Go `notary` CLI: `$NOTARY_BIN`, else `notary` on `$PATH` (`/usr/bin/notary`).
///
/// # Panics
///
/// Harness: if the binary does not exist (install the Debian package `notary`).
#[allow(clippy::panic)] // test harness: a missing peer must fail the test loudly
pub fn notary_bin() -> PathBuf {
    match locate("NOTARY_BIN", "notary") {
        Some(p) if p.is_file() => p,
        other => panic!(
            "the Go notary CLI is missing (looked for {}): install Debian package notary \
             (apt-get install notary)",
            other.map_or_else(|| "notary on PATH".to_owned(), |p| p.display().to_string())
        ),
    }
}

/// The Go `notary-server`: `$NOTARY_GO_SERVER_BIN`, else `notary-server` on `$PATH`
/// (`/usr/bin/notary-server`, from the same Debian package as the CLI).
///
/// # Panics
///
/// Harness: if the binary does not exist.
#[allow(clippy::panic)] // test harness: a missing peer must fail the test loudly
pub fn go_notary_server_bin() -> PathBuf {
    // Not `$PATH` first: our own `notary-server` may be on `$PATH` in a dev shell.
    let path = std::env::var_os("NOTARY_GO_SERVER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/notary-server"));
    if !path.is_file() {
        panic!(
            "the Go notary-server is missing (looked for {}): install Debian package notary \
             (apt-get install notary), or set NOTARY_GO_SERVER_BIN",
            path.display()
        );
    }
    path
}

/// `openssl` on `$PATH` (used to decrypt a generated delegation key and to make an X.509
/// delegation certificate).
///
/// # Panics
///
/// Harness: if it is missing.
#[allow(clippy::panic)] // test harness: a missing peer must fail the test loudly
pub fn openssl_bin() -> PathBuf {
    match locate("OPENSSL_BIN", "openssl") {
        Some(p) if p.is_file() => p,
        _ => panic!("openssl is missing: install Debian package openssl (apt-get install openssl)"),
    }
}

/// Our `notary` binary: `$NOTARY_RS_BIN`, else `notary` in the target directory next to this
/// test executable (`cargo build -p notary-client` builds it).
///
/// # Panics
///
/// Harness: if it does not exist.
#[allow(clippy::panic)] // test harness: a missing binary must fail the test loudly
pub fn our_notary_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("NOTARY_RS_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().unwrap_or_default();
    let candidate = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("notary"))
        .unwrap_or_default();
    if !candidate.is_file() {
        panic!(
            "our notary binary is missing at {} (cargo build -p notary-client, or set NOTARY_RS_BIN)",
            candidate.display()
        );
    }
    candidate
}

/// Our `tuf-repo` binary (the TUF 1.0 repository writer): `$TUF_REPO_BIN`, else `tuf-repo`
/// next to the directory this test executable was built into (`<target>/debug/`).
///
/// # Panics
///
/// Harness: if no such file exists (build it with `cargo build -p notary-client --bins`).
#[allow(clippy::panic)] // test harness: a missing binary must fail the test loudly
pub fn tuf_repo_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("TUF_REPO_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().unwrap_or_default();
    let candidate = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("tuf-repo"))
        .unwrap_or_default();
    if !candidate.is_file() {
        panic!(
            "our tuf-repo binary is missing at {} (cargo build -p notary-client --bins, or set TUF_REPO_BIN)",
            candidate.display()
        );
    }
    candidate
}

/// Our `tuf-client` binary: `$TUF_CLIENT_BIN`, else `tuf-client` beside the `notary` binary
/// (the target dir this test executable was built into). Build it with
/// `cargo build -p notary-client --bins`.
///
/// # Panics
///
/// Harness: if no such file exists.
#[allow(clippy::panic)] // test harness: a missing binary must fail the test loudly
pub fn tuf_client_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("TUF_CLIENT_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().unwrap_or_default();
    let candidate = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("tuf-client"))
        .unwrap_or_default();
    if !candidate.is_file() {
        panic!(
            "our tuf-client binary is missing at {} (cargo build -p notary-client --bins, or set TUF_CLIENT_BIN)",
            candidate.display()
        );
    }
    candidate
}

/// Our `notary-server` binary: `$NOTARY_SERVER_BIN`, else `<target dir>/debug/notary-server`,
/// where the target dir is the one this test executable was built into (it lives in
/// `<target>/debug/deps/`), else `$CARGO_TARGET_DIR`, else `<repo>/target`.
///
/// # Panics
///
/// Harness: if no such file exists (build it with `cargo build -p notary-server`).
#[allow(clippy::panic)] // test harness: a missing server must fail the test loudly
pub fn our_server_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("NOTARY_SERVER_BIN") {
        let p = PathBuf::from(p);
        if !p.is_file() {
            panic!("NOTARY_SERVER_BIN={} does not exist", p.display());
        }
        return p;
    }
    let mut candidates = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        if let Some(debug) = exe.parent().and_then(Path::parent) {
            candidates.push(debug.join("notary-server"));
        }
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| {
            if t.is_absolute() {
                t
            } else {
                repo_root().join(t)
            }
        })
        .unwrap_or_else(|| repo_root().join("target"));
    let by_env = target.join("debug").join("notary-server");
    if !candidates.contains(&by_env) {
        candidates.push(by_env);
    }
    match candidates.iter().find(|c| c.is_file()) {
        Some(p) => p.clone(),
        None => panic!(
            "our notary-server binary is missing (looked for {candidates:?}): build it with \
             `cargo build -p notary-server`, or set NOTARY_SERVER_BIN"
        ),
    }
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> io::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// A one-shot `GET path` over plain HTTP/1.0; returns the status code.
pub fn http_get_status(port: u16, path: &str) -> io::Result<u16> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let text = String::from_utf8_lossy(&response);
    let status_line = text.lines().next().unwrap_or_default();
    let mut parts = status_line.split_whitespace();
    match (parts.next(), parts.next().map(str::parse::<u16>)) {
        (Some(proto), Some(Ok(code))) if proto.starts_with("HTTP/") => Ok(code),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("not an HTTP response: {status_line:?}"),
        )),
    }
}

/// A server process spawned for a test: killed (and reaped) on drop.
pub struct ServerUnderTest {
    /// Base URL clients use, e.g. `http://127.0.0.1:4443`.
    pub url: String,
    /// What was started (for messages).
    pub name: String,
    child: Child,
    log: PathBuf,
    // Config, data and log files; removed after the process is gone (field order: the
    // `Drop` impl kills the child first).
    _dir: TempDir,
}

impl ServerUnderTest {
    /// `host:port` of [`Self::url`] (what the CLI prints in "does not have trust data" errors).
    pub fn host_port(&self) -> &str {
        host_port(&self.url)
    }

    /// The directory holding the server's config, data (`data/`) and log.
    pub fn dir(&self) -> &Path {
        self._dir.path()
    }

    /// The server's combined stdout/stderr so far (for failure messages).
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_else(|e| format!("<no log: {e}>"))
    }
}

impl Drop for ServerUnderTest {
    fn drop(&mut self) {
        // Best effort: the process may already have exited.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl fmt::Debug for ServerUnderTest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerUnderTest")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("pid", &self.child.id())
            .finish()
    }
}

/// `host:port` of an `http(s)://host:port[/...]` URL.
pub fn host_port(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split('/').next().unwrap_or(rest)
}

/// Spawns `cmd args` (with extra environment `envs`) in a fresh temporary working
/// directory `dir` that the returned value owns, and waits until `GET health_path` on
/// `127.0.0.1:port` answers 200. The server's stdout and stderr go to `dir/server.log`.
///
/// Returns an error (with the log) if the process exits early or is not healthy within
/// [`SERVER_START_TIMEOUT`].
pub fn spawn_server(
    cmd: &Path,
    args: &[String],
    envs: &[(String, String)],
    health_path: &str,
    port: u16,
    dir: TempDir,
) -> Result<ServerUnderTest, String> {
    let name = format!("{} {}", cmd.display(), args.join(" "));
    let log = dir.path().join("server.log");
    let log_file = fs::File::create(&log).map_err(|e| format!("create {}: {e}", log.display()))?;
    let log_err = log_file
        .try_clone()
        .map_err(|e| format!("dup log file: {e}"))?;
    let child = Command::new(cmd)
        .args(args)
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(log_err)
        .spawn()
        .map_err(|e| format!("cannot start {name}: {e}"))?;
    let mut server = ServerUnderTest {
        url: format!("http://127.0.0.1:{port}"),
        name,
        child,
        log,
        _dir: dir,
    };
    let deadline = Instant::now() + SERVER_START_TIMEOUT;
    loop {
        if let Ok(Some(status)) = server.child.try_wait() {
            return Err(format!(
                "{} exited during startup ({status}); log:\n{}",
                server.name,
                server.log()
            ));
        }
        match http_get_status(port, health_path) {
            Ok(200) => return Ok(server),
            Ok(_) | Err(_) if Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(50));
            }
            last => {
                return Err(format!(
                    "{} not healthy at {}{health_path} after {SERVER_START_TIMEOUT:?} \
                     (last: {last:?}); log:\n{}",
                    server.name,
                    server.url,
                    server.log()
                ));
            }
        }
    }
}

/// Creates the temporary directory a server runs in.
fn server_dir(prefix: &str) -> Result<TempDir, String> {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .map_err(|e| format!("tempdir: {e}"))
}

/// Tries `start` on up to three free ports (a port found free can be taken before the
/// server binds it).
fn with_free_port(
    mut start: impl FnMut(u16) -> Result<ServerUnderTest, String>,
) -> Result<ServerUnderTest, String> {
    let mut errors = Vec::new();
    for _ in 0..3 {
        let port = free_port().map_err(|e| format!("no free port: {e}"))?;
        match start(port) {
            Ok(s) => return Ok(s),
            Err(e) => errors.push(e),
        }
    }
    Err(errors.join("\n---\n"))
}

/// The reference Go `notary-server` 0.7: plain HTTP on a free port of 127.0.0.1, local
/// (in-process ED25519) trust service, memory storage. Killed on drop.
#[derive(Debug)]
pub struct GoNotaryServer {
    server: ServerUnderTest,
}

impl GoNotaryServer {
    /// Writes the config, starts the server and waits for `/_notary_server/health`.
    pub fn start() -> Result<Self, String> {
        Self::start_with(None)
    }

    /// [`Self::start`] with Docker-registry token auth (reference §3): the config gets
    /// `"auth": {"type": "token", "options": {"realm", "service", "issuer",
    /// "rootcertbundle"}}`. The health endpoint stays unauthenticated.
    pub fn start_with_auth(
        realm: &str,
        service: &str,
        issuer: &str,
        rootcertbundle: &Path,
    ) -> Result<Self, String> {
        let auth = serde_json::json!({
            "type": "token",
            "options": {
                "realm": realm,
                "service": service,
                "issuer": issuer,
                "rootcertbundle": path_string(rootcertbundle)?,
            }
        });
        Self::start_with(Some(auth))
    }

    fn start_with(auth: Option<serde_json::Value>) -> Result<Self, String> {
        let bin = go_notary_server_bin();
        let server = with_free_port(|port| {
            let dir = server_dir("go-notary-server-")?;
            let config = dir.path().join("config.json");
            let mut value = serde_json::json!({
                "server": {"http_addr": format!("127.0.0.1:{port}")},
                "trust_service": {"type": "local"},
                "storage": {"backend": "memory"},
                "logging": {"level": "error"},
            });
            if let (Some(auth), Some(obj)) = (&auth, value.as_object_mut()) {
                obj.insert("auth".to_owned(), auth.clone());
            }
            let text = value.to_string();
            fs::write(&config, text).map_err(|e| format!("write {}: {e}", config.display()))?;
            let args = vec!["-config".to_owned(), path_string(&config)?];
            spawn_server(&bin, &args, &[], "/_notary_server/health", port, dir)
        })?;
        Ok(Self { server })
    }

    /// The running server.
    pub fn server(&self) -> &ServerUnderTest {
        &self.server
    }

    /// Its base URL.
    pub fn url(&self) -> &str {
        &self.server.url
    }
}

/// Our `notary-server` ([`our_server_bin`] unless `bin` is given), started as
/// `notary-server --listen 127.0.0.1:<port> --data-dir <tmpdir>` with
/// `NOTARY_SERVER_KEY_PASSPHRASE=test-passphrase`, healthy at `/_notary_server/health`.
pub fn start_our_server(bin: Option<&Path>) -> Result<ServerUnderTest, String> {
    start_our_server_with(bin, &[])
}

/// [`start_our_server`] with extra command-line arguments (e.g. `--tuf-gun PATTERN`). The
/// data directory is [`ServerUnderTest::data_dir`]; the key passphrase is `test-passphrase`.
pub fn start_our_server_with(
    bin: Option<&Path>,
    extra: &[&str],
) -> Result<ServerUnderTest, String> {
    let bin = bin.map_or_else(our_server_bin, Path::to_path_buf);
    with_free_port(|port| {
        let dir = server_dir("our-notary-server-")?;
        let data = dir.path().join("data");
        fs::create_dir(&data).map_err(|e| format!("mkdir {}: {e}", data.display()))?;
        let mut args = vec![
            "--listen".to_owned(),
            format!("127.0.0.1:{port}"),
            "--data-dir".to_owned(),
            path_string(&data)?,
        ];
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        let envs = vec![(
            "NOTARY_SERVER_KEY_PASSPHRASE".to_owned(),
            "test-passphrase".to_owned(),
        )];
        spawn_server(&bin, &args, &envs, "/_notary_server/health", port, dir)
    })
}

/// A path as UTF-8 (temporary paths always are here).
pub fn path_string(path: &Path) -> Result<String, String> {
    path.to_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("path is not UTF-8: {}", path.display()))
}

/// What one CLI command did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmdOutput {
    /// The command line (for messages).
    pub command: String,
    /// Exit code; -1 if killed (signal or timeout).
    pub status: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl fmt::Display for CmdOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "$ {}\n[exit {}]\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command, self.status, self.stdout, self.stderr
        )
    }
}

/// One `notary` CLI user: its own trust directory, config file and `$HOME`, all in one
/// temporary directory removed on drop.
#[derive(Debug)]
pub struct NotaryClient {
    bin: PathBuf,
    root: TempDir,
    trust_dir: PathBuf,
    config: PathBuf,
    server_url: String,
}

impl NotaryClient {
    /// A client with a brand-new (empty) trust directory talking to `server_url`.
    ///
    /// # Panics
    ///
    /// Harness: if the temporary directory or config cannot be written.
    #[allow(clippy::panic)] // test harness
    pub fn new(server_url: &str) -> Self {
        match Self::try_new(server_url) {
            Ok(c) => c,
            Err(e) => panic!("cannot set up a notary client: {e}"),
        }
    }

    fn try_new(server_url: &str) -> Result<Self, String> {
        let root = tempfile::Builder::new()
            .prefix("notary-client-")
            .tempdir()
            .map_err(|e| format!("tempdir: {e}"))?;
        let trust_dir = root.path().join("trust");
        let home = root.path().join("home");
        for d in [&trust_dir, &home] {
            fs::create_dir(d).map_err(|e| format!("mkdir {}: {e}", d.display()))?;
        }
        let config = root.path().join("config.json");
        let text = serde_json_string(&trust_dir, server_url)?;
        fs::write(&config, text).map_err(|e| format!("write {}: {e}", config.display()))?;
        Ok(Self {
            bin: notary_bin(),
            root,
            trust_dir,
            config,
            server_url: server_url.to_owned(),
        })
    }

    /// Adds (or replaces) top-level members of this client's config file, e.g.
    /// `{"trust_pinning": {"disable_tofu": true}}`; `trust_dir` and `remote_server` stay
    /// unless `extra` names them.
    ///
    /// # Panics
    ///
    /// Harness: if `extra` is not an object or the config cannot be rewritten.
    #[allow(clippy::panic)] // test harness
    pub fn with_config_json(&self, extra: serde_json::Value) {
        let result = (|| -> Result<(), String> {
            let text = fs::read_to_string(&self.config).map_err(|e| format!("read: {e}"))?;
            let mut config: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| format!("parse: {e}"))?;
            let (Some(config_obj), serde_json::Value::Object(extra)) =
                (config.as_object_mut(), extra)
            else {
                return Err("the config and `extra` must be JSON objects".into());
            };
            config_obj.extend(extra);
            let text = serde_json::to_string_pretty(&config).map_err(|e| format!("{e}"))?;
            fs::write(&self.config, text).map_err(|e| format!("write: {e}"))
        })();
        if let Err(e) = result {
            panic!("cannot rewrite {}: {e}", self.config.display());
        }
    }

    /// Runs later commands with `bin` (e.g. our `notary` instead of Go's) on the same trust
    /// directory and configuration.
    pub fn set_bin(&mut self, bin: PathBuf) {
        self.bin = bin;
    }

    /// The trust directory (`-d`).
    pub fn trust_dir(&self) -> &Path {
        &self.trust_dir
    }

    /// A scratch directory for files the test writes (targets, keys), removed with the client.
    pub fn scratch(&self) -> PathBuf {
        self.root.path().to_path_buf()
    }

    /// The server URL this client uses.
    pub fn server_url(&self) -> &str {
        &self.server_url
    }

    /// Runs `notary -c <config> <args>` with the passphrase variables, a clean `$HOME`,
    /// and `stdin` (or `/dev/null`) as standard input; killed after [`COMMAND_TIMEOUT`].
    ///
    /// # Panics
    ///
    /// Harness: if the CLI cannot be started at all.
    #[allow(clippy::panic)] // test harness
    pub fn run(&self, args: &[&str], stdin: Option<&str>) -> CmdOutput {
        self.run_env(args, stdin, &[])
    }

    /// [`Self::run`] with extra environment variables, set after (so overriding) the
    /// passphrase variables.
    ///
    /// # Panics
    ///
    /// Harness: if the CLI cannot be started at all.
    #[allow(clippy::panic)] // test harness
    pub fn run_env(&self, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> CmdOutput {
        let config = self.config.display().to_string();
        let mut full: Vec<&str> = vec!["-c", &config];
        full.extend_from_slice(args);
        let command = format!("notary {}", shell_words(args));
        let mut cmd = Command::new(&self.bin);
        cmd.args(&full)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.root.path().join("home"))
            .env("LANG", "C.UTF-8")
            .envs(PASSPHRASE_ENV)
            .envs(env.iter().copied())
            .current_dir(self.root.path());
        match run_with_timeout(cmd, stdin, COMMAND_TIMEOUT) {
            Ok((status, stdout, stderr)) => CmdOutput {
                command,
                status,
                stdout,
                stderr,
            },
            Err(e) => panic!("cannot run {command}: {e}"),
        }
    }

    /// Runs `args` and asserts exit 0; returns stdout.
    ///
    /// # Panics
    ///
    /// Harness: on a non-zero exit, with the command and everything it printed.
    #[allow(clippy::panic)] // test harness
    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> String {
        self.ok_stdin(args, None)
    }

    /// [`Self::ok`] with standard input.
    ///
    /// # Panics
    ///
    /// Harness: on a non-zero exit.
    #[allow(clippy::panic)] // test harness
    #[track_caller]
    pub fn ok_stdin(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.run(args, stdin);
        if out.status != 0 {
            panic!("expected exit 0 from a notary command:\n{out}");
        }
        out.stdout
    }

    /// Runs `args` and asserts exit 1 (the CLI's `* fatal:` exit code); returns the output.
    ///
    /// # Panics
    ///
    /// Harness: on any other exit code.
    #[allow(clippy::panic)] // test harness
    #[track_caller]
    pub fn fails(&self, args: &[&str]) -> CmdOutput {
        let out = self.run(args, None);
        if out.status != 1 {
            panic!("expected exit 1 from a notary command:\n{out}");
        }
        out
    }

    /// `notary list <gun> [extra]` parsed into `(name, sha256 hex, size, role)` rows, in
    /// the CLI's order.
    ///
    /// # Panics
    ///
    /// Harness: on a non-zero exit or output that is not the list table.
    #[allow(clippy::panic)] // test harness
    #[track_caller]
    pub fn list_with(&self, gun: &str, extra: &[&str]) -> Vec<(String, String, u64, String)> {
        let mut args = vec!["list", gun];
        args.extend_from_slice(extra);
        let out = self.run(&args, None);
        if out.status != 0 {
            panic!("expected exit 0 from notary list:\n{out}");
        }
        match parse_list(&out.stdout) {
            Ok(rows) => rows,
            Err(e) => panic!("unparsable notary list output ({e}):\n{out}"),
        }
    }

    /// `notary list <gun>` parsed (see [`Self::list_with`]).
    ///
    /// # Panics
    ///
    /// Harness: see [`Self::list_with`].
    #[track_caller]
    pub fn list(&self, gun: &str) -> Vec<(String, String, u64, String)> {
        self.list_with(gun, &[])
    }
}

/// The client config file: `{"trust_dir": …, "remote_server": {"url": …}}`.
fn serde_json_string(trust_dir: &Path, server_url: &str) -> Result<String, String> {
    let dir = path_string(trust_dir)?;
    Ok(format!(
        "{{\"trust_dir\": {}, \"remote_server\": {{\"url\": {}}}}}\n",
        json_str(&dir),
        json_str(server_url)
    ))
}

/// A JSON string literal (the values here are paths and URLs).
fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Arguments quoted for display.
fn shell_words(args: &[&str]) -> String {
    args.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@".contains(c))
            {
                (*a).to_owned()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Splits a table line into cells separated by runs of two or more spaces.
pub fn split_columns(line: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut current = String::new();
    let mut spaces = 0usize;
    for c in line.trim_end().chars() {
        if c == ' ' {
            spaces += 1;
            continue;
        }
        if spaces >= 2 && !current.is_empty() {
            cells.push(std::mem::take(&mut current));
        } else if !current.is_empty() {
            current.extend(std::iter::repeat_n(' ', spaces));
        }
        spaces = 0;
        current.push(c);
    }
    if !current.is_empty() {
        cells.push(current);
    }
    cells
}

/// Parses `notary list` output: the `NAME DIGEST SIZE (BYTES) ROLE` table, or
/// `No targets present in this repository.` (no rows).
pub fn parse_list(stdout: &str) -> Result<Vec<(String, String, u64, String)>, String> {
    if stdout.trim() == "No targets present in this repository." {
        return Ok(Vec::new());
    }
    let mut lines = stdout.lines().filter(|l| !l.trim().is_empty());
    let header = lines.next().ok_or("empty output")?;
    if split_columns(header) != ["NAME", "DIGEST", "SIZE (BYTES)", "ROLE"] {
        return Err(format!("unexpected header {header:?}"));
    }
    let mut rows = Vec::new();
    for line in lines {
        let cells = split_columns(line);
        if cells.iter().all(|c| c.chars().all(|ch| ch == '-')) {
            continue; // the underline row
        }
        let [name, digest, size, role] = cells.as_slice() else {
            return Err(format!("row without 4 columns: {line:?}"));
        };
        let size = size
            .parse::<u64>()
            .map_err(|e| format!("size {size:?} in {line:?}: {e}"))?;
        rows.push((name.clone(), digest.clone(), size, role.clone()));
    }
    Ok(rows)
}

/// Parses a CLI table (`status`, `delegation list`, `key list`) into rows of cells,
/// skipping the header and underline rows. Lines before the header are ignored.
pub fn parse_table(stdout: &str, first_header: &str) -> Result<Vec<Vec<String>>, String> {
    let mut lines = stdout.lines();
    lines
        .by_ref()
        .find(|l| split_columns(l).first().map(String::as_str) == Some(first_header))
        .ok_or_else(|| format!("no table with header {first_header:?}"))?;
    Ok(lines
        .map(split_columns)
        .filter(|cells| !cells.is_empty())
        .filter(|cells| !cells.iter().all(|c| c.chars().all(|ch| ch == '-')))
        .collect())
}

/// Runs `cmd` with piped stdio, feeding `stdin`, killing it after `timeout`.
/// Returns (exit code or -1, stdout, stderr).
fn run_with_timeout(
    mut cmd: Command,
    stdin: Option<&str>,
    timeout: Duration,
) -> io::Result<(i32, String, String)> {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn()?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        let input = input.to_owned();
        // The CLI may exit without reading everything: ignore EPIPE.
        thread::spawn(move || {
            let _ = pipe.write_all(input.as_bytes());
        });
    }
    let out_reader = child.stdout.take().map(reader_thread);
    let err_reader = child.stderr.take().map(reader_thread);
    let deadline = Instant::now() + timeout;
    let mut timed_out = false;
    let status: ExitStatus = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            timed_out = true;
            let _ = child.kill();
            break child.wait()?;
        }
        thread::sleep(Duration::from_millis(10));
    };
    let join = |h: Option<thread::JoinHandle<String>>| {
        h.map(|h| h.join().unwrap_or_else(|_| "<reader panicked>".to_owned()))
            .unwrap_or_default()
    };
    let stdout = join(out_reader);
    let mut stderr = join(err_reader);
    if timed_out {
        stderr.push_str(&format!("\n[harness: killed after {timeout:?}]"));
    }
    Ok((status.code().unwrap_or(-1), stdout, stderr))
}

fn reader_thread<R: Read + Send + 'static>(mut r: R) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Runs a helper tool (`openssl`) to completion; error with its output on failure.
pub fn run_tool(program: &Path, args: &[&str]) -> Result<String, String> {
    let mut cmd = Command::new(program);
    cmd.args(args);
    let shown = format!("{} {}", program.display(), shell_words(args));
    let (status, stdout, stderr) = run_with_timeout(cmd, None, COMMAND_TIMEOUT)
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    if status != 0 {
        return Err(format!(
            "$ {shown}\n[exit {status}]\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
        ));
    }
    Ok(stdout)
}

/// A delegation key pair for `role`, made like the reference run: `notary key generate
/// ecdsa --role <role> -o <dir>/<stem>` writes `<stem>.pem` (a `PUBLIC KEY` PEM with a
/// `role:` header) and `<stem>-key.pem` (encrypted with the delegation passphrase, which
/// `notary key import` refuses). The private key is decrypted with openssl into
/// `<stem>-plain.pem` (PKCS#8), ready for `notary key import --role <role>`.
#[derive(Debug, Clone)]
pub struct DelegationKey {
    /// The `PUBLIC KEY` PEM for `delegation add`.
    pub public_pem: PathBuf,
    /// The unencrypted PKCS#8 private key for `key import`.
    pub private_plain: PathBuf,
}

impl NotaryClient {
    /// Generates a delegation key (see [`DelegationKey`]) under [`Self::scratch`].
    ///
    /// # Panics
    ///
    /// Harness: if `notary key generate` or openssl fails.
    #[allow(clippy::panic)] // test harness
    pub fn generate_delegation_key(&self, role: &str, stem: &str) -> DelegationKey {
        let prefix = self.scratch().join(stem);
        let prefix_s = prefix.display().to_string();
        let out = self.ok(&["key", "generate", "ecdsa", "--role", role, "-o", &prefix_s]);
        assert_eq!(out.trim(), "", "key generate -o prints nothing");
        let public_pem = PathBuf::from(format!("{prefix_s}.pem"));
        let encrypted = PathBuf::from(format!("{prefix_s}-key.pem"));
        let stripped = PathBuf::from(format!("{prefix_s}-key-noheader.pem"));
        let private_plain = PathBuf::from(format!("{prefix_s}-plain.pem"));
        let result = (|| -> Result<(), String> {
            // openssl rejects PEM headers other than Proc-Type/DEK-Info: drop `role:`.
            let text = fs::read_to_string(&encrypted)
                .map_err(|e| format!("read {}: {e}", encrypted.display()))?;
            let body: String = text
                .lines()
                .filter(|l| !l.is_empty() && !l.contains(": "))
                .map(|l| format!("{l}\n"))
                .collect();
            fs::write(&stripped, body).map_err(|e| format!("write: {e}"))?;
            let passin = format!("pass:{}", PASSPHRASE_ENV[3].1);
            run_tool(
                &openssl_bin(),
                &[
                    "pkcs8",
                    "-in",
                    &path_string(&stripped)?,
                    "-passin",
                    &passin,
                    "-out",
                    &path_string(&private_plain)?,
                ],
            )?;
            Ok(())
        })();
        if let Err(e) = result {
            panic!("cannot decrypt the generated delegation key: {e}");
        }
        DelegationKey {
            public_pem,
            private_plain,
        }
    }

    /// A self-signed ECDSA P-256 X.509 certificate (openssl) for delegation `role`, under
    /// [`Self::scratch`]; returns the certificate path.
    ///
    /// # Panics
    ///
    /// Harness: if openssl fails.
    #[allow(clippy::panic)] // test harness
    pub fn self_signed_cert(&self, role: &str, stem: &str) -> PathBuf {
        let cert = self.scratch().join(format!("{stem}.crt"));
        let key = self.scratch().join(format!("{stem}.key"));
        let subject = format!("/CN={}", role.replace('/', "\\/"));
        let result = (|| -> Result<(), String> {
            run_tool(
                &openssl_bin(),
                &[
                    "req",
                    "-x509",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-256",
                    "-nodes",
                    "-keyout",
                    &path_string(&key)?,
                    "-out",
                    &path_string(&cert)?,
                    "-days",
                    "365",
                    "-subj",
                    &subject,
                ],
            )?;
            Ok(())
        })();
        if let Err(e) = result {
            panic!("cannot make an X.509 delegation certificate: {e}");
        }
        cert
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_columns_keeps_single_spaces() {
        assert_eq!(
            split_columns("café x       4685    3               targets"),
            ["café x", "4685", "3", "targets"]
        );
        assert_eq!(
            split_columns("NAME      DIGEST    SIZE (BYTES)    ROLE"),
            ["NAME", "DIGEST", "SIZE (BYTES)", "ROLE"]
        );
        assert_eq!(split_columns("          tmp/      "), ["tmp/"]);
    }

    #[test]
    fn parse_list_table_and_empty() {
        let out = "NAME      DIGEST                                                              SIZE (BYTES)    ROLE\n\
                   ----      ------                                                              ------------    ----\n\
                   latest    a2e659dacb4691e887ac0139f8893d04764ee197d70fb73d3190d56113d18e3e    4096            targets\n";
        assert_eq!(
            parse_list(out).unwrap(),
            vec![(
                "latest".to_owned(),
                "a2e659dacb4691e887ac0139f8893d04764ee197d70fb73d3190d56113d18e3e".to_owned(),
                4096,
                "targets".to_owned()
            )]
        );
        assert_eq!(
            parse_list("\nNo targets present in this repository.\n").unwrap(),
            vec![]
        );
        assert!(parse_list("* fatal: nope").is_err());
    }

    #[test]
    fn host_port_of_urls() {
        assert_eq!(host_port("http://127.0.0.1:4480"), "127.0.0.1:4480");
        assert_eq!(host_port("https://h:1/x"), "h:1");
    }
}
