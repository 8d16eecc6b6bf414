//! IANA's KSRs and SKRs and the legacy test keys, from `fixtures/` of this repository.

use std::path::{Path, PathBuf};

use hsm_core::crypto::{self, PrivateKeyMaterial, RsaPrivateParts};
use signer::ksr::{Body, KsrDocument, Request, Response, Timestamp, parse_document};

/// `fixtures/NAME`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures")).join(name)
}

/// `fixtures/ksr/NAME`: IANA's KSRs and SKRs, the legacy ones under `legacy/`.
pub fn ksr_fixture(name: &str) -> PathBuf {
    fixture("ksr").join(name)
}

/// The bytes of `fixtures/ksr/NAME`, read at compile time.
macro_rules! ksr_bytes {
    ($name:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/ksr/",
            $name
        ))
        .as_slice()
    };
}

pub const KSR_2009_Q4: &[u8] = ksr_bytes!("ksr-root-2009-q4-2.xml");
pub const KSR_2010_Q1: &[u8] = ksr_bytes!("ksr-root-2010-q1-0.xml");
pub const KSR_2010_Q2: &[u8] = ksr_bytes!("ksr-root-2010-q2-0.xml");
pub const KSR_2016_Q3: &[u8] = ksr_bytes!("ksr-root-2016-q3-0.xml");
pub const KSR_2017_Q2: &[u8] = ksr_bytes!("ksr-root-2017-q2-0.xml");
pub const KSR_2018_Q1: &[u8] = ksr_bytes!("ksr-root-2018-q1-0-d_to_e.xml");
pub const KSR_BAD: &[u8] = ksr_bytes!("ksr.bad.xml");
pub const SKR_2017_Q1: &[u8] = ksr_bytes!("skr-root-2017-q1-0.xml");
pub const SKR_2017_Q2: &[u8] = ksr_bytes!("skr-root-2017-q2-0.xml");
pub const SKR_2017_Q3: &[u8] = ksr_bytes!("skr-root-2017-q3-0-c_to_d.xml");
pub const SKR_2018_Q1: &[u8] = ksr_bytes!("skr-root-2018-q1-0-d_to_e.xml");
pub const LEGACY_2009_Q4: &[u8] = ksr_bytes!("legacy/skr-root-2009-q4-2.xml");
pub const LEGACY_2010_Q1: &[u8] = ksr_bytes!("legacy/skr-root-2010-q1-0.xml");
pub const LEGACY_2010_Q2: &[u8] = ksr_bytes!("legacy/skr-root-2010-q2-0.xml");

/// Bundle 1 of the 2018 KSR; `ksr.bad.xml` swaps its two ZSK signatures.
pub const BUNDLE_1_2018: &str = "0a8f7774-3bd3-4702-a923-f1d73f653bd6";

/// Parses `fixtures/ksr/NAME`.
pub fn ksr_doc(name: &str) -> KsrDocument {
    let bytes = std::fs::read(ksr_fixture(name)).unwrap();
    parse_document(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"))
}

pub fn request(doc: &KsrDocument) -> &Request {
    match &doc.body {
        Body::Request(r) => r,
        Body::Response(_) => panic!("{} is not a KSR", doc.id),
    }
}

pub fn request_mut(doc: &mut KsrDocument) -> &mut Request {
    match &mut doc.body {
        Body::Request(r) => r,
        Body::Response(_) => panic!("not a KSR"),
    }
}

pub fn response(doc: &KsrDocument) -> &Response {
    match &doc.body {
        Body::Response(r) => r,
        Body::Request(_) => panic!("{} is not an SKR", doc.id),
    }
}

pub fn response_mut(doc: &mut KsrDocument) -> &mut Response {
    match &mut doc.body {
        Body::Response(r) => r,
        Body::Request(_) => panic!("not an SKR"),
    }
}

pub fn ts(text: &str) -> Timestamp {
    Timestamp::parse_xsd(text).unwrap()
}

/// The legacy test key `n` (PEM): 1 is "KSK1" (tag 5017), 2 is "KSK2" (tag 55186).
pub fn legacy_key(n: u8) -> PathBuf {
    ksr_fixture(&format!("legacy/rsa2048-{n}.key"))
}

/// The RSA components of the legacy test key `n`.
pub fn legacy_key_parts(n: u8) -> RsaPrivateParts {
    match crypto::import_private_key(&std::fs::read(legacy_key(n)).unwrap()).unwrap() {
        PrivateKeyMaterial::Rsa(parts) => parts,
        other => panic!("test key {n} is not RSA: {other:?}"),
    }
}

/// The knobs kskm's 2010 tests relax (fixtures README): e=3 declared for e=65537 keys,
/// 1024-bit ZSKs, 15-day validity ending 23:59:59 and overlaps of 4d23:59:59.
pub const RELAX_2010: &str = r#"
rsa_exponent_match_zsk_policy = false
rsa_approved_exponents = [3, 65537]
rsa_approved_key_sizes = [1024]
check_bundle_overlap = false
signature_validity_match_zsk_policy = false
"#;

/// Every real KSR with exactly the relaxations the fixtures README documents, as the
/// `[request_policy]` table an operator would write.
pub const REAL_KSRS: &[(&str, &[u8], &[&str])] = &[
    (
        "ksr-root-2009-q4-2.xml",
        KSR_2009_Q4,
        &[
            RELAX_2010,
            "num_bundles = 6",
            "num_keys_per_bundle = [1, 1, 1, 1, 1, 2]",
            "num_different_keys_in_all_bundles = 2",
            "check_cycle_length = false",
            "check_bundle_intervals = false",
        ],
    ),
    ("ksr-root-2010-q1-0.xml", KSR_2010_Q1, &[RELAX_2010]),
    ("ksr-root-2010-q2-0.xml", KSR_2010_Q2, &[RELAX_2010]),
    (
        "ksr-root-2016-q3-0.xml",
        KSR_2016_Q3,
        &[
            "rsa_approved_key_sizes = [1024, 2048]",
            "check_bundle_overlap = false",
            "signature_validity_match_zsk_policy = false",
        ],
    ),
    ("ksr-root-2017-q2-0.xml", KSR_2017_Q2, &[]),
    ("ksr-root-2018-q1-0-d_to_e.xml", KSR_2018_Q1, &[]),
];
