"""Property tests of the first checks on an SDP offer (issue #8: fuzzing SDP parsing).

Whatever text arrives (oversized, malformed, lone surrogates, NULs, emoji, a real offer
cut or stuffed), check_offer either returns it unchanged or raises BadSdp: never any
other exception, which would be a 500.
"""

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from townhall.media.sdp import MAX_MEDIA_SECTIONS, MAX_SDP_BYTES, BadSdp, check_offer

OFFER = (
    "v=0\r\no=- 4004666641 4004666641 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
    "a=group:BUNDLE 0\r\na=msid-semantic:WMS *\r\n"
    "m=audio 44371 UDP/TLS/RTP/SAVPF 96 9 0 8\r\nc=IN IP4 192.0.2.2\r\na=sendrecv\r\n"
    "a=mid:0\r\na=rtcp-mux\r\na=rtpmap:96 opus/48000/2\r\na=rtpmap:9 G722/8000\r\n"
    "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
    "a=candidate:f957a2332b1715da 1 udp 2130706431 192.0.2.2 44371 typ host\r\n"
    "a=end-of-candidates\r\na=ice-ufrag:zH8n\r\na=ice-pwd:SMBmMNClYzJyfzUXY0AxjM\r\n"
    "a=fingerprint:sha-256 4B:E9:6C:BF:8F:5A:91:BA:B1:8E:FE:91:B8:A4:AE:43:DA:6D:CC:1C:"
    "E9:8D:E7:1F:9A:87:FC:02:DA:26:C2:9F\r\na=setup:actpass\r\n"
)
OFFER_LINES = OFFER.split("\r\n")

ANY_TEXT = st.text(
    # Everything, lone surrogates included (JSON's "\ud800" decodes to one).
    alphabet=st.characters(codec=None, exclude_categories=()),
    max_size=2000,
)
EMOJI = st.sampled_from(["👏", "🔥", "🏳️‍🌈", "👩🏽‍💻", "\u200d", "\ufeff", "\U0010ffff"])
LINE = st.one_of(
    st.sampled_from(OFFER_LINES),
    st.text(max_size=200),
    st.builds(lambda a, b: f"a={a}:{b}", st.text(max_size=40), st.text(max_size=80)),
    st.builds(lambda e, n: "a=x-" + e * n, EMOJI, st.integers(0, 3000)),
    st.sampled_from(["m=audio 9 RTP/AVP 0", "m=video 9 UDP/TLS/RTP/SAVPF 96", "m=", "v=1"]),
)

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def returns_or_refuses(sdp: str) -> bool:
    """True when accepted (and returned as it was), False when refused with BadSdp."""
    try:
        returned = check_offer(sdp)
    except BadSdp as refused:
        assert refused.code == "bad_sdp" and refused.message
        return False
    assert returned is sdp
    return True


def test_a_real_offer_passes() -> None:
    assert returns_or_refuses(OFFER)


@FUZZ
@given(ANY_TEXT)
@example("")
@example("v=0")
@example("v=0\x00" + OFFER)
@example("\ud800" + OFFER)
@example(OFFER.replace("\r\n", "\n"))
def test_any_text_is_returned_or_refused(sdp: str) -> None:
    returns_or_refuses(sdp)


@FUZZ
@given(ANY_TEXT)
def test_anything_after_a_real_offer_is_returned_or_refused(tail: str) -> None:
    returns_or_refuses(OFFER + tail)


@FUZZ
@given(st.lists(LINE, max_size=60), st.sampled_from(["\r\n", "\n", "\r", ""]))
def test_offers_made_of_mutated_lines_are_returned_or_refused(
    lines: list[str], newline: str
) -> None:
    sdp = newline.join(["v=0", *lines])
    accepted = returns_or_refuses(sdp)
    if accepted:
        assert len(sdp.encode("utf-8", "surrogatepass")) <= MAX_SDP_BYTES
        assert sum(line.startswith("m=") for line in sdp.replace("\r\n", "\n").split("\n")) <= (
            MAX_MEDIA_SECTIONS
        )


@settings(max_examples=50, deadline=None)
@given(st.integers(MAX_SDP_BYTES - len(OFFER) + 1, 4 * MAX_SDP_BYTES), EMOJI)
def test_an_oversized_offer_is_refused(extra: int, emoji: str) -> None:
    padding = "a=x-pad:" + emoji * (extra // len(emoji.encode()) + 1) + "\r\n"
    assert not returns_or_refuses(OFFER + padding)


@settings(max_examples=30, deadline=None)
@given(st.integers(MAX_MEDIA_SECTIONS + 1, 40))
def test_an_offer_asking_for_many_media_sections_is_refused(count: int) -> None:
    head, _, section = OFFER.partition("m=audio")
    assert not returns_or_refuses(head + ("m=audio" + section) * count)
