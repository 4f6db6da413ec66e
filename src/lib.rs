//! goodhart: scaling laws of reward-model overoptimization from RLHF and best-of-n logs.
//!
//! The data flow is one way: [`ingest`] reads tidy tables into plain columns, [`curves`]
//! validates and groups them, [`fit`] fits the functional forms of [`forms`] exactly, and
//! [`export`] writes the fits JSON contract, a flat CSV and reports. [`generate`] makes data
//! with known truth; [`demo`] runs the whole job on the bundled default.

pub mod bon;
pub mod cli;
pub mod commands;
pub mod compare_forms;
pub mod convert;
pub mod curves;
pub mod demo;
pub mod error;
pub mod export;
pub mod fit;
pub mod form_fit;
pub mod forms;
pub mod fuzzing;
pub mod generate;
pub mod goodhart;
pub mod ingest;
pub mod inspect;
pub mod nonlinear;
pub mod output;
pub mod plot;
pub mod report;
pub mod scaling;
pub mod schema;
pub mod shared_alpha;
pub mod version;

pub use error::{Error, Result};
