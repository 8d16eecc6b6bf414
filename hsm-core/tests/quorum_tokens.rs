//! Quorum tokens through the HSM: dark until M cards activate them, then PIN login as usual.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use cryptoki_sys as ck;
use hsm_core::Error;
use hsm_core::kdf::KdfParams;
use hsm_core::mechanism::Mechanism;
use hsm_core::quorum::{self, OpenedCard, QuorumError};
use hsm_core::secret::SecretBytes;
use hsm_core::token::NewQuorum;

fn card_pins(n: usize) -> Vec<SecretBytes> {
    (1..=n)
        .map(|i| SecretBytes::new(format!("card-pin-{i}").into_bytes()))
        .collect()
}

fn open(cards: &[Vec<u8>], pins: &[SecretBytes], which: &[usize]) -> Vec<OpenedCard> {
    which
        .iter()
        .map(|&i| quorum::open_card(&cards[i], pins[i].expose()).unwrap())
        .collect()
}

fn quorum_token(hsm: &hsm_core::Hsm, label: &str, pins: &[SecretBytes]) -> (u64, Vec<Vec<u8>>) {
    let quorum = NewQuorum {
        threshold: 3,
        card_pins: pins,
        card_kdf: KdfParams::TESTING,
    };
    hsm.create_quorum_token(label, SO_PIN, USER_PIN, quorum)
        .unwrap()
}

#[test]
fn a_quorum_token_is_dark_until_three_cards_activate_it() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let pins = card_pins(5);
    let (slot, cards) = quorum_token(&hsm, "root", &pins);
    assert_eq!(cards.len(), 5);
    let info = hsm.token_info(slot).unwrap();
    assert_eq!(info.model, "quorum 3 of 5");
    assert_eq!(info.summary.quorum, Some((3, 5)));

    let session = hsm.open_session(slot, true).unwrap();
    assert!(matches!(
        hsm.login(session, ck::CKU_USER, USER_PIN),
        Err(Error::AwaitingQuorum { threshold: 3 })
    ));
    assert_eq!(
        hsm.token_info(slot).unwrap().summary.flags & ck::CKF_USER_PIN_COUNT_LOW,
        0,
        "no PIN try was spent"
    );
    assert!(matches!(
        hsm.activate(slot, &open(&cards, &pins, &[0, 4])),
        Err(Error::Quorum(QuorumError::TooFewCards { have: 2, need: 3 }))
    ));
    assert!(matches!(
        hsm.activate(slot, &open(&cards, &pins, &[0, 4, 4])),
        Err(Error::Quorum(QuorumError::DuplicateCard { card: 5 }))
    ));
    hsm.activate(slot, &open(&cards, &pins, &[0, 2, 4]))
        .unwrap();
    hsm.login(session, ck::CKU_USER, USER_PIN).unwrap();
    let (public, private) = generate_pair(&hsm, session, "ksk", true).unwrap();
    let mechanism = Mechanism::new(ck::CKM_SHA256_RSA_PKCS);
    hsm.sign_init(session, &mechanism, private).unwrap();
    let signature = hsm.sign(session, b"dnskey rrset").unwrap();
    hsm.verify_init(session, &mechanism, public).unwrap();
    hsm.verify(session, b"dnskey rrset", &signature).unwrap();

    // Another process starts dark again; any other three cards bring the same key back.
    let other = test_hsm(dir.path());
    let session = other.open_session(slot, true).unwrap();
    assert!(matches!(
        other.login(session, ck::CKU_USER, USER_PIN),
        Err(Error::AwaitingQuorum { .. })
    ));
    other
        .activate(slot, &open(&cards, &pins, &[1, 2, 3]))
        .unwrap();
    other.login(session, ck::CKU_USER, USER_PIN).unwrap();
    let keys = all_objects(&other, session, &vec![label_attr("ksk")]);
    assert_eq!(keys.len(), 2);
    other
        .sign_init(session, &mechanism, private_of(&other, session, &keys))
        .unwrap();
    assert_eq!(
        other.sign(session, b"dnskey rrset").unwrap(),
        signature,
        "same key, deterministic RSA"
    );
}

fn private_of(hsm: &hsm_core::Hsm, session: u64, handles: &[u64]) -> u64 {
    *handles
        .iter()
        .find(|h| {
            let class = hsm.get_attributes(session, **h, &[ck::CKA_CLASS]).unwrap();
            class[0].as_ref().unwrap() == &ck::CKO_PRIVATE_KEY.to_ne_bytes().to_vec()
        })
        .unwrap()
}

#[test]
fn cards_of_another_token_do_not_activate() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let pins = card_pins(5);
    let (slot, _) = quorum_token(&hsm, "one", &pins);
    let (_, other_cards) = quorum_token(&hsm, "two", &pins);
    assert!(matches!(
        hsm.activate(slot, &open(&other_cards, &pins, &[0, 1, 2])),
        Err(Error::Quorum(QuorumError::ForeignToken { .. }))
    ));
    assert!(
        !hsm.slot_token(slot).unwrap().unwrap().is_activated(),
        "nothing left behind"
    );
}

#[test]
fn private_keys_of_a_quorum_token_are_sealed_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let pins = card_pins(3);
    let quorum = NewQuorum {
        threshold: 2,
        card_pins: &pins,
        card_kdf: KdfParams::TESTING,
    };
    let (slot, cards) = hsm
        .create_quorum_token("sealed", SO_PIN, USER_PIN, quorum)
        .unwrap();
    hsm.activate(slot, &open(&cards, &pins, &[0, 1])).unwrap();
    let session = user_session(&hsm, slot);
    let (_, private) = generate_pair(&hsm, session, "k", true).unwrap();
    // The private exponent is sensitive, so look for the (public) modulus instead: it is in
    // the clear only in the public key's record.
    let modulus = hsm
        .get_attributes(session, private, &[ck::CKA_MODULUS])
        .unwrap()
        .remove(0)
        .unwrap();
    let mut private_files = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let objects = entry.unwrap().path().join("objects");
        for file in std::fs::read_dir(objects).into_iter().flatten() {
            let bytes = std::fs::read(file.unwrap().path()).unwrap();
            if !bytes.windows(modulus.len()).any(|w| w == modulus) {
                private_files += 1;
            }
        }
    }
    assert_eq!(
        private_files, 1,
        "the private key's record (and so its modulus) is sealed; the public key's is not"
    );
}

/// A dialog that answers from a script, as an officer at the terminal would.
struct Scripted {
    cards: std::collections::VecDeque<std::path::PathBuf>,
    secrets: std::collections::VecDeque<&'static str>,
    told: Vec<String>,
}

impl hsm_core::hsm::dialog::Dialog for Scripted {
    fn card_path(
        &mut self,
        _officer: usize,
        _threshold: u8,
    ) -> hsm_core::Result<std::path::PathBuf> {
        Ok(self.cards.pop_front().unwrap())
    }
    fn secret(&mut self, _question: &str) -> hsm_core::Result<SecretBytes> {
        Ok(SecretBytes::from_slice(
            self.secrets.pop_front().unwrap().as_bytes(),
        ))
    }
    fn tell(&mut self, message: &str) {
        self.told.push(message.to_string());
    }
}

#[test]
fn protected_authentication_path_asks_for_cards_then_the_pin() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = hsm_core::Config::with_token_dir(dir.path().join("tokens"));
    config.pin_kdf = KdfParams::TESTING;
    config.card_kdf = KdfParams::TESTING;
    config.protected_authentication_path = vec!["pad".into()];
    let hsm = hsm_core::Hsm::new(config).unwrap();
    let pins = card_pins(3);
    let quorum = NewQuorum {
        threshold: 2,
        card_pins: &pins,
        card_kdf: KdfParams::TESTING,
    };
    let (slot, cards) = hsm
        .create_quorum_token("pad", SO_PIN, USER_PIN, quorum)
        .unwrap();
    assert_ne!(
        hsm.token_info(slot).unwrap().summary.flags & ck::CKF_PROTECTED_AUTHENTICATION_PATH,
        0
    );
    let paths: Vec<_> = cards
        .iter()
        .enumerate()
        .map(|(i, bytes)| {
            let path = dir.path().join(format!("card-{i}"));
            std::fs::write(&path, bytes).unwrap();
            path
        })
        .collect();
    let session = hsm.open_session(slot, true).unwrap();
    let mut dialog = Scripted {
        // Officer 1 first gives a missing file, then card 1 with a wrong PIN, then card 1
        // with its PIN; officer 2 gives card 3. Then the user PIN.
        cards: [
            dir.path().join("nope"),
            paths[0].clone(),
            paths[0].clone(),
            paths[2].clone(),
        ]
        .into(),
        secrets: ["wrong-pin", "card-pin-1", "card-pin-3", "user-secret-1234"].into(),
        told: Vec::new(),
    };
    hsm.login_with_dialog(session, ck::CKU_USER, &mut dialog)
        .unwrap();
    assert_eq!(dialog.told.len(), 2, "{:?}", dialog.told);
    assert!(dialog.told[1].contains("wrong PIN"), "{:?}", dialog.told);
    generate_pair(&hsm, session, "padded", false).unwrap();
    // A token without the protected path refuses a NULL PIN.
    let (plain, _) = quorum_token(&hsm, "plain", &card_pins(5));
    let other = hsm.open_session(plain, true).unwrap();
    assert!(matches!(
        hsm.login_with_dialog(other, ck::CKU_USER, &mut dialog),
        Err(Error::ArgumentsBad(_))
    ));
}
