//! The one integration-test binary: it runs the real `integ` executable in a temporary
//! `INTEG_HOME`, against private instances of the provider fakes where a test needs a provider.

mod alerts;
mod common;
mod connect;
mod deploy;
mod events_calendly;
mod events_google;
mod events_microsoft;
mod foundation;
mod hostile_files;
mod hostile_numbers;
mod hostile_output;
mod interrupted;
mod keyring;
mod pg_workers;
mod pgback;
mod postgres;
mod push;
mod secrets_db;
mod shard;
mod snapshots;
mod sync;
mod truth;
mod unattended;
