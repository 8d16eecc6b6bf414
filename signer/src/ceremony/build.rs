//! KSR → SKR (reference §4): per bundle the DNSKEY RRset the schema's slot asks for, one
//! RRSIG per signing KSK made in the key store, each verified in software before it is
//! accepted; then the whole SKR re-validated and, with SKR(n-1), the KSK safety rules.
//!
//! Keys are written in canonical DNSSEC order (RFC 4034 §6.3: DNSKEY RDATA compared as
//! octet strings, so ZSKs (256) first, then KSKs (257), then revoked KSKs (385), each group
//! by public key): the order every IANA SKR in the fixtures uses, legacy and kskm-era alike,
//! and the order the RRset is signed in. Signatures follow the order of their keys.

use std::collections::BTreeMap;

use domain::base::name::Name;

use super::config::{CeremonyConfig, KskPolicy};
use super::error::CeremonyError;
use super::ksk::{Ksk, KskChecks, check_ksks, rsa_exponent};
use super::ksr_request;
use super::schema::{Schema, SlotActions};
use super::table::{BundleRow, bundle_rows};
use super::verify::verify_skr;
use crate::dnssec::{self, DnsKey, FLAG_ZONE, PROTOCOL_DNSSEC, RrsigFields, signed_data};
use crate::keystore::{KeyStore, signing_input};
use crate::ksr::{
    AlgorithmParams, AlgorithmPolicy, Body, Bundle, Key, KsrDocument, Response, Signature,
    SignaturePolicy, TYPE_DNSKEY,
};
use crate::policy::{BundleRef, CheckId, CheckReport, Source, check_safety};

/// A signed, verified SKR and what the ceremony shows about it.
#[derive(Debug, Clone)]
pub struct SignedSkr {
    /// The SKR (a `<Response>`), ready for `ksr::write_skr`.
    pub document: KsrDocument,
    /// The per-bundle summary ([`super::format_bundle_table`]).
    pub table: Vec<BundleRow>,
    /// Number of RRSIGs made.
    pub signatures: usize,
    /// The schema the bundles followed.
    pub schema: Schema,
    /// The KSK checks, SKR-VERIFY and (with SKR(n-1)) KSR-POLICY-SAFETY, all passed;
    /// warnings (an unconfigured DS, …) are for the transcript.
    pub report: CheckReport,
}

/// Signs `ksr` with the KSKs of `config` in `store` following schema `schema`. Refuses,
/// naming bundle and key, on any KSK check violation, any signature that does not verify
/// with the store's public key, an SKR that does not re-validate, or (with `previous_skr`)
/// a breach of the KSK publish/retire safety rules. The SKR is always re-validated, whatever
/// `response_policy.validate_signatures` says (that knob is for SKR(n-1)). Bundles come out
/// sorted by expiration, as kskm writes them. The KSR's own checks (`policy::check_request`,
/// `policy::check_chain`) are the caller's, before this.
pub fn build_skr(
    ksr: &KsrDocument,
    config: &CeremonyConfig,
    schema: &str,
    store: &dyn KeyStore,
    previous_skr: Option<&KsrDocument>,
) -> Result<SignedSkr, CeremonyError> {
    let (request, bundles) = ksr_request(ksr)?;
    let schema = config.schema(schema, bundles.len())?;
    let KskChecks { keys, mut report } = check_ksks(ksr, config, &schema, store, previous_skr)?;
    if !report.is_ok() {
        return Err(CeremonyError::Checks(report));
    }
    let mut signed = Vec::with_capacity(bundles.len());
    for (i, (bundle, slot)) in bundles.iter().zip(&schema.slots).enumerate() {
        let at = BundleRef {
            source: Source::Ksr,
            index: i + 1,
            id: bundle.id.clone(),
        };
        let signer = BundleSigner {
            at: &at,
            keys: &keys,
            store,
            policy: &config.ksk_policy,
        };
        signed.push(signer.sign(bundle, slot)?);
    }
    let ksk_policy = response_ksk_policy(&config.ksk_policy, &signed);
    let signatures = signed.iter().map(|b| b.signatures.len()).sum();
    let table = bundle_rows(&signed);
    let document = KsrDocument {
        id: ksr.id.clone(),
        serial: ksr.serial,
        domain: ksr.domain.clone(),
        body: Body::Response(Response {
            timestamp: None,
            ksk_policy: ksk_policy.clone(),
            zsk_policy: request.policy.clone(),
            bundles: signed,
        }),
    };

    // SKR-VERIFY: the document as a whole, as the next ceremony and the RZM will read it.
    // Only documents of the wrong kind make `verify_skr` fail, and both kinds are right here.
    let check = verify_skr(&document, Some(ksr)).map_err(|_| CeremonyError::WrongDocument {
        role: "KSR",
        id: ksr.id.clone(),
        found: "an SKR",
        expected: "a KSR",
    })?;
    if !check.is_ok() {
        return Err(CeremonyError::Revalidate(check));
    }
    report.conclude(CheckId::SkrVerify);

    match previous_skr {
        Some(previous) => {
            let safety = check_safety(previous, &document, &ksk_policy, &config.request_policy);
            if !safety.is_ok() {
                return Err(CeremonyError::Safety(safety));
            }
            report.merge(safety);
        }
        None => report.skip(CheckId::PolicySafety, "no previous SKR given"),
    }
    Ok(SignedSkr {
        document,
        table,
        signatures,
        schema,
        report,
    })
}

/// Signs one bundle.
struct BundleSigner<'a> {
    at: &'a BundleRef,
    keys: &'a BTreeMap<String, Ksk>,
    store: &'a dyn KeyStore,
    policy: &'a KskPolicy,
}

/// A member of the bundle's DNSKEY RRset: the `<Key>` element and its record data.
struct Member {
    key: Key,
    dns: DnsKey,
}

impl Member {
    fn same_key(&self, dns: &DnsKey) -> bool {
        self.dns.algorithm == dns.algorithm && self.dns.public_key == dns.public_key
    }
}

impl BundleSigner<'_> {
    fn fail(&self, reason: String) -> CeremonyError {
        CeremonyError::Bundle {
            bundle: self.at.clone(),
            reason,
        }
    }

    fn ksk(&self, name: &str) -> Result<&Ksk, CeremonyError> {
        self.keys.get(name).ok_or_else(|| {
            self.fail(format!(
                "the schema names key {name:?}, which was not loaded"
            ))
        })
    }

    fn member(&self, identifier: &str, dns: DnsKey) -> Member {
        Member {
            key: Key {
                key_identifier: identifier.to_owned(),
                key_tag: dns.key_tag(),
                ttl: self.policy.ttl,
                flags: dns.flags,
                protocol: dns.protocol,
                algorithm: dns.algorithm,
                public_key: dns.public_key.clone(),
            },
            dns,
        }
    }

    fn sign(&self, bundle: &Bundle, slot: &SlotActions) -> Result<Bundle, CeremonyError> {
        let rrset = self.key_set(bundle, slot)?;
        let records: Vec<DnsKey> = rrset.iter().map(|m| m.dns.clone()).collect();
        let mut signatures: Vec<(usize, Signature)> = Vec::with_capacity(slot.sign.len());
        for name in &slot.sign {
            let ksk = self.ksk(name)?;
            let Some(position) = rrset.iter().position(|m| m.same_key(&ksk.dnskey)) else {
                return Err(self.fail(format!("signing key {:?} is not in the key set", ksk.label)));
            };
            let signature = self.rrsig(bundle, ksk, &rrset[position].dns, &records)?;
            signatures.push((position, signature));
        }
        signatures.sort_by_key(|(position, _)| *position);
        Ok(Bundle {
            id: bundle.id.clone(),
            inception: bundle.inception,
            expiration: bundle.expiration,
            signers: Vec::new(),
            keys: rrset.into_iter().map(|m| m.key).collect(),
            signatures: signatures.into_iter().map(|(_, s)| s).collect(),
        })
    }

    /// Publish KSKs (257), then revoke KSKs (385, replacing an unrevoked copy), then signing
    /// KSKs not yet present (257), then the bundle's ZSKs; every TTL the policy's; in
    /// canonical order.
    fn key_set(&self, bundle: &Bundle, slot: &SlotActions) -> Result<Vec<Member>, CeremonyError> {
        let mut set: Vec<Member> = Vec::new();
        for name in &slot.publish {
            let ksk = self.ksk(name)?;
            if !set.iter().any(|m| m.same_key(&ksk.dnskey)) {
                set.push(self.member(&ksk.label, ksk.dnskey.clone()));
            }
        }
        for name in &slot.revoke {
            let ksk = self.ksk(name)?;
            set.retain(|m| !m.same_key(&ksk.dnskey));
            set.push(self.member(&ksk.label, ksk.dnskey.revoked()));
        }
        for name in &slot.sign {
            let ksk = self.ksk(name)?;
            if !set.iter().any(|m| m.same_key(&ksk.dnskey)) {
                set.push(self.member(&ksk.label, ksk.dnskey.clone()));
            }
        }
        for zsk in &bundle.keys {
            let dns = self.zsk(zsk)?;
            if let Some(other) = set.iter().find(|m| m.same_key(&dns)) {
                return Err(self.fail(format!(
                    "ZSK {} ({}) has the same public key as {:?} already in the key set",
                    zsk.key_tag, zsk.key_identifier, other.key.key_identifier
                )));
            }
            let mut member = self.member(&zsk.key_identifier, dns);
            member.key.key_tag = zsk.key_tag;
            set.push(member);
        }
        set.sort_by_cached_key(|m| m.dns.rdata());
        Ok(set)
    }

    /// A KSR key as a ZSK DNSKEY, refusing anything else: a KSR must not inject a KSK or a
    /// key whose stated tag is not its own.
    fn zsk(&self, key: &Key) -> Result<DnsKey, CeremonyError> {
        if key.flags != FLAG_ZONE || key.protocol != PROTOCOL_DNSSEC {
            return Err(self.fail(format!(
                "KSR key {} has flags {} and protocol {}; a ZSK has flags 256, protocol 3",
                key.key_tag, key.flags, key.protocol
            )));
        }
        let dns = DnsKey::new(key.flags, key.algorithm, key.public_key.clone())
            .map_err(|e| self.fail(format!("KSR key {} is not a DNSKEY: {e}", key.key_tag)))?;
        let tag = dns.key_tag();
        if tag != key.key_tag {
            return Err(self.fail(format!(
                "KSR key {:?} says keyTag {} but its tag is {tag}",
                key.key_identifier, key.key_tag
            )));
        }
        Ok(dns)
    }

    /// One RRSIG by `ksk`, whose record in the set is `published` (257 or 385): made in the
    /// store, then verified in software before it is accepted.
    fn rrsig(
        &self,
        bundle: &Bundle,
        ksk: &Ksk,
        published: &DnsKey,
        records: &[DnsKey],
    ) -> Result<Signature, CeremonyError> {
        let ttl = self.policy.ttl;
        let key_tag = published.key_tag();
        let fields = RrsigFields::root_dnskey(
            ksk.algorithm,
            ttl,
            bundle.inception.serial(),
            bundle.expiration.serial(),
            key_tag,
        );
        let data = signed_data(&fields, &Name::root_vec(), ttl, records)
            .map_err(|e| self.fail(format!("cannot build the data to sign: {e}")))?;
        let sign_error = |source| CeremonyError::Sign {
            bundle: self.at.clone(),
            label: ksk.label.clone(),
            source: Box::new(source),
        };
        let input = signing_input(&ksk.key, ksk.algorithm, ksk.path, &data).map_err(sign_error)?;
        let signature_data = self
            .store
            .sign(&ksk.key, ksk.algorithm, ksk.path, &input)
            .map_err(sign_error)?;
        dnssec::verify(published, &data, &signature_data).map_err(|e| {
            CeremonyError::SelfVerify {
                bundle: self.at.clone(),
                label: ksk.label.clone(),
                key_tag,
                reason: e.to_string(),
            }
        })?;
        Ok(Signature {
            key_identifier: ksk.label.clone(),
            ttl,
            type_covered: TYPE_DNSKEY,
            algorithm: ksk.algorithm,
            labels: 0,
            original_ttl: ttl,
            expiration: bundle.expiration,
            inception: bundle.inception,
            key_tag,
            signers_name: self.policy.signers_name.clone(),
            signature_data,
        })
    }
}

/// The SKR's `<KSK>` policy: the configured durations, and one `SignatureAlgorithm` per
/// distinct KSK algorithm and key size published in the SKR.
fn response_ksk_policy(policy: &KskPolicy, bundles: &[Bundle]) -> SignaturePolicy {
    let mut algorithms: Vec<AlgorithmPolicy> = Vec::new();
    for key in bundles.iter().flat_map(|b| &b.keys) {
        if key.flags & dnssec::FLAG_SEP == 0 {
            continue;
        }
        let Ok(dns) = DnsKey::new(key.flags, key.algorithm, key.public_key.clone()) else {
            continue;
        };
        let params = match key.algorithm {
            5 | 7 | 8 | 10 => match (dns.rsa_bits(), dns.rsa_components()) {
                (Some(bits), Some((_, exponent))) => AlgorithmParams::Rsa {
                    size: u32::try_from(bits).unwrap_or(u32::MAX),
                    exponent: rsa_exponent(exponent).unwrap_or(u64::MAX),
                },
                _ => AlgorithmParams::None,
            },
            13 => AlgorithmParams::Ecdsa { size: 256 },
            14 => AlgorithmParams::Ecdsa { size: 384 },
            15 => AlgorithmParams::EdDsa { size: 256 },
            16 => AlgorithmParams::EdDsa { size: 456 },
            _ => AlgorithmParams::None,
        };
        let entry = AlgorithmPolicy {
            algorithm: key.algorithm,
            params,
        };
        if !algorithms.contains(&entry) {
            algorithms.push(entry);
        }
    }
    SignaturePolicy {
        publish_safety: policy.publish_safety,
        retire_safety: policy.retire_safety,
        max_signature_validity: policy.max_signature_validity,
        min_signature_validity: policy.min_signature_validity,
        max_validity_overlap: policy.max_validity_overlap,
        min_validity_overlap: policy.min_validity_overlap,
        algorithms,
    }
}
