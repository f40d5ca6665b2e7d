//! Canonical JSON writer (the OLPC dialect used by securesystemslib and Go Notary).
//!
//! Object keys in raw UTF-8 byte order (the `BTreeMap<String, _>` order), no whitespace,
//! strings escape only `"` and `\`; every other byte, including control characters,
//! newlines and non-ASCII text, is written raw. This is *not* RFC 8785.

use super::value::JsonValue;

/// Appends the canonical encoding of `v` to `out`.
pub fn write_canonical(v: &JsonValue, out: &mut Vec<u8>) {
    write_value(v, out, false);
}

/// Appends `v` as compact, key-sorted, strictly valid JSON (RFC 8259): identical to the
/// canonical form except that control characters in strings are escaped, so a strict parser
/// accepts the text and re-canonicalising it gives back [`to_canonical`]. This is the form
/// metadata *files* are written in (canonical JSON with a PEM key's raw newline is not JSON).
pub fn write_json(v: &JsonValue, out: &mut Vec<u8>) {
    write_value(v, out, true);
}

/// Returns [`write_json`]'s encoding of `v`.
pub fn to_json(v: &JsonValue) -> Vec<u8> {
    let mut out = Vec::new();
    write_json(v, &mut out);
    out
}

fn write_value(v: &JsonValue, out: &mut Vec<u8>, escape_controls: bool) {
    match v {
        JsonValue::Null => out.extend_from_slice(b"null"),
        JsonValue::Bool(true) => out.extend_from_slice(b"true"),
        JsonValue::Bool(false) => out.extend_from_slice(b"false"),
        JsonValue::Int(i) => write_int(*i, out),
        JsonValue::String(s) => write_string(s, out, escape_controls),
        JsonValue::Array(items) => {
            out.push(b'[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                write_value(item, out, escape_controls);
            }
            out.push(b']');
        }
        JsonValue::Object(map) => {
            out.push(b'{');
            for (n, (key, value)) in map.iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                write_string(key, out, escape_controls);
                out.push(b':');
                write_value(value, out, escape_controls);
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

/// Writes a quoted string, escaping `"` and `\` (and, if asked, control characters),
/// copying unescaped runs in bulk.
fn write_string(s: &str, out: &mut Vec<u8>, escape_controls: bool) {
    out.push(b'"');
    let mut rest = s.as_bytes();
    while let Some(i) = rest
        .iter()
        .position(|&b| matches!(b, b'"' | b'\\') || (escape_controls && b < 0x20))
    {
        let (run, tail) = rest.split_at(i);
        out.extend_from_slice(run);
        match tail.split_first() {
            Some((&special, after)) => {
                match special {
                    b'"' | b'\\' => out.extend_from_slice(&[b'\\', special]),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    b'\t' => out.extend_from_slice(b"\\t"),
                    c => out.extend_from_slice(format!("\\u{c:04x}").as_bytes()),
                }
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

    #[test]
    fn json_form_escapes_controls_and_round_trips_to_the_same_canonical_bytes() {
        let v = parse(br#"{"pem":"-----BEGIN\nKEY\u0001\t\r-----","z":[1,"\\\""]}"#).unwrap();
        let text = to_json(&v);
        assert!(!text.iter().any(|b| *b < 0x20), "no raw control characters");
        let back = parse(&text).unwrap();
        assert_eq!(back, v);
        assert_eq!(to_canonical(&back), to_canonical(&v));
        assert_eq!(
            String::from_utf8(text).unwrap(),
            r#"{"pem":"-----BEGIN\nKEY\u0001\t\r-----","z":[1,"\\\""]}"#
        );
    }
}
