//! Splicing the kernel's frame-pointer chain onto a DWARF unwind that ran
//! off the end of the stack copy.
//!
//! The heuristic, by stack position: the kernel walked the frame-pointer
//! chain of the *live* stack at the same instant the copy was taken, so its
//! walk and a walk over the copy agree for as long as the copy holds the
//! frame records. We replay the kernel's walk on the copy (start at the
//! sampled `rbp`; a record is `[next rbp, return address]` at `rbp`) and
//! count the records that lie wholly inside it: those return addresses
//! belong to frames the DWARF unwind already saw. The kernel's entries after
//! them come from records above the end of the copy: exactly the callers the
//! DWARF unwind could not reach. They are appended when the walk left the
//! copy *upwards* (the first uncovered record starts at or above the copy's
//! end, within [`MAX_GAP`]), which rejects chains that a garbage `rbp` in
//! frame-pointer-less code sent into the heap or below the stack pointer. A
//! first appended address equal to the last DWARF frame is dropped (the same
//! return address, seen twice).
//!
//! This module does not decide *whether* to splice: the unwinder does that,
//! only when DWARF stopped because a read fell beyond the copy.

/// How far above the end of the stack copy the first frame record the
/// kernel read may start for the splice to be trusted: a frame bigger than
/// this (a huge local array) is rare, a garbage pointer that lands just
/// above the stack copy is rarer.
pub const MAX_GAP: u64 = 16 << 20;

/// The number of entries of the kernel's frame-pointer chain (return
/// addresses, the interrupted `ip` not counted) whose frame records lie
/// wholly in the stack copy `stack` (which starts at `sp`), and where the
/// walk went next: the address of the first record not in the copy, `None`
/// when the walk ended inside it (a zero or repeating `rbp`).
pub fn covered_records(bp: u64, sp: u64, stack: &[u8], max: usize) -> (usize, Option<u64>) {
    let end = sp.saturating_add(stack.len() as u64);
    let read = |addr: u64| -> Option<u64> {
        let off = usize::try_from(addr.checked_sub(sp)?).ok()?;
        let bytes = stack.get(off..off.checked_add(8)?)?;
        Some(u64::from_le_bytes(bytes.try_into().ok()?))
    };
    let mut fp = bp;
    let mut covered = 0;
    while covered < max {
        if fp < sp || fp.saturating_add(16) > end {
            return (covered, Some(fp));
        }
        let (Some(next), Some(_ret)) = (read(fp), read(fp + 8)) else {
            return (covered, Some(fp));
        };
        covered += 1;
        if next == 0 {
            return (covered, None);
        }
        fp = next;
    }
    (covered, None)
}

/// The kernel frame-pointer return addresses to append after a DWARF unwind
/// that stopped at the end of the stack copy (see the module docs). `fp_chain`
/// is the kernel's user chain without its first entry (the `ip`);
/// `last_dwarf` is the last address the DWARF unwind produced.
pub fn fp_tail<'a>(
    bp: u64,
    sp: u64,
    stack: &[u8],
    fp_chain: &'a [u64],
    last_dwarf: Option<u64>,
) -> &'a [u64] {
    let (covered, next) = covered_records(bp, sp, stack, fp_chain.len());
    let end = sp.saturating_add(stack.len() as u64);
    let Some(next) = next else { return &[] };
    // The first record outside the copy must start at its end or above
    // (`next + 16 > end` already holds), within MAX_GAP.
    if next < sp || next.saturating_add(16) <= end || next.saturating_sub(end) > MAX_GAP {
        return &[];
    }
    let tail = fp_chain.get(covered..).unwrap_or(&[]);
    match (tail.first(), last_dwarf) {
        (Some(&first), Some(last)) if first == last => &tail[1..],
        _ => tail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stack copy from `sp` of `words` u64 values.
    fn stack(words: &[u64]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    const SP: u64 = 0x7ffd_0000_0000;

    #[test]
    fn records_inside_the_copy_are_covered_and_the_walk_leaves_upwards() {
        // Records at SP+0x10 -> SP+0x30 -> SP+0x100 (beyond a 0x40 copy).
        let mut w = vec![0u64; 8];
        w[2] = SP + 0x30;
        w[3] = 0x401111;
        w[6] = SP + 0x100;
        w[7] = 0x402222;
        let s = stack(&w);
        assert_eq!(
            covered_records(SP + 0x10, SP, &s, 10),
            (2, Some(SP + 0x100))
        );
        let chain = [0x401111, 0x402222, 0x403333, 0x404444];
        assert_eq!(
            fp_tail(SP + 0x10, SP, &s, &chain, Some(0x402222)),
            &[0x403333, 0x404444]
        );
        // The same return address as the last DWARF frame is not repeated.
        let chain2 = [0x401111, 0x402222];
        assert_eq!(
            fp_tail(SP + 0x10, SP, &s, &chain2, Some(0x402222)),
            &[] as &[u64]
        );
    }

    #[test]
    fn a_garbage_rbp_below_the_stack_appends_nothing() {
        let s = stack(&[0; 8]);
        // rbp holds a heap pointer (frame-pointer-less code used it as a
        // general register): the kernel's "frames" are garbage.
        let chain = [0x1234, 0x5678];
        assert_eq!(
            fp_tail(0x5555_0000_1000, SP, &s, &chain, None),
            &[] as &[u64]
        );
        // Far above the copy: rejected too.
        assert_eq!(
            fp_tail(SP + 0x40 + 2 * MAX_GAP, SP, &s, &chain, None),
            &[] as &[u64]
        );
    }

    #[test]
    fn a_chain_that_ends_inside_the_copy_appends_nothing() {
        let mut w = vec![0u64; 8];
        w[2] = 0; // next rbp = 0: the outermost frame
        w[3] = 0x401111;
        let s = stack(&w);
        assert_eq!(covered_records(SP + 0x10, SP, &s, 10), (1, None));
        assert_eq!(fp_tail(SP + 0x10, SP, &s, &[0x401111], None), &[] as &[u64]);
    }

    #[test]
    fn a_record_straddling_the_end_is_not_covered() {
        let s = stack(&[0; 4]); // 32 bytes
        assert_eq!(covered_records(SP + 0x18, SP, &s, 10), (0, Some(SP + 0x18)));
        assert_eq!(fp_tail(SP + 0x18, SP, &s, &[0x777], None), &[0x777]);
    }
}
