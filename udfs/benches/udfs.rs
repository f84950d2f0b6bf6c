//! Throughput of the hot UDFs over the real 10,000-line imooc sample.
//!
//! `cargo bench -p sluice-udfs --bench udfs` (add `-- --quick` for a fast look).

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use datafusion::arrow::array::{ArrayRef, StringArray};
use sluice_udfs::access_log::parse_line;
use sluice_udfs::ip::{RegionPart, shared_xdb};
use sluice_udfs::udf::{ip_part_array, parse_access_log_array};
use sluice_udfs::{UdfConfig, cms};

fn sample_lines() -> Vec<String> {
    let dir = std::env::var_os("SLUICE_SHARED_DATA").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/imooc")),
        PathBuf::from,
    );
    let path = dir.join("10000_access.log");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines().map(str::to_owned).collect()
}

fn benches(c: &mut Criterion) {
    let lines = sample_lines();
    let n = lines.len() as u64;
    let line_array: ArrayRef = Arc::new(StringArray::from_iter_values(&lines));

    let mut group = c.benchmark_group("access_log");
    group.throughput(Throughput::Elements(n));
    group.bench_function("parse_line", |b| {
        b.iter(|| {
            for line in &lines {
                let _ = black_box(parse_line(black_box(line)));
            }
        })
    });
    group.bench_function("parse_access_log_array", |b| {
        b.iter(|| parse_access_log_array(black_box(&line_array)).map(|a| a.len()))
    });
    let referers: Vec<&str> = lines
        .iter()
        .filter_map(|l| parse_line(l).ok().map(|p| p.referer))
        .collect();
    group.throughput(Throughput::Elements(referers.len() as u64));
    group.bench_function("cms_type_and_id", |b| {
        b.iter(|| {
            for url in &referers {
                black_box((cms::cms_type(black_box(url)), cms::cms_id(url)));
            }
        })
    });
    group.finish();

    let cfg = UdfConfig::default();
    let db = shared_xdb(&cfg.ip2region_path).unwrap_or_else(|e| panic!("{e}"));
    let ips: Vec<&str> = lines.iter().filter_map(|l| l.split(' ').next()).collect();
    let ip_array: ArrayRef = Arc::new(StringArray::from_iter_values(&ips));
    let mut group = c.benchmark_group("ip");
    group.throughput(Throughput::Elements(ips.len() as u64));
    group.bench_function("xdb_search_str", |b| {
        b.iter(|| {
            for ip in &ips {
                black_box(db.search_str(black_box(ip)));
            }
        })
    });
    group.bench_function("ip_region_array", |b| {
        b.iter(|| ip_part_array(&db, RegionPart::Province, black_box(&ip_array)).map(|a| a.len()))
    });
    group.finish();
}

criterion_group! {
    name = udfs;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = benches
}
criterion_main!(udfs);
