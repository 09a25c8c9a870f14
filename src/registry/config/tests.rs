//! `.npmrc` parsing and merging: precedence, scopes, nerf-darts, `${ENV}` expansion, `_auth`,
//! `username`/`_password`, CA and proxy settings, and that secrets never print.

use super::*;

struct Fixture {
    dir: PathBuf,
}

impl Fixture {
    fn new(tag: &str) -> Fixture {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "npmprov-npmrc-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("home")).unwrap();
        std::fs::create_dir_all(dir.join("project")).unwrap();
        Fixture { dir }
    }
    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.dir.join(rel);
        std::fs::write(&p, text).unwrap();
        p
    }
    fn inputs(&self, env: &[(&str, &str)]) -> ConfigInputs {
        ConfigInputs {
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            home: Some(self.dir.join("home")),
            project_dir: Some(self.dir.join("project")),
            cli_registry: None,
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
}

#[test]
fn defaults_to_the_public_registry() {
    let f = Fixture::new("default");
    let c = RegistryConfig::load(&f.inputs(&[])).unwrap();
    assert_eq!(c.default_registry.as_str(), DEFAULT_REGISTRY);
    assert!(c.scopes.is_empty() && c.auth.is_empty() && c.ca.is_empty());
    assert!(c.strict_ssl);
}

#[test]
fn precedence_cli_env_project_user_global() {
    let f = Fixture::new("prec");
    let global = f.write(
        "npmrc-global",
        "registry=https://global.example/\n@g:registry=https://g.example/\n",
    );
    f.write(
        "home/.npmrc",
        "registry=https://user.example/\n@u:registry=https://u.example\n",
    );
    f.write("project/.npmrc", "registry=https://project.example/\n");
    let g = global.to_string_lossy().into_owned();
    let c = RegistryConfig::load(&f.inputs(&[("npm_config_globalconfig", &g)])).unwrap();
    assert_eq!(c.default_registry.as_str(), "https://project.example/");
    assert_eq!(c.scopes["@u"].as_str(), "https://u.example/");
    assert_eq!(c.scopes["@g"].as_str(), "https://g.example/");
    assert_eq!(c.registry_for("@u/pkg").as_str(), "https://u.example/");
    assert_eq!(
        c.registry_for("@other/pkg").as_str(),
        "https://project.example/"
    );
    assert_eq!(c.registry_for("plain").as_str(), "https://project.example/");

    let c = RegistryConfig::load(&f.inputs(&[
        ("NPM_CONFIG_REGISTRY", "https://env.example"),
        ("npm_config_@u:registry", "https://u-env.example/"),
    ]))
    .unwrap();
    assert_eq!(c.default_registry.as_str(), "https://env.example/");
    assert_eq!(c.scopes["@u"].as_str(), "https://u-env.example/");

    let mut i = f.inputs(&[("npm_config_registry", "https://env.example")]);
    i.cli_registry = Some("https://cli.example/npm".into());
    let c = RegistryConfig::load(&i).unwrap();
    assert_eq!(c.default_registry.as_str(), "https://cli.example/npm/");
}

#[test]
fn nerf_dart_tokens_with_env_expansion() {
    let f = Fixture::new("nerf");
    f.write(
        "project/.npmrc",
        "; comment\n# another\n//npm.corp.example/repo/:_authToken=${CORP_TOKEN}\n//other.example/:_authToken=\"lit\\\"eral\"\n",
    );
    let c = RegistryConfig::load(&f.inputs(&[("CORP_TOKEN", "tok-123")])).unwrap();
    let a = c
        .auth_for(&url("https://npm.corp.example/repo/@s%2fp"))
        .unwrap();
    assert_eq!(a.nerf_dart, "//npm.corp.example/repo/");
    assert_eq!(a.credential.header_value(), "Bearer tok-123");
    // Deeper paths walk up to the configured dart.
    assert!(c
        .auth_for(&url(
            "https://npm.corp.example/repo/-/npm/v1/attestations/x@1"
        ))
        .is_some());
    // Not above it, not another host, not another port.
    assert!(c.auth_for(&url("https://npm.corp.example/pkg")).is_none());
    assert!(c.auth_for(&url("https://evil.example/repo/pkg")).is_none());
    assert!(c
        .auth_for(&url("https://npm.corp.example:8443/repo/pkg"))
        .is_none());
    let o = c.auth_for(&url("https://other.example/x")).unwrap();
    assert_eq!(o.credential.header_value(), "Bearer lit\"eral");
}

#[test]
fn unset_env_is_an_error_unless_optional() {
    let f = Fixture::new("unset");
    f.write("project/.npmrc", "//r.example/:_authToken=${NOPE}\n");
    let e = RegistryConfig::load(&f.inputs(&[])).unwrap_err();
    assert!(e.path.ends_with(".npmrc:1"), "{e}");
    assert!(e.problem.contains("NOPE"));
    f.write(
        "project/.npmrc",
        "//r.example/:_authToken=${NOPE?}\nregistry=\\${LIT}x\n",
    );
    let r = RegistryConfig::load(&f.inputs(&[]));
    // `${NOPE?}` expands to nothing (no credential); `\${LIT}` stays literal, which is no URL.
    let e = r.unwrap_err();
    assert!(e.problem.contains("registry URL"), "{e}");
}

#[test]
fn basic_auth_forms() {
    let f = Fixture::new("basic");
    let b64 = base64::engine::general_purpose::STANDARD;
    f.write(
        "home/.npmrc",
        &format!(
            "//a.example/:_auth={}\n//b.example/npm/:username=bob\n//b.example/npm/:_password={}\n",
            b64.encode("alice:pw1"),
            b64.encode("pw2")
        ),
    );
    let c = RegistryConfig::load(&f.inputs(&[])).unwrap();
    let a = c.auth_for(&url("https://a.example/pkg")).unwrap();
    assert_eq!(
        a.credential,
        Credential::Basic {
            username: "alice".into(),
            password: Secret::new("pw1")
        }
    );
    assert_eq!(
        a.credential.header_value(),
        format!("Basic {}", b64.encode("alice:pw1"))
    );
    let b = c.auth_for(&url("https://b.example/npm/pkg")).unwrap();
    assert_eq!(
        b.credential.header_value(),
        format!("Basic {}", b64.encode("bob:pw2"))
    );
    f.write("home/.npmrc", "//a.example/:_auth=!!notbase64\n");
    assert!(RegistryConfig::load(&f.inputs(&[])).is_err());
}

#[test]
fn secrets_never_print() {
    let f = Fixture::new("debug");
    f.write(
        "project/.npmrc",
        "//r.example/:_authToken=supersecret\n//s.example/:_auth=dXNlcjpoaWRkZW5wdw==\n",
    );
    let c = RegistryConfig::load(&f.inputs(&[])).unwrap();
    let dbg = format!("{c:?}");
    assert!(!dbg.contains("supersecret"), "{dbg}");
    assert!(!dbg.contains("hiddenpw"), "{dbg}");
    assert!(dbg.contains("<redacted>"));
}

#[test]
fn top_level_tokens_are_ignored_with_a_warning() {
    let f = Fixture::new("toplevel");
    f.write("project/.npmrc", "_authToken=abc\n");
    let c = RegistryConfig::load(&f.inputs(&[])).unwrap();
    assert!(c.auth.is_empty());
    assert!(c.warnings.iter().any(|w| w.contains("_authToken")));
    assert!(!c.warnings.iter().any(|w| w.contains("abc")));
}

#[test]
fn ca_proxy_and_strict_ssl() {
    let f = Fixture::new("ca");
    let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    let cafile = f.write("ca.pem", pem);
    let extra = f.write("extra.pem", pem);
    f.write(
        "project/.npmrc",
        &format!(
            "cafile={}\nhttps-proxy=http://proxy.example:3128\nnoproxy=localhost,.corp\nstrict-ssl=false\n",
            cafile.display()
        ),
    );
    let c = RegistryConfig::load(&f.inputs(&[
        ("NODE_EXTRA_CA_CERTS", &extra.to_string_lossy()),
        ("HTTP_PROXY", "http://envproxy.example:8080"),
    ]))
    .unwrap();
    assert_eq!(c.ca, vec![pem.to_string()]);
    assert_eq!(c.extra_ca, vec![pem.to_string()]);
    assert_eq!(
        c.https_proxy.unwrap().as_str(),
        "http://proxy.example:3128/"
    );
    assert_eq!(
        c.http_proxy.unwrap().as_str(),
        "http://envproxy.example:8080/"
    );
    assert_eq!(c.no_proxy.as_deref(), Some("localhost,.corp"));
    assert!(!c.strict_ssl);
    assert!(c.warnings.iter().any(|w| w.contains("strict-ssl")));

    f.write("project/.npmrc", "ca[]=\"AAA\"\nca[]=\"BBB\"\n");
    let c = RegistryConfig::load(&f.inputs(&[])).unwrap();
    assert_eq!(c.ca, vec!["AAA".to_string(), "BBB".to_string()]);

    f.write("project/.npmrc", "cafile=/no/such/file.pem\n");
    let e = RegistryConfig::load(&f.inputs(&[])).unwrap_err();
    assert!(e.problem.contains("/no/such/file.pem"));
}

#[test]
fn registry_urls_are_validated_and_redacted() {
    let f = Fixture::new("badurl");
    f.write("project/.npmrc", "registry=ftp://user:pw@r.example/\n");
    let e = RegistryConfig::load(&f.inputs(&[])).unwrap_err();
    assert!(!e.to_string().contains("pw@"), "{e}");
    assert!(e.problem.contains("http(s)"));
}

#[test]
fn nerf_dart_of_urls() {
    assert_eq!(
        nerf_dart(&url("https://u:p@Registry.Example:8443/a/b?q=1")).unwrap(),
        "//registry.example:8443/a/"
    );
    assert_eq!(
        nerf_dart(&url("https://registry.npmjs.org/")).unwrap(),
        "//registry.npmjs.org/"
    );
}

#[test]
fn arbitrary_npmrc_text_never_panics() {
    // Deterministic pseudo-random .npmrc files over the characters the parser cares about.
    const ALPHABET: &[char] = &[
        'a', 'Z', '=', '$', '{', '}', '?', '"', '\\', ':', '/', '@', '\n', '[', ']', ';', '#', ' ',
        '.', 'é', '_', '-', '1',
    ];
    let mut state = 0x1234_5678_u64;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let env: BTreeMap<String, String> = [("A".to_string(), "x".to_string())].into();
    for _ in 0..3000 {
        let len = next() % 60;
        let text: String = (0..len)
            .map(|_| ALPHABET[next() % ALPHABET.len()])
            .collect();
        let mut layer = Layer::new("fuzz");
        let _ = parse_npmrc(&text, "fuzz", &env, &mut layer);
        let _ = merge(vec![layer], &env);
        let _ = expand_env(&text, &env);
    }
}
