//! Names parsed at the edge: GUNs, role names and target paths.
//!
//! None of these is ever used as a filesystem path component by this crate; callers that
//! need a file name must encode it (see [`RoleName::percent_encoded`]).

use std::fmt;

use crate::dialect::Dialect;

/// Longest accepted GUN, role name or target path, in bytes.
pub const MAX_NAME_LEN: usize = 1024;

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// Empty or longer than the limit.
    #[error("{what} has invalid length {len} (1..={max})")]
    Length {
        /// Which kind of name.
        what: &'static str,
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Contains a character or segment the dialect does not allow.
    #[error("{what} {name:?} is not allowed: {reason}")]
    Invalid {
        /// Which kind of name.
        what: &'static str,
        /// The offending name.
        name: String,
        /// Why.
        reason: &'static str,
    },
}

/// A Notary globally unique name, e.g. `docker.io/library/alpine`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gun(String);

impl Gun {
    /// Parses a GUN: non-empty, at most 255 bytes, `/`-separated segments that are neither
    /// empty nor `.`/`..`, no control characters, no backslash.
    ///
    /// # Errors
    /// [`NameError`] naming the reason.
    pub fn parse(s: &str) -> Result<Self, NameError> {
        if s.is_empty() || s.len() > 255 {
            return Err(NameError::Length {
                what: "GUN",
                len: s.len(),
                max: 255,
            });
        }
        if s.chars().any(|c| c.is_control() || c == '\\') {
            return Err(invalid("GUN", s, "control character or backslash"));
        }
        if s.split('/')
            .any(|seg| seg.is_empty() || seg == "." || seg == "..")
        {
            return Err(invalid("GUN", s, "empty, '.' or '..' path segment"));
        }
        Ok(Self(s.to_owned()))
    }

    /// The GUN as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Gun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn invalid(what: &'static str, name: &str, reason: &'static str) -> NameError {
    NameError::Invalid {
        what,
        name: name.to_owned(),
        reason,
    }
}

/// The name of a role: one of the four top-level roles or a delegated targets role.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoleName(String);

impl RoleName {
    /// The top-level `root` role.
    pub fn root() -> Self {
        Self("root".to_owned())
    }
    /// The top-level `targets` role.
    pub fn targets() -> Self {
        Self("targets".to_owned())
    }
    /// The top-level `snapshot` role.
    pub fn snapshot() -> Self {
        Self("snapshot".to_owned())
    }
    /// The top-level `timestamp` role.
    pub fn timestamp() -> Self {
        Self("timestamp".to_owned())
    }

    /// Parses the name of a *delegated* targets role.
    ///
    /// Notary: `targets/<a>[/<b>...]`, characters `[-a-z0-9_/]` plus `.` inside segments,
    /// no empty, `.` or `..` segments, at most 255 bytes. TUF 1.0: any non-empty string of at
    /// most [`MAX_NAME_LEN`] bytes without control characters that is not a top-level role name
    /// (unusual names such as `../x` or `?` are legal and must be encoded by whoever builds a
    /// path or URL from them).
    ///
    /// # Errors
    /// [`NameError`] naming the reason.
    pub fn delegated(dialect: Dialect, s: &str) -> Result<Self, NameError> {
        const WHAT: &str = "delegated role name";
        if s.is_empty() || s.len() > MAX_NAME_LEN {
            return Err(NameError::Length {
                what: WHAT,
                len: s.len(),
                max: MAX_NAME_LEN,
            });
        }
        if matches!(s, "root" | "targets" | "snapshot" | "timestamp") {
            return Err(invalid(WHAT, s, "a top-level role name"));
        }
        match dialect {
            Dialect::Notary => {
                if s.len() > 255 {
                    return Err(NameError::Length {
                        what: WHAT,
                        len: s.len(),
                        max: 255,
                    });
                }
                let Some(rest) = s.strip_prefix("targets/") else {
                    return Err(invalid(WHAT, s, "must start with 'targets/'"));
                };
                if !s
                    .bytes()
                    .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'/' | b'.'))
                {
                    return Err(invalid(WHAT, s, "only [-a-z0-9_./] are allowed"));
                }
                if rest
                    .split('/')
                    .any(|seg| seg.is_empty() || seg == "." || seg == "..")
                {
                    return Err(invalid(WHAT, s, "empty, '.' or '..' path segment"));
                }
            }
            Dialect::TufSpec => {
                if s.chars().any(char::is_control) {
                    return Err(invalid(WHAT, s, "control character"));
                }
            }
        }
        Ok(Self(s.to_owned()))
    }

    /// The role name as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is one of the four top-level roles.
    pub fn is_top_level(&self) -> bool {
        matches!(
            self.0.as_str(),
            "root" | "targets" | "snapshot" | "timestamp"
        )
    }

    /// The Notary parent of a delegated role (`targets/a/b` -> `targets/a`).
    pub fn notary_parent(&self) -> Option<&str> {
        self.0.rsplit_once('/').map(|(parent, _)| parent)
    }

    /// The name percent-encoded so that it is safe as one file-name or URL path segment:
    /// every byte outside `[A-Za-z0-9_.~-]` becomes `%XX` (as `urllib.parse.quote(name, "")`),
    /// and a name made only of dots is encoded entirely.
    pub fn percent_encoded(&self) -> String {
        percent_encode_segment(&self.0)
    }
}

impl fmt::Display for RoleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Percent-encodes a string into a single safe path segment (see [`RoleName::percent_encoded`]).
pub fn percent_encode_segment(s: &str) -> String {
    let all_dots = s.bytes().all(|b| b == b'.');
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'~' | b'.');
        if keep && !(all_dots && b == b'.') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes a percent-encoded path segment (`%XX`, either case); `None` for a malformed
/// escape, a decoded NUL, or bytes that are not UTF-8.
pub fn percent_decode_segment(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    if out.contains(&0) {
        return None;
    }
    String::from_utf8(out).ok()
}
