"""localcloud: an offline, wire-compatible OSS, MNS, IMM, ICE and DashScope that does the media work for real.

A development dependency, never deployed. Start it with `python -m localcloud up`; in tests use
`localcloud.server.LocalCloud` as a context manager (loopback port) or its `.app` (in process).
"""
