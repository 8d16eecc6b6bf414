//! Verifying an SKR as a resolver would use it: every RRSIG of a bundle over that bundle's
//! own DNSKEY RRset, the signing key found among the bundle's KSKs by key tag and algorithm.
//! With the KSR it answers, also that the SKR is the answer to it: same id, same bundles with
//! the same validity, every requested ZSK published.

use std::fmt;

use domain::base::name::Name;

use super::sorted_bundles;
use crate::dnssec::{self, DnsKey, FLAG_SEP, RrsigFields, signed_data};
use crate::ksr::{Body, Bundle, Key, KsrDocument, Signature, TYPE_DNSKEY, Timestamp};

/// The document given is not the kind `verify_skr` needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifySkrError {
    #[error("{role} (id {id}) holds a <{found}>, not a <{expected}>")]
    WrongDocument {
        role: &'static str,
        id: String,
        found: &'static str,
        expected: &'static str,
    },
}

/// The outcome for a whole SKR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkrReport {
    pub id: String,
    /// Per bundle, sorted by expiration.
    pub bundles: Vec<BundleReport>,
    /// Document-level disagreements with the KSR (id, bundle count, missing bundles).
    pub problems: Vec<String>,
}

/// The outcome for one bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleReport {
    /// 1-based, after sorting by expiration.
    pub number: usize,
    pub id: String,
    pub inception: Timestamp,
    pub expiration: Timestamp,
    pub signatures: Vec<SignatureCheck>,
    /// Anything else wrong with the bundle (an unusable key, a mismatch with the KSR, …).
    pub problems: Vec<String>,
}

/// One RRSIG and whether it verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureCheck {
    pub key_identifier: String,
    pub key_tag: u16,
    pub algorithm: u8,
    /// `Err` says why it does not verify.
    pub result: Result<(), String>,
}

impl BundleReport {
    /// Every signature verified and nothing else is wrong.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty() && self.signatures.iter().all(|s| s.result.is_ok())
    }
}

impl SkrReport {
    /// Every bundle is fine and the SKR answers the KSR (when one was given).
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty() && self.bundles.iter().all(BundleReport::is_ok)
    }

    /// Signatures that verified.
    pub fn verified_signatures(&self) -> usize {
        self.bundles
            .iter()
            .flat_map(|b| &b.signatures)
            .filter(|s| s.result.is_ok())
            .count()
    }

    /// Numbers of the bundles with a problem.
    pub fn failed_bundles(&self) -> Vec<usize> {
        self.bundles
            .iter()
            .filter(|b| !b.is_ok())
            .map(|b| b.number)
            .collect()
    }
}

/// One line per signature and problem, then a verdict.
impl fmt::Display for SkrReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for problem in &self.problems {
            writeln!(f, "FAIL SKR {}: {problem}", self.id)?;
        }
        for b in &self.bundles {
            for s in &b.signatures {
                let verdict = match &s.result {
                    Ok(()) => "OK  ".to_owned(),
                    Err(e) => format!("FAIL {e}: "),
                };
                writeln!(
                    f,
                    "{verdict}bundle {} ({}): RRSIG by {} (tag {}, algorithm {})",
                    b.number, b.id, s.key_identifier, s.key_tag, s.algorithm
                )?;
            }
            for problem in &b.problems {
                writeln!(f, "FAIL bundle {} ({}): {problem}", b.number, b.id)?;
            }
        }
        let total: usize = self.bundles.iter().map(|b| b.signatures.len()).sum();
        write!(
            f,
            "RESULT: {}, {} of {total} signatures verify in {} bundles",
            if self.is_ok() { "VALID" } else { "INVALID" },
            self.verified_signatures(),
            self.bundles.len()
        )
    }
}

/// Verifies every signature of `skr`, bundle by bundle; with `ksr`, also that `skr` answers
/// it. Only a document of the wrong kind is an error; everything else is in the report.
pub fn verify_skr(
    skr: &KsrDocument,
    ksr: Option<&KsrDocument>,
) -> Result<SkrReport, VerifySkrError> {
    let Body::Response(response) = &skr.body else {
        return Err(VerifySkrError::WrongDocument {
            role: "the SKR",
            id: skr.id.clone(),
            found: "Request",
            expected: "Response",
        });
    };
    let request = match ksr.map(|k| &k.body) {
        None => None,
        Some(Body::Request(request)) => Some(request),
        Some(Body::Response(_)) => {
            return Err(VerifySkrError::WrongDocument {
                role: "the KSR",
                id: ksr.map(|k| k.id.clone()).unwrap_or_default(),
                found: "Response",
                expected: "Request",
            });
        }
    };
    let mut report = SkrReport {
        id: skr.id.clone(),
        bundles: Vec::new(),
        problems: Vec::new(),
    };
    for (i, bundle) in sorted_bundles(&response.bundles).into_iter().enumerate() {
        report.bundles.push(verify_bundle(i + 1, bundle));
    }
    if let (Some(ksr), Some(request)) = (ksr, request) {
        compare_with_request(&mut report, skr, ksr, &response.bundles, &request.bundles);
    }
    Ok(report)
}

fn verify_bundle(number: usize, bundle: &Bundle) -> BundleReport {
    let mut report = BundleReport {
        number,
        id: bundle.id.clone(),
        inception: bundle.inception,
        expiration: bundle.expiration,
        signatures: Vec::new(),
        problems: Vec::new(),
    };
    let mut rrset = Vec::with_capacity(bundle.keys.len());
    for key in &bundle.keys {
        match DnsKey::new(key.flags, key.algorithm, key.public_key.clone()) {
            Ok(dns) => {
                let tag = dns.key_tag();
                if tag != key.key_tag {
                    report.problems.push(format!(
                        "key {:?} has keyTag {} but its tag is {tag}",
                        key.key_identifier, key.key_tag
                    ));
                }
                rrset.push(dns);
            }
            Err(e) => report.problems.push(format!(
                "key {:?} (tag {}) is not a DNSKEY: {e}",
                key.key_identifier, key.key_tag
            )),
        }
    }
    if bundle.signatures.is_empty() {
        report
            .problems
            .push("the bundle has no signature".to_owned());
    }
    for sig in &bundle.signatures {
        let result = if rrset.len() == bundle.keys.len() {
            check_signature(bundle, sig, &rrset)
        } else {
            Err("the bundle's DNSKEY RRset cannot be rebuilt".to_owned())
        };
        report.signatures.push(SignatureCheck {
            key_identifier: sig.key_identifier.clone(),
            key_tag: sig.key_tag,
            algorithm: sig.algorithm,
            result,
        });
    }
    report
}

/// One RRSIG over the bundle's RRset: by a KSK of the bundle with the RRSIG's tag and
/// algorithm, covering DNSKEY at the root, valid exactly over the bundle, and verifying.
fn check_signature(bundle: &Bundle, sig: &Signature, rrset: &[DnsKey]) -> Result<(), String> {
    if sig.type_covered != TYPE_DNSKEY {
        return Err(format!("covers type {}, not DNSKEY", sig.type_covered));
    }
    if sig.signers_name != "." || sig.labels != 0 {
        return Err(format!(
            "signer {:?} with {} labels, not the root",
            sig.signers_name, sig.labels
        ));
    }
    if (sig.inception, sig.expiration) != (bundle.inception, bundle.expiration) {
        return Err(format!(
            "valid {} to {}, not the bundle's {} to {}",
            sig.inception, sig.expiration, bundle.inception, bundle.expiration
        ));
    }
    let fields = RrsigFields::root_dnskey(
        sig.algorithm,
        sig.original_ttl,
        sig.inception.serial(),
        sig.expiration.serial(),
        sig.key_tag,
    );
    let data = signed_data(&fields, &Name::root_vec(), sig.original_ttl, rrset)
        .map_err(|e| format!("cannot build the signed data: {e}"))?;
    // Tags collide: try every KSK of the bundle with this tag and algorithm.
    let candidates: Vec<&DnsKey> = rrset
        .iter()
        .filter(|k| k.flags & FLAG_SEP != 0 && k.is_zone_key())
        .filter(|k| k.algorithm == sig.algorithm && k.key_tag() == sig.key_tag)
        .collect();
    if candidates.is_empty() {
        return Err(format!(
            "no KSK in the bundle has tag {} and algorithm {}",
            sig.key_tag, sig.algorithm
        ));
    }
    let mut last = String::new();
    for key in candidates {
        match dnssec::verify(key, &data, &sig.signature_data) {
            Ok(()) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
    }
    Err(last)
}

/// The SKR answers the KSR: same id (and serial and domain, which the SKR copies), the same
/// bundles (id, inception, expiration) and every requested ZSK published in its bundle.
fn compare_with_request(
    report: &mut SkrReport,
    skr: &KsrDocument,
    ksr: &KsrDocument,
    responses: &[Bundle],
    requests: &[Bundle],
) {
    if skr.id != ksr.id {
        report
            .problems
            .push(format!("answers KSR id {}, not {}", skr.id, ksr.id));
    }
    if (skr.serial, &skr.domain) != (ksr.serial, &ksr.domain) {
        report.problems.push(format!(
            "serial {} for domain {:?}, the KSR serial {} for domain {:?}",
            skr.serial, skr.domain, ksr.serial, ksr.domain
        ));
    }
    if responses.len() != requests.len() {
        report.problems.push(format!(
            "{} bundles, the KSR has {}",
            responses.len(),
            requests.len()
        ));
    }
    for request in requests {
        let Some(position) = report.bundles.iter().position(|b| b.id == request.id) else {
            report
                .problems
                .push(format!("KSR bundle {} is not in the SKR", request.id));
            continue;
        };
        let Some(response) = responses.iter().find(|b| b.id == request.id) else {
            continue;
        };
        let problems = &mut report.bundles[position].problems;
        if (response.inception, response.expiration) != (request.inception, request.expiration) {
            problems.push(format!(
                "valid {} to {}, the KSR bundle {} to {}",
                response.inception, response.expiration, request.inception, request.expiration
            ));
        }
        for zsk in &request.keys {
            if !response.keys.iter().any(|k| same_key(k, zsk)) {
                problems.push(format!(
                    "the KSR's ZSK {} is not published (with flags {})",
                    zsk.key_tag, zsk.flags
                ));
            }
        }
    }
    for bundle in &mut report.bundles {
        if !requests.iter().any(|r| r.id == bundle.id) {
            bundle.problems.push("not a bundle of the KSR".to_owned());
        }
    }
}

fn same_key(a: &Key, b: &Key) -> bool {
    (a.flags, a.protocol, a.algorithm) == (b.flags, b.protocol, b.algorithm)
        && a.public_key == b.public_key
}
