"""A recording's playlists: epochs joined into one timeline, moments mapped to offsets,
and a playlist a crash left open closed once (and only once)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from townhall.media.recording import (
    RECORDING_PLAYLIST,
    close_interrupted,
    read_timeline,
    recording_playlist,
    retire_live_playlist,
)

START = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)


def write_playlist(path: Path, epoch: int, segments: int, at: datetime, ended: bool) -> None:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:1"]
    for n in range(segments):
        lines.append("#EXTINF:1.000000,")
        stamp = (at + timedelta(seconds=n)).isoformat(timespec="milliseconds")
        lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{stamp}")
        lines.append(f"seg{epoch}-{n:05d}.ts")
    if ended:
        lines.append("#EXT-X-ENDLIST")
    path.write_text("\n".join(lines) + "\n")


def test_rooms_of_one_space_join_into_one_timeline(tmp_path: Path) -> None:
    write_playlist(tmp_path / "index.m3u8", 100, 5, START, ended=True)
    retire_live_playlist(tmp_path)
    assert (tmp_path / "epoch-100.m3u8").is_file()
    write_playlist(tmp_path / "index.m3u8", 200, 3, START + timedelta(seconds=60), ended=False)
    timeline = read_timeline(tmp_path)
    assert timeline.duration_s == 8 and not timeline.ended
    assert [segment.offset_s for segment in timeline.segments][4:6] == [4.0, 5.0]
    playlist = recording_playlist(tmp_path)
    assert "#EXT-X-DISCONTINUITY" in playlist and "#EXT-X-PLAYLIST-TYPE:EVENT" in playlist


def test_a_moment_maps_to_its_offset_and_gaps_between_rooms_to_nothing(tmp_path: Path) -> None:
    write_playlist(tmp_path / "epoch-100.m3u8", 100, 5, START, ended=True)
    write_playlist(tmp_path / "index.m3u8", 200, 3, START + timedelta(seconds=60), ended=True)
    timeline = read_timeline(tmp_path)
    assert timeline.offset_ms_at(START + timedelta(seconds=2.5)) == 2500
    assert timeline.offset_ms_at(START + timedelta(seconds=61)) == 6000
    assert timeline.offset_ms_at(START + timedelta(seconds=30)) is None
    assert timeline.offset_ms_at(START - timedelta(seconds=1)) is None


def test_a_playlist_a_crash_left_open_is_ended_once(tmp_path: Path) -> None:
    write_playlist(tmp_path / "index.m3u8", 100, 4, START, ended=False)
    assert close_interrupted(tmp_path)
    assert not close_interrupted(tmp_path)
    assert (tmp_path / "index.m3u8").read_text().count("#EXT-X-ENDLIST") == 1
    assert read_timeline(tmp_path).ended
    assert RECORDING_PLAYLIST not in {path.name for path in tmp_path.iterdir()}
