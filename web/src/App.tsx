// The shell: sign-in when the service needs credentials, then the navigation, the
// connection banner and the screen of the current path.
import { useQuery } from "@apollo/client/react";
import { Alert, Badge, Button, Center, Loader } from "@mantine/core";
import { useEffect, useRef, type ReactNode } from "react";
import { useConnection } from "./apollo";
import { clearToken, getToken } from "./auth";
import type { AppConfig } from "./config";
import { graphql } from "./gql";
import { errorText } from "./errors";
import { linkProps, navigate, useLocation } from "./router";
import { Audit } from "./screens/Audit";
import { Clients } from "./screens/Clients";
import { Dashboard } from "./screens/Dashboard";
import { MailingForm } from "./screens/MailingForm";
import { MailingPage } from "./screens/MailingPage";
import { Mailings } from "./screens/Mailings";
import { OptOuts } from "./screens/OptOuts";
import { Report } from "./screens/Report";
import { SignIn } from "./screens/SignIn";
import { ViewerContext, type Role, type Viewer } from "./viewer";

const MeQuery = graphql(`
  query Me {
    me {
      name
      role
    }
  }
`);

export function App({ config }: { config: AppConfig }) {
  const { path } = useLocation();
  const needsSignIn = config.auth === "token" && !getToken();
  useEffect(() => {
    if (needsSignIn && path !== "/ui/signin") {
      navigate("/ui/signin?next=" + encodeURIComponent(location.pathname + location.search), true);
    }
  }, [needsSignIn, path]);
  if (path === "/ui/signin" || needsSignIn) {
    return <SignIn config={config} />;
  }
  return <SignedIn config={config} />;
}

function SignedIn({ config }: { config: AppConfig }) {
  const { data, error } = useQuery(MeQuery, { fetchPolicy: "network-only" });
  if (error && !data) {
    return (
      <Center h="100vh" p="md">
        <Alert color="red" title="The service cannot be reached" role="alert">
          {errorText(error)} The page tries again when you reload it.
        </Alert>
      </Center>
    );
  }
  if (!data) {
    return (
      <Center h="100vh">
        <Loader aria-label="Loading" />
      </Center>
    );
  }
  const viewer: Viewer = { name: data.me.name, role: (data.me.role as Role | null) ?? null, open: config.auth === "open" };
  return (
    <ViewerContext.Provider value={viewer}>
      <Shell viewer={viewer}>
        <Screen />
      </Shell>
    </ViewerContext.Provider>
  );
}

const nav: { to: string; label: string; admin?: boolean }[] = [
  { to: "/ui", label: "Dashboard" },
  { to: "/ui/mailings", label: "Mailings" },
  { to: "/ui/clients", label: "Clients" },
  { to: "/ui/report", label: "Daily report" },
  { to: "/ui/opt-outs", label: "Opt-outs" },
  { to: "/ui/audit", label: "Audit log", admin: true },
];

function Shell({ viewer, children }: { viewer: Viewer; children: ReactNode }) {
  const { path } = useLocation();
  const connection = useConnection();
  const current = (to: string) => (to === "/ui" ? path === "/ui" : path === to || path.startsWith(to + "/"));
  // A new screen takes the focus to its content, as a page load would take it to the
  // top: the keyboard goes on from there, and a screen reader reads the new screen. The
  // link or button that led there is often gone with the old screen, which would leave
  // the focus on the page itself and the next Tab back at the skip link.
  const main = useRef<HTMLElement>(null);
  const shown = useRef(path);
  useEffect(() => {
    if (path === shown.current) return;
    shown.current = path;
    main.current?.focus({ preventScroll: true });
  }, [path]);
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="shell-header">
        <a className="shell-brand" {...linkProps("/ui/")}>
          Notify
        </a>
        <nav aria-label="Screens" className="shell-nav">
          {nav
            .filter((n) => !n.admin || viewer.role === "ADMIN")
            .map((n) => (
              <a key={n.to} {...linkProps(n.to === "/ui" ? "/ui/" : n.to)} aria-current={current(n.to) ? "page" : undefined}>
                {n.label}
              </a>
            ))}
        </nav>
        <div className="shell-user">
          <Badge
            color={connection === "online" ? "#1b6b2e" : "#8a4b00"}
            variant="filled"
            data-testid="connection"
            aria-label={`Live updates: ${connection}`}
          >
            {connection === "online" ? "live" : connection}
          </Badge>
          <span data-testid="viewer">
            {viewer.open ? "open mode" : viewer.name}
            {viewer.role ? ` · ${viewer.role.toLowerCase()}` : " · no role"}
          </span>
          {!viewer.open && (
            <Button
              size="compact-sm"
              variant="default"
              onClick={() => {
                clearToken();
                navigate("/ui/signin", true);
              }}
            >
              Sign out
            </Button>
          )}
        </div>
      </header>
      {connection === "reconnecting" && (
        <div className="banner-reconnecting" role="status" data-testid="reconnecting">
          Connection lost: reconnecting… The screen catches up when the service is back.
        </div>
      )}
      <main id="main" className="shell-main" ref={main} tabIndex={-1}>
        {children}
      </main>
    </>
  );
}

function Screen() {
  const { path } = useLocation();
  let m: RegExpMatchArray | null;
  if (path === "/ui") return <Dashboard />;
  if (path === "/ui/mailings") return <Mailings />;
  if (path === "/ui/mailings/new") return <MailingForm />;
  if ((m = path.match(/^\/ui\/mailings\/(\d+)\/edit$/))) return <MailingForm id={m[1]} />;
  if ((m = path.match(/^\/ui\/mailings\/(\d+)$/))) return <MailingPage id={m[1]} />;
  if (path === "/ui/clients") return <Clients />;
  if (path === "/ui/report") return <Report />;
  if (path === "/ui/audit") return <Audit />;
  if (path === "/ui/opt-outs") return <OptOuts />;
  return (
    <Alert color="gray" title="No such screen">
      There is nothing at {path}. <a {...linkProps("/ui/")}>Go to the dashboard</a>.
    </Alert>
  );
}
