//! The `integ` binary: parse, run, turn the outcome into the exit code. Nothing else.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(integ::main_entry())
}
