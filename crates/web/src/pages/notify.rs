//! The notifications' dead-letter list on the Settings page: messages the
//! notifier gave up on (too many attempts, too old, or refused for good), with
//! the receiver's last error, and a button that queues one again. Reading is
//! for everyone; retrying needs the analyst role and the CSRF token.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use nectar_store::{DeliveryInfo, Role, StoreError};
use serde::Deserialize;
use tracing::info;
use uuid::Uuid;

use super::{Layout, error_page, storage_error};
use crate::auth::CurrentUser;
use crate::{AppState, visible};

/// Dead deliveries listed (the newest).
const LISTED: usize = 20;

/// A dead delivery as the page shows it (every text escaped by the template;
/// the receiver's error is attacker-reachable text, so it is cut and made
/// visible first).
pub struct DeadRow {
    pub id: String,
    pub alert: String,
    pub channel: String,
    pub route: String,
    pub alerts: u64,
    pub attempts: u32,
    pub error: String,
    pub when: String,
}

/// The newest dead deliveries, when a notifier runs.
pub(super) async fn dead_rows(state: &AppState) -> Result<Vec<DeadRow>, StoreError> {
    if state.notify.is_none() {
        return Ok(Vec::new());
    }
    let short = super::timerange::short;
    Ok(state
        .store
        .notify_dead(LISTED)
        .await?
        .iter()
        .map(|d: &DeliveryInfo| DeadRow {
            id: d.id.to_string(),
            alert: d.alert_id.to_string(),
            channel: visible(&d.channel, 64),
            route: visible(&d.route, 64),
            alerts: d.alerts,
            attempts: d.attempts,
            error: visible(d.last_error.as_deref().unwrap_or(""), 200),
            when: short(d.updated),
        })
        .collect())
}

#[derive(Deserialize)]
pub struct RetryForm {
    csrf: String,
    id: String,
}

/// Puts a dead delivery back in the outbox, due now.
pub async fn retry(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Form(form): Form<RetryForm>,
) -> Response {
    let layout = Layout::new(&session, "settings");
    if let Err(refused) = layout.require(Role::Analyst, &form.csrf) {
        return refused;
    }
    let Ok(id) = Uuid::parse_str(form.id.trim()) else {
        return error_page(StatusCode::BAD_REQUEST, "That is not a delivery id.");
    };
    match state.store.notify_retry(id).await {
        Ok(()) => {}
        Err(StoreError::NotFound { .. }) => {
            return error_page(
                StatusCode::CONFLICT,
                "That delivery is not in the dead-letter list (already retried?).",
            );
        }
        Err(err) => return storage_error(err),
    }
    info!(by = %session.user.name, delivery = %id, "Dead notification queued again from the web UI.");
    let notice = format!("Notification {id} queued again.");
    super::settings::page_with(&state, layout, Some(notice), None).await
}
