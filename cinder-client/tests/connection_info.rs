//! Every FC connection_info shape, good and bad.
#![allow(clippy::unwrap_used)]

use cinder_client::{AttachStatus, Attachment, ConnectionInfo, FcInfoError, Volume, VolumeStatus};
use fc_types::{FcpLun, Wwpn};
use rstest::rstest;
use serde_json::{json, Value};

fn nested(data: Value) -> ConnectionInfo {
    serde_json::from_value(json!({"driver_volume_type": "fibre_channel", "data": data})).unwrap()
}

fn w(s: &str) -> Wwpn {
    s.parse().unwrap()
}

const T1: &str = "500507680b2155ab";
const T2: &str = "500507680b2255ab";
const I1: &str = "c05076ffe5000a10";

#[test]
fn flat_and_nested_are_one_value() {
    let data = json!({"target_discovered": false, "target_lun": 3, "target_wwn": [T1, T2],
        "initiator_target_map": {I1: [T1, T2]}, "volume_id": "2bb89d80-a0be-4a57-a939-7395967d790c"});
    let mut flat = data.clone();
    flat["driver_volume_type"] = "fibre_channel".into();
    flat["attachment_id"] = "8b2c66c1-4b3f-4bb5-bf3b-1f6fbdcfdc63".into();
    flat["enforce_multipath"] = false.into();
    let a: ConnectionInfo = serde_json::from_value(flat).unwrap();
    let b = nested(data);
    assert_eq!(a, b);
    assert_eq!(a.fibre_channel().unwrap(), b.fibre_channel().unwrap());
    // Serialization gives the nested shape, which reads back to the same.
    let again: ConnectionInfo = serde_json::from_value(serde_json::to_value(&a).unwrap()).unwrap();
    assert_eq!(again, a);
    // And to_flat reads back to the same too.
    let id = "8b2c66c1-4b3f-4bb5-bf3b-1f6fbdcfdc63".parse().unwrap();
    let again: ConnectionInfo = serde_json::from_value(a.to_flat(&id)).unwrap();
    assert_eq!(again, a);
}

#[rstest]
// target_wwn as one string, any case
#[case(json!({"target_lun": 1, "target_wwn": "500507680B2155AB"}), vec![(T1, 1)])]
// target_wwn as a list, one LUN for all
#[case(json!({"target_lun": 1, "target_wwn": [T1, T2]}), vec![(T1, 1), (T2, 1)])]
// the seed spec's shape: LUN as a numeric string
#[case(json!({"target_lun": "2", "target_wwn": T1}), vec![(T1, 2)])]
// target_wwns with a parallel target_luns
#[case(json!({"target_wwns": [T1, T2], "target_luns": [1, 2]}), vec![(T1, 1), (T2, 2)])]
// target_wwns with a single LUN in target_luns
#[case(json!({"target_wwns": [T1, T2], "target_luns": [7]}), vec![(T1, 7), (T2, 7)])]
// target_wwns with target_lun
#[case(json!({"target_wwns": [T1, T2], "target_lun": 4}), vec![(T1, 4), (T2, 4)])]
// both: target_wwns wins (it carries the per-target LUNs)
#[case(json!({"target_wwns": [T2], "target_luns": [5], "target_wwn": T1, "target_lun": 1}), vec![(T2, 5)])]
// colon form and 0x
#[case(json!({"target_lun": 0, "target_wwn": ["0x50:05:07:68:0b:21:55:ab"]}), vec![(T1, 0)])]
fn good_targets(#[case] data: Value, #[case] want: Vec<(&str, u64)>) {
    let fc = nested(data).fibre_channel().unwrap();
    let got: Vec<(Wwpn, FcpLun)> = fc.targets.iter().map(|t| (t.wwpn, t.lun)).collect();
    let want: Vec<(Wwpn, FcpLun)> = want
        .into_iter()
        .map(|(t, l)| (w(t), FcpLun::from_target_lun(l)))
        .collect();
    assert_eq!(got, want);
    assert_eq!(fc.initiator_target_map, None);
}

#[test]
fn initiator_target_map_is_canonical() {
    let fc = nested(json!({"target_lun": 1, "target_wwn": [T1],
        "initiator_target_map": {"C0:50:76:FF:E5:00:0A:10": ["500507680B2155AB"]}}))
    .fibre_channel()
    .unwrap();
    let map = fc.initiator_target_map.unwrap();
    assert_eq!(map[&w(I1)], vec![w(T1)]);
    assert_eq!(fc.targets[0].lun.to_string(), "0001000000000000");
}

#[test]
fn lun_for_targets() {
    let fc = nested(json!({"target_wwns": [T1, T2], "target_luns": [1, 2]}))
        .fibre_channel()
        .unwrap();
    assert_eq!(fc.lun_for(w(T2)), Some(FcpLun::from_target_lun(2)));
    // A target outside the list has no LUN when the LUNs differ...
    assert_eq!(fc.lun_for(w(I1)), None);
    // ...and the shared one when they agree.
    let fc = nested(json!({"target_wwn": [T1], "target_lun": 9}))
        .fibre_channel()
        .unwrap();
    assert_eq!(fc.lun_for(w(T2)), Some(FcpLun::from_target_lun(9)));
}

#[rstest]
#[case::iscsi(json!({"driver_volume_type": "iscsi", "data": {"target_lun": 1}}),
    FcInfoError::NotFibreChannel { driver_volume_type: "iscsi".into() })]
#[case::no_targets(json!({"driver_volume_type": "fibre_channel", "data": {"target_lun": 1}}),
    FcInfoError::MissingTargets)]
#[case::empty_targets(json!({"driver_volume_type": "fibre_channel", "data": {"target_lun": 1, "target_wwn": []}}),
    FcInfoError::MissingTargets)]
#[case::no_lun(json!({"driver_volume_type": "fibre_channel", "data": {"target_wwn": T1}}),
    FcInfoError::MissingLun)]
#[case::unequal(json!({"driver_volume_type": "fibre_channel", "data": {"target_wwns": [T1, T2, I1], "target_luns": [1, 2]}}),
    FcInfoError::LengthMismatch { wwns: 3, luns: 2 })]
#[case::negative(json!({"driver_volume_type": "fibre_channel", "data": {"target_wwn": T1, "target_lun": -1}}),
    FcInfoError::LunOutOfRange { field: "target_lun", input: "-1".into() })]
#[case::huge(json!({"driver_volume_type": "fibre_channel", "data": {"target_wwn": T1, "target_lun": "18446744073709551616"}}),
    FcInfoError::LunOutOfRange { field: "target_lun", input: "18446744073709551616".into() })]
#[case::float(json!({"driver_volume_type": "fibre_channel", "data": {"target_wwn": T1, "target_lun": 1.5}}),
    FcInfoError::BadLun { field: "target_lun", input: "1.5".into() })]
#[case::word(json!({"driver_volume_type": "fibre_channel", "data": {"target_wwn": T1, "target_luns": ["one"]}}),
    FcInfoError::BadLun { field: "target_luns", input: "one".into() })]
#[case::luns_not_list(json!({"driver_volume_type": "fibre_channel", "data": {"target_wwns": [T1], "target_luns": 1}}),
    FcInfoError::BadShape { field: "target_luns", expected: "a list of LUNs" })]
#[case::wwn_number(json!({"driver_volume_type": "fibre_channel", "data": {"target_wwn": 5, "target_lun": 1}}),
    FcInfoError::BadShape { field: "target_wwn", expected: "a WWPN string or a list of them" })]
#[case::map_not_object(json!({"driver_volume_type": "fibre_channel", "data": {"target_wwn": T1, "target_lun": 1, "initiator_target_map": [I1]}}),
    FcInfoError::BadShape { field: "initiator_target_map", expected: "an object of WWPN lists" })]
#[case::bad_volume_id(json!({"driver_volume_type": "fibre_channel", "data": {"target_wwn": T1, "target_lun": 1, "volume_id": "x"}}),
    FcInfoError::BadShape { field: "volume_id", expected: "a volume UUID" })]
fn bad_info(#[case] raw: Value, #[case] want: FcInfoError) {
    let info: ConnectionInfo = serde_json::from_value(raw).unwrap();
    assert_eq!(info.fibre_channel().unwrap_err(), want);
}

#[rstest]
#[case::target("target_wwn", json!({"target_wwn": "xyz", "target_lun": 1}))]
#[case::targets("target_wwns", json!({"target_wwns": [T1, "500507680b2155a"], "target_lun": 1}))]
#[case::map_key("initiator_target_map", json!({"target_wwn": T1, "target_lun": 1, "initiator_target_map": {"nope": [T1]}}))]
#[case::map_value("initiator_target_map", json!({"target_wwn": T1, "target_lun": 1, "initiator_target_map": {I1: ["nope"]}}))]
fn bad_wwpns_name_their_field(#[case] field: &str, #[case] data: Value) {
    match nested(data).fibre_channel().unwrap_err() {
        FcInfoError::BadWwpn { field: f, .. } => assert_eq!(f, field),
        other => panic!("{other:?}"),
    }
}

#[rstest]
#[case(json!({"data": {}}))]
#[case(json!({"driver_volume_type": 3}))]
#[case(json!({"driver_volume_type": "fibre_channel", "data": []}))]
#[case(json!([]))]
fn malformed_envelopes_do_not_decode(#[case] raw: Value) {
    assert!(serde_json::from_value::<ConnectionInfo>(raw).is_err());
}

#[test]
fn attachment_and_volume_shapes() {
    let a: Attachment = serde_json::from_value(json!({
        "id": "8b2c66c1-4b3f-4bb5-bf3b-1f6fbdcfdc63", "status": "reserved",
        "instance": "2bb89d80-a0be-4a57-a939-7395967d790c",
        "volume_id": "2bb89d80-a0be-4a57-a939-7395967d790d",
        "attached_at": null, "detached_at": null, "attach_mode": "null",
        "connection_info": {}
    }))
    .unwrap();
    assert_eq!(a.status, AttachStatus::Reserved);
    assert_eq!(a.connection_info, None);
    let v: Volume = serde_json::from_value(json!({
        "id": "2bb89d80-a0be-4a57-a939-7395967d790d", "status": "in-use", "size": 10,
        "bootable": "true", "multiattach": false, "attachments": [], "metadata": {}
    }))
    .unwrap();
    assert_eq!(v.status, VolumeStatus::InUse);
    assert!(v.bootable);
    assert_eq!(serde_json::to_value(&v).unwrap()["bootable"], "true");
    let odd: Volume = serde_json::from_value(json!({
        "id": "2bb89d80-a0be-4a57-a939-7395967d790d", "status": "brand-new", "size": 1,
        "bootable": "false"
    }))
    .unwrap();
    assert_eq!(odd.status, VolumeStatus::Unknown);
    assert!(serde_json::from_value::<Volume>(json!({
        "id": "2bb89d80-a0be-4a57-a939-7395967d790d", "status": "available", "size": 1,
        "bootable": "maybe"
    }))
    .is_err());
}
