//! The kernel's symbol table as the symbolizer holds it: kallsyms text
//! parsed, or the running kernel's entry mapped from the symbol cache (which
//! spares every report the parse of some 100,000 lines). Either way the
//! module ranges of `/sys/module` decide which module an address is in,
//! and both answer a lookup alike.
//!
//! It reads nothing itself: the symbolizer chooses the source.

use crate::kmodules::ModuleMap;
use crate::symcache::store::CachedKernelSymbols;
use crate::KernelSymbols;

/// A kernel symbol table, parsed or mapped.
#[derive(Debug)]
pub(crate) enum KernelTable {
    /// Parsed from kallsyms text (with its module ranges set).
    Parsed(KernelSymbols),
    /// The symbol cache's mapped entry, and the module ranges.
    Mapped {
        /// The mapped code symbols.
        table: CachedKernelSymbols,
        /// Which module each address is in.
        modules: ModuleMap,
    },
}

impl KernelTable {
    /// The symbol an address is in: its start, name and module.
    pub(crate) fn lookup(&self, address: u64) -> Option<(u64, String, Option<String>)> {
        match self {
            KernelTable::Parsed(k) => k
                .lookup(address)
                .map(|s| (s.address, s.name.clone(), s.module.clone())),
            KernelTable::Mapped { table, modules } => table
                .lookup(address)
                .filter(|(start, _, module)| modules.admits(address, *start, module.as_deref())),
        }
    }

    /// The module whose code holds `address`, when module ranges are known.
    pub(crate) fn module_at(&self, address: u64) -> Option<&str> {
        match self {
            KernelTable::Parsed(k) => k.module_at(address),
            KernelTable::Mapped { modules, .. } => modules.module_at(address),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kmodules::ModuleSection;
    use crate::SymbolCache;

    /// The mapped entry, filtered by the module ranges, answers every
    /// address as the parsed table with the same ranges does.
    #[test]
    fn mapped_and_parsed_tables_answer_alike_with_module_ranges() {
        let text = "ffffffff81000000 T _text\n\
                    ffffffff81000100 t do_one\n\
                    ffffffffc0001000 t alpha_first\t[alpha]\n\
                    ffffffffc0001800 t alpha_last\t[alpha]\n\
                    ffffffffc0020400 t beta_fn\t[beta]\n";
        let sec = |module: &str, address| ModuleSection {
            module: module.into(),
            section: ".text".into(),
            address,
        };
        let modules = ModuleMap::new(
            &[
                sec("alpha", 0xffff_ffff_c000_1000),
                sec("beta", 0xffff_ffff_c002_0000),
            ],
            "alpha 8192 0 - Live 0xffffffffc0001000\nbeta 4096 0 - Live 0xffffffffc0020000\n",
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = SymbolCache::new(dir.path().to_path_buf());
        let table = cache
            .store_kernel("test-kernel", &KernelSymbols::parse(text))
            .expect("entry written and mapped");
        let mapped = KernelTable::Mapped {
            table,
            modules: modules.clone(),
        };
        let mut k = KernelSymbols::parse(text);
        k.set_modules(modules);
        let parsed = KernelTable::Parsed(k);
        let mut named = 0;
        for base in [
            0xffff_ffff_8100_0000u64,
            0xffff_ffff_c000_0f00,
            0xffff_ffff_c001_f000,
        ] {
            for address in (base..base + 0x4000).step_by(0x40) {
                let want = parsed.lookup(address);
                named += usize::from(want.is_some());
                assert_eq!(mapped.lookup(address), want, "{address:#x}");
                assert_eq!(mapped.module_at(address), parsed.module_at(address));
            }
        }
        assert!(named > 100, "the addresses hit symbols ({named})");
        assert_eq!(mapped.lookup(0xffff_ffff_c002_0100), None, "beta's gap");
    }
}
