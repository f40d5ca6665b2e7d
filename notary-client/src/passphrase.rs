//! Passphrases for private keys, following Go `notary` 0.7's rules
//! (`cmd/notary/main.go` `getPassphraseRetriever` and `passphrase.PromptRetriever`).
//!
//! Passphrases are held in [`Zeroizing`] strings and are never logged or put on argv.

use std::collections::HashMap;
use std::fmt;
use std::io::IsTerminal as _;
use std::path::Path;

use zeroize::Zeroizing;

use crate::keystore::KeyStoreError;

/// Minimum length of a new passphrase typed at the prompt (Go: 8).
pub const MIN_PASSPHRASE_LEN: usize = 8;
/// Attempts after which an env/file passphrase that does not decrypt is given up (Go
/// returns `giveup` once `numAttempts > 1`, i.e. on the third call).
const FIXED_SOURCE_ATTEMPTS: u32 = 2;
/// Prompt attempts for an existing key (Go: gives up when `numAttempts > 3`).
const PROMPT_ATTEMPTS: u32 = 4;
/// Tries at choosing a new passphrase at the prompt (too short / mismatch).
const CREATE_TRIES: u32 = 3;
/// Characters of the key id shown in prompts (Go: 7).
const SHORT_ID_LEN: usize = 7;

/// Supplies passphrases to the key store.
pub trait PassphraseRetriever {
    /// The passphrase for key `key_id` of `role`. `create` is true when choosing the
    /// passphrase of a new key; `attempt` counts earlier wrong passphrases for this key
    /// (0 first). An `Err` means "give up" (e.g. [`KeyStoreError::NoPassphrase`]).
    fn passphrase(
        &mut self,
        key_id: &str,
        role: &str,
        create: bool,
        attempt: u32,
    ) -> Result<Zeroizing<String>, KeyStoreError>;
}

type Lookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Go notary's retriever: environment variables, then the terminal.
///
/// Variables, by role: `root` → `NOTARY_ROOT_PASSPHRASE`; `targets` →
/// `NOTARY_TARGETS_PASSPHRASE`; `snapshot` → `NOTARY_SNAPSHOT_PASSPHRASE`; any non-base
/// role (delegations such as `targets/releases`, Docker aliases) →
/// `NOTARY_DELEGATION_PASSPHRASE`. Docker's `DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE`
/// (root) and `DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE` (every other role) are
/// fallbacks. Empty values count as unset. A passphrase file
/// ([`EnvRetriever::with_passphrase_file`]) takes precedence over both. A fixed
/// passphrase that does not decrypt is given up after the 2nd attempt. Without one,
/// when stdin is a terminal the passphrase is read from the tty; otherwise
/// [`KeyStoreError::NoPassphrase`].
pub struct EnvRetriever {
    lookup: Lookup,
    file: Option<Zeroizing<String>>,
    tty: Option<bool>,
    cache: HashMap<String, Zeroizing<String>>,
}

impl fmt::Debug for EnvRetriever {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvRetriever")
            .field("passphrase_file", &self.file.is_some())
            .field("tty", &self.tty)
            .finish_non_exhaustive()
    }
}

impl Default for EnvRetriever {
    fn default() -> Self {
        Self::from_env()
    }
}

impl EnvRetriever {
    /// Reads the process environment.
    pub fn from_env() -> Self {
        Self::with_lookup(|name| std::env::var(name).ok())
    }

    /// Uses `lookup` instead of the process environment (for tests and embedding).
    pub fn with_lookup(lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        EnvRetriever {
            lookup: Box::new(lookup),
            file: None,
            tty: None,
            cache: HashMap::new(),
        }
    }

    /// Takes the passphrase (for every role) from the first line of `path` (a file, or
    /// `/dev/fd/N` for a passphrase file descriptor). The line ending is stripped.
    pub fn with_passphrase_file(mut self, path: impl AsRef<Path>) -> Result<Self, KeyStoreError> {
        let path = path.as_ref();
        let text =
            Zeroizing::new(
                std::fs::read_to_string(path).map_err(|source| KeyStoreError::Io {
                    path: path.display().to_string(),
                    source,
                })?,
            );
        let line = text.lines().next().unwrap_or_default();
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            return Err(KeyStoreError::Malformed {
                path: path.display().to_string(),
                reason: "the passphrase file's first line is empty".into(),
            });
        }
        self.file = Some(Zeroizing::new(line.to_string()));
        Ok(self)
    }

    /// Overrides terminal detection (`false`: never prompt; `true`: prompt on the tty).
    pub fn with_tty(mut self, tty: bool) -> Self {
        self.tty = Some(tty);
        self
    }

    /// The environment variables consulted for `role`, in order.
    pub fn env_vars_for(role: &str) -> &'static [&'static str] {
        match role {
            "root" => &[
                "NOTARY_ROOT_PASSPHRASE",
                "DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE",
            ],
            "targets" => &[
                "NOTARY_TARGETS_PASSPHRASE",
                "DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE",
            ],
            "snapshot" => &[
                "NOTARY_SNAPSHOT_PASSPHRASE",
                "DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE",
            ],
            "timestamp" => &["DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE"],
            _ => &[
                "NOTARY_DELEGATION_PASSPHRASE",
                "DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE",
            ],
        }
    }

    fn fixed_for(&self, role: &str) -> Option<Zeroizing<String>> {
        if let Some(f) = &self.file {
            return Some(f.clone());
        }
        Self::env_vars_for(role)
            .iter()
            .filter_map(|name| (self.lookup)(name))
            .find(|v| !v.is_empty())
            .map(Zeroizing::new)
    }

    fn prompt(
        &mut self,
        key_id: &str,
        role: &str,
        create: bool,
        attempt: u32,
    ) -> Result<Zeroizing<String>, KeyStoreError> {
        let no_more = || KeyStoreError::NoPassphrase {
            role: role.to_string(),
        };
        let short = key_id.get(..SHORT_ID_LEN).unwrap_or(key_id);
        let with_id = if short.is_empty() {
            String::new()
        } else {
            format!(" with ID {short}")
        };
        let read = |prompt: &str| -> Result<Zeroizing<String>, KeyStoreError> {
            let s = Zeroizing::new(rpassword::prompt_password(prompt).map_err(|source| {
                KeyStoreError::Io {
                    path: "/dev/tty".into(),
                    source,
                }
            })?);
            Ok(Zeroizing::new(s.trim().to_string()))
        };
        if create {
            for _ in 0..CREATE_TRIES {
                let first = read(&format!("Enter passphrase for new {role} key{with_id}: "))?;
                if first.chars().count() < MIN_PASSPHRASE_LEN {
                    eprintln!("Passphrase is too short (minimum {MIN_PASSPHRASE_LEN} characters). Please use a password manager to generate and store a good random passphrase.");
                    continue;
                }
                let again = read(&format!("Repeat passphrase for new {role} key{with_id}: "))?;
                if *first != *again {
                    eprintln!("Passphrases do not match. Please retry.");
                    continue;
                }
                self.cache.insert(role.to_string(), first.clone());
                return Ok(first);
            }
            return Err(no_more());
        }
        if attempt == 0 {
            if let Some(p) = self.cache.get(role) {
                return Ok(p.clone());
            }
        } else {
            if attempt >= PROMPT_ATTEMPTS {
                return Err(no_more());
            }
            eprintln!("Passphrase incorrect. Please retry.");
        }
        let p = read(&format!("Enter passphrase for {role} key{with_id}: "))?;
        self.cache.insert(role.to_string(), p.clone());
        Ok(p)
    }
}

impl PassphraseRetriever for EnvRetriever {
    fn passphrase(
        &mut self,
        key_id: &str,
        role: &str,
        create: bool,
        attempt: u32,
    ) -> Result<Zeroizing<String>, KeyStoreError> {
        if let Some(p) = self.fixed_for(role) {
            if attempt >= FIXED_SOURCE_ATTEMPTS {
                return Err(KeyStoreError::WrongPassphrase {
                    key_id: key_id.to_string(),
                    role: role.to_string(),
                });
            }
            return Ok(p);
        }
        let tty = self.tty.unwrap_or_else(|| std::io::stdin().is_terminal());
        if !tty {
            return Err(KeyStoreError::NoPassphrase {
                role: role.to_string(),
            });
        }
        self.prompt(key_id, role, create, attempt)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn debug_does_not_show_passphrases() {
        let r = EnvRetriever::with_lookup(|_| Some("sekrit-pass".into())).with_tty(false);
        assert!(!format!("{r:?}").contains("sekrit"));
    }
}
