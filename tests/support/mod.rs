//! Shared helpers of the integration tests.

pub mod cli;
pub mod fakeapi;
pub mod kfpapi;
pub mod kubepeer;
pub mod peers;
