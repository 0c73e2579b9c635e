//! `integ status`: every connection, its token expiry, the last run of each stream and the
//! next thing the user must do. Exit 4 when any connection needs reconnecting, so a monitor can
//! alert on the exit code alone.

use comfy_table::Table;

use crate::cli::StatusArgs;
use crate::context::Context;
use crate::error::{Done, Kind, Result};
use crate::store::connections::{self, State};
use crate::store::runs::{self, StreamStatus};
use crate::ui::{Listing, Ui};

#[derive(Debug, serde::Serialize)]
struct Entry {
    provider: String,
    account: String,
    account_name: String,
    account_id: String,
    state: State,
    token_expires_at: Option<String>,
    last_refresh_at: Option<String>,
    last_error: Option<String>,
    streams: Vec<StreamStatus>,
    /// What the user must do, if anything.
    action: Option<String>,
}

#[derive(Debug, serde::Serialize)]
#[serde(transparent)]
struct StatusList(Vec<Entry>);

impl Listing for StatusList {
    fn table(&self) -> Table {
        let mut t = Ui::table(&["PROVIDER", "ACCOUNT", "STATE", "TOKEN EXPIRES", "LAST SYNC", "ACTION"]);
        for e in &self.0 {
            let syncs = if e.streams.is_empty() {
                "never".to_string()
            } else {
                e.streams
                    .iter()
                    .map(|s| {
                        format!(
                            "{}: {} {}",
                            s.stream,
                            s.outcome.as_deref().unwrap_or("-"),
                            s.last_run_finished_at.as_deref().or(s.last_run_started_at.as_deref()).unwrap_or("")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            t.add_row(vec![
                e.provider.clone(),
                e.account.clone(),
                e.state.as_str().replace('_', " "),
                e.token_expires_at.clone().unwrap_or_else(|| "-".into()),
                syncs,
                e.action.clone().or_else(|| e.last_error.clone()).unwrap_or_default(),
            ]);
        }
        t
    }

    fn empty_message(&self) -> Option<String> {
        self.0.is_empty().then(|| {
            "No accounts connected yet. Start with `integ connect jobber` (or google, microsoft, calendly).".to_string()
        })
    }
}

pub fn run(ctx: &mut Context, _args: StatusArgs) -> Result<Done> {
    let mut entries = Vec::new();
    if let Some(db) = ctx.existing_db()? {
        for c in connections::list(db, None)? {
            let streams = runs::streams(db, c.id)?;
            let action = match c.state {
                State::ReconnectNeeded => Some(format!("run `integ connect {} --account '{}'`", c.provider, c.label)),
                _ => None,
            };
            entries.push(Entry {
                provider: c.provider.name().to_string(),
                account: c.label.clone(),
                account_name: c.account_name.clone(),
                account_id: c.account_id.clone(),
                state: c.state,
                token_expires_at: c.token_expires_at.clone(),
                last_refresh_at: c.last_refresh_at.clone(),
                last_error: c.last_error.clone(),
                streams,
                action,
            });
        }
    }
    let reconnect = entries.iter().filter(|e| e.state == State::ReconnectNeeded).count();
    ctx.ui.data(&StatusList(entries))?;
    if reconnect > 0 {
        ctx.ui.warn(format!("{reconnect} connection(s) need reconnecting; see the ACTION column"));
        return Ok(Done::With(Kind::Reconnect));
    }
    Ok(Done::Ok)
}
