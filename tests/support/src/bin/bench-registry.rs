//! The benchmark's registry: serves every package of a real lockfile on 127.0.0.1 so that
//! `npm audit signatures` and `npm-provenance verify` can be timed doing the same work.
//!
//! ```sh
//! cargo run -p npm-provenance-testkit --bin bench-registry -- \
//!     --lockfile ../shared/corpus/lockfiles/npm-v3-theia-2637pkgs/package-lock.json \
//!     --tree /tmp/tree --out /tmp/bench [--latency-ms 50] [--seed 12] [--tuf-port 443]
//! ```
//!
//! What it serves, all generated deterministically from `--seed`:
//! - one packument per package name of the lockfile (full for `Accept: application/json`,
//!   abbreviated for `application/vnd.npm.install-v1+json`), holding the installed versions
//!   (the lockfile's integrity, a registry signature by the bench key, a `time` and `_npmUser`)
//!   plus padding versions so the sizes are realistic: most a few KB, about 2% around 1.5 MB,
//!   about 8% 100–400 KB, and the three largest 20, 35 and 50 MB;
//! - the corpus's real attested packages (MANIFEST §2.1 with their tarballs, and the real nuxt
//!   packument), added to the tree: their real attestation sets (which verify against the real
//!   Sigstore trusted root, as npm insists) and, for the corpus packages, a bench-key signature;
//! - `/-/npm/v1/keys`: the bench key plus the real npm keys (the publish attestations are
//!   signed by those);
//! - with `--tuf-port`, the corpus copy of the Sigstore TUF repository over https under
//!   `tuf-repo-cdn.sigstore.dev` (a throwaway CA written to `OUT/tuf-ca.pem`).
//!
//! It writes into `--out`: `registry-url` (first line: the URL), `npm-keys.json` (TUF
//! `keys.json` shape: bench key + real npm keys, for `--npm-keys`), `control-url` (a tiny
//! HTTP endpoint: `GET /count` answers the request counts by kind as JSON, `GET /reset`
//! clears them), `tuf-ca.pem` (with `--tuf-port`), and `ready` last. With `--tree` it writes
//! the project npm reads: `package.json`, the `package-lock.json` ours reads (the corpus one
//! plus the attested packages), workspace folders, links and one `package.json` per installed
//! location under `node_modules`. It stops after `--seconds` (default 3600).
//!
//! Packages bundled inside another package's tarball (`inBundle`) are left out of the tree and
//! of the lockfile ours reads: `npm audit signatures` asks the registry for each of them, while
//! ours reports them as bundled (their bytes come with the parent's tarball, which is verified),
//! so they would not be the same work. The theia lockfile has none.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use npm_provenance_testkit::fixture_registry::{
    abbreviate, sri_sha512, FixtureRegistry, LoggedRequest, ABBREVIATED, CORPUS_PACKAGES,
};
use npm_provenance_testkit::npm::{self as npmkit, KeyWindow};
use npm_provenance_testkit::seed;
use npm_provenance_testkit::tuf_server::{TufLayout, CORPUS_TUF_REPO};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha512};

/// 2025-03-01T00:00:00Z: publish time of every installed version (padding is older).
const T0: i64 = 1_740_787_200;
/// 2015-01-01T00:00:00Z: first padding version.
const PAD_START: i64 = 1_420_070_400;
const TUF_HOST: &str = "tuf-repo-cdn.sigstore.dev";
/// The real nuxt versions whose attestation sets the corpus holds.
const NUXT_VERSIONS: &[&str] = &["3.13.0"];

struct Args {
    lockfile: PathBuf,
    tree: Option<PathBuf>,
    out: PathBuf,
    latency_ms: u64,
    seed: u64,
    seconds: u64,
    tuf_port: Option<u16>,
    small: bool,
}

fn usage() -> String {
    "usage: bench-registry --lockfile FILE --out DIR [--tree DIR] [--latency-ms N] [--seed N] \
     [--seconds N] [--tuf-port PORT] [--small-packuments]"
        .into()
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        lockfile: PathBuf::new(),
        tree: None,
        out: PathBuf::new(),
        latency_ms: 0,
        seed: 12,
        seconds: 3600,
        tuf_port: None,
        small: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let num = |v: String| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: not a number: {v}"))
        };
        match flag.as_str() {
            "--lockfile" => a.lockfile = PathBuf::from(val()?),
            "--tree" => a.tree = Some(PathBuf::from(val()?)),
            "--out" => a.out = PathBuf::from(val()?),
            "--latency-ms" => a.latency_ms = num(val()?)?,
            "--seed" => a.seed = num(val()?)?,
            "--seconds" => a.seconds = num(val()?)?,
            "--tuf-port" => {
                a.tuf_port =
                    Some(u16::try_from(num(val()?)?).map_err(|_| "--tuf-port: out of range")?)
            }
            "--small-packuments" => a.small = true,
            "-h" | "--help" => return Err(usage()),
            _ => return Err(format!("unexpected argument {flag:?}\n{}", usage())),
        }
    }
    if a.lockfile.as_os_str().is_empty() || a.out.as_os_str().is_empty() {
        return Err(usage());
    }
    Ok(a)
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-registry: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

/// One installed version to serve.
#[derive(Clone)]
struct Installed {
    integrity: String,
    /// The corpus attestation set (relative path) if this is a real attested version.
    attestations: Option<PathBuf>,
}

fn read_json(p: &Path) -> Result<Value, String> {
    let bytes = std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", p.display()))
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let corpus = npm_provenance_testkit::corpus::corpus_dir("bench-registry")
        .ok_or("the corpus is required")?;
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let _ = std::fs::remove_file(args.out.join("ready"));

    let mut lock = read_json(&args.lockfile)?;
    without_bundled(&mut lock);
    let root_pkg_path = args
        .lockfile
        .parent()
        .map(|d| d.join("package.json"))
        .unwrap_or_default();
    let mut root_pkg = read_json(&root_pkg_path).unwrap_or_else(|_| json!({"name": "bench"}));

    // The real attested versions, added to the tree.
    let nuxt_path = corpus.join("provenance-action/npm-registry__metadata__nuxt.json");
    let nuxt = read_json(&nuxt_path)?;
    let mut extras: Vec<(String, String, Installed)> = Vec::new();
    for p in CORPUS_PACKAGES {
        let tgz =
            std::fs::read(corpus.join(p.tarball)).map_err(|e| format!("{}: {e}", p.tarball))?;
        extras.push((
            p.name.into(),
            p.version.into(),
            Installed {
                integrity: sri_sha512(&tgz),
                attestations: Some(corpus.join(p.attestations)),
            },
        ));
    }
    for v in NUXT_VERSIONS {
        let integrity = nuxt["versions"][*v]["dist"]["integrity"]
            .as_str()
            .ok_or_else(|| format!("{}: no integrity for {v}", nuxt_path.display()))?;
        extras.push((
            "nuxt".into(),
            (*v).into(),
            Installed {
                integrity: integrity.into(),
                attestations: Some(corpus.join(format!(
                    "provenance-action/npm-registry__attestations__npm-v1__nuxt@{v}.json"
                ))),
            },
        ));
    }
    place_extras(&mut lock, &mut root_pkg, &extras)?;

    // name → version → installed
    let mut by_name: BTreeMap<String, BTreeMap<String, Installed>> = BTreeMap::new();
    let packages = lock["packages"]
        .as_object()
        .ok_or("lockfile has no `packages` (lockfile v2/v3 needed)")?;
    for (loc, e) in packages {
        if !loc.contains("node_modules/") || e["link"].as_bool() == Some(true) {
            continue;
        }
        let (Some(version), Some(integrity)) = (e["version"].as_str(), e["integrity"].as_str())
        else {
            continue;
        };
        if !e["resolved"].as_str().is_some_and(from_public_registry) {
            continue;
        }
        let name = entry_name(loc, e);
        by_name.entry(name).or_default().insert(
            version.into(),
            Installed {
                integrity: integrity.into(),
                attestations: None,
            },
        );
    }
    for (name, version, inst) in &extras {
        by_name
            .entry(name.clone())
            .or_default()
            .insert(version.clone(), inst.clone());
    }

    let reg = FixtureRegistry::start();
    let url = reg.url();
    let key = seed::derive_key(&args.seed.to_be_bytes(), "bench registry key");
    let keyid = npmkit::keyid(&key);

    // Sizes: the three largest names (by hash) 20/35/50 MB, ~2% 1.5 MB, ~8% 100-400 KB.
    let mut ranked: Vec<(u64, &String)> = by_name
        .keys()
        .filter(|n| n.as_str() != "nuxt")
        .map(|n| (h64(args.seed, n), n))
        .collect();
    ranked.sort();
    let huge: BTreeMap<&String, usize> = ranked
        .iter()
        .take(3)
        .zip([20usize, 35, 50])
        .map(|((_, n), mb)| (*n, mb << 20))
        .collect();
    let mut served_bytes: u64 = 0;
    let mut size_classes: BTreeMap<&str, usize> = BTreeMap::new();
    for (name, versions) in &by_name {
        if name == "nuxt" {
            let full = std::fs::read(&nuxt_path).map_err(|e| e.to_string())?;
            served_bytes += full.len() as u64;
            let abbr = serde_json::to_vec(&abbreviate(&nuxt)).map_err(|e| e.to_string())?;
            reg.add_packument("nuxt", full, Some(abbr));
            *size_classes.entry("real nuxt").or_default() += 1;
            continue;
        }
        let h = h64(args.seed ^ 0x5eed, name);
        let (class, target) = if args.small {
            ("small", 2_000 + (h % 20_000) as usize)
        } else if let Some(t) = huge.get(name) {
            ("20-50 MB", *t)
        } else if h % 100 < 2 {
            ("~1.5 MB", 1_300_000 + (h % 400_000) as usize)
        } else if h % 100 < 10 {
            ("100-400 KB", 100_000 + (h % 300_000) as usize)
        } else {
            ("small", 2_000 + (h % 20_000) as usize)
        };
        *size_classes.entry(class).or_default() += 1;
        let full = packument(name, versions, target, &key, &keyid, &url, h)?;
        let abbr = serde_json::to_vec(&abbreviate(&full)).map_err(|e| e.to_string())?;
        let full = serde_json::to_vec(&full).map_err(|e| e.to_string())?;
        served_bytes += full.len() as u64;
        reg.add_packument(name, full, Some(abbr));
        for (v, inst) in versions {
            if let Some(p) = &inst.attestations {
                let body = std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
                reg.add_attestations(name, v, body);
            }
        }
    }
    for (name, version, inst) in &extras {
        if name == "nuxt" {
            if let Some(p) = &inst.attestations {
                let body = std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
                reg.add_attestations(name, version, body);
            }
        }
    }

    // Keys: the bench key and the real npm keys.
    let window = KeyWindow {
        start: 946_684_800,
        end: None,
    };
    let mut registry_keys = npmkit::registry_keys_json(&key, window);
    let real = read_json(&corpus.join("derived/npm-v1-keys.from-corepack.json"))?;
    if let (Some(mine), Some(theirs)) = (
        registry_keys["keys"].as_array_mut(),
        real["keys"].as_array(),
    ) {
        mine.extend(theirs.iter().cloned());
    }
    reg.add_keys(serde_json::to_vec(&registry_keys).map_err(|e| e.to_string())?);
    let mut tuf_keys = npmkit::keys_json(&key, window);
    let real_tuf = read_json(
        &corpus.join("trust-roots/sigstore-root-signing/targets/registry.npmjs.org/keys.json"),
    )?;
    if let (Some(mine), Some(theirs)) =
        (tuf_keys["keys"].as_array_mut(), real_tuf["keys"].as_array())
    {
        mine.extend(theirs.iter().cloned());
    }
    write(&args.out.join("npm-keys.json"), &pretty(&tuf_keys)?)?;

    if let Some(tree) = &args.tree {
        write_tree(tree, &lock, &root_pkg)?;
    }

    let tuf = match args.tuf_port {
        Some(port) => {
            let t = FixtureRegistry::start_tls_at(&format!("127.0.0.1:{port}"), &[TUF_HOST])
                .map_err(|e| format!("TUF server on 127.0.0.1:{port}: {e}"))?;
            TufLayout::of(&corpus.join(CORPUS_TUF_REPO))
                .and_then(|l| l.serve(&t))
                .map_err(|e| format!("corpus TUF repository: {e}"))?;
            t.set_latency(Duration::from_millis(args.latency_ms));
            write(
                &args.out.join("tuf-ca.pem"),
                t.ca_pem().unwrap_or_default().as_bytes(),
            )?;
            Some(t)
        }
        None => None,
    };
    reg.set_latency(Duration::from_millis(args.latency_ms));
    // As registry.npmjs.org answers packuments (both tools honour it on warm runs).
    reg.set_cache_control(Some("public, max-age=300"));

    let reg = Arc::new(reg);
    let tuf = tuf.map(Arc::new);
    let control = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let control_url = format!(
        "http://{}/",
        control.local_addr().map_err(|e| e.to_string())?
    );
    {
        let (reg, tuf) = (reg.clone(), tuf.clone());
        std::thread::spawn(move || control_loop(control, &reg, tuf.as_deref()));
    }

    write(
        &args.out.join("registry-url"),
        format!("{url}\n").as_bytes(),
    )?;
    write(
        &args.out.join("control-url"),
        format!("{control_url}\n").as_bytes(),
    )?;
    let summary = json!({
        "names": by_name.len(),
        "versions": by_name.values().map(|v| v.len()).sum::<usize>(),
        "attested": extras.iter().map(|(n, v, _)| format!("{n}@{v}")).collect::<Vec<_>>(),
        "full_packument_bytes": served_bytes,
        "size_classes": size_classes,
        "largest": huge.keys().collect::<Vec<_>>(),
        "latency_ms": args.latency_ms,
    });
    write(&args.out.join("ready"), &pretty(&summary)?)?;
    eprintln!("bench-registry: serving {url} ({} names)", by_name.len());
    std::thread::sleep(Duration::from_secs(args.seconds));
    Ok(())
}

fn pretty(v: &Value) -> Result<Vec<u8>, String> {
    serde_json::to_vec_pretty(v).map_err(|e| e.to_string())
}

fn write(p: &Path, bytes: &[u8]) -> Result<(), String> {
    if let Some(d) = p.parent() {
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    std::fs::write(p, bytes).map_err(|e| format!("{}: {e}", p.display()))
}

/// FNV-1a of the seed and a name (deterministic size classes).
fn h64(seed: u64, s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h ^ (h >> 29)
}

/// The package name of a lockfile location (`name` for aliases, else the path's last part).
fn entry_name(loc: &str, e: &Value) -> String {
    e["name"].as_str().map(str::to_string).unwrap_or_else(|| {
        loc.rsplit_once("node_modules/")
            .map(|(_, n)| n.to_string())
            .unwrap_or_else(|| loc.to_string())
    })
}

/// Adds the attested versions to the lockfile: at `node_modules/NAME` (a root dependency) when
/// free, else nested under the first top-level package that has no such child (and added to
/// its dependencies).
fn place_extras(
    lock: &mut Value,
    root_pkg: &mut Value,
    extras: &[(String, String, Installed)],
) -> Result<(), String> {
    let packages = lock["packages"]
        .as_object_mut()
        .ok_or("lockfile has no `packages`")?;
    let top: Vec<String> = packages
        .iter()
        .filter(|(k, e)| {
            k.starts_with("node_modules/")
                && !k["node_modules/".len()..].contains("/node_modules/")
                && e["link"].as_bool() != Some(true)
                && e["resolved"].as_str().is_some_and(from_public_registry)
        })
        .map(|(k, _)| k.clone())
        .collect();
    let mut used_parents = BTreeSet::new();
    for (name, version, inst) in extras {
        let base = name.rsplit('/').next().unwrap_or(name);
        let entry = json!({
            "version": version,
            "resolved": format!("https://registry.npmjs.org/{name}/-/{base}-{version}.tgz"),
            "integrity": inst.integrity,
            "license": "MIT",
        });
        let at_root = format!("node_modules/{name}");
        if !packages.contains_key(&at_root) {
            packages.insert(at_root, entry);
            root_pkg["dependencies"][name.as_str()] = json!(version);
            if let Some(r) = packages.get_mut("") {
                r["dependencies"][name.as_str()] = json!(version);
            }
            continue;
        }
        let parent = top
            .iter()
            .find(|p| {
                !used_parents.contains(*p)
                    && !packages.contains_key(&format!("{p}/node_modules/{name}"))
            })
            .ok_or_else(|| format!("no place for {name}@{version}"))?
            .clone();
        used_parents.insert(parent.clone());
        packages.insert(format!("{parent}/node_modules/{name}"), entry);
        if let Some(p) = packages.get_mut(&parent) {
            p["dependencies"][name.as_str()] = json!(version);
        }
    }
    Ok(())
}

/// A full packument for `name`: padding versions (older) up to about `target` bytes, then the
/// installed versions with a registry signature by `key`.
fn packument(
    name: &str,
    installed: &BTreeMap<String, Installed>,
    target: usize,
    key: &p256::ecdsa::SigningKey,
    keyid: &str,
    url: &str,
    h: u64,
) -> Result<Value, String> {
    let base = name.rsplit('/').next().unwrap_or(name);
    let user = json!({"name": "maintainer", "email": "maintainer@example.com"});
    let mut versions = Map::new();
    let mut time = Map::new();
    time.insert("created".into(), json!(seed::rfc3339(PAD_START)));
    let mut size = 600usize;
    let mut i: u64 = 0;
    while size < target {
        let v = format!("0.0.{i}-pad");
        let digest = Sha512::digest(format!("{name}@{v}").as_bytes());
        let readme_len = ((h.rotate_left((i % 64) as u32) ^ i) % 3_000) as usize;
        let doc = json!({
            "name": name,
            "version": v,
            "description": format!("{name}: padding version {i} of the benchmark registry, deterministic"),
            "main": "index.js",
            "license": "MIT",
            "repository": {"type": "git", "url": format!("git+https://github.com/example/{base}.git")},
            "scripts": {"test": "node test.js", "build": "tsc -p ."},
            "dependencies": {"left-pad": "^1.3.0", "tslib": "^2.6.0", "debug": "^4.3.4"},
            "devDependencies": {"typescript": "^5.4.0", "mocha": "^10.0.0"},
            "engines": {"node": ">=14"},
            "gitHead": hex::encode(&digest[..20]),
            "readme": LOREM.repeat(readme_len / LOREM.len() + 1)[..readme_len].to_string(),
            "_npmUser": user,
            "maintainers": [user],
            "_nodeVersion": "20.11.1",
            "_npmVersion": "10.2.4",
            "dist": {
                "integrity": format!("sha512-{}", seed::b64(&digest)),
                "shasum": hex::encode(&digest[20..40]),
                "tarball": format!("{url}{name}/-/{base}-{v}.tgz"),
                "fileCount": 12 + i % 40,
                "unpackedSize": 10_000 + (h ^ i) % 500_000,
                "signatures": [{"keyid": keyid, "sig": seed::b64(&Sha512::digest(digest)[..])
                    .chars().chain("MEUCIQ".chars()).collect::<String>()}],
            },
        });
        size += serde_json::to_string(&doc).map(|s| s.len()).unwrap_or(0) + 60;
        time.insert(
            v.clone(),
            json!(seed::rfc3339(PAD_START + (i as i64) * 3_600)),
        );
        versions.insert(v, doc);
        i += 1;
    }
    for (v, inst) in installed {
        let mut dist = json!({
            "integrity": inst.integrity,
            "tarball": format!("{url}{name}/-/{base}-{v}.tgz"),
            "signatures": [npmkit::registry_signature(key, name, v, &inst.integrity)],
        });
        if inst.attestations.is_some() {
            dist["attestations"] = json!({
                "url": format!("https://registry.npmjs.org/-/npm/v1/attestations/{name}@{v}"),
                "provenance": {"predicateType": "https://slsa.dev/provenance/v1"},
            });
        }
        versions.insert(
            v.clone(),
            json!({"name": name, "version": v, "license": "MIT", "_npmUser": user,
                   "maintainers": [user], "dist": dist}),
        );
        time.insert(v.clone(), json!(seed::rfc3339(T0)));
    }
    time.insert("modified".into(), json!(seed::rfc3339(T0)));
    let latest = installed.keys().last().cloned().unwrap_or_default();
    Ok(json!({
        "_id": name, "name": name, "dist-tags": {"latest": latest},
        "versions": versions, "time": time, "maintainers": [user],
        "readme": "", "license": "MIT",
    }))
}

const LOREM: &str = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod \
tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud \
exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. ";

/// The project npm reads: root `package.json`, the lockfile, workspace folders, links, and a
/// `package.json` per installed location.
fn write_tree(tree: &Path, lock: &Value, root_pkg: &Value) -> Result<(), String> {
    if tree.exists() {
        std::fs::remove_dir_all(tree).map_err(|e| format!("{}: {e}", tree.display()))?;
    }
    write(&tree.join("package.json"), &pretty(root_pkg)?)?;
    write(&tree.join("package-lock.json"), &pretty(lock)?)?;
    let packages = lock["packages"].as_object().ok_or("no packages")?;
    let mut links = Vec::new();
    for (loc, e) in packages {
        if loc.is_empty() {
            continue;
        }
        if e["link"].as_bool() == Some(true) {
            if let Some(target) = e["resolved"].as_str() {
                links.push((tree.join(loc), tree.join(target)));
            }
            continue;
        }
        let in_nm = loc.contains("node_modules/");
        let mut pkg = Map::new();
        pkg.insert("name".into(), json!(entry_name(loc, e)));
        if let Some(v) = e.get("version") {
            pkg.insert("version".into(), v.clone());
        }
        let mut fields = vec![
            "dependencies",
            "optionalDependencies",
            "peerDependencies",
            "peerDependenciesMeta",
            "license",
        ];
        if !in_nm {
            fields.push("devDependencies");
        }
        for f in fields {
            if let Some(v) = e.get(f) {
                pkg.insert(f.into(), v.clone());
            }
        }
        write(&tree.join(loc).join("package.json"), &pretty(&pkg.into())?)?;
    }
    for (link, target) in links {
        if let Some(d) = link.parent() {
            std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
        }
        #[cfg(unix)]
        std::os::unix::fs::symlink(&target, &link)
            .map_err(|e| format!("{}: {e}", link.display()))?;
        #[cfg(not(unix))]
        return Err(format!(
            "{}: workspace links need a unix system ({})",
            link.display(),
            target.display()
        ));
    }
    Ok(())
}

/// Counts of logged requests by kind and status.
fn counts(reqs: &[LoggedRequest]) -> Value {
    let mut by: BTreeMap<String, u64> = BTreeMap::new();
    let mut accepts: BTreeMap<String, u64> = BTreeMap::new();
    for r in reqs {
        *accepts
            .entry(r.header("accept").unwrap_or("-").chars().take(80).collect())
            .or_default() += 1;
        let kind = if r.path.starts_with("/-/npm/v1/attestations/") {
            "attestations"
        } else if r.path.starts_with("/-/npm/v1/keys") {
            "keys"
        } else if r.path.contains("/-/") {
            "tarball"
        } else if r
            .header("accept")
            .is_some_and(|a| a.trim_start().starts_with(ABBREVIATED))
        {
            "packument-abbreviated"
        } else {
            "packument-full"
        };
        *by.entry(kind.into()).or_default() += 1;
        *by.entry(format!("status-{}", r.status)).or_default() += 1;
    }
    json!({"total": reqs.len(), "by": by, "accept": accepts})
}

fn control_loop(listener: TcpListener, reg: &FixtureRegistry, tuf: Option<&FixtureRegistry>) {
    for stream in listener.incoming() {
        let Ok(mut s) = stream else { continue };
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        // Read the whole request head (bounded) before answering and closing.
        let mut buf = Vec::new();
        let mut chunk = [0u8; 1024];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
            match s.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let line = String::from_utf8_lossy(&buf);
        let body = if line.starts_with("GET /reset") {
            reg.clear_log();
            if let Some(t) = tuf {
                t.clear_log();
            }
            json!({"reset": true})
        } else {
            json!({
                "registry": counts(&reg.requests()),
                "tuf": tuf.map(|t| counts(&t.requests())),
            })
        };
        let body = body.to_string();
        let _ = write!(
            s,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
    }
}

/// A `resolved` URL on the public registry (old lockfiles recorded some over plain http).
fn from_public_registry(resolved: &str) -> bool {
    resolved.starts_with("https://registry.npmjs.org/")
        || resolved.starts_with("http://registry.npmjs.org/")
}

/// Removes the entries bundled inside another package (`inBundle` in `packages`, `bundled` in
/// a version 1/2 lockfile's `dependencies`) and the `bundleDependencies` naming them.
fn without_bundled(lock: &mut Value) {
    if let Some(packages) = lock.get_mut("packages").and_then(Value::as_object_mut) {
        packages.retain(|_, e| e["inBundle"].as_bool() != Some(true));
        for e in packages.values_mut() {
            if let Some(e) = e.as_object_mut() {
                e.remove("bundleDependencies");
                e.remove("bundledDependencies");
            }
        }
    }
    // `get_mut`, never `value[key]` on a mutable value: that would insert the key.
    fn legacy(deps: Option<&mut Value>) {
        if let Some(deps) = deps.and_then(Value::as_object_mut) {
            deps.retain(|_, e| e["bundled"].as_bool() != Some(true));
            for e in deps.values_mut() {
                legacy(e.get_mut("dependencies"));
            }
        }
    }
    legacy(lock.get_mut("dependencies"));
}
