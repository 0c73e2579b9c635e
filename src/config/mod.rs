//! Paths and settings, layered defaults → `config.toml` → environment.
//!
//! Every setting is described once in [`KEYS`]: its dotted key in config.toml, the environment
//! variable that overrides it, its default and whether it is a secret. Secrets (client secrets)
//! are never read from or written to config.toml: they come from the environment or the secret
//! store. Commands never read environment variables themselves; they get an [`Env`] snapshot
//! through the context, which is what makes tests hermetic.
//!
//! The parts, one concern each: [`paths`] (where the files live), [`keys`] (the table of
//! settings, the only place defaults are written, and the rule each value must pass),
//! [`settings`] (the layering and the typed getters) and [`file`] (reading and writing
//! config.toml). This file keeps the environment snapshot that both paths and settings read.

use std::collections::BTreeMap;

pub mod file;
pub mod keys;
pub mod paths;
pub mod settings;

pub use file::{read_config_file, write_config_value};
pub use keys::{
    Check, JOBBER_GRAPHQL_VERSION, KEYS, KeyDef, MAX_OVERLAP_MINUTES, MAX_SWEEP_DAYS, MAX_WINDOW_DAYS, check, key_def,
};
pub use paths::Paths;
pub use settings::{
    AlertSettings, EndpointOverride, EventsSettings, JobberSettings, Settings, Source, SyncSettings, Value,
};

/// A snapshot of the process environment (or a test's made-up one).
#[derive(Debug, Clone, Default)]
pub struct Env(BTreeMap<String, String>);

impl Env {
    pub fn from_process() -> Self {
        Env(std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))).collect())
    }
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Env(pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }
    /// A variable's value; empty values count as unset.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }
}
