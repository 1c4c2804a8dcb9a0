//! Exit codes, in one place: CI depends on them.

/// The outcome of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing found, every check passed.
    Clean,
    /// Secrets found or a check failed.
    Findings,
    /// A tool error or an incomplete scan: never read as "no leaks".
    Error,
}

impl Outcome {
    /// The process exit code: 0 clean, 1 findings or failed checks, 2 error.
    pub fn code(self) -> i32 {
        match self {
            Outcome::Clean => 0,
            Outcome::Findings => 1,
            Outcome::Error => 2,
        }
    }
}
