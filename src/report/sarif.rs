//! The SARIF renderer: `verify --format sarif`, a SARIF 2.1.0 log for code scanning.
//!
//! One run; `tool.driver.rules` holds **every** finding code of [`CODES`] in table order (so a
//! rule's index is stable across runs and a code that stops occurring still has its rule):
//! id = code, `shortDescription` = the code's description, `defaultConfiguration.level` from
//! its default level (deny→`error`, warn→`warning`, info→`note`), `helpUri` = the code's anchor
//! in `docs/findings.md`. One result per finding, at the finding's final level, located at the
//! package's lockfile line (or its `package.json` in `node_modules` mode; see [`locate`]); run-
//! level findings at line 1 of the inventory file. URIs are relative, with `uriBaseId`
//! `%SRCROOT%`. Registry strings are stripped of control characters like the text output;
//! JSON escaping is serde's. Deterministic: the model is sorted and carries no run time.
//!
//! [`locate`]: super::locate

use super::locate::{Location, Locations};
use super::Report;
use crate::findings::{Finding, Level, CODES};
use crate::util::escape_text;
use serde::Serialize;

/// `$schema` of the log (the schema GitHub code scanning documents for 2.1.0).
pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The project's home, `informationUri` of the driver and base of every rule's `helpUri`.
// TODO(partial): set to the release repository when it is published.
pub const INFORMATION_URI: &str = "https://github.com/npm-provenance/npm-provenance";
/// The base id every relative URI is resolved against.
pub const SRCROOT: &str = "%SRCROOT%";

/// Renders the report as a SARIF 2.1.0 log (pretty, final newline).
pub fn render(report: &Report, locations: &Locations) -> Result<String, serde_json::Error> {
    let rules: Vec<Rule> = CODES
        .iter()
        .map(|c| Rule {
            id: c.code,
            short_description: Text {
                text: c.description.to_string(),
            },
            default_configuration: Configuration {
                level: sarif_level(c.level),
            },
            help_uri: help_uri(c.code),
            properties: RuleProperties {
                tags: ["security", "supply-chain"],
            },
        })
        .collect();
    let mut results = Vec::new();
    let run_loc = locations.run();
    for f in &report.findings {
        results.push(result(f, None, &run_loc));
    }
    for p in &report.packages {
        let loc = locations.package(p);
        for f in &p.findings {
            results.push(result(f, Some((&p.name, &p.version)), &loc));
        }
    }
    let log = Log {
        schema: SARIF_SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: env!("CARGO_PKG_NAME"),
                    version: env!("CARGO_PKG_VERSION"),
                    information_uri: INFORMATION_URI,
                    rules,
                },
            },
            column_kind: "unicodeCodePoints",
            results,
        }],
    };
    let mut s = serde_json::to_string_pretty(&log)?;
    s.push('\n');
    Ok(s)
}

/// SARIF's level for a finding level.
pub fn sarif_level(l: Level) -> &'static str {
    match l {
        Level::Deny => "error",
        Level::Warn => "warning",
        Level::Info => "note",
    }
}

/// The documentation anchor of a finding code.
pub fn help_uri(code: &str) -> String {
    format!("{INFORMATION_URI}/blob/main/docs/findings.md#{code}")
}

fn result(f: &Finding, package: Option<(&str, &str)>, loc: &Location) -> SarifResult {
    let text = match package {
        Some((n, v)) => format!(
            "{}@{}: {}",
            escape_text(n),
            escape_text(v),
            escape_text(&f.message)
        ),
        None => escape_text(&f.message),
    };
    let properties = package.map(|(n, v)| ResultProperties {
        package: escape_text(n),
        version: escape_text(v),
    });
    SarifResult {
        rule_id: f.code,
        rule_index: CODES.iter().position(|c| c.code == f.code),
        level: sarif_level(f.level),
        message: Text { text },
        locations: [SarifLocation {
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation {
                    uri: loc.uri(),
                    uri_base_id: SRCROOT,
                },
                region: Region {
                    start_line: loc.line.max(1),
                },
            },
        }],
        properties,
    }
}

// The subset of the SARIF 2.1.0 object model this renderer emits.

#[derive(Serialize)]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    column_kind: &'static str,
    results: Vec<SarifResult>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    information_uri: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: &'static str,
    short_description: Text,
    default_configuration: Configuration,
    help_uri: String,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: [&'static str; 2],
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: &'static str,
    /// Absent only for a code missing from [`CODES`] (a programming error the findings tests
    /// catch); the result still carries its `ruleId`.
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    level: &'static str,
    message: Text,
    locations: [SarifLocation; 1],
    /// The package (installed name) and version a package finding is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<ResultProperties>,
}

#[derive(Serialize)]
struct ResultProperties {
    package: String,
    version: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifLocation {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    uri_base_id: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
}
