use dpm_sim::{Sim, SpecError, WorldSpec};

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
fn toml_round_trip_and_errors() {
    let spec = WorldSpec::default();
    let text = toml_text(&spec);
    assert_eq!(WorldSpec::from_toml(&text).unwrap(), spec);

    let bad = text.replace("fabric = \"B\"", "fabric = \"Z\"");
    let err = Sim::stepped(WorldSpec::from_toml(&bad).unwrap()).unwrap_err();
    assert!(matches!(err, SpecError::UnknownFabric { .. }), "{err}");

    assert!(matches!(
        WorldSpec::from_toml("[cpc]\nname = 1"),
        Err(SpecError::Toml(_))
    ));
    let dup = text.replacen("name = \"A\"", "name = \"B\"", 1);
    assert!(matches!(
        WorldSpec::from_toml(&dup).unwrap().validate(),
        Err(SpecError::Duplicate { .. })
    ));
}

/// A TOML rendering of a spec, written by hand so the crate needs only
/// TOML parsing.
fn toml_text(s: &WorldSpec) -> String {
    let mut t = format!(
        "[hmc]\nuserid = \"{}\"\npassword = \"{}\"\n\n[cpc]\nname = \"{}\"\nifl = {}\nmemory_mib = {}\n\n",
        s.hmc.userid, s.hmc.password, s.cpc.name, s.cpc.ifl, s.cpc.memory_mib
    );
    for f in &s.fabrics {
        t += &format!("[[fabric]]\nname = \"{}\"\nwwn = \"{}\"\n\n", f.name, f.wwn);
    }
    for a in &s.adapters {
        let ports: Vec<String> = a.ports.iter().map(|p| format!("\"{p}\"")).collect();
        t += &format!(
            "[[adapter]]\nname = \"{}\"\npchid = \"{}\"\ntype = \"{}\"\nports = [{}]\n\n",
            a.name,
            a.pchid,
            a.adapter_type,
            ports.join(", ")
        );
    }
    let ports = |ps: &[dpm_sim::FabricPort]| {
        ps.iter()
            .map(|p| format!("{{ wwpn = \"{}\", fabric = \"{}\" }}", p.wwpn, p.fabric))
            .collect::<Vec<_>>()
            .join(", ")
    };
    t += &format!(
        "[storage]\nname = \"{}\"\nnode_ports = [{}]\ntarget_ports = [{}]\n\n",
        s.storage.name,
        ports(&s.storage.node_ports),
        ports(&s.storage.target_ports)
    );
    for i in &s.images {
        t += &format!("[[image]]\nid = \"{}\"\nname = \"{}\"\n\n", i.id, i.name);
    }
    t
}
