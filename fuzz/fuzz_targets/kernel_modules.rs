//! Arbitrary text as kallsyms, sysfs module sections and `/proc/modules`
//! (three parts split at NUL bytes; section lines are `MODULE SECTION
//! ADDRESS`), and as `/proc/PID/maps` for the vDSO's range. Lookups at
//! every symbol's and section's edges, 0 and u64::MAX: nothing may panic, a
//! symbol found is at or below the address, and in a module's range only
//! that module's symbols are found.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lwprof_symbols::kmodules::{parse_section_address, ModuleMap, ModuleSection};
use lwprof_symbols::{vdso, KernelSymbols};

fuzz_target!(|input: &[u8]| {
    let text = String::from_utf8_lossy(input);
    if let Some((start, end)) = vdso::vdso_range(&text) {
        assert!(start < end);
    }
    let mut parts = text.split('\0');
    let kallsyms = parts.next().unwrap_or("");
    let sections_text = parts.next().unwrap_or("");
    let proc_modules = parts.next().unwrap_or("");
    let sections: Vec<ModuleSection> = sections_text
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            Some(ModuleSection {
                module: f.first()?.to_string(),
                section: f.get(1)?.to_string(),
                address: parse_section_address(f.get(2)?)?,
            })
        })
        .collect();
    let modules = ModuleMap::new(&sections, proc_modules);
    let mut k = KernelSymbols::parse(kallsyms);
    k.set_modules(modules);
    let mut probes = vec![0, 1, u64::MAX - 1, u64::MAX];
    for s in k.symbols().iter().take(64) {
        probes.extend([
            s.address,
            s.address.wrapping_sub(1),
            s.address.wrapping_add(1),
        ]);
    }
    for s in sections.iter().take(64) {
        probes.extend([
            s.address,
            s.address.wrapping_sub(1),
            s.address.wrapping_add(1),
        ]);
    }
    for a in probes {
        let module = k.module_at(a).map(str::to_string);
        if let Some(sym) = k.lookup(a) {
            assert!(sym.address <= a, "{a:#x}: {sym:?}");
            if let Some(m) = &module {
                assert_eq!(sym.module.as_ref(), Some(m), "{a:#x}: {sym:?}");
            }
        }
    }
});
