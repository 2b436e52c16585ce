"""First checks on an SDP offer, so hostile input is a clear 400 before aiortc parses it."""

from townhall.domain.errors import Malformed

MAX_SDP_BYTES = 32 * 1024
MAX_MEDIA_SECTIONS = 4
"""A browser offers one audio section (a WHIP encoder audio and video). Each section costs
aiortc a transceiver, and without BUNDLE its own ICE and DTLS transport: a 32 KiB offer
could otherwise ask for some 25 of them, each an audio track mixed in."""


class BadSdp(Malformed):
    """Malformed or unusable SDP (400)."""

    code = "bad_sdp"


def check_offer(sdp: str) -> str:
    if not sdp or len(sdp.encode("utf-8", "surrogatepass")) > MAX_SDP_BYTES:
        raise BadSdp("The SDP offer is empty or too large.")
    if "\x00" in sdp or not sdp.startswith("v=0"):
        raise BadSdp("That is not an SDP offer (it must start with v=0).")
    lines = sdp.replace("\r\n", "\n").split("\n")
    if sum(line.startswith("m=") for line in lines) > MAX_MEDIA_SECTIONS:
        raise BadSdp(f"The offer has more than {MAX_MEDIA_SECTIONS} media sections.")
    if not any(line.startswith("m=audio ") for line in lines):
        raise BadSdp("The offer has no audio section.")
    if not any(line.startswith("a=fingerprint:") for line in lines):
        raise BadSdp("The offer has no DTLS fingerprint.")
    if not any("opus/48000" in line.lower() for line in lines if line.startswith("a=rtpmap:")):
        raise BadSdp("The offer does not include Opus.")
    return sdp
