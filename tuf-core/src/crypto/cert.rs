//! X.509 root certificates: parsing (`ecdsa-x509` / `rsa-x509` keys) and creating the
//! self-signed certificate Go Notary puts in root.json.

use chrono::{DateTime, Datelike as _, Utc};
use der::asn1::{BitString, GeneralizedTime, OctetString, UtcTime};
use der::{Decode as _, Encode as _, EncodePem as _, Tag, Tagged as _};
use rand_core::RngCore as _;
use sha2::Sha256;
use spki::{AlgorithmIdentifierOwned, ObjectIdentifier, SubjectPublicKeyInfoOwned};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages};
use x509_cert::ext::Extension;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate, TbsCertificate, Version};

use super::error::{KeyError, SignError, SignatureError};
use super::public_key::{Algorithm, PublicKey};
use super::signer::{SignatureBytes, Signer};
use super::verify;
use crate::dialect::Dialect;

const OID_CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const OID_RSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const OID_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
const OID_EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const OID_BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const OID_KP_CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
/// SHA-1 based certificate signature algorithms (Notary rejects them).
const SHA1_SIGNATURE_OIDS: [ObjectIdentifier; 4] = [
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5"), // sha1WithRSAEncryption
    ObjectIdentifier::new_unwrap("1.2.840.10045.4.1"),    // ecdsa-with-SHA1
    ObjectIdentifier::new_unwrap("1.2.840.10040.4.3"),    // dsa-with-sha1
    ObjectIdentifier::new_unwrap("1.3.14.3.2.29"),        // sha1WithRSASignature (OIW)
];

/// What the caller needs from a root certificate. Dates are not checked here (no clock).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertInfo {
    /// The subject commonName, if present (Notary requires it to equal the GUN).
    pub common_name: Option<String>,
    /// Start of validity.
    pub not_before: DateTime<Utc>,
    /// End of validity.
    pub not_after: DateTime<Utc>,
    /// Whether the certificate's signature algorithm is SHA-1 based (Notary rejects these).
    pub sha1_signature: bool,
    /// The certificate's signature algorithm, as a dotted OID.
    pub signature_algorithm: String,
    sig_alg: ObjectIdentifier,
    tbs_der: Vec<u8>,
    signature: Vec<u8>,
}

impl CertInfo {
    /// Checks the certificate's signature with `issuer` (its own key for a self-signed
    /// certificate). Supports ecdsa-with-SHA256 (P-256) and sha256WithRSAEncryption.
    pub fn verify_signature(&self, issuer: &PublicKey) -> Result<(), SignatureError> {
        match issuer {
            PublicKey::EcdsaP256(_) if self.sig_alg == OID_ECDSA_SHA256 => {
                verify::verify(issuer, Dialect::TufSpec, &self.tbs_der, &self.signature)
            }
            PublicKey::Rsa(k) if self.sig_alg == OID_RSA_SHA256 => {
                use sha2::Digest as _;
                let digest = Sha256::digest(&self.tbs_der);
                k.verify(rsa::Pkcs1v15Sign::new::<Sha256>(), &digest, &self.signature)
                    .map_err(|_| SignatureError::Invalid {
                        algorithm: Algorithm::RsaPss,
                    })
            }
            _ => Err(SignatureError::Unsupported {
                reason: "certificate signature algorithm does not match the issuer key",
            }),
        }
    }
}

/// Parses a PEM certificate: its public key and [`CertInfo`].
pub(crate) fn parse_certificate_pem(pem: &str) -> Result<(PublicKey, CertInfo), KeyError> {
    let (label, doc) = der::Document::from_pem(pem.trim()).map_err(|_| KeyError::Certificate {
        reason: "not a PEM document",
    })?;
    if label != "CERTIFICATE" {
        return Err(KeyError::Certificate {
            reason: "PEM label is not CERTIFICATE",
        });
    }
    let der = doc.as_bytes();
    let cert = Certificate::from_der(der).map_err(|_| KeyError::Certificate {
        reason: "not a DER X.509 certificate",
    })?;
    let tbs_der = first_element(der)
        .ok_or(KeyError::Certificate {
            reason: "malformed certificate structure",
        })?
        .to_vec();
    let tbs = &cert.tbs_certificate;
    if tbs.signature != cert.signature_algorithm {
        return Err(KeyError::Certificate {
            reason: "inner and outer signature algorithms differ",
        });
    }
    let spki_der = tbs
        .subject_public_key_info
        .to_der()
        .map_err(|_| KeyError::Certificate {
            reason: "public key cannot be re-encoded",
        })?;
    let public = PublicKey::from_spki_der(&spki_der)?;
    let common_name = common_name(&tbs.subject)?;
    let sig_alg = cert.signature_algorithm.oid;
    let info = CertInfo {
        common_name,
        not_before: to_chrono(tbs.validity.not_before)?,
        not_after: to_chrono(tbs.validity.not_after)?,
        sha1_signature: SHA1_SIGNATURE_OIDS.contains(&sig_alg),
        signature_algorithm: sig_alg.to_string(),
        sig_alg,
        tbs_der,
        signature: cert
            .signature
            .as_bytes()
            .ok_or(KeyError::Certificate {
                reason: "signature bit string has unused bits",
            })?
            .to_vec(),
    };
    Ok((public, info))
}

/// The raw bytes of the first element inside a DER SEQUENCE (the TBSCertificate).
fn first_element(der: &[u8]) -> Option<&[u8]> {
    let (_, content) = split_tlv(der)?;
    let (len, _) = split_tlv(content)?;
    content.get(..len)
}

/// Parses one DER TLV header: returns the total TLV length and the content.
fn split_tlv(der: &[u8]) -> Option<(usize, &[u8])> {
    let first = *der.get(1)?;
    let (header, len) = if first < 0x80 {
        (2usize, usize::from(first))
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for b in der.get(2..2 + n)? {
            len = (len << 8) | usize::from(*b);
        }
        (2 + n, len)
    };
    let total = header.checked_add(len)?;
    Some((total, der.get(header..total)?))
}

fn common_name(name: &Name) -> Result<Option<String>, KeyError> {
    let mut found = None;
    for rdn in name.0.iter() {
        for atv in rdn.0.iter() {
            if atv.oid != OID_CN {
                continue;
            }
            if found.is_some() {
                return Err(KeyError::Certificate {
                    reason: "more than one subject commonName",
                });
            }
            let value = match atv.value.tag() {
                Tag::PrintableString | Tag::Utf8String | Tag::Ia5String => {
                    std::str::from_utf8(atv.value.value()).map_err(|_| KeyError::Certificate {
                        reason: "commonName is not valid UTF-8",
                    })?
                }
                _ => {
                    return Err(KeyError::Certificate {
                        reason: "commonName has an unsupported string type",
                    })
                }
            };
            found = Some(value.to_owned());
        }
    }
    Ok(found)
}

fn to_chrono(t: Time) -> Result<DateTime<Utc>, KeyError> {
    let d = t.to_unix_duration();
    i64::try_from(d.as_secs())
        .ok()
        .and_then(|s| DateTime::from_timestamp(s, d.subsec_nanos()))
        .ok_or(KeyError::Certificate {
            reason: "validity date out of range",
        })
}

fn to_x509_time(t: DateTime<Utc>) -> Result<Time, SignError> {
    let err = SignError::Encoding {
        reason: "certificate validity date out of range (1970..=9999)",
    };
    let secs = u64::try_from(t.timestamp()).map_err(|_| SignError::Encoding {
        reason: "certificate validity date before 1970",
    })?;
    let d = std::time::Duration::from_secs(secs);
    if t.year() < 2050 {
        UtcTime::from_unix_duration(d)
            .map(Time::UtcTime)
            .map_err(|_| err)
    } else {
        GeneralizedTime::from_unix_duration(d)
            .map(Time::GeneralTime)
            .map_err(|_| err)
    }
}

fn cn_name(common_name: &str) -> Result<Name, SignError> {
    let err = |_| SignError::Encoding {
        reason: "commonName cannot be encoded",
    };
    // Go uses PrintableString when the value fits its alphabet, else UTF8String.
    let value = match der::asn1::PrintableStringRef::new(common_name) {
        Ok(p) => der::Any::from(p),
        Err(_) => der::Any::from(der::asn1::Utf8StringRef::new(common_name).map_err(err)?),
    };
    let atv = AttributeTypeAndValue { oid: OID_CN, value };
    let rdn = RelativeDistinguishedName(der::asn1::SetOfVec::try_from(vec![atv]).map_err(err)?);
    Ok(RdnSequence(vec![rdn]))
}

fn extension<T: der::Encode>(
    oid: ObjectIdentifier,
    critical: bool,
    value: &T,
) -> Result<Extension, SignError> {
    let err = |_| SignError::Encoding {
        reason: "certificate extension cannot be encoded",
    };
    Ok(Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value.to_der().map_err(err)?).map_err(err)?,
    })
}

/// Creates a self-signed root certificate like Go Notary's (`tuf/utils/x509.go`): X.509 v3,
/// subject = issuer = `CN=<common_name>`, random positive 128-bit serial, KeyUsage
/// (critical) digitalSignature + keyEncipherment, ExtKeyUsage codeSigning,
/// BasicConstraints (critical) CA:FALSE, signed ecdsa-with-SHA256 by `signer`.
///
/// Only P-256 signers are supported. Returns the PEM text (LF line endings). The produced
/// signature is checked before returning.
pub fn self_signed_root_certificate(
    signer: &dyn Signer,
    common_name: &str,
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
) -> Result<String, SignError> {
    let public = signer.public_key().clone();
    if public.algorithm() != Algorithm::EcdsaP256 {
        return Err(SignError::Unsupported {
            reason: "root certificates need an ECDSA P-256 key",
        });
    }
    let enc = |reason: &'static str| move |_| SignError::Encoding { reason };

    let mut serial = [0u8; 16];
    rand_core::OsRng.fill_bytes(&mut serial);
    if serial.iter().all(|b| *b == 0) {
        serial[15] = 1;
    }
    let serial_number = SerialNumber::new(&serial).map_err(enc("serial number"))?;

    let algorithm = AlgorithmIdentifierOwned {
        oid: OID_ECDSA_SHA256,
        parameters: None,
    };
    let name = cn_name(common_name)?;
    let extensions = vec![
        extension(
            OID_KEY_USAGE,
            true,
            &KeyUsage(KeyUsages::DigitalSignature | KeyUsages::KeyEncipherment),
        )?,
        extension(
            OID_EXT_KEY_USAGE,
            false,
            &ExtendedKeyUsage(vec![OID_KP_CODE_SIGNING]),
        )?,
        extension(
            OID_BASIC_CONSTRAINTS,
            true,
            &BasicConstraints {
                ca: false,
                path_len_constraint: None,
            },
        )?,
    ];
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number,
        signature: algorithm.clone(),
        issuer: name.clone(),
        validity: Validity {
            not_before: to_x509_time(not_before)?,
            not_after: to_x509_time(not_after)?,
        },
        subject: name,
        subject_public_key_info: SubjectPublicKeyInfoOwned::from_der(&public.spki_der())
            .map_err(enc("public key"))?,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    };
    let tbs_der = tbs.to_der().map_err(enc("TBSCertificate"))?;
    let sig = match signer.sign(&tbs_der)? {
        SignatureBytes::EcdsaP256(sig) => sig,
        other => {
            return Err(SignError::AlgorithmMismatch {
                expected: Algorithm::EcdsaP256,
                actual: other.algorithm(),
            })
        }
    };
    let sig_der = sig.to_der();
    if verify::verify(&public, Dialect::TufSpec, &tbs_der, sig_der.as_bytes()).is_err() {
        return Err(SignError::BadSignature);
    }
    let cert = Certificate {
        tbs_certificate: tbs,
        signature_algorithm: algorithm,
        signature: BitString::from_bytes(sig_der.as_bytes()).map_err(enc("signature"))?,
    };
    cert.to_pem(der::pem::LineEnding::LF)
        .map_err(enc("certificate PEM"))
}
