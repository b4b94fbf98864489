"""IP address -> ISO 3166 alpha-2 country, offline, with iptocc (its data ships in the package)."""

from __future__ import annotations

import ipaddress

import iptocc


def country_of(ip_address: str) -> str | None:
    """The country the address is registered in; None for private, reserved or unparseable addresses."""
    try:
        address = ipaddress.ip_address(ip_address.strip())
    except ValueError:
        return None
    if not address.is_global:
        return None
    try:
        code = iptocc.country_code(str(address))
    except (ValueError, KeyError):
        return None
    return code.upper() if code else None
