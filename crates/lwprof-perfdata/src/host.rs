//! Host facts for the feature sections, read from /proc and /sys (no
//! syscalls beyond file reads, so no `unsafe`). Missing files leave the
//! corresponding feature out rather than failing the recording.

use super::features::{CpuTopology, Features, NrCpus};
use std::fs;

fn read_trimmed(path: &str) -> Option<String> {
    fs::read_to_string(path).ok().map(|s| s.trim().to_string())
}

/// Parses a kernel CPU list ("0-3,5,7-8") into CPU numbers.
pub(crate) fn parse_cpu_list(s: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for part in s.trim().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<u32>(), b.parse::<u32>()) {
                    out.extend(a..=b.min(a.saturating_add(65535)));
                }
            }
            None => out.extend(part.parse::<u32>().ok()),
        }
    }
    out
}

/// The value of the first `key : value` line of /proc/cpuinfo text.
fn cpuinfo_field<'a>(cpuinfo: &'a str, key: &str) -> Option<&'a str> {
    cpuinfo.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == key).then(|| v.trim())
    })
}

fn topology(available: u32) -> CpuTopology {
    let mut t = CpuTopology::default();
    let id = |cpu: u32, f: &str| {
        read_trimmed(&format!("/sys/devices/system/cpu/cpu{cpu}/topology/{f}"))
            .and_then(|s| s.parse::<i64>().ok())
            .map_or(u32::MAX, |v| v as u32)
    };
    let push_unique = |list: &mut Vec<String>, cpu: u32, f: &str| {
        if let Some(s) = read_trimmed(&format!("/sys/devices/system/cpu/cpu{cpu}/topology/{f}")) {
            if !list.contains(&s) {
                list.push(s);
            }
        }
    };
    let mut core = Vec::new();
    let mut thread = Vec::new();
    let mut die = Vec::new();
    for cpu in 0..available {
        push_unique(&mut core, cpu, "core_siblings_list");
        push_unique(&mut thread, cpu, "thread_siblings_list");
        push_unique(&mut die, cpu, "die_cpus_list");
        t.cpus
            .push((id(cpu, "core_id"), id(cpu, "physical_package_id")));
        t.die_ids.push(id(cpu, "die_id"));
    }
    t.core_siblings = core;
    t.thread_siblings = thread;
    t.die_siblings = die;
    if t.die_siblings.is_empty() {
        t.die_ids.clear();
    }
    t
}

impl Features {
    /// Collects the host features perf writes: hostname, os release, arch,
    /// CPU counts, description, id and topology, total memory and PMU
    /// mappings, plus the given version string and command line.
    /// Build ids and sample times are the caller's to add.
    pub fn from_host(version: &str, cmdline: Vec<String>) -> Features {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let present = read_trimmed("/sys/devices/system/cpu/present").map(|s| parse_cpu_list(&s));
        let online = read_trimmed("/sys/devices/system/cpu/online").map(|s| parse_cpu_list(&s));
        let nr_cpus = present
            .as_ref()
            .and_then(|p| p.iter().max())
            .map(|&max| NrCpus {
                available: max + 1,
                online: online.as_ref().map_or(max + 1, |o| o.len() as u32),
            });
        let cpuid = match (
            cpuinfo_field(&cpuinfo, "vendor_id"),
            cpuinfo_field(&cpuinfo, "cpu family"),
            cpuinfo_field(&cpuinfo, "model"),
            cpuinfo_field(&cpuinfo, "stepping"),
        ) {
            (Some(v), Some(f), Some(m), Some(s)) => Some(format!("{v},{f},{m},{s}")),
            _ => None,
        };
        let cpu_desc = cpuinfo_field(&cpuinfo, "model name")
            .or_else(|| cpuinfo_field(&cpuinfo, "cpu model"))
            .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "));
        let total_mem_kb = fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        });
        let mut pmu_mappings: Vec<(u32, String)> = fs::read_dir("/sys/bus/event_source/devices")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let ty = fs::read_to_string(e.path().join("type"))
                    .ok()?
                    .trim()
                    .parse()
                    .ok()?;
                Some((ty, name))
            })
            .collect();
        pmu_mappings.sort();
        Features {
            hostname: read_trimmed("/proc/sys/kernel/hostname"),
            os_release: read_trimmed("/proc/sys/kernel/osrelease"),
            version: Some(version.to_string()),
            arch: Some(std::env::consts::ARCH.to_string()),
            nr_cpus,
            cpu_desc,
            cpuid,
            total_mem_kb,
            cmdline: Some(cmdline),
            cpu_topology: nr_cpus.map(|n| topology(n.available)),
            pmu_mappings,
            ..Features::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_parse() {
        assert_eq!(parse_cpu_list("0-3,5,7-8\n"), vec![0, 1, 2, 3, 5, 7, 8]);
        assert_eq!(parse_cpu_list(""), Vec::<u32>::new());
        assert_eq!(parse_cpu_list("x,2"), vec![2]);
    }

    #[test]
    fn host_features_match_proc() {
        let f = Features::from_host("lwprof test", vec!["a".into()]);
        assert_eq!(
            f.hostname.as_deref(),
            Some(read_trimmed("/proc/sys/kernel/hostname").unwrap().as_str())
        );
        assert_eq!(
            f.os_release.as_deref(),
            Some(read_trimmed("/proc/sys/kernel/osrelease").unwrap().as_str())
        );
        let n = f.nr_cpus.expect("sysfs lists present CPUs");
        assert!(n.online >= 1 && n.online <= n.available);
        let t = f.cpu_topology.expect("topology");
        assert_eq!(t.cpus.len(), n.available as usize);
        assert!(f
            .pmu_mappings
            .iter()
            .any(|(ty, name)| *ty == 1 && name == "software"));
    }
}
