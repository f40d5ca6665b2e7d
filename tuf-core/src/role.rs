//! The role model shared by both dialects, and its codec.

mod common;
pub(crate) mod fields;
mod root;
mod snapshot;
mod targets;
mod timestamp;

pub use common::{Hashes, Header, KeySet, MetaFile, RoleKeys, RoleKind, Threshold, SPEC_VERSION};
pub use root::{Root, TopRole, TopRoles};
pub use snapshot::Snapshot;
pub use targets::{
    DelegatedRole, DelegatedRoles, Delegations, PathSpec, SuccinctRoles, TargetEntry, Targets,
};
pub use timestamp::Timestamp;

use chrono::{DateTime, Utc};

use crate::dialect::Dialect;
use crate::error::MetadataError;
use crate::json::JsonValue;

/// A metadata role type: parsed from and written to the `signed` object of either dialect.
pub trait Role: Sized {
    /// Which `_type` this role has.
    const KIND: RoleKind;

    /// Parses the `signed` object. `role` names the role in errors.
    ///
    /// # Errors
    /// [`MetadataError`] for a wrong `_type`, a missing or invalid field.
    fn parse(dialect: Dialect, role: &str, signed: &JsonValue) -> Result<Self, MetadataError>;

    /// As [`Role::parse`] (same result, same errors), consuming the value so that large
    /// roles can move strings out of it instead of copying them.
    ///
    /// # Errors
    /// As [`Role::parse`].
    fn parse_owned(dialect: Dialect, role: &str, signed: JsonValue) -> Result<Self, MetadataError> {
        Self::parse(dialect, role, &signed)
    }

    /// The `signed` object in the dialect (canonicalise it to sign).
    fn to_signed_json(&self, dialect: Dialect) -> JsonValue;

    /// Version, expiry, spec version.
    fn header(&self) -> &Header;

    /// Version, expiry, spec version, mutably (for the editor).
    fn header_mut(&mut self) -> &mut Header;

    /// The version.
    fn version(&self) -> u64 {
        self.header().version
    }

    /// The expiry.
    fn expires(&self) -> DateTime<Utc> {
        self.header().expires
    }
}
