//! The PostgreSQL password file, as libpq (psql, pg_dump) reads it: `PGPASSFILE`, else
//! `~/.pgpass`. Each line is `hostname:port:database:username:password`; `*` in any of the
//! first four fields matches anything, `\:` and `\\` stand for `:` and `\`, lines starting with
//! `#` are comments, and the first line that matches the connection wins.
//!
//! It is how a scheduled run (cron, a systemd timer) reaches a database that needs a password
//! when the secret store cannot hold it (the `database` store lives in that very database) and
//! no schedule may carry one. Like the secret key file, a password file others can read is
//! refused when it holds the password integ would use (libpq ignores such a file with a
//! warning, and the connection then fails for a reason it no longer names). The file is read
//! whole, up to [`MAX_BYTES`].

use std::path::{Path, PathBuf};

use secrecy::SecretString;
use zeroize::{Zeroize, Zeroizing};

use super::url::PgUrl;
use crate::config::Env;
use crate::error::{Error, Result};

/// Largest password file integ reads (libpq's lines are short; this is thousands of them).
pub const MAX_BYTES: u64 = 1 << 20;

/// Where the password file is: `PGPASSFILE`, else `$HOME/.pgpass` (none without a home).
pub fn path(env: &Env) -> Option<PathBuf> {
    match env.get("PGPASSFILE") {
        Some(p) => Some(PathBuf::from(p)),
        None => env.get("HOME").map(|h| Path::new(h).join(".pgpass")),
    }
}

/// The password for `url` from the file at `path`: `None` when there is no such file or no
/// line matches. A matching line in a file others may read is refused with the fix (a file
/// with no line for this database is none of integ's business); so is a path that is not a
/// regular file, or a file over [`MAX_BYTES`]. A file that cannot be read says why.
pub fn password(path: &Path, url: &PgUrl) -> Result<Option<SecretString>> {
    use std::io::Read as _;
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let unreadable = |e: std::io::Error| {
        Error::config(format!("cannot read the PostgreSQL password file {}", path.display()))
            .cause(e)
            .hint("fix its permissions, or point PGPASSFILE at another file")
    };
    // Non-blocking, so a FIFO in its place is refused below instead of waiting for a writer.
    let file = match std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(unreadable(e)),
    };
    let meta = file.metadata().map_err(unreadable)?;
    if !meta.is_file() {
        return Err(Error::config(format!("the PostgreSQL password file {} is not a regular file", path.display()))
            .hint("point PGPASSFILE at a file (or remove what is at that path)"));
    }
    // The file holds passwords: its bytes are wiped when dropped.
    let mut text = Zeroizing::new(Vec::new());
    file.take(MAX_BYTES + 1).read_to_end(&mut text).map_err(unreadable)?;
    if text.len() as u64 > MAX_BYTES {
        return Err(Error::config(format!(
            "the PostgreSQL password file {} is larger than {} KiB",
            path.display(),
            MAX_BYTES / 1024
        ))
        .hint("keep only the lines for the databases you use (hostname:port:database:username:password)"));
    }
    let Some(found) = lookup(&String::from_utf8_lossy(&text), url) else { return Ok(None) };
    crate::store::fs::refuse_open_to_others(path, meta.mode(), "the PostgreSQL password file", "can use the database")?;
    Ok(Some(found))
}

/// The first line of `text` that matches `url`'s host, port, database and user.
pub fn lookup(text: &str, url: &PgUrl) -> Option<SecretString> {
    let port = url.port.to_string();
    let want = [url.host.as_str(), port.as_str(), url.dbname.as_str(), url.user.as_str()];
    text.lines().filter(|l| !l.starts_with('#')).find_map(|line| {
        let mut fields = split(line.strip_suffix('\r').unwrap_or(line))?;
        let matches = fields[..4].iter().zip(want).all(|(f, w)| f == "*" || f == w);
        let mut password = std::mem::take(&mut fields[4]);
        fields.iter_mut().for_each(Zeroize::zeroize);
        if matches {
            return Some(SecretString::from(password));
        }
        password.zeroize();
        None
    })
}

/// A line's five fields, unescaped; `None` for a line with fewer. The fifth (the password) is
/// the rest of the line, as libpq reads it.
fn split(line: &str) -> Option<[String; 5]> {
    let mut fields: Vec<String> = Vec::with_capacity(5);
    let mut cur = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => cur.push(chars.next().unwrap_or('\\')),
            ':' if fields.len() < 4 => fields.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    if fields.len() < 4 {
        return None;
    }
    fields.push(cur);
    fields.try_into().ok()
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret as _;

    use super::*;

    fn url(s: &str) -> PgUrl {
        PgUrl::parse(s).unwrap()
    }

    fn found(text: &str, u: &str) -> Option<String> {
        lookup(text, &url(u)).map(|s| s.expose_secret().to_string())
    }

    #[test]
    fn the_first_matching_line_wins_and_stars_match_anything() {
        let text = "# comment\n\
                    db.example.com:5432:reports:integ:first\n\
                    db.example.com:5432:*:integ:second\n\
                    *:*:*:*:fallback\n";
        assert_eq!(found(text, "postgres://integ@db.example.com/reports").as_deref(), Some("first"));
        assert_eq!(found(text, "postgres://integ@db.example.com/other").as_deref(), Some("second"));
        assert_eq!(found(text, "postgres://someone@db.example.com:6543/x").as_deref(), Some("fallback"));
        assert_eq!(
            found("db.example.com:5432:reports:integ:only\n", "postgres://integ@db.example.com:6543/reports"),
            None
        );
    }

    #[test]
    fn escapes_short_lines_and_carriage_returns() {
        // A password may hold colons and backslashes, escaped or (after the fourth field) not.
        let text = "short:line\nh:5432:d:u:pa\\:ss\\\\w:rd\r\n";
        assert_eq!(found(text, "postgres://u@h/d").as_deref(), Some("pa:ss\\w:rd"));
        // A field with an escaped colon matches the unescaped value.
        assert_eq!(found("h:5432:d\\:x:u:pw\n", "postgres://u@h/d%3Ax").as_deref(), Some("pw"));
        assert_eq!(found("", "postgres://u@h/d"), None);
        assert_eq!(found("#h:5432:d:u:commented\n", "postgres://u@h/d"), None);
    }

    #[test]
    fn a_file_others_can_read_is_refused_and_a_missing_one_is_none() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pgpass");
        let u = url("postgres://u@h/d");
        assert!(password(&p, &u).unwrap().is_none());
        std::fs::write(&p, "h:5432:d:u:pw\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        // Open to others but without a line for this database: not integ's concern.
        assert!(password(&p, &url("postgres://u@elsewhere/d")).unwrap().is_none());
        let e = password(&p, &u).unwrap_err().to_string();
        assert!(e.contains("open to other users") && e.contains("644"), "{e}");
        assert!(!e.contains("pw\n"), "{e}");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(password(&p, &u).unwrap().unwrap().expose_secret(), "pw");
        let e = password(dir.path(), &u).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
    }

    #[test]
    fn pgpassfile_comes_before_home() {
        let env = Env::from_pairs([("HOME", "/home/a"), ("PGPASSFILE", "/etc/integ/pgpass")]);
        assert_eq!(path(&env), Some(PathBuf::from("/etc/integ/pgpass")));
        assert_eq!(path(&Env::from_pairs([("HOME", "/home/a")])), Some(PathBuf::from("/home/a/.pgpass")));
        assert_eq!(path(&Env::from_pairs(Vec::<(String, String)>::new())), None);
    }
}
