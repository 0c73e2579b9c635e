//! Which connection a command acts on: `<provider> [--account NAME]`.

use crate::error::{Error, Result};
use crate::provider::Provider;
use crate::store::connections::{self, Connection, State};
use crate::store::db::Db;

/// The one live (not disconnected) connection of `provider` that `account` names.
pub fn one(db: &Db, provider: Provider, account: Option<&str>) -> Result<Connection> {
    let live: Vec<Connection> =
        connections::list(db, Some(provider))?.into_iter().filter(|c| c.state != State::Disconnected).collect();
    let picked: Vec<&Connection> = match account {
        Some(name) => live.iter().filter(|c| c.answers_to(name)).collect(),
        None => live.iter().collect(),
    };
    match picked.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(match account {
            Some(name) => Error::config(format!("no {provider} account '{name}' is connected")),
            None => Error::config(format!("no {provider} account is connected")),
        }
        .hint(if live.is_empty() {
            format!("run `integ connect {provider}` first")
        } else {
            format!("connected {provider} accounts: {}", labels(&live))
        })),
        many => Err(Error::config(format!("{} {provider} accounts are connected", many.len()))
            .hint(format!("choose one with --account ({})", labels(&live)))),
    }
}

fn labels(list: &[Connection]) -> String {
    list.iter().map(|c| format!("'{}'", c.label)).collect::<Vec<_>>().join(", ")
}
