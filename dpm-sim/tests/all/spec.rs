use dpm_sim::{Sim, SpecError, WorldSpec};

const Z13_TOML: &str = include_str!("../../worlds/z13.toml");
const Z16_TOML: &str = include_str!("../../worlds/z16.toml");

#[test]
fn z13_world_has_what_the_hba_flow_needs() {
    let spec = WorldSpec::z13();
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
fn the_world_files_are_the_named_worlds() {
    assert_eq!(WorldSpec::from_toml(Z13_TOML).unwrap(), WorldSpec::z13());
    assert_eq!(WorldSpec::from_toml(Z16_TOML).unwrap(), WorldSpec::z16());
    assert_eq!(WorldSpec::default(), WorldSpec::z16());
    assert_eq!(WorldSpec::named("z13").unwrap(), WorldSpec::z13());
    assert_eq!(WorldSpec::named("z16").unwrap(), WorldSpec::z16());
    assert!(matches!(
        WorldSpec::named("z99"),
        Err(SpecError::UnknownWorld { name }) if name == "z99"
    ));
}

#[test]
fn the_named_worlds_are_consistent_sets_of_versions() {
    let z13 = WorldSpec::z13();
    assert_eq!(
        (z13.cpc.machine_type.as_str(), z13.cpc.se_version.as_str()),
        ("2964", "2.13.1")
    );
    assert_eq!(
        (z13.hmc.version.as_str(), z13.hmc.api().unwrap().0),
        ("2.15.0", 3)
    );
    let z16 = WorldSpec::z16();
    z16.validate().unwrap();
    assert!(z16.cpc.storage_management);
    assert_eq!(
        (z16.cpc.machine_type.as_str(), z16.cpc.se_version.as_str()),
        ("3931", "2.16.0")
    );
    assert_eq!(
        (z16.hmc.version.as_str(), z16.hmc.api().unwrap()),
        ("2.16.0", (4, 10))
    );
    // Same hardware.
    assert_eq!(z13.adapters, z16.adapters);
    assert_eq!(z13.storage, z16.storage);
}

#[tokio::test]
async fn the_hmc_reports_the_versions_of_its_spec() {
    use hmc_client::HmcApi;
    for (spec, version, api) in [
        (WorldSpec::z13(), "2.15.0", (3, 1)),
        (WorldSpec::z16(), "2.16.0", (4, 10)),
    ] {
        let sim = Sim::stepped(spec).unwrap();
        let hmc = sim.hmc();
        let v = hmc.api_version().await.unwrap();
        assert_eq!(v.hmc_version, version);
        assert_eq!((v.api_major_version, v.api_minor_version), api);
        let l = hmc.logon().await.unwrap();
        assert_eq!((l.api_major_version, l.api_minor_version), api);
    }
}

#[test]
fn a_model_fills_in_the_cpc() {
    for (model, mt, se) in [
        ("z14", "3906", "2.14.1"),
        ("z15", "8561", "2.15.0"),
        ("z16", "3931", "2.16.0"),
    ] {
        let toml = Z16_TOML.replace("model = \"z16\"", &format!("model = \"{model}\""));
        let spec = WorldSpec::from_toml(&toml).unwrap();
        spec.validate().unwrap();
        assert_eq!(spec.cpc.machine_type, mt);
        assert_eq!(spec.cpc.se_version, se);
        assert!(spec.cpc.storage_management);
    }
    let z17 = Z16_TOML
        .replace("model = \"z16\"", "model = \"z17\"")
        .replace("version = \"2.16.0\"", "version = \"2.17.0\"");
    assert!(WorldSpec::from_toml(&z17).unwrap().cpc.storage_management);
    let unknown = Z16_TOML.replace("model = \"z16\"", "model = \"z12\"");
    let err = WorldSpec::from_toml(&unknown).unwrap_err();
    assert!(err.to_string().contains("not valid TOML") || matches!(err, SpecError::Toml(_)));
}

#[test]
fn generations_features_and_hmcs_must_go_together() {
    // A z13 with the feature.
    let mut spec = WorldSpec::z13();
    spec.cpc.storage_management = true;
    assert!(matches!(
        spec.validate(),
        Err(SpecError::FeatureMismatch {
            generation: 13,
            storage_management: true,
            ..
        })
    ));
    // A z16 without it.
    let mut spec = WorldSpec::z16();
    spec.cpc.storage_management = false;
    let err = spec.validate().unwrap_err();
    assert!(
        matches!(err, SpecError::FeatureMismatch { generation: 16, .. }),
        "{err}"
    );
    assert!(err
        .to_string()
        .contains("must have the dpm-storage-management feature"));
    // A z13 managed by an HMC 2.16.
    let mut spec = WorldSpec::z13();
    spec.hmc.version = "2.16.0".into();
    let err = spec.validate().unwrap_err();
    assert!(matches!(err, SpecError::HmcCannotManage { .. }), "{err}");
    assert!(Sim::stepped(spec).is_err());
    // ... or by one older than its SE.
    let mut spec = WorldSpec::z13();
    spec.hmc.version = "2.13.0".into();
    assert!(matches!(
        spec.validate(),
        Err(SpecError::HmcCannotManage { .. })
    ));
    // HMC 2.16 manages z14 to z16; 2.13.1 to 2.15.0 manage a z13.
    for (model, ok) in [("z14", true), ("z15", true), ("z16", true), ("z17", false)] {
        let toml = Z16_TOML.replace("model = \"z16\"", &format!("model = \"{model}\""));
        assert_eq!(
            WorldSpec::from_toml(&toml).unwrap().validate().is_ok(),
            ok,
            "{model}"
        );
    }
    for (version, ok) in [
        ("2.13.1", true),
        ("2.14.0", true),
        ("2.15.0", true),
        ("2.16.0", false),
    ] {
        let mut spec = WorldSpec::z13();
        spec.hmc.version = version.into();
        assert_eq!(spec.validate().is_ok(), ok, "{version}");
    }
    let mut spec = WorldSpec::z16();
    spec.hmc.api_version = "four".into();
    assert!(matches!(spec.validate(), Err(SpecError::Invalid { .. })));
}

#[test]
fn a_periodic_discovery_of_no_interval_is_refused() {
    let mut spec = WorldSpec::z16();
    spec.timings.auto_discovery_ms = 0;
    assert!(matches!(
        Sim::stepped(spec),
        Err(SpecError::Invalid { what }) if what.contains("auto_discovery_ms")
    ));
}

#[test]
fn bad_specs_are_refused_with_what_to_fix() {
    let bad = Z13_TOML.replace("fabric = \"B\" }", "fabric = \"Z\" }");
    let err = Sim::stepped(WorldSpec::from_toml(&bad).unwrap()).unwrap_err();
    assert!(
        matches!(&err, SpecError::UnknownFabric { fabric, .. } if fabric == "Z"),
        "{err}"
    );

    let dup = Z13_TOML.replacen("name = \"B\"", "name = \"A\"", 1);
    let err = WorldSpec::from_toml(&dup).unwrap().validate().unwrap_err();
    assert!(
        matches!(err, SpecError::Duplicate { what: "fabric", .. }),
        "{err}"
    );

    let dup_port = Z13_TOML.replace("500507680b2155ac", "500507680b2155ab");
    assert!(matches!(
        WorldSpec::from_toml(&dup_port).unwrap().validate(),
        Err(SpecError::Duplicate { .. })
    ));

    assert!(matches!(
        WorldSpec::from_toml("[cpc]\nname = 1"),
        Err(SpecError::Toml(_))
    ));
    let typo = Z13_TOML.replace("memory_mib", "memory");
    assert!(matches!(
        WorldSpec::from_toml(&typo),
        Err(SpecError::Toml(_))
    ));
    let bad_wwpn = Z13_TOML.replace("500507680b2255ac", "5005");
    assert!(matches!(
        WorldSpec::from_toml(&bad_wwpn),
        Err(SpecError::Toml(_))
    ));
    let no_ports = Z13_TOML.replace("ports = [\"A\"]", "ports = []");
    assert!(matches!(
        WorldSpec::from_toml(&no_ports).unwrap().validate(),
        Err(SpecError::Invalid { .. })
    ));
}
