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
/// [`log::MAX_SCANNED`] keys were seen; then reads the matching records.
async fn list(req: &Request, kv: &KvStore, tenant: &str) -> Result<Response> {
    let url = req.url()?;
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let query = match Query::from_params(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
        Ok(q) => q,
        Err(e) => return reply::error(400, e),
    };
    let mut wanted: Vec<(String, Option<Value>)> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut scanned = 0usize;
    'scan: loop {
        let mut page = kv.list().prefix(log::prefix(tenant)).limit(1000);
        if let Some(c) = cursor.take() {
            page = page.cursor(c);
        }
        let page = page.execute().await?;
        for key in page.keys {
            scanned = scanned.saturating_add(1);
            // Without usable metadata, the record itself is read to be filtered.
            let (summary, record) = match log::summary_from_metadata(key.metadata.as_ref()) {
                Some(s) => (Some(s), None),
                None => {
                    let record = load(kv, &key.name).await?;
                    let summary = record.as_ref().and_then(SignInSummary::from_record_json);
                    (summary, record)
                }
            };
            if let Some(summary) = summary {
                if query.filter.too_old(summary.at) {
                    break 'scan;
                }
                if query.filter.matches(&summary) {
                    wanted.push((key.name, record));
                    if wanted.len() >= query.top {
                        break 'scan;
                    }
                }
            }
            if scanned >= log::MAX_SCANNED {
                break 'scan;
            }
        }
        match page.cursor {
            Some(c) if !page.list_complete => cursor = Some(c),
            _ => break,
        }
    }
    let mut records = Vec::with_capacity(wanted.len());
    for (key, record) in wanted {
        let record = match record {
            Some(r) => Some(r),
            None => load(kv, &key).await?,
        };
        // Gone between the list and the read (expired): leave it out.
        records.extend(record);
    }
    Response::from_json(&log::page(records))
}
