//! Progress of long work, reported through a small observer trait so that the library never
//! draws on the terminal itself: the application layer decides what to show (a progress bar
//! on a terminal, nothing when piped or `--quiet`).

/// Receives the stages of long work.
pub trait Observer: Sync {
    /// A stage of `len` steps named `name` starts.
    fn stage(&self, name: &str, len: u64) -> Box<dyn Stage>;
}

/// One running stage.
pub trait Stage: Send + Sync {
    /// `n` more steps are done.
    fn inc(&self, n: u64);
    /// The stage is over.
    fn finish(&self);
}

/// Shows nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

struct SilentStage;

impl Stage for SilentStage {
    fn inc(&self, _: u64) {}
    fn finish(&self) {}
}

impl Observer for Silent {
    fn stage(&self, _: &str, _: u64) -> Box<dyn Stage> {
        Box::new(SilentStage)
    }
}
