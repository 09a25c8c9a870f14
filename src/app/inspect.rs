//! `npm-provenance inspect NAME@VERSION`: one version's registry signature, attestations,
//! integrity and publishing identity.
//!
//! Offline when any file option is given (`--packument`, `--attestations`, `--npm-keys`,
//! `--tarball`): no network request is made, and what was not supplied is `not-checked`.
//! Otherwise the full packument, the attestations and (for a registry other than the public
//! one) the registry's keys are fetched through the registry client (`--registry`, `.npmrc`).
//! Output: text for people, or `--format json` (`npm-provenance/inspect/v1`):
//! `{"schema", "package": {"name", "version"}, "evidence": VersionEvidence, "findings": […]}`.
//! Exit 1 when a finding is at or above `--fail-level` (default `deny`), 2 on unusable input.

use crate::cli::{Format, InspectArgs};
use crate::error::{exit, AppError};
use crate::findings::{Finding, Level};
use crate::inventory::integrity::Integrity;
use crate::policy::{facts_from_packument, timeline, window, HistoryContext, ReleaseFacts};
use crate::registry::attestations::AttestationsResponse;
use crate::registry::config::ConfigInputs;
use crate::registry::packument::{Packument, PackumentVersion};
use crate::registry::plan::{self, fetch_all, FetchPlan, PlanOptions, Wanted};
use crate::registry::redact::redact_url;
use crate::registry::setup;
use crate::trust::npm_keys::{KeySource, NpmKeys};
use crate::util::escape_text;
use crate::verify::evidence::{Check, VersionEvidence};
use crate::verify::npm::{verify_version, AttestationsInput, VerifyContext, VersionInput};
use crate::verify::SigstoreTrust;
use serde::Serialize;
use sha2::{Digest, Sha512};
use std::fmt::Write as _;

/// JSON schema id of `inspect --format json`.
pub const SCHEMA: &str = "npm-provenance/inspect/v1";

pub fn run(args: InspectArgs) -> Result<u8, AppError> {
    let format = args.output.format();
    if !matches!(format, Format::Text | Format::Json) {
        return Err(AppError::Usage(
            "inspect supports --format text or json".into(),
        ));
    }
    let fail_level = Level::parse(&args.fail_level).ok_or_else(|| {
        AppError::Usage(format!(
            "--fail-level {:?}: expected deny, warn or info",
            args.fail_level
        ))
    })?;
    let now = super::danger_now(&args.output)?;
    let (name, version) = parse_spec(&args.spec)?;
    // Any file option: offline, no network request (what was not supplied is not-checked).
    // `--snapshot` answers as the registry did (it excludes the other file options).
    let offline = args.snapshot.is_none()
        && (args.packument.is_some()
            || args.attestations.is_some()
            || args.tarball.is_some()
            || args.trust.npm_keys.is_some());
    let (root_json, _) = super::trust_roots::trusted_root_json(&args.trust)?;
    let sigstore = SigstoreTrust::from_json(&root_json).map_err(|e| {
        AppError::parse(
            match &args.trust.trusted_root {
                Some(p) => p.clone(),
                None => "<embedded trusted_root.json>".into(),
            },
            e.to_string(),
        )
    })?;
    let mut npm_keys = super::trust_roots::load_npm_keys(&args.trust)?;

    let gathered = if offline {
        gather_from_files(&args, name, version)?
    } else {
        let (gathered, registry_keys) = gather_from_registry(&args, name, version)?;
        if let Some(keys) = registry_keys {
            npm_keys = keys;
        }
        gathered
    };
    let evidence = evaluate(
        name,
        version,
        &gathered,
        &VerifyContext {
            sigstore: &sigstore,
            npm_keys: &npm_keys,
        },
    );

    // The publishing timeline around the version (the `history` engine's view, evaluated
    // as if each release were installed), when a full packument was at hand.
    let ctx = HistoryContext {
        now,
        ..HistoryContext::default()
    };
    let entries = gathered
        .releases
        .as_deref()
        .map(|r| timeline(r, &ctx))
        .unwrap_or_default();
    let around = window(&entries, version, TIMELINE_RADIUS);

    let bytes = match format {
        Format::Json => {
            let versions = super::history::to_json(name, around, &[])["versions"].take();
            render_json(
                name,
                version,
                &evidence,
                (!around.is_empty()).then_some(versions),
            )?
            .into_bytes()
        }
        _ => {
            let mut text = render_text(name, version, &evidence);
            if !around.is_empty() {
                text.push_str(&format!(
                    "timeline around {} (registry times are unsigned):\n",
                    escape_text(version)
                ));
                for e in around {
                    text.push_str(&format!("  {}\n", super::history::line(e)));
                }
            }
            text.into_bytes()
        }
    };
    super::emit(&args.output, &bytes)?;
    Ok(if evidence.findings.iter().any(|f| f.level >= fail_level) {
        exit::FINDINGS
    } else {
        exit::CLEAN
    })
}

/// Releases shown on each side of the inspected version in its publishing timeline.
const TIMELINE_RADIUS: usize = 3;

/// What `inspect` gathered for one version, from files or (once wired) from the registry.
/// Online, a fetch failure becomes `AttestationsBody::FetchFailed` and a bad packument entry an
/// `unverifiable` finding in `extra`, never exit 2.
pub(crate) struct Gathered {
    pub expected_integrity: Option<Integrity>,
    pub tarball_sha512: Option<[u8; 64]>,
    /// The version's entry; `None` = not checked (no packument, or the version is not listed).
    pub packument_version: Option<PackumentVersion>,
    pub packument_time: Option<jiff::Timestamp>,
    pub attestations: AttestationsBody,
    /// Findings about the inputs themselves (e.g. `version-not-in-registry`).
    pub extra: Vec<Finding>,
    /// Every release of the package, from a full packument (for the timeline around the
    /// version); `None` without one, or when it has no publishing data.
    pub releases: Option<Vec<ReleaseFacts>>,
}

/// The releases of a full packument for the timeline; an abbreviated or unusable document has
/// none (the timeline is context: its absence is not a finding).
fn releases_of(bytes: &[u8]) -> Option<Vec<ReleaseFacts>> {
    let doc = crate::policy::facts::history_view(bytes).ok()?;
    facts_from_packument(&doc).ok().filter(|r| !r.is_empty())
}

/// The attestations response as obtained (owned form of [`AttestationsInput`]).
pub(crate) enum AttestationsBody {
    NotChecked,
    NotFound,
    Body(Vec<u8>),
    FetchFailed(String),
}

/// Reads the file options. Unreadable or unparseable user-supplied files are exit 2.
fn gather_from_files(args: &InspectArgs, name: &str, version: &str) -> Result<Gathered, AppError> {
    let expected_integrity = args
        .integrity
        .as_deref()
        .map(|s| Integrity::parse(s).map_err(|e| AppError::Usage(format!("--integrity: {e}"))))
        .transpose()?;
    let tarball_sha512 = match &args.tarball {
        Some(p) => {
            let bytes = std::fs::read(p).map_err(|e| AppError::read(p, e))?;
            Some(<[u8; 64]>::from(Sha512::digest(&bytes)))
        }
        None => None,
    };
    let mut extra = Vec::new();
    let (mut packument_version, mut packument_time, mut releases) = (None, None, None);
    if let Some(p) = &args.packument {
        let bytes = std::fs::read(p).map_err(|e| AppError::read(p, e))?;
        let doc = Packument::from_slice(&bytes).map_err(|e| AppError::parse(p, e.0))?;
        releases = releases_of(&bytes);
        if let Some(n) = doc.name.as_deref().filter(|n| *n != name) {
            return Err(AppError::parse(
                p,
                format!("the packument is for {:?}, not {name:?}", escape_text(n)),
            ));
        }
        packument_time = doc.time_of(version);
        match doc.version(version) {
            Some(v) => packument_version = Some(v.map_err(|e| AppError::parse(p, e.0))?),
            None => extra.push(Finding::new(
                "version-not-in-registry",
                format!(
                    "the packument does not list version {}",
                    escape_text(version)
                ),
            )),
        }
    }
    let attestations = match &args.attestations {
        Some(p) => {
            let bytes = std::fs::read(p).map_err(|e| AppError::read(p, e))?;
            // A user-supplied file that is not an attestations response is exit 2.
            AttestationsResponse::from_slice(&bytes).map_err(|e| AppError::parse(p, e.0))?;
            AttestationsBody::Body(bytes)
        }
        None => AttestationsBody::NotChecked,
    };
    Ok(Gathered {
        expected_integrity,
        tarball_sha512,
        packument_version,
        packument_time,
        attestations,
        extra,
        releases,
    })
}

/// Fetches the version's full packument, its attestations and, for a registry other than the
/// public one without `--npm-keys`, the registry's own keys (reported as unpinned). Network
/// failures and bad responses are findings (`unverifiable`), never exit 2.
fn gather_from_registry(
    args: &InspectArgs,
    name: &str,
    version: &str,
) -> Result<(Gathered, Option<NpmKeys>), AppError> {
    let project_dir = std::env::current_dir().ok();
    let setup = super::snapshot::registry(
        &args.registry,
        ConfigInputs::from_process(project_dir, None),
        args.snapshot.as_deref(),
    )?;
    for w in &setup.warnings {
        eprintln!("npm-provenance: warning: {}", escape_text(w));
    }
    let wanted = [Wanted {
        name: name.to_owned(),
        version: version.to_owned(),
    }];
    let plan = FetchPlan::build(
        &wanted,
        &setup.config,
        setup.metadata_registry.as_ref(),
        PlanOptions {
            full_packuments: true,
            user_keys: args.trust.npm_keys.is_some(),
            // One version: always ask the registry, announced or not.
            attestations: crate::registry::plan::AttestationFetch::All,
        },
    );
    let fetched = setup::runtime()?.block_on(fetch_all(setup.client.clone(), &plan));
    let mut extra = plan::metadata_stripped(&plan, &fetched);
    let (mut packument_version, mut packument_time, mut releases) = (None, None, None);
    let mut packument_ok = false;
    match fetched.packuments.get(name) {
        Some(Ok(f)) => match Packument::from_slice(&f.bytes) {
            Ok(doc) => {
                releases = releases_of(&f.bytes);
                packument_time = doc.time_of(version);
                match doc.version(version) {
                    Some(Ok(v)) => {
                        packument_version = Some(v);
                        packument_ok = true;
                    }
                    Some(Err(e)) => extra.push(Finding::new(
                        "unverifiable",
                        format!("the registry's packument is unusable: {e}"),
                    )),
                    None => extra.push(Finding::new(
                        "version-not-in-registry",
                        format!(
                            "the registry does not list version {}",
                            escape_text(version)
                        ),
                    )),
                }
            }
            Err(e) => extra.push(Finding::new(
                "unverifiable",
                format!("the registry's packument is unusable: {e}"),
            )),
        },
        Some(Err(e)) => extra.push(e.finding()),
        None => extra.push(Finding::new(
            "unverifiable",
            "no packument URL for this package name",
        )),
    }
    let attestations = match fetched.attestations.get(&wanted[0]) {
        Some(Ok(Some(f))) => AttestationsBody::Body(f.bytes.to_vec()),
        Some(Ok(None)) => AttestationsBody::NotFound,
        Some(Err(e)) => AttestationsBody::FetchFailed(e.to_string()),
        None if packument_ok => AttestationsBody::NotFound,
        None => AttestationsBody::FetchFailed("not fetched: no usable packument entry".into()),
    };
    // A registry's own keys: trust on first use, reported as registry-keys-unpinned.
    let mut registry_keys = None;
    for (url, r) in &fetched.keys {
        let keys = match r {
            Ok(f) => NpmKeys::from_json(&f.bytes, KeySource::RegistryUnpinned).map_err(|e| {
                format!(
                    "the registry's keys ({}) are unusable: {e}",
                    redact_url(url)
                )
            }),
            Err(e) => Err(e.to_string()),
        };
        registry_keys = Some(keys.unwrap_or_else(|problem| {
            extra.push(Finding::new("unverifiable", problem));
            NpmKeys {
                keys: Vec::new(),
                source: KeySource::RegistryUnpinned,
            }
        }));
    }
    Ok((
        Gathered {
            expected_integrity: args
                .integrity
                .as_deref()
                .map(|s| {
                    Integrity::parse(s).map_err(|e| AppError::Usage(format!("--integrity: {e}")))
                })
                .transpose()?,
            tarball_sha512: None,
            packument_version,
            packument_time,
            attestations,
            extra,
            releases,
        },
        registry_keys,
    ))
}

/// Verifies what was gathered; findings sorted by code, then message.
pub(crate) fn evaluate(
    name: &str,
    version: &str,
    g: &Gathered,
    ctx: &VerifyContext<'_>,
) -> VersionEvidence {
    let input = VersionInput {
        name,
        version,
        expected_integrity: g.expected_integrity.clone(),
        tarball_sha512: g.tarball_sha512,
        packument_version: g.packument_version.as_ref(),
        packument_time: g.packument_time,
        attestations: match &g.attestations {
            AttestationsBody::NotChecked => AttestationsInput::NotChecked,
            AttestationsBody::NotFound => AttestationsInput::NotFound,
            AttestationsBody::Body(b) => AttestationsInput::Body(b),
            AttestationsBody::FetchFailed(r) => AttestationsInput::FetchFailed(r),
        },
    };
    let mut evidence = verify_version(&input, ctx);
    evidence.findings.extend(g.extra.iter().cloned());
    evidence
        .findings
        .sort_by(|a, b| (a.code, &a.message).cmp(&(b.code, &b.message)));
    evidence
}

/// Splits `NAME@VERSION` (`@scope/name@version` for scoped names).
pub(crate) fn parse_spec(spec: &str) -> Result<(&str, &str), AppError> {
    let bad = || AppError::Usage(format!("{spec:?}: expected NAME@VERSION"));
    let (name, version) = spec.rsplit_once('@').ok_or_else(bad)?;
    let scoped_ok = match name.strip_prefix('@') {
        Some(rest) => rest
            .split_once('/')
            .is_some_and(|(s, n)| !s.is_empty() && !n.is_empty()),
        None => !name.contains('/'),
    };
    if name.is_empty() || version.is_empty() || !scoped_ok || spec.chars().any(char::is_control) {
        return Err(bad());
    }
    Ok((name, version))
}

#[derive(Serialize)]
struct Doc<'a> {
    schema: &'static str,
    package: Package<'a>,
    evidence: &'a VersionEvidence,
    findings: &'a [Finding],
    /// The `history/v1` entries of the releases around this one; absent without a full packument.
    #[serde(skip_serializing_if = "Option::is_none")]
    timeline: Option<serde_json::Value>,
}

#[derive(Serialize)]
struct Package<'a> {
    name: &'a str,
    version: &'a str,
}

fn render_json(
    name: &str,
    version: &str,
    e: &VersionEvidence,
    timeline: Option<serde_json::Value>,
) -> Result<String, AppError> {
    let doc = Doc {
        schema: SCHEMA,
        package: Package { name, version },
        evidence: e,
        findings: &e.findings,
        timeline,
    };
    let mut s = serde_json::to_string_pretty(&doc)
        .map_err(|e| AppError::Usage(format!("cannot render JSON: {e}")))?;
    s.push('\n');
    Ok(s)
}

fn render_text(name: &str, version: &str, e: &VersionEvidence) -> String {
    let mut out = String::new();
    let x = |s: &str| escape_text(s);
    let _ = writeln!(out, "{}@{}", x(name), x(version));
    for (label, check) in [
        ("registry signature", &e.registry_signature),
        ("publish attestation", &e.publish_attestation),
        ("provenance", &e.provenance),
        ("integrity", &e.integrity),
    ] {
        let _ = writeln!(out, "  {label:<20} {}", describe(check));
    }
    let published = match e.published.time {
        Some(t) => {
            let source = serde_json::to_value(e.published.source)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            format!("{t} ({source})")
        }
        None => "unknown".to_owned(),
    };
    let _ = writeln!(out, "  {:<20} {published}", "published");
    let id = &e.identity;
    if let Some(repo) = &id.source_repository_uri {
        let _ = writeln!(out, "  {:<20} {}", "built from", x(repo));
        let rows = [
            ("commit", &id.commit),
            ("workflow", &id.workflow_path),
            ("ref", &id.git_ref),
            ("trigger", &id.trigger),
            ("runner", &id.runner_environment),
            ("run", &id.run_uri),
            ("repository id", &id.source_repository_id),
            ("owner id", &id.owner_id),
            ("builder", &id.builder_id),
            ("issuer", &id.issuer),
            ("certificate SAN", &id.san),
        ];
        for (label, value) in rows {
            if let Some(v) = value {
                let _ = writeln!(out, "    {label:<18} {}", x(v));
            }
        }
    } else {
        let _ = writeln!(out, "  {:<20} no verified provenance", "built from");
    }
    if let Some(u) = &id.npm_user {
        let mut who = x(u.name.as_deref().unwrap_or("?"));
        if let Some(e) = &u.email {
            let _ = write!(who, " <{}>", x(e));
        }
        if let Some(tp) = &u.trusted_publisher {
            let _ = write!(who, " (trusted publisher: {})", x(tp));
        }
        if let Some(a) = &u.approver {
            let _ = write!(who, " (approved by {})", x(a));
        }
        let _ = writeln!(
            out,
            "  {:<20} {who} (registry _npmUser, unsigned)",
            "published by"
        );
    }
    if e.findings.is_empty() {
        let _ = writeln!(out, "findings: none");
    } else {
        let _ = writeln!(out, "findings:");
        for f in &e.findings {
            let _ = writeln!(
                out,
                "  {:<5} {}: {}",
                f.level.as_str(),
                f.code,
                x(&f.message)
            );
        }
    }
    out
}

fn describe(c: &Check) -> String {
    let mut s = c.status.as_str().to_owned();
    let mut extra = Vec::new();
    if let Some(k) = &c.keyid {
        extra.push(escape_text(k));
    }
    if let Some(k) = c.key_source {
        extra.push(format!("key {k}"));
    }
    if let Some(r) = &c.reason {
        extra.push(escape_text(r));
    }
    if !extra.is_empty() {
        let _ = write!(s, " ({})", extra.join(", "));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        assert_eq!(parse_spec("nuxt@4.1.2").unwrap(), ("nuxt", "4.1.2"));
        assert_eq!(
            parse_spec("@actions/core@1.11.1").unwrap(),
            ("@actions/core", "1.11.1")
        );
        for bad in [
            "nuxt",
            "@actions/core",
            "nuxt@",
            "@/x@1",
            "a/b@1",
            "@s@1",
            "x\n@1",
        ] {
            assert!(parse_spec(bad).is_err(), "{bad:?}");
        }
    }
}
