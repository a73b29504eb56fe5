//! berth's module tree. The berth binary (`main.rs`) calls `cli` and `logging`; everything else is
//! private to this crate. The library exists so that the fuzz targets in `fuzz/` reach the parsers
//! through `fuzzing`, a surface kept out of the documentation.

mod bundle;
mod cgroups;
#[doc(hidden)]
pub mod cli;
mod container;
mod criu;
#[doc(hidden)]
pub mod fuzzing;
mod hooks;
mod linux;
#[doc(hidden)]
pub mod logging;
mod process;
mod seccomp;
mod signals;
mod state;
mod timefmt;
mod validate;
