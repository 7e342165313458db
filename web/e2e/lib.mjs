// Shared by the end-to-end scripts: Debian's Chromium driven by playwright-core (no
// browser download), a page that fails the run on any console error, CSP violation or
// request leaving the service, and small helpers. The scripts are run by ui_test.go
// against the real binary; NOTIFY_URL is the service, SHOTS the screenshot folder.
import { chromium } from "playwright-core";
import { AxeBuilder } from "@axe-core/playwright";
import { mkdirSync } from "node:fs";

export const base = process.env.NOTIFY_URL;
if (!base) {
  console.error("NOTIFY_URL is required");
  process.exit(2);
}
export const shots = process.env.SHOTS || "";

export const desktop = { width: 1280, height: 800 };
export const phone = { width: 390, height: 844 };

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
}

// open returns a page whose problems (errors in the console, uncaught exceptions,
// CSP violations, requests to another origin) are collected in page.problems.
const pages = new Set();

// On a failure, a picture of every open page goes next to the screenshots.
async function failed(err) {
  console.error(err);
  let i = 0;
  for (const p of pages) {
    try {
      if (shots) await p.screenshot({ path: `${shots}/failure-${i++}.png` });
      console.error(`page ${p.url()}:\n` + (await p.locator("body").innerText()).slice(0, 2000));
    } catch {}
  }
  process.exit(1);
}
process.on("uncaughtException", failed);
process.on("unhandledRejection", failed);

export async function open(browser, viewport = desktop, token) {
  const context = await browser.newContext({ viewport });
  if (token) {
    await context.addInitScript((t) => sessionStorage.setItem("notify.token", t), token);
  }
  const page = await context.newPage();
  pages.add(page);
  page.setDefaultTimeout(60_000);
  page.on("close", () => pages.delete(page));
  page.problems = [];
  page.on("console", (m) => {
    if (m.type() === "error" && !/WebSocket|Failed to load resource|ERR_CONNECTION_REFUSED|net::/.test(m.text())) {
      page.problems.push(`console: ${m.text()}`);
    }
  });
  page.on("pageerror", (e) => page.problems.push(`exception: ${e.message}`));
  page.on("request", (r) => {
    const u = r.url();
    const idp = process.env.OIDC_ORIGIN; // the test's own identity provider, on loopback too
    if (!u.startsWith(base) && !u.startsWith(base.replace(/^http/, "ws")) && !u.startsWith("data:") && !u.startsWith("blob:") && !(idp && u.startsWith(idp))) {
      page.problems.push(`request outside the service: ${u}`);
    }
  });
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) =>
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  return page;
}

export function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

// checkPage fails on the page's collected problems.
export function checkPage(page) {
  if (page.problems.length) throw new Error("page problems:\n" + page.problems.join("\n"));
}

// axe runs axe-core on the page and fails on a serious or critical violation.
export async function axe(page, name) {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  if (bad.length) {
    throw new Error(
      `axe on ${name}: ` +
        bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`).join("; "),
    );
  }
  return result.violations.length;
}

// shot writes a screenshot when SHOTS names a folder.
export async function shot(page, name) {
  if (!shots) return;
  mkdirSync(shots, { recursive: true });
  const vp = page.viewportSize();
  await page.screenshot({ path: `${shots}/${name}-${vp.width}x${vp.height}.png`, fullPage: false });
}

// gql runs a GraphQL operation against the service (the tests' own setup, not the UI's).
export async function gql(query, variables = {}, token) {
  const res = await fetch(base + "/query", {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(`${query.slice(0, 60)}…: ${JSON.stringify(body.errors).slice(0, 600)}`);
  return body.data;
}

// createWaitingMailing creates a mailing that started a minute ago and ends in a day,
// its send window two to three hours from now: it is RUNNING, its messages wait for
// the window. filter narrows its clients (all of them without it); token is gql's.
export async function createWaitingMailing(text, filter, token) {
  const now = Date.now();
  const { createMailing } = await gql(
    `mutation ($in: CreateMailingInput!) { createMailing(input: $in) { id } }`,
    {
      in: {
        text,
        startAt: new Date(now - 60_000).toISOString(),
        endAt: new Date(now + 24 * 3600_000).toISOString(),
        filter,
        sendWindow: { from: hhmm(new Date(now + 2 * 3600_000)), to: hhmm(new Date(now + 3 * 3600_000)) },
      },
    },
    token,
  );
  return createMailing;
}

export function step(msg) {
  console.log(`STEP ${msg}`);
}

// The Go test's answers on stdin, line by line.
import { createInterface } from "node:readline";
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

// ask prints a request to the Go test (RESTART, START) and waits for its answer.
export async function ask(what) {
  console.log(what);
  const { value, done } = await lines.next();
  if (done) throw new Error(`no answer to ${what}`);
  return value;
}

// screens visits paths at both sizes: axe-core on each, and a screenshot.
export async function screens(browser, paths, token) {
  for (const viewport of [desktop, phone]) {
    const page = await open(browser, viewport, token);
    for (const [name, path, ready] of paths) {
      await page.goto(base + path);
      await ready(page);
      await page.waitForTimeout(300); // transitions settle before the picture
      await axe(page, `${name} at ${viewport.width}x${viewport.height}`);
      await shot(page, name);
    }
    checkPage(page);
    await page.context().close();
  }
}

export function phones(n, from) {
  return Array.from({ length: n }, (_, i) => String(from + i));
}

export function hhmm(d) {
  return `${String(d.getUTCHours()).padStart(2, "0")}:${String(d.getUTCMinutes()).padStart(2, "0")}`;
}

// done ends the script (stdin, read for the Go test's answers, would keep it alive).
export function done() {
  console.log("STEP done");
  process.exit(0);
}
