//! Arbitrary bytes and arbitrary layout fields through the record parser,
//! contiguous and split at an arbitrary point, in both byte orders. The
//! parser must never panic, and a split parse must equal the contiguous one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lwprof_records::record::{parse_record, Endianness, Record, RecordParseInfo};
use lwprof_records::RawData;

fuzz_target!(|input: &[u8]| {
    if input.len() < 42 {
        return;
    }
    let (cfg, bytes) = input.split_at(42);
    let u64_at = |i: usize| u64::from_le_bytes(cfg[i..i + 8].try_into().unwrap_or_default());
    let order = if cfg[40] & 1 == 0 {
        Endianness::Little
    } else {
        Endianness::Big
    };
    let info = RecordParseInfo::new(u64_at(0))
        .with_read_format(u64_at(8))
        .with_regs(u64_at(16), u64_at(24))
        .with_branch_sample_type(u64_at(32))
        .with_sample_id_all(cfg[40] & 2 != 0)
        .with_endianness(order);
    let whole = parse_record(RawData::Single(bytes), &info);
    if let Ok(r) = &whole {
        exercise(r);
    }
    let cut = usize::from(cfg[41]).min(bytes.len());
    let (a, b) = bytes.split_at(cut);
    let split = parse_record(RawData::new(a, b), &info);
    assert_eq!(
        whole.is_ok(),
        split.is_ok(),
        "split at {cut} changed the outcome"
    );
    if let Ok(r) = &split {
        exercise(r);
    }
});

/// Touches every view so lazy decoding runs too.
fn exercise(r: &Record<'_>) {
    let _ = format!("{r:?}");
    if let Record::Sample(s) = r {
        if let Some(cc) = s.callchain() {
            let _ = cc.iter().count();
        }
        if let Some(bs) = s.branch_stack() {
            let _ = bs.iter().count();
        }
    }
}
