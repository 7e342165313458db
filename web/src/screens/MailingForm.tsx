// Compose or edit a mailing: text, recipients (a filter of tags and operator codes,
// with a live count of the clients it matches), period, and an optional daily send
// window in each client's local time. Errors appear under the field they name.
import { useMutation, useQuery } from "@apollo/client/react";
import { Alert, Button, Checkbox, Group, Loader, Paper, SimpleGrid, Stack, TagsInput, Text, Textarea, TextInput, Title } from "@mantine/core";
import { useEffect, useMemo, useState } from "react";
import { ErrorAlert } from "../components";
import { formErrors, type FormErrors } from "../errors";
import { graphql } from "../gql";
import type { CreateMailingInput, UpdateMailingInput } from "../gql/graphql";
import { linkProps, navigate } from "../router";
import { useCan } from "../viewer";
import { AudienceCount } from "./Audience";

// What the form edits, as it loads it and as an update answers it.
graphql(`
  fragment MailingEdit on Mailing {
    id
    text
    status
    startAt
    endAt
    filter {
      tags
      operatorCodes
    }
    sendWindow {
      from
      to
    }
  }
`);

const EditQuery = graphql(`
  query MailingForEdit($id: ID!) {
    mailing(id: $id) {
      ...MailingEdit
    }
  }
`);

const Create = graphql(`
  mutation CreateMailing($input: CreateMailingInput!) {
    createMailing(input: $input) {
      id
      status
    }
  }
`);

const Update = graphql(`
  mutation UpdateMailing($id: ID!, $input: UpdateMailingInput!) {
    updateMailing(id: $id, input: $input) {
      ...MailingEdit
    }
  }
`);

// toLocalInput turns an RFC 3339 time into the value of a datetime-local input.
function toLocalInput(t: string | Date): string {
  const d = new Date(t);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function fromLocalInput(v: string): string | null {
  if (!v) return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

type Form = {
  text: string;
  tags: string[];
  operatorCodes: string[];
  startAt: string;
  endAt: string;
  windowOn: boolean;
  from: string;
  to: string;
};

function emptyForm(): Form {
  const now = new Date();
  return {
    text: "",
    tags: [],
    operatorCodes: [],
    startAt: toLocalInput(now),
    endAt: toLocalInput(new Date(now.getTime() + 24 * 3600_000)),
    windowOn: false,
    from: "09:00",
    to: "21:00",
  };
}

export function MailingForm({ id }: { id?: string }) {
  const canWrite = useCan("OPERATOR");
  const { data, loading } = useQuery(EditQuery, { variables: { id: id ?? "" }, skip: !id, fetchPolicy: "network-only" });
  const initial = useMemo<Form | null>(() => {
    if (!id) return emptyForm();
    const m = data?.mailing;
    if (!m) return null;
    return {
      text: m.text,
      tags: [...m.filter.tags],
      operatorCodes: [...m.filter.operatorCodes],
      startAt: toLocalInput(m.startAt),
      endAt: toLocalInput(m.endAt),
      windowOn: !!m.sendWindow,
      from: m.sendWindow?.from ?? "09:00",
      to: m.sendWindow?.to ?? "21:00",
    };
  }, [id, data]);
  const [form, setForm] = useState<Form | null>(id ? null : emptyForm());
  useEffect(() => {
    if (initial && !form) setForm(initial);
  }, [initial, form]);
  const [errors, setErrors] = useState<FormErrors>({ fields: {}, general: [] });
  const [create, createState] = useMutation(Create);
  const [update, updateState] = useMutation(Update);

  if (!canWrite) {
    return (
      <Alert color="gray" title="Not for your role">
        Composing mailings needs an operator's role. <a {...linkProps("/ui/mailings")}>All mailings</a>
      </Alert>
    );
  }
  if (id && loading && !data) return <Loader aria-label="Loading the mailing" />;
  if (id && data && !data.mailing) return <Alert color="gray">Mailing {id} does not exist.</Alert>;
  if (!form || !initial) return <Loader aria-label="Loading" />;
  const status = data?.mailing?.status;
  const scheduled = !id || status === "SCHEDULED";
  const finished = status === "FINISHED" || status === "CANCELLED";

  const set = <K extends keyof Form>(k: K, v: Form[K]) => setForm((f) => (f ? { ...f, [k]: v } : f));
  const err = (field: string) => errors.fields[field];
  const filter = { tags: form.tags, operatorCodes: form.operatorCodes };

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    if (!form || !initial) return;
    setErrors({ fields: {}, general: [] });
    const local: Record<string, string> = {};
    const startAt = fromLocalInput(form.startAt);
    const endAt = fromLocalInput(form.endAt);
    if (!startAt) local.startAt = "Enter a start date and time.";
    if (!endAt) local.endAt = "Enter an end date and time.";
    if (Object.keys(local).length) {
      setErrors({ fields: local, general: [] });
      return;
    }
    const window = form.windowOn ? { from: form.from, to: form.to } : null;
    try {
      if (!id) {
        const input: CreateMailingInput = { text: form.text, startAt: startAt!, endAt: endAt!, filter };
        if (window) input.sendWindow = window;
        const res = await create({ variables: { input } });
        navigate(`/ui/mailings/${res.data!.createMailing.id}`);
      } else {
        // Only what the user changed: a running mailing refuses a new start or filter.
        const input: UpdateMailingInput = {};
        if (form.text !== initial.text) input.text = form.text;
        if (form.startAt !== initial.startAt) input.startAt = startAt;
        if (form.endAt !== initial.endAt) input.endAt = endAt;
        if (form.tags.join("\n") !== initial.tags.join("\n") || form.operatorCodes.join("\n") !== initial.operatorCodes.join("\n"))
          input.filter = filter;
        if (form.windowOn !== initial.windowOn || form.from !== initial.from || form.to !== initial.to) input.sendWindow = window;
        await update({ variables: { id, input } });
        navigate(`/ui/mailings/${id}`);
      }
    } catch (e) {
      setErrors(formErrors(e));
    }
  }

  return (
    <form onSubmit={submit} noValidate aria-label={id ? `Edit mailing ${id}` : "New mailing"}>
      <Stack maw={900}>
        <Title order={1} size="h2">
          {id ? `Edit mailing ${id}` : "New mailing"}
        </Title>
        {finished && <Alert color="gray">This mailing is {status?.toLowerCase()}: it can no longer change.</Alert>}
        {errors.general.map((g) => (
          <ErrorAlert key={g} error={g} />
        ))}
        <Textarea
          label="Text"
          description={`${[...form.text].length} of 4,096 characters`}
          value={form.text}
          onChange={(e) => set("text", e.currentTarget.value)}
          error={err("text")}
          autosize
          minRows={3}
          required
        />
        <Paper withBorder p="md">
          <Title order={2} size="h4" mb="xs">
            Recipients
          </Title>
          <Text size="sm" mb="sm">
            Clients matching any of the tags and any of the operator codes; an empty list does not constrain.
            {!scheduled && " A started mailing keeps its recipients."}
          </Text>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <TagsInput
              label="Tags"
              placeholder="a tag, then Enter"
              value={form.tags}
              onChange={(v) => set("tags", v)}
              error={err("filter.tags") ?? err("filter")}
              disabled={!scheduled}
              data-testid="filter-tags"
            />
            <TagsInput
              label="Operator codes"
              placeholder="3 digits, then Enter"
              value={form.operatorCodes}
              onChange={(v) => set("operatorCodes", v)}
              error={err("filter.operatorCodes")}
              disabled={!scheduled}
              data-testid="filter-operator-codes"
            />
          </SimpleGrid>
          <AudienceCount filter={filter} />
        </Paper>
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput
            type="datetime-local"
            label="Start"
            description="Now or later; a mailing whose start has come is sent at once."
            value={form.startAt}
            onChange={(e) => set("startAt", e.currentTarget.value)}
            error={err("startAt")}
            disabled={!scheduled}
            required
          />
          <TextInput
            type="datetime-local"
            label="End"
            description="Nothing is sent from this time on."
            value={form.endAt}
            onChange={(e) => set("endAt", e.currentTarget.value)}
            error={err("endAt")}
            required
          />
        </SimpleGrid>
        <Paper withBorder p="md">
          <Checkbox
            label="Send only inside a daily window, in each client's local time"
            checked={form.windowOn}
            onChange={(e) => set("windowOn", e.currentTarget.checked)}
          />
          {form.windowOn && (
            <SimpleGrid cols={{ base: 1, sm: 2 }} mt="sm">
              <TextInput
                type="time"
                label="From"
                value={form.from}
                onChange={(e) => set("from", e.currentTarget.value)}
                error={err("sendWindow.from") ?? err("sendWindow")}
              />
              <TextInput
                type="time"
                label="To (excluded; before From wraps midnight)"
                value={form.to}
                onChange={(e) => set("to", e.currentTarget.value)}
                error={err("sendWindow.to")}
              />
            </SimpleGrid>
          )}
        </Paper>
        <Group>
          <Button type="submit" loading={createState.loading || updateState.loading} disabled={finished}>
            {id ? "Save" : "Create mailing"}
          </Button>
          <Button variant="default" component="a" {...linkProps(id ? `/ui/mailings/${id}` : "/ui/mailings")}>
            Back
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
