//! `[vdso]` frames through the [`Symbolizer`]: the build-id cache's image
//! of the recorded build, else the running kernel's when it is that build.

use lwprof_symbols::buildid_cache::Added;
use lwprof_symbols::vdso::{self, VDSO_CACHE_FILE, VDSO_NAME};
use lwprof_symbols::{BuildIdCache, ElfSymbols, SymbolWarning, Symbolizer, SymbolizerConfig};
use std::path::Path;

fn symbolizer(cache: &Path) -> Symbolizer {
    Symbolizer::new(SymbolizerConfig {
        debug_roots: vec![],
        kallsyms: None,
        perf_map_dir: None,
        build_id_cache: Some(cache.to_path_buf()),
        ..SymbolizerConfig::default()
    })
}

#[test]
fn vdso_frames_come_from_the_cached_build_or_the_running_one() {
    let running = vdso::read_running(None).expect("a [vdso] in /proc/self/maps");
    let id = running.build_id().expect("a build id").to_vec();
    let elf = ElfSymbols::parse(running.bytes()).expect("ELF");
    let sym = elf
        .symbols()
        .iter()
        .find(|s| s.name.ends_with("clock_gettime"))
        .expect("clock_gettime")
        .clone();
    let dir = tempfile::tempdir().expect("tempdir");

    // The running image, by its build id, with an empty cache.
    let mut s = symbolizer(&dir.path().join("empty"));
    let frames = s.symbolize_vdso(Some(&id), sym.address + 1);
    assert_eq!(
        frames.first().map(|f| f.function.as_str()),
        Some(sym.name.as_str())
    );
    assert_eq!(frames[0].symbol_offset, Some(1));

    // Another build (the same code under another id): only from the cache.
    let mut other_id = id.clone();
    other_id[0] ^= 0xff;
    let mut image = running.bytes().to_vec();
    let at = image
        .windows(id.len())
        .position(|w| w == id)
        .expect("the build id note in the image");
    image[at..at + id.len()].copy_from_slice(&other_id);
    assert_eq!(
        vdso::VdsoImage::parse(image.clone())
            .ok()
            .and_then(|v| v.build_id().map(<[u8]>::to_vec)),
        Some(other_id.clone())
    );
    let mut s = symbolizer(&dir.path().join("empty"));
    assert!(s.symbolize_vdso(Some(&other_id), sym.address).is_empty());
    assert!(
        matches!(s.warnings(), [SymbolWarning::Unreadable { path, .. }] if path == Path::new(VDSO_NAME)),
        "{:?}",
        s.warnings()
    );
    let cache = BuildIdCache::new(dir.path().join("cache"));
    let added = cache.add_from(
        Path::new(VDSO_NAME),
        VDSO_CACHE_FILE,
        &mut &image[..],
        &other_id,
    );
    assert_eq!(added.expect("add"), Added::Copied);
    let mut s = symbolizer(cache.root());
    let frames = s.symbolize_vdso(Some(&other_id), sym.address);
    assert_eq!(
        frames.first().map(|f| f.function.as_str()),
        Some(sym.name.as_str())
    );
    assert!(s.warnings().is_empty(), "{:?}", s.warnings());
}
