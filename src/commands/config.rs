//! `integ config path|get|set|unset|list`. Non-secret settings live in config.toml; secrets
//! (client secrets) go to the secret store and are read from stdin, never from arguments.

use std::io::{BufRead, IsTerminal};

use comfy_table::Table;
use secrecy::SecretString;

use crate::cli::{ConfigCommand, ConfigGetArgs, ConfigSetArgs};
use crate::config::{self, KEYS, KeyDef, Source};
use crate::context::Context;
use crate::error::{Done, Error, Kind, Result};
use crate::ui::{Listing, Ui};

pub fn run(ctx: &mut Context, cmd: ConfigCommand) -> Result<Done> {
    match cmd {
        ConfigCommand::Path => path(ctx),
        ConfigCommand::Get(a) => get(ctx, a),
        ConfigCommand::Set(a) => set(ctx, a),
        ConfigCommand::Unset(a) => unset(ctx, a),
        ConfigCommand::List => list(ctx),
    }
}

fn lookup(key: &str) -> Result<&'static KeyDef> {
    config::key_def(key).ok_or_else(|| {
        Error::config(format!("unknown setting '{key}'")).hint("`integ config list` shows every setting")
    })
}

/// The secret-store key for a secret setting (`jobber.client_secret` → `jobber/client_secret`).
pub(super) fn store_key(def: &KeyDef) -> String {
    def.key.replace('.', "/")
}

fn path(ctx: &mut Context) -> Result<Done> {
    if ctx.ui.json {
        ctx.ui.json_value(&serde_json::json!({
            "home": ctx.paths.home,
            "config": ctx.paths.config_file,
            "database": ctx.paths.db_file,
            "secrets_file": ctx.paths.secrets_file,
            "locks": ctx.paths.lock_dir,
        }))?;
    } else {
        ctx.ui.line(&ctx.paths.config_file.display().to_string())?;
    }
    Ok(Done::Ok)
}

fn get(ctx: &mut Context, a: ConfigGetArgs) -> Result<Done> {
    let def = lookup(&a.key)?;
    if def.secret {
        let (set, source) = secret_state(ctx, def);
        ctx.ui.info(format!(
            "{} is a secret and is never printed; it is {}",
            def.key,
            if set { format!("set ({source})") } else { "not set".to_string() }
        ));
        return Ok(if set { Done::Ok } else { Done::With(Kind::Failure) });
    }
    match ctx.settings()?.get(def.key) {
        Some(v) => {
            let v = v.to_string();
            ctx.ui.line(&v)?;
            Ok(Done::Ok)
        }
        None => Ok(Done::With(Kind::Failure)),
    }
}

fn set(ctx: &mut Context, a: ConfigSetArgs) -> Result<Done> {
    let def = lookup(&a.key)?;
    if def.secret {
        if a.value.is_some() {
            return Err(Error::config(format!("{} is a secret and cannot be given as an argument", def.key)).hint(
                format!("pipe it on stdin instead: `integ config set {}` and paste it, or `... < file`", def.key),
            ));
        }
        if def.key == "secret_key" {
            return Err(Error::config("secret_key is read from INTEG_SECRET_KEY only")
                .hint("set INTEG_SECRET_KEY, or name a key file with `integ config set secret_key_file PATH`"));
        }
        if def.key == "database.password"
            && ctx.settings()?.secret_store() == crate::store::secrets::StoreKind::Database
        {
            return Err(Error::config(
                "the database password cannot be kept in the database secret store (it is needed to reach the database)",
            )
            .hint("give it in INTEG_DATABASE_PASSWORD"));
        }
        let value = read_secret_from_stdin(def)?;
        if def.check != config::Check::Text {
            // The rule's messages never repeat a secret's value.
            config::check(def, secrecy::ExposeSecret::expose_secret(&value))
                .map_err(|why| Error::config(format!("invalid {}: {why}", def.key)))?;
        }
        ctx.secrets()?.set(&store_key(def), &value)?;
        ctx.ui.success(format!("{} saved in the secret store", def.key));
        if let Some(env) = def.env.filter(|e| ctx.env.get(e).is_some()) {
            ctx.ui.warn(format!("{env} is set in the environment and takes precedence over the stored value"));
        }
        return Ok(Done::Ok);
    }
    let value = a.value.ok_or_else(|| {
        Error::config(format!("no value given for {}", def.key)).hint(format!("integ config set {} VALUE", def.key))
    })?;
    config::check(def, &value).map_err(|why| Error::config(format!("invalid {}: {why}", def.key)))?;
    config::write_config_value(&ctx.paths.config_file, def, Some(&value))?;
    ctx.ui.success(format!("{} = {value} (in {})", def.key, ctx.paths.config_file.display()));
    if let Some(env) = def.env.filter(|e| ctx.env.get(e).is_some()) {
        ctx.ui.warn(format!("{env} is set in the environment and takes precedence over config.toml"));
    }
    Ok(Done::Ok)
}

fn unset(ctx: &mut Context, a: ConfigGetArgs) -> Result<Done> {
    let def = lookup(&a.key)?;
    if def.secret {
        let removed = ctx.secrets()?.delete(&store_key(def))?;
        ctx.ui.success(if removed {
            format!("{} removed from the secret store", def.key)
        } else {
            format!("{} was not in the secret store", def.key)
        });
        return Ok(Done::Ok);
    }
    config::write_config_value(&ctx.paths.config_file, def, None)?;
    ctx.ui.success(format!("{} removed from config.toml", def.key));
    Ok(Done::Ok)
}

fn read_secret_from_stdin(def: &KeyDef) -> Result<SecretString> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        crate::ui::stderr_line(&format!("Paste the value of {} and press Enter:", def.key));
    }
    // The line buffer holds the secret too: wiped when it goes.
    let mut line = zeroize::Zeroizing::new(String::new());
    stdin.lock().read_line(&mut line).map_err(|e| Error::failure("cannot read the secret from stdin").cause(e))?;
    let value = line.trim_end_matches(['\n', '\r']).to_string();
    if value.trim().is_empty() {
        return Err(Error::config(format!("no value for {} on stdin", def.key))
            .hint(format!("printf '%s' \"$SECRET\" | integ config set {}", def.key)));
    }
    Ok(SecretString::from(value))
}

/// Whether a secret is available and from where, without ever reading it out.
fn secret_state(ctx: &mut Context, def: &KeyDef) -> (bool, String) {
    if let Some(env) = def.env.filter(|e| ctx.env.get(e).is_some()) {
        return (true, format!("env {env}"));
    }
    if def.key == "secret_key" {
        return (false, String::new());
    }
    match ctx.secrets().and_then(|s| Ok(s.get(&store_key(def))?)) {
        Ok(Some(_)) => (true, Source::SecretStore.to_string()),
        Ok(None) => (false, String::new()),
        Err(e) => (false, format!("secret store unavailable: {}", e.message)),
    }
}

#[derive(Debug, serde::Serialize)]
struct Row {
    key: &'static str,
    value: Option<String>,
    source: String,
    secret: bool,
    env: Option<&'static str>,
}

#[derive(Debug, serde::Serialize)]
#[serde(transparent)]
struct Rows(Vec<Row>);

impl Listing for Rows {
    fn table(&self) -> Table {
        let mut t = Ui::table(&["KEY", "VALUE", "SOURCE", "ENV"]);
        for r in &self.0 {
            t.add_row(vec![r.key, r.value.as_deref().unwrap_or(""), &r.source, r.env.unwrap_or("")]);
        }
        t
    }
}

fn list(ctx: &mut Context) -> Result<Done> {
    let settings = ctx.settings()?.clone();
    let mut rows = Vec::new();
    for def in KEYS {
        if def.secret {
            let (set, source) = secret_state(ctx, def);
            rows.push(Row {
                key: def.key,
                value: Some(if set { "(redacted)".into() } else { "(not set)".into() }),
                source: if set { source } else { Source::Unset.to_string() },
                secret: true,
                env: def.env,
            });
        } else {
            let v = settings.value(def.key);
            rows.push(Row {
                key: def.key,
                value: v.and_then(|v| v.value.clone()),
                source: v.map(|v| v.source.to_string()).unwrap_or_else(|| Source::Unset.to_string()),
                secret: false,
                env: def.env,
            });
        }
    }
    ctx.ui.data(&Rows(rows))?;
    Ok(Done::Ok)
}
