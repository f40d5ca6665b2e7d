//! Pieces shared by the role types: kinds, headers, hashes, file metadata, key sets.

use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroU32;

use chrono::{DateTime, Utc};

use super::fields::{decode_bytes, encode_bytes, Obj};
use crate::crypto::{Key, KeyError, KeyId};
use crate::dialect::Dialect;
use crate::error::MetadataError;
use crate::json::{JsonObject, JsonValue};

/// The four kinds of metadata.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RoleKind {
    /// `root`
    Root,
    /// `targets` and every delegated targets role
    Targets,
    /// `snapshot`
    Snapshot,
    /// `timestamp`
    Timestamp,
}

impl RoleKind {
    /// The `_type` value in the dialect (`Root` in Notary, `root` in TUF 1.0).
    pub fn type_name(self, dialect: Dialect) -> &'static str {
        match (self, dialect) {
            (Self::Root, Dialect::Notary) => "Root",
            (Self::Targets, Dialect::Notary) => "Targets",
            (Self::Snapshot, Dialect::Notary) => "Snapshot",
            (Self::Timestamp, Dialect::Notary) => "Timestamp",
            (Self::Root, Dialect::TufSpec) => "root",
            (Self::Targets, Dialect::TufSpec) => "targets",
            (Self::Snapshot, Dialect::TufSpec) => "snapshot",
            (Self::Timestamp, Dialect::TufSpec) => "timestamp",
        }
    }
}

/// A signature threshold, at least 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Threshold(NonZeroU32);

impl Threshold {
    /// A threshold of `n`, or `None` for 0.
    pub fn new(n: u32) -> Option<Self> {
        NonZeroU32::new(n).map(Self)
    }
    /// The threshold of 1.
    pub const ONE: Self = Self(NonZeroU32::MIN);
    /// The value.
    pub fn get(self) -> u32 {
        self.0.get()
    }
}

/// Fields every role carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// `version`, 1..=2^63-1.
    pub version: u64,
    /// `expires`.
    pub expires: DateTime<Utc>,
    /// `spec_version` (TUF 1.0 only).
    pub spec_version: Option<String>,
}

/// Version of the TUF specification written by the editor.
pub const SPEC_VERSION: &str = "1.0.31";

impl Header {
    pub(crate) fn parse(
        dialect: Dialect,
        kind: RoleKind,
        o: &Obj<'_>,
    ) -> Result<Self, MetadataError> {
        let ty = o.req_str("_type")?;
        let expected = kind.type_name(dialect);
        if ty != expected {
            return Err(MetadataError::WrongType {
                role: o.role.to_owned(),
                expected,
                found: ty.to_owned(),
            });
        }
        let spec_version = match dialect {
            Dialect::TufSpec => {
                let v = o.req_str("spec_version")?;
                let mut parts = v.split('.');
                let major = parts.next().unwrap_or_default();
                let rest_ok = parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
                if major != "1" || !rest_ok {
                    return Err(MetadataError::SpecVersion {
                        role: o.role.to_owned(),
                        version: v.to_owned(),
                    });
                }
                Some(v.to_owned())
            }
            Dialect::Notary => None,
        };
        Ok(Self {
            version: o.req_version("version")?,
            expires: o.expires(dialect)?,
            spec_version,
        })
    }

    pub(crate) fn write(&self, dialect: Dialect, kind: RoleKind, out: &mut JsonObject) {
        out.insert("_type".into(), kind.type_name(dialect).into());
        out.insert("version".into(), self.version.into());
        out.insert(
            "expires".into(),
            crate::time::format_expires(dialect, self.expires).into(),
        );
        if dialect == Dialect::TufSpec {
            let v = self
                .spec_version
                .clone()
                .unwrap_or_else(|| SPEC_VERSION.into());
            out.insert("spec_version".into(), v.into());
        }
    }

    /// A header for new metadata.
    pub fn new(version: u64, expires: DateTime<Utc>) -> Self {
        Self {
            version,
            expires,
            spec_version: None,
        }
    }
}

/// Digests by algorithm name (`sha256`, `sha512`, ...), decoded to raw bytes.
pub type Hashes = BTreeMap<String, Vec<u8>>;

pub(crate) fn parse_hashes(
    dialect: Dialect,
    o: &Obj<'_>,
    key: &str,
) -> Result<Hashes, MetadataError> {
    let h = o.req_obj(key)?;
    if h.map.is_empty() {
        return Err(o.err(key, "must list at least one hash"));
    }
    let mut out = Hashes::new();
    for (alg, v) in h.map {
        let s = v.as_str().ok_or_else(|| h.err(alg, "must be a string"))?;
        let bytes = decode_bytes(dialect, s).ok_or_else(|| {
            h.err(
                alg,
                match dialect {
                    Dialect::TufSpec => "must be hex",
                    Dialect::Notary => "must be base64",
                },
            )
        })?;
        if bytes.is_empty() {
            return Err(h.err(alg, "empty digest"));
        }
        out.insert(alg.clone(), bytes);
    }
    Ok(out)
}

pub(crate) fn write_hashes(dialect: Dialect, hashes: &Hashes) -> JsonValue {
    let mut o = JsonObject::new();
    for (alg, d) in hashes {
        o.insert(alg.clone(), encode_bytes(dialect, d).into());
    }
    JsonValue::Object(o)
}

/// What a referring role says about another metadata file (snapshot's `meta` entries,
/// timestamp's `snapshot.json`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetaFile {
    /// The file's version (always present in TUF 1.0; Notary does not record it).
    pub version: Option<u64>,
    /// The file's exact length in bytes, if recorded.
    pub length: Option<u64>,
    /// The file's digests (possibly empty in TUF 1.0, where they are optional).
    pub hashes: Hashes,
}

impl MetaFile {
    pub(crate) fn parse(dialect: Dialect, o: &Obj<'_>) -> Result<Self, MetadataError> {
        let (version, length, hashes) = match dialect {
            Dialect::TufSpec => {
                let version = Some(o.req_version("version")?);
                let length = o.opt_u64("length")?;
                let hashes = if o.opt("hashes").is_some() {
                    parse_hashes(dialect, o, "hashes")?
                } else {
                    Hashes::new()
                };
                (version, length, hashes)
            }
            Dialect::Notary => (
                o.opt_u64("version")?,
                Some(o.req_u64("length")?),
                parse_hashes(dialect, o, "hashes")?,
            ),
        };
        Ok(Self {
            version,
            length,
            hashes,
        })
    }

    pub(crate) fn write(&self, dialect: Dialect) -> JsonValue {
        let mut o = JsonObject::new();
        if let Some(v) = self.version.filter(|_| dialect == Dialect::TufSpec) {
            o.insert("version".into(), v.into());
        }
        if let Some(l) = self.length {
            o.insert("length".into(), l.into());
        }
        if !self.hashes.is_empty() {
            o.insert("hashes".into(), write_hashes(dialect, &self.hashes));
        }
        JsonValue::Object(o)
    }
}

/// The keys a role lists, by key id. Keys of a type this implementation cannot use are kept
/// as ids only (TUF 1.0 allows unknown key types; they just never verify anything).
#[derive(Clone, Debug, Default)]
pub struct KeySet {
    keys: BTreeMap<KeyId, Key>,
    unusable: BTreeMap<KeyId, JsonValue>,
}

impl KeySet {
    /// An empty key set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The usable key with this id.
    pub fn get(&self, id: &KeyId) -> Option<&Key> {
        self.keys.get(id)
    }

    /// Whether any key (usable or not) has this id.
    pub fn contains(&self, id: &KeyId) -> bool {
        self.keys.contains_key(id) || self.unusable.contains_key(id)
    }

    /// Usable keys.
    pub fn iter(&self) -> impl Iterator<Item = (&KeyId, &Key)> {
        self.keys.iter()
    }

    /// Number of keys, usable or not.
    pub fn len(&self) -> usize {
        self.keys.len() + self.unusable.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds a key under its id (computed by the dialect).
    pub fn insert(&mut self, key: Key) -> KeyId {
        let id = key.key_id();
        self.keys.insert(id, key);
        id
    }

    /// Removes a key.
    pub fn remove(&mut self, id: &KeyId) -> Option<Key> {
        self.unusable.remove(id);
        self.keys.remove(id)
    }

    pub(crate) fn parse(dialect: Dialect, o: &Obj<'_>) -> Result<Self, MetadataError> {
        let mut set = Self::new();
        for (id_str, v) in o.map {
            let id = KeyId::from_hex(id_str)
                .map_err(|_| o.err(id_str, "key id must be 64 hex digits"))?;
            match Key::from_json(dialect, v) {
                Ok(key) => {
                    if dialect == Dialect::Notary && key.key_id() != id {
                        return Err(o.err(
                            id_str,
                            "key id does not match the key (Notary recomputes ids)",
                        ));
                    }
                    set.keys.insert(id, key);
                }
                Err(KeyError::Unsupported { .. }) if dialect == Dialect::TufSpec => {
                    set.unusable.insert(id, v.clone());
                }
                Err(source) => {
                    return Err(MetadataError::Key {
                        role: o.role.to_owned(),
                        keyid: id_str.clone(),
                        source,
                    })
                }
            }
        }
        Ok(set)
    }

    pub(crate) fn write(&self) -> JsonValue {
        let mut o = JsonObject::new();
        for (id, k) in &self.keys {
            o.insert(id.to_hex(), k.to_json());
        }
        for (id, v) in &self.unusable {
            o.insert(id.to_hex(), v.clone());
        }
        JsonValue::Object(o)
    }
}

/// The key ids and threshold of one role (a root role entry or a delegation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleKeys {
    /// Authorised key ids, in metadata order, without duplicates.
    pub keyids: Vec<KeyId>,
    /// Signatures needed from distinct keys.
    pub threshold: Threshold,
}

impl RoleKeys {
    pub(crate) fn parse(o: &Obj<'_>, keys: &KeySet) -> Result<Self, MetadataError> {
        let threshold = o.req_u64("threshold")?;
        let threshold = u32::try_from(threshold)
            .ok()
            .and_then(Threshold::new)
            .ok_or_else(|| o.err("threshold", "must be an integer in 1..=2^32-1"))?;
        let mut seen = BTreeSet::new();
        let mut keyids = Vec::new();
        for s in o.req_str_list("keyids")? {
            let id =
                KeyId::from_hex(&s).map_err(|_| o.err("keyids", "key id must be 64 hex digits"))?;
            if !seen.insert(id) {
                return Err(o.err("keyids", "duplicate key id"));
            }
            if !keys.contains(&id) {
                return Err(o.err("keyids", "names a key that is not listed in keys"));
            }
            keyids.push(id);
        }
        Ok(Self { keyids, threshold })
    }

    pub(crate) fn write_into(&self, o: &mut JsonObject) {
        o.insert(
            "keyids".into(),
            JsonValue::Array(self.keyids.iter().map(|k| k.to_hex().into()).collect()),
        );
        o.insert("threshold".into(), u64::from(self.threshold.get()).into());
    }
}
