//! The targets role (top-level and delegated) and its delegations.

use std::collections::{BTreeMap, BTreeSet};

use super::common::{parse_hashes, write_hashes, Hashes, Header, KeySet, RoleKeys, RoleKind};
use super::fields::{decode_bytes, uint, Obj};
use super::Role;
use crate::dialect::Dialect;
use crate::error::MetadataError;
use crate::json::{JsonObject, JsonValue};
use crate::name::RoleName;

/// Targets metadata (the top-level `targets` role or a delegated role).
#[derive(Clone, Debug)]
pub struct Targets {
    /// Version, expiry, spec version.
    pub header: Header,
    /// Target entries by target path.
    pub targets: BTreeMap<String, TargetEntry>,
    /// Delegations, if any (Notary always writes an empty object).
    pub delegations: Option<Delegations>,
    /// Unknown members of `signed`, preserved.
    pub extra: JsonObject,
}

/// What a targets role says about one target file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetEntry {
    /// Exact length in bytes.
    pub length: u64,
    /// Digests, at least one.
    pub hashes: Hashes,
    /// `custom`, opaque.
    pub custom: Option<JsonValue>,
    /// Unknown members, preserved.
    pub extra: JsonObject,
}

/// A role's delegations.
#[derive(Clone, Debug)]
pub struct Delegations {
    /// Keys of the delegated roles.
    pub keys: KeySet,
    /// The delegated roles.
    pub roles: DelegatedRoles,
}

/// Delegated roles: an ordered list, or TAP 15 succinct hash bins.
#[derive(Clone, Debug)]
pub enum DelegatedRoles {
    /// `roles`, in order of appearance (that order is the search order).
    List(Vec<DelegatedRole>),
    /// `succinct_roles`.
    Succinct(SuccinctRoles),
}

/// One delegation edge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DelegatedRole {
    /// The delegated role's name.
    pub name: RoleName,
    /// Its keys and threshold.
    pub keys: RoleKeys,
    /// Whether the search stops after this role's subtree.
    pub terminating: bool,
    /// Which target paths it may sign.
    pub paths: PathSpec,
}

/// Which target paths a delegation covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathSpec {
    /// `paths`: TUF shell-style patterns, or Notary path prefixes (`""` = everything).
    Patterns(Vec<String>),
    /// `path_hash_prefixes`: prefixes of the lower-case hex SHA-256 of the target path.
    HashPrefixes(Vec<String>),
}

/// TAP 15 succinct hash bin delegation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SuccinctRoles {
    /// Keys and threshold shared by every bin.
    pub keys: RoleKeys,
    /// Number of leading bits of SHA-256(path) that select the bin, 1..=32.
    pub bit_length: u8,
    /// Bin names are `<name_prefix>-<hex index>`.
    pub name_prefix: String,
}

impl Targets {
    /// Delegations as a list of edges (empty when there are none or they are succinct).
    pub fn delegated_roles(&self) -> &[DelegatedRole] {
        match &self.delegations {
            Some(Delegations {
                roles: DelegatedRoles::List(l),
                ..
            }) => l,
            _ => &[],
        }
    }
}

const KNOWN: &[&str] = &[
    "_type",
    "version",
    "expires",
    "spec_version",
    "targets",
    "delegations",
];

impl Role for Targets {
    const KIND: RoleKind = RoleKind::Targets;

    fn parse(dialect: Dialect, role: &str, signed: &JsonValue) -> Result<Self, MetadataError> {
        let o = Obj::new(signed, role, "signed")?;
        let header = Header::parse(dialect, RoleKind::Targets, &o)?;
        let t = o.req_obj("targets")?;
        // Collected in the (sorted, duplicate-free) order of the JSON object, then built in
        // bulk: no per-insert search in a map of up to 10^5+ entries.
        let mut targets = Vec::with_capacity(t.map.len());
        for (path, v) in t.map {
            targets.push((path.clone(), target_entry(dialect, role, &t, path, v)?));
        }
        let targets: BTreeMap<String, TargetEntry> = targets.into_iter().collect();
        let delegations = match o.opt("delegations") {
            None => None,
            Some(v) => Some(parse_delegations(
                dialect,
                &Obj::new(v, role, "signed.delegations")?,
            )?),
        };
        Ok(Self {
            header,
            targets,
            delegations,
            extra: o.extra(KNOWN),
        })
    }

    /// Moves target paths and hash names out of `signed` instead of copying them: the
    /// checks and their order are those of [`Targets::parse`] (header, the `targets` object,
    /// each entry in order, then the rest).
    fn parse_owned(
        dialect: Dialect,
        role: &str,
        mut signed: JsonValue,
    ) -> Result<Self, MetadataError> {
        {
            let o = Obj::new(&signed, role, "signed")?;
            Header::parse(dialect, RoleKind::Targets, &o)?;
            o.req_obj("targets")?;
        }
        let entries = match &mut signed {
            JsonValue::Object(o) => match o.get_mut("targets") {
                Some(JsonValue::Object(t)) => std::mem::take(t),
                _ => JsonObject::new(),
            },
            _ => JsonObject::new(),
        };
        let empty = JsonValue::Object(JsonObject::new());
        let t = Obj::new(&empty, role, "signed.targets")?;
        let mut targets = Vec::with_capacity(entries.len());
        for (path, v) in entries {
            let entry = target_entry(dialect, role, &t, &path, &v)?;
            targets.push((path, entry));
        }
        // Everything else, exactly as `parse` reads it (the entries are checked already).
        let mut out = Self::parse(dialect, role, &signed)?;
        out.targets = targets.into_iter().collect();
        Ok(out)
    }

    fn to_signed_json(&self, dialect: Dialect) -> JsonValue {
        let mut o = self.extra.clone();
        self.header.write(dialect, RoleKind::Targets, &mut o);
        let mut t = JsonObject::new();
        for (path, e) in &self.targets {
            let mut eo = e.extra.clone();
            eo.insert("length".into(), e.length.into());
            eo.insert("hashes".into(), write_hashes(dialect, &e.hashes));
            if let Some(c) = &e.custom {
                eo.insert("custom".into(), c.clone());
            }
            t.insert(path.clone(), JsonValue::Object(eo));
        }
        o.insert("targets".into(), JsonValue::Object(t));
        match (&self.delegations, dialect) {
            (Some(d), _) => {
                o.insert("delegations".into(), write_delegations(dialect, d));
            }
            (None, Dialect::Notary) => {
                let empty = Delegations {
                    keys: KeySet::new(),
                    roles: DelegatedRoles::List(Vec::new()),
                };
                o.insert("delegations".into(), write_delegations(dialect, &empty));
            }
            (None, Dialect::TufSpec) => {}
        }
        JsonValue::Object(o)
    }

    fn header(&self) -> &Header {
        &self.header
    }
    fn header_mut(&mut self) -> &mut Header {
        &mut self.header
    }
}

const TARGET_ENTRY_KNOWN: [&str; 3] = ["length", "hashes", "custom"];

/// One entry of the `targets` object `t`.
fn target_entry(
    dialect: Dialect,
    role: &str,
    t: &Obj<'_>,
    path: &str,
    v: &JsonValue,
) -> Result<TargetEntry, MetadataError> {
    if path.is_empty() {
        return Err(t.err(path, "empty target path"));
    }
    if let Some(entry) = target_entry_fast(dialect, v) {
        return Ok(entry);
    }
    let e = Obj::new(v, role, &t.field_path(path))?;
    Ok(TargetEntry {
        length: e.req_u64("length")?,
        hashes: parse_hashes(dialect, &e, "hashes")?,
        custom: e.opt("custom").cloned(),
        extra: e.extra(&TARGET_ENTRY_KNOWN),
    })
}

/// A well-formed target entry, read without building error context (paths for messages):
/// the hot loop of large targets files. `None` whenever anything is off, and the checked
/// path above then produces the error; for every input this returns `Some`, the checked
/// path would return the same entry.
fn target_entry_fast(dialect: Dialect, v: &JsonValue) -> Option<TargetEntry> {
    let map = v.as_object()?;
    let length = map.get("length").and_then(uint)?;
    let h = map.get("hashes")?.as_object()?;
    if h.is_empty() {
        return None;
    }
    let mut hashes = Hashes::new();
    for (alg, v) in h {
        let bytes = decode_bytes(dialect, v.as_str()?)?;
        if bytes.is_empty() {
            return None;
        }
        hashes.insert(alg.clone(), bytes);
    }
    Some(TargetEntry {
        length,
        hashes,
        custom: map.get("custom").cloned(),
        extra: map
            .iter()
            .filter(|(k, _)| !TARGET_ENTRY_KNOWN.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    })
}

fn parse_delegations(dialect: Dialect, o: &Obj<'_>) -> Result<Delegations, MetadataError> {
    let keys = KeySet::parse(dialect, &o.req_obj("keys")?)?;
    let roles = match (o.opt("roles"), o.opt("succinct_roles")) {
        (Some(_), None) => {
            let mut names = BTreeSet::new();
            let mut list = Vec::new();
            for (i, v) in o.req_array("roles")?.iter().enumerate() {
                let r = Obj::new(v, o.role, &format!("{}.roles[{i}]", o.path))?;
                let role = parse_delegated_role(dialect, &r, &keys)?;
                if !names.insert(role.name.clone()) {
                    return Err(r.err("name", "duplicate delegated role name"));
                }
                list.push(role);
            }
            DelegatedRoles::List(list)
        }
        (None, Some(_)) if dialect == Dialect::TufSpec => {
            let s = o.req_obj("succinct_roles")?;
            let bit_length = s.req_u64("bit_length")?;
            let bit_length = u8::try_from(bit_length)
                .ok()
                .filter(|b| (1..=32).contains(b))
                .ok_or_else(|| s.err("bit_length", "must be in 1..=32"))?;
            DelegatedRoles::Succinct(SuccinctRoles {
                keys: RoleKeys::parse(&s, &keys)?,
                bit_length,
                name_prefix: s.req_str("name_prefix")?.to_owned(),
            })
        }
        (None, None) if dialect == Dialect::Notary => DelegatedRoles::List(Vec::new()),
        _ => {
            return Err(o.err(
                "roles",
                "exactly one of roles and succinct_roles is required",
            ));
        }
    };
    Ok(Delegations { keys, roles })
}

fn parse_delegated_role(
    dialect: Dialect,
    r: &Obj<'_>,
    keys: &KeySet,
) -> Result<DelegatedRole, MetadataError> {
    let name_str = r.req_str("name")?;
    let name = RoleName::delegated(dialect, name_str).map_err(|source| MetadataError::Name {
        role: r.role.to_owned(),
        source,
    })?;
    let paths = match dialect {
        Dialect::Notary => PathSpec::Patterns(match r.opt("paths") {
            Some(_) => r.req_str_list("paths")?,
            None => Vec::new(),
        }),
        Dialect::TufSpec => match (r.opt("paths"), r.opt("path_hash_prefixes")) {
            (Some(_), None) => PathSpec::Patterns(r.req_str_list("paths")?),
            (None, Some(_)) => {
                let prefixes = r.req_str_list("path_hash_prefixes")?;
                if prefixes.iter().any(|p| {
                    !p.bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                }) {
                    return Err(r.err("path_hash_prefixes", "must be lower-case hex"));
                }
                PathSpec::HashPrefixes(prefixes)
            }
            _ => {
                return Err(r.err(
                    "paths",
                    "exactly one of paths and path_hash_prefixes is required",
                ))
            }
        },
    };
    let terminating = match dialect {
        Dialect::TufSpec => r
            .opt_bool("terminating")?
            .ok_or_else(|| r.err("terminating", "missing"))?,
        Dialect::Notary => r.opt_bool("terminating")?.unwrap_or(false),
    };
    Ok(DelegatedRole {
        name,
        keys: RoleKeys::parse(r, keys)?,
        terminating,
        paths,
    })
}

fn write_delegations(dialect: Dialect, d: &Delegations) -> JsonValue {
    let mut o = JsonObject::new();
    o.insert("keys".into(), d.keys.write());
    match &d.roles {
        DelegatedRoles::List(list) => {
            let roles = list
                .iter()
                .map(|r| {
                    let mut ro = JsonObject::new();
                    ro.insert("name".into(), r.name.as_str().into());
                    r.keys.write_into(&mut ro);
                    match &r.paths {
                        PathSpec::Patterns(p) => {
                            ro.insert("paths".into(), strings(p));
                        }
                        PathSpec::HashPrefixes(p) => {
                            ro.insert("path_hash_prefixes".into(), strings(p));
                        }
                    }
                    if dialect == Dialect::TufSpec {
                        ro.insert("terminating".into(), r.terminating.into());
                    }
                    JsonValue::Object(ro)
                })
                .collect();
            o.insert("roles".into(), JsonValue::Array(roles));
        }
        DelegatedRoles::Succinct(s) => {
            let mut so = JsonObject::new();
            s.keys.write_into(&mut so);
            so.insert("bit_length".into(), u64::from(s.bit_length).into());
            so.insert("name_prefix".into(), s.name_prefix.as_str().into());
            o.insert("succinct_roles".into(), JsonValue::Object(so));
        }
    }
    JsonValue::Object(o)
}

fn strings(v: &[String]) -> JsonValue {
    JsonValue::Array(v.iter().map(|s| s.as_str().into()).collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod parse_owned_tests {
    use super::*;
    use crate::json;

    /// `parse_owned` (the fast path) and `parse` agree on every input, errors included.
    #[test]
    fn parse_owned_matches_parse() {
        let h = "\"sha256\":\"ab01\"";
        let good = format!("{{\"length\":3,\"hashes\":{{{h}}}}}");
        let deleg = "\"delegations\":{\"keys\":{},\"roles\":[]}";
        let head = "\"_type\":\"targets\",\"spec_version\":\"1.0.31\",\"version\":1,\"expires\":\"2030-01-01T00:00:00Z\"";
        let cases = [
            format!("{{{head},\"targets\":{{\"a\":{good},\"b\":{good}}}}}"),
            format!("{{{head},\"targets\":{{\"a\":{{\"length\":3,\"hashes\":{{\"sha256\":\"AB01\",\"x\":\"00\"}},\"custom\":{{\"k\":[1]}},\"z\":null}}}},{deleg},\"x-extra\":1}}"),
            format!("{{{head},\"targets\":{{}}}}"),
            format!("{{{head},\"targets\":{{\"\":{good}}}}}"),
            format!("{{{head},\"targets\":{{\"a\":{good},\"b\":{{\"length\":-1,\"hashes\":{{{h}}}}}}}}}"),
            format!("{{{head},\"targets\":{{\"a\":{{\"length\":1,\"hashes\":{{}}}}}}}}"),
            format!("{{{head},\"targets\":{{\"a\":{{\"length\":1,\"hashes\":{{\"sha256\":\"abc\"}}}}}}}}"),
            format!("{{{head},\"targets\":{{\"a\":{{\"length\":1,\"hashes\":{{\"sha256\":\"\"}}}}}}}}"),
            format!("{{{head},\"targets\":{{\"a\":{{\"length\":1,\"hashes\":{{\"sha256\":7}}}}}}}}"),
            format!("{{{head},\"targets\":{{\"a\":[]}}}}"),
            format!("{{{head},\"targets\":{{\"a\":{{\"hashes\":{{{h}}}}}}}}}"),
            // entry error and delegations error: the entry is reported first
            format!("{{{head},\"targets\":{{\"a\":{{\"length\":\"1\",\"hashes\":{{{h}}}}}}},\"delegations\":7}}"),
            format!("{{{head},\"targets\":{{\"a\":{good}}},\"delegations\":7}}"),
            // header error and entry error: the header is reported first
            "{\"_type\":\"targets\",\"version\":0,\"expires\":\"2030-01-01T00:00:00Z\",\"spec_version\":\"1.0.31\",\"targets\":{\"\":1}}".to_owned(),
            format!("{{{head},\"targets\":[]}}"),
            format!("{{{head}}}"),
            "[]".to_owned(),
        ];
        for (i, ok) in [
            (0, true),
            (1, true),
            (2, true),
            (4, false),
            (11, false),
            (12, false),
        ] {
            let v = json::parse(cases[i].as_bytes()).unwrap();
            let r = Targets::parse(Dialect::TufSpec, "targets", &v);
            assert_eq!(r.is_ok(), ok, "{i}: {r:?}");
        }
        for dialect in [Dialect::TufSpec, Dialect::Notary] {
            for case in &cases {
                let v = json::parse(case.as_bytes()).unwrap();
                let a = format!("{:?}", Targets::parse(dialect, "targets", &v));
                let b = format!("{:?}", Targets::parse_owned(dialect, "targets", v));
                assert_eq!(a, b, "{dialect:?} {case}");
            }
        }
    }
}
