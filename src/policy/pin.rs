//! `npm-provenance pin`, the pure part: what a verified tree establishes about each package
//! name → new `[[package]]` rules → the policy file's text with them appended (trust on first
//! use). No I/O, no clock: the caller passes the verified evidence and the stamp.
//!
//! Rules (documented in `docs/policy.md`, section "pin"):
//! - only a name whose installed versions **all** verified is pinned; a version that failed
//!   (invalid, unverifiable, a deny finding) makes the whole name [`PinPlan::refused`] (never
//!   pin an attack);
//! - verified provenance → `repository`, `repository-id` (when the certificate has one),
//!   `workflow`, `issuer` and `require-provenance = true`; no publishers (a trusted-publishing
//!   release's `_npmUser` is npm's own);
//! - no provenance → `require-provenance = false` and the publishers (`_npmUser`) of the
//!   installed versions;
//! - several installed versions of one name that disagree (different build identities, or some
//!   with provenance and some without) → nothing is pinned for the name ([`PinPlan::skipped`]):
//!   choosing one would make the others fail the next `verify`;
//! - a version the publishing history flags (a warning about the identity: `identity-changed`,
//!   `publisher-changed`, `provenance-downgrade`, …) is not trusted on first use: the name is
//!   skipped, for a person to review;
//! - a name already governed by a rule of the file (exact or glob) is left alone;
//! - the text before the new rules is kept byte for byte: new rules are only appended, sorted
//!   by name, each under a comment saying when and from what it was pinned.

use super::config::{Policy, PublisherPattern};
use super::facts::{BuildIdentity, Publisher};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use toml_edit::{Array, ArrayOfTables, DocumentMut, Item, Table, Value};

/// What verification established about one installed version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Established {
    /// Everything verified, with verified provenance from this build identity.
    Provenance(BuildIdentity),
    /// Everything verified, no provenance; the registry's `_npmUser`, if any.
    NoProvenance(Option<Publisher>),
    /// Verified provenance whose certificate lacks what a pin needs (issuer, repository,
    /// workflow).
    IncompleteProvenance,
    /// Verified, but the publishing history flags the version (a warning such as
    /// `identity-changed` or `publisher-changed`): the codes. Not pinned without a review.
    Flagged(String),
    /// Verification failed: why (a code or status), for the user.
    Failed(String),
}

/// One installed registry package version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinInput {
    /// The registry name (not an alias).
    pub name: String,
    pub version: String,
    pub established: Established,
}

/// A `[[package]]` rule to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRule {
    pub name: String,
    /// The installed versions it was established from, sorted.
    pub versions: Vec<String>,
    pub repository: Option<String>,
    pub repository_id: Option<String>,
    pub workflow: Option<String>,
    pub issuer: Option<String>,
    pub require_provenance: bool,
    /// `name <email>`, `name` or `<email>`, sorted, deduplicated.
    pub publishers: Vec<String>,
}

/// What `pin` will do, per name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PinPlan {
    /// New rules, sorted by name.
    pub rules: Vec<NewRule>,
    /// Names left alone and why (already governed, disagreeing versions, nothing to pin).
    pub skipped: Vec<(String, String)>,
    /// Names not pinned because a version failed verification: `name@version: why`.
    pub refused: Vec<String>,
}

/// Decides the new rules for a verified tree under the existing `policy`.
pub fn plan(inputs: &[PinInput], policy: &Policy) -> PinPlan {
    let mut by_name: BTreeMap<&str, Vec<&PinInput>> = BTreeMap::new();
    for i in inputs {
        by_name.entry(&i.name).or_default().push(i);
    }
    let mut out = PinPlan::default();
    for (name, mut versions) in by_name {
        versions.sort_by(|a, b| a.version.cmp(&b.version));
        versions.dedup_by(|a, b| a.version == b.version);
        let failed: Vec<String> = versions
            .iter()
            .filter_map(|v| match &v.established {
                Established::Failed(why) => Some(format!("{name}@{}: {why}", v.version)),
                _ => None,
            })
            .collect();
        if !failed.is_empty() {
            out.refused.extend(failed);
            continue;
        }
        if let Some(rule) = policy.rule_for(name) {
            out.skipped.push((
                name.to_string(),
                format!(
                    "already governed by the rule for `{}` (line {})",
                    rule.name, rule.at.line
                ),
            ));
            continue;
        }
        // Each rule must be valid on its own (a name the policy format refuses is skipped
        // here rather than failing the whole file later).
        match rule_for(name, &versions).and_then(|rule| {
            render("", std::slice::from_ref(&rule), "", Path::new("."))?;
            Ok(rule)
        }) {
            Ok(rule) => out.rules.push(rule),
            Err(why) => out.skipped.push((name.to_string(), why)),
        }
    }
    out
}

/// The rule all `versions` of `name` agree on, or why there is none.
fn rule_for(name: &str, versions: &[&PinInput]) -> Result<NewRule, String> {
    let list: Vec<String> = versions.iter().map(|v| v.version.clone()).collect();
    let mut builds: BTreeSet<(String, Option<String>, String, String)> = BTreeSet::new();
    let mut publishers: BTreeSet<String> = BTreeSet::new();
    let mut without = 0;
    for v in versions {
        match &v.established {
            Established::Provenance(b) => {
                let repo = super::config::normalize_repository(&b.repository)
                    .map_err(|e| format!("{}: repository {:?}: {e}", v.version, b.repository))?;
                builds.insert((
                    repo,
                    b.repository_id
                        .as_deref()
                        .map(|id| id.trim_start_matches('0').to_string()),
                    b.workflow_file().to_string(),
                    b.issuer.clone(),
                ));
            }
            Established::NoProvenance(publisher) => {
                without += 1;
                let Some(p) = publisher else {
                    return Err(format!(
                        "{}: no provenance and no publisher in the registry metadata: nothing to pin",
                        v.version
                    ));
                };
                publishers.insert(publisher_pattern(p).ok_or_else(|| {
                    format!(
                        "{}: the publisher {:?} <{}> cannot be written as a pin",
                        v.version, p.name, p.email
                    )
                })?);
            }
            Established::IncompleteProvenance => {
                return Err(format!(
                    "{}: verified provenance without an issuer, repository or workflow to pin",
                    v.version
                ))
            }
            Established::Flagged(codes) => {
                return Err(format!(
                    "{}: the publishing history flags it ({codes}): review, then pin by hand",
                    v.version
                ))
            }
            Established::Failed(why) => return Err(why.clone()),
        }
    }
    if !builds.is_empty() && without > 0 {
        return Err(format!(
            "installed versions {} mix provenance and none: pin by hand",
            list.join(", ")
        ));
    }
    if builds.len() > 1 {
        return Err(format!(
            "installed versions {} were built by different identities: pin by hand",
            list.join(", ")
        ));
    }
    let mut rule = NewRule {
        name: name.to_string(),
        versions: list,
        repository: None,
        repository_id: None,
        workflow: None,
        issuer: None,
        require_provenance: false,
        publishers: Vec::new(),
    };
    match builds.into_iter().next() {
        Some((repo, id, workflow, issuer)) => {
            rule.repository = Some(repo);
            rule.repository_id = id.filter(|i| !i.is_empty());
            rule.workflow = Some(workflow);
            rule.issuer = Some(issuer);
            rule.require_provenance = true;
        }
        None => rule.publishers = publishers.into_iter().collect(),
    }
    Ok(rule)
}

/// `name <email>` (or `name` without an e-mail), only when it parses back to the same
/// publisher, so a pin never says less or more than what was seen.
fn publisher_pattern(p: &Publisher) -> Option<String> {
    let s = if p.email.is_empty() {
        p.name.clone()
    } else {
        format!("{} <{}>", p.name, p.email)
    };
    let parsed = PublisherPattern::parse(&s).ok()?;
    let same = parsed.name.as_deref() == Some(p.name.as_str())
        && parsed.email.as_deref().unwrap_or("") == p.email;
    same.then_some(s)
}

/// The policy text with `rules` appended: `existing` is kept byte for byte (a newline is added
/// when it does not end with one), each rule goes under a comment `# pinned by npm-provenance
/// pin on STAMP from NAME@VERSIONS (…)`. The result is parsed with [`Policy::parse`] before it
/// is returned: an invalid file is never produced.
pub fn render(
    existing: &str,
    rules: &[NewRule],
    stamp: &str,
    base_dir: &Path,
) -> Result<String, String> {
    if rules.is_empty() {
        return Ok(existing.to_string());
    }
    // Validate the existing text first: appending never repairs or hides a broken file.
    Policy::parse(existing, base_dir).map_err(|e| e.to_string())?;
    let mut aot = ArrayOfTables::new();
    let mut sorted: Vec<&NewRule> = rules.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    for r in sorted {
        aot.push(table_of(r, stamp));
    }
    let mut doc = DocumentMut::new();
    doc.insert("package", Item::ArrayOfTables(aot));
    let block = doc.to_string();
    let mut text = existing.to_string();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&block);
    Policy::parse(&text, base_dir)
        .map_err(|e| format!("the pinned policy would not be valid (not written): {e}"))?;
    Ok(text)
}

fn table_of(r: &NewRule, stamp: &str) -> Table {
    let mut t = Table::new();
    let what = if r.require_provenance {
        "verified provenance"
    } else {
        "no provenance; publishers from the registry's _npmUser"
    };
    // Names are npm package names and versions semver strings; strip anything that could end
    // the comment line anyway.
    let clean = |s: &str| s.replace(|c: char| c.is_control(), "?");
    t.decor_mut().set_prefix(format!(
        "\n# pinned by npm-provenance pin on {} from {}@{} ({what})\n",
        clean(stamp),
        clean(&r.name),
        clean(&r.versions.join(", "))
    ));
    t.insert("name", toml_edit::value(r.name.as_str()));
    if let Some(v) = &r.repository {
        t.insert("repository", toml_edit::value(v.as_str()));
    }
    if let Some(v) = &r.repository_id {
        t.insert("repository-id", toml_edit::value(v.as_str()));
    }
    if let Some(v) = &r.workflow {
        t.insert("workflow", toml_edit::value(v.as_str()));
    }
    if let Some(v) = &r.issuer {
        t.insert("issuer", toml_edit::value(v.as_str()));
    }
    t.insert("require-provenance", toml_edit::value(r.require_provenance));
    if !r.publishers.is_empty() {
        let arr: Array = r.publishers.iter().map(String::as_str).collect();
        t.insert("publishers", Item::Value(Value::Array(arr)));
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(repo: &str, workflow: &str) -> BuildIdentity {
        BuildIdentity {
            issuer: "https://token.actions.githubusercontent.com".into(),
            repository: repo.into(),
            repository_id: Some("0042".into()),
            workflow: format!("{repo}/{workflow}@refs/tags/v1.0.0"),
            source_ref: Some("refs/tags/v1.0.0".into()),
            trigger: None,
            runner: None,
        }
    }

    fn input(name: &str, version: &str, e: Established) -> PinInput {
        PinInput {
            name: name.into(),
            version: version.into(),
            established: e,
        }
    }

    fn alice() -> Established {
        Established::NoProvenance(Some(Publisher {
            name: "alice".into(),
            email: "alice@example.com".into(),
        }))
    }

    #[test]
    fn plans_provenance_publishers_refusals_and_disagreements() {
        let b = build(
            "https://github.com/Org/Repo",
            ".github/workflows/release.yml",
        );
        let inputs = [
            input("zeta", "1.0.0", Established::Provenance(b.clone())),
            input("zeta", "1.1.0", Established::Provenance(b.clone())),
            input("alpha", "2.0.0", alice()),
            input(
                "bad",
                "1.0.0",
                Established::Failed("integrity: invalid".into()),
            ),
            input("bad", "1.1.0", alice()),
            input("mixed", "1.0.0", alice()),
            input(
                "mixed",
                "2.0.0",
                Established::Provenance(build("https://github.com/o/m", ".github/workflows/x.yml")),
            ),
            input("governed", "1.0.0", alice()),
            input(
                "flagged",
                "1.0.0",
                Established::Flagged("publisher-changed".into()),
            ),
        ];
        let policy = Policy::parse(
            "[[package]]\nname = \"gov*\"\nrequire-provenance = false\n",
            Path::new("."),
        )
        .unwrap();
        let p = plan(&inputs, &policy);
        let names: Vec<_> = p.rules.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["alpha", "zeta"]);
        let zeta = &p.rules[1];
        assert_eq!(
            zeta.repository.as_deref(),
            Some("https://github.com/org/repo")
        );
        assert_eq!(zeta.repository_id.as_deref(), Some("42"));
        assert_eq!(
            zeta.workflow.as_deref(),
            Some(".github/workflows/release.yml")
        );
        assert!(zeta.require_provenance);
        assert!(zeta.publishers.is_empty());
        assert_eq!(zeta.versions, ["1.0.0", "1.1.0"]);
        let alpha = &p.rules[0];
        assert!(!alpha.require_provenance);
        assert_eq!(alpha.publishers, ["alice <alice@example.com>"]);
        assert_eq!(p.refused, ["bad@1.0.0: integrity: invalid"]);
        let skipped: Vec<_> = p.skipped.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(skipped, ["flagged", "governed", "mixed"]);
        assert!(p.skipped[0].1.contains("publisher-changed"), "{p:?}");
    }

    #[test]
    fn different_build_identities_pin_nothing() {
        let inputs = [
            input(
                "x",
                "1.0.0",
                Established::Provenance(build("https://github.com/o/a", ".github/workflows/r.yml")),
            ),
            input(
                "x",
                "2.0.0",
                Established::Provenance(build("https://github.com/o/b", ".github/workflows/r.yml")),
            ),
        ];
        let p = plan(&inputs, &Policy::default());
        assert!(p.rules.is_empty());
        assert!(p.skipped[0].1.contains("different identities"), "{p:?}");
    }

    #[test]
    fn render_appends_after_the_existing_text_and_parses() {
        let existing = "# my policy\n[levels]\n\"staged-publish\" = \"allow\"   # noisy\n";
        let b = build("https://github.com/o/r", ".github/workflows/release.yml");
        let inputs = [
            input("@s/b", "1.0.0", Established::Provenance(b)),
            input("a-b", "1.0.0", alice()),
            input("bad\"quote", "1.0.0", alice()),
        ];
        let p = plan(&inputs, &Policy::default());
        let text = render(existing, &p.rules, "2026-11-23", Path::new(".")).unwrap();
        assert!(text.starts_with(existing), "{text}");
        let policy = Policy::parse(&text, Path::new(".")).unwrap();
        assert_eq!(policy.rules().len(), 2);
        assert!(policy.rule_for("@s/b").unwrap().requires_provenance());
        assert!(text.contains("# pinned by npm-provenance pin on 2026-11-23 from @s/b@1.0.0"));
        // Sorted by name: `@s/b` before `a-b`; a name the format refuses is skipped.
        assert!(text.find("@s/b").unwrap() < text.find("\"a-b\"").unwrap());
        assert_eq!(p.skipped.len(), 1, "{p:?}");
        assert_eq!(p.skipped[0].0, "bad\"quote");
        // No final newline in the existing text: one is added, nothing else changes.
        let text = render("[levels]", &p.rules, "t", Path::new(".")).unwrap();
        assert!(text.starts_with("[levels]\n"));
        // Nothing to add: unchanged.
        assert_eq!(
            render(existing, &[], "t", Path::new(".")).unwrap(),
            existing
        );
    }

    #[test]
    fn render_refuses_an_invalid_existing_file() {
        let p = plan(&[input("a", "1.0.0", alice())], &Policy::default());
        assert!(render("colour = 1\n", &p.rules, "t", Path::new(".")).is_err());
        // `package` as an inline array cannot take a `[[package]]` table after it.
        let err = render(
            "package = [{ name = \"z\", require-provenance = false }]\n",
            &p.rules,
            "t",
            Path::new("."),
        );
        assert!(err.is_err(), "{err:?}");
    }

    #[test]
    fn publisher_patterns_round_trip_or_are_refused() {
        let p = |n: &str, e: &str| Publisher {
            name: n.into(),
            email: e.into(),
        };
        assert_eq!(
            publisher_pattern(&p("GitHub Actions", "x@example.com")).as_deref(),
            Some("GitHub Actions <x@example.com>")
        );
        assert_eq!(publisher_pattern(&p("bob", "")).as_deref(), Some("bob"));
        assert_eq!(publisher_pattern(&p("two words", "")), None);
        assert_eq!(publisher_pattern(&p("evil <a@b>", "c@d")), None);
    }
}
