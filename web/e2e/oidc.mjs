// Sign-in through the OIDC provider (run by TestUIOIDC): Authorization Code with PKCE.
// The provider's tokens live 6 s (the service refuses each 6 s after it is issued) and
// come with a refresh token: the UI renews its token by itself, goes on working after
// the first token is refused, and its socket reconnects with the renewed one; once the
// provider refuses the refresh token (REVOKE), the API's next refusal sends the tab
// through the provider again and back to the same screen.
import { ask, base, check, checkPage, done, launch, open, step } from "./lib.mjs";

const idp = process.env.OIDC_ORIGIN;
const browser = await launch();
const page = await open(browser);

// What the page asks of the provider and what its token endpoint answers.
const urls = [];
const answers = []; // { grant, status, refresh }
page.on("request", (r) => urls.push(r.url()));
// The API's refusals of the page's requests.
let refusals = 0;
page.on("response", (r) => r.url() === base + "/query" && r.status() === 401 && refusals++);
// Passed on through Playwright, which reads the answer before the page can leave it.
await page.route(idp + "/token", async (route) => {
  const res = await route.fetch();
  if (route.request().method() === "POST") {
    const grant = new URLSearchParams(route.request().postData() ?? "").get("grant_type");
    const body = await res.json().catch(() => ({}));
    answers.push({ grant, status: res.status(), refresh: body.refresh_token });
  }
  await route.fulfill({ response: res });
});
// The socket's connection_init messages, each with the token it carried.
const inits = [];
page.on("websocket", (ws) =>
  ws.on("framesent", ({ payload }) => {
    try {
      const m = JSON.parse(String(payload));
      if (m.type === "connection_init") inits.push(m.payload?.authorization ?? "");
    } catch {}
  }),
);

// until waits for cond (re-checked every 50 ms) and fails after 30 s.
async function until(cond, what) {
  const end = Date.now() + 30_000;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`waited 30 s for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const stored = () => page.evaluate(() => ({ token: sessionStorage.getItem("notify.token"), oidc: JSON.parse(sessionStorage.getItem("notify.oidc") ?? "null") }));
const signIns = () => urls.filter((u) => u.startsWith(idp + "/auth")).length;
// refused reports whether the service refuses token now.
const refused = async (token) =>
  (
    await fetch(base + "/query", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: "{ me { name } }" }),
    })
  ).status === 401;

step("the UI asks for a sign-in, and offers the organisation's");
await page.goto(base + "/ui/mailings");
await page.waitForURL(/\/ui\/signin\?next=/);
await page.getByRole("button", { name: "Sign in with your organisation" }).click();
step("back from the provider with a code, exchanged for a token and a refresh token");
await page.getByRole("heading", { name: "Mailings", level: 1 }).waitFor();
check(new URL(page.url()).pathname === "/ui/mailings", `landed on ${page.url()}`);
await page.getByTestId("viewer").filter({ hasText: "u-42 (Olga) · operator" }).waitFor();
await page.getByRole("link", { name: "New mailing" }).waitFor();
check((await page.getByRole("link", { name: "Audit log" }).count()) === 0, "an operator is offered the audit log");
check(!page.url().includes("code="), "the code stayed in the URL");
check((await page.evaluate(() => sessionStorage.getItem("notify.pkce"))) === null, "the PKCE verifier was kept");
const first = await stored();
check(first.token && typeof first.oidc?.refresh === "string", `the tab keeps its token and refresh token: ${JSON.stringify(first.oidc)}`);
check(answers[0]?.grant === "authorization_code" && answers[0].refresh === first.oidc.refresh, "the refresh token kept is not the provider's");
step("the live socket takes the token too");
await page.getByTestId("connection").filter({ hasText: "live" }).waitFor();

step("the token is renewed by itself before it expires, with the refresh token");
await until(() => answers.some((a) => a.grant === "refresh_token" && a.status === 200), "a renewal");
await until(async () => (await stored()).token !== first.token, "the renewed token in the tab");
step("the first token is refused by the service now: the UI goes on with the renewed one");
await until(() => refused(first.token), "the first token to be refused");
await page.getByRole("navigation", { name: "Screens" }).getByRole("link", { name: "Clients" }).click();
await page.getByTestId("clients-total").waitFor();
await page.getByTestId("viewer").filter({ hasText: "u-42 (Olga)" }).waitFor();
check(new URL(page.url()).pathname === "/ui/clients" && signIns() === 1, `after the renewal: ${page.url()}, ${signIns()} sign-ins`);

step("the socket reconnects with the renewed token");
await ask("RESTART");
await page.getByTestId("reconnecting").waitFor({ timeout: 30_000 });
const before = inits.length;
await ask("START");
await page.getByTestId("reconnecting").waitFor({ state: "detached", timeout: 30_000 });
await page.getByTestId("connection").filter({ hasText: "live" }).waitFor();
const again = inits.slice(before);
check(again.length === 1, `${again.length} connection_init messages after the restart (one refused?)`);
check(again[0] !== `Bearer ${first.token}`, "the socket reconnected with the first token");
check(signIns() === 1, "signed in again");
check(refusals === 0, `${refusals} requests of the page were refused: sent with a token not renewed in time`);

step("the provider refuses the refresh token: the API's next refusal sends the tab through the provider, back to this screen");
await ask("REVOKE");
await until(() => answers.some((a) => a.grant === "refresh_token" && a.status === 400), "a refused renewal");
const last = await stored();
check(!last.oidc?.refresh, `the refused refresh token was kept: ${JSON.stringify(last.oidc)}`);
await until(() => refused(last.token), "the last token to be refused");
await page.getByLabel("Phone contains").fill("7900");
const signInAgain = page.waitForRequest((r) => r.url().startsWith(idp + "/auth"));
const back = page.waitForEvent("framenavigated", (f) => f === page.mainFrame() && f.url() === base + "/ui/clients");
await page.getByRole("button", { name: "Search" }).click();
await signInAgain;
await back;
await page.getByRole("heading", { name: "Clients", level: 1 }).waitFor();
await page.getByTestId("clients-total").waitFor();
await page.getByTestId("viewer").filter({ hasText: "u-42 (Olga) · operator" }).waitFor();
const now = await stored();
check(now.token !== last.token && typeof now.oidc?.refresh === "string", "no new token and refresh token after signing in again");

step("the refresh tokens never went in a URL nor in localStorage");
const refreshTokens = answers.map((a) => a.refresh).filter(Boolean);
check(refreshTokens.length >= 3, `${refreshTokens.length} refresh tokens seen`);
for (const u of urls) check(!refreshTokens.some((r) => u.includes(r) || u.includes(encodeURIComponent(r))), `a refresh token in ${u}`);
check((await page.evaluate(() => localStorage.length)) === 0, "localStorage holds something");
checkPage(page);
await browser.close();
done();
