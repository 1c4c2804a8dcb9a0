//! The one integration-test binary: real git repositories in temp dirs, the real binary.

mod trust;
