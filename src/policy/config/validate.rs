//! Checks of single values of the policy file: dates, exclusion targets, workflows, registry
//! URLs. Each returns the problem as a message; the caller adds the position.

use super::glob::{Glob, GlobKind};
use jiff::civil::Date;

/// Normalises a registry URL: http(s) only, lower-case scheme and host (the `url` crate does
/// both), path ending in `/`, no credentials, query or fragment.
pub(super) fn normalize_registry_url(s: &str) -> Result<String, String> {
    let mut url = url::Url::parse(s.trim()).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("scheme `{}` is not http or https", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("no host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("credentials do not belong in the policy file".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("a registry URL has no query or fragment".into());
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url.to_string())
}

pub(super) fn parse_date(s: &str) -> Result<Date, String> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return Err(format!("{s:?} is not YYYY-MM-DD"));
    }
    s.parse::<Date>().map_err(|e| format!("{s:?}: {e}"))
}

/// `name@version` or `name` (a scoped name starts with `@`). The name is exact; the version is
/// an exact version, not a range.
pub(super) fn split_package(s: &str) -> Result<(String, Option<String>), String> {
    let s = s.trim();
    let (name, version) = match s.rfind('@') {
        Some(i) if i > 0 => (&s[..i], Some(&s[i + 1..])),
        _ => (s, None),
    };
    let g = Glob::parse(name, GlobKind::PackageName)?;
    if !g.is_exact() {
        return Err(format!(
            "`{name}`: an exclusion names one package exactly (no wildcards)"
        ));
    }
    if name.starts_with('@') && name.matches('/').count() != 1 {
        return Err(format!("`{name}` is not `@scope/name`"));
    }
    if !name.starts_with('@') && name.contains('/') {
        return Err(format!("`{name}` is not a package name"));
    }
    if let Some(v) = version {
        let valid = !v.is_empty()
            && v.chars().next().is_some_and(|c| c.is_ascii_digit())
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'));
        if !valid {
            return Err(format!(
                "`{v}` is not an exact version (ranges are not supported)"
            ));
        }
    }
    Ok((name.to_string(), version.map(str::to_string)))
}

/// A workflow: `.github/workflows/x.yml` (a file in the source repository) or a full
/// `https://…/.github/workflows/x.yml` URL; never with an `@ref` (pin refs with `ref`).
pub(super) fn check_workflow(s: &str) -> Result<(), String> {
    if s.contains('@') {
        return Err("no `@ref` in a workflow: pin the ref with `ref`".into());
    }
    if s.contains('*') || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("a workflow is an exact path, without wildcards or spaces".into());
    }
    let path = if s.contains("://") {
        let u = url::Url::parse(s).map_err(|e| format!("not a URL ({e})"))?;
        if u.scheme() != "https" {
            return Err("a workflow URL is https".into());
        }
        s.to_string()
    } else {
        s.to_string()
    };
    if !(path.ends_with(".yml") || path.ends_with(".yaml")) {
        return Err("a workflow file ends in .yml or .yaml".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusion_targets() {
        let s = |t| split_package(t).unwrap();
        assert_eq!(s("left-pad"), ("left-pad".into(), None));
        assert_eq!(
            s("left-pad@1.3.0"),
            ("left-pad".into(), Some("1.3.0".into()))
        );
        assert_eq!(s("@s/p"), ("@s/p".into(), None));
        assert_eq!(
            s("@s/p@1.0.0-rc.1+b"),
            ("@s/p".into(), Some("1.0.0-rc.1+b".into()))
        );
        for bad in [
            "left-pad@^1",
            "left-pad@",
            "left-pad@1 || 2",
            "@s",
            "@s/p/q",
            "a/b",
            "l*",
            "x@latest",
        ] {
            assert!(split_package(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("2026-12-31").unwrap().to_string(), "2026-12-31");
        for bad in [
            "2026-02-30",
            "31/12/2026",
            "2026-1-01",
            "2026-12-31T00:00:00Z",
            "",
        ] {
            assert!(parse_date(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn workflows() {
        assert!(check_workflow(".github/workflows/release.yml").is_ok());
        assert!(check_workflow("https://github.com/o/r/.github/workflows/release.yaml").is_ok());
        assert!(check_workflow(".github/workflows/release.yml@refs/heads/main").is_err());
        assert!(check_workflow(".github/workflows/*.yml").is_err());
        assert!(check_workflow("http://github.com/o/r/.github/workflows/r.yml").is_err());
        assert!(check_workflow("release.sh").is_err());
    }

    #[test]
    fn registry_urls() {
        let n = |u| normalize_registry_url(u).unwrap();
        assert_eq!(n("https://NPM.Example.com"), "https://npm.example.com/");
        assert_eq!(
            n("https://npm.example.com/sub"),
            "https://npm.example.com/sub/"
        );
        assert_eq!(n("http://localhost:4873/"), "http://localhost:4873/");
        for bad in [
            "npm.example.com",
            "ftp://x/",
            "https://u:p@x/",
            "https://x/?a=1",
            "https://x/#f",
        ] {
            assert!(normalize_registry_url(bad).is_err(), "accepted {bad:?}");
        }
    }
}
