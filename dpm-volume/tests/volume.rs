//! The volume driver: connectors, LUN paths, boot paths and the record of
//! attached volumes, from real Cinder answers.

#![allow(clippy::unwrap_used)]

use cinder_client::{ConnectionInfo, FcInfoError};
use dpm_volume::{boot_candidates, boot_path, connector, paths, Vhba, VolumeError};
use fc_types::{FcpLun, Wwpn};
use rstest::rstest;
use serde_json::{json, Value};

const I0: &str = "c05076ffe5000a10";
const I1: &str = "c05076ffe5000a11";
const A1: &str = "500507680b2155ab";
const A2: &str = "500507680b2155ac";
const B1: &str = "500507680b2255ab";

fn w(s: &str) -> Wwpn {
    s.parse().unwrap()
}

fn vhbas() -> Vec<Vhba> {
    vec![
        Vhba {
            uri: "/api/partitions/p/hbas/h0".parse().unwrap(),
            wwpn: w(I0),
            device_number: "1900".parse().unwrap(),
        },
        Vhba {
            uri: "/api/partitions/p/hbas/h1".parse().unwrap(),
            wwpn: w(I1),
            device_number: "1901".parse().unwrap(),
        },
    ]
}

fn info(data: Value) -> ConnectionInfo {
    serde_json::from_value(json!({"driver_volume_type": "fibre_channel", "data": data})).unwrap()
}

fn two_fabrics(lun: u64) -> ConnectionInfo {
    info(json!({"target_lun": lun, "target_wwn": [A1, A2, B1],
        "initiator_target_map": {I0: [A1, A2], I1: [B1]}}))
}

#[test]
fn connector_shape() {
    let c = connector(&vhbas(), "compute-1").unwrap();
    let j = serde_json::to_value(&c).unwrap();
    assert_eq!(j["wwpns"], json!([I0, I1]));
    assert_eq!(j["wwnns"].as_array().unwrap().len(), 2);
    assert_eq!(j["platform"], "s390x");
    assert_eq!(j["os_type"], "linux");
    assert_eq!(j["multipath"], false);
    assert_eq!(j["host"], "compute-1");
    assert!(matches!(connector(&[], "h"), Err(VolumeError::NoVhbas)));
}

#[test]
fn boot_path_uses_first_vhba_and_first_mapped_target() {
    let b = boot_path(&two_fabrics(2), &vhbas(), &[]).unwrap();
    assert_eq!(b.hba, vhbas()[0].uri);
    assert_eq!(b.target, w(A1));
    assert_eq!(b.lun.to_string(), "0002000000000000");
}

/// Storwize's answer before the partition has logged in: every target for
/// every initiator. The candidates run vHBA by vHBA, in the map's order,
/// without the ignored ones.
#[test]
fn candidates_go_vhba_by_vhba_in_map_order_without_ignored_targets() {
    let all_to_all = info(json!({"target_lun": 2, "target_wwn": [B1, A1, A2],
        "initiator_target_map": {I0: [B1, A1, A2], I1: [B1, A1, A2]}}));
    let c = boot_candidates(&all_to_all, &vhbas(), &[w(A2)]).unwrap();
    let got: Vec<(String, Wwpn)> = c.iter().map(|b| (b.hba.to_string(), b.target)).collect();
    assert_eq!(
        got,
        [
            ("/api/partitions/p/hbas/h0".to_owned(), w(B1)),
            ("/api/partitions/p/hbas/h0".to_owned(), w(A1)),
            ("/api/partitions/p/hbas/h1".to_owned(), w(B1)),
            ("/api/partitions/p/hbas/h1".to_owned(), w(A1)),
        ]
    );
    assert!(c.iter().all(|b| b.lun == FcpLun::from_target_lun(2)));
    // The vHBAs in the order the caller gives: the second adapter first.
    let mut swapped = vhbas();
    swapped.reverse();
    assert_eq!(
        boot_path(&all_to_all, &swapped, &[]).unwrap().hba,
        vhbas()[1].uri
    );
    // A first vHBA missing from the map: the second one boots.
    let only_second = info(json!({"target_lun": 1, "target_wwn": [B1],
        "initiator_target_map": {I1: [B1]}}));
    assert_eq!(
        boot_path(&only_second, &vhbas(), &[]).unwrap().hba,
        vhbas()[1].uri
    );
}

#[test]
fn ignore_list_is_compared_canonically() {
    let ignore = ["0x50:05:07:68:0B:21:55:AB".parse().unwrap()];
    let b = boot_path(&two_fabrics(1), &vhbas(), &ignore).unwrap();
    assert_eq!(b.target, w(A2));
}

#[test]
fn uppercase_map_keys_match_lowercase_hmc_wwpns() {
    // nova-dpm compared raw strings and failed here.
    let i = info(json!({"target_lun": 1, "target_wwn": [A1],
        "initiator_target_map": {"C05076FFE5000A10": ["500507680B2155AB"]}}));
    assert_eq!(boot_path(&i, &vhbas(), &[]).unwrap().target, w(A1));
}

#[test]
fn no_map_falls_back_to_target_wwn() {
    let i = info(json!({"target_lun": 3, "target_wwn": [A2, A1]}));
    let b = boot_path(&i, &vhbas(), &[w(A2)]).unwrap();
    assert_eq!((b.target, b.lun), (w(A1), FcpLun::from_target_lun(3)));
    let i = info(json!({"target_wwns": [A2, A1], "target_luns": [4, 5]}));
    assert_eq!(
        boot_path(&i, &vhbas(), &[w(A2)]).unwrap().lun,
        FcpLun::from_target_lun(5)
    );
}

#[test]
fn paths_cover_every_vhba() {
    let p = paths(&two_fabrics(1), &vhbas()).unwrap();
    assert_eq!(p.len(), 3);
    assert_eq!(
        p.iter()
            .filter(|x| x.device_number.to_string() == "1900")
            .count(),
        2
    );
    assert_eq!(
        p.iter()
            .filter(|x| x.device_number.to_string() == "1901")
            .count(),
        1
    );
    // Without a map every vHBA may use every target.
    let p = paths(
        &info(json!({"target_lun": 1, "target_wwn": [A1, B1]})),
        &vhbas(),
    )
    .unwrap();
    assert_eq!(p.len(), 4);
}

#[rstest]
#[case::not_fc(
    serde_json::from_value(json!({"driver_volume_type": "iscsi", "data": {}})).unwrap(),
    "not fibre_channel")]
#[case::vhbas_missing(
    info(json!({"target_lun": 1, "target_wwn": [B1], "initiator_target_map": {"c05076ffe5000aff": [B1]}})),
    "not in the initiator_target_map")]
#[case::all_ignored(
    info(json!({"target_lun": 1, "target_wwn": [A1], "initiator_target_map": {I0: [A1]}})),
    "target_wwpn_ignore_list")]
#[case::bad_wwpn(
    info(json!({"target_lun": 1, "target_wwn": ["5005"]})),
    "bad WWPN")]
#[case::unequal(
    info(json!({"target_wwns": [A1, A2, B1], "target_luns": [1, 2]})),
    "pair up")]
#[case::lun_out_of_range(
    info(json!({"target_wwn": [A1], "target_lun": -3})),
    "out of range")]
#[case::no_lun_for_target(
    info(json!({"target_wwns": [A2, B1], "target_luns": [1, 2], "initiator_target_map": {I0: [A1, "500507680b2155ad"]}})),
    "no LUN for target")]
fn boot_path_errors(#[case] i: ConnectionInfo, #[case] says: &str) {
    let err = boot_path(&i, &vhbas(), &[w(A1)]).unwrap_err();
    let full = format!(
        "{err}: {}",
        std::error::Error::source(&err)
            .map(|s| s.to_string())
            .unwrap_or_default()
    );
    assert!(full.contains(says), "{full}");
}

#[test]
fn typed_variants() {
    let e = boot_path(
        &info(json!({"target_wwn": [A1], "target_lun": -3})),
        &vhbas(),
        &[],
    )
    .unwrap_err();
    assert!(matches!(
        e,
        VolumeError::ConnectionInfo(FcInfoError::LunOutOfRange { .. })
    ));
    let e = boot_path(
        &info(json!({"target_lun": 1, "target_wwn": [B1], "initiator_target_map": {"c05076ffe5000aff": [B1]}})),
        &vhbas(),
        &[],
    )
    .unwrap_err();
    assert!(matches!(e, VolumeError::BootVhbaNotInMap { wwpn } if wwpn == w(I0)));
    let e = boot_path(&two_fabrics(1), &[], &[]).unwrap_err();
    assert!(matches!(e, VolumeError::NoVhbas));
    let e = paths(&info(json!({"target_lun": 1, "target_wwn": [A1], "initiator_target_map": {"c05076ffe5000aff": [A1]}})), &vhbas()).unwrap_err();
    assert!(matches!(e, VolumeError::NoPaths));
}
