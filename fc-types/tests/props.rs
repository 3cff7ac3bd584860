//! Arbitrary input never panics the parsers, and what parses round-trips.
#![allow(clippy::unwrap_used)]

use fc_types::{DeviceNumber, FcpLun, Wwnn, Wwpn};
use proptest::prelude::*;

proptest! {
    #[test]
    fn any_text_parses_or_is_an_error(s in "\\PC*") {
        let _ = s.parse::<Wwpn>();
        let _ = s.parse::<Wwnn>();
        let _ = s.parse::<FcpLun>();
        let _ = s.parse::<DeviceNumber>();
    }

    #[test]
    fn wwpn_like_text_parses_or_is_an_error(s in "(0x)?[0-9a-fA-F:]{0,40}") {
        if let Ok(w) = s.parse::<Wwpn>() {
            prop_assert_eq!(w.to_string().parse::<Wwpn>().unwrap(), w);
        }
    }

    #[test]
    fn wwpns_round_trip(v in any::<u64>()) {
        let w = Wwpn::from_u64(v);
        prop_assert_eq!(w.to_string().parse::<Wwpn>().unwrap(), w);
        prop_assert_eq!(w.to_string().len(), 16);
    }

    #[test]
    fn luns_round_trip(l in 0u64..(1 << 32)) {
        let lun = FcpLun::from_target_lun(l);
        prop_assert_eq!(lun.to_string().parse::<FcpLun>().unwrap(), lun);
        prop_assert_eq!(lun.to_target_lun(), l);
    }

    #[test]
    fn any_signed_target_lun_is_a_lun_or_an_error(l in any::<i64>()) {
        let _ = FcpLun::try_from_target_lun(l);
    }

    #[test]
    fn any_json_string_decodes_or_is_an_error(s in "\\PC*") {
        let v = serde_json::Value::String(s);
        let _ = serde_json::from_value::<Wwpn>(v.clone());
        let _ = serde_json::from_value::<FcpLun>(v.clone());
        let _ = serde_json::from_value::<DeviceNumber>(v);
    }
}
