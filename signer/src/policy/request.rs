//! Every check on a KSR that needs only the KSR, the policy and the clock (reference §3), in
//! kskm's order: header, bundles, policy parameters.

use super::bundles::{check_count, check_cycle, check_keys, check_pop, check_unique_ids};
use super::config::RequestPolicy;
use super::header::{check_domain, expect_request};
use super::report::{CheckReport, Source};
use super::sorted::numbered;
use super::zsk_policy::{
    check_algorithms, check_horizon, check_intervals, check_keys_in_bundles, check_overlaps,
    check_validity,
};
use crate::ksr::{KsrDocument, Timestamp};

/// Checks a KSR on its own. `now` is the ceremony's clock (for KSR-POLICY-SIG-HORIZON), passed
/// in so that a ceremony can be rehearsed or re-examined at its real date.
///
/// Bundles are numbered after sorting by expiration, as kskm does. Every check runs even after
/// another has failed, and each reports everything it finds. A document that is not a KSR
/// yields a single DOCUMENT-KIND violation.
pub fn check_request(ksr: &KsrDocument, policy: &RequestPolicy, now: Timestamp) -> CheckReport {
    let mut report = CheckReport::default();
    let Some(request) = expect_request(&mut report, ksr, "KSR") else {
        return report;
    };
    let bundles = numbered(&request.bundles, Source::Ksr);
    let zsk_policy = &request.policy;

    check_domain(&mut report, ksr, policy);

    check_unique_ids(&mut report, &bundles);
    check_keys(&mut report, policy, zsk_policy, &bundles);
    check_pop(&mut report, policy, &bundles);
    check_count(&mut report, policy, &bundles);
    check_cycle(&mut report, policy, &bundles);

    check_keys_in_bundles(&mut report, policy, &bundles);
    check_algorithms(&mut report, policy, zsk_policy);
    check_overlaps(&mut report, policy, zsk_policy, &bundles);
    check_validity(&mut report, policy, zsk_policy, &bundles);
    check_horizon(&mut report, policy, &bundles, now);
    check_intervals(&mut report, policy, &bundles);
    report
}
