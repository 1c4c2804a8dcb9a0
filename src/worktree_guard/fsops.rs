//! File-system primitives for the working-tree guard: what a path holds (content hash,
//! mode, symlink target or nothing), durable copies, and atomic replacement of a path
//! (rename, or copy to a temporary sibling and rename across file systems). No git.

use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a path holds, enough to tell whether it changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Held {
    /// A regular file.
    File {
        /// SHA-256 of the content (hex).
        sha256: String,
        /// Permission bits.
        mode: u32,
    },
    /// A symbolic link.
    Symlink {
        /// The link target's bytes.
        target: Vec<u8>,
    },
    /// Nothing.
    Absent,
    /// A directory (never touched).
    Dir,
}

/// Reads what `path` holds now (without following a final symlink).
pub fn held(path: &Path) -> io::Result<Held> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if is_missing(&e) => return Ok(Held::Absent),
        Err(e) => return Err(e),
    };
    if meta.file_type().is_symlink() {
        let target = fs::read_link(path)?.as_os_str().as_bytes().to_vec();
        return Ok(Held::Symlink { target });
    }
    if meta.is_dir() {
        return Ok(Held::Dir);
    }
    Ok(Held::File { sha256: sha256_file(path)?, mode: meta.permissions().mode() & 0o7777 })
}

/// True for "no such file" and "a path component is not a directory".
pub fn is_missing(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(20)
}

/// Hex SHA-256 of a file's content.
pub fn sha256_file(path: &Path) -> io::Result<String> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Copies what `src` holds (file with mode and mtime, or symlink) to `dst`, durably.
pub fn copy_durable(src: &Path, dst: &Path) -> io::Result<()> {
    let meta = fs::symlink_metadata(src)?;
    if meta.file_type().is_symlink() {
        return std::os::unix::fs::symlink(fs::read_link(src)?, dst);
    }
    fs::copy(src, dst)?;
    let f = File::options().write(true).open(dst)?;
    f.set_modified(meta.modified()?)?;
    f.sync_all()
}

/// The temporary sibling used while replacing `path` (removed by recovery if left over).
pub fn temp_sibling(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    path.with_file_name(format!(".{name}.warden-tmp"))
}

/// Replaces `dst` by `src` atomically: a rename, or on another file system a durable copy to
/// a temporary sibling renamed over `dst` (then `src` is removed).
pub fn move_into_place(src: &Path, dst: &Path) -> io::Result<()> {
    match fs::rename(src, dst) {
        Ok(()) => Ok(()),
        Err(e) if e.raw_os_error() == Some(18) => {
            let tmp = temp_sibling(dst);
            let _ = fs::remove_file(&tmp);
            copy_durable(src, &tmp)?;
            fs::rename(&tmp, dst)?;
            fs::remove_file(src)
        }
        Err(e) => Err(e),
    }
}

/// Removes a file or symlink; nothing there is fine.
pub fn remove_file_if_any(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if !is_missing(&e) => Err(e),
        _ => Ok(()),
    }
}

/// Flushes a directory entry list to disk (renames and creations inside it).
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Quotes a path for a POSIX shell.
pub fn sh_quote(path: &Path) -> String {
    let s = path.to_string_lossy();
    shlex::try_quote(&s).map_or_else(|_| format!("{s:?}"), |q| q.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_tells_kinds_apart() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("f");
        assert_eq!(held(&f).unwrap(), Held::Absent);
        fs::write(&f, "x").unwrap();
        assert!(matches!(held(&f).unwrap(), Held::File { .. }));
        std::os::unix::fs::symlink("f", d.path().join("l")).unwrap();
        assert_eq!(held(&d.path().join("l")).unwrap(), Held::Symlink { target: b"f".to_vec() });
        assert_eq!(held(d.path()).unwrap(), Held::Dir);
        assert_eq!(held(&f.join("below")).unwrap(), Held::Absent);
    }

    #[test]
    fn copy_keeps_mode_and_mtime() {
        let d = tempfile::tempdir().unwrap();
        let (a, b) = (d.path().join("a"), d.path().join("b"));
        fs::write(&a, "hello").unwrap();
        fs::set_permissions(&a, fs::Permissions::from_mode(0o751)).unwrap();
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        File::options().write(true).open(&a).unwrap().set_modified(old).unwrap();
        copy_durable(&a, &b).unwrap();
        assert_eq!(held(&a).unwrap(), held(&b).unwrap());
        assert_eq!(fs::metadata(&b).unwrap().modified().unwrap(), old);
    }
}
