//! A bearer-token endpoint served by the test process: it checks basic credentials and issues
//! RS256 JWTs (signed by `openssl`, certificate in the x5c header) that docker-registry accepts.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::json;

use super::registry::{TOKEN_ISSUER, TOKEN_SERVICE};

pub struct TokenServer {
    pub realm: String,
    pub cert: PathBuf,
    /// Tokens issued so far.
    pub issued: Arc<AtomicUsize>,
}

impl TokenServer {
    pub fn start(dir: &Path, user: &'static str, password: &'static str) -> TokenServer {
        let key = dir.join("token.key");
        let cert = dir.join("token.crt");
        let status = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=berth-test-token",
            ])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stderr(Stdio::null())
            .status()
            .expect("openssl");
        assert!(status.success());
        let der = Command::new("openssl")
            .args(["x509", "-outform", "DER", "-in"])
            .arg(&cert)
            .output()
            .unwrap()
            .stdout;
        let x5c = STANDARD.encode(der);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let realm = format!("http://{}/token", listener.local_addr().unwrap());
        let issued = Arc::new(AtomicUsize::new(0));
        let counter = issued.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                reader.read_line(&mut request_line).unwrap();
                let mut authorized = false;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':') {
                        if name.eq_ignore_ascii_case("authorization") {
                            let expected =
                                format!("Basic {}", STANDARD.encode(format!("{user}:{password}")));
                            authorized = value.trim() == expected;
                        }
                    }
                }
                let mut stream = stream;
                if !authorized {
                    let _ = write!(stream, "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    continue;
                }
                let token = sign(&key, &x5c, &scopes(&request_line));
                counter.fetch_add(1, Ordering::SeqCst);
                let body =
                    json!({"token": token, "access_token": token, "expires_in": 300}).to_string();
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        TokenServer {
            realm,
            cert,
            issued,
        }
    }
}

/// The `scope=repository:NAME:ACTIONS` parameters of a token request, as JWT access entries.
fn scopes(request_line: &str) -> Vec<serde_json::Value> {
    let query = request_line
        .split_whitespace()
        .nth(1)
        .and_then(|t| t.split_once('?'))
        .map_or("", |(_, q)| q);
    query
        .split('&')
        .filter_map(|pair| pair.strip_prefix("scope="))
        .map(percent_decode)
        .filter_map(|scope| {
            let mut parts = scope.splitn(3, ':');
            let (kind, name, actions) = (parts.next()?.to_string(), parts.next()?.to_string(), parts.next()?.to_string());
            Some(json!({"type": kind, "name": name, "actions": actions.split(',').collect::<Vec<_>>()}))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

fn sign(key: &Path, x5c: &str, access: &[serde_json::Value]) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = json!({"typ": "JWT", "alg": "RS256", "x5c": [x5c]});
    let claims = json!({"iss": TOKEN_ISSUER, "sub": "alice", "aud": TOKEN_SERVICE, "exp": now + 300, "nbf": now - 10,
                        "iat": now - 10, "jti": format!("{now}-{}", access.len()), "access": access});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut openssl = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    openssl
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let signature = openssl.wait_with_output().unwrap().stdout;
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}
