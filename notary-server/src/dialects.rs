//! Which wire dialect each collection speaks: configured by GUN pattern, never guessed from
//! the bytes. Collections that match a pattern are TUF 1.0 repositories (served under
//! `/v2/<gun>/_tuf/`); every other collection is Notary 0.7 (under `/v2/<gun>/_trust/`).

use tuf_core::name::Gun;
use tuf_core::Dialect;

/// The configured TUF 1.0 GUN patterns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GunDialects {
    patterns: Vec<String>,
}

impl GunDialects {
    /// Patterns: a GUN (exact match), a prefix ending in `/*` (`example.com/tuf/*` matches
    /// `example.com/tuf/app` and deeper names, not `example.com/tuf` itself), or `*`.
    ///
    /// # Errors
    /// A message naming a pattern that is none of these.
    pub fn new(patterns: Vec<String>) -> Result<Self, String> {
        for p in &patterns {
            let base = p.strip_suffix("/*").unwrap_or(p);
            if p != "*" && Gun::parse(base).is_err() {
                return Err(format!(
                    "invalid TUF GUN pattern {p:?}: expected a GUN, PREFIX/* or *"
                ));
            }
        }
        Ok(Self { patterns })
    }

    /// The patterns.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// The dialect of `gun`.
    pub fn dialect_of(&self, gun: &Gun) -> Dialect {
        let g = gun.as_str();
        let tuf = self.patterns.iter().any(|p| {
            p == "*"
                || p == g
                || p.strip_suffix('*')
                    .is_some_and(|prefix| prefix.ends_with('/') && g.starts_with(prefix))
        });
        if tuf {
            Dialect::TufSpec
        } else {
            Dialect::Notary
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn patterns_match_exactly_or_by_prefix() {
        let d = GunDialects::new(vec!["example.com/tuf/*".into(), "one/app".into()]).unwrap();
        let of = |g: &str| d.dialect_of(&Gun::parse(g).unwrap());
        assert_eq!(of("example.com/tuf/app"), Dialect::TufSpec);
        assert_eq!(of("example.com/tuf/a/b"), Dialect::TufSpec);
        assert_eq!(of("example.com/tuf"), Dialect::Notary);
        assert_eq!(of("example.com/tufx/app"), Dialect::Notary);
        assert_eq!(of("one/app"), Dialect::TufSpec);
        assert_eq!(of("one/app2"), Dialect::Notary);
        let all = GunDialects::new(vec!["*".into()]).unwrap();
        assert_eq!(all.dialect_of(&Gun::parse("x").unwrap()), Dialect::TufSpec);
        assert!(GunDialects::new(vec!["a/../b/*".into()]).is_err());
        assert!(GunDialects::new(vec!["".into()]).is_err());
    }
}
