#!/bin/sh
# Regenerate the shell completions in completions/ from the command tree.
set -eu
cd "$(dirname "$0")/.."
cargo build --quiet --bin integ
bin=target/debug/integ
$bin completions bash > completions/integ.bash
$bin completions zsh > completions/_integ
$bin completions fish > completions/integ.fish
$bin completions powershell > completions/_integ.ps1
$bin completions elvish > completions/integ.elv
$bin man > completions/integ.1
echo "completions/ regenerated"
