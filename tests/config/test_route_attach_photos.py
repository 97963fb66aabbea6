"""``attach_photos`` / ``attach_max`` / ``attach_max_mb`` on a route in channels.yaml: checked like
the other route keys, and carried to the alerts route with the desk's address (MONITOR_WEB_URL)."""

from __future__ import annotations

from monitor.alerting import routes_from
from monitor.settings import Settings

ROUTE = """\
alerts:
  routes:
    - name: desk
      url: json://localhost:8080/hook
{extra}"""


def test_a_route_attaches_photos_within_its_caps(parse):
    watchlist = parse(
        ROUTE.format(
            extra="      attach_photos: true\n      attach_max: 2\n      attach_max_mb: 1.5\n"
        )
    )
    [route] = routes_from(watchlist, "https://desk.example.org/")
    assert route.attach_photos and route.attach_max == 2
    assert route.attach_max_bytes == 1_572_864
    assert route.web_url == "https://desk.example.org"
    assert "photos attached (at most 2, 1.5 MB)" in watchlist.routes[0].describe()


def test_defaults_attach_nothing_and_caps_are_sensible(parse):
    [route] = routes_from(parse(ROUTE.format(extra="")))
    assert not route.attach_photos and route.web_url is None
    assert route.attach_max == 4 and route.attach_max_bytes == 10 * 1024 * 1024


def test_bad_caps_are_refused_naming_the_key_and_line(problems):
    lines = problems(ROUTE.format(extra="      attach_photos: true\n      attach_max: 0\n"))
    assert len(lines) == 1 and "attach_max" in lines[0] and "channels.yaml:6" in lines[0]
    lines = problems(ROUTE.format(extra="      attach_max_mb: -1\n"))
    assert len(lines) == 1 and "attach_max_mb" in lines[0]
    lines = problems(ROUTE.format(extra="      attach_photo: true\n"))
    assert "attach_photos" in lines[0]  # a misspelt key: did you mean


def test_the_desk_address_is_a_setting(monkeypatch):
    monkeypatch.setenv("MONITOR_WEB_URL", "https://desk.example.org")
    assert Settings().web_url == "https://desk.example.org"
