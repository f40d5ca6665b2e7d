//! Configuration: Go notary-server's JSON config file (`-config FILE`) where its keys map, our
//! command-line flags, and a zero-config default (loopback, SQLite in a data directory).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Why the configuration is unusable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A command-line problem.
    #[error("{0}")]
    Usage(String),
    /// The config file cannot be read or parsed.
    #[error("config file {path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A setting is not supported or unsafe.
    #[error("{0}")]
    Unsupported(String),
}

/// Where the key-encryption passphrase comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PassphraseSource {
    /// The `NOTARY_SERVER_KEY_PASSPHRASE` environment variable.
    Env,
    /// A file (its first line).
    File(PathBuf),
    /// Zero-config: a random passphrase generated into the data directory (mode 0600).
    Generated(PathBuf),
}

/// The resolved server configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    /// Listen address.
    pub listen: SocketAddr,
    /// TLS certificate chain and key (PEM), if TLS is on.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// The data directory.
    pub data_dir: PathBuf,
    /// The SQLite database file.
    pub db_path: PathBuf,
    /// Log level filter (`error`, `warn`, `info`, `debug`).
    pub log_level: String,
    /// Key-encryption passphrase source.
    pub passphrase: PassphraseSource,
    /// Explicitly allow plain HTTP / no authentication on a non-loopback address.
    pub insecure_allow_exposed: bool,
    /// GUN patterns served as TUF 1.0 repositories (see [`crate::dialects::GunDialects`]).
    pub tuf_guns: Vec<String>,
}

/// Usage text.
pub const USAGE: &str = "notary-server [-config FILE] [--listen ADDR] [--data-dir DIR]
                 [--tls-cert FILE --tls-key FILE] [--key-passphrase-file FILE]
                 [--log-level LEVEL] [--tuf-gun PATTERN ...] [--insecure-allow-exposed]
                 [--version]

With no arguments: listens on 127.0.0.1:4443 (plain HTTP, loopback only) and keeps its SQLite
database in $NOTARY_SERVER_DATA_DIR, else $XDG_DATA_HOME/notary-rs-server, else
~/.local/share/notary-rs-server. Server-held keys are encrypted with the passphrase in
$NOTARY_SERVER_KEY_PASSPHRASE or --key-passphrase-file (or $NOTARY_SERVER_KEY_PASSPHRASE_FILE);
without either, a random one is generated into the data directory (mode 0600).
-config reads Go notary-server's JSON: server.http_addr, server.tls_cert_file,
server.tls_key_file, storage.backend (sqlite3) + storage.db_url, trust_service.type (local),
logging.level, and our extension tuf_guns (a list of patterns).
--tuf-gun PATTERN (repeatable) serves matching collections as TUF 1.0 repositories under
/v2/<gun>/_tuf/ instead of Notary 0.7 under /v2/<gun>/_trust/: PATTERN is a GUN, a prefix
ending in /* (e.g. example.com/tuf/*), or * for every collection.";

/// Default data directory.
fn default_data_dir(env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    if let Some(d) = env("NOTARY_SERVER_DATA_DIR") {
        return PathBuf::from(d);
    }
    if let Some(x) = env("XDG_DATA_HOME") {
        return Path::new(&x).join("notary-rs-server");
    }
    let home = env("HOME").unwrap_or_else(|| ".".into());
    Path::new(&home).join(".local/share/notary-rs-server")
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_str()
}

/// Parses the command line (without the program name) and the environment.
///
/// # Errors
/// [`ConfigError`] for unknown flags, unreadable config files, unsupported backends, and
/// unsafe exposure (plain HTTP or no authentication off loopback without
/// `--insecure-allow-exposed`).
pub fn parse(
    args: &[String],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<ServerConfig>, ConfigError> {
    let mut listen: Option<String> = None;
    let mut data_dir: Option<PathBuf> = None;
    let mut db_path: Option<PathBuf> = None;
    let mut tls_cert: Option<PathBuf> = None;
    let mut tls_key: Option<PathBuf> = None;
    let mut log_level = "info".to_owned();
    let mut passphrase_file: Option<PathBuf> =
        env("NOTARY_SERVER_KEY_PASSPHRASE_FILE").map(PathBuf::from);
    let mut insecure = false;
    let mut tuf_guns: Vec<String> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        // Go's flag package accepts one or two dashes.
        let flag = a.trim_start_matches('-');
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| ConfigError::Usage(format!("{name} needs a value\n\n{USAGE}")))
        };
        match flag {
            "config" => {
                let path = PathBuf::from(value("-config")?);
                apply_go_config(
                    &path,
                    &mut listen,
                    &mut db_path,
                    &mut tls_cert,
                    &mut tls_key,
                    &mut log_level,
                    &mut tuf_guns,
                )?;
            }
            "tuf-gun" => tuf_guns.push(value("--tuf-gun")?),
            "listen" => listen = Some(value("--listen")?),
            "data-dir" => data_dir = Some(PathBuf::from(value("--data-dir")?)),
            "tls-cert" => tls_cert = Some(PathBuf::from(value("--tls-cert")?)),
            "tls-key" => tls_key = Some(PathBuf::from(value("--tls-key")?)),
            "key-passphrase-file" => {
                passphrase_file = Some(PathBuf::from(value("--key-passphrase-file")?))
            }
            "log-level" => log_level = value("--log-level")?,
            "insecure-allow-exposed" => insecure = true,
            "version" | "help" | "h" => return Ok(None),
            _ => {
                return Err(ConfigError::Usage(format!(
                    "unknown argument {a:?}\n\n{USAGE}"
                )))
            }
        }
    }
    let listen: SocketAddr = listen
        .as_deref()
        .unwrap_or("127.0.0.1:4443")
        .parse()
        .map_err(|_| ConfigError::Usage("listen address must be IP:PORT".into()))?;
    let tls = match (tls_cert, tls_key) {
        (Some(c), Some(k)) => Some((c, k)),
        (None, None) => None,
        _ => {
            return Err(ConfigError::Usage(
                "TLS needs both a certificate and a key".into(),
            ))
        }
    };
    if !listen.ip().is_loopback() && !insecure {
        return Err(ConfigError::Unsupported(format!(
            "refusing to listen on {listen}: not loopback, and this server has no client \
             authentication yet{}; pass --insecure-allow-exposed to do it anyway",
            if tls.is_none() { " and no TLS" } else { "" }
        )));
    }
    let data_dir = data_dir.unwrap_or_else(|| default_data_dir(env));
    let db_path = db_path.unwrap_or_else(|| data_dir.join("notary-server.db"));
    let passphrase = if env("NOTARY_SERVER_KEY_PASSPHRASE").is_some() {
        PassphraseSource::Env
    } else if let Some(f) = passphrase_file {
        PassphraseSource::File(f)
    } else {
        PassphraseSource::Generated(data_dir.join("key-passphrase"))
    };
    Ok(Some(ServerConfig {
        listen,
        tls,
        data_dir,
        db_path,
        log_level,
        passphrase,
        insecure_allow_exposed: insecure,
        tuf_guns: crate::dialects::GunDialects::new(tuf_guns)
            .map_err(ConfigError::Usage)?
            .patterns()
            .to_vec(),
    }))
}

/// Reads Go notary-server's JSON config; relative paths are relative to the file.
fn apply_go_config(
    path: &Path,
    listen: &mut Option<String>,
    db_path: &mut Option<PathBuf>,
    tls_cert: &mut Option<PathBuf>,
    tls_key: &mut Option<PathBuf>,
    log_level: &mut String,
    tuf_guns: &mut Vec<String>,
) -> Result<(), ConfigError> {
    let err = |reason: String| ConfigError::File {
        path: path.to_owned(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| err(e.to_string()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let rel = |p: &str| base.join(p);
    if let Some(a) = str_at(&v, &["server", "http_addr"]) {
        // Go accepts ":4443" meaning all interfaces.
        *listen = Some(if a.starts_with(':') {
            format!("0.0.0.0{a}")
        } else {
            a.to_owned()
        });
    }
    if let Some(c) = str_at(&v, &["server", "tls_cert_file"]) {
        *tls_cert = Some(rel(c));
    }
    if let Some(k) = str_at(&v, &["server", "tls_key_file"]) {
        *tls_key = Some(rel(k));
    }
    match str_at(&v, &["storage", "backend"]) {
        None => {}
        Some("sqlite3" | "sqlite") => {
            let url = str_at(&v, &["storage", "db_url"])
                .ok_or_else(|| err("storage.db_url is required for sqlite3".into()))?;
            let file = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
                .unwrap_or(url);
            let file = file.split('?').next().unwrap_or(file);
            *db_path = Some(rel(file));
        }
        Some(other) => {
            return Err(ConfigError::Unsupported(format!(
                "storage.backend {other:?} is not supported yet (use \"sqlite3\")"
            )))
        }
    }
    match str_at(&v, &["trust_service", "type"]) {
        None | Some("local") => {}
        Some(other) => {
            return Err(ConfigError::Unsupported(format!(
                "trust_service.type {other:?} is not supported (use \"local\")"
            )))
        }
    }
    if let Some(l) = str_at(&v, &["logging", "level"]) {
        *log_level = l.to_owned();
    }
    match v.get("tuf_guns") {
        None => {}
        Some(Value::Array(list)) => {
            for p in list {
                let p = p
                    .as_str()
                    .ok_or_else(|| err("tuf_guns must be a list of strings".into()))?;
                tuf_guns.push(p.to_owned());
            }
        }
        Some(_) => return Err(err("tuf_guns must be a list of strings".into())),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn env_none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn zero_config_is_loopback_with_a_data_dir() {
        let c = parse(&[], &|k| (k == "HOME").then(|| "/home/u".into()))
            .unwrap()
            .unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:4443");
        assert_eq!(
            c.data_dir,
            PathBuf::from("/home/u/.local/share/notary-rs-server")
        );
        assert_eq!(c.db_path, c.data_dir.join("notary-server.db"));
        assert_eq!(
            c.passphrase,
            PassphraseSource::Generated(c.data_dir.join("key-passphrase"))
        );
        assert!(c.tls.is_none());
    }

    #[test]
    fn go_config_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("server.json");
        std::fs::write(
            &f,
            r#"{"server":{"http_addr":"127.0.0.1:4443","tls_cert_file":"./s.crt","tls_key_file":"./s.key"},
                "trust_service":{"type":"local"},"storage":{"backend":"sqlite3","db_url":"sqlite:///var/lib/n.db"},
                "logging":{"level":"debug"},"tuf_guns":["example.com/tuf/*"]}"#,
        )
        .unwrap();
        let c = parse(&["-config".into(), f.display().to_string()], &env_none)
            .unwrap()
            .unwrap();
        assert_eq!(
            c.tls,
            Some((dir.path().join("./s.crt"), dir.path().join("./s.key")))
        );
        assert_eq!(c.db_path, PathBuf::from("/var/lib/n.db"));
        assert_eq!(c.log_level, "debug");
        assert_eq!(c.tuf_guns, vec!["example.com/tuf/*".to_owned()]);
    }

    #[test]
    fn exposure_and_unsupported_backends_are_refused() {
        assert!(matches!(
            parse(&["--listen".into(), "0.0.0.0:4443".into()], &env_none),
            Err(ConfigError::Unsupported(_))
        ));
        assert!(parse(
            &[
                "--listen".into(),
                "0.0.0.0:4443".into(),
                "--insecure-allow-exposed".into()
            ],
            &env_none
        )
        .is_ok());
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.json");
        std::fs::write(&f, r#"{"storage":{"backend":"memory"}}"#).unwrap();
        assert!(matches!(
            parse(&["-config".into(), f.display().to_string()], &env_none),
            Err(ConfigError::Unsupported(_))
        ));
        assert!(matches!(
            parse(&["--bogus".into()], &env_none),
            Err(ConfigError::Usage(_))
        ));
    }
}
