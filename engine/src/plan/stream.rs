//! Plans a job for `--mode stream`.
//!
//! Each statement's DataFusion logical plan is cut at its aggregates:
//! - below an aggregate (and everywhere in a statement without one) the plan is stateless: a
//!   DataFusion physical plan whose source scans are slots, executed once per source batch;
//! - each aggregate becomes a window operator (`exec::stream::aggregate`) grouped by the
//!   window marker the stream rewrite put in its GROUP BY, or — over bounded inputs only —
//!   a single global window closed at end of input;
//! - above the aggregates the plan (projections, HAVING, window Top-N, UNION ALL) is again
//!   DataFusion, executed over the rows of the windows that just closed. That is exact
//!   because a closed window's rows are all there at once and are final: a ROW_NUMBER
//!   partitioned by the window sees its whole partition.
//!
//! What cannot run incrementally this way is rejected here, saying what to write instead.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::catalog::{SchemaProvider, TableProvider};
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Column, DFSchema, ScalarValue};
use datafusion::datasource::{provider_as_source, source_as_provider};
use datafusion::error::DataFusionError;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::{
    Aggregate, Expr, LogicalPlan, Projection, SubqueryAlias, TableScanBuilder,
};
use datafusion::optimizer::simplify_expressions::{ExprSimplifier, SimplifyContext};
use datafusion::physical_expr::aggregate::LoweredAggregateBuilder;
use datafusion::physical_expr::create_physical_expr;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};

use super::job::{declare, logical_plan, plan_error};
use super::session::Session;
use crate::checkpoint::state_limit;
use crate::error::{Located, Result, SluiceError};
use crate::exec::Output;
use crate::exec::stream::aggregate::{AggregateCall, WindowAggregateSpec};
use crate::exec::stream::graph::{
    AggregateStage, LateSink, Pipeline, SinkPlan, StatementBody, StreamJob, StreamSettings,
    StreamSource, StreamStatement,
};
use crate::exec::stream::late::LateOutput;
use crate::exec::stream::window::WindowKind;
use crate::sql::windows::STREAM_WINDOW_FUNCTION;
use crate::sql::{Script, Statement};
use crate::wire::{CHANNEL_CAPACITY, Closing, Slot, SlotTable, channel_exec};

/// How long a source may stay silent before it stops holding back the watermark of
/// statements that read other sources too, unless `idle_timeout_ms` says otherwise.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(5);

/// Plans every statement of `script` for a stream run.
pub async fn plan_stream_job(session: &Session, script: Script) -> Result<StreamJob> {
    let (_views, outputs) = declare(session, &script).await?;
    let mut sources: Vec<StreamSource> = Vec::new();
    let mut statements = Vec::new();
    for (stmt, output) in outputs {
        let planned = plan_statement(session, &script, &stmt, output, &mut sources).await?;
        statements.push(planned);
    }
    Ok(StreamJob {
        script,
        sources,
        statements,
        late: plan_late_sink(session).await?,
        settings: stream_settings(session)?,
    })
}

/// The job's settings from the catalog's variables.
fn stream_settings(session: &Session) -> Result<StreamSettings> {
    let vars = &session.catalog().vars;
    let idle_timeout = match vars.lookup("idle_timeout_ms")? {
        Some(ms) => Duration::from_millis(ms.trim().parse().map_err(|_| {
            SluiceError::Variable(format!("idle_timeout_ms = '{ms}' is not a number"))
        })?),
        None => DEFAULT_IDLE_TIMEOUT,
    };
    Ok(StreamSettings {
        idle_timeout,
        state_limit: state_limit(vars)?,
    })
}

/// The sink of `table` (or the rows to print), fed over a channel the runner sends to.
async fn plan_sink(
    session: &Session,
    output: &Output,
    schema: &SchemaRef,
) -> datafusion::error::Result<SinkPlan> {
    let (input, rx) = tokio::sync::mpsc::channel(CHANNEL_CAPACITY);
    let feed = channel_exec(Arc::clone(schema), rx, Closing::Ends)?;
    let plan = match output {
        Output::Print => feed,
        Output::Table(table) => {
            let provider = session.ctx.table_provider(table.as_str()).await?;
            provider
                .insert_into(
                    &session.ctx.state(),
                    feed,
                    datafusion::logical_expr::dml::InsertOp::Append,
                )
                .await?
        }
    };
    Ok(SinkPlan {
        plan,
        input,
        schema: Arc::clone(schema),
    })
}

/// The table named by `late_output`, checked to have the late-output columns.
async fn plan_late_sink(session: &Session) -> Result<Option<LateSink>> {
    let Some(table) = session.catalog().vars.lookup("late_output")? else {
        return Ok(None);
    };
    let fail = |m: String| SluiceError::Variable(format!("late_output = '{table}': {m}"));
    let Some(provider) = SchemaProvider::table(session.schema.as_ref(), &table)
        .await
        .map_err(|e| fail(e.to_string()))?
    else {
        let known = session.catalog().table_names().join(", ");
        return Err(fail(format!(
            "there is no table '{table}' in the catalog (its tables: {known})"
        )));
    };
    LateOutput::check(&provider.schema(), &table).map_err(fail)?;
    let sink = plan_sink(session, &Output::Table(table.clone()), &provider.schema())
        .await
        .map_err(|e| fail(e.to_string()))?;
    Ok(Some(LateSink { table, sink }))
}

async fn plan_statement(
    session: &Session,
    script: &Script,
    stmt: &Statement,
    output: Output,
    sources: &mut Vec<StreamSource>,
) -> Result<StreamStatement> {
    let at = StatementAt {
        session,
        script,
        stmt,
    };
    let state = session.ctx.state();
    let logical = logical_plan(session, script, stmt).await?;
    // The rows an INSERT writes are its input (already cast to the table's columns).
    let query = match logical {
        LogicalPlan::Dml(dml) => Arc::unwrap_or_clone(dml.input),
        other => other,
    };
    let query = inline_views(query).map_err(|e| at.df(e))?;
    let query = state
        .analyzer()
        .execute_and_check(query, state.config_options(), |_, _| {})
        .map_err(|e| at.df(e))?;
    let (query, scanned) = scans_to_slots(query).map_err(|e| at.df(e))?;
    let read = open_sources(session, scanned, sources)
        .await
        .map_err(|e| at.df(e))?;

    let schema = Arc::new(query.schema().as_arrow().clone());
    let sink = plan_sink(session, &output, &schema)
        .await
        .map_err(|e| at.df(e))?;
    let body = if contains_aggregate(&query) {
        plan_windowed(&at, query, &read, sources).await?
    } else {
        check_row_wise(&query).map_err(|e| at.refused(e))?;
        let plan = state
            .create_physical_plan(&query)
            .await
            .map_err(|e| at.df(e))?;
        StatementBody::Stateless(pipeline(sources, plan, &query))
    };
    Ok(StreamStatement {
        statement: stmt.clone(),
        output,
        schema,
        body,
        sources: read,
        sink,
    })
}

/// The statement being planned, for its errors.
struct StatementAt<'a> {
    session: &'a Session,
    script: &'a Script,
    stmt: &'a Statement,
}

impl StatementAt<'_> {
    /// A DataFusion error, located in the statement.
    fn df(&self, e: DataFusionError) -> SluiceError {
        plan_error(self.session, self.script, self.stmt, e)
    }

    /// A shape the stream planner refuses, at the statement unless placed.
    fn refused(&self, e: Located) -> SluiceError {
        self.script.error(e.or_at(self.stmt.start))
    }
}

/// Tables a statement scans, with their providers.
type Scanned = Vec<(String, Arc<dyn TableProvider>)>;

/// Source scans become slots (every source is scanned once for the whole job); also the
/// tables scanned.
fn scans_to_slots(query: LogicalPlan) -> datafusion::error::Result<(LogicalPlan, Scanned)> {
    let mut scanned = Vec::new();
    let query = query
        .transform_up(|node| {
            let LogicalPlan::TableScan(scan) = &node else {
                return Ok(Transformed::no(node));
            };
            if SlotTable::is_slot(&scan.source) {
                return Ok(Transformed::no(node));
            }
            let name = scan.table_name.table().to_string();
            let provider = source_as_provider(&scan.source)?;
            scanned.push((name.clone(), Arc::clone(&provider)));
            let slot = SlotTable::new(name, provider.schema());
            let replaced =
                TableScanBuilder::new(scan.table_name.clone(), provider_as_source(Arc::new(slot)))
                    .with_projection(scan.projection.clone())
                    .with_filters(scan.filters.clone())
                    .with_fetch(scan.fetch)
                    .build()?;
            Ok(Transformed::yes(LogicalPlan::TableScan(replaced)))
        })?
        .data;
    Ok((query, scanned))
}

/// The job's index of every source `scanned` reads, opening those no earlier statement read.
async fn open_sources(
    session: &Session,
    scanned: Scanned,
    sources: &mut Vec<StreamSource>,
) -> datafusion::error::Result<Vec<usize>> {
    let mut read = Vec::new();
    for (name, provider) in scanned {
        let index = match sources.iter().position(|s| s.name == name) {
            Some(i) => i,
            None => {
                sources.push(open_source(session, &name, provider).await?);
                sources.len() - 1
            }
        };
        if !read.contains(&index) {
            read.push(index);
        }
    }
    Ok(read)
}

/// `plan` with the job sources feeding its slots.
fn pipeline(
    sources: &[StreamSource],
    plan: Arc<dyn ExecutionPlan>,
    logical: &LogicalPlan,
) -> Pipeline {
    let slots = SlotTable::all_in(logical)
        .into_iter()
        .filter_map(|(feeder, slot)| {
            let source = sources.iter().position(|s| s.name == feeder)?;
            Some((source, slot))
        })
        .collect();
    Pipeline { plan, slots }
}

/// A statement with aggregates: its window stages and the plan above them.
async fn plan_windowed(
    at: &StatementAt<'_>,
    query: LogicalPlan,
    read: &[usize],
    sources: &[StreamSource],
) -> Result<StatementBody> {
    let mut cut = Cut::default();
    let upper = cut.split(query).map_err(|e| at.refused(e))?;
    if cut.stages.iter().all(|s| s.kind == WindowKind::Global) {
        let unbounded: Vec<&str> = read
            .iter()
            .filter(|&&i| sources[i].unbounded)
            .map(|&i| sources[i].name.as_str())
            .collect();
        if !unbounded.is_empty() {
            return Err(at.refused(refuse(
                format!(
                    "this GROUP BY has no window, so over the unbounded source '{}' it would never emit",
                    unbounded.join("', '")
                ),
                Some(
                    "group by an event-time window, e.g. GROUP BY TUMBLE(event_time, INTERVAL '1' MINUTE), ..., or run the job with --mode batch",
                ),
            )));
        }
    } else {
        check_upper(&upper, &cut).map_err(|e| at.refused(e))?;
    }
    let mut stages = Vec::new();
    for pending in cut.stages {
        stages.push(plan_stage(at, pending, sources).await?);
    }
    let state = at.session.ctx.state();
    let upper = state
        .create_physical_plan(&upper)
        .await
        .map_err(|e| at.df(e))?;
    Ok(StatementBody::Windowed { stages, upper })
}

/// One window aggregate cut out of a statement, as the operator runs it.
async fn plan_stage(
    at: &StatementAt<'_>,
    pending: PendingStage,
    sources: &[StreamSource],
) -> Result<AggregateStage> {
    let df = |e| at.df(e);
    let state = at.session.ctx.state();
    let input_plan = state
        .create_physical_plan(&pending.input)
        .await
        .map_err(df)?;
    let input_schema = input_plan.schema();
    let input_df = pending.input.schema();
    let props = state.execution_props();
    let planning = PhysicalPlanningContext::default();
    // The cut-out expressions did not go through the optimizer: simplify them as it would
    // (COALESCE, for one, runs only as the CASE it simplifies to).
    let context = SimplifyContext::builder()
        .with_schema(Arc::clone(input_df))
        .build();
    let simplifier = ExprSimplifier::new(context);
    let simplified = |e: &Expr| simplifier.simplify(e.clone());
    let physical = |e: &Expr| create_physical_expr(&simplified(e)?, input_df, props, &planning);
    let time = match &pending.time {
        Some(t) => Some(physical(t).map_err(df)?),
        None => None,
    };
    let keys = pending
        .keys
        .iter()
        .map(physical)
        .collect::<datafusion::error::Result<Vec<_>>>()
        .map_err(df)?;
    let mut aggregates = Vec::new();
    for e in &pending.aggregates {
        let e = &simplified(e).map_err(df)?;
        let lowered = LoweredAggregateBuilder::new(e, input_df, &input_schema, props, &planning)
            .build()
            .map_err(df)?;
        if !lowered.order_bys.is_empty() {
            return Err(at.refused(refuse(
                "aggregates with ORDER BY inside run in batch mode only",
                None,
            )));
        }
        aggregates.push(AggregateCall {
            function: lowered.aggregate,
            filter: lowered.filter,
        });
    }
    let input = pipeline(sources, Arc::clone(&input_plan), &pending.input);
    if time.is_some()
        && let Some(&(i, _)) = input
            .slots
            .iter()
            .find(|(i, _)| sources[*i].watermark.is_none())
    {
        return Err(at.refused(refuse(
            format!(
                "a window over '{}' needs event time, but the table declares no watermark",
                sources[i].name
            ),
            Some(
                "declare one: WATERMARK FOR event_time AS event_time - INTERVAL '5' SECOND (in CREATE TABLE or the catalog's `watermark:`)",
            ),
        )));
    }
    Ok(AggregateStage {
        input,
        spec: WindowAggregateSpec {
            kind: pending.kind,
            time,
            window_position: pending.window_position,
            keys,
            aggregates,
            input_schema,
            output_schema: Arc::new(pending.output.as_arrow().clone()),
        },
        output: pending.slot,
    })
}

async fn open_source(
    session: &Session,
    name: &str,
    provider: Arc<dyn TableProvider>,
) -> datafusion::error::Result<StreamSource> {
    let state = session.ctx.state();
    let plan = provider.scan(&state, None, &[], None).await?;
    let unbounded = plan.boundedness().is_unbounded();
    let watermark_sql = {
        let catalog = session.catalog();
        match catalog.table(name).and_then(|t| t.watermark.as_ref()) {
            Some(w) => Some(
                catalog
                    .vars
                    .expand(&w.expr)
                    .map_err(|e| DataFusionError::Plan(format!("table '{name}': {e}")))?,
            ),
            None => None,
        }
    };
    let watermark = match &watermark_sql {
        Some(sql) => {
            let schema = DFSchema::try_from(provider.schema().as_ref().clone())?;
            let expr = session.ctx.parse_sql_expr(sql, &schema)?;
            Some(session.ctx.create_physical_expr(expr, &schema)?)
        }
        None => None,
    };
    Ok(StreamSource {
        name: name.to_string(),
        plan,
        watermark_sql,
        watermark,
        unbounded,
    })
}

/// Views are scans of a view provider before analysis: put their query in place, so their
/// own source scans become slots too.
fn inline_views(plan: LogicalPlan) -> datafusion::error::Result<LogicalPlan> {
    plan.transform_up(|node| {
        let LogicalPlan::TableScan(scan) = &node else {
            return Ok(Transformed::no(node));
        };
        let Some(inner) = source_as_provider(&scan.source)?
            .get_logical_plan()
            .map(|p| p.into_owned())
        else {
            return Ok(Transformed::no(node));
        };
        let inner = inline_views(inner)?;
        let aliased = LogicalPlan::SubqueryAlias(SubqueryAlias::try_new(
            Arc::new(inner),
            scan.table_name.clone(),
        )?);
        Ok(Transformed::yes(aliased))
    })
    .map(|t| t.data)
}

fn contains_aggregate(plan: &LogicalPlan) -> bool {
    plan.exists(|n| Ok(matches!(n, LogicalPlan::Aggregate(_))))
        .unwrap_or(false)
}

/// An aggregate cut out of a statement, before physical planning.
struct PendingStage {
    input: LogicalPlan,
    kind: WindowKind,
    time: Option<Expr>,
    window_position: usize,
    keys: Vec<Expr>,
    aggregates: Vec<Expr>,
    output: Arc<DFSchema>,
    slot: Slot,
    /// The name of the slot table standing for the aggregate in the plan above.
    table: String,
}

/// A query shape the stream planner refuses, with what to do instead; placed at the statement.
fn refuse(message: impl Into<String>, hint: Option<&str>) -> Located {
    let refusal = Located::unplaced(message);
    match hint {
        Some(h) => refusal.with_hint(h),
        None => refusal,
    }
}

#[derive(Default)]
struct Cut {
    stages: Vec<PendingStage>,
}

const GLOBAL_ORDER_HINT: &str = "order within windows instead: ROW_NUMBER() OVER (PARTITION BY window_end ORDER BY ...) AS rn ... WHERE rn <= N";

impl Cut {
    /// Replaces every aggregate of `plan` by a scan of its closed windows.
    fn split(&mut self, plan: LogicalPlan) -> std::result::Result<LogicalPlan, Located> {
        match plan {
            LogicalPlan::Aggregate(agg) => self.cut_aggregate(agg),
            LogicalPlan::Projection(_)
            | LogicalPlan::Filter(_)
            | LogicalPlan::SubqueryAlias(_)
            | LogicalPlan::Union(_)
            | LogicalPlan::Window(_)
            | LogicalPlan::Sort(_)
            | LogicalPlan::Limit(_) => {
                let inputs: Vec<LogicalPlan> =
                    plan.inputs().into_iter().cloned().collect::<Vec<_>>();
                let mut new_inputs = Vec::with_capacity(inputs.len());
                for input in inputs {
                    if !contains_aggregate(&input) {
                        return Err(refuse(
                            "this query mixes rows of window aggregates with rows that are not aggregated",
                            Some("aggregate every branch of the UNION by the same windows"),
                        ));
                    }
                    new_inputs.push(self.split(input)?);
                }
                plan.with_new_exprs(plan.expressions(), new_inputs)
                    .map_err(|e| refuse(e.to_string(), None))
            }
            LogicalPlan::Join(_) => Err(refuse(
                "joins run in batch mode only so far",
                Some("run the job with --mode batch"),
            )),
            other => Err(refuse(
                format!(
                    "{} over window aggregates is not supported in stream mode",
                    other.display()
                ),
                Some("run the job with --mode batch"),
            )),
        }
    }
    /// Cuts out one aggregate: it becomes a stage (what it reads, its window, keys and
    /// aggregates) and, in the plan above, a scan of the stage's closed windows.
    fn cut_aggregate(&mut self, agg: Aggregate) -> std::result::Result<LogicalPlan, Located> {
        check_row_wise(&agg.input)?;
        if contains_aggregate(&agg.input) {
            return Err(refuse(
                "an aggregate over another aggregate cannot run in stream mode yet",
                Some("aggregate once per window; run multi-level aggregations with --mode batch"),
            ));
        }
        let mut kind = WindowKind::Global;
        let mut time = None;
        let mut window_position = 0;
        let mut keys = Vec::new();
        for (i, e) in agg.group_expr.iter().enumerate() {
            match window_marker(e) {
                Some(Ok((t, k))) => {
                    if time.is_some() {
                        return Err(refuse("GROUP BY holds two windows", None));
                    }
                    time = Some(t);
                    kind = k;
                    window_position = i;
                }
                Some(Err(m)) => return Err(refuse(m, None)),
                None => {
                    if matches!(e, Expr::GroupingSet(_)) {
                        return Err(refuse(
                            "GROUPING SETS, CUBE and ROLLUP run in batch mode only",
                            None,
                        ));
                    }
                    keys.push(e.clone())
                }
            }
        }
        let n = self.stages.len();
        let table = format!("__window_aggregate_{n}");
        let output = Arc::clone(&agg.schema);
        let fields: Vec<Field> = output
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| Field::new(format!("c{i}"), f.data_type().clone(), true))
            .collect();
        let slot_table = SlotTable::new(table.clone(), Arc::new(Schema::new(fields)));
        let slot = slot_table.slot.clone();
        let scan = LogicalPlan::TableScan(
            TableScanBuilder::new(table.as_str(), provider_as_source(Arc::new(slot_table)))
                .build()
                .map_err(|e| refuse(e.to_string(), None))?,
        );
        // Give the columns back the aggregate's names, so the plan above resolves.
        let exprs = output
            .iter()
            .enumerate()
            .map(|(i, (qualifier, f))| {
                Expr::Column(Column::new(Some(table.as_str()), format!("c{i}")))
                    .alias_qualified(qualifier.cloned(), f.name())
            })
            .collect();
        let renamed =
            Projection::try_new(exprs, Arc::new(scan)).map_err(|e| refuse(e.to_string(), None))?;
        let input = columns_read(&agg).map_err(|e| refuse(e.to_string(), None))?;
        self.stages.push(PendingStage {
            input,
            kind,
            time,
            window_position,
            keys,
            aggregates: agg.aggr_expr.clone(),
            output,
            slot,
            table,
        });
        Ok(LogicalPlan::Projection(renamed))
    }
}

/// The input of `agg` with only the columns it reads: only those flow into the stage (the
/// optimizer pushes this projection down to the source scan).
fn columns_read(agg: &Aggregate) -> datafusion::error::Result<LogicalPlan> {
    let mut used: Vec<Column> = Vec::new();
    for e in agg.group_expr.iter().chain(&agg.aggr_expr) {
        for c in e.column_refs() {
            if !used.contains(c) {
                used.push(c.clone());
            }
        }
    }
    if used.is_empty() {
        return Ok(agg.input.as_ref().clone());
    }
    Ok(LogicalPlan::Projection(Projection::try_new(
        used.into_iter().map(Expr::Column).collect(),
        Arc::clone(&agg.input),
    )?))
}

/// Below the aggregates (and in a statement without one) the plan runs once per input batch,
/// which is exact for row-by-row work only.
fn check_row_wise(plan: &LogicalPlan) -> std::result::Result<(), Located> {
    first_failure(plan, |node| match node {
        LogicalPlan::Sort(_) | LogicalPlan::Limit(_) => Some(refuse(
            "ORDER BY or LIMIT over a stream's rows never completes",
            Some(GLOBAL_ORDER_HINT),
        )),
        LogicalPlan::Distinct(_) => Some(refuse(
            "DISTINCT over a stream's rows never completes",
            Some(
                "group by a window instead: GROUP BY TUMBLE(event_time, INTERVAL '1' MINUTE), ...",
            ),
        )),
        LogicalPlan::Window(_) => Some(refuse(
            "a window function over a stream's rows needs a window aggregate below it",
            Some(GLOBAL_ORDER_HINT),
        )),
        LogicalPlan::Join(_) => Some(refuse(
            "joins run in batch mode only so far",
            Some("run the job with --mode batch"),
        )),
        _ => None,
    })
}

/// The first failure `check` finds walking `plan` top-down; aggregates (checked on their
/// own) are not entered.
fn first_failure(
    plan: &LogicalPlan,
    check: impl Fn(&LogicalPlan) -> Option<Located>,
) -> std::result::Result<(), Located> {
    let mut failure = None;
    let _ = plan.apply(|node| {
        if matches!(node, LogicalPlan::Aggregate(_)) {
            return Ok(TreeNodeRecursion::Jump);
        }
        failure = check(node);
        Ok(if failure.is_some() {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    });
    match failure {
        Some(f) => Err(f),
        None => Ok(()),
    }
}

/// `sluice_window(ts, slide_ms, size_ms)` in a GROUP BY: the event time and the window.
fn window_marker(e: &Expr) -> Option<std::result::Result<(Expr, WindowKind), String>> {
    let e = match e {
        Expr::Alias(a) => a.expr.as_ref(),
        e => e,
    };
    let Expr::ScalarFunction(ScalarFunction { func, args }) = e else {
        return None;
    };
    if func.name() != STREAM_WINDOW_FUNCTION {
        return None;
    }
    let millis = |e: &Expr| match e {
        Expr::Literal(ScalarValue::Int64(Some(v)), _) => Some(*v),
        Expr::Cast(c) => match c.expr.as_ref() {
            Expr::Literal(ScalarValue::Int64(Some(v)), _) => Some(*v),
            _ => None,
        },
        _ => None,
    };
    Some(match args.as_slice() {
        [ts, slide, size] => match (millis(slide), millis(size)) {
            (Some(0), Some(gap)) if gap > 0 => {
                Ok((ts.clone(), WindowKind::Session { gap_ms: gap }))
            }
            (Some(slide), Some(size)) if slide > 0 && size > 0 => {
                let kind = if slide == size {
                    WindowKind::Tumble { size_ms: size }
                } else {
                    WindowKind::Hop {
                        slide_ms: slide,
                        size_ms: size,
                    }
                };
                Ok((ts.clone(), kind))
            }
            _ => Err("window sizes must be positive interval literals".into()),
        },
        _ => Err(format!("internal error: bad {STREAM_WINDOW_FUNCTION} call")),
    })
}

/// Above windowed aggregates only row-wise work is exact per closed window — and window
/// functions partitioned by the window. A global sort or limit never completes.
fn check_upper(plan: &LogicalPlan, cut: &Cut) -> std::result::Result<(), Located> {
    let windowed: HashMap<&str, String> = cut
        .stages
        .iter()
        .filter(|s| s.kind != WindowKind::Global)
        .map(|s| (s.table.as_str(), format!("c{}", s.window_position)))
        .collect();
    first_failure(plan, |node| match node {
        LogicalPlan::Sort(_) | LogicalPlan::Limit(_) => Some(refuse(
            "a global ORDER BY or LIMIT never completes on a stream",
            Some(GLOBAL_ORDER_HINT),
        )),
        LogicalPlan::Window(w) => {
            let partitioned = w.window_expr.iter().all(|e| match e {
                Expr::WindowFunction(f) => f
                    .params
                    .partition_by
                    .iter()
                    .any(|p| traces_to_window(&w.input, p, &windowed)),
                _ => false,
            });
            (!partitioned).then(|| {
                refuse(
                    "in stream mode a window function must be partitioned by the window (window_start or window_end)",
                    Some(GLOBAL_ORDER_HINT),
                )
            })
        }
        _ => None,
    })
}

/// Whether `expr`, over the output of `plan`, is computed from a window's start: the
/// window column of a windowed aggregate's slot (`windowed`: slot table → column).
fn traces_to_window(plan: &LogicalPlan, expr: &Expr, windowed: &HashMap<&str, String>) -> bool {
    expr.column_refs()
        .iter()
        .any(|c| column_traces(plan, &c.name, windowed))
}

fn column_traces(plan: &LogicalPlan, name: &str, windowed: &HashMap<&str, String>) -> bool {
    match plan {
        LogicalPlan::Projection(p) => p
            .schema
            .fields()
            .iter()
            .position(|f| f.name() == name)
            .is_some_and(|i| traces_to_window(&p.input, &p.expr[i], windowed)),
        LogicalPlan::TableScan(scan) => windowed
            .get(scan.table_name.table())
            .is_some_and(|c| c == name),
        LogicalPlan::Union(u) => u.inputs.iter().all(|i| column_traces(i, name, windowed)),
        other => other
            .inputs()
            .first()
            .is_some_and(|i| column_traces(i, name, windowed)),
    }
}

/// The operator graph of a stream job, stateful operators marked, for `sluice explain`.
pub fn explain_stream(job: &StreamJob) -> String {
    use datafusion::physical_plan::displayable;
    use std::fmt::Write;
    // A plan's tree, each line indented by `by`.
    let indent = |plan: &dyn ExecutionPlan, by: &str| -> String {
        let tree = displayable(plan).indent(true).to_string();
        tree.lines().map(|l| format!("{by}{l}\n")).collect()
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nsources (each read once, fanned out to its statements):"
    );
    for s in &job.sources {
        let _ = writeln!(
            out,
            "  {} ({}; watermark {})",
            s.name,
            if s.unbounded { "unbounded" } else { "bounded" },
            s.watermark_sql.as_deref().unwrap_or("none")
        );
    }
    for stmt in &job.statements {
        let target = match &stmt.output {
            Output::Table(t) => format!("INSERT INTO {t}"),
            Output::Print => "SELECT (printed)".to_string(),
        };
        let reads: Vec<&str> = stmt
            .sources
            .iter()
            .map(|&i| job.sources[i].name.as_str())
            .collect();
        let _ = writeln!(
            out,
            "\n{}:{}: {target}   <- {}",
            job.script.file,
            stmt.statement.start,
            reads.join(", ")
        );
        match &stmt.body {
            StatementBody::Stateless(p) => {
                let _ = writeln!(out, "  stateless, per input batch:");
                out += &indent(p.plan.as_ref(), "    ");
            }
            StatementBody::Windowed { stages, upper } => {
                for (n, stage) in stages.iter().enumerate() {
                    let spec = &stage.spec;
                    let keys: Vec<String> = spec.keys.iter().map(|k| k.to_string()).collect();
                    let aggs: Vec<String> = spec
                        .aggregates
                        .iter()
                        .map(|a| a.function.name().to_string())
                        .collect();
                    let _ = writeln!(
                        out,
                        "  [stateful] WindowAggregate #{n}: {} on {}, keys [{}], aggregates [{}]; emits a window when the watermark passes its end",
                        spec.kind.describe(),
                        spec.time
                            .as_ref()
                            .map(|t| t.to_string())
                            .unwrap_or_else(|| "-".into()),
                        keys.join(", "),
                        aggs.join(", ")
                    );
                    let _ = writeln!(out, "    fed by, per input batch:");
                    out += &indent(stage.input.plan.as_ref(), "      ");
                }
                let _ = writeln!(
                    out,
                    "  over the windows that close (window Top-N, projections):"
                );
                out += &indent(upper.as_ref(), "    ");
            }
        }
        let _ = writeln!(out, "  sink:");
        out += &indent(stmt.sink.plan.as_ref(), "    ");
    }
    if let Some(late) = &job.late {
        let _ = writeln!(out, "\nlate rows (late_output) -> {}:", late.table);
        out += &indent(late.sink.plan.as_ref(), "  ");
    }
    let _ = writeln!(
        out,
        "\nsettings: idle timeout {} ms, state limit {}",
        job.settings.idle_timeout.as_millis(),
        job.settings
            .state_limit
            .map(|b| indicatif::HumanBytes(b).to_string())
            .unwrap_or_else(|| "none".into())
    );
    out
}

#[cfg(test)]
mod tests {
    //! The cut on small hand-made statements: which aggregates become window stages, what
    //! flows into them, and which shapes are refused.

    use super::*;
    use crate::catalog::{Catalog, Vars};
    use crate::error::Location;
    use crate::job::ExecMode;

    const TABLES: &str = "
CREATE TABLE events (ts TIMESTAMP(3), course STRING, user_id STRING, bytes BIGINT,
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND) WITH ('connector' = 'memory');
CREATE TABLE courses (course STRING, title STRING) WITH ('connector' = 'memory');
CREATE TABLE out_t (a TIMESTAMP(3), b STRING, c BIGINT) WITH ('connector' = 'memory');
";

    /// The query `insert` (an INSERT INTO out_t) reads, cut into window stages.
    async fn cut(insert: &str) -> std::result::Result<(Cut, LogicalPlan), Located> {
        let session = Session::new(Catalog::empty(Vars::default()), ExecMode::Stream).unwrap();
        let script = Script::parse("t.sql", &format!("{TABLES}{insert};")).unwrap();
        let (_, outputs) = declare(&session, &script).await.unwrap();
        let (stmt, _) = &outputs[0];
        let LogicalPlan::Dml(dml) = logical_plan(&session, &script, stmt).await.unwrap() else {
            panic!("an INSERT plans as DML");
        };
        let mut cut = Cut::default();
        let upper = cut.split(Arc::unwrap_or_clone(dml.input))?;
        Ok((cut, upper))
    }

    fn refusal(result: std::result::Result<(Cut, LogicalPlan), Located>) -> Located {
        match result {
            Ok((cut, upper)) => panic!("cut into {} stages: {upper}", cut.stages.len()),
            Err(e) => e,
        }
    }

    #[tokio::test]
    async fn a_window_aggregate_becomes_one_stage_reading_only_what_it_needs() {
        let (cut, upper) = cut("INSERT INTO out_t \
             SELECT TUMBLE_END(ts, INTERVAL '1' MINUTE), course, COUNT(DISTINCT user_id) \
             FROM events GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE), course")
        .await
        .unwrap();
        assert_eq!(cut.stages.len(), 1);
        let stage = &cut.stages[0];
        assert_eq!(stage.kind, WindowKind::Tumble { size_ms: 60_000 });
        assert!(stage.time.is_some());
        assert_eq!(stage.window_position, 0);
        assert_eq!(stage.keys.len(), 1);
        assert_eq!(stage.aggregates.len(), 1);
        // `bytes` is not read by the aggregate: it does not flow into the stage.
        let read: Vec<&str> = stage
            .input
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        assert_eq!(read, ["ts", "course", "user_id"]);
        // Above the cut, the aggregate is a scan of the stage's closed windows.
        let upper = upper.display_indent().to_string();
        assert!(upper.contains("TableScan: __window_aggregate_0"), "{upper}");
        assert!(!upper.contains("Aggregate:"), "{upper}");
    }

    #[tokio::test]
    async fn every_branch_of_a_union_is_a_stage_of_its_own() {
        let (cut, _) = cut("INSERT INTO out_t \
             SELECT TUMBLE_END(ts, INTERVAL '1' MINUTE), course, COUNT(*) FROM events \
             GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE), course \
             UNION ALL \
             SELECT HOP_END(ts, INTERVAL '1' MINUTE, INTERVAL '5' MINUTE), course, SUM(bytes) \
             FROM events GROUP BY HOP(ts, INTERVAL '1' MINUTE, INTERVAL '5' MINUTE), course")
        .await
        .unwrap();
        let kinds: Vec<WindowKind> = cut.stages.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [
                WindowKind::Tumble { size_ms: 60_000 },
                WindowKind::Hop {
                    slide_ms: 60_000,
                    size_ms: 300_000
                }
            ]
        );
        assert_eq!(cut.stages[1].table, "__window_aggregate_1");
    }

    #[tokio::test]
    async fn an_aggregate_over_an_aggregate_is_refused() {
        let e = refusal(
            cut("INSERT INTO out_t SELECT w, 'x', COUNT(*) FROM (\
                 SELECT TUMBLE_END(ts, INTERVAL '1' MINUTE) AS w, course, COUNT(*) AS n FROM events \
                 GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE), course) GROUP BY w")
            .await,
        );
        assert!(
            e.message.contains("an aggregate over another aggregate"),
            "{e:?}"
        );
        assert!(e.hint.is_some());
        assert_eq!(e.location, Location::default(), "placed by the caller");
    }

    #[tokio::test]
    async fn a_join_under_a_window_is_refused_with_a_hint() {
        let e = refusal(
            cut("INSERT INTO out_t \
                 SELECT TUMBLE_END(e.ts, INTERVAL '1' MINUTE), c.title, COUNT(*) \
                 FROM events e JOIN courses c ON e.course = c.course \
                 GROUP BY TUMBLE(e.ts, INTERVAL '1' MINUTE), c.title")
            .await,
        );
        assert!(e.message.contains("joins run in batch mode only"), "{e:?}");
        assert_eq!(e.hint.as_deref(), Some("run the job with --mode batch"));
    }

    #[tokio::test]
    async fn mixing_aggregated_and_plain_rows_is_refused() {
        let e = refusal(
            cut("INSERT INTO out_t \
                 SELECT TUMBLE_END(ts, INTERVAL '1' MINUTE), course, COUNT(*) FROM events \
                 GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE), course \
                 UNION ALL SELECT ts, course, bytes FROM events")
            .await,
        );
        assert!(
            e.message.contains("mixes rows of window aggregates"),
            "{e:?}"
        );
    }
}
