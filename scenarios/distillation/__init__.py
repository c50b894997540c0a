"""Distillation family: an AI API provider's signups and usage, with rings harvesting model outputs.

Written apart from the demo generator, with its own rates, sizes and mixes, so that detection is
judged on data it was not designed on. The world is built from *units*: a loner is a unit of one;
a company, university, mobile carrier or household is an honest group; a ring is a unit of fraud
accounts run by one operator. A unit draws the values its members may share (cards, devices, IP
pools, prompt templates, an activity schedule) and each account takes a shared value with a
probability set by its kind, else its own. Honest groups share a great deal on purpose: a rule that
flags every shared card, IP or template flags them too.

Usage rows are hourly buckets per account (``requests`` > 1 where several requests share the hour,
template, IP, model and client), except for the paraphrasing rings, whose rows are single requests,
each with a prompt fingerprint of its own.

Modules, by stage: ``params`` (kinds of accounts, rates, traffic and pools),
``values`` (value tables and formats), ``world`` (units and the values they offer),
``signups``, ``usage``, and ``assemble`` (labels, account ids and the files).
"""

from __future__ import annotations

from .assemble import generate
from .params import FAMILY, IDENTIFIERS, MIN_ACCOUNTS, Params

__all__ = ["FAMILY", "IDENTIFIERS", "MIN_ACCOUNTS", "Params", "generate"]
