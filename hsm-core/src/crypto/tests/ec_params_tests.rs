//! Explicit EC parameters (`specifiedCurve`): recognised as P-256, P-384 or P-521 only when
//! every constant is that curve's; anything else is refused like an unknown curve.

use super::*;

/// The shared encodings (`fixtures/ec-explicit-params.rs`).
mod explicit {
    #![allow(dead_code)] // each includer uses its own subset
    include!("../../../../fixtures/ec-explicit-params.rs");
}
use explicit::*;

/// A DER element: tag, shortest-form length, contents.
fn tlv(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match contents.len() {
        n if n < 0x80 => out.push(n as u8),
        n if n < 0x100 => out.extend([0x81, n as u8]),
        n => {
            out.push(0x82);
            out.extend(u16::try_from(n).unwrap().to_be_bytes());
        }
    }
    out.extend_from_slice(contents);
    out
}

/// DER elements as (tag, contents).
type Elements = Vec<(u8, Vec<u8>)>;

/// The elements of a SEQUENCE's contents.
fn elements(mut contents: &[u8]) -> Elements {
    let mut out = Vec::new();
    while let [tag, first, rest @ ..] = contents {
        let (len, rest) = match *first {
            n @ 0..=0x7f => (usize::from(n), rest),
            0x81 => (usize::from(rest[0]), &rest[1..]),
            0x82 => (
                usize::from(u16::from_be_bytes([rest[0], rest[1]])),
                &rest[2..],
            ),
            other => panic!("unexpected length byte {other:#x}"),
        };
        out.push((*tag, rest[..len].to_vec()));
        contents = &rest[len..];
    }
    assert!(contents.is_empty());
    out
}

/// The contents of a SEQUENCE of these elements.
fn concat(elements: &[(u8, Vec<u8>)]) -> Vec<u8> {
    elements.iter().flat_map(|(t, c)| tlv(*t, c)).collect()
}

fn sequence(elements: &[(u8, Vec<u8>)]) -> Vec<u8> {
    tlv(0x30, &concat(elements))
}

/// The six elements of an explicit encoding: version, fieldID, curve, base, order, cofactor.
fn parts(hex: &str) -> Elements {
    let der = unhex(hex);
    let outer = elements(&der);
    assert_eq!(outer.len(), 1);
    assert_eq!(outer[0].0, 0x30);
    elements(&outer[0].1)
}

fn recognised(der: &[u8]) -> Option<Curve> {
    Curve::from_der_oid(der)
}

#[test]
fn openssl_explicit_parameters_are_the_named_curves() {
    for (hex, curve) in [
        (P256_EXPLICIT, Curve::P256),
        (P256_EXPLICIT_SEED, Curve::P256),
        (P384_EXPLICIT, Curve::P384),
        (P384_EXPLICIT_SEED, Curve::P384),
        (P521_EXPLICIT, Curve::P521),
        (P521_EXPLICIT_SEED, Curve::P521),
        (P521_EXPLICIT_SHORT_B, Curve::P521),
    ] {
        assert_eq!(recognised(&unhex(hex)), Some(curve), "{hex}");
    }
}

#[test]
fn other_explicit_curves_are_refused() {
    for hex in [
        SECP256K1_EXPLICIT,
        P192_EXPLICIT,
        SECT233R1_EXPLICIT,
        BRAINPOOL_P256R1_EXPLICIT,
    ] {
        assert_eq!(recognised(&unhex(hex)), None, "{hex}");
    }
    // implicitCA (NULL) and an empty SEQUENCE.
    assert_eq!(recognised(&[0x05, 0x00]), None);
    assert_eq!(recognised(&[0x30, 0x00]), None);
}

#[test]
fn a_lookalike_with_one_byte_of_b_changed_is_refused() {
    for hex in [P256_EXPLICIT, P384_EXPLICIT_SEED, P521_EXPLICIT] {
        let mut parts = parts(hex);
        let mut curve = elements(&parts[2].1);
        assert_eq!(curve[1].0, 0x04, "b");
        let last = curve[1].1.len() - 1;
        curve[1].1[last] ^= 0x01;
        parts[2].1 = concat(&curve);
        let lookalike = sequence(&parts);
        assert_eq!(lookalike.len(), unhex(hex).len());
        assert_eq!(recognised(&lookalike), None);
    }
}

#[test]
fn every_single_bit_flip_is_refused() {
    // Without a seed every byte is structure or a defining constant.
    for hex in [P256_EXPLICIT, P384_EXPLICIT, P521_EXPLICIT] {
        let der = unhex(hex);
        for i in 0..der.len() {
            for bit in 0..8 {
                let mut flipped = der.clone();
                flipped[i] ^= 1 << bit;
                assert_eq!(recognised(&flipped), None, "byte {i} bit {bit} of {hex}");
            }
        }
    }
}

#[test]
fn the_seed_does_not_define_the_curve() {
    let mut parts = parts(P256_EXPLICIT_SEED);
    let mut curve = elements(&parts[2].1);
    assert_eq!(curve[2].0, 0x03, "seed");
    curve[2].1[5] ^= 0xff;
    parts[2].1 = concat(&curve);
    assert_eq!(recognised(&sequence(&parts)), Some(Curve::P256));
}

#[test]
fn base_point_must_be_the_uncompressed_generator() {
    for (hex, curve) in [
        (P256_EXPLICIT, Curve::P256),
        (P384_EXPLICIT, Curve::P384),
        (P521_EXPLICIT, Curve::P521),
    ] {
        let parts = parts(hex);
        let base = &parts[3].1;
        assert_eq!(base.len(), curve.point_len());
        let x = &base[1..=curve.field_len()];
        let y_odd = base[base.len() - 1] & 1;
        let variants: [Vec<u8>; 3] = [
            // Compressed.
            [&[0x02 | y_odd][..], x].concat(),
            // Hybrid.
            [&[0x06 | y_odd][..], &base[1..]].concat(),
            // The point at infinity.
            vec![0x00],
        ];
        for variant in variants {
            let mut changed = parts.clone();
            changed[3].1 = variant;
            assert_eq!(recognised(&sequence(&changed)), None, "{hex}");
        }
    }
}

#[test]
fn structure_is_checked() {
    let parts = parts(P384_EXPLICIT);
    // Re-encoding the parts gives back the original, and the cofactor is optional.
    assert_eq!(sequence(&parts), unhex(P384_EXPLICIT));
    assert_eq!(recognised(&sequence(&parts[..5])), Some(Curve::P384));

    let refused = |change: &dyn Fn(&mut Elements)| {
        let mut changed = parts.clone();
        change(&mut changed);
        recognised(&sequence(&changed))
    };
    // Version 2 or 3 (SEC 1's seed-verifiable variants) are not ours to check.
    assert_eq!(refused(&|p| p[0].1 = vec![2]), None);
    // A cofactor other than 1.
    assert_eq!(refused(&|p| p[5].1 = vec![2]), None);
    assert_eq!(
        refused(&|p| p[5].1 = vec![0, 1]),
        None,
        "non-minimal INTEGER"
    );
    // SEC 1's trailing hash (id-sha256) or any other element.
    let sha256 = concat(&[(0x06, unhex("608648016503040201"))]);
    assert_eq!(refused(&|p| p.push((0x30, sha256.clone()))), None);
    // The order negative, or with a redundant leading zero.
    assert_eq!(refused(&|p| p[4].1.insert(0, 0)), None);
    assert_eq!(refused(&|p| p[4].1.insert(0, 0xff)), None);
    // p with a redundant leading zero.
    let p_padded = |p: &mut Elements| {
        let mut field = elements(&p[1].1);
        field[1].1.insert(0, 0);
        p[1].1 = concat(&field);
    };
    assert_eq!(refused(&p_padded), None);
    // a wider than the field (one more leading zero) is refused; b with its leading zeros
    // dropped is the same value and accepted.
    let a_wide = |p: &mut Elements| {
        let mut curve = elements(&p[2].1);
        curve[0].1.insert(0, 0);
        p[2].1 = concat(&curve);
    };
    assert_eq!(refused(&a_wide), None);
    let mut p521 = self::parts(P521_EXPLICIT);
    let mut curve = elements(&p521[2].1);
    assert_eq!(curve[1].1.len(), 66);
    assert_eq!(curve[1].1[0], 0);
    curve[1].1.remove(0);
    p521[2].1 = concat(&curve);
    assert_eq!(recognised(&sequence(&p521)), Some(Curve::P521));

    // Trailing bytes, truncation, a non-minimal length.
    let der = unhex(P384_EXPLICIT);
    assert_eq!(recognised(&[der.as_slice(), &[0]].concat()), None);
    assert_eq!(recognised(&der[..der.len() - 1]), None);
    let long_version = tlv(
        0x30,
        &[&[0x02, 0x81, 0x01, 0x01][..], &concat(&parts[1..])].concat(),
    );
    assert_eq!(long_version.len(), der.len() + 1);
    assert_eq!(recognised(&long_version), None);
}
