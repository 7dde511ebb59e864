//! What a recording needs to remember about the records it streams: which
//! files were mapped (for the BUILD_ID table), which of them had samples
//! (to copy into the build-id cache, as perf caches the DSOs with hits), and,
//! when a later file must stand on its own (`--switch-output`, flight
//! recorder dumps), the COMM and MMAP records of every live process, to
//! write again at the start of the next file.
//!
//! It reads the records it is shown; it writes nothing and reads no files.

use lwprof_events::raw::RawData;
use lwprof_events::record::{CpuMode, Endianness, RawRecord, Record, RecordParseInfo};
use std::collections::HashMap;

/// pid of kernel mappings.
const KERNEL_PID: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct Map {
    start: u64,
    end: u64,
    path: u32,
}

#[derive(Debug, Clone, Default)]
struct ProcessTrack {
    /// COMM and MMAP records, in arrival order (only when records are kept).
    records: Vec<Vec<u8>>,
    /// Executable mappings, sorted by start, non-overlapping.
    maps: Vec<Map>,
    exited: bool,
}

/// The memory of a recording (see the module docs).
#[derive(Debug)]
pub(crate) struct Tracker {
    info: RecordParseInfo,
    keep_records: bool,
    processes: HashMap<u32, ProcessTrack>,
    paths: Vec<Vec<u8>>,
    path_index: HashMap<Vec<u8>, u32>,
    hits: Vec<bool>,
}

impl Tracker {
    /// A tracker for records laid out as `info` says; `keep_records` also
    /// keeps each live process's COMM and MMAP records for
    /// [`Tracker::replay`].
    pub(crate) fn new(info: RecordParseInfo, keep_records: bool) -> Self {
        Self {
            info,
            keep_records,
            processes: HashMap::new(),
            paths: Vec::new(),
            path_index: HashMap::new(),
            hits: Vec::new(),
        }
    }

    /// Looks at one record (header included).
    pub(crate) fn record(&mut self, data: RawData<'_>) {
        let Ok(raw) = RawRecord::from_data(data, Endianness::NATIVE) else {
            return;
        };
        let Ok(record) = raw.parse(&self.info) else {
            return;
        };
        match record {
            Record::Sample(s) if s.cpumode() == CpuMode::User => {
                if let (Some(pid), Some(ip)) = (s.pid(), s.ip()) {
                    self.hit(pid, ip);
                }
            }
            Record::Mmap(m) if !m.is_data => {
                let path = m.filename.as_contiguous();
                self.mmap(m.pid, m.addr, m.len, &path, data);
            }
            Record::Mmap2(m) if !m.is_data => {
                let path = m.filename.as_contiguous();
                self.mmap(m.pid, m.addr, m.len, &path, data);
            }
            // Data mappings (with --call-graph dwarf) are only replayed.
            Record::Mmap(m) => self.keep(m.pid, data),
            Record::Mmap2(m) => self.keep(m.pid, data),
            Record::Comm(c) => {
                let keep = self.keep_records;
                let p = self.processes.entry(c.pid).or_default();
                if c.is_exec {
                    p.maps.clear();
                    p.records.clear();
                }
                if keep {
                    p.records.push(data.as_contiguous().into_owned());
                }
            }
            Record::Fork(f) if f.pid != f.ppid => {
                let parent = self.processes.get(&f.ppid).cloned().unwrap_or_default();
                self.processes.insert(
                    f.pid,
                    ProcessTrack {
                        exited: false,
                        ..parent
                    },
                );
            }
            Record::Exit(f) if f.pid == f.tid => {
                if let Some(p) = self.processes.get_mut(&f.pid) {
                    p.exited = true;
                }
            }
            _ => {}
        }
    }

    fn keep(&mut self, pid: u32, data: RawData<'_>) {
        if self.keep_records {
            let p = self.processes.entry(pid).or_default();
            p.records.push(data.as_contiguous().into_owned());
        }
    }

    fn path_id(&mut self, path: &[u8]) -> u32 {
        if let Some(&i) = self.path_index.get(path) {
            return i;
        }
        let i = self.paths.len() as u32;
        self.paths.push(path.to_vec());
        self.path_index.insert(path.to_vec(), i);
        self.hits.push(false);
        i
    }

    fn mmap(&mut self, pid: u32, start: u64, len: u64, path: &[u8], data: RawData<'_>) {
        let path = self.path_id(path);
        let keep = self.keep_records;
        let p = self.processes.entry(pid).or_default();
        if keep {
            p.records.push(data.as_contiguous().into_owned());
        }
        if pid == KERNEL_PID {
            return;
        }
        let end = start.saturating_add(len);
        p.maps.retain(|m| m.end <= start || m.start >= end);
        let at = p.maps.partition_point(|m| m.start < start);
        p.maps.insert(at, Map { start, end, path });
    }

    fn hit(&mut self, pid: u32, ip: u64) {
        let Some(p) = self.processes.get(&pid) else {
            return;
        };
        let i = p.maps.partition_point(|m| m.start <= ip);
        if let Some(m) = i.checked_sub(1).map(|i| p.maps[i]) {
            if ip < m.end {
                self.hits[m.path as usize] = true;
            }
        }
    }

    /// Every mapped path, with whether a sample's ip was in it.
    pub(crate) fn paths(&self) -> impl Iterator<Item = (&[u8], bool)> {
        self.paths
            .iter()
            .zip(&self.hits)
            .map(|(p, &h)| (p.as_slice(), h))
    }

    /// The kept COMM and MMAP records: the kernel's first, then each
    /// process's (oldest process first), in arrival order.
    pub(crate) fn replay(&self, mut f: impl FnMut(&[u8])) {
        let mut pids: Vec<u32> = self.processes.keys().copied().collect();
        pids.sort_unstable_by_key(|&p| (p != KERNEL_PID, p));
        for pid in pids {
            for r in &self.processes[&pid].records {
                f(r);
            }
        }
    }

    /// Forgets processes that have exited (after their records were
    /// written into a file that has their samples).
    pub(crate) fn forget_exited(&mut self) {
        self.processes.retain(|_, p| !p.exited);
    }
}

/// `PERF_RECORD_MISC_USER`, for BUILD_ID entries.
pub(crate) const MISC_USER: u16 = lwprof_records::abi::misc::USER;
/// `PERF_RECORD_MISC_KERNEL`, for the kernel's BUILD_ID entry.
pub(crate) const MISC_KERNEL: u16 = lwprof_records::abi::misc::KERNEL;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{encode_comm, encode_mmap2, MapEntry};
    use lwprof_events::record::sample_type;

    fn info() -> RecordParseInfo {
        RecordParseInfo::new(sample_type::IP | sample_type::TID)
    }

    fn sample(pid: u32, ip: u64) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&lwprof_records::abi::record_type::SAMPLE.to_ne_bytes());
        v.extend_from_slice(&(lwprof_records::abi::misc::USER).to_ne_bytes());
        v.extend_from_slice(&24u16.to_ne_bytes());
        v.extend_from_slice(&ip.to_ne_bytes());
        v.extend_from_slice(&pid.to_ne_bytes());
        v.extend_from_slice(&pid.to_ne_bytes());
        v
    }

    fn map(start: u64, path: &str) -> MapEntry {
        MapEntry {
            start,
            len: 0x1000,
            pgoff: 0,
            maj: 0,
            min: 0,
            ino: 0,
            prot: 5,
            flags: 2,
            path: path.into(),
        }
    }

    #[test]
    fn hits_mark_the_dso_of_the_sampled_ip_only() {
        let mut t = Tracker::new(info(), true);
        t.record(RawData::Single(&encode_comm(7, 7, b"prog", true, &[])));
        t.record(RawData::Single(&encode_mmap2(
            7,
            7,
            &map(0x1000, "/bin/prog"),
            &[],
        )));
        t.record(RawData::Single(&encode_mmap2(
            7,
            7,
            &map(0x8000, "/lib/libc.so"),
            &[],
        )));
        t.record(RawData::Single(&sample(7, 0x1010)));
        t.record(RawData::Single(&sample(8, 0x8010)));
        let hits: Vec<(String, bool)> = t
            .paths()
            .map(|(p, h)| (String::from_utf8_lossy(p).into_owned(), h))
            .collect();
        assert_eq!(
            hits,
            [
                ("/bin/prog".to_string(), true),
                ("/lib/libc.so".to_string(), false)
            ]
        );
        let mut n = 0;
        t.replay(|_| n += 1);
        assert_eq!(n, 3, "one COMM and two MMAP2 records kept");
    }
}
