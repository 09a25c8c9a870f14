//! `npm-provenance snapshot [PATH] --out DIR`: runs the `verify` pipeline of PATH with the
//! registry client recording every answer (so whatever `verify` fetches is in the snapshot,
//! whatever part of it asks), and writes the snapshot ([`crate::registry::snapshot`]). And the
//! replay side of `verify --snapshot DIR` ([`Replaying`]): the client answers only from the
//! snapshot, the trust material stays this machine's.
//!
//! Exit codes: 0 when every request got an answer (200 or 404); 1 when some failed (the
//! snapshot is still written, `complete: false`, and a replay reports those packages
//! `unverifiable` with the same message); 2 when nothing could be written (bad flags, no
//! inventory, `--out` a non-empty directory that is not a snapshot).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::cli::{Format, OutputArgs, RegistryArgs, SnapshotArgs, TrustArgs, VerifyArgs};
use crate::error::{exit, AppError};
use crate::registry::redact::redact_url;
use crate::registry::setup::{setup, setup_recording, setup_replay, RegistrySetup};
use crate::registry::snapshot::{
    prepare_dir, InventoryRecord, Manifest, Options, Outcome, Recorder, Registries, Replay, Tool,
    TrustRecord, SCHEMA,
};
use crate::registry::ConfigInputs;
use crate::report::{Report, SnapshotNote};
use crate::trust::npm_keys::NpmKeys;
use crate::util::escape_text;

/// Most failed requests listed in the text output (all are in the manifest).
const FAILED_EXAMPLES: usize = 20;

pub fn run(args: SnapshotArgs) -> Result<u8, AppError> {
    let format = args.output.format();
    if matches!(format, Format::Sarif | Format::Github) {
        return Err(AppError::Usage(format!(
            "snapshot supports --format text|json, not {format:?}"
        )));
    }
    // Refuse a directory of other data before any work.
    let created = !args.out.exists();
    prepare_dir(&args.out)?;
    let result = take(&args, format);
    if result.is_err() && created {
        // Only an empty directory goes: never anything written into it meanwhile.
        let _ = std::fs::remove_dir(&args.out);
    }
    result
}

fn take(args: &SnapshotArgs, format: Format) -> Result<u8, AppError> {
    let verify_args = as_verify_args(args);
    let path = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    let taken_at = Timestamp::now();
    let recorder = Arc::new(Recorder::new());
    let registry = setup_recording(
        &args.registry,
        ConfigInputs::from_process(Some(super::verify::project_dir(&path)), None),
        recorder.clone(),
    )?;
    for w in &registry.warnings {
        eprintln!("npm-provenance: warning: {}", escape_text(w));
    }
    let trust = trust_record(&args.trust)?;
    let run = super::verify::evaluate(&verify_args, &registry, None)?;
    let manifest = Manifest {
        schema: SCHEMA.into(),
        taken_at,
        tool: Tool::this(),
        inventory: inventory_record(&run.inventory_path)?,
        registries: registries(&registry),
        options: options_of(
            &args.no_history,
            args.attestations,
            &args.omit,
            &args.workspace,
            &args.policy,
        ),
        trust,
        complete: false,
        failed: 0,
        entries: Vec::new(),
    };
    let written = recorder.write(&args.out, manifest)?;
    let bytes = match format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&summary_json(&args.out, &written.manifest))
                .map_err(|e| AppError::Usage(format!("cannot render JSON: {e}")))?;
            s.push('\n');
            s
        }
        _ => summary_text(&args.out, &written.manifest, written.bodies),
    };
    super::emit(&args.output, bytes.as_bytes())?;
    Ok(if written.manifest.complete {
        exit::CLEAN
    } else {
        exit::FINDINGS
    })
}

/// The `verify` run a snapshot records: the same fetch-shaping flags, nothing else.
fn as_verify_args(args: &SnapshotArgs) -> VerifyArgs {
    VerifyArgs {
        path: args.path.clone(),
        output: OutputArgs {
            format: None,
            json: false,
            output: None,
            danger_now: args.output.danger_now.clone(),
        },
        trust: args.trust.clone(),
        registry: args.registry.clone(),
        fail_level: None,
        allow_unverifiable: false,
        no_history: args.no_history,
        attestations: args.attestations,
        omit: args.omit.clone(),
        workspace: args.workspace.clone(),
        policy: args.policy.clone(),
        quiet: args.quiet,
        snapshot: None,
    }
}

fn options_of(
    no_history: &bool,
    attestations: crate::cli::AttestationsArg,
    omit: &[String],
    workspace: &[String],
    policy: &Option<PathBuf>,
) -> Options {
    Options {
        history: !*no_history,
        attestations: match attestations {
            crate::cli::AttestationsArg::Auto => "auto",
            crate::cli::AttestationsArg::Announced => "announced",
            crate::cli::AttestationsArg::All => "all",
        }
        .into(),
        omit: omit.to_vec(),
        workspace: workspace.to_vec(),
        policy: policy.as_ref().map(|p| p.display().to_string()),
    }
}

/// Same fetch-shaping flags (order of repeated flags aside).
fn same_options(a: &Options, b: &Options) -> bool {
    let sorted = |v: &[String]| {
        let mut v = v.to_vec();
        v.sort();
        v
    };
    a.history == b.history
        && a.attestations == b.attestations
        && sorted(&a.omit) == sorted(&b.omit)
        && sorted(&a.workspace) == sorted(&b.workspace)
        && a.policy == b.policy
}

fn describe_options(o: &Options) -> String {
    let mut parts = vec![if o.history {
        "history on".to_string()
    } else {
        "--no-history".to_string()
    }];
    parts.push(format!("--attestations {}", escape_text(&o.attestations)));
    parts.extend(o.omit.iter().map(|x| format!("--omit {}", escape_text(x))));
    parts.extend(
        o.workspace
            .iter()
            .map(|x| format!("--workspace {}", escape_text(x))),
    );
    if let Some(p) = &o.policy {
        parts.push(format!("--policy {}", escape_text(p)));
    }
    parts.join(", ")
}

fn inventory_record(path: &Path) -> Result<InventoryRecord, AppError> {
    Ok(InventoryRecord {
        path: path.display().to_string(),
        sha256: file_sha256(path)?,
    })
}

/// sha256 of a file; `None` for a directory (a `node_modules` walk).
fn file_sha256(path: &Path) -> Result<Option<String>, AppError> {
    if path.is_dir() {
        return Ok(None);
    }
    let bytes = std::fs::read(path).map_err(|e| AppError::read(path, e))?;
    Ok(Some(hex::encode(Sha256::digest(&bytes))))
}

fn registries(registry: &RegistrySetup) -> Registries {
    Registries {
        default: redact_url(&registry.config.default_registry),
        scopes: registry
            .config
            .scopes
            .iter()
            .map(|(s, u)| (s.clone(), redact_url(u)))
            .collect(),
        metadata: registry.metadata_registry.as_ref().map(redact_url),
    }
}

/// Fingerprints of the trust material `trust` selects (as `verify` selects it).
fn trust_record(trust: &TrustArgs) -> Result<TrustRecord, AppError> {
    let (root_json, _) = super::trust_roots::trusted_root_json(trust)?;
    let keys = super::trust_roots::load_npm_keys(trust)?;
    Ok(TrustRecord {
        trusted_root_sha256: hex::encode(Sha256::digest(root_json.as_bytes())),
        npm_keys_sha256: npm_keys_fingerprint(&keys),
    })
}

/// sha256 over the keys, sorted: each key's id, DER, usage, validity and where it is trusted
/// from (pinned, user file, the registry's own; not the file's path).
fn npm_keys_fingerprint(keys: &NpmKeys) -> String {
    let mut lines: Vec<String> = keys
        .keys
        .iter()
        .map(|k| {
            format!(
                "{}\t{}\t{:?}\t{:?}\t{:?}\n",
                k.keyid.as_str(),
                hex::encode(&k.spki_der),
                k.usage,
                k.valid_from,
                k.valid_until
            )
        })
        .collect();
    lines.sort();
    let mut h = Sha256::new();
    h.update(keys.source.as_str().as_bytes());
    h.update(b"\n");
    for l in &lines {
        h.update(l.as_bytes());
    }
    hex::encode(h.finalize())
}

fn counts(m: &Manifest) -> (usize, usize, usize) {
    let n = |o: Outcome| m.entries.iter().filter(|e| e.outcome == o).count();
    (n(Outcome::Ok), n(Outcome::NotFound), n(Outcome::Failed))
}

fn summary_text(dir: &Path, m: &Manifest, bodies: usize) -> String {
    use std::fmt::Write as _;
    let (ok, not_found, failed) = counts(m);
    let mut out = String::new();
    let _ = writeln!(out, "npm-provenance snapshot: {}", dir.display());
    let _ = writeln!(
        out,
        "  taken at {} for {}",
        m.taken_at,
        escape_text(&m.inventory.path)
    );
    let _ = writeln!(
        out,
        "  {} requests recorded: {ok} answered, {not_found} not found (404), {failed} failed; \
         {bodies} body files",
        m.entries.len()
    );
    if failed == 0 {
        let _ = writeln!(
            out,
            "\nCOMPLETE: replay offline with `npm-provenance verify {} --snapshot {}`",
            escape_text(&m.inventory.path),
            dir.display()
        );
        return out;
    }
    let _ = writeln!(out, "\nFailed requests ({failed}):");
    for e in m
        .entries
        .iter()
        .filter(|e| e.outcome == Outcome::Failed)
        .take(FAILED_EXAMPLES)
    {
        let why = e.failure.as_ref().map_or("failed", |f| f.message.as_str());
        let _ = writeln!(out, "  GET {}: {}", escape_text(&e.url), escape_text(why));
    }
    if failed > FAILED_EXAMPLES {
        let _ = writeln!(out, "  … and {} more", failed - FAILED_EXAMPLES);
    }
    let _ = writeln!(
        out,
        "\nINCOMPLETE: {failed} request(s) failed. The snapshot is written and records the \
         failures: a replay reports those packages unverifiable. Take it again when the \
         registry answers."
    );
    out
}

fn summary_json(dir: &Path, m: &Manifest) -> serde_json::Value {
    let (ok, not_found, failed) = counts(m);
    let failures: Vec<serde_json::Value> = m
        .entries
        .iter()
        .filter(|e| e.outcome == Outcome::Failed)
        .map(|e| serde_json::json!({"url": e.url, "failure": e.failure}))
        .collect();
    serde_json::json!({
        "schema": "npm-provenance/snapshot-result/v1",
        "dir": dir.display().to_string(),
        "taken_at": m.taken_at,
        "complete": m.complete,
        "requests": m.entries.len(),
        "ok": ok,
        "not_found": not_found,
        "failed": failed,
        "failures": failures,
    })
}

// ---------------------------------------------------------------------------------------------
// Replay (`verify --snapshot DIR`, `inspect`/`history --snapshot DIR`)

/// The client of `inspect` and `history`: live from `args`, or answering from the snapshot
/// `DIR` (with its registry map; said on stderr).
pub(super) fn registry(
    args: &RegistryArgs,
    inputs: ConfigInputs,
    snapshot: Option<&Path>,
) -> Result<RegistrySetup, AppError> {
    match snapshot {
        None => setup(args, inputs),
        Some(dir) => {
            let replay = Arc::new(Replay::open(dir)?);
            eprintln!(
                "npm-provenance: registry data from snapshot {} taken at {} (replayed offline: \
                 nothing is fetched)",
                dir.display(),
                replay.manifest().taken_at
            );
            setup_replay(replay)
        }
    }
}

/// A snapshot being replayed by `verify`.
pub(super) struct Replaying {
    replay: Arc<Replay>,
}

impl Replaying {
    /// Opens `DIR`; a missing or malformed manifest is exit 2 naming it.
    pub fn open(dir: &Path) -> Result<Replaying, AppError> {
        Ok(Replaying {
            replay: Arc::new(Replay::open(dir)?),
        })
    }

    /// The client answering from the snapshot. Says on stderr where the data comes from, and
    /// warns when the snapshot is incomplete or this run's trust material differs from the one
    /// it was taken with (the replay always uses this machine's own).
    pub fn setup(&self, args: &VerifyArgs) -> Result<RegistrySetup, AppError> {
        let trust = &args.trust;
        let m = self.replay.manifest();
        eprintln!(
            "npm-provenance: registry data from snapshot {} taken at {} (replayed offline: \
             nothing is fetched)",
            self.replay.dir().display(),
            m.taken_at
        );
        if !m.complete {
            eprintln!(
                "npm-provenance: warning: the snapshot is incomplete: {} request(s) failed when \
                 it was taken; the packages they concern are unverifiable",
                m.failed
            );
        }
        let ours = trust_record(trust)?;
        if ours.trusted_root_sha256 != m.trust.trusted_root_sha256 {
            eprintln!(
                "npm-provenance: warning: the Sigstore trusted root in use (sha256 {}) differs \
                 from the one the snapshot was taken with (sha256 {}); the trust material is \
                 this machine's, so verdicts may differ from the snapshot machine's",
                ours.trusted_root_sha256,
                escape_text(&m.trust.trusted_root_sha256)
            );
        }
        if ours.npm_keys_sha256 != m.trust.npm_keys_sha256 {
            eprintln!(
                "npm-provenance: warning: the npm keys in use (fingerprint {}) differ from the \
                 ones the snapshot was taken with ({}); the trust material is this machine's, so \
                 verdicts may differ from the snapshot machine's",
                ours.npm_keys_sha256,
                escape_text(&m.trust.npm_keys_sha256)
            );
        }
        let ours = options_of(
            &args.no_history,
            args.attestations,
            &args.omit,
            &args.workspace,
            &args.policy,
        );
        if !same_options(&ours, &m.options) {
            eprintln!(
                "npm-provenance: warning: this run's --no-history/--attestations/--omit/--workspace/--policy \
                 differ from the snapshot's ({}); what it needs beyond the snapshot is \
                 unverifiable",
                describe_options(&m.options)
            );
        }
        setup_replay(self.replay.clone())
    }

    /// After the run: warns when the lockfile is not the one the snapshot was taken for, and
    /// notes the snapshot in the report (text only: the JSON stays the live run's).
    pub fn finish(&self, inventory_path: &Path, report: &mut Report) {
        let m = self.replay.manifest();
        let ours = file_sha256(inventory_path).ok().flatten();
        if ours != m.inventory.sha256 {
            eprintln!(
                "npm-provenance: warning: {} is not the inventory the snapshot was taken for \
                 ({}, sha256 {}); what the snapshot lacks is unverifiable",
                inventory_path.display(),
                escape_text(&m.inventory.path),
                m.inventory.sha256.as_deref().map_or("none", |s| s)
            );
        }
        report.snapshot = Some(SnapshotNote {
            dir: self.replay.dir().display().to_string(),
            taken_at: m.taken_at,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust::npm_keys::KeySource;

    #[test]
    fn key_fingerprint_follows_keys_and_source_not_order_or_path() {
        let keys = NpmKeys::embedded().unwrap();
        let base = npm_keys_fingerprint(&keys);
        let mut reversed = keys.clone();
        reversed.keys.reverse();
        assert_eq!(npm_keys_fingerprint(&reversed), base);
        let file_a = NpmKeys {
            source: KeySource::UserFile("/a/keys.json".into()),
            ..keys.clone()
        };
        let file_b = NpmKeys {
            source: KeySource::UserFile("/b/keys.json".into()),
            ..keys.clone()
        };
        assert_eq!(npm_keys_fingerprint(&file_a), npm_keys_fingerprint(&file_b));
        assert_ne!(npm_keys_fingerprint(&file_a), base);
        let mut fewer = keys.clone();
        fewer.keys.pop();
        assert_ne!(npm_keys_fingerprint(&fewer), base);
    }
}
