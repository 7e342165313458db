// CSV import of clients: the file goes up as a GraphQL multipart upload
// (importClients); a large file is worked by a job whose progress arrives through
// clientImportProgress. Invalid lines are listed with their line, column and reason.
import { useMutation, useSubscription } from "@apollo/client/react";
import { Button, Checkbox, FileInput, Group, Paper, Progress, Select, Stack, Table, Text, Title } from "@mantine/core";
import { useState } from "react";
import { ErrorAlert, TableScroll } from "../components";
import { formErrors } from "../errors";
import { graphql } from "../gql";
import type { ImportClientsMutation, ImportMode } from "../gql/graphql";


// What the import's mutation and its progress subscription both read.
graphql(`
  fragment ImportState on ClientImport {
    id
    state
    mode
    skipInvalid
    lines
    imported
    skipped
    errorCount
    errors {
      line
      field
      message
    }
  }
`);

const ImportClients = graphql(`
  mutation ImportClients($file: Upload!, $mode: ImportMode, $skipInvalid: Boolean) {
    importClients(file: $file, mode: $mode, skipInvalid: $skipInvalid) {
      ...ImportState
    }
  }
`);

const ImportProgress = graphql(`
  subscription ClientImportProgress($id: ID!) {
    clientImportProgress(id: $id) {
      ...ImportState
    }
  }
`);

export function ImportPanel({ onImported }: { onImported: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [mode, setMode] = useState<string>("INSERT");
  const [skip, setSkip] = useState(false);
  const [fileError, setFileError] = useState<string | null>(null);
  const [run, state] = useMutation(ImportClients);
  // The import as last heard of: the mutation's answer, then the subscription's.
  const [imp, setImp] = useState<ImportClientsMutation["importClients"] | null>(null);
  const working = !!imp && (imp.state === "QUEUED" || imp.state === "RUNNING");
  useSubscription(ImportProgress, {
    variables: { id: imp?.id ?? "" },
    skip: !working,
    onData: ({ data }) => {
      const next = data.data?.clientImportProgress;
      if (!next) return;
      setImp(next);
      if (next.state === "FINISHED") onImported();
    },
  });

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setFileError(null);
    if (!file) {
      setFileError("Choose a CSV file.");
      return;
    }
    try {
      setImp(null);
      const res = await run({ variables: { file, mode: mode as ImportMode, skipInvalid: skip } });
      const got = res.data?.importClients ?? null;
      setImp(got);
      if (got?.state === "FINISHED") onImported();
    } catch (ex) {
      const fe = formErrors(ex);
      setFileError(fe.fields.file ?? Object.values(fe.fields)[0] ?? fe.general.join(" "));
    }
  }

  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="xs">
        Import clients from a CSV file
      </Title>
      <Text size="sm" mb="sm">
        A header line names the columns: phone, and optionally tag, timezone, operator_code. Without “skip invalid lines”, one bad line
        imports nothing.
      </Text>
      <form onSubmit={submit} aria-label="Import clients">
        <Group align="flex-end">
          <FileInput label="CSV file" accept=".csv,text/csv" value={file} onChange={setFile} error={fileError} w={260} clearable placeholder="Choose a file" />
          <Select
            label="Existing phones"
            data={[
              { value: "INSERT", label: "are errors" },
              { value: "UPSERT", label: "are updated" },
            ]}
            value={mode}
            onChange={(v) => setMode(v ?? "INSERT")}
            allowDeselect={false}
            w={170}
          />
          <Checkbox label="Skip invalid lines" checked={skip} onChange={(e) => setSkip(e.currentTarget.checked)} mb={8} />
          <Button type="submit" loading={state.loading}>
            Import
          </Button>
        </Group>
      </form>
      {imp && (
        <Stack mt="md" gap="xs" data-testid="import-result" data-state={imp.state} data-imported={imp.imported} data-errors={imp.errorCount}>
          {working && <Progress value={100} animated aria-label="Importing" />}
          <Text role="status">
            {imp.state === "FINISHED"
              ? `Imported ${imp.imported.toLocaleString()} of ${imp.lines.toLocaleString()} lines${imp.skipped ? `; ${imp.skipped} invalid lines skipped` : ""}.`
              : imp.state === "FAILED"
                ? `Nothing was imported: ${imp.errorCount.toLocaleString()} invalid ${imp.errorCount === 1 ? "line" : "lines"}. Fix them, or import again skipping them.`
                : `Importing… ${imp.lines.toLocaleString()} lines read, ${imp.imported.toLocaleString()} imported.`}
          </Text>
          {imp.errors.length > 0 && (
            <TableScroll label="Invalid lines">
              <Table striped data-testid="import-errors">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Line</Table.Th>
                    <Table.Th>Column</Table.Th>
                    <Table.Th>Problem</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {imp.errors.slice(0, 200).map((e) => (
                    <Table.Tr key={`${e.line}-${e.field}`}>
                      <Table.Td>{e.line}</Table.Td>
                      <Table.Td>{e.field}</Table.Td>
                      <Table.Td>{e.message}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </TableScroll>
          )}
          {imp.errors.length > 200 && <Text size="sm">The first 200 of {imp.errorCount.toLocaleString()} invalid lines are shown.</Text>}
        </Stack>
      )}
      <ErrorAlert error={!fileError && state.error} mt="sm" />
    </Paper>
  );
}
