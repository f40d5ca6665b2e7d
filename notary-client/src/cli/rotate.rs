//! `notary key rotate GUN ROLE [-r] [-k FILE]...`: replace a top-level role's keys in a
//! new root (version + 1) and publish it at once, as Go `notary` 0.7 does
//! (`client.RotateKey`). Staged changes are not published.
//!
//! Local state stays consistent: new keys are written to the key store before the upload
//! and removed again if it fails; retired local keys of the role are removed only after the
//! server accepted the new root; the metadata cache is refreshed afterwards.

use std::io::Write as _;
use std::path::PathBuf;

use chrono::Utc;
use tuf_core::crypto::{Key, Signer, SoftwareSigner};
use tuf_core::editor::{notary_root_key, Lifetimes, RepoEditor, SignPlan};
use tuf_core::role::{Root, Threshold, TopRole};
use tuf_core::Dialect;

use super::commands::{gun, key_from_server_json, Fatal};
use super::context::Context;

type Result<T> = std::result::Result<T, Fatal>;

/// Go's `askConfirm`: one whitespace-free token on the first line of `input`, `y` or `yes`
/// in any case. Anything else, an empty line or end of input is a "no".
pub(super) fn ask_confirm(input: &mut dyn std::io::BufRead) -> bool {
    let mut line = String::new();
    if input.read_line(&mut line).is_err() {
        return false;
    }
    let mut words = line.split_whitespace();
    match (words.next(), words.next()) {
        (Some(w), None) => w.eq_ignore_ascii_case("y") || w.eq_ignore_ascii_case("yes"),
        _ => false,
    }
}

/// Go's `checkRotationInput`: which roles may be rotated, and by whom.
fn top_role(role: &str, server_managed: bool) -> Result<TopRole> {
    let top = match role {
        "root" => TopRole::Root,
        "targets" => TopRole::Targets,
        "snapshot" => TopRole::Snapshot,
        "timestamp" => TopRole::Timestamp,
        _ => {
            return Err(Fatal(format!(
                "notary does not currently permit rotating the {role} key"
            )))
        }
    };
    let can_be_remote = matches!(top, TopRole::Timestamp | TopRole::Snapshot);
    let can_be_local = !matches!(top, TopRole::Timestamp);
    if server_managed && !can_be_remote {
        return Err(Fatal(format!(
            "notary does not permit the server managing the {role} key"
        )));
    }
    if !server_managed && !can_be_local {
        return Err(Fatal(format!(
            "notary does not permit the client managing the {role} key"
        )));
    }
    Ok(top)
}

/// The key-store file id (plain Notary key id of the public key) of each key `root` lists
/// for `role`: for root's `ecdsa-x509` keys this differs from the id in root.json.
fn file_ids(root: &Root, role: TopRole) -> Vec<String> {
    root.role(role)
        .keyids
        .iter()
        .filter_map(|id| root.keys.get(id))
        .map(|k| {
            Key::from_public_key(Dialect::Notary, k.public_key().clone())
                .key_id()
                .to_hex()
        })
        .collect()
}

/// Where `key rotate root --yubikey` puts the new root keys.
#[derive(Debug, Default)]
#[cfg_attr(not(feature = "yubikey"), allow(dead_code))]
pub struct YubikeyTarget {
    /// Serials of the YubiKeys holding the new root keys (empty: not a YubiKey rotation).
    pub serials: Vec<u32>,
    /// Root signatures the new root needs.
    pub threshold: Option<u32>,
    /// `--attestation-ca`.
    pub attestation_ca: Option<PathBuf>,
}

/// The signers among `ids`: key-store keys and keys on connected YubiKeys.
fn load_local(ctx: &mut Context, ids: &[String]) -> Result<super::signers::Found> {
    super::signers::find(ctx, ids)
}

/// Go's `readKey` for `--key FILE`: the first PEM block of the file; a root key must be
/// encrypted; an encrypted key is decrypted with the *root* passphrase whatever the role
/// (as Go does); an unencrypted one (other roles) is read as is.
pub(super) fn read_key(
    ctx: &mut Context,
    role: &str,
    path: &std::path::Path,
) -> Result<SoftwareSigner> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Fatal(format!("Error reading input root key file: {e}")))?;
    let encrypted = match crate::keystore::pem::decode_first(&text) {
        Ok(b) => b.label == "ENCRYPTED PRIVATE KEY",
        Err(_) if role == "root" => return Err(Fatal("no valid private key found".into())),
        Err(_) => false,
    };
    if role == "root" && !encrypted {
        return Err(Fatal("only encrypted root keys may be imported".into()));
    }
    let alias = if encrypted { "root" } else { role };
    Ok(crate::keystore::signer_from_pem(
        &text,
        alias,
        ctx.retriever(),
    )?)
}

/// `notary key rotate GUN ROLE`.
pub fn key_rotate(
    ctx: &mut Context,
    gun_s: &str,
    role: &str,
    key_files: &[PathBuf],
    legacy: u32,
    server_managed: bool,
    yubikeys: &YubikeyTarget,
) -> Result<String> {
    let g = gun(gun_s)?;
    if !yubikeys.serials.is_empty() && (role != "root" || !key_files.is_empty() || server_managed) {
        return Err(Fatal(
            "--yubikey rotates the root key only, without --key or --server-managed".into(),
        ));
    }
    if legacy > 0 {
        return Err(Fatal(
            "--legacy (signing with old root versions' keys) is not supported by this notary"
                .into(),
        ));
    }
    let mut given = Vec::new();
    for f in key_files {
        given.push(read_key(ctx, role, f)?);
    }
    if role == "root" && !confirm_root_rotation() {
        return Ok("\nAborting action.\n".into());
    }
    let top = top_role(role, server_managed)?;
    if !yubikeys.serials.is_empty() {
        return rotate_root_onto_yubikeys(ctx, &g, yubikeys);
    }
    if server_managed && !given.is_empty() {
        return Err(Fatal(
            "a server-managed key cannot be given with --key".into(),
        ));
    }

    let set = ctx.pull(&g).map_err(|e| Fatal(e.to_string()))?;
    let mut editor = RepoEditor::from_trusted(&set)?;
    let trusted_root: Root = (**set.root()).clone();
    let now = Utc::now();

    // The new keys: from the server, the given files, or a new local ECDSA key.
    let mut new_signers: Vec<SoftwareSigner> = Vec::new();
    let new_keys: Vec<Key> = if server_managed {
        let v = ctx
            .remote()?
            .rotate_key(g.as_str(), role)
            .map_err(|e| Fatal(format!("unable to rotate remote key: {e}")))?;
        vec![key_from_server_json(&v, role)?]
    } else {
        new_signers = if given.is_empty() {
            vec![SoftwareSigner::generate_p256()]
        } else {
            given
        };
        let lifetime = Lifetimes::default_for(Dialect::Notary).root;
        new_signers
            .iter()
            .map(|s| {
                if top == TopRole::Root {
                    Ok(notary_root_key(s, &g, now, lifetime)?)
                } else {
                    Ok(Key::from_public_key(
                        Dialect::Notary,
                        s.public_key().clone(),
                    ))
                }
            })
            .collect::<Result<_>>()?
    };
    editor.set_role_keys(top, new_keys, Threshold::ONE)?;
    if top == TopRole::Targets {
        editor.touch("targets");
    }

    // Signers: the old and new root keys we hold, the new keys, and the local snapshot
    // key when the (new) root names one (then the client signs the snapshot).
    let new_root = editor.root().clone();
    let mut root_ids = file_ids(&trusted_root, TopRole::Root);
    root_ids.extend(file_ids(&new_root, TopRole::Root));
    root_ids.sort();
    root_ids.dedup();
    let found = load_local(ctx, &root_ids)?;
    let missing = found.missing_note();
    let mut signers = found.signers;
    let local_snapshot = if top == TopRole::Snapshot {
        !server_managed
    } else {
        let snaps = load_local(ctx, &file_ids(&new_root, TopRole::Snapshot))?.signers;
        let any = !snaps.is_empty();
        signers.extend(snaps);
        any
    };
    let plan = SignPlan {
        snapshot: local_snapshot,
        timestamp: false,
    };
    #[cfg(feature = "yubikey")]
    ctx.yubikey_prompt().set_purpose(&format!(
        "root.json version {} of {g}",
        new_root.header.version.saturating_add(1)
    ));
    let files = {
        let mut refs: Vec<&dyn Signer> = signers.iter().map(|s| s.as_ref()).collect();
        refs.extend(new_signers.iter().map(|s| s as &dyn Signer));
        editor
            .sign(&refs, now, plan)
            .map_err(|e| Fatal(format!("{e}{missing}")))?
    };

    // Save the new local keys, upload, and undo the save (of keys the store did not have
    // before) if the server refuses.
    let key_gun = (top != TopRole::Root).then_some(g.as_str());
    let mut saved: Vec<String> = Vec::new();
    for s in &new_signers {
        let existed = ctx
            .keystore
            .key_path(&crate::keystore::key_id_of(s))
            .exists();
        match ctx.save_key(s, role, key_gun) {
            Ok(id) if !existed => saved.push(id),
            Ok(_) => {}
            Err(e) => {
                remove_keys(ctx, &saved);
                return Err(e);
            }
        }
    }
    let upload: Vec<(String, Vec<u8>)> = files.into_iter().map(|f| (f.role, f.bytes)).collect();
    if let Err(e) = ctx.upload(&g, &upload) {
        remove_keys(ctx, &saved);
        return Err(e);
    }

    // Go drops the retired keys of a non-root role from the key store (root keys are kept
    // to sign later rotations).
    if top != TopRole::Root {
        let still_used: Vec<String> = TopRole::ALL
            .iter()
            .flat_map(|r| file_ids(&new_root, *r))
            .collect();
        let retired: Vec<String> = file_ids(&trusted_root, top)
            .into_iter()
            .filter(|id| !still_used.contains(id))
            .collect();
        for info in ctx.keystore.list() {
            if retired.contains(&info.key_id) && info.role == role {
                let _ = ctx.keystore.remove(&info.key_id);
            }
        }
    }
    // Refresh the cache with what the server now serves.
    let _ = ctx.pull(&g);
    Ok(format!(
        "Successfully rotated {role} key for repository {g}\n"
    ))
}

#[cfg(feature = "yubikey")]
fn rotate_root_onto_yubikeys(
    ctx: &mut Context,
    g: &tuf_core::name::Gun,
    target: &YubikeyTarget,
) -> Result<String> {
    super::yubikey::rotate_root(ctx, g, target)
}

#[cfg(not(feature = "yubikey"))]
fn rotate_root_onto_yubikeys(
    _: &mut Context,
    _: &tuf_core::name::Gun,
    _: &YubikeyTarget,
) -> Result<String> {
    Err(Fatal(
        "this notary was built without YubiKey support (cargo feature `yubikey`)".into(),
    ))
}

/// The key-store file ids of the root keys `root` lists (see [`file_ids`]).
#[cfg(feature = "yubikey")]
pub(super) fn root_file_ids(root: &Root) -> Vec<String> {
    file_ids(root, TopRole::Root)
}

/// The key-store file ids of the snapshot keys `root` lists.
#[cfg(feature = "yubikey")]
pub(super) fn snapshot_file_ids(root: &Root) -> Vec<String> {
    file_ids(root, TopRole::Snapshot)
}

/// Asks Go's root-rotation question on stdout; `false` when not confirmed.
pub(super) fn confirm_root_rotation() -> bool {
    let mut stdout = std::io::stdout();
    let _ = stdout.write_all(
        b"Warning: you are about to rotate your root key.\n\n\
          You must use your old key to sign this root rotation.\n\
          Are you sure you want to proceed?  (yes/no)  ",
    );
    let _ = stdout.flush();
    ask_confirm(&mut std::io::stdin().lock())
}

fn remove_keys(ctx: &Context, ids: &[String]) {
    for id in ids {
        let _ = ctx.keystore.remove(id);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn confirm_like_go() {
        for (input, want) in [
            ("yes\n", true),
            ("y\n", true),
            ("YES", true),
            (" yes \n", true),
            ("no\n", false),
            ("", false),
            ("\n", false),
            ("yes please\n", false),
        ] {
            assert_eq!(ask_confirm(&mut input.as_bytes()), want, "{input:?}");
        }
    }

    #[test]
    fn rotation_input_like_go() {
        assert_eq!(
            top_role("timestamp", false).unwrap_err().0,
            "notary does not permit the client managing the timestamp key"
        );
        assert_eq!(
            top_role("targets", true).unwrap_err().0,
            "notary does not permit the server managing the targets key"
        );
        assert_eq!(
            top_role("targets/releases", false).unwrap_err().0,
            "notary does not currently permit rotating the targets/releases key"
        );
        assert!(top_role("snapshot", true).is_ok() && top_role("snapshot", false).is_ok());
        assert!(top_role("root", false).is_ok() && top_role("timestamp", true).is_ok());
    }
}
