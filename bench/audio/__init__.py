"""Live-audio benchmark: one speaker, N WebRTC listeners, Townhall next to Janus.

Adapted (typed, httpx instead of aiohttp, Townhall and Janus set-up added) from the shared
anchor harness in ``../shared/bench/janus/`` (README.md, common.py, targets.py, speaker.py,
listeners.py, run_sweep.py, janus_config.py, lo_shim.c). See bench/README.md, "Live audio".
"""
