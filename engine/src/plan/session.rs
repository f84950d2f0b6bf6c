//! One DataFusion session per job (or command): our UDFs, the catalog as its default schema,
//! and the job's own state (`JobEnv`, barrier markers).

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use datafusion::prelude::{SessionConfig, SessionContext};

use super::schema::SluiceSchemaProvider;
use super::window_marker::WindowMarker;
use crate::catalog::Catalog;
use crate::error::{Result, SluiceError};
use crate::job::{ExecMode, JobEnv};
use crate::wire::Markers;

pub const CATALOG_NAME: &str = "sluice";
pub const SCHEMA_NAME: &str = "public";

pub struct Session {
    pub ctx: SessionContext,
    pub catalog: Arc<RwLock<Catalog>>,
    pub schema: Arc<SluiceSchemaProvider>,
    /// What the job planned in this session owns.
    pub env: JobEnv,
}

impl Session {
    pub fn new(catalog: Catalog, mode: ExecMode) -> Result<Session> {
        let mut udf_config = sluice_udfs::UdfConfig::default();
        if let Some(path) = catalog.vars.lookup("ip2region_path")? {
            udf_config.ip2region_path = PathBuf::from(path);
        }
        let config = SessionConfig::new()
            .with_information_schema(true)
            .with_default_catalog_and_schema(CATALOG_NAME, SCHEMA_NAME)
            .with_create_default_catalog_and_schema(true)
            // Columns keep their place in the file, so an unknown column's error points at it.
            .set_bool("datafusion.sql_parser.collect_spans", true);
        let config = sluice_udfs::planned_once(config);
        // A stream job runs each statement as one pipeline (its parallelism is across
        // statements and sources); batch jobs use every core.
        let config = match mode {
            ExecMode::Stream => config.with_target_partitions(1),
            ExecMode::Batch => config,
        };
        // The job's checkpoint barriers on their way into sink plans.
        let config = config.with_extension(Arc::new(Markers::default()));
        let ctx = SessionContext::new_with_config(config);
        sluice_udfs::register_all(&ctx, &udf_config);
        ctx.register_udf(WindowMarker::udf());

        let catalog = Arc::new(RwLock::new(catalog));
        let env = JobEnv::new(mode);
        let schema = Arc::new(SluiceSchemaProvider::new(Arc::clone(&catalog), &env));
        let df_catalog = ctx.catalog(CATALOG_NAME).ok_or_else(|| {
            SluiceError::Catalog("DataFusion's default catalog is missing".into())
        })?;
        df_catalog.register_schema(SCHEMA_NAME, Arc::clone(&schema) as _)?;
        Ok(Session {
            ctx,
            catalog,
            schema,
            env,
        })
    }

    pub fn catalog(&self) -> std::sync::RwLockReadGuard<'_, Catalog> {
        self.catalog.read().unwrap_or_else(|p| p.into_inner())
    }

    pub fn catalog_mut(&self) -> std::sync::RwLockWriteGuard<'_, Catalog> {
        self.catalog.write().unwrap_or_else(|p| p.into_inner())
    }
}
