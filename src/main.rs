//! The `goodhart` binary: parse the command line, run the library, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc rather than glibc's malloc: fewer page faults on the fresh memory of large inputs
/// (Cargo.toml). Only the binary sets it; the library leaves the allocator to its users.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

unsafe extern "C" {
    /// mimalloc's `mi_option_set` (its C API, linked in by `libmimalloc-sys`; the crate's typed
    /// binding needs its `extended` feature and another dependency for this one call).
    fn mi_option_set(option: std::os::raw::c_int, value: std::os::raw::c_long);
}

/// `mi_option_purge_delay` in mimalloc's `mi_option_t` (v2 and v3): how long freed memory is
/// kept before it is returned to the operating system.
const MI_OPTION_PURGE_DELAY: std::os::raw::c_int = 15;

fn main() -> ExitCode {
    // Freed memory is kept for reuse instead of being returned after 10 ms: a command's working
    // set is bounded (batches, chunks of fits), and memory handed back and touched again costs
    // a page fault and the kernel's zeroing per page, which measured 10-20% of `goodhart bon`'s
    // CPU time on a 10^7-sample file. Peak memory is unchanged.
    // SAFETY: a plain option setter of the allocator linked above, called before any thread.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    // No transparent huge pages for this process. mimalloc asks for them (madvise) on its
    // arenas, and where the kernel's THP defrag setting is `madvise` (a common default) a first
    // touch of such memory may wait for the kernel to compact memory into a free 2 MiB page:
    // on the 2-core benchmark machine, half of the runs of `goodhart bon` on a 10^7-sample file
    // spent 0.3-0.5 s of system time there (0.02-0.08 s otherwise), doubling the wall time.
    // Without THP every run takes the short time, and peak memory is 5-10% lower.
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and sets only this process's THP flag; an
    // error (an old kernel) leaves THP as it was.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
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
