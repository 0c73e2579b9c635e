//! The command line: global flags and one `Args` struct per command. Doc comments are the help.

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::provider::Provider;
use crate::shard::Shard;

/// Connect Jobber, Google Calendar, Microsoft Outlook and Calendly, and keep their data in a
/// local SQLite database
#[derive(Debug, Parser)]
#[command(name = "integ", version, propagate_version = true, max_term_width = 100)]
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
    /// Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file
    #[arg(long, global = true, value_name = "PATH")]
    pub log_file: Option<std::path::PathBuf>,
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
    /// Connect an account: sign in through the browser and store its tokens
    Connect(ConnectArgs),
    /// Revoke an account's access at the provider and delete its tokens
    Disconnect(DisconnectArgs),
    /// Refresh access tokens now (a keep-alive for refresh tokens that die when idle)
    Refresh(RefreshArgs),
    /// Pull data from every connected account into the database
    Sync(SyncArgs),
    /// Read synced Jobber jobs from the local database
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// List the calendars of connected accounts and choose which ones to sync
    #[command(subcommand)]
    Calendars(CalendarsCommand),
    /// Read synced calendar events from the local database
    #[command(subcommand)]
    Events(EventsCommand),
    /// Push Jobber visits into Google or Outlook calendars (rules run with `integ sync`)
    #[command(subcommand)]
    Push(PushCommand),
    /// List visits that overlap a crew member's other events or visits (exit 6 when any do)
    Conflicts(ConflictsArgs),
    /// Ask Google or Microsoft for the busy times of an account's calendars
    Availability(AvailabilityArgs),
    /// Show every connection, its token expiry, last syncs and what needs doing
    Status(StatusArgs),
    /// Print or install a cron, systemd or launchd schedule that runs `integ sync`
    Schedule(ScheduleArgs),
    /// Check the configuration, database, secret store and credentials
    Doctor(DoctorArgs),
    /// Send a test alert, or list open and recent alerts (Slack, e-mail)
    #[command(subcommand)]
    Alerts(AlertsCommand),
    /// Read and change settings
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Copy the database into PostgreSQL, or create integ's schema there
    #[command(subcommand)]
    Db(DbCommand),
    /// Copy every secret integ keeps into another secret store
    #[command(subcommand)]
    Secrets(SecretsCommand),
    /// Print shell completions
    Completions(CompletionsArgs),
    /// Print the man page (roff) to stdout
    #[command(hide = true)]
    Man,
}

#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// The provider to connect
    #[arg(value_enum)]
    pub provider: Provider,
    /// A name for this account (default: the name the provider reports); connecting the same
    /// name again replaces its tokens
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,
    /// Don't open a browser: print the address, then paste back the one the browser ended on
    #[arg(long)]
    pub no_browser: bool,
    /// Listen on this loopback port (it must match the registered redirect URI for Jobber and
    /// Calendly)
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,
    /// Give up after this many seconds
    #[arg(long, value_name = "SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    /// Read a Calendly Personal Access Token from stdin instead of signing in
    #[arg(long)]
    pub token_stdin: bool,
    /// Also ask for write access to calendars, for `integ push` (Google and Microsoft);
    /// reconnecting an account with it keeps its sync state
    #[arg(long)]
    pub write: bool,
}

#[derive(Debug, Subcommand)]
pub enum PushCommand {
    /// Add a rule pushing a Jobber account's visits into a calendar; prints the rule's id
    Add(PushAddArgs),
    /// List the push rules
    List,
    /// Remove a push rule
    Remove(PushRemoveArgs),
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["calendar", "create"])))]
pub struct PushAddArgs {
    /// The calendar provider to push into
    #[arg(long, value_enum, value_name = "PROVIDER")]
    pub to: CalendarTarget,
    /// The Google or Microsoft account (label, name, email or account id)
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,
    /// Push into this existing calendar (an id from `integ calendars list`)
    #[arg(long, value_name = "ID")]
    pub calendar: Option<String>,
    /// Create a calendar with this name for the visits (once: adding the rule again reuses it)
    #[arg(long, value_name = "NAME")]
    pub create: Option<String>,
    /// The Jobber account whose visits to push
    #[arg(long, value_name = "JOBBER_ACCOUNT")]
    pub from: Option<String>,
    /// Only visits assigned to this crew member (a Jobber user name or id); repeatable
    #[arg(long, value_name = "NAME_OR_ID")]
    pub crew: Vec<String>,
    /// Push visits from this many days back
    #[arg(long, value_name = "N", default_value_t = 7, value_parser = clap::value_parser!(u32).range(0..=3650))]
    pub past_days: u32,
    /// Push visits up to this many days ahead
    #[arg(long, value_name = "N", default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub future_days: u32,
}

#[derive(Debug, Args)]
pub struct ConflictsArgs {
    /// From this date (YYYY-MM-DD, UTC) or instant (RFC 3339); default now
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Up to this date (exclusive) or instant; default 14 days after --from
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Only this crew member (a Jobber user's full name or id)
    #[arg(long, value_name = "NAME")]
    pub crew: Option<String>,
    /// Print CSV instead of a table
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
}

#[derive(Debug, Args)]
pub struct AvailabilityArgs {
    /// The calendar provider to ask
    #[arg(value_enum)]
    pub provider: CalendarTarget,
    /// The account (label, name, email or account id)
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,
    /// From this date (YYYY-MM-DD, UTC) or instant (RFC 3339)
    #[arg(long, value_name = "T")]
    pub from: String,
    /// Up to this date (exclusive) or instant
    #[arg(long, value_name = "T")]
    pub to: String,
    /// Google: this calendar (repeatable; default the primary one)
    #[arg(long, value_name = "ID")]
    pub calendar: Vec<String>,
}

/// A calendar provider integ can write to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CalendarTarget {
    Google,
    Microsoft,
}

impl CalendarTarget {
    pub fn provider(self) -> Provider {
        match self {
            CalendarTarget::Google => Provider::Google,
            CalendarTarget::Microsoft => Provider::Microsoft,
        }
    }
}

#[derive(Debug, Args)]
pub struct PushRemoveArgs {
    /// The rule's id (from `integ push list`)
    pub id: i64,
    /// Also delete the events the rule pushed (only events carrying integ's marker)
    #[arg(long)]
    pub delete_events: bool,
}

#[derive(Debug, Args)]
pub struct DisconnectArgs {
    #[command(flatten)]
    pub target: AccountArgs,
    /// Also delete the account's synced data and its history
    #[arg(long)]
    pub purge: bool,
    /// Forget the account here even if the provider cannot be reached to revoke access
    #[arg(long)]
    pub local_only: bool,
}

#[derive(Debug, Args)]
pub struct RefreshArgs {
    /// Only this provider's accounts (default: every connected account)
    #[arg(value_enum)]
    pub provider: Option<Provider>,
    /// Only this account (label, name, email or account id)
    #[arg(long, value_name = "NAME", requires = "provider")]
    pub account: Option<String>,
    /// Every connected account (the default without a provider)
    #[arg(long, conflicts_with_all = ["provider", "account"])]
    pub all: bool,
    /// Refresh even if another process refreshed moments ago
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The stream to sync (default: every stream of every connected account)
    #[arg(value_enum)]
    pub stream: Option<SyncStream>,
    /// Only this account (label, name, email or account id)
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,
    /// Only this provider's accounts
    #[arg(long, value_enum, value_name = "P")]
    pub provider: Option<Provider>,
    /// Rescan everything (for jobs: a full sweep that also marks deleted jobs)
    #[arg(long)]
    pub full: bool,
    /// If another run holds an account's lock, wait up to this many seconds instead of
    /// exiting with code 5
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(..=MAX_WAIT_SECS))]
    pub wait: Option<u64>,
    /// Stop cleanly after this long (e.g. 10m, 90s), progress committed, so runs never pile
    /// up; the next run continues where this one stopped
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub max_duration: Option<std::time::Duration>,
    /// Sync only the accounts of shard I of N (1 to N, N at most 1024), so N workers split
    /// the accounts without coordinating; `integ status --shards N` shows the owners
    /// [env: INTEG_SHARD]
    #[arg(long, value_name = "I/N", value_parser = clap::value_parser!(Shard))]
    pub shard: Option<Shard>,
}

/// The longest `--max-duration`: a year (8,784 h).
pub const MAX_DURATION_SECS: u64 = 366 * 86_400;
/// The longest `--wait` for a lock: a day.
pub const MAX_WAIT_SECS: u64 = 86_400;

/// `90`, `90s`, `15m`, `2h`, at most a year.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let n: u64 = num.parse().map_err(|_| format!("'{s}' is not a duration like 90s, 15m or 2h"))?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => return Err(format!("'{s}' is not a duration like 90s, 15m or 2h")),
    };
    let secs = n.checked_mul(unit).filter(|s| *s <= MAX_DURATION_SECS);
    match secs {
        Some(0) => Err("the duration must be more than zero".into()),
        Some(secs) => Ok(std::time::Duration::from_secs(secs)),
        None => Err(format!("'{s}' is longer than a year, the most integ accepts")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SyncStream {
    /// Jobber jobs, with their clients, line items, visits and crews
    Jobs,
    /// Events of the selected calendars (Google, Microsoft, Calendly)
    Events,
    /// Jobber visits into Google and Outlook calendars, by the push rules (`integ push`)
    Push,
}

#[derive(Debug, Subcommand)]
pub enum CalendarsCommand {
    /// List the calendars of connected accounts (asks the providers)
    List(CalendarsListArgs),
    /// Sync this calendar's events
    Select(CalendarSelectArgs),
    /// Stop syncing this calendar's events
    Deselect(CalendarSelectArgs),
}

#[derive(Debug, Args)]
pub struct CalendarsListArgs {
    /// Only this provider's calendars
    #[arg(long, value_enum, value_name = "P")]
    pub provider: Option<Provider>,
    /// Only this account's calendars
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,
    /// Show what the database holds without asking the providers
    #[arg(long)]
    pub offline: bool,
}

#[derive(Debug, Args)]
pub struct CalendarSelectArgs {
    /// The calendar id (see `integ calendars list`)
    pub id: String,
    /// The provider, when the id is not unique
    #[arg(long, value_enum, value_name = "P")]
    pub provider: Option<Provider>,
    /// The account, when the id is not unique
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// List events in start order, in the local time zone (or --tz)
    List(EventsListArgs),
}

#[derive(Debug, Args)]
pub struct EventsListArgs {
    /// Events ending on or after this date (YYYY-MM-DD, local time; default: today)
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Events starting before the end of this date (YYYY-MM-DD, local time; default: 30 days on)
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Only this provider's events
    #[arg(long, value_enum, value_name = "P")]
    pub provider: Option<Provider>,
    /// Only this calendar's events
    #[arg(long, value_name = "ID")]
    pub calendar: Option<String>,
    /// Show times in this IANA time zone (e.g. America/Denver) instead of the local one
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Print CSV instead of a table
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// List jobs, newest change first
    List(JobsListArgs),
    /// Show one job with its line items and visits
    Show(JobsShowArgs),
}

#[derive(Debug, Args)]
pub struct JobsListArgs {
    /// Only jobs with this Jobber status (e.g. upcoming, active, requires_invoicing)
    #[arg(long, value_name = "S")]
    pub status: Option<String>,
    /// Only jobs starting or changed on or after this date (YYYY-MM-DD)
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Only this Jobber account
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,
    /// Print CSV instead of a table
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
}

#[derive(Debug, Args)]
pub struct JobsShowArgs {
    /// The job's Jobber id or its job number
    pub job: String,
    /// Only this Jobber account
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Also send alerts for what needs attention (as `integ sync` does after a run)
    #[arg(long)]
    pub alert: bool,
    /// Show which of N shards (`integ sync --shard I/N`) owns each account
    /// [env: INTEG_SHARDS]
    #[arg(long, value_name = "N", value_parser = crate::shard::parse_count)]
    pub shards: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Send a test message to each configured channel and report each result
    Test(AlertsTestArgs),
    /// Show open alerts and those cleared in the last week, and messages still waiting to go
    List,
}

#[derive(Debug, Args)]
pub struct AlertsTestArgs {
    /// Only this channel
    #[arg(long, value_enum)]
    pub channel: Option<AlertChannel>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AlertChannel {
    Slack,
    Email,
}

impl AlertChannel {
    pub fn name(self) -> &'static str {
        match self {
            AlertChannel::Slack => "slack",
            AlertChannel::Email => "email",
        }
    }
}

#[derive(Debug, Args)]
pub struct ScheduleArgs {
    /// How often to run (e.g. 15m, 1h)
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = parse_duration)]
    pub every: std::time::Duration,
    /// A crontab line (the default on Linux)
    #[arg(long, group = "format")]
    pub cron: bool,
    /// A systemd user service and timer
    #[arg(long, group = "format")]
    pub systemd: bool,
    /// A launchd agent (the default on macOS)
    #[arg(long, group = "format")]
    pub launchd: bool,
    /// Install it for the current user instead of printing it
    #[arg(long)]
    pub install: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleKind {
    Cron,
    Systemd,
    Launchd,
}

impl ScheduleArgs {
    pub fn kind(&self) -> ScheduleKind {
        if self.systemd {
            ScheduleKind::Systemd
        } else if self.launchd || (!self.cron && cfg!(target_os = "macos")) {
            ScheduleKind::Launchd
        } else {
            ScheduleKind::Cron
        }
    }
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Also send a test message on each configured alert channel
    #[arg(long)]
    pub send: bool,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Copy the SQLite database into an empty PostgreSQL database
    ///
    /// Every table, cursors included, in one transaction; each table's row count is compared
    /// before the commit, and a failure leaves the target as it was.
    Copy(DbCopyArgs),
    /// Create or upgrade integ's schema in a PostgreSQL database
    ///
    /// In one transaction; a schema newer than this integ is refused (exit 2).
    Migrate(DbMigrateArgs),
}

#[derive(Debug, Args)]
pub struct DbCopyArgs {
    /// The target, `postgres://USER@HOST[:PORT]/DATABASE[?sslmode=...]`; the password from
    /// INTEG_DATABASE_PASSWORD or `integ config set database.password`
    #[arg(long, value_name = "URL")]
    pub to: String,
}

#[derive(Debug, Args)]
pub struct DbMigrateArgs {
    /// The database, `postgres://USER@HOST[:PORT]/DATABASE[?sslmode=...]` (default:
    /// INTEG_DATABASE_URL); the password from INTEG_DATABASE_PASSWORD or `integ config set
    /// database.password`
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Copy every token set and stored secret from the current secret store into another
    ///
    /// The token sets of every connection in the database, the client secrets, and the
    /// other stored secrets (alert credentials, the database password) are copied; the
    /// target must hold none of them yet (exit 2 otherwise). The current store is left as it
    /// is; names are printed, never values. The target uses the same key (INTEG_SECRET_KEY or
    /// INTEG_SECRET_KEY_FILE); `database` needs INTEG_DATABASE_URL.
    Copy(SecretsCopyArgs),
}

#[derive(Debug, Args)]
pub struct SecretsCopyArgs {
    /// The store to copy into
    #[arg(long, value_enum)]
    pub to: SecretStoreArg,
}

/// A secret store, as `--to` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SecretStoreArg {
    Keyring,
    File,
    Database,
}

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
    fn huge_durations_are_refused_not_overflowed() {
        for bad in ["9999999999999999h", "18446744073709551615s", "5124095576030432m", "0", "2x", ""] {
            assert!(super::parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(super::parse_duration("15m"), Ok(std::time::Duration::from_secs(900)));
        assert_eq!(super::parse_duration("2h"), Ok(std::time::Duration::from_secs(7200)));
    }

    #[test]
    fn command_tree_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
