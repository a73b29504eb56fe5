//! linux.netDevices: host network devices (veth ends made for each test) moved into the
//! container's network namespace, observed with `ip` inside and outside.

mod common;

use std::process::Command;

use common::{eventually, Env};
use serde_json::{json, Value};

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(out.status.success(), "ip {args:?}: {out:?}");
}

fn on_host(dev: &str) -> bool {
    Command::new("ip")
        .args(["link", "show", dev])
        .output()
        .unwrap()
        .status
        .success()
}

/// A veth pair on the host named after this test process; gone when dropped (deleting one
/// end deletes both; a pair whose end went with a container's namespace is gone already).
struct Veth {
    end: String,
    peer: String,
}

impl Veth {
    fn new(tag: &str) -> Veth {
        let pid = std::process::id() % 100_000;
        let (end, peer) = (format!("bd{tag}{pid}a"), format!("bd{tag}{pid}b"));
        ip(&["link", "add", &end, "type", "veth", "peer", "name", &peer]);
        Veth { end, peer }
    }
}

impl Drop for Veth {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.peer])
            .output();
    }
}

fn net_devices(cfg: &mut Value, devices: Value) {
    cfg["linux"]["netDevices"] = devices;
}

#[test]
fn devices_move_in_with_their_addresses_and_come_up() {
    let env = Env::new("netdev");
    let (renamed, kept) = (Veth::new("r"), Veth::new("k"));
    ip(&["addr", "add", "10.213.1.5/24", "dev", &renamed.end]);
    ip(&[
        "addr",
        "add",
        "fd00:213::5/64",
        "dev",
        &renamed.end,
        "nodad",
    ]);
    // A link-local address stays behind (runc's rule: only global ones mean the same elsewhere).
    ip(&["addr", "add", "fe80::5/64", "dev", &renamed.end, "nodad"]);
    ip(&["link", "set", &renamed.end, "up"]);
    let script = format!(
        "ip addr show dev ctr1; echo ---; ip link show {}; ip link show | grep -c ': bd'",
        kept.end
    );
    let out = env.sh("nd1", &script, |c| {
        net_devices(
            c,
            json!({ renamed.end.as_str(): { "name": "ctr1" }, kept.end.as_str(): {} }),
        )
    });
    let text = out.ok();
    let (ctr1, rest) = text.split_once("---").unwrap();
    assert!(ctr1.contains("inet 10.213.1.5/24"), "{text}");
    assert!(ctr1.contains("inet6 fd00:213::5/64"), "{text}");
    assert!(!ctr1.contains("fe80::5"), "{text}");
    let flags = ctr1.split_once('<').unwrap().1.split_once('>').unwrap().0;
    assert!(flags.split(',').any(|f| f == "UP"), "ctr1 not up: {text}");
    // The device without a new name keeps its own; no other host device came along.
    assert!(rest.contains(&format!("{}@", kept.end)), "{text}");
    assert_eq!(rest.lines().last(), Some("1"), "{text}");

    // The moved ends left the host; they end with the container's namespace, and so do
    // their peers.
    assert!(!on_host(&renamed.end) && !on_host(&kept.end));
    env.assert_gone("nd1");
    eventually("the moved veth pairs to end", || {
        !on_host(&renamed.peer) && !on_host(&kept.peer)
    });
}

#[test]
fn a_missing_device_fails_before_any_device_moves() {
    let env = Env::new("netdev-missing");
    let present = [Veth::new("m"), Veth::new("n"), Veth::new("o")];
    let mut devices = json!({ "bdnosuchdev0": {} });
    for v in &present {
        devices[v.end.as_str()] = json!({});
    }
    let mut cfg = env.config(&["true"]);
    net_devices(&mut cfg, devices);
    // berth walks the devices in an order that changes from run to run: a berth that moved
    // each before looking up the next would move one here nearly every time.
    for _ in 0..3 {
        let err = env.run("nd2", &cfg).failed().to_owned();
        assert!(
            err.contains("bdnosuchdev0") && err.contains("linux.netDevices"),
            "{err}"
        );
        env.assert_gone("nd2");
        for v in &present {
            assert!(on_host(&v.end), "{} moved although create failed", v.end);
        }
    }
}
