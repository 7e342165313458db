// Package live is the transport of the GraphQL subscriptions: everything
// between the resolvers' streams (package graph) and the bytes a subscriber
// reads. graph keeps the schema, the resolvers and the resolver-side
// streams; this package serves them over WebSocket (graphql-transport-ws
// and legacy graphql-ws) and SSE.
//
// The contract, for whoever calls it:
//   - Sharing. Hub.Transport wraps a gqlgen transport; subscriptions whose
//     operations are identical (query, operation name, variables) run once
//     per group, and every member gets the same responses. A
//     messageStatusChanged member gets every response from its joining on;
//     a mailingProgress member joins with the latest snapshot and skips to
//     the latest when behind. The execution never waits on a member.
//   - Slow subscribers. Members are fed by the fan-out policy of every live
//     fan-out (event.Offer): a status member that falls behind its buffer is
//     dropped alone, and its last response is the SUBSCRIBER_TOO_SLOW
//     notice (Notice, the one place notices are made), the same an unshared
//     subscription gets; a progress member skips to the newest snapshot.
//   - Same bytes as gqlgen. Whatever this package renders or writes itself
//     (the direct status feed, encoded responses, data messages, frames) is
//     byte for byte what gqlgen and encoding/json would give; fuzz targets
//     compare the two. The feed renders only the fields graph's schema
//     declares, with the types it declares (read from the parsed schema at
//     start-up).
//   - SSE. SSE returns gqlgen's transport, bounded to a number of streams
//     per instance (TOO_MANY_SUBSCRIPTIONS beyond it).
//   - WebSocket. Websocket returns gqlgen's transport over coder/websocket,
//     with the graphql-transport-ws rules gqlgen does not keep (4409 on a
//     reused id, a cap on live subscriptions per socket), writes coalesced
//     over 10 ms, 1001 on shutdown, and a shared subscription's data
//     messages written by the member itself, encoded once per group.
//
// Two parts rely on behaviour the libraries do not document; contract tests
// (contract_test.go) pin each and fail on an upgrade that changes it:
//   - coder/websocket writes each control frame (pong, close) in one Write
//     to the connection it took over, so the adapter's own frames, written
//     whole in one Write each, never interleave with them;
//   - gqlgen's WebSocket transport creates a message's operation
//     (CreateOperationContext) before it reads the next message, which is
//     how the adapter ties an operation to the id of its subscribe message.
package live
