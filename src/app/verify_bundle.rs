//! `npm-provenance verify-bundle`: the sigstore-conformance client protocol.
//!
//! ```text
//! verify-bundle [--staging] --bundle FILE --certificate-identity ID --certificate-oidc-issuer URL [--trusted-root FILE] FILE_OR_DIGEST
//! verify-bundle [--staging] --bundle FILE --key PEM_FILE [--trusted-root FILE] FILE_OR_DIGEST
//! ```
//! Exit 0 only when everything verified and the identity matched; 1 on a verification or
//! identity failure (one stderr line `step=<name>: expected … got …`); 2 on bad arguments, an
//! unreadable file, or a bundle/root/key that cannot be parsed.
//!
//! `--json` writes the `npm-provenance/verify-bundle/v1` document (also on exit 1):
//! `{"schema", "verified", "media_type", "times": [{"time","source","log_index","log_id"}],
//! "identity": FulcioIdentity | null, "statement": {"predicate_type","subjects"} | null,
//! "error": {"step","expected","actual"} | null}`.

use crate::cli::{Format, VerifyBundleArgs};
use crate::error::{exit, AppError};
use crate::util::escape_text;
use crate::verify::{
    sigstore::spki_from_pem, verify_bundle, ArtifactRef, BundleError, Matcher, Signer,
    SignerPolicy, SigstoreTrust, Step, VerifiedBundle,
};
use serde_json::json;
use std::path::Path;

/// The JSON schema id of this command's output.
pub const SCHEMA: &str = "npm-provenance/verify-bundle/v1";

pub fn run(args: VerifyBundleArgs) -> Result<u8, AppError> {
    let format = args.output.format();
    if matches!(format, Format::Sarif | Format::Github) {
        return Err(AppError::Usage(
            "verify-bundle writes text or json (--format sarif/github are for `verify`)".into(),
        ));
    }
    let policy = signer_policy(&args)?;
    let trust = trust_root(&args)?;
    let bundle = std::fs::read(&args.bundle).map_err(|e| AppError::read(&args.bundle, e))?;
    let artifact_bytes;
    let artifact = match parse_digest(&args.file_or_digest) {
        Some(d) => d,
        None => {
            let path = Path::new(&args.file_or_digest);
            artifact_bytes = std::fs::read(path).map_err(|e| AppError::read(path, e))?;
            ArtifactRef::Bytes(&artifact_bytes)
        }
    };

    let result = verify_bundle(&trust, &bundle, artifact, &policy);
    if let Err(e) = &result {
        if e.step == Step::Parse {
            // The bundle cannot be parsed (or exceeds a cap): no complete verdict is possible.
            return Err(AppError::parse(&args.bundle, escape_text(&e.to_string())));
        }
    }
    match format {
        Format::Text => {
            if let Ok(b) = &result {
                super::emit(&args.output, render_text(b).as_bytes())?;
            }
        }
        _ => {
            let doc = render_json(&result);
            super::emit(&args.output, format!("{doc:#}\n").as_bytes())?;
        }
    }
    match result {
        Ok(_) => Ok(exit::CLEAN),
        Err(e) => {
            eprintln!("{}", escape_text(&e.to_string()));
            Ok(exit::FINDINGS)
        }
    }
}

/// The signer policy the flags ask for; exactly one of the key and the identity forms.
fn signer_policy(args: &VerifyBundleArgs) -> Result<SignerPolicy, AppError> {
    let identity_flags = args.certificate_identity.is_some()
        || args.certificate_identity_regexp.is_some()
        || args.certificate_oidc_issuer.is_some()
        || args.certificate_oidc_issuer_regexp.is_some();
    if let Some(key) = &args.key {
        if identity_flags {
            return Err(AppError::Usage(
                "--key verifies a key-signed bundle: --certificate-identity/--certificate-oidc-issuer \
                 (and their -regexp forms) cannot be used with it"
                    .into(),
            ));
        }
        let pem = std::fs::read_to_string(key).map_err(|e| AppError::read(key, e))?;
        let spki_der = spki_from_pem(&pem).map_err(|e| AppError::parse(key, e.to_string()))?;
        return Ok(SignerPolicy::PublicKey { spki_der });
    }
    let san = matcher(
        "--certificate-identity",
        args.certificate_identity.as_deref(),
        args.certificate_identity_regexp.as_deref(),
    )?;
    let issuer = matcher(
        "--certificate-oidc-issuer",
        args.certificate_oidc_issuer.as_deref(),
        args.certificate_oidc_issuer_regexp.as_deref(),
    )?;
    Ok(SignerPolicy::Certificate {
        san: Some(san),
        issuer: Some(issuer),
    })
}

fn matcher(flag: &str, exact: Option<&str>, regexp: Option<&str>) -> Result<Matcher, AppError> {
    match (exact, regexp) {
        (Some(e), None) => Ok(Matcher::Exact(e.to_owned())),
        (None, Some(r)) => Matcher::regex(r)
            .map_err(|e| AppError::Usage(format!("{flag}-regexp {r:?}: invalid regex: {e}"))),
        (Some(_), Some(_)) => Err(AppError::Usage(format!(
            "{flag} and {flag}-regexp are exclusive"
        ))),
        (None, None) => Err(AppError::Usage(format!(
            "a certificate bundle needs {flag} or {flag}-regexp (or use --key for a key-signed bundle)"
        ))),
    }
}

fn trust_root(args: &VerifyBundleArgs) -> Result<SigstoreTrust, AppError> {
    match &args.trusted_root {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| AppError::read(path, e))?;
            SigstoreTrust::from_json(&text).map_err(|e| AppError::parse(path, e.to_string()))
        }
        None => {
            let (name, json) = if args.staging {
                ("staging", crate::trust::STAGING_TRUSTED_ROOT)
            } else {
                ("production", crate::trust::PRODUCTION_TRUSTED_ROOT)
            };
            SigstoreTrust::from_json(json)
                .map_err(|e| AppError::Usage(format!("embedded {name} trusted root unusable: {e}")))
        }
    }
}

/// `sha256:` + 64 hex or `sha512:` + 128 hex, only when no such path exists.
fn parse_digest(s: &str) -> Option<ArtifactRef<'static>> {
    if Path::new(s).exists() {
        return None;
    }
    let (alg, hex_digest) = s.split_once(':')?;
    let bytes = match (alg, hex_digest.len()) {
        ("sha256", 64) | ("sha512", 128) => hex::decode(hex_digest).ok()?,
        _ => return None,
    };
    match alg {
        "sha256" => bytes.try_into().ok().map(ArtifactRef::Sha256),
        _ => bytes.try_into().ok().map(ArtifactRef::Sha512),
    }
}

fn render_text(b: &VerifiedBundle) -> String {
    let mut out = format!("verified: {}\n", escape_text(b.media_type()));
    match b.signer() {
        Signer::Certificate(id) => {
            out += &format!("identity: {}\n", escape_text(&id.san));
            out += &format!("issuer: {}\n", escape_text(&id.issuer));
            if let Some(repo) = id.repository() {
                out += &format!("repository: {}\n", escape_text(&repo));
            }
        }
        Signer::PublicKey { hint } => {
            out += &format!(
                "signed by the given key (hint {})\n",
                escape_text(hint.as_deref().unwrap_or("none"))
            );
        }
    }
    for t in b.times() {
        out += &format!(
            "time: {} ({}{})\n",
            t.time,
            match t.source {
                crate::verify::TimeSource::Rekor => "rekor",
                crate::verify::TimeSource::Tsa => "tsa",
            },
            t.log_index
                .map(|i| format!(", log index {i}"))
                .unwrap_or_default()
        );
    }
    if let Some(st) = b.statement() {
        out += &format!("predicate: {}\n", escape_text(&st.predicate_type));
        for s in &st.subjects {
            out += &format!("subject: {}\n", escape_text(&s.name));
        }
    }
    out
}

fn render_json(result: &Result<VerifiedBundle, BundleError>) -> serde_json::Value {
    match result {
        Ok(b) => json!({
            "schema": SCHEMA,
            "verified": true,
            "media_type": b.media_type(),
            "times": b.times(),
            "identity": match b.signer() {
                Signer::Certificate(id) => serde_json::to_value(id).unwrap_or_default(),
                Signer::PublicKey { .. } => serde_json::Value::Null,
            },
            "statement": b.statement().map(|s| json!({
                "predicate_type": s.predicate_type,
                "subjects": s.subjects,
            })),
            "error": null,
        }),
        Err(e) => json!({
            "schema": SCHEMA,
            "verified": false,
            "media_type": null,
            "times": [],
            "identity": null,
            "statement": null,
            "error": e,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_forms() {
        let h = "a".repeat(64);
        assert!(matches!(
            parse_digest(&format!("sha256:{h}")),
            Some(ArtifactRef::Sha256(_))
        ));
        let h = "b".repeat(128);
        assert!(matches!(
            parse_digest(&format!("sha512:{h}")),
            Some(ArtifactRef::Sha512(_))
        ));
        for bad in [
            "sha256:abc".to_string(),
            format!("sha256:{}", "z".repeat(64)),
            format!("sha384:{}", "a".repeat(96)),
            format!("sha512:{}", "a".repeat(64)),
            "README.md".to_string(),
        ] {
            assert!(parse_digest(&bad).is_none(), "{bad}");
        }
    }
}
