//! `snapshot` and `verify --snapshot` end to end: a project served by the fixture registry
//! (test Sigstore: provenance, a tampered signature, a version without attestations, a 500,
//! history on), snapshotted, the registry stopped, and the replay compared byte for byte with
//! the live run; tokens never reach a snapshot; damaged, missing and absent answers are
//! unverifiable; broken manifests are exit 2; a replay opens no socket; the report's clock.

use super::verify_e2e::{codes, package, report, run, Att, Pkg, Sig, World};
use npm_provenance_testkit::fixture_registry::{Fault, FixtureRegistry};
use npm_provenance_testkit::KeyWindow;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

/// 2025-03-01T00:00:00Z, the publish time of `verify_e2e`'s synthetic versions.
const T0: i64 = 1_740_787_200;
/// The pinned "now" of the comparisons.
const NOW: &str = "2025-06-01T00:00:00Z";

fn s(p: &Path) -> String {
    p.display().to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The project's `.npmrc`: the fixture registry as default registry and for `@scope`, and
/// `extra` lines (credentials).
fn npmrc(w: &World, project: &Path, extra: &str) {
    let url = w.registry.url();
    std::fs::write(
        project.join(".npmrc"),
        format!("registry={url}\n@scope:registry={url}\n{extra}"),
    )
    .unwrap();
}

/// `verify PROJECT` with the test trusted root (the npm keys are the registry's own, fetched
/// and recorded), a cache of its own, and `extra`.
fn verify(w: &World, project: &Path, cache: &str, extra: &[&str]) -> Output {
    let mut a = vec![
        "verify".to_string(),
        s(project),
        "--trusted-root".into(),
        s(&w.dir.join("trusted_root.json")),
        "--cache-dir".into(),
        s(&w.dir.join(cache)),
    ];
    a.extend(extra.iter().map(|x| x.to_string()));
    run(&a)
}

fn snapshot(w: &World, project: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut a = vec![
        "snapshot".to_string(),
        s(project),
        "--out".into(),
        s(out),
        "--trusted-root".into(),
        s(&w.dir.join("trusted_root.json")),
        "--cache-dir".into(),
        s(&w.dir.join("cache-snapshot")),
    ];
    a.extend(extra.iter().map(|x| x.to_string()));
    run(&a)
}

fn replay(w: &World, project: &Path, snap: &Path, extra: &[&str]) -> Output {
    let mut a = vec![
        "verify".to_string(),
        s(project),
        "--snapshot".into(),
        s(snap),
        "--trusted-root".into(),
        s(&w.dir.join("trusted_root.json")),
    ];
    a.extend(extra.iter().map(|x| x.to_string()));
    run(&a)
}

/// Stops the world's registry (a fresh empty one takes its place in the struct, on another
/// port, never named by anything).
fn stop_registry(w: &mut World) {
    let old = std::mem::replace(&mut w.registry, FixtureRegistry::start());
    drop(old);
}

fn manifest(snap: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(snap.join("manifest.json")).unwrap()).unwrap()
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The acceptance project: provenance (two packages, one scoped), a registry signature over
/// another integrity, a version without attestations (404), a version whose provenance
/// disappeared after a release with it (history), and a packument the registry fails (500).
fn acceptance_world(tag: &str) -> (World, PathBuf) {
    let w = World::new(tag);
    w.registry.add_keys(
        w.sigstore
            .npm_registry_keys_json(KeyWindow {
                start: T0 - 86_400 * 365,
                end: None,
            })
            .into_bytes(),
    );
    let mut alpha = Pkg::new("alpha", "1.0.0");
    alpha.att = Att::Full;
    let mut beta = Pkg::new("@scope/beta", "2.1.0");
    beta.att = Att::Full;
    let mut tampered = Pkg::new("tampered", "1.0.0");
    tampered.sig = Sig::Tampered;
    let plain = Pkg::new("plain", "0.3.0");
    let mut gone_old = Pkg::new("gone", "1.0.0");
    gone_old.att = Att::Full;
    gone_old.time = T0 - 86_400 * 30;
    let gone_new = Pkg::new("gone", "1.1.0");
    let flaky = Pkg::new("flaky", "1.0.0");
    w.publish(&[
        alpha.clone(),
        beta.clone(),
        tampered.clone(),
        plain.clone(),
        gone_old,
        gone_new.clone(),
        flaky.clone(),
    ]);
    w.registry.fault("/flaky", Fault::Status(500));
    let project = w.project("app", &[alpha, beta, tampered, plain, gone_new, flaky]);
    npmrc(&w, &project, "");
    (w, project)
}

// ---------------------------------------------------------------------------------------------

#[test]
fn replay_with_the_registry_stopped_gives_the_identical_json_report() {
    let (mut w, project) = acceptance_world("snap-accept");
    let live = verify(
        &w,
        &project,
        "cache-live",
        &["--format", "json", "--danger-now", NOW],
    );
    let doc = report(&live);
    // The live report is the interesting one the acceptance is about.
    assert_eq!(live.status.code(), Some(1), "{}", stderr(&live));
    assert_eq!(
        package(&doc, "alpha", "1.0.0")["provenance"]["status"],
        "verified"
    );
    assert_eq!(
        package(&doc, "@scope/beta", "2.1.0")["provenance"]["status"],
        "verified"
    );
    assert_eq!(
        package(&doc, "tampered", "1.0.0")["registry_signature"]["status"],
        "invalid"
    );
    assert_eq!(
        package(&doc, "plain", "0.3.0")["provenance"]["status"],
        "missing"
    );
    let gone = package(&doc, "gone", "1.1.0")["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "provenance-downgrade")
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect::<Vec<_>>();
    assert!(
        gone.iter()
            .any(|m| m.contains("Baseline evidence: verified")),
        "history ran on a verified baseline: {gone:?}"
    );
    let flaky = package(&doc, "flaky", "1.0.0");
    assert!(codes(flaky).iter().any(|(c, _)| c == "unverifiable"));
    assert_eq!(doc["clock"]["source"], "danger-now");
    assert_eq!(doc["clock"]["now"], NOW);

    let snap = w.dir.join("snap");
    let taken = snapshot(&w, &project, &snap, &[]);
    assert_eq!(taken.status.code(), Some(1), "{}", stdout(&taken));
    assert!(stdout(&taken).contains("INCOMPLETE"), "{}", stdout(&taken));
    assert!(
        stdout(&taken).contains("HTTP status 500"),
        "{}",
        stdout(&taken)
    );
    let m = manifest(&snap);
    assert_eq!(m["schema"], "npm-provenance/snapshot/v1");
    assert_eq!(m["complete"], false);
    assert_eq!(m["failed"], 1);
    assert_eq!(m["registries"]["default"], w.registry.url());
    assert_eq!(m["registries"]["scopes"]["@scope"], w.registry.url());
    let entries = m["entries"].as_array().unwrap();
    let outcome = |suffix: &str| {
        entries
            .iter()
            .find(|e| e["url"].as_str().unwrap().ends_with(suffix))
            .unwrap_or_else(|| panic!("no entry for {suffix}"))["outcome"]
            .clone()
    };
    assert_eq!(outcome("/-/npm/v1/keys"), "ok");
    assert_eq!(outcome("/-/npm/v1/attestations/plain@0.3.0"), "not-found");
    assert_eq!(outcome("/flaky"), "failed");
    assert_eq!(outcome("/-/npm/v1/attestations/alpha@1.0.0"), "ok");
    // The history baseline's attestations (gone@1.0.0 is not installed) are recorded too.
    assert_eq!(outcome("/-/npm/v1/attestations/gone@1.0.0"), "ok");
    let lock = std::fs::read(project.join("package-lock.json")).unwrap();
    assert_eq!(
        m["inventory"]["sha256"],
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&lock))
    );
    for e in entries.iter().filter(|e| e["outcome"] == "ok") {
        let body = std::fs::read(snap.join(e["body"].as_str().unwrap())).unwrap();
        assert_eq!(e["size"], body.len());
        assert_eq!(
            e["sha256"],
            hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&body))
        );
    }

    // Air gap: no registry, no `.npmrc`.
    stop_registry(&mut w);
    std::fs::remove_file(project.join(".npmrc")).unwrap();
    let replayed = replay(
        &w,
        &project,
        &snap,
        &["--format", "json", "--danger-now", NOW],
    );
    assert_eq!(
        replayed.status.code(),
        live.status.code(),
        "{}",
        stderr(&replayed)
    );
    assert!(
        replayed.stdout == live.stdout,
        "the replayed report differs:\n{}",
        stdout(&replayed)
    );
    let err = stderr(&replayed);
    assert!(
        err.contains("snapshot") && err.contains("taken at"),
        "{err}"
    );
    assert!(err.contains("incomplete"), "{err}");

    // The text output says where the data came from and which clock.
    let text = replay(&w, &project, &snap, &["--danger-now", NOW]);
    let t = stdout(&text);
    assert!(t.contains("registry data: snapshot"), "{t}");
    assert!(t.contains(m["taken_at"].as_str().unwrap()), "{t}");
    assert!(
        t.contains(&format!("clock: pinned by --danger-now at {NOW}")),
        "{t}"
    );
}

#[test]
fn no_token_reaches_a_snapshot() {
    const TOKEN: &str = "npm_SnapshotSecretToken0123456789";
    let w = World::new("snap-token");
    let mut a = Pkg::new("alpha", "1.0.0");
    a.att = Att::Full;
    w.publish(std::slice::from_ref(&a));
    let project = w.project("app", &[a]);
    let nerf = w.registry.url().replacen("http:", "", 1);
    npmrc(&w, &project, &format!("{nerf}:_authToken={TOKEN}\n"));
    let snap = w.dir.join("snap");
    let out = snapshot(
        &w,
        &project,
        &snap,
        &["--npm-keys", &s(&w.dir.join("npm-keys.json"))],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    // The token was in play: the registry received it.
    assert!(w
        .registry
        .requests()
        .iter()
        .any(|r| r.header("authorization") == Some(&format!("Bearer {TOKEN}"))));
    let all = files(&snap);
    assert!(all.len() >= 3, "{all:?}");
    for f in all {
        let bytes = std::fs::read(&f).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for needle in [
            TOKEN,
            "_authToken",
            "Bearer",
            "authorization",
            "Authorization",
        ] {
            assert!(!text.contains(needle), "{} contains {needle}", f.display());
        }
    }
    assert!(!stdout(&out).contains(TOKEN) && !stderr(&out).contains(TOKEN));
}

#[test]
fn registry_userinfo_reaches_neither_the_report_nor_the_snapshot() {
    const PASSWORD: &str = "s3cretPassw0rd";
    let mut w = World::new("snap-userinfo");
    let mut a = Pkg::new("alpha", "1.0.0");
    a.att = Att::Full;
    w.publish(std::slice::from_ref(&a));
    let project = w.project("app", &[a]);
    let with_userinfo =
        w.registry
            .url()
            .replacen("http://", &format!("http://alice:{PASSWORD}@"), 1);
    std::fs::write(
        project.join(".npmrc"),
        format!("registry={with_userinfo}\n"),
    )
    .unwrap();
    let keys = s(&w.dir.join("npm-keys.json"));
    let live = verify(
        &w,
        &project,
        "cache-live",
        &["--npm-keys", &keys, "--json", "--danger-now", NOW],
    );
    assert_eq!(live.status.code(), Some(0), "{}", stdout(&live));
    assert!(!stdout(&live).contains(PASSWORD), "{}", stdout(&live));
    assert_eq!(
        package(&report(&live), "alpha", "1.0.0")["registry"],
        w.registry.url()
    );
    let snap = w.dir.join("snap");
    let taken = snapshot(&w, &project, &snap, &["--npm-keys", &keys]);
    assert_eq!(taken.status.code(), Some(0), "{}", stdout(&taken));
    for f in files(&snap) {
        let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned();
        assert!(
            !text.contains(PASSWORD) && !text.contains("alice"),
            "{}",
            f.display()
        );
    }
    stop_registry(&mut w);
    let replayed = replay(
        &w,
        &project,
        &snap,
        &["--npm-keys", &keys, "--json", "--danger-now", NOW],
    );
    assert!(replayed.stdout == live.stdout, "{}", stdout(&replayed));
}

#[test]
fn damaged_and_absent_answers_are_unverifiable_never_verified() {
    let w = World::new("snap-damage");
    let keys = s(&w.dir.join("npm-keys.json"));
    let mut a = Pkg::new("alpha", "1.0.0");
    a.att = Att::Full;
    let mut b = Pkg::new("beta", "2.0.0");
    b.att = Att::Full;
    let extra = Pkg::new("newcomer", "1.0.0");
    w.publish(&[a.clone(), b.clone(), extra.clone()]);
    let project = w.project("app", &[a.clone(), b.clone()]);
    npmrc(&w, &project, "");
    let snap = w.dir.join("snap");
    let taken = snapshot(&w, &project, &snap, &["--npm-keys", &keys]);
    assert_eq!(taken.status.code(), Some(0), "{}", stdout(&taken));
    assert!(stdout(&taken).contains("COMPLETE"), "{}", stdout(&taken));
    w.registry.clear_log();

    let ok = replay(&w, &project, &snap, &["--npm-keys", &keys, "--json"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert_eq!(report(&ok)["summary"]["verified"], 2);

    // `inspect` and `history` answer from the snapshot too.
    let inspect = run(&[
        "inspect".into(),
        "alpha@1.0.0".into(),
        "--snapshot".into(),
        s(&snap),
        "--trusted-root".into(),
        s(&w.dir.join("trusted_root.json")),
        "--npm-keys".into(),
        keys.clone(),
        "--json".into(),
    ]);
    let doc = report(&inspect);
    assert_eq!(doc["evidence"]["provenance"]["status"], "verified", "{doc}");
    let history = run(&[
        "history".into(),
        "beta".into(),
        "--snapshot".into(),
        s(&snap),
        "--json".into(),
    ]);
    let doc = report(&history);
    assert_eq!(doc["versions"][0]["version"], "2.0.0", "{doc}");
    let history = run(&[
        "history".into(),
        "newcomer".into(),
        "--snapshot".into(),
        s(&snap),
        "--json".into(),
    ]);
    let doc = report(&history);
    assert!(
        doc["findings"].to_string().contains("not in the snapshot"),
        "{doc}"
    );

    // One body changed in place (same size): that package is unverifiable, the other is not.
    let m = manifest(&snap);
    let att = m["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["url"]
                .as_str()
                .unwrap()
                .ends_with("attestations/alpha@1.0.0")
        })
        .unwrap();
    let body = snap.join(att["body"].as_str().unwrap());
    let original = std::fs::read(&body).unwrap();
    let mut changed = original.clone();
    let i = changed.iter().position(|&c| c == b'A').unwrap();
    changed[i] = b'B';
    std::fs::write(&body, &changed).unwrap();
    let out = replay(&w, &project, &snap, &["--npm-keys", &keys, "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = report(&out);
    let alpha = package(&doc, "alpha", "1.0.0");
    assert_ne!(alpha["provenance"]["status"], "verified");
    let msgs = alpha["findings"].to_string();
    assert!(
        msgs.contains("unverifiable") && msgs.contains("damaged"),
        "{msgs}"
    );
    assert_eq!(
        package(&doc, "beta", "2.0.0")["provenance"]["status"],
        "verified"
    );
    assert_eq!(doc["summary"]["verified"], 1);
    std::fs::write(&body, &original).unwrap();

    // A package the snapshot has nothing for (the lockfile changed since).
    let project2 = w.project("app2", &[a, b, extra]);
    let out = replay(&w, &project2, &snap, &["--npm-keys", &keys, "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("is not the inventory the snapshot was taken for"));
    let doc = report(&out);
    let newcomer = package(&doc, "newcomer", "1.0.0");
    assert_eq!(newcomer["registry_signature"]["status"], "unverifiable");
    assert!(
        newcomer["findings"]
            .to_string()
            .contains("not in the snapshot"),
        "{newcomer}"
    );
    assert_eq!(doc["summary"]["verified"], 2);

    // Nothing of this reached the registry, which was up all along.
    assert!(
        w.registry.requests().is_empty(),
        "{:?}",
        w.registry.requests()
    );
}

#[test]
fn broken_manifests_are_exit_2_naming_the_file() {
    let w = World::new("snap-broken");
    let a = Pkg::new("alpha", "1.0.0");
    let project = w.project("app", &[a]);
    let snap = w.dir.join("snap");
    std::fs::create_dir_all(&snap).unwrap();
    let missing = replay(&w, &project, &snap, &["--json"]);
    assert_eq!(missing.status.code(), Some(2));
    let doc = report(&missing);
    assert_eq!(doc["schema"], "npm-provenance/error/v1");
    assert!(doc["error"]["path"]
        .as_str()
        .unwrap()
        .ends_with("manifest.json"));
    std::fs::write(
        snap.join("manifest.json"),
        "{\"schema\": \"npm-provenance/snap",
    )
    .unwrap();
    let garbled = replay(&w, &project, &snap, &["--json"]);
    assert_eq!(garbled.status.code(), Some(2));
    let doc = report(&garbled);
    assert_eq!(doc["error"]["kind"], "parse");
    assert!(doc["error"]["path"]
        .as_str()
        .unwrap()
        .ends_with("manifest.json"));
    assert!(stderr(&garbled).contains("manifest.json"));
}

#[test]
fn replay_opens_no_socket() {
    use std::net::TcpListener;
    let w = World::new("snap-socket");
    let a = Pkg::new("alpha", "1.0.0");
    let project = w.project("app", &[a]);
    // A snapshot naming a registry that listens: whatever is not in the snapshot must not be
    // asked of it.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let snap = w.dir.join("snap");
    std::fs::create_dir_all(&snap).unwrap();
    let m = serde_json::json!({
        "schema": "npm-provenance/snapshot/v1",
        "taken_at": "2025-05-01T00:00:00Z",
        "tool": {"name": "npm-provenance", "version": "0"},
        "inventory": {"path": "package-lock.json", "sha256": null},
        "registries": {"default": url, "scopes": {}, "metadata": null},
        "options": {"history": true, "omit": [], "workspace": [], "policy": null},
        "trust": {"trusted_root_sha256": "", "npm_keys_sha256": ""},
        "complete": true, "failed": 0, "entries": []
    });
    std::fs::write(snap.join("manifest.json"), m.to_string()).unwrap();
    let out = replay(&w, &project, &snap, &["--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = report(&out);
    let alpha = package(&doc, "alpha", "1.0.0");
    assert_eq!(alpha["registry"], url);
    let msgs = alpha["findings"].to_string();
    assert!(msgs.contains("not in the snapshot"), "{msgs}");
    assert!(!msgs.contains("connection"), "{msgs}");
    // The trust material differs from the (empty) fingerprints recorded: warned.
    assert!(stderr(&out).contains("differs from the one the snapshot was taken with"));
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the replay connected to the registry: {other:?}"),
    }
}

#[test]
fn snapshot_refuses_a_directory_of_other_data_and_replay_refuses_fetch_flags() {
    let w = World::new("snap-refuse");
    let a = Pkg::new("alpha", "1.0.0");
    w.publish(std::slice::from_ref(&a));
    let project = w.project("app", &[a]);
    npmrc(&w, &project, "");
    let out_dir = w.dir.join("docs");
    std::fs::create_dir_all(&out_dir).unwrap();
    std::fs::write(out_dir.join("notes.md"), "mine").unwrap();
    let out = snapshot(&w, &project, &out_dir, &["--json"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(report(&out)["error"]["kind"], "usage");
    assert!(stderr(&out).contains("not a snapshot"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(out_dir.join("notes.md")).unwrap(),
        "mine"
    );
    assert!(w.registry.requests().is_empty(), "fetched before refusing");
    assert!(!out_dir.join("manifest.json").exists());

    // No inventory: exit 2, and the directory it would have created is not left behind.
    let empty = w.dir.join("no-project");
    std::fs::create_dir_all(&empty).unwrap();
    let never = w.dir.join("never");
    let out = snapshot(&w, &empty, &never, &["--json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(report(&out)["error"]["kind"], "inventory");
    assert!(!never.exists());

    // An earlier snapshot is replaced.
    let snap = w.dir.join("snap");
    for _ in 0..2 {
        let out = snapshot(&w, &project, &snap, &["--json"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let doc = report(&out);
        assert_eq!(doc["schema"], "npm-provenance/snapshot-result/v1");
        assert_eq!(doc["complete"], true);
    }

    let same = replay(&w, &project, &snap, &[]);
    assert!(
        !stderr(&same).contains("differ from the snapshot's"),
        "{}",
        stderr(&same)
    );
    let other = replay(&w, &project, &snap, &["--attestations", "announced"]);
    assert!(
        stderr(&other).contains("differ from the snapshot's"),
        "{}",
        stderr(&other)
    );
    let other = replay(&w, &project, &snap, &["--no-history"]);
    assert!(
        stderr(&other).contains("differ from the snapshot's (history on, --attestations auto)"),
        "{}",
        stderr(&other)
    );

    for flag in [
        &["--registry", "http://127.0.0.1:9/"][..],
        &["--offline"],
        &["--cache-dir", "/tmp/x"],
        &["--metadata-registry", "http://127.0.0.1:9/"],
    ] {
        let out = replay(&w, &project, &snap, flag);
        assert_eq!(out.status.code(), Some(2), "{flag:?}");
        assert!(
            stderr(&out).contains("cannot be used with"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn clock_is_reported_and_drives_exclusion_expiry() {
    let w = World::new("snap-clock");
    let keys = s(&w.dir.join("npm-keys.json"));
    let plain = Pkg::new("plain", "1.0.0");
    let mut tampered = Pkg::new("tampered", "1.0.0");
    tampered.sig = Sig::Tampered;
    w.publish(&[plain.clone(), tampered.clone()]);
    let project = w.project("app", &[plain, tampered]);
    npmrc(&w, &project, "");
    // Expired at the real clock (this runs after 2026-01-01), in force on 2025-06-01.
    std::fs::write(
        project.join("npm-provenance.toml"),
        "[[exclusion]]\npackage = \"tampered@1.0.0\"\nreason = \"accepted for the test\"\n\
         expires = 2026-01-01\n",
    )
    .unwrap();
    let snap = w.dir.join("snap");
    let taken = snapshot(&w, &project, &snap, &["--npm-keys", &keys]);
    assert_eq!(taken.status.code(), Some(0), "{}", stdout(&taken));

    let pinned = replay(
        &w,
        &project,
        &snap,
        &["--npm-keys", &keys, "--json", "--danger-now", NOW],
    );
    let doc = report(&pinned);
    assert_eq!(
        doc["clock"],
        serde_json::json!({"source": "danger-now", "now": NOW})
    );
    assert_eq!(pinned.status.code(), Some(0), "{}", stdout(&pinned));
    assert!(codes(package(&doc, "tampered", "1.0.0")).is_empty());
    assert!(doc["summary"]["suppressed"].as_u64().unwrap() > 0);

    let system = replay(&w, &project, &snap, &["--npm-keys", &keys, "--json"]);
    let doc = report(&system);
    assert_eq!(doc["clock"], serde_json::json!({"source": "system"}));
    assert_eq!(system.status.code(), Some(1), "{}", stdout(&system));
    let tampered = codes(package(&doc, "tampered", "1.0.0"));
    assert!(
        tampered
            .iter()
            .any(|(c, l)| c == "registry-signature-invalid" && l == "deny"),
        "{tampered:?}"
    );
    assert!(
        doc["findings"]
            .to_string()
            .contains("policy-exclusion-expired"),
        "{}",
        doc["findings"]
    );
    let text = replay(&w, &project, &snap, &["--npm-keys", &keys]);
    assert!(stdout(&text).contains("clock: system"), "{}", stdout(&text));
}

/// Replay of real registry data (nuxt's packument and attestations, relayed by
/// `--metadata-registry`) with the embedded production trust material: same bytes, and no
/// trust warning (the same material on both sides).
#[test]
fn real_nuxt_data_replays_identically_with_production_trust() {
    let Some(corpus) = npm_provenance_testkit::corpus::corpus_dir(module_path!()) else {
        return;
    };
    let reg = FixtureRegistry::start();
    npm_provenance_testkit::fixture_registry::load_corpus(&reg, &corpus).unwrap();
    let nuxt: Value = serde_json::from_slice(
        &std::fs::read(corpus.join("provenance-action/npm-registry__metadata__nuxt.json")).unwrap(),
    )
    .unwrap();
    let pkg = |v: &str| {
        Pkg::with_integrity(
            "nuxt",
            v,
            nuxt["versions"][v]["dist"]["integrity"].as_str().unwrap(),
        )
    };
    let dir = std::env::temp_dir().join(format!("npmprov-snap-nuxt-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let lock = dir.join("package-lock.json");
    std::fs::write(
        &lock,
        super::verify_e2e::lockfile(&[pkg("4.1.2"), pkg("3.13.0"), pkg("3.0.0")]),
    )
    .unwrap();
    let common = |cmd: &str, cache: &str| -> Vec<String> {
        vec![
            cmd.into(),
            s(&lock),
            "--metadata-registry".into(),
            reg.url(),
            "--cache-dir".into(),
            s(&dir.join(cache)),
        ]
    };
    let mut live_args = common("verify", "cache-live");
    live_args.extend(["--json", "--danger-now", "2030-01-01T00:00:00Z"].map(String::from));
    let live = run(&live_args);
    let snap = dir.join("snap");
    let mut snap_args = common("snapshot", "cache-snap");
    snap_args.extend(["--out".to_string(), s(&snap)]);
    let taken = run(&snap_args);
    assert_eq!(taken.status.code(), Some(0), "{}", stdout(&taken));
    drop(reg);
    let m = manifest(&snap);
    assert!(m["registries"]["metadata"]
        .as_str()
        .unwrap()
        .starts_with("http://127.0.0.1:"));
    let replayed = run(&[
        "verify".into(),
        s(&lock),
        "--snapshot".into(),
        s(&snap),
        "--json".into(),
        "--danger-now".into(),
        "2030-01-01T00:00:00Z".into(),
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(live.status.code(), Some(0), "{}", stdout(&live));
    assert_eq!(
        replayed.status.code(),
        Some(0),
        "{}{}",
        stderr(&replayed),
        stdout(&replayed)
    );
    assert!(replayed.stdout == live.stdout, "{}", stdout(&replayed));
    assert_eq!(report(&replayed)["summary"]["with_provenance"], 2);
    assert!(
        !stderr(&replayed).contains("warning"),
        "{}",
        stderr(&replayed)
    );
}

/// A 1,000+ package corpus lockfile: snapshot, registry stopped, identical replay.
#[test]
fn corpus_lockfile_of_1000_plus_packages_replays_identically() {
    let Some(corpus) = npm_provenance_testkit::corpus::corpus_dir(module_path!()) else {
        return;
    };
    let lock = corpus.join("lockfiles/npm-v3-insomnia-1830pkgs/package-lock.json");
    let inv = npm_provenance::inventory::load(
        &lock,
        &npm_provenance::inventory::InventoryOptions::default(),
    )
    .unwrap();
    let mut pkgs: Vec<Pkg> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for p in inv.registry_packages() {
        if !seen.insert((p.name.clone(), p.version.clone())) {
            continue;
        }
        let integrity = p.integrity.as_ref().unwrap().to_string();
        let mut pkg = Pkg::with_integrity(&p.name, &p.version, &integrity);
        if pkgs.len() % 100 == 0 {
            pkg.att = Att::Full;
        }
        pkgs.push(pkg);
    }
    assert!(pkgs.len() >= 1000);
    let mut w = World::new("snap-big");
    w.publish(&pkgs);
    let base = |cmd: &str| -> Vec<String> {
        vec![
            cmd.into(),
            s(&lock),
            "--metadata-registry".into(),
            w.registry.url(),
            "--trusted-root".into(),
            s(&w.dir.join("trusted_root.json")),
            "--npm-keys".into(),
            s(&w.dir.join("npm-keys.json")),
            "--quiet".into(),
        ]
    };
    let mut live_args = base("verify");
    live_args.extend(["--json", "--danger-now", NOW].map(String::from));
    let live = run(&live_args);
    let snap = w.dir.join("snap");
    let mut snap_args = base("snapshot");
    snap_args.extend(["--out".to_string(), s(&snap)]);
    let taken = run(&snap_args);
    assert_eq!(taken.status.code(), Some(0), "{}", stdout(&taken));
    stop_registry(&mut w);
    let replayed = run(&[
        "verify".into(),
        s(&lock),
        "--snapshot".into(),
        s(&snap),
        "--trusted-root".into(),
        s(&w.dir.join("trusted_root.json")),
        "--npm-keys".into(),
        s(&w.dir.join("npm-keys.json")),
        "--json".into(),
        "--danger-now".into(),
        NOW.into(),
    ]);
    assert_eq!(replayed.status.code(), live.status.code());
    assert!(
        replayed.stdout == live.stdout,
        "the replayed report differs"
    );
    let doc = report(&live);
    assert!(
        doc["summary"]["verified"].as_u64().unwrap() >= 1000,
        "{}",
        doc["summary"]
    );
    let m = manifest(&snap);
    assert_eq!(m["complete"], true);
    // One packument per name, the attestations of every version.
    let names: std::collections::BTreeSet<&str> = pkgs.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        m["entries"].as_array().unwrap().len(),
        names.len() + pkgs.len()
    );
}
