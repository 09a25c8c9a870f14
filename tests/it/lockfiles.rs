//! yarn (v1, berry), pnpm (v6–v9) and bun lockfiles: the real corpus lockfiles, the small
//! `provenance-action` ones, hand-written edge cases (`tests/data/lockfiles/`), detection and
//! malformed input.
//!
//! Expected numbers come from `tests/data/lockfiles/count.py`, a line/regex-based counter
//! written apart from the Rust readers (no YAML library), run on the same file at test time;
//! its whole output (entries, the exact registry package set with integrities, other origins,
//! patched packages) must match. Its output on the corpus, from
//! `for f in ../shared/corpus/lockfiles/{yarn,pnpm}-*/*.{lock,yaml}; do python3 tests/data/lockfiles/count.py $f; done`,
//! is summarised in `tests/data/lockfiles/EXPECTED.md`, and the entry counts were checked a
//! third way with awk/grep (commands there), kept below as constants.
//!
//! bun: there is no real `bun.lock` in the corpus; `tests/data/lockfiles/bun/bun.lock` is built
//! from bun's documented format (the `BunLockFile` type), so bun support is tested against
//! documentation only.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use npm_provenance::error::AppError;
use npm_provenance::inventory::{
    entry_lines, load, Inventory, InventoryErrorKind, InventoryKind, InventoryOptions, Omit,
    Origin, RegistryMap,
};
use npm_provenance_testkit::corpus::{corpus_file, repo_root};
use serde_json::Value;

fn opts() -> InventoryOptions {
    InventoryOptions::default()
}

fn data(rel: &str) -> PathBuf {
    repo_root().join("tests/data/lockfiles").join(rel)
}

/// The independent counter's numbers for `lockfile`, or `None` (skip) without python3 outside CI.
fn count(lockfile: &Path) -> Option<Value> {
    crate::common::independent_count(&data("count.py"), lockfile)
}

fn registry_set(inv: &Inventory) -> BTreeSet<String> {
    inv.registry_packages()
        .map(|p| {
            let i = p.integrity.as_ref().map(|i| i.as_str()).unwrap_or("");
            format!("{}@{} {}", p.name, p.version, i)
        })
        .collect()
}

fn strings(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// Loads a lockfile and checks it completely against the independent counter.
fn check(path: &Path, kind: InventoryKind, opts: &InventoryOptions) -> Inventory {
    let inv = load(path, opts).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(inv.source.kind, kind);
    assert!(inv.binds_bytes);
    let Some(want) = count(path) else {
        return inv;
    };
    let name = path.display();
    let c = &inv.counts;
    assert_eq!(
        c.entries as u64,
        want["entries"].as_u64().unwrap(),
        "{name}"
    );
    let want_set = strings(&want["registry"]);
    let got = registry_set(&inv);
    let missing: Vec<_> = want_set.difference(&got).take(5).collect();
    let invented: Vec<_> = got.difference(&want_set).take(5).collect();
    assert!(
        missing.is_empty(),
        "{name}: registry packages missing: {missing:?}"
    );
    assert!(
        invented.is_empty(),
        "{name}: registry packages invented: {invented:?}"
    );
    assert_eq!(c.registry_packages, want_set.len(), "{name}");
    assert_eq!(
        c.integrity_missing as u64,
        want["integrity_missing"].as_u64().unwrap(),
        "{name}"
    );
    let mut other: BTreeMap<String, u64> = BTreeMap::new();
    for (origin, n) in &c.by_origin {
        if origin != "registry" && origin != "alias" {
            other.insert(origin.clone(), *n as u64);
        }
    }
    let want_other: BTreeMap<String, u64> = want["other"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect();
    assert_eq!(other, want_other, "{name}: non-registry packages by origin");
    let patched: BTreeSet<String> = inv
        .packages
        .iter()
        .filter(|p| p.patched)
        .map(|p| format!("{}@{}", p.name, p.version))
        .collect();
    assert_eq!(patched, strings(&want["patched"]), "{name}: patched");
    // Every lockfile entry lands in exactly one package.
    let paths: usize = inv.packages.iter().map(|p| p.paths.len()).sum();
    assert_eq!(paths, c.entries, "{name}");
    inv
}

fn corpus(test: &str, rel: &str) -> Option<PathBuf> {
    corpus_file(test, rel)
}

// ---- the real corpus lockfiles ----

#[test]
fn yarn_v1_excalidraw() {
    let Some(path) = corpus(
        "yarn_v1_excalidraw",
        "lockfiles/yarn-v1-excalidraw/yarn.lock",
    ) else {
        return;
    };
    let inv = check(&path, InventoryKind::YarnLock, &opts());
    // Third count: `grep -c '^[^ #].*:$' yarn.lock` = 1444 blocks; the manifest says ~1,444.
    assert_eq!(inv.counts.entries, 1444);
    assert_eq!(inv.counts.registry_packages, 1441);
    assert_eq!(inv.counts.integrity_missing, 0);
    // yarn's alias host is the npm registry: no registry-mismatch finding.
    assert!(inv
        .packages
        .iter()
        .all(|p| p.findings.iter().all(|f| f.code != "registry-mismatch")));
    // The same block key is the package's path (a line that names it in the lockfile).
    let text = std::fs::read_to_string(&path).unwrap();
    for p in inv.packages.iter().take(50) {
        for key in &p.paths {
            assert!(text.contains(key.as_str()), "{key} not in the lockfile");
        }
    }
}

#[test]
fn yarn_berry_prettier() {
    let Some(path) = corpus(
        "yarn_berry_prettier",
        "lockfiles/yarn-berry-prettier/yarn.lock",
    ) else {
        return;
    };
    let inv = check(&path, InventoryKind::YarnLock, &opts());
    // Third count: `grep -c '^[^ #_].*:$' yarn.lock` = 1052 blocks, less the root workspace.
    assert_eq!(inv.counts.entries, 1051);
    // Berry's checksum is of its zip: nothing pins the tarball, and each package says so.
    assert_eq!(inv.counts.integrity_missing, 1051);
    for p in inv.registry_packages() {
        assert!(p.integrity.is_none());
        let f = p
            .findings
            .iter()
            .find(|f| f.code == "lockfile-integrity-missing")
            .unwrap_or_else(|| panic!("{}: no finding", p.name));
        assert!(f.message.contains("own zip archive"), "{}", f.message);
    }
    // `patch:` resolutions are the registry package, marked patched.
    let ts = inv
        .registry_packages()
        .find(|p| p.name == "typescript" && p.version == "6.0.3")
        .unwrap();
    assert!(ts.patched && ts.origin == Origin::Registry);
}

#[test]
fn pnpm_v9_vite() {
    let Some(path) = corpus("pnpm_v9_vite", "lockfiles/pnpm-v9-vite/pnpm-lock.yaml") else {
        return;
    };
    let inv = check(&path, InventoryKind::PnpmLock, &opts());
    // Third count: awk over the `packages:` section's two-space keys = 1405.
    assert_eq!(inv.counts.entries, 1405);
    assert_eq!(inv.counts.by_origin.get("file"), Some(&109));
    // The `npm:` override (debug → obug) is the real package.
    assert!(inv.registry_packages().any(|p| p.name == "obug"));
    assert_eq!(inv.packages.iter().filter(|p| p.patched).count(), 3);
}

#[test]
fn pnpm_v9_vuejs_core() {
    let Some(path) = corpus(
        "pnpm_v9_vuejs_core",
        "lockfiles/pnpm-v9-vuejs-core/pnpm-lock.yaml",
    ) else {
        return;
    };
    let inv = check(&path, InventoryKind::PnpmLock, &opts());
    // Third count: awk over `packages:` = 620 keys (`snapshots:` has 621 peer variants).
    assert_eq!(inv.counts.entries, 620);
    assert_eq!(inv.counts.registry_packages, 620);
}

// ---- provenance-action's small synthetic lockfiles ----

#[test]
fn provenance_action_yarn_lockfiles() {
    for rel in [
        "provenance-action/yarn-v1__yarn.lock",
        "provenance-action/yarn-berry__yarn.lock",
    ] {
        let Some(path) = corpus("provenance_action_yarn", rel) else {
            return;
        };
        let inv = check(&path, InventoryKind::YarnLock, &opts());
        let names: BTreeSet<&str> = inv.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, BTreeSet::from(["@scope/name", "lodash"]), "{rel}");
        assert_eq!(inv.counts.integrity_missing, 2, "{rel}");
    }
}

#[test]
fn provenance_action_placeholder_lockfiles_are_clear_errors() {
    // `sha512-...` is a placeholder, not an integrity: refused, naming the file and the key.
    if let Some(path) = corpus(
        "provenance_action_pnpm",
        "provenance-action/pnpm__pnpm-lock.yaml",
    ) {
        let e = load(&path, &opts()).unwrap_err();
        assert_eq!(e.kind, InventoryErrorKind::Parse);
        let text = e.to_string();
        assert!(text.contains("pnpm__pnpm-lock.yaml"), "{text}");
        assert!(
            text.contains("/lodash@4.17.21") && text.contains("integrity"),
            "{text}"
        );
        assert!(matches!(AppError::from(e), AppError::Parse { .. }));
    }
    // Its bun file is a package list, not bun's lockfile format.
    if let Some(path) = corpus("provenance_action_bun", "provenance-action/bun__bun.lock") {
        let e = load(&path, &opts()).unwrap_err();
        assert_eq!(e.kind, InventoryErrorKind::Parse);
        assert!(e.problem.contains("no lockfileVersion"), "{e}");
    }
}

// ---- hand-written edge cases ----

#[test]
fn yarn_v1_edge_cases() {
    let inv = check(&data("yarn-v1/yarn.lock"), InventoryKind::YarnLock, &opts());
    let by = |n: &str| inv.packages.iter().find(|p| p.name == n).unwrap();
    assert_eq!(by("lodash").paths, vec!["lodash@^4.0.0"]);
    let old = by("old");
    assert!(old.integrity.as_ref().unwrap().is_sha1_only());
    assert!(old
        .findings
        .iter()
        .any(|f| f.code == "lockfile-integrity-weak"));
    let alias = by("strip-ansi");
    assert_eq!(alias.origin, Origin::Alias);
    assert_eq!(alias.alias.as_deref(), Some("strip-cjs"));
    let mirror = by("mirror");
    assert!(mirror
        .findings
        .iter()
        .any(|f| f.code == "registry-mismatch"));
    assert_eq!(by("gh").origin, Origin::TarballUrl);
    assert_eq!(by("vendored").origin, Origin::File);
    assert_eq!(inv.counts.integrity_weak, 1);
}

#[test]
fn berry_edge_cases_and_yarnrc() {
    let path = data("berry/yarn.lock");
    let inv = check(&path, InventoryKind::YarnLock, &opts());
    let corp = inv.packages.iter().find(|p| p.name == "@corp/lib").unwrap();
    assert_eq!(
        corp.registry, "https://npm.corp.example/",
        ".yarnrc.yml npmScopes"
    );
    assert_eq!(
        inv.packages
            .iter()
            .find(|p| p.name == "lodash")
            .unwrap()
            .registry,
        "https://registry.npmjs.org/"
    );
    // The platform entry without checksum and its patch are one registry package, patched.
    let fsevents: Vec<_> = inv
        .packages
        .iter()
        .filter(|p| p.name == "fsevents")
        .collect();
    assert_eq!(fsevents.len(), 1);
    assert!(fsevents[0].patched);
    assert_eq!(fsevents[0].paths.len(), 2);
    let ws = inv.packages.iter().find(|p| p.name == "lib-ws").unwrap();
    assert_eq!(ws.origin, Origin::Workspace);
    assert!(!inv.packages.iter().any(|p| p.name == "berry-app"), "root");
}

#[test]
fn pnpm_v6_edge_cases() {
    let inv = check(
        &data("pnpm-v6/pnpm-lock.yaml"),
        InventoryKind::PnpmLock,
        &opts(),
    );
    let by = |n: &str| inv.packages.iter().find(|p| p.name == n).unwrap();
    assert_eq!(
        by("react-dom").paths,
        vec!["/react-dom@18.2.0(react@18.2.0)"]
    );
    let esbuild = by("esbuild");
    assert!(esbuild.dev && esbuild.has_install_script);
    assert!(!by("react").dev);
    let local = by("local");
    assert_eq!(
        (local.origin, local.version.as_str()),
        (Origin::File, "1.0.0")
    );
}

#[test]
fn bun_documented_format() {
    let inv = check(&data("bun/bun.lock"), InventoryKind::BunLock, &opts());
    let lodash: BTreeSet<&str> = inv
        .registry_packages()
        .filter(|p| p.name == "lodash")
        .map(|p| p.version.as_str())
        .collect();
    assert_eq!(
        lodash,
        BTreeSet::from(["4.17.20", "4.17.21"]),
        "nested copy"
    );
    let patched: Vec<_> = inv.packages.iter().filter(|p| p.patched).collect();
    assert_eq!(patched.len(), 1);
    assert_eq!(patched[0].paths, vec!["@scope/name/lodash"]);
    let strip = inv
        .registry_packages()
        .find(|p| p.name == "strip-ansi")
        .unwrap();
    assert_eq!(strip.paths, vec!["strip-ansi", "strip-cjs"]);
    assert_eq!(strip.origin, Origin::Registry, "also installed unaliased");
}

// ---- detection, errors ----

struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "npmprov-lock-{tag}-{}-{:?}",
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

#[test]
fn project_directory_detection_and_ambiguity() {
    let s = Scratch::new("detect");
    let v1 = std::fs::read_to_string(data("yarn-v1/yarn.lock")).unwrap();
    let lock = s.write("yarn.lock", &v1);
    let inv = load(&s.0, &opts()).unwrap();
    assert_eq!(inv.source.kind, InventoryKind::YarnLock);
    assert_eq!(inv.source.path, lock);
    s.write("bun.lockb", "\0binary");
    let e = load(&s.0, &opts()).unwrap_err();
    assert_eq!(e.kind, InventoryErrorKind::Ambiguous);
    assert!(e.problem.contains("yarn.lock, bun.lockb"), "{e}");
    let e = load(&s.0.join("bun.lockb"), &opts()).unwrap_err();
    assert_eq!(e.kind, InventoryErrorKind::Unsupported);
    assert!(
        e.problem.contains("bun install --save-text-lockfile"),
        "{e}"
    );
    assert!(matches!(AppError::from(e), AppError::Inventory(_)));
    std::fs::remove_file(&lock).unwrap();
    let e = load(&s.0, &opts()).unwrap_err();
    assert!(e.problem.contains("--save-text-lockfile"), "{e}");
}

#[test]
fn options_not_applicable_are_usage_errors() {
    let o = InventoryOptions {
        omit: Omit::parse(&["dev"]).unwrap(),
        ..opts()
    };
    for path in [data("yarn-v1/yarn.lock"), data("bun/bun.lock")] {
        let e = load(&path, &o).unwrap_err();
        assert_eq!(e.kind, InventoryErrorKind::Usage);
        assert!(e.problem.contains("--omit"), "{e}");
    }
    let path = data("pnpm-v6/pnpm-lock.yaml");
    let o = InventoryOptions {
        workspaces: vec!["x".into()],
        ..opts()
    };
    assert_eq!(load(&path, &o).unwrap_err().kind, InventoryErrorKind::Usage);
}

#[test]
fn configured_registry_applies() {
    let o = InventoryOptions {
        registries: RegistryMap::new(
            "https://npm.mirror.example/",
            [("@scope".to_string(), "https://scope.example/".to_string())],
        ),
        ..opts()
    };
    let inv = load(&data("bun/bun.lock"), &o).unwrap();
    let scoped = inv
        .packages
        .iter()
        .find(|p| p.name == "@scope/name")
        .unwrap();
    assert_eq!(scoped.registry, "https://scope.example/");
    let lodash = inv.packages.iter().find(|p| p.name == "lodash").unwrap();
    assert_eq!(lodash.registry, "https://npm.mirror.example/");
}

#[test]
fn malformed_lockfiles_are_parse_errors_naming_the_file() {
    let s = Scratch::new("bad");
    let cases = [
        ("a/yarn.lock", "lodash@^4:\n  resolved \"x\"\n", "no version"),
        ("b/yarn.lock", "__metadata:\n  version: 8\n\"a@npm:1\": [\n", "invalid YAML"),
        (
            "c/pnpm-lock.yaml",
            "lockfileVersion: '9.0'\npackages:\n  x@1.0.0:\n    resolution: {integrity: sha512-AAAA}\n",
            "integrity",
        ),
        ("d/pnpm-lock.yaml", "lockfileVersion: '5.4'\n", "unsupported lockfileVersion"),
        ("e/bun.lock", "{\"lockfileVersion\": 1, \"packages\": {\"a\": 1}}", "expected an array"),
        ("f/bun.lock", "{\"lockfileVersion\": 1,", "invalid JSON"),
        ("g/pnpm-lock.yaml", "a: &x 1\nb: *x\n", "anchors"),
        (
            "h/pnpm-lock.yaml",
            "lockfileVersion: '9.0'\npackages:\n  ../../x@1.0.0:\n    resolution: {integrity: sha512-IIhEbVqpvTWcYGk1NrjsTFxqI1UGoAaA7plNEVXOl/rQI5pHNfqe+DBRpwp1hk8URhLDUvGWQgz7DBZ6uyCbgQ==}\n",
            "not a valid npm package name",
        ),
    ];
    for (rel, text, want) in cases {
        let p = s.write(rel, text);
        let e = load(&p, &opts()).unwrap_err();
        assert_eq!(e.kind, InventoryErrorKind::Parse, "{rel}: {e}");
        assert!(e.to_string().starts_with(&p.display().to_string()), "{e}");
        assert!(e.problem.contains(want), "{rel}: {e}");
    }
    let p = s.write("i/pnpm-lock.yaml", "lockfileVersion: '9.0'\n");
    assert_eq!(
        load(&p, &opts()).unwrap_err().kind,
        InventoryErrorKind::Empty
    );
}

#[test]
fn bunfig_registries_apply_over_npmrc() {
    let s = Scratch::new("bunfig");
    let text = std::fs::read_to_string(data("bun/bun.lock")).unwrap();
    let text = text.replace(
        r#"["lodash@4.17.21", """#,
        r#"["lodash@4.17.21", "https://elsewhere.example/lodash/-/lodash-4.17.21.tgz""#,
    );
    let lock = s.write("bun.lock", &text);
    s.write(
        "bunfig.toml",
        "[install.scopes]\nscope = { url = \"https://user:pw@scope.example/\", token = \"t\" }\n",
    );
    let inv = load(&s.0, &opts()).unwrap();
    assert_eq!(inv.source.path, lock);
    let scoped = inv
        .packages
        .iter()
        .find(|p| p.name == "@scope/name")
        .unwrap();
    assert_eq!(
        scoped.registry, "https://scope.example/",
        "no credentials kept"
    );
    let lodash = inv
        .packages
        .iter()
        .find(|p| p.name == "lodash" && p.version == "4.17.21")
        .unwrap();
    assert!(
        lodash
            .findings
            .iter()
            .any(|f| f.code == "registry-mismatch"),
        "{:?}",
        lodash.findings
    );
    s.write("bunfig.toml", "[install]\nregistry = 5\n");
    let e = load(&s.0, &opts()).unwrap_err();
    assert_eq!(e.kind, InventoryErrorKind::Parse);
    assert!(
        e.to_string().contains("bunfig.toml: install.registry"),
        "{e}"
    );
}

#[test]
fn pnpm_v9_optional_from_snapshots() {
    let Some(path) = corpus("pnpm_v9_optional", "lockfiles/pnpm-v9-vite/pnpm-lock.yaml") else {
        return;
    };
    let inv = load(&path, &opts()).unwrap();
    let workerd = inv
        .packages
        .iter()
        .find(|p| p.name == "@cloudflare/workerd-darwin-64")
        .unwrap();
    assert!(workerd.optional, "its snapshot says optional: true");
    let vite_dep = inv.packages.iter().find(|p| p.name == "rollup").unwrap();
    assert!(!vite_dep.optional);
}

#[test]
fn yarnrc_yml_is_read_for_berry_only() {
    let s = Scratch::new("yarnrc");
    let rc = "npmRegistryServer: \"https://npm.corp.example\"\n";
    let v1 = std::fs::read_to_string(data("yarn-v1/yarn.lock")).unwrap();
    s.write("v1/yarn.lock", &v1);
    s.write("v1/.yarnrc.yml", rc);
    let inv = load(&s.0.join("v1"), &opts()).unwrap();
    let lodash = inv.packages.iter().find(|p| p.name == "lodash").unwrap();
    assert_eq!(lodash.registry, "https://registry.npmjs.org/");
    let berry = std::fs::read_to_string(data("berry/yarn.lock")).unwrap();
    s.write("berry/yarn.lock", &berry);
    s.write("berry/.yarnrc.yml", rc);
    let inv = load(&s.0.join("berry"), &opts()).unwrap();
    let lodash = inv.packages.iter().find(|p| p.name == "lodash").unwrap();
    assert_eq!(lodash.registry, "https://npm.corp.example/");
    s.write("berry/.yarnrc.yml", "npmRegistryServer: \"${REG}\"\n");
    let e = load(&s.0.join("berry"), &opts()).unwrap_err();
    assert!(
        e.to_string().contains(".yarnrc.yml: npmRegistryServer"),
        "{e}"
    );
}

/// Cut and corrupted copies of every lockfile: an error or an inventory, never a panic.
#[test]
fn damaged_lockfiles_never_panic() {
    let mut sources: Vec<(PathBuf, &str)> = vec![
        (data("yarn-v1/yarn.lock"), "yarn.lock"),
        (data("berry/yarn.lock"), "yarn.lock"),
        (data("pnpm-v6/pnpm-lock.yaml"), "pnpm-lock.yaml"),
        (data("bun/bun.lock"), "bun.lock"),
    ];
    for (rel, file) in [
        ("lockfiles/yarn-v1-excalidraw/yarn.lock", "yarn.lock"),
        ("lockfiles/yarn-berry-prettier/yarn.lock", "yarn.lock"),
        (
            "lockfiles/pnpm-v9-vuejs-core/pnpm-lock.yaml",
            "pnpm-lock.yaml",
        ),
    ] {
        if let Some(p) = corpus("damaged_lockfiles", rel) {
            sources.push((p, file));
        }
    }
    let s = Scratch::new("damaged");
    let mut errors = 0;
    for (i, (src, file)) in sources.iter().enumerate() {
        let text = std::fs::read(src).unwrap();
        // Small files: every cut point; large ones: a spread of them, plus byte flips.
        let step = (text.len() / 24).max(1);
        for (j, cut) in (0..text.len()).step_by(step).enumerate() {
            let mut bytes = text[..cut].to_vec();
            if j % 2 == 1 && !bytes.is_empty() {
                let k = bytes.len() / 2;
                bytes[k] = b"\"'[{:,@\n%"[j % 9];
            }
            let p = s.0.join(format!("{i}-{j}")).join(file);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, &bytes).unwrap();
            if load(&p, &opts()).is_err() {
                errors += 1;
            }
        }
    }
    assert!(errors > 0, "some damaged copies must be refused");
}

#[test]
fn pnpm_omit_dev() {
    let o = InventoryOptions {
        omit: Omit::parse(&["dev"]).unwrap(),
        ..opts()
    };
    let inv = load(&data("pnpm-v6/pnpm-lock.yaml"), &o).unwrap();
    let names: BTreeSet<&str> = inv.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, BTreeSet::from(["react", "react-dom", "strip-ansi"]));
    assert_eq!((inv.counts.entries, inv.counts.omitted), (5, 2));
    let Some(path) = corpus("pnpm_omit_dev", "lockfiles/pnpm-v9-vite/pnpm-lock.yaml") else {
        return;
    };
    let all = load(&path, &opts()).unwrap();
    let prod = load(&path, &o).unwrap();
    assert_eq!(prod.counts.entries, all.counts.entries);
    assert!(prod.counts.omitted > 0);
    let paths: usize = prod.packages.iter().map(|p| p.paths.len()).sum();
    assert_eq!(paths + prod.counts.omitted, all.counts.entries);
    // A root devDependency only goes; vite's own runtime dependency stays.
    assert!(!prod.packages.iter().any(|p| p.name == "@eslint/js"));
    assert!(prod.packages.iter().any(|p| p.name == "picomatch"));
}

/// Every package's paths are found at a lockfile line that names the package (for SARIF and
/// GitHub annotations), on every format.
#[test]
fn entry_lines_name_the_package() {
    let mut files = vec![
        (data("yarn-v1/yarn.lock"), InventoryKind::YarnLock),
        (data("berry/yarn.lock"), InventoryKind::YarnLock),
        (data("pnpm-v6/pnpm-lock.yaml"), InventoryKind::PnpmLock),
        (data("bun/bun.lock"), InventoryKind::BunLock),
    ];
    for (rel, kind) in [
        (
            "lockfiles/yarn-v1-excalidraw/yarn.lock",
            InventoryKind::YarnLock,
        ),
        (
            "lockfiles/yarn-berry-prettier/yarn.lock",
            InventoryKind::YarnLock,
        ),
        (
            "lockfiles/pnpm-v9-vite/pnpm-lock.yaml",
            InventoryKind::PnpmLock,
        ),
        (
            "lockfiles/pnpm-v9-vuejs-core/pnpm-lock.yaml",
            InventoryKind::PnpmLock,
        ),
    ] {
        if let Some(p) = corpus("entry_lines", rel) {
            files.push((p, kind));
        }
    }
    for (path, kind) in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let inv = load(&path, &opts()).unwrap();
        let index = entry_lines(kind, &text);
        let mut seen = BTreeSet::new();
        for p in &inv.packages {
            for key in &p.paths {
                let n = *index
                    .get(key)
                    .unwrap_or_else(|| panic!("{}: no line for {key}", path.display()));
                let line = lines[n - 1];
                assert!(line.contains(key.as_str()), "{key} at {n}: {line}");
                assert!(seen.insert(n), "{key}: line {n} given twice");
            }
        }
        assert_eq!(seen.len(), inv.counts.entries, "{}", path.display());
    }
    let bun = entry_lines(
        InventoryKind::BunLock,
        "\"lodash\": \"^4\",\n\"lodash\": [\"lodash@4.17.21\"]\n",
    );
    assert_eq!(
        bun.get("lodash"),
        Some(&2),
        "the dependency line is not the entry"
    );
}
