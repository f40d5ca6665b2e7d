//! `notary yubikey list|enrol`, `notary init --root-yubikey` and
//! `notary key rotate GUN root --yubikey`: root keys on YubiKeys.
//!
//! Every root-key signature (the self-signed certificate Notary uses as a root key is one,
//! root.json is another) costs one touch, announced on stderr first. Devices, thresholds
//! and distinct serials are checked before the first touch, and nothing is written (trust
//! directory or server) until every signature is made.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use chrono::Utc;
use hw_signer::enrol::{enrol as enrol_device, EnrolRequest};
use hw_signer::{
    list_devices, Credential, Device, HwError, ManagementKey, MgmAlgorithm, Pin, PinPolicy,
    YubiKeySigner, ROOT_SLOT,
};
use tuf_core::crypto::{Key, Signer, SoftwareSigner};
use tuf_core::editor::{notary_root_key, InitialKeys, Lifetimes, RepoEditor, SignPlan};
use tuf_core::name::Gun;
use tuf_core::role::{Threshold, TopRole};
use tuf_core::Dialect;

use super::commands::{gun, server_key, Fatal};
use super::context::{role_name, Context};
use super::output::table;
use super::rotate::YubikeyTarget;
use crate::yubikey::prompt::{secret_from_env_or_tty, CliPrompt};
use crate::yubikey::signers::{
    check_distinct, connected_serials, open_signer, pinned_cas, read_device_key,
};
use crate::yubikey::stub::{key_id_of, DeviceKeyStub, StubStore, STUB_TYPE};

type Result<T> = std::result::Result<T, Fatal>;

/// The new PIN for `enrol` (else the terminal is asked when the PIN is still the default).
pub const NEW_PIN_ENV: &str = "NOTARY_YUBIKEY_NEW_PIN";
/// The current PUK, when it is not the factory default and a new one is set.
pub const PUK_ENV: &str = "NOTARY_YUBIKEY_PUK";
/// The new PUK for `enrol`.
pub const NEW_PUK_ENV: &str = "NOTARY_YUBIKEY_NEW_PUK";
/// The current management key (hex), when it is not the factory default.
pub const MGM_KEY_ENV: &str = "NOTARY_YUBIKEY_MGM_KEY";

fn fmt_version(v: (u8, u8, u8)) -> String {
    format!("{}.{}.{}", v.0, v.1, v.2)
}

/// `notary yubikey list`.
pub(super) fn list(json: bool) -> Result<String> {
    let devices = match list_devices() {
        Ok(d) => d,
        Err(HwError::NoDevice { .. }) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let mut rows = Vec::new();
    let mut out = Vec::new();
    for d in devices {
        let mut dev = Device::open(Some(d.serial))?;
        let slot = dev.slot_info(ROOT_SLOT)?;
        let pin = dev.credential_status(Credential::Pin)?;
        let puk = dev.credential_status(Credential::Puk)?;
        let mgm = dev.credential_status(Credential::ManagementKey)?;
        let defaults: Vec<&str> = [(pin, "PIN"), (puk, "PUK"), (mgm, "management key")]
            .iter()
            .filter(|(st, _)| st.is_default)
            .map(|(_, n)| *n)
            .collect();
        let (key, pin_policy, touch_policy, origin) = match &slot {
            None => (
                "empty".to_owned(),
                String::new(),
                String::new(),
                String::new(),
            ),
            Some(s) => (
                if s.p256 { "P-256" } else { "other" }.to_owned(),
                s.pin_policy.to_string(),
                s.touch_policy.to_string(),
                match s.origin {
                    Some(hw_signer::KeyOrigin::Generated) => "generated",
                    Some(hw_signer::KeyOrigin::Imported) => "imported",
                    None => "",
                }
                .to_owned(),
            ),
        };
        let retries = pin.retries_left.map(|r| r.to_string()).unwrap_or_default();
        out.push(serde_json::json!({
            "serial": d.serial, "firmware": fmt_version(d.version), "reader": d.reader,
            "slot_9c": key, "pin_policy": pin_policy, "touch_policy": touch_policy,
            "origin": origin, "pin_retries_left": pin.retries_left,
            "default_secrets": defaults,
        }));
        rows.push(vec![
            d.serial.to_string(),
            fmt_version(d.version),
            key,
            pin_policy,
            touch_policy,
            origin,
            retries,
            if defaults.is_empty() {
                "none".into()
            } else {
                defaults.join(",")
            },
        ]);
    }
    if json {
        return Ok(serde_json::to_string_pretty(&out)? + "\n");
    }
    if rows.is_empty() {
        return Ok("\nNo YubiKeys found.\n".into());
    }
    Ok(format!(
        "\n{}",
        table(
            &[
                "SERIAL",
                "FIRMWARE",
                "SLOT 9C",
                "PIN POLICY",
                "TOUCH POLICY",
                "ORIGIN",
                "PIN TRIES",
                "DEFAULT SECRETS",
            ],
            &rows
        )
    ))
}

/// What `notary yubikey enrol` was asked.
pub(super) struct EnrolOptions {
    pub serial: Option<u32>,
    pub allow_default_secrets: bool,
    pub replace_key: bool,
    pub pin_policy: String,
    pub mgm_key_out: Option<PathBuf>,
    pub attestation_ca: Option<PathBuf>,
}

fn pin_from(env: &str, question: &str, puk: bool) -> Result<Pin> {
    let bytes = secret_from_env_or_tty(env, question)?;
    Ok(if puk {
        Pin::new_puk(bytes.to_vec())?
    } else {
        Pin::new(bytes.to_vec())?
    })
}

/// `notary yubikey enrol`: replaces factory-default secrets (new PIN and PUK from
/// `NOTARY_YUBIKEY_NEW_PIN`/`NOTARY_YUBIKEY_NEW_PUK` or the terminal, a new random
/// management key written to `--mgm-key-out` or shown once on a terminal), generates the
/// root key in slot 9c on the device, verifies its attestation against the pinned CA and
/// records the key's stub in the trust directory.
pub(super) fn enrol(ctx: &Context, o: &EnrolOptions) -> Result<String> {
    let pin_policy = match o.pin_policy.as_str() {
        "always" => PinPolicy::Always,
        "once" => PinPolicy::Once,
        other => return Err(Fatal(format!("--pin-policy {other}: use always or once"))),
    };
    let cas = pinned_cas(o.attestation_ca.as_deref())?;
    let mut dev = Device::open(o.serial)?;
    let serial = dev.serial();
    let firmware = dev.version();
    let pin_st = dev.credential_status(Credential::Pin)?;
    let puk_st = dev.credential_status(Credential::Puk)?;
    let mgm_st = dev.credential_status(Credential::ManagementKey)?;
    drop(dev);
    let refuse_default = |which: &str, how: &str| {
        Fatal(format!(
            "the {which} of YubiKey {serial} is still the factory default: {how}, or pass \
             --allow-default-secrets (never for a production root); nothing was changed"
        ))
    };
    let keep_defaults = o.allow_default_secrets;
    let mut_new_pin = std::env::var_os(NEW_PIN_ENV).is_some()
        || (pin_st.is_default && !keep_defaults && std::io::stdin().is_terminal());
    if pin_st.is_default && !keep_defaults && !mut_new_pin {
        return Err(refuse_default("PIN", &format!("set ${NEW_PIN_ENV}")));
    }
    let mut_new_puk = std::env::var_os(NEW_PUK_ENV).is_some()
        || (puk_st.is_default && !keep_defaults && std::io::stdin().is_terminal());
    if puk_st.is_default && !keep_defaults && !mut_new_puk {
        return Err(refuse_default("PUK", &format!("set ${NEW_PUK_ENV}")));
    }
    let new_mgm_needed = mgm_st.is_default && !keep_defaults;
    if new_mgm_needed && o.mgm_key_out.is_none() && !std::io::stderr().is_terminal() {
        return Err(refuse_default(
            "management key",
            "give --mgm-key-out FILE to store the new random one (or run on a terminal to \
             see it once)",
        ));
    }
    if let Some(p) = &o.mgm_key_out {
        if p.exists() {
            return Err(Fatal(format!(
                "{} exists: --mgm-key-out writes a new file only",
                p.display()
            )));
        }
    }

    let current_mgm = match std::env::var(MGM_KEY_ENV) {
        Ok(h) => {
            let bytes = zeroize::Zeroizing::new(
                hex::decode(h.trim()).map_err(|_| Fatal(format!("${MGM_KEY_ENV} is not hex")))?,
            );
            let alg = mgm_st
                .algorithm
                .unwrap_or(MgmAlgorithm::factory_default(firmware));
            ManagementKey::new(alg, bytes.to_vec())?
        }
        // The card's metadata says the key is still the factory default: that value is
        // used (to replace it), not guessed.
        Err(_) if mgm_st.is_default => ManagementKey::factory_default(firmware),
        Err(_) => {
            return Err(Fatal(format!(
                "the management key of YubiKey {serial} is not the factory default: give it \
                 (hex) in ${MGM_KEY_ENV}"
            )))
        }
    };
    let mut req = EnrolRequest::new(serial, current_mgm);
    req.pin_policy = pin_policy;
    req.pinned_cas = cas;
    req.replace_existing_key = o.replace_key;
    req.allow_default_credentials = keep_defaults;
    req.now = SystemTime::now();
    if mut_new_pin {
        req.current_pin = Some(if pin_st.is_default {
            Pin::new(b"123456".to_vec())?
        } else {
            pin_from(
                crate::yubikey::prompt::PIN_ENV,
                &format!("Current PIN of YubiKey {serial}: "),
                false,
            )?
        });
        req.new_pin = Some(pin_from(
            NEW_PIN_ENV,
            &format!("New PIN for YubiKey {serial} (6-8 characters): "),
            false,
        )?);
    }
    if mut_new_puk {
        req.current_puk = Some(if puk_st.is_default {
            Pin::new_puk(b"12345678".to_vec())?
        } else {
            pin_from(PUK_ENV, &format!("Current PUK of YubiKey {serial}: "), true)?
        });
        req.new_puk = Some(pin_from(
            NEW_PUK_ENV,
            &format!("New PUK for YubiKey {serial} (6-8 characters): "),
            true,
        )?);
    }
    let mut out = String::new();
    if new_mgm_needed {
        let alg = if firmware >= (5, 4, 2) {
            MgmAlgorithm::Aes192
        } else {
            MgmAlgorithm::TripleDes
        };
        let new = ManagementKey::random(alg);
        match &o.mgm_key_out {
            Some(p) => {
                let mut text = new.to_hex();
                text.push('\n');
                write_new_private_file(p, text.as_bytes())?;
                out.push_str(&format!(
                    "New management key of YubiKey {serial} written to {}\n",
                    p.display()
                ));
            }
            None => {
                // Only on a terminal (checked above): shown once, never logged.
                eprintln!(
                    "New management key of YubiKey {serial} (store it now, it is not shown \
                     again): {}",
                    new.to_hex().as_str()
                );
            }
        }
        req.new_mgm = Some(new);
    }
    let enrolment = enrol_device(&req).map_err(|e| {
        let note = o
            .mgm_key_out
            .as_ref()
            .filter(|_| new_mgm_needed)
            .map(|p| {
                format!(
                    " (the new management key in {} may or may not have been set before the \
                     failure: try it first)",
                    p.display()
                )
            })
            .unwrap_or_default();
        Fatal(format!("{e}{note}"))
    })?;
    let (evidence, ca, pin_p, touch_p) = match &enrolment.attestation {
        Some((bundle, attested)) => (
            bundle.to_pem()?,
            attested.ca_subject.clone(),
            attested.pin_policy.to_string(),
            attested.touch_policy.to_string(),
        ),
        None => (
            "unattested".into(),
            String::new(),
            pin_policy.to_string(),
            "always".into(),
        ),
    };
    let stub = DeviceKeyStub {
        kind: STUB_TYPE.into(),
        key_id: key_id_of(&enrolment.public_key),
        role: "root".into(),
        guns: Vec::new(),
        serial,
        slot: format!("{ROOT_SLOT:02x}"),
        firmware: fmt_version(enrolment.firmware),
        public_key: enrolment.public_key.to_spki_pem(),
        pin_policy: pin_p.clone(),
        touch_policy: touch_p.clone(),
        attestation: evidence,
        attestation_ca: ca.clone(),
    };
    StubStore::new(&ctx.cfg.trust_dir).save(&stub)?;
    out.push_str(&format!(
        "Enrolled YubiKey {serial} (firmware {}): root key {} in slot 9c, touch {touch_p}, \
         PIN {pin_p}; attestation verified against {ca}\n",
        fmt_version(enrolment.firmware),
        stub.key_id
    ));
    Ok(out)
}

fn write_new_private_file(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Fatal(format!("{}: {e}", path.display())))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| Fatal(format!("{}: {e}", path.display())))
}

/// The threshold for `n` device keys: `given` (default 1), at most `n`, with distinct
/// devices when 2 or more.
fn threshold_for(serials: &[u32], given: Option<u32>) -> Result<Threshold> {
    let t = given.unwrap_or(1);
    let threshold =
        Threshold::new(t).ok_or_else(|| Fatal("the root threshold must be at least 1".into()))?;
    if usize::try_from(t).map_or(true, |t| t > serials.len()) {
        return Err(Fatal(format!(
            "a root threshold of {t} needs at least {t} YubiKeys (got {})",
            serials.len()
        )));
    }
    check_distinct(serials, t)?;
    Ok(threshold)
}

/// Reads the keys of the YubiKeys `serials` (all must be connected) with their
/// attestations, merged with what the trust directory already records, and opens their
/// signers. No touch.
pub(super) fn device_signers(
    ctx: &Context,
    serials: &[u32],
    ca: Option<&Path>,
    g: &Gun,
) -> Result<(Vec<DeviceKeyStub>, Vec<YubiKeySigner>)> {
    let connected = connected_serials()?;
    let missing: Vec<String> = serials
        .iter()
        .filter(|s| !connected.contains(s))
        .map(ToString::to_string)
        .collect();
    if !missing.is_empty() {
        return Err(Fatal(format!(
            "YubiKey(s) {} not connected (connected: {connected:?}); nothing was signed",
            missing.join(", ")
        )));
    }
    let cas = pinned_cas(ca)?;
    let store = StubStore::new(&ctx.cfg.trust_dir);
    let mut stubs = Vec::new();
    let mut signers = Vec::new();
    for s in serials {
        let mut stub = read_device_key(*s, &cas, SystemTime::now())?;
        if let Some(old) = store.get(&stub.key_id)? {
            stub.guns = old.guns;
        }
        if !stub.guns.iter().any(|x| x == g.as_str()) {
            stub.guns.push(g.as_str().to_owned());
        }
        signers.push(open_signer(&stub, ctx.yubikey_prompt())?);
        stubs.push(stub);
    }
    Ok((stubs, signers))
}

/// The Notary root keys (self-signed certificates for `g`) of `signers`: one root-key
/// signature, so one touch, each.
pub(super) fn root_certificates(
    prompt: &Arc<CliPrompt>,
    signers: &[YubiKeySigner],
    g: &Gun,
    now: chrono::DateTime<Utc>,
) -> Result<Vec<Key>> {
    let lifetime = Lifetimes::default_for(Dialect::Notary).root;
    prompt.set_purpose(&format!("the root certificate of {g}"));
    signers
        .iter()
        .map(|s| Ok(notary_root_key(s, g, now, lifetime)?))
        .collect()
}

/// `notary init GUN --root-yubikey SERIAL... [--root-threshold N] [-p]`.
pub(super) fn init_with_yubikeys(
    ctx: &mut Context,
    gun_s: &str,
    publish_after: bool,
    serials: &[u32],
    threshold: Option<u32>,
    ca: Option<&Path>,
) -> Result<String> {
    let g = gun(gun_s)?;
    let threshold = threshold_for(serials, threshold)?;
    let now = Utc::now();
    let (stubs, yk) = device_signers(ctx, serials, ca, &g)?;
    let timestamp = server_key(ctx, &g, "timestamp")?;
    let targets = SoftwareSigner::generate_p256();
    let snapshot = SoftwareSigner::generate_p256();
    let prompt = ctx.yubikey_prompt();
    let certs = root_certificates(&prompt, &yk, &g, now)?;
    let key = |s: &SoftwareSigner| Key::from_public_key(Dialect::Notary, s.public_key().clone());
    let keys = InitialKeys {
        root: certs.clone(),
        targets: vec![key(&targets)],
        snapshot: vec![key(&snapshot)],
        timestamp: vec![timestamp],
    };
    let mut editor = RepoEditor::create(Dialect::Notary, keys, now);
    editor.set_role_keys(TopRole::Root, certs, threshold)?;
    prompt.set_purpose(&format!("root.json of {g}"));
    let mut signers: Vec<&dyn Signer> = yk.iter().map(|s| s as &dyn Signer).collect();
    signers.push(&targets);
    signers.push(&snapshot);
    let plan = SignPlan {
        snapshot: true,
        timestamp: false,
    };
    let files = editor.sign(&signers, now, plan)?;
    // Every signature is made: only now is anything written.
    ctx.save_key(&targets, "targets", Some(g.as_str()))?;
    ctx.save_key(&snapshot, "snapshot", Some(g.as_str()))?;
    let store = StubStore::new(&ctx.cfg.trust_dir);
    for s in &stubs {
        store.save(s)?;
    }
    let repo = ctx.repo(&g);
    for f in files {
        let role = role_name(&f.role).ok_or_else(|| Fatal(format!("invalid role {}", f.role)))?;
        repo.write_metadata(&role, &f.bytes)?;
    }
    let mut out = format!(
        "Root of {g}: {} YubiKey key(s) (serials {}), threshold {}\n",
        stubs.len(),
        serials
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        threshold.get()
    );
    if publish_after {
        super::publish::auto_publish(ctx, &g, &mut out)?;
    }
    Ok(out)
}

/// `notary key rotate GUN root --yubikey SERIAL... [--threshold N]`: the new root lists
/// the YubiKeys' keys; the trusted root's keys (software or YubiKeys) sign the handover.
/// Published at once; stubs are recorded only after the server accepted the new root.
pub(super) fn rotate_root(ctx: &mut Context, g: &Gun, target: &YubikeyTarget) -> Result<String> {
    let threshold = threshold_for(&target.serials, target.threshold)?;
    let set = ctx.pull(g).map_err(|e| Fatal(e.to_string()))?;
    let mut editor = RepoEditor::from_trusted(&set)?;
    let trusted = (**set.root()).clone();
    let now = Utc::now();

    // The old root must be able to sign before any device is touched.
    let old = super::signers::find(ctx, &super::rotate::root_file_ids(&trusted))?;
    let have: Vec<[u8; 32]> = old
        .signers
        .iter()
        .map(|s| s.public_key().identity())
        .collect();
    let old_role = trusted.role(TopRole::Root);
    let mut covered: Vec<[u8; 32]> = old_role
        .keyids
        .iter()
        .filter_map(|id| trusted.keys.get(id))
        .map(|k| k.public_key().identity())
        .filter(|i| have.contains(i))
        .collect();
    covered.sort_unstable();
    covered.dedup();
    if covered.len() < old_role.threshold.get() as usize {
        return Err(Fatal(format!(
            "the current root needs {} signature(s) and only {} of its keys are available{}; \
             nothing was signed",
            old_role.threshold.get(),
            covered.len(),
            old.missing_note()
        )));
    }
    let (stubs, yk) = device_signers(ctx, &target.serials, target.attestation_ca.as_deref(), g)?;
    let prompt = ctx.yubikey_prompt();
    let certs = root_certificates(&prompt, &yk, g, now)?;
    editor.set_role_keys(TopRole::Root, certs, threshold)?;
    let new_root = editor.root().clone();
    let snaps = super::signers::find(ctx, &super::rotate::snapshot_file_ids(&new_root))?.signers;
    let plan = SignPlan {
        snapshot: !snaps.is_empty(),
        timestamp: false,
    };
    prompt.set_purpose(&format!(
        "root.json version {} of {g}",
        trusted.header.version.saturating_add(1)
    ));
    let files = {
        // A device both in the old and the new root signs once (the old signer is kept).
        let mut refs: Vec<&dyn Signer> = old.signers.iter().map(|s| s.as_ref()).collect();
        for s in &yk {
            if !have.contains(&s.public_key().identity()) {
                refs.push(s);
            }
        }
        refs.extend(snaps.iter().map(|s| s.as_ref()));
        editor.sign(&refs, now, plan)?
    };
    let upload: Vec<(String, Vec<u8>)> = files.into_iter().map(|f| (f.role, f.bytes)).collect();
    ctx.upload(g, &upload)?;
    let store = StubStore::new(&ctx.cfg.trust_dir);
    for s in &stubs {
        store.save(s)?;
    }
    let _ = ctx.pull(g);
    Ok(format!(
        "Successfully rotated root key for repository {g}\n"
    ))
}
