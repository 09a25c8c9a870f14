//! `npm-provenance history NAME [--packument FILE] [--format json]`: the publishing timeline of
//! every version and the findings each would get if installed.
//!
//! JSON schema `npm-provenance/history/v1`:
//! `{"schema", "package", "versions": [{"version", "published": {"time", "source"},
//! "publisher": {"name", "email", "trusted_publisher", "approver"?}, "provenance":
//! "verified|announced|invalid|none", "class", "removed", "deprecated", "findings": [{"code",
//! "level", "message", "evidence"}]}]}`, versions sorted by time (versions without a time
//! last). Fields are only ever added within v1.

use crate::cli::{Format, HistoryArgs};
use crate::error::{exit, AppError};
use crate::findings::Level;
use crate::policy::facts::{facts_from_packument, ReleaseFacts};
use crate::policy::history::{timeline, HistoryContext, TimelineEntry};
use crate::util::escape_text;
use serde_json::{json, Value};

pub fn run(args: HistoryArgs) -> Result<u8, AppError> {
    let now = super::danger_now(&args.output)?;
    let format = args.output.format();
    if matches!(format, Format::Sarif | Format::Github) {
        return Err(AppError::Usage(format!(
            "history supports --format text|json, not {format:?}"
        )));
    }
    let Some(path) = &args.packument else {
        // TODO(partial): fetch the full packument through crate::registry::RegistryClient.
        return Err(AppError::Usage(
            "online history needs the registry client wiring, not in this build yet: pass \
             --packument FILE (the full packument, e.g. `curl -H 'Accept: application/json' \
             <registry>/NAME`)"
                .into(),
        ));
    };
    let bytes = std::fs::read(path).map_err(|e| AppError::read(path, e))?;
    let doc: Value = serde_json::from_slice(&bytes)
        .map_err(|e| AppError::parse(path, format!("not JSON: {e}")))?;
    if let Some(name) = doc.get("name").and_then(Value::as_str) {
        if name != args.name {
            return Err(AppError::parse(
                path,
                format!(
                    "the packument is for {:?}, not {:?}",
                    escape_text(name),
                    args.name
                ),
            ));
        }
    }
    let releases = facts_from_packument(&doc).map_err(|e| AppError::parse(path, e.to_string()))?;
    let ctx = HistoryContext {
        now: Some(now.unwrap_or_else(jiff::Timestamp::now)),
        dependency_scripts: Default::default(),
    };
    let entries = timeline(&releases, &ctx);
    let rendered = match format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&to_json(&args.name, &entries))
                .map_err(|e| AppError::Usage(format!("cannot render JSON: {e}")))?;
            s.push('\n');
            s
        }
        _ => to_text(&args.name, &entries),
    };
    super::emit(&args.output, rendered.as_bytes())?;
    let denied = entries
        .iter()
        .flat_map(|e| &e.findings)
        .any(|f| f.finding.level >= Level::Deny);
    Ok(if denied { exit::FINDINGS } else { exit::CLEAN })
}

/// The `npm-provenance/history/v1` document.
pub fn to_json(package: &str, entries: &[TimelineEntry<'_>]) -> Value {
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
        "versions": versions,
    })
}

/// One line per version: time, version, publisher, evidence class, findings; the messages of
/// findings at warn or above indented below.
pub fn to_text(package: &str, entries: &[TimelineEntry<'_>]) -> String {
    let mut out = format!(
        "{}: {} versions (times from the registry are unsigned)\n",
        escape_text(package),
        entries.len()
    );
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

fn line(e: &TimelineEntry<'_>) -> String {
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
        e.findings
            .iter()
            .map(|f| format!("{} {}", f.finding.level, f.finding.code))
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
