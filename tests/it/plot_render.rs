//! The figures of `goodhart::plot`: every figure renders as a valid SVG and a valid, non-blank
//! PNG at twice the SVG's size, byte-identically on every render; figures without data are
//! skipped; degenerate input never panics.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::Path;

use goodhart::curves::Curve;
use goodhart::document::{ExtrapolationTest, FitsDocument};
use goodhart::fit::extrapolation::extrapolation_tests;
use goodhart::fit::fit_document;
use goodhart::fit::{FitOptions, TargetChoice, fit_curves};
use goodhart::goodhart::{Decomposition, DecompositionSource, GapPoint};
use goodhart::plot::{Figure, PlotInputs, render_all, write_figures};
use goodhart::scaling::predict::{LawModel, PredictDoc, PredictOptions, predict};
use goodhart::scaling::{FitRecord, ScaleOptions, ScalingDoc, SizeKey, scale};
use goodhart::schema::{CurveKey, Method};

/// A deterministic noise in [-1, 1].
fn noise(i: usize, j: usize) -> f64 {
    let x = ((i * 7919 + j * 104729) as f64 * 0.618_033_988_75).fract();
    2.0 * x - 1.0
}

fn key(method: Method, rm: f64, data: Option<f64>, pen: Option<f64>) -> CurveKey {
    CurveKey {
        method,
        rm_params: rm,
        policy_params: None,
        rm_data: data,
        kl_penalty: pen,
    }
}

const SIZES: [f64; 4] = [3e6, 1.2e7, 8.5e7, 1.2e9];

fn bon_coef(rm: f64, data: f64) -> (f64, f64) {
    let x = rm.log10();
    let boost = if data > 5e4 { 0.05 } else { 0.0 };
    (0.3 + 0.06 * x + boost, 0.35 - 0.03 * x - boost * 0.3)
}

fn rl_coef(rm: f64) -> (f64, f64) {
    (0.6, 0.45 - 0.035 * rm.log10())
}

fn curve(
    k: CurveKey,
    kl: Vec<f64>,
    gold: impl Fn(f64) -> f64,
    proxy: impl Fn(f64) -> f64,
    entropy: bool,
) -> Curve {
    let seed = k.rm_params.log10() as usize * 13 + k.rm_data.unwrap_or(0.0) as usize % 97;
    let g: Vec<f64> = kl
        .iter()
        .enumerate()
        .map(|(i, &v)| gold(v.sqrt()) + 0.01 * noise(i, seed))
        .collect();
    let p: Vec<Option<f64>> = kl
        .iter()
        .enumerate()
        .map(|(i, &v)| Some(proxy(v.sqrt()) + 0.01 * noise(i, seed + 1)))
        .collect();
    let n = kl.len();
    Curve {
        key: k,
        entropy: entropy.then(|| kl.iter().map(|v| Some(20.0 - 0.1 * v)).collect()),
        kl,
        gold: g,
        proxy: Some(p),
        gold_se: Some(vec![0.01; n]),
        proxy_se: Some(vec![0.01; n]),
        replicates: Vec::new(),
        prompts: None,
    }
}

/// Curves like the paper's: BoN for two RM data sizes, RL with two KL penalties and entropy.
fn fixture_curves(entropy: bool) -> Vec<Curve> {
    let mut out = Vec::new();
    let bon_kl: Vec<f64> = std::iter::once(0.0)
        .chain((1..=16).map(|i| {
            let n = 2f64.powi(i);
            n.ln() - (n - 1.0) / n
        }))
        .collect();
    for data in [3e4, 9e4] {
        for rm in SIZES {
            let (a, b) = bon_coef(rm, data);
            out.push(curve(
                key(Method::Bon, rm, Some(data), None),
                bon_kl.clone(),
                |d| d * (a - b * d),
                |d| d * (a + 0.2 - 0.3 * b * d),
                false,
            ));
        }
    }
    for pen in [0.0, 0.05] {
        let top = if pen > 0.0 { 30.0 } else { 80.0 };
        let kl: Vec<f64> = (0..=40).map(|s| (s as f64 / 40.0).powi(2) * top).collect();
        for rm in SIZES {
            let (a, b) = rl_coef(rm);
            let f = move |d: f64| if d > 0.0 { d * (a - b * d.ln()) } else { 0.0 };
            let fp = move |d: f64| {
                if d > 0.0 {
                    d * (a + 0.3 - 0.4 * b * d.ln())
                } else {
                    0.0
                }
            };
            out.push(curve(
                key(Method::Rl, rm, Some(9e4), Some(pen)),
                kl.clone(),
                f,
                fp,
                entropy,
            ));
        }
    }
    out.sort_by_key(|c| c.key);
    out
}

fn fits_of(curves: &[Curve]) -> Vec<FitRecord> {
    let opts = FitOptions {
        target: TargetChoice::Both,
        ..FitOptions::default()
    };
    let fits = fit_curves(curves, &opts).expect("fixture fits");
    // Through the JSON and back, as `goodhart report --fits` reads it.
    let bytes = fit_document(&fits, Vec::new(), None).to_json();
    FitsDocument::parse(&bytes, Path::new("fixture.json"))
        .expect("fits JSON parses")
        .fits
}

fn scaling_of(fits: &[FitRecord]) -> ScalingDoc {
    scale(
        &FitsDocument::new(fits.to_vec()),
        &ScaleOptions {
            by: SizeKey::RmParams,
        },
    )
    .expect("scaling")
}

fn predictions_of(doc: &ScalingDoc) -> PredictDoc {
    predict(
        doc,
        &PredictOptions {
            sizes: vec![6e9, 2e10],
            method: None,
            kl: None,
            iterations: None,
            model: LawModel::LogLinear,
        },
    )
    .expect("predictions")
}

/// Decompositions from the fixture's known coefficients.
fn decompositions(curves: &[Curve], data: f64) -> Vec<Decomposition> {
    curves
        .iter()
        .filter(|c| c.key.kl_penalty.unwrap_or(0.0) == 0.0 && c.key.rm_data == Some(data))
        .map(|c| {
            let bon = c.key.method == Method::Bon;
            let points: Vec<GapPoint> =
                c.kl.iter()
                    .enumerate()
                    .map(|(i, &kl)| {
                        let d = kl.sqrt();
                        let proxy = c.proxy.as_ref().unwrap()[i].unwrap();
                        let gold = c.gold[i];
                        let (reg, ext) = if bon {
                            let (_, b) = bon_coef(c.key.rm_params, 9e4);
                            (0.2 * d, 0.7 * b * d * d)
                        } else {
                            let (_, b) = rl_coef(c.key.rm_params);
                            let dl = if d > 0.0 { d * d.ln() } else { 0.0 };
                            (0.3 * d, 0.6 * b * dl)
                        };
                        GapPoint {
                            kl,
                            proxy,
                            gold,
                            regressional: reg,
                            extremal: ext,
                            residual: proxy - gold - reg - ext,
                            regressional_se: Some(0.01 + 0.005 * d),
                            extremal_se: Some(0.01 + 0.01 * d),
                            oracle: None,
                            oracle_se: None,
                        }
                    })
                    .collect();
            let mid = points[points.len() / 2];
            Decomposition {
                key: c.key,
                source: if bon {
                    DecompositionSource::Samples
                } else {
                    DecompositionSource::Coefficients
                },
                form: if bon {
                    goodhart::forms::FormId::Bon
                } else {
                    goodhart::forms::FormId::Rl
                },
                at_peak: Some(mid),
                at_peak_reason: None,
                se_method: None,
                fits_ci: None,
                at_max_kl: points.last().copied(),
                grid: if bon {
                    Vec::new()
                } else {
                    points
                        .iter()
                        .map(|p| GapPoint {
                            proxy: p.gold + p.regressional + p.extremal,
                            residual: 0.0,
                            ..*p
                        })
                        .collect()
                },
                points,
                units: goodhart::goodhart::Units::Raw,
                reference: None,
                oracle: Vec::new(),
                law: None,
            }
        })
        .collect()
}

struct Fixture {
    curves: Vec<Curve>,
    extrapolation: Vec<ExtrapolationTest>,
    fits: Vec<FitRecord>,
    scaling: ScalingDoc,
    predictions: PredictDoc,
    decompositions: Vec<Decomposition>,
}

fn fixture(entropy: bool) -> Fixture {
    let curves = fixture_curves(entropy);
    let fits = fits_of(&curves);
    let scaling = scaling_of(&fits);
    let predictions = predictions_of(&scaling);
    let decompositions = decompositions(&curves, 9e4);
    Fixture {
        extrapolation: extrapolation_tests(&curves),
        curves,
        fits,
        scaling,
        predictions,
        decompositions,
    }
}

impl Fixture {
    fn inputs(&self) -> PlotInputs<'_> {
        PlotInputs {
            curves: &self.curves,
            extrapolation: &self.extrapolation,
            fits: &self.fits,
            scaling: Some(&self.scaling),
            predictions: Some(&self.predictions),
            decompositions: &self.decompositions,
            analyses: None,
        }
    }
}

const ALL: [&str; 14] = [
    "gold_vs_kl_bon",
    "gold_vs_kl_rl",
    "coefficients",
    "peak_vs_rm_params",
    "gold_vs_proxy",
    "kl_penalty",
    "data_size",
    "extrapolation",
    "residuals",
    "iterated_rlhf",
    "prediction",
    "gold_vs_entropy",
    "goodhart_decomposition_bon",
    "goodhart_decomposition_rl",
];

fn names(figs: &[Figure]) -> Vec<&'static str> {
    figs.iter().map(|f| f.name).collect()
}

/// The `width="..."`/`height="..."` of the SVG root element.
fn svg_size(svg: &str) -> (u32, u32) {
    let head = &svg[..svg.find('>').expect("svg root element")];
    let attr = |name: &str| -> u32 {
        let at = head.find(&format!(" {name}=\"")).expect("size attribute") + name.len() + 3;
        let rest = &head[at..];
        rest[..rest.find('"').unwrap()]
            .parse()
            .expect("integer size")
    };
    (attr("width"), attr("height"))
}

/// Checks one figure's SVG and PNG; returns the number of non-white pixels and of colours.
fn check_figure(f: &Figure) -> (usize, usize) {
    // SVG
    assert!(f.svg.starts_with("<svg"), "{}: not an SVG", f.name);
    assert!(
        f.svg.trim_end().ends_with("</svg>"),
        "{}: unterminated",
        f.name
    );
    // The only URL is the SVG namespace of the root element.
    let without_ns = f
        .svg
        .replacen("xmlns=\"http://www.w3.org/2000/svg\"", "", 1);
    assert!(
        !without_ns.contains("http://") && !without_ns.contains("https://"),
        "{}: external reference",
        f.name
    );
    assert!(
        !f.svg.contains("NaN") && !f.svg.contains("inf"),
        "{}: non-finite drawn",
        f.name
    );
    assert!(
        !f.title.is_empty() && f.svg.contains(&f.title),
        "{}: no title",
        f.name
    );
    assert!(!f.caption.is_empty());
    // PNG
    assert_eq!(
        &f.png[..8],
        b"\x89PNG\r\n\x1a\n",
        "{}: PNG signature",
        f.name
    );
    assert_eq!(&f.png[12..16], b"IHDR");
    let w = u32::from_be_bytes(f.png[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(f.png[20..24].try_into().unwrap());
    let (sw, sh) = svg_size(&f.svg);
    assert_eq!((w, h), (2 * sw, 2 * sh), "{}: PNG is twice the SVG", f.name);
    let decoder = png::Decoder::new(Cursor::new(&f.png));
    let mut reader = decoder.read_info().expect("PNG header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("PNG data");
    assert_eq!((info.width, info.height), (w, h));
    assert_eq!(info.color_type, png::ColorType::Rgb);
    let px = &buf[..info.buffer_size()];
    let ink = px.chunks_exact(3).filter(|p| *p != [255, 255, 255]).count();
    // distinct colours among every 5th pixel (exact counting is slow in a debug build)
    let mut colours: Vec<u32> = px
        .chunks_exact(15)
        .map(|p| u32::from_be_bytes([0, p[0], p[1], p[2]]))
        .collect();
    colours.sort_unstable();
    colours.dedup();
    (ink, colours.len())
}

#[test]
fn every_figure_renders_valid_svg_and_png() {
    let fx = fixture(true);
    let figs = render_all(&fx.inputs()).expect("render");
    assert_eq!(names(&figs), ALL);
    for f in &figs {
        let (ink, colours) = check_figure(f);
        let (w, h) = svg_size(&f.svg);
        let total = (4 * w * h) as usize;
        assert!(
            ink * 50 > total,
            "{}: almost blank ({ink} of {total})",
            f.name
        );
        assert!(colours >= 8, "{}: only {colours} colours", f.name);
    }
}

#[test]
fn axes_are_titled_with_units() {
    let fx = fixture(true);
    let figs = render_all(&fx.inputs()).expect("render");
    let kl = "KL (nats), square-root scale";
    let expect: BTreeMap<&str, Vec<&str>> = BTreeMap::from([
        (
            "gold_vs_kl_bon",
            vec![kl, "score (RM units)", "RM parameters"],
        ),
        ("gold_vs_kl_rl", vec![kl, "score (RM units)"]),
        (
            "coefficients",
            vec!["RM parameters (log scale)", "α_BoN", "β_RL"],
        ),
        (
            "peak_vs_rm_params",
            vec![
                "RM parameters (log scale)",
                "peak KL (nats), square-root scale",
            ],
        ),
        (
            "gold_vs_proxy",
            vec!["proxy score (RM units)", "gold score (RM units)"],
        ),
        ("kl_penalty", vec![kl, "KL penalty"]),
        (
            "data_size",
            vec!["RM comparisons", "RM parameters (log scale)"],
        ),
        ("extrapolation", vec![kl, "held-out point"]),
        ("residuals", vec![kl, "gold − fitted gold (RM units)"]),
        // R_k is drawn at d², d summed over the rounds: the axis says d_sum², not KL
        (
            "iterated_rlhf",
            vec!["d_sum² (nats), square-root scale", "k = 8"],
        ),
        ("prediction", vec![kl, "gold score above kl = 0 (RM units)"]),
        ("gold_vs_entropy", vec!["policy entropy (nats)", kl]),
        (
            "goodhart_decomposition_bon",
            vec![kl, "regressional", "extremal"],
        ),
        (
            "goodhart_decomposition_rl",
            vec![kl, "proxy − gold (raw units)"],
        ),
    ]);
    for f in &figs {
        for text in &expect[f.name] {
            assert!(f.svg.contains(text), "{}: no '{text}' in the SVG", f.name);
        }
    }
    // The decomposition captions state the formulas.
    let bon = figs
        .iter()
        .find(|f| f.name == "goodhart_decomposition_bon")
        .unwrap();
    assert!(
        bon.caption
            .contains("proxy − gold = regressional + extremal + residual")
    );
    assert!(bon.caption.contains("proxy_bon(n) − (a + b proxy_bon(n))"));
    let rl = figs
        .iter()
        .find(|f| f.name == "goodhart_decomposition_rl")
        .unwrap();
    assert!(rl.caption.contains("(α_proxy − α_gold) d"));
    assert!(rl.caption.contains("f(d) = d ln d"));
}

/// The x position of the tick label `label` in an SVG.
fn label_x(svg: &str, label: &str) -> Option<f64> {
    let end = svg.find(&format!(">\n{label}\n</text>"))?;
    let start = svg[..end].rfind("<text")?;
    let tag = &svg[start..end];
    let at = tag.find(" x=\"")? + 4;
    tag[at..at + tag[at..].find('"')?].parse().ok()
}

#[test]
fn sqrt_kl_ticks_are_labelled_in_nats() {
    let fx = fixture(true);
    let figs = render_all(&fx.inputs()).expect("render");
    let rl = figs.iter().find(|f| f.name == "gold_vs_kl_rl").unwrap();
    // RL curves reach 80 nats: ticks evenly spaced in d = sqrt(KL), labelled with KL in nats
    let x: Vec<f64> = ["0", "4", "16", "36", "64"]
        .iter()
        .map(|l| label_x(&rl.svg, l).unwrap_or_else(|| panic!("no tick {l}")))
        .collect();
    let step = x[1] - x[0];
    assert!(step > 20.0);
    for (i, xi) in x.iter().enumerate() {
        // KL = (2i)^2 sits at d = 2i: equal spacing
        assert!(
            (xi - x[0] - step * i as f64).abs() <= 1.0,
            "tick {i} at {xi}, step {step}"
        );
    }
}

#[test]
fn rendering_is_deterministic() {
    let fx = fixture(true);
    let a = render_all(&fx.inputs()).expect("render");
    let b = render_all(&fx.inputs()).expect("render");
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.svg, y.svg, "{}: SVG differs", x.name);
        assert!(x.png == y.png, "{}: PNG differs", x.name);
        assert_eq!(x.caption, y.caption);
    }
}

#[test]
fn figures_without_data_are_skipped() {
    let fx = fixture(false);
    // no entropy column
    let figs = render_all(&fx.inputs()).expect("render");
    assert!(!names(&figs).contains(&"gold_vs_entropy"));
    // curves only: no fits, scaling, predictions or decompositions
    let bare = PlotInputs {
        curves: &fx.curves,
        extrapolation: &extrapolation_tests(&fx.curves),
        fits: &[],
        scaling: None,
        predictions: None,
        decompositions: &[],
        analyses: None,
    };
    let figs = render_all(&bare).expect("render");
    assert_eq!(
        names(&figs),
        [
            "gold_vs_kl_bon",
            "gold_vs_kl_rl",
            "gold_vs_proxy",
            "kl_penalty",
            "extrapolation"
        ]
    );
    for f in &figs {
        check_figure(f);
    }
    // one RM data size, one penalty, best-of-n only
    let bon: Vec<Curve> = fx
        .curves
        .iter()
        .filter(|c| c.key.method == Method::Bon && c.key.rm_data == Some(9e4))
        .cloned()
        .collect();
    let fits = fits_of(&bon);
    let inp = PlotInputs {
        curves: &bon,
        extrapolation: &extrapolation_tests(&bon),
        fits: &fits,
        scaling: None,
        predictions: None,
        decompositions: &[],
        analyses: None,
    };
    let figs = render_all(&inp).expect("render");
    assert_eq!(
        names(&figs),
        [
            "gold_vs_kl_bon",
            "coefficients",
            "peak_vs_rm_params",
            "gold_vs_proxy",
            "extrapolation",
            "residuals"
        ]
    );
}

/// Review finding (token-world demo): the KL-penalty figure was looked for only in the main
/// group (the most RM data), so a world that sweeps penalties at another data size drew none.
/// It now shows the main group among those swept over two or more penalties.
#[test]
fn the_kl_penalty_figure_shows_a_group_swept_over_penalties() {
    let mut curves = fixture_curves(false);
    // unpenalised RL runs with more RM data (the main group), no penalty sweep there
    let more: Vec<Curve> = curves
        .iter()
        .filter(|c| c.key.method == Method::Rl && c.key.kl_penalty == Some(0.0))
        .map(|c| {
            let mut c = c.clone();
            c.key.rm_data = Some(2e5);
            c
        })
        .collect();
    curves.extend(more);
    curves.sort_by_key(|c| c.key);
    let inp = PlotInputs {
        curves: &curves,
        extrapolation: &extrapolation_tests(&curves),
        fits: &[],
        scaling: None,
        predictions: None,
        decompositions: &[],
        analyses: None,
    };
    let figs = render_all(&inp).expect("render");
    let fig = figs
        .iter()
        .find(|f| f.name == "kl_penalty")
        .expect("the KL-penalty figure is drawn");
    check_figure(fig);
    assert!(fig.caption.contains("RM data 90k"), "{}", fig.caption);
    assert!(!fig.caption.contains("RM data 200k"), "{}", fig.caption);
}

#[test]
fn degenerate_input_does_not_panic() {
    let one = |kl: Vec<f64>, gold: Vec<f64>| {
        let n = kl.len();
        Curve {
            key: key(Method::Rl, 1e6, None, None),
            kl,
            gold,
            proxy: Some(vec![Some(f64::NAN); n]),
            gold_se: Some(vec![f64::NAN; n]),
            proxy_se: None,
            entropy: Some(vec![None; n]),
            replicates: Vec::new(),
            prompts: None,
        }
    };
    let cases = vec![
        vec![one(vec![1.0], vec![0.5])],
        vec![one(vec![0.0; 5], vec![0.1, 0.2, 0.3, 0.2, 0.1])],
        vec![one(
            vec![0.0, f64::NAN, 2.0, f64::INFINITY],
            vec![f64::NAN, 1.0, f64::NAN, 2.0],
        )],
        vec![one(Vec::new(), Vec::new())],
        vec![one(vec![1e-300, 1e300], vec![-1e300, 1e300])],
    ];
    let t0 = std::time::Instant::now();
    let fx = fixture(true);
    eprintln!("fixture {:?}", t0.elapsed());
    // fits and decompositions with NaN values
    let mut bad_fits = fx.fits.clone();
    for f in bad_fits.iter_mut().step_by(3) {
        if let Some(p) = f.params.get_mut("beta") {
            p.value = f64::NAN;
        }
        if let Some(p) = f.params.get_mut("alpha") {
            p.se = Some(f64::INFINITY);
        }
    }
    let mut bad_dec = fx.decompositions.clone();
    for d in &mut bad_dec {
        for p in d.points.iter_mut().step_by(2) {
            p.extremal = f64::NAN;
            p.kl = f64::NAN;
        }
    }
    bad_dec.push(Decomposition {
        key: key(Method::Bon, 5e6, Some(9e4), None),
        source: DecompositionSource::Coefficients,
        form: goodhart::forms::FormId::Bon,
        points: Vec::new(),
        grid: Vec::new(),
        at_peak: None,
        at_peak_reason: None,
        se_method: None,
        fits_ci: None,
        at_max_kl: None,
        units: goodhart::goodhart::Units::Raw,
        reference: None,
        oracle: Vec::new(),
        law: None,
    });
    for curves in &cases {
        for (fits, dec) in [(&fx.fits[..], &bad_dec[..]), (&bad_fits[..], &[][..])] {
            let inp = PlotInputs {
                curves,
                extrapolation: &extrapolation_tests(curves),
                fits,
                scaling: Some(&fx.scaling),
                predictions: Some(&fx.predictions),
                decompositions: dec,
                analyses: None,
            };
            let t = std::time::Instant::now();
            let figs = render_all(&inp).expect("degenerate input renders or skips");
            eprintln!(
                "case {:?}: {} figures in {:?}",
                curves[0].kl.first(),
                figs.len(),
                t.elapsed()
            );
            for f in &figs {
                check_figure(f);
            }
        }
    }
    // the full fixture with the broken fits and decompositions
    let inp = PlotInputs {
        curves: &fx.curves,
        extrapolation: &extrapolation_tests(&fx.curves),
        fits: &bad_fits,
        scaling: Some(&fx.scaling),
        predictions: Some(&fx.predictions),
        decompositions: &bad_dec,
        analyses: None,
    };
    let t0 = std::time::Instant::now();
    let figs = render_all(&inp).expect("render");
    eprintln!("full render {:?}", t0.elapsed());
    let t0 = std::time::Instant::now();
    for f in &figs {
        check_figure(f);
    }
    eprintln!("checks {:?}", t0.elapsed());
}

#[test]
fn write_figures_writes_svg_and_png() {
    let fx = fixture(true);
    let figs = render_all(&fx.inputs()).expect("render");
    let dir = tempfile::tempdir().unwrap();
    let paths = write_figures(&figs[..2], dir.path()).expect("write");
    let names: Vec<String> = paths
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "gold_vs_kl_bon.svg",
            "gold_vs_kl_bon.png",
            "gold_vs_kl_rl.svg",
            "gold_vs_kl_rl.png"
        ]
    );
    assert_eq!(std::fs::read(&paths[1]).unwrap(), figs[0].png);
    assert_eq!(std::fs::read_to_string(&paths[2]).unwrap(), figs[1].svg);
    // a missing folder is an error, not a panic
    assert!(write_figures(&figs[..1], &dir.path().join("missing")).is_err());
}

/// Renders the figures of a `goodhart generate sim` world: set GOODHART_PLOT_SIM to a folder
/// holding bon_curves.csv, rl_runs.csv, fits.json and scaling.json; the figures are written to
/// its `figures/` subfolder.
#[test]
#[ignore]
fn render_sim_world() {
    let Ok(dir) = std::env::var("GOODHART_PLOT_SIM") else {
        return;
    };
    let dir = Path::new(&dir);
    let (curves, _) = goodhart::curves::read_curves(
        &[dir.join("bon_curves.csv"), dir.join("rl_runs.csv")],
        &Default::default(),
        &Default::default(),
    )
    .unwrap();
    let fits = FitsDocument::read(&dir.join("fits.json")).unwrap().fits;
    let scaling = ScalingDoc::read(&dir.join("scaling.json")).unwrap();
    let predictions = predict(
        &scaling,
        &PredictOptions {
            sizes: vec![23200.0],
            method: None,
            kl: None,
            iterations: None,
            model: LawModel::LogLinear,
        },
    )
    .unwrap();
    let with_proxy: Vec<Curve> = curves
        .iter()
        .filter(|c| c.proxy.is_some() && c.key.policy_params.unwrap_or(152.0) == 152.0)
        .cloned()
        .collect();
    let decompositions = decompositions(&with_proxy, 4000.0);
    let inp = PlotInputs {
        curves: &curves,
        extrapolation: &extrapolation_tests(&curves),
        fits: &fits,
        scaling: Some(&scaling),
        predictions: Some(&predictions),
        decompositions: &decompositions,
        analyses: None,
    };
    let t = std::time::Instant::now();
    let figs = render_all(&inp).unwrap();
    eprintln!("rendered {} figures in {:?}", figs.len(), t.elapsed());
    let out = dir.join("figures");
    std::fs::create_dir_all(&out).unwrap();
    write_figures(&figs, &out).unwrap();
    let fx = fixture(true);
    let out2 = dir.join("fixture_figures");
    std::fs::create_dir_all(&out2).unwrap();
    write_figures(&render_all(&fx.inputs()).unwrap(), &out2).unwrap();
    for f in &figs {
        eprintln!("{}: {}\n", f.name, f.caption);
    }
}

// ---- the figure fixes of issue 15, point 8: checked on the scene model ----

use goodhart::plot::scene::{Item, Marker, Swatch, layout};
use goodhart::plot::{Draft, drafts};

fn draft<'a>(all: &'a [Draft], name: &str) -> &'a Draft {
    all.iter()
        .find(|d| d.name == name)
        .unwrap_or_else(|| panic!("no figure {name}"))
}

/// Position of a value on an axis scale (as the scene maps it).
fn fwd(scale: goodhart::plot::scene::Scale, v: f64) -> f64 {
    scale.fwd(v)
}

#[test]
fn every_drawn_point_is_inside_its_panel_and_predicted_diamonds_match_the_legend() {
    let fx = fixture(true);
    let all = drafts(&fx.inputs());
    for d in &all {
        let lay = layout(&d.scene);
        for (panel, ((x0, x1), (y0, y1))) in d.scene.panels.iter().zip(lay.ranges()) {
            for it in &panel.items {
                if let Item::Points { pts, .. } = it {
                    for &(x, y) in pts {
                        let (u, v) = (fwd(panel.x.scale, x), fwd(panel.y.scale, y));
                        if !(u.is_finite() && v.is_finite()) {
                            continue;
                        }
                        assert!(
                            u >= x0 - 1e-9 && u <= x1 + 1e-9 && v >= y0 - 1e-9 && v <= y1 + 1e-9,
                            "{} / {}: point ({x}, {y}) outside the panel",
                            d.name,
                            panel.title
                        );
                    }
                }
            }
        }
    }
    // peak_vs_rm_params: a legend entry with a diamond exactly when a diamond is drawn
    let peaks = draft(&all, "peak_vs_rm_params");
    let diamonds_drawn = peaks.scene.panels.iter().any(|p| {
        p.items.iter().any(
            |it| matches!(it, Item::Points { pts, marker: Marker::Diamond, .. } if !pts.is_empty()),
        )
    });
    let diamonds_listed = peaks
        .scene
        .legend
        .iter()
        .any(|e| matches!(e.swatch, Swatch::Marker(_, Marker::Diamond)));
    assert_eq!(diamonds_drawn, diamonds_listed);
    // predictions whose peak is null are never listed as drawn
    let mut no_peaks = fx.predictions.clone();
    for p in &mut no_peaks.predictions {
        p.peak = None;
    }
    let inputs = PlotInputs {
        predictions: Some(&no_peaks),
        ..fx.inputs()
    };
    let all = drafts(&inputs);
    let peaks = draft(&all, "peak_vs_rm_params");
    assert!(
        !peaks
            .scene
            .legend
            .iter()
            .any(|e| matches!(e.swatch, Swatch::Marker(_, Marker::Diamond))),
        "a predicted entry in the legend with no diamond drawn"
    );
    assert!(
        peaks.caption.contains("have no peak the laws can place"),
        "{}",
        peaks.caption
    );
}

#[test]
fn fitted_peaks_beyond_the_data_are_drawn_as_rings_with_a_legend_entry() {
    let fx = fixture(true);
    let rings = |fits: &[FitRecord]| {
        let inputs = PlotInputs {
            fits,
            ..fx.inputs()
        };
        let all = drafts(&inputs);
        let d = draft(&all, "peak_vs_rm_params");
        let drawn: usize = d.scene.panels[0]
            .items
            .iter()
            .map(|it| match it {
                Item::Points {
                    pts,
                    marker: Marker::Ring,
                    ..
                } => pts.len(),
                _ => 0,
            })
            .sum();
        let listed = d
            .scene
            .legend
            .iter()
            .any(|e| matches!(e.swatch, Swatch::Marker(_, Marker::Ring)));
        (drawn, listed)
    };
    // as fitted: a ring entry in the legend exactly when a ring is drawn
    let (drawn, listed) = rings(&fx.fits);
    assert_eq!(drawn > 0, listed);
    // cut every curve's KL range below its peak: each drawn peak becomes a ring
    let mut cut = fx.fits.clone();
    let mut expected = 0;
    for f in &mut cut {
        if let Some(p) = f.peak {
            f.kl_max = Some(p.kl / 2.0);
        }
    }
    let all = drafts(&PlotInputs {
        fits: &cut,
        ..fx.inputs()
    });
    for it in &draft(&all, "peak_vs_rm_params").scene.panels[0].items {
        if let Item::Points {
            pts,
            marker: Marker::Dot,
            ..
        } = it
        {
            assert!(pts.is_empty(), "a peak beyond the data drawn as a dot");
        }
        if let Item::Points {
            pts,
            marker: Marker::Ring,
            ..
        } = it
        {
            expected += pts.len();
        }
    }
    assert!(expected > 0);
    assert_eq!(rings(&cut), (expected, true));
}

#[test]
fn sqrt_tick_labels_are_squares_of_round_numbers() {
    use goodhart::plot::scene::sqrt_ticks;
    // every label is exactly (k * step)^2 for a step of 1, 2 or 5 times a power of ten
    let mut hi = 0.013;
    while hi < 2000.0 {
        for n in [3.0, 4.0, 5.0, 6.0] {
            let ticks = sqrt_ticks(hi, n);
            assert!(ticks.len() >= 2, "hi {hi} n {n}: {ticks:?}");
            let step = ticks[1].0;
            let mant = step / 10f64.powf(step.log10().floor());
            assert!(
                [1.0, 2.0, 5.0].iter().any(|m| (mant - m).abs() < 1e-9),
                "hi {hi}: step {step}"
            );
            for (d, label) in &ticks {
                let value: f64 = if let Some(k) = label.strip_suffix('k') {
                    k.parse::<f64>().unwrap() * 1000.0
                } else {
                    label.parse().unwrap_or_else(|_| panic!("label {label}"))
                };
                assert!(
                    (value - d * d).abs() <= 1e-9 * (1.0 + d * d),
                    "hi {hi}: label {label} at d = {d} is not d² = {}",
                    d * d
                );
            }
        }
        hi *= 1.37;
    }
    // the case of the issue: a KL axis up to 60 nats has no "56.2"
    let labels: Vec<String> = sqrt_ticks(60f64.sqrt(), 5.0)
        .into_iter()
        .map(|t| t.1)
        .collect();
    assert!(!labels.iter().any(|l| l == "56.2"), "{labels:?}");
    // and the rendered demo-like figure: every KL axis of every figure
    let fx = fixture(true);
    for d in drafts(&fx.inputs()) {
        let lay = layout(&d.scene);
        for (panel, (xt, _)) in d.scene.panels.iter().zip(lay.tick_labels()) {
            if panel.x.scale != goodhart::plot::scene::Scale::Sqrt {
                continue;
            }
            for l in xt {
                let v: f64 = l.parse().unwrap_or_else(|_| panic!("{}: {l}", d.name));
                let r = v.sqrt();
                // r is a multiple of 1, 2 or 5 times a power of ten with at most 3 digits
                let scaled = r * 1e3;
                assert!(
                    (scaled - scaled.round()).abs() < 1e-6,
                    "{}: tick {l} is not a square of a round number",
                    d.name
                );
            }
        }
    }
}

#[test]
fn decomposition_bands_stay_near_the_estimates_and_have_their_own_legend_colours() {
    let mut fx = fixture(true);
    // standard errors 100x the parts: the bands would fill every panel
    for d in &mut fx.decompositions {
        for p in d.points.iter_mut().chain(d.grid.iter_mut()) {
            p.regressional_se = p.regressional_se.map(|s| s * 100.0);
            p.extremal_se = p.extremal_se.map(|s| s * 100.0);
        }
    }
    let all = drafts(&fx.inputs());
    for name in ["goodhart_decomposition_bon", "goodhart_decomposition_rl"] {
        let d = draft(&all, name);
        let lay = layout(&d.scene);
        for (panel, (_, (y0, y1))) in d.scene.panels.iter().zip(lay.ranges()) {
            // the estimates' own range
            let mut est: Vec<f64> = vec![0.0];
            for it in &panel.items {
                if let Item::Points { pts, .. } = it {
                    est.extend(pts.iter().map(|p| p.1));
                }
                // every line but the dashed band edges (the fixture has no oracle line)
                if let Item::Line { pts, dash, .. } = it
                    && *dash != goodhart::plot::scene::Dash::Dashed
                {
                    est.extend(pts.iter().map(|p| p.1));
                }
            }
            let lo = est.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = est.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            // the panel shows at most a quarter of the estimates' span beyond them on each
            // side, plus the axis' 5% padding on each side
            let span = hi - lo;
            assert!(
                y1 - y0 <= 1.5 * span * 1.1 + 1e-9,
                "{name} / {}: y range {y0}..{y1} for estimates {lo}..{hi}",
                panel.title
            );
            for it in &panel.items {
                if let Item::Band { pts, .. } = it {
                    for &(_, a, b) in pts {
                        assert!(a >= lo - 0.25 * span - 1e-9 && b <= hi + 0.25 * span + 1e-9);
                    }
                }
            }
        }
        assert!(d.caption.contains("is cut there"), "{}", d.caption);
        // one legend patch per band colour, none grey
        let bands: Vec<_> = d
            .scene
            .legend
            .iter()
            .filter_map(|e| match e.swatch {
                Swatch::Band(c) => Some((e.label.clone(), c)),
                _ => None,
            })
            .collect();
        assert_eq!(bands.len(), 2, "{bands:?}");
        assert_ne!(bands[0].1, bands[1].1);
        for (label, color) in &bands {
            let line = d.scene.legend.iter().find(|e| {
                matches!(e.swatch, Swatch::Line(c, _) if c == *color)
                    && label.starts_with(e.label.as_str())
            });
            assert!(line.is_some(), "band {label} has no part of its colour");
        }
    }
}

#[test]
fn law_bands_of_three_sizes_do_not_fill_the_coefficient_panels() {
    // three sizes: a law with 1 degree of freedom (t = 12.7)
    let fx = fixture(true);
    let three: Vec<FitRecord> = fx
        .fits
        .iter()
        .filter(|f| f.rm_params != SIZES[1])
        .cloned()
        .collect();
    let scaling = scaling_of(&three);
    let inputs = PlotInputs {
        fits: &three,
        scaling: Some(&scaling),
        predictions: None,
        ..fx.inputs()
    };
    let all = drafts(&inputs);
    let d = draft(&all, "coefficients");
    let lay = layout(&d.scene);
    for (panel, (_, (y0, y1))) in d.scene.panels.iter().zip(lay.ranges()) {
        let mut est = Vec::new();
        for it in &panel.items {
            match it {
                Item::Points { pts, .. } => est.extend(pts.iter().map(|p| p.1)),
                Item::ErrorBars { bars, .. } => est.extend(bars.iter().flat_map(|b| [b.1, b.2])),
                _ => {}
            }
        }
        let lo = est.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = est.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert!(
            y1 - y0 <= 1.2 * (hi - lo),
            "{}: axis follows the band",
            panel.title
        );
        for it in &panel.items {
            if let Item::Band { pts, .. } = it {
                let span = hi - lo;
                for &(_, a, b) in pts {
                    assert!(
                        a >= lo - 0.5 * span && b <= hi + 0.5 * span,
                        "{}: a filled band fills the panel",
                        panel.title
                    );
                }
            }
        }
    }
}

#[test]
fn captions_state_the_trend_of_these_data() {
    let fx = fixture(true);
    let caption = |fits: &[FitRecord]| {
        let all = drafts(&PlotInputs {
            fits,
            ..fx.inputs()
        });
        draft(&all, "gold_vs_kl_bon").caption.clone()
    };
    let up = caption(&fx.fits);
    // the fixture's BoN peaks rise with size (alpha up, beta down)
    assert!(
        up.contains("larger RMs (lighter colours) peak at larger KL"),
        "{up}"
    );
    // flip the data: larger RMs get the smaller ones' peaks
    let mut flipped = fx.fits.clone();
    let bon: Vec<usize> = (0..flipped.len())
        .filter(|&i| {
            flipped[i].method == Method::Bon
                && flipped[i].target == goodhart::document::Target::Gold
                && flipped[i].peak.is_some()
        })
        .collect();
    let peaks: Vec<_> = bon.iter().map(|&i| flipped[i].peak).collect();
    let sizes: Vec<f64> = bon.iter().map(|&i| flipped[i].rm_params).collect();
    for &i in &bon {
        // the peak of the size mirrored in log space
        let mirror = SIZES[0] * SIZES[3] / flipped[i].rm_params;
        let j = sizes
            .iter()
            .enumerate()
            .min_by(|a, b| {
                (a.1.ln() - mirror.ln())
                    .abs()
                    .total_cmp(&(b.1.ln() - mirror.ln()).abs())
            })
            .map(|(j, _)| j)
            .unwrap();
        flipped[i].peak = peaks[j];
    }
    let down = caption(&flipped);
    assert!(down.contains("peak at smaller KL"), "{down}");
    assert_ne!(up, down);
    assert!(!up.contains("peak later and higher"));
}
