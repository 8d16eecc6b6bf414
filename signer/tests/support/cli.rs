//! The real `strongroom` binary (and interop tools) run as an operator's script runs them: a
//! scratch directory per test with cheap Argon2 from a `STRONGROOM_CONF` file, PINs in 0600
//! files, no terminal, and a deadline.

use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_strongroom");
/// Long enough for RSA key generation in a debug build on a busy machine; a run that takes
/// longer is waiting for a terminal that will never answer.
const TIMEOUT: Duration = Duration::from_secs(120);

const CONF: &str = "token_dir = \"tokens\"
[kdf]
pin = { m_cost_kib = 8, t_cost = 1, p_cost = 1 }
card = { m_cost_kib = 8, t_cost = 1, p_cost = 1 }
";

pub fn display(path: &Path) -> String {
    path.display().to_string()
}

pub fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_string()).collect()
}

/// What one run of a program did.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts success and returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, Some(0), "expected success: {self:#?}");
        &self.stdout
    }

    /// Asserts a failure (exit code 1, nothing on stdout) with the error alone on stderr, and
    /// returns stderr.
    #[track_caller]
    pub fn fails(&self) -> &str {
        self.failed();
        assert!(
            self.stderr.starts_with("strongroom: "),
            "error not on stderr: {self:#?}"
        );
        &self.stderr
    }

    /// Asserts a failure (exit code 1, nothing on stdout, the error last on stderr) and
    /// returns stderr (the ceremony's transcript lines, then the error).
    #[track_caller]
    pub fn fails_after_transcript(&self) -> &str {
        self.failed();
        assert!(
            // After the transcript lines; after a prompt, on the prompt's line.
            self.stderr.contains("strongroom: "),
            "error not on stderr: {self:#?}"
        );
        &self.stderr
    }

    #[track_caller]
    fn failed(&self) {
        assert_eq!(self.code, Some(1), "expected exit code 1: {self:#?}");
        assert!(
            self.stdout.is_empty(),
            "a failure printed output: {self:#?}"
        );
    }

    /// Asserts success and parses stdout as JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(self.ok())
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:#?}"))
    }
}

/// Runs `command` with `stdin` (else /dev/null), failing the test if it hangs.
fn run_command(command: &mut Command, stdin: Option<&[u8]>) -> Run {
    command
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        // The program may exit before reading everything; that is its answer, not ours.
        let _ = pipe.write_all(input);
    }
    let pipe = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = Vec::new();
            r.read_to_end(&mut s)
                .map(|_| String::from_utf8_lossy(&s).into_owned())
        })
    };
    let stdout = pipe(Box::new(child.stdout.take().unwrap()));
    let stderr = pipe(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} hung for {TIMEOUT:?} (waiting for a terminal?)");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Run {
        code: status.code(),
        stdout: stdout.join().unwrap().unwrap(),
        stderr: stderr.join().unwrap().unwrap(),
    }
}

/// A scratch directory with its own configuration, token directory, HOME, TMPDIR and
/// SoftHSM configuration (written by [`Env::softhsm`] when a test uses SoftHSM).
pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("strongroom.toml"), CONF).unwrap();
        for sub in ["home", "tmp"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
        }
        Self { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn conf(&self) -> PathBuf {
        self.path("strongroom.toml")
    }

    /// Writes a secret file, mode 0600, holding `value` on its first line.
    pub fn secret(&self, name: &str, value: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .and_then(|mut f| f.write_all(format!("{value}\n").as_bytes()))
            .unwrap();
        path
    }

    /// Writes `name` (not secret) and returns its path.
    pub fn file(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// Writes the SoftHSM configuration naming a token directory of this scratch directory.
    pub fn softhsm(&self) {
        let tokens = self.path("softhsm-tokens");
        std::fs::create_dir_all(&tokens).unwrap();
        std::fs::write(
            self.path("softhsm2.conf"),
            format!("directories.tokendir = {}\n", tokens.display()),
        )
        .unwrap();
    }

    fn program(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        command
            .current_dir(self.dir.path())
            .env("STRONGROOM_CONF", self.conf())
            .env("SOFTHSM2_CONF", self.path("softhsm2.conf"))
            .env("HOME", self.path("home"))
            .env("TMPDIR", self.path("tmp"));
        command
    }

    /// Runs `strongroom ARGS` with stdin = /dev/null, failing the test if it hangs.
    pub fn run<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Run {
        run_command(self.program(BIN).args(args), None)
    }

    /// Runs `strongroom ARGS` with `conf` as its `STRONGROOM_CONF` instead of this
    /// directory's.
    pub fn run_with_conf<S: AsRef<std::ffi::OsStr>>(&self, conf: &Path, args: &[S]) -> Run {
        run_command(
            self.program(BIN).env("STRONGROOM_CONF", conf).args(args),
            None,
        )
    }

    /// Runs `strongroom ARGS` with `input` on stdin.
    pub fn run_with_stdin<S: AsRef<std::ffi::OsStr>>(&self, args: &[S], input: &str) -> Run {
        run_command(self.program(BIN).args(args), Some(input.as_bytes()))
    }

    /// Runs another program (an interop tool) in this environment.
    pub fn tool<S: AsRef<std::ffi::OsStr>>(&self, program: &Path, args: &[S]) -> Run {
        run_command(self.program(program).args(args), None)
    }
}

/// A quorum token made with `token init`, with everything needed to use it.
pub struct Token {
    pub label: String,
    pub user_pin: PathBuf,
    pub cards: Vec<PathBuf>,
    pub card_pins: Vec<PathBuf>,
}

impl Token {
    /// `--pin-file` and `--card C --card-pin-file P` for the given card numbers (1-based).
    pub fn access(&self, cards: &[usize]) -> Vec<String> {
        let mut args = vec!["--pin-file".to_string(), display(&self.user_pin)];
        args.extend(self.card_args(cards));
        args
    }

    pub fn card_args(&self, cards: &[usize]) -> Vec<String> {
        cards
            .iter()
            .flat_map(|&n| {
                [
                    "--card".to_string(),
                    display(&self.cards[n - 1]),
                    "--card-pin-file".to_string(),
                    display(&self.card_pins[n - 1]),
                ]
            })
            .collect()
    }
}

/// The arguments of `token init` for `label`, its PIN files written under `label-*.pin`.
pub fn init_args(env: &Env, label: &str, cards: u8, threshold: u8, card_dir: &Path) -> Vec<String> {
    let mut args = strings(&["token", "init", "--label", label]);
    args.extend([
        "--cards".into(),
        cards.to_string(),
        "--threshold".into(),
        threshold.to_string(),
        "--card-dir".into(),
        display(card_dir),
        "--so-pin-file".into(),
        display(&env.secret(&format!("{label}-so.pin"), &format!("so-{label}-1234"))),
        "--pin-file".into(),
        display(&env.secret(&format!("{label}-user.pin"), &format!("user-{label}-5678"))),
    ]);
    for i in 1..=cards {
        args.push("--card-pin-file".into());
        args.push(display(&env.secret(
            &format!("{label}-card{i}.pin"),
            &format!("card-{label}-{i}"),
        )));
    }
    args
}

/// Runs `token init` for an M-of-N token, checks it worked, and returns the token and what
/// `token init` printed.
pub fn init_token(env: &Env, label: &str, cards: u8, threshold: u8) -> (Token, String) {
    let card_dir = env.path(&format!("{label}-cards"));
    let printed = env
        .run(&init_args(env, label, cards, threshold, &card_dir))
        .ok()
        .to_string();
    let token = Token {
        label: label.to_string(),
        user_pin: env.path(&format!("{label}-user.pin")),
        cards: (1..=cards)
            .map(|i| card_dir.join(format!("{label}-card-{i}-of-{cards}.card")))
            .collect(),
        card_pins: (1..=cards)
            .map(|i| env.path(&format!("{label}-card{i}.pin")))
            .collect(),
    };
    (token, printed)
}

/// [`init_token`], for the token alone.
pub fn make_token(env: &Env, label: &str, cards: u8, threshold: u8) -> Token {
    init_token(env, label, cards, threshold).0
}
