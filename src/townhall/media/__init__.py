"""Live audio: per-speaker ingest, one mixer per live Space, encode once, fan out.

```
 speaker WebRTC ──> ingest (decode Opus -> 20 ms PCM) ──> SpeakerBuffer (bounded) ─┐
 speaker WebRTC ──> ingest ──> SpeakerBuffer ───────────────────────────────────────┤
                                                                                    v
                      Mixer.tick() every 20 ms: unmuted speakers only, summed, limited
                                │ mix            │ mix-minus per speaker   │ levels
                                v                v                         v
                      Opus encode once     one encode per speaker    `speaking` events
                      -> every listener    -> that speaker
```
"""
