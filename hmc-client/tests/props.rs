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

/// Pieces of a STOMP stream: frames, heart-beats, and anything else.
fn stomp_piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\r".to_vec()),
        (
            "[A-Z]{1,8}",
            "[a-z:\\\\]{0,6}",
            prop::collection::vec(any::<u8>(), 0..16)
        )
            .prop_map(|(c, v, body)| hmc_client::stomp::Frame::new(&c)
                .header("h", v)
                .body(body)
                .encode()),
        "[A-Z]{1,8}\n([a-z]{1,4}:[a-z\\\\]{0,4}\n){0,3}\n[a-z]{0,8}\0".prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..24),
    ]
}

/// Every item a decoder yields for `wire` pushed in the pieces `cuts`
/// makes, with the frames only (a run of heart-beats may be one item or
/// several, as it arrived), and whether it ended in an error.
fn stomp_frames(wire: &[u8], cuts: &[usize]) -> (Vec<hmc_client::stomp::Frame>, bool) {
    use hmc_client::stomp::{Decoder, Item};
    let mut d = Decoder::default();
    let mut frames = Vec::new();
    let mut at = 0;
    let mut ends: Vec<usize> = cuts.iter().map(|c| c % (wire.len() + 1)).collect();
    ends.sort_unstable();
    ends.push(wire.len());
    for end in ends {
        d.push(&wire[at..end.max(at)]);
        at = end.max(at);
        loop {
            match d.next_item() {
                Ok(Some(Item::Frame(f))) => frames.push(f),
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => return (frames, true),
            }
        }
    }
    (frames, false)
}

proptest! {
    #[test]
    fn a_stomp_stream_decodes_alike_in_any_pieces(
        pieces in prop::collection::vec(stomp_piece(), 0..12),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let wire = pieces.concat();
        prop_assert_eq!(stomp_frames(&wire, &cuts), stomp_frames(&wire, &[]));
    }
}
