//! The ceremony commands of the real `strongroom` binary, end to end: `ksr sign` / `ksr check`
//! on a 2-of-3 quorum token holding the legacy test KSK1 (tag 5017), the transcript and the
//! "Yes" prompt, ceremony configuration files (KSK identity, the legacy chain reproduced byte
//! for byte), the same signing through PKCS#11 (SoftHSM and our own module), `skr verify`,
//! `rrset sign` / `rrset verify`, `key ds` and `key trust-anchor`.
//!
//! Each test makes its own scratch directory with a `STRONGROOM_CONF` of cheap Argon2 costs;
//! fixtures are read from `fixtures/ksr/` of this repository. A missing interop tool
//! (SoftHSM, pkcs11-tool, openssl, ldns) skips its part loudly, or fails it under
//! `STRONGROOM_REQUIRE_TOOLS=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest, Sha256};
use signer::ksr::{Body, KsrDocument, parse_document};

const BIN: &str = env!("CARGO_BIN_EXE_strongroom");
/// A ceremony run takes a fraction of a second; one that takes this long is waiting for a
/// terminal that will never answer.
const TIMEOUT: Duration = Duration::from_secs(120);
const REQUIRE_TOOLS_ENV: &str = "STRONGROOM_REQUIRE_TOOLS";
const SOFTHSM: &str = "/usr/lib/softhsm/libsofthsm2.so";

const CONF: &str = "token_dir = \"tokens\"
[kdf]
pin = { m_cost_kib = 8, t_cost = 1, p_cost = 1 }
card = { m_cost_kib = 8, t_cost = 1, p_cost = 1 }
";

const KSR_2018: &str = "ksr-root-2018-q1-0-d_to_e.xml";
/// A day of the ceremony that signed the 2018-Q1 KSR (the horizon check's clock).
const NOW_2018: &str = "2017-11-01T00:00:00";
/// Bundle 1 of the 2018 KSR; `ksr.bad.xml` swaps its two ZSK signatures.
const BUNDLE_1_2018: &str = "0a8f7774-3bd3-4702-a923-f1d73f653bd6";
/// Bundle 4 of the 2018 KSR, the one whose signature the tamper tests flip.
const BUNDLE_4_2018: &str = "bf4e1b34-b469-4dee-86df-0cfe867bbe5c";

/// The twelve KSR checks that run without a previous SKR, as the transcript names them.
const KSR_CHECKS: [&str; 12] = [
    "KSR-DOMAIN",
    "KSR-BUNDLE-UNIQUE",
    "KSR-BUNDLE-KEYS",
    "KSR-BUNDLE-POP",
    "KSR-BUNDLE-COUNT",
    "KSR-BUNDLE-CYCLE-DURATION",
    "KSR-POLICY-KEYS",
    "KSR-POLICY-ALG",
    "KSR-POLICY-SIG-OVERLAP",
    "KSR-POLICY-SIG-VALIDITY",
    "KSR-POLICY-SIG-HORIZON",
    "KSR-POLICY-BUNDLE-INTERVALS",
];

/// The relaxations the 2010 KSRs need (fixtures/ksr/README.md), plus the chain overlap of
/// 4d23:59:59 that the legacy chain has.
const LEGACY_RELAXATIONS: &str = "rsa_exponent_match_zsk_policy = false
rsa_approved_exponents = [3, 65537]
rsa_approved_key_sizes = [1024]
check_bundle_overlap = false
signature_validity_match_zsk_policy = false
check_chain_overlap = false
";

fn fixture(name: &str) -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/ksr")).join(name)
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_string()).collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode_upper(Sha256::digest(bytes))
}

// ---- running the binary ---------------------------------------------------------------------

/// What one run of a program did.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Asserts success and returns stdout.
    #[track_caller]
    fn ok(&self) -> &str {
        assert_eq!(self.code, Some(0), "expected success: {self:#?}");
        &self.stdout
    }

    /// Asserts a failure (exit code 1, nothing on stdout, the error last on stderr) and
    /// returns stderr (the ceremony's transcript lines, then the error).
    #[track_caller]
    fn fails(&self) -> &str {
        assert_eq!(self.code, Some(1), "expected exit code 1: {self:#?}");
        assert!(
            self.stdout.is_empty(),
            "a failure printed output: {self:#?}"
        );
        assert!(
            // After the transcript lines; after a prompt, on the prompt's line.
            self.stderr.contains("strongroom: "),
            "error not on stderr: {self:#?}"
        );
        &self.stderr
    }

    /// Asserts success and parses stdout as JSON.
    #[track_caller]
    fn json(&self) -> Value {
        serde_json::from_str(self.ok())
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:#?}"))
    }
}

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
struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("strongroom.toml"), CONF).unwrap();
        for sub in ["home", "tmp"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
        }
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn conf(&self) -> PathBuf {
        self.path("strongroom.toml")
    }

    /// Writes a secret file, mode 0600, holding `value` on its first line.
    fn secret(&self, name: &str, value: &str) -> PathBuf {
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
    fn file(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// Writes the SoftHSM configuration naming a token directory of this scratch directory.
    fn softhsm(&self) {
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
    fn run<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Run {
        run_command(self.program(BIN).args(args), None)
    }

    /// Runs `strongroom ARGS` with `input` on stdin.
    fn run_with_stdin<S: AsRef<std::ffi::OsStr>>(&self, args: &[S], input: &str) -> Run {
        run_command(self.program(BIN).args(args), Some(input.as_bytes()))
    }

    /// Runs another program (an interop tool) in this environment.
    fn tool<S: AsRef<std::ffi::OsStr>>(&self, program: &Path, args: &[S]) -> Run {
        run_command(self.program(program).args(args), None)
    }
}

/// Finds an interop tool on PATH. A missing tool fails under `STRONGROOM_REQUIRE_TOOLS=1`
/// and is otherwise skipped loudly.
fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|path| path.is_file());
    if found.is_none() {
        skipped(name, "not installed");
    }
    found
}

/// Reports a missing tool: a panic under `STRONGROOM_REQUIRE_TOOLS=1`, else a loud skip.
fn skipped(what: &str, why: &str) {
    if std::env::var_os(REQUIRE_TOOLS_ENV).is_some_and(|v| v == "1") {
        panic!("{what} is {why} and {REQUIRE_TOOLS_ENV}=1");
    }
    eprintln!("\n*** SKIPPED: {what} is {why}; this part of the test did NOT run ***\n");
}

/// The built `libstrongroom_pkcs11.so`: `STRONGROOM_TEST_MODULE`, else next to the test
/// binaries, else the workspace's `target/debug` (cargo does not build it for `cargo test -p
/// signer`: `cargo build -p pkcs11-shim` does).
fn strongroom_module() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("STRONGROOM_TEST_MODULE") {
        return Some(PathBuf::from(path)).filter(|p| p.is_file());
    }
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    [
        deps.join("libstrongroom_pkcs11.so"),
        deps.join("../libstrongroom_pkcs11.so"),
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/debug"))
            .join("libstrongroom_pkcs11.so"),
    ]
    .into_iter()
    .filter(|p| p.is_file())
    .max_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
}

// ---- the quorum token -----------------------------------------------------------------------

/// A 2-of-3 quorum token made with `token init`.
struct Token {
    label: String,
    user_pin: PathBuf,
    cards: Vec<PathBuf>,
    card_pins: Vec<PathBuf>,
}

impl Token {
    /// `--pin-file` and cards 1 and 3 with their PIN files: a quorum.
    fn access(&self) -> Vec<String> {
        let mut args = vec!["--pin-file".to_string(), display(&self.user_pin)];
        for n in [1, 3] {
            args.extend([
                "--card".to_string(),
                display(&self.cards[n - 1]),
                "--card-pin-file".to_string(),
                display(&self.card_pins[n - 1]),
            ]);
        }
        args
    }

    /// `--token LABEL` and [`Token::access`].
    fn source(&self) -> Vec<String> {
        let mut args = vec!["--token".to_string(), self.label.clone()];
        args.extend(self.access());
        args
    }
}

/// `token init` of a 2-of-3 token `label`.
fn make_token(env: &Env, label: &str) -> Token {
    let card_dir = env.path(&format!("{label}-cards"));
    let mut args = strings(&[
        "token",
        "init",
        "--label",
        label,
        "--cards",
        "3",
        "--threshold",
        "2",
        "--card-dir",
        &display(&card_dir),
    ]);
    args.extend([
        "--so-pin-file".into(),
        display(&env.secret(&format!("{label}-so.pin"), &format!("so-{label}-1234"))),
        "--pin-file".into(),
        display(&env.secret(&format!("{label}-user.pin"), &format!("user-{label}-5678"))),
    ]);
    let mut card_pins = Vec::new();
    for i in 1..=3 {
        let pin = env.secret(
            &format!("{label}-card{i}.pin"),
            &format!("card-{label}-{i}"),
        );
        args.extend(["--card-pin-file".into(), display(&pin)]);
        card_pins.push(pin);
    }
    let init = env.run(&args).ok().to_string();
    assert!(init.contains("quorum 2 of 3"), "{init}");
    Token {
        label: label.to_string(),
        user_pin: env.path(&format!("{label}-user.pin")),
        cards: (1..=3)
            .map(|i| card_dir.join(format!("{label}-card-{i}-of-3.card")))
            .collect(),
        card_pins,
    }
}

/// `key import` of the legacy test key `n` (1: KSK1, tag 5017; 2: KSK2, tag 55186).
fn import_test_key(env: &Env, token: &Token, label: &str, n: u8) {
    let mut args = strings(&["key", "import", "--token", &token.label, "--label", label]);
    args.extend([
        "--file".into(),
        display(&fixture(&format!("legacy/rsa2048-{n}.key"))),
    ]);
    args.extend(token.access());
    let out = env.run(&args).ok().to_string();
    assert!(out.contains(&format!("\"{label}\"")), "{out}");
}

/// A 2-of-3 token "T" holding KSK1.
fn ceremony_token(env: &Env) -> Token {
    let token = make_token(env, "T");
    import_test_key(env, &token, "KSK1", 1);
    token
}

/// `ksr sign KSR --out OUT --ksk KSK1 --token T [quorum] --now NOW_2018` (+ `extra`).
fn sign_2018_args(token: &Token, out: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = strings(&["ksr", "sign", &display(&fixture(KSR_2018))]);
    args.extend(["--out".into(), display(out), "--ksk".into(), "KSK1".into()]);
    args.extend(token.source());
    args.extend(["--now".into(), NOW_2018.into()]);
    args.extend(strings(extra));
    args
}

/// The transcript `ksr sign --out OUT` writes by default.
fn transcript_of(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".transcript.txt");
    PathBuf::from(name)
}

// ---- SKR helpers ----------------------------------------------------------------------------

fn parse(path: &Path) -> KsrDocument {
    parse_document(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every bundle's signatures, by bundle id: (RRSIG key tag, SignatureData), sorted.
fn signatures(path: &Path) -> BTreeMap<String, Vec<(u16, Vec<u8>)>> {
    let Body::Response(response) = parse(path).body else {
        panic!("{} is not an SKR", path.display());
    };
    response
        .bundles
        .iter()
        .map(|b| {
            let mut sigs: Vec<(u16, Vec<u8>)> = b
                .signatures
                .iter()
                .map(|s| (s.key_tag, s.signature_data.clone()))
                .collect();
            sigs.sort();
            (b.id.clone(), sigs)
        })
        .collect()
}

/// Every bundle's DNSKEY set, by bundle id: (flags, algorithm, public key), sorted.
fn key_sets(path: &Path) -> BTreeMap<String, Vec<(u16, u8, Vec<u8>)>> {
    let Body::Response(response) = parse(path).body else {
        panic!("{} is not an SKR", path.display());
    };
    response
        .bundles
        .iter()
        .map(|b| {
            let mut keys: Vec<(u16, u8, Vec<u8>)> = b
                .keys
                .iter()
                .map(|k| (k.flags, k.algorithm, k.public_key.clone()))
                .collect();
            keys.sort();
            (b.id.clone(), keys)
        })
        .collect()
}

/// Replaces one base64 character (the 20th) of the first `<SignatureData>` after the
/// `<ResponseBundle id="BUNDLE">` start tag.
fn flip_signature_of(xml: &str, bundle: &str) -> String {
    let start = xml
        .find(&format!("<ResponseBundle id=\"{bundle}\""))
        .unwrap_or_else(|| panic!("no bundle {bundle}"));
    let data = start + xml[start..].find("<SignatureData>").unwrap() + "<SignatureData>".len();
    flip_char_at(xml, data + 20)
}

/// `text` with the base64 character at byte `at` replaced by another one.
fn flip_char_at(text: &str, at: usize) -> String {
    let old = text.as_bytes()[at];
    assert!(
        old.is_ascii_alphanumeric() || old == b'+' || old == b'/',
        "{:?} is not base64",
        old as char
    );
    let new = if old == b'A' { 'B' } else { 'A' };
    let mut out = text.to_string();
    out.replace_range(at..=at, &new.to_string());
    out
}

/// A line with its runs of blanks collapsed, for table rows.
fn squeezed(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

// ---- independent DNSSEC arithmetic ----------------------------------------------------------

/// DNSKEY RDATA from the presentation fields "flags protocol algorithm base64".
fn dnskey_rdata(line: &str) -> Vec<u8> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let at = fields.iter().position(|f| *f == "DNSKEY").unwrap();
    let flags: u16 = fields[at + 1].parse().unwrap();
    let protocol: u8 = fields[at + 2].parse().unwrap();
    let algorithm: u8 = fields[at + 3].parse().unwrap();
    let key = base64::engine::general_purpose::STANDARD
        .decode(fields[at + 4..].concat())
        .unwrap();
    let mut rdata = flags.to_be_bytes().to_vec();
    rdata.extend([protocol, algorithm]);
    rdata.extend(key);
    rdata
}

/// RFC 4034 Appendix B.
fn key_tag(rdata: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for (i, b) in rdata.iter().enumerate() {
        sum += if i % 2 == 0 {
            u32::from(*b) << 8
        } else {
            u32::from(*b)
        };
    }
    sum += (sum >> 16) & 0xffff;
    (sum & 0xffff) as u16
}

/// RFC 4509: SHA-256 over the owner (the root, `00`) and the DNSKEY RDATA.
fn ds_sha256(rdata: &[u8]) -> String {
    let mut input = vec![0u8];
    input.extend_from_slice(rdata);
    sha256_hex(&input)
}

/// `key ds KSK1 ...`: its stdout.
fn key_ds(env: &Env, source: &[String]) -> String {
    let mut args = strings(&["key", "ds", "KSK1"]);
    args.extend_from_slice(source);
    env.run(&args).ok().to_string()
}

/// The DS SHA-256 of KSK1 as the token reports it (`key ds --json`).
fn ksk1_ds(env: &Env, token: &Token) -> String {
    let mut args = strings(&["key", "ds", "KSK1", "--json"]);
    args.extend(token.source());
    let ds = env.run(&args).json();
    assert_eq!(ds["key_tag"], 5017, "{ds}");
    ds["ds_sha256"].as_str().unwrap().to_string()
}

// ---- 1. ksr sign, the transcript, skr verify ------------------------------------------------

#[test]
fn ksr_sign_writes_the_skr_and_a_transcript_that_skr_verify_accepts() {
    let env = Env::new();
    let token = ceremony_token(&env);
    let skr = env.path("skr.xml");
    let run = env.run(&sign_2018_args(&token, &skr, &["--yes"]));
    assert!(run.ok().is_empty(), "ksr sign printed on stdout: {run:#?}");
    let skr_bytes = std::fs::read(&skr).unwrap();
    let transcript = std::fs::read_to_string(transcript_of(&skr)).unwrap();
    // Everything shown goes to the transcript (with --yes nothing is typed).
    assert_eq!(
        transcript, run.stderr,
        "the transcript differs from the screen"
    );

    let ksr_bytes = std::fs::read(fixture(KSR_2018)).unwrap();
    let ksr_digest = Sha256::digest(&ksr_bytes);
    let ksr_hex = hex::encode_upper(ksr_digest);
    let ksr_words = pgp_words::to_words(&ksr_digest).join(" ");
    assert!(
        transcript.contains(&format!("KSR: {}\n", display(&fixture(KSR_2018)))),
        "{transcript}"
    );
    assert!(
        transcript.contains(&format!("SHA-256 {ksr_hex}\n")),
        "{transcript}"
    );
    assert!(
        transcript.contains(&format!("WORDS   {ksr_words}\n")),
        "{transcript}"
    );
    assert!(transcript.contains("Clock: 2017-11-01T00:00:00+00:00 (given with --now"));
    assert!(
        transcript.contains("Previous SKR: none given"),
        "{transcript}"
    );
    assert!(transcript.contains("Sign KSR? Confirmed with --yes."));

    let passed: Vec<&str> = transcript
        .lines()
        .filter_map(|l| l.strip_prefix("PASS "))
        .filter(|id| id.starts_with("KSR-"))
        .collect();
    assert_eq!(passed, KSR_CHECKS, "{transcript}");
    for check in [
        "KSK-VALIDITY",
        "KSK-IDENTITY",
        "KSK-ALGORITHM-MATCH",
        "SKR-VERIFY",
    ] {
        assert!(
            transcript.lines().any(|l| l == format!("PASS {check}")),
            "no PASS {check}: {transcript}"
        );
    }
    assert!(!transcript.contains("FAIL "), "{transcript}");
    // Without a previous SKR the chain checks are said to be skipped, not passed.
    assert!(
        transcript.contains("SKIP KSR-CHAIN-KEYS-HSM"),
        "{transcript}"
    );
    assert!(
        transcript.contains("SKIP KSR-POLICY-SAFETY"),
        "{transcript}"
    );

    // The plan, before "Yes"; the bundle table, after.
    let plan_at = transcript.find("Plan (schema \"normal\"):\n").unwrap();
    let yes_at = transcript.find("Sign KSR?").unwrap();
    assert!(plan_at < yes_at, "the plan comes after the question");
    let plan: Vec<String> = transcript[plan_at..yes_at]
        .lines()
        .skip(1)
        .map(squeezed)
        .collect();
    assert_eq!(plan.len(), 9, "{transcript}");
    assert_eq!(
        plan[0],
        "1 2018-01-01T00:00:00+00:00 2018-01-22T00:00:00+00:00 46809,41824 5017(KSK1)/S"
    );
    assert_eq!(
        plan[8],
        "9 2018-03-22T00:00:00+00:00 2018-04-12T00:00:00+00:00 39570,41824 5017(KSK1)/S"
    );
    let table_at = transcript.find("#  Inception").unwrap();
    assert!(table_at > yes_at);
    let table: Vec<String> = transcript[table_at..]
        .lines()
        .skip(1)
        .take(9)
        .map(squeezed)
        .collect();
    assert_eq!(
        table[0],
        "1 2018-01-01T00:00:00 2018-01-22T00:00:00 41824,46809 5017(KSK1)/S"
    );
    assert_eq!(
        table[1],
        "2 2018-01-11T00:00:00 2018-02-01T00:00:00 41824 5017(KSK1)/S"
    );
    assert_eq!(
        table[8],
        "9 2018-03-22T00:00:00 2018-04-12T00:00:00 41824,39570 5017(KSK1)/S"
    );
    assert!(
        table.iter().all(|row| row.ends_with(" 5017(KSK1)/S")),
        "{table:#?}"
    );
    assert!(transcript.contains("9 signatures made and verified in software (9 bundles)"));
    let skr_at = transcript
        .find(&format!("SKR: {}\n", display(&skr)))
        .unwrap();
    assert!(
        transcript[skr_at..].contains(&format!("SHA-256 {}\n", sha256_hex(&skr_bytes))),
        "{transcript}"
    );
    let skr_words = pgp_words::to_words(&Sha256::digest(&skr_bytes)).join(" ");
    assert!(transcript.ends_with(&format!("WORDS   {skr_words}\n")));

    // The SKR answers the KSR: same id, same bundles, one KSK1 signature each.
    let ksr_doc = parse(&fixture(KSR_2018));
    let skr_doc = parse(&skr);
    assert_eq!(skr_doc.id, ksr_doc.id);
    let sigs = signatures(&skr);
    assert_eq!(sigs.len(), 9);
    assert!(sigs.values().all(|s| s.len() == 1 && s[0].0 == 5017));

    let verify = env.run(&[
        "skr",
        "verify",
        &display(&skr),
        "--ksr",
        &display(&fixture(KSR_2018)),
    ]);
    let out = verify.ok();
    assert!(
        out.contains("9 of 9 signatures verified in 9 bundles: VALID"),
        "{out}"
    );
    assert!(
        out.contains(&format!("bundle 4 ({BUNDLE_4_2018})")),
        "{out}"
    );
    assert!(out.contains(&sha256_hex(&skr_bytes)), "{out}");
    assert!(out.contains(&ksr_hex), "{out}");

    // One base64 character of bundle 4's signature changed: exactly that bundle fails.
    let text = String::from_utf8(skr_bytes).unwrap();
    let tampered = env.file("tampered.xml", flip_signature_of(&text, BUNDLE_4_2018));
    let verify = env.run(&[
        "skr",
        "verify",
        &display(&tampered),
        "--ksr",
        &display(&fixture(KSR_2018)),
    ]);
    let err = verify.fails();
    let failed: Vec<&str> = err.lines().filter(|l| l.contains("FAILED")).collect();
    assert_eq!(failed.len(), 1, "{err}");
    assert!(
        failed[0].starts_with(&format!("bundle 4 ({BUNDLE_4_2018})")),
        "{err}"
    );
    assert!(failed[0].contains("5017(KSK1)/FAILED"), "{err}");
    assert!(
        err.contains("8 of 9 signatures verified in 9 bundles: INVALID"),
        "{err}"
    );
}

// ---- 2. the "Yes" prompt --------------------------------------------------------------------

#[test]
fn only_an_exact_yes_signs() {
    let env = Env::new();
    let token = ceremony_token(&env);
    let question = "Sign KSR? Confirm with \"Yes\" (exactly) or anything else to abort: ";

    for (name, answer) in [("lower", "yes\n"), ("eof", ""), ("spaced", " Yes\n")] {
        let skr = env.path(&format!("{name}.xml"));
        let run = env.run_with_stdin(&sign_2018_args(&token, &skr, &[]), answer);
        let err = run.fails();
        let typed = answer.trim_end_matches('\n');
        assert!(
            err.contains(&format!("aborted: the answer was {typed:?}, not \"Yes\"")),
            "{name}: {err}"
        );
        assert!(!skr.exists(), "{name}: an SKR was written after {answer:?}");
        let transcript = std::fs::read_to_string(transcript_of(&skr)).unwrap();
        // The plan was shown, the question asked, the answer and the abort recorded.
        assert!(
            transcript.contains("Plan (schema \"normal\"):"),
            "{transcript}"
        );
        assert!(
            transcript.contains(&format!("{question}{typed}\n")),
            "{name}: {transcript}"
        );
        assert!(
            transcript.contains(&format!(
                "ABORTED: aborted: the answer was {typed:?}, not \"Yes\""
            )),
            "{name}: {transcript}"
        );
        assert!(
            !transcript.lines().any(|l| l.starts_with("SKR: ")),
            "{transcript}"
        );
        assert!(!transcript.contains("PASS SKR-VERIFY"), "{transcript}");
    }

    let skr = env.path("yes.xml");
    let run = env.run_with_stdin(&sign_2018_args(&token, &skr, &[]), "Yes\n");
    assert!(run.ok().is_empty());
    let bytes = std::fs::read(&skr).unwrap();
    let transcript = std::fs::read_to_string(transcript_of(&skr)).unwrap();
    assert!(
        transcript.contains(&format!("{question}Yes\n")),
        "{transcript}"
    );
    assert!(!transcript.contains("ABORTED"), "{transcript}");
    assert!(transcript.contains(&format!("SHA-256 {}\n", sha256_hex(&bytes))));
    assert_eq!(signatures(&skr).len(), 9);
}

/// After an aborted attempt, the operator runs `ksr sign` again with the same `--out`: the
/// transcript of the abort is already there. Whatever the tool decides, it must not both
/// write the SKR and report failure, and a signed SKR must have a transcript recording it.
#[test]
fn retrying_after_an_abort_never_leaves_an_skr_behind_a_failure() {
    let env = Env::new();
    let token = ceremony_token(&env);
    let skr = env.path("skr.xml");
    env.run_with_stdin(&sign_2018_args(&token, &skr, &[]), "no\n")
        .fails();
    assert!(!skr.exists());
    let retry = env.run_with_stdin(&sign_2018_args(&token, &skr, &[]), "Yes\n");
    if retry.code == Some(0) {
        let bytes = std::fs::read(&skr).unwrap();
        let transcripts: String = std::fs::read_dir(env.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().contains("transcript"))
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect();
        assert!(
            transcripts.contains(&sha256_hex(&bytes)),
            "the signing is in no transcript: {retry:#?}"
        );
    } else {
        assert!(
            !skr.exists(),
            "exit {:?} but the SKR was written: {retry:#?}",
            retry.code
        );
    }
}

/// The same with `--transcript` naming an existing file (last quarter's transcript): the
/// refusal must come before anything is signed, as for an existing `--out`.
#[test]
fn an_existing_transcript_file_is_refused_before_signing() {
    let env = Env::new();
    let token = ceremony_token(&env);
    let old = env.file("ceremony.log", b"last quarter's transcript");
    let skr = env.path("skr.xml");
    let run = env.run(&sign_2018_args(
        &token,
        &skr,
        &["--yes", "--transcript", &display(&old)],
    ));
    assert_eq!(
        std::fs::read(&old).unwrap(),
        b"last quarter's transcript",
        "{run:#?}"
    );
    let err = run.fails();
    assert!(err.contains(&display(&old)), "{err}");
    assert!(
        !skr.exists(),
        "the SKR was written although the run failed: {run:#?}"
    );
}

// ---- 3. --out is never overwritten ----------------------------------------------------------

#[test]
fn an_existing_out_file_is_refused_untouched() {
    let env = Env::new();
    let token = ceremony_token(&env);
    let skr = env.file("skr.xml", b"last quarter's SKR, precious");
    let err = env
        .run(&sign_2018_args(&token, &skr, &["--yes"]))
        .fails()
        .to_string();
    assert!(
        err.contains(&display(&skr)) && err.contains("already exists"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&skr).unwrap(),
        b"last quarter's SKR, precious"
    );
    // Refused before any check or signature.
    assert!(!err.contains("PASS "), "{err}");
    assert!(!err.contains("Sign KSR?"), "{err}");
}

// ---- 4. ksr check ---------------------------------------------------------------------------

fn check_args(token: &Token, ksr: &str, now: Option<&str>) -> Vec<String> {
    let mut args = strings(&["ksr", "check", &display(&fixture(ksr)), "--ksk", "KSK1"]);
    args.extend(token.source());
    if let Some(now) = now {
        args.extend(["--now".into(), now.into()]);
    }
    args
}

#[test]
fn ksr_check_refuses_the_bad_pop_and_the_stale_clock_and_accepts_the_good_ksr() {
    let env = Env::new();
    let token = ceremony_token(&env);

    let err = env
        .run(&check_args(&token, "ksr.bad.xml", Some(NOW_2018)))
        .fails()
        .to_string();
    let fails: Vec<&str> = err.lines().filter(|l| l.starts_with("FAIL ")).collect();
    assert_eq!(fails.len(), 2, "{err}");
    assert!(
        fails
            .iter()
            .all(|l| l.starts_with(&format!("FAIL KSR-BUNDLE-POP bundle 1 ({BUNDLE_1_2018})"))),
        "{err}"
    );
    // Both ZSK signatures of bundle 1 were swapped, so both fail.
    for zsk in ["46809", "41824"] {
        assert!(fails.iter().any(|l| l.contains(zsk)), "{err}");
    }
    assert!(err.contains("RESULT: REFUSED"), "{err}");
    assert!(
        err.trim_end()
            .ends_with("strongroom: the KSR is refused: KSR-BUNDLE-POP"),
        "{err}"
    );
    assert!(!env.path("skr.xml").exists());

    let good = env.run(&check_args(&token, KSR_2018, Some(NOW_2018)));
    assert!(good.ok().is_empty(), "{good:#?}");
    for check in KSR_CHECKS {
        assert!(
            good.stderr.lines().any(|l| l == format!("PASS {check}")),
            "no PASS {check}: {good:#?}"
        );
    }
    assert!(!good.stderr.contains("FAIL "), "{good:#?}");
    assert!(good.stderr.contains("Plan (schema \"normal\"):"));
    let mut json_args = check_args(&token, KSR_2018, Some(NOW_2018));
    json_args.push("--json".into());
    let json = env.run(&json_args).json();
    assert_eq!(json["accepted"], true, "{json}");
    assert_eq!(json["ksr_id"], "4fe9bb10-6f6b-4503-8575-7824e2d66925");

    // Today's clock: every 2018 bundle has long expired.
    let err = env
        .run(&check_args(&token, KSR_2018, None))
        .fails()
        .to_string();
    assert!(err.contains("(system clock)"), "{err}");
    let fails: Vec<&str> = err.lines().filter(|l| l.starts_with("FAIL ")).collect();
    assert_eq!(fails.len(), 9, "{err}");
    assert!(
        fails
            .iter()
            .all(|l| l.starts_with("FAIL KSR-POLICY-SIG-HORIZON bundle ")),
        "{err}"
    );
    assert!(
        err.trim_end()
            .ends_with("strongroom: the KSR is refused: KSR-POLICY-SIG-HORIZON"),
        "{err}"
    );
}

// ---- 5. ceremony configuration files --------------------------------------------------------

/// `[hsm] embedded` with KSK1 as ksk_current, `ds_sha256` as given.
fn embedded_config(ds: &str, extra: &str) -> String {
    format!(
        "[hsm]\nembedded = {{ token = \"T\" }}\n\n[keys.ksk_current]\nlabel = \"KSK1\"\n\
         algorithm = \"RSASHA256\"\nvalid_from = \"2009-06-01T00:00:00+00:00\"\n\
         ds_sha256 = \"{ds}\"\n{extra}"
    )
}

fn config_sign_args(
    token: &Token,
    ksr: &Path,
    config: &Path,
    out: &Path,
    now: &str,
    extra: &[String],
) -> Vec<String> {
    let mut args = strings(&["ksr", "sign", &display(ksr)]);
    args.extend([
        "--config".into(),
        display(config),
        "--out".into(),
        display(out),
        "--now".into(),
        now.into(),
        "--yes".into(),
    ]);
    args.extend(token.access());
    args.extend_from_slice(extra);
    args
}

#[test]
fn ksr_sign_with_a_config_checks_the_ksk_identity() {
    let env = Env::new();
    let token = ceremony_token(&env);
    let ds = ksk1_ds(&env, &token);
    // The DS the token reports is the one computed here from the PEM's public key.
    let dnskey = key_ds(&env, &token.source());
    let line = dnskey.lines().find(|l| l.contains(" DNSKEY ")).unwrap();
    assert_eq!(ds, ds_sha256(&dnskey_rdata(line)));

    let config = env.file("ceremony.toml", embedded_config(&ds, "key_tag = 5017\n"));
    let skr = env.path("skr.xml");
    let run = env.run(&config_sign_args(
        &token,
        &fixture(KSR_2018),
        &config,
        &skr,
        NOW_2018,
        &[],
    ));
    run.ok();
    let transcript = std::fs::read_to_string(transcript_of(&skr)).unwrap();
    let config_bytes = std::fs::read(&config).unwrap();
    assert!(
        transcript.contains(&format!(
            "Configuration: {}\n  SHA-256 {}\n",
            display(&config),
            sha256_hex(&config_bytes)
        )),
        "{transcript}"
    );
    assert!(transcript.lines().any(|l| l == "PASS KSK-IDENTITY"));
    assert!(
        !transcript.contains("no ds_sha256 configured"),
        "{transcript}"
    );
    assert_eq!(signatures(&skr).len(), 9);

    // One hex digit off: the key in the token is not the configured KSK.
    let mut wrong = ds.clone();
    let last = if wrong.ends_with('0') { "1" } else { "0" };
    wrong.replace_range(63..64, last);
    let bad_config = env.file("wrong-ds.toml", embedded_config(&wrong, ""));
    let refused = env.path("refused.xml");
    let err = env
        .run(&config_sign_args(
            &token,
            &fixture(KSR_2018),
            &bad_config,
            &refused,
            NOW_2018,
            &[],
        ))
        .fails()
        .to_string();
    assert!(
        err.lines()
            .any(|l| l.starts_with("FAIL KSK-IDENTITY") && l.contains(&wrong) && l.contains(&ds)),
        "{err}"
    );
    assert!(
        err.trim_end()
            .ends_with("strongroom: the KSK checks failed: KSK-IDENTITY"),
        "{err}"
    );
    assert!(
        !err.contains("Sign KSR?"),
        "asked to sign with the wrong key: {err}"
    );
    assert!(!refused.exists(), "an SKR was written with the wrong key");
    let transcript = std::fs::read_to_string(transcript_of(&refused)).unwrap();
    assert!(
        transcript.contains("ABORTED: the KSK checks failed: KSK-IDENTITY"),
        "{transcript}"
    );
}

#[test]
fn the_legacy_chain_step_2010_q1_is_reproduced_byte_for_byte() {
    let env = Env::new();
    let token = ceremony_token(&env);
    let ds = ksk1_ds(&env, &token);
    // Relaxations for the 2010 KSR; the previous SKR (2009-q4-2) has 6 bundles.
    let config = env.file(
        "legacy.toml",
        embedded_config(
            &ds,
            &format!(
                "key_tag = 5017\nrsa_size = 2048\nrsa_exponent = 65537\n\n\
                 [request_policy]\n{LEGACY_RELAXATIONS}\n[response_policy]\nnum_bundles = 6\n"
            ),
        ),
    );
    let skr = env.path("skr-root-2010-q1-0.xml");
    let previous = fixture("legacy/skr-root-2009-q4-2.xml");
    let run = env.run(&config_sign_args(
        &token,
        &fixture("ksr-root-2010-q1-0.xml"),
        &config,
        &skr,
        "2009-12-01T00:00:00",
        &["--previous-skr".into(), display(&previous)],
    ));
    run.ok();
    let transcript = std::fs::read_to_string(transcript_of(&skr)).unwrap();
    let previous_hex = sha256_hex(&std::fs::read(&previous).unwrap());
    assert!(
        transcript.contains(&format!(
            "Previous SKR: {}\n  SHA-256 {previous_hex}\n",
            display(&previous)
        )),
        "{transcript}"
    );
    // With the previous SKR the chain checks run (the overlap one is relaxed).
    for check in ["KSR-CHAIN-KEYS", "KSR-CHAIN-KEYS-HSM", "KSR-POLICY-SAFETY"] {
        assert!(
            transcript.lines().any(|l| l == format!("PASS {check}")),
            "no PASS {check}: {transcript}"
        );
    }
    assert!(
        transcript.contains("SKIP KSR-CHAIN-OVERLAP"),
        "{transcript}"
    );
    assert!(!transcript.contains("FAIL "), "{transcript}");

    let ours = signatures(&skr);
    let legacy = signatures(&fixture("legacy/skr-root-2010-q1-0.xml"));
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        legacy.keys().collect::<Vec<_>>()
    );
    let mut compared = 0;
    for (bundle, theirs) in &legacy {
        assert_eq!(
            &ours[bundle], theirs,
            "bundle {bundle}: SignatureData differs from the legacy tool's"
        );
        compared += theirs.len();
    }
    assert_eq!(compared, 9);
    assert_eq!(
        key_sets(&skr),
        key_sets(&fixture("legacy/skr-root-2010-q1-0.xml"))
    );
}

// ---- 6. the same through PKCS#11 ------------------------------------------------------------

/// `[hsm] pkcs11` for `module`, KSK1 as ksk_current on `signing_path`.
fn pkcs11_config(module: &Path, token: &str, pin: &Path, ds: &str, signing_path: &str) -> String {
    format!(
        "[hsm]\npkcs11 = {{ module = \"{}\", token = \"{token}\", pin_file = \"{}\" }}\n\n\
         [keys.ksk_current]\nlabel = \"KSK1\"\nalgorithm = \"RSASHA256\"\n\
         valid_from = \"2009-06-01T00:00:00+00:00\"\nds_sha256 = \"{ds}\"\nkey_tag = 5017\n\
         signing_path = \"{signing_path}\"\n",
        module.display(),
        pin.display()
    )
}

/// Signs the 2018 KSR with the config through `module` on both signing paths and checks the
/// SKRs against the embedded token's.
fn sign_through_module(
    env: &Env,
    module: &Path,
    token_label: &str,
    pin: &Path,
    ds: &str,
    embedded: &Path,
) {
    for path in ["host-padding", "token-hashing"] {
        let name = format!("{token_label}-{path}");
        let config = env.file(
            &format!("{name}.toml"),
            pkcs11_config(module, token_label, pin, ds, path),
        );
        let skr = env.path(&format!("{name}.xml"));
        let mut args = strings(&["ksr", "sign", &display(&fixture(KSR_2018))]);
        args.extend(strings(&[
            "--config",
            &display(&config),
            "--out",
            &display(&skr),
            "--now",
            NOW_2018,
            "--yes",
        ]));
        let run = env.run(&args);
        run.ok();
        assert!(
            run.stderr.contains(&format!(
                "HSM: PKCS#11 module {}, token \"{token_label}\"",
                module.display()
            )),
            "{name}: {run:#?}"
        );
        assert!(run.stderr.lines().any(|l| l == "PASS KSK-IDENTITY"));
        assert_eq!(
            signatures(&skr),
            signatures(embedded),
            "{name}: SignatureData differs from the embedded token's"
        );
        assert_eq!(key_sets(&skr), key_sets(embedded), "{name}");
        env.run(&[
            "skr",
            "verify",
            &display(&skr),
            "--ksr",
            &display(&fixture(KSR_2018)),
        ])
        .ok();
    }
    // `key ds` through the module reports the same key.
    let ds_out = key_ds(
        env,
        &strings(&[
            "--module",
            &display(module),
            "--token-label",
            token_label,
            "--pin-file",
            &display(pin),
        ]),
    );
    assert!(
        ds_out.contains(&format!(". 172800 IN DS 5017 8 2 {ds}\n")),
        "{ds_out}"
    );
}

#[test]
fn ksr_sign_through_pkcs11_matches_the_embedded_token() {
    let env = Env::new();
    let token = ceremony_token(&env);
    let ds = ksk1_ds(&env, &token);
    let embedded = env.path("embedded.xml");
    env.run(&sign_2018_args(&token, &embedded, &["--yes"])).ok();

    let openssl = tool("openssl");
    let Some(openssl) = openssl else { return };
    let pk8 = env.path("ksk1.pk8");
    env.tool(
        &openssl,
        &[
            "pkcs8",
            "-topk8",
            "-nocrypt",
            "-in",
            &display(&fixture("legacy/rsa2048-1.key")),
            "-out",
            &display(&pk8),
        ],
    )
    .ok();
    let mut ran = Vec::new();

    // SoftHSM 2.6.1, KSK1 imported with softhsm2-util.
    let softhsm_util = tool("softhsm2-util");
    let softhsm = Path::new(SOFTHSM).is_file().then(|| PathBuf::from(SOFTHSM));
    if softhsm.is_none() {
        skipped(SOFTHSM, "missing (apt-get install softhsm2)");
    }
    if let (Some(util), Some(softhsm)) = (softhsm_util, softhsm) {
        env.softhsm();
        env.tool(
            &util,
            &[
                "--init-token",
                "--free",
                "--label",
                "SH",
                "--so-pin",
                "5678",
                "--pin",
                "1234",
            ],
        )
        .ok();
        env.tool(
            &util,
            &[
                "--import",
                &display(&pk8),
                "--token",
                "SH",
                "--label",
                "KSK1",
                "--id",
                "01",
                "--pin",
                "1234",
            ],
        )
        .ok();
        let pin = env.secret("softhsm.pin", "1234");
        sign_through_module(&env, &softhsm, "SH", &pin, &ds, &embedded);
        ran.push("softhsm");
    }

    // Our own module on a fresh token directory, set up with pkcs11-tool as for any module.
    let pkcs11_tool = tool("pkcs11-tool");
    let module = strongroom_module();
    if module.is_none() {
        skipped(
            "libstrongroom_pkcs11.so",
            "not built (cargo build -p pkcs11-shim)",
        );
    }
    if let (Some(pkcs11_tool), Some(module)) = (pkcs11_tool, module) {
        let own = Env::new();
        let m = display(&module);
        own.tool(
            &pkcs11_tool,
            &[
                "--module",
                &m,
                "--init-token",
                "--slot-index",
                "0",
                "--label",
                "OWN",
                "--so-pin",
                "5678",
            ],
        )
        .ok();
        own.tool(
            &pkcs11_tool,
            &[
                "--module",
                &m,
                "--token-label",
                "OWN",
                "--login",
                "--login-type",
                "so",
                "--so-pin",
                "5678",
                "--init-pin",
                "--new-pin",
                "1234",
            ],
        )
        .ok();
        let der = own.path("ksk1.der");
        own.tool(
            &openssl,
            &[
                "pkcs8",
                "-topk8",
                "-nocrypt",
                "-in",
                &display(&fixture("legacy/rsa2048-1.key")),
                "-outform",
                "DER",
                "-out",
                &display(&der),
            ],
        )
        .ok();
        own.tool(
            &pkcs11_tool,
            &[
                "--module",
                &m,
                "--token-label",
                "OWN",
                "--login",
                "--pin",
                "1234",
                "--write-object",
                &display(&der),
                "--type",
                "privkey",
                "--label",
                "KSK1",
                "--id",
                "01",
            ],
        )
        .ok();
        let pin = own.secret("own.pin", "1234");
        sign_through_module(&own, &module, "OWN", &pin, &ds, &embedded);
        ran.push("strongroom");
    }
    eprintln!("PKCS#11 ceremony runs matched the embedded token on: {ran:?}");
}

// ---- 7. rrset, key ds, key trust-anchor -----------------------------------------------------

#[test]
fn rrset_verify_accepts_the_real_root_signatures_and_pins_a_flipped_one() {
    let env = Env::new();
    let zone = fixture("root-dnskey-rrsig-2023-2026.zone");
    let anchors = fixture("root-anchors.xml");
    let out = env
        .run(&[
            "rrset",
            "verify",
            &display(&zone),
            "--anchor",
            &display(&anchors),
        ])
        .ok()
        .to_string();
    assert!(
        out.contains(
            "102 signatures, 102 verified, 0 failed (DNSKEY RRsets checked against the trust anchors)"
        ),
        "{out}"
    );
    assert_eq!(out.lines().filter(|l| l.ends_with(": ok")).count(), 102);

    let old = fixture("root-dnskey-rrsig-2012-06-15.zone");
    let out = env
        .run(&["rrset", "verify", &display(&old)])
        .ok()
        .to_string();
    assert!(out.contains("1 signatures, 1 verified, 0 failed"), "{out}");
    assert!(out.contains("tag 19036"), "{out}");
    let out = env
        .run(&[
            "rrset",
            "verify",
            &display(&old),
            "--anchor",
            &display(&anchors),
        ])
        .ok()
        .to_string();
    assert!(out.contains("1 signatures, 1 verified, 0 failed"), "{out}");

    // The 50th RRSIG with one base64 character of its signature changed.
    let text = std::fs::read_to_string(&zone).unwrap();
    let mut offset = 0;
    let mut seen = 0;
    let mut at = None;
    for line in text.split_inclusive('\n') {
        if !line.starts_with(';') && line.contains("\tRRSIG\t") {
            seen += 1;
            if seen == 50 {
                // Fields after RRSIG: DNSKEY 8 0 172800 EXP INC TAG . BASE64…
                let rest = &line[line.find("\tRRSIG\t").unwrap()..];
                let signer = rest.find(" . ").unwrap() + " . ".len();
                at = Some(offset + line.find("\tRRSIG\t").unwrap() + signer + 30);
            }
        }
        offset += line.len();
    }
    assert_eq!(seen, 102);
    let tampered = env.file("tampered.zone", flip_char_at(&text, at.unwrap()));
    let err = env
        .run(&[
            "rrset",
            "verify",
            &display(&tampered),
            "--anchor",
            &display(&anchors),
        ])
        .fails()
        .to_string();
    assert!(
        err.contains("102 signatures, 101 verified, 1 failed"),
        "{err}"
    );
    let failed: Vec<&str> = err.lines().filter(|l| l.contains("FAILED")).collect();
    assert_eq!(failed.len(), 1, "{err}");
    assert!(failed[0].contains("RRSIG #50 "), "{err}");
}

#[test]
fn rrset_sign_key_ds_and_trust_anchor_agree_with_independent_checks() {
    let env = Env::new();
    let token = ceremony_token(&env);

    // key ds: the tag, the DNSKEY and the DS, each recomputed here.
    let ds_out = key_ds(&env, &token.source());
    assert!(
        ds_out.starts_with("; key \"KSK1\": tag 5017 (revoked: 5145)\n"),
        "{ds_out}"
    );
    let dnskey_line = ds_out
        .lines()
        .find(|l| l.starts_with(". 172800 IN DNSKEY 257 3 8 "))
        .unwrap_or_else(|| panic!("no DNSKEY line: {ds_out}"))
        .to_string();
    let rdata = dnskey_rdata(&dnskey_line);
    assert_eq!(key_tag(&rdata), 5017);
    let mut revoked = rdata.clone();
    revoked[1] |= 0x80;
    assert_eq!(key_tag(&revoked), 5145);
    let ds = ds_sha256(&rdata);
    let ds_line = format!(". 172800 IN DS 5017 8 2 {ds}");
    assert!(ds_out.lines().any(|l| l == ds_line), "{ds_out}");
    let words = pgp_words::to_words(&hex::decode(&ds).unwrap()).join(" ");
    assert!(
        ds_out.contains(&format!("; DS SHA-256 in PGP words: {words}\n")),
        "{ds_out}"
    );

    // ldns computes the same DS from the DNSKEY line.
    if let Some(key2ds) = tool("ldns-key2ds") {
        let file = env.file("Kksk1.key", format!("{dnskey_line}\n"));
        let ldns = env
            .tool(&key2ds, &["-n", "-2", &display(&file)])
            .ok()
            .to_string();
        let fields: Vec<&str> = ldns.split_whitespace().collect();
        assert_eq!(fields[3..7], ["DS", "5017", "8", "2"], "{ldns}");
        assert_eq!(fields[7].to_uppercase(), ds, "{ldns}");
    }

    // key trust-anchor: an RFC 9718 document the crate's reader takes, with the same DS.
    let mut args = strings(&[
        "key",
        "trust-anchor",
        "KSK1",
        "--valid-from",
        "2010-07-15T00:00:00",
    ]);
    args.extend(token.source());
    let xml = env.run(&args).ok().to_string();
    let anchor = signer::dnssec::TrustAnchor::parse(&xml).unwrap_or_else(|e| panic!("{e}: {xml}"));
    assert_eq!(anchor.zone, ".");
    assert_eq!(anchor.digests.len(), 1, "{xml}");
    let digest = &anchor.digests[0];
    assert_eq!(digest.id, "KSK1");
    assert_eq!(digest.key_tag, 5017);
    assert_eq!((digest.algorithm, digest.digest_type), (8, 2));
    assert_eq!(hex::encode_upper(&digest.digest), ds);
    assert_eq!(digest.valid_from, "2010-07-15T00:00:00+00:00");
    assert_eq!(digest.valid_until, None);
    let anchor_file = env.file("ksk1-anchor.xml", &xml);

    // rrset sign: the 2012 root DNSKEY RRset without its RRSIG, signed by KSK1.
    let original = std::fs::read_to_string(fixture("root-dnskey-rrsig-2012-06-15.zone")).unwrap();
    let keys_only: String = original
        .lines()
        .filter(|l| !l.contains("\tRRSIG\t"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(keys_only.matches("\tDNSKEY\t").count(), 2);
    let keys_file = env.file("keys.zone", keys_only);
    let mut args = strings(&[
        "rrset",
        "sign",
        &display(&keys_file),
        "--key",
        "KSK1",
        "--inception",
        "20120610000000",
        "--expiration",
        "2012-06-24T23:59:59",
    ]);
    args.extend(token.source());
    let signed = env.run(&args).ok().to_string();
    assert!(
        signed
            .lines()
            .any(|l| l == format!("{dnskey_line} ; tag 5017")),
        "the KSK's DNSKEY is missing: {signed}"
    );
    for tag in [56158, 19036] {
        assert!(signed.contains(&format!("; tag {tag}\n")), "{signed}");
    }
    let rrsig: Vec<&str> = signed.lines().filter(|l| l.contains(" RRSIG ")).collect();
    assert_eq!(rrsig.len(), 1, "{signed}");
    assert!(
        rrsig[0].starts_with(
            ". 172800 IN RRSIG DNSKEY 8 0 172800 20120624235959 20120610000000 5017 . "
        ),
        "{signed}"
    );
    let signed_file = env.file("signed.zone", &signed);
    let out = env
        .run(&["rrset", "verify", &display(&signed_file)])
        .ok()
        .to_string();
    assert!(out.contains("1 signatures, 1 verified, 0 failed"), "{out}");
    assert!(
        out.contains("tag 5017") && out.contains("over 3 records"),
        "{out}"
    );
    // Chained to KSK1's own trust anchor, and not to the real root's.
    let out = env
        .run(&[
            "rrset",
            "verify",
            &display(&signed_file),
            "--anchor",
            &display(&anchor_file),
        ])
        .ok()
        .to_string();
    assert!(out.contains("1 signatures, 1 verified, 0 failed"), "{out}");
    let err = env
        .run(&[
            "rrset",
            "verify",
            &display(&signed_file),
            "--anchor",
            &display(&fixture("root-anchors.xml")),
        ])
        .fails()
        .to_string();
    assert!(err.contains("1 signatures, 0 verified, 1 failed"), "{err}");
}
