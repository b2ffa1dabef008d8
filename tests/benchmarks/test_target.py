import pytest

from benchmarks.target import Target, TargetError, is_loopback, parse_target, resolve


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.4.5.6", "::1", "[::1]", "localhost", "LOCALHOST"]
)
def test_loopback_hosts_are_accepted(host):
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["10.0.0.1", "0.0.0.0", "192.168.1.2", "example.com", "::", ""])
def test_other_hosts_are_refused_with_a_clear_error(host):
    assert not is_loopback(host)
    with pytest.raises(TargetError, match="refusing non-loopback target"):
        Target(host=host)


def test_target_with_a_pid_is_parsed():
    target = parse_target("127.0.0.1:6001:4242", key="k", secret="s", app_id="7")
    assert (target.host, target.port, target.pid) == ("127.0.0.1", 6001, 4242)
    assert (target.app_id, target.key, target.secret) == ("7", "k", "s")
    assert target.events_path == "/apps/7/events"
    assert target.ws_url.startswith("ws://127.0.0.1:6001/app/k?protocol=7")


def test_ipv6_targets_use_brackets():
    target = parse_target("[::1]:6001")
    assert target.host == "::1" and target.pid is None
    assert target.address == "[::1]:6001"


@pytest.mark.parametrize(
    "text", ["127.0.0.1", "127.0.0.1:x", "127.0.0.1:6001:pid", "[::1]6001", "a:b:c:d", ":6001"]
)
def test_malformed_targets_are_refused(text):
    with pytest.raises(TargetError):
        parse_target(text)


def test_remote_targets_are_refused_while_parsing():
    with pytest.raises(TargetError, match=r"10\.1\.2\.3"):
        parse_target("10.1.2.3:6001")


def test_port_zero_is_refused():
    with pytest.raises(TargetError, match="port"):
        Target(port=0)


def test_localhost_resolves_to_a_loopback_address():
    assert is_loopback(resolve("localhost"))
    assert resolve("[::1]") == "::1"
