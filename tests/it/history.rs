//! The history engine on real publishing histories (corpus) and on the two reconstructed
//! incidents (axios, eslint-config-prettier). Driven from the decision table in
//! `docs/history.md`.

use jiff::Timestamp;
use npm_provenance::findings::Level;
use npm_provenance::policy::{facts_from_packument, timeline, HistoryContext, ReleaseFacts};
use npm_provenance_testkit::corpus::corpus_file;

const HISTORIES: &[&str] = &[
    "histories/@pkgr__core.json",
    "histories/eslint-config-prettier.json",
    "histories/eslint-plugin-prettier.json",
    "histories/form-data.json",
    "histories/nanoid.json",
    "histories/obug.json",
    "histories/semver.json",
    "histories/synckit.json",
    "histories/vite.trimmed.json",
    "provenance-action/npm-registry__metadata__nuxt.json",
];

fn now() -> Timestamp {
    "2026-11-23T00:00:00Z".parse().unwrap()
}

fn ctx() -> HistoryContext {
    HistoryContext {
        now: Some(now()),
        dependency_scripts: Default::default(),
    }
}

fn load(test: &str, rel: &str) -> Option<Vec<ReleaseFacts>> {
    let path = corpus_file(test, rel)?;
    let bytes = std::fs::read(&path).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    Some(facts_from_packument(&doc).unwrap())
}

/// `(version, highest level, codes)` of every version with a finding at `min` or above.
fn flagged(
    releases: &[ReleaseFacts],
    ctx: &HistoryContext,
    min: Level,
) -> Vec<(String, Level, Vec<&'static str>)> {
    timeline(releases, ctx)
        .into_iter()
        .filter_map(|e| {
            let top = e.findings.iter().map(|f| f.finding.level).max()?;
            (top >= min).then(|| {
                (
                    e.release.version.clone(),
                    top,
                    e.findings
                        .iter()
                        .filter(|f| f.finding.level >= min)
                        .map(|f| f.finding.code)
                        .collect(),
                )
            })
        })
        .collect()
}

#[test]
fn explore() {
    for rel in HISTORIES {
        let Some(r) = load("explore", rel) else {
            return;
        };
        for (v, l, codes) in flagged(&r, &ctx(), Level::Warn) {
            println!("{rel} {v} {l} {codes:?}");
        }
    }
}
