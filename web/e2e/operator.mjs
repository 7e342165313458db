// The operator's day in the UI, open mode (run by TestUIOperator in ui_test.go).
import { ask, axe, base, check, checkPage, createWaitingMailing, done, gql, launch, open, phones, screens, shot, step } from "./lib.mjs";

const VIP = 150;
step("clients");
await gql(`mutation ($in: [CreateClientInput!]!) { createClients(input: $in) { id } }`, {
  in: [
    ...phones(VIP, 79001000000).map((phone) => ({ phone, tag: "vip", timezone: "UTC" })),
    ...phones(50, 79112000000).map((phone) => ({ phone, tag: "regular", timezone: "UTC" })),
  ],
});

const browser = await launch();
const page = await open(browser);
const statusBadge = () => page.getByRole("heading", { level: 1 }).locator("[data-status]");

step("keyboard: the first Tab reaches the skip link, which moves to the content");
await page.goto(base + "/ui/mailings/new");
await page.getByRole("heading", { name: "New mailing", level: 1 }).waitFor();
await page.keyboard.press("Tab");
check((await page.evaluate(() => document.activeElement?.textContent)) === "Skip to content", "the first Tab is not the skip link");

step("an error of the API appears under the field it names, in words");
await page.getByRole("button", { name: "Create mailing" }).click();
const text = page.getByRole("textbox", { name: /^Text/ });
await text.and(page.locator('[aria-invalid="true"]')).waitFor();
const described = await text.getAttribute("aria-describedby");
const words = await page.evaluate((ids) => ids.split(" ").map((id) => document.getElementById(id)?.textContent ?? "").join(" "), described ?? "");
check(/character/i.test(words) && !/[{}]/.test(words), `the text field says: ${words}`);

step("compose a mailing with a filter");
await page.getByRole("textbox", { name: /^Text/ }).fill("Hello from the UI test");
const audience = (n) => page.locator(`[data-testid="audience-count"][data-count="${n}"]`).waitFor();
await audience(VIP + 50);
await page.getByRole("combobox", { name: "Operator codes" }).fill("911");
await page.keyboard.press("Enter");
await audience(50);
await page.getByRole("combobox", { name: "Operator codes" }).press("Backspace");
await audience(VIP + 50);
await page.getByRole("combobox", { name: "Tags" }).fill("vip");
await page.keyboard.press("Enter");
await audience(VIP);
await axe(page, "new mailing form");
await page.getByRole("button", { name: "Create mailing" }).click();
await page.waitForURL(/\/ui\/mailings\/\d+$/);
const first = page.url().split("/").pop();

step(`mailing ${first}: the progress bar reaches 100 % with no reload`);
const navigations = [];
page.on("framenavigated", (f) => f === page.mainFrame() && navigations.push(f.url()));
await page.locator('[data-testid="progress"][data-percent="100"]').waitFor({ timeout: 90_000 });
await page.locator(`[data-testid="count-SENT"][data-count="${VIP}"]`).waitFor();
await statusBadge().and(page.locator('[data-status="FINISHED"]')).waitFor();
check(navigations.length === 0, `the page navigated: ${navigations}`);

step("the dashboard's chart starts from the service's history of its sends");
// The service samples its totals every 10 s: wait for the bucket that holds the sends.
const historySent = async () => (await gql(`{ sendHistory { buckets { sent } } }`)).sendHistory.buckets.reduce((n, b) => n + b.sent, 0);
for (const until = Date.now() + 60_000; (await historySent()) < VIP; ) {
  check(Date.now() < until, "the service's send history never held the mailing's sends");
  await new Promise((r) => setTimeout(r, 500));
}
const loaded = Date.now();
await page.goto(base + "/ui/");
const chartWithHistory = (p) => p.locator(`[data-testid="sends-chart"][data-history-sent="${VIP}"]`);
await chartWithHistory(page).waitFor({ timeout: 5_000 });
const points = Number(await chartWithHistory(page).getAttribute("data-history-points"));
check(points >= 1, `the chart holds ${points} points of history`);
console.log(`the chart held ${points} points of history ${Date.now() - loaded} ms after the navigation`);
await screens(browser, [["dashboard", "/ui/", (p) => chartWithHistory(p).waitFor()]]);

step("a mailing waiting for its send window: pause, resume (elsewhere), cancel");
const waiting = await createWaitingMailing("Waits for its window", { tags: ["vip"] });
await page.goto(`${base}/ui/mailings/${waiting.id}`);
await statusBadge().and(page.locator('[data-status="RUNNING"]')).waitFor();
await page.locator(`[data-testid="count-QUEUED"][data-count="${VIP}"]`).waitFor();
await page.getByRole("button", { name: "Pause" }).click();
await statusBadge().and(page.locator('[data-status="PAUSED"]')).waitFor();
// A resume by someone else arrives through the subscription.
await gql(`mutation ($id: ID!) { resumeMailing(id: $id) { id } }`, { id: waiting.id });
await statusBadge().and(page.locator('[data-status="RUNNING"]')).waitFor();
await page.getByRole("button", { name: "Pause" }).waitFor();

step("the service stops: reconnecting; it starts again and a change made meanwhile shows");
await ask("RESTART");
await page.getByTestId("reconnecting").waitFor({ timeout: 30_000 });
await shot(page, "reconnecting");
await ask("START");
// Made before the page has its socket back (the banner is still up): the page can
// only learn it by catching up.
check(await page.getByTestId("reconnecting").isVisible(), "the page reconnected before the change");
await gql(`mutation ($id: ID!) { pauseMailing(id: $id) { id } }`, { id: waiting.id });
await page.getByTestId("reconnecting").waitFor({ state: "detached", timeout: 30_000 });
await statusBadge().and(page.locator('[data-status="PAUSED"]')).waitFor();

step("cancel, with a confirmation");
await page.getByRole("button", { name: "Cancel mailing" }).click();
await page.getByRole("dialog").getByRole("button", { name: "Cancel the mailing" }).click();
await statusBadge().and(page.locator('[data-status="CANCELLED"]')).waitFor();
await page.locator(`[data-testid="count-CANCELLED"][data-count="${VIP}"]`).waitFor();
checkPage(page);
await page.context().close();

step("every other screen at 1280x800 and 390x844: axe-core, screenshots (the dashboard's came with its history)");
const heading = (name) => (p) => p.getByRole("heading", { name, level: 1 }).waitFor();
await screens(browser, [
  ["mailings", "/ui/mailings", (p) => p.locator("[data-mailing]").first().waitFor()],
  ["mailing", `/ui/mailings/${first}`, (p) => p.locator('[data-testid="progress"][data-percent="100"]').waitFor()],
  ["mailing-new", "/ui/mailings/new", heading("New mailing")],
  ["mailing-edit", `/ui/mailings/${waiting.id}/edit`, heading(`Edit mailing ${waiting.id}`)],
  ["clients", "/ui/clients", heading("Clients")],
  ["report", "/ui/report", heading("Daily report")],
  ["audit", "/ui/audit", heading("Audit log")],
  ["opt-outs", "/ui/opt-outs", heading("Opt-outs")],
]);
await browser.close();
done();
