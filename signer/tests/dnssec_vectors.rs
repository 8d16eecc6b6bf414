//! DNSSEC vectors for `signer::dnssec`: RFC 5702 / 6605 / 8080 examples, the real root KSK
//! signatures, the IANA trust anchors and the legacy test keys (fixtures/ksr/vectors.md).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use domain::base::Name;
use domain::base::rdata::RecordData as _;
use domain::rdata::ZoneRecordData;
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::traits::PublicKeyParts as _;
use signer::dnssec::{
    Anchor, DnsKey, RrsigFields, SignatureFailure, TrustAnchor, VerifyError, ZoneReport,
    emsa_pkcs1_v15, parse_zone_text, rrset_signed_data_wire, signed_data, verify, verify_zone_text,
};

macro_rules! fixture {
    ($path:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/", $path))
    };
}

const ROOT_2012: &str = fixture!("ksr/root-dnskey-rrsig-2012-06-15.zone");
const ROOT_2023: &str = fixture!("ksr/root-dnskey-rrsig-2023-2026.zone");
const ROOT_ANCHORS: &str = fixture!("ksr/root-anchors.xml");
const ROOT_KSK_TXT: &str = fixture!("ksr/root-ksk-trust-anchors.txt");
const LEGACY_KSK1: &str = fixture!("ksr/legacy/rsa2048-1.key");
const LEGACY_KSK2: &str = fixture!("ksr/legacy/rsa2048-2.key");

/// vectors.md §1 (RFC 5702 §6.1).
const RFC5702_SHA256: &str = "\
example.net.     3600 IN DNSKEY 256 3 8 AwEAAcFcGsaxxdgiuuGmCkVImy4h99CqT7jwY3pexPGcnUFtR2Fh36BponcwtkZ4cAgtvd4Qs8PkxUdp6p/DlUmObdk= ; key tag 9033
www.example.net. 3600 IN A      192.0.2.91
www.example.net. 3600 IN RRSIG  A 8 3 3600 20300101000000 20000101000000 9033 example.net. kRCOH6u7l0QGy9qpC9l1sLncJcOKFLJ7GhiUOibu4teYp5VE9RncriShZNz85mwlMgNEacFYK/lPtPiVYP4bwg==
";
/// vectors.md §2 (RFC 5702 §6.2).
const RFC5702_SHA512: &str = "\
example.net.     3600 IN DNSKEY 256 3 10 AwEAAdHoNTOW+et86KuJOWRDp1pndvwb6Y83nSVXXyLA3DLroROUkN6X0O6pnWnjJQujX/AyhqFDxj13tOnD9u/1kTg7cV6rklMrZDtJCQ5PCl/D7QNPsgVsMu1J2Q8gpMpztNFLpPBz1bWXjDtaR7ZQBlZ3PFY12ZTSncorffcGmhOL ; key tag 3740
www.example.net. 3600 IN A      192.0.2.91
www.example.net. 3600 IN RRSIG  A 10 3 3600 20300101000000 20000101000000 3740 example.net. tsb4wnjRUDnB1BUi+t6TMTXThjVnG+eCkWqjvvjhzQL1d0YRoOe0CbxrVDYd0xDtsuJRaeUw1ep94PzEWzr0iGYgZBWm/zpq+9fOuagYJRfDqfReKBzMweOLDiNa8iP5g9vMhpuv6OPlvpXwm9Sa9ZXIbNl1MBGk0fthPgxdDLw=
";
/// vectors.md §3 (RFC 6605 §6.1).
const RFC6605_P256: &str = "\
example.net.     3600 IN DNSKEY 257 3 13 GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA== ; key tag 55648
example.net.     3600 IN DS     55648 13 2 b4c8c1fe2e7477127b27115656ad6256f424625bf5c1e2770ce6d6e37df61d17
www.example.net. 3600 IN A      192.0.2.1
www.example.net. 3600 IN RRSIG  A 13 3 3600 20100909100439 20100812100439 55648 example.net. qx6wLYqmh+l9oCKTN6qIc+bw6ya+KJ8oMz0YP107epXAyGmt+3SNruPFKG7tZoLBLlUzGGus7ZwmwWep666VCw==
";
/// vectors.md §4 (RFC 6605 §6.2).
const RFC6605_P384: &str = "\
example.net.     3600 IN DNSKEY 257 3 14 xKYaNhWdGOfJ+nPrL8/arkwf2EY3MDJ+SErKivBVSum1w/egsXvSADtNJhyem5RCOpgQ6K8X1DRSEkrbYQ+OB+v8/uX45NBwY8rp65F6Glur8I/mlVNgF6W/qTI37m40 ; key tag 10771
example.net.     3600 IN DS     10771 14 4 72d7b62976ce06438e9c0bf319013cf801f09ecc84b8d7e9495f27e305c6a9b0563a9b5f4d288405c3008a946df983d6
www.example.net. 3600 IN A      192.0.2.1
www.example.net. 3600 IN RRSIG  A 14 3 3600 20100909102025 20100812102025 10771 example.net. /L5hDKIvGDyI1fcARX3z65qrmPsVz73QD1Mr5CEqOiLP95hxQouuroGCeZOvzFaxsT8Glr74hbavRKayJNuydCuzWTSSPdz7wnqXL5bdcJzusdnI0RSMROxxwGipWcJm
";
/// RFC 8080 §6.1 as corrected by erratum 4935 (key: fixtures/rfc8080-ed25519.private).
const RFC8080_ED25519: &str = "\
example.com. 3600 IN DNSKEY 257 3 15 l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=
example.com. 3600 IN MX 10 mail.example.com.
example.com. 3600 IN RRSIG MX 15 2 3600 1440021600 1438207200 3613 example.com. (
             oL9krJun7xfBOIWcGHi7mag5/hdZrKWw15jPGrHpjQeRAvTdszaPD+QLs3f
             x8A4M3e23mRZ9VrbpMngwcrqNAg== )
";

/// skr-root-2018-q1-0-d_to_e.xml bundle 1 (0a8f7774-…): its four keys and KSK-2010's signature.
const ZSK_41824: &str = "AwEAAaDJd0KOMYGCEF0/cftC2hrFtz5GSn1HOiaxEp053AfbxQ3pT8BEtahPiUkCo1Qx4PECJ23YwaFhfWWjapr6AFxhD8klfZGp95ickoRlm91ZzXX/mcfn9vlUpZK2M8qjljNMzZJSopFY+cxRvib2Irb6YeP2a0vppaLnvR4BeOyEkQolLqvVHW7UqDFiP/CM15BWBsAIdbyo8L1h3OeP63TaYIrWttjGBILeZinSaJ39amiVs8t00RjTaKVo3vY2k6dje1Rh1ELqjNj8+cKA8iWC3VU7ApkyuGDy631RDILa6wCgcBVCzfFfOthQILxQra88tNWzCVoryQ89f1WjBJc=";
const ZSK_46809: &str = "AwEAAcRIZfxskdElMKgjwvWQO2bQe7EGAvX6zgIaqmbsaMqmMrIpd1+bP7nyULLuL8jWnKAqcaVfal2yJD50gg5zFl5yW/F9dKNXXEFI7VEcGrPyG6/OrA9RBU8pGWm0qxpsNm5UIgTU5IX7pb/0rBj67c/R7qln8sjH1ylsr4f1Y3R6p/druiEalKasEjGKA9L2w9jzUQusWxM7fQx/T8c/3x3bsjveD1dleQ6MJaCx4bpPXYZpqXmSvGn+T2v5350cBVAFqVKhGbjxEyXAweem8cTU4L1p+DV7Ua11a1tMf0Tlu8pkpLwh7NQIggIEhJwEhPeXE3E4C6Q2/PFENcoFERc=";
const KSK_2010: &str = "AwEAAagAIKlVZrpC6Ia7gEzahOR+9W29euxhJhVVLOyQbSEW0O8gcCjFFVQUTf6v58fLjwBd0YI0EzrAcQqBGCzh/RStIoO8g0NfnfL2MTJRkxoXbfDaUeVPQuYEhg37NZWAJQ9VnMVDxP/VHL496M/QZxkjf5/Efucp2gaDX6RS6CXpoY68LsvPVjR0ZSwzz1apAzvN9dlzEheX7ICJBBtuA6G3LQpzW5hOA2hzCTMjJPJ8LbqF6dsV6DoBQzgul0sGIcGOYl7OyQdXfZ57relSQageu+ipAdTTJ25AsRTAoub8ONGcLmqrAmRLKBP1dfwhYB4N7knNnulqQxA+Uk1ihz0=";
const KSK_2017: &str = "AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3+/4RgWOq7HrxRixHlFlExOLAJr5emLvN7SWXgnLh4+B5xQlNVz8Og8kvArMtNROxVQuCaSnIDdD5LKyWbRd2n9WGe2R8PzgCmr3EgVLrjyBxWezF0jLHwVN8efS3rCj/EWgvIWgb9tarpVUDK/b58Da+sqqls3eNbuv7pr+eoZG+SrDK6nWeL3c6H5Apxz7LjVc1uTIdsIXxuOLYA4/ilBmSVIzuDWfdRUfhHdY6+cn8HFRm+2hM8AnXGXws9555KrUB5qihylGa8subX2Nn6UwNR1AkUTV74bU=";
const SIG_2018_B1: &str = "mM30cv0ee5uJ11Fg68dWjwty/Oe0WoNpsIiQCro6fM3bEd0pjhZFmFRtUgSNobxW/aDx5nE5MrSMomMvLCEvDLB8gU3Gk64ItURtK0WDzWKLPHyCLAPA5IXEUBU+t8vCYMHiqjVLOMHy/CJLO0Y36B3WLvkm/swFnegS1TepcknELqEGaVaaPNgqC3v7VtFpbRY0e4nOG69MZhieM2PsjoJcJKV59zF02ZVD8potQsFoE6JWH75/WpzpP61o0KnSwUCEzotV0nGHI8Ji6EIm6jkwzU46lTldzn8PHRhnsEmOr/uxdGk57FNE2vrE4fUqx10FJ/xZS8D2K8/lfaG8/w==";

const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn key(flags: u16, alg: u8, b64: &str) -> DnsKey {
    DnsKey::new(flags, alg, STANDARD.decode(b64).unwrap()).unwrap()
}

fn root_anchors() -> Vec<Anchor> {
    TrustAnchor::parse(ROOT_ANCHORS).unwrap().anchors().unwrap()
}

fn failed_indices(report: &ZoneReport) -> Vec<usize> {
    report.failures().map(|s| s.index).collect()
}

/// Flips the lowest bit of the 6-bit group of the base64 character at `at`.
fn flip_base64_at(text: &str, at: usize) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let index = BASE64.iter().position(|&c| c == bytes[at]).unwrap();
    bytes[at] = BASE64[index ^ 1];
    String::from_utf8(bytes).unwrap()
}

/// Byte offset in `text` of the line holding the `n`-th match of `needle` (by line).
fn nth_line_start(text: &str, needle: &str, n: usize) -> usize {
    let mut offset = 0;
    let mut seen = 0;
    for line in text.split_inclusive('\n') {
        if line.contains(needle) {
            if seen == n {
                return offset;
            }
            seen += 1;
        }
        offset += line.len();
    }
    panic!("fewer than {} lines with {needle:?}", n + 1);
}

/// `signature_start`: the first base64 characters of the RRSIG's signature.
fn single_signature_ok(text: &str, tag: u16, signature_start: &str) {
    let report = verify_zone_text(text, &[]).unwrap();
    assert_eq!(report.signatures.len(), 1);
    assert_eq!(report.signatures[0].key_tag, tag);
    assert_eq!(report.signatures[0].result, Ok(()), "{report:#?}");
    // One bit of the signature flipped: that RRSIG fails.
    let sig_at = text.find(signature_start).unwrap() + 7;
    let flipped = verify_zone_text(&flip_base64_at(text, sig_at), &[]).unwrap();
    assert_eq!(
        flipped.signatures[0].result,
        Err(SignatureFailure::Verify(VerifyError::BadSignature))
    );
}

#[test]
fn rfc5702_rsasha256_512_bit() {
    single_signature_ok(RFC5702_SHA256, 9033, "kRCOH6u7l0");
    let fields = RrsigFields {
        type_covered: 1,
        algorithm: 8,
        labels: 3,
        original_ttl: 3600,
        expiration: 0x70dbd880,
        inception: 0x386d4380,
        key_tag: 9033,
        signer_name: Name::vec_from_str("example.net.").unwrap(),
    };
    let owner = Name::vec_from_str("www.example.net.").unwrap();
    let data = rrset_signed_data_wire(
        &fields,
        &owner,
        domain::base::iana::Class::IN,
        1,
        &[&[192, 0, 2, 91]],
    )
    .unwrap();
    assert_eq!(data.len(), 62);
    assert_eq!(
        hex::encode(digest::digest(&digest::SHA256, &data)),
        "1f3cb0b430354865876f3a70a5d34ed10a4346fd67869aca7b824bf9218d90cc"
    );
    // The published signature is the raw RSA of vectors.md's CKM_RSA_X_509 block: check it
    // with the public operation, s^e mod n == EMSA-PKCS1-v1_5 block.
    let k = key(
        256,
        8,
        "AwEAAcFcGsaxxdgiuuGmCkVImy4h99CqT7jwY3pexPGcnUFtR2Fh36BponcwtkZ4cAgtvd4Qs8PkxUdp6p/DlUmObdk=",
    );
    let sig = STANDARD.decode("kRCOH6u7l0QGy9qpC9l1sLncJcOKFLJ7GhiUOibu4teYp5VE9RncriShZNz85mwlMgNEacFYK/lPtPiVYP4bwg==").unwrap();
    verify(&k, &data, &sig).unwrap();
    let (n, e) = k.rsa_components().unwrap();
    let public = rsa::PublicKey::new_with_size_limits(
        rsa::BoxedUint::from_be_slice_vartime(n),
        rsa::BoxedUint::from_be_slice_vartime(e),
        512..=4096,
    )
    .unwrap();
    assert_eq!(
        raw_public_op(&public, &sig),
        emsa_pkcs1_v15(8, &data, 64).unwrap()
    );
    assert_eq!(
        hex::encode(emsa_pkcs1_v15(8, &data, 64).unwrap()),
        "0001ffffffffffffffffffff003031300d0609608648016503040201050004201f3cb0b430354865876f3a70a5d34ed10a4346fd67869aca7b824bf9218d90cc"
    );
}

/// s^e mod n, left-padded to the modulus length.
fn raw_public_op(public: &rsa::PublicKey, signature: &[u8]) -> Vec<u8> {
    let s = rsa::BoxedUint::from_be_slice(signature, public.n_bits_precision()).unwrap();
    let m = rsa::hazmat::rsa_encrypt(public, &s).unwrap().to_be_bytes();
    m[m.len() - public.size()..].to_vec()
}

#[test]
fn rfc5702_rsasha512_1024_bit() {
    single_signature_ok(RFC5702_SHA512, 3740, "tsb4wnjRUD");
    let k = key(
        256,
        10,
        "AwEAAdHoNTOW+et86KuJOWRDp1pndvwb6Y83nSVXXyLA3DLroROUkN6X0O6pnWnjJQujX/AyhqFDxj13tOnD9u/1kTg7cV6rklMrZDtJCQ5PCl/D7QNPsgVsMu1J2Q8gpMpztNFLpPBz1bWXjDtaR7ZQBlZ3PFY12ZTSncorffcGmhOL",
    );
    assert_eq!((k.key_tag(), k.rsa_bits()), (3740, Some(1024)));
    let data = hex::decode("00010a0300000e1070dbd880386d43800e9c076578616d706c65036e65740003777777076578616d706c65036e6574000001000100000e100004c000025b").unwrap();
    assert_eq!(
        hex::encode(digest::digest(&digest::SHA512, &data)),
        "be7f50a05dce52f78d2000125be707c4f7c81498a8d0c4d1484f0bc0df375c185de5a1d97faec431123dcec1ec9ea7895826fb81cdbbdf0badb59cd0df247650"
    );
    let sig = STANDARD.decode("tsb4wnjRUDnB1BUi+t6TMTXThjVnG+eCkWqjvvjhzQL1d0YRoOe0CbxrVDYd0xDtsuJRaeUw1ep94PzEWzr0iGYgZBWm/zpq+9fOuagYJRfDqfReKBzMweOLDiNa8iP5g9vMhpuv6OPlvpXwm9Sa9ZXIbNl1MBGk0fthPgxdDLw=").unwrap();
    verify(&k, &data, &sig).unwrap();
    // The same signature under the wrong hash (algorithm 8) fails.
    let as_sha256 = DnsKey { algorithm: 8, ..k };
    assert_eq!(
        verify(&as_sha256, &data, &sig),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn rfc6605_ecdsa() {
    single_signature_ok(RFC6605_P256, 55648, "qx6wLYqmh+");
    single_signature_ok(RFC6605_P384, 10771, "/L5hDKIvGD");
    // The DS lines of the vectors equal the digests of the DNSKEYs.
    for text in [RFC6605_P256, RFC6605_P384] {
        let records = parse_zone_text(text).unwrap();
        let dnskey = records.iter().find_map(|r| match &r.data {
            ZoneRecordData::Dnskey(k) => Some((r.owner.clone(), DnsKey::from_domain(k))),
            _ => None,
        });
        let (owner, dnskey) = dnskey.unwrap();
        let ds = records.iter().find_map(|r| match &r.data {
            ZoneRecordData::Ds(ds) => Some(ds.clone()),
            _ => None,
        });
        let ds = ds.unwrap();
        assert_eq!(ds.key_tag(), dnskey.key_tag());
        assert_eq!(
            dnskey.ds_digest(&owner, ds.digest_type().to_int()).unwrap(),
            *ds.digest()
        );
    }
}

#[test]
fn rfc8080_ed25519_mx() {
    single_signature_ok(RFC8080_ED25519, 3613, "oL9krJun7x");
    // The signed data of the PowerDNS test of the same vector: MX with an uncompressed name.
    let records = parse_zone_text(RFC8080_ED25519).unwrap();
    let rrsig = records.iter().find_map(|r| match &r.data {
        ZoneRecordData::Rrsig(s) => Some(s.clone()),
        _ => None,
    });
    let fields = RrsigFields::from_rrsig(&rrsig.unwrap());
    let mx: Vec<_> = records
        .iter()
        .filter(|r| r.data.rtype() == domain::base::iana::Rtype::MX)
        .map(|r| r.data.clone())
        .collect();
    let owner = Name::vec_from_str("example.com.").unwrap();
    let data =
        signer::dnssec::rrset_signed_data(&fields, &owner, domain::base::iana::Class::IN, &mx)
            .unwrap();
    assert_eq!(
        hex::encode(&data),
        "000f0f0200000e1055d4fc6055b94ce00e1d076578616d706c6503636f6d00076578616d706c6503636f6d00000f000100000e100014000a046d61696c076578616d706c6503636f6d00"
    );
}

#[test]
fn real_root_vector_2018_q1_bundle_1() {
    let keys = [
        key(256, 8, ZSK_41824),
        key(256, 8, ZSK_46809),
        key(257, 8, KSK_2010),
        key(257, 8, KSK_2017),
    ];
    let tags: Vec<u16> = keys.iter().map(DnsKey::key_tag).collect();
    assert_eq!(tags, [41824, 46809, 19036, 20326]);
    // Inception 2018-01-01, expiration 2018-01-22 (vectors.md §7).
    let fields = RrsigFields::root_dnskey(8, 172800, 0x5a497a00, 0x5a652980, 19036);
    assert_eq!(
        hex::encode(fields.rdata_prefix()),
        "003008000002a3005a6529805a497a004a5c00"
    );
    // Given in reverse, the keys still come out in canonical order.
    let mut reversed = keys.clone();
    reversed.reverse();
    let data = signed_data(&fields, &Name::root_vec(), 172800, &reversed).unwrap();
    assert_eq!(data.len(), 1119);
    assert_eq!(
        hex::encode(digest::digest(&digest::SHA256, &data)),
        "45735a3102b4e9122290e4610dcd3087562ce49ac03a383fee4e155d3f9d2ec6"
    );
    let positions: Vec<usize> = keys
        .iter()
        .map(|k| {
            data.windows(k.rdata().len())
                .position(|w| w == k.rdata().as_slice())
                .unwrap()
        })
        .collect();
    assert!(positions.windows(2).all(|p| p[0] < p[1]), "{positions:?}");
    let mut sig = STANDARD.decode(SIG_2018_B1).unwrap();
    verify(&keys[2], &data, &sig).unwrap();
    assert_eq!(
        verify(&keys[3], &data, &sig),
        Err(VerifyError::BadSignature)
    );
    sig[100] ^= 0x80;
    assert_eq!(
        verify(&keys[2], &data, &sig),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn root_ksk_ds_digests_match_published_anchors() {
    let root = Name::root_vec();
    let anchors = TrustAnchor::parse(ROOT_ANCHORS).unwrap();
    let ksk2024 = "AwEAAa96jeuknZlaeSrvyAJj6ZHv28hhOKkx3rLGXVaC6rXTsDc449/cidltpkyGwCJNnOAlFNKF2jBosZBU5eeHspaQWOmOElZsjICMQMC3aeHbGiShvZsx4wMYSjH8e7Vrhbu6irwCzVBApESjbUdpWWmEnhathWu1jo+siFUiRAAxm9qyJNg/wOZqqzL/dL/q8PkcRU5oUKEpUge71M3ej2/7CPqpdVwuMoTvoB+ZOT4YeGyxMvHmbrxlFzGOHOijtzN+u1TQNatX2XBuzZNQ1K+s2CXkPIZo7s6JgZyvaBevYtxPvYLw4z9mR7K2vaF18UYH9Z9GNUUeayffKC73PYc=";
    let expected = [
        (
            "Kjqmt7v",
            KSK_2010,
            19036,
            19164,
            "49AAC11D7B6F6446702E54A1607371607A1A41855200FD2CE1CDDE32F24E8FB5",
        ),
        (
            "Klajeyz",
            KSK_2017,
            20326,
            20454,
            "E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D",
        ),
        (
            "Kmyv6jo",
            ksk2024,
            38696,
            38824,
            "683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16",
        ),
    ];
    for ((label, b64, tag, revoked_tag, ds), published) in expected.iter().zip(&anchors.digests) {
        let k = key(257, 8, b64);
        assert_eq!(k.rdata().len(), 264);
        assert_eq!((k.key_tag(), k.revoked().key_tag()), (*tag, *revoked_tag));
        assert_eq!(hex::encode_upper(k.ds_sha256(&root)), *ds);
        assert_eq!((published.id.as_str(), published.key_tag), (*label, *tag));
        assert_eq!(published.digest, k.ds_sha256(&root));
    }
    // root-ksk-trust-anchors.txt: every DS line is the digest of a DNSKEY line.
    let records = parse_zone_text(ROOT_KSK_TXT).unwrap();
    let keys: Vec<DnsKey> = records
        .iter()
        .filter_map(|r| match &r.data {
            ZoneRecordData::Dnskey(k) => Some(DnsKey::from_domain(k)),
            _ => None,
        })
        .collect();
    let ds: Vec<_> = records
        .iter()
        .filter_map(|r| match &r.data {
            ZoneRecordData::Ds(ds) => Some(ds.clone()),
            _ => None,
        })
        .collect();
    assert_eq!((keys.len(), ds.len()), (2, 2));
    for (k, ds) in keys.iter().zip(&ds) {
        assert_eq!(ds.key_tag(), k.key_tag());
        assert_eq!(k.ds_digest(&root, 2).unwrap(), *ds.digest());
    }
    // And the 2012 zone's KSK is KSK-2010.
    let k2010 = parse_zone_text(ROOT_2012)
        .unwrap()
        .iter()
        .find_map(|r| match &r.data {
            ZoneRecordData::Dnskey(k) if k.flags() == 257 => Some(DnsKey::from_domain(k)),
            _ => None,
        })
        .unwrap();
    assert_eq!(k2010, key(257, 8, KSK_2010));
}

#[test]
fn all_102_root_signatures_2023_2026_verify_and_chain() {
    let report = verify_zone_text(ROOT_2023, &root_anchors()).unwrap();
    assert_eq!(report.signatures.len(), 102);
    assert!(
        report.all_ok(),
        "{:#?}",
        report.failures().collect::<Vec<_>>()
    );
    assert!(
        report
            .signatures
            .iter()
            .all(|s| s.key_tag == 20326 && s.owner == "." && s.type_covered == "DNSKEY")
    );
    let first = &report.signatures[0];
    assert_eq!(
        (first.inception.as_str(), first.expiration.as_str()),
        ("20231031000000", "20231121000000")
    );
    let last = &report.signatures[101];
    assert_eq!(
        (last.inception.as_str(), last.expiration.as_str()),
        ("20260820000000", "20260910000000")
    );
    assert_eq!(last.rrset_size, 3);
    // Anchored to KSK-2010 only, none of them chains.
    let only_2010: Vec<Anchor> = root_anchors().into_iter().take(1).collect();
    let report = verify_zone_text(ROOT_2023, &only_2010).unwrap();
    assert_eq!(report.failures().count(), 102);
    assert!(
        report
            .signatures
            .iter()
            .all(|s| s.result == Err(SignatureFailure::NotAnchored(20326)))
    );
}

#[test]
fn root_2012_verifies_under_ksk_2010() {
    let report = verify_zone_text(ROOT_2012, &root_anchors()).unwrap();
    assert_eq!(report.signatures.len(), 1);
    assert!(report.all_ok(), "{report:#?}");
    let sig = &report.signatures[0];
    assert_eq!((sig.key_tag, sig.rrset_size), (19036, 2));
    assert_eq!(
        (sig.inception.as_str(), sig.expiration.as_str()),
        ("20120610000000", "20120624235959")
    );
    // A DNSKEY anchor works as well as a DS anchor.
    let by_key = [Anchor::root_key(key(257, 8, KSK_2010))];
    assert!(verify_zone_text(ROOT_2012, &by_key).unwrap().all_ok());
    let wrong = [Anchor::root_key(key(257, 8, KSK_2017))];
    assert_eq!(
        failed_indices(&verify_zone_text(ROOT_2012, &wrong).unwrap()),
        [0]
    );
}

#[test]
fn one_flipped_signature_bit_fails_exactly_that_entry() {
    let anchors = root_anchors();
    for entry in [0, 57, 101] {
        let line = nth_line_start(ROOT_2023, "\tRRSIG\t", entry);
        let at = line + ROOT_2023[line..].find(" 20326 . ").unwrap() + 9 + 11;
        let report = verify_zone_text(&flip_base64_at(ROOT_2023, at), &anchors).unwrap();
        assert_eq!(failed_indices(&report), [entry]);
        assert_eq!(
            report.signatures[entry].result,
            Err(SignatureFailure::Verify(VerifyError::BadSignature))
        );
    }
}

#[test]
fn one_flipped_key_bit_fails_exactly_that_entry() {
    let anchors = root_anchors();
    // A ZSK bit: the signed data of entry 30 changes.
    let zsk = nth_line_start(ROOT_2023, "\tRRSIG\t", 29) + 1;
    let zsk = zsk + ROOT_2023[zsk..].find("DNSKEY\t256 3 8 ").unwrap() + 15 + 20;
    let report = verify_zone_text(&flip_base64_at(ROOT_2023, zsk), &anchors).unwrap();
    assert_eq!(failed_indices(&report), [30]);
    assert_eq!(
        report.signatures[30].result,
        Err(SignatureFailure::Verify(VerifyError::BadSignature))
    );
    // The signing KSK's bit in entry 80: its tag changes, so that entry has no key 20326.
    let ksk = nth_line_start(ROOT_2023, "\tRRSIG\t", 79) + 1;
    let ksk = ksk + ROOT_2023[ksk..].find("DNSKEY\t257 3 8 AwEAAaz/").unwrap() + 15 + 30;
    let report = verify_zone_text(&flip_base64_at(ROOT_2023, ksk), &anchors).unwrap();
    assert_eq!(failed_indices(&report), [80]);
    assert_eq!(
        report.signatures[80].result,
        Err(SignatureFailure::NoKey {
            key_tag: 20326,
            algorithm: 8
        })
    );
    // KSK-2024, published but not signing, in the last entry.
    let k24 = nth_line_start(ROOT_2023, "\tRRSIG\t", 100) + 1;
    let k24 = k24 + ROOT_2023[k24..].find("DNSKEY\t257 3 8 AwEAAa96").unwrap() + 15 + 40;
    let report = verify_zone_text(&flip_base64_at(ROOT_2023, k24), &anchors).unwrap();
    assert_eq!(failed_indices(&report), [101]);
}

#[test]
fn an_rrsig_moved_to_another_entry_fails_there() {
    // Entry 5 (2023-12-20) adds ZSK 30903: entry 4's signature, put in place of entry 5's,
    // is checked against entry 5's keys and fails; everything else still verifies.
    let line = |n: usize| {
        let start = nth_line_start(ROOT_2023, "\tRRSIG\t", n);
        &ROOT_2023[start..start + ROOT_2023[start..].find('\n').unwrap() + 1]
    };
    let (line4, line5) = (line(4), line(5));
    let moved = ROOT_2023.replacen(line5, line4, 1);
    let report = verify_zone_text(&moved, &root_anchors()).unwrap();
    assert_eq!(failed_indices(&report), [5]);
}

fn legacy_key(pem: &str) -> (rsa::PrivateKey, DnsKey) {
    let private = rsa::PrivateKey::from_pkcs1_pem(pem).unwrap();
    let key = DnsKey::from_rsa(257, 8, &private.n_bytes(), &private.e_bytes()).unwrap();
    (private, key)
}

#[test]
fn legacy_test_keys_tags_and_ckm_rsa_x_509_path() {
    let (private1, ksk1) = legacy_key(LEGACY_KSK1);
    let (_, ksk2) = legacy_key(LEGACY_KSK2);
    assert_eq!((ksk1.key_tag(), ksk1.revoked().key_tag()), (5017, 5145));
    assert_eq!((ksk2.key_tag(), ksk2.revoked().key_tag()), (55186, 55314));
    assert_eq!(ksk1.rsa_bits(), Some(2048));
    // Sign root DNSKEY data as IANA's tool does: raw RSA over the host-built EMSA block.
    // The public operation on a PKCS#1 v1.5 signature gives back exactly that block, and
    // `verify` accepts the signature.
    let fields = RrsigFields::root_dnskey(8, 172800, 0x5a497a00, 0x5a652980, ksk1.key_tag());
    let data = signed_data(&fields, &Name::root_vec(), 172800, &[ksk1.clone(), ksk2]).unwrap();
    let hash = digest::digest(&digest::SHA256, &data);
    let sig = private1
        .pkcs1v15_sign_prehash::<rsa::sha2::Sha256>(hash.as_ref())
        .unwrap();
    verify(&ksk1, &data, &sig).unwrap();
    let public = private1.to_public_key();
    assert_eq!(
        raw_public_op(&public, &sig),
        emsa_pkcs1_v15(8, &data, 256).unwrap()
    );
}
