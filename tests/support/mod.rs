//! Shared helpers of the integration tests.

pub mod fakeapi;
pub mod kfpapi;
pub mod peers;
