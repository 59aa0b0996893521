"""Uploads one file to a seqbank archive with tuspy, an independent tus 1.0 client.

Usage: upload.py ENDPOINT TOKEN FILE RUN STATE_FILE

The upload URL is kept in STATE_FILE (tuspy's own file storage), so a run that is killed and
started again resumes where the server says it stopped. Prints the offset it starts from.
"""

import os
import sys

from tusclient import client
from tusclient.storage import filestorage

endpoint, token, path, run, state = sys.argv[1:6]
tus = client.TusClient(endpoint, headers={"Authorization": f"Bearer {token}"})
uploader = tus.uploader(
    path,
    chunk_size=32 * 1024 * 1024,
    metadata={"filename": os.path.basename(path), "run": run},
    store_url=True,
    url_storage=filestorage.FileStorage(state),
)
print(f"start {uploader.offset}", flush=True)
uploader.upload()
print(f"done {uploader.offset} {uploader.url}", flush=True)
