//! Credential card files: one TMK share sealed under its holder's PIN.
//!
//! Layout (integers big-endian):
//!
//! ```text
//! header  magic "STRONGROOM-CARD\0" (16) | version u16 = 1
//!         | serial_len u8 | serial (UTF-8, 1..=32) | label_len u8 | label (UTF-8, 0..=64)
//!         | generation u32 | card_number u8 | threshold u8 | count u8
//!         | m_cost_kib u32 | t_cost u32 | p_cost u32 | salt (16)
//! body    sealed_len u16 | sealed = AES-256-GCM(Argon2id(PIN, salt), aad = header, share y)
//! trailer SHA-256 over header and body (32)
//! ```
//!
//! The header is the AEAD's associated data, so nothing in it can be changed without the PIN
//! holder noticing. The trailing checksum is not a security measure (anyone can recompute it):
//! it lets us tell a damaged file from a wrong PIN, which AEAD alone cannot.

use std::fmt;

use sha2::{Digest, Sha256};

use super::QuorumError;
use super::shamir::Share;
use crate::aead::{self, AeadError};
use crate::kdf::{self, KdfParams, SALT_LEN};
use crate::secret::SecretBytes;

/// Identifies a card file.
pub const MAGIC: &[u8; 16] = b"STRONGROOM-CARD\0";
/// The only card format this build reads and writes.
pub const FORMAT_VERSION: u16 = 1;
/// Longest token serial, in bytes.
pub const MAX_SERIAL_LEN: usize = 32;
/// Longest token label, in bytes.
pub const MAX_LABEL_LEN: usize = 64;
/// Size of every card file is bounded: anything larger is not a card.
pub const MAX_CARD_FILE_LEN: usize = 4096;
/// A share of a 256-bit TMK.
pub const SHARE_LEN: usize = 32;
const SEALED_LEN: usize = SHARE_LEN + aead::OVERHEAD;
const CHECKSUM_LEN: usize = 32;
/// Header with empty serial and label, then body and trailer.
const MIN_CARD_FILE_LEN: usize =
    16 + 2 + 1 + 1 + 4 + 3 + 12 + SALT_LEN + 2 + SEALED_LEN + CHECKSUM_LEN;

/// What a card says about itself; readable without the PIN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardHeader {
    pub token_serial: String,
    /// Informational only: shown to operators, never trusted for decisions.
    pub token_label: String,
    /// Card-set generation; bumped each time the TMK is re-shared onto new cards.
    pub generation: u32,
    /// This card's number, 1..=count; also the share's x-coordinate.
    pub card_number: u8,
    pub threshold: u8,
    pub count: u8,
    pub kdf: KdfParams,
    salt: [u8; SALT_LEN],
}

impl CardHeader {
    /// A header for a new card, with a fresh random salt.
    pub(super) fn new_random_salt(
        token_serial: &str,
        token_label: &str,
        generation: u32,
        card_number: u8,
        threshold: u8,
        count: u8,
        kdf: KdfParams,
    ) -> Result<Self, QuorumError> {
        let mut salt = [0u8; SALT_LEN];
        getrandom::fill(&mut salt).map_err(|_| QuorumError::Rng)?;
        Ok(Self {
            token_serial: token_serial.to_owned(),
            token_label: token_label.to_owned(),
            generation,
            card_number,
            threshold,
            count,
            kdf,
            salt,
        })
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(MIN_CARD_FILE_LEN + MAX_SERIAL_LEN + MAX_LABEL_LEN);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
        // Lengths were checked by `check_token_info`, so they fit in a byte.
        out.push(self.token_serial.len() as u8);
        out.extend_from_slice(self.token_serial.as_bytes());
        out.push(self.token_label.len() as u8);
        out.extend_from_slice(self.token_label.as_bytes());
        out.extend_from_slice(&self.generation.to_be_bytes());
        out.extend_from_slice(&[self.card_number, self.threshold, self.count]);
        out.extend_from_slice(&self.kdf.m_cost_kib.to_be_bytes());
        out.extend_from_slice(&self.kdf.t_cost.to_be_bytes());
        out.extend_from_slice(&self.kdf.p_cost.to_be_bytes());
        out.extend_from_slice(&self.salt);
        out
    }
}

/// A card whose PIN was right: its header is now authenticated and its share usable.
pub struct OpenedCard {
    pub header: CardHeader,
    pub(super) share: Share,
}

impl fmt::Debug for OpenedCard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenedCard")
            .field("header", &self.header)
            .field("share", &"[REDACTED]")
            .finish()
    }
}

/// Rejects serials and labels that cannot be stored in a card or would garble a terminal.
pub(super) fn check_token_info(serial: &str, label: &str) -> Result<(), String> {
    if serial.is_empty() || serial.len() > MAX_SERIAL_LEN {
        return Err(format!(
            "token serial must be 1 to {MAX_SERIAL_LEN} bytes, got {}",
            serial.len()
        ));
    }
    if label.len() > MAX_LABEL_LEN {
        return Err(format!(
            "token label must be at most {MAX_LABEL_LEN} bytes, got {}",
            label.len()
        ));
    }
    if serial.chars().chain(label.chars()).any(char::is_control) {
        return Err("token serial and label must not contain control characters".into());
    }
    Ok(())
}

/// Builds one card file: seals `share` under a key derived from `pin`.
pub(super) fn seal_card(
    header: &CardHeader,
    share: &Share,
    pin: &[u8],
) -> Result<Vec<u8>, QuorumError> {
    if share.y.len() != SHARE_LEN || share.x != header.card_number {
        return Err(QuorumError::Malformed(format!(
            "card {}: share does not fit a card ({} bytes for x = {})",
            header.card_number,
            share.y.len(),
            share.x
        )));
    }
    let key = kdf::derive_key(pin, &header.salt, header.kdf)?;
    let mut out = header.encode();
    let sealed = aead::seal(&key, &out, share.y.expose())?;
    // SEALED_LEN is a small constant, so it fits in a u16.
    out.extend_from_slice(&(SEALED_LEN as u16).to_be_bytes());
    out.extend_from_slice(&sealed);
    let checksum = Sha256::digest(&out);
    out.extend_from_slice(&checksum);
    Ok(out)
}

/// Reads a card's header without its PIN. The checksum proves the file is intact, but only
/// [`open_card`] proves the header is genuine.
pub fn read_card_header(bytes: &[u8]) -> Result<CardHeader, QuorumError> {
    parse(bytes).map(|parsed| parsed.header)
}

/// Opens a card with its holder's PIN.
pub fn open_card(bytes: &[u8], pin: &[u8]) -> Result<OpenedCard, QuorumError> {
    let parsed = parse(bytes)?;
    let card = parsed.header.card_number;
    let key = kdf::derive_key(pin, &parsed.header.salt, parsed.header.kdf)?;
    let y: SecretBytes = match aead::open(&key, parsed.aad, parsed.sealed) {
        Ok(y) => y,
        // The checksum passed, so the bytes are as written: the key (hence the PIN) is wrong,
        // or someone rewrote the header and recomputed the checksum (indistinguishable).
        Err(AeadError::Authentication) => return Err(QuorumError::WrongPin { card }),
        Err(e) => return Err(e.into()),
    };
    Ok(OpenedCard {
        header: parsed.header,
        share: Share { x: card, y },
    })
}

struct ParsedCard<'a> {
    header: CardHeader,
    aad: &'a [u8],
    sealed: &'a [u8],
}

/// Parses an untrusted card file: size bounds, then checksum, then every field.
fn parse(bytes: &[u8]) -> Result<ParsedCard<'_>, QuorumError> {
    let len = bytes.len();
    if len > MAX_CARD_FILE_LEN {
        return Err(QuorumError::Malformed(format!(
            "file is {len} bytes, but a card file is at most {MAX_CARD_FILE_LEN} bytes: not a Strongroom card"
        )));
    }
    let has_magic = bytes.starts_with(MAGIC);
    if len < MIN_CARD_FILE_LEN {
        return Err(QuorumError::TamperedCard(if has_magic {
            format!("file is truncated ({len} bytes, a card file has at least {MIN_CARD_FILE_LEN})")
        } else {
            format!(
                "file is only {len} bytes and lacks the card magic: not a Strongroom card, or truncated"
            )
        }));
    }
    let (body, checksum) = bytes.split_at(len - CHECKSUM_LEN);
    if !kdf::constant_time_eq(&Sha256::digest(body), checksum) {
        return Err(QuorumError::TamperedCard(if has_magic {
            "checksum mismatch: the file was modified, corrupted or truncated".into()
        } else {
            "checksum mismatch and no card magic: not a Strongroom card, or badly corrupted".into()
        }));
    }

    // The checksum is fine, so anything wrong below was written that way: malformed, not damaged.
    let mut r = Reader {
        bytes: body,
        pos: 0,
    };
    if r.take(MAGIC.len())? != MAGIC {
        return Err(QuorumError::Malformed(
            "wrong magic: not a Strongroom card file".into(),
        ));
    }
    let version = r.u16()?;
    if version != FORMAT_VERSION {
        return Err(QuorumError::Malformed(format!(
            "unsupported card format version {version} (this build reads version {FORMAT_VERSION})"
        )));
    }
    let serial_len = usize::from(r.u8()?);
    let token_serial = r.utf8(serial_len, "token serial")?;
    let label_len = usize::from(r.u8()?);
    let token_label = r.utf8(label_len, "token label")?;
    check_token_info(&token_serial, &token_label).map_err(QuorumError::Malformed)?;
    let generation = r.u32()?;
    let card_number = r.u8()?;
    let threshold = r.u8()?;
    let count = r.u8()?;
    if count == 0 || threshold == 0 || threshold > count || card_number == 0 || card_number > count
    {
        return Err(QuorumError::Malformed(format!(
            "card {card_number} of token '{token_serial}' has an impossible quorum: card {card_number} of a {threshold}-of-{count} set"
        )));
    }
    let kdf = KdfParams {
        m_cost_kib: r.u32()?,
        t_cost: r.u32()?,
        p_cost: r.u32()?,
    };
    kdf.validate().map_err(|e| {
        QuorumError::Malformed(format!("card {card_number} of token '{token_serial}': {e}"))
    })?;
    let mut salt = [0u8; SALT_LEN];
    salt.copy_from_slice(r.take(SALT_LEN)?);
    let header_end = r.pos;

    let sealed_len = usize::from(r.u16()?);
    if sealed_len != SEALED_LEN {
        return Err(QuorumError::Malformed(format!(
            "card {card_number}: sealed share is {sealed_len} bytes, expected {SEALED_LEN}"
        )));
    }
    let sealed = r.take(sealed_len)?;
    if r.pos != body.len() {
        return Err(QuorumError::Malformed(format!(
            "card {card_number}: {} unexpected bytes after the sealed share",
            body.len() - r.pos
        )));
    }
    Ok(ParsedCard {
        header: CardHeader {
            token_serial,
            token_label,
            generation,
            card_number,
            threshold,
            count,
            kdf,
            salt,
        },
        aad: &body[..header_end],
        sealed,
    })
}

/// Bounds-checked cursor over untrusted bytes.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], QuorumError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| {
                QuorumError::Malformed(format!(
                    "card file ends early: field at offset {} needs {n} bytes",
                    self.pos
                ))
            })?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, QuorumError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, QuorumError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, QuorumError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn utf8(&mut self, n: usize, what: &str) -> Result<String, QuorumError> {
        let b = self.take(n)?;
        String::from_utf8(b.to_vec())
            .map_err(|_| QuorumError::Malformed(format!("{what} is not valid UTF-8")))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn header() -> CardHeader {
        CardHeader::new_random_salt("SN-1", "Root CA", 3, 2, 2, 3, KdfParams::TESTING).unwrap()
    }

    fn share() -> Share {
        Share {
            x: 2,
            y: SecretBytes::from_slice(&[0xAB; SHARE_LEN]),
        }
    }

    /// Rewrites a file's trailing checksum, as an attacker (or a buggy writer) could.
    fn rechecksum(bytes: &mut Vec<u8>) {
        let n = bytes.len() - CHECKSUM_LEN;
        bytes.truncate(n);
        let sum = Sha256::digest(&bytes[..]);
        bytes.extend_from_slice(&sum);
    }

    #[test]
    fn card_round_trip() {
        let h = header();
        let bytes = seal_card(&h, &share(), b"1234").unwrap();
        assert!(bytes.len() <= MAX_CARD_FILE_LEN);
        assert_eq!(read_card_header(&bytes).unwrap(), h);
        let opened = open_card(&bytes, b"1234").unwrap();
        assert_eq!(opened.header, h);
        assert_eq!(opened.share.x, 2);
        assert_eq!(opened.share.y.expose(), &[0xAB; SHARE_LEN]);
    }

    #[test]
    fn minimal_card_has_the_minimal_length() {
        let h = CardHeader::new_random_salt("S", "", 0, 1, 1, 1, KdfParams::TESTING).unwrap();
        let share = Share {
            x: 1,
            y: SecretBytes::from_slice(&[1; SHARE_LEN]),
        };
        let bytes = seal_card(&h, &share, b"pin").unwrap();
        assert_eq!(bytes.len(), MIN_CARD_FILE_LEN + 1);
    }

    #[test]
    fn wrong_pin() {
        let bytes = seal_card(&header(), &share(), b"1234").unwrap();
        assert!(matches!(
            open_card(&bytes, b"1235"),
            Err(QuorumError::WrongPin { card: 2 })
        ));
    }

    #[test]
    fn header_rewritten_with_a_fresh_checksum_fails_authentication() {
        // The checksum is public; the AAD binding is what protects the header.
        let bytes = seal_card(&header(), &share(), b"1234").unwrap();
        let generation_at = 16 + 2 + 1 + 4 + 1 + 7 + 3;
        let mut forged = bytes.clone();
        forged[generation_at] ^= 0x01;
        rechecksum(&mut forged);
        assert_eq!(read_card_header(&forged).unwrap().generation, 2);
        assert!(matches!(
            open_card(&forged, b"1234"),
            Err(QuorumError::WrongPin { card: 2 })
        ));
    }

    #[test]
    fn checksum_valid_but_malformed_files() {
        let bytes = seal_card(&header(), &share(), b"1234").unwrap();
        let cases: [(usize, u8, &str); 6] = [
            (0, b'X', "magic"),
            (17, 2, "version 2"),
            (18, 200, "ends early"),
            (35, 0, "impossible quorum"),
            (35, 4, "impossible quorum"),
            (38, 0xFF, "memory cost"),
        ];
        for (pos, value, expected) in cases {
            let mut bad = bytes.clone();
            bad[pos] = value;
            rechecksum(&mut bad);
            let err = read_card_header(&bad).unwrap_err();
            assert!(
                matches!(&err, QuorumError::Malformed(m) if m.contains(expected)),
                "byte {pos}: {err}"
            );
        }
        // Trailing garbage behind a valid checksum.
        let mut long = bytes[..bytes.len() - CHECKSUM_LEN].to_vec();
        long.push(0);
        long.extend_from_slice(&[0; CHECKSUM_LEN]);
        rechecksum(&mut long);
        assert!(matches!(
            read_card_header(&long),
            Err(QuorumError::Malformed(_))
        ));
    }

    #[test]
    fn truncated_and_extended_files_are_tampered() {
        let bytes = seal_card(&header(), &share(), b"1234").unwrap();
        for len in 0..bytes.len() {
            assert!(
                matches!(
                    read_card_header(&bytes[..len]),
                    Err(QuorumError::TamperedCard(_))
                ),
                "length {len}"
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(
            open_card(&longer, b"1234"),
            Err(QuorumError::TamperedCard(_))
        ));
        let huge = vec![0u8; MAX_CARD_FILE_LEN + 1];
        assert!(matches!(
            read_card_header(&huge),
            Err(QuorumError::Malformed(_))
        ));
    }

    #[test]
    fn arbitrary_files_are_rejected_without_panicking() {
        let samples: [&[u8]; 4] = [b"", b"STRONGROOM-CARD\0", &[0u8; 300], &[0xFF; 4096]];
        for s in samples {
            assert!(read_card_header(s).is_err());
            assert!(open_card(s, b"pin").is_err());
        }
    }

    #[test]
    fn token_info_limits() {
        assert!(check_token_info("A", "").is_ok());
        assert!(check_token_info(&"S".repeat(32), &"L".repeat(64)).is_ok());
        assert!(check_token_info("", "x").is_err());
        assert!(check_token_info(&"S".repeat(33), "").is_err());
        assert!(check_token_info("S", &"L".repeat(65)).is_err());
        assert!(check_token_info("S\n", "").is_err());
        assert!(check_token_info("S", "a\u{1b}[2J").is_err());
    }

    #[test]
    fn opened_card_debug_is_redacted() {
        let bytes = seal_card(&header(), &share(), b"1234").unwrap();
        let shown = format!("{:?}", open_card(&bytes, b"1234").unwrap());
        assert!(shown.contains("SN-1"), "{shown}");
        assert!(shown.contains("share: \"[REDACTED]\""), "{shown}");
    }
}
