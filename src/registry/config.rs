//! Registry configuration the way npm reads it: `--registry`, `npm_config_*` environment
//! variables, then the project, user and global `.npmrc` files (first found wins per key).
//!
//! Everything outside (environment, home directory, file locations) is injected through
//! [`ConfigInputs`], so the parser never reads process globals and tests can drive it fully.
//! Secrets live in [`Secret`], whose `Debug` and `Display` print `<redacted>`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use url::Url;

/// The public npm registry, npm's built-in default.
pub const DEFAULT_REGISTRY: &str = "https://registry.npmjs.org/";

/// Largest `.npmrc` read (bytes). Real ones are a few hundred bytes, a few kB with inline CA
/// certificates; beyond this the file is refused rather than parsed.
pub const MAX_NPMRC_BYTES: u64 = 1024 * 1024;

/// What the configuration is read from. Build it with [`ConfigInputs::from_process`] at the
/// application edge, or by hand in tests.
#[derive(Debug, Clone, Default)]
pub struct ConfigInputs {
    /// The process environment (names as given; `npm_config_*` is matched case-insensitively).
    pub env: BTreeMap<String, String>,
    /// The user's home directory (for `~/.npmrc`).
    pub home: Option<PathBuf>,
    /// The project directory (for `<project>/.npmrc`).
    pub project_dir: Option<PathBuf>,
    /// `--registry` from the command line; wins over everything.
    pub cli_registry: Option<String>,
}

impl ConfigInputs {
    /// The real process environment and home directory, with the given project directory.
    pub fn from_process(project_dir: Option<PathBuf>, cli_registry: Option<String>) -> Self {
        let env: BTreeMap<String, String> = std::env::vars().collect();
        let home = env
            .get("HOME")
            .or_else(|| env.get("USERPROFILE"))
            .filter(|h| !h.is_empty())
            .map(PathBuf::from);
        ConfigInputs {
            env,
            home,
            project_dir,
            cli_registry,
        }
    }
}

/// A secret value (token, password). Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The secret itself; only for building the `Authorization` header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A credential for one nerf-dart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// `:_authToken=` → `Authorization: Bearer …`.
    Token(Secret),
    /// `:_auth=` (base64 `user:pass`) or `:username=` + `:_password=` (base64 password) →
    /// `Authorization: Basic …`.
    Basic { username: String, password: Secret },
}

impl Credential {
    /// The `Authorization` header value.
    pub fn header_value(&self) -> String {
        match self {
            Credential::Token(t) => format!("Bearer {}", t.expose()),
            Credential::Basic { username, password } => {
                let raw = format!("{username}:{}", password.expose());
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(raw)
                )
            }
        }
    }
}

/// Credentials scoped to a nerf-dart (`//host[:port]/path/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthEntry {
    pub nerf_dart: String,
    pub credential: Credential,
}

/// The registry configuration after merging every source.
#[derive(Debug, Clone)]
pub struct RegistryConfig {
    /// `registry=`; always ends with `/`.
    pub default_registry: Url,
    /// `@scope:registry=` by scope (with its `@`).
    pub scopes: BTreeMap<String, Url>,
    /// Nerf-dart credentials, one per nerf-dart.
    pub auth: Vec<AuthEntry>,
    /// PEM certificates that replace the built-in roots (`ca=`, `ca[]=`, `cafile=`).
    pub ca: Vec<String>,
    /// PEM certificates added to the roots (`NODE_EXTRA_CA_CERTS`).
    pub extra_ca: Vec<String>,
    /// Proxy for https requests (`https-proxy=`, `HTTPS_PROXY`).
    pub https_proxy: Option<Url>,
    /// Proxy for http requests (`proxy=`, `HTTP_PROXY`).
    pub http_proxy: Option<Url>,
    /// Hosts that bypass the proxy (`noproxy=`, `NO_PROXY`), comma separated as npm.
    pub no_proxy: Option<String>,
    /// `strict-ssl=false` is recorded but never weakens TLS; see [`RegistryConfig::warnings`].
    pub strict_ssl: bool,
    /// Settings that were ignored, with where they came from (never containing secrets).
    pub warnings: Vec<String>,
}

/// A configuration source that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {problem}")]
pub struct ConfigError {
    /// The file (or `environment`, `--registry`).
    pub path: String,
    pub problem: String,
}

impl RegistryConfig {
    /// Reads and merges every source. Precedence per key: `--registry` > environment >
    /// project `.npmrc` > user `.npmrc` > global `npmrc` > npm's defaults.
    pub fn load(inputs: &ConfigInputs) -> Result<RegistryConfig, ConfigError> {
        let mut layers: Vec<Layer> = Vec::new();
        if let Some(r) = &inputs.cli_registry {
            let mut l = Layer::new("--registry");
            l.set("registry", r.clone());
            layers.push(l);
        }
        layers.push(env_layer(&inputs.env)?);
        let env_get = |k: &str| env_lookup(&inputs.env, k);
        if let Some(dir) = &inputs.project_dir {
            layers.push(file_layer(&dir.join(".npmrc"), &inputs.env)?);
        }
        let user = env_get("userconfig")
            .map(|p| expand_home(&p, inputs.home.as_deref()))
            .or_else(|| inputs.home.as_ref().map(|h| h.join(".npmrc")));
        if let Some(p) = user {
            layers.push(file_layer(&p, &inputs.env)?);
        }
        let global = env_get("globalconfig")
            .map(|p| expand_home(&p, inputs.home.as_deref()))
            .or_else(|| env_get("prefix").map(|p| PathBuf::from(p).join("etc").join("npmrc")));
        if let Some(p) = global {
            layers.push(file_layer(&p, &inputs.env)?);
        }
        merge(layers, &inputs.env)
    }

    /// The registry a package is fetched from: its scope's registry, else the default.
    pub fn registry_for(&self, package: &str) -> &Url {
        package
            .strip_prefix('@')
            .and_then(|rest| rest.split_once('/'))
            .and_then(|(scope, _)| self.scopes.get(&format!("@{scope}")))
            .unwrap_or(&self.default_registry)
    }

    /// The credentials npm would send with a request to `url`: the longest configured
    /// nerf-dart that is a prefix of the URL's own nerf-dart (same host and port, then walking
    /// up the path). Never anything for another host.
    pub fn auth_for(&self, url: &Url) -> Option<&AuthEntry> {
        let mut key = nerf_dart_of_request(url)?;
        loop {
            if let Some(e) = self.auth.iter().find(|e| e.nerf_dart == key) {
                return Some(e);
            }
            // Walk up one path segment: `//h/a/b/` → `//h/a/` → `//h/`.
            let trimmed = key.trim_end_matches('/');
            let cut = trimmed.rfind('/')?;
            if cut < 2 {
                return None;
            }
            key = format!("{}/", &trimmed[..cut]);
            if key.len() <= 2 {
                return None;
            }
        }
    }
}

/// npm's "nerf-dart" of a registry URL: `//host[:port]/path/` without scheme, userinfo,
/// query or fragment, the path cut after its last `/`.
pub fn nerf_dart(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    let path = url.path();
    let dir = match path.rfind('/') {
        Some(i) => &path[..=i],
        None => "/",
    };
    Some(format!("//{}{port}{dir}", host.to_ascii_lowercase()))
}

/// The nerf-dart used to look up credentials for a request URL: its full path (as
/// npm-registry-fetch's `regKeyFromURI`), ending with `/`.
fn nerf_dart_of_request(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    let mut path = url.path().to_string();
    if !path.ends_with('/') {
        match path.rfind('/') {
            Some(i) => path.truncate(i + 1),
            None => path = "/".into(),
        }
    }
    Some(format!("//{}{port}{path}", host.to_ascii_lowercase()))
}

/// One configuration source: raw `key → value` pairs in file order.
struct Layer {
    origin: String,
    values: BTreeMap<String, String>,
    /// `key[]=` values (`ca[]`).
    arrays: BTreeMap<String, Vec<String>>,
}

impl Layer {
    fn new(origin: impl Into<String>) -> Self {
        Layer {
            origin: origin.into(),
            values: BTreeMap::new(),
            arrays: BTreeMap::new(),
        }
    }
    fn set(&mut self, k: &str, v: String) {
        self.values.insert(k.to_string(), v);
    }
}

fn env_lookup(env: &BTreeMap<String, String>, key: &str) -> Option<String> {
    let want = format!("npm_config_{key}");
    env.iter()
        .find(|(k, _)| {
            k.eq_ignore_ascii_case(&want) || k.eq_ignore_ascii_case(&want.replace('-', "_"))
        })
        .map(|(_, v)| v.clone())
        .filter(|v| !v.is_empty())
}

/// `npm_config_*` variables: the rest of the name, lower-cased, `_` → `-` (as npm does),
/// except in nerf-dart and scope keys where `_` is kept after the `:`.
fn env_layer(env: &BTreeMap<String, String>) -> Result<Layer, ConfigError> {
    let mut l = Layer::new("environment");
    for (k, v) in env {
        let Some(rest) = k
            .get(..11)
            .filter(|p| p.eq_ignore_ascii_case("npm_config_"))
            .map(|_| &k[11..])
        else {
            continue;
        };
        if rest.is_empty() || v.is_empty() {
            continue;
        }
        let key = if rest.starts_with("//") || rest.starts_with('@') {
            rest.to_string()
        } else {
            rest.to_ascii_lowercase().replace('_', "-")
        };
        l.set(&key, v.clone());
    }
    Ok(l)
}

fn file_layer(path: &Path, env: &BTreeMap<String, String>) -> Result<Layer, ConfigError> {
    let origin = path.display().to_string();
    let mut l = Layer::new(origin.clone());
    let text = match read_npmrc(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(l),
        Err(e) => {
            return Err(ConfigError {
                path: origin,
                problem: format!("cannot read: {e}"),
            })
        }
    };
    parse_npmrc(&text, &origin, env, &mut l)?;
    Ok(l)
}

/// Parses `.npmrc` (ini): `key=value`, `;`/`#` comments, optional `"…"` JSON-quoted values,
/// `key[]=value` arrays, `${VAR}` expansion in keys and values (`${VAR?}` empty when unset).
fn parse_npmrc(
    text: &str,
    origin: &str,
    env: &BTreeMap<String, String>,
    l: &mut Layer,
) -> Result<(), ConfigError> {
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty()
            || line.starts_with(';')
            || line.starts_with('#')
            || line.starts_with('[')
        {
            continue;
        }
        let err = |problem: String| ConfigError {
            path: format!("{origin}:{}", i + 1),
            problem,
        };
        let Some((k, v)) = line.split_once('=') else {
            // npm treats a bare key as `key=true`; no registry setting is a bare flag.
            continue;
        };
        let key = expand_env(k.trim(), env).map_err(&err)?;
        let mut value = v.trim().to_string();
        if value.starts_with('"') && value.ends_with('"') && value.len() >= 2 {
            value = serde_json::from_str::<String>(&value)
                .map_err(|e| err(format!("bad quoted value for {key}: {e}")))?;
        }
        let value = expand_env(&value, env).map_err(&err)?;
        if let Some(base) = key.strip_suffix("[]") {
            l.arrays.entry(base.to_string()).or_default().push(value);
        } else {
            l.values.insert(key, value);
        }
    }
    Ok(())
}

/// `${VAR}` → the variable's value; `${VAR?}` → empty when unset; `\${` stays literal.
/// An unset `${VAR}` is an error, as in npm 9+ (never a silent empty token).
fn expand_env(s: &str, env: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find("${") {
        if pos > 0 && rest.as_bytes()[pos - 1] == b'\\' {
            out.push_str(&rest[..pos - 1]);
            out.push_str("${");
            rest = &rest[pos + 2..];
            continue;
        }
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[pos..]);
            return Ok(out);
        };
        let name = &after[..end];
        let (name, optional) = match name.strip_suffix('?') {
            Some(n) => (n, true),
            None => (name, false),
        };
        match env.get(name) {
            Some(v) => out.push_str(v),
            None if optional => {}
            None => {
                return Err(format!(
                    "environment variable {name} is not set (used as ${{{name}}})"
                ))
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn expand_home(p: &str, home: Option<&Path>) -> PathBuf {
    match (p.strip_prefix("~/"), home) {
        (Some(rest), Some(h)) => h.join(rest),
        _ => PathBuf::from(p),
    }
}

fn merge(
    layers: Vec<Layer>,
    env: &BTreeMap<String, String>,
) -> Result<RegistryConfig, ConfigError> {
    // First layer that has a key wins.
    let get = |k: &str| -> Option<(&str, &str)> {
        layers
            .iter()
            .find_map(|l| l.values.get(k).map(|v| (l.origin.as_str(), v.as_str())))
    };
    let mut warnings = Vec::new();
    let default_registry = match get("registry") {
        Some((origin, v)) => parse_registry_url(v, origin)?,
        None => parse_registry_url(DEFAULT_REGISTRY, "default")?,
    };

    let mut scopes = BTreeMap::new();
    let mut auth: Vec<AuthEntry> = Vec::new();
    let mut darts = std::collections::BTreeSet::new();
    for l in &layers {
        for (k, v) in &l.values {
            if let Some(scope) = k.strip_suffix(":registry").filter(|s| s.starts_with('@')) {
                if !scopes.contains_key(scope) {
                    scopes.insert(scope.to_string(), parse_registry_url(v, &l.origin)?);
                }
            } else if k.starts_with("//") {
                if let Some((dart, _field)) = k.rsplit_once(':') {
                    darts.insert(dart.to_string());
                }
            } else if matches!(
                k.as_str(),
                "_authToken" | "_auth" | "username" | "_password"
            ) {
                warnings.push(format!(
                    "{}: top-level {k} is ignored; scope credentials to a registry as //host/path/:{k}",
                    l.origin
                ));
            }
        }
    }
    // Credentials per nerf-dart, each field from the highest-precedence layer.
    for dart in darts {
        let field =
            |f: &str| get(&format!("{dart}:{f}")).map(|(o, v)| (o.to_string(), v.to_string()));
        let nerf = normalise_dart(&dart);
        if let Some((_, token)) = field("_authToken").filter(|(_, v)| !v.is_empty()) {
            auth.push(AuthEntry {
                nerf_dart: nerf,
                credential: Credential::Token(Secret::new(token)),
            });
        } else if let Some((origin, b64)) = field("_auth").filter(|(_, v)| !v.is_empty()) {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|s| {
                    s.split_once(':')
                        .map(|(u, p)| (u.to_string(), p.to_string()))
                })
                .ok_or_else(|| ConfigError {
                    path: origin.clone(),
                    problem: format!("{dart}:_auth is not base64 of user:password"),
                })?;
            auth.push(AuthEntry {
                nerf_dart: nerf,
                credential: Credential::Basic {
                    username: decoded.0,
                    password: Secret::new(decoded.1),
                },
            });
        } else if let (Some((_, user)), Some((origin, pw))) =
            (field("username"), field("_password"))
        {
            let password = base64::engine::general_purpose::STANDARD
                .decode(pw.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| ConfigError {
                    path: origin.clone(),
                    problem: format!("{dart}:_password is not base64"),
                })?;
            auth.push(AuthEntry {
                nerf_dart: nerf,
                credential: Credential::Basic {
                    username: user,
                    password: Secret::new(password),
                },
            });
        }
    }
    auth.sort_by(|a, b| a.nerf_dart.cmp(&b.nerf_dart));

    // CA: `ca`/`ca[]` and `cafile` replace the built-in roots; the first layer that sets any wins.
    let mut ca = Vec::new();
    for l in &layers {
        let mut found = false;
        if let Some(list) = l.arrays.get("ca") {
            ca.extend(list.iter().map(|s| s.replace("\\n", "\n")));
            found = true;
        }
        if let Some(v) = l
            .values
            .get("ca")
            .filter(|v| !v.is_empty() && v.as_str() != "null")
        {
            ca.push(v.replace("\\n", "\n"));
            found = true;
        }
        if let Some(path) = l.values.get("cafile").filter(|v| !v.is_empty()) {
            let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
                path: l.origin.clone(),
                problem: format!("cafile {path}: {e}"),
            })?;
            ca.push(text);
            found = true;
        }
        if found {
            break;
        }
    }
    let mut extra_ca = Vec::new();
    if let Some(path) = env.get("NODE_EXTRA_CA_CERTS").filter(|p| !p.is_empty()) {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            path: "environment".into(),
            problem: format!("NODE_EXTRA_CA_CERTS {path}: {e}"),
        })?;
        extra_ca.push(text);
    }

    let env_any = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| env.get(*n).filter(|v| !v.is_empty()).cloned())
    };
    let proxy_url = |v: Option<(String, String)>| -> Result<Option<Url>, ConfigError> {
        match v {
            None => Ok(None),
            Some((origin, v)) => Url::parse(&v).map(Some).map_err(|e| ConfigError {
                path: origin,
                problem: format!("bad proxy URL: {e}"),
            }),
        }
    };
    let owned = |o: Option<(&str, &str)>| o.map(|(a, b)| (a.to_string(), b.to_string()));
    let https_proxy = proxy_url(
        owned(get("https-proxy"))
            .or_else(|| env_any(&["HTTPS_PROXY", "https_proxy"]).map(|v| ("environment".into(), v)))
            .or_else(|| owned(get("proxy"))),
    )?;
    let http_proxy =
        proxy_url(owned(get("proxy")).or_else(|| {
            env_any(&["HTTP_PROXY", "http_proxy"]).map(|v| ("environment".into(), v))
        }))?;
    let no_proxy = get("noproxy")
        .map(|(_, v)| v.to_string())
        .or_else(|| env_any(&["NO_PROXY", "no_proxy"]));
    let strict_ssl = get("strict-ssl").map(|(_, v)| v != "false").unwrap_or(true);
    if !strict_ssl {
        warnings.push("strict-ssl=false is ignored: TLS is always verified".into());
    }
    for l in &layers {
        for k in l.values.keys() {
            if k.starts_with("//") && !k.contains(':') {
                warnings.push(format!("{}: {k} has no credential field", l.origin));
            }
        }
    }
    Ok(RegistryConfig {
        default_registry,
        scopes,
        auth,
        ca,
        extra_ca,
        https_proxy,
        http_proxy,
        no_proxy,
        strict_ssl,
        warnings,
    })
}

/// `//host/path` → `//host/path/` (lower-case host), as npm normalises nerf-darts.
fn normalise_dart(d: &str) -> String {
    let body = &d[2..];
    let (host, path) = match body.find('/') {
        Some(i) => (&body[..i], &body[i..]),
        None => (body, "/"),
    };
    let mut path = path.to_string();
    if !path.ends_with('/') {
        path.push('/');
    }
    format!("//{}{path}", host.to_ascii_lowercase())
}

fn parse_registry_url(v: &str, origin: &str) -> Result<Url, ConfigError> {
    let mut s = v.trim().to_string();
    if !s.ends_with('/') {
        s.push('/');
    }
    let url = Url::parse(&s).map_err(|e| ConfigError {
        path: origin.to_string(),
        problem: format!(
            "registry URL {:?}: {e}",
            crate::registry::redact::redact_str(v)
        ),
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(ConfigError {
            path: origin.to_string(),
            problem: format!(
                "registry URL {} must be http(s) with a host",
                crate::registry::redact::redact_url(&url)
            ),
        });
    }
    Ok(url)
}

/// Reads an `.npmrc` as UTF-8, refusing one larger than [`MAX_NPMRC_BYTES`].
fn read_npmrc(path: &Path) -> std::io::Result<String> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_NPMRC_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_NPMRC_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than the .npmrc cap of {MAX_NPMRC_BYTES} bytes"
        )));
    }
    String::from_utf8(bytes)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8"))
}

#[cfg(test)]
mod tests;
