//! Inventory acceptance tests: the five real package-lock files of the corpus, hand-written edge
//! cases (`tests/data/inventory/`), detection and precedence, node_modules walks, malformed input.
//!
//! Expected corpus numbers come from two sources independent of the parser:
//! - the issue text (theia 2,636 entries / 2,090 registry name@version; pdf.js 457 bundled and
//!   274 sha1-only; sigstore-js 811 without integrity; npm/cli 163 bundled), kept as constants;
//! - `tests/data/inventory/count.py`, a separate Python counter run on the same file at test
//!   time, whose whole output (including the exact registry package list) must match. Its output
//!   on the corpus, produced with
//!   `for d in ../shared/corpus/lockfiles/npm-*; do python3 tests/data/inventory/count.py $d/package-lock.json; done`,
//!   is recorded in `tests/data/inventory/EXPECTED.md`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use npm_provenance::error::AppError;
use npm_provenance::inventory::{
    load, Inventory, InventoryError, InventoryErrorKind, InventoryKind, InventoryOptions, Omit,
    Origin, PackageRef, RegistryMap,
};
use npm_provenance_testkit::corpus::{corpus_file, repo_root};
use serde_json::Value;

fn opts() -> InventoryOptions {
    InventoryOptions::default()
}

fn data(rel: &str) -> PathBuf {
    repo_root().join("tests/data/inventory").join(rel)
}

/// The independent counter's numbers for `lockfile`, or `None` (skip) without python3 outside CI.
fn count(lockfile: &Path) -> Option<Value> {
    crate::common::independent_count(&data("count.py"), lockfile)
}

fn num(v: &Value, key: &str) -> usize {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("count.py: no {key}")) as usize
}

fn origin_count(inv: &Inventory, origin: Origin) -> usize {
    inv.packages.iter().filter(|p| p.origin == origin).count()
}

fn registry_set(inv: &Inventory) -> BTreeSet<String> {
    inv.registry_packages()
        .map(|p| {
            let i = p.integrity.as_ref().map(|i| i.as_str()).unwrap_or("");
            format!("{}@{} {}", p.name, p.version, i)
        })
        .collect()
}

fn has(p: &PackageRef, code: &str) -> bool {
    p.findings.iter().any(|f| f.code == code)
}

/// Loads one corpus lockfile and checks it completely against the independent counter.
fn corpus_lockfile(test: &str, dir: &str) -> Option<(Inventory, Option<Value>)> {
    let path = corpus_file(test, &format!("lockfiles/{dir}/package-lock.json"))?;
    let inv = load(&path, &opts()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(inv.source.kind, InventoryKind::PackageLock);
    assert_eq!(inv.source.path, path);
    assert!(inv.binds_bytes);
    let Some(expected) = count(&path) else {
        return Some((inv, None));
    };
    let c = &inv.counts;
    assert_eq!(c.entries, num(&expected, "entries"), "{dir} entries");
    assert_eq!(bundled_locations(&inv), num(&expected, "bundled"), "{dir}");
    let registry_locations: usize = inv.registry_packages().map(|p| p.paths.len()).sum();
    assert_eq!(
        registry_locations,
        num(&expected, "registry_locations"),
        "{dir}"
    );
    assert_eq!(
        c.registry_packages,
        num(&expected, "registry_packages"),
        "{dir}"
    );
    assert_eq!(
        c.registry_name_versions,
        num(&expected, "registry_name_versions"),
        "{dir}"
    );
    assert_eq!(
        c.integrity_missing,
        num(&expected, "registry_no_integrity"),
        "{dir}"
    );
    assert_eq!(
        c.integrity_weak,
        num(&expected, "registry_sha1_only"),
        "{dir}"
    );
    assert_eq!(
        origin_count(&inv, Origin::Workspace) + origin_count(&inv, Origin::Link),
        num(&expected, "folders"),
        "{dir}: every project folder is one workspace or link package"
    );
    let want: BTreeSet<String> = expected["registry_set"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let got = registry_set(&inv);
    let missing: Vec<_> = want.difference(&got).take(5).collect();
    let invented: Vec<_> = got.difference(&want).take(5).collect();
    assert!(
        missing.is_empty(),
        "{dir}: registry packages missing: {missing:?}"
    );
    assert!(
        invented.is_empty(),
        "{dir}: registry packages invented: {invented:?}"
    );
    // Every installed location is accounted for exactly once.
    let locations: usize = inv.packages.iter().map(|p| p.paths.len()).sum();
    assert_eq!(
        locations, c.entries,
        "{dir}: every entry lands in exactly one package"
    );
    // Git dependencies are counted, not dropped.
    assert_eq!(
        origin_count(&inv, Origin::Git),
        num(&expected, "git"),
        "{dir}"
    );
    Some((inv, Some(expected)))
}

/// Bundled locations (from the paths of bundled packages).
fn bundled_locations(inv: &Inventory) -> usize {
    inv.packages
        .iter()
        .filter(|p| p.origin == Origin::Bundled)
        .map(|p| p.paths.len())
        .sum()
}

#[test]
fn theia_v3_monorepo() {
    let Some((inv, expected)) = corpus_lockfile("theia", "npm-v3-theia-2637pkgs") else {
        return;
    };
    // The issue's numbers.
    assert_eq!(inv.counts.entries, 2_636);
    assert_eq!(inv.counts.registry_name_versions, 2_090);
    if let Some(e) = expected {
        assert_eq!(num(&e, "links"), 106);
    }
    // npm aliases are registry packages under their real name.
    let sw = inv
        .packages
        .iter()
        .find(|p| p.paths.iter().any(|l| l == "node_modules/string-width-cjs"))
        .expect("string-width-cjs installed");
    assert_eq!(sw.name, "string-width");
    assert!(sw.origin.is_registry());
    assert_eq!(origin_count(&inv, Origin::Workspace), 106);
    assert!(inv.packages.iter().all(|p| !has(p, "registry-mismatch")));
}

#[test]
fn pdfjs_v2_bundled_sha1_and_http() {
    let Some((inv, expected)) = corpus_lockfile("pdfjs", "npm-v2-pdfjs-1673pkgs") else {
        return;
    };
    assert_eq!(bundled_locations(&inv), 457);
    assert_eq!(inv.counts.integrity_weak, 274);
    if let Some(e) = expected {
        assert_eq!(num(&e, "bundled"), 457);
    }
    let weak = inv
        .packages
        .iter()
        .filter(|p| has(p, "lockfile-integrity-weak"))
        .count();
    assert!(weak > 0 && weak <= 274);
    // Bundled packages are covered by their parent's tarball: no missing-integrity finding.
    for p in inv.packages.iter().filter(|p| p.origin == Origin::Bundled) {
        assert!(p.findings.is_empty(), "{}@{}", p.name, p.version);
        assert!(p
            .paths
            .iter()
            .all(|l| l.starts_with("node_modules/npm/node_modules/")));
    }
    // http://registry.npmjs.org is the public registry, not a mismatch.
    let http: Vec<&PackageRef> = inv
        .packages
        .iter()
        .filter(|p| {
            p.resolved
                .as_deref()
                .is_some_and(|r| r.starts_with("http://"))
        })
        .collect();
    assert!(!http.is_empty());
    assert!(http.iter().all(|p| !has(p, "registry-mismatch")));
    let git: Vec<&PackageRef> = inv
        .packages
        .iter()
        .filter(|p| p.origin == Origin::Git)
        .collect();
    assert_eq!(git.len(), 1);
    assert_eq!(git[0].name, "@microsoft/eslint-plugin-sdl");
}

#[test]
fn sigstore_js_without_integrity() {
    let Some((inv, _)) = corpus_lockfile("sigstore-js", "npm-v3-sigstore-js-1063pkgs") else {
        return;
    };
    assert_eq!(inv.counts.integrity_missing, 811);
    let missing: Vec<&PackageRef> = inv
        .packages
        .iter()
        .filter(|p| has(p, "lockfile-integrity-missing"))
        .collect();
    assert!(!missing.is_empty());
    assert!(missing
        .iter()
        .all(|p| p.integrity.is_none() && p.origin.is_registry()));
    // Kept, with the configured registry.
    assert!(missing
        .iter()
        .all(|p| p.registry == "https://registry.npmjs.org/"));
}

#[test]
fn npm_cli_bundled_by_dependency_only() {
    let Some((inv, _)) = corpus_lockfile("npm-cli", "npm-v3-npm-cli-1274pkgs") else {
        return;
    };
    assert_eq!(bundled_locations(&inv), 163);
    // The root project bundles its own dependencies; those are fetched from the registry.
    let cliui = inv
        .packages
        .iter()
        .find(|p| p.paths.iter().any(|l| l == "node_modules/@isaacs/cliui"))
        .unwrap();
    assert_eq!(cliui.origin, Origin::Registry);
    assert!(cliui.integrity.is_some());
}

#[test]
fn insomnia_git_and_workspaces() {
    let Some((inv, _)) = corpus_lockfile("insomnia", "npm-v3-insomnia-1830pkgs") else {
        return;
    };
    assert_eq!(inv.counts.entries, 1_829);
    let git = inv
        .packages
        .iter()
        .find(|p| p.origin == Origin::Git)
        .unwrap();
    assert_eq!(git.name, "grpc-reflection-js");
    assert!(
        !has(git, "lockfile-integrity-missing"),
        "git deps have no registry integrity"
    );
}

#[test]
fn omit_dev_follows_lockfile_flags() {
    let Some(path) = corpus_file("omit", "lockfiles/npm-v3-theia-2637pkgs/package-lock.json")
    else {
        return;
    };
    let all = load(&path, &opts()).unwrap();
    let o = InventoryOptions {
        omit: Omit::parse(&["dev"]).unwrap(),
        ..opts()
    };
    let prod = load(&path, &o).unwrap();
    assert!(prod.counts.omitted > 0);
    assert!(prod.packages.iter().all(|p| !p.dev));
    assert!(prod.counts.registry_packages < all.counts.registry_packages);
    // Every package that disappeared was dev-only everywhere.
    let kept: BTreeSet<_> = prod
        .packages
        .iter()
        .map(|p| (&p.name, &p.version))
        .collect();
    for p in all
        .packages
        .iter()
        .filter(|p| !kept.contains(&(&p.name, &p.version)))
    {
        assert!(p.dev, "{}@{} dropped but not dev", p.name, p.version);
    }
}

fn find<'a>(inv: &'a Inventory, path: &str) -> &'a PackageRef {
    inv.packages
        .iter()
        .find(|p| p.paths.iter().any(|l| l == path))
        .unwrap_or_else(|| panic!("no package at {path}"))
}

#[test]
fn edge_v3_origins_flags_and_findings() {
    let inv = load(&data("edge-v3/package-lock.json"), &opts()).unwrap();
    // b is installed under its own name and as an alias: one registry package, two paths.
    let b = find(&inv, "node_modules/aliased");
    assert_eq!((b.name.as_str(), b.version.as_str()), ("b", "2.0.0"));
    assert_eq!(b.origin, Origin::Registry);
    assert_eq!(b.paths, ["node_modules/aliased", "node_modules/b"]);
    assert!(
        !has(b, "registry-mismatch"),
        "yarn's alias over http is the public registry"
    );
    let c = find(&inv, "node_modules/only-alias");
    assert_eq!((c.name.as_str(), c.origin), ("c", Origin::Alias));
    assert_eq!(c.alias.as_deref(), Some("only-alias"));
    assert_eq!(find(&inv, "node_modules/gitdep").origin, Origin::Git);
    assert_eq!(
        find(&inv, "node_modules/tarball").origin,
        Origin::TarballUrl
    );
    let local = find(&inv, "node_modules/local");
    assert_eq!(local.origin, Origin::Link);
    assert_eq!(local.paths, ["node_modules/local", "vendor/local"]);
    let ws = find(&inv, "packages/ws");
    assert_eq!(
        (ws.name.as_str(), ws.origin),
        ("@edge/ws", Origin::Workspace)
    );
    assert_eq!(ws.paths, ["node_modules/@edge/ws", "packages/ws"]);
    let d = find(&inv, "packages/ws/node_modules/d");
    assert!(has(d, "lockfile-integrity-weak") && d.integrity.as_ref().unwrap().is_sha1_only());
    let n = find(&inv, "node_modules/nointeg");
    assert!(has(n, "lockfile-integrity-missing") && n.dev && n.integrity.is_none());
    let devopt = find(&inv, "node_modules/devopt");
    assert!(!devopt.dev && !devopt.optional && devopt.findings.is_empty());
    assert!(devopt.integrity.as_ref().unwrap().sha512_bytes().is_some());
    assert!(find(&inv, "node_modules/fsevents-like").optional);
    assert!(find(&inv, "node_modules/peerdep").peer);
    assert!(find(&inv, "node_modules/a").has_install_script);
    assert_eq!(find(&inv, "node_modules/a/node_modules/b").version, "2.1.0");
    assert!(has(find(&inv, "node_modules/@corp/x"), "registry-mismatch"));
    let evil = find(&inv, "node_modules/evil");
    assert!(has(evil, "registry-mismatch"));
    assert_eq!(evil.registry, "https://registry.npmjs.org/");
    let inner = find(&inv, "node_modules/bundler/node_modules/inner");
    assert_eq!(inner.origin, Origin::Bundled);
    assert!(inner.findings.is_empty());
    // Nothing dropped: every entry is in one package.
    let locations: usize = inv.packages.iter().map(|p| p.paths.len()).sum();
    assert_eq!(locations, inv.counts.entries);
    // The independent counter agrees on the registry package list here too.
    if let Some(expected) = count(&data("edge-v3/package-lock.json")) {
        let want: BTreeSet<String> = expected["registry_set"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        assert_eq!(registry_set(&inv), want);
    }
}

#[test]
fn scoped_registry_removes_mismatch() {
    let o = InventoryOptions {
        registries: RegistryMap::new(
            "https://registry.npmjs.org/",
            [("@corp".to_string(), "https://npm.corp.example".to_string())],
        ),
        ..opts()
    };
    let inv = load(&data("edge-v3/package-lock.json"), &o).unwrap();
    let x = find(&inv, "node_modules/@corp/x");
    assert!(!has(x, "registry-mismatch"));
    assert_eq!(x.registry, "https://npm.corp.example/");
}

#[test]
fn omit_each_type() {
    let path = data("edge-v3/package-lock.json");
    let load_omit = |o: &[&str]| {
        let opts = InventoryOptions {
            omit: Omit::parse(o).unwrap(),
            ..opts()
        };
        load(&path, &opts).unwrap()
    };
    let installs = |inv: &Inventory, loc: &str| {
        inv.packages
            .iter()
            .any(|p| p.paths.iter().any(|l| l == loc))
    };
    let dev = load_omit(&["dev"]);
    assert!(!installs(&dev, "node_modules/nointeg"));
    assert!(
        installs(&dev, "node_modules/devopt"),
        "devOptional stays unless both omitted"
    );
    let both = load_omit(&["dev", "optional"]);
    assert!(!installs(&both, "node_modules/devopt"));
    assert!(!installs(&both, "node_modules/fsevents-like"));
    let peer = load_omit(&["peer"]);
    assert!(!installs(&peer, "node_modules/peerdep"));
    assert!(installs(&peer, "node_modules/nointeg"));
}

#[test]
fn workspace_filter() {
    let path = data("edge-v3/package-lock.json");
    let o = InventoryOptions {
        workspaces: vec!["@edge/ws".into()],
        ..opts()
    };
    let inv = load(&path, &o).unwrap();
    let names: BTreeSet<&str> = inv.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, BTreeSet::from(["@edge/ws", "d"]));
    let by_path = InventoryOptions {
        workspaces: vec!["packages/ws".into()],
        ..opts()
    };
    assert_eq!(load(&path, &by_path).unwrap().packages.len(), 2);
    let bad = InventoryOptions {
        workspaces: vec!["nope".into()],
        ..opts()
    };
    let e = load(&path, &bad).unwrap_err();
    assert_eq!(e.kind, InventoryErrorKind::Usage);
    assert!(matches!(AppError::from(e), AppError::Usage(_)));
}

#[test]
fn edge_v1_nested_tree() {
    let inv = load(&data("edge-v1/package-lock.json"), &opts()).unwrap();
    let a = find(&inv, "node_modules/a");
    assert!(has(a, "lockfile-integrity-weak"));
    assert!(!has(a, "registry-mismatch"));
    assert_eq!(find(&inv, "node_modules/a/node_modules/b").version, "2.1.0");
    assert!(find(&inv, "node_modules/b").dev);
    let c = find(&inv, "node_modules/cjs");
    assert_eq!(
        (c.name.as_str(), c.version.as_str(), c.origin),
        ("c", "3.0.0", Origin::Alias)
    );
    assert_eq!(find(&inv, "node_modules/gitdep").origin, Origin::Git);
    assert_eq!(
        find(&inv, "node_modules/bundler/node_modules/inner").origin,
        Origin::Bundled
    );
    let n = find(&inv, "node_modules/nointeg");
    assert!(n.optional && has(n, "lockfile-integrity-missing"));
    assert_eq!(inv.counts.entries, 8);
}

/// A scratch directory under the system temp dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "npmprov-inv-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn edge_text() -> String {
    std::fs::read_to_string(data("edge-v3/package-lock.json")).unwrap()
}

#[test]
fn precedence_shrinkwrap_lock_hidden_walk() {
    let s = Scratch::new("prec");
    s.write(
        "node_modules/a/package.json",
        r#"{"name":"a","version":"1.0.0"}"#,
    );
    let walk = load(&s.0, &opts()).unwrap();
    assert_eq!(walk.source.kind, InventoryKind::NodeModules);
    s.write("node_modules/.package-lock.json", &edge_text());
    assert_eq!(
        load(&s.0, &opts()).unwrap().source.kind,
        InventoryKind::HiddenLockfile
    );
    let nm = load(&s.0.join("node_modules"), &opts()).unwrap();
    assert_eq!(nm.source.kind, InventoryKind::HiddenLockfile);
    s.write("package-lock.json", &edge_text());
    assert_eq!(
        load(&s.0, &opts()).unwrap().source.kind,
        InventoryKind::PackageLock
    );
    let manifest = s.write("package.json", r#"{"name":"edge"}"#);
    assert_eq!(
        load(&manifest, &opts()).unwrap().source.kind,
        InventoryKind::PackageLock,
        "package.json stands for its project"
    );
    let sw = s.write("npm-shrinkwrap.json", &edge_text());
    let inv = load(&s.0, &opts()).unwrap();
    assert_eq!(inv.source.kind, InventoryKind::NpmShrinkwrap);
    assert_eq!(inv.source.path, sw);
}

#[test]
fn two_package_managers_are_ambiguous() {
    let s = Scratch::new("ambig");
    s.write("package-lock.json", &edge_text());
    s.write("pnpm-lock.yaml", "lockfileVersion: '9.0'\n");
    let e = load(&s.0, &opts()).unwrap_err();
    assert_eq!(e.kind, InventoryErrorKind::Ambiguous);
    assert!(
        e.problem.contains("ambiguous inventory, pass the file"),
        "{e}"
    );
    assert!(e.problem.contains("pnpm-lock.yaml"), "{e}");
    assert!(matches!(AppError::from(e), AppError::Inventory(_)));
    // Passing the file resolves it.
    let inv = load(&s.0.join("package-lock.json"), &opts()).unwrap();
    assert_eq!(inv.source.kind, InventoryKind::PackageLock);
    // The pnpm lockfile alone is read (it has no packages here).
    let e = load(&s.0.join("pnpm-lock.yaml"), &opts()).unwrap_err();
    assert_eq!(e.kind, InventoryErrorKind::Empty);
}

#[test]
fn nothing_to_read_is_an_inventory_error() {
    let s = Scratch::new("none");
    s.write("package.json", r#"{"name":"x","version":"1.0.0"}"#);
    let e = load(&s.0, &opts()).unwrap_err();
    assert_eq!(e.kind, InventoryErrorKind::NotFound);
    assert!(matches!(AppError::from(e), AppError::Inventory(_)));
    let e = load(&s.0.join("missing.json"), &opts()).unwrap_err();
    assert_eq!(e.kind, InventoryErrorKind::Read);
    assert!(e.to_string().contains("missing.json"));
    let empty = s.write(
        "empty/package-lock.json",
        r#"{"lockfileVersion":3,"packages":{"":{"name":"x"}}}"#,
    );
    let e = load(&empty, &opts()).unwrap_err();
    assert_eq!(e.kind, InventoryErrorKind::Empty);
    assert!(matches!(AppError::from(e), AppError::Inventory(_)));
}

#[test]
fn workspace_subdirectory_finds_the_root_lockfile() {
    let s = Scratch::new("wsroot");
    s.write(
        "package.json",
        r#"{"name":"edge","workspaces":["packages/*"]}"#,
    );
    let lock = s.write("package-lock.json", &edge_text());
    s.write(
        "packages/ws/package.json",
        r#"{"name":"@edge/ws","version":"1.2.3"}"#,
    );
    let inv = load(&s.0.join("packages/ws"), &opts()).unwrap();
    assert_eq!(inv.source.path, lock);
    assert_eq!(inv.source.workspace.as_deref(), Some("packages/ws"));
    let names: BTreeSet<&str> = inv.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, BTreeSet::from(["@edge/ws", "d"]));
}

#[test]
fn installed_version_differing_is_drift() {
    let s = Scratch::new("drift");
    let lock = s.write("package-lock.json", &edge_text());
    s.write(
        "node_modules/a/package.json",
        r#"{"name":"a","version":"1.0.1"}"#,
    );
    s.write(
        "node_modules/b/package.json",
        r#"{"name":"b","version":"2.0.0"}"#,
    );
    // fsevents-like (optional, other platform) is not installed: not a finding.
    let inv = load(&lock, &opts()).unwrap();
    assert_eq!(inv.counts.drift, 1);
    assert!(has(find(&inv, "node_modules/a"), "inventory-drift"));
    assert!(!has(find(&inv, "node_modules/b"), "inventory-drift"));
    assert!(!has(
        find(&inv, "node_modules/fsevents-like"),
        "inventory-drift"
    ));
    assert!(inv.findings.is_empty());
    // The hidden lockfile is checked the same way.
    s.write("node_modules/.package-lock.json", &edge_text());
    let hidden = load(&s.0.join("node_modules"), &opts()).unwrap();
    assert_eq!(hidden.source.kind, InventoryKind::HiddenLockfile);
    assert_eq!(hidden.counts.drift, 1);
}

#[cfg(unix)]
#[test]
fn node_modules_walk() {
    let s = Scratch::new("walk");
    let outside = Scratch::new("walk-outside");
    s.write(
        "package.json",
        r#"{"name":"root","workspaces":["packages/*"]}"#,
    );
    s.write(
        "node_modules/a/package.json",
        r#"{"name":"a","version":"1.0.0","scripts":{"postinstall":"x"}}"#,
    );
    s.write(
        "node_modules/a/node_modules/b/package.json",
        r#"{"name":"b","version":"2.0.0"}"#,
    );
    s.write(
        "node_modules/@s/c/package.json",
        r#"{"name":"@s/c","version":"3.0.0"}"#,
    );
    s.write(
        "node_modules/c-cjs/package.json",
        r#"{"name":"@s/c","version":"3.0.0"}"#,
    );
    s.write("node_modules/.bin/ignored", "");
    s.write("node_modules/empty-dir/README", "no manifest");
    s.write(
        "packages/ws/package.json",
        r#"{"name":"ws","version":"0.1.0"}"#,
    );
    s.write(
        "packages/ws/node_modules/d/package.json",
        r#"{"name":"d","version":"4.0.0"}"#,
    );
    outside.write("ext/package.json", r#"{"name":"ext","version":"9.0.0"}"#);
    outside.write(
        "ext/node_modules/z/package.json",
        r#"{"name":"z","version":"1.0.0"}"#,
    );
    std::os::unix::fs::symlink("../packages/ws", s.0.join("node_modules/ws")).unwrap();
    std::os::unix::fs::symlink(outside.0.join("ext"), s.0.join("node_modules/ext")).unwrap();
    let inv = load(&s.0.join("node_modules"), &opts()).unwrap();
    assert_eq!(inv.source.kind, InventoryKind::NodeModules);
    assert!(!inv.binds_bytes);
    let codes: Vec<&str> = inv.findings.iter().map(|f| f.code).collect();
    assert_eq!(codes, ["node-modules-binds-no-bytes"]);
    let omit_dev = InventoryOptions {
        omit: Omit::parse(&["dev"]).unwrap(),
        ..opts()
    };
    let inv2 = load(&s.0.join("node_modules"), &omit_dev).unwrap();
    assert_eq!(inv2.packages.len(), inv.packages.len());
    assert!(inv2.findings[0].message.contains("--omit was not applied"));
    let names: BTreeSet<(&str, &str)> = inv
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str()))
        .collect();
    assert!(names.contains(&("a", "1.0.0")) && names.contains(&("b", "2.0.0")));
    assert!(
        names.contains(&("d", "4.0.0")),
        "workspace node_modules are walked"
    );
    assert!(
        !names.iter().any(|(n, _)| *n == "z"),
        "links out of the tree are not followed"
    );
    let c = find(&inv, "node_modules/c-cjs");
    assert_eq!((c.name.as_str(), c.origin), ("@s/c", Origin::Registry));
    assert_eq!(c.paths, ["node_modules/@s/c", "node_modules/c-cjs"]);
    assert!(find(&inv, "node_modules/a").has_install_script);
    assert_eq!(find(&inv, "node_modules/ws").origin, Origin::Workspace);
    assert_eq!(find(&inv, "node_modules/ext").origin, Origin::Link);
    assert!(inv
        .registry_packages()
        .all(|p| p.integrity.is_none() && p.findings.is_empty()));
}

fn malformed(tag: &str, text: &str) -> (Scratch, InventoryError) {
    let s = Scratch::new(tag);
    let p = s.write("package-lock.json", text);
    let e = load(&p, &opts()).unwrap_err();
    assert_eq!(e.path, p, "the error names the file");
    assert!(e.to_string().starts_with(&p.display().to_string()));
    (s, e)
}

fn assert_exit_2_parse(e: InventoryError, problem: &str) {
    assert!(e.problem.contains(problem), "{e}");
    match AppError::from(e) {
        err @ AppError::Parse { .. } => {
            assert_eq!(err.kind(), "parse");
            assert!(err.to_string().contains(problem));
        }
        other => panic!("expected a parse error (exit 2), got {other:?}"),
    }
}

#[test]
fn malformed_lockfiles_are_exit_2_with_file_and_problem() {
    let (_s, e) = malformed("unknown", r#"{"lockfileVersion": 7, "packages": {}}"#);
    assert_exit_2_parse(e, "unsupported lockfileVersion 7");
    let (_s, e) = malformed("types1", r#"{"lockfileVersion": 3, "packages": []}"#);
    assert_exit_2_parse(e, "packages: expected an object, found an array");
    let (_s, e) = malformed(
        "types2",
        r#"{"lockfileVersion": 3, "packages": {"node_modules/a": {"version": "1.0.0", "resolved": 5}}}"#,
    );
    assert_exit_2_parse(
        e,
        r#"packages["node_modules/a"].resolved: expected a string"#,
    );
    let (_s, e) = malformed(
        "integ",
        r#"{"lockfileVersion": 3, "packages": {"node_modules/a": {"version": "1.0.0", "integrity": "sha512-AAAA"}}}"#,
    );
    assert_exit_2_parse(e, r#"packages["node_modules/a"].integrity"#);
    let (_s, e) = malformed(
        "v1types",
        r#"{"lockfileVersion": 1, "dependencies": {"a": []}}"#,
    );
    assert_exit_2_parse(e, r#"dependencies["a"]: expected an object"#);
    let (_s, e) = malformed(
        "traversal",
        r#"{"lockfileVersion": 3, "packages": {"node_modules/../../etc": {"version": "1.0.0"}}}"#,
    );
    assert_exit_2_parse(e, "is not a path inside node_modules");
    let (_s, e) = malformed(
        "badname",
        r#"{"lockfileVersion": 3, "packages": {"node_modules/a": {"name": "a/../b?x", "version": "1.0.0"}}}"#,
    );
    assert_exit_2_parse(e, "is not a valid npm package name");
    let (_s, e) = malformed(
        "badversion",
        r#"{"lockfileVersion": 3, "packages": {"node_modules/a": {"version": "1.0.0/../../x"}}}"#,
    );
    assert_exit_2_parse(e, "is not a valid registry version");
    let (_s, e) = malformed("deep", &format!("{}{}", "[".repeat(200), "]".repeat(200)));
    assert_exit_2_parse(e, "nested deeper than the cap");
}

#[test]
fn truncated_corpus_lockfile_is_exit_2() {
    let Some(path) = corpus_file(
        "truncated",
        "lockfiles/npm-v3-theia-2637pkgs/package-lock.json",
    ) else {
        return;
    };
    let text = std::fs::read_to_string(path).unwrap();
    let (_s, e) = malformed("trunc", &text[..text.len() / 2]);
    assert_exit_2_parse(e, "invalid JSON: EOF while parsing");
}

#[test]
fn no_panic_on_truncated_or_retyped_input() {
    let s = Scratch::new("robust");
    let p = s.0.join("package-lock.json");
    let text = edge_text();
    let mut errors = 0;
    for cut in (0..text.len()).step_by(11) {
        std::fs::write(&p, &text.as_bytes()[..cut]).unwrap();
        if let Err(e) = load(&p, &opts()) {
            assert_eq!(e.path, p);
            errors += 1;
        }
    }
    assert!(errors > 0);
    let doc: Value = serde_json::from_str(&text).unwrap();
    let replacements = [
        Value::Null,
        serde_json::json!(1),
        serde_json::json!("x"),
        serde_json::json!([]),
        serde_json::json!({}),
        serde_json::json!(true),
    ];
    let packages = doc["packages"].as_object().unwrap();
    for (loc, entry) in packages {
        for field in entry.as_object().unwrap().keys() {
            for r in &replacements {
                let mut d = doc.clone();
                d["packages"][loc][field] = r.clone();
                std::fs::write(&p, serde_json::to_vec(&d).unwrap()).unwrap();
                // Either a complete inventory or an error naming the file; never a panic.
                if let Err(e) = load(&p, &opts()) {
                    assert_eq!(e.path, p, "{loc}.{field} = {r}");
                    assert!(!e.problem.is_empty());
                }
            }
        }
    }
}
