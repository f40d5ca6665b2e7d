//! A minimal TUF 1.0 client driver over a repository directory (`metadata/`, `targets/`),
//! laid out as python-tuf publishes it. It does the I/O and feeds the bytes to
//! [`TrustedSet`] in the order of TUF spec §5, exactly as a networked client would (a
//! missing `N.root.json` is the 404 that ends the root walk).

use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use tuf_core::error::UpdateError;
use tuf_core::name::percent_encode_segment;
use tuf_core::role::TargetEntry;
use tuf_core::search::TargetLookup;
use tuf_core::trusted_set::{RepoConfig, TrustedSet};

/// Why a refresh or lookup failed.
#[derive(Debug)]
pub enum DriveError {
    /// A file the protocol requires could not be read.
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The trusted set rejected a file.
    Update {
        /// The file (relative to `metadata/`).
        file: String,
        /// The typed rejection.
        source: UpdateError,
    },
    /// The driver could not follow the protocol (e.g. a delegation loop).
    Protocol(String),
}

impl fmt::Display for DriveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Self::Update { file, source } => write!(f, "{file}: {source}"),
            Self::Protocol(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for DriveError {}

impl DriveError {
    /// The typed trusted-set error, if that is what failed.
    pub fn update_error(&self) -> Option<&UpdateError> {
        match self {
            Self::Update { source, .. } => Some(source),
            _ => None,
        }
    }
}

fn read(dir: &Path, file: &str) -> Result<Vec<u8>, DriveError> {
    let path = dir.join("metadata").join(file);
    std::fs::read(&path).map_err(|source| DriveError::Io { path, source })
}

fn update<T>(file: &str, r: Result<T, UpdateError>) -> Result<T, DriveError> {
    r.map_err(|source| DriveError::Update {
        file: file.to_owned(),
        source,
    })
}

/// The metadata file name of `role` at `version` under the trusted root's naming rule.
fn role_file(set: &TrustedSet, role: &str, version: Option<u64>) -> String {
    let enc = percent_encode_segment(role);
    match version {
        Some(v) if set.root().consistent_snapshot => format!("{v}.{enc}.json"),
        _ => format!("{enc}.json"),
    }
}

/// One update cycle (spec §5.2–5.6) from `metadata/1.root.json` as the trust anchor:
/// walks `2.root.json`, `3.root.json`, … until one is absent, then applies
/// `timestamp.json`, the snapshot and the top-level targets the trusted metadata name.
///
/// # Errors
/// [`DriveError::Update`] with the trusted set's typed error for the first rejected file.
pub fn refresh(dir: &Path, now: DateTime<Utc>) -> Result<TrustedSet, DriveError> {
    let root = read(dir, "1.root.json")?;
    let mut set = update(
        "1.root.json",
        TrustedSet::new(RepoConfig::tuf(), &root, now),
    )?;
    loop {
        let next = set.root().header.version.saturating_add(1);
        let file = format!("{next}.root.json");
        let path = dir.join("metadata").join(&file);
        if !path.is_file() {
            break;
        }
        let bytes = read(dir, &file)?;
        update(&file, set.update_root(&bytes).map(|_| ()))?;
    }
    let ts = read(dir, "timestamp.json")?;
    update("timestamp.json", set.update_timestamp(&ts))?;
    if !set.snapshot_is_current() {
        let version = set.timestamp().and_then(|t| t.snapshot.version);
        let file = role_file(&set, "snapshot", version);
        let bytes = read(dir, &file)?;
        update(&file, set.update_snapshot(&bytes))?;
    }
    let version = snapshot_version(&set, "targets")?;
    let file = role_file(&set, "targets", version);
    let bytes = read(dir, &file)?;
    update(&file, set.update_targets(&bytes))?;
    Ok(set)
}

fn snapshot_version(set: &TrustedSet, role: &str) -> Result<Option<u64>, DriveError> {
    let snapshot = set
        .snapshot()
        .ok_or_else(|| DriveError::Protocol("no trusted snapshot".into()))?;
    let meta = snapshot
        .meta
        .get(role)
        .ok_or_else(|| DriveError::Protocol(format!("{role} is not listed in the snapshot")))?;
    Ok(meta.version)
}

/// Searches `path` (spec §5.6.7), loading delegated roles from `metadata/` as the search
/// asks for them. `Ok(None)` is "no trusted role lists this path".
///
/// # Errors
/// A delegated role that cannot be read or is rejected.
pub fn lookup(
    set: &mut TrustedSet,
    dir: &Path,
    path: &str,
) -> Result<Option<(TargetEntry, String)>, DriveError> {
    // Each round loads one role; a search needs at most max_delegations of them.
    let rounds = set.config().limits.max_delegations.saturating_add(1);
    for _ in 0..rounds {
        let (delegator, role) = match update(path, set.find_target(path))? {
            TargetLookup::Found { entry, role } => return Ok(Some((entry.clone(), role))),
            TargetLookup::NotFound => return Ok(None),
            TargetLookup::NeedRole { delegator, role } => (delegator, role),
        };
        let version = snapshot_version(set, &role)?;
        let file = role_file(set, &role, version);
        let bytes = read(dir, &file)?;
        update(&file, set.update_delegated(&delegator, &role, &bytes))?;
    }
    Err(DriveError::Protocol(format!(
        "{path}: search did not finish within {rounds} role loads"
    )))
}

/// Where a consistent-snapshot repository stores the target `path` described by `entry`:
/// `targets/<dir>/<sha256 hex>.<basename>`.
///
/// # Errors
/// The entry has no sha256 hash.
pub fn consistent_target_file(
    dir: &Path,
    path: &str,
    entry: &TargetEntry,
) -> Result<PathBuf, DriveError> {
    let sha = entry
        .sha256_hex()
        .ok_or_else(|| DriveError::Protocol(format!("{path}: no sha256 hash")))?;
    let (parent, base) = path.rsplit_once('/').unwrap_or(("", path));
    let mut out = dir.join("targets");
    if !parent.is_empty() {
        out = out.join(parent);
    }
    Ok(out.join(format!("{sha}.{base}")))
}
