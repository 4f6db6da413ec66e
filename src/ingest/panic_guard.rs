//! Some readers (polars' Parquet metadata parser among them) panic on malformed input instead of
//! returning an error. Such calls run inside [`guarded`]: the panic becomes an `Err` that the
//! reader turns into one clear message, and its text and backtrace are not printed.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Guarded calls running now, on any thread: while one runs, panic messages are not printed.
/// (A library's worker threads may panic for the guarded call, so the flag is not per thread.)
static GUARDED: AtomicUsize = AtomicUsize::new(0);
static HOOK: Once = Once::new();

/// Runs `f`, turning a panic inside it into `Err(())` without printing the panic message.
/// Panics outside guarded calls still reach the previous hook (the default one prints them;
/// a fuzzer's aborts).
pub(crate) fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, ()> {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if GUARDED.load(Ordering::SeqCst) == 0 {
                previous(info);
            }
        }));
    });
    GUARDED.fetch_add(1, Ordering::SeqCst);
    let result = catch_unwind(AssertUnwindSafe(f));
    GUARDED.fetch_sub(1, Ordering::SeqCst);
    result.map_err(|_| ())
}
