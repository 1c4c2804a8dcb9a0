//! Read-only memory maps of pack and index files: the crate's one use of `unsafe`.

use std::fs::File;
use std::path::Path;

use memmap2::{Mmap, MmapOptions};

/// A read-only mapping of a whole file.
pub struct Mapped(Mmap);

impl Mapped {
    /// Maps `path`. Pages are faulted in as they are read (pre-faulting a whole pack
    /// would count it twice in the resident size, beside libgit2's own mapping).
    pub fn open(path: &Path) -> std::io::Result<Mapped> {
        let file = File::open(path)?;
        let opts = MmapOptions::new();
        // SAFETY: git never modifies a pack or its index in place: repacking writes new
        // files and renames them over, and removal only unlinks (the mapping stays valid).
        // A file truncated under us by something other than git would fault, as it does
        // for libgit2 and git itself, which map the same files.
        #[allow(unsafe_code)]
        let map = unsafe { opts.map(&file)? };
        Ok(Mapped(map))
    }

    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}
