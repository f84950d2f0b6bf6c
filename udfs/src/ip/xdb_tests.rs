//! Searcher tests: known answers on the real database, agreement with two independent
//! reference lookups, and corrupt files built by hand.

use std::path::Path;
use std::sync::Arc;

use rand::{Rng, SeedableRng, rngs::SmallRng};

use super::xdb::SEGMENT_LEN;
use super::*;
use crate::UdfConfig;

/// The real database; a missing file fails with the fetch hint (CI fetches it first).
fn real_db() -> Arc<Xdb> {
    let path = UdfConfig::default().ip2region_path;
    shared_xdb(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn u32_at(data: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]])
}

/// Reference 1: scan the IP's vector-index bucket linearly, straight from the file bytes.
fn linear_bucket_lookup(data: &[u8], ip: u32) -> Option<(u32, u32)> {
    let entry = 256 + (ip >> 16) as usize * 8;
    let (first, end) = (
        u32_at(data, entry) as usize,
        u32_at(data, entry + 4) as usize,
    );
    let mut p = first;
    while p <= end && p + SEGMENT_LEN <= data.len() {
        let (s, e) = (u32_at(data, p), u32_at(data, p + 4));
        if s <= ip && ip <= e {
            return Some((s, e));
        }
        p += SEGMENT_LEN;
    }
    None
}

/// Reference 2: the whole segment table, searched with `partition_point` (no vector index).
fn global_lookup(table: &[(u32, u32)], ip: u32) -> Option<(u32, u32)> {
    let i = table.partition_point(|&(_, end)| end < ip);
    table.get(i).copied().filter(|&(s, e)| s <= ip && ip <= e)
}

fn ours(db: &Xdb, ip: u32) -> Option<(u32, u32)> {
    db.find_segment(ip).map(|s| (s.start_ip, s.end_ip))
}

#[test]
fn known_answers() {
    let db = real_db();
    let cases = [
        ("117.35.88.11", "陕西省", "西安市"),
        ("115.34.187.133", "北京", "北京市"),
        ("14.153.236.58", "广东省", "深圳市"),
    ];
    for (ip, province, city) in cases {
        let r = db.lookup(ip).unwrap_or_else(|| panic!("{ip} not found"));
        assert_eq!((r.province, r.city), (Some(province), Some(city)), "{ip}");
        assert_eq!(r.country, Some("中国"));
    }
    assert_eq!(db.search_str("1.1.1.1"), Some("澳大利亚|0|0|0|0"));
    let google = db.lookup("8.8.8.8").expect("8.8.8.8 has a record");
    assert_eq!(google.country, Some("美国"));
    assert_eq!(google.province, None);
    for ip in ["0.0.0.0", "255.255.255.255", "10.0.0.1"] {
        assert!(db.search_str(ip).is_some(), "{ip}");
    }
    for ip in ["", "-", "::1", "1.2.3", "256.0.0.1"] {
        assert_eq!(db.search_str(ip), None, "{ip:?}");
    }
}

#[test]
fn agrees_with_references_on_random_ips_and_segment_boundaries() {
    let db = real_db();
    let path = UdfConfig::default().ip2region_path;
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let table: Vec<(u32, u32)> = (0..db.segment_count())
        .map(|i| {
            db.segment(i)
                .map(|s| (s.start_ip, s.end_ip))
                .expect("in range")
        })
        .collect();
    assert!(table.len() > 100_000, "{} segments", table.len());
    assert!(
        table.windows(2).all(|w| w[0].1 < w[1].0),
        "segments sorted and disjoint"
    );

    let mut rng = SmallRng::seed_from_u64(42);
    let mut probes: Vec<u32> = (0..5_000).map(|_| rng.random()).collect();
    probes.extend([0, 1, u32::MAX, u32::MAX - 1, 0x0100_0000, 0xFFFF_0000]);
    // Boundaries of a spread of segments against the slow bucket scan...
    for i in (0..table.len()).step_by(211) {
        let (s, e) = table[i];
        probes.extend([s, e, s.wrapping_sub(1), e.wrapping_add(1)]);
    }
    for &ip in &probes {
        let want = linear_bucket_lookup(&data, ip);
        assert_eq!(ours(&db, ip), want, "ip {ip:#010x} vs bucket scan");
        assert_eq!(
            global_lookup(&table, ip),
            want,
            "ip {ip:#010x} references disagree"
        );
    }
    // ...and the boundaries of every segment against the global table.
    let mut found = 0usize;
    for &(s, e) in &table {
        for ip in [s, e, s.wrapping_sub(1), e.wrapping_add(1)] {
            let got = ours(&db, ip);
            assert_eq!(got, global_lookup(&table, ip), "ip {ip:#010x}");
            found += usize::from(got.is_some());
        }
    }
    // The official database covers all of IPv4.
    assert_eq!(found, table.len() * 4);
}

#[test]
fn loads_once_per_path() {
    let path = UdfConfig::default().ip2region_path;
    let a = shared_xdb(&path).unwrap_or_else(|e| panic!("{e}"));
    let b = shared_xdb(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(Arc::ptr_eq(&a, &b));
}

#[test]
fn missing_file_names_the_fix() {
    let err = Xdb::load(Path::new("/nonexistent/ip2region.xdb")).expect_err("missing");
    let msg = err.to_string();
    assert!(
        msg.starts_with("ip2region database not found at /nonexistent/ip2region.xdb"),
        "{msg}"
    );
    assert!(msg.contains("scripts/fetch-ip2region.sh"), "{msg}");
    assert!(msg.contains("SLUICE_IP2REGION_PATH"), "{msg}");
    assert!(shared_xdb(Path::new("/nonexistent/ip2region.xdb")).is_err());
}

/// A tiny but valid database: `(start, end, region)` records covering all of IPv4, with the
/// vector index written the way the official maker does (end pointer one record past).
fn build_xdb(records: &[(u32, u32, &str)]) -> Vec<u8> {
    let index_at = 256 + 256 * 256 * 8;
    let mut region_data = Vec::new();
    let mut ptrs = Vec::new();
    for (_, _, region) in records {
        ptrs.push((index_at + region_data.len(), region.len()));
        region_data.extend_from_slice(region.as_bytes());
    }
    let first = index_at + region_data.len();
    let last = first + (records.len() - 1) * SEGMENT_LEN;
    let mut out = vec![0u8; index_at];
    out[0..2].copy_from_slice(&2u16.to_le_bytes());
    out[2..4].copy_from_slice(&1u16.to_le_bytes());
    out[8..12].copy_from_slice(&(first as u32).to_le_bytes());
    out[12..16].copy_from_slice(&(last as u32).to_le_bytes());
    for bucket in 0..65_536u32 {
        let (lo, hi) = (bucket << 16, (bucket << 16) | 0xFFFF);
        let overlapping: Vec<usize> = (0..records.len())
            .filter(|&i| records[i].0 <= hi && records[i].1 >= lo)
            .collect();
        let (a, b) = (overlapping[0], overlapping[overlapping.len() - 1]);
        let entry = 256 + bucket as usize * 8;
        out[entry..entry + 4].copy_from_slice(&((first + a * SEGMENT_LEN) as u32).to_le_bytes());
        out[entry + 4..entry + 8]
            .copy_from_slice(&((first + (b + 1) * SEGMENT_LEN) as u32).to_le_bytes());
    }
    out.extend_from_slice(&region_data);
    for ((s, e, _), (ptr, len)) in records.iter().zip(&ptrs) {
        out.extend_from_slice(&s.to_le_bytes());
        out.extend_from_slice(&e.to_le_bytes());
        out.extend_from_slice(&(*len as u16).to_le_bytes());
        out.extend_from_slice(&(*ptr as u32).to_le_bytes());
    }
    out
}

const TINY: [(u32, u32, &str); 3] = [
    (0, 0x0A00_0000, "a|0|0|0|0"),
    (0x0A00_0001, 0x0A00_FFFF, "b|0|p|c|i"),
    (0x0A01_0000, u32::MAX, "z|0|0|0|0"),
];

#[test]
fn tiny_database_round_trip() {
    let db = Xdb::from_bytes(build_xdb(&TINY)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(db.segment_count(), 3);
    assert_eq!(db.search(0x0A00_0000), Some("a|0|0|0|0"));
    assert_eq!(db.search(0x0A00_0001), Some("b|0|p|c|i"));
    assert_eq!(db.search(0x0A00_FFFF), Some("b|0|p|c|i"));
    assert_eq!(db.search(0x0A01_0000), Some("z|0|0|0|0"));
    assert_eq!(db.search(u32::MAX), Some("z|0|0|0|0"));
    let r = db.lookup("10.0.0.5").expect("found");
    assert_eq!(
        (r.country, r.province, r.city, r.isp),
        (Some("b"), Some("p"), Some("c"), Some("i"))
    );
}

/// Damage done to a copy of a valid file.
type Mutation = Box<dyn Fn(&mut Vec<u8>)>;

#[test]
fn corrupt_files_are_errors_not_panics() {
    let good = build_xdb(&TINY);
    let first = u32_at(&good, 8) as usize;
    let mutations: Vec<(&str, Mutation)> = vec![
        ("empty", Box::new(|d: &mut Vec<u8>| d.clear())),
        ("short", Box::new(|d: &mut Vec<u8>| d.truncate(1000))),
        (
            "cut segment table",
            Box::new(|d: &mut Vec<u8>| d.truncate(d.len() - 3)),
        ),
        ("version 3", Box::new(|d: &mut Vec<u8>| d[0] = 3)),
        (
            "start after end",
            Box::new(|d: &mut Vec<u8>| d[12..16].copy_from_slice(&0u32.to_le_bytes())),
        ),
        (
            "end past file",
            Box::new(|d: &mut Vec<u8>| d[12..16].copy_from_slice(&u32::MAX.to_le_bytes())),
        ),
        (
            "misaligned end",
            Box::new(|d: &mut Vec<u8>| d[12] = d[12].wrapping_add(1)),
        ),
        (
            "vector entry out of range",
            Box::new(|d: &mut Vec<u8>| {
                d[256 + 4..256 + 8].copy_from_slice(&u32::MAX.to_le_bytes())
            }),
        ),
        (
            "vector entry misaligned",
            Box::new(|d: &mut Vec<u8>| d[256] = d[256].wrapping_add(1)),
        ),
        (
            "start_ip > end_ip",
            Box::new(move |d: &mut Vec<u8>| {
                d[first..first + 4].copy_from_slice(&u32::MAX.to_le_bytes())
            }),
        ),
        (
            "region past end",
            Box::new(move |d: &mut Vec<u8>| {
                d[first + 10..first + 14].copy_from_slice(&u32::MAX.to_le_bytes())
            }),
        ),
    ];
    for (what, mutate) in mutations {
        let mut data = good.clone();
        mutate(&mut data);
        let err = Xdb::from_bytes(data).expect_err(what);
        assert!(
            err.to_string().contains("not a valid xdb v2 file"),
            "{what}: {err}"
        );
    }
    // Invalid UTF-8 region text passes validation (it is not scanned on load) but gives None.
    let mut data = good.clone();
    let region_start = 256 + 256 * 256 * 8;
    data[region_start] = 0xFF;
    let db = Xdb::from_bytes(data).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(db.search(0), None);
    assert_eq!(db.search(0x0A00_0001), Some("b|0|p|c|i"));
}

#[test]
fn random_corruption_never_panics() {
    let good = build_xdb(&TINY);
    let mut rng = SmallRng::seed_from_u64(3);
    for _ in 0..200 {
        let mut data = good.clone();
        for _ in 0..rng.random_range(1..20) {
            // Aim at the header, the first vector entries and the records: where pointers live.
            let i = match rng.random_range(0..3) {
                0 => rng.random_range(0..16),
                1 => rng.random_range(256..256 + 64),
                _ => rng.random_range(data.len() - 3 * SEGMENT_LEN..data.len()),
            };
            data[i] = rng.random();
        }
        if let Ok(db) = Xdb::from_bytes(data) {
            for _ in 0..50 {
                let _ = db.search(rng.random());
            }
        }
    }
}
