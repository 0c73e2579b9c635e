//! Reading and writing config.toml.
//!
//! A missing file is an empty table; a file another user may change is refused before it is
//! read, because whoever can write it can send tokens elsewhere. Writes replace the file
//! atomically and privately through `store::fs::write_atomic` (temp file created exclusively,
//! never through a symbolic link, fsync, rename), so a crash never leaves half a config.

use std::collections::BTreeMap;
use std::path::Path;

use super::keys::KeyDef;
use crate::error::{Error, Result};

/// Read config.toml; a missing file is an empty table, and one others may change is refused.
pub fn read_config_file(path: &Path) -> Result<(toml::Table, bool)> {
    crate::store::fs::check_private_file(path)?;
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let table = text.parse::<toml::Table>().map_err(|e| {
                Error::config(format!("{} is not valid TOML", path.display()))
                    .cause(e.to_string().trim())
                    .hint("fix the file, or move it aside to start from the defaults")
            })?;
            Ok((table, true))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((toml::Table::new(), false)),
        Err(e) => Err(Error::config(format!("cannot read {}", path.display())).cause(e)),
    }
}

/// Flatten `[jobber] client_id = "x"` into `jobber.client_id = "x"`.
pub(super) fn flatten(table: &toml::Table) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (k, v) in table {
        match v {
            toml::Value::Table(inner) => {
                for (ik, iv) in inner {
                    out.insert(format!("{k}.{ik}"), scalar(iv));
                }
            }
            other => {
                out.insert(k.clone(), scalar(other));
            }
        }
    }
    out
}

fn scalar(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Array(items) => items.iter().map(scalar).collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    }
}

/// Set (or with `None`, remove) a non-secret key in config.toml, written atomically with mode
/// 0600 in a 0700 folder.
pub fn write_config_value(path: &Path, def: &KeyDef, value: Option<&str>) -> Result<()> {
    let (mut table, _) = read_config_file(path)?;
    let (section, name) = match def.key.split_once('.') {
        Some((s, n)) => (Some(s), n),
        None => (None, def.key),
    };
    let target = match section {
        Some(s) => {
            let entry = table.entry(s.to_string()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
            match entry {
                toml::Value::Table(t) => t,
                _ => return Err(Error::config(format!("config.toml: '{s}' must be a table"))),
            }
        }
        None => &mut table,
    };
    match value {
        Some(v) => {
            target.insert(name.to_string(), toml::Value::String(v.to_string()));
        }
        None => {
            target.remove(name);
        }
    }
    table.retain(|_, v| !matches!(v, toml::Value::Table(t) if t.is_empty()));
    let text = toml::to_string_pretty(&table).map_err(|e| Error::failure("cannot encode config.toml").cause(e))?;
    crate::store::fs::write_atomic(path, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Env, Settings, key_def};
    use crate::store::secrets::StoreKind;

    #[test]
    fn config_writes_round_trip_and_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/config.toml");
        write_config_value(&path, key_def("jobber.client_id").unwrap(), Some("abc")).unwrap();
        write_config_value(&path, key_def("secret_store").unwrap(), Some("file")).unwrap();
        let (t, found) = read_config_file(&path).unwrap();
        assert!(found);
        let s = Settings::from_layers(&t, true, &Env::default()).unwrap();
        assert_eq!(s.get("jobber.client_id"), Some("abc"));
        assert_eq!(s.secret_store(), StoreKind::File);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dmode = std::fs::metadata(path.parent().unwrap()).unwrap().permissions().mode() & 0o777;
        assert_eq!(dmode, 0o700);
        write_config_value(&path, key_def("jobber.client_id").unwrap(), None).unwrap();
        let (t, _) = read_config_file(&path).unwrap();
        assert!(!t.contains_key("jobber"));
    }

    proptest::proptest! {
        #[test]
        fn any_config_file_reads_without_panicking(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("config.toml");
            std::fs::write(&path, &bytes).unwrap();
            let _ = read_config_file(&path);
        }
    }
}
