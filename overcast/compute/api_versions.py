"""The compute API's microversions, and the versions whose behaviour the code tests for.

Each constant names the version where a behaviour starts (Nova's REST API
version history); handlers compare ``ctx.version`` with them.
"""

from __future__ import annotations

from overcast.common.api.microversions import Microversions, Version

MIN = Version(2, 1)
MAX = Version(2, 79)
MICROVERSIONS = Microversions("compute", MIN, MAX, legacy_header="X-OpenStack-Nova-API-Version")

V2_2 = Version(2, 2)  # keypair type; keypair create answers 201, delete 204
V2_3 = Version(2, 3)  # extended server attributes grow (reservation_id, hostname ...)
V2_9 = Version(2, 9)  # server "locked"
V2_10 = Version(2, 10)  # keypairs of another user (admin)
V2_11 = Version(2, 11)  # services forced_down
V2_13 = Version(2, 13)  # server groups show project_id and user_id
V2_15 = Version(2, 15)  # soft-affinity and soft-anti-affinity
V2_16 = Version(2, 16)  # server host_status
V2_19 = Version(2, 19)  # server description
V2_21 = Version(2, 21)  # instance actions of deleted servers
V2_23 = Version(2, 23)  # migration_type in migrations
V2_26 = Version(2, 26)  # server tags
V2_28 = Version(2, 28)  # hypervisor cpu_info as an object
V2_32 = Version(2, 32)  # device tags in block_device_mapping_v2 / networks
V2_33 = Version(2, 33)  # hypervisors pagination
V2_35 = Version(2, 35)  # keypair pagination
V2_36 = Version(2, 36)  # proxy APIs (images, networks, volumes ...) removed
V2_37 = Version(2, 37)  # networks required on create ("auto"/"none")
V2_38 = Version(2, 38)  # invalid status filter is a 400
V2_40 = Version(2, 40)  # simple tenant usage paginated
V2_41 = Version(2, 41)  # aggregates have uuid
V2_42 = Version(2, 42)  # device tags back
V2_43 = Version(2, 43)  # os-hosts removed
V2_45 = Version(2, 45)  # createImage answers {"image_id"} in the body
V2_47 = Version(2, 47)  # server flavor is embedded
V2_48 = Version(2, 48)  # diagnostics in a standard format
V2_51 = Version(2, 51)  # instance action events for non-admins; volume-extended events
V2_52 = Version(2, 52)  # tags on create
V2_53 = Version(2, 53)  # services and hypervisors by uuid
V2_54 = Version(2, 54)  # key_name on rebuild
V2_55 = Version(2, 55)  # flavor description
V2_56 = Version(2, 56)  # a target host on cold migrate
V2_57 = Version(2, 57)  # personality removed; user_data on rebuild
V2_58 = Version(2, 58)  # instance actions pagination and changes-since
V2_59 = Version(2, 59)  # migrations pagination
V2_60 = Version(2, 60)  # volume multiattach
V2_61 = Version(2, 61)  # flavor extra_specs in flavor views
V2_62 = Version(2, 62)  # instance action events host/hostId
V2_63 = Version(2, 63)  # trusted certificates
V2_64 = Version(2, 64)  # server group "policy" and "rules"
V2_66 = Version(2, 66)  # changes-before
V2_67 = Version(2, 67)  # volume_type in block_device_mapping_v2
V2_69 = Version(2, 69)  # partial records when a cell is down
V2_71 = Version(2, 71)  # server_groups in server show
V2_73 = Version(2, 73)  # locked_reason
V2_74 = Version(2, 74)  # host/hypervisor_hostname on create
V2_75 = Version(2, 75)  # consistent fields; unknown query params refused
V2_76 = Version(2, 76)  # power-update external events
V2_77 = Version(2, 77)  # availability_zone on unshelve
V2_78 = Version(2, 78)  # hypervisor topology in diagnostics
V2_79 = Version(2, 79)  # delete_on_termination in volume attachments
