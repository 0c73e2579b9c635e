//! Everything that is kept on disk: the SQLite database and the secret store. Knows nothing
//! about HTTP or providers.

pub mod secrets;
