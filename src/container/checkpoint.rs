//! `checkpoint` and `restore` with CRIU, handing it the container as runc does: the rootfs as
//! CRIU's root, bind mounts, masked files and device nodes as external mounts, namespaces joined
//! by path as external ones (net, pid) or joined again (the others), the container's cgroup, its
//! stdio pipes (descriptors.json), and the pty master of a terminal container.
//! A restore is a `create` whose init comes from CRIU (see create.rs).

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::unistd::Pid;
use oci_spec::runtime::{LinuxNamespaceType, Spec};

use crate::bundle::Bundle;
use crate::cgroups::CgroupPaths;
use crate::criu::{self, rpc, Criu};
use crate::hooks::{self, Kind};
use crate::linux::resolve::{clean, ensure_in_root, Kind as PathKind};
use crate::linux::tty;
use crate::state::{ContainerDir, Root, State, Status};

/// Where runc keeps the container's stdio names, in the image directory.
const DESCRIPTORS: &str = "descriptors.json";

/// What checkpoint and restore both take (runc's flags of the same names).
pub struct CriuOptions<'a> {
    pub image_path: &'a Path,
    pub work_path: Option<&'a Path>,
    pub tcp_established: bool,
    pub ext_unix_sk: bool,
    pub shell_job: bool,
    pub file_locks: bool,
    pub manage_cgroups_mode: Option<&'a str>,
    pub empty_ns: Option<&'a str>,
    pub auto_dedup: bool,
    pub lazy_pages: bool,
}

pub struct CheckpointOptions<'a> {
    pub criu: CriuOptions<'a>,
    pub parent_path: Option<&'a Path>,
    pub leave_running: bool,
    pub pre_dump: bool,
}

/// The image and work directories, open for CRIU (which is handed their descriptors).
struct Dirs {
    images: File,
    work: Option<File>,
    /// Where CRIU writes its log: the work directory, else the image directory.
    log_dir: PathBuf,
}

impl Dirs {
    fn open(o: &CriuOptions, make_images: bool) -> Result<Dirs> {
        let mkdir = |p: &Path| match fs::DirBuilder::new().mode(0o700).create(p) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                Err(e).with_context(|| format!("create {}", p.display()))
            }
            _ => Ok(()),
        };
        if make_images {
            mkdir(o.image_path)?;
        }
        let images = File::open(o.image_path)
            .with_context(|| format!("open image path {}", o.image_path.display()))?;
        let work = o
            .work_path
            .map(|p| {
                mkdir(p)?;
                File::open(p).with_context(|| format!("open work path {}", p.display()))
            })
            .transpose()?;
        Ok(Dirs {
            images,
            work,
            log_dir: o.work_path.unwrap_or(o.image_path).to_path_buf(),
        })
    }

    fn opts(
        &self,
        o: &CriuOptions,
        log: &str,
        annotations: &BTreeMap<String, String>,
    ) -> Result<rpc::Criu_opts> {
        let mut opts = criu::base_opts(
            self.images.as_fd(),
            self.work.as_ref().map(AsFd::as_fd),
            log,
            annotations,
        );
        opts.set_manage_cgroups(true);
        opts.set_manage_cgroups_mode(criu::cgroup_mode(o.manage_cgroups_mode)?);
        opts.set_tcp_established(o.tcp_established);
        opts.set_ext_unix_sk(o.ext_unix_sk);
        opts.set_shell_job(o.shell_job);
        opts.set_file_locks(o.file_locks);
        opts.set_auto_dedup(o.auto_dedup);
        opts.set_lazy_pages(o.lazy_pages);
        opts.set_empty_ns(empty_ns(o.empty_ns)?);
        Ok(opts)
    }

    fn pass(&self) -> Vec<BorrowedFd<'_>> {
        std::iter::once(self.images.as_fd())
            .chain(self.work.as_ref().map(AsFd::as_fd))
            .collect()
    }
}

/// runc's `--empty-ns`: only the network namespace can be left empty.
fn empty_ns(name: Option<&str>) -> Result<u32> {
    match name {
        None | Some("") => Ok(0),
        Some("network") => Ok(libc::CLONE_NEWNET as u32),
        Some(other) => bail!("--empty-ns: namespace {other:?} is not supported (only network)"),
    }
}

/// Refuses what this CRIU cannot do before anything is written.
fn check_features(criu: &Criu, o: &CriuOptions, pre_dump: bool) -> Result<()> {
    let mut want = rpc::Criu_features::new();
    if pre_dump {
        want.set_mem_track(true);
    }
    if o.lazy_pages {
        want.set_lazy_pages(true);
    }
    if !pre_dump && !o.lazy_pages {
        return Ok(());
    }
    let missing = criu.missing_features(want)?;
    if !missing.is_empty() {
        bail!("criu is missing features: {}", missing.join(", "));
    }
    Ok(())
}

/// The key CRIU knows an external namespace by (runc's: `extRootNetNS`, `extRootPidNS`).
fn ns_key(t: LinuxNamespaceType) -> &'static str {
    match t {
        LinuxNamespaceType::Network => "extRootNetNS",
        _ => "extRootPidNS",
    }
}

fn ns_name(t: LinuxNamespaceType) -> &'static str {
    match t {
        LinuxNamespaceType::Network => "net",
        LinuxNamespaceType::Pid => "pid",
        LinuxNamespaceType::Ipc => "ipc",
        LinuxNamespaceType::Uts => "uts",
        LinuxNamespaceType::Mount => "mnt",
        LinuxNamespaceType::User => "user",
        LinuxNamespaceType::Cgroup => "cgroup",
        LinuxNamespaceType::Time => "time",
    }
}

/// Namespaces the config joins by path: (type, path).
fn joined_namespaces(spec: &Spec) -> Vec<(LinuxNamespaceType, PathBuf)> {
    spec.linux()
        .as_ref()
        .and_then(|l| l.namespaces().as_ref())
        .into_iter()
        .flatten()
        .filter_map(|ns| Some((ns.typ(), ns.path().clone()?)))
        .collect()
}

/// A mount destination as CRIU names it: absolute, folded, inside the rootfs.
fn in_container(dest: &Path) -> String {
    Path::new("/").join(clean(dest)).display().to_string()
}

fn is_bind(m: &oci_spec::runtime::Mount) -> bool {
    m.typ().as_deref() == Some("bind")
        || crate::linux::rootfs::options(m)
            .iter()
            .any(|o| o == "bind" || o == "rbind")
}

fn ext_mount(key: String, val: String) -> rpc::Ext_mount_map {
    let mut m = rpc::Ext_mount_map::new();
    m.set_key(key);
    m.set_val(val);
    m
}

/// The container's /sys/fs/cgroup where it is a bind of the container's own cgroup directories
/// (no cgroup namespace: see cgroups/mount.rs), as (destination in the container, host
/// directory): mounts CRIU must be told are external, and given the new container's on restore.
fn cgroup_binds(spec: &Spec, cgroup: &CgroupPaths) -> Vec<(String, PathBuf)> {
    let cgroupns = spec
        .linux()
        .as_ref()
        .and_then(|l| l.namespaces().as_ref())
        .is_some_and(|n| n.iter().any(|ns| ns.typ() == LinuxNamespaceType::Cgroup));
    if cgroupns {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mounts = spec.mounts().iter().flatten();
    for m in mounts.filter(|m| m.typ().as_deref() == Some("cgroup")) {
        let dest = in_container(m.destination());
        if cgroup.unified_host {
            out.extend(cgroup.v2_dir().map(|d| (dest.clone(), d.full())));
        } else {
            for d in &cgroup.dirs {
                out.push((format!("{dest}/{}", d.mount_name()), d.full()));
            }
        }
    }
    out
}

/// The device nodes every container gets and those of `linux.devices`.
fn device_paths(spec: &Spec) -> Vec<String> {
    let mut paths: Vec<String> = [
        "/dev/null",
        "/dev/zero",
        "/dev/full",
        "/dev/tty",
        "/dev/random",
        "/dev/urandom",
    ]
    .map(String::from)
    .to_vec();
    let listed = spec.linux().as_ref().and_then(|l| l.devices().as_ref());
    for d in listed.into_iter().flatten() {
        let p = in_container(d.path());
        if !paths.contains(&p) {
            paths.push(p);
        }
    }
    paths
}

pub fn checkpoint(root: &Root, id: &str, o: &CheckpointOptions) -> Result<()> {
    let criu = Criu::find()?;
    let (dir, state) = super::load_locked(root, id)?;
    match dir.status(Some(&state)) {
        Status::Running | Status::Paused => {}
        status => bail!("container {id} is {status}: only a running container can be checkpointed"),
    }
    let spec = dir.load_config(&state)?;
    check_features(&criu, &o.criu, o.pre_dump)?;
    let dirs = Dirs::open(&o.criu, true)?;
    let mut opts = dirs.opts(&o.criu, "dump.log", &state.annotations)?;
    opts.set_pid(state.pid);
    opts.set_root(state.rootfs.display().to_string());
    opts.set_leave_running(o.leave_running);
    for (t, path) in joined_namespaces(&spec) {
        if matches!(t, LinuxNamespaceType::Network | LinuxNamespaceType::Pid) {
            let ino = fs::metadata(&path)
                .with_context(|| format!("namespace {}", path.display()))?
                .ino();
            opts.external
                .push(format!("{}[{ino}]:{}", ns_name(t), ns_key(t)));
        }
    }
    // CRIU freezes the container through its cgroup (v1 freezer, or cgroup2's freeze).
    if let Some(d) = state
        .cgroup
        .dirs
        .iter()
        .find(|d| d.is_v2() && state.cgroup.unified_host || d.has("freezer"))
    {
        opts.set_freeze_cgroup(d.full().display().to_string());
    }
    if let Some(parent) = o.parent_path {
        opts.set_parent_img(parent.display().to_string());
        opts.set_track_mem(true);
    }
    if !o.pre_dump {
        for m in spec.mounts().iter().flatten().filter(|m| is_bind(m)) {
            let dest = in_container(m.destination());
            opts.ext_mnt.push(ext_mount(dest.clone(), dest));
        }
        for (dest, _) in cgroup_binds(&spec, &state.cgroup) {
            opts.ext_mnt.push(ext_mount(dest.clone(), dest));
        }
        masked_files(&spec, state.pid, &mut opts);
        for p in device_paths(&spec) {
            opts.ext_mnt.push(ext_mount(p.clone(), p));
        }
        let names: Vec<String> = (0..3)
            .map(|fd| {
                fs::read_link(format!("/proc/{}/fd/{fd}", state.pid))
                    .map(|l| l.display().to_string())
                    .unwrap_or_default()
            })
            .collect();
        fs::write(
            o.criu.image_path.join(DESCRIPTORS),
            serde_json::to_vec(&names)?,
        )
        .context("write descriptors.json")?;
    }
    let mut req = rpc::Criu_req::new();
    req.set_type(if o.pre_dump {
        rpc::Criu_req_type::PRE_DUMP
    } else {
        rpc::Criu_req_type::DUMP
    });
    req.opts = Some(opts).into();
    criu.call(req, false, &dirs.pass(), &mut |_, _| Ok(()), |_| Ok(()))
        .map_err(|e| criu::with_log(e, &dirs.log_dir.join("dump.log")))
        .with_context(|| format!("checkpoint container {id}"))?;
    if o.pre_dump || o.leave_running {
        return Ok(());
    }
    // As runc: what was checkpointed (and stopped) is gone, its state with it.
    drop(dir);
    super::delete(root, id, true)
}

/// maskedPaths that are files: CRIU is told they are /dev/null (directories are tmpfs mounts
/// CRIU dumps itself).
fn masked_files(spec: &Spec, pid: i32, opts: &mut rpc::Criu_opts) {
    let masked = spec
        .linux()
        .as_ref()
        .and_then(|l| l.masked_paths().as_ref());
    for p in masked.into_iter().flatten() {
        let seen = fs::metadata(format!("/proc/{pid}/root/{}", p.trim_start_matches('/')));
        if seen.is_ok_and(|m| !m.is_dir()) {
            opts.ext_mnt.push(ext_mount(
                in_container(Path::new(p)),
                "/dev/null".to_owned(),
            ));
        }
    }
}

/// What `restore` asks of a create beyond its own options.
pub struct RestoreOptions<'a> {
    pub criu: CriuOptions<'a>,
    pub found: &'a Criu,
}

/// What the create has ready when CRIU takes over from the spawn.
pub(super) struct RestoreInit<'a> {
    pub dir: &'a ContainerDir,
    pub bundle: &'a Bundle,
    pub state: &'a State,
    pub cgroup: &'a CgroupPaths,
    pub console_socket: Option<OwnedFd>,
    /// systemd's placement of a pid in the container's unit (else berth writes cgroup.procs).
    pub place: Option<&'a dyn Fn(Pid) -> Result<()>>,
}

/// Restores the checkpoint into the container being created; returns the restored init's pid
/// (a child of berth: CRIU restores it as its sibling).
pub(super) fn restore_init(r: &RestoreInit, o: &RestoreOptions) -> Result<Pid> {
    let spec = &r.bundle.spec;
    let dirs = Dirs::open(&o.criu, false)?;
    let mut opts = dirs.opts(&o.criu, "restore.log", &r.state.annotations)?;
    opts.set_evasive_devices(true);
    opts.set_rst_sibling(true);
    // Namespaces joined by path: net and pid through descriptors CRIU inherits, the others joined.
    let mut ns_files = Vec::new();
    for (t, path) in joined_namespaces(spec) {
        match t {
            LinuxNamespaceType::Network | LinuxNamespaceType::Pid => {
                let f = File::open(&path)
                    .with_context(|| format!("namespace {} to restore into", path.display()))?;
                opts.inherit_fd.push(inherit(ns_key(t), f.as_fd()));
                ns_files.push(f);
            }
            LinuxNamespaceType::Cgroup => {
                bail!("restore into a cgroup namespace joined by path is not supported by CRIU")
            }
            _ => {
                let mut j = rpc::Join_namespace::new();
                j.set_ns(ns_name(t).to_owned());
                j.set_ns_file(path.display().to_string());
                opts.join_ns.push(j);
            }
        }
    }
    prepare_mountpoints(spec, &r.bundle.rootfs)?;
    for m in spec.mounts().iter().flatten().filter(|m| is_bind(m)) {
        let source = m.source().as_deref().unwrap_or(Path::new(""));
        let source = r.bundle.dir.join(source);
        opts.ext_mnt.push(ext_mount(
            in_container(m.destination()),
            source.display().to_string(),
        ));
    }
    for (dest, host) in cgroup_binds(spec, r.cgroup) {
        opts.ext_mnt
            .push(ext_mount(dest, host.display().to_string()));
    }
    let masked = spec
        .linux()
        .as_ref()
        .and_then(|l| l.masked_paths().as_ref());
    if masked.is_some_and(|m| !m.is_empty()) {
        opts.ext_mnt
            .push(ext_mount("/dev/null".to_owned(), "/dev/null".to_owned()));
    }
    for p in device_paths(spec) {
        opts.ext_mnt.push(ext_mount(p.clone(), p));
    }
    // The checkpointed stdio pipes become berth's own 0, 1 and 2, as CRIU's.
    let names: Vec<String> = fs::read(o.criu.image_path.join(DESCRIPTORS))
        .context("read descriptors.json of the checkpoint")
        .and_then(|b| serde_json::from_slice(&b).context("parse descriptors.json"))?;
    for (fd, name) in names.iter().enumerate() {
        if name.contains("pipe:") {
            let mut i = rpc::Inherit_fd::new();
            i.set_key(name.clone());
            i.set_fd(fd as i32);
            opts.inherit_fd.push(i);
        }
    }
    // CRIU's root must be a mount point whose parent is not overmounted: a bind of the rootfs.
    let criu_root = r.dir.path.join("criu-root");
    fs::create_dir(&criu_root).context("create criu-root")?;
    let bound = mount(
        Some(&r.bundle.rootfs),
        &criu_root,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .context("bind the rootfs for criu");
    let restored = bound.and_then(|()| {
        opts.set_root(criu_root.display().to_string());
        run_restore(r, o, &dirs, opts, &ns_files)
    });
    let _ = umount2(&criu_root, MntFlags::MNT_DETACH);
    let _ = fs::remove_dir(&criu_root);
    restored
}

fn inherit(key: &str, fd: BorrowedFd) -> rpc::Inherit_fd {
    let mut i = rpc::Inherit_fd::new();
    i.set_key(key.to_owned());
    i.set_fd(std::os::fd::AsRawFd::as_raw_fd(&fd));
    i
}

fn run_restore(
    r: &RestoreInit,
    o: &RestoreOptions,
    dirs: &Dirs,
    mut opts: rpc::Criu_opts,
    ns_files: &[File],
) -> Result<Pid> {
    // CRIU puts the restored tasks where it runs itself; cg_root maps the checkpoint's cgroup
    // root onto the container's (a restore under a new id has another).
    for d in &r.cgroup.dirs {
        let mut root = rpc::Cgroup_root::new();
        if !d.is_v2() {
            root.set_ctrl(d.controllers.clone());
        }
        root.set_path(d.path.display().to_string());
        opts.cg_root.push(root);
    }
    let mut req = rpc::Criu_req::new();
    req.set_type(rpc::Criu_req_type::RESTORE);
    req.opts = Some(opts).into();
    let spec_hooks = r.bundle.spec.hooks().as_ref();
    let mut pid = None;
    let mut notify = |n: &rpc::Criu_notify, fd: Option<OwnedFd>| -> Result<()> {
        match n.script() {
            // The namespaces exist, the tasks do not run yet: prestart and createRuntime.
            "setup-namespaces" if spec_hooks.is_some() => {
                let json = hooks::state_json(r.state, "creating", n.pid());
                hooks::run(Kind::Prestart, spec_hooks, &json)?;
                hooks::run(Kind::CreateRuntime, spec_hooks, &json)
            }
            "post-restore" => {
                pid = Some(n.pid());
                Ok(())
            }
            "orphan-pts-master" => {
                let master = fd.context("criu sent no pty master")?;
                let socket = r
                    .console_socket
                    .as_ref()
                    .context("the checkpoint has a terminal: --console-socket is needed")?;
                tty::send_master(socket.as_fd(), master.as_fd())
            }
            _ => Ok(()),
        }
    };
    let mut pass = dirs.pass();
    pass.extend(ns_files.iter().map(AsFd::as_fd));
    let place = |criu_pid: i32| match r.place {
        Some(place) => place(Pid::from_raw(criu_pid)),
        None => r.cgroup.enter(criu_pid),
    };
    let resp = o
        .found
        .call(req, true, &pass, &mut notify, place)
        .map_err(|e| criu::with_log(e, &dirs.log_dir.join("restore.log")))?;
    let pid = pid
        .filter(|p| *p > 0)
        .or(Some(resp.restore.pid()).filter(|p| *p > 0))
        .context("criu reported no restored process")?;
    Ok(Pid::from_raw(pid))
}

/// Mount points the config needs in the rootfs, made as a create makes them (CRIU mounts onto
/// them but does not make them), except those inside a tmpfs, whose contents CRIU restores.
fn prepare_mountpoints(spec: &Spec, rootfs: &Path) -> Result<()> {
    let mounts: Vec<_> = spec.mounts().iter().flatten().collect();
    let tmpfs: Vec<PathBuf> = mounts
        .iter()
        .filter(|m| m.typ().as_deref() == Some("tmpfs"))
        .map(|m| Path::new("/").join(clean(m.destination())))
        .collect();
    let root = File::open(rootfs).with_context(|| format!("open rootfs {}", rootfs.display()))?;
    for m in mounts {
        let dest = Path::new("/").join(clean(m.destination()));
        if m.typ().as_deref() == Some("cgroup")
            || tmpfs.iter().any(|t| dest != *t && dest.starts_with(t))
        {
            continue;
        }
        let kind = match m.source() {
            Some(src) if is_bind(m) && !fs::metadata(src).is_ok_and(|s| s.is_dir()) => {
                PathKind::File
            }
            _ => PathKind::Dir,
        };
        ensure_in_root(root.as_fd(), &dest, kind)
            .with_context(|| format!("mount point {} for the restore", dest.display()))?;
    }
    Ok(())
}
