//! kskm's "Verify KSR bundles" (`ksr/verify_bundles.py`): unique ids, the ZSKs themselves,
//! proof of possession, bundle count and cycle length.

use std::collections::BTreeMap;

use super::config::{DnssecAlgorithm, RequestPolicy};
use super::report::{CheckId, CheckReport};
use super::signatures::{check_bundle_signatures, dns_key, key_label};
use super::sorted::Numbered;
use crate::dnssec::{DnsKey, FLAG_ZONE};
use crate::ksr::{AlgorithmParams, AlgorithmPolicy, Key, SignaturePolicy};

/// KSR-BUNDLE-UNIQUE within the KSR: bundles are referred to by id in logs and in the SKR,
/// so an id may appear only once. Always on.
pub(crate) fn check_unique_ids(report: &mut CheckReport, bundles: &[Numbered<'_>]) {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for b in bundles {
        match seen.get(b.bundle.id.as_str()) {
            Some(first) => report.violation(
                CheckId::BundleUnique,
                Some(&b.at),
                format!("bundle id is also used by bundle {first}"),
            ),
            None => {
                seen.insert(&b.bundle.id, b.at.index);
            }
        }
    }
    report.conclude(CheckId::BundleUnique);
}

/// KSR-BUNDLE-KEYS: one keyIdentifier is one key everywhere; every key is a ZSK of the
/// declared ZSK policy with a correct key tag; no key tag names two keys.
pub(crate) fn check_keys(
    report: &mut CheckReport,
    policy: &RequestPolicy,
    zsk_policy: &SignaturePolicy,
    bundles: &[Numbered<'_>],
) {
    let id = CheckId::BundleKeys;
    if report.skip_unless(id, policy.keys_match_zsk_policy, "keys_match_zsk_policy") {
        return;
    }
    let mut by_identifier: BTreeMap<&str, (&Key, usize)> = BTreeMap::new();
    let mut by_tag: BTreeMap<u16, (&Key, usize)> = BTreeMap::new();
    for b in bundles {
        for key in &b.bundle.keys {
            let label = key_label(key);
            if let Some(&(first, index)) = by_identifier.get(key.key_identifier.as_str()) {
                if first != key {
                    let message = format!(
                        "key {label} differs from the key with the same keyIdentifier in bundle \
                         {index} ({}): one keyIdentifier must be one key",
                        differences(key, first)
                    );
                    report.violation(id, Some(&b.at), message);
                }
                // Seen, and judged, before.
                continue;
            }
            by_identifier.insert(&key.key_identifier, (key, b.at.index));
            match by_tag.get(&key.key_tag) {
                Some(&(other, index)) => {
                    let message = format!(
                        "key tag {} names two different keys: this one and keyIdentifier {} \
                         in bundle {index}",
                        key.key_tag, other.key_identifier
                    );
                    report.violation(id, Some(&b.at), message);
                }
                None => {
                    by_tag.insert(key.key_tag, (key, b.at.index));
                }
            }
            for problem in key_problems(report, policy, zsk_policy, key, &b.at) {
                report.violation(id, Some(&b.at), format!("key {label} {problem}"));
            }
        }
    }
    report.conclude(id);
}

/// How two `<Key>`s with one keyIdentifier differ, e.g. `TTL 86400, there 172800`.
fn differences(key: &Key, there: &Key) -> String {
    let mut found = Vec::new();
    let mut compare = |name: &str, here: u32, there: u32| {
        if here != there {
            found.push(format!("{name} {here}, there {there}"));
        }
    };
    compare("keyTag", key.key_tag.into(), there.key_tag.into());
    compare("TTL", key.ttl, there.ttl);
    compare("flags", key.flags.into(), there.flags.into());
    compare("algorithm", key.algorithm.into(), there.algorithm.into());
    if key.public_key != there.public_key {
        found.push("another public key".to_owned());
    }
    found.join("; ")
}

/// What is wrong with one ZSK (each item completes "key N …"); an RSA exponent that only
/// `rsa_exponent_match_zsk_policy = false` lets through is reported as a warning.
fn key_problems(
    report: &mut CheckReport,
    policy: &RequestPolicy,
    zsk_policy: &SignaturePolicy,
    key: &Key,
    at: &super::report::BundleRef,
) -> Vec<String> {
    let mut problems = Vec::new();
    let dns = match dns_key(key) {
        Ok(dns) => dns,
        Err(e) => return vec![format!("is not a valid DNSKEY: {e}")],
    };
    match match_zsk_policy(&dns, zsk_policy) {
        PolicyMatch::Exact => {}
        PolicyMatch::ExponentOnly { exponent, declared }
            if !policy.rsa_exponent_match_zsk_policy =>
        {
            report.warning(
                CheckId::BundleKeys,
                Some(at),
                format!(
                    "key {} has RSA exponent {exponent}, the ZSK policy declares {declared} \
                     (accepted: rsa_exponent_match_zsk_policy = false)",
                    key_label(key)
                ),
            );
        }
        PolicyMatch::ExponentOnly { .. } | PolicyMatch::None => problems.push(format!(
            "({}) does not match the ZSK policy ({})",
            describe_key(&dns),
            describe_policy(zsk_policy)
        )),
        PolicyMatch::Unhandled => problems.push(format!(
            "uses {}, which the ceremony does not handle (RSA, ECDSA or EdDSA only)",
            DnssecAlgorithm(key.algorithm)
        )),
    }
    if key.flags != FLAG_ZONE {
        problems.push(format!(
            "has flags {}; a ZSK must have flags {FLAG_ZONE} (zone key, no SEP, not revoked)",
            key.flags
        ));
    }
    let computed = dns.key_tag();
    if computed != key.key_tag {
        problems.push(format!(
            "has keyTag attribute {}, but its key tag (RFC 4034 App. B) is {computed}",
            key.key_tag
        ));
    }
    problems
}

/// How a key fits the ZSK policy's `SignatureAlgorithm`s.
enum PolicyMatch {
    Exact,
    /// An RSA entry matches algorithm and size but declares another exponent.
    ExponentOnly {
        exponent: String,
        declared: u64,
    },
    None,
    Unhandled,
}

fn match_zsk_policy(key: &DnsKey, zsk_policy: &SignaturePolicy) -> PolicyMatch {
    let entries = zsk_policy
        .algorithms
        .iter()
        .filter(|a| a.algorithm == key.algorithm);
    match key.algorithm {
        5 | 7 | 8 | 10 => {
            let (Some(bits), Some((_, exponent))) = (key.rsa_bits(), key.rsa_components()) else {
                return PolicyMatch::None;
            };
            let exponent_value = rsa_exponent(exponent);
            let mut result = PolicyMatch::None;
            for entry in entries {
                if let AlgorithmParams::Rsa {
                    size,
                    exponent: declared,
                } = entry.params
                {
                    if usize::try_from(size).ok() != Some(bits) {
                        continue;
                    }
                    if exponent_value == Some(declared) {
                        return PolicyMatch::Exact;
                    }
                    let exponent =
                        exponent_value.map_or_else(|| hex::encode(exponent), |e| e.to_string());
                    result = PolicyMatch::ExponentOnly { exponent, declared };
                }
            }
            result
        }
        13..=16 => {
            let bits = curve_bits(key);
            let fits = entries.into_iter().any(|entry| match entry.params {
                AlgorithmParams::Ecdsa { size } | AlgorithmParams::EdDsa { size } => {
                    usize::try_from(size).ok() == Some(bits)
                }
                AlgorithmParams::Rsa { .. } | AlgorithmParams::None => false,
            });
            if fits {
                PolicyMatch::Exact
            } else {
                PolicyMatch::None
            }
        }
        _ => PolicyMatch::Unhandled,
    }
}

/// ECDSA size in bits is the coordinate length (X ‖ Y halved); EdDSA's is the key length.
fn curve_bits(key: &DnsKey) -> usize {
    match key.algorithm {
        13 | 14 => key.public_key.len() / 2 * 8,
        _ => key.public_key.len() * 8,
    }
}

/// The public exponent as a number, if it fits 64 bits.
fn rsa_exponent(bytes: &[u8]) -> Option<u64> {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    let bytes = &bytes[start..];
    if bytes.len() > 8 {
        return None;
    }
    Some(bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

fn describe_key(key: &DnsKey) -> String {
    let algorithm = DnssecAlgorithm(key.algorithm);
    match (key.rsa_bits(), key.rsa_components()) {
        (Some(bits), Some((_, e))) => {
            let e = rsa_exponent(e).map_or_else(|| hex::encode(e), |e| e.to_string());
            format!("{algorithm}, RSA-{bits}, e={e}")
        }
        _ => format!("{algorithm}, {} bits", curve_bits(key)),
    }
}

/// The `SignatureAlgorithm`s of a policy, e.g. `RSASHA256 (8) RSA-2048 e=65537`.
pub(crate) fn describe_policy(policy: &SignaturePolicy) -> String {
    policy
        .algorithms
        .iter()
        .map(describe_algorithm)
        .collect::<Vec<_>>()
        .join("; ")
}

pub(crate) fn describe_algorithm(entry: &AlgorithmPolicy) -> String {
    let algorithm = DnssecAlgorithm(entry.algorithm);
    match entry.params {
        AlgorithmParams::Rsa { size, exponent } => format!("{algorithm} RSA-{size} e={exponent}"),
        AlgorithmParams::Ecdsa { size } => format!("{algorithm} ECDSA-{size}"),
        AlgorithmParams::EdDsa { size } => format!("{algorithm} EdDSA-{size}"),
        AlgorithmParams::None => format!("{algorithm} (no parameters)"),
    }
}

/// KSR-BUNDLE-POP: every ZSK proves possession of its private key by signing the bundle's
/// DNSKEY RRset. The RRSIG times are not judged (they are the KSR's generation time).
pub(crate) fn check_pop(
    report: &mut CheckReport,
    policy: &RequestPolicy,
    bundles: &[Numbered<'_>],
) {
    let id = CheckId::BundlePop;
    if report.skip_unless(id, policy.validate_signatures, "validate_signatures") {
        return;
    }
    for b in bundles {
        check_bundle_signatures(report, id, &b.at, b.bundle, true);
    }
    report.conclude(id);
}

/// KSR-BUNDLE-COUNT: the quarter has the agreed number of slots. Always on.
pub(crate) fn check_count(
    report: &mut CheckReport,
    policy: &RequestPolicy,
    bundles: &[Numbered<'_>],
) {
    let (have, want) = (bundles.len(), policy.num_bundles);
    if have != want {
        let message =
            format!("the KSR has {have} bundles, the policy requires {want} (num_bundles)");
        report.violation(CheckId::BundleCount, None, message);
    }
    report.conclude(CheckId::BundleCount);
}

/// KSR-BUNDLE-CYCLE-DURATION: first to last inception spans the expected cycle.
pub(crate) fn check_cycle(
    report: &mut CheckReport,
    policy: &RequestPolicy,
    bundles: &[Numbered<'_>],
) {
    let id = CheckId::BundleCycleDuration;
    if report.skip_unless(id, policy.check_cycle_length, "check_cycle_length") {
        return;
    }
    let (Some(first), Some(last)) = (bundles.first(), bundles.last()) else {
        report.violation(id, None, "the KSR has no bundles");
        return;
    };
    let (from, to) = (first.bundle.inception, last.bundle.inception);
    let length = to.duration_since(from);
    let (min, max) = (
        policy.min_cycle_inception_length,
        policy.max_cycle_inception_length,
    );
    if length < min || length > max {
        let message = format!(
            "first to last inception ({from} to {to}) is {length}, outside [{min}, {max}] \
             (min/max_cycle_inception_length)"
        );
        report.violation(id, None, message);
    }
    report.conclude(id);
}
