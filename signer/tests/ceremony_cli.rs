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

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use sha2::{Digest, Sha256};
use signer::ksr::{Body, Bundle, KsrDocument, parse_document};
use support::cli::{Env, Run, Token, display, init_token, strings};
use support::fixtures::{BUNDLE_1_2018, REAL_KSRS, ksr_fixture, legacy_key};
use support::legacy::LEGACY_RELAXATIONS;
use support::modules::{SOFTHSM, strongroom_module_or_workspace_build};
use support::{REQUIRE_TOOLS_ENV, tools_required};

const KSR_2018: &str = "ksr-root-2018-q1-0-d_to_e.xml";
/// A day of the ceremony that signed the 2018-Q1 KSR (the horizon check's clock).
const NOW_2018: &str = "2017-11-01T00:00:00";
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

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode_upper(Sha256::digest(bytes))
}

// ---- interop tools and modules --------------------------------------------------------------

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
    if tools_required() {
        panic!("{what} is {why} and {REQUIRE_TOOLS_ENV}=1");
    }
    eprintln!("\n*** SKIPPED: {what} is {why}; this part of the test did NOT run ***\n");
}

// ---- the quorum token -----------------------------------------------------------------------

/// Cards 1 and 3 of the 2-of-3 tokens: a quorum.
const QUORUM: [usize; 2] = [1, 3];

impl Token {
    /// `--token LABEL` and the [`QUORUM`].
    fn source(&self) -> Vec<String> {
        let mut args = vec!["--token".to_string(), self.label.clone()];
        args.extend(self.access(&QUORUM));
        args
    }
}

/// `token init` of a 2-of-3 token `label`.
fn make_token(env: &Env, label: &str) -> Token {
    let (token, init) = init_token(env, label, 3, 2);
    assert!(init.contains("quorum 2 of 3"), "{init}");
    token
}

/// `key import` of the legacy test key `n` (1: KSK1, tag 5017; 2: KSK2, tag 55186).
fn import_test_key(env: &Env, token: &Token, label: &str, n: u8) {
    let mut args = strings(&["key", "import", "--token", &token.label, "--label", label]);
    args.extend(["--file".into(), display(&legacy_key(n))]);
    args.extend(token.access(&QUORUM));
    let out = env.run(&args).ok().to_string();
    assert!(out.contains(&format!("\"{label}\"")), "{out}");
}

/// A scratch environment with a 2-of-3 token "T" holding KSK1.
fn ceremony() -> (Env, Token) {
    let env = Env::new();
    let token = make_token(&env, "T");
    import_test_key(&env, &token, "KSK1", 1);
    (env, token)
}

/// `ksr sign KSR --out OUT --ksk KSK1 --token T [quorum] --now NOW_2018` (+ `extra`).
fn sign_2018_args(token: &Token, out: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = strings(&["ksr", "sign", &display(&ksr_fixture(KSR_2018))]);
    args.extend(["--out".into(), display(out), "--ksk".into(), "KSK1".into()]);
    args.extend(token.source());
    args.extend(["--now".into(), NOW_2018.into()]);
    args.extend(strings(extra));
    args
}

/// The transcript `ksr sign --out OUT` writes by default.
fn read_transcript(out: &Path) -> String {
    let mut name = out.as_os_str().to_owned();
    name.push(".transcript.txt");
    std::fs::read_to_string(name).unwrap()
}

// ---- SKR helpers ----------------------------------------------------------------------------

fn parse(path: &Path) -> KsrDocument {
    parse_document(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What `of` lists of every bundle, sorted, by bundle id.
fn per_bundle<T: Ord>(path: &Path, of: impl Fn(&Bundle) -> Vec<T>) -> BTreeMap<String, Vec<T>> {
    let Body::Response(response) = parse(path).body else {
        panic!("{} is not an SKR", path.display());
    };
    response
        .bundles
        .iter()
        .map(|b| {
            let mut items = of(b);
            items.sort();
            (b.id.clone(), items)
        })
        .collect()
}

/// Every bundle's signatures, by bundle id: (RRSIG key tag, SignatureData), sorted.
fn signatures(path: &Path) -> BTreeMap<String, Vec<(u16, Vec<u8>)>> {
    per_bundle(path, |b| {
        b.signatures
            .iter()
            .map(|s| (s.key_tag, s.signature_data.clone()))
            .collect()
    })
}

/// Every bundle's DNSKEY set, by bundle id: (flags, algorithm, public key), sorted.
fn key_sets(path: &Path) -> BTreeMap<String, Vec<(u16, u8, Vec<u8>)>> {
    per_bundle(path, |b| {
        b.keys
            .iter()
            .map(|k| (k.flags, k.algorithm, k.public_key.clone()))
            .collect()
    })
}

/// `skr verify SKR --ksr` the 2018 KSR.
fn verify_2018(env: &Env, skr: &Path) -> Run {
    env.run(&[
        "skr",
        "verify",
        &display(skr),
        "--ksr",
        &display(&ksr_fixture(KSR_2018)),
    ])
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

/// Every real IANA KSR passes `strongroom ksr check` — the KSR checks and the KSK checks in
/// the token — with only the relaxations the fixtures README documents for it, given as the
/// ceremony configuration's `[request_policy]`, and the clock at its first inception.
#[test]
fn every_real_ksr_passes_ksr_check_with_its_documented_relaxations() {
    let (env, token) = ceremony();
    let ds = ksk1_ds(&env, &token);
    for (name, bytes, relaxations) in REAL_KSRS {
        let ksr = parse_document(bytes).unwrap();
        let Body::Request(request) = &ksr.body else {
            panic!("{name} is not a KSR")
        };
        let first = request.bundles.iter().map(|b| b.inception).min().unwrap();
        let config = env.file(
            &format!("{name}.toml"),
            embedded_config(
                &ds,
                &format!("\n[request_policy]\n{}\n", relaxations.join("\n")),
            ),
        );
        let mut args = strings(&["ksr", "check", &display(&ksr_fixture(name))]);
        args.extend([
            "--config".into(),
            display(&config),
            "--now".into(),
            first.to_xsd(),
        ]);
        args.extend(token.access(&QUORUM));
        let run = env.run(&args);
        run.ok();
        let text = &run.stderr;
        assert!(
            text.contains("All checks passed; nothing was signed."),
            "{name} with {relaxations:?}: {run:#?}"
        );
        assert!(!text.contains("FAIL "), "{name}: {text}");
        for id in [
            "KSR-BUNDLE-POP",
            "KSR-BUNDLE-KEYS",
            "KSK-IDENTITY",
            "KSK-VALIDITY",
        ] {
            assert!(
                text.contains(&format!("PASS {id}")),
                "{name}: {id} missing:\n{text}"
            );
        }
    }
}

// ---- 1. ksr sign, the transcript, skr verify ------------------------------------------------

#[test]
fn ksr_sign_writes_the_skr_and_a_transcript_that_skr_verify_accepts() {
    let (env, token) = ceremony();
    let skr = env.path("skr.xml");
    let run = env.run(&sign_2018_args(&token, &skr, &["--yes"]));
    assert!(run.ok().is_empty(), "ksr sign printed on stdout: {run:#?}");
    let skr_bytes = std::fs::read(&skr).unwrap();
    let transcript = read_transcript(&skr);
    // Everything shown goes to the transcript (with --yes nothing is typed).
    assert_eq!(
        transcript, run.stderr,
        "the transcript differs from the screen"
    );

    let ksr_bytes = std::fs::read(ksr_fixture(KSR_2018)).unwrap();
    let ksr_digest = Sha256::digest(&ksr_bytes);
    let ksr_hex = hex::encode_upper(ksr_digest);
    let ksr_words = pgp_words::to_words(&ksr_digest).join(" ");
    assert!(
        transcript.contains(&format!("KSR: {}\n", display(&ksr_fixture(KSR_2018)))),
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
    let ksr_doc = parse(&ksr_fixture(KSR_2018));
    let skr_doc = parse(&skr);
    assert_eq!(skr_doc.id, ksr_doc.id);
    let sigs = signatures(&skr);
    assert_eq!(sigs.len(), 9);
    assert!(sigs.values().all(|s| s.len() == 1 && s[0].0 == 5017));

    let verify = verify_2018(&env, &skr);
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
    let verify = verify_2018(&env, &tampered);
    let err = verify.fails_after_transcript();
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
    let (env, token) = ceremony();
    let question = "Sign KSR? Confirm with \"Yes\" (exactly) or anything else to abort: ";

    for (name, answer) in [("lower", "yes\n"), ("eof", ""), ("spaced", " Yes\n")] {
        let skr = env.path(&format!("{name}.xml"));
        let run = env.run_with_stdin(&sign_2018_args(&token, &skr, &[]), answer);
        let err = run.fails_after_transcript();
        let typed = answer.trim_end_matches('\n');
        assert!(
            err.contains(&format!("aborted: the answer was {typed:?}, not \"Yes\"")),
            "{name}: {err}"
        );
        assert!(!skr.exists(), "{name}: an SKR was written after {answer:?}");
        let transcript = read_transcript(&skr);
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
    let transcript = read_transcript(&skr);
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
    let (env, token) = ceremony();
    let skr = env.path("skr.xml");
    env.run_with_stdin(&sign_2018_args(&token, &skr, &[]), "no\n")
        .fails_after_transcript();
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
    let (env, token) = ceremony();
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
    let err = run.fails_after_transcript();
    assert!(err.contains(&display(&old)), "{err}");
    assert!(
        !skr.exists(),
        "the SKR was written although the run failed: {run:#?}"
    );
}

// ---- 3. --out is never overwritten ----------------------------------------------------------

#[test]
fn an_existing_out_file_is_refused_untouched() {
    let (env, token) = ceremony();
    let skr = env.file("skr.xml", b"last quarter's SKR, precious");
    let err = env
        .run(&sign_2018_args(&token, &skr, &["--yes"]))
        .fails_after_transcript()
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
    let mut args = strings(&["ksr", "check", &display(&ksr_fixture(ksr)), "--ksk", "KSK1"]);
    args.extend(token.source());
    if let Some(now) = now {
        args.extend(["--now".into(), now.into()]);
    }
    args
}

#[test]
fn ksr_check_refuses_the_bad_pop_and_the_stale_clock_and_accepts_the_good_ksr() {
    let (env, token) = ceremony();

    let err = env
        .run(&check_args(&token, "ksr.bad.xml", Some(NOW_2018)))
        .fails_after_transcript()
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
        .fails_after_transcript()
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
    args.extend(token.access(&QUORUM));
    args.extend_from_slice(extra);
    args
}

#[test]
fn ksr_sign_with_a_config_checks_the_ksk_identity() {
    let (env, token) = ceremony();
    let ds = ksk1_ds(&env, &token);
    // The DS the token reports is the one computed here from the PEM's public key.
    let dnskey = key_ds(&env, &token.source());
    let line = dnskey.lines().find(|l| l.contains(" DNSKEY ")).unwrap();
    assert_eq!(ds, ds_sha256(&dnskey_rdata(line)));

    let config = env.file("ceremony.toml", embedded_config(&ds, "key_tag = 5017\n"));
    let skr = env.path("skr.xml");
    let run = env.run(&config_sign_args(
        &token,
        &ksr_fixture(KSR_2018),
        &config,
        &skr,
        NOW_2018,
        &[],
    ));
    run.ok();
    let transcript = read_transcript(&skr);
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
            &ksr_fixture(KSR_2018),
            &bad_config,
            &refused,
            NOW_2018,
            &[],
        ))
        .fails_after_transcript()
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
    let transcript = read_transcript(&refused);
    assert!(
        transcript.contains("ABORTED: the KSK checks failed: KSK-IDENTITY"),
        "{transcript}"
    );
}

#[test]
fn the_legacy_chain_step_2010_q1_is_reproduced_byte_for_byte() {
    let (env, token) = ceremony();
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
    let previous = ksr_fixture("legacy/skr-root-2009-q4-2.xml");
    let run = env.run(&config_sign_args(
        &token,
        &ksr_fixture("ksr-root-2010-q1-0.xml"),
        &config,
        &skr,
        "2009-12-01T00:00:00",
        &["--previous-skr".into(), display(&previous)],
    ));
    run.ok();
    let transcript = read_transcript(&skr);
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
    let legacy = signatures(&ksr_fixture("legacy/skr-root-2010-q1-0.xml"));
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
        key_sets(&ksr_fixture("legacy/skr-root-2010-q1-0.xml"))
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

/// Signs the 2018 KSR with the config through `module` (its token `token_label`, user PIN
/// 1234) on both signing paths and checks the SKRs against the embedded token's.
fn sign_through_module(env: &Env, module: &Path, token_label: &str, ds: &str, embedded: &Path) {
    let pin = &env.secret(&format!("{token_label}.pin"), "1234");
    for path in ["host-padding", "token-hashing"] {
        let name = format!("{token_label}-{path}");
        let config = env.file(
            &format!("{name}.toml"),
            pkcs11_config(module, token_label, pin, ds, path),
        );
        let skr = env.path(&format!("{name}.xml"));
        let mut args = strings(&["ksr", "sign", &display(&ksr_fixture(KSR_2018))]);
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
        verify_2018(env, &skr).ok();
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

/// KSK1 as an unencrypted PKCS#8 file `out`, made by openssl (PEM unless `extra` says
/// otherwise).
fn ksk1_pkcs8(env: &Env, openssl: &Path, out: &Path, extra: &[&str]) {
    let (key, out) = (display(&legacy_key(1)), display(out));
    let mut args = vec!["pkcs8", "-topk8", "-nocrypt", "-in", &key];
    args.extend(extra);
    args.extend(["-out", &out]);
    env.tool(openssl, &args).ok();
}

#[test]
fn ksr_sign_through_pkcs11_matches_the_embedded_token() {
    let (env, token) = ceremony();
    let ds = ksk1_ds(&env, &token);
    let embedded = env.path("embedded.xml");
    env.run(&sign_2018_args(&token, &embedded, &["--yes"])).ok();

    let openssl = tool("openssl");
    let Some(openssl) = openssl else { return };
    let pk8 = env.path("ksk1.pk8");
    ksk1_pkcs8(&env, &openssl, &pk8, &[]);
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
        sign_through_module(&env, &softhsm, "SH", &ds, &embedded);
        ran.push("softhsm");
    }

    // Our own module on a fresh token directory, set up with pkcs11-tool as for any module.
    let pkcs11_tool = tool("pkcs11-tool");
    let module = strongroom_module_or_workspace_build();
    if module.is_none() {
        skipped(
            "libstrongroom_pkcs11.so",
            "not built (cargo build -p pkcs11-shim)",
        );
    }
    if let (Some(pkcs11_tool), Some(module)) = (pkcs11_tool, module) {
        let own = Env::new();
        let m = display(&module);
        let p11 = |args: &[&str]| {
            let mut all = vec!["--module", &m];
            all.extend(args);
            own.tool(&pkcs11_tool, &all).ok();
        };
        p11(&[
            "--init-token",
            "--slot-index",
            "0",
            "--label",
            "OWN",
            "--so-pin",
            "5678",
        ]);
        p11(&[
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
        ]);
        let der = own.path("ksk1.der");
        ksk1_pkcs8(&own, &openssl, &der, &["-outform", "DER"]);
        p11(&[
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
        ]);
        sign_through_module(&own, &module, "OWN", &ds, &embedded);
        ran.push("strongroom");
    }
    eprintln!("PKCS#11 ceremony runs matched the embedded token on: {ran:?}");
}

// ---- 7. rrset, key ds, key trust-anchor -----------------------------------------------------

#[test]
fn rrset_verify_accepts_the_real_root_signatures_and_pins_a_flipped_one() {
    let env = Env::new();
    let zone = ksr_fixture("root-dnskey-rrsig-2023-2026.zone");
    let anchors = ksr_fixture("root-anchors.xml");
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

    let old = ksr_fixture("root-dnskey-rrsig-2012-06-15.zone");
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
        .fails_after_transcript()
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
    let (env, token) = ceremony();

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
    let original =
        std::fs::read_to_string(ksr_fixture("root-dnskey-rrsig-2012-06-15.zone")).unwrap();
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
            &display(&ksr_fixture("root-anchors.xml")),
        ])
        .fails_after_transcript()
        .to_string();
    assert!(err.contains("1 signatures, 0 verified, 1 failed"), "{err}");
}
