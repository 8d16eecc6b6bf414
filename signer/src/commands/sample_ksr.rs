//! A KSR as the Root Zone Maintainer would send it, made up on the spot: three fresh RSA-2048
//! ZSKs (the previous, current and next of a quarterly roll), nine bundles ten days apart from
//! a given day, 21-day validity, IANA's ZSK policy, and each bundle self-signed by its ZSKs.
//! The demo signs one with today's clock; tests use them to break one rule at a time.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use domain::base::name::Name;

use crate::dnssec::{DnsKey, FLAG_ZONE, RrsigFields, signed_data};
use crate::error::{CliError, CliResult};
use crate::ksr::{
    AlgorithmParams, AlgorithmPolicy, Body, Bundle, Key, KsrDocument, Request, Signature,
    SignaturePolicy, TYPE_DNSKEY, Timestamp, XsdDuration,
};

const DAY: i64 = 86_400;
const TTL: u32 = 172_800;
/// ZSKs per bundle in IANA's plan: the roll's outgoing key in slot 1, the incoming in slot 9.
const KEYS_PER_BUNDLE: [&[usize]; 9] = [&[0, 1], &[1], &[1], &[1], &[1], &[1], &[1], &[1], &[1, 2]];

struct Zsk {
    pair: RsaKeyPair,
    key: DnsKey,
    identifier: String,
}

impl Zsk {
    fn generate(identifier: String) -> CliResult<Self> {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| CliError("cannot generate a ZSK".into()))?;
        let public = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
        let key = DnsKey::from_rsa(FLAG_ZONE, 8, &public.n, &public.e)
            .map_err(|e| CliError(format!("ZSK: {e}")))?;
        Ok(Self {
            pair,
            key,
            identifier,
        })
    }

    fn element(&self) -> Key {
        Key {
            key_identifier: self.identifier.clone(),
            key_tag: self.key.key_tag(),
            ttl: TTL,
            flags: self.key.flags,
            protocol: self.key.protocol,
            algorithm: self.key.algorithm,
            public_key: self.key.public_key.clone(),
        }
    }
}

/// IANA's ZSK policy as the Root Zone Maintainer states it in its KSRs.
pub fn zsk_policy() -> SignaturePolicy {
    SignaturePolicy {
        publish_safety: XsdDuration::from_days(10),
        retire_safety: XsdDuration::from_days(10),
        max_signature_validity: XsdDuration::from_days(21),
        min_signature_validity: XsdDuration::from_days(21),
        max_validity_overlap: XsdDuration::from_days(12),
        min_validity_overlap: XsdDuration::from_days(9),
        algorithms: vec![AlgorithmPolicy {
            algorithm: 8,
            params: AlgorithmParams::Rsa {
                size: 2048,
                exponent: 65537,
            },
        }],
    }
}

/// A KSR whose first bundle starts at `first_inception` (bundles every 10 days, 21 days
/// valid), its proof-of-possession signatures made at `now`.
pub fn generate(first_inception: Timestamp, now: Timestamp) -> CliResult<KsrDocument> {
    let stamp = first_inception.to_xsd();
    let day = &stamp[..10];
    let zsks = ["outgoing", "current", "incoming"]
        .iter()
        .map(|role| Zsk::generate(format!("demo-zsk-{day}-{role}")))
        .collect::<CliResult<Vec<_>>>()?;
    let rng = SystemRandom::new();
    let mut bundles = Vec::new();
    for (slot, members) in KEYS_PER_BUNDLE.iter().enumerate() {
        let offset = i64::try_from(slot).unwrap_or(0) * 10 * DAY;
        let inception = Timestamp::from_unix(first_inception.unix() + offset);
        let expiration = Timestamp::from_unix(inception.unix() + 21 * DAY);
        let keys: Vec<&Zsk> = members.iter().map(|&i| &zsks[i]).collect();
        let rrset: Vec<DnsKey> = keys.iter().map(|z| z.key.clone()).collect();
        let mut signatures = Vec::new();
        for zsk in &keys {
            let pop_expiration = Timestamp::from_unix(now.unix() + 60 * DAY);
            let fields = RrsigFields::root_dnskey(
                8,
                TTL,
                now.serial(),
                pop_expiration.serial(),
                zsk.key.key_tag(),
            );
            let data = signed_data(&fields, &Name::root_vec(), TTL, &rrset)
                .map_err(|e| CliError(e.to_string()))?;
            let mut signature = vec![0u8; zsk.pair.public_modulus_len()];
            zsk.pair
                .sign(&RSA_PKCS1_SHA256, &rng, &data, &mut signature)
                .map_err(|_| CliError("a ZSK could not sign its bundle".into()))?;
            signatures.push(Signature {
                key_identifier: zsk.identifier.clone(),
                ttl: TTL,
                type_covered: TYPE_DNSKEY,
                algorithm: 8,
                labels: 0,
                original_ttl: TTL,
                expiration: pop_expiration,
                inception: now,
                key_tag: zsk.key.key_tag(),
                signers_name: ".".into(),
                signature_data: signature,
            });
        }
        bundles.push(Bundle {
            id: uuid_v4()?,
            inception,
            expiration,
            signers: Vec::new(),
            keys: keys.iter().map(|z| z.element()).collect(),
            signatures,
        });
    }
    Ok(KsrDocument {
        id: uuid_v4()?,
        serial: 0,
        domain: ".".into(),
        body: Body::Request(Request {
            timestamp: None,
            policy: zsk_policy(),
            bundles,
        }),
    })
}

/// A random (version 4) UUID, the form IANA's ids take.
pub fn uuid_v4() -> CliResult<String> {
    let mut bytes = [0u8; 16];
    hsm_core::crypto::random_bytes(&mut bytes)?;
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}
