//! The symbolizer and the debuginfod cache (elfutils' layout, read only):
//! `missing_files` tells what a stripped or vanished binary lacks, and once
//! `CACHE/HEX/debuginfo` or `CACHE/HEX/executable` is there, the function
//! is named from it; a cached file of another build, or an empty
//! negative-cache entry, is not used.

use lwprof_symbols::{ElfSymbols, MissingFiles, Symbolizer, SymbolizerConfig};
use lwprof_testkit::debuginfod::{stripped_program, StrippedProgram};
use lwprof_testkit::{busy_c, scratch};
use std::path::Path;

fn unhex(h: &str) -> Vec<u8> {
    (0..h.len() / 2)
        .map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).expect("hex build id"))
        .collect()
}

fn symbolizer(cache: &Path) -> Symbolizer {
    Symbolizer::new(SymbolizerConfig {
        debug_roots: vec![],
        kallsyms: None,
        perf_map_dir: None,
        build_id_cache: None,
        debuginfod_cache: Some(cache.to_path_buf()),
        ..SymbolizerConfig::default()
    })
}

/// The file offset of `name`'s first instruction in the binary, from the
/// symbol table of its debug file and the binary's load segments.
fn file_offset_of(prog: &StrippedProgram, name: &str) -> u64 {
    let debug = ElfSymbols::parse(&std::fs::read(&prog.debug).expect("debug file")).expect("elf");
    let address = debug
        .symbols()
        .iter()
        .find(|s| s.name == name)
        .map(|s| s.address)
        .expect("the debug file names it");
    let binary = ElfSymbols::parse(&std::fs::read(&prog.binary).expect("binary")).expect("elf");
    let seg = binary
        .segments
        .iter()
        .find(|s| (s.address..s.address + s.file_size).contains(&address))
        .expect("a load segment holds it");
    address - seg.address + seg.file_offset
}

fn names(s: &mut Symbolizer, path: &Path, id: &[u8], offset: u64) -> Vec<String> {
    let path = path.to_str().expect("utf-8 path");
    s.symbolize_file_offset(path, Some(id), offset)
        .into_iter()
        .map(|f| f.function)
        .collect()
}

fn put(cache: &Path, hex: &str, artifact: &str, from: &Path) {
    let dir = cache.join(hex);
    std::fs::create_dir_all(&dir).expect("cache dir");
    std::fs::copy(from, dir.join(artifact)).expect("copy into the cache");
}

#[test]
fn a_stripped_binary_lacks_its_debug_file_until_the_cache_has_it() {
    let dir = scratch("sym-debuginfod-debuginfo");
    let d = dir.path();
    let prog = stripped_program(d, "prog", &busy_c("cached_hot", "cached_side"), &["-O1"]);
    let id = unhex(&prog.build_id);
    let offset = file_offset_of(&prog, "cached_hot");
    let cache = d.join("cache");
    let path = prog.binary.to_str().expect("utf-8");

    let s = symbolizer(&cache);
    assert_eq!(
        s.missing_files(path, &id),
        MissingFiles {
            executable: false,
            debuginfo: true
        }
    );
    // An empty negative-cache entry is not a debug file.
    std::fs::create_dir_all(cache.join(&prog.build_id)).expect("dir");
    std::fs::write(cache.join(&prog.build_id).join("debuginfo"), b"").expect("miss");
    assert!(s.missing_files(path, &id).debuginfo);
    assert!(!names(&mut symbolizer(&cache), &prog.binary, &id, offset)
        .contains(&"cached_hot".to_string()));

    // Another build's debug file in the slot is rejected.
    let other = stripped_program(d, "other", &busy_c("other_hot", "other_side"), &["-O1"]);
    std::fs::remove_file(cache.join(&prog.build_id).join("debuginfo")).expect("rm");
    put(&cache, &prog.build_id, "debuginfo", &other.debug);
    assert!(s.missing_files(path, &id).debuginfo);
    let mut fresh = symbolizer(&cache);
    assert!(!names(&mut fresh, &prog.binary, &id, offset).contains(&"cached_hot".to_string()));
    assert!(
        !fresh.warnings().is_empty(),
        "the mismatched debug file was not reported"
    );

    std::fs::remove_file(cache.join(&prog.build_id).join("debuginfo")).expect("rm");
    put(&cache, &prog.build_id, "debuginfo", &prog.debug);
    assert!(!s.missing_files(path, &id).any());
    assert_eq!(
        names(&mut symbolizer(&cache), &prog.binary, &id, offset),
        ["cached_hot"]
    );
}

#[test]
fn a_vanished_binary_is_read_from_the_cached_executable() {
    let dir = scratch("sym-debuginfod-executable");
    let d = dir.path();
    // Not stripped: the executable alone names its functions.
    let exe = lwprof_testkit::compile_c(d, "gone", &busy_c("gone_hot", "gone_side"), &["-O1"]);
    let id = lwprof_symbols::read_build_id(&exe).expect("build id");
    let bytes = std::fs::read(&exe).expect("read");
    let elf = ElfSymbols::parse(&bytes).expect("elf");
    let address = elf
        .symbols()
        .iter()
        .find(|s| s.name == "gone_hot")
        .map(|s| s.address)
        .expect("symbol");
    let seg = elf
        .segments
        .iter()
        .find(|s| (s.address..s.address + s.file_size).contains(&address))
        .expect("segment");
    let offset = address - seg.address + seg.file_offset;
    let cache = d.join("cache");
    let saved = d.join("saved");
    std::fs::rename(&exe, &saved).expect("move the binary away");
    let path = exe.to_str().expect("utf-8");

    let missing = symbolizer(&cache).missing_files(path, &id);
    assert!(missing.executable && missing.debuginfo, "{missing:?}");
    assert!(names(&mut symbolizer(&cache), &exe, &id, offset).is_empty());

    put(&cache, &lwprof_symbols::hex(&id), "executable", &saved);
    assert!(!symbolizer(&cache).missing_files(path, &id).any());
    assert_eq!(
        names(&mut symbolizer(&cache), &exe, &id, offset),
        ["gone_hot"]
    );
}
