//! What the checks found, by control id, worded to be read aloud in the ceremony.
//!
//! A check never stops at its first finding and one failing check never stops the others:
//! the operator sees everything wrong with a KSR at once, not one problem per ceremony
//! restart.

use std::fmt;

/// The control ids of reference §3 (kskm's, from the DPS mapping). Declared in the order the
/// ceremony runs them, which is the order a report prints them in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CheckId {
    /// The file is the kind of document the step needs (a KSR where a KSR is expected).
    DocumentKind,
    /// SKR(n-1) itself: bundle count and KSK signatures.
    PreviousSkr,
    KsrDomain,
    KsrId,
    BundleUnique,
    BundleKeys,
    BundlePop,
    BundleCount,
    BundleCycleDuration,
    PolicyKeys,
    PolicyAlg,
    PolicySigOverlap,
    PolicySigValidity,
    PolicySigHorizon,
    PolicyBundleIntervals,
    ChainKeys,
    ChainOverlap,
    /// Reported by the HSM side: SKR(n-1)'s signing keys are in the HSM.
    ChainKeysHsm,
    /// Reported by the HSM side: KSK valid_from/valid_until cover each bundle.
    KeyValidity,
    /// Reported by the HSM side: the HSM key is the configured KSK (DS, tag, size).
    KskIdentity,
    /// Reported by the signer: ZSK algorithms of a bundle = KSK signature algorithms.
    AlgorithmMatch,
    SkrVerify,
    PolicySafety,
}

impl CheckId {
    /// The id as the ceremony script and kskm's logs spell it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::DocumentKind => "DOCUMENT-KIND",
            Self::PreviousSkr => "PREVIOUS-SKR",
            Self::KsrDomain => "KSR-DOMAIN",
            Self::KsrId => "KSR-ID",
            Self::BundleUnique => "KSR-BUNDLE-UNIQUE",
            Self::BundleKeys => "KSR-BUNDLE-KEYS",
            Self::BundlePop => "KSR-BUNDLE-POP",
            Self::BundleCount => "KSR-BUNDLE-COUNT",
            Self::BundleCycleDuration => "KSR-BUNDLE-CYCLE-DURATION",
            Self::PolicyKeys => "KSR-POLICY-KEYS",
            Self::PolicyAlg => "KSR-POLICY-ALG",
            Self::PolicySigOverlap => "KSR-POLICY-SIG-OVERLAP",
            Self::PolicySigValidity => "KSR-POLICY-SIG-VALIDITY",
            Self::PolicySigHorizon => "KSR-POLICY-SIG-HORIZON",
            Self::PolicyBundleIntervals => "KSR-POLICY-BUNDLE-INTERVALS",
            Self::ChainKeys => "KSR-CHAIN-KEYS",
            Self::ChainOverlap => "KSR-CHAIN-OVERLAP",
            Self::ChainKeysHsm => "KSR-CHAIN-KEYS-HSM",
            Self::KeyValidity => "KSK-VALIDITY",
            Self::KskIdentity => "KSK-IDENTITY",
            Self::AlgorithmMatch => "KSK-ALGORITHM-MATCH",
            Self::SkrVerify => "SKR-VERIFY",
            Self::PolicySafety => "KSR-POLICY-SAFETY",
        }
    }
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which document a bundle number refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// The KSR being checked.
    Ksr,
    /// SKR(n-1), the SKR returned at the previous ceremony.
    PreviousSkr,
    /// The SKR made (or about to be made) at this ceremony.
    Skr,
}

/// A bundle as the operator finds it: its number after sorting by expiration (1-based, as
/// kskm counts and prints them) and its id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BundleRef {
    pub source: Source,
    /// 1-based position after sorting by expiration.
    pub index: usize,
    pub id: String,
}

impl fmt::Display for BundleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = match self.source {
            Source::Ksr => "",
            Source::PreviousSkr => "previous SKR ",
            Source::Skr => "SKR ",
        };
        write!(f, "{prefix}bundle {} ({})", self.index, self.id)
    }
}

/// A rule the document breaks: the ceremony must not sign it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub id: CheckId,
    /// The bundle concerned, when the finding is about one bundle.
    pub bundle: Option<BundleRef>,
    pub message: String,
}

/// Something the operator should hear about that does not stop the ceremony.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub id: CheckId,
    pub bundle: Option<BundleRef>,
    pub message: String,
}

fn write_finding(
    f: &mut fmt::Formatter<'_>,
    id: CheckId,
    bundle: Option<&BundleRef>,
    message: &str,
) -> fmt::Result {
    match bundle {
        Some(bundle) => write!(f, "{id} {bundle}: {message}"),
        None => write!(f, "{id}: {message}"),
    }
}

/// `KSR-BUNDLE-POP bundle 1 (0a8f7774-…): signature by key 46809 does not verify`.
impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_finding(f, self.id, self.bundle.as_ref(), &self.message)
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_finding(f, self.id, self.bundle.as_ref(), &self.message)
    }
}

/// The outcome of a group of checks. A check id is in exactly one of: `passed`, `skipped`,
/// or (having at least one violation) failed; warnings may accompany any of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    pub violations: Vec<Violation>,
    pub warnings: Vec<Warning>,
    pub passed: Vec<CheckId>,
    /// Checks not run, with the knob setting (or missing input) that turned them off.
    pub skipped: Vec<(CheckId, String)>,
}

impl CheckReport {
    /// No violations: as far as these checks go, the document may be signed.
    pub fn is_ok(&self) -> bool {
        self.violations.is_empty()
    }

    /// The ids with at least one violation, in ceremony order.
    pub fn failed(&self) -> Vec<CheckId> {
        let mut ids: Vec<CheckId> = self.violations.iter().map(|v| v.id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Whether `id` has at least one violation.
    pub fn has_violation(&self, id: CheckId) -> bool {
        self.violations.iter().any(|v| v.id == id)
    }

    /// The violations of one check.
    pub fn violations_of(&self, id: CheckId) -> impl Iterator<Item = &Violation> {
        self.violations.iter().filter(move |v| v.id == id)
    }

    /// Adds another report's findings (e.g. the chain checks after the KSR checks). An id that
    /// passed in one report and failed in the other counts as failed.
    pub fn merge(&mut self, other: CheckReport) {
        self.violations.extend(other.violations);
        self.warnings.extend(other.warnings);
        for id in other.passed {
            if !self.passed.contains(&id) {
                self.passed.push(id);
            }
        }
        self.skipped.extend(other.skipped);
        let failed = self.failed();
        self.passed.retain(|id| !failed.contains(id));
        let passed = self.passed.clone();
        self.skipped
            .retain(|(id, _)| !failed.contains(id) && !passed.contains(id));
    }

    pub(crate) fn violation(
        &mut self,
        id: CheckId,
        bundle: Option<&BundleRef>,
        message: impl Into<String>,
    ) {
        self.violations.push(Violation {
            id,
            bundle: bundle.cloned(),
            message: message.into(),
        });
    }

    pub(crate) fn warning(
        &mut self,
        id: CheckId,
        bundle: Option<&BundleRef>,
        message: impl Into<String>,
    ) {
        self.warnings.push(Warning {
            id,
            bundle: bundle.cloned(),
            message: message.into(),
        });
    }

    /// Records that `id` was not run because of `reason` (e.g. `check_bundle_overlap = false`).
    pub(crate) fn skip(&mut self, id: CheckId, reason: impl Into<String>) {
        self.skipped.push((id, reason.into()));
    }

    /// Ends a check: it passed unless it recorded a violation.
    pub(crate) fn conclude(&mut self, id: CheckId) {
        if !self.has_violation(id) && !self.passed.contains(&id) {
            self.passed.push(id);
        }
    }

    /// Records `id` as skipped for `knob = false` and returns true when `enabled` is false;
    /// a check starts with `if report.skip_unless(…) { return; }`.
    pub(crate) fn skip_unless(&mut self, id: CheckId, enabled: bool, knob: &str) -> bool {
        if !enabled {
            self.skip(id, format!("disabled by {knob} = false"));
        }
        !enabled
    }
}

/// One line per finding, checks in ceremony order, then a verdict line:
///
/// ```text
/// PASS KSR-DOMAIN
/// FAIL KSR-BUNDLE-POP bundle 1 (0a8f7774-…): signature by key 46809 does not verify
/// SKIP KSR-POLICY-SIG-HORIZON: disabled by signature_check_expire_horizon = false
/// RESULT: REFUSED, 1 violation (KSR-BUNDLE-POP); 0 warnings; 12 passed; 1 skipped
/// ```
impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ids: Vec<CheckId> = self
            .violations
            .iter()
            .map(|v| v.id)
            .chain(self.warnings.iter().map(|w| w.id))
            .chain(self.passed.iter().copied())
            .chain(self.skipped.iter().map(|(id, _)| *id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            for v in self.violations_of(id) {
                writeln!(f, "FAIL {v}")?;
            }
            for w in self.warnings.iter().filter(|w| w.id == id) {
                writeln!(f, "WARN {w}")?;
            }
            if self.passed.contains(&id) {
                writeln!(f, "PASS {id}")?;
            }
            for (_, reason) in self.skipped.iter().filter(|(s, _)| *s == id) {
                writeln!(f, "SKIP {id}: {reason}")?;
            }
        }
        let failed = self.failed();
        let verdict = if failed.is_empty() {
            "ACCEPTED"
        } else {
            "REFUSED"
        };
        write!(
            f,
            "RESULT: {verdict}, {}",
            plural(self.violations.len(), "violation")
        )?;
        if !failed.is_empty() {
            let names: Vec<&str> = failed.iter().map(|id| id.as_str()).collect();
            write!(f, " ({})", names.join(", "))?;
        }
        write!(
            f,
            "; {}; {} passed; {} skipped",
            plural(self.warnings.len(), "warning"),
            self.passed.len(),
            self.skipped.len()
        )
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn bundle1() -> BundleRef {
        BundleRef {
            source: Source::Ksr,
            index: 1,
            id: "0a8f7774-3bd3-4702-a923-f1d73f653bd6".into(),
        }
    }

    #[test]
    fn transcript_lines() {
        let mut r = CheckReport::default();
        r.conclude(CheckId::KsrDomain);
        r.violation(
            CheckId::BundlePop,
            Some(&bundle1()),
            "signature by key 46809 does not verify",
        );
        r.conclude(CheckId::BundlePop);
        let horizon = CheckId::PolicySigHorizon;
        assert!(r.skip_unless(horizon, false, "signature_check_expire_horizon"));
        assert!(!r.skip_unless(
            CheckId::PolicyAlg,
            true,
            "signature_algorithms_match_zsk_policy"
        ));
        r.warning(
            CheckId::PolicyKeys,
            None,
            "2 different keys, not 3 (early, on-time, late)",
        );
        r.conclude(CheckId::PolicyKeys);
        assert_eq!(
            r.to_string(),
            "PASS KSR-DOMAIN\n\
             FAIL KSR-BUNDLE-POP bundle 1 (0a8f7774-3bd3-4702-a923-f1d73f653bd6): signature by key 46809 does not verify\n\
             WARN KSR-POLICY-KEYS: 2 different keys, not 3 (early, on-time, late)\n\
             PASS KSR-POLICY-KEYS\n\
             SKIP KSR-POLICY-SIG-HORIZON: disabled by signature_check_expire_horizon = false\n\
             RESULT: REFUSED, 1 violation (KSR-BUNDLE-POP); 1 warning; 2 passed; 1 skipped"
        );
        assert!(!r.is_ok());
        assert_eq!(r.failed(), [CheckId::BundlePop]);
    }

    #[test]
    fn merge_fails_an_id_that_passed_elsewhere() {
        let mut a = CheckReport::default();
        a.conclude(CheckId::BundleUnique);
        let mut b = CheckReport::default();
        b.violation(CheckId::BundleUnique, None, "bundle id reused");
        b.conclude(CheckId::BundleUnique);
        b.conclude(CheckId::KsrId);
        a.merge(b);
        assert_eq!(a.passed, [CheckId::KsrId]);
        assert_eq!(a.failed(), [CheckId::BundleUnique]);
        let other = BundleRef {
            source: Source::PreviousSkr,
            index: 9,
            id: "x".into(),
        };
        assert_eq!(other.to_string(), "previous SKR bundle 9 (x)");
    }
}
