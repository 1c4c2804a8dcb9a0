//! Installing and removing the pre-commit hook (the script in `hooks/pre-commit`, embedded).
//! Respects `core.hooksPath` and linked worktrees (hooks live in the common git dir). An
//! existing foreign hook is kept and chained (moved to `pre-commit.pre-warden`, run first);
//! uninstall restores it byte for byte and refuses to delete a hook someone edited.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use git2::Repository;

/// The hook script template; `@WARDEN_BIN@` becomes the installing binary's path.
pub const TEMPLATE: &str = include_str!("../hooks/pre-commit");
/// The marker line that identifies warden's hook.
pub const MARKER: &str = "warden-managed-hook";
const CHAINED: &str = "pre-commit.pre-warden";

/// What `install` or `uninstall` did, for the user.
#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    /// Wrote a new hook.
    Installed(PathBuf),
    /// Rewrote warden's own hook.
    Updated(PathBuf),
    /// Installed, keeping the previous hook as a chained one.
    Chained { hook: PathBuf, previous: PathBuf },
    /// Removed warden's hook.
    Removed(PathBuf),
    /// Removed warden's hook and put the previous one back.
    Restored(PathBuf),
    /// Nothing to do.
    Nothing(String),
}

/// The directory git runs hooks from for this repository.
pub fn hooks_dir(repo: &Repository) -> Result<PathBuf> {
    let cfg = repo.config().context("reading git config")?;
    if let Ok(p) = cfg.get_path("core.hooksPath") {
        if p.is_absolute() {
            return Ok(p);
        }
        let base = repo.workdir().unwrap_or_else(|| repo.path());
        return Ok(base.join(p));
    }
    Ok(repo.commondir().join("hooks"))
}

/// The script for the binary at `bin`.
pub fn render(bin: &Path) -> String {
    TEMPLATE.replace("@WARDEN_BIN@", &bin.display().to_string().replace('\'', "'\\''"))
}

/// Installs the hook into `dir`, run by the binary at `bin`.
pub fn install(dir: &Path, bin: &Path) -> Result<Action> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let hook = dir.join("pre-commit");
    let script = render(bin);
    let existing = read_opt(&hook)?;
    let action = match existing {
        None => Action::Installed(hook.clone()),
        Some(text) if text.contains(MARKER) => {
            if text == script {
                return Ok(Action::Nothing(format!("{} is already up to date", hook.display())));
            }
            Action::Updated(hook.clone())
        }
        Some(_) => {
            let previous = dir.join(CHAINED);
            if previous.exists() {
                bail!(
                    "{} is not warden's and {} already exists; move one of them away first",
                    hook.display(),
                    previous.display()
                );
            }
            fs::rename(&hook, &previous)
                .with_context(|| format!("moving {} aside", hook.display()))?;
            Action::Chained { hook: hook.clone(), previous }
        }
    };
    write_executable(&hook, &script)?;
    Ok(action)
}

/// Removes warden's hook from `dir`, restoring a chained one. Refuses to remove a hook that
/// is not warden's, or warden's hook edited by someone, unless `force`.
pub fn uninstall(dir: &Path, force: bool) -> Result<Action> {
    let hook = dir.join("pre-commit");
    let Some(text) = read_opt(&hook)? else {
        return Ok(Action::Nothing(format!("no hook at {}", hook.display())));
    };
    if !text.contains(MARKER) {
        bail!("{} is not warden's hook; leaving it alone", hook.display());
    }
    if !force && !is_pristine(&text) {
        bail!(
            "{} was edited after warden installed it; remove it by hand or pass --force",
            hook.display()
        );
    }
    let previous = dir.join(CHAINED);
    if previous.exists() {
        fs::rename(&previous, &hook)
            .with_context(|| format!("restoring {}", previous.display()))?;
        return Ok(Action::Restored(hook));
    }
    fs::remove_file(&hook).with_context(|| format!("removing {}", hook.display()))?;
    Ok(Action::Removed(hook))
}

/// True when `text` is exactly what `render` produces for the binary path it names.
fn is_pristine(text: &str) -> bool {
    let Some(line) = text.lines().find(|l| l.starts_with("warden_bin='")) else {
        return false;
    };
    let quoted = &line["warden_bin='".len()..line.len() - 1];
    let bin = quoted.replace("'\\''", "'");
    render(Path::new(&bin)) == text
}

fn read_opt(path: &Path) -> Result<Option<String>> {
    match fs::read(path) {
        Ok(b) => Ok(Some(String::from_utf8_lossy(&b).into_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Writes through a temporary file and a rename, so a crash never leaves half a hook.
fn write_executable(path: &Path, text: &str) -> Result<()> {
    let tmp = path.with_extension("warden-tmp");
    fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&tmp, fs::Permissions::from_mode(0o755))?;
    }
    fs::rename(&tmp, path).with_context(|| format!("installing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_and_restore_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let hook = dir.path().join("pre-commit");
        fs::write(&hook, "#!/bin/sh\necho old\n").unwrap();
        let bin = Path::new("/opt/it's/warden");
        assert!(matches!(install(dir.path(), bin).unwrap(), Action::Chained { .. }));
        assert!(fs::read_to_string(&hook).unwrap().contains(MARKER));
        assert!(matches!(install(dir.path(), bin).unwrap(), Action::Nothing(_)));
        assert!(matches!(uninstall(dir.path(), false).unwrap(), Action::Restored(_)));
        assert_eq!(fs::read_to_string(&hook).unwrap(), "#!/bin/sh\necho old\n");
    }

    #[test]
    fn edited_hook_is_not_removed() {
        let dir = tempfile::tempdir().unwrap();
        install(dir.path(), Path::new("/bin/warden")).unwrap();
        let hook = dir.path().join("pre-commit");
        let mut text = fs::read_to_string(&hook).unwrap();
        text.push_str("echo mine\n");
        fs::write(&hook, text).unwrap();
        assert!(uninstall(dir.path(), false).is_err());
        assert!(matches!(uninstall(dir.path(), true).unwrap(), Action::Removed(_)));
    }
}
