//! What the DNSSEC signer tests (`dnssec_ldns`, `dnssec_knot`, `dnssec_opendnssec`) share: the
//! tokens their keys are generated in (PIN-only, or a quorum under `strongroom activate`), the
//! test zone they sign, and the three independent verifiers every signed zone must pass.

use crate::{Scratch, module_path, quorum_activation, run_script, tool};

/// The test zone, without its `$ORIGIN` (see [`zone`]): a delegation with glue, and records
/// of several types.
pub const ZONE: &str = "$TTL 3600
@       IN SOA   ns1 hostmaster 2024010101 7200 3600 1209600 3600
        IN NS    ns1
        IN NS    ns2
        IN MX    10 mail
ns1     IN A     192.0.2.1
ns2     IN A     192.0.2.2
mail    IN A     192.0.2.25
www     IN A     192.0.2.80
www     IN AAAA  2001:db8::80
txt     IN TXT   \"signed with keys held in a PKCS#11 token\"
sub     IN NS    ns.sub
ns.sub  IN A     192.0.2.53
";

/// [`ZONE`] as the zone `origin` (no final dot).
pub fn zone(origin: &str) -> String {
    format!("$ORIGIN {origin}.\n{ZONE}")
}

/// The independent verifiers: ldns, BIND and Knot.
pub const VERIFIERS: [&str; 3] = ["ldns-verify-zone", "dnssec-verify", "kzonecheck"];

/// True when pkcs11-tool, the signer's `tools` and the [`VERIFIERS`] are all installed; the
/// first one missing is reported by [`tool`] (a skip, or a failure under
/// `STRONGROOM_REQUIRE_TOOLS=1`).
pub fn tools_present(tools: &[&str]) -> bool {
    std::iter::once("pkcs11-tool")
        .chain(tools.iter().copied())
        .chain(VERIFIERS)
        .all(|t| tool(t).is_some())
}

/// A scratch directory where the module has a PIN-only token `label`, initialised through the
/// module with [`init_token_script`].
pub fn pin_only_token(label: &str, so_pin: &str, pin: &str) -> Scratch {
    let scratch = Scratch::new();
    let module = module_path().display().to_string();
    let env = [("STRONGROOM_CONF", scratch.conf().display().to_string())];
    run_script(
        scratch.path(),
        &env,
        &init_token_script(&module, label, so_pin, pin),
    );
    scratch
}

/// A scratch directory with a 2-of-3 quorum token `label` made by the binary `strongroom`,
/// and the `strongroom activate ... --` words that run a command with it activated (see
/// [`quorum_activation`]).
pub fn quorum_token(
    strongroom: &str,
    label: &str,
    so_pin: &str,
    pin: &str,
) -> (Scratch, Vec<String>) {
    let scratch = Scratch::new();
    let words = quorum_activation(&scratch, strongroom, label, so_pin, pin);
    (scratch, words)
}

/// The bash lines that initialise the first slot's token of `module` with pkcs11-tool
/// (C_InitToken, then C_InitPIN as the SO).
pub fn init_token_script(module: &str, label: &str, so_pin: &str, pin: &str) -> String {
    format!(
        "pkcs11-tool --module {module} --init-token --slot-index 0 --label {label} --so-pin {so_pin} >/dev/null
         pkcs11-tool --module {module} --token-label {label} --login --login-type so --so-pin {so_pin} --init-pin --new-pin {pin} >/dev/null"
    )
}

/// The bash lines that run the [`VERIFIERS`] on the signed zone `file` of `origin`.
pub fn verify_script(origin: &str, file: &str) -> String {
    format!(
        "ldns-verify-zone {file}
         dnssec-verify -o {origin}. {file}
         kzonecheck -o {origin}. -d on {file}"
    )
}
