//! Shared helpers of the integration tests.

pub mod fakeapi;
pub mod kubepeer;
pub mod peers;
