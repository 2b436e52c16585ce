"""The load tester's speaker: publishes the click track over WebRTC and keeps the mouth times."""

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from townhall.loadtest.clicks import CLICK_PERIOD_S, ClickTrack
from townhall.loadtest.deployment import expect
from townhall.loadtest.http import Client
from townhall.loadtest.plan import Account


class Speaker:
    def __init__(self) -> None:
        self.clicks: list[float] = []
        """Mouth times (time.monotonic()) of every click sent."""
        self.pc: RTCPeerConnection | None = None

    async def publish(self, http: Client, account: Account, space_id: str) -> None:
        pc = self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTransceiver(ClickTrack(self.clicks.append), direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        answer = expect(
            await http.request(
                "POST",
                f"/api/v1/spaces/{space_id}/rtc/publish",
                json_body={"sdp": pc.localDescription.sdp, "type": "offer"},
                token=account.token,
            ),
            200,
            "speaker publish",
        )
        await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], answer["type"]))

    def clicks_between(self, start: float, end: float) -> list[float]:
        """Clicks made in the window, and the one just before it (heard inside it)."""
        return [t for t in self.clicks if start - CLICK_PERIOD_S <= t <= end]

    async def close(self) -> None:
        if self.pc is not None:
            await self.pc.close()
