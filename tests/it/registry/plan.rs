//! The fetch plan and the run-level stripped-metadata finding against the fixture registry.

use std::sync::Arc;

use npm_provenance::registry::RegistryClient;
use npm_provenance_testkit::corpus::corpus_dir;
use npm_provenance_testkit::fixture_registry::{load_corpus, FixtureRegistry};

use super::{config_for, test_options};

#[tokio::test]
async fn fetch_plan_against_the_fixture_registry() {
    use npm_provenance::registry::plan::{
        fetch_all, metadata_stripped, FetchPlan, PlanOptions, Wanted,
    };
    let Some(corpus) = corpus_dir("fetch_plan_against_the_fixture_registry") else {
        return;
    };
    let reg = FixtureRegistry::start();
    let pkgs = load_corpus(&reg, &corpus).unwrap();
    let config = config_for(&reg.url());
    let client = Arc::new(RegistryClient::new(test_options(None), &config).unwrap());
    let mut wanted: Vec<Wanted> = pkgs
        .iter()
        .map(|p| Wanted {
            name: p.name.into(),
            version: p.version.into(),
        })
        .collect();
    wanted.push(Wanted {
        name: "sigstore".into(),
        version: "0.0.0-gone".into(),
    });

    // The packuments minted from the corpus carry no registry signatures: stripped.
    let plan = FetchPlan::build(&wanted, &config, None, PlanOptions::default());
    let ev = fetch_all(client.clone(), &plan).await;
    assert_eq!(
        reg.requests()
            .iter()
            .filter(|r| r.path == "/sigstore")
            .count(),
        1,
        "one packument per name, shared by versions"
    );
    assert_eq!(ev.packuments.len(), 4);
    assert!(ev.packuments.values().all(|r| r.is_ok()));
    assert_eq!(
        ev.attestations.len(),
        pkgs.len(),
        "only versions in the packument"
    );
    for p in &pkgs {
        let w = Wanted {
            name: p.name.into(),
            version: p.version.into(),
        };
        let got = ev.attestations[&w].as_ref().unwrap().as_ref().unwrap();
        let want = std::fs::read(corpus.join(p.attestations)).unwrap();
        assert_eq!(&got.bytes[..], &want[..], "{}", p.name);
    }
    let gone = Wanted {
        name: "sigstore".into(),
        version: "0.0.0-gone".into(),
    };
    assert!(!ev.observed[&gone].in_packument);
    // A registry other than the public one: its own keys, fetched once.
    assert_eq!(ev.keys.len(), 1);
    assert!(ev.keys.values().all(|k| k.is_ok()));
    assert_eq!(reg.count("/-/npm/v1/keys"), 1);
    let stripped = metadata_stripped(&plan, &ev);
    assert_eq!(stripped.len(), 1);
    assert_eq!(stripped[0].code, "registry-metadata-stripped");
    assert!(stripped[0].message.contains("--metadata-registry"));

    // The real nuxt packument carries signatures: not stripped. Its announced attestations
    // URL names the public registry; the request stays on the configured one.
    let nuxt = vec![
        Wanted {
            name: "nuxt".into(),
            version: "4.1.2".into(),
        },
        Wanted {
            name: "nuxt".into(),
            version: "3.13.0".into(),
        },
    ];
    let plan = FetchPlan::build(&nuxt, &config, None, PlanOptions::default());
    let ev = fetch_all(client, &plan).await;
    assert!(metadata_stripped(&plan, &ev).is_empty());
    for w in &nuxt {
        assert!(ev.observed[w].has_signatures && ev.observed[w].announces_attestations);
        assert!(
            ev.attestations[w].as_ref().unwrap().is_some(),
            "{}",
            w.version
        );
    }
}
