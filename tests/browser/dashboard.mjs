// The dashboard in a real browser (Debian's chromium, driven by playwright-core) against
// `k8s-events serve` and the database tests/test_dashboard.sh filled. One "ok - ..." or
// "not ok - ..." line a check (tests/run counts them); exit 1 if any failed. Screenshots of
// both pages, light and dark, wide and phone, go to SHOTS.
//
// Environment: DASH_URL, DASH_DB, SHOTS, and PGHOST/PGPORT/PGUSER of the owner (psql
// stores the events the live checks wait for).
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(new URL("../../dashboard/package.json", import.meta.url));
const { chromium } = require("playwright-core");

const URL_ = process.env.DASH_URL.replace(/\/$/, "");
const DB = process.env.DASH_DB;
const SHOTS = process.env.SHOTS;
mkdirSync(SHOTS, { recursive: true });
let failures = 0;

function ok(desc, cond, detail = "") {
  if (cond) console.log(`ok - ${desc}`);
  else {
    failures++;
    console.log(`not ok - ${desc}`);
    for (const line of String(detail).split("\n").slice(0, 20)) console.log(`#   ${line}`);
  }
}

function sql(q) {
  return execFileSync("psql", ["-X", "-q", "-At", "-d", DB, "-c", q]).toString().trim();
}

function ingest(cluster, ns, kind, name, reason, type, message) {
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const ev = {
    kind: "Event", metadata: { uid: randomUUID(), resourceVersion: "1", namespace: ns },
    involvedObject: { kind, namespace: ns, name }, reason, type, message,
    lastTimestamp: now, firstTimestamp: now, count: 1, source: { component: "kubelet", host: "node-t" },
  };
  const lit = JSON.stringify(ev).replace(/'/g, "''");
  execFileSync("psql", ["-X", "-q", "-d", DB, "-c", `SELECT k8s_events.ingest('${lit}', 'prod')`]);
}

// Poll a predicate in the page. Not page.waitForFunction: that evaluates a string in the
// page, which the page's Content-Security-Policy (no unsafe-eval) rightly refuses.
async function until(pg, fn, arg, timeout = 20000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await pg.evaluate(fn, arg)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox"] });
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const page = await context.newPage();
const pageErrors = [];
const dialogs = [];
const cspViolations = [];
page.on("pageerror", (e) => pageErrors.push(e.message));
page.on("dialog", async (d) => { dialogs.push(d.message()); await d.dismiss(); });
page.on("console", (m) => { if (m.type() === "error") cspViolations.push(m.text()); });

try {
  // ------------------------------------------------------------ the overview
  // Once to start the browser's processes, then timed as a user opening the page.
  await page.goto(`${URL_}/?cluster=prod&from=now-7d`);
  await page.waitForSelector("table.res-table tbody tr a.res-link", { timeout: 10000 });
  // What opening the page costs, counted rather than timed (a time depends on the machine's
  // load; tests assert no durations): the requests it makes to the API, each answered once.
  const apiRequests = [];
  const onRequest = (r) => { if (new URL(r.url()).pathname.startsWith("/api/")) apiRequests.push(new URL(r.url()).pathname); };
  page.on("request", onRequest);
  const t0 = Date.now();
  await page.goto(`${URL_}/?cluster=prod&from=now-2d`);
  await page.waitForSelector("table.res-table tbody tr a.res-link", { timeout: 10000 });
  await page.waitForSelector(".chart-box canvas", { timeout: 10000 });
  const loadMs = Date.now() - t0;
  await page.waitForTimeout(300); // a request the page would repeat
  page.off("request", onRequest);
  const distinct = new Set(apiRequests.filter((p) => p !== "/api/stream"));
  ok(`the overview shows its chart and resources (${loadMs} ms here) after ${apiRequests.length} API requests, none asked twice: ${apiRequests.join(" ")}`,
    apiRequests.length <= 5 && distinct.size === apiRequests.filter((p) => p !== "/api/stream").length, apiRequests);
  await page.screenshot({ path: `${SHOTS}/overview-light.png` });

  // Filters change the list, and the URL.
  await page.selectOption("#f-namespace", "alpha");
  await page.waitForURL(/namespace=alpha/);
  ok("choosing a namespace lists only its resources, and the URL says so", await until(page, () => {
    const cells = [...document.querySelectorAll("table.res-table tbody tr td:nth-child(2)")];
    return cells.length > 0 && cells.every((td) => td.textContent === "alpha");
  }), page.url());

  // Back restores the previous view.
  await page.goBack();
  ok("the back button restores the unfiltered list", await until(page, () => !location.search.includes("namespace=alpha") &&
    new Set([...document.querySelectorAll("table.res-table tbody tr td:nth-child(2)")].map((td) => td.textContent)).size > 1), page.url());

  // A node keeps the resources it reported events of (its pods), and the Node itself.
  const node = sql("SELECT source_host FROM k8s_events.events WHERE cluster = 'prod' AND source_host IS NOT NULL"
    + " GROUP BY 1 ORDER BY count(*), 1 LIMIT 1");
  const allowed = new Set(sql("SELECT kind || '/' || coalesce(namespace, '') || '/' || name FROM k8s_events.resource_summary"
    + ` WHERE cluster = 'prod' AND (nodes ? '${node}' OR (kind = 'Node' AND name = '${node}'))`).split("\n"));
  await page.fill("#f-node", node);
  await page.press("#f-node", "Enter");
  await page.waitForURL(new RegExp(`node=${node}`));
  const filtered = await until(page, (allowedRows) => {
    const rows = [...document.querySelectorAll("table.res-table tbody tr")].map((tr) =>
      [...tr.querySelectorAll("td")].slice(0, 3).map((td) => td.textContent).join("/"));
    return rows.length > 0 && rows.every((r) => allowedRows.includes(r));
  }, [...allowed]);
  const shownRows = await page.evaluate(() => document.querySelectorAll("table.res-table tbody tr").length);
  ok(`a node (${node}) lists only the resources it reported events of (${shownRows} of ${allowed.size})`,
    filtered && allowed.size > 1, page.url());
  await page.goBack();
  await page.waitForURL((u) => !u.search.includes("node="));

  // Most warned first: click the Warnings column.
  await page.click("th button.sort:has-text('Warnings')");
  await page.waitForURL(/sort=warnings/);
  ok("clicking Warnings sorts the resources by the range's warnings, most first", await until(page, () => {
    const ws = [...document.querySelectorAll("table.res-table tbody td.warn-count")].map((td) => Number(td.textContent.replace(/\D/g, "")));
    return ws.length > 1 && ws[0] > 0 && ws.every((w, i) => i === 0 || w <= ws[i - 1]);
  }), page.url());
  await page.goBack();
  await page.waitForURL((u) => !u.search.includes("sort=warnings"));

  // Search, then open one of two objects of the same name: the one clicked.
  await page.fill("#f-q", "twin");
  await page.waitForURL(/q=twin/);
  ok("searching twin lists alpha/twin and beta/twin",
    await until(page, () => document.querySelectorAll("table.res-table tbody tr a.res-link").length === 2));
  const betaRow = page.locator("table.res-table tbody tr", { has: page.locator("td:nth-child(2)", { hasText: /^beta$/ }) });
  await betaRow.locator("a.res-link").click();
  await page.waitForURL(/\/resource\?/);
  await page.waitForSelector(".res-head h1");
  const head = await page.textContent(".res-head");
  ok("a click opens that resource: beta/twin with its own 5 warnings, not alpha's 3",
    /beta\/\s*twin/.test(head) && /5 Warning/.test(head) && page.url().includes("namespace=beta"), head);

  // Hover a bar: the bucket's reasons and counts.
  await page.waitForSelector(".chart-box .u-over");
  const over = await page.locator(".chart-box .u-over").boundingBox();
  let hovered = null;
  for (let x = over.width - 2; x > 0 && !hovered; x -= 3) {
    await page.mouse.move(over.x + x, over.y + over.height / 2);
    const tip = page.locator(".chart-tip");
    if (await tip.isVisible() && /BackOff/.test(await tip.textContent())) hovered = { x, text: await tip.textContent() };
  }
  ok("hovering a bar lists its bucket's reasons and counts (BackOff 5)", hovered && /BackOff.*5/.test(hovered.text), hovered && hovered.text);

  // Click it: the table shows that bucket's events.
  if (hovered) {
    await page.mouse.click(over.x + hovered.x, over.y + over.height / 2);
    await page.waitForURL(/sel=\d+/);
    await until(page, () => /Events from/.test(document.querySelector(".events h2")?.textContent || ""));
    const sel = Number(new URL(page.url()).searchParams.get("sel"));
    const times = await page.$$eval(".ev-table tbody time", (ts) => ts.map((t) => Date.parse(t.getAttribute("datetime")) / 1000));
    const m = /^(\d+)([mhd])$/.exec(new URL(page.url()).searchParams.get("bucket") || "");
    const bucket = m ? Number(m[1]) * { m: 60, h: 3600, d: 86400 }[m[2]] : 0;
    ok(`clicking the bar filters the table to its bucket (${times.length} events, all in it)`,
      times.length > 0 && bucket > 0 && times.every((t) => t >= sel && t < sel + bucket), JSON.stringify({ sel, bucket, times }));
  } else ok("clicking the bar filters the table to its bucket", false, "no bar found");
  await page.goBack();
  await until(page, () => !location.search.includes("sel="));
  ok("back after the click returns to the whole range", !page.url().includes("sel="), page.url());

  // ------------------------------------------------------------ live, and hostile text
  await page.goto(`${URL_}/?cluster=prod&from=now-1h`);
  await page.waitForSelector(".live-list", { state: "attached" });
  await page.waitForTimeout(1500); // the stream connects
  const hostile = '<img src=x onerror="window.__pwned=1;alert(1)"><script>window.__pwned=2</script>';
  const t1 = Date.now();
  ingest("prod", "shop", "Pod", "live-hostile", "Evil", "Warning", hostile);
  const shown = await until(page, () => [...document.querySelectorAll(".live-list li")].some((li) => li.textContent.includes("live-hostile")))
    ? Date.now() - t1 : null;
  // Pushed by the stream: without it the event would not show at all (the panel does not poll).
  ok(`an event stored during the test shows in the live panel (${shown} ms after it was stored)`, shown !== null, shown);
  const liveText = await page.textContent(".live-list");
  const pwned = await page.evaluate(() => window.__pwned);
  const imgs = await page.$$eval("img", (is) => is.map((i) => i.getAttribute("src")));
  ok("a message with <img onerror> and <script> shows as text and runs nothing",
    liveText.includes(hostile) && pwned === undefined && !imgs.includes("x") && dialogs.length === 0,
    JSON.stringify({ pwned, imgs, dialogs }));
  await page.goto(`${URL_}/resource?cluster=prod&namespace=shop&kind=Pod&name=live-hostile&from=now-1h`);
  const found = await until(page, () => !!document.querySelector(".ev-table tbody td.message"), null, 10000);
  const msg = found ? await page.textContent(".ev-table tbody td.message") : await page.textContent("main");
  ok("and so in the resource page's table", msg === hostile && (await page.evaluate(() => window.__pwned)) === undefined && dialogs.length === 0, msg);

  // A Deployment with its ReplicaSets and pods folded in, and its rollouts on the chart.
  const [depNs, depName] = sql("SELECT namespace || '|' || name FROM k8s_events.resource_summary WHERE cluster = 'prod'" +
    " AND kind = 'Deployment' AND reasons ? 'ScalingReplicaSet' ORDER BY observations DESC LIMIT 1").split("|");
  const depUrl = `${URL_}/resource?cluster=prod&namespace=${depNs}&kind=Deployment&name=${depName}&from=now-2d&related=1`;
  await page.goto(depUrl);
  await page.waitForSelector(".chart-box canvas");
  await page.waitForSelector(".rel-list li");
  const rel = await page.$$eval(".rel-list li", (ls) => ls.map((l) => l.textContent));
  // The table comes after the list: it waits for the events of every object folded in.
  await until(page, () => [...document.querySelectorAll(".ev-table thead th")].some((t) => t.textContent === "Object"), null, 10000);
  const objCol = await page.$$eval(".ev-table thead th", (ths) => ths.map((t) => t.textContent));
  ok(`a Deployment lists its ReplicaSets and folds their events in (${rel.length} related)`,
    rel.some((t) => /replica set ReplicaSet/.test(t)) && objCol.includes("Object"), rel.join("; "));
  await page.screenshot({ path: `${SHOTS}/resource-light.png` });

  // Keyboard: the first resource link is reachable and opens with Enter.
  await page.goto(`${URL_}/?cluster=prod&from=now-2d`);
  await page.waitForSelector("a.res-link");
  let focused = "";
  for (let i = 0; i < 40 && !focused.includes("res-link"); i++) {
    await page.keyboard.press("Tab");
    focused = await page.evaluate(() => document.activeElement?.className || "");
  }
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/resource\?/, { timeout: 20000 }).then(() => true, () => false)
    .then((r) => ok("the resources are reachable by keyboard: Tab to a name, Enter opens it", r && focused.includes("res-link"), focused));

  // ------------------------------------------------------------ dark, phone, screenshots
  await page.emulateMedia({ colorScheme: "dark" });
  await page.goto(`${URL_}/?cluster=prod&from=now-2d`);
  await page.waitForSelector(".chart-box canvas");
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  ok("the page follows a dark system theme", bg === "rgb(16, 17, 19)", bg);
  await page.screenshot({ path: `${SHOTS}/overview-dark.png` });
  await page.goto(depUrl);
  await page.waitForSelector(".chart-box canvas");
  await page.waitForSelector(".ev-table");
  await page.screenshot({ path: `${SHOTS}/resource-dark.png` });
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
  await phone.goto(`${URL_}/?cluster=prod&from=now-2d`);
  await phone.waitForSelector("table.res-table tbody tr");
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  ok(`at 390 px the page does not scroll sideways (${overflow} px beyond)`, overflow <= 0, overflow);
  await phone.screenshot({ path: `${SHOTS}/overview-phone.png`, fullPage: false });

  ok("no script error and no Content-Security-Policy violation on any page",
    pageErrors.length === 0 && !cspViolations.some((m) => /Content Security Policy/.test(m)), [...pageErrors, ...cspViolations].join("\n"));
} catch (e) {
  ok("the browser checks ran to the end", false, e.stack || e);
} finally {
  await browser.close();
}
process.exit(failures ? 1 : 0);
