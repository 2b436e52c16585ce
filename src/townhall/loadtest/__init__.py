"""`townhall loadtest`: many WebSocket, WebRTC and HLS listeners against a running deployment.

plan.py (options, the split over processes), deployment.py (set-up over the API),
speaker.py + clicks.py (the click track, mouth-to-ear), ws_listeners.py, rtc_listeners.py,
hls_listeners.py (the clients, run by worker.py in each client process), reactions.py,
cpu.py, origin_log.py, report.py (the summary), runner.py (the whole run). See
docs/loadtest.md.
"""
