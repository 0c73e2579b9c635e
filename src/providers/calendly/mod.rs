//! Calendly: OAuth with single-use refresh tokens (or a Personal Access Token), and the
//! scheduled-events API.

pub mod auth;
pub mod events;
