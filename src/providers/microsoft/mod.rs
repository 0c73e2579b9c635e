//! Microsoft Outlook through Graph: a public client (PKCE, never a secret), `localhost`
//! redirect whose port is ignored, `offline_access` for a refresh token.

pub mod auth;
