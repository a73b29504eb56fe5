//! berth-image: pulls OCI images from registries into a local store and turns them into bundles
//! that berth runs. It is its own binary so that the runtime links no network, TLS or async code.

use berth_image::cli;
use clap::Parser;

fn main() {
    // oci-client's TLS comes without a crypto provider (see Cargo.toml); ring is ours.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let status = match cli::execute(cli::Cli::parse()) {
        Ok(status) => status,
        Err(e) => {
            eprintln!("berth-image: {e:#}");
            1
        }
    };
    std::process::exit(status);
}
