"""Times every web page: p50, p99 and max over N sequential requests per page (see pages.sh)."""
import http.client
import os
import sys
import time
import urllib.parse

N = int(sys.argv[1]) if len(sys.argv) > 1 else 500
url = urllib.parse.urlparse(os.environ["SEQBANK_URL"])
tokens = {"alice": os.environ["ALICE"], "carol": os.environ["CAROL"], None: None}

PAGES = [
    ("/", None),
    ("/search", None),
    ("/search?query=rhizosphere", None),
    ("/search?query=soil+AND+released:[2020+TO+2030]&result=run&sort=released:desc", None),
    ("/help/search", None),
    ("/project/PRJSB000001", None),
    ("/sample/SAMSB000001", None),
    ("/experiment/SBX000001", None),
    ("/run/SBR000001", None),
    ("/login", None),
    ("/register", None),
    ("/account", "alice"),
    ("/submissions", "alice"),
    ("/submissions/1", "alice"),
    ("/curation", "carol"),
    ("/submissions/2", "carol"),
    ("/submissions/3", "carol"),
]

conn = http.client.HTTPConnection(url.hostname, url.port)
print(f"{'page':<78} {'who':<6} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}  bytes")
worst = 0.0
for path, who in PAGES:
    headers = {"Cookie": f"seqbank_session={tokens[who]}"} if who else {}
    times = []
    size = 0
    for i in range(N + 20):
        start = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - start) * 1000
        if response.status != 200:
            sys.exit(f"{path} as {who}: HTTP {response.status}")
        if i >= 20:  # warm-up
            times.append(elapsed)
        size = len(body)
    times.sort()
    p50 = times[len(times) // 2]
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    worst = max(worst, p99)
    print(f"{path:<78} {who or '-':<6} {p50:7.2f} {p99:7.2f} {times[-1]:7.2f}  {size}")
print(f"worst p99 over all pages: {worst:.2f} ms ({N} requests per page)")
