//! The one integration-test binary: real git repositories in temp dirs, the real binary
//! (`WARDEN_TEST_PROGRAM` to test another build).

mod errors;
mod hook;
mod output;
mod support;
mod suppress;
mod trust;
