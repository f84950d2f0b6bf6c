//! A leaf plan that streams what another task sends over a bounded channel: the input of a
//! stream statement's sink, and a shared relation's reader. Barriers become marker batches
//! here, on their way into the plan (see `barrier`).

use std::fmt;
use std::sync::{Arc, Mutex};

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};
use tokio::sync::mpsc;

use super::Message;
use super::barrier::Markers;
use crate::sync::lock;

/// What a channel closed by its sender means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closing {
    /// The end of the rows (a statement feeding its sink stops by dropping its sender).
    Ends,
    /// The sender died: only `Message::End` ends the rows, so a reader of a shared relation
    /// never takes a cut-off relation for a short one.
    Fails(&'static str),
}

/// A leaf plan streaming the messages sent on `rx`; it can be executed once. `unbounded`
/// says whether the rows go on for ever (a stream statement's sink input).
pub fn channel_exec(
    schema: SchemaRef,
    rx: mpsc::Receiver<Message>,
    closing: Closing,
) -> Result<Arc<dyn ExecutionPlan>> {
    let partition = ChannelPartition::new(Arc::clone(&schema), rx, closing);
    Ok(Arc::new(StreamingTableExec::try_new(
        schema,
        vec![Arc::new(partition)],
        None,
        vec![],
        closing == Closing::Ends,
        None,
    )?))
}

/// One partition of a channel plan.
pub struct ChannelPartition {
    schema: SchemaRef,
    rx: Mutex<Option<mpsc::Receiver<Message>>>,
    closing: Closing,
}

impl ChannelPartition {
    pub fn new(schema: SchemaRef, rx: mpsc::Receiver<Message>, closing: Closing) -> Self {
        ChannelPartition {
            schema,
            rx: Mutex::new(Some(rx)),
            closing,
        }
    }
}

enum Reading {
    Open(mpsc::Receiver<Message>),
    /// Executed a second time: the receiver is gone.
    Twice,
    /// After an error.
    Done,
}

impl fmt::Debug for ChannelPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChannelPartition")
    }
}

impl PartitionStream for ChannelPartition {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let state = match lock(&self.rx).take() {
            Some(rx) => Reading::Open(rx),
            None => Reading::Twice,
        };
        let closing = self.closing;
        // The schema and context travel with the state: nothing is cloned per message.
        let start = (state, Arc::clone(&self.schema), ctx);
        let stream = futures::stream::unfold(start, move |(state, schema, ctx)| async move {
            let mut rx = match state {
                Reading::Open(rx) => rx,
                Reading::Twice => {
                    let e = DataFusionError::Internal("a channel was executed twice".into());
                    return Some((Err(e), (Reading::Done, schema, ctx)));
                }
                Reading::Done => return None,
            };
            let item = loop {
                break match rx.recv().await {
                    Some(Message::Data(b)) => Ok(b),
                    Some(Message::Barrier(b)) => Markers::encode(&ctx, &schema, b),
                    Some(Message::End) => return None,
                    Some(Message::Failed(m)) => Err(DataFusionError::Execution(m)),
                    Some(Message::Watermark(_) | Message::Idle) => continue,
                    None => match closing {
                        Closing::Ends => return None,
                        Closing::Fails(what) => Err(DataFusionError::Execution(format!(
                            "{what} stopped before its end"
                        ))),
                    },
                };
            };
            let next = if item.is_ok() {
                Reading::Open(rx)
            } else {
                Reading::Done
            };
            Some((item, (next, schema, ctx)))
        });
        Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            stream,
        ))
    }
}
