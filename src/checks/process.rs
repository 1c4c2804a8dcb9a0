//! One command of a check as an operating-system process: spawned in a process group of its
//! own, stdin closed, stdout and stderr captured together (in order) in an unnamed temporary
//! file; killing that whole group; and splitting paths into batches that fit the system's
//! real argument-size limit. Knows nothing of scheduling or reporting.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Read, Seek};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};

use rustix::process::{Pid, Signal};

/// Output kept per command (the rest is counted, not shown).
pub const OUTPUT_CAP: u64 = 1024 * 1024;

/// A started command.
pub struct Running {
    /// The process (leader of its own group, so its pid is the group id).
    pub child: Child,
    /// Where stdout and stderr go.
    pub output: File,
}

/// Starts `argv` in `cwd` with `env` added, in a new process group.
pub fn spawn(argv: &[OsString], cwd: &Path, env: &BTreeMap<String, String>) -> io::Result<Running> {
    let output = tempfile::tempfile()?;
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .current_dir(cwd)
        .envs(env)
        .stdin(Stdio::null())
        .stdout(output.try_clone()?)
        .stderr(output.try_clone()?)
        .process_group(0);
    let child = cmd.spawn()?;
    Ok(Running { child, output })
}

/// Sends `sig` to every process of the group led by `pgid` (errors mean it is gone).
pub fn kill_group(pgid: u32, sig: Signal) {
    if let Some(pid) = i32::try_from(pgid).ok().and_then(Pid::from_raw) {
        let _ = rustix::process::kill_process_group(pid, sig);
    }
}

/// Reads up to [`OUTPUT_CAP`] bytes of captured output, noting how much was left out.
pub fn read_output(mut file: File) -> Vec<u8> {
    let mut out = Vec::new();
    let total = file.seek(io::SeekFrom::End(0)).unwrap_or(0);
    if file.rewind().is_ok() {
        let _ = (&mut file).take(OUTPUT_CAP).read_to_end(&mut out);
    }
    if total > OUTPUT_CAP {
        let more = total - OUTPUT_CAP;
        out.extend_from_slice(format!("\n[… {more} more bytes of output not shown]\n").as_bytes());
    }
    out
}

/// "exit status 1", "killed by signal 9 (SIGKILL)".
pub fn describe(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    match status.signal() {
        Some(sig) => format!("killed by signal {sig}{}", signal_name(sig)),
        None => status.to_string(),
    }
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        1 => " (SIGHUP)",
        2 => " (SIGINT)",
        6 => " (SIGABRT)",
        9 => " (SIGKILL)",
        11 => " (SIGSEGV)",
        13 => " (SIGPIPE)",
        15 => " (SIGTERM)",
        _ => "",
    }
}

/// The kernel's limit on the total size of arguments and environment for one `exec`.
pub fn arg_max() -> usize {
    #[cfg(target_os = "linux")]
    {
        // NOTE: Linux allows a quarter of the stack limit, capped at 6 MiB (¾ of _STK_LIM)
        // and never below 128 KiB (fs/exec.c); that is also what sysconf(_SC_ARG_MAX) says.
        let stack = rustix::process::getrlimit(rustix::process::Resource::Stack).current;
        let quarter = stack.map_or(usize::MAX, |s| usize::try_from(s / 4).unwrap_or(usize::MAX));
        quarter.clamp(128 * 1024, 6 * 1024 * 1024)
    }
    #[cfg(not(target_os = "linux"))]
    {
        256 * 1024
    }
}

/// What one word costs on the new process's stack: its bytes, a NUL and a pointer.
pub fn word_cost(w: &OsStr) -> usize {
    w.len() + 1 + std::mem::size_of::<usize>()
}

/// The bytes left for paths once the environment and the fixed words are counted.
pub fn path_budget(base: &[String], env: &BTreeMap<String, String>) -> usize {
    let inherited: usize = std::env::vars_os()
        .filter(|(k, _)| k.to_str().is_none_or(|k| !env.contains_key(k)))
        .map(|(k, v)| k.len() + v.len() + 2 + std::mem::size_of::<usize>())
        .sum();
    let added: usize = env.iter().map(|(k, v)| k.len() + v.len() + 10).sum();
    let fixed: usize = base.iter().map(|w| word_cost(OsStr::new(w))).sum();
    // NOTE: the margin covers the program path the kernel copies and the auxiliary vector.
    arg_max().saturating_sub(inherited + added + fixed + 8 * 1024)
}

/// Splits `paths` into consecutive batches whose words cost at most `budget` each (a path
/// too long for any batch still gets a batch of its own).
pub fn batches(paths: Vec<OsString>, budget: usize) -> Vec<Vec<OsString>> {
    let mut out: Vec<Vec<OsString>> = Vec::new();
    let mut used = 0;
    for p in paths {
        let cost = word_cost(&p);
        match out.last_mut() {
            Some(last) if used + cost <= budget => last.push(p),
            _ => {
                out.push(vec![p]);
                used = 0;
            }
        }
        used += cost;
    }
    out
}

/// True for the error `exec` gives when the arguments are too long.
pub fn is_too_big(e: &io::Error) -> bool {
    e.raw_os_error() == Some(7)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_respect_budget_and_order() {
        let paths: Vec<OsString> = (0..100).map(|i| OsString::from(format!("f{i:03}"))).collect();
        let cost = word_cost(OsStr::new("f000"));
        let b = batches(paths.clone(), cost * 30);
        assert_eq!(b.len(), 4);
        assert!(b.iter().all(|x| x.len() <= 30));
        assert_eq!(b.concat(), paths);
        assert_eq!(batches(vec!["x".into()], 0).len(), 1);
    }

    #[test]
    fn arg_max_is_sane() {
        let m = arg_max();
        assert!((128 * 1024..=6 * 1024 * 1024).contains(&m), "{m}");
    }

    #[test]
    fn captures_both_streams_in_order() {
        let argv: Vec<OsString> =
            ["sh", "-c", "echo out; echo err >&2; exit 3"].iter().map(OsString::from).collect();
        let mut r = spawn(&argv, Path::new("."), &BTreeMap::new()).unwrap();
        let st = r.child.wait().unwrap();
        assert_eq!(describe(st), "exit status 3");
        assert_eq!(read_output(r.output), b"out\nerr\n");
    }
}
