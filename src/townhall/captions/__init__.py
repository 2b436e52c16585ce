"""Live captions: each speaker's audio becomes text on this machine's CPU, offline.

```
 ingest (48 kHz PCM of one speaker) ──> Captioner (one per speaker, on the event loop)
        Downsampler -> 16 kHz ──> Segmenter (pocketsphinx Endpointer: voiced audio only,
                                  utterances cut at pauses and at 15 s)
            interim snapshot ──> CaptionPool.try_interim  (dropped when no worker is idle)
            final utterance  ──> CaptionPool.final        (queued; never dropped)
                                      │ bounded pool of worker processes, each with
                                      v its own Whisper model (faster-whisper, 1 thread)
            Caption(user_id, text, final, offset_ms, duration_ms) ──> on_caption callback
```
Decoding runs in other processes, so neither the GIL nor the CPU time of a decode can
delay the mixer's 20 ms clock; when speakers outnumber what the workers can do in real
time, interim captions are dropped and finals wait, while audio goes on untouched.
"""
