//! Microsoft Outlook through Graph: a public client (PKCE, never a secret), `localhost`
//! redirect whose port is ignored, `offline_access` for a refresh token; calendars and their
//! `calendarView/delta` rounds; Outlook's time-zone names.

pub mod auth;
pub mod graph;
pub mod push;
pub mod zones;
