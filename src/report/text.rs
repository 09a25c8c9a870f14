//! The text renderer, for people (not a contract): the summary first, then the findings grouped
//! by level with the evidence behind them, then what to do next.
//!
//! Every registry-controlled string (names, versions, e-mails, URLs, messages that quote them)
//! goes through [`escape_text`] (DESIGN §6): control characters, CR, LF and ESC become visible
//! escapes, so a packument cannot write terminal sequences or fake lines. Colour only when the
//! caller says so (a terminal, and `NO_COLOR` unset).

use super::{Clock, PackageReport, Report};
use crate::findings::{Finding, Level};
use crate::inventory::Origin;
use crate::util::escape_text;
use crate::verify::evidence::Check;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// How to render.
#[derive(Debug, Clone, Copy)]
pub struct TextOptions {
    /// ANSI colours on the level labels.
    pub color: bool,
    /// The `--fail-level`, for the closing verdict.
    pub fail_level: Level,
}

/// Most packages listed per info code (the rest are counted).
const INFO_EXAMPLES: usize = 5;
/// A warning code carried by more packages than this is listed by code, not per package.
const GROUP_ABOVE: usize = 10;
/// Most packages listed in the not-from-registry line (the rest are counted).
const OTHER_EXAMPLES: usize = 20;

/// Renders the report as text.
pub fn render(r: &Report, opts: TextOptions) -> String {
    let mut out = String::new();
    summary(&mut out, r);
    for level in [Level::Deny, Level::Warn] {
        detailed(&mut out, r, level, opts);
    }
    info(&mut out, r, opts);
    not_from_registry(&mut out, r);
    next_steps(&mut out, r);
    verdict(&mut out, r, opts);
    out
}

fn x(s: &str) -> String {
    escape_text(s)
}

fn summary(out: &mut String, r: &Report) {
    let s = &r.summary;
    let _ = writeln!(
        out,
        "npm-provenance verify: {} ({}{})",
        x(&r.inventory.path),
        serde_json::to_value(r.inventory.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        if r.inventory.binds_bytes {
            ""
        } else {
            ", no integrity binds the installed bytes"
        }
    );
    let registry = s.packages - s.not_from_registry - s.bundled;
    let _ = writeln!(
        out,
        "  {registry} registry packages ({} lockfile entries): {} verified, {} with provenance, \
         {} without provenance",
        s.entries, s.verified, s.with_provenance, s.without_provenance
    );
    let _ = writeln!(
        out,
        "  not verifiable: {} unverifiable, {} invalid, {} without registry signature",
        s.unverifiable, s.invalid, s.missing_signature
    );
    let _ = writeln!(
        out,
        "  not checked here: {} not from a registry, {} bundled in a parent's tarball",
        s.not_from_registry, s.bundled
    );
    let _ = writeln!(
        out,
        "  findings: {} deny, {} warn, {} info",
        s.findings.deny, s.findings.warn, s.findings.info
    );
    match r.clock {
        Clock::System => {
            let _ = writeln!(
                out,
                "  clock: system (time-dependent rules at the time of the run)"
            );
        }
        Clock::DangerNow { now } => {
            let _ = writeln!(out, "  clock: pinned by --danger-now at {now}");
        }
    }
    if let Some(snap) = &r.snapshot {
        let _ = writeln!(
            out,
            "  registry data: snapshot {} taken at {}, replayed offline",
            x(&snap.dir),
            snap.taken_at
        );
    }
}

fn label(level: Level, color: bool) -> String {
    let name = level.as_str().to_ascii_uppercase();
    if !color {
        return name;
    }
    let code = match level {
        Level::Deny => "31;1",
        Level::Warn => "33;1",
        Level::Info => "36",
    };
    format!("\u{1b}[{code}m{name}\u{1b}[0m")
}

/// Every finding at `level`, run-level first, each with the package's evidence.
fn detailed(out: &mut String, r: &Report, level: Level, opts: TextOptions) {
    let run: Vec<&Finding> = r.findings.iter().filter(|f| f.level == level).collect();
    // Warnings shared by many packages (e.g. lockfile-integrity-missing on an old lockfile)
    // are listed by code; every deny is shown with its evidence.
    let mut per_code: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for p in &r.packages {
        for f in p.findings.iter().filter(|f| f.level == level) {
            per_code
                .entry(f.code)
                .or_default()
                .push(format!("{}@{}", x(&p.name), x(&p.version)));
        }
    }
    let grouped: BTreeMap<&str, Vec<String>> = per_code
        .into_iter()
        .filter(|(_, v)| level < Level::Deny && v.len() > GROUP_ABOVE)
        .collect();
    let pkgs: Vec<(&PackageReport, Vec<&Finding>)> = r
        .packages
        .iter()
        .map(|p| {
            (
                p,
                p.findings
                    .iter()
                    .filter(|f| f.level == level && !grouped.contains_key(f.code))
                    .collect::<Vec<_>>(),
            )
        })
        .filter(|(_, f)| !f.is_empty())
        .collect();
    let n = run.len()
        + pkgs.iter().map(|(_, f)| f.len()).sum::<usize>()
        + grouped.values().map(Vec::len).sum::<usize>();
    if n == 0 {
        return;
    }
    let _ = writeln!(out, "\n{} ({n})", label(level, opts.color));
    for f in run {
        let _ = writeln!(out, "  {}  (whole run)", f.code);
        let _ = writeln!(out, "      {}", x(&f.message));
    }
    for (code, items) in &grouped {
        let _ = writeln!(
            out,
            "  {code}: {} packages ({})",
            items.len(),
            examples(items)
        );
    }
    for (p, fs) in pkgs {
        let _ = writeln!(out, "  {}", package_title(p));
        for f in fs {
            let _ = writeln!(out, "    {}: {}", f.code, x(&f.message));
        }
        evidence(out, p);
    }
}

/// The first few items and how many more.
fn examples(items: &[String]) -> String {
    let shown: Vec<&str> = items
        .iter()
        .take(INFO_EXAMPLES)
        .map(String::as_str)
        .collect();
    let more = items.len().saturating_sub(INFO_EXAMPLES);
    if more > 0 {
        format!("{}, and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

fn package_title(p: &PackageReport) -> String {
    let mut t = format!("{}@{}", x(&p.name), x(&p.version));
    if let Some(real) = &p.real_name {
        let _ = write!(t, " (alias of {})", x(real));
    }
    if let Some(first) = p.paths.first() {
        let more = p.paths.len() - 1;
        let _ = write!(t, "  at {}", x(first));
        if more > 0 {
            let _ = write!(t, " (+{more})");
        }
    }
    t
}

fn check(c: &Check) -> String {
    let mut s = c.status.as_str().to_string();
    let mut notes = Vec::new();
    if let Some(r) = &c.reason {
        notes.push(x(r));
    }
    if let Some(k) = &c.keyid {
        notes.push(format!("key {}", x(k)));
    }
    if let Some(k) = c.key_source {
        notes.push(k.to_string());
    }
    if !notes.is_empty() {
        let _ = write!(s, " ({})", notes.join(", "));
    }
    s
}

fn evidence(out: &mut String, p: &PackageReport) {
    if !p.origin.is_registry() {
        return;
    }
    let _ = writeln!(
        out,
        "      registry signature: {}; publish attestation: {}; provenance: {}; integrity: {}",
        check(&p.registry_signature),
        check(&p.publish_attestation),
        check(&p.provenance),
        check(&p.integrity)
    );
    let Some(id) = &p.identity else { return };
    if let Some(repo) = &id.source_repository_uri {
        let _ = writeln!(
            out,
            "      built from {} {} {}",
            x(repo),
            x(id.workflow_path.as_deref().unwrap_or("?")),
            x(id.git_ref.as_deref().unwrap_or(""))
        );
    }
    if let Some(u) = &id.npm_user {
        let _ = writeln!(
            out,
            "      published by {} <{}>{}",
            x(u.name.as_deref().unwrap_or("?")),
            x(u.email.as_deref().unwrap_or("?")),
            match &u.trusted_publisher {
                Some(tp) => format!(" through trusted publishing ({})", x(tp)),
                None => String::new(),
            }
        );
    }
}

/// Info findings grouped by code, with a few packages each.
fn info(out: &mut String, r: &Report, opts: TextOptions) {
    let mut by_code: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for f in r.findings.iter().filter(|f| f.level == Level::Info) {
        by_code
            .entry(f.code)
            .or_default()
            .push(format!("(whole run) {}", x(&f.message)));
    }
    for p in &r.packages {
        for f in p.findings.iter().filter(|f| f.level == Level::Info) {
            by_code
                .entry(f.code)
                .or_default()
                .push(format!("{}@{}", x(&p.name), x(&p.version)));
        }
    }
    if by_code.is_empty() {
        return;
    }
    let n: usize = by_code.values().map(Vec::len).sum();
    let _ = writeln!(out, "\n{} ({n})", label(Level::Info, opts.color));
    for (code, items) in by_code {
        let _ = writeln!(out, "  {code}: {} ({})", items.len(), examples(&items));
    }
}

fn not_from_registry(out: &mut String, r: &Report) {
    let others: Vec<&PackageReport> = r
        .packages
        .iter()
        .filter(|p| !p.origin.is_registry() && p.origin != Origin::Bundled)
        .collect();
    if others.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nNot from a registry, not verified ({}):",
        others.len()
    );
    for p in others.iter().take(OTHER_EXAMPLES) {
        let origin = serde_json::to_value(p.origin)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let _ = writeln!(out, "  {origin} {}", package_title(p));
    }
    if others.len() > OTHER_EXAMPLES {
        let _ = writeln!(out, "  … and {} more", others.len() - OTHER_EXAMPLES);
    }
}

/// One line of advice per code at `warn` or above present in the report.
fn next_steps(out: &mut String, r: &Report) {
    let mut codes: Vec<(Level, &str)> = r
        .all_findings()
        .filter(|f| f.level >= Level::Warn)
        .map(|f| (f.level, f.code))
        .collect();
    codes.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    codes.dedup_by(|a, b| a.1 == b.1);
    if codes.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nWhat to do next:");
    for (_, code) in codes {
        let _ = writeln!(out, "  - {code}: {}", advice(code));
    }
}

fn advice(code: &str) -> &'static str {
    match code {
        "registry-signature-invalid"
        | "integrity-mismatch"
        | "subject-mismatch"
        | "provenance-invalid"
        | "publish-attestation-invalid"
        | "provenance-inconsistent" => {
            "do not install this version: what the registry signed does not match what is \
             locked; find the change that introduced it and report it to the registry"
        }
        "registry-metadata-stripped" => {
            "the registry or mirror strips signatures: add --metadata-registry \
             https://registry.npmjs.org/ (the lockfile's integrity still binds the bytes)"
        }
        "registry-signature-missing" => {
            "the registry serves no signature for this version: verify against the public \
             registry with --metadata-registry, or ask the registry to sign"
        }
        "unverifiable" | "metadata-too-large" => {
            "the evidence could not be fetched or read: re-run when the registry answers; \
             --allow-unverifiable reports these as warnings"
        }
        "attestations-missing" | "publish-attestation-missing" => {
            "the registry announces attestations it does not serve: re-run, and treat the \
             version as suspect if it persists"
        }
        "version-not-in-registry" => {
            "the locked version is gone from the registry (unpublished or never there): update \
             the dependency"
        }
        "lockfile-integrity-missing" | "lockfile-integrity-weak" => {
            "re-create the lockfile with a current npm so that it pins sha512 integrities"
        }
        "node-modules-binds-no-bytes" => {
            "verify the lockfile instead of node_modules so that the installed bytes are bound"
        }
        "registry-keys-unpinned" => "pin the registry's keys with --npm-keys FILE",
        "registry-key-unknown" | "registry-key-expired" => {
            "refresh the pinned npm keys (trust-roots update) or pass --npm-keys"
        }
        "registry-mismatch" => {
            "the lockfile resolved the package from another registry than the configured one: \
             check .npmrc and the lockfile"
        }
        _ => "see docs/report.md for this code",
    }
}

fn verdict(out: &mut String, r: &Report, opts: TextOptions) {
    let failing = r
        .all_findings()
        .filter(|f| f.level >= opts.fail_level)
        .count();
    if failing > 0 {
        let _ = writeln!(
            out,
            "\nFAIL: {failing} finding(s) at or above {}",
            opts.fail_level
        );
    } else {
        let _ = writeln!(out, "\nPASS: no finding at or above {}", opts.fail_level);
    }
}
