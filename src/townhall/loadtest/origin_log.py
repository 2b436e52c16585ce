"""HLS requests per segment as the origin nodes saw them, counted in their access logs.

Works with uvicorn's access log (`"GET /spaces/1/hls/seg1-00001.ts HTTP/1.1" 200`) and
nginx's combined format alike: both quote the request line. Only lines written during the
run count: the load tester notes each file's size before it starts.
"""

import re
from collections import Counter
from pathlib import Path

REQUEST = re.compile(rb'"GET [^" ]*/hls/([^" ?/]+)(?:\?[^" ]*)? HTTP/[0-9.]+"')


def sizes(paths: list[str]) -> dict[str, int]:
    """Where each log ends now (0 for a file that does not exist yet)."""
    out = {}
    for path in paths:
        try:
            out[path] = Path(path).stat().st_size
        except OSError:
            out[path] = 0
    return out


def count_since(offsets: dict[str, int]) -> Counter[str]:
    """HLS file name -> requests, over every log from its noted offset to its end."""
    counts: Counter[str] = Counter()
    for path, offset in offsets.items():
        try:
            with open(path, "rb") as log:
                if Path(path).stat().st_size >= offset:
                    log.seek(offset)
                for line in log:
                    match = REQUEST.search(line)
                    if match:
                        counts[match.group(1).decode()] += 1
        except OSError:
            continue
    return counts
