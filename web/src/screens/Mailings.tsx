// The mailings, newest first, each with its status and progress kept live by a
// mailingProgress subscription while it can still change.
import { useQuery, useSubscription } from "@apollo/client/react";
import { Button, Group, Loader, Select, Table, Text, Title } from "@mantine/core";
import { useState } from "react";
import { ErrorAlert, formatTime, MailingProgress, nodesOf, StatusBadge, TableScroll } from "../components";
import { graphql } from "../gql";
import type { MailingStatus } from "../gql/graphql";
import { linkProps } from "../router";
import { useCan } from "../viewer";

const MailingsQuery = graphql(`
  query Mailings($first: Int!, $after: Cursor, $where: MailingWhereInput) {
    mailings(first: $first, after: $after, where: $where, orderBy: { field: CREATED_AT, direction: DESC }) {
      totalCount
      pageInfo {
        ...NextPage
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

export function Mailings() {
  const canWrite = useCan("OPERATOR");
  const [status, setStatus] = useState("ANY");
  const { data, error, loading, fetchMore } = useQuery(MailingsQuery, {
    variables: { first: 50, where: status !== "ANY" ? { status: status as MailingStatus } : undefined },
    pollInterval: 15_000,
  });
  const rows = nodesOf(data?.mailings);
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
        <Select label="Status" data={statusOptions} value={status} onChange={(v) => setStatus(v ?? "ANY")} allowDeselect={false} w={200} />
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
      <TableScroll label="Mailings">
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
      {data?.mailings.pageInfo.hasNextPage && (
        <Button
          variant="default"
          mt="md"
          onClick={() =>
            fetchMore({
              variables: { after: data.mailings.pageInfo.endCursor },
              updateQuery: (prev, { fetchMoreResult }) => ({
                ...fetchMoreResult,
                mailings: {
                  ...fetchMoreResult.mailings,
                  edges: [...(prev.mailings.edges ?? []), ...(fetchMoreResult.mailings.edges ?? [])],
                },
              }),
            })
          }
        >
          More
        </Button>
      )}
    </>
  );
}
