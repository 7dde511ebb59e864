//! Arbitrary bytes as a pipe-mode perf.data stream (`perf record -o -`),
//! read from a reader that cannot seek, as standard input is: the leading
//! HEADER_ATTR/HEADER_FEATURE/HEADER_TRACING_DATA/HEADER_BUILD_ID records,
//! then one walk over the rest (compressed records included), then a second
//! walk, which must fail cleanly. Nothing may panic or allocate what the
//! input does not hold.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lwprof_perfdata::PipeDataFile;

/// Hands out the input a few bytes at a time, as a pipe may.
struct Trickle<'a>(&'a [u8]);

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.0.len()).min(4093);
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

fuzz_target!(|input: &[u8]| {
    let Ok(pipe) = PipeDataFile::from_reader(Trickle(input), "fuzz") else {
        return;
    };
    let events = pipe.attrs().len();
    let mut bytes = 0usize;
    let walk = pipe.for_each_record(|r| {
        bytes += r.bytes.len();
        assert!(r.attr_index.is_none_or(|i| i < events));
    });
    let _ = walk.error.map(|e| e.to_string());
    assert!(pipe.for_each_record(|_| ()).error.is_some());
});
