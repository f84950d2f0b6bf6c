//! Plans a job file: DDL goes to the catalog, views are registered, and every INSERT (and
//! bare SELECT) becomes a physical plan. A view read by several INSERTs is computed once and
//! fanned out to its readers (see `exec::fanout`), so `clean.sql` parses each line once
//! although its good rows and its rejects go to two tables.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use datafusion::catalog::TableProvider;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::source_as_provider;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::ExecutionPlanProperties;
use datafusion::sql::parser::{DFParser, Statement as DFStatement};
use datafusion::sql::sqlparser::ast::Statement as SqlStatement;

use super::session::Session;
use crate::connectors::{self, ConnectorEnv};
use crate::error::{Located, Location, Result, SluiceError};
use crate::exec::Output;
use crate::exec::batch::{JobPlan, PlannedStatement, SharedRelation};
use crate::exec::fanout::FanOutTable;
use crate::job::ExecMode;
use crate::sql::ddl::{option_location, parse_create_table};
use crate::sql::diagnostics::{diagnose, find_word};
use crate::sql::windows::{mentions_group_window, rewrite_group_windows};
use crate::sql::{Script, Statement, StatementKind};

pub(crate) struct ViewStmt {
    name: String,
    statement: Statement,
}

/// Plans every statement of `script` against `session`.
pub async fn plan_job(session: &Session, script: Script) -> Result<JobPlan> {
    let (views, outputs) = declare(session, &script).await?;
    // Which views are read more than once (counting reads through other views)?
    let view_names: HashSet<String> = views.iter().map(|v| v.name.clone()).collect();
    // A statement that reads a shared view twice, or two of them, could stall: a join reads
    // one input to its end before the other, while the producer waits for room in the other
    // channel. Such views are computed once per reader instead.
    let mut total: HashMap<String, usize> = HashMap::new();
    let mut not_shareable: HashSet<String> = HashSet::new();
    for (stmt, _) in &outputs {
        let plan = logical_plan(session, &script, stmt).await?;
        let mut counts = HashMap::new();
        count_scans(&plan, &view_names, &mut counts)
            .map_err(|e| plan_error(session, &script, stmt, e))?;
        let views_read: Vec<(&String, &usize)> = counts
            .iter()
            .filter(|(n, _)| view_names.contains(*n))
            .collect();
        if views_read.len() > 1 || views_read.iter().any(|(_, c)| **c > 1) {
            not_shareable.extend(views_read.iter().map(|(n, _)| (*n).clone()));
        }
        for (name, n) in counts {
            *total.entry(name).or_default() += n;
        }
    }
    let is_shared =
        |name: &str| total.get(name).copied().unwrap_or(0) > 1 && !not_shareable.contains(name);

    // Register the views again, in order, so each binds to the shared relations before it.
    for v in &views {
        session.schema.deregister_view(&v.name);
    }
    let mut shared = Vec::new();
    for v in &views {
        run_ddl(session, &script, &v.statement).await?;
        if !is_shared(&v.name) {
            continue;
        }
        let view = session.schema.registered(&v.name).ok_or_else(|| {
            SluiceError::Catalog(format!("view '{}' vanished while planning", v.name))
        })?;
        let query = view
            .get_logical_plan()
            .map(|p| p.into_owned())
            .ok_or_else(|| SluiceError::Catalog(format!("'{}' is not a view", v.name)))?;
        let plan = session
            .ctx
            .state()
            .create_physical_plan(&query)
            .await
            .map_err(|e| plan_error(session, &script, &v.statement, e))?;
        let partitions = plan.output_partitioning().partition_count();
        let table = Arc::new(FanOutTable::new(&v.name, view.schema(), partitions));
        session
            .schema
            .replace_table(&v.name, Arc::clone(&table) as Arc<dyn TableProvider>);
        shared.push(SharedRelation {
            name: v.name.clone(),
            table,
            plan,
        });
    }

    let mut statements = Vec::new();
    for (stmt, output) in outputs {
        let logical = logical_plan(session, &script, &stmt).await?;
        let plan = session
            .ctx
            .state()
            .create_physical_plan(&logical)
            .await
            .map_err(|e| plan_error(session, &script, &stmt, e))?;
        statements.push(PlannedStatement {
            statement: stmt,
            output,
            plan,
        });
    }
    Ok(JobPlan {
        script,
        shared,
        statements,
    })
}

/// Runs the job's DDL (CREATE TABLE into the catalog, views, SET) in order and returns its
/// views and the statements that produce rows, each with what it writes to.
pub(crate) async fn declare(
    session: &Session,
    script: &Script,
) -> Result<(Vec<ViewStmt>, Vec<(Statement, Output)>)> {
    let mut views: Vec<ViewStmt> = Vec::new();
    let mut outputs: Vec<(Statement, Output)> = Vec::new();

    for stmt in &script.statements {
        match stmt.kind {
            StatementKind::CreateTable => declare_table(session, script, stmt)?,
            StatementKind::CreateView => {
                let name = view_name(script, stmt)?;
                run_ddl(session, script, stmt).await?;
                views.push(ViewStmt {
                    name,
                    statement: stmt.clone(),
                });
            }
            StatementKind::Set => run_ddl(session, script, stmt).await?,
            StatementKind::Insert => {
                let table = insert_target(script, stmt)?;
                let target = Output::Table(table.clone());
                if let Some((first, _)) = outputs.iter().find(|(_, o)| *o == target) {
                    return Err(located(
                        script,
                        stmt.start,
                        &format!(
                            "'{table}' is already written by the INSERT at line {}",
                            first.start.line
                        ),
                        Some(
                            "the INSERTs of a job run together: combine them with UNION ALL into one INSERT",
                        ),
                    ));
                }
                outputs.push((stmt.clone(), target));
            }
            StatementKind::Query => outputs.push((stmt.clone(), Output::Print)),
            StatementKind::Other => {
                return Err(located(
                    script,
                    stmt.start,
                    "this statement cannot be part of a job",
                    Some(
                        "a job holds CREATE TABLE, CREATE VIEW, SET, INSERT INTO and SELECT statements",
                    ),
                ));
            }
        }
    }

    Ok((views, outputs))
}

/// The logical plan of one statement; group windows (TUMBLE/HOP) are rewritten first.
pub async fn logical_plan(
    session: &Session,
    script: &Script,
    stmt: &Statement,
) -> Result<LogicalPlan> {
    let state = session.ctx.state();
    if !mentions_group_window(stmt) {
        return state
            .create_logical_plan(&stmt.padded)
            .await
            .map_err(|e| plan_error(session, script, stmt, e));
    }
    let mut ast = parse_one(script, stmt)?;
    let stream = session.env.mode == ExecMode::Stream;
    rewrite_group_windows(&mut ast, stream).map_err(|m| {
        let at = ["TUMBLE", "HOP", "SESSION"]
            .iter()
            .find_map(|w| find_word(stmt, w, true))
            .unwrap_or(stmt.start);
        located(script, at, &m, None)
    })?;
    state
        .statement_to_plan(DFStatement::Statement(Box::new(ast)))
        .await
        .map_err(|e| plan_error(session, script, stmt, e))
}

/// Runs a statement that changes the session (CREATE VIEW, SET).
async fn run_ddl(session: &Session, script: &Script, stmt: &Statement) -> Result<()> {
    let plan = logical_plan(session, script, stmt).await?;
    session
        .ctx
        .execute_logical_plan(plan)
        .await
        .map_err(|e| plan_error(session, script, stmt, e))?;
    Ok(())
}

/// Counts reads of each table and view by name. DataFusion expands a view where it is used,
/// into a subquery aliased with the view's name; the expansion's own reads count too.
fn count_scans(
    plan: &LogicalPlan,
    views: &HashSet<String>,
    counts: &mut HashMap<String, usize>,
) -> datafusion::error::Result<()> {
    plan.apply_with_subqueries(|node| {
        match node {
            LogicalPlan::TableScan(scan) => {
                *counts
                    .entry(scan.table_name.table().to_string())
                    .or_default() += 1;
                if let Ok(provider) = source_as_provider(&scan.source)
                    && let Some(inner) = provider.get_logical_plan()
                {
                    count_scans(&inner, views, counts)?;
                }
            }
            LogicalPlan::SubqueryAlias(alias) if views.contains(alias.alias.table()) => {
                *counts.entry(alias.alias.table().to_string()).or_default() += 1;
            }
            _ => {}
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    Ok(())
}

fn declare_table(session: &Session, script: &Script, stmt: &Statement) -> Result<()> {
    let created = parse_create_table(stmt, &script.file).map_err(|e| script.error(e))?;
    // Check the connector options now, while we can still point at them.
    let options = created
        .def
        .resolved_options(&session.catalog().vars)
        .map_err(|e| located(script, stmt.start, &e.to_string(), None))?;
    if let Err(e) = connectors::table_connector(&created.def)
        .and_then(|c| c.check(&created.def, options, &ConnectorEnv::new(session.env.mode)))
    {
        let msg = e.to_string();
        let at = e
            .option()
            .and_then(|k| option_location(stmt, k))
            .or_else(|| option_location(stmt, "connector"))
            .unwrap_or(stmt.start);
        return Err(located(
            script,
            at,
            &msg,
            Some("see the connector options in README.md"),
        ));
    }
    session
        .catalog_mut()
        .add_table(created.def, created.if_not_exists)
        .map_err(|e| located(script, stmt.start, &e.to_string(), None))
}

fn parse_one(script: &Script, stmt: &Statement) -> Result<SqlStatement> {
    let parsed =
        DFParser::parse_sql(&stmt.padded).map_err(|e| script.error(diagnose(stmt, &e, &[])))?;
    match parsed.into_iter().next() {
        Some(DFStatement::Statement(s)) => Ok(*s),
        _ => Err(located(
            script,
            stmt.start,
            "expected one SQL statement",
            None,
        )),
    }
}

fn view_name(script: &Script, stmt: &Statement) -> Result<String> {
    match parse_one(script, stmt)? {
        SqlStatement::CreateView(v) => Ok(normalize_name(&v.name.to_string())),
        _ => Err(located(script, stmt.start, "expected CREATE VIEW", None)),
    }
}

fn insert_target(script: &Script, stmt: &Statement) -> Result<String> {
    match parse_one(script, stmt)? {
        SqlStatement::Insert(insert) => Ok(normalize_name(&insert.table.to_string())),
        _ => Err(located(script, stmt.start, "expected INSERT INTO", None)),
    }
}

/// Unquoted identifiers are case-insensitive (lowercased), as DataFusion does.
fn normalize_name(name: &str) -> String {
    let last = name.rsplit('.').next().unwrap_or(name);
    if last.starts_with('"') || last.starts_with('`') {
        last.trim_matches(['"', '`']).to_string()
    } else {
        last.to_ascii_lowercase()
    }
}

fn located(script: &Script, loc: Location, message: &str, hint: Option<&str>) -> SluiceError {
    let mut e = Located::new(loc, message);
    e.hint = hint.map(str::to_string);
    script.error(e)
}

/// A DataFusion error while planning `stmt`, located in the file.
pub fn plan_error(
    session: &Session,
    script: &Script,
    stmt: &Statement,
    err: DataFusionError,
) -> SluiceError {
    // Connector errors (bad option, missing input) name a table: point at its use.
    if let Some(
        SluiceError::Connector { table, message } | SluiceError::BadOption { table, message, .. },
    ) = external_sluice_error(&err)
    {
        let at = find_word(stmt, table, false).unwrap_or(stmt.start);
        let origin = session
            .catalog()
            .table(table)
            .map(|t| format!("table '{table}' is declared at {}", t.origin));
        return located(
            script,
            at,
            &format!("table '{table}': {message}"),
            origin.as_deref(),
        );
    }
    let known = session.catalog().table_names();
    script.error(diagnose(stmt, &err, &known))
}

fn external_sluice_error(err: &DataFusionError) -> Option<&SluiceError> {
    match err {
        DataFusionError::External(e) => e.downcast_ref::<SluiceError>(),
        DataFusionError::Context(_, inner) => external_sluice_error(inner),
        DataFusionError::Shared(inner) => external_sluice_error(inner),
        _ => None,
    }
}
