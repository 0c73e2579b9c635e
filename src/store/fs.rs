//! Private files: folders 0700, files 0600, and atomic replacement (temp file, fsync, rename,
//! fsync the folder) so a crash never leaves a half-written config.
//!
//! integ's folders must be its user's alone: a folder or config file that another user owns or
//! may write is refused (exit 2, the fix in the hint), because whoever can write there can plant
//! links that make integ overwrite other files, or swap the config for one that sends tokens
//! elsewhere. Files integ creates are created exclusively and never through a symbolic link.
//! Ownership is compared with the effective uid and permissions are read from the mode bits:
//! root passes every access check, so asking the kernel whether a write would work proves
//! nothing when integ runs as root.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use rand::RngCore;

use crate::error::{Error, Result};

/// Create a folder (and its parents) with mode 0700; an existing folder must pass
/// [`check_private_dir`].
pub fn ensure_private_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return check_private_dir(dir);
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Error::failure(format!("cannot create the folder {}", dir.display())).cause(e))?;
    // Someone may have created it first, with their own owner or mode.
    check_private_dir(dir)
}

/// Refuse an existing folder that is not the user's own or that others may write to.
pub fn check_private_dir(dir: &Path) -> Result<()> {
    check_private(dir, "folder", 0o700)
}

/// Refuse an existing file (config.toml) that is not the user's own or that others may write to.
pub fn check_private_file(file: &Path) -> Result<()> {
    check_private(file, "file", 0o600)
}

/// Refuse a secret-holding file (`what`, e.g. "the secret key file") whose `mode` lets other
/// users read or change it, saying what reading it gives away (`exposes`) and the fix.
pub fn refuse_open_to_others(path: &Path, mode: u32, what: &str, exposes: &str) -> Result<()> {
    let mode = mode & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::config(format!(
            "{what} {} is open to other users (mode {mode:o}); whoever can read it {exposes}",
            path.display()
        ))
        .hint(format!("chmod 600 {}", path.display())));
    }
    Ok(())
}

/// The effective user id, which is what owns the files integ creates.
pub fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

fn check_private(path: &Path, what: &str, fix_mode: u32) -> Result<()> {
    // Through a link: the target is what integ reads and writes.
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::config(format!("cannot inspect the {what} {}", path.display())).cause(e)),
    };
    let me = effective_uid();
    if meta.uid() != me {
        return Err(Error::config(format!(
            "the {what} {} is owned by uid {}, not by the user running integ (uid {me})",
            path.display(),
            meta.uid()
        ))
        .hint(format!(
            "use a {what} of your own (set INTEG_HOME), or give it to this user: chown {me} {}",
            path.display()
        )));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        let who = if mode & 0o002 != 0 { "all users" } else { "its group" };
        return Err(Error::config(format!(
            "the {what} {} can be changed by others: {who} may write to it (mode {:o})",
            path.display(),
            mode & 0o777
        ))
        .hint(format!("chmod {fix_mode:o} {}", path.display())));
    }
    Ok(())
}

/// An error opening `path` with `O_NOFOLLOW`; a link in its place gets its own message.
pub fn open_error(path: &Path, what: &str, e: std::io::Error) -> Error {
    if e.raw_os_error() == Some(libc::ELOOP) {
        return Error::config(format!("{what} {} is a symbolic link, which integ does not follow", path.display()))
            .hint(format!("remove the link (rm {}); integ creates the file itself", path.display()));
    }
    Error::failure(format!("cannot open {what} {}", path.display())).cause(e)
}

/// Create `path` with mode 0600 if it does not exist yet (so SQLite never creates it with the
/// umask's wider mode). Never through a link.
pub fn touch_private(path: &Path) -> Result<()> {
    if let Some(parent) = path.parent() {
        ensure_private_dir(parent)?;
    }
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map(|_| ())
        .map_err(|e| open_error(path, "the file", e))
}

/// Replace `path` with `bytes` atomically; the result is mode 0600. The temporary file has a
/// random name and is created exclusively, so nothing planted in the folder can redirect it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    ensure_private_dir(dir)?;
    let fail = |e: std::io::Error| Error::failure(format!("cannot write {}", path.display())).cause(e);
    let tmp = dir.join(format!(
        ".{}.tmp-{}-{:016x}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id(),
        rand::rngs::OsRng.next_u64()
    ));
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&tmp)
        .map_err(fail)?;
    let written = f.write_all(bytes).and_then(|()| f.sync_all());
    drop(f);
    if let Err(e) = written.and_then(|()| fs::rename(&tmp, path)) {
        let _ = fs::remove_file(&tmp);
        return Err(fail(e));
    }
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The permission bits of a file, for `doctor`.
pub fn mode(path: &Path) -> Option<u32> {
    fs::metadata(path).ok().map(|m| m.permissions().mode() & 0o777)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    #[test]
    fn the_temporary_file_never_follows_a_planted_link() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let home = dir.path().join("home");
        ensure_private_dir(&home).unwrap();
        // The name the temporary file used to have: predictable from the process id.
        symlink(&victim, home.join(format!(".config.toml.tmp-{}", std::process::id()))).unwrap();
        write_atomic(&home.join("config.toml"), b"new = 1\n").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(std::fs::read_to_string(home.join("config.toml")).unwrap(), "new = 1\n");
        assert_eq!(mode(&home.join("config.toml")), Some(0o600));
    }

    #[test]
    fn a_new_file_is_never_created_through_a_planted_link() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        symlink(&victim, dir.path().join("integ.db")).unwrap();
        let err = touch_private(&dir.path().join("integ.db")).unwrap_err();
        assert!(err.message.contains("symbolic link"), "{}", err.message);
        assert!(!victim.exists());
    }

    #[test]
    fn folders_and_files_others_can_write_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        ensure_private_dir(&home).unwrap();
        check_private_dir(&home).unwrap();
        for bad in [0o777, 0o775, 0o757, 0o720] {
            fs::set_permissions(&home, fs::Permissions::from_mode(bad)).unwrap();
            let err = ensure_private_dir(&home).unwrap_err();
            assert_eq!(err.kind, crate::error::Kind::Config);
            assert_eq!(err.hint.as_deref(), Some(format!("chmod 700 {}", home.display()).as_str()), "{bad:o}");
        }
        // Readable by others is their business (doctor warns); writable is not.
        fs::set_permissions(&home, fs::Permissions::from_mode(0o755)).unwrap();
        check_private_dir(&home).unwrap();
        let file = home.join("config.toml");
        fs::write(&file, "").unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
        check_private_file(&file).unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o664)).unwrap();
        let err = check_private_file(&file).unwrap_err();
        assert_eq!(err.hint.as_deref(), Some(format!("chmod 600 {}", file.display()).as_str()));
        // Missing ones are fine: integ creates them private.
        check_private_dir(&home.join("nope")).unwrap();
        check_private_file(&home.join("nope.toml")).unwrap();
    }
}
