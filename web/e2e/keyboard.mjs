// The main actions with the keyboard only (run by TestUIKeyboard in ui_test.go): Tab,
// Shift+Tab, Enter, Space and Escape, never the mouse. The skip link; the navigation to
// the mailings; the new mailing form opened, filled (text, a tag, the send window's
// checkbox) and submitted; on a running mailing, the cancel confirmation opened, kept
// closed with Escape (the focus back on its button, never outside the dialog while it
// is open), opened again and confirmed; on the clients, New client's dialog filled and
// sent (the focus back on its button), a client's Delete kept with Escape, then confirmed,
// the focus then on the Delete of the row in its place; a CSV file chosen in the import's
// file picker (Space) and imported; the clients' next and previous page; the mailings
// filtered by status with the arrows; the daily report sent; two phones opted out with
// the form and back in through their confirmations, the focus on the next row's Opt in,
// then on the table.
import { base, check, checkPage, createWaitingMailing, done, gql, launch, open, phones, step } from "./lib.mjs";

const N = 30;
step("clients, and a mailing waiting for its send window");
await gql(`mutation ($in: [CreateClientInput!]!) { createClients(input: $in) { id } }`, {
  in: phones(N, 79003000000).map((phone) => ({ phone, tag: "kbd", timezone: "UTC" })),
});
const now = new Date();
const waiting = await createWaitingMailing("Waits for its window", { tags: ["kbd"] });

const browser = await launch();
const page = await open(browser);
// The file choosers the page opens, intercepted from the start: a listener added just
// before the key press that opens one can come too late, and the chooser goes unseen.
const choosers = [];
page.on("filechooser", (c) => choosers.shift()?.(c));
const nextChooser = () =>
  new Promise((resolve, reject) => {
    choosers.push(resolve);
    setTimeout(() => reject(new Error("no file chooser opened in 30 s")), 30_000);
  });

// focused describes the element that has the focus, for the failures.
const focused = () =>
  page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return "the page itself";
    const name = (el.getAttribute("aria-label") || el.textContent || el.getAttribute("name") || "").trim().slice(0, 40);
    return `<${el.tagName.toLowerCase()}> "${name}"`;
  });
const hasFocus = (target) => target.evaluate((el) => el === document.activeElement);

// moved waits (10 s at most) for the focus to be somewhere once what had it is gone.
const moved = () => page.waitForFunction(() => document.activeElement !== document.body, null, { timeout: 10_000 }).catch(() => {});

// tabTo presses Tab (Shift+Tab when back) until target has the focus, and fails when
// it is not reached: a control the keyboard cannot reach.
async function tabTo(target, what, { back = false, max = 80 } = {}) {
  await target.waitFor();
  for (let i = 1; i <= max; i++) {
    await page.keyboard.press(back ? "Shift+Tab" : "Tab");
    if (await hasFocus(target)) return i;
  }
  throw new Error(`${what}: not reached in ${max} presses of ${back ? "Shift+Tab" : "Tab"} (the focus is on ${await focused()})`);
}

// ring checks that the focused control shows where the focus is.
async function ring(target, what) {
  const visible = await target.evaluate((el) => {
    const s = getComputedStyle(el);
    return (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== "none";
  });
  check(visible, `${what} has the focus but shows no focus ring`);
}

step("the skip link moves past the navigation to the content");
await page.goto(base + "/ui/");
await page.getByRole("heading", { name: "Dashboard", level: 1 }).waitFor();
const skip = page.getByRole("link", { name: "Skip to content" });
await tabTo(skip, "the skip link", { max: 1 });
await page.keyboard.press("Enter");
await page.keyboard.press("Tab");
const inMain = await page.evaluate(() => !!document.activeElement?.closest("main"));
check(inMain, `after the skip link, Tab went to ${await focused()}, not into the content`);

step("the navigation: Mailings, then New mailing, with Enter");
await page.goto(base + "/ui/");
await page.getByRole("heading", { name: "Dashboard", level: 1 }).waitFor();
const navMailings = page.getByRole("navigation", { name: "Screens" }).getByRole("link", { name: "Mailings" });
await tabTo(navMailings, "the Mailings link");
await ring(navMailings, "the Mailings link");
await page.keyboard.press("Enter");
await page.getByRole("heading", { name: "Mailings", level: 1 }).waitFor();
const newMailing = page.getByRole("link", { name: "New mailing" });
// A new screen takes the focus to its content: the next Tab is its first control.
await tabTo(newMailing, "New mailing", { max: 1 });
await ring(newMailing, "New mailing");
await page.keyboard.press("Enter");
await page.getByRole("heading", { name: "New mailing", level: 1 }).waitFor();

step("the form: text, a tag with Enter, the window's checkbox with Space, submitted with Enter");
const text = page.getByRole("textbox", { name: /^Text/ });
await tabTo(text, "the text, the form's first control", { max: 1 });
await page.keyboard.type("Typed without a mouse");
const tags = page.getByRole("combobox", { name: "Tags" });
await tabTo(tags, "the tags");
await page.keyboard.type("kbd");
await page.keyboard.press("Enter");
check(page.url().endsWith("/ui/mailings/new"), "Enter in the tags submitted the form");
await page.locator(`[data-testid="audience-count"][data-count="${N}"]`).waitFor();
const windowBox = page.getByRole("checkbox", { name: /daily window/ });
await tabTo(windowBox, "the send window's checkbox");
await page.keyboard.press("Space");
await page.getByRole("textbox", { name: "From", exact: true }).waitFor();
check(await windowBox.isChecked(), "Space did not tick the send window");
await page.keyboard.press("Space");
await page.getByRole("textbox", { name: "From", exact: true }).waitFor({ state: "detached" });
const create = page.getByRole("button", { name: "Create mailing" });
await tabTo(create, "Create mailing");
await ring(create, "Create mailing");
await page.keyboard.press("Enter");
await page.waitForURL(/\/ui\/mailings\/\d+$/);
const created = page.url().split("/").pop();
check(created !== waiting.id, "no new mailing");
await page.getByRole("heading", { level: 1 }).locator("[data-status]").waitFor();
check(await page.evaluate(() => !!document.activeElement?.closest("main")), `after the form, the focus is on ${await focused()}, not on the new screen`);
const { mailing } = await gql(`query ($id: ID!) { mailing(id: $id) { text filter { tags } sendWindow { from } } }`, { id: created });
check(mailing.text === "Typed without a mouse" && mailing.filter.tags.join() === "kbd" && mailing.sendWindow === null, `the mailing: ${JSON.stringify(mailing)}`);

step("from the list to the waiting mailing, with Enter");
await tabTo(navMailings, "the Mailings link");
await page.keyboard.press("Enter");
await page.getByRole("heading", { name: "Mailings", level: 1 }).waitFor();
const listed = page.locator(`[data-mailing="${waiting.id}"]`).getByRole("link").first();
await tabTo(listed, `mailing ${waiting.id} in the list`);
await page.keyboard.press("Enter");
await page.waitForURL(new RegExp(`/ui/mailings/${waiting.id}$`));
const statusBadge = () => page.getByRole("heading", { level: 1 }).locator("[data-status]");
await statusBadge().and(page.locator('[data-status="RUNNING"]')).waitFor();

step("the cancel confirmation: Enter opens it, the focus stays in it, Escape closes it");
const cancel = page.getByRole("button", { name: "Cancel mailing" });
await tabTo(cancel, "Cancel mailing");
await ring(cancel, "Cancel mailing");
await page.keyboard.press("Enter");
const dialog = page.getByRole("dialog");
await dialog.waitFor();
const inDialog = () => page.evaluate(() => !!document.activeElement?.closest('[role="dialog"]'));
check(await inDialog(), `the dialog opened with the focus on ${await focused()}`);
for (let i = 0; i < 6; i++) {
  await page.keyboard.press(i % 2 ? "Shift+Tab" : "Tab");
  check(await inDialog(), `Tab left the open dialog for ${await focused()}`);
}
await page.keyboard.press("Escape");
await dialog.waitFor({ state: "detached" });
check(await hasFocus(cancel), `Escape closed the dialog and left the focus on ${await focused()}, not on its button`);
await statusBadge().and(page.locator('[data-status="RUNNING"]')).waitFor();

step("Space opens it again; Tab to the confirmation, Space confirms");
await page.keyboard.press("Space");
await dialog.waitFor();
const confirm = dialog.getByRole("button", { name: "Cancel the mailing" });
await tabTo(confirm, "Cancel the mailing, in the dialog", { max: 6 });
await ring(confirm, "Cancel the mailing");
await page.keyboard.press("Space");
await statusBadge().and(page.locator('[data-status="CANCELLED"]')).waitFor();
await page.locator(`[data-testid="count-CANCELLED"][data-count="${N}"]`).waitFor();

step("clients: New client with Enter, filled and sent with Enter; the focus comes back to its button");
const navClients = page.getByRole("navigation", { name: "Screens" }).getByRole("link", { name: "Clients" });
await tabTo(navClients, "the Clients link");
await page.keyboard.press("Enter");
await page.getByRole("heading", { name: "Clients", level: 1 }).waitFor();
const newClient = page.getByRole("button", { name: "New client" });
await tabTo(newClient, "New client");
await ring(newClient, "New client");
await page.keyboard.press("Enter");
await dialog.waitFor();
const phone = dialog.getByRole("textbox", { name: /^Phone/ });
await tabTo(phone, "the phone, in the dialog", { max: 4 });
await page.keyboard.type("79005550001");
await page.keyboard.press("Enter");
await dialog.waitFor({ state: "detached" });
const row = (p) => page.getByRole("row").filter({ hasText: p });
await row("79005550001").waitFor();
check(await hasFocus(newClient), `after the dialog, the focus is on ${await focused()}, not on New client`);

step("clients: Delete, Escape keeps the client, Delete again and Enter on the confirmation");
const del = row("79005550001").getByRole("button", { name: /^Delete/ });
await tabTo(del, "the client's Delete");
await page.keyboard.press("Enter");
await dialog.waitFor();
check(await inDialog(), `the dialog opened with the focus on ${await focused()}`);
await page.keyboard.press("Escape");
await dialog.waitFor({ state: "detached" });
check(await hasFocus(del), `Escape closed the dialog and left the focus on ${await focused()}, not on the client's Delete`);
await page.keyboard.press("Enter");
await dialog.waitFor();
const clientRows = page.locator("[data-client]");
const deletedAt = await clientRows.evaluateAll((rows) => rows.findIndex((r) => r.dataset.client === "79005550001"));
await tabTo(dialog.getByRole("button", { name: "Delete" }), "Delete, in the dialog", { max: 6 });
await page.keyboard.press("Enter");
await row("79005550001").waitFor({ state: "detached" });
// The row in its place (the one before, when it was the last) has the focus on its Delete.
const inPlace = clientRows.nth(Math.min(deletedAt, (await clientRows.count()) - 1));
await moved();
check(await hasFocus(inPlace.getByRole("button", { name: /^Delete/ })), `after the delete, the focus is on ${await focused()}, not on the Delete of the row in its place`);

step("import: the file picker opened with Space, a file chosen, imported with Enter");
// Two pages of clients once the import has the list fetched again.
await gql(`mutation ($in: [CreateClientInput!]!) { createClients(input: $in) { id } }`, {
  in: phones(100, 79007000000).map((phone) => ({ phone, tag: "paged", timezone: "UTC" })),
});
const picker = page.getByLabel("CSV file");
await tabTo(picker, "the import's file picker");
await ring(picker, "the import's file picker");
const chooser = nextChooser();
await page.keyboard.press("Space");
await (await chooser).setFiles({ name: "keyboard.csv", mimeType: "text/csv", buffer: Buffer.from("phone,tag\n79006660001,csv\n79006660002,csv\n") });
await picker.filter({ hasText: "keyboard.csv" }).waitFor();
await tabTo(page.getByRole("button", { name: "Import", exact: true }), "Import");
await page.keyboard.press("Enter");
await page.locator('[data-testid="import-result"][data-state="FINISHED"][data-imported="2"]').waitFor();

step("clients: the next page and back with Enter, the focus kept on the pager");
const total = page.getByTestId("clients-total");
await total.filter({ hasText: "page 1 of 2" }).waitFor();
const next = page.getByRole("button", { name: "Next", exact: true });
await tabTo(next, "Next page", { back: true });
await ring(next, "Next page");
await page.keyboard.press("Enter");
await total.filter({ hasText: "page 2 of 2" }).waitFor();
await row("79007000099").waitFor();
check(await hasFocus(next), `on the last page, the focus is on ${await focused()}, not on Next`);
const previous = page.getByRole("button", { name: "Previous", exact: true });
await tabTo(previous, "Previous page", { back: true, max: 2 });
await page.keyboard.press("Enter");
await total.filter({ hasText: "page 1 of 2" }).waitFor();
check(await hasFocus(previous), `on the first page, the focus is on ${await focused()}, not on Previous`);

step("mailings: the status filter changed with the arrows and Enter");
// Back over the page's 100 rows, each with Edit and Delete.
await tabTo(navMailings, "the Mailings link", { back: true, max: 300 });
await page.keyboard.press("Enter");
await page.getByRole("heading", { name: "Mailings", level: 1 }).waitFor();
const mailingRows = page.locator("[data-mailing]");
await mailingRows.nth(1).waitFor();
const statusFilter = page.getByRole("textbox", { name: "Status" }).or(page.getByRole("combobox", { name: "Status" }));
await tabTo(statusFilter, "the status filter");
await ring(statusFilter, "the status filter");
// chooseStatus opens the filter's list and moves to label with the arrows.
async function chooseStatus(label) {
  await page.keyboard.press("ArrowDown");
  const listbox = page.getByRole("listbox");
  await listbox.waitFor();
  for (let i = 0; i < 8; i++) {
    if ((await listbox.locator("[data-combobox-selected]").textContent().catch(() => "")) === label) break;
    await page.keyboard.press("ArrowDown");
  }
  await page.keyboard.press("Enter");
  await listbox.waitFor({ state: "detached" });
  check((await statusFilter.inputValue()) === label, `the filter says ${await statusFilter.inputValue()}, not ${label}`);
}
await chooseStatus("cancelled");
await page.locator(`[data-mailing="${waiting.id}"]`).waitFor();
await page.locator(`[data-mailing="${created}"]`).waitFor({ state: "detached" });
check((await mailingRows.count()) === 1, `${await mailingRows.count()} mailings listed as cancelled`);
await chooseStatus("any");
await page.locator(`[data-mailing="${created}"]`).waitFor();
check(await hasFocus(statusFilter), `after the filter, the focus is on ${await focused()}`);

step("the daily report: sent with Enter");
const navReport = page.getByRole("navigation", { name: "Screens" }).getByRole("link", { name: "Daily report" });
await tabTo(navReport, "the Daily report link", { back: true });
await page.keyboard.press("Enter");
await page.getByRole("heading", { name: "Daily report", level: 1 }).waitFor();
await page.getByTestId("report").waitFor();
const send = page.getByRole("button", { name: "Send now" });
await tabTo(send, "Send now");
await ring(send, "Send now");
await page.keyboard.press("Enter");
await page.getByRole("status").filter({ hasText: /went out by email/ }).waitFor();

step("opt-outs: two phones opted out with the form's Enter, and back in through their confirmations");
const navOptOuts = page.getByRole("navigation", { name: "Screens" }).getByRole("link", { name: "Opt-outs" });
await tabTo(navOptOuts, "the Opt-outs link", { back: true });
await page.keyboard.press("Enter");
await page.getByRole("heading", { name: "Opt-outs", level: 1 }).waitFor();
const phoneToOptOut = page.getByRole("textbox", { name: /^Phone to opt out/ });
for (const p of ["79003000001", "79003000002"]) {
  await tabTo(phoneToOptOut, "the phone to opt out", { back: true });
  await page.keyboard.type(p);
  await page.keyboard.press("Tab");
  await page.keyboard.type("asked by phone");
  await page.keyboard.press("Enter");
  await page.locator(`[data-phone="${p}"]`).waitFor();
}
const optedOut = page.locator("[data-phone]");
const first = await optedOut.first().getAttribute("data-phone");
const optIn = optedOut.first().getByRole("button", { name: "Opt in" });
await tabTo(optIn, "the phone's Opt in");
await page.keyboard.press("Enter");
await dialog.waitFor();
await tabTo(dialog.getByRole("button", { name: "Opt in" }), "Opt in, in the dialog", { max: 6 });
await page.keyboard.press("Enter");
await page.locator(`[data-phone="${first}"]`).waitFor({ state: "detached" });
await moved();
check(await hasFocus(optedOut.first().getByRole("button", { name: "Opt in" })), `after the opt-in, the focus is on ${await focused()}, not on the next row's Opt in`);
step("the last one: the focus on the table");
await page.keyboard.press("Enter");
await dialog.waitFor();
await tabTo(dialog.getByRole("button", { name: "Opt in" }), "Opt in, in the dialog", { max: 6 });
await page.keyboard.press("Enter");
await optedOut.first().waitFor({ state: "detached" });
const optOutsTable = page.getByRole("region", { name: "Opted-out phones" });
await moved();
check(await hasFocus(optOutsTable), `after the last opt-in, the focus is on ${await focused()}, not on the table`);

step("mailings: More with Enter, the focus on the first row it added");
// 50 a page: 50 more mailings (not due for a day) give the list a second page.
for (let i = 0; i < 50; i++) {
  await gql(`mutation ($in: CreateMailingInput!) { createMailing(input: $in) { id } }`, {
    in: { text: `More ${i}`, startAt: new Date(now.getTime() + 24 * 3600_000).toISOString(), endAt: new Date(now.getTime() + 48 * 3600_000).toISOString(), filter: { tags: ["kbd"] } },
  });
}
await tabTo(navMailings, "the Mailings link", { back: true });
await page.keyboard.press("Enter");
await mailingRows.nth(49).waitFor();
const more = page.getByRole("button", { name: "More", exact: true });
await tabTo(more, "More", { max: 300 });
await page.keyboard.press("Enter");
await mailingRows.nth(50).waitFor();
await moved();
check(await hasFocus(mailingRows.nth(50).getByRole("link").first()), `after More, the focus is on ${await focused()}, not on the first row it added`);
check((await more.count()) === 0, "More is still there after the last page");

checkPage(page);
await browser.close();
done();
