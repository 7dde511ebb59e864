//! Unwinding: turning a sample into the frames of its call stack.
//!
//! Two modes, as in `perf record --call-graph`:
//!
//! - **frame pointers** (`fp`, the default): the kernel walks the `rbp` chain
//!   and the sample carries it (`PERF_SAMPLE_CALLCHAIN`); nothing to do here
//!   but [`crate::model::callchain_from_perf`]. Code built without frame
//!   pointers loses frames: a function that does not save `rbp` hides its
//!   caller.
//! - **DWARF** (`dwarf[,SIZE]`): each sample also carries the user registers
//!   (`PERF_SAMPLE_REGS_USER`, [`DWARF_REGS_MASK_X86_64`]) and a copy of the
//!   top `SIZE` bytes of the user stack (`PERF_SAMPLE_STACK_USER`, default
//!   [`DEFAULT_STACK_DUMP_SIZE`]); [`DwarfUnwinder`] unwinds that copy with
//!   the DWARF CFI (`.eh_frame`, `.debug_frame`) of the mapped files, using
//!   framehop (sans-I/O: it takes registers, stack bytes and unwind data).
//!   Where the copy is too short for the whole stack, the kernel's
//!   frame-pointer chain (kept in the same sample) supplies the rest
//!   ([`fallback`]). Kernel frames always come from the kernel's callchain.
//!
//! [`UnwindState`] is the glue a converter uses: fed the same comm, fork,
//! exit and mmap events as [`crate::ProfileBuilder`], it turns a parsed
//! sample into the frames to hand to [`crate::ProfileBuilder::sample`].
//!
//! Deliberately not here: architectures other than x86_64 (framehop has
//! aarch64; the register numbers differ), 32-bit tasks (their samples use
//! the frame-pointer chain), unwinding through JIT code with DWARF (JIT
//! memory has no CFI: framehop uses frame pointers there), `[vdso]` CFI, and
//! separate debug files' `.debug_frame` (`.eh_frame` is nearly always in the
//! binary itself).

mod dwarf;
pub mod elf;
pub mod fallback;
mod state;

pub use dwarf::{
    DwarfUnwinder, StackCopy, UnwindEnd, UnwindReport, UnwindWarning, UnwinderConfig, UserRegs,
    MAX_FRAMES,
};
pub use state::{CallGraph, CallGraphError, UnwindState, UnwindStats};

/// `PERF_REG_X86_BP` (arch/x86/include/uapi/asm/perf_regs.h).
pub const PERF_REG_X86_BP: u32 = 6;
/// `PERF_REG_X86_SP`.
pub const PERF_REG_X86_SP: u32 = 7;
/// `PERF_REG_X86_IP`.
pub const PERF_REG_X86_IP: u32 = 8;
/// `PERF_REG_X86_64_MAX`: one past `PERF_REG_X86_R15`.
pub const PERF_REG_X86_64_MAX: u32 = 24;

/// `attr.sample_regs_user` for DWARF mode on x86_64: every 64-bit user
/// register, AX..R15, as perf asks for (`PERF_REGS_MASK`), i.e. all of
/// `0..PERF_REG_X86_64_MAX` but the segment registers DS, ES, FS, GS (12-15),
/// which the kernel does not sample for 64-bit tasks. framehop needs only
/// IP, SP and BP ([`MINIMAL_REGS_MASK_X86_64`]); the full set keeps our
/// perf.data files usable by `perf report --call-graph dwarf`.
pub const DWARF_REGS_MASK_X86_64: u64 = ((1 << PERF_REG_X86_64_MAX) - 1) & !(0xf << 12);

/// The registers framehop reads: IP, SP and BP.
pub const MINIMAL_REGS_MASK_X86_64: u64 =
    (1 << PERF_REG_X86_IP) | (1 << PERF_REG_X86_SP) | (1 << PERF_REG_X86_BP);

/// `attr.sample_stack_user` when `--call-graph dwarf` gives no size: 8192
/// bytes, perf's default.
pub const DEFAULT_STACK_DUMP_SIZE: u32 = 8192;

/// The largest stack dump: a sample record is at most 64 KiB (its size is a
/// u16), so perf caps the size at `round_down(USHRT_MAX, 8)`.
pub const MAX_STACK_DUMP_SIZE: u32 = 65528;

/// `PERF_SAMPLE_REGS_ABI_64`: the registers are those of a 64-bit task.
pub const REGS_ABI_64: u64 = 2;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_numbers_match_the_kernel_headers() {
        assert_eq!(DWARF_REGS_MASK_X86_64, 0x00ff_0fff);
        assert_eq!(MINIMAL_REGS_MASK_X86_64, 0x1c0);
        #[cfg(target_arch = "x86_64")]
        {
            use perf_event_open_sys::bindings as b;
            assert_eq!(PERF_REG_X86_BP, b::PERF_REG_X86_BP);
            assert_eq!(PERF_REG_X86_SP, b::PERF_REG_X86_SP);
            assert_eq!(PERF_REG_X86_IP, b::PERF_REG_X86_IP);
            assert_eq!(PERF_REG_X86_64_MAX, b::PERF_REG_X86_64_MAX);
            assert_eq!(REGS_ABI_64, u64::from(b::PERF_SAMPLE_REGS_ABI_64));
            for r in [b::PERF_REG_X86_DS, b::PERF_REG_X86_GS] {
                assert_eq!(DWARF_REGS_MASK_X86_64 & (1 << r), 0);
            }
            assert_ne!(DWARF_REGS_MASK_X86_64 & (1 << b::PERF_REG_X86_R15), 0);
            assert_ne!(DWARF_REGS_MASK_X86_64 & (1 << b::PERF_REG_X86_AX), 0);
        }
    }
}
