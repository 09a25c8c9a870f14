//! Shape checks on names, versions and locations read from a lockfile, before they reach URLs
//! (`REGISTRY/NAME`, `…/attestations/NAME@VERSION`) or file paths (the drift check).

/// npm's length limit for package names.
pub const MAX_NAME_LEN: usize = 214;
/// Longest version string accepted for a registry package.
pub const MAX_VERSION_LEN: usize = 256;

/// A registry package name: `name` or `@scope/name`, URL-safe characters only (upper case is
/// allowed: old packages have it), no leading `.` or `_`.
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(format!(
            "package name {name:?} is empty or longer than {MAX_NAME_LEN} characters"
        ));
    }
    let parts: Vec<&str> = match name.strip_prefix('@') {
        Some(scoped) => match scoped.split_once('/') {
            Some((scope, rest)) => vec![scope, rest],
            None => return Err(format!("scoped package name {name:?} has no `/`")),
        },
        None => vec![name],
    };
    for part in parts {
        let ok = !part.is_empty()
            && !part.starts_with(['.', '_'])
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
        if !ok {
            return Err(format!("{name:?} is not a valid npm package name"));
        }
    }
    Ok(())
}

/// A registry version: semver characters only.
pub(crate) fn check_version(version: &str) -> Result<(), String> {
    let ok = !version.is_empty()
        && version.len() <= MAX_VERSION_LEN
        && version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(format!("{version:?} is not a valid registry version"))
    }
}

/// An installed location: relative, `/`-separated, without `.`, `..` or empty segments.
pub(crate) fn check_location(location: &str) -> Result<(), String> {
    let bad = location.starts_with('/')
        || location.contains('\\')
        || location.contains(':')
        || location
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..");
    if bad {
        Err(format!(
            "location {location:?} is not a path inside node_modules"
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["a", "left-pad", "@s/a.b", "JSONStream", "a_b", "~x"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", ".a", "_a", "@s", "@/a", "@s/", "a/b", "a b", "a?x", "../a", "@s/../a", "a%2f",
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        assert!(check_name(&"a".repeat(MAX_NAME_LEN)).is_ok());
        assert!(check_name(&"a".repeat(MAX_NAME_LEN + 1)).is_err());
    }

    #[test]
    fn versions() {
        assert!(check_version("1.2.3-rc.1+build.5").is_ok());
        for bad in ["", "1.0.0/../x", "1 2", "1.0.0?x"] {
            assert!(check_version(bad).is_err(), "{bad}");
        }
        assert!(check_version(&"1".repeat(MAX_VERSION_LEN)).is_ok());
        assert!(check_version(&"1".repeat(MAX_VERSION_LEN + 1)).is_err());
    }

    #[test]
    fn locations() {
        assert!(check_location("node_modules/@s/a/node_modules/b").is_ok());
        assert!(check_location("packages/x/node_modules/b").is_ok());
        for bad in [
            "node_modules/../../etc",
            "/node_modules/a",
            "node_modules//a",
            "node_modules/./a",
            "C:/node_modules/a",
        ] {
            assert!(check_location(bad).is_err(), "{bad}");
        }
    }
}
