//! Unit tests of the snapshot store: record → write → replay, failures, damage, refusal of
//! foreign directories, manifest checks.

use super::*;

fn tmp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("npmprov-snap-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn header() -> Manifest {
    Manifest {
        schema: SCHEMA.into(),
        taken_at: Timestamp::UNIX_EPOCH,
        tool: Tool::this(),
        inventory: InventoryRecord {
            path: "package-lock.json".into(),
            sha256: None,
        },
        registries: Registries {
            default: "https://r.example/".into(),
            scopes: BTreeMap::new(),
            metadata: None,
        },
        options: Options {
            history: true,
            omit: Vec::new(),
            workspace: Vec::new(),
            policy: None,
            attestations: "auto".into(),
        },
        trust: TrustRecord {
            trusted_root_sha256: String::new(),
            npm_keys_sha256: String::new(),
        },
        complete: false,
        failed: 0,
        entries: Vec::new(),
    }
}

fn ok(body: &[u8]) -> Result<Fetched, FetchError> {
    Ok(Fetched {
        bytes: Bytes::copy_from_slice(body),
        from_cache: false,
        status: 200,
    })
}

fn err(u: &Url, reason: FetchFailure) -> Result<Fetched, FetchError> {
    Err(FetchError {
        url_redacted: redact_url(u),
        reason,
    })
}

#[test]
fn every_failure_round_trips() {
    for f in [
        FetchFailure::NotFound,
        FetchFailure::Status(503),
        FetchFailure::Timeout,
        FetchFailure::Connection,
        FetchFailure::TooLarge { cap: 7 },
        FetchFailure::RetriesExhausted,
        FetchFailure::Offline,
        FetchFailure::Redirect,
        FetchFailure::Decode,
        FetchFailure::Insecure,
        FetchFailure::NotInSnapshot,
    ] {
        let rec = Failure::of(&f);
        assert_eq!(rec.message, f.to_string());
        assert_eq!(rec.to_fetch_failure(), Some(f));
    }
    assert_eq!(
        Failure::of(&FetchFailure::SnapshotDamaged("x".into())).to_fetch_failure(),
        None
    );
}

#[test]
fn record_write_replay() {
    let dir = tmp("rw");
    prepare_dir(&dir).unwrap();
    let rec = Recorder::new();
    let p = Url::parse("https://user:tok@r.example/pkg").unwrap();
    let a = Url::parse("https://r.example/-/npm/v1/attestations/pkg@1.0.0").unwrap();
    let k = Url::parse("https://r.example/-/npm/v1/keys").unwrap();
    let packument = br#"{"name":"pkg","versions":{}}"#;
    rec.record(&p, Accept::Json, ResourceKind::Packument, &ok(packument));
    // The first answer to a request is kept.
    rec.record(
        &p,
        Accept::Json,
        ResourceKind::Packument,
        &err(&p, FetchFailure::Timeout),
    );
    rec.record(
        &a,
        Accept::Json,
        ResourceKind::Attestations,
        &err(&a, FetchFailure::NotFound),
    );
    rec.record(
        &k,
        Accept::Json,
        ResourceKind::Keys,
        &err(&k, FetchFailure::Status(500)),
    );
    let w = rec.write(&dir, header()).unwrap();
    assert_eq!(w.manifest.entries.len(), 3);
    assert_eq!((w.manifest.failed, w.manifest.complete), (1, false));
    let text = std::fs::read_to_string(dir.join(MANIFEST)).unwrap();
    assert!(!text.contains("tok") && !text.contains("user"), "{text}");

    let r = Replay::open(&dir).unwrap();
    let caps = SizeCaps::default();
    let got = r
        .answer(&p, Accept::Json, ResourceKind::Packument, &caps)
        .unwrap();
    assert_eq!(&got.bytes[..], packument);
    assert_eq!(
        r.answer(&a, Accept::Json, ResourceKind::Attestations, &caps)
            .unwrap_err(),
        FetchFailure::NotFound
    );
    assert_eq!(
        r.answer(&k, Accept::Json, ResourceKind::Keys, &caps)
            .unwrap_err(),
        FetchFailure::Status(500)
    );
    // Another Accept variant is another request.
    assert_eq!(
        r.answer(&p, Accept::Abbreviated, ResourceKind::Packument, &caps)
            .unwrap_err(),
        FetchFailure::NotInSnapshot
    );
    // A smaller cap than the recorded body: too large, as live.
    let small = SizeCaps {
        packument: 4,
        ..caps
    };
    assert_eq!(
        r.answer(&p, Accept::Json, ResourceKind::Packument, &small)
            .unwrap_err(),
        FetchFailure::TooLarge { cap: 4 }
    );

    // A changed body of the same size is damaged, never served.
    let entry = w.manifest.entries.iter().find(|e| e.outcome == Outcome::Ok);
    let body = dir.join(entry.unwrap().body.clone().unwrap());
    let mut changed = packument.to_vec();
    changed[2] = b'N';
    std::fs::write(&body, &changed).unwrap();
    assert!(matches!(
        r.answer(&p, Accept::Json, ResourceKind::Packument, &caps),
        Err(FetchFailure::SnapshotDamaged(m)) if m.contains("sha256")
    ));
    std::fs::remove_file(&body).unwrap();
    assert!(matches!(
        r.answer(&p, Accept::Json, ResourceKind::Packument, &caps),
        Err(FetchFailure::SnapshotDamaged(_))
    ));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rewriting_a_snapshot_drops_unused_bodies_only() {
    let dir = tmp("prune");
    prepare_dir(&dir).unwrap();
    let u = Url::parse("https://r.example/pkg").unwrap();
    let rec = Recorder::new();
    rec.record(
        &u,
        Accept::Json,
        ResourceKind::Packument,
        &ok(br#"{"versions":{}}"#),
    );
    let first = rec.write(&dir, header()).unwrap();
    let old = dir.join(first.manifest.entries[0].body.clone().unwrap());
    std::fs::write(dir.join(BODIES).join("notes.txt"), "mine").unwrap();
    prepare_dir(&dir).unwrap();
    let rec = Recorder::new();
    rec.record(
        &u,
        Accept::Json,
        ResourceKind::Packument,
        &ok(br#"{"versions":{"1":{}}}"#),
    );
    rec.write(&dir, header()).unwrap();
    assert!(!old.exists());
    assert!(dir.join(BODIES).join("notes.txt").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_directory_with_other_data_is_refused() {
    let dir = tmp("refuse");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("thesis.tex"), "precious").unwrap();
    let Err(AppError::Usage(m)) = prepare_dir(&dir) else {
        panic!("accepted a directory of user data");
    };
    assert!(m.contains("not a snapshot"), "{m}");
    std::fs::write(dir.join(MANIFEST), r#"{"schema":"something/else"}"#).unwrap();
    assert!(prepare_dir(&dir).is_err());
    assert_eq!(
        std::fs::read_to_string(dir.join("thesis.tex")).unwrap(),
        "precious"
    );
    let file = dir.join("thesis.tex");
    assert!(matches!(prepare_dir(&file), Err(AppError::Usage(_))));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_fuzzing_seed_reaches_past_parsing() {
    let dir = tmp("seed");
    std::fs::create_dir_all(&dir).unwrap();
    let seed = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fuzz/seeds/snapshot_manifest/entries.json"
    );
    std::fs::copy(seed, dir.join(MANIFEST)).unwrap();
    let r = Replay::open(&dir).unwrap();
    assert_eq!(r.manifest().entries.len(), 3);
    let u = Url::parse("https://registry.example/flaky").unwrap();
    assert_eq!(
        r.answer(
            &u,
            Accept::Json,
            ResourceKind::Packument,
            &SizeCaps::default()
        )
        .unwrap_err(),
        FetchFailure::TooLarge { cap: 10 }
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_manifests_name_the_file() {
    let dir = tmp("bad");
    std::fs::create_dir_all(&dir).unwrap();
    let Err(AppError::Read { path, .. }) = Replay::open(&dir) else {
        panic!("opened a snapshot without a manifest");
    };
    assert!(path.ends_with(MANIFEST));
    let mut m = serde_json::to_value(header()).unwrap();
    for (mutate, want) in [
        (
            Box::new(|m: &mut serde_json::Value| m["schema"] = "x/v1".into())
                as Box<dyn Fn(&mut serde_json::Value)>,
            "schema",
        ),
        (
            Box::new(|m: &mut serde_json::Value| {
                m["entries"] = serde_json::json!([{"url": "https://r.example/a",
                    "accept": "*/*", "kind": "tarball", "outcome": "ok",
                    "body": "bodies/../../etc/passwd", "size": 1,
                    "sha256": "00".repeat(32), "fetched_at": "2025-01-01T00:00:00Z"}])
            }),
            "body",
        ),
        (
            Box::new(|m: &mut serde_json::Value| {
                m["entries"] = serde_json::json!([{"url": "https://r.example/a",
                    "accept": "*/*", "kind": "tarball", "outcome": "failed",
                    "failure": {"reason": "gremlins", "message": "?"},
                    "body": null, "size": null, "sha256": null,
                    "fetched_at": "2025-01-01T00:00:00Z"}])
            }),
            "gremlins",
        ),
        (
            Box::new(|m: &mut serde_json::Value| {
                m["registries"]["default"] = "file:///etc/".into()
            }),
            "registries.default",
        ),
    ] {
        let mut bad = m.clone();
        mutate(&mut bad);
        std::fs::write(dir.join(MANIFEST), serde_json::to_vec(&bad).unwrap()).unwrap();
        let Err(AppError::Parse { path, problem }) = Replay::open(&dir) else {
            panic!("accepted a manifest with a bad {want}");
        };
        assert!(path.ends_with(MANIFEST));
        assert!(problem.contains(want), "{problem}");
    }
    std::fs::write(dir.join(MANIFEST), b"{\"schema\": ").unwrap();
    assert!(matches!(Replay::open(&dir), Err(AppError::Parse { .. })));
    m["entries"] = serde_json::json!([]);
    std::fs::write(dir.join(MANIFEST), serde_json::to_vec(&m).unwrap()).unwrap();
    let r = Replay::open(&dir).unwrap();
    assert_eq!(
        r.registry_config().unwrap().default_registry.as_str(),
        "https://r.example/"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The manifest caps at their edge: a manifest exactly at the byte cap, with exactly the
/// allowed entries, at the allowed depth opens; one byte, one entry or one level more is
/// refused naming the file and the cap.
#[test]
fn manifest_caps_at_and_beyond_the_edge() {
    let dir = tmp("caps");
    std::fs::create_dir_all(dir.join(BODIES)).unwrap();
    let entry = |i: usize| {
        serde_json::json!({"url": format!("https://r.example/p{i}"), "accept": "*/*",
            "kind": "packument", "outcome": "not-found", "body": null, "size": null,
            "sha256": null, "fetched_at": "2025-01-01T00:00:00Z"})
    };
    let mut m = serde_json::to_value(header()).unwrap();
    m["entries"] = (0..3).map(entry).collect();
    let bytes = serde_json::to_vec(&m).unwrap();
    std::fs::write(dir.join(MANIFEST), &bytes).unwrap();
    let len = bytes.len() as u64;
    assert!(Replay::open_capped(&dir, len, 3).is_ok());
    let problem = |r: Result<Replay, AppError>| match r {
        Err(AppError::Parse { path, problem }) => {
            assert!(path.ends_with(MANIFEST));
            problem
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("accepted a manifest beyond a cap"),
    };
    assert!(
        problem(Replay::open_capped(&dir, len - 1, 3)).contains(&format!("{}-byte cap", len - 1))
    );
    assert!(problem(Replay::open_capped(&dir, len, 2)).contains("more than 2 entries"));

    // Depth: the manifest's own depth is 4; a value nested to the cap (16) inside an unknown
    // field still opens, one level more is refused before parsing.
    let nest = |levels: usize| {
        let mut v = serde_json::json!(1);
        for _ in 0..levels {
            v = serde_json::json!([v]);
        }
        v
    };
    let mut deep = m.clone();
    deep["x"] = nest(MAX_MANIFEST_DEPTH - 1);
    std::fs::write(dir.join(MANIFEST), serde_json::to_vec(&deep).unwrap()).unwrap();
    assert!(Replay::open(&dir).is_ok());
    deep["x"] = nest(MAX_MANIFEST_DEPTH);
    std::fs::write(dir.join(MANIFEST), serde_json::to_vec(&deep).unwrap()).unwrap();
    assert!(problem(Replay::open(&dir)).contains("deeper"));
    let _ = std::fs::remove_dir_all(&dir);
}
