//! `dpm`: the command-line front end of the DPM boot-from-volume driver.

mod demo;
mod narrate;
mod table;

use std::error::Error;
use std::process::ExitCode;

const USAGE: &str = "\
usage: dpm <command>

commands:
  demo     boot a partition from a Cinder FCP volume, attach and detach a
           data volume, and destroy it, on an embedded simulated DPM world
  help     show this text

Operator commands against real or served endpoints (check, spawn, attach,
detach, destroy, list, info, resources) come with the HTTP clients.";

/// Prints an error and every cause under it.
fn report(e: &dyn Error) {
    eprintln!("error: {e}");
    let mut cause = e.source();
    while let Some(c) = cause {
        eprintln!("  because: {c}");
        cause = c.source();
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("demo") if args.len() == 1 => {
            // The paused clock jumps to the simulator's next transition
            // whenever the flow waits, so the demo takes real milliseconds.
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .start_paused(true)
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    report(&e);
                    return ExitCode::FAILURE;
                }
            };
            match rt.block_on(demo::run()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    report(e.as_ref());
                    ExitCode::FAILURE
                }
            }
        }
        Some("help" | "--help" | "-h") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
