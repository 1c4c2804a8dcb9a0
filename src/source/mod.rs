//! Where blobs come from. A source produces [`Item`]s (a path, a blob reference and which
//! lines count) and a [`BlobReader`] that loads them; scanning never knows which source
//! it is reading. Sources: the staged index ([`staged`]), a directory tree ([`dir`]), the
//! whole history ([`history`]) and a commit range ([`range`]); [`provenance`] describes the
//! commits behind findings. Large reads of git blobs go through [`odb`].

pub mod dir;
pub mod history;
pub mod index_file;
pub mod odb;
pub mod provenance;
pub mod range;
pub mod staged;

use std::path::PathBuf;

/// Where an item's bytes live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobRef {
    /// A git object.
    Git(git2::Oid),
    /// A file on disk.
    File(PathBuf),
}

/// Which lines of an item may produce findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineScope {
    /// Every line.
    All,
    /// Only lines added relative to this older blob (a modified staged file).
    AddedSince(git2::Oid),
    /// Only lines added relative to every one of these blobs: a merge in progress, whose
    /// parents each hold a version of the file (a line any parent has is already committed).
    AddedSinceAll(Vec<git2::Oid>),
}

/// One blob to scan, with its provenance.
#[derive(Debug, Clone)]
pub struct Item {
    /// The path as git or the file system spells it (may be non-UTF-8).
    pub path: Vec<u8>,
    /// The bytes.
    pub blob: BlobRef,
    /// Which lines count.
    pub scope: LineScope,
    /// The commit that holds this blob (history and range scans).
    pub commit: Option<String>,
}

impl Item {
    /// The path for display and reports: lossy UTF-8 with control characters escaped.
    pub fn display_path(&self) -> String {
        display_path(&self.path)
    }
}

/// Lossy UTF-8 with control characters escaped, so a file name cannot forge output lines.
pub fn display_path(path: &[u8]) -> String {
    String::from_utf8_lossy(path)
        .chars()
        .flat_map(|c| if c.is_control() { c.escape_default().collect::<Vec<_>>() } else { vec![c] })
        .collect()
}

/// Loads items' bytes. Implementations must be usable from several threads.
pub trait BlobReader: Sync {
    /// The size in bytes without loading the content.
    fn size(&self, item: &Item) -> Result<u64, String>;
    /// The content.
    fn read(&self, item: &Item) -> Result<Vec<u8>, String>;
    /// 1-based numbers of the lines of `item` added relative to the blob `old` (sorted).
    fn added_lines(&self, old: git2::Oid, item: &Item) -> Result<Vec<u32>, String>;
    /// Reads many items at once, calling `visit(i, blob)` for each `items[i]` it serves
    /// (from any thread, in any order; blobs over `max_size` as [`odb::Blob::TooLarge`]);
    /// returns the indices it did not serve, which the caller reads one by one.
    /// By default it serves none.
    fn read_many(
        &self,
        items: &[&Item],
        max_size: u64,
        visit: &(dyn Fn(usize, odb::Blob<'_>) + Sync),
    ) -> Vec<usize> {
        let _ = (max_size, visit);
        (0..items.len()).collect()
    }
}

/// [`BlobReader::read_many`] for git items from `store` (packs and loose objects); file
/// items and objects the store does not serve are returned.
pub fn read_from_store(
    store: &odb::ObjectStore,
    items: &[&Item],
    max_size: u64,
    visit: &(dyn Fn(usize, odb::Blob<'_>) + Sync),
) -> Vec<usize> {
    let mut rest = Vec::new();
    let mut git = Vec::with_capacity(items.len());
    let mut oids = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match item.blob {
            BlobRef::Git(oid) => {
                git.push(i);
                oids.push(oid);
            }
            BlobRef::File(_) => rest.push(i),
        }
    }
    let unserved = store.read_many(&oids, max_size, &|k, blob| visit(git[k], blob));
    rest.extend(unserved.into_iter().map(|k| git[k]));
    rest.sort_unstable();
    rest
}
