//! The tamper matrix as data: a valid bundle, then one thing changed at a time. Each
//! [`Case`] says which verification step must reject it (the kebab-case names of
//! `npm_provenance::verify::Step::as_str`), so the matrix is written once and run against our
//! verifier (`tests/it/tamper.rs`) and the reference verifier (testkit `tests/reference_tamper.rs`).

use base64::Engine;
use serde_json::{json, Value};

use crate::bundle::{BodyMode, BundleVersion, ChainMode, Content, MintSpec, SignerSpec};
use crate::npm;
use crate::pki::{Identity, SctMode};
use crate::seed::{self, b64};
use crate::sigstore::TestSigstore;

/// Seed of the matrix's Sigstore.
pub const SEED: &[u8] = b"tamper-matrix";
/// Seed of the unrelated Sigstore used for "wrong root".
pub const OTHER_SEED: &[u8] = b"tamper-matrix/other";
/// Signing (integrated) time of every case: 2025-06-01T12:00:00Z.
pub const T: i64 = 1_748_779_200;
/// Package name and version of the statements.
pub const NAME: &str = "@acme/widget";
/// Package version.
pub const VERSION: &str = "1.2.3";
/// The artifact every case verifies against.
pub const TARBALL: &[u8] = b"package/package.json: {\"name\":\"@acme/widget\"}";

/// How an identity value is matched.
#[derive(Clone, Debug)]
pub enum MatchSpec {
    /// Exact string.
    Exact(String),
    /// Anchored regular expression.
    Regex(String),
}

/// Who the verifier is told may have signed.
#[derive(Clone, Debug)]
pub enum PolicySpec {
    /// Fulcio certificate with optional SAN / issuer matchers.
    Certificate {
        /// SAN matcher.
        san: Option<MatchSpec>,
        /// Issuer matcher.
        issuer: Option<MatchSpec>,
    },
    /// A key-signed bundle verified with this DER SPKI.
    PublicKey(Vec<u8>),
}

/// One row of the matrix.
#[derive(Clone, Debug)]
pub struct Case {
    /// Kebab-case name (also the test name).
    pub name: &'static str,
    /// The step that must reject it; `None` for the untampered controls.
    pub step: Option<&'static str>,
    /// Trusted root to verify with.
    pub trusted_root: String,
    /// Bundle bytes.
    pub bundle: Vec<u8>,
    /// Artifact bytes.
    pub artifact: Vec<u8>,
    /// Signer policy.
    pub policy: PolicySpec,
    /// Whether sigstore-verify 0.15.1 rejects it too (false where only our verifier adds
    /// the check: bundle-supplied intermediates, checkpoint size and origin, duplicate entries).
    pub reference_rejects: bool,
}

/// The identity every certificate case is issued to.
pub fn identity() -> Identity {
    Identity::github_actions(
        "acme/widget",
        ".github/workflows/release.yml",
        "refs/heads/main",
    )
}

/// The exact SAN / issuer policy of [`identity`].
pub fn exact_policy() -> PolicySpec {
    let id = identity();
    PolicySpec::Certificate {
        san: Some(MatchSpec::Exact(id.san.value().to_string())),
        issuer: Some(MatchSpec::Exact(id.issuer)),
    }
}

fn provenance_spec(version: BundleVersion) -> MintSpec {
    let statement =
        npm::provenance_statement(NAME, VERSION, &npm::sha512_hex(TARBALL), &identity());
    MintSpec::new(
        version,
        Content::statement(&statement),
        SignerSpec::Certificate(identity()),
        T,
    )
}

fn publish_spec() -> MintSpec {
    let statement = npm::publish_statement(NAME, VERSION, &npm::sha512_hex(TARBALL));
    MintSpec::new(
        BundleVersion::V02,
        Content::statement(&statement),
        SignerSpec::NpmKey,
        T,
    )
}

/// Every case of the matrix, controls first.
pub fn cases() -> Vec<Case> {
    let ts = TestSigstore::new(SEED);
    let other = TestSigstore::new(OTHER_SEED);
    let root = ts.trusted_root_json();
    let npm_key = PolicySpec::PublicKey(ts.npm_spki_der());
    let mut out = Vec::new();
    let mut add = |name: &'static str,
                   step: Option<&'static str>,
                   spec: &MintSpec,
                   mutate: &dyn Fn(&mut Value),
                   policy: PolicySpec,
                   reference_rejects: bool| {
        let mut minted = ts.mint(spec);
        mutate(&mut minted.bundle);
        out.push(Case {
            name,
            step,
            trusted_root: root.clone(),
            bundle: minted.to_bytes(),
            artifact: TARBALL.to_vec(),
            policy,
            reference_rejects,
        });
    };
    let none = &|_: &mut Value| {};
    let v01 = provenance_spec(BundleVersion::V01);
    let v02 = provenance_spec(BundleVersion::V02);
    let v03 = provenance_spec(BundleVersion::V03);
    let message = MintSpec::new(
        BundleVersion::V03,
        Content::Message(TARBALL.to_vec()),
        SignerSpec::Certificate(identity()),
        T,
    );

    // Controls: every untampered kind verifies.
    add(
        "control-v01-intoto",
        None,
        &v01,
        none,
        exact_policy(),
        false,
    );
    add(
        "control-v02-intoto",
        None,
        &v02,
        none,
        exact_policy(),
        false,
    );
    add("control-v03-dsse", None, &v03, none, exact_policy(), false);
    add(
        "control-v03-hashedrekord",
        None,
        &message,
        none,
        exact_policy(),
        false,
    );
    add(
        "control-publish-npm-key",
        None,
        &publish_spec(),
        none,
        npm_key.clone(),
        false,
    );
    add(
        "control-any-identity",
        None,
        &v03,
        none,
        PolicySpec::Certificate {
            san: None,
            issuer: None,
        },
        false,
    );
    add(
        "control-identity-regex",
        None,
        &v03,
        none,
        PolicySpec::Certificate {
            san: Some(MatchSpec::Regex(
                r"https://github\.com/acme/widget/\.github/workflows/release\.yml@refs/(heads|tags)/.*".into(),
            )),
            issuer: Some(MatchSpec::Regex(r"https://token\.actions\.githubusercontent\.com".into())),
        },
        false,
    );

    // Certificate chain.
    add(
        "leaf-expired-at-signed-time",
        Some("certificate-chain"),
        &MintSpec {
            leaf_validity: (-1200, -600),
            ..v03.clone()
        },
        none,
        exact_policy(),
        true,
    );
    add(
        "leaf-not-yet-valid-at-signed-time",
        Some("certificate-chain"),
        &MintSpec {
            leaf_validity: (60, 660),
            ..v03.clone()
        },
        none,
        exact_policy(),
        true,
    );
    add(
        "root-supplied-in-bundle",
        Some("certificate-chain"),
        &MintSpec {
            chain: ChainMode::ForeignChainInBundle,
            ..v02.clone()
        },
        none,
        exact_policy(),
        true,
    );
    add(
        "intermediate-supplied-in-bundle",
        Some("certificate-chain"),
        &MintSpec {
            chain: ChainMode::RogueIntermediateInBundle,
            ..v02.clone()
        },
        none,
        exact_policy(),
        false,
    );

    // SCT.
    for (name, sct) in [
        ("sct-missing", SctMode::Missing),
        ("sct-from-unknown-log", SctMode::UnknownLog),
        ("sct-over-another-certificate", SctMode::OtherCertificate),
    ] {
        add(
            name,
            Some("sct"),
            &MintSpec { sct, ..v03.clone() },
            none,
            exact_policy(),
            true,
        );
    }

    // Signed entry timestamp.
    let forge_key = ts.foreign_key().clone();
    add(
        "set-forged-by-another-key",
        Some("signed-entry-timestamp"),
        &v03,
        &move |b: &mut Value| {
            let e = &mut b["verificationMaterial"]["tlogEntries"][0];
            let payload = seed::canonical_json(&json!({
                "body": e["canonicalizedBody"],
                "integratedTime": T,
                "logID": hex::encode(base64_decode(e["logId"]["keyId"].as_str().unwrap_or_default())),
                "logIndex": e["logIndex"].as_str().unwrap_or_default().parse::<i64>().unwrap_or_default(),
            }));
            e["inclusionPromise"]["signedEntryTimestamp"] =
                json!(b64(&seed::sign(&forge_key, &payload)));
        },
        exact_policy(),
        true,
    );
    add(
        "integrated-time-shifted",
        Some("signed-entry-timestamp"),
        &v03,
        &|b: &mut Value| {
            b["verificationMaterial"]["tlogEntries"][0]["integratedTime"] =
                json!((T - 60).to_string());
        },
        exact_policy(),
        true,
    );
    add(
        "log-index-changed",
        Some("signed-entry-timestamp"),
        &v03,
        &|b: &mut Value| bump_str(&mut b["verificationMaterial"]["tlogEntries"][0]["logIndex"]),
        exact_policy(),
        true,
    );

    // Inclusion proof and checkpoint.
    add(
        "inclusion-path-wrong",
        Some("inclusion-proof"),
        &v03,
        &|b: &mut Value| {
            let h = &mut b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["hashes"][0];
            *h = json!(b64(&seed::sha256(
                h.as_str().unwrap_or_default().as_bytes()
            )));
        },
        exact_policy(),
        true,
    );
    add(
        "inclusion-proof-tree-size-changed",
        // The checkpoint is the proof's signed tree head: the mismatch shows there first.
        Some("checkpoint"),
        &v03,
        &|b: &mut Value| {
            // The entry becomes the last leaf: the audit path no longer fits.
            let p = &mut b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"];
            let index: i64 = p["logIndex"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or_default();
            p["treeSize"] = json!((index + 1).to_string());
        },
        exact_policy(),
        true,
    );
    add(
        "tree-size-differs-from-checkpoint",
        Some("checkpoint"),
        &v03,
        &|b: &mut Value| {
            // One more leaf gives the same audit path shape for this index: only comparing
            // the proof's tree size with the signed checkpoint's catches it.
            bump_str(&mut b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["treeSize"])
        },
        exact_policy(),
        false,
    );
    add(
        "inclusion-proof-root-hash-changed",
        // The checkpoint is the proof's signed tree head: the mismatch shows there first.
        Some("checkpoint"),
        &v03,
        &|b: &mut Value| {
            b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["rootHash"] =
                json!(b64(&seed::sha256(b"another root")));
        },
        exact_policy(),
        true,
    );
    add(
        "checkpoint-signed-by-another-key",
        Some("checkpoint"),
        &MintSpec {
            log: crate::rekor::LogOptions {
                checkpoint_key: Some(ts.foreign_key().clone()),
                ..TestSigstore::log_options(BundleVersion::V03)
            },
            ..v03.clone()
        },
        none,
        exact_policy(),
        true,
    );
    add(
        "checkpoint-for-another-origin",
        Some("checkpoint"),
        &MintSpec {
            log: crate::rekor::LogOptions {
                checkpoint_origin: Some("rekor.elsewhere.test.invalid - 42".into()),
                ..TestSigstore::log_options(BundleVersion::V03)
            },
            ..v03.clone()
        },
        none,
        exact_policy(),
        false,
    );

    // The log entry must record this bundle.
    for (name, body, spec) in [
        (
            "tlog-body-for-another-payload-dsse",
            BodyMode::OtherPayload,
            &v03,
        ),
        (
            "tlog-body-for-another-signature-dsse",
            BodyMode::OtherSignature,
            &v03,
        ),
        (
            "tlog-body-for-another-payload-intoto",
            BodyMode::OtherPayload,
            &v02,
        ),
        (
            "tlog-body-for-another-signature-intoto",
            BodyMode::OtherSignature,
            &v02,
        ),
        (
            "tlog-body-for-another-signature-hashedrekord",
            BodyMode::OtherSignature,
            &message,
        ),
    ] {
        add(
            name,
            Some("tlog-body"),
            &MintSpec {
                body,
                ..spec.clone()
            },
            none,
            exact_policy(),
            true,
        );
    }
    add(
        "duplicate-tlog-entries",
        Some("tlog"),
        &MintSpec {
            duplicate_entry: true,
            ..v03.clone()
        },
        none,
        exact_policy(),
        false,
    );

    // DSSE envelope and artifact.
    add(
        "dsse-payload-changed",
        Some("signature"),
        &v03,
        &|b: &mut Value| {
            let mut st: Value = serde_json::from_slice(&base64_decode(
                b["dsseEnvelope"]["payload"].as_str().unwrap_or_default(),
            ))
            .unwrap_or_default();
            st["predicate"]["runDetails"]["builder"]["id"] = json!("https://evil.example/builder");
            b["dsseEnvelope"]["payload"] = json!(b64(&serde_json::to_vec(&st).unwrap_or_default()));
        },
        exact_policy(),
        true,
    );
    add(
        "dsse-payload-type-changed",
        // Our verifier only binds in-toto payloads to artifacts; any other type fails there.
        Some("artifact"),
        &v03,
        &|b: &mut Value| b["dsseEnvelope"]["payloadType"] = json!("application/json"),
        exact_policy(),
        true,
    );
    add(
        "dsse-signature-changed",
        Some("signature"),
        &v03,
        &|b: &mut Value| {
            let sig = base64_decode(
                b["dsseEnvelope"]["signatures"][0]["sig"]
                    .as_str()
                    .unwrap_or_default(),
            );
            b["dsseEnvelope"]["signatures"][0]["sig"] = json!(b64(&flip_last_integer_byte(&sig)));
        },
        exact_policy(),
        true,
    );
    add(
        "dsse-signature-empty",
        Some("signature"),
        &v03,
        &|b: &mut Value| b["dsseEnvelope"]["signatures"][0]["sig"] = json!(""),
        exact_policy(),
        true,
    );
    add(
        "rfc3161-timestamps-duplicated",
        Some("time"),
        &v03,
        &|b: &mut Value| {
            // The same (bogus) token twice: one timestamp must not count as two.
            let token = json!({"signedTimestamp": b64(b"not a real RFC 3161 token")});
            b["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"] =
                json!([token.clone(), token]);
        },
        exact_policy(),
        true,
    );
    add(
        "rfc3161-timestamp-bogus",
        Some("time"),
        &v03,
        &|b: &mut Value| {
            b["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"] =
                json!([{"signedTimestamp": b64(b"not a real RFC 3161 token")}]);
        },
        exact_policy(),
        true,
    );
    let drop_checkpoint = &|b: &mut Value| {
        if let Some(p) =
            b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"].as_object_mut()
        {
            p.remove("checkpoint");
        }
    };
    // v0.2+ require a checkpoint with every proof (a media type rule); a v0.1 bundle may carry
    // a proof, but then it must be checkpointed too.
    add(
        "inclusion-proof-without-checkpoint-v03",
        Some("media-type"),
        &v03,
        drop_checkpoint,
        exact_policy(),
        true,
    );
    add(
        "inclusion-proof-without-checkpoint-v01",
        Some("checkpoint"),
        &MintSpec {
            log: crate::rekor::LogOptions::default(),
            ..v01.clone()
        },
        drop_checkpoint,
        exact_policy(),
        true,
    );
    add(
        "integrated-time-in-the-future",
        Some("time"),
        // 2039-01-01: validly logged and certified, but after "now" (the library reads the
        // clock for this one check; the case holds until 2039).
        &MintSpec {
            time: 2_177_452_800,
            ..v03.clone()
        },
        none,
        exact_policy(),
        true,
    );
    add(
        "publish-verified-with-a-malformed-key",
        Some("signature"),
        &publish_spec(),
        none,
        PolicySpec::PublicKey(vec![0x30, 0x03, 0x02, 0x01, 0x01]),
        true,
    );
    {
        let statement = npm::provenance_statement(
            NAME,
            VERSION,
            &npm::sha512_hex(b"some other tarball"),
            &identity(),
        );
        add(
            "subject-digest-changed",
            Some("artifact"),
            &MintSpec {
                content: Content::statement(&statement),
                ..v03.clone()
            },
            none,
            exact_policy(),
            true,
        );
    }
    add(
        "message-digest-changed",
        Some("artifact"),
        &MintSpec {
            content: Content::Message(b"other bytes".to_vec()),
            ..message.clone()
        },
        none,
        exact_policy(),
        true,
    );

    // Identity and issuer policy.
    let id = identity();
    let issuer = || Some(MatchSpec::Exact(id.issuer.clone()));
    let san = || Some(MatchSpec::Exact(id.san.value().to_string()));
    let policies = [
        (
            "identity-mismatch-exact",
            "identity",
            Some(MatchSpec::Exact(
                "https://github.com/acme/widget-evil/.github/workflows/release.yml@refs/heads/main"
                    .into(),
            )),
            issuer(),
        ),
        (
            "identity-mismatch-regex",
            "identity",
            Some(MatchSpec::Regex(
                r"https://github\.com/acme/other/.*".into(),
            )),
            issuer(),
        ),
        (
            "identity-regex-is-anchored",
            "identity",
            Some(MatchSpec::Regex(r"https://github\.com/acme/widge".into())),
            issuer(),
        ),
        (
            "issuer-mismatch-exact",
            "issuer",
            san(),
            Some(MatchSpec::Exact("https://accounts.google.com".into())),
        ),
        (
            "issuer-mismatch-regex",
            "issuer",
            san(),
            Some(MatchSpec::Regex(r"https://gitlab\.com".into())),
        ),
        (
            "issuer-regex-is-anchored",
            "issuer",
            san(),
            Some(MatchSpec::Regex(r"https://token\.actions".into())),
        ),
    ];
    for (name, step, san, issuer) in policies {
        add(
            name,
            Some(step),
            &v03,
            none,
            PolicySpec::Certificate { san, issuer },
            true,
        );
    }

    // Identity decoding (DESIGN §4.8): the leaf itself is validly issued and logged.
    let mut disagree = identity();
    disagree.legacy_issuer = Some("https://accounts.google.com".into());
    let mut duplicated = identity();
    duplicated
        .extra
        .push((12, der_utf8("https://github.com/evil/widget")));
    let mut not_utf8 = identity().legacy_only();
    not_utf8.legacy.remove(&5);
    not_utf8.extra.push((5, vec![0xff, 0xfe, b'/', b'x']));
    let mut not_der = identity();
    not_der.claims.remove(&12);
    not_der
        .extra
        .push((12, b"https://github.com/acme/widget".to_vec()));
    let mut other_name = identity();
    other_name.san = crate::pki::San::OtherName {
        type_id: "1.3.6.1.4.1.99999.1".into(),
        value: "someone".into(),
    };
    for (name, step, id) in [
        ("san-othername-of-another-type", "identity", other_name),
        ("issuer-legacy-and-v2-disagree", "issuer", disagree),
        ("fulcio-extension-duplicated", "identity", duplicated),
        ("legacy-extension-not-utf8", "identity", not_utf8),
        ("fulcio-extension-not-der", "identity", not_der),
    ] {
        add(
            name,
            Some(step),
            &MintSpec {
                signer: SignerSpec::Certificate(id),
                ..v03.clone()
            },
            none,
            PolicySpec::Certificate {
                san: None,
                issuer: None,
            },
            false,
        );
    }

    // Media type rules.
    add(
        "unknown-media-type",
        Some("media-type"),
        &v03,
        &|b: &mut Value| b["mediaType"] = json!("application/vnd.dev.sigstore.bundle.v0.9+json"),
        exact_policy(),
        true,
    );
    add(
        "v02-without-inclusion-proof",
        Some("media-type"),
        &MintSpec {
            log: crate::rekor::LogOptions {
                proof: false,
                ..Default::default()
            },
            ..v02.clone()
        },
        none,
        exact_policy(),
        true,
    );
    add(
        "v01-without-set",
        Some("media-type"),
        &MintSpec {
            log: crate::rekor::LogOptions {
                set: false,
                ..Default::default()
            },
            ..v01.clone()
        },
        none,
        exact_policy(),
        true,
    );
    add(
        "v03-with-certificate-chain",
        Some("media-type"),
        &v03,
        &|b: &mut Value| {
            let cert = b["verificationMaterial"]["certificate"].take();
            let vm = b["verificationMaterial"].as_object_mut();
            if let Some(vm) = vm {
                vm.remove("certificate");
                vm.insert(
                    "x509CertificateChain".into(),
                    json!({"certificates": [cert]}),
                );
            }
        },
        exact_policy(),
        true,
    );

    // Publish attestations (key-signed).
    let not_npm = ts.derived_key("not-npm");
    add(
        "publish-signed-by-key-not-npm",
        Some("signature"),
        &MintSpec {
            signer: SignerSpec::Key {
                key: not_npm,
                hint: ts.npm_keyid(),
            },
            ..publish_spec()
        },
        none,
        npm_key.clone(),
        true,
    );
    add(
        "publish-carried-by-certificate",
        Some("signature"),
        &MintSpec {
            signer: SignerSpec::Certificate(identity()),
            ..publish_spec()
        },
        none,
        npm_key.clone(),
        true,
    );
    add(
        "provenance-verified-as-key-signed",
        Some("certificate-chain"),
        &publish_spec(),
        none,
        exact_policy(),
        true,
    );

    // Trust root: a CA we do not trust (same logs), and an entirely different Sigstore.
    let mut wrong_ca: Value = ts.trusted_root();
    wrong_ca["certificateAuthorities"] = other.trusted_root()["certificateAuthorities"].clone();
    let minted = ts.mint(&v03);
    out.push(Case {
        name: "wrong-root-ca",
        step: Some("certificate-chain"),
        trusted_root: wrong_ca.to_string(),
        bundle: minted.to_bytes(),
        artifact: TARBALL.to_vec(),
        policy: exact_policy(),
        reference_rejects: true,
    });
    out.push(Case {
        name: "wrong-trusted-root",
        // The first thing that fails is the log: its id is not in the root.
        step: Some("tlog"),
        trusted_root: other.trusted_root_json(),
        bundle: minted.to_bytes(),
        artifact: TARBALL.to_vec(),
        policy: exact_policy(),
        reference_rejects: true,
    });
    out
}

/// The case called `name` (panics if there is none: a typo in a test). The matrix is minted
/// once per test process.
pub fn case(name: &str) -> Case {
    static CASES: std::sync::OnceLock<Vec<Case>> = std::sync::OnceLock::new();
    CASES
        .get_or_init(cases)
        .iter()
        .find(|c| c.name == name)
        .cloned()
        .unwrap_or_else(|| panic!("no tamper case {name}"))
}

/// DER UTF8String (short form length; the matrix's strings are short).
fn der_utf8(s: &str) -> Vec<u8> {
    let mut out = vec![0x0c, s.len() as u8];
    out.extend_from_slice(s.as_bytes());
    out
}

fn bump_str(v: &mut Value) {
    let n: i64 = v.as_str().and_then(|s| s.parse().ok()).unwrap_or_default();
    *v = json!((n + 1).to_string());
}

/// Change the last byte of the DER signature's `s` integer (keeps the DER well-formed).
fn flip_last_integer_byte(sig: &[u8]) -> Vec<u8> {
    let mut out = sig.to_vec();
    if let Some(last) = out.last_mut() {
        *last ^= 0x01;
    }
    out
}

fn base64_decode(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .unwrap_or_default()
}
