//! Reading a TRACING_DATA blob (perf's `trace_report`), on bytes: every
//! length is checked against what remains before anything is allocated,
//! and each error names the blob offset.

use super::format::parse_format;
use super::{TracingData, TracingDataError, TRACING_MAGIC};

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    big_endian: bool,
}

impl<'a> Cursor<'a> {
    fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }
    fn take(&mut self, n: u64, what: &str) -> Result<&'a [u8], TracingDataError> {
        let available = self.remaining();
        let n = usize::try_from(n)
            .ok()
            .filter(|&n| n <= available)
            .ok_or_else(|| TracingDataError::Truncated {
                what: what.to_string(),
                offset: self.pos,
                needed: n,
                available,
            })?;
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], TracingDataError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N as u64, what)?);
        Ok(a)
    }
    fn u8(&mut self, what: &str) -> Result<u8, TracingDataError> {
        Ok(self.array::<1>(what)?[0])
    }
    fn u32(&mut self, what: &str) -> Result<u32, TracingDataError> {
        let a = self.array::<4>(what)?;
        Ok(if self.big_endian {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    }
    fn u64(&mut self, what: &str) -> Result<u64, TracingDataError> {
        let a = self.array::<8>(what)?;
        Ok(if self.big_endian {
            u64::from_be_bytes(a)
        } else {
            u64::from_le_bytes(a)
        })
    }
    /// A NUL-terminated string (the NUL is consumed, not returned).
    fn cstr(&mut self, what: &str) -> Result<String, TracingDataError> {
        let rest = &self.data[self.pos..];
        let Some(end) = rest.iter().position(|&c| c == 0) else {
            return Err(self.corrupt(what, "no terminating NUL before the end".into()));
        };
        let s = String::from_utf8_lossy(&rest[..end]).into_owned();
        self.pos += end + 1;
        Ok(s)
    }
    /// A 4- or 8-byte size, then that many bytes.
    fn sized(&mut self, size_bytes: u32, what: &str) -> Result<&'a [u8], TracingDataError> {
        let n = if size_bytes == 4 {
            u64::from(self.u32(what)?)
        } else {
            self.u64(what)?
        };
        self.take(n, what)
    }
    /// A u32 count of items that take at least `min_item` bytes each.
    fn count(&mut self, min_item: usize, what: &str) -> Result<u32, TracingDataError> {
        let at = self.pos;
        let n = self.u32(what)?;
        if n as usize > self.remaining() / min_item {
            return Err(TracingDataError::Corrupt {
                what: what.to_string(),
                offset: at,
                detail: format!(
                    "{n} items do not fit in the {} bytes left",
                    self.remaining()
                ),
            });
        }
        Ok(n)
    }
    fn corrupt(&self, what: &str, detail: String) -> TracingDataError {
        TracingDataError::Corrupt {
            what: what.to_string(),
            offset: self.pos,
            detail,
        }
    }
    fn tag(&mut self, tag: &[u8], what: &str) -> Result<(), TracingDataError> {
        let at = self.pos;
        let got = self.take(tag.len() as u64, what)?;
        if got != tag {
            return Err(TracingDataError::Corrupt {
                what: what.to_string(),
                offset: at,
                detail: format!(
                    "expected {:?}, found {:?}",
                    String::from_utf8_lossy(tag),
                    String::from_utf8_lossy(got)
                ),
            });
        }
        Ok(())
    }
}

/// `atof(version) >= 0.6`, as perf decides whether saved_cmdlines follow.
fn has_saved_cmdlines(version: &str) -> bool {
    let num: String = version
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    num.parse::<f64>().is_ok_and(|v| v >= 0.6)
}

impl TracingData {
    /// Parses a TRACING_DATA blob, as perf or lwprof wrote it.
    pub fn parse(bytes: Vec<u8>) -> Result<TracingData, TracingDataError> {
        let mut c = Cursor {
            data: &bytes,
            pos: 0,
            big_endian: false,
        };
        c.tag(TRACING_MAGIC, "magic")?;
        let version = c.cstr("version")?;
        let endian = c.u8("endianness")?;
        if endian > 1 {
            return Err(c.corrupt("endianness", format!("{endian} is neither 0 nor 1")));
        }
        c.big_endian = endian == 1;
        let long_size = c.u8("long size")?;
        let page_size = c.u32("page size")?;
        if page_size == 0 {
            return Err(c.corrupt("page size", "0".into()));
        }
        c.tag(b"header_page\0", "header_page tag")?;
        let header_page = c.sized(8, "header_page")?.to_vec();
        c.tag(b"header_event\0", "header_event tag")?;
        let header_event = c.sized(8, "header_event")?.to_vec();
        let mut ftrace_formats = Vec::new();
        for _ in 0..c.count(8, "ftrace format count")? {
            ftrace_formats.push(format_file(&mut c, "ftrace")?);
        }
        let mut event_formats = Vec::new();
        for _ in 0..c.count(5, "system count")? {
            let system = c.cstr("system name")?;
            for _ in 0..c.count(8, "event format count")? {
                event_formats.push(format_file(&mut c, &system)?);
            }
        }
        let kallsyms = c.sized(4, "kallsyms")?.to_vec();
        let printk_formats = c.sized(4, "printk_formats")?.to_vec();
        let saved_cmdlines = if has_saved_cmdlines(&version) {
            c.sized(8, "saved_cmdlines")?.to_vec()
        } else {
            Vec::new()
        };
        let unread = c.remaining();
        Ok(TracingData {
            version,
            big_endian: c.big_endian,
            long_size,
            page_size,
            header_page,
            header_event,
            ftrace_formats,
            event_formats,
            kallsyms,
            printk_formats,
            saved_cmdlines,
            unread,
            bytes,
        })
    }
}

fn format_file(c: &mut Cursor<'_>, system: &str) -> Result<super::EventFormat, TracingDataError> {
    let what = format!("format file of a {system} event");
    let text = c.sized(8, &what)?;
    let start = c.pos - text.len();
    parse_format(system, text).map_err(|e| TracingDataError::Corrupt {
        what,
        offset: start,
        detail: e.to_string(),
    })
}
