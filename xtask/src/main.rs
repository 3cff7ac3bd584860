//! `cargo xtask <task>`: the project's automation, with no dependencies.
//!
//! - `ci`: format check, the virt driver built alone (no HTTP stack, no
//!   `CinderApi`), clippy with `-D warnings`, the API docs with
//!   rustdoc's `-D warnings`, every test, then `e2e`, `nova` and `chaos`.
//! - `e2e`: the end-to-end scenarios on the in-memory simulator, the same
//!   scenarios through the `dpm` CLI against `dpm-sim serve` in its own
//!   process, the demo, and the third-party conformance check (the public
//!   Python clients zhmcclient and python-cinderclient against
//!   `dpm-sim serve`; skipped, saying why, when Python or the package index
//!   cannot be reached).
//! - `nova`: the dpm-nova wheel built and installed into the environment,
//!   then Nova's own functional machinery on `dpm.DPMDriver` against
//!   `dpm-sim serve` on z16 and z13, and ten spawns from ten threads at
//!   once.
//! - `wheel`: the dpm-nova wheel, optimized, for compute nodes.
//! - `demo`: `dpm demo` in release mode.
//! - `bench [--json]`: request counts and timings per driver operation, and
//!   hmc-client against zhmcclient over HTTPS.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};

const USAGE: &str = "usage: cargo xtask <ci | e2e | nova | wheel | demo | bench [--json] | chaos [--seed S] [--ops N] [--fault-rate P] [--json]>";

fn root() -> PathBuf {
    // xtask lives one level below the workspace root.
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(PathBuf::from).unwrap_or(here)
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    c.current_dir(root());
    c
}

/// Runs a cargo command, echoing it; false when it fails.
fn run(args: &[&str]) -> bool {
    eprintln!("xtask: cargo {}", args.join(" "));
    match cargo().args(args).status() {
        Ok(s) => s.success(),
        Err(e) => {
            eprintln!("xtask: could not run cargo: {e}");
            false
        }
    }
}

/// Runs `cmd` to its end, or kills it after `limit` (a hung peer, e.g. a
/// deadlock in Nova's test fixtures, fails the step instead of holding
/// CI until its own timeout); true when it ran and succeeded.
fn finishes(cmd: &mut Command, what: &str, limit: std::time::Duration) -> bool {
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("xtask: could not run {what}: {e}");
            return false;
        }
    };
    let start = std::time::Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) if start.elapsed() < limit => {
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            Ok(None) => {
                eprintln!(
                    "xtask: {what} did not finish within {} s; killed",
                    limit.as_secs()
                );
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
            Err(e) => {
                eprintln!("xtask: {what}: {e}");
                return false;
            }
        }
    }
}

/// How long a Python check may run (several times its usual length).
const PYTHON_LIMIT: std::time::Duration = std::time::Duration::from_secs(600);

/// `cargo doc` of the workspace's own crates, the client crates' mocks
/// included, failing on any rustdoc warning (a broken intra-doc link, a
/// bare URL, unclosed HTML).
fn docs() -> bool {
    let args = [
        "doc",
        "--workspace",
        "--no-deps",
        "--quiet",
        "--features",
        "hmc-client/mock,cinder-client/mock",
    ];
    eprintln!(
        "xtask: RUSTDOCFLAGS=\"-D warnings\" cargo {}",
        args.join(" ")
    );
    match cargo()
        .args(args)
        .env("RUSTDOCFLAGS", "-D warnings")
        .status()
    {
        Ok(s) => s.success(),
        Err(e) => {
            eprintln!("xtask: could not run cargo: {e}");
            false
        }
    }
}

/// Runs a cargo command and returns its stdout.
fn capture(args: &[&str], env: &[(&str, &Path)]) -> Option<String> {
    eprintln!("xtask: cargo {}", args.join(" "));
    let mut c = cargo();
    c.args(args).stderr(Stdio::inherit());
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The virtual environment under the target directory, made once per
/// process (a thread may start it early: see [`ci`]).
fn python_env() -> Result<PathBuf, String> {
    static ENV: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    ENV.get_or_init(make_python_env).clone()
}

/// A virtual environment with the third-party clients and Nova pinned in
/// `xtask/python/requirements.txt` (every package held at the version of
/// `constraints.txt`), made under the target directory and made again
/// when either file changes. Err says why it cannot be had.
fn make_python_env() -> Result<PathBuf, String> {
    let venv = target_dir().join("xtask-venv");
    let python = venv.join("bin").join("python");
    let requirements = root().join("xtask/python/requirements.txt");
    let constraints = root().join("xtask/python/constraints.txt");
    let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
    let wanted = format!("{}{}", read(&requirements)?, read(&constraints)?);
    let stamp = venv.join("requirements.installed");
    let has = |py: &Path| {
        Command::new(py)
            .args([
                "-c",
                "import zhmcclient, zhmccli, cinderclient, keystoneauth1, nova, placement, maturin",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let current = std::fs::read_to_string(&stamp).is_ok_and(|s| s == wanted);
    if python.exists() && current && has(&python) {
        return Ok(python);
    }
    let made = Command::new("python3")
        .arg("-m")
        .arg("venv")
        .arg("--clear")
        .arg(&venv)
        .stdout(Stdio::null())
        .status();
    if !made.is_ok_and(|s| s.success()) {
        return Err("Python 3 with the venv module is not available".into());
    }
    eprintln!(
        "xtask: installing the pinned third-party clients and Nova ({}) into {}",
        requirements.display(),
        venv.display()
    );
    let pip = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--timeout",
            "30",
            "--retries",
            "2",
            "-r",
        ])
        .arg(&requirements)
        .arg("-c")
        .arg(&constraints)
        .status();
    if !pip.is_ok_and(|s| s.success()) || !has(&python) {
        return Err(
            "the pinned third-party clients could not be installed from the package index".into(),
        );
    }
    std::fs::write(&stamp, wanted).map_err(|e| e.to_string())?;
    Ok(python)
}

/// Builds the dpm-nova wheel with the environment's maturin (`release`:
/// optimized, for operators; else the dev profile, which shares the
/// workspace's build) and returns its path.
fn wheel(python: &Path, release: bool) -> Result<PathBuf, String> {
    let out = target_dir()
        .join("wheels")
        .join(if release { "release" } else { "dev" });
    let _ = std::fs::remove_dir_all(&out);
    let mut c = Command::new(python.with_file_name("maturin"));
    c.current_dir(root())
        .args(["build", "--quiet", "--manifest-path", "dpm-nova/Cargo.toml"]);
    if release {
        c.arg("--release");
    } else {
        c.args(["--profile", "dev"]);
    }
    c.arg("--out").arg(&out);
    // maturin's cargo is this cargo, on the same target directory.
    if let Some(cargo) = std::env::var_os("CARGO") {
        c.env("CARGO", cargo);
    }
    eprintln!("xtask: maturin build of dpm-nova into {}", out.display());
    if !c.status().is_ok_and(|s| s.success()) {
        return Err("maturin could not build the dpm-nova wheel".into());
    }
    std::fs::read_dir(&out)
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or_else(|| format!("maturin left no wheel in {}", out.display()))
}

/// `cargo xtask wheel`: the release wheel, for `pip install` on a
/// compute node.
fn wheel_task() -> bool {
    match python_env().and_then(|py| wheel(&py, true)) {
        Ok(w) => {
            println!("{}", w.display());
            true
        }
        Err(e) => {
            eprintln!("xtask: {e}");
            false
        }
    }
}

/// The dpm-nova wheel (dev profile) built and installed into the
/// environment, and `dpm_nova` importable from it.
fn install_dpm_nova(python: &Path) -> bool {
    if !built() {
        return false;
    }
    let wheel = match wheel(python, false) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("xtask: {e}");
            return false;
        }
    };
    let installed = Command::new(python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--force-reinstall",
        ])
        .arg(&wheel)
        .status()
        .is_ok_and(|s| s.success());
    let imports = installed
        && Command::new(python)
            .args([
                "-c",
                "import dpm_nova, nova.virt.dpm; print(dpm_nova.DPMDriver)",
            ])
            .status()
            .is_ok_and(|s| s.success());
    if !imports {
        eprintln!("xtask: the dpm-nova wheel did not install or import");
    }
    imports
}

/// A Python script or test module of `xtask/python` against a served
/// world; its output goes to `log` (kept for when it fails).
fn python_against(
    python: &Path,
    args: &[&str],
    world: &str,
    endpoints: &Path,
    log: &Path,
) -> Command {
    let mut c = Command::new(python);
    c.current_dir(root().join("xtask/python"))
        .args(args)
        .env("DPM_SIM_ENDPOINTS", endpoints)
        .env("DPM_SIM_WORLD", world)
        // Nova's dependencies warn of their own deprecations at import.
        .env("PYTHONWARNINGS", "ignore");
    if let Ok(f) = std::fs::File::create(log) {
        if let Ok(g) = f.try_clone() {
            c.stdout(Stdio::from(f)).stderr(Stdio::from(g));
        }
    }
    c
}

/// `cargo xtask nova`: the dpm-nova wheel installed into the environment,
/// then on each world at once (one `dpm-sim serve` each) Nova's own
/// functional machinery on `compute_driver = dpm.DPMDriver`
/// (`nova_functional.py`), the driver's edges without Nova's services
/// (`nova_driver.py`), and ten spawns from ten threads at once with 20 ms
/// per request (`nova_threads.py`).
fn nova() -> bool {
    let python = match python_env() {
        Ok(p) => p,
        Err(why) => {
            eprintln!("xtask: Nova scenarios SKIPPED: {why}");
            return true;
        }
    };
    if !install_dpm_nova(&python) {
        return false;
    }
    // Nova 34 runs its services on eventlet unless told otherwise, and is
    // moving to native threads: one world each, so both modes are proven
    // at no extra time.
    let worlds: [(&'static str, Concurrency); 2] = [
        ("z16", Concurrency::Eventlet),
        ("z13", Concurrency::Threading),
    ];
    let runs: Vec<_> = worlds
        .into_iter()
        .map(|(world, mode)| {
            let python = python.clone();
            std::thread::spawn(move || nova_on(&python, world, mode))
        })
        .collect();
    let mut ok = true;
    for ((world, mode), run) in worlds.iter().zip(runs) {
        match run.join() {
            Ok(Ok(ratio)) => {
                eprintln!(
                    "xtask: Nova on {world} ({}): passed; ten spawns at once {ratio}",
                    mode.name()
                )
            }
            Ok(Err(e)) => {
                eprintln!("xtask: Nova on {world}: {e}");
                ok = false;
            }
            Err(_) => ok = false,
        }
    }
    ok
}

/// How Nova's services run concurrent work.
#[derive(Clone, Copy)]
enum Concurrency {
    /// Monkey-patched greenthreads (Nova 34's default); the driver's Rust
    /// calls go through eventlet's thread pool.
    Eventlet,
    /// Native threads (`OS_NOVA_DISABLE_EVENTLET_PATCHING`).
    Threading,
}

impl Concurrency {
    fn name(self) -> &'static str {
        match self {
            Concurrency::Eventlet => "eventlet",
            Concurrency::Threading => "native threads",
        }
    }
}

/// The Nova scenarios and the ten-thread spawn on one world; the
/// ten-thread run's figures, or what failed and where its log is.
fn nova_on(python: &Path, world: &str, mode: Concurrency) -> Result<String, String> {
    let (child, endpoints) = serve_with(&format!("nova-{world}"), world, &["--control-port", "0"])?;
    let dir = target_dir().join(format!("xtask-nova-{world}"));
    let (flog, tlog) = (
        dir.join("nova_functional.log"),
        dir.join("nova_threads.log"),
    );
    eprintln!(
        "xtask: Nova ({}) on dpm.DPMDriver against dpm-sim serve --world {world} (log: {})",
        mode.name(),
        flog.display()
    );
    let mut functional = python_against(
        python,
        &["-m", "unittest", "-v", "nova_functional"],
        world,
        &endpoints,
        &flog,
    );
    if let Concurrency::Threading = mode {
        functional.env("OS_NOVA_DISABLE_EVENTLET_PATCHING", "true");
    }
    let functional = finishes(&mut functional, "nova_functional", PYTHON_LIMIT);
    let elog = dir.join("nova_driver.log");
    let edges = functional
        && finishes(
            &mut python_against(
                python,
                &["-m", "unittest", "-v", "nova_driver"],
                world,
                &endpoints,
                &elog,
            ),
            "nova_driver",
            PYTHON_LIMIT,
        );
    let threads = edges
        && finishes(
            &mut python_against(
                python,
                &["nova_threads.py", &endpoints.to_string_lossy()],
                world,
                &endpoints,
                &tlog,
            ),
            "nova_threads",
            PYTHON_LIMIT,
        );
    stop(child);
    let tail = |log: &Path| {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    };
    if !functional {
        return Err(format!(
            "the Nova scenarios failed; the end of {}:\n{}\n(the simulator's log: {})",
            flog.display(),
            tail(&flog),
            dir.join("serve.log").display()
        ));
    }
    if !edges {
        return Err(format!(
            "the driver's edges failed; the end of {}:\n{}",
            elog.display(),
            tail(&elog)
        ));
    }
    if !threads {
        return Err(format!(
            "ten spawns at once failed; the end of {}:\n{}",
            tlog.display(),
            tail(&tlog)
        ));
    }
    Ok(std::fs::read_to_string(&tlog)
        .unwrap_or_default()
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or_default()
        .to_owned())
}

/// `cargo xtask bench`'s Nova part: `nova_bench.py` on each world, served
/// with the worlds' own job lengths (a partition start 3 s, discovery
/// 5 s); the JSON object it writes, or None when it cannot run.
fn nova_bench(python: &Path) -> Option<String> {
    if !install_dpm_nova(python) {
        return None;
    }
    let out = target_dir().join("xtask-nova-bench.json");
    let _ = std::fs::remove_file(&out);
    for world in ["z16", "z13"] {
        let (child, endpoints) = serve_with(
            &format!("nova-bench-{world}"),
            world,
            &["--control-port", "0", "--real-jobs"],
        )
        .ok()?;
        let log = target_dir().join(format!("xtask-nova-bench-{world}/nova_bench.log"));
        let ok = python_against(
            python,
            &["-m", "unittest", "nova_bench"],
            world,
            &endpoints,
            &log,
        )
        .env("DPM_NOVA_BENCH_OUT", &out)
        .status()
        .is_ok_and(|s| s.success());
        stop(child);
        if !ok {
            eprintln!(
                "xtask: the Nova benchmark failed on {world} (log: {})",
                log.display()
            );
            return None;
        }
    }
    std::fs::read_to_string(&out).ok()
}

/// `dpm-sim serve` on free ports with fast transitions, with extra
/// arguments (e.g. `--control-port 0`); returns the child and the
/// endpoints file once it is ready.
fn serve_with(name: &str, world: &str, extra: &[&str]) -> Result<(Child, PathBuf), String> {
    let dir = target_dir().join(format!("xtask-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let text = std::fs::read_to_string(root().join(format!("dpm-sim/worlds/{world}.toml")))
        .map_err(|e| e.to_string())?;
    let world = if extra.contains(&"--real-jobs") {
        text
    } else {
        text.replace("partition_start_ms = 3000", "partition_start_ms = 300")
            .replace("partition_stop_ms = 1500", "partition_stop_ms = 200")
            .replace("guest_shutdown_ms = 4000", "guest_shutdown_ms = 200")
            .replace("volume_create_ms = 2000", "volume_create_ms = 200")
            .replace("discovery_ms = 5000", "discovery_ms = 300")
    };
    // The chaos run needs no realistic waits at all.
    let world = if extra.contains(&"--instant") {
        world
            .replace("partition_start_ms = 300", "partition_start_ms = 0")
            .replace("partition_stop_ms = 200", "partition_stop_ms = 0")
            .replace("guest_shutdown_ms = 200", "guest_shutdown_ms = 0")
            .replace("volume_create_ms = 200", "volume_create_ms = 0")
            .replace("volume_delete_ms = 500", "volume_delete_ms = 0")
            .replace("discovery_ms = 300", "discovery_ms = 0")
    } else {
        world
    };
    let extra: Vec<&str> = extra
        .iter()
        .copied()
        .filter(|a| *a != "--instant" && *a != "--real-jobs")
        .collect();
    std::fs::write(dir.join("world.toml"), world).map_err(|e| e.to_string())?;
    let bin = target_dir().join("debug").join("dpm-sim");
    let mut child = Command::new(&bin)
        .args([
            "serve",
            "--hmc-port",
            "0",
            "--keystone-port",
            "0",
            "--cinder-port",
            "0",
            "--notification-port",
            "0",
            "--world",
        ])
        .arg(dir.join("world.toml"))
        .arg("--state-dir")
        .arg(&dir)
        .args(&extra)
        .stdout(Stdio::piped())
        // The request log, one line per request, for when a run fails.
        .stderr(
            std::fs::File::create(dir.join("serve.log"))
                .map(Stdio::from)
                .unwrap_or_else(|_| Stdio::null()),
        )
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = BufReader::new(out).read_line(&mut line);
    }
    if line.trim().is_empty() {
        let _ = child.kill();
        return Err(format!(
            "dpm-sim serve printed no endpoints (its log: {})",
            dir.join("serve.log").display()
        ));
    }
    Ok((child, dir.join("endpoints.json")))
}

fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

/// One third-party script against `dpm-sim serve` on a named world.
fn third_party_on(python: &Path, script: &str, world: &str) -> bool {
    third_party_with(python, script, world, &[])
}

/// [`third_party_on`] with more `dpm-sim serve` options.
fn third_party_with(python: &Path, script: &str, world: &str, extra: &[&str]) -> bool {
    let (child, endpoints) = match serve_with(&format!("third-party-{world}"), world, extra) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("xtask: {e}");
            return false;
        }
    };
    eprintln!("xtask: third-party conformance ({script}) against dpm-sim serve --world {world}");
    let ok = finishes(
        Command::new(python)
            .arg(root().join("xtask/python").join(script))
            .arg(&endpoints),
        script,
        PYTHON_LIMIT,
    );
    stop(child);
    ok
}

fn third_party() -> bool {
    let python = match python_env() {
        Ok(p) => p,
        Err(why) => {
            eprintln!("xtask: third-party conformance SKIPPED: {why}");
            return true;
        }
    };
    // The demo's drawing rendered by seqdiag; vHBAs on a z13; Cinder's
    // rules on a z13; storage groups on a z16; what other tools expect of
    // an HMC (console, property lists, filters, OS messages, inventory
    // notifications, CPC-made statuses through the control route) on a
    // z16; zhmccli on a z13.
    render_diagram(&python)
        && third_party_on(&python, "third_party.py", "z13")
        && third_party_on(&python, "third_party_cinder.py", "z13")
        && third_party_on(&python, "third_party_groups.py", "z16")
        && third_party_with(
            &python,
            "third_party_fidelity.py",
            "z16",
            &["--control-port", "0"],
        )
        && third_party_cli(&python)
}

/// zhmccli has no port option: its check needs the HMC on 6794, and is
/// skipped, saying so, when that port is taken.
fn third_party_cli(python: &Path) -> bool {
    if std::net::TcpListener::bind(("127.0.0.1", 6794)).is_err() {
        eprintln!(
            "xtask: zhmccli conformance SKIPPED: port 6794 is in use (zhmccli cannot use another)"
        );
        return true;
    }
    let (child, endpoints) = match serve_with("third-party-cli", "z13", &["--hmc-port", "6794"]) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("xtask: {e}");
            return false;
        }
    };
    eprintln!("xtask: third-party conformance (zhmccli) against dpm-sim serve --world z13");
    let zhmc = python.with_file_name("zhmc");
    let ok = Command::new(python)
        .arg(root().join("xtask/python/third_party_cli.py"))
        .arg(&endpoints)
        .arg(&zhmc)
        .status()
        .is_ok_and(|s| s.success());
    stop(child);
    ok
}

/// Everything the tasks run (the `dpm` and `dpm-sim` binaries, the chaos
/// example, the test binaries) built as `ci`'s test step builds them: one
/// set of features for the whole workspace, so that no task builds the
/// workspace again with another (a `-p` build unifies features apart).
fn built() -> bool {
    run(&[
        "test",
        "--workspace",
        "--features",
        "dpm-cli/demo",
        "--no-run",
        "--quiet",
    ])
}

/// A binary of the workspace, as [`built`] left it.
fn binary(name: &str) -> PathBuf {
    target_dir()
        .join("debug")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// `cargo xtask e2e`: the end-to-end tests (which `ci`'s test step has
/// run already), then [`e2e_runs`].
fn e2e() -> bool {
    built()
        && run(&[
            "test",
            "--workspace",
            "--features",
            "dpm-cli/demo",
            "--test",
            "all",
            "--",
            "scenarios::",
            "models::",
            "legacy::",
        ])
        && run(&[
            "test",
            "--workspace",
            "--features",
            "dpm-cli/demo",
            "--test",
            "e2e",
        ])
        && e2e_runs()
}

/// The demo on both worlds and the third-party conformance checks, on
/// the binaries [`built`] made.
fn e2e_runs() -> bool {
    built()
        && demo("z16", &diagram())
        && demo("z13", &target_dir().join("xtask-demo/run.mmd"))
        && third_party()
}

/// Where the z16 demo draws its run (seqdiag), for the rendering check.
fn diagram() -> PathBuf {
    target_dir().join("xtask-demo/run.diag")
}

/// `dpm demo` on a world, drawing its requests to `trace`.
fn demo(world: &str, trace: &Path) -> bool {
    if let Some(dir) = trace.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    eprintln!(
        "xtask: dpm demo --world {world} --trace {}",
        trace.display()
    );
    Command::new(binary("dpm"))
        .args(["demo", "--world", world, "--trace"])
        .arg(trace)
        .status()
        .is_ok_and(|s| s.success())
}

/// The demo's seqdiag drawing, rendered by seqdiag itself (SVG): the
/// picture of a run must render, not only look right.
fn render_diagram(python: &Path) -> bool {
    let (input, svg) = (diagram(), diagram().with_extension("svg"));
    eprintln!("xtask: rendering {} with seqdiag", input.display());
    let rendered = Command::new(python.with_file_name("seqdiag"))
        .args(["-Tsvg", "-o"])
        .arg(&svg)
        .arg(&input)
        .status()
        .is_ok_and(|s| s.success());
    let text = std::fs::read_to_string(&svg).unwrap_or_default();
    let ok = rendered
        && ["nova-driver", "HMC", "cinder", "storage"]
            .iter()
            .all(|p| text.contains(p));
    if !ok {
        eprintln!(
            "xtask: seqdiag did not render {} with its participants",
            input.display()
        );
    }
    ok
}

/// `cargo xtask chaos`: random operations with seeded faults on both
/// models, across processes; fails on any leak and prints the seed.
fn chaos(args: &[&str]) -> bool {
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(1);
    let (mut ops, mut rate, mut json) = ("200".to_owned(), "0.05".to_owned(), false);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match (*a, it.clone().next()) {
            ("--json", _) => json = true,
            ("--seed", Some(v)) => {
                seed = v.parse().unwrap_or(seed);
                it.next();
            }
            ("--ops", Some(v)) => {
                ops = (*v).to_owned();
                it.next();
            }
            ("--fault-rate", Some(v)) => {
                rate = (*v).to_owned();
                it.next();
            }
            _ => {
                eprintln!("{USAGE}");
                return false;
            }
        }
    }
    eprintln!("xtask: chaos with seed {seed} ({ops} operations, fault rate {rate}); replay with --seed {seed}");
    if !built() {
        return false;
    }
    let bin = target_dir().join("debug").join("examples").join("chaos");
    let mut results = Vec::new();
    let mut ok = true;
    for world in ["z13", "z16"] {
        let (child, endpoints) = match serve_with(
            &format!("chaos-{world}"),
            world,
            &["--control-port", "0", "--instant"],
        ) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("xtask: {e}");
                return false;
            }
        };
        let out = Command::new(&bin)
            .arg(&endpoints)
            .args([
                "--seed",
                &seed.to_string(),
                "--ops",
                &ops,
                "--fault-rate",
                &rate,
            ])
            .stderr(Stdio::inherit())
            .output();
        stop(child);
        match out {
            Ok(o) => {
                let text = String::from_utf8_lossy(&o.stdout).trim().to_owned();
                if !o.status.success() {
                    eprintln!("xtask: chaos on {world} failed (seed {seed}): {text}");
                    ok = false;
                }
                results.push(format!(
                    "\"{world}\": {}",
                    if text.is_empty() { "null" } else { &text }
                ));
            }
            Err(e) => {
                eprintln!("xtask: cannot run {}: {e}", bin.display());
                return false;
            }
        }
    }
    if json {
        println!("{{{}}}", results.join(", "));
    } else {
        for r in &results {
            println!("{r}");
        }
    }
    ok
}

/// The virt driver talks to the HMC alone: `dpm-driver` builds on its
/// own, its dependency tree holds no HTTP stack, no simulator and no
/// client's `http` feature, and its sources never name `CinderApi`.
fn driver_alone() -> bool {
    if !run(&["check", "-p", "dpm-driver", "--quiet"]) {
        return false;
    }
    let Some(tree) = capture(
        &[
            "tree",
            "-p",
            "dpm-driver",
            "-e",
            "normal,features",
            "--prefix",
            "none",
        ],
        &[],
    ) else {
        return false;
    };
    let forbidden = ["reqwest", "hyper", "rustls", "dpm-sim", "feature \"http\""];
    let found: Vec<&str> = forbidden
        .iter()
        .copied()
        .filter(|f| tree.contains(f))
        .collect();
    if !found.is_empty() {
        eprintln!(
            "xtask: dpm-driver depends on {found:?}; the virt driver must build without HTTP"
        );
        return false;
    }
    let mut named = Vec::new();
    let mut dirs = vec![root().join("dpm-driver/src")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if std::fs::read_to_string(&p).is_ok_and(|t| t.contains("CinderApi")) {
                named.push(p.display().to_string());
            }
        }
    }
    if !named.is_empty() {
        eprintln!("xtask: the virt driver names CinderApi in {named:?}; Cinder is dpm-compute's");
        return false;
    }
    eprintln!("xtask: dpm-driver builds alone, without HTTP, and never names CinderApi");
    true
}

fn ci() -> bool {
    // The Python environment (the third-party clients and Nova) is made
    // while cargo builds: pip waits on the network, cargo on the CPUs.
    let env = std::thread::spawn(python_env);
    let mut steps = Steps::default();
    let ok = steps.run("fmt", || run(&["fmt", "--all", "--", "--check"]))
        && steps.run("driver alone", driver_alone)
        // `dpm demo` is behind dpm-cli's `demo` feature: checked and
        // tested with it.
        && steps.run("clippy", || {
            run(&[
                "clippy",
                "--workspace",
                "--all-targets",
                "--features",
                "dpm-cli/demo",
                "--",
                "-D",
                "warnings",
            ])
        })
        && steps.run("docs", docs)
        && steps.run("test", || {
            run(&["test", "--workspace", "--features", "dpm-cli/demo"])
        })
        // The end-to-end tests ran in the test step; the demo and the
        // third-party checks run on its binaries.
        && steps.run("e2e", e2e_runs)
        && steps.run("nova", nova)
        && steps.run("chaos", || {
            chaos(&["--ops", "1000", "--fault-rate", "0.05"])
        });
    let _ = env.join();
    steps.report();
    ok
}

/// The steps of `cargo xtask ci`, each with its wall time, reported at
/// the end (the 15-minute budget is kept by looking at these).
#[derive(Default)]
struct Steps(Vec<(&'static str, bool, std::time::Duration)>);

impl Steps {
    fn run(&mut self, name: &'static str, step: impl FnOnce() -> bool) -> bool {
        let start = std::time::Instant::now();
        let ok = step();
        self.0.push((name, ok, start.elapsed()));
        ok
    }

    fn report(&self) {
        let total: std::time::Duration = self.0.iter().map(|s| s.2).sum();
        eprintln!("xtask: ci steps (wall time):");
        for (name, ok, took) in &self.0 {
            let what = if *ok { "ok" } else { "FAILED" };
            eprintln!(
                "xtask:   {name:<13} {what:<6} {:>6.1} s",
                took.as_secs_f64()
            );
        }
        eprintln!(
            "xtask:   {:<13} {:<6} {:>6.1} s",
            "total",
            "",
            total.as_secs_f64()
        );
    }
}

fn bench(json: bool) -> bool {
    let mut requests = vec![
        "bench",
        "-p",
        "dpm-compute",
        "--bench",
        "requests",
        "--quiet",
    ];
    let mut http = vec!["bench", "-p", "dpm-sim", "--bench", "http", "--quiet"];
    let mut concurrency = vec![
        "bench",
        "-p",
        "dpm-compute",
        "--bench",
        "concurrency",
        "--quiet",
    ];
    if json {
        requests.extend(["--", "--json"]);
        http.extend(["--", "--json"]);
        concurrency.extend(["--", "--json"]);
    }
    let python = python_env()
        .map_err(|why| eprintln!("xtask: zhmcclient comparison skipped: {why}"))
        .ok();
    let script = root().join("xtask/python/bench_zhmcclient.py");
    let env: Vec<(&str, &Path)> = match &python {
        Some(p) => vec![
            ("DPM_BENCH_PYTHON", p.as_path()),
            ("DPM_BENCH_SCRIPT", script.as_path()),
        ],
        None => Vec::new(),
    };
    let (Some(a), Some(b), Some(c)) = (
        capture(&requests, &[]),
        capture(&http, &env),
        capture(&concurrency, &[]),
    ) else {
        return false;
    };
    // Nova on dpm.DPMDriver against Nova's fake driver, when the
    // environment can be had.
    let nova = python
        .as_deref()
        .and_then(nova_bench)
        .map(|text| format!("{{\"nova\": {}}}", text.trim()))
        .unwrap_or_else(|| "{}".into());
    if json {
        // The JSON objects into one: {..requests.., ..http.., ..concurrency..}.
        let parts = [a.trim(), b.trim(), c.trim(), nova.trim()];
        let inner: Option<Vec<&str>> = parts
            .iter()
            .map(|p| p.strip_prefix('{')?.strip_suffix('}'))
            .filter(|p| p.as_ref().is_none_or(|p| !p.trim().is_empty()))
            .collect();
        match inner {
            Some(inner) => println!("{{{}}}", inner.join(",")),
            None => {
                eprintln!("xtask: a benchmark printed no JSON object");
                return false;
            }
        }
    } else {
        print!("{a}{b}{c}");
        if nova != "{}" {
            println!("nova (POST /servers to ACTIVE and requests per Nova operation, 20 ms per request): {nova}");
        }
    }
    true
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let ok = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["ci"] => ci(),
        ["e2e"] => e2e(),
        ["demo"] => run(&[
            "run",
            "--release",
            "--quiet",
            "-p",
            "dpm-cli",
            "--features",
            "demo",
            "--bin",
            "dpm",
            "--",
            "demo",
        ]),
        ["nova"] => nova(),
        ["wheel"] => wheel_task(),
        ["bench"] => bench(false),
        ["bench", "--json"] => bench(true),
        ["chaos", rest @ ..] => chaos(rest),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
