//! The wire types read the objects of a configuration export taken from a
//! real HMC, so property names and value shapes (hex strings, `null` against
//! `""`) match the real thing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hmc_client::{
    Adapter, AdapterType, BootDevice, Cpc, FulfillmentState, Partition, PartitionStatus,
    StorageGroup, StorageGroupType, StoragePort, StorageVolume, VolumeUsage,
};
use serde_json::Value;

fn export() -> Value {
    let text = include_str!("data/dpm-export-1p-1sg.json");
    serde_json::from_str(text).unwrap()
}

#[test]
fn cpc_properties_and_features() {
    let e = export();
    let mut cpc = e["cpc-properties"].clone();
    cpc["available-features-list"] = e["available-features-list"].clone();
    cpc["se-version"] = e["se-version"].clone();
    let cpc: Cpc = serde_json::from_value(cpc).unwrap();
    assert!(cpc.has_feature(hmc_client::FEATURE_DPM_STORAGE_MANAGEMENT));
    assert_eq!(cpc.se_version.as_deref(), Some("2.17.0"));
    assert_eq!(cpc.description.as_deref(), Some(""));
}

#[test]
fn every_adapter() {
    let e = export();
    let adapters = e["adapters"].as_array().unwrap();
    assert_eq!(adapters.len(), 100);
    let mut ficon_ports = 0;
    for a in adapters {
        let parsed: Adapter = serde_json::from_value(a.clone())
            .unwrap_or_else(|err| panic!("adapter {}: {err}", a["name"]));
        assert_eq!(parsed.class, "adapter");
        assert_eq!(parsed.object_uri.object_id(), parsed.object_id);
        assert_eq!(parsed.adapter_type.as_str(), a["type"].as_str().unwrap());
        if parsed.adapter_type == AdapterType::Fc {
            ficon_ports += parsed.storage_port_uris.as_ref().unwrap().len();
        }
    }
    assert!(ficon_ports > 0);
}

#[test]
fn every_storage_port() {
    let e = export();
    let ports = e["storage-ports"].as_array().unwrap();
    assert_eq!(ports.len(), 64);
    for p in ports {
        let parsed: StoragePort = serde_json::from_value(p.clone()).unwrap();
        assert_eq!(parsed.class, "storage-port");
        assert_eq!(parsed.element_uri.parent(), parsed.parent);
        assert_eq!(parsed.element_uri.element_id(), parsed.element_id);
        assert_eq!(parsed.index.to_string(), parsed.element_id);
    }
}

#[test]
fn the_partition() {
    let e = export();
    let p: Partition = serde_json::from_value(e["partitions"][0].clone()).unwrap();
    assert_eq!(p.name, "p1");
    assert_eq!(p.status, PartitionStatus::Stopped);
    assert_eq!(p.boot_device, BootDevice::StorageVolume);
    // "" and null both read as "not set".
    assert_eq!(p.boot_world_wide_port_name, None);
    assert_eq!(p.boot_logical_unit_number, None);
    assert_eq!(p.boot_storage_device, None);
    assert!(p.hba_uris.is_empty());
    assert_eq!((p.initial_memory, p.maximum_memory), (16384, 32768));
    assert_eq!(p.storage_group_uris.len(), 1);
    let boot = p.boot_storage_volume.expect("boots from a storage volume");
    assert_eq!(boot.parent(), p.storage_group_uris[0]);
}

#[test]
fn the_storage_group_and_its_volumes() {
    let e = export();
    let g: StorageGroup = serde_json::from_value(e["storage-groups"][0].clone()).unwrap();
    assert_eq!(g.class, "storage-group");
    assert_eq!(g.parent, "/api/console");
    assert_eq!(g.group_type, StorageGroupType::Fc);
    assert_eq!(g.fulfillment_state, FulfillmentState::Complete);
    assert_eq!(g.object_uri.object_id(), g.object_id);
    assert_eq!(g.storage_volume_uris.len(), 6);
    let volumes = e["storage-volumes"].as_array().unwrap();
    for v in volumes {
        let parsed: StorageVolume = serde_json::from_value(v.clone())
            .unwrap_or_else(|err| panic!("volume {}: {err}", v["name"]));
        assert_eq!(parsed.class, "storage-volume");
        assert_eq!(parsed.element_uri.parent(), parsed.parent);
        assert!(g.storage_volume_uris.contains(&parsed.element_uri));
    }
    let boot: StorageVolume = serde_json::from_value(volumes[0].clone()).unwrap();
    assert_eq!(boot.usage, VolumeUsage::Boot);
    assert_eq!(boot.active_size, Some(0.88));
}

#[test]
fn bad_values_are_decode_errors_not_panics() {
    let e = export();
    let mut p = e["partitions"][0].clone();
    p["boot-world-wide-port-name"] = "not-a-wwpn".into();
    let err = serde_json::from_value::<Partition>(p).unwrap_err();
    assert!(err.to_string().contains("WWPN"), "{err}");
    let mut p = e["partitions"][0].clone();
    p["boot-logical-unit-number"] = "not-hex".into();
    assert!(serde_json::from_value::<Partition>(p).is_err());
    let mut p = e["partitions"][0].clone();
    p["boot-logical-unit-number"] = "00010000000000000".into();
    assert!(serde_json::from_value::<Partition>(p).is_err());
    let mut p = e["partitions"][0].clone();
    p["object-uri"] = "/api/cpcs/x".into();
    assert!(serde_json::from_value::<Partition>(p).is_err());
}

/// A boot LUN another tool wrote in a short form reads by value (a real
/// HMC keeps what it was given), so the partition still decodes.
#[test]
fn a_short_boot_lun_reads_by_value() {
    let e = export();
    let mut p = e["partitions"][0].clone();
    p["boot-logical-unit-number"] = "0002".into();
    let parsed: Partition = serde_json::from_value(p).unwrap();
    assert_eq!(
        parsed.boot_logical_unit_number,
        Some("0000000000000002".parse().unwrap())
    );
}

/// A failed job's words: `message`, else `error`; none when `job-results`
/// is absent or `{}` (a real HMC sends each of these).
#[test]
fn a_failed_job_says_what_it_has() {
    let job = |results: serde_json::Value| {
        let mut j = serde_json::json!({"status": "complete", "job-status-code": 500, "job-reason-code": 263});
        if !results.is_null() {
            j["job-results"] = results;
        }
        serde_json::from_value::<hmc_client::Job>(j).unwrap()
    };
    let both = job(serde_json::json!({"message": "m", "error": "e"}));
    assert_eq!(both.message(), Some("m"));
    assert_eq!(job(serde_json::json!({"error": "e"})).message(), Some("e"));
    assert_eq!(job(serde_json::json!({})).message(), None);
    let absent = job(serde_json::Value::Null);
    assert_eq!(absent.message(), None);
    assert!(!absent.succeeded());
}

/// A partition with nothing to boot from writes its boot WWPN and LUN as
/// `""` and its boot HBA as `null`, as the real HMC does (the export), and
/// reads them back as unset.
#[test]
fn unset_boot_fields_are_written_as_the_hmc_writes_them() {
    let e = export();
    let mut p = e["partitions"][0].clone();
    p["boot-world-wide-port-name"] = "".into();
    p["boot-logical-unit-number"] = "".into();
    p["boot-storage-device"] = serde_json::Value::Null;
    let parsed: Partition = serde_json::from_value(p).unwrap();
    let written = serde_json::to_value(&parsed).unwrap();
    assert_eq!(written["boot-world-wide-port-name"], "");
    assert_eq!(written["boot-logical-unit-number"], "");
    assert!(written["boot-storage-device"].is_null());
    let again: Partition = serde_json::from_value(written).unwrap();
    assert_eq!(again.boot_logical_unit_number, None);
    assert_eq!(again.boot_world_wide_port_name, None);
}
