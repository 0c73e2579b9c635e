//! One file per command; this file only dispatches.

mod alerts;
mod availability;
mod calendars;
mod completions;
mod config;
mod conflicts;
mod connect;
mod db;
mod disconnect;
mod doctor;
mod events;
mod jobs;
mod progress;
mod push;
mod refresh;
mod schedule;
mod secrets;
mod select;
mod status;
mod sync;

use crate::cli::{Command, ConfigCommand};
use crate::context::Context;
use crate::error::{Done, Result};

pub async fn run(ctx: &mut Context, command: Command) -> Result<Done> {
    // Folders and a config file others could change are refused before anything is read from
    // or written to them. doctor reports them instead, and what touches no file still works.
    let touches_files = !matches!(
        command,
        Command::Doctor(_) | Command::Completions(_) | Command::Man | Command::Config(ConfigCommand::Path)
    );
    if touches_files {
        ctx.paths.check_private()?;
    }
    match command {
        Command::Connect(args) => connect::run(ctx, args).await,
        Command::Disconnect(args) => disconnect::run(ctx, args).await,
        Command::Refresh(args) => refresh::run(ctx, args).await,
        Command::Sync(args) => sync::run(ctx, args).await,
        Command::Jobs(cmd) => jobs::run(ctx, cmd),
        Command::Schedule(args) => schedule::run(ctx, args),
        Command::Calendars(cmd) => calendars::run(ctx, cmd).await,
        Command::Events(cmd) => events::run(ctx, cmd),
        Command::Push(cmd) => push::run(ctx, cmd).await,
        Command::Conflicts(args) => conflicts::run(ctx, args),
        Command::Availability(args) => availability::run(ctx, args).await,
        Command::Status(args) => status::run(ctx, args).await,
        Command::Doctor(args) => doctor::run(ctx, args).await,
        Command::Alerts(cmd) => alerts::run(ctx, cmd).await,
        Command::Config(cmd) => config::run(ctx, cmd),
        Command::Db(cmd) => db::run(ctx, cmd).await,
        Command::Secrets(cmd) => secrets::run(ctx, cmd),
        Command::Completions(args) => completions::run(ctx, args),
        Command::Man => completions::man(ctx),
    }
}
