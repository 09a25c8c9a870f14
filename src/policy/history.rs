//! The publishing-history engine: was release R published the way this package usually
//! publishes, and if not, how alarming is the difference? Pure: a function of the releases'
//! facts, the target version and an explicit context (time, dependency install-script data).
//!
//! The decision table is `docs/history.md`; the signal ids (S1…S7, I1…I3) in comments below
//! refer to it, and the tests in `tests/it/history.rs` are driven from it.

use super::evidence::describe_baseline_evidence;
pub use super::evidence::{BaselineEvidence, Evidence, ReleaseRef};
use super::facts::{Provenance, Publisher, ReleaseFacts};
use super::signals::signals;
use super::version;
use crate::findings::{Finding, Level};
use crate::util::escape_text;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use std::collections::BTreeMap;

/// Baseline size: the number of most recent earlier releases of the line that set the
/// expectation for the next one. One provenance release keeps the expectation up for the next
/// `K` releases, then it decays.
pub const K: usize = 3;

/// Established-publisher age: an `(account, e-mail)` pair is established once it published a
/// release of the package at least this long before R. A pair first seen more recently is still
/// new (an attacker's e-mail "seen" on another line 39 minutes earlier does not count).
pub const D: SignedDuration = SignedDuration::from_hours(7 * 24);

/// What the engine needs besides the releases.
#[derive(Debug, Clone, Default)]
pub struct HistoryContext {
    /// Releases published after `now` are not part of the history.
    pub now: Option<Timestamp>,
    /// Install-script status of resolved dependencies, keyed `name@version`: `Some(true)` has
    /// a preinstall/install/postinstall script (lockfile `hasInstallScript`, else registry
    /// metadata), `Some(false)` has none, `None` unknown.
    pub dependency_scripts: BTreeMap<String, Option<bool>>,
}

/// Evidence class of a release, strongest last (so `Ord` compares strength).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceClass {
    /// Token publish, no provenance.
    Token = 1,
    /// Provenance present, token publish (or trusted publishing without provenance).
    Provenance = 2,
    /// Trusted publishing with provenance.
    TrustedPublisher = 3,
}

impl EvidenceClass {
    pub fn of(r: &ReleaseFacts) -> EvidenceClass {
        match (r.trusted_publisher, r.provenance.is_present()) {
            (true, true) => EvidenceClass::TrustedPublisher,
            (_, true) | (true, false) => EvidenceClass::Provenance,
            (false, false) => EvidenceClass::Token,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceClass::Token => "token",
            EvidenceClass::Provenance => "provenance",
            EvidenceClass::TrustedPublisher => "trusted-publisher",
        }
    }
}

/// A finding with the evidence behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryFinding {
    #[serde(flatten)]
    pub finding: Finding,
    pub evidence: Evidence,
}

/// The findings release `target` would get if installed, as plain findings.
pub fn evaluate(releases: &[ReleaseFacts], target: &str, ctx: &HistoryContext) -> Vec<Finding> {
    evaluate_detailed(releases, target, ctx)
        .into_iter()
        .map(|f| f.finding)
        .collect()
}

/// One version of the timeline: its facts and the findings it would get if installed.
#[derive(Debug, Clone)]
pub struct TimelineEntry<'a> {
    pub release: &'a ReleaseFacts,
    pub class: EvidenceClass,
    pub findings: Vec<HistoryFinding>,
}

/// Every release (removed ones included), in time order, each evaluated as if installed.
pub fn timeline<'a>(releases: &'a [ReleaseFacts], ctx: &HistoryContext) -> Vec<TimelineEntry<'a>> {
    let sorted = by_time(releases);
    sorted
        .iter()
        .map(|r| TimelineEntry {
            release: r,
            class: EvidenceClass::of(r),
            findings: evaluate_sorted(&sorted, &r.version, ctx),
        })
        .collect()
}

/// The part of a timeline around `version`: up to `radius` entries before and after it (what
/// `inspect NAME@VERSION` shows). Empty when the version is not in the timeline.
pub fn window<'t, 'a>(
    entries: &'t [TimelineEntry<'a>],
    version: &str,
    radius: usize,
) -> &'t [TimelineEntry<'a>] {
    match entries.iter().position(|e| e.release.version == version) {
        Some(i) => {
            let end = i
                .saturating_add(radius)
                .saturating_add(1)
                .min(entries.len());
            &entries[i.saturating_sub(radius)..end]
        }
        None => &[],
    }
}

/// Releases by time, then version string; releases without a time last.
fn by_time(releases: &[ReleaseFacts]) -> Vec<&ReleaseFacts> {
    let mut sorted: Vec<&ReleaseFacts> = releases.iter().collect();
    sorted.sort_by(|a, b| match (a.time, b.time) {
        (Some(x), Some(y)) => x.cmp(&y).then_with(|| a.version.cmp(&b.version)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.version.cmp(&b.version),
    });
    sorted
}

/// Which rows of the decision table fired, before levels are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Weight {
    Strong,
    Weak,
    /// Counts as a weak signal only beside another strong or weak one; alone it is info.
    Supporting,
    Info,
}

pub(super) struct Signal {
    pub(super) code: &'static str,
    pub(super) weight: Weight,
    pub(super) message: String,
}

/// The findings release `target` would get if installed, each with its evidence.
pub fn evaluate_detailed(
    releases: &[ReleaseFacts],
    target: &str,
    ctx: &HistoryContext,
) -> Vec<HistoryFinding> {
    evaluate_sorted(&by_time(releases), target, ctx)
}

/// [`evaluate_detailed`] over releases already sorted by [`by_time`].
fn evaluate_sorted(
    releases: &[&ReleaseFacts],
    target: &str,
    ctx: &HistoryContext,
) -> Vec<HistoryFinding> {
    let Some(r) = releases
        .iter()
        .copied()
        .find(|r| r.version == target && !r.removed)
    else {
        // S7: installed but no longer served.
        let seen = releases
            .iter()
            .find(|r| r.version == target)
            .map(|r| ReleaseRef::of(r))
            .unwrap_or_else(|| missing_ref(target));
        let msg = format!(
            "{} is not in the registry's versions{}: it was removed, or never published there. \
             Expected: every installed version to be served by the registry.",
            escape_text(target),
            if seen.time.is_some() {
                " (its publish time is still listed)"
            } else {
                ""
            }
        );
        return vec![finish(
            "version-not-in-registry",
            Level::Deny,
            msg,
            Evidence {
                expected: Vec::new(),
                expected_class: None,
                seen,
                baseline_unverified: false,
                baseline_evidence: BaselineEvidence::None,
            },
        )];
    };
    let seen = ReleaseRef::of(r);
    let Some(r_time) = r.time else {
        let msg = format!(
            "{} has no publish time in the packument, so its history could not be evaluated.",
            escape_text(target)
        );
        return vec![finish(
            "not-evaluated",
            Level::Info,
            msg,
            Evidence {
                expected: Vec::new(),
                expected_class: None,
                seen,
                baseline_unverified: false,
                baseline_evidence: BaselineEvidence::None,
            },
        )];
    };
    let earlier = earlier_releases(releases, r_time, ctx.now);
    let baseline = baseline_of(r, &earlier);
    let signals = signals(r, r_time, &earlier, &baseline, ctx);
    let (level, supporting_counts) = combined_level(&signals, context_c(r, &earlier));
    let evidence = Evidence {
        expected: baseline.iter().map(|b| ReleaseRef::of(b)).collect(),
        expected_class: baseline.iter().map(|b| EvidenceClass::of(b)).max(),
        seen,
        baseline_unverified: baseline
            .iter()
            .any(|b| matches!(b.provenance, Provenance::Announced)),
        baseline_evidence: BaselineEvidence::of(&baseline),
    };
    // Every finding says whether the baseline it rests on was verified or only announced.
    let note = describe_baseline_evidence(&baseline);
    let mut out: Vec<HistoryFinding> = signals
        .into_iter()
        .map(|s| {
            let lvl = match s.weight {
                Weight::Info => Level::Info,
                Weight::Supporting if !supporting_counts => Level::Info,
                _ => level,
            };
            let message = match &note {
                Some(n) => format!("{} {n}", s.message),
                None => s.message,
            };
            finish(s.code, lvl, message, evidence.clone())
        })
        .collect();
    // Lists in reports are sorted (DESIGN §1).
    out.sort_by(|a, b| {
        (a.finding.code, &a.finding.message).cmp(&(b.finding.code, &b.finding.message))
    });
    out
}

fn finish(code: &'static str, level: Level, message: String, evidence: Evidence) -> HistoryFinding {
    HistoryFinding {
        finding: Finding {
            code,
            level,
            message,
        },
        evidence,
    }
}

fn missing_ref(version: &str) -> ReleaseRef {
    ReleaseRef {
        version: version.to_string(),
        time: None,
        time_source: "registry-unsigned",
        class: EvidenceClass::Token,
        provenance: "none",
        publisher: None,
        repository: None,
        workflow: None,
    }
}

/// Releases published before `t` (and not after `now`), still in the registry, most recent
/// first.
fn earlier_releases<'a>(
    sorted: &[&'a ReleaseFacts],
    t: Timestamp,
    now: Option<Timestamp>,
) -> Vec<&'a ReleaseFacts> {
    sorted
        .iter()
        .rev()
        .copied()
        .filter(|x| !x.removed)
        .filter(|x| {
            x.time
                .is_some_and(|xt| xt < t && now.is_none_or(|n| xt <= n))
        })
        .collect()
}

/// The baseline of R: the `K` most recent earlier releases of R's line (stable only when R is
/// stable); for the first release of a line, the `K` most recent stable releases of the package
/// (any earlier releases if there are no stable ones).
fn baseline_of<'a>(r: &ReleaseFacts, earlier: &[&'a ReleaseFacts]) -> Vec<&'a ReleaseFacts> {
    let line = version::line(&r.version);
    let stable = !version::is_prerelease(&r.version);
    let in_line: Vec<&ReleaseFacts> = earlier
        .iter()
        .copied()
        .filter(|x| version::line(&x.version) == line)
        .filter(|x| !stable || !version::is_prerelease(&x.version))
        .take(K)
        .collect();
    if !in_line.is_empty() {
        return in_line;
    }
    let stable_pkg: Vec<&ReleaseFacts> = earlier
        .iter()
        .copied()
        .filter(|x| !version::is_prerelease(&x.version))
        .take(K)
        .collect();
    if !stable_pkg.is_empty() {
        return stable_pkg;
    }
    earlier.iter().copied().take(K).collect()
}

/// Context C: the package publishes from CI (one of its `K` most recent earlier releases, any
/// line, has class ≥ provenance) and R is a token publish without provenance. Token releases
/// by R's own pair in the `D` before R are skipped: one burst of token publishes (the attacker
/// publishing every line within minutes) must not hide how the package usually publishes.
pub(super) fn context_c(r: &ReleaseFacts, earlier: &[&ReleaseFacts]) -> bool {
    EvidenceClass::of(r) == EvidenceClass::Token
        && context_releases(r, earlier)
            .iter()
            .any(|x| EvidenceClass::of(x) >= EvidenceClass::Provenance)
}

/// The releases context C looks at: the `K` most recent earlier releases (any line), skipping
/// token releases by R's own pair in the `D` before R.
fn context_releases<'a>(r: &ReleaseFacts, earlier: &[&'a ReleaseFacts]) -> Vec<&'a ReleaseFacts> {
    let cutoff = r.time.and_then(|t| t.checked_sub(D).ok());
    let burst = |x: &ReleaseFacts| {
        EvidenceClass::of(x) == EvidenceClass::Token
            && x.publisher.is_some()
            && x.publisher == r.publisher
            && matches!((x.time, cutoff), (Some(xt), Some(c)) if xt > c)
    };
    earlier
        .iter()
        .copied()
        .filter(|x| !burst(x))
        .take(K)
        .collect()
}

/// The releases the history decision on `target` rests on besides `target` itself, as the
/// engine selects them: its baseline (most recent first), then, when `target` is a token
/// publish, the context-C releases not already listed. Computed on the facts given (announced
/// ones, plus whatever was overlaid already); empty when `target` is removed, unknown or has no
/// time (the engine then decides without a baseline). `verify` fetches and verifies the
/// attestations of these releases (verified baselines, `docs/history.md`).
pub fn baseline_versions(
    releases: &[ReleaseFacts],
    target: &str,
    ctx: &HistoryContext,
) -> Vec<String> {
    let sorted = by_time(releases);
    let Some(r) = sorted
        .iter()
        .copied()
        .find(|r| r.version == target && !r.removed)
    else {
        return Vec::new();
    };
    let Some(t) = r.time else {
        return Vec::new();
    };
    let earlier = earlier_releases(&sorted, t, ctx.now);
    let mut out: Vec<String> = baseline_of(r, &earlier)
        .iter()
        .map(|b| b.version.clone())
        .collect();
    if EvidenceClass::of(r) == EvidenceClass::Token {
        for x in context_releases(r, &earlier) {
            if !out.contains(&x.version) {
                out.push(x.version.clone());
            }
        }
    }
    out
}

/// Whether `pair` is established for a release at `t`: it published a token release at least
/// `D` before `t`, or it published the package's first release (the founder is never "new").
pub(super) fn is_established(pair: &Publisher, t: Timestamp, earlier: &[&ReleaseFacts]) -> bool {
    let cutoff = t.checked_sub(D).unwrap_or(t);
    let founder = earlier
        .last()
        .filter(|x| !x.trusted_publisher)
        .and_then(|x| x.publisher.as_ref());
    founder == Some(pair)
        || earlier.iter().any(|x| {
            !x.trusted_publisher
                && x.publisher.as_ref() == Some(pair)
                && x.time.is_some_and(|xt| xt <= cutoff)
        })
}

/// Whether `p`'s account published an earlier release of the package (token publish) under any
/// e-mail other than `p`'s.
pub(super) fn account_known(p: &Publisher, earlier: &[&ReleaseFacts]) -> bool {
    earlier.iter().any(|x| {
        !x.trusted_publisher
            && x.publisher
                .as_ref()
                .is_some_and(|q| q.name == p.name && q.email != p.email)
    })
}

/// The level of every counted finding, and whether supporting signals count.
fn combined_level(signals: &[Signal], context_c: bool) -> (Level, bool) {
    let strong = signals.iter().any(|s| s.weight == Weight::Strong);
    let weak: Vec<&Signal> = signals
        .iter()
        .filter(|s| s.weight == Weight::Weak)
        .collect();
    let supporting = signals
        .iter()
        .filter(|s| s.weight == Weight::Supporting)
        .count();
    let supporting_counts = strong || !weak.is_empty();
    let counted = weak.len() + if supporting_counts { supporting } else { 0 };
    let script_signal =
        |s: &&Signal| s.code == "install-script-added" || s.code == "new-install-script-dependency";
    let level = if strong
        || counted >= 2
        || (counted == 1 && context_c && weak.iter().any(script_signal))
    {
        Level::Deny
    } else if counted == 1 {
        Level::Warn
    } else {
        Level::Info
    };
    (level, supporting_counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::facts::TimeSource;

    fn rel(v: &str, day: u32, prov: bool, tp: bool, who: &str) -> ReleaseFacts {
        ReleaseFacts {
            version: v.into(),
            time: Some(format!("2025-03-{day:02}T00:00:00Z").parse().unwrap()),
            time_source: TimeSource::RegistryUnsigned,
            publisher: Some(Publisher {
                name: who.into(),
                email: format!("{who}@example.com"),
            }),
            trusted_publisher: tp,
            approver: None,
            provenance: if prov {
                Provenance::Announced
            } else {
                Provenance::None
            },
            install_scripts: Vec::new(),
            dependencies: Default::default(),
            deprecated: false,
            removed: false,
        }
    }

    fn sig(code: &'static str, weight: Weight) -> Signal {
        Signal {
            code,
            weight,
            message: String::new(),
        }
    }

    #[test]
    fn classes() {
        assert_eq!(
            EvidenceClass::of(&rel("1.0.0", 1, true, true, "a")),
            EvidenceClass::TrustedPublisher
        );
        assert_eq!(
            EvidenceClass::of(&rel("1.0.0", 1, false, true, "a")),
            EvidenceClass::Provenance
        );
        let mut invalid = rel("1.0.0", 1, false, false, "a");
        invalid.provenance = Provenance::Invalid;
        assert_eq!(EvidenceClass::of(&invalid), EvidenceClass::Token);
    }

    #[test]
    fn levels_combine_as_the_table_says() {
        use Weight::*;
        let lvl = |s: &[Signal], c: bool| combined_level(s, c).0;
        assert_eq!(lvl(&[], false), Level::Info);
        assert_eq!(lvl(&[sig("staged-publish", Info)], true), Level::Info);
        assert_eq!(
            lvl(&[sig("provenance-downgrade", Strong)], false),
            Level::Deny
        );
        assert_eq!(lvl(&[sig("provenance-downgrade", Weak)], true), Level::Warn);
        assert_eq!(
            lvl(&[sig("install-script-added", Weak)], false),
            Level::Warn
        );
        assert_eq!(lvl(&[sig("install-script-added", Weak)], true), Level::Deny);
        assert_eq!(
            lvl(&[sig("new-install-script-dependency", Weak)], true),
            Level::Deny
        );
        assert_eq!(
            lvl(
                &[
                    sig("publisher-changed", Weak),
                    sig("identity-changed", Weak)
                ],
                false
            ),
            Level::Deny
        );
        // Supporting: info alone, one more weak signal beside another.
        assert_eq!(
            combined_level(&[sig("publisher-changed", Supporting)], true),
            (Level::Info, false)
        );
        assert_eq!(
            combined_level(
                &[
                    sig("publisher-changed", Supporting),
                    sig("install-script-added", Weak)
                ],
                false
            ),
            (Level::Deny, true)
        );
    }

    #[test]
    fn baseline_leaves_prereleases_out_of_a_stable_release_and_falls_back_for_a_new_line() {
        let rs = [
            rel("1.0.0", 1, false, false, "a"),
            rel("1.1.0", 2, false, false, "a"),
            rel("2.0.0-rc.1", 3, true, false, "a"),
            rel("1.2.0", 4, false, false, "a"),
            rel("2.0.0", 5, false, false, "a"),
            rel("2.0.1", 6, false, false, "a"),
        ];
        let sorted = by_time(&rs);
        let earlier = |v: &str| {
            let t = rs.iter().find(|r| r.version == v).unwrap().time.unwrap();
            earlier_releases(&sorted, t, None)
        };
        let names = |b: Vec<&ReleaseFacts>| b.iter().map(|r| r.version.clone()).collect::<Vec<_>>();
        // First stable release of line 2: the package's latest stable releases.
        assert_eq!(
            names(baseline_of(&rs[4], &earlier("2.0.0"))),
            ["1.2.0", "1.1.0", "1.0.0"]
        );
        // Later: its line, stable only.
        assert_eq!(names(baseline_of(&rs[5], &earlier("2.0.1"))), ["2.0.0"]);
        // A prerelease's baseline includes prereleases of its line.
        let pre = rel("2.0.0-rc.2", 7, false, false, "a");
        let mut all = rs.to_vec();
        all.push(pre.clone());
        let sorted = by_time(&all);
        let e = earlier_releases(&sorted, pre.time.unwrap(), None);
        assert_eq!(
            names(baseline_of(&pre, &e)),
            ["2.0.1", "2.0.0", "2.0.0-rc.1"]
        );
    }

    #[test]
    fn founder_is_established_and_trusted_publishing_establishes_nobody() {
        let rs = [
            rel("1.0.0", 1, false, false, "founder"),
            rel("1.0.1", 2, true, true, "GitHub Actions"),
        ];
        let sorted = by_time(&rs);
        let t: Timestamp = "2025-03-03T00:00:00Z".parse().unwrap();
        let e = earlier_releases(&sorted, t, None);
        assert!(is_established(rs[0].publisher.as_ref().unwrap(), t, &e));
        let later: Timestamp = "2025-05-01T00:00:00Z".parse().unwrap();
        let e = earlier_releases(&sorted, later, None);
        assert!(!is_established(
            rs[1].publisher.as_ref().unwrap(),
            later,
            &e
        ));
    }

    #[test]
    fn context_c_skips_the_publishers_own_token_burst() {
        let mut rs = vec![
            rel("3.0.0", 1, true, false, "m"),
            rel("3.0.1", 2, true, false, "m"),
        ];
        for (i, v) in ["3.0.2", "2.0.9", "1.0.9"].iter().enumerate() {
            rs.push(rel(v, 20 + i as u32, false, false, "m"));
        }
        let target = rel("0.9.9", 24, false, false, "m");
        rs.push(target.clone());
        let sorted = by_time(&rs);
        let e = earlier_releases(&sorted, target.time.unwrap(), None);
        assert!(context_c(&target, &e));
        // Another publisher's burst is not skipped.
        let other = rel("0.9.9", 24, false, false, "x");
        assert!(!context_c(&other, &e));
    }

    #[test]
    fn baseline_versions_are_the_baseline_then_the_context_releases() {
        let rs = [
            rel("2.0.0", 1, true, true, "a"),
            rel("2.1.0", 2, true, true, "a"),
            rel("1.0.0", 3, false, false, "a"),
            rel("1.0.1", 4, false, false, "a"),
            rel("1.0.2", 5, false, false, "a"),
            rel("1.0.3", 6, false, false, "a"),
            rel("2.2.0", 7, true, true, "a"),
        ];
        let ctx = HistoryContext::default();
        // A token release of line 1: its baseline, then context C's releases (any line).
        let mut all = rs.to_vec();
        all.push(rel("1.0.4", 8, false, false, "b"));
        assert_eq!(
            baseline_versions(&all, "1.0.4", &ctx),
            ["1.0.3", "1.0.2", "1.0.1", "2.2.0"]
        );
        // A release with provenance: no context C (it is false for it), the baseline only.
        assert_eq!(baseline_versions(&rs, "2.2.0", &ctx), ["2.1.0", "2.0.0"]);
        // The publisher's own token burst is skipped by context C, so older releases count.
        let mut burst = rs.to_vec();
        burst.push(rel("1.0.4", 8, false, false, "a"));
        burst.push(rel("0.9.0", 9, false, false, "a"));
        let listed = baseline_versions(&burst, "0.9.0", &ctx);
        assert_eq!(listed, ["1.0.4", "2.2.0", "1.0.3", "2.1.0", "2.0.0"]);
        // Nothing for an unknown, removed or timeless target, or the first release.
        assert!(baseline_versions(&rs, "9.9.9", &ctx).is_empty());
        assert!(baseline_versions(&rs, "2.0.0", &ctx).is_empty());
        let mut no_time = rs.to_vec();
        no_time[6].time = None;
        assert!(baseline_versions(&no_time, "2.2.0", &ctx).is_empty());
        // `now` leaves later releases out, as the engine does.
        let now = HistoryContext {
            now: Some("2025-03-01T12:00:00Z".parse().unwrap()),
            ..HistoryContext::default()
        };
        assert!(baseline_versions(&rs, "2.2.0", &now).len() <= 1);
    }

    #[test]
    fn every_finding_says_how_its_baseline_is_established() {
        let id = crate::policy::BuildIdentity {
            issuer: "https://token.actions.githubusercontent.com".into(),
            repository: "https://github.com/o/r".into(),
            repository_id: None,
            workflow: "https://github.com/o/r/.github/workflows/r.yml@refs/heads/main".into(),
            source_ref: None,
            trigger: None,
            runner: None,
        };
        let mut rs = vec![
            rel("1.0.0", 1, true, true, "a"),
            rel("1.1.0", 2, true, true, "a"),
            rel("1.2.0", 3, false, false, "m"),
        ];
        let check = |rs: &[ReleaseFacts], state: BaselineEvidence, says: &str| {
            let f = evaluate_detailed(rs, "1.2.0", &HistoryContext::default());
            let down: Vec<_> = f
                .iter()
                .filter(|f| f.finding.code == "provenance-downgrade")
                .collect();
            assert!(!f.is_empty());
            for x in &f {
                assert_eq!(x.evidence.baseline_evidence, state);
                assert!(x.finding.message.contains(says), "{}", x.finding.message);
            }
            down.len()
        };
        assert_eq!(
            check(
                &rs,
                BaselineEvidence::Announced,
                "Baseline evidence: announced, not verified (1.1.0, 1.0.0)"
            ),
            1
        );
        rs[1].provenance = Provenance::verified(id.clone());
        check(
            &rs,
            BaselineEvidence::Announced,
            "announced, not verified (1.0.0); verified: 1.1.0",
        );
        rs[0].provenance = Provenance::verified(id);
        check(
            &rs,
            BaselineEvidence::Verified,
            "Baseline evidence: verified (the attestations of 1.1.0, 1.0.0 verified",
        );
        rs[1].provenance = Provenance::Invalid;
        check(
            &rs,
            BaselineEvidence::Invalid,
            "invalid: the attestations of 1.1.0 did not verify, so they count as no provenance \
             (never as verified evidence); verified: 1.0.0.",
        );
        for r in rs.iter_mut() {
            r.provenance = Provenance::None;
            r.trusted_publisher = false;
        }
        rs[2].publisher = Some(Publisher {
            name: "z".into(),
            email: "z@example.com".into(),
        });
        rs[2].install_scripts = vec!["postinstall".into()];
        let n = check(
            &rs,
            BaselineEvidence::NoProvenance,
            "Baseline evidence: no baseline release has provenance",
        );
        assert_eq!(n, 0);
    }

    #[test]
    fn window_around_a_version() {
        let rs: Vec<ReleaseFacts> = (1..=6)
            .map(|d| rel(&format!("1.0.{d}"), d, false, false, "a"))
            .collect();
        let t = timeline(&rs, &HistoryContext::default());
        let v = |w: &[TimelineEntry<'_>]| {
            w.iter()
                .map(|e| e.release.version.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(v(window(&t, "1.0.3", 1)), ["1.0.2", "1.0.3", "1.0.4"]);
        assert_eq!(v(window(&t, "1.0.1", 2)), ["1.0.1", "1.0.2", "1.0.3"]);
        assert_eq!(v(window(&t, "1.0.6", 1)), ["1.0.5", "1.0.6"]);
        assert!(window(&t, "9.9.9", 3).is_empty());
    }

    #[test]
    fn removed_or_unknown_target_is_version_not_in_registry() {
        let mut rs = vec![rel("1.0.0", 1, false, false, "a")];
        let mut gone = rel("1.0.1", 2, false, false, "a");
        gone.removed = true;
        gone.publisher = None;
        rs.push(gone);
        for v in ["1.0.1", "7.7.7"] {
            let f = evaluate(&rs, v, &HistoryContext::default());
            assert_eq!(f.len(), 1);
            assert_eq!(
                (f[0].code, f[0].level),
                ("version-not-in-registry", Level::Deny)
            );
        }
        let mut no_time = rel("1.0.2", 3, false, false, "a");
        no_time.time = None;
        rs.push(no_time);
        let f = evaluate(&rs, "1.0.2", &HistoryContext::default());
        assert_eq!((f[0].code, f[0].level), ("not-evaluated", Level::Info));
    }
}
