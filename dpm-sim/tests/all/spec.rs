use dpm_sim::{Sim, SpecError, WorldSpec};

const DEFAULT_TOML: &str = include_str!("../../worlds/default.toml");

#[test]
fn default_world_has_what_the_flow_needs() {
    let spec = WorldSpec::default();
    spec.validate().unwrap();
    assert!(spec.cpc.dpm && !spec.cpc.storage_management);
    let sim = Sim::stepped(spec).unwrap();
    assert_eq!(sim.fcp_adapters().len(), 2);
    let fabrics: std::collections::BTreeSet<usize> =
        sim.target_ports().iter().map(|(_, f)| *f).collect();
    assert_eq!(fabrics.len(), 2);
    for f in fabrics {
        assert_eq!(
            sim.target_ports().iter().filter(|(_, x)| *x == f).count(),
            2
        );
    }
    assert!(!sim.images().is_empty());
}

#[test]
fn the_default_world_file_is_the_default_world() {
    assert_eq!(
        WorldSpec::from_toml(DEFAULT_TOML).unwrap(),
        WorldSpec::default()
    );
}

#[test]
fn bad_specs_are_refused_with_what_to_fix() {
    let bad = DEFAULT_TOML.replace("fabric = \"B\" }", "fabric = \"Z\" }");
    let err = Sim::stepped(WorldSpec::from_toml(&bad).unwrap()).unwrap_err();
    assert!(
        matches!(&err, SpecError::UnknownFabric { fabric, .. } if fabric == "Z"),
        "{err}"
    );

    let dup = DEFAULT_TOML.replacen("name = \"B\"", "name = \"A\"", 1);
    let err = WorldSpec::from_toml(&dup).unwrap().validate().unwrap_err();
    assert!(
        matches!(err, SpecError::Duplicate { what: "fabric", .. }),
        "{err}"
    );

    let dup_port = DEFAULT_TOML.replace("500507680b2155ac", "500507680b2155ab");
    assert!(matches!(
        WorldSpec::from_toml(&dup_port).unwrap().validate(),
        Err(SpecError::Duplicate { .. })
    ));

    assert!(matches!(
        WorldSpec::from_toml("[cpc]\nname = 1"),
        Err(SpecError::Toml(_))
    ));
    let typo = DEFAULT_TOML.replace("memory_mib", "memory");
    assert!(matches!(
        WorldSpec::from_toml(&typo),
        Err(SpecError::Toml(_))
    ));
    let bad_wwpn = DEFAULT_TOML.replace("500507680b2255ac", "5005");
    assert!(matches!(
        WorldSpec::from_toml(&bad_wwpn),
        Err(SpecError::Toml(_))
    ));
    let no_ports = DEFAULT_TOML.replace("ports = [\"A\"]", "ports = []");
    assert!(matches!(
        WorldSpec::from_toml(&no_ports).unwrap().validate(),
        Err(SpecError::Invalid { .. })
    ));
}
