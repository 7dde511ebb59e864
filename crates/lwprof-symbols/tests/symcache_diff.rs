//! The symbol cache against the direct path (ElfSymbols + addr2line): the
//! same frames for line-table row addresses (and the byte after each) of a
//! gcc -O2 C program with inlining, of this test binary (Rust, std's inlined
//! code), and of libc through its libc6-dbg debug file; and the symbolizer
//! with a cache directory: written once, mapped after, a damaged entry
//! ignored and replaced.

use std::borrow::Cow;
use std::path::Path;

use lwprof_symbols::symcache::{self, SymbolCacheView};
use lwprof_symbols::{
    hex, DemangleOptions, DsoSymbols, DwarfInfo, ElfSymbols, SymbolCache, Symbolizer,
    SymbolizerConfig,
};
use lwprof_testkit::{cc, scratch::scratch, tools};
use object::{Object, ObjectSection};

/// Every line-table row address of an ELF file's DWARF, read with gimli
/// here (not with the builder's walk).
fn row_addresses(bytes: &[u8]) -> Vec<u64> {
    let file = object::File::parse(bytes).expect("ELF");
    let load = |id: gimli::SectionId| -> Result<Cow<'_, [u8]>, gimli::Error> {
        Ok(file
            .section_by_name(id.name())
            .and_then(|s| s.uncompressed_data().ok())
            .unwrap_or(Cow::Borrowed(&[])))
    };
    let sections = gimli::DwarfSections::load(load).expect("DWARF sections");
    let dwarf = sections.borrow(|s| gimli::EndianSlice::new(s, gimli::LittleEndian));
    let mut out = Vec::new();
    let mut units = dwarf.units();
    while let Ok(Some(header)) = units.next() {
        let Ok(unit) = dwarf.unit(header) else {
            continue;
        };
        let Some(program) = unit.line_program.clone() else {
            continue;
        };
        let mut rows = program.rows();
        while let Ok(Some((_, row))) = rows.next_row() {
            out.push(row.address());
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// A DSO parsed the direct way: the binary's symbols merged with the debug
/// file's, and the debug file's DWARF.
fn direct(binary: &[u8], debug: &[u8]) -> DsoSymbols {
    let mut elf = ElfSymbols::parse(binary).expect("binary");
    if !std::ptr::eq(binary, debug) {
        elf.merge_symbols(&ElfSymbols::parse(debug).expect("debug file"));
    }
    DsoSymbols::new(elf, Some(DwarfInfo::parse(debug).expect("DWARF")))
}

/// Compares cached and direct answers at every `step`-th row address and
/// the byte after it; returns how many addresses were compared and how many
/// had inline frames.
fn compare(name: &str, binary: &[u8], debug: &[u8], step: usize) -> (usize, usize) {
    let mut dso = direct(binary, debug);
    let id = dso.elf().build_id.clone().unwrap_or_else(|| vec![0xee; 20]);
    let bytes = symcache::build(&id, dso.elf(), dso.dwarf()).expect("cache entry");
    let view = SymbolCacheView::parse(&bytes).expect("a valid entry");
    assert!(view.has_dwarf());
    let dir = scratch("symcache-diff");
    let cache = SymbolCache::new(dir.path().to_path_buf());
    cache.write(&id, true, &bytes).expect("write entry");
    let mut cached = cache.open(&id, true, || false).expect("mapped entry");
    let rows = row_addresses(debug);
    assert!(rows.len() > 20, "{name}: {} rows", rows.len());
    let opts = [
        DemangleOptions::default(),
        DemangleOptions {
            disabled: true,
            ..DemangleOptions::default()
        },
    ];
    let (mut compared, mut inlined) = (0, 0);
    for (i, &row) in rows.iter().enumerate().step_by(step) {
        for address in [row, row + 1] {
            let opt = opts[i % 2];
            let want = dso.resolve_address(address, opt);
            let got = cached.resolve_address(address, opt);
            assert_eq!(got, want, "{name}: {address:#x}: cached vs direct");
            let dwarf = dso.dwarf().expect("DWARF");
            assert_eq!(
                view.frames(address, opt),
                dwarf.frames(address, opt),
                "{name}: {address:#x}: DWARF frames"
            );
            if want.is_empty() || dwarf.frames(address, opt).is_empty() {
                assert_eq!(view.location(address), dwarf.location(address));
            }
            compared += 1;
            inlined += usize::from(want.len() > 1);
        }
    }
    eprintln!(
        "{name}: {} rows, {compared} addresses compared, {inlined} with inline frames, \
         entry {} KiB, {} ranges",
        rows.len(),
        bytes.len() / 1024,
        view.range_count()
    );
    (compared, inlined)
}

#[test]
fn gcc_o2_inlining_matches() {
    if !tools::available("gcc", "gcc") {
        return;
    }
    let dir = scratch("symcache-gcc");
    let src = r#"
#include <stdio.h>
#include <stdlib.h>
static inline int sq(int x) { return x * x; }
static inline int add_sq(int a, int b) { return sq(a) + sq(b); }
static inline __attribute__((always_inline)) int deep(int n) {
    int s = 0;
    for (int i = 0; i < n; i++) s += add_sq(i, n - i) % 7;
    return s;
}
static int helper(int n) { return deep(n) + deep(n / 2); }
int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 10;
    printf("%d\n", helper(n) + deep(n + 1));
    return 0;
}
"#;
    let exe = cc::compile_c(dir.path(), "inl", src, &["-O2", "-g", "-Wl,--build-id"]);
    let bytes = std::fs::read(&exe).expect("read");
    let (_, inlined) = compare("gcc -O2", &bytes, &bytes, 1);
    assert!(inlined > 0, "the C program has inline frames");
}

#[test]
fn this_rust_test_binary_matches() {
    let exe = std::env::current_exe().expect("current exe");
    let bytes = std::fs::read(&exe).expect("read self");
    let (compared, inlined) = compare("test binary", &bytes, &bytes, 97);
    assert!(compared > 1000 && inlined > 0, "{compared} {inlined}");
}

#[test]
fn libc_through_its_debug_file_matches() {
    let libc = Path::new("/lib/x86_64-linux-gnu/libc.so.6");
    if !tools::installed(libc, "libc6") {
        return;
    }
    let binary = std::fs::read(libc).expect("read libc");
    let id = ElfSymbols::parse(&binary)
        .expect("libc")
        .build_id
        .expect("libc has a build id");
    let h = hex(&id);
    let debug = Path::new("/usr/lib/debug/.build-id")
        .join(&h[..2])
        .join(format!("{}.debug", &h[2..]));
    if !tools::installed(&debug, "libc6-dbg") {
        return;
    }
    let debug = std::fs::read(&debug).expect("read libc's debug file");
    let (_, inlined) = compare("libc", &binary, &debug, 13);
    assert!(inlined > 0, "libc has inline frames");
}

/// The symbolizer with a cache directory: the first load writes the entry,
/// the second answers from it (while the recorded build is still there), a
/// damaged entry is ignored and rewritten, and `None` writes nothing.
#[test]
fn symbolizer_writes_then_maps_entries() {
    if !tools::available("gcc", "gcc") {
        return;
    }
    let dir = scratch("symcache-symbolizer");
    let src = "static inline int f(int x) { return x * 3; }\n\
               int main(int c, char **v) { (void)v; return f(c) + f(c + 1); }\n";
    let exe = cc::compile_c(dir.path(), "prog", src, &["-O2", "-g", "-Wl,--build-id"]);
    let id = ElfSymbols::parse(&std::fs::read(&exe).expect("read"))
        .expect("ELF")
        .build_id
        .expect("build id");
    let cache_dir = dir.path().join("symbols");
    let config = |cache: Option<&Path>| SymbolizerConfig {
        debug_roots: vec![],
        kallsyms: None,
        perf_map_dir: None,
        symbol_cache: cache.map(Path::to_path_buf),
        ..SymbolizerConfig::default()
    };
    let path = exe.to_str().expect("utf-8 path");
    let offsets: Vec<u64> = (0x1000..0x1200).step_by(3).collect();
    let resolve = |s: &mut Symbolizer, p: &str| -> Vec<_> {
        offsets
            .iter()
            .map(|&o| s.symbolize_file_offset(p, Some(&id), o))
            .collect()
    };
    let want = resolve(&mut Symbolizer::new(config(None)), path);
    assert!(want.iter().any(|f| !f.is_empty()), "the program resolves");
    assert!(!cache_dir.exists(), "no cache configured: nothing written");

    let cold = resolve(&mut Symbolizer::new(config(Some(&cache_dir))), path);
    assert_eq!(cold, want, "cold, through the new entry");
    let entries = symcache::store::entries(&cache_dir);
    assert_eq!(entries.len(), 1, "{entries:?}");
    let entry = SymbolCache::new(cache_dir.clone()).entry_path(&id, true);
    assert_eq!(entries[0], entry);

    let warm = resolve(&mut Symbolizer::new(config(Some(&cache_dir))), path);
    assert_eq!(warm, want, "warm, from the entry");

    // The warm load answers from the entry, not the files: an entry of the
    // same build without DWARF (planted here) gives frames without lines.
    let elf = ElfSymbols::parse(&std::fs::read(&exe).expect("read")).expect("ELF");
    let planted = symcache::build(&id, &elf, None).expect("entry");
    std::fs::write(&entry, &planted).expect("plant");
    let from_entry = resolve(&mut Symbolizer::new(config(Some(&cache_dir))), path);
    assert!(from_entry.iter().flatten().all(|f| f.line.is_none()));
    assert!(want.iter().flatten().any(|f| f.line.is_some()));

    // Not while the recorded build is gone: the report says what it says
    // without the cache (unresolved, with a warning).
    let moved = dir.path().join("moved-away");
    std::fs::rename(&exe, &moved).expect("move the binary away");
    let mut s = Symbolizer::new(config(Some(&cache_dir)));
    assert!(resolve(&mut s, path).iter().all(Vec::is_empty));
    assert!(!s.warnings().is_empty());
    std::fs::rename(&moved, &exe).expect("put the binary back");

    // A damaged entry is not trusted: the load goes to the ELF file and
    // replaces the entry.
    let mut bytes = std::fs::read(&entry).expect("entry");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    std::fs::write(&entry, &bytes).expect("damage the entry");
    let again = resolve(&mut Symbolizer::new(config(Some(&cache_dir))), path);
    assert_eq!(again, want);
    let fixed = std::fs::read(&entry).expect("entry");
    assert!(
        SymbolCacheView::parse(&fixed).is_ok(),
        "the entry was rewritten"
    );
    assert!(SymbolCacheView::parse(&bytes).is_err());
}

/// The kallsyms form answers as the parsed text: at every code symbol of
/// the running kernel, the byte before, and the span's edge.
#[test]
fn kallsyms_entry_matches_the_text() {
    let text = std::fs::read_to_string("/proc/kallsyms").expect("read /proc/kallsyms");
    let parsed = lwprof_symbols::KernelSymbols::parse(&text);
    if parsed.is_hidden() {
        eprintln!("SKIP: kernel addresses are hidden (kptr_restrict)");
        return;
    }
    let dir = scratch("symcache-kallsyms");
    let cache = SymbolCache::new(dir.path().to_path_buf());
    let key = "kallsyms-test-key";
    let mapped = cache.store_kernel(key, &parsed).expect("kallsyms entry");
    assert!(cache.open_kernel("kallsyms-other-key").is_none());
    let mut compared = 0;
    for s in parsed.symbols() {
        for a in [
            s.address,
            s.address - 1,
            s.address + 1,
            s.address + (1 << 20),
        ] {
            let want = parsed
                .lookup(a)
                .map(|k| (k.address, k.name.clone(), k.module.clone()));
            assert_eq!(mapped.lookup(a), want, "{a:#x}");
            compared += 1;
        }
    }
    assert!(compared > 1000, "{compared}");
}
