#!/usr/bin/env python3
"""Writes docs/openapi.json, the OpenAPI 3.1 document of seqbank's REST API.

Run from the repository root after changing the API: python3 docs/api/make_openapi.py
A test checks that every path and method here is routed by the server.
"""
import json

def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}

def body(schema, content_type="application/json"):
    return {"required": True, "content": {content_type: {"schema": schema}}}

def ok(description, schema=None, status="200", content_type="application/json"):
    response = {"description": description}
    if schema is not None:
        response["content"] = {content_type: {"schema": schema}}
    return {status: response}

ERRORS = {
    "400": {"$ref": "#/components/responses/BadRequest"},
    "401": {"$ref": "#/components/responses/Unauthenticated"},
    "403": {"$ref": "#/components/responses/Forbidden"},
    "404": {"$ref": "#/components/responses/NotFound"},
    "409": {"$ref": "#/components/responses/Conflict"},
    "422": {"$ref": "#/components/responses/Invalid"},
    "410": {"$ref": "#/components/responses/Gone"},
    "412": {"$ref": "#/components/responses/PreconditionFailed"},
    "413": {"$ref": "#/components/responses/TooLarge"},
    "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
    "460": {"$ref": "#/components/responses/ChecksumMismatch"},
    "503": {"$ref": "#/components/responses/Unavailable"},
}

def op(summary, responses, tag, request=None, params=(), description=None, errors=("400", "401", "403", "404", "409", "422")):
    operation = {"summary": summary, "tags": [tag], "responses": {**responses, **{e: ERRORS[e] for e in errors}}}
    if description:
        operation["description"] = description
    if request:
        operation["requestBody"] = request
    if params:
        operation["parameters"] = list(params)
    return operation

def param(name, where, schema, description, required=None):
    p = {"name": name, "in": where, "schema": schema, "description": description}
    if where == "path" or required:
        p["required"] = True
    return p

ID = param("id", "path", {"type": "integer"}, "Submission id.")
KIND = param("kind", "path", {"type": "string", "enum": ["projects", "samples", "experiments", "runs"]}, "Object kind.")
KEY = param("key", "path", {"type": "string"}, "Accession (e.g. SAMSB000001) or row id.")
NAME = param("name", "path", {"type": "string"}, "Checklist name: generic, human, microbe, plant, environmental.")
PAGE = [param("after", "query", {"type": "integer"}, "Return items after this id (the previous page's next_after)."),
        param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}, "Page size.")]
STATUS = param("status", "query", {"type": "string"}, "Only these states, comma-separated: draft, submitted, in_review, returned, approved, private, public, suppressed, withdrawn.")
UPLOAD = param("upload", "path", {"type": "string"}, "Upload id (from the Location of its creation).")
REASON = body({"type": "object", "properties": {"reason": {"type": "string"}}, "additionalProperties": False})

paths = {
    "/api/v1/openapi.json": {"get": op("This document", ok("OpenAPI 3.1 document", {"type": "object"}), "meta", errors=())},
    "/api/v1/auth/token": {"post": op("Sign in with a password; returns a new API token", ok("Token", {"type": "object", "properties": {"token": {"type": "string"}}}, "201"), "users",
        body({"type": "object", "required": ["name", "password"], "properties": {"name": {"type": "string"}, "password": {"type": "string"}}, "additionalProperties": False}), errors=("400", "401"))},
    "/api/v1/me": {"get": op("The signed-in user", ok("User", ref("User")), "users", errors=("401",))},
    "/api/v1/users": {
        "get": op("List users (admins)", ok("Users", {"type": "object", "properties": {"items": {"type": "array", "items": ref("User")}}}), "users", errors=("401", "403")),
        "post": op("Create a user (admins); returns its first API token, shown only once", ok("User and token", {"type": "object", "properties": {"user": ref("User"), "token": {"type": "string"}}}, "201"), "users",
            body({"type": "object", "required": ["name", "role"], "properties": {"name": {"type": "string"}, "role": {"enum": ["submitter", "curator", "admin"]}, "password": {"type": "string", "minLength": 8}}, "additionalProperties": False}), errors=("400", "401", "403", "409")),
    },
    "/api/v1/checklists": {"get": op("Sample checklists", ok("Checklists", {"type": "object", "properties": {"items": {"type": "array", "items": ref("Checklist")}}}), "checklists", errors=())},
    "/api/v1/checklists/{name}": {"get": op("One checklist", ok("Checklist", ref("Checklist")), "checklists", params=[NAME], errors=("404",))},
    "/api/v1/checklists/{name}/template": {"get": op("Spreadsheet template for a checklist", {"200": {"description": "Template", "content": {
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": {"type": "string", "format": "binary"}},
            "text/tab-separated-values": {"schema": {"type": "string"}}}}}, "checklists",
        params=[NAME, param("format", "query", {"enum": ["xlsx", "tsv"], "default": "xlsx"}, "Workbook with projects/samples/experiments/runs sheets, or one TSV sheet."),
                param("sheet", "query", {"enum": ["projects", "samples", "experiments", "runs"], "default": "samples"}, "Sheet of a TSV template.")], errors=("400", "404"))},
    "/api/v1/submissions": {
        "get": op("List submissions: your own, or all for curators", ok("Page of submissions", {"type": "object", "properties": {"items": {"type": "array", "items": ref("Submission")}, "next_after": {"type": ["integer", "null"]}}}), "submissions", params=[STATUS, *PAGE], errors=("400", "401")),
        "post": op("Create a draft submission", ok("Submission", ref("Submission"), "201"), "submissions", body(ref("NewSubmission")), errors=("400", "401", "409", "422")),
    },
    "/api/v1/submissions/{id}": {
        "get": op("A submission with its last findings and object counts", ok("Submission", ref("Submission")), "submissions", params=[ID]),
        "patch": op("Change a submission's title or release date (null clears it): the owner while it is a draft or returned, a curator while it is submitted or in review", ok("Submission", ref("Submission")), "submissions",
            body({"type": "object", "properties": {"title": {"type": "string"}, "hold_until": {"type": ["string", "null"], "format": "date"}}, "additionalProperties": False}), params=[ID]),
    },
    "/api/v1/submissions/{id}/history": {"get": op("Recorded transitions: who, when, why", ok("Events", {"type": "object", "properties": {"events": {"type": "array", "items": ref("Event")}}}), "submissions", params=[ID])},
    "/api/v1/submissions/{id}/objects": {"post": op("Add objects from a JSON batch document; all or none", ok("Added, with warnings", ref("Added"), "201"), "submissions", body(ref("Batch")), params=[ID],
        description="Errors about values given (vocabulary, references, formats) refuse the whole batch with 422 and the field path of each; missing mandatory values are accepted into the draft and block submit.")},
    "/api/v1/submissions/{id}/spreadsheet": {"post": op("Add objects from a TSV sheet or an XLSX workbook; errors name the cell (samples!D7)", ok("Added", ref("Added"), "201"), "submissions",
        {"required": True, "content": {"text/tab-separated-values": {"schema": {"type": "string"}}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": {"type": "string", "format": "binary"}}}},
        params=[ID, param("sheet", "query", {"enum": ["projects", "samples", "experiments", "runs"]}, "Sheet of a TSV file without a '#seqbank:SHEET' first line."),
                param("format", "query", {"enum": ["tsv", "xlsx"]}, "Overrides detection by content.")])},
    "/api/v1/submissions/{id}/xml": {"post": op("Add objects from INSDC SRA XML (PROJECT, STUDY, SAMPLE, EXPERIMENT, RUN, SUBMISSION or their _SET)", ok("Added", ref("Added"), "201"), "submissions",
        {"required": True, "content": {"application/xml": {"schema": {"type": "string"}}}}, params=[ID])},
    "/api/v1/submissions/{id}/validate": {"post": op("Dry run: every check, nothing changed", ok("Findings", {"type": "object", "properties": {"valid": {"type": "boolean"}, "findings": {"type": "array", "items": ref("Finding")}}}), "submissions", params=[ID])},
    "/api/v1/submissions/{id}/submit": {"post": op("Submit: frozen, checked, then in_review or returned with findings", ok("Submission", ref("Submission")), "submissions", params=[ID])},
    "/api/v1/submissions/{id}/return": {"post": op("Return to the submitter with a comment (curators)", ok("Submission", ref("Submission")), "review", REASON, params=[ID])},
    "/api/v1/submissions/{id}/approve": {"post": op("Approve (curators): accessions assigned; objects private until the hold date, or public", ok("Submission", ref("Submission")), "review", REASON, params=[ID])},
    "/api/v1/{kind}": {
        "get": op("List objects you may see", ok("Page of objects", {"type": "object", "properties": {"items": {"type": "array", "items": ref("Object")}, "next_after": {"type": ["integer", "null"]}}}), "objects",
            params=[KIND, STATUS, param("submission", "query", {"type": "integer"}, "Only objects of this submission."), param("mine", "query", {"type": "boolean"}, "Only your own."), *PAGE]),
        "post": op("Add one object to a draft submission", ok("Added", ref("Added"), "201"), "objects", body({"type": "object"}), params=[KIND, param("submission", "query", {"type": "integer"}, "Draft submission id.", True)]),
    },
    "/api/v1/{kind}/{key}": {
        "get": op("One object; private ones are 404 to those who may not see them; suppressed and withdrawn ones resolve to a tombstone. An accession this center does not hold is looked up in the mirror of NCBI/INSDC records (also for analyses and assemblies; the answer has mirrored: true). format=xml gives INSDC XML: generated for released local records (409 for others), the dump's own text for mirrored ones", ok("Object", ref("Object")), "objects",
            params=[KIND, KEY, param("format", "query", {"enum": ["json", "xml"]}, "Answer format.")], errors=("400", "401", "404", "409")),
        "put": op("Replace an object's metadata: in place in a draft, as a new version once accessioned", ok("Object", ref("Object")), "objects", body({"type": "object"}),
            params=[KIND, KEY, param("reason", "query", {"type": "string"}, "Why (kept in the history).")]),
    },
    "/api/v1/{kind}/{key}/history": {"get": op("Recorded changes and earlier versions", ok("History", {"type": "object", "properties": {"events": {"type": "array", "items": ref("Event")}, "versions": {"type": "array", "items": {"type": "object"}}}}), "objects", params=[KIND, KEY])},
    "/api/v1/{kind}/{key}/release": {"post": op("Release now, with what it refers to; cascade=true also releases what refers to it. Curators restore suppressed records.", ok("Object", ref("Object")), "objects",
        params=[KIND, KEY, param("cascade", "query", {"type": "boolean", "default": False}, "Also release the private objects that refer to this one.")])},
    "/api/v1/{kind}/{key}/suppress": {"post": op("Suppress (curators): hidden from listings, the accession resolves to a tombstone", ok("Object", ref("Object")), "review", REASON, params=[KIND, KEY])},
    "/api/v1/{kind}/{key}/withdraw": {"post": op("Withdraw (curators): a permanent tombstone", ok("Object", ref("Object")), "review", REASON, params=[KIND, KEY])},
    "/api/v1/{kind}/{key}/files": {"get": op("A run's files: size, MD5, SHA-256, validation report, download path once archived", ok("Files", {"type": "object", "properties": {"items": {"type": "array", "items": ref("File")}}}), "files", params=[KIND, KEY])},
    "/api/v1/uploads": {
        "options": op("tus 1.0 discovery: Tus-Version, Tus-Extension (creation, checksum, termination, expiration), Tus-Max-Size, Tus-Checksum-Algorithm", {"204": {"description": "Capabilities in headers"}}, "files", errors=()),
        "post": op("tus creation: start a resumable upload of one declared file of a run", ok("Upload; Location names it", ref("Upload"), "201"), "files",
            params=[param("Tus-Resumable", "header", {"const": "1.0.0"}, "Protocol version.", True), param("Upload-Length", "header", {"type": "integer"}, "File length in bytes.", True),
                    param("Upload-Metadata", "header", {"type": "string"}, "Comma-separated 'key base64value': filename (as declared in the run) and run (alias, accession or id).", True)],
            errors=("400", "401", "404", "409", "412", "413", "503")),
        "get": op("Your uploads, newest first", ok("Uploads", {"type": "object", "properties": {"items": {"type": "array", "items": ref("Upload")}}}), "files", errors=("401",)),
    },
    "/api/v1/uploads/{upload}": {
        "head": op("tus: the upload's offset (Upload-Offset, Upload-Length, Upload-Expires)", {"200": {"description": "Offset in headers"}}, "files", params=[UPLOAD], errors=("401", "404", "410", "412")),
        "patch": op("tus: append bytes at Upload-Offset (Content-Type: application/offset+octet-stream; optional Upload-Checksum md5|sha1|sha256, 460 when it does not match)", {"204": {"description": "New Upload-Offset in headers"}}, "files",
            {"required": True, "content": {"application/offset+octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
            params=[UPLOAD, param("Upload-Offset", "header", {"type": "integer"}, "Where these bytes start; must be the upload's offset.", True)], errors=("400", "401", "404", "409", "410", "412", "415", "460", "503")),
        "delete": op("tus termination: cancel and discard", {"204": {"description": "Cancelled"}}, "files", params=[UPLOAD], errors=("401", "404", "409")),
        "get": op("An upload with its validation job's progress and, once validated, the file's checksums, stats and findings", ok("Upload", ref("Upload")), "files", params=[UPLOAD], errors=("401", "404")),
    },
    "/api/v1/jobs": {"get": op("Background jobs, newest first (curators)", ok("Jobs", {"type": "object", "properties": {"items": {"type": "array", "items": ref("Job")}}}), "files",
        params=[param("kind", "query", {"enum": ["validate_run", "archive_submission", "release_due", "expire_uploads", "audit"]}, "Only this kind."), param("subject", "query", {"type": "integer"}, "Only jobs about this run or submission id.")], errors=("401", "403"))},
    "/api/v1/mirror": {"get": op("The mirror of NCBI/INSDC public metadata: records per type and the latest imports (source, file, dump date, state, position, imported, updated, unchanged, skipped, kept as this center's own, first problems, error)", ok("Mirror", {"type": "object", "properties": {"records": {"type": "object"}, "imports": {"type": "array", "items": {"type": "object"}}}}), "search", errors=())},
    "/api/v1/search": {"get": op("Search every record the caller may see: ranked hits, the total, facet counts and a cursor (docs/search.md)", {"200": {"description": "Results", "content": {
            "application/json": {"schema": ref("SearchResults")}, "text/tab-separated-values": {"schema": {"type": "string"}, "description": "Header line and one line per hit; X-Total-Count and X-Next-Cursor headers"}}}}, "search",
        params=[param("query", "query", {"type": "string"}, "The query: words, field:value, \"phrases\", prefix*, AND/OR/NOT, (groups), field:[from TO until], tax_eq(ID); empty for everything."),
                param("result", "query", {"enum": ["project", "sample", "experiment", "run", "study", "read_experiment", "read_run"]}, "Only this type of record."),
                param("fields", "query", {"type": "string"}, "Fields to return, comma-separated, or all (see returnFields)."),
                param("facets", "query", {"type": "string"}, "Facet fields to count, comma-separated: type, source, organism, platform, library_strategy, library_source, library_layout, status, access, year."),
                param("facet_limit", "query", {"type": "integer", "minimum": 0, "maximum": 1000, "default": 10}, "Values per facet."),
                param("limit", "query", {"type": "integer", "minimum": 0, "maximum": 1000, "default": 20}, "Hits per page (0: counts only)."),
                param("sort", "query", {"type": "string", "default": "relevance"}, "relevance, or released|submitted|updated|tax_id|year with :desc or :asc."),
                param("cursor", "query", {"type": "string"}, "next_cursor of the previous page."),
                param("format", "query", {"enum": ["json", "tsv"]}, "Answer format.")], errors=("400",))},
    "/api/v1/search/fields": {"get": op("Searchable fields with their types, attribute tags present in the index, query functions and result types (ENA's searchFields)", ok("Fields", {"type": "object"}), "search", errors=())},
    "/api/v1/search/searchFields": {"get": op("Same as /api/v1/search/fields", ok("Fields", {"type": "object"}), "search", errors=())},
    "/api/v1/search/returnFields": {"get": op("Fields a search can return, and the defaults", ok("Fields", {"type": "object"}), "search", errors=())},
    "/files/{path}": {"get": op("Download a released file (owners and curators also private ones) with Range (single and multiple), ETag, Last-Modified, Content-MD5, Digest and Repr-Digest, conditional requests; folders list name, size and MD5; /files/projects/{accession}/md5sum.txt is an md5sum -c manifest", {"200": {"description": "The file, a listing or a manifest"}, "206": {"description": "Ranges"}, "304": {"description": "Not modified"}, "412": {"description": "Precondition failed"}, "416": {"description": "Range not satisfiable"}}, "files",
        params=[param("path", "path", {"type": "string"}, "runs/SBR000/SBR000001/NAME, runs/SBR000/SBR000001/, projects/PRJSB000001/[md5sum.txt]")], errors=("404", "503"))},
}

error_body = {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
    "code": {"type": "string"}, "message": {"type": "string"}, "path": {"type": "string", "description": "Field path (samples[3].attributes.collection_date), sheet cell (samples!D7) or place (line 4 column 2)."},
    "findings": {"type": "array", "items": ref("Finding")}}}}}

def response(description):
    return {"description": description, "content": {"application/json": {"schema": ref("Error")}}}

doc = {
    "openapi": "3.1.0",
    "info": {"title": "seqbank REST API", "version": "1", "description": "Describe, validate, submit, review, accession, hold and release projects, samples, experiments and runs. "
             "Authenticate with 'Authorization: Bearer TOKEN'. Every error is JSON with a code, a message and, where there is one, the place."},
    "paths": paths,
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "responses": {
            "BadRequest": response("The request cannot be read (malformed JSON, unknown field, wrong type); path names the place"),
            "Unauthenticated": response("No or invalid token"),
            "Forbidden": response("You may see this but not do that"),
            "NotFound": response("Nothing you may see has this name"),
            "Conflict": response("The state does not allow it, or an alias is taken"),
            "Invalid": response("Rules broken; findings lists each with its path"),
            "Gone": response("The upload expired or was cancelled; start a new one"),
            "PreconditionFailed": response("Tus-Resumable is missing or not 1.0.0 (Tus-Version names the supported one)"),
            "TooLarge": response("Over the size limit or the user's upload quota"),
            "UnsupportedMediaType": response("PATCH needs Content-Type: application/offset+octet-stream"),
            "ChecksumMismatch": response("tus checksum extension: the request's bytes do not match Upload-Checksum; nothing of them was kept"),
            "Unavailable": response("The object store failed or cannot be reached; nothing was recorded, try again"),
        },
        "schemas": {
            "Error": error_body,
            "Finding": {"type": "object", "properties": {"code": {"type": "string"}, "severity": {"enum": ["error", "warning"]}, "message": {"type": "string"}, "path": {"type": "string"}}},
            "Added": {"type": "object", "properties": {"added": {"type": "boolean"}, "findings": {"type": "array", "items": ref("Finding")}}},
            "User": {"type": "object", "properties": {"name": {"type": "string"}, "role": {"enum": ["submitter", "curator", "admin"]}, "created_at": {"type": "string"}}},
            "Event": {"type": "object", "properties": {"action": {"type": "string"}, "from": {"type": "string"}, "to": {"type": "string"}, "by": {"type": "string"}, "reason": {"type": "string"}, "at": {"type": "string", "format": "date-time"}}},
            "Checklist": {"type": "object", "properties": {"name": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"}, "fields": {"type": "array", "items": {"type": "object"}}}},
            "NewSubmission": {"type": "object", "additionalProperties": False, "properties": {"alias": {"type": "string"}, "title": {"type": "string"}, "hold_until": {"type": "string", "format": "date", "description": "At most two years ahead; absent releases on approval."}}},
            "Submission": {"type": "object", "properties": {"id": {"type": "integer"}, "alias": {"type": "string"}, "title": {"type": "string"}, "status": {"enum": ["draft", "submitted", "in_review", "returned", "approved"]},
                "accession": {"type": "string"}, "owner": {"type": "string"}, "hold_until": {"type": "string", "format": "date"}, "findings": {"type": "array", "items": ref("Finding")},
                "objects": {"type": "object", "additionalProperties": {"type": "integer"}}, "created_at": {"type": "string"}, "updated_at": {"type": "string"}}},
            "Object": {"type": "object", "description": "Fields a viewer may not see are absent: hold_until and submission_id for all but the owner and curators; everything but accession, status and reason on tombstones.",
                "properties": {"id": {"type": "integer"}, "kind": {"enum": ["project", "sample", "experiment", "run"]}, "accession": {"type": "string"}, "status": {"type": "string"},
                "status_reason": {"type": "string"}, "alias": {"type": "string"}, "title": {"type": "string"}, "version": {"type": "integer"}, "owner": {"type": "string"},
                "submission_id": {"type": "integer"}, "hold_until": {"type": "string"}, "created_at": {"type": "string"}, "updated_at": {"type": "string"}, "released_at": {"type": "string"},
                "metadata": {"type": "object"}}},
            "Upload": {"type": "object", "properties": {"id": {"type": "string"}, "run_id": {"type": "integer"}, "run": {"type": "string"}, "file_name": {"type": "string"}, "length": {"type": "integer"}, "offset": {"type": "integer"},
                "state": {"enum": ["receiving", "received", "valid", "invalid", "cancelled", "expired"]}, "expires_at": {"type": "string"}, "created_at": {"type": "string"}, "validation": ref("Job"), "file": ref("File")}},
            "Job": {"type": "object", "properties": {"id": {"type": "integer"}, "kind": {"type": "string"}, "subject_id": {"type": "integer"}, "state": {"enum": ["queued", "running", "done", "failed"]}, "attempts": {"type": "integer"},
                "done": {"type": "integer"}, "total": {"type": "integer"}, "error": {"type": "string"}, "result": {"type": "string"}, "updated_at": {"type": "string"}}},
            "File": {"type": "object", "properties": {"name": {"type": "string"}, "size": {"type": "integer"}, "md5": {"type": "string"}, "sha256": {"type": "string"}, "valid": {"type": "boolean"}, "archived": {"type": "boolean"},
                "path": {"type": "string"}, "report": {"type": "object", "description": "The read validation report of the file (as seqbank validate --json) with declared_md5, md5_matches and run_findings."}}},
            "SearchResults": {"type": "object", "properties": {"total": {"type": "integer"}, "hits": {"type": "array", "items": {"type": "object", "description": "The requested fields of one record"}},
                "facets": {"type": "array", "items": {"type": "object", "properties": {"field": {"type": "string"}, "values": {"type": "array", "items": {"type": "object", "properties": {"value": {"type": "string"}, "count": {"type": "integer"}}}}}}},
                "next_cursor": {"type": ["string", "null"]}}},
            "Batch": {"type": "object", "additionalProperties": False, "description": "Objects refer to each other by alias, or to accessioned objects by accession. See docs/metadata.md.",
                "properties": {k: {"type": "array", "items": {"type": "object"}} for k in ["projects", "samples", "experiments", "runs"]}},
        },
    },
    "security": [{"bearer": []}, {}],
}
with open("docs/openapi.json", "w") as out:
    json.dump(doc, out, indent=2)
    out.write("\n")
