"""Rules of Spaces: lifecycle, roles, who may do what to whom, and the events each action makes.

```
 scheduled ──start──> live ──end──> ended        (cancel: scheduled ──> ended)
                       │
   listener ──raise hand / invite──> speaker ──promote (host)──> cohost
       ^   <──────demote / leave──────  │ mute (others) / unmute (only self)
       └──────────── remove [block] ────┘
```
"""
