//! The leaf vocabulary every layer may use: which provider, and who a token belongs to. It
//! imports nothing from the rest of integ, so naming a provider never drags in a layer.

use std::fmt;
use std::str::FromStr;

/// A service integ can connect to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Jobber,
    Google,
    Microsoft,
    Calendly,
}

impl Provider {
    pub const ALL: [Provider; 4] = [Provider::Jobber, Provider::Google, Provider::Microsoft, Provider::Calendly];

    /// Lower-case name used in commands, config keys and the database.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Jobber => "jobber",
            Provider::Google => "google",
            Provider::Microsoft => "microsoft",
            Provider::Calendly => "calendly",
        }
    }

    /// Upper-case prefix of its environment variables (`JOBBER_CLIENT_ID`, `INTEG_JOBBER_API_URL`).
    pub fn env_prefix(self) -> &'static str {
        match self {
            Provider::Jobber => "JOBBER",
            Provider::Google => "GOOGLE",
            Provider::Microsoft => "MICROSOFT",
            Provider::Calendly => "CALENDLY",
        }
    }

    /// Name for people: "Jobber", "Google Calendar", ...
    pub fn display_name(self) -> &'static str {
        match self {
            Provider::Jobber => "Jobber",
            Provider::Google => "Google Calendar",
            Provider::Microsoft => "Microsoft Outlook",
            Provider::Calendly => "Calendly",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Provider {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Provider::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown provider '{s}' (expected jobber, google, microsoft or calendly)"))
    }
}

/// Who a token belongs to: the provider's stable id and a name for people.
#[derive(Debug, Clone)]
pub struct Identity {
    pub id: String,
    pub name: String,
}
