
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
            cand status 'Show every connection, its token expiry, last syncs and what needs doing'
            cand doctor 'Check the configuration, database, secret store and credentials'
            cand config 'Read and change settings'
            cand completions 'Print shell completions'
            cand man 'Print the man page (roff) to stdout'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'integ;connect'= {
            cand --account 'A name for this account (default: the name the provider reports); connecting the same name again replaces its tokens'
            cand --port 'Listen on this loopback port (it must match the registered redirect URI for Jobber and Calendly)'
            cand --timeout 'Give up after this many seconds'
            cand --color 'When to use colours (NO_COLOR is honoured by auto)'
            cand --no-browser 'Don''t open a browser: print the address, then paste back the one the browser ended on'
            cand --token-stdin 'Read a Calendly Personal Access Token from stdin instead of signing in'
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
        &'integ;status'= {
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
        &'integ;doctor'= {
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
        &'integ;config'= {
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
        &'integ;completions'= {
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
            cand status 'Show every connection, its token expiry, last syncs and what needs doing'
            cand doctor 'Check the configuration, database, secret store and credentials'
            cand config 'Read and change settings'
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
        &'integ;help;status'= {
        }
        &'integ;help;doctor'= {
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
        &'integ;help;completions'= {
        }
        &'integ;help;man'= {
        }
        &'integ;help;help'= {
        }
    ]
    $completions[$command]
}
