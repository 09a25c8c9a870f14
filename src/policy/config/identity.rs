//! A release against its rule's pinned identity: `pin-mismatch` findings naming the pinned and
//! the seen value. Repositories compare exactly, on the normalised URL or the numeric id; never
//! by prefix (`org/repo` must not accept `org/repo-evil`).

use super::PackageRule;
use crate::findings::Finding;
use crate::policy::facts::{Provenance, Publisher, ReleaseFacts};
use crate::util::escape_text;

/// What is known about who published one release. Only verified provenance counts: an
/// announced or invalid one is "no verified provenance".
#[derive(Debug, Clone, Copy)]
pub struct Identity<'a> {
    pub provenance: &'a Provenance,
    /// `_npmUser` as `(name, email)`, when the registry states one.
    pub publisher: Option<&'a Publisher>,
}

impl<'a> Identity<'a> {
    /// The identity of one release as the history engine's facts state it (after
    /// [`crate::policy::overlay_verified`]).
    pub fn of(release: &'a ReleaseFacts) -> Self {
        Identity {
            provenance: &release.provenance,
            publisher: release.publisher.as_ref(),
        }
    }
}

/// Checks `identity` against what `rule` pins; one `pin-mismatch` (deny) per differing part,
/// each naming the pinned and the seen value. Empty when everything pinned matches.
///
/// - `require-provenance` (default: true when the rule pins any build identity): verified
///   provenance is required; announced-but-unverified or invalid provenance does not count.
/// - With verified provenance, every pinned part must equal the certificate's: `repository`
///   (normalised URL), `repository-id` (a certificate without one does not match), `workflow`
///   (the file in the source repository, or the full URL when written as one), `ref` (glob on
///   the source ref), `issuer` (exact).
/// - `publishers`: the release's `_npmUser` must be one of them; a release without one does not
///   match.
///
/// Seen values come from the registry or the certificate: they are escaped
/// ([`escape_text`]) in the message.
pub fn identity_check(rule: &PackageRule, identity: &Identity<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    // `pinned` reads "X pinned to Y" or "verified provenance required".
    let finding = |pinned: String, seen: &str| {
        Finding::new(
            "pin-mismatch",
            format!(
                "{pinned} by the rule for `{}` (line {}), seen {}",
                rule.name,
                rule.at.line,
                escape_text(seen)
            ),
        )
    };
    let mut mismatch = |what: &str, pinned: &str, seen: &str| {
        let pinned = if pinned.is_empty() {
            format!("{what} required")
        } else {
            format!("{what} pinned to {pinned}")
        };
        out.push(finding(pinned, seen));
    };
    match identity.provenance {
        Provenance::Verified(id) => {
            if let Some(pinned) = &rule.repository {
                let seen = normalize_repository(&id.repository);
                if seen.as_deref() != Ok(pinned.as_str()) {
                    mismatch("repository", pinned, &id.repository);
                }
            }
            if let Some(pinned) = &rule.repository_id {
                match &id.repository_id {
                    Some(seen) if seen.trim_start_matches('0') == pinned => {}
                    Some(seen) => mismatch("repository id", pinned, seen),
                    None => mismatch(
                        "repository id",
                        pinned,
                        "a certificate without a repository id",
                    ),
                }
            }
            if let Some(pinned) = &rule.workflow {
                let seen = if pinned.contains("://") {
                    id.workflow_path()
                } else {
                    id.workflow_file()
                };
                if seen != pinned {
                    mismatch("workflow", pinned, id.workflow_path());
                }
            }
            if let Some(pinned) = &rule.git_ref {
                match &id.source_ref {
                    Some(seen) if pinned.matches(seen) => {}
                    Some(seen) => mismatch("ref", pinned.as_str(), seen),
                    None => mismatch("ref", pinned.as_str(), "a certificate without a source ref"),
                }
            }
            if let Some(pinned) = &rule.issuer {
                if &id.issuer != pinned {
                    mismatch("issuer", pinned, &id.issuer);
                }
            }
        }
        other => {
            if rule.requires_provenance() {
                let seen = match other {
                    Provenance::Announced => "provenance announced but not verified",
                    Provenance::Invalid => "provenance that does not verify",
                    _ => "no provenance",
                };
                mismatch("verified provenance", "", seen);
            }
        }
    }
    if !rule.publishers.is_empty() {
        let pinned = rule
            .publishers
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        match identity.publisher {
            Some(p) if rule.publishers.iter().any(|a| a.matches(&p.name, &p.email)) => {}
            Some(p) => mismatch(
                "publisher",
                &format!("one of [{pinned}]"),
                &format!("{} <{}>", p.name, p.email),
            ),
            None => mismatch(
                "publisher",
                &format!("one of [{pinned}]"),
                "no publisher in the registry metadata",
            ),
        }
    }
    out
}

/// Normalises a source repository URL for exact comparison: `https` only (a `git+` prefix and a
/// `.git` suffix are dropped), lower-case (GitHub and GitLab owner and repository names are
/// case-insensitive), no trailing `/`, no credentials, query or fragment, and at least
/// `owner/repo` in the path.
pub fn normalize_repository(s: &str) -> Result<String, String> {
    let s = s.trim();
    let s = s.strip_prefix("git+").unwrap_or(s);
    let url = url::Url::parse(s).map_err(|e| format!("not a URL ({e})"))?;
    if url.scheme() != "https" {
        return Err(format!("scheme `{}` is not https", url.scheme()));
    }
    let host = url.host_str().filter(|h| !h.is_empty()).ok_or("no host")?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("credentials in a repository URL".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("a repository URL has no query or fragment".into());
    }
    let path = url.path().trim_end_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let segments: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    if segments.len() < 2 || path.split('/').skip(1).any(str::is_empty) {
        return Err("expected https://HOST/OWNER/REPO".into());
    }
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    Ok(format!("https://{host}{port}/{}", segments.join("/")).to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_normalisation() {
        let n = |s| normalize_repository(s).unwrap();
        assert_eq!(
            n("https://github.com/Org/Repo"),
            "https://github.com/org/repo"
        );
        assert_eq!(
            n("git+https://github.com/org/repo.git"),
            "https://github.com/org/repo"
        );
        assert_eq!(
            n("https://github.com/org/repo/"),
            "https://github.com/org/repo"
        );
        assert_ne!(
            n("https://github.com/org/repo"),
            n("https://github.com/org/repo-evil")
        );
        assert!(normalize_repository("http://github.com/org/repo").is_err());
        assert!(normalize_repository("https://github.com/org").is_err());
        assert!(normalize_repository("github.com/org/repo").is_err());
        assert!(normalize_repository("https://github.com/org//repo").is_err());
        assert!(normalize_repository("https://u:p@github.com/org/repo").is_err());
    }
}
