"""What the third-party conformance scripts share: expectations, and the
zhmcclient and python-cinderclient sessions to a served dpm-sim."""
import sys
import time

import zhmcclient
from cinderclient import client as cinder_client
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3


def expect(cond, what):
    if not cond:
        print("FAILED: " + what, file=sys.stderr)
        sys.exit(1)
    print("ok: " + what)


def hmc_session(e):
    """A zhmcclient session that verifies the simulator's CA."""
    host, port = e["hmc"]["url"].split("//")[1].split(":")
    return zhmcclient.Session(host, e["hmc"]["userid"], e["hmc"]["password"],
                              port=int(port), verify_cert=e["hmc"]["ca_cert"])


def cinder(e):
    """A python-cinderclient at 3.44, authenticated through Keystone."""
    k = e["keystone"]
    auth = v3.Password(auth_url=k["auth_url"], username=k["username"], password=k["password"],
                       project_name=k["project_name"], user_domain_name=k["user_domain_name"],
                       project_domain_name=k["project_domain_name"])
    return cinder_client.Client("3.44", session=ks_session.Session(auth=auth))


def image_volume(c, e, name):
    """A 10 GiB volume from the world's first image, once it is created
    (creating, then downloading)."""
    volume = c.volumes.create(size=10, name=name, imageRef=e["images"][0]["id"])
    for _ in range(100):
        volume = c.volumes.get(volume.id)
        if volume.status not in ("creating", "downloading"):
            break
        time.sleep(0.1)
    return volume
