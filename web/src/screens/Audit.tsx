// The audit log (admins): every write, newest first, with who, what, when, the changed
// fields and the request; filtered by actor, action and target type.
import { useQuery } from "@apollo/client/react";
import { Alert, Code, Stack, Table, Text, Title } from "@mantine/core";
import { useState } from "react";
import { CursorPager, ErrorAlert, filledIn, FilterForm, formatTime, nodesOf, TableScroll } from "../components";
import { graphql } from "../gql";
import type { AuditLogWhere } from "../gql/graphql";
import { useCan } from "../viewer";

const AuditQuery = graphql(`
  query AuditLog($first: Int, $after: Cursor, $where: AuditLogWhere) {
    auditLog(first: $first, after: $after, where: $where) {
      totalCount
      pageInfo {
        ...NextPage
      }
      edges {
        node {
          id
          at
          actor
          action
          targetType
          targetID
          changes
          requestID
        }
      }
    }
  }
`);

export function Audit() {
  const isAdmin = useCan("ADMIN");
  const [where, setWhere] = useState<AuditLogWhere | undefined>(undefined);
  const [after, setAfter] = useState<string[]>([]);
  const { data, previousData, error } = useQuery(AuditQuery, { variables: { first: 50, after: after.at(-1), where }, skip: !isAdmin });
  if (!isAdmin) {
    return (
      <Alert color="gray" title="Audit log">
        The audit log is for administrators.
      </Alert>
    );
  }
  // The page shown stays until the next one is there: the pager keeps the focus.
  const conn = (data ?? previousData)?.auditLog;
  const rows = nodesOf(conn);
  return (
    <Stack>
      <Title order={1} size="h2">
        Audit log
      </Title>
      <FilterForm
        label="Filter the audit log"
        fields={[
          { key: "actor", label: "Actor", w: 160 },
          { key: "action", label: "Action", placeholder: "mailing.cancel", w: 170 },
          { key: "targetType", label: "Target type", placeholder: "client or mailing", w: 150 },
        ]}
        submit="Filter"
        onApply={(filter) => {
          setWhere(filledIn(filter));
          setAfter([]);
        }}
      />
      <ErrorAlert error={error} />
      <TableScroll label="Audit entries">
        <Table striped data-testid="audit">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>When</Table.Th>
              <Table.Th>Who</Table.Th>
              <Table.Th>What</Table.Th>
              <Table.Th>Target</Table.Th>
              <Table.Th>Changes</Table.Th>
              <Table.Th className="hide-narrow">Request</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((r) => (
              <Table.Tr key={r.id}>
                <Table.Td>{formatTime(r.at)}</Table.Td>
                <Table.Td>{r.actor}</Table.Td>
                <Table.Td>{r.action}</Table.Td>
                <Table.Td>
                  {r.targetType} {r.targetID}
                </Table.Td>
                <Table.Td maw={360}>
                  <Code block className="audit-changes">
                    {r.changes}
                  </Code>
                </Table.Td>
                <Table.Td className="hide-narrow">
                  <Text size="xs">{r.requestID}</Text>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </TableScroll>
      {conn && <CursorPager cursors={[after, setAfter]} conn={conn} noun="entries" back="Newer" on="Older" />}
    </Stack>
  );
}
