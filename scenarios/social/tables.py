"""Reference tables of values: countries, address blocks, names and places.

Per country: its share of accounts, time zones, phone numbering, Android's share, broadband
and carrier address space and mail providers; besides, datacenter and university address
blocks, campus mail domains, place names, first and last names and nicknames.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class _Country(NamedTuple):
    """What the world needs to know about one country's users."""

    code: str
    weight: float                  # share of honest accounts
    utc: tuple                     # UTC offsets in November, one per populous zone
    dial: str
    trunk: str                     # national prefix written before a local number
    prefixes: str                  # mobile number prefixes (national, space separated)
    digits: int                    # national number length
    android: float                 # Android's share of phones
    nets: tuple                    # consumer broadband /8s
    v6: str                        # consumer broadband IPv6 /16
    mail: str                      # mail providers after gmail.com, most used first
    carriers: tuple                # mobile carriers' CGNAT egress: (IPv4 /16, IPv6 /32)


_COUNTRIES = (
    _Country("US", .26, (-5, -5, -6, -6, -7, -8), "1", "",
             "201 206 212 213 303 305 312 404 415 469 512 602 617 646 702 713 718 773 818 917", 10, .45,
             (24, 67, 71, 73, 76, 98, 108, 174), "2601",
             "yahoo.com outlook.com hotmail.com icloud.com aol.com comcast.net",
             (("172.58", "2607:fb90"), ("174.205", "2600:1010"), ("107.77", "2600:380"))),
    _Country("CA", .04, (-5, -5, -6, -8), "1", "", "403 416 437 438 514 587 604 613 647 778", 10, .45,
             (24, 70, 99, 142, 174, 184), "2607", "hotmail.com outlook.com yahoo.ca icloud.com shaw.ca",
             (("142.198", "2605:8d80"), ("184.151", "2605:b100"))),
    _Country("GB", .07, (0,), "44", "0", "74 75 77 78 79", 10, .5, (81, 82, 86, 90, 92, 151), "2a00",
             "hotmail.co.uk yahoo.co.uk outlook.com icloud.com btinternet.com",
             (("92.40", "2a01:4c8"), ("82.132", "2a00:23c5"))),
    _Country("DE", .06, (1,), "49", "0", "151 152 157 176 177 178 179", 11, .6, (79, 84, 87, 91, 93, 217), "2003",
             "gmx.de web.de t-online.de outlook.de", (("80.187", "2a01:598"), ("109.41", "2a01:59f"))),
    _Country("FR", .05, (1,), "33", "0", "6 73 74 75 76 77 78", 9, .6, (78, 82, 86, 88, 90, 176), "2a01",
             "orange.fr hotmail.fr free.fr laposte.net yahoo.fr", (("37.166", "2a01:cb1c"), ("92.184", "2a04:cec0"))),
    _Country("ES", .04, (1,), "34", "", "6", 9, .75, (79, 81, 83, 88, 95), "2a0c", "hotmail.es yahoo.es outlook.es",
             (("88.28", "2a0c:5a80"), ("37.135", "2a01:4c9"))),
    _Country("IT", .04, (1,), "39", "", "32 33 34 35 36 37 38 39", 10, .7, (5, 79, 87, 93, 151), "2a02",
             "libero.it hotmail.it virgilio.it yahoo.it", (("5.90", "2a01:e11"), ("151.38", "2a02:b020"))),
    _Country("BR", .08, (-3,), "55", "", "119 219 319 419 519 619 719 819", 11, .85,
             (177, 179, 187, 189, 191, 200, 201), "2804", "hotmail.com outlook.com yahoo.com.br bol.com.br uol.com.br",
             (("177.79", "2804:18"), ("179.240", "2804:d41"))),
    _Country("MX", .05, (-6,), "52", "", "55 33 81", 10, .8, (177, 187, 189, 200, 201), "2806",
             "hotmail.com outlook.com yahoo.com.mx", (("189.203", "2806:10a6"), ("201.175", "2806:2f0"))),
    _Country("IN", .10, (5.5,), "91", "0",
             "70 72 73 74 75 76 77 78 79 80 81 82 83 84 85 86 87 88 89 90 91 93 94 95 96 97 98 99", 10, .92,
             (49, 106, 117, 122, 157, 182), "2409", "yahoo.co.in rediffmail.com outlook.com",
             (("49.36", "2409:4040"), ("106.207", "2401:4900"))),
    _Country("NG", .03, (1,), "234", "0", "703 706 803 806 810 813 814 816 903 905", 10, .88,
             (41, 102, 105, 129, 197), "2c0f", "yahoo.com outlook.com",
             (("105.112", "2c0f:f5c0"), ("197.210", "2c0f:f4c0"))),
    _Country("PH", .04, (8,), "63", "0", "905 906 915 916 917 926 927 935 945 955 956 965 966 975 977 995 997 998",
             10, .8, (112, 120, 124, 136, 175), "2001", "yahoo.com outlook.com",
             (("110.54", "2001:4451"), ("112.198", "2001:fd8"))),
    _Country("ID", .05, (7, 7, 8), "62", "0", "811 812 813 821 822 852 853 857 858 877 878 896 897 898", 11, .88,
             (36, 39, 110, 114, 180, 182), "2400", "yahoo.co.id outlook.com",
             (("114.124", "2001:448a"), ("182.1", "2400:9800"))),
    _Country("JP", .05, (9,), "81", "0", "80 905 906 908 909", 10, .35, (60, 106, 114, 118, 126, 153, 219), "240b",
             "yahoo.co.jp docomo.ne.jp icloud.com outlook.jp", (("126.33", "240b:10"), ("49.98", "2001:268"))),
    _Country("AU", .04, (11, 11, 10, 8), "61", "0", "40 41 42 43 47 48", 9, .45, (1, 49, 58, 101, 110, 121, 124),
             "2403", "bigpond.com outlook.com hotmail.com icloud.com",
             (("1.128", "2001:8004"), ("49.176", "2403:5800"))),
)
CODES = np.array([c.code for c in _COUNTRIES], dtype=object)
_WEIGHTS = np.array([c.weight for c in _COUNTRIES]) / sum(c.weight for c in _COUNTRIES)
_ANDROID_SHARE = np.array([c.android for c in _COUNTRIES])
# UTC offsets per country, each row repeating its zones to a common width (drawn uniformly).
_TZ = np.array([[c.utc[i % len(c.utc)] for i in range(12)] for c in _COUNTRIES], dtype=float)
_CARRIER_ROWS = [(c, v4, v6) for c, country in enumerate(_COUNTRIES) for v4, v6 in country.carriers]
_DATACENTER = ("45.61", "104.248", "5.188", "139.59", "159.65", "64.227", "167.99", "3.85", "18.204", "51.89",
               "51.15", "95.216", "178.128", "134.209")
_UNIVERSITY_NETS = (128, 129, 130, 131, 132, 134, 136, 137, 138, 140, 141, 143, 144, 147, 149, 152, 155, 160)
_CAMPUS_TLD = {"US": "edu", "CA": "ca", "GB": "ac.uk", "DE": "de", "FR": "fr", "ES": "es", "IT": "it", "BR": "edu.br",
               "MX": "edu.mx", "IN": "ac.in", "NG": "edu.ng", "PH": "edu.ph", "ID": "ac.id", "JP": "ac.jp",
               "AU": "edu.au"}
_PLACES = (
    "lakeshore", "northfield", "riverside", "westbrook", "kingsgate", "ashford", "meadowvale", "harbourview",
    "stonebridge", "fairhaven", "oakridge", "pinecrest", "silverlake", "brookline", "elmstead", "marston", "granby",
    "halden", "corran", "vestby", "larkspur", "thornbury", "wexley", "dunmore", "calder"
)
_FIRST = np.array((
    "james", "mary", "john", "patricia", "robert", "jennifer", "michael", "linda", "david", "elizabeth", "william",
    "barbara", "richard", "susan", "joseph", "jessica", "thomas", "sarah", "chris", "karen", "daniel", "nancy",
    "matthew", "lisa", "anthony", "betty", "mark", "sandra", "paul", "ashley", "steven", "emily", "andrew",
    "olivia", "josh", "emma", "kevin", "sophia", "brian", "ava", "ryan", "mia", "jacob", "isabella", "luke",
    "chloe", "liam", "grace", "noah", "lucy", "oliver", "hannah", "lukas", "lena", "felix", "anna", "jonas",
    "marie", "leon", "sophie", "hugo", "camille", "louis", "ines", "gabriel", "julia", "mateus", "ana", "pedro",
    "beatriz", "rafael", "larissa", "arjun", "priya", "rahul", "ananya", "vikram", "sneha", "rohan", "pooja",
    "amit", "neha", "diego", "sofia", "carlos", "valeria", "jose", "lucia", "miguel", "elena", "pablo", "carmen",
    "marco", "giulia", "luca", "francesca", "alessandro", "chiara", "chinedu", "ngozi", "emeka", "amaka", "tunde",
    "funke", "juan", "angelo", "kristine", "rizal", "andi", "putri", "budi", "dewi", "agus", "sri", "haruto", "yui",
    "sota", "hina", "ren", "yuna", "kenji", "aiko"
), dtype=object)
_LAST = np.array((
    "smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis", "rodriguez", "martinez",
    "wilson", "anderson", "taylor", "thomas", "moore", "jackson", "martin", "lee", "thompson", "white", "harris",
    "clark", "lewis", "walker", "hall", "allen", "young", "king", "wright", "scott", "green", "baker", "adams",
    "nelson", "hill", "campbell", "mueller", "schmidt", "schneider", "fischer", "weber", "meyer", "wagner",
    "becker", "bernard", "dubois", "durand", "lefebvre", "moreau", "laurent", "silva", "santos", "oliveira",
    "souza", "lima", "pereira", "costa", "sharma", "patel", "singh", "kumar", "gupta", "reddy", "iyer", "nair",
    "hernandez", "lopez", "gonzalez", "perez", "sanchez", "ramirez", "torres", "rossi", "russo", "ferrari",
    "esposito", "bianchi", "romano", "okafor", "adeyemi", "okonkwo", "balogun", "reyes", "cruz", "bautista",
    "ocampo", "santoso", "wijaya", "saputra", "hidayat", "sato", "suzuki", "takahashi", "tanaka", "watanabe", "ito"
), dtype=object)
_NICKS = np.array((
    "sunny", "pixel", "moon", "star", "nova", "blaze", "shadow", "river", "storm", "echo", "lucky", "ginger",
    "maple", "cosmo", "zen", "rocket", "mango", "panda", "tiger", "wolf", "foxy", "jazzy", "kiwi", "neon", "retro",
    "vibe", "lofi"
), dtype=object)
