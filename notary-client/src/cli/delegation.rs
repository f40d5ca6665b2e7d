//! `notary delegation list|add|remove|purge` and `notary witness`, and how `publish` applies
//! delegation changes, all with Go `notary` 0.7's messages and semantics
//! (`cmd/notary/delegations.go`, `client/delegations.go`, `client/helpers.go`,
//! `tuf/tuf.go`).
//!
//! Key ids shown to and taken from the user are *canonical* ids (for an `ecdsa-x509` key the
//! id of its bare `ecdsa` public key); the metadata stores the keys' own (TUF) ids.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead as _, Write as _};
use std::path::PathBuf;

use base64::Engine as _;
use chrono::Utc;
use tuf_core::crypto::{Key, KeyId, PublicKey};
use tuf_core::editor::RepoEditor;
use tuf_core::name::{Gun, RoleName};
use tuf_core::role::{
    DelegatedRole, DelegatedRoles, Delegations, KeySet, PathSpec, RoleKeys, Targets, Threshold,
    TopRole,
};
use tuf_core::Dialect;

use super::commands::{gun, Fatal};
use super::context::Context;
use crate::changelist::{
    Action, Change, ChangeKey, ChangeKeyVal, ChangeKind, Changelist, DelegationChange,
};

type Result<T> = std::result::Result<T, Fatal>;

/// Writes `text` to stdout now (before a publish or a prompt that may follow), as Go's
/// `cmd.Print*` calls do.
pub(super) fn emit(text: &str) {
    let mut out = std::io::stdout();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// A logrus-style warning on stderr, as Go notary prints them.
pub(super) fn warn(msg: &str) {
    let ts = Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
    let msg = msg.replace('\\', "\\\\").replace('"', "\\\"");
    eprintln!("time=\"{ts}\" level=warning msg=\"{msg}\"");
}

/// Go's `data.IsDelegation`: a valid Notary delegated role name.
fn is_delegation(role: &str) -> bool {
    RoleName::delegated(Dialect::Notary, role).is_ok()
}

/// Go's `data.IsWildDelegation`: `<delegation or targets>/*`.
fn is_wild_delegation(role: &str) -> bool {
    role.strip_suffix("/*")
        .is_some_and(|parent| parent == "targets" || is_delegation(parent))
}

/// The parent (dirname) of a delegated role.
fn parent_of(role: &str) -> &str {
    role.rsplit_once('/').map_or("", |(p, _)| p)
}

/// The canonical id of a key: for `ecdsa-x509` / `rsa-x509` the id of the bare public key.
pub(super) fn canonical_id(key: &Key) -> String {
    if key.certificate().is_some() {
        Key::from_public_key(Dialect::Notary, key.public_key().clone())
            .key_id()
            .to_hex()
    } else {
        key.key_id().to_hex()
    }
}

/// Go's `prettyPaths`: sorted, `""` shown as `"" <all paths>`.
fn pretty_paths(paths: &[String]) -> Vec<String> {
    let mut p = paths.to_vec();
    p.sort();
    p.into_iter()
        .map(|s| {
            if s.is_empty() {
                "\"\" <all paths>".to_owned()
            } else {
                s
            }
        })
        .collect()
}

/// Go's `fmt.Sprintf("%s", []string)`: `[a b c]`.
fn go_list(items: &[String]) -> String {
    format!("[{}]", items.join(" "))
}

// ---------------------------------------------------------------------------------------------
// PEM input

/// The first PEM block of `text`: label and DER (headers such as `role: ...` skipped), as
/// Go's `pem.Decode` finds it.
fn first_pem_block(text: &str) -> Option<(String, Vec<u8>)> {
    let mut lines = text.lines();
    let label = loop {
        let l = lines.next()?.trim();
        if let Some(rest) = l.strip_prefix("-----BEGIN ") {
            break rest.strip_suffix("-----")?.to_owned();
        }
    };
    let end = format!("-----END {label}-----");
    let mut body = String::new();
    for l in lines {
        let l = l.trim();
        if l == end {
            let der = base64::engine::general_purpose::STANDARD
                .decode(body.as_bytes())
                .ok()?;
            return Some((label, der));
        }
        if l.contains(':') || l.is_empty() {
            continue;
        }
        body.push_str(l);
    }
    None
}

/// Go's `utils.ParsePEMPublicKey`: a `PUBLIC KEY` PEM gives an `ecdsa` (or `rsa`) key, a
/// `CERTIFICATE` an `ecdsa-x509` (or `rsa-x509`) key wrapping the re-encoded certificate.
fn parse_pem_public_key(text: &str) -> std::result::Result<Key, String> {
    let (label, der) = first_pem_block(text).ok_or("no valid public key found")?;
    match label.as_str() {
        "CERTIFICATE" => {
            let key =
                Key::from_certificate_pem(&crate::keystore::pem::encode("CERTIFICATE", &[], &der))
                    .map_err(|e| format!("could not parse provided certificate: {e}"))?;
            if let Some(cert) = key.certificate() {
                let now = Utc::now();
                if now < cert.not_before || now > cert.not_after {
                    return Err(
                        "invalid certificate: certificate is expired or not yet valid".to_owned(),
                    );
                }
            }
            Ok(key)
        }
        "PUBLIC KEY" => {
            let pk = PublicKey::from_spki_der(&der)
                .map_err(|e| format!("unable to parse pem encoded public key: {e}"))?;
            Ok(Key::from_public_key(Dialect::Notary, pk))
        }
        other => Err(format!(
            "unsupported PEM block type \"{other}\", expected CERTIFICATE or PUBLIC KEY"
        )),
    }
}

/// A key as a changelist `TUFKey` (its metadata `keytype` and `public`).
fn change_key(key: &Key) -> Result<ChangeKey> {
    let json = key.to_json();
    let public = json
        .as_object()
        .and_then(|o| o.get("keyval"))
        .and_then(|v| v.as_object())
        .and_then(|o| o.get("public"))
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    let public = base64::engine::general_purpose::STANDARD
        .decode(public)
        .map_err(|e| Fatal(format!("invalid key: {e}")))?;
    Ok(ChangeKey {
        keytype: key.keytype().to_owned(),
        keyval: ChangeKeyVal {
            public,
            private: None,
        },
    })
}

/// A changelist `TUFKey` back as a metadata key.
fn key_from_change(k: &ChangeKey) -> Result<Key> {
    let public = base64::engine::general_purpose::STANDARD.encode(&k.keyval.public);
    let json =
        serde_json::json!({"keytype": k.keytype, "keyval": {"private": null, "public": public}});
    let v = tuf_core::json::parse(&serde_json::to_vec(&json)?)?;
    Ok(Key::from_json(Dialect::Notary, &v)?)
}

// ---------------------------------------------------------------------------------------------
// Commands

fn delegation_change(action: Action, role: &str, d: &DelegationChange) -> Change {
    Change {
        action,
        scope: role.to_owned(),
        kind: ChangeKind::Delegation,
        path: String::new(),
        data: d.to_go_json(),
    }
}

fn add_changes(ctx: &Context, g: &Gun, changes: &[Change]) -> Result<()> {
    let list = Changelist::open(&ctx.repo(g))?;
    for c in changes {
        list.add(c)?;
    }
    Ok(())
}

/// Go's `maybeAutoPublish`.
fn maybe_publish(ctx: &mut Context, g: &Gun, publish: bool) -> Result<String> {
    let mut out = String::new();
    if publish {
        super::publish::auto_publish(ctx, g, &mut out)?;
    }
    Ok(out)
}

/// `notary witness GUN ROLE...`: one `update <role> witness` change per role.
pub fn witness(ctx: &mut Context, gun_s: &str, roles: &[String], publish: bool) -> Result<String> {
    let g = gun(gun_s)?;
    let changes: Vec<Change> = roles
        .iter()
        .map(|r| Change {
            action: Action::Update,
            scope: r.clone(),
            kind: ChangeKind::Witness,
            path: String::new(),
            data: Vec::new(),
        })
        .collect();
    add_changes(ctx, &g, &changes)?;
    emit(&format!(
        "The following roles were successfully marked for witnessing on the next publish:\n\t- {}\n",
        roles.join("\n\t- ")
    ));
    maybe_publish(ctx, &g, publish)
}

/// One row of `delegation list`.
struct ListedRole {
    name: String,
    paths: Vec<String>,
    key_ids: Vec<String>,
    threshold: u32,
}

/// Every delegation of every loaded targets role, key ids canonical (Go's
/// `GetDelegationRoles`).
fn collect_roles<'a>(all: impl Iterator<Item = &'a Targets>) -> Result<Vec<ListedRole>> {
    let mut out = Vec::new();
    for t in all {
        let Some(d) = &t.delegations else { continue };
        let DelegatedRoles::List(list) = &d.roles else {
            continue;
        };
        for r in list {
            let mut key_ids = Vec::new();
            for id in &r.keys.keyids {
                let key = d.keys.get(id).ok_or_else(|| {
                    Fatal(format!(
                        "Could not translate canonical key IDs for {}",
                        r.name
                    ))
                })?;
                key_ids.push(canonical_id(key));
            }
            let paths = match &r.paths {
                PathSpec::Patterns(p) | PathSpec::HashPrefixes(p) => p.clone(),
            };
            out.push(ListedRole {
                name: r.name.as_str().to_owned(),
                paths,
                key_ids,
                threshold: r.keys.threshold.get(),
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Go's tabwriter (min width 4, padding 4): every cell but the last of a line is padded, so a
/// line whose last cell is empty ends in spaces.
fn tab_table(rows: &[Vec<String>]) -> String {
    let cols = rows.first().map_or(0, Vec::len);
    let mut widths = vec![0usize; cols];
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            out.push_str(c);
            if i + 1 < cols {
                let w = widths.get(i).copied().unwrap_or(0);
                out.push_str(&" ".repeat((w + 4).max(4) - c.chars().count()));
            }
        }
        out.push('\n');
    }
    out
}

/// `notary delegation list GUN`: the published delegations after a verifying update.
pub fn list(ctx: &mut Context, gun_s: &str, json: bool) -> Result<String> {
    let g = gun(gun_s)?;
    let set = ctx.pull(&g).map_err(|e| {
        Fatal(format!(
            "Error retrieving delegation roles for repository {g}: {e}"
        ))
    })?;
    let top = set.targets().map(|t| &**t);
    let roles = collect_roles(
        top.into_iter()
            .chain(set.delegated_roles().map(|(_, v)| &**v)),
    )?;
    if json {
        let v: Vec<_> = roles
            .iter()
            .map(|r| {
                serde_json::json!({
                    "name": r.name,
                    "paths": r.paths,
                    "keyids": r.key_ids,
                    "threshold": r.threshold,
                })
            })
            .collect();
        return Ok(serde_json::to_string_pretty(&v)? + "\n");
    }
    if roles.is_empty() {
        return Ok("\n\nNo delegations present in this repository.\n\n\n".to_owned());
    }
    let mut rows: Vec<Vec<String>> = vec![
        ["ROLE", "PATHS", "KEY IDS", "THRESHOLD"]
            .map(str::to_owned)
            .to_vec(),
        ["----", "-----", "-------", "---------"]
            .map(str::to_owned)
            .to_vec(),
    ];
    for r in &roles {
        let pp = pretty_paths(&r.paths);
        rows.push(vec![
            r.name.clone(),
            pp.first().cloned().unwrap_or_default(),
            r.key_ids.first().cloned().unwrap_or_default(),
            r.threshold.to_string(),
        ]);
        for i in 1..pp.len().max(r.key_ids.len()) {
            rows.push(vec![
                String::new(),
                pp.get(i).cloned().unwrap_or_default(),
                r.key_ids.get(i).cloned().unwrap_or_default(),
                String::new(),
            ]);
        }
    }
    Ok(format!("\n{}\n", tab_table(&rows)))
}

/// `notary delegation add GUN ROLE PEM... [--all-paths | --paths a,b] [-p]`.
pub fn add(
    ctx: &mut Context,
    gun_s: &str,
    role: &str,
    files: &[PathBuf],
    all_paths: bool,
    paths: &[String],
    publish: bool,
) -> Result<String> {
    if files.is_empty() && paths.is_empty() && !all_paths {
        return Err(Fatal("must specify the Global Unique Name and the role of the delegation along with the public key certificate paths and/or a list of paths to add".into()));
    }
    let g = gun(gun_s)?;
    let mut keys = Vec::new();
    for f in files {
        let text = match std::fs::read(f) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Fatal(format!(
                    "file for public key does not exist: {}",
                    f.display()
                )))
            }
            Err(_) => {
                return Err(Fatal(format!(
                    "unable to read public key from file: {}",
                    f.display()
                )))
            }
        };
        let key = parse_pem_public_key(&text).map_err(|e| {
            Fatal(format!(
                "unable to parse valid public key certificate from PEM file {}: {e}",
                f.display()
            ))
        })?;
        keys.push(key);
    }
    let all_paths = all_paths || paths.iter().any(String::is_empty);
    let paths: Vec<String> = if all_paths {
        vec![String::new()]
    } else {
        paths.to_vec()
    };
    if !is_delegation(role) {
        return Err(Fatal(format!(
            "failed to create delegation: tuf: invalid role {role}. invalid delegation role name"
        )));
    }
    let mut changes = Vec::new();
    if !keys.is_empty() {
        let add_keys = keys.iter().map(change_key).collect::<Result<Vec<_>>>()?;
        changes.push(delegation_change(
            Action::Create,
            role,
            &DelegationChange {
                new_threshold: 1,
                add_keys,
                ..DelegationChange::default()
            },
        ));
    }
    if !paths.is_empty() {
        changes.push(delegation_change(
            Action::Create,
            role,
            &DelegationChange {
                add_paths: paths.clone(),
                ..DelegationChange::default()
            },
        ));
    }
    add_changes(ctx, &g, &changes)?;
    let ids: Vec<String> = keys.iter().map(canonical_id).collect();
    let mut items = String::new();
    if !ids.is_empty() {
        items.push_str(&format!("with keys {}, ", go_list(&ids)));
    }
    if !paths.is_empty() {
        items.push_str(&format!(
            "with paths [{}], ",
            pretty_paths(&paths).join("\n")
        ));
    }
    emit(&format!(
        "\nAddition of delegation role {role} {items}to repository \"{g}\" staged for next publish.\n\n"
    ));
    maybe_publish(ctx, &g, publish)
}

/// Go's `askConfirm`: one whitespace-separated word from stdin, `y`/`yes` in any case.
fn ask_confirm() -> bool {
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line).is_err() {
        return false;
    }
    let mut words = line.split_whitespace();
    match (words.next(), words.next()) {
        (Some(w), None) => w.eq_ignore_ascii_case("y") || w.eq_ignore_ascii_case("yes"),
        _ => false,
    }
}

/// `notary delegation remove GUN ROLE [KEYID...] [--all-paths | --paths a,b] [-y] [-p]`.
#[allow(clippy::too_many_arguments)]
pub fn remove(
    ctx: &mut Context,
    gun_s: &str,
    role: &str,
    ids: &[String],
    all_paths: bool,
    paths: &[String],
    yes: bool,
    publish: bool,
) -> Result<String> {
    if !is_delegation(role) {
        return Err(Fatal(format!("invalid delegation name {role}")));
    }
    let g = gun(gun_s)?;
    let remove_all = ids.is_empty() && paths.is_empty() && !all_paths;
    let paths: Vec<String> = if all_paths {
        Vec::new()
    } else {
        paths.to_vec()
    };
    let mut changes = Vec::new();
    if remove_all {
        emit("\nAre you sure you want to remove all data for this delegation? (yes/no)\n");
        if yes {
            emit("Confirmed `yes` from flag\n");
        } else if !ask_confirm() {
            emit("* fatal: Aborting action.\n");
            std::process::exit(1);
        }
        changes.push(Change {
            action: Action::Delete,
            scope: role.to_owned(),
            kind: ChangeKind::Delegation,
            path: String::new(),
            data: Vec::new(),
        });
    } else {
        if all_paths {
            changes.push(delegation_change(
                Action::Update,
                role,
                &DelegationChange {
                    clear_all_paths: true,
                    ..DelegationChange::default()
                },
            ));
        }
        if !paths.is_empty() {
            changes.push(delegation_change(
                Action::Update,
                role,
                &DelegationChange {
                    remove_paths: paths.clone(),
                    ..DelegationChange::default()
                },
            ));
        }
        if !ids.is_empty() {
            changes.push(delegation_change(
                Action::Update,
                role,
                &DelegationChange {
                    remove_keys: ids.to_vec(),
                    ..DelegationChange::default()
                },
            ));
        }
    }
    add_changes(ctx, &g, &changes)?;
    let msg = if remove_all {
        format!("Forced removal (including all keys and paths) of delegation role {role} to repository \"{g}\" staged for next publish.\n")
    } else {
        let mut items = String::new();
        if !ids.is_empty() {
            items.push_str(&format!("with keys {}, ", go_list(ids)));
        }
        if all_paths {
            items.push_str("with all paths, ");
        }
        if !paths.is_empty() {
            items.push_str(&format!(
                "with paths [{}], ",
                pretty_paths(&paths).join("\n")
            ));
        }
        format!(
            "Removal of delegation role {role} {items}to repository \"{g}\" staged for next publish.\n"
        )
    };
    emit(&format!("\n{msg}\n"));
    maybe_publish(ctx, &g, publish)
}

/// `notary delegation purge GUN --key ID... [-p]`: an `update targets/* delegation` change.
pub fn purge(ctx: &mut Context, gun_s: &str, ids: &[String], publish: bool) -> Result<String> {
    if ids.is_empty() {
        return Err(Fatal(
            "Please provide at least one key ID to be removed using the --key flag".into(),
        ));
    }
    let g = gun(gun_s)?;
    let change = delegation_change(
        Action::Update,
        "targets/*",
        &DelegationChange {
            remove_keys: ids.to_vec(),
            ..DelegationChange::default()
        },
    );
    add_changes(ctx, &g, &[change])?;
    emit(&format!(
        "Removal of the following keys from all delegations in {g} staged for next publish:\n\t- {}\n",
        ids.join("\n\t- ")
    ));
    maybe_publish(ctx, &g, publish)
}

// ---------------------------------------------------------------------------------------------
// Applying delegation changes during publish

/// What publish needs to know about the local keys while applying changes.
pub(super) struct LocalKeys {
    ids: BTreeSet<String>,
}

impl LocalKeys {
    /// The ids of every private key in the key store.
    pub(super) fn of(ctx: &Context) -> Self {
        Self {
            ids: ctx.keystore.list().into_iter().map(|k| k.key_id).collect(),
        }
    }

    fn has_any<'a>(&self, keys: impl IntoIterator<Item = &'a Key>) -> bool {
        keys.into_iter()
            .any(|k| self.ids.contains(&k.key_id().to_hex()) || self.ids.contains(&canonical_id(k)))
    }
}

/// The delegation entry of `role` (its parent's key set and role entry), if loaded.
fn find_delegation(ed: &RepoEditor, role: &str) -> Option<(KeySet, DelegatedRole)> {
    let t = ed.targets(parent_of(role))?;
    let d = t.delegations.as_ref()?;
    let DelegatedRoles::List(list) = &d.roles else {
        return None;
    };
    list.iter()
        .find(|r| r.name.as_str() == role)
        .map(|r| (d.keys.clone(), r.clone()))
}

/// The keys of `role` (top-level `targets` or a delegation), for Go's `VerifyCanSign`.
fn role_keys(ed: &RepoEditor, role: &str) -> Option<Vec<Key>> {
    if role == "targets" {
        let root = ed.root();
        let rk = root.role(TopRole::Targets);
        return Some(
            rk.keyids
                .iter()
                .filter_map(|id| root.keys.get(id).cloned())
                .collect(),
        );
    }
    let (keys, r) = find_delegation(ed, role)?;
    Some(
        r.keys
            .keyids
            .iter()
            .filter_map(|id| keys.get(id).cloned())
            .collect(),
    )
}

/// Go's `VerifyCanSign`: the role exists and at least one of its keys is local.
fn verify_can_sign(ed: &RepoEditor, local: &LocalKeys, role: &str) -> Result<()> {
    let Some(keys) = role_keys(ed, role) else {
        let reason = if role == "targets" {
            "does not exist"
        } else {
            "delegation does not exist"
        };
        return Err(Fatal(format!("tuf: invalid role {role}. {reason}")));
    };
    if local.has_any(&keys) {
        return Ok(());
    }
    let ids: Vec<String> = keys.iter().map(canonical_id).collect();
    Err(Fatal(format!(
        "could not find necessary signing keys, at least one of these keys must be available: {}",
        ids.join(", ")
    )))
}

/// Go's `utils.RemoveUnusedKeys`: drops delegation keys no role uses.
fn remove_unused_keys(d: &mut Delegations) {
    let DelegatedRoles::List(list) = &d.roles else {
        return;
    };
    let used: BTreeSet<KeyId> = list.iter().flat_map(|r| r.keys.keyids.clone()).collect();
    let unused: Vec<KeyId> = d
        .keys
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| !used.contains(id))
        .collect();
    for id in unused {
        d.keys.remove(&id);
    }
}

fn subtract(orig: &[String], remove: &[String]) -> Vec<String> {
    orig.iter()
        .filter(|p| !remove.contains(p))
        .cloned()
        .collect()
}

fn merge(orig: &[String], add: &[String]) -> Vec<String> {
    let mut out = orig.to_vec();
    for p in add {
        if !out.contains(p) {
            out.push(p.clone());
        }
    }
    out
}

/// One delegation update (Go's `delegationUpdateVisitor` on the parent).
struct Update<'a> {
    add_keys: &'a [Key],
    remove_keys: &'a [String],
    add_paths: &'a [String],
    remove_paths: &'a [String],
    clear_paths: bool,
    threshold: i64,
}

/// Whether `path` is within one of the parent's path prefixes (Go's
/// `RestrictDelegationPathPrefixes`).
fn within(parent_paths: &[String], path: &str) -> bool {
    parent_paths.iter().any(|p| path.starts_with(p.as_str()))
}

/// Go's `UpdateDelegationKeys` / `UpdateDelegationPaths`: creates or amends `role` in its
/// parent. `create_parent` is whether missing parent metadata may be started.
fn update_delegation(
    ed: &mut RepoEditor,
    local: &LocalKeys,
    role: &str,
    u: &Update<'_>,
    create_parent: bool,
) -> Result<()> {
    let name = RoleName::delegated(Dialect::Notary, role).map_err(|_| {
        Fatal(format!(
            "tuf: invalid role {role}. not a valid delegated role"
        ))
    })?;
    let parent = parent_of(role).to_owned();
    verify_can_sign(ed, local, &parent)?;
    if ed.targets(&parent).is_none() {
        if !create_parent {
            return Err(Fatal(format!(
                "tuf: invalid role {role}. no valid delegated role exists"
            )));
        }
        ed.init_delegated(&parent);
    }
    if parent != "targets" {
        let parent_paths = match find_delegation(ed, &parent).map(|(_, r)| r.paths) {
            Some(PathSpec::Patterns(p)) => p,
            _ => Vec::new(),
        };
        if u.add_paths.iter().any(|p| !within(&parent_paths, p)) {
            return Err(Fatal(format!(
                "tuf: invalid role {role}. invalid paths to add to role"
            )));
        }
    }
    let existing = find_delegation(ed, role).map(|(_, r)| r);
    let mut entry = match existing {
        Some(mut r) => {
            let mut paths = match &r.paths {
                PathSpec::Patterns(p) => p.clone(),
                PathSpec::HashPrefixes(_) => Vec::new(),
            };
            paths = subtract(&paths, u.remove_paths);
            if u.clear_paths {
                paths.clear();
            }
            paths = merge(&paths, u.add_paths);
            r.paths = PathSpec::Patterns(paths);
            r.keys
                .keyids
                .retain(|id| !u.remove_keys.contains(&id.to_hex()));
            r
        }
        None => {
            let threshold = u32::try_from(u.threshold)
                .ok()
                .and_then(Threshold::new)
                .ok_or_else(|| Fatal(format!("tuf: invalid role {role}.")))?;
            DelegatedRole {
                name,
                keys: RoleKeys {
                    keyids: Vec::new(),
                    threshold,
                },
                terminating: false,
                paths: PathSpec::Patterns(u.add_paths.to_vec()),
            }
        }
    };
    for k in u.add_keys {
        let id = k.key_id();
        if !entry.keys.keyids.contains(&id) {
            entry.keys.keyids.push(id);
        }
    }
    let threshold = entry.keys.threshold.get();
    if u32::try_from(entry.keys.keyids.len()).is_ok_and(|n| n < threshold) {
        warn(&format!("role {role} has fewer keys than its threshold of {threshold}; it will not be usable until keys are added to it"));
    }
    let t = ed.targets_for_edit(&parent)?;
    let d = t.delegations.get_or_insert_with(|| Delegations {
        keys: KeySet::new(),
        roles: DelegatedRoles::List(Vec::new()),
    });
    for k in u.add_keys {
        d.keys.insert(k.clone());
    }
    if let DelegatedRoles::List(list) = &mut d.roles {
        match list.iter_mut().find(|r| r.name == entry.name) {
            Some(r) => *r = entry,
            None => list.push(entry),
        }
    }
    remove_unused_keys(d);
    Ok(())
}

/// Go's `PurgeDelegationKeys("targets/*")`: removes the keys with these canonical ids from
/// every delegation the local keys can re-sign.
fn purge_keys(ed: &mut RepoEditor, local: &LocalKeys, remove: &[String]) -> Result<()> {
    // Walk the loaded targets tree from the top, breadth first.
    let mut queue = vec!["targets".to_owned()];
    let mut i = 0;
    while let Some(role) = queue.get(i).cloned() {
        i += 1;
        let Some(t) = ed.targets(&role) else { continue };
        let Some(d) = &t.delegations else { continue };
        if let DelegatedRoles::List(list) = &d.roles {
            queue.extend(list.iter().map(|r| r.name.as_str().to_owned()));
        }
        let candidates: Vec<KeyId> = d
            .keys
            .iter()
            .filter(|(_, k)| remove.contains(&canonical_id(k)))
            .map(|(id, _)| *id)
            .collect();
        if candidates.is_empty() {
            continue;
        }
        if verify_can_sign(ed, local, &role).is_err() {
            warn(&format!("role {role} contains keys being purged but you do not have the necessary keys present to sign it; keys will not be purged from {role} or its immediate children"));
            continue;
        }
        let t = ed.targets_for_edit(&role)?;
        let Some(d) = t.delegations.as_mut() else {
            continue;
        };
        for id in &candidates {
            d.keys.remove(id);
        }
        if let DelegatedRoles::List(list) = &mut d.roles {
            for r in list.iter_mut() {
                r.keys.keyids.retain(|id| !candidates.contains(id));
                let threshold = r.keys.threshold.get();
                if u32::try_from(r.keys.keyids.len()).is_ok_and(|n| n < threshold) {
                    warn(&format!("role {} has fewer keys than its threshold of {threshold}; it will not be usable until keys are added to it", r.name));
                }
            }
        }
    }
    Ok(())
}

/// Go's `DeleteDelegation`.
fn delete_delegation(ed: &mut RepoEditor, local: &LocalKeys, role: &str) -> Result<()> {
    if !is_delegation(role) {
        return Err(Fatal(format!(
            "tuf: invalid role {role}. not a valid delegated role"
        )));
    }
    let parent = parent_of(role).to_owned();
    verify_can_sign(ed, local, &parent)?;
    ed.forget_delegated(role);
    if find_delegation(ed, role).is_none() {
        return Ok(());
    }
    let t = ed.targets_for_edit(&parent)?;
    if let Some(d) = t.delegations.as_mut() {
        if let DelegatedRoles::List(list) = &mut d.roles {
            list.retain(|r| r.name.as_str() != role);
        }
        remove_unused_keys(d);
    }
    Ok(())
}

/// Applies one `delegation` change as Go's `changeTargetsDelegation` does.
pub(super) fn apply_change(ed: &mut RepoEditor, local: &LocalKeys, c: &Change) -> Result<()> {
    let parse = || {
        crate::changelist::parse_delegation_data(&c.data)
            .map_err(|e| Fatal(format!("corrupt delegation change: {e}")))
    };
    match c.action {
        Action::Create => {
            let td = parse()?;
            let keys = td
                .add_keys
                .iter()
                .map(key_from_change)
                .collect::<Result<Vec<_>>>()?;
            update_delegation(
                ed,
                local,
                &c.scope,
                &Update {
                    add_keys: &keys,
                    remove_keys: &[],
                    add_paths: &[],
                    remove_paths: &[],
                    clear_paths: false,
                    threshold: td.new_threshold,
                },
                true,
            )?;
            update_delegation(
                ed,
                local,
                &c.scope,
                &Update {
                    add_keys: &[],
                    remove_keys: &[],
                    add_paths: &td.add_paths,
                    remove_paths: &[],
                    clear_paths: false,
                    threshold: 1,
                },
                false,
            )
        }
        Action::Update => {
            let td = parse()?;
            if is_wild_delegation(&c.scope) {
                return purge_keys(ed, local, &td.remove_keys);
            }
            let (keys, entry) = find_delegation(ed, &c.scope).ok_or_else(|| {
                Fatal(format!(
                    "tuf: invalid role {}. delegation does not exist",
                    c.scope
                ))
            })?;
            // Canonical ids (what the user sees) to the ids in the metadata.
            let canon_to_tuf: BTreeMap<String, String> = entry
                .keys
                .keyids
                .iter()
                .filter_map(|id| keys.get(id).map(|k| (canonical_id(k), id.to_hex())))
                .collect();
            let remove: Vec<String> = td
                .remove_keys
                .iter()
                .map(|id| canon_to_tuf.get(id).cloned().unwrap_or_default())
                .collect();
            let add = td
                .add_keys
                .iter()
                .map(key_from_change)
                .collect::<Result<Vec<_>>>()?;
            update_delegation(
                ed,
                local,
                &c.scope,
                &Update {
                    add_keys: &add,
                    remove_keys: &remove,
                    add_paths: &[],
                    remove_paths: &[],
                    clear_paths: false,
                    threshold: td.new_threshold,
                },
                true,
            )?;
            update_delegation(
                ed,
                local,
                &c.scope,
                &Update {
                    add_keys: &[],
                    remove_keys: &[],
                    add_paths: &td.add_paths,
                    remove_paths: &td.remove_paths,
                    clear_paths: td.clear_all_paths,
                    threshold: 1,
                },
                false,
            )
        }
        Action::Delete => delete_delegation(ed, local, &c.scope),
    }
}

/// Before a target change to a delegated role: Go's `AddTargets` / `RemoveTargets` need a
/// local key of the role; an addition starts its metadata if it has none yet (`init`).
pub(super) fn prepare_target_role(
    ed: &mut RepoEditor,
    local: &LocalKeys,
    role: &str,
    init: bool,
) -> Result<()> {
    if role == "targets" {
        return Ok(());
    }
    verify_can_sign(ed, local, role)?;
    if init {
        ed.init_delegated(role);
    }
    Ok(())
}

/// Every delegated role whose metadata is loaded, reachable from `targets`.
pub(super) fn loaded_roles(ed: &RepoEditor) -> Vec<String> {
    let mut queue = vec!["targets".to_owned()];
    let mut i = 0;
    while let Some(role) = queue.get(i).cloned() {
        i += 1;
        let Some(d) = ed.targets(&role).and_then(|t| t.delegations.as_ref()) else {
            continue;
        };
        if let DelegatedRoles::List(list) = &d.roles {
            for r in list {
                let n = r.name.as_str().to_owned();
                if ed.targets(&n).is_some() && !queue.contains(&n) {
                    queue.push(n);
                }
            }
        }
    }
    queue.into_iter().skip(1).collect()
}

/// Go's `witnessTargets`: only a role whose metadata is loaded can be witnessed.
pub(super) fn witness_role(ed: &mut RepoEditor, role: &str) -> Result<()> {
    if ed.targets(role).is_some() {
        ed.touch(role);
        return Ok(());
    }
    Err(Fatal(format!(
        "tuf: invalid role {role}. this role is not known"
    )))
}

/// The local private keys that can sign the delegated role `role` (by the ids in its
/// delegation, their own or canonical).
pub(super) fn signing_key_ids(ed: &RepoEditor, local: &LocalKeys, role: &str) -> Vec<String> {
    let Some(keys) = role_keys(ed, role) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for k in &keys {
        for id in [k.key_id().to_hex(), canonical_id(k)] {
            if local.ids.contains(&id) && !out.contains(&id) {
                out.push(id);
            }
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use tuf_core::crypto::{Signer as _, SoftwareSigner};

    #[test]
    fn public_key_pem_with_role_header_is_an_ecdsa_key() {
        let s = SoftwareSigner::generate_p256();
        let pem = s.public_key().to_spki_pem();
        let with_header = pem.replacen(
            "-----BEGIN PUBLIC KEY-----\n",
            "-----BEGIN PUBLIC KEY-----\nrole: targets/releases\n\n",
            1,
        );
        let key = parse_pem_public_key(&with_header).unwrap();
        assert_eq!(key.keytype(), "ecdsa");
        assert_eq!(canonical_id(&key), crate::keystore::key_id_of(&s));
        assert!(parse_pem_public_key("nothing here").is_err());
    }

    #[test]
    fn list_rows_keep_trailing_padding_like_tabwriter() {
        let rows = vec![
            vec![
                "ROLE".into(),
                "PATHS".into(),
                "KEY IDS".into(),
                "THRESHOLD".into(),
            ],
            vec!["targets/qa".into(), "qa/".into(), "k".into(), "1".into()],
            vec![String::new(), "tmp/".into(), String::new(), String::new()],
        ];
        assert_eq!(
            tab_table(&rows),
            concat!(
                "ROLE          PATHS    KEY IDS    THRESHOLD\n",
                "targets/qa    qa/      k          1\n",
                "              tmp/                \n"
            )
        );
    }

    #[test]
    fn paths_are_sorted_and_all_paths_is_spelled_out() {
        assert_eq!(
            pretty_paths(&["tmp/".into(), String::new(), "qa/".into()]),
            ["\"\" <all paths>", "qa/", "tmp/"]
        );
        assert_eq!(go_list(&["a".into(), "b".into()]), "[a b]");
        assert!(is_wild_delegation("targets/*"));
        assert!(!is_wild_delegation("targets"));
        assert!(is_delegation("targets/releases"));
        assert!(!is_delegation("targets"));
    }

    #[test]
    fn change_keys_round_trip() {
        let s = SoftwareSigner::generate_p256();
        let key = Key::from_public_key(Dialect::Notary, s.public_key().clone());
        let ck = change_key(&key).unwrap();
        assert_eq!(ck.keytype, "ecdsa");
        assert_eq!(key_from_change(&ck).unwrap().key_id(), key.key_id());
    }
}
