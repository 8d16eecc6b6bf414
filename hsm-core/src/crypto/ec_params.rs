//! Explicit EC domain parameters (`ECParameters` ::= CHOICE { namedCurve, specifiedCurve,
//! implicitCA }, RFC 3279 §2.3.5 / SEC 1 §C.2) recognised as one of the named curves we
//! support.
//!
//! A `specifiedCurve` is accepted only when the field is prime and p, a, b, the base point,
//! the order and (if present) the cofactor are exactly those of P-256, P-384 or P-521
//! (SEC 2 §2.4.2, §2.5.1, §2.6.1; FIPS 186-4 §D.1.2). The seed, if any, is ignored: it
//! records how the curve was generated and does not define it. Anything else (another curve,
//! a look-alike with one constant changed, a compressed or hybrid base point,
//! characteristic-two fields, a trailing hash) is refused.

use super::Curve;

/// id-prime-field, 1.2.840.10045.1.1, the OID's contents.
const PRIME_FIELD: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x01, 0x01];

const TAG_INTEGER: u8 = 0x02;
const TAG_BIT_STRING: u8 = 0x03;
const TAG_OCTET_STRING: u8 = 0x04;
const TAG_OID: u8 = 0x06;
const TAG_SEQUENCE: u8 = 0x30;

/// Hex → bytes at compile time; a malformed constant fails the build.
const fn unhex<const N: usize>(hex: &str) -> [u8; N] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'A'..=b'F' => c - b'A' + 10,
            _ => panic!("constants are upper-case hex"),
        }
    }
    let hex = hex.as_bytes();
    assert!(hex.len() == 2 * N, "constant of the wrong length");
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = (nibble(hex[2 * i]) << 4) | nibble(hex[2 * i + 1]);
        i += 1;
    }
    out
}

/// A curve's defining constants, big-endian, each as wide as the field (the order too).
struct Domain {
    curve: Curve,
    p: &'static [u8],
    a: &'static [u8],
    b: &'static [u8],
    /// The base point uncompressed: 04 ‖ x ‖ y.
    g: &'static [u8],
    n: &'static [u8],
}

// P-256 (secp256r1, prime256v1): SEC 2 §2.4.2, FIPS 186-4 §D.1.2.3.
const P256_P: [u8; 32] = unhex("FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF");
const P256_A: [u8; 32] = unhex("FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFC");
const P256_B: [u8; 32] = unhex("5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B");
const P256_G: [u8; 65] = unhex(
    "04\
     6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296\
     4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5",
);
const P256_N: [u8; 32] = unhex("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");

// P-384 (secp384r1): SEC 2 §2.5.1, FIPS 186-4 §D.1.2.4.
const P384_P: [u8; 48] = unhex(
    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFE\
     FFFFFFFF0000000000000000FFFFFFFF",
);
const P384_A: [u8; 48] = unhex(
    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFE\
     FFFFFFFF0000000000000000FFFFFFFC",
);
const P384_B: [u8; 48] = unhex(
    "B3312FA7E23EE7E4988E056BE3F82D19181D9C6EFE8141120314088F5013875A\
     C656398D8A2ED19D2A85C8EDD3EC2AEF",
);
const P384_G: [u8; 97] = unhex(
    "04\
     AA87CA22BE8B05378EB1C71EF320AD746E1D3B628BA79B9859F741E082542A38\
     5502F25DBF55296C3A545E3872760AB7\
     3617DE4A96262C6F5D9E98BF9292DC29F8F41DBD289A147CE9DA3113B5F0B8C0\
     0A60B1CE1D7E819D7A431D7C90EA0E5F",
);
const P384_N: [u8; 48] = unhex(
    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF\
     581A0DB248B0A77AECEC196ACCC52973",
);

// P-521 (secp521r1): SEC 2 §2.6.1, FIPS 186-4 §D.1.2.5.
const P521_P: [u8; 66] = unhex(
    "01FF\
     FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF\
     FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
);
const P521_A: [u8; 66] = unhex(
    "01FF\
     FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF\
     FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC",
);
const P521_B: [u8; 66] = unhex(
    "0051\
     953EB9618E1C9A1F929A21A0B68540EEA2DA725B99B315F3B8B489918EF109E1\
     56193951EC7E937B1652C0BD3BB1BF073573DF883D2C34F1EF451FD46B503F00",
);
const P521_G: [u8; 133] = unhex(
    "04\
     00C6\
     858E06B70404E9CD9E3ECB662395B4429C648139053FB521F828AF606B4D3DBA\
     A14B5E77EFE75928FE1DC127A2FFA8DE3348B3C1856A429BF97E7E31C2E5BD66\
     0118\
     39296A789A3BC0045C8A5FB42C7D1BD998F54449579B446817AFBD17273E662C\
     97EE72995EF42640C550B9013FAD0761353C7086A272C24088BE94769FD16650",
);
const P521_N: [u8; 66] = unhex(
    "01FF\
     FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFA\
     51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409",
);

static DOMAINS: [Domain; 3] = [
    Domain {
        curve: Curve::P256,
        p: &P256_P,
        a: &P256_A,
        b: &P256_B,
        g: &P256_G,
        n: &P256_N,
    },
    Domain {
        curve: Curve::P384,
        p: &P384_P,
        a: &P384_A,
        b: &P384_B,
        g: &P384_G,
        n: &P384_N,
    },
    Domain {
        curve: Curve::P521,
        p: &P521_P,
        a: &P521_A,
        b: &P521_B,
        g: &P521_G,
        n: &P521_N,
    },
];

/// A DER reader over a fixed structure: definite lengths in their shortest form only.
struct Der<'a>(&'a [u8]);

impl<'a> Der<'a> {
    /// The contents of the next element, which must carry `tag`.
    fn take(&mut self, tag: u8) -> Option<&'a [u8]> {
        let (&found, rest) = self.0.split_first()?;
        if found != tag {
            return None;
        }
        let (&first, rest) = rest.split_first()?;
        let (len, rest) = match first {
            0..=0x7f => (usize::from(first), rest),
            0x81 => {
                let (&len, rest) = rest.split_first()?;
                (len >= 0x80).then_some((usize::from(len), rest))?
            }
            0x82 => {
                let (&[hi, lo], rest) = rest.split_first_chunk::<2>()?;
                let len = usize::from(u16::from_be_bytes([hi, lo]));
                (len >= 0x100).then_some((len, rest))?
            }
            _ => return None,
        };
        if rest.len() < len {
            return None;
        }
        let (contents, rest) = rest.split_at(len);
        self.0 = rest;
        Some(contents)
    }

    /// Whether the next element carries `tag`.
    fn peek(&self, tag: u8) -> bool {
        self.0.first() == Some(&tag)
    }

    /// A non-negative INTEGER in its minimal encoding, as its magnitude without leading
    /// zeros.
    fn take_unsigned(&mut self) -> Option<&'a [u8]> {
        let contents = self.take(TAG_INTEGER)?;
        match contents {
            [] => None,
            [first, ..] if first & 0x80 != 0 => None,
            [0, next, ..] if next & 0x80 == 0 => None,
            _ => Some(strip_zeros(contents)),
        }
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// A field element as an OCTET STRING (SEC 1 §2.3.5): no wider than the field; encoders
/// that drop leading zero bytes (older OpenSSL writes P-521's b in 65 bytes) are accepted,
/// since the value is the same.
fn field_element_is(octets: &[u8], expected: &[u8]) -> bool {
    octets.len() <= expected.len() && strip_zeros(octets) == strip_zeros(expected)
}

/// The curve whose explicit (`specifiedCurve`) parameters `der` spells out, if it is one we
/// support and every constant matches it exactly.
pub(super) fn specified_curve(der: &[u8]) -> Option<Curve> {
    let mut outer = Der(der);
    let mut params = Der(outer.take(TAG_SEQUENCE)?);
    if !outer.is_empty() {
        return None;
    }
    // version: ecpVer1.
    if params.take(TAG_INTEGER)? != [1] {
        return None;
    }
    // fieldID: prime-field with its prime p.
    let mut field = Der(params.take(TAG_SEQUENCE)?);
    if field.take(TAG_OID)? != PRIME_FIELD {
        return None;
    }
    let p = field.take_unsigned()?;
    if !field.is_empty() {
        return None;
    }
    let domain = DOMAINS.iter().find(|d| strip_zeros(d.p) == p)?;
    // curve: a, b and an optional seed, which does not define the curve.
    let mut curve = Der(params.take(TAG_SEQUENCE)?);
    let a = curve.take(TAG_OCTET_STRING)?;
    let b = curve.take(TAG_OCTET_STRING)?;
    if curve.peek(TAG_BIT_STRING) {
        curve.take(TAG_BIT_STRING)?;
    }
    if !curve.is_empty() || !field_element_is(a, domain.a) || !field_element_is(b, domain.b) {
        return None;
    }
    // base: the generator, uncompressed.
    if params.take(TAG_OCTET_STRING)? != domain.g {
        return None;
    }
    if params.take_unsigned()? != strip_zeros(domain.n) {
        return None;
    }
    // cofactor, optional: 1 on every curve we offer. Nothing may follow (not even SEC 1's
    // optional hash).
    if params.peek(TAG_INTEGER) && params.take_unsigned()? != [1] {
        return None;
    }
    params.is_empty().then_some(domain.curve)
}
