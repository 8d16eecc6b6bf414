//! kskm's "Verify KSR policy parameters" (`ksr/verify_policy.py`): the KSR against the KSK
//! operator's policy and against the ZSK policy the KSR itself declares.

use std::collections::BTreeSet;

use super::bundles::describe_algorithm;
use super::config::{DnssecAlgorithm, RequestPolicy};
use super::report::{CheckId, CheckReport};
use super::sorted::Numbered;
use crate::ksr::{AlgorithmParams, AlgorithmPolicy, SignaturePolicy, Timestamp, XsdDuration};

/// Algorithms RFC 8624 says must not be used for signing.
const DEPRECATED: [u8; 4] = [1, 3, 6, 12];
/// Algorithms the ceremony can sign and verify with.
const SUPPORTED: [u8; 6] = [8, 10, 13, 14, 15, 16];
const ECDSA: [u8; 2] = [13, 14];
const EDDSA: [u8; 2] = [15, 16];
const RSA: [u8; 4] = [5, 7, 8, 10];

/// The usual key count of a quarter: the early, on-time and late ZSK.
const USUAL_DIFFERENT_KEYS: usize = 3;

/// KSR-POLICY-KEYS: key counts per slot and over the whole KSR, as the KSK operator expects.
pub(crate) fn check_keys_in_bundles(
    report: &mut CheckReport,
    policy: &RequestPolicy,
    bundles: &[Numbered<'_>],
) {
    let id = CheckId::PolicyKeys;
    let knob = "check_keys_match_ksk_operator_policy";
    if report.skip_unless(id, policy.check_keys_match_ksk_operator_policy, knob) {
        return;
    }
    let expected = &policy.num_keys_per_bundle;
    if bundles.len() == expected.len() {
        for (b, &want) in bundles.iter().zip(expected) {
            let have = b.bundle.keys.len();
            if have != want {
                let message =
                    format!("has {have} keys, the policy expects {want} (num_keys_per_bundle)");
                report.violation(id, Some(&b.at), message);
            }
        }
    } else {
        let message = format!(
            "cannot compare key counts: the KSR has {} bundles, num_keys_per_bundle lists {}",
            bundles.len(),
            expected.len()
        );
        report.violation(id, None, message);
    }
    let different: BTreeSet<&str> = bundles
        .iter()
        .flat_map(|b| b.bundle.keys.iter().map(|k| k.key_identifier.as_str()))
        .collect();
    let count = different.len();
    if count != USUAL_DIFFERENT_KEYS {
        let message =
            format!("the KSR has {count} different keys, not the usual 3 (early, on-time, late)");
        report.warning(id, None, message);
    }
    let want = policy.num_different_keys_in_all_bundles;
    if count != want {
        let message = format!(
            "the KSR has {count} different keys, the policy expects {want} \
             (num_different_keys_in_all_bundles)"
        );
        report.violation(id, None, message);
    }
    report.conclude(id);
}

/// KSR-POLICY-ALG: the ZSK policy's algorithms are neither deprecated nor unsupported (always
/// checked, as in kskm), and are on the approved lists (`signature_algorithms_match_zsk_policy`).
pub(crate) fn check_algorithms(
    report: &mut CheckReport,
    policy: &RequestPolicy,
    zsk_policy: &SignaturePolicy,
) {
    let id = CheckId::PolicyAlg;
    for entry in &zsk_policy.algorithms {
        if let Some(problem) = unusable(policy, entry.algorithm) {
            let algorithm = DnssecAlgorithm(entry.algorithm);
            report.violation(
                id,
                None,
                format!("the ZSK policy uses {algorithm}, {problem}"),
            );
        }
    }
    if !policy.signature_algorithms_match_zsk_policy {
        if !report.has_violation(id) {
            let reason = "approved lists disabled by signature_algorithms_match_zsk_policy = \
                          false (no deprecated or unsupported algorithm found)";
            report.skip(id, reason);
        }
        return;
    }
    for entry in &zsk_policy.algorithms {
        for problem in unapproved(policy, entry) {
            let message = format!("the ZSK policy's {} {problem}", describe_algorithm(entry));
            report.violation(id, None, message);
        }
    }
    report.conclude(id);
}

/// Why an algorithm cannot be used at all, whatever the approved lists say.
fn unusable(policy: &RequestPolicy, algorithm: u8) -> Option<&'static str> {
    if DEPRECATED.contains(&algorithm) {
        Some("which is deprecated")
    } else if !SUPPORTED.contains(&algorithm) {
        Some("which is not supported")
    } else if ECDSA.contains(&algorithm) && !policy.enable_unsupported_ecdsa {
        Some("but ECDSA is off (enable_unsupported_ecdsa = false)")
    } else if EDDSA.contains(&algorithm) && !policy.enable_unsupported_edwards_dsa {
        Some("but EdDSA is off (enable_unsupported_edwards_dsa = false)")
    } else {
        None
    }
}

/// How a `SignatureAlgorithm` of the ZSK policy falls outside the approved lists.
fn unapproved(policy: &RequestPolicy, entry: &AlgorithmPolicy) -> Vec<String> {
    let mut problems = Vec::new();
    if !policy
        .approved_algorithms
        .contains(&DnssecAlgorithm(entry.algorithm))
    {
        let approved: Vec<String> = policy
            .approved_algorithms
            .iter()
            .map(ToString::to_string)
            .collect();
        problems.push(format!(
            "is not an approved algorithm ({}; approved_algorithms)",
            approved.join(", ")
        ));
    }
    match entry.params {
        AlgorithmParams::Rsa { size, exponent } => {
            let sizes = &policy.rsa_approved_key_sizes;
            if !sizes.contains(&size) {
                problems.push(format!(
                    "has a size not in {sizes:?} (rsa_approved_key_sizes)"
                ));
            }
            let exponents = &policy.rsa_approved_exponents;
            if !exponents.contains(&exponent) {
                problems.push(format!(
                    "has an exponent not in {exponents:?} (rsa_approved_exponents)"
                ));
            }
        }
        AlgorithmParams::None if RSA.contains(&entry.algorithm) => {
            problems.push("gives no RSA size and exponent".to_owned());
        }
        _ => {}
    }
    problems
}

/// KSR-POLICY-SIG-OVERLAP: consecutive bundles overlap by the KSR's own
/// [MinValidityOverlap, MaxValidityOverlap], so the quarter has no gap.
pub(crate) fn check_overlaps(
    report: &mut CheckReport,
    policy: &RequestPolicy,
    zsk_policy: &SignaturePolicy,
    bundles: &[Numbered<'_>],
) {
    let id = CheckId::PolicySigOverlap;
    if report.skip_unless(id, policy.check_bundle_overlap, "check_bundle_overlap") {
        return;
    }
    let (min, max) = (
        zsk_policy.min_validity_overlap,
        zsk_policy.max_validity_overlap,
    );
    for pair in bundles.windows(2) {
        let [previous, this] = pair else { continue };
        let (expiration, inception) = (previous.bundle.expiration, this.bundle.inception);
        let n = previous.at.index;
        if inception > expiration {
            let message = format!(
                "does not overlap bundle {n}: inception {inception} is after its expiration \
                 {expiration}"
            );
            report.violation(id, Some(&this.at), message);
            continue;
        }
        let overlap = expiration.duration_since(inception);
        if overlap < min || overlap > max {
            let message = format!(
                "overlaps bundle {n} by {overlap}, outside the ZSK policy's [{min}, {max}] \
                 (Min/MaxValidityOverlap)"
            );
            report.violation(id, Some(&this.at), message);
        }
    }
    report.conclude(id);
}

/// KSR-POLICY-SIG-VALIDITY: expiration − inception ∈ [MinSignatureValidity,
/// MaxSignatureValidity] of the KSR's ZSK policy. Both bounds count (kskm compares with Max
/// twice, which ignores Min).
pub(crate) fn check_validity(
    report: &mut CheckReport,
    policy: &RequestPolicy,
    zsk_policy: &SignaturePolicy,
    bundles: &[Numbered<'_>],
) {
    let id = CheckId::PolicySigValidity;
    let knob = "signature_validity_match_zsk_policy";
    if report.skip_unless(id, policy.signature_validity_match_zsk_policy, knob) {
        return;
    }
    let (min, max) = (
        zsk_policy.min_signature_validity,
        zsk_policy.max_signature_validity,
    );
    for b in bundles {
        let validity = b.bundle.expiration.duration_since(b.bundle.inception);
        if validity < min {
            let message = format!(
                "validity {validity} is shorter than the ZSK policy's MinSignatureValidity {min}"
            );
            report.violation(id, Some(&b.at), message);
        }
        if validity > max {
            let message = format!(
                "validity {validity} is longer than the ZSK policy's MaxSignatureValidity {max}"
            );
            report.violation(id, Some(&b.at), message);
        }
    }
    report.conclude(id);
}

/// KSR-POLICY-SIG-HORIZON (DPS 5.1.4): no signature will expire more than
/// `signature_horizon_days` after `now`, and none has expired already (which would rather mean
/// a wrong clock or a stale KSR). `now` is the ceremony's clock, injected.
pub(crate) fn check_horizon(
    report: &mut CheckReport,
    policy: &RequestPolicy,
    bundles: &[Numbered<'_>],
    now: Timestamp,
) {
    let id = CheckId::PolicySigHorizon;
    let knob = "signature_check_expire_horizon";
    if report.skip_unless(id, policy.signature_check_expire_horizon, knob) {
        return;
    }
    let days = policy.signature_horizon_days;
    if days == 0 {
        report.skip(id, "disabled by signature_horizon_days = 0");
        return;
    }
    let Some(limit) = now.checked_add(XsdDuration::from_days(i64::from(days))) else {
        report.violation(
            id,
            None,
            format!("now ({now}) + {days} days is out of range"),
        );
        return;
    };
    for b in bundles {
        let expiration = b.bundle.expiration;
        if expiration > limit {
            let message = format!(
                "expires {expiration}, more than {days} days after now ({now}); the limit is \
                 {limit} (signature_horizon_days)"
            );
            report.violation(id, Some(&b.at), message);
        }
        if expiration < now {
            let message =
                format!("expired {expiration}, before now ({now}): a stale KSR or a wrong clock");
            report.violation(id, Some(&b.at), message);
        }
    }
    report.conclude(id);
}

/// KSR-POLICY-BUNDLE-INTERVALS: slots start at the expected spacing (10 days ± 1).
pub(crate) fn check_intervals(
    report: &mut CheckReport,
    policy: &RequestPolicy,
    bundles: &[Numbered<'_>],
) {
    let id = CheckId::PolicyBundleIntervals;
    if report.skip_unless(id, policy.check_bundle_intervals, "check_bundle_intervals") {
        return;
    }
    let (min, max) = (policy.min_bundle_interval, policy.max_bundle_interval);
    for pair in bundles.windows(2) {
        let [previous, this] = pair else { continue };
        let interval = this
            .bundle
            .inception
            .duration_since(previous.bundle.inception);
        if interval < min || interval > max {
            let message = format!(
                "starts {interval} after bundle {}, outside [{min}, {max}] \
                 (min/max_bundle_interval)",
                previous.at.index
            );
            report.violation(id, Some(&this.at), message);
        }
    }
    report.conclude(id);
}
