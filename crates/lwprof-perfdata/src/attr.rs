//! Event attributes as they are stored in perf.data: `perf_event_attr`
//! bytes, trimmed to a size Linux perf understands, and back.

use lwprof_records::{Endianness, RecordParseInfo};
use perf_event_open_sys::bindings::{
    __BindgenBitfieldUnit, perf_event_attr, perf_event_attr__bindgen_ty_1,
    perf_event_attr__bindgen_ty_2, perf_event_attr__bindgen_ty_3, perf_event_attr__bindgen_ty_4,
    perf_event_attr__bindgen_ty_5,
};

/// `PERF_ATTR_SIZE_VER0`: the smallest attribute any reader accepts.
pub(crate) const ATTR_SIZE_VER0: usize = 64;
/// `PERF_ATTR_SIZE_VER7` (128 bytes, up to `sig_data`): what perf 6.1 writes.
/// perf 6.1 rejects attributes larger than its own struct, so we write this
/// size unless a later field (config3, config4) is actually set.
pub(crate) const ATTR_SIZE_PERF_6_1: usize = 128;
/// The ABI sizes (`PERF_ATTR_SIZE_VER0..VER9`).
const ABI_SIZES: [usize; 10] = [64, 72, 80, 96, 104, 112, 120, 128, 136, 144];
const FULL: usize = std::mem::size_of::<perf_event_attr>();

/// One event of a perf.data file: its attribute, name and the kernel ids of
/// its instances (one per CPU or per task the event was opened on).
///
/// The attribute is kept as its bytes (the kernel's layout, native order,
/// zero-extended to the full struct), which is what a file stores; the
/// bindgen struct is derived from them. Building the bytes from a live
/// `perf_event_attr` needs a byte copy of a struct with unions, which only
/// `lwprof-events` does (`lwprof_events::sys::attr_bytes`).
#[derive(Clone)]
pub struct EventAttr {
    bytes: Vec<u8>,
    attr: perf_event_attr,
    /// The event's name as the user wrote it, e.g. "cpu-clock" or "cycles:u".
    pub name: String,
    /// The kernel ids (`PERF_EVENT_IOC_ID`) of every instance; samples carry
    /// one of them in `PERF_SAMPLE_ID` / `PERF_SAMPLE_IDENTIFIER`.
    pub ids: Vec<u64>,
}

impl EventAttr {
    /// An event from its attribute's bytes in the kernel's ABI layout (any
    /// ABI size, native order; shorter ones are zero-extended, bytes beyond
    /// the fields we know are dropped).
    pub fn from_bytes(bytes: &[u8], name: impl Into<String>, ids: Vec<u64>) -> Self {
        let mut full = vec![0u8; FULL];
        let n = bytes.len().min(FULL);
        full[..n].copy_from_slice(&bytes[..n]);
        EventAttr {
            attr: attr_from_bytes(&full),
            bytes: full,
            name: name.into(),
            ids,
        }
    }

    /// The attribute as passed to perf_event_open(2).
    pub fn attr(&self) -> &perf_event_attr {
        &self.attr
    }

    /// The attribute's bytes: the whole struct, native order.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// What the record parser needs to parse this event's records.
    pub fn parse_info(&self) -> RecordParseInfo {
        RecordParseInfo::from_attr_bytes(&self.bytes, Endianness::NATIVE)
    }
}

impl std::fmt::Debug for EventAttr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventAttr")
            .field("name", &self.name)
            .field("type", &self.attr.type_)
            .field("config", &self.attr.config)
            .field("sample_type", &format_args!("{:#x}", self.attr.sample_type))
            .field("sample_id_all", &self.attr.sample_id_all())
            .field("ids", &self.ids)
            .finish()
    }
}

/// The attribute's bytes for a perf.data file, with the `size` field set to
/// the smallest ABI size that holds every non-zero byte, but at least 128
/// (what perf 6.1 writes; it refuses sizes above its own struct, 128 bytes).
pub fn file_attr_bytes(event: &EventAttr) -> Vec<u8> {
    let full = event.bytes();
    let last_set = full
        .iter()
        .enumerate()
        .rev()
        .find(|&(i, b)| *b != 0 && !(4..8).contains(&i))
        .map_or(0, |(i, _)| i + 1);
    let size = ABI_SIZES
        .iter()
        .copied()
        .find(|&s| s >= last_set.max(ATTR_SIZE_PERF_6_1))
        .unwrap_or(FULL);
    let mut bytes = full[..size].to_vec();
    bytes[4..8].copy_from_slice(&(size as u32).to_ne_bytes());
    bytes
}

fn u64_at(b: &[u8], off: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[off..off + 8]);
    u64::from_ne_bytes(a)
}
fn u32_at(b: &[u8], off: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[off..off + 4]);
    u32::from_ne_bytes(a)
}
fn u16_at(b: &[u8], off: usize) -> u16 {
    u16::from_ne_bytes([b[off], b[off + 1]])
}

/// Where the fields of `perf_event_attr` sit: (offset, width in bytes).
/// The flags word at 40 is a bitfield and is not in the list.
const ATTR_FIELDS: [(usize, usize); 23] = [
    (0, 4),   // type
    (4, 4),   // size
    (8, 8),   // config
    (16, 8),  // sample_period / sample_freq
    (24, 8),  // sample_type
    (32, 8),  // read_format
    (48, 4),  // wakeup_events / wakeup_watermark
    (52, 4),  // bp_type
    (56, 8),  // bp_addr / config1
    (64, 8),  // bp_len / config2
    (72, 8),  // branch_sample_type
    (80, 8),  // sample_regs_user
    (88, 4),  // sample_stack_user
    (92, 4),  // clockid
    (96, 8),  // sample_regs_intr
    (104, 4), // aux_watermark
    (108, 2), // sample_max_stack
    (110, 2), // __reserved_2
    (112, 4), // aux_sample_size
    (116, 4), // aux_action
    (120, 8), // sig_data
    (128, 8), // config3
    (136, 8), // config4
];

/// The flags bitfield word of `perf_event_attr`.
const ATTR_FLAGS: std::ops::Range<usize> = 40..48;

/// An attribute's bytes in byte order `e` turned into this machine's order,
/// by perf's rules (`perf_event__attr_swap`): every field that fits in the
/// attribute's bytes is byte-swapped, and the bits of each byte of the flags
/// bitfield are reversed, since bitfields are allocated from the other end
/// of each byte on the other byte order. perf skips a few later fields
/// (clockid, sample_regs_intr, sig_data, config3); they are swapped here.
/// The same function turns native bytes into order `e`.
pub fn attr_to_native(bytes: &[u8], e: Endianness) -> Vec<u8> {
    let mut out = bytes.to_vec();
    if e == Endianness::NATIVE {
        return out;
    }
    for (off, width) in ATTR_FIELDS {
        if let Some(field) = out.get_mut(off..off + width) {
            field.reverse();
        }
    }
    if let Some(flags) = out.get_mut(ATTR_FLAGS) {
        for b in flags {
            *b = b.reverse_bits();
        }
    }
    out
}

/// Builds a `perf_event_attr` from on-file bytes of any ABI size: shorter
/// attributes are zero-extended, bytes beyond the fields we know are ignored.
/// The `size` field keeps the value found in the bytes.
pub fn attr_from_bytes(bytes: &[u8]) -> perf_event_attr {
    let mut b = [0u8; FULL];
    let n = bytes.len().min(FULL);
    b[..n].copy_from_slice(&bytes[..n]);
    let mut bits = [0u8; 8];
    bits.copy_from_slice(&b[40..48]);
    perf_event_attr {
        type_: u32_at(&b, 0),
        size: u32_at(&b, 4),
        config: u64_at(&b, 8),
        __bindgen_anon_1: perf_event_attr__bindgen_ty_1 {
            sample_period: u64_at(&b, 16),
        },
        sample_type: u64_at(&b, 24),
        read_format: u64_at(&b, 32),
        _bitfield_align_1: [],
        _bitfield_1: __BindgenBitfieldUnit::new(bits),
        __bindgen_anon_2: perf_event_attr__bindgen_ty_2 {
            wakeup_events: u32_at(&b, 48),
        },
        bp_type: u32_at(&b, 52),
        __bindgen_anon_3: perf_event_attr__bindgen_ty_3 {
            config1: u64_at(&b, 56),
        },
        __bindgen_anon_4: perf_event_attr__bindgen_ty_4 {
            config2: u64_at(&b, 64),
        },
        branch_sample_type: u64_at(&b, 72),
        sample_regs_user: u64_at(&b, 80),
        sample_stack_user: u32_at(&b, 88),
        clockid: u32_at(&b, 92) as i32,
        sample_regs_intr: u64_at(&b, 96),
        aux_watermark: u32_at(&b, 104),
        sample_max_stack: u16_at(&b, 108),
        __reserved_2: u16_at(&b, 110),
        aux_sample_size: u32_at(&b, 112),
        __bindgen_anon_5: perf_event_attr__bindgen_ty_5 {
            aux_action: u32_at(&b, 116),
        },
        sig_data: u64_at(&b, 120),
        config3: u64_at(&b, 128),
        config4: u64_at(&b, 136),
    }
}

/// perf's name for an event given only its attribute (used when a file has
/// no EVENT_DESC): "cpu-clock", "cycles", or "type:config" for the rest.
pub fn default_event_name(attr: &perf_event_attr) -> String {
    const HW: [&str; 10] = [
        "cycles",
        "instructions",
        "cache-references",
        "cache-misses",
        "branches",
        "branch-misses",
        "bus-cycles",
        "stalled-cycles-frontend",
        "stalled-cycles-backend",
        "ref-cycles",
    ];
    const SW: [&str; 12] = [
        "cpu-clock",
        "task-clock",
        "page-faults",
        "context-switches",
        "cpu-migrations",
        "minor-faults",
        "major-faults",
        "alignment-faults",
        "emulation-faults",
        "dummy",
        "bpf-output",
        "cgroup-switches",
    ];
    let known = match attr.type_ {
        0 => HW.get(attr.config as usize),
        1 => SW.get(attr.config as usize),
        _ => None,
    };
    known.map_or_else(
        || format!("{}:{:#x}", attr.type_, attr.config),
        |s| (*s).to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_through_the_struct() {
        // Every byte distinct, so a field read from the wrong offset shows.
        let bytes: Vec<u8> = (0..FULL).map(|i| (i * 7 + 3) as u8).collect();
        let attr = attr_from_bytes(&bytes);
        assert_eq!(&lwprof_events::sys::attr_bytes(&attr)[..], &bytes[..]);
    }

    #[test]
    fn default_names_follow_perf() {
        let mut attr = attr_from_bytes(&[0u8; 128]);
        attr.type_ = 1;
        assert_eq!(default_event_name(&attr), "cpu-clock");
        attr.type_ = 0;
        attr.config = 1;
        assert_eq!(default_event_name(&attr), "instructions");
        attr.type_ = 9;
        attr.config = 0x10;
        assert_eq!(default_event_name(&attr), "9:0x10");
    }

    #[test]
    fn short_attrs_are_zero_extended() {
        let mut bytes = vec![0u8; ATTR_SIZE_VER0];
        bytes[0] = 1; // PERF_TYPE_SOFTWARE
        bytes[4] = 64;
        bytes[24] = 0x7; // IP|TID|TIME
        let attr = attr_from_bytes(&bytes);
        assert_eq!(
            (attr.type_, attr.size, attr.sample_type, attr.config3),
            (1, 64, 7, 0)
        );
    }

    #[test]
    fn file_bytes_are_128_unless_later_fields_are_set() {
        let mut attr = lwprof_events::EventConfig::software("cpu-clock", 0).to_attr();
        attr.sample_type = 0x1ff;
        attr.set_sample_id_all(1);
        let event = |a: &perf_event_attr| {
            EventAttr::from_bytes(&lwprof_events::sys::attr_bytes(a), "cpu-clock", vec![])
        };
        let bytes = file_attr_bytes(&event(&attr));
        assert_eq!(bytes.len(), 128);
        assert_eq!(attr_from_bytes(&bytes).size, 128);
        assert_eq!(attr_from_bytes(&bytes).sample_id_all(), 1);
        attr.config3 = 5;
        let bytes = file_attr_bytes(&event(&attr));
        assert_eq!(bytes.len(), 136);
        assert_eq!(attr_from_bytes(&bytes).config3, 5);
    }
}
