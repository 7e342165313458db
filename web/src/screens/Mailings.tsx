// The mailings, newest first, each with its status and progress kept live by a
// mailingProgress subscription while it can still change.
import { useQuery, useSubscription } from "@apollo/client/react";
import { Button, Group, Loader, Select, Table, Text, Title } from "@mantine/core";
import { useEffect, useRef, useState } from "react";
import { ErrorAlert, formatTime, MailingProgress, nodesOf, StatusBadge, TableScroll } from "../components";
import { graphql } from "../gql";
import type { MailingStatus } from "../gql/graphql";
import { linkProps } from "../router";
import { useCan } from "../viewer";

const MailingsQuery = graphql(`
  query Mailings($first: Int!, $where: MailingWhereInput) {
    mailings(first: $first, where: $where, orderBy: { field: CREATED_AT, direction: DESC }) {
      totalCount
      pageInfo {
        hasNextPage
      }
      edges {
        node {
          id
          text
          status
          startAt
          endAt
          stats {
            ...MailingCounts
          }
        }
      }
    }
  }
`);

// A mailing's counts as its progress bar reads them (MailingProgress), and with its
// rate and ETA as its page shows them, which the subscription keeps fresh in the cache.
graphql(`
  fragment MailingCounts on MailingStats {
    mailingID
    status
    total
    byStatus {
      status
      count
    }
  }
`);

graphql(`
  fragment MailingLive on MailingStats {
    ...MailingCounts
    rate
    eta
  }
`);

export const ProgressSubscription = graphql(`
  subscription MailingProgress($id: ID!) {
    mailingProgress(mailingID: $id) {
      ...MailingLive
    }
  }
`);

const live = new Set(["SCHEDULED", "RUNNING", "PAUSED"]);

// LiveStats keeps one mailing's stats in the cache fresh (the subscription writes
// MailingStats, keyed by mailingID); it renders nothing.
export function LiveStats({ id }: { id: string }) {
  useSubscription(ProgressSubscription, { variables: { id } });
  return null;
}

// "any" is an option of its own: the keyboard can choose it (a Select's clear button
// is out of the Tab order).
const statusOptions = [{ value: "ANY", label: "any" }, ...["SCHEDULED", "RUNNING", "PAUSED", "FINISHED", "CANCELLED"].map((s) => ({ value: s, label: s.toLowerCase() }))];

const PAGE = 50;
const MAX_SHOWN = 1000; // the API's largest page

export function Mailings() {
  const canWrite = useCan("OPERATOR");
  const [status, setStatus] = useState("ANY");
  // More asks for a page more of the list: the poll then refreshes every row shown (the
  // rows a fetchMore appended went away at its next poll), and the list stays on
  // screen until the longer one arrives.
  const [shown, setShown] = useState(PAGE);
  const {
    data: current,
    previousData,
    error,
    loading,
  } = useQuery(MailingsQuery, {
    variables: { first: shown, where: status !== "ANY" ? { status: status as MailingStatus } : undefined },
    pollInterval: 15_000,
  });
  const data = current ?? previousData;
  const rows = nodesOf(data?.mailings);
  // After More the focus goes to the first row it added, or to the table when it
  // added none: the button is gone after the last page, and the focus would fall to
  // the page.
  const table = useRef<HTMLDivElement>(null);
  const [focusRow, setFocusRow] = useState<number | null>(null);
  useEffect(() => {
    if (focusRow === null) return;
    const trs = table.current?.querySelectorAll("tbody tr") ?? [];
    if (trs.length > focusRow) trs[focusRow].querySelector<HTMLElement>("a")?.focus();
    else if (current && !loading) table.current?.focus();
    else return;
    setFocusRow(null);
  }, [focusRow, rows.length, current, loading]);
  return (
    <>
      <Group justify="space-between" mb="md">
        <Title order={1} size="h2">
          Mailings
        </Title>
        {canWrite && (
          <Button component="a" {...linkProps("/ui/mailings/new")}>
            New mailing
          </Button>
        )}
      </Group>
      <Group mb="sm">
        <Select
          label="Status"
          data={statusOptions}
          value={status}
          onChange={(v) => {
            setStatus(v ?? "ANY");
            setShown(PAGE);
          }}
          allowDeselect={false}
          w={200}
        />
        {data && (
          <Text size="sm" mt="lg">
            {data.mailings.totalCount.toLocaleString()} mailings
          </Text>
        )}
      </Group>
      <ErrorAlert error={error} mb="sm" />
      {loading && !data && <Loader aria-label="Loading mailings" />}
      {rows.filter((m) => live.has(m.status)).map((m) => (
        <LiveStats key={m.id} id={m.id} />
      ))}
      <TableScroll label="Mailings" ref={table}>
        <Table striped highlightOnHover data-testid="mailings">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>#</Table.Th>
              <Table.Th>Text</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th miw={180}>Progress</Table.Th>
              <Table.Th className="hide-narrow">Start</Table.Th>
              <Table.Th className="hide-narrow">End</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((m) => (
              <Table.Tr key={m.id} data-mailing={m.id}>
                <Table.Td>
                  <a {...linkProps(`/ui/mailings/${m.id}`)}>{m.id}</a>
                </Table.Td>
                <Table.Td maw={320}>
                  <Text truncate="end" size="sm">
                    <a {...linkProps(`/ui/mailings/${m.id}`)}>{m.text}</a>
                  </Text>
                </Table.Td>
                <Table.Td>
                  <StatusBadge status={m.stats.status} />
                </Table.Td>
                <Table.Td>
                  <MailingProgress total={m.stats.total} byStatus={m.stats.byStatus} label={`Progress of mailing ${m.id}`} size="md" />
                </Table.Td>
                <Table.Td className="hide-narrow">{formatTime(m.startAt)}</Table.Td>
                <Table.Td className="hide-narrow">{formatTime(m.endAt)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </TableScroll>
      {data && rows.length === 0 && <Text mt="md">No mailing yet.</Text>}
      {data?.mailings.pageInfo.hasNextPage && shown < MAX_SHOWN && (
        <Button
          variant="default"
          mt="md"
          onClick={() => {
            setFocusRow(rows.length);
            setShown((n) => Math.min(n + PAGE, MAX_SHOWN));
          }}
        >
          More
        </Button>
      )}
    </>
  );
}
