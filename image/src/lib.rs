//! berth-image's module tree. The binary (`main.rs`) calls `cli`; everything else is private to
//! this crate. The library exists so that the fuzz targets in `../fuzz/` reach the unpacker and
//! the manifest parser through `fuzzing`, a surface kept out of the documentation.
//!
//! Without the `cli` feature (the fuzz build) the command line and the registry client are left
//! out, and what only they call is built but unused.
#![cfg_attr(not(feature = "cli"), allow(dead_code, unused_imports))]

#[cfg(feature = "cli")]
mod auth;
mod bundle;
#[cfg(feature = "cli")]
#[doc(hidden)]
pub mod cli;
mod config_gen;
mod digest;
#[cfg(feature = "cli")]
mod download;
mod entry_path;
mod entry_write;
#[doc(hidden)]
pub mod fuzzing;
mod gc;
mod images;
mod inroot;
#[cfg(feature = "cli")]
mod login;
mod manifest;
mod platform;
mod private_dir;
mod progress;
#[cfg(feature = "cli")]
mod pull;
#[cfg(feature = "cli")]
mod push;
#[cfg(feature = "cli")]
mod registry;
mod run;
mod store;
mod unpack;
mod users;
mod whiteout;
