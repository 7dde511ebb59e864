//! Symbolizing a profile: every location of a [`Profile`] resolved through
//! a [`Symbolizer`] (file offsets through ELF and DWARF, kernel addresses
//! through kallsyms, process addresses through perf maps and jitdumps, the
//! `[vdso]` through its image).
//!
//! The symbolizer itself (`lwprof-symbols`) does not know the profile
//! model; this is the one place the two meet. DSOs are resolved on two
//! threads when there are two CPUs: loading symbols and DWARF is most of
//! the cost, and DSOs are independent.

use crate::model::{AddressSpace, DsoKind, Location, Mapping, Pid, Profile};
use lwprof_symbols::vdso::VDSO_NAME;
use lwprof_symbols::{ResolvedFrame, Symbolizer};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

/// Fills a profile's frames from a symbolizer.
pub trait SymbolizeProfile {
    /// Resolve every location of a profile: file offsets through ELF and
    /// DWARF, kernel addresses through kallsyms, process addresses through
    /// the process's perf map and the jitdumps it mapped.
    fn symbolize_profile(&mut self, profile: &mut Profile);
}

impl SymbolizeProfile for Symbolizer {
    fn symbolize_profile(&mut self, profile: &mut Profile) {
        for dso in profile.dsos() {
            if dso.kind == DsoKind::JitDump {
                let name = dso.path.rsplit('/').next().unwrap_or("");
                if let Some(pid) = name
                    .strip_prefix("jit-")
                    .and_then(|n| n.strip_suffix(".dump"))
                    .and_then(|n| n.parse::<Pid>().ok())
                {
                    self.add_jitdump(pid, PathBuf::from(&dso.path));
                }
            }
        }
        let helper_share = helper_share(profile);
        let vdso = vdso_mappings(profile);
        let roots = live_foreign_roots(profile);
        for (path, root) in &roots {
            self.add_root(path, root.clone());
        }
        let mut results: Vec<Vec<ResolvedFrame>> = Vec::new();
        results.resize_with(profile.locations().len(), Vec::new);
        let mut left: Vec<usize> = (0..results.len()).collect();
        if !helper_share.is_empty() {
            let config = self.config().clone();
            let shared: &Profile = profile;
            let (mine, theirs): (Vec<usize>, Vec<usize>) =
                left.iter().partition(|&&i| !helper_share[i]);
            let helper = std::thread::scope(|scope| {
                let worker = scope.spawn(|| {
                    let mut s = Symbolizer::new(config);
                    for (path, root) in &roots {
                        s.add_root(path, root.clone());
                    }
                    let frames: Vec<Vec<ResolvedFrame>> = theirs
                        .iter()
                        .map(|&i| resolve(&mut s, shared, &vdso, i))
                        .collect();
                    (s, frames)
                });
                for &i in &mine {
                    results[i] = resolve(self, shared, &vdso, i);
                }
                worker.join()
            });
            left.clear();
            match helper {
                Ok((s, frames)) => {
                    for (&i, f) in theirs.iter().zip(frames) {
                        results[i] = f;
                    }
                    self.merge(s);
                }
                // The helper failed: its share is resolved here instead.
                Err(_) => left = theirs,
            }
        }
        for i in left {
            results[i] = resolve(self, profile, &vdso, i);
        }
        let mut results = results.into_iter();
        profile.resolve_locations(|_, _| results.next().unwrap_or_default());
    }
}

/// The frames of location `i`.
fn resolve(s: &mut Symbolizer, profile: &Profile, vdso: &VdsoMaps, i: usize) -> Vec<ResolvedFrame> {
    let loc = &profile.locations()[i];
    let dso = loc.dso.map(|d| profile.dso(d));
    match loc.space {
        AddressSpace::File(_) => match dso {
            Some(d) if d.kind == DsoKind::File => {
                s.symbolize_file_offset(&d.path, d.build_id.as_deref(), loc.address)
            }
            _ => Vec::new(),
        },
        AddressSpace::Kernel => s.symbolize_kernel(loc.address),
        AddressSpace::Process(pid) => match dso {
            Some(d) if d.kind == DsoKind::Special && d.path == VDSO_NAME => {
                match vdso_offset(vdso, pid, loc) {
                    Some(offset) => s.symbolize_vdso(d.build_id.as_deref(), offset),
                    None => Vec::new(),
                }
            }
            _ => s.symbolize_jit(pid, loc.address),
        },
    }
}

/// For the processes of another mount namespace that still run in it (the
/// recorded namespace is `/proc/PID/ns/mnt`'s, so the pid was not reused),
/// each file they mapped with `/proc/PID/root`, where their paths are.
fn live_foreign_roots(profile: &Profile) -> Vec<(String, PathBuf)> {
    use std::os::unix::fs::MetadataExt;
    let ns_of = |proc_dir: &str| {
        std::fs::metadata(format!("{proc_dir}/ns/mnt"))
            .ok()
            .map(|m| (m.dev(), m.ino()))
    };
    let Some(own) = ns_of("/proc/self") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for p in profile.processes() {
        let Some(ns) = p.mount_namespace.filter(|ns| ns.1 != own.1) else {
            continue;
        };
        let proc_dir = format!("/proc/{}", p.pid);
        if ns_of(&proc_dir).is_none_or(|live| live.1 != ns.1) {
            continue;
        }
        let root = PathBuf::from(proc_dir).join("root");
        let mut paths: Vec<&str> = p
            .mappings
            .iter()
            .map(|m| profile.dso(m.dso))
            .filter(|d| d.kind == DsoKind::File && d.path.starts_with('/'))
            .map(|d| d.path.as_str())
            .collect();
        paths.sort_unstable();
        paths.dedup();
        out.extend(
            paths
                .into_iter()
                .map(|path| (path.to_string(), root.clone())),
        );
    }
    out
}

/// The `[vdso]` mappings of each process, by pid.
type VdsoMaps = HashMap<Pid, Vec<Mapping>>;

fn vdso_mappings(profile: &Profile) -> VdsoMaps {
    let mut out = VdsoMaps::new();
    for p in profile.processes() {
        for m in &p.mappings {
            let d = profile.dso(m.dso);
            if d.kind == DsoKind::Special && d.path == VDSO_NAME {
                out.entry(p.pid).or_default().push(*m);
            }
        }
    }
    out
}

/// The offset in the vDSO image of an absolute address in it: the image is
/// mapped whole (pgoff 0), so its file offsets are mapping offsets.
fn vdso_offset(maps: &VdsoMaps, pid: Pid, loc: &Location) -> Option<u64> {
    maps.get(&pid)?
        .iter()
        .find(|m| Some(m.dso) == loc.dso && m.start <= loc.address && loc.address < m.end)
        .map(|m| loc.address - m.start + m.pgoff)
}

/// Which locations a second thread resolves: the DSOs (the kernel counts as
/// one) are taken by number of locations, largest first, and every other
/// one goes to the helper, since loading a DSO's symbols is most of the
/// cost and each symbolizer caches its own. JIT addresses stay here (the
/// jitdumps are registered on this symbolizer). Empty when there is one
/// DSO or one CPU: then a second thread does not pay.
fn helper_share(profile: &Profile) -> Vec<bool> {
    let parallel = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Group key: the kernel, or a DSO id.
    let group = |loc: &Location| match loc.space {
        AddressSpace::Kernel => Some(u32::MAX),
        AddressSpace::File(d) => Some(d.0),
        AddressSpace::Process(_) => None,
    };
    let mut counts: HashMap<u32, usize> = HashMap::new();
    for loc in profile.locations() {
        if let Some(g) = group(loc) {
            *counts.entry(g).or_default() += 1;
        }
    }
    if parallel < 2 || counts.len() < 2 {
        return Vec::new();
    }
    let mut groups: Vec<(usize, u32)> = counts.into_iter().map(|(g, n)| (n, g)).collect();
    groups.sort_unstable_by(|a, b| b.cmp(a));
    let helper: HashSet<u32> = groups.iter().skip(1).step_by(2).map(|&(_, g)| g).collect();
    profile
        .locations()
        .iter()
        .map(|loc| group(loc).is_some_and(|g| helper.contains(&g)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use lwprof_symbols::SymbolizerConfig;

    #[test]
    fn jit_frames_from_perf_map_and_jitdump_through_a_profile() {
        use crate::model::{FrameAddress, FrameMode, MappingInput, ProfileBuilder, SampleInput};

        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("perf-500.map"),
            "7f0000001000 100 Interpreter::loop\n7f0000002000 80 js:hot\n",
        )
        .expect("write perf map");
        let mut w = lwprof_symbols::JitDumpWriter::new(600, false);
        w.debug(0x7e00_0000_1000, &[(0x7e00_0000_1000, 41, b"app.js")]);
        w.load(600, 0x7e00_0000_1000, 0x40, 1, "js:fromdump");
        let dump_path = dir.path().join("jit-600.dump");
        std::fs::write(&dump_path, w.into_bytes()).expect("write jitdump");

        let mut b = ProfileBuilder::new();
        let ev = b.add_event("cpu-clock");
        for (pid, start) in [(500u32, 0x7f00_0000_0000u64), (600, 0x7e00_0000_0000)] {
            b.mmap(&MappingInput {
                pid,
                time: 0,
                start,
                len: 0x10_0000,
                pgoff: 0,
                path: b"//anon",
                build_id: None,
                mode: FrameMode::User,
            });
        }
        let dump = dump_path.to_str().expect("utf-8").as_bytes();
        b.mmap(&MappingInput {
            pid: 600,
            time: 0,
            start: 0x5000_0000,
            len: 0x1000,
            pgoff: 0,
            path: dump,
            build_id: None,
            mode: FrameMode::User,
        });
        let chains = [
            (
                500u32,
                vec![
                    FrameAddress::ip(0x7f00_0000_2010, FrameMode::User),
                    FrameAddress::return_address(0x7f00_0000_1050, FrameMode::User),
                ],
            ),
            (
                600,
                vec![FrameAddress::ip(0x7e00_0000_1008, FrameMode::User)],
            ),
            (
                500,
                vec![FrameAddress::ip(0x7f00_0009_0000, FrameMode::User)],
            ),
        ];
        for (pid, chain) in &chains {
            b.sample(&SampleInput {
                pid: *pid,
                tid: *pid,
                time: 1,
                cpu: 0,
                event: ev,
                weight: 1,
                kind: crate::model::SampleKind::OnCpu,
                callchain: chain,
            });
        }
        let mut profile = b.finish();
        let mut s = Symbolizer::new(SymbolizerConfig {
            kallsyms: None,
            perf_map_dir: Some(dir.path().to_path_buf()),
            debug_roots: vec![],
            ..SymbolizerConfig::default()
        });
        s.symbolize_profile(&mut profile);
        let stack_names = |i: usize| -> Vec<String> {
            profile
                .stack_frames(profile.samples()[i].stack, true)
                .map(|f| profile.frame_function(f.frame).to_string())
                .collect()
        };
        assert_eq!(stack_names(0), ["js:hot", "Interpreter::loop"]);
        assert_eq!(stack_names(1), ["js:fromdump"]);
        assert_eq!(
            stack_names(2),
            ["0x7f0000090000"],
            "not in the map: placeholder"
        );
        let leaf = profile
            .stack_frames(profile.samples()[1].stack, true)
            .next()
            .map(|f| *profile.frame(f.frame))
            .expect("frame");
        assert_eq!(leaf.line, Some(41));
        assert_eq!(leaf.file.map(|f| profile.string(f)), Some("app.js"));
        let dso = leaf.dso.map(|d| profile.dso(d).short_name());
        assert_eq!(dso, Some("jit-600.dump"));
        assert!(s.warnings().is_empty(), "{:?}", s.warnings());
    }
}
