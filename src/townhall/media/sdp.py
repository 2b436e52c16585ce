"""First checks on an SDP offer, so hostile input is a clear 400 before aiortc parses it."""

from townhall.domain.errors import Malformed

MAX_SDP_BYTES = 32 * 1024


class BadSdp(Malformed):
    """Malformed or unusable SDP (400)."""

    code = "bad_sdp"


def check_offer(sdp: str) -> str:
    if not sdp or len(sdp.encode("utf-8", "surrogatepass")) > MAX_SDP_BYTES:
        raise BadSdp("The SDP offer is empty or too large.")
    if "\x00" in sdp or not sdp.startswith("v=0"):
        raise BadSdp("That is not an SDP offer (it must start with v=0).")
    lines = sdp.replace("\r\n", "\n").split("\n")
    if not any(line.startswith("m=audio ") for line in lines):
        raise BadSdp("The offer has no audio section.")
    if not any(line.startswith("a=fingerprint:") for line in lines):
        raise BadSdp("The offer has no DTLS fingerprint.")
    if not any("opus/48000" in line.lower() for line in lines if line.startswith("a=rtpmap:")):
        raise BadSdp("The offer does not include Opus.")
    return sdp
