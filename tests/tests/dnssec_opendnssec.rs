//! OpenDNSSEC 2.1 with its keys in our token: the enforcer (ods-enforcerd, sqlite3 backend)
//! generates RSASHA256 and ECDSAP256SHA256 KSKs and ZSKs through the module (CKA_ID and
//! CKA_LABEL from C_GenerateRandom), ods-signerd signs two zones with them (one with NSEC,
//! one with NSEC3, 0 iterations, no salt), and the signed zones must pass ldns-verify-zone,
//! BIND's dnssec-verify and Knot's kzonecheck. Run on a PIN-only token, and on a 2-of-3
//! quorum token with both daemons started under `strongroom activate`; the PIN-only flow
//! also runs on SoftHSM for comparison (reported, not asserted).
//!
//! OpenDNSSEC keeps global state (`ods-enforcer-db-setup` reads only
//! `/etc/opendnssec/conf.xml`; the sockets and pid files are compiled in under
//! `/run/opendnssec`), so every run is in the one `#[test]` below, one after the other.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use strongroom_tests::zones::{
    init_token_script, pin_only_token, quorum_token, tools_present, verify_script, zone,
};
use strongroom_tests::{module_path, wrapped};

const PIN: &str = "1234";
const SO_PIN: &str = "123456";
const LABEL: &str = "ods";
const SOFTHSM: &str = "/usr/lib/softhsm/libsofthsm2.so";
const ETC_CONF: &str = "/etc/opendnssec/conf.xml";
/// (zone, DNSSEC algorithm number, denial of existence): KASP policies "rsa" and "ecdsa".
const ZONES: [(&str, &str, &str); 2] =
    [("example.com", "8", "NSEC"), ("example.net", "13", "NSEC3")];

/// The daemons' flow (from the proven recipe `01-opendnssec.sh`), run as one bash script so
/// that under `strongroom activate` every process it starts inherits the activation. Input
/// from the environment: O (work dir), M (module), LABEL, PIN.
const FLOW: &str = r#"set -euo pipefail
cd "$O"
mkdir -p unsigned signed signconf enforcer signer /run/opendnssec
# ods-signerd 2.1.12 sometimes segfaults during shutdown and then hangs, and "ods-signer
# stop" waits forever on it: stop politely with a deadline, then kill -9.
stop_daemon() {
    local pid=$1; shift
    [ -n "$pid" ] || return 0
    timeout 20 "$@" >/dev/null 2>&1 || true
    for i in $(seq 1 40); do
        case "$(ps -o stat= -p "$pid" 2>/dev/null)" in
            ""|Z*) wait "$pid" 2>/dev/null || true; return 0 ;;
        esac
        sleep 0.25
    done
    echo "(daemon $pid did not exit after '$*': killing it)" >&2
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    stop_daemon "${SIGNERD:-}" ods-signer stop
    stop_daemon "${ENFORCERD:-}" ods-enforcer stop
}
trap cleanup EXIT
# alive PID LOG -- fail fast, with the daemon's log, when it died
alive() { kill -0 "$1" 2>/dev/null || { echo "daemon died:" >&2; cat "$2" >&2; exit 1; }; }

# The test restores the original /etc/opendnssec/conf.xml afterwards.
cp conf.xml /etc/opendnssec/conf.xml
# Stale sockets and pid files from an earlier (killed) run make the clients fail.
rm -f /run/opendnssec/enforcer.sock /run/opendnssec/engine.sock \
      /run/opendnssec/enforcerd.pid /run/opendnssec/signerd.pid
ods-enforcer-db-setup -f
ods-enforcerd -c "$O/conf.xml" -d >enforcerd.log 2>&1 &
ENFORCERD=$!
for i in $(seq 1 80); do
    ods-enforcer policy list >/dev/null 2>&1 && break
    alive "$ENFORCERD" enforcerd.log; sleep 0.25
done
ods-enforcer policy import
for z in example.com:rsa example.net:ecdsa; do
    ods-enforcer zone add --zone "${z%%:*}" --policy "${z##*:}" \
        --signerconf "$O/signconf/${z%%:*}.xml" \
        --input "$O/unsigned/${z%%:*}" --output "$O/signed/${z%%:*}" --xml
done
# The enforcer generates the keys in the token, then writes the signer configurations.
for i in $(seq 1 120); do
    [ -s signconf/example.com.xml ] && [ -s signconf/example.net.xml ] && break
    alive "$ENFORCERD" enforcerd.log; sleep 0.25
done
ods-enforcer key list --verbose | tee keys.txt

ods-signerd -c "$O/conf.xml" -d >signerd.log 2>&1 &
SIGNERD=$!
for i in $(seq 1 80); do
    ods-signer zones >/dev/null 2>&1 && break
    alive "$SIGNERD" signerd.log; sleep 0.25
done
ods-signer sign --all
for i in $(seq 1 240); do
    grep -q RRSIG signed/example.com 2>/dev/null && grep -q RRSIG signed/example.net 2>/dev/null && break
    alive "$SIGNERD" signerd.log; sleep 0.25
done
sleep 1
stop_daemon "$SIGNERD" ods-signer stop; SIGNERD=
stop_daemon "$ENFORCERD" ods-enforcer stop; ENFORCERD=
# The keys are objects of the token.
pkcs11-tool --module "$M" --token-label "$LABEL" --login --pin "$PIN" -O --type privkey >objects.txt
"#;

/// Puts the original `/etc/opendnssec/conf.xml` back when dropped, even on a panic.
struct EtcConf(Option<Vec<u8>>);

impl EtcConf {
    fn save() -> Self {
        Self(std::fs::read(ETC_CONF).ok())
    }
}

impl Drop for EtcConf {
    fn drop(&mut self) {
        // Writing into the existing file keeps its owner and mode.
        let restored = match &self.0 {
            Some(original) => std::fs::write(ETC_CONF, original),
            None => std::fs::remove_file(ETC_CONF),
        };
        if let Err(e) = restored {
            eprintln!("\n*** could not restore {ETC_CONF}: {e} ***\n");
        }
    }
}

fn conf_xml(work: &Path, module: &str) -> String {
    let o = work.display();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Configuration>
  <RepositoryList>
    <Repository name="token">
      <Module>{module}</Module>
      <TokenLabel>{LABEL}</TokenLabel>
      <PIN>{PIN}</PIN>
    </Repository>
  </RepositoryList>
  <Common>
    <Logging><Verbosity>3</Verbosity></Logging>
    <PolicyFile>{o}/kasp.xml</PolicyFile>
    <ZoneListFile>{o}/zonelist.xml</ZoneListFile>
  </Common>
  <Enforcer>
    <Datastore><SQLite>{o}/kasp.db</SQLite></Datastore>
    <AutomaticKeyGenerationPeriod>P1Y</AutomaticKeyGenerationPeriod>
    <WorkingDirectory>{o}/enforcer</WorkingDirectory>
  </Enforcer>
  <Signer>
    <WorkingDirectory>{o}/signer</WorkingDirectory>
    <WorkerThreads>2</WorkerThreads>
    <SignerThreads>2</SignerThreads>
  </Signer>
</Configuration>
"#
    )
}

fn policy(name: &str, algorithm: &str, bits: u32, denial: &str) -> String {
    format!(
        r#"  <Policy name="{name}">
    <Description>{name} keys in the PKCS#11 token</Description>
    <Signatures>
      <Resign>PT2H</Resign><Refresh>P3D</Refresh>
      <Validity><Default>P14D</Default><Denial>P14D</Denial></Validity>
      <Jitter>PT12H</Jitter><InceptionOffset>PT3600S</InceptionOffset><MaxZoneTTL>P1D</MaxZoneTTL>
    </Signatures>
    <Denial>{denial}</Denial>
    <Keys>
      <TTL>PT3600S</TTL><RetireSafety>PT3600S</RetireSafety><PublishSafety>PT3600S</PublishSafety><Purge>P14D</Purge>
      <KSK><Algorithm length="{bits}">{algorithm}</Algorithm><Lifetime>P1Y</Lifetime><Repository>token</Repository></KSK>
      <ZSK><Algorithm length="{bits}">{algorithm}</Algorithm><Lifetime>P90D</Lifetime><Repository>token</Repository></ZSK>
    </Keys>
    <Zone><PropagationDelay>PT300S</PropagationDelay>
      <SOA><TTL>PT3600S</TTL><Minimum>PT3600S</Minimum><Serial>unixtime</Serial></SOA></Zone>
    <Parent><PropagationDelay>PT300S</PropagationDelay><DS><TTL>PT3600S</TTL></DS>
      <SOA><TTL>PT3600S</TTL><Minimum>PT3600S</Minimum></SOA></Parent>
  </Policy>
"#
    )
}

fn kasp_xml() -> String {
    let nsec3 = "<NSEC3><Resalt>P100D</Resalt><Hash><Algorithm>1</Algorithm><Iterations>0</Iterations><Salt length=\"0\"/></Hash></NSEC3>";
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<KASP>\n{}{}</KASP>\n",
        policy("rsa", "8", 2048, "<NSEC/>"),
        policy("ecdsa", "13", 256, nsec3)
    )
}

/// True when some RRSIG in `zone` was made with `algorithm`.
fn has_rrsig_with(zone: &str, algorithm: &str) -> bool {
    zone.lines().any(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        fields
            .iter()
            .position(|f| *f == "RRSIG")
            .is_some_and(|i| fields.get(i + 2) == Some(&algorithm))
    })
}

/// Runs the OpenDNSSEC flow in `work` against `module` (through `wrapper`, the
/// `strongroom activate ... --` words, if any), then checks and verifies the signed zones.
/// Returns the flow's output, or what went wrong.
fn opendnssec_flow(
    work: &Path,
    module: &str,
    env: &[(&str, String)],
    wrapper: &[String],
) -> Result<String, String> {
    for dir in ["unsigned", "signed"] {
        std::fs::create_dir_all(work.join(dir)).unwrap();
    }
    for (origin, ..) in ZONES {
        std::fs::write(work.join(format!("unsigned/{origin}")), zone(origin)).unwrap();
    }
    std::fs::write(work.join("conf.xml"), conf_xml(work, module)).unwrap();
    std::fs::write(work.join("kasp.xml"), kasp_xml()).unwrap();
    std::fs::write(
        work.join("zonelist.xml"),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ZoneList>\n</ZoneList>\n",
    )
    .unwrap();
    std::fs::write(work.join("ods.sh"), FLOW).unwrap();

    let mut command = wrapped(wrapper, "bash");
    command
        .arg(work.join("ods.sh"))
        .current_dir(work)
        .env("O", work)
        .env("M", module)
        .env("LABEL", LABEL)
        .env("PIN", PIN);
    for (k, v) in env {
        command.env(k, v);
    }
    let output = command
        .output()
        .map_err(|e| format!("cannot run bash: {e}"))?;
    let read = |name: &str| std::fs::read_to_string(work.join(name)).unwrap_or_default();
    let text = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    let daemon_logs = || {
        format!(
            "{text}\n--- enforcerd.log:\n{}\n--- signerd.log:\n{}",
            read("enforcerd.log"),
            read("signerd.log")
        )
    };
    if !output.status.success() {
        return Err(format!("the OpenDNSSEC flow failed:\n{}", daemon_logs()));
    }

    // Each zone has a KSK and a ZSK of its algorithm, which the enforcer generated in the
    // token: their CKA_IDs are those of private keys there (the enforcer also pre-generates
    // spare keys for its AutomaticKeyGenerationPeriod, so the token may hold more).
    let keys = read("keys.txt");
    let objects = read("objects.txt");
    for (origin, algorithm, _) in ZONES {
        for role in ["KSK", "ZSK"] {
            // Zone Keytype State Date Time Size Algorithm CKA_ID Repository KeyTag
            let id = keys.lines().find_map(|line| {
                let f: Vec<&str> = line.split_whitespace().collect();
                (f.len() == 10 && f[0] == origin && f[1] == role && f[6] == algorithm)
                    .then(|| f[7].to_string())
            });
            let Some(id) = id else {
                return Err(format!(
                    "no {role} with algorithm {algorithm} for {origin} in the key list:\n{keys}"
                ));
            };
            if !objects.contains(&format!("ID:         {id}\n")) {
                return Err(format!(
                    "the {role} of {origin} (CKA_ID {id}) is not a private key of the token:\n{objects}"
                ));
            }
        }
    }

    for (origin, algorithm, denial) in ZONES {
        let signed = read(&format!("signed/{origin}"));
        if !(signed.contains("DNSKEY")
            && has_rrsig_with(&signed, algorithm)
            && signed.contains(&format!("\t{denial}\t")))
        {
            return Err(format!(
                "signed/{origin} lacks DNSKEY, {denial} or RRSIGs with algorithm {algorithm}:\n{signed}\n{}",
                daemon_logs()
            ));
        }
        let verified = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!(
                "set -euo pipefail\n{}",
                verify_script(origin, &format!("signed/{origin}"))
            ))
            .current_dir(work)
            .output()
            .map_err(|e| format!("cannot run bash: {e}"))?;
        if !verified.status.success() {
            return Err(format!(
                "signed/{origin} did not verify:\n{}{}",
                String::from_utf8_lossy(&verified.stdout),
                String::from_utf8_lossy(&verified.stderr)
            ));
        }
    }
    Ok(text)
}

/// PIN-only token initialised through the module (C_InitToken, C_InitPIN).
fn pin_only() {
    let scratch = pin_only_token(LABEL, SO_PIN, PIN);
    let module = module_path().display().to_string();
    let env = [("STRONGROOM_CONF", scratch.conf().display().to_string())];
    if let Err(e) = opendnssec_flow(scratch.path(), &module, &env, &[]) {
        panic!("PIN-only token: {e}\nmodule log:\n{}", scratch.log());
    }
}

/// 2-of-3 quorum token; the whole flow (both daemons, the clients) under
/// `strongroom activate`, which hands the activation to every process it starts.
fn quorum_under_activate() {
    let (scratch, words) = quorum_token(
        env!("CARGO_BIN_EXE_strongroom-under-test"),
        LABEL,
        SO_PIN,
        PIN,
    );
    let module = module_path().display().to_string();
    let env = [("STRONGROOM_CONF", scratch.conf().display().to_string())];
    if let Err(e) = opendnssec_flow(scratch.path(), &module, &env, &words) {
        panic!(
            "quorum token under strongroom activate: {e}\nmodule log:\n{}",
            scratch.log()
        );
    }
}

/// The PIN-only flow on SoftHSM 2.6.1, for comparison: reported, never failing the test.
fn softhsm_comparison() {
    if !Path::new(SOFTHSM).exists() {
        eprintln!("\n*** SoftHSM comparison SKIPPED: {SOFTHSM} is not installed ***\n");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let env = [(
        "SOFTHSM2_CONF",
        strongroom_tests::softhsm_conf(dir.path())
            .display()
            .to_string(),
    )];
    let init = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "set -e\n{}",
            init_token_script(SOFTHSM, LABEL, SO_PIN, PIN)
        ))
        .envs(env.iter().map(|(k, v)| (*k, v)))
        .output();
    let result = match init {
        Ok(out) if out.status.success() => opendnssec_flow(dir.path(), SOFTHSM, &env, &[]),
        Ok(out) => Err(String::from_utf8_lossy(&out.stderr).to_string()),
        Err(e) => Err(e.to_string()),
    };
    match result {
        Ok(_) => eprintln!(
            "\n*** SoftHSM comparison: OpenDNSSEC on SoftHSM PASSED (keys, signing, 3 verifiers) ***\n"
        ),
        Err(e) => eprintln!(
            "\n*** SoftHSM comparison: OpenDNSSEC on SoftHSM FAILED (not a failure of this test) ***\n{e}\n*** end of SoftHSM comparison ***\n"
        ),
    }
}

#[test]
fn opendnssec_enforcer_and_signer() {
    if !tools_present(&[
        "ods-enforcer",
        "ods-enforcerd",
        "ods-signer",
        "ods-signerd",
        "ods-enforcer-db-setup",
    ]) {
        return;
    }
    // Restores /etc/opendnssec/conf.xml when this test ends, passing or not.
    let _etc = EtcConf::save();
    let started = std::time::Instant::now();
    pin_only();
    eprintln!(
        "OpenDNSSEC on a PIN-only token: passed ({:?})",
        started.elapsed()
    );
    let started = std::time::Instant::now();
    quorum_under_activate();
    eprintln!(
        "OpenDNSSEC on a quorum token under strongroom activate: passed ({:?})",
        started.elapsed()
    );
    let started = std::time::Instant::now();
    softhsm_comparison();
    eprintln!("SoftHSM comparison took {:?}", started.elapsed());
}
