//! The harness of the integration tests in `tests/tests/`: where the built module is, a
//! scratch token directory with its configuration, isolated child processes (the module
//! keeps one state per process), and the rule for interop tools that are missing.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub mod zones;

/// Set by `.ci/run`: a missing interop tool fails the test instead of skipping it.
pub const REQUIRE_TOOLS_ENV: &str = "STRONGROOM_REQUIRE_TOOLS";
/// Overrides where the module under test is.
pub const MODULE_ENV: &str = "STRONGROOM_TEST_MODULE";
const CHILD_ENV: &str = "STRONGROOM_TEST_CHILD";

/// The built `libstrongroom_pkcs11.so` (cargo leaves it next to the test binaries).
pub fn module_path() -> PathBuf {
    if let Some(path) = std::env::var_os(MODULE_ENV) {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().unwrap_or_default();
    let deps = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    let candidates = [
        deps.join("libstrongroom_pkcs11.so"),
        deps.join("../libstrongroom_pkcs11.so"),
    ];
    candidates
        .iter()
        .filter(|p| p.exists())
        .max_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "libstrongroom_pkcs11.so not found next to {}",
                exe.display()
            )
        })
}

/// A throwaway token directory and the configuration that points the module at it, with
/// Argon2 costs cheap enough for tests.
#[derive(Debug)]
pub struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Self {
        Self::with_config("")
    }

    /// A scratch directory whose configuration has `extra` TOML appended.
    pub fn with_config(extra: &str) -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("cannot make a scratch dir: {e}"));
        let conf = format!(
            "token_dir = \"tokens\"\n[kdf]\npin = {{ m_cost_kib = 8, t_cost = 1, p_cost = 1 }}\ncard = {{ m_cost_kib = 8, t_cost = 1, p_cost = 1 }}\n[log]\nlevel = \"info\"\nfile = \"{}\"\n{extra}",
            dir.path().join("module.log").display()
        );
        std::fs::write(dir.path().join("strongroom.toml"), conf)
            .unwrap_or_else(|e| panic!("cannot write the config: {e}"));
        Self { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn conf(&self) -> PathBuf {
        self.dir.path().join("strongroom.toml")
    }

    /// A command with `STRONGROOM_CONF` pointing at this scratch configuration.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        command.env("STRONGROOM_CONF", self.conf());
        command
    }

    /// The module's log so far, for assertions and for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("module.log")).unwrap_or_default()
    }
}

impl Default for Scratch {
    fn default() -> Self {
        Self::new()
    }
}

/// True inside a child started by [`run_in_child`].
pub fn in_child() -> bool {
    std::env::var_os(CHILD_ENV).is_some()
}

/// Runs the `#[ignore]`d test `name` of the current test binary in its own process with
/// `scratch`'s configuration, so each scenario gets a fresh module state. Panics with the
/// child's output when it fails.
pub fn run_in_child(name: &str, scratch: &Scratch) {
    run_in_child_under(name, scratch, &[]);
}

/// [`run_in_child`], with the child started through `wrapper` (the `strongroom activate ...
/// --` words of [`quorum_activation`]).
pub fn run_in_child_under(name: &str, scratch: &Scratch, wrapper: &[String]) {
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("no current exe: {e}"));
    let output = wrapped(wrapper, exe)
        .env("STRONGROOM_CONF", scratch.conf())
        .args([
            name,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot start the child: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child {name} failed:\n{stdout}\n{}\nmodule log:\n{}",
        String::from_utf8_lossy(&output.stderr),
        scratch.log()
    );
}

/// Finds an interop tool on PATH. A missing tool fails under CI
/// (`STRONGROOM_REQUIRE_TOOLS=1`) and is otherwise skipped loudly.
pub fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|path| path.is_file());
    if found.is_none() {
        if std::env::var_os(REQUIRE_TOOLS_ENV).is_some_and(|v| v == "1") {
            panic!(
                "interop tool {name} is missing and {REQUIRE_TOOLS_ENV}=1: install it (see .ci/run)"
            );
        }
        eprintln!(
            "\n*** SKIPPED: interop tool {name} is not installed; this test did NOT run ***\n"
        );
    }
    found
}

/// Where `.ci/run` put the Python virtualenv and the sdists: `STRONGROOM_INTEROP`, else
/// `target/interop`. `None` when there is no virtualenv there (skipped loudly, or a failure
/// under `STRONGROOM_REQUIRE_TOOLS=1`).
pub fn interop() -> Option<PathBuf> {
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

/// Copies a directory tree (a suite's sources into a scratch directory).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("{}: {e}", to.display()));
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let entry = entry.unwrap_or_else(|e| panic!("{}: {e}", from.display()));
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target)
                .unwrap_or_else(|e| panic!("{}: {e}", target.display()));
        }
    }
}

/// A fresh SoftHSM token store under `dir`; returns the `SOFTHSM2_CONF` file naming it.
pub fn softhsm_conf(dir: &Path) -> PathBuf {
    let tokens = dir.join("tokens");
    std::fs::create_dir_all(&tokens).unwrap_or_else(|e| panic!("{}: {e}", tokens.display()));
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!("directories.tokendir = {}\n", tokens.display()),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", conf.display()));
    conf
}

/// Runs a bash script (with `set -euo pipefail`) in `work`; panics with its output when it
/// fails, else returns that output.
pub fn run_script(work: &Path, env: &[(&str, String)], script: &str) -> String {
    let mut command = Command::new("bash");
    command
        .arg("-c")
        .arg(format!("set -euo pipefail\n{script}"))
        .current_dir(work);
    for (k, v) in env {
        command.env(k, v);
    }
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run bash: {e}"));
    let text = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{script}\nfailed:\n{text}");
    text
}

/// A command for `program`, run through `wrapper` (the words [`quorum_activation`] returns)
/// when there is one.
pub fn wrapped(wrapper: &[String], program: impl AsRef<std::ffi::OsStr>) -> Command {
    match wrapper.split_first() {
        None => Command::new(program),
        Some((first, rest)) => {
            let mut command = Command::new(first);
            command.args(rest).arg(program);
            command
        }
    }
}

/// Makes a 2-of-3 quorum token with `strongroom token init` (cards and 0600 PIN files in the
/// scratch directory) and returns the `strongroom activate ... --` words that run a command
/// with it activated by cards 1 and 3. A suite that then re-initialises the token through
/// `C_InitToken` keeps its quorum, so it runs unchanged under the activation.
pub fn quorum_activation(
    scratch: &Scratch,
    strongroom: &str,
    label: &str,
    so_pin: &str,
    user_pin: &str,
) -> Vec<String> {
    let pins = scratch.path().join("quorum-pins");
    std::fs::create_dir_all(&pins).unwrap_or_else(|e| panic!("{}: {e}", pins.display()));
    let pin_file = |name: &str, value: &str| {
        let file = pins.join(format!("{name}.pin"));
        std::fs::write(&file, format!("{value}\n"))
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        file.display().to_string()
    };
    let cards = scratch.path().join("quorum-cards");
    let card_pins: Vec<String> = (1..=3)
        .map(|i| pin_file(&format!("card-{i}"), &format!("card-pin-{i}")))
        .collect();
    let mut init = scratch.command(strongroom);
    init.args([
        "token",
        "init",
        "--label",
        label,
        "--cards",
        "3",
        "--threshold",
        "2",
        "--card-dir",
    ])
    .arg(&cards)
    .args([
        "--so-pin-file",
        &pin_file("so", so_pin),
        "--pin-file",
        &pin_file("user", user_pin),
    ]);
    for file in &card_pins {
        init.args(["--card-pin-file", file]);
    }
    let output = init
        .output()
        .unwrap_or_else(|e| panic!("cannot run {strongroom}: {e}"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Found by number: the file name carries the label with unsafe characters replaced.
    let card = |n: usize| {
        let suffix = format!("-card-{n}-of-3.card");
        std::fs::read_dir(&cards)
            .unwrap_or_else(|e| panic!("{}: {e}", cards.display()))
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .find(|path| path.to_string_lossy().ends_with(&suffix))
            .unwrap_or_else(|| panic!("no card {n} in {}", cards.display()))
            .display()
            .to_string()
    };
    vec![
        strongroom.to_string(),
        "activate".into(),
        "--token".into(),
        label.into(),
        "--card".into(),
        card(1),
        "--card-pin-file".into(),
        card_pins[0].clone(),
        "--card".into(),
        card(3),
        "--card-pin-file".into(),
        card_pins[2].clone(),
        "--".into(),
    ]
}
