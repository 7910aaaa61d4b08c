//! The backend seam: one handle on either database, SQLite (the embedded default)
//! or PostgreSQL, and the few types every query of the store goes through.
//!
//! Why not sqlx's `Any` driver: it erases types at run time and speaks one
//! dialect, while the two engines differ in exactly the places that matter here
//! (upserts, JSON paths, full-text search, partitions, locking). Instead the
//! store writes its SQL once in the dialect both understand — `?` placeholders,
//! `ON CONFLICT`, `COALESCE`, `BIGINT` — and asks [`Backend`] for the spelling
//! where they differ ([`Backend::json_text`], [`Backend::event_columns`]). The
//! types here are two-armed enums with the same code in each arm, so every query
//! is compiled, typed and prepared for both engines, with no dynamic dispatch.
//!
//! Values bound or read must be encodable and decodable by both drivers
//! ([`Bind`], [`Get`]): `i64` for every integer column (PostgreSQL's `BIGINT`),
//! `&str`/`String`, `&[u8]`/`Vec<u8>`, `bool`, `f64` and their `Option`s.

use std::borrow::Cow;

use sqlx::postgres::{PgArguments, PgConnection, PgPool, PgRow};
use sqlx::sqlite::{SqliteArguments, SqliteConnection, SqlitePool, SqliteRow};
use sqlx::{Arguments, Decode, Postgres, Sqlite, Type};

use crate::StoreError;

/// Which engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file (WAL mode): one machine, nothing to install.
    Sqlite,
    /// A PostgreSQL server: many sensors, several Nectar servers, years of events.
    Postgres,
}

impl Backend {
    /// The name shown on status pages and in errors.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// The connections of a store.
#[derive(Debug, Clone)]
pub(crate) enum Db {
    /// Readers share a pool; writes go through a one-connection pool, so they
    /// queue in Rust (visible, bounded) rather than on SQLite's busy lock.
    Sqlite {
        readers: SqlitePool,
        writer: SqlitePool,
    },
    /// One pool: PostgreSQL serves concurrent writers itself.
    Postgres { pool: PgPool },
}

impl Db {
    pub(crate) fn backend(&self) -> Backend {
        match self {
            Db::Sqlite { .. } => Backend::Sqlite,
            Db::Postgres { .. } => Backend::Postgres,
        }
    }

    /// Where reads go.
    pub(crate) fn read(&self) -> Exec<'_> {
        match self {
            Db::Sqlite { readers, .. } => Exec::SqlitePool(readers),
            Db::Postgres { pool } => Exec::PgPool(pool),
        }
    }

    /// Where single writes outside a transaction go.
    pub(crate) fn write(&self) -> Exec<'_> {
        match self {
            Db::Sqlite { writer, .. } => Exec::SqlitePool(writer),
            Db::Postgres { pool } => Exec::PgPool(pool),
        }
    }

    /// A statement to be assembled for this store's engine ([`Query::backend`]).
    pub(crate) fn builder<'q>(&self, init: impl Into<String>) -> Query<'q> {
        let mut query = builder(init);
        query.backend = Some(self.backend());
        query
    }

    /// Starts a write transaction. SQLite takes the write lock at once (`BEGIN
    /// IMMEDIATE`), so whatever the transaction reads first is not stale.
    pub(crate) async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Db::Sqlite { writer, .. } => Tx::Sqlite(writer.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres { pool } => Tx::Postgres(pool.begin().await?),
        })
    }

    pub(crate) async fn close(&self) {
        match self {
            Db::Sqlite { readers, writer } => {
                readers.close().await;
                writer.close().await;
            }
            Db::Postgres { pool } => pool.close().await,
        }
    }
}

/// A transaction; dropped without [`Tx::commit`], it rolls back.
pub(crate) enum Tx {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

impl Tx {
    /// Runs statements inside the transaction.
    pub(crate) fn exec(&mut self) -> Exec<'_> {
        match self {
            Tx::Sqlite(tx) => Exec::SqliteConn(tx),
            Tx::Postgres(tx) => Exec::PgConn(tx),
        }
    }

    pub(crate) fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }

    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }

    pub(crate) async fn rollback(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(tx) => tx.rollback().await?,
            Tx::Postgres(tx) => tx.rollback().await?,
        }
        Ok(())
    }
}

/// Where a statement runs: a pool, or one connection (a transaction's).
pub(crate) enum Exec<'e> {
    SqlitePool(&'e SqlitePool),
    PgPool(&'e PgPool),
    SqliteConn(&'e mut SqliteConnection),
    PgConn(&'e mut PgConnection),
}

/// A bound value, kept until the statement runs, when it is handed to the driver
/// of the connection it runs on. (A statement is written before it is known
/// whether it runs on a pool or in a transaction; the writer's hot insert binds
/// typed values directly instead.)
#[derive(Debug, Clone)]
pub(crate) enum Value<'q> {
    Int(Option<i64>),
    Real(Option<f64>),
    Bool(Option<bool>),
    Text(Option<Cow<'q, str>>),
    Bytes(Option<Cow<'q, [u8]>>),
}

/// What can be bound: integers (as `BIGINT`), reals, booleans, text, bytes and
/// their `Option`s.
pub(crate) trait IntoValue<'q> {
    fn into_value(self) -> Value<'q>;
}

macro_rules! int_value {
    ($($t:ty),*) => {$(
        impl<'q> IntoValue<'q> for $t {
            fn into_value(self) -> Value<'q> {
                Value::Int(Some(i64::from(self)))
            }
        }
        impl<'q> IntoValue<'q> for Option<$t> {
            fn into_value(self) -> Value<'q> {
                Value::Int(self.map(i64::from))
            }
        }
    )*};
}
int_value!(i64, i32, i16, i8, u32, u16, u8);

impl<'q> IntoValue<'q> for f64 {
    fn into_value(self) -> Value<'q> {
        Value::Real(Some(self))
    }
}
impl<'q> IntoValue<'q> for Option<f64> {
    fn into_value(self) -> Value<'q> {
        Value::Real(self)
    }
}
impl<'q> IntoValue<'q> for bool {
    fn into_value(self) -> Value<'q> {
        Value::Bool(Some(self))
    }
}
impl<'q> IntoValue<'q> for Option<bool> {
    fn into_value(self) -> Value<'q> {
        Value::Bool(self)
    }
}
impl<'q> IntoValue<'q> for &'q str {
    fn into_value(self) -> Value<'q> {
        Value::Text(Some(Cow::Borrowed(self)))
    }
}
impl<'q> IntoValue<'q> for String {
    fn into_value(self) -> Value<'q> {
        Value::Text(Some(Cow::Owned(self)))
    }
}
impl<'q> IntoValue<'q> for &'q String {
    fn into_value(self) -> Value<'q> {
        Value::Text(Some(Cow::Borrowed(self.as_str())))
    }
}
impl<'q> IntoValue<'q> for Option<&'q str> {
    fn into_value(self) -> Value<'q> {
        Value::Text(self.map(Cow::Borrowed))
    }
}
impl<'q> IntoValue<'q> for Option<String> {
    fn into_value(self) -> Value<'q> {
        Value::Text(self.map(Cow::Owned))
    }
}
impl<'q> IntoValue<'q> for &'q Option<String> {
    fn into_value(self) -> Value<'q> {
        Value::Text(self.as_deref().map(Cow::Borrowed))
    }
}
impl<'q> IntoValue<'q> for Option<&'q String> {
    fn into_value(self) -> Value<'q> {
        Value::Text(self.map(|s| Cow::Borrowed(s.as_str())))
    }
}
impl<'q> IntoValue<'q> for &'q [u8] {
    fn into_value(self) -> Value<'q> {
        Value::Bytes(Some(Cow::Borrowed(self)))
    }
}
impl<'q, const N: usize> IntoValue<'q> for &'q [u8; N] {
    fn into_value(self) -> Value<'q> {
        Value::Bytes(Some(Cow::Borrowed(self.as_slice())))
    }
}
impl<'q> IntoValue<'q> for Vec<u8> {
    fn into_value(self) -> Value<'q> {
        Value::Bytes(Some(Cow::Owned(self)))
    }
}
impl<'q> IntoValue<'q> for &'q Vec<u8> {
    fn into_value(self) -> Value<'q> {
        Value::Bytes(Some(Cow::Borrowed(self.as_slice())))
    }
}
impl<'q> IntoValue<'q> for Option<&'q [u8]> {
    fn into_value(self) -> Value<'q> {
        Value::Bytes(self.map(Cow::Borrowed))
    }
}
impl<'q> IntoValue<'q> for Option<Vec<u8>> {
    fn into_value(self) -> Value<'q> {
        Value::Bytes(self.map(Cow::Owned))
    }
}
impl<'q> IntoValue<'q> for &'q Option<Vec<u8>> {
    fn into_value(self) -> Value<'q> {
        Value::Bytes(self.as_deref().map(Cow::Borrowed))
    }
}

impl<'q> IntoValue<'q> for Value<'q> {
    fn into_value(self) -> Value<'q> {
        self
    }
}

fn sqlite_args<'a>(values: &'a [Value<'_>]) -> Result<SqliteArguments<'a>, StoreError> {
    let mut args = SqliteArguments::default();
    for value in values {
        let added = match value {
            Value::Int(v) => args.add(*v),
            Value::Real(v) => args.add(*v),
            Value::Bool(v) => args.add(*v),
            Value::Text(v) => args.add(v.as_deref()),
            Value::Bytes(v) => args.add(v.as_deref()),
        };
        added.map_err(|e| StoreError::Bind(e.to_string()))?;
    }
    Ok(args)
}

fn pg_args(values: &[Value<'_>]) -> Result<PgArguments, StoreError> {
    let mut args = PgArguments::default();
    for value in values {
        let added = match value {
            Value::Int(v) => args.add(*v),
            Value::Real(v) => args.add(*v),
            Value::Bool(v) => args.add(*v),
            Value::Text(v) => args.add(v.as_deref()),
            Value::Bytes(v) => args.add(v.as_deref()),
        };
        added.map_err(|e| StoreError::Bind(e.to_string()))?;
    }
    Ok(args)
}

/// A statement and its values, or one assembled piece by piece with
/// [`Query::push`] and [`Query::push_bind`] (filters, multi-row upserts). The
/// statement is in the shared dialect: `?` placeholders, numbered `$1`, `$2`, ...
/// when it runs on PostgreSQL.
pub(crate) struct Query<'q> {
    sql: Cow<'q, str>,
    values: Vec<Value<'q>>,
    /// The engine it is written for, when the SQL depends on it.
    backend: Option<Backend>,
}

/// A statement (see [`Query`]).
pub(crate) fn query(sql: &str) -> Query<'_> {
    Query {
        sql: Cow::Borrowed(sql),
        values: Vec::new(),
        backend: None,
    }
}

/// A statement whose rows are read as `T` (a tuple).
pub(crate) fn query_as<T>(sql: &str) -> QueryAs<'_, T> {
    QueryAs {
        query: query(sql),
        _row: std::marker::PhantomData,
    }
}

/// A statement whose first column is read as `T`.
pub(crate) fn query_scalar<T>(sql: &str) -> QueryScalar<'_, T> {
    QueryScalar {
        query: query(sql),
        _value: std::marker::PhantomData,
    }
}

/// A statement to be assembled, starting with `init`.
pub(crate) fn builder<'q>(init: impl Into<String>) -> Query<'q> {
    Query {
        sql: Cow::Owned(init.into()),
        values: Vec::new(),
        backend: None,
    }
}

impl<'q> Query<'q> {
    /// Binds the next `?`.
    pub(crate) fn bind(mut self, value: impl IntoValue<'q>) -> Self {
        self.values.push(value.into_value());
        self
    }

    /// Appends SQL text (never a value from outside: those are bound).
    pub(crate) fn push(&mut self, sql: impl std::fmt::Display) -> &mut Self {
        use std::fmt::Write as _;
        // Writing to a String cannot fail.
        let _ = write!(self.sql.to_mut(), "{sql}");
        self
    }

    /// Appends a placeholder bound to `value`.
    pub(crate) fn push_bind(&mut self, value: impl IntoValue<'q>) -> &mut Self {
        self.sql.to_mut().push('?');
        self.values.push(value.into_value());
        self
    }

    /// The engine it is assembled for (SQLite unless [`Db::builder`] said otherwise).
    pub(crate) fn backend(&self) -> Backend {
        self.backend.unwrap_or(Backend::Sqlite)
    }

    /// Whether it is assembled for PostgreSQL (see [`Db::builder`]).
    pub(crate) fn postgres(&self) -> bool {
        self.backend == Some(Backend::Postgres)
    }

    /// Runs it; the rows it changed.
    pub(crate) async fn execute(&self, exec: Exec<'_>) -> Result<u64, StoreError> {
        let values = &self.values;
        Ok(match exec {
            Exec::SqlitePool(p) => sqlx::query_with(&self.sql, sqlite_args(values)?)
                .execute(p)
                .await?
                .rows_affected(),
            Exec::SqliteConn(c) => sqlx::query_with(&self.sql, sqlite_args(values)?)
                .execute(c)
                .await?
                .rows_affected(),
            Exec::PgPool(p) => {
                sqlx::query_with(&numbered_placeholders(&self.sql), pg_args(values)?)
                    .execute(p)
                    .await?
                    .rows_affected()
            }
            Exec::PgConn(c) => {
                sqlx::query_with(&numbered_placeholders(&self.sql), pg_args(values)?)
                    .execute(c)
                    .await?
                    .rows_affected()
            }
        })
    }

    /// Every row.
    pub(crate) async fn fetch_all(&self, exec: Exec<'_>) -> Result<Vec<Row>, StoreError> {
        let values = &self.values;
        Ok(match exec {
            Exec::SqlitePool(p) => wrap(
                sqlx::query_with(&self.sql, sqlite_args(values)?)
                    .fetch_all(p)
                    .await?,
                Row::Sqlite,
            ),
            Exec::SqliteConn(c) => wrap(
                sqlx::query_with(&self.sql, sqlite_args(values)?)
                    .fetch_all(c)
                    .await?,
                Row::Sqlite,
            ),
            Exec::PgPool(p) => wrap(
                sqlx::query_with(&numbered_placeholders(&self.sql), pg_args(values)?)
                    .fetch_all(p)
                    .await?,
                Row::Postgres,
            ),
            Exec::PgConn(c) => wrap(
                sqlx::query_with(&numbered_placeholders(&self.sql), pg_args(values)?)
                    .fetch_all(c)
                    .await?,
                Row::Postgres,
            ),
        })
    }

    /// The first row, if any.
    pub(crate) async fn fetch_optional(&self, exec: Exec<'_>) -> Result<Option<Row>, StoreError> {
        let values = &self.values;
        Ok(match exec {
            Exec::SqlitePool(p) => sqlx::query_with(&self.sql, sqlite_args(values)?)
                .fetch_optional(p)
                .await?
                .map(Row::Sqlite),
            Exec::SqliteConn(c) => sqlx::query_with(&self.sql, sqlite_args(values)?)
                .fetch_optional(c)
                .await?
                .map(Row::Sqlite),
            Exec::PgPool(p) => {
                sqlx::query_with(&numbered_placeholders(&self.sql), pg_args(values)?)
                    .fetch_optional(p)
                    .await?
                    .map(Row::Postgres)
            }
            Exec::PgConn(c) => {
                sqlx::query_with(&numbered_placeholders(&self.sql), pg_args(values)?)
                    .fetch_optional(c)
                    .await?
                    .map(Row::Postgres)
            }
        })
    }

    /// The one row it must return.
    pub(crate) async fn fetch_one(&self, exec: Exec<'_>) -> Result<Row, StoreError> {
        self.fetch_optional(exec)
            .await?
            .ok_or(StoreError::Database(sqlx::Error::RowNotFound))
    }

    /// The first column of the one row it must return.
    pub(crate) async fn scalar<T>(&self, exec: Exec<'_>) -> Result<T, StoreError>
    where
        T: for<'r> Get<'r>,
    {
        self.fetch_one(exec).await?.get(0)
    }

    /// The first column of the first row, if there is one.
    pub(crate) async fn optional_scalar<T>(&self, exec: Exec<'_>) -> Result<Option<T>, StoreError>
    where
        T: for<'r> Get<'r>,
    {
        match self.fetch_optional(exec).await? {
            Some(row) => Ok(Some(row.get(0)?)),
            None => Ok(None),
        }
    }
}

fn wrap<R>(rows: Vec<R>, f: fn(R) -> Row) -> Vec<Row> {
    rows.into_iter().map(f).collect()
}

/// The rows of a multi-row `VALUES` list, filled by [`Query::push_values`]: values
/// and SQL pieces pushed into one row are separated by commas.
pub(crate) struct Separated<'b, 'q> {
    query: &'b mut Query<'q>,
    first: bool,
}

impl<'q> Separated<'_, 'q> {
    fn separate(&mut self) {
        if !self.first {
            self.query.sql.to_mut().push_str(", ");
        }
        self.first = false;
    }

    /// Appends a placeholder bound to `value`, after a comma unless it is first.
    pub(crate) fn push_bind(&mut self, value: impl IntoValue<'q>) -> &mut Self {
        self.separate();
        self.query.push_bind(value);
        self
    }
}

impl<'q> Query<'q> {
    /// Appends ` VALUES (...), (...)`, one row per item, as `push_row` fills each.
    pub(crate) fn push_values<I, F>(&mut self, rows: I, mut push_row: F) -> &mut Self
    where
        I: IntoIterator,
        F: FnMut(Separated<'_, 'q>, I::Item),
    {
        self.push(" VALUES ");
        for (i, row) in rows.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.push("(");
            push_row(
                Separated {
                    query: self,
                    first: true,
                },
                row,
            );
            self.push(")");
        }
        self
    }

    /// Items separated by `separator` (a list of bound values).
    pub(crate) fn separated(&mut self, separator: &'static str) -> List<'_, 'q> {
        List {
            query: self,
            separator,
            first: true,
        }
    }

    /// Runs it and reads the one row as a tuple.
    pub(crate) async fn fetch_one_as<T: FromRows>(&self, exec: Exec<'_>) -> Result<T, StoreError> {
        self.fetch_one(exec).await?.to()
    }
}

/// Values and SQL pieces separated by a fixed separator ([`Query::separated`]).
pub(crate) struct List<'b, 'q> {
    query: &'b mut Query<'q>,
    separator: &'static str,
    first: bool,
}

impl<'q> List<'_, 'q> {
    /// Appends a placeholder bound to `value`, after the separator unless first.
    pub(crate) fn push_bind(&mut self, value: impl IntoValue<'q>) -> &mut Self {
        if !self.first {
            self.query.push(self.separator);
        }
        self.first = false;
        self.query.push_bind(value);
        self
    }
}

/// A statement whose rows are tuples `T`.
pub(crate) struct QueryAs<'q, T> {
    query: Query<'q>,
    _row: std::marker::PhantomData<fn() -> T>,
}

/// A tuple both drivers can read a row into.
pub(crate) trait FromRows:
    for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin
{
}
impl<T> FromRows for T where
    T: for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin
{
}

impl<'q, T: FromRows> QueryAs<'q, T> {
    /// Binds the next `?`.
    pub(crate) fn bind(mut self, value: impl IntoValue<'q>) -> Self {
        self.query = self.query.bind(value);
        self
    }

    pub(crate) async fn fetch_all(&self, exec: Exec<'_>) -> Result<Vec<T>, StoreError> {
        let rows = self.query.fetch_all(exec).await?;
        rows.iter().map(Row::to).collect()
    }

    pub(crate) async fn fetch_optional(&self, exec: Exec<'_>) -> Result<Option<T>, StoreError> {
        match self.query.fetch_optional(exec).await? {
            Some(row) => Ok(Some(row.to()?)),
            None => Ok(None),
        }
    }

    pub(crate) async fn fetch_one(&self, exec: Exec<'_>) -> Result<T, StoreError> {
        self.query.fetch_one(exec).await?.to()
    }
}

/// A statement whose first column is a `T`.
pub(crate) struct QueryScalar<'q, T> {
    query: Query<'q>,
    _value: std::marker::PhantomData<fn() -> T>,
}

impl<'q, T: for<'r> Get<'r>> QueryScalar<'q, T> {
    /// Binds the next `?`.
    pub(crate) fn bind(mut self, value: impl IntoValue<'q>) -> Self {
        self.query = self.query.bind(value);
        self
    }

    pub(crate) async fn fetch_optional(&self, exec: Exec<'_>) -> Result<Option<T>, StoreError> {
        self.query.optional_scalar(exec).await
    }

    pub(crate) async fn fetch_one(&self, exec: Exec<'_>) -> Result<T, StoreError> {
        self.query.scalar(exec).await
    }

    pub(crate) async fn fetch_all(&self, exec: Exec<'_>) -> Result<Vec<T>, StoreError> {
        let rows = self.query.fetch_all(exec).await?;
        rows.iter().map(|row| row.get(0)).collect()
    }
}

/// A value both drivers can read.
pub(crate) trait Get<'r>:
    Decode<'r, Sqlite> + Type<Sqlite> + Decode<'r, Postgres> + Type<Postgres>
{
}
impl<'r, T> Get<'r> for T where
    T: Decode<'r, Sqlite> + Type<Sqlite> + Decode<'r, Postgres> + Type<Postgres>
{
}

/// A row from either engine.
pub(crate) enum Row {
    Sqlite(SqliteRow),
    Postgres(PgRow),
}

/// A column by position or by name.
pub(crate) trait Column:
    sqlx::ColumnIndex<SqliteRow> + sqlx::ColumnIndex<PgRow> + std::fmt::Debug
{
}
impl<I> Column for I where
    I: sqlx::ColumnIndex<SqliteRow> + sqlx::ColumnIndex<PgRow> + std::fmt::Debug
{
}

impl Row {
    /// The row as a tuple.
    pub(crate) fn to<T: FromRows>(&self) -> Result<T, StoreError> {
        Ok(match self {
            Row::Sqlite(row) => T::from_row(row)?,
            Row::Postgres(row) => T::from_row(row)?,
        })
    }

    /// Where column `name` is in this row (to read many rows by position).
    pub(crate) fn ordinal(&self, name: &str) -> Result<usize, StoreError> {
        use sqlx::{Column as _, Row as _};
        Ok(match self {
            Row::Sqlite(row) => row.try_column(name)?.ordinal(),
            Row::Postgres(row) => row.try_column(name)?.ordinal(),
        })
    }

    /// One column's value.
    pub(crate) fn get<'r, T: Get<'r>, I: Column>(&'r self, column: I) -> Result<T, StoreError> {
        use sqlx::Row as _;
        Ok(match self {
            Row::Sqlite(row) => row.try_get(column)?,
            Row::Postgres(row) => row.try_get(column)?,
        })
    }

    /// A JSON column as text: SQLite keeps the text, PostgreSQL's JSONB is
    /// printed back.
    pub(crate) fn json_text<I: Column>(&self, column: I) -> Result<String, StoreError> {
        use sqlx::Row as _;
        Ok(match self {
            Row::Sqlite(row) => row.try_get(column)?,
            Row::Postgres(row) => row
                .try_get::<sqlx::types::Json<serde_json::Value>, _>(column)?
                .0
                .to_string(),
        })
    }

    /// A JSON object column, decoded once: SQLite's text is parsed where it
    /// lies (no copy), PostgreSQL's JSONB straight into the map (not printed
    /// and parsed again). `Err(reason)` when it is not a JSON object.
    pub(crate) fn json_object<I: Column>(
        &self,
        column: I,
    ) -> Result<Result<serde_json::Map<String, serde_json::Value>, String>, StoreError> {
        use sqlx::Row as _;
        Ok(match self {
            Row::Sqlite(row) => {
                serde_json::from_str(row.try_get::<&str, _>(column)?).map_err(|e| e.to_string())
            }
            Row::Postgres(row) => Ok(row
                .try_get::<sqlx::types::Json<serde_json::Map<String, serde_json::Value>>, _>(
                    column,
                )?
                .0),
        })
    }
}

/// The shared dialect as PostgreSQL reads it: `?` placeholders as `$1`, `$2`,
/// ... (SQLite's `?N` as `$N`), and SQLite's two-argument scalar `MIN(a, b)` and
/// `MAX(a, b)` as `LEAST` and `GREATEST`. Quoted text, quoted names and comments
/// are left alone. (The store never uses PostgreSQL's JSONB `?` operators, which
/// this would misread.)
pub(crate) fn numbered_placeholders(sql: &str) -> Cow<'_, str> {
    let sql = scalar_min_max(sql);
    if !sql.contains('?') {
        return sql;
    }
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                out.push(c);
                for inner in chars.by_ref() {
                    out.push(inner);
                    if inner == c {
                        break;
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                out.push(c);
                for inner in chars.by_ref() {
                    out.push(inner);
                    if inner == '\n' {
                        break;
                    }
                }
            }
            '?' if chars.peek().is_some_and(char::is_ascii_digit) => out.push('$'),
            '?' => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            }
            _ => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// SQLite's scalar `MIN(a, b)`/`MAX(a, b)` (two or more arguments) as
/// PostgreSQL's `LEAST`/`GREATEST`; the one-argument aggregates stay.
fn scalar_min_max(sql: &str) -> Cow<'_, str> {
    if !(sql.contains("MIN(") || sql.contains("MAX(")) {
        return Cow::Borrowed(sql);
    }
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len() + 16);
    let mut i = 0;
    while i < bytes.len() {
        let rest = &sql[i..];
        let word_start = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        let name = if rest.starts_with("MIN(") {
            Some("LEAST")
        } else if rest.starts_with("MAX(") {
            Some("GREATEST")
        } else {
            None
        };
        match name {
            Some(name) if word_start && has_top_level_comma(&rest[4..]) => {
                out.push_str(name);
                i += 3;
            }
            _ if rest.starts_with('\'') || rest.starts_with('"') => {
                // Quoted text or a quoted name, copied whole.
                let quote = &rest[..1];
                let end = rest[1..].find(quote).map_or(rest.len(), |at| at + 2);
                out.push_str(&rest[..end]);
                i += end;
            }
            _ => {
                // Whole characters: `i` moves by the character's length.
                let c = rest.chars().next().unwrap_or(' ');
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    Cow::Owned(out)
}

/// Whether the argument list starting right after an opening parenthesis has a
/// comma outside nested parentheses and quotes before it closes.
fn has_top_level_comma(args: &str) -> bool {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for c in args.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') if depth == 0 => return false,
            (None, ')') => depth -= 1,
            (None, ',') if depth == 0 => return true,
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_outside_quotes_and_comments() {
        assert_eq!(
            numbered_placeholders(
                "SELECT '?', \"a?\" FROM t WHERE a = ? AND b = ? -- c?\n AND d = ?"
            ),
            "SELECT '?', \"a?\" FROM t WHERE a = $1 AND b = $2 -- c?\n AND d = $3"
        );
        assert!(matches!(
            numbered_placeholders("SELECT 1"),
            Cow::Borrowed(_)
        ));
        // SQLite's numbered form keeps its number.
        assert_eq!(
            numbered_placeholders("SELECT ?1, ?1, ?2"),
            "SELECT $1, $1, $2"
        );
        // A doubled quote inside text closes and reopens: still outside placeholders.
        assert_eq!(
            numbered_placeholders("SELECT 'it''s ?', ?"),
            "SELECT 'it''s ?', $1"
        );
    }

    #[test]
    fn scalar_min_and_max_become_least_and_greatest() {
        assert_eq!(
            numbered_placeholders(
                "SET a = MAX(a, ?), b = MIN(b, f(x, y)), c = (SELECT MAX(n) FROM t), d = XMAX(1, 2)"
            ),
            "SET a = GREATEST(a, $1), b = LEAST(b, f(x, y)), c = (SELECT MAX(n) FROM t), d = XMAX(1, 2)"
        );
        assert_eq!(
            numbered_placeholders("SELECT MAX(MIN(a, b), 'MIN(x, y)')"),
            "SELECT GREATEST(LEAST(a, b), 'MIN(x, y)')"
        );
    }
}
