//! The UDFs end to end through a DataFusion `SessionContext`: type coercion, NULLs, struct
//! field access, scalar (constant) arguments and every string type.
//!
//! Struct fields are read with `f(x)['name']`, `get_field(f(x), 'name')` or `alias.name` on a
//! subquery column: DataFusion's SQL front end rejects `f(x).name`. (`f(x)['name']` relies on
//! DataFusion's `nested_expressions` feature, which the workspace enables.)

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, LargeStringArray, RecordBatch, StringArray, StringViewArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Int32Type, Int64Type, Schema, TimeUnit};
use datafusion::arrow::datatypes::{Float64Type, TimestampMillisecondType};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use sluice_udfs::{UdfConfig, function_names, register_all};

const LINE: &str = r#"117.35.88.11 - - [10/Nov/2016:00:01:02 +0800] "GET /article/ajaxcourserecommends?id=124 HTTP/1.1" 200 2345 "www.imooc.com" "http://www.imooc.com/code/1852" - "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.71 Safari/537.36" "-" 10.100.136.65:80 200 0.616 0.616"#;
const HEAD_LINE: &str = r#"10.100.0.1 - - [10/Nov/2016:00:01:02 +0800] "HEAD / HTTP/1.1" 301 0 "117.121.101.40" "-" - "curl/7.19.7 (x86_64-redhat-linux-gnu) libcurl/7.19.7 NSS/3.16.2.3 Basic ECC zlib/1.2.3 libidn/1.18 libssh2/1.4.2" "-" - - - 0.000"#;
const GARBAGE: &str = "\u{16}\u{3}\u{1} not a log line";

/// A session with the UDFs and a table `logs(id, line)` whose `line` column has `data_type`.
async fn session(data_type: DataType) -> SessionContext {
    let lines = [Some(LINE), Some(HEAD_LINE), None, Some(GARBAGE), Some("")];
    let column: ArrayRef = match data_type {
        DataType::Utf8 => Arc::new(StringArray::from(lines.to_vec())),
        DataType::LargeUtf8 => Arc::new(LargeStringArray::from(lines.to_vec())),
        DataType::Utf8View => Arc::new(StringViewArray::from(lines.to_vec())),
        other => panic!("unsupported test type {other}"),
    };
    let ids: ArrayRef = Arc::new(datafusion::arrow::array::Int32Array::from(vec![
        1, 2, 3, 4, 5,
    ]));
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int32, false),
        Field::new("line", data_type, true),
    ]));
    let batch = RecordBatch::try_new(Arc::clone(&schema), vec![ids, column]).expect("batch");
    let table = MemTable::try_new(schema, vec![vec![batch]]).expect("table");
    let ctx = SessionContext::new();
    register_all(&ctx, &UdfConfig::default());
    ctx.register_table("logs", Arc::new(table))
        .expect("register");
    ctx
}

async fn query(ctx: &SessionContext, sql: &str) -> RecordBatch {
    let df = ctx.sql(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    let batches = df.collect().await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    datafusion::arrow::compute::concat_batches(&batches[0].schema(), &batches).expect("concat")
}

fn strings(batch: &RecordBatch, col: usize) -> Vec<Option<String>> {
    let array = datafusion::arrow::compute::cast(batch.column(col), &DataType::Utf8).expect("cast");
    array
        .as_string::<i32>()
        .iter()
        .map(|v| v.map(str::to_owned))
        .collect()
}

fn s(v: &str) -> Option<String> {
    Some(v.to_owned())
}

#[tokio::test]
async fn registers_every_function() {
    let ctx = session(DataType::Utf8).await;
    let state = ctx.state();
    for name in function_names() {
        assert!(
            state.scalar_functions().contains_key(name),
            "{name} not registered"
        );
    }
    assert_eq!(
        function_names().len(),
        sluice_udfs::udf::all_udfs(&UdfConfig::default()).len()
    );
}

#[tokio::test]
async fn cleaning_query_over_every_string_type() {
    for data_type in [DataType::Utf8, DataType::LargeUtf8, DataType::Utf8View] {
        let ctx = session(data_type.clone()).await;
        let batch = query(
            &ctx,
            "SELECT get_field(parse_access_log(line), 'referer') AS referer,
                    cms_type(get_field(parse_access_log(line), 'referer')) AS cms_type,
                    cms_id(get_field(parse_access_log(line), 'referer')) AS cms_id,
                    get_field(parse_access_log(line), 'day') AS day,
                    is_internal_ip(get_field(parse_access_log(line), 'ip')) AS internal,
                    access_log_error(line) AS error,
                    ip_region(get_field(parse_access_log(line), 'ip')) AS region,
                    cms_type(line) AS raw_type
             FROM logs ORDER BY id",
        )
        .await;
        assert_eq!(batch.num_rows(), 5, "{data_type}");
        assert_eq!(
            strings(&batch, 0),
            vec![
                s("http://www.imooc.com/code/1852"),
                s("-"),
                None,
                None,
                None
            ],
            "{data_type}"
        );
        assert_eq!(strings(&batch, 1), vec![s("code"), s(""), None, None, None]);
        let ids = batch.column(2).as_primitive::<Int64Type>();
        assert_eq!(
            ids.iter().collect::<Vec<_>>(),
            vec![Some(1852), Some(0), None, None, None]
        );
        assert_eq!(
            strings(&batch, 3),
            vec![s("20161110"), s("20161110"), None, None, None]
        );
        let internal = batch.column(4).as_boolean();
        // Unparsed lines give a NULL ip, which counts as internal.
        assert_eq!(
            internal.iter().collect::<Vec<_>>(),
            vec![Some(false), Some(true), Some(true), Some(true), Some(true)]
        );
        let errors = strings(&batch, 5);
        assert_eq!(errors[..3], [None, None, None]);
        assert_eq!(
            errors[3],
            s("expected '[' to start field 'time' at byte 10")
        );
        assert_eq!(errors[4], s("empty line"));
        assert_eq!(
            strings(&batch, 6),
            vec![s("陕西省"), None, None, None, None]
        );
        // Non-NULL input always has a type, even for text that is not a URL.
        assert_eq!(strings(&batch, 7), vec![s(""), s(""), None, s(""), s("")]);
    }
}

#[tokio::test]
async fn bracket_field_access() {
    let ctx = session(DataType::Utf8View).await;
    let batch = query(
        &ctx,
        "SELECT parse_access_log(line)['referer'], ip_location('117.35.88.11')['city']
         FROM logs ORDER BY id LIMIT 2",
    )
    .await;
    assert_eq!(
        strings(&batch, 0),
        vec![s("http://www.imooc.com/code/1852"), s("-")]
    );
    assert_eq!(strings(&batch, 1), vec![s("西安市"), s("西安市")]);
}

#[tokio::test]
async fn struct_has_the_documented_schema() {
    let ctx = session(DataType::Utf8).await;
    let batch = query(
        &ctx,
        "SELECT parse_access_log(line) AS p FROM logs ORDER BY id",
    )
    .await;
    let DataType::Struct(fields) = batch.schema().field(0).data_type().clone() else {
        panic!("not a struct");
    };
    let names: Vec<&str> = fields.iter().map(|f| f.name().as_str()).collect();
    assert_eq!(
        names,
        [
            "ip",
            "remote_user",
            "time",
            "day",
            "method",
            "path",
            "protocol",
            "status",
            "bytes",
            "host",
            "referer",
            "query",
            "user_agent",
            "forwarded_for",
            "upstream_addr",
            "upstream_status",
            "upstream_response_time",
            "request_time"
        ]
    );
    assert_eq!(
        fields[2].data_type(),
        &DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
    );
    let p = batch.column(0).as_struct();
    assert_eq!(p.null_count(), 3);
    let time = p.column(2).as_primitive::<TimestampMillisecondType>();
    assert_eq!(time.value(0), 1_478_707_262_000);
    let status = p.column(7).as_primitive::<Int32Type>();
    assert_eq!((status.value(0), status.value(1)), (200, 301));
    let upstream_status = p.column(15).as_primitive::<Int32Type>();
    assert!(upstream_status.is_valid(0) && upstream_status.is_null(1));
    let request_time = p.column(17).as_primitive::<Float64Type>();
    assert_eq!(request_time.value(0), 0.616);
}

#[tokio::test]
async fn scalar_arguments_and_null_literals() {
    let ctx = session(DataType::Utf8).await;
    let batch = query(
        &ctx,
        "SELECT cms_type('http://www.imooc.com/video/5915/0'),
                cms_id('http://www.imooc.com/article/4779?from=itblog'),
                nginx_time('[10/Nov/2016:00:01:02 +0800]'),
                nginx_time('99/Foo/2016:00:01:02 +0800'),
                is_internal_ip(NULL),
                is_internal_ip('8.8.8.8'),
                cms_type(NULL),
                ip_city('14.153.236.58'),
                get_field(ip_location('115.34.187.133'), 'province'),
                ip_location('not an ip'),
                arrow_cast('http://www.imooc.com/learn/85/?src=x', 'Utf8View') AS v,
                cms_id(arrow_cast('http://www.imooc.com/learn/85/?src=x', 'Utf8View'))",
    )
    .await;
    assert_eq!(strings(&batch, 0), vec![s("video")]);
    assert_eq!(batch.column(1).as_primitive::<Int64Type>().value(0), 4779);
    let t = batch.column(2).as_primitive::<TimestampMillisecondType>();
    assert_eq!(t.value(0), 1_478_707_262_000);
    assert!(batch.column(3).is_null(0));
    assert!(batch.column(4).as_boolean().value(0));
    assert!(!batch.column(5).as_boolean().value(0));
    assert!(batch.column(6).is_null(0));
    assert_eq!(strings(&batch, 7), vec![s("深圳市")]);
    assert_eq!(strings(&batch, 8), vec![s("北京")]);
    assert!(batch.column(9).is_null(0));
    assert_eq!(batch.column(11).as_primitive::<Int64Type>().value(0), 85);
}

#[tokio::test]
async fn missing_database_is_a_clear_query_error() {
    let ctx = SessionContext::new();
    let cfg = UdfConfig {
        ip2region_path: "/nonexistent/sluice/ip2region.xdb".into(),
    };
    register_all(&ctx, &cfg);
    let result = match ctx
        .sql("SELECT ip_city(column1) FROM (VALUES ('1.1.1.1'))")
        .await
    {
        Ok(df) => df.collect().await.map(|_| ()),
        Err(e) => Err(e),
    };
    let msg = result.expect_err("must fail").to_string();
    assert!(
        msg.contains("ip2region database not found at /nonexistent/sluice/ip2region.xdb"),
        "{msg}"
    );
    assert!(msg.contains("scripts/fetch-ip2region.sh"), "{msg}");
}

#[tokio::test]
async fn all_sample_lines_through_sql() {
    let path = std::env::var_os("SLUICE_SHARED_DATA").map_or_else(
        || std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/imooc")),
        std::path::PathBuf::from,
    );
    let text = std::fs::read_to_string(path.join("10000_access.log")).expect("sample log");
    let lines: ArrayRef = Arc::new(StringViewArray::from_iter_values(text.lines()));
    let schema = Arc::new(Schema::new(vec![Field::new(
        "line",
        DataType::Utf8View,
        true,
    )]));
    let batch = RecordBatch::try_new(Arc::clone(&schema), vec![lines]).expect("batch");
    let ctx = SessionContext::new();
    register_all(&ctx, &UdfConfig::default());
    ctx.register_table(
        "raw",
        Arc::new(MemTable::try_new(schema, vec![vec![batch]]).expect("t")),
    )
    .expect("register");
    let batch = query(
        &ctx,
        // The shape the clean job uses: parse once in a subquery, then `p.field` on the column.
        "SELECT count(*) AS total,
                count(p) AS parsed,
                count(error) AS errors,
                sum(CASE WHEN p.referer <> '-' THEN 1 ELSE 0 END) AS with_referer
         FROM (SELECT parse_access_log(line) AS p, access_log_error(line) AS error FROM raw)",
    )
    .await;
    let col = |i: usize| batch.column(i).as_primitive::<Int64Type>().value(0);
    assert_eq!((col(0), col(1), col(2), col(3)), (10_000, 10_000, 0, 3_342));
}
