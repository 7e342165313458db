// The daily report: preview the report of any date, and (admins) send it now by email.
import { useMutation, useQuery } from "@apollo/client/react";
import { Alert, Button, Group, Loader, Paper, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useState } from "react";
import { ErrorAlert, formatTime, StatusBadge, TableScroll } from "../components";
import { errorText, formErrors } from "../errors";
import { graphql } from "../gql";
import { useCan } from "../viewer";

const ReportQuery = graphql(`
  query DailyReport($date: Date) {
    dailyReport(date: $date) {
      date
      from
      to
      text
      totals {
        mailings
        messages
        byStatus {
          status
          count
        }
        perMailing {
          ...MailingCounts
        }
      }
    }
  }
`);

const SendReport = graphql(`
  mutation SendDailyReport($date: Date) {
    sendDailyReport(date: $date) {
      date
    }
  }
`);

function yesterday(): string {
  const d = new Date(Date.now() - 24 * 3600_000);
  return d.toISOString().slice(0, 10);
}

export function Report() {
  const canSend = useCan("ADMIN");
  const [date, setDate] = useState(yesterday());
  const valid = /^\d{4}-\d{2}-\d{2}$/.test(date);
  const { data, error, loading } = useQuery(ReportQuery, { variables: { date }, skip: !valid });
  const [send, sending] = useMutation(SendReport);
  const [sent, setSent] = useState<string | null>(null);
  const [sendError, setSendError] = useState<string | null>(null);
  const r = data?.dailyReport;
  const dateError = !valid ? "Enter a date." : formErrors(error).fields.date;
  return (
    <Stack>
      <Title order={1} size="h2">
        Daily report
      </Title>
      <Group align="flex-end">
        <TextInput type="date" label="Date of the report" value={date} onChange={(e) => setDate(e.currentTarget.value)} error={dateError} w={200} />
        {canSend && (
          <Button
            loading={sending.loading}
            disabled={!valid}
            onClick={async () => {
              setSent(null);
              setSendError(null);
              try {
                await send({ variables: { date } });
                setSent(`The report of ${date} went out by email.`);
              } catch (e) {
                setSendError(errorText(e));
              }
            }}
          >
            Send now
          </Button>
        )}
      </Group>
      {sent && (
        <Alert color="green" role="status">
          {sent}
        </Alert>
      )}
      <ErrorAlert error={sendError} />
      <ErrorAlert error={!dateError && error} />
      {loading && !r && <Loader aria-label="Loading the report" />}
      {r && (
        <>
          <Text>
            Mailings active from {formatTime(r.from)} to {formatTime(r.to)}: {r.totals.mailings.toLocaleString()} mailings,{" "}
            {r.totals.messages.toLocaleString()} messages ({r.totals.byStatus.map((c) => `${c.status.toLowerCase()} ${c.count.toLocaleString()}`).join(", ")}).
          </Text>
          <TableScroll label="Mailings of the report">
            <Table striped data-testid="report">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Mailing</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Messages</Table.Th>
                  {r.totals.byStatus.map((c) => (
                    <Table.Th key={c.status}>{c.status.toLowerCase()}</Table.Th>
                  ))}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {r.totals.perMailing.map((m) => (
                  <Table.Tr key={m.mailingID}>
                    <Table.Td>{m.mailingID}</Table.Td>
                    <Table.Td>
                      <StatusBadge status={m.status} />
                    </Table.Td>
                    <Table.Td>{m.total.toLocaleString()}</Table.Td>
                    {m.byStatus.map((c) => (
                      <Table.Td key={c.status}>{c.count.toLocaleString()}</Table.Td>
                    ))}
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </TableScroll>
          <Paper withBorder p="md">
            <Title order={2} size="h4" mb="xs">
              The email's text
            </Title>
            <pre className="report-text" tabIndex={0} aria-label="The email's text">
              {r.text}
            </pre>
          </Paper>
        </>
      )}
    </Stack>
  );
}
