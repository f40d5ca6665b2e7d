//! The root role.

use super::common::{Header, KeySet, RoleKeys, RoleKind};
use super::fields::Obj;
use super::Role;
use crate::dialect::Dialect;
use crate::error::MetadataError;
use crate::json::{JsonObject, JsonValue};
use crate::name::RoleName;

/// Root metadata: the keys and thresholds of the four top-level roles.
#[derive(Clone, Debug)]
pub struct Root {
    /// Version, expiry, spec version.
    pub header: Header,
    /// `consistent_snapshot` (Notary always writes `false`).
    pub consistent_snapshot: bool,
    /// All keys listed in `keys`.
    pub keys: KeySet,
    /// `roles`: exactly `root`, `targets`, `snapshot`, `timestamp`.
    pub roles: TopRoles,
    /// Unknown members of `signed`, preserved.
    pub extra: JsonObject,
}

/// One of the four top-level roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TopRole {
    /// `root`
    Root,
    /// `targets`
    Targets,
    /// `snapshot`
    Snapshot,
    /// `timestamp`
    Timestamp,
}

impl TopRole {
    /// All four, in canonical order.
    pub const ALL: [Self; 4] = [Self::Root, Self::Snapshot, Self::Targets, Self::Timestamp];

    /// The role name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Root => "root",
            Self::Targets => "targets",
            Self::Snapshot => "snapshot",
            Self::Timestamp => "timestamp",
        }
    }

    /// The role name as a [`RoleName`].
    pub fn name(self) -> RoleName {
        match self {
            Self::Root => RoleName::root(),
            Self::Targets => RoleName::targets(),
            Self::Snapshot => RoleName::snapshot(),
            Self::Timestamp => RoleName::timestamp(),
        }
    }
}

/// The keys and thresholds of the four top-level roles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopRoles {
    /// `root`
    pub root: RoleKeys,
    /// `targets`
    pub targets: RoleKeys,
    /// `snapshot`
    pub snapshot: RoleKeys,
    /// `timestamp`
    pub timestamp: RoleKeys,
}

impl TopRoles {
    /// The entry of one role.
    pub fn get(&self, role: TopRole) -> &RoleKeys {
        match role {
            TopRole::Root => &self.root,
            TopRole::Targets => &self.targets,
            TopRole::Snapshot => &self.snapshot,
            TopRole::Timestamp => &self.timestamp,
        }
    }

    /// The entry of one role, mutably.
    pub fn get_mut(&mut self, role: TopRole) -> &mut RoleKeys {
        match role {
            TopRole::Root => &mut self.root,
            TopRole::Targets => &mut self.targets,
            TopRole::Snapshot => &mut self.snapshot,
            TopRole::Timestamp => &mut self.timestamp,
        }
    }
}

impl Root {
    /// The keys and threshold of a top-level role.
    pub fn role(&self, role: TopRole) -> &RoleKeys {
        self.roles.get(role)
    }

    /// Whether `role` lists a key with this public key (compared as SPKI identity, so the
    /// key id spelling of either dialect does not matter).
    pub fn names_key(&self, role: TopRole, key: &crate::crypto::PublicKey) -> bool {
        let identity = key.identity();
        self.role(role).keyids.iter().any(|id| {
            self.keys
                .get(id)
                .is_some_and(|k| k.public_key().identity() == identity)
        })
    }
}

const KNOWN: &[&str] = &[
    "_type",
    "version",
    "expires",
    "spec_version",
    "consistent_snapshot",
    "keys",
    "roles",
];

impl Role for Root {
    const KIND: RoleKind = RoleKind::Root;

    fn parse(dialect: Dialect, role: &str, signed: &JsonValue) -> Result<Self, MetadataError> {
        let o = Obj::new(signed, role, "signed")?;
        let header = Header::parse(dialect, RoleKind::Root, &o)?;
        let consistent_snapshot = o.opt_bool("consistent_snapshot")?.unwrap_or(false);
        let keys = KeySet::parse(dialect, &o.req_obj("keys")?)?;
        let roles_obj = o.req_obj("roles")?;
        if roles_obj.map.len() != 4 {
            return Err(o.err(
                "roles",
                "must list exactly root, targets, snapshot and timestamp",
            ));
        }
        let entry = |r: TopRole| -> Result<RoleKeys, MetadataError> {
            RoleKeys::parse(&roles_obj.req_obj(r.as_str())?, &keys)
        };
        let roles = TopRoles {
            root: entry(TopRole::Root)?,
            targets: entry(TopRole::Targets)?,
            snapshot: entry(TopRole::Snapshot)?,
            timestamp: entry(TopRole::Timestamp)?,
        };
        Ok(Self {
            header,
            consistent_snapshot,
            keys,
            roles,
            extra: o.extra(KNOWN),
        })
    }

    fn to_signed_json(&self, dialect: Dialect) -> JsonValue {
        let mut o = self.extra.clone();
        self.header.write(dialect, RoleKind::Root, &mut o);
        o.insert(
            "consistent_snapshot".into(),
            self.consistent_snapshot.into(),
        );
        o.insert("keys".into(), self.keys.write());
        let mut roles = JsonObject::new();
        for r in TopRole::ALL {
            let mut e = JsonObject::new();
            self.roles.get(r).write_into(&mut e);
            roles.insert(r.as_str().into(), JsonValue::Object(e));
        }
        o.insert("roles".into(), JsonValue::Object(roles));
        JsonValue::Object(o)
    }

    fn header(&self) -> &Header {
        &self.header
    }
    fn header_mut(&mut self) -> &mut Header {
        &mut self.header
    }
}
