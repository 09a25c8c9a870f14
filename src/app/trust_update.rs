//! `npm-provenance trust-roots update`: refresh the Sigstore trusted root and the npm keys
//! through TUF and store them in the user's data directory.
//!
//! Exit codes: 0 = updated and stored; 1 = the repository could not be fetched
//! (`trust-update-failed`) or did not verify (`trust-update-refused`): nothing was stored
//! and the previous trust material stays in use; 2 = bad arguments (`--tuf-url`,
//! `--danger-tuf-root`), no data directory, or the store cannot be written.

use crate::cli::{Format, OutputArgs, UpdateArgs};
use crate::error::{exit, AppError};
use crate::findings::Finding;
use crate::trust::store::{self, TrustStore};
use crate::trust::tuf::{self, TufError, TufOptions, TufVersions};
use crate::trust::tuf_root::TufRootInfo;
use crate::util::escape_text;
use jiff::Timestamp;
use serde::Serialize;
use std::fmt::Write as _;

/// JSON schema id of `trust-roots update --format json`.
pub const SCHEMA: &str = "npm-provenance/trust-roots-update/v1";

pub fn run(tuf_url: Option<String>, output: OutputArgs, args: UpdateArgs) -> Result<u8, AppError> {
    let format = output.format();
    if !matches!(format, Format::Text | Format::Json) {
        return Err(AppError::Usage(
            "trust-roots update supports --format text or json".into(),
        ));
    }
    let now = super::danger_now(&output)?.unwrap_or_else(Timestamp::now);
    let url = tuf::parse_tuf_url(tuf_url.as_deref().unwrap_or(tuf::PRODUCTION_TUF_URL))
        .map_err(|e| AppError::Usage(e.to_string()))?;
    let bootstrap_root = match &args.danger_tuf_root {
        Some(path) => std::fs::read(path).map_err(|e| AppError::read(path, e))?,
        None => crate::trust::TUF_ROOT.as_bytes().to_vec(),
    };
    let bootstrap_version = {
        let shown = args
            .danger_tuf_root
            .clone()
            .unwrap_or_else(|| "<embedded tuf-root.json>".into());
        TufRootInfo::from_json(&bootstrap_root)
            .map_err(|e| AppError::parse(&shown, e.0))?
            .version
    };
    let baseline = super::trust_roots::baseline_root_version(args.danger_tuf_root.as_deref())?;
    let data_dir = store::data_dir(args.data_dir.as_deref()).ok_or_else(|| {
        AppError::Usage(
            "no data directory: set --data-dir, XDG_DATA_HOME or HOME to store the update".into(),
        )
    })?;
    let trust_store = TrustStore::new(&data_dir);
    let opts = TufOptions {
        url: url.clone(),
        bootstrap_root,
        metadata_dir: Some(trust_store.metadata_dir(&url)),
        now,
    };
    let fetched = crate::registry::setup::runtime()?.block_on(tuf::fetch_trust_targets(&opts));
    let mut doc = UpdateDoc {
        schema: SCHEMA,
        tuf_url: url.to_string(),
        checked_at: now,
        updated: false,
        stored: None,
        findings: Vec::new(),
    };
    // The verifier must be able to use the root before it replaces anything.
    let fetched = fetched.and_then(|t| {
        let text = std::str::from_utf8(&t.trusted_root)
            .map_err(|e| TufError::Refused(format!("target trusted_root.json: not UTF-8: {e}")))?;
        crate::verify::SigstoreTrust::from_json(text).map_err(|e| {
            TufError::Refused(format!(
                "target trusted_root.json verified but the bundle verifier cannot use it: {e}"
            ))
        })?;
        Ok(t)
    });
    let code = match fetched {
        Ok(targets) => {
            let saved = trust_store
                .save(&targets, &url, bootstrap_version, now)
                .map_err(|e| AppError::Write {
                    path: e.path.clone(),
                    source: std::io::Error::other(e.problem),
                })?;
            doc.updated = true;
            doc.stored = Some(StoredDoc {
                in_use: saved.state.versions.root >= baseline,
                trusted_root: saved.trusted_root_path().display().to_string(),
                trusted_root_sha256: saved.state.trusted_root_sha256.clone(),
                npm_keys: saved.npm_keys_path().display().to_string(),
                npm_keys_sha256: saved.state.npm_keys_sha256.clone(),
                versions: saved.state.versions.clone(),
            });
            exit::CLEAN
        }
        Err(TufError::Config(msg)) => return Err(AppError::Usage(msg)),
        Err(TufError::Transport(msg)) => {
            doc.findings.push(Finding::new(
                "trust-update-failed",
                format!("{msg}; nothing stored, the previous trust material stays in use"),
            ));
            exit::FINDINGS
        }
        Err(TufError::Refused(msg)) => {
            doc.findings.push(Finding::new(
                "trust-update-refused",
                format!("{msg}; nothing stored, the previous trust material stays in use"),
            ));
            exit::FINDINGS
        }
    };
    let bytes = match format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&doc)
                .map_err(|e| AppError::Usage(format!("cannot render JSON: {e}")))?;
            s.push('\n');
            s.into_bytes()
        }
        _ => render_text(&doc, baseline).into_bytes(),
    };
    super::emit(&output, &bytes)?;
    Ok(code)
}

/// The `npm-provenance/trust-roots-update/v1` document.
#[derive(Serialize)]
struct UpdateDoc {
    schema: &'static str,
    tuf_url: String,
    /// The time every expiry was checked at.
    checked_at: Timestamp,
    updated: bool,
    stored: Option<StoredDoc>,
    findings: Vec<Finding>,
}

#[derive(Serialize)]
struct StoredDoc {
    /// Whether the commands that verify will use it (its TUF root is not older than the
    /// embedded one).
    in_use: bool,
    trusted_root: String,
    trusted_root_sha256: String,
    npm_keys: String,
    npm_keys_sha256: String,
    versions: TufVersions,
}

fn render_text(doc: &UpdateDoc, baseline: u64) -> String {
    let mut out = String::new();
    match &doc.stored {
        Some(s) => {
            let v = &s.versions;
            let _ = writeln!(
                out,
                "Updated trust material from {} (verified at {}): TUF root v{}, timestamp v{} (expires {}), snapshot v{}, targets v{}, registry.npmjs.org v{}",
                escape_text(&doc.tuf_url),
                doc.checked_at,
                v.root,
                v.timestamp,
                v.timestamp_expires,
                v.snapshot,
                v.targets,
                v.npm_role
            );
            let _ = writeln!(
                out,
                "  trusted_root.json  sha256 {}  {}",
                s.trusted_root_sha256,
                escape_text(&s.trusted_root)
            );
            let _ = writeln!(
                out,
                "  npm keys           sha256 {}  {}",
                s.npm_keys_sha256,
                escape_text(&s.npm_keys)
            );
            if !s.in_use {
                let _ = writeln!(
                    out,
                    "  not in use: TUF root v{} is older than the embedded root v{baseline}",
                    v.root
                );
            }
        }
        None => {
            let _ = writeln!(
                out,
                "Trust material NOT updated from {}",
                escape_text(&doc.tuf_url)
            );
        }
    }
    for f in &doc.findings {
        let _ = writeln!(out, "{}: {} {}", f.level, f.code, escape_text(&f.message));
    }
    out
}
