//! The `dpm` command line as an operator meets it, with no endpoint: help,
//! version, completions, usage errors (text and JSON), and the messages
//! that say which credential is missing. The environment of each run is
//! given whole (`env_clear`), so that the machine's OS_* variables do not
//! leak in.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn dpm(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dpm"))
        .current_dir(dir)
        .env_clear()
        .env("HOME", dir)
        .envs(env.iter().copied())
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dpm-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const DPM: &str = r#"[dpm]
host = "cli"
hmc = "https://127.0.0.1:1"
hmc_username = "admin"
cpc_object_id = "c0000001-63d7-11f0-8067-fa163ed76c47"
max_processors = 8
max_memory = 32768
physical_storage_adapter_mappings = ["a0000002-63d7-11f0-8067-fa163ed76c47:0"]

[hmc]
system_roots = true
"#;

#[test]
fn every_command_has_help_and_there_is_a_version() {
    let d = tmp("help");
    for cmd in [
        &["spawn", "--help"][..],
        &["volume", "create", "--help"],
        &["help", "attach"],
        &["completions", "-h"],
    ] {
        let o = dpm(&d, cmd, &[]);
        assert!(o.status.success(), "{cmd:?}: {}", text(&o.stderr));
        assert!(text(&o.stdout).contains("Usage: dpm"), "{cmd:?}");
    }
    let spawn = text(&dpm(&d, &["spawn", "--help"], &[]).stdout);
    assert!(spawn.contains("--boot-volume <VOLUME>"), "{spawn}");
    let o = dpm(&d, &["--version"], &[]);
    assert_eq!(
        text(&o.stdout).trim(),
        format!("dpm {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn completions_are_printed_for_bash_zsh_and_fish() {
    let d = tmp("completions");
    for shell in ["bash", "zsh", "fish"] {
        let o = dpm(&d, &["completions", shell], &[]);
        assert!(o.status.success(), "{shell}");
        let script = text(&o.stdout);
        assert!(
            script.contains("spawn") && script.contains("boot-volume"),
            "{shell}"
        );
    }
}

#[test]
fn a_usage_error_is_short_says_what_was_meant_and_exits_2() {
    let d = tmp("usage");
    let o = dpm(&d, &["destory", "web1"], &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.contains("'destroy'"), "{err}");
    assert!(err.lines().count() < 10, "not the whole usage: {err}");
    let o = dpm(&d, &["spawn", "--vcpus", "two"], &[]);
    assert_eq!(o.status.code(), Some(2));
    // Under -o json the usage error is JSON on stdout.
    let o = dpm(&d, &["-o", "json", "spawn", "--vcpus=two"], &[]);
    assert_eq!(o.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "usage");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("two"),
        "{v}"
    );
}

#[test]
fn without_cinder_credentials_the_message_names_every_source() {
    let d = tmp("nocinder");
    std::fs::write(d.join("dpm.toml"), format!("{DPM}hmc_password = \"x\"\n")).unwrap();
    // hmc_password after [hmc] belongs to [hmc]: the file is wrong, and
    // the message names the key, where it is, where it belongs, and the
    // file.
    let o = dpm(&d, &["check"], &[("DPM_HMC_PASSWORD", "pw")]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains(
            "unknown key hmc_password in [hmc]; did you mean hmc_password in [dpm]? (in dpm.toml)"
        ),
        "{err}"
    );

    std::fs::write(d.join("dpm.toml"), DPM).unwrap();
    let o = dpm(&d, &["--json", "check"], &[("DPM_HMC_PASSWORD", "pw")]);
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "config", "{v}");
    let m = v["error"]["message"].as_str().unwrap();
    assert!(
        m.contains("no Cinder credentials")
            && m.contains("no [cinder] section")
            && m.contains("OS_CLOUD")
            && m.contains("OS_AUTH_URL")
            && !m.contains("[dpm]"),
        "{m}"
    );

    // OS_* variables are a source: the message names what they lack.
    let o = dpm(
        &d,
        &["check"],
        &[
            ("DPM_HMC_PASSWORD", "pw"),
            ("OS_AUTH_URL", "http://127.0.0.1:1/v3"),
            ("OS_USERNAME", "admin"),
        ],
    );
    let err = text(&o.stderr);
    assert!(
        err.contains("from the OS_* variables lack OS_PASSWORD, OS_PROJECT_NAME"),
        "{err}"
    );

    // OS_CLOUD with no clouds.yaml says where it looked.
    let o = dpm(
        &d,
        &["check"],
        &[("DPM_HMC_PASSWORD", "pw"), ("OS_CLOUD", "prod")],
    );
    let err = text(&o.stderr);
    assert!(
        err.contains("cloud \"prod\" was asked for (OS_CLOUD)")
            && err.contains("/etc/openstack/clouds.yaml"),
        "{err}"
    );
}

#[test]
fn without_an_hmc_password_and_a_terminal_the_message_names_the_sources() {
    let d = tmp("nohmcpw");
    std::fs::write(d.join("dpm.toml"), DPM).unwrap();
    let o = dpm(&d, &["check"], &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains("[dpm] hmc_password is not in dpm.toml")
            && err.contains("DPM_HMC_PASSWORD is not set"),
        "{err}"
    );
}

#[test]
fn a_name_that_cannot_be_an_instance_name_is_a_usage_error() {
    let d = tmp("names");
    let uuid = "8b2c66c1-4b3f-4bb5-bf3b-1f6fbdcfdc63";
    let spawn = |name: &str| {
        let boot = "2bb89d80-a0be-4a57-a939-7395967d790c";
        dpm(
            &d,
            &[
                "-o",
                "json",
                "spawn",
                "--name",
                name,
                "--vcpus",
                "1",
                "--memory-mb",
                "1024",
                "--boot-volume",
                boot,
            ],
            &[],
        )
    };
    for (name, says) in [
        (uuid, "is a UUID"),
        (" web", "starts or ends with a space"),
        ("", "empty"),
    ] {
        let o = spawn(name);
        assert_eq!(o.status.code(), Some(2), "{name:?}");
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["error"]["kind"], "usage");
        let m = v["error"]["message"].as_str().unwrap();
        assert!(m.contains(says), "{name:?}: {m}");
    }
}

#[test]
fn the_deleting_commands_take_yes_and_guest_config_its_forms() {
    let d = tmp("yes");
    for args in [
        &["destroy", "--help"][..],
        &["volume", "delete", "--help"],
        &["guest-config", "--help"],
    ] {
        let o = dpm(&d, args, &[]);
        assert!(o.status.success(), "{args:?}");
        let help = text(&o.stdout);
        if args[0] == "guest-config" {
            assert!(help.contains("--form") && help.contains("chzdev"), "{help}");
        } else {
            assert!(help.contains("-y, --yes"), "{help}");
        }
    }
}
