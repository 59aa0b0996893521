// The whole journey through seqbank's web pages in a real Chromium:
// register → create a project → upload a sample spreadsheet → upload a paired FASTQ (interrupted
// and resumed after a page reload) → submit → a curator approves → release → an anonymous
// visitor finds the run by search, opens its page and downloads a file whose MD5 matches.
// Bad input on the way must be answered next to the field (or cell) that caused it.
//
// Run by the Rust test `browser_journey` (crates/seqbank/tests/it/browser.rs), which starts the
// server and passes: SEQBANK_URL, SEQBANK_CURATOR, SEQBANK_CURATOR_PASSWORD, SEQBANK_R1, SEQBANK_R2,
// SEQBANK_R1_MD5, SEQBANK_R2_MD5, SEQBANK_SCREENSHOTS, SEQBANK_CHROMIUM.
import { chromium } from "playwright-core";
import { createHash } from "node:crypto";
import { readFileSync, mkdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { tmpdir } from "node:os";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const BASE = env("SEQBANK_URL");
const SHOTS = env("SEQBANK_SCREENSHOTS");
const R1 = env("SEQBANK_R1");
const R2 = env("SEQBANK_R2");
const R1_MD5 = env("SEQBANK_R1_MD5");
const R2_MD5 = env("SEQBANK_R2_MD5");
const CURATOR = env("SEQBANK_CURATOR");
const CURATOR_PASSWORD = env("SEQBANK_CURATOR_PASSWORD");
const USER = "ada" + Date.now().toString(36);
const PASSWORD = "correct horse battery";
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

mkdirSync(SHOTS, { recursive: true });
const step = (text) => console.log(`[journey] ${text}`);

function assert(condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

const browser = await chromium.launch({
  executablePath: process.env.SEQBANK_CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const context = await browser.newContext({ viewport: DESKTOP, acceptDownloads: true });
const page = await context.newPage();
const scriptErrors = [];
page.on("pageerror", (e) => scriptErrors.push(`${page.url()}: ${e.message}`));
page.setDefaultTimeout(30_000);

async function shoot(name) {
  await page.screenshot({ path: join(SHOTS, `${name}-desktop.png`) });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: join(SHOTS, `${name}-phone.png`) });
  await page.setViewportSize(DESKTOP);
}

async function go(path) {
  const response = await page.goto(BASE + path);
  return response.status();
}

// Reloads until a condition on the page holds (the server's jobs and index run on their own).
async function until(what, check, seconds = 120) {
  for (let i = 0; i < seconds; i++) {
    if (await check()) return;
    await page.waitForTimeout(1000);
    await page.reload();
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function signIn(name, password) {
  await go("/login");
  await page.fill("#f-name", name);
  await page.fill("#f-password", password);
  await page.click("form[action='/login'] button[type=submit]");
  await page.waitForURL(/\/submissions$/);
}

async function signOut() {
  await page.click("form[action='/logout'] button");
  await page.waitForURL(BASE + "/");
}

const field = (path) => `[name="${path}"]`;
const errorAt = (path) => page.locator(`.error[data-path="${path}"]`);

try {
  // ---- register ----
  step("register");
  await go("/register");
  await page.fill("#f-name", USER);
  await page.fill("#f-password", PASSWORD);
  await page.fill("#f-password_again", "something else");
  await page.click("form[action='/register'] button[type=submit]");
  assert((await errorAt("password_again").textContent()).includes("differ"), "mismatched passwords named at the field");
  await page.fill("#f-password", PASSWORD);
  await page.fill("#f-password_again", PASSWORD);
  await page.click("form[action='/register'] button[type=submit]");
  await page.waitForURL(/\/submissions$/);

  // ---- a submission with a project ----
  step("create a submission and a project");
  const hold = new Date(Date.now() + 200 * 86400_000).toISOString().slice(0, 10);
  await page.fill("#f-title", "Axolotl limb regeneration");
  await page.fill("#f-hold_until", hold);
  await page.click("form[action='/submissions'] button[type=submit]");
  await page.waitForURL(/\/submissions\/\d+$/);
  const submissionUrl = page.url();
  await page.fill(field("projects[0].alias"), "axo");
  await page.fill(field("projects[0].title"), "Axolotl limb regeneration atlas");
  await page.fill(field("projects[0].description"), "Single-cell and bulk RNA-Seq of regenerating axolotl limbs.");
  await page.click("#projects form button[type=submit]");
  await page.waitForURL(/done=project/);
  assert(await page.locator("#projects a", { hasText: "axo" }).count() === 1, "the project is listed");

  // ---- samples: a form with a wrong value, then a spreadsheet with a wrong cell, then a good one ----
  step("bad sample input is answered at the field");
  await page.fill(field("samples[0].alias"), "blastema-1");
  await page.fill(field("samples[0].title"), "Blastema day 7");
  await page.selectOption(field("samples[0].project"), "axo");
  await page.fill(field("samples[0].organism.taxon_id"), "8296");
  await page.fill(field("samples[0].organism.scientific_name"), "Ambystoma mexicanum");
  await page.fill(field("samples[0].attributes.collection_date"), "yesterday");
  await page.fill(field("samples[0].attributes.geo_loc_name"), "Mexico: Xochimilco");
  await page.click("#samples form[action$='/objects'] button[type=submit]");
  const dateError = await errorAt("samples[0].attributes.collection_date").textContent();
  assert(dateError.includes("not an INSDC date"), `the date error is next to its field: ${dateError}`);
  assert(await page.inputValue(field("samples[0].title")) === "Blastema day 7", "typed values are kept");

  step("upload a sample spreadsheet");
  const template = await page.request.get(BASE + "/api/v1/checklists/generic/template?format=tsv&sheet=samples");
  assert(template.ok(), "the template downloads");
  const header = (await template.text()).split("\n").find((l) => l.startsWith("alias\t"));
  const columns = header.split("\t");
  const row = (values) => columns.map((c) => values[c] ?? "").join("\t");
  const sheet = (date) => ["#seqbank:samples checklist=generic", header,
    row({ alias: "blastema-7d", title: "Blastema day 7", taxon_id: "8296", scientific_name: "Ambystoma mexicanum",
      checklist: "generic", project: "axo", collection_date: "2025-03-14", geo_loc_name: "Mexico: Xochimilco" }),
    row({ alias: "stump-0d", title: "Stump day 0", taxon_id: "8296", scientific_name: "Ambystoma mexicanum",
      checklist: "generic", project: "axo", collection_date: date, geo_loc_name: "Mexico: Xochimilco" }),
  ].join("\n") + "\n";
  const dir = join(tmpdir(), `seqbank-journey-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "bad-samples.tsv"), sheet("14/03/2025"));
  writeFileSync(join(dir, "samples.tsv"), sheet("2025-03-01"));
  await page.setInputFiles("#f-sheet", join(dir, "bad-samples.tsv"));
  await page.click("form[action$='/sheet'] button[type=submit]");
  const cells = await page.locator(".sheet-errors table").textContent();
  const dateColumn = String.fromCharCode(65 + columns.indexOf("collection_date"));
  assert(cells.includes(`${dateColumn}`) && cells.includes("14/03/2025"), `the bad cell is named: ${cells}`);
  await page.setInputFiles("#f-sheet", join(dir, "samples.tsv"));
  await page.click("form[action$='/sheet'] button[type=submit]");
  await page.waitForURL(/done=sheet/);
  assert(await page.locator("#samples .objlist li").count() === 2, "both samples are listed");

  // ---- an experiment with a paired run ----
  step("add an experiment and a paired run");
  await page.fill(field("experiments[0].alias"), "axo-rna-1");
  await page.fill(field("experiments[0].title"), "Blastema RNA-Seq");
  await page.selectOption(field("experiments[0].sample"), "blastema-7d");
  await page.selectOption(field("experiments[0].platform"), "ILLUMINA");
  await page.fill(field("experiments[0].instrument_model"), "Illumina NovaSeq 6000");
  await page.selectOption(field("experiments[0].library.strategy"), "RNA-Seq");
  await page.selectOption(field("experiments[0].library.source"), "TRANSCRIPTOMIC");
  await page.selectOption(field("experiments[0].library.selection"), "cDNA");
  await page.selectOption(field("experiments[0].library.layout"), "PAIRED");
  await page.fill(field("runs[0].alias"), "axo-run-1");
  await page.fill(field("runs[0].files[0].name"), basename(R1));
  await page.fill(field("runs[0].files[0].md5"), R1_MD5);
  await page.fill(field("runs[0].files[1].name"), basename(R2));
  await page.fill(field("runs[0].files[1].md5"), R2_MD5);
  await page.click("#runs form button[type=submit]");
  await page.waitForURL(/done=run/);

  // ---- upload R1, cut the connection midway, reload, resume ----
  step("upload R1; the network drops; reload; resume");
  const patches = [];
  page.on("request", (r) => {
    if (r.method() === "PATCH" && r.url().includes("/api/v1/uploads/")) patches.push(Number(r.headers()["upload-offset"]));
  });
  let sent = 0;
  await page.route("**/api/v1/uploads/*", (route) => {
    if (route.request().method() === "PATCH" && ++sent > 2) return route.abort("connectionreset");
    return route.continue();
  });
  const r1Input = `input.tus[data-file="${basename(R1)}"]`;
  await page.setInputFiles(r1Input, R1);
  await page.locator(".upload .state", { hasText: "Connection lost" }).waitFor();
  await page.unroute("**/api/v1/uploads/*");
  await page.reload();
  const partial = page.locator(`.upload[data-file="${basename(R1)}"] [data-state="partial"]`);
  assert(await partial.count() === 1, "after the reload the page says part of R1 arrived");
  const before = patches.length;
  await page.setInputFiles(r1Input, R1);
  await page.locator(`.upload[data-file="${basename(R1)}"] .state`, { hasText: "uploaded" }).waitFor();
  assert(patches[before] > 0, `the upload resumed at ${patches[before]}, not from the start`);

  step("upload R2");
  await page.setInputFiles(`input.tus[data-file="${basename(R2)}"]`, R2);
  await until("both files to be validated", async () =>
    (await page.locator('#files [data-state="valid"]').count()) === 2);
  await shoot("submission");

  // ---- submit ----
  step("submit");
  await page.click("form[action$='/submit'] button[type=submit]");
  await page.waitForURL(/done=submit/);
  await until("the submission to reach review", async () =>
    (await page.locator(".subhead .status-in_review").count()) === 1);
  await signOut();

  // ---- a curator approves ----
  step("a curator approves");
  await signIn(CURATOR, CURATOR_PASSWORD);
  await go("/curation");
  const entry = page.locator("table a", { hasText: "Axolotl limb regeneration" });
  assert(await entry.count() === 1, "the submission waits in the queue");
  await shoot("curation");
  await entry.click();
  await page.fill("#f-comment", "Complete and consistent.");
  await page.click("form[action$='/approve'] button[type=submit]");
  await page.waitForURL(/done=approve/);
  assert(await page.locator(".subhead .status-approved").count() === 1, "approved");
  await signOut();

  // ---- the submitter releases it ahead of the hold date ----
  step("release");
  await signIn(USER, PASSWORD);
  await page.goto(submissionUrl);
  await page.click("#projects a[href^='/project/']");
  assert(await page.locator("header .status-private").count() === 1, "private until released");
  await page.click("form[action$='/release'] button");
  await page.waitForURL(/\/project\/[A-Z]+\d+$/);
  assert(await page.locator("header .status-public").count() === 1, "public after release");
  const project = page.url().split("/").pop();
  await shoot("project");
  await signOut();

  // ---- an anonymous visitor finds the run and downloads a file ----
  step("an anonymous visitor searches, opens the run, downloads R1");
  await go("/");
  // The index follows the metastore a batch of changes at a time: wait for the project too.
  await until("the home page to count the released project and run", async () =>
    (await page.locator('[data-count="run"]').textContent()) === "1" &&
    (await page.locator('[data-count="project"]').textContent()) === "1", 30);
  assert(await page.locator(".hits.compact a", { hasText: project }).count() === 1, "the project is among the latest releases");
  await shoot("home");
  await page.fill("#home-q", 'axolotl OR "Ambystoma mexicanum"');
  await page.click("form.bigsearch button");
  await until("the released records to be searchable", async () =>
    (await page.locator('a[data-facet="type"]', { hasText: "run" }).count()) === 1, 30);
  assert((await page.locator("mark").count()) > 0, "matching words are highlighted");
  await shoot("search");
  await page.click('a[data-facet="type"] >> text=run');
  await page.waitForURL(/result=run/);
  const runLink = page.locator(".hits a.acc").first();
  const run = await runLink.textContent();
  await runLink.click();
  await page.waitForURL(new RegExp(`/run/${run}$`));
  assert((await page.locator(".crumbs").textContent()).includes(project), "the run page shows its project");
  await shoot("run");
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.click(`.files a[download]:has-text("${basename(R1)}")`),
  ]);
  const md5 = createHash("md5").update(readFileSync(await download.path())).digest("hex");
  assert(md5 === R1_MD5, `the downloaded file's MD5 ${md5} is ${R1_MD5}`);

  // The JSON twin of the page says the same.
  const twin = await page.locator("link[rel=alternate]").getAttribute("href");
  const json = await (await page.request.get(BASE + twin)).json();
  assert(json.accession === run && json.status === "public", `the JSON twin describes ${run}`);
  assert(scriptErrors.length === 0, `no script errors: ${scriptErrors.join("; ")}`);
  step(`done: ${USER} → ${project} → ${run}, MD5 ${md5}`);
} catch (e) {
  await page.screenshot({ path: join(SHOTS, "failure.png"), fullPage: true }).catch(() => {});
  console.error(`[journey] failed on ${page.url()}: ${e.stack || e}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
