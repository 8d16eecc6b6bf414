//! Token administration: `strongroom token|card|key ...`. Each command returns an [`Output`]
//! that `main` prints as text or, with `--json`, as JSON.

pub mod activate;
pub mod activation;
pub mod card;
pub mod key;
pub mod p11kit;
pub mod token;

use hsm_core::{Config, Hsm};

use crate::error::CliResult;

/// What a command has to say, in both forms.
#[derive(Debug)]
pub struct Output {
    pub human: String,
    pub json: serde_json::Value,
}

/// Opens the HSM over the configured token directory.
pub fn open_hsm() -> CliResult<Hsm> {
    let config = Config::load()?;
    Ok(Hsm::new(config)?)
}
