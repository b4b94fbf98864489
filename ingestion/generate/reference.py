"""Static reference data for the generators: countries, currencies, words, user agents."""

from __future__ import annotations

# country_id, country_name, continent, region_code, currency, weight (share of customers)
COUNTRIES: tuple[tuple[str, str, str, str, str, float], ...] = (
    ("GB", "United Kingdom", "Europe", "NEU", "GBP", 60.0),
    ("DE", "Germany", "Europe", "WEU", "EUR", 6.0),
    ("FR", "France", "Europe", "WEU", "EUR", 6.0),
    ("IE", "Ireland", "Europe", "NEU", "EUR", 4.0),
    ("NL", "Netherlands", "Europe", "WEU", "EUR", 3.0),
    ("ES", "Spain", "Europe", "SEU", "EUR", 2.0),
    ("BE", "Belgium", "Europe", "WEU", "EUR", 2.0),
    ("CH", "Switzerland", "Europe", "WEU", "CHF", 2.0),
    ("PT", "Portugal", "Europe", "SEU", "EUR", 1.5),
    ("IT", "Italy", "Europe", "SEU", "EUR", 1.5),
    ("NO", "Norway", "Europe", "NEU", "NOK", 1.0),
    ("SE", "Sweden", "Europe", "NEU", "SEK", 1.0),
    ("DK", "Denmark", "Europe", "NEU", "DKK", 1.0),
    ("FI", "Finland", "Europe", "NEU", "EUR", 0.5),
    ("AT", "Austria", "Europe", "WEU", "EUR", 0.5),
    ("PL", "Poland", "Europe", "EEU", "PLN", 0.5),
    ("CY", "Cyprus", "Europe", "SEU", "EUR", 0.3),
    ("GR", "Greece", "Europe", "SEU", "EUR", 0.3),
    ("US", "USA", "North America", "NAM", "USD", 1.5),
    ("CA", "Canada", "North America", "NAM", "CAD", 0.5),
    ("AU", "Australia", "Oceania", "OCE", "AUD", 1.0),
    ("JP", "Japan", "Asia", "EAS", "JPY", 0.5),
    ("SG", "Singapore", "Asia", "SEA", "SGD", 0.3),
    ("IL", "Israel", "Asia", "WAS", "ILS", 0.3),
    ("AE", "United Arab Emirates", "Asia", "WAS", "AED", 0.3),
    ("BR", "Brazil", "South America", "SAM", "BRL", 0.2),
    ("ZA", "South Africa", "Africa", "SAF", "ZAR", 0.2),
    # Countries that join the catalogue later in a run (late-arriving master data).
    ("LT", "Lithuania", "Europe", "NEU", "EUR", 0.0),
    ("IS", "Iceland", "Europe", "NEU", "ISK", 0.0),
    ("KR", "South Korea", "Asia", "EAS", "KRW", 0.0),
)
LATE_COUNTRIES = 3  # the last entries above

# GBP per 1 unit of currency on the first simulated day
BASE_RATES: dict[str, float] = {
    "GBP": 1.0, "EUR": 0.86, "USD": 0.79, "CHF": 0.90, "NOK": 0.074, "SEK": 0.075,
    "DKK": 0.115, "PLN": 0.20, "CAD": 0.58, "AUD": 0.52, "JPY": 0.0054, "SGD": 0.59,
    "ILS": 0.21, "AED": 0.215, "BRL": 0.16, "ZAR": 0.042, "ISK": 0.0057, "KRW": 0.0006,
}  # fmt: skip

# Online Retail style descriptions: "<colour> <material> <thing>"
COLOURS = (
    "WHITE", "RED", "PINK", "BLUE", "GREEN", "IVORY", "BLACK", "VINTAGE", "RETRO", "PAISLEY",
    "POLKADOT", "SPOTTY", "STRIPED", "GLASS", "SILVER", "GOLD",
)  # fmt: skip
MATERIALS = (
    "HANGING", "METAL", "WOODEN", "CERAMIC", "ENAMEL", "FELT", "PAPER", "LACE", "GINGHAM",
    "HEART", "STAR", "FLOWER", "REGENCY", "SWEETHEART",
)  # fmt: skip
THINGS = {
    "HOME DECOR": ("T-LIGHT HOLDER", "LANTERN", "PHOTO FRAME", "WALL CLOCK", "CUSHION COVER"),
    "KITCHEN": ("TEACUP AND SAUCER", "CAKE STAND", "JAM JAR", "MUG", "BAKING SET", "APRON"),
    "GIFTS": ("GIFT BOX", "TRINKET BOX", "KEYRING", "MIRROR", "DOORSTOP"),
    "STATIONERY": ("NOTEBOOK", "PENCIL SET", "WRAPPING PAPER", "GREETING CARD", "STICKERS"),
    "TOYS": ("SKIPPING ROPE", "SPACEBOY LUNCH BOX", "DOLLY GIRL BAG", "JIGSAW", "PLAYHOUSE"),
    "GARDEN": ("WATERING CAN", "BIRD HOUSE", "PLANT POT", "GARDEN MARKER", "WINDMILL"),
    "LIGHTING": ("FAIRY LIGHTS", "NIGHT LIGHT", "CANDLE", "LAMP", "STRING OF LIGHTS"),
    "PARTY": ("BUNTING", "PARTY BUNTING", "PAPER CHAIN KIT", "NAPKINS", "CAKE CASES"),
    "BAGS": ("JUMBO BAG", "SHOPPER BAG", "LUNCH BAG", "CHARLOTTE BAG", "TOTE BAG"),
    "CHRISTMAS": ("BAUBLE", "ADVENT CALENDAR", "TREE DECORATION", "WREATH", "STOCKING"),
}
SEGMENTS = ("consumer", "small_business", "wholesale", "corporate")
SEGMENT_WEIGHTS = (0.6, 0.2, 0.15, 0.05)

# Hour-of-day weights of orders and sessions (UK online shop: evenings busier)
HOUR_WEIGHTS = (
    1,
    0.6,
    0.4,
    0.3,
    0.3,
    0.5,
    1,
    2,
    3.5,
    4.5,
    5,
    5,
    5.5,
    5,
    4.5,
    4.5,
    5,
    5.5,
    6,
    6.5,
    6,
    5,
    3.5,
    2,
)

DEVICES = ("desktop", "mobile", "tablet")
DEVICE_WEIGHTS = (0.45, 0.45, 0.10)
USER_AGENTS = {
    "desktop": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.4 Safari/605.1.15",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/123.0.0.0 Safari/537.36",
    ),
    "mobile": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/123.0.0.0 Mobile Safari/537.36",
    ),
    "tablet": (
        "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.4 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36",
    ),
}
BOT_USER_AGENTS = (
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "python-requests/2.31.0",
    "curl/8.5.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/122.0.0.0 Safari/537.36",
)
# referrer, traffic_source, weight
REFERRERS = (
    ("https://www.google.com/", "organic", 0.35),
    ("https://www.google.com/aclk", "paid", 0.15),
    ("https://www.facebook.com/", "social", 0.10),
    ("https://www.instagram.com/", "social", 0.05),
    ("https://mail.shop.example.com/newsletter", "email", 0.10),
    ("https://www.giftblog.example.org/", "referral", 0.05),
    ("", "direct", 0.20),
)
SHOP_URL = "https://shop.example.com"
