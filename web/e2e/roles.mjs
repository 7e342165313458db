// Roles in the UI (run by TestUIRoles with API_TOKENS set): the sign-in screen, then
// what a viewer, an operator and an admin are offered.
import { axe, base, check, checkPage, createWaitingMailing, done, gql, launch, open, phones, screens, step } from "./lib.mjs";

const tokens = { viewer: process.env.VIEWER_TOKEN, operator: process.env.OPERATOR_TOKEN, admin: process.env.ADMIN_TOKEN };
const admin = tokens.admin;

step("data");
await gql(`mutation ($in: [CreateClientInput!]!) { createClients(input: $in) { id } }`, { in: phones(20, 79003000000).map((phone) => ({ phone, tag: "vip" })) }, admin);
await gql(`mutation { optOut(phone: "79003000000", reason: "asked") { id } }`, {}, admin);
const m = await createWaitingMailing("Roles", undefined, admin);

const browser = await launch();

step("sign-in: a wrong token is refused, a right one lets the viewer in");
{
  const page = await open(browser);
  await page.goto(base + "/ui/mailings");
  await page.waitForURL(/\/ui\/signin\?next=/);
  await page.getByLabel("API token").fill("not-a-token-of-this-service");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByTestId("signin-error").filter({ hasText: "That token was refused." }).waitFor();
  await page.getByLabel("API token").fill(tokens.viewer);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Mailings", level: 1 }).waitFor();
  await page.getByTestId("viewer").filter({ hasText: "vera · viewer" }).waitFor();
  check((await page.evaluate(() => localStorage.length)) === 0, "the token went to localStorage");
  checkPage(page);
  await page.context().close();
}
await screens(browser, [["signin", "/ui/signin", (p) => p.getByRole("heading", { name: "Sign in to Notify" }).waitFor()]]);

async function as(role, path, ready) {
  const page = await open(browser, undefined, tokens[role]);
  await page.goto(base + path);
  await ready(page);
  return page;
}
const heading = (name) => (p) => p.getByRole("heading", { name, level: 1 }).waitFor();
const buttons = async (page, names) => {
  const found = [];
  for (const n of names) if ((await page.getByRole("button", { name: n, exact: true }).count()) > 0) found.push(n);
  return found;
};
const writes = ["New mailing", "Edit", "Pause", "Resume", "Cancel mailing", "Delete", "New client", "Import", "Opt out", "Opt in", "Send now"];

step("a viewer is offered no write action");
for (const [path, ready] of [
  ["/ui/mailings", (p) => p.locator("[data-mailing]").first().waitFor()],
  // 19 recipients: one of the 20 phones opted out.
  [`/ui/mailings/${m.id}`, (p) => p.locator('[data-testid="count-QUEUED"][data-count="19"]').waitFor()],
  ["/ui/clients", (p) => p.locator("[data-client]").first().waitFor()],
  ["/ui/opt-outs", (p) => p.locator("[data-phone]").first().waitFor()],
  ["/ui/report", heading("Daily report")],
]) {
  const page = await as("viewer", path, ready);
  const offered = await buttons(page, writes);
  check(offered.length === 0 && (await page.getByRole("link", { name: "New mailing" }).count()) === 0, `a viewer is offered ${offered} on ${path}`);
  check((await page.getByRole("link", { name: "Audit log" }).count()) === 0, "a viewer is offered the audit log");
  checkPage(page);
  await page.context().close();
}
{
  const page = await as("viewer", "/ui/mailings/new", (p) => p.getByText("Composing mailings needs an operator's role.").waitFor());
  await page.context().close();
}

step("an operator may change and pause, not delete");
{
  const page = await as("operator", `/ui/mailings/${m.id}`, (p) => p.getByRole("button", { name: "Pause" }).waitFor());
  const offered = await buttons(page, ["Pause", "Cancel mailing", "Delete"]);
  check(offered.join() === "Pause,Cancel mailing", `an operator is offered ${offered}`);
  check((await page.getByRole("link", { name: "Edit" }).count()) === 1, "an operator may edit");
  await page.goto(base + "/ui/clients");
  await page.locator("[data-client]").first().waitFor();
  check((await page.getByRole("button", { name: /^Edit client/ }).count()) > 0, "an operator may edit clients");
  check((await buttons(page, ["Delete", "Send now"])).length === 0, "an operator is offered delete");
  check((await page.getByRole("button", { name: "Import" }).count()) === 1, "an operator may import");
  // The export carries the tab's token (a plain link could not).
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Export CSV" }).click()]);
  const csv = await (await import("node:fs/promises")).readFile(await download.path(), "utf8");
  const rows = csv.trim().split(/\r?\n/);
  check(rows[0].includes("phone") && rows.length === 21, `the export: ${rows.length} lines, header ${rows[0]}`);
  check((await page.getByRole("link", { name: "Audit log" }).count()) === 0, "an operator is offered the audit log");
  checkPage(page);
  await page.context().close();
}

step("an admin may delete, and reads the audit log");
{
  const page = await as("admin", `/ui/mailings/${m.id}`, (p) => p.getByRole("button", { name: "Delete" }).waitFor());
  await page.getByRole("link", { name: "Audit log" }).click();
  await page.getByTestId("audit").getByText("mailing.create").first().waitFor();
  await axe(page, "audit log with entries");
  checkPage(page);
  await page.context().close();
}
await browser.close();
done();
