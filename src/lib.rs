//! goodhart: scaling laws of reward-model overoptimization from RLHF and best-of-n logs.
//!
//! The data flow is one way (ARCHITECTURE.md): [`ingest`] reads tables and trainer logs into
//! plain columns, [`curves`] validates and groups them (or [`bon`] turns scored samples into
//! best-of-n curves), [`fit`] fits the functional forms of [`forms`] exactly with the solvers of
//! [`solve`], [`scaling`] regresses the coefficients on size and predicts, [`goodhart`] splits
//! the proxy-gold gap, and [`plot`] and [`report`] draw and write it. Stages pass the typed
//! documents of [`document`] in memory; [`app`] is the command line on top. [`generate`] makes
//! data with known truth.

pub mod analyses;
pub mod app;
pub mod bon;
pub mod convert;
pub mod curves;
pub mod document;
pub mod error;
pub mod export;
pub mod fit;
pub mod format;
pub mod forms;
pub mod fuzzing;
pub mod generate;
pub mod goodhart;
pub mod ingest;
pub mod inspect;
pub mod output;
pub mod plot;
pub mod progress;
pub mod report;
pub mod scaling;
pub mod schema;
pub mod solve;
pub mod stats;
pub mod version;

pub use error::{Error, Result};
