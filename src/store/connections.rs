//! Rows of the `connections` table: which accounts are connected, their state and token
//! metadata (never the tokens themselves, which live in the secret store).

use super::db::{Db, DbError};
use super::sql::{Row, params};
use crate::provider::Provider;

/// A connection's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Connected,
    ReconnectNeeded,
    Disconnected,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Connected => "connected",
            State::ReconnectNeeded => "reconnect_needed",
            State::Disconnected => "disconnected",
        }
    }
    fn parse(s: &str) -> State {
        match s {
            "connected" => State::Connected,
            "reconnect_needed" => State::ReconnectNeeded,
            _ => State::Disconnected,
        }
    }
}

/// One row of `connections`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Connection {
    pub id: i64,
    pub provider: Provider,
    pub account_id: String,
    pub account_name: String,
    pub label: String,
    pub scopes: String,
    pub token_expires_at: Option<String>,
    pub state: State,
    pub created_at: String,
    pub updated_at: String,
    pub last_refresh_at: Option<String>,
    pub last_error: Option<String>,
}

impl Connection {
    /// Whether `--account NAME` picks this connection (label, display name, or account id).
    pub fn answers_to(&self, name: &str) -> bool {
        self.label.eq_ignore_ascii_case(name) || self.account_name.eq_ignore_ascii_case(name) || self.account_id == name
    }

    /// The secret-store key of this connection's token bundle.
    pub fn secret_key(&self) -> String {
        token_key(self.provider, &self.account_id)
    }
    /// The name of one of this connection's lock files, e.g. `sync-jobber-1a2b3c4d5e6f7a8b`:
    /// the account id hashed, because ids may hold characters a file name cannot.
    pub fn lock_name(&self, purpose: &str) -> String {
        lock_name(self.provider, &self.account_id, purpose)
    }

    /// "jobber account 'Acme Lawn' (label)" for messages.
    pub fn describe(&self) -> String {
        if self.label == self.account_name {
            format!("{} account '{}'", self.provider, self.account_name)
        } else {
            format!("{} account '{}' ({})", self.provider, self.label, self.account_name)
        }
    }
}

/// The secret-store key holding one account's tokens.
pub fn token_key(provider: Provider, account_id: &str) -> String {
    format!("{}/{}/tokens", provider.name(), account_id)
}

const COLUMNS: &str = "id, provider, account_id, account_name, label, scopes, token_expires_at, state, \
                       created_at, updated_at, last_refresh_at, last_error";

fn from_row(r: &Row<'_>) -> Result<Connection, DbError> {
    let provider: String = r.get(1)?;
    Ok(Connection {
        id: r.get(0)?,
        provider: provider.parse().map_err(|reason: String| DbError::Value { column: 1, reason })?,
        account_id: r.get(2)?,
        account_name: r.get(3)?,
        label: r.get(4)?,
        scopes: r.get(5)?,
        token_expires_at: r.get(6)?,
        state: State::parse(&r.get::<String>(7)?),
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
        last_refresh_at: r.get(10)?,
        last_error: r.get(11)?,
    })
}

/// Every connection, optionally of one provider, in a stable order.
pub fn list(db: &Db, provider: Option<Provider>) -> Result<Vec<Connection>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM connections WHERE (CAST(?1 AS TEXT) IS NULL OR provider = ?1) ORDER BY provider, label, id"
    );
    db.conn().query_map(&sql, params![provider.map(Provider::name)], from_row)
}

pub fn get(db: &Db, id: i64) -> Result<Option<Connection>, DbError> {
    db.conn().query_opt(&format!("SELECT {COLUMNS} FROM connections WHERE id = ?1"), params![id], from_row)
}

/// What `connect` learned about an account.
#[derive(Debug, Clone)]
pub struct NewConnection<'a> {
    pub provider: Provider,
    pub account_id: &'a str,
    pub account_name: &'a str,
    pub label: &'a str,
    pub scopes: &'a str,
    pub token_expires_at: Option<&'a str>,
}

/// Insert or refresh a connection after a successful authorization; returns its id.
pub fn upsert_connected(db: &mut Db, c: &NewConnection<'_>, now: &str) -> Result<i64, DbError> {
    db.write(|tx| -> Result<i64, DbError> {
        tx.execute(
            "INSERT INTO connections (provider, account_id, account_name, label, scopes, token_expires_at,
                                      state, created_at, updated_at, last_refresh_at, last_error)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'connected', ?7, ?7, ?7, NULL)
             ON CONFLICT (provider, account_id) DO UPDATE SET
                account_name = excluded.account_name, label = excluded.label, scopes = excluded.scopes,
                token_expires_at = excluded.token_expires_at, state = 'connected',
                updated_at = excluded.updated_at, last_refresh_at = excluded.last_refresh_at, last_error = NULL",
            params![c.provider.name(), c.account_id, c.account_name, c.label, c.scopes, c.token_expires_at, now],
        )?;
        tx.query_one(
            "SELECT id FROM connections WHERE provider = ?1 AND account_id = ?2",
            params![c.provider.name(), c.account_id],
            |r| r.get(0),
        )
    })
}

/// Record a successful refresh.
pub fn record_refresh(
    db: &mut Db,
    id: i64,
    expires_at: Option<&str>,
    scopes: Option<&str>,
    now: &str,
) -> Result<(), DbError> {
    db.write(|tx| -> Result<(), DbError> {
        tx.execute(
            "UPDATE connections SET token_expires_at = ?2, scopes = coalesce(?3, scopes), state = 'connected',
                    last_refresh_at = ?4, updated_at = ?4, last_error = NULL WHERE id = ?1",
            params![id, expires_at, scopes, now],
        )
        .map(|_| ())
    })
}

/// Change a connection's state, with the error that caused it (if any).
pub fn set_state(db: &mut Db, id: i64, state: State, error: Option<&str>, now: &str) -> Result<(), DbError> {
    db.write(|tx| -> Result<(), DbError> {
        tx.execute(
            "UPDATE connections SET state = ?2, last_error = ?3, updated_at = ?4 WHERE id = ?1",
            params![id, state.as_str(), error, now],
        )
        .map(|_| ())
    })
}

/// The lock file name for one account's `purpose` ("refresh", "sync"), before or after its
/// connection row exists.
pub fn lock_name(provider: Provider, account_id: &str, purpose: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(account_id.as_bytes());
    let short: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("{purpose}-{provider}-{short}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsert_keeps_one_row_per_identity() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("integ.db")).unwrap();
        let mut c = NewConnection {
            provider: Provider::Jobber,
            account_id: "acct-1",
            account_name: "Acme",
            label: "Acme",
            scopes: "",
            token_expires_at: Some("2026-01-01T00:00:00Z"),
        };
        let a = upsert_connected(&mut db, &c, "t1").unwrap();
        set_state(&mut db, a, State::ReconnectNeeded, Some("refresh failed"), "t2").unwrap();
        c.account_name = "Acme Lawn";
        let b = upsert_connected(&mut db, &c, "t3").unwrap();
        assert_eq!(a, b);
        let all = list(&db, None).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].state, State::Connected);
        assert_eq!(all[0].account_name, "Acme Lawn");
        assert_eq!(all[0].created_at, "t1");
        assert!(all[0].last_error.is_none());
        assert!(list(&db, Some(Provider::Google)).unwrap().is_empty());
    }
}
