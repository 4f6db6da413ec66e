//! The version `goodhart --version` prints: the package version and, when built from a git
//! checkout, the commit (set by `build.rs`).
//!
//! Files goodhart writes record only the package version (`document::VERSION`), so that outputs
//! stay byte-identical across commits.

/// The package version, followed by ` (COMMIT)` when built from a git checkout: `0.1.0 (abc1234)`,
/// or `0.1.0 (abc1234-dirty)` when the sources differ from that commit; `0.1.0` from a packaged
/// crate.
pub const VERSION_STRING: &str = env!("GOODHART_VERSION_STRING");

/// The short git commit the binary was built from (with `-dirty` when the sources differed from
/// it); `None` when built without a git checkout.
pub const GIT_COMMIT: Option<&str> = option_env!("GOODHART_GIT_COMMIT");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_string_is_the_package_version_and_the_commit() {
        match GIT_COMMIT {
            Some(commit) => assert_eq!(
                VERSION_STRING,
                format!("{} ({commit})", env!("CARGO_PKG_VERSION"))
            ),
            None => assert_eq!(VERSION_STRING, env!("CARGO_PKG_VERSION")),
        }
    }
}
