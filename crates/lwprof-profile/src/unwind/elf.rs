//! What DWARF unwinding needs from one ELF file: the CFI sections
//! (`.eh_frame`, `.eh_frame_hdr`, `.debug_frame`), `.text` and `.got`
//! ranges, the `PT_LOAD` segments and the build id, parsed from bytes with
//! the `object` crate.
//!
//! [`UnwindFile`] keeps the file's bytes (shared, never copied per process)
//! and hands framehop a module for any mapping of the file. It does no I/O:
//! the caller reads the file.

use std::ops::{Deref, Range};
use std::sync::Arc;

use object::{Object, ObjectSection, ObjectSegment, SegmentFlags};

use lwprof_symbols::LoadSegment;

/// Bytes of one section, shared with every module built from the same file.
#[derive(Clone, Debug, Default)]
pub struct SectionBytes {
    data: Arc<Vec<u8>>,
    range: Range<usize>,
}

impl Deref for SectionBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.data.get(self.range.clone()).unwrap_or(&[])
    }
}

/// One section: where it is linked (SVMA) and its bytes.
#[derive(Clone, Debug)]
struct Section {
    svma: Range<u64>,
    bytes: SectionBytes,
}

/// The unwind-relevant parts of one ELF file.
#[derive(Clone, Debug)]
pub struct UnwindFile {
    /// The GNU build id, if the file has one.
    pub build_id: Option<Vec<u8>>,
    /// The `PT_LOAD` segments (file offset to linked address).
    pub segments: Vec<LoadSegment>,
    /// Executable `PT_LOAD` segments, as indices into `segments`.
    executable: Vec<usize>,
    text: Option<Section>,
    eh_frame: Option<Section>,
    eh_frame_hdr: Option<Section>,
    debug_frame: Option<Section>,
    got: Option<Range<u64>>,
}

impl UnwindFile {
    /// Parses an ELF file held in `data`; section bytes stay in `data`
    /// (compressed `.debug_frame` is decompressed into its own buffer).
    pub fn parse(data: Arc<Vec<u8>>) -> Result<Self, object::Error> {
        let file = object::File::parse(data.as_slice())?;
        let build_id = file.build_id().ok().flatten().map(<[u8]>::to_vec);
        let mut segments = Vec::new();
        let mut executable = Vec::new();
        for s in file.segments() {
            let (file_offset, file_size) = s.file_range();
            if let SegmentFlags::Elf { p_flags } = s.flags() {
                if p_flags & object::elf::PF_X != 0 {
                    executable.push(segments.len());
                }
            }
            segments.push(LoadSegment {
                file_offset,
                file_size,
                address: s.address(),
            });
        }
        let section = |name: &str| -> Option<Section> {
            let s = file.section_by_name(name)?;
            let svma = s.address()..s.address().checked_add(s.size())?;
            let compressed = s.compressed_file_range().ok()?;
            let bytes = if compressed.format == object::CompressionFormat::None {
                let (offset, size) = s.file_range()?;
                let start = usize::try_from(offset).ok()?;
                let end = start.checked_add(usize::try_from(size).ok()?)?;
                if end > data.len() {
                    return None;
                }
                SectionBytes {
                    data: Arc::clone(&data),
                    range: start..end,
                }
            } else {
                let owned = s.uncompressed_data().ok()?.into_owned();
                let len = owned.len();
                SectionBytes {
                    data: Arc::new(owned),
                    range: 0..len,
                }
            };
            Some(Section { svma, bytes })
        };
        Ok(UnwindFile {
            build_id,
            text: section(".text"),
            eh_frame: section(".eh_frame"),
            eh_frame_hdr: section(".eh_frame_hdr"),
            debug_frame: section(".debug_frame"),
            got: section(".got").map(|s| s.svma),
            segments,
            executable,
        })
    }

    /// True when the file has DWARF CFI (`.eh_frame` or `.debug_frame`).
    pub fn has_cfi(&self) -> bool {
        self.eh_frame.is_some() || self.debug_frame.is_some()
    }

    /// The load bias of a mapping of this file: what to add to a linked
    /// address (SVMA) to get the address in the process (AVMA). The mapping
    /// `[start, start + len)` maps file offset `pgoff` at `start`; the
    /// `PT_LOAD` segment its file range overlaps (an executable one first)
    /// says which linked address that offset has. A file without segments
    /// is taken as linked at file offsets.
    pub fn bias(&self, start: u64, len: u64, pgoff: u64) -> u64 {
        let overlaps = |s: &LoadSegment| {
            pgoff < s.file_offset.saturating_add(s.file_size)
                && pgoff.saturating_add(len) > s.file_offset
        };
        let segment = self
            .executable
            .iter()
            .filter_map(|&i| self.segments.get(i))
            .find(|s| overlaps(s))
            .or_else(|| self.segments.iter().find(|s| overlaps(s)));
        // svma(start) = segment.address + (pgoff - segment.file_offset);
        // bias = start - svma(start). Wrapping arithmetic: a mapping may start
        // a little before the segment (page alignment).
        match segment {
            Some(s) => start
                .wrapping_sub(pgoff)
                .wrapping_add(s.file_offset)
                .wrapping_sub(s.address),
            None => start.wrapping_sub(pgoff),
        }
    }

    /// A framehop module for the mapping `[start, end)` that maps file
    /// offset `pgoff` at `start`.
    pub fn module(
        &self,
        name: &str,
        start: u64,
        end: u64,
        pgoff: u64,
    ) -> framehop::Module<SectionBytes> {
        let bias = self.bias(start, end.saturating_sub(start), pgoff);
        let info = framehop::ExplicitModuleSectionInfo {
            // ELF code addresses are absolute SVMAs: the base is 0.
            base_svma: 0,
            text_svma: self.text.as_ref().map(|s| s.svma.clone()),
            text: self.text.as_ref().map(|s| s.bytes.clone()),
            got_svma: self.got.clone(),
            eh_frame_svma: self.eh_frame.as_ref().map(|s| s.svma.clone()),
            eh_frame: self.eh_frame.as_ref().map(|s| s.bytes.clone()),
            eh_frame_hdr_svma: self.eh_frame_hdr.as_ref().map(|s| s.svma.clone()),
            eh_frame_hdr: self.eh_frame_hdr.as_ref().map(|s| s.bytes.clone()),
            debug_frame: self.debug_frame.as_ref().map(|s| s.bytes.clone()),
            ..Default::default()
        };
        framehop::Module::new(name.to_string(), start..end, bias, info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(segments: Vec<LoadSegment>, executable: Vec<usize>) -> UnwindFile {
        UnwindFile {
            build_id: None,
            segments,
            executable,
            text: None,
            eh_frame: None,
            eh_frame_hdr: None,
            debug_frame: None,
            got: None,
        }
    }

    #[test]
    fn bias_of_a_pie_text_mapping() {
        // A typical PIE: R at 0, RX at file 0x1000 -> vaddr 0x1000, R, RW at
        // file 0x2db8 -> vaddr 0x3db8.
        let f = file_with(
            vec![
                LoadSegment {
                    file_offset: 0,
                    file_size: 0x628,
                    address: 0,
                },
                LoadSegment {
                    file_offset: 0x1000,
                    file_size: 0x1d5,
                    address: 0x1000,
                },
                LoadSegment {
                    file_offset: 0x2db8,
                    file_size: 0x258,
                    address: 0x3db8,
                },
            ],
            vec![1],
        );
        assert_eq!(f.bias(0x5555_5555_5000, 0x1000, 0x1000), 0x5555_5555_4000);
        // The RW mapping (page-aligned start 0x2000 in the file, mapped at
        // bias + 0x3000) gives the same bias.
        assert_eq!(f.bias(0x5555_5555_7000, 0x2000, 0x2000), 0x5555_5555_4000);
    }

    #[test]
    fn bias_of_a_non_pie_and_of_a_file_without_segments() {
        let f = file_with(
            vec![LoadSegment {
                file_offset: 0x1000,
                file_size: 0x500,
                address: 0x40_1000,
            }],
            vec![0],
        );
        assert_eq!(f.bias(0x40_1000, 0x1000, 0x1000), 0);
        let none = file_with(vec![], vec![]);
        assert_eq!(none.bias(0x7000, 0x1000, 0x2000), 0x5000);
    }
}
