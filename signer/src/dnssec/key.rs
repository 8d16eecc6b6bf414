//! DNSKEY record data: the four RDATA fields, key tags, DS digests and presentation form.
//!
//! The DNS vocabulary (key tag, RDATA composition, canonical owner names, zone-file text) is
//! `domain`'s; this file adds what `domain` 0.12 keeps behind its unstable crypto features:
//! the RFC 3110 RSA public-key encoding and the DS digest (owner ‖ RDATA hashed with aws-lc-rs).

use aws_lc_rs::digest;
use domain::base::iana::{Class, DigestAlgorithm, SecurityAlgorithm};
use domain::base::name::ToName;
use domain::base::zonefile_fmt::{DisplayKind, ZonefileFmt};
use domain::base::{Record, Ttl};
use domain::rdata::{Dnskey, Ds};

/// The REVOKE flag of RFC 5011 §7 (bit 8 of the DNSKEY flags).
pub const FLAG_REVOKE: u16 = 0x0080;
/// The Zone Key flag of RFC 4034 §2.1.1 (bit 7): only zone keys may verify RRSIGs.
pub const FLAG_ZONE: u16 = 0x0100;
/// The Secure Entry Point flag (bit 15): set on KSKs (flags 257).
pub const FLAG_SEP: u16 = 0x0001;
/// DNSKEY protocol field; RFC 4034 §2.1.2 fixes it at 3.
pub const PROTOCOL_DNSSEC: u8 = 3;

/// Algorithms whose public key is in the RFC 3110 (exponent length, exponent, modulus) form.
const RSA_ALGORITHMS: [u8; 4] = [5, 7, 8, 10];

/// Why a DNSKEY could not be built or a digest not computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("algorithm {0} is not an RSA algorithm (5, 7, 8 or 10)")]
    NotRsa(u8),
    #[error("algorithm {0} is not an ECDSA algorithm (13 or 14)")]
    NotEcdsa(u8),
    #[error("algorithm {0} is not an EdDSA algorithm (15 or 16)")]
    NotEddsa(u8),
    #[error("RSA {0} is empty or zero")]
    EmptyRsaComponent(&'static str),
    #[error("RSA exponent of {0} bytes does not fit RFC 3110's 16-bit length")]
    ExponentTooLong(usize),
    #[error("algorithm {algorithm} wants a public key of {expected} bytes, got {got}")]
    BadKeyLength {
        algorithm: u8,
        expected: usize,
        got: usize,
    },
    #[error("public key of {0} bytes does not fit in DNSKEY RDATA (65535 bytes)")]
    TooLong(usize),
    #[error("DS digest type {0} is not supported (1 SHA-1, 2 SHA-256, 4 SHA-384)")]
    UnsupportedDigest(u8),
}

/// DNSKEY RDATA (RFC 4034 §2.1): the public key is in its DNS form — RFC 3110 for RSA,
/// X ‖ Y for ECDSA (RFC 6605), the raw point for EdDSA (RFC 8080).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DnsKey {
    pub flags: u16,
    pub protocol: u8,
    pub algorithm: u8,
    pub public_key: Vec<u8>,
}

impl DnsKey {
    /// A key from the fields; protocol is always 3.
    pub fn new(flags: u16, algorithm: u8, public_key: Vec<u8>) -> Result<Self, KeyError> {
        let key = DnsKey {
            flags,
            protocol: PROTOCOL_DNSSEC,
            algorithm,
            public_key,
        };
        key.to_domain()?;
        Ok(key)
    }

    /// An RSA key (algorithm 5, 7, 8 or 10) from modulus and public exponent (big-endian,
    /// leading zeros allowed) in the RFC 3110 §2 form: a one-byte exponent length, or `0`
    /// and a two-byte length when the exponent is longer than 255 bytes.
    pub fn from_rsa(
        flags: u16,
        algorithm: u8,
        modulus: &[u8],
        exponent: &[u8],
    ) -> Result<Self, KeyError> {
        if !RSA_ALGORITHMS.contains(&algorithm) {
            return Err(KeyError::NotRsa(algorithm));
        }
        let modulus = strip_leading_zeros(modulus);
        let exponent = strip_leading_zeros(exponent);
        if modulus.is_empty() {
            return Err(KeyError::EmptyRsaComponent("modulus"));
        }
        if exponent.is_empty() {
            return Err(KeyError::EmptyRsaComponent("exponent"));
        }
        let mut key = Vec::with_capacity(3 + exponent.len() + modulus.len());
        match u8::try_from(exponent.len()) {
            Ok(len) => key.push(len),
            Err(_) => {
                let len = u16::try_from(exponent.len())
                    .map_err(|_| KeyError::ExponentTooLong(exponent.len()))?;
                key.push(0);
                key.extend_from_slice(&len.to_be_bytes());
            }
        }
        key.extend_from_slice(exponent);
        key.extend_from_slice(modulus);
        Self::new(flags, algorithm, key)
    }

    /// An ECDSA key (13 P-256, 14 P-384) from an uncompressed point: X ‖ Y, `04` ‖ X ‖ Y, or
    /// the PKCS#11 `CKA_EC_POINT` DER OCTET STRING around `04` ‖ X ‖ Y. RFC 6605 §4 stores
    /// X ‖ Y only.
    pub fn from_ec_point(flags: u16, algorithm: u8, point: &[u8]) -> Result<Self, KeyError> {
        let xy_len = match algorithm {
            13 => 64,
            14 => 96,
            _ => return Err(KeyError::NotEcdsa(algorithm)),
        };
        let xy = match point.len() {
            n if n == xy_len => point,
            n if n == xy_len + 1 && point[0] == 0x04 => &point[1..],
            // DER OCTET STRING: 04, length (65 or 97, short form), then 04 ‖ X ‖ Y.
            n if n == xy_len + 3
                && point[0] == 0x04
                && usize::from(point[1]) == xy_len + 1
                && point[2] == 0x04 =>
            {
                &point[3..]
            }
            got => {
                return Err(KeyError::BadKeyLength {
                    algorithm,
                    expected: xy_len,
                    got,
                });
            }
        };
        Self::new(flags, algorithm, xy.to_vec())
    }

    /// An EdDSA key (15 Ed25519, 32 bytes; 16 Ed448, 57 bytes), RFC 8080 §3.
    pub fn from_eddsa(flags: u16, algorithm: u8, public_key: &[u8]) -> Result<Self, KeyError> {
        let expected = match algorithm {
            15 => 32,
            16 => 57,
            _ => return Err(KeyError::NotEddsa(algorithm)),
        };
        if public_key.len() != expected {
            return Err(KeyError::BadKeyLength {
                algorithm,
                expected,
                got: public_key.len(),
            });
        }
        Self::new(flags, algorithm, public_key.to_vec())
    }

    /// The key as `domain`'s DNSKEY record data (which checks the RDATA length).
    pub fn to_domain(&self) -> Result<Dnskey<&[u8]>, KeyError> {
        Dnskey::new(
            self.flags,
            self.protocol,
            SecurityAlgorithm::from_int(self.algorithm),
            self.public_key.as_slice(),
        )
        .map_err(|_| KeyError::TooLong(self.public_key.len()))
    }

    /// Copies `domain`'s DNSKEY record data.
    pub fn from_domain<O: AsRef<[u8]>>(key: &Dnskey<O>) -> Self {
        DnsKey {
            flags: key.flags(),
            protocol: key.protocol(),
            algorithm: key.algorithm().to_int(),
            public_key: key.public_key().as_ref().to_vec(),
        }
    }

    /// The RFC 4034 App. B key tag, computed by `domain`. A key too long for any DNSKEY
    /// RDATA (which [`DnsKey::new`] refuses) has no tag; 0 is returned for it.
    pub fn key_tag(&self) -> u16 {
        self.to_domain().map_or(0, |key| key.key_tag())
    }

    /// The DNSKEY RDATA in wire form: flags ‖ protocol ‖ algorithm ‖ public key.
    pub fn rdata(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + self.public_key.len());
        out.extend_from_slice(&self.flags.to_be_bytes());
        out.push(self.protocol);
        out.push(self.algorithm);
        out.extend_from_slice(&self.public_key);
        out
    }

    /// The same key with the REVOKE flag set (RFC 5011): flags 257 become 385 and the key tag
    /// changes with them.
    pub fn revoked(&self) -> DnsKey {
        DnsKey {
            flags: self.flags | FLAG_REVOKE,
            ..self.clone()
        }
    }

    /// Whether the REVOKE flag is set.
    pub fn is_revoked(&self) -> bool {
        self.flags & FLAG_REVOKE != 0
    }

    /// Whether the Zone Key flag is set (RFC 4034 §2.1.1: otherwise it must not verify RRSIGs).
    pub fn is_zone_key(&self) -> bool {
        self.flags & FLAG_ZONE != 0
    }

    /// Whether the Secure Entry Point flag is set (a KSK).
    pub fn is_sep(&self) -> bool {
        self.flags & FLAG_SEP != 0
    }

    /// The DS digest (RFC 4034 §5.1.4): digest(owner in canonical wire form ‖ DNSKEY RDATA),
    /// for digest types 1 (SHA-1), 2 (SHA-256) and 4 (SHA-384).
    pub fn ds_digest<N: ToName + ?Sized>(
        &self,
        owner: &N,
        digest_type: u8,
    ) -> Result<Vec<u8>, KeyError> {
        let algorithm = match digest_type {
            1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            2 => &digest::SHA256,
            4 => &digest::SHA384,
            other => return Err(KeyError::UnsupportedDigest(other)),
        };
        Ok(digest::digest(algorithm, &self.ds_input(owner))
            .as_ref()
            .to_vec())
    }

    /// The SHA-256 DS digest (digest type 2), as published in `root-anchors.xml`.
    pub fn ds_sha256<N: ToName + ?Sized>(&self, owner: &N) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(digest::digest(&digest::SHA256, &self.ds_input(owner)).as_ref());
        out
    }

    /// What a DS digest is taken over: the owner in canonical wire form (lower case,
    /// uncompressed, composed by `domain`) followed by the DNSKEY RDATA.
    fn ds_input<N: ToName + ?Sized>(&self, owner: &N) -> Vec<u8> {
        let mut input = Vec::new();
        let Ok(()) = owner.compose_canonical(&mut input);
        input.extend_from_slice(&self.rdata());
        input
    }

    /// The DS record data for this key (key tag, algorithm, digest type, digest).
    pub fn ds<N: ToName + ?Sized>(
        &self,
        owner: &N,
        digest_type: u8,
    ) -> Result<Ds<Vec<u8>>, KeyError> {
        let digest = self.ds_digest(owner, digest_type)?;
        Ds::new(
            self.key_tag(),
            SecurityAlgorithm::from_int(self.algorithm),
            DigestAlgorithm::from_int(digest_type),
            digest,
        )
        .map_err(|_| KeyError::TooLong(self.public_key.len()))
    }

    /// One zone-file line, e.g. `. 172800 IN DNSKEY 257 3 8 AwEAA…`, written by `domain`.
    pub fn presentation<N: ToName>(&self, owner: &N, ttl: u32) -> Result<String, KeyError> {
        let record = Record::new(owner, Class::IN, Ttl::from_secs(ttl), self.to_domain()?);
        Ok(record.display_zonefile(DisplayKind::Simple).to_string())
    }

    /// The DS line for this key, e.g. `. 172800 IN DS 20326 8 2 E06D…`, written by `domain`.
    pub fn ds_presentation<N: ToName>(
        &self,
        owner: &N,
        ttl: u32,
        digest_type: u8,
    ) -> Result<String, KeyError> {
        let record = Record::new(
            owner,
            Class::IN,
            Ttl::from_secs(ttl),
            self.ds(owner, digest_type)?,
        );
        Ok(record.display_zonefile(DisplayKind::Simple).to_string())
    }

    /// Modulus and public exponent of an RSA key (RFC 3110 §2), as stored (big-endian).
    /// `None` for other algorithms or a malformed encoding.
    pub fn rsa_components(&self) -> Option<(&[u8], &[u8])> {
        if !RSA_ALGORITHMS.contains(&self.algorithm) {
            return None;
        }
        let key = self.public_key.as_slice();
        let (exp_len, rest) = match key.split_first()? {
            (0, rest) => {
                let (len, rest) = rest.split_at_checked(2)?;
                (usize::from(u16::from_be_bytes([len[0], len[1]])), rest)
            }
            (&len, rest) => (usize::from(len), rest),
        };
        let (exponent, modulus) = rest.split_at_checked(exp_len)?;
        if exponent.is_empty() || modulus.is_empty() {
            return None;
        }
        Some((modulus, exponent))
    }

    /// The RSA modulus length in bits (leading zero bits not counted).
    pub fn rsa_bits(&self) -> Option<usize> {
        let (modulus, _) = self.rsa_components()?;
        let modulus = strip_leading_zeros(modulus);
        let first = *modulus.first()?;
        Some(modulus.len() * 8 - first.leading_zeros() as usize)
    }
}

/// Big-endian integers in DNS and PKCS#11 may carry leading zero bytes; the encodings here
/// and aws-lc-rs's key parser want the minimal form.
pub(crate) fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use domain::base::Name;
    use std::str::FromStr;

    fn key(flags: u16, alg: u8, b64: &str) -> DnsKey {
        DnsKey::new(flags, alg, STANDARD.decode(b64).unwrap()).unwrap()
    }

    const KSK2017: &str = "AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3+/4RgWOq7HrxRixHlFlExOLAJr5emLvN7SWXgnLh4+B5xQlNVz8Og8kvArMtNROxVQuCaSnIDdD5LKyWbRd2n9WGe2R8PzgCmr3EgVLrjyBxWezF0jLHwVN8efS3rCj/EWgvIWgb9tarpVUDK/b58Da+sqqls3eNbuv7pr+eoZG+SrDK6nWeL3c6H5Apxz7LjVc1uTIdsIXxuOLYA4/ilBmSVIzuDWfdRUfhHdY6+cn8HFRm+2hM8AnXGXws9555KrUB5qihylGa8subX2Nn6UwNR1AkUTV74bU=";

    #[test]
    fn rfc4034_examples() {
        // vectors.md §5: RFC 4034 §5.4 (tag 60485, DS SHA-1) and RFC 4509 §2.3 (SHA-256).
        let k = key(
            256,
            5,
            "AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMmmAphXdvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9XzcnOf+EPbtG9DMBmADjFDc2w/rljwvFw==",
        );
        assert_eq!(k.key_tag(), 60485);
        let owner = Name::<Vec<u8>>::from_str("dskey.example.com.").unwrap();
        assert_eq!(
            hex::encode_upper(k.ds_digest(&owner, 1).unwrap()),
            "2BB183AF5F22588179A53B0A98631FAD1A292118"
        );
        assert_eq!(
            hex::encode_upper(k.ds_sha256(&owner)),
            "D4B7D520E7BB5F0F67674A0CCEB1E3E0614B93C4F9E99B8383F6A1E4469DA50A"
        );
        // The owner name is lower-cased in the digest input (canonical form).
        let upper = Name::<Vec<u8>>::from_str("DSKEY.Example.COM.").unwrap();
        assert_eq!(k.ds_sha256(&upper), k.ds_sha256(&owner));
        let k2 = key(
            256,
            5,
            "AQPSKmynfzW4kyBv015MUG2DeIQ3Cbl+BBZH4b/0PY1kxkmvHjcZc8nokfzj31GajIQKY+5CptLr3buXA10hWqTkF7H6RfoRqXQeogmMHfpftf6zMv1LyBUgia7za6ZEzOJBOztyvhjL742iU/TpPSEDhm2SNKLijfUppn1UaNvv4w==",
        );
        assert_eq!(k2.key_tag(), 2642);
    }

    #[test]
    fn rfc6605_ds_sha256_and_sha384() {
        let owner = Name::<Vec<u8>>::from_str("example.net.").unwrap();
        let p256 = key(
            257,
            13,
            "GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==",
        );
        assert_eq!(p256.key_tag(), 55648);
        assert_eq!(
            hex::encode(p256.ds_sha256(&owner)),
            "b4c8c1fe2e7477127b27115656ad6256f424625bf5c1e2770ce6d6e37df61d17"
        );
        let p384 = key(
            257,
            14,
            "xKYaNhWdGOfJ+nPrL8/arkwf2EY3MDJ+SErKivBVSum1w/egsXvSADtNJhyem5RCOpgQ6K8X1DRSEkrbYQ+OB+v8/uX45NBwY8rp65F6Glur8I/mlVNgF6W/qTI37m40",
        );
        assert_eq!(p384.key_tag(), 10771);
        assert_eq!(
            hex::encode(p384.ds_digest(&owner, 4).unwrap()),
            "72d7b62976ce06438e9c0bf319013cf801f09ecc84b8d7e9495f27e305c6a9b0563a9b5f4d288405c3008a946df983d6"
        );
        assert_eq!(
            p384.ds_digest(&owner, 3),
            Err(KeyError::UnsupportedDigest(3))
        );
    }

    #[test]
    fn rsa_round_trip_and_revoke() {
        let k = key(257, 8, KSK2017);
        assert_eq!(k.key_tag(), 20326);
        assert_eq!(k.revoked().flags, 385);
        assert!(k.revoked().is_revoked() && !k.is_revoked());
        assert_eq!(k.revoked().key_tag(), 20454);
        assert_eq!(k.rdata().len(), 264);
        let mut composed = Vec::new();
        let Ok(()) = domain::base::rdata::ComposeRecordData::compose_rdata(
            &k.to_domain().unwrap(),
            &mut composed,
        );
        assert_eq!(k.rdata(), composed);
        assert_eq!(&k.rdata()[..8], &[1, 1, 3, 8, 3, 1, 0, 1]);
        let (n, e) = k.rsa_components().unwrap();
        assert_eq!(e, &[1, 0, 1]);
        assert_eq!(n.len(), 256);
        assert_eq!(k.rsa_bits(), Some(2048));
        // Rebuilding from the components (with a leading zero on each) gives the same key.
        let mut n0 = vec![0];
        n0.extend_from_slice(n);
        let again = DnsKey::from_rsa(257, 8, &n0, &[0, 1, 0, 1]).unwrap();
        assert_eq!(again, k);
        assert_eq!(DnsKey::from_rsa(257, 13, n, e), Err(KeyError::NotRsa(13)));
        assert_eq!(
            DnsKey::from_rsa(257, 8, &[0, 0], e),
            Err(KeyError::EmptyRsaComponent("modulus"))
        );
    }

    #[test]
    fn rsa_long_exponent_form() {
        // RFC 3110 §2: exponents over 255 bytes use 0 and a two-byte length.
        let exponent = vec![1u8; 300];
        let modulus = vec![0xc1u8; 64];
        let k = DnsKey::from_rsa(256, 8, &modulus, &exponent).unwrap();
        assert_eq!(&k.public_key[..3], &[0, 0x01, 0x2c]);
        let (n, e) = k.rsa_components().unwrap();
        assert_eq!((n, e), (modulus.as_slice(), exponent.as_slice()));
        assert_eq!(k.rsa_bits(), Some(512));
        let short = DnsKey {
            public_key: vec![3, 1, 0],
            ..k.clone()
        };
        assert_eq!(short.rsa_components(), None);
    }

    #[test]
    fn ec_point_forms() {
        let xy: Vec<u8> = (0u8..64).collect();
        let plain = DnsKey::from_ec_point(257, 13, &xy).unwrap();
        let mut uncompressed = vec![0x04];
        uncompressed.extend_from_slice(&xy);
        assert_eq!(
            DnsKey::from_ec_point(257, 13, &uncompressed).unwrap(),
            plain
        );
        let mut der = vec![0x04, 0x41];
        der.extend_from_slice(&uncompressed);
        assert_eq!(DnsKey::from_ec_point(257, 13, &der).unwrap(), plain);
        assert_eq!(
            DnsKey::from_ec_point(257, 14, &xy),
            Err(KeyError::BadKeyLength {
                algorithm: 14,
                expected: 96,
                got: 64
            })
        );
        assert_eq!(
            DnsKey::from_ec_point(257, 8, &xy),
            Err(KeyError::NotEcdsa(8))
        );
    }

    #[test]
    fn eddsa_rfc8080() {
        let pk = STANDARD
            .decode("l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=")
            .unwrap();
        let k = DnsKey::from_eddsa(257, 15, &pk).unwrap();
        assert_eq!(k.key_tag(), 3613);
        let owner = Name::<Vec<u8>>::from_str("example.com.").unwrap();
        assert_eq!(
            hex::encode(k.ds_sha256(&owner)),
            "3aa5ab37efce57f737fc1627013fee07bdf241bd10f3b1964ab55c78e79a304b"
        );
        assert!(DnsKey::from_eddsa(257, 16, &pk).is_err());
    }

    #[test]
    fn presentation_lines() {
        let k = key(257, 8, KSK2017);
        let root = Name::root_vec();
        assert_eq!(
            k.presentation(&root, 172800).unwrap(),
            format!(". 172800 IN DNSKEY 257 3 8 {KSK2017}")
        );
        assert_eq!(
            k.ds_presentation(&root, 172800, 2).unwrap(),
            ". 172800 IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D"
        );
    }

    #[test]
    fn too_long_key_is_refused() {
        assert_eq!(
            DnsKey::new(256, 8, vec![1; 70_000]),
            Err(KeyError::TooLong(70_000))
        );
        let bad = DnsKey {
            flags: 256,
            protocol: 3,
            algorithm: 8,
            public_key: vec![1; 70_000],
        };
        assert_eq!(bad.key_tag(), 0);
        assert!(bad.presentation(&Name::root_vec(), 1).is_err());
    }
}
