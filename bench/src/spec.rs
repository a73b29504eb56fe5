//! `runc spec` / `berth spec` defaults (runtime-spec 1.0.2), with terminal off, a read-only
//! root and an absolute cgroupsPath per container (set by the config writer).

/// Written as ociVersion: crun 1.8 refuses any version that is not 1.0.x.
pub const OCI_VERSION: &str = "1.0.2-dev";

pub const HOSTNAME: &str = "bench";

pub const ENV: &[&str] = &[
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "TERM=xterm",
];

/// Namespace types of the config, with the clone flag the floor uses for each.
pub const NAMESPACES: &[(&str, libc::c_int)] = &[
    ("pid", libc::CLONE_NEWPID),
    ("network", libc::CLONE_NEWNET),
    ("ipc", libc::CLONE_NEWIPC),
    ("uts", libc::CLONE_NEWUTS),
    ("mount", libc::CLONE_NEWNS),
];

pub struct Mount {
    pub destination: &'static str,
    pub typ: &'static str,
    pub source: &'static str,
    pub options: &'static [&'static str],
}

pub const MOUNTS: &[Mount] = &[
    Mount {
        destination: "/proc",
        typ: "proc",
        source: "proc",
        options: &[],
    },
    Mount {
        destination: "/dev",
        typ: "tmpfs",
        source: "tmpfs",
        options: &["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    Mount {
        destination: "/dev/pts",
        typ: "devpts",
        source: "devpts",
        options: &[
            "nosuid",
            "noexec",
            "newinstance",
            "ptmxmode=0666",
            "mode=0620",
            "gid=5",
        ],
    },
    Mount {
        destination: "/dev/shm",
        typ: "tmpfs",
        source: "shm",
        options: &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
    },
    Mount {
        destination: "/dev/mqueue",
        typ: "mqueue",
        source: "mqueue",
        options: &["nosuid", "noexec", "nodev"],
    },
    Mount {
        destination: "/sys",
        typ: "sysfs",
        source: "sysfs",
        options: &["nosuid", "noexec", "nodev", "ro"],
    },
    Mount {
        destination: "/sys/fs/cgroup",
        typ: "cgroup",
        source: "cgroup",
        options: &["nosuid", "noexec", "nodev", "relatime", "ro"],
    },
];

pub const MASKED_PATHS: &[&str] = &[
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/sys/firmware",
    "/proc/scsi",
];

pub const READONLY_PATHS: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// The three default capabilities (bounding, effective, permitted and ambient), with their
/// numbers for the floor's capset.
pub const CAPABILITIES: &[(&str, u32)] = &[
    ("CAP_AUDIT_WRITE", 29),
    ("CAP_KILL", 5),
    ("CAP_NET_BIND_SERVICE", 10),
];

/// RLIMIT_NOFILE soft and hard.
pub const NOFILE: u64 = 1024;

/// Splits mount options into mount(2) flags and the data string, as runtimes do.
pub fn mount_flags(options: &[&str]) -> (libc::c_ulong, String) {
    let mut flags = 0;
    let mut data = Vec::new();
    for o in options {
        match *o {
            "ro" => flags |= libc::MS_RDONLY,
            "nosuid" => flags |= libc::MS_NOSUID,
            "noexec" => flags |= libc::MS_NOEXEC,
            "nodev" => flags |= libc::MS_NODEV,
            "strictatime" => flags |= libc::MS_STRICTATIME,
            "relatime" => flags |= libc::MS_RELATIME,
            other => data.push(other),
        }
    }
    (flags, data.join(","))
}
