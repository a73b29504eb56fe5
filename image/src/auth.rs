//! Credentials in a docker-compatible auth file: `{"auths": {"HOST": {"auth": base64("USER:PASS")}}}`.
//! The file is `--authfile`, else `$REGISTRY_AUTH_FILE`, else `$DOCKER_CONFIG/config.json`, else
//! `~/.docker/config.json`; keys other than the one entry we change are kept as they were.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde_json::{json, Map, Value};

#[derive(Clone)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

pub struct AuthFile {
    path: PathBuf,
}

impl AuthFile {
    pub fn locate(explicit: Option<&Path>) -> AuthFile {
        let env = |name| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let path = explicit
            .map(Path::to_path_buf)
            .or_else(|| env("REGISTRY_AUTH_FILE"))
            .or_else(|| env("DOCKER_CONFIG").map(|d| d.join("config.json")))
            .unwrap_or_else(|| env("HOME").unwrap_or_default().join(".docker/config.json"));
        AuthFile { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The credentials saved for `registry` (a host[:port]), if any.
    pub fn credentials(&self, registry: &str) -> Result<Option<Credentials>> {
        let auths = self.read()?;
        let Some(entry) = auths
            .iter()
            .find(|(key, _)| registry_of_key(key) == registry)
            .map(|(_, v)| v)
        else {
            return Ok(None);
        };
        let Some(encoded) = entry.get("auth").and_then(Value::as_str) else {
            return Ok(None);
        };
        let decoded = BASE64
            .decode(encoded)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .with_context(|| {
                format!(
                    "{}: the auth entry for {registry} is not base64 of USER:PASSWORD",
                    self.path.display()
                )
            })?;
        let Some((username, password)) = decoded.split_once(':') else {
            bail!(
                "{}: the auth entry for {registry} is not base64 of USER:PASSWORD",
                self.path.display()
            );
        };
        Ok(Some(Credentials {
            username: username.into(),
            password: password.into(),
        }))
    }

    pub fn save(&self, registry: &str, credentials: &Credentials) -> Result<()> {
        let encoded = BASE64.encode(format!("{}:{}", credentials.username, credentials.password));
        self.update(|auths| {
            auths.retain(|key, _| registry_of_key(key) != registry);
            auths.insert(registry.to_string(), json!({ "auth": encoded }));
        })
    }

    /// Removes the entry for `registry`; returns whether there was one.
    pub fn remove(&self, registry: &str) -> Result<bool> {
        let mut removed = false;
        self.update(|auths| {
            let before = auths.len();
            auths.retain(|key, _| registry_of_key(key) != registry);
            removed = auths.len() != before;
        })?;
        Ok(removed)
    }

    fn read_document(&self) -> Result<Value> {
        match fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .with_context(|| format!("parsing auth file {}", self.path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(json!({})),
            Err(e) => Err(e).with_context(|| format!("reading auth file {}", self.path.display())),
        }
    }

    fn read(&self) -> Result<Map<String, Value>> {
        Ok(self
            .read_document()?
            .get("auths")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default())
    }

    fn update(&self, change: impl FnOnce(&mut Map<String, Value>)) -> Result<()> {
        let mut document = self.read_document()?;
        let Some(root) = document.as_object_mut() else {
            bail!("auth file {} is not a JSON object", self.path.display());
        };
        let auths = root.entry("auths").or_insert_with(|| json!({}));
        let Some(auths) = auths.as_object_mut() else {
            bail!(
                "auth file {}: \"auths\" is not an object",
                self.path.display()
            );
        };
        change(auths);
        if let Some(dir) = self.path.parent() {
            fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        // Credentials: readable by the owner only, from the moment the file exists.
        let tmp = self.path.with_extension("tmp");
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .with_context(|| format!("creating {}", tmp.display()))?;
        file.write_all(serde_json::to_string_pretty(&document)?.as_bytes())?;
        fs::rename(&tmp, &self.path)
            .with_context(|| format!("writing auth file {}", self.path.display()))
    }
}

/// Docker writes keys as `host`, `https://host` or `https://index.docker.io/v1/`.
fn registry_of_key(key: &str) -> &str {
    let host = key.split_once("://").map_or(key, |(_, rest)| rest);
    let host = host.split('/').next().unwrap_or(host);
    match host {
        "index.docker.io" | "registry-1.docker.io" => "docker.io",
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_read_remove_keeps_other_entries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        fs::write(
            &path,
            r#"{"auths":{"https://index.docker.io/v1/":{"auth":"dTpw"}},"credsStore":"x"}"#,
        )
        .unwrap();
        let file = AuthFile::locate(Some(&path));
        let hub = file.credentials("docker.io").unwrap().unwrap();
        assert_eq!((hub.username.as_str(), hub.password.as_str()), ("u", "p"));
        let creds = Credentials {
            username: "alice".into(),
            password: "s:ecret".into(),
        };
        file.save("127.0.0.1:5000", &creds).unwrap();
        let back = file.credentials("127.0.0.1:5000").unwrap().unwrap();
        assert_eq!(
            (back.username.as_str(), back.password.as_str()),
            ("alice", "s:ecret")
        );
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(file.remove("127.0.0.1:5000").unwrap());
        assert!(!file.remove("127.0.0.1:5000").unwrap());
        let doc: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        assert_eq!(doc["credsStore"], "x");
        assert!(file.credentials("docker.io").unwrap().is_some());
    }
}
