//! `notary key ...` commands.

use std::io::Write as _;
use std::path::Path;

use tuf_core::crypto::{Key, Signer, SoftwareSigner};
use tuf_core::Dialect;

use super::commands::Fatal;
use super::context::Context;
use super::output::table;

type Result<T> = std::result::Result<T, Fatal>;

/// `notary key list`.
pub fn key_list(ctx: &Context, json: bool) -> Result<String> {
    let mut keys = ctx.keystore.list();
    keys.sort_by(|a, b| {
        (a.gun.as_deref().unwrap_or(""), &a.role, &a.key_id).cmp(&(
            b.gun.as_deref().unwrap_or(""),
            &b.role,
            &b.key_id,
        ))
    });
    let location = ctx.keystore_dir().display().to_string();
    if json {
        let v: Vec<_> = keys
            .iter()
            .map(|k| serde_json::json!({"role": k.role, "gun": k.gun, "key_id": k.key_id, "location": location}))
            .collect();
        return Ok(serde_json::to_string_pretty(&v)? + "\n");
    }
    if keys.is_empty() {
        return Ok("\nNo signing keys found.\n".into());
    }
    let rows: Vec<Vec<String>> = keys
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
            std::fs::write(
                format!("{base}.pem"),
                crate::keystore::KeyStore::public_pem(&signer, role),
            )?;
            let private = ctx.encrypted_pem(&signer, role)?;
            write_private(Path::new(&format!("{base}-key.pem")), private.as_bytes())?;
            Ok(format!(
                "Generated new ecdsa {role} key with keyID: {key_id}\n"
            ))
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

fn todo_cmd(name: &str) -> Result<String> {
    Err(Fatal(format!("{name} is not available in this build yet")))
}

/// `notary key rotate GUN ROLE`.
pub fn key_rotate(
    _ctx: &mut Context,
    _gun: &str,
    _role: &str,
    _keys: &[std::path::PathBuf],
    _legacy: u32,
    _server_managed: bool,
) -> Result<String> {
    todo_cmd("key rotate")
}

/// `notary key import FILE...`.
pub fn key_import(
    _ctx: &mut Context,
    _files: &[std::path::PathBuf],
    _gun: Option<&str>,
    _role: Option<&str>,
) -> Result<String> {
    todo_cmd("key import")
}

/// `notary key export`.
pub fn key_export(
    _ctx: &Context,
    _guns: &[String],
    _keys: &[String],
    _output: Option<&Path>,
) -> Result<String> {
    todo_cmd("key export")
}

/// `notary key remove KEYID`.
pub fn key_remove(_ctx: &Context, _key_id: &str) -> Result<String> {
    todo_cmd("key remove")
}

/// `notary key passwd KEYID`.
pub fn key_passwd(_ctx: &mut Context, _key_id: &str) -> Result<String> {
    todo_cmd("key passwd")
}
