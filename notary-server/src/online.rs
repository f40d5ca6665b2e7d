//! Server-held timestamp and snapshot keys, and the metadata the server signs with them.
//!
//! Keys are ed25519 (as Go's local trust service makes them), generated on demand and sealed
//! by the [`Vault`]. At most one *pending* key (held but not named by the stored root) exists
//! per GUN and role: `GET <role>.key` returns it rather than minting another on every call.

use std::collections::BTreeMap;

use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use tuf_core::crypto::{Key, PublicKey, SoftwareSigner};
use tuf_core::editor::{meta_file, sign_role};
use tuf_core::json::to_canonical;
use tuf_core::role::{Header, MetaFile, Root, Snapshot, Timestamp, TopRole};
use tuf_core::Dialect;
use zeroize::Zeroizing;

use crate::storage::{MetadataStore, NewFile, StoreError, StoredKey};
use crate::vault::{Vault, VaultError};

/// Lifetime of a server-signed snapshot (Go Notary's default: 3 years).
pub const SNAPSHOT_LIFETIME_DAYS: i64 = 3 * 365;
/// Lifetime of a server-signed timestamp (Go Notary's default: 14 days).
pub const TIMESTAMP_LIFETIME_DAYS: i64 = 14;
/// A timestamp is re-signed once less than this much of its life is left (Go waits until it
/// has expired, which makes every client fail until the next request re-signs it).
pub const TIMESTAMP_REFRESH_DAYS: i64 = 7;

/// Failures of server-side signing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OnlineError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A sealed key could not be opened.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The server does not hold a key the root names for this role.
    #[error("the server does not hold the {role} key named in root")]
    NoKey {
        /// `timestamp` or `snapshot`.
        role: &'static str,
    },
    /// A stored key is unusable.
    #[error("stored {role} key is invalid")]
    BadKey {
        /// Role.
        role: &'static str,
    },
    /// Signing failed (tuf-core refused to emit).
    #[error("signing {role}: {reason}")]
    Sign {
        /// Role.
        role: &'static str,
        /// Why.
        reason: String,
    },
}

/// The Notary key id of a raw ed25519 public key.
pub fn key_id_of(public: &[u8]) -> Option<String> {
    let pk = PublicKey::ed25519_from_bytes(public).ok()?;
    Some(Key::from_public_key(Dialect::Notary, pk).key_id().to_hex())
}

/// The JSON answered for `GET <role>.key`: Notary: what Go notary-server answers (note
/// `public` before `private`); TUF 1.0: the key as a root lists it (canonical JSON, hex
/// public key).
pub fn key_json(dialect: Dialect, k: &StoredKey) -> String {
    match (dialect, PublicKey::ed25519_from_bytes(&k.public)) {
        (Dialect::TufSpec, Ok(pk)) => {
            let key = Key::from_public_key(Dialect::TufSpec, pk);
            String::from_utf8_lossy(&to_canonical(&key.to_json())).into_owned()
        }
        _ => format!(
            "{{\"keytype\":\"{}\",\"keyval\":{{\"public\":\"{}\",\"private\":null}}}}",
            k.algorithm,
            base64::engine::general_purpose::STANDARD.encode(&k.public)
        ),
    }
}

/// Whether `root` names the held key `k` for `role` (compared by public key, so the key id
/// spelling of either dialect matches).
fn named(root: Option<&Root>, role: TopRole, k: &StoredKey) -> bool {
    let Ok(pk) = PublicKey::ed25519_from_bytes(&k.public) else {
        return false;
    };
    root.is_some_and(|r| r.names_key(role, &pk))
}

fn top_role(role: &str) -> Option<TopRole> {
    match role {
        "timestamp" => Some(TopRole::Timestamp),
        "snapshot" => Some(TopRole::Snapshot),
        _ => None,
    }
}

/// Generates and stores a new key for `gun`/`role`, dropping other pending keys.
async fn create_key<S: MetadataStore>(
    store: &S,
    vault: &Vault,
    gun: &str,
    role: &str,
    root: Option<&Root>,
    existing: &[StoredKey],
) -> Result<StoredKey, OnlineError> {
    let mut seed = Zeroizing::new([0u8; 32]);
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, seed.as_mut());
    let signer = SoftwareSigner::ed25519_from_seed(*seed);
    let label = if role == "snapshot" {
        "snapshot"
    } else {
        "timestamp"
    };
    let public = match tuf_core::crypto::Signer::public_key(&signer) {
        PublicKey::Ed25519(vk) => vk.to_bytes().to_vec(),
        _ => return Err(OnlineError::BadKey { role: label }),
    };
    let key_id = key_id_of(&public).ok_or(OnlineError::BadKey { role: label })?;
    let key = StoredKey {
        gun: gun.to_owned(),
        role: role.to_owned(),
        key_id,
        algorithm: "ed25519".into(),
        public,
        sealed_private: vault.seal(seed.as_ref())?,
        created_at: Utc::now(),
    };
    let tr = top_role(role);
    let drop: Vec<String> = existing
        .iter()
        .filter(|k| !tr.is_some_and(|r| named(root, r, k)))
        .map(|k| k.key_id.clone())
        .collect();
    store.insert_key(key.clone(), drop).await?;
    Ok(key)
}

/// The key for `GET <role>.key` (`rotate == false`: the held key the root names, else the
/// pending one, else a new one) or `POST <role>.key` (`rotate == true`: a new pending key,
/// replacing any other pending one).
pub async fn server_key<S: MetadataStore>(
    store: &S,
    vault: &Vault,
    gun: &str,
    role: &str,
    root: Option<&Root>,
    rotate: bool,
) -> Result<StoredKey, OnlineError> {
    let keys = store.keys(gun, role).await?;
    if let (false, Some(tr)) = (rotate, top_role(role)) {
        let in_use = keys.iter().find(|k| named(root, tr, k));
        if let Some(k) = in_use.or_else(|| keys.iter().find(|k| !named(root, tr, k))) {
            return Ok(k.clone());
        }
    }
    create_key(store, vault, gun, role, root, &keys).await
}

/// The public keys the server holds for `gun`/`role`.
pub async fn held_public_keys<S: MetadataStore>(
    store: &S,
    gun: &str,
    role: &str,
) -> Result<Vec<PublicKey>, OnlineError> {
    Ok(store
        .keys(gun, role)
        .await?
        .iter()
        .filter_map(|k| PublicKey::ed25519_from_bytes(&k.public).ok())
        .collect())
}

/// A signer for the held key that `root` names for `role`.
pub async fn signer_for<S: MetadataStore>(
    store: &S,
    vault: &Vault,
    gun: &str,
    role: TopRole,
    root: &Root,
) -> Result<SoftwareSigner, OnlineError> {
    let name = role.as_str();
    let label = if role == TopRole::Snapshot {
        "snapshot"
    } else {
        "timestamp"
    };
    let keys = store.keys(gun, name).await?;
    let k = keys
        .iter()
        .find(|k| named(Some(root), role, k))
        .ok_or(OnlineError::NoKey { role: label })?;
    let seed = vault.unseal(&k.sealed_private)?;
    let seed: [u8; 32] = seed
        .as_slice()
        .try_into()
        .map_err(|_| OnlineError::BadKey { role: label })?;
    Ok(SoftwareSigner::ed25519_from_seed(seed))
}

/// What a Notary snapshot/timestamp records about a file: length, sha256 and sha512.
pub fn meta_for(bytes: &[u8]) -> MetaFile {
    meta_file(Dialect::Notary, 0, bytes)
}

fn sign_top<R: tuf_core::role::Role>(
    dialect: Dialect,
    role: TopRole,
    root: &Root,
    value: &R,
    signer: &SoftwareSigner,
) -> Result<Vec<u8>, OnlineError> {
    let label = if role == TopRole::Snapshot {
        "snapshot"
    } else {
        "timestamp"
    };
    let auth = [(root.keys.clone(), root.role(role).clone())];
    sign_role(dialect, label, value, &[signer], &auth).map_err(|e| OnlineError::Sign {
        role: label,
        reason: e.to_string(),
    })
}

/// Signs a new Notary snapshot listing `files` (role -> current bytes: root, targets,
/// delegations).
pub fn make_snapshot(
    root: &Root,
    files: &BTreeMap<String, Vec<u8>>,
    previous_version: u64,
    signer: &SoftwareSigner,
    now: DateTime<Utc>,
) -> Result<NewFile, OnlineError> {
    let meta = files
        .iter()
        .filter(|(role, _)| {
            role.as_str() == "root" || role.as_str() == "targets" || role.starts_with("targets/")
        })
        .map(|(role, bytes)| (role.clone(), meta_for(bytes)))
        .collect();
    make_snapshot_with(Dialect::Notary, root, meta, previous_version, signer, now)
}

/// Signs a new snapshot with the given `meta` (role -> what the snapshot records about it).
pub fn make_snapshot_with(
    dialect: Dialect,
    root: &Root,
    meta: BTreeMap<String, MetaFile>,
    previous_version: u64,
    signer: &SoftwareSigner,
    now: DateTime<Utc>,
) -> Result<NewFile, OnlineError> {
    let version = previous_version.saturating_add(1);
    let snapshot = Snapshot {
        header: Header::new(version, now + Duration::days(SNAPSHOT_LIFETIME_DAYS)),
        meta,
        extra: Default::default(),
    };
    let data = sign_top(dialect, TopRole::Snapshot, root, &snapshot, signer)?;
    Ok(NewFile {
        role: "snapshot".into(),
        version,
        data,
    })
}

/// Signs a new timestamp for `snapshot_bytes` (whose version is `snapshot_version`; TUF 1.0
/// records it, Notary does not).
pub fn make_timestamp(
    dialect: Dialect,
    root: &Root,
    snapshot_bytes: &[u8],
    snapshot_version: u64,
    previous_version: u64,
    signer: &SoftwareSigner,
    now: DateTime<Utc>,
) -> Result<NewFile, OnlineError> {
    let version = previous_version.saturating_add(1);
    let ts = Timestamp {
        header: Header::new(version, now + Duration::days(TIMESTAMP_LIFETIME_DAYS)),
        snapshot: meta_file(dialect, snapshot_version, snapshot_bytes),
        extra: Default::default(),
    };
    let data = sign_top(dialect, TopRole::Timestamp, root, &ts, signer)?;
    Ok(NewFile {
        role: "timestamp".into(),
        version,
        data,
    })
}
