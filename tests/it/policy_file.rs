//! The policy file (`npm-provenance.toml`): parsing with line/column errors, globs and
//! specificity, level overrides, exclusions with expiry, unused rules, and pin-mismatch.

use jiff::Timestamp;
use npm_provenance::error::AppError;
use npm_provenance::findings::{Finding, Level};
use npm_provenance::policy::config::{
    identity_check, Identity, LevelMap, LevelSetting, Policy, PolicyErrors, RegistrySignatures,
    Usage,
};
use npm_provenance::policy::{BuildIdentity, Provenance, Publisher};
use std::path::{Path, PathBuf};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/policy")
        .join(name)
}

fn parse(text: &str) -> Result<Policy, PolicyErrors> {
    Policy::parse(text, Path::new("/project"))
}

fn ok(text: &str) -> Policy {
    match parse(text) {
        Ok(p) => p,
        Err(e) => panic!("expected a valid policy, got:\n{e}"),
    }
}

/// The problems as `(line, col, message)`.
fn errs(text: &str) -> Vec<(usize, usize, String)> {
    match parse(text) {
        Ok(p) => panic!("expected errors, got a policy: {p:?}"),
        Err(PolicyErrors(v)) => v.into_iter().map(|e| (e.line, e.col, e.message)).collect(),
    }
}

/// Exactly one problem, at `(line, col)`, whose message contains `needle`.
fn one_err(text: &str, line: usize, col: usize, needle: &str) {
    let e = errs(text);
    assert_eq!(e.len(), 1, "expected one problem, got {e:#?}");
    assert_eq!((e[0].0, e[0].1), (line, col), "position of {:?}", e[0].2);
    assert!(e[0].2.contains(needle), "{:?} lacks {needle:?}", e[0].2);
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn now() -> Timestamp {
    ts("2026-06-01T12:00:00Z")
}

fn finding(code: &'static str) -> Finding {
    Finding::new(code, format!("{code} here"))
}

fn codes(fs: &[Finding]) -> Vec<(&'static str, Level)> {
    fs.iter().map(|f| (f.code, f.level)).collect()
}

// ---------------------------------------------------------------- parsing and validation

#[test]
fn the_documented_example_parses() {
    let p = Policy::load(&data("example.toml")).unwrap();
    assert_eq!(p.fail_level(), Some(Level::Deny));
    assert_eq!(
        p.levels().get("provenance-missing"),
        Some(&LevelSetting::Warn)
    );
    assert_eq!(p.rules().len(), 3);
    let acme = &p.rules()[0];
    assert_eq!(acme.name.as_str(), "@acme/*");
    assert_eq!((acme.at.line, acme.at.col), (11, 8));
    assert_eq!(
        acme.repository.as_deref(),
        Some("https://github.com/acme/monorepo")
    );
    assert!(acme.requires_provenance());
    let legacy = &p.rules()[1];
    assert!(!legacy.requires_provenance());
    assert_eq!(legacy.publishers.len(), 2);
    assert_eq!(
        legacy.ignore_published_before.map(|d| d.to_string()),
        Some("2024-01-01".into())
    );
    assert_eq!(p.rules()[2].repository_id.as_deref(), Some("123456"));
    assert_eq!(p.exclusions().len(), 2);
    assert_eq!(p.exclusions()[0].package, "left-pad");
    assert_eq!(p.exclusions()[0].version.as_deref(), Some("1.3.0"));
    assert_eq!(p.exclusions()[1].version, None);
    assert_eq!(p.exclusions()[1].code, None);
    let internal = p.registry_for("https://NPM.internal.example").unwrap();
    assert_eq!(internal.signatures, RegistrySignatures::None);
    let mirror = p.registry_for("https://mirror.example/npm/").unwrap();
    assert_eq!(mirror.signatures, RegistrySignatures::Required);
    assert_eq!(mirror.keys.as_deref(), Some(data("keys.json").as_path()));
    assert!(p.registry_for("https://registry.npmjs.org/").is_none());
    assert_eq!(p.path(), Some(data("example.toml").as_path()));
}

#[test]
fn an_empty_file_is_the_empty_policy() {
    assert_eq!(ok(""), Policy::default());
    assert_eq!(ok("# only a comment\n"), Policy::default());
}

#[test]
fn every_problem_is_reported_with_line_and_column() {
    let text = std::fs::read_to_string(data("many-problems.toml")).unwrap();
    let e = errs(&text);
    let at: Vec<(usize, usize)> = e.iter().map(|(l, c, _)| (*l, *c)).collect();
    assert_eq!(
        at,
        vec![
            (2, 14),  // fail-level = "error"
            (5, 1),   // unknown code
            (6, 24),  // bad level
            (9, 8),   // bad glob
            (10, 1),  // unknown key
            (14, 7),  // bad ref glob
            (15, 27), // bad date
            (18, 8),  // duplicate rule
            (20, 1),  // exclusion without reason
            (21, 11), // version range
            (22, 11), // bad date
        ],
        "{e:#?}"
    );
    let msgs: Vec<&str> = e.iter().map(|(_, _, m)| m.as_str()).collect();
    assert!(msgs[0].contains("\"error\""));
    assert!(msgs[1].contains("unknown finding code `no-such-code`"));
    assert!(msgs[3].contains("bad glob"));
    assert!(msgs[4].contains("unknown key `colour`"));
    assert!(msgs[7].contains("duplicate rule for `left-pad` (first at line 13)"));
    assert!(msgs[8].contains("without `reason`"));
}

#[test]
fn errors_become_one_exit_2_parse_error_naming_the_file() {
    let err = Policy::load(&data("many-problems.toml")).unwrap_err();
    assert!(matches!(err, AppError::Parse { .. }));
    assert_eq!(err.kind(), "parse");
    let text = err.to_string();
    assert!(text.contains("many-problems.toml"), "{text}");
    assert!(text.contains("11 problems"), "{text}");
    assert!(
        text.contains("line 10, column 1: unknown key `colour`"),
        "{text}"
    );
}

#[test]
fn load_for_uses_the_explicit_file_else_the_project_file_else_nothing() {
    let dir = data("");
    // the explicit file must exist
    let missing = Policy::load_for(&dir, Some(&data("no-such.toml"))).unwrap_err();
    assert!(matches!(missing, AppError::Read { .. }));
    // no npm-provenance.toml in tests/data/policy: the empty policy
    assert_eq!(Policy::load_for(&dir, None).unwrap(), Policy::default());
    let explicit = Policy::load_for(&dir, Some(&data("example.toml"))).unwrap();
    assert_eq!(explicit.rules().len(), 3);
}

#[test]
fn unknown_keys_are_rejected_everywhere() {
    one_err(
        "colour = 1\n",
        1,
        1,
        "unknown key `colour` in the top level",
    );
    one_err(
        "[defaults]\nfail_level = \"deny\"\n",
        2,
        1,
        "unknown key `fail_level`",
    );
    one_err(
        "[[package]]\nname = \"a\"\nrepo = \"x\"\n",
        3,
        1,
        "unknown key `repo` in [[package]]",
    );
    one_err(
        "[[exclusion]]\npackage = \"a\"\nreason = \"r\"\nexpiry = 2026-01-01\n",
        4,
        1,
        "unknown key `expiry` in [[exclusion]]",
    );
    one_err(
        "[[registry]]\nurl = \"https://r.example/\"\nsignature = \"none\"\n",
        3,
        1,
        "unknown key `signature` in [[registry]]",
    );
    // inside an inline table too
    one_err(
        "[[package]]\nname = \"a\"\nlevels = { \"nope\" = \"warn\" }\n",
        3,
        12,
        "unknown finding code `nope`",
    );
}

#[test]
fn bad_globs_are_rejected() {
    one_err("[[package]]\nname = \"@s/***\"\n", 2, 8, "bad glob");
    one_err("[[package]]\nname = \"left?pad\"\n", 2, 8, "bad glob");
    one_err("[[package]]\nname = \"{a,b}\"\n", 2, 8, "bad glob");
    one_err("[[package]]\nname = \"a b\"\n", 2, 8, "bad glob");
    one_err("[[package]]\nname = \"\"\n", 2, 8, "empty");
    one_err(
        "[[package]]\nname = \"a\"\nref = \"v*\"\n",
        3,
        7,
        "full ref",
    );
}

#[test]
fn bad_dates_are_rejected() {
    // a string that is not a date
    one_err(
        "[[exclusion]]\npackage = \"a\"\nreason = \"r\"\nexpires = \"next year\"\n",
        4,
        11,
        "bad date",
    );
    // a date-shaped string that does not exist
    one_err(
        "[[package]]\nname = \"a\"\nignore-published-before = \"2024-02-30\"\n",
        3,
        27,
        "bad date",
    );
    // a TOML date that does not exist is a syntax error, still with its position
    let e = errs("[[exclusion]]\npackage = \"a\"\nreason = \"r\"\nexpires = 2026-02-30\n");
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].0, 4, "{e:?}");
    assert!(e[0].2.contains("invalid TOML"), "{e:?}");
    // a date-time is not a date
    one_err(
        "[[exclusion]]\npackage = \"a\"\nreason = \"r\"\nexpires = 2026-02-03T00:00:00Z\n",
        4,
        11,
        "not a plain date",
    );
}

#[test]
fn toml_syntax_errors_have_a_position() {
    let e = errs("[[package]]\nname = \"a\"\nrepository = \n");
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].0, 3, "{e:?}");
    assert!(e[0].1 > 1, "{e:?}");
    // a key given twice is a TOML error
    let e =
        errs("[levels]\n\"provenance-missing\" = \"warn\"\n\"provenance-missing\" = \"deny\"\n");
    assert_eq!(e[0].0, 3, "{e:?}");
}

#[test]
fn bad_values_are_rejected() {
    one_err(
        "[levels]\n\"provenance-missing\" = \"loud\"\n",
        2,
        24,
        "must be one of",
    );
    one_err(
        "[levels]\n\"provenance-missing\" = 1\n",
        2,
        24,
        "must be one of",
    );
    one_err(
        "[defaults]\nfail-level = \"allow\"\n",
        2,
        14,
        "not one of deny, warn, info",
    );
    one_err("defaults = 3\n", 1, 1, "must be a table");
    one_err("[package]\nname = \"a\"\n", 1, 2, "array of tables");
    one_err(
        "[[package]]\nrepository = \"https://github.com/o/r\"\n",
        1,
        1,
        "without `name`",
    );
    one_err(
        "[[package]]\nname = \"a\"\nrepository = \"http://github.com/o/r\"\n",
        3,
        14,
        "not https",
    );
    one_err(
        "[[package]]\nname = \"a\"\nrepository = \"https://github.com/o\"\n",
        3,
        14,
        "OWNER/REPO",
    );
    one_err(
        "[[package]]\nname = \"a\"\nrepository-id = \"12a\"\n",
        3,
        17,
        "positive number",
    );
    one_err(
        "[[package]]\nname = \"a\"\nworkflow = \".github/workflows/r.yml@refs/heads/main\"\n",
        3,
        12,
        "no `@ref`",
    );
    one_err(
        "[[package]]\nname = \"a\"\nissuer = \"token.actions.githubusercontent.com\"\n",
        3,
        10,
        "https URL",
    );
    one_err(
        "[[package]]\nname = \"a\"\nrequire-provenance = \"yes\"\n",
        3,
        22,
        "true or false",
    );
    one_err(
        "[[package]]\nname = \"a\"\npublishers = [\"alice <alice>\"]\n",
        3,
        15,
        "not an e-mail",
    );
    one_err(
        "[[package]]\nname = \"a\"\npublishers = []\n",
        3,
        14,
        "empty",
    );
    one_err("[[exclusion]]\nreason = \"r\"\n", 1, 1, "without `package`");
    one_err(
        "[[exclusion]]\npackage = \"@s/*\"\nreason = \"r\"\n",
        2,
        11,
        "no wildcards",
    );
    one_err(
        "[[exclusion]]\npackage = \"a\"\ncode = \"no-such\"\nreason = \"r\"\n",
        3,
        8,
        "unknown finding code",
    );
    one_err(
        "[[exclusion]]\npackage = \"a\"\nreason = \"\"\n",
        3,
        10,
        "empty",
    );
    one_err(
        "[[registry]]\nurl = \"ftp://r.example/\"\n",
        2,
        7,
        "not http or https",
    );
    one_err(
        "[[registry]]\nurl = \"https://r.example/\"\nsignatures = \"some\"\n",
        3,
        14,
        "\"required\" or \"none\"",
    );
    one_err(
        "[[registry]]\nsignatures = \"none\"\n",
        1,
        1,
        "without `url`",
    );
    one_err(
        "[[registry]]\nurl = \"https://r.example/\"\nsignatures = \"none\"\nkeys = \"k.json\"\n",
        2,
        7,
        "pinned keys are for a registry that signs",
    );
}

#[test]
fn duplicates_are_rejected() {
    one_err(
        "[[package]]\nname = \"a\"\n\n[[package]]\nname = \"a\"\n",
        5,
        8,
        "duplicate rule for `a` (first at line 2)",
    );
    one_err(
        "[[exclusion]]\npackage = \"a@1.0.0\"\nreason = \"r\"\n[[exclusion]]\npackage = \"a@1.0.0\"\nreason = \"s\"\n",
        5,
        11,
        "duplicate exclusion",
    );
    // the same package with another code is not a duplicate
    ok("[[exclusion]]\npackage = \"a@1.0.0\"\ncode = \"provenance-missing\"\nreason = \"r\"\n[[exclusion]]\npackage = \"a@1.0.0\"\nreason = \"s\"\n");
    one_err(
        "[[registry]]\nurl = \"https://R.example\"\n[[registry]]\nurl = \"https://r.example/\"\n",
        4,
        7,
        "duplicate registry",
    );
}

#[test]
fn equally_specific_overlapping_rules_are_a_tie() {
    // both match `@s/ab`: two wildcards each, same literal prefix and count
    one_err(
        "[[package]]\nname = \"@s/*a*\"\n[[package]]\nname = \"@s/*b*\"\n",
        4,
        8,
        "equally specific",
    );
    one_err(
        "[[package]]\nname = \"*-a*\"\n[[package]]\nname = \"*-b*\"\n",
        4,
        8,
        "equally specific",
    );
    // equally specific but disjoint: fine
    ok("[[package]]\nname = \"@s/a*\"\n[[package]]\nname = \"@s/b*\"\n");
    // overlapping but one more specific (longer literal prefix): fine
    ok("[[package]]\nname = \"@s/*\"\n[[package]]\nname = \"@*/x\"\n");
    ok("[[package]]\nname = \"@s/*\"\n[[package]]\nname = \"@s/**\"\n[[package]]\nname = \"@s/x\"\n");
}

// ---------------------------------------------------------------- globs and specificity

#[test]
fn star_does_not_cross_slash_double_star_does() {
    let p = ok("[[package]]\nname = \"*\"\n[[package]]\nname = \"@s/*\"\n");
    assert_eq!(p.rule_for("left-pad").unwrap().name.as_str(), "*");
    assert_eq!(p.rule_for("@s/a").unwrap().name.as_str(), "@s/*");
    assert!(p.rule_for("@t/a").is_none(), "`*` must not cross `/`");
    let p = ok("[[package]]\nname = \"**\"\n");
    assert!(p.rule_for("@t/a").is_some());
    assert!(p.rule_for("left-pad").is_some());
    let p = ok("[[package]]\nname = \"@*/core\"\n");
    assert!(p.rule_for("@babel/core").is_some());
    assert!(p.rule_for("@babel/core-js").is_none());
    assert!(p.rule_for("core").is_none());
}

#[test]
fn the_most_specific_rule_wins() {
    let p = ok(r#"
[[package]]
name = "**"
[[package]]
name = "@s/**"
[[package]]
name = "@s/*"
[[package]]
name = "@s/*-plugin"
[[package]]
name = "@s/eslint-*"
[[package]]
name = "@s/eslint-config"
"#);
    let rule = |n: &str| p.rule_for(n).map(|r| r.name.as_str().to_string());
    // exact beats everything
    assert_eq!(
        rule("@s/eslint-config").as_deref(),
        Some("@s/eslint-config")
    );
    // same wildcard count: the longer literal prefix wins
    assert_eq!(rule("@s/eslint-plugin").as_deref(), Some("@s/eslint-*"));
    // same wildcard count and prefix: more literal characters win
    assert_eq!(rule("@s/foo-plugin").as_deref(), Some("@s/*-plugin"));
    // `*` beats `**`
    assert_eq!(rule("@s/foo").as_deref(), Some("@s/*"));
    assert_eq!(rule("@s/a/b").as_deref(), Some("@s/**"));
    assert_eq!(rule("left-pad").as_deref(), Some("**"));
    // the order in the file does not matter
    let q = ok(r#"
[[package]]
name = "@s/eslint-config"
[[package]]
name = "@s/*"
[[package]]
name = "**"
"#);
    assert_eq!(
        q.rule_for("@s/eslint-config").unwrap().name.as_str(),
        "@s/eslint-config"
    );
    assert_eq!(q.rule_for("@s/x").unwrap().name.as_str(), "@s/*");
}

// ---------------------------------------------------------------- levels

#[test]
fn level_precedence_is_flag_then_package_then_file_then_default() {
    let p = ok(r#"
[levels]
"provenance-missing" = "warn"
"publisher-changed" = "deny"
"identity-drift" = "allow"
[[package]]
name = "a"
levels = { "publisher-changed" = "info" }
"#);
    let run = |pkg: &str, cli: Option<&LevelMap>| {
        let mut fs = vec![
            finding("provenance-missing"),
            finding("publisher-changed"),
            finding("identity-drift"),
            finding("install-script-added"),
        ];
        let s = p.apply(&mut fs, pkg, "1.0.0", None, now(), cli);
        (codes(&fs), s)
    };
    // file levels, then the package's own
    let (fs, s) = run("a", None);
    assert_eq!(
        fs,
        vec![
            ("provenance-missing", Level::Warn),
            ("publisher-changed", Level::Info),
            ("install-script-added", Level::Warn), // default
        ]
    );
    assert_eq!((s.suppressed, s.allowed, s.rule), (1, 1, Some(0)));
    // another package: only the file's [levels]
    let (fs, s) = run("b", None);
    assert_eq!(fs[1], ("publisher-changed", Level::Deny));
    assert_eq!(s.rule, None);
    // the command line wins over both, including over `allow`
    let mut cli = LevelMap::new();
    cli.insert("publisher-changed".into(), LevelSetting::Deny);
    cli.insert("identity-drift".into(), LevelSetting::Warn);
    cli.insert("install-script-added".into(), LevelSetting::Allow);
    let (fs, s) = run("a", Some(&cli));
    assert_eq!(
        fs,
        vec![
            ("provenance-missing", Level::Warn),
            ("publisher-changed", Level::Deny),
            ("identity-drift", Level::Warn),
        ]
    );
    assert_eq!(s.allowed, 1);
}

#[test]
fn run_level_findings_take_file_and_flag_levels() {
    let p =
        ok("[levels]\n\"policy-rule-unused\" = \"allow\"\n\"registry-keys-unpinned\" = \"deny\"\n");
    let mut fs = vec![
        finding("policy-rule-unused"),
        finding("registry-keys-unpinned"),
    ];
    assert_eq!(p.apply_levels(&mut fs, None), 1);
    assert_eq!(codes(&fs), vec![("registry-keys-unpinned", Level::Deny)]);
}

// ---------------------------------------------------------------- exclusions

const EXCLUSIONS: &str = r#"
[[exclusion]]
package = "left-pad@1.3.0"
code = "provenance-downgrade"
reason = "rebuilt by hand"
expires = 2026-12-31

[[exclusion]]
package = "@s/old"
reason = "unmaintained, vendored"
expires = 2026-05-31

[[exclusion]]
package = "is-odd"
reason = "any version, any code"

[[exclusion]]
package = "never-installed@1.0.0"
reason = "stale"
"#;

#[test]
fn exclusions_match_by_package_version_and_code() {
    let p = ok(EXCLUSIONS);
    let mut fs = vec![
        finding("provenance-downgrade"),
        finding("publisher-changed"),
    ];
    let s = p.apply(&mut fs, "left-pad", "1.3.0", None, now(), None);
    assert_eq!(codes(&fs), vec![("publisher-changed", Level::Warn)]);
    assert_eq!((s.suppressed, s.excluded), (1, 1));
    assert_eq!(s.matched_exclusions, vec![0]);
    // another version: not excluded
    let mut fs = vec![finding("provenance-downgrade")];
    let s = p.apply(&mut fs, "left-pad", "1.3.1", None, now(), None);
    assert_eq!(fs.len(), 1);
    assert!(s.matched_exclusions.is_empty());
    // name only, no code: every finding of every version
    let mut fs = vec![finding("unverifiable"), finding("pin-mismatch")];
    let s = p.apply(&mut fs, "is-odd", "9.9.9", None, now(), None);
    assert!(fs.is_empty());
    assert_eq!((s.suppressed, s.matched_exclusions.clone()), (2, vec![2]));
    // exact names: no prefix matching
    let mut fs = vec![finding("unverifiable")];
    p.apply(&mut fs, "is-odd-evil", "1.0.0", None, now(), None);
    assert_eq!(fs.len(), 1);
}

#[test]
fn an_exclusion_applies_through_its_expiry_day_and_not_after() {
    let p = ok(EXCLUSIONS);
    let on = |t: &str| {
        let mut fs = vec![finding("publisher-changed")];
        let s = p.apply(&mut fs, "@s/old", "2.0.0", None, ts(t), None);
        (fs.len(), s)
    };
    let (left, s) = on("2026-05-31T23:59:59Z");
    assert_eq!(left, 0);
    assert_eq!(s.matched_exclusions, vec![1]);
    let (left, s) = on("2026-06-01T00:00:00Z");
    assert_eq!(left, 1, "an expired exclusion must not apply");
    assert!(s.matched_exclusions.is_empty());
    assert_eq!(s.expired_exclusions, vec![1]);
}

#[test]
fn expired_and_unused_exclusions_and_rules_are_reported_after_the_run() {
    let text = format!(
        "{EXCLUSIONS}\n[[package]]\nname = \"left-pad\"\n[[package]]\nname = \"@nobody/*\"\n"
    );
    let p = ok(&text);
    let mut usage = Usage::default();
    for (name, version, code) in [
        ("left-pad", "1.3.0", "provenance-downgrade"),
        ("@s/old", "2.0.0", "publisher-changed"),
        ("is-odd", "1.0.0", "provenance-missing"),
    ] {
        let mut fs = vec![finding(code)];
        usage.record(&p.apply(&mut fs, name, version, None, now(), None));
    }
    let end = p.end_of_run(&usage, now());
    let got: Vec<(&str, Level, &str)> = end
        .iter()
        .map(|f| (f.code, f.level, f.message.as_str()))
        .collect();
    assert_eq!(got.len(), 3, "{got:#?}");
    // @s/old: expired (and it would have matched)
    assert_eq!(
        (got[0].0, got[0].1),
        ("policy-exclusion-expired", Level::Warn)
    );
    assert!(
        got[0].2.contains("`@s/old`") && got[0].2.contains("2026-05-31"),
        "{}",
        got[0].2
    );
    assert!(got[0].2.contains("would have matched"), "{}", got[0].2);
    // never-installed: unused
    assert_eq!((got[1].0, got[1].1), ("policy-rule-unused", Level::Info));
    assert!(got[1].2.contains("never-installed@1.0.0"), "{}", got[1].2);
    // the rule for @nobody/* matched no package; the one for left-pad did
    assert_eq!((got[2].0, got[2].1), ("policy-rule-unused", Level::Info));
    assert!(got[2].2.contains("`@nobody/*`"), "{}", got[2].2);
    // an expired exclusion is reported even when nothing would have matched it
    let end = p.end_of_run(&Usage::default(), now());
    let expired: Vec<&Finding> = end
        .iter()
        .filter(|f| f.code == "policy-exclusion-expired")
        .collect();
    assert_eq!(expired.len(), 1);
    assert!(!expired[0].message.contains("would have matched"));
    // before its expiry an exclusion that matched nothing is unused, not expired
    let end = p.end_of_run(&Usage::default(), ts("2026-01-01T00:00:00Z"));
    assert!(end.iter().all(|f| f.code == "policy-rule-unused"));
    assert_eq!(end.len(), 6);
}

#[test]
fn ignore_published_before_drops_history_findings_of_old_releases_only() {
    let p = ok("[[package]]\nname = \"a\"\nignore-published-before = 2024-01-01\n");
    let run = |published: Option<&str>| {
        let mut fs = vec![
            finding("provenance-missing"),
            finding("publisher-changed"),
            finding("registry-signature-invalid"),
            finding("unverifiable"),
        ];
        let s = p.apply(&mut fs, "a", "1.0.0", published.map(ts), now(), None);
        (codes(&fs), s.ignored_old)
    };
    let (fs, dropped) = run(Some("2023-12-31T23:59:59Z"));
    assert_eq!(dropped, 2);
    assert_eq!(
        fs,
        vec![
            ("registry-signature-invalid", Level::Deny),
            ("unverifiable", Level::Deny)
        ],
        "evidence failures are never dropped by age"
    );
    assert_eq!(run(Some("2024-01-01T00:00:00Z")).1, 0);
    assert_eq!(run(None).1, 0, "an unknown publish time is never old");
    // another package: the rule does not apply
    let mut fs = vec![finding("provenance-missing")];
    p.apply(
        &mut fs,
        "b",
        "1.0.0",
        Some(ts("2020-01-01T00:00:00Z")),
        now(),
        None,
    );
    assert_eq!(fs.len(), 1);
}

// ---------------------------------------------------------------- pin-mismatch

fn build(repo: &str, id: Option<&str>, workflow_file: &str, git_ref: &str) -> BuildIdentity {
    BuildIdentity {
        issuer: "https://token.actions.githubusercontent.com".into(),
        repository: repo.into(),
        repository_id: id.map(Into::into),
        workflow: format!("{repo}/{workflow_file}@{git_ref}"),
        source_ref: Some(git_ref.into()),
        trigger: Some("push".into()),
        runner: Some("github-hosted".into()),
    }
}

const PINNED: &str = r#"
[[package]]
name = "@acme/*"
repository = "https://github.com/acme/repo"
repository-id = "42"
workflow = ".github/workflows/release.yml"
ref = "refs/tags/v*"
issuer = "https://token.actions.githubusercontent.com"
"#;

fn check(policy: &Policy, prov: Provenance, publisher: Option<Publisher>) -> Vec<Finding> {
    let rule = policy.rule_for("@acme/x").unwrap();
    identity_check(
        rule,
        &Identity {
            provenance: &prov,
            publisher: publisher.as_ref(),
        },
    )
}

#[test]
fn the_pinned_identity_passes() {
    let p = ok(PINNED);
    let prov = Provenance::verified(build(
        "https://github.com/acme/repo",
        Some("42"),
        ".github/workflows/release.yml",
        "refs/tags/v1.2.3",
    ));
    assert_eq!(check(&p, prov.clone(), None), vec![]);
    // URL case and a `.git` suffix do not matter
    let prov = Provenance::verified(build(
        "https://github.com/Acme/Repo",
        Some("42"),
        ".github/workflows/release.yml",
        "refs/tags/v1.2.3",
    ));
    let mut id = prov.identity().unwrap().clone();
    id.workflow =
        "https://github.com/Acme/Repo/.github/workflows/release.yml@refs/tags/v1.2.3".into();
    assert_eq!(check(&p, Provenance::verified(id), None), vec![]);
}

#[test]
fn a_repository_is_never_matched_by_prefix() {
    let p = ok("[[package]]\nname = \"@acme/*\"\nrepository = \"https://github.com/acme/repo\"\n");
    for evil in [
        "https://github.com/acme/repo-evil",
        "https://github.com/acme/repo/evil",
        "https://github.com/acme/rep",
        "https://github.com.evil.example/acme/repo",
    ] {
        let prov = Provenance::verified(build(
            evil,
            None,
            ".github/workflows/release.yml",
            "refs/tags/v1",
        ));
        let fs = check(&p, prov, None);
        assert_eq!(fs.len(), 1, "{evil}: {fs:?}");
        assert_eq!((fs[0].code, fs[0].level), ("pin-mismatch", Level::Deny));
        assert!(
            fs[0].message.contains("https://github.com/acme/repo"),
            "{}",
            fs[0].message
        );
        assert!(fs[0].message.contains(evil), "{}", fs[0].message);
    }
}

#[test]
fn each_differing_part_is_one_pin_mismatch_naming_pinned_and_seen() {
    let p = ok(PINNED);
    let good = build(
        "https://github.com/acme/repo",
        Some("42"),
        ".github/workflows/release.yml",
        "refs/tags/v1.2.3",
    );
    let cases: Vec<(BuildIdentity, &str, &str)> = vec![
        (
            BuildIdentity {
                repository_id: Some("43".into()),
                ..good.clone()
            },
            "repository id pinned to 42",
            "seen 43",
        ),
        (
            BuildIdentity {
                repository_id: None,
                ..good.clone()
            },
            "repository id pinned to 42",
            "without a repository id",
        ),
        (
            build(
                "https://github.com/acme/repo",
                Some("42"),
                ".github/workflows/other.yml",
                "refs/tags/v1.2.3",
            ),
            "workflow pinned to .github/workflows/release.yml",
            "other.yml",
        ),
        (
            build(
                "https://github.com/acme/repo",
                Some("42"),
                ".github/workflows/release.yml",
                "refs/heads/main",
            ),
            "ref pinned to refs/tags/v*",
            "seen refs/heads/main",
        ),
        (
            // `*` in the ref does not cross `/`
            build(
                "https://github.com/acme/repo",
                Some("42"),
                ".github/workflows/release.yml",
                "refs/tags/v1/x",
            ),
            "ref pinned to refs/tags/v*",
            "seen refs/tags/v1/x",
        ),
        (
            BuildIdentity {
                issuer: "https://gitlab.com".into(),
                ..good.clone()
            },
            "issuer pinned to https://token.actions.githubusercontent.com",
            "seen https://gitlab.com",
        ),
        (
            BuildIdentity {
                source_ref: None,
                ..good.clone()
            },
            "ref pinned",
            "without a source ref",
        ),
    ];
    for (seen, pinned_text, seen_text) in cases {
        let fs = check(&p, Provenance::verified(seen.clone()), None);
        assert_eq!(fs.len(), 1, "{seen:?}: {fs:#?}");
        assert_eq!((fs[0].code, fs[0].level), ("pin-mismatch", Level::Deny));
        assert!(fs[0].message.contains(pinned_text), "{}", fs[0].message);
        assert!(fs[0].message.contains(seen_text), "{}", fs[0].message);
        assert!(
            fs[0].message.contains("`@acme/*` (line 3)"),
            "{}",
            fs[0].message
        );
    }
    // a workflow from another repository is not the pinned in-repository workflow
    let mut other_repo = good.clone();
    other_repo.workflow =
        "https://github.com/evil/repo/.github/workflows/release.yml@refs/tags/v1.2.3".into();
    assert_eq!(check(&p, Provenance::verified(other_repo), None).len(), 1);
}

#[test]
fn pinned_provenance_is_required_unless_the_rule_says_otherwise() {
    let p = ok(PINNED);
    for (prov, seen) in [
        (Provenance::None, "no provenance"),
        (Provenance::Announced, "announced but not verified"),
        (Provenance::Invalid, "does not verify"),
    ] {
        let fs = check(&p, prov, None);
        assert_eq!(fs.len(), 1);
        assert_eq!(fs[0].code, "pin-mismatch");
        assert!(
            fs[0]
                .message
                .contains("verified provenance required by the rule for `@acme/*` (line 3), seen"),
            "{}",
            fs[0].message
        );
        assert!(fs[0].message.contains(seen), "{}", fs[0].message);
    }
    // require-provenance = false: a token publish by an allowed publisher passes
    let p = ok(r#"
[[package]]
name = "@acme/*"
require-provenance = false
publishers = ["alice <Alice@Example.com>", "<ops@acme.example>"]
"#);
    let alice = Publisher {
        name: "alice".into(),
        email: "alice@example.com".into(),
    };
    assert_eq!(check(&p, Provenance::None, Some(alice)), vec![]);
    let bot = Publisher {
        name: "anyone".into(),
        email: "ops@acme.example".into(),
    };
    assert_eq!(check(&p, Provenance::None, Some(bot)), vec![]);
    // the axios pattern: the same account with a new e-mail
    let hijack = Publisher {
        name: "alice".into(),
        email: "alice@proton.example".into(),
    };
    let fs = check(&p, Provenance::None, Some(hijack));
    assert_eq!(fs.len(), 1);
    assert!(
        fs[0]
            .message
            .contains("publisher pinned to one of [alice <Alice@Example.com>, <ops@acme.example>]"),
        "{}",
        fs[0].message
    );
    assert!(
        fs[0].message.contains("seen alice <alice@proton.example>"),
        "{}",
        fs[0].message
    );
    // no publisher recorded: fail closed
    let fs = check(&p, Provenance::None, None);
    assert_eq!(fs.len(), 1);
    assert!(fs[0].message.contains("no publisher"), "{}", fs[0].message);
}

#[test]
fn a_rule_without_an_identity_pins_nothing() {
    let p = ok("[[package]]\nname = \"@acme/*\"\nlevels = { \"provenance-missing\" = \"deny\" }\n");
    assert_eq!(check(&p, Provenance::None, None), vec![]);
}

#[test]
fn identity_of_release_facts() {
    let p = ok(PINNED);
    let rule = p.rule_for("@acme/x").unwrap();
    let facts = npm_provenance::policy::ReleaseFacts {
        version: "1.0.0".into(),
        time: None,
        time_source: npm_provenance::policy::TimeSource::RegistryUnsigned,
        publisher: None,
        trusted_publisher: false,
        approver: None,
        provenance: Provenance::verified(build(
            "https://github.com/acme/repo-evil",
            Some("42"),
            ".github/workflows/release.yml",
            "refs/tags/v1",
        )),
        install_scripts: vec![],
        dependencies: Default::default(),
        deprecated: false,
        removed: false,
    };
    let fs = identity_check(rule, &Identity::of(&facts));
    assert_eq!(codes(&fs), vec![("pin-mismatch", Level::Deny)]);
}

#[test]
fn dotted_keys_and_sub_tables_are_checked_too() {
    let p = ok("[[package]]\nname = \"a\"\nlevels.publisher-changed = \"allow\"\n");
    assert_eq!(
        p.rules()[0].levels.get("publisher-changed"),
        Some(&LevelSetting::Allow)
    );
    let p = ok("[[package]]\nname = \"a\"\n[package.levels]\n\"provenance-missing\" = \"deny\"\n");
    assert_eq!(
        p.rules()[0].levels.get("provenance-missing"),
        Some(&LevelSetting::Deny)
    );
    one_err(
        "[[package]]\nname = \"a\"\n[package.levels]\n\"provenance-mising\" = \"deny\"\n",
        4,
        1,
        "unknown finding code `provenance-mising`",
    );
    one_err("[foo]\nx = 1\n", 1, 2, "unknown key `foo`");
}

#[test]
fn a_large_pinned_file_parses_and_matches_quickly() {
    // what `pin` writes for a big tree: one exact rule per package
    let mut text = String::new();
    for i in 0..3000 {
        text.push_str(&format!(
            "[[package]]\nname = \"pkg-{i}\"\nrepository = \"https://github.com/o/r{i}\"\n\n"
        ));
    }
    text.push_str("[[package]]\nname = \"pkg-1\"\n");
    let e = errs(&text);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].2
            .contains("duplicate rule for `pkg-1` (first at line 6)"),
        "{e:?}"
    );
    let p = ok(&text[..text.len() - "[[package]]\nname = \"pkg-1\"\n".len()]);
    for i in (0..3000).step_by(7) {
        let name = format!("pkg-{i}");
        assert_eq!(p.rule_for(&name).unwrap().name.as_str(), name);
    }
    assert!(p.rule_for("pkg-3000").is_none());
}

/// A poor man's fuzzer: every single-character deletion and a few replacements at every
/// position of the example either parse or fail with positions inside the text; never a panic.
#[test]
fn mutated_files_never_panic_and_errors_point_inside_the_file() {
    let text = std::fs::read_to_string(data("example.toml")).unwrap();
    let lines = text.lines().count() + 1;
    let chars: Vec<char> = text.chars().collect();
    let mut failures = 0;
    for i in 0..chars.len() {
        for replacement in [None, Some('"'), Some('*'), Some('['), Some('9'), Some('é')] {
            let mut m: Vec<char> = chars.clone();
            match replacement {
                None => {
                    m.remove(i);
                }
                Some(c) => m[i] = c,
            }
            let mutated: String = m.into_iter().collect();
            if let Err(PolicyErrors(errors)) = parse(&mutated) {
                failures += 1;
                assert!(!errors.is_empty());
                for e in errors {
                    assert!(e.line >= 1 && e.line <= lines, "{e:?} in\n{mutated}");
                    assert!(e.col >= 1, "{e:?}");
                    assert!(!e.message.is_empty());
                }
            }
        }
    }
    assert!(
        failures > chars.len(),
        "mutations should mostly break the file"
    );
}

#[test]
fn fail_level_is_flag_then_file_then_deny() {
    let p = ok("[defaults]\nfail-level = \"warn\"\n");
    assert_eq!(p.effective_fail_level(None), Level::Warn);
    assert_eq!(p.effective_fail_level(Some(Level::Info)), Level::Info);
    assert_eq!(Policy::default().effective_fail_level(None), Level::Deny);
}

#[test]
fn check_identity_uses_the_rule_for_the_package() {
    let p = ok(PINNED);
    let none = Provenance::None;
    let id = Identity {
        provenance: &none,
        publisher: None,
    };
    assert_eq!(
        codes(&p.check_identity("@acme/x", &id)),
        vec![("pin-mismatch", Level::Deny)]
    );
    assert!(p.check_identity("@other/x", &id).is_empty());
}

#[test]
fn seen_values_are_escaped_in_messages() {
    let p = ok("[[package]]\nname = \"@acme/*\"\npublishers = [\"alice\"]\n");
    let evil = Publisher {
        name: "mallory".into(),
        email: "x\n::error::pwned\u{1b}[2J".into(),
    };
    let fs = check(&p, Provenance::None, Some(evil));
    assert_eq!(fs.len(), 1);
    assert!(
        !fs[0].message.chars().any(char::is_control),
        "{:?}",
        fs[0].message
    );
    assert!(fs[0].message.contains("::error::pwned"));
}

#[test]
fn an_unsigned_registry_gives_a_warning_a_signing_one_does_not() {
    let p = Policy::load(&data("example.toml")).unwrap();
    let internal = p.registry_for("https://npm.internal.example/").unwrap();
    let f = internal.unsigned_finding().unwrap();
    assert_eq!((f.code, f.level), ("registry-unsigned", Level::Warn));
    assert!(f.message.contains("https://npm.internal.example/"));
    let mirror = p.registry_for("https://mirror.example/npm/").unwrap();
    assert!(mirror.unsigned_finding().is_none());
}

#[test]
fn near_misses_get_a_suggestion() {
    one_err(
        "[defaults]\nfail_level = \"deny\"\n",
        2,
        1,
        "did you mean `fail-level`?",
    );
    one_err(
        "[[package]]\nname = \"a\"\nrepo = \"x\"\n",
        3,
        1,
        "expected one of: name, repository",
    );
    one_err(
        "[levels]\n\"provenance-mising\" = \"warn\"\n",
        2,
        1,
        "unknown finding code `provenance-mising` in [levels] (did you mean `provenance-missing`?)",
    );
    one_err(
        "[[exclusion]]\npackage = \"a\"\ncode = \"pin_mismatch\"\nreason = \"r\"\n",
        3,
        8,
        "did you mean `pin-mismatch`?",
    );
}

#[test]
fn the_example_in_the_docs_is_valid() {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/policy.md"))
        .unwrap();
    let start = doc
        .find("```toml\n")
        .expect("a toml block in docs/policy.md")
        + 8;
    let len = doc[start..].find("```").unwrap();
    let p = ok(&doc[start..start + len]);
    assert_eq!(p.rules().len(), 2);
    assert_eq!(p.exclusions().len(), 1);
    assert_eq!(p.registries().len(), 2);
    assert_eq!(
        p.rule_for("@acme/legacy").unwrap().name.as_str(),
        "@acme/legacy"
    );
    assert_eq!(p.rule_for("@acme/web").unwrap().name.as_str(), "@acme/*");
}

#[test]
fn usage_from_several_threads_merges() {
    let p = ok(EXCLUSIONS);
    let mut a = Usage::default();
    let mut b = Usage::default();
    let mut fs = vec![finding("provenance-downgrade")];
    a.record(&p.apply(&mut fs, "left-pad", "1.3.0", None, now(), None));
    let mut fs = vec![finding("provenance-missing")];
    b.record(&p.apply(&mut fs, "is-odd", "1.0.0", None, now(), None));
    a.merge(b);
    let unused: Vec<String> = p
        .end_of_run(&a, now())
        .into_iter()
        .filter(|f| f.code == "policy-rule-unused")
        .map(|f| f.message)
        .collect();
    assert_eq!(unused.len(), 1, "{unused:?}");
    assert!(unused[0].contains("never-installed"));
}
