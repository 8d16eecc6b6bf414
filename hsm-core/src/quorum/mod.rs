//! M-of-N quorum over the token master key (TMK).
//!
//! At initialisation the TMK is split with Shamir's scheme and each share goes onto a credential
//! card sealed under its holder's PIN. To unlock the token, M holders open their cards and the
//! TMK is rebuilt. The token keeps only a [`QuorumRecord`] (policy, card-set generation and a
//! key-check value), enough to tell which cards are acceptable and whether the result is right.

pub mod card;
pub mod shamir;

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::aead::AeadError;
use crate::kdf::{self, KdfError, KdfParams};
use crate::secret::{SecretBytes, Tmk};

pub use card::{CardHeader, OpenedCard, open_card, read_card_header};
pub use shamir::{ShamirError, Share};

/// Errors of the quorum; messages are shown to operators and never contain secrets.
#[derive(Debug, thiserror::Error)]
pub enum QuorumError {
    #[error("not enough credential cards: {have} presented, {need} required")]
    TooFewCards { have: usize, need: usize },
    #[error("wrong PIN for card {card}")]
    WrongPin { card: u8 },
    #[error("card file is damaged or was tampered with: {0}")]
    TamperedCard(String),
    #[error("card {card} belongs to token '{card_token}', not to token '{token}'")]
    ForeignToken {
        card: u8,
        card_token: String,
        token: String,
    },
    #[error("card {card} was presented more than once")]
    DuplicateCard { card: u8 },
    #[error(
        "card {card} is from card set generation {card_generation}, which was superseded by \
         generation {current}: use the current cards"
    )]
    SupersededCardSet {
        card: u8,
        card_generation: u32,
        current: u32,
    },
    #[error(
        "card {card} is from card set generation {card_generation}, newer than the token's \
         generation {current}: the token's metadata is older than its cards (restored from an \
         old backup?)"
    )]
    NewerCardSet {
        card: u8,
        card_generation: u32,
        current: u32,
    },
    #[error(
        "the cards rebuilt a key that fails the token's key check: they do not hold this \
         token's current master key"
    )]
    KcvMismatch,
    #[error("invalid quorum policy: {0}")]
    InvalidPolicy(String),
    #[error("invalid token identity for cards: {0}")]
    InvalidTokenInfo(String),
    #[error("malformed card: {0}")]
    Malformed(String),
    #[error("card key derivation: {0}")]
    Kdf(#[from] KdfError),
    #[error("card encryption: {0}")]
    Aead(#[from] AeadError),
    #[error("secret sharing: {0}")]
    Shamir(#[from] ShamirError),
    #[error("the operating system's random number generator failed")]
    Rng,
}

/// M-of-N: any `threshold` of `count` cards unlock the token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuorumPolicy {
    pub threshold: u8,
    pub count: u8,
}

impl QuorumPolicy {
    /// Checks 1 <= threshold <= count <= 255.
    pub fn new(threshold: u8, count: usize) -> Result<Self, QuorumError> {
        if count == 0 {
            return Err(QuorumError::InvalidPolicy(
                "at least one card is required".into(),
            ));
        }
        let count = u8::try_from(count).map_err(|_| {
            QuorumError::InvalidPolicy(format!("{count} cards requested, at most 255 supported"))
        })?;
        if threshold == 0 {
            return Err(QuorumError::InvalidPolicy(
                "threshold must be at least 1 card".into(),
            ));
        }
        if threshold > count {
            return Err(QuorumError::InvalidPolicy(format!(
                "threshold {threshold} is larger than the number of cards {count}"
            )));
        }
        Ok(Self { threshold, count })
    }
}

impl fmt::Display for QuorumPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-of-{}", self.threshold, self.count)
    }
}

/// What the token's metadata keeps: enough to check a quorum, nothing secret.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct QuorumRecord {
    pub threshold: u8,
    pub count: u8,
    pub generation: u32,
    pub kcv: [u8; 16],
}

impl QuorumRecord {
    /// The record's policy, validated (the record comes from a file).
    pub fn policy(&self) -> Result<QuorumPolicy, QuorumError> {
        QuorumPolicy::new(self.threshold, usize::from(self.count))
    }
}

/// Fingerprint of the TMK to recognise the right key; a one-way hash reveals nothing of it.
pub fn key_check_value(tmk: &Tmk) -> [u8; 16] {
    let digest = Sha256::new()
        .chain_update(b"strongroom-kcv-v1")
        .chain_update(tmk.expose())
        .finalize();
    let mut kcv = [0u8; 16];
    kcv.copy_from_slice(&digest[..16]);
    kcv
}

/// Splits `tmk` into `pins.len()` cards (count N = pins.len()), threshold M; returns the card
/// files' bytes (index i = card number i+1) and the record to store.
pub fn write_cards(
    tmk: &Tmk,
    token_serial: &str,
    token_label: &str,
    generation: u32,
    threshold: u8,
    pins: &[SecretBytes],
    kdf: KdfParams,
) -> Result<(Vec<Vec<u8>>, QuorumRecord), QuorumError> {
    let policy = QuorumPolicy::new(threshold, pins.len())?;
    card::check_token_info(token_serial, token_label).map_err(QuorumError::InvalidTokenInfo)?;
    if let Some(i) = pins.iter().position(SecretBytes::is_empty) {
        return Err(QuorumError::InvalidPolicy(format!(
            "the PIN for card {} is empty",
            i + 1
        )));
    }
    // Fail before any expensive work if the parameters are unusable.
    kdf.validate()?;

    let shares = shamir::split(tmk.expose(), policy.threshold, policy.count)?;
    let mut files = Vec::with_capacity(shares.len());
    for (share, pin) in shares.iter().zip(pins) {
        let header = CardHeader::new_random_salt(
            token_serial,
            token_label,
            generation,
            share.x,
            policy.threshold,
            policy.count,
            kdf,
        )?;
        files.push(card::seal_card(&header, share, pin.expose())?);
    }
    let record = QuorumRecord {
        threshold: policy.threshold,
        count: policy.count,
        generation,
        kcv: key_check_value(tmk),
    };
    Ok((files, record))
}

/// Rebuilds the TMK from opened cards for the token described by (`token_serial`, `record`).
///
/// Checks, returning the first failure: foreign token, card-set generation (older: superseded,
/// newer: stale metadata), card quorum matching the record, the same card twice, too few cards;
/// then combines all given cards and verifies the key-check value.
pub fn reconstruct(
    token_serial: &str,
    record: &QuorumRecord,
    cards: &[OpenedCard],
) -> Result<Tmk, QuorumError> {
    let policy = record.policy().map_err(|e| {
        QuorumError::InvalidPolicy(format!(
            "token '{token_serial}' has a broken quorum record ({e})"
        ))
    })?;
    for c in cards {
        let h = &c.header;
        if h.token_serial != token_serial {
            return Err(QuorumError::ForeignToken {
                card: h.card_number,
                card_token: h.token_serial.clone(),
                token: token_serial.to_owned(),
            });
        }
    }
    for c in cards {
        let h = &c.header;
        if h.generation < record.generation {
            return Err(QuorumError::SupersededCardSet {
                card: h.card_number,
                card_generation: h.generation,
                current: record.generation,
            });
        }
        if h.generation > record.generation {
            return Err(QuorumError::NewerCardSet {
                card: h.card_number,
                card_generation: h.generation,
                current: record.generation,
            });
        }
    }
    for c in cards {
        let h = &c.header;
        if h.threshold != policy.threshold || h.count != policy.count || h.card_number > h.count {
            return Err(QuorumError::Malformed(format!(
                "card {} of token '{token_serial}' is card {} of a {}-of-{} set, but the token's \
                 card set is {policy}",
                h.card_number, h.card_number, h.threshold, h.count
            )));
        }
    }
    let mut seen = [false; 256];
    for c in cards {
        let n = c.header.card_number;
        if std::mem::replace(&mut seen[usize::from(n)], true) {
            return Err(QuorumError::DuplicateCard { card: n });
        }
    }
    if cards.len() < usize::from(policy.threshold) {
        return Err(QuorumError::TooFewCards {
            have: cards.len(),
            need: usize::from(policy.threshold),
        });
    }

    let shares: Vec<Share> = cards.iter().map(|c| c.share.clone()).collect();
    let secret = shamir::combine(&shares)?;
    let tmk = Tmk::from_slice(secret.expose()).ok_or_else(|| {
        QuorumError::Malformed(format!(
            "the cards hold a {}-byte secret, not a 32-byte master key",
            secret.len()
        ))
    })?;
    if !kdf::constant_time_eq(&key_check_value(&tmk), &record.kcv) {
        return Err(QuorumError::KcvMismatch);
    }
    Ok(tmk)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const SERIAL: &str = "SR-0001";

    fn pins(n: usize) -> Vec<SecretBytes> {
        (1..=n)
            .map(|i| SecretBytes::new(format!("pin-{i}").into_bytes()))
            .collect()
    }

    fn make(serial: &str, generation: u32, m: u8, n: usize) -> (Tmk, Vec<Vec<u8>>, QuorumRecord) {
        let tmk = Tmk::random().unwrap();
        let (files, record) = write_cards(
            &tmk,
            serial,
            "Test token",
            generation,
            m,
            &pins(n),
            KdfParams::TESTING,
        )
        .unwrap();
        (tmk, files, record)
    }

    fn open_all(files: &[Vec<u8>]) -> Vec<OpenedCard> {
        files
            .iter()
            .enumerate()
            .map(|(i, f)| open_card(f, format!("pin-{}", i + 1).as_bytes()).unwrap())
            .collect()
    }

    fn subset(cards: &[OpenedCard], idx: &[usize]) -> Vec<OpenedCard> {
        idx.iter()
            .map(|&i| OpenedCard {
                header: cards[i].header.clone(),
                share: cards[i].share.clone(),
            })
            .collect()
    }

    #[test]
    fn write_then_read_headers() {
        let (_, files, record) = make(SERIAL, 7, 3, 5);
        assert_eq!(files.len(), 5);
        assert_eq!(
            (record.threshold, record.count, record.generation),
            (3, 5, 7)
        );
        for (i, f) in files.iter().enumerate() {
            let h = read_card_header(f).unwrap();
            assert_eq!(h.token_serial, SERIAL);
            assert_eq!(h.token_label, "Test token");
            assert_eq!(usize::from(h.card_number), i + 1);
            assert_eq!((h.threshold, h.count, h.generation), (3, 5, 7));
            assert_eq!(h.kdf, KdfParams::TESTING);
        }
        // Each card has its own salt.
        assert_ne!(files[0][50..66], files[1][50..66]);
    }

    #[test]
    fn every_quorum_of_3_of_7_rebuilds_and_every_pair_is_too_few() {
        let (tmk, files, record) = make(SERIAL, 1, 3, 7);
        let cards = open_all(&files);
        let mut tried = 0;
        for mask in 0u32..(1 << 7) {
            let idx: Vec<usize> = (0..7).filter(|i| mask & (1 << i) != 0).collect();
            let result = reconstruct(SERIAL, &record, &subset(&cards, &idx));
            if idx.len() >= 3 {
                assert_eq!(result.unwrap().expose(), tmk.expose(), "{idx:?}");
                tried += 1;
            } else {
                assert!(
                    matches!(result, Err(QuorumError::TooFewCards { have, need: 3 }) if have == idx.len()),
                    "{idx:?}"
                );
            }
        }
        assert_eq!(tried, 35 + 35 + 21 + 7 + 1);
    }

    #[test]
    fn one_of_one_and_n_of_n() {
        let (tmk, files, record) = make(SERIAL, 0, 1, 1);
        assert_eq!(
            reconstruct(SERIAL, &record, &open_all(&files))
                .unwrap()
                .expose(),
            tmk.expose()
        );
        let (tmk, files, record) = make(SERIAL, 0, 4, 4);
        let cards = open_all(&files);
        assert_eq!(
            reconstruct(SERIAL, &record, &cards).unwrap().expose(),
            tmk.expose()
        );
        assert!(matches!(
            reconstruct(SERIAL, &record, &subset(&cards, &[0, 1, 3])),
            Err(QuorumError::TooFewCards { have: 3, need: 4 })
        ));
    }

    #[test]
    fn too_few_cards() {
        let (_, files, record) = make(SERIAL, 1, 3, 5);
        let cards = open_all(&files);
        assert!(matches!(
            reconstruct(SERIAL, &record, &subset(&cards, &[1, 4])),
            Err(QuorumError::TooFewCards { have: 2, need: 3 })
        ));
        let err = reconstruct(SERIAL, &record, &[]).unwrap_err();
        assert!(matches!(err, QuorumError::TooFewCards { have: 0, need: 3 }));
        assert_eq!(
            err.to_string(),
            "not enough credential cards: 0 presented, 3 required"
        );
    }

    #[test]
    fn wrong_card_pin() {
        let (_, files, _) = make(SERIAL, 1, 2, 3);
        let err = open_card(&files[1], b"pin-1").unwrap_err();
        assert!(matches!(err, QuorumError::WrongPin { card: 2 }));
        assert_eq!(err.to_string(), "wrong PIN for card 2");
        assert!(matches!(
            open_card(&files[1], b""),
            Err(QuorumError::WrongPin { card: 2 })
        ));
    }

    /// Every byte position, flipped (two different ways), is caught by the checksum, which covers
    /// everything before it (and a flipped checksum byte no longer matches). No flip can reach
    /// the AEAD, so none is reported as a wrong PIN.
    #[test]
    fn tampered_card_every_byte_position() {
        let (_, files, _) = make(SERIAL, 1, 2, 3);
        let file = &files[0];
        for pos in 0..file.len() {
            for flip in [0x01u8, 0xFF] {
                let mut bad = file.clone();
                bad[pos] ^= flip;
                let err = open_card(&bad, b"pin-1").unwrap_err();
                assert!(
                    matches!(err, QuorumError::TamperedCard(_)),
                    "byte {pos} ^ {flip:#x}: {err}"
                );
                assert!(matches!(
                    read_card_header(&bad),
                    Err(QuorumError::TamperedCard(_))
                ));
            }
        }
    }

    #[test]
    fn card_of_another_token() {
        let (_, files_a, _) = make("TOKEN-A", 1, 2, 3);
        let (_, files_b, record_b) = make("TOKEN-B", 1, 2, 3);
        let mut cards = open_all(&files_b);
        cards[1] = open_all(&files_a).remove(1);
        let err = reconstruct("TOKEN-B", &record_b, &cards).unwrap_err();
        assert!(
            matches!(&err, QuorumError::ForeignToken { card: 2, card_token, token }
                if card_token == "TOKEN-A" && token == "TOKEN-B"),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "card 2 belongs to token 'TOKEN-A', not to token 'TOKEN-B'"
        );
    }

    #[test]
    fn the_same_card_twice() {
        let (_, files, record) = make(SERIAL, 1, 3, 5);
        let cards = open_all(&files);
        let err = reconstruct(SERIAL, &record, &subset(&cards, &[0, 3, 0])).unwrap_err();
        assert!(
            matches!(err, QuorumError::DuplicateCard { card: 1 }),
            "{err}"
        );
        // Duplicates are reported even when there would be enough distinct cards.
        let err = reconstruct(SERIAL, &record, &subset(&cards, &[0, 1, 2, 2])).unwrap_err();
        assert!(
            matches!(err, QuorumError::DuplicateCard { card: 3 }),
            "{err}"
        );
    }

    #[test]
    fn card_of_a_superseded_card_set() {
        let tmk = Tmk::random().unwrap();
        let write = |generation| {
            write_cards(
                &tmk,
                SERIAL,
                "",
                generation,
                2,
                &pins(3),
                KdfParams::TESTING,
            )
            .unwrap()
        };
        let (old_files, old_record) = write(4);
        let (new_files, new_record) = write(5);
        let old = open_all(&old_files);
        let new = open_all(&new_files);

        let mut mixed = subset(&new, &[0]);
        mixed.extend(subset(&old, &[2]));
        let err = reconstruct(SERIAL, &new_record, &mixed).unwrap_err();
        assert!(
            matches!(
                err,
                QuorumError::SupersededCardSet {
                    card: 3,
                    card_generation: 4,
                    current: 5
                }
            ),
            "{err}"
        );
        // A whole old set is refused too, though it holds the same TMK.
        assert!(matches!(
            reconstruct(SERIAL, &new_record, &old),
            Err(QuorumError::SupersededCardSet { .. })
        ));
        // Cards newer than the metadata.
        assert!(matches!(
            reconstruct(SERIAL, &old_record, &new),
            Err(QuorumError::NewerCardSet {
                card: 1,
                card_generation: 5,
                current: 4
            })
        ));
        assert_eq!(
            reconstruct(SERIAL, &new_record, &new).unwrap().expose(),
            tmk.expose()
        );
    }

    #[test]
    fn checks_come_in_the_documented_order() {
        let (_, files, record) = make(SERIAL, 2, 3, 4);
        let cards = open_all(&files);
        let (_, old_files, _) = make(SERIAL, 1, 3, 4);
        let old = open_all(&old_files);
        let (_, foreign_files, _) = make("OTHER", 2, 3, 4);
        let foreign = open_all(&foreign_files);

        // foreign + superseded + duplicate + too few: foreign wins.
        let mut set = subset(&old, &[0]);
        set.extend(subset(&foreign, &[1]));
        assert!(matches!(
            reconstruct(SERIAL, &record, &set),
            Err(QuorumError::ForeignToken { card: 2, .. })
        ));
        // superseded + duplicate + too few: superseded wins.
        let mut set = subset(&cards, &[0, 0]);
        set.extend(subset(&old, &[1]));
        assert!(matches!(
            reconstruct(SERIAL, &record, &set),
            Err(QuorumError::SupersededCardSet { card: 2, .. })
        ));
        // duplicate + too few: duplicate wins.
        assert!(matches!(
            reconstruct(SERIAL, &record, &subset(&cards, &[1, 1])),
            Err(QuorumError::DuplicateCard { card: 2 })
        ));
    }

    #[test]
    fn kcv_mismatch() {
        // Same serial and generation, different TMK: e.g. the token was re-initialised.
        let (_, files_a, _) = make(SERIAL, 1, 2, 3);
        let (_, files_b, record_b) = make(SERIAL, 1, 2, 3);
        let a = open_all(&files_a);
        let b = open_all(&files_b);
        assert!(matches!(
            reconstruct(SERIAL, &record_b, &a),
            Err(QuorumError::KcvMismatch)
        ));
        let mut mixed = subset(&a, &[0]);
        mixed.extend(subset(&b, &[1]));
        assert!(matches!(
            reconstruct(SERIAL, &record_b, &mixed),
            Err(QuorumError::KcvMismatch)
        ));
    }

    #[test]
    fn card_disagreeing_with_the_record_policy() {
        let (_, files, record) = make(SERIAL, 1, 2, 3);
        let cards = open_all(&files);
        let other = QuorumRecord {
            threshold: 2,
            count: 4,
            ..record
        };
        assert!(matches!(
            reconstruct(SERIAL, &other, &cards),
            Err(QuorumError::Malformed(_))
        ));
        let broken = QuorumRecord {
            threshold: 0,
            ..record
        };
        assert!(matches!(
            reconstruct(SERIAL, &broken, &cards),
            Err(QuorumError::InvalidPolicy(_))
        ));
    }

    #[test]
    fn invalid_policies() {
        let tmk = Tmk::random().unwrap();
        let w = |m: u8, pins: &[SecretBytes]| {
            write_cards(&tmk, SERIAL, "", 0, m, pins, KdfParams::TESTING).unwrap_err()
        };
        for err in [
            w(0, &pins(3)),
            w(4, &pins(3)),
            w(1, &[]),
            w(2, &pins(256)),
            w(
                2,
                &[SecretBytes::from_slice(b"x"), SecretBytes::new(Vec::new())],
            ),
        ] {
            assert!(matches!(err, QuorumError::InvalidPolicy(_)), "{err}");
        }
        assert!(
            w(
                2,
                &[SecretBytes::from_slice(b"x"), SecretBytes::new(Vec::new())]
            )
            .to_string()
            .contains("card 2")
        );
        let err = write_cards(&tmk, "", "", 0, 1, &pins(1), KdfParams::TESTING).unwrap_err();
        assert!(matches!(err, QuorumError::InvalidTokenInfo(_)));
        let bad_kdf = KdfParams {
            t_cost: 0,
            ..KdfParams::TESTING
        };
        let err = write_cards(&tmk, SERIAL, "", 0, 1, &pins(1), bad_kdf).unwrap_err();
        assert!(matches!(err, QuorumError::Kdf(KdfError::InvalidParams(_))));
        assert_eq!(QuorumPolicy::new(2, 255).unwrap().to_string(), "2-of-255");
    }

    #[test]
    fn key_check_value_is_stable_and_key_specific() {
        let a = Tmk::new([1; 32]);
        assert_eq!(key_check_value(&a), key_check_value(&Tmk::new([1; 32])));
        assert_ne!(key_check_value(&a), key_check_value(&Tmk::new([2; 32])));
        assert_ne!(key_check_value(&a)[..], a.expose()[..16]);
    }

    #[test]
    fn record_survives_serialization() {
        let (_, _, record) = make(SERIAL, 9, 2, 2);
        let back: QuorumRecord =
            postcard::from_bytes(&postcard::to_allocvec(&record).unwrap()).unwrap();
        assert_eq!(back, record);
    }
}
