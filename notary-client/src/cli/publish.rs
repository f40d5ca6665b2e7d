//! Publishing: apply the changelist to the collection the server has (or the one `init`
//! wrote locally), sign with the local keys the roles authorise, upload.

use chrono::Utc;
use tuf_core::crypto::{Signer, SoftwareSigner};
use tuf_core::editor::{RepoEditor, SignPlan};
use tuf_core::envelope::{Signed, Verified};
use tuf_core::name::{Gun, RoleName};
use tuf_core::role::{Root, TargetEntry, Targets, TopRole};
use tuf_core::Dialect;

use super::commands::{limits, Fatal};
use super::context::Context;
use super::delegation;
use crate::changelist::{self, Action, ChangeKind, Changelist};
use crate::trustdir::RepoDir;

type Result<T> = std::result::Result<T, Fatal>;

/// The local, not yet published collection `init` wrote, verified against itself.
fn local_initial(repo: &RepoDir, g: &Gun) -> Result<(Verified<Root>, Verified<Targets>)> {
    let not_init = || {
        Fatal(format!(
            "repository {g} has not been initialized (run `notary init {g}`)"
        ))
    };
    let root_bytes = repo
        .read_metadata(&RoleName::root())?
        .ok_or_else(not_init)?;
    let targets_bytes = repo
        .read_metadata(&RoleName::targets())?
        .ok_or_else(not_init)?;
    let root = Signed::<Root>::parse(Dialect::Notary, "root", &root_bytes, &limits())?;
    let (keys, role) = (
        root.peek_untrusted().keys.clone(),
        root.peek_untrusted().role(TopRole::Root).clone(),
    );
    let root = root.verify(&keys, &role)?;
    let targets = Signed::<Targets>::parse(Dialect::Notary, "targets", &targets_bytes, &limits())?
        .verify(&root.keys, root.role(TopRole::Targets))?;
    Ok((root, targets))
}

fn target_entry_from(data: &[u8]) -> Result<TargetEntry> {
    let t =
        changelist::parse_target_data(data).map_err(|e| Fatal(format!("corrupt change: {e}")))?;
    let custom = match t.custom {
        None => None,
        Some(v) => Some(tuf_core::json::parse(&serde_json::to_vec(&v)?)?),
    };
    Ok(TargetEntry {
        length: t.length,
        hashes: t.hashes,
        custom,
        extra: Default::default(),
    })
}

/// Applies the changelist to the collection, signs with the local keys the roles authorise
/// and uploads. The server signs the timestamp (and the snapshot when it holds that key).
pub(super) fn publish_changes(ctx: &mut Context, g: &Gun) -> Result<()> {
    let repo = ctx.repo(g);
    let list = Changelist::open(&repo)?;
    let changes = list.list()?;
    let mut extra_upload: Vec<(String, Vec<u8>)> = Vec::new();
    let mut editor = match ctx.pull(g) {
        Ok(set) => RepoEditor::from_trusted(&set)?,
        Err(e) if e.is_not_found() => {
            if repo.read_metadata(&RoleName::root())?.is_none() {
                // Neither on the server nor initialised here: Go's publish initialises the
                // repository first (`Initialize(nil)`: the first local root key, else a new
                // one), e.g. after an `init -p` whose upload was refused.
                super::commands::init(ctx, g.as_str(), false, None, None)?;
            }
            let (root, targets) = local_initial(&repo, g)?;
            extra_upload.push(("root".into(), root.raw_bytes().to_vec()));
            let mut ed = RepoEditor::resume(Dialect::Notary, &root, &targets, [], None, None);
            ed.touch("targets");
            ed
        }
        Err(e) => return Err(Fatal(e.to_string())),
    };
    let local = delegation::LocalKeys::of(ctx);
    for c in &changes {
        match (c.kind, c.action) {
            (ChangeKind::Target, Action::Create | Action::Update) => {
                delegation::prepare_target_role(&mut editor, &local, &c.scope, true)?;
                editor.add_target(&c.scope, &c.path, target_entry_from(&c.data)?)?;
            }
            (ChangeKind::Target, Action::Delete) => {
                delegation::prepare_target_role(&mut editor, &local, &c.scope, false)?;
                if editor.targets(&c.scope).is_some() {
                    editor.remove_target(&c.scope, &c.path)?;
                }
            }
            (ChangeKind::Witness, _) => delegation::witness_role(&mut editor, &c.scope)?,
            (ChangeKind::Delegation, _) => delegation::apply_change(&mut editor, &local, c)?,
            (kind, _) => {
                return Err(Fatal(format!(
                    "{kind:?} changes are not supported by this notary yet"
                )))
            }
        }
    }
    // A root staged by `notary root import` (offline ceremony) goes up with this publish.
    #[cfg(feature = "yubikey")]
    let staged = super::ceremony::apply_staged(ctx, g, &mut editor)?;
    let root = editor.root().clone();
    let mut signers: Vec<SoftwareSigner> = Vec::new();
    let mut loaded: Vec<String> = Vec::new();
    for info in ctx.keystore.find("targets", Some(g.as_str())) {
        if !loaded.contains(&info.key_id) {
            signers.push(ctx.load_key(&info.key_id)?);
            loaded.push(info.key_id);
        }
    }
    // Delegated roles that may be re-signed: those changed directly, the parents of changed
    // delegations, and (for a purge) every loaded one.
    let mut roles: Vec<String> = Vec::new();
    for c in &changes {
        let scope = c.scope.as_str();
        if c.kind == ChangeKind::Delegation {
            if scope.ends_with("/*") {
                roles.extend(delegation::loaded_roles(&editor));
            } else if let Some((parent, _)) = scope.rsplit_once('/') {
                roles.push(parent.to_owned());
            }
        } else {
            roles.push(scope.to_owned());
        }
    }
    for role in roles.iter().filter(|r| r.starts_with("targets/")) {
        for id in delegation::signing_key_ids(&editor, &local, role) {
            if !loaded.contains(&id) {
                signers.push(ctx.load_key(&id)?);
                loaded.push(id);
            }
        }
    }
    let snapshot_ids: Vec<String> = root
        .role(TopRole::Snapshot)
        .keyids
        .iter()
        .map(|k| k.to_hex())
        .collect();
    let local_snapshot = ctx
        .keystore
        .find("snapshot", Some(g.as_str()))
        .into_iter()
        .filter(|k| snapshot_ids.contains(&k.key_id))
        .collect::<Vec<_>>();
    for info in &local_snapshot {
        signers.push(ctx.load_key(&info.key_id)?);
    }
    #[allow(unused_mut)]
    let mut refs: Vec<&dyn Signer> = signers.iter().map(|s| s as &dyn Signer).collect();
    #[cfg(feature = "yubikey")]
    if let Some((presigned, _)) = &staged {
        refs.extend(presigned.iter().map(|s| s as &dyn Signer));
    }
    let plan = SignPlan {
        snapshot: !local_snapshot.is_empty(),
        timestamp: false,
    };
    let files = editor.sign(&refs, Utc::now(), plan).map_err(|e| {
        // A key file that cannot be parsed is left out of the key search, so the signing
        // error alone ("0 valid signatures") would hide why: name the unusable files.
        let problems: Vec<String> = ctx
            .keystore
            .list_checked()
            .1
            .iter()
            .map(ToString::to_string)
            .collect();
        if problems.is_empty() {
            Fatal(e.to_string())
        } else {
            Fatal(format!("{e} (unusable key files: {})", problems.join("; ")))
        }
    })?;
    let mut upload = extra_upload;
    upload.extend(files.into_iter().map(|f| (f.role, f.bytes)));
    ctx.upload(g, &upload)?;
    list.clear()?;
    #[cfg(feature = "yubikey")]
    if let Some((_, path)) = &staged {
        let _ = std::fs::remove_file(path);
    }
    // Refresh the local cache with what the server now serves.
    let _ = ctx.pull(g);
    Ok(())
}

/// Go's auto-publish (`-p`): prints what `out` holds so far and "Auto-publishing changes to
/// GUN" before the upload (which may fail, as Go prints as it goes), publishes, and appends
/// the success line to `out`.
pub(super) fn auto_publish(ctx: &mut Context, g: &Gun, out: &mut String) -> Result<()> {
    out.push_str(&format!("Auto-publishing changes to {g}\n"));
    delegation::emit(&std::mem::take(out));
    publish_changes(ctx, g)?;
    out.push_str(&format!(
        "Successfully published changes for repository {g}\n"
    ));
    Ok(())
}
