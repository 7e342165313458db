// Sign-in through the OIDC provider (run by TestUIOIDC): Authorization Code with PKCE.
import { base, check, checkPage, done, launch, open, step } from "./lib.mjs";

const browser = await launch();
const page = await open(browser);
step("the UI asks for a sign-in, and offers the organisation's");
await page.goto(base + "/ui/mailings");
await page.waitForURL(/\/ui\/signin\?next=/);
await page.getByRole("button", { name: "Sign in with your organisation" }).click();
step("back from the provider with a code, exchanged for a token");
await page.getByRole("heading", { name: "Mailings", level: 1 }).waitFor();
check(new URL(page.url()).pathname === "/ui/mailings", `landed on ${page.url()}`);
await page.getByTestId("viewer").filter({ hasText: "u-42 (Olga) · operator" }).waitFor();
await page.getByRole("link", { name: "New mailing" }).waitFor();
check((await page.getByRole("link", { name: "Audit log" }).count()) === 0, "an operator is offered the audit log");
check(!page.url().includes("code="), "the code stayed in the URL");
check((await page.evaluate(() => sessionStorage.getItem("notify.pkce"))) === null, "the PKCE verifier was kept");
step("the live socket takes the token too");
await page.getByTestId("connection").filter({ hasText: "live" }).waitFor();
checkPage(page);
await browser.close();
done();
