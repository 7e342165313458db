import "@mantine/core/styles.css";
import "./app.css";
import { ApolloProvider } from "@apollo/client/react";
import { MantineProvider, createTheme } from "@mantine/core";
import { setNonce } from "get-nonce";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { createApollo } from "./apollo";
import { App } from "./App";
import { clearToken, fromProvider, mayGoAgain, startOIDC, startRenewal } from "./auth";
import { loadConfig, type AppConfig } from "./config";
import { navigate } from "./router";

// The nonce of this page's Content-Security-Policy, for the <style> elements Mantine adds.
const nonce = document.querySelector('meta[name="csp-nonce"]')?.getAttribute("content") ?? "";
// The same for the <style> the modals' scroll lock adds (react-remove-scroll).
setNonce(nonce);

const theme = createTheme({
  primaryColor: "blue",
  // Filled buttons and badges: shade 9 keeps white text above 4.5:1.
  primaryShade: 9,
  fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif",
  fontFamilyMonospace: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace",
});

// signInAgain follows a refusal of the tab's credentials that renewal could not
// mend: a tab signed in through the provider goes through it again by itself (the
// provider's own session usually lets it straight back), then back to this page;
// else, or a second time within a minute, the sign-in screen says why, and signing
// in there comes back here too.
let leaving = false;
function signInAgain(config: AppConfig) {
  if (leaving || location.pathname.startsWith("/ui/signin")) return;
  const here = location.pathname + location.search;
  const viaProvider = fromProvider();
  clearToken();
  const screen = () => navigate("/ui/signin?next=" + encodeURIComponent(here) + "&expired=1", true);
  if (viaProvider && config.oidc && mayGoAgain()) {
    leaving = true;
    startOIDC(config.oidc, here).catch(() => {
      leaving = false;
      screen();
    });
    return;
  }
  screen();
}

const root = createRoot(document.getElementById("root")!);

loadConfig()
  .then((config) => {
    startRenewal(config.oidc);
    const { client } = createApollo(() => signInAgain(config));
    root.render(
      <StrictMode>
        <MantineProvider theme={theme} getStyleNonce={() => nonce} defaultColorScheme="light">
          <ApolloProvider client={client}>
            <App config={config} />
          </ApolloProvider>
        </MantineProvider>
      </StrictMode>,
    );
  })
  .catch((err: unknown) => {
    const p = document.createElement("p");
    p.setAttribute("role", "alert");
    p.textContent = `The service cannot be reached (${String(err)}). Reload the page to try again.`;
    document.getElementById("root")!.replaceChildren(p);
  });
