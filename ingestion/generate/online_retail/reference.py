"""The shop's reference data: customers per country, the products (best sellers, tricky descriptions, words of
the made-up ones, pack sizes), the service lines' codes, and the weights of the calendar."""

from __future__ import annotations

import numpy as np

# Customers per country (real II counts, about 5,900 in all); activity multiplies a customer's orders.
COUNTRY_CUSTOMERS: dict[str, tuple[int, float]] = {
    "United Kingdom": (5360, 1.3), "Germany": (107, 1.6), "France": (95, 1.6), "Spain": (41, 1.3),
    "Belgium": (29, 1.3), "Portugal": (24, 1.3), "Netherlands": (23, 4.0), "Switzerland": (22, 1.3),
    "Sweden": (19, 1.3), "Italy": (17, 1.0), "Australia": (15, 1.5), "Finland": (15, 1.0),
    "Austria": (13, 1.0), "Norway": (13, 1.0), "Denmark": (12, 1.0), "Channel Islands": (11, 1.3),
    "Cyprus": (11, 1.0), "Japan": (10, 1.0), "USA": (8, 1.0), "Unspecified": (8, 1.0), "Greece": (8, 1.0),
    "Poland": (6, 1.0), "EIRE": (5, 25.0), "Canada": (5, 1.0), "Israel": (4, 1.0), "Malta": (4, 1.0),
    "Bahrain": (2, 1.0), "United Arab Emirates": (2, 1.0), "Singapore": (1, 2.0), "Iceland": (1, 2.0),
    "Lithuania": (1, 1.0), "Brazil": (1, 1.0), "Saudi Arabia": (1, 1.0), "Czech Republic": (1, 1.0),
    "Lebanon": (1, 1.0), "RSA": (1, 1.0), "European Community": (1, 1.0),
}  # fmt: skip
# Countries of the invoices without a customer id (Hong Kong only ever appears there).
NO_CUSTOMER_COUNTRIES = {
    "United Kingdom": 0.95, "EIRE": 0.01, "Hong Kong": 0.01, "Unspecified": 0.01, "France": 0.005,
    "Israel": 0.005, "Switzerland": 0.005, "Bahrain": 0.005,
}  # fmt: skip
PRODUCTS = 4_000
# The best sellers of the real data: stock code, description, price (GBP), pack size.
FAMOUS = (
    ("85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 2.55, 6),
    ("22423", "REGENCY CAKESTAND 3 TIER", 12.75, 1),
    ("84029E", "RED WOOLLY HOTTIE WHITE HEART.", 3.75, 6),
    ("79323P", "PINK CHERRY LIGHTS", 6.75, 1),
    ("85099B", "JUMBO BAG RED RETROSPOT", 1.95, 10),
    ("84879", "ASSORTED COLOUR BIRD ORNAMENT", 1.69, 8),
    ("47566", "PARTY BUNTING", 4.95, 4),
    ("20725", "LUNCH BAG RED RETROSPOT", 1.65, 10),
    ("21212", "PACK OF 72 RETROSPOT CAKE CASES", 0.55, 24),
    ("22197", "SMALL POPCORN HOLDER", 0.85, 12),
    ("23843", "PAPER CRAFT , LITTLE BIRDIE", 2.08, 1),
    ("23166", "MEDIUM CERAMIC TOP STORAGE JAR", 1.25, 12),
    ("22086", "PAPER CHAIN KIT 50'S CHRISTMAS ", 2.95, 6),
    ("21232", "STRAWBERRY CERAMIC TRINKET BOX", 1.25, 12),
)
HUGE_ORDER_CODES = ("23843", "23166")
# Descriptions with the characters that trip CSV and encodings up; each group sells at least `minimum` times.
SPECIALS: dict[str, tuple[tuple[str, str, float, int], ...]] = {
    "description_comma": (
        ("84375", "SET OF 3 HEART COOKIE CUTTERS, PINK", 1.25, 6),
        ("84380", "SET OF 3 BUTTERFLY COOKIE CUTTERS, BLUE", 1.25, 6),
    ),
    "description_quote": (
        ("20668", '12 PENCILS "TALL TUBE" RED', 0.85, 12),
        ("20669", '12 PENCILS "TALL TUBE" SKULLS', 0.85, 12),
        ("21383", 'PACK OF 12 "SWEETHEART" TISSUES', 0.39, 24),
    ),
    "description_non_ascii": (
        ("23305", "FRENCH CAFÉ METAL SIGN", 2.95, 6),
        ("84508B", "POLKADOT £1 CUP", 0.42, 12),
        ("21871", "CAFé LATTE MUG", 1.25, 6),
        ("22469", "CRÈME BRÛLÉE RAMEKIN", 1.65, 6),
    ),
}
COLOURS = (
    "RED", "PINK", "BLUE", "GREEN", "WHITE", "CREAM", "IVORY", "BLACK", "SILVER", "GOLD", "PURPLE",
    "ORANGE", "YELLOW", "PASTEL", "NATURAL",
)  # fmt: skip
STYLES = (
    "RETROSPOT", "POLKADOT", "VINTAGE", "REGENCY", "HEART", "FLORAL", "JUMBO", "SPACEBOY", "DOLLY GIRL",
    "PAISLEY", "WOODLAND", "SKULLS", "ROSES", "BIRD", "CHRISTMAS", "LOVE", "PANTRY", "ENGLISH ROSE", "ZINC",
    "ANTIQUE", "BAROQUE", "SWEETHEART", "GINGHAM", "HANGING", "WOODEN", "ENAMEL", "GLASS", "CERAMIC",
)  # fmt: skip
ITEMS = (
    "T-LIGHT HOLDER", "LUNCH BAG", "CAKE CASES", "CAKESTAND 3 TIER", "MUG", "TEA TOWEL", "SHOPPER BAG",
    "NAPKINS", "DOORSTOP", "CUSHION COVER", "PHOTO FRAME", "BUNTING", "LANTERN", "WALL CLOCK",
    "HOT WATER BOTTLE", "NOTEBOOK", "PURSE", "STORAGE JAR", "PAPER CHAIN KIT", "WATER BOTTLE", "GIFT WRAP",
    "COAT RACK", "BOWL", "JUG", "PLATE", "CANDLE", "HANGING DECORATION", "METAL SIGN", "ALARM CLOCK",
    "CANDLEHOLDER", "TRINKET BOX", "KEYRING", "APRON", "PARASOL", "PICNIC BASKET", "BIRD HOUSE",
)  # fmt: skip
# Pack sizes (units a customer buys at a time) by price: dear things one by one, cheap ones by the dozen.
PACKS = (  # up to this price (pence), sizes, their weights
    (150, (6, 10, 12, 24, 25, 48), (0.2, 0.1, 0.3, 0.25, 0.1, 0.05)),
    (500, (1, 2, 3, 4, 6, 8, 12), (0.15, 0.15, 0.1, 0.15, 0.25, 0.05, 0.15)),
    (np.inf, (1, 2, 4), (0.6, 0.3, 0.1)),
)
WRITE_OFF_DESCRIPTIONS = (
    "?", "damaged", "check", "wet damaged", "missing", "Damaged", "thrown away", "lost??", "smashed",
    "sold as set on dotcom", "wrongly marked", "rusty throw away", "mouldy, thrown away.", "?missing",
)  # fmt: skip
GIFT_VOUCHERS = (  # stock code, description, price (the value before VAT)
    ("gift_0001_10", "Dotcomgiftshop Gift Voucher £10.00", 8.51),
    ("gift_0001_20", "Dotcomgiftshop Gift Voucher £20.00", 17.02),
    ("gift_0001_30", "Dotcomgiftshop Gift Voucher £30.00", 25.53),
    ("gift_0001_40", "Dotcomgiftshop Gift Voucher £40.00", 34.04),
    ("gift_0001_50", "Dotcomgiftshop Gift Voucher £50.00", 42.55),
)
ADJUSTMENTS = (
    ("ADJUST", "Adjustment by john on 26/01/2010 17"),
    ("ADJUST2", "Adjustment by Peter on Jun 25 2010 "),
    ("TEST001", "This is a test product."),
    ("TEST002", "This is a test product."),
)
CRUK_CUSTOMER = 14096
# Price changes: each product's price may move at each of these dates.
PRICE_PERIODS = np.array(["2010-04-01", "2010-09-01", "2011-03-01", "2011-08-01"], dtype="datetime64[m]")
HOUR_WEIGHTS = {7: 2, 8: 5, 9: 9, 10: 13, 11: 14, 12: 15, 13: 14, 14: 12, 15: 9, 16: 5, 17: 2, 18: 1, 19: 1}
MONTH_WEIGHTS = (0.7, 0.7, 0.85, 0.75, 0.85, 0.85, 0.85, 0.85, 1.2, 1.4, 1.7, 1.0)  # January .. December
