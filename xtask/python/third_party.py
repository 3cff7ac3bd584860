"""Third-party conformance: the public Python clients zhmcclient and
python-cinderclient, unmodified, against `dpm-sim serve`.

usage: third_party.py ENDPOINTS_JSON

zhmcclient logs on (verifying the simulator's CA), lists CPCs, FCP adapters
and their ports, creates a partition and a vHBA; cinderclient (through
keystoneauth1) creates a volume from an image and runs an attachment through
create, update with the vHBA's WWPN, and complete; zhmcclient then sets the
boot properties from the connection info, starts the partition (the
simulator's boot check must pass), stops it and deletes it; cinderclient
deletes the attachment. Exits non-zero on the first failed expectation.
"""
import json
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


def main(path):
    e = json.load(open(path))
    host, port = e["hmc"]["url"].split("//")[1].split(":")
    session = zhmcclient.Session(host, e["hmc"]["userid"], e["hmc"]["password"],
                                 port=int(port), verify_cert=e["hmc"]["ca_cert"])
    client = zhmcclient.Client(session)
    cpcs = client.cpcs.list()
    expect(len(cpcs) == 1 and cpcs[0].name == e["cpc"]["name"], "zhmcclient lists the CPC")
    cpc = cpcs[0]
    expect(cpc.dpm_enabled, "the CPC is in DPM mode")
    adapters = cpc.adapters.list(filter_args={"type": "fcp"})
    expect(len(adapters) == len(e["fcp_adapters"]), "zhmcclient lists the FCP adapters")
    ports = adapters[0].ports.list()
    expect(len(ports) >= 1, "zhmcclient lists the adapter's storage ports")

    partition = cpc.partitions.create({
        "name": "third-party-1", "description": "zhmcclient conformance",
        "ifl-processors": 1, "initial-memory": 1024, "maximum-memory": 1024})
    expect(partition.get_property("status") == "stopped", "zhmcclient creates a stopped partition")
    hba = partition.hbas.create({"name": "hba0", "adapter-port-uri": ports[0].uri})
    wwpn = hba.get_property("wwpn")
    expect(len(wwpn) == 16, "the vHBA has a 16-hex-digit WWPN")

    k = e["keystone"]
    auth = v3.Password(auth_url=k["auth_url"], username=k["username"], password=k["password"],
                       project_name=k["project_name"], user_domain_name=k["user_domain_name"],
                       project_domain_name=k["project_domain_name"])
    cinder = cinder_client.Client("3.44", session=ks_session.Session(auth=auth))
    volume = cinder.volumes.create(size=10, name="tp-boot", imageRef=e["images"][0]["id"])
    for _ in range(100):
        volume = cinder.volumes.get(volume.id)
        if volume.status != "creating":
            break
        time.sleep(0.1)
    expect(volume.status == "available" and volume.bootable == "true", "cinderclient creates a bootable volume")
    attachment = cinder.attachments.create(volume.id, None, instance_id="8b2c66c1-4b3f-4bb5-bf3b-1f6fbdcfdc63")
    expect(cinder.volumes.get(volume.id).status == "reserved", "attachment create reserves the volume")
    connector = {"wwpns": [wwpn], "wwnns": [wwpn], "host": "third-party", "platform": "s390x",
                 "os_type": "linux", "multipath": False}
    updated = cinder.attachments.update(attachment["id"], connector)
    info = updated.connection_info if hasattr(updated, "connection_info") else updated["connection_info"]
    expect(info.get("driver_volume_type") == "fibre_channel", "attachment update returns FC connection info")
    target = info["initiator_target_map"][wwpn][0]
    lun = int(info["target_lun"])
    cinder.attachments.complete(attachment["id"])
    expect(cinder.volumes.get(volume.id).status == "in-use", "attachment complete puts the volume in use")

    # Boot from the LUN: the simulator's boot check must pass.
    lun_hex = "%04x000000000000" % lun
    partition.update_properties({"boot-device": "storage-adapter", "boot-storage-device": hba.uri,
                                 "boot-world-wide-port-name": target, "boot-logical-unit-number": lun_hex})
    partition.start()
    partition.pull_full_properties()
    expect(partition.get_property("status") == "active", "zhmcclient boots the partition from the LUN")
    partition.stop()
    partition.pull_full_properties()
    expect(partition.get_property("status") == "stopped", "zhmcclient stops the partition")
    partition.delete()
    expect(not cpc.partitions.list(filter_args={"name": "third-party-1"}), "zhmcclient deletes the partition")

    cinder.attachments.delete(attachment["id"])
    expect(cinder.volumes.get(volume.id).status == "available", "attachment delete frees the volume")
    cinder.volumes.delete(volume.id)
    session.logoff()
    print("third-party conformance: all passed")


if __name__ == "__main__":
    main(sys.argv[1])
