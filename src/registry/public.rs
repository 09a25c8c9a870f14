//! Which URLs are the public npm registry, and one canonical spelling for every registry URL.
//!
//! The public registry answers under several host names (its own, a `.com` alias and yarn's
//! alias), and lockfiles record them over `http` as well as `https`. They are one registry: one
//! set of pinned keys, always reached over https (DESIGN §3).

/// The canonical URL of the public npm registry.
pub const PUBLIC_REGISTRY: &str = "https://registry.npmjs.org/";

/// Host names under which the public npm registry serves the same data.
const PUBLIC_HOSTS: &[&str] = &[
    "registry.npmjs.org",
    "registry.npmjs.com",
    "registry.yarnpkg.com",
];

/// True when `url` (a registry URL or a tarball URL) is served by the public npm registry:
/// one of its host names, over http or https, on the default port, without credentials.
pub fn is_public_npm(url: &str) -> bool {
    match split_url(url) {
        Some(parts) => is_public_host(&parts),
        None => false,
    }
}

/// The canonical form of a registry URL: any public alias becomes [`PUBLIC_REGISTRY`] (its
/// path kept, so a tarball URL stays a tarball URL); other URLs get a lower-case scheme and
/// host and a trailing slash. A string that is not an http(s) URL is returned trimmed, with a
/// trailing slash, so that it never compares equal to a real registry.
pub fn canonical_registry(url: &str) -> String {
    let Some(parts) = split_url(url) else {
        return with_slash(url.trim());
    };
    let rest = parts.rest;
    if is_public_host(&parts) {
        return with_slash(&format!(
            "{}{}",
            PUBLIC_REGISTRY,
            rest.trim_start_matches('/')
        ));
    }
    with_slash(&format!("{}://{}{}", parts.scheme, parts.authority, rest))
}

/// True when `resolved` (a tarball URL from a lockfile) lies under the configured `registry`,
/// both compared in canonical form (so a public alias matches the public registry).
pub fn is_under_registry(resolved: &str, registry: &str) -> bool {
    let registry = canonical_registry(registry);
    let resolved = canonical_registry(resolved);
    resolved.starts_with(&registry)
}

struct UrlParts<'a> {
    scheme: String,
    authority: String,
    rest: &'a str,
}

fn split_url(url: &str) -> Option<UrlParts<'_>> {
    let url = url.trim();
    let (scheme, after) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let authority = after[..end].to_ascii_lowercase();
    if authority.is_empty() {
        return None;
    }
    Some(UrlParts {
        scheme,
        authority,
        rest: &after[end..],
    })
}

fn is_public_host(parts: &UrlParts<'_>) -> bool {
    // Credentials in the URL or a non-default port are not the public registry.
    if parts.authority.contains('@') {
        return false;
    }
    let host = match parts.authority.rsplit_once(':') {
        Some((host, port)) => {
            let default = if parts.scheme == "https" { "443" } else { "80" };
            if port != default {
                return false;
            }
            host
        }
        None => parts.authority.as_str(),
    };
    let host = host.trim_end_matches('.');
    PUBLIC_HOSTS.contains(&host)
}

fn with_slash(s: &str) -> String {
    if s.ends_with('/') {
        s.to_string()
    } else {
        format!("{s}/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_aliases_over_http_and_https() {
        for url in [
            "https://registry.npmjs.org",
            "https://registry.npmjs.org/",
            "http://registry.npmjs.org/",
            "https://registry.npmjs.com/",
            "http://registry.yarnpkg.com",
            "HTTPS://Registry.Yarnpkg.COM/",
            "https://registry.npmjs.org:443/",
            "https://registry.npmjs.org./",
        ] {
            assert!(is_public_npm(url), "{url}");
            assert_eq!(canonical_registry(url), PUBLIC_REGISTRY, "{url}");
        }
    }

    #[test]
    fn other_hosts_are_not_public() {
        for url in [
            "https://registry.npmjs.org.evil.example/",
            "https://evil.example/registry.npmjs.org/",
            "https://user:pw@registry.npmjs.org/",
            "https://registry.npmjs.org:8443/",
            "ftp://registry.npmjs.org/",
            "registry.npmjs.org",
            "https://npm.pkg.github.com/",
            "",
        ] {
            assert!(!is_public_npm(url), "{url}");
        }
    }

    #[test]
    fn canonical_keeps_paths_and_adds_slash() {
        assert_eq!(
            canonical_registry("HTTPS://Npm.Example.com/api/npm/npm-remote"),
            "https://npm.example.com/api/npm/npm-remote/"
        );
        assert_eq!(
            canonical_registry("http://registry.yarnpkg.com/a/-/a-1.0.0.tgz"),
            "https://registry.npmjs.org/a/-/a-1.0.0.tgz/"
        );
    }

    #[test]
    fn tarball_under_registry() {
        assert!(is_under_registry(
            "http://registry.npmjs.org/a/-/a-1.0.0.tgz",
            "https://registry.npmjs.org/"
        ));
        assert!(is_under_registry(
            "https://registry.yarnpkg.com/@s/a/-/a-1.0.0.tgz",
            "https://registry.npmjs.org"
        ));
        assert!(is_under_registry(
            "https://npm.example.com/api/npm/a/-/a-1.0.0.tgz",
            "https://npm.example.com/api/npm/"
        ));
        assert!(!is_under_registry(
            "https://npm.example.com/api/npm/a/-/a-1.0.0.tgz",
            "https://registry.npmjs.org/"
        ));
        assert!(!is_under_registry(
            "https://npm.example.com.evil/a/-/a-1.0.0.tgz",
            "https://npm.example.com/"
        ));
    }
}
