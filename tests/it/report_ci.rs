//! Reports for CI: `verify --format sarif` and `--format github`.
//!
//! End to end on the offline demo (`testdata/demo/tampered`, the project's test Sigstore): the
//! SARIF log validates against the SARIF 2.1.0 JSON schema shipped in `tests/data/sarif/`,
//! every `ruleId` is a rule, every `startLine` is a lockfile line naming the package; the GitHub
//! commands and the step summary are snapshot-tested. A hand-built report carries registry
//! strings with injection attempts (`x\n::error::pwned`, ANSI escapes, Markdown/HTML).
//! Snapshots compare byte for byte; `UPDATE_SNAPSHOTS=1` rewrites them (never under `CI`).

use npm_provenance::findings::Finding;
use npm_provenance::inventory::{
    Inventory, InventoryCounts, InventoryKind, InventorySource, Origin, PackageRef,
};
use npm_provenance::report::locate::Locations;
use npm_provenance::report::{github, sarif, LevelOptions, PackageReport, Report};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const TAMPERED_LOCK: &str = "testdata/demo/tampered/package-lock.json";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

use npm_provenance_testkit::corpus::in_ci as ci;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("npmprov-reportci-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

/// The README's offline demo command on the tampered project, in `format`.
fn demo_tampered(format: &str, step_summary: Option<&Path>) -> Output {
    let home = tmp("home");
    let _ = std::fs::create_dir_all(&home);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_npm-provenance"));
    cmd.args([
        "verify",
        "testdata/demo/tampered",
        "--offline",
        "--cache-dir",
        "testdata/demo/cache",
        "--trusted-root",
        "testdata/demo/trusted_root.json",
        "--npm-keys",
        "testdata/demo/npm-keys.json",
        "--format",
        format,
    ])
    .current_dir(root())
    .env_clear()
    .env("HOME", &home)
    .env("NO_COLOR", "1");
    if let Some(p) = step_summary {
        cmd.env("GITHUB_STEP_SUMMARY", p);
    }
    cmd.output().unwrap()
}

fn snapshot(name: &str, actual: &[u8]) {
    let p = root().join("tests/data/report_ci").join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() && !ci() {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, actual).unwrap();
    }
    let want = std::fs::read(&p)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_SNAPSHOTS=1)", p.display()));
    assert!(
        want == actual,
        "{name} differs from the snapshot (run with UPDATE_SNAPSHOTS=1 after checking):\n{}",
        String::from_utf8_lossy(actual)
    );
}

fn schema_errors(log: &Value) -> Vec<String> {
    let text =
        std::fs::read_to_string(root().join("tests/data/sarif/sarif-2.1.0.schema.json")).unwrap();
    // Erratum of rtm.5 (see tests/data/sarif/README.md): the `language` patterns (of `run` and
    // `toolComponent`) have a stray
    // `]` that the meta-schema's `regex` format rejects. Patched in memory to the intended form;
    // this renderer emits neither.
    let bad = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    assert_eq!(
        text.matches(bad).count(),
        2,
        "the erratum is where expected"
    );
    let text = text.replace(bad, r#""^[a-zA-Z]{2}(-[a-zA-Z]{2})?$""#);
    let schema: Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::draft4::new(&schema).unwrap();
    validator
        .iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Every result's rule exists (by id and index) and its location is a line of the named file
/// that names the result's package (or line 1 of the lockfile for run-level findings).
fn check_rules_and_lines(log: &Value, lockfile_text: &str, lock_uri: &str) -> usize {
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    let lines: Vec<&str> = lockfile_text.lines().collect();
    for r in results {
        let id = r["ruleId"].as_str().unwrap();
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], id, "ruleIndex of {id}");
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert_eq!(loc["artifactLocation"]["uri"], lock_uri);
        let line = loc["region"]["startLine"].as_u64().unwrap() as usize;
        assert!(line >= 1 && line <= lines.len(), "{line} out of the file");
        match r["properties"]["package"].as_str() {
            Some(name) => assert!(
                lines[line - 1].contains(&format!("node_modules/{name}\"")),
                "line {line} {:?} does not name {name}",
                lines[line - 1]
            ),
            None => assert_eq!(line, 1, "run-level finding"),
        }
    }
    results.len()
}

#[test]
fn sarif_on_the_demo_is_schema_valid_and_located() {
    let out = demo_tampered("sarif", None);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let errors = schema_errors(&log);
    assert!(errors.is_empty(), "{errors:#?}");
    let text = std::fs::read_to_string(root().join(TAMPERED_LOCK)).unwrap();
    let n = check_rules_and_lines(&log, &text, TAMPERED_LOCK);
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert!(n > 0);
    let mismatch = results
        .iter()
        .find(|r| r["ruleId"] == "integrity-mismatch")
        .expect("the tampered package's finding");
    assert_eq!(mismatch["level"], "error");
    assert_eq!(mismatch["properties"]["package"], "demo-utils");
    // Rules: every code, with the mapped default level.
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert_eq!(rules.len(), npm_provenance::findings::CODES.len());
    let rule = |id: &str| rules.iter().find(|r| r["id"] == id).unwrap().clone();
    assert_eq!(
        rule("integrity-mismatch")["defaultConfiguration"]["level"],
        "error"
    );
    assert_eq!(
        rule("registry-keys-unpinned")["defaultConfiguration"]["level"],
        "warning"
    );
    assert_eq!(
        rule("provenance-missing")["defaultConfiguration"]["level"],
        "note"
    );
    snapshot("tampered.sarif", &out.stdout);
}

#[test]
fn schema_validation_rejects_a_broken_log() {
    // The validator is live: a log without `runs`, a result with a bad level, a zero line.
    let out = demo_tampered("sarif", None);
    let good: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut no_runs = good.clone();
    no_runs.as_object_mut().unwrap().remove("runs");
    assert!(!schema_errors(&no_runs).is_empty());
    let mut bad_level = good.clone();
    bad_level["runs"][0]["results"][0]["level"] = "deny".into();
    assert!(!schema_errors(&bad_level).is_empty());
    let mut zero_line = good;
    zero_line["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        0.into();
    assert!(!schema_errors(&zero_line).is_empty());
}

#[test]
fn github_on_the_demo_annotates_and_summarises() {
    let summary = tmp("step-summary.md");
    std::fs::write(&summary, "previous step\n").unwrap();
    let out = demo_tampered("github", Some(&summary));
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    let error = stdout
        .lines()
        .find(|l| l.starts_with("::error ") && l.contains("integrity-mismatch"))
        .unwrap_or_else(|| panic!("{stdout}"));
    let lock = std::fs::read_to_string(root().join(TAMPERED_LOCK)).unwrap();
    let line = lock
        .lines()
        .position(|l| l.contains("\"node_modules/demo-utils\""))
        .unwrap()
        + 1;
    assert!(
        error.starts_with(&format!(
            "::error file={TAMPERED_LOCK},line={line},title=integrity-mismatch (demo-utils@"
        )),
        "{error}"
    );
    snapshot("tampered.github.txt", &out.stdout);
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.starts_with("previous step\n## npm-provenance\n"),
        "appended: {md}"
    );
    snapshot("tampered.summary.md", md.as_bytes());
}

// ---------------------------------------------------------------------------------------------
// Injection: registry strings in every CI output

const EVIL_EMAIL: &str = "x\n::error::pwned";
const ANSI: &str = "\u{1b}[31mred\u{1b}[0m";

fn evil_report() -> Report {
    let mut p = PackageRef {
        name: "evil-pkg".into(),
        alias: None,
        version: "1.0.0".into(),
        integrity: None,
        registry: "https://registry.npmjs.org/".into(),
        origin: Origin::Registry,
        paths: vec!["node_modules/evil-pkg".into()],
        dev: false,
        optional: false,
        peer: false,
        resolved: None,
        has_install_script: false,
        patched: false,
        findings: Vec::new(),
    };
    p.findings.push(Finding::new(
        "publisher-changed",
        format!("published by a token of {EVIL_EMAIL} 100% {ANSI}, a:b\r\n::warning::x"),
    ));
    p.findings.push(Finding::new(
        "integrity-mismatch",
        "<img src=x onerror=alert(1)> | `code` [link](https://evil) & more",
    ));
    let inventory = Inventory {
        source: InventorySource {
            kind: InventoryKind::PackageLock,
            path: "package-lock.json".into(),
            workspace: None,
        },
        binds_bytes: true,
        packages: vec![p.clone()],
        findings: Vec::new(),
        counts: InventoryCounts {
            entries: 1,
            ..InventoryCounts::default()
        },
    };
    Report::build(
        &inventory,
        vec![PackageReport::not_fetched(&p)],
        vec![Finding::new(
            "registry-keys-unpinned",
            format!("keys of {EVIL_EMAIL}"),
        )],
        LevelOptions::default(),
    )
}

const EVIL_LOCK: &str = "{\n  \"lockfileVersion\": 3,\n  \"packages\": {\n    \"\": {},\n    \"node_modules/evil-pkg\": {\n      \"version\": \"1.0.0\"\n    }\n  }\n}\n";

#[test]
fn github_output_is_injection_safe() {
    let report = evil_report();
    let loc = Locations::from_text(&report, "dir,x:y/package-lock.json".into(), EVIL_LOCK);
    let out = github::render(&report, &loc);
    let lines: Vec<&str> = out.lines().collect();
    // Three findings, three commands, one summary line: no line came from data.
    assert_eq!(lines.len(), 4, "{out}");
    let commands = lines.iter().filter(|l| l.starts_with("::")).count();
    assert_eq!(commands, 3, "{out}");
    assert_eq!(lines.iter().filter(|l| l.starts_with("::error")).count(), 1);
    assert!(!out.contains('\r') && !out.contains('\u{1b}'), "{out:?}");
    assert!(!lines.iter().any(|l| l.starts_with("::error::")), "{out}");
    assert!(out.contains("x%0A::error::pwned"), "{out}");
    assert!(out.contains("100%25"), "{out}");
    // Properties: `:` and `,` escaped in the file name; the package's lockfile line.
    assert!(
        out.contains("file=dir%2Cx%3Ay/package-lock.json,line=5,"),
        "{out}"
    );
    snapshot("injection.github.txt", out.as_bytes());

    let md = github::step_summary(&report, &loc);
    assert!(!md.contains("<img"), "{md}");
    assert!(!md.contains("\n::error::pwned"), "{md}");
    assert!(
        md.contains(
            "&lt;img src=x onerror=alert(1)&gt; \\| \\`code\\` \\[link\\](https://evil) &amp; more"
        ),
        "{md}"
    );
    assert!(!md.contains('\u{1b}'), "{md:?}");
    // Every table row is one line with the 5 cells (6 unescaped pipes).
    for row in md.lines().filter(|l| l.starts_with("| ")) {
        let bare = row.replace("\\|", "");
        assert_eq!(bare.matches('|').count(), 6, "{row}");
    }
    snapshot("injection.summary.md", md.as_bytes());
}

#[test]
fn sarif_output_is_injection_safe_and_valid() {
    let report = evil_report();
    let loc = Locations::from_text(&report, "package-lock.json".into(), EVIL_LOCK);
    let out = sarif::render(&report, &loc).unwrap();
    assert!(!out.contains('\u{1b}') && !out.contains("\\u001b"), "{out}");
    let log: Value = serde_json::from_str(&out).unwrap();
    assert!(schema_errors(&log).is_empty());
    assert_eq!(
        check_rules_and_lines(&log, EVIL_LOCK, "package-lock.json"),
        3
    );
    let texts: Vec<&str> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["message"]["text"].as_str().unwrap())
        .collect();
    assert!(texts.iter().all(|t| !t.contains('\n')), "{texts:?}");
    snapshot("injection.sarif", out.as_bytes());
}

// ---------------------------------------------------------------------------------------------
// action.yml

#[test]
fn action_pins_actions_and_keeps_inputs_out_of_scripts() {
    let text = std::fs::read_to_string(root().join("action.yml")).unwrap();
    assert!(text.contains("using: composite"));
    for input in ["path", "format", "policy", "fail-level", "sarif-upload"] {
        assert!(text.contains(&format!("\n  {input}:\n")), "input {input}");
    }
    assert!(text.contains("--fail-level \"$NPMPROV_FAIL_LEVEL\""));
    assert!(text.contains("security-events: write"));
    // Every `uses:` is pinned by a full commit SHA.
    let mut uses = 0;
    for l in text.lines().filter(|l| l.trim_start().starts_with("uses:")) {
        let r = l.split_once('@').map(|(_, r)| r.trim()).unwrap_or("");
        let sha = r.split_whitespace().next().unwrap_or("");
        assert!(
            sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()),
            "not pinned by commit: {l}"
        );
        uses += 1;
    }
    assert_eq!(uses, 2);
    // No `${{ … }}` expression inside a `run:` script (inputs go through `env:`).
    let mut run_indent: Option<usize> = None;
    let mut scripts = 0;
    for l in text.lines() {
        let indent = l.len() - l.trim_start().len();
        if let Some(i) = run_indent {
            if l.trim().is_empty() || indent > i {
                assert!(!l.contains("${{"), "expression in a script: {l}");
                continue;
            }
            run_indent = None;
        }
        if let Some(rest) = l.trim_start().strip_prefix("run:") {
            scripts += 1;
            assert!(!rest.contains("${{"), "expression in a script: {l}");
            run_indent = Some(indent);
        }
    }
    assert!(scripts >= 4);
}

/// Every rule's `helpUri` anchor exists: `docs/findings.md` has a section per code with its
/// default level and description.
#[test]
fn findings_doc_has_every_rule_anchor() {
    let doc = std::fs::read_to_string(root().join("docs/findings.md")).unwrap();
    for c in npm_provenance::findings::CODES {
        let at = doc
            .find(&format!("\n## {}\n", c.code))
            .unwrap_or_else(|| panic!("docs/findings.md lacks ## {}", c.code));
        let section = &doc[at..];
        let body = section[4..].split("\n## ").next().unwrap_or("");
        assert!(
            body.contains(&format!("Default level: `{}`", c.level)),
            "{}",
            c.code
        );
        let mut d = c.description.to_string();
        d[..1].make_ascii_uppercase();
        assert!(body.contains(&d), "{}: {d}", c.code);
        assert!(sarif::help_uri(c.code).ends_with(&format!("docs/findings.md#{}", c.code)));
    }
}

// ---------------------------------------------------------------------------------------------
// Locations on the real corpus lockfiles (every format)

/// Every package of each real corpus lockfile is located at a line of that lockfile that names
/// it (installed or real name), and the SARIF log over all of them is schema-valid.
#[test]
fn corpus_lockfiles_locate_every_package_at_a_line_naming_it() {
    use npm_provenance::inventory::{self, InventoryOptions};
    let Some(dir) = npm_provenance_testkit::corpus::corpus_dir("report_ci corpus") else {
        return;
    };
    for (lock, kind) in [
        (
            "lockfiles/npm-v3-sigstore-js-1063pkgs/package-lock.json",
            InventoryKind::PackageLock,
        ),
        (
            "lockfiles/npm-v2-pdfjs-1673pkgs/package-lock.json",
            InventoryKind::PackageLock,
        ),
        (
            "lockfiles/yarn-v1-excalidraw/yarn.lock",
            InventoryKind::YarnLock,
        ),
        (
            "lockfiles/yarn-berry-prettier/yarn.lock",
            InventoryKind::YarnLock,
        ),
        (
            "lockfiles/pnpm-v9-vite/pnpm-lock.yaml",
            InventoryKind::PnpmLock,
        ),
        (
            "lockfiles/pnpm-v9-vuejs-core/pnpm-lock.yaml",
            InventoryKind::PnpmLock,
        ),
    ] {
        let path = dir.join(lock);
        let inv = inventory::load(&path, &InventoryOptions::default())
            .unwrap_or_else(|e| panic!("{lock}: {e}"));
        assert_eq!(inv.source.kind, kind, "{lock}");
        let packages: Vec<PackageReport> = inv
            .packages
            .iter()
            .map(|p| {
                let mut p = p.clone();
                p.findings
                    .push(Finding::new("provenance-missing", "located"));
                PackageReport::not_fetched(&p)
            })
            .collect();
        let report = Report::build(&inv, packages, Vec::new(), LevelOptions::default());
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let loc = Locations::from_text(&report, "lock".into(), &text);
        let mut not_at_line_1 = 0;
        for p in &report.packages {
            let l = loc.package(p);
            assert!(l.line >= 1 && l.line <= lines.len(), "{lock}: {}", p.name);
            let line = lines[l.line - 1];
            assert!(
                line.contains(&p.name) || line.contains(p.registry_name()),
                "{lock}: line {} {line:?} does not name {}",
                l.line,
                p.name
            );
            not_at_line_1 += usize::from(l.line > 1);
        }
        assert_eq!(not_at_line_1, report.packages.len(), "{lock}");
        let log: Value = serde_json::from_str(&sarif::render(&report, &loc).unwrap()).unwrap();
        let errors = schema_errors(&log);
        assert!(
            errors.is_empty(),
            "{lock}: {:?}",
            &errors[..errors.len().min(5)]
        );
        assert_eq!(
            log["runs"][0]["results"].as_array().unwrap().len(),
            report.all_findings().count(),
            "{lock}"
        );
    }
}

/// In `node_modules` mode a package's findings point at its own `package.json`, at the line of
/// its `"name"`, relative to the source root.
#[test]
fn node_modules_mode_points_at_package_json() {
    use npm_provenance::inventory::{self, InventoryOptions};
    let project = tmp("nm-project");
    let a = project.join("node_modules/a");
    let b = project.join("node_modules/@s/b");
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    std::fs::write(
        a.join("package.json"),
        "{\n  \"version\": \"1.0.0\",\n  \"name\": \"a\"\n}\n",
    )
    .unwrap();
    std::fs::write(
        b.join("package.json"),
        "{\n  \"name\": \"@s/b\",\n  \"version\": \"2.0.0\"\n}\n",
    )
    .unwrap();
    let inv = inventory::load(&project.join("node_modules"), &InventoryOptions::default()).unwrap();
    assert_eq!(inv.source.kind, InventoryKind::NodeModules);
    let packages = inv
        .packages
        .iter()
        .map(PackageReport::not_fetched)
        .collect();
    let report = Report::build(&inv, packages, Vec::new(), LevelOptions::default());
    let loc = Locations::load(&report, &project);
    let find = |n: &str| {
        let p = report.packages.iter().find(|p| p.name == n).unwrap();
        loc.package(p)
    };
    assert_eq!(find("a").path, "node_modules/a/package.json");
    assert_eq!(find("a").line, 3);
    assert_eq!(find("@s/b").path, "node_modules/@s/b/package.json");
    assert_eq!(find("@s/b").line, 2);
    assert_eq!(loc.run().path, "node_modules");
    std::fs::remove_dir_all(&project).unwrap();
}
