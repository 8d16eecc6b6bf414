//! Why no SKR was made. Every message names the bundle and the key concerned, so the
//! ceremony administrator can read it aloud and the transcript says what went wrong.

use super::config::ConfigError;
use super::verify::SkrReport;
use crate::keystore::KeyStoreError;
use crate::policy::{BundleRef, CheckReport};

/// A reason the ceremony stopped before an SKR was produced.
#[derive(Debug, thiserror::Error)]
pub enum CeremonyError {
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),

    #[error("the {role} (id {id}) is {found}, not {expected}")]
    WrongDocument {
        role: &'static str,
        id: String,
        found: &'static str,
        expected: &'static str,
    },

    #[error("schema {schema:?} has {slots} slots but the KSR has {bundles} bundles")]
    SlotCount {
        schema: String,
        slots: usize,
        bundles: usize,
    },

    #[error("KSK [keys.{name}] (label {label:?}): {source}")]
    KeyStore {
        name: String,
        label: String,
        #[source]
        source: Box<KeyStoreError>,
    },

    #[error("KSK [keys.{name}] (label {label:?}): {reason}")]
    KeyUnusable {
        name: String,
        label: String,
        reason: String,
    },

    #[error("the KSK checks refuse to sign:\n{0}")]
    Checks(CheckReport),

    #[error("{bundle}: {reason}")]
    Bundle { bundle: BundleRef, reason: String },

    #[error("{bundle}: the HSM could not sign with KSK {label:?}: {source}")]
    Sign {
        bundle: BundleRef,
        label: String,
        #[source]
        source: Box<KeyStoreError>,
    },

    #[error(
        "{bundle}: the signature the HSM made with KSK {label:?} (key tag {key_tag}) does not \
         verify with that key's public key: {reason}. No SKR was written."
    )]
    SelfVerify {
        bundle: BundleRef,
        label: String,
        key_tag: u16,
        reason: String,
    },

    #[error("the finished SKR does not re-validate:\n{0}")]
    Revalidate(SkrReport),

    #[error("the new SKR breaks the KSK safety rules against the previous SKR:\n{0}")]
    Safety(CheckReport),
}
