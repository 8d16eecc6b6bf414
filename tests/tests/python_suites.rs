//! The test suites of PyKCS11 (PyPI 1.5.20; IANA's ceremony tool is built on it) and
//! python-pkcs11 (PyPI 0.10.1), from their sdists, run against the module: once as itself,
//! once posing as SoftHSM (the identity strings PyKCS11 compares; the file name
//! python-pkcs11 keys on), and on SoftHSM 2.6.1 in the same run for comparison.
//! `.ci/run` installs both packages and unpacks the sdists into `target/interop`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::ffi::OsStr;
use std::path::Path;

use strongroom_tests::{
    Scratch, copy_dir, interop, module_path, quorum_activation, softhsm_conf as softhsm_env, tool,
    wrapped,
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
/// - `test_derive_key` derives ECDH on P-192, a curve the token does not offer.
const PYTHON_PKCS11_NOT_OFFERED: &[&str] = &["tests/test_ecc.py::ECCTests::test_derive_key"];

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

/// Runs a suite: `(interop, module, env, work dir, wrapper)`.
type RunSuite = fn(&Path, &Path, &[(&str, &OsStr)], &Path, &[String]) -> Pytest;

/// One of the suites, with what these tests need to run and judge it.
struct Suite {
    /// The name and version its reports give.
    name: &'static str,
    run: RunSuite,
    /// The (label, SO PIN, PIN) of the token the suite expects.
    token: (&'static str, &'static str, &'static str),
    /// The failures allowed on our module.
    allowed: &'static [&'static str],
}

const PYKCS11: Suite = Suite {
    name: "PyKCS11 1.5.20",
    run: run_pykcs11,
    token: ("A token", "123456", "1234"),
    allowed: PYKCS11_BY_DESIGN,
};

const PYTHON_PKCS11: Suite = Suite {
    name: "python-pkcs11 0.10.1",
    run: run_python_pkcs11,
    token: ("TEST", "5678", "1234"),
    allowed: PYTHON_PKCS11_NOT_OFFERED,
};

impl Suite {
    /// Runs the suite on our module at `module` with `scratch`'s configuration (through
    /// `wrapper`, if any), and reports it as run `on`.
    fn run_ours(
        &self,
        interop: &Path,
        module: &Path,
        scratch: &Scratch,
        wrapper: &[String],
        on: &str,
    ) -> Pytest {
        let conf = scratch.conf();
        let result = (self.run)(
            interop,
            module,
            &[("STRONGROOM_CONF", conf.as_os_str())],
            scratch.path(),
            wrapper,
        );
        report(self.name, on, &result);
        result
    }

    /// Runs the suite on SoftHSM 2.6.1, when installed, and reports it: for comparison only.
    fn compare_with_softhsm(&self, interop: &Path) {
        if tool("softhsm2-util").is_some() {
            let dir = tempfile::tempdir().unwrap();
            let conf = softhsm_env(dir.path());
            let softhsm = (self.run)(
                interop,
                Path::new(SOFTHSM),
                &[("SOFTHSM2_CONF", conf.as_os_str())],
                dir.path(),
                &[],
            );
            report(self.name, "SoftHSM 2.6.1 (for comparison)", &softhsm);
        }
    }

    /// Asserts that every failure of `result`, the run named `what` on `scratch`, is allowed.
    fn assert_only_allowed(&self, what: &str, result: &Pytest, scratch: &Scratch) {
        assert_only(what, result, &[self.allowed], &scratch.log());
    }

    /// Runs the suite on a 2-of-3 quorum token made in `quorum`, under `strongroom activate --
    /// ...`; reports it as run `on` and asserts that every failure is allowed.
    fn run_activated(&self, interop: &Path, quorum: &Scratch, on: &str, what: &str) {
        let (label, so_pin, pin) = self.token;
        let wrapper = quorum_activation(quorum, STRONGROOM, label, so_pin, pin);
        let activated = self.run_ours(interop, &module_path(), quorum, &wrapper, on);
        self.assert_only_allowed(what, &activated, quorum);
    }
}

#[test]
fn pykcs11_suite() {
    let Some(interop) = interop() else { return };
    let scratch = Scratch::new();
    PYKCS11.run_ours(&interop, &module_path(), &scratch, &[], "Strongroom");

    let posing = Scratch::with_config("[pkcs11]\nidentity = \"softhsm\"\n");
    let as_softhsm = PYKCS11.run_ours(
        &interop,
        &module_path(),
        &posing,
        &[],
        "Strongroom posing as SoftHSM",
    );
    PYKCS11.compare_with_softhsm(&interop);
    PYKCS11.assert_only_allowed("PyKCS11 posing", &as_softhsm, &posing);

    // The posing run again on a 2-of-3 quorum token, under `strongroom activate -- ...`.
    PYKCS11.run_activated(
        &interop,
        &Scratch::with_config("[pkcs11]\nidentity = \"softhsm\"\n"),
        "Strongroom posing as SoftHSM, quorum token under strongroom activate",
        "PyKCS11 under strongroom activate",
    );
}

#[test]
fn python_pkcs11_suite() {
    let Some(interop) = interop() else { return };
    let scratch = Scratch::new();
    let ours = PYTHON_PKCS11.run_ours(&interop, &module_path(), &scratch, &[], "Strongroom");

    // python-pkcs11 enables its SoftHSM-only tests by the module's file name.
    let posing = Scratch::new();
    let link = posing.path().join("softhsm/libsofthsm2.so");
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(module_path(), &link).unwrap();
    let as_softhsm = PYTHON_PKCS11.run_ours(
        &interop,
        &link,
        &posing,
        &[],
        "Strongroom named libsofthsm2.so",
    );
    PYTHON_PKCS11.compare_with_softhsm(&interop);
    PYTHON_PKCS11.assert_only_allowed("python-pkcs11", &ours, &scratch);
    PYTHON_PKCS11.assert_only_allowed("python-pkcs11 named libsofthsm2.so", &as_softhsm, &posing);

    // The same suite on a 2-of-3 quorum token, activated by `strongroom activate -- ...`.
    PYTHON_PKCS11.run_activated(
        &interop,
        &Scratch::new(),
        "Strongroom quorum token under strongroom activate",
        "python-pkcs11 under strongroom activate",
    );
}
