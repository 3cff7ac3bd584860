//! A CPC's full property set, as `GET /api/cpcs/{id}` returns it on a real
//! HMC (118 properties).
//!
//! The recorded export in `hmc-client/tests/data` holds only the CPC
//! properties a DPM configuration export carries (`auto-start-list`,
//! `description`, `management-world-wide-port-name`); the rest of the set
//! is the one zhmcclient's z16 mock gives its DPM CPC (`mocked_hmc_z16.yaml`,
//! whose values were taken from a real machine: temperatures, power
//! readings, firmware levels), plus `class`, `parent` (`null`: a CPC is a
//! top-level object, as the console is) and `object-uri`, which the mock
//! makes itself.
//!
//! Two kinds: hmc-client's [`Cpc`] (what clients read, from the world's
//! state: name, status, mode, processors, memory, machine type and model,
//! SE version, features) and [`CpcFixed`], the rest, in the recorded value
//! shapes: from the state where the world has the value (serial number,
//! acceptable status, memory, service status), else fixed values of the
//! right shape (power and environment readings, capacity-on-demand
//! records, the SE's network, firmware levels) that the simulator does not
//! model.

use hmc_client::{Cpc, CpcStatus, CpcUri, HmcError};
use serde::Serialize;
use serde_json::{json, Value};

use super::HmcState;

/// Simulated time 0 in milliseconds since the epoch (2025-01-01), for the
/// timestamps among the fixed values.
const EPOCH_MS: i64 = 1_735_689_600_000;

/// The hardware system area, MiB (the mock's z16 value; fixed).
const HSA_MIB: u64 = 196_608;

/// The statuses a DPM CPC accepts: those in which partitions can be
/// managed ([`CpcStatus::is_usable`]), so `has-unacceptable-status` says
/// what the CPC list says.
const ACCEPTABLE: [&str; 4] = ["active", "service-required", "degraded", "exceptions"];

/// `GET /api/cpcs/{id}` in full.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct CpcProperties {
    #[serde(flatten)]
    pub core: Cpc,
    #[serde(flatten)]
    pub fixed: CpcFixed,
}

/// Every CPC property that hmc-client's [`Cpc`] does not carry.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct CpcFixed {
    /// `null`: the CPC has no parent object.
    pub parent: Option<String>,
    pub acceptable_status: Vec<&'static str>,
    pub has_unacceptable_status: bool,
    pub additional_status: &'static str,
    pub degraded_status: Vec<&'static str>,
    pub is_service_required: bool,
    pub auto_start_list: Vec<Value>,
    pub machine_serial_number: String,
    pub cpc_serial_number: String,
    pub cpc_node_descriptor: &'static str,
    pub management_world_wide_port_name: Option<String>,
    pub management_enablement_level: &'static str,
    pub is_locked: bool,
    pub is_ensemble_member: bool,
    pub is_cpacf_enabled: bool,
    pub has_automatic_se_switch_enabled: bool,
    pub has_hardware_messages: bool,
    pub has_temporary_capacity_change_allowed: bool,
    pub maximum_alternate_storage_sites: u32,
    pub maximum_hipersockets: u32,
    // Processors beyond the IFLs and general purpose ones.
    pub processor_count_aap: u32,
    pub processor_count_cbp: u32,
    pub processor_count_defective: u32,
    pub processor_count_icf: u32,
    pub processor_count_iip: u32,
    pub processor_count_service_assist: u32,
    pub processor_count_spare: u32,
    pub processor_count_pending: u32,
    pub processor_count_pending_aap: u32,
    pub processor_count_pending_cbp: u32,
    pub processor_count_pending_general_purpose: u32,
    pub processor_count_pending_icf: u32,
    pub processor_count_pending_ifl: u32,
    pub processor_count_pending_iip: u32,
    pub processor_count_pending_service_assist: u32,
    // Memory, MiB.
    pub storage_customer_central: u64,
    pub storage_customer_expanded: u64,
    pub storage_hardware_system_area: u64,
    pub storage_total_installed: u64,
    pub storage_vfm_increment_size: u64,
    pub storage_vfm_total: u64,
    // Capacity on demand and backup.
    pub cbu_activation_date: i64,
    pub cbu_expiration_date: i64,
    pub cbu_number_of_tests_left: u32,
    pub is_cbu_activated: bool,
    pub is_cbu_enabled: bool,
    pub is_cbu_installed: bool,
    pub is_real_cbu_available: bool,
    pub is_on_off_cod_activated: bool,
    pub is_on_off_cod_enabled: bool,
    pub is_on_off_cod_installed: bool,
    pub on_off_cod_activation_date: i64,
    pub msu_permanent: u32,
    pub msu_permanent_plus_billable: u32,
    pub msu_permanent_plus_temporary: u32,
    pub software_model_permanent: &'static str,
    pub software_model_permanent_plus_billable: &'static str,
    pub software_model_permanent_plus_temporary: &'static str,
    // The support element's network.
    pub lan_interface1_address: &'static str,
    pub lan_interface1_type: &'static str,
    pub lan_interface2_address: &'static str,
    pub lan_interface2_type: &'static str,
    pub network1_ipv4_pri_ipaddr: Option<&'static str>,
    pub network1_ipv4_alt_ipaddr: Option<&'static str>,
    pub network1_ipv4_mask: &'static str,
    pub network1_ipv6_info: Vec<Value>,
    pub network2_ipv4_pri_ipaddr: Option<&'static str>,
    pub network2_ipv4_alt_ipaddr: Option<&'static str>,
    pub network2_ipv4_mask: &'static str,
    pub network2_ipv6_info: Vec<Value>,
    // Power and environment (readings of a machine at rest).
    pub last_energy_advice_time: i64,
    pub cpc_power_cap_allowed: Option<u32>,
    pub cpc_power_cap_current: Option<u32>,
    pub cpc_power_cap_maximum: Option<u32>,
    pub cpc_power_cap_minimum: Option<u32>,
    pub cpc_power_capping_state: Option<&'static str>,
    pub cpc_power_consumption: u32,
    pub cpc_power_rating: u32,
    pub cpc_power_save_allowed: &'static str,
    pub cpc_power_saving: &'static str,
    pub cpc_power_saving_state: &'static str,
    pub zcpc_ambient_temperature: f64,
    pub zcpc_dew_point: f64,
    pub zcpc_exhaust_temperature: f64,
    pub zcpc_humidity: u32,
    pub zcpc_heat_load: u32,
    pub zcpc_heat_load_forced_air: u32,
    pub zcpc_heat_load_water: u32,
    pub zcpc_maximum_potential_heat_load: u32,
    pub zcpc_maximum_potential_power: u32,
    pub zcpc_power_cap_allowed: Option<u32>,
    pub zcpc_power_cap_current: Option<u32>,
    pub zcpc_power_cap_maximum: Option<u32>,
    pub zcpc_power_cap_minimum: Option<u32>,
    pub zcpc_power_capping_state: Option<&'static str>,
    pub zcpc_power_consumption: u32,
    pub zcpc_power_rating: u32,
    pub zcpc_power_save_allowed: &'static str,
    pub zcpc_power_saving: &'static str,
    pub zcpc_power_saving_state: &'static str,
    /// The SE's firmware: engineering changes and their levels.
    pub ec_mcl_description: Value,
}

impl HmcState {
    /// `GET /api/cpcs/{id}` in full: 404.1 unless `cpc` is this HMC's.
    pub(crate) fn cpc_properties(&self, cpc: &CpcUri) -> Result<CpcProperties, HmcError> {
        let core = self.get_cpc(cpc)?;
        let c = &self.cpc;
        let status = c.status();
        let customer = c.memory_mib;
        // A CPC at rest: the same readings every time.
        let (watts, rating) = (4_800, 21_000);
        let heat = |w: u32| w.saturating_mul(3_412) / 1_000;
        let fixed = CpcFixed {
            parent: None,
            acceptable_status: ACCEPTABLE.to_vec(),
            has_unacceptable_status: !status.is_usable(),
            additional_status: "",
            degraded_status: vec![if status == CpcStatus::Degraded {
                "other"
            } else {
                "not-degraded"
            }],
            is_service_required: status == CpcStatus::ServiceRequired,
            auto_start_list: Vec::new(),
            machine_serial_number: c.serial.clone(),
            cpc_serial_number: c.serial.clone(),
            cpc_node_descriptor: "00",
            management_world_wide_port_name: None,
            management_enablement_level: "manage",
            is_locked: false,
            is_ensemble_member: false,
            is_cpacf_enabled: true,
            has_automatic_se_switch_enabled: false,
            has_hardware_messages: false,
            has_temporary_capacity_change_allowed: false,
            maximum_alternate_storage_sites: 1,
            maximum_hipersockets: 32,
            processor_count_aap: 0,
            processor_count_cbp: 0,
            processor_count_defective: 0,
            processor_count_icf: 0,
            processor_count_iip: 0,
            processor_count_service_assist: 2,
            processor_count_spare: 2,
            processor_count_pending: 0,
            processor_count_pending_aap: 0,
            processor_count_pending_cbp: 0,
            processor_count_pending_general_purpose: 0,
            processor_count_pending_icf: 0,
            processor_count_pending_ifl: 0,
            processor_count_pending_iip: 0,
            processor_count_pending_service_assist: 0,
            storage_customer_central: customer,
            storage_customer_expanded: 0,
            storage_hardware_system_area: HSA_MIB,
            storage_total_installed: customer.saturating_add(HSA_MIB),
            storage_vfm_increment_size: 16,
            storage_vfm_total: 0,
            cbu_activation_date: 0,
            cbu_expiration_date: 0,
            cbu_number_of_tests_left: 0,
            is_cbu_activated: false,
            is_cbu_enabled: false,
            is_cbu_installed: false,
            is_real_cbu_available: false,
            is_on_off_cod_activated: false,
            is_on_off_cod_enabled: false,
            is_on_off_cod_installed: false,
            on_off_cod_activation_date: 0,
            msu_permanent: 0,
            msu_permanent_plus_billable: 0,
            msu_permanent_plus_temporary: 0,
            software_model_permanent: "400",
            software_model_permanent_plus_billable: "400",
            software_model_permanent_plus_temporary: "400",
            // Locally administered MAC addresses and a documentation
            // network (RFC 5737): nothing that could be someone's.
            lan_interface1_address: "02005e000001",
            lan_interface1_type: "ethernet",
            lan_interface2_address: "02005e000002",
            lan_interface2_type: "ethernet",
            network1_ipv4_pri_ipaddr: Some("192.0.2.10"),
            network1_ipv4_alt_ipaddr: None,
            network1_ipv4_mask: "255.255.255.0",
            network1_ipv6_info: Vec::new(),
            network2_ipv4_pri_ipaddr: None,
            network2_ipv4_alt_ipaddr: None,
            network2_ipv4_mask: "0.0.0.0",
            network2_ipv6_info: Vec::new(),
            last_energy_advice_time: EPOCH_MS,
            cpc_power_cap_allowed: None,
            cpc_power_cap_current: None,
            cpc_power_cap_maximum: None,
            cpc_power_cap_minimum: None,
            cpc_power_capping_state: None,
            cpc_power_consumption: watts,
            cpc_power_rating: rating,
            cpc_power_save_allowed: "allowed",
            cpc_power_saving: "high-performance",
            cpc_power_saving_state: "high-performance",
            zcpc_ambient_temperature: 22.0,
            zcpc_dew_point: 11.5,
            zcpc_exhaust_temperature: 29.0,
            zcpc_humidity: 45,
            zcpc_heat_load: heat(watts),
            zcpc_heat_load_forced_air: heat(watts),
            zcpc_heat_load_water: 0,
            zcpc_maximum_potential_heat_load: heat(7_000),
            zcpc_maximum_potential_power: 7_000,
            zcpc_power_cap_allowed: None,
            zcpc_power_cap_current: None,
            zcpc_power_cap_maximum: None,
            zcpc_power_cap_minimum: None,
            zcpc_power_capping_state: None,
            zcpc_power_consumption: watts,
            zcpc_power_rating: rating,
            zcpc_power_save_allowed: "under-group-control",
            zcpc_power_saving: "high-performance",
            zcpc_power_saving_state: "high-performance",
            ec_mcl_description: ec_mcl_description(),
        };
        Ok(CpcProperties { core, fixed })
    }
}

/// The SE's firmware levels: pending actions and engineering changes with
/// their microcode levels, in the shape the HMC reports them (values the
/// simulator's own).
fn ec_mcl_description() -> Value {
    let action = |kind: &str, activation: &str| json!({"type": kind, "activation": activation, "pending": false});
    let mcl = |level: &str| {
        json!([
            {"type": "retrieved", "level": level, "last-update": EPOCH_MS},
            {"type": "activated", "level": level, "last-update": EPOCH_MS},
            {"type": "accepted", "level": level, "last-update": EPOCH_MS},
            {"type": "installable-concurrent", "level": level, "last-update": null},
            {"type": "removable-concurrent", "level": "000", "last-update": null},
        ])
    };
    json!({
        "action": [
            action("channel-config", "current"),
            action("power-on-reset-tracking", "current"),
            action("channel-config", "next"),
            action("power-on-reset-tracking", "next"),
        ],
        "ec": [
            {"number": "S00001", "part-number": "00SIM01", "type": "Base EC",
             "description": "SE Framework (dpm-sim)", "mcl": mcl("001")},
        ],
    })
}

#[cfg(test)]
mod tests {
    use crate::spec::WorldSpec;

    #[test]
    fn the_two_kinds_do_not_share_a_name() {
        let mut ids = crate::ids::Ids::default();
        let hmc = super::HmcState::new(&WorldSpec::z16(), &mut ids).unwrap();
        let full = hmc.cpc_properties(&hmc.cpc.uri()).unwrap();
        let core = serde_json::to_value(&full.core).unwrap();
        let fixed = serde_json::to_value(&full.fixed).unwrap();
        let (core, fixed) = (core.as_object().unwrap(), fixed.as_object().unwrap());
        assert!(core.keys().all(|k| !fixed.contains_key(k)));
        assert_eq!(core.len() + fixed.len(), 118);
    }
}
