#!/usr/bin/env python3
"""Writes seqbank's INSDC vocabularies from the SRA XML schemas.

Usage: python3 make.py [SCHEMA_DIR]   (default ../../../../shared/corpora/insdc-xml/schema)

The outputs are committed: a seqbank binary embeds them and never needs the schemas.
"""
import os
import sys
import xml.etree.ElementTree as ET

XS = "{http://www.w3.org/2001/XMLSchema}"
here = os.path.dirname(os.path.abspath(__file__))
schema_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "../../../../shared/corpora/insdc-xml/schema")


def enums(root):
    out = {}
    for simple in root.iter(XS + "simpleType"):
        name = simple.get("name")
        if name:
            out[name] = [e.get("value") for e in simple.iter(XS + "enumeration")]
    return out


common = ET.parse(os.path.join(schema_dir, "SRA.common.xsd")).getroot()
experiment = ET.parse(os.path.join(schema_dir, "SRA.experiment.xsd")).getroot()
types = {**enums(common), **enums(experiment)}

for key, name in [("typeLibraryStrategy", "library_strategy"), ("typeLibrarySource", "library_source"),
                  ("typeLibrarySelection", "library_selection")]:
    with open(os.path.join(here, name + ".txt"), "w") as out:
        out.write("\n".join(types[key]) + "\n")

# Platforms are the children of PlatformType; each names the enumeration of its instrument models.
rows = []
for complex_type in common.iter(XS + "complexType"):
    if complex_type.get("name") != "PlatformType":
        continue
    for platform in complex_type.find(XS + "choice").findall(XS + "element"):
        for model in platform.iter(XS + "element"):
            if model.get("name") == "INSTRUMENT_MODEL":
                for value in types[model.get("type").split(":")[1]]:
                    rows.append(f"{platform.get('name')}\t{value}")
with open(os.path.join(here, "instrument_model.tsv"), "w") as out:
    out.write("\n".join(rows) + "\n")
