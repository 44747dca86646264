"""The baseline of bench/api.py: a bare FastAPI endpoint returning the same shape of page."""

from fastapi import FastAPI

app = FastAPI()

ITEMS = [
    {
        "id": f"{i:032x}",
        "estate_id": "0" * 32,
        "building_id": "1" * 32,
        "number": f"{i:03d}",
        "floor": 1,
        "floor_area_m2": "89.36",
        "usage": "residential",
        "created_at": "2026-01-01T00:00:00Z",
    }
    for i in range(20)
]


@app.get("/api/v1/units")
def units() -> dict:
    return {"items": ITEMS, "total": 20, "limit": 20, "offset": 0}
