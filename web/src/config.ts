// What the service tells the UI before anyone signs in (GET /ui/config.json).
export type AppConfig = {
  auth: "open" | "token";
  oidc: { issuer: string; clientId: string } | null;
};

export async function loadConfig(): Promise<AppConfig> {
  const res = await fetch("/ui/config.json", { cache: "no-store" });
  if (!res.ok) throw new Error(`config.json: HTTP ${res.status}`);
  return (await res.json()) as AppConfig;
}
