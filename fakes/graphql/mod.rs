//! A small, real GraphQL engine for the Jobber fake: parser, schema from SDL, validation with
//! graphql-ruby's error messages, Jobber-style cost analysis, and an executor over JSON.
//!
//! Flow: [`prepare`] (parse, validate, coerce variables, requested cost; no side effects)
//! then [`execute`] with a provider context and [`Resolvers`].

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
