//! Split DWARF: a `-gsplit-dwarf -O2` C program of two files resolves, at
//! every address of its functions, to the same frames (inline frames,
//! source files and lines) as the same program built without split DWARF,
//! with its `.dwo` files where gcc left them, next to the binary, or
//! packaged by `dwp` into `BINARY.dwp` (DWARF 5 `.dwo` files, DWARF 4 in
//! the package). Without them: one warning naming the
//! DSO and the `.dwo` looked for, and names still from `.symtab`.

use std::path::{Path, PathBuf};
use std::process::Command;

use lwprof_symbols::{ElfSymbols, ResolvedFrame, SymbolWarning, Symbolizer, SymbolizerConfig};
use lwprof_testkit::{run, scratch, tools};

const MAIN_C: &str = r#"
extern unsigned long churn(unsigned long n);
static inline unsigned long twice(unsigned long x) { return churn(x) + churn(x + 1); }
int main(int argc, char **argv) {
    unsigned long t = 0;
    for (int i = 0; i < argc * 3; i++) t += twice(i);
    return (int)(t & 1);
}
"#;

const CHURN_C: &str = r#"
volatile unsigned long sink;
static inline unsigned long mix(unsigned long x) { return x * 6364136223846793005UL + 1442695040888963407UL; }
static inline unsigned long fold(unsigned long x) { return mix(x) ^ (mix(x) >> 17); }
__attribute__((noinline)) unsigned long churn(unsigned long n) {
    unsigned long acc = 0;
    for (unsigned long i = 0; i < n; i++) { acc += fold(acc + i); sink = acc; }
    return acc;
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

/// Builds the program `dir/NAME` with `flags` (`main.c` and `churn.c`
/// compiled and linked by one gcc command, as a build does it).
fn build(dir: &Path, name: &str, flags: &[&str]) -> PathBuf {
    std::fs::create_dir_all(dir).expect("mkdir");
    std::fs::write(dir.join("main.c"), MAIN_C).expect("write main.c");
    std::fs::write(dir.join("churn.c"), CHURN_C).expect("write churn.c");
    run(Command::new("cc")
        .current_dir(dir)
        .args(["-O2", "-g"])
        .args(flags)
        .args(["-o", name, "main.c", "churn.c"]));
    dir.join(name)
}

/// The `.dwo` files in `dir`.
fn dwo_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "dwo"))
        .collect();
    v.sort();
    v
}

/// The file offsets of every byte of the program's own functions (those
/// the C files define), and of `main`'s caller-side code.
fn code_offsets(exe: &Path) -> Vec<u64> {
    let elf = ElfSymbols::parse(&std::fs::read(exe).expect("read")).expect("elf");
    let mut offsets = Vec::new();
    for s in elf
        .symbols()
        .iter()
        .filter(|s| ["main", "churn"].contains(&s.name.as_str()) || s.name.starts_with("churn."))
    {
        for address in s.address..s.address + s.size {
            let seg = elf
                .segments
                .iter()
                .find(|g| address >= g.address && address - g.address < g.file_size)
                .expect("a segment maps the code");
            offsets.push(address - seg.address + seg.file_offset);
        }
    }
    assert!(offsets.len() > 50, "the functions have code: {offsets:?}");
    offsets
}

/// The frames at each offset, and the warnings.
fn frames(exe: &Path, offsets: &[u64]) -> (Vec<Vec<ResolvedFrame>>, Vec<SymbolWarning>) {
    let mut s = Symbolizer::new(config());
    let path = exe.to_str().expect("utf-8 path");
    let frames = offsets
        .iter()
        .map(|&o| s.symbolize_file_offset(path, None, o))
        .collect();
    (frames, s.warnings().to_vec())
}

struct Builds {
    _dir: lwprof_testkit::TempDir,
    root: PathBuf,
    /// The DWARF version flag both builds use.
    version: &'static str,
    offsets: Vec<u64>,
    expected: Vec<Vec<ResolvedFrame>>,
}

/// The program built without split DWARF (the reference frames) in
/// `ROOT/src`, where the split build goes too (so that source paths are the
/// same).
fn reference(name: &str, version: &'static str) -> Builds {
    let dir = scratch(name);
    let root = dir.path().to_path_buf();
    let plain = build(&root.join("src"), "plain", &[version]);
    let offsets = code_offsets(&plain);
    let (expected, warnings) = frames(&plain, &offsets);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(
        expected.iter().any(|f| f.len() >= 3 && f[0].inlined),
        "the reference has inline frames two deep"
    );
    assert!(expected
        .iter()
        .flatten()
        .all(|f| f.line.is_some() || f.function.starts_with("0x")));
    Builds {
        _dir: dir,
        root,
        version,
        offsets,
        expected,
    }
}

fn split_build(b: &Builds) -> PathBuf {
    let exe = build(&b.root.join("src"), "prog", &[b.version, "-gsplit-dwarf"]);
    assert_eq!(
        code_offsets(&exe),
        b.offsets,
        "the same code at the same offsets"
    );
    assert_eq!(dwo_files(&b.root.join("src")).len(), 2, "two .dwo files");
    exe
}

fn assert_same_frames(b: &Builds, exe: &Path) {
    let (got, warnings) = frames(exe, &b.offsets);
    assert!(warnings.is_empty(), "{warnings:?}");
    for ((offset, want), got) in b.offsets.iter().zip(&b.expected).zip(&got) {
        assert_eq!(got, want, "at file offset {offset:#x}");
    }
}

#[test]
fn dwo_files_in_the_compilation_directory_and_next_to_the_binary() {
    let b = reference("split-dwo", "-gdwarf-5");
    let exe = split_build(&b);
    assert_same_frames(&b, &exe);

    // Moved away from DW_AT_comp_dir with the binary: found next to it.
    let moved = b.root.join("moved");
    std::fs::create_dir_all(&moved).expect("mkdir");
    for f in dwo_files(&b.root.join("src")).into_iter().chain([exe]) {
        let to = moved.join(f.file_name().expect("file name"));
        std::fs::rename(&f, &to).expect("move");
    }
    assert_same_frames(&b, &moved.join("prog"));
}

#[test]
fn a_dwp_package_next_to_the_binary() {
    if !tools::available("dwp", "binutils") {
        return;
    }
    // binutils 2.40's dwp packs only DWARF 4 (GNU) split units: it crashes
    // on gcc 12's DWARF 5 ones.
    let b = reference("split-dwp", "-gdwarf-4");
    let exe = split_build(&b);
    run(Command::new("dwp")
        .current_dir(b.root.join("src"))
        .args(["-e", "prog", "-o", "prog.dwp"]));
    for f in dwo_files(&b.root.join("src")) {
        std::fs::remove_file(f).expect("remove .dwo");
    }
    assert_same_frames(&b, &exe);
}

#[test]
fn a_missing_dwo_is_one_warning_and_names_come_from_the_symbol_table() {
    let b = reference("split-missing", "-gdwarf-5");
    let exe = split_build(&b);
    let dir = b.root.join("src");
    let churn_dwo = dwo_files(&dir)
        .into_iter()
        .find(|p| p.to_string_lossy().contains("churn"))
        .expect("churn's .dwo");
    std::fs::remove_file(&churn_dwo).expect("remove .dwo");
    let (got, warnings) = frames(&exe, &b.offsets);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let SymbolWarning::SplitDwarfMissing { path, dwo, .. } = &warnings[0] else {
        panic!("{:?}", warnings[0]);
    };
    assert_eq!(path, &exe);
    assert_eq!(dwo, &churn_dwo);
    let text = warnings[0].to_string();
    assert!(
        text.contains(&*exe.to_string_lossy()) && text.contains(&*churn_dwo.to_string_lossy()),
        "{text}"
    );
    assert!(text.contains("No such file"), "{text}");
    for ((offset, want), got) in b.offsets.iter().zip(&b.expected).zip(&got) {
        let outer = |f: &[ResolvedFrame]| f.last().map(|f| f.function.clone());
        assert_eq!(outer(got), outer(want), "at file offset {offset:#x}");
        if outer(want).as_deref() == Some("main") {
            // main's unit still has its .dwo: all of its frames.
            assert_eq!(got, want, "at file offset {offset:#x}");
        } else {
            // churn's: no inline frames, the skeleton's line table.
            assert_eq!(got.len(), 1, "at file offset {offset:#x}: {got:?}");
        }
    }
}
