//! Writing jitdump files (`jit-PID.dump`), as a JIT's profiling agent does:
//! the inverse of [`crate::jitdump`]'s parser, for JITs that monitor
//! themselves, for tests and for benchmarks.
//!
//! It writes the records lwprof reads (code load, move, debug info) and
//! nothing else; it does not write the file to disk or mmap it.

use crate::jitdump::{HEADER_SIZE, JIT_CODE_DEBUG_INFO, JIT_CODE_LOAD, JIT_CODE_MOVE, MAGIC};

/// Builds a jitdump file in memory, in either byte order.
pub struct JitDumpWriter {
    pub(crate) buf: Vec<u8>,
    big: bool,
}

impl JitDumpWriter {
    /// A file of process `pid` (x86-64, timestamp 1000), big-endian when
    /// `big` is set.
    pub fn new(pid: u32, big: bool) -> Self {
        let mut w = JitDumpWriter {
            buf: Vec::new(),
            big,
        };
        w.u32(MAGIC);
        w.u32(1);
        w.u32(HEADER_SIZE as u32);
        w.u32(62);
        w.u32(0);
        w.u32(pid);
        w.u64(1000);
        w.u64(0);
        w
    }
    pub(crate) fn u32(&mut self, v: u32) {
        let b = if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.buf.extend_from_slice(&b);
    }
    pub(crate) fn u64(&mut self, v: u64) {
        let b = if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.buf.extend_from_slice(&b);
    }
    pub(crate) fn record(&mut self, id: u32, body: impl FnOnce(&mut JitDumpWriter)) {
        let start = self.buf.len();
        self.u32(id);
        self.u32(0);
        self.u64(2000);
        body(self);
        let size = (self.buf.len() - start) as u32;
        let b = if self.big {
            size.to_be_bytes()
        } else {
            size.to_le_bytes()
        };
        self.buf[start + 4..start + 8].copy_from_slice(&b);
    }
    /// A `JIT_CODE_LOAD` of `size` bytes of code (nops) at `addr`.
    pub fn load(&mut self, pid: u32, addr: u64, size: u64, index: u64, name: &str) {
        self.record(JIT_CODE_LOAD, |w| {
            w.u32(pid);
            w.u32(pid);
            w.u64(addr);
            w.u64(addr);
            w.u64(size);
            w.u64(index);
            w.buf.extend_from_slice(name.as_bytes());
            w.buf.push(0);
            w.buf.extend(std::iter::repeat_n(0x90, size as usize));
        });
    }
    /// A `JIT_CODE_MOVE` of code `index` from `old` to `new`.
    pub fn code_move(&mut self, old: u64, new: u64, size: u64, index: u64) {
        self.record(JIT_CODE_MOVE, |w| {
            w.u32(1);
            w.u32(1);
            w.u64(new);
            w.u64(old);
            w.u64(new);
            w.u64(size);
            w.u64(index);
        });
    }
    /// A `JIT_CODE_DEBUG_INFO` for the code at `code_addr`: (address, line,
    /// file name) entries.
    pub fn debug(&mut self, code_addr: u64, entries: &[(u64, u32, &[u8])]) {
        self.record(JIT_CODE_DEBUG_INFO, |w| {
            w.u64(code_addr);
            w.u64(entries.len() as u64);
            for (addr, line, name) in entries {
                w.u64(*addr);
                w.u32(*line);
                w.u32(0);
                w.buf.extend_from_slice(name);
                w.buf.push(0);
            }
        });
    }

    /// A record of type `id` whose body is `body`, as given.
    pub fn raw_record(&mut self, id: u32, body: &[u8]) {
        self.record(id, |w| w.buf.extend_from_slice(body));
    }

    /// The file's bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}
