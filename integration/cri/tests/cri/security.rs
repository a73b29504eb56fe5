//! securityContext as kubelet sends it, checked from inside the container and from the host.

use anyhow::{ensure, Context, Result};
use berth_cri_tests::{cri, Container, Harness, Pod};

/// A line of /proc/PID/status on the host ("Uid", "CapEff" …), its value.
fn status_field(pid: i32, field: &str) -> Result<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .map(|v| v.trim().to_string())
        .with_context(|| format!("no {field} in /proc/{pid}/status"))
}

/// The same line as the container's own process sees it (ExecSync).
async fn inside_status_field(pod: &Pod, c: &Container, field: &str) -> Result<String> {
    let line = pod
        .sh(c, &format!("grep '^{field}:' /proc/self/status"))
        .await?;
    Ok(line
        .split_once(':')
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default())
}

fn caps(hex: &str) -> Result<u64> {
    Ok(u64::from_str_radix(hex, 16)?)
}

fn profile(kind: cri::security_profile::ProfileType) -> Option<cri::SecurityProfile> {
    Some(cri::SecurityProfile {
        profile_type: kind as i32,
        ..Default::default()
    })
}

pub async fn run_as_user_and_group(h: Harness) -> Result<()> {
    let mut pod = h.pod("user").run().await?;
    let c = pod
        .start(h.busybox("c").command(&["sleep", "1000"]).security(|s| {
            s.run_as_user = Some(cri::Int64Value { value: 1234 });
            s.run_as_group = Some(cri::Int64Value { value: 5678 });
            s.supplemental_groups = vec![4321];
        }))
        .await?;
    ensure!(
        status_field(c.pid(), "Uid")? == "1234\t1234\t1234\t1234",
        "init's uids on the host"
    );
    ensure!(
        status_field(c.pid(), "Gid")? == "5678\t5678\t5678\t5678",
        "init's gids on the host"
    );
    let groups = status_field(c.pid(), "Groups")?;
    ensure!(
        groups.split_whitespace().any(|g| g == "4321"),
        "supplemental group missing: {groups:?}"
    );
    // An exec'd process runs as the container's user too.
    ensure!(
        pod.sh(&c, "id -u; id -g").await? == "1234\n5678",
        "ExecSync's user"
    );
    ensure!(
        inside_status_field(&pod, &c, "CapEff").await? == "0000000000000000",
        "a non-root user kept capabilities"
    );
    pod.remove(10).await?;
    Ok(())
}

pub async fn read_only_root_filesystem(h: Harness) -> Result<()> {
    let mut pod = h.pod("rootro").run().await?;
    let ro = pod
        .start(
            h.busybox("ro")
                .command(&["sleep", "1000"])
                .security(|s| s.readonly_rootfs = true),
        )
        .await?;
    let rw = pod
        .start(h.busybox("rw").command(&["sleep", "1000"]))
        .await?;
    let tried = pod.sh(&ro, "touch /new-file 2>&1; echo status $?").await?;
    ensure!(
        tried.contains("Read-only file system") && tried.ends_with("status 1"),
        "writing / of a read-only root: {tried}"
    );
    let root_options = pod
        .sh(&ro, "awk '$5 == \"/\" {print $6}' /proc/self/mountinfo")
        .await?;
    ensure!(
        root_options.split(',').any(|o| o == "ro"),
        "/ is mounted {root_options}"
    );
    ensure!(
        pod.sh(&rw, "touch /new-file && echo ok").await? == "ok",
        "a writable root refused a write"
    );
    pod.remove(10).await?;
    Ok(())
}

pub async fn capabilities_add_and_drop(h: Harness) -> Result<()> {
    const CHOWN: u32 = 0;
    const NET_ADMIN: u32 = 12;
    const NET_RAW: u32 = 13;
    const SYS_TIME: u32 = 25;
    let mut pod = h.pod("caps").run().await?;
    let default = pod
        .start(h.busybox("default").command(&["sleep", "1000"]))
        .await?;
    let changed = pod
        .start(
            h.busybox("changed")
                .command(&["sleep", "1000"])
                .security(|s| {
                    s.capabilities = Some(cri::Capability {
                        add_capabilities: vec!["NET_ADMIN".into(), "SYS_TIME".into()],
                        drop_capabilities: vec!["CHOWN".into(), "NET_RAW".into()],
                        ..Default::default()
                    })
                }),
        )
        .await?;
    let before = caps(&status_field(default.pid(), "CapEff")?)?;
    let after = caps(&status_field(changed.pid(), "CapEff")?)?;
    let has = |set: u64, cap: u32| set & (1 << cap) != 0;
    ensure!(
        has(before, CHOWN) && has(before, NET_RAW) && !has(before, NET_ADMIN),
        "default set {before:x}"
    );
    ensure!(
        !has(after, CHOWN) && !has(after, NET_RAW) && has(after, NET_ADMIN) && has(after, SYS_TIME),
        "after add NET_ADMIN SYS_TIME, drop CHOWN NET_RAW: {after:x}"
    );
    ensure!(
        after & !(1u64 << NET_ADMIN | 1 << SYS_TIME) == before & !(1u64 << CHOWN | 1 << NET_RAW),
        "{before:x} → {after:x}"
    );
    ensure!(
        caps(&status_field(changed.pid(), "CapBnd")?)? == after,
        "bounding set differs from the effective one"
    );
    // What the container can do follows: chown refused, a link's state changed.
    let chown = pod
        .sh(&changed, "chown 1 /tmp 2>&1; echo status $?")
        .await?;
    ensure!(
        chown.contains("Operation not permitted"),
        "chown without CAP_CHOWN: {chown}"
    );
    ensure!(
        pod.sh(&changed, "ip link set lo mtu 1500 && echo ok")
            .await?
            == "ok",
        "NET_ADMIN did not work"
    );
    let denied = pod
        .sh(&default, "ip link set lo mtu 1500 2>&1; echo status $?")
        .await?;
    ensure!(
        !denied.ends_with("status 0"),
        "a link changed without NET_ADMIN: {denied}"
    );
    pod.remove(10).await?;
    Ok(())
}

pub async fn privileged(h: Harness) -> Result<()> {
    let mut pod = h.pod("privileged").privileged().run().await?;
    let c = pod
        .start(
            h.busybox("c")
                .command(&["sleep", "1000"])
                .security(|s| s.privileged = true),
        )
        .await?;
    // Every capability containerd itself holds, no seccomp, the host's devices, a writable sysfs,
    // nothing masked.
    let own = status_field(std::process::id() as i32, "CapEff")?;
    ensure!(
        status_field(c.pid(), "CapEff")? == own,
        "a privileged container's capabilities"
    );
    ensure!(
        status_field(c.pid(), "Seccomp")? == "0",
        "a privileged container is filtered"
    );
    ensure!(
        pod.sh(&c, "test -c /dev/kmsg && echo yes").await? == "yes",
        "no host devices in /dev"
    );
    let sys = pod
        .sh(&c, "awk '$5 == \"/sys\" {print $6}' /proc/self/mountinfo")
        .await?;
    ensure!(sys.split(',').any(|o| o == "rw"), "/sys mounted {sys}");
    let timers = pod.sh(&c, "cat /proc/timer_list | wc -c").await?;
    ensure!(
        timers != "0",
        "/proc/timer_list masked in a privileged container"
    );
    pod.remove(10).await?;
    Ok(())
}

pub async fn seccomp_runtime_default_and_unconfined(h: Harness) -> Result<()> {
    use cri::security_profile::ProfileType;
    let mut pod = h.pod("seccomp").run().await?;
    let default = pod
        .start(
            h.busybox("default")
                .command(&["sleep", "1000"])
                .security(|s| s.seccomp = profile(ProfileType::RuntimeDefault)),
        )
        .await?;
    let unconfined = pod
        .start(
            h.busybox("unconfined")
                .command(&["sleep", "1000"])
                .security(|s| s.seccomp = profile(ProfileType::Unconfined)),
        )
        .await?;
    ensure!(
        status_field(default.pid(), "Seccomp")? == "2",
        "RuntimeDefault: no filter on the init"
    );
    ensure!(
        inside_status_field(&pod, &default, "Seccomp").await? == "2",
        "RuntimeDefault: no filter on exec"
    );
    ensure!(
        status_field(unconfined.pid(), "Seccomp")? == "0",
        "Unconfined: a filter on the init"
    );
    ensure!(
        inside_status_field(&pod, &unconfined, "Seccomp").await? == "0",
        "Unconfined: a filter on exec"
    );
    // containerd's default profile refuses unshare to a container without CAP_SYS_ADMIN.
    let unshare = pod
        .sh(&default, "unshare -U true 2>&1; echo status $?")
        .await?;
    ensure!(
        unshare.contains("Operation not permitted"),
        "unshare under RuntimeDefault: {unshare}"
    );
    pod.remove(10).await?;
    Ok(())
}

/// Kubelet's default masked and read-only paths (procMount Default).
pub async fn masked_and_readonly_paths(h: Harness) -> Result<()> {
    let masked = [
        "/proc/asound",
        "/proc/acpi",
        "/proc/kcore",
        "/proc/keys",
        "/proc/latency_stats",
        "/proc/timer_list",
        "/proc/timer_stats",
        "/proc/sched_debug",
        "/proc/scsi",
        "/sys/firmware",
    ];
    let readonly = [
        "/proc/bus",
        "/proc/fs",
        "/proc/irq",
        "/proc/sys",
        "/proc/sysrq-trigger",
    ];
    let mut pod = h.pod("paths").run().await?;
    let c = pod
        .start(h.busybox("c").command(&["sleep", "1000"]).security(|s| {
            s.masked_paths = masked.iter().map(|p| p.to_string()).collect();
            s.readonly_paths = readonly.iter().map(|p| p.to_string()).collect();
        }))
        .await?;
    // Masked: a file reads empty (it is /dev/null), a directory is an empty read-only tmpfs —
    // each path this kernel has is a mount point of its own.
    ensure!(
        pod.sh(&c, "cat /proc/timer_list | wc -c").await? == "0",
        "/proc/timer_list is readable"
    );
    ensure!(
        pod.sh(&c, "ls -A /sys/firmware | wc -l").await? == "0",
        "/sys/firmware is not empty"
    );
    let mounts = pod
        .sh(&c, "awk '{print $5, $6}' /proc/self/mountinfo")
        .await?;
    for path in masked.iter().filter(|p| std::path::Path::new(p).exists()) {
        ensure!(
            mounts.lines().any(|l| l.starts_with(&format!("{path} "))),
            "{path} is not masked"
        );
    }
    let write = pod
        .sh(
            &c,
            "(echo 1 > /proc/sys/vm/drop_caches) 2>&1; echo status $?",
        )
        .await?;
    ensure!(
        write.contains("Read-only file system"),
        "writing /proc/sys: {write}"
    );
    for path in readonly.iter().filter(|p| std::path::Path::new(p).exists()) {
        let line = mounts
            .lines()
            .find(|l| l.starts_with(&format!("{path} ")))
            .unwrap_or_default();
        ensure!(
            line.ends_with(" ro") || line.contains(" ro,"),
            "{path} is not a read-only mount: {line:?}"
        );
    }
    pod.remove(10).await?;
    Ok(())
}

/// Pod sysctls reach every container through the sandbox's namespaces, and leave the host's
/// alone; noNewPrivileges per container.
pub async fn sysctls_and_no_new_privs(h: Harness) -> Result<()> {
    let host_shm = std::fs::read_to_string("/proc/sys/kernel/shm_rmid_forced")?;
    let host_port = std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")?;
    let mut pod = h
        .pod("sysctl")
        .sysctl("kernel.shm_rmid_forced", "1")
        .sysctl("net.ipv4.ip_unprivileged_port_start", "81")
        .run()
        .await?;
    let nnp = pod
        .start(
            h.busybox("nnp")
                .command(&["sleep", "1000"])
                .security(|s| s.no_new_privs = true),
        )
        .await?;
    let plain = pod
        .start(h.busybox("plain").command(&["sleep", "1000"]))
        .await?;
    for c in [&nnp, &plain] {
        ensure!(
            pod.sh(c, "cat /proc/sys/kernel/shm_rmid_forced").await? == "1",
            "kernel.shm_rmid_forced"
        );
        ensure!(
            pod.sh(c, "cat /proc/sys/net/ipv4/ip_unprivileged_port_start")
                .await?
                == "81",
            "ip_unprivileged_port_start"
        );
    }
    ensure!(
        std::fs::read_to_string("/proc/sys/kernel/shm_rmid_forced")? == host_shm,
        "the host's shm_rmid_forced changed"
    );
    ensure!(
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")? == host_port,
        "the host's ip_unprivileged_port_start changed"
    );
    ensure!(
        status_field(nnp.pid(), "NoNewPrivs")? == "1",
        "noNewPrivileges true: not set on the init"
    );
    ensure!(
        inside_status_field(&pod, &nnp, "NoNewPrivs").await? == "1",
        "noNewPrivileges true: not set on exec"
    );
    ensure!(
        status_field(plain.pid(), "NoNewPrivs")? == "0",
        "noNewPrivileges false: set on the init"
    );
    pod.remove(10).await?;
    Ok(())
}
