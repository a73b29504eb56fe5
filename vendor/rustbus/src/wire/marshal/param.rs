pub mod base;
pub mod container;
