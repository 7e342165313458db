// The Apollo Client of the UI: queries and mutations over HTTP (multipart for file
// uploads), subscriptions over a graphql-transport-ws WebSocket at the same /query.
// The credentials go in the Authorization header and in connection_init.
//
// The socket's state is a small store the shell shows: when the socket drops, the
// banner says "reconnecting"; when it comes back, every active query is fetched again
// and graphql-ws subscribes again (mailingProgress answers with a fresh snapshot), so
// the screen catches up by itself.
//
// Credentials that the API refuses (HTTP 401, UNAUTHENTICATED, or a socket closed with
// 4403) are renewed once (auth.ts: a provider's refresh token) and the operation sent
// again with the new token; without a new token the tab signs in again
// (onUnauthenticated). Each request and each (re)connection of the socket takes the
// token of the moment, renewed first when it is due.
import { ApolloClient, ApolloLink, InMemoryCache } from "@apollo/client";
import { SetContextLink } from "@apollo/client/link/context";
import { ErrorLink } from "@apollo/client/link/error";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { getMainDefinition } from "@apollo/client/utilities";
import UploadHttpLink from "apollo-upload-client/UploadHttpLink.mjs";
import { createClient } from "graphql-ws";
import { useSyncExternalStore } from "react";
import { from, mergeMap, tap, throwError } from "rxjs";
import { fresh, getToken, renew } from "./auth";
import { unauthenticated } from "./errors";

export type Connection = "connecting" | "online" | "reconnecting";

let connection: Connection = "connecting";
let everConnected = false;
const listeners = new Set<() => void>();

function setConnection(c: Connection) {
  if (c === connection) return;
  connection = c;
  listeners.forEach((fn) => fn());
}

export function useConnection(): Connection {
  return useSyncExternalStore(
    (fn) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    () => connection,
  );
}

function authorization(): Record<string, string> {
  const t = getToken();
  return t ? { authorization: `Bearer ${t}` } : {};
}

let wsClient: ReturnType<typeof createClient> | undefined;

// rawSubscribe runs a subscription on the UI's socket without Apollo's cache: for
// event streams too fast to normalise one by one (a mailing's live feed).
export function rawSubscribe<T>(query: string, variables: Record<string, unknown>, onNext: (data: T) => void): () => void {
  if (!wsClient) throw new Error("the socket is not open yet");
  return wsClient.subscribe<T>(
    { query, variables },
    {
      next: (r) => r.data && onNext(r.data as T),
      error: () => {},
      complete: () => {},
    },
  );
}

export function createApollo(onUnauthenticated: () => void) {
  const wsURL = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/query";
  let client: ApolloClient | undefined;
  let sentToken: string | null = null;
  const ws = createClient({
    url: wsURL,
    lazy: false,
    // The shell shows the socket's state; nothing for the console.
    onNonLazyError: () => {},
    keepAlive: 5_000,
    retryAttempts: Number.POSITIVE_INFINITY,
    // Refused for want of a token (the sign-in screen is up): wait for the sign-in,
    // which reloads the page.
    shouldRetry: (e) => !((e as CloseEvent | undefined)?.code === 4403 && !getToken()),
    // Back off a little, then try every 2 s: a restarted service is picked up quickly.
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** retries, 2_000))),
    connectionParams: async () => {
      await fresh();
      sentToken = getToken();
      return authorization();
    },
    on: {
      connected: () => {
        const again = everConnected;
        everConnected = true;
        setConnection("online");
        if (again && client) {
          // Catch up: whatever changed while the socket was down.
          void client.refetchObservableQueries();
        }
      },
      closed: (event) => {
        const code = (event as CloseEvent | undefined)?.code;
        // The token this socket presented was refused (not a socket opened before
        // the sign-in, whose refusal says nothing of the token set since): renewed,
        // the socket's next try takes the new one (connectionParams waits for it).
        const refused = sentToken;
        if ((code === 4403 || code === 4401) && refused && refused === getToken()) {
          void renew().then((ok) => !ok && refused === getToken() && onUnauthenticated());
        }
        setConnection(everConnected ? "reconnecting" : "connecting");
      },
      error: () => setConnection(everConnected ? "reconnecting" : "connecting"),
    },
  });

  wsClient = ws;
  const auth = new SetContextLink(async (prev) => {
    await fresh();
    return { headers: { ...(prev.headers as Record<string, string> | undefined), ...authorization() } };
  });
  const errors = new ErrorLink(({ error, operation, forward }) => {
    if (!unauthenticated(error)) return;
    // Sent with a token renewed since: send it again. Else renew it first.
    const sent = (operation.getContext().headers as Record<string, string> | undefined)?.authorization;
    const renewed = sent !== authorization().authorization ? Promise.resolve(true) : renew();
    return from(renewed).pipe(
      mergeMap((ok) => {
        if (!ok) {
          onUnauthenticated();
          return throwError(() => error);
        }
        // Through auth again, which sets the new token.
        return forward(operation).pipe(tap({ error: (e: unknown) => unauthenticated(e) && onUnauthenticated() }));
      }),
    );
  });
  const http = ApolloLink.from([errors, auth, new UploadHttpLink({ uri: "/query" })]);
  const link = ApolloLink.split(
    ({ query }) => {
      const def = getMainDefinition(query);
      return def.kind === "OperationDefinition" && def.operation === "subscription";
    },
    new GraphQLWsLink(ws),
    http,
  );
  client = new ApolloClient({
    link,
    cache: new InMemoryCache({
      typePolicies: {
        MailingStats: { keyFields: ["mailingID"] },
        Viewer: { keyFields: [] },
      },
    }),
    defaultOptions: { watchQuery: { fetchPolicy: "cache-and-network" } },
  });
  return { client, ws };
}
