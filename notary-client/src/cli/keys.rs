//! `notary key ...` commands.

use std::io::Write as _;
use std::path::Path;

use tuf_core::crypto::{Key, Signer, SoftwareSigner};
use tuf_core::Dialect;

use std::path::PathBuf;

use crate::keystore::pem::{self, PemBlock};
use crate::keystore::{pkcs8, KeyStore};

use super::commands::Fatal;
use super::context::Context;
use super::output::table;

type Result<T> = std::result::Result<T, Fatal>;

/// `notary key list`: the key store's keys, then the root keys held by YubiKeys (from
/// their stubs: location `yubikey <serial> slot <slot>`, attested or not).
pub fn key_list(ctx: &Context, json: bool) -> Result<String> {
    let mut keys = ctx.keystore.list();
    keys.sort_by(|a, b| {
        (a.gun.as_deref().unwrap_or(""), &a.role, &a.key_id).cmp(&(
            b.gun.as_deref().unwrap_or(""),
            &b.role,
            &b.key_id,
        ))
    });
    let devices = super::signers::device_keys(ctx);
    let location = ctx.keystore_dir().display().to_string();
    if json {
        let mut v: Vec<_> = keys
            .iter()
            .map(|k| serde_json::json!({"role": k.role, "gun": k.gun, "key_id": k.key_id, "location": location}))
            .collect();
        v.extend(devices.iter().map(|d| {
            serde_json::json!({
                "role": d.role, "gun": d.guns.first(), "guns": d.guns, "key_id": d.key_id,
                "location": d.location(), "yubikey_serial": d.serial, "slot": d.slot,
                "attested": d.attested,
            })
        }));
        return Ok(serde_json::to_string_pretty(&v)? + "\n");
    }
    if keys.is_empty() && devices.is_empty() {
        return Ok("\nNo signing keys found.\n".into());
    }
    let mut rows: Vec<Vec<String>> = keys
        .iter()
        .map(|k| {
            vec![
                k.role.clone(),
                k.gun.clone().unwrap_or_default(),
                k.key_id.clone(),
                location.clone(),
            ]
        })
        .collect();
    rows.extend(devices.iter().map(|d| {
        vec![
            d.role.clone(),
            d.guns.join(","),
            d.key_id.clone(),
            d.location(),
        ]
    }));
    Ok(format!(
        "\n{}",
        table(&["ROLE", "GUN", "KEY ID", "LOCATION"], &rows)
    ))
}

/// `notary key generate [ecdsa] [--role R] [-o PREFIX]`.
pub fn key_generate(
    ctx: &mut Context,
    algorithm: Option<&str>,
    role: &str,
    output: Option<&Path>,
) -> Result<String> {
    if let Some(a) = algorithm {
        if !a.eq_ignore_ascii_case("ecdsa") {
            return Err(Fatal(
                "Algorithm not allowed, possible values are: ECDSA".into(),
            ));
        }
    }
    let signer = SoftwareSigner::generate_p256();
    let key_id = Key::from_public_key(Dialect::Notary, signer.public_key().clone())
        .key_id()
        .to_hex();
    match output {
        None => {
            ctx.save_key(&signer, role, None)?;
            Ok(format!(
                "Generated new ecdsa {role} key with keyID: {key_id}\n"
            ))
        }
        Some(prefix) => {
            let base = prefix.display().to_string();
            std::fs::write(format!("{base}.pem"), KeyStore::public_pem(&signer, role))?;
            let private = ctx.encrypted_pem(&signer, role)?;
            write_private(Path::new(&format!("{base}-key.pem")), private.as_bytes())?;
            // Go prints nothing when writing to files.
            Ok(String::new())
        }
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    Ok(())
}

/// Prints a warning on stderr the way Go's logrus text formatter does.
fn warn(msg: &str) {
    eprintln!(
        "time=\"{}\" level=warning msg=\"{}\"",
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ"),
        msg.replace('"', "\\\"")
    );
}

/// `notary key rotate GUN ROLE` (see [`super::rotate`]).
pub fn key_rotate(
    ctx: &mut Context,
    gun: &str,
    role: &str,
    keys: &[PathBuf],
    legacy: u32,
    server_managed: bool,
    yubikeys: &super::rotate::YubikeyTarget,
) -> Result<String> {
    super::rotate::key_rotate(ctx, gun, role, keys, legacy, server_managed, yubikeys)
}

/// Go notary's `NonRootKeysSubdir`: where pre-0.4 key stores kept non-root keys.
const LEGACY_NON_ROOT_DIR: &str = "tuf_keys";

/// One PEM block on its way into the key store: Go's `ImportKeys` per-block logic.
/// Returns the file name (key id) and the PEM text to store, or the error to report.
fn import_block(
    block: &PemBlock,
    fallback_role: Option<&str>,
    fallback_gun: Option<&str>,
    retriever: &mut dyn crate::passphrase::PassphraseRetriever,
) -> std::result::Result<(String, String), ImportBlockError> {
    let mut headers: Vec<(String, String)> = block.headers.clone();
    let get = |h: &[(String, String)], k: &str| -> String {
        h.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let set = |h: &mut Vec<(String, String)>, k: &str, v: String| {
        h.retain(|(n, _)| n != k);
        h.push((k.to_string(), v));
    };
    // handleLegacyPath: `tuf_keys/<gun>/<id>` → gun header, path = base name.
    let raw_path = get(&headers, "path");
    if let Some((dir, base)) = raw_path.rsplit_once('/') {
        if let Some(g) = dir.strip_prefix(LEGACY_NON_ROOT_DIR) {
            let g = g.trim_matches('/');
            if !g.is_empty() {
                set(&mut headers, "gun", g.to_string());
            }
        }
        set(&mut headers, "path", base.to_string());
    }
    // setFallbacks.
    if get(&headers, "gun").is_empty() {
        if let Some(g) = fallback_gun.filter(|g| !g.is_empty()) {
            set(&mut headers, "gun", g.to_string());
        }
    }
    if get(&headers, "role").is_empty() {
        let r = fallback_role
            .filter(|r| !r.is_empty())
            .unwrap_or("delegation");
        set(&mut headers, "role", r.to_string());
    }
    let role = get(&headers, "role");
    // checkValidity.
    if matches!(role.as_str(), "targets" | "snapshot" | "timestamp") {
        if get(&headers, "gun").is_empty() {
            warn(&format!("failed to import key ({}) to store: Cannot have canonical role key without a gun, don't know what gun it belongs to", get(&headers, "path")));
            return Err(ImportBlockError::Skip);
        }
    } else {
        headers.retain(|(n, _)| n != "gun");
    }
    let unencrypted = match block.label.as_str() {
        "PRIVATE KEY" => pkcs8::signer_from_pkcs8(&block.der).ok(),
        "EC PRIVATE KEY" => pkcs8::signer_from_sec1(&block.der).ok(),
        _ => None,
    };
    let mut loc = get(&headers, "path");
    if loc.is_empty() {
        match &unencrypted {
            Some(s) => loc = crate::keystore::key_id_of(s),
            None => {
                warn("failed to import key to store: Invalid key generated, key may be encrypted and does not contain path header");
                return Err(ImportBlockError::Skip);
            }
        }
    }
    headers.retain(|(n, _)| n != "path");
    let gun = get(&headers, "gun");
    let text = match unencrypted {
        Some(signer) => {
            let pass = retriever.passphrase(&loc, &role, true, 0).map_err(|_| {
                ImportBlockError::Fatal("maximum number of passphrase attempts exceeded".into())
            })?;
            KeyStore::encrypted_pem(&signer, &role, Some(gun.as_str()), &pass).map_err(|_| {
                ImportBlockError::Fatal("failed to encrypt key with given passphrase".into())
            })?
        }
        None => {
            let refs: Vec<(&str, &str)> = headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            pem::encode(&block.label, &refs, &block.der)
        }
    };
    Ok((loc, text))
}

/// Why one PEM block was not imported.
enum ImportBlockError {
    /// Skipped (already warned); reported as `invalid key pem block` if nothing imported.
    Skip,
    /// Ends the import.
    Fatal(String),
}

/// `notary key import FILE...`: Go's `trustmanager.ImportKeys` for each file. Unencrypted
/// keys are encrypted with a new passphrase for their role; encrypted blocks are stored as
/// they are, but only when a `path:` header (as `key export` writes) names their key id.
pub fn key_import(
    ctx: &mut Context,
    files: &[PathBuf],
    gun: Option<&str>,
    role: Option<&str>,
) -> Result<String> {
    for file in files {
        let text = std::fs::read_to_string(file).map_err(|e| {
            // Go's `os.Open` error text.
            let why = match e.kind() {
                std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
                std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
                _ => e.to_string(),
            };
            Fatal(format!("open {}: {why}", file.display()))
        })?;
        let blocks = pem::decode_all(&text).unwrap_or_default();
        let mut pending: Option<(String, String)> = None;
        let mut errors: Vec<String> = Vec::new();
        let mut last_write: Option<Result<()>> = None;
        for block in &blocks {
            match import_block(block, role, gun, ctx.retriever()) {
                Ok((loc, pem_text)) => match &mut pending {
                    Some((at, acc)) if *at == loc => acc.push_str(&pem_text),
                    _ => {
                        if let Some((at, acc)) = pending.take() {
                            ctx.keystore.write_raw(&at, &acc)?;
                        }
                        pending = Some((loc, pem_text));
                    }
                },
                Err(ImportBlockError::Skip) => errors.push("invalid key pem block".into()),
                Err(ImportBlockError::Fatal(m)) => return Err(Fatal(m)),
            }
        }
        if let Some((at, acc)) = pending.take() {
            last_write = Some(ctx.keystore.write_raw(&at, &acc).map_err(|e| {
                warn(&format!("failed to import key to store: {e}"));
                Fatal(e.to_string())
            }));
        }
        match last_write {
            Some(r) => r?,
            None if !errors.is_empty() => {
                return Err(Fatal(format!(
                    "failed to import all keys: {}",
                    errors.join(", ")
                )))
            }
            None => {}
        }
    }
    Ok(String::new())
}

/// `notary key export [--gun G]... [--key ID]... [-o FILE]`: the key files' PEM blocks with
/// a `path: <key id>` header added (so `key import` can restore them encrypted), sorted by
/// key id, as Go's `ExportKeys`. Only the first `--gun` is used, as in Go.
pub fn key_export(
    ctx: &Context,
    guns: &[String],
    key_ids: &[String],
    output: Option<&Path>,
) -> Result<String> {
    if !guns.is_empty() && !key_ids.is_empty() {
        return Err(Fatal(
            "Only the --gun or --key flag may be provided, not a mix of the two flags".into(),
        ));
    }
    let mut out = String::new();
    for info in ctx.keystore.list() {
        let text = std::fs::read_to_string(&info.path)?;
        let blocks = pem::decode_all(&text).unwrap_or_default();
        if let Some(g) = guns.first() {
            let key_gun = blocks
                .first()
                .and_then(|b| b.header("gun"))
                .unwrap_or_default();
            if key_gun != g {
                continue;
            }
        } else if !key_ids.is_empty() && !key_ids.contains(&info.key_id) {
            continue;
        }
        for b in &blocks {
            let mut headers: Vec<(&str, &str)> = b
                .headers
                .iter()
                .filter(|(k, _)| k != "path")
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            headers.push(("path", info.key_id.as_str()));
            out.push_str(&pem::encode(&b.label, &headers, &b.der));
        }
    }
    match output {
        None => Ok(out),
        Some(path) => {
            write_private(path, out.as_bytes())?;
            Ok(String::new())
        }
    }
}

fn valid_go_key_id(key_id: &str) -> Result<()> {
    if key_id.len() != 64 {
        return Err(Fatal(format!("invalid key ID provided: {key_id}")));
    }
    Ok(())
}

/// `notary key remove KEYID`: asks `Are you sure you want to remove <id> (role R) from
/// <dir>?  (yes/no)  ` and reads the answer from stdin, as Go does.
pub fn key_remove(ctx: &Context, key_id: &str) -> Result<String> {
    valid_go_key_id(key_id)?;
    let mut stdout = std::io::stdout();
    let _ = stdout.write_all(b"\n");
    let Some(info) = ctx.keystore.list().into_iter().find(|k| k.key_id == key_id) else {
        let _ = stdout.write_all(b"\n");
        return Err(Fatal(format!("No key with ID {key_id} found")));
    };
    let description = format!(
        "{} (role {}) from {}",
        info.key_id,
        info.role,
        ctx.keystore_dir().display()
    );
    let _ = write!(
        stdout,
        "Are you sure you want to remove {description}?  (yes/no)  "
    );
    let _ = stdout.flush();
    if !super::rotate::ask_confirm(&mut std::io::stdin().lock()) {
        return Ok("\nAborting action.\n\n".into());
    }
    if let Err(e) = ctx.keystore.remove(key_id) {
        let _ = stdout.write_all(b"\n");
        return Err(e.into());
    }
    Ok(format!("\nDeleted {description}.\n\n"))
}

/// `notary key passwd KEYID`: decrypts the key with its role's current passphrase and
/// re-encrypts it with a new one, asked for through a fresh retriever (`create`), as Go
/// does (with the passphrase environment variables, the new passphrase is the same one).
pub fn key_passwd(ctx: &mut Context, key_id: &str) -> Result<String> {
    valid_go_key_id(key_id)?;
    let not_found = || {
        Fatal(format!(
            "could not retrieve local key for key ID provided: {key_id}"
        ))
    };
    let info = ctx
        .keystore
        .list()
        .into_iter()
        .find(|k| k.key_id == key_id)
        .ok_or_else(not_found)?;
    let signer = ctx.load_key(key_id).map_err(|_| not_found())?;
    let mut fresh = ctx.fresh_retriever()?;
    ctx.keystore
        .save_with(&signer, &info.role, info.gun.as_deref(), &mut fresh)?;
    Ok(format!(
        "\nSuccessfully updated passphrase for key ID: {key_id}\n"
    ))
}
