//! Arbitrary JSON never panics the connection-info reading or the wire
//! types: it reads, or it is a typed error.
#![allow(clippy::unwrap_used)]

use cinder_client::{Attachment, ConnectionInfo, Volume};
use proptest::prelude::*;
use serde_json::{json, Value};

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        "[0-9a-fA-Fx:]{0,20}".prop_map(Value::String),
        "\\PC{0,12}".prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("target_wwn".to_owned()),
                    Just("target_wwns".to_owned()),
                    Just("target_lun".to_owned()),
                    Just("target_luns".to_owned()),
                    Just("initiator_target_map".to_owned()),
                    Just("volume_id".to_owned()),
                    "[a-z_]{1,12}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn any_fc_data_reads_or_is_an_error(data in value()) {
        let flat = json!({"driver_volume_type": "fibre_channel", "data": data.clone()});
        if let Ok(info) = serde_json::from_value::<ConnectionInfo>(flat) {
            let _ = info.fibre_channel();
        }
        let nested = json!({"connection_info": {"driver_volume_type": "fibre_channel", "data": data}});
        if let Ok(info) = serde_json::from_value::<ConnectionInfo>(nested) {
            let _ = info.fibre_channel();
        }
    }

    #[test]
    fn any_object_decodes_or_is_an_error(v in value()) {
        let _ = serde_json::from_value::<ConnectionInfo>(v.clone());
        let _ = serde_json::from_value::<Volume>(v.clone());
        let _ = serde_json::from_value::<Attachment>(v);
    }
}
