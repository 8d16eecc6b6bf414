//! An independent verifier for what the ceremony produces: dnspython 2.7.0 (installed in
//! `target/interop/venv` by `.ci/run`) validates every KSK signature of SKRs made by the
//! `strongroom` binary, and the output of `strongroom rrset sign`.
//!
//! The script below reads the SKR with nothing but `xml.etree`: for each ResponseBundle it
//! builds the DNSKEY RRset from the `<Key>` elements and, for each `<Signature>`, an RRSIG
//! record (times converted to YYYYMMDDHHMMSS), then asks `dns.dnssec.validate` — one RRSIG at
//! a time, so that one good signature cannot hide a bad one — at inception + 1 s. The control
//! (IANA's own 2018 SKR and the legacy tool's 2010 roll) shows the script itself is right.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use strongroom_tests::{REQUIRE_TOOLS_ENV, Scratch, interop};

/// The legacy chain's ceremony configuration, shared with the signer's ceremony tests.
#[path = "../../signer/tests/support/legacy.rs"]
mod legacy;

use legacy::{LEGACY_KSK_POLICY, LEGACY_RELAXATIONS, LEGACY_ROLL_SCHEMA};

const STRONGROOM: &str = env!("CARGO_BIN_EXE_strongroom-under-test");

const KSR_2018: &str = "ksr-root-2018-q1-0-d_to_e.xml";
const NOW_2018: &str = "2017-11-01T00:00:00";
/// Bundle 4 of the 2018 KSR, whose signature the tamper test flips.
const BUNDLE_4_2018: &str = "bf4e1b34-b469-4dee-86df-0cfe867bbe5c";

/// The independent verifier. `skr FILE`: every signature of every bundle; `zone FILE`:
/// every RRSIG of a zone text (one RRset per owner and type, as `rrset sign` writes). Prints
/// one `OK`/`FAIL` line per signature and `VALIDATED n`; exits 1 if any signature fails.
const VERIFY_PY: &str = r#"
import calendar
import sys
import time
import xml.etree.ElementTree as ET

import dns.dnssec
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.version
import dns.zone

ROOT = dns.name.root
IN = dns.rdataclass.IN


def epoch(xsd):
    text = xsd.strip()
    for suffix in ("+00:00", "Z"):
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%S"))


def rrsig_time(xsd):
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(epoch(xsd)))


def child(element, name):
    found = element.find(name)
    if found is None or found.text is None:
        raise ValueError("<%s> has no <%s>" % (element.tag, name))
    return found.text.strip()


def check(what, rrset, rrsig, keys):
    sigset = dns.rrset.from_rdata(rrset.name, rrset.ttl, rrsig)
    try:
        dns.dnssec.validate(rrset, sigset, keys, now=float(rrsig.inception + 1))
    except Exception as e:  # ValidationFailure, UnsupportedAlgorithm, ...
        print("FAIL %s tag=%d: %s: %s" % (what, rrsig.key_tag, type(e).__name__, e))
        return False
    signer = [
        k for k in keys[rrsig.signer]
        if dns.dnssec.key_id(k) == rrsig.key_tag and k.algorithm == rrsig.algorithm
    ]
    flags = ",".join(str(k.flags) for k in signer)
    print("OK %s tag=%d flags=%s" % (what, rrsig.key_tag, flags))
    return True


def skr(path):
    root = ET.parse(path).getroot()
    if root.tag != "KSR":
        raise ValueError("root element <%s>" % root.tag)
    bundles = root.findall("./Response/ResponseBundle")
    if not bundles:
        raise ValueError("no ResponseBundle")
    good = bad = 0
    for bundle in bundles:
        bid = bundle.get("id")
        keys = bundle.findall("Key")
        sigs = bundle.findall("Signature")
        if not keys or not sigs:
            raise ValueError("bundle %s: %d keys, %d signatures" % (bid, len(keys), len(sigs)))
        ttl = int(child(keys[0], "TTL"))
        rdatas = [
            dns.rdata.from_text(IN, dns.rdatatype.DNSKEY, "%s %s %s %s" % (
                child(k, "Flags"), child(k, "Protocol"), child(k, "Algorithm"),
                child(k, "PublicKey")))
            for k in keys
        ]
        rrset = dns.rrset.from_rdata_list(ROOT, ttl, rdatas)
        for s in sigs:
            rrsig = dns.rdata.from_text(IN, dns.rdatatype.RRSIG, "%s %s %s %s %s %s %s %s %s" % (
                child(s, "TypeCovered"), child(s, "Algorithm"), child(s, "Labels"),
                child(s, "OriginalTTL"), rrsig_time(child(s, "SignatureExpiration")),
                rrsig_time(child(s, "SignatureInception")), int(child(s, "KeyTag")),
                child(s, "SignersName"), child(s, "SignatureData")))
            if check("bundle=%s" % bid, rrset, rrsig, {ROOT: rrset}):
                good += 1
            else:
                bad += 1
    return good, bad


def zone(path):
    with open(path) as f:
        text = f.read()
    z = dns.zone.from_text(text, origin=ROOT, relativize=False, check_origin=False)
    good = bad = 0
    for name, node in z.nodes.items():
        keys = node.get_rdataset(IN, dns.rdatatype.DNSKEY)
        for rdataset in node.rdatasets:
            if rdataset.rdtype != dns.rdatatype.RRSIG:
                continue
            for rrsig in rdataset:
                covered = node.get_rdataset(IN, rrsig.type_covered)
                rrset = dns.rrset.from_rdata_list(name, covered.ttl, list(covered))
                what = "%s/%s" % (name, dns.rdatatype.to_text(rrsig.type_covered))
                if keys is None:
                    print("FAIL %s: no DNSKEY RRset at %s" % (what, name))
                    bad += 1
                elif check(what, rrset, rrsig, {name: keys}):
                    good += 1
                else:
                    bad += 1
    return good, bad


def main():
    mode, path = sys.argv[1], sys.argv[2]
    print("dnspython %s" % dns.version.version)
    good, bad = {"skr": skr, "zone": zone}[mode](path)
    print("VALIDATED %d" % good)
    if bad or not good:
        print("FAILED %d" % bad)
        sys.exit(1)


main()
"#;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/ksr")
        .join(name)
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

/// The venv's Python with dnspython, and the script written into `scratch`.
struct Verifier {
    python: PathBuf,
    script: PathBuf,
}

/// What the verifier said about one file.
#[derive(Debug)]
struct Verdict {
    success: bool,
    validated: usize,
    ok: Vec<String>,
    failed: Vec<String>,
    text: String,
}

impl Verifier {
    fn new(scratch: &Scratch) -> Option<Self> {
        let python = interop()?.join("venv/bin/python");
        let probe = Command::new(&python)
            .args(["-c", "import dns.dnssec, cryptography"])
            .output()
            .unwrap();
        if !probe.status.success() {
            let why = String::from_utf8_lossy(&probe.stderr).to_string();
            if std::env::var_os(REQUIRE_TOOLS_ENV).is_some_and(|v| v == "1") {
                panic!("dnspython is not usable in {}: {why}", python.display());
            }
            eprintln!(
                "\n*** SKIPPED: dnspython is not usable ({why}); this test did NOT run ***\n"
            );
            return None;
        }
        let script = scratch.path().join("verify_dnssec.py");
        std::fs::write(&script, VERIFY_PY).unwrap();
        Some(Self { python, script })
    }

    fn run(&self, mode: &str, file: &Path) -> Verdict {
        let output = Command::new(&self.python)
            .arg(&self.script)
            .arg(mode)
            .arg(file)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout).to_string()
            + &String::from_utf8_lossy(&output.stderr);
        assert!(
            text.starts_with("dnspython 2.7.0\n"),
            "not the pinned dnspython: {text}"
        );
        let lines = |prefix: &str| -> Vec<String> {
            text.lines()
                .filter_map(|l| l.strip_prefix(prefix))
                .map(str::to_string)
                .collect()
        };
        let validated = lines("VALIDATED ")
            .first()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no VALIDATED line: {text}"));
        Verdict {
            success: output.status.success(),
            validated,
            ok: lines("OK "),
            failed: lines("FAIL "),
            text,
        }
    }

    /// Asserts that every signature validates and that there are `expected` of them.
    #[track_caller]
    fn accepts(&self, mode: &str, file: &Path, expected: usize) -> Verdict {
        let verdict = self.run(mode, file);
        assert!(
            verdict.success && verdict.failed.is_empty(),
            "dnspython refused {}:\n{}",
            file.display(),
            verdict.text
        );
        assert_eq!(verdict.validated, expected, "{}", verdict.text);
        assert_eq!(verdict.ok.len(), expected, "{}", verdict.text);
        verdict
    }
}

/// The `strongroom` binary on a scratch configuration with a 2-of-3 token "T".
struct Ceremony {
    scratch: Scratch,
    access: Vec<String>,
}

impl Ceremony {
    /// Makes the token with `token init` and imports the legacy test keys given as
    /// (label, n) from `fixtures/ksr/legacy/rsa2048-n.key`.
    fn new(keys: &[(&str, u8)]) -> Self {
        let scratch = Scratch::new();
        let secret = |name: &str, value: &str| {
            let path = scratch.path().join(name);
            std::fs::write(&path, format!("{value}\n")).unwrap();
            std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
                .unwrap();
            display(&path)
        };
        let cards = scratch.path().join("cards");
        let card_pins: Vec<String> = (1..=3)
            .map(|i| secret(&format!("card-{i}.pin"), &format!("card-pin-{i}")))
            .collect();
        let user_pin = secret("user.pin", "user-pin-5678");
        let mut init = vec![
            "token".to_string(),
            "init".into(),
            "--label".into(),
            "T".into(),
            "--cards".into(),
            "3".into(),
            "--threshold".into(),
            "2".into(),
            "--card-dir".into(),
            display(&cards),
            "--so-pin-file".into(),
            secret("so.pin", "so-pin-1234"),
            "--pin-file".into(),
            user_pin.clone(),
        ];
        for pin in &card_pins {
            init.extend(["--card-pin-file".into(), pin.clone()]);
        }
        let mut ceremony = Self {
            scratch,
            access: Vec::new(),
        };
        ceremony.ok(&init);
        ceremony.access = vec![
            "--pin-file".into(),
            user_pin,
            "--card".into(),
            display(&cards.join("T-card-1-of-3.card")),
            "--card-pin-file".into(),
            card_pins[0].clone(),
            "--card".into(),
            display(&cards.join("T-card-3-of-3.card")),
            "--card-pin-file".into(),
            card_pins[2].clone(),
        ];
        for (label, n) in keys {
            let mut import = vec![
                "key".to_string(),
                "import".into(),
                "--token".into(),
                "T".into(),
                "--label".into(),
                (*label).into(),
                "--file".into(),
                display(&fixture(&format!("legacy/rsa2048-{n}.key"))),
            ];
            import.extend(ceremony.access.clone());
            ceremony.ok(&import);
        }
        ceremony
    }

    fn path(&self, name: &str) -> PathBuf {
        self.scratch.path().join(name)
    }

    fn run(&self, args: &[String]) -> Output {
        self.scratch
            .command(STRONGROOM)
            .current_dir(self.scratch.path())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// Runs `strongroom ARGS`, asserting success; returns stdout.
    fn ok(&self, args: &[String]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "strongroom {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).to_string()
    }

    /// `--token T` and the quorum.
    fn source(&self) -> Vec<String> {
        let mut args = vec!["--token".to_string(), "T".into()];
        args.extend(self.access.clone());
        args
    }

    /// The DS SHA-256 of `label` from `key ds --json`.
    fn ds(&self, label: &str) -> String {
        let mut args = vec![
            "key".to_string(),
            "ds".into(),
            label.into(),
            "--json".into(),
        ];
        args.extend(self.source());
        let json: serde_json::Value = serde_json::from_str(&self.ok(&args)).unwrap();
        json["ds_sha256"].as_str().unwrap().to_string()
    }

    /// `ksr sign` of the 2018 KSR with KSK1 (no config), as the ceremony test does.
    fn sign_2018(&self) -> PathBuf {
        let out = self.path("skr-2018.xml");
        let mut args = vec![
            "ksr".to_string(),
            "sign".into(),
            display(&fixture(KSR_2018)),
            "--out".into(),
            display(&out),
            "--ksk".into(),
            "KSK1".into(),
            "--now".into(),
            NOW_2018.into(),
            "--yes".into(),
        ];
        args.extend(self.source());
        self.ok(&args);
        out
    }
}

#[test]
fn dnspython_validates_the_skr_strongroom_signs() {
    let ceremony = Ceremony::new(&[("KSK1", 1)]);
    let Some(verifier) = Verifier::new(&ceremony.scratch) else {
        return;
    };
    let skr = ceremony.sign_2018();
    let verdict = verifier.accepts("skr", &skr, 9);
    assert!(
        verdict
            .ok
            .iter()
            .all(|l| l.ends_with(" tag=5017 flags=257")),
        "{}",
        verdict.text
    );
    assert!(
        verdict
            .ok
            .iter()
            .any(|l| l.starts_with(&format!("bundle={BUNDLE_4_2018} "))),
        "{}",
        verdict.text
    );
}

#[test]
fn dnspython_validates_iana_s_real_2018_skr() {
    // The control: the script on IANA's own SKR (KSK-2010 signs slot 1, KSK-2017 slots 2–9).
    let scratch = Scratch::new();
    let Some(verifier) = Verifier::new(&scratch) else {
        return;
    };
    let verdict = verifier.accepts("skr", &fixture("skr-root-2018-q1-0-d_to_e.xml"), 9);
    let tags = |tag: &str| {
        verdict
            .ok
            .iter()
            .filter(|l| l.contains(&format!(" tag={tag} ")))
            .count()
    };
    assert_eq!((tags("19036"), tags("20326")), (1, 8), "{}", verdict.text);
}

#[test]
fn dnspython_refuses_one_flipped_character_and_names_the_bundle() {
    let ceremony = Ceremony::new(&[("KSK1", 1)]);
    let Some(verifier) = Verifier::new(&ceremony.scratch) else {
        return;
    };
    let skr = ceremony.sign_2018();
    let xml = std::fs::read_to_string(&skr).unwrap();
    let bundle = xml
        .find(&format!("<ResponseBundle id=\"{BUNDLE_4_2018}\""))
        .unwrap();
    let at = bundle + xml[bundle..].find("<SignatureData>").unwrap() + "<SignatureData>".len() + 20;
    let old = xml.as_bytes()[at];
    assert!(old.is_ascii_alphanumeric() || old == b'+' || old == b'/');
    let mut tampered = xml.clone();
    tampered.replace_range(at..=at, if old == b'A' { "B" } else { "A" });
    let file = ceremony.path("tampered.xml");
    std::fs::write(&file, tampered).unwrap();

    let verdict = verifier.run("skr", &file);
    assert!(!verdict.success, "{}", verdict.text);
    assert_eq!(verdict.validated, 8, "{}", verdict.text);
    assert_eq!(verdict.failed.len(), 1, "{}", verdict.text);
    assert!(
        verdict.failed[0].starts_with(&format!("bundle={BUNDLE_4_2018} tag=5017: ")),
        "{}",
        verdict.text
    );
}

/// Counts of OK lines by "tag=T flags=F".
fn signers(verdict: &Verdict) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for line in &verdict.ok {
        let signer = line.split_once(' ').unwrap().1.to_string();
        *counts.entry(signer).or_insert(0) += 1;
    }
    counts
}

#[test]
fn dnspython_validates_the_legacy_roll_with_the_revoked_key() {
    let ceremony = Ceremony::new(&[("KSK1", 1), ("KSK2", 2)]);
    let Some(verifier) = Verifier::new(&ceremony.scratch) else {
        return;
    };
    let config = ceremony.path("legacy-roll.toml");
    std::fs::write(
        &config,
        format!(
            "[hsm]\nembedded = {{ token = \"T\" }}\n\n\
             [keys.ksk_current]\nlabel = \"KSK1\"\nalgorithm = \"RSASHA256\"\n\
             valid_from = \"2009-06-01T00:00:00+00:00\"\nkey_tag = 5017\nds_sha256 = \"{}\"\n\n\
             [keys.ksk_next]\nlabel = \"KSK2\"\nalgorithm = \"RSASHA256\"\n\
             valid_from = \"2010-01-01T00:00:00+00:00\"\nkey_tag = 55186\nds_sha256 = \"{}\"\n\n\
             {LEGACY_KSK_POLICY}\n[request_policy]\n{LEGACY_RELAXATIONS}\n{LEGACY_ROLL_SCHEMA}",
            ceremony.ds("KSK1"),
            ceremony.ds("KSK2"),
        ),
    )
    .unwrap();
    let out = ceremony.path("skr-root-2010-q2-0.xml");
    let mut args = vec![
        "ksr".to_string(),
        "sign".into(),
        display(&fixture("ksr-root-2010-q2-0.xml")),
        "--config".into(),
        display(&config),
        "--schema".into(),
        "legacy-roll".into(),
        "--previous-skr".into(),
        display(&fixture("legacy/skr-root-2010-q1-0.xml")),
        "--now".into(),
        "2010-03-01T00:00:00".into(),
        "--out".into(),
        display(&out),
        "--yes".into(),
    ];
    args.extend(ceremony.access.clone());
    ceremony.ok(&args);

    // dnspython does not refuse a revoked key as the signer (it only needs the ZONE bit),
    // so all 11 validate, the two by KSK1 under its revoked tag among them.
    let ours = verifier.accepts("skr", &out, 11);
    let expected: std::collections::BTreeMap<String, usize> = [
        ("tag=5017 flags=257".to_string(), 6),
        ("tag=5145 flags=385".to_string(), 2),
        ("tag=55186 flags=257".to_string(), 3),
    ]
    .into();
    assert_eq!(signers(&ours), expected, "{}", ours.text);
    // The legacy tool's own SKR, the control, gives the same picture.
    let legacy = verifier.accepts("skr", &fixture("legacy/skr-root-2010-q2-0.xml"), 11);
    assert_eq!(signers(&legacy), expected, "{}", legacy.text);
}

#[test]
fn dnspython_validates_rrset_sign_output() {
    let ceremony = Ceremony::new(&[("KSK1", 1)]);
    let Some(verifier) = Verifier::new(&ceremony.scratch) else {
        return;
    };
    // Control: the real 2012 root DNSKEY RRset and its RRSIG by KSK-2010.
    let real = fixture("root-dnskey-rrsig-2012-06-15.zone");
    let control = verifier.accepts("zone", &real, 1);
    assert_eq!(
        control.ok,
        ["./DNSKEY tag=19036 flags=257"],
        "{}",
        control.text
    );

    let keys = ceremony.path("keys.zone");
    let text: String = std::fs::read_to_string(&real)
        .unwrap()
        .lines()
        .filter(|l| !l.contains("\tRRSIG\t"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&keys, text).unwrap();
    let mut args = vec![
        "rrset".to_string(),
        "sign".into(),
        display(&keys),
        "--key".into(),
        "KSK1".into(),
        "--inception".into(),
        "20260101000000".into(),
        "--expiration".into(),
        "2026-01-22T00:00:00".into(),
    ];
    args.extend(ceremony.source());
    let signed = ceremony.path("signed.zone");
    std::fs::write(&signed, ceremony.ok(&args)).unwrap();
    let verdict = verifier.accepts("zone", &signed, 1);
    assert_eq!(
        verdict.ok,
        ["./DNSKEY tag=5017 flags=257"],
        "{}",
        verdict.text
    );

    // The other signing path too: the token hashes (CKM_SHA256_RSA_PKCS).
    args.push("--token-hashing".into());
    let hashed = ceremony.path("signed-token-hashing.zone");
    std::fs::write(&hashed, ceremony.ok(&args)).unwrap();
    verifier.accepts("zone", &hashed, 1);
}
