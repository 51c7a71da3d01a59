//! `GET /security_logs` (a page, newest first) and `GET /security_logs/{id}` (one record).

use axum::extract::{Path, State};
use axum::response::Response;
use http::request::Parts;
use http::StatusCode;

use super::audit::{self, Read};
use super::error::ApiError;
use super::params::{Endpoint, Params};
use super::router::Shared;
use crate::query::Query;
use crate::store::Search;

pub(crate) async fn list(State(api): State<Shared>, parts: Parts) -> Result<Response, ApiError> {
    let scope = api.authorize(&parts)?;
    let params = Params::parse(parts.uri.query(), Endpoint::List)?;
    let query = params.query()?;
    let cursor =
        match &params.cursor {
            Some(signed) => Some(api.cursors.open(signed, &scope, params.order).ok_or_else(
                || {
                    ApiError::parameter(
                        "cursor",
                        "not a cursor this API handed out for this reader",
                    )
                },
            )?),
            None => None,
        };
    let warnings = api.vocabulary.check(&query);
    // A page number is read as the first `page * per_page` records, less the pages before.
    let skip = params.page.map_or(0, |page| (page - 1) * params.per_page);
    let search = Search::new(query)
        .with_scope(scope.clone())
        .with_order(params.order)
        .with_limit(skip + params.per_page)
        .with_cursor(cursor);
    let count = params.count || params.page.is_some();
    let view = params.view.clone();
    let (mut page, total) = api
        .blocking(&parts, move |store, deadline| {
            let search = search.with_deadline(deadline.clone());
            let mut page = store.search(&search)?;
            page.records.drain(..skip.min(page.records.len()));
            let total = if count {
                Some(store.count(&search)?.records)
            } else {
                None
            };
            audit::viewed(
                Read::List,
                search.query(),
                search.scope(),
                page.records.len() as u64,
                view.as_deref(),
            );
            Ok((page, total))
        })
        .await?;
    if page.records.is_empty() && skip > 0 {
        // Past the last page: no cursor to resume from.
        page.next_cursor = None;
    }

    let next_cursor = page
        .next_cursor
        .as_ref()
        .map(|c| api.cursors.sign(c, &scope, params.order));
    let meta = meta(&params, next_cursor, total, page.skipped_lines);
    let body = page_body(&page.records, &meta, &warnings);
    Ok(super::json::response(StatusCode::OK, body))
}

/// `meta`: the page size, the cursor to the next page, and with a count or a page number
/// Lago's `total_count`, `current_page`, `next_page`, `prev_page` and `total_pages`.
fn meta(
    params: &Params,
    next_cursor: Option<String>,
    total: Option<u64>,
    skipped_lines: u64,
) -> serde_json::Value {
    let mut meta = serde_json::json!({
        "per_page": params.per_page,
        "next_cursor": next_cursor,
    });
    if let Some(total) = total {
        meta["total_count"] = total.into();
    }
    if let (Some(current), Some(total)) = (params.page, total) {
        let pages = total.div_ceil(params.per_page as u64);
        let current = current as u64;
        meta["current_page"] = current.into();
        meta["total_pages"] = pages.into();
        meta["next_page"] = (current < pages).then_some(current + 1).into();
        meta["prev_page"] = (current > 1)
            .then(|| (current - 1).min(pages.max(1)))
            .into();
    }
    if skipped_lines > 0 {
        meta["skipped_lines"] = skipped_lines.into();
    }
    meta
}

/// The answer's text: the records exactly as written (each line is already a JSON object),
/// `meta`, and the query's warnings when it has some.
fn page_body(
    records: &[crate::store::StoredRecord],
    meta: &serde_json::Value,
    warnings: &[crate::query::QueryWarning],
) -> String {
    let size: usize = records.iter().map(|r| r.line().len() + 1).sum();
    let mut body = String::with_capacity(size + 128);
    body.push_str("{\"security_logs\":[");
    for (n, record) in records.iter().enumerate() {
        if n > 0 {
            body.push(',');
        }
        body.push_str(record.line());
    }
    body.push_str("],\"meta\":");
    body.push_str(&meta.to_string());
    if !warnings.is_empty() {
        body.push_str(",\"warnings\":");
        body.push_str(&super::json::warnings(warnings).to_string());
    }
    body.push('}');
    body
}

pub(crate) async fn one(
    State(api): State<Shared>,
    Path(id): Path<String>,
    parts: Parts,
) -> Result<Response, ApiError> {
    let scope = api.authorize(&parts)?;
    if !parts.uri.query().unwrap_or("").is_empty() {
        return Err(ApiError::parameter(
            parts
                .uri
                .query()
                .unwrap_or("")
                .split(['=', '&'])
                .next()
                .unwrap_or(""),
            "this endpoint takes no parameters",
        ));
    }
    let record = api
        .blocking(&parts, move |store, deadline| {
            let record = store.get(&id, &scope, deadline)?;
            let query = Query::new().id(&id);
            audit::viewed(
                Read::Record,
                &query,
                &scope,
                u64::from(record.is_some()),
                None,
            );
            Ok(record)
        })
        .await?;
    // Another tenant's record is as absent as a record that never was.
    let record = record.ok_or(ApiError::NotFound)?;
    let body = format!("{{\"security_log\":{}}}", record.line());
    Ok(super::json::response(StatusCode::OK, body))
}
