//! Crafted-bytes tests: every record type, every sample field, both byte
//! orders, every split point and every truncation.

use super::*;

use crate::builder::RecordBuilder as Builder;

/// The crate's builder, with this file's trailer values and records that
/// always fit.
trait Crafted {
    /// The trailer for `t` with recognisable values.
    fn trailer(&mut self, t: u64) -> &mut Self;
    /// Header + body.
    fn record(&self, record_type: u32, misc: u16) -> Vec<u8>;
}

impl Crafted for Builder {
    fn trailer(&mut self, t: u64) -> &mut Self {
        self.sample_id(t, &expected_trailer())
    }
    fn record(&self, record_type: u32, misc: u16) -> Vec<u8> {
        self.finish(record_type, misc)
            .expect("test record fits a u16 size")
    }
}

const TRAILER_PID: u32 = 4242;
const TRAILER_TID: u32 = 4243;
const TRAILER_TIME: u64 = 0x1122_3344_5566_7788;
const TRAILER_ID: u64 = 77;
const TRAILER_STREAM: u64 = 78;
const TRAILER_CPU: u32 = 3;

const TRAILER_ALL: u64 = sample_type::TID
    | sample_type::TIME
    | sample_type::ID
    | sample_type::STREAM_ID
    | sample_type::CPU
    | sample_type::IDENTIFIER;

const ORDERS: [Endianness; 2] = [Endianness::Little, Endianness::Big];

fn expected_trailer() -> SampleId {
    SampleId {
        pid: Some(TRAILER_PID),
        tid: Some(TRAILER_TID),
        time: Some(TRAILER_TIME),
        id: Some(TRAILER_ID),
        stream_id: Some(TRAILER_STREAM),
        cpu: Some(TRAILER_CPU),
    }
}

/// Debug output with every split view rewritten as one contiguous view, so a
/// record parsed across a seam compares equal to the contiguous parse.
fn canon(record: &Record<'_>) -> String {
    let s = format!("{record:?}");
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    while let Some(at) = rest.find("Split([") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "Split([".len()..];
        let mid = after.find("], [").expect("split view prints two slices");
        let a = &after[..mid];
        let after_b = &after[mid + 4..];
        let end = after_b.find("])").expect("split view ends");
        let b = &after_b[..end];
        out.push_str("Single([");
        out.push_str(a);
        out.push_str(", ");
        out.push_str(b);
        out.push_str("])");
        rest = &after_b[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Parses `bytes` whole, then split at every offset, and checks that every
/// split parse equals the contiguous one. Returns the canonical form.
fn parse_everywhere(bytes: &[u8], info: &RecordParseInfo) -> String {
    let whole = parse_record(RawData::Single(bytes), info).expect("contiguous record parses");
    let want = canon(&whole);
    for k in 1..bytes.len() {
        let (a, b) = bytes.split_at(k);
        let split =
            parse_record(RawData::new(a, b), info).unwrap_or_else(|e| panic!("split at {k}: {e}"));
        assert_eq!(canon(&split), want, "split at {k}");
    }
    want
}

/// Cuts the record at every length: the header's size says the shorter
/// length and the data is that long. Nothing may panic; lengths below
/// `min_ok` must be errors.
fn truncations(bytes: &[u8], info: &RecordParseInfo, min_ok: usize) {
    for len in 0..bytes.len() {
        let mut cut = bytes[..len].to_vec();
        if len >= 8 {
            let size = u16::try_from(len).expect("small");
            let b = match info.endianness {
                Endianness::Little => size.to_le_bytes(),
                Endianness::Big => size.to_be_bytes(),
            };
            cut[6..8].copy_from_slice(&b);
        }
        let r = parse_record(RawData::Single(&cut), info);
        if len < min_ok {
            assert!(r.is_err(), "length {len} of {} parsed: {r:?}", bytes.len());
        }
        // The whole record but data cut short: the size now lies.
        let r = parse_record(RawData::Single(&bytes[..len]), info);
        assert!(r.is_err(), "data cut at {len} must be an error");
    }
}

fn bytes_of(v: RawData<'_>) -> Vec<u8> {
    v.as_contiguous().into_owned()
}

// ---------------------------------------------------------------- samples

const ALL_SAMPLE: u64 = sample_type::IDENTIFIER
    | sample_type::IP
    | sample_type::TID
    | sample_type::TIME
    | sample_type::ADDR
    | sample_type::ID
    | sample_type::STREAM_ID
    | sample_type::CPU
    | sample_type::PERIOD
    | sample_type::READ
    | sample_type::CALLCHAIN
    | sample_type::RAW
    | sample_type::BRANCH_STACK
    | sample_type::REGS_USER
    | sample_type::STACK_USER
    | sample_type::DATA_SRC
    | sample_type::TRANSACTION
    | sample_type::REGS_INTR
    | sample_type::PHYS_ADDR
    | sample_type::CGROUP
    | sample_type::DATA_PAGE_SIZE
    | sample_type::CODE_PAGE_SIZE
    | sample_type::AUX;

const REGS_USER_MASK: u64 = 0b1011_0001; // regs 0, 4, 5, 7
const REGS_INTR_MASK: u64 = 0b110; // regs 1, 2
const ALL_READ: u64 = read_format::GROUP
    | read_format::TOTAL_TIME_ENABLED
    | read_format::TOTAL_TIME_RUNNING
    | read_format::ID
    | read_format::LOST;

fn all_info(order: Endianness, weight_bit: u64) -> RecordParseInfo {
    RecordParseInfo::new(ALL_SAMPLE | weight_bit)
        .with_read_format(ALL_READ)
        .with_regs(REGS_USER_MASK, REGS_INTR_MASK)
        .with_branch_sample_type(branch_sample_type::HW_INDEX | branch_sample_type::COUNTERS)
        .with_endianness(order)
}

/// A sample with every field, values derived from their position.
fn all_sample(order: Endianness) -> Vec<u8> {
    let mut b = Builder::with_order(order);
    b.u64(500) // identifier
        .u64(0xffff_ffff_8100_0000) // ip
        .u32(10)
        .u32(11) // pid, tid
        .u64(123_456_789) // time
        .u64(0xdead_beef) // addr
        .u64(500) // id
        .u64(501) // stream_id
        .u32(1)
        .u32(0) // cpu, res
        .u64(100_000) // period
        // read: group of 2, enabled, running, {value, id, lost} x2
        .u64(2)
        .u64(1000)
        .u64(900)
        .u64(41)
        .u64(500)
        .u64(0)
        .u64(42)
        .u64(502)
        .u64(1)
        // callchain: 3 entries
        .u64(3)
        .u64(0xffff_ffff_ffff_fe00) // PERF_CONTEXT_USER
        .u64(0x40_1000)
        .u64(0x40_2000)
        // raw: 12 bytes, so size + data = 16
        .u32(12)
        .bytes(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
        // branch stack: nr 2, hw_idx, 2 entries, 2 counters
        .u64(2)
        .u64(7)
        .u64(0x10)
        .u64(0x20)
        .u64(0x1 | (33 << 4) | (5 << 20))
        .u64(0x30)
        .u64(0x40)
        .u64(0x2)
        .u64(9)
        .u64(8)
        // regs user: abi 64, 4 regs
        .u64(2)
        .u64(100)
        .u64(104)
        .u64(105)
        .u64(107)
        // stack user: 16 bytes, dyn_size 12
        .u64(16)
        .bytes(&[0xaa; 16])
        .u64(12)
        // weight (either form)
        .u64(0x0003_0002_0000_0001)
        .u64(0x1234) // data_src
        .u64(0x5678) // transaction
        // regs intr: abi 64, 2 regs
        .u64(2)
        .u64(201)
        .u64(202)
        .u64(0x8000_0000) // phys_addr
        .u64(99) // cgroup
        .u64(4096) // data_page_size
        .u64(2 << 20) // code_page_size
        // aux: 8 bytes
        .u64(8)
        .bytes(&[9, 8, 7, 6, 5, 4, 3, 2]);
    b.record(record_type::SAMPLE, misc::EXACT_IP | 2)
}

fn check_all_sample(r: &Record<'_>, weight_struct: bool) {
    let Record::Sample(s) = r else {
        panic!("not a sample: {r:?}")
    };
    assert_eq!(s.cpumode(), CpuMode::User);
    assert!(s.exact_ip());
    assert_eq!(s.id(), Some(500));
    assert_eq!(s.ip(), Some(0xffff_ffff_8100_0000));
    assert_eq!((s.pid(), s.tid()), (Some(10), Some(11)));
    assert_eq!(s.time(), Some(123_456_789));
    assert_eq!(s.addr(), Some(0xdead_beef));
    assert_eq!(s.stream_id(), Some(501));
    assert_eq!(s.cpu(), Some(1));
    assert_eq!(s.period(), Some(100_000));
    let Some(ReadValues::Group {
        time_enabled,
        time_running,
        members,
    }) = s.read()
    else {
        panic!("group read expected: {:?}", s.read())
    };
    assert_eq!((time_enabled, time_running), (Some(1000), Some(900)));
    assert_eq!(members.len(), 2);
    let m: Vec<_> = members.iter().collect();
    assert_eq!(
        m,
        vec![
            ReadGroupMember {
                value: 41,
                id: Some(500),
                lost: Some(0)
            },
            ReadGroupMember {
                value: 42,
                id: Some(502),
                lost: Some(1)
            }
        ]
    );
    let cc = s.callchain().expect("callchain");
    assert_eq!(cc.len(), 3);
    assert_eq!(
        cc.to_vec(),
        vec![0xffff_ffff_ffff_fe00, 0x40_1000, 0x40_2000]
    );
    assert_eq!(cc.get(2), Some(0x40_2000));
    assert_eq!(cc.get(3), None);
    assert_eq!(
        bytes_of(s.raw().expect("raw")),
        vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    );
    let bs = s.branch_stack().expect("branch stack");
    assert_eq!(bs.hw_idx, Some(7));
    assert_eq!(bs.len(), 2);
    let e: Vec<_> = bs.iter().collect();
    assert_eq!(
        e[0],
        BranchEntry {
            from: 0x10,
            to: 0x20,
            flags: 0x1 | (33 << 4) | (5 << 20)
        }
    );
    assert!(e[0].mispred() && !e[0].predicted());
    assert_eq!(e[0].cycles(), 33);
    assert_eq!(e[0].branch_type(), 5);
    assert_eq!(
        e[1],
        BranchEntry {
            from: 0x30,
            to: 0x40,
            flags: 0x2
        }
    );
    assert!(e[1].predicted());
    assert_eq!(bs.counters.expect("counters").to_vec(), vec![9, 8]);
    let ru = s.regs_user().expect("regs user");
    assert_eq!(ru.abi, 2);
    assert_eq!(ru.values.to_vec(), vec![100, 104, 105, 107]);
    assert_eq!(
        (ru.get(0), ru.get(4), ru.get(5), ru.get(7)),
        (Some(100), Some(104), Some(105), Some(107))
    );
    assert_eq!((ru.get(1), ru.get(64)), (None, None));
    let su = s.stack_user().expect("stack user");
    assert_eq!(bytes_of(su.data), vec![0xaa; 16]);
    assert_eq!(su.dyn_size, 12);
    assert_eq!(bytes_of(su.valid()), vec![0xaa; 12]);
    let w = s.weight().expect("weight");
    assert_eq!(w.full, 0x0003_0002_0000_0001);
    assert_eq!(w.is_struct, weight_struct);
    assert_eq!((w.var1_dw(), w.var2_w(), w.var3_w()), (1, 2, 3));
    assert_eq!(s.data_src(), Some(0x1234));
    assert_eq!(s.transaction(), Some(0x5678));
    let ri = s.regs_intr().expect("regs intr");
    assert_eq!(
        (ri.get(1), ri.get(2), ri.get(0)),
        (Some(201), Some(202), None)
    );
    assert_eq!(s.phys_addr(), Some(0x8000_0000));
    assert_eq!(s.cgroup(), Some(99));
    assert_eq!(s.data_page_size(), Some(4096));
    assert_eq!(s.code_page_size(), Some(2 << 20));
    assert_eq!(
        bytes_of(s.aux().expect("aux")),
        vec![9, 8, 7, 6, 5, 4, 3, 2]
    );
}

#[test]
fn sample_with_every_field_in_both_orders_and_both_weight_forms() {
    for order in ORDERS {
        for (bit, is_struct) in [
            (sample_type::WEIGHT, false),
            (sample_type::WEIGHT_STRUCT, true),
        ] {
            let info = all_info(order, bit);
            let bytes = all_sample(order);
            let r = parse_record(RawData::Single(&bytes), &info).expect("parses");
            check_all_sample(&r, is_struct);
            parse_everywhere(&bytes, &info);
            truncations(&bytes, &info, bytes.len());
        }
    }
}

#[test]
fn other_order_differs_from_native_on_the_same_bytes() {
    // Guards the test above: reading big-endian bytes as little-endian must
    // not give the same answer, or the order parameter would be untested.
    let bytes = all_sample(Endianness::Big);
    let info = all_info(Endianness::Little, sample_type::WEIGHT);
    assert!(parse_record(RawData::Single(&bytes), &info).is_err());
}

/// Each sample field alone, so a field's position cannot hide behind
/// another's.
#[test]
fn each_sample_field_alone() {
    let fixed = [
        (sample_type::IP, "ip"),
        (sample_type::TIME, "time"),
        (sample_type::ADDR, "addr"),
        (sample_type::ID, "id"),
        (sample_type::IDENTIFIER, "id"),
        (sample_type::STREAM_ID, "stream_id"),
        (sample_type::PERIOD, "period"),
        (sample_type::DATA_SRC, "data_src"),
        (sample_type::TRANSACTION, "transaction"),
        (sample_type::PHYS_ADDR, "phys_addr"),
        (sample_type::CGROUP, "cgroup"),
        (sample_type::DATA_PAGE_SIZE, "data_page_size"),
        (sample_type::CODE_PAGE_SIZE, "code_page_size"),
        (sample_type::WEIGHT, "weight"),
        (sample_type::WEIGHT_STRUCT, "weight"),
    ];
    for order in ORDERS {
        for (bit, name) in fixed {
            let mut b = Builder::with_order(order);
            b.u64(0x0102_0304_0506_0708);
            let bytes = b.record(record_type::SAMPLE, 1);
            let info = RecordParseInfo::new(bit).with_endianness(order);
            let r = parse_record(RawData::Single(&bytes), &info).expect("parses");
            let Record::Sample(s) = r else { panic!() };
            let got = match name {
                "ip" => s.ip(),
                "time" => s.time(),
                "addr" => s.addr(),
                "id" => s.id(),
                "stream_id" => s.stream_id(),
                "period" => s.period(),
                "data_src" => s.data_src(),
                "transaction" => s.transaction(),
                "phys_addr" => s.phys_addr(),
                "cgroup" => s.cgroup(),
                "data_page_size" => s.data_page_size(),
                "code_page_size" => s.code_page_size(),
                "weight" => s.weight().map(|w| w.full),
                _ => unreachable!(),
            };
            assert_eq!(
                got,
                Some(0x0102_0304_0506_0708),
                "{name} ({bit:#x}) {order:?}"
            );
            assert_eq!(s.cpumode(), CpuMode::Kernel);
            parse_everywhere(&bytes, &info);
            truncations(&bytes, &info, bytes.len());
        }
        // TID and CPU are two u32.
        let mut b = Builder::with_order(order);
        b.u32(5).u32(6).u32(7).u32(0xffff_ffff);
        let bytes = b.record(record_type::SAMPLE, 0);
        let info = RecordParseInfo::new(sample_type::TID | sample_type::CPU).with_endianness(order);
        let Record::Sample(s) = parse_record(RawData::Single(&bytes), &info).expect("parses")
        else {
            panic!()
        };
        assert_eq!((s.pid(), s.tid(), s.cpu()), (Some(5), Some(6), Some(7)));
        truncations(&bytes, &info, bytes.len());
    }
}

#[test]
fn sample_read_single_layouts() {
    let cases: [(u64, &[u64]); 3] = [
        (0, &[5]),
        (
            read_format::TOTAL_TIME_ENABLED | read_format::TOTAL_TIME_RUNNING,
            &[5, 6, 7],
        ),
        (
            read_format::TOTAL_TIME_ENABLED
                | read_format::TOTAL_TIME_RUNNING
                | read_format::ID
                | read_format::LOST,
            &[5, 6, 7, 8, 9],
        ),
    ];
    for order in ORDERS {
        for (rf, words) in cases {
            let mut b = Builder::with_order(order);
            for &w in words {
                b.u64(w);
            }
            let bytes = b.record(record_type::SAMPLE, 0);
            let info = RecordParseInfo::new(sample_type::READ)
                .with_read_format(rf)
                .with_endianness(order);
            let Record::Sample(s) = parse_record(RawData::Single(&bytes), &info).expect("parses")
            else {
                panic!()
            };
            let Some(ReadValues::Single {
                value,
                time_enabled,
                time_running,
                id,
                lost,
            }) = s.read()
            else {
                panic!("single read: {:?}", s.read())
            };
            assert_eq!(value, 5);
            let get = |i: usize| words.get(i).copied();
            assert_eq!(
                time_enabled,
                (rf & read_format::TOTAL_TIME_ENABLED != 0).then_some(6)
            );
            assert_eq!(
                time_running,
                (rf & read_format::TOTAL_TIME_RUNNING != 0).then_some(7)
            );
            assert_eq!(id, (rf & read_format::ID != 0).then(|| get(3).unwrap_or(0)));
            assert_eq!(
                lost,
                (rf & read_format::LOST != 0).then(|| get(4).unwrap_or(0))
            );
            truncations(&bytes, &info, bytes.len());
        }
    }
}

#[test]
fn sample_regs_with_abi_none_carry_no_values_and_empty_user_stack_has_no_dyn_size() {
    for order in ORDERS {
        let mut b = Builder::with_order(order);
        b.u64(0) // regs_user abi none: no values follow
            .u64(0) // stack_user size 0: no data, no dyn_size
            .u64(0xabc); // phys_addr proves the position
        let bytes = b.record(record_type::SAMPLE, 0);
        let info = RecordParseInfo::new(
            sample_type::REGS_USER | sample_type::STACK_USER | sample_type::PHYS_ADDR,
        )
        .with_regs(0xff, 0)
        .with_endianness(order);
        let Record::Sample(s) = parse_record(RawData::Single(&bytes), &info).expect("parses")
        else {
            panic!()
        };
        let ru = s.regs_user().expect("regs");
        assert_eq!((ru.abi, ru.values.len(), ru.get(0)), (0, 0, None));
        let su = s.stack_user().expect("stack");
        assert_eq!((su.data.len(), su.dyn_size), (0, 0));
        assert_eq!(s.phys_addr(), Some(0xabc));
        parse_everywhere(&bytes, &info);
    }
}

#[test]
fn branch_stack_without_hw_index_or_counters() {
    let mut b = Builder::with_order(Endianness::NATIVE);
    b.u64(1).u64(0x10).u64(0x20).u64(0).u64(0x77);
    let bytes = b.record(record_type::SAMPLE, 0);
    let info = RecordParseInfo::new(sample_type::BRANCH_STACK | sample_type::PHYS_ADDR);
    let Record::Sample(s) = parse_record(RawData::Single(&bytes), &info).expect("parses") else {
        panic!()
    };
    let bs = s.branch_stack().expect("branch stack");
    assert_eq!((bs.hw_idx, bs.counters, bs.len()), (None, None, 1));
    assert_eq!(s.phys_addr(), Some(0x77));
    // The same bytes with HW_INDEX read the first entry's `from` as hw_idx
    // and run out of bytes: the flag changes the layout.
    let info = info.with_branch_sample_type(branch_sample_type::HW_INDEX);
    assert!(parse_record(RawData::Single(&bytes), &info).is_err());
}

#[test]
fn huge_counts_are_errors_not_panics() {
    for (t, bst) in [
        (sample_type::CALLCHAIN, 0),
        (sample_type::BRANCH_STACK, 0),
        (sample_type::BRANCH_STACK, branch_sample_type::COUNTERS),
        (sample_type::STACK_USER, 0),
        (sample_type::AUX, 0),
        (sample_type::READ, 0),
    ] {
        let mut b = Builder::with_order(Endianness::NATIVE);
        b.u64(u64::MAX).u64(u64::MAX / 3).u64(1);
        let bytes = b.record(record_type::SAMPLE, 0);
        let info = RecordParseInfo::new(t)
            .with_branch_sample_type(bst)
            .with_read_format(read_format::GROUP | read_format::ID);
        let e = parse_record(RawData::Single(&bytes), &info).expect_err("cannot fit");
        assert!(
            matches!(
                e,
                ParseError::Truncated {
                    record: RecordType(9),
                    ..
                }
            ),
            "{e}"
        );
    }
}

#[test]
fn error_names_record_field_and_offset() {
    let mut b = Builder::with_order(Endianness::NATIVE);
    b.u64(1).u64(2);
    let bytes = b.record(record_type::SAMPLE, 0);
    let info = RecordParseInfo::new(sample_type::IP | sample_type::TIME | sample_type::PERIOD);
    let e = parse_record(RawData::Single(&bytes), &info).expect_err("period missing");
    assert_eq!(
        e,
        ParseError::Truncated {
            record: RecordType(9),
            field: "period",
            offset: 24,
            needed: 8,
            available: 0
        }
    );
    let msg = e.to_string();
    assert!(
        msg.contains("PERF_RECORD_SAMPLE") && msg.contains("`period`") && msg.contains("byte 24"),
        "{msg}"
    );
}

// ---------------------------------------------------------- other records

/// One crafted record of each type: (bytes' builder, type, misc, the
/// smallest valid length with the full trailer, a check).
type Check = fn(&Record<'_>);

/// One case of [`non_sample_cases`].
type Case = (&'static str, Vec<u8>, usize, Check);

fn non_sample_cases(order: Endianness, t: u64) -> Vec<Case> {
    let trailer = RecordParseInfo::new(t)
        .with_sample_id_all(true)
        .sample_id_len();
    let mut cases: Vec<Case> = Vec::new();
    mapping_cases(&mut cases, order, t, trailer);
    task_cases(&mut cases, order, t, trailer);
    switch_and_kernel_cases(&mut cases, order, t, trailer);
    other_cases(&mut cases, order, t, trailer);
    cases
}

/// MMAP and MMAP2 (inode and build-id forms).
fn mapping_cases(cases: &mut Vec<Case>, order: Endianness, t: u64, trailer: usize) {
    let mut b = Builder::with_order(order);

    b.u32(1)
        .u32(2)
        .u64(0x40_0000)
        .u64(0x1000)
        .u64(0x2000)
        .cstr(b"/usr/bin/true")
        .trailer(t);
    cases.push((
        "mmap",
        b.record(record_type::MMAP, misc::MMAP_DATA | 2),
        8 + 32 + trailer,
        |r| {
            let Record::Mmap(m) = r else { panic!("{r:?}") };
            assert_eq!(
                (m.pid, m.tid, m.addr, m.len, m.pgoff),
                (1, 2, 0x40_0000, 0x1000, 0x2000)
            );
            assert!(m.is_data);
            assert_eq!(m.cpumode, CpuMode::User);
            assert_eq!(bytes_of(m.filename), b"/usr/bin/true");
        },
    ));

    let mut b = Builder::with_order(order);
    b.u32(1)
        .u32(2)
        .u64(0x40_0000)
        .u64(0x1000)
        .u64(0)
        .u32(8)
        .u32(1)
        .u64(12345)
        .u64(6);
    b.u32(5).u32(2).cstr(b"/lib/libc.so.6").trailer(t);
    cases.push((
        "mmap2",
        b.record(record_type::MMAP2, 2),
        8 + 64 + trailer,
        |r| {
            let Record::Mmap2(m) = r else { panic!("{r:?}") };
            assert_eq!(
                m.file_id,
                Mmap2FileId::Inode {
                    maj: 8,
                    min: 1,
                    ino: 12345,
                    ino_generation: 6
                }
            );
            assert_eq!(m.file_id.build_id(), None);
            assert_eq!((m.prot, m.flags, m.is_data), (5, 2, false));
            assert_eq!(bytes_of(m.filename), b"/lib/libc.so.6");
        },
    ));

    let mut b = Builder::with_order(order);
    let id: [u8; 20] = std::array::from_fn(|i| i as u8 + 1);
    b.u32(1)
        .u32(2)
        .u64(0x40_0000)
        .u64(0x1000)
        .u64(0)
        .bytes(&[20, 0, 0, 0])
        .bytes(&id);
    b.u32(5).u32(2).cstr(b"x").trailer(t);
    cases.push((
        "mmap2 build id",
        b.record(record_type::MMAP2, misc::MMAP_BUILD_ID),
        8 + 64 + trailer,
        |r| {
            let Record::Mmap2(m) = r else { panic!("{r:?}") };
            let want: [u8; 20] = std::array::from_fn(|i| i as u8 + 1);
            assert_eq!(m.file_id.build_id(), Some(&want[..]));
            assert_eq!((m.prot, m.flags), (5, 2));
            assert_eq!(bytes_of(m.filename), b"x");
        },
    ));
}

/// COMM, FORK/EXIT, LOST, LOST_SAMPLES, THROTTLE/UNTHROTTLE.
fn task_cases(cases: &mut Vec<Case>, order: Endianness, t: u64, trailer: usize) {
    let mut b = Builder::with_order(order);
    b.u32(7).u32(8).cstr(b"lwprof-spin").trailer(t);
    cases.push((
        "comm",
        b.record(record_type::COMM, misc::COMM_EXEC),
        8 + 8 + trailer,
        |r| {
            let Record::Comm(c) = r else { panic!("{r:?}") };
            assert_eq!((c.pid, c.tid, c.is_exec), (7, 8, true));
            assert_eq!(bytes_of(c.comm), b"lwprof-spin");
        },
    ));

    for (ty, name) in [(record_type::FORK, "fork"), (record_type::EXIT, "exit")] {
        let mut b = Builder::with_order(order);
        b.u32(10).u32(1).u32(11).u32(2).u64(999).trailer(t);
        cases.push((name, b.record(ty, 0), 8 + 24 + trailer, |r| {
            let (Record::Fork(f) | Record::Exit(f)) = r else {
                panic!("{r:?}")
            };
            assert_eq!((f.pid, f.ppid, f.tid, f.ptid, f.time), (10, 1, 11, 2, 999));
        }));
    }

    let mut b = Builder::with_order(order);
    b.u64(55).u64(1000).trailer(t);
    cases.push((
        "lost",
        b.record(record_type::LOST, 0),
        8 + 16 + trailer,
        |r| {
            let Record::Lost(l) = r else { panic!("{r:?}") };
            assert_eq!((l.id, l.lost), (55, 1000));
        },
    ));

    let mut b = Builder::with_order(order);
    b.u64(31).trailer(t);
    cases.push((
        "lost samples",
        b.record(record_type::LOST_SAMPLES, 0),
        8 + 8 + trailer,
        |r| {
            let Record::LostSamples(l) = r else {
                panic!("{r:?}")
            };
            assert_eq!(l.lost, 31);
        },
    ));

    for (ty, name) in [
        (record_type::THROTTLE, "throttle"),
        (record_type::UNTHROTTLE, "unthrottle"),
    ] {
        let mut b = Builder::with_order(order);
        b.u64(5000).u64(3).u64(4).trailer(t);
        cases.push((name, b.record(ty, 0), 8 + 24 + trailer, |r| {
            let (Record::Throttle(x) | Record::Unthrottle(x)) = r else {
                panic!("{r:?}")
            };
            assert_eq!((x.time, x.id, x.stream_id), (5000, 3, 4));
        }));
    }
}

/// SWITCH, SWITCH_CPU_WIDE, NAMESPACES, KSYMBOL, BPF_EVENT.
fn switch_and_kernel_cases(cases: &mut Vec<Case>, order: Endianness, t: u64, trailer: usize) {
    let mut b = Builder::with_order(order);
    b.trailer(t);
    cases.push((
        "switch",
        b.record(
            record_type::SWITCH,
            misc::SWITCH_OUT | misc::SWITCH_OUT_PREEMPT,
        ),
        8 + trailer,
        |r| {
            let Record::Switch(s) = r else {
                panic!("{r:?}")
            };
            assert!(s.is_out && s.is_preempt);
        },
    ));

    let mut b = Builder::with_order(order);
    b.u32(300).u32(301).trailer(t);
    cases.push((
        "switch cpu wide",
        b.record(record_type::SWITCH_CPU_WIDE, 0),
        8 + 8 + trailer,
        |r| {
            let Record::SwitchCpuWide(s) = r else {
                panic!("{r:?}")
            };
            assert_eq!(
                (s.is_out, s.is_preempt, s.next_prev_pid, s.next_prev_tid),
                (false, false, 300, 301)
            );
        },
    ));

    let mut b = Builder::with_order(order);
    b.u32(1)
        .u32(2)
        .u64(2)
        .u64(4)
        .u64(0xf000_0001)
        .u64(4)
        .u64(0xf000_0002)
        .trailer(t);
    cases.push((
        "namespaces",
        b.record(record_type::NAMESPACES, 0),
        8 + 48 + trailer,
        |r| {
            let Record::Namespaces(n) = r else {
                panic!("{r:?}")
            };
            assert_eq!((n.pid, n.tid, n.namespaces.len()), (1, 2, 2));
            let v: Vec<_> = n.namespaces.iter().collect();
            assert_eq!(
                v[1],
                NamespaceEntry {
                    dev: 4,
                    inode: 0xf000_0002
                }
            );
        },
    ));

    let mut b = Builder::with_order(order);
    b.u64(0xffff_ffff_c000_0000)
        .u32(0x80)
        .u16(1)
        .u16(0)
        .cstr(b"bpf_prog_6deef7357e7b4530")
        .trailer(t);
    cases.push((
        "ksymbol",
        b.record(record_type::KSYMBOL, 0),
        8 + 16 + trailer,
        |r| {
            let Record::Ksymbol(k) = r else {
                panic!("{r:?}")
            };
            assert_eq!(
                (k.addr, k.len, k.ksym_type, k.flags),
                (0xffff_ffff_c000_0000, 0x80, 1, 0)
            );
            assert_eq!(bytes_of(k.name), b"bpf_prog_6deef7357e7b4530");
        },
    ));

    let mut b = Builder::with_order(order);
    b.u16(1)
        .u16(0)
        .u32(42)
        .bytes(&[1, 2, 3, 4, 5, 6, 7, 8])
        .trailer(t);
    cases.push((
        "bpf event",
        b.record(record_type::BPF_EVENT, 0),
        8 + 16 + trailer,
        |r| {
            let Record::BpfEvent(e) = r else {
                panic!("{r:?}")
            };
            assert_eq!(
                (e.event_type, e.flags, e.id, e.tag),
                (1, 0, 42, [1, 2, 3, 4, 5, 6, 7, 8])
            );
        },
    ));
}

/// CGROUP, TEXT_POKE, AUX, ITRACE_START, READ, AUX_OUTPUT_HW_ID.
fn other_cases(cases: &mut Vec<Case>, order: Endianness, t: u64, trailer: usize) {
    let mut b = Builder::with_order(order);
    b.u64(1234).cstr(b"/sys/fs/cgroup/user.slice").trailer(t);
    cases.push((
        "cgroup",
        b.record(record_type::CGROUP, 0),
        8 + 8 + trailer,
        |r| {
            let Record::Cgroup(c) = r else {
                panic!("{r:?}")
            };
            assert_eq!(c.id, 1234);
            assert_eq!(bytes_of(c.path), b"/sys/fs/cgroup/user.slice");
        },
    ));

    let mut b = Builder::with_order(order);
    b.u64(0xffff_ffff_8100_1000)
        .u16(5)
        .u16(5)
        .bytes(&[0x0f, 0x1f, 0x44, 0, 0, 0xe8, 1, 2, 3, 4])
        .pad8()
        .trailer(t);
    cases.push((
        "text poke",
        b.record(record_type::TEXT_POKE, 0),
        8 + 22 + trailer,
        |r| {
            let Record::TextPoke(p) = r else {
                panic!("{r:?}")
            };
            assert_eq!(p.addr, 0xffff_ffff_8100_1000);
            assert_eq!(bytes_of(p.old_bytes), [0x0f, 0x1f, 0x44, 0, 0]);
            assert_eq!(bytes_of(p.new_bytes), [0xe8, 1, 2, 3, 4]);
        },
    ));

    let mut b = Builder::with_order(order);
    b.u64(4096).u64(8192).u64(1).trailer(t);
    cases.push((
        "aux",
        b.record(record_type::AUX, 0),
        8 + 24 + trailer,
        |r| {
            let Record::Aux(a) = r else { panic!("{r:?}") };
            assert_eq!((a.aux_offset, a.aux_size, a.flags), (4096, 8192, 1));
        },
    ));

    let mut b = Builder::with_order(order);
    b.u32(20).u32(21).trailer(t);
    cases.push((
        "itrace start",
        b.record(record_type::ITRACE_START, 0),
        8 + 8 + trailer,
        |r| {
            let Record::ItraceStart(i) = r else {
                panic!("{r:?}")
            };
            assert_eq!((i.pid, i.tid), (20, 21));
        },
    ));

    let mut b = Builder::with_order(order);
    b.u32(20)
        .u32(21)
        .u64(1)
        .u64(10)
        .u64(9)
        .u64(333)
        .u64(5)
        .trailer(t);
    cases.push((
        "read",
        b.record(record_type::READ, 0),
        8 + 48 + trailer,
        |r| {
            let Record::Read(x) = r else { panic!("{r:?}") };
            assert_eq!((x.pid, x.tid), (20, 21));
            let ReadValues::Group {
                time_enabled,
                time_running,
                members,
            } = x.values
            else {
                panic!("{x:?}")
            };
            assert_eq!((time_enabled, time_running), (Some(10), Some(9)));
            assert_eq!(
                members.iter().collect::<Vec<_>>(),
                vec![ReadGroupMember {
                    value: 333,
                    id: Some(5),
                    lost: None
                }]
            );
        },
    ));

    let mut b = Builder::with_order(order);
    b.u64(0x77).trailer(t);
    cases.push((
        "aux output hw id",
        b.record(record_type::AUX_OUTPUT_HW_ID, 0),
        8 + 8 + trailer,
        |r| {
            let Record::AuxOutputHwId(a) = r else {
                panic!("{r:?}")
            };
            assert_eq!(a.hw_id, 0x77);
        },
    ));
}

#[test]
fn every_non_sample_record_in_both_orders_with_and_without_trailer() {
    let read_format = read_format::GROUP
        | read_format::TOTAL_TIME_ENABLED
        | read_format::TOTAL_TIME_RUNNING
        | read_format::ID;
    for order in ORDERS {
        for (t, id_all) in [
            (TRAILER_ALL, true),
            (0, false),
            (sample_type::TID | sample_type::TIME, true),
        ] {
            let info = RecordParseInfo::new(t)
                .with_sample_id_all(id_all)
                .with_read_format(read_format)
                .with_endianness(order);
            let cases = non_sample_cases(order, if id_all { t } else { 0 });
            assert_eq!(cases.len(), 21, "every record type is covered");
            for (name, bytes, min_ok, check) in cases {
                let r = parse_record(RawData::Single(&bytes), &info)
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
                check(&r);
                let sid = r
                    .sample_id()
                    .unwrap_or_else(|| panic!("{name} has a trailer"));
                if id_all && t == TRAILER_ALL {
                    assert_eq!(*sid, expected_trailer(), "{name} trailer");
                    assert_eq!(r.time(), Some(TRAILER_TIME));
                } else if id_all {
                    assert_eq!(
                        (sid.pid, sid.tid, sid.time, sid.id),
                        (
                            Some(TRAILER_PID),
                            Some(TRAILER_TID),
                            Some(TRAILER_TIME),
                            None
                        )
                    );
                } else {
                    assert_eq!(*sid, SampleId::default(), "{name}");
                }
                parse_everywhere(&bytes, &info);
                truncations(&bytes, &info, min_ok);
            }
        }
    }
}

#[test]
fn header_misc_bits() {
    let h = |record_type, misc| RecordHeader {
        record_type,
        misc,
        size: 8,
    };
    assert_eq!(h(record_type::SAMPLE, 1).cpumode(), CpuMode::Kernel);
    assert_eq!(h(record_type::SAMPLE, 2).cpumode(), CpuMode::User);
    assert_eq!(h(record_type::SAMPLE, 3).cpumode(), CpuMode::Hypervisor);
    assert_eq!(h(record_type::SAMPLE, 4).cpumode(), CpuMode::GuestKernel);
    assert_eq!(h(record_type::SAMPLE, 5).cpumode(), CpuMode::GuestUser);
    assert_eq!(h(record_type::SAMPLE, 0).cpumode(), CpuMode::Unknown);
    assert_eq!(h(record_type::SAMPLE, 7).cpumode(), CpuMode::Other(7));
    assert!(h(record_type::SAMPLE, misc::EXACT_IP).exact_ip());
    // Bit 14 means different things per type.
    assert!(!h(record_type::MMAP2, misc::EXACT_IP).exact_ip());
    assert!(h(record_type::MMAP2, misc::MMAP_BUILD_ID).mmap_build_id());
    assert!(h(record_type::SWITCH, misc::SWITCH_OUT_PREEMPT).switch_out_preempt());
    assert!(!h(record_type::SAMPLE, misc::SWITCH_OUT_PREEMPT).switch_out_preempt());
    // Bit 13 likewise.
    assert!(h(record_type::MMAP, misc::MMAP_DATA).mmap_data());
    assert!(h(record_type::COMM, misc::COMM_EXEC).comm_exec());
    assert!(h(record_type::SWITCH_CPU_WIDE, misc::SWITCH_OUT).switch_out());
    assert!(!h(record_type::COMM, misc::SWITCH_OUT).switch_out());
    // Parsed from bytes in both orders.
    for order in ORDERS {
        let bytes = Builder::with_order(order).record(record_type::SWITCH, misc::SWITCH_OUT | 2);
        let h = RecordHeader::parse(RawData::Single(&bytes), order).expect("8 bytes");
        assert_eq!(
            h,
            RecordHeader {
                record_type: record_type::SWITCH,
                misc: misc::SWITCH_OUT | 2,
                size: 8
            }
        );
    }
}

#[test]
fn unknown_types_come_back_raw() {
    for ty in [0u32, 22, 64, 68, 0xffff_ffff] {
        let mut b = Builder::with_order(Endianness::NATIVE);
        b.u64(1).u64(2);
        let bytes = b.record(ty, 5);
        let info = RecordParseInfo::new(TRAILER_ALL).with_sample_id_all(true);
        let r = parse_record(RawData::Single(&bytes), &info).expect("unknown is not an error");
        assert_eq!(
            r,
            Record::Unknown {
                record_type: ty,
                misc: 5,
                data: RawData::Single(&bytes[8..])
            }
        );
        assert_eq!(r.sample_id(), None);
    }
}

#[test]
fn bad_header_sizes_are_errors() {
    let mut bytes = Builder::with_order(Endianness::NATIVE).record(record_type::SWITCH, 0);
    for size in [0u16, 7, 9, 100] {
        bytes[6..8].copy_from_slice(&size.to_ne_bytes());
        let e = parse_record(RawData::Single(&bytes), &RecordParseInfo::default())
            .expect_err("bad size");
        assert!(matches!(e, ParseError::BadSize { .. }), "{e}");
    }
    // Longer data than the record: the rest is ignored.
    let mut bytes = Builder::with_order(Endianness::NATIVE).record(record_type::SWITCH, 0);
    bytes.extend_from_slice(&[0xff; 16]);
    let raw = RawRecord::from_data(RawData::Single(&bytes), Endianness::NATIVE).expect("header");
    assert_eq!(raw.body.len(), 0);
}

// ------------------------------------------------------------------- ids

#[test]
fn id_position_matches_perf() {
    use sample_type as st;
    let p = RecordParseInfo::new(st::IDENTIFIER | st::IP | st::ID)
        .with_sample_id_all(true)
        .id_position();
    assert_eq!(
        p,
        IdPosition {
            in_sample: Some(0),
            from_end: Some(1)
        }
    );
    let p = RecordParseInfo::new(st::IP | st::TID | st::TIME | st::ID | st::CPU)
        .with_sample_id_all(true)
        .id_position();
    assert_eq!(
        p,
        IdPosition {
            in_sample: Some(3),
            from_end: Some(2)
        }
    );
    let p =
        RecordParseInfo::new(st::IP | st::ADDR | st::ID | st::STREAM_ID | st::CPU).id_position();
    assert_eq!(
        p,
        IdPosition {
            in_sample: Some(2),
            from_end: None
        }
    );
    assert_eq!(
        RecordParseInfo::new(st::IP).id_position(),
        IdPosition {
            in_sample: None,
            from_end: None
        }
    );

    let a = RecordParseInfo::new(st::IDENTIFIER | st::IP | st::CALLCHAIN).with_sample_id_all(true);
    let b = RecordParseInfo::new(st::IDENTIFIER | st::TID | st::RAW).with_sample_id_all(true);
    let c = RecordParseInfo::new(st::ID | st::IP).with_sample_id_all(true);
    assert_eq!(IdPosition::common([&a, &b]), Some(a.id_position()));
    assert_eq!(IdPosition::common([&a, &c]), None);
}

#[test]
fn find_id_agrees_with_the_full_parse() {
    use sample_type as st;
    for order in ORDERS {
        // Samples: ID after IP and TIME, and IDENTIFIER first.
        for t in [
            st::IP | st::TIME | st::ID | st::CPU,
            st::IDENTIFIER | st::IP | st::ID,
        ] {
            let info = RecordParseInfo::new(t).with_endianness(order);
            let mut b = Builder::with_order(order);
            if t & st::IDENTIFIER != 0 {
                b.u64(4711);
            }
            b.u64(0x1000);
            if t & st::TIME != 0 {
                b.u64(5);
            }
            b.u64(4711);
            if t & st::CPU != 0 {
                b.u32(1).u32(0);
            }
            let bytes = b.record(record_type::SAMPLE, 0);
            let raw = RawRecord::from_data(RawData::Single(&bytes), order).expect("header");
            let Record::Sample(s) = raw.parse(&info).expect("parses") else {
                panic!()
            };
            assert_eq!(s.id(), Some(4711));
            assert_eq!(raw.id(&info.id_position()), Some(4711));
        }
        // Non-samples: ID before STREAM_ID and CPU, and IDENTIFIER last.
        for t in [TRAILER_ALL, TRAILER_ALL & !st::IDENTIFIER] {
            let info = RecordParseInfo::new(t)
                .with_sample_id_all(true)
                .with_endianness(order);
            for (name, bytes, _, _) in non_sample_cases(order, t) {
                let raw = RawRecord::from_data(RawData::Single(&bytes), order).expect("header");
                assert_eq!(raw.id(&info.id_position()), Some(TRAILER_ID), "{name}");
                let r = raw.parse(&info).expect("parses");
                assert_eq!(r.sample_id().and_then(|s| s.id), Some(TRAILER_ID), "{name}");
            }
        }
    }
}

#[test]
fn a_ring_of_records_split_at_the_wrap() {
    // Several records back to back, the whole run cut at every offset as a
    // ring would be: walking it by header sizes finds the same records.
    let order = Endianness::NATIVE;
    let info = all_info(order, sample_type::WEIGHT).with_sample_id_all(true);
    let mut ring = all_sample(order);
    for (name, bytes, _, _) in non_sample_cases(order, info.sample_type) {
        // The READ case is crafted for another read_format.
        if name != "read" {
            ring.extend_from_slice(&bytes);
        }
    }
    let walk = |data: RawData<'_>| {
        let mut out = Vec::new();
        let mut at = 0;
        while at < data.len() {
            let rest = data.slice(at, data.len() - at).expect("in range");
            let raw = RawRecord::from_data(rest, order).expect("header");
            out.push(canon(&raw.parse(&info).expect("parses")));
            at += usize::from(raw.header.size);
        }
        out
    };
    let want = walk(RawData::Single(&ring));
    assert_eq!(want.len(), 21);
    for k in (0..ring.len()).step_by(8) {
        let (a, b) = ring.split_at(k);
        assert_eq!(walk(RawData::new(a, b)), want, "wrap at {k}");
    }
}

#[test]
fn records_stay_small_enough_to_move_cheaply() {
    // A ring drain moves one Record per sample; the first version carried
    // every sample field inline (696 bytes) and spent a third of its time in
    // memmove. Keep it compact.
    assert!(
        std::mem::size_of::<Record<'_>>() <= 192,
        "{}",
        std::mem::size_of::<Record<'_>>()
    );
    // A sample is what a drain loop moves most: fixed fields are decoded
    // from the bytes when asked for, and fields after the call chain found
    // again, so the struct holds the view and a few offsets. Past 128 bytes
    // moves become memcpy calls (a third of the drain time when it was 176).
    assert!(
        std::mem::size_of::<SampleRecord<'_>>() <= 80,
        "{}",
        std::mem::size_of::<SampleRecord<'_>>()
    );
}

// ------------------------------------------------------- RecordParser

/// The fields before the call chain, each alone or with any others.
const HEAD_BITS: [u64; 9] = [
    sample_type::IDENTIFIER,
    sample_type::IP,
    sample_type::TID,
    sample_type::TIME,
    sample_type::ADDR,
    sample_type::ID,
    sample_type::STREAM_ID,
    sample_type::CPU,
    sample_type::PERIOD,
];

/// Fields after the call chain the fast path hands to the tail walker.
const SOME_TAIL: u64 = sample_type::RAW
    | sample_type::REGS_USER
    | sample_type::STACK_USER
    | sample_type::WEIGHT
    | sample_type::PHYS_ADDR;

/// A SAMPLE record of `info`'s layout with distinct values in every field:
/// `frames` call chain entries, and for group READs two members.
fn craft_sample(info: &RecordParseInfo, frames: u64, seed: u64) -> Vec<u8> {
    let t = info.sample_type;
    let rf = info.read_format;
    let mut b = Builder::with_order(info.endianness);
    let mut v = seed;
    let mut next = || {
        v = v
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        v
    };
    let id = next();
    if t & sample_type::IDENTIFIER != 0 {
        b.u64(id);
    }
    if t & sample_type::IP != 0 {
        b.u64(next());
    }
    if t & sample_type::TID != 0 {
        b.u32(next() as u32).u32(next() as u32);
    }
    if t & sample_type::TIME != 0 {
        b.u64(next());
    }
    if t & sample_type::ADDR != 0 {
        b.u64(next());
    }
    if t & sample_type::ID != 0 {
        b.u64(id);
    }
    if t & sample_type::STREAM_ID != 0 {
        b.u64(next());
    }
    if t & sample_type::CPU != 0 {
        b.u32(next() as u32).u32(0);
    }
    if t & sample_type::PERIOD != 0 {
        b.u64(next());
    }
    if t & sample_type::READ != 0 {
        let opt = [
            read_format::TOTAL_TIME_ENABLED,
            read_format::TOTAL_TIME_RUNNING,
        ];
        if rf & read_format::GROUP != 0 {
            b.u64(2);
            for bit in opt {
                if rf & bit != 0 {
                    b.u64(next());
                }
            }
            for _ in 0..2 {
                b.u64(next());
                for bit in [read_format::ID, read_format::LOST] {
                    if rf & bit != 0 {
                        b.u64(next());
                    }
                }
            }
        } else {
            b.u64(next());
            for bit in opt.into_iter().chain([read_format::ID, read_format::LOST]) {
                if rf & bit != 0 {
                    b.u64(next());
                }
            }
        }
    }
    if t & sample_type::CALLCHAIN != 0 {
        b.u64(frames);
        for _ in 0..frames {
            b.u64(next());
        }
    }
    if t & sample_type::RAW != 0 {
        b.u32(12).bytes(&[7; 12]); // 4 + 12 = 16: stays 8-aligned
    }
    if t & sample_type::REGS_USER != 0 {
        b.u64(2);
        for _ in 0..info.sample_regs_user.count_ones() {
            b.u64(next());
        }
    }
    if t & sample_type::STACK_USER != 0 {
        b.u64(16).bytes(&[9; 16]).u64(8);
    }
    if t & sample_type::WEIGHT != 0 {
        b.u64(next());
    }
    if t & sample_type::PHYS_ADDR != 0 {
        b.u64(next());
    }
    b.record(record_type::SAMPLE, misc::EXACT_IP | 2)
}

/// Checks every `RecordParser` entry against the general parser on `data`:
/// the same record, the same sample, or the same error.
fn same_as_general(data: RawData<'_>, info: &RecordParseInfo) {
    let parser = RecordParser::new(info);
    let want = parse_record(data, info);
    assert_eq!(parser.parse(data), want, "parse, {info:?}");
    let want_sample = want.clone().map(|r| match r {
        Record::Sample(s) => Some(s),
        _ => None,
    });
    assert_eq!(
        parser.parse_sample(data),
        want_sample,
        "parse_sample, {info:?}"
    );
    if let Ok(raw) = RawRecord::from_data(data, info.endianness) {
        assert_eq!(
            parser.parse_raw(&raw),
            raw.parse(info),
            "parse_raw, {info:?}"
        );
        assert_eq!(
            parser.parse_raw_sample(&raw),
            want_sample,
            "parse_raw_sample, {info:?}"
        );
    }
    // The one-pass decoder: the same sample or error, its fixed fields and
    // call chain those the accessors read.
    let want_decoded = want_sample.clone().map(|s| s.map(DecodedSample::from));
    let decoded = parser.decode_sample(data);
    assert_eq!(decoded, want_decoded, "decode_sample, {info:?}");
    // Equal structs read equal fields; the Debug form lists them all.
    if let (Ok(Some(fast)), Ok(Some(slow))) = (parser.parse_sample(data), want_sample) {
        assert_eq!(format!("{fast:?}"), format!("{slow:?}"));
    }
}

fn read_formats() -> Vec<u64> {
    let mut out = vec![0];
    for bits in 0..16u64 {
        let mut rf = 0;
        for (i, bit) in [
            read_format::TOTAL_TIME_ENABLED,
            read_format::TOTAL_TIME_RUNNING,
            read_format::ID,
            read_format::LOST,
        ]
        .into_iter()
        .enumerate()
        {
            if bits & (1 << i) != 0 {
                rf |= bit;
            }
        }
        out.push(rf);
        out.push(rf | read_format::GROUP);
    }
    out
}

#[test]
fn record_parser_matches_the_general_parser_on_every_head_layout() {
    // Every subset of the fixed fields, with and without a call chain and a
    // tail, in both orders: the fast path (contiguous records) and its
    // fallbacks return exactly what parse_record does.
    let mut n = 0;
    for order in ORDERS {
        for head in 0u32..(1 << HEAD_BITS.len()) {
            let mut t = 0;
            for (i, bit) in HEAD_BITS.iter().enumerate() {
                if head & (1 << i) != 0 {
                    t |= bit;
                }
            }
            for extra in [
                0,
                sample_type::CALLCHAIN,
                SOME_TAIL,
                sample_type::CALLCHAIN | SOME_TAIL,
            ] {
                let info = RecordParseInfo::new(t | extra)
                    .with_regs(REGS_USER_MASK, 0)
                    .with_endianness(order);
                for frames in [0, 1, 17] {
                    let bytes = craft_sample(&info, frames, u64::from(head) + frames);
                    let parsed = parse_record(RawData::Single(&bytes), &info);
                    assert!(parsed.is_ok(), "{info:?}: {parsed:?}");
                    same_as_general(RawData::Single(&bytes), &info);
                    // ... and the one-pass decoder took its fast path.
                    let fast = RecordParser::new(&info).decode_sample_fast(&bytes);
                    assert!(fast.is_some(), "{info:?}");
                    n += 1;
                }
            }
        }
    }
    assert_eq!(n, 2 * 512 * 4 * 3);
}

#[test]
fn record_parser_matches_with_every_read_format() {
    // Single READs are fixed-size (fast path); group READs come before the
    // call chain with a variable size (general path).
    for order in ORDERS {
        for rf in read_formats() {
            for t in [
                sample_type::READ,
                sample_type::IP | sample_type::TID | sample_type::READ | sample_type::CALLCHAIN,
                sample_type::IDENTIFIER
                    | sample_type::TIME
                    | sample_type::READ
                    | sample_type::CALLCHAIN
                    | SOME_TAIL,
            ] {
                let info = RecordParseInfo::new(t)
                    .with_read_format(rf)
                    .with_regs(REGS_USER_MASK, 0)
                    .with_endianness(order);
                let bytes = craft_sample(&info, 3, rf);
                let parser = RecordParser::new(&info);
                let Ok(Some(s)) = parser.parse_sample(RawData::Single(&bytes)) else {
                    panic!("{info:?} does not parse");
                };
                assert!(s.read().is_some());
                same_as_general(RawData::Single(&bytes), &info);
            }
        }
    }
}

#[test]
fn record_parser_matches_on_every_split_and_every_truncation() {
    // Split at every offset (the general path, for the seam), cut at every
    // length with an honest or a lying size: the same samples, the same
    // errors.
    let layouts = [
        sample_type::IP
            | sample_type::TID
            | sample_type::TIME
            | sample_type::CPU
            | sample_type::PERIOD
            | sample_type::CALLCHAIN,
        sample_type::IDENTIFIER | sample_type::IP | sample_type::CALLCHAIN | SOME_TAIL,
        sample_type::IDENTIFIER | sample_type::ID | sample_type::STREAM_ID | sample_type::READ,
        ALL_SAMPLE,
    ];
    for order in ORDERS {
        for t in layouts {
            for rf in [0, read_format::ID | read_format::LOST, ALL_READ] {
                let info = if t == ALL_SAMPLE {
                    all_info(order, sample_type::WEIGHT)
                } else {
                    RecordParseInfo::new(t)
                        .with_read_format(rf)
                        .with_regs(REGS_USER_MASK, 0)
                        .with_endianness(order)
                };
                let bytes = if t == ALL_SAMPLE {
                    all_sample(order)
                } else {
                    craft_sample(&info, 5, rf)
                };
                assert!(parse_record(RawData::Single(&bytes), &info).is_ok());
                for k in 1..bytes.len() {
                    let (a, b) = bytes.split_at(k);
                    same_as_general(RawData::new(a, b), &info);
                }
                for len in 0..bytes.len() {
                    same_as_general(RawData::Single(&bytes[..len]), &info);
                    let mut cut = bytes[..len].to_vec();
                    if len >= 8 {
                        let size = u16::try_from(len).expect("small");
                        let b = match order {
                            Endianness::Little => size.to_le_bytes(),
                            Endianness::Big => size.to_be_bytes(),
                        };
                        cut[6..8].copy_from_slice(&b);
                    }
                    same_as_general(RawData::Single(&cut), &info);
                }
            }
        }
    }
}

#[test]
fn record_parser_rejects_what_the_general_parser_rejects() {
    let order = Endianness::NATIVE;
    let info = RecordParseInfo::new(sample_type::IP | sample_type::CALLCHAIN);
    // A call chain count past the record, and one that overflows.
    for nr in [2, 3, 1 << 40, u64::MAX / 8 + 1, u64::MAX] {
        let mut b = Builder::with_order(order);
        b.u64(0x1000).u64(nr).u64(1).u64(2);
        let bytes = b.record(record_type::SAMPLE, 0);
        let got = RecordParser::new(&info).parse_sample(RawData::Single(&bytes));
        if nr == 2 {
            assert!(matches!(got, Ok(Some(_))), "{got:?}");
        } else {
            assert!(got.is_err(), "nr {nr}: {got:?}");
        }
        same_as_general(RawData::Single(&bytes), &info);
    }
    // Header sizes below 8 and past the data.
    for size in [0u16, 7, 8, 9, 64] {
        let mut b = Builder::with_order(order);
        b.u32(record_type::SAMPLE).u16(0).u16(size).u64(0x1000);
        same_as_general(RawData::Single(b.body()), &info);
    }
    // Fewer bytes than a header.
    same_as_general(RawData::Single(&[9, 0, 0]), &info);
}

#[test]
fn record_parser_leaves_other_records_to_parse() {
    let order = Endianness::NATIVE;
    let info = all_info(order, sample_type::WEIGHT).with_sample_id_all(true);
    let parser = RecordParser::new(&info);
    for (name, bytes, _, _) in non_sample_cases(order, info.sample_type) {
        if name == "read" {
            continue; // crafted for another read_format
        }
        let data = RawData::Single(&bytes);
        assert_eq!(parser.parse_sample(data), Ok(None), "{name}");
        let raw = RawRecord::from_data(data, order).expect("header");
        assert_eq!(parser.parse_raw_sample(&raw), Ok(None), "{name}");
        same_as_general(data, &info);
    }
    assert_eq!(parser.info(), &info);
    assert_eq!(RecordParser::from(info), parser);
}

#[test]
fn record_parser_reads_the_records_own_byte_order_in_parse_raw() {
    // parse_raw, like RawRecord::parse, follows the record's order over the
    // info's; parse and parse_sample read the header in the info's order.
    let t = sample_type::IP | sample_type::TID | sample_type::CALLCHAIN;
    for order in ORDERS {
        let other = match order {
            Endianness::Little => Endianness::Big,
            Endianness::Big => Endianness::Little,
        };
        let info = RecordParseInfo::new(t).with_endianness(order);
        let bytes = craft_sample(&info, 4, 1);
        let raw = RawRecord::from_data(RawData::Single(&bytes), order).expect("header");
        let parser = RecordParser::new(&info.with_endianness(other));
        assert_eq!(parser.parse_raw(&raw), raw.parse(&info));
        assert_eq!(
            parser.parse_raw_sample(&raw),
            RecordParser::new(&info).parse_sample(RawData::Single(&bytes))
        );
        let Ok(Some(s)) = parser.parse_raw_sample(&raw) else {
            panic!("parses");
        };
        assert_eq!(s.callchain().map(|c| c.len()), Some(4));
    }
}

#[test]
fn u64_iter_reads_across_the_seam_and_ignores_a_partial_element() {
    let words: Vec<u64> = (1..=5).map(|i| i * 0x0101_0101_0101_0101).collect();
    for order in ORDERS {
        let mut b = Builder::with_order(order);
        for &w in &words {
            b.u64(w);
        }
        b.bytes(&[0xaa; 3]); // not a whole element
        let bytes = b.body().to_vec();
        for k in 0..=bytes.len() {
            let (x, y) = bytes.split_at(k);
            let arr = U64Array::new(RawData::new(x, y), order);
            assert_eq!(arr.len(), 5);
            assert_eq!(arr.iter().len(), 5, "split at {k}");
            assert_eq!(arr.iter().collect::<Vec<_>>(), words, "next, split at {k}");
            assert_eq!(
                arr.iter().fold(Vec::new(), |mut v, w| {
                    v.push(w);
                    v
                }),
                words,
                "fold, split at {k}"
            );
            let mut it = arr.iter();
            it.next();
            assert_eq!(
                it.fold(0u64, u64::wrapping_add),
                words[1..].iter().sum::<u64>()
            );
            for (i, &w) in words.iter().enumerate() {
                assert_eq!(arr.get(i), Some(w));
            }
        }
    }
}
