//! berth-image's module tree. The binary (`main.rs`) calls `cli`; everything else is private to
//! this crate. The library exists so that the fuzz targets in `../fuzz/` reach the unpacker and
//! the manifest parser through `fuzzing`, a surface kept out of the documentation.

mod auth;
mod bundle;
#[doc(hidden)]
pub mod cli;
mod config_gen;
mod digest;
mod download;
mod entry_path;
mod entry_write;
#[doc(hidden)]
pub mod fuzzing;
mod gc;
mod images;
mod inroot;
mod login;
mod manifest;
mod platform;
mod private_dir;
mod progress;
mod pull;
mod push;
mod registry;
mod run;
mod store;
mod unpack;
mod users;
mod whiteout;
