//! Option checks, and writes to the real Redis at 127.0.0.1:6379; each test uses keys under
//! its own prefix and deletes them when done (also when it fails).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use datafusion::arrow::array::{
    ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::datasource::memory::MemorySourceConfig;

use datafusion::catalog::TableProvider;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::dml::InsertOp;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{collect, displayable};
use datafusion::prelude::SessionContext;
use redis::AsyncCommands;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use super::*;
use crate::connectors::Table;
use crate::connectors::sink::{TableSink, sink_exec};
use crate::job::ExecMode;
use crate::job::metrics::JobMetrics;
use crate::wire::SinkInput;

const REDIS: &str = "redis://127.0.0.1:6379/0";

fn def(name: &str, columns: &[(&str, DataType)], options: &[(&str, &str)]) -> TableDef {
    TableDef::of_connector(name, "redis", columns, options)
}

fn ts() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, None)
}

fn pv_columns() -> Vec<(&'static str, DataType)> {
    vec![
        ("window_end", ts()),
        ("window_size", DataType::Utf8),
        ("cms_type", DataType::Utf8),
        ("cms_id", DataType::Int64),
        ("pv", DataType::Int64),
        ("uv", DataType::Int64),
    ]
}

fn try_table(
    columns: &[(&str, DataType)],
    options: &[(&str, &str)],
) -> crate::error::Result<Table<RedisTable>> {
    let d = def("rt_stat", columns, options);
    RedisTable::try_new(&d, d.options.clone(), &ConnectorEnv::new(ExecMode::Stream)).map(Table)
}

fn table_err(columns: &[(&str, DataType)], options: &[(&str, &str)]) -> String {
    try_table(columns, options).unwrap_err().to_string()
}

#[test]
fn options_are_checked() {
    let cols = pv_columns();
    let key = ("key", "pv:{window_size}:{cms_id}:{window_end}");
    let hash = ("data_type", "hash");

    let err = table_err(&cols, &[hash, key, ("tll", "1h")]);
    assert!(err.contains("unknown option 'tll'"), "{err}");
    assert!(err.contains("did you mean 'ttl'"), "{err}");
    let err = table_err(&cols, &[key]);
    assert!(err.contains("needs the option 'data_type'"), "{err}");
    let err = table_err(&cols, &[hash]);
    assert!(err.contains("needs the option 'key'"), "{err}");
    let err = table_err(&cols, &[("data_type", "list"), key]);
    assert!(
        err.contains("'list' is not one of: hash, zset, string"),
        "{err}"
    );

    // An unknown template column names the table, the template and the valid columns.
    let err = table_err(&cols, &[hash, ("key", "pv:{window}:{cms_id}")]);
    assert!(err.starts_with("table 'rt_stat': "), "{err}");
    assert!(err.contains("key template 'pv:{window}:{cms_id}'"), "{err}");
    assert!(
        err.contains("columns: window_end, window_size, cms_type, cms_id, pv, uv"),
        "{err}"
    );

    let err = table_err(&cols, &[hash, key, ("member", "cms_id")]);
    assert!(
        err.contains("'member' does not apply to data_type 'hash'"),
        "{err}"
    );
    let err = table_err(&cols, &[hash, key, ("fields", "pv, clicks")]);
    assert!(
        err.contains("option 'fields': 'clicks' is not a column"),
        "{err}"
    );
    let err = table_err(
        &cols[..4],
        &[hash, ("key", "{window_end}{window_size}{cms_type}{cms_id}")],
    );
    assert!(err.contains("no hash fields to write"), "{err}");

    let zset = ("data_type", "zset");
    let err = table_err(&cols, &[zset, key, ("member", "cms_id")]);
    assert!(err.contains("needs the option 'score'"), "{err}");
    let err = table_err(
        &cols,
        &[zset, key, ("member", "cms_id"), ("score", "cms_type")],
    );
    assert!(
        err.contains("column 'cms_type' is Utf8, not a number"),
        "{err}"
    );
    let err = table_err(&cols, &[("data_type", "string"), key, ("value", "nope")]);
    assert!(
        err.contains("option 'value': 'nope' is not a column"),
        "{err}"
    );

    let err = table_err(&cols, &[hash, key, ("ttl", "1 week")]);
    assert!(err.contains("option 'ttl'"), "{err}");
    let err = table_err(&cols, &[hash, key, ("key.time_format", "epoch_milis")]);
    assert!(err.contains("option 'key.time_format'"), "{err}");
    let err = table_err(&cols, &[hash, key, ("batch_size", "0")]);
    assert!(err.contains("batch_size must be at least 1"), "{err}");
    let err = table_err(&cols, &[hash, key, ("retry.max_elapsed", "soon")]);
    assert!(err.contains("option 'retry.max_elapsed'"), "{err}");
    let err = table_err(&cols, &[hash, key, ("url", "http://localhost")]);
    assert!(err.contains("bad url"), "{err}");
}

#[test]
fn defaults_and_display_never_show_the_password() {
    let cols = pv_columns();
    let t = try_table(
        &cols,
        &[
            ("data_type", "HASH"),
            ("key", "pv:{window_size}:{cms_id}:{window_end}"),
            ("url", "redis://:s3cret@redis.local:6380/2"),
        ],
    )
    .unwrap()
    .0
    .target;
    // Default fields: the columns the key does not use.
    assert_eq!(
        t.shape,
        Shape::Hash {
            fields: vec![2, 4, 5]
        }
    );
    assert_eq!(t.ttl, Some(Duration::from_secs(86_400)));
    assert_eq!(t.time_format, TimeFormat::EpochMillis);
    assert_eq!(t.batch_size, 1000);
    assert_eq!(t.retry, RetryPolicy::default());
    assert_eq!(t.display_url(), "redis://redis.local:6380/2");
    assert!(!format!("{t:?}").contains("s3cret"));
    assert!(!t.error("writing", "boom").to_string().contains("s3cret"));

    let t = try_table(
        &cols,
        &[
            ("data_type", "string"),
            ("key", "k"),
            ("value", "pv"),
            ("ttl", "0"),
        ],
    )
    .unwrap()
    .0
    .target;
    assert_eq!(t.ttl, None);
    assert_eq!(t.display_url(), REDIS);
}

#[tokio::test]
async fn scanning_is_an_error() {
    let t = try_table(
        &pv_columns(),
        &[("data_type", "string"), ("key", "k"), ("value", "pv")],
    )
    .unwrap();
    let ctx = SessionContext::new();
    let err = t
        .scan(&ctx.state(), None, &[], None)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("table 'rt_stat': the redis connector is write-only"),
        "{err}"
    );
}

/// Keys under a prefix of their own, deleted on drop (also when an assertion failed).
struct Keys {
    prefix: String,
}

impl Keys {
    fn new(test: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        Keys {
            prefix: format!("sluice-test:{}-{nanos}:{test}:", std::process::id()),
        }
    }

    async fn conn() -> redis::aio::MultiplexedConnection {
        redis::Client::open(REDIS)
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .expect("the tests need a Redis at 127.0.0.1:6379")
    }

    async fn list(&self) -> Vec<String> {
        let mut keys: Vec<String> = Self::conn()
            .await
            .keys(format!("{}*", self.prefix))
            .await
            .unwrap();
        keys.sort();
        keys
    }

    async fn hash(&self, key: &str) -> HashMap<String, String> {
        Self::conn()
            .await
            .hgetall(format!("{}{key}", self.prefix))
            .await
            .unwrap()
    }

    async fn ttl_ms(&self, key: &str) -> i64 {
        Self::conn()
            .await
            .pttl(format!("{}{key}", self.prefix))
            .await
            .unwrap()
    }

    /// Every key under the prefix with its value, whatever its type.
    async fn dump(&self) -> Vec<(String, String)> {
        let mut c = Self::conn().await;
        let mut out = Vec::new();
        for k in self.list().await {
            let kind: String = redis::cmd("TYPE")
                .arg(&k)
                .query_async(&mut c)
                .await
                .unwrap();
            let value = match kind.as_str() {
                "hash" => {
                    let h: BTreeMap<String, String> = c.hgetall(&k).await.unwrap();
                    format!("{h:?}")
                }
                "zset" => {
                    let z: Vec<(String, f64)> = c.zrange_withscores(&k, 0, -1).await.unwrap();
                    format!("{z:?}")
                }
                _ => c.get(&k).await.unwrap(),
            };
            out.push((k, value));
        }
        out
    }
}

impl Drop for Keys {
    fn drop(&mut self) {
        let Ok(client) = redis::Client::open(REDIS) else {
            return;
        };
        let Ok(mut c) = client.get_connection() else {
            return;
        };
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}*", self.prefix))
            .query(&mut c)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: redis::RedisResult<()> = redis::cmd("DEL").arg(keys).query(&mut c);
        }
    }
}

fn batch(columns: &[(&str, DataType)], arrays: Vec<ArrayRef>) -> RecordBatch {
    let d = def("b", columns, &[]);
    RecordBatch::try_new(d.schema(), arrays).unwrap()
}

/// Writes `batches` through DataFusion (`insert_into` + `collect`); the row count it reports.
async fn insert(
    table: &Table<RedisTable>,
    batches: Vec<RecordBatch>,
) -> datafusion::error::Result<u64> {
    let ctx = SessionContext::new();
    let input = MemorySourceConfig::try_new_exec(&[batches], table.schema(), None)?;
    let plan = table
        .insert_into(&ctx.state(), input, InsertOp::Append)
        .await?;
    let out = collect(plan, ctx.task_ctx()).await?;
    let count = out[0]
        .column(0)
        .as_any()
        .downcast_ref::<datafusion::arrow::array::UInt64Array>()
        .unwrap()
        .value(0);
    Ok(count)
}

/// A hash's expected fields and values.
fn h(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn pv_batch() -> RecordBatch {
    // 2023-11-14 22:15:00 UTC; the 1- and 5-minute windows of a course end together.
    let end = 1_700_000_100_000;
    batch(
        &pv_columns(),
        vec![
            Arc::new(TimestampMillisecondArray::from(vec![
                Some(end),
                Some(end),
                Some(end),
                Some(end),
                None,
            ])),
            Arc::new(StringArray::from(vec!["1m", "5m", "1m", "5m", "1m"])),
            Arc::new(StringArray::from(vec![
                Some("video"),
                Some("video"),
                Some("article"),
                None,
                Some("video"),
            ])),
            Arc::new(Int64Array::from(vec![11, 11, 22, 22, 33])),
            Arc::new(Int64Array::from(vec![
                Some(3),
                Some(10),
                Some(5),
                Some(6),
                Some(1),
            ])),
            Arc::new(Int64Array::from(vec![
                Some(2),
                Some(7),
                None,
                Some(4),
                Some(1),
            ])),
        ],
    )
}

#[tokio::test]
async fn hash_keeps_window_sizes_apart_and_sets_the_ttl() {
    let keys = Keys::new("hash");
    let template = format!(
        "{}pv:uv:{{window_size}}:{{cms_id}}:{{window_end}}",
        keys.prefix
    );
    let d = def(
        "rt_pv_uv",
        &pv_columns(),
        &[
            ("data_type", "hash"),
            ("key", &template),
            ("fields", "cms_type, pv, uv"),
            ("ttl", "1h"),
            ("batch_size", "2"),
            ("url", REDIS),
        ],
    );
    let env = ConnectorEnv::new(ExecMode::Stream);
    let table = Table(RedisTable::try_new(&d, d.options.clone(), &env).unwrap());
    // Row 5 has a NULL window_end (a key column): skipped.
    assert_eq!(insert(&table, vec![pv_batch()]).await.unwrap(), 4);
    assert_eq!(
        env.job
            .metrics
            .sink("rt_pv_uv", false)
            .rows
            .load(Ordering::Relaxed),
        4
    );

    let p = &keys.prefix;
    assert_eq!(
        keys.list().await,
        vec![
            format!("{p}pv:uv:1m:11:1700000100000"),
            format!("{p}pv:uv:1m:22:1700000100000"),
            format!("{p}pv:uv:5m:11:1700000100000"),
            format!("{p}pv:uv:5m:22:1700000100000"),
        ]
    );
    assert_eq!(
        keys.hash("pv:uv:1m:11:1700000100000").await,
        h(&[("cms_type", "video"), ("pv", "3"), ("uv", "2")])
    );
    assert_eq!(
        keys.hash("pv:uv:5m:11:1700000100000").await,
        h(&[("cms_type", "video"), ("pv", "10"), ("uv", "7")])
    );
    // NULL fields are left out.
    assert_eq!(
        keys.hash("pv:uv:1m:22:1700000100000").await,
        h(&[("cms_type", "article"), ("pv", "5")])
    );
    assert_eq!(
        keys.hash("pv:uv:5m:22:1700000100000").await,
        h(&[("pv", "6"), ("uv", "4")])
    );
    for k in keys.list().await {
        let ttl = keys.ttl_ms(&k[p.len()..]).await;
        assert!(ttl > 3_500_000 && ttl <= 3_600_000, "{k}: ttl {ttl} ms");
    }
}

/// `field` + `value`: one hash per key whose fields are named by a column's values (as the
/// board's `realtime:region:{window_end}`: province -> pv).
#[tokio::test]
async fn a_hash_field_can_be_named_by_a_column() {
    let keys = Keys::new("hashfield");
    let template = format!("{}by_type:{{window_size}}:{{window_end}}", keys.prefix);
    let options = |extra: &[(&'static str, &'static str)]| {
        let mut o = vec![
            ("data_type", "hash"),
            ("key", template.as_str()),
            ("url", REDIS),
        ];
        o.extend_from_slice(extra);
        o
    };
    let d = def(
        "rt_by_type",
        &pv_columns(),
        &options(&[("field", "cms_type"), ("value", "pv")]),
    );
    let env = ConnectorEnv::new(ExecMode::Stream);
    let table = Table(RedisTable::try_new(&d, d.options.clone(), &env).unwrap());
    insert(&table, vec![pv_batch()]).await.unwrap();
    assert_eq!(
        keys.hash("by_type:1m:1700000100000").await,
        h(&[("video", "3"), ("article", "5")])
    );
    // A row whose field column is NULL is skipped.
    assert_eq!(
        keys.hash("by_type:5m:1700000100000").await,
        h(&[("video", "10")])
    );
    // `field` needs `value`, and does not go with `fields`.
    for (extra, named) in [
        (vec![("field", "cms_type")], "value"),
        (
            vec![("field", "cms_type"), ("value", "pv"), ("fields", "uv")],
            "fields",
        ),
    ] {
        let d = def("rt_bad", &pv_columns(), &options(&extra));
        let e = RedisTable::try_new(&d, d.options.clone(), &env).unwrap_err();
        assert!(e.to_string().contains(named), "{e}");
    }
}

#[tokio::test]
async fn rewriting_the_same_rows_gives_the_same_keys_and_values() {
    let keys = Keys::new("idempotent");
    let template = format!(
        "{}pv:{{window_size}}:{{cms_type}}:{{cms_id}}:{{window_end}}",
        keys.prefix
    );
    let table = try_table(
        &pv_columns(),
        &[
            ("data_type", "hash"),
            ("key", &template),
            ("key.time_format", "%Y%m%d%H%M"),
        ],
    )
    .unwrap();
    insert(&table, vec![pv_batch()]).await.unwrap();
    let first = keys.dump().await;
    assert_eq!(first.len(), 3, "{first:?}");
    assert!(
        first[0].0.ends_with("pv:1m:article:22:202311142215"),
        "{first:?}"
    );
    insert(&table, vec![pv_batch(), pv_batch()]).await.unwrap();
    assert_eq!(keys.dump().await, first);
}

#[tokio::test]
async fn zset_adds_members_with_scores() {
    let keys = Keys::new("zset");
    let template = format!("{}topn:{{cms_type}}:{{window_end}}", keys.prefix);
    let cols = [
        (
            "window_end",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
        ),
        ("cms_type", DataType::Utf8),
        ("cms_id", DataType::Int64),
        ("pv", DataType::Float64),
    ];
    let table = try_table(
        &cols,
        &[
            ("data_type", "zset"),
            ("key", &template),
            ("member", "cms_id"),
            ("score", "pv"),
            ("key.time_format", "epoch_seconds"),
        ],
    )
    .unwrap();
    let end = 1_700_000_100_000;
    let b = batch(
        &cols,
        vec![
            Arc::new(TimestampMillisecondArray::from(vec![end; 5]).with_timezone("UTC")),
            Arc::new(StringArray::from(vec![
                "video", "video", "video", "article", "video",
            ])),
            Arc::new(Int64Array::from(vec![
                Some(1),
                Some(2),
                Some(3),
                Some(4),
                None,
            ])),
            Arc::new(Float64Array::from(vec![
                Some(30.0),
                Some(12.5),
                None,
                Some(f64::NAN),
                Some(1.0),
            ])),
        ],
    );
    // A NULL score, a NaN score and a NULL member: three rows skipped.
    assert_eq!(insert(&table, vec![b]).await.unwrap(), 2);
    let p = &keys.prefix;
    assert_eq!(keys.list().await, vec![format!("{p}topn:video:1700000100")]);
    let members: Vec<(String, f64)> = Keys::conn()
        .await
        .zrange_withscores(format!("{p}topn:video:1700000100"), 0, -1)
        .await
        .unwrap();
    assert_eq!(
        members,
        vec![("2".to_string(), 12.5), ("1".to_string(), 30.0)]
    );
    let ttl = keys.ttl_ms("topn:video:1700000100").await;
    assert!(ttl > 86_000_000 && ttl <= 86_400_000, "ttl {ttl} ms");
}

#[tokio::test]
async fn string_sets_the_value_with_or_without_expiry() {
    let keys = Keys::new("string");
    let cols = [("window_end", ts()), ("online", DataType::Int64)];
    let b = || {
        batch(
            &cols,
            vec![
                Arc::new(TimestampMillisecondArray::from(vec![
                    60_000, 120_000, 180_000,
                ])),
                Arc::new(Int64Array::from(vec![Some(42), Some(7), None])),
            ],
        )
    };
    let expiring = format!("{}online:{{window_end}}", keys.prefix);
    let table = try_table(
        &cols,
        &[
            ("data_type", "string"),
            ("key", &expiring),
            ("value", "online"),
            ("ttl", "10m"),
        ],
    )
    .unwrap();
    assert_eq!(insert(&table, vec![b()]).await.unwrap(), 2);
    let lasting = format!("{}kept:{{window_end}}", keys.prefix);
    let table = try_table(
        &cols,
        &[
            ("data_type", "string"),
            ("key", &lasting),
            ("value", "online"),
            ("ttl", "0"),
        ],
    )
    .unwrap();
    assert_eq!(insert(&table, vec![b()]).await.unwrap(), 2);

    let p = &keys.prefix;
    let mut c = Keys::conn().await;
    let v: Option<String> = c.get(format!("{p}online:60000")).await.unwrap();
    assert_eq!(v.as_deref(), Some("42"));
    let v: Option<String> = c.get(format!("{p}kept:120000")).await.unwrap();
    assert_eq!(v.as_deref(), Some("7"));
    // NULL value: nothing written for that window.
    assert_eq!(keys.list().await.len(), 4);
    let ttl = keys.ttl_ms("online:60000").await;
    assert!(ttl > 590_000 && ttl <= 600_000, "ttl {ttl} ms");
    assert_eq!(keys.ttl_ms("kept:60000").await, -1);
}

#[tokio::test]
async fn a_key_of_another_type_fails_at_once_not_after_retries() {
    let keys = Keys::new("wrongtype");
    let p = &keys.prefix;
    let _: () = Keys::conn()
        .await
        .set(format!("{p}pv:1m"), "x")
        .await
        .unwrap();
    let table = try_table(
        &pv_columns(),
        &[
            ("data_type", "hash"),
            ("key", &format!("{p}pv:{{window_size}}")),
            ("fields", "pv"),
            ("retry.max_elapsed", "60s"),
        ],
    )
    .unwrap();
    let started = Instant::now();
    let err = insert(&table, vec![pv_batch()])
        .await
        .unwrap_err()
        .to_string();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(
        err.contains("table 'rt_stat': writing (redis://127.0.0.1:6379/0)"),
        "{err}"
    );
    assert!(err.contains("WRONGTYPE"), "{err}");
}

#[tokio::test]
async fn a_wrong_password_fails_at_once_without_showing_it() {
    let table = try_table(
        &pv_columns(),
        &[
            ("data_type", "hash"),
            ("key", "sluice-test:never:{cms_id}"),
            ("url", "redis://:not-the-password@127.0.0.1:6379/0"),
            ("retry.max_elapsed", "60s"),
        ],
    )
    .unwrap();
    let started = Instant::now();
    let err = insert(&table, vec![pv_batch()])
        .await
        .unwrap_err()
        .to_string();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(
        err.contains("table 'rt_stat': writing (redis://127.0.0.1:6379/0)"),
        "{err}"
    );
    assert!(err.contains("authentication failed"), "{err}");
    assert!(!err.contains("not-the-password"), "{err}");
}

/// A local port nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[tokio::test]
async fn an_unreachable_redis_fails_after_max_elapsed_naming_table_and_url() {
    let port = closed_port();
    let url = format!("redis://:hunter2@127.0.0.1:{port}/0");
    let table = try_table(
        &pv_columns(),
        &[
            ("data_type", "hash"),
            ("key", "sluice-test:never:{cms_id}"),
            ("url", &url),
            ("retry.max_elapsed", "400ms"),
            ("retry.initial_backoff", "50ms"),
        ],
    )
    .unwrap();
    let started = Instant::now();
    let err = insert(&table, vec![pv_batch()])
        .await
        .unwrap_err()
        .to_string();
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(300),
        "gave up too early: {took:?}"
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(err.contains("table 'rt_stat'"), "{err}");
    assert!(
        err.contains(&format!("redis://127.0.0.1:{port}/0")),
        "{err}"
    );
    assert!(err.contains("gave up after retrying for 0.4 s"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

/// A TCP proxy to the real Redis on `port`, to take "Redis" down and up; aborting the task
/// closes the listener and every proxied connection.
async fn proxy(port: u16) -> tokio::task::JoinHandle<()> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    tokio::spawn(async move {
        let mut conns = JoinSet::new();
        while let Ok((mut down, _)) = listener.accept().await {
            conns.spawn(async move {
                if let Ok(mut up) = TcpStream::connect("127.0.0.1:6379").await {
                    let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
                }
            });
        }
    })
}

#[tokio::test]
async fn a_redis_down_at_start_and_again_between_batches_is_waited_for() {
    let keys = Keys::new("outage");
    let port = closed_port();
    let cols = [("window_end", ts()), ("online", DataType::Int64)];
    let d = def(
        "rt_online",
        &cols,
        &[
            ("data_type", "string"),
            ("key", &format!("{}online:{{window_end}}", keys.prefix)),
            ("value", "online"),
            ("url", &format!("redis://127.0.0.1:{port}/0")),
            ("retry.max_elapsed", "20s"),
            ("retry.initial_backoff", "50ms"),
        ],
    );
    let table =
        RedisTable::try_new(&d, d.options.clone(), &ConnectorEnv::new(ExecMode::Stream)).unwrap();
    let sink = RedisSink::new(table.target.clone(), JobMetrics::default().sink("t", false));
    let one = |end: i64, n: i64| {
        batch(
            &cols,
            vec![
                Arc::new(TimestampMillisecondArray::from(vec![end])),
                Arc::new(Int64Array::from(vec![n])),
            ],
        )
    };
    // The stream a running job feeds the sink: batches arrive over time.
    let (tx, rx) = futures::channel::mpsc::unbounded::<datafusion::error::Result<RecordBatch>>();
    let stream = Box::pin(RecordBatchStreamAdapter::new(
        Arc::clone(&table.target.schema),
        rx,
    ));
    let writer = tokio::spawn(async move {
        let ctx = Arc::new(TaskContext::default());
        sink.write(SinkInput::new(stream, &ctx), &ctx).await
    });

    // Down at start: the first batch waits until the proxy is up.
    tx.unbounded_send(Ok(one(60_000, 1))).unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(keys.list().await.is_empty());
    let up = proxy(port).await;
    let p = &keys.prefix;
    let k1 = format!("{p}online:60000");
    wait_for(&keys, std::slice::from_ref(&k1)).await;

    // Down again (the live connection is cut), then back: the second batch is written too.
    up.abort();
    let _ = up.await;
    tx.unbounded_send(Ok(one(120_000, 2))).unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(keys.list().await, vec![k1.clone()]);
    let up = proxy(port).await;
    let k2 = format!("{p}online:120000");
    wait_for(&keys, &[k1, k2]).await;

    drop(tx);
    let written = writer.await.unwrap().unwrap();
    up.abort();
    assert_eq!(written, 2);
}

async fn wait_for(keys: &Keys, expected: &[String]) {
    let mut expected = expected.to_vec();
    expected.sort();
    let started = Instant::now();
    while keys.list().await != expected {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "keys {:?}, expected {expected:?}",
            keys.list().await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[test]
fn plan_display_names_the_sink() {
    let t = try_table(
        &pv_columns(),
        &[
            ("data_type", "zset"),
            ("key", "topn:{window_end}"),
            ("member", "cms_id"),
            ("score", "pv"),
        ],
    )
    .unwrap();
    let exec = sink_exec(
        MemorySourceConfig::try_new_exec(&[vec![]], t.schema(), None).unwrap(),
        RedisSink::new(t.0.target.clone(), JobMetrics::default().sink("t", false)),
    );
    let shown = displayable(exec.as_ref()).indent(false).to_string();
    assert!(
        shown.contains("RedisSink: zset topn:{window_end} at redis://127.0.0.1:6379/0"),
        "{shown}"
    );
}
