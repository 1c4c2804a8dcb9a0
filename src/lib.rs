//! warden: a git pre-commit secret and quality guard.
//!
//! Data flows one way: `config` + builtin `rules` → `matcher`; a `source` (staged index or
//! directory) → `scan` (parallel) → `finding`s filtered by `allow` → `report`. `app` wires
//! the modes together; `cli` is only seen by `app` and `main`. After a clean staged scan,
//! `checks` runs the configured commands on the staged paths while `worktree_guard` hides
//! unstaged changes from them. History and range scans (`source::history`,
//! `source::range`), `ci` detection and `baseline` files feed the same pipeline.

pub mod allow;
pub mod app;
pub mod baseline;
pub mod checks;
pub mod ci;
pub mod cli;
pub mod config;
pub mod content;
pub mod decoding;
pub mod doctor;
pub mod error;
pub mod exit;
pub mod finding;
pub mod git;
pub mod import;
pub mod install;
pub mod layered;
pub mod matcher;
pub mod policy;
pub mod progress;
pub mod report;
pub mod rules;
pub mod scan;
pub mod source;
pub mod timing;
pub mod validate;
pub mod worktree_guard;
