#!/usr/bin/env python3
"""Time the shared 200-query search workload (../shared/bench/queries.jsonl) against a running
seqbank's /api/v1/search, the way a search page asks: one request per query returning the top
20 hits, the total count and facet counts.

  search_http.py --base http://127.0.0.1:18183 --queries ../shared/bench/queries.jsonl --out seqbank.json
  search_http.py ... --clients 16        # throughput: 16 clients, each running the workload

Queries map onto seqbank's language as the anchors read them: `term` a word, `and` words side
by side (all required), `phrase` a quoted phrase, `term_org` a word and organism:"NAME" (exact
name, like the anchors' organism = NAME), `facet` a word with counts by organism. Modes timed:
  page  - limit=20, facets=organism (hits + total + facets in one answer)
  top20 - limit=20, no facets (hits + total)
One warm-up pass, then --reps timed passes; latency is the client's wall time for the request
over a kept-alive loopback connection. Writes a JSON report with percentiles per kind and mode.
"""
import argparse
import http.client
import json
import multiprocessing
import time
import urllib.parse


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return None
    k = max(0, min(len(xs) - 1, int(round(p / 100.0 * len(xs) + 0.5)) - 1))
    return xs[k]


def to_query(q):
    text = q["text"]
    if q["kind"] == "phrase":
        s = '"' + text.replace('"', "") + '"'
    else:
        # Every word must match; words with characters the language reads (: * ( ) ")
        # are quoted, which keeps them words.
        s = " ".join('"' + w + '"' if any(c in w for c in ':*()"[]{}') else w for w in text.split())
    if q["organism"]:
        s += ' organism:"' + q["organism"] + '"'
    return s


def path(q, mode):
    params = {"query": to_query(q), "limit": "20", "fields": "accession,title,organism"}
    if mode == "page" or q["kind"] == "facet":
        params["facets"] = "organism"
    return "/api/v1/search?" + urllib.parse.urlencode(params)


def run_pass(conn, jobs):
    out = []
    for q, mode in jobs:
        p = path(q, mode)
        t = time.perf_counter()
        conn.request("GET", p)
        r = conn.getresponse()
        body = r.read()
        dt = time.perf_counter() - t
        if r.status != 200:
            raise SystemExit(f"{p}: {r.status} {body[:300]!r}")
        out.append((q, mode, dt, json.loads(body)["total"]))
    return out


def client(args):
    host, port, jobs, reps = args
    conn = http.client.HTTPConnection(host, port)
    run_pass(conn, jobs)
    times = []
    t0 = time.perf_counter()
    for _ in range(reps):
        times.extend(dt for _, _, dt, _ in run_pass(conn, jobs))
    return times, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="http://127.0.0.1:18183")
    ap.add_argument("--queries", required=True)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--clients", type=int, default=1)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    u = urllib.parse.urlparse(a.base)
    qs = [json.loads(line) for line in open(a.queries)]
    jobs = [(q, m) for q in qs for m in (["page"] if q["kind"] == "facet" else ["page", "top20"])]
    if a.clients > 1:
        with multiprocessing.Pool(a.clients) as pool:
            t0 = time.perf_counter()
            results = pool.map(client, [(u.hostname, u.port, jobs, a.reps)] * a.clients)
            wall = time.perf_counter() - t0
        times = [t for ts, _ in results for t in ts]
        report = {"clients": a.clients, "requests": len(times), "wall_s": round(wall, 2),
                  "qps": round(len(times) / sum(w for _, w in results) * a.clients, 1),
                  "p50_ms": round(pct(times, 50) * 1e3, 2), "p99_ms": round(pct(times, 99) * 1e3, 2)}
        print(json.dumps(report))
        json.dump(report, open(a.out, "w"), indent=1)
        return
    conn = http.client.HTTPConnection(u.hostname, u.port)
    warm = run_pass(conn, jobs)
    hits = {(q["id"], m): n for q, m, _, n in warm}
    per = {}
    for _ in range(a.reps):
        for q, m, dt, _ in run_pass(conn, jobs):
            per.setdefault((q["kind"], m), []).append(dt)
    summary = {}
    for (kind, mode), ts in sorted(per.items()):
        summary[f"{kind}/{mode}"] = {"n": len(ts), "p50_ms": round(pct(ts, 50) * 1e3, 2),
                                     "p90_ms": round(pct(ts, 90) * 1e3, 2),
                                     "p99_ms": round(pct(ts, 99) * 1e3, 2),
                                     "max_ms": round(max(ts) * 1e3, 2)}
    for mode in ["page", "top20"]:
        ts = [t for (k, m), v in per.items() if m == mode for t in v]
        summary[f"all/{mode}"] = {"n": len(ts), "p50_ms": round(pct(ts, 50) * 1e3, 2),
                                  "p90_ms": round(pct(ts, 90) * 1e3, 2),
                                  "p99_ms": round(pct(ts, 99) * 1e3, 2),
                                  "max_ms": round(max(ts) * 1e3, 2)}
    report = {"summary": summary,
              "hits": [{"id": i, "mode": m, "total": n} for (i, m), n in sorted(hits.items())]}
    json.dump(report, open(a.out, "w"), indent=1)
    for k, v in summary.items():
        print(f"{k:22} n={v['n']:4}  p50 {v['p50_ms']:8.2f} ms  p90 {v['p90_ms']:8.2f}  p99 {v['p99_ms']:8.2f}  max {v['max_ms']:8.2f}")


if __name__ == "__main__":
    main()
