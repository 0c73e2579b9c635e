//! Jobber: OAuth quirks (no PKCE documented, no scope parameter, bare callback on denial,
//! rotating refresh tokens, JWT expiry) and its GraphQL API.

pub mod api;
pub mod auth;
pub mod model;
