//! Policy: identity rules, pins and exclusions, and the publishing-history engine; pure.
//!
//! - [`facts`]: the engine's input model ([`facts::ReleaseFacts`]) and the tolerant adapter
//!   from a full packument, with an overlay for verified facts.
//! - [`history`]: the engine (decision table in `docs/history.md`): [`history::evaluate`] for
//!   one version, [`history::timeline`] for every version.

pub mod config;
pub mod evidence;
pub mod facts;
pub mod history;
pub mod pin;
mod signals;
pub mod version;

pub use facts::{
    facts_from_packument, overlay_verified, BuildIdentity, Provenance, Publisher, ReleaseFacts,
    TimeSource, VerifiedFacts,
};
pub use history::{
    evaluate, evaluate_detailed, timeline, window, EvidenceClass, HistoryContext, TimelineEntry,
};
