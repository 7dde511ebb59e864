//! MiniDebugInfo: a stripped C program with a Fedora-style `.gnu_debugdata`
//! section has its static (local) functions named through the symbolizer;
//! the same stripped program without the section has them unnamed.

use std::path::Path;

use lwprof_symbols::{ElfSymbols, SymbolWarning, Symbolizer, SymbolizerConfig};
use lwprof_testkit::{cc, scratch, tools};

const SOURCE: &str = r#"
volatile unsigned long sink;
static __attribute__((noinline)) void local_hot_function(unsigned long n) {
    for (unsigned long i = 0; i < n; i++) sink = sink * 3 + i;
}
static __attribute__((noinline)) void local_cold_function(void) { sink += 7; }
int main(int argc, char **argv) {
    local_hot_function(argc * 1000UL);
    local_cold_function();
    return 0;
}
"#;

fn config() -> SymbolizerConfig {
    SymbolizerConfig {
        kallsyms: None,
        perf_map_dir: None,
        debug_roots: vec![],
        build_id_cache: None,
        ..SymbolizerConfig::default()
    }
}

/// The file offset of a linked address, through the `PT_LOAD` that maps it.
fn file_offset(elf: &ElfSymbols, address: u64) -> u64 {
    elf.segments
        .iter()
        .find(|s| address >= s.address && address - s.address < s.file_size)
        .map(|s| address - s.address + s.file_offset)
        .expect("a segment maps the address")
}

fn function_at(path: &Path, offset: u64) -> (Option<String>, Vec<SymbolWarning>) {
    let mut s = Symbolizer::new(config());
    let frames = s.symbolize_file_offset(path.to_str().expect("utf-8 path"), None, offset);
    (
        frames.last().map(|f| f.function.clone()),
        s.warnings().to_vec(),
    )
}

#[test]
fn static_functions_are_named_from_gnu_debugdata() {
    if !tools::available("xz", "xz-utils") {
        return;
    }
    let dir = scratch("minidebuginfo");
    let d = dir.path();
    let exe = cc::compile_c(d, "prog", SOURCE, &["-O2", "-g"]);
    let full = ElfSymbols::parse(&std::fs::read(&exe).expect("read prog")).expect("elf");
    let mdi = d.join("prog.mdi");
    cc::strip_with_minidebuginfo(&exe, &mdi);
    let stripped = d.join("prog.stripped");
    lwprof_testkit::run::run(
        std::process::Command::new("objcopy")
            .arg("--strip-all")
            .arg(&exe)
            .arg(&stripped),
    );
    let mdi_elf = ElfSymbols::parse(&std::fs::read(&mdi).expect("read mdi")).expect("elf");
    assert!(!mdi_elf.has_symtab && !mdi_elf.has_debug_info, "stripped");

    for name in ["local_hot_function", "local_cold_function", "main"] {
        let sym = full
            .symbols()
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("{name} in the unstripped .symtab"));
        assert!(sym.size > 1, "{name} has a size");
        let offset = file_offset(&mdi_elf, sym.address + 1);
        let (with, warnings) = function_at(&mdi, offset);
        assert_eq!(with.as_deref(), Some(name), "with .gnu_debugdata");
        assert!(warnings.is_empty(), "{warnings:?}");
        let (without, _) = function_at(&stripped, offset);
        assert_ne!(
            without.as_deref(),
            Some(name),
            "without .gnu_debugdata, {name} is not named"
        );
    }
}

#[test]
fn a_damaged_gnu_debugdata_is_one_warning_naming_the_binary() {
    let dir = scratch("minidebuginfo-bad");
    let d = dir.path();
    let exe = cc::compile_c(d, "prog", SOURCE, &["-O2"]);
    let junk = d.join("junk.xz");
    std::fs::write(&junk, b"\xfd7zXZ\0 this is not xz").expect("write junk");
    let bad = d.join("prog.bad");
    lwprof_testkit::run::run(
        std::process::Command::new("objcopy")
            .arg("--strip-all")
            .arg(format!("--add-section=.gnu_debugdata={}", junk.display()))
            .arg(&exe)
            .arg(&bad),
    );
    let mut s = Symbolizer::new(config());
    let path = bad.to_str().expect("utf-8 path");
    s.symbolize_file_offset(path, None, 0x1000);
    s.symbolize_file_offset(path, None, 0x1010);
    assert_eq!(s.warnings().len(), 1, "{:?}", s.warnings());
    let w = s.warnings()[0].to_string();
    assert!(
        matches!(s.warnings()[0], SymbolWarning::BadMiniDebugInfo { .. }),
        "{w}"
    );
    assert!(w.starts_with(path) && w.contains("not valid xz"), "{w}");
}
