//! Fuzzes Sluice's SQL front end: a job script is split into statements, then planned for a
//! batch run and for a stream run against the shipped catalog (`catalog/`, profile `local`),
//! as `sluice explain` does — nothing is executed.
//!
//! The path mirrors `cli::explain` (which is private to the engine): `${..}` expansion as
//! `cli::run::load_script` does it, `Script::parse`, `Session::new`, `plan_job` and
//! `plan_stream_job`, then the plans are rendered (`displayable`, `explain_stream`). Errors are
//! expected and ignored (their messages are rendered, which exercises the diagnostics); only a
//! panic, an abort or a sanitizer report counts.
//!
//! Planning does run the DDL of a script (CREATE TABLE into the catalog, CREATE VIEW and SET
//! into the DataFusion session), so each input gets fresh sessions over a clone of a catalog
//! loaded once: one input cannot change what the next one sees.
//!
//! The catalog's `${warehouse}` points at a scratch directory (one empty directory per table and
//! a small raw log), so the file tables resolve and the planner gets past the scans. Tables a
//! script declares with other connectors (mysql, kafka, redis) could reach for the network while
//! planning (a MySQL table is read when it is scanned): run this target without network access
//! (`unshare -n`, see README.md).
#![no_main]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use datafusion::physical_plan::displayable;
use libfuzzer_sys::fuzz_target;
use sluice::catalog::{Catalog, DEFAULT_PROFILE, Vars};
use sluice::exec::ExecMode;
use sluice::plan::stream::explain_stream;
use sluice::plan::{Session, plan_job, plan_stream_job};
use sluice::sql::Script;

struct Fixture {
    catalog: Catalog,
    runtime: tokio::runtime::Runtime,
}

/// A few lines of the real log, for the `lines` source `raw_access_log`.
const RAW_LINES: &str = concat!(
    r#"183.162.52.7 - - [10/Nov/2016:00:01:02 +0800] "POST /api3/getadv HTTP/1.1" 200 813 "www.imooc.com" "-" cid=0&timestamp=1478707261865 "mukewang/5.0.0 (Android 5.1.1; Xiaomi Redmi 3 Build/LMY47V),Network 2G/3G" "-" 10.100.134.244:80 200 0.027 0.027"#,
    "\n",
    r#"117.35.88.11 - - [10/Nov/2016:00:01:02 +0800] "GET /article/ajaxcourserecommends?id=124 HTTP/1.1" 200 2345 "www.imooc.com" "http://www.imooc.com/code/1852" - "Mozilla/5.0 (Windows NT 6.1; WOW64)" "-" 10.100.136.65:80 200 0.616 0.616"#,
    "\n",
);

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let catalog_dir = std::env::var_os("SLUICE_FUZZ_CATALOG")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../catalog")));
        let warehouse = std::env::temp_dir().join("sluice-fuzz-warehouse");
        std::fs::create_dir_all(warehouse.join("raw")).expect("creating the scratch warehouse");
        std::fs::write(warehouse.join("raw/access.log"), RAW_LINES).expect("writing raw/");

        let mut overrides = BTreeMap::new();
        overrides.insert("warehouse".to_string(), warehouse.display().to_string());
        // Without the environment: a run must not depend on the caller's SLUICE_* variables.
        let vars = Vars::new(overrides).without_env();
        let catalog = Catalog::load(&catalog_dir, DEFAULT_PROFILE, vars)
            .unwrap_or_else(|e| panic!("loading {}: {e}", catalog_dir.display()));
        for name in catalog.table_names() {
            std::fs::create_dir_all(warehouse.join(&name)).expect("creating a table directory");
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        Fixture { catalog, runtime }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let fx = fixture();
    // As `load_script`: variables are expanded before the script is cut into statements.
    let text = if text.contains("${") {
        match fx.catalog.vars.expand_sql(text) {
            Ok(t) => t,
            Err(e) => {
                let _ = e.to_string();
                return;
            }
        }
    } else {
        text.to_string()
    };
    let script = match Script::parse("fuzz.sql", &text) {
        Ok(s) => s,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    if script.statements.is_empty() {
        return;
    }

    fx.runtime.block_on(async {
        let session = Session::new(fx.catalog.clone(), ExecMode::Batch).expect("batch session");
        match plan_job(&session, script.clone()).await {
            Ok(job) => {
                for s in &job.shared {
                    let _ = displayable(s.plan.as_ref()).indent(true).to_string();
                }
                for p in &job.statements {
                    let _ = displayable(p.plan.as_ref()).indent(true).to_string();
                }
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
        drop(session);

        let session = Session::new(fx.catalog.clone(), ExecMode::Stream).expect("stream session");
        match plan_stream_job(&session, script).await {
            Ok(job) => {
                let _ = explain_stream(&job);
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    });
});
