//! Validation of an uploaded publish (Notary 0.7 `POST /v2/<gun>/_trust/tuf/`).
//!
//! Pure: bytes, the stored current bytes, the server's public keys and a reference time in; the
//! files to store (exactly the uploaded bytes) or a typed refusal out. No I/O, no clock.
//!
//! The rules are Go Notary's (`server/handlers/validation.go`), in its order: role names and
//! strict parsing, root, targets and delegations (shallowest first, parents from the upload or
//! the store), snapshot (uploaded, or signed by the server if it holds a key the root names).
//! Versions that are not newer than stored are reported last, as Go's store reports them after
//! validation. Stricter than Go, as the security notes ask:
//!
//! - envelopes with members other than `signed`/`signatures` are refused (C05);
//! - an uploaded root must name a timestamp key the server holds;
//! - a delegation may not declare paths outside the paths of the edge it was delegated
//!   through (Go silently narrows them), delegates only to direct children, and may not use
//!   path hash prefixes;
//! - the snapshot must list root, targets and every delegated role reachable after the
//!   publish (Go checks only the uploaded roles);
//! - a targets, delegation or snapshot version may not jump more than [`MAX_VERSION_JUMP`]
//!   past the stored one (C04).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use tuf_core::crypto::PublicKey;
use tuf_core::envelope::{Signed, Verified};
use tuf_core::error::{MetadataError, UpdateError};
use tuf_core::json::JsonLimits;
use tuf_core::name::{Gun, RoleName};
use tuf_core::role::{
    DelegatedRole, DelegatedRoles, KeySet, PathSpec, Role, RoleKeys, Root, Snapshot, Targets,
    TopRole,
};
use tuf_core::trusted_set::{RepoConfig, TrustedSet};
use tuf_core::Dialect;

use crate::storage::NewFile;

/// Largest accepted jump of a targets, delegation or snapshot version over the stored one
/// (security.md §4.7 item 2, C04): a stolen key cannot push a version to the end of the range.
pub const MAX_VERSION_JUMP: u64 = 1_000_000;

/// JSON limits for non-root parts (root is additionally capped by [`TrustedSet`]).
const PART_LIMITS: JsonLimits = JsonLimits {
    max_bytes: 64 * 1024 * 1024,
    max_depth: 64,
};

/// One uploaded file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadPart {
    /// The role name (the multipart filename with an optional `.json` already stripped).
    pub role: String,
    /// The exact uploaded bytes.
    pub data: Vec<u8>,
}

/// The public keys the server holds private keys for, for this GUN.
#[derive(Clone, Debug, Default)]
pub struct HeldKeys {
    /// Timestamp keys (current and pending).
    pub timestamp: Vec<PublicKey>,
    /// Snapshot keys (current and pending).
    pub snapshot: Vec<PublicKey>,
}

/// An accepted upload.
#[derive(Clone, Debug)]
pub struct Validated {
    /// The uploaded files to store, exact bytes, in order root, targets, delegations
    /// (shallowest first), snapshot. Never a timestamp.
    pub files: Vec<NewFile>,
    /// The root in force after this publish (uploaded or stored), verified.
    pub root: Root,
    /// The exact bytes of that root.
    pub root_bytes: Vec<u8>,
    /// No snapshot was uploaded and the server holds a snapshot key the root names: the
    /// server must generate and sign the snapshot.
    pub server_signs_snapshot: bool,
    /// `targets` and every delegated role reachable from it after this publish: what a
    /// snapshot must list besides `root`.
    pub live_roles: Vec<String>,
}

/// Why an upload was refused. HTTP mapping: see each variant.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum ValidationError {
    /// 400 `INVALID_ROLE`, detail = the role string.
    #[error("invalid role: {0}")]
    InvalidRole(String),
    /// 400 `MALFORMED_JSON`: not JSON, not the envelope shape, duplicate keys, trailing data,
    /// extra top-level members.
    #[error("{role}: malformed JSON: {reason}")]
    MalformedJson {
        /// Role of the part.
        role: String,
        /// Why.
        reason: String,
    },
    /// 400 `VERSION`: the same role twice in one upload, or a version not newer than stored.
    #[error("{role}: version conflict")]
    Version {
        /// Role.
        role: String,
    },
    /// 400 `INVALID_UPDATE`, detail `{"Name":"ErrBadRoot","Error":{"Msg":..}}`.
    #[error("bad root: {0}")]
    BadRoot(String),
    /// 400 `INVALID_UPDATE`, detail `{"Name":"ErrBadTargets","Error":{"Msg":..}}`.
    #[error("bad targets: {0}")]
    BadTargets(String),
    /// 400 `INVALID_UPDATE`, detail `{"Name":"ErrBadSnapshot","Error":{"Msg":..}}`.
    #[error("bad snapshot: {0}")]
    BadSnapshot(String),
    /// 400 `INVALID_UPDATE`, detail `{"Name":"ErrBadHierarchy","Error":{"Missing":..,"Msg":..}}`.
    #[error("bad hierarchy: missing {missing}: {msg}")]
    BadHierarchy {
        /// The missing role.
        missing: String,
        /// Why.
        msg: String,
    },
    /// 400 `INVALID_UPDATE`, detail `{"Name":"ErrValidation","Error":{"Msg":..}}`.
    #[error("validation: {0}")]
    Validation(String),
    /// Stored metadata could not be read back (a server fault: 500, not the client's error).
    #[error("stored metadata unusable: {0}")]
    Stored(String),
}

impl ValidationError {
    /// The Go error name used in the `INVALID_UPDATE` detail, for the variants that have one.
    pub fn detail_name(&self) -> Option<&'static str> {
        match self {
            Self::BadRoot(_) => Some("ErrBadRoot"),
            Self::BadTargets(_) => Some("ErrBadTargets"),
            Self::BadSnapshot(_) => Some("ErrBadSnapshot"),
            Self::BadHierarchy { .. } => Some("ErrBadHierarchy"),
            Self::Validation(_) => Some("ErrValidation"),
            Self::InvalidRole(_)
            | Self::MalformedJson { .. }
            | Self::Version { .. }
            | Self::Stored(_) => None,
        }
    }
}

/// The role named by a multipart filename (`targets`, `targets.json`, `targets/releases`),
/// or `None` if it is not a valid Notary role.
pub fn role_of_filename(filename: &str) -> Option<String> {
    let name = filename.strip_suffix(".json").unwrap_or(filename);
    check_role(name).ok()
}

fn check_role(role: &str) -> Result<String, ValidationError> {
    match role {
        "root" | "targets" | "snapshot" | "timestamp" => Ok(role.to_owned()),
        _ => RoleName::delegated(Dialect::Notary, role)
            .map(|n| n.as_str().to_owned())
            .map_err(|_| ValidationError::InvalidRole(role.to_owned())),
    }
}

/// Which `Bad*` error a role's semantic failures map to.
#[derive(Clone, Copy)]
enum Kind {
    Root,
    Targets,
    Snapshot,
}

impl Kind {
    fn err(self, msg: String) -> ValidationError {
        match self {
            Self::Root => ValidationError::BadRoot(msg),
            Self::Targets => ValidationError::BadTargets(msg),
            Self::Snapshot => ValidationError::BadSnapshot(msg),
        }
    }
}

/// Strict parse of an uploaded part: JSON and envelope errors are `MalformedJson`, errors
/// inside `signed` (wrong `_type`, schema) are the role's `Bad*` error.
fn parse_part<R: Role>(role: &str, data: &[u8], kind: Kind) -> Result<Signed<R>, ValidationError> {
    Signed::<R>::parse(Dialect::Notary, role, data, &PART_LIMITS).map_err(|e| {
        let envelope = match &e {
            MetadataError::Json { .. } => true,
            MetadataError::Schema { field, .. } => !field.starts_with("signed."),
            _ => false,
        };
        if envelope {
            ValidationError::MalformedJson {
                role: role.to_owned(),
                reason: e.to_string(),
            }
        } else {
            kind.err(e.to_string())
        }
    })
}

/// Parse of stored bytes (already validated once); failure is a server fault.
fn parse_stored<R: Role>(role: &str, data: &[u8]) -> Result<Signed<R>, ValidationError> {
    let limits = JsonLimits {
        max_bytes: usize::MAX,
        ..PART_LIMITS
    };
    Signed::<R>::parse(Dialect::Notary, role, data, &limits)
        .map_err(|e| ValidationError::Stored(e.to_string()))
}

fn stored_version<R: Role>(
    current: &BTreeMap<String, Vec<u8>>,
    role: &str,
) -> Result<Option<u64>, ValidationError> {
    current
        .get(role)
        .map(|b| parse_stored::<R>(role, b).map(|s| s.peek_untrusted().version()))
        .transpose()
}

/// Version rule for non-root roles: strictly newer than stored (else a pending `Version`
/// error, reported only if nothing else is wrong, as Go's store reports it after validation),
/// and not further ahead than [`MAX_VERSION_JUMP`].
fn check_version(
    role: &str,
    new: u64,
    stored: Option<u64>,
    kind: Kind,
    pending: &mut Vec<String>,
) -> Result<(), ValidationError> {
    let base = stored.unwrap_or(0);
    if new <= base {
        pending.push(role.to_owned());
        return Ok(());
    }
    if new - base > MAX_VERSION_JUMP {
        return Err(kind.err(format!(
            "{role}: version {new} jumps more than {MAX_VERSION_JUMP} past the current version {base}"
        )));
    }
    Ok(())
}

fn is_expired(expires: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    expires <= now
}

fn names_held_key(keys: &KeySet, role: &RoleKeys, held: &[PublicKey]) -> bool {
    let held: BTreeSet<[u8; 32]> = held.iter().map(PublicKey::identity).collect();
    role.keyids
        .iter()
        .filter_map(|id| keys.get(id))
        .any(|k| held.contains(&k.public_key().identity()))
}

fn root_error(e: &UpdateError) -> ValidationError {
    match e {
        UpdateError::RootCertificate { .. } | UpdateError::Threshold { .. } => {
            ValidationError::BadRoot(format!(
                "could not validate the path to a trusted root: {e}"
            ))
        }
        _ => ValidationError::BadRoot(e.to_string()),
    }
}

/// The root in force after this publish.
struct RootOutcome {
    root: Root,
    bytes: Vec<u8>,
    uploaded: bool,
}

fn validate_root(
    gun: &Gun,
    now: DateTime<Utc>,
    stored: Option<&Vec<u8>>,
    uploaded: Option<(Signed<Root>, Vec<u8>)>,
    held: &HeldKeys,
    pending: &mut Vec<String>,
) -> Result<RootOutcome, ValidationError> {
    let config = || RepoConfig::notary(gun.clone());
    let Some((new_signed, new_bytes)) = uploaded else {
        let Some(stored) = stored else {
            return Err(ValidationError::Validation(
                "no pre-existing root and no root provided in update.".into(),
            ));
        };
        let set = TrustedSet::new(config(), stored, now)
            .map_err(|e| ValidationError::Stored(format!("stored root: {e}")))?;
        return Ok(RootOutcome {
            root: (**set.root()).clone(),
            bytes: stored.clone(),
            uploaded: false,
        });
    };
    let new_version = new_signed.peek_untrusted().version();
    let set = match stored {
        None => TrustedSet::new(config(), &new_bytes, now).map_err(|e| root_error(&e))?,
        Some(stored) => {
            let mut set = TrustedSet::new(config(), stored, now)
                .map_err(|e| ValidationError::Stored(format!("stored root: {e}")))?;
            let cur = set.root().version();
            if new_version == cur {
                // Same version: validated like a rotation (old and new thresholds, own
                // certificates), then refused as a version conflict if nothing else fails.
                new_signed
                    .check_signatures(&set.root().keys, set.root().role(TopRole::Root))
                    .map_err(|e| {
                        ValidationError::BadRoot(format!(
                            "could not validate the path to a trusted root: could not rotate \
                             trust to a new trusted root: not signed by the current root keys: {e}"
                        ))
                    })?;
                pending.push("root".into());
                TrustedSet::new(config(), &new_bytes, now).map_err(|e| root_error(&e))?
            } else if Some(new_version) == cur.checked_add(1) {
                if let Err(e) =
                    new_signed.check_signatures(&set.root().keys, set.root().role(TopRole::Root))
                {
                    return Err(ValidationError::BadRoot(format!(
                        "could not validate the path to a trusted root: could not rotate trust \
                         to a new trusted root: not signed by the current root keys: {e}"
                    )));
                }
                set.update_root(&new_bytes).map_err(|e| root_error(&e))?;
                set
            } else {
                return Err(ValidationError::BadRoot(format!(
                    "Root modifications must increment the version. Current {cur}, new {new_version}"
                )));
            }
        }
    };
    set.ensure_root_fresh().map_err(|e| root_error(&e))?;
    let root = (**set.root()).clone();
    if !names_held_key(&root.keys, root.role(TopRole::Timestamp), &held.timestamp) {
        return Err(ValidationError::BadRoot(
            "root does not name a timestamp key held by the server".into(),
        ));
    }
    Ok(RootOutcome {
        root,
        bytes: new_bytes,
        uploaded: true,
    })
}

/// A targets role verified in this upload (uploaded, or a stored ancestor of an uploaded role).
struct Node {
    targets: Verified<Targets>,
}

/// Verifies `signed` (role `name`) against its parent: root's targets role for `targets`,
/// else the parent's delegation edge naming it. Returns the verified role and the edge's
/// paths (`None` for top-level targets).
fn verify_against_parent(
    name: &str,
    signed: Signed<Targets>,
    root: &Root,
    verified: &BTreeMap<String, Node>,
) -> Result<(Verified<Targets>, Option<PathSpec>), ValidationError> {
    if name == "targets" {
        let v = signed
            .verify(&root.keys, root.role(TopRole::Targets))
            .map_err(|e| ValidationError::BadTargets(e.to_string()))?;
        return Ok((v, None));
    }
    let parent_name = name.rsplit_once('/').map_or("targets", |(p, _)| p);
    let parent = verified.get(parent_name).ok_or_else(|| {
        ValidationError::BadTargets(format!(
            "{name}: parent role {parent_name} is neither uploaded nor stored"
        ))
    })?;
    let (keys, edge) = find_edge(&parent.targets, name).ok_or_else(|| {
        ValidationError::BadTargets(format!("{name}: not delegated by {parent_name}"))
    })?;
    let v = signed
        .verify(keys, &edge.keys)
        .map_err(|e| ValidationError::BadTargets(e.to_string()))?;
    Ok((v, Some(edge.paths.clone())))
}

fn find_edge<'a>(parent: &'a Targets, name: &str) -> Option<(&'a KeySet, &'a DelegatedRole)> {
    let d = parent.delegations.as_ref()?;
    let DelegatedRoles::List(list) = &d.roles else {
        return None;
    };
    list.iter()
        .find(|r| r.name.as_str() == name)
        .map(|r| (&d.keys, r))
}

/// Structure of an uploaded targets role's own delegations: direct children only, Notary
/// path prefixes only, and (for a delegated role) every path within the paths of the edge
/// it was delegated through.
fn check_delegations(
    name: &str,
    t: &Targets,
    edge_paths: Option<&PathSpec>,
) -> Result<(), ValidationError> {
    let Some(d) = &t.delegations else {
        return Ok(());
    };
    let DelegatedRoles::List(list) = &d.roles else {
        return Err(ValidationError::BadTargets(format!(
            "{name}: succinct hash bin delegations are not supported by Notary"
        )));
    };
    let edge_prefixes = match edge_paths {
        None => None,
        Some(PathSpec::Patterns(p)) => Some(p),
        Some(PathSpec::HashPrefixes(_)) => {
            return Err(ValidationError::BadTargets(format!(
                "{name}: delegated through path hash prefixes, which Notary does not support"
            )))
        }
    };
    for r in list {
        let child = r.name.as_str();
        if r.name.notary_parent() != Some(name) {
            return Err(ValidationError::BadTargets(format!(
                "{name}: delegates to {child}, which is not its direct child"
            )));
        }
        let PathSpec::Patterns(paths) = &r.paths else {
            return Err(ValidationError::BadTargets(format!(
                "{name}: delegation {child} uses path hash prefixes, which Notary does not support"
            )));
        };
        if let Some(allowed) = edge_prefixes {
            if let Some(p) = paths
                .iter()
                .find(|p| !allowed.iter().any(|a| p.starts_with(a.as_str())))
            {
                return Err(ValidationError::BadTargets(format!(
                    "{name}: delegation {child} path {p:?} is outside the paths delegated to {name}"
                )));
            }
        }
    }
    Ok(())
}

fn check_snapshot_meta(
    snapshot: &Snapshot,
    role: &str,
    data: &[u8],
) -> Result<(), ValidationError> {
    let bad = |m: String| ValidationError::BadSnapshot(m);
    let meta = snapshot
        .meta
        .get(role)
        .ok_or_else(|| bad(format!("snapshot does not list {role}")))?;
    let len = u64::try_from(data.len()).unwrap_or(u64::MAX);
    if meta.length != Some(len) {
        return Err(bad(format!(
            "snapshot lists {role} with length {:?}, the file has {len} bytes",
            meta.length
        )));
    }
    let mut supported = 0usize;
    for (alg, expected) in &meta.hashes {
        if let Some(actual) = tuf_core::target::digest(alg, data) {
            supported += 1;
            if actual != *expected {
                return Err(bad(format!("snapshot {alg} hash of {role} does not match")));
            }
        }
    }
    if supported == 0 {
        return Err(bad(format!(
            "snapshot lists no supported hash algorithm for {role}"
        )));
    }
    Ok(())
}

/// Validates an upload against the stored state.
///
/// `current` maps each role to its current stored bytes; `held` are the public keys the server
/// can sign with for this GUN; `now` is the reference time for expiry.
///
/// # Errors
/// [`ValidationError`]; nothing may be stored in that case.
pub fn validate_upload(
    gun: &Gun,
    now: DateTime<Utc>,
    current: &BTreeMap<String, Vec<u8>>,
    held: &HeldKeys,
    parts: Vec<UploadPart>,
) -> Result<Validated, ValidationError> {
    // 1. Role names, duplicates, strict parsing.
    let mut seen = BTreeSet::new();
    let mut root_up: Option<(Signed<Root>, Vec<u8>)> = None;
    let mut snapshot_up: Option<Signed<Snapshot>> = None;
    let mut targets_up: Vec<(String, Signed<Targets>)> = Vec::new();
    for part in parts {
        let role = check_role(&part.role)?;
        if !seen.insert(role.clone()) {
            return Err(ValidationError::Version { role });
        }
        match role.as_str() {
            "timestamp" => {}
            "root" => {
                let s = parse_part::<Root>(&role, &part.data, Kind::Root)?;
                root_up = Some((s, part.data));
            }
            "snapshot" => {
                snapshot_up = Some(parse_part::<Snapshot>(&role, &part.data, Kind::Snapshot)?);
            }
            _ => {
                let s = parse_part::<Targets>(&role, &part.data, Kind::Targets)?;
                targets_up.push((role, s));
            }
        }
    }
    let mut pending: Vec<String> = Vec::new();

    // 2. Root.
    let root = validate_root(gun, now, current.get("root"), root_up, held, &mut pending)?;

    // 3. Targets and delegations, shallowest first; ancestors not uploaded come from the
    // store and are verified along the same chain.
    targets_up.sort_by(|(a, _), (b, _)| {
        (a.matches('/').count(), a.as_str()).cmp(&(b.matches('/').count(), b.as_str()))
    });
    let mut verified: BTreeMap<String, Node> = BTreeMap::new();
    let mut target_files: Vec<NewFile> = Vec::new();
    for (name, signed) in targets_up {
        // Load missing ancestors from the store, top-down.
        let mut ancestors = Vec::new();
        let mut a = name.as_str();
        while let Some((p, _)) = a.rsplit_once('/') {
            ancestors.push(p);
            a = p;
        }
        for anc in ancestors.into_iter().rev() {
            if verified.contains_key(anc) {
                continue;
            }
            let Some(bytes) = current.get(anc) else {
                return Err(ValidationError::BadTargets(format!(
                    "{name}: parent role {anc} is neither uploaded nor stored"
                )));
            };
            let s = parse_stored::<Targets>(anc, bytes)?;
            let (v, _) = verify_against_parent(anc, s, &root.root, &verified).map_err(|e| {
                ValidationError::BadTargets(format!("{name}: stored ancestor {anc}: {e}"))
            })?;
            verified.insert(anc.to_owned(), Node { targets: v });
        }
        let version = signed.peek_untrusted().version();
        let expires = signed.peek_untrusted().expires();
        let (v, edge_paths) = verify_against_parent(&name, signed, &root.root, &verified)?;
        if is_expired(expires, now) {
            return Err(ValidationError::BadTargets(format!(
                "{name}: expired at {expires} (now {now})"
            )));
        }
        check_delegations(&name, &v, edge_paths.as_ref())?;
        let stored = stored_version::<Targets>(current, &name)?;
        check_version(&name, version, stored, Kind::Targets, &mut pending)?;
        target_files.push(NewFile {
            role: name.clone(),
            version,
            data: v.raw_bytes().to_vec(),
        });
        verified.insert(name, Node { targets: v });
    }

    // The bytes current after this publish: uploaded, else stored.
    let uploaded_bytes: BTreeMap<&str, &[u8]> = target_files
        .iter()
        .map(|f| (f.role.as_str(), f.data.as_slice()))
        .collect();
    let after = |role: &str| -> Option<&[u8]> {
        uploaded_bytes
            .get(role)
            .copied()
            .or_else(|| current.get(role).map(Vec::as_slice))
    };
    if after("targets").is_none() {
        return Err(ValidationError::BadHierarchy {
            missing: "targets".into(),
            msg: "no targets metadata was included in update and none is stored".into(),
        });
    }

    // 4. Snapshot.
    let live_roles = live_targets_roles(&verified, &after)?;
    let mut snapshot_file = None;
    let server_signs_snapshot = match snapshot_up {
        Some(signed) => {
            let version = signed.peek_untrusted().version();
            let expires = signed.peek_untrusted().expires();
            let v = signed
                .verify(&root.root.keys, root.root.role(TopRole::Snapshot))
                .map_err(|e| ValidationError::BadSnapshot(e.to_string()))?;
            if is_expired(expires, now) {
                return Err(ValidationError::BadSnapshot(format!(
                    "snapshot expired at {expires} (now {now})"
                )));
            }
            check_snapshot_meta(&v, "root", &root.bytes)?;
            for role in &live_roles {
                let Some(bytes) = after(role) else { continue };
                check_snapshot_meta(&v, role, bytes)?;
            }
            let stored = stored_version::<Snapshot>(current, "snapshot")?;
            check_version("snapshot", version, stored, Kind::Snapshot, &mut pending)?;
            snapshot_file = Some(NewFile {
                role: "snapshot".into(),
                version,
                data: v.raw_bytes().to_vec(),
            });
            false
        }
        None => {
            if !names_held_key(
                &root.root.keys,
                root.root.role(TopRole::Snapshot),
                &held.snapshot,
            ) {
                return Err(ValidationError::BadHierarchy {
                    missing: "snapshot".into(),
                    msg: "no snapshot was included in update and server does not hold current \
                          snapshot key for repository"
                        .into(),
                });
            }
            true
        }
    };

    // 5. Versions not newer than stored: reported after every other check, as Go's store
    // reports them after validation.
    if let Some(role) = pending.into_iter().next() {
        return Err(ValidationError::Version { role });
    }

    let mut files = Vec::new();
    if root.uploaded {
        files.push(NewFile {
            role: "root".into(),
            version: root.root.version(),
            data: root.bytes.clone(),
        });
    }
    files.extend(target_files);
    files.extend(snapshot_file);
    Ok(Validated {
        files,
        root: root.root,
        root_bytes: root.bytes,
        server_signs_snapshot,
        live_roles,
    })
}

/// `targets` and every delegated role reachable from it through delegations whose metadata
/// exists after this publish (uploaded or stored). Stored roles that were not verified in this
/// upload are read for their delegation lists only.
fn live_targets_roles<'b>(
    verified: &BTreeMap<String, Node>,
    after: &dyn Fn(&str) -> Option<&'b [u8]>,
) -> Result<Vec<String>, ValidationError> {
    let mut out = Vec::new();
    let mut queue = vec!["targets".to_owned()];
    let mut seen = BTreeSet::new();
    while let Some(role) = queue.pop() {
        if !seen.insert(role.clone()) {
            continue;
        }
        let children: Vec<String> = match verified.get(&role) {
            Some(n) => n
                .targets
                .delegated_roles()
                .iter()
                .map(|r| r.name.as_str().to_owned())
                .collect(),
            None => match after(&role) {
                Some(bytes) => parse_stored::<Targets>(&role, bytes)?
                    .peek_untrusted()
                    .delegated_roles()
                    .iter()
                    .map(|r| r.name.as_str().to_owned())
                    .collect(),
                None => continue,
            },
        };
        out.push(role);
        queue.extend(children.into_iter().filter(|c| after(c).is_some()));
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use tuf_core::role::{Delegations, Hashes, Header, MetaFile, Threshold};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap()
    }

    fn edge(name: &str, paths: PathSpec) -> DelegatedRole {
        DelegatedRole {
            name: RoleName::delegated(Dialect::Notary, name).unwrap(),
            keys: RoleKeys {
                keyids: vec![],
                threshold: Threshold::ONE,
            },
            terminating: false,
            paths,
        }
    }

    fn pats(p: &[&str]) -> PathSpec {
        PathSpec::Patterns(p.iter().map(|s| (*s).to_owned()).collect())
    }

    fn targets_delegating(edges: Vec<DelegatedRole>) -> Targets {
        Targets {
            header: Header::new(1, t0()),
            targets: BTreeMap::new(),
            delegations: Some(Delegations {
                keys: KeySet::new(),
                roles: DelegatedRoles::List(edges),
            }),
            extra: Default::default(),
        }
    }

    #[test]
    fn roles_and_filenames() {
        for ok in [
            "root",
            "targets",
            "snapshot",
            "timestamp",
            "targets/a",
            "targets/a/b.c",
        ] {
            assert_eq!(check_role(ok).unwrap(), ok);
            assert_eq!(role_of_filename(&format!("{ok}.json")).as_deref(), Some(ok));
            assert_eq!(role_of_filename(ok).as_deref(), Some(ok));
        }
        for bad in [
            "",
            "bogus",
            "targets/",
            "targets/../x",
            "targets/A",
            "targets//a",
            "x/targets",
        ] {
            assert!(
                matches!(check_role(bad), Err(ValidationError::InvalidRole(ref r)) if r == bad),
                "{bad}"
            );
        }
    }

    #[test]
    fn delegation_paths_must_stay_within_the_edge() {
        let t = targets_delegating(vec![edge("targets/a/b", pats(&["a/x/", "a/y"]))]);
        // Reached through an edge allowing "a/": fine; through "" (everything): fine.
        check_delegations("targets/a", &t, Some(&pats(&["a/"]))).unwrap();
        check_delegations("targets/a", &t, Some(&pats(&[""]))).unwrap();
        // Through "a/x/" only: "a/y" escapes.
        let err = check_delegations("targets/a", &t, Some(&pats(&["a/x/"]))).unwrap_err();
        assert!(matches!(err, ValidationError::BadTargets(ref m) if m.contains("\"a/y\"")));
        // Top-level targets is unrestricted.
        let top = targets_delegating(vec![edge("targets/a", pats(&["anything"]))]);
        check_delegations("targets", &top, None).unwrap();
    }

    #[test]
    fn delegations_must_be_direct_children_without_hash_prefixes() {
        let grandchild = targets_delegating(vec![edge("targets/a/b", pats(&[""]))]);
        assert!(check_delegations("targets", &grandchild, None).is_err());
        let hashed = targets_delegating(vec![edge(
            "targets/a",
            PathSpec::HashPrefixes(vec!["ab".into()]),
        )]);
        assert!(check_delegations("targets", &hashed, None).is_err());
        let ok = targets_delegating(vec![edge("targets/a", pats(&[""]))]);
        assert!(check_delegations("targets/a", &ok, Some(&pats(&[""]))).is_err());
        check_delegations("targets", &ok, None).unwrap();
    }

    #[test]
    fn versions_must_increase_within_the_jump_bound() {
        let mut pending = Vec::new();
        check_version("targets", 2, Some(1), Kind::Targets, &mut pending).unwrap();
        check_version(
            "targets",
            MAX_VERSION_JUMP,
            None,
            Kind::Targets,
            &mut pending,
        )
        .unwrap();
        assert!(pending.is_empty());
        check_version("targets", 1, Some(1), Kind::Targets, &mut pending).unwrap();
        check_version("snapshot", 0, None, Kind::Snapshot, &mut pending).unwrap();
        assert_eq!(pending, vec!["targets".to_owned(), "snapshot".to_owned()]);
        let err = check_version("targets", u64::MAX, Some(1), Kind::Targets, &mut pending);
        assert!(matches!(err, Err(ValidationError::BadTargets(_))));
        let err = check_version(
            "snapshot",
            MAX_VERSION_JUMP + 2,
            Some(1),
            Kind::Snapshot,
            &mut pending,
        );
        assert!(matches!(err, Err(ValidationError::BadSnapshot(_))));
    }

    #[test]
    fn snapshot_meta_must_match_length_and_every_supported_hash() {
        let data = b"targets bytes";
        let entry = |len: u64, hashes: &[(&str, Vec<u8>)]| MetaFile {
            version: None,
            length: Some(len),
            hashes: hashes
                .iter()
                .map(|(a, h)| ((*a).to_owned(), h.clone()))
                .collect::<Hashes>(),
        };
        let sha256 = tuf_core::target::digest("sha256", data).unwrap();
        let sha512 = tuf_core::target::digest("sha512", data).unwrap();
        let snap = |m: MetaFile| Snapshot {
            header: Header::new(1, t0()),
            meta: [("targets".to_owned(), m)].into_iter().collect(),
            extra: Default::default(),
        };
        let len = data.len() as u64;
        let good = snap(entry(
            len,
            &[("sha256", sha256.clone()), ("sha512", sha512.clone())],
        ));
        check_snapshot_meta(&good, "targets", data).unwrap();
        assert!(
            check_snapshot_meta(&good, "root", data).is_err(),
            "not listed"
        );
        assert!(check_snapshot_meta(&good, "targets", b"other").is_err());
        let bad_len = snap(entry(len + 1, &[("sha256", sha256.clone())]));
        assert!(check_snapshot_meta(&bad_len, "targets", data).is_err());
        let one_wrong = snap(entry(len, &[("sha256", sha256), ("sha512", vec![0; 64])]));
        assert!(check_snapshot_meta(&one_wrong, "targets", data).is_err());
        let unknown = snap(entry(len, &[("md5", vec![0; 16])]));
        assert!(check_snapshot_meta(&unknown, "targets", data).is_err());
    }

    #[test]
    fn detail_names() {
        assert_eq!(
            ValidationError::BadRoot(String::new()).detail_name(),
            Some("ErrBadRoot")
        );
        assert_eq!(
            ValidationError::BadTargets(String::new()).detail_name(),
            Some("ErrBadTargets")
        );
        assert_eq!(
            ValidationError::BadSnapshot(String::new()).detail_name(),
            Some("ErrBadSnapshot")
        );
        assert_eq!(
            ValidationError::BadHierarchy {
                missing: String::new(),
                msg: String::new()
            }
            .detail_name(),
            Some("ErrBadHierarchy")
        );
        assert_eq!(
            ValidationError::Version { role: "x".into() }.detail_name(),
            None
        );
        assert_eq!(ValidationError::InvalidRole("x".into()).detail_name(), None);
    }

    #[test]
    fn garbage_parts_are_malformed_not_bad() {
        for bytes in [
            &b"nope"[..],
            b"{}",
            b"{\"signed\":1,\"signatures\":[]}",
            b"{\"signed\":{},\"signatures\":[{}]}",
        ] {
            let err = parse_part::<Targets>("targets", bytes, Kind::Targets).unwrap_err();
            assert!(
                matches!(err, ValidationError::MalformedJson { .. }),
                "{err:?}"
            );
        }
        let err = parse_part::<Targets>(
            "targets",
            b"{\"signed\":{},\"signatures\":[]}",
            Kind::Targets,
        )
        .unwrap_err();
        assert!(matches!(err, ValidationError::BadTargets(_)), "{err:?}");
    }
}
