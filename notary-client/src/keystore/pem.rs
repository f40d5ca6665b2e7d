//! PEM blocks with RFC 1421-style headers, as Go's `encoding/pem` reads and writes them.

use base64::Engine as _;
use zeroize::Zeroizing;

/// One decoded PEM block: its label, its `key: value` headers (in file order) and its bytes.
pub(crate) struct PemBlock {
    /// The label between `BEGIN ` and the dashes, e.g. `ENCRYPTED PRIVATE KEY`.
    pub(crate) label: String,
    /// Header lines, in the order they appear.
    pub(crate) headers: Vec<(String, String)>,
    /// The base64-decoded body, wiped on drop (it may be an unencrypted key).
    pub(crate) der: Zeroizing<Vec<u8>>,
}

impl PemBlock {
    /// The value of header `name` (exact, case-sensitive match like Go), if present.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Encodes a PEM block the way Go's `pem.Encode` does: headers sorted by name
/// (`Proc-Type` first), a blank line after them, base64 in 64-character lines.
pub(crate) fn encode(label: &str, headers: &[(&str, &str)], der: &[u8]) -> String {
    let mut sorted: Vec<&(&str, &str)> = headers.iter().collect();
    sorted.sort_by(|a, b| {
        let ka = (a.0 != "Proc-Type", a.0);
        let kb = (b.0 != "Proc-Type", b.0);
        ka.cmp(&kb)
    });
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::with_capacity(b64.len() + 128);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    for (k, v) in &sorted {
        out.push_str(k);
        out.push_str(": ");
        out.push_str(v);
        out.push('\n');
    }
    if !sorted.is_empty() {
        out.push('\n');
    }
    let mut rest = b64.as_str();
    while !rest.is_empty() {
        let (line, tail) = rest.split_at(rest.len().min(64));
        out.push_str(line);
        out.push('\n');
        rest = tail;
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

/// Decodes the first PEM block in `text`. Tolerant: CRLF line ends, surrounding text,
/// headers in any order, with or without the blank separator line.
pub(crate) fn decode_first(text: &str) -> Result<PemBlock, String> {
    decode_all(text)?
        .into_iter()
        .next()
        .ok_or_else(|| "no PEM block found".to_string())
}

/// Decodes every PEM block in `text` (see [`decode_first`]).
pub(crate) fn decode_all(text: &str) -> Result<Vec<PemBlock>, String> {
    let mut blocks = Vec::new();
    let mut lines = text.lines().map(|l| l.trim_end_matches('\r').trim());
    while let Some(line) = lines.next() {
        let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        else {
            continue;
        };
        let end = format!("-----END {label}-----");
        let mut headers = Vec::new();
        let mut body = Zeroizing::new(String::new());
        let mut in_body = false;
        let mut closed = false;
        for line in lines.by_ref() {
            if line == end {
                closed = true;
                break;
            }
            if line.starts_with("-----") {
                return Err(format!("PEM block {label} ends with {line:?}"));
            }
            if line.is_empty() {
                if !headers.is_empty() {
                    in_body = true;
                }
                continue;
            }
            if !in_body {
                if let Some((k, v)) = line.split_once(':') {
                    headers.push((k.trim().to_string(), v.trim().to_string()));
                    continue;
                }
                in_body = true;
            }
            body.push_str(line);
        }
        if !closed {
            return Err(format!("PEM block {label} has no END line"));
        }
        let der = base64::engine::general_purpose::STANDARD
            .decode(body.as_bytes())
            .map_err(|e| format!("PEM block {label}: invalid base64 ({e})"))?;
        blocks.push(PemBlock {
            label: label.to_string(),
            headers,
            der: Zeroizing::new(der),
        });
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn encode_sorts_headers_like_go() {
        let pem = encode("X", &[("role", "targets"), ("gun", "g/h")], &[1, 2, 3]);
        assert_eq!(
            pem,
            "-----BEGIN X-----\ngun: g/h\nrole: targets\n\nAQID\n-----END X-----\n"
        );
        let plain = encode("Y", &[], &[0u8; 60]);
        assert!(plain.starts_with("-----BEGIN Y-----\nAAAA"));
        assert_eq!(plain.lines().nth(1).map(str::len), Some(64));
    }

    #[test]
    fn decode_tolerates_crlf_and_header_order() {
        let text =
            "junk\r\n-----BEGIN K-----\r\nrole: root\r\ngun: a\r\n\r\nAQID\r\n-----END K-----\r\n";
        let b = decode_first(text).unwrap();
        assert_eq!(b.label, "K");
        assert_eq!(b.header("role"), Some("root"));
        assert_eq!(b.header("gun"), Some("a"));
        assert_eq!(b.der.as_slice(), &[1, 2, 3]);
        assert!(decode_first("-----BEGIN K-----\nAQID\n").is_err());
        assert!(decode_first("nothing").is_err());
        assert!(decode_first("-----BEGIN K-----\n!!\n-----END K-----\n").is_err());
    }
}
