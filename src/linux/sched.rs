//! Process attributes set just before exec: personality, scheduler and I/O priority.

use anyhow::{Context, Result};
use nix::errno::Errno;
use oci_spec::runtime::{
    IOPriorityClass, LinuxIOPriority, LinuxPersonality, LinuxPersonalityDomain, LinuxSchedulerFlag,
    LinuxSchedulerPolicy, Scheduler,
};

use crate::linux::sys;

const PER_LINUX: libc::c_ulong = 0;
const PER_LINUX32: libc::c_ulong = 0x0008;

pub fn set_personality(p: &LinuxPersonality) -> Result<()> {
    let domain = match p.domain() {
        LinuxPersonalityDomain::PerLinux => PER_LINUX,
        LinuxPersonalityDomain::PerLinux32 => PER_LINUX32,
    };
    // SAFETY: plain integer argument.
    if unsafe { libc::personality(domain) } < 0 {
        return Err(Errno::last()).context("personality");
    }
    Ok(())
}

fn policy(p: LinuxSchedulerPolicy) -> u32 {
    (match p {
        LinuxSchedulerPolicy::SchedOther => libc::SCHED_OTHER,
        LinuxSchedulerPolicy::SchedFifo => libc::SCHED_FIFO,
        LinuxSchedulerPolicy::SchedRr => libc::SCHED_RR,
        LinuxSchedulerPolicy::SchedBatch => libc::SCHED_BATCH,
        LinuxSchedulerPolicy::SchedIso => 4,
        LinuxSchedulerPolicy::SchedIdle => libc::SCHED_IDLE,
        LinuxSchedulerPolicy::SchedDeadline => 6,
    }) as u32
}

fn flag(f: LinuxSchedulerFlag) -> u64 {
    match f {
        LinuxSchedulerFlag::SchedResetOnFork => 0x01,
        LinuxSchedulerFlag::SchedFlagReclaim => 0x02,
        LinuxSchedulerFlag::SchedFlagDLOverrun => 0x04,
        LinuxSchedulerFlag::SchedFlagKeepPolicy => 0x08,
        LinuxSchedulerFlag::SchedFlagKeepParams => 0x10,
        LinuxSchedulerFlag::SchedFlagUtilClampMin => 0x20,
        LinuxSchedulerFlag::SchedFlagUtilClampMax => 0x40,
    }
}

pub fn set_scheduler(s: &Scheduler) -> Result<()> {
    // SAFETY: sched_attr is plain old data.
    let mut attr: libc::sched_attr = unsafe { std::mem::zeroed() };
    attr.size = std::mem::size_of::<libc::sched_attr>() as u32;
    attr.sched_policy = policy(*s.policy());
    attr.sched_flags = s
        .flags()
        .iter()
        .flatten()
        .map(|f| flag(*f))
        .fold(0, |a, b| a | b);
    attr.sched_nice = s.nice().unwrap_or(0);
    attr.sched_priority = s.priority().unwrap_or(0) as u32;
    attr.sched_runtime = s.runtime().unwrap_or(0);
    attr.sched_deadline = s.deadline().unwrap_or(0);
    attr.sched_period = s.period().unwrap_or(0);
    sys::sched_setattr(&attr).with_context(|| format!("set scheduler {}", s.policy()))
}

pub fn set_io_priority(p: &LinuxIOPriority) -> Result<()> {
    let class = match p.class() {
        IOPriorityClass::IoprioClassRt => 1,
        IOPriorityClass::IoprioClassBe => 2,
        IOPriorityClass::IoprioClassIdle => 3,
    };
    sys::ioprio_set_self(class, p.priority() as u32).context("set I/O priority")
}
