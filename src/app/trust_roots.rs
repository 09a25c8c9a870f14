//! `npm-provenance trust-roots show|update`, and the loading of `--trusted-root` /
//! `--npm-keys` shared by the commands that verify.

use crate::cli::{Format, OutputArgs, TrustArgs, UpdateArgs};
use crate::error::{exit, AppError};
use crate::findings::Finding;
use crate::trust::npm_keys::{KeySource, NpmKeys};
use crate::trust::store::{self, Selected, TrustStore};
use crate::trust::trusted_root::{CertificateAuthority, TransparencyLog, TrustedRoot, ValidFor};
use crate::trust::tuf_root::TufRootInfo;
use crate::util::escape_text;
use jiff::Timestamp;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// JSON schema id of `trust-roots show --format json`.
pub const SCHEMA: &str = "npm-provenance/trust-roots/v1";

pub fn show(output: OutputArgs, trust: TrustArgs) -> Result<u8, AppError> {
    let format = output.format();
    if !matches!(format, Format::Text | Format::Json) {
        return Err(AppError::Usage(
            "trust-roots show supports --format text or json".into(),
        ));
    }
    let now = super::danger_now(&output)?.unwrap_or_else(Timestamp::now);
    let material = resolve_material(&trust)?;
    let (root_json, root_source) = trusted_root_json_from(&trust, &material)?;
    let root = TrustedRoot::from_json(root_json.as_bytes())
        .map_err(|e| AppError::parse(source_path(&root_source, "trusted_root.json"), e.0))?;
    let (keys, keys_source) = npm_keys_from(&trust, &material)?;
    let tuf =
        TufRootInfo::embedded().map_err(|e| AppError::parse("<embedded tuf-root.json>", e.0))?;
    let state = MaterialDoc::new(&material, &root_source, &keys_source, now);
    let doc = ShowDoc::new(root, root_source, &keys, keys_source, tuf, state);
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

pub fn update(
    tuf_url: Option<String>,
    output: OutputArgs,
    args: UpdateArgs,
) -> Result<u8, AppError> {
    super::trust_update::run(tuf_url, output, args)
}

/// Where a piece of trust material came from: embedded in the binary, a user's file, or the
/// TUF-verified update stored by `trust-roots update` (the path of the stored file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    Embedded,
    File(PathBuf),
    Update(PathBuf),
}

impl Serialize for Source {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Source::Update(_) => s.serialize_str("tuf-update"),
            _ => s.serialize_str(&self.label()),
        }
    }
}

impl Source {
    fn label(&self) -> String {
        match self {
            Source::Embedded => "embedded".into(),
            Source::File(p) => p.display().to_string(),
            Source::Update(p) => format!("TUF update {}", p.display()),
        }
    }
}

fn source_path(source: &Source, embedded_name: &str) -> PathBuf {
    match source {
        Source::Embedded => PathBuf::from(format!("<embedded {embedded_name}>")),
        Source::File(p) | Source::Update(p) => p.clone(),
    }
}

/// The trust material the user did not name by flag: a stored TUF update when it is not
/// older than the embedded copy, else the embedded copy.
#[derive(Debug, Clone)]
pub(crate) struct Material {
    pub selected: Selected,
    /// The data directory consulted (`None`: no `--data-dir` and no home directory).
    pub data_dir: Option<PathBuf>,
}

/// Reads the store when some material is not given by flag. A damaged store is exit 2 naming
/// the file (the user stored it; it is not silently replaced by the embedded copy).
pub(crate) fn resolve_material(trust: &TrustArgs) -> Result<Material, AppError> {
    let baseline_root_version = baseline_root_version(trust.danger_tuf_root.as_deref())?;
    let data_dir = store::data_dir(trust.data_dir.as_deref());
    let both_by_flag = trust.trusted_root.is_some() && trust.npm_keys.is_some();
    let stored = match &data_dir {
        Some(dir) if !both_by_flag => TrustStore::new(dir).load().map_err(|e| {
            AppError::parse(
                &e.path,
                format!(
                    "{} (remove the file or run `npm-provenance trust-roots update` again)",
                    e.problem
                ),
            )
        })?,
        _ => None,
    };
    Ok(Material {
        selected: store::select(stored, baseline_root_version),
        data_dir,
    })
}

/// The version of the TUF root a stored update is judged against.
pub(crate) fn baseline_root_version(danger_tuf_root: Option<&Path>) -> Result<u64, AppError> {
    match danger_tuf_root {
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| AppError::read(path, e))?;
            Ok(TufRootInfo::from_json(&bytes)
                .map_err(|e| AppError::parse(path, e.0))?
                .version)
        }
        None => Ok(TufRootInfo::embedded()
            .map_err(|e| AppError::parse("<embedded tuf-root.json>", e.0))?
            .version),
    }
}

/// The trusted root JSON selected by `--trusted-root` (read, not yet parsed), else a stored
/// TUF update (not older than the embedded copy), else the embedded production root.
pub(crate) fn trusted_root_json(trust: &TrustArgs) -> Result<(String, Source), AppError> {
    if trust.trusted_root.is_some() {
        return trusted_root_json_from(trust, &embedded_only());
    }
    trusted_root_json_from(trust, &resolve_material(trust)?)
}

/// The npm keys selected by `--npm-keys FILE` (either format; `KeySource::UserFile`), else a
/// stored TUF update, else the embedded pinned keys (both `KeySource::Pinned`). A bad file is
/// exit 2 naming it.
pub(crate) fn load_npm_keys(trust: &TrustArgs) -> Result<NpmKeys, AppError> {
    if trust.npm_keys.is_some() {
        return Ok(npm_keys_from(trust, &embedded_only())?.0);
    }
    Ok(npm_keys_from(trust, &resolve_material(trust)?)?.0)
}

/// `trust-root-stale` for the material in use at `now` (nothing for material given by flag:
/// its age is unknown). For the commands that verify, beside [`trusted_root_json`] /
/// [`load_npm_keys`].
#[allow(dead_code)] // for `verify` (not built yet); `show` reports staleness through MaterialDoc
pub(crate) fn stale_findings(trust: &TrustArgs, now: Timestamp) -> Result<Vec<Finding>, AppError> {
    if trust.trusted_root.is_some() && trust.npm_keys.is_some() {
        return Ok(Vec::new());
    }
    let material = resolve_material(trust)?;
    let what = match material.selected {
        Selected::Update(_) => "TUF-updated",
        Selected::Embedded { .. } => "embedded",
    };
    Ok(
        store::staleness(store::as_of(&material.selected), now, what)
            .into_iter()
            .collect(),
    )
}

fn embedded_only() -> Material {
    Material {
        selected: Selected::Embedded { ignored: None },
        data_dir: None,
    }
}

fn trusted_root_json_from(
    trust: &TrustArgs,
    material: &Material,
) -> Result<(String, Source), AppError> {
    if let Some(path) = &trust.trusted_root {
        let text = std::fs::read_to_string(path).map_err(|e| AppError::read(path, e))?;
        return Ok((text, Source::File(path.clone())));
    }
    match &material.selected {
        Selected::Update(u) => {
            let path = u.trusted_root_path();
            let text = String::from_utf8(u.trusted_root.clone())
                .map_err(|e| AppError::parse(&path, format!("not UTF-8: {e}")))?;
            Ok((text, Source::Update(path)))
        }
        Selected::Embedded { .. } => Ok((
            crate::trust::PRODUCTION_TRUSTED_ROOT.to_string(),
            Source::Embedded,
        )),
    }
}

fn npm_keys_from(trust: &TrustArgs, material: &Material) -> Result<(NpmKeys, Source), AppError> {
    if let Some(path) = &trust.npm_keys {
        let bytes = std::fs::read(path).map_err(|e| AppError::read(path, e))?;
        let keys = NpmKeys::from_json(&bytes, KeySource::UserFile(path.clone()))
            .map_err(|e| AppError::parse(path, e.0))?;
        return Ok((keys, Source::File(path.clone())));
    }
    match &material.selected {
        Selected::Update(u) => {
            let path = u.npm_keys_path();
            let keys = NpmKeys::from_json(&u.npm_keys, KeySource::Pinned)
                .map_err(|e| AppError::parse(&path, e.0))?;
            Ok((keys, Source::Update(path)))
        }
        Selected::Embedded { .. } => Ok((
            NpmKeys::embedded().map_err(|e| AppError::parse("<embedded npm-keys.json>", e.0))?,
            Source::Embedded,
        )),
    }
}

/// What `show` says about the choice between a stored update and the embedded copy, and
/// about the age of what is in use.
#[derive(Serialize)]
struct MaterialDoc {
    /// `tuf-update` or `embedded` for what flags did not replace; `flags` when both did.
    selected: &'static str,
    data_dir: Option<String>,
    /// The date the age is counted from (update: when it was verified; embedded: extraction).
    as_of: Option<Timestamp>,
    age_days: Option<i64>,
    stale_after_days: i64,
    update: Option<UpdateDoc>,
    findings: Vec<Finding>,
}

#[derive(Serialize)]
struct UpdateDoc {
    used: bool,
    /// Why a stored update is not used.
    ignored_because: Option<String>,
    tuf_url: Option<String>,
    verified_at: Option<Timestamp>,
    versions: Option<crate::trust::tuf::TufVersions>,
}

impl MaterialDoc {
    fn new(material: &Material, root: &Source, keys: &Source, now: Timestamp) -> MaterialDoc {
        let by_flags = matches!(root, Source::File(_)) && matches!(keys, Source::File(_));
        let (selected, what) = match (&material.selected, by_flags) {
            (_, true) => ("flags", ""),
            (Selected::Update(_), _) => ("tuf-update", "TUF-updated"),
            (Selected::Embedded { .. }, _) => ("embedded", "embedded"),
        };
        let as_of = (!by_flags).then(|| store::as_of(&material.selected));
        let update = match &material.selected {
            Selected::Update(u) => Some(UpdateDoc {
                used: true,
                ignored_because: None,
                tuf_url: Some(u.state.tuf_url.clone()),
                verified_at: Some(u.state.verified_at),
                versions: Some(u.state.versions.clone()),
            }),
            Selected::Embedded { ignored: Some(why) } => Some(UpdateDoc {
                used: false,
                ignored_because: Some(why.clone()),
                tuf_url: None,
                verified_at: None,
                versions: None,
            }),
            Selected::Embedded { ignored: None } => None,
        };
        MaterialDoc {
            selected,
            data_dir: material.data_dir.as_ref().map(|d| d.display().to_string()),
            as_of,
            age_days: as_of.map(|t| now.duration_since(t).as_secs() / 86_400),
            stale_after_days: store::STALE_AFTER_DAYS,
            update,
            findings: as_of
                .and_then(|t| store::staleness(t, now, what))
                .into_iter()
                .collect(),
        }
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
    /// Stored update versus embedded copy, and the age of what is in use.
    trust_material: MaterialDoc,
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
    fn new(
        root: TrustedRoot,
        root_source: Source,
        keys: &NpmKeys,
        keys_source: Source,
        tuf: TufRootInfo,
        trust_material: MaterialDoc,
    ) -> ShowDoc {
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
            trust_material,
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
    render_material(&mut out, &doc.trust_material);
    out
}

fn render_material(out: &mut String, m: &MaterialDoc) {
    if let Some(u) = &m.update {
        match (&u.ignored_because, &u.versions, u.verified_at) {
            (Some(why), _, _) => {
                let _ = writeln!(out, "Stored TUF update not used: {}", escape_text(why));
            }
            (None, Some(v), Some(at)) => {
                let _ = writeln!(
                    out,
                    "In use: TUF update from {} verified at {at} (root v{}, timestamp v{}, snapshot v{}, targets v{}, registry.npmjs.org v{})",
                    escape_text(u.tuf_url.as_deref().unwrap_or("")),
                    v.root,
                    v.timestamp,
                    v.snapshot,
                    v.targets,
                    v.npm_role
                );
            }
            _ => {}
        }
    }
    if let (Some(as_of), Some(days)) = (m.as_of, m.age_days) {
        let _ = writeln!(
            out,
            "Trust material age: {days} days (as of {as_of}; stale after {})",
            m.stale_after_days
        );
    }
    for f in &m.findings {
        let _ = writeln!(out, "{}: {} {}", f.level, f.code, f.message);
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust::tuf::{TufTargets, TufVersions};

    fn args(data: &Path) -> TrustArgs {
        TrustArgs {
            trusted_root: None,
            npm_keys: None,
            data_dir: Some(data.to_path_buf()),
            danger_tuf_root: None,
        }
    }

    fn store_update(data: &Path, root_version: u64) -> crate::trust::store::StoredUpdate {
        let targets = TufTargets {
            trusted_root: crate::trust::PRODUCTION_TRUSTED_ROOT.as_bytes().to_vec(),
            npm_keys: crate::trust::NPM_KEYS.as_bytes().to_vec(),
            versions: TufVersions {
                root: root_version,
                timestamp: 1,
                snapshot: 1,
                targets: 1,
                npm_role: 1,
                timestamp_expires: "2027-01-01T00:00:00Z".parse().unwrap(),
            },
        };
        TrustStore::new(data)
            .save(
                &targets,
                &url::Url::parse("https://tuf.example/").unwrap(),
                root_version,
                "2026-12-01T00:00:00Z".parse().unwrap(),
            )
            .unwrap()
    }

    fn tmp(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("npmprov-app-trust-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn flag_beats_update_beats_embedded() {
        let d = tmp("precedence");
        let a = args(&d);
        assert_eq!(trusted_root_json(&a).unwrap().1, Source::Embedded);
        let saved = store_update(&d, 16);
        assert_eq!(
            trusted_root_json(&a).unwrap().1,
            Source::Update(saved.trusted_root_path())
        );
        assert_eq!(load_npm_keys(&a).unwrap().source, KeySource::Pinned);
        let flag = d.join("root.json");
        std::fs::write(&flag, crate::trust::PRODUCTION_TRUSTED_ROOT).unwrap();
        let with_flag = TrustArgs {
            trusted_root: Some(flag.clone()),
            ..a.clone()
        };
        assert_eq!(trusted_root_json(&with_flag).unwrap().1, Source::File(flag));
        // An update verified under a root older than the embedded v16 is not used.
        store_update(&d, 15);
        assert_eq!(trusted_root_json(&a).unwrap().1, Source::Embedded);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn stale_findings_follow_the_material_in_use() {
        let d = tmp("stale");
        let a = args(&d);
        let soon: Timestamp = "2027-01-01T00:00:00Z".parse().unwrap();
        let late: Timestamp = "2027-07-01T00:00:00Z".parse().unwrap();
        assert!(stale_findings(&a, soon).unwrap().is_empty());
        assert_eq!(
            stale_findings(&a, late).unwrap()[0].code,
            "trust-root-stale"
        );
        store_update(&d, 16);
        // Verified 2026-12-01: 212 days before `late`.
        let f = stale_findings(&a, late).unwrap();
        assert!(f[0].message.contains("TUF-updated"), "{}", f[0].message);
        let both = TrustArgs {
            trusted_root: Some(d.join("x")),
            npm_keys: Some(d.join("y")),
            ..a
        };
        assert!(stale_findings(&both, late).unwrap().is_empty());
        let _ = std::fs::remove_dir_all(&d);
    }
}
