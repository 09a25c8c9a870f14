//! Evaluation: exclusions, `ignore-published-before` and level overrides on one package's
//! findings ([`Policy::apply`]), and the run-level report of expired exclusions and unused rules
//! ([`Policy::end_of_run`]). Pure: `now` is a parameter.

use super::{Exclusion, LevelMap, LevelSetting, Policy};
use crate::findings::Finding;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use std::collections::BTreeSet;

/// The codes `ignore-published-before` drops for a release published before the date: what the
/// publishing history and pins say about old releases. Failures of the release's own evidence
/// (signatures, integrity, invalid attestations, unverifiable) are never dropped by age.
pub const IGNORABLE_WHEN_OLD: &[&str] = &[
    "identity-changed",
    "identity-drift",
    "install-script-added",
    "new-install-script-dependency",
    "pin-mismatch",
    "provenance-downgrade",
    "provenance-missing",
    "publisher-changed",
    "staged-publish",
    "trusted-publisher-dropped",
];

/// What [`Policy::apply`] did to one package's findings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppliedSummary {
    /// Findings dropped, for any reason (`summary.suppressed`): the sum of the three below.
    pub suppressed: usize,
    /// Dropped by a level set to `allow`.
    pub allowed: usize,
    /// Dropped by an exclusion.
    pub excluded: usize,
    /// Dropped by `ignore-published-before`.
    pub ignored_old: usize,
    /// The rule that applied (its index), if any.
    pub rule: Option<usize>,
    /// Exclusions (indices) that dropped at least one finding, sorted.
    pub matched_exclusions: Vec<usize>,
    /// Expired exclusions (indices) that would have dropped a finding, sorted.
    pub expired_exclusions: Vec<usize>,
}

/// What a whole run used of the policy: fold every [`AppliedSummary`] in with
/// [`Usage::record`], then ask [`Policy::end_of_run`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    rules: BTreeSet<usize>,
    exclusions: BTreeSet<usize>,
    expired_hits: BTreeSet<usize>,
}

impl Usage {
    pub fn record(&mut self, s: &AppliedSummary) {
        self.rules.extend(s.rule);
        self.exclusions.extend(s.matched_exclusions.iter().copied());
        self.expired_hits
            .extend(s.expired_exclusions.iter().copied());
    }

    /// Folds in the usage gathered by another thread.
    pub fn merge(&mut self, other: Usage) {
        self.rules.extend(other.rules);
        self.exclusions.extend(other.exclusions);
        self.expired_hits.extend(other.expired_hits);
    }
}

impl Policy {
    /// Applies the policy to the findings of `package@version`, in this order per finding:
    /// 1. an exclusion in force for the package, version and code drops it;
    /// 2. `ignore-published-before` of the package's rule drops the codes in
    ///    [`IGNORABLE_WHEN_OLD`] when `published` is before that date (UTC); an unknown publish
    ///    time is never old;
    /// 3. the level is set by `cli` (command-line overrides), else the rule's `levels`, else the
    ///    file's `[levels]`, else left as the finding has it (its code's default); `allow`
    ///    drops it.
    ///
    /// An exclusion applies through its `expires` day (UTC) and not after it.
    pub fn apply(
        &self,
        findings: &mut Vec<Finding>,
        package: &str,
        version: &str,
        published: Option<Timestamp>,
        now: Timestamp,
        cli: Option<&LevelMap>,
    ) -> AppliedSummary {
        let today = utc_date(now);
        let rule = self.rule_for(package);
        let old = match (rule.and_then(|r| r.ignore_published_before), published) {
            (Some(cutoff), Some(t)) => utc_date(t) < cutoff,
            _ => false,
        };
        let mut summary = AppliedSummary {
            rule: rule.map(|r| r.index),
            ..AppliedSummary::default()
        };
        let mut matched = BTreeSet::new();
        let mut expired = BTreeSet::new();
        findings.retain_mut(|f| {
            let mut excluded = false;
            for ex in self
                .exclusions
                .iter()
                .filter(|ex| covers(ex, package, version, f.code))
            {
                if is_expired(ex, today) {
                    expired.insert(ex.index);
                } else {
                    matched.insert(ex.index);
                    excluded = true;
                }
            }
            if excluded {
                summary.excluded += 1;
                return false;
            }
            if old && IGNORABLE_WHEN_OLD.contains(&f.code) {
                summary.ignored_old += 1;
                return false;
            }
            let setting = cli
                .and_then(|m| m.get(f.code))
                .or_else(|| rule.and_then(|r| r.levels.get(f.code)))
                .or_else(|| self.levels.get(f.code));
            match setting.copied().map(LevelSetting::level) {
                Some(None) => {
                    summary.allowed += 1;
                    false
                }
                Some(Some(level)) => {
                    f.level = level;
                    true
                }
                None => true,
            }
        });
        summary.matched_exclusions = matched.into_iter().collect();
        summary.expired_exclusions = expired.into_iter().collect();
        summary.suppressed = summary.allowed + summary.excluded + summary.ignored_old;
        summary
    }

    /// Level overrides for run-level findings (no package): `cli`, else `[levels]`. Returns how
    /// many were dropped by `allow`.
    pub fn apply_levels(&self, findings: &mut Vec<Finding>, cli: Option<&LevelMap>) -> usize {
        let before = findings.len();
        findings.retain_mut(|f| {
            let setting = cli
                .and_then(|m| m.get(f.code))
                .or_else(|| self.levels.get(f.code));
            match setting.copied().map(LevelSetting::level) {
                Some(None) => false,
                Some(Some(level)) => {
                    f.level = level;
                    true
                }
                None => true,
            }
        });
        before - findings.len()
    }

    /// The run-level findings about the policy itself, after every package went through
    /// [`Policy::apply`]: `policy-exclusion-expired` (warn) for each exclusion past its
    /// expiry (whether or not it would still match), and `policy-rule-unused` (info) for each
    /// rule that matched no package and each exclusion in force that dropped nothing. Sorted by
    /// position in the file.
    pub fn end_of_run(&self, usage: &Usage, now: Timestamp) -> Vec<Finding> {
        let today = utc_date(now);
        let origin = self.origin();
        let mut out: Vec<(usize, Finding)> = Vec::new();
        for r in &self.rules {
            if !usage.rules.contains(&r.index) {
                out.push((
                    r.at.line,
                    Finding::new(
                        "policy-rule-unused",
                        format!(
                            "the [[package]] rule for `{}` ({origin} line {}) matched no package",
                            r.name, r.at.line
                        ),
                    ),
                ));
            }
        }
        for ex in &self.exclusions {
            if let Some(expiry) = ex.expires.filter(|_| is_expired(ex, today)) {
                let hits = if usage.expired_hits.contains(&ex.index) {
                    "; it would have matched a finding in this run, which is reported"
                } else {
                    ""
                };
                out.push((
                    ex.at.line,
                    Finding::new(
                        "policy-exclusion-expired",
                        format!(
                            "the exclusion for `{}`{} ({origin} line {}) expired on {expiry} and no longer applies{hits}",
                            ex.target(),
                            code_part(ex),
                            ex.at.line
                        ),
                    ),
                ));
            } else if !usage.exclusions.contains(&ex.index) {
                out.push((
                    ex.at.line,
                    Finding::new(
                        "policy-rule-unused",
                        format!(
                            "the exclusion for `{}`{} ({origin} line {}) matched no finding",
                            ex.target(),
                            code_part(ex),
                            ex.at.line
                        ),
                    ),
                ));
            }
        }
        out.sort_by_key(|(line, _)| *line);
        out.into_iter().map(|(_, f)| f).collect()
    }
}

fn code_part(ex: &Exclusion) -> String {
    ex.code
        .as_deref()
        .map(|c| format!(" (`{c}`)"))
        .unwrap_or_default()
}

fn covers(ex: &Exclusion, package: &str, version: &str, code: &str) -> bool {
    ex.package == package
        && ex.version.as_deref().is_none_or(|v| v == version)
        && ex.code.as_deref().is_none_or(|c| c == code)
}

fn is_expired(ex: &Exclusion, today: Date) -> bool {
    ex.expires.is_some_and(|d| today > d)
}

fn utc_date(t: Timestamp) -> Date {
    t.to_zoned(TimeZone::UTC).date()
}
