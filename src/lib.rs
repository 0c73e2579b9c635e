//! integ: connect Jobber, Google Calendar, Microsoft Outlook and Calendly, and keep their data in
//! a local SQLite database.

pub mod error;
pub mod store;
