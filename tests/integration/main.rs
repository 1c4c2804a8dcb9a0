//! The one integration-test binary: real git repositories in temp dirs, the real binary
//! (`WARDEN_TEST_PROGRAM` to test another build).

mod checks;
mod checks_isolation;
mod errors;
mod history;
mod hook;
mod output;
mod pack;
mod support;
mod support_checks;
mod support_history;
mod suppress;
mod trust;
