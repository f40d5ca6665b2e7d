//! Repository editing: change roles, then sign everything that changed (and snapshot and
//! timestamp) with any [`Signer`]s, in either dialect.
//!
//! Every file the editor emits is parsed back and checked with the same threshold function a
//! client uses, against every authority that must accept it (old and new root for a root
//! change, the delegating edge for a delegated role): the editor refuses to emit metadata its
//! own verifier would reject.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};

use crate::crypto::{method_name, self_signed_root_certificate, Key, KeyError, SignError, Signer};
use crate::dialect::Dialect;
use crate::envelope::{write_envelope, RawSignature, Signed, Verified};
use crate::error::{MetadataError, UpdateError};
use crate::json::{self, JsonLimits};
use crate::name::Gun;
use crate::path_match::succinct_bin_names;
use crate::role::{
    DelegatedRole, DelegatedRoles, Delegations, Hashes, Header, KeySet, MetaFile, Role, RoleKeys,
    Root, Snapshot, SuccinctRoles, TargetEntry, Targets, Threshold, Timestamp, TopRole, TopRoles,
};
use crate::target::digest;
use crate::trusted_set::TrustedSet;

/// Why an edit or a signing run failed. Nothing is emitted when it fails.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EditError {
    /// A signer failed.
    #[error("{role}: signing failed: {source}")]
    Sign {
        /// Role being signed.
        role: String,
        /// Signer error.
        source: SignError,
    },
    /// The signed result would not verify (e.g. not enough signers for the threshold).
    #[error("refusing to emit {role}: {source}")]
    WouldNotVerify {
        /// Role.
        role: String,
        /// What the verifier said.
        source: UpdateError,
    },
    /// A threshold larger than the number of keys: nobody could ever satisfy it.
    #[error("{role}: threshold {threshold} exceeds its {keys} key(s)")]
    ThresholdExceedsKeys {
        /// Role.
        role: String,
        /// Threshold.
        threshold: u32,
        /// Keys listed.
        keys: usize,
    },
    /// No such role in the repository.
    #[error("no role {role} in this repository")]
    UnknownRole {
        /// Role.
        role: String,
    },
    /// The operation is not valid for this role or dialect.
    #[error("{role}: {reason}")]
    Invalid {
        /// Role.
        role: String,
        /// Why.
        reason: &'static str,
    },
    /// A key could not be used.
    #[error("key: {0}")]
    Key(#[from] KeyError),
    /// Output could not be parsed back (a bug, reported rather than emitted).
    #[error(transparent)]
    Metadata(#[from] MetadataError),
}

/// How long newly signed metadata stays valid, per role.
#[derive(Clone, Copy, Debug)]
pub struct Lifetimes {
    /// Root.
    pub root: Duration,
    /// Targets and delegated roles.
    pub targets: Duration,
    /// Snapshot.
    pub snapshot: Duration,
    /// Timestamp.
    pub timestamp: Duration,
}

impl Lifetimes {
    /// The reference's defaults: Notary 0.7 (10 y / 3 y / 3 y / 14 d), or python-tuf-like
    /// TUF 1.0 defaults (1 y / 90 d / 7 d / 1 d).
    pub fn default_for(dialect: Dialect) -> Self {
        match dialect {
            Dialect::Notary => Self {
                root: Duration::days(3650),
                targets: Duration::days(3 * 365),
                snapshot: Duration::days(3 * 365),
                timestamp: Duration::days(14),
            },
            Dialect::TufSpec => Self {
                root: Duration::days(365),
                targets: Duration::days(90),
                snapshot: Duration::days(7),
                timestamp: Duration::days(1),
            },
        }
    }
}

/// One signed metadata file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedFile {
    /// Role name.
    pub role: String,
    /// Its version.
    pub version: u64,
    /// The exact bytes to store and serve.
    pub bytes: Vec<u8>,
}

impl SignedFile {
    /// File names under which a TUF 1.0 repository serves this file: `N.root.json` (and
    /// `root.json`), `timestamp.json`, and `V.<role>.json` (consistent snapshots) or
    /// `<role>.json`, with delegated role names percent-encoded.
    pub fn tuf_file_names(&self, consistent_snapshot: bool) -> Vec<String> {
        let enc = crate::name::percent_encode_segment(&self.role);
        match self.role.as_str() {
            "root" => vec![format!("{}.root.json", self.version), "root.json".into()],
            "timestamp" => vec!["timestamp.json".into()],
            _ if consistent_snapshot => vec![format!("{}.{enc}.json", self.version)],
            _ => vec![format!("{enc}.json")],
        }
    }
}

/// A changed root before it is signed (see [`RepoEditor::pending_root`]).
#[derive(Clone, Debug)]
pub struct PendingRoot {
    /// The root with its next version and expiry.
    pub root: Root,
    /// The canonical bytes every root signature covers.
    pub canonical: Vec<u8>,
    /// Who must sign: (keys, root role) of the new root, then of the trusted root if any.
    pub authorities: Vec<(KeySet, RoleKeys)>,
}

/// Which of snapshot and timestamp a signing run produces (a Notary client leaves the
/// timestamp, and sometimes the snapshot, to the server).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignPlan {
    /// Produce a new snapshot.
    pub snapshot: bool,
    /// Produce a new timestamp.
    pub timestamp: bool,
}

impl Default for SignPlan {
    fn default() -> Self {
        Self {
            snapshot: true,
            timestamp: true,
        }
    }
}

/// Keys for a new repository.
#[derive(Clone, Debug)]
pub struct InitialKeys {
    /// Root keys (Notary: X.509 certificate keys naming the GUN, see [`notary_root_key`]).
    pub root: Vec<Key>,
    /// Targets keys.
    pub targets: Vec<Key>,
    /// Snapshot keys.
    pub snapshot: Vec<Key>,
    /// Timestamp keys.
    pub timestamp: Vec<Key>,
}

/// A Notary root key: a self-signed certificate for `gun`, valid from `now` for `lifetime`,
/// made with `signer`'s key (P-256), as Go Notary makes them.
///
/// # Errors
/// [`EditError`] if the signer cannot sign a certificate.
pub fn notary_root_key(
    signer: &dyn Signer,
    gun: &Gun,
    now: DateTime<Utc>,
    lifetime: Duration,
) -> Result<Key, EditError> {
    let pem = self_signed_root_certificate(signer, gun.as_str(), now, now + lifetime).map_err(
        |source| EditError::Sign {
            role: "root".into(),
            source,
        },
    )?;
    Ok(Key::from_certificate_pem(&pem)?)
}

/// A repository being edited.
#[derive(Clone, Debug)]
pub struct RepoEditor {
    dialect: Dialect,
    lifetimes: Lifetimes,
    root: Root,
    /// The root clients trust now; a changed root must also satisfy it.
    trusted_root: Option<Root>,
    targets: Targets,
    delegated: BTreeMap<String, Targets>,
    snapshot: Option<Snapshot>,
    timestamp: Option<Timestamp>,
    /// Last emitted bytes per role (what snapshot/timestamp describe).
    published: BTreeMap<String, Vec<u8>>,
    dirty: BTreeSet<String>,
    expires_override: BTreeMap<String, DateTime<Utc>>,
}

fn role_keys(keys: &mut KeySet, list: Vec<Key>, threshold: Threshold) -> RoleKeys {
    let keyids = list.into_iter().map(|k| keys.insert(k)).collect();
    RoleKeys { keyids, threshold }
}

fn empty_targets(version: u64, expires: DateTime<Utc>) -> Targets {
    Targets {
        header: Header::new(version, expires),
        targets: BTreeMap::new(),
        delegations: None,
        extra: Default::default(),
    }
}

impl RepoEditor {
    /// A new, unsigned repository: root v1 (Notary: targets starts at v1 too) with one
    /// threshold-1 role per key list. Nothing is emitted until [`RepoEditor::sign`].
    pub fn create(dialect: Dialect, keys: InitialKeys, now: DateTime<Utc>) -> Self {
        let lifetimes = Lifetimes::default_for(dialect);
        let mut set = KeySet::new();
        let roles = TopRoles {
            root: role_keys(&mut set, keys.root, Threshold::ONE),
            targets: role_keys(&mut set, keys.targets, Threshold::ONE),
            snapshot: role_keys(&mut set, keys.snapshot, Threshold::ONE),
            timestamp: role_keys(&mut set, keys.timestamp, Threshold::ONE),
        };
        let root = Root {
            header: Header::new(0, now + lifetimes.root),
            consistent_snapshot: dialect == Dialect::TufSpec,
            keys: set,
            roles,
            extra: Default::default(),
        };
        let mut dirty = BTreeSet::new();
        dirty.insert("root".to_owned());
        dirty.insert("targets".to_owned());
        Self {
            dialect,
            lifetimes,
            root,
            trusted_root: None,
            targets: empty_targets(0, now + lifetimes.targets),
            delegated: BTreeMap::new(),
            snapshot: None,
            timestamp: None,
            published: BTreeMap::new(),
            dirty,
            expires_override: BTreeMap::new(),
        }
    }

    /// Continues editing a repository a client has verified (every delegated role it loaded
    /// is kept; roles it did not load cannot be edited).
    pub fn from_trusted(set: &TrustedSet) -> Result<Self, EditError> {
        let targets = set.targets().ok_or_else(|| EditError::UnknownRole {
            role: "targets".into(),
        })?;
        Ok(Self::resume(
            set.config().dialect,
            set.root(),
            targets,
            set.delegated_roles()
                .map(|((_, role), v)| (role.as_str(), v)),
            set.snapshot(),
            set.timestamp(),
        ))
    }

    /// Continues editing from verified parts (e.g. a collection initialised locally and not
    /// published yet, whose root and targets were verified against each other).
    pub fn resume<'a>(
        dialect: Dialect,
        root: &Verified<Root>,
        targets: &Verified<Targets>,
        delegated: impl IntoIterator<Item = (&'a str, &'a Verified<Targets>)>,
        snapshot: Option<&Verified<Snapshot>>,
        timestamp: Option<&Verified<Timestamp>>,
    ) -> Self {
        let mut published = BTreeMap::new();
        published.insert("root".to_owned(), root.raw_bytes().to_vec());
        published.insert("targets".to_owned(), targets.raw_bytes().to_vec());
        let mut delegated_roles = BTreeMap::new();
        for (role, v) in delegated {
            delegated_roles.insert(role.to_owned(), (**v).clone());
            published.insert(role.to_owned(), v.raw_bytes().to_vec());
        }
        Self {
            dialect,
            lifetimes: Lifetimes::default_for(dialect),
            root: (**root).clone(),
            trusted_root: Some((**root).clone()),
            targets: (**targets).clone(),
            delegated: delegated_roles,
            snapshot: snapshot.map(|s| (**s).clone()),
            timestamp: timestamp.map(|t| (**t).clone()),
            published,
            dirty: BTreeSet::new(),
            expires_override: BTreeMap::new(),
        }
    }

    /// Sets the lifetimes used when roles are re-signed.
    pub fn set_lifetimes(&mut self, lifetimes: Lifetimes) {
        self.lifetimes = lifetimes;
    }

    /// The root being edited.
    pub fn root(&self) -> &Root {
        &self.root
    }

    /// The targets role named `role` (top-level or delegated).
    pub fn targets(&self, role: &str) -> Option<&Targets> {
        if role == "targets" {
            Some(&self.targets)
        } else {
            self.delegated.get(role)
        }
    }

    fn targets_mut(&mut self, role: &str) -> Result<&mut Targets, EditError> {
        let t = if role == "targets" {
            Some(&mut self.targets)
        } else {
            self.delegated.get_mut(role)
        };
        let t = t.ok_or_else(|| EditError::UnknownRole { role: role.into() })?;
        self.dirty.insert(role.to_owned());
        Ok(t)
    }

    /// Adds or replaces a target in `role`.
    ///
    /// # Errors
    /// [`EditError::UnknownRole`].
    pub fn add_target(
        &mut self,
        role: &str,
        path: &str,
        entry: TargetEntry,
    ) -> Result<(), EditError> {
        if path.is_empty() {
            return Err(EditError::Invalid {
                role: role.into(),
                reason: "empty target path",
            });
        }
        self.targets_mut(role)?
            .targets
            .insert(path.to_owned(), entry);
        Ok(())
    }

    /// Adds many targets to `role` at once (no per-target bookkeeping).
    ///
    /// # Errors
    /// [`EditError::UnknownRole`].
    pub fn add_targets(
        &mut self,
        role: &str,
        entries: impl IntoIterator<Item = (String, TargetEntry)>,
    ) -> Result<(), EditError> {
        let t = self.targets_mut(role)?;
        for (path, entry) in entries {
            if !path.is_empty() {
                t.targets.insert(path, entry);
            }
        }
        Ok(())
    }

    /// Removes a target; returns whether it was there.
    ///
    /// # Errors
    /// [`EditError::UnknownRole`].
    pub fn remove_target(&mut self, role: &str, path: &str) -> Result<bool, EditError> {
        Ok(self.targets_mut(role)?.targets.remove(path).is_some())
    }

    /// The targets role named `role` (top-level or a loaded delegated role) for in-place
    /// editing of its delegations or targets; it is re-signed on the next signing.
    ///
    /// # Errors
    /// [`EditError::UnknownRole`] when the role is not loaded.
    pub fn targets_for_edit(&mut self, role: &str) -> Result<&mut Targets, EditError> {
        self.targets_mut(role)
    }

    /// Starts empty metadata for the delegated role `role` if none is loaded (as Go Notary's
    /// `InitTargets` does before the first target is added to a delegation); it is signed on
    /// the next signing. Returns whether it was created.
    pub fn init_delegated(&mut self, role: &str) -> bool {
        if role == "targets" || self.delegated.contains_key(role) {
            return false;
        }
        let expires = self.targets.header.expires;
        self.delegated
            .insert(role.to_owned(), empty_targets(0, expires));
        self.dirty.insert(role.to_owned());
        true
    }

    /// Drops the metadata of the delegated role `role` (it leaves the next snapshot) without
    /// touching its parent's delegation entry.
    pub fn forget_delegated(&mut self, role: &str) {
        self.delegated.remove(role);
        self.published.remove(role);
        self.dirty.remove(role);
    }

    /// Delegates `delegation.paths` of `parent` to `delegation.name` with `keys` (added to the
    /// parent's delegation keys). An existing delegation of that name is replaced in place;
    /// the delegated role starts empty if it does not exist yet.
    ///
    /// # Errors
    /// Unknown parent, a Notary name that is not a child of `parent`, or a threshold above
    /// the number of keys.
    pub fn add_delegation(
        &mut self,
        parent: &str,
        delegation: DelegatedRole,
        keys: Vec<Key>,
    ) -> Result<(), EditError> {
        let name = delegation.name.as_str().to_owned();
        if self.dialect == Dialect::Notary && delegation.name.notary_parent() != Some(parent) {
            return Err(EditError::Invalid {
                role: name,
                reason: "a Notary delegation's parent is its dirname",
            });
        }
        check_threshold(&name, &delegation.keys)?;
        let expires = self.targets.header.expires;
        let p = self.targets_mut(parent)?;
        let d = p.delegations.get_or_insert_with(|| Delegations {
            keys: KeySet::new(),
            roles: DelegatedRoles::List(Vec::new()),
        });
        for k in keys {
            d.keys.insert(k);
        }
        let DelegatedRoles::List(list) = &mut d.roles else {
            return Err(EditError::Invalid {
                role: parent.into(),
                reason: "parent already delegates with succinct hash bins",
            });
        };
        match list.iter_mut().find(|r| r.name == delegation.name) {
            Some(r) => *r = delegation,
            None => list.push(delegation),
        }
        if !self.delegated.contains_key(&name) {
            self.delegated
                .insert(name.clone(), empty_targets(0, expires));
            self.dirty.insert(name);
        }
        Ok(())
    }

    /// Delegates everything of `parent` to TAP 15 succinct hash bins (TUF 1.0 only); every bin
    /// role is created empty.
    ///
    /// # Errors
    /// Notary dialect, unknown parent, bad threshold.
    pub fn set_succinct_delegation(
        &mut self,
        parent: &str,
        bins: SuccinctRoles,
        keys: Vec<Key>,
    ) -> Result<(), EditError> {
        if self.dialect == Dialect::Notary {
            return Err(EditError::Invalid {
                role: parent.into(),
                reason: "succinct hash bins are a TUF 1.0 feature",
            });
        }
        check_threshold(&bins.name_prefix, &bins.keys)?;
        let expires = self.targets.header.expires;
        let names: Vec<String> = succinct_bin_names(&bins).collect();
        let p = self.targets_mut(parent)?;
        let mut set = KeySet::new();
        for k in keys {
            set.insert(k);
        }
        p.delegations = Some(Delegations {
            keys: set,
            roles: DelegatedRoles::Succinct(bins),
        });
        for n in names {
            if !self.delegated.contains_key(&n) {
                self.delegated.insert(n.clone(), empty_targets(0, expires));
                self.dirty.insert(n);
            }
        }
        Ok(())
    }

    /// Removes the delegation `role` from `parent` (its metadata is dropped from the next
    /// snapshot).
    ///
    /// # Errors
    /// Unknown parent or delegation.
    pub fn remove_delegation(&mut self, parent: &str, role: &str) -> Result<(), EditError> {
        let p = self.targets_mut(parent)?;
        let removed = match p.delegations.as_mut().map(|d| &mut d.roles) {
            Some(DelegatedRoles::List(list)) => {
                let before = list.len();
                list.retain(|r| r.name.as_str() != role);
                before != list.len()
            }
            _ => false,
        };
        if !removed {
            return Err(EditError::UnknownRole { role: role.into() });
        }
        self.delegated.remove(role);
        self.published.remove(role);
        self.dirty.remove(role);
        Ok(())
    }

    /// Replaces the keys of a top-level role (key rotation) and its threshold. The root
    /// version is bumped on signing and the new root is signed by the trusted root's keys as
    /// well as the new ones. Notary keeps retired keys in `keys` (as Go does); TUF 1.0 drops
    /// keys no role uses any more.
    ///
    /// # Errors
    /// Threshold above the number of keys.
    pub fn set_role_keys(
        &mut self,
        role: TopRole,
        keys: Vec<Key>,
        threshold: Threshold,
    ) -> Result<(), EditError> {
        let mut set = self.root.keys.clone();
        let rk = role_keys(&mut set, keys, threshold);
        check_threshold(role.as_str(), &rk)?;
        *self.root.roles.get_mut(role) = rk;
        if self.dialect == Dialect::TufSpec {
            let used: BTreeSet<_> = TopRole::ALL
                .iter()
                .flat_map(|r| self.root.roles.get(*r).keyids.iter().copied())
                .collect();
            let unused: Vec<_> = set
                .iter()
                .map(|(id, _)| *id)
                .filter(|id| !used.contains(id))
                .collect();
            for id in unused {
                set.remove(&id);
            }
        }
        self.root.keys = set;
        self.dirty.insert("root".into());
        Ok(())
    }

    /// Sets the expiry of a role for the next signing (otherwise now + its lifetime) and
    /// marks it for re-signing.
    pub fn set_expires(&mut self, role: &str, expires: DateTime<Utc>) {
        self.expires_override.insert(role.into(), expires);
        self.dirty.insert(role.into());
    }

    /// Makes the next signing re-sign `role` (a version bump with nothing else changed).
    pub fn touch(&mut self, role: &str) {
        self.dirty.insert(role.into());
    }

    /// Sets `consistent_snapshot` in root (TUF 1.0).
    pub fn set_consistent_snapshot(&mut self, on: bool) {
        self.root.consistent_snapshot = on;
        self.dirty.insert("root".into());
    }

    fn expires_for(&self, role: &str, lifetime: Duration, now: DateTime<Utc>) -> DateTime<Utc> {
        self.expires_override
            .get(role)
            .copied()
            .unwrap_or(now + lifetime)
    }

    /// The delegation edge (keys, role keys) under which `role` is verified.
    fn edge_for(&self, role: &str) -> Option<(KeySet, RoleKeys)> {
        std::iter::once(&self.targets)
            .chain(self.delegated.values())
            .find_map(|t| {
                let d = t.delegations.as_ref()?;
                match &d.roles {
                    DelegatedRoles::List(l) => l
                        .iter()
                        .find(|r| r.name.as_str() == role)
                        .map(|r| (d.keys.clone(), r.keys.clone())),
                    DelegatedRoles::Succinct(s) => crate::path_match::is_succinct_bin(s, role)
                        .then(|| (d.keys.clone(), s.keys.clone())),
                }
            })
    }

    /// The next root version and expiry, as a signing run sets them.
    fn bump_root(&mut self, now: DateTime<Utc>) {
        self.root.header.version = self.root.header.version.saturating_add(1);
        self.root.header.expires = self.expires_for("root", self.lifetimes.root, now);
    }

    /// Who must sign a changed root: its own root role and the root clients trust now.
    fn root_authorities(&self) -> Vec<(KeySet, RoleKeys)> {
        let mut authorities = vec![(
            self.root.keys.clone(),
            self.root.role(TopRole::Root).clone(),
        )];
        if let Some(old) = &self.trusted_root {
            authorities.push((old.keys.clone(), old.role(TopRole::Root).clone()));
        }
        authorities
    }

    /// The changed root as [`RepoEditor::sign`] at `now` would sign it: the root and the
    /// canonical bytes its signatures cover, with who must sign (the new root role and the
    /// trusted one). `None` when the root is unchanged. Nothing is signed: this is what an
    /// offline ceremony exports, and [`RepoEditor::sign`] produces the same bytes as long as
    /// nothing else changes (fix the expiry with [`RepoEditor::set_expires`]).
    pub fn pending_root(&self, now: DateTime<Utc>) -> Option<PendingRoot> {
        if !self.dirty.contains("root") {
            return None;
        }
        let mut next = self.clone();
        next.bump_root(now);
        let canonical = json::to_canonical(&next.root.to_signed_json(self.dialect));
        Some(PendingRoot {
            authorities: next.root_authorities(),
            root: next.root,
            canonical,
        })
    }

    /// Refuses a signing run whose signers cannot meet a threshold of a role it would sign,
    /// before any signer is asked: a hardware signer's touch (or a passphrase) is not spent
    /// on a run that cannot complete.
    fn check_signers_cover(
        &self,
        signers: &[&dyn Signer],
        plan: SignPlan,
    ) -> Result<(), EditError> {
        let mut roles: Vec<(String, Vec<(KeySet, RoleKeys)>)> = Vec::new();
        let mut any = false;
        if self.dirty.contains("root") {
            roles.push(("root".into(), self.root_authorities()));
            any = true;
        }
        for name in self.delegated.keys().filter(|n| self.dirty.contains(*n)) {
            if let Some(edge) = self.edge_for(name) {
                roles.push((name.clone(), vec![edge]));
            }
            any = true;
        }
        if self.dirty.contains("targets") {
            roles.push((
                "targets".into(),
                vec![(
                    self.root.keys.clone(),
                    self.root.role(TopRole::Targets).clone(),
                )],
            ));
            any = true;
        }
        let top = |role: TopRole| (self.root.keys.clone(), self.root.role(role).clone());
        if plan.snapshot && (any || self.dirty.contains("snapshot") || self.snapshot.is_none()) {
            roles.push(("snapshot".into(), vec![top(TopRole::Snapshot)]));
            any = true;
        }
        if plan.timestamp && (any || self.dirty.contains("timestamp") || self.timestamp.is_none()) {
            roles.push(("timestamp".into(), vec![top(TopRole::Timestamp)]));
        }
        let available: BTreeSet<[u8; 32]> =
            signers.iter().map(|s| s.public_key().identity()).collect();
        for (role, authorities) in roles {
            for (keys, rk) in authorities {
                let covered: BTreeSet<[u8; 32]> = rk
                    .keyids
                    .iter()
                    .filter_map(|id| keys.get(id))
                    .map(|k| k.public_key().identity())
                    .filter(|id| available.contains(id))
                    .collect();
                if u32::try_from(covered.len()).is_ok_and(|n| n < rk.threshold.get()) {
                    return Err(EditError::WouldNotVerify {
                        role: role.clone(),
                        source: UpdateError::Threshold {
                            role,
                            valid: covered.len(),
                            threshold: rk.threshold.get(),
                        },
                    });
                }
            }
        }
        Ok(())
    }

    /// Signs every changed role, then (per `plan`) a new snapshot and timestamp, with the
    /// `signers` whose keys the roles authorise. Returns the new files in dependency order
    /// (root, delegated roles, targets, snapshot, timestamp). On error nothing changes.
    ///
    /// # Errors
    /// [`EditError::WouldNotVerify`] when the available signers do not meet a threshold,
    /// [`EditError::Sign`] when a signer fails, [`EditError::ThresholdExceedsKeys`].
    pub fn sign(
        &mut self,
        signers: &[&dyn Signer],
        now: DateTime<Utc>,
        plan: SignPlan,
    ) -> Result<Vec<SignedFile>, EditError> {
        let mut next = self.clone();
        let files = next.sign_inner(signers, now, plan)?;
        *self = next;
        Ok(files)
    }

    fn sign_inner(
        &mut self,
        signers: &[&dyn Signer],
        now: DateTime<Utc>,
        plan: SignPlan,
    ) -> Result<Vec<SignedFile>, EditError> {
        let d = self.dialect;
        let mut files = Vec::new();
        for r in TopRole::ALL {
            check_threshold(r.as_str(), self.root.role(r))?;
        }
        self.check_signers_cover(signers, plan)?;
        if self.dirty.contains("root") {
            self.bump_root(now);
            let authorities = self.root_authorities();
            let bytes = sign_role(d, "root", &self.root, signers, &authorities)?;
            self.published.insert("root".into(), bytes.clone());
            files.push(SignedFile {
                role: "root".into(),
                version: self.root.header.version,
                bytes,
            });
            self.trusted_root = Some(self.root.clone());
        }
        let dirty_delegated: Vec<String> = self
            .delegated
            .keys()
            .filter(|n| self.dirty.contains(*n))
            .cloned()
            .collect();
        for name in dirty_delegated {
            let (keys, rk) = self
                .edge_for(&name)
                .ok_or_else(|| EditError::UnknownRole { role: name.clone() })?;
            check_threshold(&name, &rk)?;
            let expires = self.expires_for(&name, self.lifetimes.targets, now);
            let Some(t) = self.delegated.get_mut(&name) else {
                continue;
            };
            t.header.version = t.header.version.saturating_add(1);
            t.header.expires = expires;
            let t = t.clone();
            let bytes = sign_role(d, &name, &t, signers, &[(keys, rk)])?;
            self.published.insert(name.clone(), bytes.clone());
            files.push(SignedFile {
                role: name,
                version: t.header.version,
                bytes,
            });
        }
        if self.dirty.contains("targets") {
            self.targets.header.version = self.targets.header.version.saturating_add(1);
            self.targets.header.expires = self.expires_for("targets", self.lifetimes.targets, now);
            let auth = [(
                self.root.keys.clone(),
                self.root.role(TopRole::Targets).clone(),
            )];
            let bytes = sign_role(d, "targets", &self.targets, signers, &auth)?;
            self.published.insert("targets".into(), bytes.clone());
            files.push(SignedFile {
                role: "targets".into(),
                version: self.targets.header.version,
                bytes,
            });
        }
        if plan.snapshot
            && (!files.is_empty() || self.dirty.contains("snapshot") || self.snapshot.is_none())
        {
            let mut meta = BTreeMap::new();
            for (role, bytes) in &self.published {
                let version = match role.as_str() {
                    "root" if d == Dialect::TufSpec => continue,
                    "root" => self.root.header.version,
                    "targets" => self.targets.header.version,
                    other => match self.delegated.get(other) {
                        Some(t) => t.header.version,
                        None => continue,
                    },
                };
                meta.insert(role.clone(), meta_file(d, version, bytes));
            }
            let version = self
                .snapshot
                .as_ref()
                .map_or(0, |s| s.header.version)
                .saturating_add(1);
            let snapshot = Snapshot {
                header: Header::new(
                    version,
                    self.expires_for("snapshot", self.lifetimes.snapshot, now),
                ),
                meta,
                extra: self
                    .snapshot
                    .as_ref()
                    .map(|s| s.extra.clone())
                    .unwrap_or_default(),
            };
            let auth = [(
                self.root.keys.clone(),
                self.root.role(TopRole::Snapshot).clone(),
            )];
            let bytes = sign_role(d, "snapshot", &snapshot, signers, &auth)?;
            self.published.insert("snapshot".into(), bytes.clone());
            files.push(SignedFile {
                role: "snapshot".into(),
                version,
                bytes,
            });
            self.snapshot = Some(snapshot);
        }
        if plan.timestamp
            && (!files.is_empty() || self.dirty.contains("timestamp") || self.timestamp.is_none())
        {
            let (Some(snap), Some(snap_bytes)) = (&self.snapshot, self.published.get("snapshot"))
            else {
                return Err(EditError::Invalid {
                    role: "timestamp".into(),
                    reason: "no snapshot to describe",
                });
            };
            let version = self
                .timestamp
                .as_ref()
                .map_or(0, |t| t.header.version)
                .saturating_add(1);
            let ts = Timestamp {
                header: Header::new(
                    version,
                    self.expires_for("timestamp", self.lifetimes.timestamp, now),
                ),
                snapshot: meta_file(d, snap.header.version, snap_bytes),
                extra: self
                    .timestamp
                    .as_ref()
                    .map(|t| t.extra.clone())
                    .unwrap_or_default(),
            };
            let auth = [(
                self.root.keys.clone(),
                self.root.role(TopRole::Timestamp).clone(),
            )];
            let bytes = sign_role(d, "timestamp", &ts, signers, &auth)?;
            files.push(SignedFile {
                role: "timestamp".into(),
                version,
                bytes,
            });
            self.timestamp = Some(ts);
        }
        self.dirty.clear();
        self.expires_override.clear();
        Ok(files)
    }
}

/// What a referring role records about `bytes`: TUF: version, length, sha256; Notary:
/// length, sha256 and sha512 (as Go writes).
pub fn meta_file(dialect: Dialect, version: u64, bytes: &[u8]) -> MetaFile {
    let mut hashes = Hashes::new();
    let algs: &[&str] = match dialect {
        Dialect::TufSpec => &["sha256"],
        Dialect::Notary => &["sha256", "sha512"],
    };
    for alg in algs {
        if let Some(h) = digest(alg, bytes) {
            hashes.insert((*alg).to_owned(), h);
        }
    }
    MetaFile {
        version: (dialect == Dialect::TufSpec).then_some(version),
        length: u64::try_from(bytes.len()).ok(),
        hashes,
    }
}

fn check_threshold(role: &str, rk: &RoleKeys) -> Result<(), EditError> {
    let keys = rk.keyids.len();
    if u32::try_from(keys).is_ok_and(|k| k < rk.threshold.get()) {
        return Err(EditError::ThresholdExceedsKeys {
            role: role.into(),
            threshold: rk.threshold.get(),
            keys,
        });
    }
    Ok(())
}

/// Canonicalises `role`, signs it once with each signer whose key one of `authorities`
/// (key set, role keys) lists, writes the envelope, and checks the result against every
/// authority with the client's threshold function. The building block of [`RepoEditor::sign`],
/// public for servers that sign single roles (timestamp, snapshot).
///
/// # Errors
/// [`EditError::Sign`] when a signer fails, [`EditError::WouldNotVerify`] when the result
/// would not meet an authority's threshold.
pub fn sign_role<R: Role>(
    dialect: Dialect,
    name: &str,
    role: &R,
    signers: &[&dyn Signer],
    authorities: &[(KeySet, RoleKeys)],
) -> Result<Vec<u8>, EditError> {
    let signed = role.to_signed_json(dialect);
    let canonical = json::to_canonical(&signed);
    let mut sigs = Vec::new();
    let mut used = BTreeSet::new();
    for signer in signers {
        let identity = signer.public_key().identity();
        let keyids: BTreeSet<_> = authorities
            .iter()
            .flat_map(|(keys, rk)| {
                rk.keyids.iter().filter(move |id| {
                    keys.get(id)
                        .is_some_and(|k| k.public_key().identity() == identity)
                })
            })
            .copied()
            .filter(|id| !used.contains(id))
            .collect();
        if keyids.is_empty() {
            continue;
        }
        let sig = signer.sign(&canonical).map_err(|source| EditError::Sign {
            role: name.into(),
            source,
        })?;
        let wire = sig.to_wire(dialect);
        for id in keyids {
            used.insert(id);
            sigs.push(RawSignature {
                keyid: id.to_hex(),
                method: (dialect == Dialect::Notary)
                    .then(|| method_name(dialect, signer.public_key()).to_owned()),
                sig: Some(wire.clone()),
            });
        }
    }
    let bytes = write_envelope(dialect, &signed, &sigs);
    let limits = JsonLimits {
        max_bytes: usize::MAX,
        ..JsonLimits::default()
    };
    let parsed = Signed::<R>::parse(dialect, name, &bytes, &limits)?;
    for (keys, rk) in authorities {
        parsed
            .check_signatures(keys, rk)
            .map_err(|source| EditError::WouldNotVerify {
                role: name.into(),
                source,
            })?;
    }
    Ok(bytes)
}
