//! JIT symbol maps in the `/tmp/perf-PID.map` text format.
//!
//! Each line is `START SIZE NAME`: START and SIZE in hexadecimal (an `0x`
//! prefix is accepted), NAME the rest of the line (it may contain spaces).
//! When two entries overlap, the later line wins (a JIT reused the memory).
//! Parsing takes text and does no I/O.

/// One JIT function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PerfMapEntry {
    /// First address.
    pub start: u64,
    /// Size in bytes.
    pub size: u64,
    /// Function name, as the JIT wrote it.
    pub name: String,
}

/// A parsed perf map.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PerfMap {
    /// Entries sorted by start; `order` keeps the line number for overlaps.
    entries: Vec<(PerfMapEntry, usize)>,
    skipped_lines: usize,
}

fn parse_hex(s: &str) -> Option<u64> {
    let s = s.strip_prefix("0x").unwrap_or(s);
    u64::from_str_radix(s, 16).ok()
}

impl PerfMap {
    /// Parse perf map text. Malformed lines are skipped and counted.
    pub fn parse(text: &str) -> Self {
        let mut entries = Vec::new();
        let mut skipped_lines = 0;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let mut parts = line.splitn(3, char::is_whitespace);
            let entry = (|| {
                let start = parse_hex(parts.next()?)?;
                let size = parse_hex(parts.next()?.trim())?;
                let name = parts.next()?.trim();
                (size > 0).then(|| PerfMapEntry {
                    start,
                    size,
                    name: name.to_string(),
                })
            })();
            match entry {
                Some(e) => entries.push((e, n)),
                None => skipped_lines += 1,
            }
        }
        entries.sort_by_key(|(e, n)| (e.start, *n));
        Self {
            entries,
            skipped_lines,
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there is no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Lines that could not be parsed.
    pub fn skipped_lines(&self) -> usize {
        self.skipped_lines
    }

    /// The entry covering an address; among overlapping ones, the one written
    /// last.
    pub fn lookup(&self, address: u64) -> Option<&PerfMapEntry> {
        let end = self.entries.partition_point(|(e, _)| e.start <= address);
        self.entries[..end]
            .iter()
            .rev()
            .take(64)
            .filter(|(e, _)| address - e.start < e.size)
            .max_by_key(|(_, n)| *n)
            .map(|(e, _)| e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines_and_resolves_overlaps_to_the_latest() {
        let text = "7f0000001000 40 LazyCompile:~foo bar.js:1\n\
                    0x7f0000002000 0x20 stub\n\
                    not a line\n\
                    7f0000001000 zz broken\n\
                    7f0000001010 10 replaced\n";
        let m = PerfMap::parse(text);
        assert_eq!(m.len(), 3);
        assert_eq!(m.skipped_lines(), 2);
        assert_eq!(
            m.lookup(0x7f0000001000).map(|e| &*e.name),
            Some("LazyCompile:~foo bar.js:1")
        );
        assert_eq!(m.lookup(0x7f0000001018).map(|e| &*e.name), Some("replaced"));
        assert_eq!(
            m.lookup(0x7f000000103f).map(|e| &*e.name),
            Some("LazyCompile:~foo bar.js:1")
        );
        assert!(m.lookup(0x7f0000001040).is_none());
        assert_eq!(m.lookup(0x7f000000201f).map(|e| &*e.name), Some("stub"));
        assert!(m.lookup(0x7f0000002020).is_none());
    }
}
