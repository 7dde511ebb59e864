//! Function names as perf shows them for a DSO: the names DWARF gives an
//! address (perf's inline frames, outer function included), and perf's
//! choice among aliases at one address (`free`, `cfree@GLIBC_2.2.5`,
//! `__GI___libc_free`...).
//!
//! perf reads the symbol table of the separate debug file when there is
//! one, and keeps one symbol per address: a sized one over an empty one, a
//! non-weak over a weak one, a global over a local one, the one with fewer
//! leading underscores, then the longer name, then the first. This reads
//! the same table to pick the same name. It does not resolve addresses to
//! symbols: the symbolizer did that.

use lwprof_symbols::{debug_file_candidates, DemangleOptions, DwarfInfo, ElfSymbols};
use object::elf::{STB_GLOBAL, STB_WEAK, STT_FUNC, STT_GNU_IFUNC};
use object::read::elf::{ElfFile64, Sym};
use object::{Object, ObjectSymbol};
use rustc_hash::FxHashMap;
use std::path::{Path, PathBuf};

/// One DSO's names.
pub(super) struct DsoNames {
    elf: ElfSymbols,
    /// The file with the DWARF (the debug file, else the binary), parsed
    /// when an inline frame is first asked for.
    dwarf_file: Option<Vec<u8>>,
    dwarf: std::cell::OnceCell<Option<DwarfInfo>>,
    /// perf's name for the symbol starting at each address.
    best: FxHashMap<u64, String>,
}

impl std::fmt::Debug for DsoNames {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DsoNames").finish_non_exhaustive()
    }
}

/// A symbol as perf ranks aliases.
struct Candidate {
    size: u64,
    weak: bool,
    global: bool,
    name: String,
}

fn underscores(name: &str) -> usize {
    name.bytes().take_while(|&b| b == b'_').count()
}

/// Whether `b` wins over `a` (perf's order; ties keep `a`).
fn better(a: &Candidate, b: &Candidate) -> bool {
    if (a.size == 0) != (b.size == 0) {
        return a.size == 0;
    }
    if a.weak != b.weak {
        return a.weak;
    }
    if a.global != b.global {
        return b.global;
    }
    let (ua, ub) = (underscores(&a.name), underscores(&b.name));
    if ua != ub {
        return ub < ua;
    }
    b.name.len() > a.name.len()
}

/// perf's name at each address of a symbol table (functions only).
fn best_names(data: &[u8]) -> FxHashMap<u64, String> {
    let mut best: FxHashMap<u64, Candidate> = FxHashMap::default();
    let Ok(file) = ElfFile64::<object::Endianness>::parse(data) else {
        return FxHashMap::default();
    };
    let endian = file.endian();
    for sym in file.symbols() {
        let elf = sym.elf_symbol();
        let kind = elf.st_type();
        if kind != STT_FUNC && kind != STT_GNU_IFUNC || sym.address() == 0 {
            continue;
        }
        let Ok(name) = sym.name() else { continue };
        if name.is_empty() {
            continue;
        }
        let bind = elf.st_bind();
        let c = Candidate {
            size: elf.st_size(endian),
            weak: bind == STB_WEAK,
            global: bind == STB_GLOBAL,
            name: name.to_string(),
        };
        match best.get(&sym.address()) {
            Some(old) if !better(old, &c) => {}
            _ => {
                best.insert(sym.address(), c);
            }
        }
    }
    best.into_iter().map(|(a, c)| (a, c.name)).collect()
}

impl DsoNames {
    /// The names of `path`, from its separate debug file (by build id or
    /// debuglink under `/usr/lib/debug`) when there is one; `None` when the
    /// file cannot be read.
    pub(super) fn load(path: &Path) -> Option<DsoNames> {
        let data = std::fs::read(path).ok()?;
        let elf = ElfSymbols::parse(&data).ok()?;
        let link = elf.debuglink.as_ref().map(|l| l.file_name.clone());
        let roots = [PathBuf::from("/usr/lib/debug")];
        let debug = debug_file_candidates(path, elf.build_id.as_deref(), link.as_deref(), &roots)
            .into_iter()
            .find_map(|(candidate, _)| std::fs::read(candidate).ok());
        let best = best_names(debug.as_deref().unwrap_or(&data));
        let dwarf_file = match debug {
            Some(d) => Some(d),
            None => elf.has_debug_info.then_some(data),
        };
        Some(DsoNames {
            elf,
            dwarf_file,
            dwarf: std::cell::OnceCell::new(),
            best,
        })
    }

    /// Whether the file read is the build recorded (`None`: unknown, taken
    /// as the same).
    pub(super) fn is_build(&self, recorded: Option<&[u8]>) -> bool {
        match (recorded, self.elf.build_id.as_deref()) {
            (Some(r), Some(f)) => {
                let n = r.len().min(f.len());
                r[..n] == f[..n]
            }
            _ => true,
        }
    }

    /// The function names DWARF gives the code at file offset `offset`,
    /// innermost first; empty without DWARF or when one has no name.
    pub(super) fn inlines(&self, offset: u64, opts: DemangleOptions) -> Vec<String> {
        let dwarf = self
            .dwarf
            .get_or_init(|| DwarfInfo::parse(self.dwarf_file.as_deref()?).ok());
        let (Some(dwarf), Some(address)) = (dwarf, self.elf.file_offset_to_address(offset)) else {
            return Vec::new();
        };
        let frames = dwarf.frames(address, opts);
        if frames.iter().any(|f| f.function.is_empty()) {
            return Vec::new();
        }
        frames.into_iter().map(|f| f.function).collect()
    }

    /// perf's name for the symbol that starts `symbol_offset` bytes before
    /// file offset `offset`, when its table has one there.
    pub(super) fn perf_name(&self, offset: u64, symbol_offset: u64) -> Option<&str> {
        let address = self.elf.file_offset_to_address(offset)?;
        self.best
            .get(&address.wrapping_sub(symbol_offset))
            .map(String::as_str)
    }
}
