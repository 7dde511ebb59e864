//! Laying out a TRACING_DATA blob from tracefs file contents, as perf's
//! `tracing_data_get` does. Pure: the caller reads the files
//! (`Tracefs::tracing_files`) and says what machine they come from.

use super::{TracingDataError, TRACING_MAGIC, TRACING_VERSION};
use lwprof_records::tracing_files::TracingFiles;

/// The facts about the recording machine the blob states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TracingHost {
    /// Byte order of the machine (and of every number in the blob).
    pub big_endian: bool,
    /// `sizeof(long)`.
    pub long_size: u8,
    /// The page size.
    pub page_size: u32,
}

impl TracingHost {
    /// This machine, with its page size (which the caller knows from the
    /// system; this crate makes no system calls).
    pub fn native(page_size: u32) -> TracingHost {
        TracingHost {
            big_endian: cfg!(target_endian = "big"),
            long_size: std::mem::size_of::<std::ffi::c_long>() as u8,
            page_size,
        }
    }
}

struct Out {
    bytes: Vec<u8>,
    big_endian: bool,
}

impl Out {
    fn u32(&mut self, v: u32) {
        let b = if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.bytes.extend_from_slice(&b);
    }
    fn u64(&mut self, v: u64) {
        let b = if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.bytes.extend_from_slice(&b);
    }
    fn count(&mut self, n: usize, what: &str) -> Result<(), TracingDataError> {
        let n = u32::try_from(n).map_err(|_| TracingDataError::TooLarge {
            what: what.to_string(),
            len: n,
            bits: 32,
        })?;
        self.u32(n);
        Ok(())
    }
    /// A file with a 4- or 8-byte size in front.
    fn file(&mut self, data: &[u8], size_bytes: u32, what: &str) -> Result<(), TracingDataError> {
        if size_bytes == 4 {
            let n = u32::try_from(data.len()).map_err(|_| TracingDataError::TooLarge {
                what: what.to_string(),
                len: data.len(),
                bits: 32,
            })?;
            self.u32(n);
        } else {
            self.u64(data.len() as u64);
        }
        self.bytes.extend_from_slice(data);
        Ok(())
    }
}

/// The TRACING_DATA blob for `files`, in `host`'s byte order, version 0.6.
/// kallsyms is written empty, as perf does since it resolves kernel symbols
/// itself. Fails only for a file or count larger than its size field.
pub fn build(files: &TracingFiles, host: TracingHost) -> Result<Vec<u8>, TracingDataError> {
    let mut o = Out {
        bytes: Vec::new(),
        big_endian: host.big_endian,
    };
    o.bytes.extend_from_slice(TRACING_MAGIC);
    o.bytes.extend_from_slice(TRACING_VERSION.as_bytes());
    o.bytes.push(0);
    o.bytes.push(u8::from(host.big_endian));
    o.bytes.push(host.long_size);
    o.u32(host.page_size);
    o.bytes.extend_from_slice(b"header_page\0");
    o.file(&files.header_page, 8, "header_page")?;
    o.bytes.extend_from_slice(b"header_event\0");
    o.file(&files.header_event, 8, "header_event")?;
    o.count(files.ftrace_formats.len(), "ftrace format count")?;
    for f in &files.ftrace_formats {
        o.file(f, 8, "ftrace format")?;
    }
    o.count(files.systems.len(), "system count")?;
    for s in &files.systems {
        // A NUL inside would end the name early for every reader.
        let name = s.system.split('\0').next().unwrap_or("");
        o.bytes.extend_from_slice(name.as_bytes());
        o.bytes.push(0);
        o.count(s.formats.len(), "event format count")?;
        for f in &s.formats {
            o.file(f, 8, "event format")?;
        }
    }
    o.file(&[], 4, "kallsyms")?;
    o.file(&files.printk_formats, 4, "printk_formats")?;
    o.file(&files.saved_cmdlines, 8, "saved_cmdlines")?;
    Ok(o.bytes)
}
