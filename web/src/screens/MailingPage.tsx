// One mailing, live: its progress by status (mailingProgress), a capped feed of its
// messages' status changes (messageStatusBatches: the service gathers them over 100 ms,
// so that 10,000 changes a second cost the browser ten WebSocket messages and ten
// renders, docs/design.md), its messages filtered by status, and the lifecycle actions
// the viewer's role may take.
import { useMutation, useQuery } from "@apollo/client/react";
import { Alert, Button, Group, Loader, Paper, SegmentedControl, Stack, Table, Text, Title } from "@mantine/core";
import { print } from "graphql";
import { memo, useCallback, useEffect, useRef, useState } from "react";
import { rawSubscribe, useConnection } from "../apollo";
import {
  ConfirmButton,
  ErrorAlert,
  formatTime,
  MailingProgress,
  messageStatuses,
  nodesOf,
  PagePager,
  pageVariables,
  StatusBadge,
  TableScroll,
  type Page,
} from "../components";
import { errorText } from "../errors";
import { graphql } from "../gql";
import type { MessageStatus, StatusFeedSubscription } from "../gql/graphql";
import { linkProps, navigate } from "../router";
import { useCan } from "../viewer";
import { LiveStats } from "./Mailings";

const MailingQuery = graphql(`
  query Mailing($id: ID!) {
    mailing(id: $id) {
      id
      text
      status
      startAt
      endAt
      createdAt
      filter {
        tags
        operatorCodes
      }
      sendWindow {
        from
        to
      }
      stats {
        ...MailingLive
      }
    }
  }
`);

const MessagesQuery = graphql(`
  query MailingMessages($id: ID!, $first: Int, $after: Cursor, $last: Int, $before: Cursor, $status: MessageStatus) {
    mailing(id: $id) {
      id
      messages(first: $first, after: $after, last: $last, before: $before, status: $status) {
        totalCount
        pageInfo {
          ...Pages
        }
        edges {
          node {
            id
            phone
            status
            attempts
            lastError
            sentAt
          }
        }
      }
    }
  }
`);

const StatusFeed = graphql(`
  subscription StatusFeed($id: ID!, $last: Int!) {
    messageStatusBatches(mailingID: $id, last: $last) {
      count
      events {
        messageID
        status
        attempts
        at
      }
    }
  }
`);
const statusFeedText = print(StatusFeed);

const Pause = graphql(`
  mutation PauseMailing($id: ID!) {
    pauseMailing(id: $id) {
      id
      status
    }
  }
`);
const Resume = graphql(`
  mutation ResumeMailing($id: ID!) {
    resumeMailing(id: $id) {
      id
      status
    }
  }
`);
const Cancel = graphql(`
  mutation CancelMailing($id: ID!) {
    cancelMailing(id: $id) {
      id
      status
    }
  }
`);
const Delete = graphql(`
  mutation DeleteMailing($id: ID!) {
    deleteMailing(id: $id)
  }
`);

type FeedEvent = StatusFeedSubscription["messageStatusBatches"]["events"][number] & { seq: number };
const FEED_CAP = 100;

// useStatusFeed shows the latest FEED_CAP of the mailing's status changes and counts
// them all: a batch every 100 ms at most (one render each), with the interval's count
// and its last FEED_CAP events.
function useStatusFeed(id: string) {
  const [feed, setFeed] = useState<{ events: FeedEvent[]; received: number }>({ events: [], received: 0 });
  const connection = useConnection();
  useEffect(() => {
    if (connection !== "online") return;
    return rawSubscribe<StatusFeedSubscription>(statusFeedText, { id, last: FEED_CAP }, ({ messageStatusBatches: b }) =>
      setFeed((f) => {
        // Numbered in the sequence of every change: the events are the batch's last.
        const first = f.received + b.count - b.events.length;
        const events = b.events.map((e, i) => ({ ...e, seq: first + i + 1 })).reverse();
        return { events: [...events, ...f.events].slice(0, FEED_CAP), received: f.received + b.count };
      }),
    );
  }, [id, connection]);
  return feed;
}

const feedTime = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });

// LiveFeed is the mailing's live status changes. It renders on its own, ten times a
// second at most during a fan-out, not the page around it; onChanges is called at
// most every 2 s while changes arrive (the messages table is read again then).
const LiveFeed = memo(function LiveFeed({ id, onChanges }: { id: string; onChanges: () => void }) {
  const feed = useStatusFeed(id);
  const lastCall = useRef(0);
  useEffect(() => {
    if (feed.received === 0) return;
    const t = setTimeout(
      () => {
        lastCall.current = Date.now();
        onChanges();
      },
      Math.max(0, lastCall.current + 2_000 - Date.now()),
    );
    return () => clearTimeout(t);
  }, [feed.received, onChanges]);
  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="xs">
        Live status changes
      </Title>
      <Text size="sm" mb="xs" data-testid="feed-count" data-count={feed.received}>
        {feed.received.toLocaleString()} received{feed.received > FEED_CAP ? `, the latest ${FEED_CAP} shown` : ""}
      </Text>
      <ul className="feed" aria-label="Latest status changes" data-testid="feed" tabIndex={0}>
        {feed.events.map((e) => (
          <li key={e.seq}>
            {feedTime.format(new Date(e.at))} · message {e.messageID} · {e.status.toLowerCase()} · attempt {e.attempts}
          </li>
        ))}
      </ul>
    </Paper>
  );
});

export function MailingPage({ id }: { id: string }) {
  const canOperate = useCan("OPERATOR");
  const canDelete = useCan("ADMIN");
  const { data, error, loading } = useQuery(MailingQuery, { variables: { id } });
  const [actionError, setActionError] = useState<string | null>(null);
  const [pause, pauseState] = useMutation(Pause);
  const [resume, resumeState] = useMutation(Resume);
  const [cancel, cancelState] = useMutation(Cancel);
  const [del, delState] = useMutation(Delete);
  const m = data?.mailing;
  const status = m?.stats.status ?? m?.status;
  const active = status === "SCHEDULED" || status === "RUNNING" || status === "PAUSED";
  // The feed stays once the mailing was active on this page: its last changes may
  // come after the progress says it is over.
  const [followed, setFollowed] = useState(false);
  if (active && !followed) setFollowed(true);
  const [refresh, setRefresh] = useState(0);
  const changed = useCallback(() => setRefresh((n) => n + 1), []);

  if (loading && !data) return <Loader aria-label="Loading the mailing" />;
  if (error && !data) return <ErrorAlert error={error} />;
  if (!m)
    return (
      <Alert color="gray" title="No such mailing">
        Mailing {id} does not exist (it may have been deleted). <a {...linkProps("/ui/mailings")}>All mailings</a>
      </Alert>
    );

  async function act(run: () => Promise<unknown>) {
    setActionError(null);
    try {
      await run();
    } catch (e) {
      setActionError(errorText(e));
    }
  }

  return (
    <Stack>
      {active && <LiveStats id={id} />}
      <Group justify="space-between" align="flex-start">
        <div>
          <Title order={1} size="h2">
            Mailing {m.id} <StatusBadge status={status!} />
          </Title>
          <Text size="sm">
            {formatTime(m.startAt)} → {formatTime(m.endAt)}
            {m.sendWindow ? ` · between ${m.sendWindow.from} and ${m.sendWindow.to} in each client's time` : ""}
          </Text>
          <Text size="sm">
            Recipients: {m.filter.tags.length ? `tags ${m.filter.tags.join(", ")}` : "any tag"};{" "}
            {m.filter.operatorCodes.length ? `operator codes ${m.filter.operatorCodes.join(", ")}` : "any operator"}
          </Text>
        </div>
        <Group gap="xs" data-testid="actions">
          {canOperate && (status === "SCHEDULED" || status === "RUNNING" || status === "PAUSED") && (
            <Button variant="default" component="a" {...linkProps(`/ui/mailings/${id}/edit`)}>
              Edit
            </Button>
          )}
          {canOperate && status === "RUNNING" && (
            <Button color="#8a4b00" loading={pauseState.loading} onClick={() => act(() => pause({ variables: { id } }))}>
              Pause
            </Button>
          )}
          {canOperate && status === "PAUSED" && (
            <Button color="#0b6e66" loading={resumeState.loading} onClick={() => act(() => resume({ variables: { id } }))}>
              Resume
            </Button>
          )}
          {canOperate && active && (
            <ConfirmButton
              color="#b02525"
              title={`Cancel mailing ${id}?`}
              message="Its unsent messages are cancelled and no new request starts. This cannot be undone."
              confirmLabel="Cancel the mailing"
              loading={cancelState.loading}
              onConfirm={() => act(() => cancel({ variables: { id } }))}
            >
              Cancel mailing
            </ConfirmButton>
          )}
          {canDelete && (
            <ConfirmButton
              color="#b02525"
              title={`Delete mailing ${id}?`}
              message="The mailing and all its messages are removed (it is cancelled first). This cannot be undone."
              confirmLabel="Delete"
              loading={delState.loading}
              onConfirm={() =>
                act(async () => {
                  await del({ variables: { id } });
                  navigate("/ui/mailings");
                })
              }
            >
              Delete
            </ConfirmButton>
          )}
        </Group>
      </Group>
      <ErrorAlert error={actionError} data-testid="action-error" />
      <Paper withBorder p="md">
        <Title order={2} size="h4" mb="xs">
          Progress
        </Title>
        <MailingProgress total={m.stats.total} byStatus={m.stats.byStatus} label={`Progress of mailing ${m.id}`} legend />
        <Text size="sm" mt="xs" data-testid="rate">
          {m.stats.rate != null ? `${m.stats.rate.toLocaleString(undefined, { maximumFractionDigits: 1 })} messages/s` : "rate: not measured yet"}
          {m.stats.eta ? ` · done by about ${formatTime(m.stats.eta)}` : ""}
        </Text>
      </Paper>
      <Paper withBorder p="md">
        <Title order={2} size="h4" mb="xs">
          Message text
        </Title>
        <Text style={{ whiteSpace: "pre-wrap" }}>{m.text}</Text>
      </Paper>
      {followed && <LiveFeed id={id} onChanges={changed} />}
      <Messages key={id} id={id} refresh={refresh} />
    </Stack>
  );
}

const PAGE = 50;

// Messages renders when its own data or refresh changes, not with every progress
// update of the page around it.
const Messages = memo(function Messages({ id, refresh }: { id: string; refresh: number }) {
  const [status, setStatus] = useState<string>("ALL");
  const [page, setPage] = useState<Page>({ n: 1 });
  const vars = { id, status: status === "ALL" ? undefined : (status as MessageStatus), ...pageVariables(page, PAGE) };
  const { data, previousData, error, refetch } = useQuery(MessagesQuery, { variables: vars });
  // While status changes arrive, the table is read again (every 2 s at most, LiveFeed).
  useEffect(() => {
    if (refresh) void refetch();
  }, [refresh, refetch]);
  // The page shown stays until the next one is there: the pager keeps the focus (a
  // key per mailing: never another mailing's).
  const conn = (data ?? previousData)?.mailing?.messages;
  const rows = nodesOf(conn);
  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="xs">
        Messages
      </Title>
      <SegmentedControl
        aria-label="Show messages of status"
        mb="sm"
        value={status}
        onChange={(v) => {
          setStatus(v);
          setPage({ n: 1 });
        }}
        data={[{ value: "ALL", label: "all" }, ...messageStatuses.map((s) => ({ value: s, label: s.toLowerCase() }))]}
        styles={{ root: { flexWrap: "wrap" } }}
      />
      <ErrorAlert error={error} />
      <TableScroll label="Messages">
        <Table striped data-testid="messages">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>#</Table.Th>
              <Table.Th>Phone</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Attempts</Table.Th>
              <Table.Th>Last error</Table.Th>
              <Table.Th className="hide-narrow">Sent</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((r) => (
              <Table.Tr key={r.id}>
                <Table.Td>{r.id}</Table.Td>
                <Table.Td>{r.phone}</Table.Td>
                <Table.Td>
                  <StatusBadge status={r.status} />
                </Table.Td>
                <Table.Td>{r.attempts}</Table.Td>
                <Table.Td maw={300}>
                  <Text size="sm" truncate="end" title={r.lastError ?? undefined}>
                    {r.lastError ?? "—"}
                  </Text>
                </Table.Td>
                <Table.Td className="hide-narrow">{formatTime(r.sentAt)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </TableScroll>
      {conn && <PagePager page={[page, setPage]} conn={conn} size={PAGE} noun="messages" mt="sm" />}
    </Paper>
  );
});
