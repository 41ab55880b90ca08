//! kfp-aws: render, validate and apply Kubeflow Pipelines on AWS.
//!
//! The library holds the kustomize engine ([`kustomize`]) that every command
//! of the binary builds on.
pub mod apply;
pub mod kustomize;
pub mod params;
pub mod pipelines;
pub mod render;
pub mod validate;
