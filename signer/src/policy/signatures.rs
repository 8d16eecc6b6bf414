//! Verifying the `<Signature>`s of one bundle over that bundle's DNSKEY RRset: the proof of
//! possession in a KSR (KSR-BUNDLE-POP), the KSK signatures of SKR(n-1) and of a new SKR.
//!
//! The signed data is RFC 4034 §3.1.8.1 as `dnssec::signed_data` builds it: the RRSIG fields
//! from the `<Signature>` element itself and every `<Key>` of the bundle, owner `.`, at the
//! signature's OriginalTTL (which is what the RFC puts into the signed RRs).

use std::collections::BTreeSet;

use domain::base::name::Name;

use super::report::{BundleRef, CheckId, CheckReport};
use crate::dnssec::{DnsKey, RrsigFields, VerifyError, signed_data, verify};
use crate::ksr::{Bundle, Key, Signature};

/// How a key is named to the operator: its key tag, plus the `keyIdentifier` when that is a
/// short HSM label (`19036 (Kjqmt7v)`); Verisign's ZSK identifiers are 90 hex digits of DER
/// and would drown the line, so a ZSK is named by its tag alone.
pub(crate) fn key_label(key: &Key) -> String {
    if key.key_identifier.len() <= 16 {
        format!("{} ({})", key.key_tag, key.key_identifier)
    } else {
        key.key_tag.to_string()
    }
}

/// The DNSKEY record data of a `<Key>`.
pub(crate) fn dns_key(key: &Key) -> Result<DnsKey, String> {
    DnsKey::new(key.flags, key.algorithm, key.public_key.clone()).map_err(|e| e.to_string())
}

/// Whether two `<Key>`s hold the same public key, whatever their flags: a revoked copy
/// (flags 385) is the same key as the one published with 257.
pub(crate) fn same_public_key(a: &Key, b: &Key) -> bool {
    a.algorithm == b.algorithm && a.public_key == b.public_key
}

/// The key a signature was made with: the bundle's key with the same `keyIdentifier` (and,
/// should there be several, the one whose tag the signature names).
pub(crate) fn signing_key<'b>(bundle: &'b Bundle, sig: &Signature) -> Option<&'b Key> {
    let mut candidates = bundle
        .keys
        .iter()
        .filter(|k| k.key_identifier == sig.key_identifier);
    let first = candidates.next()?;
    if first.key_tag == sig.key_tag {
        return Some(first);
    }
    Some(
        candidates
            .find(|k| k.key_tag == sig.key_tag)
            .unwrap_or(first),
    )
}

/// Verifies every signature of `bundle` and records each failure under `id`. With
/// `every_key_signs` (a KSR), each key of the bundle must also have made a signature.
pub(crate) fn check_bundle_signatures(
    report: &mut CheckReport,
    id: CheckId,
    at: &BundleRef,
    bundle: &Bundle,
    every_key_signs: bool,
) {
    let mut rrset = Vec::with_capacity(bundle.keys.len());
    for key in &bundle.keys {
        match dns_key(key) {
            Ok(dns) => rrset.push(dns),
            Err(e) => {
                let message = format!("key {} is not a valid DNSKEY: {e}", key_label(key));
                report.violation(id, Some(at), message);
            }
        }
    }
    if rrset.len() != bundle.keys.len() {
        // The RRset cannot be rebuilt, so no signature over it can be judged.
        return;
    }
    warn_on_ttl_mismatch(report, id, at, bundle);
    for sig in &bundle.signatures {
        let Some(key) = signing_key(bundle, sig) else {
            let message = format!(
                "signature with key tag {} names keyIdentifier {}, but no key in the bundle has it",
                sig.key_tag, sig.key_identifier
            );
            report.violation(id, Some(at), message);
            continue;
        };
        if let Err(problem) = verify_signature(key, sig, &rrset) {
            let message = format!("signature by key {} {problem}", key_label(key));
            report.violation(id, Some(at), message);
        }
    }
    if every_key_signs {
        for key in &bundle.keys {
            let signed = bundle
                .signatures
                .iter()
                .any(|s| s.key_identifier == key.key_identifier);
            if !signed {
                let message = format!(
                    "key {} has not signed the bundle (no proof of possession)",
                    key_label(key)
                );
                report.violation(id, Some(at), message);
            }
        }
    }
}

/// The signed data carries each RRSIG's OriginalTTL, not the keys' TTL (RFC 4034
/// §3.1.8.1), so a difference does not break a signature; it is still worth hearing.
fn warn_on_ttl_mismatch(report: &mut CheckReport, id: CheckId, at: &BundleRef, bundle: &Bundle) {
    let key_ttls: BTreeSet<u32> = bundle.keys.iter().map(|k| k.ttl).collect();
    let original_ttls: BTreeSet<u32> = bundle.signatures.iter().map(|s| s.original_ttl).collect();
    if key_ttls.len() > 1 || key_ttls != original_ttls {
        let message = format!(
            "key TTLs {key_ttls:?} differ from the signatures' OriginalTTL {original_ttls:?}"
        );
        report.warning(id, Some(at), message);
    }
}

/// One signature over the RRset; the error completes "signature by key N …".
fn verify_signature(key: &Key, sig: &Signature, rrset: &[DnsKey]) -> Result<(), String> {
    let dns = dns_key(key).map_err(|e| format!("cannot be checked: {e}"))?;
    if sig.algorithm != key.algorithm {
        return Err(format!(
            "has algorithm {}, but the key is algorithm {}",
            sig.algorithm, key.algorithm
        ));
    }
    let computed = dns.key_tag();
    if sig.key_tag != computed {
        return Err(format!(
            "carries KeyTag {}, but that key's tag is {computed}",
            sig.key_tag
        ));
    }
    if sig.signers_name != "." {
        return Err(format!(
            "has SignersName {:?}; only the root (\".\") DNSKEY RRset is signed here",
            sig.signers_name
        ));
    }
    let fields = RrsigFields {
        type_covered: sig.type_covered,
        algorithm: sig.algorithm,
        labels: sig.labels,
        original_ttl: sig.original_ttl,
        expiration: sig.expiration.serial(),
        inception: sig.inception.serial(),
        key_tag: sig.key_tag,
        signer_name: Name::root_vec(),
    };
    let data = signed_data(&fields, &Name::root_vec(), sig.original_ttl, rrset)
        .map_err(|e| format!("cannot be checked: {e}"))?;
    verify(&dns, &data, &sig.signature_data).map_err(|e| match e {
        VerifyError::BadSignature => "does not verify".to_owned(),
        other => format!("does not verify: {other}"),
    })
}
