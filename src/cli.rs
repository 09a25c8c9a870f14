//! Command-line surface. Command names and flags are contracts (DESIGN §1): keep them, extend
//! freely. Each subcommand's arguments are turned into an immutable configuration by its
//! `app::<command>` module before any work starts.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "npm-provenance",
    version,
    about = "Verify registry signatures, Sigstore provenance and publishing identity of npm packages"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// CI gate: verify every package a project installs (PATH: project dir, lockfile, or node_modules).
    Verify(VerifyArgs),
    /// One version: signatures, attestations, identity, timeline.
    Inspect(InspectArgs),
    /// The publishing timeline of every version of a package.
    History(HistoryArgs),
    /// Record every registry response a `verify` of PATH needs, for an offline
    /// `verify --snapshot DIR` (air-gapped audits).
    Snapshot(SnapshotArgs),
    /// Verify any Sigstore bundle (sigstore-conformance CLI protocol).
    VerifyBundle(VerifyBundleArgs),
    /// Write the verified identities of a project's packages into the policy file (trust on
    /// first use): one `[[package]]` rule per package name not yet governed by a rule.
    Pin(PinArgs),
    /// Pinned Sigstore trust roots and npm registry keys.
    TrustRoots {
        #[command(subcommand)]
        command: TrustRootsCommand,
    },
}

/// Output selection shared by every command.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Alias of `--format json`.
    #[arg(long)]
    pub json: bool,
    /// Write the report to FILE (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Pin "now" (RFC 3339) for what depends on it: TUF expiry, exclusion expiry, age rules.
    /// Signature and certificate validity never read "now"; they use signed times.
    #[arg(long, value_name = "RFC3339", hide = true)]
    pub danger_now: Option<String>,
}

impl OutputArgs {
    /// The format asked for: `--json` wins over the default, an explicit `--format` over both.
    pub fn format(&self) -> Format {
        match (self.format, self.json) {
            (Some(f), _) => f,
            (None, true) => Format::Json,
            (None, false) => Format::Text,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
    Github,
}

/// Trust material selection shared by the commands that verify.
#[derive(Debug, Clone, Args)]
pub struct TrustArgs {
    /// Use this Sigstore trusted_root.json instead of the embedded production root.
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
    /// npm registry keys: `/-/npm/v1/keys` or Sigstore TUF `keys.json` format.
    #[arg(long, visible_alias = "keys", value_name = "FILE")]
    pub npm_keys: Option<PathBuf>,
    /// Data directory holding `trust-roots update`'s verified trust material (default:
    /// `$XDG_DATA_HOME/npm-provenance`, else `~/.local/share/npm-provenance`).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Tests only: judge a stored update against this TUF root instead of the embedded one.
    #[arg(long, value_name = "FILE", hide = true)]
    pub danger_tuf_root: Option<PathBuf>,
}

/// Registry selection shared by the commands that fetch.
#[derive(Debug, Clone, Args)]
pub struct RegistryArgs {
    /// The registry to fetch from (default: .npmrc, environment, then the public registry).
    #[arg(long, value_name = "URL")]
    pub registry: Option<String>,
    /// Fetch metadata (packuments, attestations) from this registry instead; the lockfile's
    /// integrity still binds the bytes.
    #[arg(long, value_name = "URL")]
    pub metadata_registry: Option<String>,
    /// Use only the cache; never fetch and never write.
    #[arg(long)]
    pub offline: bool,
    /// Cache directory (default: the user's cache directory).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Maximum concurrent requests.
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Allow plain http to hosts other than loopback.
    #[arg(long)]
    pub danger_allow_http: bool,
}

#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    /// Project directory, lockfile, or node_modules directory (default: current directory).
    pub path: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub trust: TrustArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Fail when a finding is at or above this level (default: the policy file's
    /// `[defaults] fail-level`, else deny).
    #[arg(long, value_name = "LEVEL")]
    pub fail_level: Option<String>,
    /// Report `unverifiable` as a warning instead of denying.
    #[arg(long)]
    pub allow_unverifiable: bool,
    /// Do not run the publishing-history engine.
    #[arg(long)]
    pub no_history: bool,
    /// Which versions' attestations to request: `auto` asks the public registry only for the
    /// versions its packuments announce (it announces every set it holds) and every other
    /// registry for every version; `announced` and `all` apply one rule everywhere.
    #[arg(long, value_enum, value_name = "WHICH", default_value = "auto")]
    pub attestations: AttestationsArg,
    /// Leave out dependency types, as npm does (dev, optional, peer).
    #[arg(long, value_name = "TYPE")]
    pub omit: Vec<String>,
    /// Only this workspace.
    #[arg(long, value_name = "NAME")]
    pub workspace: Vec<String>,
    /// Policy file (default: npm-provenance.toml in the project).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// Replay a snapshot taken by `npm-provenance snapshot` instead of fetching: fully
    /// offline, with the snapshot's registry map; the trust material stays this machine's.
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with_all = ["registry", "metadata_registry", "offline", "cache_dir", "concurrency", "danger_allow_http"]
    )]
    pub snapshot: Option<PathBuf>,
}

/// `snapshot`: the fetch-shaping flags of `verify`, and where to write.
#[derive(Debug, Clone, Args)]
pub struct SnapshotArgs {
    /// Project directory, lockfile, or node_modules directory (default: current directory).
    pub path: Option<PathBuf>,
    /// The snapshot directory: created, or a previous snapshot (replaced); never a non-empty
    /// directory that is not a snapshot.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub trust: TrustArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Do not run the publishing-history engine (as `verify --no-history`).
    #[arg(long)]
    pub no_history: bool,
    /// Which versions' attestations to request (as `verify --attestations`; a replay needs
    /// the same choice).
    #[arg(long, value_enum, value_name = "WHICH", default_value = "auto")]
    pub attestations: AttestationsArg,
    /// Leave out dependency types, as npm does (dev, optional, peer).
    #[arg(long, value_name = "TYPE")]
    pub omit: Vec<String>,
    /// Only this workspace.
    #[arg(long, value_name = "NAME")]
    pub workspace: Vec<String>,
    /// Policy file (default: npm-provenance.toml in the project).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Args)]
pub struct PinArgs {
    /// Project directory, lockfile, or node_modules directory (default: current directory).
    pub path: Option<PathBuf>,
    #[command(flatten)]
    pub trust: TrustArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Policy file to add the rules to (default: npm-provenance.toml in the project; created
    /// when absent).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Print the would-be policy file to stdout instead of writing it.
    #[arg(long)]
    pub dry_run: bool,
    /// Leave out dependency types, as npm does (dev, optional, peer).
    #[arg(long, value_name = "TYPE")]
    pub omit: Vec<String>,
    /// Only this workspace.
    #[arg(long, value_name = "NAME")]
    pub workspace: Vec<String>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// Pin "now" (RFC 3339): history windows, policy expiries and the date in the comments.
    #[arg(long, value_name = "RFC3339", hide = true)]
    pub danger_now: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct InspectArgs {
    /// NAME@VERSION (scoped names as @scope/name@version).
    pub spec: String,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub trust: TrustArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Offline: the packument (full or abbreviated) from a file.
    #[arg(long, value_name = "FILE")]
    pub packument: Option<PathBuf>,
    /// Offline: the attestations response from a file.
    #[arg(long, value_name = "FILE")]
    pub attestations: Option<PathBuf>,
    /// Offline: the tarball; its sha512 is the expected integrity.
    #[arg(long, value_name = "FILE")]
    pub tarball: Option<PathBuf>,
    /// The expected integrity (SRI), e.g. from a lockfile.
    #[arg(long, value_name = "SRI")]
    pub integrity: Option<String>,
    /// Exit 1 when a finding is at or above this level (deny, warn, info).
    #[arg(long, value_name = "LEVEL", default_value = "deny")]
    pub fail_level: String,
    /// Answer from a snapshot taken by `npm-provenance snapshot` (offline).
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with_all = ["registry", "metadata_registry", "offline", "cache_dir", "concurrency", "danger_allow_http", "packument", "attestations", "tarball"]
    )]
    pub snapshot: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// Package name.
    pub name: String,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub trust: TrustArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Offline: the full packument from a file.
    #[arg(long, value_name = "FILE")]
    pub packument: Option<PathBuf>,
    /// Answer from a snapshot taken by `npm-provenance snapshot` (offline).
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with_all = ["registry", "metadata_registry", "offline", "cache_dir", "concurrency", "danger_allow_http", "packument"]
    )]
    pub snapshot: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct VerifyBundleArgs {
    /// The artifact: a path, or `sha256:<64 hex>` / `sha512:<128 hex>` when no such path exists.
    pub file_or_digest: String,
    /// The Sigstore bundle (JSON).
    #[arg(long, value_name = "FILE")]
    pub bundle: PathBuf,
    /// Expected certificate SAN, exactly.
    #[arg(
        long,
        value_name = "ID",
        conflicts_with = "certificate_identity_regexp"
    )]
    pub certificate_identity: Option<String>,
    /// Expected certificate SAN, as a regex matched on the whole value.
    #[arg(long, value_name = "REGEX")]
    pub certificate_identity_regexp: Option<String>,
    /// Expected OIDC issuer, exactly.
    #[arg(
        long,
        value_name = "URL",
        conflicts_with = "certificate_oidc_issuer_regexp"
    )]
    pub certificate_oidc_issuer: Option<String>,
    /// Expected OIDC issuer, as a regex matched on the whole value.
    #[arg(long, value_name = "REGEX")]
    pub certificate_oidc_issuer_regexp: Option<String>,
    /// Verify a key-signed bundle with this PEM public key.
    #[arg(long, value_name = "PEM_FILE")]
    pub key: Option<PathBuf>,
    /// Use the embedded staging trusted root (unless --trusted-root is given).
    #[arg(long)]
    pub staging: bool,
    /// Use this trusted_root.json.
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Subcommand)]
pub enum TrustRootsCommand {
    /// Print the pinned Fulcio CAs, Rekor logs, CT logs, TSAs and npm keys with their validity.
    Show {
        #[command(flatten)]
        output: OutputArgs,
        #[command(flatten)]
        trust: TrustArgs,
    },
    /// Refresh the trust material through TUF.
    Update {
        /// TUF repository URL (default: the Sigstore public-good repository,
        /// https://tuf-repo-cdn.sigstore.dev); plain http only to a loopback address.
        #[arg(long, value_name = "URL")]
        tuf_url: Option<String>,
        #[command(flatten)]
        output: OutputArgs,
        #[command(flatten)]
        update: UpdateArgs,
    },
}

/// Where `trust-roots update` stores what it verified, and (tests only) what it starts from.
#[derive(Debug, Clone, Args)]
pub struct UpdateArgs {
    /// Data directory to store the verified trust material in (default:
    /// `$XDG_DATA_HOME/npm-provenance`, else `~/.local/share/npm-provenance`).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Tests only: start the TUF chain from this root.json instead of the embedded root.
    #[arg(long, value_name = "FILE", hide = true)]
    pub danger_tuf_root: Option<PathBuf>,
}

/// `verify --attestations`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum AttestationsArg {
    #[default]
    Auto,
    Announced,
    All,
}
