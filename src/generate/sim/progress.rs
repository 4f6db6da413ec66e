//! Where the stages of a simulation (reward models, best-of-n, RL) are reported: an observer of
//! the application layer ([`crate::progress::Observer`]), or nothing; the library draws nothing.

use crate::progress::{Observer, Silent, Stage};

/// Where the stages of the simulation are reported.
#[derive(Clone, Copy)]
pub struct Progress {
    observer: &'static dyn Observer,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}

impl Progress {
    /// Reports to `observer`.
    pub fn new(observer: &'static dyn Observer) -> Progress {
        Progress { observer }
    }

    /// Reports nothing.
    pub fn hidden() -> Progress {
        Progress { observer: &Silent }
    }

    /// A stage of `len` steps named `name`.
    pub(crate) fn stage(&self, name: &str, len: usize) -> Box<dyn Stage> {
        self.observer.stage(name, len as u64)
    }

    /// The stage is over.
    pub(crate) fn done(&self, bar: &dyn Stage) {
        bar.finish();
    }
}
