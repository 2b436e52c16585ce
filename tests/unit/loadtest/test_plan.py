"""How a run's clients are shared among the client processes."""

import argparse

from townhall.loadtest.plan import Account, add_arguments, split


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


def accounts(n: int) -> list[Account]:
    return [Account(str(i), f"token-{i}") for i in range(n)]


def test_every_client_goes_to_exactly_one_process_and_hls_phases_stay_global() -> None:
    args = parse("--ws", "7", "--webrtc", "5", "--hls", "10", "--procs", "3", "--rtc-probes", "4")
    specs = split(args, "42", accounts(7), accounts(5))
    assert [len(s.ws_accounts) for s in specs] == [2, 2, 3]
    assert [a for s in specs for a in s.ws_accounts] == accounts(7)
    assert [a for s in specs for a in s.rtc_accounts] == accounts(5)
    assert sum(s.rtc_probes for s in specs) == 4
    assert all(s.rtc_probes <= len(s.rtc_accounts) for s in specs)
    assert [(s.hls_first_index, s.hls_count) for s in specs] == [(0, 3), (3, 3), (6, 4)]
    assert {s.hls_total for s in specs} == {10}
    assert sum(s.join_rate_per_s for s in specs) == args.join_rate
