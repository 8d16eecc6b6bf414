//! The KSR checks of reference §3 that need no HSM, each reported under its control id and
//! each governed by its `request_policy` knob.
//!
//! * [`check_request`]: the KSR on its own (header, bundles, ZSK policy, clock).
//! * [`check_chain`]: the KSR against the previous ceremony's SKR (SKR(n-1)).
//! * [`check_safety`]: the new SKR against SKR(n-1) (KSK publish and retire safety).
//! * [`check_response`]: an SKR's bundle count and KSK signatures (SKR-VERIFY).
//!
//! The KSK checks that need the HSM (KSR-CHAIN-KEYS in the HSM, key validity dates, KSK
//! identity by DS) live with the signer; they report under the ids defined here.
//!
//! Deliberate differences from kskm: Min *and* Max signature validity are enforced; every
//! check runs and reports every violation instead of stopping at the first; the clock is an
//! argument.

mod bundles;
mod chain;
mod config;
mod header;
mod report;
mod request;
mod safety;
mod signatures;
mod sorted;
mod zsk_policy;

pub use chain::{check_chain, check_response};
pub use config::{DnssecAlgorithm, PolicyConfigError, RequestPolicy, ResponsePolicy};
pub use report::{BundleRef, CheckId, CheckReport, Source, Violation, Warning};
pub use request::check_request;
pub use safety::check_safety;
