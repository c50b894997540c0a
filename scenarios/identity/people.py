"""People's values: names, e-mail addresses, mail domains and street addresses.

Names by naming culture, mailbox providers by country, company and campus mail domains, and
addresses in each country's style, with the vocabulary they come from.

Shared by the identity and signup_log families.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .draws import _numerals, _weights, pattern, pick, token, words

_FIRST = {
    "en": words("james mary john patricia robert jennifer michael linda david elizabeth william barbara "
                "richard susan joseph jessica thomas sarah chris karen daniel lisa matthew nancy anthony "
                "betty mark sandra donald ashley steven emily paul kimberly andrew donna joshua michelle "
                "kevin carol brian amanda george melissa tyler olivia ethan emma noah ava liam sophia "
                "mason isabella lucas mia jack chloe harry grace oliver amelia jacob ella ryan megan"),
    "de": words("lukas anna leon lea finn hannah jonas lena paul laura felix julia max sarah elias lisa "
                "jan katharina tim marie niklas sophie moritz johanna david clara tobias emma"),
    "fr": words("lucas camille hugo lea louis manon gabriel chloe arthur emma jules ines nathan sarah "
                "theo julie enzo marie raphael pauline antoine lucie thomas claire maxime laura"),
    "es": words("jose maria juan carmen antonio ana manuel laura francisco lucia david marta javier "
                "sofia carlos elena miguel paula alejandro isabel diego andrea pablo valeria luis"),
    "pt": words("joao maria pedro ana lucas julia gabriel beatriz rafael mariana mateus larissa gustavo "
                "camila felipe fernanda bruno leticia thiago amanda diego bianca"),
    "in": words("aarav priya vivaan ananya aditya diya arjun isha rohan kavya rahul neha amit pooja "
                "vikram sneha sanjay anjali rajesh divya karan meera suresh nisha"),
    "nl": words("daan emma sem julia lucas sophie levi tess finn anna milan sara jesse lotte thijs "
                "fleur bram eva ruben lisa"),
}
_LAST = {
    "en": words("smith johnson williams brown jones garcia miller davis rodriguez martinez wilson anderson "
                "taylor thomas moore jackson martin lee thompson white harris clark lewis robinson walker "
                "young allen king wright scott green baker adams nelson hill campbell mitchell roberts "
                "carter phillips evans turner parker collins edwards stewart morris murphy cook rogers "
                "morgan cooper peterson reed bailey kelly howard ward cox hughes patel nguyen kim chen"),
    "de": words("mueller schmidt schneider fischer weber meyer wagner becker schulz hoffmann koch richter "
                "klein wolf schroeder neumann schwarz zimmermann braun krueger hartmann lange werner"),
    "fr": words("martin bernard dubois thomas robert richard petit durand leroy moreau simon laurent "
                "lefebvre michel garcia david bertrand roux vincent fournier morel girard andre mercier"),
    "es": words("garcia rodriguez gonzalez fernandez lopez martinez sanchez perez gomez martin jimenez "
                "ruiz hernandez diaz moreno alvarez romero alonso gutierrez navarro torres dominguez"),
    "pt": words("silva santos oliveira souza rodrigues ferreira alves pereira lima gomes costa ribeiro "
                "martins carvalho almeida lopes soares fernandes vieira barbosa rocha dias"),
    "in": words("sharma verma gupta singh kumar patel reddy iyer nair rao joshi mehta shah agarwal "
                "chopra malhotra bhat das mukherjee banerjee pillai menon"),
    "nl": words("dejong jansen devries vandenberg vandijk bakker janssen visser smit meijer deboer mulder "
                "degroot bos vos peters hendriks vanleeuwen dekker brouwer"),
}
_HANDLE_WORDS = (words("silent dark crazy happy lucky blue red shadow cool little big wild lazy swift "
                       "frozen golden iron crimson misty sunny cosmic pixel ninja"),
                 words("wolf fox tiger gamer rider panda dragon hawk bear storm star moon knight wizard "
                       "pirate falcon ghost sniper queen king kitty bunny viper"))
_STREETS = {
    "en": words("Baker Elm Oak Maple Cedar Pine Main High Park Church Mill Station Victoria Lake Hill "
                "Washington Lincoln Jefferson Sunset River Forest Meadow Spring Chestnut Willow Grove"),
    "de": words("Haupt Schul Garten Bahnhof Dorf Kirch Berg Wald Linden Ring Feld Rosen Mozart Goethe"),
    "fr": words("Victor-Hugo Pasteur Jean-Jaures Gambetta Voltaire Moliere Nationale Republique Paix Lilas"),
    "es": words("Mayor Real Sol Luna Iglesia Castilla Cervantes Goya Alcala Rosales Jardines Reforma"),
    "pt": words("Augusta Paulista Consolacao Flores Bahia Sergipe Amazonas Brasil Palmeiras Acacias"),
    "in": words("MG Gandhi Nehru Station Temple Lake Park Mall Church Market Tilak Patel"),
    "nl": words("Kerk Dorp School Molen Stations Hoofd Wilhelmina Juliana Nieuwe Oude"),
}
_CITIES = {
    "US": words("Springfield Riverside Franklin Greenville Madison Georgetown Salem Fairview Austin Denver "
                "Columbus Phoenix Portland Houston Chicago Atlanta Boston Seattle"),
    "CA": words("Toronto Montreal Vancouver Calgary Ottawa Edmonton Winnipeg Halifax Victoria Hamilton"),
    "GB": words("London Manchester Birmingham Leeds Glasgow Bristol Liverpool Sheffield Leicester Cardiff"),
    "AU": words("Sydney Melbourne Brisbane Perth Adelaide Canberra Hobart Geelong Newcastle Darwin"),
    "DE": words("Berlin Hamburg Muenchen Koeln Frankfurt Stuttgart Duesseldorf Leipzig Dortmund Bremen"),
    "FR": words("Paris Lyon Marseille Toulouse Nice Nantes Strasbourg Montpellier Bordeaux Lille"),
    "ES": words("Madrid Barcelona Valencia Sevilla Zaragoza Malaga Murcia Bilbao Alicante Cordoba"),
    "MX": words("Guadalajara Monterrey Puebla Tijuana Leon Queretaro Merida Toluca Cancun Chihuahua"),
    "BR": words("Sao-Paulo Rio-de-Janeiro Brasilia Salvador Fortaleza Belo-Horizonte Manaus Curitiba Recife"),
    "IN": words("Mumbai Delhi Bengaluru Hyderabad Chennai Kolkata Pune Ahmedabad Jaipur Lucknow"),
    "NL": words("Amsterdam Rotterdam Utrecht Eindhoven Groningen Tilburg Almere Breda Nijmegen Haarlem"),
}
# Country: name culture, UTC offset (hours), postcode pattern (X digit, N 2-9, L letter),
# mailbox providers ("domain:weight"), top-level domain of local companies.
_COUNTRY = {
    "US": ("en", -6, "NXXXX", ("gmail.com:45 yahoo.com:11 icloud.com:10 outlook.com:8 hotmail.com:6 aol.com:4 "
                               "comcast.net:4 att.net:3 verizon.net:2 sbcglobal.net:2 proton.me:2"), "com"),
    "CA": ("en", -5, "LXL XLX", ("gmail.com:45 hotmail.com:14 outlook.com:10 yahoo.ca:8 icloud.com:8 shaw.ca:4 "
                                 "rogers.com:4 videotron.ca:2"), "ca"),
    "GB": ("en", 0, "LLX XLL", ("gmail.com:38 hotmail.co.uk:14 outlook.com:10 yahoo.co.uk:8 icloud.com:9 "
                                "btinternet.com:6 sky.com:4 live.co.uk:4 aol.co.uk:2"), "co.uk"),
    "AU": ("en", 10, "NXXX", ("gmail.com:42 outlook.com:12 hotmail.com:12 bigpond.com:8 icloud.com:10 "
                              "yahoo.com.au:6 optusnet.com.au:3"), "com.au"),
    "DE": ("de", 1, "XXXXX", ("gmail.com:25 gmx.de:22 web.de:20 t-online.de:10 outlook.de:6 yahoo.de:5 "
                              "freenet.de:4 posteo.de:2"), "de"),
    "FR": ("fr", 1, "NXXXX", ("gmail.com:40 orange.fr:14 hotmail.fr:12 free.fr:8 laposte.net:6 sfr.fr:6 "
                              "yahoo.fr:6 outlook.fr:4"), "fr"),
    "ES": ("es", 1, "NXXXX", ("gmail.com:50 hotmail.com:18 hotmail.es:8 yahoo.es:8 outlook.es:8 "
                              "telefonica.net:3"), "es"),
    "MX": ("es", -6, "NXXXX", "gmail.com:50 hotmail.com:25 outlook.com:10 yahoo.com.mx:10 live.com.mx:3",
           "com.mx"),
    "BR": ("pt", -3, "NXXXX-XXX", ("gmail.com:55 hotmail.com:18 outlook.com:8 yahoo.com.br:8 uol.com.br:4 "
                                   "bol.com.br:3"), "com.br"),
    "IN": ("in", 5.5, "NXXXXX", "gmail.com:72 yahoo.co.in:8 rediffmail.com:6 outlook.com:6 hotmail.com:4", "in"),
    "NL": ("nl", 1, "NXXX LL", "gmail.com:40 hotmail.nl:18 outlook.com:10 ziggo.nl:8 kpnmail.nl:6 live.nl:5",
           "nl"),
}
_COMPANY = words("group partners logistics health systems labs consulting capital foods media legal works")


def names(rng, countries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last names from each account's country's naming culture."""
    first, last = np.empty(len(countries), dtype=object), np.empty(len(countries), dtype=object)
    cultures = np.asarray([_COUNTRY[c][0] for c in countries], dtype=object)
    for culture, given in _FIRST.items():
        at = np.flatnonzero(cultures == culture)
        first[at], last[at] = pick(rng, given, len(at)), pick(rng, _LAST[culture], len(at))
    return first, last


def email_locals(rng, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Local parts people make from their names, and handles that say nothing about them."""
    n = len(first)
    year = rng.integers(1950, 2008, size=n).astype(str).astype(object)
    short = np.asarray([y[2:] for y in year], dtype=object)
    digits = token(rng, n, 3, "0123456789")
    initial = np.asarray([f[:1] for f in first], dtype=object)
    last_initial = np.asarray([s[:1] for s in last], dtype=object)
    adjective, noun = pick(rng, _HANDLE_WORDS[0], n), pick(rng, _HANDLE_WORDS[1], n)
    styles = [(first + "." + last, 18), (first + last, 14), (first + "." + last + short, 10),
              (first + last + digits, 9), (initial + last, 10), (first + "_" + last, 5), (first + year, 7),
              (last + "." + first, 5), (first + last_initial, 3), (adjective + noun + short, 8),
              (initial + "." + last + short, 5), (first + "." + last + "." + digits, 6)]
    weights = np.asarray([w for _, w in styles], dtype=float)
    choice = rng.choice(len(styles), size=n, p=weights / weights.sum())
    out = np.empty(n, dtype=object)
    for k, (values, _) in enumerate(styles):
        out[choice == k] = values[choice == k]
    return out


def providers(rng, countries: np.ndarray) -> np.ndarray:
    """A mailbox provider per account, as popular as each is in the account's country."""
    out = np.empty(len(countries), dtype=object)
    for code in np.unique(countries):
        at = np.flatnonzero(countries == code)
        domains, p = _weights(_COUNTRY[code][3])
        out[at] = pick(rng, domains, len(at), p)
    return out


def _mailbox(email: str) -> str:
    """The mailbox an address reaches: +tags dropped, and at Gmail the dots too."""
    local, _, domain = email.partition("@")
    local = local.partition("+")[0]
    return (local.replace(".", "") if domain == "gmail.com" else local) + "@" + domain


def unique_emails(rng, emails: np.ndarray) -> np.ndarray:
    """Later holders of a mailbox already taken get a numeric suffix, as sign-up pages make people do."""
    emails = emails.copy()
    for _ in range(8):
        at = np.flatnonzero(pd.Series([_mailbox(e) for e in emails]).duplicated().to_numpy())
        if len(at) == 0:
            break
        suffix = token(rng, len(at), 2, "0123456789")
        emails[at] = [e.replace("@", s + "@", 1) for e, s in zip(emails[at], suffix)]
    return emails


def dotted(rng, emails: np.ndarray) -> np.ndarray:
    """The same addresses with a dot put into the local part (Gmail delivers them all alike)."""
    out = []
    for email, r in zip(emails, rng.random(len(emails))):
        local, domain = email.split("@", 1)
        cut = 1 + int(r * max(len(local) - 1, 1))
        out.append(f"{local[:cut]}.{local[cut:]}@{domain}".replace("..", "."))
    return np.asarray(out, dtype=object)


def company_domain(rng, country: str) -> str:
    """A company's own mail domain ("mitchellgroup.co.uk")."""
    return rng.choice(_LAST[_COUNTRY[country][0]]) + rng.choice(_COMPANY) + "." + _COUNTRY[country][4]


def campus_domain(rng, country: str) -> str:
    """A university's student mail domain ("student.denveru.edu")."""
    tld = "edu" if country == "US" else _COUNTRY[country][4]
    return "student." + rng.choice(_CITIES[country]).lower() + "u." + tld


def addresses(rng, countries: np.ndarray) -> np.ndarray:
    """Normalised street addresses ("12 Baker St, Springfield 01234") in each country's style."""
    out = np.empty(len(countries), dtype=object)
    number = _numerals(10, 2000)[np.minimum(rng.geometric(0.012, size=len(countries)), 1999)]
    for code in np.unique(countries):
        at = np.flatnonzero(countries == code)
        culture, postcode = _COUNTRY[code][0], _COUNTRY[code][2]
        street, city = pick(rng, _STREETS[culture], len(at)), pick(rng, _CITIES[code], len(at))
        zipc, num = pattern(rng, len(at), postcode), number[at]
        if culture == "en":
            kind = pick(rng, words("St Ave Rd Dr Ln Way Ct Pl Blvd"), len(at))
            out[at] = num + " " + street + " " + kind + ", " + city + " " + zipc
        elif culture in ("de", "nl"):
            kind = pick(rng, words("str. weg allee" if culture == "de" else "straat laan weg"), len(at))
            out[at] = street + kind + " " + num + ", " + zipc + " " + city
        elif culture == "fr":
            kind = pick(rng, words("rue avenue boulevard"), len(at))
            out[at] = num + " " + kind + " " + street + ", " + zipc + " " + city
        elif culture in ("es", "pt"):
            kind = pick(rng, words("Calle Avenida" if culture == "es" else "Rua Avenida"), len(at))
            out[at] = kind + " " + street + " " + num + ", " + zipc + " " + city
        else:
            out[at] = num + " " + street + " Road, " + city + " " + zipc
    return out
