"""Draw the schematic county map of 运城市 (示意图) shipped in src/hotline/web/static/maps/yuncheng.json.

No county boundaries with a licence that allows shipping them were found in the package registries
this project can reach, so the map is the project's own drawing: a rough outline of the city (the
Yellow River on the west and south, the 中条山/太岳 side on the east and north) cut into Voronoi
cells around an approximate centre of each county. It shows where each county lies and which are
neighbours; it is not a survey map and must stay labelled 示意图 wherever it is shown.

    python docs/maps/yuncheng_schematic.py   # rewrites the JSON (deterministic)
"""

from __future__ import annotations

import json
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "src" / "hotline" / "web" / "static" / "maps" / "yuncheng.json"

# A rough outline of 运城市 (longitude, latitude), clockwise from the north-west corner near 河津.
OUTLINE = [
    (110.58, 35.75), (110.90, 35.73), (111.20, 35.72), (111.45, 35.66), (111.75, 35.58), (112.05, 35.42),
    (112.05, 35.10), (111.80, 34.98), (111.45, 34.82), (111.10, 34.75), (110.80, 34.62), (110.40, 34.58),
    (110.25, 34.66), (110.35, 34.95), (110.45, 35.20), (110.50, 35.45),
]

# (code, name, approximate centre of the county: longitude, latitude)
COUNTIES = [
    ("140802", "盐湖区", 110.98, 35.00), ("140821", "临猗县", 110.72, 35.15), ("140822", "万荣县", 110.72, 35.38),
    ("140823", "闻喜县", 111.28, 35.36), ("140824", "稷山县", 110.95, 35.56), ("140825", "新绛县", 111.20, 35.60),
    ("140826", "绛县", 111.55, 35.47), ("140827", "垣曲县", 111.85, 35.20), ("140828", "夏县", 111.30, 35.12),
    ("140829", "平陆县", 111.30, 34.88), ("140830", "芮城县", 110.65, 34.72), ("140881", "永济市", 110.40, 34.90),
    ("140882", "河津市", 110.65, 35.63),
]

Point = tuple[float, float]


def _clip(polygon: list[Point], a: Point, b: Point) -> list[Point]:
    """Keep the part of ``polygon`` nearer to ``a`` than to ``b`` (one Sutherland–Hodgman step
    against their perpendicular bisector)."""
    mx, my = (a[0] + b[0]) / 2, (a[1] + b[1]) / 2
    nx, ny = b[0] - a[0], b[1] - a[1]

    def side(p: Point) -> float:  # < 0 on a's side
        return (p[0] - mx) * nx + (p[1] - my) * ny

    out: list[Point] = []
    for i, p in enumerate(polygon):
        q = polygon[(i + 1) % len(polygon)]
        sp, sq = side(p), side(q)
        if sp <= 0:
            out.append(p)
        if (sp < 0 < sq) or (sq < 0 < sp):
            t = sp / (sp - sq)
            out.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
    return out


def cells() -> dict:
    features = []
    for code, name, x, y in COUNTIES:
        ring = list(OUTLINE)
        for other, _, ox, oy in COUNTIES:
            if other != code:
                ring = _clip(ring, (x, y), (ox, oy))
        ring = [(round(px, 4), round(py, 4)) for px, py in ring]
        ring.reverse()  # counter-clockwise outer ring (RFC 7946)
        features.append({"type": "Feature", "id": code,
                         "properties": {"name": name, "code": code, "cp": [x, y]},
                         "geometry": {"type": "Polygon", "coordinates": [[*map(list, ring), list(ring[0])]]}})
    return {"type": "FeatureCollection", "name": "运城市县级行政区示意图",
            "license": "same as the hotline project; a schematic drawn by the project, not a survey map",
            "features": features}


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(cells(), ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")
