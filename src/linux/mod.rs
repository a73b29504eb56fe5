//! One module per kernel facility the container is built from.

pub mod affinity;
pub mod apparmor;
pub mod bind_source;
pub mod capabilities;
pub mod copyup;
pub mod devices;
pub mod host_root;
pub mod idlist;
pub mod mempolicy;
pub mod mount;
pub mod namespaces;
pub mod netdev;
pub mod procfs;
pub mod procfs_handle;
pub mod resolve;
pub mod rlimits;
pub mod rootfs;
pub mod rootless;
pub mod sched;
pub mod sys;
pub mod sysctl;
pub mod tty;
pub mod user;
pub mod userns;
