//! Arbitrary JSON never panics the HMC wire types: an object decodes or is
//! a typed error.
#![allow(clippy::unwrap_used)]

use hmc_client::{
    Adapter, Cpc, ErrorBody, Hba, Job, Partition, PartitionUpdate, StorageGroup, StorageVolume, Vsr,
};
use proptest::prelude::*;
use serde_json::{json, Value};

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        "(/api/[a-z-]{1,12}/[a-z0-9-]{0,8}){0,3}".prop_map(Value::String),
        "[0-9a-fA-F]{0,20}".prop_map(Value::String),
        "\\PC{0,12}".prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 48, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("object-uri".to_owned()),
                    Just("element-uri".to_owned()),
                    Just("status".to_owned()),
                    Just("boot-logical-unit-number".to_owned()),
                    Just("boot-world-wide-port-name".to_owned()),
                    Just("paths".to_owned()),
                    Just("fulfillment-state".to_owned()),
                    Just("job-results".to_owned()),
                    "[a-z-]{1,16}",
                ],
                inner,
                0..8
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn any_json_decodes_or_is_an_error(v in value()) {
        let _ = serde_json::from_value::<Cpc>(v.clone());
        let _ = serde_json::from_value::<Adapter>(v.clone());
        let _ = serde_json::from_value::<Partition>(v.clone());
        let _ = serde_json::from_value::<PartitionUpdate>(v.clone());
        let _ = serde_json::from_value::<Hba>(v.clone());
        let _ = serde_json::from_value::<StorageGroup>(v.clone());
        let _ = serde_json::from_value::<StorageVolume>(v.clone());
        let _ = serde_json::from_value::<Vsr>(v.clone());
        let _ = serde_json::from_value::<ErrorBody>(v.clone());
        if let Ok(job) = serde_json::from_value::<Job>(v) {
            let _ = (job.succeeded(), job.message(), job.is_finished());
        }
    }

    #[test]
    fn any_text_is_json_or_an_error(s in "\\PC{0,64}") {
        let _ = serde_json::from_str::<Partition>(&s);
        let _ = serde_json::from_str::<Job>(&s);
    }
}
