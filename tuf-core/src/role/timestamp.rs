//! The timestamp role.

use super::common::{Header, MetaFile, RoleKind};
use super::fields::Obj;
use super::Role;
use crate::dialect::Dialect;
use crate::error::MetadataError;
use crate::json::{JsonObject, JsonValue};

/// Timestamp metadata: names the current snapshot.
#[derive(Clone, Debug)]
pub struct Timestamp {
    /// Version, expiry, spec version.
    pub header: Header,
    /// The snapshot it names (`meta["snapshot.json"]`, Notary `meta["snapshot"]`).
    pub snapshot: MetaFile,
    /// Unknown members of `signed`, preserved.
    pub extra: JsonObject,
}

/// The key under which a dialect lists the snapshot in timestamp `meta`.
pub(crate) fn snapshot_meta_key(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::TufSpec => "snapshot.json",
        Dialect::Notary => "snapshot",
    }
}

impl Role for Timestamp {
    const KIND: RoleKind = RoleKind::Timestamp;

    fn parse(dialect: Dialect, role: &str, signed: &JsonValue) -> Result<Self, MetadataError> {
        let o = Obj::new(signed, role, "signed")?;
        let header = Header::parse(dialect, RoleKind::Timestamp, &o)?;
        let meta = o.req_obj("meta")?;
        let key = snapshot_meta_key(dialect);
        if meta.map.len() != 1 {
            return Err(o.err("meta", "must describe the snapshot and nothing else"));
        }
        let snapshot = MetaFile::parse(dialect, &meta.req_obj(key)?)?;
        Ok(Self {
            header,
            snapshot,
            extra: o.extra(&["_type", "version", "expires", "spec_version", "meta"]),
        })
    }

    fn to_signed_json(&self, dialect: Dialect) -> JsonValue {
        let mut o = self.extra.clone();
        self.header.write(dialect, RoleKind::Timestamp, &mut o);
        let mut meta = JsonObject::new();
        meta.insert(
            snapshot_meta_key(dialect).into(),
            self.snapshot.write(dialect),
        );
        o.insert("meta".into(), JsonValue::Object(meta));
        JsonValue::Object(o)
    }

    fn header(&self) -> &Header {
        &self.header
    }
    fn header_mut(&mut self) -> &mut Header {
        &mut self.header
    }
}
