// The dashboard: messages by status, sends over time (the service's history of the last
// hour, then samples taken while the page is open), and the mailings in progress with
// live progress bars.
import { useQuery } from "@apollo/client/react";
import { Group, Paper, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { useEffect, useMemo, useRef, useState } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { ErrorAlert, MailingProgress, StatusBadge } from "../components";
import { graphql } from "../gql";
import { linkProps } from "../router";
import { LiveStats } from "./Mailings";

const DashboardQuery = graphql(`
  query Dashboard {
    generalStatistics {
      mailings
      messages
      byStatus {
        status
        count
      }
      perMailing(limit: 20) {
        ...MailingCounts
      }
    }
  }
`);

// The service's sends of the last hour in 10 s buckets, from its own samples of the
// totals (docs/design.md, "Send history"): read once, the live samples follow it.
const SendHistoryQuery = graphql(`
  query SendHistory {
    sendHistory(minutes: 60) {
      since
      bucketSeconds
      buckets {
        at
        sent
        failed
      }
    }
  }
`);

const SAMPLE_MS = 2_000;
const SPAN_S = 3600; // the chart shows the last hour

type Series = { t: number[]; sent: number[]; failed: number[] };

export function Dashboard() {
  const { data, error } = useQuery(DashboardQuery, { pollInterval: SAMPLE_MS, fetchPolicy: "network-only" });
  const { data: historyData } = useQuery(SendHistoryQuery, { fetchPolicy: "network-only" });
  const [live, setLive] = useState<Series>({ t: [], sent: [], failed: [] });
  const last = useRef<{ sent: number; failed: number; at: number } | null>(null);
  const g = data?.generalStatistics;
  useEffect(() => {
    if (!g) return;
    const count = (s: string) => g.byStatus.find((c) => c.status === s)?.count ?? 0;
    const now = { sent: count("SENT"), failed: count("FAILED") + count("EXPIRED"), at: Date.now() / 1000 };
    const prev = last.current;
    last.current = now;
    if (!prev) return;
    const secs = Math.max(0.001, now.at - prev.at);
    setLive((s) => {
      const keep = s.t.findIndex((t) => t >= now.at - SPAN_S);
      const from = keep < 0 ? s.t.length : keep;
      return {
        t: [...s.t.slice(from), now.at],
        sent: [...s.sent.slice(from), Math.max(0, now.sent - prev.sent) / secs],
        failed: [...s.failed.slice(from), Math.max(0, now.failed - prev.failed) / secs],
      };
    });
  }, [g]);

  // The history's buckets as rates at their ends (a live sample is the rate over the
  // 2 s before it), then the live samples outside the history's span.
  const h = historyData?.sendHistory;
  const chart = useMemo(() => {
    const hist: Series = { t: [], sent: [], failed: [] };
    let sent = 0;
    const cutoff = (live.t[live.t.length - 1] ?? Date.now() / 1000) - SPAN_S;
    for (const b of h?.buckets ?? []) {
      if (Date.parse(b.at) / 1000 < cutoff) continue;
      hist.t.push(Date.parse(b.at) / 1000 + h!.bucketSeconds);
      hist.sent.push(b.sent / h!.bucketSeconds);
      hist.failed.push(b.failed / h!.bucketSeconds);
      sent += b.sent;
    }
    const first = hist.t[0] ?? Infinity;
    const lastT = hist.t[hist.t.length - 1] ?? -Infinity;
    const out: Series = { t: [], sent: [], failed: [] };
    const push = (s: Series, i: number) => {
      out.t.push(s.t[i]);
      out.sent.push(s.sent[i]);
      out.failed.push(s.failed[i]);
    };
    live.t.forEach((t, i) => t < first && push(live, i));
    hist.t.forEach((_, i) => push(hist, i));
    let liveAfter = 0;
    live.t.forEach((t, i) => {
      if (t > lastT) {
        push(live, i);
        liveAfter++;
      }
    });
    return { series: out, historyPoints: hist.t.length, historySent: sent, livePoints: liveAfter };
  }, [h, live]);
  const since = h?.since ? new Date(h.since) : null;

  const active = g?.perMailing.filter((m) => m.status === "RUNNING" || m.status === "PAUSED" || m.status === "SCHEDULED") ?? [];
  return (
    <Stack>
      <Title order={1} size="h2">
        Dashboard
      </Title>
      <ErrorAlert error={error} />
      {g && (
        <>
          <SimpleGrid cols={{ base: 2, sm: 4, lg: 8 }} data-testid="totals">
            <Total label="mailings" value={g.mailings} />
            <Total label="messages" value={g.messages} />
            {g.byStatus.map((c) => (
              <Total key={c.status} label={c.status.toLowerCase()} value={c.count} />
            ))}
          </SimpleGrid>
          <Paper withBorder p="md">
            <Title order={2} size="h4">
              Sends per second
            </Title>
            <Text size="sm" mb="xs" data-testid="sends-chart-caption">
              {since
                ? `The last hour in ${h!.bucketSeconds} s buckets, as the service has sampled it since ${since.toLocaleTimeString()} (it keeps no history from before it started), then every ${SAMPLE_MS / 1000} s while this page is open.`
                : `Every ${SAMPLE_MS / 1000} s while this page is open.`}
            </Text>
            <SendsChart
              series={chart.series}
              historyPoints={chart.historyPoints}
              historySent={chart.historySent}
              livePoints={chart.livePoints}
            />
          </Paper>
          <Paper withBorder p="md">
            <Title order={2} size="h4" mb="xs">
              Mailings in progress
            </Title>
            {active.length === 0 && <Text size="sm">None right now.</Text>}
            <Stack gap="sm" data-testid="running">
              {active.map((m) => (
                <div key={m.mailingID}>
                  <LiveStats id={m.mailingID} />
                  <Group gap="xs" mb={4}>
                    <a {...linkProps(`/ui/mailings/${m.mailingID}`)}>Mailing {m.mailingID}</a>
                    <StatusBadge status={m.status} />
                  </Group>
                  <MailingProgress total={m.total} byStatus={m.byStatus} label={`Progress of mailing ${m.mailingID}`} />
                </div>
              ))}
            </Stack>
          </Paper>
        </>
      )}
    </Stack>
  );
}

function Total({ label, value }: { label: string; value: number }) {
  return (
    <Paper withBorder p="sm" data-testid={`total-${label}`}>
      <Text size="sm">{label}</Text>
      <Text size="xl" fw={700}>
        {value.toLocaleString()}
      </Text>
    </Paper>
  );
}

function SendsChart({
  series,
  historyPoints,
  historySent,
  livePoints,
}: {
  series: Series;
  historyPoints: number;
  historySent: number;
  livePoints: number;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    const el = ref.current!;
    const width = () => Math.max(280, el.clientWidth);
    plot.current = new uPlot(
      {
        width: width(),
        height: 220,
        series: [
          {},
          { label: "sent/s", stroke: "#2b8a3e", width: 2 },
          { label: "failed or expired/s", stroke: "#c92a2a", width: 2 },
        ],
        axes: [{}, { label: "per second" }],
        scales: { x: { time: true } },
      },
      [[], [], []],
      el,
    );
    const ro = new ResizeObserver(() => plot.current?.setSize({ width: width(), height: 220 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);
  useEffect(() => {
    plot.current?.setData([series.t, series.sent, series.failed]);
  }, [series]);
  return (
    <div
      ref={ref}
      className="chart"
      role="img"
      aria-label={`Chart of messages sent and failed per second: ${historySent.toLocaleString()} sent in the service's history of the last hour`}
      data-testid="sends-chart"
      data-points={series.t.length}
      data-history-points={historyPoints}
      data-history-sent={historySent}
      data-live-points={livePoints}
    />
  );
}
