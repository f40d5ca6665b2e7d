//! The commands. Messages and tables are Go `notary` 0.7's (fixture transcript
//! `e2e-client.txt`); errors are returned as [`Fatal`] and printed as `* fatal: …`.

use std::io::{Read as _, Write as _};
use std::path::Path;

use base64::Engine as _;
use chrono::Utc;
use tuf_core::crypto::{Key, PublicKey, Signer, SoftwareSigner};
use tuf_core::editor::{notary_root_key, InitialKeys, Lifetimes, RepoEditor, SignPlan};
use tuf_core::json::JsonLimits;
use tuf_core::name::Gun;
use tuf_core::role::{Hashes, TargetEntry};
use tuf_core::search::TargetLookup;
use tuf_core::trusted_set::TrustedSet;
use tuf_core::Dialect;

use super::context::{role_name, Context};
use super::output::table;
use crate::changelist::{self, Action, Change, ChangeKind, Changelist};

/// A fatal error, printed as `* fatal: <message>` (exit 1), as Go notary does.
#[derive(Debug)]
pub struct Fatal(pub String);

impl<E: std::fmt::Display> From<E> for Fatal {
    fn from(e: E) -> Self {
        Fatal(e.to_string())
    }
}

type Result<T> = std::result::Result<T, Fatal>;

pub(super) fn gun(s: &str) -> Result<Gun> {
    Gun::parse(s).map_err(|e| Fatal(e.to_string()))
}

pub(super) fn limits() -> JsonLimits {
    JsonLimits {
        max_bytes: 256 << 20,
        max_depth: 64,
    }
}

/// `notary version`.
pub fn version() -> Result<String> {
    Ok(format!(
        "notary\n Version:    {}\n Git commit: \n Rust:       notary-rs\n",
        env!("CARGO_PKG_VERSION")
    ))
}

/// The public key the server holds for `role`, as a Notary key.
pub(super) fn server_key(ctx: &Context, gun: &Gun, role: &str) -> Result<Key> {
    let v = ctx.remote()?.get_key(gun.as_str(), role)?;
    key_from_server_json(&v, role)
}

/// A key as the server returns it from `…/<role>.key` (`{"keytype", "keyval": {"public"}}`),
/// as a Notary key.
pub(super) fn key_from_server_json(v: &serde_json::Value, role: &str) -> Result<Key> {
    let keytype = v["keytype"].as_str().unwrap_or_default();
    let public = v["keyval"]["public"].as_str().unwrap_or_default();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(public)
        .map_err(|_| Fatal(format!("server returned an invalid {role} key")))?;
    let pk = match keytype {
        "ed25519" => PublicKey::ed25519_from_bytes(&raw)?,
        "ecdsa" => PublicKey::from_spki_der(&raw)?,
        other => {
            return Err(Fatal(format!(
                "server returned an unsupported {role} key type {other}"
            )))
        }
    };
    Ok(Key::from_public_key(Dialect::Notary, pk))
}

/// `notary init GUN [-p]`.
pub fn init(
    ctx: &mut Context,
    gun_s: &str,
    publish_after: bool,
    root_key: Option<&Path>,
    root_cert: Option<&Path>,
) -> Result<String> {
    let g = gun(gun_s)?;
    let mut out = String::new();
    let now = Utc::now();
    let cert = match root_cert {
        None => None,
        Some(p) => {
            let pem =
                std::fs::read_to_string(p).map_err(|e| Fatal(format!("{}: {e}", p.display())))?;
            let k = Key::from_certificate_pem(&pem)
                .map_err(|e| Fatal(format!("{}: {e}", p.display())))?;
            if k.certificate().and_then(|c| c.common_name.as_deref()) != Some(g.as_str()) {
                return Err(Fatal(format!(
                    "the root certificate's common name is not {g}"
                )));
            }
            Some(k)
        }
    };
    let matches_cert = |s: &SoftwareSigner| {
        cert.as_ref()
            .is_none_or(|c| c.public_key().identity() == s.public_key().identity())
    };
    let root_signer = if let Some(p) = root_key {
        let s = super::rotate::read_key(ctx, "root", p)?;
        if ctx
            .keystore
            .find("root", None)
            .iter()
            .all(|k| k.key_id != crate::keystore::key_id_of(&s))
        {
            ctx.save_key(&s, "root", None)?;
        }
        s
    } else {
        let mut found = None;
        for info in ctx.keystore.find("root", None) {
            let s = ctx.load_key(&info.key_id)?;
            if matches_cert(&s) {
                out.push_str(&format!("Root key found, using: {}\n", info.key_id));
                found = Some(s);
                break;
            }
        }
        match found {
            Some(s) => s,
            None if cert.is_some() => {
                return Err(Fatal(
                    "no root key in the key store matches the root certificate".into(),
                ))
            }
            None => {
                let s = SoftwareSigner::generate_p256();
                ctx.save_key(&s, "root", None)?;
                s
            }
        }
    };
    if !matches_cert(&root_signer) {
        return Err(Fatal(
            "the root certificate does not match the root key".into(),
        ));
    }
    let targets = SoftwareSigner::generate_p256();
    let snapshot = SoftwareSigner::generate_p256();
    let timestamp = server_key(ctx, &g, "timestamp")?;
    ctx.save_key(&targets, "targets", Some(g.as_str()))?;
    ctx.save_key(&snapshot, "snapshot", Some(g.as_str()))?;
    let lifetimes = Lifetimes::default_for(Dialect::Notary);
    let key = |s: &SoftwareSigner| Key::from_public_key(Dialect::Notary, s.public_key().clone());
    let keys = InitialKeys {
        root: vec![match cert {
            Some(c) => c,
            None => notary_root_key(&root_signer, &g, now, lifetimes.root)?,
        }],
        targets: vec![key(&targets)],
        snapshot: vec![key(&snapshot)],
        timestamp: vec![timestamp],
    };
    let mut editor = RepoEditor::create(Dialect::Notary, keys, now);
    let signers: [&dyn Signer; 3] = [&root_signer, &targets, &snapshot];
    let plan = SignPlan {
        snapshot: true,
        timestamp: false,
    };
    let repo = ctx.repo(&g);
    for f in editor.sign(&signers, now, plan)? {
        let role = role_name(&f.role).ok_or_else(|| Fatal(format!("invalid role {}", f.role)))?;
        repo.write_metadata(&role, &f.bytes)?;
    }
    if publish_after {
        super::publish::auto_publish(ctx, &g, &mut out)?;
    }
    Ok(out)
}

fn stage(
    ctx: &mut Context,
    g: &Gun,
    changes: Vec<Change>,
    message: String,
    publish_after: bool,
) -> Result<String> {
    let repo = ctx.repo(g);
    let list = Changelist::open(&repo)?;
    for c in &changes {
        list.add(c)?;
    }
    let mut out = message;
    if publish_after {
        super::publish::auto_publish(ctx, g, &mut out)?;
    }
    Ok(out)
}

fn roles_or_targets(roles: &[String]) -> Vec<String> {
    if roles.is_empty() {
        vec!["targets".to_owned()]
    } else {
        roles.to_vec()
    }
}

fn read_custom(custom: Option<&Path>) -> Result<Option<serde_json::Value>> {
    match custom {
        None => Ok(None),
        Some(p) => {
            let text = std::fs::read(p).map_err(|e| Fatal(format!("{}: {e}", p.display())))?;
            Ok(Some(serde_json::from_slice(&text).map_err(|e| {
                Fatal(format!("custom data {}: {e}", p.display()))
            })?))
        }
    }
}

fn target_changes(roles: &[String], target: &str, data: Vec<u8>, action: Action) -> Vec<Change> {
    roles_or_targets(roles)
        .into_iter()
        .map(|role| Change {
            action,
            scope: role,
            kind: ChangeKind::Target,
            path: target.to_owned(),
            data: data.clone(),
        })
        .collect()
}

/// `notary add GUN TARGET FILE`.
pub fn add(
    ctx: &mut Context,
    gun_s: &str,
    target: &str,
    file: &Path,
    custom: Option<&Path>,
    roles: &[String],
    publish_after: bool,
) -> Result<String> {
    let g = gun(gun_s)?;
    let bytes = std::fs::read(file).map_err(|e| Fatal(format!("{}: {e}", file.display())))?;
    let entry = TargetEntry::for_data(&bytes);
    let data = changelist::target_data(entry.length, &entry.hashes, read_custom(custom)?.as_ref());
    let msg =
        format!("Addition of target \"{target}\" to repository \"{g}\" staged for next publish.\n");
    stage(
        ctx,
        &g,
        target_changes(roles, target, data, Action::Create),
        msg,
        publish_after,
    )
}

/// `notary addhash GUN TARGET SIZE --sha256 HEX [--sha512 HEX]`.
#[allow(clippy::too_many_arguments)]
pub fn addhash(
    ctx: &mut Context,
    gun_s: &str,
    target: &str,
    size: u64,
    sha256: Option<&str>,
    sha512: Option<&str>,
    custom: Option<&Path>,
    roles: &[String],
    publish_after: bool,
) -> Result<String> {
    let g = gun(gun_s)?;
    let mut hashes = Hashes::new();
    let mut names = Vec::new();
    for (alg, hex_value, len) in [("sha256", sha256, 32), ("sha512", sha512, 64)] {
        if let Some(h) = hex_value {
            let raw = hex::decode(h)
                .ok()
                .filter(|r| r.len() == len)
                .ok_or_else(|| Fatal(format!("invalid {alg} hex contents provided")))?;
            hashes.insert(alg.to_owned(), raw);
            names.push(alg);
        }
    }
    if hashes.is_empty() {
        return Err(Fatal("Must specify at least one hash".into()));
    }
    let data = changelist::target_data(size, &hashes, read_custom(custom)?.as_ref());
    let msg = format!(
        "Addition of target \"{target}\" by {} hash to repository \"{g}\" staged for next publish.\n",
        names.join(", ")
    );
    stage(
        ctx,
        &g,
        target_changes(roles, target, data, Action::Create),
        msg,
        publish_after,
    )
}

/// `notary remove GUN TARGET`.
pub fn remove(
    ctx: &mut Context,
    gun_s: &str,
    target: &str,
    roles: &[String],
    publish_after: bool,
) -> Result<String> {
    let g = gun(gun_s)?;
    let msg = format!("Removal of {target} from {g} staged for next publish.\n");
    stage(
        ctx,
        &g,
        target_changes(roles, target, Vec::new(), Action::Delete),
        msg,
        publish_after,
    )
}

/// `notary status GUN`.
pub fn status(ctx: &Context, gun_s: &str, json: bool) -> Result<String> {
    let g = gun(gun_s)?;
    let changes = Changelist::open(&ctx.repo(&g))?.list()?;
    if json {
        let v: Vec<_> = changes
            .iter()
            .enumerate()
            .map(|(i, c)| {
                serde_json::json!({"index": i, "action": c.action, "scope": c.scope, "type": c.kind, "path": c.path})
            })
            .collect();
        return Ok(serde_json::to_string_pretty(&v)? + "\n");
    }
    if changes.is_empty() {
        return Ok(format!("No unpublished changes for {g}\n"));
    }
    Ok(format!(
        "Unpublished changes for {g}:\n\n{}",
        changelist::status_table(&changes)
    ))
}

/// `notary reset GUN [--all | -n N...]`.
pub fn reset(ctx: &Context, gun_s: &str, all: bool, numbers: &[usize]) -> Result<String> {
    let g = gun(gun_s)?;
    let list = Changelist::open(&ctx.repo(&g))?;
    if all {
        list.clear()?;
    } else {
        list.remove(numbers)?;
    }
    Ok(format!(
        "Successfully reset specified changes for repository {g}\n"
    ))
}

/// `notary publish GUN`.
pub fn publish(ctx: &mut Context, gun_s: &str) -> Result<String> {
    let g = gun(gun_s)?;
    super::delegation::emit(&format!("Pushing changes to {g}\n"));
    super::publish::publish_changes(ctx, &g)?;
    Ok(format!(
        "Successfully published changes for repository {g}\n"
    ))
}

fn all_targets(set: &TrustedSet, roles: &[String]) -> Vec<Vec<String>> {
    set.list_targets()
        .into_iter()
        .filter(|t| roles.is_empty() || roles.contains(&t.role))
        .map(|t| {
            vec![
                t.path.to_owned(),
                t.entry.sha256_hex().unwrap_or_default(),
                t.entry.length.to_string(),
                t.role.clone(),
            ]
        })
        .collect()
}

/// `notary list GUN`.
pub fn list(ctx: &mut Context, gun_s: &str, roles: &[String], json: bool) -> Result<String> {
    let g = gun(gun_s)?;
    let set = ctx.pull(&g).map_err(|e| Fatal(e.to_string()))?;
    let rows = all_targets(&set, roles);
    if json {
        let v: Vec<_> = rows
            .iter()
            .map(|r| serde_json::json!({"name": r[0], "digest": r[1], "size": r[2].parse::<u64>().unwrap_or(0), "role": r[3]}))
            .collect();
        return Ok(serde_json::to_string_pretty(&v)? + "\n");
    }
    if rows.is_empty() {
        return Ok("\nNo targets present in this repository.\n\n".into());
    }
    Ok(table(&["NAME", "DIGEST", "SIZE (BYTES)", "ROLE"], &rows))
}

fn find(set: &TrustedSet, target: &str) -> Result<(TargetEntry, String)> {
    match set.find_target(target)? {
        TargetLookup::Found { entry, role } => Ok((entry.clone(), role)),
        _ => Err(Fatal(format!("No valid trust data for {target}"))),
    }
}

/// `notary lookup GUN TARGET`.
pub fn lookup(ctx: &mut Context, gun_s: &str, target: &str, json: bool) -> Result<String> {
    let g = gun(gun_s)?;
    let set = ctx.pull(&g).map_err(|e| Fatal(e.to_string()))?;
    let (entry, role) = find(&set, target)?;
    let digest = entry.sha256_hex().unwrap_or_default();
    if json {
        return Ok(serde_json::to_string_pretty(
            &serde_json::json!({"name": target, "digest": digest, "size": entry.length, "role": role}),
        )? + "\n");
    }
    Ok(format!("{target} sha256:{digest} {}\n", entry.length))
}

/// `notary verify GUN TARGET [-i FILE] [-o FILE] [-q]`: the data is written out only if it
/// matches its trusted length and hashes.
pub fn verify(
    ctx: &mut Context,
    gun_s: &str,
    target: &str,
    input: Option<&Path>,
    output: Option<&Path>,
    quiet: bool,
) -> Result<String> {
    let g = gun(gun_s)?;
    let mut data = Vec::new();
    match input {
        Some(p) => data = std::fs::read(p).map_err(|e| Fatal(format!("{}: {e}", p.display())))?,
        None => {
            std::io::stdin().read_to_end(&mut data)?;
        }
    }
    let set = ctx.pull(&g).map_err(|e| Fatal(e.to_string()))?;
    let (entry, _) = find(&set, target)?;
    if let Err(e) = tuf_core::target::verify_target(target, &entry, &data) {
        let (alg, expected) = match &e {
            tuf_core::error::TargetError::Hash { algorithm, .. } => (
                algorithm.clone(),
                entry
                    .hashes
                    .get(algorithm)
                    .map(hex::encode)
                    .unwrap_or_default(),
            ),
            _ => ("sha256".to_owned(), entry.sha256_hex().unwrap_or_default()),
        };
        return Err(Fatal(format!(
            "data not present in the trusted collection, {alg} checksum for {target} did not match: expected {expected}"
        )));
    }
    if quiet {
        return Ok(String::new());
    }
    match output {
        Some(p) => {
            std::fs::write(p, &data).map_err(|e| Fatal(format!("{}: {e}", p.display())))?;
            Ok(String::new())
        }
        None => {
            std::io::stdout().write_all(&data)?;
            Ok(String::new())
        }
    }
}

/// `notary delete GUN [--remote]`.
pub fn delete(ctx: &mut Context, gun_s: &str, remote: bool) -> Result<String> {
    let g = gun(gun_s)?;
    // As Go (`tufDeleteGUN`, `client.DeleteTrustData`): set up the transport, announce,
    // remove the local data, then the remote (which may still fail, e.g. 401).
    let server = if remote { Some(ctx.remote()?) } else { None };
    super::delegation::emit(&format!("Deleting trust data for repository {g}\n"));
    ctx.repo(&g).delete_all()?;
    if let Some(server) = server {
        server.delete(g.as_str())?;
    }
    Ok(format!(
        "Successfully deleted local {}trust data for repository {g}\n",
        if remote { "and remote " } else { "" }
    ))
}
