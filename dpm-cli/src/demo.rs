//! `dpm demo`: image deployment, spawn, attach, detach and destroy on an
//! embedded simulated world (a z16 with
//! storage groups by default, or a z13 with vHBAs), narrated step by step,
//! with the world's state in tables.

use std::error::Error;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cinder_client::{CinderApi, InstanceId, VolumeCreate, VolumeStatus};
use dpm_compute::{BlockDevice, Compute};
use dpm_driver::{DpmDriver, DriverConfig, Instance};
use dpm_sim::{Counters, Op, Side, Sim, WorldSpec};
use hmc_client::{Credentials, HmcApi};
use tracing::Instrument;

use crate::operator::wait_available;
use crate::out::println;
use crate::picture::{self, short_ids, Actor, Picture, Step};
use crate::table;

/// The widest line the demo prints.
pub const WIDTH: usize = 100;

/// Where the demo's text goes: kept, and printed as it comes when live.
#[derive(Clone, Debug, Default)]
pub struct Screen {
    text: Arc<Mutex<String>>,
    live: bool,
}

impl Screen {
    /// A screen that prints (`live`) or only keeps what is said.
    pub fn new(live: bool) -> Self {
        Self {
            text: Arc::default(),
            live,
        }
    }

    /// Says some lines.
    fn say(&self, s: &str) {
        if self.live {
            println!("{s}");
        }
        let mut t = self.text.lock().unwrap_or_else(|e| e.into_inner());
        t.push_str(s);
        t.push('\n');
    }

    /// Everything said so far.
    #[cfg(test)]
    pub fn text(&self) -> String {
        self.text.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// A label cut to `budget` characters: a path loses its leading segments
/// (`POST …/5000000a/operations/start`), anything else its end.
fn fit(label: &str, budget: usize) -> String {
    if label.chars().count() <= budget {
        return label.to_owned();
    }
    if let Some((method, path)) = label.split_once(" /") {
        let segs: Vec<&str> = path.split('/').collect();
        for skip in 1..segs.len() {
            let s = format!("{method} …/{}", segs[skip..].join("/"));
            if s.chars().count() <= budget {
                return s;
            }
        }
    }
    let mut s: String = label.chars().take(budget.saturating_sub(1)).collect();
    s.push('…');
    s
}

/// One line of the flow, stamped with simulated time.
fn flow_line(at: Duration, who: &str, what: &str) -> String {
    let head = format!("  [{:>5.1}s] {who:<20} ", at.as_secs_f64());
    let budget = WIDTH.saturating_sub(head.chars().count());
    format!("{head}{}", fit(what, budget))
}

/// How the demo tells a step of the picture.
fn narrate(step: &Step, at: Duration) -> String {
    match step {
        Step::Section(title) => format!("\n== {title} =="),
        Step::Message {
            from, to, label, ..
        } => flow_line(at, &format!("{} → {}", from.name(), to.name()), label),
        Step::Note { over, text } => flow_line(at, &format!("({})", over.name()), text),
    }
}

fn config_for(sim: &Sim) -> Result<DriverConfig, Box<dyn Error>> {
    let mappings: Vec<String> = sim
        .fcp_adapters()
        .iter()
        .map(|a| format!("\"{}:0\"", a.uri.object_id()))
        .collect();
    let text = format!(
        "[dpm]\nhost = \"demo-compute\"\nhmc = \"dpm-sim (in memory)\"\nhmc_username = \"{}\"\nhmc_password = \"{}\"\n\
         cpc_object_id = \"{}\"\nmax_processors = 8\nmax_memory = 32768\nphysical_storage_adapter_mappings = [{}]\n",
        sim.spec().hmc.userid,
        sim.spec().hmc.password,
        sim.cpc_uri().object_id(),
        mappings.join(", ")
    );
    Ok(DriverConfig::from_toml(&text)?)
}

/// Every request to one API, job traffic included.
fn all(c: &Counters, side: Side) -> u64 {
    Op::ALL
        .iter()
        .filter(|o| o.side() == side)
        .map(|o| c.get(*o))
        .sum()
}

/// The requests the demo's own steps made (not its looks at the world):
/// what the picture must show.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// HMC requests, job reads and deletes included.
    pub hmc: u64,
    /// Cinder requests.
    pub cinder: u64,
}

/// Counts a step's requests from the simulator's counters and says them.
struct Tally {
    sim: Sim,
    screen: Screen,
    at: Counters,
    looked: Summary,
}

impl Tally {
    /// Says what the step since the last call made.
    fn step(&mut self, what: &str) {
        let now = self.sim.counters();
        let d = |f: &dyn Fn(&Counters) -> u64| f(&now).saturating_sub(f(&self.at));
        let hmc = d(&|c| c.requests(Side::Hmc));
        let reads = d(&|c| c.get(Op::GetJob));
        let deletes = d(&|c| c.get(Op::DeleteJob));
        let cinder = d(&|c| c.requests(Side::Cinder));
        self.screen.say(&format!(
            "  ({what}: {}, {}, {}; {})",
            count(hmc, "HMC request"),
            count(reads, "job read"),
            count(deletes, "job delete"),
            count(cinder, "Cinder request"),
        ));
        self.at = now;
    }

    /// Leaves out what a look at the world asked.
    async fn look(&mut self, title: &str) -> Result<(), Box<dyn Error>> {
        let before = self.sim.counters();
        print_world(&self.sim, &self.screen, title)
            .instrument(picture::quiet_span())
            .await?;
        let after = self.sim.counters();
        self.looked.hmc += all(&after, Side::Hmc) - all(&before, Side::Hmc);
        self.looked.cinder += all(&after, Side::Cinder) - all(&before, Side::Cinder);
        self.at = after;
        Ok(())
    }
}

/// `1 job read`, `2 job reads`.
fn count(n: u64, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

fn short(id: &impl ToString) -> String {
    let mut s = id.to_string();
    s.truncate(8);
    s
}

/// Runs the demo on the named world, telling it on `screen` from the
/// steps `picture` records (its [`picture::Recorder`] must be installed).
/// Returns the requests it made. An error if any scenario does not end as
/// it must.
pub async fn run(
    world: &str,
    picture: &Picture,
    screen: &Screen,
) -> Result<Summary, Box<dyn Error>> {
    let sim = Sim::new(WorldSpec::named(world)?)?;
    let spec = sim.spec();
    let groups = spec.cpc.storage_management;
    let say = |s: &str| screen.say(s);
    say("dpm demo: boot an IBM Z partition from a Cinder FCP volume, on a simulated DPM world");
    say(&format!(
        "  CPC {}: machine type {}, SE {}, DPM, {} IFLs, {} MiB",
        spec.cpc.name,
        spec.cpc.machine_type,
        spec.cpc.se_version,
        spec.cpc.ifl,
        spec.cpc.memory_mib,
    ));
    say(&format!(
        "  storage model: {}",
        if groups {
            "storage groups (dpm-storage-management)"
        } else {
            "vHBAs"
        },
    ));
    say(&format!(
        "  FCP adapters: {}",
        sim.fcp_adapters()
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    ));
    say(&format!(
        "  storage {} with {} target ports on fabrics {}",
        spec.storage.name,
        spec.storage.target_ports.len(),
        spec.fabrics
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>()
            .join(" and "),
    ));
    {
        // The simulator's clock is tokio's, from its start: read without
        // its lock, which it holds while it tells storage events.
        let origin = tokio::time::Instant::now().checked_sub(sim.now());
        let screen = screen.clone();
        picture.set_echo(Box::new(move |step| {
            let at = origin.map(|o| o.elapsed()).unwrap_or_default();
            screen.say(&narrate(step, at));
        }));
    }

    let cfg = config_for(&sim)?;
    let hmc = sim.hmc_with(Credentials {
        userid: cfg.hmc_username.clone(),
        password: cfg.hmc_password.clone(),
    });
    let driver = Compute::new(DpmDriver::new(hmc, cfg), sim.default_cinder());
    let mut tally = Tally {
        sim: sim.clone(),
        screen: screen.clone(),
        at: sim.counters(),
        looked: Summary::default(),
    };
    let start = sim.counters();

    picture::section("Image deployment: Cinder alone, no Nova");
    let (image, image_name) = sim
        .images()
        .into_iter()
        .next()
        .ok_or("the world has no image")?;
    picture::note(
        Actor::Cinder,
        &format!("a user creates a 10 GiB volume from image {image_name}"),
    );
    let boot = async {
        let boot = driver
            .cinder()
            .create_volume(&VolumeCreate {
                size: 10,
                name: Some("boot".into()),
                image_ref: Some(image),
                ..Default::default()
            })
            .await?;
        wait_available(driver.cinder(), &boot.id, false).await?;
        Ok::<_, Box<dyn Error>>(boot)
    }
    .instrument(picture::caller_span(Actor::Nova))
    .await?;
    picture::note(
        Actor::Cinder,
        &format!("volume {} available, bootable", short(&boot.id)),
    );
    tally.step("image deployment");

    picture::section("init_host");
    driver.init_host().await?;
    tally.step("init_host");

    picture::section("1. Spawn: boot from the volume (2 IFLs, 4 GiB, 2 adapters)");
    let vm = Instance::new(
        InstanceId::from_u128(0x0d3d_0000_0000_4000_8000_0000_0000_0001),
        2,
        4096,
    );
    picture::tell(
        Actor::Nova,
        Actor::NovaDriver,
        &format!("spawn instance {}", short(&vm.uuid)),
    );
    let spawned = driver
        .spawn(&vm, &[BlockDevice::boot(boot.id.clone())])
        .await?;
    for (v, paths) in &spawned.volumes {
        picture::tell(
            Actor::NovaDriver,
            Actor::NovaVolume,
            &format!("connect_volume {}: {} paths", short(v), paths.len()),
        );
    }
    let active = driver.get_info(&vm.uuid).await?;
    picture::tell(
        Actor::NovaDriver,
        Actor::Nova,
        &format!("instance {:?} ({})", active.state, active.status),
    );
    tally.step("spawn");

    picture::section("2. Attach a data volume to the running instance");
    let data = async {
        let data = driver
            .cinder()
            .create_volume(&VolumeCreate {
                size: 20,
                name: Some("data".into()),
                ..Default::default()
            })
            .await?;
        wait_available(driver.cinder(), &data.id, false).await?;
        Ok::<_, Box<dyn Error>>(data)
    }
    .instrument(picture::caller_span(Actor::Nova))
    .await?;
    picture::tell(
        Actor::Nova,
        Actor::NovaDriver,
        &format!("attach_volume {}", short(&data.id)),
    );
    let paths = driver.attach_volume(&vm.uuid, &data.id).await?;
    picture::tell(
        Actor::NovaDriver,
        Actor::NovaVolume,
        &format!("connect_volume {}: {} paths", short(&data.id), paths.len()),
    );
    let guest = sim.guest_paths(&spawned.partition);
    picture::note(
        Actor::NovaVolume,
        &format!("the guest (auto-discovery) sees {} LUN paths", guest.len()),
    );
    tally.step("attach");
    tally
        .look("World with the instance running and both volumes attached")
        .await?;

    picture::section("3. Detach the data volume from the running instance");
    picture::tell(
        Actor::Nova,
        Actor::NovaDriver,
        &format!("detach_volume {}", short(&data.id)),
    );
    driver.detach_volume(&vm.uuid, &data.id).await?;
    if sim
        .guest_paths(&spawned.partition)
        .iter()
        .any(|p| p.volume == data.id)
    {
        return Err("the detached volume is still visible to the guest".into());
    }
    tally.step("detach");

    picture::section("4. Destroy");
    picture::tell(
        Actor::Nova,
        Actor::NovaDriver,
        &format!("destroy instance {}", short(&vm.uuid)),
    );
    driver.destroy(&vm.uuid).await?;
    tally.step("destroy");
    tally.look("World at the end").await?;

    let s = sim.snapshot();
    if !(s.partitions.is_empty()
        && s.hbas.is_empty()
        && s.storage_groups.is_empty()
        && s.hosts.is_empty()
        && s.zones.is_empty()
        && s.attachments.is_empty())
        || s.volumes
            .iter()
            .any(|v| v.status != VolumeStatus::Available)
    {
        return Err("destroy left something behind".into());
    }
    let end = sim.counters();
    let made = Summary {
        hmc: all(&end, Side::Hmc) - all(&start, Side::Hmc) - tally.looked.hmc,
        cinder: all(&end, Side::Cinder) - all(&start, Side::Cinder) - tally.looked.cinder,
    };
    say(&format!(
        "\nIn all: {} (job reads and deletes too), {}; simulated time {:.1}s.",
        count(made.hmc, "HMC request"),
        count(made.cinder, "Cinder request"),
        sim.now().as_secs_f64()
    ));
    say("Nothing is left behind: no partition, vHBA, storage group, LUN mapping, zone or");
    say("attachment; every volume is available.");
    Ok(made)
}

/// Prints the world's state as tables.
async fn print_world(sim: &Sim, screen: &Screen, title: &str) -> Result<(), Box<dyn Error>> {
    screen.say(&format!("\n-- {title} --"));
    let show = |title: &str, headers: &[&str], rows: &[Vec<String>]| {
        screen.say(table::render(title, headers, rows).trim_end());
    };
    let hmc = sim.hmc();
    hmc.logon().await?;
    let s = sim.snapshot();
    let mut rows = Vec::new();
    for p in &s.partitions {
        let full = hmc.get_partition(&p.uri).await?;
        let boot = match (
            &full.boot_storage_device,
            full.boot_world_wide_port_name,
            full.boot_logical_unit_number,
        ) {
            (Some(h), Some(w), Some(l)) => {
                format!(
                    "HBA {} → {w} LUN {}",
                    short_id(h.element_id()),
                    l.to_target_lun()
                )
            }
            _ => match &full.boot_storage_volume {
                Some(v) => format!("storage volume {}", short_id(v.element_id())),
                None => full.boot_device.to_string(),
            },
        };
        rows.push(vec![
            short_ids(&p.name),
            p.status.to_string(),
            p.ifl.to_string(),
            format!("{} MiB", p.memory_mib),
            boot,
        ]);
    }
    show(
        "Partitions",
        &["name", "status", "IFLs", "memory", "boot"],
        &rows,
    );

    let fabric_names: Vec<String> = sim.spec().fabrics.iter().map(|f| f.name.clone()).collect();
    let fabric = |i: usize| fabric_names.get(i).cloned().unwrap_or_default();
    if sim.spec().cpc.storage_management {
        print_groups(sim, &s, &fabric, &show);
    } else {
        let rows: Vec<Vec<String>> = s
            .hbas
            .iter()
            .map(|h| {
                let adapter = sim
                    .fcp_adapters()
                    .into_iter()
                    .find(|a| a.uri == h.port.parent())
                    .map(|a| a.name)
                    .unwrap_or_default();
                vec![
                    short_ids(&h.partition),
                    h.device_number.to_string(),
                    h.wwpn.to_string(),
                    format!("{adapter} port {}", h.port.element_id()),
                    sim.port_fabric(&h.port).map(fabric).unwrap_or_default(),
                ]
            })
            .collect();
        show(
            "vHBAs",
            &["partition", "device", "WWPN", "adapter port", "fabric"],
            &rows,
        );
    }

    let mut rows = Vec::new();
    for h in &s.hosts {
        for (id, v) in &h.mappings {
            let wwpns: Vec<String> = h.wwpns.iter().map(ToString::to_string).collect();
            let name = s
                .volumes
                .iter()
                .find(|x| &x.id == v)
                .and_then(|x| x.name.clone())
                .unwrap_or_default();
            rows.push(vec![
                h.name.clone(),
                wwpns.join(","),
                id.to_string(),
                format!("{} ({name})", short_id(&v.to_string())),
            ]);
        }
    }
    show(
        "LUN mappings (storage host objects)",
        &["host", "WWPNs", "SCSI id", "volume"],
        &rows,
    );

    let rows: Vec<Vec<String>> = s
        .zones
        .iter()
        .map(|z| {
            vec![
                fabric(z.fabric),
                z.initiator.to_string(),
                z.target.to_string(),
            ]
        })
        .collect();
    show("Zones", &["fabric", "initiator", "target"], &rows);

    let rows: Vec<Vec<String>> = sim
        .default_cinder()
        .list_volumes()
        .await?
        .iter()
        .map(|v| {
            vec![
                short_id(&v.id.to_string()).to_owned(),
                v.name.clone().unwrap_or_default(),
                v.status.to_string(),
                v.bootable.to_string(),
                format!("{} GiB", v.size),
            ]
        })
        .collect();
    show(
        "Volumes",
        &["id", "name", "status", "bootable", "size"],
        &rows,
    );
    hmc.logoff().await?;
    Ok(())
}

/// The first 8 characters of an id, for tables.
fn short_id(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// Shows one table (title, headers, rows).
type Show<'a> = dyn Fn(&str, &[&str], &[Vec<String>]) + 'a;

/// The storage groups, their volumes and their VSRs.
fn print_groups(
    sim: &Sim,
    s: &dpm_sim::WorldSnapshot,
    fabric: &dyn Fn(usize) -> String,
    show: &Show<'_>,
) {
    // One row per WWPN, the group named on its first.
    let mut rows = Vec::new();
    for g in &s.storage_groups {
        for (i, w) in g.wwpns.iter().enumerate() {
            let (name, state) = if i == 0 {
                (short_ids(&g.name), g.fulfillment_state.to_string())
            } else {
                (String::new(), String::new())
            };
            rows.push(vec![name, state, w.wwpn.to_string(), w.status.to_string()]);
        }
    }
    show(
        "Storage groups",
        &["name", "fulfillment", "WWPN", "WWPN status"],
        &rows,
    );
    let mut rows = Vec::new();
    for g in &s.storage_groups {
        for v in &g.volumes {
            rows.push(vec![
                short_id(g.uri.object_id()).to_owned(),
                short_id(&v.name).to_owned(),
                v.usage.to_string(),
                format!("{} GiB", v.size),
                v.fulfillment_state.to_string(),
                v.cinder_volume
                    .as_ref()
                    .map(|c| short_id(&c.to_string()).to_owned())
                    .unwrap_or_default(),
            ]);
        }
    }
    show(
        "Storage volumes (requests, fulfilled by discovery)",
        &[
            "group",
            "name",
            "usage",
            "size",
            "fulfillment",
            "Cinder volume",
        ],
        &rows,
    );
    let mut rows = Vec::new();
    for g in &s.storage_groups {
        for r in &g.vsrs {
            let port = g
                .wwpns
                .iter()
                .find(|w| w.wwpn == r.wwpn)
                .and_then(|w| w.port.clone());
            let partition = s
                .partitions
                .iter()
                .find(|p| p.uri == r.partition)
                .map(|p| short_ids(&p.name))
                .unwrap_or_default();
            rows.push(vec![
                partition,
                r.device_number.to_string(),
                r.wwpn.to_string(),
                port.as_ref()
                    .and_then(|p| {
                        sim.fcp_adapters()
                            .into_iter()
                            .find(|a| a.uri == p.parent())
                            .map(|a| format!("{} port {}", a.name, p.element_id()))
                    })
                    .unwrap_or_default(),
                port.as_ref()
                    .and_then(|p| sim.port_fabric(p))
                    .map(fabric)
                    .unwrap_or_default(),
            ]);
        }
    }
    show(
        "Virtual storage resources (the group's paths into the partition)",
        &["partition", "device", "WWPN", "adapter port", "fabric"],
        &rows,
    );
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::Layer;

    /// Runs the demo in this thread, on a paused clock, with the recorder.
    fn run_demo(world: &str) -> (String, Summary, Vec<Step>) {
        let picture = Picture::new(false);
        let subscriber = tracing_subscriber::registry().with(
            picture
                .recorder()
                .with_filter(tracing_subscriber::filter::filter_fn(picture::wanted)),
        );
        let _default = tracing::subscriber::set_default(subscriber);
        let screen = Screen::new(false);
        let summary = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .unwrap()
            .block_on(run(world, &picture, &screen))
            .unwrap();
        (screen.text(), summary, picture.steps())
    }

    /// The number before `what` in a tally line (`6 HMC requests`).
    fn number(line: &str, what: &str) -> u64 {
        let i = line.find(what).unwrap();
        line[..i]
            .trim_end()
            .rsplit([' ', '('])
            .next()
            .unwrap()
            .parse()
            .unwrap()
    }

    #[test]
    fn the_demo_fits_100_columns_heads_every_step_and_counts_what_it_shows() {
        for world in ["z16", "z13"] {
            let (text, summary, steps) = run_demo(world);
            for l in text.lines() {
                assert!(l.chars().count() <= WIDTH, "{world}: too wide: {l:?}");
            }
            for h in [
                "== Image deployment",
                "== init_host ==",
                "== 1. Spawn",
                "== 2. Attach",
                "== 3. Detach",
                "== 4. Destroy ==",
            ] {
                assert!(text.contains(h), "{world}: no heading {h:?}:\n{text}");
            }
            // Each step's tally (from the simulator's counters) matches the
            // requests narrated under its heading.
            let (mut hmc, mut cinder, mut tallies) = (0, 0, 0);
            for l in text.lines() {
                if l.starts_with("== ") {
                    (hmc, cinder) = (0, 0);
                } else if l.contains("→ HMC ") {
                    hmc += 1;
                } else if l.contains("→ cinder ") {
                    cinder += 1;
                } else if l.starts_with("  (") && l.contains("HMC request") {
                    let told =
                        number(l, "HMC request") + number(l, "job read") + number(l, "job delete");
                    assert_eq!(told, hmc, "{world}: {l}");
                    assert_eq!(number(l, "Cinder request"), cinder, "{world}: {l}");
                    tallies += 1;
                }
            }
            assert_eq!(tallies, 6, "{world}");
            // With notifications a job is read once, when it has ended.
            assert!(text.contains("(spawn: "), "{text}");
            // The picture: valid statements, the spec's participants, and
            // as many requests as the simulator counted.
            let mmd = picture::mermaid(&steps);
            let messages = picture::parse_mermaid(&mmd).unwrap();
            let to = |who: &str| {
                messages
                    .iter()
                    .filter(|(_, t, _, reply)| t == who && !reply)
                    .count() as u64
            };
            assert_eq!(to("HMC"), summary.hmc, "{world}");
            assert_eq!(to("cinder"), summary.cinder, "{world}");
            assert!(to("storage") > 0 && to("nova-volume") > 0, "{world}");
            let password = WorldSpec::named(world).unwrap().hmc.password;
            assert!(!mmd.contains(&password) && !text.contains(&password));
            let diag = picture::seqdiag(&steps);
            assert_eq!(
                diag.matches("nova-driver -> HMC").count() as u64,
                summary.hmc,
                "{world}"
            );
        }
    }

    #[test]
    fn long_labels_lose_their_leading_path_segments() {
        let l = "POST /api/storage-groups/5000000a/operations/start-fcp-storage-discovery";
        assert_eq!(
            fit(l, 60),
            "POST …/5000000a/operations/start-fcp-storage-discovery"
        );
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abc", 4), "abc");
    }
}
