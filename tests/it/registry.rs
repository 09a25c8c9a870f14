//! The registry client against the fixture registry: cache reuse across runs (request log),
//! credentials only to their origin (header log), offline mode, revalidation, corrupt cache
//! entries, abbreviated vs full documents, bounded concurrency.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use npm_provenance::registry::cache::Cache;
use npm_provenance::registry::config::{ConfigInputs, RegistryConfig};
use npm_provenance::registry::{
    Accept, ClientOptions, FetchFailure, RegistryClient, ResourceKind, SizeCaps,
};
use npm_provenance_testkit::corpus::corpus_dir;
use npm_provenance_testkit::fixture_registry::{load_corpus, Fault, FixtureRegistry};
use url::Url;

mod plan;
mod transport;

/// A fresh, empty temporary directory (removed on drop).
pub(crate) struct TempDir(pub PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "npmprov-it-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Options for tests: short timeouts and waits, small caps.
pub(crate) fn test_options(cache: Option<Cache>) -> ClientOptions {
    ClientOptions {
        concurrency: 8,
        timeout: Duration::from_millis(1500),
        retries: 2,
        retry_budget: 100,
        backoff: Duration::from_millis(5),
        max_wait: Duration::from_millis(50),
        size_caps: SizeCaps {
            packument: 8 * 1024 * 1024,
            attestations: 1024 * 1024,
            keys: 64 * 1024,
            tarball: 8 * 1024 * 1024,
        },
        allow_http: false,
        cache,
        offline: false,
        max_redirects: 5,
        snapshot: None,
    }
}

/// A configuration whose default registry is `registry` (as `--registry`), nothing else.
pub(crate) fn config_for(registry: &str) -> RegistryConfig {
    RegistryConfig::load(&ConfigInputs {
        cli_registry: Some(registry.to_string()),
        ..ConfigInputs::default()
    })
    .unwrap()
}

pub(crate) fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
}

pub(crate) const ATTESTATIONS: &[u8] =
    br#"{"attestations":[{"predicateType":"https://slsa.dev/provenance/v1","bundle":{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}}]}"#;
pub(crate) const PACKUMENT: &[u8] =
    br#"{"name":"pkg","versions":{"1.0.0":{"name":"pkg","version":"1.0.0","dist":{"integrity":"sha512-x"}}},"time":{"1.0.0":"2024-01-01T00:00:00.000Z"}}"#;
pub(crate) const PACKUMENT_ABBR: &[u8] =
    br#"{"name":"pkg","versions":{"1.0.0":{"name":"pkg","version":"1.0.0","dist":{"integrity":"sha512-x"}}}}"#;

/// A registry with one package `pkg@1.0.0` (packument in both forms and attestations).
pub(crate) fn small_registry() -> FixtureRegistry {
    let reg = FixtureRegistry::start();
    reg.add_packument("pkg", PACKUMENT.to_vec(), Some(PACKUMENT_ABBR.to_vec()));
    reg.add_attestations("pkg", "1.0.0", ATTESTATIONS.to_vec());
    reg
}

/// Every file under `dir` with its bytes, sorted (to compare cache contents).
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn second_run_is_served_from_the_cache() {
    let Some(corpus) = corpus_dir("second_run_is_served_from_the_cache") else {
        return;
    };
    let reg = FixtureRegistry::start();
    let pkgs = load_corpus(&reg, &corpus).unwrap();
    let tmp = TempDir::new("second-run");
    let config = config_for(&reg.url());

    let run = |expect_cached: bool| {
        let client = RegistryClient::new(
            test_options(Some(Cache::open(tmp.path(), false).unwrap())),
            &config,
        )
        .unwrap();
        let pkgs = pkgs.clone();
        let reg_url = reg.url();
        async move {
            let mut names: Vec<&str> = pkgs.iter().map(|p| p.name).collect();
            names.push("nuxt");
            names.sort();
            names.dedup();
            let mut bodies = Vec::new();
            for name in names {
                for accept in [Accept::Abbreviated, Accept::Json] {
                    let u = url(&format!("{reg_url}{}", name.replacen('/', "%2f", 1)));
                    let f = client
                        .get(&u, accept, ResourceKind::Packument)
                        .await
                        .unwrap();
                    assert_eq!(f.from_cache, expect_cached, "{name}");
                    bodies.push(f.bytes);
                }
            }
            for p in &pkgs {
                let u = url(&format!(
                    "{reg_url}-/npm/v1/attestations/{}@{}",
                    p.name, p.version
                ));
                let f = client
                    .get(&u, Accept::Json, ResourceKind::Attestations)
                    .await
                    .unwrap();
                assert_eq!(f.from_cache, expect_cached);
                bodies.push(f.bytes);
            }
            let k = client
                .get(
                    &url(&format!("{reg_url}-/npm/v1/keys")),
                    Accept::Json,
                    ResourceKind::Keys,
                )
                .await
                .unwrap();
            bodies.push(k.bytes);
            bodies
        }
    };

    let first = run(false).await;
    let first_log = reg.requests();
    assert!(first_log
        .iter()
        .all(|r| !r.is_conditional() && r.status == 200));
    assert!(reg.count("/-/npm/v1/attestations/") >= pkgs.len());
    reg.clear_log();

    let second = run(true).await;
    assert_eq!(first, second, "the cache returns the same bytes");
    let log = reg.requests();
    assert_eq!(
        log.iter()
            .filter(|r| r.path.contains("/attestations/"))
            .count(),
        0,
        "attestations are immutable: no request on the second run"
    );
    assert!(!log.is_empty());
    for r in &log {
        assert!(
            r.is_conditional(),
            "unconditional request on second run: {}",
            r.path
        );
        assert_eq!(r.status, 304, "{}", r.path);
    }
    // Abbreviated and full packuments are distinct cache entries (nuxt: the real packument,
    // third name in sorted order).
    let abbr = &first[4];
    let full = &first[5];
    assert!(String::from_utf8_lossy(full).contains("\"time\""));
    assert_ne!(abbr, full);
    assert!(!String::from_utf8_lossy(abbr).contains("\"time\""));
}

#[tokio::test]
async fn tokens_reach_only_their_host_and_not_across_redirects() {
    let a = small_registry();
    let b = small_registry();
    let port_a = a.addr().port();
    let tmp = TempDir::new("tokens");
    std::fs::create_dir_all(tmp.path().join("project")).unwrap();
    std::fs::write(
        tmp.path().join("project/.npmrc"),
        format!(
            "registry=http://127.0.0.1:{port_a}/\n//127.0.0.1:{port_a}/:_authToken=${{A_TOKEN}}\n"
        ),
    )
    .unwrap();
    let config = RegistryConfig::load(&ConfigInputs {
        env: [("A_TOKEN".to_string(), "tok-A-secret".to_string())].into(),
        project_dir: Some(tmp.path().join("project")),
        ..ConfigInputs::default()
    })
    .unwrap();
    let cache_dir = tmp.path().join("cache");
    let client = RegistryClient::new(
        test_options(Some(Cache::open(&cache_dir, false).unwrap())),
        &config,
    )
    .unwrap();

    // Direct request to A: the token goes.
    client
        .get(
            &url(&a.packument_url("pkg")),
            Accept::Json,
            ResourceKind::Packument,
        )
        .await
        .unwrap();
    // Direct request to B (no credential configured for it): nothing goes.
    client
        .get(
            &url(&b.packument_url("pkg")),
            Accept::Json,
            ResourceKind::Packument,
        )
        .await
        .unwrap();
    // A redirects attestations to B: followed, without the token.
    a.fault("/attestations/", Fault::RedirectTo(b.url()));
    let f = client
        .get(
            &url(&a.attestations_url("pkg", "1.0.0")),
            Accept::Json,
            ResourceKind::Attestations,
        )
        .await
        .unwrap();
    assert_eq!(&f.bytes[..], ATTESTATIONS);
    a.clear_faults();
    // A same-origin redirect keeps it.
    a.fault_times("/pkg", Fault::RedirectTo(a.url()), 1);
    client
        .get(
            &url(&a.packument_url("pkg")),
            Accept::Abbreviated,
            ResourceKind::Packument,
        )
        .await
        .unwrap();

    let a_log = a.requests();
    assert_eq!(a_log.len(), 4);
    for r in &a_log {
        assert_eq!(
            r.header("authorization"),
            Some("Bearer tok-A-secret"),
            "{}",
            r.path
        );
    }
    let b_log = b.requests();
    assert_eq!(b_log.len(), 2, "direct + redirected");
    for r in &b_log {
        assert_eq!(
            r.header("authorization"),
            None,
            "token leaked to B: {}",
            r.path
        );
    }
    assert!(b_log.iter().any(|r| r.path.contains("/attestations/")));

    // Nothing in the cache mentions the token.
    for (p, bytes) in snapshot(&cache_dir) {
        assert!(
            !String::from_utf8_lossy(&bytes).contains("tok-A-secret"),
            "{}",
            p.display()
        );
    }
    // Errors never carry userinfo.
    let e = client
        .get(
            &url(&format!("http://user:pw-secret@127.0.0.1:{port_a}/nope")),
            Accept::Json,
            ResourceKind::Packument,
        )
        .await
        .unwrap_err();
    assert_eq!(e.reason, FetchFailure::NotFound);
    assert!(!e.to_string().contains("pw-secret"), "{e}");
    assert!(!e.finding().message.contains("pw-secret"));
}

#[tokio::test]
async fn offline_reads_only_the_cache_and_writes_nothing() {
    let reg = small_registry();
    let tmp = TempDir::new("offline");
    let config = config_for(&reg.url());
    let online = RegistryClient::new(
        test_options(Some(Cache::open(tmp.path(), false).unwrap())),
        &config,
    )
    .unwrap();
    let pack = url(&reg.packument_url("pkg"));
    online
        .get(&pack, Accept::Json, ResourceKind::Packument)
        .await
        .unwrap();
    let before = snapshot(tmp.path());
    reg.clear_log();

    let mut opts = test_options(Some(Cache::open(tmp.path(), true).unwrap()));
    opts.offline = true;
    let offline = RegistryClient::new(opts, &config).unwrap();
    let f = offline
        .get(&pack, Accept::Json, ResourceKind::Packument)
        .await
        .unwrap();
    assert!(f.from_cache);
    assert_eq!(&f.bytes[..], PACKUMENT);
    let e = offline
        .get(
            &url(&reg.attestations_url("pkg", "1.0.0")),
            Accept::Json,
            ResourceKind::Attestations,
        )
        .await
        .unwrap_err();
    assert_eq!(e.reason, FetchFailure::Offline);
    assert_eq!(e.finding().code, "unverifiable");
    // A variant never fetched is missing too.
    let e = offline
        .get(&pack, Accept::Abbreviated, ResourceKind::Packument)
        .await
        .unwrap_err();
    assert_eq!(e.reason, FetchFailure::Offline);
    assert!(reg.requests().is_empty(), "offline sent a request");
    assert_eq!(before, snapshot(tmp.path()), "offline wrote to the cache");

    // Offline with a cache directory that does not exist: nothing is created.
    let missing = tmp.path().join("absent");
    let mut opts = test_options(Some(Cache::open(&missing, true).unwrap()));
    opts.offline = true;
    let c = RegistryClient::new(opts, &config).unwrap();
    assert!(c
        .get(&pack, Accept::Json, ResourceKind::Packument)
        .await
        .is_err());
    assert!(!missing.exists());
}

#[tokio::test]
async fn changed_documents_are_refetched_and_corrupt_entries_dropped() {
    let reg = small_registry();
    let tmp = TempDir::new("revalidate");
    let config = config_for(&reg.url());
    let client = RegistryClient::new(
        test_options(Some(Cache::open(tmp.path(), false).unwrap())),
        &config,
    )
    .unwrap();
    let pack = url(&reg.packument_url("pkg"));
    client
        .get(&pack, Accept::Json, ResourceKind::Packument)
        .await
        .unwrap();
    let v2 = br#"{"name":"pkg","versions":{"1.0.0":{},"1.0.1":{}}}"#.to_vec();
    reg.add_packument("pkg", v2.clone(), None);
    let f = client
        .get(&pack, Accept::Json, ResourceKind::Packument)
        .await
        .unwrap();
    assert!(!f.from_cache);
    assert_eq!(&f.bytes[..], &v2[..]);
    let last = reg.requests().pop().unwrap();
    assert!(last.is_conditional() && last.status == 200);

    // Corrupt every cache file: the next fetch is unconditional and succeeds.
    for (p, mut bytes) in snapshot(tmp.path()) {
        let n = bytes.len();
        bytes[n - 1] ^= 0x55;
        std::fs::write(p, bytes).unwrap();
    }
    reg.clear_log();
    let f = client
        .get(&pack, Accept::Json, ResourceKind::Packument)
        .await
        .unwrap();
    assert!(!f.from_cache);
    assert_eq!(&f.bytes[..], &v2[..]);
    assert!(!reg.requests()[0].is_conditional());
}

#[tokio::test]
async fn not_found_is_data_not_retried_not_cached() {
    let reg = small_registry();
    let tmp = TempDir::new("404");
    let client = RegistryClient::new(
        test_options(Some(Cache::open(tmp.path(), false).unwrap())),
        &config_for(&reg.url()),
    )
    .unwrap();
    let u = url(&reg.attestations_url("pkg", "9.9.9"));
    for _ in 0..2 {
        let e = client
            .get(&u, Accept::Json, ResourceKind::Attestations)
            .await
            .unwrap_err();
        assert_eq!(e.reason, FetchFailure::NotFound);
    }
    assert_eq!(
        reg.count("9.9.9"),
        2,
        "one request each, no retry, no cached 404"
    );
    // Published later: seen at once.
    reg.add_attestations("pkg", "9.9.9", ATTESTATIONS.to_vec());
    assert!(client
        .get(&u, Accept::Json, ResourceKind::Attestations)
        .await
        .is_ok());
}

#[tokio::test]
async fn plain_http_only_to_loopback() {
    let client =
        RegistryClient::new(test_options(None), &config_for("https://registry.example/")).unwrap();
    let e = client
        .get(
            &url("http://registry.example/pkg"),
            Accept::Json,
            ResourceKind::Packument,
        )
        .await
        .unwrap_err();
    assert_eq!(e.reason, FetchFailure::Insecure);
    assert_eq!(client.stats().requests, 0);
    // A redirect from loopback to plain http elsewhere is refused too.
    let reg = small_registry();
    reg.fault("/pkg", Fault::RedirectTo("http://registry.example".into()));
    let e = client
        .get(
            &url(&reg.packument_url("pkg")),
            Accept::Json,
            ResourceKind::Packument,
        )
        .await
        .unwrap_err();
    assert_eq!(e.reason, FetchFailure::Insecure);
}

#[tokio::test]
async fn concurrency_is_bounded() {
    let reg = small_registry();
    reg.set_latency(Duration::from_millis(150));
    let mut opts = test_options(None);
    opts.concurrency = 2;
    let client = Arc::new(RegistryClient::new(opts, &config_for(&reg.url())).unwrap());
    let start = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let c = client.clone();
        let u = url(&reg.packument_url("pkg"));
        set.spawn(async move { c.get(&u, Accept::Json, ResourceKind::Packument).await });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap().unwrap();
    }
    // 6 requests, 2 at a time, 150 ms each: at least 3 rounds.
    assert!(
        start.elapsed() >= Duration::from_millis(440),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(reg.count("/pkg"), 6);
}

#[tokio::test]
async fn tokens_stay_within_their_path_scope_on_redirects() {
    let reg = FixtureRegistry::start();
    let port = reg.addr().port();
    reg.add_raw("/npm/pkg", "application/json", PACKUMENT.to_vec());
    reg.add_raw("/other/pkg", "application/json", PACKUMENT.to_vec());
    reg.fault(
        "/npm/pkg",
        Fault::RedirectToUrl(format!("http://127.0.0.1:{port}/other/pkg")),
    );
    let config = RegistryConfig::load(&ConfigInputs {
        cli_registry: Some(format!("http://127.0.0.1:{port}/npm/")),
        env: [(
            format!("npm_config_//127.0.0.1:{port}/npm/:_authToken"),
            "scoped-token".to_string(),
        )]
        .into(),
        ..ConfigInputs::default()
    })
    .unwrap();
    let client = RegistryClient::new(test_options(None), &config).unwrap();
    let f = client
        .get(
            &url(&format!("http://127.0.0.1:{port}/npm/pkg")),
            Accept::Json,
            ResourceKind::Packument,
        )
        .await
        .unwrap();
    assert_eq!(&f.bytes[..], PACKUMENT);
    let log = reg.requests();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].path, "/npm/pkg");
    assert_eq!(log[0].header("authorization"), Some("Bearer scoped-token"));
    assert_eq!(log[1].path, "/other/pkg");
    assert_eq!(log[1].header("authorization"), None);
}

/// `Cache-Control: max-age` (as the public registry sends with packuments): a packument is
/// served from the cache without a request while fresh, for at most `MAX_FRESHNESS` whatever
/// the registry says; `no-cache` (or no header) revalidates every time; a 304 makes the entry
/// fresh again.
#[tokio::test]
async fn fresh_packuments_are_not_asked_again_within_max_age() {
    use npm_provenance::registry::client::MAX_FRESHNESS;
    let reg = FixtureRegistry::start();
    reg.add_packument("p", br#"{"name":"p","versions":{}}"#.to_vec(), None);
    let tmp = TempDir::new("fresh");
    let config = config_for(&reg.url());
    let u = url(&format!("{}p", reg.url()));
    let get = || async {
        let client = RegistryClient::new(
            test_options(Some(Cache::open(tmp.path(), false).unwrap())),
            &config,
        )
        .unwrap();
        client
            .get(&u, Accept::Json, ResourceKind::Packument)
            .await
            .unwrap()
            .from_cache
    };
    // No header: every run revalidates.
    assert!(!get().await);
    assert!(get().await);
    assert_eq!(reg.count("/p"), 2);
    assert!(reg.requests()[1].is_conditional());

    // max-age far beyond the cap: the 304 makes the entry fresh, for MAX_FRESHNESS at most.
    reg.set_cache_control(Some("public, max-age=86400"));
    reg.clear_log();
    assert!(get().await);
    assert_eq!(reg.count("/p"), 1, "revalidated once");
    assert!(get().await);
    assert!(get().await);
    assert_eq!(reg.count("/p"), 1, "served fresh without a request");
    let stored = snapshot(tmp.path())
        .into_iter()
        .find_map(|(_, bytes)| {
            let text = String::from_utf8_lossy(&bytes).to_string();
            let start = text.find("{\"url\"")?;
            let line = text[start..].lines().next()?.to_string();
            serde_json::from_str::<serde_json::Value>(&line).ok()
        })
        .expect("a cache entry");
    let until = stored["fresh_until"].as_i64().unwrap();
    let now = jiff::Timestamp::now().as_second();
    assert!(
        until <= now + MAX_FRESHNESS.as_secs() as i64,
        "capped: {until} vs {now}"
    );
    assert!(until > now + 60, "fresh for the cap: {until} vs {now}");

    // no-cache: a fresh fetch sets no freshness; the next run asks again.
    reg.set_cache_control(Some("max-age=300, no-cache"));
    let tmp2 = TempDir::new("fresh-no-cache");
    reg.clear_log();
    for _ in 0..2 {
        let client = RegistryClient::new(
            test_options(Some(Cache::open(tmp2.path(), false).unwrap())),
            &config,
        )
        .unwrap();
        client
            .get(&u, Accept::Json, ResourceKind::Packument)
            .await
            .unwrap();
    }
    assert_eq!(reg.count("/p"), 2);
}
