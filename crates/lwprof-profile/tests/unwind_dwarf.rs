//! DWARF unwinding against the real kernel.
//!
//! A C program whose hot leaf is reached through main -> outer -> middle ->
//! leaf, built with `-fomit-frame-pointer`, is sampled (cpu-clock) with the
//! exact attr a `--call-graph dwarf` recording uses: CALLCHAIN (the kernel's
//! frame-pointer walk, user part kept), REGS_USER with
//! [`DWARF_REGS_MASK_X86_64`] and an 8 KiB STACK_USER copy. The same samples
//! go through two profiles: one with the kernel's frame-pointer chain, one
//! with [`UnwindState`]; both are symbolized with [`Symbolizer`]. Frame
//! pointers must lose `middle` and `outer`; DWARF must find them.
//!
//! A frame-pointer build sampled with a stack copy far too short for its
//! stack checks the splice: DWARF runs out of stack and the kernel's
//! frame-pointer chain supplies the callers.

use lwprof_profile::SymbolizeProfile;
use lwprof_testkit::{compile_c, scratch, TempDir};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lwprof_events::command::PreparedCommand;
use lwprof_events::record::{parse_record, CpuMode as RecordCpuMode, Record};
use lwprof_events::ring::RingOptions;
use lwprof_events::sampling::{Period, SampleConfig, SamplingEvent};
use lwprof_events::EventConfig;
use lwprof_profile::model::{
    callchain_from_perf, FrameAddress, FrameMode, MappingInput, SampleInput, SampleKind,
};
use lwprof_profile::unwind::{
    CallGraph, UnwindEnd, UnwindState, UnwindStats, UnwinderConfig, DWARF_REGS_MASK_X86_64,
};
use lwprof_profile::{Profile, ProfileBuilder};
use lwprof_symbols::{Symbolizer, SymbolizerConfig};
use perf_event_open_sys::bindings as b;

const SOURCE: &str = r#"
#include <stdint.h>
#include <stdlib.h>
volatile uint64_t sink;
__attribute__((noipa)) uint64_t leaf(uint64_t n) {
    uint64_t x = sink;
    for (uint64_t i = 0; i < n; i++) x = x * 6364136223846793005ULL + i;
    return x;
}
__attribute__((noipa)) uint64_t middle(uint64_t n) {
    volatile char pad[48];
    pad[0] = (char)n;
    uint64_t r = leaf(n);
    return r * 3 + pad[0];
}
__attribute__((noipa)) uint64_t outer(uint64_t n) {
    uint64_t r = middle(n);
    sink = r;
    return r + 1;
}
int main(int argc, char **argv) {
    uint64_t rounds = argc > 1 ? strtoull(argv[1], 0, 10) : 100;
    for (uint64_t i = 0; i < rounds; i++) sink += outer(1000000);
    return 0;
}
"#;

/// Builds the program with the given frame-pointer flag in a scratch
/// directory, which holds it until dropped.
fn build(name: &str, fp_flag: &str) -> (TempDir, PathBuf) {
    let dir = scratch(name);
    let exe = compile_c(dir.path(), name, SOURCE, &["-O2", "-g", fp_flag]);
    (dir, exe)
}

/// One recording, unwound both ways.
struct Recording {
    fp: Profile,
    dwarf: Profile,
    stats: UnwindStats,
    /// Samples whose DWARF unwind was cut short by the copy and spliced.
    reports: Vec<lwprof_profile::unwind::UnwindReport>,
}

/// Runs `exe rounds` under a cpu-clock sampling event set up for
/// `--call-graph dwarf,stack_size`, feeding every record to a frame-pointer
/// profile, a DWARF profile and the unwind state.
fn record(exe: &Path, rounds: u32, stack_size: u32) -> Recording {
    let event = EventConfig::software("cpu-clock", u64::from(b::PERF_COUNT_SW_CPU_CLOCK));
    let cfg = SampleConfig {
        sample_type: u64::from(b::PERF_SAMPLE_IP | b::PERF_SAMPLE_TID | b::PERF_SAMPLE_TIME),
        period: Period::Count(500_000),
        disabled: true,
        enable_on_exec: true,
        sample_id_all: true,
        mmap: true,
        comm: true,
        task: true,
        ..SampleConfig::default()
    };
    let mut attr = event.to_attr();
    cfg.apply(&mut attr);
    CallGraph::Dwarf { stack_size }.apply(&mut attr);
    assert_eq!(attr.sample_regs_user, DWARF_REGS_MASK_X86_64);
    // These tests compare both unwinders on the same samples and splice
    // frame pointers past a short copy, so they keep the user
    // frame-pointer chain that `lwprof record`, like perf, leaves out.
    attr.set_exclude_callchain_user(0);

    let argv: Vec<OsString> = vec![exe.into(), rounds.to_string().into()];
    let mut cmd = PreparedCommand::new(&argv).expect("fork workload");
    let sampling = SamplingEvent::open_attr(&event, attr, cmd.pid(), -1, None)
        .expect("open cpu-clock sampling event on the child");
    let mut ring = sampling
        .map_ring(&RingOptions {
            data_pages: 512,
            ..RingOptions::default()
        })
        .expect("map ring");
    let info = lwprof_events::parse_info(&attr);

    let mut fp = ProfileBuilder::new();
    let mut dwarf = ProfileBuilder::new();
    let fp_event = fp.add_event("cpu-clock");
    let dwarf_event = dwarf.add_event("cpu-clock");
    let mut state = UnwindState::new(UnwinderConfig::default());
    let mut reports = Vec::new();
    let mut unwind_time = Duration::ZERO;
    let mut fp_frames: Vec<FrameAddress> = Vec::new();
    let mut dwarf_frames: Vec<FrameAddress> = Vec::new();

    cmd.start().expect("start workload");
    let mut done = false;
    while !done {
        done = cmd.try_wait().expect("wait").is_some();
        let mut batch = ring.read();
        for data in batch.records() {
            let record = match parse_record(data, &info) {
                Ok(r) => r,
                Err(e) => panic!("unparsable record from the kernel: {e}"),
            };
            match record {
                Record::Mmap2(m) => {
                    let path = m.filename.as_contiguous();
                    let input = MappingInput {
                        pid: m.pid,
                        time: m.sample_id.time.unwrap_or(0),
                        start: m.addr,
                        len: m.len,
                        pgoff: m.pgoff,
                        path: &path,
                        build_id: m.file_id.build_id(),
                        mode: if m.cpumode == RecordCpuMode::Kernel {
                            FrameMode::Kernel
                        } else {
                            FrameMode::User
                        },
                    };
                    fp.mmap(&input);
                    dwarf.mmap(&input);
                    state.mmap(&input);
                }
                Record::Comm(c) => {
                    let name = c.comm.as_contiguous();
                    let time = c.sample_id.time.unwrap_or(0);
                    fp.comm(c.pid, c.tid, time, &name, c.is_exec);
                    dwarf.comm(c.pid, c.tid, time, &name, c.is_exec);
                    state.comm(c.pid, c.tid, time, &name, c.is_exec);
                }
                Record::Fork(f) => {
                    fp.fork(f.pid, f.ppid, f.tid, f.ptid, f.time);
                    dwarf.fork(f.pid, f.ppid, f.tid, f.ptid, f.time);
                    state.fork(f.pid, f.ppid, f.tid, f.ptid, f.time);
                }
                Record::Exit(f) => {
                    fp.exit(f.pid, f.tid, f.time);
                    dwarf.exit(f.pid, f.tid, f.time);
                    state.exit(f.pid, f.tid, f.time);
                }
                Record::Sample(s) => {
                    let (Some(pid), Some(tid), Some(time)) = (s.pid(), s.tid(), s.time()) else {
                        panic!("sample without TID/TIME: {s:?}");
                    };
                    let mode = if s.cpumode() == RecordCpuMode::Kernel {
                        FrameMode::Kernel
                    } else {
                        FrameMode::User
                    };
                    let chain = s.callchain().expect("CALLCHAIN requested").to_vec();
                    fp_frames.clear();
                    callchain_from_perf(&chain, mode, &mut fp_frames);
                    let t = std::time::Instant::now();
                    let report = state.sample_frames(&s, &mut dwarf_frames);
                    unwind_time += t.elapsed();
                    reports.push(report);
                    for (builder, event, frames) in [
                        (&mut fp, fp_event, &fp_frames),
                        (&mut dwarf, dwarf_event, &dwarf_frames),
                    ] {
                        builder.sample(&SampleInput {
                            pid,
                            tid,
                            time,
                            cpu: 0,
                            event,
                            weight: 1,
                            kind: SampleKind::OnCpu,
                            callchain: frames,
                        });
                    }
                }
                _ => {}
            }
        }
        drop(batch);
        if !done {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    let mut symbolizer = Symbolizer::new(SymbolizerConfig {
        perf_map_dir: None,
        debug_roots: vec![],
        ..SymbolizerConfig::default()
    });
    let mut fp = fp.finish();
    let mut dwarf = dwarf.finish();
    symbolizer.symbolize_profile(&mut fp);
    symbolizer.symbolize_profile(&mut dwarf);
    assert!(
        state.warnings().is_empty(),
        "unwind warnings: {:?}",
        state.warnings()
    );
    // A figure, not a check: the first sample of a process includes reading
    // and indexing its files.
    eprintln!(
        "unwound {} samples in {:?} ({:?} per sample)",
        reports.len(),
        unwind_time,
        unwind_time / (reports.len().max(1) as u32)
    );
    Recording {
        fp,
        dwarf,
        stats: *state.stats(),
        reports,
    }
}

/// Each sample's user function names, leaf first (inlined code charged to
/// its caller).
fn user_stacks(p: &Profile) -> Vec<Vec<String>> {
    p.samples()
        .iter()
        .map(|s| {
            p.stack_frames(s.stack, false)
                .filter(|f| p.frame(f.frame).mode == FrameMode::User)
                .map(|f| p.frame_function(f.frame).to_string())
                .collect()
        })
        .collect()
}

fn has_chain(stack: &[String], chain: &[&str]) -> bool {
    stack
        .windows(chain.len())
        .any(|w| w.iter().zip(chain).all(|(a, b)| a == b))
}

const CHAIN: [&str; 4] = ["leaf", "middle", "outer", "main"];

#[test]
fn dwarf_recovers_the_frames_that_frame_pointers_miss() {
    let (_dir, exe) = build("chain-nofp", "-fomit-frame-pointer");
    let rec = record(&exe, 150, 8192);

    let fp = user_stacks(&rec.fp);
    let dwarf = user_stacks(&rec.dwarf);
    assert_eq!(fp.len(), dwarf.len());
    // Samples that landed in the hot leaf (by the sampled ip, which both
    // unwinds share).
    let in_leaf: Vec<usize> = (0..fp.len())
        .filter(|&i| fp[i].first().is_some_and(|f| f == "leaf"))
        .collect();
    assert!(
        in_leaf.len() >= 50,
        "only {} of {} samples in leaf: {:?}",
        in_leaf.len(),
        fp.len(),
        rec.stats
    );
    for &i in &in_leaf {
        assert_eq!(dwarf[i].first(), fp[i].first(), "same leaf ip");
    }

    // Frame pointers: leaf has no frame, so its callers are lost. (Only the
    // samples in `leaf` count: a sample taken in `outer` itself has `outer`
    // as its own leaf.)
    let fp_hits: Vec<&Vec<String>> = in_leaf
        .iter()
        .map(|&i| &fp[i])
        .filter(|s| s.iter().any(|f| f == "middle" || f == "outer"))
        .collect();
    assert!(
        fp_hits.is_empty(),
        "frame-pointer chains unexpectedly found middle/outer: {:?}",
        fp_hits.first()
    );

    // DWARF: leaf <- middle <- outer <- main for (nearly) every leaf sample.
    let full = in_leaf
        .iter()
        .filter(|&&i| has_chain(&dwarf[i], &CHAIN))
        .count();
    assert!(
        full * 100 >= in_leaf.len() * 80,
        "DWARF found leaf<-middle<-outer<-main in {full} of {} leaf samples; e.g. {:?}; {:?}",
        in_leaf.len(),
        in_leaf
            .iter()
            .find(|&&i| !has_chain(&dwarf[i], &CHAIN))
            .map(|&i| &dwarf[i]),
        rec.stats
    );
    // The 8 KiB copy holds this shallow stack: DWARF reaches the root.
    assert!(
        rec.stats.dwarf_complete * 100 >= rec.stats.samples * 80,
        "{:?}",
        rec.stats
    );
    eprintln!(
        "leaf samples {}, DWARF full chain {full}, FP chains with middle/outer {}; \
         e.g. FP {:?} DWARF {:?}; {:?}",
        in_leaf.len(),
        fp_hits.len(),
        fp[in_leaf[0]],
        dwarf[in_leaf[0]],
        rec.stats
    );
}

#[test]
fn a_stack_copy_too_short_is_completed_with_frame_pointers() {
    // Built with frame pointers so the kernel's chain is right; a 32-byte
    // copy cannot hold leaf's caller chain.
    let (_dir, exe) = build("chain-fp", "-fno-omit-frame-pointer");
    let rec = record(&exe, 150, 32);
    let dwarf = user_stacks(&rec.dwarf);
    let in_leaf: Vec<usize> = (0..dwarf.len())
        .filter(|&i| dwarf[i].first().is_some_and(|f| f == "leaf"))
        .collect();
    assert!(in_leaf.len() >= 50, "{} leaf samples", in_leaf.len());
    let spliced = in_leaf
        .iter()
        .filter(|&&i| {
            matches!(rec.reports[i].end, UnwindEnd::StackTruncated { .. })
                && rec.reports[i].fp_frames > 0
        })
        .count();
    let full = in_leaf
        .iter()
        .filter(|&&i| has_chain(&dwarf[i], &CHAIN))
        .count();
    assert!(
        spliced * 100 >= in_leaf.len() * 80,
        "only {spliced} of {} leaf samples were truncated and spliced: {:?}",
        in_leaf.len(),
        rec.stats
    );
    assert!(
        full * 100 >= in_leaf.len() * 80,
        "full chain in {full} of {} leaf samples; e.g. {:?}",
        in_leaf.len(),
        in_leaf
            .iter()
            .find(|&&i| !has_chain(&dwarf[i], &CHAIN))
            .map(|&i| &dwarf[i])
    );
    eprintln!(
        "leaf samples {}, spliced {spliced}, full chain {full}; e.g. {:?}; {:?}",
        in_leaf.len(),
        in_leaf.first().map(|&i| &dwarf[i]),
        rec.stats
    );
    // No frame is duplicated at the seam.
    for &i in &in_leaf {
        let s = &dwarf[i];
        assert!(
            !s.windows(2).any(|w| w[0] == w[1] && w[0] != "??"),
            "duplicated frame at the seam: {s:?}"
        );
    }
}
