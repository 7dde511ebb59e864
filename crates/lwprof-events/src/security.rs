//! Security controls and permission diagnostics.
//!
//! Seed 000 asks that a task, and sandboxed code above all, can have
//! monitoring switched off. This module explains why the kernel refused an
//! event (perf_event_paranoid, CAP_PERFMON, seccomp) in words a user can act on.

use std::fs;

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
    let status = fs::read_to_string("/proc/self/status").ok()?;
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
            "this process runs under a seccomp filter (mode {mode}) that denies perf_event_open; \
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
