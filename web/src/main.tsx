import "@mantine/core/styles.css";
import "./app.css";
import { ApolloProvider } from "@apollo/client/react";
import { MantineProvider, createTheme } from "@mantine/core";
import { setNonce } from "get-nonce";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { createApollo } from "./apollo";
import { App } from "./App";
import { clearToken } from "./auth";
import { loadConfig } from "./config";
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

function signInAgain() {
  clearToken();
  if (!location.pathname.startsWith("/ui/signin")) {
    navigate("/ui/signin?next=" + encodeURIComponent(location.pathname + location.search) + "&expired=1", true);
  }
}

const root = createRoot(document.getElementById("root")!);

loadConfig()
  .then((config) => {
    const { client } = createApollo(signInAgain);
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
