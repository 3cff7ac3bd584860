//! The rough edges an operator meets, against `dpm-sim serve` in its own
//! process: a closed stdout in both binaries, a `--trace` path that
//! cannot be written, a strict configuration, and the modes of files that
//! hold secrets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};

use serde_json::Value;

struct Served {
    child: Child,
    endpoints: Value,
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
    let endpoints: Value =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not one JSON line: {line:?}: {e}"));
    Served {
        child,
        endpoints,
        dir,
    }
}

impl Served {
    /// `GET` a control route, as JSON.
    fn control(&self, path: &str) -> Value {
        let url = self.endpoints["control"]["url"].as_str().unwrap();
        let addr = url.strip_prefix("http://").unwrap();
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut reply = String::new();
        s.read_to_string(&mut reply).unwrap();
        let (_, body) = reply.split_once("\r\n\r\n").unwrap();
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{reply}: {e}"))
    }

    /// The HMC and Cinder requests served so far.
    fn requests(&self) -> (u64, u64) {
        let c = self.control("/sim/counters");
        let r = &c["requests"];
        (r["hmc"].as_u64().unwrap(), r["cinder"].as_u64().unwrap())
    }

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

/// A path under a directory that does not exist, and one that is a
/// directory: neither can be written.
fn unwritable(dir: &Path) -> [PathBuf; 2] {
    [dir.join("no-such-dir").join("run.mmd"), dir.to_path_buf()]
}

#[test]
fn an_unwritable_trace_is_a_usage_error_before_any_request() {
    let s = serve("trace");
    let config = s.config();
    let before = s.requests();
    let world = s.control("/sim/world");
    for trace in unwritable(&s.dir) {
        for args in [
            &["check"][..],
            &[
                "spawn",
                "--name",
                "t1",
                "--vcpus",
                "1",
                "--memory-mb",
                "1024",
                "--boot-volume",
                "6f1c1a51-5ff0-4ee4-8f88-c86b7d0a8c9e",
            ],
            &["volume", "create", "--name", "v", "--size", "1"],
        ] {
            for json in [false, true] {
                let mut c = dpm();
                c.arg("--config").arg(&config).arg("--trace").arg(&trace);
                if json {
                    c.arg("--json");
                }
                let o = c.args(args).output().unwrap();
                let stderr = String::from_utf8_lossy(&o.stderr);
                let stdout = String::from_utf8_lossy(&o.stdout);
                assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}{stdout}");
                let said = if json {
                    let v: Value = serde_json::from_str(stdout.trim()).unwrap();
                    assert_eq!(v["error"]["kind"], "usage", "{v}");
                    v["error"]["message"].as_str().unwrap().to_owned()
                } else {
                    assert_eq!(stdout, "");
                    stderr.into_owned()
                };
                assert!(
                    said.contains("--trace") && said.contains(&*trace.to_string_lossy()),
                    "{args:?}: {said}"
                );
            }
        }
    }
    assert_eq!(s.requests(), before, "a request was made");
    assert_eq!(s.control("/sim/world"), world, "the world changed");
}

/// A trace that fails when it is written, at the end (`/dev/full` opens,
/// and then refuses every byte), is a warning: the status and the output
/// are the operation's.
#[test]
fn a_trace_that_fails_at_the_end_is_a_warning() {
    let full = Path::new("/dev/full");
    if !full.exists() {
        eprintln!("skipped: no /dev/full on this system");
        return;
    }
    let s = serve("trace-late");
    let o = dpm()
        .arg("--config")
        .arg(s.config())
        .args(["--json", "--trace", "/dev/full", "check"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ok"], true, "{v}");
    assert!(
        stderr.contains("WARN") && stderr.contains("/dev/full") && stderr.contains("--trace"),
        "{stderr}"
    );
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// `dpm-sim serve` writes its files for its owner alone; `dpm` warns
/// about a configuration that holds a password and others can read,
/// naming the file and its mode (never the password).
#[test]
fn files_with_passwords_are_for_their_owner() {
    let s = serve("modes");
    for f in ["dpm.toml", "endpoints.json", "ca.pem"] {
        assert_eq!(mode(&s.dir.join(f)), 0o600, "{f}");
    }
    let check = |config: &Path| {
        let o = dpm()
            .arg("--config")
            .arg(config)
            .args(["--json", "check"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let stderr = check(&s.config());
    assert!(!stderr.contains("WARN"), "{stderr}");
    let open = s.dir.join("open.toml");
    std::fs::copy(s.config(), &open).unwrap();
    for m in [0o644, 0o640, 0o604] {
        set_mode(&open, m);
        let stderr = check(&open);
        assert!(
            stderr.contains("WARN")
                && stderr.contains(&*open.to_string_lossy())
                && stderr.contains(&format!("mode=0{m:o}")),
            "{m:o}: {stderr}"
        );
        let password = s.endpoints["hmc"]["password"].as_str().unwrap();
        assert!(!stderr.contains(password));
    }
    // No password in the file (the HMC's and Cinder's from the
    // environment), nothing to warn about.
    let text = std::fs::read_to_string(s.config()).unwrap();
    let (dpm_part, _cinder) = text.split_once("[cinder]").unwrap();
    let without: String = dpm_part
        .lines()
        .filter(|l| !l.starts_with("hmc_password"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&open, without).unwrap();
    set_mode(&open, 0o644);
    let k = &s.endpoints["keystone"];
    let o = dpm()
        .arg("--config")
        .arg(&open)
        .args(["--json", "volume", "list"])
        .env(
            "DPM_HMC_PASSWORD",
            s.endpoints["hmc"]["password"].as_str().unwrap(),
        )
        .env("OS_AUTH_URL", k["auth_url"].as_str().unwrap())
        .env("OS_USERNAME", k["username"].as_str().unwrap())
        .env("OS_PASSWORD", k["password"].as_str().unwrap())
        .env("OS_PROJECT_NAME", k["project_name"].as_str().unwrap())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success(),
        "{stderr}{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(!stderr.contains("WARN"), "{stderr}");
}

/// A configuration `dpm` does not read is refused before any request,
/// kind `config`, naming the section and key (with a suggestion for a
/// near miss) and what is expected.
#[test]
fn a_wrong_configuration_is_refused_before_any_request() {
    let s = serve("strict");
    let good = std::fs::read_to_string(s.config()).unwrap();
    let before = s.requests();
    let bad = s.dir.join("bad.toml");
    let replace = |key: &str, line: &str| -> String {
        let mut found = false;
        let out: Vec<String> = good
            .lines()
            .map(|l| {
                if l.starts_with(&format!("{key} =")) {
                    found = true;
                    line.to_owned()
                } else {
                    l.to_owned()
                }
            })
            .collect();
        assert!(found, "{key}");
        out.join("\n") + "\n"
    };
    for (text, said) in [
        (
            format!("hmc_pasword = \"x\"\n{good}"),
            "key hmc_pasword is outside any section (a key above the first [section] header belongs to none); did you mean hmc_password in [dpm]?",
        ),
        (format!("{good}\n[extra]\nx = 1\n"), "unknown section [extra]"),
        (
            good.replace("[cinder]", "[cindr]"),
            "unknown section [cindr]; did you mean [cinder]?",
        ),
        (
            replace("max_processors", "max_processors = \"8\""),
            "[dpm] max_processors must be an integer from 1 to 4294967295",
        ),
        (
            replace("max_memory", "max_memory = 100"),
            "[dpm] max_memory is 100, out of range: it must be an integer from 512",
        ),
        (
            replace(
                "physical_storage_adapter_mappings",
                "physical_storage_adapter_mappings = \"x:0\"",
            )
            .replace("\n  \"", "\n# \"")
            .replace("\n]\n", "\n"),
            "[dpm] physical_storage_adapter_mappings must be a list of",
        ),
        (
            good.replace("[hmc]\n", "[hmc]\nsystem_roots = 1\n"),
            "[hmc] system_roots must be true or false, not an integer",
        ),
        (
            replace("notification_port", "notification_port = 65536"),
            "[hmc] notification_port is 65536, out of range: it must be an integer from 0 to 65535",
        ),
        (
            replace("hmc", "hmc = \"https://127.0.0.1:99999\""),
            "[dpm] hmc is not usable: its port is not a number from 1 to 65535",
        ),
        (
            replace("auth_url", "auth_url = \"127.0.0.1:5000/v3\""),
            "[cinder] auth_url is not usable",
        ),
    ] {
        std::fs::write(&bad, &text).unwrap();
        set_mode(&bad, 0o600);
        let o = dpm()
            .arg("--config")
            .arg(&bad)
            .args(["--json", "list"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1));
        let v: Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
        assert_eq!(v["error"]["kind"], "config", "{v}");
        let message = v["error"]["message"].as_str().unwrap();
        assert!(message.starts_with(said), "{message}\nnot\n{said}");
        assert!(message.contains(&*bad.to_string_lossy()), "{message}");
        for p in [&s.endpoints["hmc"]["password"], &s.endpoints["keystone"]["password"]] {
            assert!(!v.to_string().contains(p.as_str().unwrap()), "{v}");
        }
    }
    assert_eq!(s.requests(), before, "a request was made");
}
