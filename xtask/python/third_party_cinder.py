"""Third-party conformance of the simulated Cinder's rules: python-cinderclient
(through keystoneauth1), unmodified, against `dpm-sim serve` (a z13).

usage: third_party_cinder.py ENDPOINTS_JSON

The rules are the real Cinder's: a volume from an image goes creating,
downloading, available; the same instance may reserve a volume again;
an attachment update answers the attachment as it was before the call and
is 409 when another attachment of the volume has a connection; the delete
answers the remaining attachments in the summary form; os-complete needs
no connector; a backend failure at create is a 500 that keeps the
reservation; os-terminate_connection unreserves; os-attach needs no
reserve; os-initialize_connection adds Cinder's connection options.
What Nova's compute manager reads is there: a volume's snapshot_id, its
image's properties (volume_image_metadata), the mountpoint an attachment
update gave as the attachment's device; and keystoneauth's token is not
about to expire (its times are the wall clock's).
zhmcclient makes the partition whose vHBA WWPN is the connector.
Exits non-zero on the first failed expectation.
"""
import json
import sys
import time

import zhmcclient
from cinderclient import exceptions

from common import cinder, expect, hmc_session

INSTANCE = "3f1c0a52-7e55-4a8e-9d0c-6a1f0e5b2c77"


def field(obj, key):
    """A field of what cinderclient returns (a dict, or a resource)."""
    return obj[key] if isinstance(obj, dict) else getattr(obj, key)


def refused(call, code):
    """Whether `call` raises a cinderclient error with HTTP `code`; returns
    the error's message."""
    try:
        call()
    except exceptions.ClientException as e:
        return e.code == code, str(e)
    return False, "no error"


def wait_available(c, volume):
    """The volume once it has left creating (the simulator's transitions
    take milliseconds)."""
    for _ in range(200):
        volume = c.volumes.get(volume.id)
        if volume.status not in ("creating", "downloading"):
            return volume
        time.sleep(0.01)
    return volume


def check_cinder_rules(e):
    session = hmc_session(e)
    cpc = zhmcclient.Client(session).cpcs.list()[0]
    adapter = cpc.adapters.list(filter_args={"type": "fcp"})[0]
    partition = cpc.partitions.create({
        "name": "third-party-cinder", "ifl-processors": 1,
        "initial-memory": 1024, "maximum-memory": 1024})
    hba = partition.hbas.create({"name": "hba0", "adapter-port-uri": adapter.ports.list()[0].uri})
    wwpn = hba.get_property("wwpn")
    connector = {"wwpns": [wwpn], "wwnns": [wwpn], "host": "third-party-cinder",
                 "platform": "s390x", "os_type": "linux", "multipath": False}
    c = cinder(e)

    volume = c.volumes.create(size=10, name="tp-rules", imageRef=e["images"][0]["id"])
    seen = [volume.status]
    for _ in range(200):
        volume = c.volumes.get(volume.id)
        if seen[-1] != volume.status:
            seen.append(volume.status)
        if volume.status not in ("creating", "downloading"):
            break
        time.sleep(0.01)
    expect(seen[0] == "creating" and seen[-1] == "available" and volume.bootable == "true",
           "a volume from an image ends available and bootable (seen: %s)" % ", ".join(seen))
    expect(set(seen) <= {"creating", "downloading", "available"},
           "on its way it is only creating or downloading")
    expect(hasattr(volume, "snapshot_id") and volume.snapshot_id is None
           and volume.source_volid is None and volume.user_id == e["keystone"]["username"],
           "the volume has Cinder's snapshot_id, source_volid and user_id")
    meta = getattr(volume, "volume_image_metadata", {})
    expect(meta.get("image_id") == e["images"][0]["id"]
           and meta.get("image_name") == e["images"][0]["name"],
           "a volume from an image has its image's properties (%s)" % meta)
    ks = c.client.session
    expect(not ks.auth.get_access(ks).will_expire_soon(),
           "keystoneauth's token is not about to expire (wall-clock times)")

    first = c.attachments.create(volume.id, None, instance_id=INSTANCE)
    expect(first["status"] == "reserved" and first["attach_mode"] == "null"
           and first["attached_at"] == "" and first["connection_info"] == {},
           "attachment create: reserved, attach_mode \"null\", attached_at \"\", no connection")
    second = c.attachments.create(volume.id, None, instance_id=INSTANCE)
    expect(second["id"] != first["id"] and c.volumes.get(volume.id).status == "reserved",
           "the same instance reserves the volume again (a second attachment)")
    ok, why = refused(lambda: c.attachments.create(
        volume.id, None, instance_id="0d6e1a4c-2f3b-4c5d-8e9f-a0b1c2d3e4f5"), 400)
    expect(ok, "another instance is refused with 400 (%s)" % why)

    updated = c.attachments.update(first["id"], dict(connector, mountpoint="/dev/vdb"))
    info = field(updated, "connection_info")
    expect(field(updated, "status") == "reserved" and info.get("driver_volume_type") == "fibre_channel",
           "attachment update answers the attachment as it was (reserved), with FC connection info")
    expect(info.get("access_mode") == "rw" and info.get("encrypted") is False and "qos_specs" in info,
           "the connection info has Cinder's options (access_mode, encrypted, qos_specs)")
    shown = c.attachments.show(first["id"])
    expect(shown.status == "attaching" and shown.attach_mode == "rw",
           "the attachment is then attaching, attach_mode rw")
    ok, why = refused(lambda: c.attachments.update(second["id"], connector), 409)
    expect(ok, "updating a second attachment of a connected volume is 409 (%s)" % why)

    resp, body = c.attachments.delete(second["id"])
    left = body["attachments"]
    expect(len(left) == 1 and left[0]["id"] == first["id"]
           and sorted(left[0]) == ["id", "instance", "status", "volume_id"],
           "attachment delete answers the remaining attachments in the summary form")
    c.attachments.complete(first["id"])
    in_use = c.volumes.get(volume.id)
    expect(in_use.status == "in-use", "attachment complete puts the volume in use")
    shown = in_use.attachments
    expect(len(shown) == 1 and shown[0]["device"] == "/dev/vdb"
           and shown[0]["attachment_id"] == first["id"] and shown[0]["server_id"] == INSTANCE,
           "the volume's attachment shows the update's mountpoint as its device (%s)" % shown)
    c.attachments.delete(first["id"])
    expect(c.volumes.get(volume.id).status == "available", "the last delete frees the volume")

    # os-complete needs no connector.
    bare = c.attachments.create(volume.id, None, instance_id=INSTANCE)
    c.attachments.complete(bare["id"])
    expect(c.attachments.show(bare["id"]).status == "attached", "os-complete needs no connector")
    c.attachments.delete(bare["id"])

    # A backend failure while connecting at create (the connector's WWPNs
    # belong to two host objects): 500, the reservation stays.
    holders = []
    for i, w in enumerate(["c05076ffe5fffff1", "c05076ffe5fffff2"]):
        held = wait_available(c, c.volumes.create(size=1, name="tp-holder-%d" % i))
        owner = "3f1c0a52-7e55-4a8e-9d0c-6a1f0e5b2c7%d" % (8 + i)
        holders.append((held, c.attachments.create(held.id, dict(connector, wwpns=[w], wwnns=[w]),
                                                   instance_id=owner)))
    both = dict(connector, wwpns=["c05076ffe5fffff1", "c05076ffe5fffff2"],
                wwnns=["c05076ffe5fffff1", "c05076ffe5fffff2"])
    ok, why = refused(lambda: c.attachments.create(volume.id, both, instance_id=INSTANCE), 500)
    expect(ok and "Unable to create attachment for volume" in why,
           "a backend failure at create is a 500 'Unable to create attachment for volume' (%s)" % why)
    kept = c.attachments.list(search_opts={"volume_id": volume.id})
    expect(len(kept) == 1 and kept[0].status == "reserved", "the reservation stays")
    c.attachments.delete(kept[0].id)
    for held, a in holders:
        c.attachments.delete(a["id"])
        c.volumes.delete(held)

    # Legacy: terminate_connection unreserves; the unreserve after it is a no-op.
    c.volumes.reserve(volume)
    conn = c.volumes.initialize_connection(volume, connector)
    data = conn["data"]
    expect(all(k in data for k in ("access_mode", "encrypted", "qos_specs", "cacheable", "discard")),
           "os-initialize_connection adds access_mode, encrypted, qos_specs, cacheable, discard")
    c.volumes.terminate_connection(volume, connector)
    expect(c.volumes.get(volume.id).status == "available", "os-terminate_connection unreserves")
    c.volumes.unreserve(volume)
    expect(c.volumes.get(volume.id).status == "available", "os-unreserve after it changes nothing")
    # os-attach needs no reserve; a null attachment id detaches the only one.
    c.volumes.attach(volume, INSTANCE, "/dev/sdb")
    expect(c.volumes.get(volume.id).status == "in-use", "os-attach needs no reserve")
    c.volumes.detach(volume)
    expect(c.volumes.get(volume.id).status == "available", "os-detach (null id) frees it")

    c.volumes.delete(volume.id)
    partition.delete()
    session.logoff()
    print("third-party Cinder rules: all passed")


if __name__ == "__main__":
    check_cinder_rules(json.load(open(sys.argv[1])))
