//! Tests of the ring logic on anonymous rings, with [`RingWriter`] playing
//! the kernel: wraps at every offset, the four verbs, lost-record
//! accounting, malformed headers, snapshots and the AUX area.

use super::map::page_size;
use super::*;
use crate::record::Endianness;
use lwprof_records::abi::record_type;
use lwprof_records::record::RecordHeader;
use lwprof_records::RecordBuilder;

/// A record of `size` bytes (>= 16, multiple of 8) carrying `seq` and a
/// byte pattern derived from it.
fn rec(seq: u64, size: usize) -> Vec<u8> {
    let mut payload = seq.to_ne_bytes().to_vec();
    payload.extend((0..size - 16).map(|i| (seq as usize * 31 + i) as u8));
    RecordBuilder::new()
        .bytes(&payload)
        .finish(record_type::SAMPLE, 0)
        .unwrap()
}

fn seq_of(r: &RawData<'_>) -> u64 {
    r.read_u64(8).unwrap()
}

#[test]
fn every_wrap_offset_reads_in_place() {
    let (mut ring, mut w) = Ring::anonymous(1, 0, false).unwrap();
    let size = ring.data_size() as u64;
    let sizes = [48usize, 16, 104, 200, 24];
    // Every 8-byte-aligned start, near zero and near the u64 wrap of the
    // position counters, so every record crosses the end at every offset.
    for base in [0u64, u64::MAX - 3 * size + 1] {
        for start in (0..size).step_by(8) {
            let pos = base.wrapping_add(start);
            w.set_positions(pos, pos);
            let mut expected = Vec::new();
            for (i, &sz) in sizes.iter().enumerate() {
                let r = rec(start * 10 + i as u64, sz);
                assert!(w.write(&r));
                expected.push(r);
            }
            let mut batch = ring.read();
            let mut got = 0;
            for (r, want) in batch.records().zip(&expected) {
                assert_eq!(r.len(), want.len());
                assert_eq!(r.as_contiguous().as_ref(), &want[..], "start {start}");
                if let RawData::Split(a, b) = r {
                    assert!(!a.is_empty() && !b.is_empty());
                }
                got += 1;
            }
            assert_eq!(got, sizes.len());
            drop(batch);
            assert_eq!(ring.pending_bytes(), 0, "the tail was published");
        }
    }
    assert_eq!(ring.stats().corrupt_bytes, 0);
    assert_eq!(ring.stats().samples, 2 * (size / 8) * sizes.len() as u64);
}

#[test]
fn unread_is_the_bytes_of_the_records_not_yet_read() {
    let (mut ring, mut w) = Ring::anonymous(1, 0, false).unwrap();
    let size = ring.data_size() as u64;
    // Empty: no bytes, and no view of a data area.
    assert!(ring.read().unread().is_empty());
    w.set_positions(size - 24, size - 24);
    let (a, b, c) = (rec(1, 48), rec(2, 32), rec(3, 16));
    assert!(w.write(&a) && w.write(&b) && w.write(&c));
    let all: Vec<u8> = [a.as_slice(), &b, &c].concat();
    let mut batch = ring.read();
    let unread = batch.unread();
    assert!(
        matches!(unread, RawData::Split(..)),
        "wraps with the first record"
    );
    assert_eq!(unread.as_contiguous().as_ref(), &all[..]);
    // Reading it does not consume; reading records shrinks it.
    assert_eq!(batch.remaining_bytes(), all.len() as u64);
    assert!(batch.next_record().is_some());
    assert_eq!(batch.unread().as_contiguous().as_ref(), &all[48..]);
    assert_eq!(batch.skip_all(), 2);
    assert!(batch.unread().is_empty());
}

#[test]
fn views_point_into_the_mapping() {
    let (mut ring, mut w) = Ring::anonymous(1, 0, false).unwrap();
    let size = ring.data_size() as u64;
    w.set_positions(size - 24, size - 24);
    assert!(w.write(&rec(1, 48)));
    assert!(w.write(&rec(2, 32)));
    let snapshot: Vec<(bool, usize)> = {
        let mut batch = ring.read();
        let v: Vec<_> = batch
            .records()
            .map(|r| match r {
                RawData::Single(a) => (false, a.as_ptr() as usize),
                RawData::Split(a, _) => (true, a.as_ptr() as usize),
            })
            .collect();
        v
    };
    assert_eq!(snapshot.len(), 2);
    assert!(snapshot[0].0, "the first record wraps");
    let base = ring.data_ptr() as usize;
    assert_eq!(snapshot[0].1, base + size as usize - 24);
    assert_eq!(snapshot[1].1, base + 24);
    let mut batch = ring.read();
    assert!(batch.next_record().is_none());
    drop(batch);
    assert!(w.write(&rec(3, 64)));
    let (base, end) = (base, base + ring.data_size());
    let mut batch = ring.read();
    let r = batch.next_record().unwrap();
    let RawData::Single(a) = r else {
        panic!("expected one slice")
    };
    let p = a.as_ptr() as usize;
    assert!(p >= base && p + a.len() <= end, "in place");
}

#[test]
fn consume_publishes_only_what_was_read() {
    let (mut ring, mut w) = Ring::anonymous(1, 0, false).unwrap();
    for i in 0..10 {
        assert!(w.write(&rec(i, 40)));
    }
    {
        let mut batch = ring.read();
        let firsts: Vec<u64> = batch.records().take(3).map(|r| seq_of(&r)).collect();
        assert_eq!(firsts, [0, 1, 2]);
        batch.consume();
        assert_eq!(batch.remaining_bytes(), 7 * 40);
        // Not consumed again: the next record stays for now.
        let r = batch.next_record().map(|r| seq_of(&r));
        assert_eq!(r, Some(3));
    } // read_done: publishes up to record 3.
    assert_eq!(ring.pending_bytes(), 6 * 40);
    // The kernel writes more meanwhile: the new batch sees it.
    assert!(w.write(&rec(10, 40)));
    let seqs: Vec<u64> = ring.read().records().map(|r| seq_of(&r)).collect();
    assert_eq!(seqs, (4..=10).collect::<Vec<_>>());
    assert_eq!(ring.stats().records, 11);
}

#[test]
fn a_batch_does_not_see_records_written_after_read_init() {
    let (mut ring, mut w) = Ring::anonymous(1, 0, false).unwrap();
    assert!(w.write(&rec(0, 32)));
    let mut batch = ring.read();
    assert!(w.write(&rec(1, 32)));
    assert_eq!(batch.records().count(), 1);
    drop(batch);
    assert_eq!(ring.read().records().count(), 1);
}

#[test]
fn lost_records_are_counted_per_id() {
    let (mut ring, mut w) = Ring::anonymous(1, 0, false).unwrap();
    w.set_lost_id(77);
    let size = ring.data_size();
    let mut written = 0u64;
    let mut dropped = 0u64;
    for i in 0..(size / 64 + 50) as u64 {
        if w.write(&rec(i, 64)) {
            written += 1;
        } else {
            dropped += 1;
        }
    }
    assert!(dropped >= 50);
    let n = ring.read().records().count() as u64;
    assert_eq!(n, written);
    assert_eq!(ring.stats().lost, 0, "not reported until space frees up");
    assert!(w.write(&rec(999, 64)), "room again: LOST + sample");
    let types: Vec<u32> = ring
        .read()
        .records()
        .map(|r| {
            RecordHeader::parse(r, Endianness::NATIVE)
                .unwrap()
                .record_type
        })
        .collect();
    assert_eq!(types, [record_type::LOST, record_type::SAMPLE]);
    let st = ring.stats();
    assert_eq!(st.lost, dropped);
    assert_eq!(st.lost_for(77), dropped);
    assert_eq!(st.lost_for(78), 0);
    assert_eq!(st.samples, written + 1);
    assert_eq!(st.lost_records, 1);
}

#[test]
fn throttle_and_lost_samples_are_counted() {
    let (mut ring, mut w) = Ring::anonymous(1, 0, false).unwrap();
    let t = RecordBuilder::new()
        .bytes(&[0u8; 24])
        .finish(record_type::THROTTLE, 0)
        .unwrap();
    let u = RecordBuilder::new()
        .bytes(&[0u8; 24])
        .finish(record_type::UNTHROTTLE, 0)
        .unwrap();
    let ls = RecordBuilder::new()
        .bytes(&5u64.to_ne_bytes())
        .finish(record_type::LOST_SAMPLES, 0)
        .unwrap();
    for r in [&t, &u, &t, &ls, &ls] {
        assert!(w.write(r));
    }
    assert_eq!(ring.read().skip_all(), 5);
    let st = ring.stats();
    assert_eq!((st.throttles, st.unthrottles, st.lost_samples), (2, 1, 10));
}

#[test]
fn malformed_headers_are_skipped_not_looped_on() {
    let (mut ring, mut w) = Ring::anonymous(1, 0, false).unwrap();
    assert!(w.write(&rec(0, 32)));
    // A header claiming size 0, then one claiming more than was written.
    let mut zero = rec(1, 32);
    zero[6] = 0;
    zero[7] = 0;
    let head = w.head();
    w.copy_in(head, &zero);
    w.set_positions(head + 32, ring.load_tail());
    let seqs: Vec<u64> = ring.read().records().map(|r| seq_of(&r)).collect();
    assert_eq!(seqs, [0]);
    assert_eq!(ring.stats().corrupt_bytes, 32);
    assert_eq!(ring.pending_bytes(), 0, "the reader moved past the damage");
    let mut long = rec(2, 32);
    long[6] = 200;
    let head = w.head();
    w.copy_in(head, &long);
    w.set_positions(head + 32, head);
    assert_eq!(ring.read().records().count(), 0);
    assert_eq!(ring.stats().corrupt_bytes, 64);
    // A head more than a buffer ahead of the tail.
    w.set_positions(ring.data_size() as u64 * 3, 0);
    assert_eq!(ring.read().records().count(), 0);
    assert_eq!(ring.pending_bytes(), 0);
}

#[test]
fn concurrent_writer_and_reader_agree() {
    let (mut ring, mut w) = Ring::anonymous(1, 0, false).unwrap();
    w.set_positions(u64::MAX - 1000, u64::MAX - 1000);
    const N: u64 = 200_000;
    let writer = std::thread::spawn(move || {
        let mut i = 0;
        while i < N {
            // Sizes that do not divide the ring, so records wrap.
            // A dropped record is counted by the writer, as by the kernel.
            let _ = w.write(&rec(i, 16 + 8 * (i as usize % 13)));
            i += 1;
        }
        // Flush the pending LOST count with one final record; each
        // failed attempt is itself counted lost, as by the kernel.
        let mut failed = 0;
        while !w.write(&rec(u64::MAX, 16)) {
            failed += 1;
            std::hint::spin_loop();
        }
        failed
    });
    let mut seen = 0u64;
    let mut last: Option<u64> = None;
    let mut split = 0u64;
    let mut done = false;
    while !done {
        let mut batch = ring.read();
        for r in batch.records() {
            let h = RecordHeader::parse(r, Endianness::NATIVE).unwrap();
            if h.record_type != record_type::SAMPLE {
                continue;
            }
            let s = seq_of(&r);
            if s == u64::MAX {
                done = true;
                continue;
            }
            if let Some(l) = last {
                assert!(s > l, "records in order");
            }
            last = Some(s);
            let want = rec(s, 16 + 8 * (s as usize % 13));
            assert_eq!(r.as_contiguous().as_ref(), &want[..]);
            split += matches!(r, RawData::Split(..)) as u64;
            seen += 1;
        }
    }
    let flush_failed = writer.join().unwrap();
    assert_eq!(
        seen + ring.stats().lost,
        N + flush_failed,
        "received + lost = written"
    );
    assert!(split > 0, "some records wrapped");
}

#[test]
fn backward_snapshot_returns_the_newest_records_in_order() {
    let (mut ring, mut w) = Ring::anonymous(1, 0, true).unwrap();
    {
        let snap = ring.snapshot(false).unwrap();
        assert!(snap.is_empty(), "a fresh ring has nothing");
    }
    let size_of = |i: u64| 16 + 8 * (i as usize % 9);
    for i in 0..1000 {
        w.write_backward(&rec(i, size_of(i)));
    }
    let mut snap = ring.snapshot(false).unwrap();
    let seqs: Vec<u64> = snap.records().map(|r| seq_of(&r)).collect();
    drop(snap);
    let first_len = seqs.len() as u64;
    assert_eq!(*seqs.last().unwrap(), 999, "ends with the newest");
    assert!(
        seqs.windows(2).all(|p| p[1] == p[0] + 1),
        "consecutive, oldest first"
    );
    let bytes: usize = seqs.iter().map(|&s| size_of(s)).sum();
    let size = ring.data_size();
    assert!(
        bytes <= size && bytes + size_of(seqs[0] - 1) > size,
        "the ring is covered: {bytes}"
    );
    // Only what is new since the previous snapshot.
    for i in 1000..1005 {
        w.write_backward(&rec(i, size_of(i)));
    }
    let mut snap = ring.snapshot(true).unwrap();
    let seqs: Vec<u64> = snap.records().map(|r| seq_of(&r)).collect();
    assert_eq!(seqs, [1000, 1001, 1002, 1003, 1004]);
    drop(snap);
    assert!(!ring.is_paused(), "output resumes after the snapshot");
    assert_eq!(ring.stats().samples, first_len + 5);
}

#[test]
fn forward_ring_refuses_snapshot_and_overwrite_ring_reads_nothing() {
    let (mut ring, _w) = Ring::anonymous(1, 0, false).unwrap();
    assert!(ring.snapshot(false).is_err());
    let (mut ring, mut w) = Ring::anonymous(1, 0, true).unwrap();
    w.write_backward(&rec(0, 32));
    assert_eq!(ring.read().records().count(), 0);
}

#[test]
fn aux_area_reads_wrap_in_place() {
    let (mut ring, mut w) = Ring::anonymous(1, 1, false).unwrap();
    let size = ring.aux_size() as u64;
    assert_eq!(size as usize, page_size());
    for start in [0, 1, size - 100, size - 1, u64::MAX - 10] {
        w.set_aux_positions(start, start);
        let bytes: Vec<u8> = (0..300usize)
            .map(|i| (i * 7).wrapping_add(start as usize) as u8)
            .collect();
        assert!(w.write_aux(&bytes));
        {
            let batch = ring.aux_read().unwrap();
            assert!(!batch.overrun());
            let d = batch.data();
            assert_eq!(d.as_contiguous().as_ref(), &bytes[..], "start {start}");
            let wraps = (start % size) + 300 > size;
            assert_eq!(matches!(d, RawData::Split(..)), wraps);
        }
        // aux_tail was published: the area is empty again and has room.
        assert_eq!(ring.aux_read().unwrap().data().len(), 0);
        assert!(w.write_aux(&vec![0u8; size as usize]));
        assert!(!w.write_aux(&[0u8; 1]), "full until read");
        drop(ring.aux_read());
    }
    let (mut no_aux, _w) = Ring::anonymous(1, 0, false).unwrap();
    assert!(no_aux.aux_read().is_none());
}

#[test]
fn header_only_ring_reads_nothing() {
    let (mut ring, _w) = Ring::anonymous(0, 0, false).unwrap();
    assert_eq!(ring.data_size(), 0);
    assert_eq!(ring.read().records().count(), 0);
    assert!(Ring::anonymous(3, 0, false).is_err());
}

#[test]
fn ring_is_send() {
    fn send<T: Send>() {}
    send::<Ring>();
    send::<RingWriter>();
}
