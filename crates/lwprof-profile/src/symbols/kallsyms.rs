//! Kernel symbols from `/proc/kallsyms` text.
//!
//! Lines are `ADDRESS TYPE NAME [\t[MODULE]]` with a hexadecimal address.
//! Only code symbols (types `t`, `T`, `w`, `W`) are kept. When
//! `kptr_restrict` hides addresses every address reads as zero: the table is
//! then [`KernelSymbols::is_hidden`] and resolves nothing. Parsing takes text
//! and does no I/O; the path is chosen by the caller.

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
}

/// Kallsyms has no sizes: an address further than this past the nearest
/// symbol is not attributed to it (no kernel function is this large).
const MAX_SYMBOL_SPAN: u64 = 1 << 20;

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

    /// The symbol an address is in: the nearest one at or below it.
    pub fn lookup(&self, address: u64) -> Option<&KernelSymbol> {
        let i = self.symbols.partition_point(|s| s.address <= address);
        let sym = self.symbols.get(i.checked_sub(1)?)?;
        (address - sym.address < MAX_SYMBOL_SPAN).then_some(sym)
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

    #[test]
    fn all_zero_addresses_mean_hidden() {
        let k = KernelSymbols::parse("0000000000000000 T _text\n0000000000000000 t foo\n");
        assert!(k.is_hidden());
        assert!(k.lookup(0xffffffff81000000).is_none());
        assert!(!KernelSymbols::parse("").is_hidden());
    }
}
