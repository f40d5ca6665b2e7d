//! Loading a whole TUF 1.0 repository from its metadata files, as a fresh client would: for
//! publishers and servers, which must never emit or serve what a client would reject.
//!
//! The files come from a caller-supplied reader (a directory, a server's store, a candidate
//! publish layered over it); this module does no I/O itself.

use chrono::{DateTime, Utc};

use crate::error::UpdateError;
use crate::name::percent_encode_segment;
use crate::trusted_set::{RepoConfig, TrustedSet};

/// Why a repository did not load.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError<E> {
    /// The reader failed.
    #[error(transparent)]
    Read(E),
    /// A file the repository needs is missing.
    #[error("{file}: file missing")]
    Missing {
        /// The metadata file name.
        file: String,
    },
    /// A file was rejected.
    #[error("{file}: {source}")]
    Rejected {
        /// The metadata file name.
        file: String,
        /// Why.
        source: Box<UpdateError>,
    },
}

/// Reads a metadata file by name: `Ok(None)` when it does not exist.
pub type ReadFile<'a, E> = dyn Fn(&str) -> Result<Option<Vec<u8>>, E> + 'a;

/// The metadata file name of `role` at `version` under consistent snapshots
/// (`V.<encoded role>.json`), or unversioned (`<encoded role>.json`).
pub fn role_file_name(role: &str, version: Option<u64>, consistent: bool) -> String {
    let enc = percent_encode_segment(role);
    match (consistent, version) {
        (true, Some(v)) => format!("{v}.{enc}.json"),
        _ => format!("{enc}.json"),
    }
}

/// What a client following the repository already trusts: the previously published root
/// (the trust anchor instead of `1.root.json`), and timestamp and snapshot, used as the
/// rollback reference as a client's cached copies are. Copies that no longer verify under
/// the new root (rotated keys) are ignored, as a client does (5.3.11).
#[derive(Clone, Copy, Debug, Default)]
pub struct Previous<'a> {
    /// The previously trusted root (already verified by the caller's earlier load).
    pub root: Option<&'a [u8]>,
    /// The previous `timestamp.json`.
    pub timestamp: Option<&'a [u8]>,
    /// The previous snapshot.
    pub snapshot: Option<&'a [u8]>,
}

fn rejected<E>(file: &str) -> impl FnOnce(UpdateError) -> LoadError<E> + '_ {
    move |source| LoadError::Rejected {
        file: file.to_owned(),
        source: Box::new(source),
    }
}

/// Loads and verifies a TUF 1.0 repository at `now`: `1.root.json` (or the previous root)
/// is the trust anchor, `N.root.json` are applied in order (`root.json` must be the newest), then
/// `timestamp.json`, the snapshot and targets it names, and every delegated role listed in
/// the snapshot and reachable from targets.
///
/// # Errors
/// [`LoadError`] naming the first missing or rejected file, or the reader's error.
pub fn load_tuf_repository<E>(
    read: &ReadFile<'_, E>,
    previous: Previous<'_>,
    now: DateTime<Utc>,
) -> Result<TrustedSet, LoadError<E>> {
    let required = |name: &str| -> Result<Vec<u8>, LoadError<E>> {
        read(name)
            .map_err(LoadError::Read)?
            .ok_or(LoadError::Missing {
                file: name.to_owned(),
            })
    };
    let mut set = match previous.root {
        Some(anchor) => {
            TrustedSet::new(RepoConfig::tuf(), anchor, now).map_err(rejected("root.json"))?
        }
        None => {
            let first = "1.root.json";
            let set = TrustedSet::new(RepoConfig::tuf(), &required(first)?, now)
                .map_err(rejected(first))?;
            if set.root().header.version != 1 {
                return Err(rejected(first)(UpdateError::OutOfOrder {
                    role: "root".into(),
                    reason: "1.root.json is not version 1",
                }));
            }
            set
        }
    };
    let max_roots = set.config().limits.max_root_rotations;
    for _ in 0..max_roots {
        let file = format!("{}.root.json", set.root().header.version.saturating_add(1));
        let Some(bytes) = read(&file).map_err(LoadError::Read)? else {
            break;
        };
        set.update_root(&bytes).map_err(rejected(&file))?;
    }
    if required("root.json")? != set.root().raw_bytes() {
        return Err(rejected("root.json")(UpdateError::OutOfOrder {
            role: "root".into(),
            reason: "root.json is not the newest N.root.json",
        }));
    }
    set.ensure_root_fresh().map_err(rejected("root.json"))?;
    // A previous copy that no longer verifies is no reference (key rotation, 5.3.11).
    let had_timestamp = previous
        .timestamp
        .is_some_and(|ts| set.load_cached_timestamp(ts).is_ok());
    set.update_timestamp(&required("timestamp.json")?)
        .map_err(rejected("timestamp.json"))?;
    if let (true, Some(snap)) = (had_timestamp, previous.snapshot) {
        let _ = set.load_cached_snapshot(snap);
    }
    let consistent = set.root().consistent_snapshot;
    let snap_version = set.timestamp().and_then(|t| t.snapshot.version);
    let file = role_file_name("snapshot", snap_version, consistent);
    set.update_snapshot(&required(&file)?)
        .map_err(rejected(&file))?;
    let version = |set: &TrustedSet, role: &str| {
        set.snapshot()
            .and_then(|s| s.meta.get(role))
            .and_then(|m| m.version)
    };
    let file = role_file_name("targets", version(&set, "targets"), consistent);
    set.update_targets(&required(&file)?)
        .map_err(rejected(&file))?;
    let max = set.config().limits.max_listed_roles;
    let mut loaded: u32 = 0;
    while let Some((delegator, role)) = set.pending_delegations().into_iter().next() {
        let file = role_file_name(&role, version(&set, &role), consistent);
        if loaded >= max {
            return Err(rejected(&file)(UpdateError::OutOfOrder {
                role,
                reason: "too many delegated roles",
            }));
        }
        set.update_delegated(&delegator, &role, &required(&file)?)
            .map_err(rejected(&file))?;
        loaded += 1;
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_files_follow_consistent_snapshots() {
        assert_eq!(role_file_name("targets", Some(3), true), "3.targets.json");
        assert_eq!(role_file_name("a/b", Some(2), true), "2.a%2Fb.json");
        assert_eq!(role_file_name("snapshot", Some(2), false), "snapshot.json");
        assert_eq!(role_file_name("snapshot", None, true), "snapshot.json");
    }
}
