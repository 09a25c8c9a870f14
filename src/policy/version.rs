//! Just enough of semver for the history engine: the release line and whether a version is a
//! prerelease. Ordering is never by semver (releases are ordered by time).

/// The release line of `version`: the major (`4`), for `0.x` the minor (`0.30`), `0.0` for
/// `0.0.x`. A version that does not parse as `N.N.N[-pre][+build]` is its own line
/// (`?<version>`), so it never joins another line's baseline. Compared without allocating (the
/// engine compares the lines of every earlier release); shown through `Display`.
pub fn line(version: &str) -> Line<'_> {
    match parse(version) {
        Some((0, 0, _, _)) => Line::ZeroZero,
        Some((0, minor, _, _)) => Line::Zero(minor),
        Some((major, _, _, _)) => Line::Major(major),
        None => Line::Own(version),
    }
}

/// A release line ([`line`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line<'a> {
    /// `N` for `N.x.y`, N ≥ 1.
    Major(u64),
    /// `0.N` for `0.N.y`, N ≥ 1.
    Zero(u64),
    /// `0.0` for `0.0.y`.
    ZeroZero,
    /// `?V`: a version that does not parse is its own line.
    Own(&'a str),
}

impl std::fmt::Display for Line<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Line::Major(m) => write!(f, "{m}"),
            Line::Zero(m) => write!(f, "0.{m}"),
            Line::ZeroZero => f.write_str("0.0"),
            Line::Own(v) => write!(f, "?{v}"),
        }
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

/// `(major, minor, patch, has_prerelease)`. One pass over the bytes (the engine parses the
/// versions of every earlier release, tens of thousands in a large packument).
fn parse(version: &str) -> Option<(u64, u64, u64, bool)> {
    let b = version.as_bytes();
    // Build metadata (after the first `+`) is ignored; the prerelease is after the first `-`.
    let core_and_pre = match b.iter().position(|&c| c == b'+') {
        Some(i) => &b[..i],
        None => b,
    };
    let (core, pre) = match core_and_pre.iter().position(|&c| c == b'-') {
        Some(i) => (&core_and_pre[..i], i + 1 < core_and_pre.len()),
        None => (core_and_pre, false),
    };
    let mut nums = [0u64; 3];
    let mut part = 0;
    let mut digits = 0;
    for &c in core {
        match c {
            b'.' if digits > 0 && part < 2 => {
                part += 1;
                digits = 0;
            }
            b'0'..=b'9' => {
                nums[part] = nums[part]
                    .checked_mul(10)?
                    .checked_add(u64::from(c - b'0'))?;
                digits += 1;
            }
            _ => return None,
        }
    }
    (part == 2 && digits > 0).then_some((nums[0], nums[1], nums[2], pre))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        let shown = |v: &str| line(v).to_string();
        assert_eq!(shown("4.1.2"), "4");
        assert_eq!(shown("4.0.0-alpha.1"), "4");
        assert_eq!(shown("0.30.4"), "0.30");
        assert_eq!(shown("0.0.7"), "0.0");
        assert_eq!(shown("1.0.0+build.5"), "1");
        assert_eq!(shown("1.0"), "?1.0");
        assert_eq!(shown("x.y.z"), "?x.y.z");
        // Same line, same value; a line never equals another kind's with the same digits.
        assert_eq!(line("4.1.2"), line("4.0.0-rc.1"));
        assert_ne!(line("0.4.0"), line("4.0.0"));
        assert_ne!(line("0.0.4"), line("0.4.0"));
        assert_ne!(line("1.0"), line("1.0.0"));
    }

    /// The string-splitting parse this one replaced.
    fn parse_by_splitting(version: &str) -> Option<(u64, u64, u64, bool)> {
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

    #[test]
    fn parses_as_the_splitting_parse_did() {
        let fixed = [
            "",
            ".",
            "..",
            "1..2",
            "1.2.",
            ".1.2",
            "1.2.3",
            "1.2.3.4",
            "01.2.3",
            "1.2.3-",
            "1.2.3-+",
            "1.2.3+-x",
            "1.2.3-a+b",
            "1.2.3+b-a",
            "-1.2.3",
            "+1.2.3",
            "1.2.3 ",
            "18446744073709551615.0.0",
            "18446744073709551616.0.0",
            "1.2.x",
            "١.2.3",
            "0.0.0-pad",
            "4.0.0-rc.0",
        ];
        for v in fixed {
            assert_eq!(parse(v), parse_by_splitting(v), "{v:?}");
        }
        // Every string of up to five characters over the bytes that matter.
        let alphabet = ['0', '1', '9', '.', '-', '+', 'a'];
        let mut stack = vec![String::new()];
        while let Some(v) = stack.pop() {
            assert_eq!(parse(&v), parse_by_splitting(&v), "{v:?}");
            if v.len() < 5 {
                stack.extend(alphabet.iter().map(|c| format!("{v}{c}")));
            }
        }
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
