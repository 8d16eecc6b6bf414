//! `strongroom ksr sign`, `ksr check` and `skr verify`: the ceremony as the administrator
//! runs it. Every file is shown by name, SHA-256 and PGP words; every check is printed by its
//! id; nothing is signed before the operator answers "Yes"; everything shown goes to the
//! transcript.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::json;

use super::integrity::{Transcript, confirm, digest_lines};
use super::keyinfo::now as system_now;
use crate::admin::Output;
use crate::admin::activation::KeyAccess;
use crate::admin::open_hsm;
use crate::ceremony::{
    CeremonyConfig, HsmConfig, Ksk, KskChecks, Schema, build_skr, check_ksks, format_bundle_table,
    verify_skr,
};
use crate::error::{CliError, CliResult, fail, in_file};
use crate::keystore::{EmbeddedStore, KeyStore, Pkcs11Store};
use crate::ksr::{Body, KsrDocument, MAX_DOCUMENT_BYTES, Timestamp, parse_document, write_skr};
use crate::policy::{CheckId, CheckReport, check_chain, check_request};
use hsm_core::Hsm;

/// What `ksr sign` and `ksr check` are given.
#[derive(Debug, Clone)]
pub struct CeremonyArgs {
    pub ksr: PathBuf,
    pub config: Option<PathBuf>,
    pub previous_skr: Option<PathBuf>,
    pub schema: String,
    pub now: Option<String>,
    /// Without `--config`: the KSK labels and the embedded token.
    pub ksk_labels: Vec<String>,
    pub token: Option<String>,
    /// PIN and cards for an embedded token.
    pub access: KeyAccess,
    /// Where the transcript goes (`ksr sign`: next to the SKR by default).
    pub transcript: Option<PathBuf>,
    /// An embedded HSM already open (the demo's scratch one); else the configured one.
    pub hsm: Option<Arc<Hsm>>,
    /// Keep the transcript without showing it as it is made (the demo prints it whole).
    pub quiet: bool,
}

/// Everything read and checked before any key is used.
struct Prepared {
    config: CeremonyConfig,
    ksr: KsrDocument,
    previous: Option<KsrDocument>,
    now: Timestamp,
    report: CheckReport,
}

/// Reads a KSR or SKR file (refusing anything over 1 MiB before reading it whole).
pub fn read_document(role: &str, path: &Path) -> CliResult<(Vec<u8>, KsrDocument)> {
    let size = in_file(path, std::fs::metadata(path))?.len();
    if size > MAX_DOCUMENT_BYTES as u64 {
        return fail(format!(
            "{}: the {role} is {size} bytes; more than 1 MiB is refused",
            path.display()
        ));
    }
    let bytes = in_file(path, std::fs::read(path))?;
    let document = in_file(path, parse_document(&bytes))?;
    Ok((bytes, document))
}

fn prepare(args: &CeremonyArgs, transcript: &mut Transcript) -> CliResult<Prepared> {
    let config = match &args.config {
        Some(path) => {
            let (config, bytes) = in_file(path, CeremonyConfig::load(path))?;
            transcript.show(&digest_lines("Configuration", path, &bytes));
            config
        }
        None => {
            let Some(token) = &args.token else {
                return fail("without --config, name the embedded token: --token LABEL");
            };
            if args.ksk_labels.is_empty() {
                return fail("without --config, name the KSK: --ksk LABEL (twice for a roll)");
            }
            transcript.show(&format!(
                "Configuration: none given; IANA's default policy, schema {:?}, KSK(s) {} on embedded token {token:?}\n",
                args.schema,
                args.ksk_labels.join(", ")
            ));
            CeremonyConfig::default_for(&args.ksk_labels, token)
                .map_err(|e| CliError(e.to_string()))?
        }
    };
    let (bytes, ksr) = read_document("KSR", &args.ksr)?;
    transcript.show(&digest_lines("KSR", &args.ksr, &bytes));
    let previous = match &args.previous_skr {
        Some(path) => {
            let (bytes, document) = read_document("previous SKR", path)?;
            transcript.show(&digest_lines("Previous SKR", path, &bytes));
            Some(document)
        }
        None => {
            transcript.show(
                "Previous SKR: none given; the daisy chain with the last SKR is NOT validated\n",
            );
            None
        }
    };
    let now = match &args.now {
        Some(text) => {
            let now = Timestamp::parse_xsd(text).map_err(|e| CliError(format!("--now: {e}")))?;
            transcript.show(&format!(
                "Clock: {} (given with --now, not the system clock)\n",
                now.to_xsd()
            ));
            now
        }
        None => {
            let now = system_now()?;
            transcript.show(&format!("Clock: {} (system clock)\n", now.to_xsd()));
            now
        }
    };
    let mut report = check_request(&ksr, &config.request_policy, now);
    if let Some(previous) = &previous {
        report.merge(check_chain(
            &ksr,
            previous,
            &config.request_policy,
            &config.response_policy,
        ));
    }
    Ok(Prepared {
        config,
        ksr,
        previous,
        now,
        report,
    })
}

/// Opens the configured key store.
fn open_store(args: &CeremonyArgs, config: &CeremonyConfig) -> CliResult<Box<dyn KeyStore>> {
    let access = &args.access;
    match &config.hsm {
        HsmConfig::Embedded { token } => {
            let hsm = match &args.hsm {
                Some(hsm) => Arc::clone(hsm),
                None => Arc::new(open_hsm()?),
            };
            Ok(Box::new(
                EmbeddedStore::open(hsm, token, access).map_err(|e| CliError(e.to_string()))?,
            ))
        }
        HsmConfig::Pkcs11 { module, token, .. } => {
            let pin = config.hsm.read_pin().map_err(|e| CliError(e.to_string()))?;
            Ok(Box::new(
                Pkcs11Store::open(module, token, pin).map_err(|e| CliError(e.to_string()))?,
            ))
        }
    }
}

/// The plan the operator approves: per bundle its dates, ZSK tags and what each KSK does.
fn plan_table(ksr: &KsrDocument, schema: &Schema, keys: &[Ksk]) -> String {
    let Body::Request(request) = &ksr.body else {
        return String::new();
    };
    let mut bundles: Vec<_> = request.bundles.iter().collect();
    bundles.sort_by_key(|b| b.expiration);
    let tag = |name: &str, revoked: bool| {
        keys.iter().find(|k| k.name == name).map_or_else(
            || name.to_string(),
            |k| {
                let tag = if revoked { k.revoked_tag() } else { k.tag() };
                format!("{tag}({})", k.label)
            },
        )
    };
    let mut out = format!("Plan (schema {:?}):\n", schema.name);
    for (i, (bundle, slot)) in bundles.iter().zip(&schema.slots).enumerate() {
        let zsks: Vec<String> = bundle.keys.iter().map(|k| k.key_tag.to_string()).collect();
        let mut ksks: Vec<String> = Vec::new();
        for name in slot.revoke.iter() {
            let role = if slot.sign.contains(name) { "RS" } else { "R" };
            ksks.push(format!("{}/{role}", tag(name, true)));
        }
        for name in slot.publish.iter().chain(&slot.sign) {
            if slot.revoke.contains(name) || ksks.iter().any(|k| k.contains(&tag(name, false))) {
                continue;
            }
            let role = if slot.sign.contains(name) { "S" } else { "P" };
            ksks.push(format!("{}/{role}", tag(name, false)));
        }
        out.push_str(&format!(
            "{:>2} {} {} {} {}\n",
            i + 1,
            bundle.inception.to_xsd(),
            bundle.expiration.to_xsd(),
            zsks.join(","),
            ksks.join(" ")
        ));
    }
    out
}

/// Opens the HSM and runs the KSK checks of the chosen schema, showing both.
fn hsm_checks(
    args: &CeremonyArgs,
    prepared: &Prepared,
    transcript: &mut Transcript,
) -> CliResult<(Box<dyn KeyStore>, Schema, KskChecks)> {
    let store = open_store(args, &prepared.config)?;
    transcript.show(&format!("HSM: {}\n", store.describe()));
    let schema = prepared
        .config
        .schema(&args.schema, bundle_count(&prepared.ksr))
        .map_err(|e| CliError(e.to_string()))?;
    let ksks = check_ksks(
        &prepared.ksr,
        &prepared.config,
        &schema,
        store.as_ref(),
        prepared.previous.as_ref(),
    )
    .map_err(|e| CliError(e.to_string()))?;
    transcript.show(&report_text(&ksks.report));
    Ok((store, schema, ksks))
}

/// `ksr check`: every check, the KSK ones in the HSM included; signs nothing.
pub fn check(args: &CeremonyArgs) -> CliResult<Output> {
    let mut transcript = match &args.transcript {
        Some(path) => Transcript::claim(path, !args.quiet)?,
        None => Transcript::new(None),
    };
    let result = check_with(args, &mut transcript);
    if let Err(e) = &result {
        transcript.keep(&format!("REFUSED: {e}\n"));
    }
    let saved = transcript.save();
    let output = result?;
    saved?;
    Ok(output)
}

fn check_with(args: &CeremonyArgs, transcript: &mut Transcript) -> CliResult<Output> {
    let prepared = prepare(args, transcript)?;
    // The KSR's own checks are shown first: they need no HSM, and an HSM that cannot be
    // opened must not hide them.
    transcript.show(&report_text(&prepared.report));
    let (_store, schema, ksks) = hsm_checks(args, &prepared, transcript)?;
    let mut report = prepared.report.clone();
    report.merge(ksks.report);
    let keys: Vec<Ksk> = ksks.keys.into_values().collect();
    transcript.show(&plan_table(&prepared.ksr, &schema, &keys));
    let ok = report.is_ok();
    if !ok {
        return Err(CliError(format!("the KSR is refused: {}", ids(&report))));
    }
    transcript.show("All checks passed; nothing was signed.\n");
    Ok(Output {
        human: String::new(),
        json: json!({
            "ksr_id": prepared.ksr.id,
            "accepted": ok,
            "checks_passed": report.passed.len(),
        }),
    })
}

/// `ksr sign`: the checks, the plan, "Yes", the signatures, the SKR and its hash.
pub fn sign(args: &CeremonyArgs, out: &Path, assume_yes: bool) -> CliResult<Output> {
    if out.exists() {
        return fail(format!(
            "{}: already exists; the SKR is never written over a file",
            out.display()
        ));
    }
    let directory = match out.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if !directory.is_dir() {
        return fail(format!(
            "{}: no such directory for the SKR",
            directory.display()
        ));
    }
    let mut transcript = claim_transcript(args, out)?;
    let result = sign_with(args, out, assume_yes, &mut transcript);
    if let Err(e) = &result {
        transcript.keep(&format!("ABORTED: {e}\n"));
    }
    let saved = transcript.save();
    match (result, saved) {
        (Ok(output), Ok(())) => Ok(output),
        (Ok(_), Err(e)) => Err(CliError(format!(
            "the SKR {} was written, but its transcript was not: {e}",
            out.display()
        ))),
        (Err(e), Ok(())) => Err(e),
        (Err(e), Err(save)) => Err(CliError(format!("{e} (and the transcript: {save})"))),
    }
}

/// The transcript file, created before anything else happens: `--transcript` exactly (an
/// existing file is refused), else `SKR.transcript.txt`, or `SKR.transcript-N.txt` when an
/// earlier attempt left that name taken.
fn claim_transcript(args: &CeremonyArgs, out: &Path) -> CliResult<Transcript> {
    let echo = !args.quiet;
    if let Some(path) = &args.transcript {
        return Transcript::claim(path, echo);
    }
    for attempt in 1..=99 {
        let suffix = if attempt == 1 {
            ".transcript.txt".to_string()
        } else {
            format!(".transcript-{attempt}.txt")
        };
        let path = with_suffix(out, &suffix);
        if !path.exists() {
            return Transcript::claim(&path, echo);
        }
    }
    fail(format!(
        "{}: 99 transcripts of earlier attempts are next to it; give --transcript FILE",
        out.display()
    ))
}

fn sign_with(
    args: &CeremonyArgs,
    out: &Path,
    assume_yes: bool,
    transcript: &mut Transcript,
) -> CliResult<Output> {
    let prepared = prepare(args, transcript)?;
    transcript.show(&report_text(&prepared.report));
    if !prepared.report.is_ok() {
        return fail(format!("the KSR is refused: {}", ids(&prepared.report)));
    }
    let (store, schema, ksks) = hsm_checks(args, &prepared, transcript)?;
    if !ksks.report.is_ok() {
        return fail(format!("the KSK checks failed: {}", ids(&ksks.report)));
    }
    let keys: Vec<Ksk> = ksks.keys.into_values().collect();
    transcript.show(&plan_table(&prepared.ksr, &schema, &keys));
    if assume_yes {
        transcript.show("Sign KSR? Confirmed with --yes.\n");
    } else {
        confirm(transcript, "Sign KSR?")?;
    }
    let signed = build_skr(
        &prepared.ksr,
        &prepared.config,
        &args.schema,
        store.as_ref(),
        prepared.previous.as_ref(),
    )
    .map_err(|e| CliError(e.to_string()))?;
    // The KSK checks were shown before "Yes"; what is new is the SKR's own validation.
    let after = only(&signed.report, &[CheckId::SkrVerify, CheckId::PolicySafety]);
    transcript.show(&report_text(&after));
    transcript.show(&format_bundle_table(&signed.table));
    let bytes = write_skr(&signed.document);
    write_new_file(out, &bytes)?;
    transcript.show(&format!(
        "{} signatures made and verified in software ({} bundles); clock {}\n",
        signed.signatures,
        signed.table.len(),
        prepared.now.to_xsd()
    ));
    transcript.show(&digest_lines("SKR", out, &bytes));
    Ok(Output {
        human: String::new(),
        json: json!({
            "ksr_id": prepared.ksr.id,
            "skr": out.display().to_string(),
            "signatures": signed.signatures,
            "bundles": signed.table.len(),
        }),
    })
}

/// `skr verify`: every signature, bundle by bundle; with the KSR, that the SKR answers it.
pub fn verify(skr_path: &Path, ksr_path: Option<&Path>) -> CliResult<Output> {
    let (bytes, skr) = read_document("SKR", skr_path)?;
    let mut human = digest_lines("SKR", skr_path, &bytes);
    let ksr = match ksr_path {
        Some(path) => {
            let (bytes, document) = read_document("KSR", path)?;
            human.push_str(&digest_lines("KSR", path, &bytes));
            Some(document)
        }
        None => None,
    };
    let report = in_file(skr_path, verify_skr(&skr, ksr.as_ref()))?;
    for bundle in &report.bundles {
        human.push_str(&format!(
            "bundle {} ({}) {} – {}:",
            bundle.number,
            bundle.id,
            bundle.inception.to_xsd(),
            bundle.expiration.to_xsd()
        ));
        for s in &bundle.signatures {
            match &s.result {
                Ok(()) => human.push_str(&format!(" {}({})/ok", s.key_tag, s.key_identifier)),
                Err(why) => human.push_str(&format!(
                    " {}({})/FAILED: {why}",
                    s.key_tag, s.key_identifier
                )),
            }
        }
        human.push('\n');
        for problem in &bundle.problems {
            human.push_str(&format!("  problem: {problem}\n"));
        }
    }
    for problem in &report.problems {
        human.push_str(&format!("problem: {problem}\n"));
    }
    let total: usize = report.bundles.iter().map(|b| b.signatures.len()).sum();
    human.push_str(&format!(
        "{} of {total} signatures verified in {} bundles: {}\n",
        report.verified_signatures(),
        report.bundles.len(),
        if report.is_ok() { "VALID" } else { "INVALID" }
    ));
    if !report.is_ok() {
        return Err(CliError(human));
    }
    Ok(Output {
        json: json!({
            "skr_id": report.id,
            "bundles": report.bundles.len(),
            "signatures": total,
            "valid": true,
        }),
        human,
    })
}

/// A report as transcript lines, ending with a newline.
fn report_text(report: &CheckReport) -> String {
    let mut text = report.to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// The part of `report` about `ids`.
fn only(report: &CheckReport, ids: &[CheckId]) -> CheckReport {
    CheckReport {
        violations: report
            .violations
            .iter()
            .filter(|v| ids.contains(&v.id))
            .cloned()
            .collect(),
        warnings: report
            .warnings
            .iter()
            .filter(|w| ids.contains(&w.id))
            .cloned()
            .collect(),
        passed: report
            .passed
            .iter()
            .filter(|id| ids.contains(id))
            .copied()
            .collect(),
        skipped: report
            .skipped
            .iter()
            .filter(|(id, _)| ids.contains(id))
            .cloned()
            .collect(),
    }
}

fn bundle_count(ksr: &KsrDocument) -> usize {
    match &ksr.body {
        Body::Request(r) => r.bundles.len(),
        Body::Response(r) => r.bundles.len(),
    }
}

fn ids(report: &CheckReport) -> String {
    report
        .failed()
        .iter()
        .map(|id| id.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Writes `bytes` to a new file (never over an existing one), synced before returning.
fn write_new_file(path: &Path, bytes: &[u8]) -> CliResult<()> {
    let mut file = in_file(
        path,
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(path),
    )?;
    in_file(path, file.write_all(bytes))?;
    in_file(path, file.sync_all())
}
