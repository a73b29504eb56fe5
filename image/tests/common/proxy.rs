//! A TCP proxy in front of a registry that can "die": after a budget of bytes sent to the client
//! it cuts every connection and stops listening. It records the Range headers it forwards.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct Proxy {
    pub addr: String,
    dead: Arc<AtomicBool>,
    /// `Range` header values seen in requests.
    pub ranges: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    /// Listens on `addr` (127.0.0.1:PORT) and forwards to `upstream` until `budget` bytes have
    /// gone to clients.
    pub fn start(addr: &str, upstream: &str, budget: u64) -> Proxy {
        let listener = TcpListener::bind(addr).unwrap();
        listener.set_nonblocking(true).unwrap();
        let dead = Arc::new(AtomicBool::new(false));
        let ranges = Arc::new(Mutex::new(Vec::new()));
        let sent = Arc::new(AtomicU64::new(0));
        let (dead2, ranges2, upstream) = (dead.clone(), ranges.clone(), upstream.to_string());
        std::thread::spawn(move || {
            while !dead2.load(Ordering::SeqCst) {
                let Ok((client, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                client.set_nonblocking(false).unwrap();
                let server = TcpStream::connect(&upstream).unwrap();
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let ranges = ranges2.clone();
                std::thread::spawn(move || pump(c2, s2, |bytes| record_ranges(bytes, &ranges)));
                let (dead, sent) = (dead2.clone(), sent.clone());
                std::thread::spawn(move || {
                    let (c, s) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                    pump(server, client, |bytes| {
                        if sent.fetch_add(bytes.len() as u64, Ordering::SeqCst) + bytes.len() as u64
                            > budget
                        {
                            dead.store(true, Ordering::SeqCst);
                            let _ = c.shutdown(Shutdown::Both);
                            let _ = s.shutdown(Shutdown::Both);
                        }
                    })
                });
            }
            // Dropping the listener: new connections are refused, as from a dead registry.
        });
        Proxy {
            addr: addr.to_string(),
            dead,
            ranges,
        }
    }

    pub fn is_dead(&self) -> bool {
        self.dead.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.dead.store(true, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream, mut watch: impl FnMut(&[u8])) {
    let mut buf = [0u8; 16 * 1024];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 || to.write_all(&buf[..n]).is_err() {
            break;
        }
        watch(&buf[..n]);
    }
    let _ = to.shutdown(Shutdown::Write);
}

fn record_ranges(bytes: &[u8], ranges: &Mutex<Vec<String>>) {
    for line in String::from_utf8_lossy(bytes).lines() {
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("range") {
                ranges.lock().unwrap().push(value.trim().to_string());
            }
        }
    }
}
