//! What a `verify` run keeps of each packument. Packuments are digested as they arrive (on a
//! blocking thread, [`crate::registry::plan::fetch_all_digested`]) and their bodies dropped, so
//! a run over thousands of packages (hundreds of MB of packuments, some of tens of MB) never
//! holds them all: only the installed versions' entries, for verification, and, when the
//! history engine runs, the releases' facts and the entries of the releases that could become
//! verified baselines.
//!
//! What is made of a large packument is also stored in the cache beside it ([`Digester`]):
//! while the cache serves that body without asking the registry, the next run reads the
//! stored digest (a few hundred kB for a packument of tens of MB) instead of reading and
//! parsing the body. It is only a shortcut through the same parse: the installed versions'
//! entries are parsed again from it and verified as ever, and it is used only when it was made
//! from the very body cached, for the same installed versions, by the same build.

use crate::findings::Finding;
use crate::policy::facts::{FactsBuilder, HistoryFacts};
use crate::registry::client::DerivedSlot;
use crate::registry::packument::{EntrySink, Packument, PackumentError, VERSION_FIELDS};
use crate::registry::plan::{observe, Digest, Observation};
use crate::registry::Fetched;
use crate::util::escape_text;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Packuments of this many bytes or more have their digest stored beside them in the cache.
/// Below, reading and parsing the body costs about what reading a stored digest does (on the
/// theia benchmark tree, bodies under 256 KiB are 40% of the bytes and 20% of the parse time).
pub(super) const STORE_FROM_BYTES: u64 = 256 * 1024;

/// The digest of a `verify` run ([`digest`]), stored for large packuments.
pub(super) struct Digester {
    /// Whether the history engine runs.
    pub(super) history: bool,
}

impl Digest for Digester {
    type Kept = Digested;

    fn large(&self) -> Option<u64> {
        Some(STORE_FROM_BYTES)
    }

    fn body(
        &self,
        name: &str,
        installed: &BTreeSet<String>,
        fetched: Fetched,
        slot: Option<DerivedSlot>,
    ) -> (Vec<Observation>, Digested) {
        let out = digest(name, installed, fetched, self.history);
        if let Some(slot) = slot {
            if let Some(bytes) = to_stored(installed, self.history, &out.1) {
                slot.store(&bytes);
            }
        }
        out
    }

    fn derived(
        &self,
        name: &str,
        installed: &BTreeSet<String>,
        derived: &[u8],
    ) -> Option<(Vec<Observation>, Digested)> {
        from_stored(name, installed, self.history, derived)
    }
}

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
    let verify = usable(name, parsed.map(|(doc, _)| doc));
    (observed, Digested { verify, history })
}

/// The parsed packument asked for as `name`, or why it is unusable (an `unverifiable`
/// finding): it could not be parsed, or it names another package.
fn usable(name: &str, parsed: Result<Packument, PackumentError>) -> Result<Packument, Finding> {
    parsed
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
        })
}

/// A stored digest: this magic line, one line of [`StoredHeader`], the kept packument
/// ([`Packument::to_json`]), then the history facts ([`HistoryFacts::to_stored`]), if any.
const STORED_MAGIC: &[u8] = b"npm-provenance digest\n";
/// Raised whenever what [`digest`] makes of a body changes, so no digest made before is used.
const STORED_FORMAT: u32 = 1;

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct StoredHeader {
    /// The build that made it (`CARGO_PKG_VERSION`), [`STORED_FORMAT`], and the version-entry
    /// fields it kept ([`stored_fields`]): a build that reads other fields never uses it, even
    /// where [`STORED_FORMAT`] was not raised.
    tool: String,
    format: u32,
    fields: Vec<String>,
    /// The installed versions it was made for.
    installed: BTreeSet<String>,
    /// Whether the history engine ran.
    history: bool,
    /// Bytes of the kept packument after the header.
    packument: usize,
    /// Whether history facts follow it.
    facts: bool,
}

impl StoredHeader {
    /// The header this build writes.
    fn new(installed: &BTreeSet<String>, history: bool, packument: usize, facts: bool) -> Self {
        StoredHeader {
            tool: env!("CARGO_PKG_VERSION").to_string(),
            format: STORED_FORMAT,
            fields: stored_fields(),
            installed: installed.clone(),
            history,
            packument,
            facts,
        }
    }

    /// Whether this build wrote it, with the fields it keeps.
    fn of_this_build(&self) -> bool {
        self.tool == env!("CARGO_PKG_VERSION")
            && self.format == STORED_FORMAT
            && self.fields == stored_fields()
    }

    /// The stored digest: magic line, this header's line, then `parts`.
    fn write(&self, parts: &[&[u8]]) -> Option<Vec<u8>> {
        let mut out = STORED_MAGIC.to_vec();
        out.extend(serde_json::to_vec(self).ok()?);
        out.push(b'\n');
        for part in parts {
            out.extend_from_slice(part);
        }
        Some(out)
    }
}

/// The version-entry fields a digest keeps: those the packument keeps, and those the history
/// reads.
fn stored_fields() -> Vec<String> {
    let history = FactsBuilder::default();
    VERSION_FIELDS
        .iter()
        .chain(history.keys())
        .map(|s| s.to_string())
        .collect()
}

/// What is stored of a digest: `None` when there is nothing worth storing (a packument that
/// is unusable is parsed again each time, to say why).
fn to_stored(installed: &BTreeSet<String>, history: bool, d: &Digested) -> Option<Vec<u8>> {
    let packument = d.verify.as_ref().ok()?.to_json()?;
    let facts = match (&d.history, history) {
        (Some(h), true) => Some(h.to_stored()?),
        _ => None,
    };
    StoredHeader::new(installed, history, packument.len(), facts.is_some())
        .write(&[&packument, &facts.unwrap_or_default()])
}

/// [`digest`] of the body a stored digest was made from, read back from it; `None` when it was
/// made for other installed versions, by another build, without the history when it is wanted,
/// or cannot be read.
fn from_stored(
    name: &str,
    installed: &BTreeSet<String>,
    history: bool,
    bytes: &[u8],
) -> Option<(Vec<Observation>, Digested)> {
    let rest = bytes.strip_prefix(STORED_MAGIC)?;
    let nl = rest.iter().position(|&b| b == b'\n')?;
    let header: StoredHeader = serde_json::from_slice(&rest[..nl]).ok()?;
    let rest = &rest[nl + 1..];
    if !header.of_this_build()
        || header.installed != *installed
        || (history && !header.history)
        || header.packument > rest.len()
        || (!header.facts && header.packument != rest.len())
    {
        return None;
    }
    let (packument, facts) = rest.split_at(header.packument);
    let doc = Packument::from_slice_for(packument, installed).ok()?;
    // Made with the history, read without: its facts are not needed.
    let history = match header.facts && history {
        true => Some(HistoryFacts::from_stored(facts).ok()?),
        false => None,
    };
    let observed = observe(Some(&doc), installed);
    let verify = usable(name, Ok(doc));
    Some((observed, Digested { verify, history }))
}

/// The `stored_digest` fuzzing entry ([`crate::fuzzing::stored_digest`]): `data` as a whole
/// stored digest, then as the body behind a header this build accepts, the first two bytes
/// (big-endian) giving the length of the packument part.
pub(super) fn fuzz_read(data: &[u8]) -> usize {
    let installed: BTreeSet<String> = ["1.0.0", "2.0.0"].map(String::from).into();
    let mut read = 0;
    for history in [true, false] {
        read += usize::from(from_stored("p", &installed, history, data).is_some());
    }
    let Some((len, body)) = data.split_first_chunk::<2>() else {
        return read;
    };
    let split = usize::from(u16::from_be_bytes(*len)).min(body.len());
    for facts in [true, false] {
        let Some(bytes) = StoredHeader::new(&installed, true, split, facts).write(&[body]) else {
            continue;
        };
        for history in [true, false] {
            if let Some((observed, d)) = from_stored("p", &installed, history, &bytes) {
                assert_eq!(observed.len(), installed.len());
                assert!(history || d.history.is_none());
                read += 1;
            }
        }
    }
    read
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
    fn a_stored_digest_reads_back_as_the_digest_of_its_body() {
        for history in [true, false] {
            for installed in [set(&["1.2.0"]), set(&["1.1.0", "1.2.0", "9.9.9"])] {
                let (observed, d) = digest("p", &installed, fetched(DOC), history);
                let stored = to_stored(&installed, history, &d).unwrap();
                let (observed_back, back) = from_stored("p", &installed, history, &stored).unwrap();
                assert_eq!(observed_back, observed);
                assert_eq!(
                    back.verify.unwrap(),
                    Packument::from_slice_for(DOC.as_bytes(), &installed).unwrap()
                );
                assert_eq!(back.history, d.history);
                assert_eq!(back.history.is_some(), history);
                // Not for other installed versions, nor the other mode, nor another package
                // (the name check runs again).
                assert!(from_stored("p", &set(&["1.0.0"]), history, &stored).is_none());
                // Made without the history, it does not serve a run with; made with it, it
                // serves one without (the facts left unread).
                match from_stored("p", &installed, !history, &stored) {
                    None => assert!(!history),
                    Some((o, lean)) => {
                        assert!(history && lean.history.is_none());
                        assert_eq!(o, observed);
                    }
                }
                let (_, other) = from_stored("q", &installed, history, &stored).unwrap();
                assert!(other.verify.unwrap_err().message.contains("names itself"));
                // Cut anywhere or damaged: never used as it is, never a panic.
                for cut in 0..stored.len() {
                    assert!(from_stored("p", &installed, history, &stored[..cut]).is_none());
                }
                let other_build = String::from_utf8(stored.clone()).unwrap().replacen(
                    &format!("\"tool\":\"{}\"", env!("CARGO_PKG_VERSION")),
                    "\"tool\":\"0.0.0-other\"",
                    1,
                );
                assert!(from_stored("p", &installed, history, other_build.as_bytes()).is_none());
            }
        }
        // Nothing is stored of an unusable packument (it is parsed again each time, to say why).
        let (_, d) = digest("p", &set(&["1.0.0"]), fetched("[1]"), true);
        assert!(to_stored(&set(&["1.0.0"]), true, &d).is_none());
    }

    #[test]
    fn the_fuzz_seeds_reach_the_read_path() {
        // Behind a header saying facts follow: `good.bin` reads back with and without the
        // history; `bad-facts.bin` (a dependency map out of range) only without (its facts
        // are then not read). `packument-only.bin` has no facts: read without them (three
        // ways), never as facts.
        let seeds =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/stored_digest");
        let read = |f: &str| fuzz_read(&std::fs::read(seeds.join(f)).unwrap());
        assert_eq!(read("good.bin"), 2);
        assert_eq!(read("packument-only.bin"), 3);
        assert_eq!(read("bad-facts.bin"), 1);
    }

    #[test]
    fn a_digest_of_other_fields_is_not_used() {
        let installed = set(&["1.2.0"]);
        let (_, d) = digest("p", &installed, fetched(DOC), true);
        let stored = String::from_utf8(to_stored(&installed, true, &d).unwrap()).unwrap();
        assert!(from_stored("p", &installed, true, stored.as_bytes()).is_some());
        let fewer = stored.replacen("\"_npmUser\",", "", 1);
        assert_ne!(fewer, stored);
        assert!(from_stored("p", &installed, true, fewer.as_bytes()).is_none());
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
