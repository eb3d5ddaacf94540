"""Static catalogue of the simulated SaaS business: segments, plans, prices, currencies,
product events, names. Everything here is plain data (tuples) so iteration order is fixed."""
from __future__ import annotations

SEGMENTS = ("enterprise", "mid_market", "smb")
SEGMENT_WEIGHTS = (0.10, 0.30, 0.60)

# median seats (lognormal), sigma, min, max
SEATS = {
    "enterprise": (120, 0.55, 30, 2000),
    "mid_market": (40, 0.45, 12, 300),
    "smb": (7, 0.5, 2, 30),
}
# licensed seats above which a customer moves up a segment
SEGMENT_UPGRADE_AT = {"smb": (30, "mid_market"), "mid_market": (250, "enterprise")}

REGIONS = ("NA", "EMEA", "APAC", "LATAM")
REGION_WEIGHTS = (0.45, 0.30, 0.20, 0.05)
# (currency, weight) per region
REGION_CURRENCIES = {
    "NA": (("usd", 1.0),),
    "EMEA": (("eur", 0.65), ("gbp", 0.35)),
    "APAC": (("cny", 0.55), ("usd", 0.45)),
    "LATAM": (("usd", 1.0),),
}
# UTC offset (minutes) used for local-time offsets in timestamps, and the UTC hour at which
# the region's working day peaks
REGION_TZ_MIN = {"NA": -300, "EMEA": 60, "APAC": 480, "LATAM": -180}
REGION_PEAK_UTC_H = {"NA": 19.0, "EMEA": 12.0, "APAC": 5.0, "LATAM": 17.0}
REGION_TLD = {"NA": ".com", "EMEA": ".eu", "APAC": ".cn", "LATAM": ".com.br"}

CURRENCIES = ("usd", "eur", "gbp", "cny")
# usd per unit at the start, daily log sd, long-run mean for mild mean reversion
FX_START = {"usd": (1.0, 0.0), "eur": (1.09, 0.0038), "gbp": (1.27, 0.0042), "cny": (0.1395, 0.0016)}
# price multiplier from usd (rounded to whole units of the currency)
PRICE_FX = {"usd": 1.0, "eur": 0.92, "gbp": 0.79, "cny": 7.1}

INDUSTRIES = ("software", "financial_services", "healthcare", "retail", "manufacturing",
              "education", "media", "logistics", "professional_services", "energy")

# products: id, name, monthly usd cents per unit, per_seat
PRODUCTS = {
    "starter": ("prod_starter", "Starter", 1500, True),
    "growth": ("prod_growth", "Growth", 3500, True),
    "enterprise": ("prod_enterprise", "Enterprise", 6500, True),
    "analytics": ("prod_addon_analytics", "Advanced Analytics add-on", 800, True),
    "support": ("prod_addon_support", "Premium Support", 50000, False),
}
PLAN_UPGRADE = {"starter": "growth", "growth": "enterprise"}
SEGMENT_PLANS = {
    "enterprise": (("enterprise", 1.0),),
    "mid_market": (("growth", 0.8), ("enterprise", 0.2)),
    "smb": (("starter", 0.7), ("growth", 0.3)),
}
# billing terms: ((interval, interval_count), weight)
SEGMENT_TERMS = {
    "enterprise": ((("year", 1), 0.85), (("month", 3), 0.05), (("month", 1), 0.10)),
    "mid_market": ((("year", 1), 0.50), (("month", 3), 0.12), (("month", 1), 0.38)),
    "smb": ((("year", 1), 0.20), (("month", 3), 0.05), (("month", 1), 0.75)),
}

CSM_OWNERS = {
    "enterprise": ("Alice Chen", "Marcus Johnson", "Priya Natarajan", "Lukas Weber", "Wang Fang"),
    "mid_market": ("Sofia Rossi", "Daniel Kim", "Emma Dubois", "Li Wei", "Oliver Smith",
                   "Hannah Müller"),
    "smb": ("Jordan Lee", "Mia Fischer", "Zhang Min", "Carlos Mendoza"),
}

NAME_A = ("Blue", "North", "Bright", "Silver", "Quantum", "Summit", "Pioneer", "Atlas", "Nova",
          "Cedar", "Harbor", "Vertex", "Golden", "Iron", "Crystal", "Swift", "Maple", "Red",
          "Evergreen", "Polar", "Lunar", "Solar", "Prime", "Urban", "Coastal", "Alpine",
          "Granite", "Falcon", "Orchid", "Cobalt", "Jade", "Stellar", "Oak", "River", "Sage")
NAME_B = ("Analytics", "Logistics", "Health", "Systems", "Labs", "Foods", "Retail", "Energy",
          "Capital", "Media", "Robotics", "Networks", "Dynamics", "Works", "Partners",
          "Learning", "Motors", "Bio", "Software", "Freight", "Studios", "Pharma", "Textiles",
          "Holdings", "Insights", "Cloud", "Security", "Foundry", "Markets", "Ventures")
NAME_SUFFIX = {"NA": ("Inc.", "LLC", "Corp."), "EMEA": ("GmbH", "Ltd", "SAS", "B.V."),
               "APAC": ("Co., Ltd.", "Pte. Ltd.", "Ltd"), "LATAM": ("S.A.", "Ltda.")}
SUBSIDIARY_SUFFIX = {"usd": "US Inc.", "eur": "Europe GmbH", "gbp": "UK Ltd", "cny": "(Shanghai) Co., Ltd."}

FIRST_NAMES = ("james", "mary", "wei", "anna", "lukas", "sofia", "raj", "yuki", "omar", "lea",
               "chen", "maria", "john", "li", "emma", "noah", "olivia", "liam", "ava", "hugo",
               "ines", "mateo", "sara", "jonas", "nina", "paul", "julia", "ming", "fatima", "kai")
LAST_NAMES = ("smith", "wang", "garcia", "mueller", "rossi", "kim", "patel", "tanaka", "silva",
              "martin", "zhang", "brown", "dubois", "novak", "jensen", "lopez", "chen", "ali",
              "nguyen", "schmidt", "wilson", "liu", "costa", "meyer", "sato")

# product events: (event name, feature or None, base weight, admin_only)
EVENTS = (
    ("login", None, 3.0, False),
    ("page_viewed", None, 4.0, False),
    ("search_performed", None, 1.0, False),
    ("report_created", "reporting", 1.0, False),
    ("report_viewed", "reporting", 3.0, False),
    ("report_scheduled", "reporting", 0.4, False),
    ("dashboard_viewed", "dashboards", 4.0, False),
    ("dashboard_created", "dashboards", 0.5, False),
    ("widget_added", "dashboards", 0.8, False),
    ("export_run", "exports", 1.2, False),
    ("csv_downloaded", "exports", 0.8, False),
    ("integration_synced", "integrations", 1.5, False),
    ("integration_connected", "integrations", 0.1, False),
    ("comment_added", "collaboration", 1.5, False),
    ("mention_sent", "collaboration", 0.6, False),
    ("share_link_created", "collaboration", 0.4, False),
    ("settings_updated", "admin", 0.6, True),
    ("user_invited", "admin", 0.4, True),
    ("role_changed", "admin", 0.1, True),
)
FEATURES = ("reporting", "dashboards", "exports", "integrations", "collaboration", "admin")
# chance an account adopts a (non-admin) feature, by segment
FEATURE_ADOPTION = {
    "enterprise": {"reporting": 0.95, "dashboards": 0.95, "exports": 0.8, "integrations": 0.85, "collaboration": 0.8},
    "mid_market": {"reporting": 0.9, "dashboards": 0.9, "exports": 0.65, "integrations": 0.6, "collaboration": 0.6},
    "smb": {"reporting": 0.85, "dashboards": 0.8, "exports": 0.5, "integrations": 0.35, "collaboration": 0.4},
}

# tickets per account per 30 days, by segment
TICKET_RATE = {"enterprise": 3.0, "mid_market": 1.1, "smb": 0.35}
TICKET_PRIORITIES = (("low", 0.25), ("normal", 0.48), ("high", 0.17), ("urgent", 0.06), (None, 0.04))
FIRST_REPLY_MEDIAN_H = {"urgent": 0.6, "high": 2.5, "normal": 6.0, "low": 14.0, None: 8.0}
TICKET_TYPES = (("question", 0.45), ("incident", 0.3), ("problem", 0.1), ("task", 0.15))
TICKET_CHANNELS = (("email", 0.45), ("web", 0.3), ("chat", 0.15), ("api", 0.05), ("voice", 0.05))

NPS_COMMENTS = {
    "promoter": ("Love the dashboards", "Great support team", "Saves us hours every week",
                 "Easy to roll out to the whole team", "Reporting is excellent"),
    "passive": ("Good overall, a few rough edges", "Would like more integrations",
                "Pricing is a bit high", "Does the job"),
    "detractor": ("Too slow for our data volume", "Support takes too long to answer",
                  "Hard to get the team to use it", "Missing features we need",
                  "Exports keep failing", "Considering alternatives"),
}
