"""Third-party conformance on a CPC with DPM storage management (z14+):
zhmcclient and python-cinderclient, unmodified, drive storage groups on
`dpm-sim serve --world z16`.

usage: third_party_groups.py ENDPOINTS_JSON

zhmcclient creates a storage group with a boot volume request, adds the FCP
adapter ports as candidates and reads the group's WWPNs; cinderclient runs an
attachment with those WWPNs (Cinder masks and zones); zhmcclient starts FCP
discovery and waits for it, attaches the group to a partition, lists its
VSRs, sees the volume complete with paths, boots from the storage volume (the
simulator's boot check must pass), stops, detaches and deletes everything.
Exits non-zero on the first failed expectation.
"""
import json
import sys

import zhmcclient

from common import cinder, expect, hmc_session, image_volume


def main(path):
    e = json.load(open(path))
    session = hmc_session(e)
    client = zhmcclient.Client(session)
    cpc = client.cpcs.list()[0]
    expect(client.consoles.console.list_api_features() == [] and cpc.list_api_features() == [],
           "zhmcclient lists the API features of the console and the CPC (none modelled)")
    cpc.pull_full_properties()
    features = {f["name"]: f["state"] for f in cpc.get_property("available-features-list")}
    expect(features.get("dpm-storage-management") is True, "the CPC has dpm-storage-management")
    adapters = cpc.adapters.list(filter_args={"type": "fcp"})
    ports = [a.ports.list()[0] for a in adapters]
    expect(len(ports) == 2, "two FCP adapter ports")

    partition = cpc.partitions.create({
        "name": "third-party-sg", "description": "zhmcclient storage groups",
        "ifl-processors": 1, "initial-memory": 1024, "maximum-memory": 1024})
    try:
        partition.hbas.create({"name": "hba0", "adapter-port-uri": ports[0].uri})
        expect(False, "HBA create is refused on a storage-management CPC")
    except zhmcclient.HTTPError as err:
        expect(err.http_status == 409, "HBA create is refused with 409 (%s)" % err.message)

    console = client.consoles.console
    sg = console.storage_groups.create({
        "cpc-uri": cpc.uri, "name": "tp-sg", "type": "fcp", "shared": False,
        "connectivity": 2, "max-partitions": 1,
        "storage-volumes": [{"operation": "create", "name": "tp-boot", "size": 10.0,
                             "usage": "boot"}]})
    sg.pull_full_properties()
    expect(sg.get_property("fulfillment-state") == "pending", "a new group is pending")
    sg.add_candidate_adapter_ports(ports)
    sg.pull_full_properties()
    expect(len(sg.get_property("candidate-adapter-port-uris")) == 2, "both ports are candidates")
    wwpns = [w["world-wide-port-name"] for w in sg.get_property("unassigned-world-wide-port-names")]
    expect(len(wwpns) == 2 and all(len(w) == 16 for w in wwpns), "the group has two WWPNs")
    found = console.storage_groups.list(filter_args={"name": "tp-sg"})
    expect(len(found) == 1 and found[0].uri == sg.uri, "zhmcclient finds the group by name")

    cinder_api = cinder(e)
    volume = image_volume(cinder_api, e, "tp-sg-boot")
    expect(volume.status == "available" and volume.bootable == "true", "cinderclient creates a bootable volume")
    attachment = cinder_api.attachments.create(volume.id, None, instance_id="8b2c66c1-4b3f-4bb5-bf3b-1f6fbdcfdc64")
    connector = {"wwpns": wwpns, "wwnns": wwpns, "host": "third-party", "platform": "s390x",
                 "os_type": "linux", "multipath": False}
    updated = cinder_api.attachments.update(attachment["id"], connector)
    info = updated.connection_info if hasattr(updated, "connection_info") else updated["connection_info"]
    expect(info.get("driver_volume_type") == "fibre_channel", "Cinder masks the LUN to the group's WWPNs")

    sg.discover_fcp(wait_for_completion=True)
    partition.attach_storage_group(sg)
    partition.pull_full_properties()
    expect(partition.get_property("storage-group-uris") == [sg.uri], "the group is attached")
    vsrs = sg.virtual_storage_resources.list()
    expect(len(vsrs) == 2, "the attachment made one VSR per adapter")
    expect(all(partition.name in [p.name for p in a.list_assigned_partitions()] for a in adapters),
           "each adapter lists the partition its VSR is on")
    svs = sg.storage_volumes.list()
    expect(len(svs) == 1, "the group has its volume")
    full = sg.storage_volumes.list(full_properties=True)
    expect(len(full) == 1 and full[0].get_property("fulfillment-state") == "complete",
           "zhmcclient lists with full properties (one bulk read)")
    parts = cpc.partitions.list(full_properties=True)
    expect(any(p.get_property("storage-group-uris") == [sg.uri] for p in parts),
           "zhmcclient lists partitions with full properties")
    sv = svs[0]
    sv.pull_full_properties()
    expect(sv.get_property("fulfillment-state") == "complete", "discovery fulfilled the volume")
    paths = sv.get_property("paths")
    expect(len({p["device-number"] for p in paths}) == 2
           and all(p["partition-uri"] == partition.uri for p in paths),
           "the volume has paths through both VSRs")
    attached = sg.list_attached_partitions()
    expect([p.uri for p in attached] == [partition.uri], "get-partitions names the partition")

    partition.update_properties({"boot-device": "storage-volume", "boot-storage-volume": sv.uri})
    partition.start()
    partition.pull_full_properties()
    expect(partition.get_property("status") == "active", "zhmcclient boots from the storage volume")
    partition.stop()
    partition.pull_full_properties()
    expect(partition.get_property("status") == "stopped", "zhmcclient stops the partition")
    partition.update_properties({"boot-device": "none"})
    partition.detach_storage_group(sg)
    expect(not sg.virtual_storage_resources.list(), "detach removes the VSRs")
    cinder_api.attachments.delete(attachment["id"])
    expect(cinder_api.volumes.get(volume.id).status == "available", "attachment delete frees the volume")
    sg.delete()
    expect(not console.storage_groups.list(filter_args={"name": "tp-sg"}), "zhmcclient deletes the group")
    partition.delete()
    cinder_api.volumes.delete(volume.id)
    session.logoff()
    print("third-party storage-group conformance: all passed")


if __name__ == "__main__":
    main(sys.argv[1])
