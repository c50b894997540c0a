"""A social platform as a scenario family: posts, replies, reposts and likes, with ground truth.

How the platform maps onto the data contract:

- signups: one row per account: email, phone, signup IP, device, client, a payment token
  for premium subscribers, country. No ``org_id``: the platform has no workspaces.
- usage: one row per post, reply, repost or like. ``ts`` is when it went out;
  ``prompt_fingerprint`` the hash of the normalised text (for a like or repost, of the item
  liked or shared, so everyone sharing one item shares its fingerprint); ``input_tokens``
  the length of what the account wrote (0 for a like), ``output_tokens`` the length of the
  item replied to or shared; ``requests`` how often the same text went out in that minute
  (fans repeat chants); ``model`` the client surface (ios, android, web, mobile_web);
  ``ip`` and ``user_agent`` the client's.

The honest world: loners; households behind one home IP, some signing up on a family
device; people running a second account from their own phone (``multi_account``); fan
communities chanting the same lines on match nights; campuses and offices behind a few
NAT addresses with their own mail domain (students sign up on shared lab machines);
everyone on mobile data behind carrier CGNAT pools; everyone on the official app's few
user agents (some gamers on Android emulators), reposting the same popular items and
writing the same short replies. Breaking news makes thousands post one link within an
hour (``news_poster``); viral challenges spread one caption over days (``challenge``).

Fraud, in rings of 3 to a few hundred accounts:

- sockpuppet: phone farms of a few devices (emulators, or one bulk-bought phone model),
  accounts created in batches, copy-paste templates posted in coordinated bursts from the
  farm's IPs (a datacenter /24, or 4G modems inside a carrier's CGNAT pool);
- amplifier: automated likes and reposts of popular items (the fingerprints of organic
  sharing) and of the ring's own seed posts, minutes apart; easy rings share one pinned
  browser build, a few browser profiles and datacenter proxies, hard ones look like
  ordinary clients behind residential proxies;
- slow_ring: aged, distinct accounts and devices behind residential proxies, posting
  lightly varied text (near-unique fingerprints) in scheduled waves: timing is the tell.

Sizes follow a power law (``SocialParams``); about a third of sockpuppet and amplifier
rings are "hard" (real phones on carrier IPs and edited copies, or ordinary clients on
residential proxies), and every slow ring is. The window is the four weeks before ``END``.

Modules, by stage: ``params`` (name, window, kinds of account, ``SocialParams``),
``tables`` (countries, address blocks, names), ``clients`` (surfaces and user agents),
``draws`` (random text, ids, addresses and sizes), ``timing`` (daily profiles),
``population`` (who is in which ring or group), ``networks`` (IP space, and the address of
each signup and row), ``accounts``, ``identities`` (e-mail, phone, payment), ``content``
(usage rows and what everyone shares), ``honest`` and ``fraud`` activity, and ``assemble``
(labels, account ids and the files).
"""

from __future__ import annotations

from .assemble import generate
from .params import END, FAMILY, IDENTIFIERS, KINDS, MIN_ACCOUNTS, WINDOW_DAYS, SocialParams

__all__ = ["END", "FAMILY", "IDENTIFIERS", "KINDS", "MIN_ACCOUNTS", "WINDOW_DAYS", "SocialParams", "generate"]
