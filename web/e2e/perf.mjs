// The UI's figures (run by TestUIPerformance, `make ui-perf`): the dashboard's first
// load, a page of the clients screen with 100,000 clients, and the mailing page's long
// tasks while its mailing fans out to those clients. Prints "PERF name value unit".
import { base, check, done, gql, launch, open, step } from "./lib.mjs";

const N = Number(process.env.PERF_CLIENTS || 100_000);
const perf = (name, value, unit) => console.log(`PERF ${name} ${typeof value === "number" ? value.toFixed(1) : value} ${unit}`);

step(`${N} clients`);
for (let i = 0; i < N; i += 10_000) {
  const batch = Array.from({ length: Math.min(10_000, N - i) }, (_, j) => ({ phone: String(79100000000 + i + j), tag: j % 2 ? "odd" : "even" }));
  await gql(`mutation ($in: [CreateClientInput!]!) { createClients(input: $in) { id } }`, { in: batch });
}

const browser = await launch();

step("dashboard first load (cold cache)");
for (let run = 0; run < 3; run++) {
  const page = await open(browser);
  await page.goto(base + "/ui/");
  await page.getByTestId("total-messages").waitFor();
  const t = await page.evaluate(() => performance.now());
  const nav = await page.evaluate(() => {
    const n = performance.getEntriesByType("navigation")[0];
    return { dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd };
  });
  perf(`dashboard_first_load_run${run + 1}`, t, "ms");
  perf(`dashboard_dom_content_loaded_run${run + 1}`, nav.dcl, "ms");
  await page.context().close();
}

step("clients screen: pages of 100 of 100,000");
{
  const page = await open(browser);
  await page.goto(base + "/ui/clients");
  await page.getByTestId("clients-total").and(page.locator(`[data-count="${N}"]`)).waitFor();
  const timings = [];
  for (const [label, button] of [["next", "Next"], ["next", "Next"], ["last", "Last"], ["previous", "Previous"], ["first", "First"]]) {
    const before = await page.locator("[data-client]").first().getAttribute("data-client");
    const t0 = await page.evaluate(() => performance.now());
    await page.getByRole("button", { name: button, exact: true }).click();
    await page.waitForFunction((b) => document.querySelector("[data-client]")?.getAttribute("data-client") !== b, before, { polling: "raf" });
    // When the rows changed (checked every frame), and when the page's request ended.
    const { t1, responseEnd } = await page.evaluate((t0) => {
      const q = performance.getEntriesByType("resource").filter((e) => e.name.endsWith("/query") && e.startTime >= t0);
      return { t1: performance.now(), responseEnd: q.length ? q[q.length - 1].responseEnd : t0 };
    }, t0);
    timings.push(t1 - responseEnd);
    perf(`clients_page_${label}_click_to_rows`, t1 - t0, "ms");
    perf(`clients_page_${label}_response_to_rows`, t1 - responseEnd, "ms");
  }
  perf("clients_page_response_to_rows_max", Math.max(...timings), "ms");
  await page.context().close();
}

step("mailing page during the fan-out to every client");
{
  const page = await open(browser);
  await page.goto(base + "/ui/");
  await page.getByTestId("total-messages").waitFor();
  await page.evaluate(() => {
    window.__long = [];
    new PerformanceObserver((l) => window.__long.push(...l.getEntries().map((e) => ({ start: e.startTime, duration: e.duration })))).observe({
      type: "longtask",
      buffered: true,
    });
  });
  const pageT0 = await page.evaluate(() => performance.now());
  const now = Date.now();
  const { createMailing: m } = await gql(`mutation ($in: CreateMailingInput!) { createMailing(input: $in) { id } }`, {
    in: { text: "perf", startAt: new Date(now - 60_000).toISOString(), endAt: new Date(now + 3600_000).toISOString() },
  });
  await page.evaluate((id) => {
    history.pushState(null, "", `/ui/mailings/${id}`);
    dispatchEvent(new PopStateEvent("popstate"));
  }, m.id);
  await page.getByTestId("feed").waitFor();
  // PERF_PROFILE=1 prints where the renderer's main thread spent the fan-out (V8's
  // sampling profiler: self time by function, "(program)" is Chromium's own work).
  const cdp = process.env.PERF_PROFILE ? await page.context().newCDPSession(page) : null;
  if (cdp) {
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.start");
  }
  const t0 = Date.now();
  await page.locator('[data-testid="progress"][data-percent="100"]').first().waitFor({ timeout: 15 * 60_000 });
  const secs = (Date.now() - t0) / 1000;
  // The feed's last batch may follow the progress by a tenth of a second: its count is
  // read once it has every change (one SENT per message), or after 5 s without.
  const feedCount = page.getByTestId("feed-count");
  await feedCount
    .and(page.locator(`[data-count="${N}"]`))
    .waitFor({ timeout: 5_000 })
    .catch(() => {});
  const received = Number(await feedCount.getAttribute("data-count"));
  // The long tasks of the fan-out, from the mailing's creation (the page opens as it
  // starts) to the progress at 100 %: not the app's first load on the dashboard before
  // it (its script's compile), which is printed apart.
  const pageT1 = await page.evaluate(() => performance.now());
  const all = await page.evaluate(() => window.__long);
  const longs = all.filter((e) => e.start >= pageT0 && e.start <= pageT1).map((e) => e.duration);
  const before = all.filter((e) => e.start < pageT0).map((e) => e.duration);
  if (cdp) printProfile((await cdp.send("Profiler.stop")).profile);
  perf("fanout_messages", N, "messages");
  perf("fanout_seconds", secs, "s");
  perf("fanout_rate", N / secs, "msg/s");
  perf("feed_events_received", received, "events");
  perf("feed_event_rate", received / secs, "events/s");
  perf("long_tasks", longs.length, "tasks");
  perf("long_task_max", longs.length ? Math.max(...longs) : 0, "ms");
  perf("long_task_max_before_fanout", before.length ? Math.max(...before) : 0, "ms");
  check(received > 0, "the feed received nothing");
  await page.context().close();
}
await browser.close();
done();

function printProfile({ nodes, samples, timeDeltas }) {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const self = new Map();
  samples.forEach((id, i) => {
    const f = byId.get(id).callFrame;
    const name = `${f.functionName || "(anonymous)"} ${f.url.split("/").pop()}:${f.lineNumber}`;
    self.set(name, (self.get(name) || 0) + (timeDeltas[i] || 0) / 1000);
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  for (const [name, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) perf(`profile ${name}`, (100 * ms) / total, "%");
}
