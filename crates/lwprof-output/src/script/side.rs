//! The text `perf script --show-mmap-events --show-switch-events` prints
//! after the header of a MMAP/MMAP2 or SWITCH record.

use lwprof_profile::convert::{Mmap2FileId, SideRecord};
use std::fmt::Write;

const PROT_READ: u32 = 1;
const PROT_WRITE: u32 = 2;
const PROT_EXEC: u32 = 4;
const MAP_SHARED: u32 = 1;

/// C's `%#lx`: `0` for zero, else `0x...`.
fn alt_hex(v: u64) -> String {
    if v == 0 {
        "0".into()
    } else {
        format!("{v:#x}")
    }
}

/// Whether `r` is a mapping record.
pub fn is_mmap(r: &SideRecord) -> bool {
    matches!(r, SideRecord::Mmap { .. })
}

/// The record's text, as perf prints it after the header.
pub fn side_text(r: &SideRecord) -> String {
    let mut out = String::new();
    match r {
        SideRecord::Mmap {
            pid,
            tid,
            start,
            len,
            pgoff,
            exec,
            filename,
            mmap2,
        } => {
            let name = String::from_utf8_lossy(filename);
            let (pid, tid) = (*pid as i32, *tid as i32);
            match mmap2 {
                None => {
                    let _ = write!(
                        out,
                        "PERF_RECORD_MMAP {pid}/{tid}: [{}({}) @ {}]: {} {name}",
                        alt_hex(*start),
                        alt_hex(*len),
                        alt_hex(*pgoff),
                        if *exec { 'x' } else { 'r' }
                    );
                }
                Some((id, prot, flags)) => {
                    let file = match id {
                        Mmap2FileId::Inode {
                            maj,
                            min,
                            ino,
                            ino_generation,
                        } => format!("{maj:02x}:{min:02x} {ino} {ino_generation}"),
                        Mmap2FileId::BuildId { len, bytes } => {
                            let n = usize::from(*len).min(bytes.len());
                            bytes[..n].iter().map(|b| format!("{b:02x}")).collect()
                        }
                    };
                    let flag = |bit: u32, c: char| if prot & bit != 0 { c } else { '-' };
                    let _ = write!(
                        out,
                        "PERF_RECORD_MMAP2 {pid}/{tid}: [{}({}) @ {} {file}]: {}{}{}{} {name}",
                        alt_hex(*start),
                        alt_hex(*len),
                        alt_hex(*pgoff),
                        flag(PROT_READ, 'r'),
                        flag(PROT_WRITE, 'w'),
                        flag(PROT_EXEC, 'x'),
                        if flags & MAP_SHARED != 0 { 's' } else { 'p' },
                    );
                }
            }
        }
        SideRecord::Switch {
            out: is_out,
            preempt,
            other,
        } => {
            let kind = if other.is_some() {
                "PERF_RECORD_SWITCH_CPU_WIDE"
            } else {
                "PERF_RECORD_SWITCH"
            };
            let dir = if *is_out { "OUT" } else { "IN " };
            let pre = if *is_out && *preempt {
                " preempt"
            } else {
                "        "
            };
            let _ = write!(out, "{kind} {dir}{pre}");
            if let Some((pid, tid)) = other {
                let which = if *is_out { "next" } else { "prev" };
                let _ = write!(
                    out,
                    "  {which} pid/tid: {:>5}/{:<5}",
                    *pid as i32, *tid as i32
                );
            }
        }
    }
    out
}
