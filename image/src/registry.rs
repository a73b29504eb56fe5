//! A session with the registry of one image reference, on oci-client: which protocol (HTTPS, or
//! plain HTTP for `--insecure` and loopback registries), which credentials (the auth file), and
//! the WWW-Authenticate challenge (basic, or a bearer token from the realm it names) done once up
//! front so that every later request carries its authorization.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference, RegistryOperation};

use crate::auth::{AuthFile, Credentials};
use crate::digest::sha256_of;
use crate::manifest::ACCEPTED;

/// How to reach registries: the global `--insecure` and `--authfile` flags.
#[derive(Clone, Default)]
pub struct RegistryOptions {
    pub insecure: bool,
    pub authfile: Option<PathBuf>,
}

pub struct Registry {
    pub client: Client,
    pub reference: Reference,
    auth: RegistryAuth,
}

impl Registry {
    /// Connects for `operation` on `reference`'s repository with the saved credentials, if any.
    pub async fn connect(
        reference: &Reference,
        options: &RegistryOptions,
        operation: RegistryOperation,
    ) -> Result<Registry> {
        let credentials =
            AuthFile::locate(options.authfile.as_deref()).credentials(reference.registry())?;
        Registry::connect_with(reference, options, operation, credentials).await
    }

    pub async fn connect_with(
        reference: &Reference,
        options: &RegistryOptions,
        operation: RegistryOperation,
        credentials: Option<Credentials>,
    ) -> Result<Registry> {
        let host = reference.resolve_registry().to_string();
        let mut config = client_config(&host, options);
        // One PUT per blob, streamed from the file, instead of a PATCH per chunk.
        config.use_monolithic_push = operation == RegistryOperation::Push;
        let client = Client::new(config);
        let auth = match credentials {
            Some(c) => RegistryAuth::Basic(c.username, c.password),
            None => RegistryAuth::Anonymous,
        };
        // A push token also lets us check which blobs the registry has already.
        let operations: &[RegistryOperation] = match operation {
            RegistryOperation::Pull => &[RegistryOperation::Pull],
            RegistryOperation::Push => &[RegistryOperation::Pull, RegistryOperation::Push],
        };
        for op in operations {
            client.auth(reference, &auth, *op).await.with_context(|| {
                format!(
                    "authenticating to registry {host} for {}",
                    reference.repository()
                )
            })?;
        }
        Ok(Registry {
            client,
            reference: reference.clone(),
            auth,
        })
    }

    /// The manifest (or index) `reference` names, with its digest checked.
    pub async fn fetch_manifest(&self, reference: &Reference) -> Result<(Vec<u8>, String)> {
        let (bytes, _) = self
            .client
            .pull_manifest_raw(reference, &self.auth, ACCEPTED)
            .await
            .with_context(|| format!("fetching the manifest of {}", reference.whole()))?;
        let digest = sha256_of(&bytes);
        if let Some(expected) = reference.digest() {
            anyhow::ensure!(
                digest == expected,
                "manifest of {} has digest {digest}: refused",
                reference.whole()
            );
        }
        Ok((bytes.to_vec(), digest))
    }
}

/// Plain HTTP for `--insecure` and loopback registries, HTTPS for the rest.
pub fn scheme(host: &str, options: &RegistryOptions) -> &'static str {
    if options.insecure || is_loopback(host) {
        "http"
    } else {
        "https"
    }
}

fn client_config(host: &str, options: &RegistryOptions) -> ClientConfig {
    let protocol = match scheme(host, options) {
        "http" => ClientProtocol::HttpsExcept(vec![host.to_string()]),
        _ => ClientProtocol::Https,
    };
    ClientConfig {
        protocol,
        // We choose the platform ourselves (platform.rs), from the index we fetched raw.
        platform_resolver: None,
        connect_timeout: Some(Duration::from_secs(10)),
        // A registry that stops sending mid-blob fails the read, and we retry from where it stopped.
        read_timeout: Some(Duration::from_secs(30)),
        user_agent: concat!("berth-image/", env!("CARGO_PKG_VERSION")),
        ..ClientConfig::default()
    }
}

/// Registries on this machine are spoken to in plain HTTP, as Docker does.
fn is_loopback(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name == "localhost"
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_with_and_without_ports() {
        for host in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "127.1.2.3",
            "[::1]:5000",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["docker.io", "10.0.0.1:5000", "registry.local:443"] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
