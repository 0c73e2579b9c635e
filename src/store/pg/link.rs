//! A PostgreSQL session the synchronous store can use: statements wait for their answer the
//! way SQLite calls do.
//!
//! The driver's connection (socket, TLS) runs on a runtime of its own, on a thread of its own,
//! from the moment it connects until the link is dropped. The store's calls send requests to it
//! through the driver's client and park the calling thread until the answer is in; nothing in
//! that path needs the caller's runtime, so a sync in progress (itself on a single-threaded
//! runtime) just waits for the database, as it waits for SQLite. Statements are prepared once
//! per session and kept; values are converted by the types PostgreSQL inferred (see
//! [`crate::store::sql`]).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake};

use bytes::BytesMut;
use secrecy::SecretString;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{Client, Statement};

use super::{Pg, PgError, PgUrl};
use crate::store::db::DbError;
use crate::store::sql::{self, Param, Value};

type BoxError = Box<dyn std::error::Error + Sync + Send>;

/// Poll `f` to its end on this thread, parking between wake-ups.
pub fn block_on<F: Future>(f: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Arc::new(Unpark(std::thread::current())).into();
    let mut cx = Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        match f.as_mut().poll(&mut cx) {
            Poll::Ready(v) => return v,
            Poll::Pending => std::thread::park(),
        }
    }
}

/// An open session and the thread that drives it.
pub struct PgLink {
    client: Client,
    url: PgUrl,
    statements: Mutex<HashMap<String, Statement>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for PgLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgLink").field("url", &self.url.shown()).finish()
    }
}

impl PgLink {
    /// Connect (verified TLS unless the URL says otherwise) on a thread of its own.
    pub fn connect(url: PgUrl, password: Option<SecretString>) -> Result<PgLink, PgError> {
        let (answer_tx, answer_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("integ-postgres".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = answer_tx.send(Err(format!("cannot start the PostgreSQL thread's runtime: {e}")));
                        return;
                    }
                };
                rt.block_on(async move {
                    match super::connect(url, password).await {
                        Ok(pg) => {
                            if answer_tx.send(Ok(Ok(pg))).is_ok() {
                                // Drive the connection (spawned by `connect`) until the link goes.
                                let _ = stopped.await;
                            }
                        }
                        Err(e) => {
                            let _ = answer_tx.send(Ok(Err(e)));
                        }
                    }
                });
            })
            .map_err(|e| PgError::Query { url: String::new(), detail: format!("cannot start a thread: {e}") })?;
        let answer = answer_rx.recv().unwrap_or_else(|_| Err("the PostgreSQL thread ended early".into()));
        let Pg { client, url } = match answer {
            Ok(Ok(pg)) => pg,
            Ok(Err(e)) => return Err(e),
            Err(detail) => return Err(PgError::Query { url: String::new(), detail }),
        };
        Ok(PgLink { client, url, statements: Mutex::new(HashMap::new()), stop: Some(stop), thread: Some(thread) })
    }

    pub fn url(&self) -> &PgUrl {
        &self.url
    }

    /// The driver's client, for async code that runs its own statements (migrations, copy).
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn error(&self, e: &tokio_postgres::Error) -> DbError {
        DbError::Pg(super::query_error(&self.url, e).to_string())
    }

    fn statement(&self, sql: &str) -> Result<Statement, DbError> {
        if let Some(s) = self.statements.lock().expect("statement cache").get(sql) {
            return Ok(s.clone());
        }
        let stmt = block_on(self.client.prepare(&sql::to_postgres(sql))).map_err(|e| {
            // The statement's text (never a value: those are bound apart) says which one.
            let head: String = sql.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(120).collect();
            DbError::Pg(format!("{} (preparing `{head}`)", super::query_error(&self.url, &e)))
        })?;
        self.statements.lock().expect("statement cache").insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }

    fn bind(params: &[Param<'_>]) -> Vec<PgValue> {
        params.iter().map(|p| PgValue(Value::of(*p))).collect()
    }

    pub fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<usize, DbError> {
        let stmt = self.statement(sql)?;
        let values = Self::bind(params);
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        let n = block_on(self.client.execute(&stmt, &refs)).map_err(|e| self.error(&e))?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    pub fn query(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Vec<Value>>, DbError> {
        let stmt = self.statement(sql)?;
        let values = Self::bind(params);
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        let rows = block_on(self.client.query(&stmt, &refs)).map_err(|e| self.error(&e))?;
        rows.iter()
            .map(|row| {
                (0..row.len())
                    .map(|i| row.try_get::<_, Cell>(i).map(|c| c.0).map_err(|e| self.error(&e)))
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect()
    }

    pub fn batch(&self, sql: &str) -> Result<(), DbError> {
        block_on(self.client.batch_execute(sql)).map_err(|e| self.error(&e))
    }

    /// Statements on this session, outside any transaction.
    pub fn conn(&self) -> crate::store::sql::Conn<'_> {
        crate::store::sql::Conn::pg(self)
    }

    /// Run an async piece of work on this session from synchronous code.
    pub fn run<T>(&self, f: impl Future<Output = T>) -> T {
        block_on(f)
    }
}

impl Drop for PgLink {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A parameter converted to the type PostgreSQL inferred for its place.
#[derive(Debug)]
struct PgValue(Value);

fn mismatch(v: &Value, ty: &Type) -> BoxError {
    format!("cannot store {v:?} in a column of type {ty}").into()
}

impl ToSql for PgValue {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let v = &self.0;
        match v {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i).map_err(|_| mismatch(v, ty))?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i).map_err(|_| mismatch(v, ty))?.to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                Type::FLOAT4 => (*i as f32).to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                    i.to_string().as_str().to_sql(&Type::TEXT, out)
                }
                _ => Err(mismatch(v, ty)),
            },
            Value::Real(f) => match *ty {
                Type::FLOAT8 => f.to_sql(ty, out),
                Type::FLOAT4 => (*f as f32).to_sql(ty, out),
                Type::INT8 if f.fract() == 0.0 => (*f as i64).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR | Type::UNKNOWN => f.to_string().as_str().to_sql(&Type::TEXT, out),
                _ => Err(mismatch(v, ty)),
            },
            Value::Text(s) => match *ty {
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                    s.as_str().to_sql(&Type::TEXT, out)
                }
                Type::JSON => {
                    out.extend_from_slice(s.as_bytes());
                    Ok(IsNull::No)
                }
                Type::JSONB => {
                    out.extend_from_slice(&[1]);
                    out.extend_from_slice(s.as_bytes());
                    Ok(IsNull::No)
                }
                Type::INT8 => s.parse::<i64>().map_err(|_| mismatch(v, ty))?.to_sql(ty, out),
                _ => Err(mismatch(v, ty)),
            },
            Value::Blob(b) => match *ty {
                Type::BYTEA => b.as_slice().to_sql(ty, out),
                _ => Err(mismatch(v, ty)),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// A cell read into SQLite's value model.
struct Cell(Value);

impl<'a> FromSql<'a> for Cell {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(Cell(match *ty {
            Type::INT8 => Value::Int(i64::from_sql(ty, raw)?),
            Type::INT4 => Value::Int(i32::from_sql(ty, raw)?.into()),
            Type::INT2 => Value::Int(i16::from_sql(ty, raw)?.into()),
            Type::OID => Value::Int(u32::from_sql(ty, raw)?.into()),
            Type::BOOL => Value::Int(bool::from_sql(ty, raw)?.into()),
            Type::FLOAT8 => Value::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => Value::Real(f32::from_sql(ty, raw)?.into()),
            Type::NUMERIC => numeric(raw)?,
            Type::BYTEA => Value::Blob(raw.to_vec()),
            Type::JSONB => Value::Text(String::from_utf8(raw.get(1..).unwrap_or_default().to_vec())?),
            _ => Value::Text(<&str>::from_sql(ty, raw)?.to_string()),
        }))
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(Cell(Value::Null))
    }

    fn accepts(ty: &Type) -> bool {
        <&str as FromSql>::accepts(ty)
            || matches!(
                *ty,
                Type::INT8
                    | Type::INT4
                    | Type::INT2
                    | Type::OID
                    | Type::BOOL
                    | Type::FLOAT8
                    | Type::FLOAT4
                    | Type::NUMERIC
                    | Type::BYTEA
                    | Type::JSONB
            )
    }
}

/// A NUMERIC in binary form (what `sum()` of integers returns): an integer when it has no
/// fraction and fits, a real otherwise.
fn numeric(raw: &[u8]) -> Result<Value, BoxError> {
    let word = |i: usize| -> Result<i16, BoxError> {
        raw.get(i..i + 2).map(|b| i16::from_be_bytes([b[0], b[1]])).ok_or_else(|| "short NUMERIC".into())
    };
    let (ndigits, weight, sign, dscale) = (word(0)?, word(2)?, word(4)? as u16, word(6)?);
    if sign == 0xC000 {
        return Ok(Value::Real(f64::NAN));
    }
    let mut value = 0f64;
    for d in 0..ndigits.max(0) as usize {
        let digit = f64::from(word(8 + 2 * d)?);
        value += digit * 10000f64.powi(i32::from(weight) - d as i32);
    }
    if sign == 0x4000 {
        value = -value;
    }
    if dscale == 0 && value.abs() < 9.0e15 { Ok(Value::Int(value as i64)) } else { Ok(Value::Real(value)) }
}
