//! The one place where signatures are counted and [`Verified`] is minted.
//!
//! Valid signatures are counted by **distinct public key** (not key id, not signature bytes);
//! only keys the trusted role lists count; the algorithm comes from the trusted key; an
//! invalid signature is ignored and never aborts the count (security.md A01–A03, P5, P6).

use std::collections::BTreeSet;

use crate::envelope::{Signed, Verified};
use crate::error::UpdateError;
use crate::role::{KeySet, Role, RoleKeys};

/// Counts the distinct public keys among `authorised` whose signature over `signed` verifies.
fn count_valid<R>(signed: &Signed<R>, keys: &KeySet, authorised: &RoleKeys) -> usize {
    let mut valid: BTreeSet<[u8; 32]> = BTreeSet::new();
    for s in &signed.signatures {
        let Some(sig) = s.sig.as_deref() else {
            continue;
        };
        let Some(id) = authorised.keyids.iter().find(|id| id.to_hex() == s.keyid) else {
            continue;
        };
        let Some(key) = keys.get(id) else { continue };
        if key.verify(signed.dialect, &signed.canonical, sig).is_ok() {
            valid.insert(key.public_key().identity());
        }
    }
    valid.len()
}

impl<R: Role> Signed<R> {
    /// Checks that a threshold of `authorised` keys (looked up in `keys`) signed this metadata,
    /// without consuming it (root updates need two such checks: old and new root).
    ///
    /// # Errors
    /// [`UpdateError::Threshold`] with the number of valid distinct keys.
    pub fn check_signatures(
        &self,
        keys: &KeySet,
        authorised: &RoleKeys,
    ) -> Result<(), UpdateError> {
        let valid = count_valid(self, keys, authorised);
        let threshold = authorised.threshold.get();
        if u32::try_from(valid).map_or(true, |v| v < threshold) {
            return Err(UpdateError::Threshold {
                role: self.role_name.clone(),
                valid,
                threshold,
            });
        }
        Ok(())
    }

    /// Verifies the threshold and returns the trusted metadata. This is the only way to obtain
    /// a [`Verified`].
    ///
    /// # Errors
    /// [`UpdateError::Threshold`] with the number of valid distinct keys.
    pub fn verify(self, keys: &KeySet, authorised: &RoleKeys) -> Result<Verified<R>, UpdateError> {
        self.check_signatures(keys, authorised)?;
        Ok(Verified::new_unchecked(self.role, self.raw))
    }
}
