//! The application layer: the command line ([`cli`]), one function per command that turns
//! parsed arguments into the library's typed options, calls the library, and prints what the
//! user should see. The only layer that knows about the command line or writes to the terminal
//! (ARCHITECTURE.md, "Layers").

mod analyze;
pub mod cli;
mod data;
pub mod demo;
mod fit;
mod laws;
pub mod progress;
mod report;

use crate::error::Result;
use crate::output::write_stdout;
use cli::{Cli, Command, GenerateKind};

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let quiet = cli.quiet;
    match cli.command {
        Command::Demo(a) => demo::command(&a, quiet),
        Command::Generate(GenerateKind::Law(a)) => data::generate_law(&a, quiet),
        Command::Generate(GenerateKind::Sim(a)) => data::generate_sim(&a, quiet),
        Command::Generate(GenerateKind::Tokens(a)) => data::generate_tokens(&a, quiet),
        Command::Inspect(a) => data::inspect(&a, quiet),
        Command::Fit(a) => fit::command(&a, quiet, a.verbose),
        Command::Bon(a) => data::bon(&a, quiet),
        Command::Convert(a) => data::convert(&a, quiet),
        Command::Scale(a) => laws::scale(&a, quiet),
        Command::Predict(a) => laws::predict(&a, quiet),
        Command::Analyze(a) => analyze::command(&a, quiet),
        Command::Report(a) => report::command(&a, quiet),
        Command::Completions(a) => {
            if quiet {
                // The script is the output: there is nothing for --quiet to silence.
                return Err(crate::Error::Usage(
                    "--quiet does not apply to completions: the script on stdout is its only output"
                        .to_string(),
                ));
            }
            completions(a.shell)
        }
    }
}

/// Prints the completion script of `shell` on stdout (clap_complete).
fn completions(shell: cli::ShellArg) -> Result<()> {
    use clap::CommandFactory as _;
    use clap_complete::Shell;
    let shell = match shell {
        cli::ShellArg::Bash => Shell::Bash,
        cli::ShellArg::Zsh => Shell::Zsh,
        cli::ShellArg::Fish => Shell::Fish,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "goodhart", &mut script);
    write_stdout(&script)
}

/// Prints one `wrote PATH (DETAIL)` line on stderr unless quiet: the one form every command
/// uses to say what it wrote (stdout is kept for tables and reports, and for outputs sent to
/// `-`).
fn print_wrote(quiet: bool, path: &std::path::Path, detail: &str) {
    if quiet {
        return;
    }
    if detail.is_empty() {
        eprintln!("wrote {}", path.display());
    } else {
        eprintln!("wrote {} ({detail})", path.display());
    }
}

/// Installs the SIGINT/SIGTERM/SIGHUP handler: unfinished outputs are removed and one line is
/// printed, saying so only when there were any, and naming the folders whose outputs this run
/// had already put in place, complete (if stderr is gone, the exit status still tells).
pub fn install_interrupt_handler() -> Result<()> {
    crate::output::install_interrupt_handler(|found| {
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "{}", found.message());
    })
}

/// Prints each message on stderr as `<label>: <message>` unless quiet.
fn print_all(quiet: bool, label: &str, messages: &[String]) {
    if quiet {
        return;
    }
    for m in messages {
        eprintln!("{label}: {m}");
    }
}

/// Prints text on stdout unless quiet (a closed pipe is not an error).
fn print_out(quiet: bool, text: &str) -> Result<()> {
    if quiet {
        return Ok(());
    }
    write_stdout(text.as_bytes())
}

pub use crate::output::ensure_not_input;
pub use data::law_spec;

/// The files a runs manifest (`--runs`) names, itself included: inputs no output may replace.
fn manifest_inputs(logs: &crate::ingest::LogOptions) -> Result<Vec<std::path::PathBuf>> {
    match &logs.runs {
        Some(r) => Ok(crate::ingest::manifest::read(r, logs)?.inputs()),
        None => Ok(Vec::new()),
    }
}

/// Whether an output path is written whatever its name says: `-` (stdout), or an existing
/// path that is not a regular file (a device such as `/dev/stdout`, or a folder, which
/// creating the output refuses with its own message).
fn any_name(path: &std::path::Path) -> bool {
    path.as_os_str() == "-" || std::fs::metadata(path).is_ok_and(|m| !m.is_file())
}

/// A usage error (exit 2) when the file name of an output flag that receives JSON (`what`)
/// ends in a table extension (`.csv`, `.parquet`, `.ndjson`, ...): the command would write
/// JSON under a name that says another format. `instead` completes the message (which flag
/// writes that table, if any).
fn json_output(flag: &str, path: &std::path::Path, what: &str, instead: &str) -> Result<()> {
    if any_name(path) {
        return Ok(());
    }
    match crate::ingest::Format::from_path(path) {
        Ok(format) => Err(crate::Error::Usage(format!(
            "{flag} {}: {what} is JSON, not {}: give a .json file (or - for stdout){instead}",
            path.display(),
            format.name()
        ))),
        Err(_) => Ok(()),
    }
}

/// A usage error (exit 2) when the file name of an output flag that receives a table has no
/// table extension: the format follows the extension (`.csv`, `.parquet`/`.pq`,
/// `.ndjson`/`.jsonl`; `json`: the flag also takes `.json`, checked by the caller).
fn table_output(flag: &str, path: &std::path::Path, json: bool) -> Result<()> {
    if any_name(path) {
        return Ok(());
    }
    match crate::ingest::Format::from_path(path) {
        Ok(_) => Ok(()),
        Err(_) => Err(crate::Error::Usage(format!(
            "{flag} {}: {}: the format follows the extension: use {}.csv, .parquet, .ndjson or .jsonl",
            path.display(),
            match path.extension() {
                Some(e) => format!("unknown file type '{}'", e.to_string_lossy()),
                None => "no file extension".to_string(),
            },
            if json { ".json, " } else { "" }
        ))),
    }
}

/// A usage error (exit 2) when the file name of an output flag that always receives CSV ends
/// in another table extension or `.json`.
fn csv_output(flag: &str, path: &std::path::Path, what: &str) -> Result<()> {
    if any_name(path) {
        return Ok(());
    }
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let other = match crate::ingest::Format::from_path(path) {
        Ok(crate::ingest::Format::Csv) => return Ok(()),
        Ok(f) => f.name(),
        Err(_) if ext == "json" => "JSON",
        Err(_) => return Ok(()),
    };
    Err(crate::Error::Usage(format!(
        "{flag} {}: {what} is CSV, not {other}: give a .csv file (or - for stdout)",
        path.display()
    )))
}
