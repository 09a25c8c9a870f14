//! TLS with the configured CA, proxies, and bad CA material.

use std::path::Path;

use npm_provenance::registry::config::{ConfigInputs, RegistryConfig};
use npm_provenance::registry::{Accept, FetchFailure, RegistryClient, ResourceKind};
use npm_provenance_testkit::fixture_registry::FixtureRegistry;

use super::{config_for, small_registry, test_options, url, TempDir, PACKUMENT};

#[tokio::test]
async fn proxy_settings_route_requests_and_no_proxy_bypasses() {
    // The fixture registry doubles as an HTTP proxy (it serves absolute-form requests).
    let proxy = small_registry();
    let tmp = TempDir::new("proxy");
    // Nothing listens on the target: only the proxy can answer.
    let target = "http://127.0.0.1:9/";
    let load = |env: &[(&str, String)]| {
        RegistryConfig::load(&ConfigInputs {
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            project_dir: Some(tmp.path().to_path_buf()),
            cli_registry: Some(target.into()),
            ..ConfigInputs::default()
        })
        .unwrap()
    };
    let via_env = load(&[("HTTP_PROXY", proxy.url())]);
    let client = RegistryClient::new(test_options(None), &via_env).unwrap();
    let f = client
        .get(
            &url(&format!("{target}pkg")),
            Accept::Json,
            ResourceKind::Packument,
        )
        .await
        .unwrap();
    assert_eq!(&f.bytes[..], PACKUMENT);
    let log = proxy.requests();
    assert_eq!(log.len(), 1);
    assert!(log[0].proxied && log[0].path == "/pkg");

    // npm's `proxy=` in .npmrc, with `noproxy=` naming the target host: direct, refused.
    std::fs::write(
        tmp.path().join(".npmrc"),
        format!("proxy={}\nnoproxy=127.0.0.1\n", proxy.url()),
    )
    .unwrap();
    let bypass = load(&[]);
    let client = RegistryClient::new(test_options(None), &bypass).unwrap();
    let e = client
        .get(
            &url(&format!("{target}pkg")),
            Accept::Json,
            ResourceKind::Packument,
        )
        .await
        .unwrap_err();
    assert_eq!(e.reason, FetchFailure::Connection);
    assert_eq!(
        proxy.requests().len(),
        1,
        "noproxy host went through the proxy"
    );
}

#[tokio::test]
async fn https_with_the_configured_ca() {
    let reg = FixtureRegistry::start_tls();
    reg.add_packument("pkg", PACKUMENT.to_vec(), None);
    let tmp = TempDir::new("tls");
    let ca = tmp.path().join("ca.pem");
    std::fs::write(&ca, reg.ca_pem().unwrap()).unwrap();
    let u = url(&reg.packument_url("pkg"));
    assert_eq!(u.scheme(), "https");
    let load = |npmrc: &str, env: &[(&str, &Path)]| {
        std::fs::write(tmp.path().join(".npmrc"), npmrc).unwrap();
        RegistryConfig::load(&ConfigInputs {
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.display().to_string()))
                .collect(),
            project_dir: Some(tmp.path().to_path_buf()),
            ..ConfigInputs::default()
        })
        .unwrap()
    };

    // Not trusted by the built-in roots: refused.
    let plain = load("", &[]);
    let client = RegistryClient::new(test_options(None), &plain).unwrap();
    let e = client
        .get(&u, Accept::Json, ResourceKind::Packument)
        .await
        .unwrap_err();
    assert_eq!(e.reason, FetchFailure::Connection);

    // `cafile=` (replaces the roots) and NODE_EXTRA_CA_CERTS (adds to them) both work.
    for config in [
        load(&format!("cafile={}\n", ca.display()), &[]),
        load("", &[("NODE_EXTRA_CA_CERTS", ca.as_path())]),
    ] {
        let client = RegistryClient::new(test_options(None), &config).unwrap();
        let f = client
            .get(&u, Accept::Json, ResourceKind::Packument)
            .await
            .unwrap();
        assert_eq!(&f.bytes[..], PACKUMENT);
    }
    // `strict-ssl=false` does not weaken anything.
    let lax = load("strict-ssl=false\n", &[]);
    let client = RegistryClient::new(test_options(None), &lax).unwrap();
    assert!(client
        .get(&u, Accept::Json, ResourceKind::Packument)
        .await
        .is_err());
}

#[test]
fn bad_ca_material_is_a_client_error() {
    let mut config = config_for("https://registry.example/");
    config.ca = vec!["not a certificate".into()];
    let e = RegistryClient::new(test_options(None), &config)
        .err()
        .expect("bad CA accepted");
    assert!(e.to_string().contains("CA certificate"), "{e}");
}
