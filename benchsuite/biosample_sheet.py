#!/usr/bin/env python3
"""Writes N BioSample-like samples as a seqbank samples sheet (TSV), from the shared bench model.

Usage: biosample_sheet.py N [SHARED_BENCH_DIR]   (default ../shared/bench beside the repository)

The records come from ../shared/bench/biosample_model.py (seed 1000, as gen_biosample_xml.py
uses for shard 0), so the workload is the organism mix, attributes and free text every
benchmark of the project uses. Attributes are written under their harmonized names in the
generic checklist. The model copies real dumps, placeholders and all ('unknown', 'NA'); seqbank
refuses those, so they are written as the INSDC term 'not collected' (also for a missing
collection date or location), 'Missing' as 'missing', and signed coordinates ('42.0 N -80.4 E')
with their hemisphere ('42.0 N 80.4 W'), as a submitter fixing the findings would. Without the
last two fixes, seqbank finds 1,449 errors in the first 10,000 records.
"""
import os
import sys

n = int(sys.argv[1])
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "../../shared/bench"))
from biosample_model import Model  # noqa: E402

def fix_lat_lon(value):
    parts = value.split()
    if len(parts) != 4:
        return value
    lat, lon = float(parts[0]), float(parts[2])
    return f"{abs(lat):.4f} {'S' if lat < 0 else 'N'} {abs(lon):.4f} {'W' if lon < 0 else 'E'}"


PLACEHOLDERS = {"na", "n/a", "n.a.", "none", "null", "nan", "unknown", "-", "--", "?", "tbd", ".", ""}
model = Model(1000)
rows = []
tags = ["collection_date", "geo_loc_name"]
for i in range(n):
    record = model.record(i)
    attrs = {}
    for _name, harmonized, _display, value in record["attributes"]:
        if value.strip().lower() in PLACEHOLDERS:
            value = "not collected"
        elif value.strip().lower() == "missing":
            value = "missing"
        elif harmonized == "lat_lon":
            value = fix_lat_lon(value)
        attrs.setdefault(harmonized, value)
        if harmonized not in tags:
            tags.append(harmonized)
    rows.append((f"bs-{i}", record["title"], record["taxid"], record["organism"], attrs, record["description"] or ""))

clean = lambda s: str(s).replace("\t", " ").replace("\n", " ")  # noqa: E731
out = sys.stdout
out.write("#seqbank:samples\n")
out.write("\t".join(["alias", "title", "description", "taxon_id", "scientific_name", "checklist", *tags]) + "\n")
for alias, title, taxid, organism, attrs, description in rows:
    values = [attrs.get(t, "not collected" if t in ("collection_date", "geo_loc_name") else "") for t in tags]
    out.write("\t".join(clean(v) for v in [alias, title, description, taxid, organism, "generic", *values]) + "\n")
