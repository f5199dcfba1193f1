"""Turning an ERP purchase line into words the NAICS index uses.

ERP lines are written for a buyer, not a classifier: upper case, abbreviations (``CORR``,
``ASSY``, ``SS``), pack sizes and units (``100/BX``, ``5GAL``), part numbers (``CF226A``,
``6205-2RS``) and British spellings. The NAICS index writes full, American, lower-case words
("Bolts, metal, manufacturing"). ``normalise`` removes what carries no commodity meaning
(numbers, part numbers, units, pack sizes), expands abbreviations, and ``expand`` adds the index's
own wording for common purchase categories (``laptop`` -> "computers"; ``airfare`` -> "air
passenger carriers, scheduled").

The tables are written from general procurement vocabulary (units of measure in ANSI X12 /
UN/ECE Recommendation 20 spellings, common ERP short texts), not fitted to an evaluation set.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# Units of measure and pack abbreviations: they say how much, never what. Pack words that
# are also goods (box, bag, drum, roll) stay.
_UNIT_WORDS = """
    ea each pc pcs pce piece pieces pk pkg pack packs pkt bx cs case cases ct cnt count
    dz doz dozen pr pair pairs pl rl rm ream reams sh sht set sets
    bg btl cn dr tb ctn bdl bundle bundles lot lots
    mm cm m km in inch inches ft feet foot yd yard yards mi mil mils ga gauge awg
    g gm gr kg kgs lb lbs oz t ton tons tonne tonnes mt
    ml l lt ltr litre liter liters litres gal gals gallon gallons qt pt floz cf cuft cy m3 m2 sqft
    w kw kwh mw v vac vdc a amp amps hz mhz ghz va kva hp rpm psi bar mpa btu
    gb tb mb
    no nr qty x
"""
UNITS: frozenset[str] = frozenset(_UNIT_WORDS.split())

# Common ERP short-text abbreviations -> the word the index uses.
ABBREVIATIONS: Mapping[str, str] = {
    "alu": "aluminum",
    "alum": "aluminum",
    "aluminium": "aluminum",
    "assy": "assembly",
    "asst": "assorted",
    "blk": "black",
    "brkt": "bracket",
    "brg": "bearing",
    "brz": "bronze",
    "cab": "cabinet",
    "cbl": "cable",
    "cmu": "concrete block",
    "conn": "connector",
    "corr": "corrugated",
    "cu": "copper",
    "cyl": "cylinder",
    "dia": "diameter",
    "elec": "electric",
    "elect": "electric",
    "env": "envelope",
    "equip": "equipment",
    "ext": "extension",
    "fltr": "filter",
    "galv": "galvanized",
    "hd": "heavy duty",
    "hi": "high",
    "hvac": "air conditioning heating ventilation",
    "hyd": "hydraulic",
    "ind": "industrial",
    "indl": "industrial",
    "ins": "insulated",
    "insul": "insulation",
    "lam": "laminate",
    "ltg": "lighting",
    "maint": "maintenance",
    "mfg": "manufacturing",
    "mtr": "motor",
    "ofc": "office",
    "pb": "push button",
    "plt": "plate",
    "pnl": "panel",
    "poly": "polyethylene",
    "ppe": "personal protective equipment",
    "pwr": "power",
    "recip": "reciprocating",
    "rect": "rectangular",
    "repl": "replacement",
    "sched": "schedule",
    "shcs": "socket head cap screw",
    "sol": "solenoid",
    "ss": "stainless steel",
    "sst": "stainless steel",
    "stl": "steel",
    "svc": "service",
    "sw": "switch",
    "tyre": "tire",
    "tyres": "tires",
    "colour": "color",
    "whse": "warehouse",
    "wht": "white",
    "zp": "zinc plated",
    "zn": "zinc",
}

# Purchase vocabulary -> index wording added beside it (the original words stay).
SYNONYMS: Mapping[str, str] = {
    "laptop": "computers",
    "notebook computer": "laptop computers",
    "desktop": "computers",
    "server": "computers",
    "pc": "computers",
    "monitor": "computer peripheral equipment",
    "keyboard": "computer peripheral equipment",
    "printer": "computer printers",
    "docking station": "computer peripheral equipment",
    "ssd": "computer storage devices",
    "hard drive": "computer storage devices disk drives",
    "flash drive": "computer storage devices",
    "smartphone": "cellular telephones",
    "mobile phone": "cellular telephones",
    "cell phone": "cellular telephones",
    "switch ethernet": "data communications equipment",
    "router": "data communications equipment",
    "firewall": "data communications equipment",
    "access point": "wireless communications equipment",
    "toner": "toner cartridges printing ink",
    "ink cartridge": "printing ink",
    "copier paper": "paper mills",
    "copy paper": "paper mills",
    "nitrile": "rubber gloves",
    "disposable gloves": "rubber gloves",
    "exam gloves": "rubber gloves",
    "respirator": "respiratory protection mask",
    "n95": "respiratory protection mask",
    "safety glasses": "goggles safety",
    "safety boots": "footwear",
    "safety shoes": "footwear",
    "work shoes": "footwear",
    "boots": "footwear",
    "hi-vis": "vests",
    "led": "lighting",
    "lamp": "electric lamp bulbs",
    "light bulb": "electric lamp bulbs",
    "led tube": "electric lamp bulbs",
    "fixture": "lighting fixtures",
    "alkaline": "primary batteries",
    "lithium": "primary batteries",
    "lead acid": "storage batteries",
    "vfd": "motor control",
    "plc": "process control instruments",
    "transmitter": "process control instruments",
    "thermocouple": "process control instruments temperature",
    "multimeter": "instruments for measuring electricity",
    "oscilloscope": "instruments for measuring electricity oscilloscopes",
    "degreaser": "cleaning preparations",
    "cleaner": "cleaning preparations",
    "sanitizer": "sanitation preparations",
    "hand soap": "soap",
    "detergent": "detergents soap",
    "toilet tissue": "toilet paper sanitary paper",
    "paper towel": "sanitary paper towels",
    "napkins": "sanitary paper napkins",
    "facial tissue": "sanitary paper",
    "trash": "plastics bags",
    "liners": "plastics bags",
    "stretch film": "plastics packaging film",
    "bubble wrap": "bubble packaging materials plastics",
    "packing tape": "pressure sensitive tape",
    "pallet": "pallets wood",
    "pallets": "pallets wood",
    "diesel": "petroleum refineries fuel oil",
    "ulsd": "diesel fuel petroleum refineries",
    "gasoline": "petroleum refineries",
    "petrol": "gasoline petroleum refineries",
    "heating oil": "fuel oil petroleum refineries",
    "propane": "propane petroleum refineries",
    "motor oil": "lubricating oils petroleum",
    "hydraulic oil": "lubricating oils petroleum",
    "grease": "lubricating greases petroleum",
    "argon": "industrial gases",
    "oxygen": "industrial gases",
    "nitrogen": "industrial gases",
    "co2": "carbon dioxide industrial gases",
    "acetylene": "industrial gases",
    "rebar": "steel mills reinforcing bars",
    "steel plate": "steel mills",
    "steel sheet": "steel mills",
    "stainless": "steel mills",
    "beam": "structural steel mills",
    "angle iron": "steel mills",
    "coil": "steel mills",
    "extrusion": "aluminum extruded",
    "welding": "welding",
    "sealant": "adhesives sealants",
    "glue": "adhesives",
    "epoxy": "adhesives",
    "paint": "paints coatings",
    "primer": "paints coatings",
    "spray paint": "paints",
    "coffee": "coffee",
    "tea": "tea",
    "soda": "soft drinks",
    "water": "bottled water",
    "snack": "confectionery",
    "chair": "office furniture chairs",
    "desk": "office furniture desks",
    "drill": "power-driven handtools drills",
    "grinder": "power-driven handtools",
    "saw blade": "saw blades",
    "wrench": "handtools",
    "screwdriver": "handtools",
    "hammer": "handtools",
    "end mill": "cutting tools metalworking",
    "insert carbide": "cutting tools metalworking",
    "sandpaper": "abrasives",
    "grinding wheel": "abrasive wheels",
    "forklift": "industrial trucks forklifts",
    "pallet jack": "industrial trucks",
    "hoist": "hoists",
    "tire": "tires",
    "tires": "tires",
    "truck": "trucks",
    "van": "light trucks vans",
    "software license": "software publishers",
    "software": "software publishers",
    "subscription": "publishers",
    "antivirus": "software publishers",
    "cloud": "data processing hosting",
    "hosting": "data processing hosting",
    "colocation": "data processing hosting",
    "internet service": "internet service providers wired telecommunications",
    "landline": "wired telecommunications carriers",
    "mobile plan": "wireless telecommunications carriers cellular",
    "it consulting": "computer systems design services",
    "software development": "custom computer programming services",
    "legal": "offices of lawyers",
    "attorney": "offices of lawyers",
    "audit fees": "offices of certified public accountants",
    "tax preparation": "tax preparation services",
    "engineering services": "engineering services",
    "consulting": "management consulting services",
    "advertising": "advertising agencies",
    "marketing agency": "advertising agencies",
    "trade show": "trade show organizers",
    "temp staff": "temporary help services",
    "temporary": "temporary help services",
    "recruitment": "employment placement agencies",
    "janitorial": "janitorial services",
    "office cleaning": "janitorial services",
    "security guard": "security guard services",
    "landscaping": "landscaping services",
    "pest control": "exterminating and pest control services",
    "waste collection": "solid waste collection",
    "dumpster": "solid waste collection",
    "recycling pickup": "recyclable material collection",
    "hazardous waste": "hazardous waste treatment and disposal",
    "ltl": "general freight trucking less than truckload",
    "truckload": "general freight trucking long-distance truckload",
    "trucking": "general freight trucking local",
    "freight": "freight transportation",
    "courier": "couriers express delivery",
    "parcel": "couriers express delivery",
    "fedex": "couriers express delivery",
    "ups ground": "couriers express delivery",
    "air fare": "scheduled passenger air transportation",
    "airfare": "scheduled passenger air transportation",
    "flight": "scheduled passenger air transportation",
    "air freight": "scheduled freight air transportation",
    "ocean freight": "deep sea freight transportation",
    "rail freight": "line-haul railroads",
    "hotel": "hotels",
    "accommodation": "hotels",
    "meals": "full-service restaurants",
    "dinner": "full-service restaurants",
    "catering": "caterers",
    "taxi": "taxi service",
    "car rental": "passenger car rental",
    "equipment rental": "construction equipment rental",
    "crane rental": "construction equipment rental",
    "lease": "lessors of nonresidential buildings",
    "rent": "lessors of buildings",
    "storage": "warehousing and storage",
    "repair": "repair and maintenance",
    "maintenance contract": "repair and maintenance",
    "oil change": "automotive repair and maintenance",
    "vehicle service": "automotive repair and maintenance",
    "hvac maintenance": "heating and air-conditioning contractors",
    "electrical contractor": "electrical contractors",
    "plumbing": "plumbing contractors",
    "painting contractor": "painting contractors",
    "roof repair": "roofing contractors",
    "insurance": "insurance carriers",
    "premium": "insurance carriers",
    "training": "training",
    "bank fees": "banking commercial banks",
    "postage": "postal service",
    "newspaper": "newspaper publishers",
    "books": "book publishers",
    "medical exams": "offices of physicians",
    "lab analysis": "testing laboratories",
    "calibration": "testing laboratories calibration",
    "translation": "translation services",
    "photography": "photography services",
    "architectural": "architectural services",
    "portable toilets": "portable toilet rental",
    "printing": "printing",
    "business cards": "printing",
    "brochures": "printing",
    "concrete": "concrete",
    "drywall": "gypsum wallboard",
    "osb": "oriented strandboard reconstituted wood",
    "lumber": "lumber sawmills",
    "shingles": "asphalt shingles roofing",
    "asphalt": "asphalt paving mixtures",
    "gravel": "crushed stone",
    "sand": "construction sand",
    "fertilizer": "fertilizers",
    "herbicide": "pesticides herbicides",
    "def": "urea",
    "antifreeze": "antifreeze",
}

# Words every index phrase uses ("... manufacturing", "made from purchased ..."): they add cost
# and no distinction. An "(except X)" clause names what a code is *not*, so it is dropped too.
_STOP_WORDS = """
    and or of the in for with to on by at as from made purchased manufacturing mfg
    etc nec other all based type types
"""
STOPWORDS: frozenset[str] = frozenset(_STOP_WORDS.split())
_EXCEPT_RE = re.compile(r"\(\s*except[^)]*\)|\bexcept\b[^,;]*", re.IGNORECASE)
_TOKEN_RE = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_NUMERIC_UNIT_RE = re.compile(r"^\d[\d.]*(?:[a-z]{1,5})?$")
_DIGIT_RE = re.compile(r"\d")


def _keep(token: str) -> bool:
    """False for numbers, part numbers, units and pack words: they carry no commodity."""
    if token in UNITS or token in STOPWORDS or len(token) == 1:
        return False
    return not _DIGIT_RE.search(token)


def normalise(text: str) -> str:
    """Lower-case words of ``text`` without numbers, part numbers, units; abbreviations expanded.

    ``"HEX BOLT M8X40 DIN933 8.8 ZP 100/BX"`` -> ``"hex bolt zinc plated"``.
    """
    lowered = _EXCEPT_RE.sub(" ", text.lower().replace("&", " and "))
    words: list[str] = []
    for token in _TOKEN_RE.findall(lowered):
        if not _keep(token):
            if "-" not in token:
                continue
            # "hi-vis" or "cut-resistant" keep their parts; "6205-2rs" loses them.
            parts = [p for p in token.split("-") if _keep(p)]
            if len(parts) > 1 and "-".join(parts) == token:
                words.append(token)
            else:
                words.extend(ABBREVIATIONS.get(p, p) for p in parts)
            continue
        words.append(ABBREVIATIONS.get(token, token))
    return " ".join(words)


def _plural_free(words: str) -> str:
    return " ".join(
        w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
        for w in words.split()
    )


_SYNONYM_KEYS = sorted(SYNONYMS, key=len, reverse=True)


def expand(normalised: str) -> str:
    """``normalised`` plus the index wording of every purchase term it contains (whole words)."""
    padded = f" {normalised} "
    singular = f" {_plural_free(normalised)} "
    added: list[str] = []
    for key in _SYNONYM_KEYS:
        needle = f" {key} "
        if needle in padded or needle in singular:
            added.append(SYNONYMS[key])
    if not added:
        return normalised
    return f"{normalised} {' '.join(added)}"
