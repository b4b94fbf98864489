"""ingestion.enrich without services: ua-parser and iptocc behind our small API."""

from __future__ import annotations

import pytest

from ingestion.enrich import country_of, parse_user_agent

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1"
)


def test_browser_and_os_of_a_desktop_agent():
    info = parse_user_agent(CHROME)
    assert (info.browser_family, info.browser_version, info.os_family, info.os_version) == (
        "Chrome",
        "124.0",
        "Windows",
        "10",
    )
    assert not info.is_bot


def test_device_of_a_phone_agent():
    info = parse_user_agent(IPHONE)
    assert (info.browser_family, info.os_family, info.device_family, info.device_brand) == (
        "Mobile Safari",
        "iOS",
        "iPhone",
        "Apple",
    )


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "python-requests/2.31.0",
        "curl/8.5.0",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/122.0.0.0 Safari/537.36",
    ],
)
def test_crawlers_and_scripts_are_bots(agent):
    assert parse_user_agent(agent).is_bot


def test_unknown_agent_is_other_not_an_error():
    info = parse_user_agent("totally unknown thing")
    assert (info.browser_family, info.os_family, info.is_bot) == ("Other", "Other", False)


@pytest.mark.parametrize(
    ("address", "country"),
    [("8.8.8.8", "US"), (" 8.8.4.4 ", "US"), ("10.1.2.3", None), ("127.0.0.1", None), ("not an ip", None)],
)
def test_country_of_address(address, country):
    assert country_of(address) == country
