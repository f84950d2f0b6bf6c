//! The `events` format's rows are what `jobs/clean.sql` makes of the generated lines: its
//! `INSERT INTO dwd_access` query, read from the job file itself, planned by DataFusion and
//! run over the lines' `parse_access_log` structs. The filter, `cms_type`, `cms_id` and
//! `ip_location` are the clean job's own; only the text round trip is skipped
//! (`batches::ParsedRows` fills the struct from the generator's parts of each line).

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_plan::{ExecutionPlan, collect};
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::sqlparser::ast::Statement;
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;
use sluice_udfs::UdfConfig;
use sluice_udfs::udf::access_log_fields;

use crate::wire::{Slot, SlotTable};

/// The clean job whose rules the events follow.
const CLEAN_SQL: &str = include_str!("../../../../jobs/clean.sql");
/// The table of clean.sql whose rows the events are.
const EVENTS_TABLE: &str = "dwd_access";
/// The view its query reads, and the view's column it reads.
const PARSED_VIEW: &str = "parsed";
const LOG_COLUMN: &str = "log";

/// What the plan reads: the `parsed` view's `log` column.
pub(super) fn parsed_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new(
        LOG_COLUMN,
        DataType::Struct(access_log_fields()),
        true,
    )]))
}

/// clean.sql's `dwd_access` query, planned once and run for every batch of parsed lines.
#[derive(Debug)]
pub(super) struct CleanPlan {
    plan: Arc<dyn ExecutionPlan>,
    input: Slot,
}

impl CleanPlan {
    /// Plans the query's `columns` (at least one), its UDFs configured by `udfs`.
    pub async fn new(columns: &[String], udfs: &UdfConfig) -> Result<CleanPlan> {
        // One partition: the plan runs over one batch at a time, and keeps its order.
        let config = SessionConfig::new().with_target_partitions(1);
        let ctx = SessionContext::new_with_config(sluice_udfs::planned_once(config));
        sluice_udfs::register_all(&ctx, udfs);
        let parsed = SlotTable::new("generator", parsed_schema());
        let input = parsed.slot.clone();
        ctx.register_table(PARSED_VIEW, Arc::new(parsed))?;
        let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
        let plan = ctx
            .sql(&events_query()?)
            .await?
            .select_columns(&columns)?
            .create_physical_plan()
            .await?;
        Ok(CleanPlan { plan, input })
    }

    /// The events of one batch of parsed lines.
    pub async fn run(
        &self,
        parsed: RecordBatch,
        ctx: Arc<TaskContext>,
    ) -> Result<Vec<RecordBatch>> {
        self.input.put(parsed);
        collect(Arc::clone(&self.plan), ctx).await
    }
}

/// The query of clean.sql's `INSERT INTO dwd_access`.
fn events_query() -> Result<String> {
    let statements = Parser::parse_sql(&GenericDialect {}, CLEAN_SQL)
        .map_err(|e| DataFusionError::Internal(format!("jobs/clean.sql: {e}")))?;
    statements
        .into_iter()
        .find_map(|statement| match statement {
            Statement::Insert(insert)
                if insert.table.to_string().eq_ignore_ascii_case(EVENTS_TABLE) =>
            {
                insert.source.map(|query| query.to_string())
            }
            _ => None,
        })
        .ok_or_else(|| {
            DataFusionError::Internal(format!(
                "jobs/clean.sql has no INSERT INTO {EVENTS_TABLE} ... SELECT"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::generator::EventColumn;

    /// The plan of every events column, with the default UDF configuration.
    async fn every_column() -> CleanPlan {
        let columns: Vec<String> = EventColumn::ALL.iter().map(|c| c.name().into()).collect();
        CleanPlan::new(&columns, &UdfConfig::default())
            .await
            .unwrap()
    }

    /// The events columns the generator declares are the query's output, name and type.
    #[tokio::test]
    async fn the_clean_query_gives_the_event_columns() {
        let plan = every_column().await;
        let schema = plan.plan.schema();
        let got: Vec<(&str, &DataType)> = schema
            .fields()
            .iter()
            .map(|f| (f.name().as_str(), f.data_type()))
            .collect();
        let declared: Vec<(&str, DataType)> = EventColumn::ALL
            .iter()
            .map(|c| (c.name(), c.data_type()))
            .collect();
        let declared: Vec<(&str, &DataType)> = declared.iter().map(|(n, t)| (*n, t)).collect();
        assert_eq!(got, declared);
    }

    /// A scan that reads no region column does no ip lookup (jobs/pv_uv.sql reads these).
    #[tokio::test]
    async fn columns_not_read_are_not_computed() {
        let columns: Vec<String> = ["event_time", "cms_type", "cms_id", "ip"]
            .map(String::from)
            .to_vec();
        let plan = CleanPlan::new(&columns, &UdfConfig::default())
            .await
            .unwrap();
        let shown = datafusion::physical_plan::displayable(plan.plan.as_ref())
            .indent(true)
            .to_string();
        assert!(!shown.contains("ip_location("), "{shown}");
    }

    /// ip_location runs once per kept row: not once per field read, not before the filter.
    #[tokio::test]
    async fn the_ip_lookup_is_planned_once_after_the_filter() {
        let plan = every_column().await;
        let shown = datafusion::physical_plan::displayable(plan.plan.as_ref())
            .indent(true)
            .to_string();
        assert_eq!(shown.matches("ip_location(").count(), 1, "{shown}");
        let lookup = shown.find("ip_location(").unwrap();
        assert!(shown.find("FilterExec").unwrap() > lookup, "{shown}");
    }

    #[test]
    fn the_query_is_clean_sqls() {
        let query = events_query().unwrap();
        assert!(query.contains("cms_type(url)"), "{query}");
        assert!(query.contains("is_internal_ip"), "{query}");
        assert!(query.contains("FROM parsed"), "{query}");
    }
}
