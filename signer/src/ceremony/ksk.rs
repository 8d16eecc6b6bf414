//! The configured KSKs as the key store holds them, and the KSK checks of reference §3 that
//! need the store: KSK identity, key validity, KSR-CHAIN-KEYS (HSM) and algorithm match.
//!
//! A key that cannot be found or used at all is an error; a key that is found but is not the
//! configured one, or is used outside its dates, is a violation in the [`CheckReport`], so
//! the operator hears every problem before anything is signed.

use std::collections::{BTreeMap, BTreeSet};

use domain::base::name::Name;

use super::config::CeremonyConfig;
use super::error::CeremonyError;
use super::keys::{DsDigest, KSK_ALGORITHMS, KskConfig};
use super::schema::Schema;
use super::{ksr_request, sorted_bundles};
use crate::dnssec::{DnsKey, FLAG_SEP, FLAG_ZONE};
use crate::keystore::{Curve, KeyKind, KeyRef, KeyStore, PublicKey, SigningPath, mechanism};
use crate::ksr::{Body, Bundle, KsrDocument, Timestamp};
use crate::policy::{BundleRef, CheckId, CheckReport, Source};

/// DNSKEY flags of a KSK: Zone Key + Secure Entry Point (257).
pub const KSK_FLAGS: u16 = FLAG_ZONE | FLAG_SEP;

/// A configured KSK found in the key store.
#[derive(Debug, Clone)]
pub struct Ksk {
    /// Its name in `[keys]` (`ksk_current`).
    pub name: String,
    /// `CKA_LABEL`, the SKR's `keyIdentifier`.
    pub label: String,
    pub key: KeyRef,
    /// DNSSEC algorithm its signatures carry.
    pub algorithm: u8,
    pub path: SigningPath,
    /// The DNSKEY with flags 257, built from the public key the store returned.
    pub dnskey: DnsKey,
    pub valid_from: Timestamp,
    pub valid_until: Option<Timestamp>,
}

impl Ksk {
    /// Key tag with flags 257.
    pub fn tag(&self) -> u16 {
        self.dnskey.key_tag()
    }

    /// Key tag with flags 385 (revoked): a different number (RFC 5011).
    pub fn revoked_tag(&self) -> u16 {
        self.dnskey.revoked().key_tag()
    }
}

/// The KSKs a schema uses, by name, and what the KSK checks found.
#[derive(Debug)]
pub struct KskChecks {
    pub keys: BTreeMap<String, Ksk>,
    /// Violations here mean the KSR must not be signed with this configuration.
    pub report: CheckReport,
}

/// Finds every key `schema` uses and runs the KSK checks against the (sorted) bundles of
/// `ksr` and, when given, the last bundle of `previous_skr`.
pub fn check_ksks(
    ksr: &KsrDocument,
    config: &CeremonyConfig,
    schema: &Schema,
    store: &dyn KeyStore,
    previous_skr: Option<&KsrDocument>,
) -> Result<KskChecks, CeremonyError> {
    let (_, bundles) = ksr_request(ksr)?;
    if schema.slots.len() != bundles.len() {
        return Err(CeremonyError::SlotCount {
            schema: schema.name.clone(),
            slots: schema.slots.len(),
            bundles: bundles.len(),
        });
    }
    let mut report = CheckReport::default();
    let mut keys = BTreeMap::new();
    for name in schema.key_names() {
        let Some(key_config) = config.keys.get(name) else {
            return Err(CeremonyError::Config(super::ConfigError::Schema {
                schema: schema.name.clone(),
                reason: format!("no key {name:?} in [keys]"),
            }));
        };
        let ksk = resolve(name, key_config, store)?;
        check_identity(&mut report, &ksk, key_config);
        keys.insert(name.to_owned(), ksk);
    }
    report.conclude(CheckId::KskIdentity);
    for (i, (bundle, slot)) in bundles.iter().zip(&schema.slots).enumerate() {
        let at = BundleRef {
            source: Source::Ksr,
            index: i + 1,
            id: bundle.id.clone(),
        };
        let signers: Vec<&Ksk> = slot.sign.iter().filter_map(|n| keys.get(n)).collect();
        check_validity(&mut report, &at, bundle, &signers);
        check_algorithms(&mut report, &at, bundle, &signers);
    }
    report.conclude(CheckId::KeyValidity);
    report.conclude(CheckId::AlgorithmMatch);
    match previous_skr {
        None => report.skip(CheckId::ChainKeysHsm, "no previous SKR given"),
        Some(_) if !config.request_policy.check_chain_keys_in_hsm => report.skip(
            CheckId::ChainKeysHsm,
            "disabled by check_chain_keys_in_hsm = false",
        ),
        Some(previous) => {
            check_chain_keys_in_store(&mut report, previous, store);
            report.conclude(CheckId::ChainKeysHsm);
        }
    }
    Ok(KskChecks { keys, report })
}

/// Finds `config.label` in the store and builds its DNSKEY (flags 257).
fn resolve(name: &str, config: &KskConfig, store: &dyn KeyStore) -> Result<Ksk, CeremonyError> {
    let label = config.label.clone();
    let store_error = |source| CeremonyError::KeyStore {
        name: name.to_owned(),
        label: label.clone(),
        source: Box::new(source),
    };
    let key = store.key(&config.label).map_err(store_error)?;
    let public = store.public_key(&key).map_err(store_error)?;
    let algorithm = match config.algorithm {
        Some(alg) => alg.0,
        None => default_algorithm(key.kind()),
    };
    if !KSK_ALGORITHMS.contains(&algorithm) {
        return Err(CeremonyError::KeyUnusable {
            name: name.to_owned(),
            label,
            reason: format!(
                "a {} key signs algorithm {algorithm}, which this ceremony cannot verify in \
                 software before accepting a signature",
                key.kind()
            ),
        });
    }
    let path = config.signing_path.into();
    // Refuses a key that cannot make this algorithm's signatures (an RSA key for ECDSA, …).
    mechanism(&key, algorithm, path).map_err(store_error)?;
    let dnskey = dnskey_of(&public, algorithm).map_err(|reason| CeremonyError::KeyUnusable {
        name: name.to_owned(),
        label: label.clone(),
        reason,
    })?;
    Ok(Ksk {
        name: name.to_owned(),
        label,
        key,
        algorithm,
        path,
        dnskey,
        valid_from: config.valid_from,
        valid_until: config.valid_until,
    })
}

/// The algorithm a key of `kind` signs with when the configuration does not say: IANA's
/// RSASHA256 for RSA, the curve's own for ECDSA and EdDSA.
fn default_algorithm(kind: KeyKind) -> u8 {
    match kind {
        KeyKind::Rsa { .. } => 8,
        KeyKind::Ec(Curve::P256) => 13,
        KeyKind::Ec(Curve::P384) => 14,
        KeyKind::Ed25519 => 15,
        KeyKind::Ed448 => 16,
    }
}

/// The KSK's DNSKEY (flags 257) from the store's public key.
fn dnskey_of(public: &PublicKey, algorithm: u8) -> Result<DnsKey, String> {
    let key = match public {
        PublicKey::Rsa { modulus, exponent } => {
            DnsKey::from_rsa(KSK_FLAGS, algorithm, modulus, exponent)
        }
        other => DnsKey::new(KSK_FLAGS, algorithm, other.dnskey_public_key()),
    };
    key.map_err(|e| format!("its public key does not make a DNSKEY: {e}"))
}

/// KSK identity: DS, key tag and RSA parameters against the configuration; what is not
/// configured cannot be checked and is said so, with the value found.
fn check_identity(report: &mut CheckReport, ksk: &Ksk, config: &KskConfig) {
    let id = CheckId::KskIdentity;
    let who = format!("KSK {} (label {:?})", ksk.name, ksk.label);
    let ds = DsDigest(ksk.dnskey.ds_sha256(&Name::root_vec()));
    match config.ds_sha256 {
        Some(expected) if expected != ds => report.violation(
            id,
            None,
            format!(
                "{who}: the HSM key's DS SHA-256 is {ds}, the configured ds_sha256 is \
                 {expected}: this is not the configured key"
            ),
        ),
        Some(_) => {}
        None => report.warning(
            id,
            None,
            format!("{who}: no ds_sha256 configured, the key is not checked (its DS is {ds})"),
        ),
    }
    let tag = ksk.tag();
    match config.key_tag {
        Some(expected) if expected != tag => report.violation(
            id,
            None,
            format!("{who}: the HSM key's tag is {tag}, the configured key_tag is {expected}"),
        ),
        Some(_) => {}
        None => report.warning(
            id,
            None,
            format!("{who}: no key_tag configured (the key's tag is {tag})"),
        ),
    }
    let Some((_, exponent)) = ksk.dnskey.rsa_components() else {
        return;
    };
    let bits = ksk.dnskey.rsa_bits().unwrap_or(0);
    let exponent = rsa_exponent(exponent);
    match config.rsa_size {
        Some(expected) if usize::try_from(expected).ok() != Some(bits) => report.violation(
            id,
            None,
            format!("{who}: the HSM key is RSA-{bits}, the configured rsa_size is {expected}"),
        ),
        Some(_) => {}
        None => report.warning(
            id,
            None,
            format!("{who}: no rsa_size configured (the key is RSA-{bits})"),
        ),
    }
    let shown = exponent.map_or_else(|| "a huge number".to_owned(), |e| e.to_string());
    match config.rsa_exponent {
        Some(expected) if exponent != Some(expected) => report.violation(
            id,
            None,
            format!(
                "{who}: the HSM key's exponent is {shown}, the configured rsa_exponent is \
                 {expected}"
            ),
        ),
        Some(_) => {}
        None => report.warning(
            id,
            None,
            format!("{who}: no rsa_exponent configured (the key's exponent is {shown})"),
        ),
    }
}

/// A big-endian RSA exponent as a number, if it fits in 64 bits.
pub(crate) fn rsa_exponent(bytes: &[u8]) -> Option<u64> {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    let bytes = &bytes[start..];
    if bytes.len() > 8 {
        return None;
    }
    Some(bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

/// Key validity: every key signing the bundle is valid over the bundle's whole validity.
/// Only signing is limited by the dates: a retired key may still be published revoked after
/// its `valid_until` (KSK-2010 was, in the first quarter of 2019).
fn check_validity(report: &mut CheckReport, at: &BundleRef, bundle: &Bundle, signers: &[&Ksk]) {
    for ksk in signers {
        if ksk.valid_from > bundle.inception {
            report.violation(
                CheckId::KeyValidity,
                Some(at),
                format!(
                    "KSK {} (label {:?}) is valid from {}, after the bundle's inception {}",
                    ksk.name, ksk.label, ksk.valid_from, bundle.inception
                ),
            );
        }
        if let Some(until) = ksk.valid_until
            && until < bundle.expiration
        {
            report.violation(
                CheckId::KeyValidity,
                Some(at),
                format!(
                    "KSK {} (label {:?}) is valid until {until}, before the bundle's \
                     expiration {}",
                    ksk.name, ksk.label, bundle.expiration
                ),
            );
        }
    }
}

/// Algorithm match: the bundle's ZSK algorithms are exactly its KSK signature algorithms
/// (RFC 6840 §5.11: every algorithm in the DNSKEY RRset must sign it).
fn check_algorithms(report: &mut CheckReport, at: &BundleRef, bundle: &Bundle, signers: &[&Ksk]) {
    let zsk: BTreeSet<u8> = bundle.keys.iter().map(|k| k.algorithm).collect();
    let ksk: BTreeSet<u8> = signers.iter().map(|k| k.algorithm).collect();
    if zsk != ksk {
        report.violation(
            CheckId::AlgorithmMatch,
            Some(at),
            format!(
                "the ZSKs use algorithms {}, the signing KSKs {}",
                list(&zsk),
                list(&ksk)
            ),
        );
    }
}

fn list(algorithms: &BTreeSet<u8>) -> String {
    let items: Vec<String> = algorithms.iter().map(u8::to_string).collect();
    format!("{{{}}}", items.join(", "))
}

/// KSR-CHAIN-KEYS (HSM): every key that signed SKR(n-1)'s last bundle is in the store under
/// its `keyIdentifier`, with the public key published there — the ceremony can continue the
/// chain the previous one started.
fn check_chain_keys_in_store(
    report: &mut CheckReport,
    previous: &KsrDocument,
    store: &dyn KeyStore,
) {
    let id = CheckId::ChainKeysHsm;
    let Body::Response(response) = &previous.body else {
        report.violation(
            id,
            None,
            "the previous SKR holds a <Request>, not a <Response>",
        );
        return;
    };
    let bundles = sorted_bundles(&response.bundles);
    let Some(last) = bundles.last() else {
        report.violation(id, None, "the previous SKR has no bundles");
        return;
    };
    let at = BundleRef {
        source: Source::PreviousSkr,
        index: bundles.len(),
        id: last.id.clone(),
    };
    for sig in &last.signatures {
        let label = &sig.key_identifier;
        let published = last
            .keys
            .iter()
            .filter(|k| &k.key_identifier == label && k.flags & FLAG_SEP != 0)
            .find(|k| k.key_tag == sig.key_tag)
            .or_else(|| last.keys.iter().find(|k| &k.key_identifier == label));
        let Some(published) = published else {
            report.violation(
                id,
                Some(&at),
                format!(
                    "signature by {label:?} (tag {}) names no key of the bundle",
                    sig.key_tag
                ),
            );
            continue;
        };
        let found = store
            .key(label)
            .and_then(|key| store.public_key(&key))
            .map(|public| public.dnskey_public_key());
        match found {
            Err(e) => report.violation(
                id,
                Some(&at),
                format!("key {label:?}, which signed this bundle, is not usable in the HSM: {e}"),
            ),
            Ok(public) if public != published.public_key => report.violation(
                id,
                Some(&at),
                format!(
                    "the HSM key labelled {label:?} is not the key {} published in this bundle \
                     under that label",
                    published.key_tag
                ),
            ),
            Ok(_) => {}
        }
    }
}
