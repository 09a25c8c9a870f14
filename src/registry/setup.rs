//! From the command line's registry flags to a ready client: configuration (`--registry`,
//! environment, `.npmrc`), cache (`--cache-dir` or the user's cache directory, read-only with
//! `--offline`), `--concurrency`, `--danger-allow-http`, `--metadata-registry`.

use std::path::PathBuf;
use std::sync::Arc;

use url::Url;

use super::cache::Cache;
use super::client::{ClientOptions, RegistryClient};
use super::config::{ConfigInputs, RegistryConfig};
use super::redact::redact_str;
use super::snapshot::{Recorder, Replay, SnapshotHook};
use crate::cli::RegistryArgs;
use crate::error::AppError;

/// Most requests in flight that `--concurrency` may ask for.
pub const MAX_CONCURRENCY: usize = 256;

/// Everything a command needs to fetch.
pub struct RegistrySetup {
    pub client: Arc<RegistryClient>,
    pub config: RegistryConfig,
    /// `--metadata-registry`, normalised with a trailing `/`.
    pub metadata_registry: Option<Url>,
    /// Settings that were ignored or degraded (never containing secrets); for stderr.
    pub warnings: Vec<String>,
}

/// Builds the client for `args`. `inputs.cli_registry` is taken from `args.registry`.
pub fn setup(args: &RegistryArgs, inputs: ConfigInputs) -> Result<RegistrySetup, AppError> {
    setup_with(args, inputs, None)
}

/// [`setup`], with every answer of the client recorded into `recorder` (`snapshot`).
pub fn setup_recording(
    args: &RegistryArgs,
    inputs: ConfigInputs,
    recorder: Arc<Recorder>,
) -> Result<RegistrySetup, AppError> {
    setup_with(args, inputs, Some(SnapshotHook::Record(recorder)))
}

/// A client that answers only from `replay` (`verify --snapshot`): the snapshot's registry map,
/// no cache, no credentials; it never sends a request.
pub fn setup_replay(replay: Arc<Replay>) -> Result<RegistrySetup, AppError> {
    let config = replay.registry_config()?;
    let metadata_registry = replay.metadata_registry()?;
    let opts = ClientOptions {
        snapshot: Some(SnapshotHook::Replay(replay)),
        ..ClientOptions::default()
    };
    let client = RegistryClient::new(opts, &config)
        .map_err(|e| AppError::Usage(format!("registry client: {e}")))?;
    Ok(RegistrySetup {
        client: Arc::new(client),
        config,
        metadata_registry,
        warnings: Vec::new(),
    })
}

fn setup_with(
    args: &RegistryArgs,
    mut inputs: ConfigInputs,
    snapshot: Option<SnapshotHook>,
) -> Result<RegistrySetup, AppError> {
    inputs.cli_registry = args.registry.clone();
    let config = RegistryConfig::load(&inputs).map_err(|e| AppError::parse(e.path, e.problem))?;
    let mut warnings = config.warnings.clone();

    let metadata_registry = args
        .metadata_registry
        .as_deref()
        .map(|s| {
            let mut s = s.trim().to_string();
            if !s.ends_with('/') {
                s.push('/');
            }
            Url::parse(&s)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
                .ok_or_else(|| {
                    AppError::Usage(format!(
                        "--metadata-registry {}: not an http(s) URL",
                        redact_str(&s)
                    ))
                })
        })
        .transpose()?;

    let mut opts = ClientOptions {
        allow_http: args.danger_allow_http,
        offline: args.offline,
        snapshot,
        ..ClientOptions::default()
    };
    if let Some(n) = args.concurrency {
        if n == 0 || n > MAX_CONCURRENCY {
            return Err(AppError::Usage(format!(
                "--concurrency {n}: must be between 1 and {MAX_CONCURRENCY}"
            )));
        }
        opts.concurrency = n;
    }
    opts.cache = match &args.cache_dir {
        Some(dir) => Some(
            Cache::open(dir, args.offline).map_err(|source| AppError::Write {
                path: dir.clone(),
                source,
            })?,
        ),
        None => default_cache(&inputs, args.offline, &mut warnings),
    };
    let client = RegistryClient::new(opts, &config)
        .map_err(|e| AppError::Usage(format!("registry client: {e}")))?;
    Ok(RegistrySetup {
        client: Arc::new(client),
        config,
        metadata_registry,
        warnings,
    })
}

/// The async runtime the commands run the client on: two worker threads are plenty for I/O
/// bound work on the machines this runs on (the client bounds requests in flight itself).
pub fn runtime() -> Result<tokio::runtime::Runtime, AppError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| AppError::Usage(format!("cannot start the async runtime: {e}")))
}

/// The user's cache directory; a failure to create it costs only the cache.
fn default_cache(
    inputs: &ConfigInputs,
    offline: bool,
    warnings: &mut Vec<String>,
) -> Option<Cache> {
    let dir: PathBuf = Cache::default_dir(&inputs.env, inputs.home.as_deref())?;
    match Cache::open(&dir, offline) {
        Ok(c) => Some(c),
        Err(e) => {
            warnings.push(format!(
                "cache {} unusable ({e}); running without a cache",
                dir.display()
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> RegistryArgs {
        RegistryArgs {
            registry: None,
            metadata_registry: None,
            offline: false,
            cache_dir: None,
            concurrency: None,
            danger_allow_http: false,
        }
    }

    fn tmp(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("npmprov-setup-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn flags_shape_the_client() {
        let d = tmp("flags");
        let mut a = args();
        a.registry = Some("https://r.example/npm".into());
        a.metadata_registry = Some("https://registry.npmjs.org".into());
        a.cache_dir = Some(d.join("cache"));
        a.concurrency = Some(4);
        let s = setup(&a, ConfigInputs::default()).unwrap();
        assert_eq!(s.config.default_registry.as_str(), "https://r.example/npm/");
        assert_eq!(
            s.metadata_registry.unwrap().as_str(),
            "https://registry.npmjs.org/"
        );
        assert!(d.join("cache/v1").is_dir());
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn runtime_runs_the_client() {
        let rt = runtime().unwrap();
        let s = setup(&args(), ConfigInputs::default()).unwrap();
        let e = rt
            .block_on(s.client.get(
                &Url::parse("http://registry.example/x").unwrap(),
                super::super::Accept::Json,
                super::super::ResourceKind::Packument,
            ))
            .unwrap_err();
        assert_eq!(e.reason, super::super::FetchFailure::Insecure);
    }

    #[test]
    fn offline_creates_no_cache_directory() {
        let d = tmp("offline");
        let mut a = args();
        a.offline = true;
        a.cache_dir = Some(d.join("cache"));
        setup(&a, ConfigInputs::default()).unwrap();
        assert!(!d.exists());
    }

    #[test]
    fn bad_flags_are_usage_errors() {
        let mut a = args();
        a.concurrency = Some(0);
        assert!(matches!(
            setup(&a, ConfigInputs::default()),
            Err(AppError::Usage(_))
        ));
        let mut a = args();
        a.metadata_registry = Some("ftp://u:secret@x/".into());
        let Err(AppError::Usage(m)) = setup(&a, ConfigInputs::default()) else {
            panic!("accepted a bad --metadata-registry");
        };
        assert!(!m.contains("secret"), "{m}");
    }

    #[test]
    fn config_errors_name_the_file() {
        let d = tmp("npmrc");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(".npmrc"), "//r.example/:_authToken=${UNSET_VAR_X}\n").unwrap();
        let inputs = ConfigInputs {
            project_dir: Some(d.clone()),
            ..ConfigInputs::default()
        };
        let Err(AppError::Parse { path, problem }) = setup(&args(), inputs) else {
            panic!("accepted an unset variable");
        };
        assert!(path.to_string_lossy().ends_with(".npmrc:1"));
        assert!(problem.contains("UNSET_VAR_X"));
        let _ = std::fs::remove_dir_all(&d);
    }
}
