//! The benchmark registry (`src/bin/bench-registry.rs`) on the small corpus lockfile: it writes
//! the tree npm reads, serves every installed version with a registry signature that verifies
//! with the key it writes for `--npm-keys`, serves the real attestation sets it announces, and
//! counts requests. No network: everything is on 127.0.0.1.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use base64::Engine as _;
use p256::ecdsa::signature::Verifier as _;
use p256::pkcs8::DecodePublicKey as _;
use serde_json::Value;

struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `GET url` with `accept`; returns (status, body). Plain HTTP/1.1 on loopback.
fn get(url: &str, accept: &str) -> (u16, Vec<u8>) {
    let rest = url.strip_prefix("http://").expect("http url");
    let (host, path) = rest.split_once('/').expect("path");
    let mut s = TcpStream::connect(host).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let req = format!(
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nAccept: {accept}\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, raw[split + 4..].to_vec())
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

#[test]
fn serves_the_small_lockfile_tree_with_verifiable_signatures() {
    let Some(corpus) = npm_provenance_testkit::corpus::corpus_dir("bench_registry") else {
        return;
    };
    let lockfile = corpus.join("lockfiles/npm-v3-sigstore-js-1063pkgs/package-lock.json");
    let dir = std::env::temp_dir().join(format!("npmprov-bench-registry-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (out, tree) = (dir.join("out"), dir.join("tree"));
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_bench-registry"))
            .arg("--lockfile")
            .arg(&lockfile)
            .arg("--out")
            .arg(&out)
            .arg("--tree")
            .arg(&tree)
            .args(["--small-packuments", "--seconds", "120"])
            .env("NPM_PROVENANCE_CORPUS", &corpus)
            .spawn()
            .expect("bench-registry starts"),
    );
    let start = Instant::now();
    while !out.join("ready").is_file() {
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "bench-registry not ready"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let ready = read_json(&out.join("ready"));
    assert_eq!(ready["attested"].as_array().unwrap().len(), 7, "{ready}");
    let url = std::fs::read_to_string(out.join("registry-url")).unwrap();
    let url = url.trim();
    let control = std::fs::read_to_string(out.join("control-url")).unwrap();
    let control = control.trim();

    // The tree: every installed location has its package.json; the lockfile gained the
    // attested versions.
    let lock = read_json(&tree.join("package-lock.json"));
    let packages = lock["packages"].as_object().unwrap();
    let mut locations = 0;
    for (loc, e) in packages {
        if loc.is_empty() || e["link"].as_bool() == Some(true) {
            continue;
        }
        let pkg = read_json(&tree.join(loc).join("package.json"));
        assert_eq!(pkg["version"], e["version"], "{loc}");
        locations += 1;
    }
    assert!(locations > 1_000, "{locations} locations");
    assert!(packages.contains_key("node_modules/nuxt"));

    // Keys for --npm-keys.
    let keys = read_json(&out.join("npm-keys.json"));
    let bench_key = &keys["keys"][0];
    assert_eq!(bench_key["keyUsage"], "npm:signatures");
    let spki = base64::engine::general_purpose::STANDARD
        .decode(bench_key["publicKey"]["rawBytes"].as_str().unwrap())
        .unwrap();
    let vk = p256::ecdsa::VerifyingKey::from_public_key_der(&spki).unwrap();

    // A few installed versions: served, signed over name@version:integrity by the bench key.
    let _ = get(&format!("{control}reset"), "*/*");
    let mut checked = 0;
    for (loc, e) in packages.iter().filter(|(l, _)| l.contains("node_modules/")) {
        let (Some(version), Some(integrity)) = (e["version"].as_str(), e["integrity"].as_str())
        else {
            continue;
        };
        let name = e["name"]
            .as_str()
            .unwrap_or_else(|| loc.rsplit_once("node_modules/").unwrap().1);
        if name == "nuxt" || checked >= 20 {
            continue;
        }
        let (status, body) = get(
            &format!("{url}{}", name.replacen('/', "%2f", 1)),
            "application/json",
        );
        assert_eq!(status, 200, "{name}");
        let doc: Value = serde_json::from_slice(&body).unwrap();
        let dist = &doc["versions"][version]["dist"];
        assert_eq!(dist["integrity"], integrity, "{name}@{version}");
        let sig = &dist["signatures"][0];
        assert_eq!(sig["keyid"], bench_key["keyId"]);
        let der = base64::engine::general_purpose::STANDARD
            .decode(sig["sig"].as_str().unwrap())
            .unwrap();
        let sig = p256::ecdsa::DerSignature::try_from(der.as_slice()).unwrap();
        vk.verify(format!("{name}@{version}:{integrity}").as_bytes(), &sig)
            .unwrap_or_else(|e| panic!("{name}@{version}: {e}"));
        checked += 1;
    }
    assert_eq!(checked, 20);

    // A real attestation set, as announced.
    let (status, body) = get(
        &format!("{url}-/npm/v1/attestations/sigstore@3.0.0"),
        "application/json",
    );
    assert_eq!(status, 200);
    let att: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(att["attestations"].as_array().unwrap().len(), 2);

    let (_, counts) = get(&format!("{control}count"), "*/*");
    let counts: Value = serde_json::from_slice(&counts).unwrap();
    assert_eq!(counts["registry"]["by"]["packument-full"], 20, "{counts}");
    assert_eq!(counts["registry"]["by"]["attestations"], 1, "{counts}");
    let _ = std::fs::remove_dir_all(&dir);
}
