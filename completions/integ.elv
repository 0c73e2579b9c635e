
use builtin;
use str;

set edit:completion:arg-completer[integ] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'integ'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'integ'= {
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand connect 'Connect an account: sign in through the browser and store its tokens'
            cand disconnect 'Revoke an account''s access at the provider and delete its tokens'
            cand refresh 'Refresh access tokens now (a keep-alive for refresh tokens that die when idle)'
            cand sync 'Pull data from every connected account into the database'
            cand jobs 'Read synced Jobber jobs from the local database'
            cand calendars 'List the calendars of connected accounts and choose which ones to sync'
            cand events 'Read synced calendar events from the local database'
            cand push 'Push Jobber visits into Google or Outlook calendars (rules run with `integ sync`)'
            cand conflicts 'List visits that overlap a crew member''s other events or visits (exit 6 when any do)'
            cand availability 'Ask Google or Microsoft for the busy times of an account''s calendars'
            cand status 'Show every connection, its token expiry, last syncs and what needs doing'
            cand schedule 'Print or install a cron, systemd or launchd schedule that runs `integ sync`'
            cand doctor 'Check the configuration, database, secret store and credentials'
            cand alerts 'Send a test alert, or list open and recent alerts (Slack, e-mail)'
            cand config 'Read and change settings'
            cand db 'Copy the database into PostgreSQL, or create integ''s schema there'
            cand secrets 'Copy every secret integ keeps into another secret store'
            cand completions 'Print shell completions'
            cand man 'Print the man page (roff) to stdout'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'integ;connect'= {
            cand --account 'A name for this account (default: the name the provider reports); connecting the same name again replaces its tokens'
            cand --port 'Listen on this loopback port (it must match the registered redirect URI for Jobber and Calendly)'
            cand --timeout 'Give up after this many seconds'
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --no-browser 'Don''t open a browser: print the address, then paste back the one the browser ended on'
            cand --token-stdin 'Read a Calendly Personal Access Token from stdin instead of signing in'
            cand --write 'Also ask for write access to calendars, for `integ push` (Google and Microsoft); reconnecting an account with it keeps its sync state'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'integ;disconnect'= {
            cand --account 'Pick one of several accounts of the provider (label, name, email or account id)'
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --purge 'Also delete the account''s synced data and its history'
            cand --local-only 'Forget the account here even if the provider cannot be reached to revoke access'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'integ;refresh'= {
            cand --account 'Only this account (label, name, email or account id)'
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --all 'Every connected account (the default without a provider)'
            cand --force 'Refresh even if another process refreshed moments ago'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'integ;sync'= {
            cand --account 'Only this account (label, name, email or account id)'
            cand --provider 'Only this provider''s accounts'
            cand --wait 'If another run holds an account''s lock, wait up to this many seconds instead of exiting with code 5'
            cand --max-duration 'Stop cleanly after this long (e.g. 10m, 90s), progress committed, so runs never pile up; the next run continues where this one stopped'
            cand --shard 'Sync only the accounts of shard I of N (1 to N, N at most 1024), so N workers split the accounts without coordinating; `integ status --shards N` shows the owners [env: INTEG_SHARD]'
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --full 'Rescan everything (for jobs: a full sweep that also marks deleted jobs)'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'integ;jobs'= {
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand list 'List jobs, newest change first'
            cand show 'Show one job with its line items and visits'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'integ;jobs;list'= {
            cand --status 'Only jobs with this Jobber status (e.g. upcoming, active, requires_invoicing)'
            cand --since 'Only jobs starting or changed on or after this date (YYYY-MM-DD)'
            cand --account 'Only this Jobber account'
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --csv 'Print CSV instead of a table'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'integ;jobs;show'= {
            cand --account 'Only this Jobber account'
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'integ;jobs;help'= {
            cand list 'List jobs, newest change first'
            cand show 'Show one job with its line items and visits'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'integ;jobs;help;list'= {
        }
        &'integ;jobs;help;show'= {
        }
        &'integ;jobs;help;help'= {
        }
        &'integ;calendars'= {
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand list 'List the calendars of connected accounts (asks the providers)'
            cand select 'Sync this calendar''s events'
            cand deselect 'Stop syncing this calendar''s events'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'integ;calendars;list'= {
            cand --provider 'Only this provider''s calendars'
            cand --account 'Only this account''s calendars'
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --offline 'Show what the database holds without asking the providers'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'integ;calendars;select'= {
            cand --provider 'The provider, when the id is not unique'
            cand --account 'The account, when the id is not unique'
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'integ;calendars;deselect'= {
            cand --provider 'The provider, when the id is not unique'
            cand --account 'The account, when the id is not unique'
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'integ;calendars;help'= {
            cand list 'List the calendars of connected accounts (asks the providers)'
            cand select 'Sync this calendar''s events'
            cand deselect 'Stop syncing this calendar''s events'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'integ;calendars;help;list'= {
        }
        &'integ;calendars;help;select'= {
        }
        &'integ;calendars;help;deselect'= {
        }
        &'integ;calendars;help;help'= {
        }
        &'integ;events'= {
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand list 'List events in start order, in the local time zone (or --tz)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'integ;events;list'= {
            cand --from 'Events ending on or after this date (YYYY-MM-DD, local time; default: today)'
            cand --to 'Events starting before the end of this date (YYYY-MM-DD, local time; default: 30 days on)'
            cand --provider 'Only this provider''s events'
            cand --calendar 'Only this calendar''s events'
            cand --tz 'Show times in this IANA time zone (e.g. America/Denver) instead of the local one'
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --csv 'Print CSV instead of a table'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'integ;events;help'= {
            cand list 'List events in start order, in the local time zone (or --tz)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'integ;events;help;list'= {
        }
        &'integ;events;help;help'= {
        }
        &'integ;push'= {
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand add 'Add a rule pushing a Jobber account''s visits into a calendar; prints the rule''s id'
            cand list 'List the push rules'
            cand remove 'Remove a push rule'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'integ;push;add'= {
            cand --to 'The calendar provider to push into'
            cand --account 'The Google or Microsoft account (label, name, email or account id)'
            cand --calendar 'Push into this existing calendar (an id from `integ calendars list`)'
            cand --create 'Create a calendar with this name for the visits (once: adding the rule again reuses it)'
            cand --from 'The Jobber account whose visits to push'
            cand --crew 'Only visits assigned to this crew member (a Jobber user name or id); repeatable'
            cand --past-days 'Push visits from this many days back'
            cand --future-days 'Push visits up to this many days ahead'
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'integ;push;list'= {
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'integ;push;remove'= {
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --delete-events 'Also delete the events the rule pushed (only events carrying integ''s marker)'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'integ;push;help'= {
            cand add 'Add a rule pushing a Jobber account''s visits into a calendar; prints the rule''s id'
            cand list 'List the push rules'
            cand remove 'Remove a push rule'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'integ;push;help;add'= {
        }
        &'integ;push;help;list'= {
        }
        &'integ;push;help;remove'= {
        }
        &'integ;push;help;help'= {
        }
        &'integ;conflicts'= {
            cand --from 'From this date (YYYY-MM-DD, UTC) or instant (RFC 3339); default now'
            cand --to 'Up to this date (exclusive) or instant; default 14 days after --from'
            cand --crew 'Only this crew member (a Jobber user''s full name or id)'
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --csv 'Print CSV instead of a table'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'integ;availability'= {
            cand --account 'The account (label, name, email or account id)'
            cand --from 'From this date (YYYY-MM-DD, UTC) or instant (RFC 3339)'
            cand --to 'Up to this date (exclusive) or instant'
            cand --calendar 'Google: this calendar (repeatable; default the primary one)'
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'integ;status'= {
            cand --shards 'Show which of N shards (`integ sync --shard I/N`) owns each account [env: INTEG_SHARDS]'
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --alert 'Also send alerts for what needs attention (as `integ sync` does after a run)'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'integ;schedule'= {
            cand --every 'How often to run (e.g. 15m, 1h)'
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --cron 'A crontab line (the default on Linux)'
            cand --systemd 'A systemd user service and timer'
            cand --launchd 'A launchd agent (the default on macOS)'
            cand --install 'Install it for the current user instead of printing it'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'integ;doctor'= {
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --send 'Also send a test message on each configured alert channel'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'integ;alerts'= {
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand test 'Send a test message to each configured channel and report each result'
            cand list 'Show open alerts and those cleared in the last week, and messages still waiting to go'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'integ;alerts;test'= {
            cand --channel 'Only this channel'
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'integ;alerts;list'= {
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'integ;alerts;help'= {
            cand test 'Send a test message to each configured channel and report each result'
            cand list 'Show open alerts and those cleared in the last week, and messages still waiting to go'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'integ;alerts;help;test'= {
        }
        &'integ;alerts;help;list'= {
        }
        &'integ;alerts;help;help'= {
        }
        &'integ;config'= {
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand path 'Print the path of config.toml (and of the database and secret file)'
            cand get 'Print one setting''s value (secrets are never printed)'
            cand set 'Change a setting in config.toml; secrets go to the secret store and are read from stdin'
            cand unset 'Remove a setting from config.toml (or a secret from the secret store)'
            cand list 'List every setting with its value and where it came from (secrets redacted)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'integ;config;path'= {
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'integ;config;get'= {
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'integ;config;set'= {
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'integ;config;unset'= {
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'integ;config;list'= {
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'integ;config;help'= {
            cand path 'Print the path of config.toml (and of the database and secret file)'
            cand get 'Print one setting''s value (secrets are never printed)'
            cand set 'Change a setting in config.toml; secrets go to the secret store and are read from stdin'
            cand unset 'Remove a setting from config.toml (or a secret from the secret store)'
            cand list 'List every setting with its value and where it came from (secrets redacted)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'integ;config;help;path'= {
        }
        &'integ;config;help;get'= {
        }
        &'integ;config;help;set'= {
        }
        &'integ;config;help;unset'= {
        }
        &'integ;config;help;list'= {
        }
        &'integ;config;help;help'= {
        }
        &'integ;db'= {
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand copy 'Copy the SQLite database into an empty PostgreSQL database'
            cand migrate 'Create or upgrade integ''s schema in a PostgreSQL database'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'integ;db;copy'= {
            cand --to 'The target, `postgres://USER@HOST[:PORT]/DATABASE[?sslmode=...]`; the password from INTEG_DATABASE_PASSWORD or `integ config set database.password`'
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'integ;db;migrate'= {
            cand --url 'The database, `postgres://USER@HOST[:PORT]/DATABASE[?sslmode=...]` (default: INTEG_DATABASE_URL); the password from INTEG_DATABASE_PASSWORD or `integ config set database.password`'
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'integ;db;help'= {
            cand copy 'Copy the SQLite database into an empty PostgreSQL database'
            cand migrate 'Create or upgrade integ''s schema in a PostgreSQL database'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'integ;db;help;copy'= {
        }
        &'integ;db;help;migrate'= {
        }
        &'integ;db;help;help'= {
        }
        &'integ;secrets'= {
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand copy 'Copy every token set and stored secret from the current secret store into another'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'integ;secrets;copy'= {
            cand --to 'The store to copy into'
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'integ;secrets;help'= {
            cand copy 'Copy every token set and stored secret from the current secret store into another'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'integ;secrets;help;copy'= {
        }
        &'integ;secrets;help;help'= {
        }
        &'integ;completions'= {
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'integ;man'= {
            cand --log-file 'Append logs (timestamped, at info level or as -v/RUST_LOG say) to this file'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --json 'Print machine-readable JSON on stdout (errors too)'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -v 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand --verbose 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'integ;help'= {
            cand connect 'Connect an account: sign in through the browser and store its tokens'
            cand disconnect 'Revoke an account''s access at the provider and delete its tokens'
            cand refresh 'Refresh access tokens now (a keep-alive for refresh tokens that die when idle)'
            cand sync 'Pull data from every connected account into the database'
            cand jobs 'Read synced Jobber jobs from the local database'
            cand calendars 'List the calendars of connected accounts and choose which ones to sync'
            cand events 'Read synced calendar events from the local database'
            cand push 'Push Jobber visits into Google or Outlook calendars (rules run with `integ sync`)'
            cand conflicts 'List visits that overlap a crew member''s other events or visits (exit 6 when any do)'
            cand availability 'Ask Google or Microsoft for the busy times of an account''s calendars'
            cand status 'Show every connection, its token expiry, last syncs and what needs doing'
            cand schedule 'Print or install a cron, systemd or launchd schedule that runs `integ sync`'
            cand doctor 'Check the configuration, database, secret store and credentials'
            cand alerts 'Send a test alert, or list open and recent alerts (Slack, e-mail)'
            cand config 'Read and change settings'
            cand db 'Copy the database into PostgreSQL, or create integ''s schema there'
            cand secrets 'Copy every secret integ keeps into another secret store'
            cand completions 'Print shell completions'
            cand man 'Print the man page (roff) to stdout'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'integ;help;connect'= {
        }
        &'integ;help;disconnect'= {
        }
        &'integ;help;refresh'= {
        }
        &'integ;help;sync'= {
        }
        &'integ;help;jobs'= {
            cand list 'List jobs, newest change first'
            cand show 'Show one job with its line items and visits'
        }
        &'integ;help;jobs;list'= {
        }
        &'integ;help;jobs;show'= {
        }
        &'integ;help;calendars'= {
            cand list 'List the calendars of connected accounts (asks the providers)'
            cand select 'Sync this calendar''s events'
            cand deselect 'Stop syncing this calendar''s events'
        }
        &'integ;help;calendars;list'= {
        }
        &'integ;help;calendars;select'= {
        }
        &'integ;help;calendars;deselect'= {
        }
        &'integ;help;events'= {
            cand list 'List events in start order, in the local time zone (or --tz)'
        }
        &'integ;help;events;list'= {
        }
        &'integ;help;push'= {
            cand add 'Add a rule pushing a Jobber account''s visits into a calendar; prints the rule''s id'
            cand list 'List the push rules'
            cand remove 'Remove a push rule'
        }
        &'integ;help;push;add'= {
        }
        &'integ;help;push;list'= {
        }
        &'integ;help;push;remove'= {
        }
        &'integ;help;conflicts'= {
        }
        &'integ;help;availability'= {
        }
        &'integ;help;status'= {
        }
        &'integ;help;schedule'= {
        }
        &'integ;help;doctor'= {
        }
        &'integ;help;alerts'= {
            cand test 'Send a test message to each configured channel and report each result'
            cand list 'Show open alerts and those cleared in the last week, and messages still waiting to go'
        }
        &'integ;help;alerts;test'= {
        }
        &'integ;help;alerts;list'= {
        }
        &'integ;help;config'= {
            cand path 'Print the path of config.toml (and of the database and secret file)'
            cand get 'Print one setting''s value (secrets are never printed)'
            cand set 'Change a setting in config.toml; secrets go to the secret store and are read from stdin'
            cand unset 'Remove a setting from config.toml (or a secret from the secret store)'
            cand list 'List every setting with its value and where it came from (secrets redacted)'
        }
        &'integ;help;config;path'= {
        }
        &'integ;help;config;get'= {
        }
        &'integ;help;config;set'= {
        }
        &'integ;help;config;unset'= {
        }
        &'integ;help;config;list'= {
        }
        &'integ;help;db'= {
            cand copy 'Copy the SQLite database into an empty PostgreSQL database'
            cand migrate 'Create or upgrade integ''s schema in a PostgreSQL database'
        }
        &'integ;help;db;copy'= {
        }
        &'integ;help;db;migrate'= {
        }
        &'integ;help;secrets'= {
            cand copy 'Copy every token set and stored secret from the current secret store into another'
        }
        &'integ;help;secrets;copy'= {
        }
        &'integ;help;completions'= {
        }
        &'integ;help;man'= {
        }
        &'integ;help;help'= {
        }
    ]
    $completions[$command]
}
