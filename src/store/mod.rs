//! Everything that is kept on disk: the SQLite database and the secret store. Knows nothing
//! about HTTP or providers' APIs.

pub mod connections;
pub mod db;
pub mod fs;
pub mod jobs;
pub mod lock;
pub mod runs;
pub mod secrets;
