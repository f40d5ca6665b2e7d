//! Target search over the delegation graph (spec 5.6.7): pre-order depth-first, delegations
//! in order of appearance, paths checked on every edge of the chain, terminating roles end the
//! search, visited roles skipped (cycles), a cap on roles visited.
//!
//! The search is pure: when it reaches a role that is not trusted yet it answers
//! [`TargetLookup::NeedRole`]; the driver fetches that file, applies it with
//! [`TrustedSet::update_delegated`] and asks again.

use std::collections::BTreeSet;

use crate::envelope::Verified;
use crate::error::UpdateError;
use crate::path_match::{delegation_covers, succinct_bin_for};
use crate::role::{DelegatedRoles, Delegations, TargetEntry, Targets};
use crate::trusted_set::TrustedSet;

/// Result of one step of a target search.
#[derive(Debug, PartialEq, Eq)]
pub enum TargetLookup<'a> {
    /// The target's trusted metadata, and the role that signed it.
    Found {
        /// The trusted entry.
        entry: &'a TargetEntry,
        /// The role whose metadata lists it.
        role: String,
    },
    /// No trusted role that may sign this path lists it.
    NotFound,
    /// The search must enter `role`, delegated by `delegator`: fetch it and call
    /// [`TrustedSet::update_delegated`], then search again.
    NeedRole {
        /// The delegating role.
        delegator: String,
        /// The role to fetch.
        role: String,
    },
}

/// A target listed by [`TrustedSet::list_targets`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedTarget<'a> {
    /// Target path.
    pub path: &'a str,
    /// Trusted entry.
    pub entry: &'a TargetEntry,
    /// Role whose metadata lists it.
    pub role: String,
}

/// The children of a trusted role that may sign `path`, in search order, with whether each
/// is terminating.
fn children_for(
    d: &Verified<Targets>,
    dialect: crate::dialect::Dialect,
    path: &str,
) -> Vec<(String, bool)> {
    match d.delegations.as_ref().map(|d| &d.roles) {
        None => Vec::new(),
        Some(DelegatedRoles::List(list)) => list
            .iter()
            .filter(|r| delegation_covers(dialect, &r.paths, path))
            .map(|r| (r.name.as_str().to_owned(), r.terminating))
            .collect(),
        // Bins are terminating, as python-tuf and go-tuf treat them (security.md W35).
        Some(DelegatedRoles::Succinct(s)) => vec![(succinct_bin_for(s, path), true)],
    }
}

/// Every role `d` delegates to, in order of appearance (all bins for succinct delegations).
fn child_names(d: &Delegations) -> Vec<String> {
    match &d.roles {
        DelegatedRoles::List(l) => l.iter().map(|r| r.name.as_str().to_owned()).collect(),
        DelegatedRoles::Succinct(s) => crate::path_match::succinct_bin_names(s).collect(),
    }
}

/// A pending role in a listing walk: (delegator, role, chain of (delegator, role) edges).
type Frame = (String, String, Vec<(String, String)>);

impl TrustedSet {
    /// One step of the search for `path`.
    ///
    /// # Errors
    /// [`UpdateError::OutOfOrder`] if the top-level targets are not trusted yet;
    /// [`UpdateError::NotInSnapshot`] if the search reaches a delegated role the trusted
    /// snapshot does not list (it must not be fetched).
    pub fn find_target(&self, path: &str) -> Result<TargetLookup<'_>, UpdateError> {
        let Some(top) = self.targets() else {
            return Err(UpdateError::OutOfOrder {
                role: "targets".into(),
                reason: "load the targets before searching",
            });
        };
        let dialect = self.config().dialect;
        let mut budget = self.config().limits.max_delegations;
        let mut visited: BTreeSet<String> = BTreeSet::new();
        // (delegator, role); the top-level targets has no delegator.
        let mut stack: Vec<(String, String)> = vec![(String::new(), "targets".to_owned())];
        while let Some((delegator, role)) = stack.pop() {
            if budget == 0 {
                break;
            }
            if visited.contains(&role) {
                continue;
            }
            let meta = if delegator.is_empty() {
                top
            } else {
                match self.delegated(&delegator, &role) {
                    Some(m) => m,
                    // A role the trusted snapshot does not list must never be fetched.
                    None if !self.snapshot().is_some_and(|s| s.meta.contains_key(&role)) => {
                        return Err(UpdateError::NotInSnapshot { role });
                    }
                    None => return Ok(TargetLookup::NeedRole { delegator, role }),
                }
            };
            budget -= 1;
            visited.insert(role.clone());
            if let Some(entry) = meta.targets.get(path) {
                return Ok(TargetLookup::Found { entry, role });
            }
            let mut next = Vec::new();
            for (child, terminating) in children_for(meta, dialect, path) {
                next.push((role.clone(), child));
                if terminating {
                    stack.clear();
                    break;
                }
            }
            stack.extend(next.into_iter().rev());
        }
        Ok(TargetLookup::NotFound)
    }

    /// Delegated roles reachable from trusted roles, listed in the snapshot, and not trusted
    /// yet, as (delegator, role) in pre-order: what a driver must fetch before
    /// [`TrustedSet::list_targets`] is complete. Succinct bins are included.
    pub fn pending_delegations(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let Some(snapshot) = self.snapshot() else {
            return out;
        };
        self.walk(|delegator, role, loaded| {
            if !loaded && snapshot.meta.contains_key(role) {
                out.push((delegator.to_owned(), role.to_owned()));
            }
        });
        out
    }

    /// Every target of every trusted role, each under the first role (in search order) that
    /// lists it and may sign it (its path is covered by every edge of the chain).
    pub fn list_targets(&self) -> Vec<ListedTarget<'_>> {
        let mut out: Vec<ListedTarget<'_>> = Vec::new();
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let Some(top) = self.targets() else {
            return out;
        };
        let dialect = self.config().dialect;
        let mut budget = self.config().limits.max_listed_roles;
        let mut visited: BTreeSet<String> = BTreeSet::new();
        // (delegator, role, chain of edges as (delegator, role) pairs)
        let mut stack: Vec<Frame> = vec![(String::new(), "targets".into(), Vec::new())];
        while let Some((delegator, role, chain)) = stack.pop() {
            if budget == 0 {
                break;
            }
            if !visited.insert(role.clone()) {
                continue;
            }
            let meta = if delegator.is_empty() {
                top
            } else {
                match self.delegated(&delegator, &role) {
                    Some(m) => m,
                    None => continue,
                }
            };
            budget -= 1;
            for (path, entry) in &meta.targets {
                if seen.contains(path.as_str()) {
                    continue;
                }
                let allowed = chain.iter().all(|(d, r)| {
                    self.delegator(d).is_some_and(|dm| {
                        children_for(dm, dialect, path).iter().any(|(c, _)| c == r)
                    })
                });
                if allowed {
                    seen.insert(path);
                    out.push(ListedTarget {
                        path,
                        entry,
                        role: role.clone(),
                    });
                }
            }
            if let Some(d) = &meta.delegations {
                let children = child_names(d);
                for child in children.into_iter().rev() {
                    let mut c = chain.clone();
                    c.push((role.clone(), child.clone()));
                    stack.push((role.clone(), child, c));
                }
            }
        }
        out.sort_by(|a, b| a.path.cmp(b.path));
        out
    }

    /// Pre-order walk over delegation edges from trusted roles: `f(delegator, role, loaded)`.
    fn walk(&self, mut f: impl FnMut(&str, &str, bool)) {
        let Some(top) = self.targets() else { return };
        let mut budget = self.config().limits.max_listed_roles;
        let mut visited: BTreeSet<String> = BTreeSet::new();
        let mut stack: Vec<(String, &Verified<Targets>)> = vec![("targets".into(), top)];
        while let Some((name, meta)) = stack.pop() {
            if budget == 0 {
                return;
            }
            budget -= 1;
            if !visited.insert(name.clone()) {
                continue;
            }
            let Some(d) = &meta.delegations else { continue };
            let children = child_names(d);
            for child in children.iter().rev() {
                let loaded = self.delegated(&name, child);
                f(&name, child, loaded.is_some());
                if let Some(m) = loaded {
                    stack.push((child.clone(), m));
                }
            }
        }
    }
}
