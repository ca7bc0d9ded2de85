"""The HTTP client against a real loopback server: retries, faults, caching, credentials."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.support.index_server import Fault, IndexServer, IndexTree
from wheelnext_jupyter.index.errors import IndexHTTPError, IndexNetworkError
from wheelnext_jupyter.index.http import HttpClient
from wheelnext_jupyter.index.simple_api import ACCEPT

PAGE = "/simple/demo/"


class Clock:
    """A hand-moved clock, so cache expiry is tested without waiting."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def demo(tree: IndexTree) -> IndexTree:
    tree.add_wheel("demo", "1.0")
    return tree


def _client(tmp_path: Path, **kwargs: object) -> HttpClient:
    options: dict[str, object] = {"cache_dir": tmp_path / "cache", "backoff": 0.0, "timeout": 5.0}
    options.update(kwargs)
    return HttpClient(**options)  # type: ignore[arg-type]


def test_page_is_fetched_with_the_simple_api_accept_header(
    demo: IndexTree, server: IndexServer, tmp_path: Path
) -> None:
    with _client(tmp_path) as client:
        response = client.get(server.url + PAGE, accept=ACCEPT)
    assert response.status == 200
    assert response.content_type == "application/vnd.pypi.simple.v1+json"
    assert server.requests_for(PAGE)[0].headers["accept"] == ACCEPT


def test_404_is_returned_not_raised(server: IndexServer, tmp_path: Path) -> None:
    with _client(tmp_path) as client:
        assert client.get(server.url + "/simple/missing/").status == 404


def test_500_then_success_is_retried(demo: IndexTree, server: IndexServer, tmp_path: Path) -> None:
    server.faults[PAGE] = Fault("status", status=500, times=2)
    with _client(tmp_path, retries=3) as client:
        assert client.get(server.url + PAGE).status == 200
    assert [r.status for r in server.requests_for(PAGE)] == [500, 500, 200]


def test_persistent_5xx_raises_a_network_error_after_bounded_retries(
    demo: IndexTree, server: IndexServer, tmp_path: Path
) -> None:
    server.faults[PAGE] = Fault("status", status=503)
    with _client(tmp_path, retries=2) as client, pytest.raises(IndexNetworkError, match="503"):
        client.get(server.url + PAGE, source="internal")
    assert len(server.requests_for(PAGE)) == 3


def test_connection_reset_is_retried(demo: IndexTree, server: IndexServer, tmp_path: Path) -> None:
    server.faults[PAGE] = Fault("reset", times=1)
    with _client(tmp_path) as client:
        assert client.get(server.url + PAGE).status == 200


def test_truncated_body_is_retried(demo: IndexTree, server: IndexServer, tmp_path: Path) -> None:
    server.faults[PAGE] = Fault("truncate", times=1)
    with _client(tmp_path) as client:
        response = client.get(server.url + PAGE, accept=ACCEPT)
    assert response.body == server.render_json("demo")


def test_always_truncated_body_is_a_network_error(
    demo: IndexTree, server: IndexServer, tmp_path: Path
) -> None:
    server.faults[PAGE] = Fault("truncate")
    with _client(tmp_path, retries=1) as client, pytest.raises(IndexNetworkError):
        client.get(server.url + PAGE)


def test_slow_response_past_the_timeout_is_a_network_error(
    demo: IndexTree, server: IndexServer, tmp_path: Path
) -> None:
    server.faults[PAGE] = Fault("slow", delay=1.0)
    with (
        _client(tmp_path, retries=0, timeout=0.2) as client,
        pytest.raises(IndexNetworkError, match="Timeout"),
    ):
        client.get(server.url + PAGE)


def test_unreachable_host_is_a_network_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens on the port now.
    with _client(tmp_path, retries=1) as client, pytest.raises(IndexNetworkError):
        client.get(f"http://127.0.0.1:{port}/simple/x/")


def test_401_is_an_http_error_with_a_hint(
    demo: IndexTree, server: IndexServer, tmp_path: Path
) -> None:
    server.credentials = ("alice", "s3cret")
    with _client(tmp_path, credentials=None) as client:
        client.credentials._use_netrc = False
        with pytest.raises(IndexHTTPError, match="netrc") as info:
            client.get(server.url + PAGE)
    assert info.value.status == 401


# --- caching --------------------------------------------------------------------------------


def test_second_lookup_within_max_age_sends_no_request(
    demo: IndexTree, server: IndexServer, tmp_path: Path
) -> None:
    clock = Clock()
    with _client(tmp_path, clock=clock) as first:
        first.get(server.url + PAGE, accept=ACCEPT)
    clock.now += 599  # the server says max-age=600
    with _client(tmp_path, clock=clock) as second:
        response = second.get(server.url + PAGE, accept=ACCEPT)
    assert response.from_cache and response.status == 200
    assert len(server.requests_for(PAGE)) == 1


def test_expired_entry_is_revalidated_with_its_etag_and_304_reuses_the_body(
    demo: IndexTree, server: IndexServer, tmp_path: Path
) -> None:
    clock = Clock()
    with _client(tmp_path, clock=clock) as first:
        original = first.get(server.url + PAGE, accept=ACCEPT)
    clock.now += 601
    with _client(tmp_path, clock=clock) as second:
        again = second.get(server.url + PAGE, accept=ACCEPT)
    requests = server.requests_for(PAGE)
    assert [r.status for r in requests] == [200, 304]
    assert requests[1].headers["if-none-match"].startswith('"')
    assert again.body == original.body and again.from_cache


def test_revalidated_entry_is_fresh_again(
    demo: IndexTree, server: IndexServer, tmp_path: Path
) -> None:
    clock = Clock()
    with _client(tmp_path, clock=clock) as client:
        client.get(server.url + PAGE)
    clock.now += 601
    with _client(tmp_path, clock=clock) as client:
        client.get(server.url + PAGE)
    clock.now += 10
    with _client(tmp_path, clock=clock) as client:
        client.get(server.url + PAGE)
    assert len(server.requests_for(PAGE)) == 2


def test_no_cache_always_revalidates(demo: IndexTree, server: IndexServer, tmp_path: Path) -> None:
    server.cache_control = "no-cache"
    for _ in range(2):
        with _client(tmp_path) as client:
            client.get(server.url + PAGE)
    assert [r.status for r in server.requests_for(PAGE)] == [200, 304]


def test_no_store_is_never_written_to_disk(
    demo: IndexTree, server: IndexServer, tmp_path: Path
) -> None:
    server.cache_control = "no-store"
    for _ in range(2):
        with _client(tmp_path) as client:
            client.get(server.url + PAGE)
    requests = server.requests_for(PAGE)
    assert [r.status for r in requests] == [200, 200]
    assert "if-none-match" not in requests[1].headers


def test_a_cached_page_is_a_body_and_its_headers_readable_by_the_owner_alone(
    demo: IndexTree, server: IndexServer, tmp_path: Path
) -> None:
    with _client(tmp_path) as client:
        client.get(server.url + PAGE, accept=ACCEPT)
    files = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert sorted(p.suffix for p in files) == [".body", ".json"]  # no temporary file left
    assert {p.stat().st_mode & 0o777 for p in files} == {0o600}


def test_cache_is_keyed_by_accept(demo: IndexTree, server: IndexServer, tmp_path: Path) -> None:
    with _client(tmp_path) as client:
        as_json = client.get(server.url + PAGE, accept=ACCEPT)
        as_html = client.get(server.url + PAGE, accept="text/html")
    assert as_json.content_type != as_html.content_type
    assert len(server.requests_for(PAGE)) == 2


def test_process_memory_serves_repeat_lookups(
    demo: IndexTree, server: IndexServer, tmp_path: Path
) -> None:
    server.cache_control = "max-age=0"
    with HttpClient(cache_dir=None) as client:
        client.get(server.url + PAGE)
        again = client.get(server.url + PAGE)
    assert again.from_cache
    assert len(server.requests_for(PAGE)) == 1


def test_refresh_bypasses_fresh_entries(
    demo: IndexTree, server: IndexServer, tmp_path: Path
) -> None:
    with _client(tmp_path) as client:
        client.get(server.url + PAGE)
        client.get(server.url + PAGE, refresh=True)
    requests = server.requests_for(PAGE)
    assert len(requests) == 2
    assert requests[1].headers["cache-control"] == "max-age=0"


def test_immutable_file_is_served_from_disk_without_revalidation(
    demo: IndexTree, server: IndexServer, tmp_path: Path
) -> None:
    path = "/files/demo/demo-1.0-py3-none-any.whl.metadata"
    clock = Clock()
    with _client(tmp_path, clock=clock) as client:
        client.get(server.url + path, immutable=True)
    clock.now += 10 * 365 * 86400
    with _client(tmp_path, clock=clock) as client:
        client.get(server.url + path, immutable=True)
    assert len(server.requests_for(path)) == 1


def test_concurrent_fetches_return_every_result(tree: IndexTree, server: IndexServer) -> None:
    for i in range(12):
        tree.add_wheel(f"pkg{i}", "1.0")
    with HttpClient(max_workers=6) as client:
        results = client.get_many(
            lambda name: client.get(f"{server.url}/simple/{name}/").status,
            [f"pkg{i}" for i in range(12)] + ["absent"],
        )
    assert results == [200] * 12 + [404]


def _at_once(calls: int, fn: Callable[[], object]) -> list[object]:
    """`fn` in `calls` threads started together; each result or the exception raised."""
    barrier = threading.Barrier(calls, timeout=10)

    def run(_: int) -> object:
        barrier.wait()
        try:
            return fn()
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(calls) as pool:
        return list(pool.map(run, range(calls)))


def test_callers_of_a_url_already_being_fetched_wait_for_that_answer(
    demo: IndexTree, server: IndexServer, tmp_path: Path
) -> None:
    server.faults[PAGE] = Fault("slow", delay=0.5)
    with _client(tmp_path) as client:
        answers = _at_once(3, lambda: client.get(server.url + PAGE, accept=ACCEPT))
    assert [a.status for a in answers] == [200, 200, 200]  # type: ignore[attr-defined]
    assert len({a.body for a in answers}) == 1  # type: ignore[attr-defined]
    assert len(server.requests_for(PAGE)) == 1


def test_a_caller_whose_awaited_request_failed_gets_its_error_without_asking_again(
    demo: IndexTree, server: IndexServer, tmp_path: Path
) -> None:
    # The first request outlasts the timeout; asking again would wait as long again.
    server.faults[PAGE] = Fault("slow", delay=1.0, times=1)
    with _client(tmp_path, retries=0, timeout=0.3) as client:
        answers = _at_once(2, lambda: client.get(server.url + PAGE))
    assert [type(a) for a in answers] == [IndexNetworkError, IndexNetworkError]
    assert answers[0] is not answers[1]
    assert str(answers[0]) == str(answers[1])


def test_a_caller_whose_awaited_answer_may_not_be_kept_asks_itself(
    demo: IndexTree, server: IndexServer, tmp_path: Path
) -> None:
    server.cache_control = "no-store"
    server.faults[PAGE] = Fault("slow", delay=0.5, times=1)
    with _client(tmp_path) as client:
        answers = _at_once(2, lambda: client.get(server.url + PAGE))
    assert [a.status for a in answers] == [200, 200]  # type: ignore[attr-defined]
    assert len(server.requests_for(PAGE)) == 2


# --- credentials ----------------------------------------------------------------------------


def test_credentials_in_the_url_are_sent_as_basic_auth(
    demo: IndexTree, server: IndexServer, tmp_path: Path
) -> None:
    server.credentials = ("alice", "s3cret")
    with _client(tmp_path) as client:
        response = client.get(server.url_with_credentials(PAGE))
    assert response.status == 200


def test_credentials_of_an_index_url_are_reused_for_files_on_the_same_host(
    demo: IndexTree, server: IndexServer, tmp_path: Path
) -> None:
    server.credentials = ("alice", "s3cret")
    with _client(tmp_path) as client:
        client.get(server.url_with_credentials(PAGE))
        file = client.get(server.url + "/files/demo/demo-1.0-py3-none-any.whl")
    assert file.status == 200


def test_credentials_come_from_netrc(
    demo: IndexTree, server: IndexServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.credentials = ("bob", "n3trc-pass")
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login bob password n3trc-pass\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    with _client(tmp_path) as client:
        assert client.get(server.url + PAGE).status == 200


def test_password_never_appears_in_a_network_error(
    demo: IndexTree, server: IndexServer, tmp_path: Path
) -> None:
    server.credentials = ("alice", "s3cret")
    server.faults[PAGE] = Fault("status", status=500)
    with _client(tmp_path, retries=1) as client, pytest.raises(IndexNetworkError) as info:
        client.get(server.url_with_credentials(PAGE), source=server.url_with_credentials())
    text = str(info.value) + repr(info.value) + info.value.url + str(info.value.source)
    assert "s3cret" not in text
    assert "alice:****@127.0.0.1" in str(info.value)


def test_password_never_appears_in_an_http_error(
    demo: IndexTree, server: IndexServer, tmp_path: Path
) -> None:
    server.credentials = ("alice", "right")
    url = server.url_with_credentials(PAGE).replace("alice:right", "alice:wrong-s3cret")
    with _client(tmp_path) as client, pytest.raises(IndexHTTPError) as info:
        client.get(url)
    assert "wrong-s3cret" not in str(info.value) + info.value.url


def test_password_never_appears_in_log_lines(
    demo: IndexTree, server: IndexServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server.credentials = ("alice", "s3cret")
    server.faults[PAGE] = Fault("reset", times=1)
    with caplog.at_level("DEBUG"), _client(tmp_path) as client:
        client.get(server.url_with_credentials(PAGE))
    assert caplog.records
    assert "s3cret" not in caplog.text


def test_a_server_that_answers_a_range_request_whole_is_not_asked_for_parts_again(
    tmp_path: Path,
) -> None:
    tree = IndexTree(tmp_path / "index")
    built = tree.add_wheel("wnh-ranges", "1.0")
    with IndexServer(tree.root) as server, HttpClient(cache_dir=None) as client:
        url = f"{server.url}/files/wnh-ranges/{built.path.name}"
        assert client.get_range(url, -100, None) is None
        assert client.get_range(url, 0, 99) is None
        asked = [r for r in server.requests if "range" in r.headers]
    assert len(asked) == 1


def test_a_range_request_gives_the_part_and_where_it_lies_in_the_file(tmp_path: Path) -> None:
    tree = IndexTree(tmp_path / "index")
    built = tree.add_wheel("wnh-ranges", "1.0")
    data = built.path.read_bytes()
    with IndexServer(tree.root, ranges=True) as server, HttpClient(cache_dir=None) as client:
        url = f"{server.url}/files/wnh-ranges/{built.path.name}"
        tail = client.get_range(url, -100, None)
        middle = client.get_range(url, 10, 19)
    assert tail is not None and middle is not None
    assert (tail.start, tail.total, tail.data) == (len(data) - 100, len(data), data[-100:])
    assert (middle.start, middle.total, middle.data) == (10, len(data), data[10:20])
