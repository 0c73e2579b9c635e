# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_integ_global_optspecs
    string join \n json q/quiet v/verbose log-file= color= h/help V/version
end

function __fish_integ_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_integ_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_integ_using_subcommand
    set -l cmd (__fish_integ_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c integ -n "__fish_integ_needs_command" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_needs_command" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_needs_command" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_needs_command" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_needs_command" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_needs_command" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_needs_command" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_needs_command" -f -a "connect" -d 'Connect an account: sign in through the browser and store its tokens'
complete -c integ -n "__fish_integ_needs_command" -f -a "disconnect" -d 'Revoke an account\'s access at the provider and delete its tokens'
complete -c integ -n "__fish_integ_needs_command" -f -a "refresh" -d 'Refresh access tokens now (a keep-alive for refresh tokens that die when idle)'
complete -c integ -n "__fish_integ_needs_command" -f -a "sync" -d 'Pull data from every connected account into the database'
complete -c integ -n "__fish_integ_needs_command" -f -a "jobs" -d 'Read synced Jobber jobs from the local database'
complete -c integ -n "__fish_integ_needs_command" -f -a "calendars" -d 'List the calendars of connected accounts and choose which ones to sync'
complete -c integ -n "__fish_integ_needs_command" -f -a "events" -d 'Read synced calendar events from the local database'
complete -c integ -n "__fish_integ_needs_command" -f -a "push" -d 'Push Jobber visits into Google or Outlook calendars (rules run with `integ sync`)'
complete -c integ -n "__fish_integ_needs_command" -f -a "conflicts" -d 'List visits that overlap a crew member\'s other events or visits (exit 6 when any do)'
complete -c integ -n "__fish_integ_needs_command" -f -a "availability" -d 'Ask Google or Microsoft for the busy times of an account\'s calendars'
complete -c integ -n "__fish_integ_needs_command" -f -a "status" -d 'Show every connection, its token expiry, last syncs and what needs doing'
complete -c integ -n "__fish_integ_needs_command" -f -a "schedule" -d 'Print or install a cron, systemd or launchd schedule that runs `integ sync`'
complete -c integ -n "__fish_integ_needs_command" -f -a "doctor" -d 'Check the configuration, database, secret store and credentials'
complete -c integ -n "__fish_integ_needs_command" -f -a "alerts" -d 'Send a test alert, or list open and recent alerts (Slack, e-mail)'
complete -c integ -n "__fish_integ_needs_command" -f -a "config" -d 'Read and change settings'
complete -c integ -n "__fish_integ_needs_command" -f -a "db" -d 'Copy the database into PostgreSQL, or create integ\'s schema there'
complete -c integ -n "__fish_integ_needs_command" -f -a "secrets" -d 'Copy every secret integ keeps into another secret store'
complete -c integ -n "__fish_integ_needs_command" -f -a "completions" -d 'Print shell completions'
complete -c integ -n "__fish_integ_needs_command" -f -a "man" -d 'Print the man page (roff) to stdout'
complete -c integ -n "__fish_integ_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c integ -n "__fish_integ_using_subcommand connect" -l account -d 'A name for this account (default: the name the provider reports); connecting the same name again replaces its tokens' -r
complete -c integ -n "__fish_integ_using_subcommand connect" -l port -d 'Listen on this loopback port (it must match the registered redirect URI for Jobber and Calendly)' -r
complete -c integ -n "__fish_integ_using_subcommand connect" -l timeout -d 'Give up after this many seconds' -r
complete -c integ -n "__fish_integ_using_subcommand connect" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand connect" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand connect" -l no-browser -d 'Don\'t open a browser: print the address, then paste back the one the browser ended on'
complete -c integ -n "__fish_integ_using_subcommand connect" -l token-stdin -d 'Read a Calendly Personal Access Token from stdin instead of signing in'
complete -c integ -n "__fish_integ_using_subcommand connect" -l write -d 'Also ask for write access to calendars, for `integ push` (Google and Microsoft); reconnecting an account with it keeps its sync state'
complete -c integ -n "__fish_integ_using_subcommand connect" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand connect" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand connect" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand connect" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand connect" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand disconnect" -l account -d 'Pick one of several accounts of the provider (label, name, email or account id)' -r
complete -c integ -n "__fish_integ_using_subcommand disconnect" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand disconnect" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand disconnect" -l purge -d 'Also delete the account\'s synced data and its history'
complete -c integ -n "__fish_integ_using_subcommand disconnect" -l local-only -d 'Forget the account here even if the provider cannot be reached to revoke access'
complete -c integ -n "__fish_integ_using_subcommand disconnect" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand disconnect" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand disconnect" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand disconnect" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand disconnect" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand refresh" -l account -d 'Only this account (label, name, email or account id)' -r
complete -c integ -n "__fish_integ_using_subcommand refresh" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand refresh" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand refresh" -l all -d 'Every connected account (the default without a provider)'
complete -c integ -n "__fish_integ_using_subcommand refresh" -l force -d 'Refresh even if another process refreshed moments ago'
complete -c integ -n "__fish_integ_using_subcommand refresh" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand refresh" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand refresh" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand refresh" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand refresh" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand sync" -l account -d 'Only this account (label, name, email or account id)' -r
complete -c integ -n "__fish_integ_using_subcommand sync" -l provider -d 'Only this provider\'s accounts' -r -f -a "jobber\t''
google\t''
microsoft\t''
calendly\t''"
complete -c integ -n "__fish_integ_using_subcommand sync" -l wait -d 'If another run holds an account\'s lock, wait up to this many seconds instead of exiting with code 5' -r
complete -c integ -n "__fish_integ_using_subcommand sync" -l max-duration -d 'Stop cleanly after this long (e.g. 10m, 90s), progress committed, so runs never pile up; the next run continues where this one stopped' -r
complete -c integ -n "__fish_integ_using_subcommand sync" -l shard -d 'Sync only the accounts of shard I of N (1 to N, N at most 1024), so N workers split the accounts without coordinating; `integ status --shards N` shows the owners [env: INTEG_SHARD]' -r
complete -c integ -n "__fish_integ_using_subcommand sync" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand sync" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand sync" -l full -d 'Rescan everything (for jobs: a full sweep that also marks deleted jobs)'
complete -c integ -n "__fish_integ_using_subcommand sync" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand sync" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand sync" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand sync" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c integ -n "__fish_integ_using_subcommand sync" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand jobs; and not __fish_seen_subcommand_from list show help" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand jobs; and not __fish_seen_subcommand_from list show help" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand jobs; and not __fish_seen_subcommand_from list show help" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand jobs; and not __fish_seen_subcommand_from list show help" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand jobs; and not __fish_seen_subcommand_from list show help" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand jobs; and not __fish_seen_subcommand_from list show help" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand jobs; and not __fish_seen_subcommand_from list show help" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand jobs; and not __fish_seen_subcommand_from list show help" -f -a "list" -d 'List jobs, newest change first'
complete -c integ -n "__fish_integ_using_subcommand jobs; and not __fish_seen_subcommand_from list show help" -f -a "show" -d 'Show one job with its line items and visits'
complete -c integ -n "__fish_integ_using_subcommand jobs; and not __fish_seen_subcommand_from list show help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c integ -n "__fish_integ_using_subcommand jobs; and __fish_seen_subcommand_from list" -l status -d 'Only jobs with this Jobber status (e.g. upcoming, active, requires_invoicing)' -r
complete -c integ -n "__fish_integ_using_subcommand jobs; and __fish_seen_subcommand_from list" -l since -d 'Only jobs starting or changed on or after this date (YYYY-MM-DD)' -r
complete -c integ -n "__fish_integ_using_subcommand jobs; and __fish_seen_subcommand_from list" -l account -d 'Only this Jobber account' -r
complete -c integ -n "__fish_integ_using_subcommand jobs; and __fish_seen_subcommand_from list" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand jobs; and __fish_seen_subcommand_from list" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand jobs; and __fish_seen_subcommand_from list" -l csv -d 'Print CSV instead of a table'
complete -c integ -n "__fish_integ_using_subcommand jobs; and __fish_seen_subcommand_from list" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand jobs; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand jobs; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand jobs; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand jobs; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand jobs; and __fish_seen_subcommand_from show" -l account -d 'Only this Jobber account' -r
complete -c integ -n "__fish_integ_using_subcommand jobs; and __fish_seen_subcommand_from show" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand jobs; and __fish_seen_subcommand_from show" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand jobs; and __fish_seen_subcommand_from show" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand jobs; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand jobs; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand jobs; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand jobs; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand jobs; and __fish_seen_subcommand_from help" -f -a "list" -d 'List jobs, newest change first'
complete -c integ -n "__fish_integ_using_subcommand jobs; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one job with its line items and visits'
complete -c integ -n "__fish_integ_using_subcommand jobs; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c integ -n "__fish_integ_using_subcommand calendars; and not __fish_seen_subcommand_from list select deselect help" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand calendars; and not __fish_seen_subcommand_from list select deselect help" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand calendars; and not __fish_seen_subcommand_from list select deselect help" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand calendars; and not __fish_seen_subcommand_from list select deselect help" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand calendars; and not __fish_seen_subcommand_from list select deselect help" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand calendars; and not __fish_seen_subcommand_from list select deselect help" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand calendars; and not __fish_seen_subcommand_from list select deselect help" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand calendars; and not __fish_seen_subcommand_from list select deselect help" -f -a "list" -d 'List the calendars of connected accounts (asks the providers)'
complete -c integ -n "__fish_integ_using_subcommand calendars; and not __fish_seen_subcommand_from list select deselect help" -f -a "select" -d 'Sync this calendar\'s events'
complete -c integ -n "__fish_integ_using_subcommand calendars; and not __fish_seen_subcommand_from list select deselect help" -f -a "deselect" -d 'Stop syncing this calendar\'s events'
complete -c integ -n "__fish_integ_using_subcommand calendars; and not __fish_seen_subcommand_from list select deselect help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c integ -n "__fish_integ_using_subcommand calendars; and __fish_seen_subcommand_from list" -l provider -d 'Only this provider\'s calendars' -r -f -a "jobber\t''
google\t''
microsoft\t''
calendly\t''"
complete -c integ -n "__fish_integ_using_subcommand calendars; and __fish_seen_subcommand_from list" -l account -d 'Only this account\'s calendars' -r
complete -c integ -n "__fish_integ_using_subcommand calendars; and __fish_seen_subcommand_from list" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand calendars; and __fish_seen_subcommand_from list" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand calendars; and __fish_seen_subcommand_from list" -l offline -d 'Show what the database holds without asking the providers'
complete -c integ -n "__fish_integ_using_subcommand calendars; and __fish_seen_subcommand_from list" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand calendars; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand calendars; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand calendars; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand calendars; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand calendars; and __fish_seen_subcommand_from select" -l provider -d 'The provider, when the id is not unique' -r -f -a "jobber\t''
google\t''
microsoft\t''
calendly\t''"
complete -c integ -n "__fish_integ_using_subcommand calendars; and __fish_seen_subcommand_from select" -l account -d 'The account, when the id is not unique' -r
complete -c integ -n "__fish_integ_using_subcommand calendars; and __fish_seen_subcommand_from select" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand calendars; and __fish_seen_subcommand_from select" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand calendars; and __fish_seen_subcommand_from select" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand calendars; and __fish_seen_subcommand_from select" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand calendars; and __fish_seen_subcommand_from select" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand calendars; and __fish_seen_subcommand_from select" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand calendars; and __fish_seen_subcommand_from select" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand calendars; and __fish_seen_subcommand_from deselect" -l provider -d 'The provider, when the id is not unique' -r -f -a "jobber\t''
google\t''
microsoft\t''
calendly\t''"
complete -c integ -n "__fish_integ_using_subcommand calendars; and __fish_seen_subcommand_from deselect" -l account -d 'The account, when the id is not unique' -r
complete -c integ -n "__fish_integ_using_subcommand calendars; and __fish_seen_subcommand_from deselect" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand calendars; and __fish_seen_subcommand_from deselect" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand calendars; and __fish_seen_subcommand_from deselect" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand calendars; and __fish_seen_subcommand_from deselect" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand calendars; and __fish_seen_subcommand_from deselect" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand calendars; and __fish_seen_subcommand_from deselect" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand calendars; and __fish_seen_subcommand_from deselect" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand calendars; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the calendars of connected accounts (asks the providers)'
complete -c integ -n "__fish_integ_using_subcommand calendars; and __fish_seen_subcommand_from help" -f -a "select" -d 'Sync this calendar\'s events'
complete -c integ -n "__fish_integ_using_subcommand calendars; and __fish_seen_subcommand_from help" -f -a "deselect" -d 'Stop syncing this calendar\'s events'
complete -c integ -n "__fish_integ_using_subcommand calendars; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c integ -n "__fish_integ_using_subcommand events; and not __fish_seen_subcommand_from list help" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand events; and not __fish_seen_subcommand_from list help" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand events; and not __fish_seen_subcommand_from list help" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand events; and not __fish_seen_subcommand_from list help" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand events; and not __fish_seen_subcommand_from list help" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand events; and not __fish_seen_subcommand_from list help" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand events; and not __fish_seen_subcommand_from list help" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand events; and not __fish_seen_subcommand_from list help" -f -a "list" -d 'List events in start order, in the local time zone (or --tz)'
complete -c integ -n "__fish_integ_using_subcommand events; and not __fish_seen_subcommand_from list help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c integ -n "__fish_integ_using_subcommand events; and __fish_seen_subcommand_from list" -l from -d 'Events ending on or after this date (YYYY-MM-DD, local time; default: today)' -r
complete -c integ -n "__fish_integ_using_subcommand events; and __fish_seen_subcommand_from list" -l to -d 'Events starting before the end of this date (YYYY-MM-DD, local time; default: 30 days on)' -r
complete -c integ -n "__fish_integ_using_subcommand events; and __fish_seen_subcommand_from list" -l provider -d 'Only this provider\'s events' -r -f -a "jobber\t''
google\t''
microsoft\t''
calendly\t''"
complete -c integ -n "__fish_integ_using_subcommand events; and __fish_seen_subcommand_from list" -l calendar -d 'Only this calendar\'s events' -r
complete -c integ -n "__fish_integ_using_subcommand events; and __fish_seen_subcommand_from list" -l tz -d 'Show times in this IANA time zone (e.g. America/Denver) instead of the local one' -r
complete -c integ -n "__fish_integ_using_subcommand events; and __fish_seen_subcommand_from list" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand events; and __fish_seen_subcommand_from list" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand events; and __fish_seen_subcommand_from list" -l csv -d 'Print CSV instead of a table'
complete -c integ -n "__fish_integ_using_subcommand events; and __fish_seen_subcommand_from list" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand events; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand events; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand events; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand events; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand events; and __fish_seen_subcommand_from help" -f -a "list" -d 'List events in start order, in the local time zone (or --tz)'
complete -c integ -n "__fish_integ_using_subcommand events; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c integ -n "__fish_integ_using_subcommand push; and not __fish_seen_subcommand_from add list remove help" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand push; and not __fish_seen_subcommand_from add list remove help" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand push; and not __fish_seen_subcommand_from add list remove help" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand push; and not __fish_seen_subcommand_from add list remove help" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand push; and not __fish_seen_subcommand_from add list remove help" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand push; and not __fish_seen_subcommand_from add list remove help" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand push; and not __fish_seen_subcommand_from add list remove help" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand push; and not __fish_seen_subcommand_from add list remove help" -f -a "add" -d 'Add a rule pushing a Jobber account\'s visits into a calendar; prints the rule\'s id'
complete -c integ -n "__fish_integ_using_subcommand push; and not __fish_seen_subcommand_from add list remove help" -f -a "list" -d 'List the push rules'
complete -c integ -n "__fish_integ_using_subcommand push; and not __fish_seen_subcommand_from add list remove help" -f -a "remove" -d 'Remove a push rule'
complete -c integ -n "__fish_integ_using_subcommand push; and not __fish_seen_subcommand_from add list remove help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c integ -n "__fish_integ_using_subcommand push; and __fish_seen_subcommand_from add" -l to -d 'The calendar provider to push into' -r -f -a "google\t''
microsoft\t''"
complete -c integ -n "__fish_integ_using_subcommand push; and __fish_seen_subcommand_from add" -l account -d 'The Google or Microsoft account (label, name, email or account id)' -r
complete -c integ -n "__fish_integ_using_subcommand push; and __fish_seen_subcommand_from add" -l calendar -d 'Push into this existing calendar (an id from `integ calendars list`)' -r
complete -c integ -n "__fish_integ_using_subcommand push; and __fish_seen_subcommand_from add" -l create -d 'Create a calendar with this name for the visits (once: adding the rule again reuses it)' -r
complete -c integ -n "__fish_integ_using_subcommand push; and __fish_seen_subcommand_from add" -l from -d 'The Jobber account whose visits to push' -r
complete -c integ -n "__fish_integ_using_subcommand push; and __fish_seen_subcommand_from add" -l crew -d 'Only visits assigned to this crew member (a Jobber user name or id); repeatable' -r
complete -c integ -n "__fish_integ_using_subcommand push; and __fish_seen_subcommand_from add" -l past-days -d 'Push visits from this many days back' -r
complete -c integ -n "__fish_integ_using_subcommand push; and __fish_seen_subcommand_from add" -l future-days -d 'Push visits up to this many days ahead' -r
complete -c integ -n "__fish_integ_using_subcommand push; and __fish_seen_subcommand_from add" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand push; and __fish_seen_subcommand_from add" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand push; and __fish_seen_subcommand_from add" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand push; and __fish_seen_subcommand_from add" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand push; and __fish_seen_subcommand_from add" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand push; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand push; and __fish_seen_subcommand_from add" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand push; and __fish_seen_subcommand_from list" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand push; and __fish_seen_subcommand_from list" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand push; and __fish_seen_subcommand_from list" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand push; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand push; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand push; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand push; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand push; and __fish_seen_subcommand_from remove" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand push; and __fish_seen_subcommand_from remove" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand push; and __fish_seen_subcommand_from remove" -l delete-events -d 'Also delete the events the rule pushed (only events carrying integ\'s marker)'
complete -c integ -n "__fish_integ_using_subcommand push; and __fish_seen_subcommand_from remove" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand push; and __fish_seen_subcommand_from remove" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand push; and __fish_seen_subcommand_from remove" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand push; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand push; and __fish_seen_subcommand_from remove" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand push; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add a rule pushing a Jobber account\'s visits into a calendar; prints the rule\'s id'
complete -c integ -n "__fish_integ_using_subcommand push; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the push rules'
complete -c integ -n "__fish_integ_using_subcommand push; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove a push rule'
complete -c integ -n "__fish_integ_using_subcommand push; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c integ -n "__fish_integ_using_subcommand conflicts" -l from -d 'From this date (YYYY-MM-DD, UTC) or instant (RFC 3339); default now' -r
complete -c integ -n "__fish_integ_using_subcommand conflicts" -l to -d 'Up to this date (exclusive) or instant; default 14 days after --from' -r
complete -c integ -n "__fish_integ_using_subcommand conflicts" -l crew -d 'Only this crew member (a Jobber user\'s full name or id)' -r
complete -c integ -n "__fish_integ_using_subcommand conflicts" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand conflicts" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand conflicts" -l csv -d 'Print CSV instead of a table'
complete -c integ -n "__fish_integ_using_subcommand conflicts" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand conflicts" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand conflicts" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand conflicts" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand conflicts" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand availability" -l account -d 'The account (label, name, email or account id)' -r
complete -c integ -n "__fish_integ_using_subcommand availability" -l from -d 'From this date (YYYY-MM-DD, UTC) or instant (RFC 3339)' -r
complete -c integ -n "__fish_integ_using_subcommand availability" -l to -d 'Up to this date (exclusive) or instant' -r
complete -c integ -n "__fish_integ_using_subcommand availability" -l calendar -d 'Google: this calendar (repeatable; default the primary one)' -r
complete -c integ -n "__fish_integ_using_subcommand availability" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand availability" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand availability" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand availability" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand availability" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand availability" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand availability" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand status" -l shards -d 'Show which of N shards (`integ sync --shard I/N`) owns each account [env: INTEG_SHARDS]' -r
complete -c integ -n "__fish_integ_using_subcommand status" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand status" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand status" -l alert -d 'Also send alerts for what needs attention (as `integ sync` does after a run)'
complete -c integ -n "__fish_integ_using_subcommand status" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand status" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand status" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand status" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand status" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand schedule" -l every -d 'How often to run (e.g. 15m, 1h)' -r
complete -c integ -n "__fish_integ_using_subcommand schedule" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand schedule" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand schedule" -l cron -d 'A crontab line (the default on Linux)'
complete -c integ -n "__fish_integ_using_subcommand schedule" -l systemd -d 'A systemd user service and timer'
complete -c integ -n "__fish_integ_using_subcommand schedule" -l launchd -d 'A launchd agent (the default on macOS)'
complete -c integ -n "__fish_integ_using_subcommand schedule" -l install -d 'Install it for the current user instead of printing it'
complete -c integ -n "__fish_integ_using_subcommand schedule" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand schedule" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand schedule" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand schedule" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand schedule" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand doctor" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand doctor" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand doctor" -l send -d 'Also send a test message on each configured alert channel'
complete -c integ -n "__fish_integ_using_subcommand doctor" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand doctor" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand doctor" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand doctor" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand doctor" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand alerts; and not __fish_seen_subcommand_from test list help" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand alerts; and not __fish_seen_subcommand_from test list help" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand alerts; and not __fish_seen_subcommand_from test list help" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand alerts; and not __fish_seen_subcommand_from test list help" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand alerts; and not __fish_seen_subcommand_from test list help" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand alerts; and not __fish_seen_subcommand_from test list help" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand alerts; and not __fish_seen_subcommand_from test list help" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand alerts; and not __fish_seen_subcommand_from test list help" -f -a "test" -d 'Send a test message to each configured channel and report each result'
complete -c integ -n "__fish_integ_using_subcommand alerts; and not __fish_seen_subcommand_from test list help" -f -a "list" -d 'Show open alerts and those cleared in the last week, and messages still waiting to go'
complete -c integ -n "__fish_integ_using_subcommand alerts; and not __fish_seen_subcommand_from test list help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c integ -n "__fish_integ_using_subcommand alerts; and __fish_seen_subcommand_from test" -l channel -d 'Only this channel' -r -f -a "slack\t''
email\t''"
complete -c integ -n "__fish_integ_using_subcommand alerts; and __fish_seen_subcommand_from test" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand alerts; and __fish_seen_subcommand_from test" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand alerts; and __fish_seen_subcommand_from test" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand alerts; and __fish_seen_subcommand_from test" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand alerts; and __fish_seen_subcommand_from test" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand alerts; and __fish_seen_subcommand_from test" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand alerts; and __fish_seen_subcommand_from test" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand alerts; and __fish_seen_subcommand_from list" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand alerts; and __fish_seen_subcommand_from list" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand alerts; and __fish_seen_subcommand_from list" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand alerts; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand alerts; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand alerts; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand alerts; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand alerts; and __fish_seen_subcommand_from help" -f -a "test" -d 'Send a test message to each configured channel and report each result'
complete -c integ -n "__fish_integ_using_subcommand alerts; and __fish_seen_subcommand_from help" -f -a "list" -d 'Show open alerts and those cleared in the last week, and messages still waiting to go'
complete -c integ -n "__fish_integ_using_subcommand alerts; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c integ -n "__fish_integ_using_subcommand config; and not __fish_seen_subcommand_from path get set unset list help" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand config; and not __fish_seen_subcommand_from path get set unset list help" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand config; and not __fish_seen_subcommand_from path get set unset list help" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand config; and not __fish_seen_subcommand_from path get set unset list help" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand config; and not __fish_seen_subcommand_from path get set unset list help" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand config; and not __fish_seen_subcommand_from path get set unset list help" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand config; and not __fish_seen_subcommand_from path get set unset list help" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand config; and not __fish_seen_subcommand_from path get set unset list help" -f -a "path" -d 'Print the path of config.toml (and of the database and secret file)'
complete -c integ -n "__fish_integ_using_subcommand config; and not __fish_seen_subcommand_from path get set unset list help" -f -a "get" -d 'Print one setting\'s value (secrets are never printed)'
complete -c integ -n "__fish_integ_using_subcommand config; and not __fish_seen_subcommand_from path get set unset list help" -f -a "set" -d 'Change a setting in config.toml; secrets go to the secret store and are read from stdin'
complete -c integ -n "__fish_integ_using_subcommand config; and not __fish_seen_subcommand_from path get set unset list help" -f -a "unset" -d 'Remove a setting from config.toml (or a secret from the secret store)'
complete -c integ -n "__fish_integ_using_subcommand config; and not __fish_seen_subcommand_from path get set unset list help" -f -a "list" -d 'List every setting with its value and where it came from (secrets redacted)'
complete -c integ -n "__fish_integ_using_subcommand config; and not __fish_seen_subcommand_from path get set unset list help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from path" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from path" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from path" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from path" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from path" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from path" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from path" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from get" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from get" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from get" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from get" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from get" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from get" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from set" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from set" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from set" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from set" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from set" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from set" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from unset" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from unset" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from unset" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from unset" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from unset" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from unset" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from unset" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from list" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from list" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from list" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "path" -d 'Print the path of config.toml (and of the database and secret file)'
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "get" -d 'Print one setting\'s value (secrets are never printed)'
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "set" -d 'Change a setting in config.toml; secrets go to the secret store and are read from stdin'
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "unset" -d 'Remove a setting from config.toml (or a secret from the secret store)'
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "list" -d 'List every setting with its value and where it came from (secrets redacted)'
complete -c integ -n "__fish_integ_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c integ -n "__fish_integ_using_subcommand db; and not __fish_seen_subcommand_from copy migrate help" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand db; and not __fish_seen_subcommand_from copy migrate help" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand db; and not __fish_seen_subcommand_from copy migrate help" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand db; and not __fish_seen_subcommand_from copy migrate help" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand db; and not __fish_seen_subcommand_from copy migrate help" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand db; and not __fish_seen_subcommand_from copy migrate help" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand db; and not __fish_seen_subcommand_from copy migrate help" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand db; and not __fish_seen_subcommand_from copy migrate help" -f -a "copy" -d 'Copy the SQLite database into an empty PostgreSQL database'
complete -c integ -n "__fish_integ_using_subcommand db; and not __fish_seen_subcommand_from copy migrate help" -f -a "migrate" -d 'Create or upgrade integ\'s schema in a PostgreSQL database'
complete -c integ -n "__fish_integ_using_subcommand db; and not __fish_seen_subcommand_from copy migrate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c integ -n "__fish_integ_using_subcommand db; and __fish_seen_subcommand_from copy" -l to -d 'The target, `postgres://USER@HOST[:PORT]/DATABASE[?sslmode=...]`; the password from INTEG_DATABASE_PASSWORD or `integ config set database.password`' -r
complete -c integ -n "__fish_integ_using_subcommand db; and __fish_seen_subcommand_from copy" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand db; and __fish_seen_subcommand_from copy" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand db; and __fish_seen_subcommand_from copy" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand db; and __fish_seen_subcommand_from copy" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand db; and __fish_seen_subcommand_from copy" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand db; and __fish_seen_subcommand_from copy" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c integ -n "__fish_integ_using_subcommand db; and __fish_seen_subcommand_from copy" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand db; and __fish_seen_subcommand_from migrate" -l url -d 'The database, `postgres://USER@HOST[:PORT]/DATABASE[?sslmode=...]` (default: INTEG_DATABASE_URL); the password from INTEG_DATABASE_PASSWORD or `integ config set database.password`' -r
complete -c integ -n "__fish_integ_using_subcommand db; and __fish_seen_subcommand_from migrate" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand db; and __fish_seen_subcommand_from migrate" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand db; and __fish_seen_subcommand_from migrate" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand db; and __fish_seen_subcommand_from migrate" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand db; and __fish_seen_subcommand_from migrate" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand db; and __fish_seen_subcommand_from migrate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c integ -n "__fish_integ_using_subcommand db; and __fish_seen_subcommand_from migrate" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "copy" -d 'Copy the SQLite database into an empty PostgreSQL database'
complete -c integ -n "__fish_integ_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "migrate" -d 'Create or upgrade integ\'s schema in a PostgreSQL database'
complete -c integ -n "__fish_integ_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c integ -n "__fish_integ_using_subcommand secrets; and not __fish_seen_subcommand_from copy help" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand secrets; and not __fish_seen_subcommand_from copy help" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand secrets; and not __fish_seen_subcommand_from copy help" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand secrets; and not __fish_seen_subcommand_from copy help" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand secrets; and not __fish_seen_subcommand_from copy help" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand secrets; and not __fish_seen_subcommand_from copy help" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand secrets; and not __fish_seen_subcommand_from copy help" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand secrets; and not __fish_seen_subcommand_from copy help" -f -a "copy" -d 'Copy every token set and stored secret from the current secret store into another'
complete -c integ -n "__fish_integ_using_subcommand secrets; and not __fish_seen_subcommand_from copy help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c integ -n "__fish_integ_using_subcommand secrets; and __fish_seen_subcommand_from copy" -l to -d 'The store to copy into' -r -f -a "keyring\t''
file\t''
database\t''"
complete -c integ -n "__fish_integ_using_subcommand secrets; and __fish_seen_subcommand_from copy" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand secrets; and __fish_seen_subcommand_from copy" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand secrets; and __fish_seen_subcommand_from copy" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand secrets; and __fish_seen_subcommand_from copy" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand secrets; and __fish_seen_subcommand_from copy" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand secrets; and __fish_seen_subcommand_from copy" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c integ -n "__fish_integ_using_subcommand secrets; and __fish_seen_subcommand_from copy" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand secrets; and __fish_seen_subcommand_from help" -f -a "copy" -d 'Copy every token set and stored secret from the current secret store into another'
complete -c integ -n "__fish_integ_using_subcommand secrets; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c integ -n "__fish_integ_using_subcommand completions" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand completions" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand completions" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand completions" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand completions" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand completions" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand completions" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand man" -l log-file -d 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file' -r -F
complete -c integ -n "__fish_integ_using_subcommand man" -l color -d 'When to use colours (NO_COLOR is honoured by auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand man" -l json -d 'Print machine-readable JSON on stdout (errors too)'
complete -c integ -n "__fish_integ_using_subcommand man" -s q -l quiet -d 'Print only errors'
complete -c integ -n "__fish_integ_using_subcommand man" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
complete -c integ -n "__fish_integ_using_subcommand man" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand man" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_using_subcommand help; and not __fish_seen_subcommand_from connect disconnect refresh sync jobs calendars events push conflicts availability status schedule doctor alerts config db secrets completions man help" -f -a "connect" -d 'Connect an account: sign in through the browser and store its tokens'
complete -c integ -n "__fish_integ_using_subcommand help; and not __fish_seen_subcommand_from connect disconnect refresh sync jobs calendars events push conflicts availability status schedule doctor alerts config db secrets completions man help" -f -a "disconnect" -d 'Revoke an account\'s access at the provider and delete its tokens'
complete -c integ -n "__fish_integ_using_subcommand help; and not __fish_seen_subcommand_from connect disconnect refresh sync jobs calendars events push conflicts availability status schedule doctor alerts config db secrets completions man help" -f -a "refresh" -d 'Refresh access tokens now (a keep-alive for refresh tokens that die when idle)'
complete -c integ -n "__fish_integ_using_subcommand help; and not __fish_seen_subcommand_from connect disconnect refresh sync jobs calendars events push conflicts availability status schedule doctor alerts config db secrets completions man help" -f -a "sync" -d 'Pull data from every connected account into the database'
complete -c integ -n "__fish_integ_using_subcommand help; and not __fish_seen_subcommand_from connect disconnect refresh sync jobs calendars events push conflicts availability status schedule doctor alerts config db secrets completions man help" -f -a "jobs" -d 'Read synced Jobber jobs from the local database'
complete -c integ -n "__fish_integ_using_subcommand help; and not __fish_seen_subcommand_from connect disconnect refresh sync jobs calendars events push conflicts availability status schedule doctor alerts config db secrets completions man help" -f -a "calendars" -d 'List the calendars of connected accounts and choose which ones to sync'
complete -c integ -n "__fish_integ_using_subcommand help; and not __fish_seen_subcommand_from connect disconnect refresh sync jobs calendars events push conflicts availability status schedule doctor alerts config db secrets completions man help" -f -a "events" -d 'Read synced calendar events from the local database'
complete -c integ -n "__fish_integ_using_subcommand help; and not __fish_seen_subcommand_from connect disconnect refresh sync jobs calendars events push conflicts availability status schedule doctor alerts config db secrets completions man help" -f -a "push" -d 'Push Jobber visits into Google or Outlook calendars (rules run with `integ sync`)'
complete -c integ -n "__fish_integ_using_subcommand help; and not __fish_seen_subcommand_from connect disconnect refresh sync jobs calendars events push conflicts availability status schedule doctor alerts config db secrets completions man help" -f -a "conflicts" -d 'List visits that overlap a crew member\'s other events or visits (exit 6 when any do)'
complete -c integ -n "__fish_integ_using_subcommand help; and not __fish_seen_subcommand_from connect disconnect refresh sync jobs calendars events push conflicts availability status schedule doctor alerts config db secrets completions man help" -f -a "availability" -d 'Ask Google or Microsoft for the busy times of an account\'s calendars'
complete -c integ -n "__fish_integ_using_subcommand help; and not __fish_seen_subcommand_from connect disconnect refresh sync jobs calendars events push conflicts availability status schedule doctor alerts config db secrets completions man help" -f -a "status" -d 'Show every connection, its token expiry, last syncs and what needs doing'
complete -c integ -n "__fish_integ_using_subcommand help; and not __fish_seen_subcommand_from connect disconnect refresh sync jobs calendars events push conflicts availability status schedule doctor alerts config db secrets completions man help" -f -a "schedule" -d 'Print or install a cron, systemd or launchd schedule that runs `integ sync`'
complete -c integ -n "__fish_integ_using_subcommand help; and not __fish_seen_subcommand_from connect disconnect refresh sync jobs calendars events push conflicts availability status schedule doctor alerts config db secrets completions man help" -f -a "doctor" -d 'Check the configuration, database, secret store and credentials'
complete -c integ -n "__fish_integ_using_subcommand help; and not __fish_seen_subcommand_from connect disconnect refresh sync jobs calendars events push conflicts availability status schedule doctor alerts config db secrets completions man help" -f -a "alerts" -d 'Send a test alert, or list open and recent alerts (Slack, e-mail)'
complete -c integ -n "__fish_integ_using_subcommand help; and not __fish_seen_subcommand_from connect disconnect refresh sync jobs calendars events push conflicts availability status schedule doctor alerts config db secrets completions man help" -f -a "config" -d 'Read and change settings'
complete -c integ -n "__fish_integ_using_subcommand help; and not __fish_seen_subcommand_from connect disconnect refresh sync jobs calendars events push conflicts availability status schedule doctor alerts config db secrets completions man help" -f -a "db" -d 'Copy the database into PostgreSQL, or create integ\'s schema there'
complete -c integ -n "__fish_integ_using_subcommand help; and not __fish_seen_subcommand_from connect disconnect refresh sync jobs calendars events push conflicts availability status schedule doctor alerts config db secrets completions man help" -f -a "secrets" -d 'Copy every secret integ keeps into another secret store'
complete -c integ -n "__fish_integ_using_subcommand help; and not __fish_seen_subcommand_from connect disconnect refresh sync jobs calendars events push conflicts availability status schedule doctor alerts config db secrets completions man help" -f -a "completions" -d 'Print shell completions'
complete -c integ -n "__fish_integ_using_subcommand help; and not __fish_seen_subcommand_from connect disconnect refresh sync jobs calendars events push conflicts availability status schedule doctor alerts config db secrets completions man help" -f -a "man" -d 'Print the man page (roff) to stdout'
complete -c integ -n "__fish_integ_using_subcommand help; and not __fish_seen_subcommand_from connect disconnect refresh sync jobs calendars events push conflicts availability status schedule doctor alerts config db secrets completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c integ -n "__fish_integ_using_subcommand help; and __fish_seen_subcommand_from jobs" -f -a "list" -d 'List jobs, newest change first'
complete -c integ -n "__fish_integ_using_subcommand help; and __fish_seen_subcommand_from jobs" -f -a "show" -d 'Show one job with its line items and visits'
complete -c integ -n "__fish_integ_using_subcommand help; and __fish_seen_subcommand_from calendars" -f -a "list" -d 'List the calendars of connected accounts (asks the providers)'
complete -c integ -n "__fish_integ_using_subcommand help; and __fish_seen_subcommand_from calendars" -f -a "select" -d 'Sync this calendar\'s events'
complete -c integ -n "__fish_integ_using_subcommand help; and __fish_seen_subcommand_from calendars" -f -a "deselect" -d 'Stop syncing this calendar\'s events'
complete -c integ -n "__fish_integ_using_subcommand help; and __fish_seen_subcommand_from events" -f -a "list" -d 'List events in start order, in the local time zone (or --tz)'
complete -c integ -n "__fish_integ_using_subcommand help; and __fish_seen_subcommand_from push" -f -a "add" -d 'Add a rule pushing a Jobber account\'s visits into a calendar; prints the rule\'s id'
complete -c integ -n "__fish_integ_using_subcommand help; and __fish_seen_subcommand_from push" -f -a "list" -d 'List the push rules'
complete -c integ -n "__fish_integ_using_subcommand help; and __fish_seen_subcommand_from push" -f -a "remove" -d 'Remove a push rule'
complete -c integ -n "__fish_integ_using_subcommand help; and __fish_seen_subcommand_from alerts" -f -a "test" -d 'Send a test message to each configured channel and report each result'
complete -c integ -n "__fish_integ_using_subcommand help; and __fish_seen_subcommand_from alerts" -f -a "list" -d 'Show open alerts and those cleared in the last week, and messages still waiting to go'
complete -c integ -n "__fish_integ_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "path" -d 'Print the path of config.toml (and of the database and secret file)'
complete -c integ -n "__fish_integ_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "get" -d 'Print one setting\'s value (secrets are never printed)'
complete -c integ -n "__fish_integ_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "set" -d 'Change a setting in config.toml; secrets go to the secret store and are read from stdin'
complete -c integ -n "__fish_integ_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "unset" -d 'Remove a setting from config.toml (or a secret from the secret store)'
complete -c integ -n "__fish_integ_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "list" -d 'List every setting with its value and where it came from (secrets redacted)'
complete -c integ -n "__fish_integ_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "copy" -d 'Copy the SQLite database into an empty PostgreSQL database'
complete -c integ -n "__fish_integ_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "migrate" -d 'Create or upgrade integ\'s schema in a PostgreSQL database'
complete -c integ -n "__fish_integ_using_subcommand help; and __fish_seen_subcommand_from secrets" -f -a "copy" -d 'Copy every token set and stored secret from the current secret store into another'
