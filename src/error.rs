//! One error type for the whole program, and the single place where an error becomes an exit
//! code. Lower layers keep their own `thiserror` enums; each converts into [`Error`] with a
//! [`Kind`] (which decides the exit code) and, where the user can do something, a hint.

use std::fmt;

/// What went wrong, as far as the exit code is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Anything that is not one of the cases below (exit 1).
    Failure,
    /// Bad usage or configuration: fix the command line, config.toml or the environment (exit 2).
    Config,
    /// Some streams or accounts failed while others succeeded (exit 3).
    Partial,
    /// A connection must be connected again with `integ connect` (exit 4).
    Reconnect,
    /// Another integ process holds the lock (exit 5).
    Locked,
    /// Stopped by SIGINT (Ctrl-C): exit 130, the shell's 128 + 2.
    Interrupted,
    /// Stopped by SIGTERM: exit 143.
    Terminated,
    /// Stopped by SIGHUP: exit 129.
    HungUp,
    /// `integ conflicts` found overlaps: not a failure, an answer a script acts on.
    Conflicts,
}

impl Kind {
    /// The documented exit code for this kind (README, "Exit codes").
    pub fn exit_code(self) -> u8 {
        match self {
            Kind::Failure => 1,
            Kind::Config => 2,
            Kind::Partial => 3,
            Kind::Reconnect => 4,
            Kind::Locked => 5,
            Kind::Interrupted => 130,
            Kind::Terminated => 143,
            Kind::HungUp => 129,
            Kind::Conflicts => 6,
        }
    }
}

/// An error with a kind, a message, an optional hint and the chain of causes.
#[derive(Debug, Clone)]
pub struct Error {
    pub kind: Kind,
    pub message: String,
    pub hint: Option<String>,
    pub causes: Vec<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), hint: None, causes: Vec::new() }
    }
    pub fn failure(message: impl Into<String>) -> Self {
        Self::new(Kind::Failure, message)
    }
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(Kind::Config, message)
    }
    pub fn reconnect(message: impl Into<String>) -> Self {
        Self::new(Kind::Reconnect, message)
    }
    pub fn locked(message: impl Into<String>) -> Self {
        Self::new(Kind::Locked, message)
    }
    /// Attach what the user should do next.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    /// Record an underlying cause (shown as `caused by:`).
    pub fn cause(mut self, cause: impl fmt::Display) -> Self {
        self.causes.push(cause.to_string());
        self
    }
    /// Put more context in front of the message, keeping kind and hint.
    pub fn context(mut self, context: impl Into<String>) -> Self {
        let old = std::mem::replace(&mut self.message, context.into());
        self.causes.insert(0, old);
        self
    }
    pub fn exit_code(&self) -> u8 {
        self.kind.exit_code()
    }
    /// The JSON form printed under `--json`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "error": {
                "kind": self.kind,
                "exit_code": self.exit_code(),
                "message": self.message,
                "causes": self.causes,
                "hint": self.hint,
            }
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::failure(e.to_string())
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::failure("database error").cause(e)
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::failure("could not encode or decode JSON").cause(e)
    }
}

/// How a command that ran to its end finished: fine, or with a non-zero exit code whose reason
/// it has already printed (status found a connection needing reconnect, some streams failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    Ok,
    With(Kind),
}

impl Done {
    pub fn exit_code(self) -> u8 {
        match self {
            Done::Ok => 0,
            Done::With(kind) => kind.exit_code(),
        }
    }
}

/// What a command that works through several accounts did, and the one rule that turns it
/// into an exit code (ripgrep's single "errored" decision): a connection that needs a reconnect
/// outranks everything (4); otherwise some success means partial (3); all runs held by another
/// process is 5; else the first failure's kind.
#[derive(Debug, Default)]
pub struct Outcomes {
    ok: usize,
    failures: Vec<Kind>,
}

impl Outcomes {
    /// One account (or one part of the output) went fine.
    pub fn ok(&mut self) {
        self.ok += 1;
    }

    /// One account failed (its error was already shown).
    pub fn failed(&mut self, kind: Kind) {
        self.failures.push(kind);
    }

    pub fn done(&self) -> Done {
        let Some(first) = self.failures.first() else {
            return Done::Ok;
        };
        if self.failures.contains(&Kind::Reconnect) {
            Done::With(Kind::Reconnect)
        } else if self.ok > 0 {
            Done::With(Kind::Partial)
        } else if self.failures.iter().all(|k| *k == Kind::Locked) {
            Done::With(Kind::Locked)
        } else {
            Done::With(*first)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_rule_for_the_exit_code_of_many_accounts() {
        let done = |ok: usize, failed: &[Kind]| {
            let mut o = Outcomes::default();
            (0..ok).for_each(|_| o.ok());
            failed.iter().for_each(|k| o.failed(*k));
            o.done()
        };
        assert_eq!(done(2, &[]), Done::Ok);
        assert_eq!(done(0, &[]), Done::Ok);
        assert_eq!(done(1, &[Kind::Failure]), Done::With(Kind::Partial));
        assert_eq!(done(1, &[Kind::Failure, Kind::Reconnect]), Done::With(Kind::Reconnect), "reconnect comes first");
        assert_eq!(done(0, &[Kind::Locked, Kind::Locked]), Done::With(Kind::Locked));
        assert_eq!(done(0, &[Kind::Locked, Kind::Failure]), Done::With(Kind::Locked), "the first failure's kind");
        assert_eq!(done(0, &[Kind::Config]), Done::With(Kind::Config));
    }
}
