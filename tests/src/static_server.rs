//! A tiny static HTTP/1.1 file server on loopback for client tests: GET only, one thread per
//! connection, `Connection: close`, 404 for missing files. It records every requested path
//! (percent-decoded, relative to the served directory) and lets a test answer chosen paths
//! differently (a status, other bytes, a body without a length, an endless body, or a body
//! trickled one byte at a time) to play a hostile repository.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// How to answer one request instead of serving the file.
#[derive(Clone, Debug)]
pub enum Reply {
    /// An empty response with this status.
    Status(u16),
    /// 200 with these bytes.
    Body(Vec<u8>),
    /// 200 without a length, streaming bytes until the client hangs up.
    Endless,
    /// 200 with these bytes but no `Content-Length` (the body ends when the connection
    /// closes), so a client can only enforce its size cap while reading.
    Unsized(Vec<u8>),
    /// 200 with a `Content-Length` for these bytes, sent one byte every `interval` (a
    /// slow-retrieval attack); stops when the client hangs up.
    Slow {
        /// The body.
        body: Vec<u8>,
        /// The pause before each byte.
        interval: Duration,
    },
}

/// Decides, for a decoded request path, whether to answer it differently (`None`: serve the
/// file).
pub type Handler = Arc<dyn Fn(&str) -> Option<Reply> + Send + Sync>;

#[derive(Default)]
struct Shared {
    log: Mutex<Vec<String>>,
    overrides: Mutex<BTreeMap<String, Reply>>,
    handler: Mutex<Option<Handler>>,
    stop: AtomicBool,
}

/// A running server; stopped when dropped.
pub struct StaticServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl StaticServer {
    /// Serves `root` on an ephemeral loopback port.
    ///
    /// # Errors
    /// The listener cannot be bound.
    pub fn start(root: &Path) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let (root, s) = (root.to_path_buf(), Arc::clone(&shared));
        thread::spawn(move || {
            for conn in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (root, s) = (root.clone(), Arc::clone(&s));
                thread::spawn(move || {
                    let _ = serve(conn, &root, &s);
                });
            }
        });
        Ok(Self { addr, shared })
    }

    /// `http://127.0.0.1:<port>/<path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{}", self.addr, path.trim_start_matches('/'))
    }

    /// Every path requested so far (decoded, without the leading `/`), in order.
    pub fn requests(&self) -> Vec<String> {
        self.shared
            .log
            .lock()
            .map(|l| l.clone())
            .unwrap_or_default()
    }

    /// Forgets the request log.
    pub fn clear_requests(&self) {
        if let Ok(mut l) = self.shared.log.lock() {
            l.clear();
        }
    }

    /// Answers requests for exactly `path` (decoded, no leading `/`) with `reply`.
    pub fn set_override(&self, path: &str, reply: Reply) {
        if let Ok(mut o) = self.shared.overrides.lock() {
            o.insert(path.trim_start_matches('/').to_owned(), reply);
        }
    }

    /// Installs a handler consulted for every request after the per-path overrides.
    pub fn set_handler(&self, handler: Handler) {
        if let Ok(mut h) = self.shared.handler.lock() {
            *h = Some(handler);
        }
    }

    /// Removes every override and the handler.
    pub fn clear_overrides(&self) {
        if let Ok(mut o) = self.shared.overrides.lock() {
            o.clear();
        }
        if let Ok(mut h) = self.shared.handler.lock() {
            *h = None;
        }
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(conn: TcpStream, root: &Path, s: &Shared) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Skip the headers (bounded).
    let mut header_bytes = 0usize;
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line)?;
        header_bytes += n;
        if n == 0 || line == "\r\n" || line == "\n" || header_bytes > 64 * 1024 {
            break;
        }
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    let mut conn = conn;
    if method != "GET" {
        return respond(&mut conn, 405, b"");
    }
    let raw = target.split(['?', '#']).next().unwrap_or("");
    let path = percent_decode(raw.trim_start_matches('/'));
    if let Ok(mut l) = s.log.lock() {
        l.push(path.clone());
    }
    let reply = s
        .overrides
        .lock()
        .ok()
        .and_then(|o| o.get(&path).cloned())
        .or_else(|| {
            let h = s.handler.lock().ok().and_then(|h| h.clone());
            h.and_then(|h| h(&path))
        });
    match reply {
        Some(Reply::Status(code)) => respond(&mut conn, code, b""),
        Some(Reply::Body(bytes)) => respond(&mut conn, 200, &bytes),
        Some(Reply::Endless) => {
            conn.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n",
            )?;
            let chunk = vec![b' '; 64 * 1024];
            loop {
                conn.write_all(&chunk)?;
            }
        }
        Some(Reply::Unsized(bytes)) => {
            conn.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")?;
            conn.write_all(&bytes)?;
            conn.flush()
        }
        Some(Reply::Slow { body, interval }) => {
            write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            conn.flush()?;
            for b in body {
                thread::sleep(interval);
                conn.write_all(&[b])?;
                conn.flush()?;
            }
            Ok(())
        }
        None => match file_for(root, &path).and_then(|p| std::fs::read(p).ok()) {
            Some(bytes) => respond(&mut conn, 200, &bytes),
            None => respond(&mut conn, 404, b""),
        },
    }
}

fn respond(conn: &mut TcpStream, code: u16, body: &[u8]) -> std::io::Result<()> {
    let reason = match code {
        200 => "OK",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Status",
    };
    write!(
        conn,
        "HTTP/1.1 {code} {reason}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    conn.write_all(body)?;
    conn.flush()
}

/// The file for a decoded request path, refusing anything but plain components.
fn file_for(root: &Path, path: &str) -> Option<PathBuf> {
    let rel = Path::new(path);
    if path.is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return None;
    }
    let p = root.join(rel);
    p.is_file().then_some(p)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
