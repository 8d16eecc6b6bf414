//! KSR-POLICY-SAFETY: KSKs are published long enough before they sign and after they stop
//! (kskm `signer/policy.py: check_publish_safety`, `check_retire_safety`), judged on the new
//! SKR against SKR(n-1).
//!
//! Keys are compared by algorithm and public-key bytes, so a revoked copy (flags 385) is the
//! same key as the one published with flags 257. Signatures made by a revoked key are exempt
//! from the retire rules, and a key that has been published revoked may then disappear:
//! revocation (RFC 5011) is how a KSK is retired.

use super::config::RequestPolicy;
use super::header::expect_response;
use super::report::{CheckId, CheckReport, Source};
use super::signatures::{key_label, same_public_key, signing_key};
use super::sorted::{Numbered, numbered};
use crate::dnssec::FLAG_REVOKE;
use crate::ksr::{Key, KsrDocument, SignaturePolicy};

const ID: CheckId = CheckId::PolicySafety;

/// Checks the new SKR against SKR(n-1) under the KSK policy's PublishSafety and RetireSafety.
pub fn check_safety(
    previous_skr: &KsrDocument,
    new_skr: &KsrDocument,
    ksk_policy: &SignaturePolicy,
    policy: &RequestPolicy,
) -> CheckReport {
    let mut report = CheckReport::default();
    let previous = expect_response(
        &mut report,
        CheckId::PreviousSkr,
        previous_skr,
        "previous SKR",
    );
    let new = expect_response(&mut report, CheckId::DocumentKind, new_skr, "new SKR");
    let (Some(previous), Some(new)) = (previous, new) else {
        return report;
    };
    let old_bundles = numbered(&previous.bundles, Source::PreviousSkr);
    let new_bundles = numbered(&new.bundles, Source::Skr);
    // The parser refuses documents without bundles.
    let Some(last) = old_bundles.last() else {
        return report;
    };
    match (
        policy.check_keys_publish_safety,
        policy.check_keys_retire_safety,
    ) {
        (false, false) => {
            report.skip(
                ID,
                "disabled by check_keys_publish_safety = false and \
                 check_keys_retire_safety = false",
            );
            return report;
        }
        (true, false) => report.warning(
            ID,
            None,
            "retire safety not checked (check_keys_retire_safety = false)",
        ),
        (false, true) => report.warning(
            ID,
            None,
            "publish safety not checked (check_keys_publish_safety = false)",
        ),
        (true, true) => {}
    }
    for b in std::iter::once(last).chain(&new_bundles) {
        unresolved(&mut report, b);
    }
    if policy.check_keys_publish_safety {
        check_publish(&mut report, last, &new_bundles, ksk_policy);
    }
    if policy.check_keys_retire_safety {
        check_retire_from_previous(&mut report, last, &new_bundles, ksk_policy);
        check_retire_within(&mut report, &new_bundles);
    }
    report.conclude(ID);
    report
}

fn is_revoked(key: &Key) -> bool {
    key.flags & FLAG_REVOKE != 0
}

/// The keys that signed `b`, each resolved to its `<Key>` (`unresolved` reports the rest).
fn signers<'a>(b: &Numbered<'a>) -> Vec<&'a Key> {
    let bundle = b.bundle;
    bundle
        .signatures
        .iter()
        .filter_map(|sig| signing_key(bundle, sig))
        .collect()
}

/// A signature that names no key of its bundle cannot be placed on the timeline.
fn unresolved(report: &mut CheckReport, b: &Numbered<'_>) {
    for sig in &b.bundle.signatures {
        if signing_key(b.bundle, sig).is_none() {
            let message = format!(
                "signature with key tag {} names keyIdentifier {}, which no key of the bundle has",
                sig.key_tag, sig.key_identifier
            );
            report.violation(ID, Some(&b.at), message);
        }
    }
}

/// Publish: every key signing new bundle 1 was already published in SKR(n-1)'s last bundle,
/// and that bundle was valid PublishSafety before the new first inception.
fn check_publish(
    report: &mut CheckReport,
    last: &Numbered<'_>,
    new_bundles: &[Numbered<'_>],
    ksk_policy: &SignaturePolicy,
) {
    let Some(first) = new_bundles.first() else {
        return;
    };
    for key in signers(first) {
        if !last.bundle.keys.iter().any(|old| same_public_key(old, key)) {
            report.violation(
                ID,
                Some(&first.at),
                format!(
                    "key {} signs this bundle but is not published in {}",
                    key_label(key),
                    last.at
                ),
            );
        }
    }
    let safety = ksk_policy.publish_safety;
    let Some(publish_at) = first.bundle.inception.checked_sub(safety) else {
        report.violation(
            ID,
            Some(&first.at),
            format!("inception − PublishSafety {safety} is out of range"),
        );
        return;
    };
    let (inception, expiration) = (last.bundle.inception, last.bundle.expiration);
    if publish_at < inception || publish_at > expiration {
        report.violation(
            ID,
            Some(&first.at),
            format!(
                "inception − PublishSafety {safety} is {publish_at}, outside {} \
                 ({inception} to {expiration})",
                last.at
            ),
        );
    }
}

/// Retire, across the two SKRs: a key that signed SKR(n-1)'s last bundle stays published in
/// every new bundle that starts no later than the first new inception + RetireSafety.
fn check_retire_from_previous(
    report: &mut CheckReport,
    last: &Numbered<'_>,
    new_bundles: &[Numbered<'_>],
    ksk_policy: &SignaturePolicy,
) {
    let Some(first) = new_bundles.first() else {
        return;
    };
    let safety = ksk_policy.retire_safety;
    let Some(retire_at) = first.bundle.inception.checked_add(safety) else {
        report.violation(
            ID,
            Some(&first.at),
            format!("inception + RetireSafety {safety} is out of range"),
        );
        return;
    };
    for key in signers(last).into_iter().filter(|k| !is_revoked(k)) {
        for b in new_bundles
            .iter()
            .filter(|b| b.bundle.inception <= retire_at)
        {
            if !b.bundle.keys.iter().any(|k| same_public_key(k, key)) {
                report.violation(
                    ID,
                    Some(&b.at),
                    format!(
                        "key {}, which signed {}, is not published; it must stay until {retire_at} \
                         (first inception + RetireSafety {safety})",
                        key_label(key),
                        last.at
                    ),
                );
            }
        }
    }
}

/// Retire, within the new SKR: a key that signs bundle i stays published in every later
/// bundle, until it has been published revoked.
fn check_retire_within(report: &mut CheckReport, new_bundles: &[Numbered<'_>]) {
    // Keys still owed publication, with the last bundle they signed.
    let mut owed: Vec<(&Key, usize)> = Vec::new();
    for b in new_bundles {
        let keys = &b.bundle.keys;
        for &(key, signed_in) in &owed {
            if !keys.iter().any(|k| same_public_key(k, key)) {
                report.violation(
                    ID,
                    Some(&b.at),
                    format!(
                        "key {}, which signed SKR bundle {signed_in}, is no longer published \
                         (a signing key stays published until it is revoked)",
                        key_label(key)
                    ),
                );
            }
        }
        // Reported once; a revoked copy ends the obligation.
        owed.retain(|(key, _)| {
            keys.iter()
                .any(|k| same_public_key(k, key) && !is_revoked(k))
        });
        for key in signers(b).into_iter().filter(|k| !is_revoked(k)) {
            match owed.iter_mut().find(|(k, _)| same_public_key(k, key)) {
                Some(entry) => entry.1 = b.at.index,
                None => owed.push((key, b.at.index)),
            }
        }
    }
}
