//! Kernel symbols from `/proc/kallsyms` text.
//!
//! Lines are `ADDRESS TYPE NAME [\t[MODULE]]` with a hexadecimal address.
//! Only code symbols (types `t`, `T`, `w`, `W`) are kept. When
//! `kptr_restrict` hides addresses every address reads as zero: the table is
//! then [`KernelSymbols::is_hidden`] and resolves nothing. Parsing takes text
//! and does no I/O; the path is chosen by the caller. With the module
//! ranges of [`super::kmodules`] ([`KernelSymbols::set_modules`]), an
//! address in a module is only ever attributed to that module's symbols,
//! or to the module alone ([`KernelSymbols::module_at`]).

use crate::kmodules::ModuleMap;

/// A kernel code symbol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelSymbol {
    /// Its address.
    pub address: u64,
    /// Its name.
    pub name: String,
    /// The module it belongs to (`ext4`), `None` for the kernel image.
    pub module: Option<String>,
}

/// A kernel symbol table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KernelSymbols {
    symbols: Vec<KernelSymbol>,
    hidden: bool,
    skipped_lines: usize,
    modules: ModuleMap,
}

/// Kallsyms has no sizes: an address further than this past the nearest
/// symbol is not attributed to it (no kernel function is this large).
pub(crate) const MAX_SYMBOL_SPAN: u64 = 1 << 20;

impl KernelSymbols {
    /// Parse `/proc/kallsyms` text. Malformed lines are skipped and counted.
    pub fn parse(text: &str) -> Self {
        let mut symbols = Vec::new();
        let mut skipped_lines = 0;
        let mut lines = 0usize;
        let mut nonzero = false;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            lines += 1;
            let mut fields = line.split_whitespace();
            let (Some(addr), Some(kind), Some(name)) =
                (fields.next(), fields.next(), fields.next())
            else {
                skipped_lines += 1;
                continue;
            };
            let Ok(address) = u64::from_str_radix(addr, 16) else {
                skipped_lines += 1;
                continue;
            };
            nonzero |= address != 0;
            if !matches!(kind, "t" | "T" | "w" | "W") || address == 0 {
                continue;
            }
            let module = fields
                .next()
                .and_then(|m| m.strip_prefix('[')?.strip_suffix(']'))
                .map(str::to_string);
            symbols.push(KernelSymbol {
                address,
                name: name.to_string(),
                module,
            });
        }
        symbols.sort_by_key(|s| s.address);
        Self {
            symbols,
            hidden: lines > skipped_lines && !nonzero,
            skipped_lines,
            modules: ModuleMap::default(),
        }
    }

    /// True when every address was zero (`kptr_restrict`): nothing resolves.
    pub fn is_hidden(&self) -> bool {
        self.hidden
    }

    /// Number of code symbols.
    pub fn len(&self) -> usize {
        self.symbols.len()
    }

    /// True when there is no code symbol.
    pub fn is_empty(&self) -> bool {
        self.symbols.is_empty()
    }

    /// Lines that could not be parsed.
    pub fn skipped_lines(&self) -> usize {
        self.skipped_lines
    }

    /// The symbols, sorted by address.
    pub fn symbols(&self) -> &[KernelSymbol] {
        &self.symbols
    }

    /// The symbol an address is in: the nearest one at or below it (in
    /// the same module's range when module ranges are known).
    pub fn lookup(&self, address: u64) -> Option<&KernelSymbol> {
        let i = self.symbols.partition_point(|s| s.address <= address);
        let sym = self.symbols.get(i.checked_sub(1)?)?;
        (address - sym.address < MAX_SYMBOL_SPAN
            && self
                .modules
                .admits(address, sym.address, sym.module.as_deref()))
        .then_some(sym)
    }

    /// Use these module ranges (from `/sys/module/*/sections`).
    pub fn set_modules(&mut self, modules: ModuleMap) {
        self.modules = modules;
    }

    /// The module whose code holds `address`, when module ranges are known.
    pub fn module_at(&self, address: u64) -> Option<&str> {
        self.modules.module_at(address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kernel_and_module_symbols() {
        let text = "ffffffff81000000 T _text\n\
                    ffffffff81000100 t do_one\n\
                    ffffffff81002000 D some_data\n\
                    ffffffff81000200 W weak_fn\n\
                    garbage\n\
                    ffffffffc0001000 t ext4_fill_super\t[ext4]\n";
        let k = KernelSymbols::parse(text);
        assert!(!k.is_hidden());
        assert_eq!(k.len(), 4);
        assert_eq!(k.skipped_lines(), 1);
        assert_eq!(
            k.lookup(0xffffffff81000150).map(|s| &*s.name),
            Some("do_one")
        );
        assert_eq!(
            k.lookup(0xffffffff81000200).map(|s| &*s.name),
            Some("weak_fn")
        );
        let m = k.lookup(0xffffffffc0001010);
        assert_eq!(m.map(|s| &*s.name), Some("ext4_fill_super"));
        assert_eq!(m.and_then(|s| s.module.as_deref()), Some("ext4"));
        assert!(k.lookup(0xffffffff80000000).is_none());
        assert!(k.lookup(0xffffffffc0001000 + MAX_SYMBOL_SPAN).is_none());
    }

    /// Module `beta` has code past its last symbol; `alpha`'s symbols are
    /// further down. Without ranges the gap went to `alpha_last`.
    #[test]
    fn module_ranges_keep_addresses_in_their_module() {
        use crate::kmodules::{ModuleMap, ModuleSection};
        let text = "ffffffff81000000 T _text\n\
                    ffffffffc0001000 t alpha_first\t[alpha]\n\
                    ffffffffc0001800 t alpha_last\t[alpha]\n\
                    ffffffffc0020400 t beta_fn\t[beta]\n";
        let mut k = KernelSymbols::parse(text);
        let name = |k: &KernelSymbols, a| k.lookup(a).map(|s| s.name.clone());
        assert_eq!(name(&k, 0xffffffffc0020100).as_deref(), Some("alpha_last"));
        let sec = |module: &str, address| ModuleSection {
            module: module.into(),
            section: ".text".into(),
            address,
        };
        k.set_modules(ModuleMap::new(
            &[
                sec("alpha", 0xffffffffc0001000),
                sec("beta", 0xffffffffc0020000),
            ],
            "alpha 8192 0 - Live 0xffffffffc0001000\nbeta 4096 0 - Live 0xffffffffc0020000\n",
        ));
        // beta's code before its first symbol: beta's, with no symbol.
        assert_eq!(name(&k, 0xffffffffc0020100), None);
        assert_eq!(k.module_at(0xffffffffc0020100), Some("beta"));
        assert_eq!(name(&k, 0xffffffffc0020404).as_deref(), Some("beta_fn"));
        assert_eq!(name(&k, 0xffffffffc0001810).as_deref(), Some("alpha_last"));
        // Past alpha's core, in no module: not alpha's either.
        assert_eq!(name(&k, 0xffffffffc0003000), None);
        assert_eq!(k.module_at(0xffffffffc0003000), None);
        assert_eq!(name(&k, 0xffffffff81000010).as_deref(), Some("_text"));
    }

    #[test]
    fn all_zero_addresses_mean_hidden() {
        let k = KernelSymbols::parse("0000000000000000 T _text\n0000000000000000 t foo\n");
        assert!(k.is_hidden());
        assert!(k.lookup(0xffffffff81000000).is_none());
        assert!(!KernelSymbols::parse("").is_hidden());
    }
}

/// The cache file name for the running kernel's symbols: its build id and
/// a hash of `/proc/modules` (module addresses change when modules load).
/// `None` when the build id cannot be read.
pub fn running_kernel_cache_name() -> Option<String> {
    let notes = std::fs::read("/sys/kernel/notes").ok()?;
    let id = super::elf::build_id_from_notes(&notes)?;
    let modules = std::fs::read("/proc/modules").unwrap_or_default();
    let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
    Some(format!("kallsyms-{hex}-{:08x}", crc32fast::hash(&modules)))
}

/// Writes the text symbols of `text` (t/T/w/W lines, which are all
/// [`KernelSymbols::parse`] keeps) to `path` atomically.
pub fn write_cache(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut kept = String::with_capacity(text.len() / 2);
    for line in text.lines() {
        let kind = line.split_whitespace().nth(1).unwrap_or("");
        if matches!(kind, "t" | "T" | "w" | "W") {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, kept)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod cache_tests {
    use super::*;
    use crate::elf::build_id_from_notes;

    fn note(kind: u32, name: &[u8], desc: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&(name.len() as u32).to_ne_bytes());
        v.extend_from_slice(&(desc.len() as u32).to_ne_bytes());
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(name);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v.extend_from_slice(desc);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v
    }

    #[test]
    fn build_id_is_found_after_other_notes() {
        let mut notes = note(1, b"Xen\0", &[1, 2, 3]);
        notes.extend(note(3, b"GNU\0", &[0xab; 20]));
        assert_eq!(build_id_from_notes(&notes), Some(vec![0xab; 20]));
        assert_eq!(build_id_from_notes(&notes[..notes.len() - 4]), None);
        assert_eq!(build_id_from_notes(&note(1, b"GNU\0", &[1; 20])), None);
    }

    #[test]
    fn the_cache_keeps_exactly_what_parse_keeps() {
        let text = "ffffffff81000000 T _text\nffffffff81000100 t local_fn\nffffffff82000000 D some_data\nffffffffc0000000 t mod_fn\t[mymod]\nffffffff81000200 W weak_fn\n";
        let dir =
            std::env::temp_dir().join(format!("lwprof-kallsyms-cache-{}", std::process::id()));
        let path = dir.join("kallsyms-test");
        write_cache(&path, text).unwrap();
        let cached = std::fs::read_to_string(&path).unwrap();
        assert!(!cached.contains("some_data"));
        assert_eq!(
            KernelSymbols::parse(&cached).symbols(),
            KernelSymbols::parse(text).symbols()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_running_kernel_has_a_cache_name() {
        // Root on Linux can read /sys/kernel/notes; the name carries the id.
        if std::fs::read("/sys/kernel/notes").is_ok() {
            let name = running_kernel_cache_name().expect("a build id in /sys/kernel/notes");
            assert!(name.starts_with("kallsyms-") && name.len() > 30, "{name}");
        }
    }
}
