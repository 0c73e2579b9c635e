//! `integ disconnect <provider>`: revoke at the provider, then delete the tokens and mark the
//! connection disconnected (`--purge` also deletes its synced data and history).
//!
//! When the revoke call fails for a reason that may pass (network down, 5xx), nothing is
//! changed and the command fails, so no secret is left orphaned and the user can try again;
//! `--local-only` forgets the account here anyway and says where to remove the grant by hand.
//! A token the provider already considers dead counts as revoked.

use crate::cli::DisconnectArgs;
use crate::context::Context;
use crate::error::{Done, Error, Result};
use crate::provider::Provider;
use crate::providers::api::ApiError;
use crate::providers::{calendly, google, jobber, microsoft};
use crate::store::connections::{self, State};
use crate::store::sql::params;
use crate::time::timestamp;

pub async fn run(ctx: &mut Context, args: DisconnectArgs) -> Result<Done> {
    let provider = args.target.provider;
    let connection = super::select::one(ctx.db()?, provider, args.target.account.as_deref())?;
    let store = ctx.secrets()?;
    let http = ctx.http_client()?;

    if args.local_only {
        ctx.ui.warn(format!("not revoking at {}: {}", provider.display_name(), manual_removal(provider)));
    } else {
        match revoke(ctx, &connection, http).await {
            Ok(Some(note)) => ctx.ui.info(note),
            Ok(None) => ctx.ui.info(format!("Revoked integ's access at {}.", provider.display_name())),
            Err(e) if e.kind == crate::error::Kind::Reconnect => {
                ctx.ui.info(format!("{} already considers this grant dead.", provider.display_name()));
            }
            Err(e) => {
                return Err(e
                    .context(format!("could not revoke access at {}; nothing was changed", provider.display_name()))
                    .hint(format!(
                        "try again when {} can be reached, or run with --local-only to forget the account here \
                     and remove the grant yourself ({})",
                        provider.display_name(),
                        manual_removal(provider)
                    )));
            }
        }
    }

    // Under the refresh lock (taken after the revoke, which may itself refresh): a refresh in
    // another process either finishes before the tokens go, or finds none.
    let lock_path = ctx.paths.lock_file(&connection.lock_name("refresh"));
    let _lock = crate::oauth::session::lock_tokens(&lock_path, &connection.describe()).await?;
    store.delete(&connection.secret_key())?;
    let now = timestamp(ctx.now());
    let db = ctx.db()?;
    if args.purge {
        db.write(|tx| -> Result<()> {
            // The Jobber child tables have no foreign keys to cascade through.
            crate::store::jobs::delete_details(tx, "connection_id = ?1", params![connection.id])?;
            tx.execute("DELETE FROM sync_runs WHERE connection_id = ?1", params![connection.id])?;
            tx.execute("DELETE FROM connections WHERE id = ?1", params![connection.id])?;
            Ok(())
        })?;
    } else {
        connections::set_state(db, connection.id, State::Disconnected, None, &now)?;
    }
    ctx.ui.success(format!(
        "Disconnected {}{}",
        connection.describe(),
        if args.purge { " and deleted its data" } else { "" }
    ));
    Ok(Done::Ok)
}

/// Revoke at the provider; `Ok(Some(note))` when there was nothing to call.
async fn revoke(
    ctx: &mut Context,
    connection: &connections::Connection,
    http: reqwest::Client,
) -> Result<Option<String>> {
    let provider = connection.provider;
    if provider == Provider::Microsoft {
        return Ok(Some(format!("Microsoft has no revocation endpoint: {}", manual_removal(provider))));
    }
    let http =
        crate::http::Http::new(http, crate::http::RetryPolicy::default(), crate::providers::api::ONE_OFF_RETRIES);
    let mut session = ctx.session(connection.clone())?;
    let version = ctx.settings()?.provider(Provider::Jobber, "graphql_version").unwrap_or_default().to_string();
    let db = ctx.db()?;
    match provider {
        Provider::Jobber => {
            let app = session.app().cloned().ok_or_else(|| Error::failure("no Jobber application configured"))?;
            let api = jobber::api::JobberApi::new(&http, &app.api_url, &version);
            let api = &api;
            session
                .call(db, "appDisconnect failed", |token| async move { jobber::auth::disconnect(api, &token).await })
                .await?;
        }
        Provider::Google => {
            let app = session.app().cloned().ok_or_else(|| Error::failure("no Google application configured"))?;
            // Revoking the refresh token ends the whole grant, access tokens included.
            let token = session.tokens().refresh_token.clone().unwrap_or_else(|| session.tokens().access_token.clone());
            google::auth::revoke(&http, &app, &secrecy::SecretString::from(token))
                .await
                .map_err(|e| e.into_error("Google's revoke endpoint failed"))?;
        }
        Provider::Calendly => {
            let Some(app) = session.app().cloned() else {
                return Ok(Some(
                    "A personal access token cannot be revoked by integ: delete it in Calendly under Integrations > API & Webhooks."
                        .into(),
                ));
            };
            let token = session.tokens().refresh_token.clone().unwrap_or_else(|| session.tokens().access_token.clone());
            match calendly::auth::revoke(&http, &app, &secrecy::SecretString::from(token)).await {
                Ok(()) => {}
                Err(ApiError::NotSent(message)) => {
                    return Ok(Some(format!("{message}: remove integ in Calendly's settings yourself")));
                }
                Err(e) => return Err(e.into_error("Calendly's revoke endpoint failed")),
            }
        }
        Provider::Microsoft => {}
    }
    let _ = microsoft::auth::CONSENT_PAGE;
    Ok(None)
}

fn manual_removal(provider: Provider) -> String {
    match provider {
        Provider::Jobber => "the grant stays until integ is disconnected under Apps in Jobber's settings".into(),
        Provider::Google => "the grant stays until you remove integ at https://myaccount.google.com/permissions".into(),
        Provider::Microsoft => format!("the grant stays until you remove integ at {}", microsoft::auth::CONSENT_PAGE),
        Provider::Calendly => "the grant stays until you remove integ in Calendly under Integrations".into(),
    }
}
