//! The rough edges an operator meets, against `dpm-sim serve` in its own
//! process: a closed stdout in both binaries.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};

struct Served {
    child: Child,
    dir: PathBuf,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sim_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("DPM_SIM_BIN") {
        return p.into();
    }
    let dpm = PathBuf::from(env!("CARGO_BIN_EXE_dpm"));
    let sim = dpm.with_file_name(format!("dpm-sim{}", std::env::consts::EXE_SUFFIX));
    assert!(
        sim.exists(),
        "{} is not built: run `cargo build -p dpm-sim` (cargo xtask e2e does)",
        sim.display()
    );
    sim
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dpm-edges-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `dpm-sim serve --world z13` on free ports, with its control routes,
/// its state in a directory of its own.
fn serve(name: &str) -> Served {
    let dir = tmp(name);
    let mut child = Command::new(sim_binary())
        .args(["-q", "serve", "--world", "z13"])
        .args([
            "--hmc-port",
            "0",
            "--keystone-port",
            "0",
            "--cinder-port",
            "0",
        ])
        .args(["--notification-port", "0", "--control-port", "0"])
        .arg("--state-dir")
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.join("serve.log")).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with('{'), "not the JSON line: {line:?}");
    Served { child, dir }
}

impl Served {
    fn config(&self) -> PathBuf {
        self.dir.join("dpm.toml")
    }
}

fn dpm() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dpm"));
    c.env_remove("RUST_LOG").env_remove("DPM_CONFIG");
    for (k, _) in std::env::vars() {
        if k.starts_with("OS_") {
            c.env_remove(k);
        }
    }
    c
}

/// The write end of a pipe whose read end is already closed: a reader
/// that went away before anything was written (no race: the process that
/// held the read end has exited).
fn closed_pipe() -> Stdio {
    let mut t = Command::new("true").stdin(Stdio::piped()).spawn().unwrap();
    let w = t.stdin.take().unwrap();
    assert!(t.wait().unwrap().success());
    Stdio::from(w)
}

/// Runs `cmd` with its stdout into a reader that is gone, then into one
/// that reads the first line and goes (`| head -1`): never a panic; with
/// the reader gone before the first write, status 141 and nothing said.
fn closed_stdout_is_quiet(what: &str, mut make: impl FnMut() -> Command) {
    let out = make()
        .stdout(closed_pipe())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    assert_eq!(out.status.code(), Some(141), "{what}: {stderr}");
    assert_eq!(stderr.trim(), "", "{what}");

    let mut child = make()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(!first.is_empty(), "{what}: no first line");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status: ExitStatus = child.wait().unwrap();
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    // All of it may have fit in the pipe before the reader went.
    assert!(
        matches!(status.code(), Some(0 | 141)),
        "{what}: {status:?}: {stderr}"
    );
}

#[test]
fn a_closed_stdout_ends_either_binary_quietly() {
    let s = serve("stdout");
    let config = s.config();
    // Something to list.
    let o = dpm()
        .arg("--config")
        .arg(&config)
        .args(["--json", "volume", "create", "--name", "v", "--size", "1"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    closed_stdout_is_quiet("dpm completions bash", || {
        let mut c = dpm();
        c.args(["completions", "bash"]);
        c
    });
    closed_stdout_is_quiet("dpm list", || {
        let mut c = dpm();
        c.arg("--config").arg(&config).arg("list");
        c
    });
    closed_stdout_is_quiet("dpm --json volume list", || {
        let mut c = dpm();
        c.arg("--config")
            .arg(&config)
            .args(["--json", "volume", "list"]);
        c
    });
    closed_stdout_is_quiet("dpm volume list", || {
        let mut c = dpm();
        c.arg("--config").arg(&config).args(["volume", "list"]);
        c
    });
    closed_stdout_is_quiet("dpm-sim world -o json", || {
        let mut c = Command::new(sim_binary());
        c.args(["world", "-o", "json", "--state-dir"]).arg(&s.dir);
        c
    });
    closed_stdout_is_quiet("dpm-sim world", || {
        let mut c = Command::new(sim_binary());
        c.args(["world", "--state-dir"]).arg(&s.dir);
        c
    });
}
