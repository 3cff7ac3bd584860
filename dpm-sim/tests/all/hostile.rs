//! The served simulator survives hostile input as a real server would: an
//! oversized body is 413, bad bodies are refused in the API's own format,
//! garbage, huge headers, idle connections and TLS garbage leave it
//! answering, absurd values are refused instead of worked through, and the
//! memory hostile traffic takes is given back.

use std::time::Instant;

use dpm_sim::{ServeConfig, Sim, WorldSpec};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::conformance::state_dir;

/// Sends raw bytes and reads what comes back (until close or 64 KiB).
async fn raw(addr: &str, bytes: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let _ = s.write_all(bytes).await;
    let mut buf = vec![0u8; 65536];
    let n = tokio::time::timeout(std::time::Duration::from_secs(5), s.read(&mut buf))
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[tokio::test]
async fn the_served_simulator_survives_hostile_input() {
    let sim = Sim::stepped(WorldSpec::z16()).unwrap();
    let server = sim
        .serve(&ServeConfig::any_ports(state_dir()))
        .await
        .unwrap();
    let e = server.endpoints().clone();
    let ks = e
        .keystone
        .auth_url
        .trim_start_matches("http://")
        .trim_end_matches("/v3")
        .to_owned();
    let cinder = e.cinder.endpoint.clone();
    let cinder_addr = cinder
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let hmc_addr = e.hmc.url.trim_start_matches("https://").to_owned();
    // (building the HMC client installs the TLS provider reqwest needs)
    let hmc = hmc_client::HttpHmc::new(hmc_client::HttpConfig::new(
        &e.hmc.url,
        hmc_client::Credentials {
            userid: e.hmc.userid.clone(),
            password: hmc_client::Secret::new(e.hmc.password.clone()),
        },
        hmc_client::TlsVerify::CaFile(e.hmc.ca_cert.clone()),
    ))
    .unwrap();
    use hmc_client::HmcApi;
    let still_answers = || async {
        assert_eq!(hmc.list_cpcs(None).await.unwrap().len(), 1);
    };
    let http = reqwest::Client::new();
    let token = http
        .post(format!("http://{ks}/v3/auth/tokens"))
        .json(&serde_json::json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": e.keystone.username, "domain": {"name": "Default"},
                "password": e.keystone.password}}},
            "scope": {"project": {"name": e.keystone.project_name, "domain": {"name": "Default"}}}}}))
        .send()
        .await
        .unwrap()
        .headers()["x-subject-token"]
        .to_str()
        .unwrap()
        .to_owned();
    let post = |path: String, body: Vec<u8>| {
        http.post(path)
            .header("x-auth-token", &token)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };

    // An oversized body is 413, whatever its content (a 50 MB name).
    let huge = format!(
        "{{\"volume\": {{\"size\": 1, \"name\": \"{}\"}}}}",
        "x".repeat(2 * 1024 * 1024)
    );
    let r = post(format!("{cinder}/volumes"), huge.into_bytes())
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
    // A long name within the body limit is refused by Cinder's own limit.
    let long = format!(
        "{{\"volume\": {{\"size\": 1, \"name\": \"{}\"}}}}",
        "x".repeat(300)
    );
    let r = post(format!("{cinder}/volumes"), long.into_bytes())
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    // Deeply nested JSON, bad UTF-8 and wrong types are 400s.
    for body in [
        "[".repeat(100_000).into_bytes(),
        vec![b'{', 0xff, 0xfe, b'}'],
        br#"{"volume": {"size": "ten", "name": 7}}"#.to_vec(),
    ] {
        let r = post(format!("{cinder}/volumes"), body).await.unwrap();
        assert_eq!(r.status().as_u16(), 400);
    }
    assert!(sim.snapshot().volumes.is_empty(), "nothing was made");
    // An absurd connector is refused at once, not worked through.
    let wwpns: Vec<String> = (0..80_000u64)
        .map(|n| format!("{:016x}", 0xc050_0000_0000_0000u64 + n))
        .collect();
    let started = Instant::now();
    let r = post(
        format!("{cinder}/attachments"),
        serde_json::to_vec(&serde_json::json!({"attachment": {
            "volume_uuid": "00000000-0000-4000-8000-000000000001",
            "connector": {"wwpns": wwpns, "host": "h"}}}))
        .unwrap(),
    )
    .await
    .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    assert!(started.elapsed().as_secs() < 5);

    // Garbage, a huge header and TLS garbage: the connection ends, the
    // server goes on.
    let reply = raw(&cinder_addr, b"GARBAGE\r\n\r\n").await;
    assert!(
        reply.is_empty() || reply.starts_with("HTTP/1.1 400"),
        "{reply}"
    );
    let big_header = format!(
        "GET /v3 HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(200 * 1024)
    );
    let reply = raw(&cinder_addr, big_header.as_bytes()).await;
    assert!(!reply.starts_with("HTTP/1.1 200"), "{reply}");
    let reply = raw(&hmc_addr, b"\x16\x03\x01garbage-that-is-not-tls\r\n\r\n").await;
    assert!(!reply.contains("HTTP/1.1 200"));
    still_answers().await;

    // Hundreds of idle connections do not stop others from being served.
    let mut idle = Vec::new();
    for _ in 0..300 {
        idle.push(TcpStream::connect(&hmc_addr).await.unwrap());
    }
    still_answers().await;
    let r = http
        .get(format!("http://{cinder_addr}/"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success() || r.status().as_u16() == 300);
    drop(idle);
    server.shutdown().await;
}

/// A `dpm-sim serve` in its own process, killed when dropped.
#[cfg(target_os = "linux")]
struct Served(std::process::Child);

#[cfg(target_os = "linux")]
impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Resident and peak memory of a process, in KiB, from /proc.
#[cfg(target_os = "linux")]
fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Rounds of hostile traffic against a served simulator in its own
/// process: bodies at and over the limit, sent at once, and hundreds of
/// idle connections. The memory one round takes is given back: after
/// three more rounds the resident size is where it was after the first.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn the_served_simulator_gives_its_memory_back() {
    use std::io::BufRead;
    let dir = state_dir();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_dpm-sim"))
        .args(["serve", "--world", "z16", "--hmc-port", "0"])
        .args(["--keystone-port", "0", "--cinder-port", "0"])
        .args(["--notification-port", "0", "--state-dir"])
        .arg(&dir)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let served = Served(child);
    let mut line = String::new();
    std::io::BufReader::new(out).read_line(&mut line).unwrap();
    let e: serde_json::Value = serde_json::from_str(&line).unwrap();
    let pid = served.0.id();
    let cinder = e["cinder"]["endpoint"].as_str().unwrap().to_owned();
    let addr = cinder
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    // (reqwest is built without a TLS provider of its own)
    let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let near_limit = format!(
        "{{\"volume\": {{\"size\": 1, \"name\": \"{}\"}}}}",
        "x".repeat(1000 * 1000)
    );
    let over_limit = "y".repeat(3 * 1024 * 1024);
    let round = || async {
        let mut sends = tokio::task::JoinSet::new();
        for i in 0..40 {
            let body = if i % 2 == 0 {
                near_limit.clone()
            } else {
                over_limit.clone()
            };
            let send = http
                .post(format!("{cinder}/volumes"))
                .header("content-type", "application/json")
                .body(body)
                .send();
            sends.spawn(async move { send.await.map(|r| r.status().as_u16()).unwrap_or(0) });
        }
        while let Some(status) = sends.join_next().await {
            // Refused for the name (400), the size (413) or the missing
            // token (401), or cut off while sending (0): never taken.
            let status = status.unwrap();
            assert!(matches!(status, 0 | 400 | 401 | 413), "{status}");
        }
        let mut idle = Vec::new();
        for _ in 0..300 {
            idle.push(TcpStream::connect(&addr).await.unwrap());
        }
        drop(idle);
        // Still answering.
        let r = http.get(format!("http://{addr}/")).send().await.unwrap();
        assert!(r.status().is_success() || r.status().as_u16() == 300);
    };
    let (start, _) = memory_kib(pid);
    round().await;
    let (after_one, _) = memory_kib(pid);
    for _ in 0..3 {
        round().await;
    }
    let (after_four, peak) = memory_kib(pid);
    println!(
        "dpm-sim serve RSS: {start} KiB at start, {after_one} KiB after one round, \
         {after_four} KiB after four, peak {peak} KiB"
    );
    assert!(
        after_four <= after_one + 16 * 1024,
        "the server kept memory: {after_one} KiB after one round, {after_four} KiB after four"
    );
    drop(served);
}
