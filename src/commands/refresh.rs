//! `integ refresh`: refresh access tokens now. Used as a keep-alive for refresh tokens that
//! die when idle (Microsoft after 90 days, Google after 6 months), and safe to run from many
//! processes at once: tokens obtained moments ago by another process are left alone.

use crate::cli::RefreshArgs;
use crate::context::Context;
use crate::error::{Done, Error, Outcomes, Result};
use crate::oauth::session::{RefreshMode, Refreshed};
use crate::store::connections::{self, State};

pub async fn run(ctx: &mut Context, args: RefreshArgs) -> Result<Done> {
    let targets = match (&args.provider, args.all) {
        (Some(p), _) if args.account.is_some() => {
            vec![super::select::one(ctx.db()?, *p, args.account.as_deref())?]
        }
        (p, _) => connections::list(ctx.db()?, *p)?.into_iter().filter(|c| c.state != State::Disconnected).collect(),
    };
    if targets.is_empty() {
        return Err(Error::config("no connected account to refresh").hint("run `integ connect <provider>` first"));
    }
    let mode = if args.force { RefreshMode::Force } else { RefreshMode::KeepAlive };
    let mut outcomes = Outcomes::default();
    let mut results = Vec::new();
    for c in targets {
        let name = c.describe();
        let outcome = async {
            let mut session = ctx.session(c.clone())?;
            let r = session.refresh(ctx.db()?, mode).await?;
            Ok::<_, Error>((r, session.tokens().expires_at_rfc3339()))
        }
        .await;
        match outcome {
            Ok((r, expires)) => {
                outcomes.ok();
                let what = match r {
                    Refreshed::Now => "refreshed",
                    Refreshed::AlreadyFresh => "already fresh",
                    Refreshed::NotRefreshable => "personal access token; nothing to refresh",
                };
                let until = expires.as_deref().map(|e| format!(", valid until {e}")).unwrap_or_default();
                ctx.ui.success(format!("{name}: {what}{until}"));
                results.push(serde_json::json!({"account": c.label, "provider": c.provider, "result": what, "token_expires_at": expires}));
            }
            Err(e) => {
                ctx.ui.error(&e);
                results.push(serde_json::json!({"account": c.label, "provider": c.provider, "error": e.message}));
                outcomes.failed(e.kind);
            }
        }
    }
    super::alerts::after_run(ctx, super::alerts::Trigger::Refresh).await;
    if ctx.ui.json {
        ctx.ui.json_value(&serde_json::Value::Array(results))?;
    }
    Ok(outcomes.done())
}
