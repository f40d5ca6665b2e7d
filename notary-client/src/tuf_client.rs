//! `tuf-client`: a TUF 1.0 client for the command-line protocol that independent conformance
//! suites drive (`init`, `refresh`, `download`). All trust decisions are `tuf-core`'s
//! [`TrustedSet`]; this module does the argument parsing, the HTTP and the files.
//!
//! Local state is the metadata directory only: `root.json`, `timestamp.json`,
//! `snapshot.json`, `targets.json` and `<percent-encoded role>.json` for delegated roles, each
//! holding the exact bytes that were received and verified. Every write is atomic (temporary
//! file, fsync, rename); temporary names never end in `.json`.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs;
use std::io::{Read as _, Write as _};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::blocking::Client;
use reqwest::StatusCode;
use tuf_core::error::{TargetError, UpdateError};
use tuf_core::name::percent_encode_segment;
use tuf_core::role::{MetaFile, Root, TargetEntry, TopRole};
use tuf_core::search::TargetLookup;
use tuf_core::target::verify_target;
use tuf_core::trusted_set::{RepoConfig, TimestampUpdate, TrustedSet};

/// Default deadline for one download, from connecting to the last body byte: a server that
/// trickles bytes (slow retrieval, which the spec leaves to implementations) is cut off then.
pub const DEFAULT_FILE_TIMEOUT: Duration = Duration::from_secs(30);

/// Environment variable overriding [`DEFAULT_FILE_TIMEOUT`]: a positive whole number of
/// seconds (the same knob as the `notary` CLI's request timeout).
pub const TIMEOUT_ENV: &str = "NOTARY_RS_TIMEOUT_SECS";

/// Top-level role names: never accepted as delegated role names (their cache files would
/// collide).
const TOP_LEVEL: [&str; 4] = ["root", "timestamp", "snapshot", "targets"];

/// Why a command failed. Every message names the role (or target) and the reason.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The command line is not valid.
    #[error("usage: {0}")]
    Usage(String),
    /// A local file could not be read or written.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A download failed (network, status, size cap).
    #[error("{role}: downloading {url}: {reason}")]
    Fetch {
        /// The role (or `target <path>`) being fetched.
        role: String,
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// Metadata was rejected by the trusted set.
    #[error("{role} rejected: {source}")]
    Verify {
        /// The role (or file) rejected.
        role: String,
        /// tuf-core's typed reason.
        #[source]
        source: UpdateError,
    },
    /// A target is not listed by any role trusted for it.
    #[error("target {0}: not found in any trusted targets role")]
    TargetNotFound(String),
    /// Downloaded target bytes do not match the trusted metadata.
    #[error("{0}")]
    TargetMismatch(#[from] TargetError),
    /// The target cannot be stored or fetched safely.
    #[error("target {path}: {reason}")]
    Target {
        /// The target path.
        path: String,
        /// Why.
        reason: String,
    },
}

/// The subcommand to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `init TRUSTED_ROOT_FILE`.
    Init(PathBuf),
    /// `refresh`.
    Refresh,
    /// `download`.
    Download,
}

/// Parsed command line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// `--metadata-url`: base URL of the metadata.
    pub metadata_url: Option<String>,
    /// `--metadata-dir`: the local trusted metadata.
    pub metadata_dir: Option<PathBuf>,
    /// `--target-name` (repeatable, in order).
    pub target_names: Vec<String>,
    /// `--target-dir`: where targets are stored.
    pub target_dir: Option<PathBuf>,
    /// `--target-base-url`: base URL of the targets.
    pub target_base_url: Option<String>,
    /// Deadline for one download (`None`: [`DEFAULT_FILE_TIMEOUT`]); from [`TIMEOUT_ENV`].
    pub timeout: Option<Duration>,
}

const USAGE: &str = "tuf-client --metadata-dir DIR init TRUSTED_ROOT | \
tuf-client --metadata-url URL --metadata-dir DIR refresh | \
tuf-client --metadata-url URL --metadata-dir DIR --target-name PATH [--target-name PATH ...] \
--target-dir DIR --target-base-url URL download";

/// Parses the arguments (without the program name). Flags (`--flag VALUE` or `--flag=VALUE`)
/// may come in any order and on either side of the subcommand.
///
/// # Errors
/// [`ClientError::Usage`].
pub fn parse_args(args: &[OsString]) -> Result<(Options, Command), ClientError> {
    let usage = |m: String| ClientError::Usage(format!("{m}\n{USAGE}"));
    let mut opts = Options::default();
    let mut positional: Vec<OsString> = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let Some(s) = arg.to_str().filter(|s| s.starts_with("--")) else {
            positional.push(arg.clone());
            continue;
        };
        let (flag, inline) = match s.split_once('=') {
            Some((f, v)) => (f, Some(OsString::from(v))),
            None => (s, None),
        };
        let value = match inline {
            Some(v) => v,
            None => it
                .next()
                .cloned()
                .ok_or_else(|| usage(format!("{flag} needs a value")))?,
        };
        let text = || {
            value
                .to_str()
                .map(str::to_owned)
                .ok_or_else(|| usage(format!("{flag}: not valid UTF-8")))
        };
        match flag {
            "--metadata-url" => opts.metadata_url = Some(text()?),
            "--metadata-dir" => opts.metadata_dir = Some(PathBuf::from(&value)),
            "--target-name" => opts.target_names.push(text()?),
            "--target-dir" => opts.target_dir = Some(PathBuf::from(&value)),
            "--target-base-url" => opts.target_base_url = Some(text()?),
            other => return Err(usage(format!("unknown option {other}"))),
        }
    }
    let mut pos = positional.into_iter();
    let cmd = match pos.next().as_ref().and_then(|c| c.to_str()) {
        Some("init") => {
            let root = pos
                .next()
                .ok_or_else(|| usage("init needs the trusted root file".into()))?;
            Command::Init(PathBuf::from(root))
        }
        Some("refresh") => Command::Refresh,
        Some("download") => Command::Download,
        Some(other) => return Err(usage(format!("unknown command {other}"))),
        None => return Err(usage("no command".into())),
    };
    if let Some(extra) = pos.next() {
        return Err(usage(format!(
            "unexpected argument {}",
            extra.to_string_lossy()
        )));
    }
    if opts.metadata_dir.is_none() {
        return Err(usage("--metadata-dir is required".into()));
    }
    if !matches!(cmd, Command::Init(_)) && opts.metadata_url.is_none() {
        return Err(usage("--metadata-url is required".into()));
    }
    if cmd == Command::Download
        && (opts.target_dir.is_none()
            || opts.target_base_url.is_none()
            || opts.target_names.is_empty())
    {
        return Err(usage(
            "download needs --target-name, --target-dir and --target-base-url".into(),
        ));
    }
    Ok((opts, cmd))
}

/// Parses `args` and runs the command, with the system clock as reference time.
///
/// # Errors
/// The first failure.
pub fn run(args: &[OsString]) -> Result<(), ClientError> {
    let (mut opts, cmd) = parse_args(args)?;
    opts.timeout = timeout_from_env(std::env::var_os(TIMEOUT_ENV))?;
    let dir = opts
        .metadata_dir
        .clone()
        .ok_or_else(|| ClientError::Usage("--metadata-dir is required".into()))?;
    let now = Utc::now();
    match cmd {
        Command::Init(root) => init(&dir, &root, now),
        Command::Refresh => {
            let client = Updater::new(&opts, &dir, now)?;
            client.refresh().map(|_| ())
        }
        Command::Download => {
            let updater = Updater::new(&opts, &dir, now)?;
            let mut set = updater.refresh()?;
            let target_dir = opts
                .target_dir
                .as_deref()
                .ok_or_else(|| ClientError::Usage("--target-dir is required".into()))?;
            let base = opts
                .target_base_url
                .as_deref()
                .ok_or_else(|| ClientError::Usage("--target-base-url is required".into()))?;
            for name in &opts.target_names {
                updater.download_target(&mut set, name, target_dir, base)?;
            }
            Ok(())
        }
    }
}

/// The per-download deadline from the value of [`TIMEOUT_ENV`] (`None` if unset).
///
/// # Errors
/// [`ClientError::Usage`] unless the value is a positive whole number of seconds.
pub fn timeout_from_env(value: Option<OsString>) -> Result<Option<Duration>, ClientError> {
    let Some(value) = value else {
        return Ok(None);
    };
    match value.to_str().map(|v| v.trim().parse::<u64>()) {
        Some(Ok(secs)) if secs > 0 => Ok(Some(Duration::from_secs(secs))),
        _ => Err(ClientError::Usage(format!(
            "{TIMEOUT_ENV} must be a positive whole number of seconds, not {value:?}"
        ))),
    }
}

/// `init`: verifies `root_file` as a self-signed TUF root and stores its exact bytes as
/// `DIR/root.json`. No network.
///
/// # Errors
/// An unreadable, invalid or insufficiently signed root; I/O errors.
pub fn init(dir: &Path, root_file: &Path, now: DateTime<Utc>) -> Result<(), ClientError> {
    let bytes = fs::read(root_file).map_err(|source| ClientError::Io {
        what: format!("reading {}", root_file.display()),
        source,
    })?;
    TrustedSet::new(RepoConfig::tuf(), &bytes, now).map_err(|source| ClientError::Verify {
        role: "root".into(),
        source,
    })?;
    fs::create_dir_all(dir).map_err(|source| ClientError::Io {
        what: format!("creating {}", dir.display()),
        source,
    })?;
    write_atomic(dir, "root.json", &bytes)
}

/// One client run against a repository: the metadata base URL, the local metadata directory,
/// the HTTP client and the reference time.
#[derive(Debug)]
pub struct Updater {
    metadata_url: String,
    dir: PathBuf,
    http: Client,
    timeout: Duration,
    now: DateTime<Utc>,
}

/// A fetch outcome that the root walk must tell apart from failures.
enum Fetched {
    Body(Vec<u8>),
    Missing,
}

impl Updater {
    /// Prepares a client; makes no request.
    ///
    /// # Errors
    /// Missing options, an invalid URL, or an HTTP client that cannot be built.
    pub fn new(opts: &Options, dir: &Path, now: DateTime<Utc>) -> Result<Self, ClientError> {
        let url = opts
            .metadata_url
            .clone()
            .ok_or_else(|| ClientError::Usage("--metadata-url is required".into()))?;
        check_base_url(&url)?;
        let timeout = opts.timeout.unwrap_or(DEFAULT_FILE_TIMEOUT);
        let http = Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .map_err(|e| ClientError::Usage(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            metadata_url: url,
            dir: dir.to_path_buf(),
            http,
            timeout,
            now,
        })
    }

    /// The top-level update (TUF spec §5.2–5.6): trusted root from the metadata directory,
    /// root walk, timestamp, snapshot, targets. Verified files are stored as they are
    /// accepted; cached snapshot/targets are reused when still current.
    ///
    /// # Errors
    /// The first failed download or rejected file.
    pub fn refresh(&self) -> Result<TrustedSet, ClientError> {
        // 5.2: the trusted root must load before any request.
        let root = self
            .read_local("root.json")
            .ok_or_else(|| ClientError::Io {
                what: format!("reading {}", self.dir.join("root.json").display()),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no trusted root (run init)",
                ),
            })?;
        let mut set = TrustedSet::new(RepoConfig::tuf(), &root, self.now).map_err(|source| {
            ClientError::Verify {
                role: "root".into(),
                source,
            }
        })?;
        let limits = set.config().limits.clone();

        // 5.3: N+1.root.json until 404/403, at most max_root_rotations fetches.
        for _ in 0..limits.max_root_rotations {
            let next = set.root().header.version.saturating_add(1);
            let file = format!("{next}.root.json");
            let bytes = match self.fetch_meta("root", &file, limits.root_bytes, true)? {
                Fetched::Body(b) => b,
                Fetched::Missing => break,
            };
            let old_keys = fast_forward_keys(set.root());
            set.update_root(&bytes)
                .map_err(|source| ClientError::Verify {
                    role: "root".into(),
                    source,
                })?;
            // 5.3.11: a new timestamp or snapshot key deletes the trusted timestamp and
            // snapshot (fast-forward recovery), even if they still verify (a snapshot key
            // rotation leaves the timestamp valid, and its snapshot version would otherwise
            // block the repository's reset). Done before the new root is stored, so an
            // interrupted run cannot keep the new root with the stale files.
            if fast_forward_keys(set.root()) != old_keys {
                self.remove_local("timestamp.json")?;
                self.remove_local("snapshot.json")?;
            }
            // 5.3.8: persist each accepted root.
            write_atomic(&self.dir, "root.json", &bytes)?;
        }
        set.ensure_root_fresh()
            .map_err(|source| ClientError::Verify {
                role: "root".into(),
                source,
            })?;

        // 5.4: cached timestamp as rollback reference (discarded if it does not verify).
        if let Some(cached) = self.read_local("timestamp.json") {
            let _ = set.load_cached_timestamp(&cached);
        }
        let bytes = self.fetch_required("timestamp", "timestamp.json", limits.timestamp_bytes)?;
        let ts = set
            .update_timestamp(&bytes)
            .map_err(|source| ClientError::Verify {
                role: "timestamp".into(),
                source,
            })?;
        if ts == TimestampUpdate::Updated {
            write_atomic(&self.dir, "timestamp.json", &bytes)?;
        }

        // 5.5: reuse the cached snapshot if the timestamp names it and it has not expired.
        if let Some(cached) = self.read_local("snapshot.json") {
            let _ = set.load_cached_snapshot(&cached);
        }
        // An expired cached copy stays the rollback reference but is replaced by a download
        // (the repository may have re-signed the same version).
        let cached_expired = set
            .snapshot()
            .is_some_and(|snap| snap.header.expires <= set.now());
        if !set.snapshot_is_current() || cached_expired {
            let meta = set
                .timestamp()
                .map(|t| t.snapshot.clone())
                .ok_or_else(|| verify_err("snapshot", "no trusted timestamp"))?;
            let file = self.role_file(&set, "snapshot", meta.version);
            let cap = cap(&meta, limits.snapshot_bytes, limits.max_file_bytes);
            let bytes = self.fetch_required("snapshot", &file, cap)?;
            set.update_snapshot(&bytes)
                .map_err(|source| ClientError::Verify {
                    role: "snapshot".into(),
                    source,
                })?;
            write_atomic(&self.dir, "snapshot.json", &bytes)?;
        }

        // 5.6: reuse the cached targets if the snapshot's entry matches it.
        let cached_ok = self
            .read_local("targets.json")
            .is_some_and(|cached| set.update_targets(&cached).is_ok());
        if !cached_ok {
            let meta = snapshot_meta(&set, "targets")?;
            let file = self.role_file(&set, "targets", meta.version);
            let cap = cap(&meta, limits.targets_bytes, limits.max_file_bytes);
            let bytes = self.fetch_required("targets", &file, cap)?;
            set.update_targets(&bytes)
                .map_err(|source| ClientError::Verify {
                    role: "targets".into(),
                    source,
                })?;
            write_atomic(&self.dir, "targets.json", &bytes)?;
        }
        Ok(set)
    }

    /// Finds `path` through the delegation graph (loading delegated roles lazily, cached or
    /// downloaded), then stores the verified target as `target_dir/path`, unless a file with
    /// the trusted length and hashes is already there.
    ///
    /// # Errors
    /// Not found, a rejected delegated role, an unsafe path, a failed download or a mismatch.
    pub fn download_target(
        &self,
        set: &mut TrustedSet,
        path: &str,
        target_dir: &Path,
        target_base_url: &str,
    ) -> Result<(), ClientError> {
        let entry = self.find(set, path)?;
        let dest_rel = safe_relative_path(path)?;
        check_no_symlinks(target_dir, &dest_rel, path)?;
        let dest = target_dir.join(&dest_rel);
        if let Ok(existing) = fs::read(&dest) {
            if verify_target(path, &entry, &existing).is_ok() {
                return Ok(());
            }
        }
        check_base_url(target_base_url)?;
        let remote = target_url_path(set.root().consistent_snapshot, path, &entry)?;
        let url = join_url(target_base_url, &remote);
        let role = format!("target {path}");
        let data = match self.get_capped(&role, &url, entry.length, false)? {
            Fetched::Body(b) => b,
            Fetched::Missing => {
                return Err(ClientError::Fetch {
                    role,
                    url,
                    reason: "not found".into(),
                })
            }
        };
        verify_target(path, &entry, &data)?;
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(|source| ClientError::Io {
                what: format!("creating {}", parent.display()),
                source,
            })?;
        }
        // The temporary file lives in the target directory itself, so the rename is on one
        // file system and nothing is left in a subdirectory on failure.
        write_atomic_to(target_dir, &dest, &data)
    }

    /// Target search (5.6.7): pre-order DFS, fetching delegated roles as the search needs them.
    fn find(&self, set: &mut TrustedSet, path: &str) -> Result<TargetEntry, ClientError> {
        let limits = set.config().limits.clone();
        let rounds = limits.max_delegations.saturating_add(1);
        for _ in 0..rounds {
            let (delegator, role) =
                match set
                    .find_target(path)
                    .map_err(|source| ClientError::Verify {
                        role: format!("search for {path}"),
                        source,
                    })? {
                    TargetLookup::Found { entry, .. } => return Ok(entry.clone()),
                    TargetLookup::NotFound => return Err(ClientError::TargetNotFound(path.into())),
                    TargetLookup::NeedRole { delegator, role } => (delegator, role),
                };
            if TOP_LEVEL.contains(&role.as_str()) {
                return Err(verify_err(
                    &role,
                    "a delegated role may not use a top-level role name",
                ));
            }
            let local = format!("{}.json", percent_encode_segment(&role));
            let cached_ok = self
                .read_local(&local)
                .is_some_and(|c| set.update_delegated(&delegator, &role, &c).is_ok());
            if cached_ok {
                continue;
            }
            let meta = snapshot_meta(set, &role)?;
            let file = self.role_file(set, &role, meta.version);
            let cap = cap(&meta, limits.targets_bytes, limits.max_file_bytes);
            let bytes = self.fetch_required(&role, &file, cap)?;
            set.update_delegated(&delegator, &role, &bytes)
                .map_err(|source| ClientError::Verify {
                    role: role.clone(),
                    source,
                })?;
            write_atomic(&self.dir, &local, &bytes)?;
        }
        Err(ClientError::Target {
            path: path.into(),
            reason: format!("search did not finish within {rounds} role loads"),
        })
    }

    /// Remote file name of `role`: `<V>.<enc>.json` under consistent snapshots, else
    /// `<enc>.json`.
    fn role_file(&self, set: &TrustedSet, role: &str, version: Option<u64>) -> String {
        let enc = percent_encode_segment(role);
        match version {
            Some(v) if set.root().consistent_snapshot => format!("{v}.{enc}.json"),
            _ => format!("{enc}.json"),
        }
    }

    fn read_local(&self, file: &str) -> Option<Vec<u8>> {
        fs::read(self.dir.join(file)).ok()
    }

    fn remove_local(&self, file: &str) -> Result<(), ClientError> {
        let path = self.dir.join(file);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(ClientError::Io {
                what: format!("removing {}", path.display()),
                source: e,
            }),
            _ => Ok(()),
        }
    }

    fn fetch_required(&self, role: &str, file: &str, cap: u64) -> Result<Vec<u8>, ClientError> {
        match self.fetch_meta(role, file, cap, false)? {
            Fetched::Body(b) => Ok(b),
            Fetched::Missing => Err(ClientError::Fetch {
                role: role.to_owned(),
                url: join_url(&self.metadata_url, file),
                reason: "not found on the server".into(),
            }),
        }
    }

    fn fetch_meta(
        &self,
        role: &str,
        file: &str,
        cap: u64,
        missing_ok: bool,
    ) -> Result<Fetched, ClientError> {
        let url = join_url(&self.metadata_url, file);
        self.get_capped(role, &url, cap, missing_ok)
    }

    /// GET `url`, reading at most `cap` bytes (one more byte is an error) within the download
    /// deadline. With `missing_ok`, 404 and 403 are [`Fetched::Missing`]; otherwise every
    /// non-200 status is an error.
    fn get_capped(
        &self,
        role: &str,
        url: &str,
        cap: u64,
        missing_ok: bool,
    ) -> Result<Fetched, ClientError> {
        let fail = |reason: String| ClientError::Fetch {
            role: role.to_owned(),
            url: url.to_owned(),
            reason,
        };
        let started = Instant::now();
        let timed_out = || {
            fail(format!(
                "timed out: not complete within {} s ({TIMEOUT_ENV})",
                self.timeout.as_secs()
            ))
        };
        // A request timeout in reqwest is a total deadline, body included (the client-wide
        // one only bounds each read).
        let mut resp = self
            .http
            .get(url)
            .timeout(self.timeout)
            .send()
            .map_err(|e| {
                if e.is_timeout() {
                    timed_out()
                } else {
                    fail(e.to_string())
                }
            })?;
        let status = resp.status();
        // 404 is "no such file"; 403 too when probing (S3-style servers answer 403).
        if status == StatusCode::NOT_FOUND || (missing_ok && status == StatusCode::FORBIDDEN) {
            return Ok(Fetched::Missing);
        }
        if !status.is_success() {
            return Err(fail(format!("HTTP status {}", status.as_u16())));
        }
        if let Some(len) = resp.content_length() {
            if len > cap {
                return Err(fail(format!(
                    "Content-Length {len} exceeds the limit of {cap} bytes"
                )));
            }
        }
        let mut body = Vec::new();
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            if started.elapsed() >= self.timeout {
                return Err(timed_out());
            }
            let n = match resp.read(&mut buf) {
                Ok(0) => return Ok(Fetched::Body(body)),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    if e.kind() == std::io::ErrorKind::TimedOut || started.elapsed() >= self.timeout
                    {
                        return Err(timed_out());
                    }
                    return Err(fail(e.to_string()));
                }
            };
            let total = u64::try_from(body.len().saturating_add(n)).unwrap_or(u64::MAX);
            if total > cap {
                return Err(fail(format!("response exceeds the limit of {cap} bytes")));
            }
            body.extend_from_slice(buf.get(..n).unwrap_or_default());
        }
    }
}

/// The public keys (by identity) of the timestamp and snapshot roles of `root`: when they
/// change, the trusted timestamp and snapshot must go (spec 5.3.11).
fn fast_forward_keys(root: &Root) -> [BTreeSet<[u8; 32]>; 2] {
    [TopRole::Timestamp, TopRole::Snapshot].map(|role| {
        root.role(role)
            .keyids
            .iter()
            .filter_map(|id| root.keys.get(id))
            .map(|k| k.public_key().identity())
            .collect()
    })
}

fn verify_err(role: &str, reason: &'static str) -> ClientError {
    ClientError::Verify {
        role: role.to_owned(),
        source: UpdateError::OutOfOrder {
            role: role.to_owned(),
            reason,
        },
    }
}

fn snapshot_meta(set: &TrustedSet, role: &str) -> Result<MetaFile, ClientError> {
    let snapshot = set
        .snapshot()
        .ok_or_else(|| verify_err(role, "no trusted snapshot"))?;
    snapshot
        .meta
        .get(role)
        .cloned()
        .ok_or_else(|| ClientError::Verify {
            role: role.to_owned(),
            source: UpdateError::NotInSnapshot {
                role: role.to_owned(),
            },
        })
}

/// The download cap: the recorded length (bounded by `max`), else the default.
fn cap(meta: &MetaFile, default: u64, max: u64) -> u64 {
    meta.length.unwrap_or(default).min(max)
}

fn check_base_url(url: &str) -> Result<(), ClientError> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| ClientError::Usage(format!("invalid URL {url}: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(ClientError::Usage(format!(
            "{url}: only http(s) URLs are supported"
        )));
    }
    Ok(())
}

/// `base` joined with `rest` by exactly one `/`, whether or not `base` ends with one.
/// `rest` must already be percent-encoded.
pub fn join_url(base: &str, rest: &str) -> String {
    format!("{}/{}", base.trim_end_matches('/'), rest)
}

/// The URL path (percent-encoded, relative to the target base URL) of `path`: with consistent
/// snapshots the basename is prefixed by its hash (`dir/<sha256>.<basename>`, python-tuf's
/// layout), else the path itself.
///
/// # Errors
/// Consistent snapshots but no hash in the entry.
pub fn target_url_path(
    consistent: bool,
    path: &str,
    entry: &TargetEntry,
) -> Result<String, ClientError> {
    let (dir, base) = match path.rsplit_once('/') {
        Some((d, b)) => (Some(d), b),
        None => (None, path),
    };
    let base = if consistent {
        let hash = entry
            .sha256_hex()
            .or_else(|| entry.hashes.values().next().map(hex::encode))
            .ok_or_else(|| ClientError::Target {
                path: path.into(),
                reason: "no hash to name the file with".into(),
            })?;
        format!("{hash}.{base}")
    } else {
        base.to_owned()
    };
    let mut out: Vec<String> = dir
        .map(|d| d.split('/').map(percent_encode_segment).collect())
        .unwrap_or_default();
    out.push(percent_encode_segment(&base));
    Ok(out.join("/"))
}

/// The local relative path for a target path, refusing anything that could leave the target
/// directory: absolute paths, empty, `.` or `..` components, backslashes, NUL, drive prefixes.
///
/// # Errors
/// [`ClientError::Target`] for an unsafe path.
pub fn safe_relative_path(path: &str) -> Result<PathBuf, ClientError> {
    let bad = |reason: &str| ClientError::Target {
        path: path.into(),
        reason: format!("unsafe target path: {reason}"),
    };
    if path.is_empty() {
        return Err(bad("empty"));
    }
    if path.contains('\\') || path.contains('\0') {
        return Err(bad("contains a backslash or NUL"));
    }
    let mut out = PathBuf::new();
    for part in path.split('/') {
        if part.is_empty() || part == "." || part == ".." {
            return Err(bad("empty, '.' or '..' component"));
        }
        out.push(part);
    }
    if !out.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(bad("not a plain relative path"));
    }
    Ok(out)
}

/// Refuses a destination whose existing parent directories inside `root` are symbolic links
/// (they could point outside the target directory).
fn check_no_symlinks(root: &Path, rel: &Path, path: &str) -> Result<(), ClientError> {
    let mut cur = root.to_path_buf();
    let parts: Vec<_> = rel.components().collect();
    for c in parts.iter().take(parts.len().saturating_sub(1)) {
        cur.push(c);
        match fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(ClientError::Target {
                    path: path.into(),
                    reason: format!("{} is a symbolic link", cur.display()),
                })
            }
            Ok(m) if !m.is_dir() => {
                return Err(ClientError::Target {
                    path: path.into(),
                    reason: format!("{} is not a directory", cur.display()),
                })
            }
            _ => {}
        }
    }
    Ok(())
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `dir/name` atomically.
fn write_atomic(dir: &Path, name: &str, data: &[u8]) -> Result<(), ClientError> {
    write_atomic_to(dir, &dir.join(name), data)
}

/// Writes `dest` atomically via a temporary file in `tmp_dir` (same file system): write,
/// fsync, rename, fsync the directory. The temporary file is removed on failure; its name
/// starts with `.tuf-client-` and does not end in `.json`.
fn write_atomic_to(tmp_dir: &Path, dest: &Path, data: &[u8]) -> Result<(), ClientError> {
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = tmp_dir.join(format!(".tuf-client-{}-{n}.tmp", std::process::id()));
    let io = |what: String| move |source| ClientError::Io { what, source };
    let result = (|| -> Result<(), ClientError> {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(io(format!("creating {}", tmp.display())))?;
        f.write_all(data)
            .map_err(io(format!("writing {}", tmp.display())))?;
        f.sync_all()
            .map_err(io(format!("syncing {}", tmp.display())))?;
        drop(f);
        fs::rename(&tmp, dest).map_err(io(format!("renaming to {}", dest.display())))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
        return result;
    }
    if let Some(parent) = dest.parent() {
        if let Ok(d) = fs::File::open(parent) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn args(a: &[&str]) -> Vec<OsString> {
        a.iter().map(OsString::from).collect()
    }

    #[test]
    fn flags_in_any_order() {
        let (o, c) = parse_args(&args(&[
            "--target-name",
            "a",
            "--metadata-dir",
            "d",
            "--target-dir=t",
            "--metadata-url",
            "http://x/",
            "--target-base-url",
            "http://y",
            "--target-name",
            "b",
            "download",
        ]))
        .unwrap();
        assert_eq!(c, Command::Download);
        assert_eq!(o.target_names, vec!["a", "b"]);
        assert_eq!(o.target_dir, Some(PathBuf::from("t")));
        let (_, c) = parse_args(&args(&["--metadata-dir", "d", "init", "r.json"])).unwrap();
        assert_eq!(c, Command::Init(PathBuf::from("r.json")));
        assert!(parse_args(&args(&["--metadata-dir", "d", "refresh"])).is_err());
        assert!(parse_args(&args(&["--metadata-dir", "d", "frob"])).is_err());
    }

    #[test]
    fn timeout_from_the_environment() {
        assert_eq!(timeout_from_env(None).unwrap(), None);
        assert_eq!(
            timeout_from_env(Some("7".into())).unwrap(),
            Some(Duration::from_secs(7))
        );
        for bad in ["0", "-1", "1.5", "soon", ""] {
            assert!(timeout_from_env(Some(bad.into())).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn urls_join_with_one_slash() {
        assert_eq!(
            join_url("http://h/m/", "1.root.json"),
            "http://h/m/1.root.json"
        );
        assert_eq!(
            join_url("http://h/m", "1.root.json"),
            "http://h/m/1.root.json"
        );
    }

    #[test]
    fn unsafe_paths_are_refused() {
        for p in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            "./a",
            "a/.",
            "a\\b",
        ] {
            assert!(safe_relative_path(p).is_err(), "{p:?}");
        }
        assert_eq!(
            safe_relative_path("a/b c/d.txt").unwrap(),
            PathBuf::from("a").join("b c").join("d.txt")
        );
    }

    #[test]
    fn consistent_target_urls_prefix_the_basename() {
        let e = TargetEntry::for_data(b"x");
        let sha = e.sha256_hex().unwrap();
        assert_eq!(
            target_url_path(true, "d/e f.txt", &e).unwrap(),
            format!("d/{sha}.e%20f.txt")
        );
        assert_eq!(target_url_path(false, "d/e.txt", &e).unwrap(), "d/e.txt");
    }
}
