"""The storage node (``overcast serve object-node``): account, container and object servers.

Only proxies and other nodes talk to it. Paths name the device and partition
the ring chose: ``/<device>/<partition>/<account>[/<container>[/<object>]]``.
"""
