//! A Docker-registry-style token issuer for token-auth tests (reference §3).
//!
//! It serves `GET /token?service=…&scope=repository:<gun>:<actions>[&account=…]` on a free
//! port of 127.0.0.1. A request whose `Authorization: Basic …` matches the configured
//! user and password is granted the requested actions; any other request (no credentials,
//! wrong ones) only `pull`, if asked for. The answer is
//! `{"token","access_token","expires_in":300,"issued_at"}` where the token is an ES256 JWT
//! whose header carries the issuer's self-signed certificate in `x5c`; that certificate
//! ([`TokenIssuer::root_cert_path`]) is the `rootcertbundle` a Notary server trusts.
//!
//! Every request is recorded ([`TokenIssuer::requests`]) so tests can assert the scopes a
//! client asked for and when it sent credentials.

use std::fs;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use base64::Engine as _;
use chrono::{SecondsFormat, Utc};
use tempfile::TempDir;
use tuf_core::crypto::{self_signed_root_certificate, SignatureBytes, Signer, SoftwareSigner};

/// Token lifetime in seconds.
pub const EXPIRES_IN: i64 = 300;

/// One request the issuer answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRequest {
    /// Request path with its raw query, e.g. `/token?scope=repository%3Aa%3Apull&service=s`.
    pub target: String,
    /// Decoded `scope` parameter(s), in order.
    pub scopes: Vec<String>,
    /// Decoded `service` parameter.
    pub service: Option<String>,
    /// Decoded `account` parameter.
    pub account: Option<String>,
    /// The raw `Authorization` header, if any.
    pub authorization: Option<String>,
    /// User name of a `Basic` `Authorization` header (whether or not the password matched).
    pub basic_user: Option<String>,
    /// Whether the credentials matched the configured ones.
    pub authenticated: bool,
    /// Actions granted for each scope, in `scopes` order.
    pub granted: Vec<Vec<String>>,
}

#[derive(Debug)]
struct Config {
    issuer: String,
    service: String,
    user: String,
    password: String,
    signer: SoftwareSigner,
    cert_der: Vec<u8>,
}

/// A running token issuer; stopped on drop.
#[derive(Debug)]
pub struct TokenIssuer {
    url: String,
    cert_path: PathBuf,
    requests: Arc<Mutex<Vec<TokenRequest>>>,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
    _dir: TempDir,
}

impl TokenIssuer {
    /// Starts an issuer that signs tokens as `issuer` for audience `service`, and grants
    /// every requested action to `user:password`.
    ///
    /// # Errors
    /// If the key, certificate, temporary directory or listener cannot be created.
    pub fn start(issuer: &str, service: &str, user: &str, password: &str) -> Result<Self, String> {
        let signer = SoftwareSigner::generate_p256();
        let now = Utc::now();
        let cert_pem = self_signed_root_certificate(
            &signer,
            "test token issuer",
            now - chrono::Duration::hours(1),
            now + chrono::Duration::days(1),
        )
        .map_err(|e| format!("token issuer certificate: {e}"))?;
        let cert_der = pem_to_der(&cert_pem)?;
        let dir = tempfile::Builder::new()
            .prefix("token-issuer-")
            .tempdir()
            .map_err(|e| format!("tempdir: {e}"))?;
        let cert_path = dir.path().join("token-root.crt");
        fs::write(&cert_path, &cert_pem)
            .map_err(|e| format!("write {}: {e}", cert_path.display()))?;

        let listener =
            TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind token issuer: {e}"))?;
        let port = listener
            .local_addr()
            .map_err(|e| format!("token issuer address: {e}"))?
            .port();
        listener
            .set_nonblocking(true)
            .map_err(|e| format!("token issuer listener: {e}"))?;
        let config = Arc::new(Config {
            issuer: issuer.to_owned(),
            service: service.to_owned(),
            user: user.to_owned(),
            password: password.to_owned(),
            signer,
            cert_der,
        });
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let handle = {
            let requests = Arc::clone(&requests);
            let stop = Arc::clone(&stop);
            thread::spawn(move || serve(&listener, &config, &requests, &stop))
        };
        Ok(Self {
            url: format!("http://127.0.0.1:{port}"),
            cert_path,
            requests,
            stop,
            handle: Some(handle),
            _dir: dir,
        })
    }

    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The token endpoint (`<url>/token`): the `realm` of the server's challenge.
    pub fn realm(&self) -> String {
        format!("{}/token", self.url)
    }

    /// PEM file of the self-signed certificate whose key signs the tokens.
    pub fn root_cert_path(&self) -> &Path {
        &self.cert_path
    }

    /// Requests answered so far.
    pub fn requests(&self) -> Vec<TokenRequest> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        if let Ok(mut r) = self.requests.lock() {
            r.clear();
        }
    }
}

impl Drop for TokenIssuer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn serve(
    listener: &TcpListener,
    config: &Config,
    requests: &Mutex<Vec<TokenRequest>>,
    stop: &AtomicBool,
) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                // A broken connection only affects that client.
                let _ = handle(stream, config, requests);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(5));
            }
            Err(_) => thread::sleep(Duration::from_millis(5)),
        }
    }
}

fn handle(
    stream: TcpStream,
    config: &Config,
    requests: &Mutex<Vec<TokenRequest>>,
) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let mut authorization = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h.trim_end().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.trim().eq_ignore_ascii_case("authorization") {
                authorization = Some(v.trim().to_owned());
            }
        }
    }
    let mut out = stream;
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    if method != "GET" || path != "/token" {
        return respond(&mut out, "404 Not Found", "{}");
    }
    let params = parse_query(query);
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let scopes: Vec<String> = params
        .iter()
        .filter(|(k, _)| k == "scope")
        .flat_map(|(_, v)| v.split(' ').map(str::to_owned).collect::<Vec<_>>())
        .filter(|s| !s.is_empty())
        .collect();
    let basic = authorization.as_deref().and_then(decode_basic);
    let authenticated = basic
        .as_ref()
        .is_some_and(|(u, p)| *u == config.user && *p == config.password);
    let mut access = Vec::new();
    let mut granted = Vec::new();
    for scope in &scopes {
        let Some((kind, name, actions)) = split_scope(scope) else {
            granted.push(Vec::new());
            continue;
        };
        let allowed: Vec<String> = actions
            .split(',')
            .filter(|a| !a.is_empty() && (authenticated || *a == "pull"))
            .map(str::to_owned)
            .collect();
        if !allowed.is_empty() {
            access.push(serde_json::json!({"type": kind, "name": name, "actions": allowed}));
        }
        granted.push(allowed);
    }
    let subject = if authenticated {
        config.user.clone()
    } else {
        String::new()
    };
    let aud = param("service").unwrap_or_else(|| config.service.clone());
    let token = match mint(config, &subject, &aud, access) {
        Ok(t) => t,
        Err(e) => {
            return respond(&mut out, "500 Internal Server Error", &e);
        }
    };
    if let Ok(mut r) = requests.lock() {
        r.push(TokenRequest {
            target: target.clone(),
            scopes,
            service: param("service"),
            account: param("account"),
            authorization: authorization.clone(),
            basic_user: basic.map(|(u, _)| u),
            authenticated,
            granted,
        });
    }
    let body = serde_json::json!({
        "token": token,
        "access_token": token,
        "expires_in": EXPIRES_IN,
        "issued_at": Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
    })
    .to_string();
    respond(&mut out, "200 OK", &body)
}

fn respond(out: &mut TcpStream, status: &str, body: &str) -> io::Result<()> {
    write!(
        out,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )?;
    out.flush()
}

/// An ES256 JWT for `access` (reference §3: header `typ`, `alg`, `x5c`).
fn mint(
    config: &Config,
    subject: &str,
    audience: &str,
    access: Vec<serde_json::Value>,
) -> Result<String, String> {
    static JTI: AtomicU64 = AtomicU64::new(0);
    let b64 = base64::engine::general_purpose::STANDARD;
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let now = Utc::now().timestamp();
    let header = serde_json::json!({
        "typ": "JWT",
        "alg": "ES256",
        "x5c": [b64.encode(&config.cert_der)],
    });
    let claims = serde_json::json!({
        "iss": config.issuer,
        "sub": subject,
        "aud": audience,
        "exp": now + EXPIRES_IN,
        "nbf": now - 1,
        "iat": now,
        "jti": format!("jti-{}-{}", now, JTI.fetch_add(1, Ordering::SeqCst)),
        "access": access,
    });
    let signing_input = format!(
        "{}.{}",
        b64url.encode(header.to_string()),
        b64url.encode(claims.to_string())
    );
    let sig = match config.signer.sign(signing_input.as_bytes()) {
        Ok(SignatureBytes::EcdsaP256(sig)) => sig,
        Ok(_) => return Err("token key is not P-256".into()),
        Err(e) => return Err(format!("signing token: {e}")),
    };
    // JOSE ES256: raw r || s, 64 bytes.
    Ok(format!("{signing_input}.{}", b64url.encode(sig.to_bytes())))
}

/// `type:name:actions`; the name may itself contain `:` (a registry host with a port).
fn split_scope(scope: &str) -> Option<(&str, &str, &str)> {
    let (kind, rest) = scope.split_once(':')?;
    let (name, actions) = rest.rsplit_once(':')?;
    Some((kind, name, actions))
}

fn decode_basic(header: &str) -> Option<(String, String)> {
    let (scheme, value) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_owned(), p.to_owned()))
}

/// `application/x-www-form-urlencoded` query → decoded pairs, in order.
fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn pem_to_der(pem: &str) -> Result<Vec<u8>, String> {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|e| format!("certificate PEM: {e}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn query_and_scope_parsing() {
        let q = parse_query(
            "account=alice&scope=repository%3Aexample.com%2Fa%3Apush%2Cpull&service=notary-server",
        );
        assert_eq!(q[0], ("account".into(), "alice".into()));
        assert_eq!(q[1].1, "repository:example.com/a:push,pull");
        assert_eq!(
            split_scope("repository:localhost:5000/a:*"),
            Some(("repository", "localhost:5000/a", "*"))
        );
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("%2A"), "*");
    }
}
