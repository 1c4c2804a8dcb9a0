//! Importing other tools' configurations so teams keep their custom rules.
//! Currently: gitleaks / betterleaks TOML ([`gitleaks`]).

pub mod gitleaks;
