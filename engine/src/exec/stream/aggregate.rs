//! The window aggregate: partial aggregate state per (window, key), emitted once the
//! watermark passes the window's end and then freed.
//!
//! The aggregates themselves are DataFusion's (`GroupsAccumulator`s, or its adapter over
//! plain `Accumulator`s), except COUNT(DISTINCT) (see `DistinctCount`): one accumulator set
//! per open window, with the window's keys numbered as groups. The state is plain data — key rows and accumulator
//! state arrays — so it can be snapshotted and restored.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BinaryBuilder, BooleanArray, Int64Array, ListBuilder, RecordBatch,
    RecordBatchOptions, TimestampMillisecondArray, UInt32Array,
};
use datafusion::arrow::compute::{cast, filter_record_batch, take};
use datafusion::arrow::datatypes::{
    DataType, Field, Schema, SchemaRef, TimeUnit, TimestampMillisecondType,
};
use datafusion::arrow::ipc::reader::FileReader;
use datafusion::arrow::ipc::writer::FileWriter;
use datafusion::arrow::row::{RowConverter, Rows, SortField};
use datafusion::common::{HashMap, HashSet};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{EmitTo, GroupsAccumulator};
use datafusion::physical_expr::aggregate::AggregateFunctionExpr;
use datafusion::physical_expr::{GroupsAccumulatorAdapter, PhysicalExpr};

use super::window::{GLOBAL_WINDOW, WindowKind};

/// One aggregate call of the query: the function with its arguments, and its FILTER.
#[derive(Debug, Clone)]
pub struct AggregateCall {
    pub function: Arc<AggregateFunctionExpr>,
    pub filter: Option<Arc<dyn PhysicalExpr>>,
}

impl AggregateCall {
    /// `COUNT(DISTINCT x)` of one column.
    fn is_count_distinct(&self) -> bool {
        self.function.is_distinct()
            && self.function.fun().name() == "count"
            && self.function.expressions().len() == 1
    }

    fn accumulator(&self) -> Result<WindowAccumulator> {
        if self.is_count_distinct() {
            // DataFusion's COUNT(DISTINCT) is a per-group `Accumulator` whose hash set starts
            // at ~10 KB: with tens of thousands of (window, course) groups that alone took
            // 320 MB where COUNT(*) took 86. One set of (group, value) per window instead.
            return Ok(WindowAccumulator::DistinctCount(DistinctCount::default()));
        }
        Ok(WindowAccumulator::DataFusion(
            if self.function.groups_accumulator_supported() {
                self.function.create_groups_accumulator()?
            } else {
                let function = Arc::clone(&self.function);
                Box::new(GroupsAccumulatorAdapter::new(move || {
                    function.create_accumulator()
                }))
            },
        ))
    }
}

/// The state of one aggregate call in one window.
enum WindowAccumulator {
    DataFusion(Box<dyn GroupsAccumulator>),
    DistinctCount(DistinctCount),
}

/// COUNT(DISTINCT x) for every group of a window: the distinct (group, x) pairs seen, as
/// bytes (group index, then x in arrow's row format), and the count per group.
#[derive(Default)]
struct DistinctCount {
    seen: HashSet<Vec<u8>>,
    counts: Vec<i64>,
    /// Heap bytes of `seen`, kept as it grows (walking the set per batch would cost more).
    bytes: usize,
}

/// Per entry of a hash set of byte strings: the `Vec` itself and the table's slot.
const SET_ENTRY_OVERHEAD: usize = 32;

impl WindowAccumulator {
    fn update(
        &mut self,
        values: &[ArrayRef],
        groups: &[usize],
        filter: Option<&BooleanArray>,
        total_groups: usize,
        rows: Option<&RowConverter>,
    ) -> Result<()> {
        match self {
            WindowAccumulator::DataFusion(acc) => {
                acc.update_batch(values, groups, filter, total_groups)
            }
            WindowAccumulator::DistinctCount(d) => {
                let converter = rows.ok_or_else(|| {
                    DataFusionError::Internal("COUNT(DISTINCT) without a row converter".into())
                })?;
                d.counts.resize(total_groups, 0);
                let encoded = converter.convert_columns(values)?;
                let column = &values[0];
                let mut key = Vec::with_capacity(32);
                for (row, &group) in groups.iter().enumerate() {
                    if column.is_null(row)
                        || filter.is_some_and(|f| !f.value(row) || f.is_null(row))
                    {
                        continue;
                    }
                    key.clear();
                    key.extend_from_slice(&(group as u64).to_le_bytes());
                    key.extend_from_slice(encoded.row(row).as_ref());
                    // One hash per row: the set grows only for a pair not seen before.
                    let before = d.seen.len();
                    d.seen.get_or_insert_with(key.as_slice(), <[u8]>::to_vec);
                    if d.seen.len() > before {
                        d.bytes += key.len() + SET_ENTRY_OVERHEAD;
                        d.counts[group] += 1;
                    }
                }
                Ok(())
            }
        }
    }

    /// Heap bytes held.
    fn size(&self) -> usize {
        match self {
            WindowAccumulator::DataFusion(acc) => acc.size(),
            WindowAccumulator::DistinctCount(d) => d.bytes + d.counts.len() * 8,
        }
    }

    /// The state of groups `0..total_groups` as arrays with one row per group, emptying
    /// the accumulator (what `restore` takes back).
    fn take_state(&mut self, total_groups: usize) -> Result<Vec<ArrayRef>> {
        match self {
            WindowAccumulator::DataFusion(acc) => acc.state(EmitTo::All),
            WindowAccumulator::DistinctCount(d) => {
                // Per group, the distinct values seen (arrow row format).
                let mut values: Vec<Vec<&[u8]>> = vec![Vec::new(); total_groups];
                for key in &d.seen {
                    let (group, value) = key.split_at(8);
                    let group = u64::from_le_bytes(group.try_into().unwrap_or_default());
                    if let Some(v) = values.get_mut(group as usize) {
                        v.push(value);
                    }
                }
                let mut list = ListBuilder::new(BinaryBuilder::new());
                for group in values {
                    for v in group {
                        list.values().append_value(v);
                    }
                    list.append(true);
                }
                let state: ArrayRef = Arc::new(list.finish());
                *d = DistinctCount::default();
                Ok(vec![state])
            }
        }
    }

    /// Merges state taken by `take_state` (group `g` from row `g`) into an empty accumulator.
    fn restore(&mut self, state: &[ArrayRef], total_groups: usize) -> Result<()> {
        match self {
            WindowAccumulator::DataFusion(acc) => {
                let groups: Vec<usize> = (0..total_groups).collect();
                acc.merge_batch(state, &groups, total_groups)
            }
            WindowAccumulator::DistinctCount(d) => {
                let lists = state
                    .first()
                    .and_then(|a| a.as_list_opt::<i32>())
                    .ok_or_else(|| {
                        DataFusionError::Internal(
                            "COUNT(DISTINCT) state is not a list of values".into(),
                        )
                    })?;
                d.counts = vec![0; total_groups];
                for group in 0..total_groups.min(lists.len()) {
                    let values = lists.value(group);
                    let values = values.as_binary::<i32>();
                    for v in values.iter().flatten() {
                        let mut key = Vec::with_capacity(8 + v.len());
                        key.extend_from_slice(&(group as u64).to_le_bytes());
                        key.extend_from_slice(v);
                        d.bytes += key.len() + SET_ENTRY_OVERHEAD;
                        if d.seen.insert(key) {
                            d.counts[group] += 1;
                        }
                    }
                }
                Ok(())
            }
        }
    }

    fn evaluate(&mut self, total_groups: usize) -> Result<ArrayRef> {
        match self {
            WindowAccumulator::DataFusion(acc) => acc.evaluate(EmitTo::All),
            WindowAccumulator::DistinctCount(d) => {
                d.counts.resize(total_groups, 0);
                Ok(Arc::new(Int64Array::from(std::mem::take(&mut d.counts))))
            }
        }
    }
}

/// What the operator needs to know, fixed at plan time.
#[derive(Debug, Clone)]
pub struct WindowAggregateSpec {
    pub kind: WindowKind,
    /// The event time, over the operator's input (absent for the global window).
    pub time: Option<Arc<dyn PhysicalExpr>>,
    /// Where the window start goes among the output's group columns.
    pub window_position: usize,
    /// GROUP BY keys other than the window.
    pub keys: Vec<Arc<dyn PhysicalExpr>>,
    pub aggregates: Vec<AggregateCall>,
    /// Input rows: the stateless part's output.
    pub input_schema: SchemaRef,
    /// Group columns (the window start among the keys), then aggregates — the SQL
    /// aggregate's own output schema.
    pub output_schema: SchemaRef,
}

/// The open state of one window.
struct WindowState {
    /// Key bytes (arrow row format) → group index.
    index: HashMap<Vec<u8>, usize>,
    /// The keys in group order.
    keys: Rows,
    accumulators: Vec<WindowAccumulator>,
}

/// Row indices of a batch by the start of the window they fall in.
type RowsByWindow = BTreeMap<i64, Vec<u32>>;

/// Rows a batch brought that fell only in windows already closed.
pub struct Late {
    pub rows: RecordBatch,
}

pub struct WindowAggregate {
    spec: WindowAggregateSpec,
    converter: RowConverter,
    /// Per aggregate call: the row format of its argument, for COUNT(DISTINCT).
    distinct_rows: Vec<Option<RowConverter>>,
    windows: BTreeMap<i64, WindowState>,
    /// SESSION windows: input rows of sessions not closed yet.
    pending: Vec<RecordBatch>,
    watermark: i64,
}

impl WindowAggregate {
    pub fn try_new(spec: WindowAggregateSpec) -> Result<Self> {
        let fields = spec
            .keys
            .iter()
            .map(|k| Ok(SortField::new(k.data_type(&spec.input_schema)?)))
            .collect::<Result<Vec<_>>>()?;
        let distinct_rows = spec
            .aggregates
            .iter()
            .map(|call| {
                if !call.is_count_distinct() {
                    return Ok(None);
                }
                let fields = call
                    .function
                    .expressions()
                    .iter()
                    .map(|e| Ok(SortField::new(e.data_type(&spec.input_schema)?)))
                    .collect::<Result<Vec<_>>>()?;
                Ok(Some(RowConverter::new(fields)?))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(WindowAggregate {
            distinct_rows,
            converter: RowConverter::new(fields)?,
            spec,
            windows: BTreeMap::new(),
            pending: Vec::new(),
            watermark: i64::MIN,
        })
    }

    pub fn spec(&self) -> &WindowAggregateSpec {
        &self.spec
    }

    pub fn watermark(&self) -> i64 {
        self.watermark
    }

    /// Bytes of state held: open windows' keys and accumulators, pending session rows.
    pub fn state_bytes(&self) -> usize {
        let windows: usize = self
            .windows
            .values()
            .map(|w| {
                w.keys.size()
                    + w.index.len() * SET_ENTRY_OVERHEAD
                    + w.accumulators.iter().map(|a| a.size()).sum::<usize>()
            })
            .sum();
        let pending: usize = self.pending.iter().map(|b| b.get_array_memory_size()).sum();
        windows + pending
    }

    /// The operator's state as Arrow IPC files, named by what they hold: one per open
    /// window (its keys and each aggregate's partial state, one row per group) and one of
    /// the rows of sessions still open. The operator keeps running on the same state.
    pub fn snapshot(&mut self) -> Result<Vec<(String, Vec<u8>)>> {
        let mut files = Vec::with_capacity(self.windows.len() + 1);
        let starts: Vec<i64> = self.windows.keys().copied().collect();
        for start in starts {
            let Some(state) = self.windows.remove(&start) else {
                continue;
            };
            // Taking an accumulator's state empties it: the window is rebuilt from the very
            // batch written, so what runs on is exactly what a restart would restore.
            let batch = self.window_batch(start, state)?;
            let state = self.window_from_batch(&batch)?;
            self.windows.insert(start, state);
            files.push((format!("w{start}"), ipc_bytes(&batch)?));
        }
        if !self.pending.is_empty() {
            let rows =
                datafusion::arrow::compute::concat_batches(&self.spec.input_schema, &self.pending)?;
            let mut metadata = rows.schema_ref().metadata().clone();
            metadata.insert(PENDING_METADATA.to_string(), "true".to_string());
            let schema = Arc::new(rows.schema_ref().as_ref().clone().with_metadata(metadata));
            files.push((
                "pending".to_string(),
                ipc_bytes(&rows.with_schema(schema)?)?,
            ));
        }
        Ok(files)
    }

    /// Takes back the state of a snapshot (the files of `snapshot`, in any order) and the
    /// watermark the operator had then.
    pub fn restore(&mut self, watermark: i64, files: &[Vec<u8>]) -> Result<()> {
        self.watermark = watermark;
        for bytes in files {
            for batch in ipc_batches(bytes)? {
                if batch.schema_ref().metadata().contains_key(PENDING_METADATA) {
                    let rows = RecordBatch::try_new(
                        Arc::clone(&self.spec.input_schema),
                        batch.columns().to_vec(),
                    )?;
                    self.pending.push(rows);
                    continue;
                }
                let start = window_start(&batch)?;
                let state = self.window_from_batch(&batch)?;
                self.windows.insert(start, state);
            }
        }
        Ok(())
    }

    /// One window's state as a batch: its keys, then every accumulator's state columns.
    fn window_batch(&self, start: i64, mut state: WindowState) -> Result<RecordBatch> {
        let groups = state.index.len();
        let mut columns: Vec<ArrayRef> = Vec::new();
        if !self.spec.keys.is_empty() {
            columns.extend(self.converter.convert_rows(state.keys.iter())?);
        }
        let mut fields: Vec<Field> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| Field::new(format!("key{i}"), c.data_type().clone(), true))
            .collect();
        for (i, acc) in state.accumulators.iter_mut().enumerate() {
            for (j, column) in acc.take_state(groups)?.into_iter().enumerate() {
                fields.push(Field::new(
                    format!("agg{i}_{j}"),
                    column.data_type().clone(),
                    true,
                ));
                columns.push(column);
            }
        }
        let metadata = std::collections::HashMap::from([
            (WINDOW_METADATA.to_string(), start.to_string()),
            (GROUPS_METADATA.to_string(), groups.to_string()),
        ]);
        let schema = Arc::new(Schema::new_with_metadata(fields, metadata));
        let options = RecordBatchOptions::new().with_row_count(Some(groups));
        Ok(RecordBatch::try_new_with_options(
            schema, columns, &options,
        )?)
    }

    /// The window state a `window_batch` holds.
    fn window_from_batch(&self, batch: &RecordBatch) -> Result<WindowState> {
        let groups = batch.num_rows();
        let mut state = self.empty_groups()?;
        let keys = self.spec.keys.len();
        if keys == 0 {
            if groups > 0 {
                state.index.insert(Vec::new(), 0);
            }
        } else {
            let rows = self.converter.convert_columns(&batch.columns()[..keys])?;
            for (g, row) in rows.iter().enumerate() {
                state.index.insert(row.as_ref().to_vec(), g);
                state.keys.push(row);
            }
        }
        let mut at = keys;
        for (acc, call) in state.accumulators.iter_mut().zip(&self.spec.aggregates) {
            let width = if call.is_count_distinct() {
                1
            } else {
                call.function.state_fields()?.len()
            };
            let columns = batch.columns().get(at..at + width).ok_or_else(|| {
                DataFusionError::Execution(format!(
                    "checkpointed window state has {} columns, the aggregates need more: \
                     was the job changed since the checkpoint?",
                    batch.num_columns()
                ))
            })?;
            acc.restore(columns, groups)?;
            at += width;
        }
        Ok(state)
    }

    /// Adds a batch of input rows to their windows. Rows whose windows have all closed
    /// (and rows without an event time) are returned as late; they change no result.
    pub fn process(&mut self, batch: &RecordBatch) -> Result<Option<Late>> {
        let n = batch.num_rows();
        if n == 0 {
            return Ok(None);
        }
        let (by_window, late) = match (&self.spec.time, self.spec.kind) {
            (None, _) => (
                BTreeMap::from([(GLOBAL_WINDOW, (0..n as u32).collect())]),
                None,
            ),
            (Some(time), WindowKind::Session { gap_ms }) => {
                let time = Arc::clone(time);
                return self.hold_session_rows(batch, &time, gap_ms);
            }
            (Some(time), kind) => self.assign_windows(batch, time, kind)?,
        };
        if by_window.is_empty() && late.is_none() {
            return Ok(None);
        }
        let key_rows = self.key_rows(batch)?;
        let inputs = self.call_inputs(batch)?;
        for (start, rows) in by_window {
            self.update_window(start, rows, key_rows.as_ref(), &inputs, n)?;
        }
        let Some(late) = late else {
            return Ok(None);
        };
        let rows = filter_record_batch(batch, &BooleanArray::from(late))?;
        Ok(Some(Late { rows }))
    }

    /// SESSION windows: rows wait in `pending` until the watermark closes their session;
    /// a row whose own session would already be closed is late.
    fn hold_session_rows(
        &mut self,
        batch: &RecordBatch,
        time: &Arc<dyn PhysicalExpr>,
        gap_ms: i64,
    ) -> Result<Option<Late>> {
        let times = event_millis(&time.evaluate(batch)?.into_array(batch.num_rows())?)?;
        let keep: BooleanArray = times
            .iter()
            .map(|t| Some(t.is_some_and(|t| t.saturating_add(gap_ms) > self.watermark)))
            .collect();
        self.pending.push(filter_record_batch(batch, &keep)?);
        let late_rows: BooleanArray = keep.iter().map(|k| k.map(|k| !k)).collect();
        if late_rows.true_count() == 0 {
            return Ok(None);
        }
        let rows = filter_record_batch(batch, &late_rows)?;
        Ok(Some(Late { rows }))
    }

    /// The rows of `batch` by the start of every open window holding them, and (when some
    /// are) which rows are late: in closed windows only, or without an event time.
    fn assign_windows(
        &self,
        batch: &RecordBatch,
        time: &Arc<dyn PhysicalExpr>,
        kind: WindowKind,
    ) -> Result<(RowsByWindow, Option<Vec<bool>>)> {
        let n = batch.num_rows();
        let times = event_millis(&time.evaluate(batch)?.into_array(n)?)?;
        let mut by_window = RowsByWindow::new();
        let mut late = vec![false; n];
        let mut any_late = false;
        for (row, ts) in times.iter().enumerate() {
            let mut placed = false;
            if let Some(ts) = ts {
                kind.assign(*ts, |start| {
                    if kind.end(start) > self.watermark {
                        by_window.entry(start).or_default().push(row as u32);
                        placed = true;
                    }
                });
            }
            if !placed {
                late[row] = true;
                any_late = true;
            }
        }
        Ok((by_window, any_late.then_some(late)))
    }

    /// Adds `rows` of a batch of `n` rows to the window starting at `start`.
    fn update_window(
        &mut self,
        start: i64,
        rows: Vec<u32>,
        key_rows: Option<&Rows>,
        inputs: &[CallInput],
        n: usize,
    ) -> Result<()> {
        if !self.windows.contains_key(&start) {
            let state = self.empty_groups()?;
            self.windows.insert(start, state);
        }
        let Some(state) = self.windows.get_mut(&start) else {
            return Ok(());
        };
        let groups: Vec<usize> = match key_rows {
            None => {
                if state.index.is_empty() {
                    state.index.insert(Vec::new(), 0);
                }
                vec![0; rows.len()]
            }
            Some(key_rows) => rows
                .iter()
                .map(|&r| {
                    let row = key_rows.row(r as usize);
                    let next = state.index.len();
                    *state.index.entry_ref(row.as_ref()).or_insert_with(|| {
                        state.keys.push(row);
                        next
                    })
                })
                .collect(),
        };
        let total_groups = state.index.len();
        // Most batches of an ordered stream fall in one window: no need to copy rows.
        let picked = (rows.len() != n).then(|| UInt32Array::from(rows));
        update_accumulators(
            &mut state.accumulators,
            inputs,
            &self.distinct_rows,
            picked.as_ref(),
            &groups,
            total_groups,
        )
    }

    /// Moves the watermark to `watermark` (never back) and returns the rows of every window
    /// it closed, oldest window first; their state is freed.
    pub fn advance(&mut self, watermark: i64) -> Result<Vec<RecordBatch>> {
        if watermark <= self.watermark {
            return Ok(vec![]);
        }
        self.watermark = watermark;
        if let WindowKind::Session { gap_ms } = self.spec.kind {
            return Ok(self.close_sessions(gap_ms)?.into_iter().collect());
        }
        if self.spec.kind == WindowKind::Global && watermark == i64::MAX && self.windows.is_empty()
        {
            // A global aggregate without keys has one row even over no input, as in SQL.
            if self.spec.keys.is_empty() {
                return Ok(vec![self.emit(GLOBAL_WINDOW, self.empty_state()?)?]);
            }
            return Ok(vec![]);
        }
        let closed_before = match self.spec.kind.size_ms() {
            // Windows with start + size <= watermark, i.e. start < watermark - size + 1.
            Some(size) => watermark.saturating_sub(size).saturating_add(1),
            None if watermark == i64::MAX => i64::MAX,
            None => return Ok(vec![]),
        };
        // (The global window starts at i64::MIN, so `split_off(MAX)` leaves it with `closed`.)
        let open = self.windows.split_off(&closed_before);
        let closed = std::mem::replace(&mut self.windows, open);
        closed
            .into_iter()
            .map(|(start, state)| self.emit(start, state))
            .collect()
    }

    /// Splits the pending rows into sessions per key (a row `gap` or more after the previous
    /// one of its key starts a new session, as the batch plan numbers them) and aggregates
    /// every session whose end (last event + gap) the watermark has reached; the rest stay
    /// pending, regrouped at the next watermark.
    fn close_sessions(&mut self, gap_ms: i64) -> Result<Option<RecordBatch>> {
        if self.pending.iter().all(|b| b.num_rows() == 0) {
            self.pending.clear();
            return Ok(None);
        }
        let all = datafusion::arrow::compute::concat_batches(
            &self.spec.input_schema,
            &std::mem::take(&mut self.pending),
        )?;
        let n = all.num_rows();
        let time = self.spec.time.as_ref().ok_or_else(|| {
            DataFusionError::Internal("a session window without event time".into())
        })?;
        let times = event_millis(&time.evaluate(&all)?.into_array(n)?)?;
        let key_rows = self.key_rows(&all)?;
        let key_of = |i: usize| -> &[u8] { key_rows.as_ref().map_or(&[], |k| k.row(i).data()) };
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| key_of(a).cmp(key_of(b)).then(times[a].cmp(&times[b])));
        let mut state = self.empty_groups()?;
        let (mut closed, mut open) = (Vec::new(), Vec::new());
        let (mut starts, mut groups) = (Vec::new(), Vec::new());
        let mut at = 0;
        while at < n {
            // One session: rows of one key, each less than `gap` after the one before.
            let mut end = at + 1;
            while end < n
                && key_of(order[end]) == key_of(order[at])
                && times[order[end]].unwrap_or(i64::MIN)
                    < times[order[end - 1]]
                        .unwrap_or(i64::MIN)
                        .saturating_add(gap_ms)
            {
                end += 1;
            }
            let last = times[order[end - 1]].unwrap_or(i64::MIN);
            if self.watermark == i64::MAX || last.saturating_add(gap_ms) <= self.watermark {
                let group = starts.len();
                starts.push(times[order[at]].unwrap_or(i64::MIN));
                if let Some(k) = &key_rows {
                    state.keys.push(k.row(order[at]));
                }
                for &row in &order[at..end] {
                    closed.push(row as u32);
                    groups.push(group);
                }
            } else {
                open.extend(order[at..end].iter().map(|&r| r as u32));
            }
            at = end;
        }
        if !open.is_empty() {
            open.sort_unstable();
            let keep = UInt32Array::from(open);
            self.pending
                .push(datafusion::arrow::compute::take_record_batch(&all, &keep)?);
        }
        if starts.is_empty() {
            return Ok(None);
        }
        update_accumulators(
            &mut state.accumulators,
            &self.call_inputs(&all)?,
            &self.distinct_rows,
            Some(&UInt32Array::from(closed)),
            &groups,
            starts.len(),
        )?;
        self.emit_groups(starts, state).map(Some)
    }

    /// A window state with no groups yet.
    fn empty_groups(&self) -> Result<WindowState> {
        Ok(WindowState {
            index: HashMap::default(),
            keys: self.converter.empty_rows(64, 1024),
            accumulators: self
                .spec
                .aggregates
                .iter()
                .map(AggregateCall::accumulator)
                .collect::<Result<_>>()?,
        })
    }

    /// The state of a keyless aggregate over no rows: one group, as SQL gives.
    fn empty_state(&self) -> Result<WindowState> {
        let mut state = self.empty_groups()?;
        for ((acc, call), rows) in state
            .accumulators
            .iter_mut()
            .zip(&self.spec.aggregates)
            .zip(&self.distinct_rows)
        {
            let values = call
                .function
                .expressions()
                .iter()
                .map(|e| {
                    Ok(datafusion::arrow::array::new_empty_array(
                        &e.data_type(&self.spec.input_schema)?,
                    ))
                })
                .collect::<Result<Vec<_>>>()?;
            acc.update(&values, &[], None, 1, rows.as_ref())?;
        }
        state.index.insert(Vec::new(), 0);
        Ok(state)
    }

    fn emit(&self, start: i64, state: WindowState) -> Result<RecordBatch> {
        let groups = state.index.len();
        self.emit_groups(vec![start; groups], state)
    }

    /// Emits a window state whose group `g` starts at `starts[g]`.
    fn emit_groups(&self, starts: Vec<i64>, mut state: WindowState) -> Result<RecordBatch> {
        let groups = starts.len();
        let schema = &self.spec.output_schema;
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
        if !self.spec.keys.is_empty() {
            columns.extend(self.converter.convert_rows(state.keys.iter())?);
        }
        if self.spec.time.is_some() {
            let at = self.spec.window_position;
            let starts = TimestampMillisecondArray::from(starts);
            columns.insert(at, cast(&starts, schema.field(at).data_type())?);
        }
        for acc in state.accumulators.iter_mut() {
            columns.push(acc.evaluate(groups)?);
        }
        // Aggregates may give a wider or looser type than the planner declared.
        let columns = columns
            .into_iter()
            .zip(schema.fields())
            .map(|(c, f)| {
                if c.data_type() == f.data_type() {
                    Ok(c)
                } else {
                    Ok(cast(&c, f.data_type())?)
                }
            })
            .collect::<Result<Vec<_>>>()?;
        RecordBatch::try_new(Arc::clone(schema), columns).map_err(DataFusionError::from)
    }

    /// The GROUP BY keys of `batch` in row format; `None` without keys (e.g. `GROUP BY
    /// HOP(..)` alone), where every row of a window is group 0.
    fn key_rows(&self, batch: &RecordBatch) -> Result<Option<Rows>> {
        if self.spec.keys.is_empty() {
            return Ok(None);
        }
        let keys = evaluate_all(&self.spec.keys, batch)?;
        Ok(Some(self.converter.convert_columns(&keys)?))
    }

    /// Each aggregate call's arguments and FILTER over `batch`.
    fn call_inputs(&self, batch: &RecordBatch) -> Result<Vec<CallInput>> {
        self.spec
            .aggregates
            .iter()
            .map(|call| {
                Ok(CallInput {
                    arguments: evaluate_all(&call.function.expressions(), batch)?,
                    filter: match &call.filter {
                        Some(f) => Some(f.evaluate(batch)?.into_array(batch.num_rows())?),
                        None => None,
                    },
                })
            })
            .collect()
    }
}

const WINDOW_METADATA: &str = "sluice.window_start";
const GROUPS_METADATA: &str = "sluice.groups";
const PENDING_METADATA: &str = "sluice.pending_rows";

fn window_start(batch: &RecordBatch) -> Result<i64> {
    batch
        .schema_ref()
        .metadata()
        .get(WINDOW_METADATA)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| DataFusionError::Execution("a checkpointed window has no start".into()))
}

/// A batch as an Arrow IPC file.
fn ipc_bytes(batch: &RecordBatch) -> Result<Vec<u8>> {
    let mut writer = FileWriter::try_new(Vec::new(), batch.schema_ref())?;
    writer.write(batch)?;
    writer.finish()?;
    Ok(writer.into_inner()?)
}

fn ipc_batches(bytes: &[u8]) -> Result<Vec<RecordBatch>> {
    let reader = FileReader::try_new(std::io::Cursor::new(bytes), None)?;
    Ok(reader.collect::<std::result::Result<Vec<_>, _>>()?)
}

/// An aggregate call's inputs over a batch.
struct CallInput {
    arguments: Vec<ArrayRef>,
    filter: Option<ArrayRef>,
}

/// Feeds the rows `picked` of the inputs (all rows when `None`) to a window's accumulators,
/// row `i` of the picked rows into group `groups[i]`.
fn update_accumulators(
    accumulators: &mut [WindowAccumulator],
    inputs: &[CallInput],
    distinct_rows: &[Option<RowConverter>],
    picked: Option<&UInt32Array>,
    groups: &[usize],
    total_groups: usize,
) -> Result<()> {
    let pick = |a: &ArrayRef| -> Result<ArrayRef> {
        match picked {
            None => Ok(Arc::clone(a)),
            Some(i) => Ok(take(a.as_ref(), i, None)?),
        }
    };
    for ((acc, input), rows) in accumulators.iter_mut().zip(inputs).zip(distinct_rows) {
        let values = input
            .arguments
            .iter()
            .map(pick)
            .collect::<Result<Vec<_>>>()?;
        let filter = input.filter.as_ref().map(pick).transpose()?;
        acc.update(
            &values,
            groups,
            filter.as_ref().map(|f| f.as_boolean()),
            total_groups,
            rows.as_ref(),
        )?;
    }
    Ok(())
}

fn evaluate_all(exprs: &[Arc<dyn PhysicalExpr>], batch: &RecordBatch) -> Result<Vec<ArrayRef>> {
    exprs
        .iter()
        .map(|e| e.evaluate(batch)?.into_array(batch.num_rows()))
        .collect()
}

/// Event times as epoch milliseconds (any timestamp unit or time zone; nulls stay null).
pub fn event_millis(array: &ArrayRef) -> Result<Vec<Option<i64>>> {
    let millis = match array.data_type() {
        DataType::Timestamp(TimeUnit::Millisecond, _) => Arc::clone(array),
        DataType::Timestamp(_, tz) => cast(
            array.as_ref(),
            &DataType::Timestamp(TimeUnit::Millisecond, tz.clone()),
        )?,
        other => {
            return Err(DataFusionError::Plan(format!(
                "event time must be a TIMESTAMP, not {other}"
            )));
        }
    };
    Ok(millis
        .as_primitive::<TimestampMillisecondType>()
        .iter()
        .collect())
}

#[cfg(test)]
mod tests {
    //! The operator on small hand-made batches: (event time, course, user) rows, COUNT of
    //! rows and COUNT(DISTINCT user) per course and window.

    use datafusion::arrow::array::StringArray;
    use datafusion::functions_aggregate::count::count_udaf;
    use datafusion::physical_expr::aggregate::AggregateExprBuilder;
    use datafusion::physical_expr::expressions::col;

    use super::*;

    const S: i64 = 1_000;

    fn input_schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new(
                "ts",
                DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                true,
            ),
            Field::new("course", DataType::Utf8, true),
            Field::new("user", DataType::Utf8, true),
        ]))
    }

    fn operator(kind: WindowKind) -> WindowAggregate {
        let input = input_schema();
        let count = |column: &str, distinct: bool| {
            let builder =
                AggregateExprBuilder::new(count_udaf(), vec![col(column, &input).unwrap()])
                    .schema(Arc::clone(&input))
                    .alias(if distinct { "uv" } else { "pv" });
            let builder = if distinct {
                builder.distinct()
            } else {
                builder
            };
            AggregateCall {
                function: Arc::new(builder.build().unwrap()),
                filter: None,
            }
        };
        let output = Arc::new(Schema::new(vec![
            Field::new(
                "window_start",
                DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                false,
            ),
            Field::new("course", DataType::Utf8, true),
            Field::new("pv", DataType::Int64, false),
            Field::new("uv", DataType::Int64, false),
        ]));
        WindowAggregate::try_new(WindowAggregateSpec {
            kind,
            time: Some(col("ts", &input).unwrap()),
            window_position: 0,
            keys: vec![col("course", &input).unwrap()],
            aggregates: vec![count("user", false), count("user", true)],
            input_schema: input,
            output_schema: output,
        })
        .unwrap()
    }

    /// Rows of (seconds, course, user).
    fn rows(rows: &[(i64, &str, &str)]) -> RecordBatch {
        let ts: TimestampMillisecondArray = rows.iter().map(|r| Some(r.0 * S)).collect();
        let course: StringArray = rows.iter().map(|r| Some(r.1)).collect();
        let user: StringArray = rows.iter().map(|r| Some(r.2)).collect();
        RecordBatch::try_new(
            input_schema(),
            vec![
                Arc::new(ts.with_timezone("UTC")),
                Arc::new(course),
                Arc::new(user),
            ],
        )
        .unwrap()
    }

    /// The emitted rows as `start(s) course pv uv` lines, sorted.
    fn lines(batches: &[RecordBatch]) -> Vec<String> {
        let mut out = Vec::new();
        for b in batches {
            let starts = b.column(0).as_primitive::<TimestampMillisecondType>();
            let course = b.column(1).as_string::<i32>();
            let pv = b
                .column(2)
                .as_primitive::<datafusion::arrow::datatypes::Int64Type>();
            let uv = b
                .column(3)
                .as_primitive::<datafusion::arrow::datatypes::Int64Type>();
            for r in 0..b.num_rows() {
                out.push(format!(
                    "{} {} {} {}",
                    starts.value(r) / S,
                    course.value(r),
                    pv.value(r),
                    uv.value(r)
                ));
            }
        }
        out.sort();
        out
    }

    #[test]
    fn a_tumbling_window_is_emitted_once_the_watermark_reaches_its_end() {
        let mut op = operator(WindowKind::Tumble { size_ms: 10 * S });
        let late = op
            .process(&rows(&[
                (1, "a", "u1"),
                (2, "a", "u1"),
                (5, "b", "u2"),
                (12, "a", "u3"),
            ]))
            .unwrap();
        assert!(late.is_none());
        assert!(op.advance(10 * S - 1).unwrap().is_empty(), "still open");
        let closed = op.advance(10 * S).unwrap();
        assert_eq!(lines(&closed), ["0 a 2 1", "0 b 1 1"]);
        // A row of the closed window is late and changes nothing; the next window's row counts.
        let late = op
            .process(&rows(&[(3, "a", "u9"), (15, "a", "u3")]))
            .unwrap();
        assert_eq!(late.map(|l| l.rows.num_rows()), Some(1));
        assert_eq!(lines(&op.advance(i64::MAX).unwrap()), ["10 a 2 1"]);
        assert_eq!(op.state_bytes(), 0, "closed windows free their state");
    }

    #[test]
    fn a_hopping_window_counts_a_row_in_every_window_holding_it() {
        let mut op = operator(WindowKind::Hop {
            slide_ms: 5 * S,
            size_ms: 10 * S,
        });
        op.process(&rows(&[(7, "a", "u1"), (8, "a", "u2")]))
            .unwrap();
        let closed = op.advance(i64::MAX).unwrap();
        assert_eq!(lines(&closed), ["0 a 2 2", "5 a 2 2"]);
    }

    #[test]
    fn sessions_close_a_gap_after_their_last_row() {
        let mut op = operator(WindowKind::Session { gap_ms: 5 * S });
        op.process(&rows(&[
            (1, "a", "u1"),
            (3, "a", "u2"),
            (20, "a", "u1"),
            (2, "b", "u1"),
        ]))
        .unwrap();
        // The sessions of a (1..3) and b (2) end at 8 s and 7 s; a's second one is open.
        let closed = op.advance(8 * S).unwrap();
        assert_eq!(lines(&closed), ["1 a 2 2", "2 b 1 1"]);
        assert_eq!(lines(&op.advance(i64::MAX).unwrap()), ["20 a 1 1"]);
    }

    #[test]
    fn a_restored_snapshot_emits_what_the_original_would() {
        let first = rows(&[(1, "a", "u1"), (2, "b", "u2"), (11, "a", "u1")]);
        let second = rows(&[(3, "a", "u2"), (4, "a", "u1"), (12, "b", "u3")]);
        let mut original = operator(WindowKind::Tumble { size_ms: 10 * S });
        original.process(&first).unwrap();
        original.advance(500).unwrap();
        let files: Vec<Vec<u8>> = original
            .snapshot()
            .unwrap()
            .into_iter()
            .map(|(_, bytes)| bytes)
            .collect();
        assert_eq!(files.len(), 2, "one file per open window");
        let mut restored = operator(WindowKind::Tumble { size_ms: 10 * S });
        restored.restore(original.watermark(), &files).unwrap();
        assert_eq!(restored.watermark(), 500);
        for op in [&mut original, &mut restored] {
            op.process(&second).unwrap();
        }
        let expected = lines(&original.advance(i64::MAX).unwrap());
        assert_eq!(expected, ["0 a 3 2", "0 b 1 1", "10 a 1 1", "10 b 1 1"]);
        assert_eq!(lines(&restored.advance(i64::MAX).unwrap()), expected);
    }
}
