//! What a `verify` run keeps of each packument. Packuments are digested as they arrive (on a
//! blocking thread, [`crate::registry::plan::fetch_all_digested`]) and their bodies dropped, so
//! a run over thousands of packages (hundreds of MB of packuments, some of tens of MB) never
//! holds them all: only the installed versions' entries, for verification, and, when the
//! history engine runs, the releases' facts and the entries of the releases that could become
//! verified baselines.

use crate::findings::Finding;
use crate::policy::facts::{FactsBuilder, HistoryFacts};
use crate::registry::packument::Packument;
use crate::registry::plan::{observe, Observation};
use crate::registry::Fetched;
use crate::util::escape_text;
use std::collections::BTreeSet;

/// One packument, digested.
#[derive(Debug)]
pub(super) struct Digested {
    /// The installed versions' entries (and their `time`), or why the packument is unusable
    /// (an `unverifiable` finding).
    pub(super) verify: Result<Packument, Finding>,
    /// With the history engine: the facts of every release, or `None` when the packument is
    /// not a full packument the engine can read (history then has nothing to add).
    pub(super) history: Option<HistoryFacts>,
}

/// Digests the packument fetched for `name`, wanted for the `installed` versions; `history`:
/// whether the history engine runs. One streaming pass over the body serves the plan (what it
/// observes of the installed versions), verification and, with `history`, the facts of every
/// release.
pub(super) fn digest(
    name: &str,
    installed: &BTreeSet<String>,
    fetched: Fetched,
    history: bool,
) -> (Vec<Observation>, Digested) {
    let bytes = &fetched.bytes;
    let mut facts = history.then(FactsBuilder::default);
    let mut parsed = match facts.as_mut() {
        Some(sink) => Packument::from_slice_with(bytes, installed, sink),
        None => Packument::from_slice_for(bytes, installed).map(|doc| (doc, None)),
    };
    if parsed.is_err() && facts.is_some() {
        // The history reads more than verification does (the strings and numbers of every
        // release's kept fields, where verification skips the releases not installed): what
        // only the history cannot read (a lone surrogate, a number out of range in some old
        // release) costs the history, never the installed versions' verification. Parsed
        // again without it, exactly as with `--no-history`.
        facts = None;
        parsed = Packument::from_slice_for(bytes, installed).map(|doc| (doc, None));
    }
    let observed = observe(parsed.as_ref().ok().map(|(doc, _)| doc), installed);
    // Not a full packument the engine can read: history has nothing to add.
    let history = match (&parsed, facts) {
        (Ok((_, time)), Some(facts)) => facts.finish(time.as_ref()).ok(),
        _ => None,
    };
    let verify = parsed
        .map(|(doc, _)| doc)
        .map_err(|e| {
            Finding::new(
                "unverifiable",
                format!("the packument of {} is unusable: {e}", escape_text(name)),
            )
        })
        .and_then(|doc| match doc.name.as_deref() {
            Some(n) if n != name => Err(Finding::new(
                "unverifiable",
                format!(
                    "the packument asked for as {} names itself {}",
                    escape_text(name),
                    escape_text(n)
                ),
            )),
            _ => Ok(doc),
        });
    (observed, Digested { verify, history })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::facts::{facts_from_packument, history_view};

    fn fetched(body: &str) -> Fetched {
        Fetched {
            bytes: body.as_bytes().to_vec().into(),
            from_cache: false,
            status: 200,
        }
    }

    const DOC: &str = r#"{"name":"p","versions":{
        "1.0.0":{"name":"p","version":"1.0.0","dist":{"integrity":"sha512-AA=="},
                 "_npmUser":{"name":"a","email":"a@x"},"readme":"big"},
        "1.1.0":{"name":"p","version":"1.1.0","dist":{"integrity":"sha512-AB==",
                 "attestations":{"url":"https://r/-/npm/v1/attestations/p@1.1.0",
                                 "provenance":{"predicateType":"https://slsa.dev/provenance/v1"}}},
                 "_npmUser":{"name":"a","email":"a@x"}},
        "1.2.0":{"name":"p","version":"1.2.0","dist":{"integrity":"sha512-AC=="}}},
        "time":{"1.0.0":"2025-01-01T00:00:00Z","1.1.0":"2025-02-01T00:00:00Z",
                "1.2.0":"2025-03-01T00:00:00Z"}}"#;

    fn set(v: &[&str]) -> BTreeSet<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn keeps_the_installed_entries_and_the_possible_baselines() {
        let (observed, d) = digest("p", &set(&["1.2.0"]), fetched(DOC), true);
        assert!(observed[0].1.in_packument && !observed[0].1.announces_attestations);
        let doc = d.verify.unwrap();
        assert_eq!(doc.version_names().collect::<Vec<_>>(), ["1.2.0"]);
        assert!(doc.time_of("1.2.0").is_some());
        assert!(doc.time_of("1.0.0").is_none());
        let h = d.history.unwrap();
        let whole = facts_from_packument(&history_view(DOC.as_bytes()).unwrap()).unwrap();
        assert_eq!(h.releases, whole);
        assert_eq!(
            h.announced["versions"]
                .as_object()
                .unwrap()
                .keys()
                .collect::<Vec<_>>(),
            ["1.1.0"]
        );
        assert_eq!(h.announced["time"]["1.1.0"], "2025-02-01T00:00:00Z");
        let (observed_alone, alone) = digest("p", &set(&["1.2.0"]), fetched(DOC), false);
        assert!(alone.history.is_none());
        assert_eq!(observed_alone, observed);
        assert_eq!(alone.verify.unwrap().version("1.2.0"), doc.version("1.2.0"));
    }

    #[test]
    fn what_only_the_history_cannot_read_costs_only_the_history() {
        // In a release that is not installed: a lone surrogate, a number out of range, in
        // fields the history reads and verification skips.
        for bad in [r#""deprecated":"\ud800""#, r#""dependencies":{"a":1e400}"#] {
            let body = DOC.replace(
                r#""readme":"big"},"#,
                &format!(r#""readme":"big",{bad}}},"#),
            );
            // The one pass with the history's reading fails on it...
            let mut sink = FactsBuilder::default();
            assert!(
                Packument::from_slice_with(body.as_bytes(), &set(&["1.2.0"]), &mut sink).is_err(),
                "{bad}"
            );
            // ...and the package is digested as without the history.
            let (observed, d) = digest("p", &set(&["1.2.0"]), fetched(&body), true);
            let (observed_alone, alone) = digest("p", &set(&["1.2.0"]), fetched(&body), false);
            assert!(d.history.is_none(), "{bad}");
            assert_eq!(observed, observed_alone, "{bad}");
            assert!(observed[0].1.in_packument, "{bad}");
            assert_eq!(
                d.verify.unwrap().version("1.2.0"),
                alone.verify.unwrap().version("1.2.0"),
                "{bad}"
            );
        }
    }

    #[test]
    fn an_unusable_or_misnamed_packument_is_unverifiable() {
        let (_, d) = digest("q", &set(&["1.2.0"]), fetched(DOC), true);
        let f = d.verify.unwrap_err();
        assert_eq!(f.code, "unverifiable");
        assert!(f.message.contains("names itself"), "{}", f.message);
        let (observed, d) = digest("p", &set(&["1.0.0"]), fetched("[1]"), true);
        assert!(!observed[0].1.in_packument);
        assert_eq!(d.verify.unwrap_err().code, "unverifiable");
        assert!(d.history.is_none());
    }
}
