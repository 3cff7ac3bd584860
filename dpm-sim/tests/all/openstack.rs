//! What OpenStack's own clients read from the served Keystone and Cinder:
//! Cinder's whole volume view at each microversion (Nova's compute manager
//! reads `snapshot_id`, `volume_image_metadata`, `shared_targets`,
//! `service_uuid` and more), the mountpoint an attachment update records,
//! wall-clock times (keystoneauth compares `expires_at` with its own
//! clock) with expiry still on the simulated clock, and token validation.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cinder_client::{CinderApi, InstanceId, Volume};
use dpm_sim::{ProjectSpec, Server, WorldSpec};
use hmc_client::HmcApi;
use serde_json::{json, Value};

use crate::conformance::{http_cinder, served};
use crate::support::{connector, World};

/// Raw Keystone and Cinder requests with a token of the `demo` project.
struct Os {
    http: reqwest::Client,
    auth_url: String,
    /// `http://…/v3/<project id>`.
    cinder: String,
    token: String,
    /// The token's body, as issued.
    issued: Value,
}

impl Os {
    async fn logon(server: &Server, password: &str) -> Self {
        // (the Cinder client installs the TLS provider reqwest needs)
        let _ = http_cinder(server, "demo", password);
        let http = reqwest::Client::new();
        let k = &server.endpoints().keystone;
        let (token, issued) = token(&http, &k.auth_url, &k.username, password).await;
        Self {
            http,
            auth_url: k.auth_url.clone(),
            cinder: server.endpoints().cinder.endpoint.clone(),
            token,
            issued,
        }
    }

    /// A Cinder request at microversion `ver`: the status and the body
    /// (null when there is none).
    async fn cinder(
        &self,
        method: reqwest::Method,
        path: &str,
        ver: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut r = self
            .http
            .request(method, format!("{}/{path}", self.cinder))
            .header("x-auth-token", &self.token)
            .header("openstack-api-version", format!("volume {ver}"));
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or_default())
    }

    async fn get(&self, path: &str, ver: &str) -> Value {
        let (status, body) = self.cinder(reqwest::Method::GET, path, ver, None).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// `GET /v3/auth/tokens` (with `query`) for `subject`, as `caller`.
    async fn validate(&self, caller: &str, subject: &str, query: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}/auth/tokens{query}", self.auth_url))
            .header("x-auth-token", caller)
            .header("x-subject-token", subject)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or_default())
    }
}

/// A project-scoped token for `demo`, and its body.
async fn token(http: &reqwest::Client, auth_url: &str, user: &str, pw: &str) -> (String, Value) {
    let r = http
        .post(format!("{auth_url}/auth/tokens"))
        .json(&json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": user, "domain": {"name": "Default"}, "password": pw}}},
            "scope": {"project": {"name": "demo", "domain": {"id": "default"}}}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let token = r.headers()["x-subject-token"].to_str().unwrap().to_owned();
    (token, r.json().await.unwrap())
}

/// Seconds since 1970 of a Cinder or Keystone time
/// (`2026-12-07T16:49:59.000000`, with or without `Z`).
fn seconds(t: &str) -> u64 {
    let n = |r: std::ops::Range<usize>| -> u64 { t[r].parse().unwrap() };
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + n(11..13) * 3600 + n(14..16) * 60 + n(17..19)
}

fn wall_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Asserts a served time is the wall clock's (within a minute).
#[track_caller]
fn is_wall_clock(t: &Value) {
    let s = seconds(t.as_str().unwrap());
    assert!(s.abs_diff(wall_now()) < 60, "{t} is not now");
}

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

/// Every field of Cinder's volume view at 3.0 for an admin, with the API
/// extensions of show and detail (`volume_image_metadata` only for a
/// volume with image properties).
const AT_3_0: [&str; 26] = [
    "id",
    "status",
    "size",
    "availability_zone",
    "created_at",
    "updated_at",
    "name",
    "description",
    "volume_type",
    "snapshot_id",
    "source_volid",
    "metadata",
    "links",
    "user_id",
    "bootable",
    "encrypted",
    "replication_status",
    "consistencygroup_id",
    "multiattach",
    "attachments",
    "migration_status",
    "os-vol-host-attr:host",
    "os-vol-mig-status-attr:migstat",
    "os-vol-mig-status-attr:name_id",
    "os-vol-tenant-attr:tenant_id",
    "volume_image_metadata",
];

/// What later microversions add (3.13, 3.21, 3.48, 3.61, 3.63, 3.65; 3.64's
/// `encryption_key_id` only for a volume with a key, never here).
const LATER: [&str; 7] = [
    "group_id",
    "provider_id",
    "shared_targets",
    "service_uuid",
    "cluster_name",
    "volume_type_id",
    "consumes_quota",
];

fn fields(list: &[&'static str]) -> BTreeSet<&'static str> {
    list.iter().copied().collect()
}

/// A volume's show, detail list and create answers carry every field
/// Cinder's view does at the requested microversion, with the values of
/// the volume's state: its creator, project, host, image, replication and
/// service; `volume_image_metadata` only when it was made from an image;
/// no API-extension fields in the create answer. `cinder_client::Volume`
/// reads them all.
#[tokio::test]
async fn volumes_carry_every_field_of_cinders_view() {
    let (sim, server) = served(WorldSpec::z13()).await;
    let spec = sim.spec();
    let os = Os::logon(&server, &spec.keystone.password).await;
    let project_id = ProjectSpec {
        name: "demo".into(),
    }
    .id();
    let (image, image_name) = sim.images()[0].clone();

    let (status, created) = os
        .cinder(
            reqwest::Method::POST,
            "volumes",
            "3.71",
            Some(json!({"volume": {"size": 10, "name": "boot", "imageRef": image}})),
        )
        .await;
    assert_eq!(status, 202, "{created}");
    let c = &created["volume"];
    let id = c["id"].as_str().unwrap().to_owned();
    let mut want = fields(&AT_3_0);
    want.extend(fields(&LATER));
    for k in [
        "os-vol-host-attr:host",
        "os-vol-mig-status-attr:migstat",
        "os-vol-mig-status-attr:name_id",
        "os-vol-tenant-attr:tenant_id",
        "volume_image_metadata",
    ] {
        want.remove(k);
    }
    assert_eq!(keys(c), want, "create at 3.71: {c}");
    assert_eq!(c["status"], "creating");
    assert_eq!(c["user_id"], spec.keystone.username.as_str());
    assert!(c["snapshot_id"].is_null() && c["source_volid"].is_null());
    // Before the backend made it: Cinder's column defaults.
    assert_eq!(c["replication_status"], "disabled");
    assert_eq!(c["shared_targets"], true);
    assert!(c["service_uuid"].is_null());
    assert_eq!(c["consumes_quota"], true);
    assert_eq!(c["encrypted"], false);
    let root = os.cinder.trim_end_matches(&format!("/v3/{project_id}"));
    assert_eq!(
        c["links"],
        json!([
            {"rel": "self", "href": format!("{}/volumes/{id}", os.cinder)},
            {"rel": "bookmark", "href": format!("{root}/{project_id}/volumes/{id}")},
        ])
    );
    serde_json::from_value::<Volume>(c.clone()).unwrap();

    sim.run_until_idle();
    let state = sim
        .default_cinder()
        .get_volume(&id.parse().unwrap())
        .await
        .unwrap();

    // 3.0: the view of 3.0, the extensions, nothing later.
    let v = &os.get(&format!("volumes/{id}"), "3.0").await["volume"];
    assert_eq!(keys(v), fields(&AT_3_0), "show at 3.0: {v}");
    assert_eq!(v["status"], state.status.as_str());
    assert_eq!(v["size"], state.size);
    assert_eq!(v["bootable"], "true");
    assert_eq!(
        v["volume_type"],
        state.volume_type.clone().unwrap().as_str()
    );
    assert_eq!(v["created_at"], state.created_at.clone().unwrap().as_str());
    assert_eq!(v["os-vol-tenant-attr:tenant_id"], project_id.as_str());
    assert_eq!(
        v["os-vol-host-attr:host"],
        format!("cinder-node@{0}#{0}", spec.storage.name)
    );
    assert_eq!(v["replication_status"], "not-capable");
    assert_eq!(
        v["volume_image_metadata"],
        json!({"image_id": image, "image_name": image_name})
    );
    assert_eq!(v["user_id"], spec.keystone.username.as_str());

    // 3.71: everything; the volume service has set its fields.
    let v = &os.get(&format!("volumes/{id}"), "3.71").await["volume"];
    let mut all = fields(&AT_3_0);
    all.extend(fields(&LATER));
    assert_eq!(keys(v), all, "show at 3.71: {v}");
    assert_eq!(
        v["shared_targets"], false,
        "an FC backend shares no targets"
    );
    assert!(v["service_uuid"].as_str().is_some_and(|u| u.len() == 36));
    assert!(v["volume_type_id"].as_str().is_some_and(|u| u.len() == 36));
    for k in ["group_id", "provider_id", "cluster_name"] {
        assert!(v[k].is_null(), "{k}: {v}");
    }
    assert_eq!(serde_json::from_value::<Volume>(v.clone()).unwrap(), state);

    // A blank volume has no image properties: the key is left out.
    let blank = sim
        .default_cinder()
        .create_volume(&cinder_client::VolumeCreate::new(1))
        .await
        .unwrap();
    sim.run_until_idle();
    let list = os.get("volumes/detail", "3.71").await;
    let list = list["volumes"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    for v in list {
        let mut want = all.clone();
        if v["id"] == blank.id.to_string().as_str() {
            want.remove("volume_image_metadata");
            assert_eq!(v["bootable"], "false");
            // Made in memory: no Keystone user is known.
            assert!(v["user_id"].is_null());
        }
        assert_eq!(keys(v), want, "detail list: {v}");
    }
    let summary = os.get("volumes", "3.71").await;
    for v in summary["volumes"].as_array().unwrap() {
        assert_eq!(keys(v), fields(&["id", "name", "links"]));
        assert_eq!(
            v["links"][0]["href"],
            format!("{}/volumes/{}", os.cinder, v["id"].as_str().unwrap())
        );
    }
    server.shutdown().await;
}

/// An attachment update over HTTP with Nova's connector (its `mountpoint`
/// included) shows, once complete, in the volume's `attachments`: the
/// mountpoint as `device`, the connector's host, the instance, the
/// attachment's id and its wall-clock time.
#[tokio::test]
async fn an_attachment_update_shows_the_mountpoint_as_the_device() {
    let (sim, server) = served(WorldSpec::z13()).await;
    let os = Os::logon(&server, &sim.spec().keystone.password).await;
    let hmc = sim.hmc();
    hmc.logon().await.unwrap();
    let w = World {
        sim: sim.clone(),
        hmc,
        cinder: sim.default_cinder(),
    };
    let p = w.partition("p").await;
    let hbas = w.hbas(&p).await;
    let v = w.volume(false).await;
    let vm = InstanceId::from_u128(9);
    let (status, body) = os
        .cinder(
            reqwest::Method::POST,
            "attachments",
            "3.44",
            Some(json!({"attachment": {"volume_uuid": v, "instance_uuid": vm}})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let aid = body["attachment"]["id"].as_str().unwrap().to_owned();
    let mut conn = serde_json::to_value(connector(&hbas)).unwrap();
    conn["mountpoint"] = json!("/dev/vdb");
    let (status, body) = os
        .cinder(
            reqwest::Method::PUT,
            &format!("attachments/{aid}"),
            "3.44",
            Some(json!({"attachment": {"connector": conn}})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = os
        .cinder(
            reqwest::Method::POST,
            &format!("attachments/{aid}/action"),
            "3.44",
            Some(json!({"os-complete": null})),
        )
        .await;
    assert_eq!(status, 204);
    let a = &os.get(&format!("attachments/{aid}"), "3.44").await["attachment"];
    is_wall_clock(&a["attached_at"]);
    let vol = &os.get(&format!("volumes/{v}"), "3.44").await["volume"];
    assert_eq!(vol["status"], "in-use");
    assert_eq!(
        vol["attachments"],
        json!([{"id": v, "attachment_id": aid, "volume_id": v, "server_id": vm,
                "host_name": conn["host"], "device": "/dev/vdb",
                "attached_at": a["attached_at"]}])
    );
    // The state's record, read in memory, is the same.
    let state = w.cinder.get_volume(&v).await.unwrap();
    assert_eq!(state.attachments[0].device.as_deref(), Some("/dev/vdb"));
    server.shutdown().await;
}

/// Served times are the wall clock's: a token's `issued_at` is now, and
/// its `expires_at` the lifetime later; a volume's `created_at` is now.
/// Expiry is still decided on the simulated clock: stepped past it, the
/// token is refused (401) and no longer validates (404), and a new one is
/// issued exactly the stepped time later on the calendar.
#[tokio::test]
async fn served_times_are_wall_clock_and_expiry_is_the_simulators() {
    let mut spec = WorldSpec::z13();
    spec.keystone.token_lifetime_s = 600;
    let (sim, server) = served(spec).await;
    let pw = sim.spec().keystone.password.clone();
    let os = Os::logon(&server, &pw).await;
    let t = &os.issued["token"];
    is_wall_clock(&t["issued_at"]);
    let issued = seconds(t["issued_at"].as_str().unwrap());
    assert_eq!(seconds(t["expires_at"].as_str().unwrap()), issued + 600);
    assert!(t["expires_at"].as_str().unwrap().ends_with('Z'));
    let (status, body) = os
        .cinder(
            reqwest::Method::POST,
            "volumes",
            "3.44",
            Some(json!({"volume": {"size": 1}})),
        )
        .await;
    assert_eq!(status, 202);
    is_wall_clock(&body["volume"]["created_at"]);

    sim.advance(Duration::from_secs(601));
    let (status, _) = os
        .cinder(reqwest::Method::GET, "volumes", "3.44", None)
        .await;
    assert_eq!(status, 401, "expired on the simulated clock");
    let k = &server.endpoints().keystone;
    let (fresh, body) = token(&os.http, &os.auth_url, &k.username, &pw).await;
    let again = seconds(body["token"]["issued_at"].as_str().unwrap());
    assert_eq!(again, issued + 601);
    let (status, _) = os.validate(&fresh, &os.token, "").await;
    assert_eq!(status, 404, "an expired token does not validate");
    server.shutdown().await;
}

/// `GET /v3/auth/tokens`: a valid subject token answers 200 with its body
/// (as issued; without the catalog on `nocatalog`), an unknown one 404, and
/// a caller without a valid token 401.
#[tokio::test]
async fn keystone_validates_tokens() {
    let (sim, server) = served(WorldSpec::z13()).await;
    let os = Os::logon(&server, &sim.spec().keystone.password).await;
    let (status, body) = os.validate(&os.token, &os.token, "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, os.issued);
    let roles: Vec<&str> = body["token"]["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["admin", "member", "reader"]);
    let (status, body) = os.validate(&os.token, &os.token, "?nocatalog").await;
    assert_eq!(status, 200);
    assert!(body["token"].get("catalog").is_none());
    assert_eq!(
        body["token"]["expires_at"],
        os.issued["token"]["expires_at"]
    );
    let (status, body) = os.validate(&os.token, "gAAAAAunknown", "").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], 404);
    let (status, _) = os.validate("gAAAAAunknown", &os.token, "").await;
    assert_eq!(status, 401);
    server.shutdown().await;
}
