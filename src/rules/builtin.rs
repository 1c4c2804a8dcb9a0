//! The builtin rule files, embedded at build time by `build.rs` from `rules/*.toml`
//! (sorted by file name). This module only hands out `(file name, TOML text)` pairs;
//! parsing lives in [`super::RuleSet`].

/// Every builtin rule file as `(file name, TOML source)`, sorted by name.
pub const FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));
