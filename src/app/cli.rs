//! The command line: clap definitions only; the work is done by library calls in `commands`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// goodhart: scaling laws of reward-model overoptimization from RLHF and best-of-n logs.
#[derive(Debug, Parser)]
#[command(name = "goodhart", version = crate::version::VERSION_STRING, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Print nothing but errors (no report, no warnings, no progress, no "wrote ..." lines).
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole job on the bundled default: generate sim, bon, fit, scale, predict, analyze,
    /// report into data/, fits/ and plots/.
    #[command(
        after_help = "Example:\n  goodhart demo                 # into ./data, ./fits, ./plots\n  goodhart demo --out demo-seed1 --seed 1"
    )]
    Demo(DemoArgs),
    /// Generate data.
    #[command(subcommand)]
    Generate(GenerateKind),
    /// Describe a Curves file: format, columns and how they map, curves, problems.
    #[command(
        after_help = "Example:\n  goodhart inspect data/bon_curves.csv\n  goodhart inspect tests/data/adapters/trl_ppo/trainer_state.json --gold-from tests/data/adapters/trl_ppo/gold.csv --rm-params 1.2e9"
    )]
    Inspect(InspectArgs),
    /// Fit the scaling forms to every curve and write the fits JSON (and CSV).
    #[command(
        after_help = "Examples:\n  goodhart fit data/bon_curves.csv data/rl_runs.csv --out fits.json --csv fits.csv\n  goodhart fit data/rl_runs.csv --out fits.json --target gold --holdout-above 4\n  goodhart fit data/bon_curves.csv --out - --quiet | jq '.fits[0].peak'"
    )]
    Fit(FitArgs),
    /// Best-of-n curves from scored samples (prompt, proxy, gold) by the unbiased estimator.
    #[command(
        after_help = "Examples:\n  goodhart bon data/bon_samples.parquet --out curves.csv\n  goodhart bon tests/data/adapters/bon/dump.json --rm-params 3e8 --out dump_curves.csv\n  goodhart bon data/bon_samples.parquet --out curves.parquet --n 1,2,4,8,16 --kl pool\n  goodhart fit curves.csv --out fits.json   # prompt-bootstrap intervals from the per-prompt values"
    )]
    Bon(BonArgs),
    /// Convert logs (TRL, W&B, TensorBoard, veRL, best-of-n dumps) to the canonical Curves or
    /// Samples table.
    #[command(
        after_help = "Examples:\n  goodhart convert tests/data/adapters/trl_ppo/trainer_state.json --rm-params 1.2e9 --gold-from tests/data/adapters/trl_ppo/gold.csv --out curves.csv\n  goodhart convert tests/data/adapters/tensorboard/run-ppo-tag-objective_kl.csv tests/data/adapters/tensorboard/run-ppo-tag-objective_scores.csv --rm-params 3e8 --gold-key objective/scores --out curves.parquet\n  goodhart convert tests/data/adapters/bon/dump.jsonl --rm-params 3e8 --out samples.csv"
    )]
    Convert(ConvertArgs),
    /// Regress the fitted coefficients on RM size (or data, policy size): log-linear and power laws.
    #[command(
        after_help = "Examples:\n  goodhart scale fits/fits.json --out scaling.json\n  goodhart scale fits/fits.json --out scaling.json --by rm_data\n  goodhart scale fits/fits.json --out scaling.json --joint --curves data/bon_curves.csv data/rl_runs.csv"
    )]
    Scale(ScaleArgs),
    /// Predict coefficients, gold curve and peak for RM sizes not trained, with 95% intervals.
    #[command(
        after_help = "Examples:\n  goodhart predict --scaling fits/scaling.json --rm-params 1e4,3e4 --out pred.json\n  goodhart predict --scaling fits/scaling.json --rm-params 3e4 --method rl --kl 0:100:1 --iterations 4 --out pred.csv"
    )]
    Predict(PredictArgs),
    /// The paper's comparisons of methods and runs: RL vs best-of-n KL efficiency, gold at equal
    /// proxy score, reward models' validation metrics against size and gold peaks, the
    /// KL-penalty frontier, and simulated iterated RLHF against the formula.
    #[command(
        after_help = "Examples:\n  goodhart analyze data/bon_curves.csv data/rl_runs.csv --samples data/bon_samples.parquet --reward-models data/reward_models.csv --fits fits/fits.json --out analyses.json\n  goodhart analyze data/bon_curves.csv data/rl_runs.csv --fits fits/fits.json --out analyses.json --csv analyses.csv --quiet"
    )]
    Analyze(AnalyzeArgs),
    /// Figures, report.html (self-contained) and report.md of curves: fits, scaling laws,
    /// predictions and the Goodhart decomposition (each computed when not given).
    #[command(
        after_help = "Examples:\n  goodhart report data/bon_curves.csv data/rl_runs.csv --out out/report      # creates out/report\n  goodhart report data/bon_curves.csv --samples data/bon_samples.parquet --fits fits/fits.json --scaling fits/scaling.json --out plots"
    )]
    Report(ReportArgs),
    /// Print a shell completion script for bash, zsh or fish.
    #[command(
        after_help = "Examples:\n  mkdir -p ~/.local/share/bash-completion/completions && goodhart completions bash > ~/.local/share/bash-completion/completions/goodhart\n  mkdir -p ~/.zfunc && goodhart completions zsh > ~/.zfunc/_goodhart     # with fpath+=(~/.zfunc) before compinit\n  mkdir -p ~/.config/fish/completions && goodhart completions fish > ~/.config/fish/completions/goodhart.fish"
    )]
    Completions(CompletionsArgs),
}

/// The shells `goodhart completions` writes a script for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShellArg {
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: ShellArg,
}

/// `--kl` of `goodhart bon`
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KlArg {
    /// ln n - (n-1)/n, the paper's formula (an upper bound)
    Analytic,
    /// the plug-in KL of best-of-n (drawn with replacement) under each empirical pool, averaged
    /// over prompts
    Pool,
}

/// `--common-prompts` of `goodhart bon`
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CommonPromptsArg {
    /// cut every pool of a curve to its smallest pool size, by a uniformly random subset of its
    /// samples (seeded by --seed): all prompts, n up to the smallest pool
    Truncate,
    /// keep only the prompts whose pool has N >= the largest n (--n, or the largest pool)
    Complete,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct BonArgs {
    /// `goodhart bon merge PARTIALS... --out curves.csv` merges partial tables.
    #[command(subcommand)]
    pub action: Option<BonAction>,
    /// Samples tables (.csv, .parquet, .ndjson/.jsonl with prompt, proxy, gold columns) or
    /// per-prompt dumps (.json, .jsonl records with `proxy_scores[N]` and `gold_scores[N]`).
    #[arg(required = true)]
    pub samples: Vec<PathBuf>,
    /// Output Curves table (.csv, .parquet, .ndjson/.jsonl, or - for CSV on stdout); with
    /// --partial, the partial table.
    #[arg(long, required = true)]
    pub out: Option<PathBuf>,
    /// Write a partial table (per-prompt estimates of these samples, with the options) instead
    /// of curves: partials of disjoint prompt sets merge with `goodhart bon merge` into the
    /// curves of all their samples, byte for byte (README "Mergeable best-of-n").
    #[arg(long)]
    pub partial: bool,
    /// The n values (comma-separated). Default: every n when the largest pool has <= 64
    /// samples, else about 60 log-spaced values from 1 to N.
    #[arg(long, value_delimiter = ',', value_parser = trimmed::<usize>)]
    pub n: Vec<usize>,
    /// Add B prompt-resampled replicate curves (column `replicate`, 1..B). Not needed for
    /// bootstrap intervals: `goodhart fit` resamples the per-prompt values itself.
    #[arg(long, value_name = "B", default_value_t = 0)]
    pub bootstrap: usize,
    /// Leave out the per-prompt estimates (columns `gold_prompts`, `proxy_prompts`) that
    /// `goodhart fit` bootstraps prompts from; its intervals are then Student-t.
    #[arg(long)]
    pub no_prompt_values: bool,
    /// Seed of the bootstrap and of `--common-prompts truncate`.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Give every n of a curve the same prompts when its pools have unequal sizes (by default
    /// each n averages the prompts whose pool has N >= n, with a warning).
    #[arg(long, value_enum, value_name = "HOW")]
    pub common_prompts: Option<CommonPromptsArg>,
    /// Which KL is written as `kl` (both are written: `kl` and `kl_pool`).
    #[arg(long, value_enum, default_value_t = KlArg::Analytic)]
    pub kl: KlArg,
    /// Rename a column (or a dump's key): --map source=canonical (repeatable).
    #[arg(long = "map", value_name = "SOURCE=CANONICAL")]
    pub map: Vec<String>,
    #[command(flatten)]
    pub log: LogArgs,
}

/// `goodhart bon merge`
#[derive(Debug, Subcommand)]
pub enum BonAction {
    /// Merge partial tables (`goodhart bon --partial`) of disjoint prompt sets into the Curves
    /// table `goodhart bon` gives on all their samples.
    #[command(
        after_help = "Example:\n  goodhart bon shard1.parquet --partial --out p1.parquet   # one per shard, same options\n  goodhart bon merge p1.parquet p2.parquet --out curves.csv"
    )]
    Merge(BonMergeArgs),
}

/// `goodhart bon merge`
#[derive(Debug, Args)]
pub struct BonMergeArgs {
    /// Partial tables (.csv, .parquet, .ndjson/.jsonl), in any order.
    #[arg(required = true)]
    pub partials: Vec<PathBuf>,
    /// Output Curves table (.csv, .parquet, .ndjson/.jsonl, or - for CSV on stdout).
    #[arg(long)]
    pub out: PathBuf,
}

/// `--format`
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormatArg {
    /// detect from the file name and content
    Auto,
    /// goodhart's Curves or Samples table (.csv, .parquet, .ndjson/.jsonl)
    Tidy,
    /// TRL trainer_state.json
    Trl,
    /// W&B panel CSV export
    Wandb,
    /// TensorBoard event files (a log folder or events.out.tfevents.*) or scalar CSV export
    Tensorboard,
    /// veRL file-logger JSONL
    Verl,
    /// best-of-n dump with per-prompt score arrays
    BonJson,
}

/// `--kl-unit`
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KlUnitArg {
    /// KL summed over the tokens of a response (TRL PPO objective/kl)
    Sequence,
    /// mean KL per token (TRL GRPO kl, veRL actor/kl_loss, critic/kl)
    Token,
}

/// `--method` of log metadata
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogMethodArg {
    Rl,
    Bon,
}

/// How input logs are read: shared by every command that reads logs.
#[derive(Debug, Clone, Args)]
pub struct LogArgs {
    /// Input layout; `auto` detects it from the file name and content.
    #[arg(long, value_enum, default_value_t = LogFormatArg::Auto)]
    pub format: LogFormatArg,
    /// Log key of the KL (default per format: objective/kl, kl, actor/kl_loss, critic/kl;
    /// a `train/` prefix is accepted).
    #[arg(long, value_name = "KEY", help_heading = "Log keys")]
    pub kl_key: Option<String>,
    /// Log key of the proxy score (default: objective/scores, reward, critic/score/mean).
    #[arg(long, value_name = "KEY", help_heading = "Log keys")]
    pub proxy_key: Option<String>,
    /// Key of the gold score: in the --gold-from file (default gold), else in the log.
    #[arg(long, value_name = "KEY", help_heading = "Log keys")]
    pub gold_key: Option<String>,
    /// Log key of the training step (default: step; Step for W&B and TensorBoard).
    #[arg(long, value_name = "KEY", help_heading = "Log keys")]
    pub step_key: Option<String>,
    /// Log key of the mean response length: turns per-token KL into per-sequence KL
    /// (approximately), e.g. completions/mean_length or response_length/mean.
    #[arg(long, value_name = "KEY", help_heading = "Log keys")]
    pub length_key: Option<String>,
    /// What the logged KL measures (default: known from the key, else required).
    #[arg(long, value_enum, help_heading = "Log keys")]
    pub kl_unit: Option<KlUnitArg>,
    /// Gold evaluations in a separate file (CSV or JSON Lines with step and gold columns,
    /// optional run), joined to the log on step.
    #[arg(long, value_name = "FILE", help_heading = "Gold join")]
    pub gold_from: Option<PathBuf>,
    /// A gold evaluation at step g takes the log's nearest earlier step s with g - s <= T.
    #[arg(
        long,
        value_name = "T",
        default_value_t = 0.0,
        allow_negative_numbers = true,
        help_heading = "Gold join"
    )]
    pub join_tolerance: f64,
    /// A runs manifest (CSV): one row per log with its run id, rm_params and other metadata
    /// (columns log, run, method, rm_params, kl_penalty, policy_params, rm_data, kl_unit, format,
    /// gold_from, kl_key, proxy_key, gold_key, step_key, length_key; paths relative to the
    /// manifest's folder). A gold file with a `run` column is joined by run and step.
    #[arg(long, value_name = "FILE", help_heading = "Gold join")]
    pub runs: Option<PathBuf>,
    /// Sidecar JSON with the run's metadata (default: the log file name plus .goodhart.json, when that file exists).
    #[arg(
        long,
        value_name = "FILE",
        help_heading = "Run metadata (flags win over the sidecar)"
    )]
    pub meta: Option<PathBuf>,
    /// How the policy was optimised (default: rl for trainer logs).
    #[arg(
        long,
        value_enum,
        help_heading = "Run metadata (flags win over the sidecar)"
    )]
    pub method: Option<LogMethodArg>,
    /// The proxy RM's parameter count (required for logs, unless in the sidecar; for samples
    /// files without an rm_params column).
    #[arg(
        long,
        value_name = "N",
        allow_negative_numbers = true,
        value_parser = one_rm_size,
        help_heading = "Run metadata (flags win over the sidecar)"
    )]
    pub rm_params: Option<f64>,
    /// The RL KL-penalty coefficient.
    #[arg(
        long,
        value_name = "C",
        allow_negative_numbers = true,
        help_heading = "Run metadata (flags win over the sidecar)"
    )]
    pub kl_penalty: Option<f64>,
    /// The policy's parameter count.
    #[arg(
        long,
        value_name = "N",
        allow_negative_numbers = true,
        help_heading = "Run metadata (flags win over the sidecar)"
    )]
    pub policy_params: Option<f64>,
    /// Comparisons the proxy RM was trained on.
    #[arg(
        long,
        value_name = "N",
        allow_negative_numbers = true,
        help_heading = "Run metadata (flags win over the sidecar)"
    )]
    pub rm_data: Option<f64>,
    /// Run name of a single-run log (W&B and TensorBoard runs are named by the file).
    #[arg(
        long,
        value_name = "NAME",
        help_heading = "Run metadata (flags win over the sidecar)"
    )]
    pub run: Option<String>,
}

/// One item of a comma-separated list flag, spaces around it allowed (`--kl-penalties "0, 0.1"`).
fn trimmed<T>(s: &str) -> Result<T, String>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    s.trim()
        .parse::<T>()
        .map_err(|e| format!("'{}' is not a valid list item: {e}", s.trim()))
}

/// `--rm-params` of a log: one number; a list points at the runs manifest.
fn one_rm_size(s: &str) -> Result<f64, String> {
    if s.contains(',') {
        return Err(format!(
            "'{s}' is a list: --rm-params gives the size of one log's proxy RM; for several runs, one size each, list the logs in a runs manifest (--runs runs.csv with columns log,run,rm_params)"
        ));
    }
    s.trim()
        .parse::<f64>()
        .map_err(|e| format!("'{s}' is not a number: {e}"))
}

impl LogArgs {
    /// The flags given on the command line (for commands that read no input with them).
    pub fn given(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.format != LogFormatArg::Auto {
            v.push("--format");
        }
        for (flag, set) in [
            ("--kl-key", self.kl_key.is_some()),
            ("--proxy-key", self.proxy_key.is_some()),
            ("--gold-key", self.gold_key.is_some()),
            ("--step-key", self.step_key.is_some()),
            ("--length-key", self.length_key.is_some()),
            ("--kl-unit", self.kl_unit.is_some()),
            ("--gold-from", self.gold_from.is_some()),
            ("--join-tolerance", self.join_tolerance != 0.0),
            ("--meta", self.meta.is_some()),
            ("--method", self.method.is_some()),
            ("--rm-params", self.rm_params.is_some()),
            ("--kl-penalty", self.kl_penalty.is_some()),
            ("--policy-params", self.policy_params.is_some()),
            ("--rm-data", self.rm_data.is_some()),
            ("--run", self.run.is_some()),
            ("--runs", self.runs.is_some()),
        ] {
            if set {
                v.push(flag);
            }
        }
        v
    }

    /// The library's reading options.
    pub fn options(&self) -> crate::Result<crate::ingest::LogOptions> {
        use crate::ingest::{KeyOptions, KlUnit, LogFormat, RunMeta};
        let format = match self.format {
            LogFormatArg::Auto => None,
            LogFormatArg::Tidy => Some(LogFormat::Tidy),
            LogFormatArg::Trl => Some(LogFormat::Trl),
            LogFormatArg::Wandb => Some(LogFormat::Wandb),
            LogFormatArg::Tensorboard => Some(LogFormat::Tensorboard),
            LogFormatArg::Verl => Some(LogFormat::Verl),
            LogFormatArg::BonJson => Some(LogFormat::BonJson),
        };
        if !(self.join_tolerance.is_finite() && self.join_tolerance >= 0.0) {
            return Err(crate::Error::Usage(format!(
                "--join-tolerance must be a number of steps >= 0, not {}",
                self.join_tolerance
            )));
        }
        if self.gold_from.is_none() && self.join_tolerance > 0.0 {
            return Err(crate::Error::Usage(
                "--join-tolerance applies to --gold-from, which is not given".to_string(),
            ));
        }
        let meta = RunMeta {
            method: self.method.map(|m| match m {
                LogMethodArg::Rl => crate::schema::Method::Rl,
                LogMethodArg::Bon => crate::schema::Method::Bon,
            }),
            rm_params: self.rm_params,
            kl_penalty: self.kl_penalty,
            policy_params: self.policy_params,
            rm_data: self.rm_data,
            run: self.run.clone(),
            kl_unit: self.kl_unit.map(|u| match u {
                KlUnitArg::Sequence => KlUnit::Sequence,
                KlUnitArg::Token => KlUnit::Token,
            }),
        };
        Ok(crate::ingest::LogOptions {
            format,
            keys: KeyOptions {
                kl: self.kl_key.clone(),
                proxy: self.proxy_key.clone(),
                gold: self.gold_key.clone(),
                step: self.step_key.clone(),
                length: self.length_key.clone(),
            },
            meta,
            meta_file: self.meta.clone(),
            gold_from: self.gold_from.clone(),
            join_tolerance: self.join_tolerance,
            runs: self.runs.clone(),
            from_manifest: false,
            metadata_hint: crate::ingest::MetadataHint::Flags,
        })
    }
}

/// `goodhart convert`
#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// Input logs (any --format; TensorBoard log folders, event files or CSV exports are merged
    /// by run and step).
    #[arg(required_unless_present = "runs")]
    pub inputs: Vec<PathBuf>,
    /// The canonical table: Curves, or Samples for best-of-n dumps and Samples tables (.csv,
    /// .parquet, .ndjson/.jsonl, or - for CSV on stdout).
    #[arg(long)]
    pub out: PathBuf,
    /// Rename a column of a tidy input (or a dump's key): --map source=canonical (repeatable).
    #[arg(long = "map", value_name = "SOURCE=CANONICAL")]
    pub map: Vec<String>,
    #[command(flatten)]
    pub log: LogArgs,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder that receives data/, fits/ and plots/ (written first into its hidden
    /// .goodhart-demo.partial, put in place only when all are complete; one demo at a time).
    #[arg(long, default_value = ".")]
    pub out: PathBuf,
    /// Random seed of the generated data.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The bundled world the data come from.
    #[arg(long, value_enum, default_value_t = DemoWorld::Sim)]
    pub world: DemoWorld,
    /// The world's preset: small (the README's numbers), or test (the token world's reduced
    /// preset, under a minute even unoptimised; `--world tokens` only).
    #[arg(long, value_enum, default_value_t = DemoPreset::Small)]
    pub preset: DemoPreset,
}

/// The presets `goodhart demo` can run its world at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DemoPreset {
    /// The world's small preset.
    Small,
    /// The token world's test preset (V = 1024, 5 proxy sizes, 1500 steps).
    Test,
}

/// The worlds `goodhart demo` can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DemoWorld {
    /// `generate sim`: best-of-n follows the paper's law; RL does not (seconds). The committed
    /// data/, fits/ and plots/ are this world's.
    Sim,
    /// `generate tokens`: a token world whose RL runs the paper's RL form fits better than the
    /// best-of-n form (under a minute on 2 cores; its Samples table is 95 MB).
    Tokens,
}

#[derive(Debug, Subcommand)]
pub enum GenerateKind {
    /// Curves from known coefficients of the paper's forms plus seeded Gaussian noise.
    #[command(
        after_help = "Examples:\n  goodhart generate law --out law.csv\n  goodhart generate law --out law.parquet --method bon --rm-params 1e7,1e8,1e9 \\\n      --bon-alpha-law 0.3,0.065 --bon-beta 0.2 --noise 0.05 --seed 7"
    )]
    Law(LawArgs),
    /// A small synthetic RLHF world (gold RM, proxies trained on comparisons, best-of-n, RL)
    /// in which overoptimization emerges; writes bon_samples.parquet, rl_runs.csv,
    /// reward_models.csv and world.json into DIR. Unset knobs take the preset's value.
    #[command(
        after_help = "Examples:\n  goodhart generate sim --out sim                       # the small preset, seconds\n  goodhart generate sim --out sim --preset paper --seed 3\n  goodhart generate sim --out sim --rm-hidden 1,4,16,64 --kl-penalties 0,0.5\n  goodhart bon sim/bon_samples.parquet --out sim/bon_curves.csv\n  goodhart fit sim/bon_curves.csv sim/rl_runs.csv --out sim/fits.json"
    )]
    Sim(SimArgs),
    /// A token-level synthetic RLHF world (Zipf vocabulary, a gold reward that turns on rare
    /// tokens, Bradley-Terry proxies fitted by L-BFGS, REINFORCE policies of several sizes)
    /// whose RL runs the paper's RL form fits better than the best-of-n form (README: what it
    /// reproduces and what not); writes bon_samples.parquet, rl_runs.csv,
    /// reward_models.csv, iterated_rlhf.csv and world.json into DIR.
    #[command(
        after_help = "Examples:\n  goodhart generate tokens --out tok --preset test      # the reduced world, seconds (the default small preset: a minute or two)\n  goodhart bon tok/bon_samples.parquet --out tok/bon_curves.csv\n  goodhart fit tok/bon_curves.csv tok/rl_runs.csv --out tok/fits.json\n  goodhart analyze tok/bon_curves.csv tok/rl_runs.csv --reward-models tok/reward_models.csv \\\n      --iterated tok/iterated_rlhf.csv --fits tok/fits.json --out tok/analyses.json"
    )]
    Tokens(TokensArgs),
}

/// `--preset` of `generate tokens`
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TokensPresetArg {
    /// V = 4096, 9 proxy sizes, 3 data sizes, policy widths 8, 32, 128
    Small,
    /// V = 1024, 5 proxy sizes, 2 data sizes, policy widths 8, 32, 1500 steps (for tests)
    Test,
}

/// `generate tokens`: an unset knob takes the preset's value.
#[derive(Debug, Args)]
pub struct TokensArgs {
    /// Output folder (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Seed of every random stream of the world.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The defaults of the knobs below.
    #[arg(long, value_enum, default_value_t = TokensPresetArg::Small)]
    pub preset: TokensPresetArg,
    /// Correlation of the policy's token features with the reward models' embedding (preset: 0).
    #[arg(long, allow_negative_numbers = true)]
    pub policy_rho: Option<f64>,
    /// Policy widths (policy_params = 8 x width), comma-separated (small preset: 8,32,128; test: 8,32).
    #[arg(long, value_delimiter = ',', value_parser = trimmed::<usize>)]
    pub policy_widths: Vec<usize>,
    /// RL KL-penalty coefficients, comma-separated, starting with 0 (preset: 0,0.1,0.3).
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true, value_parser = trimmed::<f64>)]
    pub kl_penalties: Vec<f64>,
    /// REINFORCE steps per run (small preset: 3000; test: 1500).
    #[arg(long)]
    pub rl_steps: Option<usize>,
    /// Adam learning rate of the policies (preset: 0.01).
    #[arg(long, allow_negative_numbers = true)]
    pub rl_lr: Option<f64>,
}

/// `--preset` of `generate sim`
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SimPresetArg {
    /// 9 proxy sizes, 2 data sizes, 2 policies, 3 KL penalties, 100 prompts x 256 (seconds)
    Small,
    /// 10 proxy sizes, 30000 comparisons, 5 penalties, 1000 prompts x 1000 (minutes)
    Paper,
}

/// `--labels` of `generate sim`
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SimLabelsArg {
    /// the higher gold score wins (the paper's choice)
    Deterministic,
    /// the first response wins with probability sigmoid(gold difference)
    Sampled,
}

/// `--policies` of `generate sim`
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SimPolicyArg {
    /// N(mu, diag(sigma^2)): 2 D parameters
    Diag,
    /// N(mu, L L^T), L lower-triangular: D + D(D+1)/2 parameters
    Full,
}

/// `generate sim`: every knob is optional; an unset one takes the preset's value (small / paper).
#[derive(Debug, Args)]
pub struct SimArgs {
    /// Output folder (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Seed of every random stream of the world.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The defaults of the knobs below.
    #[arg(long, value_enum, default_value_t = SimPresetArg::Small)]
    pub preset: SimPresetArg,
    /// Dimension D of a response vector [16 / 16].
    #[arg(long)]
    pub dim: Option<usize>,
    /// Hidden units of the random gold network [64 / 64].
    #[arg(long)]
    pub gold_hidden: Option<usize>,
    /// Weight of the gold RM's typicality term -(|x|^2 - D)/sqrt(2D) [1 / 1].
    #[arg(long, allow_negative_numbers = true)]
    pub gold_typicality: Option<f64>,
    /// Hidden widths of the proxy RMs, comma-separated; rm_params = D + width*(D+2), and
    /// width 0 is a linear model [0,1,2,4,8,16,32,64,128 / 0,1,2,...,256].
    #[arg(long, value_delimiter = ',', value_parser = trimmed::<usize>)]
    pub rm_hidden: Vec<usize>,
    /// Training comparisons per proxy, comma-separated [1000,4000 / 30000].
    #[arg(long, value_delimiter = ',', value_parser = trimmed::<usize>)]
    pub rm_data: Vec<usize>,
    /// Held-out comparisons for recalibration and validation [2000 / 2000].
    #[arg(long)]
    pub rm_val: Option<usize>,
    /// Passes over the training comparisons [20 / 20].
    #[arg(long)]
    pub rm_epochs: Option<usize>,
    /// Comparisons per Adam step [64 / 64].
    #[arg(long)]
    pub rm_batch: Option<usize>,
    /// Adam learning rate of the proxies (decays linearly to a tenth) [0.01 / 0.01].
    #[arg(long, allow_negative_numbers = true)]
    pub rm_lr: Option<f64>,
    /// How the gold RM labels comparisons [deterministic / deterministic].
    #[arg(long, value_enum)]
    pub labels: Option<SimLabelsArg>,
    /// pi_0 draws that normalise the gold RM and re-centre the proxies [50000 / 50000].
    #[arg(long)]
    pub norm_samples: Option<usize>,
    /// Best-of-n prompts [100 / 1000].
    #[arg(long)]
    pub prompts: Option<usize>,
    /// Best-of-n samples per prompt, N [256 / 1000].
    #[arg(long, value_name = "N")]
    pub samples_per_prompt: Option<usize>,
    #[command(flatten)]
    pub rl: Box<SimRlArgs>,
}

/// The RL knobs of `generate sim` (boxed: keeps the command enum small).
#[derive(Debug, Args)]
pub struct SimRlArgs {
    /// RL policy families, comma-separated [diag,full / diag,full].
    #[arg(long, value_enum, value_delimiter = ',')]
    pub policies: Vec<SimPolicyArg>,
    /// RL KL-penalty coefficients, comma-separated [0,0.1,0.3 / 0,0.01,0.05,0.1,0.5].
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true, value_parser = trimmed::<f64>)]
    pub kl_penalties: Vec<f64>,
    /// RL Adam steps per run [300 / 600].
    #[arg(long)]
    pub rl_steps: Option<usize>,
    /// Policy samples per RL gradient step [64 / 64].
    #[arg(long)]
    pub rl_batch: Option<usize>,
    /// Adam learning rate of the policies [0.01 / 0.01].
    #[arg(long, allow_negative_numbers = true)]
    pub rl_lr: Option<f64>,
    /// Log an RL point every this many steps (and at step 0 and the last) [10 / 10].
    #[arg(long)]
    pub rl_log_every: Option<usize>,
    /// Fresh samples that estimate gold and proxy at each logged step [512 / 2000].
    #[arg(long)]
    pub rl_eval_samples: Option<usize>,
    /// RL replicates per setting (the run column) [1 / 2].
    #[arg(long)]
    pub rl_seeds: Option<usize>,
}

/// Which methods to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MethodArg {
    Bon,
    Rl,
    Both,
}

#[derive(Debug, Args)]
pub struct LawArgs {
    /// Output Curves table (.csv, .parquet, .ndjson/.jsonl, or - for CSV on stdout).
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, value_enum, default_value_t = MethodArg::Both)]
    pub method: MethodArg,
    /// RM sizes (comma-separated). Default: the paper's nine sizes, 3e6 to 3e9.
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true, value_parser = trimmed::<f64>)]
    pub rm_params: Vec<f64>,
    /// alpha_bon: one value, or one per RM size.
    #[arg(
        long,
        value_delimiter = ',',
        allow_negative_numbers = true,
        conflicts_with = "bon_alpha_law",
        value_parser = trimmed::<f64>
    )]
    pub bon_alpha: Vec<f64>,
    /// alpha_bon = a + b*log10(rm_params), given as a,b. Default 0.30,0.065.
    #[arg(
        long,
        value_delimiter = ',',
        num_args = 1,
        allow_negative_numbers = true,
        value_parser = trimmed::<f64>
    )]
    pub bon_alpha_law: Vec<f64>,
    /// beta_bon: one value, or one per RM size.
    #[arg(
        long,
        value_delimiter = ',',
        allow_negative_numbers = true,
        conflicts_with = "bon_beta_law",
        value_parser = trimmed::<f64>
    )]
    pub bon_beta: Vec<f64>,
    /// beta_bon = a + b*log10(rm_params), given as a,b. Default 0.45,-0.035.
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true, value_parser = trimmed::<f64>)]
    pub bon_beta_law: Vec<f64>,
    /// alpha_RL: one value, or one per RM size. Default 0.5 for every size.
    #[arg(
        long,
        value_delimiter = ',',
        allow_negative_numbers = true,
        conflicts_with = "rl_alpha_law",
        value_parser = trimmed::<f64>
    )]
    pub rl_alpha: Vec<f64>,
    /// alpha_RL = a + b*log10(rm_params), given as a,b.
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true, value_parser = trimmed::<f64>)]
    pub rl_alpha_law: Vec<f64>,
    /// beta_RL: one value, or one per RM size.
    #[arg(
        long,
        value_delimiter = ',',
        allow_negative_numbers = true,
        conflicts_with = "rl_beta_law",
        value_parser = trimmed::<f64>
    )]
    pub rl_beta: Vec<f64>,
    /// beta_RL = a + b*log10(rm_params), given as a,b. Default 0.45,-0.03.
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true, value_parser = trimmed::<f64>)]
    pub rl_beta_law: Vec<f64>,
    /// Points per curve with kl > 0, evenly spaced in sqrt(KL).
    #[arg(long, default_value_t = 40)]
    pub points: usize,
    /// Points per curve at kl = 0.
    #[arg(long, default_value_t = 4)]
    pub baseline_points: usize,
    /// Largest KL of best-of-n curves (nats).
    #[arg(long, default_value_t = 10.0)]
    pub kl_max_bon: f64,
    /// Largest KL of RL curves (nats).
    #[arg(long, default_value_t = 100.0)]
    pub kl_max_rl: f64,
    /// Standard deviation of the Gaussian noise added to gold.
    #[arg(long, default_value_t = 0.02, allow_negative_numbers = true)]
    pub noise: f64,
    /// Write a gold_se column (= --noise), so fits are weighted.
    #[arg(long)]
    pub with_se: bool,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A Curves table (.csv, .parquet, .ndjson, .jsonl), a trainer log (a TensorBoard log
    /// folder too) or a best-of-n dump (several files only for the TensorBoard files of one log).
    #[arg(required_unless_present = "runs")]
    pub files: Vec<PathBuf>,
    /// Rename a column: --map source=canonical (repeatable).
    #[arg(long = "map", value_name = "SOURCE=CANONICAL")]
    pub map: Vec<String>,
    #[command(flatten)]
    pub log: LogArgs,
}

/// `--form`
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormArg {
    /// bon for best-of-n curves, rl for RL curves (the paper's choice)
    Auto,
    /// d*(alpha - beta*d)
    Bon,
    /// d*(alpha - beta*ln(d))
    Rl,
    /// d*(alpha - beta*ln(1+d)), linear
    #[value(name = "rl-log1p")]
    RlLog1p,
    /// d*(alpha - beta*d^gamma), gamma > 0, by nonlinear least squares
    Power,
}

/// `--target`
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TargetArg {
    Gold,
    Proxy,
    /// gold and proxy
    Both,
}

/// `--baseline`
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BaselineArg {
    /// subtract the mean score at kl = 0 and leave those points out of the fit
    Auto,
    /// use scores as they are (kl = 0 points still left out of the fit)
    None,
}

/// `--ci`
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CiArg {
    /// 2.5th and 97.5th percentiles of the replicate fits
    Percentile,
    /// bias-corrected and accelerated percentiles
    Bca,
}

/// `--weights`
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WeightsArg {
    /// 1/se² when the standard-error column is there, else unweighted
    Auto,
    /// unweighted, whatever the columns
    None,
    /// 1/se², the standard-error column required
    Se,
}

#[derive(Debug, Args)]
pub struct FitArgs {
    /// Print the full detail: the lmfit-style report of every fit (parameters, statistics,
    /// correlations, peak, notes) and the shared-alpha, decomposition and form-comparison
    /// reports after the summary table.
    #[arg(long, short, conflicts_with = "quiet")]
    pub verbose: bool,
    /// Curves tables (.csv, .parquet, .ndjson, .jsonl) or trainer logs (see --format, --runs).
    #[arg(required_unless_present = "runs")]
    pub curves: Vec<PathBuf>,
    /// The fits JSON (- for stdout).
    #[arg(long)]
    pub out: PathBuf,
    /// Also write the fits as a flat CSV.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Also write the full lmfit-style report of every fit (what --verbose prints) to this
    /// text file.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// The functional form fitted to each curve.
    #[arg(long, value_enum, default_value_t = FormArg::Auto)]
    pub form: FormArg,
    /// Which score to fit. Default: both when the input has proxy scores, else gold.
    #[arg(long, value_enum)]
    pub target: Option<TargetArg>,
    /// How R(0) = 0 is enforced (kl = 0 points are never fitted: every form is 0 there).
    #[arg(long, value_enum, default_value_t = BaselineArg::Auto)]
    pub baseline: BaselineArg,
    /// Fit weights: auto = 1/se² when the target's standard-error column (gold_se, proxy_se)
    /// is there; none = unweighted; se = 1/se², and an error when the column is missing.
    #[arg(long, value_enum, default_value_t = WeightsArg::Auto)]
    pub weights: WeightsArg,
    /// Prompt-bootstrap replicates for curves with per-prompt values (goodhart bon writes
    /// them): intervals and standard errors from B refits; 0 = Student-t intervals.
    #[arg(long, value_name = "B", default_value_t = 1000)]
    pub bootstrap: usize,
    /// Seed of the prompt bootstrap.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The bootstrap interval: percentile (the default), or bca (bias-corrected and
    /// accelerated, with the acceleration from leave-one-prompt-out fits; per-prompt values
    /// only). Needs bootstrap replicates: a usage error with --bootstrap 0.
    #[arg(long, value_enum)]
    pub ci: Option<CiArg>,
    /// Leave out points with kl below this (nats).
    #[arg(long, allow_negative_numbers = true)]
    pub min_kl: Option<f64>,
    /// Leave out points with kl above this (nats).
    #[arg(long, allow_negative_numbers = true)]
    pub max_kl: Option<f64>,
    /// Fit only kl <= K and report the error on kl > K (the extrapolation test).
    #[arg(long, value_name = "K", allow_negative_numbers = true)]
    pub holdout_above: Option<f64>,
    /// One alpha for all RL curves of a family (same policy_params, rm_data, kl_penalty) and
    /// one beta per curve, as the paper does: one exact block least-squares fit.
    #[arg(long)]
    pub share_alpha_rl: bool,
    /// Fit every form (bon, rl, rl-log1p, power) to every curve and rank them by AIC: SSE, AIC,
    /// BIC and (with --holdout-above) holdout RMSE, best first, in the fits JSON
    /// ("form_comparison") and on stdout.
    #[arg(long)]
    pub compare_forms: bool,
    /// What the Goodhart decomposition standardises proxy and gold by (repeatable): a best-of-n
    /// Samples table of the initial policy (each RM's samples for that RM's curves; the
    /// standard deviations over all its samples, the proxy-gold correlation and the oracle
    /// best-of-n curve), `proxy_sd=X,gold_sd=Y` (for every curve), or `none` (raw units only,
    /// for a proxy already on the gold scale). The raw-unit decomposition is always kept.
    /// Default: raw units only, with a warning.
    #[arg(long, value_name = "SAMPLES|proxy_sd=X,gold_sd=Y|none")]
    pub reference: Vec<String>,
    /// Rename a column: --map source=canonical (repeatable).
    #[arg(long = "map", value_name = "SOURCE=CANONICAL")]
    pub map: Vec<String>,
    #[command(flatten)]
    pub log: LogArgs,
}

/// `--by`
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ByArg {
    #[value(name = "rm_params")]
    RmParams,
    #[value(name = "rm_data")]
    RmData,
    #[value(name = "policy_params")]
    PolicyParams,
}

#[derive(Debug, Args)]
pub struct ScaleArgs {
    /// The fits JSON of `goodhart fit`.
    pub fits: PathBuf,
    /// The scaling JSON (- for stdout).
    #[arg(long)]
    pub out: PathBuf,
    /// The size each coefficient is regressed on (log10); one regression per group of the other keys.
    #[arg(long, value_enum, default_value_t = ByArg::RmParams)]
    pub by: ByArg,
    /// Also fit alpha(N) = a0 + a1*log10 N, beta(N) = b0 + b1*log10 N jointly over all curves of
    /// a method (needs the points: --curves or --runs).
    #[arg(long)]
    pub joint: bool,
    /// The Curves tables the fits came from (for --joint).
    #[arg(long, num_args = 1..)]
    pub curves: Vec<PathBuf>,
    /// Rename a column of the Curves tables: --map source=canonical (repeatable).
    #[arg(long = "map", value_name = "SOURCE=CANONICAL")]
    pub map: Vec<String>,
    #[command(flatten)]
    pub log: LogArgs,
}

/// `--model` of predict
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LawModelArg {
    /// c = a + b*log10(N)
    #[value(name = "log-linear")]
    LogLinear,
    /// c = a*N^b
    Power,
    /// the joint four-parameter fit (scale --joint)
    Joint,
}

/// `--method` of predict
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OneMethodArg {
    Bon,
    Rl,
}

#[derive(Debug, Args)]
pub struct PredictArgs {
    /// The scaling JSON of `goodhart scale`.
    #[arg(long)]
    pub scaling: PathBuf,
    /// RM sizes to predict (comma-separated).
    #[arg(
        long,
        value_delimiter = ',',
        required = true,
        allow_negative_numbers = true,
        value_parser = trimmed::<f64>
    )]
    pub rm_params: Vec<f64>,
    /// Only this method (default: every method in the scaling file).
    #[arg(long, value_enum)]
    pub method: Option<OneMethodArg>,
    /// KL grid of the predicted curves: start:stop:step or a list (default: 101 points up to twice the peak KL).
    #[arg(long, allow_negative_numbers = true)]
    pub kl: Option<String>,
    /// Also predict iterated RLHF with K iterations: R_k(d) = d(alpha - beta ln d + beta ln k).
    #[arg(long, value_name = "K")]
    pub iterations: Option<u32>,
    /// Which laws to use.
    #[arg(long, value_enum, default_value_t = LawModelArg::LogLinear)]
    pub model: LawModelArg,
    /// Output: .json, or .csv/.parquet/.ndjson for one row per curve point (- for JSON on stdout).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Curves tables (.csv, .parquet, .ndjson, .jsonl): the best-of-n curves and the RL runs.
    #[arg(required = true)]
    pub curves: Vec<PathBuf>,
    /// Best-of-n Samples tables of the initial policy (repeatable): their gold standard
    /// deviation is the unit of the gold differences (`*_sd`); without them, gold units only.
    #[arg(long, value_name = "S")]
    pub samples: Vec<PathBuf>,
    /// The reward-models table (rm_params, rm_data, val_loss, val_accuracy): validation
    /// metrics against RM size and the fitted gold peaks.
    #[arg(long, value_name = "FILE")]
    pub reward_models: Option<PathBuf>,
    /// The iterated-RLHF table (rm_params, rounds, round, step, kl, d_sum, gold, ...):
    /// simulated k-round runs against the paper's formula.
    #[arg(long, value_name = "FILE")]
    pub iterated: Option<PathBuf>,
    /// The fits JSON of `goodhart fit` (default: fitted here, as `goodhart report` does).
    #[arg(long, value_name = "F")]
    pub fits: Option<PathBuf>,
    /// The analyses JSON (- for stdout).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Also write the analyses as a flat table (one row per record and quantity).
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Curves tables (.csv, .parquet, .ndjson, .jsonl, or a log format: see --format, --runs).
    #[arg(required_unless_present = "runs")]
    pub curves: Vec<PathBuf>,
    /// Best-of-n Samples tables or dumps (repeatable): adds the decomposition from samples
    /// (--rm-params for files without an rm_params column).
    #[arg(long, value_name = "S")]
    pub samples: Vec<PathBuf>,
    /// The fits JSON of `goodhart fit` (default: fitted here, as `goodhart fit` does).
    #[arg(long, value_name = "F")]
    pub fits: Option<PathBuf>,
    /// The scaling JSON of `goodhart scale` (default: computed here from the fits).
    #[arg(long, value_name = "S")]
    pub scaling: Option<PathBuf>,
    /// What the Goodhart decomposition standardises proxy and gold by (repeatable): a best-of-n
    /// Samples table of the initial policy (each RM's samples for that RM's curves; the
    /// standard deviations over all its samples, the proxy-gold correlation and the oracle
    /// best-of-n curve), `proxy_sd=X,gold_sd=Y` (for every curve), or `none` (raw units only,
    /// for a proxy already on the gold scale). The raw-unit decomposition is always kept.
    /// Default: the --samples given (raw units only without them).
    #[arg(long, value_name = "SAMPLES|proxy_sd=X,gold_sd=Y|none")]
    pub reference: Vec<String>,
    /// The reward-models table (as `goodhart analyze --reward-models`): adds the validation
    /// figure and table.
    #[arg(long, value_name = "FILE")]
    pub reward_models: Option<PathBuf>,
    /// The iterated-RLHF table (as `goodhart analyze --iterated`): the simulated rounds in the
    /// iterated-RLHF figure.
    #[arg(long, value_name = "FILE")]
    pub iterated: Option<PathBuf>,
    /// Folder that receives the figures (PNG, SVG), report.html and report.md; created, with its
    /// parents, when it does not exist.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Rename a column of the Curves tables: --map source=canonical (repeatable).
    #[arg(long = "map", value_name = "SOURCE=CANONICAL")]
    pub map: Vec<String>,
    #[command(flatten)]
    pub log: LogArgs,
}
