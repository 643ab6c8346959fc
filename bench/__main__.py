"""``python -m bench``: run every benchmark that exists, one after another."""

from __future__ import annotations

import importlib
import pkgutil

import bench

ORDER = ["getvoipcalls", "sqlphp_total", "media", "metrics", "rest", "hostile", "reports"]


def main() -> None:
    present = {m.name for m in pkgutil.iter_modules(bench.__path__)}
    for name in ORDER:
        if name in present:
            print(f"\n=== bench.{name} ===", flush=True)
            importlib.import_module(f"bench.{name}").main()


if __name__ == "__main__":
    main()
