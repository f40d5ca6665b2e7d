//! Which delegation covers which target path, per dialect.
//!
//! TUF 1.0: shell-style patterns matched per `/`-separated component (`*` and `?` never match
//! `/`, `[...]` classes, case-sensitive), or `path_hash_prefixes` over the lower-case hex
//! SHA-256 of the path, or TAP 15 succinct bins. Notary: plain string prefixes (`""` = all).

use sha2::{Digest, Sha256};

use crate::dialect::Dialect;
use crate::role::{PathSpec, SuccinctRoles};

/// Whether a delegation with `spec` covers `target`.
pub fn delegation_covers(dialect: Dialect, spec: &PathSpec, target: &str) -> bool {
    match (dialect, spec) {
        (Dialect::Notary, PathSpec::Patterns(prefixes)) => {
            prefixes.iter().any(|p| target.starts_with(p.as_str()))
        }
        (Dialect::TufSpec, PathSpec::Patterns(patterns)) => {
            patterns.iter().any(|p| glob_matches(p, target))
        }
        (_, PathSpec::HashPrefixes(prefixes)) => {
            let h = hex::encode(Sha256::digest(target.as_bytes()));
            prefixes.iter().any(|p| h.starts_with(p.as_str()))
        }
    }
}

/// TUF pattern match: same number of `/`-separated components, each matched with
/// [`component_matches`].
pub fn glob_matches(pattern: &str, target: &str) -> bool {
    let mut p = pattern.split('/');
    let mut t = target.split('/');
    loop {
        match (p.next(), t.next()) {
            (None, None) => return true,
            (Some(pc), Some(tc)) => {
                if !component_matches(pc.as_bytes(), tc.as_bytes()) {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// fnmatch-style match of one path component: `*` any run, `?` one character, `[abc]`,
/// `[a-z]`, `[!x]` classes; everything else literal. Iterative with single backtracking point,
/// so linear-ish time on hostile patterns.
fn component_matches(pattern: &[u8], text: &[u8]) -> bool {
    let text: Vec<char> = String::from_utf8_lossy(text).chars().collect();
    let pattern: Vec<char> = String::from_utf8_lossy(pattern).chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < text.len() {
        let step = match pattern.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
                continue;
            }
            Some('?') => Some(pi + 1),
            Some('[') => match class_match(&pattern, pi, text.get(ti).copied()) {
                Some((true, next)) => Some(next),
                Some((false, _)) => None,
                // unterminated class: '[' is literal
                None => (text.get(ti) == Some(&'[')).then_some(pi + 1),
            },
            Some(c) => (text.get(ti) == Some(c)).then_some(pi + 1),
            None => None,
        };
        match step {
            Some(next) => {
                pi = next;
                ti += 1;
            }
            None => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern
        .get(pi..)
        .is_some_and(|rest| rest.iter().all(|c| *c == '*'))
}

/// Matches `c` against the class starting at `pattern[start] == '['`; returns (matched, index
/// after the class), or `None` if the class is unterminated.
fn class_match(pattern: &[char], start: usize, c: Option<char>) -> Option<(bool, usize)> {
    let c = c?;
    let mut i = start + 1;
    let negate = matches!(pattern.get(i), Some('!'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let pc = *pattern.get(i)?;
        if pc == ']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if pattern.get(i + 1) == Some(&'-') && pattern.get(i + 2).is_some_and(|e| *e != ']') {
            let hi = *pattern.get(i + 2)?;
            if pc <= c && c <= hi {
                matched = true;
            }
            i += 3;
        } else {
            if pc == c {
                matched = true;
            }
            i += 1;
        }
    }
}

/// The succinct-bin role name that covers `target` (TAP 15): the first `bit_length` bits of
/// SHA-256(target) as an index, written as `<prefix>-<lower-case hex>` zero-padded to
/// ceil(bit_length / 4) digits.
pub fn succinct_bin_for(s: &SuccinctRoles, target: &str) -> String {
    let h = Sha256::digest(target.as_bytes());
    let first = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
    let bits = u32::from(s.bit_length.clamp(1, 32));
    let index = first.checked_shr(32 - bits).unwrap_or(0);
    bin_name(s, index)
}

fn bin_name(s: &SuccinctRoles, index: u32) -> String {
    let width = usize::from(s.bit_length.clamp(1, 32)).div_ceil(4);
    format!("{}-{:0width$x}", s.name_prefix, index, width = width)
}

/// Whether `name` is exactly one of the canonical bin names of `s` (no `0x1`, upper case,
/// or differently padded aliases: GHSA-77hh-43cm-v8j6).
pub fn is_succinct_bin(s: &SuccinctRoles, name: &str) -> bool {
    let Some(suffix) = name
        .strip_prefix(s.name_prefix.as_str())
        .and_then(|r| r.strip_prefix('-'))
    else {
        return false;
    };
    let width = usize::from(s.bit_length.clamp(1, 32)).div_ceil(4);
    if suffix.len() != width
        || !suffix
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return false;
    }
    match u32::from_str_radix(suffix, 16) {
        Ok(i) => u64::from(i) < (1u64 << s.bit_length.clamp(1, 32)),
        Err(_) => false,
    }
}

/// All bin names of `s`, in index order.
pub fn succinct_bin_names(s: &SuccinctRoles) -> impl Iterator<Item = String> + '_ {
    let n = 1u64 << s.bit_length.clamp(1, 32);
    (0..n).filter_map(move |i| u32::try_from(i).ok().map(|i| bin_name(s, i)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::role::{RoleKeys, Threshold};

    #[test]
    fn tuf_globs_do_not_cross_slashes() {
        assert!(glob_matches("*.md", "README.md"));
        assert!(!glob_matches("*.md", "releases/README.md"));
        assert!(glob_matches("releases/*.md", "releases/README.md"));
        assert!(glob_matches("a/*", "a/x.txt"));
        assert!(!glob_matches("a/*", "a/sub/y.txt"));
        assert!(glob_matches("a/*/*", "a/sub/y.txt"));
        assert!(glob_matches("file?.txt", "file1.txt"));
        assert!(!glob_matches("file?.txt", "file12.txt"));
        assert!(!glob_matches("file?.txt", "file/.txt"));
        assert!(!glob_matches("*.TXT", "a.txt"), "case sensitive");
        assert!(glob_matches("[ab]*", "beta"));
        assert!(!glob_matches("[!ab]*", "beta"));
        assert!(glob_matches("v[0-9].txt", "v7.txt"));
        assert!(glob_matches("*", "anything"));
        assert!(!glob_matches("*", "dir/anything"));
        assert!(glob_matches("", ""));
        assert!(glob_matches("**", "x"));
        assert!(glob_matches("*a*b*c", "xaybzc"));
        assert!(!glob_matches("*a*b*c", "xaybz"));
    }

    #[test]
    fn notary_prefixes_are_plain_prefixes() {
        let spec = PathSpec::Patterns(vec!["foo".into()]);
        assert!(delegation_covers(Dialect::Notary, &spec, "foobar"));
        assert!(!delegation_covers(Dialect::TufSpec, &spec, "foobar"));
        let all = PathSpec::Patterns(vec![String::new()]);
        assert!(delegation_covers(Dialect::Notary, &all, "anything/at/all"));
    }

    #[test]
    fn hash_prefixes_use_lower_hex_of_path() {
        let h = hex::encode(Sha256::digest(b"a/b.txt"));
        let spec = PathSpec::HashPrefixes(vec![h[..3].to_string()]);
        assert!(delegation_covers(Dialect::TufSpec, &spec, "a/b.txt"));
        let other = PathSpec::HashPrefixes(vec![h[..3].to_uppercase()]);
        assert!(
            h[..3] == h[..3].to_uppercase()
                || !delegation_covers(Dialect::TufSpec, &other, "a/b.txt")
        );
    }

    fn bins(bit_length: u8) -> SuccinctRoles {
        SuccinctRoles {
            keys: RoleKeys {
                keyids: vec![],
                threshold: Threshold::ONE,
            },
            bit_length,
            name_prefix: "bins".into(),
        }
    }

    #[test]
    fn succinct_bin_names_are_canonical() {
        let s = bins(11);
        assert!(is_succinct_bin(&s, "bins-000"));
        assert!(is_succinct_bin(&s, "bins-7ff"));
        assert!(
            !is_succinct_bin(&s, "bins-800"),
            "index out of range for 11 bits"
        );
        assert!(!is_succinct_bin(&s, "bins-0x1"));
        assert!(!is_succinct_bin(&s, "bins-00F"));
        assert!(!is_succinct_bin(&s, "bins-1"));
        assert!(!is_succinct_bin(&s, "other-001"));
        assert_eq!(succinct_bin_names(&bins(3)).count(), 8);
        assert_eq!(succinct_bin_names(&bins(3)).next().unwrap(), "bins-0");
        let b = succinct_bin_for(&s, "some/target");
        assert!(is_succinct_bin(&s, &b));
        let h = Sha256::digest(b"some/target");
        let idx = (u32::from_be_bytes([h[0], h[1], h[2], h[3]]) >> 21) as usize;
        assert_eq!(b, format!("bins-{idx:03x}"));
        let full = bins(32);
        assert!(is_succinct_bin(&full, &succinct_bin_for(&full, "x")));
    }
}
