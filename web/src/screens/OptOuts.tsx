// Opt-outs: phones that never receive a mailing again. Operators opt a phone out (its
// unsent messages are cancelled) or back in.
import { useMutation, useQuery } from "@apollo/client/react";
import { Button, Group, Paper, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useMemo, useState } from "react";
import { ConfirmButton, CursorPager, ErrorAlert, FilterForm, formatTime, nodesOf, TableScroll, useRowFocus } from "../components";
import { errorText, formErrors, type FormErrors } from "../errors";
import { graphql } from "../gql";
import { useCan } from "../viewer";

const OptOutsQuery = graphql(`
  query OptOuts($first: Int, $after: Cursor, $where: OptOutWhere) {
    optOuts(first: $first, after: $after, where: $where) {
      totalCount
      pageInfo {
        ...NextPage
      }
      edges {
        node {
          id
          phone
          reason
          createdAt
          createdBy
        }
      }
    }
  }
`);

const OptOut = graphql(`
  mutation OptOut($phone: String!, $reason: String) {
    optOut(phone: $phone, reason: $reason) {
      id
      phone
    }
  }
`);

const OptIn = graphql(`
  mutation OptIn($phone: String!) {
    optIn(phone: $phone)
  }
`);

export function OptOuts() {
  const canWrite = useCan("OPERATOR");
  const [where, setWhere] = useState<string | undefined>(undefined);
  const [after, setAfter] = useState<string[]>([]);
  const { data, previousData, error, refetch } = useQuery(OptOutsQuery, {
    variables: { first: 50, after: after.at(-1), where: where ? { phone: where } : undefined },
  });
  const [optIn] = useMutation(OptIn);
  const [actionError, setActionError] = useState<string | null>(null);
  // The page shown stays until the next one is there: the pager keeps the focus.
  const conn = (data ?? previousData)?.optOuts;
  const rows = useMemo(() => nodesOf(conn), [conn]);
  const { table, removed } = useRowFocus(useMemo(() => rows.map((r) => r.id), [rows]));
  return (
    <Stack>
      <Title order={1} size="h2">
        Opt-outs
      </Title>
      <Text size="sm">An opted-out phone is never a recipient again; its unsent messages are cancelled when it opts out.</Text>
      {canWrite && <OptOutForm onDone={() => void refetch()} />}
      <FilterForm
        label="Find an opt-out"
        fields={[{ key: "phone", label: "Phone", w: 200 }]}
        submit="Find"
        onApply={({ phone }) => {
          setWhere(phone.trim() || undefined);
          setAfter([]);
        }}
      />
      <ErrorAlert error={actionError ?? error} />
      <TableScroll label="Opted-out phones" ref={table}>
        <Table striped data-testid="opt-outs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Phone</Table.Th>
              <Table.Th>Reason</Table.Th>
              <Table.Th>When</Table.Th>
              <Table.Th>By</Table.Th>
              {canWrite && (
                <Table.Th>
                  <span className="visually-hidden">Actions</span>
                </Table.Th>
              )}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((r) => (
              <Table.Tr key={r.id} data-phone={r.phone}>
                <Table.Td>{r.phone}</Table.Td>
                <Table.Td>{r.reason || "—"}</Table.Td>
                <Table.Td>{formatTime(r.createdAt)}</Table.Td>
                <Table.Td>{r.createdBy}</Table.Td>
                {canWrite && (
                  <Table.Td>
                    <ConfirmButton
                      title={`Opt ${r.phone} back in?`}
                      message="Later mailings may select this phone again."
                      confirmLabel="Opt in"
                      action="opt-in"
                      onConfirm={async () => {
                        setActionError(null);
                        try {
                          await optIn({ variables: { phone: r.phone } });
                          removed(r.id, "opt-in");
                          await refetch();
                        } catch (e) {
                          setActionError(errorText(e));
                        }
                      }}
                    >
                      Opt in
                    </ConfirmButton>
                  </Table.Td>
                )}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </TableScroll>
      {conn && <CursorPager cursors={[after, setAfter]} conn={conn} noun="opted-out phones" back="Previous" on="Next" />}
    </Stack>
  );
}

function OptOutForm({ onDone }: { onDone: () => void }) {
  const [phone, setPhone] = useState("");
  const [reason, setReason] = useState("");
  const [errors, setErrors] = useState<FormErrors>({ fields: {}, general: [] });
  const [run, state] = useMutation(OptOut);
  return (
    <Paper withBorder p="md">
      <form
        aria-label="Opt a phone out"
        noValidate
        onSubmit={async (e) => {
          e.preventDefault();
          setErrors({ fields: {}, general: [] });
          try {
            await run({ variables: { phone: phone.trim(), reason: reason.trim() || undefined } });
            setPhone("");
            setReason("");
            onDone();
          } catch (ex) {
            setErrors(formErrors(ex));
          }
        }}
      >
        <Group align="flex-start">
          <TextInput label="Phone to opt out" value={phone} onChange={(e) => setPhone(e.currentTarget.value)} error={errors.fields.phone} w={200} required />
          <TextInput label="Reason" value={reason} onChange={(e) => setReason(e.currentTarget.value)} error={errors.fields.reason} w={260} />
          <Button type="submit" mt={24} loading={state.loading}>
            Opt out
          </Button>
        </Group>
        {errors.general.map((g) => (
          <ErrorAlert key={g} error={g} mt="sm" />
        ))}
      </form>
    </Paper>
  );
}
