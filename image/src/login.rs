//! `login` and `logout`: credentials checked against the registry, then kept in the auth file.

use anyhow::{bail, Context, Result};
use oci_client::{Reference, RegistryOperation};

use crate::auth::{AuthFile, Credentials};
use crate::registry::{scheme, Registry, RegistryOptions};

pub async fn login(host: &str, credentials: Credentials, options: &RegistryOptions) -> Result<()> {
    check(host, &credentials, options)
        .await
        .with_context(|| format!("logging in to {host} as {}", credentials.username))?;
    let file = AuthFile::locate(options.authfile.as_deref());
    file.save(host, &credentials)?;
    eprintln!(
        "Login succeeded; credentials saved in {}",
        file.path().display()
    );
    Ok(())
}

pub fn logout(host: &str, options: &RegistryOptions) -> Result<()> {
    let file = AuthFile::locate(options.authfile.as_deref());
    if !file.remove(host)? {
        bail!(
            "not logged in to {host} (no entry in {})",
            file.path().display()
        );
    }
    Ok(())
}

/// Docker's check: `GET /v2/` with the credentials. A basic-auth registry answers it directly; a
/// token registry sends us to its realm, where oci-client's challenge flow presents them.
async fn check(host: &str, credentials: &Credentials, options: &RegistryOptions) -> Result<()> {
    let url = format!("{}://{host}/v2/", scheme(host, options));
    let response = reqwest::Client::new()
        .get(&url)
        .basic_auth(&credentials.username, Some(&credentials.password))
        .send()
        .await
        .with_context(|| format!("reaching {url}"))?;
    let challenge = response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    match response.status().as_u16() {
        200 => Ok(()),
        401 if challenge.starts_with("bearer") => {
            // Any repository will do: the token service checks the credentials before the scope.
            let probe = Reference::with_tag(
                host.to_string(),
                "library/berth-login-check".into(),
                "latest".into(),
            );
            Registry::connect_with(
                &probe,
                options,
                RegistryOperation::Pull,
                Some(credentials.clone()),
            )
            .await
            .map(drop)
        }
        401 => bail!("the registry refused the credentials"),
        status => bail!("{url} answered HTTP {status}"),
    }
}
