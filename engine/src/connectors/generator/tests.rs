use std::time::{Duration, Instant};

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::Int64Type;
use datafusion::execution::context::SessionContext;
use datafusion::prelude::SessionConfig;
use futures::StreamExt;

use super::*;
use crate::connectors::Table;

const ALL_EVENT_COLUMNS: &str =
    "url, cms_type, cms_id, traffic, ip, city, country, city_name, isp, event_time, day";
const PLAIN_EVENT_COLUMNS: &str = "url, cms_type, cms_id, traffic, ip, event_time, day";

fn def(columns: &[(&str, DataType)], options: &[(&str, &str)]) -> TableDef {
    TableDef::of_connector("gen", "generator", columns, options)
}

fn table(
    columns: &[(&str, DataType)],
    options: &[(&str, &str)],
    mode: ExecMode,
) -> crate::error::Result<Table<GeneratorTable>> {
    let def = def(columns, options);
    GeneratorTable::try_new(&def, def.options.clone(), &ConnectorEnv::new(mode)).map(Table)
}

fn line_table(options: &[(&str, &str)], mode: ExecMode) -> Table<GeneratorTable> {
    table(&[("line", DataType::Utf8)], options, mode).unwrap()
}

/// An `events` table with the named columns (of [`EventColumn::ALL`]).
fn events_table(columns: &str, options: &[(&str, &str)], mode: ExecMode) -> Table<GeneratorTable> {
    let columns: Vec<(&str, DataType)> = columns
        .split(',')
        .map(|name| {
            let name = name.trim();
            (name, EventColumn::from_name(name).unwrap().data_type())
        })
        .collect();
    let mut options = options.to_vec();
    options.push(("format", "events"));
    table(&columns, &options, mode).unwrap()
}

fn context() -> SessionContext {
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_batch_size(4096));
    sluice_udfs::register_all(&ctx, &sluice_udfs::UdfConfig::default());
    ctx
}

async fn query(ctx: &SessionContext, sql: &str) -> RecordBatch {
    let df = ctx.sql(sql).await.unwrap();
    let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
    let batches = df.collect().await.unwrap();
    concat_batches(&schema, &batches).unwrap()
}

/// The `CREATE VIEW parsed` and the SELECT of `INSERT INTO dwd_access` in jobs/clean.sql.
fn clean_sql() -> (String, String) {
    let text = include_str!("../../../../jobs/clean.sql");
    let statement = |start: &str| {
        let at = text
            .find(start)
            .unwrap_or_else(|| panic!("clean.sql has no {start}"));
        let rest = &text[at..];
        rest[..rest.find(";\n").unwrap()].to_string()
    };
    let view = statement("CREATE VIEW parsed AS");
    let insert = statement("INSERT INTO dwd_access");
    let select = insert["INSERT INTO dwd_access".len()..].to_string();
    (view, select)
}

/// Runs jobs/clean.sql's cleaning over `lines` (a generator table of raw lines) and reads
/// `columns` of `events`; both sorted by every column, so they compare row for row.
async fn clean_sql_and_events(
    lines: Table<GeneratorTable>,
    events: Table<GeneratorTable>,
    columns: &str,
) -> (RecordBatch, RecordBatch) {
    let ctx = context();
    ctx.register_table("raw_access_log", Arc::new(lines))
        .unwrap();
    ctx.register_table("gen", Arc::new(events)).unwrap();
    let (view, select) = clean_sql();
    ctx.sql(&view).await.unwrap().collect().await.unwrap();
    let expected = query(
        &ctx,
        &format!("SELECT {columns} FROM ({select}) ORDER BY {columns}"),
    )
    .await;
    let actual = query(
        &ctx,
        &format!("SELECT {columns} FROM gen ORDER BY {columns}"),
    )
    .await;
    (expected, actual)
}

fn assert_same_rows(expected: &RecordBatch, actual: &RecordBatch) {
    assert_eq!(expected.num_rows(), actual.num_rows(), "row counts");
    for (i, field) in expected.schema().fields().iter().enumerate() {
        assert_eq!(
            field.data_type(),
            actual.schema().field(i).data_type(),
            "type of {}",
            field.name()
        );
        let (e, a) = (expected.column(i), actual.column(i));
        if e.as_ref() != a.as_ref() {
            let first = (0..e.len())
                .find(|&r| e.slice(r, 1).as_ref() != a.slice(r, 1).as_ref())
                .unwrap_or(0);
            panic!(
                "column {} differs first at sorted row {first}: clean.sql {:?}, events {:?}",
                field.name(),
                e.slice(first, 1),
                a.slice(first, 1)
            );
        }
    }
}

#[tokio::test]
async fn generator_events_equal_clean_sql_rows() {
    for options in [
        &[("rows", "30000"), ("seed", "11")][..],
        &[
            ("rows", "20000"),
            ("seed", "5"),
            ("disorder_ms", "60000"),
            ("internal_ip_share", "0.2"),
            ("dash_url_share", "0.3"),
            ("day", "20161231"),
            ("events_per_second", "0.2"),
        ][..],
    ] {
        let (expected, actual) = clean_sql_and_events(
            line_table(options, ExecMode::Batch),
            events_table(PLAIN_EVENT_COLUMNS, options, ExecMode::Batch),
            PLAIN_EVENT_COLUMNS,
        )
        .await;
        assert!(expected.num_rows() > 5000, "{}", expected.num_rows());
        assert_same_rows(&expected, &actual);
    }
}

#[tokio::test]
async fn generator_events_with_ip2region_columns_equal_clean_sql_rows() {
    let path = sluice_udfs::UdfConfig::default().ip2region_path;
    if !path.exists() {
        eprintln!(
            "SKIPPED: no ip2region database at {} (scripts/fetch-ip2region.sh, or set \
             SLUICE_IP2REGION_PATH)",
            path.display()
        );
        return;
    }
    let options = &[("rows", "20000"), ("seed", "3")];
    let (expected, actual) = clean_sql_and_events(
        line_table(options, ExecMode::Batch),
        events_table(ALL_EVENT_COLUMNS, options, ExecMode::Batch),
        ALL_EVENT_COLUMNS,
    )
    .await;
    assert!(expected.num_rows() > 5000, "{}", expected.num_rows());
    let provinces = expected.column_by_name("city").unwrap();
    assert!(
        provinces.null_count() < provinces.len() / 2,
        "ip2region answers most lookups"
    );
    assert_same_rows(&expected, &actual);
}

#[tokio::test]
async fn generator_events_project_only_what_is_read() {
    // The database is not needed when no column that needs it is read.
    let options = [
        ("rows", "5000"),
        ("ip2region_path", "/nonexistent/ip2region.xdb"),
    ];
    let ctx = context();
    let events = events_table("cms_id, city, event_time", &options, ExecMode::Batch);
    ctx.register_table("gen", Arc::new(events)).unwrap();
    let batch = query(&ctx, "SELECT cms_id, event_time FROM gen").await;
    assert!(batch.num_rows() > 1000);
    let count = query(&ctx, "SELECT count(*) FROM gen").await;
    assert_eq!(
        count.column(0).as_primitive::<Int64Type>().value(0),
        batch.num_rows() as i64
    );
    let err = ctx
        .sql("SELECT city FROM gen")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("columns city need the ip2region database")
            && err.contains("/nonexistent/ip2region.xdb"),
        "{err}"
    );
}

#[tokio::test]
async fn generator_count_of_lines() {
    let ctx = context();
    ctx.register_table(
        "gen",
        Arc::new(line_table(&[("rows", "12345")], ExecMode::Batch)),
    )
    .unwrap();
    let count = query(&ctx, "SELECT count(*) FROM gen").await;
    assert_eq!(count.column(0).as_primitive::<Int64Type>().value(0), 12345);
}

#[test]
fn generator_events_columns_are_checked() {
    let err = table(
        &[("cms_id", DataType::Int64), ("referer", DataType::Utf8)],
        &[("rows", "10"), ("format", "events")],
        ExecMode::Batch,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("column 'referer' is not a column of the generator's 'events' format")
            && err.contains(
                "url STRING, cms_type STRING, cms_id BIGINT, traffic BIGINT, ip STRING, \
                 city STRING, country STRING, city_name STRING, isp STRING, \
                 event_time TIMESTAMP_LTZ(3), day STRING"
            ),
        "{err}"
    );
    let err = table(
        &[("cms_id", DataType::Int32)],
        &[("rows", "10"), ("format", "events")],
        ExecMode::Batch,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains(
            "column 'cms_id' is declared INT but the generator's 'events' format gives BIGINT"
        ),
        "{err}"
    );
    let err = table(
        &[("line", DataType::Utf8)],
        &[("rows", "10"), ("format", "csv")],
        ExecMode::Batch,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("'format' = 'csv' is not one of: lines, events"),
        "{err}"
    );
}

#[test]
fn generator_needs_rows_in_batch_mode() {
    let err = table(&[("line", DataType::Utf8)], &[], ExecMode::Batch)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "table 'gen': the generator needs 'rows' (how many lines to make) in batch mode; \
         without it, run with --mode stream"
    );
}

#[tokio::test]
async fn generator_unbounded_without_rows_in_stream_mode() {
    let ctx = context();
    let state = ctx.state();
    for (options, unbounded) in [
        (&[][..], true),
        (&[("rate", "1000")][..], true),
        (&[("rows", "100")][..], false),
    ] {
        let t = line_table(options, ExecMode::Stream);
        assert_eq!(t.0.is_unbounded(), unbounded, "{options:?}");
        let plan = t.scan(&state, None, &[], None).await.unwrap();
        assert_eq!(
            plan.properties().boundedness.is_unbounded(),
            unbounded,
            "{options:?}"
        );
        let e = events_table("cms_id", options, ExecMode::Stream);
        let plan = e.scan(&state, None, &[], None).await.unwrap();
        assert_eq!(
            plan.properties().boundedness.is_unbounded(),
            unbounded,
            "{options:?}"
        );
    }
    // An endless source still ends a query with a LIMIT.
    ctx.register_table(
        "gen",
        Arc::new(events_table("cms_type, cms_id", &[], ExecMode::Stream)),
    )
    .unwrap();
    let batch = tokio::time::timeout(
        Duration::from_secs(30),
        query(&ctx, "SELECT cms_type, cms_id FROM gen LIMIT 20000"),
    )
    .await
    .expect("LIMIT over the endless generator ends");
    assert_eq!(batch.num_rows(), 20000);
}

#[tokio::test]
async fn generator_paced_batches_go_out_every_batch_ms() {
    let ctx = context();
    for (name, table) in [
        ("lines", line_table(&[("rate", "50")], ExecMode::Stream)),
        // Events: about 20 of the 50 lines a second survive cleaning.
        (
            "events",
            events_table("event_time, cms_id", &[("rate", "50")], ExecMode::Stream),
        ),
    ] {
        let plan = table.scan(&ctx.state(), None, &[], None).await.unwrap();
        let started = Instant::now();
        let mut stream = plan.execute(0, ctx.task_ctx()).unwrap();
        let first = stream.next().await.unwrap().unwrap();
        let waited = started.elapsed();
        assert!(
            waited < Duration::from_millis(500),
            "{name}: first batch after {waited:?}"
        );
        assert!(
            first.num_rows() > 0 && first.num_rows() < 4096,
            "{name}: {} rows",
            first.num_rows()
        );
        let mut rows = first.num_rows();
        let mut batches = 1;
        while started.elapsed() < Duration::from_millis(1000) {
            rows += stream.next().await.unwrap().unwrap().num_rows();
            batches += 1;
        }
        let secs = started.elapsed().as_secs_f64();
        // Paced: about `rate` lines a second, in batches about every 100 ms.
        if name == "lines" {
            assert!(
                rows as f64 <= 50.0 * secs + 1.0,
                "{name}: {rows} rows in {secs} s"
            );
            assert!(rows >= 30, "{name}: {rows} rows in {secs} s");
            assert!(batches >= 5, "{name}: {batches} batches in {secs} s");
        } else {
            assert!(rows >= 5, "{name}: {rows} rows in {secs} s");
        }
    }
}

/// Without `rate` batches are full.
#[tokio::test]
async fn generator_unpaced_batches_are_full() {
    let ctx = context();
    let t = events_table("cms_id", &[("rows", "100000")], ExecMode::Batch);
    let plan = t.scan(&ctx.state(), None, &[], None).await.unwrap();
    let mut stream = plan.execute(0, ctx.task_ctx()).unwrap();
    let mut sizes = vec![];
    while let Some(batch) = stream.next().await {
        sizes.push(batch.unwrap().num_rows());
    }
    let last = sizes.pop().unwrap();
    assert!(
        sizes.len() >= 5 && sizes.iter().all(|&n| n == 4096),
        "{sizes:?}"
    );
    assert!(last > 0 && last <= 4096);
}

/// Throughput of the `events` format for the board benchmark's columns, lines made and
/// cleaned by clean.sql's query, no query around the scan:
/// `cargo test --release -p sluice generator_events_throughput -- --ignored --nocapture`.
#[tokio::test]
#[ignore]
async fn generator_events_throughput() {
    let lines = 5_000_000u64;
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_batch_size(8192));
    let rows = lines.to_string();
    let t = events_table(
        "event_time, cms_type, cms_id, ip",
        &[("rows", rows.as_str())],
        ExecMode::Batch,
    );
    let started = Instant::now();
    let plan = t.scan(&ctx.state(), None, &[], None).await.unwrap();
    let mut stream = plan.execute(0, ctx.task_ctx()).unwrap();
    let mut events = 0usize;
    while let Some(batch) = stream.next().await {
        events += batch.unwrap().num_rows();
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "{lines} lines -> {events} events in {secs:.2} s: {:.0} events/s, {:.0} lines/s",
        events as f64 / secs,
        lines as f64 / secs
    );
}
