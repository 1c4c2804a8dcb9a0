//! The command line (clap derive). Doc comments are the help text. Only `main` and `app`
//! use these types; everything below `app` takes plain settings.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str =
    "Exit codes: 0 clean, 1 secrets found or a check failed, 2 error or incomplete scan.\n\
Skip checks once: SKIP=lint,typecheck git commit (the named [[check]]s), or\n\
WARDEN_SKIP=1 git commit (every check; the secret scan still runs).\n\
Bypass the hook once (not recommended): git commit --no-verify";

/// warden: a git pre-commit secret and quality guard.
#[derive(Debug, Parser)]
#[command(name = "warden", version, about, after_help = AFTER_HELP)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan for secrets: a directory or file (default .), or the staged change with --staged.
    Scan(ScanArgs),
    /// What the pre-commit hook runs: scan the staged change and block on findings, then run
    /// the configured checks on exactly the staged content and block when one fails.
    Hook(OutputArgs),
    /// Run the configured checks alone (no secret scan): on the staged files by default, with
    /// unstaged changes hidden as the hook does; or on all files, or on a range (CI).
    Check(CheckArgs),
    /// Write a starter warden.toml with checks chosen from what the repository holds
    /// (package.json, tsconfig, eslint/biome/prettier, Cargo.toml, pyproject.toml, go.mod).
    Init {
        /// Only print the proposed checks; write nothing.
        #[arg(long)]
        print: bool,
    },
    /// The CI job: scan every commit of the pull request / merge request (range from GitHub
    /// Actions or GitLab CI variables, or --range), annotate on GitHub, write SARIF.
    Ci(CiArgs),
    /// Write the fingerprints of the current findings (no secret values) to accept them;
    /// `--baseline FILE` then reports only new ones.
    Baseline(BaselineArgs),
    /// Install the pre-commit hook (respects core.hooksPath; chains an existing hook).
    Install,
    /// Remove warden's pre-commit hook, restoring a chained one.
    Uninstall {
        /// Remove the hook even if it was edited after installation.
        #[arg(long)]
        force: bool,
    },
    /// Prove the guard is live: hook installed where git runs it, executable, and blocking a
    /// canary secret staged in a temporary index. Exit 0 only when all of that holds.
    Doctor,
    /// Show the effective configuration: each layer (base, repo, per-directory) and every
    /// value with the file and line that set it.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// List, check and explain rules.
    #[command(subcommand)]
    Rules(RulesCommand),
}

/// `warden scan` options.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Directory or file to scan (honours .gitignore).
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,
    /// Scan the staged change (the index against HEAD) instead of a directory.
    #[arg(long, conflicts_with = "path")]
    pub staged: bool,
    /// With --staged: report secrets on every line of staged files, not only added lines.
    #[arg(long)]
    pub all_lines: bool,
    /// Scan every blob reachable from every branch, tag and remote ref, each once (PATH,
    /// if given, is the repository).
    #[arg(long, conflicts_with = "staged")]
    pub history: bool,
    /// With --history: only this branch, tag or commit and its ancestors.
    #[arg(long, value_name = "REF", requires = "history")]
    pub branch: Option<String>,
    /// Scan every commit of BASE..HEAD (each commit's added lines, merges included; PATH,
    /// if given, is the repository).
    #[arg(long, value_name = "BASE..HEAD", conflicts_with_all = ["staged", "history"])]
    pub range: Option<String>,
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `warden check` options.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Run on every tracked file, as the working tree holds it, instead of the staged files.
    #[arg(long, conflicts_with_all = ["from_ref", "to_ref"])]
    pub all_files: bool,
    /// Run on the files changed from this commit to --to-ref, as the working tree holds them.
    #[arg(long, value_name = "REF", requires = "to_ref")]
    pub from_ref: Option<String>,
    /// The end of the --from-ref range (e.g. HEAD).
    #[arg(long, value_name = "REF", requires = "from_ref")]
    pub to_ref: Option<String>,
    /// Configuration file (default: warden.toml at the repository root).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Options shared by scanning commands.
#[derive(Debug, Args, Clone)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = FormatArg::Human)]
    pub format: FormatArg,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Configuration file (default: warden.toml at the repository or scan root).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Skip blobs larger than this many bytes (default 10485760).
    #[arg(long, value_name = "BYTES")]
    pub max_file_size: Option<u64>,
    /// Also list every candidate that was not reported, and why.
    #[arg(long)]
    pub explain: bool,
    /// Report only findings whose fingerprint is not in this baseline file (see `warden
    /// baseline`; default: `[scan] baseline` of warden.toml).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
}

/// `warden ci` options.
#[derive(Debug, Args)]
pub struct CiArgs {
    /// The range to scan, instead of reading it from CI variables.
    #[arg(long, value_name = "BASE..HEAD")]
    pub range: Option<String>,
    /// Also write a SARIF 2.1.0 report to FILE (for code scanning upload).
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `warden baseline` options.
#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// Directory or file to scan (default .).
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,
    /// Baseline the findings of the whole history instead of the directory.
    #[arg(long, conflicts_with = "path")]
    pub history: bool,
    /// Write the baseline to FILE instead of standard output (and mark it `merge=union` in
    /// .gitattributes so branches adding entries merge cleanly).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Configuration file (default: warden.toml at the repository or scan root).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Drop the entries of the baseline FILE (-o) that no current finding has; add none.
    #[arg(long, requires = "output")]
    pub prune: bool,
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// For people.
    Human,
    /// One versioned JSON document.
    Json,
    /// One JSON object per finding per line.
    Jsonl,
    /// GitHub Actions annotations.
    Github,
    /// SARIF 2.1.0 (code scanning).
    Sarif,
    /// Replace-text file for BFG Repo-Cleaner: holds the secrets; needs --output.
    Bfg,
    /// Replace-text file for `git filter-repo --replace-text`: holds the secrets; needs --output.
    FilterRepo,
}

/// `warden config …`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the layers and every configured value with where it came from.
    Show,
}

/// `warden rules …`
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List the builtin rules (and those of the config, if any).
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Validate a rule file: schema, regexes, and every example and negative example.
    Check {
        /// The rule file (same schema as rules/*.toml).
        file: PathBuf,
    },
    /// Convert a gitleaks/betterleaks config to warden rule TOML (printed). To use one as it
    /// is, list it under `[rules] gitleaks = [...]` in warden.toml instead.
    ImportGitleaks {
        /// The gitleaks config (e.g. .gitleaks.toml).
        file: PathBuf,
    },
    /// Show one rule: description, pattern, keywords, examples and where to rotate.
    Explain {
        /// Rule id.
        id: String,
    },
}
