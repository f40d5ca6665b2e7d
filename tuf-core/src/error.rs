//! Error types, one enum per concern, each naming the role and the reason.

use chrono::{DateTime, Utc};

use crate::crypto::KeyError;
use crate::json::JsonError;
use crate::name::NameError;

/// A metadata file could not be parsed into the role model (before any trust decision).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetadataError {
    /// Not strict JSON.
    #[error("{role}: invalid JSON: {source}")]
    Json {
        /// Role being parsed.
        role: String,
        /// Parser error.
        source: JsonError,
    },
    /// A field is missing, has the wrong type or an invalid value.
    #[error("{role}: field {field}: {reason}")]
    Schema {
        /// Role being parsed.
        role: String,
        /// Dotted path of the field.
        field: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// `_type` is not the expected role type for this dialect.
    #[error("{role}: _type is {found:?}, expected {expected:?}")]
    WrongType {
        /// Role being parsed.
        role: String,
        /// Expected `_type`.
        expected: &'static str,
        /// What the file says.
        found: String,
    },
    /// `spec_version` has an unsupported major version.
    #[error("{role}: unsupported spec_version {version:?}")]
    SpecVersion {
        /// Role being parsed.
        role: String,
        /// The declared version.
        version: String,
    },
    /// A key could not be parsed.
    #[error("{role}: key {keyid}: {source}")]
    Key {
        /// Role being parsed.
        role: String,
        /// The key's id as listed.
        keyid: String,
        /// Key error.
        source: KeyError,
    },
    /// A role name is invalid in this dialect.
    #[error("{role}: {source}")]
    Name {
        /// Role being parsed.
        role: String,
        /// Name error.
        source: NameError,
    },
}

/// Metadata was refused by the trusted set; the trusted set is unchanged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UpdateError {
    /// The file does not parse.
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    /// Not enough valid signatures from distinct authorised keys.
    #[error("{role}: {valid} valid signature(s) from distinct authorised keys, threshold is {threshold}")]
    Threshold {
        /// Role being verified.
        role: String,
        /// Distinct keys whose signature verified.
        valid: usize,
        /// Required.
        threshold: u32,
    },
    /// A version lower than the trusted one.
    #[error("{role}: version {got} is older than the trusted version {trusted} (rollback)")]
    Rollback {
        /// Role.
        role: String,
        /// Trusted version.
        trusted: u64,
        /// Offered version.
        got: u64,
    },
    /// A version different from the one the referring metadata names.
    #[error("{role}: version {got}, expected {expected}")]
    VersionMismatch {
        /// Role.
        role: String,
        /// Expected version.
        expected: u64,
        /// Offered version.
        got: u64,
    },
    /// The metadata has expired.
    #[error("{role}: expired at {expires} (now {now})")]
    Expired {
        /// Role.
        role: String,
        /// Its expiry.
        expires: DateTime<Utc>,
        /// The update's reference time.
        now: DateTime<Utc>,
    },
    /// The bytes are longer than allowed.
    #[error("{role}: {got} bytes exceed the limit of {max}")]
    TooLarge {
        /// Role.
        role: String,
        /// Limit.
        max: u64,
        /// Actual length.
        got: u64,
    },
    /// Length differs from the length the referring metadata names.
    #[error("{role}: length {got} differs from the expected {expected}")]
    LengthMismatch {
        /// Role.
        role: String,
        /// Expected length.
        expected: u64,
        /// Actual length.
        got: u64,
    },
    /// A hash differs from the one the referring metadata names.
    #[error("{role}: {algorithm} hash mismatch")]
    HashMismatch {
        /// Role.
        role: String,
        /// Hash algorithm.
        algorithm: String,
    },
    /// The referring metadata lists no hash algorithm this implementation supports.
    #[error("{role}: no supported hash algorithm listed")]
    NoSupportedHash {
        /// Role.
        role: String,
    },
    /// The role is not listed in the trusted snapshot.
    #[error("{role}: not listed in the trusted snapshot")]
    NotInSnapshot {
        /// Role.
        role: String,
    },
    /// A role listed in the trusted snapshot disappeared from the new one.
    #[error("{role}: listed in the trusted snapshot but missing from the new one")]
    RoleRemoved {
        /// Role.
        role: String,
    },
    /// The delegating role does not delegate to this role.
    #[error("{role}: not delegated by {delegator}")]
    NotDelegated {
        /// Role.
        role: String,
        /// Claimed delegator.
        delegator: String,
    },
    /// The update came in the wrong order (e.g. snapshot before timestamp).
    #[error("{role}: {reason}")]
    OutOfOrder {
        /// Role.
        role: String,
        /// Why.
        reason: &'static str,
    },
    /// A root key certificate is unacceptable (Notary: CN must equal the GUN).
    #[error("{role}: root key {keyid}: {reason}")]
    RootCertificate {
        /// Role.
        role: String,
        /// Key id.
        keyid: String,
        /// Why.
        reason: &'static str,
    },
    /// The repository configuration is invalid (e.g. Notary dialect without a GUN).
    #[error("configuration: {reason}")]
    Config {
        /// Why.
        reason: &'static str,
    },
}

/// A downloaded target does not match its trusted metadata.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum TargetError {
    /// Length differs.
    #[error("target {path}: length {got} differs from the trusted {expected}")]
    Length {
        /// Target path.
        path: String,
        /// Trusted length.
        expected: u64,
        /// Actual length.
        got: u64,
    },
    /// A hash differs.
    #[error("target {path}: {algorithm} hash mismatch")]
    Hash {
        /// Target path.
        path: String,
        /// Algorithm.
        algorithm: String,
    },
    /// None of the listed hash algorithms is supported.
    #[error("target {path}: no supported hash algorithm listed")]
    NoSupportedHash {
        /// Target path.
        path: String,
    },
}
