//! Verified baselines end to end: `verify` fetches and verifies the attestations of the
//! releases a history decision rests on, through the fixture registry, and every history
//! finding says whether its baseline was verified, only announced, or did not verify. The
//! request log of the fixture registry counts the extra requests and checks each skip rule.

use crate::verify_e2e::{codes, lockfile, package, report, rfc3339, run, sha512_hex_of, Pkg};
use npm_provenance_testkit::corpus::corpus_dir;
use npm_provenance_testkit::fixture_registry::{sri_sha512, Fault, FixtureRegistry};
use npm_provenance_testkit::{Identity, KeyWindow, TestSigstore};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Instant;

/// 2025-03-01T00:00:00Z: the installed versions are published then.
const T0: i64 = 1_740_787_200;
const DAY: i64 = 86_400;
const NOW: &str = "2025-03-02T00:00:00Z";
/// `MAX_BASELINE_RELEASES` in `src/app/verify/baselines.rs` (2 × K), as documented in
/// docs/limits.md.
const BOUND: usize = 6;

const PUBLISH: &str = "https://github.com/npm/attestation/tree/main/specs/publish/v0.1";
const SLSA: &str = "https://slsa.dev/provenance/v1";

/// How a release's attestations are served.
#[derive(Clone, Debug)]
enum Att {
    /// No provenance announced, nothing served.
    None,
    /// Publish attestation and provenance by this identity.
    Good(Identity),
    /// Announced and served, but the provenance's subject is another tarball.
    WrongSubject(Identity),
    /// Announced and served, but the provenance's DSSE signature is altered.
    BadSignature(Identity),
    /// Announced, not served (404).
    NotServed,
}

impl Att {
    fn announced(&self) -> bool {
        !matches!(self, Att::None)
    }
}

#[derive(Clone, Debug)]
struct Rel {
    version: String,
    time: i64,
    npm_user: Value,
    att: Att,
}

fn ci_user() -> Value {
    json!({"name": "GitHub Actions", "email": "npm-oidc-no-reply@github.com",
           "trustedPublisher": {"id": "github", "oidcConfigId": "oidc:x"}})
}

fn maintainer() -> Value {
    json!({"name": "maintainer", "email": "maintainer@example.com"})
}

fn repo(r: &str) -> Identity {
    Identity::github_actions(r, ".github/workflows/release.yml", "refs/heads/main")
}

fn integrity(name: &str, version: &str) -> String {
    sri_sha512(format!("tarball of {name}@{version}").as_bytes())
}

struct World {
    sigstore: TestSigstore,
    registry: FixtureRegistry,
    dir: PathBuf,
}

impl World {
    fn new(tag: &str) -> World {
        let dir =
            std::env::temp_dir().join(format!("npmprov-baselines-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let sigstore = TestSigstore::new(b"npm-provenance verify e2e");
        std::fs::write(dir.join("trusted_root.json"), sigstore.trusted_root_json()).unwrap();
        std::fs::write(
            dir.join("npm-keys.json"),
            sigstore.npm_keys_json(KeyWindow {
                start: T0 - DAY * 365,
                end: None,
            }),
        )
        .unwrap();
        World {
            sigstore,
            registry: FixtureRegistry::start(),
            dir,
        }
    }

    /// Serves the packument of `name` with `releases` and their attestations.
    fn publish(&self, name: &str, releases: &[Rel]) {
        let mut vs = serde_json::Map::new();
        let mut time = serde_json::Map::new();
        for r in releases {
            let sri = integrity(name, &r.version);
            let mut dist = json!({
                "integrity": sri,
                "signatures": [self.sigstore.registry_signature(name, &r.version, &sri)],
            });
            if r.att.announced() {
                dist["attestations"] = json!({
                    "url": format!("https://registry.npmjs.org/-/npm/v1/attestations/{name}@{}", r.version),
                    "provenance": {"predicateType": SLSA},
                });
            }
            if let Some(body) = self.attestations(name, r) {
                self.registry.add_attestations(
                    name,
                    &r.version,
                    serde_json::to_vec(&body).unwrap(),
                );
            }
            vs.insert(
                r.version.clone(),
                json!({"name": name, "version": r.version, "dist": dist, "_npmUser": r.npm_user}),
            );
            time.insert(r.version.clone(), json!(rfc3339(r.time)));
        }
        let doc = json!({"name": name, "versions": vs, "time": time});
        self.registry
            .add_packument(name, serde_json::to_vec(&doc).unwrap(), None);
    }

    fn attestations(&self, name: &str, r: &Rel) -> Option<Value> {
        let hex = sha512_hex_of(&integrity(name, &r.version));
        let (id, subject) = match &r.att {
            Att::None | Att::NotServed => return None,
            Att::Good(id) | Att::BadSignature(id) => (id, hex.clone()),
            Att::WrongSubject(id) => (id, sha512_hex_of(&sri_sha512(b"another tarball"))),
        };
        let publish = self.sigstore.mint_publish(name, &r.version, &hex, r.time);
        let mut provenance = self
            .sigstore
            .mint_provenance(id, name, &r.version, &subject, r.time - 2)
            .bundle;
        if matches!(r.att, Att::BadSignature(_)) {
            let sig = provenance["dsseEnvelope"]["signatures"][0]["sig"]
                .as_str()
                .expect("a DSSE signature")
                .to_string();
            // Another valid base64 string of the same length: one character changed.
            let mut chars: Vec<char> = sig.chars().collect();
            chars[10] = if chars[10] == 'A' { 'B' } else { 'A' };
            provenance["dsseEnvelope"]["signatures"][0]["sig"] =
                json!(chars.into_iter().collect::<String>());
        }
        Some(json!({"attestations": [
            {"predicateType": PUBLISH, "bundle": publish.bundle},
            {"predicateType": SLSA, "bundle": provenance},
        ]}))
    }

    /// A project installing `name@version` for each pair.
    fn project(&self, tag: &str, installed: &[(&str, &str)]) -> PathBuf {
        let dir = self.dir.join(tag);
        std::fs::create_dir_all(&dir).unwrap();
        let pkgs: Vec<Pkg> = installed
            .iter()
            .map(|(n, v)| Pkg::with_integrity(n, v, &integrity(n, v)))
            .collect();
        std::fs::write(dir.join("package-lock.json"), lockfile(&pkgs)).unwrap();
        dir
    }

    /// `verify --json` with a fresh cache (`cache` names it), now pinned.
    fn verify(&self, path: &Path, cache: &str, extra: &[&str]) -> Output {
        let mut args: Vec<String> = vec![
            "verify".into(),
            path.display().to_string(),
            "--metadata-registry".into(),
            self.registry.url(),
            "--trusted-root".into(),
            self.dir.join("trusted_root.json").display().to_string(),
            "--npm-keys".into(),
            self.dir.join("npm-keys.json").display().to_string(),
            "--cache-dir".into(),
            self.dir.join(cache).display().to_string(),
            "--json".into(),
            "--danger-now".into(),
            NOW.into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        run(&args)
    }

    /// Requests for the attestations of `name@version`.
    fn att_requests(&self, name: &str, version: &str) -> usize {
        self.registry
            .count(&format!("/-/npm/v1/attestations/{name}@{version}"))
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Three releases by trusted publishing with provenance from `example/project` (1.0.0–1.2.0),
/// then `installed` (1.3.0).
fn history(base: [Att; 3], installed: Rel) -> Vec<Rel> {
    let mut out: Vec<Rel> = base
        .into_iter()
        .enumerate()
        .map(|(i, att)| Rel {
            version: format!("1.{i}.0"),
            time: T0 - (40 - 10 * i as i64) * DAY,
            npm_user: ci_user(),
            att,
        })
        .collect();
    out.push(installed);
    out
}

fn token_release() -> Rel {
    Rel {
        version: "1.3.0".into(),
        time: T0,
        npm_user: maintainer(),
        att: Att::None,
    }
}

fn findings<'a>(p: &'a Value, code: &str) -> Vec<&'a Value> {
    p["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code)
        .collect()
}

fn message(f: &Value) -> &str {
    f["message"].as_str().unwrap()
}

/// A token publish after trusted-publishing releases: with good baselines the downgrade says
/// "verified"; with one tampered baseline release it says which did not verify (and
/// `baseline-invalid` denies); with every baseline release tampered the baseline counts as no
/// provenance (no downgrade), and `baseline-invalid` says so for each; with attestations gone
/// (404) or unreachable the baseline stays announced and the finding says why.
#[test]
fn token_publish_after_provenance_with_good_tampered_and_missing_baselines() {
    let good = || repo("example/project");
    let cases: Vec<(&str, [Att; 3])> = vec![
        (
            "good",
            [Att::Good(good()), Att::Good(good()), Att::Good(good())],
        ),
        (
            "one-wrong-subject",
            [
                Att::Good(good()),
                Att::Good(good()),
                Att::WrongSubject(good()),
            ],
        ),
        (
            "all-tampered",
            [
                Att::BadSignature(good()),
                Att::WrongSubject(good()),
                Att::BadSignature(good()),
            ],
        ),
        (
            "not-served",
            [Att::NotServed, Att::NotServed, Att::NotServed],
        ),
    ];
    for (tag, base) in cases {
        let w = World::new(&format!("token-{tag}"));
        w.publish("victim", &history(base, token_release()));
        let dir = w.project("p", &[("victim", "1.3.0")]);
        let out = w.verify(&dir, "cache", &[]);
        let doc = report(&out);
        let p = package(&doc, "victim", "1.3.0");
        assert_eq!(out.status.code(), Some(1), "{tag}: {:?}", codes(p));
        assert_eq!(p["registry_signature"]["status"], "verified", "{tag}");
        let down = findings(p, "provenance-downgrade");
        let invalid = findings(p, "baseline-invalid");
        match tag {
            "good" => {
                assert_eq!(down.len(), 1, "{tag}: {:?}", codes(p));
                assert_eq!(down[0]["level"], "deny");
                let m = message(down[0]);
                assert!(m.contains("Baseline evidence: verified"), "{m}");
                assert!(m.contains("provenance verified"), "{m}");
                assert!(m.contains("rekor"), "signed times overlaid: {m}");
                assert!(invalid.is_empty());
                // Every history finding says it.
                for f in findings(p, "publisher-changed") {
                    assert!(message(f).contains("Baseline evidence: verified"));
                }
            }
            "one-wrong-subject" => {
                assert_eq!(down.len(), 1, "{tag}: {:?}", codes(p));
                assert_eq!(down[0]["level"], "deny");
                let m = message(down[0]);
                assert!(
                    m.contains(
                        "Baseline evidence: invalid: the attestations of 1.2.0 did not verify"
                    ),
                    "{m}"
                );
                assert!(m.contains("verified: 1.1.0"), "{m}");
                assert_eq!(invalid.len(), 1, "{:?}", codes(p));
                assert_eq!(invalid[0]["level"], "deny");
                assert!(message(invalid[0]).contains("victim@1.2.0"));
                assert!(message(invalid[0]).contains("subject-mismatch"));
            }
            "all-tampered" => {
                // The tampered releases count as no provenance: what is left of their class is
                // trusted publishing without provenance (class provenance, from the unsigned
                // `_npmUser`), so the downgrade is no longer "from trusted publishing"; the
                // finding says the baseline did not verify, and each release is reported.
                assert_eq!(down.len(), 1, "{:?}", codes(p));
                let m = message(down[0]);
                assert!(m.contains("a downgrade from provenance"), "{m}");
                assert!(!m.contains("from trusted publishing"), "{m}");
                assert!(
                    m.contains("Baseline evidence: invalid: the attestations of 1.2.0, 1.1.0, 1.0.0 did not verify"),
                    "{m}"
                );
                assert_eq!(invalid.len(), 3, "{:?}", codes(p));
                assert!(invalid.iter().all(|f| f["level"] == "deny"));
                let all: Vec<&str> = invalid.iter().map(|f| message(f)).collect();
                assert!(all.iter().any(|m| m.contains("victim@1.0.0")), "{all:?}");
                assert!(all.iter().any(|m| m.contains("signature")), "{all:?}");
                for f in findings(p, "publisher-changed") {
                    assert!(message(f).contains("Baseline evidence: invalid"));
                }
            }
            "not-served" => {
                assert_eq!(down.len(), 1, "{tag}: {:?}", codes(p));
                assert_eq!(down[0]["level"], "deny");
                let m = message(down[0]);
                assert!(m.contains("announced, not verified"), "{m}");
                assert!(m.contains("(404)"), "{m}");
                assert!(invalid.is_empty());
            }
            _ => unreachable!(),
        }
        // Every candidate was fetched once (a token publish needs them all).
        for v in ["1.0.0", "1.1.0", "1.2.0"] {
            assert_eq!(w.att_requests("victim", v), 1, "{tag} {v}");
        }
    }
}

/// Attestations that cannot be fetched (connection reset on every attempt): the baseline stays
/// announced and the finding says it could not be fetched.
#[test]
fn unreachable_baseline_attestations_stay_announced() {
    let w = World::new("unreachable");
    let good = || repo("example/project");
    w.publish(
        "victim",
        &history(
            [Att::Good(good()), Att::Good(good()), Att::Good(good())],
            token_release(),
        ),
    );
    w.registry
        .fault("/-/npm/v1/attestations/victim@1.", Fault::Reset);
    let dir = w.project("p", &[("victim", "1.3.0")]);
    let out = w.verify(&dir, "cache", &[]);
    let doc = report(&out);
    let p = package(&doc, "victim", "1.3.0");
    let down = findings(p, "provenance-downgrade");
    assert_eq!(down.len(), 1, "{:?}", codes(p));
    assert_eq!(down[0]["level"], "deny");
    let m = message(down[0]);
    assert!(
        m.contains("announced, not verified (1.2.0, 1.1.0, 1.0.0)"),
        "{m}"
    );
    assert!(m.contains("could not be fetched"), "{m}");
}

/// A verified baseline from another repository than the installed version's verified
/// provenance is `identity-changed`, said to rest on a verified baseline. The walk stops at the
/// first verified release: one extra request, not three.
#[test]
fn verified_baseline_from_another_repository_is_identity_changed() {
    for (installed_repo, changed) in [("attacker/fork", true), ("example/project", false)] {
        let w = World::new(&format!("identity-{changed}"));
        let good = || repo("example/project");
        let installed = Rel {
            version: "1.3.0".into(),
            time: T0,
            npm_user: ci_user(),
            att: Att::Good(repo(installed_repo)),
        };
        w.publish(
            "lib",
            &history(
                [Att::Good(good()), Att::Good(good()), Att::Good(good())],
                installed,
            ),
        );
        let dir = w.project("p", &[("lib", "1.3.0")]);
        let out = w.verify(&dir, "cache", &[]);
        let doc = report(&out);
        let p = package(&doc, "lib", "1.3.0");
        assert_eq!(p["provenance"]["status"], "verified");
        let id = findings(p, "identity-changed");
        if changed {
            assert_eq!(id.len(), 1, "{:?}", codes(p));
            let m = message(id[0]);
            assert!(m.contains("repository https://github.com/example/project → https://github.com/attacker/fork"), "{m}");
            assert!(m.contains("provenance verified"), "{m}");
        } else {
            assert!(id.is_empty(), "{:?}", codes(p));
            assert_eq!(out.status.code(), Some(0), "{:?}", codes(p));
        }
        assert_eq!(w.att_requests("lib", "1.2.0"), 1);
        assert_eq!(w.att_requests("lib", "1.1.0"), 0);
        assert_eq!(w.att_requests("lib", "1.0.0"), 0);
    }
}

/// With the installed version verified, a tampered predecessor does not stop the walk: the next
/// release is verified and compared.
#[test]
fn verified_install_walks_past_an_invalid_predecessor() {
    let w = World::new("walk");
    let good = || repo("example/project");
    let installed = Rel {
        version: "1.3.0".into(),
        time: T0,
        npm_user: ci_user(),
        att: Att::Good(repo("attacker/fork")),
    };
    w.publish(
        "lib",
        &history(
            [
                Att::Good(good()),
                Att::Good(good()),
                Att::BadSignature(good()),
            ],
            installed,
        ),
    );
    let dir = w.project("p", &[("lib", "1.3.0")]);
    let doc = report(&w.verify(&dir, "cache", &[]));
    let p = package(&doc, "lib", "1.3.0");
    assert_eq!(findings(p, "baseline-invalid").len(), 1, "{:?}", codes(p));
    let id = findings(p, "identity-changed");
    assert_eq!(id.len(), 1, "{:?}", codes(p));
    assert!(message(id[0]).contains("the attestations of 1.2.0 did not verify"));
    assert_eq!(w.att_requests("lib", "1.2.0"), 1);
    assert_eq!(w.att_requests("lib", "1.1.0"), 1);
    assert_eq!(w.att_requests("lib", "1.0.0"), 0);
}

/// The skip rules, counted in the request log: no baseline release announcing provenance →
/// nothing extra; the installed version announcing provenance that cannot be fetched → nothing
/// extra; `--no-history` → nothing extra; a second run → attestations from the cache.
#[test]
fn skip_rules_fetch_nothing_extra() {
    let w = World::new("skips");
    // No baseline provenance at all.
    let plain: Vec<Rel> = ["1.0.0", "1.1.0", "1.2.0", "1.3.0"]
        .iter()
        .enumerate()
        .map(|(i, v)| Rel {
            version: v.to_string(),
            time: T0 - (30 - 10 * i as i64) * DAY,
            npm_user: maintainer(),
            att: Att::None,
        })
        .collect();
    w.publish("plain", &plain);
    // The installed version announces provenance that is not served.
    let good = || repo("example/project");
    w.publish(
        "gone",
        &history(
            [Att::Good(good()), Att::Good(good()), Att::Good(good())],
            Rel {
                version: "1.3.0".into(),
                time: T0,
                npm_user: ci_user(),
                att: Att::NotServed,
            },
        ),
    );
    // A token publish after provenance, for --no-history and the cache.
    w.publish(
        "victim",
        &history(
            [Att::Good(good()), Att::Good(good()), Att::Good(good())],
            token_release(),
        ),
    );
    let dir = w.project(
        "p",
        &[("plain", "1.3.0"), ("gone", "1.3.0"), ("victim", "1.3.0")],
    );
    let baseline_requests = |w: &World| {
        ["plain", "gone", "victim"]
            .iter()
            .flat_map(|n| ["1.0.0", "1.1.0", "1.2.0"].map(|v| w.att_requests(n, v)))
            .sum::<usize>()
    };

    let out = w.verify(&dir, "no-history", &["--no-history"]);
    assert!(out.status.code().is_some());
    assert_eq!(
        baseline_requests(&w),
        0,
        "--no-history fetches nothing extra"
    );

    w.registry.clear_log();
    let out = w.verify(&dir, "cache", &[]);
    let doc = report(&out);
    assert_eq!(w.att_requests("plain", "1.2.0"), 0);
    assert_eq!(
        ["1.0.0", "1.1.0", "1.2.0"]
            .map(|v| w.att_requests("gone", v))
            .iter()
            .sum::<usize>(),
        0
    );
    assert_eq!(baseline_requests(&w), 3, "only victim's three releases");
    // The skipped baseline says why it is not verified.
    let gone = package(&doc, "gone", "1.3.0");
    for f in gone["findings"].as_array().unwrap() {
        if f["code"] == "trusted-publisher-dropped" || f["code"] == "provenance-downgrade" {
            panic!("unexpected {f}");
        }
    }
    let plain_p = package(&doc, "plain", "1.3.0");
    assert!(findings(plain_p, "provenance-downgrade").is_empty());

    // Attestations never change: the second run answers them from the cache.
    w.registry.clear_log();
    let again = w.verify(&dir, "cache", &[]);
    assert_eq!(baseline_requests(&w), 0);
    assert_eq!(out.stdout, again.stdout);
}

/// Several packages whose every release has provenance (installed verified, same identity):
/// one extra request per package, within the documented bound; with token installs after
/// provenance releases, every candidate is fetched, still within the bound.
#[test]
fn extra_requests_stay_within_the_bound() {
    let w = World::new("bound");
    let n = 12;
    let mut installed = Vec::new();
    let names: Vec<String> = (0..n).map(|i| format!("pkg-{i}")).collect();
    for (i, name) in names.iter().enumerate() {
        // Seven earlier releases (lines 1 and 2), then the installed one.
        let mut rels: Vec<Rel> = (0..7)
            .map(|k| Rel {
                version: format!("{}.{}.0", 1 + k / 4, k % 4),
                time: T0 - (80 - 10 * k as i64) * DAY,
                npm_user: ci_user(),
                att: Att::Good(repo("example/mono")),
            })
            .collect();
        let token = i % 2 == 1;
        rels.push(Rel {
            version: "2.3.0".into(),
            time: T0,
            npm_user: if token { maintainer() } else { ci_user() },
            att: if token {
                Att::None
            } else {
                Att::Good(repo("example/mono"))
            },
        });
        w.publish(name, &rels);
        installed.push((name.as_str(), "2.3.0"));
    }
    let dir = w.project("p", &installed);
    let out = w.verify(&dir, "cache", &[]);
    let doc = report(&out);
    for (i, name) in names.iter().enumerate() {
        let extra: usize = w
            .registry
            .requests()
            .iter()
            .filter(|r| r.path.contains(&format!("/attestations/{name}@")))
            .filter(|r| !r.path.ends_with("@2.3.0"))
            .count();
        assert!(extra <= BOUND, "{name}: {extra}");
        if i % 2 == 1 {
            // Baseline of line 2 (2.2.0, 2.1.0, 2.0.0); context C adds nothing new.
            assert_eq!(extra, 3, "{name}");
            let p = package(&doc, name, "2.3.0");
            let down = findings(p, "provenance-downgrade");
            assert_eq!(down.len(), 1, "{:?}", codes(p));
            assert!(message(down[0]).contains("Baseline evidence: verified"));
        } else {
            assert_eq!(extra, 1, "{name}: stops at the verified predecessor");
        }
    }
}

/// Measures the extra requests and time of verified baselines on the corpus's 1,830-package
/// lockfile (insomnia) served by the fixture registry: every package gets three earlier
/// releases; every `share`-th package (env `NPMPROV_BASELINE_SHARE`, default 10) has
/// provenance on all of them, and every other one of those is installed as a token publish
/// (the worst case: all candidates fetched). Prints the numbers (docs/history.md) and checks the
/// bound. Ignored by default: minting the attestations takes a while.
#[test]
#[ignore]
fn measure_baselines_on_a_1000_plus_package_tree() {
    let Some(corpus) = corpus_dir(module_path!()) else {
        return;
    };
    let share: usize = std::env::var("NPMPROV_BASELINE_SHARE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10)
        .max(1);
    let lock = corpus.join("lockfiles/npm-v3-insomnia-1830pkgs/package-lock.json");
    let inv = npm_provenance::inventory::load(
        &lock,
        &npm_provenance::inventory::InventoryOptions::default(),
    )
    .unwrap();
    let mut by_name: std::collections::BTreeMap<String, Vec<(String, String)>> = Default::default();
    for p in inv.registry_packages() {
        let sri = p.integrity.as_ref().expect("pinned").to_string();
        let e = by_name.entry(p.name.clone()).or_default();
        if !e.iter().any(|(v, _)| v == &p.version) {
            e.push((p.version.clone(), sri));
        }
    }
    let w = World::new("measure");
    let t_mint = Instant::now();
    let mut with_provenance = 0;
    for (i, (name, installed)) in by_name.iter().enumerate() {
        let prov = i % share == 0;
        with_provenance += usize::from(prov);
        let id = repo("example/mono");
        let mut vs = serde_json::Map::new();
        let mut time = serde_json::Map::new();
        let mut add = |version: &str, sri: &str, t: i64, att: &Att, user: Value| {
            let mut dist = json!({"integrity": sri,
                "signatures": [w.sigstore.registry_signature(name, version, sri)]});
            if att.announced() {
                dist["attestations"] = json!({
                    "url": format!("https://registry.npmjs.org/-/npm/v1/attestations/{name}@{version}"),
                    "provenance": {"predicateType": SLSA}});
                let hex = sha512_hex_of(sri);
                let publish = w.sigstore.mint_publish(name, version, &hex, t);
                let provenance = w.sigstore.mint_provenance(&id, name, version, &hex, t - 2);
                let body = json!({"attestations": [
                    {"predicateType": PUBLISH, "bundle": publish.bundle},
                    {"predicateType": SLSA, "bundle": provenance.bundle}]});
                w.registry
                    .add_attestations(name, version, serde_json::to_vec(&body).unwrap());
            }
            vs.insert(
                version.to_string(),
                json!({"name": name, "version": version,
                "dist": dist, "_npmUser": user}),
            );
            time.insert(version.to_string(), json!(rfc3339(t)));
        };
        for k in 0..3 {
            let v = format!("0.0.{k}-baseline");
            let att = if prov {
                Att::Good(id.clone())
            } else {
                Att::None
            };
            let user = if prov { ci_user() } else { maintainer() };
            add(
                &v,
                &integrity(name, &v),
                T0 - (40 - 10 * k) * DAY,
                &att,
                user,
            );
        }
        for (j, (v, sri)) in installed.iter().enumerate() {
            let token = prov && (i / share) % 2 == 1;
            let att = if prov && !token {
                Att::Good(id.clone())
            } else {
                Att::None
            };
            let user = if prov && !token {
                ci_user()
            } else {
                maintainer()
            };
            add(v, sri, T0 + j as i64, &att, user);
        }
        let doc = json!({"name": name, "versions": vs, "time": time});
        w.registry
            .add_packument(name, serde_json::to_vec(&doc).unwrap(), None);
    }
    eprintln!(
        "minted {} packages ({with_provenance} with provenance) in {:?}",
        by_name.len(),
        t_mint.elapsed()
    );
    let measure = |cache: &str, extra: &[&str]| {
        w.registry.clear_log();
        let t = Instant::now();
        let out = w.verify(&lock, cache, extra);
        let elapsed = t.elapsed();
        let reqs = w.registry.requests();
        let att = reqs
            .iter()
            .filter(|r| r.path.contains("/-/npm/v1/attestations/"))
            .count();
        let baseline = reqs.iter().filter(|r| r.path.contains("-baseline")).count();
        (out, elapsed, reqs.len(), att, baseline)
    };
    let (_, t_off, n_off, att_off, base_off) = measure("c-off", &["--no-history"]);
    let (out, t_on, n_on, att_on, base_on) = measure("c-on", &[]);
    let doc = report(&out);
    assert_eq!(base_off, 0);
    eprintln!(
        "BASELINES packages={} names={} with_provenance={with_provenance} \
         no-history: requests={n_off} attestations={att_off} time={t_off:?} | \
         verified baselines: requests={n_on} attestations={att_on} baseline={base_on} \
         time={t_on:?} | deny={}",
        inv.registry_packages().count(),
        by_name.len(),
        doc["summary"]["findings"]["deny"],
    );
    assert_eq!(
        n_on - n_off,
        base_on,
        "the only extra requests are baseline ones"
    );
    assert!(base_on <= BOUND * with_provenance, "{base_on}");
    let (_, t_cached, n_cached, _, base_cached) = measure("c-on", &[]);
    eprintln!("BASELINES second run (cache): requests={n_cached} baseline={base_cached} time={t_cached:?}");
    assert_eq!(base_cached, 0);
}

/// Baseline releases published with a token and provenance (class provenance), all tampered:
/// they count as no provenance, so no downgrade is claimed from them; `baseline-invalid` denies
/// for each, naming what did not verify.
#[test]
fn tampered_token_provenance_baseline_counts_as_no_provenance() {
    let w = World::new("tampered-token");
    let good = || repo("example/project");
    let mut rels = history(
        [
            Att::WrongSubject(good()),
            Att::BadSignature(good()),
            Att::WrongSubject(good()),
        ],
        token_release(),
    );
    for r in rels.iter_mut() {
        r.npm_user = maintainer();
    }
    w.publish("victim", &rels);
    let dir = w.project("p", &[("victim", "1.3.0")]);
    let out = w.verify(&dir, "cache", &[]);
    let doc = report(&out);
    let p = package(&doc, "victim", "1.3.0");
    assert_eq!(out.status.code(), Some(1), "{:?}", codes(p));
    assert!(
        findings(p, "provenance-downgrade").is_empty(),
        "{:?}",
        codes(p)
    );
    let invalid = findings(p, "baseline-invalid");
    assert_eq!(invalid.len(), 3, "{:?}", codes(p));
    for f in &invalid {
        assert!(
            message(f).contains("counts as no provenance"),
            "{}",
            message(f)
        );
        assert!(
            message(f).contains("provenance invalid ("),
            "{}",
            message(f)
        );
    }
}
