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
    wait_gone(11_000_001);
    let e = signer.sign_checked(msg).unwrap_err();
    assert!(matches!(e, HwError::CardRemoved { .. }), "{e}");
}
