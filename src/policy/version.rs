//! Just enough of semver for the history engine: the release line and whether a version is a
//! prerelease. Ordering is never by semver (releases are ordered by time).

/// The release line of `version`: the major (`4`), for `0.x` the minor (`0.30`), `0.0` for
/// `0.0.x`. A version that does not parse as `N.N.N[-pre][+build]` is its own line
/// (`?<version>`), so it never joins another line's baseline.
pub fn line(version: &str) -> String {
    match parse(version) {
        Some((0, 0, _, _)) => "0.0".to_string(),
        Some((0, minor, _, _)) => format!("0.{minor}"),
        Some((major, _, _, _)) => major.to_string(),
        None => format!("?{version}"),
    }
}

/// Whether `version` has a prerelease part (`4.0.0-alpha.1`). Unparseable versions count as
/// prereleases: they never set the baseline of a stable release.
pub fn is_prerelease(version: &str) -> bool {
    match parse(version) {
        Some((_, _, _, pre)) => pre,
        None => true,
    }
}

/// `(major, minor, patch, has_prerelease)`.
fn parse(version: &str) -> Option<(u64, u64, u64, bool)> {
    let core_and_pre = version.split('+').next().unwrap_or(version);
    let (core, pre) = match core_and_pre.split_once('-') {
        Some((core, pre)) => (core, !pre.is_empty()),
        None => (core_and_pre, false),
    };
    let mut parts = core.split('.');
    let mut num = || -> Option<u64> {
        let p = parts.next()?;
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        p.parse().ok()
    };
    let (major, minor, patch) = (num()?, num()?, num()?);
    if parts.next().is_some() {
        return None;
    }
    Some((major, minor, patch, pre))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        assert_eq!(line("4.1.2"), "4");
        assert_eq!(line("4.0.0-alpha.1"), "4");
        assert_eq!(line("0.30.4"), "0.30");
        assert_eq!(line("0.0.7"), "0.0");
        assert_eq!(line("1.0.0+build.5"), "1");
        assert_eq!(line("1.0"), "?1.0");
        assert_eq!(line("x.y.z"), "?x.y.z");
    }

    #[test]
    fn prereleases() {
        assert!(!is_prerelease("2.18.1"));
        assert!(is_prerelease("4.0.0-rc.0"));
        assert!(is_prerelease("1.0.0-gh-a29eb99"));
        assert!(!is_prerelease("1.0.0+build"));
        assert!(is_prerelease("not-a-version"));
    }
}
