//! Explicit EC parameters (`specifiedCurve`): recognised as P-256, P-384 or P-521 only when
//! every constant is that curve's; anything else is refused like an unknown curve.

use super::*;

/// `openssl ecparam -name prime256v1 -param_enc explicit -outform DER` (OpenSSL 3.0).
const P256_EXPLICIT_SEED: &str = "\
    3081f7020101302c06072a8648ce3d0101022100ffffffff00000001000000000000000000000000ffffffff\
    ffffffffffffffff305b0420ffffffff00000001000000000000000000000000fffffffffffffffffffffffc\
    04205ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b031500c49d360886e704\
    936a6678e1139d26b7819f7e900441046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945\
    d898c2964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5022100ffffffff00\
    000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551020101";

/// The same with `-no_seed`.
const P256_EXPLICIT: &str = "\
    3081e0020101302c06072a8648ce3d0101022100ffffffff00000001000000000000000000000000ffffffff\
    ffffffffffffffff30440420ffffffff00000001000000000000000000000000fffffffffffffffffffffffc\
    04205ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b0441046b17d1f2e12c42\
    47f8bce6e563a440f277037d812deb33a0f4a13945d898c2964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33\
    576b315ececbb6406837bf51f5022100ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2\
    fc632551020101";

/// `openssl ecparam -name secp384r1 -param_enc explicit -outform DER` (OpenSSL 3.0).
const P384_EXPLICIT_SEED: &str = "\
    30820157020101303c06072a8648ce3d0101023100ffffffffffffffffffffffffffffffffffffffffffffff\
    fffffffffffffffffeffffffff0000000000000000ffffffff307b0430ffffffffffffffffffffffffffffff\
    fffffffffffffffffffffffffffffffffeffffffff0000000000000000fffffffc0430b3312fa7e23ee7e498\
    8e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef031500a335\
    926aa319a27a1d00896a6773a4827acdac73046104aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b\
    9859f741e082542a385502f25dbf55296c3a545e3872760ab73617de4a96262c6f5d9e98bf9292dc29f8f41d\
    bd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f023100ffffffffffffffffffffffff\
    ffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973020101";

/// The same with `-no_seed`.
const P384_EXPLICIT: &str = "\
    30820140020101303c06072a8648ce3d0101023100ffffffffffffffffffffffffffffffffffffffffffffff\
    fffffffffffffffffeffffffff0000000000000000ffffffff30640430ffffffffffffffffffffffffffffff\
    fffffffffffffffffffffffffffffffffeffffffff0000000000000000fffffffc0430b3312fa7e23ee7e498\
    8e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef046104aa87\
    ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e387276\
    0ab73617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a43\
    1d7c90ea0e5f023100ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0d\
    b248b0a77aecec196accc52973020101";

/// `openssl ecparam -name secp521r1 -param_enc explicit -outform DER` (OpenSSL 3.0).
const P521_EXPLICIT_SEED: &str = "\
    308201c3020101304d06072a8648ce3d0101024201ffffffffffffffffffffffffffffffffffffffffffffff\
    ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff3081\
    9f044201ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\
    fffffffffffffffffffffffffffffffffffffffffffffffffc04420051953eb9618e1c9a1f929a21a0b68540\
    eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451f\
    d46b503f00031500d09e8800291cb85396cc6717393284aaa0da64ba0481850400c6858e06b70404e9cd9e3e\
    cb662395b4429c648139053fb521f828af606b4d3dbaa14b5e77efe75928fe1dc127a2ffa8de3348b3c1856a\
    429bf97e7e31c2e5bd66011839296a789a3bc0045c8a5fb42c7d1bd998f54449579b446817afbd17273e662c\
    97ee72995ef42640c550b9013fad0761353c7086a272c24088be94769fd16650024201ffffffffffffffffff\
    fffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8\
    899c47aebb6fb71e91386409020101";

/// The same with `-no_seed`.
const P521_EXPLICIT: &str = "\
    308201ac020101304d06072a8648ce3d0101024201ffffffffffffffffffffffffffffffffffffffffffffff\
    ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff3081\
    88044201ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\
    fffffffffffffffffffffffffffffffffffffffffffffffffc04420051953eb9618e1c9a1f929a21a0b68540\
    eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451f\
    d46b503f000481850400c6858e06b70404e9cd9e3ecb662395b4429c648139053fb521f828af606b4d3dbaa1\
    4b5e77efe75928fe1dc127a2ffa8de3348b3c1856a429bf97e7e31c2e5bd66011839296a789a3bc0045c8a5f\
    b42c7d1bd998f54449579b446817afbd17273e662c97ee72995ef42640c550b9013fad0761353c7086a272c2\
    4088be94769fd16650024201ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\
    fa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409020101";

/// python-pkcs11's `test_import_key_params` (an older OpenSSL's encoding): b in 65 bytes,
/// its leading zero dropped.
const P521_EXPLICIT_SHORT_B: &str = "\
    308201c2020101304d06072a8648ce3d0101024201ffffffffffffffffffffffffffffffffffffffffffffff\
    ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff3081\
    9e044201ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\
    fffffffffffffffffffffffffffffffffffffffffffffffffc044151953eb9618e1c9a1f929a21a0b68540ee\
    a2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd4\
    6b503f00031500d09e8800291cb85396cc6717393284aaa0da64ba0481850400c6858e06b70404e9cd9e3ecb\
    662395b4429c648139053fb521f828af606b4d3dbaa14b5e77efe75928fe1dc127a2ffa8de3348b3c1856a42\
    9bf97e7e31c2e5bd66011839296a789a3bc0045c8a5fb42c7d1bd998f54449579b446817afbd17273e662c97\
    ee72995ef42640c550b9013fad0761353c7086a272c24088be94769fd16650024201ffffffffffffffffffff\
    fffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b889\
    9c47aebb6fb71e91386409020101";

/// `openssl ecparam -name secp256k1 -param_enc explicit -no_seed`: another curve, of the same size.
const SECP256K1_EXPLICIT: &str = "\
    3081e0020101302c06072a8648ce3d0101022100ffffffffffffffffffffffffffffffffffffffffffffffff\
    fffffffefffffc2f304404200000000000000000000000000000000000000000000000000000000000000000\
    0420000000000000000000000000000000000000000000000000000000000000000704410479be667ef9dcbb\
    ac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b4\
    48a68554199c47d08ffb10d4b8022100fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8c\
    d0364141020101";

/// `openssl ecparam -name prime192v1 -param_enc explicit -no_seed`: P-192, a NIST curve we do not offer.
const P192_EXPLICIT: &str = "\
    3081b0020101302406072a8648ce3d0101021900fffffffffffffffffffffffffffffffeffffffffffffffff\
    30340418fffffffffffffffffffffffffffffffefffffffffffffffc041864210519e59c80e70fa7e9ab7224\
    3049feb8deecc146b9b1043104188da80eb03090f67cbf20eb43a18800f4ff0afd82ff101207192b95ffc8da\
    78631011ed6b24cdd573f977a11e794811021900ffffffffffffffffffffffff99def836146bc9b1b4d22831\
    020101";

/// `openssl ecparam -name sect233r1 -param_enc explicit -no_seed`: a characteristic-two curve.
const SECT233R1_EXPLICIT: &str = "\
    3081c6020101301d06072a8648ce3d01023012020200e906092a8648ce3d0102030202014a3040041e000000\
    000000000000000000000000000000000000000000000000000001041e0066647ede6c332c7f8c0923bb5821\
    3b333b20e9ce4281fe115f7d8f90ad043d0400fac9dfcbac8313bb2139f1bb755fef65bc391f8b36f8f8eb73\
    71fd558b01006a08a41903350678e58528bebf8a0beff867a7ca36716f7e01f81052021e0100000000000000\
    0000000000000013e974e72f8a6922031d2603cfe0d7020102";

/// `openssl ecparam -name brainpoolP256r1 -param_enc explicit -no_seed`: a 256-bit curve with its own constants.
const BRAINPOOL_P256R1_EXPLICIT: &str = "\
    3081e0020101302c06072a8648ce3d0101022100a9fb57dba1eea9bc3e660a909d838d726e3bf623d5262028\
    2013481d1f6e5377304404207d5a0975fc2c3057eef67530417affe7fb8055c126dc5c6ce94a4b44f330b5d9\
    042026dc5c6ce94a4b44f330b5d9bbd77cbf958416295cf7e1ce6bccdc18ff8c07b60441048bd2aeb9cb7e57\
    cb2c4b482ffc81b7afb9de27e1e3bd23c23a4453bd9ace3262547ef835c3dac4fd97f8461a14611dc9c27745\
    132ded8e545c1d54c72f046997022100a9fb57dba1eea9bc3e660a909d838d718c397aa3b561a6f7901e0e82\
    974856a7020101";

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
