//! Typed access to JSON object fields with errors that name the role and field.

use base64::Engine as _;
use chrono::{DateTime, Utc};

use crate::dialect::Dialect;
use crate::error::MetadataError;
use crate::json::{JsonObject, JsonValue};

/// Largest version, length or count accepted anywhere: 2^63 - 1 (fits every peer's integer type).
pub(crate) const MAX_INT: u64 = i64::MAX as u64;

/// A JSON object being read, with the role and the dotted path used in error messages.
pub(crate) struct Obj<'a> {
    pub(crate) map: &'a JsonObject,
    pub(crate) role: &'a str,
    pub(crate) path: String,
}

impl<'a> Obj<'a> {
    pub(crate) fn new(v: &'a JsonValue, role: &'a str, path: &str) -> Result<Self, MetadataError> {
        match v.as_object() {
            Some(map) => Ok(Self {
                map,
                role,
                path: path.to_owned(),
            }),
            None => Err(schema(role, path.to_owned(), "must be an object")),
        }
    }

    pub(crate) fn field_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    pub(crate) fn err(&self, key: &str, reason: &'static str) -> MetadataError {
        schema(self.role, self.field_path(key), reason)
    }

    pub(crate) fn opt(&self, key: &str) -> Option<&'a JsonValue> {
        self.map.get(key)
    }

    pub(crate) fn req(&self, key: &str) -> Result<&'a JsonValue, MetadataError> {
        self.map.get(key).ok_or_else(|| self.err(key, "missing"))
    }

    pub(crate) fn req_str(&self, key: &str) -> Result<&'a str, MetadataError> {
        self.req(key)?
            .as_str()
            .ok_or_else(|| self.err(key, "must be a string"))
    }

    pub(crate) fn opt_str(&self, key: &str) -> Result<Option<&'a str>, MetadataError> {
        match self.opt(key) {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .map(Some)
                .ok_or_else(|| self.err(key, "must be a string")),
        }
    }

    /// A non-negative integer no larger than 2^63 - 1.
    pub(crate) fn req_u64(&self, key: &str) -> Result<u64, MetadataError> {
        uint(self.req(key)?).ok_or_else(|| self.err(key, "must be an integer in 0..=2^63-1"))
    }

    pub(crate) fn opt_u64(&self, key: &str) -> Result<Option<u64>, MetadataError> {
        match self.opt(key) {
            None => Ok(None),
            Some(v) => uint(v)
                .map(Some)
                .ok_or_else(|| self.err(key, "must be an integer in 0..=2^63-1")),
        }
    }

    /// A version: an integer in 1..=2^63-1.
    pub(crate) fn req_version(&self, key: &str) -> Result<u64, MetadataError> {
        match self.req_u64(key)? {
            0 => Err(self.err(key, "must be at least 1")),
            v => Ok(v),
        }
    }

    pub(crate) fn opt_bool(&self, key: &str) -> Result<Option<bool>, MetadataError> {
        match self.opt(key) {
            None => Ok(None),
            Some(v) => v
                .as_bool()
                .map(Some)
                .ok_or_else(|| self.err(key, "must be a boolean")),
        }
    }

    pub(crate) fn req_obj(&self, key: &str) -> Result<Obj<'a>, MetadataError> {
        let v = self.req(key)?;
        Obj::new(v, self.role, &self.field_path(key))
    }

    pub(crate) fn req_array(&self, key: &str) -> Result<&'a [JsonValue], MetadataError> {
        self.req(key)?
            .as_array()
            .ok_or_else(|| self.err(key, "must be an array"))
    }

    /// A list of strings.
    pub(crate) fn req_str_list(&self, key: &str) -> Result<Vec<String>, MetadataError> {
        self.req_array(key)?
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| self.err(key, "must be an array of strings"))
            })
            .collect()
    }

    /// All members not in `known`, kept so re-serialisation preserves them.
    pub(crate) fn extra(&self, known: &[&str]) -> JsonObject {
        self.map
            .iter()
            .filter(|(k, _)| !known.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    pub(crate) fn expires(&self, dialect: Dialect) -> Result<DateTime<Utc>, MetadataError> {
        let s = self.req_str("expires")?;
        crate::time::parse_expires(dialect, s).ok_or_else(|| {
            self.err(
                "expires",
                match dialect {
                    Dialect::TufSpec => "must be YYYY-MM-DDTHH:MM:SSZ",
                    Dialect::Notary => "must be an RFC 3339 date-time",
                },
            )
        })
    }
}

pub(crate) fn uint(v: &JsonValue) -> Option<u64> {
    v.as_u64().filter(|n| *n <= MAX_INT)
}

pub(crate) fn schema(role: &str, field: String, reason: &'static str) -> MetadataError {
    MetadataError::Schema {
        role: role.to_owned(),
        field,
        reason,
    }
}

/// Decodes a digest or signature: hex in TUF 1.0, standard padded base64 in Notary.
pub(crate) fn decode_bytes(dialect: Dialect, s: &str) -> Option<Vec<u8>> {
    match dialect {
        Dialect::TufSpec => decode_hex(s),
        Dialect::Notary => base64::engine::general_purpose::STANDARD.decode(s).ok(),
    }
}

/// Hex (either case, even length) to bytes; accepts exactly what `hex::decode` accepts, at a
/// fraction of its cost (every target entry carries one or more hex digests).
fn decode_hex(s: &str) -> Option<Vec<u8>> {
    /// Nibble value of each byte; 0xFF for bytes that are not hex digits.
    const NIBBLE: [u8; 256] = {
        let mut t = [0xFF_u8; 256];
        let mut i = 0;
        while i < 10 {
            t[b'0' as usize + i] = i as u8;
            i += 1;
        }
        let mut i = 0;
        while i < 6 {
            t[b'a' as usize + i] = 10 + i as u8;
            t[b'A' as usize + i] = 10 + i as u8;
            i += 1;
        }
        t
    };
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    let mut out = vec![0u8; b.len() / 2];
    // Branch-free loop; any invalid digit sets a high bit in `bad`.
    let mut bad = 0u8;
    for (o, pair) in out.iter_mut().zip(b.chunks_exact(2)) {
        if let [hi, lo] = pair {
            let (h, l) = (NIBBLE[usize::from(*hi)], NIBBLE[usize::from(*lo)]);
            bad |= h | l;
            *o = (h << 4) | l;
        }
    }
    (bad & 0xF0 == 0).then_some(out)
}

/// Encodes a digest or signature for the dialect (inverse of [`decode_bytes`]).
pub(crate) fn encode_bytes(dialect: Dialect, b: &[u8]) -> String {
    match dialect {
        Dialect::TufSpec => hex::encode(b),
        Dialect::Notary => base64::engine::general_purpose::STANDARD.encode(b),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn decode_hex_matches_the_hex_crate() {
        for s in [
            "",
            "00",
            "0aFf",
            "deadBEEF",
            "0",
            "abc",
            "0g",
            "g0",
            "zz",
            " 0",
            "0x00",
            "é0",
            "1234567890abcdefABCDEF",
        ] {
            assert_eq!(decode_hex(s), hex::decode(s).ok(), "{s:?}");
        }
        for b in 0..=255u8 {
            let s = format!("{b:02x}{b:02X}");
            assert_eq!(decode_hex(&s), hex::decode(&s).ok());
            let raw = [b'0', b];
            let s = String::from_utf8_lossy(&raw);
            assert_eq!(decode_hex(&s), hex::decode(s.as_bytes()).ok(), "{s:?}");
        }
    }
}
