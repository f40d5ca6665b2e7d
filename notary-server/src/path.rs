//! The Notary routes under `/v2/`, parsed from the raw (undecoded) request path into a typed
//! route, as gorilla/mux's regexes do in Go: `{gun:[^*]+}`, roles
//! `root|targets(/[^/\s]+)*|snapshot|timestamp`, checksums of 64/96/128 hex digits.

use tuf_core::name::Gun;

use crate::error::ApiError;

/// A metadata file request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileRef {
    /// `<role>.json`: the current version.
    Current(String),
    /// `<role>.<hex>.json`: by checksum.
    Checksum(String, String),
    /// `<N>.<role>.json`: by version.
    Version(String, u64),
    /// `<role>.key`: a server-held key (`timestamp` or `snapshot`).
    Key(String),
}

/// A parsed `/v2/...` route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `/v2/_trust/changefeed`
    GlobalChangefeed,
    /// `/v2/<gun>/_trust/changefeed`
    Changefeed(Gun),
    /// `/v2/<gun>/_trust/tuf/` (POST publish, DELETE)
    Collection(Gun),
    /// `/v2/<gun>/_trust/tuf/<file>`
    File(Gun, FileRef),
    /// `/v2/<gun>/_tuf/` (TUF 1.0 collections: POST publish, DELETE)
    TufCollection(Gun),
    /// `/v2/<gun>/_tuf/metadata/<file>` (the raw, still percent-encoded file name)
    TufMetadata(Gun, String),
    /// `/v2/<gun>/_tuf/targets/<path>` (raw)
    TufTarget(Gun, String),
    /// `/v2/<gun>/_tuf/keys/<role>.key` (`timestamp` or `snapshot`)
    TufKey(Gun, String),
}

/// Whether `s` is a Notary role name as the routes accept it.
fn is_role(s: &str) -> bool {
    match s {
        "root" | "targets" | "snapshot" | "timestamp" => true,
        _ => s.strip_prefix("targets/").is_some_and(|rest| {
            !rest.is_empty()
                && rest
                    .split('/')
                    .all(|seg| !seg.is_empty() && !seg.bytes().any(|b| b.is_ascii_whitespace()))
        }),
    }
}

fn is_checksum(s: &str) -> bool {
    matches!(s.len(), 64 | 96 | 128) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Validates a GUN from the raw path: tuf-core's rules (no empty, `.` or `..` segments, no
/// control characters) plus the characters image names use; percent-escapes are refused
/// rather than decoded, so the name checked is the name stored.
pub fn parse_gun(raw: &str) -> Result<Gun, ApiError> {
    let allowed =
        |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/' | b':' | b'@');
    if raw.is_empty() || !raw.bytes().all(allowed) {
        return Err(ApiError::invalid_gun(format!("invalid GUN {raw:?}")));
    }
    if raw.split('/').any(|seg| seg == "_trust" || seg == "_tuf") {
        return Err(ApiError::invalid_gun(format!("invalid GUN {raw:?}")));
    }
    Gun::parse(raw).map_err(|e| ApiError::invalid_gun(e.to_string()))
}

fn parse_file(file: &str) -> Option<FileRef> {
    if let Some(role) = file.strip_suffix(".key") {
        return matches!(role, "timestamp" | "snapshot").then(|| FileRef::Key(role.to_owned()));
    }
    let stem = file.strip_suffix(".json")?;
    // Go's router tries the checksum route first, then the version route, then the plain
    // name (a delegated role segment may itself contain dots).
    if let Some((role, sum)) = stem.rsplit_once('.') {
        if is_role(role) && is_checksum(sum) {
            return Some(FileRef::Checksum(role.to_owned(), sum.to_owned()));
        }
    }
    if let Some((n, role)) = stem.split_once('.') {
        if is_role(role) && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) {
            return n.parse().ok().map(|v| FileRef::Version(role.to_owned(), v));
        }
    }
    is_role(stem).then(|| FileRef::Current(stem.to_owned()))
}

/// Parses the part of the path after `/v2/`. `Ok(None)` means no route matches (404 without
/// detail); `Err` is a bad GUN.
pub fn parse(rest: &str) -> Result<Option<Route>, ApiError> {
    if rest == "_trust/changefeed" {
        return Ok(Some(Route::GlobalChangefeed));
    }
    let trust = rest.find("/_trust/");
    let tuf = rest.find("/_tuf/");
    if let Some(at) = tuf.filter(|t| trust.is_none_or(|r| t < &r)) {
        let (gun, tail) = (&rest[..at], &rest[at + "/_tuf/".len()..]);
        return parse_tuf(gun, tail);
    }
    let Some((gun, tail)) = rest.split_once("/_trust/") else {
        return Ok(None);
    };
    let route = match tail {
        "changefeed" => Some(Route::Changefeed(parse_gun(gun)?)),
        "tuf/" => Some(Route::Collection(parse_gun(gun)?)),
        _ => match tail.strip_prefix("tuf/").and_then(parse_file) {
            Some(f) => Some(Route::File(parse_gun(gun)?, f)),
            None => None,
        },
    };
    Ok(route)
}

/// The routes of a TUF 1.0 collection, after `/v2/<gun>/_tuf/`.
fn parse_tuf(gun: &str, tail: &str) -> Result<Option<Route>, ApiError> {
    let route = if tail.is_empty() {
        Route::TufCollection(parse_gun(gun)?)
    } else if let Some(file) = tail.strip_prefix("metadata/") {
        if file.is_empty() || file.contains('/') || !file.ends_with(".json") {
            return Ok(None);
        }
        Route::TufMetadata(parse_gun(gun)?, file.to_owned())
    } else if let Some(path) = tail.strip_prefix("targets/") {
        if path.is_empty() {
            return Ok(None);
        }
        Route::TufTarget(parse_gun(gun)?, path.to_owned())
    } else if let Some(key) = tail.strip_prefix("keys/") {
        match key.strip_suffix(".key") {
            Some(role @ ("timestamp" | "snapshot")) => {
                Route::TufKey(parse_gun(gun)?, role.to_owned())
            }
            _ => return Ok(None),
        }
    } else {
        return Ok(None);
    };
    Ok(Some(route))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn file(rest: &str) -> Option<FileRef> {
        match parse(rest).unwrap() {
            Some(Route::File(_, f)) => Some(f),
            _ => None,
        }
    }

    #[test]
    fn routes_like_go() {
        let h = "a".repeat(64);
        assert_eq!(
            file("example.com/app/_trust/tuf/root.json"),
            Some(FileRef::Current("root".into()))
        );
        assert_eq!(
            file("example.com/app/_trust/tuf/targets/releases.json"),
            Some(FileRef::Current("targets/releases".into()))
        );
        assert_eq!(
            file(&format!("example.com/app/_trust/tuf/snapshot.{h}.json")),
            Some(FileRef::Checksum("snapshot".into(), h.clone()))
        );
        assert_eq!(
            file(&format!("example.com/app/_trust/tuf/targets/a/b.{h}.json")),
            Some(FileRef::Checksum("targets/a/b".into(), h))
        );
        assert_eq!(
            file("example.com/app/_trust/tuf/3.targets.json"),
            Some(FileRef::Version("targets".into(), 3))
        );
        assert_eq!(
            file("example.com/app/_trust/tuf/2.targets/releases.json"),
            Some(FileRef::Version("targets/releases".into(), 2))
        );
        assert_eq!(
            file("example.com/app/_trust/tuf/timestamp.key"),
            Some(FileRef::Key("timestamp".into()))
        );
        assert_eq!(file("example.com/app/_trust/tuf/targets.key"), None);
        assert_eq!(file("example.com/app/_trust/tuf/bogus.json"), None);
        assert_eq!(file("example.com/app/_trust/tuf/root.json/"), None);
        assert!(matches!(
            parse("localhost:5000/app/_trust/tuf/").unwrap(),
            Some(Route::Collection(_))
        ));
        assert!(matches!(
            parse("_trust/changefeed").unwrap(),
            Some(Route::GlobalChangefeed)
        ));
        assert!(matches!(
            parse("a/b/_trust/changefeed").unwrap(),
            Some(Route::Changefeed(_))
        ));
        assert_eq!(parse("nothing/here").unwrap(), None);
    }

    #[test]
    fn tuf_routes() {
        let g = || Gun::parse("example.com/app").unwrap();
        assert_eq!(
            parse("example.com/app/_tuf/").unwrap(),
            Some(Route::TufCollection(g()))
        );
        assert_eq!(
            parse("example.com/app/_tuf/metadata/2.a%2Fb.json").unwrap(),
            Some(Route::TufMetadata(g(), "2.a%2Fb.json".into()))
        );
        assert_eq!(
            parse("example.com/app/_tuf/targets/dir/abc.x").unwrap(),
            Some(Route::TufTarget(g(), "dir/abc.x".into()))
        );
        assert_eq!(
            parse("example.com/app/_tuf/targets/x/_trust/tuf/root.json").unwrap(),
            Some(Route::TufTarget(g(), "x/_trust/tuf/root.json".into()))
        );
        assert_eq!(
            parse("example.com/app/_tuf/keys/timestamp.key").unwrap(),
            Some(Route::TufKey(g(), "timestamp".into()))
        );
        assert_eq!(parse("example.com/app/_tuf/keys/root.key").unwrap(), None);
        assert_eq!(
            parse("example.com/app/_tuf/metadata/a/b.json").unwrap(),
            None
        );
        assert_eq!(parse("example.com/app/_tuf/other").unwrap(), None);
        assert_eq!(parse("a/_tuf/b/_tuf/metadata/root.json").unwrap(), None);
        assert!(parse("a%2fb/_tuf/metadata/root.json").is_err());
    }

    #[test]
    fn hostile_guns_are_refused() {
        for gun in [
            "..",
            "a/../b",
            "a%2fb",
            "a//b",
            "/a",
            "a/",
            "a b",
            "a\\b",
            "a/./b",
            "a/_trust/b",
            "a/_tuf/b",
        ] {
            let r = parse(&format!("{gun}/_trust/tuf/root.json"));
            assert!(r.is_err() || r.as_ref().unwrap().is_none(), "{gun}: {r:?}");
        }
    }
}
