//! The `integ` binary: keep its memory out of dumps, parse, run, turn the outcome into the exit
//! code. Nothing else.

fn main() -> std::process::ExitCode {
    // Before anything can read a secret.
    integ::store::secrets::protect_process_memory();
    std::process::ExitCode::from(integ::main_entry())
}
