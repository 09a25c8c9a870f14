//! `npm-provenance verify [PATH]`: the CI gate over a whole project.
//!
//! 1. flags → one immutable [`Config`] (fail level, format, registry client, trust material);
//! 2. [`inventory::load`] (lockfile or `node_modules`); an empty inventory is exit 2;
//! 3. the fetch plan ([`crate::registry::plan`]): one full packument per name, the attestations
//!    of each installed version, registry keys where none are pinned; run on a tokio runtime
//!    built here, bounded by the client. A fetch failure is that package's `unverifiable`.
//!    With `--snapshot DIR` the client answers only from a snapshot ([`super::snapshot`]);
//! 4. pure verification per package ([`verify_version`]);
//! 5. the publishing-history engine ([`history`]) adds its findings to every registry package,
//!    from the full packument with the verified facts overlaid (`--no-history` skips it);
//! 6. the [`Report`], rendered as text or JSON; the exit code is read from its levels once, at
//!    the end (`--fail-level`, `--allow-unverifiable`).

mod baselines;
mod digest;
mod history;
mod registries;

pub(super) use registries::UNSIGNED_REASON;

use crate::cli::{Format, VerifyArgs};
use crate::error::{exit, AppError};
use crate::findings::{Finding, Level};
use crate::inventory::{self, Inventory, InventoryOptions, Omit, PackageRef, RegistryMap};
use crate::policy::config::{Identity as PinIdentity, Policy, Usage};
use crate::policy::{Provenance, Publisher};
use crate::registry::attestations::MAX_ATTESTATIONS_BYTES;
use crate::registry::packument::PackumentVersion;
use crate::registry::plan::{self, FetchPlan, FetchedEvidence, PlanOptions, Wanted};
use crate::registry::public::is_public_npm;
use crate::registry::redact::redact_url;
use crate::registry::setup::{setup, RegistrySetup};
use crate::registry::{ConfigInputs, FetchFailure};
use crate::report::locate::Locations;
use crate::report::text::TextOptions;
use crate::report::{github, json, sarif, text, Clock, LevelOptions, PackageReport, Report};
use crate::trust::npm_keys::{KeySource, NpmKeys};
use crate::util::escape_text;
use crate::verify::evidence::Status;
use crate::verify::npm::{verify_version, AttestationsInput, VerifyContext, VersionInput};
use crate::verify::SigstoreTrust;
use digest::Digested;
use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use url::Url;

/// Most threads verifying packages at once.
const MAX_VERIFY_THREADS: usize = 8;

/// `f` of every item, in order, the items spread over one thread per core (at most
/// [`MAX_VERIFY_THREADS`]): for CPU-bound work on each package (ECDSA, Merkle proofs,
/// certificate chains, history evaluation). A panic in `f` is a bug: re-raised rather than
/// losing items.
pub(super) fn map_on_cores<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, MAX_VERIFY_THREADS);
    let chunk = items.len().div_ceil(threads).max(1);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(f).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| match h.join() {
                Ok(v) => v,
                Err(e) => std::panic::resume_unwind(e),
            })
            .collect()
    })
}

/// Everything the run needs, decided before any work.
pub(super) struct Config {
    format: Format,
    fail_level: Level,
    levels: LevelOptions,
    path: PathBuf,
    inventory: InventoryOptions,
    /// `--npm-keys` given: never fetch a registry's own keys.
    user_keys: Option<NpmKeys>,
    pinned_keys: NpmKeys,
    /// `--metadata-registry` given: metadata is the public registry's, relayed by that source,
    /// so its signatures are checked against the pinned npm keys (or `--npm-keys`), never
    /// against keys the metadata source serves (a mirror cannot sign as the registry).
    metadata_registry: bool,
    sigstore: SigstoreTrust,
    progress: bool,
    color: bool,
    /// Run the publishing-history engine (`--no-history` turns it off).
    history: bool,
    /// `--attestations`: which versions' attestations are requested.
    attestations: crate::registry::plan::AttestationFetch,
    /// "Now" for the history engine and policy expiries (`--danger-now`, else the clock).
    now: jiff::Timestamp,
    /// Which of the two `now` is, for the report.
    clock: Clock,
    /// `--policy FILE`, else `npm-provenance.toml` in the project, else the empty policy.
    policy: Policy,
    /// The keys files of the policy's `[[registry]]` entries.
    registry_keys: registries::RegistryKeys,
    /// `trust-root-stale` for the trust material in use (run level).
    trust_findings: Vec<Finding>,
}

/// The `stored_digest` fuzzing entry ([`crate::fuzzing::stored_digest`]).
pub(crate) fn read_stored_digest(data: &[u8]) {
    digest::fuzz_read(data);
}

pub fn run(args: VerifyArgs) -> Result<u8, AppError> {
    let run = build_report(&args, None)?;
    let Evaluated {
        report,
        format,
        fail_level,
        color,
        ..
    } = run;
    let bytes = match format {
        Format::Json => json::render(&report)
            .map_err(|e| AppError::Usage(format!("cannot render JSON: {e}")))?
            .into_bytes(),
        Format::Sarif | Format::Github => ci_report(format, &report)?,
        Format::Text => text::render(
            &report,
            TextOptions {
                color: color && args.output.output.is_none(),
                fail_level,
            },
        )
        .into_bytes(),
    };
    super::emit(&args.output, &bytes)?;
    Ok(if report.fails_at(fail_level) {
        exit::FINDINGS
    } else {
        exit::CLEAN
    })
}

/// A run of the pipeline up to the report.
pub(super) struct Evaluated {
    pub report: Report,
    /// The lockfile (or directory) the inventory was read from.
    pub inventory_path: PathBuf,
    pub format: Format,
    pub fail_level: Level,
    pub color: bool,
}

/// Steps 1–6 on `registry` (live, recording a snapshot, or replaying one): the report.
/// `policy` replaces the policy `args` names (`pin` loads its target file itself, which may
/// not exist yet).
pub(super) fn evaluate(
    args: &VerifyArgs,
    registry: &RegistrySetup,
    policy: Option<Policy>,
) -> Result<Evaluated, AppError> {
    let path = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    let config = config(args, args.output.format(), path, registry, policy)?;
    let inventory = inventory::load(&config.path, &config.inventory)?;
    if inventory.registry_packages().next().is_none() {
        return Err(AppError::Inventory(format!(
            "{}: nothing to verify ({} packages, none from a registry)",
            inventory.source.path.display(),
            inventory.packages.len()
        )));
    }
    let report = verify_inventory(&config, registry, &inventory)?;
    Ok(Evaluated {
        report,
        inventory_path: inventory.source.path.clone(),
        format: config.format,
        fail_level: config.fail_level,
        color: config.color,
    })
}

/// Steps 1–6 on the live registry, or on the snapshot `args` names (`--snapshot DIR`: answers
/// only from the snapshot, with its registry map, never the project's `.npmrc`). Shared with
/// `pin`, which passes the policy it loaded itself.
pub(super) fn build_report(
    args: &VerifyArgs,
    policy: Option<Policy>,
) -> Result<Evaluated, AppError> {
    let path = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    let replay = args
        .snapshot
        .as_deref()
        .map(super::snapshot::Replaying::open)
        .transpose()?;
    let registry = match &replay {
        Some(r) => r.setup(args)?,
        None => setup(
            &args.registry,
            ConfigInputs::from_process(Some(project_dir(&path)), None),
        )?,
    };
    for w in &registry.warnings {
        eprintln!("npm-provenance: warning: {}", escape_text(w));
    }
    let mut run = evaluate(args, &registry, policy)?;
    if let Some(r) = &replay {
        r.finish(&run.inventory_path, &mut run.report);
    }
    Ok(run)
}

/// The build identity of a package's verified provenance certificate (for `pin`).
pub(super) fn build_identity(
    id: &crate::verify::evidence::Identity,
) -> Option<crate::policy::BuildIdentity> {
    history::build_identity(id)
}

/// SARIF or GitHub output, located relative to the current directory (`%SRCROOT%`, the
/// checkout in CI); for GitHub also the step summary when `$GITHUB_STEP_SUMMARY` is set.
fn ci_report(format: Format, report: &Report) -> Result<Vec<u8>, AppError> {
    let root = std::env::current_dir().unwrap_or_default();
    let locations = Locations::load(report, &root);
    if format == Format::Sarif {
        return Ok(sarif::render(report, &locations)
            .map_err(|e| AppError::Usage(format!("cannot render SARIF: {e}")))?
            .into_bytes());
    }
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        let md = github::step_summary(report, &locations);
        github::append_step_summary(&path, &md)
            .map_err(|source| AppError::Write { path, source })?;
    }
    Ok(github::render(report, &locations).into_bytes())
}

fn config(
    args: &VerifyArgs,
    format: Format,
    path: PathBuf,
    registry: &RegistrySetup,
    policy: Option<Policy>,
) -> Result<Config, AppError> {
    let fail_flag = args
        .fail_level
        .as_deref()
        .map(|l| {
            Level::parse(l).ok_or_else(|| {
                AppError::Usage(format!("--fail-level {l:?}: expected deny, warn or info"))
            })
        })
        .transpose()?;
    let omit = Omit::parse(&args.omit).map_err(|bad| {
        AppError::Usage(format!("--omit {bad:?}: expected dev, optional or peer"))
    })?;
    let policy = match policy {
        Some(p) => p,
        None => Policy::load_for(&project_dir(&path), args.policy.as_deref())?,
    };
    let registry_keys = registries::RegistryKeys::load(&policy)?;
    let fail_level = policy.effective_fail_level(fail_flag);
    let cfg = &registry.config;
    // Redacted: the map is shown in the report (a `registry=https://user:pass@host/` must not
    // be), and a replayed snapshot, whose map has no userinfo, then gives the same report.
    let registries = RegistryMap::new(
        &redact_url(&cfg.default_registry),
        cfg.scopes.iter().map(|(s, u)| (s.clone(), redact_url(u))),
    );
    let (root_json, _) = super::trust_roots::trusted_root_json(&args.trust)?;
    let sigstore = SigstoreTrust::from_json(&root_json).map_err(|e| {
        AppError::parse(
            args.trust
                .trusted_root
                .clone()
                .unwrap_or_else(|| "<embedded trusted_root.json>".into()),
            e.to_string(),
        )
    })?;
    // `--npm-keys` pins every registry's keys; otherwise the pinned keys (a stored TUF update,
    // else the embedded ones) serve the public registry.
    let loaded_keys = super::trust_roots::load_npm_keys(&args.trust)?;
    let (user_keys, pinned_keys) = match &args.trust.npm_keys {
        Some(_) => (Some(loaded_keys.clone()), loaded_keys),
        None => (None, loaded_keys),
    };
    let stderr_tty = std::io::stderr().is_terminal();
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let pinned = super::danger_now(&args.output)?;
    let now = pinned.unwrap_or_else(jiff::Timestamp::now);
    let clock = pinned.map_or(Clock::System, |now| Clock::DangerNow { now });
    let trust_findings = super::trust_roots::stale_findings(&args.trust, now)?;
    Ok(Config {
        trust_findings,
        policy,
        registry_keys,
        history: !args.no_history,
        attestations: match args.attestations {
            crate::cli::AttestationsArg::Auto => crate::registry::plan::AttestationFetch::Auto,
            crate::cli::AttestationsArg::Announced => {
                crate::registry::plan::AttestationFetch::Announced
            }
            crate::cli::AttestationsArg::All => crate::registry::plan::AttestationFetch::All,
        },
        now,
        clock,
        format,
        fail_level,
        levels: LevelOptions {
            allow_unverifiable: args.allow_unverifiable,
        },
        path,
        inventory: InventoryOptions {
            registries,
            omit,
            workspaces: args.workspace.clone(),
        },
        user_keys,
        pinned_keys,
        // From the setup, not the flag: a replayed snapshot carries its own.
        metadata_registry: registry.metadata_registry.is_some(),
        sigstore,
        progress: stderr_tty && !ci && !args.quiet,
        color: std::io::stdout().is_terminal() && !no_color,
    })
}

/// The directory whose `.npmrc` applies: the project directory of `path`.
pub(super) fn project_dir(path: &Path) -> PathBuf {
    let dir = if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    };
    if dir.file_name().is_some_and(|n| n == "node_modules") {
        return dir
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
    }
    dir
}

/// Fetches and verifies every registry package of `inventory`, and builds the report.
fn verify_inventory(
    config: &Config,
    registry: &RegistrySetup,
    inventory: &Inventory,
) -> Result<Report, AppError> {
    let wanted: Vec<Wanted> = inventory
        .registry_packages()
        .map(|p| Wanted {
            name: p.name.clone(),
            version: p.version.clone(),
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut plan = FetchPlan::build(
        &wanted,
        &registry.config,
        registry.metadata_registry.as_ref(),
        PlanOptions {
            // `_npmUser` is part of the identity. TODO(partial): the abbreviated document
            // would do once confirmed to keep dist.signatures/attestations (DESIGN §3).
            full_packuments: true,
            user_keys: config.user_keys.is_some(),
            attestations: config.attestations,
        },
    );
    registries::adjust_plan(&config.policy, &mut plan);
    progress(
        config,
        &format!(
            "fetching metadata for {} package versions ({} packuments)…",
            wanted.len(),
            plan.packuments.len()
        ),
    );
    let runtime = crate::registry::setup::runtime()?;
    let mut fetched = runtime.block_on(fetch_with_progress(
        config.progress,
        registry.client.clone(),
        &plan,
        config.history,
    ));
    drop(runtime);
    progress(
        config,
        &format!("verifying {} packages…", inventory.packages.len()),
    );

    let mut run_findings = inventory.findings.clone();
    run_findings.extend(config.trust_findings.iter().cloned());
    run_findings.extend(registries::metadata_stripped(
        &config.policy,
        &plan,
        &fetched,
    ));
    run_findings.extend(registries::run_findings(config, &plan));
    let (mut packages, per_registry) = verify_packages(config, inventory, &plan, &fetched);
    if config.history {
        // The history engine takes the releases' facts over (it overlays verified facts on
        // them); verification is done with the packuments.
        let history_docs = fetched
            .packuments
            .iter_mut()
            .filter_map(|(name, r)| Some((name.clone(), r.as_mut().ok()?.history.take()?)))
            .collect();
        let source = baselines::Source {
            config,
            plan: &plan,
            fetched: &fetched,
            client: registry.client.clone(),
        };
        progress(config, "verifying the baselines of the publishing history…");
        history::join(
            &mut packages,
            inventory,
            history_docs,
            config.now,
            Some(&source),
        );
    }
    let suppressed = apply_policy(config, &mut packages, &mut run_findings);
    run_findings.extend(per_registry);
    let mut report = Report::build(inventory, packages, run_findings, config.levels);
    report.summary.suppressed = suppressed;
    report.clock = config.clock;
    progress(config, "done.");
    Ok(report)
}

/// Verifies every package of the inventory from what was fetched (pure: no I/O). Returns the
/// package reports and the run-level findings they give rise to (`registry-keys-unpinned`
/// once per registry instead of once per package).
fn verify_packages(
    config: &Config,
    inventory: &Inventory,
    plan: &FetchPlan,
    fetched: &FetchedEvidence<Digested>,
) -> (Vec<PackageReport>, Vec<Finding>) {
    let keys = registry_keys(plan, fetched);
    // Verification is CPU-bound (ECDSA, Merkle proofs, certificate chains): spread the packages
    // over a few threads; the result keeps the inventory's order.
    let verify_one = |p: &PackageRef| -> (PackageReport, Option<String>) {
        if !p.origin.is_registry() {
            return (PackageReport::not_fetched(p), None);
        }
        let reg = plan.registries.get(&p.name);
        let keys_for = keys_for_package(config, reg, &keys);
        let unsigned = registries::is_unsigned(&config.policy, reg);
        let mut report = verify_package(config, p, fetched, keys_for, unsigned);
        if unsigned {
            registries::mark_unsigned(&mut report);
        }
        let before = report.findings.len();
        report
            .findings
            .retain(|f| f.code != "registry-keys-unpinned");
        let unpinned = (report.findings.len() != before)
            .then(|| reg.map(redact_url))
            .flatten();
        (report, unpinned)
    };
    let results = map_on_cores(&inventory.packages, verify_one);
    let mut packages = Vec::with_capacity(results.len());
    let mut unpinned = BTreeSet::new();
    for (report, reg) in results {
        unpinned.extend(reg);
        packages.push(report);
    }
    let findings = unpinned
        .into_iter()
        .map(|r| {
            Finding::new(
                "registry-keys-unpinned",
                format!(
                    "registry signatures of packages from {r} were checked with that registry's \
                     own keys (/-/npm/v1/keys), not pinned ones; pin them with --npm-keys FILE"
                ),
            )
        })
        .collect();
    (packages, findings)
}

/// The policy file on every package's findings (exclusions, `ignore-published-before`, level
/// overrides; `allow` drops) and on the run-level findings, then its own end-of-run findings
/// (expired exclusions, unused rules). Returns how many findings were dropped (`suppressed`).
/// `[[package]]` identity pins are checked first (`pin-mismatch`, which exclusions may drop).
/// `[[registry]]` entries are applied earlier ([`registries`]).
fn apply_policy(
    config: &Config,
    packages: &mut [PackageReport],
    run_findings: &mut Vec<Finding>,
) -> usize {
    let policy = &config.policy;
    let mut usage = Usage::default();
    let mut suppressed = 0;
    for p in packages.iter_mut() {
        let name = p.registry_name().to_string();
        if p.origin.is_registry() {
            let pins = pin_findings(policy, &name, p);
            p.findings.extend(pins);
        }
        let published = p.published.and_then(|t| t.time);
        let applied = policy.apply(
            &mut p.findings,
            &name,
            &p.version,
            published,
            config.now,
            None,
        );
        suppressed += applied.suppressed;
        usage.record(&applied);
    }
    suppressed += policy.apply_levels(run_findings, None);
    run_findings.extend(policy.end_of_run(&usage, config.now));
    suppressed
}

/// `pin-mismatch` findings of the package's `[[package]]` rule: only verified provenance counts
/// as provenance; the publisher is the packument's `_npmUser`.
fn pin_findings(policy: &Policy, name: &str, p: &PackageReport) -> Vec<Finding> {
    if policy.rule_for(name).is_none() {
        return Vec::new();
    }
    let provenance = match p.provenance.status {
        Status::Verified => p
            .identity
            .as_ref()
            .and_then(history::build_identity)
            .map_or(Provenance::None, Provenance::verified),
        Status::Invalid => Provenance::Invalid,
        _ => Provenance::None,
    };
    let publisher = p
        .identity
        .as_ref()
        .and_then(|id| id.npm_user.as_ref())
        .and_then(|u| {
            // As the history facts read `_npmUser`: a name is needed, the e-mail may be absent.
            Some(Publisher {
                name: u.name.clone()?,
                email: u.email.clone().unwrap_or_default(),
            })
        });
    policy.check_identity(
        name,
        &PinIdentity {
            provenance: &provenance,
            publisher: publisher.as_ref(),
        },
    )
}

/// The npm keys that verify packages of registry `reg`: the user's file (`--npm-keys`), the
/// keys the policy file pins for the registry (`[[registry]] keys`), the pinned keys for the
/// public registry (and for metadata relayed by `--metadata-registry`, and for the publish
/// attestations of a registry declared unsigned), else the registry's own keys (unpinned) or
/// why there are none.
fn keys_for_package<'a>(
    config: &'a Config,
    reg: Option<&Url>,
    keys: &'a BTreeMap<Url, Result<NpmKeys, String>>,
) -> Result<&'a NpmKeys, String> {
    if let Some(k) = &config.user_keys {
        return Ok(k);
    }
    let Some(reg) = reg else {
        return Err("no registry for the package".into());
    };
    if let Some(k) = config.registry_keys.for_registry(&config.policy, reg) {
        return Ok(k);
    }
    if config.metadata_registry
        || is_public_npm(reg.as_str())
        || registries::is_unsigned(&config.policy, Some(reg))
    {
        return Ok(&config.pinned_keys);
    }
    let url = reg
        .join("-/npm/v1/keys")
        .map_err(|e| format!("keys URL of {}: {e}", redact_url(reg)))?;
    match keys.get(&url) {
        Some(Ok(k)) => Ok(k),
        Some(Err(e)) => Err(e.clone()),
        None => Err(format!("the keys of {} were not fetched", redact_url(reg))),
    }
}

/// Each fetched `/-/npm/v1/keys`, parsed as unpinned keys, or why it is unusable.
fn registry_keys<P>(
    plan: &FetchPlan,
    fetched: &FetchedEvidence<P>,
) -> BTreeMap<Url, Result<NpmKeys, String>> {
    plan.keys
        .iter()
        .map(|u| {
            let r = match fetched.keys.get(u) {
                Some(Ok(f)) => NpmKeys::from_json(&f.bytes, KeySource::RegistryUnpinned)
                    .map_err(|e| format!("registry keys from {}: {e}", redact_url(u))),
                Some(Err(e)) => Err(format!("registry keys: {e}")),
                None => Err(format!("registry keys from {}: not fetched", redact_url(u))),
            };
            (u.clone(), r)
        })
        .collect()
}

/// Verifies one registry package from what was fetched for it.
fn verify_package(
    config: &Config,
    p: &PackageRef,
    fetched: &FetchedEvidence<Digested>,
    keys: Result<&NpmKeys, String>,
    unsigned: bool,
) -> PackageReport {
    let unusable = |f: Finding| {
        PackageReport::without_evidence(p, Status::Unverifiable, "packument unavailable", vec![f])
    };
    let doc = match fetched.packuments.get(&p.name) {
        Some(Ok(Digested {
            verify: Ok(doc), ..
        })) => doc,
        Some(Ok(Digested { verify: Err(f), .. })) => return unusable(f.clone()),
        Some(Err(e)) => return unusable(e.finding()),
        None => {
            return PackageReport::without_evidence(
                p,
                Status::Unverifiable,
                "packument not fetched",
                vec![Finding::new(
                    "unverifiable",
                    format!(
                        "no packument was fetched for {} (not a valid package name?)",
                        escape_text(&p.name)
                    ),
                )],
            )
        }
    };
    let version: PackumentVersion = match doc.version(&p.version) {
        Some(Ok(v)) if unsigned => registries::without_signatures(v),
        Some(Ok(v)) => v,
        Some(Err(e)) => {
            return PackageReport::without_evidence(
                p,
                Status::Unverifiable,
                "version entry unusable",
                vec![Finding::new(
                    "unverifiable",
                    format!("the packument entry is unusable: {}", escape_text(&e.0)),
                )],
            )
        }
        None => {
            return PackageReport::without_evidence(
                p,
                Status::Missing,
                "version not in the registry",
                vec![Finding::new(
                    "version-not-in-registry",
                    format!(
                        "the registry's packument of {} does not list version {}",
                        escape_text(&p.name),
                        escape_text(&p.version)
                    ),
                )],
            )
        }
    };
    let wanted = Wanted {
        name: p.name.clone(),
        version: p.version.clone(),
    };
    let mut extra = Vec::new();
    let fail_reason;
    let attestations = match fetched.attestations.get(&wanted) {
        Some(Ok(Some(f))) => AttestationsInput::Body(&f.bytes),
        Some(Ok(None)) => AttestationsInput::NotFound,
        Some(Err(e)) => {
            if matches!(e.reason, FetchFailure::TooLarge { .. }) {
                extra.push(Finding::new(
                    "metadata-too-large",
                    format!("{e} (attestations cap {MAX_ATTESTATIONS_BYTES} bytes)"),
                ));
            }
            fail_reason = e.to_string();
            AttestationsInput::FetchFailed(&fail_reason)
        }
        // Announced nowhere on a registry whose announcements are complete: none exist.
        None if fetched.not_announced.contains(&wanted) => AttestationsInput::NotFound,
        None => AttestationsInput::FetchFailed("the attestations were not fetched"),
    };
    let empty;
    let npm_keys = match keys {
        Ok(k) => k,
        Err(why) => {
            extra.push(Finding::new(
                "unverifiable",
                format!(
                    "no npm keys to check the registry signature: {}",
                    escape_text(&why)
                ),
            ));
            empty = NpmKeys {
                keys: Vec::new(),
                source: KeySource::RegistryUnpinned,
            };
            &empty
        }
    };
    let input = VersionInput {
        name: &p.name,
        version: &p.version,
        expected_integrity: p.integrity.clone(),
        tarball_sha512: None,
        packument_version: Some(&version),
        packument_time: doc.time_of(&p.version),
        attestations,
    };
    let evidence = verify_version(
        &input,
        &VerifyContext {
            sigstore: &config.sigstore,
            npm_keys,
        },
    );
    let registry_integrity = version.dist.integrity.clone();
    PackageReport::registry(p, registry_integrity, evidence, extra)
}

fn progress(config: &Config, msg: &str) {
    if config.progress {
        eprintln!("npm-provenance: {msg}");
    }
}

/// Runs the fetch plan; with `show`, redraws one status line on stderr (requests sent, answers
/// from the cache) until it is done.
async fn fetch_with_progress(
    show: bool,
    client: std::sync::Arc<crate::registry::RegistryClient>,
    plan: &FetchPlan,
    history: bool,
) -> FetchedEvidence<Digested> {
    let fetch = plan::fetch_all_digested(client.clone(), plan, digest::Digester { history });
    if !show {
        return fetch.await;
    }
    tokio::pin!(fetch);
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(250));
    loop {
        tokio::select! {
            done = &mut fetch => {
                eprint!("\r\x1b[2K");
                return done;
            }
            _ = tick.tick() => {
                let s = client.stats();
                eprint!(
                    "\r\x1b[2Knpm-provenance: {} requests, {} answers from the cache, {} retries",
                    s.requests, s.cache_hits, s.retries
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_dir_of_each_input_kind() {
        let tmp = std::env::temp_dir().join(format!("npmprov-projdir-{}", std::process::id()));
        std::fs::create_dir_all(tmp.join("node_modules")).unwrap();
        std::fs::write(tmp.join("package-lock.json"), "{}").unwrap();
        assert_eq!(project_dir(&tmp), tmp);
        assert_eq!(project_dir(&tmp.join("package-lock.json")), tmp);
        assert_eq!(project_dir(&tmp.join("node_modules")), tmp);
        assert_eq!(project_dir(Path::new("package-lock.json")), Path::new("."));
        let _ = std::fs::remove_dir_all(&tmp);
    }
}
