"""Real-looking access-log lines and what each format's pattern must read from them (field name -> text).

Shared by the pattern unit test (Python's ``re``, which reads the same possessive-quantifier syntax as Java)
and the pipeline test (the same lines landed and parsed by Spark in stg_access_logs__lines).
"""

from __future__ import annotations

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)

# (name, line, format that parses it or None, fields it reads: raw text as captured)
SAMPLES: list[tuple[str, str, str | None, dict[str, str]]] = [
    (
        "apache combined",
        f'81.2.69.160 - - [01/Mar/2026:10:00:00 +0000] "GET /product/85123A HTTP/1.1" 200 31337 '
        f'"https://www.google.com/" "{CHROME}"',
        "combined",
        {"remote_addr": "81.2.69.160", "time_local": "01/Mar/2026:10:00:00 +0000",
         "request": "GET /product/85123A HTTP/1.1", "status": "200", "body_bytes_sent": "31337",
         "http_referer": "https://www.google.com/", "http_user_agent": CHROME},
    ),
    (
        "apache escaped quotes and backslash in the user agent, zero bytes as -",
        '203.0.113.9 - - [01/Mar/2026:10:00:01 +0100] "GET /.env HTTP/1.1" 304 - "-" '
        '"Mozilla/5.0 (compatible; \\"Nuclei\\" scan\\\\er)"',
        "combined",
        {"remote_addr": "203.0.113.9", "request": "GET /.env HTTP/1.1", "status": "304",
         "body_bytes_sent": "-", "http_referer": "-",
         "http_user_agent": 'Mozilla/5.0 (compatible; \\"Nuclei\\" scan\\\\er)'},
    ),
    (
        "user agent ending in an escaped backslash",
        '203.0.113.9 - bob [01/Mar/2026:10:00:02 +0000] "GET / HTTP/1.0" 200 12 "-" "agent\\\\"',
        "combined",
        {"remote_user": "bob", "http_user_agent": "agent\\\\", "request": "GET / HTTP/1.0"},
    ),
    (
        "IPv6 client, nginx timed, upstream time",
        f'2001:db8:85a3::8a2e:370:7334 - - [01/Mar/2026:10:00:03 +0000] "POST /api/orders HTTP/2.0" 201 388 '
        f'"https://shop.example.com/checkout" "{CHROME}" 0.154 0.151',
        "nginx_timed",
        {"remote_addr": "2001:db8:85a3::8a2e:370:7334", "request": "POST /api/orders HTTP/2.0",
         "status": "201", "http_user_agent": CHROME, "request_time": "0.154",
         "upstream_response_time": "0.151"},
    ),
    (
        "nginx escapes quotes as \\x22; static file, no upstream",
        '::1 - - [01/Mar/2026:10:00:04 -0500] "GET /static/js/app.js HTTP/1.1" 200 16000 "-" '
        '"Mozilla/5.0 \\x22quoted\\x22" 0.000 -',
        "nginx_timed",
        {"remote_addr": "::1", "time_local": "01/Mar/2026:10:00:04 -0500",
         "http_user_agent": "Mozilla/5.0 \\x22quoted\\x22", "request_time": "0.000",
         "upstream_response_time": "-"},
    ),
    (
        "nginx tried two upstreams",
        '198.51.100.7 - - [01/Mar/2026:10:00:05 +0000] "GET /api/cart HTTP/1.1" 502 157 "-" "curl/8.5.0" '
        "3.004 3.001, 0.002",
        "nginx_timed",
        {"status": "502", "request_time": "3.004", "upstream_response_time": "3.001, 0.002"},
    ),
    (
        "TLS hello on the plain port (a request line with no method)",
        '198.51.100.7 - - [01/Mar/2026:10:00:06 +0000] "\\x16\\x03\\x01\\x00\\xCA" 400 157 "-" "-" 0.001 -',
        "nginx_timed",
        {"request": "\\x16\\x03\\x01\\x00\\xCA", "status": "400", "http_user_agent": "-"},
    ),
    (
        "truncated combined line",
        '81.2.69.160 - - [01/Mar/2026:10:00:07 +0000] "GET /product/85123A HTTP/1.1" 200 31337 "https://www.go',
        None,
        {},
    ),
    (
        "Common Log Format (no referer, no user agent)",
        '81.2.69.160 - - [01/Mar/2026:10:00:08 +0000] "GET / HTTP/1.1" 200 612',
        None,
        {},
    ),
    (
        "nginx error log",
        "2026/03/01 10:00:09 [error] 1234#1234: *5678 upstream timed out (110: Connection timed out)",
        None,
        {},
    ),
    (
        "unescaped quote inside the user agent",
        '81.2.69.160 - - [01/Mar/2026:10:00:10 +0000] "GET / HTTP/1.1" 200 612 "-" "bad "agent""',
        None,
        {},
    ),
]  # fmt: skip
