//! OpenSSL 3 with the libp11 engine (`libengine-pkcs11-openssl`) signing, decrypting and
//! deriving with token keys by `pkcs11:` URI: public-key export, RSA PKCS#1 and PSS, ECDSA
//! P-256/P-384, RSA PKCS#1 and OAEP decryption, self-signed certificates, a certificate
//! written back to the token, ECDH, and a TLS 1.3 server on loopback. The check sequence is
//! that of `../shared/interop/run-openssl-engine.sh`; it runs on our module and on SoftHSM.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use strongroom_tests::{Scratch, module_path, quorum_activation, softhsm_conf, tool};

const ENGINE: &str = "/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so";
const SOFTHSM: &str = "/usr/lib/softhsm/libsofthsm2.so";

/// The checks, as a shell script: `$MODULE`, `$WORK` and `$PORT` come from the environment.
const SCRIPT: &str = r##"set -uo pipefail
PIN=1234; SOPIN=12345678; LABEL=engine-test
mkdir -p "$WORK/tokens" && cd "$WORK"
echo "directories.tokendir = $WORK/tokens" > softhsm2.conf
export SOFTHSM2_CONF="$WORK/softhsm2.conf"
pkcs11-tool --module "$MODULE" --init-token --slot-index 0 --label "$LABEL" --so-pin "$SOPIN" >/dev/null 2>&1 || \
  softhsm2-util --init-token --free --label "$LABEL" --so-pin "$SOPIN" --pin "$PIN" >/dev/null
pkcs11-tool --module "$MODULE" --token-label "$LABEL" --login --login-type so --so-pin "$SOPIN" --init-pin --new-pin "$PIN" >/dev/null 2>&1 || true
P="pkcs11-tool --module $MODULE --token-label $LABEL --login --pin $PIN"
$P --keypairgen --key-type rsa:2048 --id 01 --label rsa >/dev/null 2>&1
$P --keypairgen --key-type EC:prime256v1 --id 02 --label ec >/dev/null 2>&1
$P --keypairgen --key-type EC:secp384r1 --id 03 --label ec384 >/dev/null 2>&1
cat > openssl.cnf <<CNF
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
MODULE_PATH = $MODULE
PIN = $PIN
init = 0
[req]
distinguished_name = dn
prompt = no
[dn]
CN = engine-test
CNF
export OPENSSL_CONF="$WORK/openssl.cnf"
U="pkcs11:token=$LABEL"
head -c 1000 /dev/urandom > data.bin
pass=0; fail=0
t() { local name=$1; shift; if "$@" >"log.$name" 2>&1; then pass=$((pass+1)); echo "PASS $name"; else fail=$((fail+1)); echo "FAIL $name"; tail -3 "log.$name" | sed 's/^/    /'; fi; }
E="-engine pkcs11"
t export-rsa-pub   openssl pkey $E -inform engine -in "$U;object=rsa;type=public" -pubout -out rsa.pub
t export-ec-pub    openssl pkey $E -inform engine -in "$U;object=ec;type=public" -pubout -out ec.pub
t export-ec384-pub openssl pkey $E -inform engine -in "$U;object=ec384;type=public" -pubout -out ec384.pub
t rsa-sha256-sign  openssl dgst $E -keyform engine -sha256 -sign "$U;object=rsa;type=private" -out rsa.sig data.bin
t rsa-sha256-verify openssl dgst -sha256 -verify rsa.pub -signature rsa.sig data.bin
t rsa-pss-sign     openssl dgst $E -keyform engine -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -sign "$U;object=rsa;type=private" -out pss.sig data.bin
t rsa-pss-verify   openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -verify rsa.pub -signature pss.sig data.bin
t ec-sha256-sign   openssl dgst $E -keyform engine -sha256 -sign "$U;object=ec;type=private" -out ec.sig data.bin
t ec-sha256-verify openssl dgst -sha256 -verify ec.pub -signature ec.sig data.bin
t ec384-sha384-sign openssl dgst $E -keyform engine -sha384 -sign "$U;object=ec384;type=private" -out ec384.sig data.bin
t ec384-sha384-verify openssl dgst -sha384 -verify ec384.pub -signature ec384.sig data.bin
head -c 32 /dev/urandom > secret.bin
t rsa-pkcs1-encrypt openssl pkeyutl -encrypt -pubin -inkey rsa.pub -in secret.bin -out secret.enc
t rsa-pkcs1-decrypt sh -c "openssl pkeyutl $E -keyform engine -decrypt -inkey '$U;object=rsa;type=private' -in secret.enc -out secret.dec && cmp secret.bin secret.dec"
t rsa-oaep-encrypt openssl pkeyutl -encrypt -pubin -inkey rsa.pub -pkeyopt rsa_padding_mode:oaep -in secret.bin -out secret.oaep
t rsa-oaep-decrypt sh -c "openssl pkeyutl $E -keyform engine -decrypt -pkeyopt rsa_padding_mode:oaep -inkey '$U;object=rsa;type=private' -in secret.oaep -out secret.dec2 && cmp secret.bin secret.dec2"
t rsa-oaep-sha256-encrypt openssl pkeyutl -encrypt -pubin -inkey rsa.pub -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256 -in secret.bin -out secret.oaep256
t rsa-oaep-sha256-decrypt sh -c "openssl pkeyutl $E -keyform engine -decrypt -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256 -inkey '$U;object=rsa;type=private' -in secret.oaep256 -out secret.dec3 && cmp secret.bin secret.dec3"
t req-x509-rsa     openssl req $E -new -x509 -days 1 -keyform engine -key "$U;object=rsa;type=private" -out rsa.crt
t req-x509-ec      openssl req $E -new -x509 -days 1 -keyform engine -key "$U;object=ec;type=private" -out ec.crt
t verify-x509-rsa  openssl verify -CAfile rsa.crt rsa.crt
t verify-x509-ec   openssl verify -CAfile ec.crt ec.crt
t write-cert       sh -c "openssl x509 -in rsa.crt -outform DER -out rsa.der && $P --write-object rsa.der --type cert --id 01 --label rsa"
t read-cert        sh -c "$P --read-object --type cert --label rsa --output-file back.der && cmp rsa.der back.der"
t ecdh-derive      sh -c "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out peer.key && openssl pkey -in peer.key -pubout -out peer.pub && openssl pkeyutl $E -keyform engine -derive -inkey '$U;object=ec;type=private' -peerkey peer.pub -out z1 && openssl pkeyutl -derive -inkey peer.key -peerkey ec.pub -out z2 && cmp z1 z2"
t s-server-tls13   sh -c "timeout 20 sh -c 'openssl s_server $E -keyform engine -key \"$U;object=ec;type=private\" -cert ec.crt -accept 127.0.0.1:$PORT -naccept 1 -www >srv.log 2>&1 & sleep 2; echo Q | openssl s_client -connect 127.0.0.1:$PORT -tls1_3 -CAfile ec.crt 2>&1 | grep -q \"Verify return code: 0\"'"
echo "$pass passed, $fail failed"
"##;

/// Runs the script; returns the names of the checks that passed and failed.
fn run(
    module: &Path,
    work: &Path,
    port: u16,
    env: &[(&str, &std::ffi::OsStr)],
    wrapper: &[String],
) -> (Vec<String>, Vec<String>) {
    let mut command = match wrapper.split_first() {
        Some((program, args)) => {
            let mut c = Command::new(program);
            c.args(args).arg("bash");
            c
        }
        None => Command::new("bash"),
    };
    command
        .arg("-c")
        .arg(SCRIPT)
        .env("MODULE", module)
        .env("WORK", work)
        .env("PORT", port.to_string());
    for (k, v) in env {
        command.env(k, v);
    }
    let output = command.output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let names = |prefix: &str| {
        text.lines()
            .filter_map(|l| l.strip_prefix(prefix))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    (names("PASS "), names("FAIL "))
}

#[test]
fn openssl_libp11_engine() {
    let (Some(_), Some(_)) = (tool("openssl"), tool("pkcs11-tool")) else {
        return;
    };
    if !Path::new(ENGINE).exists() {
        assert!(
            std::env::var_os(strongroom_tests::REQUIRE_TOOLS_ENV).is_none_or(|v| v != "1"),
            "{ENGINE} is missing: install libengine-pkcs11-openssl"
        );
        eprintln!("\n*** SKIPPED: {ENGINE} is not installed; this test did NOT run ***\n");
        return;
    }
    let scratch = Scratch::new();
    let conf = scratch.conf();
    let (passed, failed) = run(
        &module_path(),
        &scratch.path().join("work"),
        44333,
        &[("STRONGROOM_CONF", conf.as_os_str())],
        &[],
    );
    println!(
        "OpenSSL + libp11 on Strongroom: {} passed, {} failed: {failed:?}",
        passed.len(),
        failed.len()
    );
    if tool("softhsm2-util").is_some() {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().join("work");
        let softhsm_conf = softhsm_conf(&work);
        let (p, f) = run(
            Path::new(SOFTHSM),
            &work,
            44334,
            &[("SOFTHSM2_CONF", softhsm_conf.as_os_str())],
            &[],
        );
        println!(
            "OpenSSL + libp11 on SoftHSM 2.6.1 (for comparison): {} passed, {} failed: {f:?}",
            p.len(),
            f.len()
        );
    }
    assert!(passed.len() >= 25, "too few checks ran: {passed:?}");
    assert!(
        failed.is_empty(),
        "{failed:?}\nmodule log:\n{}",
        scratch.log()
    );

    // The same on a 2-of-3 quorum token, the whole run under `strongroom activate`.
    let quorum = Scratch::new();
    let wrapper = quorum_activation(
        &quorum,
        env!("CARGO_BIN_EXE_strongroom-under-test"),
        "engine-test",
        "12345678",
        "1234",
    );
    let conf = quorum.conf();
    let (passed, failed) = run(
        &module_path(),
        &quorum.path().join("work"),
        44335,
        &[("STRONGROOM_CONF", conf.as_os_str())],
        &wrapper,
    );
    println!(
        "OpenSSL + libp11 on Strongroom (2-of-3 quorum, strongroom activate): {} passed, {} failed: {failed:?}",
        passed.len(),
        failed.len()
    );
    assert!(passed.len() >= 25, "too few checks ran: {passed:?}");
    assert!(
        failed.is_empty(),
        "{failed:?}\nmodule log:\n{}",
        quorum.log()
    );
}
