//! The tamper matrix run against the reference verifier (sigstore-verify 0.15.1): every control
//! verifies, every case it is expected to catch is rejected, and the cases only our verifier
//! catches (bundle-supplied intermediates, checkpoint size and origin, duplicate entries,
//! strict identity decoding) are shown to
//! pass the reference, which is why our verifier adds those checks.

use npm_provenance_testkit::tamper::{cases, Case, MatchSpec, PolicySpec};
use sigstore_verify::trust_root::TrustedRoot;
use sigstore_verify::types::{Bundle, DerPublicKey};
use sigstore_verify::{IdentityMatcher, PublicKeyVerificationPolicy, VerificationPolicy, Verifier};

fn run(case: &Case) -> Result<(), String> {
    let root = TrustedRoot::from_json(&case.trusted_root).map_err(|e| e.to_string())?;
    let verifier = Verifier::new(&root).map_err(|e| e.to_string())?;
    let text = String::from_utf8(case.bundle.clone()).map_err(|e| e.to_string())?;
    let bundle = Bundle::from_json(&text).map_err(|e| e.to_string())?;
    match &case.policy {
        PolicySpec::PublicKey(spki) => {
            let p = PublicKeyVerificationPolicy::new(DerPublicKey::new(spki.clone()));
            verifier
                .verify(case.artifact.as_slice(), &bundle, &p)
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
        PolicySpec::Certificate { san, issuer } => {
            let r = verifier
                .verify(
                    case.artifact.as_slice(),
                    &bundle,
                    &VerificationPolicy::any_identity(),
                )
                .map_err(|e| e.to_string())?;
            if !(r.certificate_verified() && r.sct_verified() && r.tlog_verified()) {
                return Err("a check did not run".into());
            }
            // The reference only matches exactly; apply regexes ourselves (anchored).
            let ok = |m: &Option<MatchSpec>, v: Option<&str>| match (m, v) {
                (None, _) => true,
                (Some(MatchSpec::Exact(e)), Some(v)) => e == v,
                (Some(MatchSpec::Regex(p)), Some(v)) => regex_full_match(p, v),
                (Some(_), None) => false,
            };
            let san_value = r.identity().map(|s| s.as_str().to_string());
            if !ok(san, san_value.as_deref()) {
                return Err(format!("identity mismatch: {san_value:?}"));
            }
            if !ok(issuer, r.issuer()) {
                return Err(format!("issuer mismatch: {:?}", r.issuer()));
            }
            // Exact matchers also go through the library's own policy.
            if let (Some(MatchSpec::Exact(s)), Some(MatchSpec::Exact(i))) = (san, issuer) {
                let p = VerificationPolicy::new(IdentityMatcher::Exact(s.clone()), i.clone());
                verifier
                    .verify(case.artifact.as_slice(), &bundle, &p)
                    .map_err(|e| e.to_string())?;
            }
            Ok(())
        }
    }
}

/// Minimal anchored matcher for the matrix's patterns: `.` `*` `\.` `(a|b)` only.
fn regex_full_match(pattern: &str, value: &str) -> bool {
    // Expand `(a|b)` alternations, then match with a tiny backtracking matcher.
    if let (Some(open), Some(close)) = (pattern.find('('), pattern.find(')')) {
        let (head, rest) = pattern.split_at(open);
        let alts = &rest[1..close - open];
        let tail = &rest[close - open + 1..];
        return alts
            .split('|')
            .any(|a| regex_full_match(&format!("{head}{a}{tail}"), value));
    }
    fn tokens(p: &str) -> Vec<(Option<char>, bool)> {
        let mut out = Vec::new();
        let mut chars = p.chars().peekable();
        while let Some(c) = chars.next() {
            let tok = match c {
                '\\' => chars.next(),
                '.' => None,
                c => Some(c),
            };
            let star = chars.peek() == Some(&'*');
            if star {
                chars.next();
            }
            out.push((tok, star));
        }
        out
    }
    fn m(t: &[(Option<char>, bool)], v: &[char]) -> bool {
        match t.first() {
            None => v.is_empty(),
            Some(&(c, true)) => {
                m(&t[1..], v) || (!v.is_empty() && c.is_none_or(|c| c == v[0]) && m(t, &v[1..]))
            }
            Some(&(c, false)) => {
                !v.is_empty() && c.is_none_or(|c| c == v[0]) && m(&t[1..], &v[1..])
            }
        }
    }
    let v: Vec<char> = value.chars().collect();
    m(&tokens(pattern), &v)
}

#[test]
fn controls_verify_with_the_reference() {
    let all = cases();
    let controls: Vec<_> = all.iter().filter(|c| c.step.is_none()).collect();
    assert!(controls.len() >= 5);
    for c in controls {
        run(c).unwrap_or_else(|e| panic!("{}: reference rejected a control: {e}", c.name));
    }
}

#[test]
fn reference_rejects_every_case_it_checks() {
    let mut checked = 0;
    for c in cases()
        .iter()
        .filter(|c| c.step.is_some() && c.reference_rejects)
    {
        let err = run(c)
            .err()
            .unwrap_or_else(|| panic!("{}: reference accepted a tampered bundle", c.name));
        // The reference must reject it for the reason the case is about.
        let reasons: &[&str] = match c.step.unwrap_or_default() {
            "certificate-chain" => &["certificate chain", "no signing certificate"],
            "sct" => &["signed certificate timestamp"],
            "signed-entry-timestamp" => &["inclusion promise"],
            "inclusion-proof" => &["inclusion proof"],
            // sigstore-verify finds a changed tree size through the proof instead.
            "checkpoint" => &["checkpoint", "proof hashes"],
            "tlog-body" => &["log entry does not match"],
            "signature" => &[
                "signature",
                "payload type",
                "certificate but public-key",
                "Invalid key",
            ],
            "artifact" => &["artifact mismatch", "cannot bind artifact"],
            "identity" => &["identity mismatch"],
            "issuer" => &["issuer mismatch"],
            "tlog" => &["log ID", "unknown log"],
            "time" => &["timestamp", "RFC 3161", "TSA", "integrated time"],
            "media-type" => &[
                "media type",
                "bundle+json",
                "bundle.v0.3+json",
                "has no checkpoint",
            ],
            other => panic!("{}: no reference reason for step {other}", c.name),
        };
        assert!(
            reasons.iter().any(|r| err.contains(r)),
            "{}: rejected for another reason: {err}",
            c.name
        );
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} cases");
}

#[test]
fn cases_only_our_verifier_catches_pass_the_reference() {
    let names: Vec<_> = cases()
        .into_iter()
        .filter(|c| c.step.is_some() && !c.reference_rejects)
        .map(|c| {
            let r = run(&c);
            assert!(
                r.is_ok(),
                "{}: reference now rejects it ({r:?}): mark reference_rejects",
                c.name
            );
            c.name
        })
        .collect();
    assert_eq!(
        names,
        [
            "intermediate-supplied-in-bundle",
            "tree-size-differs-from-checkpoint",
            "checkpoint-for-another-origin",
            "duplicate-tlog-entries",
            "san-othername-of-another-type",
            "issuer-legacy-and-v2-disagree",
            "fulcio-extension-duplicated",
            "legacy-extension-not-utf8",
            "fulcio-extension-not-der",
        ]
    );
}

#[test]
fn regex_helper_is_anchored() {
    assert!(regex_full_match(r"a\.b(c|d).*", "a.bdxyz"));
    assert!(!regex_full_match(r"a\.b", "a.bc"));
    assert!(!regex_full_match(r"a\.b", "axb"));
}
