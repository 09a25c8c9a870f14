//! The GitHub Actions renderer: `verify --format github`.
//!
//! Standard output gets one workflow command per finding, `::error` (deny), `::warning` (warn)
//! or `::notice` (info), with `file`, `line` and `title` properties located like SARIF
//! ([`super::locate`]), then one plain summary line. Every string is escaped per DESIGN §6 so
//! registry data can never end a command or start another: in the message `%`, CR and LF become
//! `%25`, `%0D`, `%0A`; in properties `:` and `,` also become `%3A`, `%2C`; other control
//! characters (ESC of ANSI sequences, …) become visible `\u{..}` escapes.
//!
//! [`step_summary`] renders the Markdown appended to `$GITHUB_STEP_SUMMARY`: counts and a table
//! of findings with Markdown/HTML escaping of registry strings.

use super::locate::{Location, Locations};
use super::{PackageReport, Report};
use crate::findings::{Finding, Level};

/// Most findings listed in the step summary table (GitHub caps one step's summary at 1 MiB);
/// the rest are counted in a line below the table.
pub const MAX_SUMMARY_ROWS: usize = 1000;

/// Renders the workflow commands and the summary line.
pub fn render(report: &Report, locations: &Locations) -> String {
    let mut out = String::new();
    let run_loc = locations.run();
    for f in &report.findings {
        command(&mut out, f, None, &run_loc);
    }
    for p in &report.packages {
        let loc = locations.package(p);
        for f in &p.findings {
            command(&mut out, f, Some(p), &loc);
        }
    }
    let s = &report.summary;
    out.push_str(&format!(
        "npm-provenance: {} packages, {} verified, {} with provenance; findings: {} deny, {} warn, {} info\n",
        s.packages, s.verified, s.with_provenance, s.findings.deny, s.findings.warn, s.findings.info
    ));
    out
}

/// The workflow command name of a level.
pub fn command_name(l: Level) -> &'static str {
    match l {
        Level::Deny => "error",
        Level::Warn => "warning",
        Level::Info => "notice",
    }
}

fn command(out: &mut String, f: &Finding, p: Option<&PackageReport>, loc: &Location) {
    let (title, message) = match p {
        Some(p) => {
            let id = format!("{}@{}", p.name, p.version);
            (format!("{} ({id})", f.code), format!("{id}: {}", f.message))
        }
        None => (f.code.to_string(), f.message.clone()),
    };
    out.push_str(&format!(
        "::{} file={},line={},title={}::{}\n",
        command_name(f.level),
        escape_property(&loc.path),
        loc.line.max(1),
        escape_property(&title),
        escape_data(&message),
    ));
}

/// Escapes a workflow command message: `%`, CR, LF encoded; other control characters shown.
pub fn escape_data(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    out
}

/// Escapes a workflow command property value: as [`escape_data`], plus `:` and `,`.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The Markdown for `$GITHUB_STEP_SUMMARY`: a heading, the counts, and a table of findings
/// (deny first, as in the report), at most [`MAX_SUMMARY_ROWS`] rows.
pub fn step_summary(report: &Report, locations: &Locations) -> String {
    let s = &report.summary;
    let mut out = String::from("## npm-provenance\n\n");
    out.push_str(&format!(
        "{} packages from {}: **{} verified**, {} with provenance, {} without, {} invalid, {} unverifiable, {} not from a registry.\n\n",
        s.packages,
        escape_markdown(&locations.run().path),
        s.verified,
        s.with_provenance,
        s.without_provenance,
        s.invalid,
        s.unverifiable,
        s.not_from_registry,
    ));
    out.push_str(&format!(
        "Findings: {} deny, {} warn, {} info.\n",
        s.findings.deny, s.findings.warn, s.findings.info
    ));
    let mut rows: Vec<(Level, String)> = Vec::new();
    let run_loc = locations.run();
    for f in &report.findings {
        rows.push((f.level, row(f, "", &run_loc)));
    }
    for p in &report.packages {
        let loc = locations.package(p);
        let id = format!("{}@{}", p.name, p.version);
        for f in &p.findings {
            rows.push((f.level, row(f, &id, &loc)));
        }
    }
    if rows.is_empty() {
        return out;
    }
    // Deny first, keeping the report's order within a level.
    rows.sort_by_key(|(l, _)| std::cmp::Reverse(*l));
    out.push_str(
        "\n| Level | Code | Package | Location | Message |\n| --- | --- | --- | --- | --- |\n",
    );
    let shown = rows.len().min(MAX_SUMMARY_ROWS);
    for (_, r) in &rows[..shown] {
        out.push_str(r);
    }
    if rows.len() > shown {
        out.push_str(&format!(
            "\n{} more findings not shown (see the JSON or SARIF report).\n",
            rows.len() - shown
        ));
    }
    out
}

fn row(f: &Finding, package: &str, loc: &Location) -> String {
    format!(
        "| {} | `{}` | {} | {}:{} | {} |\n",
        f.level,
        f.code,
        escape_markdown(package),
        escape_markdown(&loc.path),
        loc.line.max(1),
        escape_markdown(&f.message),
    )
}

/// Makes registry text inert in a Markdown table cell: HTML metacharacters become entities,
/// Markdown metacharacters are backslash-escaped, line breaks become spaces and other control
/// characters visible escapes.
pub fn escape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' | '`' | '[' | ']' | '\\' | '*' | '_' | '!' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' => out.push(' '),
            c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    out
}

/// Appends `markdown` to the step summary file in one write (append mode, so concurrent
/// steps' summaries are not overwritten).
pub fn append_step_summary(path: &std::path::Path, markdown: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)?;
    f.write_all(markdown.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_escaping_keeps_one_line() {
        let e = escape_data("x\n::error::pwned\r%\u{1b}[31m");
        assert_eq!(e, "x%0A::error::pwned%0D%25\\u{1b}[31m");
        assert!(!e.contains(['\n', '\r', '\u{1b}']));
    }

    #[test]
    fn property_escaping_adds_colon_and_comma() {
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }

    #[test]
    fn markdown_escaping() {
        assert_eq!(
            escape_markdown("<img src=x>|`a`[l](u)&\n*b*"),
            "&lt;img src=x&gt;\\|\\`a\\`\\[l\\](u)&amp; \\*b\\*"
        );
    }

    #[test]
    fn command_names() {
        assert_eq!(command_name(Level::Deny), "error");
        assert_eq!(command_name(Level::Warn), "warning");
        assert_eq!(command_name(Level::Info), "notice");
    }
}
