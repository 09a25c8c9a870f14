//! `npm-provenance history NAME [--packument FILE] [--format json]`: the publishing timeline of
//! every version and the findings each would get if installed.
//!
//! JSON schema `npm-provenance/history/v1`:
//! `{"schema", "package", "versions": [{"version", "published": {"time", "source"},
//! "publisher": {"name", "email", "trusted_publisher", "approver"?}, "provenance":
//! "verified|announced|invalid|none", "class", "removed", "deprecated", "findings": [{"code",
//! "level", "message", "evidence"}]}], "findings": [run-level findings]}`, versions sorted by
//! time (versions without a time last). Run-level findings: `unverifiable` /
//! `metadata-too-large` when the packument could not be fetched (then `versions` is empty),
//! `registry-metadata-stripped` when no version names its publisher. Fields are only ever
//! added within v1. Exit 1 when any finding denies.

use crate::cli::{Format, HistoryArgs};
use crate::error::{exit, AppError};
use crate::findings::{Finding, Level};
use crate::policy::facts::{facts_from_packument, ReleaseFacts};
use crate::policy::history::{timeline, HistoryContext, TimelineEntry};
use crate::registry::redact::redact_url;
use crate::registry::{plan, setup, Accept, ConfigInputs, ResourceKind};
use crate::util::escape_text;
use serde_json::{json, Value};
use std::path::Path;

pub fn run(args: HistoryArgs) -> Result<u8, AppError> {
    let now = super::danger_now(&args.output)?;
    let format = args.output.format();
    if matches!(format, Format::Sarif | Format::Github) {
        return Err(AppError::Usage(format!(
            "history supports --format text|json, not {format:?}"
        )));
    }
    let (doc, mut run_findings) = match &args.packument {
        Some(path) => (Some(read_packument(path)?), Vec::new()),
        None => fetch_packument(&args)?,
    };
    let releases = match &doc {
        Some(doc) => {
            if let Some(name) = doc.get("name").and_then(Value::as_str) {
                if name != args.name {
                    return Err(packument_problem(
                        &args,
                        format!(
                            "the packument is for {:?}, not {:?}",
                            escape_text(name),
                            args.name
                        ),
                    ));
                }
            }
            facts_from_packument(doc).map_err(|e| packument_problem(&args, e.to_string()))?
        }
        None => Vec::new(),
    };
    if !releases.is_empty()
        && releases
            .iter()
            .filter(|r| !r.removed)
            .all(|r| r.publisher.is_none())
    {
        run_findings.push(Finding::new(
            "registry-metadata-stripped",
            "no version of the packument names its publisher (_npmUser): the registry or mirror \
             strips publisher data, so the publishing history cannot be judged. Fetch the full \
             packument from the public registry (--metadata-registry URL).",
        ));
    }
    let ctx = HistoryContext {
        now: Some(now.unwrap_or_else(jiff::Timestamp::now)),
        dependency_scripts: Default::default(),
    };
    let entries = timeline(&releases, &ctx);
    let rendered = match format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&to_json(&args.name, &entries, &run_findings))
                .map_err(|e| AppError::Usage(format!("cannot render JSON: {e}")))?;
            s.push('\n');
            s
        }
        _ => to_text(&args.name, &entries, &run_findings),
    };
    super::emit(&args.output, rendered.as_bytes())?;
    let denied = run_findings.iter().any(|f| f.level >= Level::Deny)
        || entries
            .iter()
            .flat_map(|e| &e.findings)
            .any(|f| f.finding.level >= Level::Deny);
    Ok(if denied { exit::FINDINGS } else { exit::CLEAN })
}

fn read_packument(path: &Path) -> Result<Value, AppError> {
    let bytes = std::fs::read(path).map_err(|e| AppError::read(path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| AppError::parse(path, format!("not JSON: {e}")))
}

/// A packument that is not usable: a parse error on the user's file, or (fetched) a usage
/// error naming the package.
fn packument_problem(args: &HistoryArgs, problem: String) -> AppError {
    match &args.packument {
        Some(path) => AppError::parse(path, problem),
        None => AppError::Usage(format!(
            "the registry's packument of {}: {problem}",
            args.name
        )),
    }
}

/// Fetches the full packument through the registry client (`--metadata-registry` when given,
/// else the package's configured registry). A network failure or bad answer is a run-level
/// finding (`unverifiable`, or `metadata-too-large`), never exit 2 (DESIGN §1).
fn fetch_packument(args: &HistoryArgs) -> Result<(Option<Value>, Vec<Finding>), AppError> {
    if !is_package_name(&args.name) {
        return Err(AppError::Usage(format!(
            "{:?} is not an npm package name",
            escape_text(&args.name)
        )));
    }
    let inputs = ConfigInputs::from_process(std::env::current_dir().ok(), None);
    let reg = super::snapshot::registry(&args.registry, inputs, args.snapshot.as_deref())?;
    for w in &reg.warnings {
        eprintln!("npm-provenance: warning: {}", escape_text(w));
    }
    let base = reg
        .metadata_registry
        .clone()
        .unwrap_or_else(|| reg.config.registry_for(&args.name).clone());
    let url = plan::packument_url(&base, &args.name).ok_or_else(|| {
        AppError::Usage(format!(
            "{:?} is not an npm package name",
            escape_text(&args.name)
        ))
    })?;
    let fetched =
        setup::runtime()?.block_on(reg.client.get(&url, Accept::Json, ResourceKind::Packument));
    match fetched {
        Ok(f) => match serde_json::from_slice::<Value>(&f.bytes) {
            Ok(doc) => Ok((Some(doc), Vec::new())),
            Err(e) => Ok((
                None,
                vec![Finding::new(
                    "unverifiable",
                    format!("GET {}: the packument is not JSON: {e}", redact_url(&url)),
                )],
            )),
        },
        Err(e) => Ok((None, vec![e.finding()])),
    }
}

/// An npm package name that cannot change the packument URL's path, query or fragment:
/// `name` or `@scope/name`, each part of URL-safe characters, at most 214 long.
fn is_package_name(name: &str) -> bool {
    let part = |p: &str| {
        !p.is_empty()
            && !p.starts_with('.')
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
    };
    name.len() <= 214
        && match name.strip_prefix('@') {
            Some(rest) => rest
                .split_once('/')
                .is_some_and(|(scope, pkg)| part(scope) && part(pkg)),
            None => part(name),
        }
}

/// The `npm-provenance/history/v1` document.
pub fn to_json(package: &str, entries: &[TimelineEntry<'_>], run_findings: &[Finding]) -> Value {
    let versions: Vec<Value> = entries
        .iter()
        .map(|e| {
            let r = e.release;
            let mut publisher = json!({
                "name": r.publisher.as_ref().map(|p| &p.name),
                "email": r.publisher.as_ref().map(|p| &p.email),
                "trusted_publisher": r.trusted_publisher,
            });
            if let Some(a) = &r.approver {
                publisher["approver"] = json!({"name": a.name, "email": a.email});
            }
            json!({
                "version": r.version,
                "published": {
                    "time": r.time.map(|t| t.to_string()),
                    "source": r.time_source.as_str(),
                },
                "publisher": publisher,
                "provenance": r.provenance.as_str(),
                "class": e.class.as_str(),
                "removed": r.removed,
                "deprecated": r.deprecated,
                "findings": e.findings,
            })
        })
        .collect();
    json!({
        "schema": "npm-provenance/history/v1",
        "package": package,
        "findings": run_findings,
        "versions": versions,
    })
}

/// One line per version: time, version, publisher, evidence class, findings; the messages of
/// findings at warn or above indented below.
pub fn to_text(package: &str, entries: &[TimelineEntry<'_>], run_findings: &[Finding]) -> String {
    let mut out = format!(
        "{}: {} versions (times from the registry are unsigned)\n",
        escape_text(package),
        entries.len()
    );
    for f in run_findings {
        out.push_str(&format!("{} {}: {}\n", f.level, f.code, f.message));
    }
    for e in entries {
        out.push_str(&line(e));
        out.push('\n');
        for f in e.findings.iter().filter(|f| f.finding.level >= Level::Warn) {
            out.push_str(&format!(
                "    {} {}: {}\n",
                f.finding.level, f.finding.code, f.finding.message
            ));
        }
    }
    out
}

/// One timeline line: time, version, publisher, evidence class, findings (also used by `inspect`).
pub(crate) fn line(e: &TimelineEntry<'_>) -> String {
    let r: &ReleaseFacts = e.release;
    let time = r
        .time
        .map(|t| t.to_string())
        .unwrap_or_else(|| "(no time)".into());
    let source = match r.time_source.as_str() {
        "rekor" => " [rekor]",
        _ => "",
    };
    let publisher = match &r.publisher {
        Some(p) => format!("{} <{}>", escape_text(&p.name), escape_text(&p.email)),
        None if r.removed => "(removed)".into(),
        None => "(no publisher)".into(),
    };
    let approver = r
        .approver
        .as_ref()
        .map(|a| {
            let who = a.name.as_deref().or(a.email.as_deref()).unwrap_or("?");
            format!(" approved by {}", escape_text(who))
        })
        .unwrap_or_default();
    let findings = if e.findings.is_empty() {
        "-".to_string()
    } else {
        let mut fs: Vec<_> = e.findings.iter().map(|f| &f.finding).collect();
        fs.sort_by(|a, b| b.level.cmp(&a.level).then(a.code.cmp(b.code)));
        fs.iter()
            .map(|f| format!("{} {}", f.level, f.code))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "{time}{source}  {}  {publisher}{approver}  {} (provenance {})  {findings}",
        escape_text(&r.version),
        e.class.as_str(),
        r.provenance.as_str()
    )
}
