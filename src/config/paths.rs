//! Where integ keeps its files: one folder under `INTEG_HOME`, or the XDG folders of the
//! platform (config, data, state) when it is unset.
//!
//! Resolved once per run from the [`Env`] snapshot, so a test's made-up home never touches the
//! real one; the folders' ownership and mode checks live in `store::fs`, asked from here.

use std::path::{Path, PathBuf};

use super::Env;
use crate::error::{Error, Result};

/// Where integ keeps its files.
#[derive(Debug, Clone)]
pub struct Paths {
    /// `INTEG_HOME` when set: everything lives in that one folder.
    pub home: Option<PathBuf>,
    pub config_file: PathBuf,
    pub db_file: PathBuf,
    pub secrets_file: PathBuf,
    pub lock_dir: PathBuf,
}

impl Paths {
    pub fn resolve(env: &Env) -> Result<Paths> {
        if let Some(home) = env.get("INTEG_HOME") {
            let home = absolute(Path::new(home))?;
            return Ok(Paths {
                config_file: home.join("config.toml"),
                db_file: home.join("integ.db"),
                secrets_file: home.join("secrets.enc"),
                lock_dir: home.join("locks"),
                home: Some(home),
            });
        }
        let dirs = directories::ProjectDirs::from("", "", "integ").ok_or_else(|| {
            Error::config("cannot find a home folder for integ's files")
                .hint("set INTEG_HOME to a folder integ may use")
        })?;
        let data = dirs.data_dir().to_path_buf();
        let state = dirs.state_dir().map(Path::to_path_buf).unwrap_or_else(|| data.clone());
        Ok(Paths {
            home: None,
            config_file: dirs.config_dir().join("config.toml"),
            db_file: data.join("integ.db"),
            secrets_file: data.join("secrets.enc"),
            lock_dir: state.join("locks"),
        })
    }

    /// Refuse folders and a config file that another user owns or may write to (exit 2, the
    /// fix in the hint). Missing ones are fine: integ creates them private.
    pub fn check_private(&self) -> Result<()> {
        for dir in self.folders() {
            crate::store::fs::check_private_dir(dir)?;
        }
        crate::store::fs::check_private_file(&self.config_file)
    }

    /// Every folder integ keeps files in (the same folder once however many roles it has).
    pub fn folders(&self) -> Vec<&Path> {
        let mut dirs: Vec<&Path> = Vec::new();
        let candidates = [
            self.home.as_deref(),
            self.config_file.parent(),
            self.db_file.parent(),
            self.secrets_file.parent(),
            self.lock_dir.parent(),
            Some(self.lock_dir.as_path()),
        ];
        for dir in candidates.into_iter().flatten() {
            if !dir.as_os_str().is_empty() && !dirs.contains(&dir) {
                dirs.push(dir);
            }
        }
        dirs
    }

    /// The lock file for one name (a connection's refresh, a sync run, ...).
    pub fn lock_file(&self, name: &str) -> PathBuf {
        self.lock_dir.join(format!("{name}.lock"))
    }
}

fn absolute(p: &Path) -> Result<PathBuf> {
    std::path::absolute(p).map_err(|e| Error::config(format!("INTEG_HOME {} is not usable", p.display())).cause(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integ_home_puts_everything_in_one_folder() {
        let p = Paths::resolve(&Env::from_pairs([("INTEG_HOME", "/tmp/integ-x")])).unwrap();
        assert_eq!(p.config_file, Path::new("/tmp/integ-x/config.toml"));
        assert_eq!(p.db_file, Path::new("/tmp/integ-x/integ.db"));
        assert_eq!(p.lock_dir, Path::new("/tmp/integ-x/locks"));
    }

    proptest::proptest! {
        #[test]
        fn any_home_resolves_without_panicking(home in "\\PC{0,80}") {
            let _ = Paths::resolve(&Env::from_pairs([("INTEG_HOME", home.as_str())]));
        }
    }
}
