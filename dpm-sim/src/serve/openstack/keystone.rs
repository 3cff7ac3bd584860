//! Keystone v3: password authentication, tokens (issue, validate,
//! expiry) and the catalog.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};

use crate::clock::Clock;
use crate::ops::Op;
use crate::pipeline::Shared;
use crate::serve::http::{Req, Resp};
use crate::spec::WorldSpec;
use crate::world::World;

#[derive(Debug, Clone)]
struct Token {
    project: String,
    issued: Duration,
    expires: Duration,
}

/// Who a Cinder request comes from: the token's project and user, and
/// whether it has the `admin` role (Cinder shows an admin more of a
/// volume).
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    /// The project's name.
    pub project: String,
    /// The Keystone user's id, when known.
    pub user: Option<String>,
    /// Whether Cinder's `admin_api` rule passes.
    pub admin: bool,
}

/// The roles of the one Keystone user: devstack's `admin`, with the roles
/// `admin` implies (`member`, which implies `reader`), as a token lists
/// them.
const ROLES: [(&str, &str); 3] = [
    ("0e0f0e0f0e0f0e0f0e0f0e0f0e0f0e01", "admin"),
    ("0e0f0e0f0e0f0e0f0e0f0e0f0e0f0e0f", "member"),
    ("0e0f0e0f0e0f0e0f0e0f0e0f0e0f0e02", "reader"),
];

/// Keystone's state: the accepted user and the tokens handed out.
#[derive(Debug)]
pub(crate) struct Keystone {
    username: String,
    password: String,
    lifetime: Duration,
    /// project name → id
    projects: Vec<(String, String)>,
    tokens: Mutex<BTreeMap<String, Token>>,
    /// Cinder without Keystone (`auth_strategy = noauth`).
    noauth: bool,
    seq: Mutex<u64>,
    pub(crate) auth_url: String,
    pub(crate) cinder_url: String,
}

impl Keystone {
    pub(crate) fn new(spec: &WorldSpec, auth_url: String, cinder_url: String) -> Self {
        Self {
            username: spec.keystone.username.clone(),
            password: spec.keystone.password.clone(),
            lifetime: Duration::from_secs(spec.keystone.token_lifetime_s),
            projects: spec
                .projects
                .iter()
                .map(|p| (p.name.clone(), p.id()))
                .collect(),
            tokens: Mutex::new(BTreeMap::new()),
            noauth: spec.cinder.noauth,
            seq: Mutex::new(0),
            auth_url,
            cinder_url,
        }
    }

    /// The path Cinder is served under (`""` at the root).
    pub(super) fn cinder_path(&self) -> &str {
        let after_scheme = self.cinder_url.split_once("://").map_or("", |(_, r)| r);
        after_scheme.find('/').map_or("", |i| &after_scheme[i..])
    }

    pub(super) fn project_id(&self, name: &str) -> Option<&str> {
        self.projects
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, id)| id.as_str())
    }

    fn project_name(&self, id: &str) -> Option<&str> {
        self.projects
            .iter()
            .find(|(_, i)| i == id)
            .map(|(n, _)| n.as_str())
    }

    /// The caller of a request: the token's, or with `noauth` the URL's
    /// project, the user the token names (`user:project`, as Cinder's
    /// noauth middleware reads it) and an admin context.
    pub(super) fn authorize(
        &self,
        token: Option<&str>,
        url_project: &str,
        now: Duration,
    ) -> Option<Caller> {
        if self.noauth {
            let project = self.project_name(url_project)?.to_owned();
            let user = token
                .map(|t| t.split_once(':').map_or(t, |(u, _)| u))
                .filter(|u| !u.is_empty())
                .map(str::to_owned);
            return Some(Caller {
                project,
                user,
                admin: true,
            });
        }
        let t = self.check(token, now)?;
        Some(Caller {
            project: t.project,
            user: Some(self.username.clone()),
            // The one user has the `admin` role (ROLES).
            admin: true,
        })
    }

    /// A valid (known, unexpired) token.
    fn check(&self, token: Option<&str>, now: Duration) -> Option<Token> {
        let tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        let t = tokens.get(token?)?;
        (t.expires > now).then(|| t.clone())
    }

    /// A token's body, as Keystone gives it at issue and validation;
    /// times on `clock`'s calendar.
    fn token_body(&self, t: &Token, clock: &Clock, catalog: bool) -> Value {
        let project_id = self.project_id(&t.project).unwrap_or_default();
        let roles: Vec<Value> = ROLES
            .iter()
            .map(|(id, name)| json!({"id": id, "name": name}))
            .collect();
        let mut token = json!({
            "methods": ["password"],
            "expires_at": iso(clock, t.expires),
            "issued_at": iso(clock, t.issued),
            "user": {"id": self.username, "name": self.username, "domain": {"id": "default", "name": "Default"}, "password_expires_at": null},
            "project": {"id": project_id, "name": t.project, "domain": {"id": "default", "name": "Default"}},
            "roles": roles,
        });
        if catalog {
            let endpoint = |id: &str, url: String| json!({"id": id, "interface": "public", "region": "RegionOne", "region_id": "RegionOne", "url": url});
            let cinder = format!("{}/v3/{project_id}", self.cinder_url);
            token["catalog"] = json!([
                {"type": "identity", "name": "keystone", "id": "c0000000000000000000000000000001", "endpoints": [endpoint("e1", self.auth_url.clone())]},
                {"type": "block-storage", "name": "cinder", "id": "c0000000000000000000000000000002", "endpoints": [endpoint("e2", cinder.clone())]},
                {"type": "volumev3", "name": "cinderv3", "id": "c0000000000000000000000000000003", "endpoints": [endpoint("e3", cinder)]},
            ]);
        }
        json!({ "token": token })
    }
}

fn keystone_error(code: u16, title: &str, message: &str) -> Resp {
    Resp::json(
        code,
        json!({"error": {"code": code, "title": title, "message": message}}),
    )
}

pub(super) fn unauthorized() -> Resp {
    keystone_error(
        401,
        "Unauthorized",
        "The request you have made requires authentication.",
    )
}

/// Simulated time, for token expiry.
pub(super) fn now(world: &Mutex<World>) -> Duration {
    crate::pipeline::lock(world).now()
}

/// Keystone's form of a time: Cinder's with a `Z`.
fn iso(clock: &Clock, t: Duration) -> String {
    format!("{}Z", clock.stamp(t))
}

#[derive(Deserialize)]
struct AuthBody {
    auth: Auth,
}
#[derive(Deserialize)]
struct Auth {
    identity: Identity,
    #[serde(default)]
    scope: Option<Scope>,
}
#[derive(Deserialize)]
struct Identity {
    methods: Vec<String>,
    password: Option<PasswordMethod>,
}
#[derive(Deserialize)]
struct PasswordMethod {
    user: User,
}
#[derive(Deserialize)]
struct User {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    domain: Option<Domain>,
    password: String,
}
#[derive(Deserialize)]
struct Domain {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    id: Option<String>,
}
#[derive(Deserialize)]
struct Scope {
    project: Option<ProjectRef>,
}
#[derive(Deserialize)]
struct ProjectRef {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    domain: Option<Domain>,
}

fn default_domain(d: Option<&Domain>) -> bool {
    match d {
        None => true,
        Some(d) => {
            d.name
                .as_deref()
                .is_none_or(|n| n.eq_ignore_ascii_case("default"))
                && d.id.as_deref().is_none_or(|i| i == "default")
        }
    }
}

pub(crate) fn keystone(ks: &Keystone, shared: &Shared, req: &Req) -> Resp {
    let world: &Mutex<World> = &shared.world;
    let seg = req.segments("/").unwrap_or_default();
    match (req.method.as_str(), seg.as_slice()) {
        ("GET", [] | ["v3"]) => Resp::json(
            if seg.is_empty() { 300 } else { 200 },
            json!({"version": {"id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
                "links": [{"rel": "self", "href": format!("{}/", ks.auth_url)}],
                "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]}}),
        ),
        ("POST", ["v3", "auth", "tokens"]) => issue_token(ks, shared, req),
        (m @ ("GET" | "HEAD"), ["v3", "auth", "tokens"]) => validate_token(ks, world, req, m),
        _ => keystone_error(
            501,
            "Not Implemented",
            &format!("{} {} is not implemented in dpm-sim.", req.method, req.path),
        ),
    }
}

fn issue_token(ks: &Keystone, shared: &Shared, req: &Req) -> Resp {
    shared.harness().count(Op::KeystoneAuth);
    let world: &Mutex<World> = &shared.world;
    let body: AuthBody = match req.json().and_then(serde_json::from_value) {
        Ok(b) => b,
        Err(_) => {
            return keystone_error(
                400,
                "Bad Request",
                "The request body is not a valid v3 password authentication request.",
            )
        }
    };
    let Some(pw) = body
        .auth
        .identity
        .password
        .filter(|_| body.auth.identity.methods.iter().any(|m| m == "password"))
    else {
        return keystone_error(
            401,
            "Unauthorized",
            "Only password authentication is supported.",
        );
    };
    let user_ok = pw.user.name.as_deref() == Some(ks.username.as_str())
        && default_domain(pw.user.domain.as_ref())
        || pw.user.id.as_deref() == Some(ks.username.as_str());
    if !user_ok || pw.user.password != ks.password {
        return keystone_error(
            401,
            "Unauthorized",
            "The request you have made requires authentication.",
        );
    }
    let Some(project) = body.auth.scope.and_then(|s| s.project) else {
        return keystone_error(
            400,
            "Bad Request",
            "dpm-sim issues project-scoped tokens only: give a project scope.",
        );
    };
    let name = match (&project.id, &project.name) {
        (Some(id), _) => ks.project_name(id).map(str::to_owned),
        (None, Some(n)) if default_domain(project.domain.as_ref()) => {
            ks.project_id(n).map(|_| n.clone())
        }
        _ => None,
    };
    let Some(name) = name else {
        return keystone_error(
            401,
            "Unauthorized",
            "The project in the scope does not exist or is not accessible.",
        );
    };
    let issued = now(world);
    let expires = issued + ks.lifetime;
    let token = {
        let mut seq = ks.seq.lock().unwrap_or_else(|e| e.into_inner());
        *seq += 1;
        format!("gAAAAAsim{:08x}{:016x}", *seq, crate::ids::unguessable())
    };
    let mut tokens = ks.tokens.lock().unwrap_or_else(|e| e.into_inner());
    // Expired tokens are gone (and take no memory).
    tokens.retain(|_, t| t.expires > issued);
    let t = Token {
        project: name,
        issued,
        expires,
    };
    tokens.insert(token.clone(), t.clone());
    drop(tokens);
    let body = ks.token_body(&t, &crate::pipeline::lock(world).clock, true);
    Resp::json(201, body).with_header("x-subject-token", token)
}

/// `GET`/`HEAD /v3/auth/tokens`: the caller's `X-Auth-Token` must be
/// valid (401); the `X-Subject-Token` is answered with its body (200, the
/// catalog left out with `nocatalog`), or 404 when it is unknown or
/// expired, as Keystone does.
fn validate_token(ks: &Keystone, world: &Mutex<World>, req: &Req, method: &str) -> Resp {
    let now = now(world);
    if ks.check(req.header("x-auth-token"), now).is_none() {
        return unauthorized();
    }
    let Some(subject) = req.header("x-subject-token") else {
        return keystone_error(
            400,
            "Bad Request",
            "The X-Subject-Token header is required.",
        );
    };
    let Some(t) = ks.check(Some(subject), now) else {
        return keystone_error(404, "Not Found", "Could not find token.");
    };
    let resp = if method == "HEAD" {
        Resp::empty(200)
    } else {
        let catalog = req.query_all("nocatalog").is_empty();
        Resp::json(
            200,
            ks.token_body(&t, &crate::pipeline::lock(world).clock, catalog),
        )
    };
    resp.with_header("x-subject-token", subject.to_owned())
}
