//! Validation of a publish to a TUF 1.0 collection (`POST /v2/<gun>/_tuf/`).
//!
//! Pure: the uploaded files, the stored current files, the server's held keys and a reference
//! time in; the files to store or a typed refusal out. No I/O, no clock.
//!
//! The publisher uploads root (the next version), targets and delegated roles it signed, and
//! optionally snapshot and timestamp when it holds their keys. Otherwise the server signs them
//! with the held key the root names: the snapshot keeps every role the previous snapshot
//! listed (a client refuses a snapshot that drops one) and records the new versions of targets
//! and of every delegated role reachable from it.
//!
//! A publish is accepted only if the repository that would then be served loads in tuf-core's
//! client workflow, starting from the stored root, timestamp and snapshot as a following
//! client would ([`load_tuf_repository`]): thresholds, root chain, version rules, hashes,
//! expiry, delegations. Every uploaded role must be one that load used, and every uploaded
//! target file must be listed by a verified role with its exact length and hashes. The server
//! therefore never serves what a spec client would reject.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use tuf_core::crypto::{Signer, SoftwareSigner};
use tuf_core::editor::meta_file;
use tuf_core::envelope::Signed;
use tuf_core::json::JsonLimits;
use tuf_core::path_match::succinct_bin_names;
use tuf_core::repo_load::{load_tuf_repository, role_file_name, LoadError, Previous};
use tuf_core::role::{DelegatedRoles, MetaFile, Role, Root, Snapshot, Targets, TopRole};
use tuf_core::target::verify_target;
use tuf_core::trusted_set::TrustedSet;
use tuf_core::Dialect;

use crate::online::{make_snapshot_with, make_timestamp};
use crate::storage::{NewFile, NewTarget};

/// JSON limits for parsing stored and uploaded files here (the loader applies its own caps).
const LIMITS: JsonLimits = JsonLimits {
    max_bytes: 64 * 1024 * 1024,
    max_depth: 64,
};

/// Most roles one publish may walk when computing what the snapshot lists.
const MAX_ROLES: usize = 100_000;

/// What a publish to a TUF collection carries.
#[derive(Clone, Debug, Default)]
pub struct TufUpload {
    /// Metadata files: (decoded role name, exact bytes).
    pub metadata: Vec<(String, Vec<u8>)>,
    /// Target files: (target path, bytes).
    pub targets: Vec<(String, Vec<u8>)>,
}

/// The server's unsealed timestamp and snapshot signers for this collection.
#[derive(Default)]
pub struct HeldSigners {
    /// Timestamp keys (current and pending).
    pub timestamp: Vec<SoftwareSigner>,
    /// Snapshot keys (current and pending).
    pub snapshot: Vec<SoftwareSigner>,
}

/// An accepted publish.
#[derive(Clone, Debug)]
pub struct Accepted {
    /// Files to store (uploaded and server-signed), exact bytes.
    pub files: Vec<NewFile>,
    /// Target files to store.
    pub targets: Vec<NewTarget>,
    /// The new timestamp's version and SHA-256 (the changefeed record).
    pub change: (u64, String),
}

/// Why a publish was refused (all map to 400).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TufPublishError {
    /// A part is not acceptable as such (unknown role shape, duplicate, does not parse).
    #[error("{role}: {reason}")]
    Malformed {
        /// Role of the part.
        role: String,
        /// Why.
        reason: String,
    },
    /// A version not newer than the stored one.
    #[error("{role}: version {version} is not newer than the stored version {stored}")]
    Version {
        /// Role.
        role: String,
        /// Offered.
        version: u64,
        /// Stored.
        stored: u64,
    },
    /// The repository after this publish would not verify for a client.
    #[error("{file}: {reason}")]
    WouldNotVerify {
        /// The metadata file a client would reject.
        file: String,
        /// Why.
        reason: String,
    },
    /// The server cannot sign a role the publisher did not sign.
    #[error("{role}: {reason}")]
    CannotSign {
        /// `snapshot` or `timestamp`.
        role: &'static str,
        /// Why.
        reason: String,
    },
    /// An uploaded target file is not what the metadata lists.
    #[error("target {path}: {reason}")]
    Target {
        /// Target path.
        path: String,
        /// Why.
        reason: String,
    },
    /// Stored metadata is unusable (a server-side fault, 500).
    #[error("stored metadata: {0}")]
    Stored(String),
}

fn version_of<R: Role + Clone>(role: &str, bytes: &[u8]) -> Result<(u64, R), TufPublishError> {
    let signed = Signed::<R>::parse(Dialect::TufSpec, role, bytes, &LIMITS).map_err(|e| {
        TufPublishError::Malformed {
            role: role.to_owned(),
            reason: e.to_string(),
        }
    })?;
    let value = signed.peek_untrusted().clone();
    Ok((value.header().version, value))
}

/// The roles reachable from `targets` through the delegations of `roles` (role -> bytes),
/// in discovery order, each once; only roles present in `roles` are followed.
fn reachable(roles: &BTreeMap<String, Vec<u8>>) -> Result<Vec<String>, TufPublishError> {
    let mut seen = BTreeSet::new();
    let mut order = Vec::new();
    let mut queue = vec!["targets".to_owned()];
    while let Some(name) = queue.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let Some(bytes) = roles.get(&name) else {
            continue;
        };
        order.push(name.clone());
        if order.len() > MAX_ROLES {
            return Err(TufPublishError::Malformed {
                role: name,
                reason: format!("more than {MAX_ROLES} delegated roles"),
            });
        }
        let (_, t): (u64, Targets) = version_of(&name, bytes)?;
        let Some(d) = &t.delegations else { continue };
        match &d.roles {
            DelegatedRoles::List(list) => {
                queue.extend(list.iter().rev().map(|r| r.name.as_str().to_owned()));
            }
            DelegatedRoles::Succinct(s) => {
                queue.extend(succinct_bin_names(s).filter(|b| roles.contains_key(b)));
            }
        }
    }
    Ok(order)
}

fn held_names(root: &Root, role: TopRole, signers: &[SoftwareSigner]) -> bool {
    signers.iter().any(|s| root.names_key(role, s.public_key()))
}

fn sign_error(role: &'static str) -> impl FnOnce(crate::online::OnlineError) -> TufPublishError {
    move |e| TufPublishError::CannotSign {
        role,
        reason: e.to_string(),
    }
}

/// Validates a publish against the stored `current` files (role -> (version, bytes)) and
/// returns what to store.
///
/// # Errors
/// [`TufPublishError`] naming the part or file a client would reject; nothing is stored.
pub fn validate_tuf_publish(
    current: &BTreeMap<String, (u64, Vec<u8>)>,
    held: &HeldSigners,
    upload: TufUpload,
    now: DateTime<Utc>,
) -> Result<Accepted, TufPublishError> {
    // 1. The parts: one per role, each newer than the stored version.
    let mut uploaded: BTreeMap<String, (u64, Vec<u8>)> = BTreeMap::new();
    for (role, bytes) in upload.metadata {
        let version = match role.as_str() {
            "root" => version_of::<Root>(&role, &bytes)?.0,
            "timestamp" => version_of::<tuf_core::role::Timestamp>(&role, &bytes)?.0,
            "snapshot" => version_of::<Snapshot>(&role, &bytes)?.0,
            _ => version_of::<Targets>(&role, &bytes)?.0,
        };
        if let Some((stored, _)) = current.get(&role) {
            if version <= *stored {
                return Err(TufPublishError::Version {
                    role,
                    version,
                    stored: *stored,
                });
            }
        }
        if uploaded.insert(role.clone(), (version, bytes)).is_some() {
            return Err(TufPublishError::Malformed {
                role,
                reason: "uploaded twice".into(),
            });
        }
    }
    let stored_bytes = |role: &str| current.get(role).map(|(_, b)| b.as_slice());
    let merged_bytes = |role: &str| {
        uploaded
            .get(role)
            .or_else(|| current.get(role))
            .map(|(_, b)| b.as_slice())
    };
    let root_bytes = merged_bytes("root").ok_or_else(|| TufPublishError::Malformed {
        role: "root".into(),
        reason: "the collection has no root yet: upload root version 1".into(),
    })?;
    let (_, root): (u64, Root) = version_of("root", root_bytes)?;
    if merged_bytes("targets").is_none() {
        return Err(TufPublishError::Malformed {
            role: "targets".into(),
            reason: "the collection has no targets yet: upload it".into(),
        });
    }

    // 2. The snapshot: uploaded, or signed here listing every role the previous one listed
    //    plus targets and every delegated role reachable from it now.
    let mut made: BTreeMap<String, (u64, Vec<u8>)> = BTreeMap::new();
    let (snapshot_version, snapshot_bytes) = match uploaded.get("snapshot") {
        Some((v, b)) => (*v, b.clone()),
        None => {
            if !held_names(&root, TopRole::Snapshot, &held.snapshot) {
                return Err(TufPublishError::CannotSign {
                    role: "snapshot",
                    reason: "not uploaded, and the server holds no snapshot key the root names"
                        .into(),
                });
            }
            let mut meta: BTreeMap<String, MetaFile> = match stored_bytes("snapshot") {
                Some(b) => version_of::<Snapshot>("snapshot", b)
                    .map_err(|e| TufPublishError::Stored(e.to_string()))?
                    .1
                    .meta
                    .into_iter()
                    .filter(|(role, _)| role != "root")
                    .collect(),
                None => BTreeMap::new(),
            };
            let mut roles: BTreeMap<String, Vec<u8>> = current
                .iter()
                .filter(|(r, _)| !matches!(r.as_str(), "root" | "snapshot" | "timestamp"))
                .map(|(r, (_, b))| (r.clone(), b.clone()))
                .collect();
            for (r, (_, b)) in &uploaded {
                if !matches!(r.as_str(), "root" | "snapshot" | "timestamp") {
                    roles.insert(r.clone(), b.clone());
                }
            }
            for role in reachable(&roles)? {
                if let Some(bytes) = roles.get(&role) {
                    let (v, _): (u64, Targets) = version_of(&role, bytes)?;
                    meta.insert(role, meta_file(Dialect::TufSpec, v, bytes));
                }
            }
            let prev = current.get("snapshot").map_or(0, |(v, _)| *v);
            let signer = held
                .snapshot
                .iter()
                .find(|s| held_names(&root, TopRole::Snapshot, std::slice::from_ref(*s)))
                .ok_or(TufPublishError::CannotSign {
                    role: "snapshot",
                    reason: "no held key".into(),
                })?;
            let f = make_snapshot_with(Dialect::TufSpec, &root, meta, prev, signer, now)
                .map_err(sign_error("snapshot"))?;
            made.insert("snapshot".into(), (f.version, f.data.clone()));
            (f.version, f.data)
        }
    };

    // 3. The timestamp: uploaded, or signed here for that snapshot.
    if !uploaded.contains_key("timestamp") {
        if !held_names(&root, TopRole::Timestamp, &held.timestamp) {
            return Err(TufPublishError::CannotSign {
                role: "timestamp",
                reason: "not uploaded, and the server holds no timestamp key the root names".into(),
            });
        }
        let signer = held
            .timestamp
            .iter()
            .find(|s| held_names(&root, TopRole::Timestamp, std::slice::from_ref(*s)))
            .ok_or(TufPublishError::CannotSign {
                role: "timestamp",
                reason: "no held key".into(),
            })?;
        let prev = current.get("timestamp").map_or(0, |(v, _)| *v);
        let f = make_timestamp(
            Dialect::TufSpec,
            &root,
            &snapshot_bytes,
            snapshot_version,
            prev,
            signer,
            now,
        )
        .map_err(sign_error("timestamp"))?;
        made.insert("timestamp".into(), (f.version, f.data));
    }

    // 4. Load the repository as it would be served, as a following client would.
    let candidate = |role: &str| uploaded.get(role).or_else(|| made.get(role));
    let read = |name: &str| -> Result<Option<Vec<u8>>, TufPublishError> {
        Ok(serve_name(name, &|role| {
            candidate(role).or_else(|| current.get(role)).cloned()
        }))
    };
    let previous = Previous {
        root: stored_bytes("root"),
        timestamp: stored_bytes("timestamp"),
        snapshot: stored_bytes("snapshot"),
    };
    let set = load_tuf_repository(&read, previous, now).map_err(|e| match e {
        LoadError::Missing { file } => TufPublishError::WouldNotVerify {
            file,
            reason: "missing: upload it".into(),
        },
        LoadError::Rejected { file, source } => TufPublishError::WouldNotVerify {
            file,
            reason: source.to_string(),
        },
        LoadError::Read(e) => e,
        other => TufPublishError::WouldNotVerify {
            file: "repository".into(),
            reason: other.to_string(),
        },
    })?;

    // 5. Every uploaded role was used by that load; every target file is listed.
    let used = used_roles(&set);
    for role in uploaded.keys() {
        if !used.contains(role.as_str()) {
            return Err(TufPublishError::WouldNotVerify {
                file: role_file_name(role, uploaded.get(role).map(|(v, _)| *v), true),
                reason: "not reached: no trusted role delegates to it, or the snapshot does not \
                         list this version"
                    .into(),
            });
        }
    }
    let mut targets = Vec::new();
    for (path, data) in upload.targets {
        let entry = std::iter::once(set.targets().map(|t| &**t))
            .chain(set.delegated_roles().map(|(_, t)| Some(&**t)))
            .flatten()
            .find_map(|t| t.targets.get(path.as_str()))
            .ok_or_else(|| TufPublishError::Target {
                path: path.clone(),
                reason: "no role of this publish lists it".into(),
            })?;
        verify_target(&path, entry, &data).map_err(|e| TufPublishError::Target {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        targets.push(NewTarget { path, data });
    }

    let mut files: Vec<NewFile> = Vec::new();
    for (role, (version, data)) in uploaded.into_iter().chain(made) {
        files.push(NewFile {
            role,
            version,
            data,
        });
    }
    // Dependency order: root first, timestamp last.
    files.sort_by_key(|f| match f.role.as_str() {
        "root" => 0,
        "snapshot" => 2,
        "timestamp" => 3,
        _ => 1,
    });
    let ts = files
        .iter()
        .find(|f| f.role == "timestamp")
        .ok_or_else(|| TufPublishError::Stored("no timestamp".into()))?;
    let change = (ts.version, hex::encode(Sha256::digest(&ts.data)));
    Ok(Accepted {
        files,
        targets,
        change,
    })
}

/// The role names whose metadata a load used.
fn used_roles(set: &TrustedSet) -> BTreeSet<&str> {
    let mut used: BTreeSet<&str> = ["root", "timestamp", "snapshot", "targets"].into();
    used.extend(set.delegated_roles().map(|((_, role), _)| role.as_str()));
    used
}

/// Finds the current `(version, bytes)` of a role.
type Lookup<'a> = dyn Fn(&str) -> Option<(u64, Vec<u8>)> + 'a;

/// Resolves a metadata file name of the spec layout (`N.root.json`, `root.json`,
/// `timestamp.json`, `V.<role>.json`, `<role>.json`; role names percent-encoded) to the file
/// `lookup(role)` returns (`(version, bytes)`), if its version matches the name.
fn serve_name(name: &str, lookup: &Lookup<'_>) -> Option<Vec<u8>> {
    let (version, role) = parse_metadata_name(name)?;
    let (v, bytes) = lookup(&role)?;
    match version {
        Some(want) if want != v => None,
        _ => Some(bytes),
    }
}

/// Splits a metadata file name into (version, decoded role): `3.root.json` -> (3, root),
/// `timestamp.json` -> (None, timestamp), `2.a%2Fb.json` -> (2, a/b). `None` if malformed,
/// or for a versioned timestamp (the spec never asks for one).
pub fn parse_metadata_name(name: &str) -> Option<(Option<u64>, String)> {
    let stem = name.strip_suffix(".json")?;
    let (version, enc) = match stem.split_once('.') {
        Some((n, rest)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            (Some(n.parse::<u64>().ok()?), rest)
        }
        _ => (None, stem),
    };
    let role = tuf_core::name::percent_decode_segment(enc)?;
    if role.is_empty() || (role == "timestamp" && version.is_some()) {
        return None;
    }
    Some((version, role))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn metadata_names_parse() {
        assert_eq!(
            parse_metadata_name("3.root.json"),
            Some((Some(3), "root".into()))
        );
        assert_eq!(
            parse_metadata_name("root.json"),
            Some((None, "root".into()))
        );
        assert_eq!(
            parse_metadata_name("timestamp.json"),
            Some((None, "timestamp".into()))
        );
        assert_eq!(parse_metadata_name("2.timestamp.json"), None);
        assert_eq!(
            parse_metadata_name("2.a%2Fb.json"),
            Some((Some(2), "a/b".into()))
        );
        assert_eq!(parse_metadata_name("x.json"), Some((None, "x".into())));
        assert_eq!(parse_metadata_name("%zz.json"), None);
        assert_eq!(parse_metadata_name(".json"), None);
        assert_eq!(parse_metadata_name("root"), None);
    }
}
