//! The sign-in log in the Worker: stores the record of every sign-in attempt the flow
//! reports, and serves `GET /v1.0/auditLogs/signIns` and `…/signIns/{id}` (also under
//! `/{tenant}/v1.0/…`; the admin credential is checked by [`super::admin`] first).
//!
//! What a record says, its id and key, the retention and the query language are decided by
//! [`crate::audit`]; this file only does the KV reads and writes:
//!
//! - Records are written with a KV **expiration TTL** of the retention
//!   (`SIGN_IN_LOG_RETENTION_DAYS`, default 30; an invalid value is reported in the log and
//!   the default is used), so KV deletes them; nothing else does.
//! - Lists use KV `list`, which is **eventually consistent**: a record written in the last
//!   seconds (up to about a minute from another location) may not be listed yet, while
//!   `…/signIns/{id}` reads it at once where it was written.
//! - A record that cannot be stored does not fail the sign-in: the attempt already
//!   happened (tokens may be minted), so the failure is logged by category and the answer
//!   goes out. Availability of sign-in wins over completeness of the log.

use super::reply;
use crate::audit::paging::{self, Position};
use crate::audit::{Query, SignInSummary, log, sign_in};
use crate::error::ErrorBody;
use crate::flow::AuditEvent;
use crate::worker::route::Ctx;
use serde_json::Value;
use worker::kv::KvStore;
use worker::{Method, Request, Response, Result};

/// How the log is kept, read once per request from the Worker's vars.
#[derive(Debug, Clone, Copy)]
pub struct SignInLog {
    retention_seconds: u64,
}

impl SignInLog {
    /// The log settings of this Worker.
    pub fn for_env(ctx: &Ctx) -> SignInLog {
        let days = ctx
            .var("SIGN_IN_LOG_RETENTION_DAYS")
            .ok()
            .map(|v| v.to_string());
        let retention_seconds = log::retention_seconds(days.as_deref()).unwrap_or_else(|e| {
            worker::console_error!("sign-in log: {}; keeping records 30 days", e.message);
            log::DEFAULT_RETENTION_DAYS * 86_400
        });
        SignInLog { retention_seconds }
    }

    /// Stores the record of the attempt `event` reports, if it reports one.
    pub async fn record(self, kv: &KvStore, tenant: &str, event: &AuditEvent) {
        let Some(evidence) = event.sign_in.as_deref() else {
            return;
        };
        let now_ms = js_sys::Date::now();
        let now_ms = if now_ms.is_finite() && now_ms > 0.0 {
            now_ms as u64
        } else {
            0
        };
        let written = async {
            let id = log::new_id(
                log::key_millis(event.at.0, now_ms),
                super::request::random::<10>()?,
            );
            let key = log::key(tenant, &id)
                .ok_or_else(|| worker::Error::RustError("sign-in log id".into()))?;
            let record = sign_in::build(&id, event, evidence);
            let mut put = kv
                .put(&key, serde_json::to_string(&record)?)?
                .expiration_ttl(self.retention_seconds);
            if let Some(meta) = log::metadata(&SignInSummary::of(&record)) {
                put = put.metadata(meta)?;
            }
            put.execute().await?;
            Ok::<(), worker::Error>(())
        };
        if let Err(e) = written.await {
            worker::console_error!(
                "sign-in log: a record could not be stored ({})",
                crate::worker::reply::category(&e)
            );
        }
    }
}

/// `…/auditLogs/signIns` and `…/auditLogs/signIns/{id}`; `rest` is the path after
/// `signIns`.
pub async fn serve(req: &Request, kv: &KvStore, tenant: &str, rest: &[&str]) -> Result<Response> {
    match (req.method(), rest) {
        (Method::Get, []) => list(req, kv, tenant).await,
        (Method::Get, [id]) => read(kv, tenant, id).await,
        (_, [] | [_]) => reply::method_not_allowed(),
        _ => reply::not_found(),
    }
}

async fn read(kv: &KvStore, tenant: &str, id: &str) -> Result<Response> {
    let record = match log::key(tenant, id) {
        Some(key) => load(kv, &key).await?,
        None => None,
    };
    match record {
        Some(record) => Response::from_json(&record),
        None => reply::error(
            404,
            ErrorBody::new("signIns.not_found", "no sign-in record with that id"),
        ),
    }
}

async fn load(kv: &KvStore, key: &str) -> Result<Option<Value>> {
    let text = kv.get(key).text().await?;
    Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
}

/// Scans keys newest first, filtering on their list metadata, until `$top` records
/// matched, the filter's lower time bound was passed, the log ended or
/// [`log::MAX_SCANNED`] keys were seen; then reads the matching records. A `$skiptoken`
/// resumes after the key the previous page stopped at; a page that stopped with keys left
/// links to the next one ([`paging`] decides both).
async fn list(req: &Request, kv: &KvStore, tenant: &str) -> Result<Response> {
    let url = req.url()?;
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let query = match Query::from_params(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
        Ok(q) => q,
        Err(e) => return reply::error(400, e),
    };
    let prefix = log::prefix(tenant);
    let mut wanted: Vec<(String, Option<Value>)> = Vec::new();
    // The cursor that lists the current page (none: the first), and the next one.
    let mut page_cursor = query.skip.as_ref().and_then(|p| p.cursor.clone());
    let mut cursor = page_cursor.clone();
    let mut scanned = 0usize;
    let mut stopped: Option<Position> = None;
    let mut first = true;
    'scan: loop {
        let mut list = kv.list().prefix(prefix.clone()).limit(1000);
        if let Some(c) = cursor.take() {
            list = list.cursor(c);
        }
        let page = match list.execute().await {
            Ok(page) => page,
            // KV refuses a cursor it did not issue: the caller's token, not our fault.
            Err(_) if first && page_cursor.is_some() => {
                return reply::error(400, paging::invalid_token());
            }
            Err(e) => return Err(e.into()),
        };
        first = false;
        let (len, complete) = (page.keys.len(), page.list_complete);
        // A page that stops on this list page's last key resumes on the next one.
        let next_cursor = page.cursor.clone().filter(|_| !complete);
        for (index, key) in page.keys.into_iter().enumerate() {
            let Some(suffix) = key.name.strip_prefix(&prefix) else {
                continue;
            };
            if query.skip.as_ref().is_some_and(|p| p.covers(suffix)) {
                continue;
            }
            scanned = scanned.saturating_add(1);
            let position = Position {
                cursor: match &next_cursor {
                    Some(next) if index.saturating_add(1) == len => Some(next.clone()),
                    _ => page_cursor.clone(),
                },
                after: suffix.to_string(),
            };
            // Without usable metadata, the record itself is read to be filtered.
            let (summary, record) = match log::summary_from_metadata(key.metadata.as_ref()) {
                Some(s) => (Some(s), None),
                None => {
                    let record = load(kv, &key.name).await?;
                    let summary = record.as_ref().and_then(SignInSummary::from_record_json);
                    (summary, record)
                }
            };
            let mut full = false;
            if let Some(summary) = summary {
                if query.filter.too_old(summary.at) {
                    break 'scan;
                }
                if query.filter.matches(&summary) {
                    wanted.push((key.name, record));
                    full = wanted.len() >= query.top;
                }
            }
            if full || scanned >= log::MAX_SCANNED {
                stopped = paging::more_after(index, len, complete).then_some(position);
                break 'scan;
            }
        }
        match next_cursor {
            Some(c) => {
                page_cursor = Some(c.clone());
                cursor = Some(c);
            }
            None => break,
        }
    }
    let next_link = match stopped {
        Some(position) => {
            let mut base = url.clone();
            base.set_query(None);
            Some(paging::next_link(base.as_str(), &pairs, &position))
        }
        None => None,
    };
    let mut records = Vec::with_capacity(wanted.len());
    for (key, record) in wanted {
        let record = match record {
            Some(r) => Some(r),
            None => load(kv, &key).await?,
        };
        // Gone between the list and the read (expired): leave it out.
        records.extend(record);
    }
    Response::from_json(&log::page(records, next_link))
}
