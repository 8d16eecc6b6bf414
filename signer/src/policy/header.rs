//! The KSR header: which document this is, and for which zone.

use super::config::RequestPolicy;
use super::report::{CheckId, CheckReport};
use crate::ksr::{Body, KsrDocument, Request, Response};

/// The request inside a KSR, or a DOCUMENT-KIND violation naming what was given instead.
pub(crate) fn expect_request<'d>(
    report: &mut CheckReport,
    doc: &'d KsrDocument,
    role: &str,
) -> Option<&'d Request> {
    match &doc.body {
        Body::Request(request) => Some(request),
        Body::Response(_) => {
            report.violation(
                CheckId::DocumentKind,
                None,
                format!(
                    "the {role} (id {}) is an SKR: it holds a <Response>, not a <Request>",
                    doc.id
                ),
            );
            None
        }
    }
}

/// The response inside an SKR, or a violation under `id` naming what was given instead.
pub(crate) fn expect_response<'d>(
    report: &mut CheckReport,
    id: CheckId,
    doc: &'d KsrDocument,
    role: &str,
) -> Option<&'d Response> {
    match &doc.body {
        Body::Response(response) => Some(response),
        Body::Request(_) => {
            report.violation(
                id,
                None,
                format!(
                    "the {role} (id {}) is a KSR: it holds a <Request>, not a <Response>",
                    doc.id
                ),
            );
            None
        }
    }
}

/// KSR-DOMAIN: the KSR is for a zone this ceremony signs (always on, as in kskm).
pub(crate) fn check_domain(report: &mut CheckReport, ksr: &KsrDocument, policy: &RequestPolicy) {
    if !policy.acceptable_domains.contains(&ksr.domain) {
        report.violation(
            CheckId::KsrDomain,
            None,
            format!(
                "domain {:?} is not an acceptable domain ({})",
                ksr.domain,
                quoted_list(&policy.acceptable_domains)
            ),
        );
    }
    report.conclude(CheckId::KsrDomain);
}

fn quoted_list(items: &[String]) -> String {
    if items.is_empty() {
        return "none configured".to_owned();
    }
    items
        .iter()
        .map(|d| format!("{d:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}
