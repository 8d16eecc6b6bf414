//! The KSR/SKR reader and writer against IANA's real files (fixtures/ksr/).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use signer::ksr::{
    AlgorithmParams, Body, Bundle, Layout, XmlError, XsdDuration, parse_document, write_document,
    write_ksr, write_skr,
};
use support::fixtures::{
    BUNDLE_1_2018, KSR_2009_Q4, KSR_2010_Q1, KSR_2010_Q2, KSR_2016_Q3, KSR_2017_Q2, KSR_2018_Q1,
    KSR_BAD, LEGACY_2009_Q4, LEGACY_2010_Q1, LEGACY_2010_Q2, SKR_2017_Q1, SKR_2017_Q2, SKR_2017_Q3,
    SKR_2018_Q1, request, response, ts,
};

fn counts(bundles: &[Bundle]) -> (usize, usize, usize) {
    let keys = bundles.iter().map(|b| b.keys.len()).sum();
    let sigs = bundles.iter().map(|b| b.signatures.len()).sum();
    (bundles.len(), keys, sigs)
}

/// (file, id prefix, serial, bundles, keys, PoP signatures)
type KsrCase = (&'static [u8], &'static str, u64, usize, usize, usize);

#[test]
fn every_real_ksr_parses_with_its_counts() {
    let cases: [KsrCase; 7] = [
        (KSR_2009_Q4, "acaf327e-", 1, 6, 7, 7),
        (KSR_2010_Q1, "ba050f09-", 1, 9, 11, 11),
        (KSR_2010_Q2, "14d45450-", 1, 9, 11, 11),
        (KSR_2016_Q3, "2dc3b3f3-", 1, 9, 11, 11),
        (KSR_2017_Q2, "23e34059-", 1, 9, 11, 11),
        (KSR_2018_Q1, "4fe9bb10-", 0, 9, 11, 11),
        (KSR_BAD, "4fe9bb10-", 0, 9, 11, 11),
    ];
    let mut pop_total = 0;
    for (i, (bytes, id, serial, bundles, keys, sigs)) in cases.into_iter().enumerate() {
        let doc = parse_document(bytes).unwrap();
        assert!(doc.id.starts_with(id), "{}", doc.id);
        assert_eq!(doc.serial, serial);
        assert_eq!(doc.domain, ".");
        let req = request(&doc);
        assert_eq!(req.timestamp, None);
        assert_eq!(counts(&req.bundles), (bundles, keys, sigs), "{id}");
        for b in &req.bundles {
            assert!(b.signers.is_empty());
            assert!(
                b.keys
                    .iter()
                    .all(|k| k.flags == 256 && k.protocol == 3 && k.ttl == 172_800)
            );
            assert!(
                b.signatures
                    .iter()
                    .all(|s| s.type_covered == 48 && s.labels == 0)
            );
        }
        if i < 6 {
            pop_total += sigs; // ksr.bad.xml is a copy of the 2018 file
        }
    }
    assert_eq!(pop_total, 62);
}

#[test]
fn ksr_2018_values_are_read_exactly() {
    let doc = parse_document(KSR_2018_Q1).unwrap();
    let req = request(&doc);
    let p = &req.policy;
    assert_eq!(p.publish_safety, XsdDuration::from_days(10));
    assert_eq!(p.retire_safety, XsdDuration::from_days(10));
    assert_eq!(p.max_signature_validity, XsdDuration::from_days(21));
    assert_eq!(p.min_signature_validity, XsdDuration::from_days(21));
    assert_eq!(p.max_validity_overlap, XsdDuration::from_days(12));
    assert_eq!(p.min_validity_overlap, XsdDuration::from_days(9));
    assert_eq!(p.algorithms.len(), 1);
    assert_eq!(p.algorithms[0].algorithm, 8);
    assert_eq!(
        p.algorithms[0].params,
        AlgorithmParams::Rsa {
            size: 2048,
            exponent: 65537
        }
    );
    let per_bundle: Vec<usize> = req.bundles.iter().map(|b| b.keys.len()).collect();
    assert_eq!(per_bundle, [2, 1, 1, 1, 1, 1, 1, 1, 2]);

    let b = &req.bundles[0];
    assert_eq!(b.id, BUNDLE_1_2018);
    assert_eq!(b.inception, ts("2018-01-01T00:00:00Z"));
    assert_eq!(b.expiration, ts("2018-01-22T00:00:00Z"));
    assert_eq!(b.inception.serial(), 0x5a49_7a00);
    assert_eq!(b.expiration.serial(), 0x5a65_2980);
    let tags: Vec<u16> = b.keys.iter().map(|k| k.key_tag).collect();
    assert_eq!(tags, [46809, 41824], "file order is kept");
    let k = &b.keys[0];
    assert_eq!(k.algorithm, 8);
    assert_eq!(
        k.public_key.len(),
        260,
        "RFC 3110: 1 + 3 exponent bytes + 256 modulus bytes"
    );
    assert_eq!(&k.public_key[..4], &[0x03, 0x01, 0x00, 0x01]);
    assert!(k.key_identifier.ends_with("5a534b35"));
    let s = &b.signatures[0];
    assert_eq!(s.key_tag, 46809);
    assert_eq!(s.inception, ts("2017-10-06T13:26:25+00:00"));
    assert_eq!(s.expiration, ts("2017-12-05T13:26:25+00:00"));
    assert_eq!(s.signature_data.len(), 256);
    assert_eq!((s.ttl, s.original_ttl, s.algorithm), (172_800, 172_800, 8));
    assert_eq!(s.signers_name, ".");
}

#[test]
fn ksr_2016_has_two_algorithm_policies_and_zoneless_times() {
    let doc = parse_document(KSR_2016_Q3).unwrap();
    let req = request(&doc);
    let params: Vec<_> = req
        .policy
        .algorithms
        .iter()
        .map(|a| (a.algorithm, a.params.clone()))
        .collect();
    assert_eq!(
        params,
        [
            (
                8,
                AlgorithmParams::Rsa {
                    size: 2048,
                    exponent: 65537
                }
            ),
            (
                8,
                AlgorithmParams::Rsa {
                    size: 1024,
                    exponent: 65537
                }
            ),
        ]
    );
    assert_eq!(req.bundles[0].inception, ts("2016-07-01T00:00:00+00:00"));
    let first_sig = &req.bundles[0].signatures[0];
    assert_eq!(first_sig.inception, ts("2016-04-28T16:06:52+00:00"));
}

#[test]
fn crlf_file_parses_like_the_others() {
    assert!(KSR_2010_Q2.windows(2).any(|w| w == b"\r\n"));
    let doc = parse_document(KSR_2010_Q2).unwrap();
    let req = request(&doc);
    assert_eq!(counts(&req.bundles), (9, 11, 11));
    // CR must not leak into values.
    assert!(req.bundles.iter().all(|b| !b.id.contains('\r')));
    assert!(
        req.bundles
            .iter()
            .flat_map(|b| &b.signatures)
            .all(|s| s.signers_name == ".")
    );
    // Declared exponent 3 for e=65537 keys: the parser reports what is written.
    assert_eq!(
        req.policy.algorithms[0].params,
        AlgorithmParams::Rsa {
            size: 1024,
            exponent: 3
        }
    );
}

#[test]
fn every_real_skr_parses_with_its_counts() {
    // (file, bundles, keys, KSK signatures)
    let kskm: [(&[u8], usize, usize, usize); 4] = [
        (SKR_2017_Q1, 9, 20, 9),
        (SKR_2017_Q2, 9, 20, 9),
        (SKR_2017_Q3, 9, 28, 9),
        (SKR_2018_Q1, 9, 29, 9),
    ];
    let legacy: [(&[u8], usize, usize, usize); 3] = [
        (LEGACY_2009_Q4, 6, 13, 6),
        (LEGACY_2010_Q1, 9, 20, 9),
        (LEGACY_2010_Q2, 9, 27, 11),
    ];
    let mut ksk_sigs = 0;
    for (bytes, bundles, keys, sigs) in kskm {
        let doc = parse_document(bytes).unwrap();
        let resp = response(&doc);
        assert_eq!(counts(&resp.bundles), (bundles, keys, sigs));
        assert_eq!(resp.ksk_policy.publish_safety, XsdDuration::from_secs(0));
        assert_eq!(resp.ksk_policy.retire_safety, XsdDuration::from_days(28));
        for b in &resp.bundles {
            for s in &b.signatures {
                assert!(["Kjqmt7v", "Klajeyz"].contains(&s.key_identifier.as_str()));
                assert!([19036, 20326].contains(&s.key_tag));
                assert_eq!((s.inception, s.expiration), (b.inception, b.expiration));
            }
        }
        ksk_sigs += sigs;
    }
    assert_eq!(ksk_sigs, 36);
    let mut legacy_sigs = 0;
    for (bytes, bundles, keys, sigs) in legacy {
        let doc = parse_document(bytes).unwrap();
        assert_eq!(counts(&response(&doc).bundles), (bundles, keys, sigs));
        legacy_sigs += sigs;
    }
    assert_eq!(legacy_sigs, 26);
}

#[test]
fn leading_zero_key_tags_and_the_revoked_key() {
    let doc = parse_document(LEGACY_2009_Q4).unwrap();
    let b = &response(&doc).bundles[0];
    let ksk = b.keys.iter().find(|k| k.key_identifier == "KSK1").unwrap();
    assert_eq!((ksk.key_tag, ksk.flags), (5017, 257));
    assert_eq!(b.signatures[0].key_tag, 5017);

    let doc = parse_document(LEGACY_2010_Q2).unwrap();
    let slot7 = &response(&doc).bundles[6];
    let revoked = slot7.keys.iter().find(|k| k.flags == 385).unwrap();
    assert_eq!(
        (revoked.key_identifier.as_str(), revoked.key_tag),
        ("KSK1", 5145)
    );
    let tags: Vec<u16> = slot7.signatures.iter().map(|s| s.key_tag).collect();
    assert_eq!(tags, [55186, 5145]);
}

#[test]
fn kskm_skr_round_trips_byte_for_byte() {
    let doc = parse_document(SKR_2018_Q1).unwrap();
    let out = write_skr(&doc);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        std::str::from_utf8(SKR_2018_Q1).unwrap()
    );
}

/// skr-root-2017-q1/q2/q3 were written by the legacy C ksrsigner (IANA's signer until late
/// 2018), not kskm: same elements but no indentation and `%05u` key tags. Written in kskm's
/// layout they differ only in indentation; in the legacy layout they are byte-identical.
#[test]
fn legacy_generated_skrs_round_trip_in_their_own_layout() {
    for bytes in [
        SKR_2017_Q1,
        SKR_2017_Q2,
        SKR_2017_Q3,
        LEGACY_2009_Q4,
        LEGACY_2010_Q1,
        LEGACY_2010_Q2,
    ] {
        let doc = parse_document(bytes).unwrap();
        let legacy = write_document(&doc, Layout::Legacy);
        assert_eq!(
            std::str::from_utf8(&legacy).unwrap(),
            std::str::from_utf8(bytes).unwrap()
        );
    }
    for bytes in [SKR_2017_Q1, SKR_2017_Q2, SKR_2017_Q3] {
        let doc = parse_document(bytes).unwrap();
        let kskm = String::from_utf8(write_skr(&doc)).unwrap();
        let unindented: String = kskm
            .lines()
            .map(|l| format!("{}\n", l.trim_start()))
            .collect();
        assert_eq!(unindented, std::str::from_utf8(bytes).unwrap());
        assert_eq!(parse_document(kskm.as_bytes()).unwrap(), doc);
    }
}

#[test]
fn every_document_survives_write_then_parse() {
    for bytes in [
        KSR_2009_Q4,
        KSR_2010_Q1,
        KSR_2010_Q2,
        KSR_2016_Q3,
        KSR_2017_Q2,
        KSR_2018_Q1,
        KSR_BAD,
        SKR_2017_Q1,
        SKR_2017_Q2,
        SKR_2017_Q3,
        SKR_2018_Q1,
        LEGACY_2009_Q4,
        LEGACY_2010_Q1,
        LEGACY_2010_Q2,
    ] {
        let doc = parse_document(bytes).unwrap();
        let out = match doc.body {
            Body::Request(_) => write_ksr(&doc),
            Body::Response(_) => write_skr(&doc),
        };
        assert_eq!(parse_document(&out).unwrap(), doc);
        for layout in [Layout::Kskm, Layout::Legacy] {
            assert_eq!(parse_document(&write_document(&doc, layout)).unwrap(), doc);
        }
    }
}

#[test]
fn written_ksr_has_the_kskm_layout() {
    let doc = parse_document(KSR_2018_Q1).unwrap();
    let out = String::from_utf8(write_ksr(&doc)).unwrap();
    let head: Vec<&str> = out.lines().take(8).collect();
    assert_eq!(
        head,
        [
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            r#"<KSR id="4fe9bb10-6f6b-4503-8575-7824e2d66925" domain="." serial="0">"#,
            "    <Request>",
            "        <RequestPolicy>",
            "            <ZSK>",
            "                <PublishSafety>P10D</PublishSafety>",
            "                <RetireSafety>P10D</RetireSafety>",
            "                <MaxSignatureValidity>P21D</MaxSignatureValidity>",
        ]
    );
    assert!(out.contains("\n                    <RSA size=\"2048\" exponent=\"65537\"/>\n"));
    assert!(out.contains("\n            <Inception>2018-01-01T00:00:00+00:00</Inception>\n"));
    assert!(out.ends_with("    </Request>\n</KSR>\n"));
}

#[test]
fn writer_escapes_and_reader_unescapes() {
    let mut doc = parse_document(KSR_2018_Q1).unwrap();
    doc.id = r#"a&b<c>"d'e"#.into();
    if let Body::Request(r) = &mut doc.body {
        r.timestamp = Some("2017-10-06T13:26:25Z".into());
        r.bundles[0].signers = vec!["K&1".into()];
        r.bundles[0].signatures[0].signers_name = "<odd>&".into();
    }
    let out = write_ksr(&doc);
    let text = std::str::from_utf8(&out).unwrap();
    assert!(text.contains(r#"<KSR id="a&amp;b&lt;c&gt;&quot;d&apos;e""#));
    assert!(text.contains(r#"<Request timestamp="2017-10-06T13:26:25Z">"#));
    assert!(text.contains(r#"<Signer keyIdentifier="K&amp;1"/>"#));
    assert!(text.contains("<SignersName>&lt;odd&gt;&amp;</SignersName>"));
    assert_eq!(parse_document(&out).unwrap(), doc);
}

#[test]
fn keys_can_be_ordered_as_current_kskm_writes_them() {
    let doc = parse_document(SKR_2018_Q1).unwrap();
    let mut bundle = response(&doc).bundles[0].clone();
    let before: Vec<u16> = bundle.keys.iter().map(|k| k.key_tag).collect();
    assert_eq!(before, [41824, 46809, 19036, 20326], "as in the file");
    bundle.sort_keys_by_tag();
    let after: Vec<u16> = bundle.keys.iter().map(|k| k.key_tag).collect();
    assert_eq!(after, [19036, 20326, 41824, 46809]);
}

// ---- rejections -------------------------------------------------------------------------

/// The 2018 KSR with the first `from` (in bundle 1 unless a policy or header) replaced by `to`.
fn ksr_with(from: &str, to: &str) -> Vec<u8> {
    let text = std::str::from_utf8(KSR_2018_Q1).unwrap();
    assert!(text.contains(from), "{from}");
    text.replacen(from, to, 1).into_bytes()
}

fn refused(bytes: &[u8]) -> (XmlError, String) {
    let e = parse_document(bytes).unwrap_err();
    let msg = e.to_string();
    (e, msg)
}

const FIRST_KEY_OPEN: &str = r#"<Key keyIdentifier="302e312c302a06035504031323566572695369676e20444e5353656320526f6f7420414c47382032303438205a534b35" keyTag="46809">"#;

#[test]
fn refuses_a_doctype() {
    let mut bytes = b"<!DOCTYPE KSR [<!ENTITY x \"boom\">]>\n".to_vec();
    bytes.extend_from_slice(KSR_2018_Q1);
    let (e, msg) = refused(&bytes);
    assert_eq!(
        e,
        XmlError::Forbidden {
            what: "a DOCTYPE/DTD",
            offset: 0
        }
    );
    assert!(msg.contains("DOCTYPE"), "{msg}");
}

#[test]
fn refuses_entity_and_character_references() {
    let (e, msg) = refused(&ksr_with(r#"id="4fe9bb10"#, r#"id="&foo;4fe9bb10"#));
    assert!(matches!(e, XmlError::Reference { .. }));
    assert!(msg.contains("&foo;") && msg.contains("byte "), "{msg}");
    let (_, msg) = refused(&ksr_with(
        "<SignersName>.</SignersName>",
        "<SignersName>&foo;</SignersName>",
    ));
    assert!(msg.contains("reference &foo; is not allowed"), "{msg}");
    let (_, msg) = refused(&ksr_with("<TTL>172800</TTL>", "<TTL>&#49;72800</TTL>"));
    assert!(msg.contains("reference &#49; is not allowed"), "{msg}");
    // The five predefined ones are fine where a value may hold them.
    let doc = parse_document(&ksr_with(
        "<SignersName>.</SignersName>",
        "<SignersName>&lt;.&gt;</SignersName>",
    ))
    .unwrap();
    assert_eq!(request(&doc).bundles[0].signatures[0].signers_name, "<.>");
}

#[test]
fn refuses_files_over_one_mebibyte_before_parsing() {
    let mut bytes = KSR_2018_Q1.to_vec();
    bytes.resize(1_048_576, b'\n');
    assert!(parse_document(&bytes).is_ok(), "exactly 1 MiB is allowed");
    bytes.push(b'\n');
    let (e, msg) = refused(&bytes);
    assert_eq!(e, XmlError::TooLarge { size: 1_048_577 });
    assert!(msg.contains("1048577") && msg.contains("1 MiB"), "{msg}");
    // Garbage is not even looked at.
    let (e, _) = refused(&vec![0xffu8; 1_048_577]);
    assert_eq!(e, XmlError::TooLarge { size: 1_048_577 });
}

#[test]
fn refuses_bad_base64() {
    let (e, msg) = refused(&ksr_with(
        "<PublicKey>AwEAAcRIZfx",
        "<PublicKey>AwEAAcRIZ!x",
    ));
    assert!(matches!(e, XmlError::BadBase64 { .. }));
    assert!(
        msg.contains(BUNDLE_1_2018) && msg.contains("<Key> <PublicKey>") && msg.contains("base64"),
        "{msg}"
    );
    // Non-zero padding bits (a second spelling of the same bytes) are refused too.
    let (_, msg) = refused(&ksr_with(
        "NcoFERc=</PublicKey>\n      </Key>\n      <Key",
        "NcoFERd=</PublicKey>\n      </Key>\n      <Key",
    ));
    assert!(msg.contains("base64"), "{msg}");
    let text = std::str::from_utf8(KSR_2018_Q1).unwrap();
    let start = text.find("<PublicKey>").unwrap() + "<PublicKey>".len();
    let end = text.find("</PublicKey>").unwrap();
    let empty = format!("{}{}", &text[..start], &text[end..]);
    let (_, msg) = refused(empty.as_bytes());
    assert!(
        msg.contains("<Key> <PublicKey> is not valid base64: it is empty"),
        "{msg}"
    );
}

#[test]
fn refuses_flags_other_than_256_257_385() {
    let from = format!("{FIRST_KEY_OPEN}\n        <TTL>172800</TTL>\n        <Flags>256</Flags>");
    let to = format!("{FIRST_KEY_OPEN}\n        <TTL>172800</TTL>\n        <Flags>258</Flags>");
    let (e, msg) = refused(&ksr_with(&from, &to));
    assert!(matches!(e, XmlError::BadValue { .. }));
    assert!(
        msg.contains(BUNDLE_1_2018) && msg.contains("<Flags>") && msg.contains("\"258\""),
        "{msg}"
    );
    assert!(msg.contains("256, 257 or 385"), "{msg}");
}

#[test]
fn refuses_protocol_other_than_3_and_other_types_covered() {
    let from = format!(
        "{FIRST_KEY_OPEN}\n        <TTL>172800</TTL>\n        <Flags>256</Flags>\n        <Protocol>3</Protocol>"
    );
    let to = format!(
        "{FIRST_KEY_OPEN}\n        <TTL>172800</TTL>\n        <Flags>256</Flags>\n        <Protocol>4</Protocol>"
    );
    let (_, msg) = refused(&ksr_with(&from, &to));
    assert!(msg.contains("<Protocol>") && msg.contains("\"4\""), "{msg}");
    let text = std::str::from_utf8(KSR_2018_Q1).unwrap().replacen(
        "<TypeCovered>DNSKEY<",
        "<TypeCovered>SOA<",
        1,
    );
    let (_, msg) = refused(text.as_bytes());
    assert!(
        msg.contains(BUNDLE_1_2018) && msg.contains("<TypeCovered>") && msg.contains("DNSKEY"),
        "{msg}"
    );
}

#[test]
fn refuses_bad_key_tags() {
    for bad in ["abc", "65536", "-1", "", "1 2"] {
        let (_, msg) = refused(&ksr_with(
            r#"5a534b35" keyTag="46809">"#,
            &format!(r#"5a534b35" keyTag="{bad}">"#),
        ));
        assert!(msg.contains(BUNDLE_1_2018), "{msg}");
        assert!(
            msg.contains(&format!("<Key> keyTag \"{bad}\" is not a number 0–65535")),
            "{msg}"
        );
    }
    let (_, msg) = refused(&ksr_with(r#"5a534b35" keyTag="46809">"#, r#"ZSK5">"#));
    assert!(msg.contains("lacks the required attribute keyTag"), "{msg}");
}

#[test]
fn refuses_a_missing_expiration() {
    let (e, msg) = refused(&ksr_with(
        "<Expiration>2018-01-22T00:00:00</Expiration>\n",
        "",
    ));
    assert!(matches!(
        e,
        XmlError::MissingElement {
            element: "Expiration",
            ..
        }
    ));
    assert!(
        msg.contains(BUNDLE_1_2018)
            && msg.contains("<RequestBundle> lacks the required <Expiration>"),
        "{msg}"
    );
}

#[test]
fn refuses_two_bodies() {
    let skr = std::str::from_utf8(SKR_2018_Q1).unwrap();
    let start = skr.find("<Response>").unwrap();
    let end = skr.find("</Response>").unwrap() + "</Response>".len();
    let twice = format!("{}{}\n{}", &skr[..end], &skr[start..end], &skr[end..]);
    let (e, msg) = refused(twice.as_bytes());
    assert!(matches!(e, XmlError::DuplicateElement { .. }));
    assert!(msg.contains("<KSR> has more than one <Response>"), "{msg}");

    let ksr = std::str::from_utf8(KSR_2018_Q1).unwrap();
    let body = &skr[start..end];
    let mixed = ksr.replacen("</Request>", &format!("</Request>{body}"), 1);
    let (_, msg) = refused(mixed.as_bytes());
    assert!(msg.contains("more than one <Request/Response>"), "{msg}");
}

#[test]
fn refuses_unknown_elements_and_attributes() {
    let (e, msg) = refused(&ksr_with(
        "<Expiration>2018-01-22T00:00:00</Expiration>\n",
        "<Expiration>2018-01-22T00:00:00</Expiration>\n<Extra/>\n",
    ));
    assert!(matches!(e, XmlError::UnexpectedElement { .. }));
    assert!(
        msg.contains(BUNDLE_1_2018)
            && msg.contains("unexpected element <Extra> inside <RequestBundle>"),
        "{msg}"
    );
    let (_, msg) = refused(&ksr_with(
        r#"<KSR domain="." "#,
        r#"<KSR extra="1" domain="." "#,
    ));
    assert!(
        msg.contains("<KSR> has an unexpected attribute \"extra\""),
        "{msg}"
    );
    // A Signer is a request element only.
    let skr = std::str::from_utf8(SKR_2018_Q1).unwrap().replacen(
        "</Expiration>",
        "</Expiration><Signer keyIdentifier=\"x\"/>",
        1,
    );
    let (_, msg) = refused(skr.as_bytes());
    assert!(
        msg.contains("unexpected element <Signer> inside <ResponseBundle>"),
        "{msg}"
    );
}

#[test]
fn refuses_truncated_documents() {
    for cut in [
        100,
        KSR_2018_Q1.len() / 2,
        KSR_2018_Q1.len() - 3,
        KSR_2018_Q1.len() - 10,
    ] {
        let (_, msg) = refused(&KSR_2018_Q1[..cut]);
        assert!(
            msg.contains("truncated") || msg.contains("malformed"),
            "cut {cut}: {msg}"
        );
    }
    let (e, msg) = refused(&KSR_2018_Q1[..KSR_2018_Q1.len() / 2]);
    assert!(matches!(e, XmlError::Truncated { .. }), "{msg}");
    let (e, _) = refused(&KSR_2018_Q1[..KSR_2018_Q1.len() - 6]);
    assert_eq!(
        e,
        XmlError::Truncated {
            element: "KSR".into()
        }
    );
}

#[test]
fn refuses_bundles_without_keys_or_signatures() {
    let text = std::str::from_utf8(KSR_2018_Q1).unwrap();
    // Bundle 2 has one key: drop it.
    let b2 = text.find("<RequestBundle id=\"4c05c9b8").unwrap();
    let k = b2 + text[b2..].find("<Key ").unwrap();
    let k_end = k + text[k..].find("</Key>").unwrap() + "</Key>".len();
    let no_key = format!("{}{}", &text[..k], &text[k_end..]);
    let (_, msg) = refused(no_key.as_bytes());
    assert!(
        msg.contains("<RequestBundle> lacks the required <Key>") && msg.contains("bundle 4c05c9b8"),
        "{msg}"
    );
    let s = b2 + text[b2..].find("<Signature ").unwrap();
    let s_end = s + text[s..].find("</Signature>").unwrap() + "</Signature>".len();
    let no_sig = format!("{}{}", &text[..s], &text[s_end..]);
    let (_, msg) = refused(no_sig.as_bytes());
    assert!(
        msg.contains("<RequestBundle> lacks the required <Signature>"),
        "{msg}"
    );
}

#[test]
fn refuses_other_xml_features_inside_the_document() {
    let cases = [
        (
            "<Inception>2018-01-01T00:00:00</Inception>",
            "<Inception><![CDATA[2018-01-01T00:00:00]]></Inception>",
            "CDATA",
        ),
        (
            "<RequestPolicy>",
            "<RequestPolicy><?php echo 1 ?>",
            "processing instruction",
        ),
        (
            "<RequestPolicy>",
            "<RequestPolicy><!-- note -->",
            "comment inside <KSR>",
        ),
        (
            "<RequestPolicy>",
            "<RequestPolicy>stray",
            "text \"stray\" is not allowed inside <RequestPolicy>",
        ),
        (
            "<TTL>172800</TTL>\n        <Flags>256</Flags>\n        <Protocol>3</Protocol>\n        <Algorithm>8</Algorithm>\n        <PublicKey>AwEAAcRIZfx",
            "<TTL><Deep>172800</Deep></TTL>\n        <Flags>256</Flags>\n        <Protocol>3</Protocol>\n        <Algorithm>8</Algorithm>\n        <PublicKey>AwEAAcRIZfx",
            "unexpected element <Deep> inside <TTL>",
        ),
        (
            "<RSA exponent=\"65537\" size=\"2048\"/>",
            "<RSA exponent=\"65537\" size=\"2048\"><X><Y/></X></RSA>",
            "nested deeper",
        ),
        (
            "<Inception>2018-01-01T00:00:00</Inception>",
            "<Inception>2018-01-01T00:00:00+01:00</Inception>",
            "not in UTC",
        ),
        (
            "<PublishSafety>P10D</PublishSafety>",
            "<PublishSafety>P1M</PublishSafety>",
            "months",
        ),
        (
            "<KSR domain=\".\" id=\"4fe9bb10-6f6b-4503-8575-7824e2d66925\" serial=\"0\">",
            "<KSR domain=\".\" id=\"4fe9bb10-6f6b-4503-8575-7824e2d66925\" serial=\"x\">",
            "<KSR> serial \"x\"",
        ),
        ("</KSR>", "</KSR><KSR/>", "after </KSR>"),
    ];
    for (from, to, needle) in cases {
        let (_, msg) = refused(&ksr_with(from, to));
        assert!(msg.contains(needle), "{to}: {msg}");
    }
}

#[test]
fn accepts_the_leniencies_real_files_need() {
    // A Verisign-style prologue, attributes in any order, Signature before Key, Z times.
    let text = std::str::from_utf8(KSR_2018_Q1).unwrap();
    let b2 = text.find("<RequestBundle id=\"4c05c9b8").unwrap();
    let k = b2 + text[b2..].find("<Key ").unwrap();
    let k_end = k + text[k..].find("</Key>").unwrap() + "</Key>".len();
    let s_end = k_end + text[k_end..].find("</Signature>").unwrap() + "</Signature>".len();
    let swapped = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- document generated by ksr-client.pl revision 75 -->\n{}{}{}{}",
        &text[..k],
        &text[k_end..s_end],
        &text[k..k_end],
        &text[s_end..]
    )
    .replacen("<Inception>2018-01-01T00:00:00<", "<Inception>2018-01-01T00:00:00Z<", 1)
    .replacen(r#"<KSR domain="." id="4fe9bb10-6f6b-4503-8575-7824e2d66925" serial="0">"#, r#"<KSR serial="0" id="4fe9bb10-6f6b-4503-8575-7824e2d66925" domain=".">"#, 1);
    assert_eq!(
        parse_document(swapped.as_bytes()).unwrap(),
        parse_document(KSR_2018_Q1).unwrap()
    );
}
