//! `notary root request|sign|import`: the offline root ceremony (see
//! [`crate::yubikey::ceremony`] for the files), and the staged root `publish` uploads.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};
use tuf_core::crypto::Signer as _;
use tuf_core::editor::{Lifetimes, PendingRoot, RepoEditor};
use tuf_core::name::Gun;
use tuf_core::role::{KeySet, RoleKeys, Threshold, TopRole};
use tuf_core::Dialect;

use super::commands::{gun, Fatal};
use super::context::Context;
use crate::yubikey::ceremony::{
    to_b64, PresignedSigner, RequestKey, RequiredRole, RootRequest, RootSignature, REQUEST_TYPE,
    SIGNATURE_TYPE,
};
use crate::yubikey::prompt::CliPrompt;
use crate::yubikey::stub::{key_id_of, StubStore};

type Result<T> = std::result::Result<T, Fatal>;

/// The staged ceremony of a collection: `tuf/<gun>/root_ceremony.json` (Go notary ignores
/// it).
fn staged_path(ctx: &Context, g: &Gun) -> PathBuf {
    ctx.repo(g).path().join("root_ceremony.json")
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Staged {
    request: RootRequest,
    signatures: Vec<RootSignature>,
}

fn whole_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

fn describe(
    pending: &PendingRoot,
    serial_of: &dyn Fn(&str) -> Option<u32>,
) -> (Vec<RequestKey>, Vec<RequiredRole>) {
    let mut signers: Vec<RequestKey> = Vec::new();
    let mut required = Vec::new();
    for (i, (keys, rk)) in pending.authorities.iter().enumerate() {
        let ids = plain_ids(keys, rk);
        for (id, pem) in &ids {
            if !signers.iter().any(|s| &s.key_id == id) {
                signers.push(RequestKey {
                    key_id: id.clone(),
                    public_key: pem.clone(),
                    yubikey_serial: serial_of(id),
                });
            }
        }
        required.push(RequiredRole {
            authority: if i == 0 { "new root" } else { "trusted root" }.into(),
            threshold: rk.threshold.get(),
            key_ids: ids.into_iter().map(|(id, _)| id).collect(),
        });
    }
    (signers, required)
}

fn plain_ids(keys: &KeySet, rk: &RoleKeys) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = rk
        .keyids
        .iter()
        .filter_map(|id| keys.get(id))
        .map(|k| (key_id_of(k.public_key()), k.public_key().to_spki_pem()))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Rebuilds the request's root on the collection as it is now and checks it is the same
/// root (same bytes to sign).
fn rebuild(editor: &mut RepoEditor, req: &RootRequest, now: DateTime<Utc>) -> Result<()> {
    let threshold =
        Threshold::new(req.threshold).ok_or_else(|| Fatal("request: threshold 0".into()))?;
    editor.set_role_keys(TopRole::Root, req.new_root_keys()?, threshold)?;
    let expires = DateTime::parse_from_rfc3339(&req.expires)
        .map_err(|e| Fatal(format!("request: expires: {e}")))?
        .with_timezone(&Utc);
    editor.set_expires("root", expires);
    let pending = editor
        .pending_root(now)
        .ok_or_else(|| Fatal("request: no root change".into()))?;
    if pending.canonical != req.signed_bytes()? {
        return Err(Fatal(format!(
            "the repository {} changed since the signing request was made (its root is now \
             version {}, the request replaces version {}): make a new request",
            req.gun,
            pending.root.header.version.saturating_sub(1),
            req.trusted_version
        )));
    }
    Ok(())
}

/// `notary root request GUN --yubikey SERIAL... [--threshold N] -o FILE`.
pub(super) fn request(
    ctx: &mut Context,
    gun_s: &str,
    serials: &[u32],
    threshold: Option<u32>,
    ca: Option<&Path>,
    output: &Path,
) -> Result<String> {
    let g = gun(gun_s)?;
    let t = threshold.unwrap_or(1);
    let th = Threshold::new(t).ok_or_else(|| Fatal("the threshold must be at least 1".into()))?;
    if usize::try_from(t).map_or(true, |t| t > serials.len()) {
        return Err(Fatal(format!(
            "a root threshold of {t} needs at least {t} YubiKeys"
        )));
    }
    crate::yubikey::signers::check_distinct(serials, t)?;
    let set = ctx.pull(&g).map_err(|e| Fatal(e.to_string()))?;
    let mut editor = RepoEditor::from_trusted(&set)?;
    let trusted_version = set.root().header.version;
    let now = Utc::now();
    let (stubs, yk) = super::yubikey::device_signers(ctx, serials, ca, &g)?;
    let prompt = ctx.yubikey_prompt();
    let certs = super::yubikey::root_certificates(&prompt, &yk, &g, now)?;
    editor.set_role_keys(TopRole::Root, certs.clone(), th)?;
    let expires = whole_seconds(now + Lifetimes::default_for(Dialect::Notary).root);
    editor.set_expires("root", expires);
    let pending = editor
        .pending_root(now)
        .ok_or_else(|| Fatal("no root change to request".into()))?;
    let store = StubStore::new(&ctx.cfg.trust_dir);
    let known = store.list();
    let serial_of = |id: &str| {
        stubs
            .iter()
            .chain(known.iter())
            .find(|s| s.key_id == id)
            .map(|s| s.serial)
    };
    let (signers, required) = describe(&pending, &serial_of);
    let req = RootRequest {
        kind: REQUEST_TYPE.into(),
        gun: g.as_str().to_owned(),
        version: pending.root.header.version,
        trusted_version,
        expires: expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        threshold: t,
        new_keys: certs
            .iter()
            .map(|k| {
                String::from_utf8_lossy(&tuf_core::json::to_canonical(&k.to_json())).into_owned()
            })
            .collect(),
        signed: to_b64(&pending.canonical),
        signed_sha256: hex::encode(Sha256::digest(&pending.canonical)),
        signers,
        required,
    };
    let text = serde_json::to_string_pretty(&req)? + "\n";
    std::fs::write(output, text).map_err(|e| Fatal(format!("{}: {e}", output.display())))?;
    for s in &stubs {
        store.save(s)?;
    }
    Ok(req.summary() + &format!("Request written to {}\n", output.display()))
}

/// `notary root sign REQUEST --yubikey SERIAL -o FILE`: no trust directory, no network.
pub(super) fn sign(request: &Path, serial: u32, output: &Path) -> Result<String> {
    let req = RootRequest::read(request)?;
    eprint!("{}", req.summary());
    let prompt = Arc::new(CliPrompt::new(&format!(
        "root version {} of {} (SHA-256 {})",
        req.version, req.gun, req.signed_sha256
    )));
    let signer = hw_signer::YubiKeySigner::open(serial, None, prompt)?;
    let public = signer.public_key().clone();
    let Some(entry) = req.signer_for(&public) else {
        return Err(Fatal(format!(
            "the root key of YubiKey {serial} ({}) is not one of the keys this request needs; \
             nothing was signed",
            key_id_of(&public)
        )));
    };
    let key_id = entry.key_id.clone();
    let bytes = req.signed_bytes()?;
    let wire = signer.sign_wire(&bytes, Dialect::Notary)?;
    let sig = RootSignature {
        kind: SIGNATURE_TYPE.into(),
        gun: req.gun.clone(),
        version: req.version,
        signed_sha256: req.signed_sha256.clone(),
        key_id: key_id.clone(),
        public_key: public.to_spki_pem(),
        sig: to_b64(&wire),
        yubikey_serial: Some(serial),
    };
    let text = serde_json::to_string_pretty(&sig)? + "\n";
    std::fs::write(output, text).map_err(|e| Fatal(format!("{}: {e}", output.display())))?;
    Ok(format!(
        "Signed root version {} of {} with key {key_id} (YubiKey {serial}); signature written \
         to {}\n",
        req.version,
        req.gun,
        output.display()
    ))
}

fn presigned(req: &RootRequest, sigs: &[RootSignature]) -> Result<Vec<PresignedSigner>> {
    let mut out = Vec::new();
    let mut seen = Vec::new();
    for s in sigs {
        let p = s.check(req)?;
        let id = p.public_key().identity();
        if !seen.contains(&id) {
            seen.push(id);
            out.push(p);
        }
    }
    Ok(out)
}

/// `notary root import GUN REQUEST SIG...`: checks every signature and both thresholds on
/// the collection as it is now, then stages the signed root for `publish`.
pub(super) fn import(
    ctx: &mut Context,
    gun_s: &str,
    request: &Path,
    signatures: &[PathBuf],
) -> Result<String> {
    let g = gun(gun_s)?;
    let req = RootRequest::read(request)?;
    if req.gun != g.as_str() {
        return Err(Fatal(format!("the request is for {}, not {g}", req.gun)));
    }
    let sigs = signatures
        .iter()
        .map(|p| RootSignature::read(p))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let signers = presigned(&req, &sigs)?;
    let set = ctx.pull(&g).map_err(|e| Fatal(e.to_string()))?;
    let mut editor = RepoEditor::from_trusted(&set)?;
    let now = Utc::now();
    rebuild(&mut editor, &req, now)?;
    // A trial signing run: the editor checks both thresholds (nothing is kept).
    let refs: Vec<&dyn tuf_core::crypto::Signer> = signers
        .iter()
        .map(|s| s as &dyn tuf_core::crypto::Signer)
        .collect();
    editor.sign(
        &refs,
        now,
        tuf_core::editor::SignPlan {
            snapshot: false,
            timestamp: false,
        },
    )?;
    let staged = Staged {
        request: req,
        signatures: sigs,
    };
    let path = staged_path(ctx, &g);
    crate::trustdir::write_private_file(
        &path,
        (serde_json::to_string_pretty(&staged)? + "\n").as_bytes(),
    )?;
    Ok(format!(
        "Staged root version {} of {g} with {} signature(s); run `notary publish {g}` to \
         upload it\n",
        staged.request.version,
        signers.len()
    ))
}

/// For `publish`: applies a staged ceremony root to `editor` and returns the signers that
/// carry its signatures, with the file to remove once the upload succeeded.
pub(super) fn apply_staged(
    ctx: &Context,
    g: &Gun,
    editor: &mut RepoEditor,
) -> Result<Option<(Vec<PresignedSigner>, PathBuf)>> {
    let path = staged_path(ctx, g);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Fatal(format!("{}: {e}", path.display()))),
    };
    let staged: Staged =
        serde_json::from_str(&text).map_err(|e| Fatal(format!("{}: {e}", path.display())))?;
    let signers = presigned(&staged.request, &staged.signatures)?;
    rebuild(editor, &staged.request, Utc::now())?;
    Ok(Some((signers, path)))
}
