"""Phone numbers as people write them, from each country's numbering plans.

E.164, +CC with spaces or a national layout; fictional and test ranges where a country has one.
"""

from __future__ import annotations

import numpy as np

from .draws import pattern, pick, words


# Country: calling code, trunk prefix, [(prefixes, rest of the number, weight, national layouts)],
# fictional or test range (prefixes, rest) or None. A layout writes the national number one digit
# per # (an underscore is a space). Test ranges: NANP 555-01XX, Ofcom's drama numbers, ACMA's
# fictional 0491 570, ARCEP's 06 39 98.
_PHONE_PLANS = {
    "US": ("1", "", [(("201 202 206 212 213 214 303 305 310 312 404 415 469 480 503 512 602 617 646 702 713 "
                       "718 720 773 786 813 818 832 917 919 949 972"), "NXXXXXX", 1,
                      "(###)_###-#### ###-###-#### ###.###.#### ##########")],
           ("212 312 415 617 713 818", "55501XX")),
    "CA": ("1", "", [("403 416 438 514 587 604 613 647 780 905", "NXXXXXX", 1,
                      "(###)_###-#### ###-###-#### ##########")], ("416 604", "55501XX")),
    "GB": ("44", "0", [("074 075 077 078 079", "XXXXXXXX", 0.85, "#####_###### ###########"),
                       ("0207 0208 0203 0161 0121", "XXXXXXX", 0.15, "###_####_#### ###########")],
           ("07700", "900XXX")),
    "DE": ("49", "0", [("0151 0152 0157 0176 0177", "XXXXXXXX", 0.5, "####_######## ####/######## ############"),
                       ("0160 0170 0171 0172", "XXXXXXX", 0.3, "####_####### ###########"),
                       ("030 040 089", "NXXXXXXX", 0.2, "###_######## ###/########")], None),
    "FR": ("33", "0", [("06", "XXXXXXXX", 0.65, "##_##_##_##_## ########## ##.##.##.##.##"),
                       ("07", "NXXXXXXX", 0.15, "##_##_##_##_## ##########"),
                       ("01 02 03 04 05", "XXXXXXXX", 0.2, "##_##_##_##_## ##########")], ("0639", "98XXXX")),
    "ES": ("34", "", [("6", "XXXXXXXX", 0.85, "###_###_### ######### ###_##_##_##"),
                      ("91 93", "XXXXXXX", 0.15, "##_###_##_## #########")], None),
    "MX": ("52", "", [("55 33 81", "XXXXXXXX", 1, "##_####_#### ##########")], None),
    "BR": ("55", "", [("11 21 31 41 51 61 71 81", "9XXXXXXXX", 1, "(##)_#####-#### ########### ##_#####-####")],
           None),
    "IN": ("91", "", [("98 99 97 96 95 94 93 91 90 88 87 86 85 84 83 82 81 80 79 78 77 76 75 74 73 72 70 63 62",
                       "XXXXXXXX", 1, "#####-##### ########## #####_#####")], None),
    "AU": ("61", "0", [("040 041 042 043 044 045 046 047 048", "XXXXXXX", 0.9, "####_###_### ##########"),
                       ("029 038", "XXXXXXX", 0.1, "##_####_#### ##########")], ("0491570", "XXX")),
    "NL": ("31", "0", [("061 062 063 064 065", "XXXXXXX", 0.9, "##-######## ##_##_##_##_## ##########"),
                       ("020 010", "NXXXXXX", 0.1, "###-####### ##########")], None),
}


def phones(rng, countries: np.ndarray, fictional: np.ndarray, international: np.ndarray) -> np.ndarray:
    """Phone numbers as people write them: E.164, +CC with spaces, or a national layout.

    `fictional` rows take the country's fictional or test range where it has one;
    `international` rows are written with their country code.
    """
    out = np.empty(len(countries), dtype=object)
    style = rng.random(len(countries))
    for code in np.unique(countries):
        cc, trunk, plans, test_range = _PHONE_PLANS[code]
        at = np.flatnonzero(countries == code)
        p = np.asarray([plan[2] for plan in plans], dtype=float)
        plan_of = rng.choice(len(plans), size=len(at), p=p / p.sum())
        for k, (prefixes, rest, _, layouts) in enumerate(plans):
            rows = at[plan_of == k]
            if test_range is not None:
                _write_numbers(rng, out, rows[fictional[rows]], *test_range, cc, trunk, layouts, style,
                               international)
                rows = rows[~fictional[rows]]
            _write_numbers(rng, out, rows, prefixes, rest, cc, trunk, layouts, style, international)
    return out


def _write_numbers(rng, out, rows, prefixes, rest, cc, trunk, layouts, style, international) -> None:
    if len(rows) == 0:
        return
    national = pick(rng, words(prefixes), len(rows)) + pattern(rng, len(rows), rest)
    e164 = "+" + cc + np.asarray([s[len(trunk):] for s in national], dtype=object)
    layouts = [layout.replace("_", " ") for layout in layouts.split()]
    written = np.empty(len(rows), dtype=object)
    choice = rng.integers(0, len(layouts), size=len(rows))
    for k, layout in enumerate(layouts):
        at = np.flatnonzero(choice == k)
        written[at] = _lay_out(layout, national[at])
    spaced = "+" + cc + " " + np.asarray([w[len(trunk):] for w in written], dtype=object)
    s, local_ok = style[rows], ~international[rows]
    out[rows] = np.where(s < 0.3, e164, np.where((s < 0.45) | ~local_ok, spaced, written))


def _lay_out(layout: str, digits: np.ndarray) -> np.ndarray:
    """Equal-length digit strings written into `layout`, one digit per #."""
    if len(digits) == 0:
        return np.empty(0, dtype=object)
    width = len(digits[0])
    source = np.asarray(digits.astype(str), dtype=f"S{width}").view(np.uint8).reshape(-1, width)
    out = np.repeat(np.frombuffer(layout.encode(), dtype=np.uint8)[None, :], len(digits), axis=0)
    out[:, [i for i, c in enumerate(layout) if c == "#"]] = source
    return out.view(f"S{len(layout)}").ravel().astype(str).astype(object)
