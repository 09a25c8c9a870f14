//! `npm-provenance pin [PATH]`: runs the `verify` pipeline on PATH, then writes one
//! `[[package]]` rule per package name whose identity the run established with verified
//! evidence into the policy file (trust on first use). The decisions and the text are
//! [`crate::policy::pin`]'s (pure); this module does the I/O: read the policy file (an invalid
//! one is exit 2 and is never edited), verify, print what was refused or skipped on stderr,
//! and write atomically (or print with `--dry-run`).
//!
//! Exit: 0 when every registry package verified (whether or not anything new was pinned), 1
//! when some did not (they are listed and not pinned), 2 on errors (nothing written).

use crate::cli::{OutputArgs, PinArgs, VerifyArgs};
use crate::error::{exit, AppError};
use crate::findings::Level;
use crate::policy::config::{Policy, FILE_NAME, IGNORABLE_WHEN_OLD};
use crate::policy::pin::{self, Established, PinInput};
use crate::policy::Publisher;
use crate::report::PackageReport;
use crate::util::{escape_text, write_atomic};
use crate::verify::evidence::Status;
use std::path::{Path, PathBuf};

use super::verify;

pub fn run(args: PinArgs) -> Result<u8, AppError> {
    let path = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    let policy_path = args
        .policy
        .clone()
        .unwrap_or_else(|| verify::project_dir(&path).join(FILE_NAME));
    // The file pinned into: validated before any work, never edited when invalid.
    let (policy, existing) = match std::fs::metadata(&policy_path) {
        Ok(_) => {
            let policy = Policy::load(&policy_path)?;
            let text = std::fs::read_to_string(&policy_path)
                .map_err(|e| AppError::read(&policy_path, e))?;
            (policy, text)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Policy::default(), String::new()),
        Err(e) => return Err(AppError::read(&policy_path, e)),
    };
    let verify_args = VerifyArgs {
        path: Some(path),
        output: OutputArgs {
            format: None,
            json: false,
            output: None,
            danger_now: args.danger_now.clone(),
        },
        trust: args.trust.clone(),
        registry: args.registry.clone(),
        fail_level: None,
        allow_unverifiable: false,
        no_history: false,
        attestations: crate::cli::AttestationsArg::Auto,
        omit: args.omit.clone(),
        workspace: args.workspace.clone(),
        policy: Some(policy_path.clone()),
        quiet: args.quiet,
        snapshot: None,
    };
    let now = super::danger_now(&verify_args.output)?.unwrap_or_else(jiff::Timestamp::now);
    let report = verify::build_report(&verify_args, Some(policy.clone()))?.report;

    let run_denies: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.level == Level::Deny)
        .map(|f| format!("{}: {}", f.code, escape_text(&f.message)))
        .collect();
    let inputs: Vec<PinInput> = report
        .packages
        .iter()
        .filter(|p| p.origin.is_registry())
        .map(|p| PinInput {
            name: p.registry_name().to_string(),
            version: p.version.clone(),
            established: established(p),
        })
        .collect();
    let mut plan = pin::plan(&inputs, &policy);
    if !run_denies.is_empty() {
        // A deny about the run itself (e.g. a registry that strips signatures): nothing it
        // established is trusted enough to pin.
        eprintln!(
            "npm-provenance: pin: nothing pinned: the run has {} deny finding(s):",
            run_denies.len()
        );
        for d in &run_denies {
            eprintln!("  {d}");
        }
        plan.rules.clear();
    }
    if !plan.refused.is_empty() {
        eprintln!(
            "npm-provenance: pin: not pinned, verification failed ({}):",
            plan.refused.len()
        );
        for r in &plan.refused {
            eprintln!("  {}", escape_text(r));
        }
    }
    let governed = plan
        .skipped
        .iter()
        .filter(|(_, why)| why.starts_with("already governed"))
        .count();
    for (name, why) in plan
        .skipped
        .iter()
        .filter(|(_, w)| !w.starts_with("already governed"))
    {
        eprintln!(
            "npm-provenance: pin: {} not pinned: {}",
            escape_text(name),
            escape_text(why)
        );
    }
    let stamp = now.strftime("%Y-%m-%d").to_string();
    let base = policy_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let text = pin::render(&existing, &plan.rules, &stamp, base)
        .map_err(|e| AppError::parse(&policy_path, e))?;
    if args.dry_run {
        super::emit(
            &OutputArgs {
                format: None,
                json: false,
                output: None,
                danger_now: None,
            },
            text.as_bytes(),
        )?;
    } else if !plan.rules.is_empty() {
        write_atomic(&policy_path, text.as_bytes()).map_err(|source| AppError::Write {
            path: policy_path.clone(),
            source,
        })?;
    }
    eprintln!(
        "npm-provenance: pin: {} new rule(s){} {}; {} name(s) already governed by a rule, {} skipped, {} refused",
        plan.rules.len(),
        if args.dry_run { " (dry run) for" } else { " in" },
        policy_path.display(),
        governed,
        plan.skipped.len() - governed,
        plan.refused.len(),
    );
    Ok(if plan.refused.is_empty() && run_denies.is_empty() {
        exit::CLEAN
    } else {
        exit::FINDINGS
    })
}

/// History findings about who published a version: at any level (even `info`, e.g. a new
/// account's first publish), the identity seen is not the package's established one, so it is
/// not trusted on first use. Other history findings hold the name back from warn up.
const IDENTITY_CODES: &[&str] = &[
    "identity-changed",
    "provenance-downgrade",
    "publisher-changed",
    "trusted-publisher-dropped",
];

/// What the run established about one registry package: a failure (any part invalid,
/// unverifiable or missing where it is required, a deny finding, no lockfile integrity), else
/// a warning of the publishing history about its identity (not trusted on first use), else its
/// verified build identity, else its publisher.
fn established(p: &PackageReport) -> Established {
    if let Some(why) = failure(p) {
        return Established::Failed(why);
    }
    let flagged: Vec<&str> = p
        .findings
        .iter()
        .filter(|f| {
            IDENTITY_CODES.contains(&f.code)
                || (f.level >= Level::Warn && IGNORABLE_WHEN_OLD.contains(&f.code))
        })
        .map(|f| f.code)
        .collect();
    if !flagged.is_empty() {
        return Established::Flagged(flagged.join(", "));
    }
    if p.provenance.status == Status::Verified {
        return match p.identity.as_ref().and_then(verify::build_identity) {
            Some(b) => Established::Provenance(b),
            None => Established::IncompleteProvenance,
        };
    }
    let publisher = p
        .identity
        .as_ref()
        .and_then(|id| id.npm_user.as_ref())
        .and_then(|u| {
            Some(Publisher {
                name: u.name.clone()?,
                email: u.email.clone().unwrap_or_default(),
            })
        });
    Established::NoProvenance(publisher)
}

/// Why the package's evidence does not establish anything, or `None` when it does. Fail
/// closed: only the statuses listed as acceptable pass.
fn failure(p: &PackageReport) -> Option<String> {
    let denies: Vec<&str> = p
        .findings
        .iter()
        .filter(|f| f.level == Level::Deny || f.code == "unverifiable")
        .map(|f| f.code)
        .collect();
    if !denies.is_empty() {
        return Some(denies.join(", "));
    }
    if p.lockfile_integrity.is_none() {
        return Some("the lockfile pins no integrity".into());
    }
    if p.integrity.status != Status::Verified {
        return Some(format!("integrity {}", p.integrity.status.as_str()));
    }
    let unsigned_by_policy = p.registry_signature.status == Status::NotApplicable
        && p.registry_signature.reason.as_deref() == Some(verify::UNSIGNED_REASON);
    if p.registry_signature.status != Status::Verified && !unsigned_by_policy {
        return Some(format!(
            "registry signature {}",
            p.registry_signature.status.as_str()
        ));
    }
    for (what, c) in [
        ("provenance", &p.provenance),
        ("publish attestation", &p.publish_attestation),
    ] {
        if !matches!(
            c.status,
            Status::Verified | Status::NotApplicable | Status::Missing
        ) {
            return Some(format!("{what} {}", c.status.as_str()));
        }
    }
    None
}
