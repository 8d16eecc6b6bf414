//! GnuTLS p11tool and certtool against the module — token listing, key generation, test
//! signatures, a self-signed certificate written back to the token — then the same through
//! `p11-kit server` remoting (how one Strongroom serves signers elsewhere), and the p11-kit
//! module file that lets p11-kit find the module by name. The sequence is that of
//! `../shared/interop/run-p11tool-p11kit.sh`, run on our module and on SoftHSM 2.6.1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Stdio;

use strongroom_tests::{Scratch, module_path, quorum_activation, softhsm_conf, tool, wrapped};

const PIN: &str = "1234";
const SO_PIN: &str = "12345678";
const LABEL: &str = "p11tool-test";
const CLIENT: &str = "/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so";
const SOFTHSM: &str = "/usr/lib/softhsm/libsofthsm2.so";

/// GnuTLS 3.7.9 client bugs: it asks `C_GenerateKeyPair` for Ed25519 with CKM_EDDSA (not a
/// key-generation mechanism, rightly refused), and fails RSA-PSS key generation before any
/// PKCS#11 call. SoftHSM fails the same two.
const CLIENT_BUGS: &[&str] = &["gen-ed25519", "gen-rsa-pss"];

/// The checks, as shell commands; `$T` is p11tool on the module, `$C` p11tool through p11-kit.
const DIRECT: &[(&str, &str)] = &[
    ("list-tokens", "$T --list-tokens | grep -q \"token=$LABEL\""),
    (
        "list-mechanisms",
        "$T --list-mechanisms \"$U\" | grep -q CKM_",
    ),
    (
        "gen-rsa2048",
        "$T --login --generate-privkey rsa --bits 2048 --label rsa2048 --id 01 --outfile rsa.pub \"$U\"",
    ),
    (
        "gen-ecdsa-p256",
        "$T --login --generate-privkey ecdsa --curve secp256r1 --label ecp256 --id 02 --outfile ec.pub \"$U\"",
    ),
    (
        "gen-ecdsa-p384",
        "$T --login --generate-privkey ecdsa --curve secp384r1 --label ecp384 --id 03 --outfile ec384.pub \"$U\"",
    ),
    (
        "gen-ed25519",
        "$T --login --generate-privkey ed25519 --label ed25519 --id 04 --outfile ed.pub \"$U\"",
    ),
    (
        "gen-rsa-pss",
        "$T --login --generate-privkey rsa-pss --bits 2048 --label rsapss --id 05 --outfile pss.pub \"$U\"",
    ),
    (
        "list-privkeys",
        "$T --login --list-privkeys \"$U\" | grep -c type=private | grep -q '[1-9]'",
    ),
    (
        "test-sign-rsa",
        "$T --login --test-sign \"$U;object=rsa2048;type=private\"",
    ),
    (
        "test-sign-rsa-pss",
        "$T --login --test-sign --sign-params rsa-pss \"$U;object=rsa2048;type=private\"",
    ),
    (
        "test-sign-p256",
        "$T --login --test-sign \"$U;object=ecp256;type=private\"",
    ),
    (
        "test-sign-p384",
        "$T --login --test-sign --hash SHA384 \"$U;object=ecp384;type=private\"",
    ),
    (
        "test-sign-ed25519",
        "pkcs11-tool --module \"$MODULE\" --token-label $LABEL --login --pin $GNUTLS_PIN --keypairgen --key-type EC:edwards25519 --id 06 --label ed25519b >/dev/null && $T --login --test-sign --hash SHA512 \"$U;object=ed25519b;type=private\"",
    ),
    (
        "certtool-selfsign",
        "printf 'cn = \"p11tool-test\"\\nserial = 1\\nexpiration_days = 30\\nsigning_key\\n' > cert.tmpl && certtool --provider \"$MODULE\" --generate-self-signed --load-privkey \"$U;object=rsa2048;type=private\" --load-pubkey \"$U;object=rsa2048;type=public\" --template cert.tmpl --outfile cert.pem",
    ),
    (
        "write-cert",
        "$T --login --write --load-certificate cert.pem --label rsa2048 --id 01 \"$U\"",
    ),
    (
        "export-cert",
        "$T --export \"$U;object=rsa2048;type=cert\" | grep -q 'BEGIN CERTIFICATE'",
    ),
    (
        "generate-random",
        "[ $($T --generate-random 32 \"$U\" | wc -c) -ge 32 ]",
    ),
];

const REMOTE: &[(&str, &str)] = &[
    (
        "remote-list-tokens",
        "$C --list-tokens | grep -q \"token=$LABEL\"",
    ),
    (
        "remote-test-sign-rsa",
        "$C --login --test-sign \"$U;object=rsa2048;type=private\"",
    ),
    (
        "remote-test-sign-p256",
        "$C --login --test-sign \"$U;object=ecp256;type=private\"",
    ),
    (
        "remote-pkcs11-tool-O",
        "pkcs11-tool --module $CLIENT --token-label $LABEL --login --pin $GNUTLS_PIN -O",
    ),
    (
        "remote-keygen",
        "pkcs11-tool --module $CLIENT --token-label $LABEL --login --pin $GNUTLS_PIN --keypairgen --key-type EC:secp256r1 --id 07 --label remote-ec",
    ),
];

fn shell(work: &Path, env: &[(&str, String)], script: &str, wrapper: &[String]) -> (bool, String) {
    let mut command = wrapped(wrapper, "sh");
    command.arg("-c").arg(script).current_dir(work);
    for (k, v) in env {
        command.env(k, v);
    }
    let output = command.output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    (
        output.status.success(),
        text.lines().rev().take(2).collect::<Vec<_>>().join(" | "),
    )
}

/// Runs the direct and remote checks on one module; returns the names that failed.
fn run_checks(module: &str, work: &Path, extra_env: &[(&str, String)]) -> (usize, Vec<String>) {
    run_checks_with(module, work, extra_env, &[])
}

/// The checks with every command run under `wrapper` (`strongroom activate ... --`).
fn run_checks_with(
    module: &str,
    work: &Path,
    extra_env: &[(&str, String)],
    wrapper: &[String],
) -> (usize, Vec<String>) {
    let mut env: Vec<(&str, String)> = vec![
        ("MODULE", module.to_string()),
        ("CLIENT", CLIENT.to_string()),
        ("LABEL", LABEL.to_string()),
        ("U", format!("pkcs11:token={LABEL}")),
        ("T", format!("p11tool --provider {module} --batch")),
        ("C", format!("p11tool --provider {CLIENT} --batch")),
        ("GNUTLS_PIN", PIN.to_string()),
        ("GNUTLS_SO_PIN", SO_PIN.to_string()),
    ];
    env.extend(extra_env.iter().cloned());
    let init = format!(
        "pkcs11-tool --module {module} --init-token --slot-index 0 --label {LABEL} --so-pin {SO_PIN} && pkcs11-tool --module {module} --token-label {LABEL} --login --login-type so --so-pin {SO_PIN} --init-pin --new-pin {PIN}"
    );
    let (ok, why) = shell(work, &env, &init, wrapper);
    assert!(ok, "token setup failed: {why}");
    let mut passed = 0;
    let mut failed = Vec::new();
    let mut check = |name: &str, script: &str, env: &[(&str, String)]| {
        let (ok, why) = shell(work, env, script, wrapper);
        if ok {
            passed += 1;
        } else {
            println!("  FAIL {name}: {why}");
            failed.push(name.to_string());
        }
    };
    for (name, script) in DIRECT {
        check(name, script, &env);
    }
    let socket = work.join("p11kit.sock");
    let mut server = wrapped(wrapper, "p11-kit")
        .args(["server", "--provider", module, "-n"])
        .arg(&socket)
        .args(["-f", "pkcs11:"])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if socket.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let mut remote_env = env.clone();
    remote_env.push((
        "P11_KIT_SERVER_ADDRESS",
        format!("unix:path={}", socket.display()),
    ));
    for (name, script) in REMOTE {
        check(name, script, &remote_env);
    }
    server.kill().ok();
    server.wait().ok();
    (passed, failed)
}

#[test]
fn p11tool_certtool_and_p11kit_remoting() {
    let (Some(_), Some(_), Some(_)) = (tool("p11tool"), tool("p11-kit"), tool("pkcs11-tool"))
    else {
        return;
    };
    let scratch = Scratch::new();
    let module = module_path().display().to_string();
    let (passed, failed) = run_checks(
        &module,
        scratch.path(),
        &[("STRONGROOM_CONF", scratch.conf().display().to_string())],
    );
    println!(
        "p11tool/certtool/p11-kit on Strongroom: {passed} passed, {} failed: {failed:?}",
        failed.len()
    );
    if tool("softhsm2-util").is_some() {
        let softhsm = tempfile::tempdir().unwrap();
        let conf = softhsm_conf(softhsm.path());
        let (p, f) = run_checks(
            SOFTHSM,
            softhsm.path(),
            &[("SOFTHSM2_CONF", conf.display().to_string())],
        );
        println!(
            "p11tool/certtool/p11-kit on SoftHSM 2.6.1 (for comparison): {p} passed, {} failed: {f:?}",
            f.len()
        );
    }
    let unexpected: Vec<_> = failed
        .iter()
        .filter(|n| !CLIENT_BUGS.contains(&n.as_str()))
        .collect();
    assert!(
        unexpected.is_empty(),
        "failures beyond the two GnuTLS client bugs: {unexpected:?}\n{}",
        scratch.log()
    );

    // The same checks on a 2-of-3 quorum token, every call under `strongroom activate`,
    // the remoting included: p11-kit server closes inherited descriptors before it starts a
    // worker, which then reopens the hand-over through its `strongroom activate` ancestor.
    let quorum = Scratch::new();
    let wrapper = quorum_activation(
        &quorum,
        env!("CARGO_BIN_EXE_strongroom-under-test"),
        LABEL,
        SO_PIN,
        PIN,
    );
    let (passed, failed) = run_checks_with(
        &module,
        quorum.path(),
        &[("STRONGROOM_CONF", quorum.conf().display().to_string())],
        &wrapper,
    );
    println!(
        "p11tool/certtool/p11-kit on Strongroom (2-of-3 quorum, strongroom activate): {passed} passed, {} failed: {failed:?}",
        failed.len()
    );
    let unexpected: Vec<_> = failed
        .iter()
        .filter(|n| !CLIENT_BUGS.contains(&n.as_str()))
        .collect();
    assert!(
        unexpected.is_empty(),
        "under activate: {unexpected:?}\n{}",
        quorum.log()
    );
}

/// Removes the module file a test installed, however the test ends.
struct Installed(std::path::PathBuf);

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// `strongroom p11-kit install` writes a module file p11-kit reads: `p11-kit list-modules`
/// names the module and shows the token. p11-kit ignores user configuration for root, so as
/// root (CI) the file goes to the system directory and is removed afterwards.
#[test]
fn p11kit_finds_the_module_by_its_module_file() {
    let Some(p11kit) = tool("p11-kit") else {
        return;
    };
    let scratch = Scratch::new();
    let home = scratch.path().join("home");
    let root = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata("/proc/self").unwrap()) == 0;
    let modules = if root {
        "/etc/pkcs11/modules".into()
    } else {
        home.join(".config/pkcs11/modules")
    };
    let _installed = Installed(modules.join("strongroom.module"));
    let output = scratch
        .command(env!("CARGO_BIN_EXE_strongroom-under-test"))
        .args(["p11-kit", "install", "--module"])
        .arg(module_path())
        .arg("--dir")
        .arg(&modules)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        std::fs::read_to_string(modules.join("strongroom.module"))
            .unwrap()
            .contains("module: /")
    );
    // A token to show.
    let pkcs11_tool = tool("pkcs11-tool").unwrap_or_else(|| "pkcs11-tool".into());
    let init = scratch
        .command(pkcs11_tool)
        .arg("--module")
        .arg(module_path())
        .args([
            "--init-token",
            "--slot-index",
            "0",
            "--label",
            "listed",
            "--so-pin",
            SO_PIN,
        ])
        .output()
        .unwrap();
    assert!(init.status.success());
    let listing = scratch
        .command(p11kit)
        .arg("list-modules")
        .env("HOME", &home)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&listing.stdout);
    assert!(
        text.contains("strongroom:"),
        "p11-kit does not list the module:\n{text}"
    );
    assert!(text.contains("token: listed"), "{text}");
}
