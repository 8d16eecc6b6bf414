//! The test suites of PyKCS11 (PyPI 1.5.20; IANA's ceremony tool is built on it) and
//! python-pkcs11 (PyPI 0.10.1), from their sdists, run against the module: once as itself,
//! once posing as SoftHSM (the identity strings PyKCS11 compares; the file name
//! python-pkcs11 keys on), and on SoftHSM 2.6.1 in the same run for comparison.
//! `.ci/run` installs both packages and unpacks the sdists into `target/interop`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use strongroom_tests::{
    REQUIRE_TOOLS_ENV, Scratch, copy_dir, module_path, quorum_activation,
    softhsm_conf as softhsm_env, tool, wrapped,
};

const SOFTHSM: &str = "/usr/lib/softhsm/libsofthsm2.so";
const STRONGROOM: &str = env!("CARGO_BIN_EXE_strongroom-under-test");

/// PyKCS11 tests that fail on our module by design:
/// - `test_gc` logs out of a session that never logged in and expects CKR_OK (SoftHSM's
///   deviation); the spec, which we follow, says CKR_USER_NOT_LOGGED_IN;
/// - `test_invalid_load` then finds the library `test_gc` left loaded in PyKCS11's registry.
const PYKCS11_BY_DESIGN: &[&str] = &[
    "test/test_gc.py::TestUtil::test_gc",
    "test/test_load.py::TestUtil::test_invalid_load",
];

/// python-pkcs11's failures for features deliberately not offered (PyKCS11's suite has
/// none); the README lists each with its reason.
/// - `test_derive_key` derives ECDH on P-192, a curve the token does not offer;
/// - `test_import_key_params` imports an EC key with explicit curve parameters (named curves
///   only).
const PYTHON_PKCS11_NOT_OFFERED: &[&str] = &[
    "tests/test_ecc.py::ECCTests::test_derive_key",
    "tests/test_ecc.py::ECCTests::test_import_key_params",
];

/// Asserts that every failure is one of the listed ones.
fn assert_only(suite: &str, result: &Pytest, allowed: &[&[&str]], log: &str) {
    let unexpected: Vec<&String> = result
        .failures
        .iter()
        .filter(|f| !allowed.iter().any(|list| list.contains(&f.as_str())))
        .collect();
    assert!(
        unexpected.is_empty(),
        "{suite}: unexpected failures {unexpected:?}\nmodule log:\n{log}"
    );
}

/// Where `.ci/run` put the virtualenv and the sdists.
fn interop() -> Option<PathBuf> {
    let dir = std::env::var_os("STRONGROOM_INTEROP")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/interop"));
    if dir.join("venv/bin/python").exists() {
        return Some(dir);
    }
    if std::env::var_os(REQUIRE_TOOLS_ENV).is_some_and(|v| v == "1") {
        panic!(
            "{} has no Python interop environment: run .ci/run's setup",
            dir.display()
        );
    }
    eprintln!(
        "\n*** SKIPPED: no Python interop environment at {}; these suites did NOT run ***\n",
        dir.display()
    );
    None
}

#[derive(Debug, Default)]
struct Pytest {
    passed: usize,
    failed: usize,
    skipped: usize,
    failures: Vec<String>,
}

fn pytest(
    python: &Path,
    dir: &Path,
    tests: &str,
    env: &[(&str, &std::ffi::OsStr)],
    wrapper: &[String],
) -> Pytest {
    let mut command = wrapped(wrapper, python);
    command
        .current_dir(dir)
        .args(["-m", "pytest", "-p", "no:cacheprovider", "-rfE", tests]);
    for (k, v) in env {
        command.env(k, v);
    }
    let output = command.output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let mut result = Pytest::default();
    for line in text.lines() {
        if let Some(name) = line
            .strip_prefix("FAILED ")
            .or_else(|| line.strip_prefix("ERROR "))
        {
            result
                .failures
                .push(name.split(" - ").next().unwrap_or(name).to_string());
        }
        if line.starts_with('=')
            && line.contains(" in ")
            && (line.contains("passed") || line.contains("failed"))
        {
            for part in line.trim_matches('=').split(',') {
                let mut words = part.split_whitespace();
                let (Some(n), Some(what)) = (words.next(), words.next()) else {
                    continue;
                };
                let n: usize = n.parse().unwrap_or(0);
                match what {
                    "passed" => result.passed = n,
                    "failed" | "errors" | "error" => result.failed += n,
                    "skipped" => result.skipped = n,
                    _ => {}
                }
            }
        }
    }
    assert!(
        result.passed > 0,
        "pytest did not run:\n{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    result
}

/// Initialises the first slot's token through PKCS#11.
fn init_token(
    module: &Path,
    env: &[(&str, &std::ffi::OsStr)],
    label: &str,
    so_pin: &str,
    pin: &str,
    wrapper: &[String],
) {
    let pkcs11_tool = tool("pkcs11-tool").unwrap();
    for args in [
        vec![
            "--init-token",
            "--slot-index",
            "0",
            "--label",
            label,
            "--so-pin",
            so_pin,
        ],
        vec![
            "--token-label",
            label,
            "--login",
            "--login-type",
            "so",
            "--so-pin",
            so_pin,
            "--init-pin",
            "--new-pin",
            pin,
        ],
    ] {
        let mut command = wrapped(wrapper, &pkcs11_tool);
        command.arg("--module").arg(module).args(args);
        for (k, v) in env {
            command.env(k, v);
        }
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

fn report(suite: &str, on: &str, r: &Pytest) {
    println!(
        "{suite} on {on}: {} passed, {} failed, {} skipped; failures: {:?}",
        r.passed, r.failed, r.skipped, r.failures
    );
}

/// PyKCS11's suite: the first slot's token "A token", PIN 1234, SO PIN 123456.
fn run_pykcs11(
    interop: &Path,
    module: &Path,
    env: &[(&str, &std::ffi::OsStr)],
    work: &Path,
    wrapper: &[String],
) -> Pytest {
    init_token(module, env, "A token", "123456", "1234", wrapper);
    let sdist = work.join("pykcs11");
    copy_dir(&interop.join("sdist/pykcs11-1.5.20"), &sdist);
    let mut env = env.to_vec();
    env.push(("PYKCS11LIB", module.as_os_str()));
    pytest(
        &interop.join("venv/bin/python"),
        &sdist,
        "test",
        &env,
        wrapper,
    )
}

/// python-pkcs11's suite: token TEST, PIN 1234, SO PIN 5678; the sdist's source package is
/// moved aside so the installed wheel is imported.
fn run_python_pkcs11(
    interop: &Path,
    module: &Path,
    env: &[(&str, &std::ffi::OsStr)],
    work: &Path,
    wrapper: &[String],
) -> Pytest {
    init_token(module, env, "TEST", "5678", "1234", wrapper);
    let sdist = work.join("python-pkcs11");
    copy_dir(&interop.join("sdist/python_pkcs11-0.10.1"), &sdist);
    std::fs::rename(sdist.join("pkcs11"), sdist.join("_pkcs11_src")).unwrap();
    let mut env = env.to_vec();
    env.extend([
        ("PKCS11_MODULE", module.as_os_str()),
        ("PKCS11_TOKEN_LABEL", "TEST".as_ref()),
        ("PKCS11_TOKEN_PIN", "1234".as_ref()),
        ("PKCS11_TOKEN_SO_PIN", "5678".as_ref()),
    ]);
    pytest(
        &interop.join("venv/bin/python"),
        &sdist,
        "tests",
        &env,
        wrapper,
    )
}

#[test]
fn pykcs11_suite() {
    let Some(interop) = interop() else { return };
    let scratch = Scratch::new();
    let conf = scratch.conf();
    let ours = run_pykcs11(
        &interop,
        &module_path(),
        &[("STRONGROOM_CONF", conf.as_os_str())],
        scratch.path(),
        &[],
    );
    report("PyKCS11 1.5.20", "Strongroom", &ours);

    let posing = Scratch::with_config("[pkcs11]\nidentity = \"softhsm\"\n");
    let conf = posing.conf();
    let as_softhsm = run_pykcs11(
        &interop,
        &module_path(),
        &[("STRONGROOM_CONF", conf.as_os_str())],
        posing.path(),
        &[],
    );
    report(
        "PyKCS11 1.5.20",
        "Strongroom posing as SoftHSM",
        &as_softhsm,
    );

    if tool("softhsm2-util").is_some() {
        let dir = tempfile::tempdir().unwrap();
        let conf = softhsm_env(dir.path());
        let softhsm = run_pykcs11(
            &interop,
            Path::new(SOFTHSM),
            &[("SOFTHSM2_CONF", conf.as_os_str())],
            dir.path(),
            &[],
        );
        report("PyKCS11 1.5.20", "SoftHSM 2.6.1 (for comparison)", &softhsm);
    }
    assert_only(
        "PyKCS11 posing",
        &as_softhsm,
        &[PYKCS11_BY_DESIGN],
        &posing.log(),
    );

    // The posing run again on a 2-of-3 quorum token, under `strongroom activate -- ...`.
    let quorum = Scratch::with_config("[pkcs11]\nidentity = \"softhsm\"\n");
    let wrapper = quorum_activation(&quorum, STRONGROOM, "A token", "123456", "1234");
    let conf = quorum.conf();
    let activated = run_pykcs11(
        &interop,
        &module_path(),
        &[("STRONGROOM_CONF", conf.as_os_str())],
        quorum.path(),
        &wrapper,
    );
    report(
        "PyKCS11 1.5.20",
        "Strongroom posing as SoftHSM, quorum token under strongroom activate",
        &activated,
    );
    assert_only(
        "PyKCS11 under strongroom activate",
        &activated,
        &[PYKCS11_BY_DESIGN],
        &quorum.log(),
    );
}

#[test]
fn python_pkcs11_suite() {
    let Some(interop) = interop() else { return };
    let scratch = Scratch::new();
    let conf = scratch.conf();
    let ours = run_python_pkcs11(
        &interop,
        &module_path(),
        &[("STRONGROOM_CONF", conf.as_os_str())],
        scratch.path(),
        &[],
    );
    report("python-pkcs11 0.10.1", "Strongroom", &ours);

    // python-pkcs11 enables its SoftHSM-only tests by the module's file name.
    let posing = Scratch::new();
    let link = posing.path().join("softhsm/libsofthsm2.so");
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(module_path(), &link).unwrap();
    let conf = posing.conf();
    let as_softhsm = run_python_pkcs11(
        &interop,
        &link,
        &[("STRONGROOM_CONF", conf.as_os_str())],
        posing.path(),
        &[],
    );
    report(
        "python-pkcs11 0.10.1",
        "Strongroom named libsofthsm2.so",
        &as_softhsm,
    );

    if tool("softhsm2-util").is_some() {
        let dir = tempfile::tempdir().unwrap();
        let conf = softhsm_env(dir.path());
        let softhsm = run_python_pkcs11(
            &interop,
            Path::new(SOFTHSM),
            &[("SOFTHSM2_CONF", conf.as_os_str())],
            dir.path(),
            &[],
        );
        report(
            "python-pkcs11 0.10.1",
            "SoftHSM 2.6.1 (for comparison)",
            &softhsm,
        );
    }
    assert_only(
        "python-pkcs11",
        &ours,
        &[PYTHON_PKCS11_NOT_OFFERED],
        &scratch.log(),
    );
    assert_only(
        "python-pkcs11 named libsofthsm2.so",
        &as_softhsm,
        &[PYTHON_PKCS11_NOT_OFFERED],
        &posing.log(),
    );

    // The same suite on a 2-of-3 quorum token, activated by `strongroom activate -- ...`.
    let quorum = Scratch::new();
    let wrapper = quorum_activation(&quorum, STRONGROOM, "TEST", "5678", "1234");
    let conf = quorum.conf();
    let activated = run_python_pkcs11(
        &interop,
        &module_path(),
        &[("STRONGROOM_CONF", conf.as_os_str())],
        quorum.path(),
        &wrapper,
    );
    report(
        "python-pkcs11 0.10.1",
        "Strongroom quorum token under strongroom activate",
        &activated,
    );
    assert_only(
        "python-pkcs11 under strongroom activate",
        &activated,
        &[PYTHON_PKCS11_NOT_OFFERED],
        &quorum.log(),
    );
}
