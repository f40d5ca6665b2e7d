//! What every command needs: the resolved configuration, the key store, passphrases, the
//! trust directory and the remote server.

use std::path::{Path, PathBuf};

use chrono::Utc;
use tuf_core::crypto::{Key, SoftwareSigner};
use tuf_core::name::{Gun, RoleName};
use tuf_core::trusted_set::{Limits, TrustedSet};

use super::args::Global;
use super::commands::Fatal;
use crate::config::{self, ClientConfig, GlobalFlags};
use crate::keystore::KeyStore;
use crate::passphrase::{EnvRetriever, PassphraseRetriever as _};
use crate::remote::{Remote, RemoteOptions};
use crate::trustdir::RepoDir;
use crate::update::{self, MetadataCache, UpdateFailure, UpdateOptions};

/// The certificates of a `trust_pinning.ca` bundle (PEM, one or more `CERTIFICATE` blocks).
/// Unreadable, empty or unparsable files are errors naming the file (Go: `could not load root
/// cert from CA path`); which CAs are currently valid is decided by the update.
fn load_ca_bundle(path: &Path) -> Result<Vec<Key>, PullError> {
    let err = |reason: String| {
        PullError::Setup(format!(
            "could not load root cert from CA path {} (trust_pinning.ca): {reason}",
            path.display()
        ))
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut certs = Vec::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find(BEGIN) {
        let after = &rest[start..];
        let end = after
            .find(END)
            .ok_or_else(|| err("unterminated PEM certificate".into()))?;
        let block = &after[..end + END.len()];
        let key = Key::from_certificate_pem(block).map_err(|e| err(e.to_string()))?;
        certs.push(key);
        rest = &after[end + END.len()..];
    }
    if certs.is_empty() {
        return Err(err("no PEM certificates found".into()));
    }
    Ok(certs)
}

/// The [`RoleName`] of a metadata file name (`root`, `targets`, `targets/releases`, ...).
pub(crate) fn role_name(role: &str) -> Option<RoleName> {
    match role {
        "root" => Some(RoleName::root()),
        "targets" => Some(RoleName::targets()),
        "snapshot" => Some(RoleName::snapshot()),
        "timestamp" => Some(RoleName::timestamp()),
        other => RoleName::delegated(tuf_core::Dialect::Notary, other).ok(),
    }
}

/// Command context.
pub(crate) struct Context {
    pub(crate) cfg: ClientConfig,
    pub(crate) keystore: KeyStore,
    retriever: EnvRetriever,
    passphrase_file: Option<PathBuf>,
    /// `-D`/`-v`: log steps to stderr.
    verbose: bool,
    /// The remote server, once used.
    remote: std::cell::OnceCell<Remote>,
    /// `--pin-root-key`: extra `trust_pinning.certs` ids for the command's GUN.
    pin_root_keys: Vec<String>,
    /// The PIN prompt and touch messages of YubiKey signers.
    #[cfg(feature = "yubikey")]
    yubikey_prompt: std::sync::Arc<crate::yubikey::prompt::CliPrompt>,
}

/// Uploads at least this large report their progress on stderr.
const PROGRESS_BYTES: usize = 1 << 20;

/// The trust directory's metadata cache for one collection.
struct DirCache<'a>(&'a RepoDir);

impl MetadataCache for DirCache<'_> {
    fn read(&self, role: &str) -> Option<Vec<u8>> {
        self.0.read_metadata(&role_name(role)?).ok().flatten()
    }
    fn write(&mut self, role: &str, bytes: &[u8]) -> Result<(), std::io::Error> {
        let role =
            role_name(role).ok_or_else(|| std::io::Error::other(format!("invalid role {role}")))?;
        self.0
            .write_metadata(&role, bytes)
            .map_err(|e| std::io::Error::other(e.to_string()))
    }
}

/// Why a pull failed.
#[derive(Debug)]
pub(crate) enum PullError {
    /// The remote could not be set up.
    Setup(String),
    /// The update failed.
    Update(Box<UpdateFailure>),
}

impl PullError {
    /// The server has no trust data for the collection.
    pub(crate) fn is_not_found(&self) -> bool {
        matches!(self, Self::Update(u) if matches!(**u, UpdateFailure::NoTrustData { .. }))
    }
}

impl std::fmt::Display for PullError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Setup(m) => f.write_str(m),
            Self::Update(u) => u.fmt(f),
        }
    }
}

impl Context {
    pub(crate) fn new(global: &Global) -> Result<Self, Fatal> {
        let flags = GlobalFlags {
            config_file: global.config_file.clone(),
            trust_dir: global.trust_dir.clone(),
            server: global.server.clone(),
            tls_ca_cert: global.tls_ca_cert.clone(),
            tls_cert: global.tls_cert.clone(),
            tls_key: global.tls_key.clone(),
        };
        let env = |k: &str| std::env::var(k).ok();
        let cfg = config::load(&flags, &env)?;
        let keystore = KeyStore::open(&cfg.trust_dir)?;
        let mut retriever = EnvRetriever::from_env();
        if let Some(p) = &global.passphrase_file {
            retriever = retriever.with_passphrase_file(p)?;
        }
        Ok(Self {
            cfg,
            keystore,
            retriever,
            passphrase_file: global.passphrase_file.clone(),
            verbose: global.debug || global.verbose,
            remote: std::cell::OnceCell::new(),
            pin_root_keys: global.pin_root_key.clone(),
            #[cfg(feature = "yubikey")]
            yubikey_prompt: std::sync::Arc::default(),
        })
    }

    /// The prompt YubiKey signers of this command share (PIN, "touch now").
    #[cfg(feature = "yubikey")]
    pub(crate) fn yubikey_prompt(&self) -> std::sync::Arc<crate::yubikey::prompt::CliPrompt> {
        std::sync::Arc::clone(&self.yubikey_prompt)
    }

    pub(crate) fn repo(&self, gun: &Gun) -> RepoDir {
        RepoDir::new(&self.cfg.trust_dir, gun)
    }

    pub(crate) fn keystore_dir(&self) -> PathBuf {
        self.cfg.trust_dir.join("private")
    }

    /// The server, with [`RemoteOptions::default`] deadlines unless `$NOTARY_RS_TIMEOUT_SECS`
    /// (a positive integer) sets the per-request deadline (not a Go notary variable; tests
    /// use it to exercise slow servers without waiting 30 s). The connect deadline is never
    /// longer than the request deadline.
    /// The remote server, created once per command so that bearer tokens are reused across
    /// its requests.
    pub(crate) fn remote(&self) -> Result<&Remote, Fatal> {
        if let Some(r) = self.remote.get() {
            return Ok(r);
        }
        let r = self.new_remote()?;
        Ok(self.remote.get_or_init(|| r))
    }

    fn new_remote(&self) -> Result<Remote, Fatal> {
        let defaults = RemoteOptions::default();
        let timeout = match std::env::var("NOTARY_RS_TIMEOUT_SECS") {
            Ok(v) => match v.trim().parse::<u64>() {
                Ok(secs) if secs > 0 => std::time::Duration::from_secs(secs),
                _ => {
                    return Err(Fatal(format!(
                        "NOTARY_RS_TIMEOUT_SECS must be a positive number of seconds, not {v:?}"
                    )))
                }
            },
            Err(_) => defaults.timeout,
        };
        let opts = RemoteOptions {
            root_ca: self.cfg.root_ca.clone(),
            client_cert: match (&self.cfg.tls_client_cert, &self.cfg.tls_client_key) {
                (Some(c), Some(k)) => Some((c.clone(), k.clone())),
                _ => None,
            },
            auth: std::env::var("NOTARY_AUTH").ok(),
            timeout,
            connect_timeout: defaults.connect_timeout.min(timeout),
        };
        Ok(Remote::new(&self.cfg.server_url, opts)?)
    }

    /// A verifying update of `gun` from the server into the trust directory's cache.
    pub(crate) fn pull(&self, gun: &Gun) -> Result<TrustedSet, PullError> {
        self.debug(&format!(
            "updating trust data for {gun} from {}",
            self.cfg.server_url
        ));
        let remote = self.remote().map_err(|Fatal(m)| PullError::Setup(m))?;
        let repo = self.repo(gun);
        let mut cache = DirCache(&repo);
        let (pinned_root_keys, pinned_ca) = self.pins(gun, cache.read("root").is_none())?;
        let opts = UpdateOptions {
            limits: Limits::default(),
            tofu: !self.cfg.trust_pinning.disable_tofu,
            pinned_root_keys,
            pinned_ca,
            offline_ok: true,
        };
        update::update(remote, &mut cache, gun, Utc::now(), &opts)
            .map(|outcome| outcome.set)
            .map_err(|e| PullError::Update(Box::new(e)))
    }

    /// The trust pin for `gun`, Go's `NewTrustPinChecker` precedence: `certs` for exactly the
    /// GUN (plus `--pin-root-key`), else the longest `certs` wildcard (`prefix*`), else the CA
    /// bundle of the longest `ca` prefix of the GUN. The CA bundle is read only when it will be
    /// used (`first_use`: no cached root), as Go builds the checker only for a new root.
    fn pins(&self, gun: &Gun, first_use: bool) -> Result<(Vec<String>, Vec<Key>), PullError> {
        let tp = &self.cfg.trust_pinning;
        let g = gun.as_str();
        let mut ids = tp.certs.get(g).cloned().or_else(|| {
            tp.certs
                .iter()
                .filter_map(|(k, v)| Some((k.strip_suffix('*')?, k.len(), v)))
                .filter(|(prefix, _, _)| g.starts_with(prefix))
                .max_by_key(|(_, len, _)| *len)
                .map(|(_, _, v)| v.clone())
        });
        if !self.pin_root_keys.is_empty() {
            ids.get_or_insert_with(Vec::new)
                .extend(self.pin_root_keys.iter().cloned());
        }
        if let Some(ids) = ids {
            return Ok((ids, Vec::new()));
        }
        let ca = tp
            .ca
            .iter()
            .filter(|(prefix, _)| g.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _)| prefix.len());
        match ca {
            Some((_, path)) if first_use => Ok((Vec::new(), load_ca_bundle(path)?)),
            _ => Ok((Vec::new(), Vec::new())),
        }
    }

    pub(crate) fn load_key(&mut self, key_id: &str) -> Result<SoftwareSigner, Fatal> {
        Ok(self.keystore.load(key_id, &mut self.retriever)?.0)
    }

    pub(crate) fn save_key(
        &mut self,
        signer: &SoftwareSigner,
        role: &str,
        gun: Option<&str>,
    ) -> Result<String, Fatal> {
        Ok(self
            .keystore
            .save_with(signer, role, gun, &mut self.retriever)?)
    }

    /// A new retriever with no cached passphrases (Go's `key passwd` asks for the new
    /// passphrase through a fresh retriever so the unlocking one is not reused).
    pub(crate) fn fresh_retriever(&self) -> Result<EnvRetriever, Fatal> {
        let mut r = EnvRetriever::from_env();
        if let Some(p) = &self.passphrase_file {
            r = r.with_passphrase_file(p)?;
        }
        Ok(r)
    }

    /// The command's passphrase retriever.
    pub(crate) fn retriever(&mut self) -> &mut EnvRetriever {
        &mut self.retriever
    }

    pub(crate) fn encrypted_pem(
        &mut self,
        signer: &SoftwareSigner,
        role: &str,
    ) -> Result<String, Fatal> {
        let key_id = crate::keystore::key_id_of(signer);
        let pass = self.retriever.passphrase(&key_id, role, true, 0)?;
        Ok(KeyStore::encrypted_pem(signer, role, None, &pass)?)
    }

    /// Logs a step to stderr under `-D`/`-v` (never secrets).
    pub(crate) fn debug(&self, msg: &str) {
        if self.verbose {
            eprintln!("level=debug msg={msg:?}");
        }
    }

    /// Uploads `files` to the server, reporting progress for large uploads.
    pub(crate) fn upload(&self, gun: &Gun, files: &[(String, Vec<u8>)]) -> Result<(), Fatal> {
        let total: usize = files.iter().map(|(_, b)| b.len()).sum();
        let roles: Vec<&str> = files.iter().map(|(r, _)| r.as_str()).collect();
        self.debug(&format!(
            "uploading {} ({total} bytes) for {gun}",
            roles.join(", ")
        ));
        if total >= PROGRESS_BYTES {
            eprintln!(
                "Uploading {} file(s), {:.1} MB, to {} ...",
                files.len(),
                total as f64 / 1_048_576.0,
                self.cfg.server_url
            );
        }
        let started = std::time::Instant::now();
        self.remote()?.publish(gun.as_str(), files)?;
        if total >= PROGRESS_BYTES {
            eprintln!("Uploaded in {:.1} s", started.elapsed().as_secs_f64());
        }
        Ok(())
    }
}
