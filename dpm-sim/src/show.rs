//! `dpm-sim world`: the live world of a running `dpm-sim serve`, read over
//! its control routes (`GET /sim/world`), as tables or JSON.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

/// Why the world could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ShowError {
    /// `endpoints.json` could not be read.
    #[error("cannot read {path}")]
    Endpoints {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// `endpoints.json` is not the simulator's.
    #[error("{path} is not a dpm-sim endpoints file")]
    EndpointsJson {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// The server was started without `--control-port`.
    #[error("{path} names no control URL: start dpm-sim serve with --control-port")]
    NoControl {
        /// The file.
        path: std::path::PathBuf,
    },
    /// The URL is not `http://HOST:PORT`.
    #[error("the control URL {0:?} is not http://HOST:PORT")]
    Url(String),
    /// The request failed.
    #[error("cannot read the world from {url}")]
    Io {
        /// The control URL.
        url: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The server answered something else than the world.
    #[error("{url} answered {status}, not the world")]
    Answer {
        /// The control URL.
        url: String,
        /// The status line.
        status: String,
    },
    /// The answer is not JSON.
    #[error("{url} answered something that is not JSON")]
    Json {
        /// The control URL.
        url: String,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
}

/// The control URL written in `DIR/endpoints.json`.
pub fn control_url(state_dir: &Path) -> Result<String, ShowError> {
    let path = state_dir.join("endpoints.json");
    let text = std::fs::read_to_string(&path).map_err(|source| ShowError::Endpoints {
        path: path.clone(),
        source,
    })?;
    let e: dpm_sim::Endpoints =
        serde_json::from_str(&text).map_err(|source| ShowError::EndpointsJson {
            path: path.clone(),
            source,
        })?;
    e.control
        .map(|c| c.url)
        .ok_or(ShowError::NoControl { path })
}

/// `GET /sim/world` over plain HTTP/1.1 (the control routes are served on
/// 127.0.0.1 without TLS).
pub fn fetch(url: &str) -> Result<Value, ShowError> {
    let authority = url
        .strip_prefix("http://")
        .map(|r| r.trim_end_matches('/'))
        .filter(|a| !a.is_empty() && !a.contains('/'))
        .ok_or_else(|| ShowError::Url(url.to_owned()))?;
    let io = |source| ShowError::Io {
        url: url.to_owned(),
        source,
    };
    let addr: SocketAddr = authority
        .to_socket_addrs()
        .map_err(|_| ShowError::Url(url.to_owned()))?
        .next()
        .ok_or_else(|| ShowError::Url(url.to_owned()))?;
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(io)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(io)?;
    write!(
        s,
        "GET /sim/world HTTP/1.1\r\nHost: {authority}\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
    )
    .map_err(io)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(io)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.lines().next().unwrap_or_default().to_owned();
    if status.split_whitespace().nth(1) != Some("200") {
        return Err(ShowError::Answer {
            url: url.to_owned(),
            status,
        });
    }
    serde_json::from_str(body).map_err(|source| ShowError::Json {
        url: url.to_owned(),
        source,
    })
}

/// One cell: strings as they are, numbers and booleans as JSON, lists
/// joined with commas, nothing for null.
fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(cell).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// The last path segment of a URI, first 8 characters: enough to tell
/// objects apart in a table.
fn short(v: &Value) -> String {
    let s = cell(v);
    let last = s.rsplit('/').next().unwrap_or_default();
    last.get(..8).unwrap_or(last).to_owned()
}

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v[key].as_array().map(Vec::as_slice).unwrap_or_default()
}

fn table(out: &mut String, title: &str, headers: &[&str], rows: &[Vec<String>]) {
    out.push_str(&format!("\n{title}\n"));
    if rows.is_empty() {
        out.push_str("  (none)\n");
        return;
    }
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut line = |cells: &[String]| {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(&format!("  {}\n", parts.join("  ").trim_end()));
    };
    line(&headers.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>());
    line(&widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>());
    for r in rows {
        line(r);
    }
}

/// The world as tables: partitions, vHBAs, storage groups with their
/// volumes and VSRs, host mappings, zones, volumes and attachments.
pub fn tables(w: &Value) -> String {
    let mut out = String::new();
    let partition_name = |uri: &Value| {
        list(w, "partitions")
            .iter()
            .find(|p| p["uri"] == *uri)
            .map(|p| cell(&p["name"]))
            .unwrap_or_else(|| short(uri))
    };
    let rows: Vec<Vec<String>> = list(w, "partitions")
        .iter()
        .map(|p| {
            vec![
                cell(&p["name"]),
                short(&p["uri"]),
                cell(&p["status"]),
                cell(&p["ifl"]),
                format!("{} MiB", cell(&p["memory_mib"])),
            ]
        })
        .collect();
    table(
        &mut out,
        "Partitions",
        &["name", "uri", "status", "IFLs", "memory"],
        &rows,
    );
    let rows: Vec<Vec<String>> = list(w, "hbas")
        .iter()
        .map(|h| {
            vec![
                cell(&h["partition"]),
                cell(&h["name"]),
                cell(&h["device_number"]),
                cell(&h["wwpn"]),
                cell(&h["port"]),
            ]
        })
        .collect();
    table(
        &mut out,
        "vHBAs",
        &["partition", "name", "device", "WWPN", "adapter port"],
        &rows,
    );
    let groups = list(w, "storage_groups");
    let rows: Vec<Vec<String>> = groups
        .iter()
        .map(|g| {
            let wwpns: Vec<String> = list(g, "wwpns")
                .iter()
                .map(|x| format!("{} ({})", cell(&x["wwpn"]), cell(&x["status"])))
                .collect();
            let attached: Vec<String> = list(g, "partitions").iter().map(partition_name).collect();
            vec![
                cell(&g["name"]),
                short(&g["uri"]),
                cell(&g["fulfillment_state"]),
                wwpns.join(", "),
                attached.join(", "),
            ]
        })
        .collect();
    table(
        &mut out,
        "Storage groups",
        &["name", "uri", "fulfillment", "WWPNs", "partitions"],
        &rows,
    );
    let mut rows = Vec::new();
    for g in groups {
        for v in list(g, "volumes") {
            rows.push(vec![
                short(&g["uri"]),
                short(&v["uri"]),
                cell(&v["name"]),
                cell(&v["usage"]),
                format!("{} GiB", cell(&v["size"])),
                cell(&v["fulfillment_state"]),
                cell(&v["cinder_volume"]),
            ]);
        }
    }
    table(
        &mut out,
        "Storage volumes",
        &[
            "group",
            "uri",
            "name",
            "usage",
            "size",
            "fulfillment",
            "Cinder volume",
        ],
        &rows,
    );
    let mut rows = Vec::new();
    for g in groups {
        for r in list(g, "vsrs") {
            rows.push(vec![
                short(&g["uri"]),
                partition_name(&r["partition"]),
                cell(&r["device_number"]),
                cell(&r["wwpn"]),
            ]);
        }
    }
    table(
        &mut out,
        "Virtual storage resources",
        &["group", "partition", "device", "WWPN"],
        &rows,
    );
    let mut rows = Vec::new();
    for h in list(w, "hosts") {
        if let Some(m) = h["mappings"].as_object() {
            for (scsi, v) in m {
                rows.push(vec![
                    cell(&h["name"]),
                    cell(&h["wwpns"]),
                    scsi.clone(),
                    cell(v),
                ]);
            }
        }
    }
    table(
        &mut out,
        "Host mappings (storage host objects)",
        &["host", "WWPNs", "SCSI id", "volume"],
        &rows,
    );
    let fabrics = list(w, "fabrics");
    let rows: Vec<Vec<String>> = list(w, "zones")
        .iter()
        .map(|z| {
            let fabric = z["fabric"]
                .as_u64()
                .and_then(|i| fabrics.get(usize::try_from(i).ok()?))
                .map(cell)
                .unwrap_or_else(|| cell(&z["fabric"]));
            vec![fabric, cell(&z["initiator"]), cell(&z["target"])]
        })
        .collect();
    table(&mut out, "Zones", &["fabric", "initiator", "target"], &rows);
    let rows: Vec<Vec<String>> = list(w, "volumes")
        .iter()
        .map(|v| {
            vec![
                cell(&v["id"]),
                cell(&v["name"]),
                cell(&v["status"]),
                cell(&v["bootable"]),
                format!("{} GiB", cell(&v["size"])),
            ]
        })
        .collect();
    table(
        &mut out,
        "Volumes",
        &["id", "name", "status", "bootable", "size"],
        &rows,
    );
    let rows: Vec<Vec<String>> = list(w, "attachments")
        .iter()
        .map(|a| {
            vec![
                cell(&a["id"]),
                cell(&a["volume"]),
                cell(&a["instance"]),
                cell(&a["status"]),
            ]
        })
        .collect();
    table(
        &mut out,
        "Attachments",
        &["id", "volume", "instance", "status"],
        &rows,
    );
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_world_is_tables_and_nothing_is_none() {
        let w = serde_json::json!({
            "partitions": [{"uri": "/api/partitions/f0000009-63d7", "name": "p1",
                            "status": "active", "ifl": 2, "memory_mib": 4096}],
            "zones": [{"fabric": 1, "initiator": "c05076ffe5000001", "target": "500507680b2255ab"}],
            "fabrics": ["A", "B"],
            "hosts": [{"name": "h1", "wwpns": ["c05076ffe5000001"], "mappings": {"0": "v1"}}],
        });
        let t = tables(&w);
        assert!(t.contains("p1    f0000009  active  2     4096 MiB"), "{t}");
        assert!(
            t.contains("B       c05076ffe5000001  500507680b2255ab"),
            "{t}"
        );
        assert!(t.contains("h1    c05076ffe5000001  0        v1"), "{t}");
        assert!(t.contains("Attachments\n  (none)"), "{t}");
        assert!(matches!(fetch("https://x:1"), Err(ShowError::Url(_))));
    }
}
