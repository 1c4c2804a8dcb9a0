//! The `warden` binary: parses the command line, runs the app and maps the outcome to an
//! exit code (a closed stdout pipe counts as success).

use clap::Parser;
use warden::cli::Cli;
use warden::exit::Outcome;

fn main() {
    let cli = Cli::parse();
    let code = match warden::app::run(cli) {
        Ok(outcome) => outcome.code(),
        Err(e) if is_broken_pipe(&e) => Outcome::Clean.code(),
        Err(e) => {
            eprintln!("warden: error: {e:#}");
            Outcome::Error.code()
        }
    };
    std::process::exit(code);
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
