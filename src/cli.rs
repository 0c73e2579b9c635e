//! The command line: global flags and one `Args` struct per command. Doc comments are the help.

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::providers::Provider;

/// Connect Jobber, Google Calendar, Microsoft Outlook and Calendly, and keep their data in a
/// local SQLite database
#[derive(Debug, Parser)]
#[command(
    name = "integ",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Print machine-readable JSON on stdout (errors too)
    #[arg(long, global = true)]
    pub json: bool,
    /// Print only errors
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// When to use colours (NO_COLOR is honoured by auto)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show every connection, its token expiry, last syncs and what needs doing
    Status(StatusArgs),
    /// Check the configuration, database, secret store and credentials
    Doctor(DoctorArgs),
    /// Read and change settings
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print shell completions
    Completions(CompletionsArgs),
    /// Print the man page (roff) to stdout
    #[command(hide = true)]
    Man,
}

#[derive(Debug, Args)]
pub struct StatusArgs {}

#[derive(Debug, Args)]
pub struct DoctorArgs {}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the path of config.toml (and of the database and secret file)
    Path,
    /// Print one setting's value (secrets are never printed)
    Get(ConfigGetArgs),
    /// Change a setting in config.toml; secrets go to the secret store and are read from stdin
    Set(ConfigSetArgs),
    /// Remove a setting from config.toml (or a secret from the secret store)
    Unset(ConfigGetArgs),
    /// List every setting with its value and where it came from (secrets redacted)
    List,
}

#[derive(Debug, Args)]
pub struct ConfigGetArgs {
    /// The setting, e.g. jobber.client_id (see `integ config list`)
    pub key: String,
}

#[derive(Debug, Args)]
pub struct ConfigSetArgs {
    /// The setting, e.g. jobber.client_id or jobber.client_secret
    pub key: String,
    /// The value; omit it for secrets, which are read from stdin so they never appear in
    /// process arguments or shell history
    pub value: Option<String>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Which connection a command acts on.
#[derive(Debug, Clone, Args)]
pub struct AccountArgs {
    /// The provider
    #[arg(value_enum)]
    pub provider: Provider,
    /// Pick one of several accounts of the provider (label, name, email or account id)
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn command_tree_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
