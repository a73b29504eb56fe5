//! The container configuration every benchmarked program runs, defined once: `berth-bench`
//! writes it as config.json for berth, runc and crun, and `floor` performs exactly these
//! namespaces and mounts with raw syscalls.

pub mod spec;
