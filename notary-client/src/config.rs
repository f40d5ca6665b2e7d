//! Client configuration: global flags, `~/.notary/config.json` (or `-c`), and the defaults of
//! Go `notary` 0.7 (`cmd/notary/main.go` `parseConfig`, `tuf.go` `getTransport` and
//! `getTrustPinning`).
//!
//! Rules, as in Go:
//! - the config file is `-c <file>` (which must exist) or `<HOME>/.notary/config.json` (which
//!   may be absent; present but unreadable or malformed is an error);
//! - `trust_dir` defaults to `<HOME>/.notary`; a leading `~` or `~/` is expanded to `HOME`
//!   after flags are applied; a relative `trust_dir` from the file is used as is (relative to
//!   the working directory, Go does not resolve it against the file);
//! - `remote_server.url` defaults to [`DEFAULT_SERVER_URL`] (also when empty);
//! - `remote_server.root_ca`, `tls_client_cert`, `tls_client_key` from the file are relative
//!   to the file's directory; the same options from flags (`--tlscacert`, `--tlscert`,
//!   `--tlskey`, `-d`) are relative to the working directory; flags override the file;
//! - keys are matched case-insensitively (viper), e.g. `remote_server.skipTLSVerify`.

use std::collections::BTreeMap;
use std::io;
use std::path::{Component, Path, PathBuf};

use serde_json::Value;

/// The server Go `notary` 0.7 talks to when neither the config file nor `-s` names one
/// (`defaultServerURL` in `cmd/notary/main.go`; observed: `could not reach
/// https://notary-server:4443`).
pub const DEFAULT_SERVER_URL: &str = "https://notary-server:4443";

/// The global command-line options that affect configuration (filled by the CLI).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GlobalFlags {
    /// `-c/--configFile`.
    pub config_file: Option<PathBuf>,
    /// `-d/--trustDir`.
    pub trust_dir: Option<PathBuf>,
    /// `-s/--server`.
    pub server: Option<String>,
    /// `--tlscacert`.
    pub tls_ca_cert: Option<PathBuf>,
    /// `--tlscert`.
    pub tls_cert: Option<PathBuf>,
    /// `--tlskey`.
    pub tls_key: Option<PathBuf>,
}

/// Trust pinning (`trust_pinning` in the config file).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustPinning {
    /// `certs`: GUN → pinned certificate key IDs.
    pub certs: BTreeMap<String, Vec<String>>,
    /// `ca`: GUN prefix → CA bundle file (used as given, like Go).
    pub ca: BTreeMap<String, PathBuf>,
    /// `disable_tofu`.
    pub disable_tofu: bool,
}

/// The resolved client configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// The trust directory (`~` expanded).
    pub trust_dir: PathBuf,
    /// The notary server's base URL.
    pub server_url: String,
    /// CA bundle to verify the server with (`remote_server.root_ca` / `--tlscacert`).
    pub root_ca: Option<PathBuf>,
    /// Client certificate (`remote_server.tls_client_cert` / `--tlscert`).
    pub tls_client_cert: Option<PathBuf>,
    /// Client key (`remote_server.tls_client_key` / `--tlskey`).
    pub tls_client_key: Option<PathBuf>,
    /// `remote_server.skipTLSVerify`.
    pub skip_tls_verify: bool,
    /// `trust_pinning`.
    pub trust_pinning: TrustPinning,
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The config file could not be read (or, given with `-c`, does not exist).
    #[error("error opening config file {}: {source}", path.display())]
    Read {
        /// The config file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The config file is not valid JSON (or not a JSON object).
    #[error("error parsing config file {}: {reason}", path.display())]
    Parse {
        /// The config file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A setting has the wrong type.
    #[error("invalid value for {key} in config file {}: {reason}", path.display())]
    InvalidValue {
        /// The config file.
        path: PathBuf,
        /// The dotted key, e.g. `trust_pinning.certs`.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// The working directory is needed to resolve a relative flag path and is unavailable.
    #[error("cannot determine the current directory: {0}")]
    Cwd(#[source] io::Error),
}

/// Loads the configuration: config file, then flags, then `~` expansion (see the module docs).
/// `env` looks up environment variables (only `HOME` is used).
///
/// # Errors
/// [`ConfigError`] naming the config file when it is missing (`-c` only), unreadable or
/// malformed.
pub fn load(
    flags: &GlobalFlags,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ClientConfig, ConfigError> {
    let needs_cwd = [
        &flags.trust_dir,
        &flags.tls_ca_cert,
        &flags.tls_cert,
        &flags.tls_key,
    ]
    .iter()
    .any(|p| p.as_ref().is_some_and(|p| p.is_relative()));
    let cwd = if needs_cwd {
        std::env::current_dir().map_err(ConfigError::Cwd)?
    } else {
        PathBuf::new()
    };
    load_with_cwd(flags, env, &cwd)
}

/// [`load`] with an explicit working directory for relative flag paths.
///
/// # Errors
/// As [`load`].
pub fn load_with_cwd(
    flags: &GlobalFlags,
    env: &dyn Fn(&str) -> Option<String>,
    cwd: &Path,
) -> Result<ClientConfig, ConfigError> {
    let home = env("HOME").unwrap_or_default();
    let default_trust_dir = go_join(Path::new(&home), Path::new(".notary"));
    let (config_path, explicit) = match &flags.config_file {
        Some(p) => (p.clone(), true),
        None => (default_trust_dir.join("config.json"), false),
    };

    let file = read_config_file(&config_path, explicit)?;
    let get = |key: &str| get_key(file.as_ref(), key);
    let file_string = |key: &str| -> Result<Option<String>, ConfigError> {
        match get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => go_string(v)
                .map(Some)
                .ok_or_else(|| invalid(&config_path, key, "not a string")),
        }
    };
    let config_dir = config_path.parent().unwrap_or(Path::new("")).to_path_buf();
    let relative_to_file = |p: String| -> Option<PathBuf> {
        if p.is_empty() {
            None
        } else {
            Some(go_join(&config_dir, Path::new(&p)))
        }
    };

    let trust_dir_raw = match &flags.trust_dir {
        Some(d) if !d.as_os_str().is_empty() => relative_to_cwd(cwd, d),
        _ => match file_string("trust_dir")? {
            Some(d) => PathBuf::from(d),
            None => default_trust_dir,
        },
    };
    let trust_dir = home_expand(&home, &trust_dir_raw);

    let server_url = match &flags.server {
        Some(s) if !s.is_empty() => s.clone(),
        _ => file_string("remote_server.url")?
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| DEFAULT_SERVER_URL.to_owned()),
    };

    let path_setting =
        |flag: &Option<PathBuf>, key: &str| -> Result<Option<PathBuf>, ConfigError> {
            match flag {
                Some(p) if !p.as_os_str().is_empty() => Ok(Some(relative_to_cwd(cwd, p))),
                _ => Ok(file_string(key)?.and_then(relative_to_file)),
            }
        };
    let root_ca = path_setting(&flags.tls_ca_cert, "remote_server.root_ca")?;
    let tls_client_cert = path_setting(&flags.tls_cert, "remote_server.tls_client_cert")?;
    let tls_client_key = path_setting(&flags.tls_key, "remote_server.tls_client_key")?;

    let skip_tls_verify = match get("remote_server.skipTLSVerify") {
        None | Some(Value::Null) => false,
        Some(v) => go_bool(v)
            .ok_or_else(|| invalid(&config_path, "remote_server.skipTLSVerify", "not a boolean"))?,
    };

    let trust_pinning = parse_trust_pinning(&config_path, file.as_ref())?;

    Ok(ClientConfig {
        trust_dir,
        server_url,
        root_ca,
        tls_client_cert,
        tls_client_key,
        skip_tls_verify,
        trust_pinning,
    })
}

fn read_config_file(path: &Path, explicit: bool) -> Result<Option<Value>, ConfigError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound && !explicit => return Ok(None),
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    if !value.is_object() {
        return Err(ConfigError::Parse {
            path: path.to_path_buf(),
            reason: "the top level is not a JSON object".to_owned(),
        });
    }
    Ok(Some(value))
}

fn parse_trust_pinning(
    config_path: &Path,
    file: Option<&Value>,
) -> Result<TrustPinning, ConfigError> {
    let get = |key: &str| get_key(file, key);
    let mut pinning = TrustPinning::default();
    match get("trust_pinning.certs") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (gun, ids) in map {
                let bad = || {
                    invalid(
                        config_path,
                        "trust_pinning.certs",
                        "invalid format for trust_pinning.certs",
                    )
                };
                let Value::Array(ids) = ids else {
                    return Err(bad());
                };
                let ids = ids
                    .iter()
                    .map(|id| id.as_str().map(str::to_owned).ok_or_else(bad))
                    .collect::<Result<Vec<_>, _>>()?;
                pinning.certs.insert(gun.to_lowercase(), ids);
            }
        }
        Some(_) => {
            return Err(invalid(
                config_path,
                "trust_pinning.certs",
                "invalid format for trust_pinning.certs",
            ))
        }
    }
    match get("trust_pinning.ca") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (prefix, file) in map {
                let file = go_string(file)
                    .ok_or_else(|| invalid(config_path, "trust_pinning.ca", "not a string"))?;
                pinning
                    .ca
                    .insert(prefix.to_lowercase(), PathBuf::from(file));
            }
        }
        Some(_) => return Err(invalid(config_path, "trust_pinning.ca", "not an object")),
    }
    pinning.disable_tofu = match get("trust_pinning.disable_tofu") {
        None | Some(Value::Null) => false,
        Some(v) => go_bool(v)
            .ok_or_else(|| invalid(config_path, "trust_pinning.disable_tofu", "not a boolean"))?,
    };
    Ok(pinning)
}

fn invalid(path: &Path, key: &str, reason: &str) -> ConfigError {
    ConfigError::InvalidValue {
        path: path.to_path_buf(),
        key: key.to_owned(),
        reason: reason.to_owned(),
    }
}

fn get_key<'a>(file: Option<&'a Value>, key: &str) -> Option<&'a Value> {
    file.and_then(|v| lookup(v, key))
}

/// Looks up a dotted key, matching each level case-insensitively (viper lower-cases keys).
fn lookup<'a>(root: &'a Value, dotted: &str) -> Option<&'a Value> {
    let mut cur = root;
    for part in dotted.split('.') {
        let obj = cur.as_object()?;
        cur = obj.get(part).or_else(|| {
            obj.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(part))
                .map(|(_, v)| v)
        })?;
    }
    Some(cur)
}

/// viper `GetString`: strings as is, numbers and booleans formatted.
fn go_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// viper `GetBool`: booleans, or strings accepted by Go's `strconv.ParseBool`.
fn go_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.as_str() {
            "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
            "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
            _ => None,
        },
        Value::Number(n) => n.as_f64().map(|f| f != 0.0),
        _ => None,
    }
}

/// Go `pathRelativeToCwd`: absolute paths as is, relative ones cleaned under `cwd`.
fn relative_to_cwd(cwd: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        go_join(cwd, p)
    }
}

/// Go `homeExpand`: `~` and `~/...` become `HOME` and `HOME/...`; anything else is unchanged.
fn home_expand(home: &str, p: &Path) -> PathBuf {
    let s = p.to_string_lossy();
    if s == "~" {
        return go_join(Path::new(home), Path::new(""));
    }
    match s.strip_prefix("~/") {
        Some(rest) => go_join(Path::new(home), Path::new(rest)),
        None => p.to_path_buf(),
    }
}

/// Go `filepath.Join` + `Clean`: empty parts are skipped and `.`/`..` resolved lexically.
fn go_join(base: &Path, rest: &Path) -> PathBuf {
    let joined = if rest.is_absolute() || base.as_os_str().is_empty() {
        rest.to_path_buf()
    } else {
        base.join(rest)
    };
    go_clean(&joined)
}

/// Go `filepath.Clean`.
fn go_clean(p: &Path) -> PathBuf {
    let mut parts: Vec<Component<'_>> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match parts.last() {
                Some(Component::Normal(_)) => {
                    parts.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => parts.push(c),
            },
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        return PathBuf::from(".");
    }
    parts.iter().collect()
}
