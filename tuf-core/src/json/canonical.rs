//! Canonical JSON writer (the OLPC dialect used by securesystemslib and Go Notary).
//!
//! Object keys in raw UTF-8 byte order (the `BTreeMap<String, _>` order), no whitespace,
//! strings escape only `"` and `\`; every other byte, including control characters,
//! newlines and non-ASCII text, is written raw. This is *not* RFC 8785.

use super::value::JsonValue;

/// Appends the canonical encoding of `v` to `out`.
pub fn write_canonical(v: &JsonValue, out: &mut Vec<u8>) {
    match v {
        JsonValue::Null => out.extend_from_slice(b"null"),
        JsonValue::Bool(true) => out.extend_from_slice(b"true"),
        JsonValue::Bool(false) => out.extend_from_slice(b"false"),
        JsonValue::Int(i) => write_int(*i, out),
        JsonValue::String(s) => write_string(s, out),
        JsonValue::Array(items) => {
            out.push(b'[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        JsonValue::Object(map) => {
            out.push(b'{');
            for (n, (key, value)) in map.iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                write_string(key, out);
                out.push(b':');
                write_canonical(value, out);
            }
            out.push(b'}');
        }
    }
}

/// Returns the canonical encoding of `v`.
pub fn to_canonical(v: &JsonValue) -> Vec<u8> {
    let mut out = Vec::new();
    write_canonical(v, &mut out);
    out
}

/// Writes an integer in plain decimal (`-` sign, no leading zeros).
fn write_int(i: i128, out: &mut Vec<u8>) {
    if i < 0 {
        out.push(b'-');
    }
    let mut magnitude = i.unsigned_abs();
    // u128::MAX has 39 decimal digits.
    let mut buf = [0u8; 40];
    let mut start = buf.len();
    loop {
        start -= 1;
        if let Some(slot) = buf.get_mut(start) {
            // `magnitude % 10` is a single digit, so the cast is lossless.
            *slot = b'0' + (magnitude % 10) as u8;
        }
        magnitude /= 10;
        if magnitude == 0 || start == 0 {
            break;
        }
    }
    out.extend_from_slice(buf.get(start..).unwrap_or_default());
}

/// Writes a quoted string, escaping only `"` and `\`, copying unescaped runs in bulk.
fn write_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let mut rest = s.as_bytes();
    while let Some(i) = rest.iter().position(|&b| matches!(b, b'"' | b'\\')) {
        let (run, tail) = rest.split_at(i);
        out.extend_from_slice(run);
        match tail.split_first() {
            Some((&special, after)) => {
                out.push(b'\\');
                out.push(special);
                rest = after;
            }
            None => {
                rest = tail;
                break;
            }
        }
    }
    out.extend_from_slice(rest);
    out.push(b'"');
}

impl JsonValue {
    /// The canonical JSON encoding of this value (see [`to_canonical`]).
    pub fn to_canonical(&self) -> Vec<u8> {
        to_canonical(self)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::json::{parse, JsonObject};

    fn canon(v: &JsonValue) -> String {
        String::from_utf8(to_canonical(v)).unwrap()
    }

    #[test]
    fn scalars() {
        assert_eq!(canon(&JsonValue::Null), "null");
        assert_eq!(canon(&JsonValue::Bool(true)), "true");
        assert_eq!(canon(&JsonValue::Bool(false)), "false");
        assert_eq!(canon(&JsonValue::Int(0)), "0");
        assert_eq!(canon(&JsonValue::Int(-42)), "-42");
        assert_eq!(
            canon(&JsonValue::Int(i128::from(u64::MAX))),
            "18446744073709551615"
        );
        assert_eq!(
            canon(&JsonValue::Int(i128::from(i64::MIN))),
            "-9223372036854775808"
        );
        assert_eq!(
            canon(&JsonValue::Int(i128::MIN)),
            "-170141183460469231731687303715884105728"
        );
    }

    #[test]
    fn strings_escape_only_quote_and_backslash() {
        let v = JsonValue::from("a\"b\\c\n\t\u{0}\u{1f}<>&/caf\u{e9}\u{2028}\u{1F600}");
        assert_eq!(
            canon(&v),
            "\"a\\\"b\\\\c\n\t\u{0}\u{1f}<>&/caf\u{e9}\u{2028}\u{1F600}\""
        );
        assert_eq!(canon(&JsonValue::from("\"\"\\")), r#""\"\"\\""#);
        assert_eq!(canon(&JsonValue::from("")), r#""""#);
    }

    #[test]
    fn objects_sorted_by_bytes_no_whitespace() {
        let mut o = JsonObject::new();
        o.insert(
            "b".into(),
            JsonValue::Array(vec![1u64.into(), JsonValue::Null]),
        );
        o.insert("a".into(), true.into());
        o.insert("\u{e9}".into(), JsonValue::Object(JsonObject::new()));
        o.insert("Z".into(), JsonValue::Array(vec![]));
        assert_eq!(
            canon(&JsonValue::Object(o)),
            "{\"Z\":[],\"a\":true,\"b\":[1,null],\"\u{e9}\":{}}"
        );
    }

    #[test]
    fn pem_newlines_stay_raw() {
        let v = parse(br#"{"public":"-----BEGIN CERT-----\nAAAA\n-----END CERT-----\n"}"#).unwrap();
        assert_eq!(
            canon(&v),
            "{\"public\":\"-----BEGIN CERT-----\nAAAA\n-----END CERT-----\n\"}"
        );
        assert_eq!(v.to_canonical(), to_canonical(&v));
    }
}
