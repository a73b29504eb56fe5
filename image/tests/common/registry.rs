//! Debian's docker-registry on 127.0.0.1 with a private config and storage, started in its own
//! session with a pid file and stopped by that pid.

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub enum Auth {
    Anonymous,
    /// htpasswd basic auth with this user and password.
    Basic(&'static str, &'static str),
    /// Tokens from this realm, signed with this certificate.
    Token {
        realm: String,
        cert: PathBuf,
    },
}

pub struct Registry {
    pub addr: String,
    pub dir: tempfile::TempDir,
    child: Child,
}

pub const TOKEN_SERVICE: &str = "berth-test";
pub const TOKEN_ISSUER: &str = "berth-test-issuer";

impl Registry {
    pub fn start(auth: Auth) -> Registry {
        let dir = super::temp_dir();
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let auth_config = match auth {
            Auth::Anonymous => String::new(),
            Auth::Basic(user, password) => {
                let out = Command::new("htpasswd").args(["-Bbn", user, password]).output().expect("htpasswd (apache2-utils)");
                fs::write(dir.path().join("htpasswd"), out.stdout).unwrap();
                format!("auth:\n  htpasswd:\n    realm: berth-test\n    path: {}\n", dir.path().join("htpasswd").display())
            }
            Auth::Token { realm, cert } => format!(
                "auth:\n  token:\n    realm: {realm}\n    service: {TOKEN_SERVICE}\n    issuer: {TOKEN_ISSUER}\n    rootcertbundle: {}\n",
                cert.display()
            ),
        };
        let config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n{auth_config}",
            dir.path().join("data").display()
        );
        let config_path = dir.path().join("config.yml");
        fs::write(&config_path, config).unwrap();
        let log = fs::File::create(dir.path().join("registry.log")).unwrap();
        let mut command = Command::new("docker-registry");
        command
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        unsafe {
            command.pre_exec(|| rustix::process::setsid().map(drop).map_err(Into::into));
        }
        let child = command
            .spawn()
            .expect("docker-registry (apt-get install docker-registry)");
        fs::write(dir.path().join("registry.pid"), child.id().to_string()).unwrap();
        let registry = Registry { addr, dir, child };
        registry.wait_ready();
        registry
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(mut s) = TcpStream::connect(&self.addr) {
                let _ = write!(s, "GET /v2/ HTTP/1.0\r\n\r\n");
                let mut reply = String::new();
                if s.read_to_string(&mut reply).is_ok() && reply.starts_with("HTTP/1.") {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "docker-registry did not start: {}",
            fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
        );
    }

    /// Where the registry keeps a blob's bytes (the filesystem driver's layout).
    pub fn blob_data(&self, digest: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.dir
            .path()
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    pub fn storage(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let pid = rustix::process::Pid::from_child(&self.child);
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        let _ = self.child.wait();
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
