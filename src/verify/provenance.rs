//! SLSA provenance dialects, and the cross-check of a verified predicate against its verified
//! Fulcio certificate.
//!
//! Both sides are signed, but by different parties in different ways: the certificate's
//! extensions are asserted by Fulcio from the OIDC token, the predicate is written by the build.
//! A predicate that contradicts its certificate (repository, workflow, ref, commit, repository
//! or owner id) is `provenance-inconsistent`. Workflows are compared with the Build Config URI
//! (`.18`, the caller's workflow), never with the SAN, which names a reusable workflow when one
//! signs. An unknown buildType is not a failure: it is reported as not evaluated.
//!
//! Dialects:
//! * SLSA v1, buildType `https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1`:
//!   `buildDefinition.externalParameters.workflow.{repository,path,ref}`,
//!   `buildDefinition.internalParameters.github.{repository_id,repository_owner_id,event_name}`,
//!   `buildDefinition.resolvedDependencies[0].digest.gitCommit`, `runDetails.builder.id`.
//! * SLSA v0.2, buildType `https://github.com/npm/cli/gha/v2`, `…/gha@v0` or `…/gha@v1` (2023):
//!   `invocation.configSource.{uri (git+REPO@REF), digest.sha1, entryPoint}`,
//!   `invocation.environment.GITHUB_*`, `builder.id`.

use super::bundle::{FulcioIdentity, Statement};
use super::evidence::Identity;
use serde_json::Value;

/// SLSA v1 predicate type.
pub const SLSA_V1: &str = "https://slsa.dev/provenance/v1";
/// SLSA v0.2 predicate type.
pub const SLSA_V02: &str = "https://slsa.dev/provenance/v0.2";
/// The GitHub Actions workflow buildType (SLSA v1).
pub const BUILD_TYPE_GHA_V1: &str =
    "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1";
/// npm CLI's GitHub Actions buildTypes (SLSA v0.2).
pub const BUILD_TYPES_NPM_GHA_V02: &[&str] = &[
    "https://github.com/npm/cli/gha/v2",
    "https://github.com/npm/cli/gha@v0",
    "https://github.com/npm/cli/gha@v1",
];

/// A provenance dialect this verifier reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    SlsaV1,
    SlsaV02,
}

impl Dialect {
    /// `slsa-v1` / `slsa-v0.2`.
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::SlsaV1 => "slsa-v1",
            Dialect::SlsaV02 => "slsa-v0.2",
        }
    }
}

/// What a predicate of a known dialect claims about its build.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PredicateClaims {
    pub build_type: String,
    pub builder_id: Option<String>,
    /// `https://github.com/owner/repo`.
    pub repository: Option<String>,
    /// The workflow file path, e.g. `.github/workflows/release.yml`.
    pub workflow_path: Option<String>,
    pub git_ref: Option<String>,
    pub commit: Option<String>,
    pub repository_id: Option<String>,
    pub owner_id: Option<String>,
}

/// The result of the cross-check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evaluation {
    /// Known dialect; every field present on both sides agrees.
    Consistent {
        dialect: Dialect,
        claims: PredicateClaims,
    },
    /// A predicate type or buildType this verifier does not read: not evaluated (info).
    NotEvaluated { reason: String },
    /// The predicate contradicts the certificate (or lacks what its dialect must carry).
    Inconsistent { problems: Vec<String> },
}

/// Reads `predicate` in the dialect of `predicate_type` and compares it with the certificate.
pub fn evaluate(predicate_type: &str, predicate: &Value, cert: &FulcioIdentity) -> Evaluation {
    let build_type = match predicate_type {
        SLSA_V1 => predicate
            .pointer("/buildDefinition/buildType")
            .and_then(Value::as_str),
        SLSA_V02 => predicate.get("buildType").and_then(Value::as_str),
        other => {
            return Evaluation::NotEvaluated {
                reason: format!("unknown provenance predicate type {other:?}"),
            }
        }
    };
    let Some(build_type) = build_type else {
        return Evaluation::Inconsistent {
            problems: vec![format!("the {predicate_type} predicate has no buildType")],
        };
    };
    let (dialect, claims) = match predicate_type {
        SLSA_V1 if build_type == BUILD_TYPE_GHA_V1 => (Dialect::SlsaV1, read_v1(predicate)),
        SLSA_V02 if BUILD_TYPES_NPM_GHA_V02.contains(&build_type) => {
            (Dialect::SlsaV02, read_v02(predicate))
        }
        _ => {
            return Evaluation::NotEvaluated {
                reason: format!("unknown buildType {build_type:?}"),
            }
        }
    };
    let claims = PredicateClaims {
        build_type: build_type.to_owned(),
        ..claims
    };
    let problems = compare(&claims, cert);
    if problems.is_empty() {
        Evaluation::Consistent { dialect, claims }
    } else {
        Evaluation::Inconsistent { problems }
    }
}

/// The build identity of a verified provenance: from its certificate, plus the builder id and
/// dialect of its predicate when that is consistent with the certificate.
pub fn identity(cert: &FulcioIdentity, statement: Option<&Statement>) -> Identity {
    let claims = certificate_claims(cert);
    let (builder_id, dialect) =
        match statement.map(|s| evaluate(&s.predicate_type, &s.predicate, cert)) {
            Some(Evaluation::Consistent { dialect, claims }) => {
                (claims.builder_id, Some(dialect.as_str().to_owned()))
            }
            _ => (None, None),
        };
    let workflow_path = claims.workflow_path.or_else(|| {
        // Certificates without the Build Config URI (2023): the SAN names the workflow.
        (cert.build_config_uri.is_none())
            .then(|| workflow_path_of(&cert.san, claims.repository.as_deref()))
            .flatten()
    });
    Identity {
        issuer: Some(cert.issuer.clone()),
        san: Some(cert.san.clone()),
        source_repository_uri: claims.repository,
        source_repository_id: claims.repository_id,
        owner_id: claims.owner_id,
        commit: claims.commit,
        workflow_path,
        git_ref: claims.git_ref,
        trigger: cert
            .build_trigger
            .clone()
            .or_else(|| cert.legacy_trigger.clone()),
        runner_environment: cert.runner_environment.clone(),
        run_uri: cert.run_invocation_uri.clone(),
        builder_id,
        provenance_dialect: dialect,
        npm_user: None,
    }
}

fn text(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn read_v1(p: &Value) -> PredicateClaims {
    PredicateClaims {
        build_type: String::new(),
        builder_id: text(p, "/runDetails/builder/id"),
        repository: text(p, "/buildDefinition/externalParameters/workflow/repository"),
        workflow_path: text(p, "/buildDefinition/externalParameters/workflow/path"),
        git_ref: text(p, "/buildDefinition/externalParameters/workflow/ref"),
        commit: text(
            p,
            "/buildDefinition/resolvedDependencies/0/digest/gitCommit",
        ),
        repository_id: text(
            p,
            "/buildDefinition/internalParameters/github/repository_id",
        ),
        owner_id: text(
            p,
            "/buildDefinition/internalParameters/github/repository_owner_id",
        ),
    }
}

fn read_v02(p: &Value) -> PredicateClaims {
    let env = |k: &str| text(p, &format!("/invocation/environment/{k}"));
    // configSource.uri = git+https://github.com/owner/repo@refs/…
    let (repository, uri_ref) = match text(p, "/invocation/configSource/uri") {
        Some(uri) => {
            let uri = uri.strip_prefix("git+").unwrap_or(&uri).to_owned();
            match uri.rsplit_once('@') {
                Some((repo, r)) => (Some(repo.to_owned()), Some(r.to_owned())),
                None => (Some(uri), None),
            }
        }
        None => (None, None),
    };
    // entryPoint is either the path, or `owner/repo/PATH@REF` (GITHUB_WORKFLOW_REF form).
    let workflow_path = text(p, "/invocation/configSource/entryPoint").map(|e| {
        let e = e.rsplit_once('@').map_or(e.as_str(), |(l, _)| l).to_owned();
        match env("GITHUB_REPOSITORY") {
            Some(r) => e
                .strip_prefix(&format!("{r}/"))
                .map(str::to_owned)
                .unwrap_or(e),
            None => e,
        }
    });
    PredicateClaims {
        build_type: String::new(),
        builder_id: text(p, "/builder/id"),
        repository,
        workflow_path,
        git_ref: uri_ref.or_else(|| env("GITHUB_REF")),
        commit: text(p, "/invocation/configSource/digest/sha1").or_else(|| env("GITHUB_SHA")),
        repository_id: env("GITHUB_REPOSITORY_ID"),
        owner_id: env("GITHUB_REPOSITORY_OWNER_ID"),
    }
}

/// The certificate's view of the build, normalised like [`PredicateClaims`].
pub fn certificate_claims(cert: &FulcioIdentity) -> PredicateClaims {
    let repository = cert.repository();
    PredicateClaims {
        build_type: String::new(),
        builder_id: None,
        workflow_path: cert
            .build_config_uri
            .as_deref()
            .and_then(|u| workflow_path_of(u, repository.as_deref())),
        repository,
        git_ref: cert
            .source_repository_ref
            .clone()
            .or_else(|| cert.legacy_ref.clone()),
        commit: cert
            .source_repository_digest
            .clone()
            .or_else(|| cert.legacy_sha.clone()),
        repository_id: cert.source_repository_identifier.clone(),
        owner_id: cert.source_repository_owner_identifier.clone(),
    }
}

/// `https://github.com/o/r/.github/workflows/w.yml@refs/…` → `.github/workflows/w.yml`, when it
/// lies in `repository` (or, without one, after the `host/owner/repo/` part).
pub fn workflow_path_of(uri: &str, repository: Option<&str>) -> Option<String> {
    let without_ref = uri.rsplit_once('@').map_or(uri, |(l, _)| l);
    let rest = match repository {
        Some(repo) => {
            let prefix = format!("{}/", repo.trim_end_matches('/'));
            if without_ref.len() > prefix.len()
                && without_ref[..prefix.len()].eq_ignore_ascii_case(&prefix)
            {
                &without_ref[prefix.len()..]
            } else {
                return None;
            }
        }
        None => {
            // scheme://host/owner/repo/PATH
            let after_scheme = without_ref.split_once("://")?.1;
            let mut parts = after_scheme.splitn(4, '/');
            let (_host, _owner, _repo) = (parts.next()?, parts.next()?, parts.next()?);
            parts.next()?
        }
    };
    (!rest.is_empty()).then(|| rest.to_owned())
}

fn compare(pred: &PredicateClaims, cert: &FulcioIdentity) -> Vec<String> {
    let c = certificate_claims(cert);
    let mut problems = Vec::new();
    if pred.repository.is_none() {
        problems.push("the predicate names no source repository".to_owned());
    }
    let fields: [(&str, &Option<String>, &Option<String>, bool); 6] = [
        ("repository", &pred.repository, &c.repository, true),
        ("workflow", &pred.workflow_path, &c.workflow_path, false),
        ("ref", &pred.git_ref, &c.git_ref, false),
        ("commit", &pred.commit, &c.commit, true),
        (
            "repository id",
            &pred.repository_id,
            &c.repository_id,
            false,
        ),
        ("owner id", &pred.owner_id, &c.owner_id, false),
    ];
    for (what, p, c, case_insensitive) in fields {
        if let (Some(p), Some(c)) = (p, c) {
            let same = if case_insensitive {
                p.trim_end_matches('/')
                    .eq_ignore_ascii_case(c.trim_end_matches('/'))
            } else {
                p == c
            };
            if !same {
                problems.push(format!(
                    "{what}: the predicate says {p:?}, the certificate {c:?}"
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::bundle::SanKind;
    use serde_json::json;

    fn cert() -> FulcioIdentity {
        FulcioIdentity {
            san: "https://github.com/other/reusable/.github/workflows/x.yml@refs/tags/v1".into(),
            san_kind: SanKind::Uri,
            issuer: "https://token.actions.githubusercontent.com".into(),
            build_signer_uri: None,
            build_signer_digest: None,
            runner_environment: Some("github-hosted".into()),
            source_repository_uri: Some("https://github.com/o/r".into()),
            source_repository_digest: Some("abc".into()),
            source_repository_ref: Some("refs/heads/main".into()),
            source_repository_identifier: Some("1".into()),
            source_repository_owner_uri: None,
            source_repository_owner_identifier: Some("2".into()),
            build_config_uri: Some(
                "https://github.com/o/r/.github/workflows/release.yml@refs/heads/main".into(),
            ),
            build_config_digest: None,
            build_trigger: Some("push".into()),
            run_invocation_uri: None,
            source_repository_visibility: None,
            legacy_trigger: None,
            legacy_sha: None,
            legacy_workflow_name: None,
            legacy_repository: None,
            legacy_ref: None,
        }
    }

    fn v1(repo: &str, path: &str, r: &str, id: &str) -> Value {
        json!({"buildDefinition": {"buildType": BUILD_TYPE_GHA_V1,
            "externalParameters": {"workflow": {"repository": repo, "path": path, "ref": r}},
            "internalParameters": {"github": {"repository_id": id, "repository_owner_id": "2"}},
            "resolvedDependencies": [{"digest": {"gitCommit": "abc"}}]},
            "runDetails": {"builder": {"id": "https://github.com/actions/runner/github-hosted"}}})
    }

    #[test]
    fn v1_consistent_compares_workflow_with_build_config_not_san() {
        let p = v1(
            "https://github.com/o/r",
            ".github/workflows/release.yml",
            "refs/heads/main",
            "1",
        );
        match evaluate(SLSA_V1, &p, &cert()) {
            Evaluation::Consistent { dialect, claims } => {
                assert_eq!(dialect, Dialect::SlsaV1);
                assert_eq!(
                    claims.builder_id.as_deref(),
                    Some("https://github.com/actions/runner/github-hosted")
                );
                assert_eq!(claims.build_type, BUILD_TYPE_GHA_V1);
            }
            other => panic!("{other:?}"),
        }
        // A v1 predicate of another build type is not read as GitHub Actions'.
        let mut other = p.clone();
        other["buildDefinition"]["buildType"] = json!("https://example.com/other-builder/v1");
        match evaluate(SLSA_V1, &other, &cert()) {
            Evaluation::NotEvaluated { reason } => {
                assert!(reason.contains("other-builder"), "{reason}")
            }
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn v1_each_contradiction_is_reported() {
        let cases = [
            v1(
                "https://github.com/o/r-evil",
                ".github/workflows/release.yml",
                "refs/heads/main",
                "1",
            ),
            v1(
                "https://github.com/o/r",
                ".github/workflows/x.yml",
                "refs/heads/main",
                "1",
            ),
            v1(
                "https://github.com/o/r",
                ".github/workflows/release.yml",
                "refs/heads/dev",
                "1",
            ),
            v1(
                "https://github.com/o/r",
                ".github/workflows/release.yml",
                "refs/heads/main",
                "9",
            ),
        ];
        for (i, p) in cases.iter().enumerate() {
            assert!(
                matches!(evaluate(SLSA_V1, p, &cert()), Evaluation::Inconsistent { ref problems } if problems.len() == 1),
                "case {i}"
            );
        }
        let no_repo = json!({"buildDefinition": {"buildType": BUILD_TYPE_GHA_V1}});
        assert!(matches!(
            evaluate(SLSA_V1, &no_repo, &cert()),
            Evaluation::Inconsistent { .. }
        ));
        assert!(matches!(
            evaluate(SLSA_V1, &json!({}), &cert()),
            Evaluation::Inconsistent { .. }
        ));
    }

    #[test]
    fn v02_entry_point_forms_and_unknown_build_types() {
        let p = json!({"buildType": "https://github.com/npm/cli/gha@v0",
            "builder": {"id": "https://github.com/npm/cli@9.2.0"},
            "invocation": {"configSource": {"uri": "git+https://github.com/o/r@refs/heads/main",
                "digest": {"sha1": "abc"},
                "entryPoint": "o/r/.github/workflows/release.yml@refs/heads/main"},
              "environment": {"GITHUB_REPOSITORY": "o/r", "GITHUB_REPOSITORY_ID": "1"}}});
        assert!(matches!(
            evaluate(SLSA_V02, &p, &cert()),
            Evaluation::Consistent {
                dialect: Dialect::SlsaV02,
                ..
            }
        ));
        let mut bad = p.clone();
        bad["invocation"]["environment"]["GITHUB_REPOSITORY_ID"] = json!("7");
        assert!(matches!(
            evaluate(SLSA_V02, &bad, &cert()),
            Evaluation::Inconsistent { .. }
        ));
        let mut unknown = p.clone();
        unknown["buildType"] = json!("https://example.com/other@v1");
        assert!(matches!(
            evaluate(SLSA_V02, &unknown, &cert()),
            Evaluation::NotEvaluated { .. }
        ));
        assert!(matches!(
            evaluate("https://slsa.dev/provenance/v9", &p, &cert()),
            Evaluation::NotEvaluated { .. }
        ));
    }

    #[test]
    fn workflow_path_extraction() {
        let u = "https://github.com/o/r/.github/workflows/w.yml@refs/tags/v1";
        assert_eq!(
            workflow_path_of(u, Some("https://github.com/o/r")).as_deref(),
            Some(".github/workflows/w.yml")
        );
        assert_eq!(workflow_path_of(u, Some("https://github.com/o/r2")), None);
        assert_eq!(
            workflow_path_of(u, None).as_deref(),
            Some(".github/workflows/w.yml")
        );
    }
}
