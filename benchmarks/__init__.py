"""A Pusher-protocol load generator that measures any Pusher-compatible server on loopback.

Run ``python -m benchmarks --help``; ``benchmarks/README.md`` describes the scenarios.
"""
