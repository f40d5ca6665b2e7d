//! `tuf-repo` against a TUF 1.0 collection of `notary-server` instead of a directory: the
//! repository argument is the collection URL `http(s)://HOST[:PORT]/v2/<gun>/_tuf/`.
//!
//! The repository is loaded over HTTP and verified like a directory (see [`crate::tuf_repo`]),
//! from a **pinned** `1.root.json`: `KEYDIR/1.root.json`, written by `init` and otherwise put
//! there by the operator after checking it out of band (no trust on first use). Signed files
//! and added target files are published in one request; snapshot and timestamp are signed
//! here when KEYDIR holds a key the root names for them, else by the server with its own keys.
//!
//! Environment: `TUF_REPO_TLS_CA` (a PEM bundle trusted for the server's certificate),
//! `NOTARY_AUTH` (base64 `user:password` for token auth), `NOTARY_RS_TIMEOUT_SECS`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tuf_core::crypto::{Key, Signer, SoftwareSigner};
use tuf_core::editor::{SignPlan, SignedFile};
use tuf_core::json::parse as parse_json;
use tuf_core::name::Gun;
use tuf_core::role::{Root, TopRole};
use tuf_core::Dialect;

use crate::remote::{Remote, RemoteError, RemoteOptions};

/// Largest metadata file read from the server.
const MAX_METADATA_BYTES: u64 = 64 << 20;

/// A collection on a server.
pub struct ServerRepo {
    remote: Remote,
    gun: String,
    url: String,
}

/// Why talking to the server failed (rendered into `RepoError::Refused`).
fn failed(what: &str, e: &RemoteError) -> String {
    format!("{what}: {e}")
}

impl ServerRepo {
    /// `Some` when `repo` is an `http://` or `https://` collection URL, `None` for a
    /// directory.
    ///
    /// # Errors
    /// A message for a URL that is not `…/v2/<gun>/_tuf/`, a bad GUN or TLS settings.
    pub fn parse(repo: &Path) -> Result<Option<Self>, String> {
        let Some(s) = repo.to_str() else {
            return Ok(None);
        };
        if !(s.starts_with("http://") || s.starts_with("https://")) {
            return Ok(None);
        }
        let shape = || format!("{s}: expected a collection URL http(s)://HOST/v2/<gun>/_tuf/");
        let (base, rest) = s.split_once("/v2/").ok_or_else(shape)?;
        let gun = rest
            .strip_suffix("/_tuf/")
            .or_else(|| rest.strip_suffix("/_tuf"))
            .ok_or_else(shape)?;
        let gun = Gun::parse(gun).map_err(|e| format!("{s}: GUN {gun:?}: {e}"))?;
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let mut opts = RemoteOptions {
            root_ca: env("TUF_REPO_TLS_CA").map(PathBuf::from),
            auth: env("NOTARY_AUTH"),
            ..RemoteOptions::default()
        };
        if let Some(t) = env("NOTARY_RS_TIMEOUT_SECS") {
            let secs: u64 =
                t.parse().ok().filter(|s| *s > 0).ok_or_else(|| {
                    format!("NOTARY_RS_TIMEOUT_SECS={t:?}: not a positive number")
                })?;
            opts.timeout = Duration::from_secs(secs);
        }
        let remote = Remote::new(base, opts).map_err(|e| e.to_string())?;
        Ok(Some(Self {
            remote,
            gun: gun.as_str().to_owned(),
            url: format!("{base}/v2/{}/_tuf/", gun.as_str()),
        }))
    }

    /// The collection URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Reads `metadata/<name>`: `Ok(None)` when the server has no such file.
    ///
    /// # Errors
    /// A message for any other failure.
    pub fn read(&self, name: &str) -> Result<Option<Vec<u8>>, String> {
        match self
            .remote
            .get_tuf10_metadata(&self.gun, name, MAX_METADATA_BYTES)
        {
            Ok(b) => Ok(Some(b)),
            Err(RemoteError::NotFound { .. }) => Ok(None),
            Err(e) => Err(failed(&format!("{}metadata/{name}", self.url), &e)),
        }
    }

    /// Checks that the served `1.root.json` is the pinned `KEYDIR/1.root.json`.
    ///
    /// # Errors
    /// A message saying how to pin it, or that it differs.
    pub fn check_pinned_root(&self, keydir: &Path) -> Result<(), String> {
        let pin = pinned_root_file(keydir);
        let pinned = std::fs::read(&pin).map_err(|e| {
            format!(
                "{}: {e}: pin the collection's first root there (fetch {}metadata/1.root.json \
                 and check it out of band; `init` writes it)",
                pin.display(),
                self.url
            )
        })?;
        match self.read("1.root.json")? {
            Some(served) if served == pinned => Ok(()),
            Some(_) => Err(format!(
                "the server's 1.root.json differs from the pinned {}",
                pin.display()
            )),
            None => Err(format!("{}metadata/1.root.json: not found", self.url)),
        }
    }

    /// The server-held key of `role` (`rotate`: a new pending one).
    ///
    /// # Errors
    /// A message if the server does not answer with a key.
    pub fn server_key(&self, role: &str, rotate: bool) -> Result<Key, String> {
        let what = format!("{}keys/{role}.key", self.url);
        let v = self
            .remote
            .tuf10_key(&self.gun, role, rotate)
            .map_err(|e| failed(&what, &e))?;
        let v = parse_json(v.to_string().as_bytes()).map_err(|e| format!("{what}: {e}"))?;
        Key::from_json(Dialect::TufSpec, &v).map_err(|e| format!("{what}: {e}"))
    }

    /// Publishes `files` and `targets` (path, bytes); returns the lines to print.
    ///
    /// # Errors
    /// The server's refusal.
    pub fn publish(
        &self,
        files: &[SignedFile],
        targets: &[(String, Vec<u8>)],
    ) -> Result<Vec<String>, String> {
        let meta: Vec<(String, Vec<u8>)> = files
            .iter()
            .map(|f| (f.role.clone(), f.bytes.clone()))
            .collect();
        self.remote
            .publish_tuf10(&self.gun, &meta, targets)
            .map_err(|e| failed(&format!("publish to {}", self.url), &e))?;
        let mut out: Vec<String> = files
            .iter()
            .map(|f| format!("published {} v{} to {}", f.role, f.version, self.url))
            .collect();
        out.extend(
            targets
                .iter()
                .map(|(p, d)| format!("published target {p} ({} bytes)", d.len())),
        );
        Ok(out)
    }
}

/// Where a server collection's first root is pinned.
pub fn pinned_root_file(keydir: &Path) -> PathBuf {
    keydir.join("1.root.json")
}

/// Whether one of `signers` holds a key `root` names for `role`.
pub fn holds(root: &Root, role: TopRole, signers: &[&dyn Signer]) -> bool {
    signers.iter().any(|s| root.names_key(role, s.public_key()))
}

/// What a signing run against a server produces: snapshot and timestamp only when a local
/// key can sign them (the server signs them otherwise).
pub fn server_plan(root: &Root, signers: &[&dyn Signer]) -> SignPlan {
    SignPlan {
        snapshot: holds(root, TopRole::Snapshot, signers),
        timestamp: holds(root, TopRole::Timestamp, signers),
    }
}

/// The signers as trait objects.
pub fn as_signers(ring: &[SoftwareSigner]) -> Vec<&dyn Signer> {
    ring.iter().map(|s| s as &dyn Signer).collect()
}
