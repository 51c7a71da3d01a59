//! `GET /security_logs/stats?by=event&every=1h`: counts by fields and per time bucket, for
//! charts.

use axum::extract::State;
use axum::response::Response;
use http::request::Parts;
use http::StatusCode;
use serde_json::{json, Map, Value};

use super::audit::{self, Read};
use super::error::ApiError;
use super::params::{Endpoint, Params};
use super::router::Shared;
use crate::store::Aggregate;

pub(crate) async fn stats(State(api): State<Shared>, parts: Parts) -> Result<Response, ApiError> {
    let scope = api.authorize(&parts)?;
    let params = Params::parse(parts.uri.query(), Endpoint::Stats)?;
    let query = params.query()?;
    let warnings = api.vocabulary.check(&query);
    let names: Vec<String> = params.by.iter().map(|(name, _)| name.clone()).collect();
    let view = params.view.clone();
    let mut aggregate = Aggregate::new(query.clone()).with_scope(scope.clone());
    for (_, field) in params.by {
        aggregate = aggregate.by(field);
    }
    if let Some(every) = params.every {
        aggregate = aggregate.every(every);
    }
    let aggregation = api
        .blocking(&parts, move |store, deadline| {
            let aggregation = store.aggregate(&aggregate.with_deadline(deadline.clone()))?;
            let records = aggregation.buckets.iter().map(|b| b.count).sum();
            audit::viewed(Read::Stats, &query, &scope, records, view.as_deref());
            Ok(aggregation)
        })
        .await?;

    let buckets: Vec<Value> = aggregation
        .buckets
        .iter()
        .map(|bucket| {
            // Keyed by the names the request used (`event`, not `event.name`).
            let key: Map<String, Value> = names
                .iter()
                .zip(&bucket.key)
                .map(|(name, (_, value))| (name.clone(), json!(value)))
                .collect();
            let mut item = json!({ "key": key, "count": bucket.count });
            if let Some(start) = bucket.start {
                item["start"] = json!(start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            }
            item
        })
        .collect();
    let mut body = json!({ "buckets": buckets, "skipped_lines": aggregation.skipped_lines });
    if !warnings.is_empty() {
        body["warnings"] = super::json::warnings(&warnings);
    }
    Ok(super::json::response(StatusCode::OK, body.to_string()))
}
