//! `goodhart report`: a self-contained `report.html` (no http(s) reference at all, every figure
//! inline, every fit of the input in its table) and a `report.md`; atomic outputs; a missing
//! output folder is an input error (exit 1) found before any work, usage errors exit 2.

use crate::common;

use std::path::Path;

/// Gold and proxy curves of three RM sizes, both methods, following known log-linear laws.
fn curves_csv() -> String {
    let mut s = String::from("method,rm_params,kl,gold,proxy\n");
    for (i, size) in [1e7, 1e8, 1e9].iter().enumerate() {
        let x = i as f64;
        for m in ["bon", "rl"] {
            let (ag, bg) = if m == "bon" {
                (0.5 + 0.05 * x, 0.15 - 0.02 * x)
            } else {
                (0.5, 0.2 - 0.03 * x)
            };
            let (ap, bp) = (ag + 0.2, bg - 0.05);
            s.push_str(&format!(
                "{m},{size},0,0.01,0.02\n{m},{size},0,-0.01,-0.02\n"
            ));
            for k in 1..=14 {
                let d = k as f64 * 0.25;
                let f = if m == "bon" { d * d } else { d * d.ln() };
                let e = if k % 2 == 0 { 0.004 } else { -0.004 };
                s.push_str(&format!(
                    "{m},{size},{},{},{}\n",
                    d * d,
                    ag * d - bg * f + e,
                    ap * d - bp * f - e
                ));
            }
        }
    }
    s
}

fn samples_csv() -> String {
    // deterministic pseudo-random scores: 20 prompts x 16 samples, proxy = gold + noise
    let mut s = String::from("prompt,rm_params,proxy,gold\n");
    let mut state: u64 = 12345;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) - 0.5
    };
    for p in 0..20 {
        for _ in 0..16 {
            let g = next() + next() + next();
            let z = next();
            s.push_str(&format!("{p},1e8,{},{}\n", g + z, g));
        }
    }
    s
}

fn no_url(text: &str, what: &str) {
    let lower = text.to_ascii_lowercase();
    assert!(
        !lower.contains("http://") && !lower.contains("https://"),
        "{what} has an http(s) reference"
    );
}

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Every fit of the fits JSON appears in the HTML's fits table, with its coefficients.
fn has_every_fit(html: &str, fits_json: &[u8]) {
    let doc: serde_json::Value = serde_json::from_slice(fits_json).unwrap();
    let fits = doc["fits"].as_array().unwrap();
    assert!(!fits.is_empty());
    let n = |v: &serde_json::Value| v.as_f64().map_or("null".to_string(), |x| format!("{x}"));
    for f in fits {
        let id = format!(
            "{}|{}|{}|{}|{}|{}|{}",
            f["method"].as_str().unwrap(),
            n(&f["rm_params"]),
            n(&f["policy_params"]),
            n(&f["rm_data"]),
            n(&f["kl_penalty"]),
            f["target"].as_str().unwrap(),
            f["form"].as_str().unwrap()
        );
        let at = html
            .find(&format!("data-fit=\"{id}\""))
            .unwrap_or_else(|| panic!("fit {id} missing from report.html"));
        let row = &html[at..at + html[at..].find('>').unwrap()];
        for (name, p) in f["params"].as_object().unwrap() {
            let v = format!("{}", p["value"].as_f64().unwrap());
            assert!(
                row.contains(&format!("data-{name}=\"{v}\"")),
                "fit {id}: {name} = {v} not in {row}"
            );
        }
    }
}

fn check_report(dir: &Path) -> String {
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    no_url(&html, "report.html");
    assert!(!html.contains("<script") && !html.contains("<link") && !html.contains("@import"));
    assert!(!html.contains("src="), "no external resource of any kind");
    let pngs: Vec<String> = files(dir)
        .into_iter()
        .filter(|f| f.ends_with(".png"))
        .collect();
    assert!(!pngs.is_empty(), "figures written");
    for png in &pngs {
        let stem = png.trim_end_matches(".png");
        let at = html
            .find(&format!("<figure id=\"fig-{stem}\">"))
            .unwrap_or_else(|| panic!("figure {stem} not embedded"));
        assert!(
            html[at..]
                .trim_start_matches(|c| c != '\n')
                .trim_start()
                .starts_with("<svg")
        );
        assert!(
            md.contains(&format!("]({png})")),
            "{png} not linked in report.md"
        );
    }
    assert_eq!(
        html.matches("<svg").count(),
        pngs.len(),
        "one inline SVG per figure"
    );
    for section in [
        "Provenance",
        "Goodhart decomposition",
        "Scaling laws",
        "Predictions",
    ] {
        assert!(html.contains(section), "{section} missing from report.html");
        assert!(md.contains(section), "{section} missing from report.md");
    }
    assert!(
        !files(dir).iter().any(|f| f.starts_with('.')),
        "no temporary file left: {:?}",
        files(dir)
    );
    html
}

#[test]
fn report_computes_everything_and_is_self_contained() {
    let t = common::TestDir::new();
    t.write("c.csv", curves_csv());
    std::fs::create_dir(t.path("out")).unwrap();
    let out = t
        .cmd()
        .args(["report", "c.csv", "--out", "out"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = check_report(&t.path("out"));
    // the fits it computed are those `goodhart fit` writes
    t.cmd()
        .args(["fit", "c.csv", "--out", "f.json", "--quiet"])
        .assert()
        .success();
    has_every_fit(&html, &std::fs::read(t.path("f.json")).unwrap());
    assert!(html.contains("c.csv"), "provenance names the input");
}

#[test]
fn report_of_given_fits_scaling_and_samples() {
    let t = common::TestDir::new();
    t.write("c.csv", curves_csv());
    t.write("s.csv", samples_csv());
    std::fs::create_dir(t.path("out")).unwrap();
    t.cmd()
        .args(["fit", "c.csv", "--out", "f.json", "--quiet"])
        .assert()
        .success();
    t.cmd()
        .args(["scale", "f.json", "--out", "s.json", "--quiet"])
        .assert()
        .success();
    let out = t
        .cmd()
        .args([
            "report",
            "c.csv",
            "--samples",
            "s.csv",
            "--fits",
            "f.json",
            "--scaling",
            "s.json",
            "--out",
            "out",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("belong to no curve"),
        "matching fits are not flagged"
    );
    let html = check_report(&t.path("out"));
    has_every_fit(&html, &std::fs::read(t.path("f.json")).unwrap());
    assert!(html.contains("data-decomposition=\"bon 1e8|samples\""));
    assert!(html.contains("data-decomposition=\"rl 1e9|coefficients\""));
    for f in ["f.json", "s.json", "s.csv"] {
        assert!(html.contains(f), "provenance lists {f}");
    }
}

#[test]
fn fits_of_other_curves_are_named_in_a_note() {
    let t = common::TestDir::new();
    let only = |m: &str| -> String {
        curves_csv()
            .lines()
            .enumerate()
            .filter(|(i, l)| *i == 0 || l.starts_with(m))
            .map(|(_, l)| format!("{l}\n"))
            .collect()
    };
    t.write("bon.csv", only("bon,"));
    t.write("rl.csv", only("rl,"));
    std::fs::create_dir(t.path("out")).unwrap();
    t.cmd()
        .args(["fit", "rl.csv", "--out", "rl.json", "--quiet"])
        .assert()
        .success();
    let out = t
        .cmd()
        .args(["report", "bon.csv", "--fits", "rl.json", "--out", "out"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    // 3 RL curves, gold and proxy: 6 fits, none of a best-of-n curve
    assert!(
        stderr.contains("6 of the 6 fits given belong to no curve given"),
        "{stderr}"
    );
}

#[test]
fn an_output_folder_inside_a_file_fails_before_any_work() {
    // a missing folder is created (tests/it/outputs_cli.rs); one under a file cannot be
    let t = common::TestDir::new();
    t.write("c.csv", curves_csv());
    t.write("nope", "a file");
    common::assert_input_error(
        &t,
        &["report", "c.csv", "--out", "nope/sub"],
        &["nope", "not a folder"],
    );
}

#[test]
fn bad_input_writes_nothing() {
    let t = common::TestDir::new();
    t.write("c.csv", "method,rm_params,kl,gold\nbon,1e8,-1,0.5\n");
    std::fs::create_dir(t.path("out")).unwrap();
    let out = t
        .cmd()
        .args(["report", "c.csv", "--out", "out"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        files(&t.path("out")).is_empty(),
        "{:?}",
        files(&t.path("out"))
    );
}

#[test]
fn usage_errors_exit_2() {
    let t = common::TestDir::new();
    t.write("c.csv", curves_csv());
    for args in [
        vec!["report", "--out", "."],
        vec!["report", "c.csv"],
        vec!["report", "c.csv", "--out", ".", "--bogus"],
    ] {
        let out = t.cmd().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}
