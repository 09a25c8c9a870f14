//! Name and ref globs: `*` matches any run of characters except `/`, `**` any run including
//! `/`; every other character matches itself. No `?`, classes or braces: a pattern that uses
//! them is rejected, so a glob never means more than it looks like.

use std::cmp::Ordering;

/// What a glob is for; decides which literal characters are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlobKind {
    /// An npm package name (`@scope/name`, `name`, with wildcards).
    PackageName,
    /// A git ref (`refs/tags/v*`).
    GitRef,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Lit(char),
    /// `*`: any run of characters except `/`.
    Star,
    /// `**`: any run of characters.
    DoubleStar,
}

/// A validated glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    pattern: String,
    tokens: Vec<Token>,
}

/// How specific a pattern is; greater is more specific. Compared field by field, in order:
/// exact (no wildcard) first, then fewer wildcards, then a longer literal prefix, then more
/// literal characters overall, then fewer `**`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Specificity {
    exact: bool,
    /// Negated wildcard count, so that fewer wildcards compare greater.
    fewer_wildcards: i64,
    literal_prefix: usize,
    literals: usize,
    /// Negated `**` count.
    fewer_double_stars: i64,
}

impl Glob {
    /// Parses `pattern`; the error says what is wrong with it.
    pub fn parse(pattern: &str, kind: GlobKind) -> Result<Glob, String> {
        if pattern.is_empty() {
            return Err("empty pattern".into());
        }
        let chars: Vec<char> = pattern.chars().collect();
        let mut tokens = Vec::with_capacity(chars.len());
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == '*' {
                let run = chars[i..].iter().take_while(|&&x| x == '*').count();
                if run > 2 {
                    return Err(format!(
                        "`{}` is not a wildcard (use `*` within a path segment or `**` across `/`)",
                        "*".repeat(run)
                    ));
                }
                tokens.push(if run == 2 {
                    Token::DoubleStar
                } else {
                    Token::Star
                });
                i += run;
                continue;
            }
            if let Some(why) = bad_literal(c, i, kind) {
                return Err(why);
            }
            tokens.push(Token::Lit(c));
            i += 1;
        }
        Ok(Glob {
            pattern: pattern.to_string(),
            tokens,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// No wildcard: the pattern matches only itself.
    pub fn is_exact(&self) -> bool {
        self.tokens.iter().all(|t| matches!(t, Token::Lit(_)))
    }

    /// Whether the whole of `s` matches (anchored at both ends).
    pub fn matches(&self, s: &str) -> bool {
        if self.is_exact() {
            return self.pattern == s;
        }
        let text: Vec<char> = s.chars().collect();
        // Classic wildcard matching over (token, char) positions, O(n·m) with memo.
        let (n, m) = (self.tokens.len(), text.len());
        let mut reach = vec![vec![false; m + 1]; n + 1];
        reach[0][0] = true;
        for ti in 0..=n {
            for ci in 0..=m {
                if !reach[ti][ci] {
                    continue;
                }
                let Some(tok) = self.tokens.get(ti) else {
                    continue;
                };
                match tok {
                    Token::Lit(c) => {
                        if text.get(ci) == Some(c) {
                            reach[ti + 1][ci + 1] = true;
                        }
                    }
                    Token::Star | Token::DoubleStar => {
                        reach[ti + 1][ci] = true;
                        if let Some(&c) = text.get(ci) {
                            if *tok == Token::DoubleStar || c != '/' {
                                reach[ti][ci + 1] = true;
                            }
                        }
                    }
                }
            }
        }
        reach[n][m]
    }

    /// See [`Specificity`].
    pub fn specificity(&self) -> Specificity {
        let wildcards = self
            .tokens
            .iter()
            .filter(|t| !matches!(t, Token::Lit(_)))
            .count() as i64;
        let double = self
            .tokens
            .iter()
            .filter(|t| **t == Token::DoubleStar)
            .count() as i64;
        Specificity {
            exact: wildcards == 0,
            fewer_wildcards: -wildcards,
            literal_prefix: self
                .tokens
                .iter()
                .take_while(|t| matches!(t, Token::Lit(_)))
                .count(),
            literals: self
                .tokens
                .iter()
                .filter(|t| matches!(t, Token::Lit(_)))
                .count(),
            fewer_double_stars: -double,
        }
    }

    /// Whether some string matches both globs (decided exactly, on the product of the two
    /// patterns).
    pub fn overlaps(&self, other: &Glob) -> bool {
        if self.is_exact() {
            return other.matches(&self.pattern);
        }
        if other.is_exact() {
            return self.matches(&other.pattern);
        }
        let (a, b) = (&self.tokens, &other.tokens);
        let mut memo = vec![vec![None; b.len() + 1]; a.len() + 1];
        overlap_from(a, b, 0, 0, &mut memo)
    }

    /// Orders by specificity only (for "most specific wins").
    pub fn cmp_specificity(&self, other: &Glob) -> Ordering {
        self.specificity().cmp(&other.specificity())
    }
}

impl std::fmt::Display for Glob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.pattern)
    }
}

fn bad_literal(c: char, at: usize, kind: GlobKind) -> Option<String> {
    if c.is_control() || c.is_whitespace() {
        return Some(format!(
            "whitespace or control character {:?} in pattern",
            c
        ));
    }
    if matches!(c, '?' | '[' | ']' | '{' | '}' | '!' | '\\') {
        return Some(format!(
            "`{c}` is not supported in patterns (only `*` and `**` are wildcards)"
        ));
    }
    match kind {
        GlobKind::PackageName => {
            if c == '@' && at != 0 {
                return Some("`@` may only start a scoped name".into());
            }
            if !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | '@' | '/')) {
                return Some(format!("`{c}` cannot appear in an npm package name"));
            }
            None
        }
        GlobKind::GitRef => {
            if matches!(c, '~' | '^' | ':') {
                return Some(format!("`{c}` cannot appear in a git ref"));
            }
            None
        }
    }
}

/// Can `a[i..]` and `b[j..]` match a common string? Transitions either skip a wildcard (match
/// it empty) or consume one character both sides accept; a wildcard that consumes stays. The
/// step where both sides stay is a self-loop and is skipped, so the recursion terminates.
fn overlap_from(
    a: &[Token],
    b: &[Token],
    i: usize,
    j: usize,
    memo: &mut [Vec<Option<bool>>],
) -> bool {
    if let Some(v) = memo[i][j] {
        return v;
    }
    memo[i][j] = Some(false);
    let result = (|| {
        if i == a.len() && j == b.len() {
            return true;
        }
        let ta = a.get(i).copied();
        let tb = b.get(j).copied();
        if matches!(ta, Some(Token::Star | Token::DoubleStar)) && overlap_from(a, b, i + 1, j, memo)
        {
            return true;
        }
        if matches!(tb, Some(Token::Star | Token::DoubleStar)) && overlap_from(a, b, i, j + 1, memo)
        {
            return true;
        }
        let (Some(ta), Some(tb)) = (ta, tb) else {
            return false;
        };
        if !common_char(ta, tb) {
            return false;
        }
        let ni = if matches!(ta, Token::Lit(_)) {
            i + 1
        } else {
            i
        };
        let nj = if matches!(tb, Token::Lit(_)) {
            j + 1
        } else {
            j
        };
        (ni, nj) != (i, j) && overlap_from(a, b, ni, nj, memo)
    })();
    memo[i][j] = Some(result);
    result
}

/// Is there a character both tokens accept?
fn common_char(a: Token, b: Token) -> bool {
    match (a, b) {
        (Token::Lit(x), Token::Lit(y)) => x == y,
        (Token::Lit(x), Token::Star) | (Token::Star, Token::Lit(x)) => x != '/',
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(p: &str) -> Glob {
        Glob::parse(p, GlobKind::PackageName).unwrap()
    }

    #[test]
    fn star_does_not_cross_slash_double_star_does() {
        assert!(g("@scope/*").matches("@scope/a"));
        assert!(g("@scope/*").matches("@scope/"));
        assert!(!g("@scope/*").matches("@scope/a/b"));
        assert!(g("@scope/**").matches("@scope/a/b"));
        assert!(!g("*").matches("@scope/a"));
        assert!(g("**").matches("@scope/a"));
        assert!(g("*").matches("left-pad"));
        assert!(g("@*/core").matches("@babel/core"));
        assert!(!g("@*/core").matches("@babel/core-js"));
        assert!(g("lodash.*").matches("lodash.merge"));
        assert!(!g("lodash.*").matches("lodash"));
        assert!(g("left-pad").matches("left-pad"));
        assert!(!g("left-pad").matches("left-pad2"));
        assert!(!g("left-pad").matches("xleft-pad"));
        assert!(g("a*b*c").matches("aXbYc"));
        assert!(!g("a*b*c").matches("aXbY"));
    }

    #[test]
    fn ref_globs() {
        let r = Glob::parse("refs/tags/v*", GlobKind::GitRef).unwrap();
        assert!(r.matches("refs/tags/v1.2.3"));
        assert!(!r.matches("refs/tags/v1/evil"));
        assert!(!r.matches("refs/heads/v1"));
        let r = Glob::parse("refs/heads/release/**", GlobKind::GitRef).unwrap();
        assert!(r.matches("refs/heads/release/1.x/hotfix"));
    }

    #[test]
    fn bad_patterns_are_rejected() {
        for p in [
            "", "a***", "a?", "[ab]", "{a,b}", "a b", "x@y", "a\\b", "A$",
        ] {
            assert!(
                Glob::parse(p, GlobKind::PackageName).is_err(),
                "accepted {p:?}"
            );
        }
        assert!(Glob::parse("refs/tags/v1^", GlobKind::GitRef).is_err());
        assert!(Glob::parse("refs/tags/**", GlobKind::GitRef).is_ok());
    }

    #[test]
    fn specificity_order() {
        // exact > fewer wildcards > longer literal prefix > more literals > fewer `**`
        assert!(g("@s/a").specificity() > g("@s/*").specificity());
        assert!(g("@s/a*").specificity() > g("@s/*-*").specificity());
        assert!(g("@s/a*").specificity() > g("@s/*").specificity());
        assert!(g("@s/*-x").specificity() > g("@s/*").specificity());
        assert!(g("@s/*").specificity() > g("@s/**").specificity());
        assert_eq!(
            g("@s/a*").specificity().cmp(&g("@s/b*").specificity()),
            Ordering::Equal
        );
    }

    #[test]
    fn overlap_is_exact() {
        assert!(g("@s/*").overlaps(&g("*/x"))); // both match `@s/x`
        assert!(g("@*/x").overlaps(&g("@s/*")));
        assert!(!g("@s/a*").overlaps(&g("@s/b*")));
        assert!(g("a*").overlaps(&g("*b")));
        assert!(!g("a/*").overlaps(&g("a/*/b")));
        assert!(g("a/**").overlaps(&g("a/*/b")));
        assert!(!g("left-pad").overlaps(&g("right-pad")));
        assert!(g("**").overlaps(&g("x")));
    }

    /// Every pattern of up to three tokens over {`a`, `/`, `*`, `**`}, against every string of
    /// up to six characters over {`a`, `/`} (long enough to witness any overlap of such
    /// patterns): `matches` agrees with an anchored regex, and `overlaps` with brute force.
    #[test]
    fn matches_and_overlaps_agree_with_brute_force() {
        let atoms = ["a", "/", "*", "**"];
        let mut patterns = vec![];
        let mut frontier = vec![String::new()];
        for _ in 0..3 {
            let mut next = vec![];
            for p in &frontier {
                for a in atoms {
                    let q = format!("{p}{a}");
                    if !q.contains("***") {
                        next.push(q);
                    }
                }
            }
            patterns.extend(next.iter().cloned());
            frontier = next;
        }
        patterns.sort();
        patterns.dedup();
        let mut strings = vec![String::new()];
        let mut frontier = vec![String::new()];
        for _ in 0..6 {
            let next: Vec<String> = frontier
                .iter()
                .flat_map(|s| [format!("{s}a"), format!("{s}/")])
                .collect();
            strings.extend(next.iter().cloned());
            frontier = next;
        }
        let globs: Vec<Glob> = patterns
            .iter()
            .map(|p| Glob::parse(p, GlobKind::GitRef).unwrap())
            .collect();
        let table: Vec<Vec<bool>> = globs
            .iter()
            .map(|g| {
                let re = regex::Regex::new(&format!(
                    "^(?:{})$",
                    g.as_str()
                        .replace("**", "\u{0}")
                        .replace('*', "[^/]*")
                        .replace('\u{0}', ".*")
                ))
                .unwrap();
                strings
                    .iter()
                    .map(|s| {
                        let m = g.matches(s);
                        assert_eq!(m, re.is_match(s), "{} on {s:?}", g.as_str());
                        m
                    })
                    .collect()
            })
            .collect();
        for (i, a) in globs.iter().enumerate() {
            for (j, b) in globs.iter().enumerate() {
                let brute = (0..strings.len()).any(|k| table[i][k] && table[j][k]);
                assert_eq!(a.overlaps(b), brute, "{} vs {}", a.as_str(), b.as_str());
            }
        }
    }
}
