//! Jobber's GraphQL API the way Jobber wants it: JSON POST, the pinned
//! `X-JOBBER-GRAPHQL-VERSION`, lean selections with an explicit `first` on every connection, no
//! `totalCount`, and pacing to the query-cost bucket so a steady sync never sees THROTTLED.
//!
//! The bucket (10,000 points restoring 500/s by default) is modelled from the
//! `extensions.cost.throttleStatus` of every answer; before each query integ waits until the
//! model says the bucket can afford the query's requested cost. THROTTLED (an HTTP 200 with
//! `errors[].extensions.code`) is still handled by waiting `(requested − available) /
//! restoreRate`. Line items and visits come from a separate, batched query for only the jobs
//! that changed, sized so its requested cost stays well inside the bucket.
//!
//! The parts: `query` holds the query text (selections, page sizes), `cost` the model of the
//! bucket and the pacing decisions, `envelope` reads a GraphQL answer (data, errors, cost
//! extension, raw nodes; the one classification of Jobber's answers) and `client` is
//! [`JobberApi`], the one GraphQL client: the sync's endpoints, and identity and `appDisconnect`
//! (in `jobber::auth`) go through its `query`.

mod client;
mod cost;
mod envelope;
mod query;

pub use client::JobberApi;
pub use envelope::assignees;
pub use query::{CLIENTS_PAGE, JOBS_PAGE, JobOrder, clients_query, details_query, jobs_query};
