// Sign-in: an API token (API_TOKENS), or the OIDC provider (Authorization Code + PKCE)
// when the service names one. The token is checked by asking the service who it is.
import { useApolloClient } from "@apollo/client/react";
import { Button, Center, Divider, Paper, PasswordInput, Stack, Text, Title } from "@mantine/core";
import { useEffect, useState } from "react";
import { clearToken, finishOIDC, setToken, startOIDC } from "../auth";
import type { AppConfig } from "../config";
import { ErrorAlert } from "../components";
import { errorText } from "../errors";
import { graphql } from "../gql";
import { navigate, useLocation } from "../router";

const WhoAmI = graphql(`
  query WhoAmI {
    me {
      name
      role
    }
  }
`);

function safeNext(next: string | null): string {
  return next && next.startsWith("/ui") && !next.startsWith("/ui/signin") ? next : "/ui/";
}

export function SignIn({ config }: { config: AppConfig }) {
  const { search } = useLocation();
  const client = useApolloClient();
  const [token, setTokenText] = useState("");
  const [error, setError] = useState<string | null>(search.get("expired") ? "Your sign-in is no longer valid: sign in again." : null);
  const [busy, setBusy] = useState(false);
  const next = safeNext(search.get("next"));

  useEffect(() => {
    if (config.auth === "open") navigate(next, true);
  }, [config.auth, next]);

  // The provider's redirect back: exchange the code for a token.
  const code = search.get("code") ?? search.get("error");
  useEffect(() => {
    if (!code || !config.oidc) return;
    let cancelled = false;
    setBusy(true);
    finishOIDC(config.oidc, new URLSearchParams(location.search))
      .then((to) => {
        // A fresh page: its socket opens with the token.
        if (!cancelled) location.replace(safeNext(to));
      })
      .catch((e: unknown) => {
        if (!cancelled) {
          setError(e instanceof Error ? e.message : String(e));
          setBusy(false);
          history.replaceState(null, "", "/ui/signin");
        }
      });
    return () => {
      cancelled = true;
    };
  }, [code, config.oidc, client]);

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setError(null);
    const t = token.trim();
    if (!t) {
      setError("Enter an API token.");
      return;
    }
    setBusy(true);
    setToken(t);
    try {
      await client.clearStore();
      await client.query({ query: WhoAmI, fetchPolicy: "network-only" });
      // The socket was opened without the token: open it again with it.
      location.assign(next);
    } catch (err) {
      clearToken();
      setError(/UNAUTHENTICATED|401|no longer valid/i.test(String(err) + errorText(err)) ? "That token was refused." : errorText(err));
      setBusy(false);
    }
  }

  return (
    <Center mih="100vh" p="md">
      <Paper withBorder shadow="sm" p="lg" w={420} maw="100%">
        <main>
          <form onSubmit={submit} noValidate>
            <Stack>
              <Title order={1} size="h2">
                Sign in to Notify
              </Title>
              <ErrorAlert error={error} data-testid="signin-error" />
              {config.oidc && (
                <>
                  <Button
                    type="button"
                    loading={busy && !!code}
                    onClick={() => startOIDC(config.oidc!, next).catch((e: unknown) => setError(String(e)))}
                  >
                    Sign in with your organisation
                  </Button>
                  <Divider label="or with an API token" labelPosition="center" />
                </>
              )}
              <PasswordInput
                label="API token"
                description="A token of API_TOKENS. It stays in this tab only."
                value={token}
                onChange={(e) => setTokenText(e.currentTarget.value)}
                autoComplete="off"
                autoFocus
              />
              <Button type="submit" loading={busy && !code} variant={config.oidc ? "default" : "filled"}>
                Sign in
              </Button>
              <Text size="sm" c="dimmed">
                The API: GraphiQL at <a href="/graphiql/">/graphiql/</a>, Swagger UI at <a href="/docs/">/docs/</a>.
              </Text>
            </Stack>
          </form>
        </main>
      </Paper>
    </Center>
  );
}
