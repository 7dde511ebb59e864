//! `lwprof report --header`: what a perf.data file says about its
//! recording, laid out as `perf report --header-only` lays it out: the file
//! layout, host, command line, each event with its attributes, the sample
//! times, the features present and missing, and the build ids.
//!
//! It reads the header and the feature sections only; it deliberately
//! walks no records (`--stats` counts those).

use anyhow::Result;
use lwprof_perfdata::{Features, PerfDataError, PerfDataFile};
use lwprof_records::abi::{read_format, sample_type};
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

const SAMPLE_TYPE_NAMES: &[(u64, &str)] = &[
    (sample_type::IP, "IP"),
    (sample_type::TID, "TID"),
    (sample_type::TIME, "TIME"),
    (sample_type::ADDR, "ADDR"),
    (sample_type::READ, "READ"),
    (sample_type::CALLCHAIN, "CALLCHAIN"),
    (sample_type::ID, "ID"),
    (sample_type::CPU, "CPU"),
    (sample_type::PERIOD, "PERIOD"),
    (sample_type::STREAM_ID, "STREAM_ID"),
    (sample_type::RAW, "RAW"),
    (sample_type::BRANCH_STACK, "BRANCH_STACK"),
    (sample_type::REGS_USER, "REGS_USER"),
    (sample_type::STACK_USER, "STACK_USER"),
    (sample_type::WEIGHT, "WEIGHT"),
    (sample_type::DATA_SRC, "DATA_SRC"),
    (sample_type::IDENTIFIER, "IDENTIFIER"),
    (sample_type::TRANSACTION, "TRANSACTION"),
    (sample_type::REGS_INTR, "REGS_INTR"),
    (sample_type::PHYS_ADDR, "PHYS_ADDR"),
    (sample_type::AUX, "AUX"),
    (sample_type::CGROUP, "CGROUP"),
    (sample_type::DATA_PAGE_SIZE, "DATA_PAGE_SIZE"),
    (sample_type::CODE_PAGE_SIZE, "CODE_PAGE_SIZE"),
    (sample_type::WEIGHT_STRUCT, "WEIGHT_STRUCT"),
];

const READ_FORMAT_NAMES: &[(u64, &str)] = &[
    (read_format::TOTAL_TIME_ENABLED, "TOTAL_TIME_ENABLED"),
    (read_format::TOTAL_TIME_RUNNING, "TOTAL_TIME_RUNNING"),
    (read_format::ID, "ID"),
    (read_format::GROUP, "GROUP"),
    (read_format::LOST, "LOST"),
];

/// The one-bit flags of `perf_event_attr`, by bit, as perf names them.
const FLAG_NAMES: &[(u32, &str)] = &[
    (0, "disabled"),
    (1, "inherit"),
    (2, "pinned"),
    (3, "exclusive"),
    (4, "exclude_user"),
    (5, "exclude_kernel"),
    (6, "exclude_hv"),
    (7, "exclude_idle"),
    (8, "mmap"),
    (9, "comm"),
    (10, "freq"),
    (11, "inherit_stat"),
    (12, "enable_on_exec"),
    (13, "task"),
    (14, "watermark"),
    (17, "mmap_data"),
    (18, "sample_id_all"),
    (19, "exclude_host"),
    (20, "exclude_guest"),
    (21, "exclude_callchain_kernel"),
    (22, "exclude_callchain_user"),
    (23, "mmap2"),
    (24, "comm_exec"),
    (25, "use_clockid"),
    (26, "context_switch"),
    (27, "write_backward"),
    (28, "namespaces"),
    (29, "ksymbol"),
    (30, "bpf_event"),
    (31, "aux_output"),
    (32, "cgroup"),
    (33, "text_poke"),
    (34, "build_id"),
    (35, "inherit_thread"),
    (36, "remove_on_exec"),
    (37, "sigtrap"),
];

/// perf's feature names, by bit (perf 6.1's `HEADER_*`).
const FEATURE_NAMES: &[&str] = &[
    "RESERVED",
    "TRACING_DATA",
    "BUILD_ID",
    "HOSTNAME",
    "OSRELEASE",
    "VERSION",
    "ARCH",
    "NRCPUS",
    "CPUDESC",
    "CPUID",
    "TOTAL_MEM",
    "CMDLINE",
    "EVENT_DESC",
    "CPU_TOPOLOGY",
    "NUMA_TOPOLOGY",
    "BRANCH_STACK",
    "PMU_MAPPINGS",
    "GROUP_DESC",
    "AUXTRACE",
    "STAT",
    "CACHE",
    "SAMPLE_TIME",
    "MEM_TOPOLOGY",
    "CLOCKID",
    "DIR_FORMAT",
    "BPF_PROG_INFO",
    "BPF_BTF",
    "COMPRESSED",
    "CPU_PMU_CAPS",
    "CLOCK_DATA",
    "HYBRID_TOPOLOGY",
];

fn u64_at(bytes: &[u8], offset: usize) -> u64 {
    bytes
        .get(offset..offset + 8)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u64::from_ne_bytes)
}

fn u32_at(bytes: &[u8], offset: usize) -> u32 {
    bytes
        .get(offset..offset + 4)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u32::from_ne_bytes)
}

fn bit_names(value: u64, names: &[(u64, &str)]) -> String {
    let v: Vec<&str> = names
        .iter()
        .filter(|(b, _)| value & b != 0)
        .map(|&(_, n)| n)
        .collect();
    v.join("|")
}

/// One `# event : ...` line from an attribute's file bytes (read by
/// offset, as the ABI lays them out: type, size, config, period or
/// frequency, sample_type, read_format, flags).
pub fn event_line(name: &str, ids: &[u64], attr: &[u8]) -> String {
    let mut s = format!("# event : name = {name}, , ");
    let ids: Vec<String> = ids.iter().map(u64::to_string).collect();
    if !ids.is_empty() {
        let _ = write!(s, "id = {{ {} }}, ", ids.join(", "));
    }
    let _ = write!(s, "type = {}, size = {}", u32_at(attr, 0), u32_at(attr, 4));
    let config = u64_at(attr, 8);
    if config != 0 {
        let _ = write!(s, ", config = {config:#x}");
    }
    let flags = u64_at(attr, 40);
    let period = u64_at(attr, 16);
    if flags & (1 << 10) != 0 {
        let _ = write!(s, ", {{ sample_period, sample_freq }} = {period}");
    } else if period != 0 {
        let _ = write!(s, ", sample_period = {period}");
    }
    let st = u64_at(attr, 24);
    if st != 0 {
        let _ = write!(s, ", sample_type = {}", bit_names(st, SAMPLE_TYPE_NAMES));
    }
    let rf = u64_at(attr, 32);
    if rf != 0 {
        let _ = write!(s, ", read_format = {}", bit_names(rf, READ_FORMAT_NAMES));
    }
    for &(bit, flag) in FLAG_NAMES {
        if flags & (1 << bit) != 0 {
            let _ = write!(s, ", {flag} = 1");
        }
        if bit == 14 && (flags >> 15) & 3 != 0 {
            let _ = write!(s, ", precise_ip = {}", (flags >> 15) & 3);
        }
    }
    s
}

fn host_lines(f: &Features, out: &mut String) {
    let mut line = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            let _ = writeln!(out, "# {k} : {v}");
        }
    };
    line("hostname", f.hostname.clone());
    line("os release", f.os_release.clone());
    line("perf version", f.version.clone());
    line("arch", f.arch.clone());
    line("nrcpus online", f.nr_cpus.map(|n| n.online.to_string()));
    line("nrcpus avail", f.nr_cpus.map(|n| n.available.to_string()));
    line("cpudesc", f.cpu_desc.clone());
    line("cpuid", f.cpuid.clone());
    line("total memory", f.total_mem_kb.map(|m| format!("{m} kB")));
    line(
        "cmdline",
        f.cmdline.as_ref().map(|c| format!("{} ", c.join(" "))),
    );
}

/// The header of `file`, as text.
pub fn header_text<R: std::io::Read + std::io::Seek>(file: &PerfDataFile<R>) -> String {
    let h = file.header();
    let f = file.features();
    let mut out = String::from("# ========\n");
    let _ = writeln!(out, "# data offset    : {}", h.data.0);
    let _ = writeln!(out, "# data size      : {}", h.data.1);
    host_lines(f, &mut out);
    for a in file.attrs() {
        let _ = writeln!(out, "{}", event_line(&a.name, &a.ids, a.bytes()));
    }
    if !f.pmu_mappings.is_empty() {
        let m: Vec<String> = f
            .pmu_mappings
            .iter()
            .map(|(t, n)| format!("{n} = {t}"))
            .collect();
        let _ = writeln!(out, "# pmu mappings: {}", m.join(", "));
    }
    if let Some((first, last)) = f.sample_time {
        let secs = |t: u64| format!("{}.{:06}", t / 1_000_000_000, t % 1_000_000_000 / 1000);
        let _ = writeln!(out, "# time of first sample : {}", secs(first));
        let _ = writeln!(out, "# time of last sample : {}", secs(last));
        let ms = last.saturating_sub(first) as f64 / 1e6;
        let _ = writeln!(out, "# sample duration : {ms:10.3} ms");
    }
    let bits = |present: bool| -> Vec<&str> {
        FEATURE_NAMES
            .iter()
            .enumerate()
            .filter(|&(b, _)| b > 0 && h.has_feature(b as u32) == present)
            .map(|(_, &n)| n)
            .collect()
    };
    let _ = writeln!(out, "# features: {}", bits(true).join(" "));
    let _ = writeln!(out, "# missing features: {} ", bits(false).join(" "));
    for b in &f.build_ids {
        let id: String = b.build_id.iter().map(|x| format!("{x:02x}")).collect();
        let _ = writeln!(out, "# build id : {id} {}", b.path);
    }
    out.push_str("# ========\n#\n");
    out
}

/// `lwprof report --header -i FILE`.
pub fn run(path: &Path) -> Result<u8> {
    let file = match PerfDataFile::open(path) {
        Ok(f) => f,
        Err(PerfDataError::Unfinished { .. }) => PerfDataFile::open_unfinished(path)?,
        Err(e) => return Err(e.into()),
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    out.write_all(header_text(&file).as_bytes())?;
    out.flush()?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_lines_name_attributes_as_perf_does() {
        let mut attr = vec![0u8; 128];
        attr[0..4].copy_from_slice(&1u32.to_ne_bytes());
        attr[4..8].copy_from_slice(&128u32.to_ne_bytes());
        attr[16..24].copy_from_slice(&10_000u64.to_ne_bytes());
        let st = sample_type::IP | sample_type::TID | sample_type::CALLCHAIN;
        attr[24..32].copy_from_slice(&st.to_ne_bytes());
        let flags: u64 = 1 | (1 << 10) | (3 << 15) | (1 << 23);
        attr[40..48].copy_from_slice(&flags.to_ne_bytes());
        assert_eq!(
            event_line("cpu-clock:ppp", &[7, 8], &attr),
            "# event : name = cpu-clock:ppp, , id = { 7, 8 }, type = 1, size = 128, \
             { sample_period, sample_freq } = 10000, sample_type = IP|TID|CALLCHAIN, \
             disabled = 1, freq = 1, precise_ip = 3, mmap2 = 1"
        );
    }
}
