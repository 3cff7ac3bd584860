use dpm_driver::{ConfigError, DriverConfig};
use rstest::rstest;

const GOOD: &str = r#"
[dpm]
host = "compute-1"
hmc = "https://hmc:6794"
hmc_username = "nova"
hmc_password = "s3cr3t-pw"
cpc_object_id = "c0000001-63d7-11f0-8067-fa163ed76c47"
max_processors = 4
max_memory = 8192
physical_storage_adapter_mappings = ["a0000002-63d7-11f0-8067-fa163ed76c47:0", "A0000003-63D7-11F0-8067-FA163ED76C47:1"]
target_wwpn_ignore_list = ["50:05:07:68:0B:21:55:AB"]

[cinder]
ignored = "by the driver"
"#;

#[test]
fn loads_and_keeps_the_password_secret() {
    let c = DriverConfig::from_toml(GOOD).unwrap();
    assert_eq!(c.adapter_mappings.len(), 2);
    assert_eq!(c.adapter_mappings[1].port, 1);
    assert_eq!(
        c.adapter_mappings[1].adapter.object_id(),
        "a0000003-63d7-11f0-8067-fa163ed76c47"
    );
    assert_eq!(c.target_wwpn_ignore_list[0].to_string(), "500507680b2155ab");
    assert_eq!(c.max_boot_attempts, 4, "the default");
    assert_eq!(c.guest_shutdown_command, "shutdown -h now", "the default");
    assert_eq!(c.hmc_password.expose(), "s3cr3t-pw");
    assert!(!format!("{c:?}").contains("s3cr3t"));
}

#[rstest]
#[case("host = \"compute-1\"", "host = \"  \"", "MissingHost")]
#[case("host = \"compute-1\"", "host = \"compute-host-00018\"", "BadHost")]
#[case("host = \"compute-1\"", "host = \"compute 1\"", "BadHost")]
#[case("c0000001-63d7-11f0-8067-fa163ed76c47\"", "cpc-1\"", "BadCpcObjectId")]
#[case("max_processors = 4", "max_processors = 0", "NoProcessors")]
#[case(
    "max_processors = 4",
    "max_processors = 4\nmax_boot_attempts = 0",
    "NoBootAttempts"
)]
#[case("max_memory = 8192", "max_memory = 511", "MaxMemoryTooSmall")]
#[case(
    "\"a0000002-63d7-11f0-8067-fa163ed76c47:0\", \"A0000003-63D7-11F0-8067-FA163ED76C47:1\"",
    "",
    "NoAdapterMappings"
)]
#[case("fa163ed76c47:0\"", "fa163ed76c47:4\"", "BadAdapterMapping")]
#[case("fa163ed76c47:0\"", "fa163ed76c47\"", "BadAdapterMapping")]
#[case(
    "A0000003-63D7-11F0-8067-FA163ED76C47:1",
    "a0000002-63d7-11f0-8067-fa163ed76c47:0",
    "DuplicateAdapterMapping"
)]
#[case("max_memory = 8192", "max_memory = \"lots\"", "Toml")]
#[case("\"50:05:07:68:0B:21:55:AB\"", "\"5005\"", "BadTargetWwpn")]
#[case("max_memory = 8192", "max_memory = 8192\nmax_mem = 1", "Toml")]
#[case(
    "max_memory = 8192",
    "max_memory = 8192\nguest_shutdown_command = \" \"",
    "BadGuestShutdownCommand"
)]
#[case(
    "max_memory = 8192",
    "max_memory = 8192\nguest_shutdown_command = \"sync\\nshutdown -h now\"",
    "BadGuestShutdownCommand"
)]
fn refusals(#[case] from: &str, #[case] to: &str, #[case] variant: &str) {
    let text = GOOD.replacen(from, to, 1);
    assert_ne!(text, GOOD, "the case must change the text");
    let err = DriverConfig::from_toml(&text).unwrap_err();
    assert!(format!("{err:?}").starts_with(variant), "{err:?}");
    assert!(!err.to_string().is_empty());
    // A config error never carries the password.
    assert!(!format!("{err:?} {err}").contains("s3cr3t"));
}

/// The longest host still makes names the HMC takes.
#[test]
fn a_host_of_17_characters_fits() {
    let c = DriverConfig::from_toml(&GOOD.replace("compute-1", "compute-host-0017")).unwrap();
    assert_eq!(c.host.len(), dpm_driver::MAX_HOST_LEN);
    let name = format!(
        "OpenStack-{}-{}",
        c.host, "8b2c66c1-4b3f-4bb5-bf3b-1f6fbdcfdc63"
    );
    assert_eq!(name.len(), 64);
}

#[test]
fn a_bad_password_value_is_not_repeated() {
    let text = GOOD.replace("hmc_password = \"s3cr3t-pw\"", "hmc_password = 73123");
    let err = DriverConfig::from_toml(&text).unwrap_err();
    let shown = format!("{err:?} {err}");
    assert!(!shown.contains("73123"), "{shown}");
    assert!(shown.contains("hmc_password"), "{shown}");
}

#[test]
fn the_guest_shutdown_command_is_one_line_named_when_refused() {
    let c = DriverConfig::from_toml(&GOOD.replace(
        "max_memory = 8192",
        "max_memory = 8192\nguest_shutdown_command = \"  poweroff \"",
    ))
    .unwrap();
    assert_eq!(c.guest_shutdown_command, "poweroff");
    let e = DriverConfig::from_toml(&GOOD.replace(
        "max_memory = 8192",
        "max_memory = 8192\nguest_shutdown_command = \"\"",
    ))
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "[dpm] guest_shutdown_command \"\" must be one non-empty command line (no line breaks)"
    );
}

#[test]
fn errors_read_as_sentences() {
    let e = DriverConfig::from_toml(&GOOD.replace("max_memory = 8192", "max_memory = 100"))
        .unwrap_err();
    assert!(matches!(e, ConfigError::MaxMemoryTooSmall { value: 100 }));
    assert_eq!(
        e.to_string(),
        "[dpm] max_memory is 100 MiB; it must be at least 512"
    );
}
