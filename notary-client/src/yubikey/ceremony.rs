//! The offline root ceremony's files.
//!
//! 1. `notary root request GUN` writes a [`RootRequest`]: the exact canonical bytes of the
//!    next root (`signed`), the keys allowed to sign them and the thresholds to meet (the
//!    new root role and the root clients trust now).
//! 2. `notary root sign REQUEST --yubikey SERIAL` (on the machine with the key: no trust
//!    directory, no network) writes a [`RootSignature`] over those bytes.
//! 3. `notary root import GUN REQUEST SIG...` checks the signatures and thresholds and
//!    stages the signed root; `notary publish GUN` uploads it.
//!
//! Signatures travel as Notary wire signatures (raw `r || s`, base64) with the signer's
//! public key; [`PresignedSigner`] hands them to the editor, which rebuilds the same root and
//! checks every threshold as for any signing run.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use tuf_core::crypto::{Key, PublicKey, SignError, SignatureBytes, Signer};
use tuf_core::Dialect;

use super::YubiKeyCliError;

/// The `type` member of a request file.
pub const REQUEST_TYPE: &str = "notary-rs/root-signing-request";
/// The `type` member of a signature file.
pub const SIGNATURE_TYPE: &str = "notary-rs/root-signature";

/// One key that may sign the request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestKey {
    /// The plain Notary key id of the public key.
    pub key_id: String,
    /// The SubjectPublicKeyInfo PEM.
    pub public_key: String,
    /// The YubiKey holding it, when known.
    #[serde(default)]
    pub yubikey_serial: Option<u32>,
}

/// One threshold the signatures must meet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequiredRole {
    /// `new root` or `trusted root`.
    pub authority: String,
    /// Signatures needed from distinct keys.
    pub threshold: u32,
    /// Plain key ids of the keys that count.
    pub key_ids: Vec<String>,
}

/// What needs signing in a root ceremony.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootRequest {
    /// Always [`REQUEST_TYPE`].
    #[serde(rename = "type")]
    pub kind: String,
    /// The collection.
    pub gun: String,
    /// The version of the new root.
    pub version: u64,
    /// The version of the root it replaces.
    pub trusted_version: u64,
    /// The new root's expiry (RFC 3339, whole seconds).
    pub expires: String,
    /// The new root role's threshold.
    pub threshold: u32,
    /// The new root keys, each a canonical Notary key object (`ecdsa-x509`).
    pub new_keys: Vec<String>,
    /// Base64 of the canonical bytes every signature covers.
    pub signed: String,
    /// Hex SHA-256 of those bytes (what a signer shows).
    pub signed_sha256: String,
    /// Keys that may sign.
    pub signers: Vec<RequestKey>,
    /// Thresholds to meet.
    pub required: Vec<RequiredRole>,
}

/// One detached signature over a request's bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootSignature {
    /// Always [`SIGNATURE_TYPE`].
    #[serde(rename = "type")]
    pub kind: String,
    /// The collection.
    pub gun: String,
    /// The version of the root signed.
    pub version: u64,
    /// Hex SHA-256 of the signed bytes.
    pub signed_sha256: String,
    /// The plain Notary key id of the signing key.
    pub key_id: String,
    /// The signing key's SubjectPublicKeyInfo PEM.
    pub public_key: String,
    /// Base64 of the Notary wire signature (ECDSA P-256: raw `r || s`).
    pub sig: String,
    /// The YubiKey that signed, when it was one.
    #[serde(default)]
    pub yubikey_serial: Option<u32>,
}

fn file_err(path: &str, reason: impl std::fmt::Display) -> YubiKeyCliError {
    YubiKeyCliError::File {
        path: path.into(),
        reason: reason.to_string(),
    }
}

impl RootRequest {
    /// Reads a request file.
    ///
    /// # Errors
    /// Unreadable, malformed, or inconsistent (hash of `signed`).
    pub fn read(path: &std::path::Path) -> Result<Self, YubiKeyCliError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| file_err(&name, e))?;
        let req: Self = serde_json::from_str(&text).map_err(|e| file_err(&name, e))?;
        if req.kind != REQUEST_TYPE {
            return Err(file_err(&name, "not a root signing request"));
        }
        let bytes = req.signed_bytes().map_err(|e| file_err(&name, e))?;
        if hex::encode(Sha256::digest(&bytes)) != req.signed_sha256 {
            return Err(file_err(
                &name,
                "signed_sha256 does not match the signed bytes",
            ));
        }
        Ok(req)
    }

    /// The canonical bytes to sign.
    ///
    /// # Errors
    /// `signed` is not base64.
    pub fn signed_bytes(&self) -> Result<Vec<u8>, YubiKeyCliError> {
        B64.decode(&self.signed)
            .map_err(|e| YubiKeyCliError::Refused(format!("request: signed: {e}")))
    }

    /// The new root keys.
    ///
    /// # Errors
    /// A key object does not parse.
    pub fn new_root_keys(&self) -> Result<Vec<Key>, YubiKeyCliError> {
        self.new_keys
            .iter()
            .map(|k| {
                let v = tuf_core::json::parse(k.as_bytes())
                    .map_err(|e| YubiKeyCliError::Refused(format!("request key: {e}")))?;
                Key::from_json(Dialect::Notary, &v)
                    .map_err(|e| YubiKeyCliError::Refused(format!("request key: {e}")))
            })
            .collect()
    }

    /// The request's entry for `public`, if that key may sign.
    pub fn signer_for(&self, public: &PublicKey) -> Option<&RequestKey> {
        let pem = public.to_spki_pem();
        self.signers.iter().find(|k| k.public_key == pem)
    }

    /// A short description for the person who signs.
    pub fn summary(&self) -> String {
        let mut out = format!(
            "Root signing request for {}: root version {} (replacing version {}), expires {}, \
             threshold {} of {} new root key(s); SHA-256 of the signed bytes {}\n",
            self.gun,
            self.version,
            self.trusted_version,
            self.expires,
            self.threshold,
            self.new_keys.len(),
            self.signed_sha256
        );
        for r in &self.required {
            out.push_str(&format!(
                "  needs {} signature(s) from the {} keys {}\n",
                r.threshold,
                r.authority,
                r.key_ids.join(", ")
            ));
        }
        out
    }
}

impl RootSignature {
    /// Reads a signature file.
    ///
    /// # Errors
    /// Unreadable or malformed.
    pub fn read(path: &std::path::Path) -> Result<Self, YubiKeyCliError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| file_err(&name, e))?;
        let sig: Self = serde_json::from_str(&text).map_err(|e| file_err(&name, e))?;
        if sig.kind != SIGNATURE_TYPE {
            return Err(file_err(&name, "not a root signature"));
        }
        Ok(sig)
    }

    /// Checks this signature against `request`: same bytes, a key the request lists, and a
    /// signature that verifies over the bytes. Returns the signer to give the editor.
    ///
    /// # Errors
    /// Any mismatch.
    pub fn check(&self, request: &RootRequest) -> Result<PresignedSigner, YubiKeyCliError> {
        let refuse = |why: &str| {
            YubiKeyCliError::Refused(format!("signature by key {}: {why}", self.key_id))
        };
        if self.gun != request.gun
            || self.version != request.version
            || self.signed_sha256 != request.signed_sha256
        {
            return Err(refuse("it signs another request"));
        }
        let public = PublicKey::from_spki_pem(&self.public_key)
            .map_err(|e| refuse(&format!("public key: {e}")))?;
        if request.signer_for(&public).is_none() {
            return Err(refuse("the request does not list this key"));
        }
        let wire = B64
            .decode(&self.sig)
            .map_err(|e| refuse(&format!("sig: {e}")))?;
        let message = request.signed_bytes()?;
        Key::from_public_key(Dialect::Notary, public.clone())
            .verify(Dialect::Notary, &message, &wire)
            .map_err(|e| refuse(&format!("does not verify: {e}")))?;
        let sig = p256::ecdsa::Signature::from_slice(&wire)
            .map_err(|_| refuse("not an ECDSA P-256 signature"))?;
        Ok(PresignedSigner {
            public,
            message,
            signature: SignatureBytes::EcdsaP256(sig),
        })
    }
}

/// A [`Signer`] that returns a signature made elsewhere, for exactly the bytes it covers.
#[derive(Clone, Debug)]
pub struct PresignedSigner {
    public: PublicKey,
    message: Vec<u8>,
    signature: SignatureBytes,
}

impl Signer for PresignedSigner {
    fn public_key(&self) -> &PublicKey {
        &self.public
    }

    fn sign(&self, message: &[u8]) -> Result<SignatureBytes, SignError> {
        if message == self.message {
            Ok(self.signature.clone())
        } else {
            Err(SignError::Unsupported {
                reason: "the root to sign differs from the one in the signing request \
                         (the repository changed since the request was made)",
            })
        }
    }
}

/// The base64 form of `bytes` used in ceremony files.
pub fn to_b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use tuf_core::crypto::SoftwareSigner;

    fn request(bytes: &[u8], key: &SoftwareSigner) -> RootRequest {
        RootRequest {
            kind: REQUEST_TYPE.into(),
            gun: "example.com/app".into(),
            version: 2,
            trusted_version: 1,
            expires: "2036-01-01T00:00:00Z".into(),
            threshold: 1,
            new_keys: Vec::new(),
            signed: to_b64(bytes),
            signed_sha256: hex::encode(Sha256::digest(bytes)),
            signers: vec![RequestKey {
                key_id: super::super::stub::key_id_of(key.public_key()),
                public_key: key.public_key().to_spki_pem(),
                yubikey_serial: None,
            }],
            required: Vec::new(),
        }
    }

    fn signature(req: &RootRequest, key: &SoftwareSigner, bytes: &[u8]) -> RootSignature {
        RootSignature {
            kind: SIGNATURE_TYPE.into(),
            gun: req.gun.clone(),
            version: req.version,
            signed_sha256: req.signed_sha256.clone(),
            key_id: super::super::stub::key_id_of(key.public_key()),
            public_key: key.public_key().to_spki_pem(),
            sig: to_b64(&key.sign(bytes).unwrap().to_wire(Dialect::Notary)),
            yubikey_serial: None,
        }
    }

    #[test]
    fn signatures_are_checked_against_the_request() {
        let key = SoftwareSigner::generate_p256();
        let other = SoftwareSigner::generate_p256();
        let bytes = br#"{"_type":"Root","version":2}"#;
        let req = request(bytes, &key);

        let good = signature(&req, &key, bytes);
        let presigned = good.check(&req).unwrap();
        assert!(presigned.sign(bytes).is_ok());
        assert!(
            presigned.sign(b"other bytes").is_err(),
            "only the requested bytes"
        );

        let mut wrong_bytes = signature(&req, &key, b"something else");
        wrong_bytes.signed_sha256 = req.signed_sha256.clone();
        assert!(wrong_bytes.check(&req).is_err(), "does not verify");

        let unlisted = signature(&req, &other, bytes);
        assert!(unlisted.check(&req).is_err(), "key not in the request");

        let mut other_request = signature(&req, &key, bytes);
        other_request.signed_sha256 = "00".repeat(32);
        assert!(other_request.check(&req).is_err(), "another request");
    }
}
