//! The knobs of the KSR checks (`request_policy`) and of SKR validation (`response_policy`).
//!
//! Names, meanings and defaults are kskm's (`common/config_misc.py`) so that an operator's
//! `request_policy` section carries over unchanged; every default is IANA's production value.
//! A ceremony config embeds these as TOML tables; any subset may be given, unknown keys are
//! refused so that a misspelt knob cannot silently leave a check at its default.

use std::fmt;

use serde::Deserialize;

use crate::ksr::XsdDuration;

/// Every knob of the KSR checks (reference §3), with IANA's defaults.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RequestPolicy {
    /// KSR-DOMAIN: the `domain` attributes accepted.
    pub acceptable_domains: Vec<String>,

    /// KSR-BUNDLE-COUNT: exactly this many bundles.
    pub num_bundles: usize,
    /// KSR-BUNDLE-POP: verify every proof-of-possession signature.
    pub validate_signatures: bool,
    /// KSR-BUNDLE-KEYS: keys consistent, well-formed and matching the KSR's ZSK policy.
    pub keys_match_zsk_policy: bool,
    /// KSR-BUNDLE-KEYS: `false` turns an RSA exponent mismatch into a warning (the 2009/2010
    /// KSRs declare e=3 for keys with e=65537).
    pub rsa_exponent_match_zsk_policy: bool,
    /// KSR-POLICY-ALG: allow ECDSA (13, 14) in the ZSK policy.
    pub enable_unsupported_ecdsa: bool,
    /// KSR-POLICY-ALG: allow EdDSA (15, 16) in the ZSK policy.
    pub enable_unsupported_edwards_dsa: bool,
    /// KSR-BUNDLE-CYCLE-DURATION: check last inception − first inception.
    pub check_cycle_length: bool,
    pub min_cycle_inception_length: XsdDuration,
    pub max_cycle_inception_length: XsdDuration,
    /// KSR-POLICY-BUNDLE-INTERVALS: bounds on inception(n) − inception(n−1).
    pub min_bundle_interval: XsdDuration,
    pub max_bundle_interval: XsdDuration,

    /// KSR-POLICY-SIG-OVERLAP: consecutive bundles overlap as the ZSK policy claims.
    pub check_bundle_overlap: bool,
    /// KSR-POLICY-ALG: the ZSK policy's algorithms are approved below.
    pub signature_algorithms_match_zsk_policy: bool,
    /// KSR-POLICY-ALG: approved algorithms, by name (`RSASHA256`) or number (`8`).
    pub approved_algorithms: Vec<DnssecAlgorithm>,
    pub rsa_approved_exponents: Vec<u64>,
    pub rsa_approved_key_sizes: Vec<u32>,
    /// KSR-POLICY-SIG-VALIDITY: every bundle's validity within the ZSK policy's Min..Max.
    pub signature_validity_match_zsk_policy: bool,
    /// KSR-POLICY-KEYS: key counts per bundle and over the whole KSR.
    pub check_keys_match_ksk_operator_policy: bool,
    pub num_keys_per_bundle: Vec<usize>,
    pub num_different_keys_in_all_bundles: usize,
    /// TTL for the published DNSKEYs; 0 means the KSK policy's TTL. Read by the signer, not
    /// checked here (kskm does not check it either); accepted so kskm configs load unchanged.
    pub dns_ttl: u32,
    /// KSR-POLICY-SIG-HORIZON: no bundle expires more than `signature_horizon_days` after the
    /// ceremony, and none has already expired.
    pub signature_check_expire_horizon: bool,
    /// 0 disables both halves of the horizon check; config loading requires at least 1.
    pub signature_horizon_days: u32,
    /// KSR-POLICY-BUNDLE-INTERVALS.
    pub check_bundle_intervals: bool,

    /// KSR-CHAIN-KEYS: KSR bundle 1's keys are in SKR(n-1)'s last bundle.
    pub check_chain_keys: bool,
    /// KSR-CHAIN-KEYS (HSM): checked by the HSM side of the ceremony, not in this module.
    pub check_chain_keys_in_hsm: bool,
    /// KSR-CHAIN-OVERLAP: SKR(n-1)'s last bundle overlaps KSR bundle 1 as the ZSK policy claims.
    pub check_chain_overlap: bool,
    /// KSR-POLICY-SAFETY, publish half.
    pub check_keys_publish_safety: bool,
    /// KSR-POLICY-SAFETY, retire half.
    pub check_keys_retire_safety: bool,
}

impl Default for RequestPolicy {
    fn default() -> Self {
        Self {
            acceptable_domains: vec![".".to_owned()],
            num_bundles: 9,
            validate_signatures: true,
            keys_match_zsk_policy: true,
            rsa_exponent_match_zsk_policy: true,
            enable_unsupported_ecdsa: false,
            enable_unsupported_edwards_dsa: false,
            check_cycle_length: true,
            min_cycle_inception_length: XsdDuration::from_days(79),
            max_cycle_inception_length: XsdDuration::from_days(81),
            min_bundle_interval: XsdDuration::from_days(9),
            max_bundle_interval: XsdDuration::from_days(11),
            check_bundle_overlap: true,
            signature_algorithms_match_zsk_policy: true,
            approved_algorithms: vec![DnssecAlgorithm(8)],
            rsa_approved_exponents: vec![65537],
            rsa_approved_key_sizes: vec![2048],
            signature_validity_match_zsk_policy: true,
            check_keys_match_ksk_operator_policy: true,
            num_keys_per_bundle: vec![2, 1, 1, 1, 1, 1, 1, 1, 2],
            num_different_keys_in_all_bundles: 3,
            dns_ttl: 0,
            signature_check_expire_horizon: true,
            signature_horizon_days: 180,
            check_bundle_intervals: true,
            check_chain_keys: true,
            check_chain_keys_in_hsm: true,
            check_chain_overlap: true,
            check_keys_publish_safety: true,
            check_keys_retire_safety: true,
        }
    }
}

impl RequestPolicy {
    /// The load-time rules: kskm's three lower bounds, plus min ≤ max for the duration pairs
    /// (an inverted pair would refuse every KSR with a confusing message).
    pub fn validate(&self) -> Result<(), PolicyConfigError> {
        at_least_one(
            "request_policy.signature_horizon_days",
            self.signature_horizon_days.into(),
        )?;
        at_least_one("request_policy.num_bundles", self.num_bundles as u64)?;
        at_least_one(
            "request_policy.num_different_keys_in_all_bundles",
            self.num_different_keys_in_all_bundles as u64,
        )?;
        ordered(
            (
                "min_cycle_inception_length",
                self.min_cycle_inception_length,
            ),
            (
                "max_cycle_inception_length",
                self.max_cycle_inception_length,
            ),
        )?;
        ordered(
            ("min_bundle_interval", self.min_bundle_interval),
            ("max_bundle_interval", self.max_bundle_interval),
        )
    }
}

/// How previous (and freshly made) SKRs are validated.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResponsePolicy {
    /// An SKR has exactly this many bundles.
    pub num_bundles: usize,
    /// Every KSK signature in the SKR must verify.
    pub validate_signatures: bool,
}

impl Default for ResponsePolicy {
    fn default() -> Self {
        Self {
            num_bundles: 9,
            validate_signatures: true,
        }
    }
}

impl ResponsePolicy {
    /// kskm declares `num_bundles` a positive integer.
    pub fn validate(&self) -> Result<(), PolicyConfigError> {
        at_least_one("response_policy.num_bundles", self.num_bundles as u64)
    }
}

/// A policy knob with a value the checks cannot work with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyConfigError {
    #[error("{knob} is {value}; it must be at least 1")]
    BelowOne { knob: &'static str, value: u64 },
    #[error("request_policy.{min_knob} ({min}) is longer than request_policy.{max_knob} ({max})")]
    MinAboveMax {
        min_knob: &'static str,
        min: XsdDuration,
        max_knob: &'static str,
        max: XsdDuration,
    },
}

fn at_least_one(knob: &'static str, value: u64) -> Result<(), PolicyConfigError> {
    if value < 1 {
        return Err(PolicyConfigError::BelowOne { knob, value });
    }
    Ok(())
}

fn ordered(
    (min_knob, min): (&'static str, XsdDuration),
    (max_knob, max): (&'static str, XsdDuration),
) -> Result<(), PolicyConfigError> {
    if min > max {
        return Err(PolicyConfigError::MinAboveMax {
            min_knob,
            min,
            max_knob,
            max,
        });
    }
    Ok(())
}

/// DNSSEC algorithm numbers with the names a config may use: IANA's mnemonic and, where it
/// differs, kskm's Python enum name.
const ALGORITHMS: &[(u8, &str, &str)] = &[
    (1, "RSAMD5", "RSAMD5"),
    (3, "DSA", "DSA"),
    (5, "RSASHA1", "RSASHA1"),
    (6, "DSA-NSEC3-SHA1", "DSA_NSEC3_SHA1"),
    (7, "RSASHA1-NSEC3-SHA1", "RSASHA1_NSEC3_SHA1"),
    (8, "RSASHA256", "RSASHA256"),
    (10, "RSASHA512", "RSASHA512"),
    (12, "ECC-GOST", "ECC_GOST"),
    (13, "ECDSAP256SHA256", "ECDSAP256SHA256"),
    (14, "ECDSAP384SHA384", "ECDSAP384SHA384"),
    (15, "ED25519", "ED25519"),
    (16, "ED448", "ED448"),
];

/// A DNSSEC algorithm number. In a config it may be written as a number (`8`) or a name
/// (`"RSASHA256"`, case-insensitive; kskm's spellings such as `"ECC_GOST"` too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DnssecAlgorithm(pub u8);

impl DnssecAlgorithm {
    /// The algorithm a name stands for.
    pub fn from_name(name: &str) -> Option<Self> {
        ALGORITHMS
            .iter()
            .find(|(_, iana, kskm)| {
                name.eq_ignore_ascii_case(iana) || name.eq_ignore_ascii_case(kskm)
            })
            .map(|&(number, _, _)| Self(number))
    }

    /// IANA's mnemonic, if the number is one the ceremony knows.
    pub fn name(self) -> Option<&'static str> {
        ALGORITHMS
            .iter()
            .find(|(n, _, _)| *n == self.0)
            .map(|&(_, name, _)| name)
    }
}

/// `RSASHA256 (8)`, or `algorithm 9` for a number without a name.
impl fmt::Display for DnssecAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({})", self.0),
            None => write!(f, "algorithm {}", self.0),
        }
    }
}

impl<'de> Deserialize<'de> for DnssecAlgorithm {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(AlgorithmVisitor)
    }
}

struct AlgorithmVisitor;

impl serde::de::Visitor<'_> for AlgorithmVisitor {
    type Value = DnssecAlgorithm;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a DNSSEC algorithm name such as \"RSASHA256\" or a number 0-255")
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
        u8::try_from(v)
            .map(DnssecAlgorithm)
            .map_err(|_| E::custom(format!("algorithm number {v} is not in 0-255")))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
        u8::try_from(v)
            .map(DnssecAlgorithm)
            .map_err(|_| E::custom(format!("algorithm number {v} is not in 0-255")))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if let Ok(number) = v.parse::<u8>() {
            return Ok(DnssecAlgorithm(number));
        }
        DnssecAlgorithm::from_name(v)
            .ok_or_else(|| E::custom(format!("unknown DNSSEC algorithm name {v:?}")))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Wrapper {
        request_policy: RequestPolicy,
        #[serde(default)]
        response_policy: ResponsePolicy,
    }

    #[test]
    fn empty_table_is_iana_defaults() {
        let w: Wrapper = toml::from_str("[request_policy]\n").unwrap();
        assert_eq!(w.request_policy, RequestPolicy::default());
        assert_eq!(
            w.response_policy,
            ResponsePolicy {
                num_bundles: 9,
                validate_signatures: true
            }
        );
        w.request_policy.validate().unwrap();
    }

    #[test]
    fn subset_overrides_and_algorithms_by_name_or_number() {
        let w: Wrapper = toml::from_str(
            r#"
            [request_policy]
            num_bundles = 6
            check_bundle_overlap = false
            min_bundle_interval = "P8D"
            approved_algorithms = ["RSASHA256", 10, "ecdsap256sha256", "ECC_GOST", "13"]
            rsa_approved_exponents = [3, 65537]
            [response_policy]
            num_bundles = 6
            "#,
        )
        .unwrap();
        let p = &w.request_policy;
        assert_eq!(p.num_bundles, 6);
        assert!(!p.check_bundle_overlap);
        assert_eq!(p.min_bundle_interval, XsdDuration::from_days(8));
        assert_eq!(
            p.approved_algorithms,
            [8, 10, 13, 12, 13].map(DnssecAlgorithm).to_vec()
        );
        assert_eq!(p.rsa_approved_exponents, [3, 65537]);
        assert!(p.check_cycle_length, "untouched knobs keep their defaults");
        assert_eq!(w.response_policy.num_bundles, 6);
    }

    #[test]
    fn unknown_knobs_and_names_are_refused() {
        let err = toml::from_str::<Wrapper>("[request_policy]\nchek_chain_keys = false\n");
        assert!(err.unwrap_err().to_string().contains("chek_chain_keys"));
        let err =
            toml::from_str::<Wrapper>("[request_policy]\napproved_algorithms = [\"RSASHA257\"]\n");
        assert!(err.unwrap_err().to_string().contains("RSASHA257"));
        let err = toml::from_str::<Wrapper>("[request_policy]\napproved_algorithms = [256]\n");
        assert!(err.is_err());
    }

    #[test]
    fn validate_rejects_what_kskm_rejects() {
        let bad = |f: fn(&mut RequestPolicy)| {
            let mut p = RequestPolicy::default();
            f(&mut p);
            p.validate().unwrap_err()
        };
        assert_eq!(
            bad(|p| p.signature_horizon_days = 0),
            PolicyConfigError::BelowOne {
                knob: "request_policy.signature_horizon_days",
                value: 0
            }
        );
        assert!(matches!(
            bad(|p| p.num_bundles = 0),
            PolicyConfigError::BelowOne { .. }
        ));
        assert!(matches!(
            bad(|p| p.num_different_keys_in_all_bundles = 0),
            PolicyConfigError::BelowOne { .. }
        ));
        let e = bad(|p| p.min_bundle_interval = XsdDuration::from_days(12));
        assert_eq!(
            e.to_string(),
            "request_policy.min_bundle_interval (P12D) is longer than request_policy.max_bundle_interval (P11D)"
        );
        assert!(
            ResponsePolicy {
                num_bundles: 0,
                validate_signatures: true
            }
            .validate()
            .is_err()
        );
    }

    #[test]
    fn algorithm_display() {
        assert_eq!(DnssecAlgorithm(8).to_string(), "RSASHA256 (8)");
        assert_eq!(DnssecAlgorithm(9).to_string(), "algorithm 9");
        assert_eq!(
            DnssecAlgorithm::from_name("RSASHA1-NSEC3-SHA1"),
            Some(DnssecAlgorithm(7))
        );
    }
}
