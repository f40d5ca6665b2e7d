//! The client update workflow of TUF spec §5 as a pure state machine: bytes and a fixed
//! reference time in, decisions out. It never fetches; a driver (the CLI, a test) does the I/O
//! and feeds the bytes in, in this order:
//!
//! 1. [`TrustedSet::new`] with the locally trusted root (5.2; fails before any network use).
//! 2. [`TrustedSet::update_root`] with `N+1.root.json` until none is available (5.3).
//! 3. [`TrustedSet::load_cached_timestamp`] / [`TrustedSet::load_cached_snapshot`] with the
//!    local copies, if any: they serve only as rollback references, and fail (to be
//!    discarded) after a timestamp/snapshot key rotation, which is fast-forward recovery (5.3.11).
//! 4. [`TrustedSet::update_timestamp`] (5.4), [`TrustedSet::update_snapshot`] unless
//!    [`TrustedSet::snapshot_is_current`] (5.5), [`TrustedSet::update_targets`] (5.6).
//! 5. [`TrustedSet::find_target`] and [`TrustedSet::update_delegated`] for delegations (5.6.7).
//!
//! Every update either is accepted whole or leaves the set exactly as it was. A set is meant
//! for one update cycle: its reference time is fixed at creation (5.1).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::dialect::Dialect;
use crate::envelope::{Signed, Verified};
use crate::error::{MetadataError, UpdateError};
use crate::json::JsonLimits;
use crate::name::Gun;
use crate::path_match::is_succinct_bin;
use crate::role::{
    DelegatedRoles, KeySet, MetaFile, Role, RoleKeys, Root, Snapshot, Targets, Timestamp, TopRole,
};
use crate::target::{check_hashes, HashCheck};

/// Caps that bound the work and memory an untrusted repository can cause.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest root file (bytes).
    pub root_bytes: u64,
    /// Largest timestamp file (bytes).
    pub timestamp_bytes: u64,
    /// Largest snapshot file when the timestamp does not give its length.
    pub snapshot_bytes: u64,
    /// Largest targets file when the snapshot does not give its length.
    pub targets_bytes: u64,
    /// Largest file accepted even when the referring metadata names a larger length.
    pub max_file_bytes: u64,
    /// Most root versions applied in one update cycle.
    pub max_root_rotations: u32,
    /// Most roles visited by one target search (top-level targets included).
    pub max_delegations: u32,
    /// Most roles visited when listing every target of a repository.
    pub max_listed_roles: u32,
    /// Deepest JSON nesting accepted.
    pub max_json_depth: usize,
}

impl Default for Limits {
    /// python-tuf's and go-tuf's defaults (security.md P1, W8, W31).
    fn default() -> Self {
        Self {
            root_bytes: 512_000,
            timestamp_bytes: 16_384,
            snapshot_bytes: 2_000_000,
            targets_bytes: 5_000_000,
            max_file_bytes: 256 << 20,
            max_root_rotations: 256,
            max_delegations: 32,
            max_listed_roles: 1024,
            max_json_depth: 64,
        }
    }
}

/// What a trusted set verifies against: the dialect (never sniffed), the GUN for Notary
/// (root certificates must name it), and limits.
#[derive(Clone, Debug)]
pub struct RepoConfig {
    /// The wire dialect.
    pub dialect: Dialect,
    /// The collection name (required for [`Dialect::Notary`]).
    pub gun: Option<Gun>,
    /// Size and work caps.
    pub limits: Limits,
}

impl RepoConfig {
    /// A Notary 0.7 collection.
    pub fn notary(gun: Gun) -> Self {
        Self {
            dialect: Dialect::Notary,
            gun: Some(gun),
            limits: Limits::default(),
        }
    }

    /// A TUF 1.0 repository.
    pub fn tuf() -> Self {
        Self {
            dialect: Dialect::TufSpec,
            gun: None,
            limits: Limits::default(),
        }
    }
}

/// Outcome of a timestamp update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimestampUpdate {
    /// The new timestamp is now trusted: persist it.
    Updated,
    /// Same version as the trusted one: the trusted one is kept (even if the bytes differ),
    /// nothing changed, and the cycle can stop.
    Unchanged,
}

/// The trusted metadata of one repository during one update cycle.
#[derive(Debug)]
pub struct TrustedSet {
    config: RepoConfig,
    now: DateTime<Utc>,
    root: Verified<Root>,
    root_updates: u32,
    timestamp: Option<Verified<Timestamp>>,
    snapshot: Option<Verified<Snapshot>>,
    targets: Option<Verified<Targets>>,
    delegated: BTreeMap<(String, String), Verified<Targets>>,
}

impl TrustedSet {
    /// Starts a cycle from the locally trusted root, which must verify against its own root
    /// role (no expiry check here: an expired local root can still be updated, 5.2).
    ///
    /// # Errors
    /// Parse, threshold or (Notary) root-certificate errors; [`UpdateError::Config`] for a
    /// Notary config without GUN.
    pub fn new(
        config: RepoConfig,
        root_bytes: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Self, UpdateError> {
        if config.dialect == Dialect::Notary && config.gun.is_none() {
            return Err(UpdateError::Config {
                reason: "the Notary dialect needs the GUN",
            });
        }
        let signed = parse::<Root>(&config, "root", root_bytes, config.limits.root_bytes)?;
        let root = {
            let r = signed.peek_untrusted();
            let (keys, role) = (r.keys.clone(), r.role(TopRole::Root).clone());
            signed.verify(&keys, &role)?
        };
        check_root_certificates(&config, &root)?;
        Ok(Self {
            config,
            now,
            root,
            root_updates: 0,
            timestamp: None,
            snapshot: None,
            targets: None,
            delegated: BTreeMap::new(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &RepoConfig {
        &self.config
    }
    /// The reference time of this cycle.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }
    /// The trusted root.
    pub fn root(&self) -> &Verified<Root> {
        &self.root
    }
    /// The trusted timestamp, if any.
    pub fn timestamp(&self) -> Option<&Verified<Timestamp>> {
        self.timestamp.as_ref()
    }
    /// The trusted snapshot, if any.
    pub fn snapshot(&self) -> Option<&Verified<Snapshot>> {
        self.snapshot.as_ref()
    }
    /// The trusted top-level targets, if any.
    pub fn targets(&self) -> Option<&Verified<Targets>> {
        self.targets.as_ref()
    }
    /// A trusted delegated role, as verified through the edge `delegator -> role`.
    pub fn delegated(&self, delegator: &str, role: &str) -> Option<&Verified<Targets>> {
        self.delegated.get(&(delegator.to_owned(), role.to_owned()))
    }
    /// Every trusted delegated role, keyed by (delegator, role).
    pub fn delegated_roles(&self) -> impl Iterator<Item = (&(String, String), &Verified<Targets>)> {
        self.delegated.iter()
    }

    /// Applies the next root (`N+1.root.json`, 5.3.4–5.3.8): signed by a threshold of the
    /// trusted root's root keys **and** of its own, version exactly N+1. Expiry is not checked
    /// for intermediate roots; see [`TrustedSet::ensure_root_fresh`].
    ///
    /// # Errors
    /// Threshold, version, parse and certificate errors; [`UpdateError::OutOfOrder`] after the
    /// timestamp was loaded or after too many rotations in one cycle.
    pub fn update_root(&mut self, bytes: &[u8]) -> Result<&Verified<Root>, UpdateError> {
        if self.timestamp.is_some() {
            return Err(out_of_order(
                "root",
                "cannot update root after the timestamp",
            ));
        }
        if self.root_updates >= self.config.limits.max_root_rotations {
            return Err(out_of_order(
                "root",
                "too many root rotations in one update",
            ));
        }
        let signed = parse::<Root>(&self.config, "root", bytes, self.config.limits.root_bytes)?;
        signed.check_signatures(&self.root.keys, self.root.role(TopRole::Root))?;
        let (keys, role) = {
            let r = signed.peek_untrusted();
            (r.keys.clone(), r.role(TopRole::Root).clone())
        };
        let new = signed.verify(&keys, &role)?;
        let expected = self.root.header.version.saturating_add(1);
        if new.header.version < expected {
            return Err(UpdateError::Rollback {
                role: "root".into(),
                trusted: self.root.header.version,
                got: new.header.version,
            });
        }
        if new.header.version != expected {
            return Err(UpdateError::VersionMismatch {
                role: "root".into(),
                expected,
                got: new.header.version,
            });
        }
        check_root_certificates(&self.config, &new)?;
        self.root = new;
        self.root_updates = self.root_updates.saturating_add(1);
        Ok(&self.root)
    }

    /// The final root must not be expired (5.3.10), and in Notary its root certificates must
    /// be valid now; call before fetching the timestamp (done by `update_timestamp` too).
    ///
    /// # Errors
    /// [`UpdateError::Expired`] or [`UpdateError::RootCertificate`].
    pub fn ensure_root_fresh(&self) -> Result<(), UpdateError> {
        expiry("root", self.root.header.expires, self.now)?;
        if self.config.dialect == Dialect::Notary {
            let role = self.root.role(TopRole::Root);
            let valid = role
                .keyids
                .iter()
                .filter_map(|id| self.root.keys.get(id))
                .filter_map(|k| k.certificate())
                .filter(|c| {
                    !c.sha1_signature
                        && c.not_after > self.now
                        && c.not_before <= self.now + chrono::Duration::days(1)
                })
                .count();
            if u32::try_from(valid).is_ok_and(|v| v < role.threshold.get()) {
                return Err(UpdateError::RootCertificate {
                    role: "root".into(),
                    keyid: String::new(),
                    reason:
                        "fewer valid (unexpired, non-SHA-1) root certificates than the threshold",
                });
            }
        }
        Ok(())
    }

    /// Loads the locally cached timestamp as the rollback reference (5.4.3): verified against
    /// the current root, version rules applied, but an expired one is accepted (W16).
    ///
    /// # Errors
    /// As [`TrustedSet::update_timestamp`] minus expiry: the caller discards the cache.
    pub fn load_cached_timestamp(&mut self, bytes: &[u8]) -> Result<TimestampUpdate, UpdateError> {
        self.timestamp_inner(bytes, false)
    }

    /// Applies a downloaded timestamp (5.4): root fresh, threshold of root's timestamp keys,
    /// version not lower than the trusted one (equal: keep the trusted one), snapshot version
    /// not lower, not expired.
    ///
    /// # Errors
    /// [`UpdateError`] naming `timestamp` (or `snapshot` for a snapshot version rollback).
    pub fn update_timestamp(&mut self, bytes: &[u8]) -> Result<TimestampUpdate, UpdateError> {
        self.ensure_root_fresh()?;
        self.timestamp_inner(bytes, true)
    }

    fn timestamp_inner(
        &mut self,
        bytes: &[u8],
        check_expiry: bool,
    ) -> Result<TimestampUpdate, UpdateError> {
        if self.snapshot.is_some() {
            return Err(out_of_order(
                "timestamp",
                "cannot update timestamp after the snapshot",
            ));
        }
        let signed = parse::<Timestamp>(
            &self.config,
            "timestamp",
            bytes,
            self.config.limits.timestamp_bytes,
        )?;
        let new = signed.verify(&self.root.keys, self.root.role(TopRole::Timestamp))?;
        if let Some(old) = &self.timestamp {
            if new.header.version < old.header.version {
                return Err(UpdateError::Rollback {
                    role: "timestamp".into(),
                    trusted: old.header.version,
                    got: new.header.version,
                });
            }
            if new.header.version == old.header.version {
                // The trusted copy is kept; it must itself still be fresh (a replayed
                // same-version timestamp must not freeze the client on an expired one).
                if check_expiry {
                    expiry("timestamp", old.header.expires, self.now)?;
                }
                return Ok(TimestampUpdate::Unchanged);
            }
            if let (Some(n), Some(o)) = (new.snapshot.version, old.snapshot.version) {
                if n < o {
                    return Err(UpdateError::Rollback {
                        role: "snapshot".into(),
                        trusted: o,
                        got: n,
                    });
                }
            }
        }
        if check_expiry {
            expiry("timestamp", new.header.expires, self.now)?;
        }
        self.timestamp = Some(new);
        Ok(TimestampUpdate::Updated)
    }

    /// Whether the trusted snapshot is the one the trusted timestamp names (then it need not
    /// be downloaded).
    pub fn snapshot_is_current(&self) -> bool {
        match (&self.timestamp, &self.snapshot) {
            (Some(ts), Some(snap)) => {
                matches_meta(&ts.snapshot, snap.header.version, snap.raw_bytes())
            }
            _ => false,
        }
    }

    /// Loads the locally cached snapshot as the rollback reference for the next snapshot:
    /// verified against the current root, no expiry or timestamp-hash check.
    ///
    /// # Errors
    /// Parse and threshold errors: the caller discards the cache.
    pub fn load_cached_snapshot(&mut self, bytes: &[u8]) -> Result<(), UpdateError> {
        if self.timestamp.is_none() || self.snapshot.is_some() || self.targets.is_some() {
            return Err(out_of_order(
                "snapshot",
                "load the cached snapshot right after the timestamp",
            ));
        }
        let signed = parse::<Snapshot>(
            &self.config,
            "snapshot",
            bytes,
            self.config.limits.max_file_bytes,
        )?;
        let new = signed.verify(&self.root.keys, self.root.role(TopRole::Snapshot))?;
        self.snapshot = Some(new);
        Ok(())
    }

    /// Applies a downloaded snapshot (5.5): timestamp fresh, length and hashes as the timestamp
    /// says, threshold of root's snapshot keys, version as the timestamp says (TUF), no role
    /// dropped or rolled back against the previous snapshot, not expired.
    ///
    /// # Errors
    /// [`UpdateError`] naming `snapshot` or the rolled-back role.
    pub fn update_snapshot(&mut self, bytes: &[u8]) -> Result<(), UpdateError> {
        let Some(ts) = &self.timestamp else {
            return Err(out_of_order("snapshot", "load the timestamp first"));
        };
        if self.targets.is_some() {
            return Err(out_of_order(
                "snapshot",
                "cannot update snapshot after targets",
            ));
        }
        expiry("timestamp", ts.header.expires, self.now)?;
        let meta = ts.snapshot.clone();
        let cap = self.cap(&meta, self.config.limits.snapshot_bytes);
        check_file(&self.config, "snapshot", &meta, bytes, cap)?;
        let signed = parse::<Snapshot>(&self.config, "snapshot", bytes, cap)?;
        let new = signed.verify(&self.root.keys, self.root.role(TopRole::Snapshot))?;
        if let Some(expected) = meta.version {
            if new.header.version != expected {
                return Err(UpdateError::VersionMismatch {
                    role: "snapshot".into(),
                    expected,
                    got: new.header.version,
                });
            }
        }
        if let Some(old) = &self.snapshot {
            if new.header.version < old.header.version {
                return Err(UpdateError::Rollback {
                    role: "snapshot".into(),
                    trusted: old.header.version,
                    got: new.header.version,
                });
            }
            if self.config.dialect == Dialect::TufSpec {
                for (name, old_meta) in &old.meta {
                    let Some(new_meta) = new.meta.get(name) else {
                        return Err(UpdateError::RoleRemoved { role: name.clone() });
                    };
                    if let (Some(o), Some(n)) = (old_meta.version, new_meta.version) {
                        if n < o {
                            return Err(UpdateError::Rollback {
                                role: name.clone(),
                                trusted: o,
                                got: n,
                            });
                        }
                    }
                }
            }
        }
        expiry("snapshot", new.header.expires, self.now)?;
        self.snapshot = Some(new);
        Ok(())
    }

    /// Applies the top-level targets (5.6), cached or downloaded: listed in the current
    /// snapshot with matching length/hashes (and version in TUF), threshold of root's targets
    /// keys, not expired.
    ///
    /// # Errors
    /// [`UpdateError`] naming `targets`.
    pub fn update_targets(&mut self, bytes: &[u8]) -> Result<(), UpdateError> {
        let (keys, role_keys) = (
            self.root.keys.clone(),
            self.root.role(TopRole::Targets).clone(),
        );
        let new = self.verify_targets_file("targets", bytes, &keys, &role_keys)?;
        self.targets = Some(new);
        Ok(())
    }

    /// Applies a delegated targets role reached through the edge `delegator -> role`
    /// (5.6.7): the delegator must be trusted and delegate to `role` (Notary: `role` must be a
    /// direct child name); verified with **that edge's** keys and threshold; listed in the
    /// snapshot with matching length/hashes/version; not expired.
    ///
    /// # Errors
    /// [`UpdateError`] naming the role.
    pub fn update_delegated(
        &mut self,
        delegator: &str,
        role: &str,
        bytes: &[u8],
    ) -> Result<(), UpdateError> {
        let (keys, role_keys) = self.delegation_edge(delegator, role)?;
        let new = self.verify_targets_file(role, bytes, &keys, &role_keys)?;
        self.delegated
            .insert((delegator.to_owned(), role.to_owned()), new);
        Ok(())
    }

    /// The trusted metadata of a role that can delegate: top-level targets or any trusted
    /// delegated role of that name (all copies are the same bytes from one snapshot).
    pub(crate) fn delegator(&self, name: &str) -> Option<&Verified<Targets>> {
        if name == "targets" {
            return self.targets.as_ref();
        }
        self.delegated
            .iter()
            .find(|((_, r), _)| r == name)
            .map(|(_, v)| v)
    }

    fn delegation_edge(
        &self,
        delegator: &str,
        role: &str,
    ) -> Result<(KeySet, RoleKeys), UpdateError> {
        let not_delegated = || UpdateError::NotDelegated {
            role: role.to_owned(),
            delegator: delegator.to_owned(),
        };
        let parent = self
            .delegator(delegator)
            .ok_or_else(|| out_of_order(role, "the delegating role is not trusted yet"))?;
        let Some(d) = &parent.delegations else {
            return Err(not_delegated());
        };
        if self.config.dialect == Dialect::Notary
            && crate::name::RoleName::delegated(Dialect::Notary, role)
                .ok()
                .and_then(|r| r.notary_parent().map(|p| p == delegator))
                != Some(true)
        {
            return Err(not_delegated());
        }
        let role_keys = match &d.roles {
            DelegatedRoles::List(list) => list
                .iter()
                .find(|r| r.name.as_str() == role)
                .map(|r| r.keys.clone()),
            DelegatedRoles::Succinct(s) => is_succinct_bin(s, role).then(|| s.keys.clone()),
        };
        let role_keys = role_keys.ok_or_else(not_delegated)?;
        Ok((d.keys.clone(), role_keys))
    }

    fn verify_targets_file(
        &self,
        role: &str,
        bytes: &[u8],
        keys: &KeySet,
        role_keys: &RoleKeys,
    ) -> Result<Verified<Targets>, UpdateError> {
        let Some(snapshot) = &self.snapshot else {
            return Err(out_of_order(role, "load the snapshot first"));
        };
        if !self.snapshot_is_current() {
            return Err(out_of_order(
                role,
                "the trusted snapshot is not the one the timestamp names",
            ));
        }
        if let Some(ts) = &self.timestamp {
            expiry("timestamp", ts.header.expires, self.now)?;
        }
        expiry("snapshot", snapshot.header.expires, self.now)?;
        let meta = snapshot
            .meta
            .get(role)
            .ok_or_else(|| UpdateError::NotInSnapshot {
                role: role.to_owned(),
            })?;
        let cap = self.cap(meta, self.config.limits.targets_bytes);
        check_file(&self.config, role, meta, bytes, cap)?;
        let signed = parse::<Targets>(&self.config, role, bytes, cap)?;
        let new = signed.verify(keys, role_keys)?;
        if let Some(expected) = meta.version {
            if new.header.version != expected {
                return Err(UpdateError::VersionMismatch {
                    role: role.to_owned(),
                    expected,
                    got: new.header.version,
                });
            }
        }
        expiry(role, new.header.expires, self.now)?;
        Ok(new)
    }

    /// The byte cap for a file: its recorded length if any (bounded by `max_file_bytes`),
    /// else the default for its kind.
    fn cap(&self, meta: &MetaFile, default: u64) -> u64 {
        meta.length
            .unwrap_or(default)
            .min(self.config.limits.max_file_bytes)
    }
}

fn out_of_order(role: &str, reason: &'static str) -> UpdateError {
    UpdateError::OutOfOrder {
        role: role.to_owned(),
        reason,
    }
}

fn expiry(role: &str, expires: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), UpdateError> {
    if expires <= now {
        return Err(UpdateError::Expired {
            role: role.to_owned(),
            expires,
            now,
        });
    }
    Ok(())
}

fn parse<R: Role>(
    config: &RepoConfig,
    role: &str,
    bytes: &[u8],
    cap: u64,
) -> Result<Signed<R>, UpdateError> {
    let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if len > cap {
        return Err(UpdateError::TooLarge {
            role: role.to_owned(),
            max: cap,
            got: len,
        });
    }
    let limits = JsonLimits {
        max_bytes: usize::try_from(cap).unwrap_or(usize::MAX),
        max_depth: config.limits.max_json_depth,
    };
    Signed::parse(config.dialect, role, bytes, &limits).map_err(|e: MetadataError| e.into())
}

/// Length and hashes of `bytes` against what the referring metadata recorded.
fn check_file(
    config: &RepoConfig,
    role: &str,
    meta: &MetaFile,
    bytes: &[u8],
    cap: u64,
) -> Result<(), UpdateError> {
    let got = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if got > cap {
        return Err(UpdateError::TooLarge {
            role: role.to_owned(),
            max: cap,
            got,
        });
    }
    if let Some(expected) = meta.length {
        if got != expected {
            return Err(UpdateError::LengthMismatch {
                role: role.to_owned(),
                expected,
                got,
            });
        }
    }
    if meta.hashes.is_empty() {
        if config.dialect == Dialect::Notary {
            return Err(UpdateError::NoSupportedHash {
                role: role.to_owned(),
            });
        }
        return Ok(());
    }
    match check_hashes(&meta.hashes, bytes) {
        HashCheck::Ok => Ok(()),
        HashCheck::Mismatch(algorithm) => Err(UpdateError::HashMismatch {
            role: role.to_owned(),
            algorithm,
        }),
        HashCheck::NoneSupported => Err(UpdateError::NoSupportedHash {
            role: role.to_owned(),
        }),
    }
}

/// Whether `raw` (of `version`) is the file `meta` describes.
fn matches_meta(meta: &MetaFile, version: u64, raw: &[u8]) -> bool {
    if meta.version.is_some_and(|v| v != version) {
        return false;
    }
    if meta
        .length
        .is_some_and(|l| u64::try_from(raw.len()) != Ok(l))
    {
        return false;
    }
    meta.hashes.is_empty() || matches!(check_hashes(&meta.hashes, raw), HashCheck::Ok)
}

/// Notary: every key of the root role is an X.509 certificate whose CN is the GUN.
fn check_root_certificates(config: &RepoConfig, root: &Root) -> Result<(), UpdateError> {
    let (Dialect::Notary, Some(gun)) = (config.dialect, &config.gun) else {
        return Ok(());
    };
    for id in &root.role(TopRole::Root).keyids {
        let err = |reason| UpdateError::RootCertificate {
            role: "root".into(),
            keyid: id.to_hex(),
            reason,
        };
        let key = root.keys.get(id).ok_or_else(|| err("unusable key"))?;
        let cert = key
            .certificate()
            .ok_or_else(|| err("root keys must be X.509 certificates (ecdsa-x509/rsa-x509)"))?;
        if cert.common_name.as_deref() != Some(gun.as_str()) {
            return Err(err("certificate common name is not the GUN"));
        }
    }
    Ok(())
}
