//! The offline jobs over the real 10,000-line sample, checked against what the original
//! Spark jobs computed (testdata/imooc/seed_results.sql).

mod common;

use std::collections::BTreeMap;

use common::{query_csv, run_clean, seed_tables, sluice_ok, testdata};

fn run_topn(warehouse: &std::path::Path, extra: &[&str]) -> String {
    let wh = format!("warehouse={}", warehouse.display());
    let mut args = vec!["run", "jobs/daily_topn.sql", "--no-progress", "--set", &wh];
    args.extend_from_slice(extra);
    sluice_ok(&args)
}

fn counts_desc(rows: Vec<Vec<String>>, col: usize) -> Vec<i64> {
    let mut v: Vec<i64> = rows
        .iter()
        .map(|r| r[col].parse().expect("number"))
        .collect();
    v.sort_unstable_by(|a, b| b.cmp(a));
    v
}

#[test]
fn clean_and_daily_topn_match_the_original_spark_results() {
    let wh = tempfile::tempdir().unwrap();
    let summary = run_clean(wh.path(), &testdata("10000_access.log"));
    assert!(summary.contains("read 10000 rows"), "{summary}");
    assert!(summary.contains("dwd_access=3342"), "{summary}");
    assert!(summary.contains("rejected 0"), "{summary}");

    let n = query_csv(wh.path(), &[], "SELECT count(*) AS n FROM dwd_access");
    assert_eq!(n, vec![vec!["3342".to_string()]]);

    // Per course: the same number of accesses and bytes as the original cleaned rows.
    let seed = seed_tables();
    let mut expected: BTreeMap<(String, i64), (i64, i64)> = BTreeMap::new();
    for r in &seed["imooc_access_log"] {
        let e = expected
            .entry((r[1].clone(), r[2].parse().unwrap()))
            .or_default();
        e.0 += 1;
        e.1 += r[3].parse::<i64>().unwrap();
    }
    let ours: BTreeMap<(String, i64), (i64, i64)> = query_csv(
        wh.path(),
        &[],
        "SELECT cms_type, cms_id, count(*), sum(traffic) FROM dwd_access GROUP BY cms_type, cms_id",
    )
    .into_iter()
    .map(|r| {
        (
            (r[0].clone(), r[1].parse().unwrap()),
            (r[2].parse().unwrap(), r[3].parse().unwrap()),
        )
    })
    .collect();
    assert_eq!(ours, expected);

    let summary = run_topn(wh.path(), &[]);
    assert!(
        summary.contains("day_video_access_topn_stat=10"),
        "{summary}"
    );

    // Top-N: the same counts (ties at the cut-off may pick other ids).
    for (table, col) in [
        ("day_video_access_topn_stat", "times"),
        ("day_video_traffics_topn_stat", "traffics"),
        ("day_code_access_topn_stat", "times"),
        ("day_article_access_topn_stat", "times"),
        ("day_ip_access_topn_stat", "times"),
    ] {
        let ours = counts_desc(
            query_csv(wh.path(), &[], &format!("SELECT {col} FROM {table}")),
            0,
        );
        let theirs = counts_desc(seed[table].clone(), 2);
        assert_eq!(ours, theirs, "{table}");
        let days = query_csv(wh.path(), &[], &format!("SELECT DISTINCT day FROM {table}"));
        assert_eq!(days, vec![vec!["20161110".to_string()]], "{table}");
    }
    // Where counts tie, the lower id wins.
    let video = query_csv(
        wh.path(),
        &[],
        "SELECT cms_id, times FROM day_video_access_topn_stat ORDER BY times DESC, cms_id",
    );
    assert_eq!(video[0], vec!["2402".to_string(), "32".to_string()]);
    assert_eq!(
        video.last().unwrap(),
        &vec!["12552".to_string(), "16".to_string()]
    );

    // City Top-3: at most 3 per province, ranked 1.. by count.
    let city = query_csv(
        wh.path(),
        &[],
        "SELECT city, cms_id, times, times_rank FROM day_video_city_access_topn_stat ORDER BY city, times_rank",
    );
    assert!(city.len() > 20, "{city:?}");
    let mut by_city: BTreeMap<String, Vec<(i64, i64)>> = BTreeMap::new();
    for r in &city {
        by_city
            .entry(r[0].clone())
            .or_default()
            .push((r[2].parse().unwrap(), r[3].parse().unwrap()));
    }
    for (c, ranks) in by_city {
        assert!(ranks.len() <= 3, "{c}");
        for (i, (times, rank)) in ranks.iter().enumerate() {
            assert_eq!(*rank, i as i64 + 1, "{c}");
            assert!(i == 0 || ranks[i - 1].0 >= *times, "{c}");
        }
    }
}

#[test]
fn rerunning_replaces_rather_than_duplicates() {
    let wh = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        run_clean(wh.path(), &testdata("10000_access.log"));
        run_topn(wh.path(), &[]);
    }
    assert_eq!(
        query_csv(wh.path(), &[], "SELECT count(*) FROM dwd_access"),
        vec![vec!["3342".to_string()]]
    );
    assert_eq!(
        query_csv(
            wh.path(),
            &[],
            "SELECT count(*) FROM day_video_access_topn_stat"
        ),
        vec![vec!["10".to_string()]]
    );
}

#[test]
fn malformed_lines_are_rejected_with_a_reason_and_good_rows_are_unaffected() {
    let sample = std::fs::read(testdata("10000_access.log")).unwrap();
    let good: Vec<&[u8]> = sample
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .take(400)
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let good_path = dir.path().join("good.log");
    std::fs::write(&good_path, good.join(&b'\n')).unwrap();

    let real = std::str::from_utf8(good[2]).unwrap();
    let bad_lines: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"   ".to_vec(),
        b"\x00\xff\xfe\x01 binary \x80\x81 garbage".to_vec(),
        real.as_bytes()[..real.len() / 2].to_vec(),
        real.replacen("\"GET ", "GET ", 1).into_bytes(),
        real.replacen("10/Nov/2016", "10/Foo/2016", 1).into_bytes(),
        real.replacen("00:01:02", "25:01:02", 1).into_bytes(),
        real.replacen(" +0800]", "]", 1).into_bytes(),
        vec![b'a'; 200 * 1024],
        format!("{} \"unterminated", &real[..real.len() - 40]).into_bytes(),
    ];
    let mut mixed: Vec<u8> = Vec::new();
    for (i, line) in good.iter().enumerate() {
        mixed.extend_from_slice(line);
        mixed.push(b'\n');
        if let Some(bad) = bad_lines.get(i / 40)
            && i.is_multiple_of(40)
        {
            mixed.extend_from_slice(bad);
            mixed.push(b'\n');
        }
    }
    let mixed_path = dir.path().join("mixed.log");
    std::fs::write(&mixed_path, &mixed).unwrap();

    let wh_good = dir.path().join("wh_good");
    let wh_mixed = dir.path().join("wh_mixed");
    run_clean(&wh_good, &good_path);
    let summary = run_clean(&wh_mixed, &mixed_path);
    assert!(
        summary.contains(&format!("rejected {}", bad_lines.len())),
        "{summary}"
    );

    let all = "SELECT * FROM dwd_access ORDER BY event_time, ip, url, traffic";
    let good_rows = query_csv(&wh_good, &[], all);
    assert!(good_rows.len() > 50);
    assert_eq!(query_csv(&wh_mixed, &[], all), good_rows);

    let rejects = query_csv(
        &wh_mixed,
        &[],
        "SELECT length(line), reason FROM access_rejects",
    );
    assert_eq!(rejects.len(), bad_lines.len());
    for r in &rejects {
        assert!(!r[1].is_empty(), "a reject without a reason: {r:?}");
    }
    assert!(
        rejects.iter().any(|r| r[0] == (200 * 1024).to_string()),
        "{rejects:?}"
    );
}
