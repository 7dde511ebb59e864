//! Where each loaded kernel module's code is: the section addresses of
//! `/sys/module/NAME/sections/*` (`.text`, `.init.text`, `.text.unlikely`,
//! ...) and, when the kernel has it, the core base and size of
//! `/proc/modules`. With them an address in a module that no kallsyms
//! symbol covers is still the module's (`[ext4]`), not the previous symbol
//! of another module or of the kernel.
//!
//! [`ModuleMap::new`] takes what was read (sans I/O: section addresses as
//! text, `/proc/modules` text); [`read_sections`] is the one function that
//! reads a sysfs tree, whose root is a parameter. Symbols are kallsyms'
//! ([`super::kallsyms`]); this module knows only ranges.

use std::path::Path;

/// A section is at most this far from the next known start (no module
/// section is this large) when `/proc/modules` gives no size.
const MAX_SECTION_SPAN: u64 = 1 << 24;

/// One section of a loaded module, as sysfs names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleSection {
    /// The module (`ext4`).
    pub module: String,
    /// The section (`.text`).
    pub section: String,
    /// Its address.
    pub address: u64,
}

/// A range of module code.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Range {
    start: u64,
    end: u64,
    module: String,
}

/// The code ranges of the loaded modules.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModuleMap {
    /// Sorted by start, non-overlapping.
    ranges: Vec<Range>,
}

/// The address in a sysfs section file (`0xffffffffc0a01000\n`); `None`
/// when hidden (all zero, `kptr_restrict`) or not an address.
pub fn parse_section_address(text: &str) -> Option<u64> {
    let t = text.trim();
    let hex = t.strip_prefix("0x").unwrap_or(t);
    u64::from_str_radix(hex, 16).ok().filter(|&a| a != 0)
}

/// `(module, base, size)` of each live line of `/proc/modules`
/// (`ext4 1003520 2 - Live 0xffffffffc0a00000`).
fn parse_proc_modules(text: &str) -> Vec<(String, u64, u64)> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let size = f.get(1)?.parse::<u64>().ok()?;
            let base = parse_section_address(f.get(5)?)?;
            Some((f[0].to_string(), base, size))
        })
        .collect()
}

/// True for a section that holds code (`.text`, `.init.text`,
/// `.text.unlikely`, `.exit.text`, `.noinstr.text`).
fn is_code(section: &str) -> bool {
    section.split('.').any(|part| part == "text")
}

impl ModuleMap {
    /// The ranges of `sections` (every section of every module counts as a
    /// boundary; code sections are ranges up to the next boundary), cut to
    /// each module's core `[base, base + size)` from `proc_modules` text
    /// when the section is in it.
    pub fn new(sections: &[ModuleSection], proc_modules: &str) -> Self {
        let cores = parse_proc_modules(proc_modules);
        let mut starts: Vec<u64> = sections.iter().map(|s| s.address).collect();
        starts.extend(cores.iter().flat_map(|&(_, b, s)| [b, b.saturating_add(s)]));
        starts.sort_unstable();
        starts.dedup();
        let mut ranges: Vec<Range> = Vec::new();
        for s in sections.iter().filter(|s| is_code(&s.section)) {
            let next = starts[starts.partition_point(|&a| a <= s.address)..]
                .first()
                .copied()
                .unwrap_or(u64::MAX);
            let mut end = next.min(s.address.saturating_add(MAX_SECTION_SPAN));
            let core = cores
                .iter()
                .find(|(m, b, size)| *m == s.module && s.address >= *b && s.address - b < *size);
            if let Some((_, base, size)) = core {
                end = end.min(base.saturating_add(*size));
            }
            ranges.push(Range {
                start: s.address,
                end,
                module: s.module.clone(),
            });
        }
        // Modules without sysfs sections still have their core.
        for (module, base, size) in cores {
            if size > 0 && !ranges.iter().any(|r| r.module == module) {
                ranges.push(Range {
                    start: base,
                    end: base.saturating_add(size),
                    module,
                });
            }
        }
        ranges.sort_by_key(|r| r.start);
        ranges.dedup_by(|later, first| later.start < first.end);
        Self { ranges }
    }

    /// True when no module range is known.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The module whose code holds `address`.
    pub fn module_at(&self, address: u64) -> Option<&str> {
        let i = self.ranges.partition_point(|r| r.start <= address);
        let r = self.ranges.get(i.checked_sub(1)?)?;
        (address < r.end).then_some(r.module.as_str())
    }

    /// Where the range of `module` that holds `address` starts.
    pub fn range_start(&self, module: &str, address: u64) -> Option<u64> {
        let i = self.ranges.partition_point(|r| r.start <= address);
        let r = self.ranges.get(i.checked_sub(1)?)?;
        (address < r.end && r.module == module).then_some(r.start)
    }

    /// Whether the nearest symbol at or below `address` (at `symbol`, in
    /// `symbol_module`) may name it: in a module, only that module's symbol
    /// inside the same range; past the end of a known module, none.
    pub fn admits(&self, address: u64, symbol: u64, symbol_module: Option<&str>) -> bool {
        match (self.module_at(address), symbol_module) {
            (Some(m), Some(sm)) if m == sm => self
                .range_start(m, address)
                .is_some_and(|start| symbol >= start),
            (Some(_), _) => false,
            (None, Some(sm)) => !self.knows(sm),
            (None, None) => true,
        }
    }

    /// True when some range of `module` is known.
    pub fn knows(&self, module: &str) -> bool {
        self.ranges.iter().any(|r| r.module == module)
    }
}

/// Every section address under a sysfs module directory (`/sys/module`):
/// `ROOT/NAME/sections/SECTION`. Unreadable or hidden entries are skipped.
pub fn read_sections(root: &Path) -> Vec<ModuleSection> {
    let mut out = Vec::new();
    let Ok(modules) = std::fs::read_dir(root) else {
        return out;
    };
    for m in modules.flatten() {
        let Ok(sections) = std::fs::read_dir(m.path().join("sections")) else {
            continue;
        };
        let module = m.file_name().to_string_lossy().into_owned();
        for s in sections.flatten() {
            let text = std::fs::read_to_string(s.path()).unwrap_or_default();
            if let Some(address) = parse_section_address(&text) {
                out.push(ModuleSection {
                    module: module.clone(),
                    section: s.file_name().to_string_lossy().into_owned(),
                    address,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sec(module: &str, section: &str, address: u64) -> ModuleSection {
        ModuleSection {
            module: module.into(),
            section: section.into(),
            address,
        }
    }

    #[test]
    fn code_sections_reach_to_the_next_section_or_the_core_end() {
        let sections = [
            sec("alpha", ".text", 0xffff_c000_1000),
            sec("alpha", ".data", 0xffff_c000_3000),
            sec("alpha", ".init.text", 0xffff_c001_0000),
            sec("beta", ".text", 0xffff_c002_0000),
            sec("beta", "__ksymtab", 0xffff_c002_4000),
        ];
        let m = ModuleMap::new(&sections, "");
        assert_eq!(m.module_at(0xffff_c000_1000), Some("alpha"));
        assert_eq!(m.module_at(0xffff_c000_2fff), Some("alpha"));
        assert_eq!(m.module_at(0xffff_c000_3000), None, "data is not code");
        assert_eq!(m.module_at(0xffff_c001_0100), Some("alpha"));
        assert_eq!(m.module_at(0xffff_c002_3fff), Some("beta"));
        assert_eq!(m.module_at(0xffff_c000_0fff), None);
        assert_eq!(
            m.range_start("alpha", 0xffff_c001_0100),
            Some(0xffff_c001_0000)
        );
        assert_eq!(m.range_start("beta", 0xffff_c001_0100), None);
        // /proc/modules cuts beta's last section to its core.
        let m = ModuleMap::new(
            &sections[..4],
            "beta 8192 0 - Live 0x0000ffffc0020000\nalpha 12288 1 beta, Live 0x0000ffffc0001000 (O)\n",
        );
        assert_eq!(m.module_at(0xffff_c002_1fff), Some("beta"));
        assert_eq!(m.module_at(0xffff_c002_2000), None);
        assert!(m.knows("alpha") && !m.knows("gamma"));
    }

    #[test]
    fn a_module_without_sections_has_its_core_and_zero_addresses_are_hidden() {
        let m = ModuleMap::new(
            &[],
            "gamma 4096 0 - Live 0xffffffffc0100000\nhidden 4096 0 - Live 0x0000000000000000\n",
        );
        assert_eq!(m.module_at(0xffffffffc0100fff), Some("gamma"));
        assert_eq!(m.module_at(0xffffffffc0101000), None);
        assert!(!m.knows("hidden"));
        assert_eq!(parse_section_address("0x0000000000000000\n"), None);
        assert_eq!(
            parse_section_address("0xffffffffc0a01000\n"),
            Some(0xffffffffc0a01000)
        );
        assert_eq!(parse_section_address("garbage"), None);
        assert!(ModuleMap::new(&[], "").is_empty());
    }

    #[test]
    fn a_fake_sysfs_tree_is_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        for (m, s, a) in [
            ("alpha", ".text", "0xffffffffc0001000\n"),
            ("alpha", ".init.text", "0x0000000000000000\n"),
            ("beta", ".text", "0xffffffffc0020000\n"),
        ] {
            let d = dir.path().join(m).join("sections");
            std::fs::create_dir_all(&d).expect("mkdir");
            std::fs::write(d.join(s), a).expect("write");
        }
        // A built-in "module" has no sections directory.
        std::fs::create_dir_all(dir.path().join("kernel/parameters")).expect("mkdir");
        let mut got = read_sections(dir.path());
        got.sort_by_key(|s| s.address);
        assert_eq!(
            got,
            [
                sec("alpha", ".text", 0xffffffffc0001000),
                sec("beta", ".text", 0xffffffffc0020000)
            ]
        );
        assert!(read_sections(&dir.path().join("missing")).is_empty());
    }
}

#[cfg(test)]
mod overflow_tests {
    use super::*;

    /// A `/proc/modules` core that ends past the top of the address space
    /// (found by the `kernel_modules` fuzz target) clips instead of
    /// overflowing.
    #[test]
    fn a_core_past_the_end_of_the_address_space_clips() {
        let sections = [ModuleSection {
            module: "alpha".into(),
            section: ".text".into(),
            address: 0xffff_ffff_ffff_f000,
        }];
        let map = ModuleMap::new(&sections, "alpha 8192 0 - Live 0xfffffffffffff000\n");
        assert_eq!(map.module_at(0xffff_ffff_ffff_f010), Some("alpha"));
    }
}
