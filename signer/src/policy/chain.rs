//! The daisy chain from the previous ceremony's SKR (SKR(n-1)) to this KSR: SKR(n-1) itself,
//! replay guards, and continuity of keys and signatures across the two quarters (kskm
//! `skr/validate.py`, `signer/policy.py`, `signer/verify_chain.py`).

use super::config::{RequestPolicy, ResponsePolicy};
use super::header::{expect_request, expect_response};
use super::report::{CheckId, CheckReport, Source};
use super::signatures::{check_bundle_signatures, key_label, same_public_key};
use super::sorted::{Numbered, numbered};
use crate::ksr::{KsrDocument, SignaturePolicy};

/// Checks this KSR against SKR(n-1): PREVIOUS-SKR (bundle count, KSK signatures), KSR-ID,
/// KSR-BUNDLE-UNIQUE (no bundle id reused from SKR(n-1)), KSR-CHAIN-KEYS and
/// KSR-CHAIN-OVERLAP. "Last bundle" means the one that expires last.
pub fn check_chain(
    ksr: &KsrDocument,
    previous_skr: &KsrDocument,
    policy: &RequestPolicy,
    response: &ResponsePolicy,
) -> CheckReport {
    let mut report = CheckReport::default();
    let request = expect_request(&mut report, ksr, "KSR");
    let previous = expect_response(
        &mut report,
        CheckId::PreviousSkr,
        previous_skr,
        "previous SKR",
    );
    let (Some(request), Some(previous)) = (request, previous) else {
        return report;
    };
    let ksr_bundles = numbered(&request.bundles, Source::Ksr);
    let previous_bundles = numbered(&previous.bundles, Source::PreviousSkr);

    check_skr_bundles(
        &mut report,
        CheckId::PreviousSkr,
        response,
        &previous_bundles,
    );

    if ksr.id == previous_skr.id {
        let message = format!(
            "the KSR id {} is the id of the previous SKR: this KSR was answered already",
            ksr.id
        );
        report.violation(CheckId::KsrId, None, message);
    }
    report.conclude(CheckId::KsrId);

    for b in &ksr_bundles {
        if let Some(old) = previous_bundles.iter().find(|p| p.bundle.id == b.bundle.id) {
            let message = format!(
                "bundle id was used already, by previous SKR bundle {}",
                old.at.index
            );
            report.violation(CheckId::BundleUnique, Some(&b.at), message);
        }
    }
    report.conclude(CheckId::BundleUnique);

    // The parser refuses documents without bundles; there is nothing to chain otherwise.
    if let (Some(first), Some(last)) = (ksr_bundles.first(), previous_bundles.last()) {
        check_chain_keys(&mut report, policy, first, last);
        check_chain_overlap(&mut report, policy, &request.policy, first, last);
    }
    report
}

/// KSR-CHAIN-KEYS: the ZSKs of KSR bundle 1 are already published in SKR(n-1)'s last bundle,
/// so the zone keeps validating across the quarter boundary.
fn check_chain_keys(
    report: &mut CheckReport,
    policy: &RequestPolicy,
    first: &Numbered<'_>,
    last: &Numbered<'_>,
) {
    let id = CheckId::ChainKeys;
    if report.skip_unless(id, policy.check_chain_keys, "check_chain_keys") {
        return;
    }
    for key in &first.bundle.keys {
        if !last.bundle.keys.iter().any(|old| same_public_key(old, key)) {
            let message = format!("key {} is not published in {}", key_label(key), last.at);
            report.violation(id, Some(&first.at), message);
        }
    }
    report.conclude(id);
}

/// KSR-CHAIN-OVERLAP: SKR(n-1)'s last bundle and KSR bundle 1 overlap by the KSR's declared
/// [MinValidityOverlap, MaxValidityOverlap].
fn check_chain_overlap(
    report: &mut CheckReport,
    policy: &RequestPolicy,
    zsk_policy: &SignaturePolicy,
    first: &Numbered<'_>,
    last: &Numbered<'_>,
) {
    let id = CheckId::ChainOverlap;
    if report.skip_unless(id, policy.check_chain_overlap, "check_chain_overlap") {
        return;
    }
    let (min, max) = (
        zsk_policy.min_validity_overlap,
        zsk_policy.max_validity_overlap,
    );
    let (expiration, inception) = (last.bundle.expiration, first.bundle.inception);
    if inception > expiration {
        let message = format!(
            "does not overlap {}: inception {inception} is after its expiration {expiration}",
            last.at
        );
        report.violation(id, Some(&first.at), message);
    } else {
        let overlap = expiration.duration_since(inception);
        if overlap < min || overlap > max {
            let message = format!(
                "overlaps {} by {overlap}, outside the KSR's ZSK policy [{min}, {max}] \
                 (Min/MaxValidityOverlap)",
                last.at
            );
            report.violation(id, Some(&first.at), message);
        }
    }
    report.conclude(id);
}

/// SKR-VERIFY: an SKR (typically the one just made) has the agreed bundle count and every
/// KSK signature in it verifies over its bundle's DNSKEY RRset.
pub fn check_response(skr: &KsrDocument, response: &ResponsePolicy) -> CheckReport {
    let mut report = CheckReport::default();
    if let Some(body) = expect_response(&mut report, CheckId::DocumentKind, skr, "SKR") {
        let bundles = numbered(&body.bundles, Source::Skr);
        check_skr_bundles(&mut report, CheckId::SkrVerify, response, &bundles);
    }
    report
}

/// Bundle count and signatures of an SKR, reported under `id`.
fn check_skr_bundles(
    report: &mut CheckReport,
    id: CheckId,
    response: &ResponsePolicy,
    bundles: &[Numbered<'_>],
) {
    let (have, want) = (bundles.len(), response.num_bundles);
    if have != want {
        let message = format!(
            "the SKR has {have} bundles, the policy requires {want} (response_policy.num_bundles)"
        );
        report.violation(id, None, message);
    }
    if response.validate_signatures {
        for b in bundles {
            check_bundle_signatures(report, id, &b.at, b.bundle, false);
        }
    } else {
        let message = "KSK signatures not verified (response_policy.validate_signatures = false)";
        report.warning(id, None, message);
    }
    report.conclude(id);
}
