//! The KSK side of the ceremony: KSR in, SKR out (reference §4), and SKR verification.
//!
//! * [`config`]: the ceremony configuration (HSM, policies, schemas); [`keys`]: its KSKs.
//! * [`schema`]: what each bundle publishes, revokes and is signed by; IANA's built-ins.
//! * [`ksk`]: the configured KSKs found in the key store, and the KSK checks that need it
//!   (KSK identity, key validity, KSR-CHAIN-KEYS in the HSM, algorithm match).
//! * [`build`]: [`build_skr`] signs every bundle, verifies every signature in software
//!   and re-validates the whole SKR before handing it back.
//! * [`table`]: the per-bundle summary the ceremony reads out.
//! * [`verify`]: [`verify_skr`], any SKR's signatures bundle by bundle, optionally against
//!   its KSR.
//!
//! The KSR checks that need no key store are in [`crate::policy`]; this module reports its
//! own findings under the same control ids.

pub mod build;
pub mod config;
mod error;
pub mod keys;
pub mod ksk;
pub mod schema;
pub mod table;
pub mod verify;

pub use build::{SignedSkr, build_skr};
pub use config::{CeremonyConfig, ConfigError, HsmConfig, KskPolicy};
pub use error::CeremonyError;
pub use keys::{DsDigest, KskConfig, SigningPathConfig};
pub use ksk::{Ksk, KskChecks, check_ksks};
pub use schema::{Schema, SlotActions};
pub use table::{BundleRow, KskUse, bundle_rows, format_bundle_table};
pub use verify::{BundleReport, SignatureCheck, SkrReport, VerifySkrError, verify_skr};

use crate::ksr::{Body, Bundle, KsrDocument, Request};

/// Bundles in the order every step uses: stably sorted by expiration, as kskm sorts them on
/// load and as the policy checks number them (bundle `i` gets schema slot `i`).
pub(crate) fn sorted_bundles(bundles: &[Bundle]) -> Vec<&Bundle> {
    let mut sorted: Vec<&Bundle> = bundles.iter().collect();
    sorted.sort_by_key(|b| b.expiration);
    sorted
}

/// The KSR's request and its bundles in [`sorted_bundles`] order; an SKR given as the KSR is
/// refused by name.
pub(crate) fn ksr_request(ksr: &KsrDocument) -> Result<(&Request, Vec<&Bundle>), CeremonyError> {
    let Body::Request(request) = &ksr.body else {
        return Err(CeremonyError::WrongDocument {
            role: "KSR",
            id: ksr.id.clone(),
            found: "an SKR",
            expected: "a KSR",
        });
    };
    Ok((request, sorted_bundles(&request.bundles)))
}
