//! Symbolization of real ELF files: a small C program (tests/data/inline.c)
//! is compiled with `cc -O2 -g`, run, and prints the addresses of its own
//! functions with the /proc/self/maps line that holds them. The test turns
//! them into file offsets like a profiler does and checks names, inline
//! frames and source lines (found by markers in the C source), and the
//! separate-debug-file rules (build-id tree, debuglink, mismatches).

use lwprof_profile::SymbolizeProfile;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use lwprof_testkit::{compile_c_file, run, scratch};

use lwprof_profile::model::{
    FrameAddress, FrameMode, MappingInput, ProfileBuilder, SampleInput, SampleKind,
};
use lwprof_symbols::{hex, ElfSymbols, SymbolWarning, Symbolizer, SymbolizerConfig};

const SOURCE: &str = include_str!("data/inline.c");

fn source_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/inline.c")
}

fn marker_line(marker: &str) -> u32 {
    let i = SOURCE
        .lines()
        .position(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("marker {marker} not in inline.c"));
    i as u32 + 1
}

fn compile(dir: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let exe = dir.join(name);
    let mut flags = vec!["-O2", "-g", "-fno-omit-frame-pointer"];
    flags.extend_from_slice(extra);
    compile_c_file(&source_path(), &exe, &flags);
    exe
}

#[derive(Debug, Clone)]
struct Probe {
    addr: u64,
    start: u64,
    end: u64,
    pgoff: u64,
    path: String,
}

impl Probe {
    fn file_offset(&self) -> u64 {
        self.addr - self.start + self.pgoff
    }
}

fn probes(exe: &Path) -> HashMap<String, Probe> {
    let out = Command::new(exe).output().expect("run test program");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut map = HashMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(f.len(), 6, "bad probe line {line:?}");
        let h = |s: &str| u64::from_str_radix(s, 16).expect("hex");
        map.insert(
            f[0].to_string(),
            Probe {
                addr: h(f[1]),
                start: h(f[2]),
                end: h(f[3]),
                pgoff: h(f[4]),
                path: f[5].to_string(),
            },
        );
    }
    for k in ["outer", "plain", "inline_ret", "libc_fopen"] {
        assert!(map.contains_key(k), "missing probe {k} in {text}");
    }
    map
}

fn config(roots: Vec<PathBuf>) -> SymbolizerConfig {
    SymbolizerConfig {
        debug_roots: roots,
        kallsyms: None,
        perf_map_dir: None,
        ..SymbolizerConfig::default()
    }
}

fn names(frames: &[lwprof_profile::model::ResolvedFrame]) -> Vec<&str> {
    frames.iter().map(|f| f.function.as_str()).collect()
}

#[test]
fn pie_functions_resolve_by_symtab_and_dwarf() {
    let dir = scratch("elf");
    let exe = compile(dir.path(), "prog", &[]);
    let p = probes(&exe);
    let mut s = Symbolizer::new(config(vec![]));

    let plain = &p["plain"];
    assert_ne!(
        plain.pgoff, 0,
        "a PIE's text is mapped at a non-zero offset"
    );
    let frames = s.symbolize_file_offset(&plain.path, None, plain.file_offset());
    assert_eq!(names(&frames), ["lwprof_plain"]);
    assert_eq!(frames[0].line, Some(marker_line("MARK_PLAIN_BODY")));
    assert!(frames[0]
        .file
        .as_deref()
        .is_some_and(|f| f.ends_with("inline.c")));

    let outer = &p["outer"];
    let frames = s.symbolize_file_offset(&outer.path, None, outer.file_offset());
    assert_eq!(
        frames.last().map(|f| f.function.as_str()),
        Some("lwprof_outer")
    );

    // Symbol table only: same names, no lines.
    let mut no_dwarf = Symbolizer::new(SymbolizerConfig {
        dwarf: false,
        ..config(vec![])
    });
    let frames = no_dwarf.symbolize_file_offset(&plain.path, None, plain.file_offset() + 1);
    assert_eq!(names(&frames), ["lwprof_plain"]);
    assert_eq!(frames[0].line, None);
    assert!(s.warnings().is_empty(), "{:?}", s.warnings());
}

#[test]
fn shared_object_symbol_from_dynsym() {
    let dir = scratch("elf");
    let exe = compile(dir.path(), "prog", &[]);
    let p = probes(&exe);
    let fopen = &p["libc_fopen"];
    assert!(fopen.path.contains("libc"), "{fopen:?}");
    let mut s = Symbolizer::new(config(vec![]));
    let frames = s.symbolize_file_offset(&fopen.path, None, fopen.file_offset());
    let name = frames.last().map(|f| f.function.as_str()).unwrap_or("");
    assert!(name.contains("fopen"), "libc address resolved to {name:?}");
}

#[test]
fn inline_frames_have_file_and_line() {
    let dir = scratch("elf");
    let exe = compile(dir.path(), "prog", &[]);
    let p = probes(&exe);
    let ret = &p["inline_ret"];
    assert!(ret.addr < ret.end);
    let mut s = Symbolizer::new(config(vec![]));
    // A return address: look up the call instruction (address - 1).
    let frames = s.symbolize_file_offset(&ret.path, None, ret.file_offset() - 1);
    assert_eq!(names(&frames), ["lwprof_inner", "lwprof_outer"]);
    assert!(frames[0].inlined && !frames[1].inlined);
    assert_eq!(frames[0].line, Some(marker_line("MARK_INNER_CALL")));
    assert_eq!(frames[1].line, Some(marker_line("MARK_OUTER_CALL")));
}

#[test]
fn profile_end_to_end_with_inline_and_no_inline() {
    let dir = scratch("elf");
    let exe = compile(dir.path(), "prog", &[]);
    let p = probes(&exe);
    let mut b = ProfileBuilder::new();
    let ev = b.add_event("cpu-clock");
    b.comm(77, 77, 0, b"prog", true);
    let mut mapped = Vec::new();
    for probe in p.values() {
        let key = (probe.start, probe.path.clone());
        if mapped.contains(&key) {
            continue;
        }
        mapped.push(key);
        b.mmap(&MappingInput {
            pid: 77,
            time: 1,
            start: probe.start,
            len: probe.end - probe.start,
            pgoff: probe.pgoff,
            path: probe.path.as_bytes(),
            build_id: None,
            mode: FrameMode::User,
        });
    }
    let chain = [
        FrameAddress::ip(p["plain"].addr, FrameMode::User),
        FrameAddress::return_address(p["inline_ret"].addr, FrameMode::User),
    ];
    b.sample(&SampleInput {
        pid: 77,
        tid: 77,
        time: 2,
        cpu: 0,
        event: ev,
        weight: 1,
        kind: SampleKind::OnCpu,
        callchain: &chain,
    });
    let mut profile = b.finish();
    let unresolved: Vec<_> = profile
        .stack_frames(profile.samples()[0].stack, true)
        .map(|f| profile.frame(f.frame).resolved)
        .collect();
    assert_eq!(unresolved, [false, false]);

    let mut s = Symbolizer::new(config(vec![]));
    s.symbolize_profile(&mut profile);
    let stack = profile.samples()[0].stack;
    let with: Vec<_> = profile
        .stack_frames(stack, true)
        .map(|f| profile.frame_function(f.frame).to_string())
        .collect();
    assert_eq!(with, ["lwprof_plain", "lwprof_inner", "lwprof_outer"]);
    let without: Vec<_> = profile
        .stack_frames(stack, false)
        .map(|f| profile.frame_function(f.frame).to_string())
        .collect();
    assert_eq!(without, ["lwprof_plain", "lwprof_outer"]);
    let dso = profile
        .stack_frames(stack, true)
        .next()
        .and_then(|f| profile.frame(f.frame).dso)
        .map(|d| profile.dso(d).short_name().to_string());
    assert_eq!(dso.as_deref(), Some("prog"));
}

/// `objcopy --only-keep-debug` and a stripped copy with a debuglink.
fn split_debug(dir: &Path, exe: &Path) -> (PathBuf, PathBuf) {
    let debug_dir = dir.join("debug-out");
    std::fs::create_dir_all(&debug_dir).expect("mkdir");
    let debug = debug_dir.join("prog.debug");
    run(Command::new("objcopy")
        .arg("--only-keep-debug")
        .arg(exe)
        .arg(&debug));
    let stripped_dir = dir.join("stripped");
    std::fs::create_dir_all(&stripped_dir).expect("mkdir");
    let stripped = stripped_dir.join("prog");
    run(Command::new("objcopy")
        .arg("--strip-all")
        .arg(format!("--add-gnu-debuglink={}", debug.display()))
        .arg(exe)
        .arg(&stripped));
    (stripped, debug)
}

fn build_id_of(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).expect("read");
    ElfSymbols::parse(&bytes)
        .expect("elf")
        .build_id
        .expect("cc links with a build id")
}

fn place_in_build_id_tree(root: &Path, id: &[u8], debug: &Path) {
    let h = hex(id);
    let dir = root.join(".build-id").join(&h[..2]);
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::copy(debug, dir.join(format!("{}.debug", &h[2..]))).expect("copy");
}

#[test]
fn stripped_binary_uses_the_build_id_tree() {
    let dir = scratch("elf");
    let exe = compile(dir.path(), "prog", &["-Wl,--build-id=sha1"]);
    let p = probes(&exe);
    let (stripped, debug) = split_debug(dir.path(), &exe);
    let id = build_id_of(&exe);
    assert_eq!(build_id_of(&stripped), id);
    let stripped = stripped.to_str().expect("utf-8 path");
    let ret = &p["inline_ret"];

    // Without the debug file, the stripped copy knows nothing of these
    // (non-exported) functions.
    let mut bare = Symbolizer::new(config(vec![]));
    assert!(bare
        .symbolize_file_offset(stripped, None, ret.file_offset() - 1)
        .is_empty());

    let root = dir.path().join("usr-lib-debug");
    place_in_build_id_tree(&root, &id, &debug);
    let mut s = Symbolizer::new(config(vec![root]));
    let frames = s.symbolize_file_offset(stripped, Some(&id), ret.file_offset() - 1);
    assert_eq!(names(&frames), ["lwprof_inner", "lwprof_outer"]);
    assert_eq!(frames[0].line, Some(marker_line("MARK_INNER_CALL")));
    let plain = &p["plain"];
    let frames = s.symbolize_file_offset(stripped, None, plain.file_offset());
    assert_eq!(
        names(&frames),
        ["lwprof_plain"],
        "build id read from the binary"
    );
    assert!(s.warnings().is_empty(), "{:?}", s.warnings());
}

#[test]
fn stripped_binary_uses_its_debuglink() {
    let dir = scratch("elf");
    let exe = compile(dir.path(), "prog", &["-Wl,--build-id=none"]);
    let p = probes(&exe);
    let (stripped, debug) = split_debug(dir.path(), &exe);
    let dot_debug = stripped.parent().expect("dir").join(".debug");
    std::fs::create_dir_all(&dot_debug).expect("mkdir");
    std::fs::copy(&debug, dot_debug.join("prog.debug")).expect("copy");
    let mut s = Symbolizer::new(config(vec![]));
    let plain = &p["plain"];
    let frames =
        s.symbolize_file_offset(stripped.to_str().expect("utf-8"), None, plain.file_offset());
    assert_eq!(names(&frames), ["lwprof_plain"]);
    assert_eq!(frames[0].line, Some(marker_line("MARK_PLAIN_BODY")));

    // A different debug file under the same name fails the CRC check.
    let other = compile(dir.path(), "other", &["-Wl,--build-id=none", "-DVARIANT=7"]);
    let other_debug = dir.path().join("other.debug");
    run(Command::new("objcopy")
        .arg("--only-keep-debug")
        .arg(&other)
        .arg(&other_debug));
    std::fs::copy(&other_debug, dot_debug.join("prog.debug")).expect("copy");
    let mut s = Symbolizer::new(config(vec![]));
    let frames =
        s.symbolize_file_offset(stripped.to_str().expect("utf-8"), None, plain.file_offset());
    assert!(frames.is_empty(), "{frames:?}");
    assert!(
        s.warnings()
            .iter()
            .any(|w| matches!(w, SymbolWarning::DebugLinkCrcMismatch { .. })),
        "{:?}",
        s.warnings()
    );
}

#[test]
fn build_id_mismatch_means_not_used() {
    let dir = scratch("elf");
    let exe = compile(dir.path(), "prog", &["-Wl,--build-id=sha1"]);
    let p = probes(&exe);
    let plain = &p["plain"];
    let id = build_id_of(&exe);

    // The binary on disk is not the one recorded.
    let recorded = vec![0xde; id.len()];
    let mut s = Symbolizer::new(config(vec![]));
    assert!(s
        .symbolize_file_offset(&plain.path, Some(&recorded), plain.file_offset())
        .is_empty());
    match s.warnings() {
        [SymbolWarning::BuildIdMismatch {
            expected, found, ..
        }] => {
            assert_eq!(*expected, hex(&recorded));
            assert_eq!(*found, hex(&id));
        }
        w => panic!("expected one build-id warning, got {w:?}"),
    }

    // A debug file of another build placed under this build id.
    let other = compile(dir.path(), "other", &["-Wl,--build-id=sha1", "-DVARIANT=7"]);
    assert_ne!(build_id_of(&other), id);
    let other_debug = dir.path().join("other.debug");
    run(Command::new("objcopy")
        .arg("--only-keep-debug")
        .arg(&other)
        .arg(&other_debug));
    let (stripped, _) = split_debug(dir.path(), &exe);
    let root = dir.path().join("root");
    place_in_build_id_tree(&root, &id, &other_debug);
    let mut s = Symbolizer::new(config(vec![root]));
    let frames = s.symbolize_file_offset(
        stripped.to_str().expect("utf-8"),
        Some(&id),
        plain.file_offset(),
    );
    assert!(frames.is_empty(), "{frames:?}");
    assert!(s
        .warnings()
        .iter()
        .any(|w| matches!(w, SymbolWarning::BuildIdMismatch { .. })));
}
