//! Unit tests of the report model and its renderers over hand-built evidence.

use super::text::TextOptions;
use super::*;
use crate::inventory::{InventoryCounts, InventorySource};
use crate::verify::evidence::{NpmUserIdentity, Published};
use crate::verify::registry_signature::TimeSource;

fn pkg(name: &str, version: &str, origin: Origin) -> PackageRef {
    PackageRef {
        name: name.into(),
        alias: None,
        version: version.into(),
        // Registry packages are pinned by the lockfile, as in a real package-lock.
        integrity: origin.is_registry().then(|| {
            crate::inventory::integrity::Integrity::parse(&format!("sha512-{}==", "A".repeat(86)))
                .unwrap()
        }),
        registry: if origin.is_registry() || origin == Origin::Bundled {
            "https://registry.npmjs.org/".into()
        } else {
            String::new()
        },
        origin,
        paths: vec![format!("node_modules/{name}")],
        dev: false,
        optional: false,
        peer: false,
        resolved: None,
        has_install_script: false,
        patched: false,
        findings: Vec::new(),
    }
}

fn inventory(packages: &[PackageRef]) -> Inventory {
    Inventory {
        source: InventorySource {
            kind: InventoryKind::PackageLock,
            path: "package-lock.json".into(),
            workspace: None,
        },
        binds_bytes: true,
        packages: packages.to_vec(),
        findings: Vec::new(),
        counts: InventoryCounts {
            entries: packages.len(),
            ..InventoryCounts::default()
        },
    }
}

fn evidence(sig: Status, prov: Status, findings: Vec<Finding>) -> VersionEvidence {
    let c = |s: Status| {
        if s == Status::Verified {
            Check::verified()
        } else {
            Check::new(s, "test")
        }
    };
    VersionEvidence {
        registry_signature: c(sig),
        publish_attestation: c(if prov == Status::Verified {
            Status::Verified
        } else {
            Status::NotApplicable
        }),
        provenance: c(prov),
        integrity: Check::verified(),
        published: Published {
            time: None,
            source: TimeSource::None,
        },
        identity: Identity::default(),
        findings,
    }
}

fn sample() -> (Inventory, Vec<PackageReport>) {
    let a = pkg("a", "1.0.0", Origin::Registry);
    let b = pkg("b", "1.0.0", Origin::Registry);
    let c = pkg("c", "1.0.0", Origin::Registry);
    let d = pkg("d", "1.0.0", Origin::Registry);
    let ws = pkg("ws", "0.0.0", Origin::Workspace);
    let bundled = pkg("inner", "2.0.0", Origin::Bundled);
    let mut aliased = pkg("real", "3.0.0", Origin::Alias);
    aliased.alias = Some("installed".into());
    let inv = inventory(&[
        a.clone(),
        b.clone(),
        c.clone(),
        d.clone(),
        ws.clone(),
        bundled.clone(),
        aliased.clone(),
    ]);
    let reports = vec![
        PackageReport::registry(
            &a,
            None,
            evidence(Status::Verified, Status::Verified, vec![]),
            vec![],
        ),
        PackageReport::registry(
            &b,
            None,
            evidence(
                Status::Verified,
                Status::Missing,
                vec![Finding::new("provenance-missing", "none")],
            ),
            vec![],
        ),
        PackageReport::registry(
            &c,
            None,
            evidence(
                Status::Invalid,
                Status::Missing,
                vec![Finding::new("registry-signature-invalid", "bad")],
            ),
            vec![],
        ),
        PackageReport::without_evidence(
            &d,
            Status::Unverifiable,
            "packument unavailable",
            vec![Finding::new("unverifiable", "GET …: HTTP status 500")],
        ),
        PackageReport::not_fetched(&ws),
        PackageReport::not_fetched(&bundled),
        PackageReport::registry(
            &aliased,
            None,
            evidence(Status::Verified, Status::Missing, vec![]),
            vec![],
        ),
    ];
    (inv, reports)
}

#[test]
fn summary_counts_every_class() {
    let (inv, reports) = sample();
    let r = Report::build(&inv, reports, vec![], LevelOptions::default());
    let s = &r.summary;
    assert_eq!(s.packages, 7);
    assert_eq!(s.verified, 3, "a, b and the alias");
    assert_eq!(s.with_provenance, 1);
    assert_eq!(s.without_provenance, 3);
    assert_eq!(s.invalid, 1);
    assert_eq!(s.unverifiable, 1);
    assert_eq!(s.not_from_registry, 1);
    assert_eq!(s.bundled, 1);
    assert_eq!(
        s.findings,
        LevelCounts {
            deny: 2,
            warn: 0,
            info: 1
        }
    );
    assert!(r.fails_at(Level::Deny));
}

#[test]
fn not_fetched_packages_are_never_verified() {
    let ws = pkg("ws", "0.0.0", Origin::Workspace);
    let p = PackageReport::not_fetched(&ws);
    assert_eq!(p.registry_signature.status, Status::NotApplicable);
    assert!(!is_verified(&p));
}

#[test]
fn allow_unverifiable_turns_it_into_warn_only() {
    let (inv, reports) = sample();
    let r = Report::build(
        &inv,
        reports,
        vec![Finding::new("unverifiable", "keys")],
        LevelOptions {
            allow_unverifiable: true,
        },
    );
    assert!(r
        .all_findings()
        .filter(|f| f.code == "unverifiable")
        .all(|f| f.level == Level::Warn));
    // The invalid signature still denies; the unverifiable package is still not verified.
    assert!(r.fails_at(Level::Deny));
    assert_eq!(r.summary.verified, 3);
    assert_eq!(r.summary.findings.warn, 2);
}

#[test]
fn fail_level_decides_on_the_highest_level() {
    let a = pkg("a", "1.0.0", Origin::Registry);
    let inv = inventory(std::slice::from_ref(&a));
    let reports = vec![PackageReport::registry(
        &a,
        None,
        evidence(
            Status::Verified,
            Status::Missing,
            vec![Finding::new("provenance-missing", "none")],
        ),
        vec![],
    )];
    let r = Report::build(&inv, reports, vec![], LevelOptions::default());
    assert!(!r.fails_at(Level::Deny));
    assert!(!r.fails_at(Level::Warn));
    assert!(r.fails_at(Level::Info));
}

#[test]
fn json_is_sorted_and_carries_the_schema() {
    let (inv, mut reports) = sample();
    reports.reverse();
    let r = Report::build(&inv, reports, vec![], LevelOptions::default());
    let v: serde_json::Value = serde_json::from_str(&json::render(&r).unwrap()).unwrap();
    assert_eq!(v["schema"], SCHEMA);
    let names: Vec<&str> = v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    let alias = v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "installed")
        .unwrap();
    assert_eq!(alias["real_name"], "real");
    assert_eq!(alias["origin"], "alias");
    assert!(v["packages"][0].get("real_name").is_none());
    for key in [
        "entries",
        "packages",
        "verified",
        "with_provenance",
        "without_provenance",
        "invalid",
        "missing_signature",
        "unverifiable",
        "not_from_registry",
        "bundled",
        "findings",
        "suppressed",
    ] {
        assert!(v["summary"].get(key).is_some(), "summary.{key}");
    }
}

#[test]
fn text_escapes_registry_strings_and_colours_only_when_asked() {
    let mut p = pkg("evil\u{1b}[2J", "1.0.0", Origin::Registry);
    p.findings
        .push(Finding::new("registry-mismatch", "from \u{1b}[31mred"));
    let inv = inventory(&[p.clone()]);
    let mut ev = evidence(Status::Verified, Status::Missing, vec![]);
    ev.identity.npm_user = Some(NpmUserIdentity {
        name: Some("n".into()),
        email: Some("x\n::error::pwned".into()),
        ..NpmUserIdentity::default()
    });
    let r = Report::build(
        &inv,
        vec![PackageReport::registry(&p, None, ev, vec![])],
        vec![],
        LevelOptions::default(),
    );
    let plain = text::render(
        &r,
        TextOptions {
            color: false,
            fail_level: Level::Deny,
        },
    );
    assert!(!plain.contains('\u{1b}'), "{plain}");
    assert!(!plain.lines().any(|l| l.starts_with("::")), "{plain}");
    assert!(plain.contains("x\\u{a}::error::pwned"), "{plain}");
    assert!(plain.contains("WARN (1)"), "{plain}");
    let coloured = text::render(
        &r,
        TextOptions {
            color: true,
            fail_level: Level::Deny,
        },
    );
    assert!(coloured.contains("\u{1b}[33;1mWARN"), "{coloured}");
}

#[test]
fn text_starts_with_the_summary_and_ends_with_the_verdict() {
    let (inv, reports) = sample();
    let r = Report::build(&inv, reports, vec![], LevelOptions::default());
    let t = text::render(
        &r,
        TextOptions {
            color: false,
            fail_level: Level::Deny,
        },
    );
    assert!(t.starts_with("npm-provenance verify: package-lock.json"));
    let deny = t.find("DENY (2)").unwrap();
    let info = t.find("INFO (1)").unwrap();
    let next = t.find("What to do next:").unwrap();
    assert!(deny < info && info < next, "{t}");
    assert!(t.contains("Not from a registry, not verified (1):"), "{t}");
    assert!(t
        .trim_end()
        .ends_with("FAIL: 2 finding(s) at or above deny"));
}

#[test]
fn many_packages_sharing_a_warning_are_grouped_by_code() {
    let pkgs: Vec<PackageRef> = (0..12)
        .map(|i| {
            let mut p = pkg(&format!("p{i:02}"), "1.0.0", Origin::Registry);
            p.findings
                .push(Finding::new("lockfile-integrity-missing", "no integrity"));
            p
        })
        .collect();
    let inv = inventory(&pkgs);
    let reports = pkgs
        .iter()
        .map(|p| {
            PackageReport::registry(
                p,
                None,
                evidence(Status::Verified, Status::Missing, vec![]),
                vec![],
            )
        })
        .collect();
    let r = Report::build(&inv, reports, vec![], LevelOptions::default());
    let t = text::render(
        &r,
        TextOptions {
            color: false,
            fail_level: Level::Deny,
        },
    );
    assert!(
        t.contains("lockfile-integrity-missing: 12 packages (p00@1.0.0, p01@1.0.0, p02@1.0.0, p03@1.0.0, p04@1.0.0, and 7 more)"),
        "{t}"
    );
    assert!(!t.contains("at node_modules/p11"), "{t}");
}
