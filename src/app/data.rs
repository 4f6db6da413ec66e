//! The data commands: `inspect`, `bon`, `convert`, `generate law` and `generate sim`.

use super::cli::{
    BonAction, BonArgs, CommonPromptsArg, ConvertArgs, InspectArgs, KlArg, LawArgs, MethodArg,
    SimArgs,
};
use super::{print_all, print_out, print_wrote};
use crate::bon::{BonOptions, CommonPrompts, KlChoice};
use crate::error::{Error, Result};
use crate::generate::law::{Coefficient, LawSpec};
use crate::ingest::{ColumnMap, LogFormat};
use crate::output::{Sink, ensure_not_input};
use crate::schema::{CURVES, Method};

/// Runs a parsed `goodhart inspect` command line.
pub fn inspect(a: &InspectArgs, quiet: bool) -> Result<()> {
    let opts = a.log.options()?;
    let map = match opts.format {
        Some(LogFormat::BonJson) => ColumnMap::default(),
        _ => ColumnMap::parse(&a.map, CURVES)?,
    };
    if let Some(runs) = &opts.runs {
        if !a.files.is_empty() {
            return Err(Error::Usage(
                "inspect either files or a runs manifest (--runs), not both".to_string(),
            ));
        }
        let plan = crate::ingest::manifest::read(runs, &opts)?.plan(&map)?;
        return print_out(quiet, &plan);
    }
    let report = crate::inspect::inspect_logs(&a.files, &map, &a.map, &opts)?;
    print_out(quiet, &report.to_string())?;
    if report.is_fittable() {
        Ok(())
    } else {
        Err(Error::Analysis(format!(
            "{}: {} problem(s) would stop {} (listed above)",
            report.path.display(),
            report.problems.len(),
            match report.table {
                crate::inspect::TableKind::Curves => "a fit",
                crate::inspect::TableKind::Samples => "`goodhart bon`",
            }
        )))
    }
}

/// Runs a parsed `goodhart bon` command line.
pub fn bon(a: &BonArgs, quiet: bool) -> Result<()> {
    if let Some(BonAction::Merge(m)) = &a.action {
        ensure_not_input(&m.out, &m.partials)?;
        super::table_output("--out", &m.out, false)?;
        let summary = crate::bon::partial::run_merge(&m.partials, &m.out)?;
        print_all(quiet, "warning", &summary.notes);
        if m.out.as_os_str() != "-" {
            let [read, merge, write] = summary.seconds;
            print_wrote(
                quiet,
                &m.out,
                &format!(
                    "{} rows: {} curve(s) from {} partial table(s), {} pools; read {read:.3} s, merge {merge:.3} s, write {write:.3} s",
                    summary.rows,
                    summary.curves,
                    m.partials.len(),
                    summary.pools
                ),
            );
        }
        return Ok(());
    }
    // clap requires --out without a subcommand
    let out = a
        .out
        .as_deref()
        .ok_or_else(|| crate::error::Error::Usage("bon: --out is required".to_string()))?;
    ensure_not_input(out, &a.samples)?;
    super::table_output("--out", out, false)?;
    if a.log.runs.is_some() {
        return Err(Error::Usage(
            "--runs lists trainer logs (curves); goodhart bon reads best-of-n samples: give the samples files".to_string(),
        ));
    }
    let opts = BonOptions {
        n: (!a.n.is_empty()).then(|| a.n.clone()),
        bootstrap: a.bootstrap,
        seed: a.seed,
        kl: match a.kl {
            KlArg::Analytic => KlChoice::Analytic,
            KlArg::Pool => KlChoice::Pool,
        },
    };
    let common = a.common_prompts.map(|c| match c {
        CommonPromptsArg::Truncate => CommonPrompts::Truncate,
        CommonPromptsArg::Complete => CommonPrompts::Complete,
    });
    let logs = a.log.options()?;
    crate::ingest::metadata::check_samples_flags(&logs)?;
    let summary = if a.partial {
        let options = crate::bon::PartialOptions {
            bon: opts,
            common,
            prompt_values: !a.no_prompt_values,
        };
        crate::bon::partial::run_partial(&a.samples, out, &a.map, &logs, &options)?
    } else {
        crate::bon::run(
            &a.samples,
            out,
            &a.map,
            &logs,
            &opts,
            &crate::bon::RunOptions {
                common,
                prompt_values: !a.no_prompt_values,
                progress: super::progress::for_terminal(quiet),
            },
        )?
    };
    print_all(quiet, "warning", &summary.notes);
    if out.as_os_str() != "-" {
        let [read, estimate, write] = summary.seconds;
        let phases = match summary.together {
            Some(how) => format!(
                "read and estimate {read:.3} s ({}), write {write:.3} s",
                how.describe()
            ),
            None => format!("read {read:.3} s, estimate {estimate:.3} s, write {write:.3} s"),
        };
        print_wrote(
            quiet,
            out,
            &format!(
                "{} {}rows: {} curve(s) from {} samples in {} pools; {phases}",
                summary.rows,
                if a.partial { "partial-table " } else { "" },
                summary.curves,
                summary.samples,
                summary.pools
            ),
        );
    }
    Ok(())
}

/// Runs a parsed `goodhart convert` command line.
pub fn convert(a: &ConvertArgs, quiet: bool) -> Result<()> {
    let opts = a.log.options()?;
    ensure_not_input(&a.out, &super::manifest_inputs(&opts)?)?;
    super::table_output("--out", &a.out, false)?;
    let s = crate::convert::convert(&a.inputs, &a.out, &a.map, &opts)?;
    print_all(quiet, "warning", &s.warnings);
    print_all(quiet, "note", &s.notes);
    if a.out.as_os_str() != "-" {
        print_wrote(quiet, &a.out, &format!("{} {} rows", s.rows, s.table));
    }
    Ok(())
}

fn coefficient(
    name: &str,
    values: &[f64],
    law: &[f64],
    default: Coefficient,
) -> Result<Coefficient> {
    match (values.is_empty(), law.len()) {
        (false, _) => Ok(Coefficient::Values(values.to_vec())),
        (true, 0) => Ok(default),
        (true, 2) => Ok(Coefficient::LogLinear {
            a: law[0],
            b: law[1],
        }),
        (true, k) => Err(Error::Usage(format!(
            "--{name}-law takes two numbers a,b (c = a + b*log10(rm_params)), not {k}"
        ))),
    }
}

/// The generator settings a `generate law` command line describes.
pub fn law_spec(a: &LawArgs) -> Result<LawSpec> {
    let d = LawSpec::default();
    Ok(LawSpec {
        methods: match a.method {
            MethodArg::Bon => vec![Method::Bon],
            MethodArg::Rl => vec![Method::Rl],
            MethodArg::Both => vec![Method::Bon, Method::Rl],
        },
        rm_params: if a.rm_params.is_empty() {
            d.rm_params
        } else {
            a.rm_params.clone()
        },
        bon_alpha: coefficient("bon-alpha", &a.bon_alpha, &a.bon_alpha_law, d.bon_alpha)?,
        bon_beta: coefficient("bon-beta", &a.bon_beta, &a.bon_beta_law, d.bon_beta)?,
        rl_alpha: coefficient("rl-alpha", &a.rl_alpha, &a.rl_alpha_law, d.rl_alpha)?,
        rl_beta: coefficient("rl-beta", &a.rl_beta, &a.rl_beta_law, d.rl_beta)?,
        kl_max_bon: a.kl_max_bon,
        kl_max_rl: a.kl_max_rl,
        points: a.points,
        baseline_points: a.baseline_points,
        noise: a.noise,
        with_se: a.with_se,
        seed: a.seed,
    })
}

/// Runs a parsed `goodhart generate law` command line.
pub fn generate_law(a: &LawArgs, quiet: bool) -> Result<()> {
    let spec = law_spec(a)?;
    super::table_output("--out", &a.out, false)?;
    let out = Sink::create(&a.out)?;
    let table = spec.generate()?;
    let bytes = table.to_bytes_for(&a.out)?;
    let rows = table.n_rows();
    let target = out.path().map(|p| p.to_path_buf());
    out.commit(&bytes)?;
    if let Some(t) = target {
        print_wrote(quiet, &t, &format!("{rows} Curves rows"));
    }
    Ok(())
}

/// The spec a `generate sim` command line describes: the preset, with every given flag on top.
pub fn generate_tokens(a: &super::cli::TokensArgs, quiet: bool) -> Result<()> {
    use super::cli::TokensPresetArg;
    use crate::generate::sim::Progress;
    use crate::generate::tokens::{TOKEN_FILES, TokenPreset, TokenSpec, write_token_world};
    let mut s = TokenSpec::preset(match a.preset {
        TokensPresetArg::Small => TokenPreset::Small,
        TokensPresetArg::Test => TokenPreset::Test,
    });
    s.seed = a.seed;
    if let Some(v) = a.policy_rho {
        s.policy_rho = v;
    }
    if let Some(v) = a.rl_steps {
        s.rl_steps = v;
    }
    if let Some(v) = a.rl_lr {
        s.rl_lr = v;
    }
    if !a.policy_widths.is_empty() {
        s.policy_widths = a.policy_widths.clone();
        s.policy_width_main = a.policy_widths[0];
    }
    if !a.kl_penalties.is_empty() {
        s.kl_penalties = a.kl_penalties.clone();
    }
    let before = files_from_before(&a.out, &TOKEN_FILES);
    let out = write_token_world(
        &s,
        &a.out,
        Progress::new(super::progress::for_terminal(quiet)),
    )?;
    warn_files_from_before(quiet, &a.out, &before);
    let [rm, bon, rl] = out.seconds;
    print_wrote(
        quiet,
        &a.out,
        &format!(
            "{} with {} samples, {} with {} RL points, {} with {} reward models, {} with {} points, {}; reward models {rm:.1} s, best-of-n {bon:.1} s, RL {rl:.1} s",
            TOKEN_FILES[0],
            out.bon_samples.n_rows(),
            TOKEN_FILES[1],
            out.rl_runs.n_rows(),
            TOKEN_FILES[2],
            out.reward_models.n_rows(),
            TOKEN_FILES[3],
            out.iterated.n_rows(),
            TOKEN_FILES[4],
        ),
    );
    Ok(())
}

pub fn spec_from_args(a: &SimArgs) -> crate::generate::sim::SimSpec {
    use super::cli::{SimLabelsArg, SimPolicyArg, SimPresetArg};
    use crate::generate::sim::policy::PolicyFamily;
    use crate::generate::sim::{Labels, Preset, SimSpec};
    let mut s = SimSpec::preset(match a.preset {
        SimPresetArg::Small => Preset::Small,
        SimPresetArg::Paper => Preset::Paper,
    });
    s.seed = a.seed;
    macro_rules! set {
        ($($field:ident),*) => {$(if let Some(v) = a.$field { s.$field = v; })*};
    }
    set!(
        dim,
        gold_hidden,
        gold_typicality,
        rm_val,
        rm_epochs,
        rm_batch,
        rm_lr,
        norm_samples,
        prompts,
        samples_per_prompt
    );
    let rl = &a.rl;
    macro_rules! set_rl {
        ($($field:ident),*) => {$(if let Some(v) = rl.$field { s.$field = v; })*};
    }
    set_rl!(
        rl_steps,
        rl_batch,
        rl_lr,
        rl_log_every,
        rl_eval_samples,
        rl_seeds
    );
    if let Some(l) = a.labels {
        s.labels = match l {
            SimLabelsArg::Deterministic => Labels::Deterministic,
            SimLabelsArg::Sampled => Labels::Sampled,
        };
    }
    if !a.rm_hidden.is_empty() {
        s.rm_hidden = a.rm_hidden.clone();
    }
    if !a.rm_data.is_empty() {
        s.rm_data = a.rm_data.clone();
    }
    if !rl.policies.is_empty() {
        s.policies = rl
            .policies
            .iter()
            .map(|p| match p {
                SimPolicyArg::Diag => PolicyFamily::Diag,
                SimPolicyArg::Full => PolicyFamily::Full,
            })
            .collect();
    }
    if !rl.kl_penalties.is_empty() {
        s.kl_penalties = rl.kl_penalties.clone();
    }
    s
}

/// Runs a parsed `goodhart generate sim` command line.
pub fn generate_sim(a: &SimArgs, quiet: bool) -> Result<()> {
    use crate::generate::sim::{Progress, SIM_FILES, write_world};
    let spec = spec_from_args(a);
    let before = files_from_before(&a.out, &SIM_FILES);
    let out = write_world(
        &spec,
        &a.out,
        Progress::new(super::progress::for_terminal(quiet)),
    )?;
    warn_files_from_before(quiet, &a.out, &before);
    let [rm, bon, rl] = out.seconds;
    print_wrote(
        quiet,
        &a.out,
        &format!(
            "{} with {} samples, {} with {} RL points, {} with {} reward models, {}; reward models {rm:.1} s, best-of-n {bon:.1} s, RL {rl:.1} s",
            SIM_FILES[0],
            out.bon_samples.n_rows(),
            SIM_FILES[1],
            out.rl_runs.n_rows(),
            SIM_FILES[2],
            out.reward_models.n_rows(),
            SIM_FILES[3],
        ),
    );
    Ok(())
}

/// The visible files of an existing output folder that a generator does not write (`files`):
/// tables made from an earlier world, such as `bon_curves.csv` or `fits.json`.
pub(super) fn files_from_before(dir: &std::path::Path, files: &[&str]) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.') && !files.contains(&n.as_str()))
        .collect();
    names.sort();
    names
}

/// Says that a regenerated folder still holds files made from the world it replaced.
pub(super) fn warn_files_from_before(quiet: bool, dir: &std::path::Path, before: &[String]) {
    if before.is_empty() {
        return;
    }
    print_all(
        quiet,
        "warning",
        &[format!(
            "{} also holds {} from before this run: they were not made from this world (remove them, or write into a new folder)",
            dir.display(),
            before.join(", ")
        )],
    );
}
