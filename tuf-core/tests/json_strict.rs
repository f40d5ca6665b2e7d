//! Strict-parser rejections, canonical golden tests over real Go Notary 0.7 fixtures, and
//! round-trip / no-panic properties.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use tuf_core::json::{
    parse, parse_with_limits, to_canonical, JsonError, JsonLimits, JsonObject, JsonValue,
};

fn err(input: &[u8]) -> JsonError {
    match parse(input) {
        Ok(v) => panic!(
            "expected an error for {:?}, got {v:?}",
            String::from_utf8_lossy(input)
        ),
        Err(e) => e,
    }
}

// ---------------------------------------------------------------- rejections

#[test]
fn duplicate_key_top_level() {
    assert_eq!(
        err(br#"{"version":1,"version":9}"#),
        JsonError::DuplicateKey {
            key: "version".into(),
            offset: 13
        }
    );
}

#[test]
fn duplicate_key_nested() {
    let e = err(br#"{"signed":{"meta":{"a":{"length":1,"length":2}}},"signatures":[]}"#);
    assert!(
        matches!(&e, JsonError::DuplicateKey { key, .. } if key == "length"),
        "{e:?}"
    );
    let e = err(br#"[{"x":1},{"y":1,"y":1}]"#);
    assert!(
        matches!(&e, JsonError::DuplicateKey { key, offset: 16 } if key == "y"),
        "{e:?}"
    );
}

#[test]
fn duplicate_signed_member() {
    let doc = br#"{"signed":{"_type":"Targets","version":1},"signatures":[],"signed":{"_type":"Targets","version":9}}"#;
    assert!(matches!(&err(doc), JsonError::DuplicateKey { key, .. } if key == "signed"));
}

#[test]
fn duplicate_key_via_escape() {
    let e = err(br#"{"version":1,"\u0076ersion":9}"#);
    assert!(matches!(&e, JsonError::DuplicateKey { key, .. } if key == "version"));
}

#[test]
fn floats_and_exponents_rejected() {
    for (doc, offset) in [
        (&b"1.0"[..], 0),
        (b"1e3", 0),
        (b"1E+3", 0),
        (b"[0.5]", 1),
        (b"{\"length\":-2.5e-3}", 10),
    ] {
        assert_eq!(err(doc), JsonError::NotInteger { offset }, "{doc:?}");
    }
}

#[test]
fn integer_range() {
    assert_eq!(
        parse(b"18446744073709551615").unwrap(),
        JsonValue::Int(u64::MAX.into())
    );
    assert_eq!(
        parse(b"-9223372036854775808").unwrap(),
        JsonValue::Int(i64::MIN.into())
    );
    // 2^64
    assert_eq!(
        err(b"18446744073709551616"),
        JsonError::IntegerOutOfRange { offset: 0 }
    );
    // -2^63 - 1
    assert_eq!(
        err(b"-9223372036854775809"),
        JsonError::IntegerOutOfRange { offset: 0 }
    );
}

#[test]
fn negative_zero_rejected() {
    assert_eq!(err(b"-0"), JsonError::NegativeZero { offset: 0 });
    assert_eq!(err(b"[1,-0]"), JsonError::NegativeZero { offset: 3 });
}

#[test]
fn huge_number_literal_fails_fast() {
    let mut doc = b"[".to_vec();
    doc.extend(std::iter::repeat_n(b'7', 1 << 20));
    doc.push(b']');
    assert_eq!(err(&doc), JsonError::IntegerOutOfRange { offset: 1 });
    let mut doc = b"-".to_vec();
    doc.extend(std::iter::repeat_n(b'1', 1 << 20));
    assert_eq!(err(&doc), JsonError::IntegerOutOfRange { offset: 0 });
}

#[test]
fn grammar_violations() {
    for doc in [
        &b"01"[..],
        b"+1",
        b"[1,]",
        b"{\"a\":1,}",
        b"{'a':1}",
        b"[1 2]",
        b"NaN",
        b"Infinity",
        b"// c\n1",
        b"{\"a\"}",
        b"[,1]",
        b"nul1",
    ] {
        assert!(
            matches!(err(doc), JsonError::Syntax { .. }),
            "{:?} -> {:?}",
            String::from_utf8_lossy(doc),
            err(doc)
        );
    }
}

#[test]
fn deep_nesting_is_too_deep_not_a_stack_overflow() {
    let doc = vec![b'['; 10_000];
    assert_eq!(
        err(&doc),
        JsonError::TooDeep {
            offset: 64,
            max: 64
        }
    );
    let doc = b"{\"a\":".repeat(10_000);
    assert!(matches!(err(&doc), JsonError::TooDeep { max: 64, .. }));
    // Exactly at the limit is fine.
    let mut ok = vec![b'['; 64];
    ok.extend(vec![b']'; 64]);
    assert!(parse(&ok).is_ok());
}

#[test]
fn too_large_checked_before_parsing() {
    let limits = JsonLimits {
        max_bytes: 10,
        ..JsonLimits::default()
    };
    // Not even valid JSON: the size check comes first.
    assert_eq!(
        parse_with_limits(b"xxxxxxxxxxx", &limits).unwrap_err(),
        JsonError::TooLarge { len: 11, max: 10 }
    );
    assert!(parse_with_limits(b"1234567890", &limits).is_ok());
    assert_eq!(JsonLimits::default().max_bytes, 64 * 1024 * 1024);
    assert_eq!(JsonLimits::default().max_depth, 64);
}

#[test]
fn invalid_utf8_rejected() {
    assert_eq!(err(b"\"ok\xc3\x28\""), JsonError::InvalidUtf8 { offset: 3 });
    assert_eq!(err(b"{\"k\xff\":1}"), JsonError::InvalidUtf8 { offset: 3 });
    // Overlong encoding of '/' and an encoded surrogate are not UTF-8 either.
    assert_eq!(err(b"\"\xc0\xaf\""), JsonError::InvalidUtf8 { offset: 1 });
    assert_eq!(
        err(b"\"\xed\xa0\x80\""),
        JsonError::InvalidUtf8 { offset: 1 }
    );
    // Outside strings a non-ASCII byte is simply a syntax error.
    assert!(matches!(
        err(b"[\xff]"),
        JsonError::Syntax { offset: 1, .. }
    ));
}

#[test]
fn lone_surrogates_rejected() {
    assert_eq!(err(br#""\ud800""#), JsonError::LoneSurrogate { offset: 1 });
    assert_eq!(err(br#""\uDFFF""#), JsonError::LoneSurrogate { offset: 1 });
    assert_eq!(
        err(br#""\ud800\ud800""#),
        JsonError::LoneSurrogate { offset: 1 }
    );
    assert_eq!(err(br#""\ud800x""#), JsonError::LoneSurrogate { offset: 1 });
    assert_eq!(
        parse(br#""\uD834\uDD1E""#).unwrap(),
        JsonValue::from("\u{1D11E}")
    );
}

#[test]
fn invalid_escapes_rejected() {
    assert_eq!(err(br#""\a""#), JsonError::InvalidEscape { offset: 1 });
    assert_eq!(err(br#""\U0041""#), JsonError::InvalidEscape { offset: 1 });
    assert_eq!(err(br#""\u00g1""#), JsonError::InvalidEscape { offset: 1 });
    assert_eq!(err(b"\"\\\n\""), JsonError::InvalidEscape { offset: 1 });
}

#[test]
fn raw_control_characters_rejected() {
    for c in 0u8..0x20 {
        let doc = [b'"', b'a', c, b'"'];
        assert_eq!(
            err(&doc),
            JsonError::ControlCharacter { offset: 2 },
            "byte {c:#x}"
        );
    }
}

#[test]
fn nul_escape_accepted_and_exact_code_points_kept() {
    assert_eq!(parse(br#""a\u0000b""#).unwrap(), JsonValue::from("a\0b"));
    // No Unicode normalisation: precomposed and decomposed stay distinct keys.
    let v = parse("{\"caf\u{e9}\":1,\"cafe\u{301}\":2}".as_bytes()).unwrap();
    assert_eq!(v.as_object().unwrap().len(), 2);
}

#[test]
fn trailing_data_rejected() {
    assert_eq!(err(b"{} {}"), JsonError::TrailingData { offset: 3 });
    assert_eq!(err(b"1 x"), JsonError::TrailingData { offset: 2 });
    assert_eq!(err(b"\"a\"\"b\""), JsonError::TrailingData { offset: 3 });
    assert_eq!(err(b"null\x00"), JsonError::TrailingData { offset: 4 });
    assert!(parse(b" {} \r\n\t").is_ok());
}

#[test]
fn empty_and_truncated_input() {
    assert_eq!(err(b""), JsonError::UnexpectedEnd);
    assert_eq!(err(b" \n"), JsonError::UnexpectedEnd);
    assert_eq!(err(b"{\"signed\":"), JsonError::UnexpectedEnd);
    assert_eq!(err(b"[1"), JsonError::UnexpectedEnd);
    assert_eq!(err(b"\"abc"), JsonError::UnexpectedEnd);
}

#[test]
fn byte_order_mark_rejected() {
    assert!(matches!(
        err(b"\xEF\xBB\xBF{\"a\":1}"),
        JsonError::Syntax { offset: 0, .. }
    ));
}

#[test]
fn errors_display() {
    let cases: Vec<(JsonError, &str)> = vec![
        (err(b"[1,]"), "syntax"),
        (err(br#"{"a":1,"a":1}"#), "duplicate"),
        (err(b"1.5"), "not an integer"),
        (err(b"99999999999999999999"), "out of range"),
        (err(b"-0"), "-0"),
        (err(b"\"\xff\""), "UTF-8"),
        (err(br#""\q""#), "escape"),
        (err(br#""\udc00""#), "surrogate"),
        (err(b"\"\x01\""), "control character"),
        (err(b"1 1"), "trailing"),
        (err(&[b'['; 100]), "deeper than 64"),
        (
            parse_with_limits(
                b"[]",
                &JsonLimits {
                    max_bytes: 1,
                    max_depth: 1,
                },
            )
            .unwrap_err(),
            "exceeds",
        ),
        (err(b""), "end"),
    ];
    for (e, needle) in cases {
        let msg = e.to_string();
        assert!(msg.contains(needle), "{msg:?} should mention {needle:?}");
    }
}

// ---------------------------------------------------------------- golden fixtures

fn fixtures_dir() -> PathBuf {
    match std::env::var_os("NOTARY_RS_SHARED") {
        Some(shared) => PathBuf::from(shared).join("fixtures/notary-0.7"),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/notary-0.7"),
    }
}

fn collect_json(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read fixture dir {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_json(&path, out);
        } else if path.extension().is_some_and(|x| x == "json") {
            out.push(path);
        }
    }
}

/// Undoes Go's `json.Marshal` HTML escaping (`\u003c`, `\u003e`, `\u0026`) in a raw
/// JSON slice, leaving escaped backslashes (`\\u003c` is a literal backslash) alone.
fn unescape_go_html(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'\\' {
            let replacement = match raw.get(i..i + 6) {
                Some(b"\\u003c") => Some(b'<'),
                Some(b"\\u003e") => Some(b'>'),
                Some(b"\\u0026") => Some(b'&'),
                _ => None,
            };
            if let Some(c) = replacement {
                out.push(c);
                i += 6;
            } else {
                // Copy the escape's backslash and the next byte verbatim.
                out.extend_from_slice(&raw[i..(i + 2).min(raw.len())]);
                i += 2;
            }
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    out
}

#[test]
fn golden_notary_fixtures_canonical_signed_bytes() {
    let dir = fixtures_dir();
    assert!(
        dir.is_dir(),
        "Go Notary 0.7 fixtures not found at {} (set NOTARY_RS_SHARED to the shared dir)",
        dir.display()
    );
    let mut files = Vec::new();
    collect_json(&dir, &mut files);
    files.sort();
    let mut checked = 0usize;
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let doc = parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let signed = doc
            .as_object()
            .and_then(|o| o.get("signed"))
            .unwrap_or_else(|| panic!("{}: no `signed` member", path.display()));
        let prefix = b"{\"signed\":";
        assert!(
            bytes.starts_with(prefix),
            "{}: unexpected envelope",
            path.display()
        );
        // `signatures` is the envelope's last member and holds only keyid/method/sig, so
        // its last occurrence marks the end of the signed object.
        let marker = b",\"signatures\":";
        let end = bytes
            .windows(marker.len())
            .rposition(|w| w == marker)
            .unwrap_or_else(|| panic!("{}: no signatures member", path.display()));
        let expected = unescape_go_html(&bytes[prefix.len()..end]);
        let actual = to_canonical(signed);
        assert!(
            actual == expected,
            "{}: canonical bytes differ\n ours: {}\n file: {}",
            path.display(),
            String::from_utf8_lossy(&actual),
            String::from_utf8_lossy(&expected)
        );
        checked += 1;
    }
    assert!(
        checked > 100,
        "only {checked} fixture files checked in {}",
        dir.display()
    );
}

#[test]
fn golden_special_chars_are_raw_in_canonical_form() {
    let path = fixtures_dir().join("special-chars/server/targets.json");
    let doc = parse(&std::fs::read(&path).unwrap()).unwrap();
    let targets = doc.as_object().unwrap()["signed"].as_object().unwrap()["targets"]
        .as_object()
        .unwrap();
    let names: Vec<&str> = targets.keys().map(String::as_str).collect();
    assert_eq!(names, ["a&b<c>", "caf\\u00e9", "caf\u{e9} x"]);
    let canon = to_canonical(&doc.as_object().unwrap()["signed"]);
    let text = String::from_utf8(canon).unwrap();
    assert!(text.contains("\"a&b<c>\""));
    assert!(text.contains("\"caf\\\\u00e9\""));
}

// ---------------------------------------------------------------- properties

/// Any scalar value, biased towards characters that need care: controls, quotes,
/// backslashes, `/`, U+2028 and astral-plane characters.
fn arb_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => any::<char>(),
        2 => (0u32..0x20).prop_map(|c| char::from_u32(c).unwrap()),
        1 => Just('"'),
        1 => Just('\\'),
        1 => Just('/'),
        1 => Just('\u{2028}'),
        1 => Just('\u{1F600}'),
        2 => proptest::char::range('a', 'e'),
    ]
}

/// Like [`arb_char`] but without U+0000..U+001F, which canonical JSON writes raw and
/// RFC 8259 (hence the strict parser) forbids raw.
fn arb_char_no_controls() -> impl Strategy<Value = char> {
    arb_char().prop_filter("raw control character", |c| u32::from(*c) >= 0x20)
}

fn arb_string_from(chars: BoxedStrategy<char>) -> impl Strategy<Value = String> {
    proptest::collection::vec(chars, 0..12).prop_map(String::from_iter)
}

fn arb_int() -> impl Strategy<Value = i128> {
    prop_oneof![
        i128::from(i64::MIN)..=i128::from(u64::MAX),
        -1000i128..1000,
        Just(i128::from(i64::MIN)),
        Just(i128::from(u64::MAX)),
        Just(i128::from(i64::MAX)),
        Just(0),
    ]
}

fn arb_value_with(chars: BoxedStrategy<char>) -> impl Strategy<Value = JsonValue> {
    let leaf = prop_oneof![
        Just(JsonValue::Null),
        any::<bool>().prop_map(JsonValue::Bool),
        arb_int().prop_map(JsonValue::Int),
        arb_string_from(chars.clone()).prop_map(JsonValue::String),
    ];
    leaf.prop_recursive(6, 96, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(JsonValue::Array),
            proptest::collection::btree_map(arb_string_from(chars.clone()), inner, 0..6)
                .prop_map(|m: JsonObject| JsonValue::Object(m)),
        ]
    })
}

/// Arbitrary trees (depth <= 6) whose strings hold any code point, controls included.
fn arb_value() -> impl Strategy<Value = JsonValue> {
    arb_value_with(arb_char().boxed())
}

/// Arbitrary trees whose strings hold no raw-control characters, so that their canonical
/// form is also RFC 8259 JSON.
fn arb_value_no_controls() -> impl Strategy<Value = JsonValue> {
    arb_value_with(arb_char_no_controls().boxed())
}

fn has_control_char(v: &JsonValue) -> bool {
    let bad = |s: &str| s.chars().any(|c| u32::from(c) < 0x20);
    match v {
        JsonValue::String(s) => bad(s),
        JsonValue::Array(a) => a.iter().any(has_control_char),
        JsonValue::Object(o) => o.iter().any(|(k, v)| bad(k) || has_control_char(v)),
        _ => false,
    }
}

/// An independent, non-canonical RFC 8259 writer: escapes every control and non-ASCII
/// character as `\uXXXX` (surrogate pairs above the BMP) and adds whitespace.
fn write_escaped(v: &JsonValue, out: &mut String) {
    fn string(s: &str, out: &mut String) {
        out.push('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                ' '..='~' => out.push(c),
                _ => {
                    let mut units = [0u16; 2];
                    for u in c.encode_utf16(&mut units) {
                        out.push_str(&format!("\\u{u:04X}"));
                    }
                }
            }
        }
        out.push('"');
    }
    match v {
        JsonValue::Null => out.push_str("null"),
        JsonValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        JsonValue::Int(i) => out.push_str(&i.to_string()),
        JsonValue::String(s) => string(s, out),
        JsonValue::Array(a) => {
            out.push_str("[ ");
            for (n, x) in a.iter().enumerate() {
                if n > 0 {
                    out.push_str(" ,\n");
                }
                write_escaped(x, out);
            }
            out.push_str(" ]");
        }
        JsonValue::Object(o) => {
            out.push_str("{\t");
            for (n, (k, x)) in o.iter().enumerate() {
                if n > 0 {
                    out.push_str(",\r\n");
                }
                string(k, out);
                out.push_str(" : ");
                write_escaped(x, out);
            }
            out.push_str("\n}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn prop_canonical_round_trip(v in arb_value_no_controls()) {
        let c = to_canonical(&v);
        let back = parse(&c).map_err(|e| {
            TestCaseError::fail(format!("{e} in {}", String::from_utf8_lossy(&c)))
        })?;
        prop_assert_eq!(&back, &v);
        prop_assert_eq!(to_canonical(&back), c);
    }

    #[test]
    fn prop_escaped_encoding_parses_to_same_canonical(v in arb_value()) {
        let mut text = String::new();
        write_escaped(&v, &mut text);
        let back = parse(text.as_bytes())
            .map_err(|e| TestCaseError::fail(format!("{e} in {text}")))?;
        prop_assert_eq!(&back, &v);
        prop_assert_eq!(to_canonical(&back), to_canonical(&v));
    }

    #[test]
    fn prop_canonical_with_raw_controls(v in arb_value()) {
        // Canonical JSON writes control characters raw; the strict parser then rejects
        // them (RFC 8259), and everything else round-trips exactly.
        let c = to_canonical(&v);
        match parse(&c) {
            Ok(back) => {
                prop_assert!(!has_control_char(&v));
                prop_assert_eq!(&back, &v);
                prop_assert_eq!(to_canonical(&back), c);
            }
            Err(JsonError::ControlCharacter { offset }) => {
                prop_assert!(has_control_char(&v));
                prop_assert!(c[offset] < 0x20);
            }
            Err(e) => prop_assert!(false, "unexpected {e}"),
        }
    }

    #[test]
    fn prop_parse_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = parse(&bytes);
    }

    #[test]
    fn prop_parse_json_like_bytes_never_panics(
        bytes in proptest::collection::vec(
            prop_oneof![
                proptest::sample::select(b"{}[]\",:\\u0123456789-.eE+tfnrlsa \n".to_vec()),
                any::<u8>(),
            ],
            0..128,
        )
    ) {
        let _ = parse(&bytes);
    }

    #[test]
    fn prop_mutated_documents_never_panic(
        v in arb_value(),
        idx in any::<proptest::sample::Index>(),
        byte in any::<u8>(),
        cut in any::<proptest::sample::Index>(),
    ) {
        let doc = to_canonical(&v);
        if !doc.is_empty() {
            let mut mutated = doc.clone();
            let i = idx.index(mutated.len());
            mutated[i] = byte;
            let _ = parse(&mutated);
            let mut inserted = doc.clone();
            inserted.insert(i, byte);
            let _ = parse(&inserted);
            let mut removed = doc.clone();
            removed.remove(i);
            let _ = parse(&removed);
            let truncated = &doc[..cut.index(doc.len())];
            let _ = parse(truncated);
        }
    }
}
