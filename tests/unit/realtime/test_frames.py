"""A frame shared by many sockets is encoded once, and reads the same as plain JSON."""

import json

from townhall.realtime.frames import EncodedOnce, text_of


def test_a_shared_frame_is_encoded_once_and_equals_a_plain_encoding() -> None:
    frame = EncodedOnce(type="reaction", space_id="1", seq=None, at="t", data={"emoji": "🔥"})
    first = text_of(frame)
    assert text_of(frame) is first
    assert json.loads(first) == frame
    assert text_of(dict(frame)) == first
    assert "🔥" in first  # not escaped: same bytes as Starlette's send_json
