//! `trust-roots update` against the real Sigstore TUF repository of the corpus, served on
//! 127.0.0.1, and the precedence of the stored update in `trust-roots show`.
//!
//! The embedded TUF root (v16) is newer than the corpus repository's (v15), so the client is
//! started from an older root of the corpus history with the hidden `--danger-tuf-root`;
//! `show` is given the same root to judge the stored update against (without it, the update
//! is older than the embedded root and is not used, which one test checks). Time is pinned
//! before 2026-08-28, the corpus timestamp's expiry.

use npm_provenance_testkit::corpus::corpus_dir;
use npm_provenance_testkit::fixture_registry::FixtureRegistry;
use npm_provenance_testkit::tuf_server::{TufLayout, CORPUS_TUF_REPO};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

const BEFORE_EXPIRY: &str = "2026-08-20T00:00:00Z";
const AFTER_TIMESTAMP_EXPIRY: &str = "2026-09-01T00:00:00Z";
/// sha256 of the corpus targets (= the embedded copies, `trust-roots/README.md`).
const TRUSTED_ROOT_SHA256: &str =
    "6494e21ea73fa7ee769f85f57d5a3e6a08725eae1e38c755fc3517c9e6bc0b66";
const NPM_KEYS_SHA256: &str = "160677eb6e1c7083c89b166b20f8fe4e837fb71181506aff1991b80b89184f7d";

struct Repo {
    reg: FixtureRegistry,
    layout: TufLayout,
    data: PathBuf,
}

impl Repo {
    /// The corpus repository on a fresh server, a fresh data directory; `None` = skip.
    fn start(test: &str) -> Option<Repo> {
        let corpus = corpus_dir(test)?;
        let layout = TufLayout::of(&corpus.join(CORPUS_TUF_REPO)).unwrap();
        let reg = FixtureRegistry::start();
        layout.serve(&reg).unwrap();
        let data = std::env::temp_dir().join(format!("npmprov-tuf-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data);
        Some(Repo { reg, layout, data })
    }

    fn root(&self, version: u64) -> PathBuf {
        self.layout
            .roots
            .iter()
            .find(|(v, _, _)| *v == version)
            .map(|(_, _, p)| p.clone())
            .unwrap()
    }

    fn update(&self, from_root: u64, now: Option<&str>) -> Output {
        self.update_from(Some(from_root), now)
    }

    /// `trust-roots update --format json` from this root of the corpus history, or from the
    /// embedded root (v16) when `None`.
    fn update_from(&self, from_root: Option<u64>, now: Option<&str>) -> Output {
        let mut args: Vec<String> = vec![
            "trust-roots".into(),
            "update".into(),
            "--format".into(),
            "json".into(),
            "--tuf-url".into(),
            self.reg.url(),
            "--data-dir".into(),
            self.data.display().to_string(),
        ];
        if let Some(v) = from_root {
            args.extend([
                "--danger-tuf-root".into(),
                self.root(v).display().to_string(),
            ]);
        }
        if let Some(now) = now {
            args.extend(["--danger-now".into(), now.into()]);
        }
        run(&args)
    }

    /// `trust-roots show --format json` on this data directory, judging the stored update
    /// against `baseline_root` (or the embedded root).
    fn show(&self, baseline_root: Option<u64>, now: &str) -> Value {
        let mut args: Vec<String> = vec![
            "trust-roots".into(),
            "show".into(),
            "--format".into(),
            "json".into(),
            "--data-dir".into(),
            self.data.display().to_string(),
            "--danger-now".into(),
            now.into(),
        ];
        if let Some(v) = baseline_root {
            args.extend([
                "--danger-tuf-root".into(),
                self.root(v).display().to_string(),
            ]);
        }
        let out = run(&args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn state(&self) -> Vec<u8> {
        std::fs::read(self.data.join("trust-roots/state.json")).unwrap()
    }

    /// Replaces one served file with other bytes.
    fn serve_bytes(&self, url_path: &str, body: Vec<u8>) {
        self.reg.add_raw(url_path, "application/json", body);
    }
}

impl Drop for Repo {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

fn run(args: &[String]) -> Output {
    crate::common::npm_provenance().args(args).output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            stderr(out)
        )
    })
}

fn assert_updated(out: &Output) -> Value {
    assert_eq!(out.status.code(), Some(0), "{}", stderr(out));
    let doc = json(out);
    assert_eq!(doc["schema"], "npm-provenance/trust-roots-update/v1");
    assert_eq!(doc["updated"], true, "{doc}");
    doc
}

/// The update was refused with `code`, the message names `needle`, exit 1, nothing stored.
fn assert_refused(out: &Output, code: &str, needle: &str) -> String {
    assert_eq!(out.status.code(), Some(1), "{}", stderr(out));
    let doc = json(out);
    assert_eq!(doc["updated"], false, "{doc}");
    assert!(doc["stored"].is_null(), "{doc}");
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{doc}");
    assert_eq!(findings[0]["code"], code, "{doc}");
    assert_eq!(findings[0]["level"], "deny", "{doc}");
    let msg = findings[0]["message"].as_str().unwrap().to_string();
    assert!(msg.contains(needle), "{msg:?} lacks {needle:?}");
    assert!(
        msg.contains("previous trust material stays in use"),
        "{msg}"
    );
    msg
}

fn sha256_file(p: &Path) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(std::fs::read(p).unwrap()))
}

#[test]
fn update_walks_the_root_chain_and_the_delegation_then_show_uses_it() {
    let Some(repo) = Repo::start("update_walks_the_root_chain") else {
        return;
    };
    // Before: nothing stored, the embedded copy is in use.
    let before = repo.show(Some(5), BEFORE_EXPIRY);
    assert_eq!(before["sigstore"]["source"], "embedded");
    assert_eq!(before["trust_material"]["selected"], "embedded");

    // From root v1 through every rotation to v15 (the whole chain of the real repository).
    let doc = assert_updated(&repo.update(5, Some(BEFORE_EXPIRY)));
    let stored = &doc["stored"];
    let v = &stored["versions"];
    assert_eq!(v["root"], 15, "{doc}");
    assert_eq!(v["timestamp"], 762);
    assert_eq!(v["snapshot"], 165);
    assert_eq!(v["targets"], 14);
    assert_eq!(v["npm_role"], 8);
    assert_eq!(v["timestamp_expires"], "2026-08-28T19:25:56Z");
    assert_eq!(stored["in_use"], true, "judged against the v1 start root");
    assert_eq!(stored["trusted_root_sha256"], TRUSTED_ROOT_SHA256);
    assert_eq!(stored["npm_keys_sha256"], NPM_KEYS_SHA256);
    // The stored files are byte-exact targets.
    let root_path = PathBuf::from(stored["trusted_root"].as_str().unwrap());
    let keys_path = PathBuf::from(stored["npm_keys"].as_str().unwrap());
    assert!(root_path.starts_with(&repo.data));
    assert_eq!(sha256_file(&root_path), TRUSTED_ROOT_SHA256);
    assert_eq!(sha256_file(&keys_path), NPM_KEYS_SHA256);
    // The delegated role's metadata was fetched, under its versioned name.
    assert_eq!(repo.reg.count(&repo.layout.npm_role.0), 1);
    assert_eq!(repo.reg.count(&repo.layout.npm_keys_target.0), 1);

    // show names the update for both pieces.
    let after = repo.show(Some(5), BEFORE_EXPIRY);
    assert_eq!(after["sigstore"]["source"], "tuf-update", "{after}");
    assert_eq!(after["npm_keys"]["source"], "tuf-update");
    assert_eq!(after["npm_keys"]["key_source"], "pinned");
    let m = &after["trust_material"];
    assert_eq!(m["selected"], "tuf-update");
    assert_eq!(m["update"]["used"], true);
    assert_eq!(m["update"]["versions"]["root"], 15);
    assert_eq!(m["as_of"], BEFORE_EXPIRY);
    assert_eq!(m["age_days"], 0);
    assert_eq!(m["findings"].as_array().unwrap().len(), 0);
    let logs = after["sigstore"]["tlogs"].as_array().unwrap();
    assert_eq!(logs.len(), 2, "the Rekor v1 and v2 logs of the target");

    // Judged against the embedded root (v16), an update verified under v15 is older: the
    // embedded copy is used and show says why.
    let embedded = repo.show(None, BEFORE_EXPIRY);
    assert_eq!(embedded["sigstore"]["source"], "embedded");
    assert_eq!(embedded["trust_material"]["selected"], "embedded");
    assert_eq!(embedded["trust_material"]["update"]["used"], false);
    let why = embedded["trust_material"]["update"]["ignored_because"]
        .as_str()
        .unwrap();
    assert!(
        why.contains("TUF root version 15") && why.contains("16"),
        "{why}"
    );

    // A second run from a later root is an update too (no change: equal versions).
    let again = assert_updated(&repo.update(14, Some(BEFORE_EXPIRY)));
    assert_eq!(again["stored"]["versions"]["timestamp"], 762);
}

#[test]
fn update_from_the_embedded_root_needs_no_test_flag_to_be_used() {
    let Some(repo) = Repo::start("update_from_the_embedded_root") else {
        return;
    };
    // The embedded root v16 is newer than the repository's v15 and lists the same online
    // keys: no newer root is found (17.root.json is 404) and the rest verifies under v16.
    let doc = assert_updated(&repo.update_from(None, Some(BEFORE_EXPIRY)));
    let v = &doc["stored"]["versions"];
    assert_eq!(v["root"], 16, "{doc}");
    assert_eq!(v["timestamp"], 762);
    assert_eq!(v["npm_role"], 8);
    assert_eq!(doc["stored"]["in_use"], true);
    assert_eq!(repo.reg.count("/17.root.json"), 1);
    assert_eq!(repo.reg.count("/15.root.json"), 0, "never walks back");
    let shown = repo.show(None, BEFORE_EXPIRY);
    assert_eq!(shown["sigstore"]["source"], "tuf-update", "{shown}");
    assert_eq!(shown["npm_keys"]["source"], "tuf-update");
    assert_eq!(shown["trust_material"]["selected"], "tuf-update");
    // Text output names the stored file.
    let out = run(&[
        "trust-roots".into(),
        "show".into(),
        "--data-dir".into(),
        repo.data.display().to_string(),
        "--danger-now".into(),
        BEFORE_EXPIRY.into(),
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!(
            "Sigstore trusted root (TUF update {}",
            repo.data.join("trust-roots").display()
        )),
        "{text}"
    );
    assert!(
        text.contains("In use: TUF update from http://127.0.0.1:"),
        "{text}"
    );
}

#[test]
fn a_tampered_target_is_refused_and_the_previous_material_stays() {
    let Some(repo) = Repo::start("a_tampered_target_is_refused") else {
        return;
    };
    assert_updated(&repo.update(14, Some(BEFORE_EXPIRY)));
    let state = repo.state();

    // trusted_root.json: one byte changed, same length.
    let (url, path) = repo.layout.trusted_root_target.clone();
    let mut bytes = std::fs::read(&path).unwrap();
    let i = bytes.iter().position(|b| *b == b'f').unwrap();
    bytes[i] = b'F';
    repo.serve_bytes(&url, bytes);
    let msg = assert_refused(
        &repo.update(14, Some(BEFORE_EXPIRY)),
        "trust-update-refused",
        "trusted_root.json",
    );
    assert!(msg.contains("integrity"), "{msg}");
    assert_eq!(repo.state(), state, "nothing stored");
    let shown = repo.show(Some(14), BEFORE_EXPIRY);
    assert_eq!(
        shown["sigstore"]["source"], "tuf-update",
        "the previous update"
    );
    repo.serve_bytes(&url, std::fs::read(&path).unwrap());

    // The npm keys, signed by the delegated role: a key added.
    let (url, path) = repo.layout.npm_keys_target.clone();
    let mut keys: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let extra = keys["keys"][0].clone();
    keys["keys"].as_array_mut().unwrap().push(extra);
    repo.serve_bytes(&url, serde_json::to_vec(&keys).unwrap());
    assert_refused(
        &repo.update(14, Some(BEFORE_EXPIRY)),
        "trust-update-refused",
        "registry.npmjs.org/keys.json",
    );
    assert_eq!(repo.state(), state);
    repo.serve_bytes(&url, std::fs::read(&path).unwrap());

    // The delegated role's metadata: its expiry moved; the role's signature (by the key the
    // top-level targets delegates to) no longer verifies.
    let (url, path) = repo.layout.npm_role.clone();
    let mut role: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    role["signed"]["expires"] = Value::from("2036-01-01T00:00:00Z");
    repo.serve_bytes(&url, serde_json::to_vec(&role).unwrap());
    let msg = assert_refused(
        &repo.update(14, Some(BEFORE_EXPIRY)),
        "trust-update-refused",
        "registry.npmjs.org",
    );
    assert!(msg.contains("threshold"), "{msg}");
    assert_eq!(repo.state(), state);
    let shown = repo.show(Some(14), BEFORE_EXPIRY);
    assert_eq!(shown["npm_keys"]["source"], "tuf-update");

    // The previous stored trusted root still verifies a real npm provenance bundle.
    let corpus = corpus_dir("a_tampered_target_is_refused").unwrap();
    let stored: Value = serde_json::from_slice(&state).unwrap();
    let root = repo.data.join(format!(
        "trust-roots/trusted_root.{}.json",
        stored["trusted_root_sha256"].as_str().unwrap()
    ));
    let out = run(&[
        "verify-bundle".into(),
        "--trusted-root".into(),
        root.display().to_string(),
        "--bundle".into(),
        corpus
            .join("sigstore-go/testing-data/bundles/sigstore.js@2.0.0-provenance.sigstore.json")
            .display()
            .to_string(),
        "--certificate-identity".into(),
        "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main"
            .into(),
        "--certificate-oidc-issuer".into(),
        "https://token.actions.githubusercontent.com".into(),
        corpus
            .join("npm-registry-tarballs/sigstore-2.0.0.tgz")
            .display()
            .to_string(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn a_rolled_back_root_is_refused() {
    let Some(repo) = Repo::start("a_rolled_back_root_is_refused") else {
        return;
    };
    assert_updated(&repo.update(5, Some(BEFORE_EXPIRY)));
    let state = repo.state();
    // The mirror now offers the real root v14 as the next root after v15.
    let v14 = std::fs::read(repo.root(14)).unwrap();
    repo.serve_bytes("/16.root.json", v14.clone());
    let msg = assert_refused(
        &repo.update(5, Some(BEFORE_EXPIRY)),
        "trust-update-refused",
        "root version must increment by one: trusted 15, got 14",
    );
    assert!(msg.contains("TUF metadata"), "{msg}");
    assert_eq!(repo.state(), state);
    assert_eq!(
        repo.show(Some(5), BEFORE_EXPIRY)["sigstore"]["source"],
        "tuf-update"
    );

    // Without memory of v15 (a fresh data directory), the same rollback one step earlier:
    // v14 offered where v15 is due.
    let fresh = Repo::start("a_rolled_back_root_fresh").unwrap();
    fresh.serve_bytes("/15.root.json", v14);
    assert_refused(
        &fresh.update(13, Some(BEFORE_EXPIRY)),
        "trust-update-refused",
        "trusted 14, got 14",
    );
    assert_eq!(
        fresh.show(Some(5), BEFORE_EXPIRY)["sigstore"]["source"],
        "embedded"
    );
}

#[test]
fn the_stored_root_chain_is_not_walked_back_by_a_mirror() {
    let Some(repo) = Repo::start("the_stored_root_chain") else {
        return;
    };
    assert_updated(&repo.update(5, Some(BEFORE_EXPIRY)));
    // The mirror stops serving roots after v10: the client still reaches v15 from its store.
    for v in 11..=15 {
        repo.serve_bytes(&format!("/{v}.root.json"), b"not found".to_vec());
    }
    let doc = assert_updated(&repo.update(5, Some(BEFORE_EXPIRY)));
    assert_eq!(doc["stored"]["versions"]["root"], 15);
}

#[test]
fn expired_metadata_is_refused_pinned_and_at_the_real_clock() {
    let Some(repo) = Repo::start("expired_metadata_is_refused") else {
        return;
    };
    assert_updated(&repo.update(14, Some(BEFORE_EXPIRY)));
    let state = repo.state();
    let msg = assert_refused(
        &repo.update(14, Some(AFTER_TIMESTAMP_EXPIRY)),
        "trust-update-refused",
        "timestamp metadata expired at 2026-08-28T19:25:56Z",
    );
    assert!(msg.starts_with("TUF metadata"), "{msg}");
    // The real clock is after both the timestamp's and root v15's expiry (2026-11-20).
    assert_refused(&repo.update(14, None), "trust-update-refused", "expired");
    assert_eq!(repo.state(), state);
    assert_eq!(
        repo.show(Some(14), BEFORE_EXPIRY)["sigstore"]["source"],
        "tuf-update"
    );
}

#[test]
fn bad_urls_and_unreachable_repositories() {
    let Some(repo) = Repo::start("bad_urls_and_unreachable") else {
        return;
    };
    // Root v15 is still valid at BEFORE_EXPIRY: only the fetches can fail.
    let root = repo.root(15).display().to_string();
    let data = repo.data.display().to_string();
    let base = [
        "trust-roots",
        "update",
        "--format",
        "json",
        "--data-dir",
        &data,
        "--danger-tuf-root",
        &root,
        "--danger-now",
        BEFORE_EXPIRY,
    ];
    let with = |url: &str| -> Output {
        let mut args: Vec<String> = base.iter().map(|s| s.to_string()).collect();
        args.extend(["--tuf-url".into(), url.into()]);
        run(&args)
    };
    // Plain http only to loopback: a usage error (exit 2, error document).
    let out = with("http://tuf.example.com/");
    assert_eq!(out.status.code(), Some(2));
    let err = json(&out);
    assert_eq!(err["schema"], "npm-provenance/error/v1");
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("loopback"));
    // Nothing listening: could not fetch (exit 1, trust-update-failed).
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        format!("http://127.0.0.1:{port}/")
    };
    assert_refused(&with(&closed), "trust-update-failed", "16.root.json");
    // A server without the repository: 404 for timestamp.json.
    let empty = FixtureRegistry::start();
    assert_refused(
        &with(&empty.url()),
        "trust-update-failed",
        "timestamp.json not found",
    );
    // An endless timestamp: cut at the cap, never buffered whole.
    repo.serve_bytes("/timestamp.json", vec![b' '; 100_000]);
    assert_refused(&with(&repo.reg.url()), "trust-update-failed", "cap");
    assert!(!repo.data.join("trust-roots/state.json").exists());
}

#[test]
fn show_warns_when_the_material_in_use_is_old_and_rejects_a_damaged_store() {
    let Some(repo) = Repo::start("show_warns_when_old") else {
        return;
    };
    // The embedded copy is counted from its extraction date (2026-11-23), 180 days.
    let fresh = repo.show(None, "2027-05-01T00:00:00Z");
    assert_eq!(
        fresh["trust_material"]["findings"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let old = repo.show(None, "2027-06-01T00:00:00Z");
    let findings = old["trust_material"]["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{old}");
    assert_eq!(findings[0]["code"], "trust-root-stale");
    assert_eq!(findings[0]["level"], "warn");

    // An update is counted from when it was verified.
    assert_updated(&repo.update(14, Some(BEFORE_EXPIRY)));
    let m = &repo.show(Some(14), "2027-03-01T00:00:00Z")["trust_material"];
    assert_eq!(m["selected"], "tuf-update");
    assert_eq!(m["age_days"], 193);
    assert_eq!(m["findings"][0]["code"], "trust-root-stale");

    // A damaged store is an error naming the file, not a silent fallback.
    let state_path = repo.data.join("trust-roots/state.json");
    let state: Value = serde_json::from_slice(&std::fs::read(&state_path).unwrap()).unwrap();
    let target = repo.data.join(format!(
        "trust-roots/trusted_root.{}.json",
        state["trusted_root_sha256"].as_str().unwrap()
    ));
    std::fs::write(&target, b"{}").unwrap();
    let out = run(&[
        "trust-roots".into(),
        "show".into(),
        "--data-dir".into(),
        repo.data.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(&target.display().to_string()) && err.contains("sha256"),
        "{err}"
    );
    // Both pieces given by flag: the store is not consulted.
    let corpus = corpus_dir("show_warns_when_old").unwrap();
    let out = run(&[
        "trust-roots".into(),
        "show".into(),
        "--data-dir".into(),
        repo.data.display().to_string(),
        "--trusted-root".into(),
        repo.layout.trusted_root_target.1.display().to_string(),
        "--npm-keys".into(),
        corpus
            .join(CORPUS_TUF_REPO)
            .join("targets/registry.npmjs.org/keys.json")
            .display()
            .to_string(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn the_embedded_age_is_counted_from_the_readme_extraction_date() {
    let readme = std::fs::read_to_string(
        npm_provenance_testkit::corpus::repo_root().join("trust-roots/README.md"),
    )
    .unwrap();
    let date = &npm_provenance::trust::store::EMBEDDED_AS_OF[..10];
    assert!(
        readme.contains(&format!("Extracted on {date}")),
        "EMBEDDED_AS_OF ({date}) must be the extraction date in trust-roots/README.md"
    );
}

#[test]
fn inspect_verifies_with_the_stored_update_before_and_after_a_refused_one() {
    let Some(repo) = Repo::start("inspect_verifies_with_the_stored_update") else {
        return;
    };
    let corpus = corpus_dir("inspect_verifies_with_the_stored_update").unwrap();
    let inspect = || -> Output {
        run(&[
            "inspect".into(),
            "nuxt@4.1.2".into(),
            "--packument".into(),
            corpus
                .join("provenance-action/npm-registry__metadata__nuxt.json")
                .display()
                .to_string(),
            "--attestations".into(),
            corpus
                .join("provenance-action/npm-registry__attestations__npm-v1__nuxt@4.1.2.json")
                .display()
                .to_string(),
            "--data-dir".into(),
            repo.data.display().to_string(),
            "--format".into(),
            "json".into(),
        ])
    };
    let verified = |out: &Output| {
        assert_eq!(out.status.code(), Some(0), "{}", stderr(out));
        let doc = json(out);
        for part in ["registry_signature", "publish_attestation", "provenance"] {
            assert_eq!(doc["evidence"][part]["status"], "verified", "{part}: {doc}");
        }
    };
    // From the embedded root: the stored update is in use without any test flag.
    assert_updated(&repo.update_from(None, Some(BEFORE_EXPIRY)));
    verified(&inspect());
    // A refused update (expired metadata at the real clock) leaves it in use.
    assert_refused(
        &repo.update_from(None, None),
        "trust-update-refused",
        "expired",
    );
    verified(&inspect());
    // inspect really reads the store: a damaged one is exit 2 naming the file.
    let state: Value = serde_json::from_slice(&repo.state()).unwrap();
    let keys = repo.data.join(format!(
        "trust-roots/npm-keys.{}.json",
        state["npm_keys_sha256"].as_str().unwrap()
    ));
    std::fs::write(&keys, b"{\"keys\":[]}").unwrap();
    let out = inspect();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&keys.display().to_string()),
        "{}",
        stderr(&out)
    );
}
