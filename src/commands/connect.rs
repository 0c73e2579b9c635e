//! `integ connect <provider>`: sign in through the browser (or take a Calendly personal access
//! token on stdin), learn who signed in, store the tokens in the secret store and the
//! connection in SQLite, and say who was connected.

use std::time::Duration;

use secrecy::SecretString;

use crate::cli::ConnectArgs;
use crate::context::Context;
use crate::error::{Done, Error, Result};
use crate::oauth::app::OAuthApp;
use crate::oauth::flow::{self, FlowOptions};
use crate::oauth::token::{GrantKind, RawToken, TokenSet};
use crate::provider::Identity;
use crate::provider::Provider;
use crate::providers::{calendly, google, jobber, microsoft};
use crate::store::connections::{self, NewConnection, State, token_key};
use crate::time::timestamp;

pub async fn run(ctx: &mut Context, args: ConnectArgs) -> Result<Done> {
    if args.token_stdin && args.provider != Provider::Calendly {
        return Err(Error::config("--token-stdin is only for Calendly personal access tokens")
            .hint(format!("run `integ connect {}` to sign in through the browser", args.provider)));
    }
    if args.write && !matches!(args.provider, Provider::Google | Provider::Microsoft) {
        return Err(Error::config(format!(
            "--write is for Google and Microsoft calendars; integ only reads {}",
            args.provider
        ))
        .hint(format!("run `integ connect {}` without --write", args.provider)));
    }
    // Fail before the browser step if the secret store or the database cannot be used.
    let store = ctx.secrets()?;
    ctx.db()?;
    let http = ctx.http_client()?;

    let (tokens, identity) = if args.token_stdin {
        personal_access_token(ctx, &http).await?
    } else {
        let mut app = ctx.app(args.provider)?;
        if args.write {
            crate::providers::push::with_write_scopes(&mut app);
        }
        let opts = FlowOptions {
            no_browser: args.no_browser,
            port: args.port,
            timeout: Duration::from_secs(args.timeout),
            browser: ctx.env.get("BROWSER").map(str::to_string),
        };
        let raw = flow::run(&app, &http, &ctx.ui, &opts).await?;
        check_grant(&app, &raw)?;
        let version = ctx.settings()?.provider(Provider::Jobber, "graphql_version").unwrap_or_default().to_string();
        let access = SecretString::from(raw.access_token.secret().clone());
        let identity = identity(&http, &app, &raw, &access, &version).await?;
        let now = ctx.now();
        // Google omits the refresh token when it already issued one: keep the stored one.
        let previous = store
            .get(&token_key(args.provider, &identity.id))
            .ok()
            .flatten()
            .and_then(|s| TokenSet::from_secret(&s).ok());
        let tokens = raw.into_token_set(app.expiry, now, previous.as_ref());
        if tokens.refresh_token.is_none() {
            return Err(Error::failure(format!("{} did not issue a refresh token", args.provider.display_name()))
                .hint(match args.provider {
                    Provider::Microsoft => "make sure offline_access is among the scopes (microsoft.scopes)",
                    _ => "remove integ's access in the provider's account settings, then connect again",
                }));
        }
        (tokens, identity)
    };

    // The lock a refresh takes: a refresh of this account in another process must not overwrite
    // (or spend) the tokens this connect stores.
    let lock_path = ctx.paths.lock_file(&connections::lock_name(args.provider, &identity.id, "refresh"));
    let lock = crate::oauth::session::lock_tokens(&lock_path, &identity.name).await?;
    let now = timestamp(ctx.now());
    let db = ctx.db()?;
    let existing = connections::list(db, Some(args.provider))?;
    let label = args.account.clone().unwrap_or_else(|| {
        existing
            .iter()
            .find(|c| c.account_id == identity.id)
            .map(|c| c.label.clone())
            .unwrap_or_else(|| identity.name.clone())
    });
    if let Some(other) = existing
        .iter()
        .find(|c| c.label.eq_ignore_ascii_case(&label) && c.account_id != identity.id && c.state != State::Disconnected)
    {
        return Err(Error::failure(format!(
            "you signed in as '{}', but the {} account named '{label}' is '{}'; nothing was changed",
            identity.name, args.provider, other.account_name
        ))
        .hint(format!(
            "sign in as '{}' to reconnect it, or use another --account name to add a second account",
            other.account_name
        )));
    }

    // Tokens first: a connection row without its tokens would be useless.
    store.set(&token_key(args.provider, &identity.id), &tokens.to_secret()?)?;
    let expires = tokens.expires_at_rfc3339();
    let scopes = tokens.scope.clone().unwrap_or_default();
    connections::upsert_connected(
        db,
        &NewConnection {
            provider: args.provider,
            account_id: &identity.id,
            account_name: &identity.name,
            label: &label,
            scopes: &scopes,
            token_expires_at: expires.as_deref(),
        },
        &now,
    )?;
    drop(lock);

    if ctx.ui.json {
        ctx.ui.json_value(&serde_json::json!({
            "provider": args.provider,
            "account": label,
            "account_name": identity.name,
            "account_id": identity.id,
            "token_expires_at": expires,
            "kind": tokens.kind,
        }))?;
    }
    if args.provider != Provider::Jobber {
        learn_calendars(ctx, args.provider, &identity.id).await;
    }
    let until = expires.map(|e| format!("; access token valid until {e}")).unwrap_or_default();
    ctx.ui.success(format!(
        "Connected {} account '{}' as '{label}'{until}",
        args.provider.display_name(),
        identity.name
    ));
    Ok(Done::Ok)
}

/// Store the new account's calendars, the primary one selected, so `integ sync events` has
/// something to do; a failure here only delays that to the first sync.
async fn learn_calendars(ctx: &mut Context, provider: Provider, account_id: &str) {
    let outcome = async {
        let db = ctx.db()?;
        let c = connections::list(db, Some(provider))?
            .into_iter()
            .find(|c| c.account_id == account_id)
            .ok_or_else(|| Error::failure("the new connection is missing"))?;
        let http = crate::http::Http::new(ctx.http_client()?, crate::http::RetryPolicy::default(), 10);
        let mut session = ctx.session(c)?;
        crate::sync::events::refresh_calendars(&mut session, ctx.db()?, &http).await
    }
    .await;
    match outcome {
        Ok(cals) => {
            let selected: Vec<String> =
                cals.iter().filter(|c| c.selected).map(|c| c.name.clone().unwrap_or_else(|| c.id.clone())).collect();
            ctx.ui.info(format!(
                "{} calendar(s) found; syncing {} (change with `integ calendars select|deselect`)",
                cals.len(),
                if selected.is_empty() { "none".to_string() } else { selected.join(", ") }
            ));
        }
        Err(e) => ctx
            .ui
            .warn(format!("could not list the calendars yet ({}); `integ calendars list` will try again", e.message)),
    }
}

/// Refuse a grant missing scopes integ needs (Google lets people untick boxes).
fn check_grant(app: &OAuthApp, raw: &RawToken) -> Result<()> {
    let missing = app.missing_scopes(raw.scope.as_deref());
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::failure(format!("{} did not grant: {}", app.provider.display_name(), missing.join(", ")))
        .hint(format!("run `integ connect {}` again and allow every permission asked for", app.provider)))
}

async fn identity(
    http: &reqwest::Client,
    app: &OAuthApp,
    raw: &RawToken,
    access: &SecretString,
    version: &str,
) -> Result<Identity> {
    let what = format!("could not learn which {} account signed in", app.provider.display_name());
    let http = one_off(http);
    match app.provider {
        Provider::Jobber => {
            jobber::auth::identity(&jobber::api::JobberApi::new(&http, &app.api_url, version), access).await
        }
        Provider::Google => google::auth::identity(&http, app, raw.id_token.as_deref(), access).await,
        Provider::Microsoft => microsoft::auth::identity(&http, app, access).await,
        Provider::Calendly => calendly::auth::identity(&http, &app.api_url, access).await,
    }
    .map_err(|e| e.into_error(&what))
}

async fn personal_access_token(ctx: &mut Context, http: &reqwest::Client) -> Result<(TokenSet, Identity)> {
    ctx.ui.info("Reading a Calendly Personal Access Token from stdin...");
    // Off the runtime's thread, so a Ctrl-C while waiting for input still stops the command.
    let token = tokio::task::spawn_blocking(flow::read_token_from_stdin)
        .await
        .map_err(|e| Error::failure("cannot read the token from stdin").cause(e))??;
    let api_url = calendly::auth::api_url(ctx.settings()?)?;
    let identity = calendly::auth::identity(&one_off(http), &api_url, &token).await.map_err(|e| {
        e.into_error("Calendly did not accept the personal access token").hint(
            "create a new token in Calendly (Integrations > API & Webhooks) with users:read and scheduled_events:read",
        )
    })?;
    let tokens = TokenSet {
        kind: GrantKind::PersonalAccessToken,
        access_token: secrecy::ExposeSecret::expose_secret(&token).to_string(),
        refresh_token: None,
        expires_at: None,
        obtained_at: ctx.now().as_second(),
        scope: None,
    };
    Ok((tokens, identity))
}

/// The HTTP layer of a one-off call (identity): retries 5xx and 429 on a small budget.
fn one_off(client: &reqwest::Client) -> crate::http::Http {
    crate::http::Http::new(client.clone(), crate::http::RetryPolicy::default(), crate::providers::api::ONE_OFF_RETRIES)
}
