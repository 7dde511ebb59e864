//! Symbolization of this test binary (Rust symbols, legacy mangling) and of
//! the running kernel's /proc/kallsyms.

use std::path::Path;

use lwprof_symbols::{
    demangle, DemangleOptions, ElfSymbols, KernelSymbols, SymbolWarning, Symbolizer,
    SymbolizerConfig,
};

const SOURCE: &str = include_str!("symbols_self.rs");

/// A function this test finds by name in its own binary.
#[inline(never)]
pub fn lwprof_test_marker_fn(x: u64) -> u64 {
    std::hint::black_box(x).wrapping_mul(0x9e37_79b9_7f4a_7c15) // MARK_RUST_BODY
}

fn marker_line(marker: &str) -> u32 {
    let needle = format!("// {marker}");
    SOURCE
        .lines()
        .position(|l| l.ends_with(&needle))
        .map(|i| i as u32 + 1)
        .expect("marker in this file")
}

/// The mapping of this process that holds `addr`: (start, pgoff, path).
fn own_mapping(addr: u64) -> (u64, u64, String) {
    let maps = std::fs::read_to_string("/proc/self/maps").expect("/proc/self/maps");
    for line in maps.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let Some((s, e)) = f[0].split_once('-') else {
            continue;
        };
        let h = |x: &str| u64::from_str_radix(x, 16).expect("hex");
        if (h(s)..h(e)).contains(&addr) && f.len() >= 6 {
            return (h(s), h(f[2]), f[5].to_string());
        }
    }
    panic!("{addr:#x} not mapped");
}

fn no_kernel() -> SymbolizerConfig {
    SymbolizerConfig {
        kallsyms: None,
        perf_map_dir: None,
        debug_roots: vec![],
        ..SymbolizerConfig::default()
    }
}

#[test]
fn rust_function_of_this_binary_resolves_demangled() {
    assert_eq!(lwprof_test_marker_fn(1), 0x9e37_79b9_7f4a_7c15);
    let addr = lwprof_test_marker_fn as fn(u64) -> u64 as usize as u64;
    let (start, pgoff, path) = own_mapping(addr);
    let exe = std::env::current_exe().expect("current_exe");
    assert_eq!(
        Path::new(&path).canonicalize().ok(),
        exe.canonicalize().ok()
    );
    let offset = addr - start + pgoff;

    // The symbol table holds the mangled name; it demangles without a hash.
    let elf = ElfSymbols::parse(&std::fs::read(&exe).expect("read self")).expect("elf");
    let mangled = elf
        .symbols()
        .iter()
        .find(|s| s.name.contains("lwprof_test_marker_fn"))
        .map(|s| s.name.clone())
        .expect("marker fn in .symtab");
    assert!(
        mangled.starts_with("_ZN") || mangled.starts_with("_R"),
        "{mangled}"
    );
    let plain = demangle(&mangled, DemangleOptions::default());
    assert_eq!(plain, "symbols_self::lwprof_test_marker_fn");

    let mut no_dwarf = Symbolizer::new(SymbolizerConfig {
        dwarf: false,
        ..no_kernel()
    });
    let frames = no_dwarf.symbolize_file_offset(&path, None, offset);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].function, "symbols_self::lwprof_test_marker_fn");

    let mut s = Symbolizer::new(no_kernel());
    let frames = s.symbolize_file_offset(&path, None, offset);
    let outer = frames.last().expect("a frame");
    assert_eq!(outer.function, "symbols_self::lwprof_test_marker_fn");
    assert!(outer
        .file
        .as_deref()
        .is_some_and(|f| f.ends_with("symbols_self.rs")));
    let fn_line = marker_line("MARK_RUST_BODY") - 1;
    let line = outer.line.expect("a line");
    assert!(
        line == fn_line || line == fn_line + 1,
        "entry of the marker fn at line {line}, fn starts at {fn_line}"
    );
    assert!(s.warnings().is_empty(), "{:?}", s.warnings());
}

#[test]
fn crafted_rust_and_cpp_names() {
    let opts = DemangleOptions::default();
    // Legacy: `<crate>::<path>::h<16 hex>`.
    assert_eq!(
        demangle(
            "_ZN12lwprof_crate6module8function17h0011223344556677E",
            opts
        ),
        "lwprof_crate::module::function"
    );
    // v0: crate root with disambiguator, nested value namespace.
    assert_eq!(
        demangle("_RNvNtCs1234_12lwprof_crate6module8function", opts),
        "lwprof_crate::module::function"
    );
    assert_eq!(demangle("_ZNK3Foo3getEv", opts), "Foo::get() const");
}

/// The first code symbol of /proc/kallsyms, parsed independently.
fn first_text_symbol(text: &str) -> Option<(u64, String)> {
    text.lines().find_map(|l| {
        let mut f = l.split_whitespace();
        let addr = u64::from_str_radix(f.next()?, 16).ok()?;
        let kind = f.next()?;
        let name = f.next()?;
        (kind == "T" && addr != 0 && f.next().is_none()).then(|| (addr, name.to_string()))
    })
}

#[test]
fn real_kallsyms() {
    let text = std::fs::read_to_string("/proc/kallsyms").expect("/proc/kallsyms is readable");
    let table = KernelSymbols::parse(&text);
    let visible = first_text_symbol(&text);
    assert_eq!(table.is_hidden(), visible.is_none());
    let mut s = Symbolizer::new(SymbolizerConfig {
        kallsyms: Some("/proc/kallsyms".into()),
        ..no_kernel()
    });
    match visible {
        Some((addr, _)) => {
            assert!(table.len() > 1000, "{} kernel code symbols", table.len());
            // Look up 4 bytes into a symbol that has a distinct address.
            let sym = table
                .symbols()
                .windows(2)
                .find(|w| {
                    w[0].address < w[1].address && w[0].address >= addr && w[0].module.is_none()
                })
                .map(|w| w[0].clone())
                .expect("distinct kernel symbols");
            let frames = s.symbolize_kernel(sym.address + 1);
            assert_eq!(frames.len(), 1);
            assert_eq!(frames[0].function, sym.name);
            assert_eq!(frames[0].dso, None);
            assert!(s.warnings().is_empty(), "{:?}", s.warnings());
        }
        None => {
            assert!(s.symbolize_kernel(0xffff_ffff_8100_0000).is_empty());
            assert!(matches!(
                s.warnings(),
                [SymbolWarning::KernelSymbolsHidden { .. }]
            ));
        }
    }
}

#[test]
fn crafted_kallsyms_file_hidden_and_modules() {
    let dir = lwprof_testkit::scratch("kallsyms");
    let hidden = dir.path().join("hidden");
    std::fs::write(
        &hidden,
        "0000000000000000 T _text\n0000000000000000 t x [m]\n",
    )
    .expect("write");
    let mut s = Symbolizer::new(SymbolizerConfig {
        kallsyms: Some(hidden),
        ..no_kernel()
    });
    for a in [0xffff_ffff_8100_0000u64, 0xffff_ffff_8100_1000] {
        assert!(s.symbolize_kernel(a).is_empty());
    }
    assert_eq!(s.warnings().len(), 1, "reported once: {:?}", s.warnings());

    let visible = dir.path().join("visible");
    std::fs::write(
        &visible,
        "ffffffff81000000 T _text\nffffffff81000100 T do_work\nffffffffc0002000 t mod_fn\t[lwmod]\n",
    )
    .expect("write");
    let mut s = Symbolizer::new(SymbolizerConfig {
        kallsyms: Some(visible),
        ..no_kernel()
    });
    let f = s.symbolize_kernel(0xffff_ffff_8100_0105);
    assert_eq!(f[0].function, "do_work");
    let f = s.symbolize_kernel(0xffff_ffff_c000_2010);
    assert_eq!(f[0].function, "mod_fn");
    assert_eq!(f[0].dso.as_deref(), Some("[lwmod]"));
}
