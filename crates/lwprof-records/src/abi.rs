//! The one table of the perf record ABI this crate parses: record types
//! (the kernel's and perf's own), header `misc` bits, the sample-layout bits
//! of `perf_event_attr`, and the callchain context markers, with perf's
//! names for the record types.
//!
//! The values are the uapi header's (`include/uapi/linux/perf_event.h`) and
//! perf's (`tools/lib/perf/include/perf/event.h`). They are written out here
//! rather than taken from `perf-event-open-sys`, because that crate brings
//! libc and this crate is pure parsing; `lwprof-events/tests/abi_bindings.rs`
//! compares every constant here with the generated bindings and with perf's
//! header.

/// `PERF_RECORD_*`: the `type` of a record header.
pub mod record_type {
    /// PERF_RECORD_MMAP.
    pub const MMAP: u32 = 1;
    /// PERF_RECORD_LOST.
    pub const LOST: u32 = 2;
    /// PERF_RECORD_COMM.
    pub const COMM: u32 = 3;
    /// PERF_RECORD_EXIT.
    pub const EXIT: u32 = 4;
    /// PERF_RECORD_THROTTLE.
    pub const THROTTLE: u32 = 5;
    /// PERF_RECORD_UNTHROTTLE.
    pub const UNTHROTTLE: u32 = 6;
    /// PERF_RECORD_FORK.
    pub const FORK: u32 = 7;
    /// PERF_RECORD_READ.
    pub const READ: u32 = 8;
    /// PERF_RECORD_SAMPLE.
    pub const SAMPLE: u32 = 9;
    /// PERF_RECORD_MMAP2.
    pub const MMAP2: u32 = 10;
    /// PERF_RECORD_AUX.
    pub const AUX: u32 = 11;
    /// PERF_RECORD_ITRACE_START.
    pub const ITRACE_START: u32 = 12;
    /// PERF_RECORD_LOST_SAMPLES.
    pub const LOST_SAMPLES: u32 = 13;
    /// PERF_RECORD_SWITCH.
    pub const SWITCH: u32 = 14;
    /// PERF_RECORD_SWITCH_CPU_WIDE.
    pub const SWITCH_CPU_WIDE: u32 = 15;
    /// PERF_RECORD_NAMESPACES.
    pub const NAMESPACES: u32 = 16;
    /// PERF_RECORD_KSYMBOL.
    pub const KSYMBOL: u32 = 17;
    /// PERF_RECORD_BPF_EVENT.
    pub const BPF_EVENT: u32 = 18;
    /// PERF_RECORD_CGROUP.
    pub const CGROUP: u32 = 19;
    /// PERF_RECORD_TEXT_POKE.
    pub const TEXT_POKE: u32 = 20;
    /// PERF_RECORD_AUX_OUTPUT_HW_ID.
    pub const AUX_OUTPUT_HW_ID: u32 = 21;

    /// PERF_RECORD_USER_TYPE_START: types from here on are written by perf
    /// tools into perf.data, never by the kernel.
    pub const USER_TYPE_START: u32 = 64;
    /// PERF_RECORD_HEADER_ATTR (pipe mode: an event's attr and ids).
    pub const HEADER_ATTR: u32 = 64;
    /// PERF_RECORD_HEADER_EVENT_TYPE (obsolete).
    pub const HEADER_EVENT_TYPE: u32 = 65;
    /// PERF_RECORD_HEADER_TRACING_DATA (pipe mode: tracepoint formats).
    pub const HEADER_TRACING_DATA: u32 = 66;
    /// PERF_RECORD_HEADER_BUILD_ID (pipe mode: one build id).
    pub const HEADER_BUILD_ID: u32 = 67;
    /// PERF_RECORD_FINISHED_ROUND: everything before is older than what
    /// follows.
    pub const FINISHED_ROUND: u32 = 68;
    /// PERF_RECORD_ID_INDEX.
    pub const ID_INDEX: u32 = 69;
    /// PERF_RECORD_AUXTRACE_INFO.
    pub const AUXTRACE_INFO: u32 = 70;
    /// PERF_RECORD_AUXTRACE: followed in the file by `size` bytes of AUX data.
    pub const AUXTRACE: u32 = 71;
    /// PERF_RECORD_AUXTRACE_ERROR.
    pub const AUXTRACE_ERROR: u32 = 72;
    /// PERF_RECORD_THREAD_MAP.
    pub const THREAD_MAP: u32 = 73;
    /// PERF_RECORD_CPU_MAP.
    pub const CPU_MAP: u32 = 74;
    /// PERF_RECORD_STAT_CONFIG.
    pub const STAT_CONFIG: u32 = 75;
    /// PERF_RECORD_STAT.
    pub const STAT: u32 = 76;
    /// PERF_RECORD_STAT_ROUND.
    pub const STAT_ROUND: u32 = 77;
    /// PERF_RECORD_EVENT_UPDATE.
    pub const EVENT_UPDATE: u32 = 78;
    /// PERF_RECORD_TIME_CONV.
    pub const TIME_CONV: u32 = 79;
    /// PERF_RECORD_HEADER_FEATURE (pipe mode: one feature section).
    pub const HEADER_FEATURE: u32 = 80;
    /// PERF_RECORD_COMPRESSED (zstd data of further records).
    pub const COMPRESSED: u32 = 81;
    /// PERF_RECORD_FINISHED_INIT.
    pub const FINISHED_INIT: u32 = 82;
    /// PERF_RECORD_COMPRESSED2 (a size, then zstd data).
    pub const COMPRESSED2: u32 = 83;
    /// One past the last type any reader here knows.
    pub const MAX: u32 = 84;

    /// perf's name of a record type, as `perf report --stats` prints it
    /// (`SAMPLE`, `MMAP2`, `FINISHED_ROUND`...); `None` for unknown types.
    pub const fn name(t: u32) -> Option<&'static str> {
        Some(match t {
            MMAP => "MMAP",
            LOST => "LOST",
            COMM => "COMM",
            EXIT => "EXIT",
            THROTTLE => "THROTTLE",
            UNTHROTTLE => "UNTHROTTLE",
            FORK => "FORK",
            READ => "READ",
            SAMPLE => "SAMPLE",
            MMAP2 => "MMAP2",
            AUX => "AUX",
            ITRACE_START => "ITRACE_START",
            LOST_SAMPLES => "LOST_SAMPLES",
            SWITCH => "SWITCH",
            SWITCH_CPU_WIDE => "SWITCH_CPU_WIDE",
            NAMESPACES => "NAMESPACES",
            KSYMBOL => "KSYMBOL",
            BPF_EVENT => "BPF_EVENT",
            CGROUP => "CGROUP",
            TEXT_POKE => "TEXT_POKE",
            AUX_OUTPUT_HW_ID => "AUX_OUTPUT_HW_ID",
            HEADER_ATTR => "ATTR",
            HEADER_EVENT_TYPE => "EVENT_TYPE",
            HEADER_TRACING_DATA => "TRACING_DATA",
            HEADER_BUILD_ID => "BUILD_ID",
            FINISHED_ROUND => "FINISHED_ROUND",
            ID_INDEX => "ID_INDEX",
            AUXTRACE_INFO => "AUXTRACE_INFO",
            AUXTRACE => "AUXTRACE",
            AUXTRACE_ERROR => "AUXTRACE_ERROR",
            THREAD_MAP => "THREAD_MAP",
            CPU_MAP => "CPU_MAP",
            STAT_CONFIG => "STAT_CONFIG",
            STAT => "STAT",
            STAT_ROUND => "STAT_ROUND",
            EVENT_UPDATE => "EVENT_UPDATE",
            TIME_CONV => "TIME_CONV",
            HEADER_FEATURE => "FEATURE",
            COMPRESSED => "COMPRESSED",
            FINISHED_INIT => "FINISHED_INIT",
            COMPRESSED2 => "COMPRESSED2",
            _ => return None,
        })
    }
}

/// `PERF_RECORD_MISC_*` bits of the header's `misc`. Bits 13 and 14 mean
/// different things for different record types.
pub mod misc {
    /// Mask of the cpumode bits.
    pub const CPUMODE_MASK: u16 = 7;
    /// cpumode: unknown.
    pub const CPUMODE_UNKNOWN: u16 = 0;
    /// cpumode: kernel.
    pub const KERNEL: u16 = 1;
    /// cpumode: user space.
    pub const USER: u16 = 2;
    /// cpumode: hypervisor.
    pub const HYPERVISOR: u16 = 3;
    /// cpumode: guest kernel.
    pub const GUEST_KERNEL: u16 = 4;
    /// cpumode: guest user space.
    pub const GUEST_USER: u16 = 5;
    /// Synthesized MMAP: /proc/pid/maps parsing timed out.
    pub const PROC_MAP_PARSE_TIMEOUT: u16 = 1 << 12;
    /// MMAP/MMAP2: a data (non-executable) mapping.
    pub const MMAP_DATA: u16 = 1 << 13;
    /// COMM: the name changed because of exec.
    pub const COMM_EXEC: u16 = 1 << 13;
    /// FORK: the child exec'd.
    pub const FORK_EXEC: u16 = 1 << 13;
    /// SWITCH/SWITCH_CPU_WIDE: switching out (else in).
    pub const SWITCH_OUT: u16 = 1 << 13;
    /// SAMPLE: the ip is exact (precise_ip).
    pub const EXACT_IP: u16 = 1 << 14;
    /// SWITCH/SWITCH_CPU_WIDE: switched out while still runnable (preempted).
    pub const SWITCH_OUT_PREEMPT: u16 = 1 << 14;
    /// MMAP2: the record holds a build id instead of device and inode.
    pub const MMAP_BUILD_ID: u16 = 1 << 14;
    /// Reserved for extension.
    pub const EXT_RESERVED: u16 = 1 << 15;
    /// perf's HEADER_BUILD_ID: the entry carries its build id's length.
    pub const BUILD_ID_SIZE: u16 = 1 << 15;
}

/// `PERF_SAMPLE_*` bits of `sample_type`.
pub mod sample_type {
    /// Instruction pointer.
    pub const IP: u64 = 1;
    /// Process and thread id.
    pub const TID: u64 = 1 << 1;
    /// Timestamp.
    pub const TIME: u64 = 1 << 2;
    /// Data address.
    pub const ADDR: u64 = 1 << 3;
    /// Counter values (`read_format`).
    pub const READ: u64 = 1 << 4;
    /// Call chain.
    pub const CALLCHAIN: u64 = 1 << 5;
    /// Event id (position depends on the fields before it).
    pub const ID: u64 = 1 << 6;
    /// CPU number.
    pub const CPU: u64 = 1 << 7;
    /// Sample period.
    pub const PERIOD: u64 = 1 << 8;
    /// Id of the group leader's stream.
    pub const STREAM_ID: u64 = 1 << 9;
    /// Raw tracepoint or PMU data.
    pub const RAW: u64 = 1 << 10;
    /// Last branch records.
    pub const BRANCH_STACK: u64 = 1 << 11;
    /// User registers.
    pub const REGS_USER: u64 = 1 << 12;
    /// A copy of the user stack.
    pub const STACK_USER: u64 = 1 << 13;
    /// Weight (e.g. memory access latency).
    pub const WEIGHT: u64 = 1 << 14;
    /// Memory data source.
    pub const DATA_SRC: u64 = 1 << 15;
    /// Event id at a fixed position (first in samples, last in trailers).
    pub const IDENTIFIER: u64 = 1 << 16;
    /// Transaction flags.
    pub const TRANSACTION: u64 = 1 << 17;
    /// Registers at the interrupt.
    pub const REGS_INTR: u64 = 1 << 18;
    /// Physical data address.
    pub const PHYS_ADDR: u64 = 1 << 19;
    /// AUX area snapshot.
    pub const AUX: u64 = 1 << 20;
    /// Cgroup id.
    pub const CGROUP: u64 = 1 << 21;
    /// Page size of the data address.
    pub const DATA_PAGE_SIZE: u64 = 1 << 22;
    /// Page size of the code address.
    pub const CODE_PAGE_SIZE: u64 = 1 << 23;
    /// Weight as three fields (same 8 bytes as WEIGHT).
    pub const WEIGHT_STRUCT: u64 = 1 << 24;
}

/// `PERF_FORMAT_*` bits of `read_format`.
pub mod read_format {
    /// Time the event was enabled.
    pub const TOTAL_TIME_ENABLED: u64 = 1;
    /// Time the event was running.
    pub const TOTAL_TIME_RUNNING: u64 = 1 << 1;
    /// Event id per value.
    pub const ID: u64 = 1 << 2;
    /// Every member of the group.
    pub const GROUP: u64 = 1 << 3;
    /// Lost samples per value.
    pub const LOST: u64 = 1 << 4;
}

/// `PERF_SAMPLE_BRANCH_*` bits of `branch_sample_type` that change the
/// layout.
pub mod branch_sample_type {
    /// A `hw_idx` u64 precedes the entries.
    pub const HW_INDEX: u64 = 1 << 17;
    /// A counters u64 per entry follows the entries.
    pub const COUNTERS: u64 = 1 << 19;
}

/// `PERF_CONTEXT_*` markers in a callchain (`(u64)-N`).
pub mod context {
    /// The frames after this are the hypervisor's.
    pub const HV: u64 = (-32i64) as u64;
    /// The frames after this are the kernel's.
    pub const KERNEL: u64 = (-128i64) as u64;
    /// The frames after this are user space.
    pub const USER: u64 = (-512i64) as u64;
    /// Guest context.
    pub const GUEST: u64 = (-2048i64) as u64;
    /// Guest kernel frames follow.
    pub const GUEST_KERNEL: u64 = (-2176i64) as u64;
    /// Guest user frames follow.
    pub const GUEST_USER: u64 = (-2560i64) as u64;
    /// Every value at or above this is a marker, not an address.
    pub const MAX: u64 = (-4095i64) as u64;
}
