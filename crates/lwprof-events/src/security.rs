//! Security controls and permission diagnostics.
//!
//! Seed 000 asks that a task, and sandboxed code above all, can have
//! monitoring switched off. Two controls serve that:
//!
//! - [`disable_own_events`] / [`enable_own_events`]: prctl
//!   `PR_TASK_PERF_EVENTS_DISABLE/ENABLE`, which stop and restart every event
//!   the calling thread *opened* (its own counters and samplers), e.g. around
//!   a region it does not want measured;
//! - [`PerfDenyFilter`]: a seccomp filter that makes perf_event_open(2) fail
//!   with `EACCES`, for code that runs untrusted work: once installed it can
//!   never be removed, and it is inherited by every child started afterwards.
//!
//! It also explains why the kernel refused an event (perf_event_paranoid,
//! CAP_PERFMON, seccomp) in words a user can act on. It does not stop other,
//! privileged processes from monitoring this one: that is the kernel's
//! perf_event_paranoid and ptrace rules.

use crate::error::{Error, Result};
use crate::sys;
use seccompiler::{BpfProgram, SeccompAction, SeccompFilter};
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::process::CommandExt;

/// Where the kernel publishes the paranoid level.
pub const PARANOID_PATH: &str = "/proc/sys/kernel/perf_event_paranoid";

/// The current `kernel.perf_event_paranoid`, if readable.
pub fn paranoid_level() -> Option<i32> {
    fs::read_to_string(PARANOID_PATH).ok()?.trim().parse().ok()
}

/// What a paranoid level allows an unprivileged user, in one phrase.
pub fn paranoid_meaning(level: i32) -> &'static str {
    match level {
        i32::MIN..=-1 => "no restrictions",
        0 => "CPU-wide and kernel profiling, but no raw tracepoint data",
        1 => "kernel and user profiling of your own processes, but no CPU-wide (-a) events",
        2 => "user-space profiling of your own processes only (no kernel, no CPU-wide)",
        _ => "no perf events at all for unprivileged users",
    }
}

fn seccomp_mode() -> Option<u32> {
    // Seccomp filters are per thread: ask about the calling thread.
    let status = fs::read_to_string("/proc/thread-self/status")
        .or_else(|_| fs::read_to_string("/proc/self/status"))
        .ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Seccomp:"))
        .and_then(|v| v.trim().parse().ok())
}

/// Advice for an EACCES/EPERM from perf_event_open on `pid`/`cpu`.
pub fn permission_advice(pid: i32, cpu: i32) -> String {
    let root = nix_is_root();
    if let Some(mode) = seccomp_mode().filter(|&m| m != 0) {
        return format!(
            "this process runs under a seccomp filter (mode {mode}) that denies perf_event_open \
             (a sandbox, a container runtime, or lwprof's own security::PerfDenyFilter); \
             run lwprof outside the sandbox"
        );
    }
    let level = paranoid_level();
    let level_text = match level {
        Some(l) => format!(
            "kernel.perf_event_paranoid is {l} ({})",
            paranoid_meaning(l)
        ),
        None => "kernel.perf_event_paranoid could not be read".to_string(),
    };
    if root {
        return format!(
            "{level_text}, and even root was refused: a security module (lockdown, SELinux, \
             AppArmor) or a container policy forbids perf_event_open"
        );
    }
    let need = if pid == -1 && cpu >= 0 { "0" } else { "1" };
    format!(
        "{level_text}; to allow it run as root, grant CAP_PERFMON (setcap cap_perfmon+ep), or \
         `sysctl -w kernel.perf_event_paranoid={need}`"
    )
}

/// Disables every perf event the calling thread opened
/// (prctl `PR_TASK_PERF_EVENTS_DISABLE`): counters stop counting and samplers
/// stop sampling until [`enable_own_events`]. The kernel applies it to the
/// events this thread owns, whichever task they monitor; events opened by
/// other threads or processes are not affected.
pub fn disable_own_events() -> Result<()> {
    sys::task_events_disable().map_err(|e| Error::io("prctl(PR_TASK_PERF_EVENTS_DISABLE)", e))
}

/// Re-enables every perf event the calling thread opened
/// (prctl `PR_TASK_PERF_EVENTS_ENABLE`), including ones opened disabled.
pub fn enable_own_events() -> Result<()> {
    sys::task_events_enable().map_err(|e| Error::io("prctl(PR_TASK_PERF_EVENTS_ENABLE)", e))
}

/// Which threads a [`PerfDenyFilter`] covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterScope {
    /// The calling thread only (seccomp filters are per thread), plus the
    /// threads and processes it creates afterwards.
    Thread,
    /// Every thread of the process (`SECCOMP_FILTER_FLAG_TSYNC`), plus the
    /// threads and processes created afterwards.
    Process,
}

/// The seccomp program that makes perf_event_open fail with `EACCES`.
///
/// Installing it sets `no_new_privs` (required for an unprivileged seccomp
/// filter; set-uid binaries then no longer gain privileges), and it cannot be
/// removed. On x86-64 the x32 alias of the system call is denied too. Calls
/// made through another ABI (32-bit `int 0x80`) fail the architecture check,
/// which seccompiler answers by killing the process.
#[derive(Debug, Clone)]
pub struct PerfDenyFilter {
    program: BpfProgram,
}

fn seccomp_error(what: &str, source: seccompiler::Error) -> Error {
    Error::Seccomp {
        what: what.to_owned(),
        source,
    }
}

impl PerfDenyFilter {
    /// Builds the program (no system call yet).
    pub fn new() -> Result<PerfDenyFilter> {
        let arch = seccompiler::TargetArch::try_from(std::env::consts::ARCH)
            .map_err(|e| seccomp_error("unsupported architecture", e.into()))?;
        let mut rules = BTreeMap::new();
        rules.insert(libc::SYS_perf_event_open, Vec::new());
        #[cfg(target_arch = "x86_64")]
        {
            // __X32_SYSCALL_BIT: the x32 ABI reaches the same system call.
            rules.insert(libc::SYS_perf_event_open | 0x4000_0000, Vec::new());
        }
        let filter = SeccompFilter::new(
            rules,
            SeccompAction::Allow,
            SeccompAction::Errno(libc::EACCES as u32),
            arch,
        )
        .map_err(|e| seccomp_error("building the perf_event_open filter", e.into()))?;
        let program: BpfProgram = filter.try_into().map_err(|e: seccompiler::BackendError| {
            seccomp_error("compiling the filter", e.into())
        })?;
        Ok(PerfDenyFilter { program })
    }

    /// Installs the filter for `scope`. Irreversible.
    pub fn apply(&self, scope: FilterScope) -> Result<()> {
        match scope {
            FilterScope::Thread => seccompiler::apply_filter(&self.program),
            FilterScope::Process => seccompiler::apply_filter_all_threads(&self.program),
        }
        .map_err(|e| seccomp_error("installing the perf_event_open filter", e))
    }

    /// Arranges for `cmd`'s child to install the filter just before exec, so
    /// the untrusted program (and everything it starts) cannot open perf
    /// events while the caller keeps its own.
    pub fn install_before_exec(&self, cmd: &mut std::process::Command) {
        let program = self.program.clone();
        // SAFETY: the hook runs in the forked child before exec; it only
        // makes the prctl and seccomp system calls on a program built before
        // the fork (no allocation, no lock), which is async-signal-safe.
        unsafe {
            cmd.pre_exec(move || {
                seccompiler::apply_filter(&program).map_err(|e| match e {
                    seccompiler::Error::Prctl(io) | seccompiler::Error::Seccomp(io) => io,
                    _ => std::io::Error::from_raw_os_error(libc::EINVAL),
                })
            });
        }
    }
}

/// Builds and installs a [`PerfDenyFilter`] for `scope`.
pub fn deny_perf_events(scope: FilterScope) -> Result<()> {
    PerfDenyFilter::new()?.apply(scope)
}

fn nix_is_root() -> bool {
    // Effective uid from /proc keeps this module free of unsafe.
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|v| v.split_whitespace().nth(1).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_level_has_a_meaning() {
        for l in -1..=4 {
            assert!(!paranoid_meaning(l).is_empty());
        }
        assert!(paranoid_meaning(2).contains("user-space"));
    }
}
