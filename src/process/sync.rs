//! The one channel between berth and the process it cloned: a SOCK_SEQPACKET socketpair carrying
//! typed messages (JSON, one per datagram) and, where a message needs it, one file descriptor.

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};

use anyhow::{bail, Context, Result};
use nix::errno::Errno;
use nix::sys::socket::{
    recvmsg, sendmsg, socketpair, AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags,
    SockFlag, SockType,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// From the container side to berth.
#[derive(Serialize, Deserialize, Debug)]
pub enum ChildMsg {
    /// The child made a user namespace by unshare: write its uid/gid maps.
    NeedIdMaps,
    /// The child made a time namespace by unshare: write its offsets.
    NeedTimeOffsets,
    /// The network namespace is in place: move linux.netDevices into it.
    NetDevices,
    /// Namespaces are in place: run the prestart and createRuntime hooks (runtime namespace).
    RuntimeHooks,
    /// Berth's part of the bind `mounts[index]`, made in the child's mount namespace: a handle
    /// on a source out of the user namespace's reach, or an id-mapped tree (`Done` carries it;
    /// nothing when berth is not root).
    MountSource(usize),
    /// The forced second fork happened: this is the container init (a pid in berth's namespace).
    InitPid(i32),
    /// The terminal's master side (the fd travels with this message).
    PtyMaster,
    /// The seccomp filter is installed and notifies: its listener travels with this message,
    /// for berth to hand to the agent before answering `Done`.
    SeccompListener,
    /// Set-up is complete; the process waits for `Exec` or `WaitForStart`.
    Ready,
    /// After `WaitForStart`: the filter is in, and the init now blocks on exec.fifo.
    Waiting,
    /// Set-up failed; the child exits after sending this.
    Error(String),
}

/// From berth to the container side.
#[derive(Serialize, Deserialize, Debug)]
pub enum ParentMsg {
    /// Cgroups are joined and any id maps written: carry on.
    Go,
    /// The requested maps, offsets or hooks are done.
    Done,
    /// Exec the container process now (`run`).
    Exec,
    /// Block on exec.fifo until `berth start` (`create`).
    WaitForStart,
}

const MAX_MSG: usize = 64 * 1024;

/// The other side has closed the channel: it exited (or exec'd) before the exchange was over.
/// Callers that can tell why (an OOM kill, an exit status) branch on it.
#[derive(Debug)]
pub struct Closed;

impl std::fmt::Display for Closed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the other side of the sync socket has gone")
    }
}

impl std::error::Error for Closed {}

impl Closed {
    /// `e` unchanged, or, when it is `Closed`, the account of the other side's end that `why` gives.
    pub fn explain(e: anyhow::Error, why: impl FnOnce() -> String) -> anyhow::Error {
        if e.is::<Closed>() {
            anyhow::Error::msg(why())
        } else {
            e
        }
    }
}

pub struct Channel {
    fd: OwnedFd,
}

impl Channel {
    pub fn pair() -> Result<(Channel, Channel)> {
        let (a, b) = socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .context("socketpair")?;
        Ok((Channel { fd: a }, Channel { fd: b }))
    }

    pub fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    pub fn send<T: Serialize>(&self, msg: &T) -> Result<()> {
        self.send_with_fd(msg, None)
    }

    pub fn send_with_fd<T: Serialize>(&self, msg: &T, fd: Option<RawFd>) -> Result<()> {
        let bytes = serde_json::to_vec(msg)?;
        let iov = [IoSlice::new(&bytes)];
        let fds;
        let cmsgs: &[ControlMessage] = match fd {
            Some(f) => {
                fds = [f];
                &[ControlMessage::ScmRights(&fds)]
            }
            None => &[],
        };
        match sendmsg::<()>(
            self.fd.as_raw_fd(),
            &iov,
            cmsgs,
            MsgFlags::MSG_NOSIGNAL,
            None,
        ) {
            Ok(_) => Ok(()),
            Err(Errno::EPIPE | Errno::ECONNRESET) => Err(Closed.into()),
            Err(e) => Err(e).context("send on sync socket"),
        }
    }

    /// The next message, or `None` when the other side has closed (exited or exec'd).
    pub fn recv<T: DeserializeOwned>(&self) -> Result<Option<(T, Option<OwnedFd>)>> {
        let mut buf = vec![0u8; MAX_MSG];
        let mut cmsg = nix::cmsg_space!([RawFd; 1]);
        let (len, fd) = loop {
            let mut iov = [IoSliceMut::new(&mut buf)];
            match recvmsg::<()>(
                self.fd.as_raw_fd(),
                &mut iov,
                Some(&mut cmsg),
                MsgFlags::MSG_CMSG_CLOEXEC,
            ) {
                Ok(m) => {
                    let mut fd = None;
                    for c in m.cmsgs().context("read control message")? {
                        if let ControlMessageOwned::ScmRights(fds) = c {
                            for raw in fds {
                                // SAFETY: received by SCM_RIGHTS: a new descriptor we own.
                                let owned = unsafe { OwnedFd::from_raw_fd(raw) };
                                fd.get_or_insert(owned);
                            }
                        }
                    }
                    break (m.bytes, fd);
                }
                // ECONNRESET: the other side went with a message of ours unread. The kernel
                // reports that once, ahead of what it sent before going: read on.
                Err(Errno::EINTR | Errno::ECONNRESET) => continue,
                Err(e) => return Err(e).context("receive on sync socket"),
            }
        };
        if len == 0 {
            return Ok(None);
        }
        let msg = serde_json::from_slice(&buf[..len]).context("decode sync message")?;
        Ok(Some((msg, fd)))
    }

    /// Receives a message that must arrive (the other side closing is an error).
    pub fn expect<T: DeserializeOwned>(&self) -> Result<T> {
        self.expect_with_fd().map(|(msg, _)| msg)
    }

    fn expect_with_fd<T: DeserializeOwned>(&self) -> Result<(T, Option<OwnedFd>)> {
        match self.recv()? {
            Some(received) => Ok(received),
            None => bail!("berth went away during container set-up"),
        }
    }

    /// The container side waits for berth to answer a request with `Done`.
    pub fn expect_done(&self) -> Result<()> {
        self.expect_done_with_fd().map(drop)
    }

    /// `expect_done` for an answer that may carry a descriptor.
    pub fn expect_done_with_fd(&self) -> Result<Option<OwnedFd>> {
        match self.expect_with_fd::<ParentMsg>()? {
            (ParentMsg::Done, fd) => Ok(fd),
            (other, _) => bail!("unexpected message from berth: {other:?}"),
        }
    }
}

impl AsFd for Channel {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_fds_cross() {
        let (a, b) = Channel::pair().unwrap();
        a.send(&ChildMsg::InitPid(42)).unwrap();
        let (m, fd) = b.recv::<ChildMsg>().unwrap().unwrap();
        assert!(matches!(m, ChildMsg::InitPid(42)));
        assert!(fd.is_none());
        let file = std::fs::File::open("/dev/null").unwrap();
        a.send_with_fd(&ChildMsg::PtyMaster, Some(file.as_raw_fd()))
            .unwrap();
        let (m, fd) = b.recv::<ChildMsg>().unwrap().unwrap();
        assert!(matches!(m, ChildMsg::PtyMaster));
        assert!(fd.is_some());
        drop(a);
        assert!(b.recv::<ChildMsg>().unwrap().is_none());
    }

    #[test]
    fn last_words_survive_a_peer_that_left_ours_unread() {
        // The child fails before reading Go, says why, and exits: the kernel flags ECONNRESET on
        // our side, but what it said must still come through, then the end.
        let (parent, child) = Channel::pair().unwrap();
        parent.send(&ParentMsg::Go).unwrap();
        child
            .send(&ChildMsg::Error("join cgroup: gone".into()))
            .unwrap();
        drop(child);
        match parent.recv::<ChildMsg>().unwrap() {
            Some((ChildMsg::Error(text), _)) => assert_eq!(text, "join cgroup: gone"),
            other => panic!("{other:?}"),
        }
        assert!(parent.recv::<ChildMsg>().unwrap().is_none());
    }

    #[test]
    fn a_send_to_a_gone_peer_is_closed_not_an_io_error() {
        let (a, b) = Channel::pair().unwrap();
        drop(b);
        let err = a.send(&ParentMsg::Go).unwrap_err();
        assert!(err.is::<Closed>(), "{err:#}");
        let explained = Closed::explain(err, || "it exited".into());
        assert_eq!(explained.to_string(), "it exited");
    }
}
