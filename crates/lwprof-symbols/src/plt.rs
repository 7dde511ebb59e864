//! Symbols for PLT stubs (`memcpy@plt`), which no symbol table lists: they
//! are synthesized from the PLT relocations, with perf's layout rules
//! (tools/perf/util/symbol-elf.c, `dso__synthesize_plt_symbols` as of perf
//! 6.3, which fixed the IBT and `.plt.got` layouts 6.1 gets wrong):
//!
//! - `.plt` starts with a header (the lazy-binding trampoline), named
//!   `.plt`: x86 one entry (8 or 16 bytes), aarch64 and loongarch 32 bytes,
//!   arm 20, sparc 48, sparcv9 128; entries follow it, one per
//!   `.rela.plt`/`.rel.plt` relocation (x86: in GOT-slot order, since IFUNC
//!   relocations are not written in PLT order), 16 bytes on x86-64 and
//!   aarch64. A `.plt` exactly as long as its entries has no header (the
//!   IFUNC PLT of a static executable).
//! - x86 with IBT (`.plt.sec`): the entries that calls reach are in
//!   `.plt.sec`, in relocation order; all of `.plt` is named `.plt`.
//! - x86 `.plt.got`: stubs for functions whose GOT slot is bound eagerly
//!   (their address is also taken, or `-z now`); x86-64 stubs are decoded
//!   (`jmp *disp(%rip)`) to find their GOT slot, and the `.rela.dyn`
//!   relocation of that slot names them.
//!
//! An entry whose relocation has no symbol is named after its IFUNC
//! resolver's symbol (x86-64 `R_X86_64_IRELATIVE`), else `offset_0x…@plt`
//! (its file offset), as perf does. Names are mangled; demangling keeps the
//! `@plt` suffix. Files whose `.plt` has no bytes (separate debug files) get
//! none: the binary has them. Works on bytes already parsed by `object`;
//! no I/O.

use object::elf;
use object::read::elf::{ElfFile, FileHeader, Rel, Rela, SectionHeader, SectionTable, SymbolTable};
use object::{Endianness, SymbolIndex};

use super::elf::{ElfSymbol, SymbolBinding};

/// A symbol table of a file parsed from bytes.
type Symbols<'d, Elf> = SymbolTable<'d, Elf, &'d [u8]>;

/// What the synthesis reads from one file.
struct Cx<'d, 'f, Elf: FileHeader<Endian = Endianness>> {
    endian: Endianness,
    data: &'d [u8],
    sections: &'f SectionTable<'d, Elf, &'d [u8]>,
    machine: u16,
    mips64el: bool,
}

impl<'d, Elf: FileHeader<Endian = Endianness>> Cx<'d, '_, Elf> {
    fn section(&self, name: &[u8]) -> Option<&'d Elf::SectionHeader> {
        let (_, s) = self.sections.section_by_name(self.endian, name)?;
        (s.sh_type(self.endian) != elf::SHT_NOBITS).then_some(s)
    }

    fn is_x86(&self) -> bool {
        matches!(self.machine, elf::EM_386 | elf::EM_X86_64)
    }

    fn addr(&self, s: &Elf::SectionHeader) -> u64 {
        s.sh_addr(self.endian).into()
    }

    fn offset(&self, s: &Elf::SectionHeader) -> u64 {
        s.sh_offset(self.endian).into()
    }

    fn size(&self, s: &Elf::SectionHeader) -> u64 {
        s.sh_size(self.endian).into()
    }

    /// (header size, entry size) of a PLT section; `None` when unknown.
    fn plt_sizes(&self, s: &Elf::SectionHeader) -> Option<(u64, u64)> {
        let entsize: u64 = s.sh_entsize(self.endian).into();
        let (header, entry) = match self.machine {
            elf::EM_ARM => (20, 12),
            elf::EM_AARCH64 | elf::EM_LOONGARCH => (32, 16),
            elf::EM_SPARC => (48, 12),
            elf::EM_SPARCV9 => (128, 32),
            elf::EM_386 | elf::EM_X86_64 => {
                let align: u64 = s.sh_addralign(self.endian).into();
                let e = match entsize {
                    8 | 16 => entsize,
                    _ if align == 8 => 8,
                    _ => 16,
                };
                (e, e)
            }
            _ => (entsize, entsize),
        };
        (entry != 0).then_some((header, entry))
    }

    /// The symbol table at a section index, by its `sh_link`.
    fn linked_symbols(&self, link: u32) -> Option<Symbols<'d, Elf>> {
        if link == 0 {
            return None;
        }
        self.sections
            .symbol_table_by_index(self.endian, self.data, object::SectionIndex(link as usize))
            .ok()
    }

    fn symbol_name(&self, table: &Symbols<'d, Elf>, index: u32) -> Option<String> {
        let sym = table.symbol(SymbolIndex(index as usize)).ok()?;
        let name = table.symbol_name(self.endian, sym).ok()?;
        (!name.is_empty()).then(|| String::from_utf8_lossy(name).into_owned())
    }
}

/// One PLT relocation.
struct PltReloc {
    /// The GOT slot.
    offset: u64,
    /// The symbol index (0: none).
    symbol: u32,
    /// The resolver's address, for an x86-64 IFUNC relocation.
    ifunc_resolver: Option<u64>,
}

/// The PLT stubs of an ELF file. `ifunc_name` names the IFUNC symbol at an
/// address (for relocations without a symbol).
pub(super) fn plt_symbols<'d, Elf: FileHeader<Endian = Endianness>>(
    file: &ElfFile<'d, Elf>,
    ifunc_name: &dyn Fn(u64) -> Option<String>,
) -> Vec<ElfSymbol> {
    let endian = file.endian();
    let cx = Cx {
        endian,
        data: file.data(),
        sections: file.elf_section_table(),
        machine: file.elf_header().e_machine(endian),
        mips64el: file.elf_header().is_mips64el(endian),
    };
    let Some(plt) = cx.section(b".plt") else {
        return Vec::new();
    };
    let Some((header_size, entry_size)) = cx.plt_sizes(plt) else {
        return Vec::new();
    };
    let mut out = vec![ElfSymbol {
        address: cx.addr(plt),
        size: header_size,
        name: ".plt".into(),
        binding: SymbolBinding::Local,
    }];
    if cx.is_x86() {
        out.extend(plt_got_symbols(&cx));
    }
    // Where the entries that calls reach are.
    let (entries, entry_size, lazy) = match cx.is_x86().then(|| cx.section(b".plt.sec")) {
        Some(Some(sec)) => {
            let Some((_, sec_entry)) = cx.plt_sizes(sec) else {
                return out;
            };
            out[0].size = cx.size(plt);
            (sec, sec_entry, false)
        }
        _ => (plt, entry_size, true),
    };
    let Some((mut relocs, table)) = plt_relocations(&cx) else {
        return out;
    };
    let mut address = cx.addr(entries);
    if lazy {
        if (relocs.len() as u64).checked_mul(entry_size) == Some(cx.size(plt)) {
            out.remove(0);
        } else {
            let Some(a) = address.checked_add(header_size) else {
                return out;
            };
            address = a;
        }
    }
    if cx.is_x86() {
        relocs.sort_by_key(|r| r.offset);
    }
    // Names of entries without a symbol give their file offset, as perf's.
    let to_offset = cx.offset(entries).wrapping_sub(cx.addr(entries));
    for r in relocs {
        let name = cx
            .symbol_name(&table, r.symbol)
            .or_else(|| r.ifunc_resolver.and_then(ifunc_name))
            .unwrap_or_else(|| format!("offset_{:#x}", address.wrapping_add(to_offset)));
        out.push(ElfSymbol {
            address,
            size: entry_size,
            name: format!("{name}@plt"),
            binding: SymbolBinding::Local,
        });
        match address.checked_add(entry_size) {
            Some(a) => address = a,
            None => break,
        }
    }
    out
}

/// The relocations of `.rela.plt` (or `.rel.plt`) and the symbol table
/// they refer to.
fn plt_relocations<'d, Elf: FileHeader<Endian = Endianness>>(
    cx: &Cx<'d, '_, Elf>,
) -> Option<(Vec<PltReloc>, Symbols<'d, Elf>)> {
    let rel = cx
        .section(b".rela.plt")
        .or_else(|| cx.section(b".rel.plt"))?;
    let table = cx.linked_symbols(rel.sh_link(cx.endian))?;
    let (endian, mips) = (cx.endian, cx.mips64el);
    let relocs = match rel.sh_type(endian) {
        elf::SHT_RELA => rel
            .rela(endian, cx.data)
            .ok()??
            .0
            .iter()
            .map(|r| PltReloc {
                offset: r.r_offset(endian).into(),
                symbol: r.r_sym(endian, mips),
                ifunc_resolver: (cx.machine == elf::EM_X86_64
                    && r.r_type(endian, mips) == elf::R_X86_64_IRELATIVE)
                    .then(|| r.r_addend(endian).into() as u64),
            })
            .collect(),
        elf::SHT_REL => rel
            .rel(endian, cx.data)
            .ok()??
            .0
            .iter()
            .map(|r| PltReloc {
                offset: r.r_offset(endian).into(),
                symbol: r.r_sym(endian),
                ifunc_resolver: None,
            })
            .collect(),
        _ => return None,
    };
    Some((relocs, table))
}

/// The x86 `.plt.got` stubs, one per `sh_entsize` bytes.
fn plt_got_symbols<Elf: FileHeader<Endian = Endianness>>(cx: &Cx<'_, '_, Elf>) -> Vec<ElfSymbol> {
    let mut out = Vec::new();
    let Some(got) = cx.section(b".plt.got") else {
        return out;
    };
    let entsize: u64 = got.sh_entsize(cx.endian).into();
    // The bytes are read to decode the stubs; their size bounds the loop.
    let Ok(bytes) = got.data(cx.endian, cx.data) else {
        return out;
    };
    if entsize == 0 {
        return out;
    }
    let slots = if cx.machine == elf::EM_X86_64 {
        got_slot_names(cx)
    } else {
        Vec::new()
    };
    let (start, offset) = (cx.addr(got), cx.offset(got));
    let mut i = 0u64;
    while i < bytes.len() as u64 {
        let Some(address) = start.checked_add(i) else {
            break;
        };
        let name = bytes
            .get(i as usize..)
            .and_then(x86_64_jump_slot)
            .and_then(|(end, disp)| address.checked_add(end)?.checked_add_signed(disp))
            .and_then(|slot| {
                let k = slots.binary_search_by_key(&slot, |(s, _)| *s).ok()?;
                Some(slots[k].1.clone())
            })
            .unwrap_or_else(|| format!("offset_{:#x}", offset.wrapping_add(i)));
        out.push(ElfSymbol {
            address,
            size: entsize,
            name: format!("{name}@plt"),
            binding: SymbolBinding::Local,
        });
        i = match i.checked_add(entsize) {
            Some(n) => n,
            None => break,
        };
    }
    out
}

/// GOT slots named by `.rela.dyn` relocations with a symbol, sorted.
fn got_slot_names<Elf: FileHeader<Endian = Endianness>>(
    cx: &Cx<'_, '_, Elf>,
) -> Vec<(u64, String)> {
    let Some(rela) = cx.section(b".rela.dyn") else {
        return Vec::new();
    };
    let entsize: u64 = rela.sh_entsize(cx.endian).into();
    let Some(table) = cx
        .linked_symbols(rela.sh_link(cx.endian))
        .filter(|_| entsize != 0)
    else {
        return Vec::new();
    };
    let Ok(Some((relocs, _))) = rela.rela(cx.endian, cx.data) else {
        return Vec::new();
    };
    let mut out: Vec<(u64, String)> = relocs
        .iter()
        .filter_map(|r| {
            let symbol = r.r_sym(cx.endian, cx.mips64el);
            let name = (symbol != 0).then(|| cx.symbol_name(&table, symbol))??;
            Some((r.r_offset(cx.endian).into(), name))
        })
        .collect();
    out.sort_by_key(|(slot, _)| *slot);
    out
}

/// An x86-64 stub's `jmp *disp(%rip)` (after an optional `endbr64` and
/// `bnd` prefix): the offset of the instruction's end in the stub, and
/// `disp`.
fn x86_64_jump_slot(stub: &[u8]) -> Option<(u64, i64)> {
    let mut n = 0;
    if stub.starts_with(&[0xf3, 0x0f, 0x1e, 0xfa]) {
        n += 4;
    }
    if stub.get(n) == Some(&0xf2) {
        n += 1;
    }
    if stub.get(n..n + 2)? != [0xff, 0x25] {
        return None;
    }
    let disp: [u8; 4] = stub.get(n + 2..n + 6)?.try_into().ok()?;
    Some((n as u64 + 6, i64::from(i32::from_le_bytes(disp))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x86_64_stubs_are_decoded_with_and_without_prefixes() {
        assert_eq!(
            x86_64_jump_slot(&[0xff, 0x25, 0x10, 0, 0, 0, 0x66, 0x90]),
            Some((6, 0x10))
        );
        assert_eq!(
            x86_64_jump_slot(&[0xf3, 0x0f, 0x1e, 0xfa, 0xf2, 0xff, 0x25, 0xfc, 0xff, 0xff, 0xff]),
            Some((11, -4))
        );
        assert_eq!(x86_64_jump_slot(&[0xff, 0x25, 1, 2]), None);
        assert_eq!(x86_64_jump_slot(&[0xe9, 0, 0, 0, 0]), None);
        assert_eq!(x86_64_jump_slot(&[]), None);
    }
}
