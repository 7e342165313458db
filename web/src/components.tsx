// Pieces the screens share: status badges, the stacked progress bar, confirmations, errors,
// filter forms, the rows and pages of a connection.
import { Alert, Badge, Button, Group, Modal, Progress, Text, TextInput, Tooltip, type AlertProps, type GroupProps } from "@mantine/core";
import { useEffect, useRef, useState, type ReactNode, type Ref } from "react";
import { errorText } from "./errors";
import { graphql } from "./gql";

export const messageStatuses = ["QUEUED", "RETRYING", "SENT", "FAILED", "EXPIRED", "CANCELLED"] as const;

// Colours with white text above the 4.5:1 contrast of WCAG AA.
export const statusColor: Record<string, string> = {
  QUEUED: "#495057",
  RETRYING: "#a14a00",
  SENT: "#1b6b2e",
  FAILED: "#b02525",
  EXPIRED: "#7a2a99",
  CANCELLED: "#343a40",
  SCHEDULED: "#1c5fa8",
  RUNNING: "#0b6e66",
  PAUSED: "#8a4b00",
  FINISHED: "#1b6b2e",
};

export function StatusBadge({ status }: { status: string }) {
  return (
    <Badge color={statusColor[status] ?? "gray.8"} variant="filled" data-status={status}>
      {status.toLowerCase()}
    </Badge>
  );
}

type Count = { status: string; count: number };

// done is how many messages are in a terminal status.
export function doneCount(byStatus: readonly Count[]): number {
  return byStatus.filter((c) => !["QUEUED", "RETRYING"].includes(c.status)).reduce((s, c) => s + c.count, 0);
}

export function percent(done: number, total: number): number {
  return total === 0 ? 0 : Math.floor((done / total) * 100);
}

// MailingProgress is a bar of the messages by status, with the share done.
export function MailingProgress({
  total,
  byStatus,
  label,
  size = "lg",
  legend = false,
}: {
  total: number;
  byStatus: readonly Count[];
  label: string;
  size?: string;
  legend?: boolean;
}) {
  const done = doneCount(byStatus);
  const pct = percent(done, total);
  return (
    <div>
      <Progress.Root
        size={size}
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
        aria-valuetext={`${pct} % (${done} of ${total} messages done)`}
        data-testid="progress"
        data-percent={pct}
      >
        {byStatus
          .filter((c) => c.count > 0)
          .map((c) => (
            <Tooltip key={c.status} label={`${c.status.toLowerCase()}: ${c.count}`}>
              <Progress.Section value={total ? (c.count / total) * 100 : 0} color={statusColor[c.status]} aria-hidden />
            </Tooltip>
          ))}
      </Progress.Root>
      {legend && (
        <ul className="legend" aria-label="Messages by status">
          {byStatus.map((c) => (
            <li key={c.status} data-testid={`count-${c.status}`} data-count={c.count}>
              <Text span size="sm">
                <span className="swatch" style={{ background: statusColor[c.status] }} />
                {c.status.toLowerCase()}: <strong>{c.count.toLocaleString()}</strong>
              </Text>
            </li>
          ))}
          <li>
            <Text span size="sm">
              done: <strong data-testid="percent">{pct} %</strong> of {total.toLocaleString()}
            </Text>
          </li>
        </ul>
      )}
    </div>
  );
}

// ConfirmButton asks before it acts.
export function ConfirmButton({
  children,
  title,
  message,
  confirmLabel,
  color,
  onConfirm,
  loading,
  disabled,
  action,
}: {
  children: ReactNode;
  title: string;
  message: ReactNode;
  confirmLabel: string;
  color?: string;
  onConfirm: () => void | Promise<void>;
  loading?: boolean;
  disabled?: boolean;
  action?: string; // data-action of the button, for useRowFocus
}) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button color={color} variant="outline" onClick={() => setOpen(true)} loading={loading} disabled={disabled} data-action={action}>
        {children}
      </Button>
      <Modal opened={open} onClose={() => setOpen(false)} title={title} centered>
        <Text mb="md">{message}</Text>
        <Group justify="flex-end">
          <Button variant="default" onClick={() => setOpen(false)}>
            Keep it
          </Button>
          <Button
            color={color}
            onClick={async () => {
              setOpen(false);
              await onConfirm();
            }}
          >
            {confirmLabel}
          </Button>
        </Group>
      </Modal>
    </>
  );
}

// FilterForm is a row of text fields that filter a list: what is typed applies when the
// form is submitted (onApply, with every field as typed), not at each key.
export function FilterForm<K extends string>({
  label,
  fields,
  submit,
  onApply,
}: {
  label: string;
  fields: readonly { key: K; label: string; placeholder?: string; w: number }[];
  submit: string;
  onApply: (values: Record<K, string>) => void;
}) {
  const [values, setValues] = useState(() => Object.fromEntries(fields.map((f) => [f.key, ""])) as Record<K, string>);
  return (
    <form
      aria-label={label}
      onSubmit={(e) => {
        e.preventDefault();
        onApply(values);
      }}
    >
      <Group align="flex-end">
        {fields.map((f) => (
          <TextInput
            key={f.key}
            label={f.label}
            placeholder={f.placeholder}
            value={values[f.key]}
            onChange={(e) => setValues({ ...values, [f.key]: e.currentTarget.value })}
            w={f.w}
          />
        ))}
        <Button type="submit" variant="default">
          {submit}
        </Button>
      </Group>
    </form>
  );
}

// filledIn is the fields of a filter form that are filled in, trimmed (a filter's where or
// query string); undefined when none is.
export function filledIn<K extends string>(fields: Record<K, string>): Partial<Record<K, string>> | undefined {
  const out: Partial<Record<K, string>> = {};
  for (const k in fields) if (fields[k].trim()) out[k] = fields[k].trim();
  return Object.keys(out).length ? out : undefined;
}

// One formatter for every time on screen: making one per call costs more than the
// rendering of a table row.
const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function formatTime(t: string | null | undefined): string {
  if (!t) return "—";
  return timeFormat.format(new Date(t));
}

// TableScroll lets a wide table scroll sideways on a narrow screen, from the keyboard too.
export function TableScroll({ label, children, ref }: { label: string; children: ReactNode; ref?: Ref<HTMLDivElement> }) {
  return (
    <div className="table-scroll" tabIndex={0} role="region" aria-label={label} ref={ref}>
      {children}
    </div>
  );
}

// useRowFocus keeps the keyboard's place in a table whose rows go away (deleted, opted
// back in): once the row of removed(key, action) is gone, the focus moves to the same
// action (the button with that data-action) of the row in its place, or of the one
// before when it was the last, else to the table (its TableScroll, given table as ref).
// Without it the focus would fall to the page with the row, and the next Tab start
// over from the top. keys are the rows' keys, in order.
export function useRowFocus(keys: readonly string[]) {
  const table = useRef<HTMLDivElement>(null);
  const [gone, setGone] = useState<{ key: string; index: number; action: string } | null>(null);
  useEffect(() => {
    if (!gone || keys.includes(gone.key)) return;
    setGone(null);
    const rows = table.current?.querySelectorAll("tbody tr") ?? [];
    const row = rows[Math.min(gone.index, rows.length - 1)];
    (row?.querySelector<HTMLElement>(`[data-action="${gone.action}"]`) ?? table.current)?.focus();
  }, [keys, gone]);
  return { table, removed: (key: string, action: string) => setGone({ key, index: keys.indexOf(key), action }) };
}

type Connection<T> = { edges?: readonly ({ node?: T | null } | null)[] | null } | null | undefined;

// nodesOf is the rows of a connection: the nodes of its edges.
export function nodesOf<T>(conn: Connection<T>): T[] {
  return conn?.edges?.flatMap((e) => (e?.node ? [e.node] : [])) ?? [];
}

// What the pagers read of a connection's pageInfo: CursorPager the way on (NextPage),
// PagePager the way back too (Pages).
graphql(`
  fragment NextPage on PageInfo {
    hasNextPage
    endCursor
  }
`);

graphql(`
  fragment Pages on PageInfo {
    ...NextPage
    hasPreviousPage
    startCursor
  }
`);

// StepButton is a pager's button. When it cannot step it says so (aria-disabled) and
// keeps the focus: a disabled button drops it to the page, as Next would on reaching
// the last page.
function StepButton({ off, onStep, children }: { off: boolean; onStep: () => void; children: ReactNode }) {
  return (
    <Button size="compact-sm" variant="default" data-disabled={off || undefined} aria-disabled={off || undefined} onClick={() => !off && onStep()}>
      {children}
    </Button>
  );
}

// CursorPager shows how many rows a connection has and steps through its pages; cursors
// holds the end cursors of the pages before the current one (the last is its "after").
export function CursorPager({
  cursors: [cursors, setCursors],
  conn,
  noun,
  back,
  on,
}: {
  cursors: [string[], (cursors: string[]) => void];
  conn: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor?: string | null } };
  noun: string;
  back: string;
  on: string;
}) {
  const end = conn.pageInfo.endCursor;
  return (
    <Group justify="space-between">
      <Text size="sm">
        {conn.totalCount.toLocaleString()} {noun}
      </Text>
      <Group gap="xs">
        <StepButton off={cursors.length === 0} onStep={() => setCursors(cursors.slice(0, -1))}>
          {back}
        </StepButton>
        <StepButton off={!conn.pageInfo.hasNextPage} onStep={() => end && setCursors([...cursors, end])}>
          {on}
        </StepButton>
      </Group>
    </Group>
  );
}

// Page is where a PagePager stands: page n, reached after or before a cursor, or the last
// page (last: true, whose number only the total tells).
export type Page = { n: number; after?: string; before?: string; last?: boolean };

// pageVariables are a connection's arguments for page, in pages of size rows.
export function pageVariables(page: Page, size: number): { first?: number; after?: string; last?: number; before?: string } {
  if (page.last) return { last: size };
  if (page.before) return { last: size, before: page.before };
  return { first: size, after: page.after };
}

// PagePager shows how many rows a connection has and which page of them is shown, and
// steps to the page before or after by their cursors; with ends, to the first and the
// last page too. testId names the total (with its count in data-count).
export function PagePager({
  page: [page, setPage],
  conn,
  size,
  noun,
  ends = false,
  testId,
  ...props
}: {
  page: [Page, (page: Page) => void];
  conn: { totalCount: number; pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor?: string | null; endCursor?: string | null } };
  size: number;
  noun: string;
  ends?: boolean;
  testId?: string;
} & GroupProps) {
  const { totalCount, pageInfo } = conn;
  const pages = Math.max(1, Math.ceil(totalCount / size));
  const n = page.last ? pages : page.n;
  return (
    <Group justify="space-between" {...props}>
      <Text size="sm" data-testid={testId} data-count={totalCount}>
        {totalCount.toLocaleString()} {noun} · page {n.toLocaleString()} of {pages.toLocaleString()}
      </Text>
      <Group gap="xs">
        {ends && (
          <StepButton off={page.n <= 1 && !page.last} onStep={() => setPage({ n: 1 })}>
            First
          </StepButton>
        )}
        <StepButton off={!pageInfo.hasPreviousPage} onStep={() => setPage({ n: Math.max(1, n - 1), before: pageInfo.startCursor ?? undefined })}>
          Previous
        </StepButton>
        <StepButton off={!pageInfo.hasNextPage || !!page.last} onStep={() => setPage({ n: n + 1, after: pageInfo.endCursor ?? undefined })}>
          Next
        </StepButton>
        {ends && (
          <StepButton off={!!page.last || !pageInfo.hasNextPage} onStep={() => setPage({ n: pages, last: true })}>
            Last
          </StepButton>
        )}
      </Group>
    </Group>
  );
}

// ErrorAlert shows an error when there is one: a message as it is, an API error in the
// user's words (errorText).
export function ErrorAlert({ error, ...props }: { error: unknown } & AlertProps) {
  if (!error) return null;
  return (
    <Alert color="red" role="alert" {...props}>
      {typeof error === "string" ? error : errorText(error)}
    </Alert>
  );
}
