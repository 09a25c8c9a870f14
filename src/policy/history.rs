//! The publishing-history engine: was release R published the way this package usually
//! publishes, and if not, how alarming is the difference? Pure: a function of the releases'
//! facts, the target version and an explicit context (time, dependency install-script data).
//!
//! The decision table is `docs/history.md`; the signal ids (S1…S7, I1…I3) in comments below
//! refer to it, and the tests in `tests/it/history.rs` are driven from it.

use super::facts::{Provenance, Publisher, ReleaseFacts};
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

/// One release as a finding cites it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReleaseRef {
    pub version: String,
    pub time: Option<Timestamp>,
    pub time_source: &'static str,
    pub class: EvidenceClass,
    pub provenance: &'static str,
    pub publisher: Option<Publisher>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
}

impl ReleaseRef {
    fn of(r: &ReleaseFacts) -> ReleaseRef {
        let id = r.provenance.identity();
        ReleaseRef {
            version: r.version.clone(),
            time: r.time,
            time_source: r.time_source.as_str(),
            class: EvidenceClass::of(r),
            provenance: r.provenance.as_str(),
            publisher: r.publisher.clone(),
            repository: id.map(|i| i.repository.clone()),
            workflow: id.map(|i| i.workflow_path().to_string()),
        }
    }

    /// `1.14.0 (2026-03-27T…Z, registry-unsigned; trusted-publisher, provenance announced, by x <y>)`
    fn describe(&self) -> String {
        let time = self
            .time
            .map(|t| t.to_string())
            .unwrap_or_else(|| "no time".into());
        let mut s = format!(
            "{} ({time}, {}; {}, provenance {}",
            escape_text(&self.version),
            self.time_source,
            self.class.as_str(),
            self.provenance
        );
        if let Some(p) = &self.publisher {
            s.push_str(&format!(", by {}", describe_publisher(p)));
        }
        if let (Some(repo), Some(wf)) = (&self.repository, &self.workflow) {
            s.push_str(&format!(
                ", from {} workflow {}",
                escape_text(repo),
                escape_text(wf)
            ));
        }
        s.push(')');
        s
    }
}

/// What a history finding compared: the baseline it expected and the release it saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// The releases that set the expectation (most recent first).
    pub expected: Vec<ReleaseRef>,
    /// The class the expectation asks for (the baseline's highest).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_class: Option<EvidenceClass>,
    pub seen: ReleaseRef,
    /// The baseline's provenance is only announced (not verified): the decision was made on
    /// the announced evidence.
    pub baseline_unverified: bool,
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
    let mut sorted: Vec<&ReleaseFacts> = releases.iter().collect();
    sorted.sort_by(|a, b| match (a.time, b.time) {
        (Some(x), Some(y)) => x.cmp(&y).then_with(|| a.version.cmp(&b.version)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.version.cmp(&b.version),
    });
    sorted
        .into_iter()
        .map(|r| TimelineEntry {
            release: r,
            class: EvidenceClass::of(r),
            findings: evaluate_detailed(releases, &r.version, ctx),
        })
        .collect()
}

/// Which rows of the decision table fired, before levels are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Weight {
    Strong,
    Weak,
    /// Counts as a weak signal only beside another strong or weak one; alone it is info.
    Supporting,
    Info,
}

struct Signal {
    code: &'static str,
    weight: Weight,
    message: String,
}

/// The findings release `target` would get if installed, each with its evidence.
pub fn evaluate_detailed(
    releases: &[ReleaseFacts],
    target: &str,
    ctx: &HistoryContext,
) -> Vec<HistoryFinding> {
    let Some(r) = releases.iter().find(|r| r.version == target && !r.removed) else {
        // S7: installed but no longer served.
        let seen = releases
            .iter()
            .find(|r| r.version == target)
            .map(ReleaseRef::of)
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
    };
    let mut out: Vec<HistoryFinding> = signals
        .into_iter()
        .map(|s| {
            let lvl = match s.weight {
                Weight::Info => Level::Info,
                Weight::Supporting if !supporting_counts => Level::Info,
                _ => level,
            };
            finish(s.code, lvl, s.message, evidence.clone())
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
fn earlier_releases(
    releases: &[ReleaseFacts],
    t: Timestamp,
    now: Option<Timestamp>,
) -> Vec<&ReleaseFacts> {
    let mut v: Vec<&ReleaseFacts> = releases
        .iter()
        .filter(|x| !x.removed)
        .filter(|x| {
            x.time
                .is_some_and(|xt| xt < t && now.is_none_or(|n| xt <= n))
        })
        .collect();
    v.sort_by(|a, b| b.time.cmp(&a.time).then_with(|| b.version.cmp(&a.version)));
    v
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
fn context_c(r: &ReleaseFacts, earlier: &[&ReleaseFacts]) -> bool {
    if EvidenceClass::of(r) != EvidenceClass::Token {
        return false;
    }
    let cutoff = r.time.and_then(|t| t.checked_sub(D).ok());
    let burst = |x: &ReleaseFacts| {
        EvidenceClass::of(x) == EvidenceClass::Token
            && x.publisher.is_some()
            && x.publisher == r.publisher
            && matches!((x.time, cutoff), (Some(xt), Some(c)) if xt > c)
    };
    earlier
        .iter()
        .filter(|x| !burst(x))
        .take(K)
        .any(|x| EvidenceClass::of(x) >= EvidenceClass::Provenance)
}

/// Whether `pair` is established for a release at `t`: it published a token release at least
/// `D` before `t`, or it published the package's first release (the founder is never "new").
fn is_established(pair: &Publisher, t: Timestamp, earlier: &[&ReleaseFacts]) -> bool {
    let cutoff = t.checked_sub(D).unwrap_or(t);
    let founder = earlier.last().and_then(|x| x.publisher.as_ref());
    founder == Some(pair)
        || earlier.iter().any(|x| {
            !x.trusted_publisher
                && x.publisher.as_ref() == Some(pair)
                && x.time.is_some_and(|xt| xt <= cutoff)
        })
}

/// Whether `p`'s account published an earlier release of the package (token publish) under any
/// e-mail other than `p`'s.
fn account_known(p: &Publisher, earlier: &[&ReleaseFacts]) -> bool {
    earlier.iter().any(|x| {
        !x.trusted_publisher
            && x.publisher
                .as_ref()
                .is_some_and(|q| q.name == p.name && q.email != p.email)
    })
}

fn signals(
    r: &ReleaseFacts,
    r_time: Timestamp,
    earlier: &[&ReleaseFacts],
    baseline: &[&ReleaseFacts],
    ctx: &HistoryContext,
) -> Vec<Signal> {
    let mut out = Vec::new();
    if let Some(a) = &r.approver {
        // I3
        let who = [a.name.as_deref(), a.email.as_deref()]
            .iter()
            .flatten()
            .map(|s| escape_text(s))
            .collect::<Vec<_>>()
            .join(" ");
        out.push(Signal {
            code: "staged-publish",
            weight: Weight::Info,
            message: format!(
                "{} was a staged publish approved by {}.",
                escape_text(&r.version),
                if who.is_empty() {
                    "an unnamed approver".into()
                } else {
                    who
                }
            ),
        });
    }
    if earlier.is_empty() {
        return out;
    }
    let seen = ReleaseRef::of(r).describe();
    let r_class = EvidenceClass::of(r);
    let expected = describe_baseline(baseline);

    // S3: a token publish by a pair that is not established.
    let mut new_publisher = false;
    if !r.trusted_publisher {
        match &r.publisher {
            Some(p) if !is_established(p, r_time, earlier) => {
                new_publisher = true;
                // A known account with a new e-mail (the account-takeover pattern), or any new
                // publisher of a package that publishes from CI, is a weak signal. A new
                // account joining a package never published from CI (how maintainers join),
                // or any new publisher of a prerelease (ranges do not pick prereleases), only
                // supports another signal.
                let weight = if !version::is_prerelease(&r.version)
                    && (account_known(p, earlier) || context_c(r, earlier))
                {
                    Weight::Weak
                } else {
                    Weight::Supporting
                };
                out.push(Signal {
                    code: "publisher-changed",
                    weight,
                    message: publisher_message(p, r_time, earlier, &seen),
                });
            }
            Some(_) => {}
            None => out.push(Signal {
                code: "not-evaluated",
                weight: Weight::Info,
                message: format!(
                    "Seen: {seen}. The packument names no publisher (_npmUser), so a change of \
                     publisher could not be evaluated."
                ),
            }),
        }
    }

    let Some(base_class) = baseline.iter().map(|b| EvidenceClass::of(b)).max() else {
        return out;
    };
    let unverified_note = if baseline
        .iter()
        .any(|b| matches!(b.provenance, Provenance::Announced))
    {
        " The baseline's provenance is announced, not verified; decided on the announced evidence."
    } else {
        ""
    };

    // S1, S2, S2p: provenance downgrade.
    if r_class == EvidenceClass::Token && base_class >= EvidenceClass::Provenance {
        let prerelease = version::is_prerelease(&r.version);
        let (weight, what) = if base_class == EvidenceClass::TrustedPublisher {
            (Weight::Strong, "a downgrade from trusted publishing")
        } else if !prerelease || new_publisher {
            (Weight::Weak, "a downgrade from provenance")
        } else {
            (
                Weight::Info,
                "a prerelease without provenance by an established publisher",
            )
        };
        out.push(Signal {
            code: "provenance-downgrade",
            weight,
            message: format!(
                "Expected: {expected}, class {}. Seen: {seen}: {what}.{unverified_note}",
                base_class.as_str()
            ),
        });
    }

    // S4: an install script the baseline did not (always) have.
    if !r.install_scripts.is_empty() && baseline.iter().any(|b| b.install_scripts.is_empty()) {
        let without: Vec<&str> = baseline
            .iter()
            .filter(|b| b.install_scripts.is_empty())
            .map(|b| b.version.as_str())
            .collect();
        out.push(Signal {
            code: "install-script-added",
            weight: Weight::Weak,
            message: format!(
                "Expected: no install script, as in {}. Seen: {seen} runs {}.",
                escape_text(&without.join(", ")),
                escape_text(&r.install_scripts.join(", "))
            ),
        });
    }

    // S5, S5?: new dependencies with install scripts.
    dependency_signals(r, baseline, ctx, &seen, &mut out);

    // S6, I1, I2: identity.
    identity_signals(r, r_class, base_class, baseline, &seen, &expected, &mut out);
    out
}

fn dependency_signals(
    r: &ReleaseFacts,
    baseline: &[&ReleaseFacts],
    ctx: &HistoryContext,
    seen: &str,
    out: &mut Vec<Signal>,
) {
    let Some(prev) = baseline.first() else {
        return;
    };
    let (mut with_script, mut unknown) = (Vec::new(), Vec::new());
    for name in r.dependencies.keys() {
        if prev.dependencies.contains_key(name) {
            continue;
        }
        match dependency_script_status(name, &ctx.dependency_scripts) {
            Some(true) => with_script.push(escape_text(name)),
            Some(false) => {}
            None => unknown.push(escape_text(name)),
        }
    }
    if !with_script.is_empty() {
        out.push(Signal {
            code: "new-install-script-dependency",
            weight: Weight::Weak,
            message: format!(
                "Expected: the dependencies of {}. Seen: {seen} adds {}, whose resolved version \
                 runs an install script.",
                escape_text(&prev.version),
                with_script.join(", ")
            ),
        });
    }
    if !unknown.is_empty() {
        out.push(Signal {
            code: "not-evaluated",
            weight: Weight::Info,
            message: format!(
                "Seen: {seen} adds {} (not in {}); whether its resolved version runs an install \
                 script is unknown.",
                unknown.join(", "),
                escape_text(&prev.version)
            ),
        });
    }
}

/// `Some(true)` if any resolved version of `name` has an install script, `Some(false)` if all
/// known ones have none, `None` if unknown.
fn dependency_script_status(name: &str, map: &BTreeMap<String, Option<bool>>) -> Option<bool> {
    let mut any_known_false = false;
    for (key, status) in map {
        let key_name = match key.rfind('@') {
            Some(i) if i > 0 => &key[..i],
            _ => key.as_str(),
        };
        if key_name != name {
            continue;
        }
        match status {
            Some(true) => return Some(true),
            Some(false) => any_known_false = true,
            None => return None,
        }
    }
    any_known_false.then_some(false)
}

fn identity_signals(
    r: &ReleaseFacts,
    r_class: EvidenceClass,
    base_class: EvidenceClass,
    baseline: &[&ReleaseFacts],
    seen: &str,
    expected: &str,
    out: &mut Vec<Signal>,
) {
    let base_id = baseline.iter().find_map(|b| b.provenance.identity());
    let r_id = r.provenance.identity();
    let mut same_source = None;
    if let (Some(b), Some(n)) = (base_id, r_id) {
        let mut diffs = Vec::new();
        if b.issuer != n.issuer {
            diffs.push(format!("issuer {} → {}", b.issuer, n.issuer));
        }
        let repo_differs = match (&b.repository_id, &n.repository_id) {
            (Some(x), Some(y)) => x != y,
            _ => b.repository != n.repository,
        };
        if repo_differs {
            diffs.push(format!("repository {} → {}", b.repository, n.repository));
        }
        if b.workflow_file() != n.workflow_file() {
            diffs.push(format!(
                "workflow {} → {}",
                b.workflow_path(),
                n.workflow_path()
            ));
        }
        if b.runner.as_deref() == Some("github-hosted")
            && n.runner.as_deref() == Some("self-hosted")
        {
            diffs.push("runner github-hosted → self-hosted".into());
        }
        if !diffs.is_empty() {
            out.push(Signal {
                code: "identity-changed",
                weight: Weight::Weak,
                message: format!(
                    "Expected: {expected}. Seen: {seen}: {}.",
                    escape_text(&diffs.join("; "))
                ),
            });
        } else if b.ref_kind() != n.ref_kind() || b.trigger != n.trigger {
            out.push(Signal {
                code: "identity-drift",
                weight: Weight::Info,
                message: format!(
                    "Expected: {expected}. Seen: {seen}: same repository and workflow, ref kind \
                     {} → {}, trigger {} → {}.",
                    b.ref_kind().unwrap_or("unknown"),
                    n.ref_kind().unwrap_or("unknown"),
                    escape_text(b.trigger.as_deref().unwrap_or("unknown")),
                    escape_text(n.trigger.as_deref().unwrap_or("unknown"))
                ),
            });
        }
        same_source = Some(diffs.is_empty());
    }
    // I1: trusted publishing dropped, provenance kept.
    if base_class == EvidenceClass::TrustedPublisher
        && r_class == EvidenceClass::Provenance
        && !r.trusted_publisher
        && same_source != Some(false)
    {
        let how = if same_source == Some(true) {
            "provenance from the same repository and workflow"
        } else {
            "provenance (repository and workflow not verified)"
        };
        out.push(Signal {
            code: "trusted-publisher-dropped",
            weight: Weight::Info,
            message: format!(
                "Expected: {expected}. Seen: {seen}: no longer trusted publishing, still {how}."
            ),
        });
    }
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

fn describe_publisher(p: &Publisher) -> String {
    format!("{} <{}>", escape_text(&p.name), escape_text(&p.email))
}

fn describe_baseline(baseline: &[&ReleaseFacts]) -> String {
    if baseline.is_empty() {
        return "no earlier release".into();
    }
    let parts: Vec<String> = baseline
        .iter()
        .map(|b| ReleaseRef::of(b).describe())
        .collect();
    format!("the baseline {}", parts.join("; "))
}

fn publisher_message(
    p: &Publisher,
    r_time: Timestamp,
    earlier: &[&ReleaseFacts],
    seen: &str,
) -> String {
    let mut established: Vec<&Publisher> = Vec::new();
    for x in earlier.iter().filter(|x| !x.trusted_publisher) {
        if let Some(q) = &x.publisher {
            if is_established(q, r_time, earlier) && !established.contains(&q) {
                established.push(q);
            }
        }
    }
    let first_seen = earlier
        .iter()
        .filter(|x| x.publisher.as_ref() == Some(p))
        .filter_map(|x| x.time.map(|t| (t, x.version.as_str())))
        .min();
    let account_known = established.iter().any(|q| q.name == p.name);
    let novelty = match (first_seen, account_known) {
        (Some((t, v)), _) => format!(
            "this pair was first seen on {} at {t}, less than {} days before",
            escape_text(v),
            D.as_hours() / 24
        ),
        (None, true) => "the account is known, but never with this e-mail".to_string(),
        (None, false) => "neither the account nor the e-mail published this package before".into(),
    };
    let list: Vec<String> = established
        .iter()
        .take(5)
        .map(|q| describe_publisher(q))
        .collect();
    format!(
        "Expected: a token publish by an established publisher ({}{}). Seen: {seen}: {novelty}.",
        if list.is_empty() {
            "none established".to_string()
        } else {
            list.join(", ")
        },
        if established.len() > 5 { ", …" } else { "" }
    )
}
