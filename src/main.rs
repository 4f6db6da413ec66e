//! The `goodhart` binary: parse the command line, run the library, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc rather than glibc's malloc: fewer page faults on the fresh memory of large inputs
/// (Cargo.toml). Only the binary sets it; the library leaves the allocator to its users.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match goodhart::app::cli::Cli::try_parse() {
        Ok(cli) => cli,
        // clap prints help and version to stdout (exit 0) and usage errors to stderr (exit 2).
        Err(e) => e.exit(),
    };
    if let Err(e) = goodhart::app::install_interrupt_handler() {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let top = err.to_string();
            eprintln!("error: {top}");
            // Library errors already name their cause; print only causes not yet said.
            for cause in err.chain().skip(1) {
                let cause = cause.to_string();
                if !top.contains(&cause) {
                    eprintln!("  caused by: {cause}");
                }
            }
            let code = err
                .downcast_ref::<goodhart::Error>()
                .map_or(1, goodhart::Error::exit_code);
            ExitCode::from(code as u8)
        }
    }
}

fn run(cli: goodhart::app::cli::Cli) -> anyhow::Result<()> {
    goodhart::app::run(cli)?;
    Ok(())
}
