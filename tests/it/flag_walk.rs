//! No silently ignored flag (issue #15): every argument of every subcommand, as clap defines
//! it (`Cli::command()`), is classified in [`CASES`], and each case is run: an `Effect` flag
//! must change what the command does (exit status, stdout, stderr or the files it writes)
//! against the same invocation without it (or with the base's other value of it), and a
//! `Refused` flag must stop the command with a usage error (exit 2) whose message names the
//! flag and why, writing nothing. A flag added later fails `every_flag_is_classified` until it
//! has a case here.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use clap::CommandFactory;
use goodhart::app::cli::Cli;

use crate::common::TestDir;

/// What a flag must do in one invocation.
enum Check {
    /// These arguments (the flag and its value) change the outcome of the base invocation
    /// (exit status, stdout, stderr or a file written), and are not refused (exit 2).
    Effect(&'static [&'static str]),
    /// These arguments make the base invocation a usage error (exit 2) naming the flag and
    /// containing the reason fragment.
    Refused(&'static [&'static str], &'static str),
    /// Given in every base invocation of the command; without it clap refuses (checked).
    Required,
    /// Too expensive to run twice here; the test that checks it.
    Elsewhere(&'static str),
}

use Check::{Effect, Elsewhere, Refused, Required};

/// One (subcommand, flag) case: the base invocation and what the flag must do to it.
struct Case {
    command: &'static str,
    flag: &'static str,
    base: &'static [&'static str],
    check: Check,
}

const fn case(
    command: &'static str,
    flag: &'static str,
    base: &'static [&'static str],
    check: Check,
) -> Case {
    Case {
        command,
        flag,
        base,
        check,
    }
}

// Base invocations. Tidy inputs: rl.csv (one RL curve with method, rm_params, kl, gold,
// proxy), law.csv (bon and rl curves of three sizes); trainer log: trainer_state.json (TRL PPO)
// with gold.csv; samples_rm.csv (a Samples table with rm_params, pools of unequal size).
const FIT: &[&str] = &["fit", "rl.csv", "--out", "o.json"];
const FIT_LAW: &[&str] = &["fit", "law.csv", "--out", "o.json"];
const FIT_BON: &[&str] = &["fit", "bon.csv", "--out", "o.json", "--bootstrap", "40"];
const FIT_BON_BCA: &[&str] = &[
    "fit",
    "bon.csv",
    "--out",
    "o.json",
    "--bootstrap",
    "40",
    "--ci",
    "bca",
];
const FIT_BON_NONE: &[&str] = &["fit", "bon.csv", "--out", "o.json", "--bootstrap", "0"];
const FIT_SE: &[&str] = &["fit", "se.csv", "--out", "o.json"];
const FIT_NOMETHOD: &[&str] = &["fit", "nomethod.csv", "--out", "o.json"];
const FIT_NORM: &[&str] = &["fit", "norm.csv", "--out", "o.json"];
const FIT_KLNATS: &[&str] = &["fit", "klnats.csv", "--out", "o.json"];
const FIT_LOG: &[&str] = &[
    "fit",
    "trainer_state.json",
    "--gold-from",
    "gold.csv",
    "--rm-params",
    "1.2e9",
    "--out",
    "o.json",
];
const FIT_LOG_NOGOLD: &[&str] = &[
    "fit",
    "trainer_state.json",
    "--rm-params",
    "1.2e9",
    "--out",
    "o.json",
];
const FIT_LOG_OFF: &[&str] = &[
    "fit",
    "trainer_state.json",
    "--gold-from",
    "gold_off.csv",
    "--rm-params",
    "1.2e9",
    "--out",
    "o.json",
];
const FIT_LOG_NORM: &[&str] = &[
    "fit",
    "trainer_state.json",
    "--gold-from",
    "gold.csv",
    "--out",
    "o.json",
];

const FIT_GRPO: &[&str] = &[
    "fit",
    "grpo.json",
    "--rm-params",
    "1e9",
    "--gold-key",
    "eval_gold",
    "--out",
    "o.json",
];

const INSPECT: &[&str] = &["inspect", "rl.csv"];
const INSPECT_GRPO: &[&str] = &[
    "inspect",
    "grpo.json",
    "--rm-params",
    "1e9",
    "--gold-key",
    "eval_gold",
];
const INSPECT_LOG_NORM: &[&str] = &["inspect", "trainer_state.json", "--gold-from", "gold.csv"];
const INSPECT_NOMETHOD: &[&str] = &["inspect", "nomethod.csv"];
const INSPECT_NORM: &[&str] = &["inspect", "norm.csv"];
const INSPECT_KLNATS: &[&str] = &["inspect", "klnats.csv"];
const INSPECT_LOG: &[&str] = &[
    "inspect",
    "trainer_state.json",
    "--gold-from",
    "gold.csv",
    "--rm-params",
    "1.2e9",
];
const INSPECT_LOG_NOGOLD: &[&str] = &["inspect", "trainer_state.json", "--rm-params", "1.2e9"];
const INSPECT_LOG_OFF: &[&str] = &[
    "inspect",
    "trainer_state.json",
    "--gold-from",
    "gold_off.csv",
    "--rm-params",
    "1.2e9",
];

const CONVERT: &[&str] = &["convert", "rl.csv", "--out", "c.csv"];
const CONVERT_GRPO: &[&str] = &[
    "convert",
    "grpo.json",
    "--rm-params",
    "1e9",
    "--gold-key",
    "eval_gold",
    "--out",
    "c.csv",
];
const CONVERT_LOG_NORM: &[&str] = &[
    "convert",
    "trainer_state.json",
    "--gold-from",
    "gold.csv",
    "--out",
    "c.csv",
];
const CONVERT_NOMETHOD: &[&str] = &["convert", "nomethod.csv", "--out", "c.csv"];
const CONVERT_NORM: &[&str] = &["convert", "norm.csv", "--out", "c.csv"];
const CONVERT_KLNATS: &[&str] = &["convert", "klnats.csv", "--out", "c.csv"];
const CONVERT_LOG: &[&str] = &[
    "convert",
    "trainer_state.json",
    "--gold-from",
    "gold.csv",
    "--rm-params",
    "1.2e9",
    "--out",
    "c.csv",
];
const CONVERT_LOG_NOGOLD: &[&str] = &[
    "convert",
    "trainer_state.json",
    "--rm-params",
    "1.2e9",
    "--out",
    "c.csv",
];
const CONVERT_LOG_OFF: &[&str] = &[
    "convert",
    "trainer_state.json",
    "--gold-from",
    "gold_off.csv",
    "--rm-params",
    "1.2e9",
    "--out",
    "c.csv",
];

const BON: &[&str] = &["bon", "samples_rm.csv", "--out", "b.csv"];
const BON_NORM: &[&str] = &["bon", "samples.csv", "--out", "b.csv"];
const BON_BOOT: &[&str] = &[
    "bon",
    "samples_rm.csv",
    "--out",
    "b.csv",
    "--bootstrap",
    "3",
];
const BON_CAPS: &[&str] = &["bon", "samples_caps.csv", "--out", "b.csv"];
const BON_MERGE: &[&str] = &["bon", "merge", "part.csv", "--out", "m.csv"];
const COMPLETIONS: &[&str] = &["completions", "bash"];

const SCALE: &[&str] = &["scale", "fits.json", "--out", "s.json"];
const SCALE_JOINT: &[&str] = &[
    "scale",
    "fits.json",
    "--out",
    "s.json",
    "--joint",
    "--curves",
    "law.csv",
];

const PREDICT: &[&str] = &[
    "predict",
    "--scaling",
    "scaling.json",
    "--rm-params",
    "1e10",
    "--out",
    "p.json",
];

const ANALYZE: &[&str] = &["analyze", "law.csv", "--out", "a.json"];
const ANALYZE_RM: &[&str] = &[
    "analyze",
    "law.csv",
    "--reward-models",
    "rm.csv",
    "--out",
    "a.json",
];
const REPORT: &[&str] = &["report", "rl.csv", "--out", "rep"];
const REPORT_LAW: &[&str] = &["report", "law.csv", "--out", "rep"];
const REPORT_BON: &[&str] = &["report", "bon.csv", "--out", "rep"];
const REPORT_NOMETHOD: &[&str] = &["report", "nomethod.csv", "--out", "rep"];
const REPORT_NORM: &[&str] = &["report", "norm.csv", "--out", "rep"];
const REPORT_KLNATS: &[&str] = &["report", "klnats.csv", "--out", "rep"];
const REPORT_LOG: &[&str] = &[
    "report",
    "trainer_state.json",
    "--gold-from",
    "gold.csv",
    "--rm-params",
    "1.2e9",
    "--out",
    "rep",
];

const REPORT_LOG_NOGOLD: &[&str] = &[
    "report",
    "trainer_state.json",
    "--rm-params",
    "1.2e9",
    "--out",
    "rep",
];
const REPORT_LOG_OFF: &[&str] = &[
    "report",
    "trainer_state.json",
    "--gold-from",
    "gold_off.csv",
    "--rm-params",
    "1.2e9",
    "--out",
    "rep",
];
const REPORT_LOG_NORM: &[&str] = &[
    "report",
    "trainer_state.json",
    "--gold-from",
    "gold.csv",
    "--out",
    "rep",
];
const REPORT_GRPO: &[&str] = &[
    "report",
    "grpo.json",
    "--rm-params",
    "1e9",
    "--gold-key",
    "eval_gold",
    "--out",
    "rep",
];

const LAW: &[&str] = &["generate", "law", "--out", "l.csv"];

const SIM: &[&str] = &[
    "generate",
    "sim",
    "--out",
    "sim",
    "--dim",
    "4",
    "--rm-hidden",
    "0,2",
    "--rm-data",
    "150",
    "--rm-val",
    "100",
    "--rm-epochs",
    "2",
    "--norm-samples",
    "500",
    "--prompts",
    "6",
    "--samples-per-prompt",
    "16",
    "--rl-steps",
    "10",
    "--rl-eval-samples",
    "32",
    "--rl-log-every",
    "5",
    "--kl-penalties",
    "0",
];

const TOKENS: &[&str] = &[
    "generate",
    "tokens",
    "--out",
    "tok",
    "--preset",
    "test",
    "--rl-steps",
    "20",
];

const KEY_TIDY: &str = "names a key of a trainer log";
const CONTRADICTS: &str = "contradicts column";
const NOT_JOINT: &str = "without --joint";
const RUN_UNUSED: &str = "not by run";

/// The cases of the flags every log-reading command shares (`LogArgs`), for a command whose
/// tidy, log and other bases are given. `run_effect`: the command writes or shows the run
/// column (convert, inspect); else `--run` is refused.
macro_rules! log_cases {
    ($cmd:expr, $tidy:expr, $nomethod:expr, $norm:expr, $log:expr, $log_nogold:expr, $log_off:expr, $log_norm:expr, $grpo:expr, $run_effect:expr) => {
        [
            case($cmd, "--format", $tidy, Effect(&["--format", "trl"])),
            case(
                $cmd,
                "--kl-key",
                $tidy,
                Refused(&["--kl-key", "kl_nats"], KEY_TIDY),
            ),
            case(
                $cmd,
                "--kl-key",
                $log,
                // A key of unknown unit needs --kl-unit; sequence is the default key's unit.
                Effect(&["--kl-key", "objective/rlhf_reward", "--kl-unit", "sequence"]),
            ),
            case(
                $cmd,
                "--proxy-key",
                $tidy,
                Refused(&["--proxy-key", "p"], KEY_TIDY),
            ),
            case(
                $cmd,
                "--proxy-key",
                $log,
                Effect(&["--proxy-key", "objective/rlhf_reward"]),
            ),
            case(
                $cmd,
                "--gold-key",
                $tidy,
                Refused(&["--gold-key", "g"], KEY_TIDY),
            ),
            case($cmd, "--gold-key", $log, Effect(&["--gold-key", "score"])),
            case(
                $cmd,
                "--step-key",
                $tidy,
                Refused(&["--step-key", "s"], KEY_TIDY),
            ),
            case($cmd, "--step-key", $log, Effect(&["--step-key", "epoch"])),
            case(
                $cmd,
                "--length-key",
                $tidy,
                Refused(&["--length-key", "len"], "per sequence already"),
            ),
            case(
                $cmd,
                "--length-key",
                $log,
                Refused(&["--length-key", "loss"], "per sequence already"),
            ),
            case(
                $cmd,
                "--length-key",
                $grpo,
                Effect(&["--length-key", "completions/mean_length"]),
            ),
            case(
                $cmd,
                "--kl-unit",
                $tidy,
                Refused(&["--kl-unit", "token"], "KL per sequence"),
            ),
            case($cmd, "--kl-unit", $log, Effect(&["--kl-unit", "token"])),
            case(
                $cmd,
                "--gold-from",
                $tidy,
                Refused(&["--gold-from", "gold.csv"], "joins gold to a trainer log"),
            ),
            case(
                $cmd,
                "--gold-from",
                $log_nogold,
                Effect(&["--gold-from", "gold.csv"]),
            ),
            case(
                $cmd,
                "--join-tolerance",
                $tidy,
                Refused(
                    &["--join-tolerance", "2"],
                    "--gold-from, which is not given",
                ),
            ),
            case(
                $cmd,
                "--join-tolerance",
                $log_off,
                Effect(&["--join-tolerance", "2"]),
            ),
            case($cmd, "--meta", $tidy, Effect(&["--meta", "side.json"])),
            case($cmd, "--meta", $log, Effect(&["--meta", "side.json"])),
            case(
                $cmd,
                "--method",
                $tidy,
                Refused(&["--method", "bon"], CONTRADICTS),
            ),
            case($cmd, "--method", $nomethod, Effect(&["--method", "rl"])),
            case($cmd, "--method", $log, Effect(&["--method", "bon"])),
            case(
                $cmd,
                "--rm-params",
                $tidy,
                Refused(&["--rm-params", "1e9"], CONTRADICTS),
            ),
            case($cmd, "--rm-params", $norm, Effect(&["--rm-params", "1e9"])),
            case(
                $cmd,
                "--rm-params",
                $log_norm,
                Effect(&["--rm-params", "1e9"]),
            ),
            case(
                $cmd,
                "--kl-penalty",
                $tidy,
                Effect(&["--kl-penalty", "0.1"]),
            ),
            case($cmd, "--kl-penalty", $log, Effect(&["--kl-penalty", "0.1"])),
            case(
                $cmd,
                "--policy-params",
                $tidy,
                Effect(&["--policy-params", "7e9"]),
            ),
            case(
                $cmd,
                "--policy-params",
                $log,
                Effect(&["--policy-params", "7e9"]),
            ),
            case($cmd, "--rm-data", $tidy, Effect(&["--rm-data", "5e4"])),
            case($cmd, "--rm-data", $log, Effect(&["--rm-data", "5e4"])),
            if $run_effect {
                case($cmd, "--run", $tidy, Effect(&["--run", "r1"]))
            } else {
                case($cmd, "--run", $tidy, Refused(&["--run", "r1"], RUN_UNUSED))
            },
            if $run_effect {
                case($cmd, "--run", $log, Effect(&["--run", "r1"]))
            } else {
                case(
                    $cmd,
                    "--run",
                    $log_nogold,
                    Refused(&["--run", "r1"], RUN_UNUSED),
                )
            },
        ]
    };
}

fn cases() -> Vec<Case> {
    let mut v = vec![
        // demo: one run regenerates the whole demo (minutes); tests/it/demo.rs runs it.
        case(
            "demo",
            "--out",
            &[],
            Elsewhere("demo::demo_reproduces_the_committed_outputs"),
        ),
        case(
            "demo",
            "--seed",
            &[],
            Elsewhere("demo::demo_prints_a_summary_and_quiet_silences_it"),
        ),
        case(
            "demo",
            "--quiet",
            &[],
            Elsewhere("demo::demo_prints_a_summary_and_quiet_silences_it"),
        ),
        case(
            "demo",
            "--world",
            &[],
            Elsewhere("demo::demo_world_tokens_runs_the_token_world"),
        ),
        case(
            "demo",
            "--preset",
            &[],
            Elsewhere("demo::demo_world_tokens_runs_the_token_world"),
        ),
        // inspect
        case("inspect", "<files>", INSPECT, Required),
        case(
            "inspect",
            "--map",
            INSPECT_KLNATS,
            Effect(&["--map", "kl_nats=kl"]),
        ),
        case("inspect", "--quiet", INSPECT, Effect(&["--quiet"])),
        // fit
        case("fit", "<curves>", FIT, Required),
        case("fit", "--out", FIT, Required),
        case("fit", "--csv", FIT, Effect(&["--csv", "f.csv"])),
        case("fit", "--form", FIT, Effect(&["--form", "bon"])),
        case("fit", "--target", FIT, Effect(&["--target", "gold"])),
        case("fit", "--baseline", FIT, Effect(&["--baseline", "none"])),
        case("fit", "--weights", FIT_SE, Effect(&["--weights", "none"])),
        case("fit", "--bootstrap", FIT_BON, Effect(&["--bootstrap", "0"])),
        case("fit", "--seed", FIT_BON, Effect(&["--seed", "5"])),
        case("fit", "--ci", FIT_BON, Effect(&["--ci", "bca"])),
        // a bootstrap interval without a bootstrap: the two flags contradict each other
        case(
            "fit",
            "--ci",
            FIT_BON_NONE,
            Refused(&["--ci", "bca"], "--bootstrap 0 asks for no bootstrap"),
        ),
        case(
            "fit",
            "--bootstrap",
            FIT_BON_BCA,
            Refused(
                &["--bootstrap", "0"],
                "--ci bca chooses a bootstrap interval",
            ),
        ),
        case("fit", "--min-kl", FIT, Effect(&["--min-kl", "4"])),
        case("fit", "--max-kl", FIT, Effect(&["--max-kl", "20"])),
        case(
            "fit",
            "--holdout-above",
            FIT,
            Effect(&["--holdout-above", "20"]),
        ),
        case(
            "fit",
            "--share-alpha-rl",
            FIT_LAW,
            Effect(&["--share-alpha-rl"]),
        ),
        case("fit", "--compare-forms", FIT, Effect(&["--compare-forms"])),
        case("fit", "--reference", FIT, Effect(&["--reference", "none"])),
        case("fit", "--map", FIT_KLNATS, Effect(&["--map", "kl_nats=kl"])),
        case("fit", "--quiet", FIT, Effect(&["--quiet"])),
        // bon
        case("bon", "<samples>", BON, Required),
        case("bon", "--out", BON, Required),
        case("bon", "--n", BON, Effect(&["--n", "1,2"])),
        case("bon", "--bootstrap", BON, Effect(&["--bootstrap", "2"])),
        case(
            "bon",
            "--no-prompt-values",
            BON,
            Effect(&["--no-prompt-values"]),
        ),
        case("bon", "--seed", BON_BOOT, Effect(&["--seed", "5"])),
        case(
            "bon",
            "--common-prompts",
            BON,
            Effect(&["--common-prompts", "truncate"]),
        ),
        case("bon", "--kl", BON, Effect(&["--kl", "pool"])),
        case("bon", "--map", BON_CAPS, Effect(&["--map", "Proxy=proxy"])),
        case("bon", "--quiet", BON, Effect(&["--quiet"])),
        case("bon", "--partial", BON, Effect(&["--partial"])),
        case(
            "bon",
            "--runs",
            BON,
            Refused(&["--runs", "runs.csv"], "reads best-of-n samples"),
        ),
        // bon merge: part.csv is `bon samples_rm.csv --partial` (made in the fixtures)
        case("bon merge", "<partials>", BON_MERGE, Required),
        case("bon merge", "--out", BON_MERGE, Required),
        case("bon merge", "--quiet", BON_MERGE, Effect(&["--quiet"])),
        // completions
        case("completions", "<shell>", COMPLETIONS, Required),
        case(
            "completions",
            "--quiet",
            COMPLETIONS,
            Refused(&["--quiet"], "does not apply to completions"),
        ),
        // the manifest: one more run (the TRL PPO log with its gold) beside the tidy table
        case("fit", "--runs", FIT, Effect(&["--runs", "runs.csv"])),
        case(
            "convert",
            "--runs",
            CONVERT,
            Effect(&["--runs", "runs.csv"]),
        ),
        case("report", "--runs", REPORT, Effect(&["--runs", "runs.csv"])),
        case(
            "inspect",
            "--runs",
            INSPECT,
            Refused(&["--runs", "runs.csv"], "not both"),
        ),
        case("fit", "--verbose", FIT, Effect(&["--verbose"])),
        case("fit", "--report", FIT, Effect(&["--report", "r.txt"])),
        case("bon", "--format", BON, Effect(&["--format", "trl"])),
        case(
            "bon",
            "--kl-key",
            BON,
            Refused(&["--kl-key", "k"], KEY_TIDY),
        ),
        case(
            "bon",
            "--proxy-key",
            BON,
            Refused(&["--proxy-key", "k"], KEY_TIDY),
        ),
        case(
            "bon",
            "--gold-key",
            BON,
            Refused(&["--gold-key", "k"], KEY_TIDY),
        ),
        case(
            "bon",
            "--step-key",
            BON,
            Refused(&["--step-key", "k"], KEY_TIDY),
        ),
        case(
            "bon",
            "--length-key",
            BON,
            Refused(&["--length-key", "k"], KEY_TIDY),
        ),
        case(
            "bon",
            "--kl-unit",
            BON,
            Refused(&["--kl-unit", "token"], "computed from n"),
        ),
        case(
            "bon",
            "--gold-from",
            BON,
            Refused(&["--gold-from", "gold.csv"], "carry their gold"),
        ),
        case(
            "bon",
            "--join-tolerance",
            BON,
            Refused(
                &["--join-tolerance", "2"],
                "--gold-from, which is not given",
            ),
        ),
        case("bon", "--meta", BON, Effect(&["--meta", "side_s.json"])),
        case(
            "bon",
            "--method",
            BON,
            Refused(&["--method", "rl"], "best-of-n"),
        ),
        case(
            "bon",
            "--rm-params",
            BON,
            Refused(&["--rm-params", "1e9"], CONTRADICTS),
        ),
        case(
            "bon",
            "--rm-params",
            BON_NORM,
            Effect(&["--rm-params", "1e9"]),
        ),
        case(
            "bon",
            "--kl-penalty",
            BON,
            Refused(&["--kl-penalty", "0.1"], "no KL penalty"),
        ),
        case(
            "bon",
            "--policy-params",
            BON,
            Effect(&["--policy-params", "7e9"]),
        ),
        case("bon", "--rm-data", BON, Effect(&["--rm-data", "5e4"])),
        case(
            "bon",
            "--run",
            BON,
            Refused(&["--run", "r1"], "no run column"),
        ),
        // convert
        case("convert", "<inputs>", CONVERT, Required),
        case("convert", "--out", CONVERT, Required),
        case(
            "convert",
            "--map",
            CONVERT_KLNATS,
            Effect(&["--map", "kl_nats=kl"]),
        ),
        case("convert", "--quiet", CONVERT, Effect(&["--quiet"])),
        // scale
        case("scale", "<fits>", SCALE, Required),
        case("scale", "--out", SCALE, Required),
        case("scale", "--by", SCALE, Effect(&["--by", "rm_data"])),
        case(
            "scale",
            "--joint",
            SCALE,
            Effect(&["--joint", "--curves", "law.csv"]),
        ),
        case(
            "scale",
            "--curves",
            SCALE,
            Refused(&["--curves", "law.csv"], NOT_JOINT),
        ),
        case(
            "scale",
            "--map",
            SCALE,
            Refused(&["--map", "a=kl"], NOT_JOINT),
        ),
        case(
            "scale",
            "--map",
            SCALE_JOINT,
            Effect(&["--map", "kl=gold_se"]),
        ),
        case("scale", "--quiet", SCALE, Effect(&["--quiet"])),
        // predict
        case("predict", "--scaling", PREDICT, Required),
        case(
            "predict",
            "--rm-params",
            PREDICT,
            Effect(&["--rm-params", "3e10"]),
        ),
        case("predict", "--method", PREDICT, Effect(&["--method", "bon"])),
        case("predict", "--kl", PREDICT, Effect(&["--kl", "0:10:1"])),
        case(
            "predict",
            "--iterations",
            PREDICT,
            Effect(&["--iterations", "3"]),
        ),
        case("predict", "--model", PREDICT, Effect(&["--model", "power"])),
        case("predict", "--out", PREDICT, Required),
        case("predict", "--quiet", PREDICT, Effect(&["--quiet"])),
        // report
        case("report", "<curves>", REPORT, Required),
        case("report", "--out", REPORT, Required),
        case(
            "report",
            "--samples",
            REPORT_BON,
            Effect(&["--samples", "samples_rm.csv"]),
        ),
        case(
            "report",
            "--fits",
            REPORT,
            Effect(&["--fits", "fits_alt.json"]),
        ),
        case(
            "report",
            "--scaling",
            REPORT_LAW,
            Effect(&["--scaling", "scaling_alt.json"]),
        ),
        case(
            "report",
            "--reference",
            REPORT,
            Effect(&["--reference", "proxy_sd=2,gold_sd=3"]),
        ),
        case(
            "report",
            "--map",
            REPORT_KLNATS,
            Effect(&["--map", "kl_nats=kl"]),
        ),
        case("report", "--quiet", REPORT, Effect(&["--quiet"])),
        case(
            "report",
            "--reward-models",
            REPORT_LAW,
            Effect(&["--reward-models", "rm.csv"]),
        ),
        case(
            "report",
            "--iterated",
            REPORT,
            Effect(&["--iterated", "iter.csv"]),
        ),
        // analyze
        case("analyze", "<curves>", ANALYZE, Required),
        case("analyze", "--out", ANALYZE, Required),
        case(
            "analyze",
            "--samples",
            ANALYZE,
            Effect(&["--samples", "samples_rm.csv"]),
        ),
        case(
            "analyze",
            "--reward-models",
            ANALYZE,
            Effect(&["--reward-models", "rm.csv"]),
        ),
        case(
            "analyze",
            "--iterated",
            ANALYZE,
            Effect(&["--iterated", "iter.csv"]),
        ),
        // the fits are read only for the reward models' gold peaks
        case(
            "analyze",
            "--fits",
            ANALYZE_RM,
            Effect(&["--fits", "fits_alt.json"]),
        ),
        case("analyze", "--csv", ANALYZE, Effect(&["--csv", "a.csv"])),
        case("analyze", "--quiet", ANALYZE, Effect(&["--quiet"])),
        // generate law
        case("generate law", "--out", LAW, Required),
        case("generate law", "--seed", LAW, Effect(&["--seed", "3"])),
        case("generate law", "--method", LAW, Effect(&["--method", "rl"])),
        case(
            "generate law",
            "--rm-params",
            LAW,
            Effect(&["--rm-params", "1e7,1e8"]),
        ),
        case(
            "generate law",
            "--bon-alpha",
            LAW,
            Effect(&["--bon-alpha", "0.9"]),
        ),
        case(
            "generate law",
            "--bon-alpha-law",
            LAW,
            Effect(&["--bon-alpha-law", "0.2,0.1"]),
        ),
        case(
            "generate law",
            "--bon-beta",
            LAW,
            Effect(&["--bon-beta", "0.1"]),
        ),
        case(
            "generate law",
            "--bon-beta-law",
            LAW,
            Effect(&["--bon-beta-law", "0.3,-0.01"]),
        ),
        case(
            "generate law",
            "--rl-alpha",
            LAW,
            Effect(&["--rl-alpha", "0.9"]),
        ),
        case(
            "generate law",
            "--rl-alpha-law",
            LAW,
            Effect(&["--rl-alpha-law", "0.2,0.1"]),
        ),
        case(
            "generate law",
            "--rl-beta",
            LAW,
            Effect(&["--rl-beta", "0.1"]),
        ),
        case(
            "generate law",
            "--rl-beta-law",
            LAW,
            Effect(&["--rl-beta-law", "0.3,-0.01"]),
        ),
        case("generate law", "--points", LAW, Effect(&["--points", "5"])),
        case(
            "generate law",
            "--baseline-points",
            LAW,
            Effect(&["--baseline-points", "1"]),
        ),
        case(
            "generate law",
            "--kl-max-bon",
            LAW,
            Effect(&["--kl-max-bon", "5"]),
        ),
        case(
            "generate law",
            "--kl-max-rl",
            LAW,
            Effect(&["--kl-max-rl", "50"]),
        ),
        case("generate law", "--noise", LAW, Effect(&["--noise", "0.1"])),
        case("generate law", "--with-se", LAW, Effect(&["--with-se"])),
        case("generate law", "--quiet", LAW, Effect(&["--quiet"])),
        // generate sim (a tiny world; knobs of the base are changed to another value)
        case("generate sim", "--out", SIM, Required),
        case("generate sim", "--seed", SIM, Effect(&["--seed", "3"])),
        case(
            "generate sim",
            "--preset",
            SIM,
            Effect(&["--preset", "paper"]),
        ),
        case("generate sim", "--dim", SIM, Effect(&["--dim", "3"])),
        case(
            "generate sim",
            "--gold-hidden",
            SIM,
            Effect(&["--gold-hidden", "8"]),
        ),
        case(
            "generate sim",
            "--gold-typicality",
            SIM,
            Effect(&["--gold-typicality", "0.5"]),
        ),
        case(
            "generate sim",
            "--rm-hidden",
            SIM,
            Effect(&["--rm-hidden", "0,3"]),
        ),
        case(
            "generate sim",
            "--rm-data",
            SIM,
            Effect(&["--rm-data", "120"]),
        ),
        case("generate sim", "--rm-val", SIM, Effect(&["--rm-val", "80"])),
        case(
            "generate sim",
            "--rm-epochs",
            SIM,
            Effect(&["--rm-epochs", "3"]),
        ),
        case(
            "generate sim",
            "--rm-batch",
            SIM,
            Effect(&["--rm-batch", "16"]),
        ),
        case("generate sim", "--rm-lr", SIM, Effect(&["--rm-lr", "0.05"])),
        case(
            "generate sim",
            "--labels",
            SIM,
            Effect(&["--labels", "sampled"]),
        ),
        case(
            "generate sim",
            "--norm-samples",
            SIM,
            Effect(&["--norm-samples", "400"]),
        ),
        case(
            "generate sim",
            "--prompts",
            SIM,
            Effect(&["--prompts", "5"]),
        ),
        case(
            "generate sim",
            "--samples-per-prompt",
            SIM,
            Effect(&["--samples-per-prompt", "12"]),
        ),
        case(
            "generate sim",
            "--policies",
            SIM,
            Effect(&["--policies", "diag"]),
        ),
        case(
            "generate sim",
            "--kl-penalties",
            SIM,
            Effect(&["--kl-penalties", "0.5"]),
        ),
        case(
            "generate sim",
            "--rl-steps",
            SIM,
            Effect(&["--rl-steps", "12"]),
        ),
        case(
            "generate sim",
            "--rl-batch",
            SIM,
            Effect(&["--rl-batch", "16"]),
        ),
        case("generate sim", "--rl-lr", SIM, Effect(&["--rl-lr", "0.02"])),
        case(
            "generate sim",
            "--rl-log-every",
            SIM,
            Effect(&["--rl-log-every", "2"]),
        ),
        case(
            "generate sim",
            "--rl-eval-samples",
            SIM,
            Effect(&["--rl-eval-samples", "24"]),
        ),
        case(
            "generate sim",
            "--rl-seeds",
            SIM,
            Effect(&["--rl-seeds", "2"]),
        ),
        case("generate sim", "--quiet", SIM, Effect(&["--quiet"])),
        // generate tokens (the test preset with 20 RL steps)
        case("generate tokens", "--out", TOKENS, Required),
        case(
            "generate tokens",
            "--seed",
            TOKENS,
            Effect(&["--seed", "3"]),
        ),
        case(
            "generate tokens",
            "--preset",
            TOKENS,
            Effect(&["--preset", "small"]),
        ),
        case(
            "generate tokens",
            "--policy-rho",
            TOKENS,
            Effect(&["--policy-rho", "0.5"]),
        ),
        case(
            "generate tokens",
            "--policy-widths",
            TOKENS,
            Effect(&["--policy-widths", "4"]),
        ),
        case(
            "generate tokens",
            "--kl-penalties",
            TOKENS,
            Effect(&["--kl-penalties", "0,0.5"]),
        ),
        case(
            "generate tokens",
            "--rl-steps",
            TOKENS,
            Effect(&["--rl-steps", "30"]),
        ),
        case(
            "generate tokens",
            "--rl-lr",
            TOKENS,
            Effect(&["--rl-lr", "0.05"]),
        ),
        case("generate tokens", "--quiet", TOKENS, Effect(&["--quiet"])),
    ];
    v.extend(log_cases!(
        "fit",
        FIT,
        FIT_NOMETHOD,
        FIT_NORM,
        FIT_LOG,
        FIT_LOG_NOGOLD,
        FIT_LOG_OFF,
        FIT_LOG_NORM,
        FIT_GRPO,
        false
    ));
    v.extend(log_cases!(
        "inspect",
        INSPECT,
        INSPECT_NOMETHOD,
        INSPECT_NORM,
        INSPECT_LOG,
        INSPECT_LOG_NOGOLD,
        INSPECT_LOG_OFF,
        INSPECT_LOG_NORM,
        INSPECT_GRPO,
        true
    ));
    v.extend(log_cases!(
        "convert",
        CONVERT,
        CONVERT_NOMETHOD,
        CONVERT_NORM,
        CONVERT_LOG,
        CONVERT_LOG_NOGOLD,
        CONVERT_LOG_OFF,
        CONVERT_LOG_NORM,
        CONVERT_GRPO,
        true
    ));
    v.extend(log_cases!(
        "report",
        REPORT,
        REPORT_NOMETHOD,
        REPORT_NORM,
        REPORT_LOG,
        REPORT_LOG_NOGOLD,
        REPORT_LOG_OFF,
        REPORT_LOG_NORM,
        REPORT_GRPO,
        false
    ));
    // scale reads Curves only with --joint: without it every log flag is refused.
    for flag in [
        "--format",
        "--kl-key",
        "--proxy-key",
        "--gold-key",
        "--step-key",
        "--length-key",
        "--kl-unit",
        "--gold-from",
        "--join-tolerance",
        "--meta",
        "--method",
        "--rm-params",
        "--kl-penalty",
        "--policy-params",
        "--rm-data",
        "--run",
        "--runs",
    ] {
        v.push(case(
            "scale",
            flag,
            SCALE,
            Refused(scale_flag_args(flag), NOT_JOINT),
        ));
    }
    v.push(case(
        "scale",
        "--kl-penalty",
        SCALE_JOINT,
        Effect(&["--kl-penalty", "0.1"]),
    ));
    v
}

fn scale_flag_args(flag: &str) -> &'static [&'static str] {
    match flag {
        "--format" => &["--format", "tidy"],
        "--kl-key" => &["--kl-key", "k"],
        "--proxy-key" => &["--proxy-key", "k"],
        "--gold-key" => &["--gold-key", "k"],
        "--step-key" => &["--step-key", "k"],
        "--length-key" => &["--length-key", "k"],
        "--kl-unit" => &["--kl-unit", "token"],
        "--gold-from" => &["--gold-from", "gold.csv"],
        "--join-tolerance" => &["--join-tolerance", "2"],
        "--meta" => &["--meta", "side.json"],
        "--method" => &["--method", "rl"],
        "--rm-params" => &["--rm-params", "1e9"],
        "--kl-penalty" => &["--kl-penalty", "0.1"],
        "--policy-params" => &["--policy-params", "7e9"],
        "--rm-data" => &["--rm-data", "5e4"],
        "--run" => &["--run", "r1"],
        "--runs" => &["--runs", "runs.csv"],
        other => panic!("no scale case for {other}"),
    }
}

/// Every (subcommand, argument) clap knows, but help and version: `--flag`, or `<id>` for a
/// positional argument.
fn clap_arguments() -> BTreeSet<(String, String)> {
    fn walk(cmd: &clap::Command, prefix: &str, out: &mut BTreeSet<(String, String)>) {
        for sub in cmd.get_subcommands() {
            let name = if prefix.is_empty() {
                sub.get_name().to_string()
            } else {
                format!("{prefix} {}", sub.get_name())
            };
            if sub.has_subcommands() {
                walk(sub, &name, out);
                // A command with subcommands and arguments of its own (`bon` and `bon merge`):
                // its own arguments are flags too. Only global ones: nothing to run.
                let own = sub.get_arguments().any(|a| {
                    !a.is_global_set() && !["help", "version"].contains(&a.get_id().as_str())
                });
                if !own {
                    continue;
                }
            }
            for arg in sub.get_arguments() {
                let id = arg.get_id().as_str();
                if id == "help" || id == "version" {
                    continue;
                }
                let flag = match arg.get_long() {
                    Some(l) => format!("--{l}"),
                    None => format!("<{id}>"),
                };
                out.insert((name.clone(), flag));
            }
        }
    }
    let mut cmd = Cli::command();
    cmd.build();
    let mut out = BTreeSet::new();
    walk(&cmd, "", &mut out);
    out
}

#[test]
fn every_flag_is_classified() {
    let known = clap_arguments();
    let classified: BTreeSet<(String, String)> = cases()
        .iter()
        .map(|c| (c.command.to_string(), c.flag.to_string()))
        .collect();
    let missing: Vec<_> = known.difference(&classified).collect();
    assert!(
        missing.is_empty(),
        "flags without a case in tests/it/flag_walk.rs (classify each as Effect or Refused): {missing:?}"
    );
    let stale: Vec<_> = classified.difference(&known).collect();
    assert!(
        stale.is_empty(),
        "cases for flags clap does not know: {stale:?}"
    );
    // The walk covers the shared log flags and the metadata flags of every log command.
    assert!(known.len() > 150, "{} arguments", known.len());
}

/// The Curves of one RL curve, the RL form d(0.5 - 0.2 ln d) with a small alternating noise,
/// peaking at KL e^3 ~ 20 nats, with the given columns (of method, rm_params, kl, gold, proxy).
fn rl_table(columns: &[&str], kl_name: &str) -> String {
    let mut s = columns
        .iter()
        .map(|c| if *c == "kl" { kl_name } else { c })
        .collect::<Vec<_>>()
        .join(",");
    s.push('\n');
    for i in 0..12 {
        let kl = 3.0 * i as f64;
        let d = kl.sqrt();
        let gold = if d > 0.0 {
            d * (0.5 - 0.2 * d.ln())
        } else {
            0.0
        };
        let noise = if i % 2 == 0 { 0.004 } else { -0.004 };
        let row: Vec<String> = columns
            .iter()
            .map(|c| match *c {
                "method" => "rl".to_string(),
                "rm_params" => "1e8".to_string(),
                "kl" => format!("{kl}"),
                "gold" => format!("{}", gold + noise),
                "proxy" => format!("{}", 0.6 * d - noise),
                _ => unreachable!(),
            })
            .collect();
        s.push_str(&row.join(","));
        s.push('\n');
    }
    s
}

/// A Samples table: three prompts with pools of 6, 5 and 6 samples (unequal, so
/// `--common-prompts` matters).
fn samples_table(header: &str, rm: bool) -> String {
    let mut s = format!("{header}\n");
    for (p, n) in [("a", 6), ("b", 5), ("c", 6)] {
        for j in 0..n {
            let proxy = (j as f64 * 0.37 + p.len() as f64).sin() + j as f64 * 0.2;
            let gold = proxy * 0.8 - (j as f64 * 0.11).cos() * 0.3;
            if rm {
                s.push_str(&format!("{p},{proxy},{gold},1e8\n"));
            } else {
                s.push_str(&format!("{p},{proxy},{gold}\n"));
            }
        }
    }
    s
}

fn run_ok(dir: &Path, args: &[&str]) {
    let out = assert_cmd::Command::cargo_bin("goodhart")
        .expect("binary")
        .current_dir(dir)
        .args(args)
        .arg("--quiet")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "setup {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The fixtures every case starts from.
fn fixtures() -> TestDir {
    let t = TestDir::new();
    t.write(
        "rl.csv",
        rl_table(&["method", "rm_params", "kl", "gold", "proxy"], "kl"),
    );
    t.write(
        "nomethod.csv",
        rl_table(&["rm_params", "kl", "gold", "proxy"], "kl"),
    );
    t.write(
        "norm.csv",
        rl_table(&["method", "kl", "gold", "proxy"], "kl"),
    );
    t.write(
        "klnats.csv",
        rl_table(&["method", "rm_params", "kl", "gold", "proxy"], "kl_nats"),
    );
    t.write("side.json", r#"{"kl_penalty": 0.05}"#);
    t.write("rm.csv", "rm_params,val_loss\n1e7,0.6\n1e8,0.5\n1e9,0.4\n");
    t.write(
        "iter.csv",
        "rm_params,rounds,d_sum,kl,gold\n1e8,1,0,0,0\n1e8,1,1,1,0.5\n1e8,1,2,4,0.8\n1e8,1,3,9,0.9\n",
    );
    t.write("side_s.json", r#"{"policy_params": 3e7}"#);
    t.write(
        "samples_rm.csv",
        samples_table("prompt,proxy,gold,rm_params", true),
    );
    t.write("samples.csv", samples_table("prompt,proxy,gold", false));
    t.write(
        "samples_caps.csv",
        samples_table("prompt,Proxy,gold,rm_params", true),
    );
    let trl = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/adapters/trl_ppo");
    std::fs::copy(trl.join("trainer_state.json"), t.path("trainer_state.json")).unwrap();
    let grpo = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/adapters/trl_grpo");
    std::fs::copy(grpo.join("trainer_state.json"), t.path("grpo.json")).unwrap();
    let gold = std::fs::read_to_string(trl.join("gold.csv")).unwrap();
    t.write("gold.csv", &gold);
    // The same evaluations one step after the logged steps: joined only with a tolerance.
    let mut off = String::from("step,gold\n");
    for line in gold.lines().skip(1) {
        let (step, g) = line.split_once(',').unwrap();
        off.push_str(&format!("{},{g}\n", step.parse::<u64>().unwrap() + 1));
    }
    t.write("gold_off.csv", off);
    t.write(
        "runs.csv",
        "log,run,rm_params,gold_from\ntrainer_state.json,r1,1.2e9,gold.csv\n",
    );
    let r = t.root();
    run_ok(
        r,
        &[
            "generate",
            "law",
            "--out",
            "law.csv",
            "--rm-params",
            "1e7,1e8,1e9",
            "--points",
            "8",
            "--baseline-points",
            "2",
        ],
    );
    run_ok(
        r,
        &[
            "generate",
            "law",
            "--out",
            "se.csv",
            "--method",
            "rl",
            "--rm-params",
            "1e8",
            "--points",
            "8",
            "--with-se",
        ],
    );
    run_ok(r, &["bon", "samples_rm.csv", "--out", "bon.csv"]);
    run_ok(
        r,
        &["bon", "samples_rm.csv", "--partial", "--out", "part.csv"],
    );
    run_ok(r, &["fit", "law.csv", "--out", "fits.json"]);
    run_ok(
        r,
        &["fit", "rl.csv", "--out", "fits_alt.json", "--form", "bon"],
    );
    run_ok(r, &["scale", "fits.json", "--out", "scaling.json"]);
    run_ok(
        r,
        &[
            "fit",
            "law.csv",
            "--out",
            "fits_gold.json",
            "--target",
            "gold",
            "--min-kl",
            "1",
        ],
    );
    run_ok(
        r,
        &[
            "scale",
            "fits_gold.json",
            "--out",
            "scaling_alt.json",
            "--by",
            "rm_params",
        ],
    );
    std::fs::remove_file(t.path("fits_gold.json")).unwrap();
    t
}

/// What a run did: exit status, stdout, stderr (timings masked) and every file written.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    files: BTreeMap<String, Vec<u8>>,
}

fn mask_timings(text: &str) -> String {
    // "(read 0.012 s, estimate 0.003 s, write 0.001 s)": the numbers vary run to run.
    let words: Vec<&str> = text.split(' ').collect();
    let mut out = Vec::with_capacity(words.len());
    for (i, w) in words.iter().enumerate() {
        let next = words.get(i + 1).copied().unwrap_or("");
        if w.parse::<f64>().is_ok()
            && (next.starts_with("s,") || next.starts_with("s)") || next == "s")
        {
            out.push("#");
        } else {
            out.push(w);
        }
    }
    out.join(" ")
}

fn files_under(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            files_under(root, &p, out);
        } else {
            let name = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            out.insert(name, std::fs::read(&p).unwrap());
        }
    }
}

/// Runs `args` in a fresh copy of the fixtures; the files written are those not in the
/// fixtures, or changed. The command line itself (which the report records) is cut out of
/// the report files.
fn run(fixtures: &TestDir, args: &[String]) -> Outcome {
    let t = TestDir::new();
    let mut before = BTreeMap::new();
    files_under(fixtures.root(), fixtures.root(), &mut before);
    for (name, bytes) in &before {
        t.write(name, bytes);
    }
    std::fs::create_dir(t.path("rep")).unwrap();
    let out = t.cmd().args(args).output().expect("run goodhart");
    let root = t.root().to_string_lossy().into_owned();
    let mut after = BTreeMap::new();
    files_under(t.root(), t.root(), &mut after);
    let command = format!("goodhart {}", args.join(" "));
    let files = after
        .into_iter()
        .filter(|(name, bytes)| before.get(name) != Some(bytes))
        .map(|(name, bytes)| {
            if name.ends_with(".html") || name.ends_with(".md") {
                let text = String::from_utf8_lossy(&bytes).replace(&command, "COMMAND");
                (name, text.into_bytes())
            } else {
                (name, bytes)
            }
        })
        .collect();
    Outcome {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).replace(&root, "DIR"),
        stderr: mask_timings(&String::from_utf8_lossy(&out.stderr).replace(&root, "DIR")),
        files,
    }
}

/// The base with `flag` and its value removed (when the base gives it), then `args` added.
fn with_flag(base: &[&str], flag: &str, args: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    let mut skip_value = false;
    for a in base {
        if skip_value {
            skip_value = false;
            if !a.starts_with("--") {
                continue;
            }
        }
        if *a == flag {
            skip_value = true;
            continue;
        }
        v.push(a.to_string());
    }
    v.extend(args.iter().map(|a| a.to_string()));
    v
}

#[test]
fn every_flag_changes_the_outcome_or_is_refused() {
    let fx = fixtures();
    let mut bases: HashMap<Vec<String>, Outcome> = HashMap::new();
    let mut failures = Vec::new();
    let mut counts = [0usize; 4];
    for c in cases() {
        let base: Vec<String> = c.base.iter().map(|a| a.to_string()).collect();
        match c.check {
            Effect(args) => {
                counts[0] += 1;
                let without = bases.entry(base.clone()).or_insert_with(|| run(&fx, &base));
                let without_code = without.code;
                let with = run(&fx, &with_flag(c.base, c.flag, args));
                let without = &bases[&base];
                if with.code == Some(2) {
                    // A refusal is not an effect: such a case must say Refused, with its reason.
                    failures.push(format!(
                        "{} {}: {args:?} on {:?} is refused, not applied: {}",
                        c.command,
                        c.flag,
                        c.base,
                        with.stderr.trim()
                    ));
                } else if &with == without {
                    failures.push(format!(
                        "{} {}: no effect: {args:?} on {:?} gives the same outcome (exit {without_code:?})",
                        c.command, c.flag, c.base
                    ));
                }
            }
            Refused(args, why) => {
                counts[1] += 1;
                let with = run(&fx, &with_flag(c.base, c.flag, args));
                // `inspect` lists a log's refusal among the problems that stop a fit (exit 1),
                // beside what it could read.
                let message = if c.command == "inspect" && with.code == Some(1) {
                    &with.stdout
                } else {
                    &with.stderr
                };
                let code_ok =
                    with.code == Some(2) || (c.command == "inspect" && with.code == Some(1));
                let ok = code_ok
                    && message.contains(c.flag)
                    && message.contains(why)
                    && with.files.is_empty()
                    && !with.stderr.contains("panicked");
                if !ok {
                    failures.push(format!(
                        "{} {}: expected a refusal (exit 2, naming {} and '{why}', no file) for {args:?} on {:?}; got exit {:?}, files {:?}, stderr: {}",
                        c.command,
                        c.flag,
                        c.flag,
                        c.base,
                        with.code,
                        with.files.keys().collect::<Vec<_>>(),
                        with.stderr.trim()
                    ));
                }
            }
            Required => {
                counts[2] += 1;
                // Without it clap refuses the command line (exit 2).
                let without: Vec<String> = if c.flag.starts_with('<') {
                    // the first file argument, else the last word (`completions bash`)
                    let first = c
                        .base
                        .iter()
                        .position(|a| a.contains('.'))
                        .unwrap_or(c.base.len() - 1);
                    let mut v: Vec<String> = c.base.iter().map(|a| a.to_string()).collect();
                    v.remove(first);
                    v
                } else {
                    with_flag(c.base, c.flag, &[])
                };
                let o = run(&fx, &without);
                if o.code != Some(2) {
                    failures.push(format!(
                        "{} {}: required, but {without:?} gave exit {:?}",
                        c.command, c.flag, o.code
                    ));
                }
            }
            Elsewhere(test) => {
                counts[3] += 1;
                // The test named exists.
                let (module, name) = test.split_once("::").unwrap();
                let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/it")
                    .join(format!("{module}.rs"));
                let source = std::fs::read_to_string(path).unwrap_or_default();
                if !source.contains(&format!("fn {name}()")) {
                    failures.push(format!("{} {}: no test {test}", c.command, c.flag));
                }
            }
        }
    }
    // Each base gives the same outcome twice: a difference above is the flag's, not noise.
    for (base, outcome) in &bases {
        if &run(&fx, base) != outcome {
            failures.push(format!(
                "{base:?}: two runs differ, so effects cannot be told"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases().len(),
        failures.join("\n")
    );
    // Most flags act; the refused ones are the log flags on inputs that cannot use them.
    assert!(counts[0] > 100 && counts[1] > 40, "{counts:?}");
}

#[test]
fn every_subcommand_has_help_and_version() {
    let t = TestDir::new();
    let names: BTreeSet<String> = clap_arguments().into_iter().map(|(n, _)| n).collect();
    for name in names {
        let mut args: Vec<&str> = name.split(' ').collect();
        args.push("--help");
        let out = t.cmd().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains(&format!("Usage: goodhart {name}")),
            "{args:?}: {text}"
        );
        args.pop();
        args.push("--version");
        let out = t.cmd().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stdout).starts_with("goodhart"));
    }
}
