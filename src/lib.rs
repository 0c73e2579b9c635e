//! integ: connect Jobber, Google Calendar, Microsoft Outlook and Calendly, and keep their data in
//! a local SQLite database.
//!
//! # Map
//! - [`cli`] parses the command line; [`commands`] holds one file per command and is the only
//!   layer that talks to the user (through [`ui`]).
//! - [`context`] is built once per run: environment snapshot, [`config`] (defaults →
//!   config.toml → environment), and lazily opened database and secret store.
//! - [`store`] is everything on disk: SQLite ([`store::db`]) and secrets ([`store::secrets`]).
//!   It knows nothing about HTTP.
//! - [`error`] decides exit codes in one place.
//! - [`time`] is the one clock: the context owns it and hands it down; nothing else reads the
//!   wall clock, and tests pin it with `INTEG_TEST_NOW`.
//!
//! Data flows one way: a command asks the lower layers; nothing below `commands` prints.
//! Start reading at `main.rs`, then [`commands`].

pub mod cli;
pub mod commands;
pub mod config;
pub mod context;
pub mod error;
pub mod http;
pub mod oauth;
pub mod providers;
pub mod store;
pub mod sync;
pub mod time;
pub mod ui;

use clap::Parser;

/// Run integ with the process's arguments and environment; returns the exit code.
pub fn main_entry() -> u8 {
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
    match runtime.block_on(commands::run(&mut ctx, cli.command)) {
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
    use tracing_subscriber::EnvFilter;
    let base = match (env.get("RUST_LOG"), global.verbose, global.quiet) {
        (Some(filter), _, _) => filter.to_string(),
        (None, _, true) => "error".to_string(),
        (None, 0, _) => "warn".to_string(),
        (None, 1, _) => "warn,integ=info".to_string(),
        (None, 2, _) => "info,integ=debug".to_string(),
        (None, _, _) => "info,integ=trace".to_string(),
    };
    // At trace, HTTP and TLS internals print raw headers (tokens): cap them whatever is asked.
    const CAPS: &str = "hyper=info,hyper_util=info,h2=info,rustls=info,reqwest=info,zbus=info,tiny_http=info";
    let filter = |base: &str| EnvFilter::try_new(format!("{base},{CAPS}")).unwrap_or_else(|_| EnvFilter::new("warn"));
    let ansi = match global.color {
        cli::ColorChoice::Always => true,
        cli::ColorChoice::Never => false,
        cli::ColorChoice::Auto => env.get("NO_COLOR").is_none() && std::io::IsTerminal::is_terminal(&std::io::stderr()),
    };
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(true)
        .with_filter(filter(&base));
    // The log file gets info and up from integ even when the terminal shows only warnings.
    let file = global.log_file.as_ref().and_then(|path| {
        let opened = open_log(path);
        if let Err(e) = &opened {
            eprintln!("warning: cannot open the log file {}: {e}", path.display());
        }
        let level =
            if env.get("RUST_LOG").is_some() || global.verbose > 0 { base.clone() } else { "warn,integ=info".into() };
        opened.ok().map(|f| {
            tracing_subscriber::fmt::layer()
                .with_writer(std::sync::Mutex::new(f))
                .with_ansi(false)
                .with_target(true)
                .with_filter(filter(&level))
        })
    });
    let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry().with(stderr).with(file));
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
