//! The verifying pull: Go `notary` 0.7's client order (reference §2.1) driving `tuf-core`'s
//! [`TrustedSet`]. All decisions are tuf-core's; this module does the I/O.
//!
//! Order: cached root (else the server's `root.json`, accepted under the collection's trust
//! pinning — see [`UpdateOptions`] — or on first use) → `timestamp.json` →
//! `snapshot.<sha256>.json` unless the cached snapshot is the one the timestamp names →
//! `targets.<sha256>.json` and delegations `<role>.<sha256>.json` unless the cached copy has
//! the hash the snapshot lists. When the snapshot names a root other than ours, or the
//! timestamp/snapshot do not verify against our root, the root chain is walked
//! (`<N+1>.root.json` until 404) and the pass is repeated once, as Go does.
//!
//! Cache policy: nothing is written unless the whole update succeeded; then every trusted file
//! whose bytes differ from the cache is written (root first, timestamp last). A rejected or
//! failed update leaves the cache byte-identical.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};
use tuf_core::crypto::{CertInfo, Key, KeyId};
use tuf_core::envelope::Signed;
use tuf_core::error::UpdateError;
use tuf_core::json::JsonLimits;
use tuf_core::name::Gun;
use tuf_core::role::{MetaFile, RoleKeys, Root, TopRole};
use tuf_core::trusted_set::{Limits, RepoConfig, TrustedSet};

use crate::remote::{Remote, RemoteError};

/// Where the trusted metadata of one collection is kept between runs (keyed by role name:
/// `root`, `timestamp`, `snapshot`, `targets`, `targets/releases`, …).
pub trait MetadataCache {
    /// The cached bytes of `role`, if any.
    fn read(&self, role: &str) -> Option<Vec<u8>>;
    /// Replaces the cached bytes of `role`.
    ///
    /// # Errors
    /// Any I/O error.
    fn write(&mut self, role: &str, bytes: &[u8]) -> Result<(), std::io::Error>;
}

/// An in-memory [`MetadataCache`] (tests, one-shot commands).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryCache {
    /// Cached files by role name.
    pub files: BTreeMap<String, Vec<u8>>,
}

impl MetadataCache for MemoryCache {
    fn read(&self, role: &str) -> Option<Vec<u8>> {
        self.files.get(role).cloned()
    }
    fn write(&mut self, role: &str, bytes: &[u8]) -> Result<(), std::io::Error> {
        self.files.insert(role.to_owned(), bytes.to_vec());
        Ok(())
    }
}

/// How to update.
///
/// Trust pinning (Go `notary` 0.7 `trustpinning.ValidateRoot` / `NewTrustPinChecker`) applies
/// only when no root is cached, to the server's `root.json`; a cached root is itself the pin
/// and later roots are accepted by the root chain (signed by the previous root), as in Go's
/// `bootstrapClient`. Precedence, one mode per collection: [`Self::pinned_root_keys`], else
/// [`Self::pinned_ca`], else trust on first use if [`Self::tofu`].
#[derive(Clone, Debug)]
pub struct UpdateOptions {
    /// Size and work caps (also the download caps).
    pub limits: Limits,
    /// Trust the server's `root.json` when no root is cached and no pin applies (Go's default
    /// behaviour; `trust_pinning.disable_tofu` is `tofu: false`). When false and nothing is
    /// pinned, the update fails before any request.
    pub tofu: bool,
    /// `trust_pinning.certs`: if non-empty, the first-use root must list root certificates
    /// with one of these key ids (hex, the `ecdsa-x509` key id as in `root.json`), and a
    /// threshold of root signatures must come from those pinned certificates.
    pub pinned_root_keys: Vec<String>,
    /// `trust_pinning.ca`: if non-empty (and no key ids are pinned), the first-use root's
    /// certificates count only if signed by one of these CA certificates (`ecdsa-x509` /
    /// `rsa-x509` keys, see [`Key::from_certificate_pem`]) with both currently valid; a
    /// threshold of root signatures must come from such certificates.
    pub pinned_ca: Vec<Key>,
    /// When the server cannot be reached, use the cached metadata if it is still valid.
    pub offline_ok: bool,
}

impl Default for UpdateOptions {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            tofu: true,
            pinned_root_keys: Vec::new(),
            pinned_ca: Vec::new(),
            offline_ok: false,
        }
    }
}

impl UpdateOptions {
    /// Whether a `certs` or `ca` pin applies.
    fn pinned(&self) -> bool {
        !self.pinned_root_keys.is_empty() || !self.pinned_ca.is_empty()
    }
}

/// A successful update.
#[derive(Debug)]
pub struct UpdateOutcome {
    /// The verified metadata, ready for `list_targets`/`find_target`.
    pub set: TrustedSet,
    /// The server was unreachable and the (still valid) cache was used.
    pub offline: bool,
    /// Roles whose cached bytes were written by this update.
    pub written: Vec<String>,
}

/// Why an update failed. Messages name the file and the reason.
#[derive(Debug, thiserror::Error)]
pub enum UpdateFailure {
    /// No root is cached, nothing is pinned for the collection and trust on first use is
    /// disabled (no request was made). Go: `invalid trust pinning specified`.
    #[error("could not validate the path to a trusted root: trust data for {gun} is not pinned (trust_pinning) and TOFU is disabled (trust_pinning.disable_tofu)")]
    NoTrustedRoot {
        /// The collection.
        gun: String,
    },
    /// 404 on first contact: the server has no such collection.
    #[error("{host} does not have trust data for {gun}")]
    NoTrustData {
        /// `host:port`.
        host: String,
        /// The collection.
        gun: String,
    },
    /// The server is unreachable and offline use was not allowed.
    #[error("client is offline: cannot reach {host}")]
    Offline {
        /// `host:port`.
        host: String,
    },
    /// Downloading a file failed.
    #[error("downloading {file}: {source}")]
    Remote {
        /// The file (`timestamp.json`, `snapshot.<sha256>.json`, …).
        file: String,
        /// Why.
        #[source]
        source: RemoteError,
    },
    /// A downloaded (or cached, where the cache copy is used as is) file was rejected.
    #[error("{file} rejected: {source}")]
    Verify {
        /// The file.
        file: String,
        /// tuf-core's reason (names the role).
        #[source]
        source: UpdateError,
    },
    /// The cached copy of a role is not valid (bad local root, or offline with stale data).
    #[error("cached {role} is not valid: {source}")]
    CachedInvalid {
        /// The role.
        role: String,
        /// tuf-core's reason.
        #[source]
        source: UpdateError,
    },
    /// Offline, and a role needed to verify the cache is not cached.
    #[error("the server is unreachable and no cached {role} is available")]
    CachedMissing {
        /// The role.
        role: String,
    },
    /// The root role lists none of the pinned keys (as a valid root certificate).
    #[error("could not validate the path to a trusted root for {gun}: root.json lists no valid root certificate with any of the pinned root key ids {pinned:?} (unable to match any certificates to trust_pinning config)")]
    RootNotPinned {
        /// The collection.
        gun: String,
        /// The pinned key ids.
        pinned: Vec<String>,
    },
    /// The first-use root does not satisfy the CA pin, or its pinned certificates do not
    /// reach the root threshold.
    #[error("could not validate the path to a trusted root for {gun}: {reason}")]
    RootPinning {
        /// The collection.
        gun: String,
        /// Why.
        reason: String,
    },
    /// The snapshot names a root that the root chain does not reach.
    #[error("the snapshot names root sha256 {expected}, but the trusted root chain ends at version {version} with sha256 {got}")]
    RootMismatch {
        /// sha256 hex the snapshot lists.
        expected: String,
        /// sha256 hex of the trusted root.
        got: String,
        /// Version of the trusted root.
        version: u64,
    },
    /// A parent lists a file without a sha256 hash, so it cannot be fetched by checksum.
    #[error("{role}: its parent lists no sha256 hash")]
    MissingHash {
        /// The role.
        role: String,
    },
    /// More delegated roles than `limits.max_listed_roles`.
    #[error("more than {max} delegated roles")]
    TooManyDelegations {
        /// The cap.
        max: u32,
    },
    /// Writing the cache failed (after a successful verification).
    #[error("writing cached {role}: {source}")]
    Cache {
        /// The role.
        role: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// Why one pass stopped.
enum PassError {
    /// The snapshot lists a root whose hash is not ours.
    RootChanged { expected: String },
    /// Timestamp or snapshot failed verification (maybe a key rotation): retry after
    /// walking the root chain.
    Retryable(Box<UpdateFailure>),
    /// Anything else.
    Fatal(Box<UpdateFailure>),
}

impl From<UpdateFailure> for PassError {
    fn from(f: UpdateFailure) -> Self {
        PassError::Fatal(Box::new(f))
    }
}

/// Updates the trusted metadata of `gun` from `remote` into `cache` (see the module docs),
/// with `now` as the reference time of the whole cycle.
///
/// Requests: `GET /v2/` first (as Go), then only what is needed. A cached root that does not
/// verify fails before any request.
///
/// # Errors
/// [`UpdateFailure`]; the cache is then unchanged.
pub fn update(
    remote: &Remote,
    cache: &mut dyn MetadataCache,
    gun: &Gun,
    now: DateTime<Utc>,
    opts: &UpdateOptions,
) -> Result<UpdateOutcome, UpdateFailure> {
    let config = RepoConfig {
        limits: opts.limits.clone(),
        ..RepoConfig::notary(gun.clone())
    };
    let cached_root = cache.read("root");
    if let Some(bytes) = &cached_root {
        // Spec 5.2 / W2: a bad local root fails before any network request (no silent TOFU).
        TrustedSet::new(config.clone(), bytes, now).map_err(|source| {
            UpdateFailure::CachedInvalid {
                role: "root".into(),
                source,
            }
        })?;
    } else if !opts.tofu && !opts.pinned() {
        return Err(UpdateFailure::NoTrustedRoot {
            gun: gun.as_str().to_owned(),
        });
    }

    let result = match remote.ping() {
        Ok(()) => online_update(remote, &*cache, gun, &config, now, opts, cached_root),
        Err(e) => Err(UpdateFailure::Remote {
            file: "/v2/".into(),
            source: e,
        }),
    };
    match result {
        Ok(set) => {
            let written = persist(cache, &set)?;
            Ok(UpdateOutcome {
                set,
                offline: false,
                written,
            })
        }
        Err(f) if opts.offline_ok && unreachable(&f) => {
            // A cached root is the pin (Go ignores trust_pinning then).
            let set = from_cache(&*cache, &config, now)?;
            Ok(UpdateOutcome {
                set,
                offline: true,
                written: Vec::new(),
            })
        }
        Err(UpdateFailure::Remote {
            source: RemoteError::Offline { host },
            ..
        }) => Err(UpdateFailure::Offline { host }),
        Err(f) => Err(f),
    }
}

fn unreachable(f: &UpdateFailure) -> bool {
    matches!(f, UpdateFailure::Remote { source, .. } if source.is_unreachable())
}

fn online_update(
    remote: &Remote,
    cache: &dyn MetadataCache,
    gun: &Gun,
    config: &RepoConfig,
    now: DateTime<Utc>,
    opts: &UpdateOptions,
    cached_root: Option<Vec<u8>>,
) -> Result<TrustedSet, UpdateFailure> {
    let root_bytes = match cached_root {
        Some(b) => b,
        None => {
            let bytes = remote
                .get_meta(gun.as_str(), "root", config.limits.root_bytes)
                .map_err(|e| remote_failure(remote, gun, "root.json", e))?;
            let set = TrustedSet::new(config.clone(), &bytes, now).map_err(|source| {
                UpdateFailure::Verify {
                    file: "root.json".into(),
                    source,
                }
            })?;
            check_pinned(&set, gun, opts, now)?;
            bytes
        }
    };
    let new_set = || {
        TrustedSet::new(config.clone(), &root_bytes, now).map_err(|source| {
            UpdateFailure::CachedInvalid {
                role: "root".into(),
                source,
            }
        })
    };
    let first = match one_pass(remote, cache, gun, new_set()?) {
        Ok(set) => return Ok(set),
        Err(PassError::Fatal(f)) => return Err(*f),
        Err(e) => e,
    };
    // The root changed (or timestamp/snapshot keys rotated): walk the root chain, once.
    let mut set = new_set()?;
    let rotations = walk_roots(remote, gun, &mut set, &config.limits)?;
    if rotations == 0 {
        return Err(match first {
            PassError::RootChanged { expected } => root_mismatch(&set, expected),
            PassError::Retryable(f) | PassError::Fatal(f) => *f,
        });
    }
    let walked = (
        sha256_hex(set.root().raw_bytes()),
        set.root().header.version,
    );
    match one_pass(remote, cache, gun, set) {
        Ok(set) => Ok(set),
        Err(PassError::RootChanged { expected }) => Err(UpdateFailure::RootMismatch {
            expected,
            got: walked.0,
            version: walked.1,
        }),
        Err(PassError::Retryable(f) | PassError::Fatal(f)) => Err(*f),
    }
}

fn root_mismatch(set: &TrustedSet, expected: String) -> UpdateFailure {
    UpdateFailure::RootMismatch {
        expected,
        got: sha256_hex(set.root().raw_bytes()),
        version: set.root().header.version,
    }
}

/// `<N+1>.root.json` until 404 or `max_root_rotations`; returns how many were applied.
fn walk_roots(
    remote: &Remote,
    gun: &Gun,
    set: &mut TrustedSet,
    limits: &Limits,
) -> Result<u32, UpdateFailure> {
    let mut applied = 0;
    while applied < limits.max_root_rotations {
        let next = set.root().header.version.saturating_add(1);
        let file = format!("{next}.root.json");
        let bytes = match remote.get_meta_by_version(gun.as_str(), "root", next, limits.root_bytes)
        {
            Ok(b) => b,
            Err(RemoteError::NotFound { .. }) => break,
            Err(source) => return Err(UpdateFailure::Remote { file, source }),
        };
        set.update_root(&bytes)
            .map_err(|source| UpdateFailure::Verify { file, source })?;
        applied += 1;
    }
    Ok(applied)
}

/// timestamp → snapshot → (root check) → targets → delegations.
fn one_pass(
    remote: &Remote,
    cache: &dyn MetadataCache,
    gun: &Gun,
    mut set: TrustedSet,
) -> Result<TrustedSet, PassError> {
    let limits = set.config().limits.clone();
    if let Some(b) = cache.read("timestamp") {
        // Only a rollback reference; discarded if it no longer verifies (key rotation).
        let _ = set.load_cached_timestamp(&b);
    }
    let ts = remote
        .get_meta(gun.as_str(), "timestamp", limits.timestamp_bytes)
        .map_err(|e| remote_failure(remote, gun, "timestamp.json", e))?;
    set.update_timestamp(&ts).map_err(|source| {
        retryable_if_signature(UpdateFailure::Verify {
            file: "timestamp.json".into(),
            source,
        })
    })?;
    // An unchanged version keeps the trusted (possibly cached) timestamp without an expiry
    // check in tuf-core; a replay of the same expired timestamp must not freeze us (W16).
    if let Some(t) = set.timestamp() {
        if t.header.expires <= set.now() {
            return Err(UpdateFailure::Verify {
                file: "timestamp.json".into(),
                source: UpdateError::Expired {
                    role: "timestamp".into(),
                    expires: t.header.expires,
                    now: set.now(),
                },
            }
            .into());
        }
    }

    if let Some(b) = cache.read("snapshot") {
        let _ = set.load_cached_snapshot(&b);
    }
    if !set.snapshot_is_current() {
        let meta = set
            .timestamp()
            .map(|t| t.snapshot.clone())
            .unwrap_or_else(empty_meta);
        let sum = sha256_of(&meta, "snapshot")?;
        let file = format!("snapshot.{sum}.json");
        let cap = cap(&meta, limits.snapshot_bytes, &limits);
        let bytes = remote
            .get_meta_by_checksum(gun.as_str(), "snapshot", &sum, cap)
            .map_err(|source| UpdateFailure::Remote {
                file: file.clone(),
                source,
            })?;
        set.update_snapshot(&bytes)
            .map_err(|source| retryable_if_signature(UpdateFailure::Verify { file, source }))?;
    }

    // Notary snapshots list root: a different hash means the root changed.
    if let Some(root_meta) = set.snapshot().and_then(|s| s.meta.get("root")) {
        if let Some(expected) = root_meta.hashes.get("sha256") {
            if expected.as_slice() != Sha256::digest(set.root().raw_bytes()).as_slice() {
                return Err(PassError::RootChanged {
                    expected: hex::encode(expected),
                });
            }
        }
    }

    let bytes = fetch_listed(remote, cache, gun, &set, "targets", &limits)?;
    set.update_targets(&bytes)
        .map_err(|source| UpdateFailure::Verify {
            file: "targets".into(),
            source,
        })?;

    let mut loaded: u32 = 0;
    // Go's `downloadTargets`: a delegated role that is expired or lacks its threshold of
    // signatures is skipped with a warning (its subtree is not loaded).
    let mut skipped: Vec<(String, String)> = Vec::new();
    while let Some((delegator, role)) = set
        .pending_delegations()
        .into_iter()
        .find(|p| !skipped.contains(p))
    {
        if loaded >= limits.max_listed_roles {
            return Err(UpdateFailure::TooManyDelegations {
                max: limits.max_listed_roles,
            }
            .into());
        }
        let bytes = fetch_listed(remote, cache, gun, &set, &role, &limits)?;
        match set.update_delegated(&delegator, &role, &bytes) {
            Ok(()) => {}
            Err(source @ (UpdateError::Threshold { .. } | UpdateError::Expired { .. })) => {
                let ts = set.now().format("%Y-%m-%dT%H:%M:%SZ");
                eprintln!("time=\"{ts}\" level=warning msg=\"Error getting {role}: {source}\"");
                skipped.push((delegator, role));
            }
            Err(source) => return Err(UpdateFailure::Verify { file: role, source }.into()),
        }
        loaded += 1;
    }
    Ok(set)
}

/// Failures that a root rotation could explain.
fn retryable_if_signature(f: UpdateFailure) -> PassError {
    match &f {
        UpdateFailure::Verify {
            source: UpdateError::Threshold { .. } | UpdateError::RootCertificate { .. },
            ..
        } => PassError::Retryable(Box::new(f)),
        _ => PassError::Fatal(Box::new(f)),
    }
}

/// The bytes of a role the snapshot lists: the cached copy if its sha256 is the listed one,
/// else `<role>.<sha256>.json` from the server, capped at the listed length.
fn fetch_listed(
    remote: &Remote,
    cache: &dyn MetadataCache,
    gun: &Gun,
    set: &TrustedSet,
    role: &str,
    limits: &Limits,
) -> Result<Vec<u8>, UpdateFailure> {
    let meta = set
        .snapshot()
        .and_then(|s| s.meta.get(role).cloned())
        .ok_or_else(|| UpdateFailure::Verify {
            file: role.to_owned(),
            source: UpdateError::NotInSnapshot {
                role: role.to_owned(),
            },
        })?;
    let sum = sha256_of(&meta, role)?;
    if let Some(cached) = cache.read(role) {
        if sha256_hex(&cached) == sum {
            return Ok(cached);
        }
    }
    let default = limits.targets_bytes;
    remote
        .get_meta_by_checksum(gun.as_str(), role, &sum, cap(&meta, default, limits))
        .map_err(|source| UpdateFailure::Remote {
            file: format!("{role}.{sum}.json"),
            source,
        })
}

fn cap(meta: &MetaFile, default: u64, limits: &Limits) -> u64 {
    meta.length.unwrap_or(default).min(limits.max_file_bytes)
}

fn sha256_of(meta: &MetaFile, role: &str) -> Result<String, UpdateFailure> {
    meta.hashes
        .get("sha256")
        .map(hex::encode)
        .ok_or_else(|| UpdateFailure::MissingHash {
            role: role.to_owned(),
        })
}

fn empty_meta() -> MetaFile {
    MetaFile {
        version: None,
        length: None,
        hashes: Default::default(),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// 404 on `root.json`/`timestamp.json` means the server has no such collection.
fn remote_failure(remote: &Remote, gun: &Gun, file: &str, e: RemoteError) -> UpdateFailure {
    match e {
        RemoteError::NotFound { .. } => UpdateFailure::NoTrustData {
            host: remote.host().to_owned(),
            gun: gun.as_str().to_owned(),
        },
        source => UpdateFailure::Remote {
            file: file.to_owned(),
            source,
        },
    }
}

/// Go's `ValidateRoot` with trust pinning for a first-use root (`set` holds it, already
/// self-verified): keep the root certificates the pin accepts (`certsCheck`: key id listed;
/// `caCheck`: signed by a pinned CA; both only among certificates valid at `now`), fail if
/// none, then require the root threshold of signatures from the kept certificates.
fn check_pinned(
    set: &TrustedSet,
    gun: &Gun,
    opts: &UpdateOptions,
    now: DateTime<Utc>,
) -> Result<(), UpdateFailure> {
    if !opts.pinned() {
        return Ok(());
    }
    let root = set.root();
    let role = root.role(TopRole::Root);
    let certs = role.keyids.iter().filter_map(|id| {
        let cert = root.keys.get(id)?.certificate()?;
        cert_valid_at(cert, now).then_some((id, cert))
    });
    let accepted: Vec<KeyId> = if opts.pinned_root_keys.is_empty() {
        let cas: Vec<(&Key, &CertInfo)> = opts
            .pinned_ca
            .iter()
            .filter_map(|k| Some((k, k.certificate()?)))
            .filter(|(_, c)| cert_valid_at(c, now))
            .collect();
        if cas.is_empty() {
            return Err(UpdateFailure::RootPinning {
                gun: gun.as_str().to_owned(),
                reason: "invalid CA certs provided: no pinned CA certificate (trust_pinning.ca) \
                         is currently valid"
                    .into(),
            });
        }
        let accepted: Vec<KeyId> = certs
            .filter(|(_, cert)| {
                cert_current(cert, now)
                    && cas.iter().any(|(ca, ca_cert)| {
                        cert_current(ca_cert, now) && cert.verify_signature(ca.public_key()).is_ok()
                    })
            })
            .map(|(id, _)| *id)
            .collect();
        if accepted.is_empty() {
            return Err(UpdateFailure::RootPinning {
                gun: gun.as_str().to_owned(),
                reason: "no root certificate in root.json is signed by the pinned CA \
                         (trust_pinning.ca); unable to match any certificates to \
                         trust_pinning config"
                    .into(),
            });
        }
        accepted
    } else {
        let accepted: Vec<KeyId> = certs
            .filter(|(id, _)| {
                let hex = id.to_hex();
                opts.pinned_root_keys
                    .iter()
                    .any(|p| p.trim().eq_ignore_ascii_case(&hex))
            })
            .map(|(id, _)| *id)
            .collect();
        if accepted.is_empty() {
            return Err(UpdateFailure::RootNotPinned {
                gun: gun.as_str().to_owned(),
                pinned: opts.pinned_root_keys.clone(),
            });
        }
        accepted
    };
    // Threshold from the pinned certificates only (Go verifies with `certsFromRoot =
    // validPinnedCerts` and the root role's threshold).
    let limits = JsonLimits {
        max_bytes: usize::try_from(set.config().limits.root_bytes).unwrap_or(usize::MAX),
        max_depth: set.config().limits.max_json_depth,
    };
    let signed: Signed<Root> =
        Signed::parse(set.config().dialect, "root", root.raw_bytes(), &limits).map_err(|e| {
            UpdateFailure::Verify {
                file: "root.json".into(),
                source: e.into(),
            }
        })?;
    let pinned_role = RoleKeys {
        keyids: accepted,
        threshold: role.threshold,
    };
    signed
        .check_signatures(&root.keys, &pinned_role)
        .map_err(|e| UpdateFailure::RootPinning {
            gun: gun.as_str().to_owned(),
            reason: format!(
                "failed to validate integrity of roots: too few signatures by pinned root \
                 certificates ({e})"
            ),
        })
}

/// Go's `ValidateCertificate(cert, true)` checks we can make: not SHA-1 signed, not expired,
/// and not starting more than a day from now (Go's one day of leeway).
fn cert_valid_at(cert: &CertInfo, now: DateTime<Utc>) -> bool {
    !cert.sha1_signature
        && cert.not_before <= now + chrono::Duration::days(1)
        && now <= cert.not_after
}

/// `x509.Verify`'s date check: strictly within the validity period.
fn cert_current(cert: &CertInfo, now: DateTime<Utc>) -> bool {
    cert.not_before <= now && now <= cert.not_after
}

/// Offline: the cached files must still verify as a whole at `now` (expired → error).
fn from_cache(
    cache: &dyn MetadataCache,
    config: &RepoConfig,
    now: DateTime<Utc>,
) -> Result<TrustedSet, UpdateFailure> {
    let read = |role: &str| {
        cache
            .read(role)
            .ok_or_else(|| UpdateFailure::CachedMissing {
                role: role.to_owned(),
            })
    };
    let invalid = |role: &str| {
        let role = role.to_owned();
        move |source| UpdateFailure::CachedInvalid { role, source }
    };
    let mut set = TrustedSet::new(config.clone(), &read("root")?, now).map_err(invalid("root"))?;
    set.update_timestamp(&read("timestamp")?)
        .map_err(invalid("timestamp"))?;
    set.update_snapshot(&read("snapshot")?)
        .map_err(invalid("snapshot"))?;
    set.update_targets(&read("targets")?)
        .map_err(invalid("targets"))?;
    let mut loaded: u32 = 0;
    while let Some((delegator, role)) = set.pending_delegations().into_iter().next() {
        if loaded >= config.limits.max_listed_roles {
            return Err(UpdateFailure::TooManyDelegations {
                max: config.limits.max_listed_roles,
            });
        }
        let bytes = read(&role)?;
        set.update_delegated(&delegator, &role, &bytes)
            .map_err(invalid(&role))?;
        loaded += 1;
    }
    Ok(set)
}

/// Writes every trusted file whose bytes differ from the cache: root, delegations, targets,
/// snapshot, timestamp (last, so an interrupted write looks stale and is re-checked).
fn persist(cache: &mut dyn MetadataCache, set: &TrustedSet) -> Result<Vec<String>, UpdateFailure> {
    let mut files: Vec<(String, &[u8])> = vec![("root".into(), set.root().raw_bytes())];
    for ((_, role), v) in set.delegated_roles() {
        if !files.iter().any(|(r, _)| r == role) {
            files.push((role.clone(), v.raw_bytes()));
        }
    }
    if let Some(t) = set.targets() {
        files.push(("targets".into(), t.raw_bytes()));
    }
    if let Some(s) = set.snapshot() {
        files.push(("snapshot".into(), s.raw_bytes()));
    }
    if let Some(t) = set.timestamp() {
        files.push(("timestamp".into(), t.raw_bytes()));
    }
    let mut written = Vec::new();
    for (role, bytes) in files {
        if cache.read(&role).as_deref() == Some(bytes) {
            continue;
        }
        cache
            .write(&role, bytes)
            .map_err(|source| UpdateFailure::Cache {
                role: role.clone(),
                source,
            })?;
        written.push(role);
    }
    Ok(written)
}
