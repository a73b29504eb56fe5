//! CRIU, driven as runc drives it: `criu swrk <fd>` and its RPC protocol (protobuf messages on a
//! SOCK_SEQPACKET socket), no libcriu. The messages are rust-criu's (the checkpoint-restore
//! project's crate); the exchange is berth's own, because its `Criu` type keeps the restored
//! pid to itself, takes no config file and gives its notify callback no state.

use std::fs;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{anyhow, bail, Context, Result};
use nix::fcntl::{fcntl, FcntlArg, FdFlag};
use nix::sys::socket::{
    recvmsg, send, socketpair, AddressFamily, ControlMessageOwned, MsgFlags, SockFlag, SockType,
};
use protobuf::Message;
use rpc::{Criu_notify, Criu_opts, Criu_req, Criu_req_type, Criu_resp};

use crate::process::launch::look_path;
pub use rust_criu::rust_criu_protobuf::rpc;

/// The oldest CRIU berth uses: the first with the VERSION request (as runc).
const MIN_VERSION: u32 = 30000;

/// A `criu` found on PATH that answered its version.
pub struct Criu {
    path: PathBuf,
    /// major * 10000 + minor * 100 + sublevel, as runc counts.
    pub version: u32,
}

impl Criu {
    /// The `criu` on PATH, checked by asking its version over RPC; the error is the one line a
    /// user needs (no criu, or one too old or broken).
    pub fn find() -> Result<Criu> {
        let path = std::env::var("PATH").unwrap_or_default();
        let path = look_path(&path, "criu").ok_or_else(|| {
            anyhow!("checkpoint/restore needs CRIU: no criu binary found in PATH")
        })?;
        let mut criu = Criu { path, version: 0 };
        let mut req = Criu_req::new();
        req.set_type(Criu_req_type::VERSION);
        let resp = criu
            .call(req, false, &[], &mut |_, _| Ok(()), |_| Ok(()))
            .with_context(|| format!("CRIU version check failed ({})", criu.path.display()))?;
        let v = &resp.version;
        let mut version = (v.major_number() * 10000 + v.minor_number() * 100 + v.sublevel()) as u32;
        if v.has_gitid() {
            // A build from git is newer than its release (runc's rule).
            version = version - version % 100 + 100;
        }
        if version < MIN_VERSION {
            bail!("CRIU version {version} must be {MIN_VERSION} or higher");
        }
        criu.version = version;
        Ok(criu)
    }

    /// Whether this CRIU has what `wanted` asks for (FEATURE_CHECK); the names of what it lacks.
    pub fn missing_features(&self, wanted: rpc::Criu_features) -> Result<Vec<&'static str>> {
        let mut req = Criu_req::new();
        req.set_type(Criu_req_type::FEATURE_CHECK);
        req.features = Some(wanted.clone()).into();
        let resp = self
            .call(req, false, &[], &mut |_, _| Ok(()), |_| Ok(()))
            .context("CRIU feature check failed")?;
        let got = &resp.features;
        let mut missing = Vec::new();
        if wanted.mem_track() && !got.mem_track() {
            missing.push("MemTrack");
        }
        if wanted.lazy_pages() && !got.lazy_pages() {
            missing.push("LazyPages");
        }
        Ok(missing)
    }

    /// Runs one request in a fresh `criu swrk`: with `share_stdio` berth's 0, 1 and 2 are its
    /// own (what the inherit_fd keys of a restored process's pipes refer to), else /dev/null; `pass` stays open in it under the same numbers
    /// the request names. `started` runs with criu's pid before the request is sent (restore
    /// puts it into the container's cgroup there); `notify` answers each notification, with the
    /// descriptor one carries (orphan-pts-master). Returns CRIU's final answer.
    pub fn call(
        &self,
        req: Criu_req,
        share_stdio: bool,
        pass: &[BorrowedFd],
        notify: &mut dyn FnMut(&Criu_notify, Option<OwnedFd>) -> Result<()>,
        started: impl FnOnce(i32) -> Result<()>,
    ) -> Result<Criu_resp> {
        let (ours, theirs) = socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .context("socketpair for criu swrk")?;
        let inheritable = |fd: BorrowedFd, yes: bool| {
            let flags = if yes {
                FdFlag::empty()
            } else {
                FdFlag::FD_CLOEXEC
            };
            fcntl(fd, FcntlArg::F_SETFD(flags)).map(drop)
        };
        // Only while criu is started: berth runs one thread, nothing else execs meanwhile.
        for fd in pass.iter().copied().chain([theirs.as_fd()]) {
            inheritable(fd, true).context("pass a descriptor to criu")?;
        }
        let mut cmd = Command::new(&self.path);
        cmd.arg("swrk").arg(theirs.as_raw_fd().to_string());
        if !share_stdio {
            cmd.stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
        }
        let child = cmd.spawn();
        for fd in pass.iter().copied() {
            let _ = inheritable(fd, false);
        }
        drop(theirs);
        let mut child = child.with_context(|| format!("start {} swrk", self.path.display()))?;
        let answer = (|| {
            started(child.id() as i32)?;
            exchange(&ours, req, notify)
        })();
        // Closing our end ends a criu that waits for more (after a pre-dump, or a failure).
        drop(ours);
        let status = reap(&mut child);
        let resp = answer?;
        let status = status?;
        if !status.success() && resp.type_() != Criu_req_type::PRE_DUMP {
            bail!("criu failed: {status}");
        }
        Ok(resp)
    }
}

fn reap(child: &mut Child) -> Result<std::process::ExitStatus> {
    child.wait().context("wait for criu")
}

/// Sends the request and reads answers until CRIU's final one, answering notifications.
fn exchange(
    sock: &OwnedFd,
    req: Criu_req,
    notify: &mut dyn FnMut(&Criu_notify, Option<OwnedFd>) -> Result<()>,
) -> Result<Criu_resp> {
    let wanted = req.type_();
    send_msg(sock, &req)?;
    loop {
        let (resp, fd) = receive(sock)?;
        if !resp.success() {
            bail!(
                "criu failed: type {:?} errno {}",
                resp.type_(),
                resp.cr_errno()
            );
        }
        match resp.type_() {
            Criu_req_type::NOTIFY => {
                let done = notify(&resp.notify, fd);
                let mut ack = Criu_req::new();
                ack.set_type(Criu_req_type::NOTIFY);
                ack.set_notify_success(done.is_ok());
                send_msg(sock, &ack)?;
                done.with_context(|| format!("criu notification {:?}", resp.notify.script()))?;
            }
            t if t == wanted => return Ok(resp),
            t => bail!("unexpected answer from criu: {t:?}"),
        }
    }
}

fn send_msg(sock: &OwnedFd, msg: &Criu_req) -> Result<()> {
    let bytes = msg.write_to_bytes().context("encode a criu request")?;
    send(sock.as_raw_fd(), &bytes, MsgFlags::MSG_NOSIGNAL).context("send to criu")?;
    Ok(())
}

fn receive(sock: &OwnedFd) -> Result<(Criu_resp, Option<OwnedFd>)> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    let msg = recvmsg::<()>(
        sock.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .context("read from criu")?;
    if msg.flags.contains(MsgFlags::MSG_TRUNC) {
        bail!("an answer from criu too large to read");
    }
    let mut fd = None;
    for cmsg in msg.cmsgs().context("read from criu")? {
        if let ControlMessageOwned::ScmRights(fds) = cmsg {
            for raw in fds {
                // SAFETY: a descriptor the kernel just installed in this process.
                let owned = unsafe { OwnedFd::from_raw_fd(raw) };
                fd.get_or_insert(owned);
            }
        }
    }
    let len = msg.bytes;
    if len == 0 {
        bail!("criu closed its socket without an answer");
    }
    let resp = Criu_resp::parse_from_bytes(&buf[..len]).context("decode an answer from criu")?;
    Ok((resp, fd))
}

/// Options every request carries, as runc sets them: the image directory, a log at level 4
/// in the work directory (or the image directory), notifications, and the CRIU config file —
/// the container's `org.criu.config` annotation (an empty value: none), else
/// /etc/criu/runc.conf (CRIU skips a file that does not exist).
pub fn base_opts(
    images: BorrowedFd,
    work: Option<BorrowedFd>,
    log_file: &str,
    annotations: &std::collections::BTreeMap<String, String>,
) -> Criu_opts {
    let mut opts = Criu_opts::new();
    opts.set_images_dir_fd(images.as_raw_fd());
    if let Some(work) = work {
        opts.set_work_dir_fd(work.as_raw_fd());
    }
    opts.set_log_level(4);
    opts.set_log_file(log_file.to_owned());
    opts.set_notify_scripts(true);
    opts.set_orphan_pts_master(true);
    match annotations.get("org.criu.config") {
        Some(file) if file.is_empty() => {}
        Some(file) => opts.set_config_file(file.clone()),
        None => opts.set_config_file("/etc/criu/runc.conf".to_owned()),
    }
    opts
}

/// runc's `--manage-cgroups-mode` values.
pub fn cgroup_mode(mode: Option<&str>) -> Result<rpc::Criu_cg_mode> {
    Ok(match mode.unwrap_or("") {
        "" => rpc::Criu_cg_mode::DEFAULT,
        "soft" => rpc::Criu_cg_mode::SOFT,
        "full" => rpc::Criu_cg_mode::FULL,
        "strict" => rpc::Criu_cg_mode::STRICT,
        "ignore" => rpc::Criu_cg_mode::IGNORE,
        other => bail!("invalid --manage-cgroups-mode {other:?}: use soft, full, strict or ignore"),
    })
}

/// The error a failed CRIU run comes with: its log's first line that names an error (the cause;
/// the last one is CRIU's "Dumping FAILED").
pub fn with_log(err: anyhow::Error, log: &Path) -> anyhow::Error {
    let first = fs::read_to_string(log).ok().and_then(|text| {
        text.lines()
            .find(|l| l.contains("Error"))
            .map(|l| l.trim().to_owned())
    });
    match first {
        Some(line) => err.context(format!("{} ({})", line, log.display())),
        None => err.context(format!("see {}", log.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn manage_cgroups_modes_are_runcs() {
        assert_eq!(cgroup_mode(None).unwrap(), rpc::Criu_cg_mode::DEFAULT);
        assert_eq!(cgroup_mode(Some("soft")).unwrap(), rpc::Criu_cg_mode::SOFT);
        assert_eq!(cgroup_mode(Some("full")).unwrap(), rpc::Criu_cg_mode::FULL);
        assert_eq!(
            cgroup_mode(Some("strict")).unwrap(),
            rpc::Criu_cg_mode::STRICT
        );
        assert_eq!(
            cgroup_mode(Some("ignore")).unwrap(),
            rpc::Criu_cg_mode::IGNORE
        );
        assert!(cgroup_mode(Some("props")).is_err());
    }

    /// runc's config file rule: the annotation names one, an empty one means none, and
    /// without it /etc/criu/runc.conf.
    #[test]
    fn the_criu_config_file_follows_the_annotation() {
        let null = std::fs::File::open("/dev/null").unwrap();
        let opts = |a: &[(&str, &str)]| {
            let map: BTreeMap<String, String> = a
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            base_opts(null.as_fd(), None, "dump.log", &map)
        };
        assert_eq!(opts(&[]).config_file(), "/etc/criu/runc.conf");
        assert_eq!(
            opts(&[("org.criu.config", "/etc/criu/mine.conf")]).config_file(),
            "/etc/criu/mine.conf"
        );
        assert!(!opts(&[("org.criu.config", "")]).has_config_file());
    }
}
