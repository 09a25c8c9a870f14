//! The JSON renderer: `npm-provenance/report/v1`, exactly the [`Report`] model serialised
//! (pretty, with a final newline). Deterministic: the model is sorted and carries no run time.

use super::Report;

/// Renders the report as `npm-provenance/report/v1`.
pub fn render(report: &Report) -> Result<String, serde_json::Error> {
    let mut s = serde_json::to_string_pretty(report)?;
    s.push('\n');
    Ok(s)
}
