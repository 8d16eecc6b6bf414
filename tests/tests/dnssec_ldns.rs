//! A DNSSEC signer using keys generated in our token: ldns-signzone through the libp11 engine
//! signs a zone with RSASHA256 (keys by CKA_ID) and another with ECDSAP256SHA256 (keys by
//! `pkcs11:` URI, NSEC3); each signed zone must pass three independent verifiers
//! (ldns-verify-zone, BIND's dnssec-verify, Knot's kzonecheck). Run on a PIN-only token and
//! on a 2-of-3 quorum token activated by `strongroom activate`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use strongroom_tests::zones::{pin_only_token, quorum_token, tools_present, verify_script, zone};
use strongroom_tests::{Scratch, module_path, run_script as sh};

const PIN: &str = "1234";
const SO_PIN: &str = "123456";
const LABEL: &str = "dnssec";

/// Generates the keys, signs both zones (through `wrapper`, if any) and verifies them.
fn sign_and_verify(scratch: &Scratch, wrapper: &str) {
    let work = scratch.path();
    let module = module_path().display().to_string();
    let env = [
        ("STRONGROOM_CONF", scratch.conf().display().to_string()),
        ("M", module.clone()),
    ];
    let p = format!("{wrapper} pkcs11-tool --module $M --token-label {LABEL} --login --pin {PIN}");
    sh(
        work,
        &env,
        &format!(
            "{p} --keypairgen --key-type rsa:2048 --id 21 --label ldns-rsa-ksk >/dev/null
         {p} --keypairgen --key-type rsa:2048 --id 22 --label ldns-rsa-zsk >/dev/null
         {p} --keypairgen --key-type EC:prime256v1 --id 23 --label ldns-ec-ksk >/dev/null
         {p} --keypairgen --key-type EC:prime256v1 --id 24 --label ldns-ec-zsk >/dev/null"
        ),
    );
    for origin in ["example.com", "example.net"] {
        std::fs::write(work.join(format!("{origin}.zone")), zone(origin)).unwrap();
    }
    std::fs::write(
        work.join("openssl.cnf"),
        format!(
            "openssl_conf = openssl_init\n[openssl_init]\nengines = engine_section\n[engine_section]\npkcs11 = pkcs11_section\n[pkcs11_section]\nengine_id = pkcs11\ndynamic_path = /usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so\nMODULE_PATH = {module}\nPIN = {PIN}\ninit = 0\n"
        ),
    )
    .unwrap();
    let mut env = env.to_vec();
    env.push((
        "OPENSSL_CONF",
        work.join("openssl.cnf").display().to_string(),
    ));
    sh(work, &env, &format!(
        "{wrapper} ldns-signzone -E pkcs11 -K RSASHA256,id_21 -k RSASHA256,id_22 -o example.com. -f example.com.signed example.com.zone
         {wrapper} ldns-signzone -E pkcs11 -K 'ECDSAP256SHA256,pkcs11:token={LABEL};object=ldns-ec-ksk;type=private' \
             -k 'ECDSAP256SHA256,pkcs11:token={LABEL};object=ldns-ec-zsk;type=private' -n -t 0 -o example.net. -f example.net.signed example.net.zone"
    ));
    for (origin, algorithm) in [("example.com", " 8 "), ("example.net", " 13 ")] {
        let signed = std::fs::read_to_string(work.join(format!("{origin}.signed"))).unwrap();
        assert!(
            signed.contains("RRSIG")
                && signed.contains("DNSKEY")
                && signed.contains(algorithm.trim()),
            "{signed}"
        );
        sh(
            work,
            &[],
            &verify_script(origin, &format!("{origin}.signed")),
        );
    }
}

#[test]
fn ldns_signzone_on_a_pin_only_token() {
    if !tools_present(&["ldns-signzone"]) {
        return;
    }
    let scratch = pin_only_token(LABEL, SO_PIN, PIN);
    sign_and_verify(&scratch, "");
}

#[test]
fn ldns_signzone_under_strongroom_activate() {
    if !tools_present(&["ldns-signzone"]) {
        return;
    }
    let (scratch, words) = quorum_token(
        env!("CARGO_BIN_EXE_strongroom-under-test"),
        LABEL,
        SO_PIN,
        PIN,
    );
    // `sign_and_verify` runs its commands through bash: quote each word.
    let wrapper: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let wrapper = wrapper.join(" ");
    sign_and_verify(&scratch, &wrapper);
}
