//! The snapshot role.

use std::collections::BTreeMap;

use super::common::{Header, MetaFile, RoleKind};
use super::fields::Obj;
use super::Role;
use crate::dialect::Dialect;
use crate::error::MetadataError;
use crate::json::{JsonObject, JsonValue};

/// Snapshot metadata: the version (TUF) or hashes (Notary) of every targets role.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// Version, expiry, spec version.
    pub header: Header,
    /// Listed files by **role name** (`targets`, `team-a`, `targets/releases`, Notary also
    /// `root`); the dialect's file naming (`team-a.json`) is removed on parse.
    pub meta: BTreeMap<String, MetaFile>,
    /// Unknown members of `signed`, preserved.
    pub extra: JsonObject,
}

impl Role for Snapshot {
    const KIND: RoleKind = RoleKind::Snapshot;

    fn parse(dialect: Dialect, role: &str, signed: &JsonValue) -> Result<Self, MetadataError> {
        let o = Obj::new(signed, role, "signed")?;
        let header = Header::parse(dialect, RoleKind::Snapshot, &o)?;
        let meta_obj = o.req_obj("meta")?;
        let mut meta = BTreeMap::new();
        for (file, v) in meta_obj.map {
            let name = match dialect {
                Dialect::TufSpec => file
                    .strip_suffix(".json")
                    .filter(|n| !n.is_empty())
                    .ok_or_else(|| meta_obj.err(file, "meta entries must be named <role>.json"))?,
                Dialect::Notary => file.as_str(),
            };
            let entry = MetaFile::parse(dialect, &Obj::new(v, role, &meta_obj.field_path(file))?)?;
            meta.insert(name.to_owned(), entry);
        }
        if dialect == Dialect::TufSpec && !meta.contains_key("targets") {
            return Err(o.err("meta", "must list targets.json"));
        }
        Ok(Self {
            header,
            meta,
            extra: o.extra(&["_type", "version", "expires", "spec_version", "meta"]),
        })
    }

    fn to_signed_json(&self, dialect: Dialect) -> JsonValue {
        let mut o = self.extra.clone();
        self.header.write(dialect, RoleKind::Snapshot, &mut o);
        let mut meta = JsonObject::new();
        for (name, m) in &self.meta {
            let file = match dialect {
                Dialect::TufSpec => format!("{name}.json"),
                Dialect::Notary => name.clone(),
            };
            meta.insert(file, m.write(dialect));
        }
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
