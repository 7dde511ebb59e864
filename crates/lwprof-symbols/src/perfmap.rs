//! JIT symbol maps in the `/tmp/perf-PID.map` text format.
//!
//! Each line is `START SIZE NAME`: START and SIZE in hexadecimal (an `0x`
//! prefix is accepted), NAME the rest of the line (it may contain spaces).
//! When two entries overlap, the later line wins (a JIT reused the memory):
//! the overlaps are resolved once, when the map is parsed, into disjoint
//! ranges ([`super::intervals::LatestWins`]), so a lookup is one binary
//! search however many entries overlap. Parsing takes text and does no I/O.

use super::intervals::LatestWins;

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
    /// Entries in line order.
    entries: Vec<PerfMapEntry>,
    /// Which entry owns each address.
    table: LatestWins,
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
        for line in text.lines() {
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
                Some(e) => entries.push(e),
                None => skipped_lines += 1,
            }
        }
        // A size reaching past the end of the address space covers up to it.
        let table = LatestWins::build(
            entries
                .iter()
                .enumerate()
                .map(|(i, e)| (e.start, e.start.saturating_add(e.size - 1), i)),
        );
        Self {
            entries,
            table,
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

    /// The entries, in line order (overlaps not resolved).
    pub fn entries(&self) -> &[PerfMapEntry] {
        &self.entries
    }

    /// Lines that could not be parsed.
    pub fn skipped_lines(&self) -> usize {
        self.skipped_lines
    }

    /// The entry covering an address; among overlapping ones, the one written
    /// last.
    pub fn lookup(&self, address: u64) -> Option<&PerfMapEntry> {
        self.entries.get(self.table.get(address)?)
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

    /// Defect 18 (`tests/data/regressions/perf_map-1.bin`): 80 small
    /// entries, then `big_outer` over all of them, then more entries after
    /// it. The lookup looked at most 64 entries back and returned `fn_64`.
    #[test]
    fn perf_map_later_covering_entry_wins_however_far_back() {
        let text = include_str!("../tests/data/regressions/perf_map-1.bin");
        let m = PerfMap::parse(text);
        assert_eq!(m.skipped_lines(), 0);
        assert_eq!(m.lookup(0x10400).map(|e| &*e.name), Some("big_outer"));
        assert_eq!(m.lookup(0x10000).map(|e| &*e.name), Some("big_outer"));
        assert_eq!(m.lookup(0x1ffff).map(|e| &*e.name), Some("big_outer"));
        // Entries after it, outside its range, are their own.
        assert_eq!(m.lookup(0x20000).map(|e| &*e.name), Some("late_0"));
        // Earlier lines written again after the big one win back their range.
        let again = format!("{text}10400 10 fn_64_again\n");
        let m = PerfMap::parse(&again);
        assert_eq!(m.lookup(0x10408).map(|e| &*e.name), Some("fn_64_again"));
        assert_eq!(m.lookup(0x10410).map(|e| &*e.name), Some("big_outer"));
    }

    #[test]
    fn perf_map_entries_at_the_end_of_the_address_space() {
        let m = PerfMap::parse("ffffffffffffff00 1000 top\n0 1 zero\n");
        assert_eq!(m.lookup(u64::MAX).map(|e| &*e.name), Some("top"));
        assert_eq!(m.lookup(0).map(|e| &*e.name), Some("zero"));
        assert!(m.lookup(1).is_none());
    }
}
