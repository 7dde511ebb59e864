//! Synthesized records: COMM and MMAP2 records for processes that existed
//! before a recording started (`-p`, `-a`), and the kernel's own MMAP, built
//! from `/proc` the way perf synthesizes them, so that a perf.data file is
//! complete for any reader (lwprof's converter and `perf report` alike).
//!
//! Encoders are pure functions over plain values; only
//! [`synthesize_process`] and [`kernel_mmap`] read `/proc`.

use lwprof_events::record::{sample_type, RecordParseInfo};
use std::fs;

const RECORD_MMAP: u32 = lwprof_records::abi::record_type::MMAP;
const RECORD_COMM: u32 = lwprof_records::abi::record_type::COMM;
const RECORD_MMAP2: u32 = lwprof_records::abi::record_type::MMAP2;
const MISC_KERNEL: u16 = lwprof_records::abi::misc::KERNEL;
const MISC_USER: u16 = lwprof_records::abi::misc::USER;
const MISC_COMM_EXEC: u16 = lwprof_records::abi::misc::COMM_EXEC;
const MISC_MMAP_DATA: u16 = lwprof_records::abi::misc::MMAP_DATA;

/// The sample id trailer of non-sample records (`sample_id_all`), for an
/// event with `info`'s sample type: TID, TIME, ID, STREAM_ID, CPU,
/// IDENTIFIER, in the kernel's order.
pub fn sample_id_trailer(
    info: &RecordParseInfo,
    pid: u32,
    tid: u32,
    time: u64,
    id: u64,
) -> Vec<u8> {
    let mut out = Vec::new();
    if !info.sample_id_all {
        return out;
    }
    let st = info.sample_type;
    if st & sample_type::TID != 0 {
        out.extend_from_slice(&pid.to_ne_bytes());
        out.extend_from_slice(&tid.to_ne_bytes());
    }
    if st & sample_type::TIME != 0 {
        out.extend_from_slice(&time.to_ne_bytes());
    }
    if st & sample_type::ID != 0 {
        out.extend_from_slice(&id.to_ne_bytes());
    }
    if st & sample_type::STREAM_ID != 0 {
        out.extend_from_slice(&id.to_ne_bytes());
    }
    if st & sample_type::CPU != 0 {
        out.extend_from_slice(&0u64.to_ne_bytes());
    }
    if st & sample_type::IDENTIFIER != 0 {
        out.extend_from_slice(&id.to_ne_bytes());
    }
    out
}

fn pad8(v: &mut Vec<u8>) {
    while !v.len().is_multiple_of(8) {
        v.push(0);
    }
}

fn finish(kind: u32, misc: u16, mut body: Vec<u8>, trailer: &[u8]) -> Vec<u8> {
    body.extend_from_slice(trailer);
    let size = (8 + body.len()) as u16;
    let mut out = Vec::with_capacity(size as usize);
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(&misc.to_ne_bytes());
    out.extend_from_slice(&size.to_ne_bytes());
    out.extend_from_slice(&body);
    out
}

fn c_string(v: &mut Vec<u8>, s: &[u8]) {
    v.extend_from_slice(s);
    v.push(0);
    pad8(v);
}

/// A COMM record.
pub fn encode_comm(pid: u32, tid: u32, comm: &[u8], exec: bool, trailer: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&pid.to_ne_bytes());
    body.extend_from_slice(&tid.to_ne_bytes());
    c_string(&mut body, comm);
    finish(
        RECORD_COMM,
        if exec { MISC_COMM_EXEC } else { 0 },
        body,
        trailer,
    )
}

/// One executable mapping for an MMAP2 record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapEntry {
    /// Start address.
    pub start: u64,
    /// Length in bytes.
    pub len: u64,
    /// File offset.
    pub pgoff: u64,
    /// Device major.
    pub maj: u32,
    /// Device minor.
    pub min: u32,
    /// Inode.
    pub ino: u64,
    /// `PROT_*` bits.
    pub prot: u32,
    /// `MAP_*` bits.
    pub flags: u32,
    /// The path (or `[vdso]`, `//anon`...).
    pub path: String,
}

/// An MMAP2 record (inode form) for a user mapping.
pub fn encode_mmap2(pid: u32, tid: u32, m: &MapEntry, trailer: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&pid.to_ne_bytes());
    body.extend_from_slice(&tid.to_ne_bytes());
    for v in [m.start, m.len, m.pgoff] {
        body.extend_from_slice(&v.to_ne_bytes());
    }
    body.extend_from_slice(&m.maj.to_ne_bytes());
    body.extend_from_slice(&m.min.to_ne_bytes());
    body.extend_from_slice(&m.ino.to_ne_bytes());
    body.extend_from_slice(&0u64.to_ne_bytes()); // ino_generation
    body.extend_from_slice(&m.prot.to_ne_bytes());
    body.extend_from_slice(&m.flags.to_ne_bytes());
    c_string(&mut body, m.path.as_bytes());
    finish(RECORD_MMAP2, MISC_USER, body, trailer)
}

/// The kernel's MMAP record (`[kernel.kallsyms]_text`, pid -1), as perf
/// writes it, so readers can place kernel addresses.
pub fn encode_kernel_mmap(start: u64, end: u64, trailer: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&u32::MAX.to_ne_bytes());
    body.extend_from_slice(&0u32.to_ne_bytes());
    body.extend_from_slice(&start.to_ne_bytes());
    body.extend_from_slice(&(end - start).to_ne_bytes());
    body.extend_from_slice(&start.to_ne_bytes());
    c_string(&mut body, b"[kernel.kallsyms]_text");
    finish(RECORD_MMAP, MISC_KERNEL, body, trailer)
}

/// Parses `/proc/PID/maps` text into its executable mappings.
pub fn parse_maps(text: &str) -> Vec<MapEntry> {
    parse_maps_with(text, false)
}

/// Parses `/proc/PID/maps` text into its executable mappings and, with
/// `data`, its other file-backed mappings too (a DWARF unwinder reads
/// `.eh_frame_hdr` from a read-only segment); non-executable ones have no
/// `PROT_EXEC`.
pub fn parse_maps_with(text: &str, data: bool) -> Vec<MapEntry> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut f = line.split_whitespace();
        let (Some(range), Some(perms), Some(off), Some(dev), Some(ino)) =
            (f.next(), f.next(), f.next(), f.next(), f.next())
        else {
            continue;
        };
        let path = f.collect::<Vec<_>>().join(" ");
        let exec = perms.contains('x');
        if !(exec || data && path.starts_with('/')) {
            continue;
        }
        let Some((a, b)) = range.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end)) = (u64::from_str_radix(a, 16), u64::from_str_radix(b, 16)) else {
            continue;
        };
        let (maj, min) = dev
            .split_once(':')
            .map(|(a, b)| {
                (
                    u32::from_str_radix(a, 16).unwrap_or(0),
                    u32::from_str_radix(b, 16).unwrap_or(0),
                )
            })
            .unwrap_or((0, 0));
        let bytes = perms.as_bytes();
        let prot = ((bytes.first() == Some(&b'r')) as u32 * libc_prot::READ)
            | ((bytes.get(1) == Some(&b'w')) as u32 * libc_prot::WRITE)
            | (exec as u32 * libc_prot::EXEC);
        let flags = if bytes.get(3) == Some(&b's') {
            libc_prot::MAP_SHARED
        } else {
            libc_prot::MAP_PRIVATE
        };
        out.push(MapEntry {
            start,
            len: end.saturating_sub(start),
            pgoff: u64::from_str_radix(off, 16).unwrap_or(0),
            maj,
            min,
            ino: ino.parse().unwrap_or(0),
            prot,
            flags,
            path: if path.is_empty() {
                "//anon".into()
            } else {
                path
            },
        });
    }
    out
}

/// `PROT_*` and `MAP_*` values (Linux, every architecture lwprof runs on).
mod libc_prot {
    pub const READ: u32 = 1;
    pub const WRITE: u32 = 2;
    pub const EXEC: u32 = 4;
    pub const MAP_SHARED: u32 = 1;
    pub const MAP_PRIVATE: u32 = 2;
}

/// COMM records for every thread of `pid` and MMAP2 records for its
/// executable mappings, with trailers for `info` and event `id`. A process
/// that vanished yields nothing.
pub fn synthesize_process(pid: u32, info: &RecordParseInfo, id: u64) -> Vec<Vec<u8>> {
    synthesize_process_with(pid, info, id, false)
}

/// [`synthesize_process`], with the non-executable file mappings too (as
/// data MMAP2 records) when `data`: what `--call-graph dwarf` needs.
pub fn synthesize_process_with(
    pid: u32,
    info: &RecordParseInfo,
    id: u64,
    data: bool,
) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    let mut tids: Vec<u32> = tasks
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    tids.sort_unstable();
    for &tid in &tids {
        let comm = fs::read_to_string(format!("/proc/{pid}/task/{tid}/comm")).unwrap_or_default();
        let trailer = sample_id_trailer(info, pid, tid, 0, id);
        out.push(encode_comm(
            pid,
            tid,
            comm.trim_end().as_bytes(),
            false,
            &trailer,
        ));
    }
    if let Ok(maps) = fs::read_to_string(format!("/proc/{pid}/maps")) {
        let trailer = sample_id_trailer(info, pid, pid, 0, id);
        for m in parse_maps_with(&maps, data) {
            let mut rec = encode_mmap2(pid, pid, &m, &trailer);
            if m.prot & libc_prot::EXEC == 0 {
                let misc = u16::from_ne_bytes([rec[4], rec[5]]) | MISC_MMAP_DATA;
                rec[4..6].copy_from_slice(&misc.to_ne_bytes());
            }
            out.push(rec);
        }
    }
    out
}

/// Every process id in `/proc`.
pub fn all_pids() -> Vec<u32> {
    let mut pids: Vec<u32> = fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    pids.sort_unstable();
    pids
}

/// The kernel text range from kallsyms text (`_stext`/`_text` to `_etext`),
/// or `None` when addresses are hidden.
pub fn kernel_text_range(kallsyms: &str) -> Option<(u64, u64)> {
    let mut start = None;
    let mut end = None;
    for line in kallsyms.lines() {
        let mut f = line.split_whitespace();
        let (Some(addr), Some(_), Some(name)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        let a = u64::from_str_radix(addr, 16).ok()?;
        match name {
            "_text" | "_stext" if start.is_none() && a != 0 => start = Some(a),
            "_etext" => end = Some(a),
            _ => {}
        }
        if start.is_some() && end.is_some() {
            break;
        }
    }
    match (start, end) {
        (Some(s), Some(e)) if e > s => Some((s, e)),
        _ => None,
    }
}

/// Where x86-64 puts kernel modules (`MODULES_VADDR`): the kernel's text
/// always ends below it.
const X86_64_MODULES_VADDR: u64 = 0xffff_ffff_c000_0000;

/// The kernel MMAP record for this machine, when `/proc/kallsyms` shows
/// addresses.
///
/// Reading all of `/proc/kallsyms` costs tens of milliseconds (the kernel
/// formats 120,000 lines), which would be most of a short recording's
/// start-up. `_text` is among the first lines, so on x86-64 we stop there
/// and end the mapping where module space begins; elsewhere we read on to
/// `_etext`.
pub fn kernel_mmap(info: &RecordParseInfo, id: u64) -> Option<Vec<u8>> {
    use std::io::{BufRead, BufReader, Read};
    let file = fs::File::open("/proc/kallsyms").ok()?;
    let mut text = String::new();
    let mut reader = BufReader::with_capacity(16 * 1024, file);
    let mut line = String::new();
    let mut start = None;
    while reader.read_line(&mut line).ok()? > 0 {
        text.push_str(&line);
        if line.ends_with(" _text\n") || line.ends_with(" _stext\n") {
            start = u64::from_str_radix(line.split_whitespace().next()?, 16)
                .ok()
                .filter(|&a| a != 0);
            if start.is_some() {
                break;
            }
        }
        line.clear();
    }
    let start = start?;
    let (start, end) = if cfg!(target_arch = "x86_64") && start < X86_64_MODULES_VADDR {
        (start, X86_64_MODULES_VADDR)
    } else {
        reader.read_to_string(&mut text).ok()?;
        kernel_text_range(&text)?
    };
    let trailer = sample_id_trailer(info, u32::MAX, u32::MAX, 0, id);
    Some(encode_kernel_mmap(start, end, &trailer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lwprof_events::raw::RawData;
    use lwprof_events::record::{parse_record, Record};

    fn info() -> RecordParseInfo {
        RecordParseInfo::new(
            sample_type::IP | sample_type::TID | sample_type::TIME | sample_type::IDENTIFIER,
        )
        .with_sample_id_all(true)
    }

    #[test]
    fn synthesized_records_parse_back() {
        let i = info();
        let t = sample_id_trailer(&i, 7, 8, 0, 42);
        let comm = encode_comm(7, 8, b"worker", false, &t);
        match parse_record(RawData::Single(&comm), &i).unwrap() {
            Record::Comm(c) => {
                assert_eq!((c.pid, c.tid), (7, 8));
                assert_eq!(c.comm.as_contiguous().as_ref(), b"worker");
                assert_eq!(c.sample_id.id, Some(42));
            }
            r => panic!("{r:?}"),
        }
        let m = MapEntry {
            start: 0x1000,
            len: 0x2000,
            pgoff: 0x3000,
            maj: 8,
            min: 1,
            ino: 99,
            prot: 5,
            flags: 2,
            path: "/usr/lib/libc.so.6".into(),
        };
        let rec = encode_mmap2(7, 7, &m, &t);
        match parse_record(RawData::Single(&rec), &i).unwrap() {
            Record::Mmap2(r) => {
                assert_eq!((r.addr, r.len, r.pgoff), (0x1000, 0x2000, 0x3000));
                assert_eq!(r.filename.as_contiguous().as_ref(), b"/usr/lib/libc.so.6");
            }
            r => panic!("{r:?}"),
        }
        let k = encode_kernel_mmap(0xffff_0000, 0xffff_8000, &t);
        match parse_record(RawData::Single(&k), &i).unwrap() {
            Record::Mmap(r) => {
                assert_eq!(r.pid, u32::MAX);
                assert_eq!(
                    r.filename.as_contiguous().as_ref(),
                    b"[kernel.kallsyms]_text"
                );
            }
            r => panic!("{r:?}"),
        }
    }

    #[test]
    fn maps_keep_only_executable_mappings() {
        let text = "\
55d0c0a00000-55d0c0a28000 r--p 00000000 08:01 1234 /usr/bin/cat
55d0c0a28000-55d0c0a6e000 r-xp 00028000 08:01 1234 /usr/bin/cat
7ffd5e5f0000-7ffd5e5f2000 r-xp 00000000 00:00 0 [vdso]
7f0000000000-7f0000001000 rwxp 00000000 00:00 0
";
        let maps = parse_maps(text);
        assert_eq!(maps.len(), 3);
        assert_eq!(maps[0].path, "/usr/bin/cat");
        assert_eq!(maps[0].pgoff, 0x28000);
        assert_eq!((maps[0].maj, maps[0].min, maps[0].ino), (8, 1, 1234));
        assert_eq!(maps[1].path, "[vdso]");
        assert_eq!(maps[2].path, "//anon");
    }

    #[test]
    fn kernel_range_comes_from_kallsyms() {
        let text = "0000000000000000 A fixed_percpu_data\nffffffff81000000 T _text\nffffffff81000000 T _stext\nffffffff82000000 T _etext\n";
        assert_eq!(
            kernel_text_range(text),
            Some((0xffffffff81000000, 0xffffffff82000000))
        );
        assert_eq!(kernel_text_range("0000000000000000 T _text\n"), None);
    }

    #[test]
    fn this_process_synthesizes_comm_and_its_own_binary() {
        let recs = synthesize_process(std::process::id(), &info(), 1);
        let exe = std::env::current_exe().unwrap();
        let i = info();
        let mut saw_exe = false;
        let mut comms = 0;
        for r in &recs {
            match parse_record(RawData::Single(r), &i).unwrap() {
                Record::Comm(_) => comms += 1,
                Record::Mmap2(m) => {
                    saw_exe |=
                        m.filename.as_contiguous().as_ref() == exe.as_os_str().as_encoded_bytes()
                }
                _ => {}
            }
        }
        assert!(comms >= 1);
        assert!(saw_exe, "no mapping of {}", exe.display());
    }
}
