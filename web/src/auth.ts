// Credentials of this tab: an API token typed on the sign-in screen, or the JWT an
// OIDC provider returned (Authorization Code + PKCE) with the refresh token it gave
// beside it, if any. Kept in sessionStorage: gone with the tab, never in a URL, never
// in localStorage.
//
// A provider's token is renewed before it expires: at three quarters of its lifetime
// (a minute before its end at most) the refresh token is exchanged for a new one
// (grant_type=refresh_token), by a timer, and before any request or socket that would
// otherwise go out after that time (a tab in the background or a computer asleep
// misses its timer). The lifetime is the JWT's exp − iat, both of the provider's
// clock, counted from when the token arrived: a clock of this computer that is off
// does not make it renew too early or too late. When renewal fails or there is no
// refresh token, the token is used until the API refuses it (apollo.ts), and then the
// tab signs in again.
import type { AppConfig } from "./config";

type OIDCConfig = NonNullable<AppConfig["oidc"]>;

const TOKEN = "notify.token";
const PKCE = "notify.pkce";
// Set when the token came from the provider: its refresh token and when to renew.
const OIDC = "notify.oidc";
// When the tab last went through the provider by itself (signInAgain).
const AGAIN = "notify.again";

type Renewal = { refresh?: string; renewAt?: number };

function renewal(): Renewal | null {
  try {
    return JSON.parse(sessionStorage.getItem(OIDC) ?? "null") as Renewal | null;
  } catch {
    return null;
  }
}

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN);
}

// setToken keeps an API token: nothing to renew.
export function setToken(token: string) {
  sessionStorage.setItem(TOKEN, token);
  sessionStorage.removeItem(OIDC);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN);
  sessionStorage.removeItem(OIDC);
  clearTimeout(timer);
}

// fromProvider reports whether the tab's token came from the OIDC provider.
export function fromProvider(): boolean {
  return !!getToken() && renewal() !== null;
}

// mayGoAgain reports whether the tab may go through the provider by itself now, and
// notes that it does: once a minute at most, so that a token the service refuses at
// once (a wrong audience) ends on the sign-in screen instead of in a loop.
export function mayGoAgain(): boolean {
  const last = Number(sessionStorage.getItem(AGAIN) ?? 0);
  if (Date.now() - last < 60_000) return false;
  sessionStorage.setItem(AGAIN, String(Date.now()));
  return true;
}

function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

type Discovery = { authorization_endpoint: string; token_endpoint: string; scopes_supported?: string[] };

// scopes asks for a refresh token too (offline_access) when the provider lists that scope:
// Auth0, Okta and Entra ID give one only for it, and a provider that does not list it
// (Google) may refuse the request if asked.
function scopes(d: Discovery): string {
  return d.scopes_supported?.includes("offline_access") ? "openid profile offline_access" : "openid profile";
}

let discovered: { issuer: string; doc: Promise<Discovery> } | undefined;

function discover(issuer: string): Promise<Discovery> {
  if (discovered?.issuer !== issuer) {
    const doc = fetch(issuer.replace(/\/$/, "") + "/.well-known/openid-configuration").then(async (res) => {
      if (!res.ok) throw new Error(`the identity provider's discovery answered HTTP ${res.status}`);
      return (await res.json()) as Discovery;
    });
    // A failure is not kept: the next call asks again.
    doc.catch(() => (discovered = undefined));
    discovered = { issuer, doc };
  }
  return discovered.doc;
}

function redirectURI(): string {
  return location.origin + "/ui/signin";
}

// startOIDC sends the browser to the provider's sign-in page.
export async function startOIDC(oidc: OIDCConfig, returnTo: string) {
  const d = await discover(oidc.issuer);
  const verifier = randomString();
  const state = randomString();
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PKCE, JSON.stringify({ verifier, state, returnTo }));
  const u = new URL(d.authorization_endpoint);
  u.search = new URLSearchParams({
    response_type: "code",
    client_id: oidc.clientId,
    redirect_uri: redirectURI(),
    scope: scopes(d),
    state,
    code_challenge: base64url(digest),
    code_challenge_method: "S256",
  }).toString();
  location.assign(u.toString());
}

// Refused is the token endpoint's refusal (HTTP 4xx: a code or refresh token it does
// not take), as against a failure to reach it.
class Refused extends Error {}

type TokenAnswer = { access_token?: string; id_token?: string; refresh_token?: string; expires_in?: number };

async function tokenRequest(oidc: OIDCConfig, params: Record<string, string>): Promise<TokenAnswer> {
  const d = await discover(oidc.issuer);
  const res = await fetch(d.token_endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ ...params, client_id: oidc.clientId }),
  });
  if (!res.ok) {
    const msg = `the identity provider's token endpoint answered HTTP ${res.status}`;
    throw res.status < 500 ? new Refused(msg) : new Error(msg);
  }
  return (await res.json()) as TokenAnswer;
}

// times are a JWT's exp and iat (seconds), as far as it has them.
function times(token: string): { exp?: unknown; iat?: unknown } {
  try {
    return JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))) as { exp?: unknown; iat?: unknown };
  } catch {
    return {};
  }
}

// renewAt is when to renew token, received now: at three quarters of its lifetime,
// a minute before its end at most. Its lifetime is exp − iat, else the answer's
// expires_in, else exp − now.
function renewAt(token: string, expiresIn?: number): number | undefined {
  const { exp, iat } = times(token);
  const now = Date.now();
  const life =
    typeof exp === "number" && typeof iat === "number" && exp > iat
      ? exp - iat
      : typeof expiresIn === "number" && expiresIn > 0
        ? expiresIn
        : typeof exp === "number"
          ? exp - now / 1000
          : 0;
  return life > 0 ? now + (life - Math.min(60, life / 4)) * 1000 : undefined;
}

// keep stores the provider's answer: its token (the access token when it is a JWT,
// else the ID token), its refresh token (or the one used for it, when the provider
// does not rotate them) and when to renew.
function keep(body: TokenAnswer, usedRefresh?: string) {
  const isJWT = (t?: string) => !!t && t.split(".").length === 3;
  const token = isJWT(body.access_token) ? body.access_token! : body.id_token;
  if (!token) throw new Error("the identity provider returned no token");
  const refresh = body.refresh_token ?? usedRefresh;
  sessionStorage.setItem(TOKEN, token);
  sessionStorage.setItem(OIDC, JSON.stringify({ refresh, renewAt: refresh ? renewAt(token, body.expires_in) : undefined } satisfies Renewal));
  schedule();
}

// finishOIDC exchanges the code of the provider's redirect for a token; it returns
// where the user was going.
export async function finishOIDC(oidc: OIDCConfig, params: URLSearchParams): Promise<string> {
  const saved = JSON.parse(sessionStorage.getItem(PKCE) ?? "null") as
    | { verifier: string; state: string; returnTo: string }
    | null;
  sessionStorage.removeItem(PKCE);
  if (params.get("error")) throw new Error(`the identity provider refused: ${params.get("error_description") ?? params.get("error")}`);
  if (!saved || saved.state !== params.get("state")) throw new Error("the sign-in answer does not match this tab's request; sign in again");
  keep(
    await tokenRequest(oidc, {
      grant_type: "authorization_code",
      code: params.get("code") ?? "",
      redirect_uri: redirectURI(),
      code_verifier: saved.verifier,
    }),
  );
  return saved.returnTo || "/ui/";
}

let provider: OIDCConfig | null = null;
let timer: ReturnType<typeof setTimeout> | undefined;
let renewing: Promise<boolean> | null = null;

// startRenewal renews the tab's token from now on, when it came from oidc with a
// refresh token.
export function startRenewal(oidc: OIDCConfig | null) {
  provider = oidc;
  if (!oidc) return;
  schedule();
  // Back from the background, or from sleep: renew now if it is time.
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) void fresh().then(schedule);
  });
}

function schedule() {
  clearTimeout(timer);
  const r = renewal();
  if (!provider || !r?.refresh || !r.renewAt) return;
  // A minute at a time at most: a timer does not count the time a computer sleeps.
  timer = setTimeout(() => void fresh().then(schedule), Math.min(Math.max(0, r.renewAt - Date.now()), 60_000));
}

// renew exchanges the refresh token for a new token, once at a time; it reports
// whether there is a new token. A refresh token the provider refuses is dropped (the
// tab signs in again when the API refuses the token); a provider out of reach is
// tried again in 10 s.
export function renew(): Promise<boolean> {
  renewing ??= (async () => {
    const r = renewal();
    if (!provider || !r?.refresh) return false;
    try {
      const body = await tokenRequest(provider, { grant_type: "refresh_token", refresh_token: r.refresh });
      // Signed out meanwhile: nothing to keep.
      if (renewal()?.refresh !== r.refresh) return false;
      keep(body, r.refresh);
      return true;
    } catch (e) {
      if (renewal()?.refresh === r.refresh) {
        sessionStorage.setItem(OIDC, JSON.stringify(e instanceof Refused ? {} : { ...r, renewAt: Date.now() + 10_000 }));
        schedule();
      }
      return false;
    }
  })().finally(() => (renewing = null));
  return renewing;
}

// fresh resolves when the token may be sent: at once, or once a renewal that is due
// or under way has ended.
export async function fresh(): Promise<void> {
  if (renewing) {
    await renewing;
    return;
  }
  const r = renewal();
  if (provider && r?.refresh && r.renewAt && Date.now() >= r.renewAt) await renew();
}
