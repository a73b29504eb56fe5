//! `linux.netDevices` (runtime-spec 1.3): host network devices moved into the container's network
//! namespace, as runc moves them — down on the host, moved and renamed in one request, their
//! permanent global addresses added again (a move drops them), then up. Unlike runc, berth reads
//! the addresses before the link goes down, which would drop the IPv6 ones. All of it happens on
//! the host side once the namespace exists, before the createRuntime hooks run.

use std::collections::HashMap;
use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use anyhow::{bail, Context, Result};
use netlink_packet_core::{
    DecodeError, DefaultNla, Emitable, NetlinkDeserializable, NetlinkHeader, NetlinkMessage,
    NetlinkPayload, NetlinkSerializable, Parseable, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP,
    NLM_F_EXCL, NLM_F_REQUEST,
};
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage, AddressScope};
use netlink_packet_route::link::{LinkFlags, LinkHeader};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};
use nix::sched::{setns, CloneFlags};
use oci_spec::runtime::{Linux, LinuxNetDevice};

/// The devices a config asks to move (an empty map asks for none).
pub fn requested(linux: &Linux) -> Option<&HashMap<String, LinuxNetDevice>> {
    linux.net_devices().as_ref().filter(|d| !d.is_empty())
}

/// Moves every device into the network namespace `netns`. All are looked up first, so that a
/// missing one fails the container before any has moved.
pub fn move_into(devices: &HashMap<String, LinuxNetDevice>, netns: BorrowedFd) -> Result<()> {
    let mut host = Rtnl::open()?;
    let moves = devices
        .iter()
        .map(|(name, dev)| {
            let index = index_of(name).with_context(|| {
                format!("linux.netDevices: no network device {name:?} on the host")
            })?;
            Ok((name, index, dev.name().as_deref().unwrap_or(name)))
        })
        .collect::<Result<Vec<_>>>()?;
    // Addresses first, one dump for all devices: taking a link down drops its IPv6 addresses
    // (unless keep_addr_on_down).
    let addresses: Vec<AddressMessage> = host
        .request(Rt::GetAddress(AddressMessage::default()), NLM_F_DUMP)
        .context("linux.netDevices: list the host's addresses")?
        .into_iter()
        .filter_map(|m| match m {
            Rt::NewAddress(a) if keeps_its_meaning_elsewhere(&a) => Some(a),
            _ => None,
        })
        .collect();
    let mut inside = in_netns(netns, Rtnl::open)?;
    for (name, index, new_name) in moves {
        let own = addresses
            .iter()
            .filter(|a| a.header.index == index)
            .cloned();
        move_one(&mut host, &mut inside, index, new_name, own, netns)
            .with_context(|| format!("linux.netDevices: move {name:?} into the container"))?;
    }
    Ok(())
}

fn move_one(
    host: &mut Rtnl,
    inside: &mut Rtnl,
    index: u32,
    new_name: &str,
    addresses: impl Iterator<Item = AddressMessage>,
    netns: BorrowedFd,
) -> Result<()> {
    host.set_up(index, false)?;
    let mut name = new_name.as_bytes().to_vec();
    name.push(0);
    let netns_fd = netns.as_raw_fd() as u32;
    let attributes = vec![
        DefaultNla::new(libc::IFLA_IFNAME, name),
        DefaultNla::new(libc::IFLA_NET_NS_FD, netns_fd.to_ne_bytes().to_vec()),
    ];
    host.request(Rt::SetLink(link_header(index), attributes), 0)?;
    // The index may change with the namespace: look the device up by its new name.
    let new_index = in_netns(netns, || {
        index_of(new_name).with_context(|| format!("{new_name:?} after the move"))
    })?;
    for mut address in addresses {
        address.header.index = new_index;
        address.attributes.retain(|a| {
            matches!(
                a,
                AddressAttribute::Address(_)
                    | AddressAttribute::Local(_)
                    | AddressAttribute::Broadcast(_)
            )
        });
        inside.request(Rt::NewAddress(address), NLM_F_CREATE | NLM_F_EXCL)?;
    }
    Ok(inside.set_up(new_index, true)?)
}

/// runc's rule: only addresses a user configured (permanent) with global scope move along;
/// link-local and autoconfigured ones belong to the namespace they were made in.
fn keeps_its_meaning_elsewhere(a: &AddressMessage) -> bool {
    let permanent = a.attributes.iter().any(|attr| match attr {
        AddressAttribute::Flags(f) => f.contains(AddressFlags::Permanent),
        _ => false,
    });
    permanent && a.header.scope == AddressScope::Universe
}

fn index_of(name: &str) -> io::Result<u32> {
    let c = CString::new(name).map_err(io::Error::other)?;
    // SAFETY: a valid C string.
    match unsafe { libc::if_nametoindex(c.as_ptr()) } {
        0 => Err(io::Error::last_os_error()),
        index => Ok(index),
    }
}

/// Runs `f` inside the network namespace `ns` (a netlink socket belongs to the namespace it was
/// made in); berth is single-threaded, so switching this thread switches berth.
fn in_netns<T>(ns: BorrowedFd, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let own = File::open("/proc/thread-self/ns/net").context("open berth's network namespace")?;
    setns(ns, CloneFlags::CLONE_NEWNET).context("enter the container's network namespace")?;
    let made = f();
    setns(own.as_fd(), CloneFlags::CLONE_NEWNET).context("return to berth's network namespace")?;
    made
}

/// A route netlink socket that sends one request at a time and collects the answer.
struct Rtnl {
    socket: Socket,
    sequence: u32,
}

impl Rtnl {
    fn open() -> Result<Self> {
        let mut socket = Socket::new(NETLINK_ROUTE).context("open a netlink socket")?;
        socket.bind_auto().context("bind a netlink socket")?;
        socket
            .connect(&SocketAddr::new(0, 0))
            .context("connect a netlink socket")?;
        Ok(Rtnl {
            socket,
            sequence: 0,
        })
    }

    fn set_up(&mut self, index: u32, up: bool) -> io::Result<()> {
        let mut header = link_header(index);
        header.change_mask = LinkFlags::Up;
        if up {
            header.flags = LinkFlags::Up;
        }
        self.request(Rt::SetLink(header, Vec::new()), 0).map(drop)
    }

    /// Sends `message` with an acknowledgement asked for; returns the messages of the answer
    /// (a dump's, or a lookup's) once it is complete, or the kernel's error.
    fn request(&mut self, message: Rt, flags: u16) -> io::Result<Vec<Rt>> {
        self.sequence += 1;
        let mut packet = NetlinkMessage::new(NetlinkHeader::default(), message.into());
        packet.header.flags = NLM_F_REQUEST | NLM_F_ACK | flags;
        packet.header.sequence_number = self.sequence;
        packet.finalize();
        let mut out = vec![0; packet.buffer_len()];
        packet.serialize(&mut out);
        self.socket.send(&out, 0)?;
        let mut answer = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let len = self.socket.recv(&mut &mut buf[..], 0)?;
            let mut at = 0;
            while at < len {
                let reply =
                    NetlinkMessage::<Rt>::deserialize(&buf[at..len]).map_err(io::Error::other)?;
                // Messages are 4-byte aligned in a datagram.
                let size = (reply.header.length as usize + 3) & !3;
                if size == 0 {
                    break;
                }
                at += size;
                if reply.header.sequence_number != self.sequence {
                    continue;
                }
                match reply.payload {
                    NetlinkPayload::InnerMessage(m) => answer.push(m),
                    NetlinkPayload::Done(_) => return Ok(answer),
                    NetlinkPayload::Error(e) if e.code.is_some() => return Err(e.to_io()),
                    NetlinkPayload::Error(_) => return Ok(answer),
                    _ => {}
                }
            }
        }
    }
}

fn link_header(index: u32) -> LinkHeader {
    LinkHeader {
        index,
        ..LinkHeader::default()
    }
}

/// The route netlink messages berth sends and reads. The crate's RouteNetlinkMessage (and
/// LinkMessage) would do, but they link the parser and emitter of every rtnetlink message and
/// link attribute into berth: +0.5 MB of binary, where this costs 0.05 MB.
enum Rt {
    /// RTM_SETLINK: the link's header and raw attributes (its name, its new namespace).
    SetLink(LinkHeader, Vec<DefaultNla>),
    GetAddress(AddressMessage),
    NewAddress(AddressMessage),
    /// A reply berth does not read.
    Other,
}

impl NetlinkSerializable for Rt {
    fn message_type(&self) -> u16 {
        match self {
            Rt::SetLink(..) => libc::RTM_SETLINK,
            Rt::GetAddress(_) => libc::RTM_GETADDR,
            Rt::NewAddress(_) | Rt::Other => libc::RTM_NEWADDR,
        }
    }

    fn buffer_len(&self) -> usize {
        match self {
            Rt::SetLink(h, a) => h.buffer_len() + a.as_slice().buffer_len(),
            Rt::GetAddress(m) | Rt::NewAddress(m) => m.buffer_len(),
            Rt::Other => 0,
        }
    }

    fn serialize(&self, buffer: &mut [u8]) {
        match self {
            Rt::SetLink(h, a) => {
                h.emit(buffer);
                a.as_slice().emit(&mut buffer[h.buffer_len()..]);
            }
            Rt::GetAddress(m) | Rt::NewAddress(m) => m.emit(buffer),
            Rt::Other => {}
        }
    }
}

impl NetlinkDeserializable for Rt {
    type Error = DecodeError;

    fn deserialize(header: &NetlinkHeader, payload: &[u8]) -> Result<Self, DecodeError> {
        match header.message_type {
            libc::RTM_NEWADDR => AddressMessage::parse(payload).map(Rt::NewAddress),
            _ => Ok(Rt::Other),
        }
    }
}

impl From<Rt> for NetlinkPayload<Rt> {
    fn from(m: Rt) -> Self {
        NetlinkPayload::InnerMessage(m)
    }
}

/// What the kernel would refuse as an interface name (dev_valid_name): empty, longer than
/// IFNAMSIZ - 1, "." or "..", or with '/', ':' or white space.
pub fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() >= libc::IFNAMSIZ {
        bail!("{name:?} is not 1 to {} bytes long", libc::IFNAMSIZ - 1);
    }
    if name == "."
        || name == ".."
        || name.contains(['/', ':'])
        || name.contains(char::is_whitespace)
    {
        bail!("{name:?} is not a valid interface name");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_names_the_kernel_takes() {
        for good in ["eth0", "ctr_dummy0", "a", "fifteen-chars-0"] {
            check_name(good).unwrap();
        }
        for bad in ["", ".", "..", "a/b", "a:b", "a b", "sixteen-chars-00"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
