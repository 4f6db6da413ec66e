//! The integration tests, as one test binary (`cargo test --test it`): one module per former
//! `tests/*.rs` file, so that polars is linked once rather than once per file. Run one module
//! with `cargo test --test it MODULE::`, e.g. `cargo test --test it demo::`.

mod common;

mod adapters;
mod analyses;
mod architecture;
mod bad_corpus;
mod bad_input;
mod bon_bad_input;
mod bon_cli;
mod bon_estimator;
mod bon_intervals;
mod bon_merge;
mod bon_parquet_fast;
mod cli_fit;
mod decomposition;
mod decomposition_units;
mod demo;
mod document;
mod examples;
mod extremes;
mod fast_curves;
mod fit_checks;
mod fit_exact;
mod fit_stream;
mod fit_weights;
mod flag_values;
mod flag_walk;
mod fuzz_corpus;
mod input_errors;
mod law_recovery;
mod manifest;
mod nist_linear;
mod nist_nonlinear;
mod output_failures;
mod outputs_cli;
mod parquet_unequal_lengths;
mod plot_render;
mod properties;
mod report;
mod scaling_cli;
mod scaling_predict;
mod scaling_recovery;
mod scaling_scatter;
mod sim_cli;
mod sim_world;
mod tfevents;
mod tokens;
mod trl_today;
