//! Kill-mid-write crash safety of the registry cache and of `util::write_atomic` (the writer
//! of `--output` files and, once `pin` exists, of the policy file `npm-provenance.toml`).
//!
//! The test binary re-invokes itself (`writer_child`, ignored unless run on purpose) with
//! `NPM_PROVENANCE_CRASH_WRITER` naming what to write; the child writes generation after
//! generation of self-describing content in a loop, and the parent SIGKILLs it at seeded
//! pseudo-random moments, a bounded number of times. After each kill the file must hold one
//! complete generation (old or new, never torn), and the cache must either serve a complete
//! body or nothing: never a torn entry.

use npm_provenance::registry::cache::{Cache, CacheKey, EntryMeta};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ENV: &str = "NPM_PROVENANCE_CRASH_WRITER";
/// Kills per scenario: at least this many...
const KILLS: usize = 12;
/// ...and more until [`MID_WRITE_KILLS`] landed mid-write, up to this bound. Cache entries are
/// written without an fsync, so a write is short next to producing its bytes and only a
/// fraction of kills land inside one: the bound leaves room for a loaded machine (the loop
/// stops as soon as enough kills landed mid-write).
const MAX_KILLS: usize = 240;
/// Kills that must land mid-write (a temporary file left behind) for the test to count.
const MID_WRITE_KILLS: usize = 3;
/// Payload size: large enough that a write spans a good part of the kill window.
const PAYLOAD: usize = 512 * 1024;

#[test]
fn policy_file_writes_survive_kill_mid_write() {
    let dir = scratch("atomic");
    let file = dir.join("npm-provenance.toml");
    kill_loop("atomic", &file, &dir, |seen_before| {
        match std::fs::read(&file) {
            Ok(bytes) => {
                check_generation(&bytes).unwrap_or_else(|e| panic!("torn policy file: {e}"));
                true
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                assert!(
                    !seen_before,
                    "the policy file vanished after a complete write"
                );
                false
            }
            Err(e) => panic!("{}: {e}", file.display()),
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cache_entries_survive_kill_mid_write() {
    let dir = scratch("cache");
    kill_loop("cache", &dir, &dir, |seen_before| {
        let cache = Cache::open(&dir, false).expect("open cache");
        match cache.get(&cache_key()) {
            Some(entry) => {
                check_generation(&entry.body)
                    .unwrap_or_else(|e| panic!("the cache served a torn entry: {e}"));
                assert_eq!(entry.meta.body_len as usize, entry.body.len());
                true
            }
            None => {
                assert!(!seen_before, "a complete cache entry was lost to a kill");
                false
            }
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// The child side: writes until killed. Only does anything when spawned by the tests above.
#[test]
#[ignore = "run by the crash-safety tests as a child process"]
fn writer_child() {
    let Ok(spec) = std::env::var(ENV) else {
        return;
    };
    let (kind, target) = spec.split_once(':').expect("KIND:PATH");
    let target = PathBuf::from(target);
    let start: u64 = std::env::var("NPM_PROVENANCE_CRASH_GEN")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let cache = (kind == "cache").then(|| Cache::open(&target, false).expect("open cache"));
    for generation in start.. {
        let body = generation_bytes(generation);
        match &cache {
            Some(c) => c
                .put(&cache_key(), meta(), &body)
                .map(drop)
                .expect("cache put"),
            None => npm_provenance::util::write_atomic(&target, &body).expect("write_atomic"),
        }
    }
}

/// Spawns the writer `KILLS` times, kills it at a pseudo-random moment, runs `check` (given
/// whether a complete file was seen before; returns whether one is there now). Returns how many
/// kills left a temporary file, i.e. landed mid-write; asserts enough did.
fn kill_loop(kind: &str, target: &Path, dir: &Path, mut check: impl FnMut(bool) -> bool) -> usize {
    let exe = std::env::current_exe().expect("test binary");
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut seen = false;
    let mut interrupted = 0;
    let mut kills = 0;
    while kills < KILLS || (interrupted < MID_WRITE_KILLS && kills < MAX_KILLS) {
        let i = kills;
        kills += 1;
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut child = Command::new(&exe)
            .args([
                "crash_safety::writer_child",
                "--exact",
                "--ignored",
                "--nocapture",
            ])
            .env(ENV, format!("{kind}:{}", target.display()))
            .env(
                "NPM_PROVENANCE_CRASH_GEN",
                (i as u64 * 1_000_000).to_string(),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn writer");
        // Let it get going (the first kills may land before its first complete write), then
        // kill at a moment spread over a few writes.
        let wait = Duration::from_millis(20 + seed % 180);
        let start = Instant::now();
        while start.elapsed() < wait {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the writer exited by itself: {status}");
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        child.kill().expect("kill writer");
        let _ = child.wait();
        if leftover_temp_files(dir) > 0 {
            interrupted += 1;
        }
        seen |= check(seen);
    }
    assert!(
        seen,
        "no complete write in {kills} runs: the test proved nothing"
    );
    assert!(
        interrupted >= MID_WRITE_KILLS,
        "only {interrupted} of {kills} kills landed mid-write: the test proved little"
    );
    eprintln!("{kind}: {interrupted} of {kills} kills landed mid-write");
    interrupted
}

/// Deterministic content for one generation: a header naming the generation and the length,
/// then bytes derived from it. Any torn, truncated or mixed file fails [`check_generation`].
fn generation_bytes(generation: u64) -> Vec<u8> {
    let mut out = format!("generation = {generation}\nlength = {PAYLOAD}\n").into_bytes();
    let mut x = generation.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    while out.len() < PAYLOAD {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push(b'a' + (x % 26) as u8);
    }
    out
}

fn check_generation(bytes: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(&bytes[..bytes.len().min(64)]).unwrap_or("");
    let generation: u64 = text
        .strip_prefix("generation = ")
        .and_then(|r| r.split('\n').next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("no generation header ({} bytes)", bytes.len()))?;
    if bytes != generation_bytes(generation).as_slice() {
        return Err(format!(
            "{} bytes that are not generation {generation} ({PAYLOAD} bytes)",
            bytes.len()
        ));
    }
    Ok(())
}

/// Temporary files a killed writer left behind (and removes them).
fn leftover_temp_files(dir: &Path) -> usize {
    let mut n = 0;
    for p in crate::common::files_under(dir) {
        if p.file_name()
            .is_some_and(|f| f.to_string_lossy().contains(".tmp-"))
        {
            // Counted, then removed so the next kill is counted on its own.
            n += 1;
            let _ = std::fs::remove_file(&p);
        }
    }
    n
}

fn cache_key() -> CacheKey {
    let url = url::Url::parse("https://registry.example/pkg").expect("url");
    CacheKey::new(&url, "application/json", None)
}

fn meta() -> EntryMeta {
    EntryMeta {
        url: "https://registry.example/pkg".into(),
        accept: "application/json".into(),
        status: 200,
        etag: None,
        last_modified: None,
        immutable: false,
        fresh_until: None,
        body_len: 0,
        body_crc32: 0,
    }
}

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("npmprov-crash-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

/// Several writers of one file in one process (threads) and a reader: the reader only ever
/// sees complete generations. (Each call has its own temporary file.)
#[test]
fn concurrent_write_atomic_calls_never_tear() {
    let dir = scratch("threads");
    let file = dir.join("npm-provenance.toml");
    npm_provenance::util::write_atomic(&file, &generation_bytes(0)).expect("first write");
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let mut reads = 0;
            // Bounded even if a writer dies before `stop` is set: a failure never hangs.
            let deadline = Instant::now() + Duration::from_secs(30);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && Instant::now() < deadline {
                let bytes = std::fs::read(&file).expect("the file is always there");
                check_generation(&bytes).unwrap_or_else(|e| panic!("torn file: {e}"));
                reads += 1;
            }
            reads
        });
        let writers: Vec<_> = (0..4u64)
            .map(|w| {
                let file = &file;
                s.spawn(move || {
                    for g in 0..8 {
                        npm_provenance::util::write_atomic(file, &generation_bytes(w * 100 + g))
                            .expect("write_atomic");
                    }
                })
            })
            .collect();
        let results: Vec<_> = writers.into_iter().map(|w| w.join()).collect();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let reads = reader.join().expect("reader");
        for r in results {
            r.expect("writer");
        }
        assert!(reads > 0);
    });
    assert_eq!(
        leftover_temp_files(&dir),
        0,
        "a temporary file was left behind"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
