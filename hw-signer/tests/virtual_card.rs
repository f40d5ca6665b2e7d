//! The whole real stack: `yubikey` crate -> `pcsc` -> pcscd -> vpcd -> virtual YubiKey.
//! Needs pcscd started with scripts/pcsc/reader.conf.d (`scripts/pcscd-vpcd.sh start`).
//! All tests share the two vpcd readers, so each takes the process-wide lock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use hw_signer::virtual_card::TestCa;
use hw_signer::{HwError, YubiKeySigner};
use tuf_core::crypto::{Key, Signer as _};
use tuf_core::Dialect;

#[test]
fn enrol_attest_and_sign_both_dialects_one_touch_each() {
    let _g = hw_lock();
    let ca = TestCa::generate("Test PIV Root CA").unwrap();
    let (card, enrolment) = enrolled_card(&ca, 11_000_001, first_port());
    let (_, attested) = enrolment.attestation.clone().expect("attested");
    assert_eq!(attested.serial, 11_000_001);
    assert_eq!(attested.firmware, (5, 7, 1));
    assert_eq!(attested.slot, 0x9c);
    assert_eq!(attested.public_key, enrolment.public_key);

    let p = ScriptedPrompt::new(&[NEW_PIN, NEW_PIN, NEW_PIN], false);
    let signer = YubiKeySigner::open(11_000_001, Some(&enrolment.public_key), p.clone()).unwrap();
    assert_eq!(signer.public_key(), &enrolment.public_key);
    card.set_auto_touch(Some(Duration::from_millis(1)));
    card.clear_apdu_log();

    let msg = b"root.json canonical bytes";
    let before = card.touches_consumed();
    let raw = signer.sign_wire(msg, Dialect::Notary).unwrap();
    assert_eq!(raw.len(), 64, "Notary wants raw r||s");
    assert_eq!(
        card.touches_consumed(),
        before + 1,
        "one touch per signature"
    );
    let der = signer.sign_wire(msg, Dialect::TufSpec).unwrap();
    assert_eq!(der[0], 0x30, "TUF wants DER");
    assert_eq!(
        card.touches_consumed(),
        before + 2,
        "one touch per signature"
    );
    for (dialect, sig) in [(Dialect::Notary, &raw), (Dialect::TufSpec, &der)] {
        Key::from_public_key(dialect, enrolment.public_key.clone())
            .verify(dialect, msg, sig)
            .unwrap();
    }
    // Through the tuf-core trait too.
    let sig = signer.sign(msg).unwrap();
    Key::from_public_key(Dialect::TufSpec, enrolment.public_key.clone())
        .verify(Dialect::TufSpec, msg, &sig.to_wire(Dialect::TufSpec))
        .unwrap();
    assert_eq!(card.touches_consumed(), before + 3);
    assert_eq!(
        *p.touch_prompts.lock().unwrap(),
        3,
        "told to touch before each signature"
    );
    assert_eq!(card.count_ins(0x20), 3, "one VERIFY per signature");
    let requests = p.requests.lock().unwrap();
    assert!(requests
        .iter()
        .all(|r| r.retries_left == 3 && r.serial == 11_000_001));
    drop(card);
    wait_empty(first_port());
    let e = signer.sign_checked(msg).unwrap_err();
    assert!(matches!(e, HwError::CardRemoved { .. }), "{e}");
}

#[test]
fn three_des_management_key_on_firmware_5_4() {
    let _g = hw_lock();
    let ca = TestCa::generate("Test PIV Root CA").unwrap();
    let mut cfg = attested_config(&ca, 11_000_002, first_port());
    cfg.version = (5, 4, 3);
    let card = start_card(cfg);
    let status = {
        let mut dev = hw_signer::Device::open(Some(11_000_002)).unwrap();
        assert_eq!(dev.version(), (5, 4, 3));
        dev.credential_status(hw_signer::Credential::ManagementKey)
            .unwrap()
    };
    assert_eq!(status.algorithm, Some(hw_signer::MgmAlgorithm::TripleDes));
    assert!(status.is_default);
    // The AES-192 factory key of 5.7 is refused by a 5.4 card: wrong algorithm.
    let (mut req, _) = full_request(&ca, 11_000_002, (5, 7, 1));
    req.new_mgm = Some(hw_signer::ManagementKey::random(
        hw_signer::MgmAlgorithm::TripleDes,
    ));
    let e = hw_signer::enrol::enrol(&req).unwrap_err();
    assert!(matches!(e, HwError::WrongManagementKey { .. }), "{e}");
    // The 3DES default of 5.4 works and is replaced by a new 3DES key.
    let (mut req, _) = full_request(&ca, 11_000_002, (5, 4, 3));
    req.current_pin = Some(pin(NEW_PIN)); // changed by the first attempt
    req.current_puk = Some(puk(NEW_PUK));
    req.new_mgm = Some(hw_signer::ManagementKey::random(
        hw_signer::MgmAlgorithm::TripleDes,
    ));
    let enrolment = hw_signer::enrol::enrol(&req).unwrap();
    assert!(enrolment.is_attested());
    assert_eq!(enrolment.firmware, (5, 4, 3));
    drop(card);
    wait_empty(first_port());
}

#[test]
fn default_credentials_refused_without_override() {
    let _g = hw_lock();
    let ca = TestCa::generate("Test PIV Root CA").unwrap();
    let card = start_card(attested_config(&ca, 11_000_003, first_port()));
    for which in [
        hw_signer::Credential::Pin,
        hw_signer::Credential::Puk,
        hw_signer::Credential::ManagementKey,
    ] {
        let (mut req, _) = full_request(&ca, 11_000_003, (5, 7, 1));
        match which {
            hw_signer::Credential::Pin => req.new_pin = None,
            hw_signer::Credential::Puk => req.new_puk = None,
            hw_signer::Credential::ManagementKey => req.new_mgm = None,
        }
        card.clear_apdu_log();
        let e = hw_signer::enrol::enrol(&req).unwrap_err();
        match &e {
            HwError::DefaultCredential { which: w, serial } => {
                assert_eq!((*w, *serial), (which, 11_000_003));
            }
            other => panic!("expected DefaultCredential({which}), got {other}"),
        }
        assert!(e.to_string().contains("factory default"), "{e}");
        // Refused before any change, authentication or generation.
        for ins in [0x24, 0x87, 0xff, 0x47] {
            assert_eq!(card.count_ins(ins), 0, "INS {ins:02x} sent");
        }
    }
    // The explicit override keeps the defaults and enrols.
    let (mut req, _) = full_request(&ca, 11_000_003, (5, 7, 1));
    req.new_pin = None;
    req.new_puk = None;
    req.new_mgm = None;
    req.allow_default_credentials = true;
    let enrolment = hw_signer::enrol::enrol(&req).unwrap();
    assert!(enrolment.is_attested());
    // A second enrolment does not overwrite slot 9c silently.
    let e = hw_signer::enrol::enrol(&req).unwrap_err();
    assert!(matches!(e, HwError::SlotOccupied { slot: 0x9c, .. }), "{e}");
    drop(card);
    wait_empty(first_port());
}

#[test]
fn cached_touch_policy_refused_at_enrolment_and_before_signing() {
    let _g = hw_lock();
    let ca = TestCa::generate("Test PIV Root CA").unwrap();
    let card = start_card(attested_config(&ca, 11_000_004, first_port()));
    for (pin_policy, touch) in [
        (hw_signer::PinPolicy::Always, hw_signer::TouchPolicy::Cached),
        (hw_signer::PinPolicy::Always, hw_signer::TouchPolicy::Never),
        (hw_signer::PinPolicy::Never, hw_signer::TouchPolicy::Always),
    ] {
        let (mut req, _) = full_request(&ca, 11_000_004, (5, 7, 1));
        req.touch_policy = touch;
        req.pin_policy = pin_policy;
        let e = hw_signer::enrol::enrol(&req).unwrap_err();
        assert!(matches!(e, HwError::PolicyRefused { .. }), "{e}");
    }
    assert_eq!(card.count_ins(0x47), 0, "no GENERATE sent");

    // A device whose slot 9c was set up elsewhere with touch CACHED: refused before signing.
    {
        let mut yk = yubikey::YubiKey::open_by_serial(yubikey::Serial(11_000_004)).unwrap();
        yk.authenticate(&yubikey::MgmKey::get_default(&yk).unwrap())
            .unwrap();
        yubikey::piv::generate(
            &mut yk,
            yubikey::piv::SlotId::Signature,
            yubikey::piv::AlgorithmId::EccP256,
            yubikey::PinPolicy::Always,
            yubikey::TouchPolicy::Cached,
        )
        .unwrap();
    }
    card.clear_apdu_log();
    let e = YubiKeySigner::open(11_000_004, None, prompt()).unwrap_err();
    assert!(
        matches!(
            e,
            HwError::PolicyRefused {
                touch: hw_signer::TouchPolicy::Cached,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("CACHED"), "{e}");
    assert_eq!(card.count_ins(0x20), 0, "no VERIFY");
    assert_eq!(card.count_ins(0x87), 0, "no signature");
    drop(card);
    wait_empty(first_port());
}

#[test]
fn wrong_pin_shows_retries_and_is_never_retried_then_blocked() {
    let _g = hw_lock();
    let ca = TestCa::generate("Test PIV Root CA").unwrap();
    let (card, enrolment) = enrolled_card(&ca, 11_000_005, first_port());
    card.set_auto_touch(Some(Duration::ZERO));
    let p = ScriptedPrompt::new(&["999999", "888888", "777777"], false);
    let signer = YubiKeySigner::open(11_000_005, Some(&enrolment.public_key), p.clone()).unwrap();
    card.clear_apdu_log();

    let e = signer.sign_checked(b"x").unwrap_err();
    assert!(
        matches!(
            e,
            HwError::WrongPin {
                retries_left: 2,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("2 attempt(s) left"), "{e}");
    assert!(e.to_string().contains("not retried"), "{e}");
    assert_eq!(
        card.count_ins(0x20),
        1,
        "exactly one VERIFY: no automatic retry"
    );
    assert_eq!(card.touches_consumed(), 0);

    let e = signer.sign_checked(b"x").unwrap_err();
    assert!(
        matches!(
            e,
            HwError::WrongPin {
                retries_left: 1,
                ..
            }
        ),
        "{e}"
    );

    // One attempt left: the prompt does not confirm, so nothing is sent.
    card.clear_apdu_log();
    let e = signer.sign_checked(b"x").unwrap_err();
    assert!(matches!(e, HwError::LastAttemptNotConfirmed { .. }), "{e}");
    assert_eq!(card.count_ins(0x20), 0);

    // Confirmed last attempt, wrong again: blocked, with what to do.
    let p2 = ScriptedPrompt::new(&["777777"], true);
    let signer2 = YubiKeySigner::open(11_000_005, None, p2).unwrap();
    let e = signer2.sign_checked(b"x").unwrap_err();
    assert!(
        matches!(e, HwError::PinBlocked { serial: 11_000_005 }),
        "{e}"
    );
    let msg = e.to_string();
    assert!(msg.contains("PUK") && msg.contains("unblock"), "{msg}");
    assert!(msg.contains("nothing was reset"), "{msg}");
    // Blocked: refused from the counter, no PIN asked, no VERIFY.
    card.clear_apdu_log();
    let p3 = ScriptedPrompt::new(&[NEW_PIN], true);
    let signer3 = YubiKeySigner::open(11_000_005, None, p3.clone()).unwrap();
    let e = signer3.sign_checked(b"x").unwrap_err();
    assert!(matches!(e, HwError::PinBlocked { .. }), "{e}");
    assert!(p3.requests.lock().unwrap().is_empty(), "PIN not asked");
    assert_eq!(card.count_ins(0x20), 0);
    assert_eq!(card.touches_consumed(), 0, "no signature at all");
    // The PUK unblocks it; the key is intact.
    {
        let mut yk = yubikey::YubiKey::open_by_serial(yubikey::Serial(11_000_005)).unwrap();
        yk.unblock_pin(NEW_PUK.as_bytes(), NEW_PIN.as_bytes())
            .unwrap();
    }
    let ok = YubiKeySigner::open(11_000_005, Some(&enrolment.public_key), prompt()).unwrap();
    ok.sign_checked(b"x").unwrap();
    drop_signers_first([signer, signer2, signer3, ok]);
    drop(card);
    wait_empty(first_port());
}

#[test]
fn bad_pin_length_refused_before_sending() {
    let _g = hw_lock();
    let ca = TestCa::generate("Test PIV Root CA").unwrap();
    let (card, enrolment) = enrolled_card(&ca, 11_000_006, first_port());
    card.set_auto_touch(Some(Duration::ZERO));
    let p = ScriptedPrompt::new(&["12345", "123456789"], false);
    let signer = YubiKeySigner::open(11_000_006, Some(&enrolment.public_key), p).unwrap();
    card.clear_apdu_log();
    for len in [5, 9] {
        let e = signer.sign_checked(b"x").unwrap_err();
        match e {
            HwError::SecretLength { len: l, .. } => assert_eq!(l, len),
            other => panic!("expected SecretLength, got {other}"),
        }
        assert!(e_text(len).contains("nothing was sent"));
    }
    assert_eq!(card.count_ins(0x20), 0, "the card saw no VERIFY");
    assert_eq!(card.count_ins(0x87), 0, "the card saw no signature request");
    // The counter is untouched.
    let mut dev = hw_signer::Device::open(Some(11_000_006)).unwrap();
    let st = dev.credential_status(hw_signer::Credential::Pin).unwrap();
    assert_eq!(st.retries_left, Some(3));
    drop(dev);
    drop_signers_first([signer]);
    drop(card);
    wait_empty(first_port());
}

/// Signers keep their PC/SC session open between signatures. Pulling a virtual card under
/// an open session leaves Debian 12's vpcd with the reader busy (docs/hw-signer.md,
/// "Limits"), so tests close the sessions before they pull the card.
fn drop_signers_first<const N: usize>(signers: [YubiKeySigner; N]) {
    drop(signers);
}

fn e_text(len: usize) -> String {
    HwError::SecretLength {
        which: hw_signer::Credential::Pin,
        len,
    }
    .to_string()
}

#[test]
fn no_touch_within_timeout_gives_clear_error_and_no_signature() {
    let _g = hw_lock();
    let ca = TestCa::generate("Test PIV Root CA").unwrap();
    let mut cfg = attested_config(&ca, 11_000_007, first_port());
    cfg.touch_timeout = Duration::from_millis(1200);
    let card = start_card(cfg);
    let (req, _) = full_request(&ca, 11_000_007, (5, 7, 1));
    let enrolment = hw_signer::enrol::enrol(&req).unwrap();
    let signer = YubiKeySigner::open(11_000_007, Some(&enrolment.public_key), prompt()).unwrap();

    let started = std::time::Instant::now();
    let e = signer.sign_checked(b"root").unwrap_err();
    let waited = started.elapsed();
    assert!(
        matches!(e, HwError::TouchTimeout { serial: 11_000_007 }),
        "{e}"
    );
    assert!(e.to_string().contains("not touched in time"), "{e}");
    assert!(waited >= Duration::from_millis(1200), "{waited:?}");
    assert_eq!(card.touches_consumed(), 0);
    assert_eq!(card.touch_requests(), 1);

    // A touch while the card blinks lets exactly one signature through.
    std::thread::scope(|s| {
        let h = s.spawn(|| signer.sign_wire(b"root", Dialect::Notary));
        assert!(card.wait_for_touch_request(Duration::from_secs(5)));
        card.touch();
        let sig = h.join().unwrap().unwrap();
        assert_eq!(sig.len(), 64);
    });
    assert_eq!(card.touches_consumed(), 1);
    drop_signers_first([signer]);
    drop(card);
    wait_empty(first_port());
}

#[test]
fn card_removed_between_enrolment_and_signing() {
    let _g = hw_lock();
    let ca = TestCa::generate("Test PIV Root CA").unwrap();
    let (mut card, enrolment) = enrolled_card(&ca, 11_000_008, first_port());
    let p = ScriptedPrompt::new(&[NEW_PIN], false);
    let signer = YubiKeySigner::open(11_000_008, Some(&enrolment.public_key), p.clone()).unwrap();
    card.remove();
    wait_empty(first_port());
    let e = signer.sign_checked(b"root").unwrap_err();
    assert!(
        matches!(
            e,
            HwError::CardRemoved {
                serial: 11_000_008,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("removed"), "{e}");
    assert!(
        p.requests.lock().unwrap().is_empty(),
        "no PIN asked for a missing card"
    );
    // Pulling a card while it waits for a touch is left out: Debian 12's vpcd then keeps
    // the reader busy until pcscd restarts (docs/hw-signer.md, "Limits").
}

#[test]
fn two_cards_listed_and_opened_by_serial_one_touch_per_signature() {
    let _g = hw_lock();
    let ca = TestCa::generate("Test PIV Root CA").unwrap();
    let a = start_card(attested_config(&ca, 22_000_001, first_port()));
    let b = start_card(attested_config(&ca, 22_000_002, second_port()));
    let mut serials: Vec<u32> = hw_signer::list_devices()
        .unwrap()
        .iter()
        .map(|d| d.serial)
        .collect();
    serials.sort_unstable();
    assert_eq!(serials, vec![22_000_001, 22_000_002]);
    let e = hw_signer::Device::open(None).unwrap_err();
    assert!(matches!(e, HwError::SeveralDevices { .. }), "{e}");
    assert!(e.to_string().contains("22000001") && e.to_string().contains("22000002"));
    let e = hw_signer::Device::open(Some(33)).unwrap_err();
    assert!(
        matches!(e, HwError::SerialNotFound { serial: 33, .. }),
        "{e}"
    );

    let mut signers = Vec::new();
    for (card, serial) in [(&a, 22_000_001u32), (&b, 22_000_002u32)] {
        let (req, _) = full_request(&ca, serial, (5, 7, 1));
        let enrolment = hw_signer::enrol::enrol(&req).unwrap();
        assert_eq!(enrolment.attestation.as_ref().unwrap().1.serial, serial);
        card.set_auto_touch(Some(Duration::ZERO));
        signers.push((
            YubiKeySigner::open(serial, Some(&enrolment.public_key), prompt()).unwrap(),
            card,
        ));
    }
    assert_ne!(
        signers[0].0.public_key(),
        signers[1].0.public_key(),
        "distinct devices, distinct keys"
    );
    let root = b"a root needing 2 signatures";
    for (signer, card) in &signers {
        let before = (a.touches_consumed(), b.touches_consumed());
        let sig = signer.sign(root).unwrap();
        Key::from_public_key(Dialect::Notary, signer.public_key().clone())
            .verify(Dialect::Notary, root, &sig.to_wire(Dialect::Notary))
            .unwrap();
        let after = (a.touches_consumed(), b.touches_consumed());
        let total = (after.0 - before.0) + (after.1 - before.1);
        assert_eq!(total, 1, "one touch, on the signing device only");
        assert_eq!(card.touches_consumed(), 1);
    }
    drop(signers);
    drop(a);
    drop(b);
    wait_empty(first_port());
    wait_empty(second_port());
}

#[test]
fn import_needs_explicit_flag_and_is_unattested() {
    let _g = hw_lock();
    let ca = TestCa::generate("Test PIV Root CA").unwrap();
    let card = start_card(attested_config(&ca, 11_000_009, first_port()));
    let soft = tuf_core::crypto::SoftwareSigner::generate_p256();
    let pkcs8 = soft.to_pkcs8_der();
    let (req, _) = full_request(&ca, 11_000_009, (5, 7, 1));
    let e = hw_signer::enrol::import_unattested(&req, &pkcs8, false).unwrap_err();
    assert!(matches!(e, HwError::ImportRefused), "{e}");
    assert!(e.to_string().contains("cannot be attested"), "{e}");
    assert_eq!(card.count_ins(0xfe), 0, "no IMPORT sent");
    let enrolment = hw_signer::enrol::import_unattested(&req, &pkcs8, true).unwrap();
    assert!(!enrolment.is_attested());
    assert_eq!(&enrolment.public_key, soft.public_key());
    // The device will not attest an imported key.
    let mut dev = hw_signer::Device::open(Some(11_000_009)).unwrap();
    assert_eq!(
        dev.slot_info(0x9c).unwrap().unwrap().origin,
        Some(hw_signer::KeyOrigin::Imported)
    );
    assert!(hw_signer::enrol::read_attestation(&mut dev).is_err());
    drop(dev);
    // It still signs with touch and PIN.
    card.set_auto_touch(Some(Duration::ZERO));
    let signer = YubiKeySigner::open(11_000_009, Some(soft.public_key()), prompt()).unwrap();
    signer.sign_checked(b"x").unwrap();
    assert_eq!(card.touches_consumed(), 1);
    drop_signers_first([signer]);
    drop(card);
    wait_empty(first_port());
}

#[test]
fn aes256_management_key_and_attestation_from_device() {
    let _g = hw_lock();
    let ca = TestCa::generate("Test PIV Root CA").unwrap();
    let card = start_card(attested_config(&ca, 11_000_010, first_port()));
    let (mut req, _) = full_request(&ca, 11_000_010, (5, 7, 1));
    req.new_mgm = Some(hw_signer::ManagementKey::random(
        hw_signer::MgmAlgorithm::Aes256,
    ));
    let enrolment = hw_signer::enrol::enrol(&req).unwrap();
    let mut dev = hw_signer::Device::open(Some(11_000_010)).unwrap();
    let st = dev
        .credential_status(hw_signer::Credential::ManagementKey)
        .unwrap();
    assert_eq!(st.algorithm, Some(hw_signer::MgmAlgorithm::Aes256));
    assert!(!st.is_default);
    assert!(
        !dev.credential_status(hw_signer::Credential::Pin)
            .unwrap()
            .is_default
    );
    assert!(
        !dev.credential_status(hw_signer::Credential::Puk)
            .unwrap()
            .is_default
    );
    // The device's attestation, read again, verifies against the test CA but not Yubico's.
    let bundle = hw_signer::enrol::read_attestation(&mut dev).unwrap();
    let expect = hw_signer::attestation::Expectation {
        slot: 0x9c,
        serial: Some(11_000_010),
        public_key: &enrolment.public_key,
        now: std::time::SystemTime::now(),
    };
    hw_signer::attestation::verify(&bundle, &req.pinned_cas, &expect).unwrap();
    let e = hw_signer::attestation::verify(
        &bundle,
        &hw_signer::attestation::PinnedCas::yubico(),
        &expect,
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            hw_signer::attestation::AttestationError::UnpinnedCa { .. }
        ),
        "{e}"
    );
    drop(dev);
    drop(card);
    wait_empty(first_port());
}

/// The root of a repository with threshold 2 on two YubiKeys (distinct serials): one touch
/// on each device per root signature, and the client workflow accepts the result. Both
/// dialects; in Notary's, each root key is first wrapped in a self-signed certificate (one
/// more touch per device, made before the root is signed).
#[test]
fn threshold_two_root_on_two_cards_one_touch_per_root_signature() {
    use tuf_core::editor::{notary_root_key, InitialKeys, Lifetimes, RepoEditor, SignPlan};
    use tuf_core::name::Gun;
    use tuf_core::role::{Threshold, TopRole};
    use tuf_core::trusted_set::{RepoConfig, TrustedSet};

    let _g = hw_lock();
    let ca = TestCa::generate("Test PIV Root CA").unwrap();
    let (a, ea) = enrolled_card(&ca, 33_000_001, first_port());
    let b = start_card(attested_config(&ca, 33_000_002, second_port()));
    let (req, _) = full_request(&ca, 33_000_002, (5, 7, 1));
    let eb = hw_signer::enrol::enrol(&req).unwrap();
    a.set_auto_touch(Some(Duration::ZERO));
    b.set_auto_touch(Some(Duration::ZERO));
    let ya = YubiKeySigner::open(33_000_001, Some(&ea.public_key), prompt()).unwrap();
    let yb = YubiKeySigner::open(33_000_002, Some(&eb.public_key), prompt()).unwrap();
    let online = tuf_core::crypto::SoftwareSigner::generate_ed25519();
    let now = chrono::Utc::now();

    for dialect in [Dialect::TufSpec, Dialect::Notary] {
        let gun = Gun::parse("example.com/app").unwrap();
        let (ta, tb) = (a.touches_consumed(), b.touches_consumed());
        let root_keys = match dialect {
            Dialect::TufSpec => vec![
                Key::from_public_key(dialect, ya.public_key().clone()),
                Key::from_public_key(dialect, yb.public_key().clone()),
            ],
            Dialect::Notary => {
                let life = Lifetimes::default_for(dialect).root;
                vec![
                    notary_root_key(&ya, &gun, now, life).unwrap(),
                    notary_root_key(&yb, &gun, now, life).unwrap(),
                ]
            }
        };
        let cert_touches = u64::from(dialect == Dialect::Notary);
        assert_eq!(a.touches_consumed() - ta, cert_touches);
        assert_eq!(b.touches_consumed() - tb, cert_touches);
        let online_key = Key::from_public_key(dialect, online.public_key().clone());
        let mut editor = RepoEditor::create(
            dialect,
            InitialKeys {
                root: root_keys.clone(),
                targets: vec![online_key.clone()],
                snapshot: vec![online_key.clone()],
                timestamp: vec![online_key],
            },
            now,
        );
        editor
            .set_role_keys(TopRole::Root, root_keys, Threshold::new(2).unwrap())
            .unwrap();
        let (ta, tb) = (a.touches_consumed(), b.touches_consumed());
        let files = editor
            .sign(&[&ya, &yb, &online], now, SignPlan::default())
            .unwrap();
        assert_eq!(
            a.touches_consumed() - ta,
            1,
            "{dialect:?}: one touch on device A"
        );
        assert_eq!(
            b.touches_consumed() - tb,
            1,
            "{dialect:?}: one touch on device B"
        );
        let get = |role: &str| {
            files
                .iter()
                .find(|f| f.role == role)
                .map(|f| f.bytes.clone())
                .unwrap()
        };
        let config = match dialect {
            Dialect::TufSpec => RepoConfig::tuf(),
            Dialect::Notary => RepoConfig::notary(gun),
        };
        let mut set = TrustedSet::new(config, &get("root"), now).unwrap();
        set.update_timestamp(&get("timestamp")).unwrap();
        set.update_snapshot(&get("snapshot")).unwrap();
        set.update_targets(&get("targets")).unwrap();
    }
    // One device alone cannot meet the threshold: the editor refuses to produce the root.
    // (tuf-core's editor asks the signers before it counts them, so device A is touched
    // once for nothing; checking the threshold against the signers first is left to the
    // editor/CLI work.)
    let mut editor = RepoEditor::create(
        Dialect::TufSpec,
        InitialKeys {
            root: vec![
                Key::from_public_key(Dialect::TufSpec, ya.public_key().clone()),
                Key::from_public_key(Dialect::TufSpec, yb.public_key().clone()),
            ],
            targets: vec![Key::from_public_key(
                Dialect::TufSpec,
                online.public_key().clone(),
            )],
            snapshot: vec![Key::from_public_key(
                Dialect::TufSpec,
                online.public_key().clone(),
            )],
            timestamp: vec![Key::from_public_key(
                Dialect::TufSpec,
                online.public_key().clone(),
            )],
        },
        now,
    );
    editor
        .set_role_keys(
            TopRole::Root,
            vec![
                Key::from_public_key(Dialect::TufSpec, ya.public_key().clone()),
                Key::from_public_key(Dialect::TufSpec, yb.public_key().clone()),
            ],
            Threshold::new(2).unwrap(),
        )
        .unwrap();
    let ta = a.touches_consumed();
    assert!(editor
        .sign(&[&ya, &online], now, SignPlan::default())
        .is_err());
    eprintln!(
        "touches on A after a refused signing: {}",
        a.touches_consumed() - ta
    );
    drop_signers_first([ya, yb]);
    drop(a);
    drop(b);
    wait_empty(first_port());
    wait_empty(second_port());
}
