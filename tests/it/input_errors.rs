//! Input mistakes a new user makes (issue #15, points 3 and 4): metadata flags on tidy tables
//! (fill a missing column, refuse to contradict a present one), every missing column in one
//! message with `--map` suggestions that work, semicolon-separated files, KL columns whose
//! name carries a unit, KL that looks per token, and `inspect` on a table it cannot fit.

use crate::common::{TestDir, assert_input_error};

/// One RL curve of the form d(alpha - beta ln d) at the given KLs, plus a kl = 0 point, with
/// the given header (columns in the order method, rm_params, kl, gold, proxy; `None` leaves
/// one out) and separator.
fn rl_csv(header: [Option<&str>; 5], sep: &str, kls: &[f64], alpha: f64, beta: f64) -> String {
    let mut s = header
        .iter()
        .flatten()
        .copied()
        .collect::<Vec<_>>()
        .join(sep);
    s.push('\n');
    for (i, &kl) in std::iter::once(&0.0).chain(kls).enumerate() {
        let d: f64 = kl.sqrt();
        let gold = if d > 0.0 {
            d * (alpha - beta * d.ln())
        } else {
            0.0
        };
        let noise = if i % 2 == 0 { 1e-4 } else { -1e-4 };
        let cells = [
            "rl".to_string(),
            "1e8".to_string(),
            format!("{kl}"),
            format!("{}", gold + noise),
            format!("{}", 0.5 * d),
        ];
        let row: Vec<&str> = header
            .iter()
            .zip(&cells)
            .filter(|(h, _)| h.is_some())
            .map(|(_, c)| c.as_str())
            .collect();
        s.push_str(&row.join(sep));
        s.push('\n');
    }
    s
}

const ALL: [Option<&str>; 5] = [
    Some("method"),
    Some("rm_params"),
    Some("kl"),
    Some("gold"),
    Some("proxy"),
];

fn kls() -> Vec<f64> {
    (1..=12).map(|i| 2.5 * i as f64).collect()
}

fn good(t: &TestDir) {
    t.write("good.csv", rl_csv(ALL, ",", &kls(), 0.5, 0.2));
}

/// Runs goodhart and returns (exit code, stdout, stderr).
fn run(t: &TestDir, args: &[&str]) -> (Option<i32>, String, String) {
    let out = t.cmd().args(args).output().expect("run goodhart");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A usage error: exit 2, one `error:` line with every fragment, nothing written.
fn assert_usage_error(t: &TestDir, args: &[&str], fragments: &[&str]) {
    let before = crate::common::snapshot(t);
    let (code, stdout, stderr) = run(t, args);
    assert_eq!(code, Some(2), "{args:?}: {stderr}");
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("error:")).count(),
        1,
        "{stderr}"
    );
    for f in fragments {
        assert!(stderr.contains(f), "expected {f:?} in: {stderr}");
    }
    assert!(stdout.is_empty());
    assert!(crate::common::snapshot(t) == before, "a file was written");
}

fn fits_json(t: &TestDir, name: &str, input: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["fit", input, "--out", name, "--quiet"];
    args.extend(extra);
    let (code, _, stderr) = run(t, &args);
    assert_eq!(code, Some(0), "{args:?}: {stderr}");
    serde_json::from_slice(&std::fs::read(t.path(name)).unwrap()).unwrap()
}

#[test]
fn a_metadata_flag_contradicting_a_column_is_refused() {
    let t = TestDir::new();
    good(&t);
    // The case: rm_params is 1e8 in the file.
    assert_usage_error(
        &t,
        &[
            "fit",
            "good.csv",
            "--rm-params",
            "1e9",
            "--kl-penalty",
            "0.1",
            "--out",
            "o.json",
        ],
        &[
            "good.csv",
            "--rm-params 1e9 contradicts column 'rm_params'",
            "row 1 has 1e8",
        ],
    );
    assert_usage_error(
        &t,
        &["fit", "good.csv", "--method", "bon", "--out", "o.json"],
        &["--method bon contradicts column 'method'", "row 1 has rl"],
    );
}

#[test]
fn an_agreeing_flag_is_accepted_and_a_missing_column_is_filled() {
    let t = TestDir::new();
    good(&t);
    let doc = fits_json(
        &t,
        "o.json",
        "good.csv",
        &["--rm-params", "1e8", "--kl-penalty", "0.1"],
    );
    let key = &doc["fits"][0];
    assert_eq!(key["rm_params"], serde_json::json!(1e8), "{key}");
    assert_eq!(key["kl_penalty"], serde_json::json!(0.1), "{key}");
    // Against the same table with the column written out: the same fits.
    let mut with_column = String::new();
    for (i, line) in std::fs::read_to_string(t.path("good.csv"))
        .unwrap()
        .lines()
        .enumerate()
    {
        with_column.push_str(line);
        with_column.push_str(if i == 0 { ",kl_penalty\n" } else { ",0.1\n" });
    }
    t.write("explicit.csv", with_column);
    let explicit = fits_json(&t, "e.json", "explicit.csv", &[]);
    assert_eq!(doc["fits"], explicit["fits"]);
}

#[test]
fn rm_params_fills_a_table_without_the_column() {
    let t = TestDir::new();
    good(&t);
    t.write(
        "norm.csv",
        rl_csv(
            [
                Some("method"),
                None,
                Some("kl"),
                Some("gold"),
                Some("proxy"),
            ],
            ",",
            &kls(),
            0.5,
            0.2,
        ),
    );
    let (code, _, stderr) = run(&t, &["fit", "norm.csv", "--out", "o.json"]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("missing required column 'rm_params'"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--rm-params N"),
        "the flag is offered: {stderr}"
    );
    let filled = fits_json(&t, "n.json", "norm.csv", &["--rm-params", "1e8"]);
    let reference = fits_json(&t, "g.json", "good.csv", &[]);
    assert_eq!(filled["fits"], reference["fits"]);
}

#[test]
fn method_fills_a_table_without_the_column() {
    let t = TestDir::new();
    good(&t);
    t.write(
        "nomethod.csv",
        rl_csv(
            [
                None,
                Some("rm_params"),
                Some("kl"),
                Some("gold"),
                Some("proxy"),
            ],
            ",",
            &kls(),
            0.5,
            0.2,
        ),
    );
    let filled = fits_json(&t, "n.json", "nomethod.csv", &["--method", "rl"]);
    let reference = fits_json(&t, "g.json", "good.csv", &[]);
    assert_eq!(filled["fits"], reference["fits"]);
}

#[test]
fn the_same_fill_in_convert_inspect_report_and_scale_joint() {
    let t = TestDir::new();
    good(&t);
    t.write(
        "norm.csv",
        rl_csv(
            [
                Some("method"),
                None,
                Some("kl"),
                Some("gold"),
                Some("proxy"),
            ],
            ",",
            &kls(),
            0.5,
            0.2,
        ),
    );
    // convert writes the filled column: the same table as the file that has it.
    let (code, _, stderr) = run(
        &t,
        &[
            "convert",
            "norm.csv",
            "--rm-params",
            "1e8",
            "--out",
            "n.csv",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let (code, _, stderr) = run(&t, &["convert", "good.csv", "--out", "g.csv"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        std::fs::read(t.path("n.csv")).unwrap(),
        std::fs::read(t.path("g.csv")).unwrap()
    );
    // inspect says where the column came from.
    let (code, stdout, _) = run(&t, &["inspect", "norm.csv", "--rm-params", "1e8"]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("--rm-params 1e8 -> rm_params"), "{stdout}");
    // report and scale --joint refuse a contradiction as fit does.
    std::fs::create_dir(t.path("rep")).unwrap();
    assert_usage_error(
        &t,
        &["report", "good.csv", "--rm-params", "3e8", "--out", "rep"],
        &["--rm-params 3e8 contradicts column 'rm_params'"],
    );
    // scale reads the curves only with --joint (fits of three sizes).
    let (code, _, stderr) = run(
        &t,
        &[
            "generate",
            "law",
            "--out",
            "law.csv",
            "--rm-params",
            "1e7,1e8,1e9",
            "--points",
            "8",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let _ = fits_json(&t, "f.json", "law.csv", &[]);
    assert_usage_error(
        &t,
        &[
            "scale",
            "f.json",
            "--joint",
            "--curves",
            "law.csv",
            "--rm-params",
            "3e8",
            "--out",
            "s.json",
        ],
        &["--rm-params 3e8 contradicts column 'rm_params'"],
    );
}

#[test]
fn bon_fills_and_checks_samples_metadata() {
    let t = TestDir::new();
    let mut with_rm = String::from("prompt,proxy,gold,rm_params\n");
    let mut without = String::from("prompt,proxy,gold\n");
    for p in 0..3 {
        for j in 0..4 {
            let (x, y) = (j as f64 * 0.3 + p as f64, j as f64 * 0.2 - p as f64 * 0.1);
            with_rm.push_str(&format!("{p},{x},{y},1e8\n"));
            without.push_str(&format!("{p},{x},{y}\n"));
        }
    }
    t.write("s_rm.csv", with_rm);
    t.write("s.csv", without);
    // An agreeing --rm-params is accepted (it was refused before), a different one refused.
    let (code, _, stderr) = run(
        &t,
        &["bon", "s_rm.csv", "--rm-params", "1e8", "--out", "a.csv"],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let (code, _, stderr) = run(
        &t,
        &["bon", "s.csv", "--rm-params", "1e8", "--out", "b.csv"],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        std::fs::read(t.path("a.csv")).unwrap(),
        std::fs::read(t.path("b.csv")).unwrap()
    );
    assert_usage_error(
        &t,
        &["bon", "s_rm.csv", "--rm-params", "1e9", "--out", "c.csv"],
        &[
            "--rm-params 1e9 contradicts column 'rm_params'",
            "row 1 has 1e8",
        ],
    );
    // --policy-params fills the column: the curves carry it.
    let (code, _, stderr) = run(
        &t,
        &[
            "bon",
            "s.csv",
            "--rm-params",
            "1e8",
            "--policy-params",
            "7e9",
            "--out",
            "d.csv",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let d = std::fs::read_to_string(t.path("d.csv")).unwrap();
    let header: Vec<&str> = d.lines().next().unwrap().split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == "policy_params")
        .expect("policy_params column");
    assert!(
        d.lines()
            .skip(1)
            .all(|l| l.split(',').nth(col).and_then(|x| x.parse::<f64>().ok()) == Some(7e9)),
        "{d}"
    );
    // Flags best-of-n samples cannot use are refused.
    assert_usage_error(
        &t,
        &["bon", "s_rm.csv", "--kl-penalty", "0.1", "--out", "e.csv"],
        &["--kl-penalty", "no KL penalty"],
    );
    assert_usage_error(
        &t,
        &["bon", "s_rm.csv", "--method", "rl", "--out", "e.csv"],
        &["--method rl", "best-of-n"],
    );
}

#[test]
fn every_missing_column_is_named_in_one_message_with_a_map_that_works() {
    let t = TestDir::new();
    let header = [
        Some("Method"),
        Some("RM_params"),
        Some("KL"),
        Some("Gold"),
        Some("Proxy"),
    ];
    t.write("caps.csv", rl_csv(header, ",", &kls(), 0.5, 0.2));
    assert_input_error(
        &t,
        &["fit", "caps.csv", "--out", "o.json"],
        &[
            "missing required columns 'method', 'rm_params', 'kl', 'gold'",
            "use --map Method=method --map RM_params=rm_params --map KL=kl --map Gold=gold --map Proxy=proxy",
        ],
    );
    // The suggestion, as printed, fits the same as the canonical header.
    good(&t);
    let (_, _, stderr) = run(&t, &["fit", "caps.csv", "--out", "o.json"]);
    let suggestion = stderr
        .split("use --map ")
        .nth(1)
        .unwrap()
        .split(')')
        .next()
        .unwrap();
    let mut args = vec!["--map"];
    args.extend(suggestion.split(' '));
    let mapped = fits_json(&t, "m.json", "caps.csv", &args);
    let reference = fits_json(&t, "g.json", "good.csv", &[]);
    assert_eq!(mapped["fits"], reference["fits"]);
}

#[test]
fn a_semicolon_separated_file_is_read_by_its_separator() {
    let t = TestDir::new();
    good(&t);
    t.write("semi.csv", rl_csv(ALL, ";", &kls(), 0.5, 0.2));
    let semi = fits_json(&t, "s.json", "semi.csv", &[]);
    let comma = fits_json(&t, "c.json", "good.csv", &[]);
    assert_eq!(semi["fits"], comma["fits"]);
    let (code, stdout, _) = run(&t, &["inspect", "semi.csv"]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("semicolon-separated"), "{stdout}");
    assert!(!stdout.contains("did you mean"), "{stdout}");
}

#[test]
fn a_decimal_comma_is_named_as_such() {
    let t = TestDir::new();
    t.write(
        "comma.csv",
        rl_csv(ALL, ";", &kls(), 0.5, 0.2).replace('.', ","),
    );
    assert_input_error(
        &t,
        &["fit", "comma.csv", "--out", "o.json"],
        &[
            "comma.csv",
            "column 'gold', row 1",
            "(value: '0,0001')",
            "it has a comma (a decimal comma, or a thousands separator?)",
            "'.' as the decimal point",
        ],
    );
}

#[test]
fn a_kl_column_in_bits_is_not_mapped_to_kl_without_conversion() {
    let t = TestDir::new();
    let header = [
        Some("method"),
        Some("rm_params"),
        Some("kl_bits"),
        Some("gold"),
        Some("proxy"),
    ];
    t.write("bits.csv", rl_csv(header, ",", &kls(), 0.5, 0.2));
    assert_input_error(
        &t,
        &["fit", "bits.csv", "--out", "o.json"],
        &[
            "missing required column 'kl'",
            "'kl_bits' looks like KL in bits",
            "bits x 0.693147",
        ],
    );
    let (_, _, stderr) = run(&t, &["fit", "bits.csv", "--out", "o.json"]);
    assert!(!stderr.contains("--map kl_bits=kl"), "{stderr}");
}

#[test]
fn a_per_token_kl_column_points_to_the_length_conversion() {
    for name in ["kl_per_token", "kl_nats_per_token"] {
        let t = TestDir::new();
        let header = [
            Some("method"),
            Some("rm_params"),
            Some(name),
            Some("gold"),
            Some("proxy"),
        ];
        t.write("tok.csv", rl_csv(header, ",", &kls(), 0.5, 0.2));
        assert_input_error(
            &t,
            &["fit", "tok.csv", "--out", "o.json"],
            &[
                &format!("'{name}' looks like KL per token"),
                "mean response length",
                "--kl-unit token --length-key",
                "README",
            ],
        );
        let (_, _, stderr) = run(&t, &["fit", "tok.csv", "--out", "o.json"]);
        assert!(!stderr.contains(&format!("--map {name}=kl")), "{stderr}");
    }
}

#[test]
fn kl_that_looks_per_token_gets_a_note() {
    let t = TestDir::new();
    // Largest KL 0.2 nats; alpha/beta = -0.75 puts the peak at KL e^(2(-0.75-1)) = 0.030.
    let small: Vec<f64> = (1..=10).map(|i| 0.02 * i as f64).collect();
    t.write("tok.csv", rl_csv(ALL, ",", &small, -0.15, 0.2));
    let (code, _, stderr) = run(&t, &["fit", "tok.csv", "--out", "o.json"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("KL looks per token"), "{stderr}");
    assert!(stderr.contains("largest kl is 0.2 nats"), "{stderr}");
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.path("o.json")).unwrap()).unwrap();
    let peak = doc["fits"][0]["peak"]["kl"].as_f64().unwrap();
    let expected = (2.0 * (-0.15_f64 / 0.2 - 1.0)).exp();
    assert!(
        (peak - expected).abs() < 0.1 * expected,
        "{peak} vs {expected}"
    );
    // The same shape per sequence (peak at e^3 = 20 nats): no note.
    good(&t);
    let (code, _, stderr) = run(&t, &["fit", "good.csv", "--out", "g.json"]);
    assert_eq!(code, Some(0));
    assert!(!stderr.contains("looks per token"), "{stderr}");
}

#[test]
fn inspect_describes_what_it_read_when_a_column_is_missing() {
    let t = TestDir::new();
    t.write(
        "nomethod.csv",
        rl_csv(
            [
                None,
                Some("rm_params"),
                Some("kl"),
                Some("gold"),
                Some("proxy"),
            ],
            ",",
            &kls(),
            0.5,
            0.2,
        ),
    );
    let (code, stdout, stderr) = run(&t, &["inspect", "nomethod.csv"]);
    assert_eq!(code, Some(1), "{stderr}");
    for f in [
        "format:  CSV",
        "rows:    13",
        "columns: 4 in the file, 4 used",
        "rm_params  -> rm_params",
        "missing required column 'method'",
        "--method rl|bon",
    ] {
        assert!(stdout.contains(f), "expected {f:?} in: {stdout}");
    }
    assert!(stderr.contains("would stop a fit"), "{stderr}");
}

/// A Samples table given where curves are read (`fit`, `analyze`), and a Curves table given to
/// `goodhart bon`: each is named for what it is, with the command that reads it (not metadata flags, not a
/// `--map n_prompts=prompt` that would make a meaningless table).
#[test]
fn a_samples_table_for_curves_and_a_curves_table_for_bon_say_which_command_reads_them() {
    let t = TestDir::new();
    t.write(
        "samples.csv",
        "prompt,proxy,gold,rm_params\n1,0.1,0.2,1e8\n1,0.3,0.1,1e8\n2,0.2,0.0,1e8\n2,0.5,0.4,1e8\n",
    );
    let samples_hint = "looks like a Samples table";
    let bon_advice = "goodhart bon samples.csv --out curves.csv";
    for args in [
        &["fit", "samples.csv", "--out", "f.json"][..],
        &["analyze", "samples.csv", "--out", "a.json"],
    ] {
        assert_input_error(&t, args, &[samples_hint, bon_advice]);
        let out = t.cmd().args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("--method"), "{stderr}");
    }
    // `convert` reads it as what it is and writes a Samples table (in the canonical order).
    let out = t
        .cmd()
        .args(["convert", "samples.csv", "--out", "c.csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        std::fs::read_to_string(t.path("c.csv")).unwrap(),
        "prompt,proxy,gold,rm_params\n1,0.1,0.2,1e8\n1,0.3,0.1,1e8\n2,0.2,0,1e8\n2,0.5,0.4,1e8\n"
    );
    let curves = {
        let mut s = String::from("method,rm_params,kl,gold,n_prompts\n");
        for (kl, gold) in [(0.0, 0.0), (0.5, 0.3), (1.0, 0.4), (2.0, 0.35)] {
            s.push_str(&format!("bon,1e8,{kl},{gold},100\n"));
        }
        s
    };
    t.write("curves.csv", curves);
    assert_input_error(
        &t,
        &["bon", "curves.csv", "--out", "b.csv"],
        &[
            "looks like a Curves table",
            "goodhart fit curves.csv --out fits.json",
        ],
    );
    let out = t
        .cmd()
        .args(["bon", "curves.csv", "--out", "b.csv"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("n_prompts=prompt"));
}

/// `inspect` on a Samples table missing a column: still called a Samples table, with bon's
/// problem (and its `--map` hint for a near name), exit 1; without an `rm_params` column its
/// advice includes `--rm-params N` (the command it suggests must be one that can work).
#[test]
fn inspect_calls_an_incomplete_samples_table_samples_with_bons_problem() {
    let t = TestDir::new();
    t.write(
        "gs.csv",
        "prompt,proxy,gold_score,rm_params\n1,0.1,0.2,1e8\n1,0.2,0.1,1e8\n",
    );
    t.write("norm.csv", "prompt,proxy,gold\n1,0.1,0.2\n1,0.2,0.1\n");
    let run = |file: &str| {
        let out = t.cmd().args(["inspect", file]).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{file}");
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    };
    let gs = run("gs.csv");
    assert!(gs.contains("table:   Samples"), "{gs}");
    assert!(gs.contains("--map gold_score=gold"), "{gs}");
    assert!(!gs.contains("--method"), "{gs}");
    assert!(
        gs.contains("`goodhart bon gs.csv --out curves.csv`"),
        "{gs}"
    );
    let norm = run("norm.csv");
    assert!(norm.contains("table:   Samples"), "{norm}");
    assert!(
        norm.contains("`goodhart bon norm.csv --rm-params N --out curves.csv`"),
        "{norm}"
    );
    // New-user review: a score that is not a number made inspect call the table a Curves table
    // missing method and kl (its columns were read as numbers to see them); it is a Samples
    // table, with bon's problem naming the cell.
    t.write(
        "text.csv",
        "prompt,proxy,gold,rm_params
1,0.1,0.2,1e8
1,high,0.1,1e8
",
    );
    let text = run("text.csv");
    assert!(text.contains("table:   Samples"), "{text}");
    assert!(
        text.contains("column 'proxy', row 2: not a number (value: 'high')"),
        "{text}"
    );
    assert!(!text.contains("'method'"), "{text}");
    // ... and the suggested bon command carries the --rm-params given to inspect (it dropped
    // it, and bon then failed on the missing rm_params)
    let out = t
        .cmd()
        .args(["inspect", "norm.csv", "--rm-params", "16"])
        .output()
        .unwrap();
    let given = String::from_utf8_lossy(&out.stdout);
    assert!(
        given.contains("`goodhart bon norm.csv --rm-params 16 --out curves.csv`"),
        "{given}"
    );
}

/// New-user review: `fit` (and `inspect`) on the generators' iterated-RLHF and reward-models
/// tables suggested "--method rl|bon", which would have read the rounds of an iterated table as
/// one curve. Each table is now named, with the `analyze` flag that reads it, and no flag hint.
#[test]
fn side_tables_given_as_curves_name_the_analyze_flag_that_reads_them() {
    let t = TestDir::new();
    t.write(
        "iterated_rlhf.csv",
        "rm_params,rm_data,policy_params,kl_penalty,rounds,round,step,kl,d_sum,gold,proxy\n\
         8,4000,64,0,1,1,0,0,0,0,0\n8,4000,64,0,2,1,10,1,1,0.5,0.6\n",
    );
    t.write(
        "reward_models.csv",
        "rm_params,rm_data,embedding_dims,free_tokens,val_loss,val_accuracy\n8,4000,8,0,0.6,0.7\n",
    );
    for (file, table, flag) in [
        ("iterated_rlhf.csv", "an iterated-RLHF table", "--iterated"),
        (
            "reward_models.csv",
            "a reward-models table",
            "--reward-models",
        ),
    ] {
        assert_input_error(
            &t,
            &["fit", file, "--out", "f.json"],
            &[file, table, &format!("{flag} {file}")],
        );
        let out = t
            .cmd()
            .args(["fit", file, "--out", "f.json"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("--method"), "{stderr}");
        let out = t.cmd().args(["inspect", file]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert!(text.contains(table) && !text.contains("--method"), "{text}");
    }
}

/// `--method rl` supplies the one column an iterated-RLHF table lacks, and its runs of 1 and 2
/// rounds used to merge silently into one curve; now the table is named and nothing is written
/// (also when `d_sum` was dropped: a second review).
#[test]
fn an_iterated_table_fitted_with_a_method_is_refused_not_merged() {
    let t = TestDir::new();
    t.write(
        "iterated_rlhf.csv",
        "rm_params,rm_data,policy_params,kl_penalty,rounds,round,step,kl,d_sum,gold,proxy\n\
         8,4000,64,0,1,1,0,0,0,0,0\n8,4000,64,0,1,1,10,1,1,0.5,0.6\n8,4000,64,0,1,1,20,4,2,0.7,1.1\n\
         8,4000,64,0,2,1,0,0,0,0,0\n8,4000,64,0,2,1,10,1,1,0.6,0.6\n8,4000,64,0,2,2,20,1,2,0.9,1.0\n",
    );
    // without d_sum (a copy trimmed by hand) the rounds would merge just the same
    let trimmed: String = std::fs::read_to_string(t.path("iterated_rlhf.csv"))
        .unwrap()
        .lines()
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            [&cells[..8], &cells[9..]].concat().join(",") + "\n"
        })
        .collect();
    assert!(
        trimmed.starts_with("rm_params,rm_data,policy_params,kl_penalty,rounds,round,step,kl,gold")
    );
    t.write("no_d_sum.csv", trimmed);
    assert_input_error(
        &t,
        &["fit", "no_d_sum.csv", "--method", "rl", "--out", "f.json"],
        &[
            "no_d_sum.csv",
            "an iterated-RLHF table",
            "keep the rows with rounds = 1",
        ],
    );
    for method in ["rl", "bon"] {
        assert_input_error(
            &t,
            &[
                "fit",
                "iterated_rlhf.csv",
                "--method",
                method,
                "--out",
                "f.json",
            ],
            &[
                "iterated_rlhf.csv",
                "an iterated-RLHF table",
                "would merge",
                "--iterated iterated_rlhf.csv",
            ],
        );
    }
}
