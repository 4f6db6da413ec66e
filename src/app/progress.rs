//! Progress bars on the terminal (indicatif), the application's [`Observer`]: one bar per
//! stage on stderr when it is a terminal and not `--quiet`; nothing otherwise.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::progress::{Observer, Silent, Stage};

/// Bars on stderr.
pub struct TerminalProgress;

struct Bar(ProgressBar);

impl Stage for Bar {
    fn inc(&self, n: u64) {
        self.0.inc(n);
    }

    /// Leaves the finished bar on its own line.
    fn finish(&self) {
        self.0.finish();
        eprintln!();
    }
}

impl Observer for TerminalProgress {
    fn stage(&self, name: &str, len: u64) -> Box<dyn Stage> {
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
        if let Ok(style) =
            ProgressStyle::with_template("{prefix:>15} [{bar:32}] {pos}/{len} {elapsed}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(name.to_string());
        Box::new(Bar(bar))
    }
}

/// The observer for a command: bars when stderr is a terminal and `quiet` is off.
pub fn for_terminal(quiet: bool) -> &'static dyn Observer {
    if !quiet && std::io::stderr().is_terminal() {
        &TerminalProgress
    } else {
        &Silent
    }
}
