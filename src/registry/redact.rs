//! Redaction of URLs before they reach logs, errors, findings or the cache index: userinfo
//! (`user:token@`) and query strings (which may carry tokens) never leave the client.

use url::Url;

/// The URL without userinfo, query or fragment (a query becomes `?<redacted>`).
pub fn redact_url(url: &Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_fragment(None);
    let had_query = u.query().is_some_and(|q| !q.is_empty());
    u.set_query(None);
    let mut s = u.to_string();
    if had_query {
        s.push_str("?<redacted>");
    }
    s
}

/// [`redact_url`] for a string that may not parse; an unparsable one is reduced to what
/// precedes any `@`, `?` or `#` it contains.
pub fn redact_str(s: &str) -> String {
    match Url::parse(s) {
        Ok(u) => redact_url(&u),
        Err(_) => {
            let cut = s.find(['@', '?', '#']).map(|i| &s[..i]).unwrap_or(s);
            if cut.len() < s.len() {
                format!("{cut}<redacted>")
            } else {
                s.to_string()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_and_query_are_removed() {
        let u = Url::parse("https://alice:s3cret@reg.example/a/b?token=xyz#f").unwrap();
        let r = redact_url(&u);
        assert_eq!(r, "https://reg.example/a/b?<redacted>");
        assert!(!r.contains("s3cret") && !r.contains("xyz") && !r.contains("alice"));
    }

    #[test]
    fn unparsable_strings_lose_their_tail() {
        assert_eq!(redact_str("not a url@secret"), "not a url<redacted>");
        assert_eq!(redact_str("plain"), "plain");
    }
}
