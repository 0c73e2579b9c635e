//! One way to speak SQL to either database: parameters, rows and statements that mean the same
//! on SQLite and on PostgreSQL, so every query in the store is written once.
//!
//! Statements are written in SQLite's spelling with numbered parameters (`?1`, `?2`); on
//! PostgreSQL they become `$1`, `$2`. The few places where the two dialects differ (JSON
//! functions, `group_concat`) ask [`Conn::dialect`] for the right fragment. Values follow
//! SQLite's model (integer, real, text, blob, null): PostgreSQL's `BIGINT`/`INTEGER` arrive as
//! integers, `BOOLEAN` as 0/1, `DOUBLE PRECISION` as reals, and a parameter is converted to the
//! type PostgreSQL inferred for its place, so the same Rust value fits both.
//! PostgreSQL infers a parameter's type from its first use, so an optional filter is written
//! `(CAST(?1 AS TEXT) IS NULL OR col = ?1)`: a bare `?1 IS NULL` leaves it without a type.

use crate::store::db::{DbError, classify};
use crate::store::pg::link::PgLink;

/// Which SQL dialect a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// `text IN (<this>)` over the elements of a JSON array of strings bound at `param`.
    pub fn json_strings(self, param: usize) -> String {
        match self {
            Dialect::Sqlite => format!("SELECT value FROM json_each(?{param})"),
            Dialect::Postgres => format!("SELECT json_array_elements_text(?{param}::json)"),
        }
    }

    /// The string aggregate of `expr` joined by `sep` (a literal).
    pub fn string_agg(self, expr: &str, sep: &str) -> String {
        match self {
            Dialect::Sqlite => format!("group_concat({expr}, '{sep}')"),
            Dialect::Postgres => format!("string_agg({expr}, '{sep}')"),
        }
    }

    /// The JSON member `key` of the text column `col`, as text (`NULL` when absent).
    pub fn json_text(self, col: &str, key: &str) -> String {
        match self {
            Dialect::Sqlite => format!("CAST(json_extract({col}, '$.{key}') AS TEXT)"),
            Dialect::Postgres => format!("({col})::jsonb ->> '{key}'"),
        }
    }

    /// Whether the JSON member `key` of `col` is the boolean `true`.
    pub fn json_true(self, col: &str, key: &str) -> String {
        match self {
            Dialect::Sqlite => format!("coalesce(json_extract({col}, '$.{key}'), 0) = 1"),
            Dialect::Postgres => format!("coalesce((({col})::jsonb -> '{key}') = 'true'::jsonb, false)"),
        }
    }

    /// Seconds between two RFC 3339 texts (`later - earlier`), as an integer.
    pub fn seconds_between(self, later: &str, earlier: &str) -> String {
        match self {
            Dialect::Sqlite => {
                format!("(CAST(strftime('%s', {later}) AS INTEGER) - CAST(strftime('%s', {earlier}) AS INTEGER))")
            }
            Dialect::Postgres => {
                format!("CAST(extract(epoch from (({later})::timestamptz - ({earlier})::timestamptz)) AS BIGINT)")
            }
        }
    }

    /// The larger of two integer expressions.
    pub fn greatest(self, a: &str, b: &str) -> String {
        match self {
            Dialect::Sqlite => format!("max({a}, {b})"),
            Dialect::Postgres => format!("greatest({a}, {b})"),
        }
    }
}

/// A parameter, borrowed from the caller.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Param<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

/// Anything that binds as a parameter.
pub trait ToParam {
    fn param(&self) -> Param<'_>;
}

macro_rules! int_param {
    ($($t:ty),*) => {$(
        impl ToParam for $t {
            fn param(&self) -> Param<'_> {
                Param::Int(i64::from(*self))
            }
        }
    )*};
}
int_param!(i64, i32, u32, u16, u8, bool);

impl ToParam for usize {
    fn param(&self) -> Param<'_> {
        Param::Int(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}
impl ToParam for u64 {
    fn param(&self) -> Param<'_> {
        Param::Int(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}
impl ToParam for f64 {
    fn param(&self) -> Param<'_> {
        Param::Real(*self)
    }
}
impl ToParam for str {
    fn param(&self) -> Param<'_> {
        Param::Text(self)
    }
}
impl ToParam for String {
    fn param(&self) -> Param<'_> {
        Param::Text(self)
    }
}
impl ToParam for [u8] {
    fn param(&self) -> Param<'_> {
        Param::Blob(self)
    }
}
impl ToParam for Vec<u8> {
    fn param(&self) -> Param<'_> {
        Param::Blob(self)
    }
}
impl<T: ToParam + ?Sized> ToParam for &T {
    fn param(&self) -> Param<'_> {
        (**self).param()
    }
}
impl<T: ToParam> ToParam for Option<T> {
    fn param(&self) -> Param<'_> {
        match self {
            Some(v) => v.param(),
            None => Param::Null,
        }
    }
}
impl ToParam for Param<'_> {
    fn param(&self) -> Param<'_> {
        *self
    }
}

/// `params![a, b, c]`: a slice of parameters, borrowed.
#[macro_export]
macro_rules! sql_params {
    () => { &[] as &[$crate::store::sql::Param<'_>] };
    ($($x:expr),+ $(,)?) => { &[$($crate::store::sql::ToParam::param(&$x)),+] as &[$crate::store::sql::Param<'_>] };
}
pub use crate::sql_params as params;

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match *self {
            Param::Null => ValueRef::Null,
            Param::Int(i) => ValueRef::Integer(i),
            Param::Real(f) => ValueRef::Real(f),
            Param::Text(s) => ValueRef::Text(s.as_bytes()),
            Param::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

/// An owned value (a PostgreSQL row's cells, and parameters sent to its thread).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl Value {
    pub fn of(p: Param<'_>) -> Value {
        match p {
            Param::Null => Value::Null,
            Param::Int(i) => Value::Int(i),
            Param::Real(f) => Value::Real(f),
            Param::Text(s) => Value::Text(s.to_owned()),
            Param::Blob(b) => Value::Blob(b.to_vec()),
        }
    }
    fn as_ref(&self) -> Cell<'_> {
        match self {
            Value::Null => Cell::Null,
            Value::Int(i) => Cell::Int(*i),
            Value::Real(f) => Cell::Real(*f),
            Value::Text(s) => Cell::Text(s),
            Value::Blob(b) => Cell::Blob(b),
        }
    }
}

/// One cell of a row, borrowed.
#[derive(Debug, Clone, Copy)]
pub enum Cell<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

impl Cell<'_> {
    fn kind(&self) -> &'static str {
        match self {
            Cell::Null => "null",
            Cell::Int(_) => "integer",
            Cell::Real(_) => "real",
            Cell::Text(_) => "text",
            Cell::Blob(_) => "blob",
        }
    }
}

/// A value a cell can be read as.
pub trait FromCell: Sized {
    fn from_cell(cell: Cell<'_>) -> Option<Self>;
}

macro_rules! int_cell {
    ($($t:ty),*) => {$(
        impl FromCell for $t {
            fn from_cell(cell: Cell<'_>) -> Option<Self> {
                match cell {
                    Cell::Int(i) => <$t>::try_from(i).ok(),
                    _ => None,
                }
            }
        }
    )*};
}
int_cell!(i64, i32, u32, u64, usize);

impl FromCell for bool {
    fn from_cell(cell: Cell<'_>) -> Option<Self> {
        match cell {
            Cell::Int(i) => Some(i != 0),
            _ => None,
        }
    }
}
impl FromCell for f64 {
    fn from_cell(cell: Cell<'_>) -> Option<Self> {
        match cell {
            Cell::Real(f) => Some(f),
            Cell::Int(i) => Some(i as f64),
            _ => None,
        }
    }
}
impl FromCell for String {
    fn from_cell(cell: Cell<'_>) -> Option<Self> {
        match cell {
            Cell::Text(s) => Some(s.to_owned()),
            _ => None,
        }
    }
}
impl FromCell for Vec<u8> {
    fn from_cell(cell: Cell<'_>) -> Option<Self> {
        match cell {
            Cell::Blob(b) => Some(b.to_vec()),
            Cell::Text(s) => Some(s.as_bytes().to_vec()),
            _ => None,
        }
    }
}
impl<T: FromCell> FromCell for Option<T> {
    fn from_cell(cell: Cell<'_>) -> Option<Self> {
        match cell {
            Cell::Null => Some(None),
            other => T::from_cell(other).map(Some),
        }
    }
}

/// One row of a result.
pub struct Row<'a>(RowInner<'a>);

enum RowInner<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    Pg(&'a [Value]),
}

impl Row<'_> {
    fn cell(&self, i: usize) -> Result<Cell<'_>, DbError> {
        match &self.0 {
            RowInner::Sqlite(r) => {
                use rusqlite::types::ValueRef;
                Ok(match r.get_ref(i).map_err(classify)? {
                    ValueRef::Null => Cell::Null,
                    ValueRef::Integer(i) => Cell::Int(i),
                    ValueRef::Real(f) => Cell::Real(f),
                    ValueRef::Text(t) => Cell::Text(
                        std::str::from_utf8(t)
                            .map_err(|_| DbError::Value { column: i, reason: "invalid UTF-8".into() })?,
                    ),
                    ValueRef::Blob(b) => Cell::Blob(b),
                })
            }
            RowInner::Pg(values) => values
                .get(i)
                .map(Value::as_ref)
                .ok_or_else(|| DbError::Value { column: i, reason: "no such column".into() }),
        }
    }

    /// Column `i`, converted; a NULL or a value of another kind is an error unless `T` allows it.
    pub fn get<T: FromCell>(&self, i: usize) -> Result<T, DbError> {
        let cell = self.cell(i)?;
        T::from_cell(cell).ok_or_else(|| DbError::Value {
            column: i,
            reason: format!("a {} value where {} was expected", cell.kind(), std::any::type_name::<T>()),
        })
    }
}

/// A connection, or a transaction on one: where statements run.
#[derive(Clone, Copy)]
pub struct Conn<'a>(ConnInner<'a>);

#[derive(Clone, Copy)]
enum ConnInner<'a> {
    Sqlite(&'a rusqlite::Connection),
    Pg(&'a PgLink),
}

impl<'a> Conn<'a> {
    pub fn sqlite(c: &'a rusqlite::Connection) -> Conn<'a> {
        Conn(ConnInner::Sqlite(c))
    }
    pub fn pg(link: &'a PgLink) -> Conn<'a> {
        Conn(ConnInner::Pg(link))
    }

    pub fn dialect(&self) -> Dialect {
        match self.0 {
            ConnInner::Sqlite(_) => Dialect::Sqlite,
            ConnInner::Pg(_) => Dialect::Postgres,
        }
    }

    /// Run a statement; the number of rows it changed.
    pub fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<usize, DbError> {
        match self.0 {
            ConnInner::Sqlite(c) => {
                c.prepare_cached(sql).and_then(|mut s| s.execute(rusqlite::params_from_iter(params))).map_err(classify)
            }
            ConnInner::Pg(link) => link.execute(sql, params),
        }
    }

    /// Every row of a query, each mapped by `f`.
    pub fn query_map<T>(
        &self,
        sql: &str,
        params: &[Param<'_>],
        mut f: impl FnMut(&Row<'_>) -> Result<T, DbError>,
    ) -> Result<Vec<T>, DbError> {
        let mut out = Vec::new();
        self.for_each(sql, params, |r| {
            out.push(f(r)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// Call `f` on each row of a query, in order.
    pub fn for_each(
        &self,
        sql: &str,
        params: &[Param<'_>],
        mut f: impl FnMut(&Row<'_>) -> Result<(), DbError>,
    ) -> Result<(), DbError> {
        match self.0 {
            ConnInner::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql).map_err(classify)?;
                let mut rows = stmt.query(rusqlite::params_from_iter(params)).map_err(classify)?;
                while let Some(r) = rows.next().map_err(classify)? {
                    f(&Row(RowInner::Sqlite(r)))?;
                }
                Ok(())
            }
            ConnInner::Pg(link) => {
                for values in link.query(sql, params)? {
                    f(&Row(RowInner::Pg(&values)))?;
                }
                Ok(())
            }
        }
    }

    /// The first row of a query mapped by `f`, or `None` when there is none.
    pub fn query_opt<T>(
        &self,
        sql: &str,
        params: &[Param<'_>],
        f: impl FnOnce(&Row<'_>) -> Result<T, DbError>,
    ) -> Result<Option<T>, DbError> {
        match self.0 {
            // Only the first row is stepped to.
            ConnInner::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql).map_err(classify)?;
                let mut rows = stmt.query(rusqlite::params_from_iter(params)).map_err(classify)?;
                match rows.next().map_err(classify)? {
                    Some(r) => f(&Row(RowInner::Sqlite(r))).map(Some),
                    None => Ok(None),
                }
            }
            ConnInner::Pg(link) => match link.query(sql, params)?.first() {
                Some(values) => f(&Row(RowInner::Pg(values))).map(Some),
                None => Ok(None),
            },
        }
    }

    /// The first row of a query that must return one.
    pub fn query_one<T>(
        &self,
        sql: &str,
        params: &[Param<'_>],
        f: impl FnOnce(&Row<'_>) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        self.query_opt(sql, params, f)?.ok_or(DbError::NoRow)
    }

    /// Run an INSERT of one row and return its `id_column` (the table's integer row id):
    /// SQLite's last row id, PostgreSQL's `RETURNING`.
    pub fn insert_id(&self, sql: &str, params: &[Param<'_>], id_column: &str) -> Result<i64, DbError> {
        match self.0 {
            ConnInner::Sqlite(c) => {
                self.execute(sql, params)?;
                Ok(c.last_insert_rowid())
            }
            ConnInner::Pg(link) => {
                let rows = link.query(&format!("{sql} RETURNING {id_column}"), params)?;
                match rows.first().and_then(|r| r.first()) {
                    Some(Value::Int(id)) => Ok(*id),
                    _ => Err(DbError::NoRow),
                }
            }
        }
    }

    /// Several statements without parameters.
    pub fn batch(&self, sql: &str) -> Result<(), DbError> {
        match self.0 {
            ConnInner::Sqlite(c) => c.execute_batch(sql).map_err(classify),
            ConnInner::Pg(link) => link.batch(sql),
        }
    }
}

/// Turn SQLite's `?N` parameters into PostgreSQL's `$N` (outside string literals).
pub fn to_postgres(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut in_string = false;
    for c in sql.chars() {
        match c {
            '\'' => {
                in_string = !in_string;
                out.push(c);
            }
            '?' if !in_string => out.push('$'),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_renumbered_outside_strings() {
        assert_eq!(to_postgres("SELECT ?1, '?2', ?12 WHERE a = ?3"), "SELECT $1, '?2', $12 WHERE a = $3");
    }

    #[test]
    fn sqlite_rows_convert_like_postgres_rows() {
        let c = rusqlite::Connection::open_in_memory().unwrap();
        let conn = Conn::sqlite(&c);
        conn.batch("CREATE TABLE t (a INTEGER, b TEXT, c REAL)").unwrap();
        let name = String::from("x");
        assert_eq!(conn.execute("INSERT INTO t VALUES (?1, ?2, ?3)", params![7_i64, name, 1.5]).unwrap(), 1);
        conn.execute("INSERT INTO t VALUES (?1, ?2, ?3)", params![true, None::<String>, 2_i64]).unwrap();
        let rows = conn
            .query_map("SELECT a, b, c FROM t ORDER BY a DESC", params![], |r| {
                Ok((r.get::<i64>(0)?, r.get::<Option<String>>(1)?, r.get::<f64>(2)?))
            })
            .unwrap();
        assert_eq!(rows, [(7, Some("x".into()), 1.5), (1, None, 2.0)]);
        assert!(conn.query_one("SELECT b FROM t WHERE a = 1", params![], |r| r.get::<String>(0)).is_err());
        assert!(conn.query_opt("SELECT a FROM t WHERE a = 99", params![], |r| r.get::<i64>(0)).unwrap().is_none());
    }
}
