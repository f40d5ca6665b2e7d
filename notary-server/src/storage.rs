//! Storage of TUF files, the changefeed and server-held keys.
//!
//! One contract ([`MetadataStore`]), implemented for SQLite now and PostgreSQL later. A publish
//! is one transaction; `UNIQUE (gun, role, version)` is the concurrency control, and a lost race
//! is [`StoreError::VersionConflict`] (the Notary `VERSION` error), never a 500.

mod sqlite;

pub use sqlite::SqliteStore;

use std::future::Future;

use chrono::{DateTime, Utc};

/// A stored metadata file: exactly the bytes that were verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredFile {
    /// Role name (`root`, `targets`, `targets/releases`, `snapshot`, `timestamp`).
    pub role: String,
    /// The file's `signed.version`.
    pub version: u64,
    /// Lower-case hex SHA-256 of `data`.
    pub sha256: String,
    /// The exact bytes.
    pub data: Vec<u8>,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
}

/// A file to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewFile {
    /// Role name.
    pub role: String,
    /// The file's `signed.version` (must fit in i64).
    pub version: u64,
    /// The exact bytes (the store computes the SHA-256).
    pub data: Vec<u8>,
}

/// A target file of a TUF 1.0 collection, to store with a publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTarget {
    /// The target path as the targets metadata names it.
    pub path: String,
    /// The exact bytes (already checked against the metadata).
    pub data: Vec<u8>,
}

/// A hash algorithm by which stored targets can be looked up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashAlg {
    /// SHA-256 (64 hex digits).
    Sha256,
    /// SHA-512 (128 hex digits).
    Sha512,
}

/// One changefeed record (Go field names are applied by the HTTP layer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeRecord {
    /// Monotonic id.
    pub id: i64,
    /// When.
    pub created_at: DateTime<Utc>,
    /// The GUN.
    pub gun: String,
    /// Timestamp version (0 for a deletion).
    pub version: u64,
    /// SHA-256 hex of the timestamp bytes ("" for a deletion).
    pub sha256: String,
    /// `update` or `deletion`.
    pub category: String,
}

/// A server-held private key, sealed (encrypted) by [`crate::vault`]; the store never sees
/// plaintext key material.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredKey {
    /// The GUN.
    pub gun: String,
    /// `timestamp` or `snapshot`.
    pub role: String,
    /// The Notary key id (hex).
    pub key_id: String,
    /// Key algorithm (`ed25519`).
    pub algorithm: String,
    /// The public key bytes (raw ed25519).
    pub public: Vec<u8>,
    /// The sealed private key (nonce || ciphertext).
    pub sealed_private: Vec<u8>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// Parameters of the key-encryption key (salt and a sealed check value); not secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KekParams {
    /// KDF salt.
    pub salt: Vec<u8>,
    /// A known plaintext sealed with the KEK, to detect a wrong passphrase at start-up.
    pub check: Vec<u8>,
}

/// Storage failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A version not greater than the stored one, or a lost race for it.
    #[error("{role}: version {version} is not newer than the stored version")]
    VersionConflict {
        /// Role.
        role: String,
        /// Offered version.
        version: u64,
    },
    /// A value outside what the database can hold (e.g. a version above 2^63-1).
    #[error("{what} out of range")]
    OutOfRange {
        /// What.
        what: &'static str,
    },
    /// The database is unavailable or failed.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Stored data is inconsistent (e.g. a negative version).
    #[error("storage corrupt: {0}")]
    Corrupt(String),
}

/// The storage contract.
pub trait MetadataStore: Send + Sync + 'static {
    /// The newest version of `role` for `gun`.
    fn current(
        &self,
        gun: &str,
        role: &str,
    ) -> impl Future<Output = Result<Option<StoredFile>, StoreError>> + Send;

    /// `role` of `gun` at `version`.
    fn by_version(
        &self,
        gun: &str,
        role: &str,
        version: u64,
    ) -> impl Future<Output = Result<Option<StoredFile>, StoreError>> + Send;

    /// `role` of `gun` whose bytes have this lower-case hex SHA-256.
    fn by_checksum(
        &self,
        gun: &str,
        role: &str,
        sha256: &str,
    ) -> impl Future<Output = Result<Option<StoredFile>, StoreError>> + Send;

    /// The newest version of every role of `gun`.
    fn current_all(
        &self,
        gun: &str,
    ) -> impl Future<Output = Result<Vec<StoredFile>, StoreError>> + Send;

    /// Stores `files` in one transaction: each version must be greater than every stored
    /// version of its role (else [`StoreError::VersionConflict`] and nothing is written).
    /// `change`, if given, adds an `update` changefeed record `(timestamp version, sha256)`.
    fn publish(
        &self,
        gun: &str,
        files: Vec<NewFile>,
        change: Option<(u64, String)>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// As [`MetadataStore::publish`], also storing `targets` (TUF 1.0 target files) in the
    /// same transaction.
    fn publish_with_targets(
        &self,
        gun: &str,
        files: Vec<NewFile>,
        targets: Vec<NewTarget>,
        change: Option<(u64, String)>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The newest stored target file of `gun` with this digest (lower-case hex).
    fn target_by_hash(
        &self,
        gun: &str,
        alg: HashAlg,
        hex_digest: &str,
    ) -> impl Future<Output = Result<Option<Vec<u8>>, StoreError>> + Send;

    /// The newest stored target file of `gun` published under `path`.
    fn target_by_path(
        &self,
        gun: &str,
        path: &str,
    ) -> impl Future<Output = Result<Option<Vec<u8>>, StoreError>> + Send;

    /// Deletes every file (metadata and TUF targets) of exactly `gun` (not other GUNs sharing a prefix) and, if any file
    /// was deleted, records a `deletion` change (version 0, sha256 ""), in one transaction
    /// (Notary 0.7 writes no record for a GUN that had no files). Server keys are kept.
    fn delete_gun(&self, gun: &str) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Changefeed records, optionally for one GUN. `records > 0` and `change_id >= 0`: ids
    /// after `change_id`, ascending. Backwards when `records < 0` or `change_id < 0` (as in
    /// Go Notary 0.7): the `|records|` ids before `change_id`, or the last ones when
    /// `change_id <= 0`, returned ascending. `records = 0` returns nothing (the HTTP layer
    /// applies its default page size); `|records|` is capped by the caller.
    fn changefeed(
        &self,
        gun: Option<&str>,
        change_id: i64,
        records: i64,
    ) -> impl Future<Output = Result<Vec<ChangeRecord>, StoreError>> + Send;

    /// Server-held keys of `gun`/`role`, newest first.
    fn keys(
        &self,
        gun: &str,
        role: &str,
    ) -> impl Future<Output = Result<Vec<StoredKey>, StoreError>> + Send;

    /// Stores a new key and deletes the keys of the same gun/role listed in `drop_key_ids`,
    /// in one transaction.
    fn insert_key(
        &self,
        key: StoredKey,
        drop_key_ids: Vec<String>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The key-encryption parameters, if set.
    fn kek_params(&self) -> impl Future<Output = Result<Option<KekParams>, StoreError>> + Send;

    /// Sets the key-encryption parameters (only if none are set; returns the ones in force).
    fn init_kek_params(
        &self,
        params: KekParams,
    ) -> impl Future<Output = Result<KekParams, StoreError>> + Send;

    /// Whether the database answers.
    fn ping(&self) -> impl Future<Output = Result<(), StoreError>> + Send;
}
