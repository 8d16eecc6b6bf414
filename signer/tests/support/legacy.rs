//! The ceremony configuration of IANA's legacy chain (2009-q4-2 → 2010-q1-0 → 2010-q2-0), in
//! pieces a test puts together with its own `[hsm]`, `[keys]` and bundle counts.
//!
//! Also the dnspython test of the `strongroom-tests` package signs the 2010-q2-0 roll with
//! it: `tests/tests/dnssec_dnspython.rs` includes this file by path, so it must stand alone.

/// `[ksk_policy]` as the legacy tool declared it (pre-RSSAC003 validity and overlap).
pub const LEGACY_KSK_POLICY: &str = r#"[ksk_policy]
publish_safety = "PT0S"
retire_safety = "P28D"
max_signature_validity = "P20D"
min_signature_validity = "P15D"
max_validity_overlap = "P10D"
min_validity_overlap = "P5D"
"#;

/// The relaxations the 2009/2010 KSRs need (fixtures/ksr/README.md), plus the chain overlap
/// of 4d23:59:59 the legacy chain has: lines of a `[request_policy]` table.
pub const LEGACY_RELAXATIONS: &str = "rsa_exponent_match_zsk_policy = false
rsa_approved_exponents = [3, 65537]
rsa_approved_key_sizes = [1024]
check_bundle_overlap = false
signature_validity_match_zsk_policy = false
check_chain_overlap = false
";

/// The schema `legacy-roll`: the 2010-q2-0 roll as the legacy tool was run (`ksrsigner KSK1
/// KSK2`), KSK1 → KSK2 with KSK1 revoked (flags 385, tag 5145) in slots 7–8, where both keys
/// sign.
pub const LEGACY_ROLL_SCHEMA: &str = r#"[schemas.legacy-roll.1]
publish = "ksk_current"
sign = "ksk_current"
[schemas.legacy-roll.2]
publish = ["ksk_current", "ksk_next"]
sign = "ksk_current"
[schemas.legacy-roll.3]
publish = ["ksk_current", "ksk_next"]
sign = "ksk_current"
[schemas.legacy-roll.4]
publish = ["ksk_current", "ksk_next"]
sign = "ksk_current"
[schemas.legacy-roll.5]
publish = ["ksk_current", "ksk_next"]
sign = "ksk_current"
[schemas.legacy-roll.6]
publish = ["ksk_current", "ksk_next"]
sign = "ksk_current"
[schemas.legacy-roll.7]
publish = "ksk_next"
revoke = "ksk_current"
sign = ["ksk_next", "ksk_current"]
[schemas.legacy-roll.8]
publish = "ksk_next"
revoke = "ksk_current"
sign = ["ksk_next", "ksk_current"]
[schemas.legacy-roll.9]
publish = "ksk_next"
sign = "ksk_next"
"#;
