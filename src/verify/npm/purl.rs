//! The subject name of an npm attestation: `pkg:npm/NAME@VERSION` (a purl; the scope's `@` is
//! `%40`; no qualifiers or subpath for the public registry).

/// `pkg:npm/NAME@VERSION`, with the scope's `@` as `%40`.
pub fn purl_of(name: &str, version: &str) -> String {
    let name = match name.strip_prefix('@') {
        Some(rest) => format!("%40{rest}"),
        None => name.to_owned(),
    };
    format!("pkg:npm/{name}@{version}")
}

/// Whether a subject name is the purl of `name@version` (percent-decoded; no qualifiers,
/// subpath or other namespace allowed).
pub fn subject_names(subject: &str, name: &str, version: &str) -> bool {
    let Some(rest) = subject.strip_prefix("pkg:npm/") else {
        return false;
    };
    if rest.contains(['?', '#']) {
        return false;
    }
    let Some((n, v)) = rest.rsplit_once('@') else {
        return false;
    };
    percent_decode(n).as_deref() == Some(name) && percent_decode(v).as_deref() == Some(version)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hexpair = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hexpair, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls() {
        assert_eq!(
            purl_of("@actions/core", "1.11.1"),
            "pkg:npm/%40actions/core@1.11.1"
        );
        assert!(subject_names(
            "pkg:npm/%40actions/core@1.11.1",
            "@actions/core",
            "1.11.1"
        ));
        assert!(subject_names("pkg:npm/sigstore@1.0.0", "sigstore", "1.0.0"));
        assert!(!subject_names(
            "pkg:npm/sigstore@1.4.0",
            "sigstore",
            "1.0.0"
        ));
        assert!(!subject_names(
            "pkg:npm/sigstore@1.0.0?x=1",
            "sigstore",
            "1.0.0"
        ));
        assert!(!subject_names(
            "pkg:pypi/sigstore@1.0.0",
            "sigstore",
            "1.0.0"
        ));
        assert!(!subject_names("pkg:npm/%4", "x", "1"));
        assert!(!subject_names(
            "pkg:npm/other/sigstore@1.0.0",
            "sigstore",
            "1.0.0"
        ));
    }
}
