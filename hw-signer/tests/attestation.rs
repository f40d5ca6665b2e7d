//! E04: the attestation tamper set, checked without a card. Certificates come from the
//! virtual card's test CA, shaped like a YubiKey's (Yubico extensions, f9 chain).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, SystemTime};

use hw_signer::attestation::{
    check_root_policy, verify, AttestationBundle, AttestationError, Expectation, PinnedCas,
};
use hw_signer::virtual_card::{AttestationFields, DeviceAttestation, TestCa};
use hw_signer::{PinPolicy, TouchPolicy};
use tuf_core::crypto::{PublicKey, Signer as _, SoftwareSigner};

struct Fixture {
    ca: TestCa,
    device: DeviceAttestation,
    key: PublicKey,
}

fn fixture() -> Fixture {
    let ca = TestCa::generate("Test PIV Root CA").unwrap();
    let device = ca.issue_device().unwrap();
    let key = SoftwareSigner::generate_p256().public_key().clone();
    Fixture { ca, device, key }
}

fn fields(f: &Fixture) -> AttestationFields {
    AttestationFields {
        slot: 0x9c,
        spki_der: f.key.spki_der(),
        firmware: (5, 7, 1),
        serial: 12_345_678,
        pin_policy: PinPolicy::Always,
        touch_policy: TouchPolicy::Always,
    }
}

fn bundle(device: &DeviceAttestation, fields: &AttestationFields) -> AttestationBundle {
    AttestationBundle {
        attestation_der: device.attest(fields).unwrap(),
        chain_der: vec![device.cert_der.clone()],
    }
}

fn expect(key: &PublicKey) -> Expectation<'_> {
    Expectation {
        slot: 0x9c,
        serial: Some(12_345_678),
        public_key: key,
        now: SystemTime::now(),
    }
}

fn cas(f: &Fixture) -> PinnedCas {
    PinnedCas::from_pem(&f.ca.cert_pem().unwrap()).unwrap()
}

#[test]
fn genuine_attestation_verifies_and_reports_what_it_proves() {
    let f = fixture();
    let got = verify(&bundle(&f.device, &fields(&f)), &cas(&f), &expect(&f.key)).unwrap();
    assert_eq!(got.serial, 12_345_678);
    assert_eq!(got.firmware, (5, 7, 1));
    assert_eq!(got.slot, 0x9c);
    assert_eq!(
        (got.pin_policy, got.touch_policy),
        (PinPolicy::Always, TouchPolicy::Always)
    );
    assert_eq!(got.form_factor, Some(1));
    assert_eq!(got.public_key, f.key);
    assert_eq!(got.ca_subject, "CN=Test PIV Root CA");
    check_root_policy(&got).unwrap();
    // PIN ONCE is acceptable for a root key too.
    let mut once = fields(&f);
    once.pin_policy = PinPolicy::Once;
    let got = verify(&bundle(&f.device, &once), &cas(&f), &expect(&f.key)).unwrap();
    check_root_policy(&got).unwrap();
}

#[test]
fn attestation_for_another_slot_rejected() {
    let f = fixture();
    let mut other = fields(&f);
    other.slot = 0x9a;
    let e = verify(&bundle(&f.device, &other), &cas(&f), &expect(&f.key)).unwrap_err();
    assert!(
        matches!(&e, AttestationError::WrongSlot { expected: 0x9c, found } if found.ends_with("9a")),
        "{e}"
    );
}

#[test]
fn attestation_from_another_serial_rejected() {
    let f = fixture();
    let mut other = fields(&f);
    other.serial = 87_654_321;
    let e = verify(&bundle(&f.device, &other), &cas(&f), &expect(&f.key)).unwrap_err();
    assert_eq!(
        e,
        AttestationError::WrongSerial {
            expected: 12_345_678,
            found: 87_654_321
        }
    );
    assert!(e.to_string().contains("87654321"));
}

#[test]
fn chain_to_a_non_pinned_ca_rejected() {
    let f = fixture();
    let rogue = TestCa::generate("Test PIV Root CA").unwrap(); // same name, other key
    let rogue_device = rogue.issue_device().unwrap();
    let e = verify(
        &bundle(&rogue_device, &fields(&f)),
        &cas(&f),
        &expect(&f.key),
    )
    .unwrap_err();
    assert!(matches!(e, AttestationError::UnpinnedCa { .. }), "{e}");
    // Yubico's root (the default pin) does not accept the test CA's devices either.
    let e = verify(
        &bundle(&f.device, &fields(&f)),
        &PinnedCas::yubico(),
        &expect(&f.key),
    )
    .unwrap_err();
    assert!(matches!(e, AttestationError::UnpinnedCa { .. }), "{e}");
}

#[test]
fn unknown_or_missing_intermediate_rejected() {
    let f = fixture();
    // The f9 certificate of another device under the same CA: the attestation's
    // signature does not match it.
    let other_device = f.ca.issue_device().unwrap();
    let mut b = bundle(&f.device, &fields(&f));
    b.chain_der = vec![other_device.cert_der.clone()];
    let e = verify(&b, &cas(&f), &expect(&f.key)).unwrap_err();
    assert_eq!(
        e,
        AttestationError::BadSignature {
            which: "attestation"
        }
    );
    b.chain_der.clear();
    let e = verify(&b, &cas(&f), &expect(&f.key)).unwrap_err();
    assert_eq!(e, AttestationError::MissingChain);
    b.chain_der = vec![vec![0x30, 0x03, 0x02, 0x01, 0x00]];
    let e = verify(&b, &cas(&f), &expect(&f.key)).unwrap_err();
    assert!(
        matches!(e, AttestationError::Malformed { which: "f9", .. }),
        "{e}"
    );
}

#[test]
fn expired_certificates_rejected() {
    let f = fixture();
    let mut later = expect(&f.key);
    later.now = SystemTime::now() + Duration::from_secs(30 * 365 * 24 * 3600);
    let e = verify(&bundle(&f.device, &fields(&f)), &cas(&f), &later).unwrap_err();
    assert!(matches!(e, AttestationError::Expired { .. }), "{e}");
    let mut earlier = expect(&f.key);
    earlier.now = SystemTime::UNIX_EPOCH;
    let e = verify(&bundle(&f.device, &fields(&f)), &cas(&f), &earlier).unwrap_err();
    assert!(matches!(e, AttestationError::Expired { .. }), "{e}");
}

#[test]
fn policies_unfit_for_root_rejected() {
    let f = fixture();
    for (pin, touch) in [
        (PinPolicy::Always, TouchPolicy::Never),
        (PinPolicy::Always, TouchPolicy::Cached),
        (PinPolicy::Never, TouchPolicy::Always),
        (PinPolicy::Default, TouchPolicy::Always),
        (PinPolicy::Always, TouchPolicy::Default),
    ] {
        let mut fl = fields(&f);
        fl.pin_policy = pin;
        fl.touch_policy = touch;
        let got = verify(&bundle(&f.device, &fl), &cas(&f), &expect(&f.key)).unwrap();
        let e = check_root_policy(&got).unwrap_err();
        assert_eq!(e, AttestationError::Policy { pin, touch });
        assert!(e.to_string().contains("ALWAYS"), "{e}");
    }
}

#[test]
fn attested_key_different_from_root_key_rejected() {
    let f = fixture();
    let root = SoftwareSigner::generate_p256().public_key().clone();
    let e = verify(&bundle(&f.device, &fields(&f)), &cas(&f), &expect(&root)).unwrap_err();
    assert!(matches!(e, AttestationError::KeyMismatch { .. }), "{e}");
}

#[test]
fn slot_attestation_used_as_intermediate_rejected() {
    // A key attested on a genuine device signs a forged "attestation" for itself: the chain
    // would be forged <- slot attestation <- f9 <- CA.
    let f = fixture();
    let attacker_key = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
    let attacker_pub = PublicKey::EcdsaP256(*attacker_key.verifying_key());
    let mut genuine = fields(&f);
    genuine.spki_der = attacker_pub.spki_der();
    genuine.touch_policy = TouchPolicy::Never;
    let genuine_cert = f.device.attest(&genuine).unwrap();
    let parsed: x509_cert::Certificate = der::Decode::from_der(&genuine_cert).unwrap();
    let fake_issuer = DeviceAttestation {
        key: attacker_key,
        cert_der: genuine_cert.clone(),
        subject: parsed.tbs_certificate.subject.clone(),
    };
    let forged = fake_issuer.attest(&fields(&f)).unwrap();
    let b = AttestationBundle {
        attestation_der: forged,
        chain_der: vec![genuine_cert, f.device.cert_der.clone()],
    };
    let e = verify(&b, &cas(&f), &expect(&f.key)).unwrap_err();
    assert_eq!(e, AttestationError::AttestationInChain);
}

#[test]
fn each_tamper_case_has_a_distinct_message() {
    let f = fixture();
    let mut msgs = Vec::new();
    let mut slot = fields(&f);
    slot.slot = 0x9d;
    msgs.push(verify(&bundle(&f.device, &slot), &cas(&f), &expect(&f.key)).unwrap_err());
    let mut serial = fields(&f);
    serial.serial = 1;
    msgs.push(verify(&bundle(&f.device, &serial), &cas(&f), &expect(&f.key)).unwrap_err());
    let rogue = TestCa::generate("Rogue").unwrap().issue_device().unwrap();
    msgs.push(verify(&bundle(&rogue, &fields(&f)), &cas(&f), &expect(&f.key)).unwrap_err());
    let other = SoftwareSigner::generate_p256().public_key().clone();
    msgs.push(verify(&bundle(&f.device, &fields(&f)), &cas(&f), &expect(&other)).unwrap_err());
    let texts: std::collections::BTreeSet<String> = msgs
        .iter()
        .map(|e| {
            e.to_string()
                .split(':')
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(texts.len(), msgs.len(), "{msgs:?}");
}

#[test]
fn evidence_roundtrips_through_pem() {
    let f = fixture();
    let b = bundle(&f.device, &fields(&f));
    let pem = b.to_pem().unwrap();
    assert_eq!(pem.matches("BEGIN CERTIFICATE").count(), 2);
    let back = AttestationBundle::from_pem(&pem).unwrap();
    assert_eq!(back, b);
    verify(&back, &cas(&f), &expect(&f.key)).unwrap();
    assert!(AttestationBundle::from_pem("junk").is_err());
}

#[test]
fn threshold_needs_distinct_devices() {
    use hw_signer::attestation::check_distinct_devices;
    let f = fixture();
    let one = verify(&bundle(&f.device, &fields(&f)), &cas(&f), &expect(&f.key)).unwrap();
    let other_key = SoftwareSigner::generate_p256().public_key().clone();
    let mut same_serial = fields(&f);
    same_serial.spki_der = other_key.spki_der();
    let two = verify(
        &bundle(&f.device, &same_serial),
        &cas(&f),
        &expect(&other_key),
    )
    .unwrap();
    let e = check_distinct_devices(&[one.clone(), two.clone()], 2).unwrap_err();
    assert_eq!(
        e,
        AttestationError::SameDevice {
            serial: 12_345_678,
            threshold: 2
        }
    );
    check_distinct_devices(&[one.clone(), two], 1).unwrap();
    let mut elsewhere = fields(&f);
    elsewhere.serial = 1;
    elsewhere.spki_der = other_key.spki_der();
    let mut exp = expect(&other_key);
    exp.serial = Some(1);
    let three = verify(&bundle(&f.device, &elsewhere), &cas(&f), &exp).unwrap();
    check_distinct_devices(&[one, three], 2).unwrap();
}
