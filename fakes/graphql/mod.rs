//! A small, real GraphQL engine for the Jobber fake: parser, schema from SDL, validation with
//! graphql-ruby's error messages, Jobber-style cost analysis, and an executor over JSON.
//!
//! Flow: [`prepare_cached`] (parse and validate, reused for a query text seen before; then
//! coerce variables and compute the requested cost; no side effects) then [`execute`] with a
//! provider context and [`Resolvers`], which writes `data` as JSON text.

mod exec;
mod schema;
mod syntax;
mod validate;

pub use exec::{Out, Resolvers, execute};
pub use schema::Schema;
pub use syntax::Selection;
#[cfg(test)]
pub use validate::prepare;
pub use validate::{QueryCache, error_at, prepare_cached};
