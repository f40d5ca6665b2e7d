//! Strict, linear-time JSON parser for untrusted bytes.
//!
//! Accepts exactly the RFC 8259 grammar for one value with optional surrounding whitespace,
//! and additionally rejects everything that could make two verifiers disagree about what a
//! document says: duplicate object keys, non-integer numbers, `-0`, integers outside
//! `i64::MIN..=u64::MAX`, invalid UTF-8, lone surrogate escapes and trailing data.

use super::value::{JsonObject, JsonValue};

/// Resource limits applied while parsing untrusted input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JsonLimits {
    /// Maximum input length in bytes; longer input is rejected before parsing starts.
    pub max_bytes: usize,
    /// Maximum nesting depth of arrays and objects (a scalar at top level has depth 0).
    ///
    /// The parser recurses once per level, so values above 512 are clamped to 512; that
    /// keeps the stack bounded whatever the caller configures.
    pub max_depth: usize,
}

/// Hard ceiling on [`JsonLimits::max_depth`], safe for the recursion of the parser, the
/// canonical writer and `Drop` even on a 2 MiB thread stack in a debug build.
const MAX_DEPTH_CAP: usize = 512;

impl Default for JsonLimits {
    /// 64 MiB of input and 64 levels of nesting.
    fn default() -> Self {
        Self {
            max_bytes: 64 * 1024 * 1024,
            max_depth: 64,
        }
    }
}

/// Why untrusted bytes were rejected. Offsets are byte offsets into the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonError {
    /// The input does not follow the JSON grammar.
    #[error("JSON syntax error at byte {offset}: expected {expected}")]
    Syntax {
        /// Where the unexpected byte is.
        offset: usize,
        /// What the grammar allows at that point.
        expected: &'static str,
    },
    /// An object contains the same key twice (after decoding escapes).
    #[error("duplicate JSON object key {key:?} at byte {offset}")]
    DuplicateKey {
        /// The decoded key.
        key: String,
        /// Where the second occurrence starts.
        offset: usize,
    },
    /// A number has a fraction or an exponent; only integers are allowed.
    #[error(
        "JSON number at byte {offset} is not an integer (fractions and exponents are not allowed)"
    )]
    NotInteger {
        /// Where the number starts.
        offset: usize,
    },
    /// An integer is outside `i64::MIN..=u64::MAX`.
    #[error("JSON integer at byte {offset} is out of range (allowed: i64::MIN..=u64::MAX)")]
    IntegerOutOfRange {
        /// Where the number starts.
        offset: usize,
    },
    /// The literal `-0`, which has no canonical form.
    #[error("JSON number at byte {offset} is -0, which is not canonical")]
    NegativeZero {
        /// Where the number starts.
        offset: usize,
    },
    /// A string contains bytes that are not valid UTF-8.
    #[error("invalid UTF-8 in JSON string at byte {offset}")]
    InvalidUtf8 {
        /// Where the first invalid byte is.
        offset: usize,
    },
    /// A backslash escape is not one of the escapes RFC 8259 defines.
    #[error("invalid escape sequence in JSON string at byte {offset}")]
    InvalidEscape {
        /// Where the backslash is.
        offset: usize,
    },
    /// A `\uXXXX` surrogate escape without its matching half.
    #[error("lone or mismatched UTF-16 surrogate escape in JSON string at byte {offset}")]
    LoneSurrogate {
        /// Where the offending escape starts.
        offset: usize,
    },
    /// A raw control character (U+0000..U+001F) inside a string.
    #[error("raw control character in JSON string at byte {offset} (must be escaped)")]
    ControlCharacter {
        /// Where the control character is.
        offset: usize,
    },
    /// Something other than whitespace follows the value.
    #[error("trailing data after the JSON value at byte {offset}")]
    TrailingData {
        /// Where the trailing data starts.
        offset: usize,
    },
    /// Arrays/objects are nested deeper than allowed (`max` is the effective limit).
    #[error("JSON nesting deeper than {max} levels at byte {offset}")]
    TooDeep {
        /// Where the container that is one level too deep opens.
        offset: usize,
        /// The configured maximum depth.
        max: usize,
    },
    /// The input is longer than allowed.
    #[error("JSON input of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// Input length.
        len: usize,
        /// The configured maximum.
        max: usize,
    },
    /// The input ended in the middle of a value (or was empty).
    #[error("unexpected end of JSON input")]
    UnexpectedEnd,
}

/// Parses exactly one JSON value from untrusted bytes with the default [`JsonLimits`].
pub fn parse(bytes: &[u8]) -> Result<JsonValue, JsonError> {
    parse_with_limits(bytes, &JsonLimits::default())
}

/// Parses exactly one JSON value from untrusted bytes with explicit limits.
pub fn parse_with_limits(bytes: &[u8], limits: &JsonLimits) -> Result<JsonValue, JsonError> {
    if bytes.len() > limits.max_bytes {
        return Err(JsonError::TooLarge {
            len: bytes.len(),
            max: limits.max_bytes,
        });
    }
    let mut p = Parser {
        bytes,
        pos: 0,
        max_depth: limits.max_depth.min(MAX_DEPTH_CAP),
    };
    let value = p.value(0)?;
    p.skip_ws();
    if p.pos < bytes.len() {
        return Err(JsonError::TrailingData { offset: p.pos });
    }
    Ok(value)
}

/// Bytes that end a plain run inside a string: `"`, `\\` and raw control characters.
static STRING_STOP: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// Longest integer literal (digits only) that can be in range: `u64::MAX` has 20 digits.
const MAX_INT_DIGITS: usize = 20;

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
    max_depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// Error for "wanted `expected` here": end of input or a syntax error at `pos`.
    fn unexpected(&self, expected: &'static str) -> JsonError {
        if self.pos >= self.bytes.len() {
            JsonError::UnexpectedEnd
        } else {
            JsonError::Syntax {
                offset: self.pos,
                expected,
            }
        }
    }

    /// Parses one value (after optional whitespace) at nesting `depth`.
    fn value(&mut self, depth: usize) -> Result<JsonValue, JsonError> {
        self.skip_ws();
        match self.peek() {
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => self.string().map(JsonValue::String),
            Some(b't') => self.literal(b"true", JsonValue::Bool(true)),
            Some(b'f') => self.literal(b"false", JsonValue::Bool(false)),
            Some(b'n') => self.literal(b"null", JsonValue::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.unexpected("a JSON value")),
        }
    }

    fn literal(&mut self, word: &'static [u8], v: JsonValue) -> Result<JsonValue, JsonError> {
        let end = self.pos + word.len();
        match self.bytes.get(self.pos..end) {
            Some(s) if s == word => {
                self.pos = end;
                Ok(v)
            }
            _ => {
                // Point at the first byte that differs (or report the early end).
                for &w in word {
                    if self.peek() != Some(w) {
                        break;
                    }
                    self.pos += 1;
                }
                Err(self.unexpected(match word {
                    b"true" => "`true`",
                    b"false" => "`false`",
                    _ => "`null`",
                }))
            }
        }
    }

    /// Checks the depth budget before opening a container at `pos`.
    fn enter(&self, depth: usize) -> Result<usize, JsonError> {
        if depth >= self.max_depth {
            return Err(JsonError::TooDeep {
                offset: self.pos,
                max: self.max_depth,
            });
        }
        Ok(depth + 1)
    }

    fn array(&mut self, depth: usize) -> Result<JsonValue, JsonError> {
        let inner = self.enter(depth)?;
        self.pos += 1; // '['
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(JsonValue::Array(items));
        }
        loop {
            items.push(self.value(inner)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(JsonValue::Array(items));
                }
                _ => return Err(self.unexpected("`,` or `]`")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<JsonValue, JsonError> {
        let inner = self.enter(depth)?;
        self.pos += 1; // '{'
                       // Members are collected in file order and the map is bulk-built at the end: for the
                       // usual already-sorted input that is linear, where inserting one by one would cost a
                       // tree search (and long common-prefix key comparisons) per member.
        let mut members: Vec<(String, JsonValue)> = Vec::new();
        let mut offsets: Vec<usize> = Vec::new();
        let mut sorted = true;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(JsonValue::Object(JsonObject::new()));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.unexpected("a string object key"));
            }
            let key_offset = self.pos;
            let key = self.string()?;
            if members.last().is_some_and(|(prev, _)| key <= *prev) {
                sorted = false;
            }
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.unexpected("`:`"));
            }
            self.pos += 1;
            let value = self.value(inner)?;
            members.push((key, value));
            offsets.push(key_offset);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return finish_object(members, &offsets, sorted);
                }
                _ => return Err(self.unexpected("`,` or `}`")),
            }
        }
    }

    fn number(&mut self) -> Result<JsonValue, JsonError> {
        let start = self.pos;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.pos += 1;
        }
        let digits_start = self.pos;
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(JsonError::Syntax {
                        offset: start,
                        expected: "a number without leading zeros",
                    });
                }
            }
            Some(b'1'..=b'9') => {
                while let Some(b'0'..=b'9') = self.peek() {
                    self.pos += 1;
                    // Any literal longer than u64::MAX's 20 digits is out of range; stop
                    // here so a huge literal costs O(1), not a bignum parse.
                    if self.pos - digits_start > MAX_INT_DIGITS {
                        return Err(JsonError::IntegerOutOfRange { offset: start });
                    }
                }
            }
            _ => return Err(self.unexpected("a digit")),
        }
        if let Some(b'.' | b'e' | b'E') = self.peek() {
            return Err(JsonError::NotInteger { offset: start });
        }
        let digits = self.bytes.get(digits_start..self.pos).unwrap_or_default();
        let mut magnitude: i128 = 0;
        for &d in digits {
            // At most 20 digits, so this cannot overflow i128.
            magnitude = magnitude * 10 + i128::from(d - b'0');
        }
        let value = if negative {
            if magnitude == 0 {
                return Err(JsonError::NegativeZero { offset: start });
            }
            -magnitude
        } else {
            magnitude
        };
        if value < i128::from(i64::MIN) || value > i128::from(u64::MAX) {
            return Err(JsonError::IntegerOutOfRange { offset: start });
        }
        Ok(JsonValue::Int(value))
    }

    /// Parses a string starting at the opening quote and returns the decoded text.
    fn string(&mut self) -> Result<String, JsonError> {
        self.pos += 1; // opening '"'
        let mut out = String::new();
        loop {
            // Bulk-scan a run that needs no decoding. UTF-8 multi-byte sequences never
            // contain ASCII bytes, so a run never ends in the middle of a code point.
            let rest = self.bytes.get(self.pos..).unwrap_or_default();
            let run_len = rest
                .iter()
                .position(|&b| STRING_STOP[usize::from(b)])
                .unwrap_or(rest.len());
            let run = rest.get(..run_len).unwrap_or_default();
            match std::str::from_utf8(run) {
                Ok(s) => out.push_str(s),
                Err(e) => {
                    return Err(JsonError::InvalidUtf8 {
                        offset: self.pos + e.valid_up_to(),
                    })
                }
            }
            self.pos += run_len;
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => self.escape(&mut out)?,
                Some(_) => return Err(JsonError::ControlCharacter { offset: self.pos }),
                None => return Err(JsonError::UnexpectedEnd),
            }
        }
    }

    /// Decodes one escape sequence starting at the backslash.
    fn escape(&mut self, out: &mut String) -> Result<(), JsonError> {
        let start = self.pos;
        let c = match self.bytes.get(self.pos + 1) {
            None => return Err(JsonError::UnexpectedEnd),
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                let hi = self.hex4(start)?;
                self.pos = start + 6;
                let code = match hi {
                    0xD800..=0xDBFF => {
                        if self.bytes.get(self.pos..self.pos + 2) != Some(b"\\u") {
                            return Err(JsonError::LoneSurrogate { offset: start });
                        }
                        let lo = self.hex4(self.pos)?;
                        if !(0xDC00..=0xDFFF).contains(&lo) {
                            return Err(JsonError::LoneSurrogate { offset: start });
                        }
                        self.pos += 6;
                        0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                    }
                    0xDC00..=0xDFFF => return Err(JsonError::LoneSurrogate { offset: start }),
                    _ => hi,
                };
                let ch = char::from_u32(code).ok_or(JsonError::LoneSurrogate { offset: start })?;
                out.push(ch);
                return Ok(());
            }
            Some(_) => return Err(JsonError::InvalidEscape { offset: start }),
        };
        out.push(c);
        self.pos = start + 2;
        Ok(())
    }

    /// Reads the four hex digits of a `\uXXXX` escape whose backslash is at `at`.
    fn hex4(&self, at: usize) -> Result<u32, JsonError> {
        let digits = match self.bytes.get(at + 2..at + 6) {
            Some(d) => d,
            None => {
                // Distinguish a truncated input from a malformed escape.
                let tail = self.bytes.get(at + 2..).unwrap_or_default();
                return if tail.iter().all(u8::is_ascii_hexdigit) {
                    Err(JsonError::UnexpectedEnd)
                } else {
                    Err(JsonError::InvalidEscape { offset: at })
                };
            }
        };
        let mut code = 0u32;
        for &d in digits {
            let v = match d {
                b'0'..=b'9' => d - b'0',
                b'a'..=b'f' => d - b'a' + 10,
                b'A'..=b'F' => d - b'A' + 10,
                _ => return Err(JsonError::InvalidEscape { offset: at }),
            };
            code = (code << 4) | u32::from(v);
        }
        Ok(code)
    }
}

/// Builds an object from its members in file order; a repeated key is an error reported at
/// its second occurrence (strictly increasing keys, the common case, cannot repeat).
fn finish_object(
    members: Vec<(String, JsonValue)>,
    offsets: &[usize],
    sorted: bool,
) -> Result<JsonValue, JsonError> {
    if !sorted {
        let mut keys: Vec<(&str, usize)> = members
            .iter()
            .enumerate()
            .map(|(i, (k, _))| (k.as_str(), i))
            .collect();
        keys.sort_unstable();
        // After sorting, equal keys are adjacent; the later index is the second occurrence.
        if let Some((key, later)) = keys.windows(2).find_map(|w| match w {
            [(a, _), (b, j)] if a == b => Some((*b, *j)),
            _ => None,
        }) {
            return Err(JsonError::DuplicateKey {
                key: key.to_owned(),
                offset: offsets.get(later).copied().unwrap_or_default(),
            });
        }
    }
    Ok(JsonValue::Object(members.into_iter().collect()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn err(input: &[u8]) -> JsonError {
        parse(input).unwrap_err()
    }

    fn s(v: &str) -> JsonValue {
        JsonValue::String(v.to_owned())
    }

    #[test]
    fn scalars_and_whitespace() {
        assert_eq!(parse(b" \t\r\nnull \n").unwrap(), JsonValue::Null);
        assert_eq!(parse(b"true").unwrap(), JsonValue::Bool(true));
        assert_eq!(parse(b"false").unwrap(), JsonValue::Bool(false));
        assert_eq!(parse(b"0").unwrap(), JsonValue::Int(0));
        assert_eq!(parse(b"-7").unwrap(), JsonValue::Int(-7));
        assert_eq!(parse(br#""a\"b""#).unwrap(), s("a\"b"));
    }

    #[test]
    fn containers() {
        let v = parse(br#"{ "b" : [1, {"x":null}, []], "a":{} }"#).unwrap();
        let o = v.as_object().unwrap();
        assert_eq!(o.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(o["b"].as_array().unwrap().len(), 3);
    }

    #[test]
    fn integer_bounds() {
        assert_eq!(
            parse(b"18446744073709551615").unwrap(),
            JsonValue::Int(i128::from(u64::MAX))
        );
        assert_eq!(
            parse(b"-9223372036854775808").unwrap(),
            JsonValue::Int(i128::from(i64::MIN))
        );
        assert_eq!(
            err(b"18446744073709551616"),
            JsonError::IntegerOutOfRange { offset: 0 }
        );
        assert_eq!(
            err(b"-9223372036854775809"),
            JsonError::IntegerOutOfRange { offset: 0 }
        );
        assert_eq!(
            err(b"[123456789012345678901]"),
            JsonError::IntegerOutOfRange { offset: 1 }
        );
    }

    #[test]
    fn number_grammar() {
        assert_eq!(err(b"1.0"), JsonError::NotInteger { offset: 0 });
        assert_eq!(err(b"1e3"), JsonError::NotInteger { offset: 0 });
        assert_eq!(err(b"[0E1]"), JsonError::NotInteger { offset: 1 });
        assert_eq!(err(b"-0"), JsonError::NegativeZero { offset: 0 });
        assert!(matches!(err(b"01"), JsonError::Syntax { offset: 0, .. }));
        assert!(matches!(err(b"-01"), JsonError::Syntax { offset: 0, .. }));
        assert!(matches!(err(b"+1"), JsonError::Syntax { offset: 0, .. }));
        assert!(matches!(err(b"-x"), JsonError::Syntax { offset: 1, .. }));
        assert_eq!(err(b"-"), JsonError::UnexpectedEnd);
        assert!(matches!(err(b"NaN"), JsonError::Syntax { offset: 0, .. }));
    }

    #[test]
    fn escapes() {
        assert_eq!(
            parse(br#""\"\\\/\b\f\n\r\t\u0041\u00e9\u20AC""#).unwrap(),
            s("\"\\/\u{8}\u{c}\n\r\tA\u{e9}\u{20ac}")
        );
        assert_eq!(parse(br#""\ud83d\ude00""#).unwrap(), s("\u{1F600}"));
        assert_eq!(parse(br#""\u0000""#).unwrap(), s("\0"));
        assert_eq!(err(br#""\x""#), JsonError::InvalidEscape { offset: 1 });
        assert_eq!(err(br#""\u12G4""#), JsonError::InvalidEscape { offset: 1 });
        assert_eq!(
            err(br#""ab\ud800""#),
            JsonError::LoneSurrogate { offset: 3 }
        );
        assert_eq!(err(br#""\udc00""#), JsonError::LoneSurrogate { offset: 1 });
        assert_eq!(
            err(br#""\ud800\u0041""#),
            JsonError::LoneSurrogate { offset: 1 }
        );
        assert_eq!(err(br#""\u12"#), JsonError::UnexpectedEnd);
        assert_eq!(err(br#""\"#), JsonError::UnexpectedEnd);
    }

    #[test]
    fn raw_bytes_in_strings() {
        assert_eq!(
            parse("\"caf\u{e9} \u{1F600}\"".as_bytes()).unwrap(),
            s("caf\u{e9} \u{1F600}")
        );
        assert_eq!(err(b"\"a\nb\""), JsonError::ControlCharacter { offset: 2 });
        assert_eq!(err(b"\"\x00\""), JsonError::ControlCharacter { offset: 1 });
        assert_eq!(err(b"\"ab\xff\""), JsonError::InvalidUtf8 { offset: 3 });
        assert_eq!(err(b"\"\xc3\""), JsonError::InvalidUtf8 { offset: 1 });
        assert_eq!(err(b"\"abc"), JsonError::UnexpectedEnd);
        // DEL and raw U+2028 are fine.
        assert_eq!(
            parse("\"\x7f\u{2028}\"".as_bytes()).unwrap(),
            s("\x7f\u{2028}")
        );
    }

    #[test]
    fn duplicate_keys() {
        assert_eq!(
            err(br#"{"version":1,"version":9}"#),
            JsonError::DuplicateKey {
                key: "version".into(),
                offset: 13
            }
        );
        // Duplicates are compared after decoding escapes.
        assert!(matches!(
            err(br#"{"a":1,"\u0061":2}"#),
            JsonError::DuplicateKey { .. }
        ));
    }

    #[test]
    fn structure_errors() {
        assert_eq!(err(b""), JsonError::UnexpectedEnd);
        assert_eq!(err(b"  "), JsonError::UnexpectedEnd);
        assert_eq!(err(b"[1,"), JsonError::UnexpectedEnd);
        assert!(matches!(err(b"[1,]"), JsonError::Syntax { offset: 3, .. }));
        assert!(matches!(
            err(b"{\"a\":1,}"),
            JsonError::Syntax { offset: 7, .. }
        ));
        assert!(matches!(err(b"{1:2}"), JsonError::Syntax { offset: 1, .. }));
        assert!(matches!(
            err(b"{\"a\" 1}"),
            JsonError::Syntax { offset: 5, .. }
        ));
        assert!(matches!(err(b"[1 2]"), JsonError::Syntax { offset: 3, .. }));
        assert!(matches!(err(b"tru"), JsonError::UnexpectedEnd));
        assert!(matches!(err(b"trux"), JsonError::Syntax { offset: 3, .. }));
        assert!(matches!(
            err(b"/*c*/1"),
            JsonError::Syntax { offset: 0, .. }
        ));
        assert_eq!(err(b"1 2"), JsonError::TrailingData { offset: 2 });
        assert_eq!(err(b"{}}"), JsonError::TrailingData { offset: 2 });
        assert!(matches!(
            err(b"\xEF\xBB\xBF{}"),
            JsonError::Syntax { offset: 0, .. }
        ));
        assert!(matches!(err(b"\x0c1"), JsonError::Syntax { offset: 0, .. }));
    }

    #[test]
    fn limits() {
        let limits = JsonLimits {
            max_bytes: 4,
            max_depth: 2,
        };
        assert_eq!(
            parse_with_limits(b"[[1]]", &limits).unwrap_err(),
            JsonError::TooLarge { len: 5, max: 4 }
        );
        assert!(parse_with_limits(b"[[]]", &limits).is_ok());
        let limits = JsonLimits {
            max_bytes: 100,
            max_depth: 2,
        };
        assert_eq!(
            parse_with_limits(b"[{\"a\":[]}]", &limits).unwrap_err(),
            JsonError::TooDeep { offset: 6, max: 2 }
        );
        let deep = vec![b'['; 10_000];
        assert_eq!(
            err(&deep),
            JsonError::TooDeep {
                offset: 64,
                max: 64
            }
        );
    }

    #[test]
    fn error_messages_are_informative() {
        let e = err(br#"{"k":1,"k":2}"#).to_string();
        assert!(e.contains("duplicate") && e.contains("\"k\""), "{e}");
        let e = err(b"[1,]").to_string();
        assert!(e.contains("byte 3"), "{e}");
    }
}
