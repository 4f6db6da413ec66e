//! Progress bars for the stages of a simulation (reward models, best-of-n, RL), shown on
//! stderr only when it is a terminal, so scripted and quiet runs print nothing.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Progress bars, one per stage, on stderr when it is a terminal and not `--quiet`.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub visible: bool,
}

impl Progress {
    /// Visible when stderr is a terminal and `quiet` is off.
    pub fn for_terminal(quiet: bool) -> Progress {
        Progress {
            visible: !quiet && std::io::stderr().is_terminal(),
        }
    }

    pub fn hidden() -> Progress {
        Progress { visible: false }
    }

    /// A bar of `len` steps for the stage `name` (drawn nowhere when hidden).
    pub(super) fn stage(&self, name: &str, len: usize) -> ProgressBar {
        let target = if self.visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(len as u64), target);
        if let Ok(style) =
            ProgressStyle::with_template("{prefix:>15} [{bar:32}] {pos}/{len} {elapsed}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(name.to_string());
        bar
    }

    /// Leaves the finished bar on its own line.
    pub(super) fn done(&self, bar: &ProgressBar) {
        bar.finish();
        if self.visible {
            eprintln!();
        }
    }
}
