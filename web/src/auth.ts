// Credentials of this tab: an API token typed on the sign-in screen, or the JWT an
// OIDC provider returned (Authorization Code + PKCE). Kept in sessionStorage: gone
// with the tab, never in a URL, never in localStorage.
import type { AppConfig } from "./config";

const TOKEN = "notify.token";
const PKCE = "notify.pkce";

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN);
}

export function setToken(token: string) {
  sessionStorage.setItem(TOKEN, token);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN);
}

function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

type Discovery = { authorization_endpoint: string; token_endpoint: string };

async function discover(issuer: string): Promise<Discovery> {
  const res = await fetch(issuer.replace(/\/$/, "") + "/.well-known/openid-configuration");
  if (!res.ok) throw new Error(`the identity provider's discovery answered HTTP ${res.status}`);
  return (await res.json()) as Discovery;
}

function redirectURI(): string {
  return location.origin + "/ui/signin";
}

// startOIDC sends the browser to the provider's sign-in page.
export async function startOIDC(oidc: NonNullable<AppConfig["oidc"]>, returnTo: string) {
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
    scope: "openid profile",
    state,
    code_challenge: base64url(digest),
    code_challenge_method: "S256",
  }).toString();
  location.assign(u.toString());
}

// finishOIDC exchanges the code of the provider's redirect for a token; it returns
// where the user was going.
export async function finishOIDC(oidc: NonNullable<AppConfig["oidc"]>, params: URLSearchParams): Promise<string> {
  const saved = JSON.parse(sessionStorage.getItem(PKCE) ?? "null") as
    | { verifier: string; state: string; returnTo: string }
    | null;
  sessionStorage.removeItem(PKCE);
  if (params.get("error")) throw new Error(`the identity provider refused: ${params.get("error_description") ?? params.get("error")}`);
  if (!saved || saved.state !== params.get("state")) throw new Error("the sign-in answer does not match this tab's request; sign in again");
  const d = await discover(oidc.issuer);
  const res = await fetch(d.token_endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code: params.get("code") ?? "",
      redirect_uri: redirectURI(),
      client_id: oidc.clientId,
      code_verifier: saved.verifier,
    }),
  });
  if (!res.ok) throw new Error(`the identity provider's token endpoint answered HTTP ${res.status}`);
  const body = (await res.json()) as { access_token?: string; id_token?: string };
  const isJWT = (t?: string) => !!t && t.split(".").length === 3;
  const token = isJWT(body.access_token) ? body.access_token! : body.id_token;
  if (!token) throw new Error("the identity provider returned no token");
  setToken(token);
  return saved.returnTo || "/ui/";
}
