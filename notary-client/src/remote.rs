//! The HTTP client for the Notary server API (reference §2), as the Go `notary` 0.7 client
//! speaks it: ping, metadata GETs (current, by checksum, by version), multipart publish,
//! server-held keys, delete, and Docker-registry token auth (reference §3).
//!
//! Every download is capped *while* it streams (security.md P1) and bounded by a deadline
//! (B04), so a hostile server can neither exhaust memory nor hold the client forever.

use std::collections::HashMap;
use std::io::Read as _;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};

/// Largest error body or token response we read (bytes).
const SMALL_BODY_CAP: u64 = 64 * 1024;
/// Largest `.key` response we read (bytes).
const KEY_BODY_CAP: u64 = 64 * 1024;
/// Read granularity of capped downloads.
const CHUNK: usize = 8 * 1024;

/// How to reach a Notary server.
#[derive(Clone, Debug)]
pub struct RemoteOptions {
    /// Extra PEM CA bundle trusted for the server's certificate (Go `trust_ca`/`root_ca`).
    pub root_ca: Option<PathBuf>,
    /// Client certificate and key, PEM (Go `tls_client_cert`, `tls_client_key`).
    pub client_cert: Option<(PathBuf, PathBuf)>,
    /// Deadline for one whole request, body included.
    pub timeout: Duration,
    /// Deadline for establishing a connection.
    pub connect_timeout: Duration,
    /// `NOTARY_AUTH`: base64 of `user:pass`, used for token requests.
    pub auth: Option<String>,
}

impl Default for RemoteOptions {
    fn default() -> Self {
        Self {
            root_ca: None,
            client_cert: None,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            auth: None,
        }
    }
}

/// Why a request to the server failed.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The ping (`GET /v2/`) did not answer 2xx or 401, or the server cannot be reached.
    #[error("client is offline: cannot reach {host}")]
    Offline {
        /// `host:port` of the server.
        host: String,
    },
    /// 404: the server has no such metadata.
    #[error("{host} does not have trust data for {gun}")]
    NotFound {
        /// `host:port` of the server.
        host: String,
        /// The collection asked for.
        gun: String,
    },
    /// 401 even after a token retry.
    #[error("you are not authorized to perform this operation: server returned 401.")]
    Unauthorized,
    /// Any other unexpected status (5xx, 3xx, …).
    #[error("unable to reach trust server at this time: {status}.")]
    ServerUnavailable {
        /// The HTTP status code.
        status: u16,
    },
    /// 400 with a Notary errcode body.
    #[error("{message} ({code}){}", detail_suffix(.detail))]
    Invalid {
        /// The errcode, e.g. `VERSION`, `INVALID_UPDATE`.
        code: String,
        /// Its message.
        message: String,
        /// Its detail (`null` when absent).
        detail: serde_json::Value,
    },
    /// A body exceeded its cap; the download was aborted.
    #[error("{what}: response exceeds the limit of {max} bytes")]
    TooLarge {
        /// What was being downloaded.
        what: String,
        /// The cap.
        max: u64,
    },
    /// The deadline passed (slow server, black hole).
    #[error("{what}: timed out after {secs} s")]
    Timeout {
        /// What was being requested.
        what: String,
        /// The configured timeout in seconds.
        secs: u64,
    },
    /// The connection could not be established.
    #[error("{what}: cannot connect to {host}: {reason}")]
    Connect {
        /// What was being requested.
        what: String,
        /// `host:port` of the server.
        host: String,
        /// The transport error.
        reason: String,
    },
    /// Another transport or protocol failure.
    #[error("{what}: {reason}")]
    Transport {
        /// What was being requested.
        what: String,
        /// The error.
        reason: String,
    },
    /// A response body that should be JSON was not.
    #[error("{what}: malformed response: {reason}")]
    BadResponse {
        /// What was being requested.
        what: String,
        /// The parse error.
        reason: String,
    },
    /// Bad client configuration (URL, CA file, client certificate, credentials).
    #[error("remote configuration: {0}")]
    Config(String),
    /// The token service failed.
    #[error("token request to {realm}: {reason}")]
    Token {
        /// The realm URL.
        realm: String,
        /// What went wrong.
        reason: String,
    },
}

fn detail_suffix(detail: &serde_json::Value) -> String {
    match detail {
        serde_json::Value::Null => String::new(),
        serde_json::Value::Object(o) if o.is_empty() => String::new(),
        serde_json::Value::String(s) => format!(": {s}"),
        other => format!(": {other}"),
    }
}

impl RemoteError {
    /// Whether the server could not be reached at all (offline mode may use the cache).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Self::Offline { .. } | Self::Connect { .. })
    }
}

/// The actions a token is requested for (reference §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    /// `pull`: metadata reads.
    Pull,
    /// `push,pull`: publish and reading server keys.
    PushPull,
    /// `*`: key rotation and delete.
    All,
}

impl Access {
    fn actions(self) -> &'static str {
        match self {
            Access::Pull => "pull",
            Access::PushPull => "push,pull",
            Access::All => "*",
        }
    }
}

/// A `Www-Authenticate: Bearer …` challenge.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BearerChallenge {
    /// Token service URL.
    pub realm: String,
    /// `service` parameter.
    pub service: Option<String>,
    /// `scope` the server asked for.
    pub scope: Option<String>,
    /// `error`, e.g. `invalid_token`, `insufficient_scope`.
    pub error: Option<String>,
}

/// Parses a `Www-Authenticate` value; `None` unless it is a Bearer challenge with a realm.
/// Quoted values may contain commas (`scope="repository:a:push,pull"`) and `\"` escapes.
pub fn parse_bearer_challenge(header: &str) -> Option<BearerChallenge> {
    let header = header.trim_start();
    let (scheme, rest) = header.split_at(header.find(char::is_whitespace)?);
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let mut params: HashMap<String, String> = HashMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        if key.is_empty() {
            break;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek() != Some(&'=') {
            params.insert(key.to_ascii_lowercase(), String::new());
            continue;
        }
        chars.next();
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            value.push(n);
                        }
                    }
                    '"' => {
                        closed = true;
                        break;
                    }
                    _ => value.push(c),
                }
            }
            if !closed {
                return None;
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' || c.is_whitespace() {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        params.insert(key.to_ascii_lowercase(), value);
    }
    let realm = params.remove("realm").filter(|r| !r.is_empty())?;
    Some(BearerChallenge {
        realm,
        service: params.remove("service"),
        scope: params.remove("scope"),
        error: params.remove("error"),
    })
}

/// A blocking client for one Notary server.
#[derive(Debug)]
pub struct Remote {
    client: Client,
    base: String,
    host: String,
    timeout: Duration,
    credentials: Option<(String, String)>,
    challenge: Mutex<Option<BearerChallenge>>,
    /// Tokens by (scope, obtained with credentials).
    tokens: Mutex<HashMap<(String, bool), String>>,
    log: Mutex<Vec<String>>,
}

/// A response whose status was accepted, with its body still to read.
struct Accepted {
    resp: Response,
    what: String,
    started: Instant,
}

impl Remote {
    /// A client for the server at `base_url` (`https://host:port` or `http://…`).
    ///
    /// # Errors
    /// [`RemoteError::Config`] for a bad URL, CA bundle, client certificate or `auth` value.
    pub fn new(base_url: &str, opts: RemoteOptions) -> Result<Remote, RemoteError> {
        let url = reqwest::Url::parse(base_url)
            .map_err(|e| RemoteError::Config(format!("server URL {base_url:?}: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(RemoteError::Config(format!(
                "server URL {base_url:?}: scheme must be http or https"
            )));
        }
        let host_name = url
            .host_str()
            .ok_or_else(|| RemoteError::Config(format!("server URL {base_url:?}: no host")))?;
        let host = match url.port_or_known_default() {
            Some(p) => format!("{host_name}:{p}"),
            None => host_name.to_owned(),
        };
        let mut builder = Client::builder()
            .timeout(opts.timeout)
            .connect_timeout(opts.connect_timeout)
            // Go disables keep-alives: one connection per request.
            .pool_max_idle_per_host(0)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("notary-rs/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = &opts.root_ca {
            let pem = std::fs::read(ca)
                .map_err(|e| RemoteError::Config(format!("{}: {e}", ca.display())))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| RemoteError::Config(format!("{}: {e}", ca.display())))?;
            for c in certs {
                builder = builder.add_root_certificate(c);
            }
        }
        if let Some((cert, key)) = &opts.client_cert {
            let mut pem = std::fs::read(cert)
                .map_err(|e| RemoteError::Config(format!("{}: {e}", cert.display())))?;
            pem.push(b'\n');
            pem.extend(
                std::fs::read(key)
                    .map_err(|e| RemoteError::Config(format!("{}: {e}", key.display())))?,
            );
            let id = reqwest::Identity::from_pem(&pem)
                .map_err(|e| RemoteError::Config(format!("client certificate: {e}")))?;
            builder = builder.identity(id);
        }
        let credentials = opts.auth.as_deref().map(decode_auth).transpose()?;
        let client = builder
            .build()
            .map_err(|e| RemoteError::Config(format!("HTTP client: {e}")))?;
        Ok(Remote {
            client,
            base: base_url.trim_end_matches('/').to_owned(),
            host,
            timeout: opts.timeout,
            credentials,
            challenge: Mutex::new(None),
            tokens: Mutex::new(HashMap::new()),
            log: Mutex::new(Vec::new()),
        })
    }

    /// `host:port` of the server, as Go prints it in errors.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Every request sent so far, as `METHOD /path` (token requests included, as
    /// `GET <realm>`). For tests and `--debug` output.
    pub fn request_log(&self) -> Vec<String> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Number of requests sent so far.
    pub fn request_count(&self) -> usize {
        self.log.lock().map(|l| l.len()).unwrap_or_default()
    }

    /// Clears [`Remote::request_log`].
    pub fn clear_request_log(&self) {
        if let Ok(mut l) = self.log.lock() {
            l.clear();
        }
    }

    /// `GET /v2/`: 2xx or 401 means online (a Bearer challenge is remembered).
    ///
    /// # Errors
    /// [`RemoteError::Offline`] for any other status or a transport error.
    pub fn ping(&self) -> Result<(), RemoteError> {
        let offline = || RemoteError::Offline {
            host: self.host.clone(),
        };
        let resp = self
            .send(self.client.get(format!("{}/v2/", self.base)), "GET /v2/")
            .map_err(|_| offline())?;
        let status = resp.status();
        if status == StatusCode::UNAUTHORIZED {
            self.remember_challenge(&resp);
            return Ok(());
        }
        if status.is_success() {
            return Ok(());
        }
        Err(offline())
    }

    /// `GET /v2/<gun>/_trust/tuf/<role>.json`, at most `max_bytes`.
    ///
    /// # Errors
    /// See [`RemoteError`]; 404 is [`RemoteError::NotFound`].
    pub fn get_meta(&self, gun: &str, role: &str, max_bytes: u64) -> Result<Vec<u8>, RemoteError> {
        self.get_capped(gun, &format!("{role}.json"), max_bytes)
    }

    /// `GET /v2/<gun>/_trust/tuf/<role>.<sha256_hex>.json`, at most `max_bytes`.
    ///
    /// # Errors
    /// See [`RemoteError`].
    pub fn get_meta_by_checksum(
        &self,
        gun: &str,
        role: &str,
        sha256_hex: &str,
        max_bytes: u64,
    ) -> Result<Vec<u8>, RemoteError> {
        self.get_capped(gun, &format!("{role}.{sha256_hex}.json"), max_bytes)
    }

    /// `GET /v2/<gun>/_trust/tuf/<version>.<role>.json`, at most `max_bytes`.
    ///
    /// # Errors
    /// See [`RemoteError`].
    pub fn get_meta_by_version(
        &self,
        gun: &str,
        role: &str,
        version: u64,
        max_bytes: u64,
    ) -> Result<Vec<u8>, RemoteError> {
        self.get_capped(gun, &format!("{version}.{role}.json"), max_bytes)
    }

    /// Publishes `files` (role name, bytes) as one multipart upload, field `files`,
    /// filename = role (no `.json`), as Go does.
    ///
    /// # Errors
    /// See [`RemoteError`]; validation failures are [`RemoteError::Invalid`].
    pub fn publish(&self, gun: &str, files: &[(String, Vec<u8>)]) -> Result<(), RemoteError> {
        let url = self.tuf_url(gun, "");
        let what = format!("POST {}", path_of(&url));
        let build = || -> Result<RequestBuilder, RemoteError> {
            let mut form = reqwest::blocking::multipart::Form::new();
            for (role, bytes) in files {
                let part = reqwest::blocking::multipart::Part::bytes(bytes.clone())
                    .file_name(role.clone())
                    .mime_str("application/octet-stream")
                    .map_err(|e| RemoteError::Config(format!("multipart: {e}")))?;
                form = form.part("files", part);
            }
            Ok(self.client.post(&url).multipart(form))
        };
        let acc = self.request(gun, Access::PushPull, &what, build)?;
        drop(acc);
        Ok(())
    }

    /// `GET …/<role>.key`: the server-held public key of `role` (`timestamp` or `snapshot`),
    /// `{"keytype","keyval":{"public","private"}}`.
    ///
    /// # Errors
    /// See [`RemoteError`].
    pub fn get_key(&self, gun: &str, role: &str) -> Result<serde_json::Value, RemoteError> {
        self.key_request(gun, role, Method::GET, Access::PushPull)
    }

    /// `POST …/<role>.key`: asks the server for a new key for `role`.
    ///
    /// # Errors
    /// See [`RemoteError`].
    pub fn rotate_key(&self, gun: &str, role: &str) -> Result<serde_json::Value, RemoteError> {
        self.key_request(gun, role, Method::POST, Access::All)
    }

    /// `DELETE /v2/<gun>/_trust/tuf/`: deletes all of the collection's metadata.
    ///
    /// # Errors
    /// See [`RemoteError`].
    pub fn delete(&self, gun: &str) -> Result<(), RemoteError> {
        let url = self.tuf_url(gun, "");
        let what = format!("DELETE {}", path_of(&url));
        self.request(gun, Access::All, &what, || Ok(self.client.delete(&url)))?;
        Ok(())
    }

    fn key_request(
        &self,
        gun: &str,
        role: &str,
        method: Method,
        access: Access,
    ) -> Result<serde_json::Value, RemoteError> {
        let url = self.tuf_url(gun, &format!("{role}.key"));
        self.key_request_at(gun, role, &url, method, access)
    }

    fn key_request_at(
        &self,
        gun: &str,
        role: &str,
        url: &str,
        method: Method,
        access: Access,
    ) -> Result<serde_json::Value, RemoteError> {
        let what = format!("{method} {}", path_of(url));
        let acc = self.request(gun, access, &what, || {
            let mut b = self.client.request(method.clone(), url);
            if method == Method::POST {
                b = b.header(reqwest::header::CONTENT_LENGTH, "0");
            }
            Ok(b)
        })?;
        let body = self.read_capped(acc, KEY_BODY_CAP)?;
        serde_json::from_slice(&body).map_err(|e| RemoteError::BadResponse {
            what: format!("{role}.key"),
            reason: e.to_string(),
        })
    }

    /// `GET /v2/<gun>/_tuf/metadata/<file>` of a TUF 1.0 collection, at most `max_bytes`.
    ///
    /// # Errors
    /// See [`RemoteError`]; 404 is [`RemoteError::NotFound`].
    pub fn get_tuf10_metadata(
        &self,
        gun: &str,
        file: &str,
        max_bytes: u64,
    ) -> Result<Vec<u8>, RemoteError> {
        let url = self.tuf10_url(gun, &format!("metadata/{file}"));
        let what = format!("GET {}", path_of(&url));
        let mut acc = self.request(gun, Access::Pull, &what, || Ok(self.client.get(&url)))?;
        acc.what = file.to_owned();
        self.read_capped(acc, max_bytes)
    }

    /// `GET` (or, with `rotate`, `POST`: a new pending key) `/v2/<gun>/_tuf/keys/<role>.key`:
    /// the server-held key of a TUF 1.0 collection, as a TUF key object.
    ///
    /// # Errors
    /// See [`RemoteError`].
    pub fn tuf10_key(
        &self,
        gun: &str,
        role: &str,
        rotate: bool,
    ) -> Result<serde_json::Value, RemoteError> {
        let url = self.tuf10_url(gun, &format!("keys/{role}.key"));
        if rotate {
            self.key_request_at(gun, role, &url, Method::POST, Access::All)
        } else {
            self.key_request_at(gun, role, &url, Method::GET, Access::PushPull)
        }
    }

    /// `POST /v2/<gun>/_tuf/`: publishes metadata files (role name, bytes) and target files
    /// (target path, bytes) to a TUF 1.0 collection in one multipart upload (fields
    /// `metadata`, filename `<percent-encoded role>.json`, and `target`, filename the
    /// percent-encoded path).
    ///
    /// # Errors
    /// See [`RemoteError`]; refusals are [`RemoteError::Invalid`].
    pub fn publish_tuf10(
        &self,
        gun: &str,
        metadata: &[(String, Vec<u8>)],
        targets: &[(String, Vec<u8>)],
    ) -> Result<(), RemoteError> {
        use tuf_core::name::percent_encode_segment;
        let url = self.tuf10_url(gun, "");
        let what = format!("POST {}", path_of(&url));
        let build = || -> Result<RequestBuilder, RemoteError> {
            let mut form = reqwest::blocking::multipart::Form::new();
            let parts = metadata
                .iter()
                .map(|(role, b)| {
                    (
                        "metadata",
                        format!("{}.json", percent_encode_segment(role)),
                        b,
                    )
                })
                .chain(
                    targets
                        .iter()
                        .map(|(path, b)| ("target", percent_encode_segment(path), b)),
                );
            for (field, name, bytes) in parts {
                let part = reqwest::blocking::multipart::Part::bytes(bytes.clone())
                    .file_name(name)
                    .mime_str("application/octet-stream")
                    .map_err(|e| RemoteError::Config(format!("multipart: {e}")))?;
                form = form.part(field, part);
            }
            Ok(self.client.post(&url).multipart(form))
        };
        self.request(gun, Access::PushPull, &what, build)?;
        Ok(())
    }

    fn tuf10_url(&self, gun: &str, path: &str) -> String {
        format!("{}/v2/{gun}/_tuf/{path}", self.base)
    }

    fn tuf_url(&self, gun: &str, file: &str) -> String {
        // GUNs go into the path unescaped, as Go does (validated by `Gun::parse`).
        format!("{}/v2/{gun}/_trust/tuf/{file}", self.base)
    }

    fn get_capped(&self, gun: &str, file: &str, max: u64) -> Result<Vec<u8>, RemoteError> {
        let url = self.tuf_url(gun, file);
        let what = format!("GET {}", path_of(&url));
        let acc = self.request(gun, Access::Pull, &what, || Ok(self.client.get(&url)))?;
        let mut acc = acc;
        acc.what = file.to_owned();
        self.read_capped(acc, max)
    }

    /// Sends a request built by `build`, handling token auth: on 401 with a Bearer challenge
    /// a token for `access` on `gun` is fetched and the request retried (reads first
    /// anonymously, then with credentials). Maps error statuses.
    fn request(
        &self,
        gun: &str,
        access: Access,
        what: &str,
        build: impl Fn() -> Result<RequestBuilder, RemoteError>,
    ) -> Result<Accepted, RemoteError> {
        let started = Instant::now();
        let scope = format!("repository:{gun}:{}", access.actions());
        let has_creds = self.credentials.is_some();
        // Reads ask for a token anonymously first, writes with credentials (Go).
        let order = [access != Access::Pull && has_creds, has_creds];
        let mut tried: Vec<bool> = Vec::new();
        let mut token = self.cached_token(&scope);
        if token.is_none() {
            if let Some(ch) = self.current_challenge() {
                token = Some(self.fetch_token(&ch, &scope, order[0])?);
                tried.push(order[0]);
            }
        }
        for _ in 0..3 {
            let mut b = build()?;
            if let Some(t) = &token {
                b = b.header(AUTHORIZATION, format!("Bearer {t}"));
            }
            let resp = self.send(b, what)?;
            if resp.status() != StatusCode::UNAUTHORIZED {
                return self.check_status(resp, gun, what, started);
            }
            self.remember_challenge(&resp);
            let next = order.iter().copied().find(|c| !tried.contains(c));
            let (Some(with_creds), Some(ch)) = (next, self.current_challenge()) else {
                break;
            };
            token = Some(self.fetch_token(&ch, &scope, with_creds)?);
            tried.push(with_creds);
        }
        Err(RemoteError::Unauthorized)
    }

    fn current_challenge(&self) -> Option<BearerChallenge> {
        self.challenge.lock().ok().and_then(|c| c.clone())
    }

    fn cached_token(&self, scope: &str) -> Option<String> {
        let tokens = self.tokens.lock().ok()?;
        tokens
            .get(&(scope.to_owned(), true))
            .or_else(|| tokens.get(&(scope.to_owned(), false)))
            .cloned()
    }

    fn remember_challenge(&self, resp: &Response) {
        let parsed = resp
            .headers()
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(parse_bearer_challenge);
        if let (Some(c), Ok(mut slot)) = (parsed, self.challenge.lock()) {
            *slot = Some(c);
        }
    }

    fn fetch_token(
        &self,
        challenge: &BearerChallenge,
        scope: &str,
        with_creds: bool,
    ) -> Result<String, RemoteError> {
        let err = |reason: String| RemoteError::Token {
            realm: challenge.realm.clone(),
            reason,
        };
        let mut url = reqwest::Url::parse(&challenge.realm).map_err(|e| err(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(err("realm must be an http(s) URL".into()));
        }
        let creds = if with_creds {
            self.credentials.as_ref()
        } else {
            None
        };
        {
            let mut q = url.query_pairs_mut();
            if let Some((user, _)) = creds {
                q.append_pair("account", user);
            }
            q.append_pair("scope", scope);
            if let Some(s) = &challenge.service {
                q.append_pair("service", s);
            }
        }
        let mut b = self.client.get(url.clone());
        if let Some((user, pass)) = creds {
            b = b.basic_auth(user, Some(pass));
        }
        let what = format!("GET {}", challenge.realm);
        let resp = self.send(b, &what)?;
        if !resp.status().is_success() {
            return Err(err(format!("status {}", resp.status().as_u16())));
        }
        let body = self.read_capped(
            Accepted {
                resp,
                what: "token".into(),
                started: Instant::now(),
            },
            SMALL_BODY_CAP,
        )?;
        let v: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| err(format!("malformed response: {e}")))?;
        let token = v
            .get("token")
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .or_else(|| v.get("access_token").and_then(|t| t.as_str()))
            .filter(|t| !t.is_empty())
            .ok_or_else(|| err("no token in response".into()))?
            .to_owned();
        if let Ok(mut t) = self.tokens.lock() {
            t.insert((scope.to_owned(), creds.is_some()), token.clone());
        }
        Ok(token)
    }

    fn send(&self, b: RequestBuilder, what: &str) -> Result<Response, RemoteError> {
        if let Ok(mut l) = self.log.lock() {
            l.push(what.to_owned());
        }
        b.send().map_err(|e| self.transport_error(what, &e))
    }

    fn transport_error(&self, what: &str, e: &reqwest::Error) -> RemoteError {
        if e.is_timeout() {
            RemoteError::Timeout {
                what: what.to_owned(),
                secs: self.timeout.as_secs(),
            }
        } else if e.is_connect() {
            RemoteError::Connect {
                what: what.to_owned(),
                host: self.host.clone(),
                reason: error_chain(e),
            }
        } else {
            RemoteError::Transport {
                what: what.to_owned(),
                reason: error_chain(e),
            }
        }
    }

    fn check_status(
        &self,
        resp: Response,
        gun: &str,
        what: &str,
        started: Instant,
    ) -> Result<Accepted, RemoteError> {
        let status = resp.status();
        if status.is_success() {
            return Ok(Accepted {
                resp,
                what: what.to_owned(),
                started,
            });
        }
        match status {
            StatusCode::NOT_FOUND => Err(RemoteError::NotFound {
                host: self.host.clone(),
                gun: gun.to_owned(),
            }),
            StatusCode::UNAUTHORIZED => Err(RemoteError::Unauthorized),
            StatusCode::BAD_REQUEST => {
                let body = self
                    .read_capped(
                        Accepted {
                            resp,
                            what: what.to_owned(),
                            started,
                        },
                        SMALL_BODY_CAP,
                    )
                    .unwrap_or_default();
                Err(parse_errcode(&body))
            }
            other => Err(RemoteError::ServerUnavailable {
                status: other.as_u16(),
            }),
        }
    }

    /// Reads the body in chunks, aborting once it exceeds `max` or the request's deadline
    /// passes.
    fn read_capped(&self, acc: Accepted, max: u64) -> Result<Vec<u8>, RemoteError> {
        let Accepted {
            mut resp,
            what,
            started,
        } = acc;
        let too_large = || RemoteError::TooLarge {
            what: what.clone(),
            max,
        };
        if resp.content_length().is_some_and(|l| l > max) {
            return Err(too_large());
        }
        let timeout = || RemoteError::Timeout {
            what: what.clone(),
            secs: self.timeout.as_secs(),
        };
        let mut out = Vec::new();
        let mut buf = vec![0u8; CHUNK];
        loop {
            if started.elapsed() > self.timeout {
                return Err(timeout());
            }
            let n = match resp.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    if e.kind() == std::io::ErrorKind::TimedOut
                        || started.elapsed() > self.timeout
                        || error_text(&e).contains("timed out")
                    {
                        return Err(timeout());
                    }
                    return Err(RemoteError::Transport {
                        what: what.clone(),
                        reason: error_text(&e),
                    });
                }
            };
            if n == 0 {
                return Ok(out);
            }
            let total = u64::try_from(out.len().saturating_add(n)).unwrap_or(u64::MAX);
            if total > max {
                return Err(too_large());
            }
            out.extend_from_slice(buf.get(..n).unwrap_or_default());
        }
    }
}

fn path_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .map(|u| u.path().to_owned())
        .unwrap_or_else(|_| url.to_owned())
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

fn error_text(e: &std::io::Error) -> String {
    error_chain(e)
}

/// `NOTARY_AUTH` value → (user, password).
fn decode_auth(b64: &str) -> Result<(String, String), RemoteError> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| RemoteError::Config("NOTARY_AUTH is not valid base64".into()))?;
    let text = String::from_utf8(raw)
        .map_err(|_| RemoteError::Config("NOTARY_AUTH is not UTF-8".into()))?;
    let (user, pass) = text
        .split_once(':')
        .ok_or_else(|| RemoteError::Config("NOTARY_AUTH must encode user:password".into()))?;
    Ok((user.to_owned(), pass.to_owned()))
}

/// A 400 body → [`RemoteError::Invalid`] (first error of the errcode envelope).
fn parse_errcode(body: &[u8]) -> RemoteError {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or(serde_json::Value::Null);
    let first = v.get("errors").and_then(|e| e.get(0));
    let field = |name: &str| {
        first
            .and_then(|f| f.get(name))
            .and_then(|s| s.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let mut code = field("code");
    let mut message = field("message");
    if code.is_empty() {
        code = "UNKNOWN".into();
    }
    if message.is_empty() {
        message = "the server rejected the request".into();
    }
    RemoteError::Invalid {
        code,
        message,
        detail: first
            .and_then(|f| f.get("detail"))
            .cloned()
            .unwrap_or(serde_json::Value::Null),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn parses_notary_challenge() {
        let c = parse_bearer_challenge(
            r#"Bearer realm="http://127.0.0.1:4444/token",service="notary-server",scope="repository:example.com/authapp:push,pull",error="insufficient_scope""#,
        )
        .unwrap();
        assert_eq!(c.realm, "http://127.0.0.1:4444/token");
        assert_eq!(c.service.as_deref(), Some("notary-server"));
        assert_eq!(
            c.scope.as_deref(),
            Some("repository:example.com/authapp:push,pull")
        );
        assert_eq!(c.error.as_deref(), Some("insufficient_scope"));
    }

    #[test]
    fn parses_challenge_variants() {
        let c = parse_bearer_challenge(r#"bearer  realm = "https://a/t" , service=svc"#).unwrap();
        assert_eq!(c.realm, "https://a/t");
        assert_eq!(c.service.as_deref(), Some("svc"));
        assert_eq!(c.scope, None);
        let c = parse_bearer_challenge(r#"Bearer realm="x\"y",scope="a""#).unwrap();
        assert_eq!(c.realm, "x\"y");
        assert!(parse_bearer_challenge(r#"Basic realm="x""#).is_none());
        assert!(parse_bearer_challenge(r#"Bearer service="x""#).is_none());
        assert!(parse_bearer_challenge(r#"Bearer realm="unterminated"#).is_none());
        assert!(parse_bearer_challenge("Bearer").is_none());
        assert!(parse_bearer_challenge("").is_none());
    }

    #[test]
    fn errcode_body() {
        let e = parse_errcode(
            br#"{"errors":[{"code":"VERSION","message":"A newer version of metadata is already available.","detail":{}}]}"#,
        );
        match e {
            RemoteError::Invalid { code, detail, .. } => {
                assert_eq!(code, "VERSION");
                assert_eq!(detail, serde_json::json!({}));
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(parse_errcode(b"garbage"), RemoteError::Invalid { code, .. } if code == "UNKNOWN")
        );
    }

    #[test]
    fn auth_decoding() {
        let b64 = base64::engine::general_purpose::STANDARD.encode("alice:pa:ss");
        assert_eq!(
            decode_auth(&b64).unwrap(),
            ("alice".to_owned(), "pa:ss".to_owned())
        );
        assert!(decode_auth("!!").is_err());
    }
}
