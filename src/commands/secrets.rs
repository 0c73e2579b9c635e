//! `integ secrets copy --to STORE`: every secret integ keeps, copied from the configured
//! secret store into another one (typically the database store, so many machines share the
//! tokens). The source is left as it is; names are printed, never values.

use std::sync::Arc;

use crate::cli::{SecretStoreArg, SecretsCommand, SecretsCopyArgs};
use crate::config::KEYS;
use crate::context::Context;
use crate::error::{Done, Error, Result};
use crate::store::connections;
use crate::store::secrets::{SecretStore, StoreKind};

pub fn run(ctx: &mut Context, cmd: SecretsCommand) -> Result<Done> {
    match cmd {
        SecretsCommand::Copy(args) => copy(ctx, args),
    }
}

fn kind_name(kind: StoreKind) -> &'static str {
    match kind {
        StoreKind::Keyring => "keyring",
        StoreKind::File => "file",
        StoreKind::Database => "database",
    }
}

/// The names of every secret integ may have stored: each connection's token set, and each
/// secret setting (client secrets, alert credentials, the database password). The database
/// password is not copied into the database store, which could never read it (it is needed
/// to reach the database in the first place).
fn secret_names(ctx: &mut Context, target: StoreKind) -> Result<Vec<String>> {
    let mut names: Vec<String> = match ctx.existing_db()? {
        Some(db) => connections::list(db, None)?.iter().map(|c| c.secret_key()).collect(),
        None => Vec::new(),
    };
    for def in KEYS.iter().filter(|d| d.secret && d.key != "secret_key") {
        if target == StoreKind::Database && def.key == "database.password" {
            continue;
        }
        names.push(super::config::store_key(def));
    }
    names.dedup();
    Ok(names)
}

fn copy(ctx: &mut Context, args: SecretsCopyArgs) -> Result<Done> {
    let target_kind = match args.to {
        SecretStoreArg::Keyring => StoreKind::Keyring,
        SecretStoreArg::File => StoreKind::File,
        SecretStoreArg::Database => StoreKind::Database,
    };
    let source_kind = ctx.settings()?.secret_store();
    if source_kind == target_kind {
        return Err(Error::config(format!("the secret store is already {}", kind_name(target_kind)))
            .hint("set INTEG_SECRET_STORE (or `secret_store`) to the store to copy from"));
    }
    let names = secret_names(ctx, target_kind)?;
    let source = ctx.secrets()?;
    let target: Arc<dyn SecretStore> = ctx.open_secret_store(target_kind)?;

    // Only into an empty target (copying over it could replace newer tokens with older ones),
    // and all or nothing, so a failed copy can simply be run again.
    let mut entries = Vec::new();
    for name in &names {
        if let Some(value) = source.get(name)? {
            entries.push((name.clone(), value));
        }
    }
    target.fill(&names, &entries)?;
    let copied: Vec<String> = entries.into_iter().map(|(name, _)| name).collect();
    if !ctx.ui.json {
        for name in &copied {
            ctx.ui.line(name)?;
        }
    }
    if ctx.ui.json {
        ctx.ui.json_value(&serde_json::json!({
            "from": source.describe(), "to": target.describe(), "copied": copied,
        }))?;
    }
    ctx.ui.success(format!(
        "copied {} secrets from {} to {}; the source store is unchanged (delete it yourself once every machine uses the new one)",
        copied.len(),
        source.describe(),
        target.describe()
    ));
    ctx.ui.info(format!(
        "to use it, set INTEG_SECRET_STORE={} (or `integ config set secret_store {}`)",
        kind_name(target_kind),
        kind_name(target_kind)
    ));
    Ok(Done::Ok)
}
