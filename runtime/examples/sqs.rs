//! Takes an SQS batch as `aws_lambda_events` types it, and reports the messages it could not
//! process as partial batch failures, so SQS redelivers only those: the ecosystem's event types
//! are plain serde types, and work as a handler's event and response as they are.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use faas_runtime::{Context, Error};

async fn handler(batch: SqsEvent, _ctx: Context) -> Result<SqsBatchResponse, Error> {
    let mut response = SqsBatchResponse::default();
    for message in batch.records {
        let body = message.body.unwrap_or_default();
        if serde_json::from_str::<serde_json::Value>(&body).is_err() {
            tracing::warn!(id = ?message.message_id, "not JSON: left for redelivery");
            response.batch_item_failures.push(BatchItemFailure {
                item_identifier: message.message_id.unwrap_or_default(),
            });
        }
    }
    Ok(response)
}

fn main() {
    faas_runtime::run(handler)
}
