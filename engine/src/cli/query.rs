//! `sluice query "<SQL>"`

use super::output::print_batches;
use super::{Cli, Format};
use crate::job::ExecMode;
use crate::plan::Session;
use crate::plan::job::{logical_plan, plan_error};
use crate::sql::{Script, StatementKind};

pub async fn query(cli: &Cli, sql: &str, format: Format) -> anyhow::Result<i32> {
    let catalog = cli.load_catalog()?;
    let sql = catalog.vars.expand_sql(sql)?;
    let script = Script::parse("<query>", &sql)?;
    let session = Session::new(catalog, ExecMode::Batch)?;
    let mut stdout = std::io::stdout().lock();
    for stmt in &script.statements {
        if stmt.kind == StatementKind::Insert {
            anyhow::bail!(
                "<query>:{}: use `sluice run` for INSERT statements",
                stmt.start
            );
        }
        let plan = logical_plan(&session, &script, stmt).await?;
        let df = session
            .ctx
            .execute_logical_plan(plan)
            .await
            .map_err(|e| plan_error(&session, &script, stmt, e))?;
        let batches = df
            .collect()
            .await
            .map_err(|e| plan_error(&session, &script, stmt, e))?;
        print_batches(&batches, format, &mut stdout)?;
    }
    Ok(0)
}
