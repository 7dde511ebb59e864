//! A streaming walk over the samples of a perf.data file, in time order, for
//! commands that print each sample as it comes (`lwprof script`).
//!
//! It reads the records through the same ordered queue and [`Converter`] as
//! [`crate::import`], so mappings, threads and names are those a report
//! sees, but each sample is handed to a callback and dropped: memory grows
//! with the distinct stacks and locations, not with the samples.
//! [`FrameCache`] symbolizes each frame once per distinct address, through
//! the `lwprof_symbols` symbolizer, then names it as perf does (its choice
//! among aliases, and the DWARF names of inline frames: `names`).
//!
//! It deliberately does not format anything.

use crate::convert::{Converter, SideEvent, StreamedSample};
use crate::import::{drive, events_of, open_input, Input, SkippedRecords};
use crate::model::{AddressSpace, DsoKind, FrameAddress, LocationId, Profile};
use crate::ordered::OrderStats;
use lwprof_events::raw::RawData;
use lwprof_events::record::RawRecord;
use lwprof_perfdata::{Features, PerfDataError, PerfDataInput};
use lwprof_symbols::{ResolvedFrame, Symbolizer};
use names::DsoNames;
use rustc_hash::FxHashMap;
use std::path::PathBuf;

mod names;

/// Options for [`walk_samples`].
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    /// Unwind `--call-graph dwarf` samples with DWARF CFI.
    pub dwarf: Option<crate::unwind::UnwinderConfig>,
    /// Record bytes held while waiting for time order.
    pub queue_budget: Option<usize>,
    /// Also hand out MMAP/MMAP2 and SWITCH records ([`Walked::Side`]).
    pub side_records: bool,
}

/// What the walk hands out, in time order.
#[derive(Debug)]
pub enum Walked<'a> {
    /// A sample.
    Sample(WalkedSample<'a>),
    /// A mapping or context-switch record.
    Side {
        /// The threads so far (for the thread's name).
        profile: &'a Profile,
        /// The record.
        event: &'a SideEvent,
        /// Its event index (attr order), when known.
        attr_index: Option<usize>,
    },
}

/// One sample of the walk.
#[derive(Debug)]
pub struct WalkedSample<'a> {
    /// The threads, mappings, locations and stacks so far.
    pub profile: &'a Profile,
    /// The sample and what its record carried.
    pub sample: &'a StreamedSample,
    /// The locations of [`StreamedSample::frames`], leaf first.
    pub locations: &'a [LocationId],
}

/// What the walk saw besides its samples.
#[derive(Debug)]
pub struct WalkSummary {
    /// Damage that stopped the walk early.
    pub damage: Option<PerfDataError>,
    /// How records were ordered.
    pub order: OrderStats,
    /// Records that could not be used.
    pub skipped: Vec<SkippedRecords>,
}

/// The file's attrs and header, before the walk.
#[derive(Debug)]
pub struct WalkInput {
    inputs: Vec<Input>,
}

impl WalkInput {
    /// Opens `paths` as one recording (see [`crate::import::import_all`]).
    pub fn open(paths: &[PathBuf]) -> Result<WalkInput, PerfDataError> {
        let inputs: Vec<Input> = paths
            .iter()
            .map(|p| open_input(p))
            .collect::<Result<_, _>>()?;
        if inputs.is_empty() {
            return Err(PerfDataError::Corrupt {
                path: PathBuf::new(),
                what: "input".into(),
                offset: 0,
                detail: "no input file".into(),
            });
        }
        Ok(WalkInput { inputs })
    }

    /// The first file (attrs, features).
    pub fn file(&self) -> &PerfDataInput {
        &self.inputs[0].file
    }

    /// The header features of the first file.
    pub fn features(&self) -> &Features {
        self.inputs[0].file.features()
    }
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Input")
            .field("path", &self.file.path())
            .finish()
    }
}

/// Calls `f` with every sample of `input` (and, with
/// [`WalkOptions::side_records`], every MMAP and SWITCH record), in time
/// order, as it is read.
pub fn walk_samples(
    input: &WalkInput,
    options: WalkOptions,
    mut f: impl FnMut(&Walked<'_>),
) -> Result<WalkSummary, PerfDataError> {
    let inputs = &input.inputs;
    let file = &inputs[0].file;
    let mut converter = Converter::new(events_of(inputs)?);
    converter.stream_samples();
    if options.side_records {
        converter.stream_side_records();
    }
    let endianness = file.endianness();
    converter.set_endianness(endianness);
    let locator = converter.locator();
    if let Some(config) = options.dwarf {
        converter.enable_dwarf(config);
    }
    converter.set_build_ids(
        file.features()
            .build_ids
            .iter()
            .map(|e| (e.path.as_bytes().to_vec(), e.build_id.clone())),
    );
    let mut locations = Vec::new();
    let mut feed = |_time: u64, attr_index: Option<usize>, bytes: &[u8]| {
        let Ok(raw) = RawRecord::from_data(RawData::Single(bytes), endianness) else {
            return;
        };
        let _ = converter.feed_record(&raw, attr_index);
        if options.side_records {
            for event in converter.take_side_events() {
                f(&Walked::Side {
                    profile: converter.profile(),
                    event: &event,
                    attr_index,
                });
            }
        }
        for sample in converter.take_streamed() {
            let profile = converter.profile();
            locations.clear();
            locations.extend(profile.stack_locations(sample.sample.stack));
            f(&Walked::Sample(WalkedSample {
                profile,
                sample: &sample,
                locations: &locations,
            }));
        }
    };
    let drove = drive(inputs, &locator, options.queue_budget, &mut feed);
    Ok(WalkSummary {
        damage: drove.damage,
        order: drove.order,
        skipped: drove.skipped,
    })
}

/// A symbolized frame of a sample, as `perf script` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScriptFrame {
    /// The address shown: DSO-relative for a frame in a mapped file (perf's
    /// `map_ip`), else absolute.
    pub address: u64,
    /// The function, when known; inline frames first, the outer function
    /// last.
    pub functions: Vec<ResolvedFrame>,
    /// The DSO name to show (`[unknown]` when none).
    pub dso: String,
    /// With [`FrameCache::frame_with_inlines`]: the function names DWARF
    /// gives the address, innermost (inlined) first, the function whose
    /// code it is last; empty without DWARF.
    pub inlines: Vec<String>,
}

/// Symbolizes sample frames once per distinct address, through a
/// [`Symbolizer`]. Addresses are resolved as recorded (perf does not step
/// return addresses back for `perf script`).
#[derive(Debug)]
pub struct FrameCache {
    symbolizer: Symbolizer,
    cache: FxHashMap<(LocationId, u64, bool), std::rc::Rc<ScriptFrame>>,
    kernel: bool,
    /// Kernel functions by address, for tracepoint fields.
    kernel_names: FxHashMap<u64, Option<String>>,
    /// DWARF of each DSO, for inline frames (loaded when first needed).
    dwarf: FxHashMap<String, Option<DsoNames>>,
}

/// Mappings whose addresses perf shows as they are (anonymous memory, the
/// heap and stack, SysV shared memory); others (`[vdso]`, `/memfd:...`)
/// it shows relative to the mapping, as for files.
fn identity_mapped(path: &str) -> bool {
    [
        "//anon",
        "/dev/zero",
        "/anon_hugepage",
        "[stack",
        "/SYSV",
        "[heap]",
    ]
    .iter()
    .any(|p| path.starts_with(p))
}

/// `address` relative to the latest mapping of `dso` in process `pid` that
/// holds it, plus the mapping's file offset (perf's `map_ip`).
fn mapped_offset(
    profile: &Profile,
    pid: u32,
    dso: crate::model::DsoId,
    address: u64,
) -> Option<u64> {
    let process = profile.processes().iter().rev().find(|p| p.pid == pid)?;
    let m = process
        .mappings
        .iter()
        .rev()
        .find(|m| m.dso == dso && m.start <= address && address < m.end)?;
    Some((address - m.start).wrapping_add(m.pgoff))
}

/// Entries the cache keeps before it starts over.
const MAX_CACHED: usize = 1 << 20;

impl FrameCache {
    /// A cache over `symbolizer`.
    pub fn new(symbolizer: Symbolizer) -> Self {
        FrameCache {
            symbolizer,
            cache: FxHashMap::default(),
            kernel: true,
            kernel_names: FxHashMap::default(),
            dwarf: FxHashMap::default(),
        }
    }

    /// Leaves kernel addresses unresolved (when the recording's kernel is
    /// not the running one, its symbols would be wrong).
    pub fn without_kernel_symbols(mut self) -> Self {
        self.kernel = false;
        self
    }

    /// The symbolizer (for its warnings).
    pub fn symbolizer(&self) -> &Symbolizer {
        &self.symbolizer
    }

    /// The kernel function at `address` (for tracepoint fields printed
    /// with `%ps`), cached; `None` when kernel symbols are off or unknown.
    pub fn kernel_function(&mut self, address: u64) -> Option<String> {
        if !self.kernel {
            return None;
        }
        if let Some(name) = self.kernel_names.get(&address) {
            return name.clone();
        }
        let name = self
            .symbolizer
            .symbolize_kernel(address)
            .pop()
            .map(|f| f.function);
        self.kernel_names.insert(address, name.clone());
        name
    }

    /// The frame of `addr` at `location`.
    pub fn frame(
        &mut self,
        profile: &Profile,
        location: LocationId,
        addr: &FrameAddress,
    ) -> std::rc::Rc<ScriptFrame> {
        self.cached(profile, location, addr, false)
    }

    /// [`FrameCache::frame`] plus the inline frames DWARF gives a file
    /// address ([`ScriptFrame::inlines`]).
    pub fn frame_with_inlines(
        &mut self,
        profile: &Profile,
        location: LocationId,
        addr: &FrameAddress,
    ) -> std::rc::Rc<ScriptFrame> {
        self.cached(profile, location, addr, true)
    }

    fn cached(
        &mut self,
        profile: &Profile,
        location: LocationId,
        addr: &FrameAddress,
        inlines: bool,
    ) -> std::rc::Rc<ScriptFrame> {
        let key = (location, addr.address, inlines);
        if let Some(f) = self.cache.get(&key) {
            return f.clone();
        }
        if self.cache.len() >= MAX_CACHED {
            self.cache.clear();
        }
        let mut f = self.resolve(profile, location, addr);
        if inlines {
            f.inlines = self.inlines(profile, location, addr);
        }
        let f = std::rc::Rc::new(f);
        self.cache.insert(key, f.clone());
        f
    }

    /// The names of the DSO at `path`, loaded once.
    fn names(&mut self, path: &str) -> Option<&DsoNames> {
        self.dwarf
            .entry(path.to_string())
            .or_insert_with(|| DsoNames::load(std::path::Path::new(path)))
            .as_ref()
    }

    fn inlines(&mut self, profile: &Profile, id: LocationId, addr: &FrameAddress) -> Vec<String> {
        let loc = profile.location(id);
        let AddressSpace::File(d) = loc.space else {
            return Vec::new();
        };
        let dso = profile.dso(d);
        if dso.kind != DsoKind::File {
            return Vec::new();
        }
        let offset = loc
            .address
            .wrapping_add(addr.address.wrapping_sub(addr.lookup_address()));
        let opts = self.symbolizer.config().demangle;
        self.names(&dso.path)
            .filter(|n| n.is_build(dso.build_id.as_deref()))
            .map(|n| n.inlines(offset, opts))
            .unwrap_or_default()
    }

    fn resolve(&mut self, profile: &Profile, id: LocationId, addr: &FrameAddress) -> ScriptFrame {
        let loc = profile.location(id);
        let dso = loc.dso.map(|d| profile.dso(d));
        // The location has the lookup address; perf resolves the recorded one.
        let delta = addr.address.wrapping_sub(addr.lookup_address());
        let mut dso_name = dso.map_or_else(|| "[unknown]".to_string(), |d| d.path.clone());
        let (address, functions) = match loc.space {
            AddressSpace::File(_) => {
                let offset = loc.address.wrapping_add(delta);
                let mut functions =
                    match dso {
                        Some(d) if d.kind == DsoKind::File => self
                            .symbolizer
                            .symbolize_file_offset(&d.path, d.build_id.as_deref(), offset),
                        _ => Vec::new(),
                    };
                // perf's choice among the aliases of the function.
                if let (Some(d), Some(outer)) = (dso, functions.last_mut()) {
                    let at = outer.symbol_offset.unwrap_or(0);
                    let opts = self.symbolizer.config().demangle;
                    let name = self
                        .names(&d.path)
                        .filter(|n| n.is_build(d.build_id.as_deref()))
                        .and_then(|n| n.perf_name(offset, at));
                    if let Some(name) = name {
                        outer.function = lwprof_symbols::demangle(name, opts).into_owned();
                    }
                }
                (offset, functions)
            }
            AddressSpace::Kernel => {
                let functions = if self.kernel {
                    self.symbolizer.symbolize_kernel(addr.address)
                } else {
                    Vec::new()
                };
                if let Some(m) = functions.last().and_then(|f| f.dso.clone()) {
                    dso_name = m;
                }
                (addr.address, functions)
            }
            AddressSpace::Process(pid) => {
                let shown = match (loc.dso, dso) {
                    (Some(id), Some(d)) if !identity_mapped(&d.path) => {
                        mapped_offset(profile, pid, id, addr.address)
                    }
                    _ => None,
                };
                let functions = match (dso, shown) {
                    // The vDSO, from the kernel's image of it.
                    (Some(d), Some(offset))
                        if d.kind == DsoKind::Special
                            && d.path == lwprof_symbols::vdso::VDSO_NAME =>
                    {
                        self.symbolizer
                            .symbolize_vdso(d.build_id.as_deref(), offset)
                    }
                    _ => self.symbolizer.symbolize_jit(pid, addr.address),
                };
                (shown.unwrap_or(addr.address), functions)
            }
        };
        ScriptFrame {
            address,
            functions,
            dso: dso_name,
            inlines: Vec::new(),
        }
    }
}
