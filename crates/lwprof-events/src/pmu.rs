//! sysfs PMU discovery: which PMUs this machine has, their `type`, their
//! `format/` fields and their `events/` aliases (with `.scale` and `.unit`).
//!
//! The sysfs root is a parameter ([`PmuRegistry::discover`]) so that tests
//! run against a fake tree. The format parser ([`FormatField::parse`]) and
//! the bit encoder ([`FormatField::encode`]) are pure. This module does not
//! open events; it only reads sysfs.

use crate::spec::error::SpecError;
use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Where the kernel lists its PMUs.
pub const DEFAULT_SYSFS_ROOT: &str = "/sys/bus/event_source/devices";

/// Which `perf_event_attr` word a format field writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConfigWord {
    /// `config`.
    Config,
    /// `config1`.
    Config1,
    /// `config2`.
    Config2,
    /// `config3`.
    Config3,
}

impl ConfigWord {
    /// The sysfs spelling: `config`, `config1`...
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigWord::Config => "config",
            ConfigWord::Config1 => "config1",
            ConfigWord::Config2 => "config2",
            ConfigWord::Config3 => "config3",
        }
    }

    /// Parses the sysfs spelling.
    pub fn parse(s: &str) -> Option<ConfigWord> {
        Some(match s {
            "config" => ConfigWord::Config,
            "config1" => ConfigWord::Config1,
            "config2" => ConfigWord::Config2,
            "config3" => ConfigWord::Config3,
            _ => return None,
        })
    }
}

/// One `format/` file: which bits of which config word a term sets,
/// e.g. `config:0-7,21`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatField {
    /// The config word.
    pub word: ConfigWord,
    /// The bit positions, lowest value bit first (ranges expanded in order).
    pub bits: Vec<u8>,
}

impl FormatField {
    /// Parses a format file's content (`config:0-7,21`, `config1:0-63`,
    /// `config2:5`). Pure; the error is the reason in a phrase.
    pub fn parse(content: &str) -> Result<FormatField, String> {
        let content = content.trim();
        let (word, ranges) = content
            .split_once(':')
            .ok_or_else(|| "no ':' between the config word and the bits".to_string())?;
        let word = ConfigWord::parse(word.trim())
            .ok_or_else(|| format!("'{word}' is not config, config1, config2 or config3"))?;
        let mut bits = Vec::new();
        for r in ranges.split(',') {
            let r = r.trim();
            let (lo, hi) = match r.split_once('-') {
                Some((a, b)) => (a, b),
                None => (r, r),
            };
            let lo: u8 = lo
                .trim()
                .parse()
                .map_err(|_| format!("'{r}' is not a bit range"))?;
            let hi: u8 = hi
                .trim()
                .parse()
                .map_err(|_| format!("'{r}' is not a bit range"))?;
            if lo > hi || hi > 63 {
                return Err(format!("bit range '{r}' is not within 0-63"));
            }
            for b in lo..=hi {
                if bits.contains(&b) {
                    return Err(format!("bit {b} appears twice"));
                }
                bits.push(b);
            }
        }
        Ok(FormatField { word, bits })
    }

    /// How many value bits the field has.
    pub fn width(&self) -> u32 {
        self.bits.len() as u32
    }

    /// The largest value that fits.
    pub fn max_value(&self) -> u64 {
        if self.bits.len() >= 64 {
            u64::MAX
        } else {
            (1u64 << self.bits.len()) - 1
        }
    }

    /// Spreads `value` over the field's bits (lowest value bit to the first
    /// bit position). `None` when the value does not fit.
    pub fn encode(&self, value: u64) -> Option<u64> {
        if value > self.max_value() {
            return None;
        }
        let mut out = 0u64;
        for (i, &b) in self.bits.iter().enumerate() {
            if value >> i & 1 == 1 {
                out |= 1u64 << b;
            }
        }
        Some(out)
    }

    /// The mask of every bit this field covers in its word.
    pub fn mask(&self) -> u64 {
        self.bits.iter().fold(0, |m, &b| m | 1u64 << b)
    }

    /// The sysfs spelling, compressed back into ranges (`config:0-7,21`).
    pub fn spec(&self) -> String {
        let mut parts = Vec::new();
        let mut i = 0;
        while i < self.bits.len() {
            let mut j = i;
            while j + 1 < self.bits.len() && self.bits[j + 1] == self.bits[j] + 1 {
                j += 1;
            }
            parts.push(if i == j {
                self.bits[i].to_string()
            } else {
                format!("{}-{}", self.bits[i], self.bits[j])
            });
            i = j + 1;
        }
        format!("{}:{}", self.word.as_str(), parts.join(","))
    }
}

/// One `events/` alias of a PMU, e.g. `msr/tsc/` = `event=0x00`.
#[derive(Debug, Clone, PartialEq)]
pub struct PmuAlias {
    /// The alias name (the file name).
    pub name: String,
    /// The file content: a term list to encode through `format/`.
    pub terms: String,
    /// The `.scale` file: multiply counts by this to get `unit`s.
    pub scale: Option<f64>,
    /// The `.unit` file, e.g. `Joules` or `MiB`.
    pub unit: Option<String>,
}

/// One PMU under the sysfs root.
#[derive(Debug, Clone, PartialEq)]
pub struct Pmu {
    /// Its name (the directory name), e.g. `cpu`, `msr`.
    pub name: String,
    /// Its `perf_event_attr.type`.
    pub type_: u32,
    /// Its `format/` fields by term name.
    pub formats: BTreeMap<String, FormatField>,
    /// Its `events/` aliases by name.
    pub aliases: BTreeMap<String, PmuAlias>,
    /// Its `cpumask` (or `cpus`) file, e.g. `0` for an uncore PMU, if present.
    pub cpumask: Option<String>,
}

impl Pmu {
    /// True for a core CPU PMU: `cpu`, `cpu_core`, `cpu_atom` or `armv*`.
    pub fn is_cpu(&self) -> bool {
        matches!(self.name.as_str(), "cpu" | "cpu_core" | "cpu_atom")
            || self.name.starts_with("armv")
    }

    /// Reads one PMU directory.
    pub fn read(dir: &Path) -> Result<Pmu, SpecError> {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let type_path = dir.join("type");
        let type_text = read_trimmed(&type_path)?;
        let type_ = type_text.parse().map_err(|_| {
            SpecError::io(
                &type_path,
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("'{type_text}' is not a PMU type"),
                ),
            )
        })?;
        let mut formats = BTreeMap::new();
        let fdir = dir.join("format");
        for (fname, path) in list_dir(&fdir)? {
            let content = read_trimmed(&path)?;
            let field = FormatField::parse(&content).map_err(|reason| SpecError::BadFormat {
                path: path.clone(),
                content: content.clone(),
                reason,
            })?;
            formats.insert(fname, field);
        }
        let mut aliases = BTreeMap::new();
        let edir = dir.join("events");
        let entries = list_dir(&edir)?;
        for (ename, path) in &entries {
            if ename.contains('.') {
                continue; // .scale, .unit, .per-pkg, .snapshot
            }
            let terms = read_trimmed(path)?;
            let scale = match entries.iter().find(|(n, _)| *n == format!("{ename}.scale")) {
                Some((_, p)) => read_trimmed(p)?.parse::<f64>().ok(),
                None => None,
            };
            let unit = match entries.iter().find(|(n, _)| *n == format!("{ename}.unit")) {
                Some((_, p)) => Some(read_trimmed(p)?).filter(|u| !u.is_empty()),
                None => None,
            };
            aliases.insert(
                ename.clone(),
                PmuAlias {
                    name: ename.clone(),
                    terms,
                    scale,
                    unit,
                },
            );
        }
        let mut cpumask = None;
        for f in ["cpumask", "cpus"] {
            let p = dir.join(f);
            if p.is_file() {
                cpumask = Some(read_trimmed(&p)?);
                break;
            }
        }
        Ok(Pmu {
            name,
            type_,
            formats,
            aliases,
            cpumask,
        })
    }
}

/// Every PMU of a machine (or of a fake sysfs tree).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PmuRegistry {
    root: PathBuf,
    pmus: BTreeMap<String, Pmu>,
}

impl PmuRegistry {
    /// Discovers the PMUs under `root` (normally [`DEFAULT_SYSFS_ROOT`]).
    /// A missing root gives an empty registry; an unreadable PMU is an error.
    pub fn discover(root: impl AsRef<Path>) -> Result<PmuRegistry, SpecError> {
        let root = root.as_ref().to_path_buf();
        let mut pmus = BTreeMap::new();
        for (name, path) in list_dir(&root)? {
            // Some PMU directories come and go (hotplug); skip those without a type.
            if !path.join("type").is_file() {
                continue;
            }
            pmus.insert(name, Pmu::read(&path)?);
        }
        Ok(PmuRegistry { root, pmus })
    }

    /// Discovers the PMUs of this machine.
    pub fn system() -> Result<PmuRegistry, SpecError> {
        Self::discover(DEFAULT_SYSFS_ROOT)
    }

    /// A registry from PMUs built in memory (for tests and tools).
    pub fn from_pmus(pmus: impl IntoIterator<Item = Pmu>) -> PmuRegistry {
        PmuRegistry {
            root: PathBuf::new(),
            pmus: pmus.into_iter().map(|p| (p.name.clone(), p)).collect(),
        }
    }

    /// The sysfs root this registry was read from.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A PMU by name.
    pub fn get(&self, name: &str) -> Option<&Pmu> {
        self.pmus.get(name)
    }

    /// A PMU by its `perf_event_attr.type`.
    pub fn by_type(&self, type_: u32) -> Option<&Pmu> {
        self.pmus.values().find(|p| p.type_ == type_)
    }

    /// Every PMU, sorted by name.
    pub fn pmus(&self) -> impl Iterator<Item = &Pmu> {
        self.pmus.values()
    }

    /// The names of every PMU, sorted.
    pub fn names(&self) -> Vec<String> {
        self.pmus.keys().cloned().collect()
    }

    /// True when a core CPU PMU exists, i.e. hardware, cache and raw events
    /// can count here.
    pub fn has_cpu_pmu(&self) -> bool {
        self.pmus.values().any(Pmu::is_cpu)
    }

    /// The core CPU PMU, if any (`cpu` first, then `cpu_core`, `cpu_atom`, `armv*`).
    pub fn cpu_pmu(&self) -> Option<&Pmu> {
        self.pmus
            .get("cpu")
            .or_else(|| self.pmus.get("cpu_core"))
            .or_else(|| self.pmus.values().find(|p| p.is_cpu()))
    }

    /// An alias of a PMU, e.g. `("msr", "tsc")`.
    pub fn alias(&self, pmu: &str, alias: &str) -> Option<&PmuAlias> {
        self.pmus.get(pmu)?.aliases.get(alias)
    }

    /// The `.scale` and `.unit` of a PMU alias: `(1.0, None)` when absent.
    pub fn alias_scale(&self, pmu: &str, alias: &str) -> (f64, Option<&str>) {
        match self.alias(pmu, alias) {
            Some(a) => (a.scale.unwrap_or(1.0), a.unit.as_deref()),
            None => (1.0, None),
        }
    }
}

fn read_trimmed(path: &Path) -> Result<String, SpecError> {
    fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .map_err(|e| SpecError::io(path, e))
}

/// Lists a directory's entries as (name, path), sorted; a missing directory is empty.
fn list_dir(dir: &Path) -> Result<Vec<(String, PathBuf)>, SpecError> {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(SpecError::io(dir, e)),
    };
    let mut out = Vec::new();
    for ent in rd {
        let ent = ent.map_err(|e| SpecError::io(dir, e))?;
        out.push((ent.file_name().to_string_lossy().into_owned(), ent.path()));
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_ranges_parse_and_encode() {
        let f = FormatField::parse("config:0-7,21").unwrap();
        assert_eq!(f.word, ConfigWord::Config);
        assert_eq!(f.width(), 9);
        assert_eq!(f.encode(0xff), Some(0xff));
        // The ninth value bit lands on bit 21.
        assert_eq!(f.encode(0x1ff), Some(0xff | 1 << 21));
        assert_eq!(f.encode(0x200), None);
        assert_eq!(f.spec(), "config:0-7,21");
        let f = FormatField::parse("config1:0-63").unwrap();
        assert_eq!(f.word, ConfigWord::Config1);
        assert_eq!(f.encode(u64::MAX), Some(u64::MAX));
        let f = FormatField::parse("config2:5").unwrap();
        assert_eq!((f.word, f.encode(1)), (ConfigWord::Config2, Some(32)));
        assert!(FormatField::parse("config4:0").is_err());
        assert!(FormatField::parse("config:7-0").is_err());
        assert!(FormatField::parse("config:0-64").is_err());
        assert!(FormatField::parse("config").is_err());
    }
}
