//! `npm-provenance trust-roots show|update`, and the loading of `--trusted-root` /
//! `--npm-keys` shared by the commands that verify.

use crate::cli::{Format, OutputArgs, TrustArgs};
use crate::error::{exit, AppError};
use crate::trust::npm_keys::{KeySource, NpmKeys};
use crate::trust::trusted_root::{CertificateAuthority, TransparencyLog, TrustedRoot, ValidFor};
use crate::trust::tuf_root::TufRootInfo;
use crate::util::escape_text;
use jiff::Timestamp;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::PathBuf;

/// JSON schema id of `trust-roots show --format json`.
pub const SCHEMA: &str = "npm-provenance/trust-roots/v1";

pub fn show(output: OutputArgs, trust: TrustArgs) -> Result<u8, AppError> {
    let format = output.format();
    if !matches!(format, Format::Text | Format::Json) {
        return Err(AppError::Usage(
            "trust-roots show supports --format text or json".into(),
        ));
    }
    let (root_json, root_source) = trusted_root_json(&trust)?;
    let root = TrustedRoot::from_json(root_json.as_bytes())
        .map_err(|e| AppError::parse(source_path(&root_source, "trusted_root.json"), e.0))?;
    let keys = load_npm_keys(&trust)?;
    let tuf =
        TufRootInfo::embedded().map_err(|e| AppError::parse("<embedded tuf-root.json>", e.0))?;
    let doc = ShowDoc::new(root, root_source, &keys, tuf);
    let bytes = match format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&doc)
                .map_err(|e| AppError::Usage(format!("cannot render JSON: {e}")))?;
            s.push('\n');
            s.into_bytes()
        }
        _ => render_text(&doc).into_bytes(),
    };
    super::emit(&output, &bytes)?;
    Ok(exit::CLEAN)
}

pub fn update(_tuf_url: Option<String>, _output: OutputArgs) -> Result<u8, AppError> {
    Err(super::not_implemented("trust-roots update"))
}

/// Where a piece of trust material came from: embedded in the binary, or a user's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    Embedded,
    File(PathBuf),
}

impl Serialize for Source {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.label())
    }
}

impl Source {
    fn label(&self) -> String {
        match self {
            Source::Embedded => "embedded".into(),
            Source::File(p) => p.display().to_string(),
        }
    }
}

fn source_path(source: &Source, embedded_name: &str) -> PathBuf {
    match source {
        Source::Embedded => PathBuf::from(format!("<embedded {embedded_name}>")),
        Source::File(p) => p.clone(),
    }
}

/// The trusted root JSON selected by `--trusted-root` (read, not yet parsed) or the embedded
/// production root.
pub(crate) fn trusted_root_json(trust: &TrustArgs) -> Result<(String, Source), AppError> {
    match &trust.trusted_root {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| AppError::read(path, e))?;
            Ok((text, Source::File(path.clone())))
        }
        None => Ok((
            crate::trust::PRODUCTION_TRUSTED_ROOT.to_string(),
            Source::Embedded,
        )),
    }
}

/// The npm keys selected by `--npm-keys FILE` (either format; `KeySource::UserFile`) or the
/// embedded pinned keys (`KeySource::Pinned`). A bad file is exit 2 naming it.
pub(crate) fn load_npm_keys(trust: &TrustArgs) -> Result<NpmKeys, AppError> {
    match &trust.npm_keys {
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| AppError::read(path, e))?;
            NpmKeys::from_json(&bytes, KeySource::UserFile(path.clone()))
                .map_err(|e| AppError::parse(path, e.0))
        }
        None => NpmKeys::embedded().map_err(|e| AppError::parse("<embedded npm-keys.json>", e.0)),
    }
}

/// The `npm-provenance/trust-roots/v1` document. Lists are sorted (CAs and TSAs by URI, logs
/// by base URL, then window start; npm keys by keyid, then usage); certificates stay in chain
/// order. Times are RFC 3339 UTC; `null` is an open end.
#[derive(Serialize)]
struct ShowDoc {
    schema: &'static str,
    sigstore: SigstoreDoc,
    npm_keys: NpmKeysDoc,
    /// The embedded TUF root `trust-roots update` starts from.
    tuf_root: TufRootDoc,
}

#[derive(Serialize)]
struct TufRootDoc {
    source: Source,
    #[serde(flatten)]
    info: TufRootInfo,
}

#[derive(Serialize)]
struct SigstoreDoc {
    source: Source,
    #[serde(flatten)]
    root: TrustedRoot,
}

#[derive(Serialize)]
struct NpmKeysDoc {
    source: Source,
    key_source: &'static str,
    keys: Vec<NpmKeyDoc>,
}

#[derive(Serialize)]
struct NpmKeyDoc {
    keyid: String,
    usage: &'static str,
    key_type: &'static str,
    valid_from: Option<Timestamp>,
    valid_until: Option<Timestamp>,
}

impl ShowDoc {
    fn new(root: TrustedRoot, root_source: Source, keys: &NpmKeys, tuf: TufRootInfo) -> ShowDoc {
        let keys_source = match &keys.source {
            KeySource::UserFile(p) => Source::File(p.clone()),
            _ => Source::Embedded,
        };
        ShowDoc {
            schema: SCHEMA,
            sigstore: SigstoreDoc {
                source: root_source,
                root,
            },
            npm_keys: NpmKeysDoc {
                source: keys_source,
                key_source: keys.source.as_str(),
                keys: keys
                    .keys
                    .iter()
                    .map(|k| NpmKeyDoc {
                        keyid: k.keyid.as_str().to_string(),
                        usage: k.usage.as_str(),
                        key_type: "ecdsa-p256",
                        valid_from: k.valid_from,
                        valid_until: k.valid_until,
                    })
                    .collect(),
            },
            tuf_root: TufRootDoc {
                source: Source::Embedded,
                info: tuf,
            },
        }
    }
}

fn render_text(doc: &ShowDoc) -> String {
    let mut out = String::new();
    let root = &doc.sigstore.root;
    let _ = writeln!(
        out,
        "Sigstore trusted root ({})",
        escape_text(&doc.sigstore.source.label())
    );
    section_cas(
        &mut out,
        "Fulcio certificate authorities",
        &root.certificate_authorities,
    );
    section_logs(&mut out, "Rekor transparency logs", &root.tlogs);
    section_logs(&mut out, "Certificate transparency logs", &root.ctlogs);
    section_cas(
        &mut out,
        "Timestamp authorities",
        &root.timestamp_authorities,
    );
    let _ = writeln!(
        out,
        "\nnpm registry keys ({}, {})",
        escape_text(&doc.npm_keys.source.label()),
        doc.npm_keys.key_source
    );
    for k in &doc.npm_keys.keys {
        let _ = writeln!(
            out,
            "  {}  {:<17} {}  valid {}",
            escape_text(&k.keyid),
            k.usage,
            k.key_type,
            window(k.valid_from, k.valid_until)
        );
    }
    let _ = writeln!(
        out,
        "\nTUF root (embedded): version {}, expires {}",
        doc.tuf_root.info.version, doc.tuf_root.info.expires
    );
    out
}

fn section_cas(out: &mut String, title: &str, cas: &[CertificateAuthority]) {
    let _ = writeln!(out, "  {title}:");
    if cas.is_empty() {
        let _ = writeln!(out, "    (none)");
    }
    for ca in cas {
        let subject = [&ca.subject.organization, &ca.subject.common_name]
            .iter()
            .filter_map(|s| s.as_deref())
            .collect::<Vec<_>>()
            .join(" / ");
        let _ = writeln!(
            out,
            "    {}  [{}]  valid {}",
            escape_text(&ca.uri),
            escape_text(&subject),
            valid_for(&ca.valid_for)
        );
        for c in &ca.certificates {
            let _ = writeln!(
                out,
                "      certificate {}  issuer {}  {} .. {}  sha256 {}",
                escape_text(&c.subject),
                escape_text(&c.issuer),
                c.not_before,
                c.not_after,
                c.sha256
            );
        }
    }
}

fn section_logs(out: &mut String, title: &str, logs: &[TransparencyLog]) {
    let _ = writeln!(out, "  {title}:");
    if logs.is_empty() {
        let _ = writeln!(out, "    (none)");
    }
    for l in logs {
        let _ = writeln!(
            out,
            "    {}  log id {}  {} ({})  valid {}",
            escape_text(&l.base_url),
            escape_text(&l.log_id),
            l.key_type,
            escape_text(&l.key_details),
            valid_for(&l.valid_for)
        );
    }
}

fn valid_for(v: &ValidFor) -> String {
    window(v.start, v.end)
}

fn window(from: Option<Timestamp>, until: Option<Timestamp>) -> String {
    format!(
        "{} .. {}",
        from.map_or_else(|| "-".into(), |t| t.to_string()),
        until.map_or_else(|| "open".into(), |t| t.to_string())
    )
}
