//! The feature sections of perf.data: encoding and decoding, on bytes only.
//!
//! Formats follow perf's `tools/perf/util/header.c`: strings are a u32
//! length (the string, its NUL and zero padding to 64 bytes) followed by the
//! bytes; lists are a u32 count followed by their items.

use super::error::PerfDataError;
use super::feature;
use super::tracing::TracingData;
use lwprof_records::abi::misc::BUILD_ID_SIZE as MISC_BUILD_ID_SIZE;
use lwprof_records::Endianness;
use std::collections::BTreeMap;
use std::path::Path;

/// perf's `NAME_ALIGN`: strings in feature sections are padded to 64 bytes.
const NAME_ALIGN: usize = 64;
/// `sizeof(struct perf_record_header_build_id)` without the file name.
const BUILD_ID_EVENT_SIZE: usize = 8 + 4 + 24;
/// Longest build id perf stores (SHA-1 size).
pub(crate) const BUILD_ID_MAX: usize = 20;

/// One binary with a build id, for the BUILD_ID feature (perf's
/// `perf_record_header_build_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildIdEntry {
    /// Machine pid: -1 for the host (perf's `HOST_KERNEL_ID`), which is what
    /// perf writes for the kernel and for user binaries alike.
    pub pid: i32,
    /// CPU mode: `PERF_RECORD_MISC_KERNEL` (1) for the kernel and modules,
    /// `PERF_RECORD_MISC_USER` (2) for user binaries. The writer adds
    /// `PERF_RECORD_MISC_BUILD_ID_SIZE` itself; the reader strips it.
    pub misc: u16,
    /// The build id bytes (at most 20).
    pub build_id: Vec<u8>,
    /// The binary's path, or "[kernel.kallsyms]" for the kernel.
    pub path: String,
}

/// CPU counts (the NRCPUS feature).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NrCpus {
    /// CPUs present (perf: "nrcpus avail"); CPU_TOPOLOGY has this many entries.
    pub available: u32,
    /// CPUs online.
    pub online: u32,
}

/// The CPU_TOPOLOGY feature.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CpuTopology {
    /// One CPU list per distinct `core_siblings_list` ("0-1").
    pub core_siblings: Vec<String>,
    /// One CPU list per distinct `thread_siblings_list`.
    pub thread_siblings: Vec<String>,
    /// Per CPU (0..available): (core id, socket id).
    pub cpus: Vec<(u32, u32)>,
    /// One CPU list per distinct `die_cpus_list`.
    pub die_siblings: Vec<String>,
    /// Per CPU: die id.
    pub die_ids: Vec<u32>,
}

/// The feature sections of a perf.data file that lwprof writes and reads.
///
/// When writing, `None` / empty fields are left out of the file, and the
/// EVENT_DESC feature is always generated from the writer's attributes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Features {
    /// HOSTNAME (uname -n).
    pub hostname: Option<String>,
    /// OSRELEASE (uname -r).
    pub os_release: Option<String>,
    /// VERSION: the recording tool's version.
    pub version: Option<String>,
    /// ARCH (uname -m).
    pub arch: Option<String>,
    /// NRCPUS.
    pub nr_cpus: Option<NrCpus>,
    /// CPUDESC: the CPU model name.
    pub cpu_desc: Option<String>,
    /// CPUID: on x86 "vendor,family,model,stepping".
    pub cpuid: Option<String>,
    /// TOTAL_MEM in kB.
    pub total_mem_kb: Option<u64>,
    /// CMDLINE: the recording command line, program path first.
    pub cmdline: Option<Vec<String>>,
    /// BUILD_ID: binaries with samples and their build ids.
    pub build_ids: Vec<BuildIdEntry>,
    /// CPU_TOPOLOGY (needs `nr_cpus`, which says how many CPUs it lists).
    pub cpu_topology: Option<CpuTopology>,
    /// PMU_MAPPINGS: (PMU type number, PMU name).
    pub pmu_mappings: Vec<(u32, String)>,
    /// SAMPLE_TIME: times of the first and last sample. The writer fills it
    /// from the samples it saw when left `None`.
    pub sample_time: Option<(u64, u64)>,
    /// CLOCKID: resolution in ns of the clock of `attr.clockid`.
    pub clockid_res_ns: Option<u64>,
    /// TRACING_DATA: the format files of the tracepoint events (perf cannot
    /// read a file with a tracepoint event without it). Written as its bytes.
    pub tracing_data: Option<TracingData>,
    /// Features lwprof does not interpret, by feature bit, as raw bytes
    /// (read from a file, or written verbatim).
    pub other: BTreeMap<u32, Vec<u8>>,
}

// ---------------------------------------------------------------- encoding

pub(crate) fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_ne_bytes());
}
pub(crate) fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_ne_bytes());
}

/// A perf header string: u32 padded length, bytes, NUL, zero padding.
pub(crate) fn put_string(out: &mut Vec<u8>, s: &str) {
    // A NUL inside would cut the string short for every reader.
    let s = s.split('\0').next().unwrap_or("");
    let len = (s.len() + 1).next_multiple_of(NAME_ALIGN);
    put_u32(out, len as u32);
    out.extend_from_slice(s.as_bytes());
    out.resize(out.len() + len - s.len(), 0);
}

fn put_string_list(out: &mut Vec<u8>, list: &[String]) {
    put_u32(out, list.len() as u32);
    for s in list {
        put_string(out, s);
    }
}

fn encode_build_ids(entries: &[BuildIdEntry]) -> Result<Vec<u8>, PerfDataError> {
    let mut out = Vec::new();
    for e in entries {
        if e.build_id.len() > BUILD_ID_MAX {
            return Err(PerfDataError::InvalidInput(format!(
                "build id of {} is {} bytes, more than the {BUILD_ID_MAX} perf.data holds",
                e.path,
                e.build_id.len()
            )));
        }
        let name_len = (e.path.len() + 1).next_multiple_of(NAME_ALIGN);
        let size = BUILD_ID_EVENT_SIZE + name_len;
        let size = u16::try_from(size).map_err(|_| {
            PerfDataError::InvalidInput(format!(
                "path of build id entry too long: {} bytes",
                e.path.len()
            ))
        })?;
        put_u32(&mut out, 0); // type: unused in the feature section
        out.extend_from_slice(&(e.misc | MISC_BUILD_ID_SIZE).to_ne_bytes());
        out.extend_from_slice(&size.to_ne_bytes());
        out.extend_from_slice(&e.pid.to_ne_bytes());
        let mut id = [0u8; 24];
        id[..e.build_id.len()].copy_from_slice(&e.build_id);
        id[20] = e.build_id.len() as u8;
        out.extend_from_slice(&id);
        out.extend_from_slice(e.path.as_bytes());
        out.resize(out.len() + name_len - e.path.len(), 0);
    }
    Ok(out)
}

fn encode_topology(t: &CpuTopology) -> Vec<u8> {
    let mut out = Vec::new();
    put_string_list(&mut out, &t.core_siblings);
    put_string_list(&mut out, &t.thread_siblings);
    for &(core, socket) in &t.cpus {
        put_u32(&mut out, core);
        put_u32(&mut out, socket);
    }
    if !t.die_siblings.is_empty() {
        put_string_list(&mut out, &t.die_siblings);
        for &d in &t.die_ids {
            put_u32(&mut out, d);
        }
    }
    out
}

/// One event for EVENT_DESC: on-file attr bytes (all of `attr_size`), name, ids.
pub(crate) struct DescEvent<'a> {
    pub attr_bytes: &'a [u8],
    pub name: &'a str,
    pub ids: &'a [u64],
}

pub(crate) fn encode_event_desc(events: &[DescEvent<'_>], attr_size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    put_u32(&mut out, events.len() as u32);
    put_u32(&mut out, attr_size as u32);
    for e in events {
        out.extend_from_slice(e.attr_bytes);
        out.resize(out.len() + attr_size - e.attr_bytes.len(), 0);
        put_u32(&mut out, e.ids.len() as u32);
        put_string(&mut out, e.name);
        for &id in e.ids {
            put_u64(&mut out, id);
        }
    }
    out
}

/// Encodes every feature present in `f` (plus `event_desc`) as
/// (feature bit, bytes), in ascending bit order as the file wants them.
pub(crate) fn encode(
    f: &Features,
    event_desc: Vec<u8>,
    sample_time: Option<(u64, u64)>,
) -> Result<Vec<(u32, Vec<u8>)>, PerfDataError> {
    let mut out: BTreeMap<u32, Vec<u8>> = BTreeMap::new();
    if let Some(t) = &f.tracing_data {
        out.insert(feature::TRACING_DATA, t.as_bytes().to_vec());
    }
    let string = |s: &str| {
        let mut v = Vec::new();
        put_string(&mut v, s);
        v
    };
    if !f.build_ids.is_empty() {
        out.insert(feature::BUILD_ID, encode_build_ids(&f.build_ids)?);
    }
    let strings = [
        (feature::HOSTNAME, &f.hostname),
        (feature::OSRELEASE, &f.os_release),
        (feature::VERSION, &f.version),
        (feature::ARCH, &f.arch),
        (feature::CPUDESC, &f.cpu_desc),
        (feature::CPUID, &f.cpuid),
    ];
    for (bit, s) in strings {
        if let Some(s) = s {
            out.insert(bit, string(s));
        }
    }
    if let Some(n) = f.nr_cpus {
        let mut v = Vec::new();
        put_u32(&mut v, n.available);
        put_u32(&mut v, n.online);
        out.insert(feature::NRCPUS, v);
    }
    if let Some(m) = f.total_mem_kb {
        out.insert(feature::TOTAL_MEM, m.to_ne_bytes().to_vec());
    }
    if let Some(c) = &f.cmdline {
        let mut v = Vec::new();
        put_string_list(&mut v, c);
        out.insert(feature::CMDLINE, v);
    }
    out.insert(feature::EVENT_DESC, event_desc);
    if let (Some(t), Some(n)) = (&f.cpu_topology, f.nr_cpus) {
        if t.cpus.len() != n.available as usize
            || (!t.die_siblings.is_empty() && t.die_ids.len() != t.cpus.len())
        {
            return Err(PerfDataError::InvalidInput(format!(
                "CPU topology lists {} CPUs ({} die ids) but NRCPUS says {} are available",
                t.cpus.len(),
                t.die_ids.len(),
                n.available
            )));
        }
        out.insert(feature::CPU_TOPOLOGY, encode_topology(t));
    }
    if !f.pmu_mappings.is_empty() {
        let mut v = Vec::new();
        put_u32(&mut v, f.pmu_mappings.len() as u32);
        for (ty, name) in &f.pmu_mappings {
            put_u32(&mut v, *ty);
            put_string(&mut v, name);
        }
        out.insert(feature::PMU_MAPPINGS, v);
    }
    if let Some((first, last)) = f.sample_time.or(sample_time) {
        let mut v = Vec::new();
        put_u64(&mut v, first);
        put_u64(&mut v, last);
        out.insert(feature::SAMPLE_TIME, v);
    }
    if let Some(res) = f.clockid_res_ns {
        out.insert(feature::CLOCKID, res.to_ne_bytes().to_vec());
    }
    for (&bit, bytes) in &f.other {
        if bit == 0 || bit >= feature::BITMAP_BITS {
            return Err(PerfDataError::InvalidInput(format!(
                "feature bit {bit} is outside 1..256"
            )));
        }
        out.entry(bit).or_insert_with(|| bytes.clone());
    }
    Ok(out.into_iter().collect())
}

// ---------------------------------------------------------------- decoding

/// A bounds-checked reader over one feature section; errors carry the file
/// offset of the failing field.
pub(crate) struct Bytes<'a> {
    data: &'a [u8],
    pos: usize,
    base: u64,
    path: &'a Path,
    what: &'static str,
    endianness: Endianness,
}

impl<'a> Bytes<'a> {
    pub(crate) fn new(data: &'a [u8], base: u64, path: &'a Path, what: &'static str) -> Self {
        Bytes {
            data,
            pos: 0,
            base,
            path,
            what,
            endianness: Endianness::NATIVE,
        }
    }

    /// The same bytes, of a file in byte order `e`.
    pub(crate) fn with_endianness(mut self, e: Endianness) -> Self {
        self.endianness = e;
        self
    }
    fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }
    fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }
    fn take(&mut self, n: usize, field: &str) -> Result<&'a [u8], PerfDataError> {
        if n > self.remaining() {
            return Err(PerfDataError::Truncated {
                path: self.path.to_path_buf(),
                what: format!("{} feature: {field}", self.what),
                offset: self.offset(),
                needed: n as u64,
                available: self.remaining() as u64,
                hint: " in the section".into(),
            });
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn u32(&mut self, field: &str) -> Result<u32, PerfDataError> {
        let b = self.take(4, field)?;
        Ok(self.endianness.u32([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self, field: &str) -> Result<u64, PerfDataError> {
        let b = self.take(8, field)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(self.endianness.u64(a))
    }
    fn string(&mut self, field: &str) -> Result<String, PerfDataError> {
        let len = self.u32(field)? as usize;
        let b = self.take(len, field)?;
        Ok(cstr(b))
    }
    fn string_list(&mut self, field: &str) -> Result<Vec<String>, PerfDataError> {
        let n = self.u32(field)?;
        // Each string needs at least its 4-byte length: a count larger than
        // that is garbage, not a reason to allocate.
        if n as usize > self.remaining() / 4 {
            return Err(self.corrupt(format!(
                "{field}: count {n} does not fit in {} bytes",
                self.remaining()
            )));
        }
        (0..n).map(|_| self.string(field)).collect()
    }
    fn corrupt(&self, detail: String) -> PerfDataError {
        PerfDataError::Corrupt {
            path: self.path.to_path_buf(),
            what: format!("{} feature", self.what),
            offset: self.offset(),
            detail,
        }
    }
}

fn cstr(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// What EVENT_DESC says about one event.
pub(crate) struct DecodedDesc {
    pub name: String,
    pub ids: Vec<u64>,
}

pub(crate) fn decode_event_desc(mut b: Bytes<'_>) -> Result<Vec<DecodedDesc>, PerfDataError> {
    let nr = b.u32("event count")?;
    let size = b.u32("attr size")? as usize;
    if size < super::attr::ATTR_SIZE_VER0 {
        return Err(b.corrupt(format!("attr size {size} is below the minimum 64")));
    }
    let mut out = Vec::new();
    for _ in 0..nr {
        b.take(size, "attr")?;
        let nr_ids = b.u32("id count")? as usize;
        let name = b.string("event name")?;
        if nr_ids > b.remaining() / 8 {
            return Err(b.corrupt(format!(
                "{nr_ids} ids do not fit in {} bytes",
                b.remaining()
            )));
        }
        let ids = (0..nr_ids).map(|_| b.u64("id")).collect::<Result<_, _>>()?;
        out.push(DecodedDesc { name, ids });
    }
    Ok(out)
}

fn decode_build_ids(mut b: Bytes<'_>) -> Result<Vec<BuildIdEntry>, PerfDataError> {
    let mut out = Vec::new();
    while b.remaining() > 0 {
        let start = b.offset();
        let head = b.take(BUILD_ID_EVENT_SIZE, "build id event")?;
        let e = b.endianness;
        let misc = e.u16([head[4], head[5]]);
        let size = e.u16([head[6], head[7]]) as usize;
        let pid = e.u32([head[8], head[9], head[10], head[11]]) as i32;
        let id = &head[12..36];
        let len = if misc & MISC_BUILD_ID_SIZE != 0 {
            (id[20] as usize).min(BUILD_ID_MAX)
        } else {
            BUILD_ID_MAX
        };
        let Some(name_len) = size.checked_sub(BUILD_ID_EVENT_SIZE) else {
            return Err(PerfDataError::Corrupt {
                path: b.path.to_path_buf(),
                what: "build id event".into(),
                offset: start,
                detail: format!("size {size} is below the {BUILD_ID_EVENT_SIZE}-byte fixed part"),
            });
        };
        let name = b.take(name_len, "build id file name")?;
        out.push(BuildIdEntry {
            pid,
            misc: misc & !MISC_BUILD_ID_SIZE,
            build_id: id[..len].to_vec(),
            path: cstr(name),
        });
    }
    Ok(out)
}

fn decode_topology(
    mut b: Bytes<'_>,
    nr_cpus: Option<NrCpus>,
) -> Result<CpuTopology, PerfDataError> {
    let mut t = CpuTopology {
        core_siblings: b.string_list("core siblings")?,
        thread_siblings: b.string_list("thread siblings")?,
        ..Default::default()
    };
    // Older perf stops here; the per-CPU ids need the CPU count from NRCPUS.
    let Some(n) = nr_cpus else { return Ok(t) };
    if b.remaining() == 0 {
        return Ok(t);
    }
    for _ in 0..n.available {
        t.cpus.push((b.u32("core id")?, b.u32("socket id")?));
    }
    if b.remaining() == 0 {
        return Ok(t);
    }
    t.die_siblings = b.string_list("die siblings")?;
    for _ in 0..n.available {
        t.die_ids.push(b.u32("die id")?);
    }
    Ok(t)
}

/// Decodes one feature section into `f`. EVENT_DESC is handled by the caller.
pub(crate) fn decode_into(
    f: &mut Features,
    bit: u32,
    mut b: Bytes<'_>,
) -> Result<(), PerfDataError> {
    match bit {
        feature::TRACING_DATA => match TracingData::parse(b.data.to_vec()) {
            Ok(t) => f.tracing_data = Some(t),
            Err(e) => {
                // Kept as bytes, so a rewrite of the file loses nothing.
                f.other.insert(bit, b.data.to_vec());
                b.pos = e.offset().unwrap_or(0);
                return Err(b.corrupt(e.detail()));
            }
        },
        feature::BUILD_ID => f.build_ids = decode_build_ids(b)?,
        feature::HOSTNAME => f.hostname = Some(b.string("hostname")?),
        feature::OSRELEASE => f.os_release = Some(b.string("os release")?),
        feature::VERSION => f.version = Some(b.string("version")?),
        feature::ARCH => f.arch = Some(b.string("arch")?),
        feature::CPUDESC => f.cpu_desc = Some(b.string("cpu description")?),
        feature::CPUID => f.cpuid = Some(b.string("cpuid")?),
        feature::NRCPUS => {
            f.nr_cpus = Some(NrCpus {
                available: b.u32("cpus available")?,
                online: b.u32("cpus online")?,
            })
        }
        feature::TOTAL_MEM => f.total_mem_kb = Some(b.u64("total memory")?),
        feature::CMDLINE => f.cmdline = Some(b.string_list("command line")?),
        feature::CPU_TOPOLOGY => f.cpu_topology = Some(decode_topology(b, f.nr_cpus)?),
        feature::PMU_MAPPINGS => {
            let n = b.u32("pmu count")?;
            let mut v = Vec::new();
            for _ in 0..n {
                v.push((b.u32("pmu type")?, b.string("pmu name")?));
            }
            f.pmu_mappings = v;
        }
        feature::SAMPLE_TIME => {
            f.sample_time = Some((b.u64("first sample time")?, b.u64("last sample time")?))
        }
        feature::CLOCKID => f.clockid_res_ns = Some(b.u64("clock resolution")?),
        _ => {
            f.other.insert(bit, b.data.to_vec());
        }
    }
    Ok(())
}

/// Display name of a feature bit, for error messages.
pub fn name(bit: u32) -> &'static str {
    match bit {
        feature::TRACING_DATA => "TRACING_DATA",
        feature::BUILD_ID => "BUILD_ID",
        feature::HOSTNAME => "HOSTNAME",
        feature::OSRELEASE => "OSRELEASE",
        feature::VERSION => "VERSION",
        feature::ARCH => "ARCH",
        feature::NRCPUS => "NRCPUS",
        feature::CPUDESC => "CPUDESC",
        feature::CPUID => "CPUID",
        feature::TOTAL_MEM => "TOTAL_MEM",
        feature::CMDLINE => "CMDLINE",
        feature::EVENT_DESC => "EVENT_DESC",
        feature::CPU_TOPOLOGY => "CPU_TOPOLOGY",
        feature::NUMA_TOPOLOGY => "NUMA_TOPOLOGY",
        feature::PMU_MAPPINGS => "PMU_MAPPINGS",
        feature::GROUP_DESC => "GROUP_DESC",
        feature::CACHE => "CACHE",
        feature::SAMPLE_TIME => "SAMPLE_TIME",
        feature::MEM_TOPOLOGY => "MEM_TOPOLOGY",
        feature::CLOCKID => "CLOCKID",
        feature::CLOCK_DATA => "CLOCK_DATA",
        _ => "feature",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Features {
        Features {
            hostname: Some("box".into()),
            os_release: Some("6.18.0".into()),
            version: Some("lwprof 0.1.0".into()),
            arch: Some("x86_64".into()),
            nr_cpus: Some(NrCpus {
                available: 2,
                online: 2,
            }),
            cpu_desc: Some("Some CPU".into()),
            cpuid: Some("GenuineIntel,6,85,7".into()),
            total_mem_kb: Some(123456),
            cmdline: Some(vec![
                "/usr/bin/lwprof".into(),
                "record".into(),
                "--".into(),
                "ls -l".into(),
            ]),
            build_ids: vec![
                BuildIdEntry {
                    pid: -1,
                    misc: 1,
                    build_id: vec![0xab; 20],
                    path: "[kernel.kallsyms]".into(),
                },
                BuildIdEntry {
                    pid: -1,
                    misc: 2,
                    build_id: vec![1, 2, 3, 4, 5, 6, 7, 8],
                    path: "/usr/bin/x".into(),
                },
            ],
            cpu_topology: Some(CpuTopology {
                core_siblings: vec!["0-1".into()],
                thread_siblings: vec!["0".into(), "1".into()],
                cpus: vec![(0, 0), (1, 0)],
                die_siblings: vec!["0-1".into()],
                die_ids: vec![0, 0],
            }),
            pmu_mappings: vec![(1, "software".into()), (2, "tracepoint".into())],
            sample_time: Some((10, 20)),
            clockid_res_ns: Some(1),
            tracing_data: Some(
                TracingData::parse(
                    crate::tracing::build(
                        &crate::tracing::tests::crafted_files(),
                        crate::tracing::TracingHost::native(4096),
                    )
                    .unwrap(),
                )
                .unwrap(),
            ),
            other: BTreeMap::from([(20, vec![1, 2, 3, 4])]),
        }
    }

    #[test]
    fn every_feature_round_trips() {
        let f = sample();
        let sections = encode(&f, Vec::new(), None).unwrap();
        let bits: Vec<u32> = sections.iter().map(|s| s.0).collect();
        let mut sorted = bits.clone();
        sorted.sort();
        assert_eq!(bits, sorted, "sections must be in bit order");
        let mut back = Features::default();
        for (bit, bytes) in &sections {
            if *bit != feature::EVENT_DESC {
                decode_into(
                    &mut back,
                    *bit,
                    Bytes::new(bytes, 0, Path::new("t"), name(*bit)),
                )
                .unwrap();
            }
        }
        assert_eq!(back, f);
    }

    #[test]
    fn damaged_tracing_data_is_an_error_at_its_file_offset_and_kept_as_bytes() {
        let good = sample().tracing_data.unwrap();
        let mut bad = good.as_bytes().to_vec();
        bad[16..20].copy_from_slice(&[0; 4]); // page size 0
        let mut f = Features::default();
        let err = decode_into(
            &mut f,
            feature::TRACING_DATA,
            Bytes::new(&bad, 0x2000, Path::new("p"), "TRACING_DATA"),
        )
        .unwrap_err();
        assert_eq!(err.offset(), Some(0x2000 + 20), "{err}");
        assert!(err.to_string().contains("page size"), "{err}");
        assert!(f.tracing_data.is_none());
        assert_eq!(f.other.get(&feature::TRACING_DATA), Some(&bad));
    }

    #[test]
    fn strings_are_padded_to_64_and_nul_terminated() {
        let mut v = Vec::new();
        put_string(&mut v, &"x".repeat(63));
        assert_eq!(v.len(), 4 + 64);
        assert_eq!(u32::from_ne_bytes(v[..4].try_into().unwrap()), 64);
        let mut v = Vec::new();
        put_string(&mut v, &"x".repeat(64));
        assert_eq!(v.len(), 4 + 128);
        assert_eq!(v[4 + 64], 0);
    }

    #[test]
    fn truncated_sections_name_the_offset() {
        let mut v = Vec::new();
        put_string_list(&mut v, &["a".into(), "b".into()]);
        v.truncate(v.len() - 10);
        let mut f = Features::default();
        let err = decode_into(
            &mut f,
            feature::CMDLINE,
            Bytes::new(&v, 0x1000, Path::new("p"), "CMDLINE"),
        )
        .unwrap_err();
        assert_eq!(err.offset(), Some(0x1000 + 4 + 68 + 4));
        assert!(err.to_string().contains("CMDLINE"), "{err}");
        // a count that cannot fit is corrupt, not an allocation
        let bad = u32::MAX.to_ne_bytes();
        let err = decode_into(
            &mut f,
            feature::CMDLINE,
            Bytes::new(&bad, 0, Path::new("p"), "CMDLINE"),
        )
        .unwrap_err();
        assert!(matches!(err, PerfDataError::Corrupt { .. }), "{err}");
    }
}
