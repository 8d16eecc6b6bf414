//! Helpers shared by the signer's integration tests: IANA's fixtures ([`fixtures`]), the
//! legacy chain's ceremony configuration ([`legacy`]), the PKCS#11 modules and tokens the key
//! stores are tested on ([`modules`]), and the `strongroom` binary run as an operator runs it
//! ([`cli`]).
//!
//! Each file in `tests/` is its own crate and declares `mod support;`, so every crate compiles
//! all of this module but uses only its share: the rest would be reported as dead code.
#![allow(dead_code)]

pub mod cli;
pub mod fixtures;
pub mod legacy;
pub mod modules;

/// Set by `.ci/run`: a missing interop tool or module fails its test instead of skipping it.
pub const REQUIRE_TOOLS_ENV: &str = "STRONGROOM_REQUIRE_TOOLS";

/// True under `STRONGROOM_REQUIRE_TOOLS=1`: a missing tool is then a failure, not a skip.
pub fn tools_required() -> bool {
    std::env::var_os(REQUIRE_TOOLS_ENV).is_some_and(|v| v == "1")
}
