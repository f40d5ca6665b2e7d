//! `expires` timestamps in each dialect.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};

use crate::dialect::Dialect;

/// Parses an `expires` value.
///
/// TUF 1.0 requires exactly `YYYY-MM-DDTHH:MM:SSZ` (spec §4.2; python-tuf refuses anything
/// else). Notary 0.7 writes Go's RFC 3339 with a variable number of fractional digits.
pub(crate) fn parse_expires(dialect: Dialect, s: &str) -> Option<DateTime<Utc>> {
    match dialect {
        Dialect::TufSpec => {
            if s.len() != 20 || !s.ends_with('Z') {
                return None;
            }
            NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%SZ")
                .ok()
                .map(|n| n.and_utc())
        }
        Dialect::Notary => {
            if s.len() > 64 {
                return None;
            }
            DateTime::parse_from_rfc3339(s)
                .ok()
                .map(|d| d.with_timezone(&Utc))
        }
    }
}

/// Formats an `expires` value the way each dialect's reference writes it: whole seconds for
/// TUF 1.0, Go's `RFC3339Nano` (trailing zeros of the fraction trimmed) for Notary.
pub fn format_expires(dialect: Dialect, t: DateTime<Utc>) -> String {
    match dialect {
        Dialect::TufSpec => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Dialect::Notary => {
            let s = t.to_rfc3339_opts(SecondsFormat::Nanos, true);
            // "2029-11-23T02:48:36.752609430Z" -> "2029-11-23T02:48:36.75260943Z"
            match s.split_once('.') {
                Some((head, frac)) => {
                    let digits = frac.trim_end_matches('Z').trim_end_matches('0');
                    if digits.is_empty() {
                        format!("{head}Z")
                    } else {
                        format!("{head}.{digits}Z")
                    }
                }
                None => s,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuf_format_is_strict() {
        assert!(parse_expires(Dialect::TufSpec, "2030-01-01T00:00:00Z").is_some());
        assert!(parse_expires(Dialect::TufSpec, "2030-01-01T00:00:00.5Z").is_none());
        assert!(parse_expires(Dialect::TufSpec, "2030-01-01T00:00:00+00:00").is_none());
        assert!(parse_expires(Dialect::TufSpec, "2030-01-01 00:00:00Z").is_none());
    }

    #[test]
    fn notary_format_round_trips_go_output() {
        for s in [
            "2029-11-23T02:48:36.75260943Z",
            "2036-11-21T02:48:36.452320427Z",
            "2026-12-08T02:48:36Z",
        ] {
            let t = parse_expires(Dialect::Notary, s).unwrap();
            assert_eq!(format_expires(Dialect::Notary, t), s);
        }
    }
}
