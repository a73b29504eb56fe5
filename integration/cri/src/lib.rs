//! berth under containerd's CRI plugin, driven as kubelet drives it: a CRI v1 client (the
//! `k8s-cri` crate over tonic), pods and containers as kubelet configures them, the streaming
//! protocol of exec, attach and port-forward, and the host-side checks that a removed pod left
//! nothing behind. The tests are in tests/; `bench/cri` times pods with the same client.

pub mod client;
pub mod container;
pub mod env;
pub mod host;
pub mod pod;
pub mod stream;
mod traces;

pub use client::Cri;
pub use container::{Container, ContainerBuilder};
pub use env::{CgroupDriver, Env};
pub use k8s_cri::v1 as cri;
pub use pod::{Harness, NamespaceMode, Pod, PodBuilder, Removal};
