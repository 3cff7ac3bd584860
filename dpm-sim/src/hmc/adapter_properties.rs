//! An adapter's full property set, as `GET /api/adapters/{id}` returns it
//! on a real HMC, family by family.
//!
//! The recorded export in `hmc-client/tests/data` (a real HMC 2.17) holds
//! adapters of seven kinds, and each kind has its own set: FICON cards
//! configured as FICON (`fc`) or not configured, OSA (`osd`), Network
//! Express (`network-express-hybrid`), Cloud Network (`cna`), NVMe and
//! crypto. An FCP adapter is a FICON card configured as FCP: it has the
//! `fc` set (zhmc-ansible-modules' recorded FCP adapter, shown as a storage
//! group's candidate port, has those names too). Every family shares the
//! identity, status and location properties; the rest is the family's:
//!
//! | family | capacity | `capacity-infos` | `port-count` | `channel-path-id` | ports | more |
//! |---|---|---|---|---|---|---|
//! | ficon (`fcp`, `fc`) | yes | per port, `subchannel` | yes | yes | `storage-port-uris` | `code-level`, `module-type` |
//! | ficon (`not-configured`) | 0 | no | yes | `null` | `storage-port-uris` | `code-level`, `module-type` |
//! | osa | yes | per port, `subchannel` | yes | yes | `network-port-uris` | `code-level`, `module-type`, `firmware-update-pending` |
//! | network-express | yes | per port, `pcie` and `subchannel` | yes | yes | `network-port-uris` | `link-aggregation` |
//! | cna | yes | per port, `pcie` | yes | no | `network-port-uris` | |
//! | crypto | yes | one, `crypto` | no | no | none | `code-level`, `firmware-update-pending`, `certified`, `crypto-number`, `crypto-type`, `tke-commands-enabled`, `udx-loaded` |
//! | nvme | no | no | no | no | none | `ssd-*` |
//!
//! Families the export does not hold get the set of the nearest recorded
//! one (inferred): RoCE and zEDC are PCIe cards like Cloud Network
//! (`roce` as `cna`, `zedc` as `cna` without ports), HiperSockets
//! channels have a CHPID and network ports like Network Express without
//! its link aggregation.
//!
//! Values: from the world where it has them (name, PCHID, type, ports,
//! the vHBAs and VSRs on each port as configured and used capacity), else
//! the recorded shapes with the simulator's own values (card types by CPC
//! generation, locations derived from the PCHID).

use hmc_client::{AdapterType, AdapterUri, HmcError, StoragePortUri};
use serde::Serialize;

use super::{AdapterState, HmcState};
use crate::ids::unreachable_uri;

/// An adapter family, as the HMC's `adapter-family` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    Ficon,
    Osa,
    NetworkExpress,
    Cna,
    Roce,
    Hipersockets,
    Crypto,
    Accelerator,
    Nvme,
}

impl Family {
    /// The family of an adapter of type `t`; `None` for a type the
    /// simulator does not know.
    pub(crate) fn of(t: &AdapterType) -> Option<Self> {
        Some(match t.as_str() {
            "fcp" | "fc" | "not-configured" => Self::Ficon,
            "osd" | "osc" | "osm" | "osx" | "osn" => Self::Osa,
            "network-express-hybrid" => Self::NetworkExpress,
            "cna" => Self::Cna,
            "roce" => Self::Roce,
            "hipersockets" => Self::Hipersockets,
            "crypto" => Self::Crypto,
            "zedc" => Self::Accelerator,
            "nvme" => Self::Nvme,
            _ => return None,
        })
    }

    /// `adapter-family`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Ficon => "ficon",
            Self::Osa => "osa",
            Self::NetworkExpress => "network-express",
            Self::Cna => "cna",
            Self::Roce => "roce",
            Self::Hipersockets => "hipersockets",
            Self::Crypto => "crypto",
            Self::Accelerator => "accelerator",
            Self::Nvme => "nvme",
        }
    }

    /// Whether the family's cards have ports (storage or network).
    pub(crate) fn has_ports(self) -> bool {
        !matches!(self, Self::Crypto | Self::Accelerator | Self::Nvme)
    }

    /// Whether its ports are storage ports (cabled to SAN fabrics).
    pub(crate) fn has_storage_ports(self) -> bool {
        self == Self::Ficon
    }

    fn has_chpid(self) -> bool {
        matches!(
            self,
            Self::Ficon | Self::Osa | Self::NetworkExpress | Self::Hipersockets
        )
    }

    /// In a CPC drawer (PCIe fanout slot `LG..`) rather than an I/O drawer.
    fn in_cpc_drawer(self) -> bool {
        matches!(
            self,
            Self::Cna | Self::Roce | Self::Crypto | Self::Accelerator | Self::Nvme
        )
    }
}

/// The `adapter-family` of an adapter of type `t` (`"other"` for a type
/// the simulator does not know).
pub(crate) fn family_name(t: &AdapterType) -> &'static str {
    Family::of(t).map_or("other", Family::name)
}

/// One entry of `capacity-infos`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct CapacityInfo {
    pub allocation_type: &'static str,
    pub port_id: u32,
    pub maximum_total_capacity: u32,
    pub allowed_capacity: u32,
    pub configured_capacity: u32,
    pub used_capacity: u32,
}

/// How many devices (vHBAs, VSRs) each port carries: defined, and in use
/// by partitions that hold their resources; by port index.
pub(crate) type PortLoad = Vec<(u32, u32)>;

/// `GET /api/adapters/{id}` in full; each family has the `Some` fields of
/// its set (see the module's table).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct AdapterProperties {
    pub object_id: String,
    pub object_uri: AdapterUri,
    pub parent: String,
    pub class: &'static str,
    pub name: String,
    pub description: String,
    pub adapter_id: String,
    pub adapter_family: &'static str,
    #[serde(rename = "type")]
    pub adapter_type: AdapterType,
    pub detected_card_type: String,
    pub status: &'static str,
    pub state: &'static str,
    pub physical_channel_status: &'static str,
    pub card_location: String,
    pub drawer: String,
    pub io_domain: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_path_id: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port_count: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_port_uris: Option<Vec<StoragePortUri>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_port_uris: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_total_capacity: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_capacity: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configured_capacity: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub used_capacity: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity_infos: Option<Vec<CapacityInfo>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_level: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firmware_update_pending: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_aggregation: Option<bool>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub crypto: Option<CryptoProperties>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub ssd: Option<SsdProperties>,
}

/// What a crypto adapter has besides: no domain is configured here.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct CryptoProperties {
    pub certified: bool,
    pub crypto_number: u32,
    pub crypto_type: &'static str,
    pub tke_commands_enabled: Option<bool>,
    pub udx_loaded: Option<bool>,
}

/// What an NVMe carrier has besides: no SSD installed here.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct SsdProperties {
    pub ssd_is_installed: bool,
    pub ssd_capacity: Option<f64>,
    pub ssd_model_number: Option<String>,
    pub ssd_serial_number: Option<String>,
    pub ssd_subsystem_vendor_id: Option<String>,
    pub ssd_vendor_id: Option<String>,
}

/// The capacity of one port of a family: (allocation type, maximum) per
/// entry. FCP channels take 254 devices (zhmc-ansible-modules' recorded
/// FCP adapter), FICON channels 32760 subchannels, an OSA card 1920
/// shared by its ports, the PCIe cards' virtual functions per port, a
/// crypto card 85 domains (the recorded values).
fn port_capacity(t: &AdapterType, f: Family) -> &'static [(&'static str, u32)] {
    match (f, t) {
        (Family::Ficon, AdapterType::Fcp) => &[("subchannel", 254)],
        (Family::Ficon, AdapterType::Fc) => &[("subchannel", 32_760)],
        (Family::Ficon, _) => &[],
        (Family::Osa, _) => &[("subchannel", 1_920)],
        (Family::NetworkExpress, _) => &[("pcie", 123), ("subchannel", 256)],
        (Family::Cna, _) => &[("pcie", 128)],
        (Family::Roce, _) => &[("pcie", 63)],
        (Family::Hipersockets, _) => &[("subchannel", 4_096)],
        (Family::Crypto, _) => &[("crypto", 85)],
        (Family::Accelerator, _) => &[("pcie", 15)],
        (Family::Nvme, _) => &[],
    }
}

impl HmcState {
    /// `GET /api/adapters/{id}` in full, with `load` the devices on each
    /// of its ports (404.1 for an adapter the CPC does not have).
    pub(crate) fn adapter_properties(
        &self,
        uri: &AdapterUri,
        load: &PortLoad,
    ) -> Result<AdapterProperties, HmcError> {
        self.adapters
            .iter()
            .enumerate()
            .find(|(_, a)| a.object_id == uri.object_id())
            .map(|(i, a)| self.adapter_properties_of(i, a, load))
            .ok_or_else(|| super::cpc::no_adapter(uri))
    }

    /// The full property set of adapter `a`, the `index`th of the CPC's.
    pub(super) fn adapter_properties_of(
        &self,
        index: usize,
        a: &AdapterState,
        load: &PortLoad,
    ) -> AdapterProperties {
        let uri = a.uri();
        let family = Family::of(&a.adapter_type);
        let f = family.unwrap_or(Family::Accelerator);
        let configured = a.adapter_type != AdapterType::NotConfigured;
        let ports = u32::try_from(a.ports.len()).unwrap_or(u32::MAX);
        let (drawer, card_location, io_domain) = location(a, f);
        let infos = capacity_infos(a, f, load);
        let sum = |pick: fn(&CapacityInfo) -> u32| infos.iter().map(pick).sum::<u32>();
        // An OSA card's ports share one pool (as recorded); other cards'
        // capacity is the sum of their ports'.
        let limit = |pick: fn(&CapacityInfo) -> u32| {
            if f == Family::Osa {
                infos.iter().map(pick).max().unwrap_or(0)
            } else {
                sum(pick)
            }
        };
        let has_capacity = f != Family::Nvme;
        let (gen16, gen15) = self.generation();
        AdapterProperties {
            object_id: a.object_id.clone(),
            object_uri: uri.clone(),
            parent: self.cpc.uri().to_string(),
            class: "adapter",
            name: a.name.clone(),
            description: String::new(),
            adapter_id: a.pchid.clone(),
            adapter_family: family_name(&a.adapter_type),
            adapter_type: a.adapter_type.clone(),
            detected_card_type: card_type(f, gen16, gen15).into(),
            status: if configured { "active" } else { "not-active" },
            state: if configured { "online" } else { "reserved" },
            physical_channel_status: if configured {
                "operating"
            } else {
                "not-defined"
            },
            card_location,
            drawer,
            io_domain,
            channel_path_id: f
                .has_chpid()
                .then(|| configured.then(|| format!("{:02x}", (index + 0x10) % 0x100))),
            port_count: f.has_ports().then_some(ports),
            storage_port_uris: f.has_storage_ports().then(|| {
                a.ports
                    .iter()
                    .map(|p| {
                        StoragePortUri::new(&uri, &p.index.to_string())
                            .unwrap_or_else(|_| unreachable_uri())
                    })
                    .collect()
            }),
            network_port_uris: (f.has_ports() && !f.has_storage_ports()).then(|| {
                // Cloud Network ports count from 1 (as recorded).
                let first = u32::from(f == Family::Cna);
                (0..ports)
                    .map(|i| format!("{}/network-ports/{}", a.uri(), first + i))
                    .collect()
            }),
            maximum_total_capacity: has_capacity.then(|| limit(|c| c.maximum_total_capacity)),
            allowed_capacity: has_capacity.then(|| limit(|c| c.allowed_capacity)),
            configured_capacity: has_capacity.then(|| sum(|c| c.configured_capacity)),
            used_capacity: has_capacity.then(|| sum(|c| c.used_capacity)),
            capacity_infos: (has_capacity && configured).then_some(infos),
            code_level: matches!(f, Family::Ficon | Family::Osa | Family::Crypto).then_some(""),
            module_type: match f {
                Family::Ficon if gen16 => Some("32Gb LX"),
                Family::Ficon => Some("16Gb LX"),
                Family::Osa => Some(if gen15 { "25Gb SR" } else { "10Gb SR" }),
                _ => None,
            },
            firmware_update_pending: matches!(f, Family::Osa | Family::Crypto).then_some(false),
            link_aggregation: (f == Family::NetworkExpress).then_some(false),
            crypto: (f == Family::Crypto).then(|| CryptoProperties {
                certified: false,
                crypto_number: u32::try_from(
                    self.adapters[..index]
                        .iter()
                        .filter(|b| Family::of(&b.adapter_type) == Some(Family::Crypto))
                        .count(),
                )
                .unwrap_or(u32::MAX),
                crypto_type: "cca-coprocessor",
                tke_commands_enabled: None,
                udx_loaded: None,
            }),
            ssd: (f == Family::Nvme).then_some(SsdProperties {
                ssd_is_installed: false,
                ssd_capacity: None,
                ssd_model_number: None,
                ssd_serial_number: None,
                ssd_subsystem_vendor_id: None,
                ssd_vendor_id: None,
            }),
        }
    }

    /// Whether the CPC is a z16 or later, and a z15 or later (the card
    /// generations differ).
    fn generation(&self) -> (bool, bool) {
        match self.cpc.machine_type.as_str() {
            "2964" | "2965" | "3906" | "3907" => (false, false),
            "8561" | "8562" => (false, true),
            _ => (true, true),
        }
    }
}

/// The card's drawer, `card-location` and `io-domain`, derived from its
/// PCHID: the same PCHID always gives the same place.
fn location(a: &AdapterState, f: Family) -> (String, String, u32) {
    let pchid = u32::from_str_radix(&a.pchid, 16).unwrap_or(0);
    let slot = ((pchid >> 2) & 0x0f) + 1;
    let io_domain = (pchid >> 4) & 0x03;
    if f.in_cpc_drawer() {
        let drawer = "A10B".to_owned();
        let loc = format!("{drawer}-LG{slot:02}");
        return (drawer, loc, io_domain);
    }
    let drawer = ["A15B", "A23B", "A31B", "A19B"]
        .get(usize::try_from((pchid >> 6) & 0x03).unwrap_or(0))
        .copied()
        .unwrap_or("A15B")
        .to_owned();
    let loc = if a.ports.len() > 1 {
        format!("{drawer}-D1{slot:02}J.01-D2{slot:02}J.02")
    } else {
        format!("{drawer}-D1{slot:02}-J.01")
    };
    (drawer, loc, io_domain)
}

/// `capacity-infos`: each port's entries, with its devices.
fn capacity_infos(a: &AdapterState, f: Family, load: &PortLoad) -> Vec<CapacityInfo> {
    let entries = port_capacity(&a.adapter_type, f);
    // Cards without ports have one entry, port 0.
    let ports = a.ports.len().max(1);
    let first = u32::from(f == Family::Cna);
    let mut out = Vec::new();
    for p in 0..ports {
        let (configured, used) = load.get(p).copied().unwrap_or((0, 0));
        let port_id = first + u32::try_from(p).unwrap_or(u32::MAX);
        for &(kind, max) in entries {
            out.push(CapacityInfo {
                allocation_type: kind,
                port_id,
                maximum_total_capacity: max,
                allowed_capacity: max,
                configured_capacity: configured,
                used_capacity: used,
            });
        }
    }
    out
}

/// `detected-card-type` by type and CPC generation (the cards each
/// generation carries; the simulator's choice among them).
fn card_type(f: Family, gen16: bool, gen15: bool) -> &'static str {
    match f {
        Family::Ficon if gen16 => "ficon-express-32s",
        Family::Ficon if gen15 => "ficon-express-16sa",
        Family::Ficon => "ficon-express-16s",
        Family::Osa if gen15 => "osa-express-7s-25gb",
        Family::Osa => "osa-express-6s-10gb",
        Family::NetworkExpress => "network-express-1gb",
        Family::Cna => "cloud-network-x7",
        Family::Roce => "roce-express-3-25gb",
        Family::Hipersockets => "hipersockets",
        Family::Crypto if gen16 => "crypto-express-8s",
        Family::Crypto => "crypto-express-7s",
        Family::Accelerator => "zedc-express",
        Family::Nvme => "nvme",
    }
}
