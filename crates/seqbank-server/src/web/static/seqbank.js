// seqbank uploads from the browser: the tus 1.0 protocol against /api/v1/uploads.
// An upload survives a network drop (it retries, asking the server where it stopped) and a page
// reload (choose the file again: the server's unfinished upload of the same run, name and size
// is found and continued from its offset). The session cookie authenticates the requests.
"use strict";
(function () {
  const API = "/api/v1/uploads";
  const TUS = { "Tus-Resumable": "1.0.0" };

  function b64(text) {
    return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
  }

  function human(n) {
    const units = ["B", "KB", "MB", "GB", "TB"];
    let i = 0;
    while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
    return (i ? n.toFixed(1) : n.toFixed(0)) + " " + units[i];
  }

  function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

  async function errorText(response) {
    try {
      const body = await response.json();
      return body.error ? body.error.message : response.statusText;
    } catch (_) {
      return response.statusText || "HTTP " + response.status;
    }
  }

  class Fatal extends Error {}

  // The server's unfinished upload of this file, if any.
  async function findUnfinished(run, name, size) {
    const response = await fetch(API, { headers: TUS, credentials: "same-origin" });
    if (!response.ok) return null;
    const body = await response.json();
    const list = Array.isArray(body) ? body : body.items || [];
    const match = list.find((u) => u.run === run && u.file_name === name && u.length === size && u.state === "receiving");
    return match ? API + "/" + match.id : null;
  }

  async function create(run, file) {
    const response = await fetch(API, {
      method: "POST",
      credentials: "same-origin",
      headers: Object.assign({}, TUS, {
        "Upload-Length": String(file.size),
        "Upload-Metadata": "filename " + b64(file.name) + ",run " + b64(run),
      }),
    });
    if (!response.ok) throw new Fatal(await errorText(response));
    return response.headers.get("Location");
  }

  async function offsetOf(url) {
    const response = await fetch(url, { method: "HEAD", headers: TUS, credentials: "same-origin" });
    if (response.status === 404 || response.status === 410) return null;
    if (!response.ok) throw new Error("HTTP " + response.status);
    return Number(response.headers.get("Upload-Offset"));
  }

  // Sends one chunk with progress events; resolves to the new offset.
  function patch(url, blob, offset, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("PATCH", url);
      xhr.withCredentials = true;
      xhr.setRequestHeader("Tus-Resumable", "1.0.0");
      xhr.setRequestHeader("Upload-Offset", String(offset));
      xhr.setRequestHeader("Content-Type", "application/offset+octet-stream");
      xhr.upload.onprogress = (e) => onProgress(offset + e.loaded);
      xhr.onload = () => {
        if (xhr.status === 204 || xhr.status === 200) {
          resolve(Number(xhr.getResponseHeader("Upload-Offset")));
        } else if (xhr.status >= 400 && xhr.status < 500 && xhr.status !== 409) {
          let message = "HTTP " + xhr.status;
          try { message = JSON.parse(xhr.responseText).error.message; } catch (_) { /* keep */ }
          reject(new Fatal(message));
        } else {
          reject(new Error("HTTP " + xhr.status));
        }
      };
      xhr.onerror = () => reject(new Error("the connection dropped"));
      xhr.send(blob);
    });
  }

  function ui(item) {
    const bar = item.querySelector("progress");
    const text = item.querySelector(".progress-text");
    const state = item.querySelector(".state");
    return {
      progress(done, total, rate) {
        bar.hidden = false;
        bar.value = total ? (100 * done) / total : 100;
        text.textContent = Math.floor(bar.value) + "% · " + human(done) + " of " + human(total) +
          (rate ? " · " + human(rate) + "/s" : "");
      },
      say(message, kind) {
        state.innerHTML = "";
        const span = document.createElement("span");
        span.textContent = message;
        if (kind) span.className = kind;
        span.dataset.state = kind || "info";
        state.appendChild(span);
      },
    };
  }

  async function upload(input) {
    const file = input.files[0];
    if (!file) return;
    const item = input.closest(".upload");
    const run = input.dataset.run;
    const view = ui(item);
    if (file.name !== input.dataset.file) {
      view.say("This run declares " + input.dataset.file + "; you chose " + file.name + ".", "bad");
      return;
    }
    input.disabled = true;
    const chunk = Math.min(8 << 20, Math.max(64 << 10, Math.ceil(file.size / 16)));
    let url = null;
    let offset = 0;
    let failures = 0;
    const started = Date.now();
    let startOffset = null;
    for (;;) {
      try {
        if (!url) {
          url = await findUnfinished(run, file.name, file.size);
          if (!url) url = await create(run, file);
        }
        const at = await offsetOf(url);
        if (at === null) { url = await create(run, file); continue; }
        offset = at;
        if (startOffset === null) {
          startOffset = offset;
          if (offset > 0) view.say("Resuming at " + human(offset) + ".", "info");
        }
        while (offset < file.size) {
          const end = Math.min(file.size, offset + chunk);
          offset = await patch(url, file.slice(offset, end), offset, (done) => {
            const seconds = (Date.now() - started) / 1000;
            view.progress(done, file.size, seconds > 0.5 ? (done - startOffset) / seconds : 0);
          });
          failures = 0;
          view.progress(offset, file.size, 0);
        }
        if (file.size === 0) view.progress(0, 0, 0);
        break;
      } catch (e) {
        if (e instanceof Fatal) {
          view.say("Upload refused: " + e.message, "bad");
          input.disabled = false;
          return;
        }
        failures += 1;
        const wait = Math.min(30, 2 ** Math.min(failures - 1, 5));
        view.say("Connection lost (" + e.message + "); retrying in " + wait + " s. " +
          "You may also reload the page and choose the file again.", "warn");
        await sleep(wait * 1000);
      }
    }
    view.say("Uploaded; waiting for the check…", "info");
    await follow(url, view);
    input.disabled = false;
  }

  // Shows the upload's state until its run's check has a verdict.
  async function follow(url, view) {
    for (let i = 0; i < 600; i++) {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (response.ok) {
        const u = await response.json();
        if (u.file) {
          if (u.file.valid) view.say("received and valid", "ok");
          else view.say("received; invalid: " + ((u.file.report.findings || [])[0] || {}).message, "bad");
          return;
        }
        const job = u.validation ? " · check " + u.validation.state : " · checked when every file of the run has arrived";
        view.say("uploaded" + job, "info");
      }
      await sleep(1000);
    }
  }

  document.querySelectorAll("input.tus").forEach((input) => {
    input.addEventListener("change", () => upload(input));
  });
})();
