//! The authorization-code flow of one `integ connect`: bind the loopback listener where the
//! provider will send the browser, build the authorization URL (fresh state, PKCE S256), open
//! the browser (or ask for the redirected address to be pasted), wait, and exchange the code.

use std::io::BufReader;
use std::time::Duration;

use secrecy::SecretString;

use super::app::{OAuthApp, RedirectRule};
use super::browser::{self, LaunchOutcome};
use super::client::{self, TokenError};
use super::listener::{BindHost, Listener, ListenerConfig};
use super::token::RawToken;
use crate::error::{Error, Result};
use crate::ui::Ui;

/// How the user wants the browser step to go.
#[derive(Debug, Clone)]
pub struct FlowOptions {
    pub no_browser: bool,
    pub port: Option<u16>,
    pub timeout: Duration,
    /// The `BROWSER` environment variable.
    pub browser: Option<String>,
}

/// Where to listen and which redirect URI to send.
struct Plan {
    config: ListenerConfig,
    /// `Some` for providers that match the registered URI exactly: sent byte for byte.
    exact_uri: Option<String>,
    host_in_uri: String,
}

fn plan(app: &OAuthApp, opts: &FlowOptions, state: SecretString) -> Result<Plan> {
    let (host, port, path, exact, setting) = match &app.redirect {
        RedirectRule::Exact { uri, setting } => {
            let host = uri.host_str().unwrap_or("localhost").trim_matches(['[', ']']).to_string();
            let port = opts.port.or(uri.port_or_known_default()).unwrap_or(80);
            let exact = match opts.port {
                Some(p) if Some(p) != uri.port_or_known_default() => {
                    let mut u = uri.clone();
                    let _ = u.set_port(Some(p));
                    u.to_string()
                }
                _ => uri.as_str().to_string(),
            };
            (host, port, uri.path().to_string(), Some(exact), format!("--port or {setting}"))
        }
        RedirectRule::AnyPort { host, path, setting } => {
            (host.clone(), opts.port.unwrap_or(0), path.clone(), None, setting.to_string())
        }
    };
    let bind = match host.as_str() {
        "127.0.0.1" => BindHost::Ipv4,
        "localhost" | "::1" => BindHost::Localhost,
        other => {
            return Err(Error::config(format!("the redirect host '{other}' is not a loopback address"))
                .hint("use http://localhost:PORT/... or http://127.0.0.1:PORT/..."));
        }
    };
    let mut config = ListenerConfig::new(path, state);
    config.host = bind;
    config.port = port;
    config.bare_callback_is_denial = app.bare_callback_is_denial;
    config.overall_timeout = opts.timeout;
    config.port_setting_hint = setting;
    Ok(Plan { config, exact_uri: exact, host_in_uri: host })
}

/// Run the browser step and the code exchange; returns the token endpoint's answer and the
/// redirect URI used.
pub async fn run(app: &OAuthApp, http: &reqwest::Client, ui: &Ui, opts: &FlowOptions) -> Result<RawToken> {
    let state = client::new_state();
    let p = plan(app, opts, SecretString::from(state.secret().clone()))?;
    // Bind before opening anything, so a busy port fails fast.
    let listener = Listener::bind(p.config.clone())?;
    let redirect_uri = match &p.exact_uri {
        Some(u) => u.clone(),
        None => listener.redirect_uri(&p.host_in_uri),
    };
    let attempt = client::authorize_url(app, &redirect_uri, state).map_err(config_error)?;

    let url = attempt.url.to_string();
    // Shown even under --quiet: without it nobody can finish the sign-in.
    ui.always(format!("Open this address in a browser to connect {}:", app.provider.display_name()));
    ui.always("");
    ui.always(format!("    {url}"));
    ui.always("");
    if p.exact_uri.is_some() {
        ui.info(format!(
            "{} sends the browser back to {redirect_uri}; that exact address must be registered on the app.",
            app.provider.display_name()
        ));
    }
    let paste = if opts.no_browser {
        true
    } else {
        match browser::launch(&url, opts.browser.as_deref()) {
            LaunchOutcome::Launched => {
                ui.info("Waiting for the browser to finish (Ctrl-C to cancel)...");
                false
            }
            LaunchOutcome::Failed(reason) => {
                ui.warn(format!("could not open a browser: {reason}"));
                true
            }
            LaunchOutcome::NoDisplay => true,
        }
    };
    let reader: Option<Box<dyn std::io::BufRead + Send>> = if paste {
        ui.always(format!(
            "After approving, if the browser could not reach this machine, paste the address it ended on \
             (starting with {redirect_uri}) here and press Enter:"
        ));
        Some(Box::new(BufReader::new(std::io::stdin())))
    } else {
        None
    };
    let authorization = tokio::task::spawn_blocking(move || listener.wait(reader))
        .await
        .map_err(|e| Error::failure("the callback listener stopped unexpectedly").cause(e))?
        .map_err(|e| {
            let timed_out = matches!(e, super::listener::ListenerError::Timeout { .. });
            let mut err: Error = e.into();
            if timed_out && p.exact_uri.is_some() {
                err = err.cause(format!(
                    "if the provider's page showed an error such as redirect_uri_mismatch, register \
                     {redirect_uri} as the app's redirect URI, or change it with {}",
                    p.config.port_setting_hint
                ));
            }
            err
        })?;
    tracing::debug!(source = ?authorization.source, "authorization code received");
    client::exchange_code(app, http, &authorization.code, &redirect_uri, attempt.verifier)
        .await
        .map_err(|e| exchange_error(app, e, &redirect_uri))
}

fn config_error(e: TokenError) -> Error {
    Error::config(e.to_string()).hint("check the provider's auth_url and token_url settings")
}

fn exchange_error(app: &OAuthApp, e: TokenError, redirect_uri: &str) -> Error {
    let name = app.provider.display_name();
    match &e {
        TokenError::Rejected { error, .. } => {
            let hint = match error.as_deref() {
                Some("invalid_client") | Some("unauthorized_client") => format!(
                    "check the {name} client id and secret ({}_CLIENT_ID, {}_CLIENT_SECRET)",
                    app.provider.env_prefix(),
                    app.provider.env_prefix()
                ),
                Some("invalid_request") if app.client_secret.is_none() => {
                    format!("{name} may need a client secret: set {}_CLIENT_SECRET", app.provider.env_prefix())
                }
                _ => format!(
                    "run `integ connect {}` again; if it keeps failing, check the client credentials and that \
                     {redirect_uri} is the registered redirect URI",
                    app.provider
                ),
            };
            Error::failure(format!("{name} refused to exchange the authorization code")).cause(e).hint(hint)
        }
        _ => Error::failure(format!("could not exchange the authorization code with {name}"))
            .cause(e)
            .hint("check the network and run `integ connect` again"),
    }
}

/// Read a token pasted on stdin (Calendly personal access tokens).
pub fn read_token_from_stdin() -> Result<SecretString> {
    use std::io::BufRead;
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::failure("cannot read the token from stdin").cause(e))?;
    let token = line.trim().to_string();
    if token.is_empty() {
        return Err(Error::config("no token on stdin")
            .hint("create a Personal Access Token in Calendly (Integrations > API & Webhooks) and pipe it in"));
    }
    Ok(SecretString::from(token))
}
