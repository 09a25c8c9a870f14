//! Text → [`Policy`]: a walk over the `toml_edit` tree that collects every problem with its
//! position instead of stopping at the first. A TOML syntax error is the one exception: the
//! parser stops there, and that single error is reported. An entry with a bad field still takes part
//! in the cross-checks (duplicates, ties), so one run reports everything; any problem fails the
//! whole parse, so a partial entry never escapes.

use super::glob::{Glob, GlobKind};
use super::identity::normalize_repository;
use super::validate::{check_workflow, normalize_registry_url, parse_date, split_package};
use super::{
    Exclusion, LevelMap, LevelSetting, Location, PackageRule, Policy, PolicyError, PolicyErrors,
    PublisherPattern, RegistryRule, RegistrySignatures,
};
use crate::findings::{code_info, Level, CODES};
use jiff::civil::Date;
use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use toml_edit::{Item, TableLike, Value};

const TOP_KEYS: &[&str] = &["defaults", "levels", "package", "exclusion", "registry"];
const DEFAULTS_KEYS: &[&str] = &["fail-level"];
const PACKAGE_KEYS: &[&str] = &[
    "name",
    "repository",
    "repository-id",
    "workflow",
    "ref",
    "issuer",
    "require-provenance",
    "publishers",
    "ignore-published-before",
    "levels",
];
const EXCLUSION_KEYS: &[&str] = &["package", "code", "reason", "expires"];
const REGISTRY_KEYS: &[&str] = &["url", "signatures", "keys"];

pub(super) fn parse(text: &str, base_dir: &Path) -> Result<Policy, PolicyErrors> {
    let line_starts = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let mut cx = Cx {
        text,
        line_starts,
        errors: Vec::new(),
    };
    let doc = match toml_edit::Document::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            let at = cx.loc(e.span().map(|s| s.start).unwrap_or(0));
            let message = e.message().trim().to_string();
            return Err(PolicyErrors(vec![PolicyError {
                line: at.line,
                col: at.col,
                message: format!("invalid TOML: {message}"),
            }]));
        }
    };
    let mut policy = Policy::default();
    let root = doc.as_table();
    for (key, item) in root.iter() {
        let key_at = cx.key_loc(root, key, 0);
        match key {
            "defaults" => {
                if let Some(t) = cx.table(item, "[defaults]", key_at) {
                    policy.fail_level = cx.defaults(t, key_at);
                }
            }
            "levels" => {
                if let Some(t) = cx.table(item, "[levels]", key_at) {
                    policy.levels = cx.levels(t, "[levels]");
                }
            }
            "package" => {
                for (i, t) in cx
                    .array_of_tables(item, "package", key_at)
                    .iter()
                    .enumerate()
                {
                    if let Some(rule) = cx.package(*t, i) {
                        policy.rules.push(rule);
                    }
                }
            }
            "exclusion" => {
                for (i, t) in cx
                    .array_of_tables(item, "exclusion", key_at)
                    .iter()
                    .enumerate()
                {
                    if let Some(ex) = cx.exclusion(*t, i) {
                        policy.exclusions.push(ex);
                    }
                }
            }
            "registry" => {
                for t in cx.array_of_tables(item, "registry", key_at) {
                    if let Some(r) = cx.registry(t, base_dir) {
                        policy.registries.push(r);
                    }
                }
            }
            other => cx.unknown(other, key_at, "the top level", TOP_KEYS),
        }
    }
    cx.check_rules(&policy.rules);
    cx.check_exclusions(&policy.exclusions);
    cx.check_registries(&policy.registries);
    if cx.errors.is_empty() {
        Ok(policy)
    } else {
        let mut errors = cx.errors;
        errors.sort_by_key(|a| (a.line, a.col));
        errors.dedup();
        Err(PolicyErrors(errors))
    }
}

struct Cx<'t> {
    text: &'t str,
    /// Byte offset of the start of each line (the first is 0).
    line_starts: Vec<usize>,
    errors: Vec<PolicyError>,
}

/// A table or inline table with where it starts.
type Tbl<'a> = (&'a dyn TableLike, Location);

impl Cx<'_> {
    fn loc(&self, offset: usize) -> Location {
        let offset = offset.min(self.text.len());
        // index of the last line start at or before `offset`
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let start = self.line_starts[line - 1];
        let col = self
            .text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(0)
            + 1;
        Location { line, col }
    }

    fn span_loc(&self, span: Option<Range<usize>>, fallback: Location) -> Location {
        span.map(|s| self.loc(s.start)).unwrap_or(fallback)
    }

    fn key_loc(&self, t: &dyn TableLike, key: &str, fallback_offset: usize) -> Location {
        let fallback = self.loc(fallback_offset);
        self.span_loc(t.key(key).and_then(|k| k.span()), fallback)
    }

    fn item_loc(&self, item: &Item, fallback: Location) -> Location {
        self.span_loc(item.span(), fallback)
    }

    fn err(&mut self, at: Location, message: impl Into<String>) {
        self.errors.push(PolicyError {
            line: at.line,
            col: at.col,
            message: message.into(),
        });
    }

    fn unknown(&mut self, key: &str, at: Location, place: &str, allowed: &[&str]) {
        let list = format!("expected one of: {}", allowed.join(", "));
        let hint = match suggest(key, allowed.iter().copied()) {
            Some(s) => format!("did you mean `{s}`? {list}"),
            None => list,
        };
        self.err(at, format!("unknown key `{key}` in {place} ({hint})"));
    }

    fn table<'a>(&mut self, item: &'a Item, what: &str, at: Location) -> Option<Tbl<'a>> {
        match item.as_table_like() {
            Some(t) => Some((t, self.item_loc(item, at))),
            None => {
                self.err(
                    at,
                    format!("{what} must be a table, not {}", item.type_name()),
                );
                None
            }
        }
    }

    fn array_of_tables<'a>(&mut self, item: &'a Item, key: &str, at: Location) -> Vec<Tbl<'a>> {
        if let Some(aot) = item.as_array_of_tables() {
            return aot
                .iter()
                .map(|t| (t as &dyn TableLike, self.span_loc(t.span(), at)))
                .collect();
        }
        if let Some(arr) = item.as_array() {
            let mut out = Vec::new();
            for v in arr.iter() {
                match v.as_inline_table() {
                    Some(t) => out.push((t as &dyn TableLike, self.span_loc(v.span(), at))),
                    None => self.err(
                        self.span_loc(v.span(), at),
                        format!("`{key}` entries must be tables, not {}", v.type_name()),
                    ),
                }
            }
            return out;
        }
        self.err(
            at,
            format!(
                "`{key}` must be an array of tables (`[[{key}]]`), not {}",
                item.type_name()
            ),
        );
        Vec::new()
    }

    fn defaults(&mut self, (t, _): Tbl<'_>, _at: Location) -> Option<Level> {
        let mut fail_level = None;
        for (key, item) in t.iter() {
            let at = self.key_loc(t, key, 0);
            match key {
                "fail-level" => {
                    let vat = self.item_loc(item, at);
                    match item.as_str() {
                        Some(s) => match Level::parse(s) {
                            Some(l) => fail_level = Some(l),
                            None => self.err(
                                vat,
                                format!("fail-level {s:?} is not one of deny, warn, info"),
                            ),
                        },
                        None => self.err(vat, "fail-level must be a string: deny, warn or info"),
                    }
                }
                other => self.unknown(other, at, "[defaults]", DEFAULTS_KEYS),
            }
        }
        fail_level
    }

    fn levels(&mut self, (t, _): Tbl<'_>, place: &str) -> LevelMap {
        let mut map = LevelMap::new();
        for (code, item) in t.iter() {
            let at = self.key_loc(t, code, 0);
            if code_info(code).is_none() {
                self.err(
                    at,
                    format!(
                        "unknown finding code `{code}` in {place}{}",
                        code_hint(code)
                    ),
                );
                continue;
            }
            let vat = self.item_loc(item, at);
            match item.as_str().and_then(LevelSetting::parse) {
                Some(l) => {
                    map.insert(code.to_string(), l);
                }
                None => self.err(
                    vat,
                    format!(
                        "level of `{code}` must be one of \"deny\", \"warn\", \"info\", \"allow\""
                    ),
                ),
            }
        }
        map
    }

    fn string(&mut self, item: &Item, key: &str, at: Location) -> Option<String> {
        match item.as_str() {
            Some(s) if !s.trim().is_empty() => Some(s.to_string()),
            Some(_) => {
                self.err(self.item_loc(item, at), format!("`{key}` is empty"));
                None
            }
            None => {
                self.err(
                    self.item_loc(item, at),
                    format!("`{key}` must be a string, not {}", item.type_name()),
                );
                None
            }
        }
    }

    /// A date: a TOML local date (`2026-12-31`) or a string in that form.
    fn date(&mut self, item: &Item, key: &str, at: Location) -> Option<Date> {
        let vat = self.item_loc(item, at);
        let parsed = if let Some(dt) = item.as_datetime() {
            match (dt.date, dt.time, dt.offset) {
                (Some(d), None, None) => {
                    Date::new(d.year as i16, d.month as i8, d.day as i8).map_err(|e| e.to_string())
                }
                _ => Err(format!("`{dt}` is not a plain date (YYYY-MM-DD)")),
            }
        } else if let Some(s) = item.as_str() {
            parse_date(s)
        } else {
            Err(format!(
                "expected a date (YYYY-MM-DD), not {}",
                item.type_name()
            ))
        };
        match parsed {
            Ok(d) => Some(d),
            Err(e) => {
                self.err(vat, format!("bad date in `{key}`: {e}"));
                None
            }
        }
    }

    fn package(&mut self, (t, table_at): Tbl<'_>, index: usize) -> Option<PackageRule> {
        let mut name = None;
        let mut at = table_at;
        let mut rule = PackageRule {
            index,
            at,
            // replaced by the parsed `name` below; a rule without a valid one is not returned
            name: Glob::parse("x", GlobKind::PackageName).ok()?,
            repository: None,
            repository_id: None,
            workflow: None,
            git_ref: None,
            issuer: None,
            require_provenance: None,
            publishers: Vec::new(),
            ignore_published_before: None,
            levels: LevelMap::new(),
        };
        for (key, item) in t.iter() {
            let kat = self.key_loc(t, key, 0);
            let vat = self.item_loc(item, kat);
            match key {
                "name" => {
                    at = vat;
                    if let Some(s) = self.string(item, key, kat) {
                        match Glob::parse(&s, GlobKind::PackageName) {
                            Ok(g) => name = Some(g),
                            Err(e) => self.err(vat, format!("bad glob in `name`: {e}")),
                        }
                    }
                }
                "repository" => {
                    if let Some(s) = self.string(item, key, kat) {
                        match normalize_repository(&s) {
                            Ok(u) => rule.repository = Some(u),
                            Err(e) => self.err(vat, format!("bad `repository`: {e}")),
                        }
                    }
                }
                "repository-id" => {
                    let id = match item.as_value() {
                        Some(Value::Integer(i)) if *i.value() > 0 => Some(i.value().to_string()),
                        Some(Value::String(s))
                            if !s.value().is_empty()
                                && s.value().bytes().all(|b| b.is_ascii_digit()) =>
                        {
                            Some(s.value().trim_start_matches('0').to_string())
                        }
                        _ => None,
                    };
                    match id {
                        Some(id) if !id.is_empty() => rule.repository_id = Some(id),
                        _ => self.err(vat, "`repository-id` must be a positive number"),
                    }
                }
                "workflow" => {
                    if let Some(s) = self.string(item, key, kat) {
                        match check_workflow(&s) {
                            Ok(()) => rule.workflow = Some(s),
                            Err(e) => self.err(vat, format!("bad `workflow`: {e}")),
                        }
                    }
                }
                "ref" => {
                    if let Some(s) = self.string(item, key, kat) {
                        match Glob::parse(&s, GlobKind::GitRef) {
                            Ok(g) if s.starts_with("refs/") => rule.git_ref = Some(g),
                            Ok(_) => self.err(
                                vat,
                                "bad glob in `ref`: a full ref is expected (`refs/tags/…`, `refs/heads/…`)",
                            ),
                            Err(e) => self.err(vat, format!("bad glob in `ref`: {e}")),
                        }
                    }
                }
                "issuer" => {
                    if let Some(s) = self.string(item, key, kat) {
                        match url::Url::parse(&s) {
                            Ok(u) if u.scheme() == "https" => rule.issuer = Some(s),
                            _ => self.err(vat, "bad `issuer`: an https URL is expected"),
                        }
                    }
                }
                "require-provenance" => match item.as_bool() {
                    Some(b) => rule.require_provenance = Some(b),
                    None => self.err(vat, "`require-provenance` must be true or false"),
                },
                "publishers" => match item.as_array() {
                    Some(arr) => {
                        for v in arr.iter() {
                            let pat = self.span_loc(v.span(), vat);
                            match v.as_str().map(PublisherPattern::parse) {
                                Some(Ok(p)) => rule.publishers.push(p),
                                Some(Err(e)) => self.err(pat, e),
                                None => self.err(pat, "`publishers` entries must be strings"),
                            }
                        }
                        if arr.is_empty() {
                            self.err(vat, "`publishers` is empty (remove it to allow anyone)");
                        }
                    }
                    None => self.err(vat, "`publishers` must be an array of strings"),
                },
                "ignore-published-before" => {
                    rule.ignore_published_before = self.date(item, key, kat);
                }
                "levels" => {
                    if let Some(lt) = self.table(item, "`levels`", kat) {
                        rule.levels = self.levels(lt, "`levels` of [[package]]");
                    }
                }
                other => self.unknown(other, kat, "[[package]]", PACKAGE_KEYS),
            }
        }
        match name {
            Some(g) => rule.name = g,
            None => {
                if !t.contains_key("name") {
                    self.err(table_at, "[[package]] without `name`");
                }
                return None;
            }
        }
        rule.at = at;
        Some(rule)
    }

    fn exclusion(&mut self, (t, table_at): Tbl<'_>, index: usize) -> Option<Exclusion> {
        let mut ex = Exclusion {
            index,
            at: table_at,
            package: String::new(),
            version: None,
            code: None,
            reason: String::new(),
            expires: None,
        };
        let mut have_package = false;
        let mut have_reason = false;
        for (key, item) in t.iter() {
            let kat = self.key_loc(t, key, 0);
            let vat = self.item_loc(item, kat);
            match key {
                "package" => {
                    have_package = true;
                    ex.at = vat;
                    if let Some(s) = self.string(item, key, kat) {
                        match split_package(&s) {
                            Ok((name, version)) => {
                                ex.package = name;
                                ex.version = version;
                            }
                            Err(e) => self.err(vat, format!("bad `package`: {e}")),
                        }
                    }
                }
                "code" => {
                    if let Some(s) = self.string(item, key, kat) {
                        if code_info(&s).is_some() {
                            ex.code = Some(s);
                        } else {
                            self.err(vat, format!("unknown finding code `{s}`{}", code_hint(&s)));
                        }
                    }
                }
                "reason" => {
                    have_reason = true;
                    if let Some(s) = self.string(item, key, kat) {
                        ex.reason = s;
                    }
                }
                "expires" => ex.expires = self.date(item, key, kat),
                other => self.unknown(other, kat, "[[exclusion]]", EXCLUSION_KEYS),
            }
        }
        if !have_package {
            self.err(table_at, "[[exclusion]] without `package`");
        }
        if !have_reason {
            self.err(
                table_at,
                "[[exclusion]] without `reason` (say why it is safe)",
            );
        }
        have_package.then_some(ex)
    }

    fn registry(&mut self, (t, table_at): Tbl<'_>, base_dir: &Path) -> Option<RegistryRule> {
        let mut r = RegistryRule {
            at: table_at,
            url: String::new(),
            signatures: RegistrySignatures::Required,
            keys: None,
        };
        for (key, item) in t.iter() {
            let kat = self.key_loc(t, key, 0);
            let vat = self.item_loc(item, kat);
            match key {
                "url" => {
                    r.at = vat;
                    if let Some(s) = self.string(item, key, kat) {
                        match normalize_registry_url(&s) {
                            Ok(u) => r.url = u,
                            Err(e) => self.err(vat, format!("bad `url`: {e}")),
                        }
                    }
                }
                "signatures" => match item.as_str() {
                    Some("required") => r.signatures = RegistrySignatures::Required,
                    Some("none") => r.signatures = RegistrySignatures::None,
                    _ => self.err(vat, "`signatures` must be \"required\" or \"none\""),
                },
                "keys" => {
                    if let Some(s) = self.string(item, key, kat) {
                        r.keys = Some(base_dir.join(s));
                    }
                }
                other => self.unknown(other, kat, "[[registry]]", REGISTRY_KEYS),
            }
        }
        if !t.contains_key("url") {
            self.err(table_at, "[[registry]] without `url`");
        }
        if r.signatures == RegistrySignatures::None && r.keys.is_some() {
            self.err(
                r.at,
                "`keys` with `signatures = \"none\"`: pinned keys are for a registry that signs",
            );
        }
        Some(r).filter(|r| !r.url.is_empty())
    }

    /// Duplicate names, and overlapping names of equal specificity (a tie `rule_for` could not
    /// break).
    fn check_rules(&mut self, rules: &[PackageRule]) {
        // Exact names (most rules in a pinned file) only collide when equal: one map, not pairs.
        let mut exact: HashMap<&str, Location> = HashMap::new();
        let specs: Vec<_> = rules.iter().map(|r| r.name.specificity()).collect();
        for (i, b) in rules.iter().enumerate() {
            if b.name.is_exact() {
                if let Some(first) = exact.insert(b.name.as_str(), b.at) {
                    exact.insert(b.name.as_str(), first);
                    self.err(
                        b.at,
                        format!(
                            "duplicate rule for `{}` (first at line {})",
                            b.name, first.line
                        ),
                    );
                }
                continue;
            }
            for (j, a) in rules[..i].iter().enumerate() {
                if a.name.is_exact() {
                    continue;
                }
                if a.name == b.name {
                    self.err(
                        b.at,
                        format!(
                            "duplicate rule for `{}` (first at line {})",
                            b.name, a.at.line
                        ),
                    );
                    break;
                }
                if specs[j] == specs[i] && a.name.overlaps(&b.name) {
                    self.err(
                        b.at,
                        format!(
                            "rules `{}` (line {}) and `{}` are equally specific and both match some names: make one more specific",
                            a.name, a.at.line, b.name
                        ),
                    );
                    break;
                }
            }
        }
    }

    fn check_exclusions(&mut self, exclusions: &[Exclusion]) {
        for (i, b) in exclusions.iter().enumerate() {
            if let Some(a) = exclusions[..i]
                .iter()
                .find(|a| a.package == b.package && a.version == b.version && a.code == b.code)
            {
                self.err(
                    b.at,
                    format!(
                        "duplicate exclusion for `{}`{} (first at line {})",
                        b.target(),
                        b.code
                            .as_deref()
                            .map(|c| format!(" and `{c}`"))
                            .unwrap_or_default(),
                        a.at.line
                    ),
                );
            }
        }
    }

    fn check_registries(&mut self, registries: &[RegistryRule]) {
        for (i, b) in registries.iter().enumerate() {
            if let Some(a) = registries[..i].iter().find(|a| a.url == b.url) {
                self.err(
                    b.at,
                    format!(
                        "duplicate registry `{}` (first at line {})",
                        b.url, a.at.line
                    ),
                );
            }
        }
    }
}

/// ` (did you mean `…`?)` for a near miss of a finding code, else nothing.
fn code_hint(code: &str) -> String {
    suggest(code, CODES.iter().map(|c| c.code))
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default()
}

/// The shortest candidate `word` abbreviates (`repo` → `repository`), else the candidate
/// closest to it within two edits; `_` is read as `-`.
fn suggest<'a>(word: &str, candidates: impl Iterator<Item = &'a str> + Clone) -> Option<&'a str> {
    let word = word.replace('_', "-").to_ascii_lowercase();
    if word.len() >= 3 {
        if let Some(c) = candidates
            .clone()
            .filter(|c| c.starts_with(&word) && *c != word)
            .min_by_key(|c| c.len())
        {
            return Some(c);
        }
    }
    candidates
        .map(|c| (edit_distance(&word, c), c))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, c)| c)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
