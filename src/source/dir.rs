//! A directory tree as a source: every file below a path, honouring `.gitignore` (through
//! the `ignore` crate), hidden files included, `.git` excluded.

use std::path::{Path, PathBuf};

use super::{BlobReader, BlobRef, Item, LineScope};

/// Lists the files below `root` (or `root` itself when it is a file), named relative to
/// `base` (the repository or scan root) when `root` lies inside it, so paths match the
/// config's `[allow] paths` and per-directory configs.
pub fn items(root: &Path, base: &Path) -> Result<Vec<Item>, String> {
    let base = if root.starts_with(base) { base } else { root };
    if root.is_file() {
        let shown_base = if base == root { root.parent().unwrap_or(root) } else { base };
        return Ok(vec![file_item(root, shown_base)]);
    }
    if !root.is_dir() {
        return Err(format!("{}: no such file or directory", root.display()));
    }
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .require_git(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build();
    let mut out = Vec::new();
    for entry in walker {
        let entry = entry.map_err(|e| e.to_string())?;
        if entry.file_type().is_some_and(|t| t.is_file()) {
            out.push(file_item(entry.path(), base));
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

fn file_item(path: &Path, root: &Path) -> Item {
    let shown = path.strip_prefix(root).ok().filter(|p| !p.as_os_str().is_empty()).unwrap_or(path);
    Item {
        path: path_bytes(shown),
        blob: BlobRef::File(path.to_path_buf()),
        scope: LineScope::All,
        commit: None,
    }
}

fn path_bytes(p: &Path) -> Vec<u8> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        p.as_os_str().as_bytes().to_vec()
    }
    #[cfg(not(unix))]
    {
        p.to_string_lossy().into_owned().into_bytes()
    }
}

/// Reads files from disk.
pub struct FileReader;

fn file_path(item: &Item) -> Result<&PathBuf, String> {
    match &item.blob {
        BlobRef::File(p) => Ok(p),
        BlobRef::Git(_) => Err("not a file item".into()),
    }
}

impl BlobReader for FileReader {
    fn size(&self, item: &Item) -> Result<u64, String> {
        let p = file_path(item)?;
        std::fs::metadata(p).map(|m| m.len()).map_err(|e| format!("{}: {e}", p.display()))
    }
    fn read(&self, item: &Item) -> Result<Vec<u8>, String> {
        let p = file_path(item)?;
        std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))
    }
    fn added_lines(&self, _old: git2::Oid, _item: &Item) -> Result<Vec<u32>, String> {
        Err("files have no history".into())
    }
}
