//! `follow = true` on a `lines` file table: the scan tails the file (appends, rotation) and
//! stops when its stream is dropped; the option is checked when the table is built.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use datafusion::arrow::array::{Array, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::physical_plan::ExecutionPlanProperties;
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use sluice::catalog::TableDef;
use sluice::connectors::{ConnectorEnv, build_table};
use sluice::job::ExecMode;

fn table(options: &[(&str, &str)]) -> (TableDef, BTreeMap<String, String>) {
    let def = TableDef::of_connector("raw", "file", &[("line", DataType::Utf8)], options);
    let opts = def.options.clone();
    (def, opts)
}

fn build_error(options: &[(&str, &str)], mode: ExecMode) -> String {
    let (def, opts) = table(options);
    build_table(&def, opts, &ConnectorEnv::new(mode))
        .expect_err("the table should be rejected")
        .to_string()
}

fn append(path: &Path, data: &str) {
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .unwrap()
        .write_all(data.as_bytes())
        .unwrap();
}

/// Reads batches until `n` lines have arrived (each batch within 2 s).
async fn next_lines(stream: &mut SendableRecordBatchStream, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    while out.len() < n {
        let batch = tokio::time::timeout(Duration::from_secs(2), stream.next())
            .await
            .expect("no batch within 2 s")
            .expect("the stream ended")
            .unwrap();
        let col = batch
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        out.extend((0..col.len()).map(|i| col.value(i).to_string()));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_scan_tails_appends_and_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    std::fs::write(&path, "a\nb\n").unwrap();
    let path_text = path.to_str().unwrap();
    let (def, opts) = table(&[
        ("path", path_text),
        ("format", "lines"),
        ("follow", "true"),
        ("follow.poll_ms", "10"),
    ]);
    let env = ConnectorEnv::new(ExecMode::Stream);
    let provider = build_table(&def, opts, &env).unwrap();

    let ctx = SessionContext::new();
    let plan = provider.scan(&ctx.state(), None, &[], None).await.unwrap();
    assert_eq!(plan.output_partitioning().partition_count(), 1);
    assert!(plan.boundedness().is_unbounded());
    let mut stream = plan.execute(0, ctx.task_ctx()).unwrap();

    assert_eq!(next_lines(&mut stream, 2).await, vec!["a", "b"]);
    append(&path, "c\r\nhalf");
    assert_eq!(next_lines(&mut stream, 1).await, vec!["c"]);
    append(&path, " done\n");
    assert_eq!(next_lines(&mut stream, 1).await, vec!["half done"]);

    // Rotate: rename, the writer finishes on the old file, then a new file appears.
    std::fs::rename(&path, dir.path().join("app.log.1")).unwrap();
    append(&dir.path().join("app.log.1"), "d\n");
    append(&path, "e\n");
    assert_eq!(next_lines(&mut stream, 2).await, vec!["d", "e"]);

    let snapshot = env.job.metrics.snapshot();
    assert_eq!(snapshot.rows_read, 6);
    assert_eq!(snapshot.bytes_read, 4 + 3 + 10 + 2 + 2);
    drop(stream);
}

#[test]
fn follow_needs_stream_mode_lines_and_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.log");
    let file = file.to_str().unwrap();
    let follow = |path: &str, format: &str| {
        vec![("path", path), ("format", format), ("follow", "true")]
            .into_iter()
            .map(|(k, v)| (k, v.to_string()))
            .collect::<Vec<_>>()
    };
    let err = |opts: Vec<(&str, String)>, mode| {
        let opts: Vec<(&str, &str)> = opts.iter().map(|(k, v)| (*k, v.as_str())).collect();
        build_error(&opts, mode)
    };

    let e = err(follow(file, "lines"), ExecMode::Batch);
    assert!(e.contains("run the job with --mode stream"), "{e}");
    let e = err(follow(file, "csv"), ExecMode::Stream);
    assert!(e.contains("format = 'lines'"), "{e}");
    let dir_path = dir.path().to_str().unwrap();
    let e = err(follow(dir_path, "lines"), ExecMode::Stream);
    assert!(e.contains("single file"), "{e}");
    let glob = format!("{dir_path}/*.log");
    let e = err(follow(&glob, "lines"), ExecMode::Stream);
    assert!(e.contains("single file"), "{e}");

    // A file that does not exist yet is fine: it is waited for.
    let (def, opts) = table(&[("path", file), ("format", "lines"), ("follow", "true")]);
    assert!(build_table(&def, opts, &ConnectorEnv::new(ExecMode::Stream)).is_ok());
    // follow = false keeps batch mode working.
    let (def, opts) = table(&[("path", file), ("format", "lines"), ("follow", "false")]);
    assert!(build_table(&def, opts, &ConnectorEnv::new(ExecMode::Batch)).is_ok());
}
