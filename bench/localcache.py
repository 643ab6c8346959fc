"""The cache of one host without Redis: diskcache (what vmgui uses) against Django's file cache
(what it used before), with N entries already stored.

Usage::

    .venv/bin/python -m bench.localcache [--entries 0,1000,5000,15000] [--runs 300]

Both caches are made in temporary directories, filled with N entries and timed on the calls
the app makes: ``set`` (a version published, a budget counter created), ``get_many`` of three
keys (the principal check), ``incr`` (a REST budget counted). Best of three rounds, µs per call.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import timeit

import django
from django.conf import settings

BACKENDS = {
    "file cache": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "OPTIONS": {"MAX_ENTRIES": 20_000},  # vmgui's former setting
    },
    "diskcache": {
        "BACKEND": "vmgui.hostcache.HostCache",
        "SHARDS": 8,
        "DATABASE_TIMEOUT": 0.05,
        "OPTIONS": {"size_limit": 256 * 2**20},  # vmgui's setting (vmgui/settings.py)
    },
}


def _us(fn, runs: int) -> float:
    return min(timeit.repeat(fn, number=runs, repeat=3)) / runs * 1e6


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", default="0,1000,5000,15000")
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    settings.configure(
        CACHES={
            name: {**conf, "LOCATION": tempfile.mkdtemp(prefix="vmgui-bench-cache-")}
            for name, conf in BACKENDS.items()
        }
        | {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    )
    django.setup()
    from django.core.cache import caches

    print(f"{'entries':>8} {'call':14} {'file cache µs':>14} {'diskcache µs':>13} {'ratio':>7}")
    filled = 0
    for entries in (int(n) for n in args.entries.split(",")):
        for name in BACKENDS:
            caches[name].set_many({f"fill{i}": i for i in range(filled, entries)}, 3600)
        filled = max(filled, entries)
        for label, call in (
            ("set", lambda c: c.set("v", "x", 60)),
            ("get_many(3)", lambda c: c.get_many(["v", "w", "fill1"])),
            ("incr", lambda c: c.incr("v2")),
        ):
            times = {}
            for name in BACKENDS:
                cache = caches[name]
                cache.set("v2", 0, 600)
                times[name] = _us(lambda c=cache, f=call: f(c), args.runs)
            old, new = times["file cache"], times["diskcache"]
            print(
                f"{entries:>8} {label:14} {old:>14.0f} {new:>13.0f} {old / new:>6.1f}x", flush=True
            )


if __name__ == "__main__":
    main()
