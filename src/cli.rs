//! The command line: clap definitions only; the work is done by library calls in `commands`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// goodhart: scaling laws of reward-model overoptimization from RLHF and best-of-n logs.
#[derive(Debug, Parser)]
#[command(name = "goodhart", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Print nothing but errors (no report, no warnings, no progress).
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the main job on the bundled default data: generate, fit, write data/ and fits/.
    #[command(after_help = "Example:\n  goodhart demo                 # into ./data, ./fits, ./plots\n  goodhart demo --out /tmp/demo --seed 1")]
    Demo(DemoArgs),
    /// Generate data.
    #[command(subcommand)]
    Generate(GenerateKind),
    /// Describe a Curves file: format, columns and how they map, curves, problems.
    #[command(after_help = "Example:\n  goodhart inspect data/law_curves.csv\n  goodhart inspect runs.parquet --map kl_nats=kl --map score=gold")]
    Inspect(InspectArgs),
    /// Fit the scaling forms to every curve and write the fits JSON (and CSV).
    #[command(after_help = "Examples:\n  goodhart fit data/law_curves.csv --out fits.json --csv fits.csv\n  goodhart fit runs.csv --out fits.json --target gold --holdout-above 4\n  goodhart fit runs.ndjson --map kl_nats=kl --out - --quiet | jq '.fits[0].peak'")]
    Fit(FitArgs),
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder that receives data/, fits/ and plots/.
    #[arg(long, default_value = ".")]
    pub out: PathBuf,
    /// Random seed of the generated data.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

#[derive(Debug, Subcommand)]
pub enum GenerateKind {
    /// Curves from known coefficients of the paper's forms plus seeded Gaussian noise.
    #[command(after_help = "Examples:\n  goodhart generate law --out law.csv\n  goodhart generate law --out law.parquet --method bon --rm-params 1e7,1e8,1e9 \\\n      --bon-alpha-law 0.3,0.065 --bon-beta 0.2 --noise 0.05 --seed 7")]
    Law(LawArgs),
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
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
    pub rm_params: Vec<f64>,
    /// alpha_bon: one value, or one per RM size.
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true, conflicts_with = "bon_alpha_law")]
    pub bon_alpha: Vec<f64>,
    /// alpha_bon = a + b*log10(rm_params), given as a,b. Default 0.30,0.065.
    #[arg(long, value_delimiter = ',', num_args = 1, allow_negative_numbers = true)]
    pub bon_alpha_law: Vec<f64>,
    /// beta_bon: one value, or one per RM size.
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true, conflicts_with = "bon_beta_law")]
    pub bon_beta: Vec<f64>,
    /// beta_bon = a + b*log10(rm_params), given as a,b. Default 0.45,-0.035.
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
    pub bon_beta_law: Vec<f64>,
    /// alpha_RL: one value, or one per RM size. Default 0.5 for every size.
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true, conflicts_with = "rl_alpha_law")]
    pub rl_alpha: Vec<f64>,
    /// alpha_RL = a + b*log10(rm_params), given as a,b.
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
    pub rl_alpha_law: Vec<f64>,
    /// beta_RL: one value, or one per RM size.
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true, conflicts_with = "rl_beta_law")]
    pub rl_beta: Vec<f64>,
    /// beta_RL = a + b*log10(rm_params), given as a,b. Default 0.45,-0.03.
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
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
    /// A Curves table (.csv, .parquet, .ndjson, .jsonl).
    pub file: PathBuf,
    /// Rename a column: --map source=canonical (repeatable).
    #[arg(long = "map", value_name = "SOURCE=CANONICAL")]
    pub map: Vec<String>,
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
    /// use scores as they are
    None,
}

#[derive(Debug, Args)]
pub struct FitArgs {
    /// Curves tables (.csv, .parquet, .ndjson, .jsonl).
    #[arg(required = true)]
    pub curves: Vec<PathBuf>,
    /// The fits JSON (- for stdout).
    #[arg(long)]
    pub out: PathBuf,
    /// Also write the fits as a flat CSV.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = FormArg::Auto)]
    pub form: FormArg,
    /// Default: both when the input has proxy scores, else gold.
    #[arg(long, value_enum)]
    pub target: Option<TargetArg>,
    #[arg(long, value_enum, default_value_t = BaselineArg::Auto)]
    pub baseline: BaselineArg,
    /// Leave out points with kl below this (nats).
    #[arg(long, allow_negative_numbers = true)]
    pub min_kl: Option<f64>,
    /// Leave out points with kl above this (nats).
    #[arg(long, allow_negative_numbers = true)]
    pub max_kl: Option<f64>,
    /// Fit only kl <= K and report the error on kl > K (the extrapolation test).
    #[arg(long, value_name = "K", allow_negative_numbers = true)]
    pub holdout_above: Option<f64>,
    /// Rename a column: --map source=canonical (repeatable).
    #[arg(long = "map", value_name = "SOURCE=CANONICAL")]
    pub map: Vec<String>,
}
