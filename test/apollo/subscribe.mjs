// The way frontend users watch a mailing: the real Apollo Client, with
// GraphQLWsLink over the graphql-ws client (graphql-transport-ws) for
// subscriptions and HttpLink for the rest.
//
// Driven by TestApolloClient (subscription_test.go): NOTIFY_URL is the
// service, CLIENTS how many recipients to create. It prints "READY" once
// subscribed, waits for a line on stdin (the Go test checks the service
// holds the subscriptions), runs the mutation that starts the mailing, and
// prints a JSON summary of what it saw on the last line.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { getMainDefinition } from "@apollo/client/utilities";
import { createClient } from "graphql-ws";
import { createInterface } from "node:readline";
import WebSocket from "ws";

const url = process.env.NOTIFY_URL;
const clients = Number(process.env.CLIENTS ?? 20);
if (!url) {
  console.error("NOTIFY_URL is required");
  process.exit(2);
}
const deadline = setTimeout(() => fail("timed out"), 60_000);

function fail(why) {
  console.error("apollo test failed:", why);
  process.exit(1);
}

const wsClient = createClient({ url: url.replace(/^http/, "ws") + "/query", webSocketImpl: WebSocket });
const link = ApolloLink.split(
  ({ query }) => {
    const def = getMainDefinition(query);
    return def.kind === "OperationDefinition" && def.operation === "subscription";
  },
  new GraphQLWsLink(wsClient),
  new HttpLink({ uri: url + "/query" }),
);
const client = new ApolloClient({ link, cache: new InMemoryCache() });

const phones = Array.from({ length: clients }, (_, i) => ({ phone: String(79100000000 + i) }));
await client.mutate({
  mutation: gql`mutation($input: [CreateClientInput!]!) { createClients(input: $input) { id } }`,
  variables: { input: phones },
});
const now = Date.now();
const { data: created } = await client.mutate({
  mutation: gql`mutation($start: Time!, $end: Time!) {
    createMailing(input: { startAt: $start, endAt: $end, text: "hello from Apollo" }) { id status }
  }`,
  variables: { start: new Date(now + 3600_000).toISOString(), end: new Date(now + 7200_000).toISOString() },
});
const mailingID = created.createMailing.id;

let events = 0;
let snapshots = [];
let progressDone;
const progressComplete = new Promise((resolve) => (progressDone = resolve));
let firstSnapshot;
const subscribed = new Promise((resolve) => (firstSnapshot = resolve));

// watchSent subscribes to query's status events of the mailing, checks
// each with check, and returns how many SENT events each message got.
function watchSent(name, query, check) {
  const sent = new Map();
  client
    .subscribe({ query, variables: { id: mailingID }, fetchPolicy: "no-cache" })
    .subscribe({
      next: ({ data, error }) => {
        if (error) fail(name + " event error: " + error.message);
        const ev = data.messageStatusChanged;
        check(ev);
        if (ev.status === "SENT") sent.set(ev.messageID, (sent.get(ev.messageID) ?? 0) + 1);
      },
      error: (err) => fail(name + " subscription: " + err.message),
    });
  return sent;
}

const sent = watchSent(
  "status",
  gql`subscription($id: ID) {
    messageStatusChanged(mailingID: $id) { messageID mailingID status attempts at message { id status } }
  }`,
  (ev) => {
    events++;
    if (ev.mailingID !== mailingID) fail("event of another mailing: " + JSON.stringify(ev));
  },
);
// A progress view's selection: the event's scalars only (Apollo adds
// __typename), which the service renders without gqlgen's executor.
const leanSent = watchSent(
  "lean status",
  gql`subscription($id: ID) { messageStatusChanged(mailingID: $id) { messageID status } }`,
  (ev) => {
    if (ev.__typename !== "MessageStatusEvent") fail("lean event without its __typename: " + JSON.stringify(ev));
  },
);

client
  .subscribe({
    query: gql`subscription($id: ID!) {
      mailingProgress(mailingID: $id) { mailingID status total byStatus { status count } }
    }`,
    variables: { id: mailingID },
    fetchPolicy: "no-cache",
  })
  .subscribe({
    next: ({ data, error }) => {
      if (error) fail("progress error: " + error.message);
      snapshots.push(data.mailingProgress);
      firstSnapshot();
    },
    error: (err) => fail("progress subscription: " + err.message),
    complete: () => progressDone(),
  });

await subscribed;
console.log("READY " + mailingID);
const stdin = createInterface({ input: process.stdin });
await new Promise((resolve) => stdin.once("line", resolve));
stdin.close();

const { data: updated } = await client.mutate({
  mutation: gql`mutation($id: ID!, $start: Time!) { updateMailing(id: $id, input: { startAt: $start }) { id status } }`,
  variables: { id: mailingID, start: new Date(Date.now() - 60_000).toISOString() },
});

await progressComplete;
// The last status events were delivered before the final snapshot was
// loaded; wait for any still on the wire.
while (sent.size < clients || leanSent.size < clients) await new Promise((r) => setTimeout(r, 20));

clearTimeout(deadline);
console.log(
  JSON.stringify({
    mailingID,
    updatedStatus: updated.updateMailing.status,
    events,
    sentMessages: sent.size,
    maxSentPerMessage: Math.max(...sent.values()),
    leanSentMessages: leanSent.size,
    leanMaxSentPerMessage: Math.max(...leanSent.values()),
    snapshots: snapshots.length,
    final: snapshots[snapshots.length - 1],
  }),
);
await wsClient.dispose();
process.exit(0);
