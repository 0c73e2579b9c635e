//! Google Calendar: a Desktop OAuth client (any loopback port, secret always sent, PKCE S256,
//! no refresh-token rotation) and the Calendar API.

pub mod auth;
pub mod calendar;
pub mod push;
