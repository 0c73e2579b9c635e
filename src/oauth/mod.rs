//! OAuth 2.0 for native apps (RFC 8252, RFC 7636, RFC 9700): the authorization-code flow
//! through a loopback listener and the system browser, and the token lifecycle every API call
//! goes through (refresh under a cross-process lock, rotation-safe).

pub mod app;
pub mod browser;
pub mod client;
pub mod flow;
pub mod listener;
pub mod pages;
pub mod session;
pub mod token;
