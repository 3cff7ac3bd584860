//! A partition's full property set, as `GET /api/partitions/{id}` returns
//! it on a real HMC (about 90 properties; the recorded export in
//! `hmc-client/tests/data` and zhmcclient's mock defaults are the sources).
//!
//! Three kinds: hmc-client's [`Partition`] (what clients read, from the
//! state), [`Settings`] (writable properties the simulator stores but does
//! not act on: the short name, weights, capping, counters, boot timeout and
//! parameters, acceptable status), and [`ReadOnly`] (derived from the state
//! or the real HMC's value for what the simulator does not model: no OS
//! reports, no crypto, no tape or partition links, no virtual functions).
//!
//! Left out on purpose: `cpc-name` and `se-version`, which the export's
//! partition carries but which belong to the console's list entries
//! (zhmcclient's `list_permitted_partitions` documents both as list
//! properties) and to the inventory the export is made from, not to Get
//! Partition Properties (the stricter reading; unconfirmed). The `ssc-*`
//! properties exist only on `ssc` partitions, which the simulator does not
//! create.

use hmc_client::{BootDevice, CpcUri, Feature, HmcError, Partition, PartitionStatus, PartitionUri};
use serde::{Deserialize, Serialize};

use super::reason;
use crate::ids::unreachable_uri;

/// The writable properties the simulator stores but does not act on, with
/// the real HMC's values for a new partition (the export's, where the mock
/// differs).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Settings {
    /// The LPAR name: 1 to 8 of `A-Z 0-9 @ # $`, unique on the CPC.
    pub short_name: String,
    pub acceptable_status: Vec<PartitionStatus>,
    pub auto_start: bool,
    /// Seconds, 60 to 600.
    pub boot_timeout: u32,
    /// At most 8 characters.
    pub boot_load_parameters: String,
    /// At most 256 characters.
    pub boot_os_specific_parameters: String,
    pub reserve_resources: bool,
    pub initial_ifl_processing_weight: u32,
    pub initial_cp_processing_weight: u32,
    pub minimum_ifl_processing_weight: u32,
    pub minimum_cp_processing_weight: u32,
    pub maximum_ifl_processing_weight: u32,
    pub maximum_cp_processing_weight: u32,
    pub ifl_processing_weight_capped: bool,
    pub cp_processing_weight_capped: bool,
    pub ifl_absolute_processor_capping: bool,
    pub ifl_absolute_processor_capping_value: f64,
    pub cp_absolute_processor_capping: bool,
    pub cp_absolute_processor_capping_value: f64,
    pub access_basic_counter_set: bool,
    pub access_basic_sampling: bool,
    pub access_coprocessor_group_set: bool,
    pub access_crypto_activity_counter_set: bool,
    pub access_diagnostic_sampling: bool,
    pub access_extended_counter_set: bool,
    pub access_global_performance_data: bool,
    pub access_problem_state_counter_set: bool,
    pub permit_aes_key_import_functions: bool,
    pub permit_cross_partition_commands: bool,
    pub permit_des_key_import_functions: bool,
    pub permit_ecc_key_import_functions: bool,
    pub permit_hmac_key_import_functions: bool,
}

/// The names of [`Settings`]: writable on create and update.
pub(crate) const SETTINGS: &[&str] = &[
    "short-name",
    "acceptable-status",
    "auto-start",
    "boot-timeout",
    "boot-load-parameters",
    "boot-os-specific-parameters",
    "reserve-resources",
    "initial-ifl-processing-weight",
    "initial-cp-processing-weight",
    "minimum-ifl-processing-weight",
    "minimum-cp-processing-weight",
    "maximum-ifl-processing-weight",
    "maximum-cp-processing-weight",
    "ifl-processing-weight-capped",
    "cp-processing-weight-capped",
    "ifl-absolute-processor-capping",
    "ifl-absolute-processor-capping-value",
    "cp-absolute-processor-capping",
    "cp-absolute-processor-capping-value",
    "access-basic-counter-set",
    "access-basic-sampling",
    "access-coprocessor-group-set",
    "access-crypto-activity-counter-set",
    "access-diagnostic-sampling",
    "access-extended-counter-set",
    "access-global-performance-data",
    "access-problem-state-counter-set",
    "permit-aes-key-import-functions",
    "permit-cross-partition-commands",
    "permit-des-key-import-functions",
    "permit-ecc-key-import-functions",
    "permit-hmac-key-import-functions",
];

impl Settings {
    /// A new partition's settings, with its short name.
    pub(crate) fn new(short_name: String) -> Self {
        Self {
            short_name,
            acceptable_status: vec![PartitionStatus::Active],
            auto_start: false,
            boot_timeout: 60,
            boot_load_parameters: String::new(),
            boot_os_specific_parameters: String::new(),
            reserve_resources: false,
            initial_ifl_processing_weight: 100,
            initial_cp_processing_weight: 100,
            minimum_ifl_processing_weight: 1,
            minimum_cp_processing_weight: 1,
            maximum_ifl_processing_weight: 999,
            maximum_cp_processing_weight: 999,
            ifl_processing_weight_capped: false,
            cp_processing_weight_capped: false,
            ifl_absolute_processor_capping: false,
            ifl_absolute_processor_capping_value: 1.0,
            cp_absolute_processor_capping: false,
            cp_absolute_processor_capping_value: 1.0,
            access_basic_counter_set: false,
            access_basic_sampling: false,
            access_coprocessor_group_set: false,
            access_crypto_activity_counter_set: false,
            access_diagnostic_sampling: false,
            access_extended_counter_set: false,
            access_global_performance_data: false,
            access_problem_state_counter_set: false,
            permit_aes_key_import_functions: true,
            permit_cross_partition_commands: false,
            permit_des_key_import_functions: true,
            permit_ecc_key_import_functions: true,
            permit_hmac_key_import_functions: true,
        }
    }

    /// These settings with `u` applied, checked as a whole (400.7 for a
    /// value out of range); the short name's uniqueness is the caller's.
    pub(crate) fn with(&self, u: &SettingsUpdate) -> Result<Self, String> {
        let mut s = self.clone();
        macro_rules! set {
            ($($f:ident),+) => { $( if let Some(v) = &u.$f { s.$f = v.clone(); } )+ };
        }
        set!(
            short_name,
            acceptable_status,
            auto_start,
            boot_timeout,
            boot_load_parameters,
            boot_os_specific_parameters,
            reserve_resources,
            initial_ifl_processing_weight,
            initial_cp_processing_weight,
            minimum_ifl_processing_weight,
            minimum_cp_processing_weight,
            maximum_ifl_processing_weight,
            maximum_cp_processing_weight,
            ifl_processing_weight_capped,
            cp_processing_weight_capped,
            ifl_absolute_processor_capping,
            ifl_absolute_processor_capping_value,
            cp_absolute_processor_capping,
            cp_absolute_processor_capping_value,
            access_basic_counter_set,
            access_basic_sampling,
            access_coprocessor_group_set,
            access_crypto_activity_counter_set,
            access_diagnostic_sampling,
            access_extended_counter_set,
            access_global_performance_data,
            access_problem_state_counter_set,
            permit_aes_key_import_functions,
            permit_cross_partition_commands,
            permit_des_key_import_functions,
            permit_ecc_key_import_functions,
            permit_hmac_key_import_functions
        );
        s.check()?;
        Ok(s)
    }

    /// The value rules. The ranges are the HMC book's as far as the public
    /// sources show them; where they are silent (the capping value's
    /// bounds) the stricter reading is taken.
    fn check(&self) -> Result<(), String> {
        if !valid_short_name(&self.short_name) {
            return Err(format!(
                "short-name {:?} must be 1 to 8 of A-Z, 0-9, @, # and $.",
                self.short_name
            ));
        }
        if let Some(s) = self
            .acceptable_status
            .iter()
            .find(|s| matches!(s, PartitionStatus::Other(_)))
        {
            return Err(format!(
                "acceptable-status {s:?} is not a partition status."
            ));
        }
        if !(60..=600).contains(&self.boot_timeout) {
            return Err("boot-timeout must be 60 to 600 seconds.".into());
        }
        if self.boot_load_parameters.chars().count() > 8 {
            return Err("boot-load-parameters is at most 8 characters.".into());
        }
        if self.boot_os_specific_parameters.chars().count() > 256 {
            return Err("boot-os-specific-parameters is at most 256 characters.".into());
        }
        for (kind, min, initial, max) in [
            (
                "ifl",
                self.minimum_ifl_processing_weight,
                self.initial_ifl_processing_weight,
                self.maximum_ifl_processing_weight,
            ),
            (
                "cp",
                self.minimum_cp_processing_weight,
                self.initial_cp_processing_weight,
                self.maximum_cp_processing_weight,
            ),
        ] {
            let in_range = [min, initial, max].iter().all(|w| (1..=999).contains(w));
            if !in_range || min > initial || initial > max {
                return Err(format!(
                    "the {kind} processing weights must be 1 to 999, minimum <= initial <= maximum."
                ));
            }
        }
        for (kind, v) in [
            ("ifl", self.ifl_absolute_processor_capping_value),
            ("cp", self.cp_absolute_processor_capping_value),
        ] {
            if !(0.01..=255.0).contains(&v) {
                return Err(format!(
                    "{kind}-absolute-processor-capping-value must be 0.01 to 255."
                ));
            }
        }
        Ok(())
    }
}

/// Whether `s` is a valid short name: 1 to 8 of `A-Z 0-9 @ # $`.
fn valid_short_name(s: &str) -> bool {
    (1..=8).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b"@#$".contains(&b))
}

/// The short name a new partition named `name` gets when it is given
/// none: its letters and digits upper-cased, at most 8, made unique with
/// a number at the end (the HMC derives one; its exact rule is not public).
pub(crate) fn derive_short_name(name: &str, taken: impl Fn(&str) -> bool) -> String {
    let mut base: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .take(8)
        .collect();
    if base.is_empty() {
        base.push('P');
    }
    if !taken(&base) {
        return base;
    }
    // At most 85 partitions on a CPC: a free number always exists.
    (1u32..)
        .map(|n| {
            let n = n.to_string();
            let keep = 8usize.saturating_sub(n.len()).min(base.len());
            format!("{}{n}", &base[..keep])
        })
        .find(|s| !taken(s))
        .unwrap_or(base)
}

/// The [`Settings`] a create or update body names; the rest of the body is
/// read by hmc-client's types.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct SettingsUpdate {
    pub short_name: Option<String>,
    pub acceptable_status: Option<Vec<PartitionStatus>>,
    pub auto_start: Option<bool>,
    pub boot_timeout: Option<u32>,
    pub boot_load_parameters: Option<String>,
    pub boot_os_specific_parameters: Option<String>,
    pub reserve_resources: Option<bool>,
    pub initial_ifl_processing_weight: Option<u32>,
    pub initial_cp_processing_weight: Option<u32>,
    pub minimum_ifl_processing_weight: Option<u32>,
    pub minimum_cp_processing_weight: Option<u32>,
    pub maximum_ifl_processing_weight: Option<u32>,
    pub maximum_cp_processing_weight: Option<u32>,
    pub ifl_processing_weight_capped: Option<bool>,
    pub cp_processing_weight_capped: Option<bool>,
    pub ifl_absolute_processor_capping: Option<bool>,
    pub ifl_absolute_processor_capping_value: Option<f64>,
    pub cp_absolute_processor_capping: Option<bool>,
    pub cp_absolute_processor_capping_value: Option<f64>,
    pub access_basic_counter_set: Option<bool>,
    pub access_basic_sampling: Option<bool>,
    pub access_coprocessor_group_set: Option<bool>,
    pub access_crypto_activity_counter_set: Option<bool>,
    pub access_diagnostic_sampling: Option<bool>,
    pub access_extended_counter_set: Option<bool>,
    pub access_global_performance_data: Option<bool>,
    pub access_problem_state_counter_set: Option<bool>,
    pub permit_aes_key_import_functions: Option<bool>,
    pub permit_cross_partition_commands: Option<bool>,
    pub permit_des_key_import_functions: Option<bool>,
    pub permit_ecc_key_import_functions: Option<bool>,
    pub permit_hmac_key_import_functions: Option<bool>,
}

/// The properties a client cannot set (here): derived from the state, or
/// the real HMC's value for what the simulator does not model.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct ReadOnly {
    pub autogenerate_partition_id: bool,
    /// Two hex digits while the partition is active; `null` while it is
    /// stopped (as the export's stopped partition reads).
    pub partition_id: Option<String>,
    /// The CPC's firmware features.
    pub available_features_list: Vec<Feature>,
    pub has_unacceptable_status: bool,
    /// Maximum less initial memory, MiB.
    pub reserved_memory: u64,
    /// The initial weight while the partition runs, 1 otherwise (the
    /// export's stopped partition reads 1).
    pub current_ifl_processing_weight: u32,
    pub current_cp_processing_weight: u32,
    pub boot_configuration: &'static str,
    pub boot_configuration_selector: u32,
    pub boot_ftp_host: Option<String>,
    pub boot_ftp_insfile: Option<String>,
    pub boot_ftp_username: Option<String>,
    pub boot_iso_image_name: Option<String>,
    pub boot_iso_ins_file: Option<String>,
    pub boot_loader_mode: &'static str,
    pub boot_network_device: Option<String>,
    pub boot_record_lba: &'static str,
    pub boot_record_location: Option<String>,
    pub boot_removable_media: Option<String>,
    pub boot_removable_media_type: Option<String>,
    pub crypto_configuration: Option<serde_json::Value>,
    pub degraded_adapters: Vec<String>,
    pub is_locked: bool,
    pub os_current_cp_processors: u32,
    pub os_current_ifl_processors: u32,
    pub os_current_memory: u64,
    pub os_name: String,
    pub os_type: String,
    pub os_version: String,
    pub processor_management_enabled: bool,
    pub secure_boot: bool,
    pub secure_execution: bool,
    pub threads_per_processor: u32,
    pub virtual_function_uris: Vec<String>,
    pub tape_link_uris: Vec<String>,
    pub partition_link_uris: Vec<String>,
    pub assigned_certificate_uris: Vec<String>,
}

impl ReadOnly {
    /// The read-only properties of a partition whose `core` properties and
    /// `settings` these are, with its `partition_id` and its CPC's
    /// `features`.
    pub(crate) fn new(
        core: &Partition,
        settings: &Settings,
        partition_id: Option<u8>,
        features: Vec<Feature>,
    ) -> Self {
        let running = partition_id.is_some();
        let current = |w: u32| if running { w } else { 1 };
        Self {
            autogenerate_partition_id: true,
            partition_id: partition_id.map(|id| format!("{id:02X}")),
            available_features_list: features,
            has_unacceptable_status: !settings.acceptable_status.contains(&core.status),
            reserved_memory: core.maximum_memory.saturating_sub(core.initial_memory),
            current_ifl_processing_weight: current(settings.initial_ifl_processing_weight),
            current_cp_processing_weight: current(settings.initial_cp_processing_weight),
            boot_configuration: "automatic",
            boot_configuration_selector: 0,
            boot_ftp_host: None,
            boot_ftp_insfile: None,
            boot_ftp_username: None,
            boot_iso_image_name: None,
            boot_iso_ins_file: None,
            boot_loader_mode: "channel-command-word",
            boot_network_device: None,
            boot_record_lba: "0",
            boot_record_location: None,
            boot_removable_media: None,
            boot_removable_media_type: None,
            crypto_configuration: None,
            degraded_adapters: Vec::new(),
            is_locked: false,
            os_current_cp_processors: 0,
            os_current_ifl_processors: 0,
            os_current_memory: 0,
            os_name: String::new(),
            os_type: String::new(),
            os_version: String::new(),
            processor_management_enabled: false,
            secure_boot: false,
            secure_execution: false,
            threads_per_processor: 0,
            virtual_function_uris: Vec::new(),
            tape_link_uris: Vec::new(),
            partition_link_uris: Vec::new(),
            assigned_certificate_uris: Vec::new(),
        }
    }
}

/// `GET /api/partitions/{id}` in full.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct PartitionProperties {
    #[serde(flatten)]
    pub core: Partition,
    #[serde(flatten)]
    pub settings: Settings,
    #[serde(flatten)]
    pub read_only: ReadOnly,
}

/// Every name in a partition's full property set.
pub(crate) fn names() -> Vec<String> {
    let id = "00000000-0000-0000-0000-000000000000";
    let core = Partition {
        object_id: id.into(),
        object_uri: PartitionUri::from_object_id(id).unwrap_or_else(|_| unreachable_uri()),
        parent: CpcUri::from_object_id(id).unwrap_or_else(|_| unreachable_uri()),
        class: "partition".into(),
        name: String::new(),
        description: String::new(),
        status: PartitionStatus::Stopped,
        partition_type: None,
        ifl_processors: 0,
        cp_processors: 0,
        initial_memory: 0,
        maximum_memory: 0,
        processor_mode: None,
        hba_uris: Vec::new(),
        nic_uris: Vec::new(),
        boot_device: BootDevice::None,
        boot_storage_device: None,
        boot_world_wide_port_name: None,
        boot_logical_unit_number: None,
        storage_group_uris: Vec::new(),
        boot_storage_volume: None,
    };
    let settings = Settings::new(String::new());
    let read_only = ReadOnly::new(&core, &settings, None, Vec::new());
    let full = PartitionProperties {
        core,
        settings,
        read_only,
    };
    match serde_json::to_value(full) {
        Ok(serde_json::Value::Object(m)) => m.into_iter().map(|(k, _)| k).collect(),
        _ => Vec::new(),
    }
}

/// A settings refusal as the HMC answers it: 400.7.
pub(crate) fn invalid(method: &'static str, uri: &str, message: String) -> HmcError {
    HmcError::api(method, uri, 400, reason::INVALID_VALUE, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_kinds_do_not_share_a_name() {
        let n = names();
        let unique: std::collections::BTreeSet<&String> = n.iter().collect();
        assert_eq!(unique.len(), n.len());
        // The recorded export's 92, less cpc-name and se-version.
        assert_eq!(n.len(), 90, "{n:?}");
    }

    #[test]
    fn settings_names_are_the_serialized_ones() {
        let v = serde_json::to_value(Settings::new("P".into())).unwrap();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut names = SETTINGS.to_vec();
        keys.sort_unstable();
        names.sort_unstable();
        assert_eq!(keys, names);
    }

    #[test]
    fn settings_updates_are_checked_as_a_whole() {
        let s = Settings::new("WEB1".into());
        let u = SettingsUpdate {
            initial_ifl_processing_weight: Some(500),
            minimum_ifl_processing_weight: Some(400),
            boot_timeout: Some(120),
            ..SettingsUpdate::default()
        };
        let t = s.with(&u).unwrap();
        assert_eq!(
            (
                t.initial_ifl_processing_weight,
                t.minimum_ifl_processing_weight,
                t.boot_timeout
            ),
            (500, 400, 120)
        );
        // Minimum above initial, in one update or across two.
        let bad = SettingsUpdate {
            minimum_ifl_processing_weight: Some(101),
            ..SettingsUpdate::default()
        };
        assert!(s.with(&bad).is_err());
        for bad in [
            SettingsUpdate {
                boot_timeout: Some(59),
                ..SettingsUpdate::default()
            },
            SettingsUpdate {
                short_name: Some("lower".into()),
                ..SettingsUpdate::default()
            },
            SettingsUpdate {
                short_name: Some("TOOLONGNAME".into()),
                ..SettingsUpdate::default()
            },
            SettingsUpdate {
                boot_load_parameters: Some("123456789".into()),
                ..SettingsUpdate::default()
            },
            SettingsUpdate {
                acceptable_status: Some(vec![PartitionStatus::Other("fine".into())]),
                ..SettingsUpdate::default()
            },
            SettingsUpdate {
                cp_absolute_processor_capping_value: Some(0.0),
                ..SettingsUpdate::default()
            },
        ] {
            assert!(s.with(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn short_names_are_derived_unique() {
        let none = |_: &str| false;
        assert_eq!(derive_short_name("p1", none), "P1");
        assert_eq!(derive_short_name("OpenStack-host-1234", none), "OPENSTAC");
        assert_eq!(derive_short_name("---", none), "P");
        let taken = ["OPENSTAC", "OPENSTA1"];
        assert_eq!(
            derive_short_name("OpenStack-x", |s| taken.contains(&s)),
            "OPENSTA2"
        );
        assert_eq!(derive_short_name("ab", |s| s == "AB"), "AB1");
    }
}
