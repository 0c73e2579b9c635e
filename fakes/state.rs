//! The whole fake server's state (one value behind one mutex) and the top-level router.

use serde_json::{Map, Value, json};

use crate::calendly::Calendly;
use crate::control;
use crate::core::{Clock, Common, Env};
use crate::google::Google;
use crate::http::{Req, Resp};
use crate::jobber::Jobber;
use crate::microsoft::Microsoft;

pub const PROVIDERS: [&str; 4] = ["jobber", "google", "microsoft", "calendly"];

pub struct State {
    pub base: String,
    pub clock: Clock,
    pub jobber: Jobber,
    pub google: Google,
    pub microsoft: Microsoft,
    pub calendly: Calendly,
    /// Injected faults and added latency (see `faults`).
    pub faults: crate::faults::Faults,
    /// Slack's webhook and `chat.postMessage` (see `slack`).
    pub slack: crate::slack::Slack,
    /// The SMTP sink, when `serve` started one (see `smtp`).
    pub smtp: Option<crate::smtp::Relay>,
}

impl State {
    pub fn handle(&mut self, req: &Req) -> Resp {
        let env = Env { now: self.clock.now_f(), base: self.base.clone() };
        let path = req.path.as_str();
        if let Some(rest) = path.strip_prefix("/_fake/") {
            return control::handle(self, &env, req, rest);
        }
        if let Some(rest) = path.strip_prefix("/jobber/") {
            return self.jobber.handle(&env, req, rest);
        }
        if let Some(rest) = path.strip_prefix("/google/") {
            return self.google.handle(&env, req, rest);
        }
        if let Some(rest) = path.strip_prefix("/microsoft/") {
            return self.microsoft.handle(&env, req, rest);
        }
        if let Some(rest) = path.strip_prefix("/calendly/") {
            return self.calendly.handle(&env, req, rest);
        }
        Resp::json(404, &json!({ "error": "not_found", "path": path }))
    }

    pub fn common(&mut self, provider: &str) -> Option<&mut Common> {
        match provider {
            "jobber" => Some(&mut self.jobber.c),
            "google" => Some(&mut self.google.c),
            "microsoft" => Some(&mut self.microsoft.c),
            "calendly" => Some(&mut self.calendly.c),
            _ => None,
        }
    }

    /// Every environment variable the client needs to talk to this fake.
    pub fn env_vars(&self) -> Map<String, Value> {
        let b = &self.base;
        let tenant = &self.microsoft.cfg.tenant;
        let pairs: Vec<(&str, String)> = vec![
            ("INTEG_JOBBER_AUTH_URL", format!("{b}/jobber/api/oauth/authorize")),
            ("INTEG_JOBBER_TOKEN_URL", format!("{b}/jobber/api/oauth/token")),
            ("INTEG_JOBBER_API_URL", format!("{b}/jobber/api/graphql")),
            ("INTEG_GOOGLE_AUTH_URL", format!("{b}/google/o/oauth2/v2/auth")),
            ("INTEG_GOOGLE_TOKEN_URL", format!("{b}/google/token")),
            ("INTEG_GOOGLE_REVOKE_URL", format!("{b}/google/revoke")),
            ("INTEG_GOOGLE_API_URL", format!("{b}/google/api")),
            ("INTEG_MICROSOFT_AUTH_URL", format!("{b}/microsoft/{tenant}/oauth2/v2.0/authorize")),
            ("INTEG_MICROSOFT_TOKEN_URL", format!("{b}/microsoft/{tenant}/oauth2/v2.0/token")),
            ("INTEG_MICROSOFT_API_URL", format!("{b}/microsoft/graph/v1.0")),
            ("INTEG_CALENDLY_AUTH_URL", format!("{b}/calendly/oauth/authorize")),
            ("INTEG_CALENDLY_TOKEN_URL", format!("{b}/calendly/oauth/token")),
            ("INTEG_CALENDLY_REVOKE_URL", format!("{b}/calendly/oauth/revoke")),
            ("INTEG_CALENDLY_API_URL", format!("{b}/calendly/api")),
            ("JOBBER_CLIENT_ID", self.jobber.cfg.client_id.clone()),
            ("JOBBER_CLIENT_SECRET", self.jobber.cfg.client_secret.clone()),
            ("JOBBER_REDIRECT_URI", self.jobber.cfg.redirect_uri.clone()),
            ("GOOGLE_CLIENT_ID", self.google.cfg.client_id.clone()),
            ("GOOGLE_CLIENT_SECRET", self.google.cfg.client_secret.clone()),
            ("MICROSOFT_CLIENT_ID", self.microsoft.cfg.client_id.clone()),
            ("MICROSOFT_TENANT_ID", tenant.clone()),
            ("CALENDLY_CLIENT_ID", self.calendly.cfg.client_id.clone()),
            ("CALENDLY_CLIENT_SECRET", self.calendly.cfg.client_secret.clone()),
            ("CALENDLY_REDIRECT_URI", self.calendly.cfg.redirect_uri.clone()),
        ];
        pairs.into_iter().map(|(k, v)| (k.to_string(), json!(v))).collect()
    }

    pub fn startup_line(&self) -> Value {
        // `now` is the fake's clock as the line is written, so a test harness can run integ on
        // the same clock (INTEG_TEST_NOW) without asking again.
        let b = &self.base;
        let smtp = self.smtp.as_ref().map(|r| {
            json!({
                "url": format!("smtp://{}@127.0.0.1:{}", crate::smtp::USER.replace('@', "%40"), r.port),
                "password": crate::smtp::PASSWORD,
                "ca_pem": r.ca_pem,
            })
        });
        json!({
            "base_url": self.base,
            "env": self.env_vars(),
            "now": self.clock.now_f(),
            // Alert channels are not in `env`: a client pointed at the fakes does not alert
            // unless a test asks for it.
            "slack": {
                "webhook": format!("{b}{}", crate::slack::WEBHOOK_PATH),
                "api_url": format!("{b}/slack/api"),
                "bot_token": crate::slack::BOT_TOKEN,
            },
            "smtp": smtp,
        })
    }
}

/// `export K='V'` lines, single-quoted for POSIX shells.
pub fn env_file(vars: &Map<String, Value>) -> String {
    let mut out = String::new();
    for (k, v) in vars {
        let v = v.as_str().unwrap_or("").replace('\'', "'\\''");
        out.push_str(&format!("export {k}='{v}'\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_file_quotes_values() {
        let mut m = Map::new();
        m.insert("A".into(), json!("it's"));
        assert_eq!(env_file(&m), "export A='it'\\''s'\n");
    }
}
