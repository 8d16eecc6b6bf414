//! The ceremony end to end: IANA's KSRs signed with test KSKs through every key store and
//! both signing paths, compared with the SKRs IANA's tools produced.
//!
//! PKCS#1 v1.5 is deterministic, so with the legacy test keys (fixtures/ksr/legacy/) the
//! 26 signatures of the legacy chain 2009-q4-2 → 2010-q1-0 → 2010-q2-0 must come out byte
//! for byte as the legacy `ksrsigner` made them — whichever store holds the key and
//! whichever path the signature input takes to it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use sha2::Digest;
use signer::admin::key;
use signer::ceremony::{
    CeremonyConfig, CeremonyError, SigningPathConfig, build_skr, format_bundle_table, verify_skr,
};
use signer::dnssec::DnsKey;
use signer::keystore::{
    EmbeddedStore, KeyRef, KeyStore, KeyStoreError, Pkcs11Store, PublicKey, SigningPath,
};
use signer::ksr::{AlgorithmParams, Body, Bundle, KsrDocument, Layout, Signature, write_document};
use signer::policy::{CheckId, check_chain, check_request};
use support::fixtures::{
    ksr_doc, ksr_fixture, legacy_key, legacy_key_parts, response, response_mut, ts,
};
use support::legacy::{LEGACY_KSK_POLICY, LEGACY_RELAXATIONS, LEGACY_ROLL_SCHEMA};
use support::modules::{
    EmbeddedToken, Modules, TOKEN, USER_PIN, child_modules, create_rsa_key_pair, init_token,
};
use zeroize::Zeroizing;

// ---------------------------------------------------------------------------------------
// Fixtures

fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(ksr_fixture(name)).unwrap()
}

/// The DS SHA-256 of a test key as a KSK, computed here from the PEM independently of the
/// signer: SHA-256(owner `00` ‖ flags 0101 ‖ protocol 03 ‖ algorithm 08 ‖ RFC 3110 key).
fn test_key_ds(n: u8) -> String {
    let parts = legacy_key_parts(n);
    let mut input = vec![0x00, 0x01, 0x01, 0x03, 0x08];
    input.push(u8::try_from(parts.e.len()).unwrap());
    input.extend_from_slice(&parts.e);
    input.extend_from_slice(&parts.n);
    hex::encode_upper(sha2::Sha256::digest(&input))
}

// ---------------------------------------------------------------------------------------
// Key stores

struct Embedded {
    store: EmbeddedStore,
    _token: EmbeddedToken,
}

/// A throwaway embedded token holding the given test keys under the given labels, imported
/// as `strongroom key import` does.
fn embedded_token(keys: &[(&str, u8)]) -> Embedded {
    embedded_token_with(keys, &[])
}

/// The same, plus keys generated on the token as `strongroom key generate` does.
fn embedded_token_with(keys: &[(&str, u8)], generate: &[(&str, key::Algorithm)]) -> Embedded {
    let token = support::modules::embedded_token();
    let (hsm, access) = (&token.hsm, &token.access);
    for (label, n) in keys {
        key::import(hsm, TOKEN, label, &legacy_key(*n), None, access).unwrap();
    }
    for (label, algorithm) in generate {
        key::generate(hsm, TOKEN, label, *algorithm, None, access).unwrap();
    }
    let store = EmbeddedStore::open(hsm.clone(), TOKEN, access).unwrap();
    Embedded {
        store,
        _token: token,
    }
}

/// Passes everything through to a store but corrupts the `corrupt_at`-th signature (0-based),
/// as a faulty HSM would.
struct Faulty<'a> {
    inner: &'a dyn KeyStore,
    corrupt_at: usize,
    calls: AtomicUsize,
}

impl KeyStore for Faulty<'_> {
    fn key(&self, label: &str) -> Result<KeyRef, KeyStoreError> {
        self.inner.key(label)
    }
    fn public_key(&self, key: &KeyRef) -> Result<PublicKey, KeyStoreError> {
        self.inner.public_key(key)
    }
    fn sign(
        &self,
        key: &KeyRef,
        algorithm: u8,
        path: SigningPath,
        input: &[u8],
    ) -> Result<Vec<u8>, KeyStoreError> {
        let mut signature = self.inner.sign(key, algorithm, path, input)?;
        if self.calls.fetch_add(1, Ordering::SeqCst) == self.corrupt_at {
            signature[17] ^= 0x01;
        }
        Ok(signature)
    }
    fn describe(&self) -> String {
        format!("faulty {}", self.inner.describe())
    }
    fn labels(&self) -> Result<Vec<String>, KeyStoreError> {
        self.inner.labels()
    }
}

// ---------------------------------------------------------------------------------------
// Legacy chain: configuration

/// `[keys]` for the two legacy test KSKs, fully pinned (tag, DS, size, exponent).
fn legacy_keys(path: SigningPathConfig) -> String {
    let path = match path {
        SigningPathConfig::HostPadding => "host-padding",
        SigningPathConfig::TokenHashing => "token-hashing",
    };
    format!(
        r#"
        [keys.ksk_current]
        description = "legacy test KSK1"
        label = "KSK1"
        algorithm = "RSASHA256"
        valid_from = "2009-06-01T00:00:00+00:00"
        key_tag = 5017
        ds_sha256 = "{ds1}"
        rsa_size = 2048
        rsa_exponent = 65537
        signing_path = "{path}"

        [keys.ksk_next]
        description = "legacy test KSK2"
        label = "KSK2"
        algorithm = 8
        valid_from = "2010-01-01T00:00:00+00:00"
        key_tag = 55186
        ds_sha256 = "{ds2}"
        rsa_size = 2048
        rsa_exponent = 65537
        signing_path = "{path}"
        "#,
        ds1 = test_key_ds(1),
        ds2 = test_key_ds(2),
    )
}

/// One step of the legacy chain.
struct LegacyCase {
    ksr: &'static str,
    skr: &'static str,
    previous: Option<&'static str>,
    schema: &'static str,
    /// The ceremony date (the horizon check's clock).
    now: &'static str,
    config: CeremonyConfig,
}

fn legacy_cases(path: SigningPathConfig) -> Vec<LegacyCase> {
    let keys = legacy_keys(path);
    let config = |request_policy: &str, previous_bundles: usize, schemas: &str| {
        let text = format!(
            "[hsm]\nembedded = {{ token = \"{TOKEN}\" }}\n{keys}\n{LEGACY_KSK_POLICY}\n\
             [request_policy]\n{request_policy}\n{LEGACY_RELAXATIONS}\n\
             [response_policy]\nnum_bundles = {previous_bundles}\n{schemas}"
        );
        CeremonyConfig::from_toml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
    };
    vec![
        LegacyCase {
            ksr: "ksr-root-2009-q4-2.xml",
            skr: "legacy/skr-root-2009-q4-2.xml",
            previous: None,
            schema: "normal",
            now: "2009-10-15T00:00:00",
            // The partial quarter: 6 bundles, one ZSK roll, a short last interval.
            config: config(
                "num_bundles = 6\nnum_keys_per_bundle = [1, 1, 1, 1, 1, 2]\n\
                 num_different_keys_in_all_bundles = 2\ncheck_cycle_length = false\n\
                 check_bundle_intervals = false",
                9,
                "",
            ),
        },
        LegacyCase {
            ksr: "ksr-root-2010-q1-0.xml",
            skr: "legacy/skr-root-2010-q1-0.xml",
            previous: Some("legacy/skr-root-2009-q4-2.xml"),
            schema: "normal",
            now: "2009-12-01T00:00:00",
            config: config("", 6, ""),
        },
        LegacyCase {
            ksr: "ksr-root-2010-q2-0.xml",
            skr: "legacy/skr-root-2010-q2-0.xml",
            previous: Some("legacy/skr-root-2010-q1-0.xml"),
            schema: "legacy-roll",
            now: "2010-03-01T00:00:00",
            config: config("", 9, LEGACY_ROLL_SCHEMA),
        },
    ]
}

// ---------------------------------------------------------------------------------------
// Legacy chain: reproduction

/// Signs the three legacy KSRs with `store` on `path` and checks every result against the
/// legacy tool's SKR; returns the number of signatures compared byte for byte.
fn reproduce_legacy(store: &dyn KeyStore, path: SigningPathConfig) -> usize {
    let mut compared = 0;
    for case in legacy_cases(path) {
        let ksr = ksr_doc(case.ksr);
        let previous = case.previous.map(ksr_doc);
        let signed = build_skr(&ksr, &case.config, case.schema, store, previous.as_ref())
            .unwrap_or_else(|e| panic!("{} on {}: {e}", case.ksr, store.describe()));
        let expected = ksr_doc(case.skr);
        compared += compare_with_legacy(&signed.document, &expected, case.skr);
        assert_eq!(compared_signatures(&signed.document), signed.signatures);
        assert!(signed.report.is_ok(), "{}", signed.report);
        assert!(signed.report.passed.contains(&CheckId::KskIdentity));
        assert!(signed.report.passed.contains(&CheckId::SkrVerify));
        if previous.is_some() {
            assert!(
                signed.report.passed.contains(&CheckId::ChainKeysHsm),
                "{}",
                signed.report
            );
            assert!(
                signed.report.passed.contains(&CheckId::PolicySafety),
                "{}",
                signed.report
            );
        }

        // The whole file, byte for byte, in the legacy layout — except that the legacy tool
        // declared `exponent="3"` for its KSKs (a constant in its ksrpolicy.h) while the
        // keys use 65537; the SKR made here declares the exponent the keys have.
        let ours = &response(&signed.document).ksk_policy.algorithms;
        let theirs = &response(&expected).ksk_policy.algorithms;
        assert_eq!(ours.len(), 1);
        assert_eq!(
            ours[0].params,
            AlgorithmParams::Rsa {
                size: 2048,
                exponent: 65537
            }
        );
        assert_eq!(
            theirs[0].params,
            AlgorithmParams::Rsa {
                size: 2048,
                exponent: 3
            }
        );
        let mut declared_as_legacy = signed.document.clone();
        response_mut(&mut declared_as_legacy).ksk_policy.algorithms = theirs.clone();
        let written = write_document(&declared_as_legacy, Layout::Legacy);
        assert!(
            written == fixture_bytes(case.skr),
            "{}: the written SKR differs from the legacy file",
            case.skr
        );
    }
    assert_eq!(compared, 26, "6 + 9 + 11 signatures in the legacy chain");
    compared
}

fn compared_signatures(doc: &KsrDocument) -> usize {
    response(doc)
        .bundles
        .iter()
        .map(|b| b.signatures.len())
        .sum()
}

/// Field-for-field comparison with the legacy SKR; returns the signatures compared.
fn compare_with_legacy(ours: &KsrDocument, theirs: &KsrDocument, name: &str) -> usize {
    assert_eq!(
        (&ours.id, ours.serial, &ours.domain),
        (&theirs.id, theirs.serial, &theirs.domain),
        "{name}: header"
    );
    let (ours_r, theirs_r) = (response(ours), response(theirs));
    assert_eq!(
        ours_r.zsk_policy, theirs_r.zsk_policy,
        "{name}: ZSK policy echo"
    );
    let mut ours_ksk = ours_r.ksk_policy.clone();
    ours_ksk
        .algorithms
        .clone_from(&theirs_r.ksk_policy.algorithms);
    assert_eq!(
        ours_ksk, theirs_r.ksk_policy,
        "{name}: KSK policy durations"
    );
    assert_eq!(
        ours_r.bundles.len(),
        theirs_r.bundles.len(),
        "{name}: bundle count"
    );
    let mut signatures = 0;
    for (i, (a, b)) in ours_r.bundles.iter().zip(&theirs_r.bundles).enumerate() {
        let at = format!("{name} bundle {} ({})", i + 1, b.id);
        assert_eq!(
            (&a.id, a.inception, a.expiration),
            (&b.id, b.inception, b.expiration),
            "{at}"
        );
        assert_eq!(a.keys.len(), b.keys.len(), "{at}: key count");
        for (k, (x, y)) in a.keys.iter().zip(&b.keys).enumerate() {
            assert_eq!(x, y, "{at}: key {} (in canonical order)", k + 1);
        }
        assert_eq!(
            a.signatures.len(),
            b.signatures.len(),
            "{at}: signature count"
        );
        for (x, y) in a.signatures.iter().zip(&b.signatures) {
            assert_eq!(rrsig_fields(x), rrsig_fields(y), "{at}: RRSIG fields");
            assert!(
                x.signature_data == y.signature_data,
                "{at}: SignatureData by {} differs from the legacy tool's",
                y.key_identifier
            );
            signatures += 1;
        }
    }
    signatures
}

/// `s` without its SignatureData: the RRSIG fields, to compare.
fn rrsig_fields(s: &Signature) -> Signature {
    Signature {
        signature_data: Vec::new(),
        ..s.clone()
    }
}

/// Slots 7–8 of 2010-q2-0: KSK1 published revoked (385, tag 5145) and no unrevoked copy; its
/// RRSIG carries 5145.
fn assert_legacy_revocation(doc: &KsrDocument) {
    let bundles = &response(doc).bundles;
    for (i, bundle) in bundles.iter().enumerate() {
        let ksk1: Vec<_> = bundle
            .keys
            .iter()
            .filter(|k| k.key_identifier == "KSK1")
            .collect();
        let sig1 = bundle
            .signatures
            .iter()
            .find(|s| s.key_identifier == "KSK1");
        match i + 1 {
            7 | 8 => {
                assert_eq!(ksk1.len(), 1, "slot {}: KSK1 exactly once", i + 1);
                assert_eq!((ksk1[0].flags, ksk1[0].key_tag), (385, 5145));
                assert_eq!(sig1.unwrap().key_tag, 5145);
            }
            9 => assert!(ksk1.is_empty() && sig1.is_none()),
            _ => {
                assert_eq!((ksk1[0].flags, ksk1[0].key_tag), (257, 5017));
                assert_eq!(sig1.unwrap().key_tag, 5017);
            }
        }
    }
}

#[test]
fn legacy_chain_passes_the_ksr_checks_with_the_documented_relaxations() {
    for case in legacy_cases(SigningPathConfig::HostPadding) {
        let ksr = ksr_doc(case.ksr);
        let policy = &case.config.request_policy;
        let report = check_request(&ksr, policy, ts(case.now));
        assert!(report.is_ok(), "{}:\n{report}", case.ksr);
        if let Some(previous) = case.previous {
            let report = check_chain(
                &ksr,
                &ksr_doc(previous),
                policy,
                &case.config.response_policy,
            );
            assert!(report.is_ok(), "{} after {previous}:\n{report}", case.ksr);
        }
    }
}

#[test]
fn legacy_chain_byte_exact_on_the_embedded_token() {
    let token = embedded_token(&[("KSK1", 1), ("KSK2", 2)]);
    for path in [
        SigningPathConfig::HostPadding,
        SigningPathConfig::TokenHashing,
    ] {
        assert_eq!(reproduce_legacy(&token.store, path), 26);
    }
    // The revocation, and what the ceremony prints for it.
    let case = legacy_cases(SigningPathConfig::HostPadding).remove(2);
    let previous = ksr_doc(case.previous.unwrap());
    let signed = build_skr(
        &ksr_doc(case.ksr),
        &case.config,
        case.schema,
        &token.store,
        Some(&previous),
    )
    .unwrap();
    assert_legacy_revocation(&signed.document);
    assert_legacy_revocation(&ksr_doc(case.skr));
    let table = format_bundle_table(&signed.table);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 10, "{table}");
    assert_eq!(
        lines[1],
        "1  2010-04-01T00:00:00 2010-04-15T23:59:59  23763,55138   5017(KSK1)/S"
    );
    assert_eq!(
        lines[2],
        "2  2010-04-11T00:00:00 2010-04-25T23:59:59  55138         55186(KSK2)/P,5017(KSK1)/S"
    );
    assert_eq!(
        lines[7],
        "7  2010-05-31T00:00:00 2010-06-14T23:59:59  55138         55186(KSK2)/S,5145(KSK1)/RS"
    );
    assert_eq!(
        lines[9],
        "9  2010-06-20T00:00:00 2010-07-05T23:59:59  41248,55138   55186(KSK2)/S"
    );
}

// ---------------------------------------------------------------------------------------
// The same through PKCS#11 modules, in a child process (one module state per process).

#[test]
fn legacy_chain_byte_exact_through_pkcs11_modules() {
    let Some(modules) = Modules::find_or_skip("ceremony test") else {
        return;
    };
    let stderr = modules.run_child("child_pkcs11_legacy_chain");
    for line in stderr
        .lines()
        .filter(|l| l.starts_with("store: ") || l.starts_with("reproduced"))
    {
        eprintln!("child: {line}");
    }
    for (module, ran) in [(&modules.ours, "strongroom"), (&modules.softhsm, "softhsm")] {
        if module.is_some() {
            assert!(
                stderr.contains(&format!("reproduced on {ran}: 52 signatures")),
                "{stderr}"
            );
        }
    }
}

#[test]
#[ignore = "run in a child process by legacy_chain_byte_exact_through_pkcs11_modules"]
fn child_pkcs11_legacy_chain() {
    let Some(modules) = child_modules("legacy_chain_byte_exact_through_pkcs11_modules") else {
        return;
    };
    for (module, path) in modules {
        let (module, name) = (path, module.name());
        set_up_token(&module);
        let store =
            Pkcs11Store::open(&module, TOKEN, Some(Zeroizing::new(USER_PIN.into()))).unwrap();
        eprintln!("store: {}", store.describe());
        let mut total = 0;
        for path in [
            SigningPathConfig::HostPadding,
            SigningPathConfig::TokenHashing,
        ] {
            total += reproduce_legacy(&store, path);
        }
        eprintln!("reproduced on {name}: {total} signatures");
    }
}

/// Initialises a token on `module` and imports KSK1 and KSK2 with C_CreateObject (label
/// only, no CKA_ID, as IANA's keys are), as PyKCS11 users do.
fn set_up_token(module: &Path) {
    let (context, session) = init_token(module);
    for (label, n) in [("KSK1", 1), ("KSK2", 2)] {
        create_rsa_key_pair(&session, label, &legacy_key_parts(n));
    }
    session.close().unwrap();
    context.finalize().unwrap();
}

// ---------------------------------------------------------------------------------------
// Golden structure of a real SKR (2017-q2), with a test key standing in for KSK-2010.

/// Production policy, KSK-2010's label on a test key, the 2017 KSRs' clock.
fn kskm_era_config(extra_request_policy: &str) -> CeremonyConfig {
    CeremonyConfig::from_toml(&format!(
        r#"
        [hsm]
        embedded = {{ token = "{TOKEN}" }}
        [keys.ksk_current]
        description = "test key standing in for KSK-2010"
        label = "Kjqmt7v"
        algorithm = "RSASHA256"
        valid_from = "2010-07-15T00:00:00+00:00"
        key_tag = 5017
        rsa_size = 2048
        rsa_exponent = 65537
        [keys.ksk_next]
        description = "test key standing in for KSK-2017"
        label = "Klajeyz"
        algorithm = "RSASHA256"
        valid_from = "2017-02-02T00:00:00+00:00"
        key_tag = 55186
        [request_policy]
        {extra_request_policy}
        "#
    ))
    .unwrap()
}

#[test]
fn golden_structure_of_the_2017_q2_skr() {
    let token = embedded_token(&[("Kjqmt7v", 1), ("Klajeyz", 2)]);
    let ksr = ksr_doc("ksr-root-2017-q2-0.xml");
    let previous = ksr_doc("skr-root-2017-q1-0.xml");
    let real = ksr_doc("skr-root-2017-q2-0.xml");

    // SKR(n-1) was signed by the real KSK-2010: the HSM check of the chain must refuse our
    // stand-in, naming the label.
    let strict = kskm_era_config("");
    let refused = build_skr(&ksr, &strict, "normal", &token.store, Some(&previous)).unwrap_err();
    let CeremonyError::Checks(report) = &refused else {
        panic!("{refused}");
    };
    assert_eq!(report.failed(), [CheckId::ChainKeysHsm], "{report}");
    assert!(refused.to_string().contains("\"Kjqmt7v\""), "{refused}");

    // With that one check off (we do not hold KSK-2010), everything else runs.
    let config = kskm_era_config("check_chain_keys_in_hsm = false");
    let now = ts("2017-02-01T00:00:00");
    assert!(check_request(&ksr, &config.request_policy, now).is_ok());
    let chain = check_chain(
        &ksr,
        &previous,
        &config.request_policy,
        &config.response_policy,
    );
    assert!(chain.is_ok(), "{chain}");
    // The KSK safety rules compare keys across SKR(n-1) and SKR(n): KSK-2010 signed the
    // previous SKR's last bundle and our stand-in is another key, so they refuse too.
    let err = build_skr(&ksr, &config, "normal", &token.store, Some(&previous)).unwrap_err();
    let CeremonyError::Safety(report) = &err else {
        panic!("{err}")
    };
    assert_eq!(report.failed(), [CheckId::PolicySafety]);
    assert!(err.to_string().contains("19036 (Kjqmt7v)"), "{err}");
    // Without SKR(n-1) (its chain checks above were done by the policy module), it signs.
    let signed = build_skr(&ksr, &config, "normal", &token.store, None).unwrap();
    assert!(signed.report.is_ok(), "{}", signed.report);
    let ours = &signed.document;
    assert_eq!(
        (&ours.id, ours.serial, &ours.domain),
        (&real.id, real.serial, &real.domain)
    );
    let (ours_r, real_r) = (response(ours), response(&real));
    assert_eq!(
        ours_r.ksk_policy, real_r.ksk_policy,
        "production KSK policy, RSA 2048/65537"
    );
    assert_eq!(ours_r.zsk_policy, real_r.zsk_policy);
    assert_eq!(ours_r.bundles.len(), 9);
    let test_key = legacy_key_parts(1);
    for (i, (a, b)) in ours_r.bundles.iter().zip(&real_r.bundles).enumerate() {
        let at = format!("bundle {}", i + 1);
        assert_eq!(
            (&a.id, a.inception, a.expiration),
            (&b.id, b.inception, b.expiration),
            "{at}"
        );
        assert_eq!(a.keys.len(), b.keys.len(), "{at}");
        for (x, y) in a.keys.iter().zip(&b.keys) {
            if y.flags == 256 {
                assert_eq!(x, y, "{at}: ZSK {}", y.key_tag);
            } else {
                let fields = |k: &signer::ksr::Key| {
                    (
                        k.key_identifier.clone(),
                        k.ttl,
                        k.flags,
                        k.protocol,
                        k.algorithm,
                    )
                };
                assert_eq!(fields(x), fields(y), "{at}: KSK");
                assert_eq!(x.key_tag, 5017, "{at}: the stand-in's tag");
                assert!(x.public_key.ends_with(&test_key.n));
            }
        }
        assert_eq!(a.signatures.len(), 1);
        let (x, y) = (&a.signatures[0], &b.signatures[0]);
        // All but the key tag, which is the stand-in's.
        let fields = |s| Signature {
            key_tag: 0,
            ..rrsig_fields(s)
        };
        assert_eq!(fields(x), fields(y), "{at}: RRSIG");
        assert_eq!(x.key_tag, 5017);
    }
    let report = verify_skr(ours, Some(&ksr)).unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.verified_signatures(), 9);

    // With KSK-2010's key, tag and signatures put back in, the file is IANA's byte for byte.
    let mut transplanted = ours.clone();
    for (a, b) in response_mut(&mut transplanted)
        .bundles
        .iter_mut()
        .zip(&real_r.bundles)
    {
        for (x, y) in a.keys.iter_mut().zip(&b.keys) {
            x.public_key.clone_from(&y.public_key);
            x.key_tag = y.key_tag;
        }
        a.signatures.clone_from(&b.signatures);
    }
    assert!(
        write_document(&transplanted, Layout::Legacy) == fixture_bytes("skr-root-2017-q2-0.xml")
    );
}

// ---------------------------------------------------------------------------------------
// KSK roll schemas

/// Per slot: the published KSKs as (role, flags) and the signers as (role, RRSIG key tag is
/// the published tag), with roles `cur`/`next` from the labels.
type RollLayout = Vec<(BTreeSet<(String, u16)>, BTreeSet<String>)>;

fn roll_layout(doc: &KsrDocument, roles: &BTreeMap<&str, &str>) -> RollLayout {
    response(doc)
        .bundles
        .iter()
        .map(|b: &Bundle| {
            let published = b
                .keys
                .iter()
                .filter(|k| k.flags != 256)
                .map(|k| (roles[k.key_identifier.as_str()].to_owned(), k.flags))
                .collect();
            let signers = b
                .signatures
                .iter()
                .map(|s| {
                    let key = b
                        .keys
                        .iter()
                        .find(|k| k.key_identifier == s.key_identifier)
                        .unwrap();
                    assert_eq!(s.key_tag, key.key_tag, "RRSIG tag = tag as published");
                    roles[s.key_identifier.as_str()].to_owned()
                })
                .collect();
            (published, signers)
        })
        .collect()
}

fn roles() -> BTreeMap<&'static str, &'static str> {
    BTreeMap::from([("Kjqmt7v", "cur"), ("Klajeyz", "next")])
}

#[test]
fn schemas_reproduce_the_roll_phases() {
    let token = embedded_token(&[("Kjqmt7v", 1), ("Klajeyz", 2)]);
    let config = kskm_era_config("");
    let ksr_2017 = ksr_doc("ksr-root-2017-q2-0.xml");
    let ksr_2018 = ksr_doc("ksr-root-2018-q1-0-d_to_e.xml");

    // Phase D (pre-publish), against IANA's 2017-q3 SKR (its KSR is not in the fixtures, so
    // the 2017-q2 KSR carries the layout).
    let prepublish = build_skr(&ksr_2017, &config, "pre-publish", &token.store, None).unwrap();
    let real = ksr_doc("skr-root-2017-q3-0-c_to_d.xml");
    assert_eq!(
        roll_layout(&prepublish.document, &roles()),
        roll_layout(&real, &roles())
    );

    // Phase E (rollover), from the very KSR IANA signed.
    let rollover = build_skr(&ksr_2018, &config, "rollover", &token.store, None).unwrap();
    let real = ksr_doc("skr-root-2018-q1-0-d_to_e.xml");
    assert_eq!(
        roll_layout(&rollover.document, &roles()),
        roll_layout(&real, &roles())
    );
    for (a, b) in response(&rollover.document)
        .bundles
        .iter()
        .zip(&response(&real).bundles)
    {
        assert_eq!(
            (&a.id, a.inception, a.expiration),
            (&b.id, b.inception, b.expiration)
        );
        let zsks = |bundle: &Bundle| -> Vec<_> {
            bundle
                .keys
                .iter()
                .filter(|k| k.flags == 256)
                .cloned()
                .collect()
        };
        assert_eq!(zsks(a), zsks(b));
    }
    let report = verify_skr(&rollover.document, Some(&ksr_2018)).unwrap();
    assert!(report.is_ok(), "{report}");

    // Phase F (revoke): the current KSK revoked in slots 2-8, its RRSIG with the 385 tag.
    let revoke = build_skr(&ksr_2018, &config, "revoke", &token.store, None).unwrap();
    let layout = roll_layout(&revoke.document, &roles());
    let set = |items: &[(&str, u16)]| -> BTreeSet<(String, u16)> {
        items.iter().map(|(r, f)| ((*r).to_owned(), *f)).collect()
    };
    let signers =
        |items: &[&str]| -> BTreeSet<String> { items.iter().map(|r| (*r).to_owned()).collect() };
    assert_eq!(
        layout[0],
        (set(&[("cur", 257), ("next", 257)]), signers(&["next"]))
    );
    for slot in &layout[1..8] {
        assert_eq!(
            *slot,
            (
                set(&[("cur", 385), ("next", 257)]),
                signers(&["cur", "next"])
            )
        );
    }
    assert_eq!(layout[8], (set(&[("next", 257)]), signers(&["next"])));
    for bundle in &response(&revoke.document).bundles[1..8] {
        let cur = bundle
            .keys
            .iter()
            .find(|k| k.key_identifier == "Kjqmt7v")
            .unwrap();
        assert_eq!((cur.flags, cur.key_tag), (385, 5145));
        let sig = bundle
            .signatures
            .iter()
            .find(|s| s.key_identifier == "Kjqmt7v")
            .unwrap();
        assert_eq!(sig.key_tag, 5145);
        // Canonical order: ZSK, then the 257 key, then the 385 key; signatures follow.
        let flags: Vec<u16> = bundle.keys.iter().map(|k| k.flags).collect();
        assert_eq!(flags, [256, 257, 385]);
        let tags: Vec<u16> = bundle.signatures.iter().map(|s| s.key_tag).collect();
        assert_eq!(tags, [55186, 5145]);
    }
    let report = verify_skr(&revoke.document, Some(&ksr_2018)).unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.verified_signatures(), 1 + 7 * 2 + 1);
    let table = format_bundle_table(&revoke.table);
    assert!(
        table.contains("41824         55186(Klajeyz)/S,5145(Kjqmt7v)/RS"),
        "{table}"
    );

    // revoke+: the current key is no longer published in slot 1.
    let revoke_plus = build_skr(&ksr_2018, &config, "revoke+", &token.store, None).unwrap();
    let layout = roll_layout(&revoke_plus.document, &roles());
    assert_eq!(layout[0], (set(&[("next", 257)]), signers(&["next"])));
    assert_eq!(
        layout[1],
        (
            set(&[("cur", 385), ("next", 257)]),
            signers(&["cur", "next"])
        )
    );
}

// ---------------------------------------------------------------------------------------
// verify_skr

const KSKM_ERA_SKRS: [&str; 4] = [
    "skr-root-2017-q1-0.xml",
    "skr-root-2017-q2-0.xml",
    "skr-root-2017-q3-0-c_to_d.xml",
    "skr-root-2018-q1-0-d_to_e.xml",
];

#[test]
fn verify_skr_accepts_every_real_skr_and_pins_a_flipped_bit_to_its_bundle() {
    let mut total = 0;
    for name in KSKM_ERA_SKRS {
        let report = verify_skr(&ksr_doc(name), None).unwrap();
        assert!(report.is_ok(), "{name}:\n{report}");
        assert_eq!(report.bundles.len(), 9);
        total += report.verified_signatures();
    }
    assert_eq!(total, 36);
    let mut legacy = 0;
    for name in [
        "legacy/skr-root-2009-q4-2.xml",
        "legacy/skr-root-2010-q1-0.xml",
        "legacy/skr-root-2010-q2-0.xml",
    ] {
        let report = verify_skr(&ksr_doc(name), None).unwrap();
        assert!(report.is_ok(), "{name}:\n{report}");
        legacy += report.verified_signatures();
    }
    assert_eq!(
        legacy, 26,
        "including the two by the revoked KSK1 (tag 5145)"
    );

    // Against their KSRs.
    for (skr, ksr) in [
        ("skr-root-2017-q2-0.xml", "ksr-root-2017-q2-0.xml"),
        (
            "skr-root-2018-q1-0-d_to_e.xml",
            "ksr-root-2018-q1-0-d_to_e.xml",
        ),
        ("legacy/skr-root-2010-q2-0.xml", "ksr-root-2010-q2-0.xml"),
    ] {
        let report = verify_skr(&ksr_doc(skr), Some(&ksr_doc(ksr))).unwrap();
        assert!(report.is_ok(), "{skr} for {ksr}:\n{report}");
    }
    let wrong = verify_skr(
        &ksr_doc("skr-root-2017-q2-0.xml"),
        Some(&ksr_doc("ksr-root-2018-q1-0-d_to_e.xml")),
    )
    .unwrap();
    assert!(!wrong.is_ok());
    assert!(
        wrong.problems.iter().any(|p| p.contains("answers KSR id")),
        "{wrong}"
    );
    assert_eq!(wrong.failed_bundles(), (1..=9).collect::<Vec<_>>());
    assert!(verify_skr(&ksr_doc("ksr-root-2017-q2-0.xml"), None).is_err());

    // One flipped bit in bundle 4's SignatureData fails bundle 4 and nothing else.
    let mut skr = ksr_doc("skr-root-2018-q1-0-d_to_e.xml");
    response_mut(&mut skr).bundles[3].signatures[0].signature_data[100] ^= 0x04;
    let report = verify_skr(&skr, None).unwrap();
    assert_eq!(report.failed_bundles(), [4], "{report}");
    assert_eq!(report.verified_signatures(), 8);
    let failed = &report.bundles[3].signatures[0];
    assert_eq!(failed.key_tag, 20326);
    assert!(failed.result.is_err());
    assert!(report.to_string().contains("FAIL"), "{report}");

    // A key added to a bundle after signing breaks that bundle's RRset.
    let mut skr = ksr_doc("skr-root-2017-q2-0.xml");
    let extra = response(&ksr_doc("skr-root-2017-q1-0.xml")).bundles[0].keys[0].clone();
    response_mut(&mut skr).bundles[6].keys.push(extra);
    assert_eq!(verify_skr(&skr, None).unwrap().failed_bundles(), [7]);
}

// ---------------------------------------------------------------------------------------
// KSK checks and refusals

#[test]
fn ksk_checks_refuse_the_wrong_key_dates_and_labels() {
    let token = embedded_token(&[("Kjqmt7v", 1), ("Klajeyz", 2)]);
    let ksr = ksr_doc("ksr-root-2017-q2-0.xml");
    let base = |key: &str| {
        format!(
            "[hsm]\nembedded = {{ token = \"{TOKEN}\" }}\n[keys.ksk_current]\n{key}\n\
             algorithm = \"RSASHA256\"\n"
        )
    };
    let sign = |text: &str| {
        let config = CeremonyConfig::from_toml(text).unwrap();
        build_skr(&ksr, &config, "normal", &token.store, None)
    };

    // The configured DS is KSK-2010's; the HSM's key under that label is not it.
    let err = sign(&base(
        "label = \"Kjqmt7v\"\nvalid_from = \"2010-07-15T00:00:00\"\n\
         ds_sha256 = \"49AAC11D7B6F6446702E54A1607371607A1A41855200FD2CE1CDDE32F24E8FB5\"",
    ))
    .unwrap_err();
    let CeremonyError::Checks(report) = &err else {
        panic!("{err}")
    };
    assert_eq!(report.failed(), [CheckId::KskIdentity]);
    let message = err.to_string();
    assert!(
        message.contains("ksk_current")
            && message.contains("\"Kjqmt7v\"")
            && message.contains("49AAC11D7B6F6446702E54A1607371607A1A41855200FD2CE1CDDE32F24E8FB5")
            && message.contains(&test_key_ds(1)),
        "{message}"
    );
    // Wrong tag and wrong size, too.
    let err = sign(&base(
        "label = \"Kjqmt7v\"\nvalid_from = \"2010-07-15T00:00:00\"\nkey_tag = 19036\n\
         rsa_size = 4096",
    ))
    .unwrap_err()
    .to_string();
    assert!(err.contains("19036") && err.contains("RSA-2048"), "{err}");

    // Valid from after bundle 3's inception (2017-04-21): bundles 1-3 are refused.
    let err = sign(&base(
        "label = \"Kjqmt7v\"\nvalid_from = \"2017-04-21T00:00:01\"",
    ))
    .unwrap_err();
    let CeremonyError::Checks(report) = &err else {
        panic!("{err}")
    };
    assert_eq!(report.failed(), [CheckId::KeyValidity]);
    let bundles: Vec<usize> = report
        .violations
        .iter()
        .map(|v| v.bundle.as_ref().unwrap().index)
        .collect();
    assert_eq!(bundles, [1, 2, 3], "{report}");
    assert!(
        err.to_string().contains("after the bundle's inception"),
        "{err}"
    );
    // Valid until before the last bundle's expiration.
    let err = sign(&base(
        "label = \"Kjqmt7v\"\nvalid_from = \"2010-07-15T00:00:00\"\n\
         valid_until = \"2017-07-01T00:00:00\"",
    ))
    .unwrap_err();
    let CeremonyError::Checks(report) = &err else {
        panic!("{err}")
    };
    assert_eq!(report.violations.len(), 1, "{report}");
    assert_eq!(report.violations[0].bundle.as_ref().unwrap().index, 9);
    assert!(
        err.to_string().contains("before the bundle's expiration"),
        "{err}"
    );

    // A label the token does not have.
    let err = sign(&base(
        "label = \"Kmyv6jo\"\nvalid_from = \"2010-07-15T00:00:00\"",
    ))
    .unwrap_err();
    assert!(matches!(err, CeremonyError::KeyStore { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("\"Kmyv6jo\"") && message.contains("ksk_current"),
        "{message}"
    );

    // RSASHA512 signatures over RSASHA256 ZSKs: the algorithm sets differ in every bundle.
    let err = sign(
        &base("label = \"Kjqmt7v\"\nvalid_from = \"2010-07-15T00:00:00\"")
            .replace("algorithm = \"RSASHA256\"", "algorithm = \"RSASHA512\""),
    )
    .unwrap_err();
    let CeremonyError::Checks(report) = &err else {
        panic!("{err}")
    };
    assert_eq!(report.failed(), [CheckId::AlgorithmMatch]);
    assert_eq!(report.violations.len(), 9);
    // An RSA key configured as ECDSA cannot be used at all.
    let err = sign(
        &base("label = \"Kjqmt7v\"\nvalid_from = \"2010-07-15T00:00:00\"").replace(
            "algorithm = \"RSASHA256\"",
            "algorithm = \"ECDSAP256SHA256\"",
        ),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("\"Kjqmt7v\"") && err.contains("13"), "{err}");
}

#[test]
fn a_signature_that_does_not_verify_stops_the_ceremony() {
    let token = embedded_token(&[("Kjqmt7v", 1), ("Klajeyz", 2)]);
    let ksr = ksr_doc("ksr-root-2018-q1-0-d_to_e.xml");
    let config = kskm_era_config("");
    // The 5th signature of a revoke schema is bundle 3's first (slot 1 has one, slot 2 two).
    let faulty = Faulty {
        inner: &token.store,
        corrupt_at: 3,
        calls: AtomicUsize::new(0),
    };
    let err = build_skr(&ksr, &config, "revoke", &faulty, None).unwrap_err();
    let CeremonyError::SelfVerify { bundle, label, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(bundle.index, 3);
    assert_eq!(label, "Kjqmt7v");
    let message = err.to_string();
    assert!(
        message.contains("bundle 3 (3c49645b-fd2b-4c7a-8a97-d1f40406bed9)")
            && message.contains("\"Kjqmt7v\"")
            && message.contains("5145"),
        "{message}"
    );
}

#[test]
fn no_config_path_signs_with_iana_defaults_and_warns() {
    let token = embedded_token(&[("Kjqmt7v", 1)]);
    let ksr = ksr_doc("ksr-root-2017-q2-0.xml");
    let config = CeremonyConfig::default_for(&["Kjqmt7v".to_owned()], TOKEN).unwrap();
    let signed = build_skr(&ksr, &config, "normal", &token.store, None).unwrap();
    assert_eq!(signed.signatures, 9);
    let warnings: Vec<String> = signed
        .report
        .warnings
        .iter()
        .filter(|w| w.id == CheckId::KskIdentity)
        .map(|w| w.message.clone())
        .collect();
    assert_eq!(warnings.len(), 4, "DS, tag, size, exponent: {warnings:?}");
    assert!(warnings[0].contains(&test_key_ds(1)), "{warnings:?}");
    assert!(
        signed
            .report
            .skipped
            .iter()
            .any(|(id, _)| *id == CheckId::ChainKeysHsm)
    );
    assert_eq!(
        response(&signed.document).ksk_policy,
        response(&ksr_doc("skr-root-2017-q2-0.xml")).ksk_policy
    );
    // An SKR is not a KSR.
    let err = build_skr(
        &ksr_doc("skr-root-2017-q1-0.xml"),
        &config,
        "normal",
        &token.store,
        None,
    )
    .unwrap_err();
    assert!(err.to_string().contains("not a KSR"), "{err}");
    // A built-in schema that needs ksk_next.
    let err = build_skr(&ksr, &config, "rollover", &token.store, None).unwrap_err();
    assert!(err.to_string().contains("ksk_next"), "{err}");
}

// ---------------------------------------------------------------------------------------
// Other KSK algorithms

/// `ksr` with every bundle's ZSKs replaced by one ZSK: the public key of `zsk_label` in
/// `store` (flags 256, `algorithm`). Proof-of-possession signatures are left as they were:
/// `build_skr` does not read them (that is `policy::check_request`'s job).
fn with_zsk(
    ksr: &KsrDocument,
    store: &dyn KeyStore,
    zsk_label: &str,
    algorithm: u8,
) -> KsrDocument {
    let public = store.public_key(&store.key(zsk_label).unwrap()).unwrap();
    let dns = DnsKey::new(256, algorithm, public.dnskey_public_key()).unwrap();
    let mut ksr = ksr.clone();
    let Body::Request(request) = &mut ksr.body else {
        panic!("not a KSR")
    };
    for bundle in &mut request.bundles {
        let mut zsk = bundle.keys[0].clone();
        zsk.key_identifier = zsk_label.to_owned();
        zsk.algorithm = algorithm;
        zsk.public_key.clone_from(&dns.public_key);
        zsk.key_tag = dns.key_tag();
        bundle.keys = vec![zsk];
    }
    ksr
}

#[test]
fn ecdsa_and_ed25519_ksks_sign_zsks_of_their_algorithm() {
    let token = embedded_token_with(
        &[],
        &[
            ("EC-KSK", key::Algorithm::P256),
            ("EC-ZSK", key::Algorithm::P256),
            ("ED-KSK", key::Algorithm::Ed25519),
            ("ED-ZSK", key::Algorithm::Ed25519),
        ],
    );
    let ksr = ksr_doc("ksr-root-2017-q2-0.xml");
    for (ksk, zsk, name, algorithm, params) in [
        (
            "EC-KSK",
            "EC-ZSK",
            "ECDSAP256SHA256",
            13,
            AlgorithmParams::Ecdsa { size: 256 },
        ),
        (
            "ED-KSK",
            "ED-ZSK",
            "ED25519",
            15,
            AlgorithmParams::EdDsa { size: 256 },
        ),
    ] {
        let request = with_zsk(&ksr, &token.store, zsk, algorithm);
        for path in ["host-padding", "token-hashing"] {
            let config = CeremonyConfig::from_toml(&format!(
                "[hsm]\nembedded = {{ token = \"{TOKEN}\" }}\n[keys.ksk_current]\n\
                 label = \"{ksk}\"\nalgorithm = \"{name}\"\n\
                 valid_from = \"2017-01-01T00:00:00\"\nsigning_path = \"{path}\"\n"
            ))
            .unwrap();
            let signed = build_skr(&request, &config, "normal", &token.store, None)
                .unwrap_or_else(|e| panic!("{name} on {path}: {e}"));
            let skr = response(&signed.document);
            assert_eq!(skr.ksk_policy.algorithms.len(), 1);
            assert_eq!(skr.ksk_policy.algorithms[0].algorithm, algorithm);
            assert_eq!(skr.ksk_policy.algorithms[0].params, params);
            for bundle in &skr.bundles {
                let flags: Vec<(u16, u8)> =
                    bundle.keys.iter().map(|k| (k.flags, k.algorithm)).collect();
                assert_eq!(flags, [(256, algorithm), (257, algorithm)]);
                assert_eq!(bundle.signatures[0].algorithm, algorithm);
            }
            let report = verify_skr(&signed.document, Some(&request)).unwrap();
            assert!(report.is_ok(), "{name} on {path}:\n{report}");
            assert_eq!(report.verified_signatures(), 9);
        }
        // A KSK of another algorithm than the ZSKs is refused in every bundle.
        let config = CeremonyConfig::from_toml(&format!(
            "[hsm]\nembedded = {{ token = \"{TOKEN}\" }}\n[keys.ksk_current]\n\
             label = \"{ksk}\"\nalgorithm = \"{name}\"\nvalid_from = \"2017-01-01T00:00:00\"\n"
        ))
        .unwrap();
        let err = build_skr(&ksr, &config, "normal", &token.store, None).unwrap_err();
        let CeremonyError::Checks(report) = &err else {
            panic!("{err}")
        };
        assert_eq!(report.failed(), [CheckId::AlgorithmMatch]);
    }
}
