//! What the configuration file may hold, checked before anything reads it:
//! every section and key is known (a near miss gets a suggestion), and
//! every value has its type and range. Each problem names the section and
//! the key and says what is expected; none quotes a password (or any
//! URL, which may carry credentials).
//!
//! `[dpm]` is the driver's (`dpm_driver::DriverConfig` reads it too, and
//! checks what needs the driver's knowledge: the host name, the CPC id,
//! duplicate mappings); the keys here must follow it.

use std::str::FromStr;

use toml::{Table, Value};

/// What a value must be.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// A string.
    Str,
    /// A password: a string, never quoted.
    Secret,
    /// An integer from `min` to `max`; `what` says what it counts.
    Int {
        min: i64,
        max: i64,
        what: &'static str,
    },
    /// A boolean.
    Bool,
    /// An `https://` URL with a host (and a valid port, if any).
    HttpsUrl,
    /// An `http://` or `https://` URL with a host.
    HttpUrl,
    /// A list of `"<adapter object-id>:<port>"`.
    AdapterMappings,
    /// A list of WWPNs.
    Wwpns,
}

impl Kind {
    /// What is expected, said to the operator.
    fn expected(self) -> String {
        match self {
            Kind::Str | Kind::Secret => "a string".into(),
            Kind::Int { min, max, what } => {
                format!("an integer from {min} to {max} ({what})")
            }
            Kind::Bool => "true or false".into(),
            Kind::HttpsUrl => "an https:// URL (https://HOST[:PORT])".into(),
            Kind::HttpUrl => "an http:// or https:// URL".into(),
            Kind::AdapterMappings => "a list of \"<adapter object-id>:<port 0-3>\" strings".into(),
            Kind::Wwpns => "a list of WWPNs (16 hex digits) as strings".into(),
        }
    }
}

/// A key a section may hold.
#[derive(Debug)]
struct Key {
    name: &'static str,
    kind: Kind,
    required: bool,
}

const fn key(name: &'static str, kind: Kind) -> Key {
    Key {
        name,
        kind,
        required: false,
    }
}

const fn required(name: &'static str, kind: Kind) -> Key {
    Key {
        name,
        kind,
        required: true,
    }
}

const U32: i64 = u32::MAX as i64;

/// nova-dpm's `[dpm]` options, as `dpm_driver::DriverConfig` reads them.
const DPM: &[Key] = &[
    required("host", Kind::Str),
    required("hmc", Kind::HttpsUrl),
    required("hmc_username", Kind::Str),
    key("hmc_password", Kind::Secret),
    required("cpc_object_id", Kind::Str),
    required(
        "max_processors",
        Kind::Int {
            min: 1,
            max: U32,
            what: "the IFLs of this host's partitions together",
        },
    ),
    required(
        "max_memory",
        Kind::Int {
            min: 512,
            max: i64::MAX,
            what: "MiB, for this host's partitions together",
        },
    ),
    key("physical_storage_adapter_mappings", Kind::AdapterMappings),
    key("target_wwpn_ignore_list", Kind::Wwpns),
    key(
        "max_boot_attempts",
        Kind::Int {
            min: 1,
            max: U32,
            what: "boot paths a z13 spawn tries",
        },
    ),
    key(
        "job_timeout_seconds",
        Kind::Int {
            min: 1,
            max: i64::MAX,
            what: "seconds",
        },
    ),
    key("boot_os_specific_parameters", Kind::Bool),
    key("guest_shutdown_command", Kind::Str),
];

/// `[hmc]`: how the HMC is reached.
const HMC: &[Key] = &[
    key("ca_file", Kind::Str),
    key("system_roots", Kind::Bool),
    key("danger_accept_invalid_certs", Kind::Bool),
    key(
        "notification_port",
        Kind::Int {
            min: 0,
            max: 65535,
            what: "a TCP port; 0 polls every job instead",
        },
    ),
];

/// `[cinder]`: Keystone's password auth, or a fixed endpoint.
const CINDER: &[Key] = &[
    key("auth_url", Kind::HttpUrl),
    key("username", Kind::Str),
    key("password", Kind::Secret),
    key("project_name", Kind::Str),
    key("user_domain_name", Kind::Str),
    key("project_domain_name", Kind::Str),
    key("endpoint", Kind::HttpUrl),
    key("ca_file", Kind::Str),
    key("region_name", Kind::Str),
    key("interface", Kind::Str),
];

const SECTIONS: &[(&str, &[Key])] = &[("dpm", DPM), ("hmc", HMC), ("cinder", CINDER)];

/// A configuration that is not what `dpm` reads. Each names the section
/// and key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// A section `dpm` does not know.
    #[error("unknown section [{section}]{}", hint(suggestion))]
    UnknownSection {
        section: String,
        suggestion: Option<String>,
    },
    /// A key its section does not have.
    #[error("unknown key {key} in [{section}]{}", hint(suggestion))]
    UnknownKey {
        section: &'static str,
        key: String,
        suggestion: Option<String>,
    },
    /// A key before the first section header, which belongs to no section.
    #[error("key {key} is outside any section (a key above the first [section] header belongs to none){}", hint(suggestion))]
    TopLevelKey {
        key: String,
        suggestion: Option<String>,
    },
    /// A section given as a value (`cinder = "x"`).
    #[error("{section} must be a section ([{section}]), not {}", a(found))]
    NotASection {
        section: &'static str,
        found: &'static str,
    },
    /// A required section is missing.
    #[error("there is no [{section}] section; it holds the driver's options (host, hmc, hmc_username, cpc_object_id, max_processors, max_memory, physical_storage_adapter_mappings)")]
    MissingSection { section: &'static str },
    /// A required key is missing.
    #[error("[{section}] {key} is missing: it must be {expected}")]
    MissingKey {
        section: &'static str,
        key: &'static str,
        expected: String,
    },
    /// A value of the wrong type.
    #[error("[{section}] {key} must be {expected}, not {}", a(found))]
    WrongType {
        section: &'static str,
        key: &'static str,
        expected: String,
        found: &'static str,
    },
    /// An integer out of its range.
    #[error("[{section}] {key} is {value}, out of range: it must be {expected}")]
    OutOfRange {
        section: &'static str,
        key: &'static str,
        value: i64,
        expected: String,
    },
    /// A list entry of the wrong type.
    #[error("[{section}] {key} entry {index} must be a string, not {}", a(found))]
    EntryType {
        section: &'static str,
        key: &'static str,
        index: usize,
        found: &'static str,
    },
    /// A list entry that does not parse.
    #[error("[{section}] {key} entry {index}, {value:?}, is not {expected}")]
    BadEntry {
        section: &'static str,
        key: &'static str,
        index: usize,
        value: String,
        expected: &'static str,
    },
    /// A URL that is not usable; says why (the URL is not quoted: it may
    /// carry credentials).
    #[error("[{section}] {key} is not usable: {why}; it must be {expected}")]
    BadUrl {
        section: &'static str,
        key: &'static str,
        why: String,
        expected: String,
    },
}

/// A TOML type with its article: "a string", "an integer".
fn a(type_str: &str) -> String {
    let article = if type_str.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {type_str}")
}

fn hint(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!("; did you mean {s}?"),
        None => String::new(),
    }
}

/// Checks a parsed configuration file.
pub fn check(file: &Table) -> Result<(), Problem> {
    for (name, value) in file {
        let Some((section, keys)) = SECTIONS.iter().find(|(s, _)| s == name) else {
            return Err(match value {
                Value::Table(_) => Problem::UnknownSection {
                    section: name.clone(),
                    suggestion: nearest(name, SECTIONS.iter().map(|(s, _)| *s))
                        .map(|s| format!("[{s}]")),
                },
                _ => Problem::TopLevelKey {
                    key: name.clone(),
                    suggestion: top_level_hint(name),
                },
            });
        };
        let Value::Table(table) = value else {
            return Err(Problem::NotASection {
                section,
                found: value.type_str(),
            });
        };
        check_section(section, keys, table)?;
    }
    if !file.contains_key("dpm") {
        return Err(Problem::MissingSection { section: "dpm" });
    }
    Ok(())
}

/// Where a key found outside any section may belong.
fn top_level_hint(name: &str) -> Option<String> {
    let all = SECTIONS
        .iter()
        .flat_map(|(s, keys)| keys.iter().map(move |k| (*s, k.name)));
    let mut best: Option<(usize, &str, &str)> = None;
    for (section, k) in all {
        let d = distance(name, k);
        if d <= near(name, k) && best.is_none_or(|(b, _, _)| d < b) {
            best = Some((d, section, k));
        }
    }
    best.map(|(_, section, k)| format!("{k} in [{section}]"))
}

/// The section that has a key of this name, as a suggestion.
fn elsewhere(name: &str) -> Option<String> {
    SECTIONS
        .iter()
        .find(|(_, keys)| keys.iter().any(|k| k.name == name))
        .map(|(s, _)| format!("{name} in [{s}]"))
}

fn check_section(section: &'static str, keys: &[Key], table: &Table) -> Result<(), Problem> {
    for (name, value) in table {
        let Some(k) = keys.iter().find(|k| k.name == name) else {
            return Err(Problem::UnknownKey {
                section,
                key: name.clone(),
                suggestion: nearest(name, keys.iter().map(|k| k.name)).or_else(|| elsewhere(name)),
            });
        };
        check_value(section, k, value)?;
    }
    if let Some(k) = keys
        .iter()
        .find(|k| k.required && !table.contains_key(k.name))
    {
        return Err(Problem::MissingKey {
            section,
            key: k.name,
            expected: k.kind.expected(),
        });
    }
    Ok(())
}

fn check_value(section: &'static str, k: &Key, value: &Value) -> Result<(), Problem> {
    let wrong = || Problem::WrongType {
        section,
        key: k.name,
        expected: k.kind.expected(),
        found: value.type_str(),
    };
    match (k.kind, value) {
        (Kind::Str | Kind::Secret, Value::String(_)) => Ok(()),
        (Kind::Bool, Value::Boolean(_)) => Ok(()),
        (Kind::Int { min, max, .. }, Value::Integer(n)) => {
            if (min..=max).contains(n) {
                Ok(())
            } else {
                Err(Problem::OutOfRange {
                    section,
                    key: k.name,
                    value: *n,
                    expected: k.kind.expected(),
                })
            }
        }
        (Kind::HttpsUrl, Value::String(s)) => url(s, &["https"]).map_err(|why| Problem::BadUrl {
            section,
            key: k.name,
            why,
            expected: k.kind.expected(),
        }),
        (Kind::HttpUrl, Value::String(s)) => {
            url(s, &["http", "https"]).map_err(|why| Problem::BadUrl {
                section,
                key: k.name,
                why,
                expected: k.kind.expected(),
            })
        }
        (Kind::AdapterMappings, Value::Array(a)) => entries(section, k.name, a, |s| {
            dpm_driver::AdapterMapping::from_str(s)
                .map(drop)
                .map_err(|_| "\"<adapter object-id>:<port 0-3>\"")
        }),
        (Kind::Wwpns, Value::Array(a)) => entries(section, k.name, a, |s| {
            fc_types::Wwpn::from_str(s)
                .map(drop)
                .map_err(|_| "a WWPN (16 hex digits)")
        }),
        _ => Err(wrong()),
    }
}

/// Checks each entry of a list of strings.
fn entries(
    section: &'static str,
    key: &'static str,
    list: &[Value],
    parse: impl Fn(&str) -> Result<(), &'static str>,
) -> Result<(), Problem> {
    for (i, v) in list.iter().enumerate() {
        let Value::String(s) = v else {
            return Err(Problem::EntryType {
                section,
                key,
                index: i + 1,
                found: v.type_str(),
            });
        };
        parse(s).map_err(|expected| Problem::BadEntry {
            section,
            key,
            index: i + 1,
            value: s.chars().take(80).collect(),
            expected,
        })?;
    }
    Ok(())
}

/// Why `s` is not a URL of one of `schemes` with a host.
fn url(s: &str, schemes: &[&str]) -> Result<(), String> {
    let u = url::Url::parse(s).map_err(|e| match e {
        url::ParseError::InvalidPort => "its port is not a number from 1 to 65535".to_owned(),
        url::ParseError::EmptyHost => "it names no host".to_owned(),
        url::ParseError::RelativeUrlWithoutBase => "it has no scheme (https://...)".to_owned(),
        e => format!("it does not parse as a URL ({e})"),
    })?;
    if !schemes.contains(&u.scheme()) {
        return Err(format!("its scheme is {:?}", u.scheme()));
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err("it names no host".into());
    }
    if u.port() == Some(0) {
        return Err("its port is 0; it must be a number from 1 to 65535".into());
    }
    Ok(())
}

/// The candidate nearest to `word` by edit distance, if it is near enough
/// to be a slip of the keyboard.
fn nearest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    candidates
        .map(|c| (distance(word, c), c))
        .filter(|(d, c)| *d <= near(word, c))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.to_owned())
}

/// How many edits make a near miss: one per three characters, at least
/// one.
fn near(a: &str, b: &str) -> usize {
    (a.chars().count().max(b.chars().count()) / 3).max(1)
}

/// Levenshtein's edit distance, with a swap of two neighbours counted as
/// one edit (`hmc_pasword`, `cinedr`).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows: two back (for swaps), one back, this one.
    let mut two: Vec<usize> = vec![0; b.len() + 1];
    let mut one: Vec<usize> = (0..=b.len()).collect();
    let mut row = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        row[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (one[j] + 1).min(row[j - 1] + 1).min(one[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(two[j - 2] + 1);
            }
            row[j] = d;
        }
        std::mem::swap(&mut two, &mut one);
        std::mem::swap(&mut one, &mut row);
    }
    one[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[dpm]
host = "h"
hmc = "https://hmc.example.com:6794"
hmc_username = "nova"
hmc_password = "s3cret"
cpc_object_id = "c0000001-63d7-11f0-8067-fa163ed76c47"
max_processors = 8
max_memory = 32768
physical_storage_adapter_mappings = ["a0000002-63d7-11f0-8067-fa163ed76c47:0"]
target_wwpn_ignore_list = ["50050768100000aa"]
max_boot_attempts = 4
job_timeout_seconds = 900
boot_os_specific_parameters = true
guest_shutdown_command = "shutdown -h now"

[hmc]
ca_file = "ca.pem"
system_roots = false
danger_accept_invalid_certs = false
notification_port = 61612

[cinder]
auth_url = "http://127.0.0.1:5000/v3"
username = "admin"
password = "pw"
project_name = "demo"
user_domain_name = "Default"
project_domain_name = "Default"
region_name = "RegionOne"
interface = "public"
ca_file = "c.pem"
endpoint = "http://cinder:8776/v3/p"
"#;

    fn problem(text: &str) -> Problem {
        check(&text.parse::<Table>().unwrap()).unwrap_err()
    }

    /// `GOOD` with the line that starts with `key =` replaced by `line`.
    fn with(key: &str, line: &str) -> String {
        let mut found = false;
        let text: Vec<String> = GOOD
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
        assert!(found, "{key} not in GOOD");
        text.join("\n")
    }

    #[test]
    fn every_known_key_is_accepted() {
        check(&GOOD.parse::<Table>().unwrap()).unwrap();
        // Every key of every section is in GOOD, so the lists and the
        // example do not drift apart.
        for (section, keys) in SECTIONS {
            for k in *keys {
                assert!(
                    GOOD.contains(&format!("\n{} = ", k.name)),
                    "[{section}] {} is not in GOOD",
                    k.name
                );
            }
        }
    }

    #[test]
    fn unknown_keys_and_sections_are_named_with_a_suggestion() {
        let top = format!("hmc_pasword = \"x\"\n{GOOD}");
        let p = problem(&top);
        assert_eq!(
            p.to_string(),
            "key hmc_pasword is outside any section (a key above the first [section] header belongs to none); did you mean hmc_password in [dpm]?"
        );
        let p = problem(&format!("{GOOD}\n[extra]\na = 1\n"));
        assert_eq!(p.to_string(), "unknown section [extra]");
        let p = problem(&GOOD.replace("[cinder]", "[cindr]"));
        assert_eq!(
            p.to_string(),
            "unknown section [cindr]; did you mean [cinder]?"
        );
        let p = problem(&with("max_memory", "max_memroy = 4096"));
        assert_eq!(
            p.to_string(),
            "unknown key max_memroy in [dpm]; did you mean max_memory?"
        );
        let p = problem(&with("system_roots", "sytem_roots = true"));
        assert!(p.to_string().contains("did you mean system_roots?"), "{p}");
        let p = problem(&with("system_roots", "colour = true"));
        assert_eq!(p.to_string(), "unknown key colour in [hmc]");
        let p = problem(&with("max_boot_attempts", "ca_file = \"ca.pem\""));
        assert_eq!(
            p.to_string(),
            "unknown key ca_file in [dpm]; did you mean ca_file in [hmc]?"
        );
        // A password in the wrong place is named, its value is not.
        let p = problem(&format!("password = \"s3cret\"\n{GOOD}"));
        assert!(p.to_string().contains("password in [cinder]"), "{p}");
        assert!(!p.to_string().contains("s3cret"));
    }

    #[test]
    fn type_and_range_errors_name_the_section_and_key_and_what_is_expected() {
        for (key, line, said) in [
            (
                "max_processors",
                "max_processors = \"8\"",
                "[dpm] max_processors must be an integer from 1 to 4294967295 (the IFLs of this host's partitions together), not a string",
            ),
            (
                "max_processors",
                "max_processors = 0",
                "[dpm] max_processors is 0, out of range: it must be an integer from 1 to 4294967295",
            ),
            (
                "max_processors",
                "max_processors = 99999999999",
                "[dpm] max_processors is 99999999999, out of range",
            ),
            (
                "max_memory",
                "max_memory = 256",
                "[dpm] max_memory is 256, out of range: it must be an integer from 512 to",
            ),
            (
                "max_memory",
                "max_memory = 1.5",
                "[dpm] max_memory must be an integer from 512 to 9223372036854775807 (MiB, for this host's partitions together), not a float",
            ),
            (
                "physical_storage_adapter_mappings",
                "physical_storage_adapter_mappings = \"a0000002-63d7-11f0-8067-fa163ed76c47:0\"",
                "[dpm] physical_storage_adapter_mappings must be a list of \"<adapter object-id>:<port 0-3>\" strings, not a string",
            ),
            (
                "physical_storage_adapter_mappings",
                "physical_storage_adapter_mappings = [\"a0000002-63d7-11f0-8067-fa163ed76c47:0\", 3]",
                "[dpm] physical_storage_adapter_mappings entry 2 must be a string, not an integer",
            ),
            (
                "physical_storage_adapter_mappings",
                "physical_storage_adapter_mappings = [\"a0000002:7\"]",
                "[dpm] physical_storage_adapter_mappings entry 1, \"a0000002:7\", is not \"<adapter object-id>:<port 0-3>\"",
            ),
            (
                "target_wwpn_ignore_list",
                "target_wwpn_ignore_list = [\"zz\"]",
                "[dpm] target_wwpn_ignore_list entry 1, \"zz\", is not a WWPN",
            ),
            (
                "system_roots",
                "system_roots = \"yes\"",
                "[hmc] system_roots must be true or false, not a string",
            ),
            (
                "notification_port",
                "notification_port = 70000",
                "[hmc] notification_port is 70000, out of range: it must be an integer from 0 to 65535",
            ),
            (
                "notification_port",
                "notification_port = \"61612\"",
                "[hmc] notification_port must be an integer from 0 to 65535 (a TCP port; 0 polls every job instead), not a string",
            ),
            (
                "hmc",
                "hmc = \"https://hmc.example.com:99999\"",
                "[dpm] hmc is not usable: its port is not a number from 1 to 65535; it must be an https:// URL",
            ),
            (
                "hmc",
                "hmc = \"http://hmc.example.com\"",
                "[dpm] hmc is not usable: its scheme is \"http\"",
            ),
            (
                "hmc",
                "hmc = \"hmc.example.com\"",
                "[dpm] hmc is not usable: it has no scheme",
            ),
            (
                "auth_url",
                "auth_url = \"http://[::1:5000/v3\"",
                "[cinder] auth_url is not usable: it does not parse as a URL",
            ),
            (
                "auth_url",
                "auth_url = \"keystone:5000\"",
                "[cinder] auth_url is not usable: its scheme is \"keystone\"",
            ),
            (
                "hmc_password",
                "hmc_password = 12345",
                "[dpm] hmc_password must be a string, not an integer",
            ),
        ] {
            let p = problem(&with(key, line)).to_string();
            assert!(p.starts_with(said), "{line}:\n{p}\nnot\n{said}");
            assert!(!p.contains("12345") && !p.contains("s3cret"), "{p}");
        }
    }

    #[test]
    fn missing_keys_and_sections_are_named() {
        let p = problem(&with("max_memory", ""));
        assert!(
            p.to_string()
                .starts_with("[dpm] max_memory is missing: it must be an integer"),
            "{p}"
        );
        let p = problem("[hmc]\nsystem_roots = true\n");
        assert!(
            p.to_string().starts_with("there is no [dpm] section"),
            "{p}"
        );
        let p = problem(&format!("cinder = 1\n{}", GOOD.replace("[cinder]", "[x]")));
        assert!(p.to_string().contains("cinder must be a section"), "{p}");
    }

    #[test]
    fn the_distance_counts_edits_and_swaps() {
        assert_eq!(distance("cindr", "cinder"), 1);
        assert_eq!(distance("hmc_pasword", "hmc_password"), 1);
        assert_eq!(distance("cinedr", "cinder"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("extra", "dpm"), 5);
        assert_eq!(nearest("extra", ["dpm", "hmc", "cinder"].into_iter()), None);
        assert_eq!(
            nearest("hcm", ["dpm", "hmc", "cinder"].into_iter()).as_deref(),
            Some("hmc")
        );
    }
}
