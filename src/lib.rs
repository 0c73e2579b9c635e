//! integ: connect Jobber, Google Calendar, Microsoft Outlook and Calendly, and keep their data in
//! a local SQLite database.
//!
//! # Map, from the top down
//! Each layer imports only layers below it; no two top-level modules import each other.
//! - `main.rs` and [`main_entry`]: parse, run, turn the error kind into the exit code; the stop
//!   signals ([`interrupt`]) and the panic report live here.
//! - [`cli`] parses the command line; [`commands`] holds one file per command and is the only
//!   layer that talks to the user, through [`ui`] (data to stdout, everything else to stderr,
//!   provider text neutralised).
//! - [`context`] is built once per run: environment snapshot, paths and settings ([`config`]:
//!   defaults → config.toml → environment), the clock, and, opened on first use, the database,
//!   the secret store, the HTTP client and each connection's [`oauth::session::Session`].
//! - [`sync`] is the engine: [`sync::engine`] decides which streams of an account run, builds
//!   their clients, records each run and hands every stream one [`sync::StreamCx`] (session,
//!   database, HTTP layer, observer, counts). [`sync::jobs`] holds the Jobber streams;
//!   [`sync::events`] the calendar streams, whose shared plumbing (one event-write type, one
//!   commit, one concurrency driver) sits under the three providers' rounds. It reports through
//!   an [`sync::Observer`] and never prints.
//! - [`alerts`] judges, after a command's work is committed, what needs a person (a grant that
//!   died, a stream failing run after run) and tells them once on Slack or by e-mail; its
//!   state and outbox are in the database, so cron runs neither repeat nor lose a message.
//! - [`oauth`]: the authorization-code flow (loopback listener, browser) and the token
//!   lifecycle ([`oauth::session`]); it never sees the context.
//! - [`providers`]: each provider's OAuth quirks (as data on [`oauth::app::OAuthApp`]), API
//!   calls and serde types; knows nothing about the database.
//! - [`store`] is everything on disk: SQLite ([`store::db`]), secrets ([`store::secrets`]),
//!   locks, and PostgreSQL ([`store::pg`]: verified-TLS connections, its migrations and
//!   `integ db copy`; the sync does not write there yet). It knows nothing about HTTP.
//! - Leaves every layer may use: [`http`] (the one door to the providers: bounded bodies,
//!   waits and pages; [`http::ApiError`]), [`error`] (kinds → exit codes), [`time`] (the one
//!   clock, pinned in tests by `INTEG_TEST_NOW`), [`provider`] (`Provider`, `Identity`),
//!   [`child`] (every process integ starts, without its secrets), [`interrupt`], [`shard`]
//!   (which of N workers owns an account: a stable hash of its identity).
//!
//! # The path of a token
//! `integ connect` → [`oauth::flow`] opens the browser and waits on the loopback listener →
//! [`oauth::client`] exchanges the code → the command takes the account's refresh lock and
//! writes the token set to the secret store (never SQLite, config, logs, errors or a child's
//! environment) → SQLite records only the connection and its expiry. Later, a
//! [`oauth::session::Session`] refreshes under the same lock: it re-reads the store, reserves a
//! write, holds stop signals off while the single-use refresh token is in flight, and saves the
//! answer before anything else.
//!
//! # The path of a Jobber page
//! `integ sync` → [`sync::jobs`] asks [`providers::jobber`] for a page (paced to the cost
//! bucket, through [`http`]) → the rows and the cursor that covers them are written in one
//! transaction ([`store::jobs`], [`store::runs`]) → the observer is told. A run killed at any
//! moment resumes from the last committed page.
//!
//! # The path of a calendar page
//! `integ sync` → [`sync::events`] makes each selected calendar a round (Google's sync token,
//! Graph's delta link or Calendly's window rescan) and its driver keeps up to four requests in
//! flight → each answer goes back to its round, which maps the items to changes (pure) → the
//! changes and the calendar's cursor commit in one transaction, or, for a round that replaces
//! the calendar, all of its pages at its end.
//!
//! # The path of a pushed visit
//! `integ sync` (after Jobber's jobs) → [`sync::push`] reads the visits [`store::push`] has and
//! what it pushed before, plans the difference ([`sync::push::plan`], pure) → the writes go out
//! through [`providers::google::push`] / [`providers::microsoft::push`], four at a time, each
//! safe to repeat → what they did is committed with the rule's cursor. A run killed at any
//! moment leaves one event per visit after the next run.
//!
//! # Invariants
//! - Tokens live only in the secret store.
//! - One transaction per page batch, with its cursor; no transaction is open across an await.
//! - Nothing below `commands` prints (the listener's paste prompt aside, which is the flow's).
//! - Every number, size and page count from outside is bounded.
//! - The wall clock is read only in [`time`].
//!
//! Start reading at `main.rs`, then [`commands`].

pub mod alerts;
pub mod child;
pub mod cli;
pub mod commands;
pub mod config;
pub mod context;
pub mod error;
pub mod http;
pub mod interrupt;
pub mod oauth;
pub mod provider;
pub mod providers;
pub mod shard;
pub mod store;
pub mod sync;
pub mod time;
pub mod ui;

use clap::Parser;

/// Run integ with the process's arguments and environment; returns the exit code.
///
/// A panic (a bug) never ends the process with Rust's 101 and its message: [`panic_hook`]
/// prints a plain error, `sync` records the run it was in as failed, and the exit code is 1.
pub fn main_entry() -> u8 {
    std::panic::set_hook(Box::new(panic_hook));
    std::panic::catch_unwind(run_main).unwrap_or(error::Kind::Failure.exit_code())
}

/// Report a panic without its payload or any value: a message built from a provider's answer
/// or a token could be in it. Only where in integ's code it happened is shown. Writes ignore
/// errors (a closed stderr must not panic again inside the hook, which would abort).
pub fn panic_hook(info: &std::panic::PanicHookInfo<'_>) {
    use std::io::Write;
    let _ = std::io::stderr().write_all(panic_report(info.location()).as_bytes());
}

/// The text [`panic_hook`] prints.
pub fn panic_report(location: Option<&std::panic::Location<'_>>) -> String {
    let at = location.map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
    format!(
        "error: integ stopped on an internal error (a bug){at}; progress committed so far is kept\n\
         hint: run it again; if this happens again, report it with `integ --version` and the command \
         (details are left out on purpose: they could hold private data)\n"
    )
}

fn run_main() -> u8 {
    // A stop that comes before the command's handlers are in place waits for them.
    interrupt::hold();
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = e.print();
            return if e.use_stderr() { error::Kind::Config.exit_code() } else { 0 };
        }
    };
    let env = config::Env::from_process();
    init_tracing(&cli.global, &env);
    let mut ctx = match context::Context::new(cli.global.clone(), env) {
        Ok(ctx) => ctx,
        Err(e) => {
            ui::Ui::new(&cli.global, &config::Env::default(), time::Clock::system()).error(&e);
            return e.exit_code();
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            let err = error::Error::failure("cannot start the async runtime").cause(e);
            ctx.ui.error(&err);
            return err.exit_code();
        }
    };
    // Commands that talk to providers stop cleanly on a signal, and never inside a token
    // refresh (see `interrupt`); the local ones keep the default actions.
    let talks_to_providers = matches!(
        cli.command,
        cli::Command::Connect(_)
            | cli::Command::Disconnect(_)
            | cli::Command::Refresh(_)
            | cli::Command::Sync(_)
            | cli::Command::Calendars(_)
    );
    let result = runtime.block_on(async {
        let signals = if talks_to_providers { interrupt::Signals::install() } else { None };
        interrupt::release();
        let Some(mut signals) = signals else {
            return commands::run(&mut ctx, cli.command).await;
        };
        let stop = tokio::select! {
            done = commands::run(&mut ctx, cli.command) => match interrupt::received() {
                // A stop deferred by a token refresh: the command got to finish, but the process
                // was still asked to stop, so it says so (a failure keeps its own message).
                Some(kind) if done.is_ok() => kind,
                _ => return done,
            },
            kind = signals.stop_requested() => kind,
        };
        // The command was dropped at an await point: no transaction was open. Close the runs it
        // had started, so `status` says what happened.
        let signal = match stop {
            error::Kind::Interrupted => "SIGINT",
            error::Kind::HungUp => "SIGHUP",
            _ => "SIGTERM",
        };
        let why = format!("stopped by {signal}; the next run continues from the last saved page");
        let open = interrupt::open_runs();
        let now = ctx.clock.stamp();
        if !open.is_empty()
            && let Ok(db) = ctx.db()
        {
            for id in open {
                if let Err(e) = store::runs::interrupt(db, id, &why, &now) {
                    tracing::warn!("could not record the interrupted run: {e}");
                }
            }
        }
        Err(error::Error::new(stop, format!("stopped by {signal}")).hint("nothing was lost; run the command again"))
    });
    // Don't wait for a blocking task (a loopback listener, a stdin read) a stop left behind.
    runtime.shutdown_background();
    match result {
        Ok(done) => done.exit_code(),
        Err(e) => {
            tracing::debug!(kind = ?e.kind, "command failed");
            ctx.ui.error(&e);
            e.exit_code()
        }
    }
}

/// Logs go to stderr. `-v` raises integ's level; `RUST_LOG` takes any filter. HTTP and TLS
/// internals are capped at info whatever is asked, because at trace they print raw headers.
fn init_tracing(global: &cli::GlobalArgs, env: &config::Env) {
    let base = match (env.get("RUST_LOG"), global.verbose, global.quiet) {
        (Some(filter), _, _) => filter.to_string(),
        (None, _, true) => "error".to_string(),
        (None, 0, _) => "warn".to_string(),
        (None, 1, _) => "warn,integ=info".to_string(),
        (None, 2, _) => "info,integ=debug".to_string(),
        (None, _, _) => "info,integ=trace".to_string(),
    };
    let ansi = match global.color {
        cli::ColorChoice::Always => true,
        cli::ColorChoice::Never => false,
        cli::ColorChoice::Auto => env.get("NO_COLOR").is_none() && std::io::IsTerminal::is_terminal(&std::io::stderr()),
    };
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .fmt_fields(ui::CleanFields)
        // Its own complaint about a failed write is an `eprintln!`, which panics on a closed stderr.
        .log_internal_errors(false)
        .with_ansi(ansi)
        .with_target(true)
        .with_filter(capped_filter(&base));
    // The log file gets info and up from integ even when the terminal shows only warnings.
    let file = global.log_file.as_ref().and_then(|path| {
        let opened = open_log(path);
        if let Err(e) = &opened {
            ui::stderr_line(&format!("warning: cannot open the log file {}: {e}", path.display()));
        }
        let level =
            if env.get("RUST_LOG").is_some() || global.verbose > 0 { base.clone() } else { "warn,integ=info".into() };
        opened.ok().map(|f| {
            tracing_subscriber::fmt::layer()
                .with_writer(std::sync::Mutex::new(f))
                .fmt_fields(ui::CleanFields)
                .log_internal_errors(false)
                .with_ansi(false)
                .with_target(true)
                .with_filter(capped_filter(&level))
        })
    });
    let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry().with(stderr).with(file));
}

/// Targets whose events above info would print raw headers (tokens): HTTP and TLS internals.
const CAPPED: [&str; 7] = ["hyper", "hyper_util", "h2", "rustls", "reqwest", "zbus", "tiny_http"];

/// `base` (a `RUST_LOG`-style filter) with [`CAPPED`] held at info whatever it says. The
/// EnvFilter directives switch those targets off cheaply; the second filter drops what a more
/// specific directive (`hyper_util::client::legacy::pool=trace`) would let through.
fn capped_filter<S: tracing::Subscriber>(base: &str) -> impl tracing_subscriber::layer::Filter<S> + use<S> {
    use tracing_subscriber::EnvFilter;
    use tracing_subscriber::filter::FilterExt;
    let caps = CAPPED.map(|t| format!("{t}=info")).join(",");
    let env = EnvFilter::try_new(format!("{base},{caps}")).unwrap_or_else(|_| EnvFilter::new("warn"));
    env.and(tracing_subscriber::filter::filter_fn(|meta| {
        *meta.level() <= tracing::Level::INFO || !capped(meta.target())
    }))
}

/// Whether `target` is one of [`CAPPED`] or inside one (`hyper_util::client`, not `hyperx`).
fn capped(target: &str) -> bool {
    CAPPED.iter().any(|t| target.strip_prefix(t).is_some_and(|rest| rest.is_empty() || rest.starts_with("::")))
}

/// Open a log file for appending, created 0600, never through a symbolic link (one planted in
/// its place would have integ append to, or create, a file elsewhere).
fn open_log(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::OpenOptions::new().create(true).append(true).mode(0o600).custom_flags(libc::O_NOFOLLOW).open(path)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_panic_report_names_the_place_and_nothing_else() {
        let here = std::panic::Location::caller();
        let text = super::panic_report(Some(here));
        assert!(text.starts_with("error: integ stopped on an internal error (a bug) at src/lib.rs:"), "{text}");
        assert!(text.contains("\nhint: "), "{text}");
        assert!(super::panic_report(None).starts_with("error: integ stopped on an internal error (a bug);"));
    }

    #[test]
    fn http_internals_are_capped_by_prefix() {
        for t in ["hyper", "hyper_util::client::legacy::pool", "h2::proto", "rustls::conn", "reqwest::connect"] {
            assert!(super::capped(t), "{t}");
        }
        for t in ["integ", "integ::http", "hyperx", "h2o", "tokio"] {
            assert!(!super::capped(t), "{t}");
        }
    }
}
