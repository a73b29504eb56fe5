//! The container configuration every benchmarked program runs, defined once (`spec`): `berth-bench`
//! writes it as config.json for berth, runc and crun, and `floor` performs exactly these
//! namespaces and mounts with raw syscalls. `stats`: the order statistics of every report (this
//! one's and `bench/cri`'s).

pub mod spec;
pub mod stats;
