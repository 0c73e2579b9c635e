//! One file per command; this file only dispatches.

mod completions;
mod config;
mod connect;
mod disconnect;
mod doctor;
mod jobs;
mod refresh;
mod schedule;
mod select;
mod status;
mod sync;

use crate::cli::Command;
use crate::context::Context;
use crate::error::{Done, Result};

pub async fn run(ctx: &mut Context, command: Command) -> Result<Done> {
    match command {
        Command::Connect(args) => connect::run(ctx, args).await,
        Command::Disconnect(args) => disconnect::run(ctx, args).await,
        Command::Refresh(args) => refresh::run(ctx, args).await,
        Command::Sync(args) => sync::run(ctx, args).await,
        Command::Jobs(cmd) => jobs::run(ctx, cmd),
        Command::Schedule(args) => schedule::run(ctx, args),
        Command::Status(args) => status::run(ctx, args),
        Command::Doctor(args) => doctor::run(ctx, args),
        Command::Config(cmd) => config::run(ctx, cmd),
        Command::Completions(args) => completions::run(ctx, args),
        Command::Man => completions::man(ctx),
    }
}
