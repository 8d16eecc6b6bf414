//! The KSR checks of reference §3 against IANA's real KSRs and SKRs (fixtures/ksr/), and one
//! mutation per rule of the 2018 KSR: each change breaks exactly the rule it targets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use signer::ksr::{
    AlgorithmParams, AlgorithmPolicy, KsrDocument, Request, Timestamp, XsdDuration, parse_document,
};
use signer::policy::{
    CheckId, CheckReport, RequestPolicy, ResponsePolicy, Source, check_chain, check_request,
    check_response, check_safety,
};
use support::fixtures::{
    BUNDLE_1_2018, KSR_2010_Q1, KSR_2010_Q2, KSR_2017_Q2, KSR_2018_Q1, KSR_BAD, LEGACY_2009_Q4,
    LEGACY_2010_Q1, LEGACY_2010_Q2, REAL_KSRS, RELAX_2010, SKR_2017_Q1, SKR_2017_Q2, SKR_2017_Q3,
    SKR_2018_Q1, request, request_mut, response, response_mut, ts,
};

fn doc(bytes: &[u8]) -> KsrDocument {
    parse_document(bytes).unwrap()
}

fn days(n: i64) -> XsdDuration {
    XsdDuration::from_days(n)
}

fn first_inception(ksr: &KsrDocument) -> Timestamp {
    request(ksr)
        .bundles
        .iter()
        .map(|b| b.inception)
        .min()
        .unwrap()
}

/// A ceremony held 60 days before the quarter: the last signature then expires ~162 days
/// ahead, inside the 180-day horizon.
fn ceremony_date(ksr: &KsrDocument) -> Timestamp {
    first_inception(ksr).checked_sub(days(60)).unwrap()
}

fn policy_from_toml(parts: &[&str]) -> RequestPolicy {
    #[derive(serde::Deserialize)]
    struct Config {
        request_policy: RequestPolicy,
    }
    let text = format!("[request_policy]\n{}\n", parts.join("\n"));
    let config: Config = toml::from_str(&text).unwrap();
    config.request_policy.validate().unwrap();
    config.request_policy
}

/// The 2018 KSR changed by `mutate`, checked at its ceremony date under `policy`.
fn check_2018_with(mutate: impl FnOnce(&mut Request), policy: &RequestPolicy) -> CheckReport {
    let mut ksr = doc(KSR_2018_Q1);
    let now = ceremony_date(&ksr);
    mutate(request_mut(&mut ksr));
    check_request(&ksr, policy, now)
}

fn check_2018(mutate: impl FnOnce(&mut Request)) -> CheckReport {
    check_2018_with(mutate, &RequestPolicy::default())
}

/// Asserts the report fails exactly `ids` (and prints it when not).
#[track_caller]
fn assert_fails(report: &CheckReport, ids: &[CheckId]) {
    assert_eq!(report.failed(), ids, "report:\n{report}");
}

fn messages(report: &CheckReport, id: CheckId) -> Vec<String> {
    report
        .violations_of(id)
        .map(|v| v.message.clone())
        .collect()
}

// ---- real files -------------------------------------------------------------------------

#[test]
fn real_ksrs_pass_with_documented_relaxations() {
    for (name, bytes, relaxations) in REAL_KSRS {
        let ksr = doc(bytes);
        let policy = policy_from_toml(relaxations);
        // The ceremony clock on the day the quarter begins: inside the cycle, horizon on.
        let report = check_request(&ksr, &policy, first_inception(&ksr));
        assert!(report.is_ok(), "{name}:\n{report}");
        assert!(
            report.passed.contains(&CheckId::PolicySigHorizon),
            "{name}:\n{report}"
        );
        assert!(
            report.passed.contains(&CheckId::BundlePop),
            "{name}:\n{report}"
        );
    }
}

#[test]
fn modern_ksrs_pass_with_defaults_at_the_ceremony_date() {
    for bytes in [KSR_2017_Q2, KSR_2018_Q1] {
        let ksr = doc(bytes);
        let report = check_request(&ksr, &RequestPolicy::default(), ceremony_date(&ksr));
        assert!(report.is_ok(), "{report}");
        assert!(
            report.warnings.is_empty() && report.skipped.is_empty(),
            "{report}"
        );
        assert_eq!(report.passed.len(), 12, "{report}");
    }
}

#[test]
fn old_ksrs_fail_the_defaults_for_the_documented_reasons() {
    let ksr = doc(KSR_2010_Q2);
    let report = check_request(&ksr, &RequestPolicy::default(), first_inception(&ksr));
    assert_fails(
        &report,
        &[
            CheckId::BundleKeys,
            CheckId::PolicyAlg,
            CheckId::PolicySigOverlap,
            CheckId::PolicySigValidity,
        ],
    );
    // With the relaxation the exponent mismatch is still said aloud, as a warning.
    let relaxed = check_request(
        &ksr,
        &policy_from_toml(&[RELAX_2010]),
        first_inception(&ksr),
    );
    assert!(relaxed.is_ok());
    assert_eq!(relaxed.warnings.len(), 3, "{relaxed}");
    assert!(relaxed.warnings.iter().all(|w| {
        w.id == CheckId::BundleKeys
            && w.message
                .contains("exponent 65537, the ZSK policy declares 3")
    }));
}

#[test]
fn bad_ksr_fails_pop_on_bundle_1_only() {
    let ksr = doc(KSR_BAD);
    let report = check_request(&ksr, &RequestPolicy::default(), ceremony_date(&ksr));
    assert_fails(&report, &[CheckId::BundlePop]);
    assert_eq!(report.violations.len(), 2, "{report}");
    for v in &report.violations {
        let bundle = v.bundle.as_ref().unwrap();
        assert_eq!(
            (bundle.source, bundle.index, bundle.id.as_str()),
            (Source::Ksr, 1, BUNDLE_1_2018)
        );
    }
    assert_eq!(
        messages(&report, CheckId::BundlePop),
        [
            "signature by key 46809 does not verify",
            "signature by key 41824 does not verify"
        ]
    );
    let transcript = report.to_string();
    assert!(transcript.contains(
        "FAIL KSR-BUNDLE-POP bundle 1 (0a8f7774-3bd3-4702-a923-f1d73f653bd6): signature by key 46809 does not verify\n"
    ));
    assert!(transcript.ends_with(
        "RESULT: REFUSED, 2 violations (KSR-BUNDLE-POP); 0 warnings; 11 passed; 0 skipped"
    ));
}

#[test]
fn a_response_is_not_a_ksr() {
    let skr = doc(SKR_2018_Q1);
    let report = check_request(&skr, &RequestPolicy::default(), ts("2017-11-01T00:00:00"));
    assert_fails(&report, &[CheckId::DocumentKind]);
    assert!(messages(&report, CheckId::DocumentKind)[0].contains("is an SKR"));
    assert!(report.passed.is_empty());
}

// ---- one mutation per check ----------------------------------------------------------------

#[test]
fn ksr_domain() {
    let mut ksr = doc(KSR_2018_Q1);
    ksr.domain = "example.".into();
    let report = check_request(&ksr, &RequestPolicy::default(), ceremony_date(&ksr));
    assert_fails(&report, &[CheckId::KsrDomain]);
}

#[test]
fn ksr_bundle_unique_within_the_ksr() {
    let report = check_2018(|r| r.bundles[1].id = BUNDLE_1_2018.into());
    assert_fails(&report, &[CheckId::BundleUnique]);
    let v = report.violations_of(CheckId::BundleUnique).next().unwrap();
    assert_eq!(v.bundle.as_ref().unwrap().index, 2);
    assert_eq!(v.message, "bundle id is also used by bundle 1");
}

#[test]
fn ksr_bundle_keys_tag_attribute_off_by_one() {
    // The keyTag attribute is not signed, so PoP is unaffected; every copy is changed so that
    // the key stays identical across bundles.
    let report = check_2018(|r| {
        for key in r.bundles.iter_mut().flat_map(|b| b.keys.iter_mut()) {
            if key.key_tag == 41824 {
                key.key_tag = 41825;
            }
        }
    });
    assert_fails(&report, &[CheckId::BundleKeys]);
    assert_eq!(
        messages(&report, CheckId::BundleKeys),
        ["key 41825 has keyTag attribute 41825, but its key tag (RFC 4034 App. B) is 41824"]
    );
}

#[test]
fn ksr_bundle_keys_ksk_flags() {
    // Flags are signed data: PoP would fail too, so it is turned off to isolate the rule.
    let policy = RequestPolicy {
        validate_signatures: false,
        ..RequestPolicy::default()
    };
    let report = check_2018_with(|r| r.bundles[8].keys[0].flags = 257, &policy);
    assert_fails(&report, &[CheckId::BundleKeys]);
    let found = messages(&report, CheckId::BundleKeys);
    assert!(
        found
            .iter()
            .any(|m| m.contains("has flags 257; a ZSK must have flags 256")),
        "{found:?}"
    );
    // The tag changes with the flags, so the keyTag attribute is wrong as well.
    assert!(
        found
            .iter()
            .any(|m| m.contains("has keyTag attribute 39570")),
        "{found:?}"
    );
    // With signatures checked, the same change also breaks the proof of possession.
    let report = check_2018(|r| r.bundles[8].keys[0].flags = 257);
    assert_fails(&report, &[CheckId::BundleKeys, CheckId::BundlePop]);
}

#[test]
fn ksr_bundle_keys_one_identifier_one_key() {
    let report = check_2018(|r| {
        let other = r.bundles[0].keys[0].key_identifier.clone();
        assert_eq!(r.bundles[0].keys[0].key_tag, 46809);
        r.bundles[1].keys[0].key_identifier.clone_from(&other);
        r.bundles[1].signatures[0].key_identifier = other;
    });
    assert_fails(&report, &[CheckId::BundleKeys]);
    assert_eq!(
        messages(&report, CheckId::BundleKeys),
        [
            "key 41824 differs from the key with the same keyIdentifier in bundle 1 \
             (keyTag 41824, there 46809; another public key): one keyIdentifier must be one key"
        ]
    );
}

#[test]
fn ksr_bundle_keys_two_keys_one_tag() {
    let report = check_2018(|r| r.bundles[8].keys[0].key_tag = 46809);
    assert_fails(&report, &[CheckId::BundleKeys]);
    let found = messages(&report, CheckId::BundleKeys);
    assert!(
        found[0].starts_with("key tag 46809 names two different keys"),
        "{found:?}"
    );
}

#[test]
fn ksr_bundle_keys_exponent_mismatch_is_a_warning_only_when_allowed() {
    let declare_e3 = |r: &mut Request| {
        r.policy.algorithms[0].params = AlgorithmParams::Rsa {
            size: 2048,
            exponent: 3,
        };
    };
    let approve_e3 = "rsa_approved_exponents = [3, 65537]";
    let report = check_2018_with(declare_e3, &policy_from_toml(&[approve_e3]));
    assert_fails(&report, &[CheckId::BundleKeys]);
    assert_eq!(
        report.violations.len(),
        3,
        "one per distinct key:\n{report}"
    );
    let lenient = policy_from_toml(&[approve_e3, "rsa_exponent_match_zsk_policy = false"]);
    let report = check_2018_with(declare_e3, &lenient);
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.warnings.len(), 3, "{report}");
}

#[test]
fn ksr_bundle_pop_every_key_signs() {
    let report = check_2018(|r| {
        r.bundles[0].signatures.remove(1);
    });
    assert_fails(&report, &[CheckId::BundlePop]);
    assert_eq!(
        messages(&report, CheckId::BundlePop),
        ["key 41824 has not signed the bundle (no proof of possession)"]
    );
}

#[test]
fn ksr_bundle_pop_signs_over_the_original_ttl() {
    // RFC 4034 §3.1.8.1 puts the RRSIG's OriginalTTL into the signed data, so a key published
    // with another TTL still verifies; the operator hears about the difference. Key 39570
    // appears only in slot 9, so KSR-BUNDLE-KEYS has no other copy to compare it with.
    let report = check_2018(|r| r.bundles[8].keys[0].ttl = 86400);
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.warnings.len(), 1);
    let w = &report.warnings[0];
    assert_eq!(
        (w.id, w.bundle.as_ref().unwrap().index),
        (CheckId::BundlePop, 9)
    );
    assert_eq!(
        w.message,
        "key TTLs {86400, 172800} differ from the signatures' OriginalTTL {172800}"
    );
    // A key whose TTL differs between slots is two keys under one identifier.
    let report = check_2018(|r| r.bundles[2].keys[0].ttl = 86400);
    assert_fails(&report, &[CheckId::BundleKeys]);
    assert!(messages(&report, CheckId::BundleKeys)[0].contains("(TTL 86400, there 172800)"));
}

#[test]
fn ksr_bundle_pop_off() {
    let ksr = doc(KSR_BAD);
    let policy = RequestPolicy {
        validate_signatures: false,
        ..RequestPolicy::default()
    };
    let report = check_request(&ksr, &policy, ceremony_date(&ksr));
    assert!(report.is_ok());
    assert_eq!(
        report.skipped,
        [(
            CheckId::BundlePop,
            "disabled by validate_signatures = false".to_owned()
        )]
    );
}

#[test]
fn ksr_bundle_count_dropped_bundle() {
    // Dropping slot 9 also shortens the cycle and loses the late key (KSR-POLICY-KEYS).
    let report = check_2018(|r| {
        r.bundles.pop();
    });
    assert_fails(
        &report,
        &[
            CheckId::BundleCount,
            CheckId::BundleCycleDuration,
            CheckId::PolicyKeys,
        ],
    );
    assert_eq!(
        messages(&report, CheckId::BundleCount),
        ["the KSR has 8 bundles, the policy requires 9 (num_bundles)"]
    );
}

#[test]
fn ksr_bundle_cycle_duration() {
    // Every slot 9 days apart: each interval and overlap is still in bounds, but the cycle
    // spans 72 days.
    let report = check_2018(|r| {
        let start = r.bundles[0].inception;
        for (i, b) in r.bundles.iter_mut().enumerate() {
            b.inception = start.checked_add(days(9 * i as i64)).unwrap();
            b.expiration = b.inception.checked_add(days(21)).unwrap();
        }
    });
    assert_fails(&report, &[CheckId::BundleCycleDuration]);
    assert!(
        messages(&report, CheckId::BundleCycleDuration)[0]
            .contains("is P72D, outside [P79D, P81D]")
    );
}

#[test]
fn ksr_policy_keys() {
    // Slot 9 loses its second key (41824, which is in other slots). The RRset changes, so
    // PoP is off to isolate the rule.
    let policy = RequestPolicy {
        validate_signatures: false,
        ..RequestPolicy::default()
    };
    let report = check_2018_with(
        |r| {
            r.bundles[8].keys.retain(|k| k.key_tag != 41824);
        },
        &policy,
    );
    assert_fails(&report, &[CheckId::PolicyKeys]);
    let v = report.violations_of(CheckId::PolicyKeys).next().unwrap();
    assert_eq!(v.bundle.as_ref().unwrap().index, 9);
    assert_eq!(
        v.message,
        "has 1 keys, the policy expects 2 (num_keys_per_bundle)"
    );
}

#[test]
fn ksr_policy_alg_1024_bit_policy() {
    // The keys are 2048-bit, so they no longer match the declared policy either.
    let report = check_2018(|r| {
        r.policy.algorithms[0].params = AlgorithmParams::Rsa {
            size: 1024,
            exponent: 65537,
        };
    });
    assert_fails(&report, &[CheckId::BundleKeys, CheckId::PolicyAlg]);
    assert_eq!(
        messages(&report, CheckId::PolicyAlg),
        [
            "the ZSK policy's RSASHA256 (8) RSA-1024 e=65537 has a size not in [2048] (rsa_approved_key_sizes)"
        ]
    );
}

#[test]
fn ksr_policy_alg_ecdsa_needs_enabling() {
    let add_ecdsa = |r: &mut Request| {
        r.policy.algorithms.push(AlgorithmPolicy {
            algorithm: 13,
            params: AlgorithmParams::Ecdsa { size: 256 },
        });
    };
    let report = check_2018(add_ecdsa);
    assert_fails(&report, &[CheckId::PolicyAlg]);
    let found = messages(&report, CheckId::PolicyAlg);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].contains("ECDSA is off (enable_unsupported_ecdsa = false)"));
    assert!(found[1].contains("is not an approved algorithm"));
    let enabled = policy_from_toml(&[
        "enable_unsupported_ecdsa = true",
        "approved_algorithms = [\"RSASHA256\", \"ECDSAP256SHA256\"]",
    ]);
    assert!(check_2018_with(add_ecdsa, &enabled).is_ok());
    // Deprecated algorithms are refused even with the approval lists turned off.
    let lists_off = RequestPolicy {
        signature_algorithms_match_zsk_policy: false,
        ..RequestPolicy::default()
    };
    let report = check_2018_with(
        |r| {
            r.policy.algorithms.push(AlgorithmPolicy {
                algorithm: 1,
                params: AlgorithmParams::None,
            });
        },
        &lists_off,
    );
    assert_fails(&report, &[CheckId::PolicyAlg]);
    assert!(messages(&report, CheckId::PolicyAlg)[0].contains("RSAMD5 (1), which is deprecated"));
}

#[test]
fn ksr_policy_sig_overlap() {
    // The KSR claims at least 12 days of overlap; its bundles overlap by 11.
    let report = check_2018(|r| r.policy.min_validity_overlap = days(12));
    assert_fails(&report, &[CheckId::PolicySigOverlap]);
    assert_eq!(report.violations.len(), 8);
    assert!(
        messages(&report, CheckId::PolicySigOverlap)[0]
            .contains("overlaps bundle 1 by P11D, outside the ZSK policy's [P12D, P12D]")
    );
}

#[test]
fn ksr_policy_sig_overlap_gap() {
    // Slot 6 starts a day after slot 5 expires (its validity shrinks to 9 days, which the
    // declared Min then allows; the interval check is off to isolate the rule).
    let policy = RequestPolicy {
        check_bundle_intervals: false,
        ..RequestPolicy::default()
    };
    let report = check_2018_with(
        |r| {
            r.bundles[5].inception = ts("2018-03-04T00:00:00");
            r.policy.min_signature_validity = days(9);
        },
        &policy,
    );
    assert_fails(&report, &[CheckId::PolicySigOverlap]);
    assert_eq!(
        messages(&report, CheckId::PolicySigOverlap),
        [
            "does not overlap bundle 5: inception 2018-03-04T00:00:00+00:00 is after its expiration 2018-03-03T00:00:00+00:00"
        ]
    );
}

#[test]
fn ksr_policy_sig_validity_22_days() {
    let report = check_2018(|r| r.bundles[2].expiration = ts("2018-02-12T00:00:00"));
    assert_fails(&report, &[CheckId::PolicySigValidity]);
    let v = report
        .violations_of(CheckId::PolicySigValidity)
        .next()
        .unwrap();
    assert_eq!(v.bundle.as_ref().unwrap().index, 3);
    assert_eq!(
        v.message,
        "validity P22D is longer than the ZSK policy's MaxSignatureValidity P21D"
    );
}

#[test]
fn ksr_policy_sig_validity_min_and_max_both_count() {
    // Declared validity [P21D, P22D]: 20 days is below Min although Max is respected.
    let report = check_2018(|r| {
        r.policy.max_signature_validity = days(22);
        r.bundles[2].expiration = ts("2018-02-10T00:00:00");
    });
    assert_fails(&report, &[CheckId::PolicySigValidity]);
    assert_eq!(
        messages(&report, CheckId::PolicySigValidity),
        ["validity P20D is shorter than the ZSK policy's MinSignatureValidity P21D"]
    );
    // And 21 days within [P20D, P22D] is accepted (kskm compares with Max twice and would
    // refuse every bundle here).
    let report = check_2018(|r| {
        r.policy.min_signature_validity = days(20);
        r.policy.max_signature_validity = days(22);
    });
    assert!(report.is_ok(), "{report}");
}

#[test]
fn ksr_policy_sig_horizon() {
    let ksr = doc(KSR_2018_Q1);
    let last_expiration = request(&ksr)
        .bundles
        .iter()
        .map(|b| b.expiration)
        .max()
        .unwrap();
    // 200 days before slot 9 expires: slots expiring more than 180 days ahead are refused.
    let now = last_expiration.checked_sub(days(200)).unwrap();
    let report = check_request(&ksr, &RequestPolicy::default(), now);
    assert_fails(&report, &[CheckId::PolicySigHorizon]);
    let refused: Vec<usize> = report
        .violations
        .iter()
        .map(|v| v.bundle.as_ref().unwrap().index)
        .collect();
    assert_eq!(
        refused,
        [8, 9],
        "slot 7 expires exactly 180 days ahead and is accepted:\n{report}"
    );
    // A clock after slot 1 expired: the KSR is stale (or the clock wrong).
    let report = check_request(&ksr, &RequestPolicy::default(), ts("2018-01-23T00:00:00"));
    assert_fails(&report, &[CheckId::PolicySigHorizon]);
    assert!(
        messages(&report, CheckId::PolicySigHorizon)[0].contains("a stale KSR or a wrong clock")
    );
    // Horizon 0 disables the check (config loading refuses it, code honours it).
    let policy = RequestPolicy {
        signature_horizon_days: 0,
        ..RequestPolicy::default()
    };
    let report = check_request(&ksr, &policy, now);
    assert!(report.is_ok());
    assert_eq!(
        report.skipped[0],
        (
            CheckId::PolicySigHorizon,
            "disabled by signature_horizon_days = 0".into()
        )
    );
}

#[test]
fn ksr_policy_bundle_intervals() {
    // Slot 5 starts two days late: 12 days after slot 4 and 8 before slot 6. With validity
    // fixed at 21 days the overlaps move with it (9 and 13 days).
    let report = check_2018(|r| {
        r.bundles[4].inception = ts("2018-02-12T00:00:00");
        r.bundles[4].expiration = ts("2018-03-05T00:00:00");
    });
    assert_fails(
        &report,
        &[CheckId::PolicySigOverlap, CheckId::PolicyBundleIntervals],
    );
    assert_eq!(
        messages(&report, CheckId::PolicyBundleIntervals),
        [
            "starts P12D after bundle 4, outside [P9D, P11D] (min/max_bundle_interval)",
            "starts P8D after bundle 5, outside [P9D, P11D] (min/max_bundle_interval)",
        ]
    );
    let policy = RequestPolicy {
        check_bundle_overlap: false,
        ..RequestPolicy::default()
    };
    let report = check_2018_with(
        |r| {
            r.bundles[4].inception = ts("2018-02-12T00:00:00");
            r.bundles[4].expiration = ts("2018-03-05T00:00:00");
        },
        &policy,
    );
    assert_fails(&report, &[CheckId::PolicyBundleIntervals]);
}

#[test]
fn bundles_are_numbered_by_expiration() {
    // kskm sorts bundles by expiration before checking; file order does not matter.
    let report = check_2018(|r| r.bundles.reverse());
    assert!(report.is_ok(), "{report}");
    let report = check_2018(|r| {
        r.bundles.reverse();
        r.bundles[8].signatures.remove(1);
    });
    let v = report.violations_of(CheckId::BundlePop).next().unwrap();
    assert_eq!(v.bundle.as_ref().unwrap().id, BUNDLE_1_2018);
    assert_eq!(v.bundle.as_ref().unwrap().index, 1);
}

// ---- chain: KSR(n) against SKR(n-1) --------------------------------------------------------

#[test]
fn chain_2017_passes() {
    let report = check_chain(
        &doc(KSR_2017_Q2),
        &doc(SKR_2017_Q1),
        &RequestPolicy::default(),
        &ResponsePolicy::default(),
    );
    assert!(report.is_ok(), "{report}");
    assert_eq!(
        report.passed,
        [
            CheckId::PreviousSkr,
            CheckId::KsrId,
            CheckId::BundleUnique,
            CheckId::ChainKeys,
            CheckId::ChainOverlap
        ]
    );
    // The overlap is 10 days: a KSR claiming [P11D, P12D] is refused.
    let mut ksr = doc(KSR_2017_Q2);
    request_mut(&mut ksr).policy.min_validity_overlap = days(11);
    let report = check_chain(
        &ksr,
        &doc(SKR_2017_Q1),
        &RequestPolicy::default(),
        &ResponsePolicy::default(),
    );
    assert_fails(&report, &[CheckId::ChainOverlap]);
    assert!(
        messages(&report, CheckId::ChainOverlap)[0]
            .contains("by P10D, outside the KSR's ZSK policy [P11D, P12D]")
    );
}

#[test]
fn chain_legacy_needs_six_bundles_and_no_overlap_check() {
    let (ksr, previous) = (doc(KSR_2010_Q1), doc(LEGACY_2009_Q4));
    let report = check_chain(
        &ksr,
        &previous,
        &RequestPolicy::default(),
        &ResponsePolicy::default(),
    );
    assert_fails(&report, &[CheckId::PreviousSkr, CheckId::ChainOverlap]);
    // The relaxations: SKR(n-1) is a partial quarter of 6 bundles, and the legacy overlaps
    // are 4d23:59:59 against the declared P5D.
    let policy = RequestPolicy {
        check_chain_overlap: false,
        ..RequestPolicy::default()
    };
    let response = ResponsePolicy {
        num_bundles: 6,
        ..ResponsePolicy::default()
    };
    let report = check_chain(&ksr, &previous, &policy, &response);
    assert!(report.is_ok(), "{report}");
    assert_eq!(
        report.skipped,
        [(
            CheckId::ChainOverlap,
            "disabled by check_chain_overlap = false".into()
        )]
    );
    // The next link of the legacy chain needs only the overlap relaxation.
    let report = check_chain(
        &doc(KSR_2010_Q2),
        &doc(LEGACY_2010_Q1),
        &policy,
        &ResponsePolicy::default(),
    );
    assert!(report.is_ok(), "{report}");
}

#[test]
fn chain_ksr_id_replay() {
    let mut ksr = doc(KSR_2017_Q2);
    let previous = doc(SKR_2017_Q1);
    ksr.id.clone_from(&previous.id);
    let report = check_chain(
        &ksr,
        &previous,
        &RequestPolicy::default(),
        &ResponsePolicy::default(),
    );
    assert_fails(&report, &[CheckId::KsrId]);
}

#[test]
fn chain_bundle_id_reused_from_previous_skr() {
    let mut ksr = doc(KSR_2017_Q2);
    let previous = doc(SKR_2017_Q1);
    request_mut(&mut ksr).bundles[3]
        .id
        .clone_from(&response(&previous).bundles[8].id);
    let report = check_chain(
        &ksr,
        &previous,
        &RequestPolicy::default(),
        &ResponsePolicy::default(),
    );
    assert_fails(&report, &[CheckId::BundleUnique]);
    assert_eq!(
        messages(&report, CheckId::BundleUnique),
        ["bundle id was used already, by previous SKR bundle 9"]
    );
}

#[test]
fn chain_keys_missing_from_previous_last_bundle() {
    let mut ksr = doc(KSR_2017_Q2);
    let key = &mut request_mut(&mut ksr).bundles[0].keys[1];
    let last = key.public_key.len() - 1;
    key.public_key[last] ^= 0x01;
    let report = check_chain(
        &ksr,
        &doc(SKR_2017_Q1),
        &RequestPolicy::default(),
        &ResponsePolicy::default(),
    );
    assert_fails(&report, &[CheckId::ChainKeys]);
    let v = report.violations_of(CheckId::ChainKeys).next().unwrap();
    assert_eq!(v.bundle.as_ref().unwrap().index, 1);
    assert!(
        v.message
            .contains("is not published in previous SKR bundle 9 ("),
        "{}",
        v.message
    );
}

#[test]
fn chain_previous_skr_must_verify_and_be_an_skr() {
    let mut previous = doc(SKR_2017_Q1);
    response_mut(&mut previous).bundles[4].signatures[0].signature_data[10] ^= 0x01;
    let report = check_chain(
        &doc(KSR_2017_Q2),
        &previous,
        &RequestPolicy::default(),
        &ResponsePolicy::default(),
    );
    assert_fails(&report, &[CheckId::PreviousSkr]);
    let v = report.violations_of(CheckId::PreviousSkr).next().unwrap();
    assert_eq!(
        v.message,
        "signature by key 19036 (Kjqmt7v) does not verify"
    );
    assert!(
        v.to_string()
            .starts_with("PREVIOUS-SKR previous SKR bundle 5 ("),
        "{v}"
    );
    // Not verified when the response policy says so; the operator hears it.
    let lax = ResponsePolicy {
        validate_signatures: false,
        ..ResponsePolicy::default()
    };
    let report = check_chain(
        &doc(KSR_2017_Q2),
        &previous,
        &RequestPolicy::default(),
        &lax,
    );
    assert!(report.is_ok());
    assert_eq!(report.warnings.len(), 1);
    // A KSR given as the previous SKR.
    let report = check_chain(
        &doc(KSR_2017_Q2),
        &doc(KSR_2017_Q2),
        &RequestPolicy::default(),
        &ResponsePolicy::default(),
    );
    assert_fails(&report, &[CheckId::PreviousSkr]);
}

#[test]
fn real_skrs_verify() {
    for bytes in [
        SKR_2017_Q1,
        SKR_2017_Q2,
        SKR_2017_Q3,
        SKR_2018_Q1,
        LEGACY_2010_Q1,
        LEGACY_2010_Q2,
    ] {
        let report = check_response(&doc(bytes), &ResponsePolicy::default());
        assert!(report.is_ok(), "{report}");
        assert_eq!(report.passed, [CheckId::SkrVerify]);
    }
    let mut skr = doc(SKR_2018_Q1);
    response_mut(&mut skr).bundles[1].signatures[0].signature_data[0] ^= 0x80;
    let report = check_response(&skr, &ResponsePolicy::default());
    assert_fails(&report, &[CheckId::SkrVerify]);
    assert_eq!(
        messages(&report, CheckId::SkrVerify),
        ["signature by key 20326 (Klajeyz) does not verify"]
    );
}

// ---- safety: new SKR against SKR(n-1) ------------------------------------------------------

#[test]
fn safety_real_chains_pass() {
    for (previous, new) in [
        (SKR_2017_Q1, SKR_2017_Q2),
        (SKR_2017_Q2, SKR_2017_Q3),
        (LEGACY_2010_Q1, LEGACY_2010_Q2),
    ] {
        let (previous, new) = (doc(previous), doc(new));
        let ksk_policy = &response(&new).ksk_policy;
        let report = check_safety(&previous, &new, ksk_policy, &RequestPolicy::default());
        assert!(report.is_ok(), "{report}");
        assert_eq!(report.passed, [CheckId::PolicySafety]);
    }
}

#[test]
fn safety_bundle_1_signed_by_an_unpublished_key() {
    let previous = doc(SKR_2017_Q1);
    let mut new = doc(SKR_2017_Q2);
    // KSK2 of the legacy test chain: a real DNSKEY that SKR(n-1) never published.
    let ksk2 = response(&doc(LEGACY_2010_Q2)).bundles[1]
        .keys
        .iter()
        .find(|k| k.key_identifier == "KSK2")
        .unwrap()
        .clone();
    let bundle = &mut response_mut(&mut new).bundles[0];
    bundle.keys.push(ksk2);
    bundle.signatures[0].key_identifier = "KSK2".into();
    bundle.signatures[0].key_tag = 55186;
    let ksk_policy = response(&doc(SKR_2017_Q2)).ksk_policy.clone();
    let report = check_safety(&previous, &new, &ksk_policy, &RequestPolicy::default());
    assert_fails(&report, &[CheckId::PolicySafety]);
    let found = messages(&report, CheckId::PolicySafety);
    assert!(
        found[0].starts_with(
            "key 55186 (KSK2) signs this bundle but is not published in previous SKR bundle 9"
        ),
        "{found:?}"
    );
}

#[test]
fn safety_publish_safety_period() {
    let (previous, new) = (doc(SKR_2017_Q1), doc(SKR_2017_Q2));
    let mut ksk_policy = response(&new).ksk_policy.clone();
    // Published 30 days before signing means SKR(n-1)'s last bundle must cover 2017-03-02.
    ksk_policy.publish_safety = days(30);
    let report = check_safety(&previous, &new, &ksk_policy, &RequestPolicy::default());
    assert_fails(&report, &[CheckId::PolicySafety]);
    assert!(
        messages(&report, CheckId::PolicySafety)[0]
            .contains("inception − PublishSafety P30D is 2017-03-02T00:00:00+00:00")
    );
}

#[test]
fn safety_retire_signing_key_removed_too_early() {
    let previous = doc(SKR_2017_Q1);
    let mut new = doc(SKR_2017_Q2);
    let ksk_policy = response(&new).ksk_policy.clone();
    // Slot 2 neither publishes nor uses KSK-2010, which signed SKR(n-1)'s last bundle.
    let bundle = &mut response_mut(&mut new).bundles[1];
    bundle.keys.retain(|k| k.key_identifier != "Kjqmt7v");
    bundle.signatures.clear();
    let report = check_safety(&previous, &new, &ksk_policy, &RequestPolicy::default());
    assert_fails(&report, &[CheckId::PolicySafety]);
    let found = messages(&report, CheckId::PolicySafety);
    assert!(
        found
            .iter()
            .any(|m| m.contains("which signed previous SKR bundle 9")
                && m.contains("(first inception + RetireSafety P28D)")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|m| m.contains("which signed SKR bundle 1, is no longer published")),
        "{found:?}"
    );
}

#[test]
fn safety_revocation_is_how_a_signing_key_leaves() {
    // In the legacy roll KSK1 signs slots 1-6, is published revoked in 7-8 and gone in 9.
    // Without the revoked slots it would vanish after signing slot 6.
    let previous = doc(LEGACY_2010_Q1);
    let mut new = doc(LEGACY_2010_Q2);
    let ksk_policy = response(&new).ksk_policy.clone();
    for bundle in &mut response_mut(&mut new).bundles[6..8] {
        bundle.keys.retain(|k| k.key_identifier != "KSK1");
        bundle.signatures.retain(|s| s.key_identifier != "KSK1");
    }
    let report = check_safety(&previous, &new, &ksk_policy, &RequestPolicy::default());
    assert_fails(&report, &[CheckId::PolicySafety]);
    assert_eq!(
        messages(&report, CheckId::PolicySafety),
        [
            "key 5017 (KSK1), which signed SKR bundle 6, is no longer published \
          (a signing key stays published until it is revoked)"
        ]
    );
    // Both halves off: skipped, with the knobs named.
    let off = policy_from_toml(&[
        "check_keys_publish_safety = false",
        "check_keys_retire_safety = false",
    ]);
    let report = check_safety(&previous, &new, &ksk_policy, &off);
    assert!(
        report.is_ok() && report.passed.is_empty() && report.skipped.len() == 1,
        "{report}"
    );
}

#[test]
fn documents_of_the_wrong_kind_are_named() {
    let (ksr, skr) = (doc(KSR_2017_Q2), doc(SKR_2017_Q1));
    let (request_policy, response_policy) = (RequestPolicy::default(), ResponsePolicy::default());
    // KSR and previous SKR swapped.
    let report = check_chain(&skr, &ksr, &request_policy, &response_policy);
    assert_fails(&report, &[CheckId::DocumentKind, CheckId::PreviousSkr]);
    // A KSR where the new SKR belongs.
    let ksk_policy = response(&skr).ksk_policy.clone();
    let report = check_safety(&skr, &ksr, &ksk_policy, &request_policy);
    assert_fails(&report, &[CheckId::DocumentKind]);
    assert_eq!(
        messages(&report, CheckId::DocumentKind),
        [format!(
            "the new SKR (id {}) is a KSR: it holds a <Request>, not a <Response>",
            ksr.id
        )]
    );
    let report = check_response(&ksr, &response_policy);
    assert_fails(&report, &[CheckId::DocumentKind]);
}
