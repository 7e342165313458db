// The client directory: search by phone, tag and operator code, page through any
// number of clients (cursor pages of 100, rendered by TanStack Table), create, edit and
// delete by role, import a CSV file with live progress and a report of its bad lines,
// and export the matching clients as CSV.
import { useMutation, useQuery } from "@apollo/client/react";
import { Button, Group, Modal, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { createColumnHelper, flexRender, getCoreRowModel, useReactTable, type Cell } from "@tanstack/react-table";
import { memo, useEffect, useMemo, useState } from "react";
import { getToken } from "../auth";
import { ErrorAlert, filledIn, FilterForm, formatTime, nodesOf, PagePager, pageVariables, TableScroll, useRowFocus, type Page } from "../components";
import { errorText, formErrors, type FormErrors } from "../errors";
import { graphql } from "../gql";
import type { ClientWhereInput, ClientsQuery as ClientsQueryResult } from "../gql/graphql";
import { useCan } from "../viewer";
import { ImportPanel } from "./Import";

const ClientsQuery = graphql(`
  query Clients($first: Int, $after: Cursor, $last: Int, $before: Cursor, $where: ClientWhereInput) {
    clients(first: $first, after: $after, last: $last, before: $before, where: $where) {
      totalCount
      pageInfo {
        ...Pages
      }
      edges {
        node {
          id
          phone
          tag
          operatorCode
          timezone
          createdAt
        }
      }
    }
  }
`);

const CreateClient = graphql(`
  mutation CreateClient($input: CreateClientInput!) {
    createClient(input: $input) {
      id
    }
  }
`);

const UpdateClient = graphql(`
  mutation UpdateClient($id: ID!, $input: UpdateClientInput!) {
    updateClient(id: $id, input: $input) {
      id
      phone
      tag
      operatorCode
      timezone
    }
  }
`);

const DeleteClient = graphql(`
  mutation DeleteClient($id: ID!) {
    deleteClient(id: $id)
  }
`);

type Row = NonNullable<NonNullable<NonNullable<ClientsQueryResult["clients"]["edges"]>[number]>["node"]>;
const PAGE = 100;
const col = createColumnHelper<Row>();

export function Clients() {
  const canWrite = useCan("OPERATOR");
  const canDelete = useCan("ADMIN");
  const [applied, setApplied] = useState({ phone: "", tag: "", operatorCode: "" });
  const [page, setPage] = useState<Page>({ n: 1 });
  const [editing, setEditing] = useState<Row | "new" | null>(null);
  // One confirmation for the whole table (a dialog per row would slow every page down).
  const [deleting, setDeleting] = useState<Row | null>(null);
  const [error, setError] = useState<string | null>(null);
  const where = useMemo<ClientWhereInput | undefined>(
    () => filledIn({ phoneContains: applied.phone, tag: applied.tag, operatorCode: applied.operatorCode }),
    [applied],
  );
  const { data, previousData, error: loadError, refetch } = useQuery(ClientsQuery, { variables: { ...pageVariables(page, PAGE), where } });
  const [del] = useMutation(DeleteClient);
  // The page shown stays until the next one is there: the pager keeps the focus.
  const conn = (data ?? previousData)?.clients;
  const rows = useMemo(() => nodesOf(conn), [conn]);
  const keys = useMemo(() => rows.map((r) => r.id), [rows]);
  const { table: tableRef, removed } = useRowFocus(keys);

  const columns = useMemo(
    () => [
      col.accessor("id", { header: "#" }),
      col.accessor("phone", { header: "Phone" }),
      col.accessor("tag", { header: "Tag", cell: (c) => c.getValue() || "—" }),
      col.accessor("operatorCode", { header: "Operator" }),
      col.accessor("timezone", { header: "Time zone" }),
      col.accessor("createdAt", { header: "Added", cell: (c) => formatTime(c.getValue()) }),
      col.display({
        id: "actions",
        header: () => <span className="visually-hidden">Actions</span>,
        // Plain buttons, drawn by app.css as Mantine's compact ones (see ClientRow).
        cell: (c) => (
          <div className="row-actions">
            {canWrite && (
              <button type="button" className="row-button mantine-focus-auto mantine-active" onClick={() => setEditing(c.row.original)} aria-label={`Edit client ${c.row.original.phone}`}>
                Edit
              </button>
            )}
            {canDelete && (
              <button type="button" className="row-button row-button-danger mantine-focus-auto mantine-active" onClick={() => setDeleting(c.row.original)} data-action="delete">
                Delete
              </button>
            )}
          </div>
        ),
      }),
    ],
    [canWrite, canDelete],
  );
  const table = useReactTable({ data: rows, columns, getCoreRowModel: getCoreRowModel(), getRowId: (r) => r.id });

  const exportQuery = filledIn({ tag: applied.tag, operator_code: applied.operatorCode });
  const exportHref = "/clients/export.csv" + (exportQuery ? "?" + new URLSearchParams(exportQuery as Record<string, string>) : "");

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1} size="h2">
          Clients
        </Title>
        <Group gap="xs">
          <Button variant="default" component="a" href={exportHref} onClick={(e: React.MouseEvent) => downloadWithToken(e, exportHref)}>
            Export CSV
          </Button>
          {canWrite && <Button onClick={() => setEditing("new")}>New client</Button>}
        </Group>
      </Group>
      <FilterForm
        label="Search clients"
        fields={[
          { key: "phone", label: "Phone contains", w: 180 },
          { key: "tag", label: "Tag", w: 160 },
          { key: "operatorCode", label: "Operator code", w: 140 },
        ]}
        submit="Search"
        onApply={(search) => {
          setApplied(search);
          setPage({ n: 1 });
        }}
      />
      <ErrorAlert error={error ?? loadError} />
      <TableScroll label="Clients" ref={tableRef}>
        <Table data-testid="clients">
          <Table.Thead>
            {table.getHeaderGroups().map((hg) => (
              <Table.Tr key={hg.id}>
                {hg.headers.map((h) => (
                  <Table.Th key={h.id}>{flexRender(h.column.columnDef.header, h.getContext())}</Table.Th>
                ))}
              </Table.Tr>
            ))}
          </Table.Thead>
          <tbody className="plain-rows">
            {table.getRowModel().rows.map((r) => (
              <ClientRow key={r.id} phone={r.original.phone} cells={r.getVisibleCells()} />
            ))}
          </tbody>
        </Table>
      </TableScroll>
      {conn && <PagePager page={[page, setPage]} conn={conn} size={PAGE} noun="clients" ends testId="clients-total" />}
      {canWrite && <ImportPanel onImported={() => void refetch()} />}
      <Modal opened={!!deleting} onClose={() => setDeleting(null)} title={`Delete client ${deleting?.phone ?? ""}?`} centered>
        <Text mb="md">The client leaves the directory and its unsent messages are cancelled; what was sent stays in the statistics.</Text>
        <Group justify="flex-end">
          <Button variant="default" onClick={() => setDeleting(null)}>
            Keep it
          </Button>
          <Button
            color="#b02525"
            onClick={async () => {
              const row = deleting;
              setDeleting(null);
              setError(null);
              if (!row) return;
              try {
                await del({ variables: { id: row.id } });
                removed(row.id, "delete");
                await refetch();
              } catch (e) {
                setError(errorText(e));
              }
            }}
          >
            Delete
          </Button>
        </Group>
      </Modal>
      <ClientModal
        client={editing}
        onClose={(changed) => {
          setEditing(null);
          if (changed) void refetch();
        }}
      />
    </Stack>
  );
}

// ClientRow is a row of the table in plain elements, which app.css draws as a striped
// Mantine table's rows with hover (.plain-rows): a page of 100 rows in Mantine's
// Table.Tr, Table.Td, Group and Button was 3,300 components, most of them resolving
// their props and styles, and a new page took up to 200 ms to render. Memoised: cells are
// the same array while the row and the columns are (TanStack memoises them), so the
// page shown while the next one loads is not rendered again.
const ClientRow = memo(function ClientRow({ phone, cells }: { phone: string; cells: Cell<Row, unknown>[] }) {
  return (
    <tr data-client={phone}>
      {cells.map((c) => (
        <td key={c.id}>{flexRender(c.column.columnDef.cell, c.getContext())}</td>
      ))}
    </tr>
  );
});

// downloadWithToken fetches a CSV export with the tab's credentials (a plain link
// cannot carry them) and saves it.
async function downloadWithToken(e: React.MouseEvent, href: string) {
  const token = getToken();
  if (!token) return; // open mode: the link works as it is
  e.preventDefault();
  const res = await fetch(href, { headers: { Authorization: `Bearer ${token}` } });
  if (!res.ok) {
    alert(`The export failed: HTTP ${res.status}`);
    return;
  }
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = "clients.csv";
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function ClientModal({ client, onClose }: { client: Row | "new" | null; onClose: (changed: boolean) => void }) {
  const isNew = client === "new";
  const [form, setForm] = useState({ phone: "", tag: "", operatorCode: "", timezone: "UTC" });
  const [errors, setErrors] = useState<FormErrors>({ fields: {}, general: [] });
  const [create, cs] = useMutation(CreateClient);
  const [update, us] = useMutation(UpdateClient);
  useEffect(() => {
    setErrors({ fields: {}, general: [] });
    if (client === "new") setForm({ phone: "", tag: "", operatorCode: "", timezone: "UTC" });
    else if (client) setForm({ phone: client.phone, tag: client.tag, operatorCode: client.operatorCode, timezone: client.timezone });
  }, [client]);
  const err = (f: string) => errors.fields[f];
  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setErrors({ fields: {}, general: [] });
    try {
      if (isNew) {
        await create({
          variables: {
            input: { phone: form.phone.trim(), tag: form.tag, timezone: form.timezone.trim() || undefined, operatorCode: form.operatorCode.trim() || undefined },
          },
        });
      } else if (client && typeof client === "object") {
        const input: Record<string, string> = {};
        for (const k of ["phone", "tag", "operatorCode", "timezone"] as const) if (form[k] !== client[k]) input[k] = form[k];
        await update({ variables: { id: client.id, input } });
      }
      onClose(true);
    } catch (ex) {
      setErrors(formErrors(ex));
    }
  }
  return (
    // Mounted while closed, so that closing gives the focus back to the button that opened it.
    <Modal opened={!!client} onClose={() => onClose(false)} title={isNew ? "New client" : `Edit client ${client?.phone ?? ""}`}>
      {client && (
        <form onSubmit={submit} noValidate>
          <Stack>
            {errors.general.map((g) => (
              <ErrorAlert key={g} error={g} />
            ))}
            <TextInput label="Phone" description="7 and ten digits" value={form.phone} onChange={(e) => setForm({ ...form, phone: e.currentTarget.value })} error={err("phone")} required />
            <TextInput label="Tag" value={form.tag} onChange={(e) => setForm({ ...form, tag: e.currentTarget.value })} error={err("tag")} />
            <TextInput
              label="Operator code"
              description={isNew ? "Three digits; taken from the phone when empty" : "Three digits"}
              value={form.operatorCode}
              onChange={(e) => setForm({ ...form, operatorCode: e.currentTarget.value })}
              error={err("operatorCode")}
            />
            <TextInput label="Time zone" description="An IANA name, such as Europe/Moscow" value={form.timezone} onChange={(e) => setForm({ ...form, timezone: e.currentTarget.value })} error={err("timezone")} />
            <Group justify="flex-end">
              <Button variant="default" onClick={() => onClose(false)}>
                Back
              </Button>
              <Button type="submit" loading={cs.loading || us.loading}>
                {isNew ? "Create" : "Save"}
              </Button>
            </Group>
          </Stack>
        </form>
      )}
    </Modal>
  );
}

