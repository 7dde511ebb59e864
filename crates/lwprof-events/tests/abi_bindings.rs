//! `lwprof_records::abi` is written out by hand (that crate takes no libc and
//! no bindings): every constant in it is compared here with the generated
//! kernel bindings (`perf_event_open_sys::bindings`), and the record types
//! perf writes itself (64 and up, which the kernel headers do not have) with
//! perf's own enum, `perf_user_event_type` in
//! `tools/lib/perf/include/perf/event.h`.
//!
//! The list of constants compared is checked against the source of `abi.rs`,
//! so a constant added there without a comparison here fails the test.

use lwprof_records::abi::{
    branch_sample_type, context, misc, read_format, record_type, sample_type,
};
use perf_event_open_sys::bindings as pb;
use std::collections::BTreeSet;

/// Compares `abi::MODULE::NAME` with an expected value and notes the name as
/// compared.
macro_rules! same {
    ($seen:ident, $module:ident :: $name:ident, $want:expr) => {
        assert_eq!(
            u64::from($module::$name),
            u64::from($want),
            concat!(stringify!($module), "::", stringify!($name))
        );
        $seen.insert(concat!(stringify!($module), "::", stringify!($name)));
    };
}

/// perf's `enum perf_user_event_type` (tools/lib/perf/include/perf/event.h),
/// with PERF_RECORD_COMPRESSED2, added to it in Linux 6.16, and
/// `PERF_RECORD_MISC_BUILD_ID_SIZE` from the same header.
mod perf_user {
    pub const USER_TYPE_START: u32 = 64;
    pub const HEADER_ATTR: u32 = 64;
    pub const HEADER_EVENT_TYPE: u32 = 65;
    pub const HEADER_TRACING_DATA: u32 = 66;
    pub const HEADER_BUILD_ID: u32 = 67;
    pub const FINISHED_ROUND: u32 = 68;
    pub const ID_INDEX: u32 = 69;
    pub const AUXTRACE_INFO: u32 = 70;
    pub const AUXTRACE: u32 = 71;
    pub const AUXTRACE_ERROR: u32 = 72;
    pub const THREAD_MAP: u32 = 73;
    pub const CPU_MAP: u32 = 74;
    pub const STAT_CONFIG: u32 = 75;
    pub const STAT: u32 = 76;
    pub const STAT_ROUND: u32 = 77;
    pub const EVENT_UPDATE: u32 = 78;
    pub const TIME_CONV: u32 = 79;
    pub const HEADER_FEATURE: u32 = 80;
    pub const COMPRESSED: u32 = 81;
    pub const FINISHED_INIT: u32 = 82;
    pub const COMPRESSED2: u32 = 83;
    pub const MISC_BUILD_ID_SIZE: u16 = 1 << 15;
}

/// Every `pub const` of `abi.rs`, as `module::NAME`.
fn constants_in_abi_source() -> BTreeSet<String> {
    let source = include_str!("../../lwprof-records/src/abi.rs");
    let mut module = String::new();
    let mut out = BTreeSet::new();
    for line in source.lines().map(str::trim_start) {
        if let Some(rest) = line.strip_prefix("pub mod ") {
            module = rest.trim_end_matches(" {").to_string();
        } else if let Some(rest) = line
            .strip_prefix("pub const ")
            .filter(|r| !r.starts_with("fn "))
        {
            if let Some((name, _)) = rest.split_once(':') {
                out.insert(format!("{module}::{name}"));
            }
        }
    }
    out
}

#[test]
fn every_abi_constant_matches_the_kernel_bindings_and_perf() {
    let mut seen: BTreeSet<&str> = BTreeSet::new();

    // The kernel's record types.
    same!(seen, record_type::MMAP, pb::PERF_RECORD_MMAP);
    same!(seen, record_type::LOST, pb::PERF_RECORD_LOST);
    same!(seen, record_type::COMM, pb::PERF_RECORD_COMM);
    same!(seen, record_type::EXIT, pb::PERF_RECORD_EXIT);
    same!(seen, record_type::THROTTLE, pb::PERF_RECORD_THROTTLE);
    same!(seen, record_type::UNTHROTTLE, pb::PERF_RECORD_UNTHROTTLE);
    same!(seen, record_type::FORK, pb::PERF_RECORD_FORK);
    same!(seen, record_type::READ, pb::PERF_RECORD_READ);
    same!(seen, record_type::SAMPLE, pb::PERF_RECORD_SAMPLE);
    same!(seen, record_type::MMAP2, pb::PERF_RECORD_MMAP2);
    same!(seen, record_type::AUX, pb::PERF_RECORD_AUX);
    same!(
        seen,
        record_type::ITRACE_START,
        pb::PERF_RECORD_ITRACE_START
    );
    same!(
        seen,
        record_type::LOST_SAMPLES,
        pb::PERF_RECORD_LOST_SAMPLES
    );
    same!(seen, record_type::SWITCH, pb::PERF_RECORD_SWITCH);
    same!(
        seen,
        record_type::SWITCH_CPU_WIDE,
        pb::PERF_RECORD_SWITCH_CPU_WIDE
    );
    same!(seen, record_type::NAMESPACES, pb::PERF_RECORD_NAMESPACES);
    same!(seen, record_type::KSYMBOL, pb::PERF_RECORD_KSYMBOL);
    same!(seen, record_type::BPF_EVENT, pb::PERF_RECORD_BPF_EVENT);
    same!(seen, record_type::CGROUP, pb::PERF_RECORD_CGROUP);
    same!(seen, record_type::TEXT_POKE, pb::PERF_RECORD_TEXT_POKE);
    same!(
        seen,
        record_type::AUX_OUTPUT_HW_ID,
        pb::PERF_RECORD_AUX_OUTPUT_HW_ID
    );

    // perf's own record types.
    same!(
        seen,
        record_type::USER_TYPE_START,
        perf_user::USER_TYPE_START
    );
    same!(seen, record_type::HEADER_ATTR, perf_user::HEADER_ATTR);
    same!(
        seen,
        record_type::HEADER_EVENT_TYPE,
        perf_user::HEADER_EVENT_TYPE
    );
    same!(
        seen,
        record_type::HEADER_TRACING_DATA,
        perf_user::HEADER_TRACING_DATA
    );
    same!(
        seen,
        record_type::HEADER_BUILD_ID,
        perf_user::HEADER_BUILD_ID
    );
    same!(seen, record_type::FINISHED_ROUND, perf_user::FINISHED_ROUND);
    same!(seen, record_type::ID_INDEX, perf_user::ID_INDEX);
    same!(seen, record_type::AUXTRACE_INFO, perf_user::AUXTRACE_INFO);
    same!(seen, record_type::AUXTRACE, perf_user::AUXTRACE);
    same!(seen, record_type::AUXTRACE_ERROR, perf_user::AUXTRACE_ERROR);
    same!(seen, record_type::THREAD_MAP, perf_user::THREAD_MAP);
    same!(seen, record_type::CPU_MAP, perf_user::CPU_MAP);
    same!(seen, record_type::STAT_CONFIG, perf_user::STAT_CONFIG);
    same!(seen, record_type::STAT, perf_user::STAT);
    same!(seen, record_type::STAT_ROUND, perf_user::STAT_ROUND);
    same!(seen, record_type::EVENT_UPDATE, perf_user::EVENT_UPDATE);
    same!(seen, record_type::TIME_CONV, perf_user::TIME_CONV);
    same!(seen, record_type::HEADER_FEATURE, perf_user::HEADER_FEATURE);
    same!(seen, record_type::COMPRESSED, perf_user::COMPRESSED);
    same!(seen, record_type::FINISHED_INIT, perf_user::FINISHED_INIT);
    same!(seen, record_type::COMPRESSED2, perf_user::COMPRESSED2);
    // Not an ABI value but ours: one past the last type the readers know.
    same!(seen, record_type::MAX, perf_user::COMPRESSED2 + 1);

    // Header misc bits.
    same!(seen, misc::CPUMODE_MASK, pb::PERF_RECORD_MISC_CPUMODE_MASK);
    same!(
        seen,
        misc::CPUMODE_UNKNOWN,
        pb::PERF_RECORD_MISC_CPUMODE_UNKNOWN
    );
    same!(seen, misc::KERNEL, pb::PERF_RECORD_MISC_KERNEL);
    same!(seen, misc::USER, pb::PERF_RECORD_MISC_USER);
    same!(seen, misc::HYPERVISOR, pb::PERF_RECORD_MISC_HYPERVISOR);
    same!(seen, misc::GUEST_KERNEL, pb::PERF_RECORD_MISC_GUEST_KERNEL);
    same!(seen, misc::GUEST_USER, pb::PERF_RECORD_MISC_GUEST_USER);
    same!(
        seen,
        misc::PROC_MAP_PARSE_TIMEOUT,
        pb::PERF_RECORD_MISC_PROC_MAP_PARSE_TIMEOUT
    );
    same!(seen, misc::MMAP_DATA, pb::PERF_RECORD_MISC_MMAP_DATA);
    same!(seen, misc::COMM_EXEC, pb::PERF_RECORD_MISC_COMM_EXEC);
    same!(seen, misc::FORK_EXEC, pb::PERF_RECORD_MISC_FORK_EXEC);
    same!(seen, misc::SWITCH_OUT, pb::PERF_RECORD_MISC_SWITCH_OUT);
    same!(seen, misc::EXACT_IP, pb::PERF_RECORD_MISC_EXACT_IP);
    same!(
        seen,
        misc::SWITCH_OUT_PREEMPT,
        pb::PERF_RECORD_MISC_SWITCH_OUT_PREEMPT
    );
    same!(
        seen,
        misc::MMAP_BUILD_ID,
        pb::PERF_RECORD_MISC_MMAP_BUILD_ID
    );
    same!(seen, misc::EXT_RESERVED, pb::PERF_RECORD_MISC_EXT_RESERVED);
    same!(seen, misc::BUILD_ID_SIZE, perf_user::MISC_BUILD_ID_SIZE);

    // sample_type bits.
    same!(seen, sample_type::IP, pb::PERF_SAMPLE_IP);
    same!(seen, sample_type::TID, pb::PERF_SAMPLE_TID);
    same!(seen, sample_type::TIME, pb::PERF_SAMPLE_TIME);
    same!(seen, sample_type::ADDR, pb::PERF_SAMPLE_ADDR);
    same!(seen, sample_type::READ, pb::PERF_SAMPLE_READ);
    same!(seen, sample_type::CALLCHAIN, pb::PERF_SAMPLE_CALLCHAIN);
    same!(seen, sample_type::ID, pb::PERF_SAMPLE_ID);
    same!(seen, sample_type::CPU, pb::PERF_SAMPLE_CPU);
    same!(seen, sample_type::PERIOD, pb::PERF_SAMPLE_PERIOD);
    same!(seen, sample_type::STREAM_ID, pb::PERF_SAMPLE_STREAM_ID);
    same!(seen, sample_type::RAW, pb::PERF_SAMPLE_RAW);
    same!(
        seen,
        sample_type::BRANCH_STACK,
        pb::PERF_SAMPLE_BRANCH_STACK
    );
    same!(seen, sample_type::REGS_USER, pb::PERF_SAMPLE_REGS_USER);
    same!(seen, sample_type::STACK_USER, pb::PERF_SAMPLE_STACK_USER);
    same!(seen, sample_type::WEIGHT, pb::PERF_SAMPLE_WEIGHT);
    same!(seen, sample_type::DATA_SRC, pb::PERF_SAMPLE_DATA_SRC);
    same!(seen, sample_type::IDENTIFIER, pb::PERF_SAMPLE_IDENTIFIER);
    same!(seen, sample_type::TRANSACTION, pb::PERF_SAMPLE_TRANSACTION);
    same!(seen, sample_type::REGS_INTR, pb::PERF_SAMPLE_REGS_INTR);
    same!(seen, sample_type::PHYS_ADDR, pb::PERF_SAMPLE_PHYS_ADDR);
    same!(seen, sample_type::AUX, pb::PERF_SAMPLE_AUX);
    same!(seen, sample_type::CGROUP, pb::PERF_SAMPLE_CGROUP);
    same!(
        seen,
        sample_type::DATA_PAGE_SIZE,
        pb::PERF_SAMPLE_DATA_PAGE_SIZE
    );
    same!(
        seen,
        sample_type::CODE_PAGE_SIZE,
        pb::PERF_SAMPLE_CODE_PAGE_SIZE
    );
    same!(
        seen,
        sample_type::WEIGHT_STRUCT,
        pb::PERF_SAMPLE_WEIGHT_STRUCT
    );

    // read_format bits.
    same!(
        seen,
        read_format::TOTAL_TIME_ENABLED,
        pb::PERF_FORMAT_TOTAL_TIME_ENABLED
    );
    same!(
        seen,
        read_format::TOTAL_TIME_RUNNING,
        pb::PERF_FORMAT_TOTAL_TIME_RUNNING
    );
    same!(seen, read_format::ID, pb::PERF_FORMAT_ID);
    same!(seen, read_format::GROUP, pb::PERF_FORMAT_GROUP);
    same!(seen, read_format::LOST, pb::PERF_FORMAT_LOST);

    // branch_sample_type bits that change the layout.
    same!(
        seen,
        branch_sample_type::HW_INDEX,
        pb::PERF_SAMPLE_BRANCH_HW_INDEX
    );
    same!(
        seen,
        branch_sample_type::COUNTERS,
        pb::PERF_SAMPLE_BRANCH_COUNTERS
    );

    // Callchain context markers.
    same!(seen, context::HV, pb::PERF_CONTEXT_HV);
    same!(seen, context::KERNEL, pb::PERF_CONTEXT_KERNEL);
    same!(seen, context::USER, pb::PERF_CONTEXT_USER);
    same!(seen, context::GUEST, pb::PERF_CONTEXT_GUEST);
    same!(seen, context::GUEST_KERNEL, pb::PERF_CONTEXT_GUEST_KERNEL);
    same!(seen, context::GUEST_USER, pb::PERF_CONTEXT_GUEST_USER);
    same!(seen, context::MAX, pb::PERF_CONTEXT_MAX);

    let compared: BTreeSet<String> = seen.iter().map(|s| s.to_string()).collect();
    let in_source = constants_in_abi_source();
    let missing: Vec<&String> = in_source.difference(&compared).collect();
    assert!(
        missing.is_empty(),
        "constants of abi.rs not compared here: {missing:?}"
    );
    let gone: Vec<&String> = compared.difference(&in_source).collect();
    assert!(gone.is_empty(), "compared but not in abi.rs: {gone:?}");
}

/// The bit sets are complete: every `sample_type` and `read_format` bit the
/// bindings know has a constant (so the sample parser knows every field a
/// kernel of that age can write).
#[test]
fn every_sample_type_and_read_format_bit_of_the_bindings_has_a_constant() {
    let sample_bits = [
        sample_type::IP,
        sample_type::TID,
        sample_type::TIME,
        sample_type::ADDR,
        sample_type::READ,
        sample_type::CALLCHAIN,
        sample_type::ID,
        sample_type::CPU,
        sample_type::PERIOD,
        sample_type::STREAM_ID,
        sample_type::RAW,
        sample_type::BRANCH_STACK,
        sample_type::REGS_USER,
        sample_type::STACK_USER,
        sample_type::WEIGHT,
        sample_type::DATA_SRC,
        sample_type::IDENTIFIER,
        sample_type::TRANSACTION,
        sample_type::REGS_INTR,
        sample_type::PHYS_ADDR,
        sample_type::AUX,
        sample_type::CGROUP,
        sample_type::DATA_PAGE_SIZE,
        sample_type::CODE_PAGE_SIZE,
        sample_type::WEIGHT_STRUCT,
    ];
    let all = sample_bits.iter().fold(0, |a, b| a | b);
    assert_eq!(all, u64::from(pb::PERF_SAMPLE_MAX) - 1);
    let read_bits = [
        read_format::TOTAL_TIME_ENABLED,
        read_format::TOTAL_TIME_RUNNING,
        read_format::ID,
        read_format::GROUP,
        read_format::LOST,
    ];
    let all = read_bits.iter().fold(0, |a, b| a | b);
    assert_eq!(all, u64::from(pb::PERF_FORMAT_MAX) - 1);
}

/// Every kernel record type has perf's name, except those listed here,
/// which the bindings know and the record layer does not parse yet (they
/// come back as `Record::Unknown`, counted by the readers).
#[test]
fn every_kernel_record_type_is_known_or_listed_as_not_parsed() {
    const NOT_PARSED: [(u32, &str); 1] = [(
        pb::PERF_RECORD_CALLCHAIN_DEFERRED,
        "PERF_RECORD_CALLCHAIN_DEFERRED",
    )];
    for t in 1..pb::PERF_RECORD_MAX {
        let listed = NOT_PARSED.iter().any(|&(n, _)| n == t);
        assert_eq!(
            record_type::name(t).is_none(),
            listed,
            "kernel record type {t}: named {:?}, listed as not parsed: {listed}",
            record_type::name(t)
        );
    }
    for t in record_type::USER_TYPE_START..record_type::MAX {
        assert!(record_type::name(t).is_some(), "perf record type {t}");
    }
    assert_eq!(record_type::name(record_type::MAX), None);
}
