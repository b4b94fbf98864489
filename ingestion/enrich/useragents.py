"""User agent -> browser, operating system, device and bot flag, with the maintained ua-parser library."""

from __future__ import annotations

from dataclasses import dataclass

from ua_parser import parse

# ua-parser marks crawlers as device family "Spider"; scripted HTTP clients and headless browsers it
# recognises by name but does not flag. These are ua-parser's own family names, not patterns on the agent.
AUTOMATION_FAMILIES = frozenset(
    {
        "Python Requests",
        "Python-urllib",
        "curl",
        "Wget",
        "HeadlessChrome",
        "PhantomJS",
        "Apache-HttpClient",
        "Go-http-client",
        "okhttp",
        "Scrapy",
    }
)

UNKNOWN = "Other"


@dataclass(frozen=True)
class UserAgentInfo:
    user_agent: str
    browser_family: str
    browser_version: str | None
    os_family: str
    os_version: str | None
    device_family: str
    device_brand: str | None
    device_model: str | None
    is_bot: bool


def _version(*parts: str | None) -> str | None:
    present = [p for p in parts if p]
    return ".".join(present) if present else None


def parse_user_agent(user_agent: str) -> UserAgentInfo:
    """Parse one agent; unknown parts are ``Other`` (ua-parser's convention), never an exception."""
    result = parse(user_agent)
    ua, os, device = result.user_agent, result.os, result.device
    browser = ua.family if ua else UNKNOWN
    device_family = device.family if device else UNKNOWN
    return UserAgentInfo(
        user_agent=user_agent,
        browser_family=browser,
        browser_version=_version(ua.major, ua.minor) if ua else None,
        os_family=os.family if os else UNKNOWN,
        os_version=_version(os.major, os.minor) if os else None,
        device_family=device_family,
        device_brand=device.brand if device else None,
        device_model=device.model if device else None,
        is_bot=device_family == "Spider" or browser in AUTOMATION_FAMILIES,
    )
