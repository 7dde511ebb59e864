//! Whole callchains already turned into stacks, so that a chain seen before
//! costs one hash of its addresses instead of two table lookups per frame
//! (a location and a stack node).
//!
//! A chain's stack depends on the process's mappings, so the builder clears
//! the cache whenever mappings change (MMAP, exec). It deliberately holds
//! no more than [`MAX_FRAMES`] addresses: past that it starts over, so a
//! recording with ever-new chains costs no more than the tables themselves.

use std::hash::Hasher;

use rustc_hash::{FxHashMap, FxHasher};

use super::{FrameAddress, ProcessId, StackId};

/// Addresses the cache keeps before it starts over (16 bytes each).
const MAX_FRAMES: usize = 1 << 22;

const NONE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct Entry {
    process: ProcessId,
    start: u32,
    len: u32,
    stack: Option<StackId>,
    /// The next entry with the same hash, or [`NONE`].
    next: u32,
}

/// Callchains (per process) to their stacks.
#[derive(Debug, Default)]
pub(crate) struct ChainCache {
    heads: FxHashMap<u64, u32>,
    entries: Vec<Entry>,
    frames: Vec<FrameAddress>,
}

impl ChainCache {
    /// The key hash of `chain` in `process`.
    pub(crate) fn hash(process: ProcessId, chain: &[FrameAddress]) -> u64 {
        // One word per frame (the mode and return flag folded into the
        // address's top bits): equal chains hash equal, and `get` compares
        // whole chains, so a collision costs only a comparison.
        let mut h = FxHasher::default();
        h.write_u32(process.0);
        h.write_usize(chain.len());
        for f in chain {
            let mode = u64::from(f.mode == super::FrameMode::Kernel) << 63;
            let ret = u64::from(f.is_return_address) << 62;
            h.write_u64(f.address ^ mode ^ ret);
        }
        h.finish()
    }

    /// The stack `chain` became, if it was seen since the last clear.
    pub(crate) fn get(
        &self,
        hash: u64,
        process: ProcessId,
        chain: &[FrameAddress],
    ) -> Option<Option<StackId>> {
        let mut i = *self.heads.get(&hash)?;
        while i != NONE {
            let e = &self.entries[i as usize];
            if e.process == process
                && self.frames[e.start as usize..(e.start + e.len) as usize] == *chain
            {
                return Some(e.stack);
            }
            i = e.next;
        }
        None
    }

    /// Remembers that `chain` in `process` is `stack`.
    pub(crate) fn insert(
        &mut self,
        hash: u64,
        process: ProcessId,
        chain: &[FrameAddress],
        stack: Option<StackId>,
    ) {
        if self.frames.len() + chain.len() > MAX_FRAMES || self.entries.len() >= NONE as usize {
            self.clear();
            if chain.len() > MAX_FRAMES {
                return;
            }
        }
        let index = self.entries.len() as u32;
        let next = self.heads.insert(hash, index).unwrap_or(NONE);
        self.entries.push(Entry {
            process,
            start: self.frames.len() as u32,
            len: chain.len() as u32,
            stack,
            next,
        });
        self.frames.extend_from_slice(chain);
    }

    /// Forgets every chain (mappings changed).
    pub(crate) fn clear(&mut self) {
        if !self.entries.is_empty() {
            self.heads.clear();
            self.entries.clear();
            self.frames.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FrameMode;

    fn chain(addrs: &[u64]) -> Vec<FrameAddress> {
        addrs
            .iter()
            .map(|&address| FrameAddress {
                address,
                mode: FrameMode::User,
                is_return_address: false,
            })
            .collect()
    }

    #[test]
    fn chains_are_found_per_process_and_forgotten_on_clear() {
        let mut c = ChainCache::default();
        let a = chain(&[1, 2, 3]);
        let b = chain(&[1, 2]);
        let (p, q) = (ProcessId(0), ProcessId(1));
        c.insert(ChainCache::hash(p, &a), p, &a, Some(StackId(7)));
        c.insert(ChainCache::hash(p, &b), p, &b, None);
        assert_eq!(
            c.get(ChainCache::hash(p, &a), p, &a),
            Some(Some(StackId(7)))
        );
        assert_eq!(c.get(ChainCache::hash(p, &b), p, &b), Some(None));
        assert_eq!(c.get(ChainCache::hash(q, &a), q, &a), None);
        // The same hash with another chain is not a hit.
        assert_eq!(c.get(ChainCache::hash(p, &a), p, &b), None);
        c.clear();
        assert_eq!(c.get(ChainCache::hash(p, &a), p, &a), None);
    }
}
