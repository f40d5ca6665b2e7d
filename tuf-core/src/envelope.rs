//! The signed envelope and the trust typestate: bytes -> [`Signed`] (parsed, untrusted) ->
//! [`Verified`] (minted only by the threshold check in [`crate::threshold`]).

use std::ops::Deref;

use crate::dialect::Dialect;
use crate::error::MetadataError;
use crate::json::{self, JsonLimits, JsonObject, JsonValue};
use crate::role::fields::{decode_bytes, encode_bytes, schema, Obj};
use crate::role::Role;

/// One entry of `signatures`, as found. Entries whose `sig` does not decode are kept with
/// `sig: None`: an invalid signature is ignored, it never sinks otherwise valid metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawSignature {
    /// `keyid`, as written.
    pub keyid: String,
    /// Notary `method` (informational only: the algorithm always comes from the trusted key).
    pub method: Option<String>,
    /// The decoded signature bytes, or `None` if `sig` was not valid hex/base64.
    pub sig: Option<Vec<u8>>,
}

impl RawSignature {
    /// The JSON form of this signature in the dialect.
    pub fn to_json(&self, dialect: Dialect) -> JsonValue {
        let mut o = JsonObject::new();
        o.insert("keyid".into(), self.keyid.as_str().into());
        if let Some(m) = self
            .method
            .as_deref()
            .filter(|_| dialect == Dialect::Notary)
        {
            o.insert("method".into(), m.into());
        }
        let sig = self
            .sig
            .as_deref()
            .map(|b| encode_bytes(dialect, b))
            .unwrap_or_default();
        o.insert("sig".into(), sig.into());
        JsonValue::Object(o)
    }
}

/// Parsed, **untrusted** metadata. Its contents are reachable only through
/// [`Signed::peek_untrusted`]; trust is obtained with [`Signed::verify`].
#[derive(Debug)]
pub struct Signed<R> {
    pub(crate) dialect: Dialect,
    pub(crate) role_name: String,
    pub(crate) raw: Vec<u8>,
    pub(crate) canonical: Vec<u8>,
    pub(crate) signatures: Vec<RawSignature>,
    pub(crate) role: R,
}

impl<R: Role> Signed<R> {
    /// Parses metadata bytes of role `role_name` in `dialect`: strict JSON, an envelope with
    /// exactly `signed` and `signatures`, and the role's schema including `_type`.
    ///
    /// # Errors
    /// [`MetadataError`] naming the role and the reason.
    pub fn parse(
        dialect: Dialect,
        role_name: &str,
        bytes: &[u8],
        limits: &JsonLimits,
    ) -> Result<Self, MetadataError> {
        let value =
            json::parse_with_limits(bytes, limits).map_err(|source| MetadataError::Json {
                role: role_name.to_owned(),
                source,
            })?;
        let top = Obj::new(&value, role_name, "")?;
        if let Some(k) = top
            .map
            .keys()
            .find(|k| *k != "signed" && *k != "signatures")
        {
            return Err(schema(
                role_name,
                k.clone(),
                "unexpected top-level member (unsigned data)",
            ));
        }
        let signed = top.req("signed")?;
        if signed.as_object().is_none() {
            return Err(top.err("signed", "must be an object"));
        }
        let mut signatures = Vec::new();
        for (i, s) in top.req_array("signatures")?.iter().enumerate() {
            let so = Obj::new(s, role_name, &format!("signatures[{i}]"))?;
            signatures.push(RawSignature {
                keyid: so.req_str("keyid")?.to_owned(),
                method: so.opt_str("method")?.map(str::to_owned),
                sig: decode_bytes(dialect, so.req_str("sig")?),
            });
        }
        let role = R::parse(dialect, role_name, signed)?;
        let canonical = json::to_canonical(signed);
        Ok(Self {
            dialect,
            role_name: role_name.to_owned(),
            raw: bytes.to_vec(),
            canonical,
            signatures,
            role,
        })
    }

    /// The parsed contents, **not verified**. Use only for decisions that do not grant trust
    /// (e.g. which keys a root claims, to check it against itself).
    pub fn peek_untrusted(&self) -> &R {
        &self.role
    }

    /// The exact bytes parsed.
    pub fn raw_bytes(&self) -> &[u8] {
        &self.raw
    }

    /// The canonical bytes of `signed`: what signatures are over.
    pub fn canonical_signed(&self) -> &[u8] {
        &self.canonical
    }

    /// The signatures as found.
    pub fn signatures(&self) -> &[RawSignature] {
        &self.signatures
    }

    /// The role name given at parse time.
    pub fn role_name(&self) -> &str {
        &self.role_name
    }

    /// The dialect given at parse time.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }
}

/// Metadata whose signatures met the threshold of the keys that were trusted for it.
/// Only [`Signed::verify`] creates one.
#[derive(Clone, Debug)]
pub struct Verified<R> {
    role: R,
    raw: Vec<u8>,
}

impl<R> Verified<R> {
    /// Only `threshold.rs` calls this.
    pub(crate) fn new_unchecked(role: R, raw: Vec<u8>) -> Self {
        Self { role, raw }
    }

    /// The exact bytes that were verified (store and serve these).
    pub fn raw_bytes(&self) -> &[u8] {
        &self.raw
    }

    /// The verified contents, consuming the wrapper (e.g. to start editing them).
    pub fn into_inner(self) -> R {
        self.role
    }
}

impl<R> Deref for Verified<R> {
    type Target = R;
    fn deref(&self) -> &R {
        &self.role
    }
}

/// Writes an envelope: Notary puts `signed` before `signatures` (as Go does), TUF 1.0 sorts
/// the members. Both are compact [`json::write_json`] text, whose `signed` re-canonicalises to
/// the signed bytes.
pub(crate) fn write_envelope(
    dialect: Dialect,
    signed: &JsonValue,
    sigs: &[RawSignature],
) -> Vec<u8> {
    let signed_json = json::to_json(signed);
    let signed_text = signed_json.as_slice();
    let mut sig_bytes = Vec::new();
    json::write_json(
        &JsonValue::Array(sigs.iter().map(|s| s.to_json(dialect)).collect()),
        &mut sig_bytes,
    );
    let mut out = Vec::with_capacity(signed_text.len() + sig_bytes.len() + 32);
    match dialect {
        Dialect::Notary => {
            out.extend_from_slice(b"{\"signed\":");
            out.extend_from_slice(signed_text);
            out.extend_from_slice(b",\"signatures\":");
            out.extend_from_slice(&sig_bytes);
        }
        Dialect::TufSpec => {
            out.extend_from_slice(b"{\"signatures\":");
            out.extend_from_slice(&sig_bytes);
            out.extend_from_slice(b",\"signed\":");
            out.extend_from_slice(signed_text);
        }
    }
    out.push(b'}');
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_in_the_file_but_not_in_the_signed_bytes() {
        // A PEM public key (ECDSA/RSA keyval.public) has newlines.
        let signed = JsonValue::Object(
            [(
                "public".to_owned(),
                JsonValue::String("-----BEGIN\nAB\tC\u{1}\n-----END".into()),
            )]
            .into_iter()
            .collect(),
        );
        let canonical = json::to_canonical(&signed);
        assert!(canonical.contains(&b'\n'), "canonical JSON writes them raw");
        for dialect in [Dialect::TufSpec, Dialect::Notary] {
            let file = write_envelope(dialect, &signed, &[]);
            assert!(!file.iter().any(|b| *b < 0x20), "{dialect:?}");
            let parsed = json::parse(&file).unwrap();
            let back = parsed.as_object().unwrap().get("signed").unwrap();
            assert_eq!(json::to_canonical(back), canonical, "{dialect:?}");
        }
    }
}
