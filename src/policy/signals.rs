//! The rows of the decision table (`docs/history.md`): which signals fire on a release, each
//! with its readable paragraph. Levels are combined in [`super::history`].

use super::evidence::{describe_baseline, describe_publisher, ReleaseRef};
use super::facts::{Publisher, ReleaseFacts};
use super::history::{
    account_known, context_c, is_established, EvidenceClass, HistoryContext, Signal, Weight, D,
};
use super::version;
use crate::util::escape_text;
use jiff::Timestamp;
use std::collections::BTreeMap;

pub(super) fn signals(
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
    let expected = describe_baseline(r, baseline);

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
    // Whether the baseline was verified or only announced ends every history finding
    // (`evidence::describe_baseline_evidence`).

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
                "Expected: {expected}, class {}. Seen: {seen}: {what}.",
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

fn publisher_message(
    p: &Publisher,
    r_time: Timestamp,
    earlier: &[&ReleaseFacts],
    seen: &str,
) -> String {
    let mut pairs: Vec<&Publisher> = Vec::new();
    for x in earlier.iter().filter(|x| !x.trusted_publisher) {
        if let Some(q) = &x.publisher {
            if !pairs.contains(&q) {
                pairs.push(q);
            }
        }
    }
    let established: Vec<&Publisher> = pairs
        .into_iter()
        .filter(|q| is_established(q, r_time, earlier))
        .collect();
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
        .map(|q| {
            let by: Vec<&&ReleaseFacts> = earlier
                .iter()
                .filter(|x| !x.trusted_publisher && x.publisher.as_ref() == Some(*q))
                .collect();
            let at = |x: Option<&&&ReleaseFacts>| {
                x.map(|x| {
                    let t = x.time.map(|t| t.to_string()).unwrap_or_default();
                    format!("{} at {t}", escape_text(&x.version))
                })
                .unwrap_or_default()
            };
            format!(
                "{}: {} release(s), first {}, last {}",
                describe_publisher(q),
                by.len(),
                at(by.last()),
                at(by.first())
            )
        })
        .collect();
    format!(
        "Expected: a token publish by an established publisher ({}{}). Seen: {seen}: {novelty}.",
        if list.is_empty() {
            "none established".to_string()
        } else {
            list.join("; ")
        },
        if established.len() > 5 { "; …" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependency_script_status_by_name() {
        let m = BTreeMap::from([
            ("@s/a@1.0.0".to_string(), Some(false)),
            ("@s/a@2.0.0".to_string(), Some(true)),
            ("b@1.0.0".to_string(), Some(false)),
            ("c@1.0.0".to_string(), None),
        ]);
        assert_eq!(dependency_script_status("@s/a", &m), Some(true));
        assert_eq!(dependency_script_status("b", &m), Some(false));
        assert_eq!(dependency_script_status("c", &m), None);
        assert_eq!(dependency_script_status("d", &m), None);
        assert_eq!(dependency_script_status("@s", &m), None);
    }
}
