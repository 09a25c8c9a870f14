//! The policy file, `npm-provenance.toml` (format: `docs/policy.md`): parsed and validated in one
//! step into an immutable [`Policy`], or every problem at once with its line and column
//! ([`PolicyErrors`]); then evaluated as pure functions of their inputs and an explicit `now`.
//!
//! - [`Policy::parse`] / [`Policy::load`] / [`Policy::load_for`]: text or file → `Policy`.
//! - [`Policy::rule_for`]: the most specific `[[package]]` rule for a name (order in
//!   [`glob::Specificity`]; overlapping rules of equal specificity are rejected when parsing).
//! - [`Policy::apply`]: exclusions, `ignore-published-before` and level overrides (flag, then
//!   file, then default) on one package's findings; [`Usage`] + [`Policy::end_of_run`] report expired
//!   exclusions and rules or exclusions that matched nothing.
//! - [`identity_check`]: a release against its rule's pinned identity → `pin-mismatch`.

mod apply;
pub mod glob;
mod identity;
mod parse;
mod validate;

use crate::error::AppError;
use crate::findings::Level;
use jiff::civil::Date;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use apply::{AppliedSummary, Usage, IGNORABLE_WHEN_OLD};
pub use glob::{Glob, GlobKind};
pub use identity::{identity_check, normalize_repository, Identity};

/// The policy file's default name, looked up in the project directory.
pub const FILE_NAME: &str = "npm-provenance.toml";

/// Largest policy file read (bytes). Real policies are a few kB; a pin per package of a
/// 10,000-package tree stays under 2 MB. Beyond this the file is refused, not parsed.
pub const MAX_POLICY_BYTES: u64 = 4 * 1024 * 1024;

/// A level a code can be set to: a [`Level`], or `allow` (the finding is dropped and counted as
/// suppressed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LevelSetting {
    Deny,
    Warn,
    Info,
    Allow,
}

impl LevelSetting {
    /// Parses `deny|warn|info|allow`.
    pub fn parse(s: &str) -> Option<LevelSetting> {
        match s {
            "allow" => Some(LevelSetting::Allow),
            other => Level::parse(other).map(LevelSetting::from),
        }
    }

    /// The level, or `None` for `allow`.
    pub fn level(self) -> Option<Level> {
        match self {
            LevelSetting::Deny => Some(Level::Deny),
            LevelSetting::Warn => Some(Level::Warn),
            LevelSetting::Info => Some(Level::Info),
            LevelSetting::Allow => None,
        }
    }
}

impl From<Level> for LevelSetting {
    fn from(l: Level) -> Self {
        match l {
            Level::Deny => LevelSetting::Deny,
            Level::Warn => LevelSetting::Warn,
            Level::Info => LevelSetting::Info,
        }
    }
}

/// Finding code → level setting. Codes are checked against [`crate::findings::CODES`].
pub type LevelMap = BTreeMap<String, LevelSetting>;

/// A 1-based line and column (in characters) in the policy file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize)]
pub struct Location {
    pub line: usize,
    pub col: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, column {}", self.line, self.col)
    }
}

/// One `[[package]]` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageRule {
    /// Position among the file's `[[package]]` rules (0-based), used by [`Usage`].
    pub index: usize,
    /// Where the rule's `name` is.
    pub at: Location,
    pub name: Glob,
    /// Normalised with [`normalize_repository`].
    pub repository: Option<String>,
    /// Numeric repository id (decimal digits).
    pub repository_id: Option<String>,
    /// `.github/workflows/x.yml` (inside the source repository) or a full workflow URL.
    pub workflow: Option<String>,
    pub git_ref: Option<Glob>,
    pub issuer: Option<String>,
    /// As written; see [`PackageRule::requires_provenance`] for the effective value.
    pub require_provenance: Option<bool>,
    pub publishers: Vec<PublisherPattern>,
    pub ignore_published_before: Option<Date>,
    pub levels: LevelMap,
}

impl PackageRule {
    /// Whether the rule pins any part of a build identity.
    pub fn pins_build_identity(&self) -> bool {
        self.repository.is_some()
            || self.repository_id.is_some()
            || self.workflow.is_some()
            || self.git_ref.is_some()
            || self.issuer.is_some()
    }

    /// `require-provenance` as written, else `true` when the rule pins a build identity.
    pub fn requires_provenance(&self) -> bool {
        self.require_provenance
            .unwrap_or_else(|| self.pins_build_identity())
    }
}

/// An allowed publisher: `name <email>`, `name`, or `<email>`. Names compare exactly, e-mails
/// ASCII-case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublisherPattern {
    pub name: Option<String>,
    pub email: Option<String>,
}

impl PublisherPattern {
    /// Parses `name <email>`, `name` or `<email>`.
    pub fn parse(s: &str) -> Result<PublisherPattern, String> {
        let s = s.trim();
        let (name, email) = match s.find('<') {
            Some(open) => {
                let rest = &s[open + 1..];
                let close = rest
                    .find('>')
                    .ok_or_else(|| format!("publisher {s:?}: `<` without `>`"))?;
                if !rest[close + 1..].trim().is_empty() {
                    return Err(format!("publisher {s:?}: text after `>`"));
                }
                let email = rest[..close].trim();
                if email.is_empty() || !email.contains('@') {
                    return Err(format!(
                        "publisher {s:?}: not an e-mail between `<` and `>`"
                    ));
                }
                let name = s[..open].trim();
                (
                    (!name.is_empty()).then(|| name.to_string()),
                    Some(email.to_string()),
                )
            }
            None => {
                if s.is_empty() || s.contains('>') || s.chars().any(char::is_whitespace) {
                    return Err(format!(
                        "publisher {s:?}: expected `name <email>`, `name` or `<email>`"
                    ));
                }
                (Some(s.to_string()), None)
            }
        };
        Ok(PublisherPattern { name, email })
    }

    /// Whether `(name, email)` is this publisher.
    pub fn matches(&self, name: &str, email: &str) -> bool {
        self.name.as_deref().is_none_or(|n| n == name)
            && self
                .email
                .as_deref()
                .is_none_or(|e| e.eq_ignore_ascii_case(email))
    }
}

impl std::fmt::Display for PublisherPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.name, &self.email) {
            (Some(n), Some(e)) => write!(f, "{n} <{e}>"),
            (Some(n), None) => f.write_str(n),
            (None, Some(e)) => write!(f, "<{e}>"),
            (None, None) => f.write_str("<none>"),
        }
    }
}

/// One `[[exclusion]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exclusion {
    /// Position among the file's exclusions (0-based), used by [`Usage`].
    pub index: usize,
    /// Where the exclusion's `package` is.
    pub at: Location,
    /// Exact package name.
    pub package: String,
    /// Exact version; `None` for any version.
    pub version: Option<String>,
    /// Finding code; `None` for every code.
    pub code: Option<String>,
    pub reason: String,
    /// Last day (UTC) on which the exclusion applies.
    pub expires: Option<Date>,
}

impl Exclusion {
    /// `name@version` or `name`, as written.
    pub fn target(&self) -> String {
        match &self.version {
            Some(v) => format!("{}@{v}", self.package),
            None => self.package.clone(),
        }
    }
}

/// What a registry's signatures are expected to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RegistrySignatures {
    /// Signatures are checked (the default).
    Required,
    /// A private registry that does not sign: signatures are `not-applicable`, with a warning.
    None,
}

/// One `[[registry]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryRule {
    pub at: Location,
    /// Normalised: lower-case scheme and host, path ending in `/`, no query or fragment.
    pub url: String,
    pub signatures: RegistrySignatures,
    /// Pinned keys file (npm `/-/npm/v1/keys` or TUF `keys.json` format), resolved against the
    /// policy file's directory. Not read here.
    pub keys: Option<PathBuf>,
}

impl RegistryRule {
    /// The run-level warning for a registry declared `signatures = "none"` (its packages'
    /// signature status is `not-applicable`): `registry-unsigned` (warn), once per run for each
    /// such registry the run used. `None` for a registry whose signatures are checked.
    pub fn unsigned_finding(&self) -> Option<crate::findings::Finding> {
        (self.signatures == RegistrySignatures::None).then(|| {
            crate::findings::Finding::new(
                "registry-unsigned",
                format!(
                    "registry {} does not sign (policy line {}): registry signatures of its packages are not applicable and were not checked",
                    self.url, self.at.line
                ),
            )
        })
    }
}

/// A validated policy file. Immutable; [`Policy::default`] is the empty policy (no file).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
/// Fields are private: a `Policy` only comes from [`Policy::parse`] (validated: no duplicates,
/// no ties) or [`Policy::default`].
pub struct Policy {
    path: Option<PathBuf>,
    fail_level: Option<Level>,
    levels: LevelMap,
    rules: Vec<PackageRule>,
    exclusions: Vec<Exclusion>,
    registries: Vec<RegistryRule>,
}

impl Policy {
    /// The file it came from (`None` when parsed from text or empty).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// `[defaults] fail-level`, as written; see [`Policy::effective_fail_level`].
    pub fn fail_level(&self) -> Option<Level> {
        self.fail_level
    }

    /// `[levels]`: the global level overrides.
    pub fn levels(&self) -> &LevelMap {
        &self.levels
    }

    /// The `[[package]]` rules in file order (`rule.index` is the position).
    pub fn rules(&self) -> &[PackageRule] {
        &self.rules
    }

    /// The `[[exclusion]]`s in file order (`exclusion.index` is the position).
    pub fn exclusions(&self) -> &[Exclusion] {
        &self.exclusions
    }

    /// The `[[registry]]` entries in file order.
    pub fn registries(&self) -> &[RegistryRule] {
        &self.registries
    }

    /// Parses and validates policy text. Relative `keys` paths resolve against `base_dir`.
    pub fn parse(text: &str, base_dir: &Path) -> Result<Policy, PolicyErrors> {
        parse::parse(text, base_dir)
    }

    /// Reads and validates a policy file; every problem becomes one exit-2 error.
    pub fn load(path: &Path) -> Result<Policy, AppError> {
        let text = read_policy_text(path)?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut policy = Policy::parse(&text, base).map_err(|e| e.into_app_error(path))?;
        policy.path = Some(path.to_path_buf());
        Ok(policy)
    }

    /// The policy for a run: `explicit` (`--policy FILE`, which must exist), else
    /// `npm-provenance.toml` in `project_dir` when present, else the empty policy.
    pub fn load_for(project_dir: &Path, explicit: Option<&Path>) -> Result<Policy, AppError> {
        if let Some(path) = explicit {
            return Policy::load(path);
        }
        let default = project_dir.join(FILE_NAME);
        match std::fs::metadata(&default) {
            Ok(_) => Policy::load(&default),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Policy::default()),
            Err(e) => Err(AppError::read(default, e)),
        }
    }

    /// The most specific `[[package]]` rule whose name matches `name`. Parsing guarantees that
    /// no two matching rules are equally specific.
    pub fn rule_for(&self, name: &str) -> Option<&PackageRule> {
        self.rules
            .iter()
            .filter(|r| r.name.matches(name))
            .max_by(|a, b| a.name.cmp_specificity(&b.name))
    }

    /// The fail level in force: the command-line flag when given, else `[defaults] fail-level`,
    /// else `deny`.
    pub fn effective_fail_level(&self, flag: Option<Level>) -> Level {
        flag.or(self.fail_level).unwrap_or(Level::Deny)
    }

    /// [`identity_check`] against the rule for `name`; nothing when no rule governs it.
    pub fn check_identity(
        &self,
        name: &str,
        identity: &Identity<'_>,
    ) -> Vec<crate::findings::Finding> {
        self.rule_for(name)
            .map(|rule| identity_check(rule, identity))
            .unwrap_or_default()
    }

    /// The `[[registry]]` entry for a registry URL (compared after normalisation).
    pub fn registry_for(&self, url: &str) -> Option<&RegistryRule> {
        let wanted = validate::normalize_registry_url(url).ok()?;
        self.registries.iter().find(|r| r.url == wanted)
    }

    /// Where the policy came from, for messages: the file name, or `policy`.
    pub(crate) fn origin(&self) -> String {
        self.path
            .as_deref()
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "policy".to_string())
    }
}

/// One problem in a policy file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyError {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.col, self.message
        )
    }
}

/// Every problem in a policy file, sorted by position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyErrors(pub Vec<PolicyError>);

impl PolicyErrors {
    /// One exit-2 [`AppError::Parse`] listing every problem, one per line.
    pub fn into_app_error(self, path: &Path) -> AppError {
        AppError::parse(path, self.to_string())
    }
}

impl std::fmt::Display for PolicyErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "{n} problem{} in the policy file",
            if n == 1 { "" } else { "s" }
        )?;
        for e in &self.0 {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PolicyErrors {}

/// Reads the policy file as UTF-8, refusing one larger than [`MAX_POLICY_BYTES`].
fn read_policy_text(path: &Path) -> Result<String, AppError> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).map_err(|e| AppError::read(path, e))?;
    let mut bytes = Vec::new();
    file.take(MAX_POLICY_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| AppError::read(path, e))?;
    if bytes.len() as u64 > MAX_POLICY_BYTES {
        return Err(AppError::Parse {
            path: path.to_path_buf(),
            problem: format!("larger than the policy file cap of {MAX_POLICY_BYTES} bytes"),
        });
    }
    String::from_utf8(bytes).map_err(|_| AppError::Parse {
        path: path.to_path_buf(),
        problem: "not UTF-8".into(),
    })
}
