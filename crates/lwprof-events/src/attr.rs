//! The plain description of one event, and its translation to `perf_event_attr`.
//!
//! An [`EventConfig`] is what the event-spec parser produces and what counters
//! and sampling sessions consume: the PMU type, the config words, breakpoint
//! fields and the modifiers, with the name the user typed. It owns no file
//! descriptor and does no I/O; [`EventConfig::to_attr`] builds the kernel
//! struct, to which callers add their own read format and sampling fields.

use perf_event_open_sys::bindings as sys;

/// What kind of event this is; decides how it is listed and how errors read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A generic hardware event (`PERF_TYPE_HARDWARE`), e.g. `cycles`.
    Hardware,
    /// A generic hardware cache event (`PERF_TYPE_HW_CACHE`), e.g. `LLC-loads`.
    HardwareCache,
    /// A software event (`PERF_TYPE_SOFTWARE`), e.g. `page-faults`.
    Software,
    /// A raw event of the CPU PMU (`rNNNN`).
    Raw,
    /// A tracepoint `subsystem:name`, with its tracefs id in `config`.
    Tracepoint,
    /// A hardware breakpoint `mem:ADDR[/LEN][:rwx]`.
    Breakpoint,
    /// An event of a named sysfs PMU (`pmu/key=value/` or `pmu/alias/`).
    Pmu(String),
}

impl EventKind {
    /// True for events that need a hardware PMU (which this kind of VM may lack).
    pub fn needs_hardware_pmu(&self) -> bool {
        matches!(
            self,
            EventKind::Hardware | EventKind::HardwareCache | EventKind::Raw
        )
    }
}

/// Event modifiers as perf spells them after a colon (`:u`, `:k`, `:ppp`, ...).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Modifiers {
    /// Do not count user space (`:k` or `:h` alone set this).
    pub exclude_user: bool,
    /// Do not count the kernel (`:u` or `:h` alone set this).
    pub exclude_kernel: bool,
    /// Do not count the hypervisor.
    pub exclude_hv: bool,
    /// Do not count the idle task (`:I`).
    pub exclude_idle: bool,
    /// Do not count in the host (`:G`, guest only).
    pub exclude_host: bool,
    /// Do not count in guests (`:H`, host only).
    pub exclude_guest: bool,
    /// Skid constraint, 0 to 3 (`:p`, `:pp`, `:ppp`).
    pub precise_ip: u8,
    /// Use the maximum precision the PMU supports (`:P`).
    pub precise_max: bool,
    /// Keep the event (or group) always on the PMU (`:D`).
    pub pinned: bool,
    /// The group must be alone on the PMU (`:e`).
    pub exclusive: bool,
    /// Read the group's counts in every sample (`:S`).
    pub sample_read: bool,
    /// A weak group: split the group if it cannot be scheduled (`:W`).
    pub weak_group: bool,
}

/// One event, fully resolved against this machine's PMUs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EventConfig {
    /// The name to show the user (as typed, with modifiers).
    pub name: String,
    /// What kind of event this is.
    pub kind: EventKind,
    /// `perf_event_attr.type`: a `PERF_TYPE_*` value or a sysfs PMU type.
    pub type_: u32,
    /// `perf_event_attr.config`.
    pub config: u64,
    /// `perf_event_attr.config1` (also `bp_addr` for breakpoints in the kernel ABI).
    pub config1: u64,
    /// `perf_event_attr.config2` (also `bp_len` for breakpoints in the kernel ABI).
    pub config2: u64,
    /// `perf_event_attr.config3`.
    pub config3: u64,
    /// `HW_BREAKPOINT_*` access type for breakpoints, 0 otherwise.
    pub bp_type: u32,
    /// The modifiers.
    pub modifiers: Modifiers,
}

impl EventConfig {
    /// A software event with the given `PERF_COUNT_SW_*` config.
    pub fn software(name: &str, config: u64) -> Self {
        Self::new(name, EventKind::Software, sys::PERF_TYPE_SOFTWARE, config)
    }

    /// A generic hardware event with the given `PERF_COUNT_HW_*` config.
    pub fn hardware(name: &str, config: u64) -> Self {
        Self::new(name, EventKind::Hardware, sys::PERF_TYPE_HARDWARE, config)
    }

    /// An event with the given kind, type and config and no modifiers.
    pub fn new(name: &str, kind: EventKind, type_: u32, config: u64) -> Self {
        EventConfig {
            name: name.to_string(),
            kind,
            type_,
            config,
            config1: 0,
            config2: 0,
            config3: 0,
            bp_type: 0,
            modifiers: Modifiers::default(),
        }
    }

    /// True for the software `cpu-clock` event.
    pub fn is_cpu_clock(&self) -> bool {
        self.type_ == sys::PERF_TYPE_SOFTWARE && self.config == sys::PERF_COUNT_SW_CPU_CLOCK as u64
    }

    /// True for the software `task-clock` event.
    pub fn is_task_clock(&self) -> bool {
        self.type_ == sys::PERF_TYPE_SOFTWARE && self.config == sys::PERF_COUNT_SW_TASK_CLOCK as u64
    }

    /// Builds the kernel attribute for this event: type, config words,
    /// breakpoint fields and modifiers. The caller adds read format, sampling
    /// and flags such as `disabled`, `inherit` and `enable_on_exec`.
    pub fn to_attr(&self) -> sys::perf_event_attr {
        let mut attr = sys::perf_event_attr {
            size: std::mem::size_of::<sys::perf_event_attr>() as u32,
            type_: self.type_,
            config: self.config,
            ..Default::default()
        };
        attr.bp_type = self.bp_type;
        // config1/config2 share unions with bp_addr/bp_len (and kprobe fields).
        attr.__bindgen_anon_3.config1 = self.config1;
        attr.__bindgen_anon_4.config2 = self.config2;
        attr.config3 = self.config3;
        let m = &self.modifiers;
        attr.set_exclude_user(m.exclude_user as u64);
        attr.set_exclude_kernel(m.exclude_kernel as u64);
        attr.set_exclude_hv(m.exclude_hv as u64);
        attr.set_exclude_idle(m.exclude_idle as u64);
        attr.set_exclude_host(m.exclude_host as u64);
        attr.set_exclude_guest(m.exclude_guest as u64);
        attr.set_precise_ip(if m.precise_max {
            3
        } else {
            m.precise_ip.min(3)
        } as u64);
        attr.set_pinned(m.pinned as u64);
        attr.set_exclusive(m.exclusive as u64);
        attr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attr_carries_config_and_modifiers() {
        let mut ev = EventConfig::software("page-faults:u", sys::PERF_COUNT_SW_PAGE_FAULTS as u64);
        ev.modifiers.exclude_kernel = true;
        ev.modifiers.exclude_hv = true;
        ev.modifiers.precise_ip = 2;
        let attr = ev.to_attr();
        assert_eq!(attr.type_, sys::PERF_TYPE_SOFTWARE);
        assert_eq!(attr.config, sys::PERF_COUNT_SW_PAGE_FAULTS as u64);
        assert_eq!(attr.exclude_kernel(), 1);
        assert_eq!(attr.exclude_hv(), 1);
        assert_eq!(attr.exclude_user(), 0);
        assert_eq!(attr.precise_ip(), 2);
        assert_eq!(
            attr.size as usize,
            std::mem::size_of::<sys::perf_event_attr>()
        );
    }

    #[test]
    fn breakpoint_fields_land_in_the_unions() {
        let mut ev = EventConfig::new(
            "mem:0x1000",
            EventKind::Breakpoint,
            sys::PERF_TYPE_BREAKPOINT,
            0,
        );
        ev.bp_type = 3;
        ev.config1 = 0x1000;
        ev.config2 = 8;
        let attr = ev.to_attr();
        // SAFETY-free read: the union fields are plain u64s.
        let (addr, len) = unsafe_free_bp(&attr);
        assert_eq!((attr.bp_type, addr, len), (3, 0x1000, 8));
    }

    fn unsafe_free_bp(attr: &sys::perf_event_attr) -> (u64, u64) {
        // Reading a union needs unsafe; go through a byte view instead so the
        // test stays free of it. bp_addr is at offset 56, bp_len at 64.
        let bytes: [u8; std::mem::size_of::<sys::perf_event_attr>()] = attr_bytes(attr);
        let addr = u64::from_ne_bytes(bytes[56..64].try_into().unwrap());
        let len = u64::from_ne_bytes(bytes[64..72].try_into().unwrap());
        (addr, len)
    }

    fn attr_bytes(
        attr: &sys::perf_event_attr,
    ) -> [u8; std::mem::size_of::<sys::perf_event_attr>()] {
        crate::sys::attr_bytes(attr)
    }
}

/// The layout fields of an attr for the record parser, in native byte
/// order: what `lwprof_records` needs to parse the event's records.
pub fn parse_info(attr: &sys::perf_event_attr) -> lwprof_records::RecordParseInfo {
    lwprof_records::RecordParseInfo::from_attr_bytes(
        &crate::sys::attr_bytes(attr),
        lwprof_records::Endianness::NATIVE,
    )
}

#[cfg(test)]
mod parse_info_tests {
    use super::*;
    use lwprof_records::abi::{branch_sample_type, read_format, sample_type};
    use lwprof_records::{Endianness, RecordParseInfo};

    #[test]
    fn from_attr_takes_the_layout_fields() {
        let mut attr = sys::perf_event_attr {
            sample_type: sample_type::IP | sample_type::REGS_USER,
            read_format: read_format::ID,
            sample_regs_user: 0xff,
            sample_regs_intr: 0x3,
            branch_sample_type: branch_sample_type::HW_INDEX,
            ..Default::default()
        };
        let info = parse_info(&attr);
        assert!(!info.sample_id_all);
        attr.set_sample_id_all(1);
        let info = parse_info(&attr);
        assert_eq!(
            info,
            RecordParseInfo {
                sample_type: sample_type::IP | sample_type::REGS_USER,
                read_format: read_format::ID,
                sample_id_all: true,
                sample_regs_user: 0xff,
                sample_regs_intr: 0x3,
                branch_sample_type: branch_sample_type::HW_INDEX,
                endianness: Endianness::NATIVE,
            }
        );
    }
}
