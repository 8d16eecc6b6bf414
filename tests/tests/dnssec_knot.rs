//! Knot DNS with its keys in our token: keymgr generates RSASHA256 and ECDSAP256SHA256 KSKs
//! and ZSKs through the module (no CKA_CLASS or CKA_KEY_TYPE in its templates, keys found by
//! a 20-byte CKA_ID), kzonesign signs two zones offline (one with NSEC3), and the signed
//! zones must pass ldns-verify-zone, BIND's dnssec-verify and Knot's kzonecheck. Run on a
//! PIN-only token and on a 2-of-3 quorum token with every command under `strongroom activate`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use strongroom_tests::zones::{pin_only_token, quorum_token, tools_present, verify_script};
use strongroom_tests::{Scratch, module_path, run_script as sh};

const PIN: &str = "1234";
const SO_PIN: &str = "123456";
const LABEL: &str = "knot";

const ZONE: &str = "$TTL 3600
@       IN SOA   ns1 hostmaster 2024010101 7200 3600 1209600 3600
        IN NS    ns1
        IN NS    ns2
ns1     IN A     192.0.2.1
ns2     IN A     192.0.2.2
www     IN A     192.0.2.80
www     IN AAAA  2001:db8::80
sub     IN NS    ns.sub
ns.sub  IN A     192.0.2.53
";

#[test]
fn knot_keymgr_and_kzonesign() {
    if !tools_present(&["keymgr", "kzonesign"]) {
        return;
    }
    let scratch = pin_only_token(LABEL, SO_PIN, PIN);
    knot_flow(&scratch, "");

    // A 2-of-3 quorum token: every Knot command runs under `strongroom activate`.
    let (quorum, words) = quorum_token(
        env!("CARGO_BIN_EXE_strongroom-under-test"),
        LABEL,
        SO_PIN,
        PIN,
    );
    knot_flow(&quorum, &format!("{} ", words.join(" ")));
}

/// Generates the keys with keymgr and signs both zones with kzonesign, each command prefixed
/// by `prefix`; checks the keys are in the token and the signed zones verify.
fn knot_flow(scratch: &Scratch, prefix: &str) {
    let work = scratch.path();
    let module = module_path().display().to_string();
    let env = [("STRONGROOM_CONF", scratch.conf().display().to_string())];
    sh(work, &env, "mkdir -p kasp zones out run");
    for origin in ["example.com", "example.net"] {
        std::fs::write(
            work.join(format!("zones/{origin}.zone")),
            format!("$ORIGIN {origin}.\n{ZONE}"),
        )
        .unwrap();
    }
    let w = work.display();
    std::fs::write(
        work.join("knot.conf"),
        format!(
            "server:\n    rundir: \"{w}/run\"\ndatabase:\n    storage: \"{w}\"\n    kasp-db: \"{w}/kasp\"\nkeystore:\n  - id: hsm\n    backend: pkcs11\n    config: \"pkcs11:token={LABEL};pin-value={PIN} {module}\"\npolicy:\n  - id: rsa\n    keystore: hsm\n    manual: on\n    algorithm: rsasha256\n    ksk-size: 2048\n    zsk-size: 2048\n  - id: ecdsa\n    keystore: hsm\n    manual: on\n    algorithm: ecdsap256sha256\n    nsec3: on\n    nsec3-iterations: 0\n    nsec3-salt-length: 0\ntemplate:\n  - id: default\n    storage: \"{w}/zones\"\n    file: \"%s.zone\"\nzone:\n  - domain: example.com\n    dnssec-signing: on\n    dnssec-policy: rsa\n  - domain: example.net\n    dnssec-signing: on\n    dnssec-policy: ecdsa\n"
        ),
    )
    .unwrap();
    sh(
        work,
        &env,
        &format!(
            "knotc -c knot.conf conf-check
        {prefix}keymgr -c knot.conf example.com. generate algorithm=rsasha256 ksk=yes size=2048
        {prefix}keymgr -c knot.conf example.com. generate algorithm=rsasha256 ksk=no size=2048
        {prefix}keymgr -c knot.conf example.net. generate algorithm=ecdsap256sha256 ksk=yes
        {prefix}keymgr -c knot.conf example.net. generate algorithm=ecdsap256sha256 ksk=no
        {prefix}kzonesign -c knot.conf example.com. -o out
        {prefix}kzonesign -c knot.conf example.net. -o out"
        ),
    );
    // The keys are in the token, found by CKA_ID (Knot sets no label).
    let objects = sh(
        work,
        &env,
        &format!(
            "{prefix}pkcs11-tool --module {module} --token-label {LABEL} --login --pin {PIN} -O --type privkey"
        ),
    );
    assert_eq!(
        objects.matches("Private Key Object").count(),
        4,
        "{objects}"
    );
    for origin in ["example.com", "example.net"] {
        let signed = std::fs::read_to_string(work.join(format!("out/{origin}.zone"))).unwrap();
        assert!(
            signed.contains("RRSIG") && signed.contains("DNSKEY"),
            "{signed}"
        );
        sh(
            work,
            &[],
            &verify_script(origin, &format!("out/{origin}.zone")),
        );
    }
}
